"""The error report: the clerk's own workbook with the problem cells in red, and ``Fehler``."""

from __future__ import annotations

import hashlib
import os
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.commands.settle import load_settlement
from kim_excel.core.errors import InputError
from kim_excel.core.model import CellRef, Problem
from kim_excel.documents.error_report import (
    ERROR_RED,
    SHEET,
    report_path,
    write_error_report,
    write_error_reports,
)
from tests.builders import D, example_2024, write

CHECKED = datetime(2025, 3, 2, 14, 5)


def problems_of(path: Path) -> tuple[Problem, ...]:
    with pytest.raises(InputError) as caught:
        load_settlement(path, today=date(2025, 3, 2))
    return caught.value.problems


def months_13_without_year(path: Path) -> Path:
    """The shipped example with two mistakes: 13 months for the first position (its
    ``Monate`` cell is Personalkosten!D2) and no Abrechnungsjahr (Einstellungen!B2)."""
    form = example_2024()
    form.positions[0]["Monate"] = D(13)
    form.settings["Abrechnungsjahr"] = ""
    return write(form, path)


def is_red(cell) -> bool:
    return cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == ERROR_RED


def red_cells(book) -> set[str]:
    return {f"{ws.title}!{cell.coordinate}"
            for ws in book.worksheets if ws.title != SHEET
            for row in ws.iter_rows() for cell in row if is_red(cell)}


def error_rows(book) -> list[tuple]:
    ws = book[SHEET]
    rows = list(ws.iter_rows(min_row=7, max_col=4))
    return [tuple(c.value for c in row) for row in rows if row[0].value is not None
            or row[3].value is not None]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_problem_cells_are_red_and_carry_the_message_exactly_where_the_problems_are(tmp_path):
    source = months_13_without_year(tmp_path / "Abrechnung 2024.xlsx")
    problems = problems_of(source)
    target = write_error_report(source, list(problems), tmp_path / "bericht.xlsx", CHECKED)

    book = openpyxl.load_workbook(target)
    assert red_cells(book) == {"Personalkosten!D2", "Einstellungen!B2"}
    months = book["Personalkosten"]["D2"]
    assert months.value == 13  # the clerk's value is still there
    assert "13" in months.comment.text and "0 bis 12 Monate" in months.comment.text
    year = book["Einstellungen"]["B2"]
    assert "„Abrechnungsjahr“ fehlt" in year.comment.text
    assert months.comment.author == "kim-excel"


def test_the_error_sheet_comes_first_and_links_jump_to_each_cell(tmp_path):
    source = months_13_without_year(tmp_path / "Abrechnung 2024.xlsx")
    target = write_error_report(source, list(problems_of(source)), tmp_path / "b.xlsx", CHECKED)

    book = openpyxl.load_workbook(target)
    assert book.sheetnames[0] == SHEET and book.active.title == SHEET
    assert [ws.sheet_view.tabSelected for ws in book.worksheets].count(True) == 1
    ws = book[SHEET]
    assert [c.value for c in ws[6][:4]] == ["Datei", "Blatt", "Zelle", "Meldung"]
    rows = error_rows(book)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("Abrechnung 2024.xlsx", "Einstellungen", "B2"),
        ("Abrechnung 2024.xlsx", "Personalkosten", "D2"),
    ]
    assert ws["C7"].hyperlink.location == "'Einstellungen'!B2"
    assert ws["C8"].hyperlink.location == "'Personalkosten'!D2"
    assert "2 Fehler" in ws["A2"].value and "02.03.2025 um 14:05" in ws["A2"].value
    # every other sheet of the clerk's workbook is still there, in its order
    assert book.sheetnames[1:] == openpyxl.load_workbook(source).sheetnames


def test_the_original_workbook_is_never_modified(tmp_path):
    source = months_13_without_year(tmp_path / "Abrechnung.xlsx")
    before, mtime = sha256(source), source.stat().st_mtime_ns
    write_error_report(source, list(problems_of(source)), tmp_path / "b.xlsx", CHECKED)
    assert sha256(source) == before and source.stat().st_mtime_ns == mtime


