"""The sheet toolkit every writer uses: references, typed writes, row heights, page setup.

Each test writes a real workbook through ``Sheet`` and reads it back with openpyxl.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

from kim_excel.documents.xlsx.sheet import (
    FOOTER,
    Sheet,
    a1,
    cell_value,
    col_name,
    lines_needed,
    relative,
    setup_page,
    span,
)
from kim_excel.documents.xlsx.styles import ROW_HEIGHT, Styles, add_sheet, new_workbook

# ------------------------------------------------------------------ references


def test_absolute_and_relative_references():
    assert a1(11, 6) == "$G$12"
    assert relative(11, 6) == "G12"
    assert col_name(0) == "A" and col_name(25) == "Z" and col_name(26) == "AA"


def test_references_to_another_sheet_quote_names_that_need_it():
    assert a1(11, 6, "Berechnung") == "Berechnung!$G$12"
    assert a1(0, 0, "Übersicht 2024") == "'Übersicht 2024'!$A$1"


def test_a_span_is_a_column_range_optionally_on_another_sheet():
    assert span(4, 8, 4) == "$E$5:$E$9"
    assert span(4, 8, 4, "Berechnung") == "Berechnung!$E$5:$E$9"


def test_cell_values_are_floats_without_a_negative_zero():
    assert cell_value(Decimal("6875.00")) == 6875.0
    assert str(cell_value(Decimal("-0.00"))) == "0.0"
    assert cell_value(Fraction(5, 6)) == 5 / 6
    assert cell_value(3) == 3.0 and isinstance(cell_value(3), float)


# ------------------------------------------------------------------ row heights


def test_a_short_text_needs_one_line():
    assert lines_needed("Stadt Billerbeck", 40) == 1
    assert lines_needed("", 40) == 1


def test_each_paragraph_starts_a_new_line():
    assert lines_needed("Stadt Billerbeck\nMarkt 1\n48727 Billerbeck", 40) == 3


def test_a_long_text_wraps_by_the_column_width():
    """Width 40 holds 46 characters (1.15 a width unit): three words of 11 letters a line."""
    text = " ".join(["Eigenanteil"] * 30)
    assert lines_needed(text, 40) == 10
    assert lines_needed(text, 20) > 10 > lines_needed(text, 80) > 1


def test_bold_and_larger_text_needs_more_lines():
    text = " ".join(["Kostenerstattung"] * 12)
    assert lines_needed(text, 40, bold=True) >= lines_needed(text, 40)
    assert lines_needed(text, 40, size=12) > lines_needed(text, 40, size=9)


# ------------------------------------------------------------------ writing through Sheet


def written(tmp_path: Path, write, row_height: float = ROW_HEIGHT) -> Path:
    path = tmp_path / "blatt.xlsx"
    workbook = new_workbook(path, {})
    sheet = Sheet(add_sheet(workbook, "Blatt"), Styles(workbook), "Blatt", row_height)
    write(sheet)
    workbook.close()
    return path


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    path = written(tmp_path, lambda s: (s.text(0, 0, "=HYPERLINK(\"x\")"),
                                        s.merged(1, 0, 2, "=1+1", "bold")))
    ws = openpyxl.load_workbook(path)["Blatt"]
    assert ws["A1"].value == '=HYPERLINK("x")' and ws["A1"].data_type == "s"
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert "A2:C2" in [str(r) for r in ws.merged_cells.ranges]


def test_a_formula_is_written_with_its_value(tmp_path):
    """Viewers that never recalculate (Outlook preview) show the value written with it."""
    path = written(tmp_path, lambda s: s.formula(0, 0, "=ROUND(27500*0.25,2)",
                                                 Decimal("6875.00"), "eur"))
    assert openpyxl.load_workbook(path)["Blatt"]["A1"].value == "=ROUND(27500*0.25,2)"
    assert openpyxl.load_workbook(path, data_only=True)["Blatt"]["A1"].value == 6875


def test_numbers_and_dates_carry_their_formats(tmp_path):
    def write(s):
        s.number(0, 0, Decimal("1234.56"), "eur")
        s.date(1, 0, date(2025, 4, 1), "date")

    ws = openpyxl.load_workbook(written(tmp_path, write))["Blatt"]
    assert ws["A1"].value == 1234.56 and ws["A1"].number_format == '#,##0.00 "€"'
    assert ws["A2"].value == datetime(2025, 4, 1) and ws["A2"].number_format == "DD.MM.YYYY"


def test_a_row_grows_for_more_lines_and_never_shrinks(tmp_path):
    heights = {}

    def write(s):
        s.fit_row(0, 1)
        s.fit_row(1, 3)
        s.fit_row(1, 2)  # a shorter cell in the same row must not cut the taller one
        heights.update(s.heights)

    ws = openpyxl.load_workbook(written(tmp_path, write))["Blatt"]
    assert 0 not in heights  # one line: the default height
    assert heights[1] == ROW_HEIGHT * 3 + 2
    assert ws.row_dimensions[2].height == pytest.approx(ROW_HEIGHT * 3 + 2, abs=0.75)


def test_a_sheet_with_its_own_row_height_sets_it_as_default(tmp_path):
    path = written(tmp_path, lambda s: s.text(0, 0, "Brief"), row_height=13.5)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert 'defaultRowHeight="13.5"' in xml and 'customHeight="1"' in xml


# ------------------------------------------------------------------ page setup


def test_every_printed_sheet_is_a4_without_gridlines_with_footer_and_protection(tmp_path):
    path = written(tmp_path, lambda s: setup_page(s.ws, widths=(40, 16)))
    ws = openpyxl.load_workbook(path)["Blatt"]
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.page_setup.orientation == "portrait"
    assert ws.page_setup.fitToWidth in (None, 1)  # 1 page wide: Excel's default, omitted
    assert ws.page_setup.fitToHeight == 0  # as many pages tall as needed
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert not ws.print_options.gridLines and not ws.sheet_view.showGridLines
    assert ws.protection.sheet
    assert ws.column_dimensions["A"].width == pytest.approx(40, abs=1)
    assert ws.oddFooter.left.text == "&A" and ws.oddFooter.right.text == "Seite &P von &N"
    assert ".xlsx" not in FOOTER and "&F" not in FOOTER  # no file name on paper


def test_landscape_margins_and_a_header_when_asked(tmp_path):
    path = written(tmp_path, lambda s: setup_page(s.ws, landscape=True, fit=(1, 1),
                                                  margins=(0.5, 0.4, 0.6, 0.7),
                                                  header="&CÜbersicht", protect=False))
    ws = openpyxl.load_workbook(path)["Blatt"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToHeight in (None, 1)  # one page: Excel's default, omitted
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_margins.left, ws.page_margins.right, ws.page_margins.top,
            ws.page_margins.bottom) == (0.5, 0.4, 0.6, 0.7)
    assert ws.oddHeader.center.text == "Übersicht"
    assert not ws.protection.sheet
