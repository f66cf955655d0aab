"""Golden content snapshots: a letter, the overview and the plan of the shipped example.

The real commands (``kim-excel abrechnen``, ``kim-excel planen``) run on
``input/Beispiel_Abrechnung_2024.xlsx``; each workbook is reduced to its key cells (value,
formula, number format; the letter's texts too) and print setup, and compared by meaning
with ``tests/golden/*.json``. A deliberate change of the output is recorded with
``pytest tests/test_golden.py --update-golden`` and reviewed in the diff (tests/golden/README.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kim_excel.cli.main import main
from tests.libreoffice import tamper_cached_value
from tests.xlsx_content import dump_snapshot, key_cells, snapshot_differences

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLE = ROOT / "input" / "Beispiel_Abrechnung_2024.xlsx"
LETTER = "Abrechnung_2024_Billerbeck.xlsx"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    """Run both commands once; golden name → the workbook they wrote."""
    work = tmp_path_factory.mktemp("golden")
    shutil.copy(EXAMPLE, work / EXAMPLE.name)
    runner = CliRunner()
    for command, out in (("abrechnen", "ausgabe"), ("planen", "plan")):
        result = runner.invoke(main, [command, "--eingang", str(work / EXAMPLE.name),
                                      "--ausgabe", str(work / out)])
        assert result.exit_code == 0, result.output
    return {LETTER: work / "ausgabe" / "2024" / LETTER,
            "Uebersicht_2024.xlsx": work / "ausgabe" / "2024" / "Uebersicht_2024.xlsx",
            "Planung_2024.xlsx": work / "plan" / "2024" / "Planung_2024.xlsx"}


def snapshot_of(name: str, path: Path) -> dict:
    letter_sheets = ("Abrechnung",) if name == LETTER else ()
    return json.loads(dump_snapshot(key_cells(path, all_cells=letter_sheets)))


@pytest.mark.parametrize("name", [LETTER, "Uebersicht_2024.xlsx", "Planung_2024.xlsx"])
def test_workbook_matches_its_golden_snapshot(name, written, request):
    golden = GOLDEN / f"{Path(name).stem}.json"
    actual = snapshot_of(name, written[name])
    if request.config.getoption("--update-golden"):
        golden.write_text(dump_snapshot(actual), encoding="utf-8")
    assert golden.is_file(), f"no snapshot yet: pytest {__file__} --update-golden"
    expected = json.loads(golden.read_text("utf-8"))
    differences = snapshot_differences(expected, actual)
    assert not differences, (f"{name} differs from {golden.name} (if intended: "
                             f"--update-golden and review the diff):\n"
                             + "\n".join(differences[:40]))


def test_the_snapshots_hold_the_key_cells():
    """The letter keeps its texts and its share; the plan and overview their formulas."""
    letter = json.loads((GOLDEN / "Abrechnung_2024_Billerbeck.json").read_text("utf-8"))
    texts = [c["value"] for c in letter["Abrechnung"]["cells"].values()]
    assert "Mit freundlichen Grüßen" in texts
    assert any(c.get("formula") and c["value"] == 6875 for c in letter["Abrechnung"][
        "cells"].values())
    assert letter["Abrechnung"]["print"]["footer_right"] == "Seite &P von &N"  # of the PDF
    assert letter["Berechnung"]["print"]["footer_right"] == "Seite &P von &N"
    for name in ("Uebersicht_2024.json", "Planung_2024.json"):
        sheets = json.loads((GOLDEN / name).read_text("utf-8"))
        assert sum("formula" in c for s in sheets.values() for c in s["cells"].values()) > 50


def test_a_changed_cached_value_is_reported_by_its_cell(written, tmp_path):
    """The comparison can fail: one cached amount of the letter changed on purpose."""
    expected = snapshot_of(LETTER, written[LETTER])
    cell = next(coordinate for coordinate, c in expected["Abrechnung"]["cells"].items()
                if c.get("formula") and c["value"] == 6875)
    wrong = tmp_path / LETTER
    tamper_cached_value(written[LETTER], wrong, "xl/worksheets/sheet1.xml", cell, "6876")
    differences = snapshot_differences(expected, snapshot_of(LETTER, wrong))
    assert len(differences) == 1 and differences[0].startswith(f"Abrechnung!{cell}: ")
