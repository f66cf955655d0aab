"""``kim-excel planen``: the figures of a council paper, from a workbook of planned costs.

The reference is the Coesfeld council paper of 2023 (``sources/001_…``), Region Nord:
5 positions of 0,5 VZÄ (2,5 VZÄ) all year, personnel 163,000, Sachkosten 7,000, rate 55,000:

    Gesamtkosten 170,000 = 163,000 + 7,000
    Kostenerstattungen 137,500 = 2,5 × 55,000
    Eigenanteil der Region 32,500 = 170,000 − 137,500; 0,625 of 2,5 VZÄ = 25 % each
    Leistungsentgelte 24,375 = 3 partners × 8,125 (Billerbeck, Havixbeck, Rosendahl)
    Summe der Erträge 161,875 = 137,500 + 24,375
    Eigenanteil Coesfeld 8,125; Überschuss/Defizit 161,875 − 170,000 = −8,125
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from kim_excel.commands.planning import PLAN_BANNER, run_planning
from kim_excel.ledger.folder import output_lock
from tests.builders import council_paper_form, write
from tests.runner import run_kim

D = Decimal
TODAY = date(2024, 3, 2)
BOOKING_HEADER = ("Jahr;Region;Anstellungskoerperschaft;Kommune;Rolle;Anteil;"
                  "Eigenanteil_Region_EUR;Betrag_netto_EUR;USt_EUR;Betrag_brutto_EUR;"
                  "Abschlaege_EUR;Saldo_EUR;Faellig_am")


def plan_input(tmp_path: Path, form=None) -> Path:
    return write(form or council_paper_form(), tmp_path / "input" / "Planung_Nord.xlsx")


def right_of(ws, text: str) -> list[object]:
    """The values right of every cell whose text is ``text``."""
    return [ws.cell(c.row, c.column + 1).value for row in ws.iter_rows() for c in row
            if c.value == text]


def below(ws, text: str) -> list[object]:
    return [ws.cell(c.row + 1, c.column).value for row in ws.iter_rows() for c in row
            if c.value == text]


def read_plan(path: Path, data_only: bool = True):
    return openpyxl.load_workbook(path, data_only=data_only)


@pytest.mark.slow
def test_the_council_papers_table_is_reproduced_exactly(tmp_path):
    plan_input(tmp_path)
    result = run_kim("planen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    wb = read_plan(tmp_path / "output" / "2023" / "Planung_2023.xlsx")
    assert wb.sheetnames == ["Übersicht", "Coesfeld", "Billerbeck", "Havixbeck", "Rosendahl"]
    ws = wb["Coesfeld"]
    # Auswirkungen auf die Finanzrechnung: a row of four, as in the paper.
    assert below(ws, "Gesamtkosten der Maßnahme") == [170000]
    assert below(ws, "Objektbezogene Einnahmen (Zuschüsse, Beiträge)") == [137500]
    assert below(ws, "Sonstige Einzahlungen (Leistungsentgelte)") == [24375]
    assert below(ws, "Eigenanteil") == [8125]
    # Auswirkungen auf die Ergebnisrechnung.
    assert right_of(ws, "Leistungsentgelte")[0] == 24375
    assert right_of(ws, "Kostenerstattungen") == [137500]
    assert right_of(ws, "sonstige Erträge") == [0]
    assert right_of(ws, "Summe der Erträge") == [161875]
    assert right_of(ws, "Personalaufwendungen") == [163000]
    assert right_of(ws, "Aufwendungen für Sach- und Dienstleistungen") == [7000]
    assert right_of(ws, "Summe der Aufwendungen") == [170000]
    assert right_of(ws, "Überschuss (+) / Defizit (−)") == [-8125]
    for partner in ("Billerbeck", "Havixbeck", "Rosendahl"):
        assert right_of(wb[partner], "Anteil (netto)")[0] == 8125
        assert right_of(wb[partner], "Überschuss (+) / Defizit (−)") == [-8125]


@pytest.mark.slow
def test_the_terminal_shows_a_short_german_summary(tmp_path):
    plan_input(tmp_path)
    result = run_kim("planen", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[:10] == [
        "Planzahlen 2023 – keine Abrechnung (Förderbetrag je VZÄ 55.000,00 €)",
        "",
        "Region Nord – Stadt Coesfeld (Anstellungskörperschaft)",
        "  Gesamtkosten            170.000,00 €",
        "  Kostenerstattungen      137.500,00 €",
        "  Leistungsentgelte        24.375,00 €",
        "  Eigenanteil               8.125,00 €",
        "  Stadt Billerbeck    zahlt voraussichtlich     8.125,00 €",
        "  Gemeinde Havixbeck  zahlt voraussichtlich     8.125,00 €",
        "  Gemeinde Rosendahl  zahlt voraussichtlich     8.125,00 €",
    ]
    assert ("Hinweis: Keine Buchungsliste eines Jahres vor 2023 in „output“: die Planzahlen "
            "werden ohne Vergleich ausgegeben.") in lines
    assert lines[-1] == "Planzahlen geschrieben: output/2023/Planung_2023.xlsx"


@pytest.mark.slow
def test_every_sheet_says_plainly_that_these_are_plan_figures(tmp_path):
    plan_input(tmp_path)
    assert run_kim("planen", cwd=tmp_path).returncode == 0
    wb = read_plan(tmp_path / "output" / "2023" / "Planung_2023.xlsx")
    for ws in wb.worksheets:
        assert ws["A3"].value == PLAN_BANNER
        assert "PLANZAHLEN 2023 – keine Abrechnung" in ws.oddHeader.center.text
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.page_setup.orientation == "portrait"
        assert ws.sheet_properties.pageSetUpPr.fitToPage  # one page wide, as long as needed
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert wb.properties.title == "Kommunales Case-Management – Planzahlen 2023"
    assert wb.properties.created == datetime(2024, 3, 2)  # Datum der Abrechnung of the form


def test_derived_figures_are_formulas_carrying_their_values(tmp_path):
    plan_input(tmp_path)
    run_planning(tmp_path / "input", tmp_path / "output", TODAY)
    formulas = read_plan(tmp_path / "output" / "2023" / "Planung_2023.xlsx", data_only=False)
    ws = formulas["Coesfeld"]
    for label in ("Summe der Erträge", "Summe der Aufwendungen", "Überschuss (+) / Defizit (−)",
                  "Leistungsentgelte"):
        assert str(right_of(ws, label)[0]).startswith("="), label
    assert str(below(ws, "Eigenanteil")[0]).startswith("=")
    assert str(right_of(formulas["Billerbeck"], "Anteil (netto)")[0]).startswith("=ROUND(")


@pytest.mark.slow
def test_the_change_against_the_last_settled_year_comes_from_its_buchungsliste(tmp_path):
    """Settled 2022 (real run): personnel 5 × 30,000 + 7,000 = 157,000 − 137,500 = 19,500,
    4,875.00 each. Plan 2023: 8,125.00 each → +3,250.00; Leistungsentgelte 14,625 → 24,375
    (+9,750); Eigenanteil der Region 19,500 → 32,500 (+13,000)."""
    settled = council_paper_form()
    settled.settings["Abrechnungsjahr"] = 2022
    settled.positions = [dict(p, Personalkosten=D("30000.00")) for p in settled.positions]
    write(settled, tmp_path / "ist" / "Abrechnung_2022.xlsx")
    assert run_kim("abrechnen", "--eingang", "ist", cwd=tmp_path).returncode == 0
    plan_input(tmp_path)
    result = run_kim("planen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("  Stadt Billerbeck    zahlt voraussichtlich     8.125,00 €   (2022: 4.875,00 €, "
            "+3.250,00 €)") in result.stdout.splitlines()
    wb = read_plan(tmp_path / "output" / "2023" / "Planung_2023.xlsx")
    ws = wb["Coesfeld"]
    assert row_of(ws, "Eigenanteil (eigener Anteil)") == [8125, 4875, 3250]
    assert row_of(ws, "Leistungsentgelte") == [24375, 14625, 9750]
    assert row_of(ws, "Eigenanteil der Region Nord") == [32500, 19500, 13000]
    assert "Abrechnung 2022" in [c.value for r in ws.iter_rows() for c in r]
    assert row_of(wb["Billerbeck"], "Anteil (netto)") == [8125, 4875, 3250]


def row_of(ws, label: str) -> list[object]:
    """The last row labelled ``label``: its values in columns B to D."""
    rows = [c.row for r in ws.iter_rows() for c in r if c.value == label]
    return [ws.cell(rows[-1], col).value for col in (2, 3, 4)]


def booking(year: int, nets: dict[str, str], region_total: str) -> bytes:
    lines = [BOOKING_HEADER]
    for name, net in nets.items():
        role = "Anstellungskörperschaft" if name == "Coesfeld" else "Partnerkommune"
        tail = ";;;;;" if name == "Coesfeld" else f";0,00;{net};0,00;{net};01.04.{year + 1}"
        lines.append(f"{year};Nord;Coesfeld;{name};{role};0,25;{region_total};{net}{tail}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def test_the_newest_earlier_buchungsliste_is_used_when_the_year_before_is_missing(tmp_path):
    """Lists of 2020, 2021 and 2024 exist, none of 2022: plan 2023 compares with 2021
    (7,500.00 each): 8,125.00 − 7,500.00 = +625.00. 2024 is later and is not used."""
    for year, net in ((2020, "6000,00"), (2021, "7500,00"), (2024, "9000,00")):
        folder = tmp_path / "output" / str(year)
        folder.mkdir(parents=True)
        (folder / f"Buchungsliste_{year}.csv").write_bytes(booking(
            year, dict.fromkeys(("Coesfeld", "Billerbeck", "Havixbeck", "Rosendahl"), net),
            "30000,00"))
    plan_input(tmp_path)
    result = run_planning(tmp_path / "input", tmp_path / "output", TODAY)
    assert result.plan.previous.year == 2021
    ws = read_plan(result.path)["Übersicht"]
    assert "Abrechnung 2021" in [c.value for r in ws.iter_rows() for c in r]
    billerbeck = [c.row for r in ws.iter_rows() for c in r if c.value == "Stadt Billerbeck"][0]
    assert [ws.cell(billerbeck, col).value for col in (5, 6, 7)] == [8125, 7500, 625]


@pytest.mark.slow
def test_an_unreadable_buchungsliste_gives_a_warning_and_plan_figures_without_change(tmp_path):
    folder = tmp_path / "output" / "2022"
    folder.mkdir(parents=True)
    (folder / "Buchungsliste_2022.csv").write_bytes(
        booking(2022, {"Coesfeld": "abc"}, "30000,00"))
    plan_input(tmp_path)
    result = run_kim("planen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("Warnung: Buchungsliste_2022.csv kann nicht gelesen werden (Zeile 2: „abc“ ist kein "
            "Betrag); die Planzahlen werden ohne Vergleich ausgegeben.") in result.stdout
    ws = read_plan(tmp_path / "output" / "2023" / "Planung_2023.xlsx")["Coesfeld"]
    assert right_of(ws, "Summe der Erträge") == [161875]


def test_vat_shows_in_the_partners_expected_payment_but_not_in_the_fees(tmp_path):
    """19 %: 8,125.00 × 0,19 = 1,543.75; gross 9,668.75. Coesfeld's Leistungsentgelte stay
    net (24,375.00): the VAT is passed on, it is no income of the employer."""
    form = council_paper_form()
    form.settings["Umsatzsteuersatz"] = 19
    plan_input(tmp_path, form)
    result = run_planning(tmp_path / "input", tmp_path / "output", TODAY)
    wb = read_plan(result.path)
    assert right_of(wb["Billerbeck"], "Umsatzsteuer (19 %)") == [1543.75]
    assert right_of(wb["Billerbeck"], "Erwartete Zahlung (brutto)") == [9668.75]
    assert right_of(wb["Billerbeck"], "Überschuss (+) / Defizit (−)") == [-9668.75]
    assert below(wb["Coesfeld"], "Sonstige Einzahlungen (Leistungsentgelte)") == [24375]


@pytest.mark.slow
def test_the_plan_survives_a_settlement_run_and_is_reproducible(tmp_path):
    plan_input(tmp_path)
    assert run_kim("planen", cwd=tmp_path).returncode == 0
    path = tmp_path / "output" / "2023" / "Planung_2023.xlsx"
    first = path.read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == ["Planung_2023.xlsx"]
    assert run_kim("abrechnen", cwd=tmp_path).returncode == 0
    assert path.read_bytes() == first
    assert (path.parent / "Buchungsliste_2023.csv").exists()
    assert run_kim("planen", cwd=tmp_path).returncode == 0
    assert path.read_bytes() == first


@pytest.mark.slow
def test_a_locked_output_folder_stops_the_plan_with_a_german_message(tmp_path):
    plan_input(tmp_path)
    with output_lock(tmp_path / "output"):
        result = run_kim("planen", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Fehler: Ein anderer kim-excel-Lauf schreibt gerade in „output“. Bitte warten, bis er "
        "fertig ist, und dann erneut starten.")
    assert not (tmp_path / "output" / "2023").exists()


@pytest.mark.slow
def test_invalid_plan_input_writes_nothing(tmp_path):
    form = council_paper_form()
    form.material[0]["Kostenart"] = "Bewirtung"
    plan_input(tmp_path, form)
    result = run_kim("planen", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[1] == (
        "  – Planung_Nord.xlsx: Sachkosten!B2: „Bewirtung“: abrechenbar sind nach § 2 der "
        "Vereinbarung nur Technische Ausstattung, Stellenbesetzung und Ausschreibung, "
        "Personalverwaltung (Pauschale).")
    assert not (tmp_path / "output" / "2023").exists()


# ------------------------------------------------------------ recalculated by LibreOffice

RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(files: list[Path], work: Path) -> Path:
    """Open and save every file with LibreOffice set to recalculate on load (one call)."""
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_XCU)
    out = work / "recalculated"
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), *map(str, files)],
                   check=True, capture_output=True, timeout=180)
    return out


def formula_mismatches(written: Path, recalculated: Path) -> list[str]:
    formulas = openpyxl.load_workbook(written)
    cached = openpyxl.load_workbook(written, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
    wrong = []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    ours = cached[ws.title][c.coordinate].value
                    theirs = fresh[ws.title][c.coordinate].value
                    if theirs is None or abs(float(theirs) - float(ours)) > 0.005:
                        wrong.append(f"{ws.title}!{c.coordinate}: {ours} != {theirs}")
    return wrong


def tamper(source: Path, target: Path, old: bytes, new: bytes) -> None:
    """Copy an xlsx with one cached value changed."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                assert old in data
                data = data.replace(old, new, 1)
            zout.writestr(item, data)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_recalculates_every_formula_to_the_written_value(tmp_path):
    """Also proves the check can fail: a copy whose cached Summe der Erträge says 161,876
    instead of 161,875 is caught."""
    assert shutil.which("soffice"), "LibreOffice needed: apt-get install libreoffice-calc-nogui"
    form = council_paper_form()
    form.settings["Umsatzsteuersatz"] = 19
    plan_input(tmp_path, form)
    result = run_planning(tmp_path / "input", tmp_path / "output", TODAY)
    broken = tmp_path / "Kaputt_2023.xlsx"
    tamper(result.path, broken, b"<v>161875.0</v>", b"<v>161876.0</v>")
    out = recalculate([result.path, broken], tmp_path)
    assert formula_mismatches(result.path, out / result.path.name) == []
    wrong = formula_mismatches(broken, out / broken.name)
    assert len(wrong) == 1 and wrong[0].endswith(": 161876.0 != 161875"), wrong


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_plan_of_the_tiny_eigenanteil_recalculates_to_its_cached_cents(tmp_path):
    """R7 in the plan: Süd's Eigenanteil is 0.03 for five parties; the first partner gives
    a cent back. The plan writes the trail's share formula (with the cent correction), so
    LibreOffice recalculates every plan formula to the value written (before: 13 of 82
    formulas differed, e.g. the employer's rest 0.00 against −0.01)."""
    from tests.libreoffice import formula_mismatches as mismatches
    from tests.libreoffice import recalculate as recalculate_all
    from tests.test_workbooks import tiny_eigenanteil

    write(tiny_eigenanteil(), tmp_path / "input" / "Planung.xlsx")
    assert run_kim("planen", cwd=tmp_path).returncode == 0
    plan = tmp_path / "output" / "2024" / "Planung_2024.xlsx"
    recalculated = recalculate_all([plan], tmp_path / "neu")
    count, wrong = mismatches(plan, recalculated[plan])
    assert count > 50
    assert wrong == [], "\n".join(str(m) for m in wrong)