def test_ranges_rows_texts_and_missing_sheets_are_each_marked_sensibly(tmp_path):
    """B2:C3 fills four cells, comment on B2; row 1 marks A1; a text place and a missing
    sheet are listed only; two problems on one cell share one comment."""
    source = write(example_2024(), tmp_path / "a.xlsx")
    problems = [
        Problem("Bereich falsch", CellRef("a.xlsx", "Sachkosten", "B2:C3")),
        Problem("Spalte fehlt", CellRef("a.xlsx", "Vertragsparteien", "1")),
        Problem("„Abrechnungsjahr“ fehlt", CellRef("a.xlsx", "Einstellungen",
                                                 "Zeile „Abrechnungsjahr“")),
        Problem("Das Blatt „Gibtsnicht“ fehlt.", CellRef("a.xlsx", "Gibtsnicht")),
        Problem("erster Fehler", CellRef("a.xlsx", "Abschläge", "C2")),
        Problem("zweiter Fehler", CellRef("a.xlsx", "Abschläge", "C2")),
    ]
    book = openpyxl.load_workbook(write_error_report(source, problems, tmp_path / "b.xlsx"))

    assert red_cells(book) == {"Sachkosten!B2", "Sachkosten!C2", "Sachkosten!B3",
                               "Sachkosten!C3", "Vertragsparteien!A1", "Abschläge!C2"}
    assert book["Sachkosten"]["B2"].comment.text == "Fehler: Bereich falsch"
    assert book["Sachkosten"]["C3"].comment is None
    assert "Spalte fehlt" in book["Vertragsparteien"]["A1"].comment.text
    assert book["Abschläge"]["C2"].comment.text == "Fehler: erster Fehler\n\nFehler: zweiter Fehler"
    ws = book[SHEET]
    links = [ws.cell(row, 3).hyperlink for row in range(7, 13)]
    assert [link.location if link else None for link in links] == [
        "'Sachkosten'!B2:C3", "'Vertragsparteien'!A1", "'Einstellungen'!A1", None,
        "'Abschläge'!C2", "'Abschläge'!C2"]
    assert [ws.cell(row, 3).value for row in range(7, 9)] == ["B2:C3", "Zeile 1"]


def test_merged_cells_in_a_data_area_are_marked_as_a_whole(tmp_path):
    source = write(example_2024(), tmp_path / "verbunden.xlsx")
    book = openpyxl.load_workbook(source)
    book["Sachkosten"].merge_cells("C2:D2")
    book.save(source)
    problems = [p for p in problems_of(source) if "verbundene Zellen" in p.message]
    assert [p.where.cell for p in problems] == ["C2:D2"]

    report = openpyxl.load_workbook(write_error_report(source, problems, tmp_path / "b.xlsx"))
    # a merged area shows its first cell's fill (openpyxl reads the others back unstyled)
    assert red_cells(report) == {"Sachkosten!C2"}
    assert [r.coord for r in report["Sachkosten"].merged_cells.ranges] == ["C2:D2"]
    assert "verbundene Zellen" in report["Sachkosten"]["C2"].comment.text


def test_a_file_that_is_not_a_workbook_gets_a_report_with_only_the_error_sheet(tmp_path):
    source = tmp_path / "kaputt.xlsx"
    source.write_bytes(os.urandom(2000))
    problems = problems_of(source)
    book = openpyxl.load_workbook(write_error_report(source, list(problems), tmp_path / "b.xlsx"))
    assert book.sheetnames == [SHEET]
    assert error_rows(book) == [("kaputt.xlsx", "(ganze Datei)", None, problems[0].message)]
    assert "keine Excel-Arbeitsmappe" in problems[0].message
    assert "nur die Fehlerliste" in book[SHEET]["A3"].value


