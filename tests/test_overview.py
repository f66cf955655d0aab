"""The overview ``Uebersicht_<J>.xlsx``: one row per active party, a sum row per region with a
check that must show 0,00 €, the references a booker needs, a chart of the split, and (written
from the year folder's ledger) the sheet ``Rechnungen``: every bill and correction with its
number, amount, due date and state.

Figures are those of the shipped example (see the docstring of test_workbooks.py).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from kim_excel.commands.issue import issue_folder
from kim_excel.commands.settle import run_settlement
from kim_excel.documents.overview import write_overview
from tests.builders import example_2024, settled, write
from tests.runner import run_kim
from tests.test_workbooks import run

CHECK = "Prüfung (muss 0,00 € sein)"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """The example settled once: ``{"beispiel": output/2024}``."""
    base = tmp_path_factory.mktemp("uebersicht")
    return {"beispiel": run(example_2024(), base / "beispiel").folder}


def overview_of(form, folder: Path) -> tuple[Path, dict[str, int], list[tuple]]:
    """Write the overview of ``form``; (path, header → column, the table's rows as values)."""
    path = folder / "Uebersicht_2024.xlsx"
    write_overview(path, settled(form, folder))
    ws = openpyxl.load_workbook(path, data_only=True)["Übersicht"]
    header = [c.value for c in ws[4]]
    rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=5)]
    return path, {title: i for i, title in enumerate(header) if title}, rows


def party_rows(col: dict[str, int], rows: list[tuple]) -> list[tuple]:
    return [r for r in rows if r[col["Rolle"]] in ("Anstellungskörperschaft", "Partnerkommune")]


def test_overview_has_all_parties_region_totals_a_check_and_a_chart(outputs):
    """Totals per region are formulas; the check Σ shares − Eigenanteil is 0,00 € for each
    region and for all (27,500.00 + 12,330.00 + 22,914.26 = 62,744.26)."""
    path = outputs["beispiel"] / "Uebersicht_2024.xlsx"
    values = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path)
    assert values.sheetnames == ["Übersicht", "Rechnungen", "Diagramm", "Berechnung"]
    table = values["Übersicht"]
    header = [c.value for c in table[4]]
    col = {title: i + 1 for i, title in enumerate(header)}
    assert "Umsatzsteuer" not in col  # 0 %: no VAT column at all
    rows = {(table.cell(r, 1).value, table.cell(r, 2).value): r
            for r in range(5, table.max_row + 1)}
    assert len([k for k in rows if k[1] and not str(k[1]).startswith(("Summe", "Alle"))]) == 11
    check = col["Prüfung (muss 0,00 € sein)"]
    for region, eigenanteil in (("Nord", 27500.0), ("Mitte", 12330.0), ("Süd", 22914.26)):
        r = rows[(region, f"Summe Region {region}")]
        assert table.cell(r, col["Eigenanteil der Region"]).value == eigenanteil
        assert table.cell(r, col["Anteil am Eigenanteil"]).value == eigenanteil
        assert table.cell(r, check).value == 0
        assert formulas["Übersicht"].cell(r, check).value.startswith("=ROUND(")
        assert formulas["Übersicht"].cell(r, col["Anteil am Eigenanteil"]).value.startswith(
            "=SUM(")
    total = rows[(None, "Alle Regionen")]
    assert table.cell(total, col["Eigenanteil der Region"]).value == pytest.approx(62744.26)
    assert table.cell(total, col["Abschläge"]).value == 7500.0
    nordkirchen = rows[("Süd", "Gemeinde Nordkirchen")]
    assert table.cell(nordkirchen, col["Saldo (+ zahlt, − erhält)"]).value == -417.15
    assert table.cell(nordkirchen, col["Fällig am"]).value == datetime(2025, 4, 1)
    with zipfile.ZipFile(path) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert '<c:grouping val="stacked"/>' in chart
    assert chart.count("<c:ser>") == 1 + 11  # the subsidy, and each party's part
    assert "<c:multiLvlStrRef>" in chart  # regions, each with Förderung and Eigenanteil


