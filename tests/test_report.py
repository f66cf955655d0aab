"""What the terminal shows: counted nouns and the closing line of an error list."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.cli.terminal import problem_lines
from kim_excel.core.german import count
from kim_excel.core.model import CellRef, Problem
from tests.builders import D, council_paper_form, example_2024, write


def test_a_count_takes_singular_or_plural_never_brackets():
    assert count(1, "Entwurf", "Entwürfe") == "1 Entwurf"
    assert count(0, "Entwurf", "Entwürfe") == "0 Entwürfe"
    assert count(8, "Entwurf", "Entwürfe") == "8 Entwürfe"
    assert count(10_000, "Datei", "Dateien") == "10.000 Dateien"


def test_pruefen_says_one_region_in_the_singular(tmp_path):
    write(council_paper_form(), tmp_path / "in" / "a.xlsx")
    result = CliRunner().invoke(main, ["pruefen", "--eingang", str(tmp_path / "in")])
    assert result.exit_code == 0, result.output
    assert "Abrechnungsjahr 2023, 1 Region, 3 Partnerkommunen." in result.output
    assert "(" not in result.output.splitlines()[-1]


def test_no_bracketed_plural_is_left_in_any_text():
    """„Region(en)“, „Entwürfe(e)“, „Hinweis(e)“ …: every string literal of kim_excel (but
    docstrings, which are English for developers) says singular or plural."""
    pattern = re.compile(r"[a-zäöü]\((?:e|n|en|s|er)\)(?!\w)")
    hits = []
    for path in sorted((Path(__file__).parents[1] / "kim_excel").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        hits += [f"{path.name}:{node.lineno}: {node.value}" for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 and id(node) not in docstrings and pattern.search(node.value)]
    assert not hits, "\n".join(hits)
    assert pattern.search("3 Region(en), 1 Hinweis(e).")


def test_a_file_that_is_no_workbook_is_not_asked_for_cells(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "Abrechnung.xlsx").write_text("kein Zip", encoding="utf-8")
    result = CliRunner().invoke(main, ["abrechnen", "--eingang", str(tmp_path / "in"),
                                       "--ausgabe", str(tmp_path / "out")])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last == ("Es wurde nichts geschrieben. Bitte die genannte Datei korrigieren und "
                    "erneut starten."), result.output


def test_cell_problems_ask_for_the_cells_and_mixed_ones_for_both():
    cell = Problem("„abc“ ist kein Betrag", CellRef("a.xlsx", "Personalkosten", "E2"))
    whole = Problem("Die Datei ist beschädigt", CellRef("b.xlsx", "Datei"))
    assert problem_lines([cell])[-1] == ("Es wurde nichts geschrieben. Bitte die genannten "
                                         "Zellen korrigieren und erneut starten.")
    assert problem_lines([cell, whole])[-1].endswith("Bitte die genannten Zellen und Dateien "
                                                     "korrigieren und erneut starten.")
    assert problem_lines([whole, whole])[-1].endswith("die genannten Dateien korrigieren und "
                                                      "erneut starten.")


def test_after_a_fehlerbericht_the_message_does_not_claim_nothing_was_written(tmp_path):
    form = example_2024()
    form.positions[0]["Monate"] = D(13)
    write(form, tmp_path / "in" / "a.xlsx")
    result = CliRunner().invoke(main, ["pruefen", "--fehlerbericht", "--eingang",
                                       str(tmp_path / "in"), "--ausgabe", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Es wurde nichts geschrieben" not in result.output
    assert ("Außer dem Fehlerbericht wurde nichts geschrieben. Bitte die genannten Zellen "
            "korrigieren und erneut starten.") in result.output
    assert "Fehlerbericht mit rot markierten Zellen: " in result.output
    assert (tmp_path / "out" / "Fehlerberichte" / "Fehler_a.xlsx").is_file()
