"""The one registry of cell formats (STYLE.md § 7): every style a writer names exists, money
is a number with a Euro format, and a workbook holds only the formats it uses."""

from __future__ import annotations

import ast
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from kim_excel.documents.workbooks import write_partner_workbook
from kim_excel.documents.xlsx import styles as registry
from kim_excel.documents.xlsx.styles import EUR, SIGNED_EUR, Styles, add_sheet, new_workbook
from tests.builders import example_2024, settled

PACKAGE = Path(registry.__file__).parents[2]  # kim_excel/
WRITERS = [*sorted((PACKAGE / "documents").rglob("*.py")), PACKAGE / "commands" / "planning.py"]
# Where a Sheet method takes its style: sheet.text(row, col, value, style), ...
STYLE_ARGUMENT = {"text": 3, "blank": 2, "number": 3, "formula": 4, "date": 3, "merged": 4,
                  "line": 3}


def style_names_in(path: Path) -> set[tuple[str, int]]:
    """Every style name a writer passes literally: ``styles["eur"]``, ``sheet.text(…, "th")``,
    ``style="eur"``, and the names in tables of styles such as ``("bold_wrap", …, "eur")``."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        candidates: list[ast.AST] = []
        if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
            name = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            if name in ("styles", "_made"):
                candidates.append(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            at = STYLE_ARGUMENT.get(node.func.attr)
            if at is not None and len(node.args) > at:
                candidates.append(node.args[at])
                if isinstance(node.args[at], ast.IfExp):
                    candidates += [node.args[at].body, node.args[at].orelse]
            candidates += [k.value for k in node.keywords if k.arg == "style"]
        elif isinstance(node, ast.Tuple) and len(node.elts) == 3 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts) \
                and any(e.value in registry._STYLES for e in node.elts):
            candidates += node.elts  # a row of a style table: (label, text, amount) styles
        found |= {(c.value, c.lineno) for c in candidates
                  if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def test_every_style_a_writer_names_is_in_the_registry():
    named = {(path.name, name, line) for path in WRITERS for name, line in style_names_in(path)}
    unknown = sorted(entry for entry in named if entry[1] not in registry._STYLES)
    assert not unknown, f"styles missing from styles.py: {unknown}"
    assert len({name for _, name, _ in named}) > 40  # the scan does find the writers' styles


def test_every_money_style_shows_euros_with_two_decimals():
    assert EUR == '#,##0.00 "€"'
    assert SIGNED_EUR.split(";")[0] == '+#,##0.00 "€"'
    money = {name: style for name, style in registry._STYLES.items()
             if "eur" in name or "signed" in name}
    assert len(money) >= 9
    for name, style in money.items():
        assert style["num_format"] in (EUR, SIGNED_EUR), name


def test_every_date_style_shows_a_german_date():
    for name, style in registry._STYLES.items():
        if "date" in name and "num_format" in style:
            assert style["num_format"] == "DD.MM.YYYY", name


def test_vat_rates_show_whole_percents_without_decimals():
    workbook = new_workbook(io.BytesIO(), {})
    styles = Styles(workbook)
    assert styles.vat_rate(Decimal("0.19")) is styles["vat_rate"]
    assert styles.vat_rate(Decimal("0.075")) is styles["vat_rate_fraction"]
    assert styles["vat_rate"].num_format == "0 %"


def test_a_style_is_made_once_and_only_when_asked_for():
    workbook = new_workbook(io.BytesIO(), {})
    styles = Styles(workbook)
    before = len(workbook.formats)
    assert styles["eur"] is styles["eur"]
    assert len(workbook.formats) == before + 1
    with pytest.raises(KeyError):
        styles["euro"]


@pytest.fixture(scope="module")
def billerbeck(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("styles")
    settlement = settled(example_2024(), folder)
    region, share = settlement.share_of("Billerbeck")
    path = folder / "Abrechnung_2024_Billerbeck.xlsx"
    write_partner_workbook(path, settlement, region, share)
    return path


def test_amounts_in_a_letter_are_numbers_in_the_euro_format(billerbeck):
    """Numbers written as numbers, never as pre-formatted text (STYLE.md § 7)."""
    book = openpyxl.load_workbook(billerbeck)
    amounts = [cell for ws in book for row in ws.iter_rows() for cell in row
               if cell.number_format == EUR]
    assert len(amounts) > 20
    assert all(cell.data_type in ("n", "f") for cell in amounts)
    letter = book["Abrechnung"]
    share = next(row for row in letter.iter_rows() if row[0].value == "Anteil der Stadt Billerbeck")
    assert share[3].number_format == EUR


def test_the_workbook_uses_arial_10_and_fixed_properties(billerbeck):
    with zipfile.ZipFile(billerbeck) as archive:
        xml = archive.read("xl/styles.xml").decode()
        core = archive.read("docProps/core.xml").decode()
    assert '<sz val="10"/>' in xml and '<name val="Arial"/>' in xml
    assert "2025-03-02T00:00:00Z" in core  # created = the settlement date, not the clock


def test_classic_formulas_go_into_the_file_as_written(tmp_path):
    path = tmp_path / "f.xlsx"
    workbook = new_workbook(path, {})
    ws = add_sheet(workbook, "Blatt")
    ws.write_formula(0, 0, "=ROUND(SUM(B1:B2)*0.19,2)", None, 1)
    workbook.close()
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>ROUND(SUM(B1:B2)*0.19,2)</f>" in sheet