@pytest.mark.slow
def test_overview_chart_of_a_large_run_stays_within_excels_series_limit(tmp_path):
    """50 parties in one region: more than a legend can name, so the chart shows the
    region's Eigenanteil as one series (Excel allows 255); 11 parties stack by party."""
    import warnings
    import zipfile

    from tests.builders import coesfeld_form, position

    form = coesfeld_form(2024)
    template = next(p for p in form.parties if p["Kommune"] == "Billerbeck")
    form.parties += [dict(template, Kommune=f"Ort {i:02d}", Region="Nord") for i in range(39)]
    form.positions = [position("Coesfeld", "CM", 1, 12, "70000.00")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # xlsxwriter warns when it drops series
        big = run(form, tmp_path / "gross").folder
    small = run(example_2024(), tmp_path / "klein").folder

    def series(folder: Path) -> int:
        with zipfile.ZipFile(folder / "Uebersicht_2024.xlsx") as archive:
            return archive.read("xl/charts/chart1.xml").count(b"<c:ser>")

    assert series(big) == 2  # Landesförderung and Eigenanteil
    assert series(small) == 1 + 11


def one_region() -> object:
    """Only Region Nord: its parties, positions and Sachkosten."""
    form = example_2024()
    form.parties = [p for p in form.parties if p["Region"] == "Nord"]
    form.positions = [p for p in form.positions if p["Anstellungskörperschaft"] == "Coesfeld"]
    form.material = [m for m in form.material if m["Anstellungskörperschaft"] == "Coesfeld"]
    form.advances = []
    return form


def chart_anchor(path: Path) -> tuple[int, int]:
    """(last column, last row), 0-based, the chart of ``Diagramm`` reaches into."""
    import re

    with zipfile.ZipFile(path) as z:
        drawing = z.read("xl/drawings/drawing1.xml").decode()
    to = re.search(r"<xdr:to><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", drawing)
    return int(to.group(1)), int(to.group(2))


@pytest.mark.parametrize("build", [one_region, example_2024])
def test_overview_chart_lies_inside_its_print_area(tmp_path, build):
    """With one region the chart sheet has few data columns; its print area still covers
    the whole chart (title and legend), so the overview prints completely."""
    from openpyxl.utils import range_boundaries

    write(build(), tmp_path / "input" / "Abrechnung.xlsx")
    assert run_kim("abrechnen", cwd=tmp_path).returncode == 0
    path = tmp_path / "output" / "2024" / "Uebersicht_2024.xlsx"
    area = openpyxl.load_workbook(path)["Diagramm"].print_area
    _, _, max_col, max_row = range_boundaries(area.split("!")[-1].replace("$", ""))
    col, row = chart_anchor(path)
    assert col + 1 <= max_col and row + 1 <= max_row, (area, col, row)


def test_one_row_per_active_party_and_none_for_a_party_that_left(tmp_path):
    """R6: Rosendahl left on 31.12.2023, so 2024 lists 10 parties, Nord with three."""
    form = example_2024()
    for party in form.parties:
        if party["Kommune"] == "Rosendahl":
            party["Ausgeschieden zum"] = date(2023, 12, 31)
    _, col, rows = overview_of(form, tmp_path)
    parties = party_rows(col, rows)
    names = [r[col["Vertragspartei"]] for r in parties]
    assert len(names) == len(set(names)) == 10
    assert "Gemeinde Rosendahl" not in names
    assert [r[col["Vertragspartei"]] for r in parties if r[col["Region"]] == "Nord"] == [
        "Stadt Coesfeld", "Stadt Billerbeck", "Gemeinde Havixbeck"]


def test_the_employer_row_has_no_bill(tmp_path):
    _, col, rows = overview_of(example_2024(), tmp_path)
    coesfeld = next(r for r in rows if r[col["Vertragspartei"]] == "Stadt Coesfeld")
    assert coesfeld[col["Anteil am Eigenanteil"]] == 6875
    assert coesfeld[col["Saldo (+ zahlt, − erhält)"]] is None
    assert coesfeld[col["Fällig am"]] is None


def test_the_check_column_subtracts_the_eigenanteil_from_the_shares_of_its_own_row(tmp_path):
    """Each sum row: ``=ROUND(<Σ shares>-<Eigenanteil>,2)`` on the same row, value 0."""
    path, col, _ = overview_of(example_2024(), tmp_path)
    ws = openpyxl.load_workbook(path)["Übersicht"]
    letter = {title: openpyxl.utils.get_column_letter(i + 1) for title, i in col.items()}
    sums = [row[0].row for row in ws.iter_rows(min_row=5)
            if str(row[1].value or "").startswith("Summe Region")]
    assert len(sums) == 3
    for r in sums:
        assert ws[f"{letter[CHECK]}{r}"].value == (
            f"=ROUND(${letter['Anteil am Eigenanteil']}${r}"
            f"-${letter['Eigenanteil der Region']}${r},2)")
        assert ws[f"{letter['Anteil am Eigenanteil']}{r}"].value.startswith("=SUM(")
    values = openpyxl.load_workbook(path, data_only=True)["Übersicht"]
    assert all(values[f"{letter[CHECK]}{r}"].value == 0 for r in sums)
    assert ws[f"{letter[CHECK]}{sums[0]}"].number_format == '#,##0.00 "€"'


def test_with_vat_the_overview_shows_vat_and_gross(tmp_path):
    """19 %: Billerbeck 6,875.00 + 1,306.25 = 8,181.25."""
    form = example_2024()
    form.settings["Umsatzsteuersatz"] = 19
    _, col, rows = overview_of(form, tmp_path)
    header = list(col)
    assert header.index("Umsatzsteuer") == header.index("Anteil am Eigenanteil") + 1
    billerbeck = next(r for r in rows if r[col["Vertragspartei"]] == "Stadt Billerbeck")
    assert billerbeck[col["Umsatzsteuer"]] == 1306.25
    assert billerbeck[col["Brutto"]] == 8181.25
    assert billerbeck[col["Saldo (+ zahlt, − erhält)"]] == 8181.25


def test_reference_columns_appear_only_when_something_is_filled_in(tmp_path):
    form = example_2024()
    form.settings["Aktenzeichen"] = ""
    for party in form.parties:
        party["Kassenzeichen"] = ""
    _, col, _ = overview_of(form, tmp_path)
    assert not {"Kassenzeichen", "Aktenzeichen", "Buchungsstelle"} & set(col)
    assert list(col)[-1] == CHECK


def test_the_properties_name_the_employers_and_the_latest_settlement_date(tmp_path):
    path, _, _ = overview_of(example_2024(), tmp_path)
    props = openpyxl.load_workbook(path).properties
    assert props.creator == "Stadt Coesfeld, Stadt Dülmen, Gemeinde Ascheberg"
    assert props.created == datetime(2025, 3, 2)
    assert props.title == "Übersicht der Abrechnung des Eigenanteils 2024"


# ------------------------------------------------------------------ the bills of the folder


BILL_HEADER = ["Region", "Partnerkommune", "Art", "Rechnungsnummer", "berichtigt", "Datum",
               "Betrag (+ zahlt, − erhält)", "Fällig am", "Stand", "Datei"]


def bill_rows(path: Path) -> dict[str, dict[str, object]]:
    """Rechnungsnummer → the row of ``Rechnungen`` by its header."""
    ws = openpyxl.load_workbook(path, data_only=True)["Rechnungen"]
    assert [c.value for c in ws[3]] == BILL_HEADER
    rows = [dict(zip(BILL_HEADER, r, strict=True)) for r in ws.iter_rows(min_row=4,
                                                                          values_only=True)]
    return {r["Rechnungsnummer"]: r for r in rows}


def test_without_a_ledger_there_is_no_sheet_of_bills(tmp_path):
    path, _, _ = overview_of(example_2024(), tmp_path)
    assert openpyxl.load_workbook(path).sheetnames == ["Übersicht", "Diagramm", "Berechnung"]


def test_the_bills_sheet_lists_every_bill_with_its_amount_due_date_and_state(outputs):
    rows = bill_rows(outputs["beispiel"] / "Uebersicht_2024.xlsx")

    assert list(rows) == ["2024-Billerbeck", "2024-Havixbeck", "2024-Rosendahl", "2024-Nottuln",
                          "2024-Luedinghausen", "2024-Nordkirchen", "2024-Olfen", "2024-Senden"]
    assert rows["2024-Billerbeck"] == {
        "Region": "Nord", "Partnerkommune": "Stadt Billerbeck", "Art": "Abrechnung",
        "Rechnungsnummer": "2024-Billerbeck", "berichtigt": "",
        "Datum": datetime(2025, 3, 2), "Betrag (+ zahlt, − erhält)": 6875,
        "Fällig am": datetime(2025, 4, 1), "Stand": "Entwurf",
        "Datei": "Abrechnung_2024_Billerbeck.xlsx"}
    assert rows["2024-Nordkirchen"]["Betrag (+ zahlt, − erhält)"] == -417.15
    assert rows["2024-Olfen"]["Betrag (+ zahlt, − erhält)"] == 2082.85
    ws = openpyxl.load_workbook(outputs["beispiel"] / "Uebersicht_2024.xlsx")["Rechnungen"]
    assert ws.cell(4, 7).number_format == '#,##0.00 "€"'


def test_after_issue_and_a_correction_the_bills_sheet_shows_each_state(tmp_path):
    """Nord posted on 05.03.2025, then 4,000.00 more costs: each Nord partner gets a
    correction of + 1,000.00, dated the day of the run, due 30 days later; the overview
    shows the corrected figures and every bill with its state."""
    form = example_2024()
    write(form, tmp_path / "input" / "Abrechnung_2024.xlsx")
    run_settlement(tmp_path / "input", tmp_path / "output", date(2025, 3, 2))
    issue_folder(tmp_path / "output", 2024, "Nord", date(2025, 3, 5))
    form.positions[0]["Personalkosten"] += 4000
    write(form, tmp_path / "input" / "Abrechnung_2024.xlsx")

    result = run_settlement(tmp_path / "input", tmp_path / "output", date(2025, 6, 2))

    path = result.folder / "Uebersicht_2024.xlsx"
    rows = bill_rows(path)
    assert rows["2024-Billerbeck"]["Stand"] == "festgeschrieben, per Post am 05.03.2025"
    assert rows["2024-Nottuln"]["Stand"] == "Entwurf"
    assert rows["2024-Billerbeck-K1"] == {
        "Region": "Nord", "Partnerkommune": "Stadt Billerbeck", "Art": "Korrektur",
        "Rechnungsnummer": "2024-Billerbeck-K1", "berichtigt": "2024-Billerbeck",
        "Datum": datetime(2025, 6, 2), "Betrag (+ zahlt, − erhält)": 1000,
        "Fällig am": datetime(2025, 7, 2), "Stand": "Entwurf",
        "Datei": "Korrektur_2024_Billerbeck_1.xlsx"}
    assert len(rows) == 8 + 3
    table = openpyxl.load_workbook(path, data_only=True)["Übersicht"]
    header = [c.value for c in table[4]]
    billerbeck = next(r for r in table.iter_rows(min_row=5, values_only=True)
                      if r[header.index("Vertragspartei")] == "Stadt Billerbeck")
    assert billerbeck[header.index("Anteil am Eigenanteil")] == 7875