def test_each_workbook_of_a_run_gets_the_problems_that_name_it(tmp_path):
    """Problems naming another file go into that file's report; those naming no file (the
    run as a whole) into every report; a workbook without problems gets none."""
    a = write(example_2024(), tmp_path / "in" / "Coesfeld.xlsx")
    b = write(example_2024(), tmp_path / "in" / "Dülmen.xlsx")
    c = write(example_2024(), tmp_path / "in" / "Ascheberg.xlsx")
    problems = [Problem("nur A", CellRef("Coesfeld.xlsx", "Sachkosten", "D2")),
                Problem("nur B", CellRef("Dülmen.xlsx", "Personalkosten", "E3")),
                Problem("für alle", CellRef("", "Vertragsparteien"))]
    reports = write_error_reports([a, b], problems, tmp_path / "Fehlerberichte")
    assert reports == [tmp_path / "Fehlerberichte" / "Fehler_Coesfeld.xlsx",
                       tmp_path / "Fehlerberichte" / "Fehler_Duelmen.xlsx"]
    book_a, book_b = (openpyxl.load_workbook(r) for r in reports)
    assert [r[3] for r in error_rows(book_a)] == ["nur A", "für alle"]
    assert [r[3] for r in error_rows(book_b)] == ["nur B", "für alle"]
    assert red_cells(book_a) == {"Sachkosten!D2"}
    assert red_cells(book_b) == {"Personalkosten!E3"}
    assert write_error_reports([a, b, c], problems[:2], tmp_path / "x") == [
        tmp_path / "x" / "Fehler_Coesfeld.xlsx", tmp_path / "x" / "Fehler_Duelmen.xlsx"]


def test_a_corrected_report_dropped_in_again_gets_a_fresh_error_sheet(tmp_path):
    """Clerks may fix the report itself and drop it in: the old list and comments go."""
    source = months_13_without_year(tmp_path / "a.xlsx")
    first = write_error_report(source, list(problems_of(source)), tmp_path / "Fehler_a.xlsx")
    problems = [Problem("neu", CellRef(first.name, "Sachkosten", "D3"))]
    second = write_error_report(first, problems, tmp_path / "Fehler_Fehler_a.xlsx")
    book = openpyxl.load_workbook(second)
    assert book.sheetnames.count(SHEET) == 1 and not any("(" in s for s in book.sheetnames)
    assert [r[3] for r in error_rows(book)] == ["neu"]
    assert book["Personalkosten"]["D2"].comment is None  # the stale comment is gone


def test_messages_that_look_like_formulas_stay_text(tmp_path):
    source = write(example_2024(), tmp_path / "a.xlsx")
    problems = [Problem("=HYPERLINK(\"http://x\")", CellRef("a.xlsx", "Sachkosten", "D2"))]
    book = openpyxl.load_workbook(write_error_report(source, problems, tmp_path / "b.xlsx"))
    cell = book[SHEET]["D7"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"http://x\")"


def test_report_names_are_ascii():
    assert report_path(Path("out"), Path("in/Abrechnung Dülmen 2024.xlsx")) == \
        Path("out/Fehler_Abrechnung_Duelmen_2024.xlsx")


def test_pruefen_fehlerbericht_writes_the_report_and_says_where(tmp_path):
    months_13_without_year(tmp_path / "input" / "Abrechnung.xlsx")
    runner = CliRunner()
    result = runner.invoke(main, ["pruefen", "--eingang", str(tmp_path / "input"),
                                  "--ausgabe", str(tmp_path / "output"), "--fehlerbericht"])
    report = tmp_path / "output" / "Fehlerberichte" / "Fehler_Abrechnung.xlsx"
    assert result.exit_code == 1
    assert f"Fehlerbericht mit rot markierten Zellen: {report}" in result.output
    assert "Personalkosten!D2" in result.output
    assert red_cells(openpyxl.load_workbook(report)) == {"Personalkosten!D2",
                                                         "Einstellungen!B2"}
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == ["Fehlerberichte"]


def test_pruefen_without_the_flag_writes_nothing(tmp_path):
    months_13_without_year(tmp_path / "input" / "Abrechnung.xlsx")
    result = CliRunner().invoke(main, ["pruefen", "--eingang", str(tmp_path / "input"),
                                       "--ausgabe", str(tmp_path / "output")])
    assert result.exit_code == 1 and "Fehlerbericht" not in result.output
    assert not (tmp_path / "output").exists()


def test_pruefen_fehlerbericht_on_corrected_input_removes_the_old_report(tmp_path):
    source = months_13_without_year(tmp_path / "input" / "Abrechnung.xlsx")
    args = ["pruefen", "--eingang", str(tmp_path / "input"), "--ausgabe",
            str(tmp_path / "output"), "--fehlerbericht"]
    assert CliRunner().invoke(main, args).exit_code == 1
    write(example_2024(), source)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Alter Fehlerbericht entfernt" in result.output
    assert list((tmp_path / "output" / "Fehlerberichte").iterdir()) == []
