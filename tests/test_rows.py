"""Row heights: wrapped text gets the lines it needs, in the form and in the error report."""

from __future__ import annotations

import math

import openpyxl
from click.testing import CliRunner

from kim_excel.cli.main import main
from kim_excel.documents.rows import row_height, wrapped_lines
from tests.builders import example_2024, write


def test_lines_grow_with_the_text_and_shrink_with_the_width():
    assert wrapped_lines("", 10) == 1
    assert wrapped_lines("x" * 90, 100) == 1
    assert wrapped_lines("x" * 91, 100) == 2
    assert wrapped_lines("x" * 200, 50) == 5
    assert wrapped_lines("eins\nzwei\n" + "x" * 100, 100) == 4
    assert row_height(("x" * 200, 50), ("kurz", 10)) == 75


def at_least_one_line_per_width(ws, column: str, first_row: int = 1) -> list[str]:
    """Rows whose height is below one 15-pt line per column width of text (a lower bound
    any reader needs; a row without a height is drawn one line high)."""
    width = ws.column_dimensions[column].width
    short = []
    for row in range(first_row, ws.max_row + 1):
        value = ws[f"{column}{row}"].value
        if not isinstance(value, str) or not value:
            continue
        needed = 15 * sum(math.ceil(len(p) / width) or 1 for p in value.split("\n"))
        height = ws.row_dimensions[row].height or 15
        if height < needed:
            short.append(f"{column}{row}: {height} < {needed}")
    return short


def test_the_anleitung_and_the_settings_have_room_for_their_wrapped_lines(tmp_path):
    path = tmp_path / "v.xlsx"
    assert CliRunner().invoke(main, ["vorlage", str(path)]).exit_code == 0
    book = openpyxl.load_workbook(path)
    assert at_least_one_line_per_width(book["Anleitung"], "A", 2) == []
    assert at_least_one_line_per_width(book["Einstellungen"], "C", 2) == []
    assert at_least_one_line_per_width(book["Einstellungen"], "B", 2) == []


def test_the_error_sheet_has_room_for_long_messages(tmp_path):
    form = example_2024()
    form.positions[0]["Anstellungskörperschaft"] = "Duelmen"  # a long message
    write(form, tmp_path / "input" / "Abrechnung.xlsx")
    result = CliRunner().invoke(main, ["pruefen", "--eingang", str(tmp_path / "input"),
                                       "--ausgabe", str(tmp_path / "output"), "--fehlerbericht"])
    assert result.exit_code == 1
    report = openpyxl.load_workbook(tmp_path / "output" / "Fehlerberichte" /
                                    "Fehler_Abrechnung.xlsx")
    sheet = report["Fehler"]
    assert len(sheet["D7"].value) > 100
    assert at_least_one_line_per_width(sheet, "D", 7) == []
