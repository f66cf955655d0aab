"""The settlement workbooks: the letter a partner receives, its trail, and the overview.

The figures asserted below are those of the shipped example (``builders.example_2024``),
worked out by hand (rate 57,000 EUR per VZÄ, settlement date 02.03.2025, 30 days):

Nord (Coesfeld; Billerbeck, Havixbeck, Rosendahl; 0,625 VZÄ each of 2,5)
    personnel 65,200 + 65,200 + 32,600 = 163,000.00; Sachkosten 3,500 + 1,000 + 2,500 = 7,000.00
    costs 170,000.00; subsidy 57,000 + 57,000 + 57,000 × 0,5 = 142,500.00
    Eigenanteil 27,500.00; key 0,625 / 2,5 = 25 % → 6,875.00 each, Coesfeld 27,500 − 3 × 6,875
    = 6,875.00.
Mitte (Dülmen; Nottuln; 0,5 of 1,0)
    66,480 + 1,850 + 1,000 = 69,330.00 − 57,000.00 = 12,330.00 → Nottuln 50 % = 6,165.00.
Süd (Ascheberg; Lüdinghausen, Nordkirchen, Olfen, Senden; 0,5 each of 2,5)
    personnel 64,912.36 + 61,480.13 + 19,875.40 = 146,267.89; Sachkosten 4,213.87 + 1,245.00
    + 3,000.00 = 8,458.87; costs 154,726.76; subsidy 57,000 + 57,000 + 57,000 × 0,5 × 7,5 / 12
    (= 17,812.50, below the position's 19,875.40) = 131,812.50; Eigenanteil 22,914.26;
    20 % → 4,582.852 → 4,582.85 per partner; Ascheberg 22,914.26 − 4 × 4,582.85 = 4,582.86.
    Nordkirchen paid 5,000.00 in advance → refund 417.15; Olfen paid 2,500.00 → 2,082.85.
Due date: 02.03.2025 + 30 days = 01.04.2025, a Tuesday and no holiday in NRW.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from kim_excel.commands.letters import write_settlement
from kim_excel.commands.settle import load_settlement, run_settlement
from kim_excel.core.agreement import default_vat_note
from kim_excel.core.german import german_number, iban_groups
from kim_excel.documents.workbooks import write_partner_workbook
from kim_excel.ledger.life import apply_plan, letter_bill, plan_settlement
from kim_excel.ledger.transaction import year_folder
from tests.builders import example_2024, write
from tests.libreoffice import formula_mismatches, recalculate, tamper_cached_value
from tests.runner import run_kim

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2025, 1, 10)
D = Decimal


# ------------------------------------------------------------------ scenarios


def vat_19() -> object:
    """The example with 19 % VAT (SPEC R8)."""
    form = example_2024()
    form.settings["Umsatzsteuersatz"] = 19
    return form


def lapsed() -> object:
    """The example after the Landesförderung lapsed (R5): all costs in equal parts."""
    form = example_2024()
    form.settings["Landesförderung entfallen"] = "Ja"
    return form


def variants() -> object:
    """Rosendahl left on 31.12.2023 (R6), Mitte splits by hours (R4), Süd received less (R2)."""
    form = example_2024()
    for party in form.parties:
        if party["Kommune"] == "Rosendahl":
            party["Ausgeschieden zum"] = date(2023, 12, 31)
    form.hours = [{"Kommune": "Dülmen", "Stunden": D("1200")},
                  {"Kommune": "Nottuln", "Stunden": D("800")}]
    form.subsidies = [{"Anstellungskörperschaft": "Ascheberg",
                       "Förderung erhalten": D("130000.00")}]
    return form


def wind_down() -> object:
    """The agreement ended by consent on 31.12.2023; 2024 is wound down (R12)."""
    form = example_2024()
    form.settings["Vertrag beendet zum"] = date(2023, 12, 31)
    return form


def edge_cases() -> object:
    """Mitte has Sachkosten but no position (no subsidy); Süd received more subsidy than
    it spent, so its Eigenanteil is negative and every partner gets money back."""
    form = example_2024()
    form.positions = [p for p in form.positions if p["Anstellungskörperschaft"] != "Dülmen"]
    form.subsidies = [{"Anstellungskörperschaft": "Ascheberg",
                       "Förderung erhalten": D("160000.00")}]
    return form


def tiny_eigenanteil() -> object:
    """Süd received all but 0.03 of its costs (154,726.76 − 154,726.73): five equal parts of
    0.006 would round to 0.01 for each of the four partners, 0.04 in all, more than the
    Eigenanteil; the first partner by name gives a cent back (R7 for tiny amounts)."""
    form = example_2024()
    form.subsidies = [{"Anstellungskörperschaft": "Ascheberg",
                       "Förderung erhalten": D("154726.73")}]
    return form


SCENARIOS = {"beispiel": example_2024, "ust19": vat_19, "entfallen": lapsed,
             "varianten": variants, "abwicklung": wind_down, "grenzfaelle": edge_cases,
             "cent": tiny_eigenanteil}


def run(form, folder: Path, pdf: bool = False):
    write(form, folder / "input" / "Abrechnung.xlsx")
    return run_settlement(folder / "input", folder / "output", TODAY, pdf=pdf)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """Each scenario settled once: scenario name → its output folder ``output/2024``."""
    base = tmp_path_factory.mktemp("settled")
    return {name: run(build(), base / name).folder for name, build in SCENARIOS.items()}


# ------------------------------------------------------------------ reading a letter


class Letter:
    """The letter as a reader sees it: the cached values (what Outlook's preview shows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values = openpyxl.load_workbook(path, data_only=True)
        self.formulas = openpyxl.load_workbook(path)
        self.sheet = self.values["Abrechnung"]

    def texts(self) -> list[str]:
        return [str(c.value) for row in self.sheet.iter_rows() for c in row
                if isinstance(c.value, str)]

    def row_of(self, label: str) -> int:
        rows = [c.row for c in self.sheet["A"] if c.value == label]
        assert len(rows) == 1, f"{label!r} appears {len(rows)} times in {self.path.name}"
        return rows[0]

    def has(self, label: str) -> bool:
        return any(c.value == label for c in self.sheet["A"])

    def amount(self, label: str) -> Decimal:
        value = self.sheet.cell(self.row_of(label), 4).value
        return D(repr(value)).quantize(D("0.01"))

    def detail(self, label: str) -> str:
        return self.sheet.cell(self.row_of(label), 2).value

    def info(self, label: str):
        """A value of the information block beside the address (label in column B)."""
        rows = [c.row for c in self.sheet["B"] if c.value == label]
        assert len(rows) == 1, f"{label!r} appears {len(rows)} times in {self.path.name}"
        return self.sheet.cell(rows[0], 3).value

    def value_after(self, label: str):
        return self.sheet.cell(self.row_of(label), 2).value

    def formula(self, label: str) -> str:
        return self.formulas["Abrechnung"].cell(self.row_of(label), 4).value


def letter(outputs, scenario: str, kommune: str) -> Letter:
    return Letter(outputs[scenario] / f"Abrechnung_2024_{kommune}.xlsx")


# ------------------------------------------------------------------ the letter's figures


def test_billerbeck_letter_shows_the_nord_figures_of_the_example(outputs):
    """Nord: 170,000.00 − 142,500.00 = 27,500.00; 25 % → 6,875.00 due on 01.04.2025."""
    bill = letter(outputs, "beispiel", "Billerbeck")
    assert bill.amount("Personalkosten inkl. Arbeitgeberanteil") == D("163000.00")
    assert bill.amount("Technische Ausstattung") == D("3500.00")
    assert bill.amount("Stellenbesetzung und Ausschreibung") == D("1000.00")
    assert bill.amount("Personalverwaltung (Pauschale)") == D("2500.00")
    assert bill.amount("Kosten der Region insgesamt") == D("170000.00")
    assert bill.amount("abzüglich Landesförderung") == D("-142500.00")
    assert bill.amount("Eigenanteil der Region") == D("27500.00")
    assert bill.detail("Ihr Anteil nach dem Stundenanteil") == "0,625 von 2,5 VZÄ = 25,00 %"
    assert bill.amount("Anteil der Stadt Billerbeck") == D("6875.00")
    assert bill.amount("abzüglich geleistete Abschläge") == D("0.00")
    assert bill.amount("Zu zahlender Betrag") == D("6875.00")
    assert bill.value_after("Fällig am") == datetime(2025, 4, 1)
    assert bill.value_after("IBAN") == "DE26 4015 4530 0000 1234 56"
    assert bill.value_after("Empfänger") == "Stadt Coesfeld"
    # One Verwendungszweck (references.py): Kassenzeichen, Rechnungsnummer, topic, year.
    assert bill.value_after("Verwendungszweck") == \
        "KIM-2024-NORD-01 Rechnung 2024-Billerbeck Eigenanteil Case-Management 2024"
    assert bill.info("Rechnungsnummer") == "2024-Billerbeck"
    texts = bill.texts()
    assert "Kommunales Case-Management – Abrechnung des Eigenanteils 2024" in texts
    assert "Stadt Billerbeck" in texts and "48727 Billerbeck" in texts  # the recipient
    assert any(t.startswith("nach § 2 der Kooperationsvereinbarung") for t in texts)
    assert not any("Erstatt" in t for t in texts)


def test_nordkirchen_letter_reads_as_a_refund(outputs):
    """Süd: 22,914.26 × 20 % = 4,582.85; 5,000.00 paid in advance → 417.15 refunded."""
    refund = letter(outputs, "beispiel", "Nordkirchen")
    assert refund.amount("Eigenanteil der Region") == D("22914.26")
    assert refund.amount("abzüglich Landesförderung") == D("-131812.50")
    assert refund.amount("Anteil der Gemeinde Nordkirchen") == D("4582.85")
    assert refund.amount("abzüglich geleistete Abschläge") == D("-5000.00")
    assert refund.amount("Erstattungsbetrag (zu viel gezahlt)") == D("417.15")
    assert not refund.has("Zu zahlender Betrag")
    assert not refund.has("IBAN")  # no request to pay into the employer's account
    assert refund.value_after("Erstattung bis zum") == datetime(2025, 4, 1)
    # Süd positions were filled 7,5 and 12 months: the letter says so in plain words.
    assert refund.detail("abzüglich Landesförderung") == \
        "57.000,00 € je VZÄ und Jahr, anteilig: eine Stelle 7,5 von 12 Monaten, zwei Stellen " \
        "ganzjährig"
    assert refund.value_after("Verwendungszweck") == \
        "KIM-2024-SUED-02 Rechnung 2024-Nordkirchen Eigenanteil Case-Management 2024"


def test_olfen_and_nottuln_letters(outputs):
    """Olfen: 4,582.85 − 2,500.00 = 2,082.85. Nottuln: 12,330.00 × 0,5 / 1,0 = 6,165.00."""
    olfen = letter(outputs, "beispiel", "Olfen")
    assert olfen.amount("Zu zahlender Betrag") == D("2082.85")
    nottuln = letter(outputs, "beispiel", "Nottuln")
    assert nottuln.detail("Ihr Anteil nach dem Stundenanteil") == "0,5 von 1 VZÄ = 50,00 %"
    assert nottuln.amount("Zu zahlender Betrag") == D("6165.00")
    assert nottuln.value_after("IBAN") == "DE45 4015 4530 0000 2345 67"


def test_at_zero_percent_there_is_no_vat_line_only_the_note(outputs):
    """R8: a VAT amount on a non-taxable settlement would be owed under § 14c UStG."""
    bill = letter(outputs, "beispiel", "Billerbeck")
    texts = bill.texts()
    assert not any(t.startswith("zuzüglich Umsatzsteuer") for t in texts)
    assert not bill.has("Bruttobetrag")
    assert texts.count(default_vat_note(2024)) == 1  # the note that fits the year, once


def test_at_19_percent_the_letter_adds_vat_and_shows_the_gross(outputs):
    """6,875.00 × 19 % = 1,306.25 → 8,181.25. Nordkirchen: 4,582.85 × 0,19 = 870.7415
    → 870.74; gross 5,453.59 − 5,000.00 advance = 453.59 to pay."""
    bill = letter(outputs, "ust19", "Billerbeck")
    assert bill.amount("zuzüglich Umsatzsteuer 19 %") == D("1306.25")
    assert bill.amount("Bruttobetrag") == D("8181.25")
    assert bill.amount("Zu zahlender Betrag") == D("8181.25")
    assert bill.formula("zuzüglich Umsatzsteuer 19 %").startswith("=ROUND(")
    # The form leaves the note empty: above 0 % no "nicht steuerbar" note is put in.
    assert not [t for t in bill.texts() if "Nicht steuerbar" in t or "keine Umsatzsteuer" in t]
    nord = letter(outputs, "ust19", "Nordkirchen")
    assert nord.amount("zuzüglich Umsatzsteuer 19 %") == D("870.74")
    assert nord.amount("Bruttobetrag") == D("5453.59")
    assert nord.amount("Zu zahlender Betrag") == D("453.59")


@pytest.mark.slow
def test_vat_with_the_default_no_vat_note_is_warned_about(tmp_path):
    """19 % VAT while the note still says no VAT is charged (the note of 0 %, typed in): the
    letter would contradict itself, so the run warns (and names the setting's cell)."""
    contradicting = vat_19()
    contradicting.settings["Hinweis Umsatzsteuer"] = default_vat_note(2024)
    result = run(contradicting, tmp_path)
    warnings = [n for n in result.notices if "Hinweis Umsatzsteuer" in n.message]
    assert len(warnings) == 1 and warnings[0].where.sheet == "Einstellungen"
    form = vat_19()
    form.settings["Hinweis Umsatzsteuer"] = "Die Leistung unterliegt der Umsatzsteuer (§ 2b UStG)."
    assert not [n for n in run(form, tmp_path / "b").notices
                if "Hinweis Umsatzsteuer" in n.message]


def test_every_derived_figure_is_a_formula_with_its_value(outputs):
    """The letter's figures point into ``Berechnung``; the rules stand there as formulas."""
    bill = letter(outputs, "beispiel", "Billerbeck")
    assert bill.formula("Anteil der Stadt Billerbeck").startswith("=Berechnung!$G$")
    assert bill.formula("Kosten der Region insgesamt").startswith("=SUM(")
    assert bill.formula("abzüglich Landesförderung").startswith("=-Berechnung!")
    trail = bill.formulas["Berechnung"]
    formulas = [c.value for row in trail.iter_rows() for c in row if c.data_type == "f"]
    # R2 per position: ROUND(rate × VZÄ × months / 12, 2), at most the position's costs.
    assert sum(f.startswith("=ROUND(Berechnung!$G$") and f.endswith("/12,2)")
               for f in formulas) == 3
    assert sum(f.startswith("=MIN(") for f in formulas) == 3
    # R7: three partners pay ROUND(Eigenanteil × key / sum of keys, 2).
    assert sum(f.startswith("=ROUND($G$") and "*$E$" in f for f in formulas) == 3
    assert sum("SUMIF(" in f for f in formulas) == 3  # Sachkosten by kind
    # The employer carries the remainder: Eigenanteil − the partners' shares.
    assert any(f.startswith("=$G$") and "-SUM(" in f for f in formulas)
    # No formula cell without a cached value (Outlook and Protected View show the cache).
    cached = bill.values["Berechnung"]
    for row in trail.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                assert cached[cell.coordinate].value is not None, cell.coordinate


def test_trail_lists_every_position_sachkosten_line_and_party_of_the_region(outputs):
    """§ 1 Nr. 6: each partner can check its bill against the others'."""
    trail = letter(outputs, "beispiel", "Olfen").values["Berechnung"]
    rows: dict[str, int] = {}
    for c in trail["A"]:  # the first row of a name: the split (section 5 lists advances)
        if isinstance(c.value, str):
            rows.setdefault(c.value, c.row)
    for label in ("Case-Management Süd 1", "Case-Management Süd 2", "Case-Management Süd 3",
                  "Arbeitsplätze", "Anzeigen, Verfahren", "Pauschale"):
        assert label in rows
    süd3 = rows["Case-Management Süd 3"]
    assert [trail.cell(süd3, c).value for c in (3, 4, 5, 6, 7)] == [
        0.5, 7.5, 19875.4, 17812.5, 17812.5]
    shares = {name: trail.cell(rows[name], 7).value for name in (
        "Gemeinde Ascheberg", "Stadt Lüdinghausen", "Gemeinde Nordkirchen", "Stadt Olfen",
        "Gemeinde Senden")}
    assert shares == {"Gemeinde Ascheberg": 4582.86, "Stadt Lüdinghausen": 4582.85,
                      "Gemeinde Nordkirchen": 4582.85, "Stadt Olfen": 4582.85,
                      "Gemeinde Senden": 4582.85}
    assert trail.cell(rows["Eigenanteil der Region"], 7).value == 22914.26


def test_lapsed_subsidy_letter_splits_all_costs_in_equal_parts(outputs):
    """R5: Nord 170,000.00, no subsidy, 4 parties → 42,500.00 each."""
    bill = letter(outputs, "entfallen", "Billerbeck")
    assert bill.amount("abzüglich Landesförderung") == D("0.00")
    assert bill.detail("abzüglich Landesförderung") == "entfallen (§ 2)"
    assert bill.detail("Ihr Anteil zu gleichen Teilen") == "1 von 4 Vertragsparteien = 25,00 %"
    assert bill.amount("Zu zahlender Betrag") == D("42500.00")
    assert any("Da die Landesförderung entfallen ist" in t for t in bill.texts())


def test_exit_hours_and_received_subsidy_read_sensibly(outputs):
    """R6: Rosendahl left; its 0,625 VZÄ go in thirds to the others: 0,625 + 0,2083 = 0,8333
    of 2,5 → 33,33 %; 27,500.00 / 3 = 9,166.67 for Billerbeck.
    R4: Nottuln 800 of 2,000 hours = 40 % of 12,330.00 = 4,932.00.
    R2: Ascheberg received 130,000.00 (computed 131,812.50): Eigenanteil 154,726.76 − 130,000
    = 24,726.76; 20 % = 4,945.352 → 4,945.35 for Olfen − 2,500.00 advance = 2,445.35."""
    bill = letter(outputs, "varianten", "Billerbeck")
    assert bill.detail("Ihr Anteil nach dem Stundenanteil") == "0,8333 von 2,5 VZÄ = 33,33 %"
    assert bill.amount("Zu zahlender Betrag") == D("9166.67")
    assert any("Der Stundenanteil der ausgeschiedenen Vertragspartei Gemeinde Rosendahl ist"
               in t for t in bill.texts())
    assert not (outputs["varianten"] / "Abrechnung_2024_Rosendahl.xlsx").exists()
    nottuln = letter(outputs, "varianten", "Nottuln")
    assert nottuln.detail("Ihr Anteil nach den tatsächlichen Stunden") == \
        "800 von 2.000 Stunden = 40,00 %"
    assert nottuln.amount("Zu zahlender Betrag") == D("4932.00")
    olfen = letter(outputs, "varianten", "Olfen")
    assert olfen.detail("abzüglich Landesförderung") == \
        "laut Förderbescheid (rechnerisch 131.812,50 €)"
    assert olfen.amount("Eigenanteil der Region") == D("24726.76")
    assert olfen.amount("Zu zahlender Betrag") == D("2445.35")


def test_negative_eigenanteil_and_a_region_without_positions(outputs):
    """Süd: 154,726.76 − 160,000.00 received = −5,273.24; 20 % = −1,054.648 → −1,054.65;
    Olfen −1,054.65 − 2,500.00 advance = −3,554.65: refunded. Mitte: Sachkosten only,
    1,850 + 1,000 = 2,850.00, no position, no subsidy → Nottuln 50 % = 1,425.00."""
    olfen = letter(outputs, "grenzfaelle", "Olfen")
    assert olfen.amount("Eigenanteil der Region") == D("-5273.24")
    assert olfen.amount("Anteil der Stadt Olfen") == D("-1054.65")
    assert olfen.amount("Erstattungsbetrag (zu viel gezahlt)") == D("3554.65")
    nottuln = letter(outputs, "grenzfaelle", "Nottuln")
    assert nottuln.detail("Personalkosten inkl. Arbeitgeberanteil") == "keine Stellen"
    assert nottuln.amount("abzüglich Landesförderung") == D("0.00")
    assert nottuln.amount("Zu zahlender Betrag") == D("1425.00")


def test_a_cent_given_back_is_visible_in_the_trail_formula(outputs):
    from openpyxl import load_workbook

    folder = outputs["cent"]
    shares = {}
    for name in ("Luedinghausen", "Olfen"):
        sheet = load_workbook(folder / f"Abrechnung_2024_{name}.xlsx")["Berechnung"]
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("=ROUND(") and \
                        "/12" not in cell.value and "*0" not in cell.value:
                    shares.setdefault(name, []).append(cell.value)
    assert any(f.endswith(",2)-0.01") for f in shares["Luedinghausen"])
    booking = (folder / "Buchungsliste_2024.csv").read_text(encoding="utf-8-sig")
    assert ";Lüdinghausen;Partnerkommune;0,2;0,03;0,00;" in booking
    assert ";Olfen;Partnerkommune;0,2;0,03;0,01;" in booking
    assert ";Ascheberg;Anstellungskörperschaft;0,2;0,03;0,00;" in booking


def test_wind_down_letter_cites_the_end_of_the_agreement(outputs):
    """R12: ended 31.12.2023; 2024 costs of Nord (27,500.00 after subsidy) in equal parts
    among the 4 former parties → 6,875.00 each."""
    bill = letter(outputs, "abwicklung", "Billerbeck")
    texts = bill.texts()
    assert "Kommunales Case-Management – Abrechnung des Eigenanteils 2024 (Abwicklung)" in texts
    assert any("zum 31.12.2023 beendet worden; nach § 4 Abs. 3" in t for t in texts)
    assert bill.detail("Ihr Anteil zu gleichen Teilen") == "1 von 4 Vertragsparteien = 25,00 %"
    assert bill.amount("Zu zahlender Betrag") == D("6875.00")


def test_key_texts_in_german_notation():
    assert german_number(D("0.625")) == "0,625"
    assert german_number(D("1250")) == "1.250"
    assert german_number(D("2.50")) == "2,5"
    assert german_number(D("0.8333333333333333333333333333")) == "0,8333"
    assert iban_groups("DE26401545300000123456") == "DE26 4015 4530 0000 1234 56"
    assert iban_groups("de26 4015 4530 0000 1234 56") == "DE26 4015 4530 0000 1234 56"


# ------------------------------------------------------------------ finish


def test_properties_protection_and_print_setup(outputs):
    """Author = employer, created = settlement date; protected without password; A4."""
    path = outputs["beispiel"] / "Abrechnung_2024_Billerbeck.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.properties.creator == "Stadt Coesfeld"
    assert wb.properties.created == datetime(2025, 3, 2)
    assert wb.properties.title == "Abrechnung des Eigenanteils 2024 – Stadt Billerbeck"
    assert wb.sheetnames == ["Abrechnung", "Berechnung"]
    for ws in wb.worksheets:
        assert ws.protection.sheet is True and not ws.protection.password
        assert ws.page_setup.paperSize == 9
        assert ws.oddFooter.right.text == "Seite &P von &N"  # pages of the printout
        assert "&F" not in ws.oddFooter.left.text  # no file name on paper or in a PDF
        assert ws.sheet_view.showGridLines is False
    page = wb["Abrechnung"]
    assert page.page_setup.orientation == "portrait"
    assert page.sheet_properties.pageSetUpPr.fitToPage
    # 1 page wide and 1 high: Excel's default, so the attributes are left out (None).
    assert page.page_setup.fitToWidth in (None, 1) and page.page_setup.fitToHeight in (None, 1)
    overview = openpyxl.load_workbook(outputs["beispiel"] / "Uebersicht_2024.xlsx")
    assert overview.properties.creator == "Stadt Coesfeld, Stadt Dülmen, Gemeinde Ascheberg"
    assert overview.properties.created == datetime(2025, 3, 2)


@pytest.mark.parametrize("partner", [
    "Billerbeck", "Havixbeck", "Rosendahl", "Nottuln", "Nordkirchen", "Luedinghausen", "Olfen",
    "Senden"])
def test_letter_fits_one_a4_page_without_shrinking(outputs, partner):
    """A4 is 11.69 in high; less the margins (0.6 + 0.75 in) and room for the footer, the
    letter's rows must fit at 100 % — fit-to-page must never have to shrink it."""
    path = outputs["beispiel"] / f"Abrechnung_2024_{partner}.xlsx"
    ws = openpyxl.load_workbook(path)["Abrechnung"]
    default = ws.sheet_format.defaultRowHeight
    last = ws.max_row
    height = sum((ws.row_dimensions[r].height or default) for r in range(1, last + 1))
    printable = (11.69 - ws.page_margins.top - ws.page_margins.bottom) * 72
    assert height <= printable, f"{path.name}: {height:.0f} pt > {printable:.0f} pt"
    widths = sum(column_width(ws, c) for c in "ABCD")
    assert widths < 95  # about 17 cm of Arial 10 columns: no shrinking in width either


def test_no_amount_column_is_too_narrow_for_its_figures(outputs):
    """Excel shows ``####`` when a number does not fit: ``-1.234.567,89 €`` needs 15 digits'
    width; every amount column of the letter and the trail is wider."""
    wb = openpyxl.load_workbook(outputs["beispiel"] / "Abrechnung_2024_Nordkirchen.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.number_format.endswith('"€"') and cell.value is not None:
                    width = column_width(ws, cell.column_letter)
                    assert width >= 15, f"{ws.title}!{cell.coordinate} column {width}"


def column_width(ws, letter: str) -> float:
    """A column's width; openpyxl keeps a run of equal columns under its first letter."""
    from openpyxl.utils import column_index_from_string

    index = column_index_from_string(letter)
    for dimension in ws.column_dimensions.values():
        if dimension.min and dimension.min <= index <= dimension.max:
            return dimension.width
    return ws.sheet_format.defaultColWidth or 8.43


@pytest.mark.slow
def test_rerunning_the_same_input_gives_byte_identical_workbooks(tmp_path):
    first = run(example_2024(), tmp_path / "a")
    second = run(example_2024(), tmp_path / "b")
    names = sorted(p.relative_to(first.folder).as_posix() for p in first.folder.rglob("*")
                   if p.is_file())
    assert names == sorted(p.relative_to(second.folder).as_posix()
                           for p in second.folder.rglob("*") if p.is_file())
    assert len([n for n in names if n.endswith(".xlsx")]) == 9
    for name in names:  # the ledger and its copy too: nothing depends on the clock
        assert (first.folder / name).read_bytes() == (second.folder / name).read_bytes(), name


INJECTED = {
    "=1+1", '=HYPERLINK("http://example.com","klick")', "=2+2", "@SUM(A1)", "=3+3", "+4+4",
    "=5+5", "=6+6", "=7+7", "-8+8",
}


@pytest.mark.slow
def test_text_that_looks_like_a_formula_stays_text_in_every_output(tmp_path):
    """Names, addresses, labels and notes from the input are written with write_string."""
    form = example_2024()
    renamed = {"Billerbeck": "=1+1", "Havixbeck": '=HYPERLINK("http://example.com","klick")'}
    for party in form.parties:
        party["Kommune"] = renamed.get(party["Kommune"], party["Kommune"])
        if party["Kommune"] == "Coesfeld":
            party["Ansprechpartner"], party["Straße"] = "=2+2", "@SUM(A1)"
        if party["Kommune"] == "=1+1":
            party["Kassenzeichen"], party["Ort"] = "=3+3", "+4+4"
    form.settings["Hinweis Umsatzsteuer"] = "=5+5"
    form.settings["Aktenzeichen"] = "=6+6"
    form.positions[0]["Stelle"] = "=7+7"
    form.material[0]["Bezeichnung"] = "-8+8"
    result = run(form, tmp_path)
    seen: set[str] = set()
    workbooks = [f for f in result.files if f.suffix == ".xlsx"]
    assert len(workbooks) == 9
    for path in workbooks:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        assert not any(text in str(cell.value) for text in INJECTED), \
                            f"{path.name} {ws.title}!{cell.coordinate}: {cell.value}"
                    elif isinstance(cell.value, str):
                        seen.update(t for t in INJECTED if t in cell.value)
    assert seen == INJECTED  # every injected text arrived — as text


@pytest.mark.slow
def test_the_example_writes_fast(tmp_path):
    """The write step of a run (8 letters, overview, Buchungsliste, LIESMICH) from a settled
    example: well under 0.3 s in the process (measured about 0.07 s); the bound here is
    generous for a loaded CI machine."""
    settlement, _ = load_settlement(ROOT / "input", TODAY)
    times = []
    for attempt in range(3):
        with year_folder(tmp_path / str(attempt), 2024) as change:
            plan = plan_settlement(settlement, change.ledger, TODAY, False, lambda names: [])
            apply_plan(plan, change.ledger, settlement)
            with change.writing() as staging:
                start = time.perf_counter()
                done = write_settlement(change, plan, settlement, staging, False, None, 1)
                times.append(time.perf_counter() - start)
        assert len(done.written) == 8 + 2  # letters, overview, Buchungsliste
        assert "LIESMICH.txt" in change.written  # written when the change is published
    assert min(times) < 0.3, times


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_recalculates_every_output_to_the_values_written(outputs, tmp_path):
    """Every formula of every workbook of every scenario, recalculated by LibreOffice, gives
    the value we cached, to the cent. A letter whose cached share is wrong on purpose
    (6,876.00 instead of 6,875.00) must fail the same comparison: the check can fail."""
    workbooks: list[Path] = []
    staging = tmp_path / "alle"
    staging.mkdir()
    for scenario, folder in outputs.items():
        for path in sorted(folder.glob("*.xlsx")):
            copy = staging / f"{scenario}_{path.name}"
            copy.write_bytes(path.read_bytes())
            workbooks.append(copy)
    original = outputs["beispiel"] / "Abrechnung_2024_Billerbeck.xlsx"
    share_row = Letter(original).row_of("Anteil der Stadt Billerbeck")
    wrong = staging / "falsch_Abrechnung_2024_Billerbeck.xlsx"
    tamper_cached_value(original, wrong, "xl/worksheets/sheet1.xml", f"D{share_row}", "6876")
    assert Letter(wrong).amount("Anteil der Stadt Billerbeck") == D("6876.00")

    recalculated = recalculate([*workbooks, wrong], tmp_path / "neu")
    total = 0
    for path in workbooks:
        count, mismatches = formula_mismatches(path, recalculated[path])
        assert count > 10, f"{path.name} has only {count} formulas"
        assert not mismatches, "\n".join(str(m) for m in mismatches)
        total += count
    assert total > 1000
    _, caught = formula_mismatches(wrong, recalculated[wrong])
    assert [(m.sheet, m.cell, m.cached, m.recalculated) for m in caught] == [
        ("Abrechnung", f"D{share_row}", 6876, 6875)]


def test_bic_and_bank_derived_from_the_iban_say_so_on_the_letter(tmp_path):
    """Party.bank_from_iban (set by the reader when it filled BIC and Kreditinstitut from
    the IBAN): the letter names both with „aus der IBAN ermittelt“; typed ones stay bare."""
    write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    settlement, _ = load_settlement(tmp_path / "input", TODAY)
    region = settlement.regions[0]
    share = region.partner_shares[0]
    typed = tmp_path / "typed.xlsx"
    write_partner_workbook(typed, settlement, region, share)
    derived_region = replace(region, employer=replace(region.employer, bank_from_iban=True))
    derived = tmp_path / "derived.xlsx"
    write_partner_workbook(derived, settlement, derived_region, share)
    bic, bank = region.employer.bic, region.employer.bank
    assert bic and bank
    assert Letter(typed).value_after("BIC") == bic
    assert Letter(derived).value_after("BIC") == f"{bic} (aus der IBAN ermittelt)"
    assert Letter(derived).value_after("Kreditinstitut") == f"{bank} (aus der IBAN ermittelt)"


def test_the_letter_carries_the_ledgers_bill_its_number_date_and_due_date(tmp_path):
    """The ledger's bill, not one recomputed from today's input: a number stored when it was
    first written (SPEC § 7), and for a partner that joined an issued region its own date,
    which the trail names beside the region's settlement date."""
    write(example_2024(), tmp_path / "input" / "Abrechnung.xlsx")
    settlement, _ = load_settlement(tmp_path / "input", TODAY)
    region = settlement.regions[0]
    share = region.partner_shares[0]
    stored = replace(letter_bill(2024, region, share), number="ALT-2024-Billerbeck",
                     day=date(2025, 6, 2), due=date(2025, 7, 2))
    path = tmp_path / "Abrechnung_2024_Billerbeck.xlsx"

    write_partner_workbook(path, settlement, region, share, stored)

    bill = Letter(path)
    assert bill.info("Rechnungsnummer") == "ALT-2024-Billerbeck"
    assert bill.info("Datum") == datetime(2025, 6, 2)
    assert bill.value_after("Fällig am") == datetime(2025, 7, 2)
    assert bill.value_after("Verwendungszweck") == \
        "KIM-2024-NORD-01 Rechnung ALT-2024-Billerbeck Eigenanteil Case-Management 2024"
    assert bill.amount("Zu zahlender Betrag") == D("6875.00")
    trail = [c.value for row in bill.values["Berechnung"].iter_rows() for c in row]
    assert "Datum der Abrechnung" in trail and datetime(2025, 6, 2) in trail
    assert bill.formulas.properties.created == datetime(2025, 6, 2)

    write_partner_workbook(tmp_path / "ohne.xlsx", settlement, region, share)
    assert Letter(tmp_path / "ohne.xlsx").info("Rechnungsnummer") == "2024-Billerbeck"


def booked_and_skipped() -> object:
    """The example with a Buchungsstelle, and Region Mitte without any costs (skipped)."""
    form = example_2024()
    form.settings["Buchungsstelle"] = "1.05.01 / 448100"
    form.positions = [p for p in form.positions if p["Anstellungskörperschaft"] != "Dülmen"]
    form.material = [m for m in form.material if m["Anstellungskörperschaft"] != "Dülmen"]
    return form


@pytest.fixture(scope="module")
def booked(tmp_path_factory) -> Path:
    """``kim-excel abrechnen`` on ``booked_and_skipped``: the output folder ``output/2024``."""
    base = tmp_path_factory.mktemp("gebucht")
    write(booked_and_skipped(), base / "input" / "Abrechnung.xlsx")
    done = run_kim("abrechnen", cwd=base)
    assert done.returncode == 0, done.stdout + done.stderr
    return base / "output" / "2024"


def rows_of(ws) -> list[tuple]:
    return [r for r in ws.iter_rows(values_only=True) if any(v not in (None, "") for v in r)]


def test_overview_names_the_regions_skipped_for_lack_of_costs(booked):
    ws = openpyxl.load_workbook(booked / "Uebersicht_2024.xlsx")["Übersicht"]
    assert ws["A3"].value == ("Nicht abgerechnet, weil keine Kosten angegeben sind: "
                              "Region Mitte.")


def test_overview_shows_kassenzeichen_aktenzeichen_and_buchungsstelle(booked):
    ws = openpyxl.load_workbook(booked / "Uebersicht_2024.xlsx")["Übersicht"]
    head = [c.value for c in ws[4]]
    at = {name: head.index(name) for name in ("Vertragspartei", "Kassenzeichen",
                                              "Aktenzeichen", "Buchungsstelle")}
    billerbeck = next(r for r in ws.iter_rows(values_only=True)
                      if r[at["Vertragspartei"]] == "Stadt Billerbeck")
    assert billerbeck[at["Kassenzeichen"]] == "KIM-2024-NORD-01"
    assert billerbeck[at["Aktenzeichen"]] == "50.31-KIM/2024"
    assert billerbeck[at["Buchungsstelle"]] == "1.05.01 / 448100"
    assert head[-1] == "Prüfung (muss 0,00 € sein)"


def test_trail_shows_the_references_and_each_advance_with_its_date(booked):
    """The letter shows the advances' sum; the trail lists every Abschlag (date, amount)
    beside the partner's Kassenzeichen, and the employer's Aktenzeichen and Buchungsstelle."""
    path = booked / "Abrechnung_2024_Nordkirchen.xlsx"
    rows = rows_of(openpyxl.load_workbook(path, data_only=True)["Berechnung"])
    assert ("Aktenzeichen", "50.31-KIM/2024") in [r[:2] for r in rows]
    assert ("Buchungsstelle", "1.05.01 / 448100") in [r[:2] for r in rows]
    assert ("Gemeinde Nordkirchen", "KIM-2024-SUED-02", None, datetime(2024, 7, 15), 5000) in \
        [r[:5] for r in rows]
    assert ("Stadt Olfen", "KIM-2024-SUED-03", None, datetime(2024, 7, 15), 2500) in \
        [r[:5] for r in rows]
    assert ("Summe Abschläge", None, None, None, 7500) in [r[:5] for r in rows]
    assert Letter(path).amount("abzüglich geleistete Abschläge") == D("-5000.00")
