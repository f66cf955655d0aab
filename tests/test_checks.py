"""checks.py through the real command: problems all at once, bank details only for the
employer that bills (filled in from the IBAN), the e-invoice seller's details."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from kim_excel.cli.main import main
from kim_excel.core.model import EMPLOYER
from tests.builders import example_2024, per_employer, write

BANK_CELLS = ("IBAN", "BIC", "Kreditinstitut")


def run(tmp_path: Path, *forms) -> tuple[int, str, Path]:
    """Write ``(file name, form)`` pairs into input/ and settle them; exit code, output and
    the output folder (empty when nothing was written)."""
    folder = tmp_path / "input"
    for name, form in forms:
        write(form, folder / name)
    ausgabe = tmp_path / "output"
    result = CliRunner().invoke(main, ["abrechnen", "--eingang", str(folder),
                                       "--ausgabe", str(ausgabe)])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output, ausgabe


def nothing_written(ausgabe: Path) -> bool:
    return not ausgabe.exists() or not any(ausgabe.rglob("*.xlsx"))


def party(form, name: str) -> dict:
    return next(p for p in form.parties if p["Kommune"] == name)


def letter_text(ausgabe: Path, partner: str) -> str:
    book = load_workbook(ausgabe / "2024" / f"Abrechnung_2024_{partner}.xlsx")
    return " ".join(str(v) for ws in book for row in ws.iter_rows(values_only=True)
                    for v in row if v is not None)


def coesfeld_clerk():
    """The blank form with Coesfeld's costs and only Coesfeld's IBAN (no BIC, no bank)."""
    form = per_employer(example_2024(), "Coesfeld")
    for row in form.parties:
        for header in BANK_CELLS:
            row[header] = ""
    party(form, "Coesfeld")["IBAN"] = "DE26401545300000123456"
    return form


def test_an_employer_alone_with_only_its_iban_settles_and_the_letter_shows_its_bank(tmp_path):
    code, output, ausgabe = run(tmp_path, ("Nord.xlsx", coesfeld_clerk()))
    assert code == 0, output
    assert "IBAN fehlt" not in output
    text = letter_text(ausgabe, "Billerbeck")
    assert "DE26" in text.replace(" ", "")
    assert "WELADE3WXXX" in text and "Sparkasse Westmünsterland" in text


def test_the_employer_that_bills_needs_its_iban_and_nobody_else(tmp_path):
    form = coesfeld_clerk()
    party(form, "Coesfeld")["IBAN"] = ""
    code, output, ausgabe = run(tmp_path, ("Nord.xlsx", form))
    assert code == 1
    assert ("Nord.xlsx: Vertragsparteien!K2: IBAN fehlt für die Anstellungskörperschaft "
            "Coesfeld: sie steht auf jeder Abrechnung als Zahlungsverbindung.") in output
    assert output.count("fehlt für die Anstellungskörperschaft") == 1  # not Dülmen, Ascheberg
    assert nothing_written(ausgabe)


def test_structural_and_cell_problems_are_reported_in_one_run(tmp_path):
    form = coesfeld_clerk()
    party(form, "Billerbeck")["Rolle"] = EMPLOYER  # two active employers in Nord
    party(form, "Olfen")["IBAN"] = "DE00 1234"  # a bad cell elsewhere
    form.positions[0]["Personalkosten"] = "abc"  # and one in the costs
    form.hours = [{"Kommune": "Lüdinghausen", "Stunden": Decimal(10)}]  # part of Süd only
    form.settings["Umsatzsteuersatz"] = "viel"  # and a setting
    code, output, ausgabe = run(tmp_path, ("Nord.xlsx", form))
    assert code == 1
    assert "Vertragsparteien!D3: Region Nord hat 2024 mehrere Anstellungskörperschaften " \
           "(Coesfeld, Billerbeck); erlaubt ist genau eine." in output
    assert "Vertragsparteien!K11: „DE00 1234“ ist keine gültige IBAN" in output
    assert "Personalkosten!E2: „abc“ ist kein Betrag" in output
    assert "Einstellungen!B5: „viel“ ist keine Zahl" in output
    assert "Stunden!A2: Region Süd: Stunden fehlen für Ascheberg, Nordkirchen, Olfen, " \
           "Senden." in output
    assert nothing_written(ausgabe)


def test_a_party_in_two_regions_of_two_workbooks_comes_with_the_cell_problems(tmp_path):
    nord = coesfeld_clerk()
    mitte = per_employer(example_2024(), "Dülmen")
    party(mitte, "Nottuln")["Region"] = "Nord"
    mitte.material[0]["Betrag"] = "-5"
    code, output, ausgabe = run(tmp_path, ("Mitte.xlsx", mitte), ("Nord.xlsx", nord))
    assert code == 1
    assert "Nord.xlsx: Vertragsparteien!C7: die Vertragsparteien weichen von Mitte.xlsx ab " \
           "(bei Nottuln: Region Nord gegenüber Mitte)" in output
    assert "Mitte.xlsx: Sachkosten!D2: „-5“ ist negativ" in output
    assert nothing_written(ausgabe)


# ------------------------------------------------------------------ e-invoices


def einvoice_form(**settings):
    """Nord with Billerbeck receiving e-invoices, Coesfeld's seller details complete."""
    form = per_employer(example_2024(), "Coesfeld")
    form.settings.update(settings)
    party(form, "Billerbeck")["Leitweg-ID"] = "05558008-0001-57"
    return form


def test_a_partner_with_a_leitweg_id_and_complete_seller_details_settles(tmp_path):
    code, output, _ = run(tmp_path, ("Nord.xlsx", einvoice_form()))
    assert code == 0, output


def test_a_leitweg_id_typo_is_an_input_error_naming_the_cell(tmp_path):
    form = einvoice_form()
    party(form, "Billerbeck")["Leitweg-ID"] = "05558008-0001-75"
    party(form, "Havixbeck")["Leitweg-ID"] = "05558020 0001 00"
    code, output, ausgabe = run(tmp_path, ("Nord.xlsx", form))
    assert code == 1
    assert "Nord.xlsx: Vertragsparteien!Q3: „05558008-0001-75“ ist keine gültige Leitweg-ID " \
           "(die Prüfziffer stimmt nicht" in output
    assert "Nord.xlsx: Vertragsparteien!Q4: „05558020 0001 00“ ist keine gültige " \
           "Leitweg-ID; erwartet:" in output
    assert nothing_written(ausgabe)


def test_the_seller_needs_contact_and_at_0_percent_its_gemeindeschluessel(tmp_path):
    form = einvoice_form()
    coesfeld = party(form, "Coesfeld")
    coesfeld["Ansprechpartner"] = coesfeld["Telefon"] = coesfeld["Gemeindeschlüssel"] = ""
    code, output, ausgabe = run(tmp_path, ("Nord.xlsx", form))
    assert code == 1
    because = "erforderlich für die E-Rechnung (XRechnung) an Billerbeck, die eine Leitweg-ID hat"
    assert f"Nord.xlsx: Vertragsparteien!N2: „Ansprechpartner“ fehlt für die " \
           f"Anstellungskörperschaft Coesfeld; {because}." in output
    assert "Vertragsparteien!O2: „Telefon“ fehlt" in output
    assert f"Vertragsparteien!R2: „Gemeindeschlüssel“ fehlt für die Anstellungskörperschaft " \
           f"Coesfeld; {because} ohne Umsatzsteuer" in output
    assert nothing_written(ausgabe)


def test_above_0_percent_the_seller_needs_a_vat_id_or_tax_number(tmp_path):
    code, output, _ = run(tmp_path, ("Nord.xlsx", einvoice_form(Umsatzsteuersatz=19)))
    assert code == 1
    assert "Nord.xlsx: Vertragsparteien!T2: „USt-IdNr.“ oder „Steuernummer“ fehlt für die " \
           "Anstellungskörperschaft Coesfeld; erforderlich für die E-Rechnung" in output
    form = einvoice_form(Umsatzsteuersatz=19)
    party(form, "Coesfeld")["Steuernummer"] = "311/5701/0123"
    code, output, _ = run(tmp_path / "2", ("Nord.xlsx", form))
    assert code == 0, output


def test_without_leitweg_id_the_seller_needs_nothing_more(tmp_path):
    form = per_employer(example_2024(), "Coesfeld")
    coesfeld = party(form, "Coesfeld")
    coesfeld["Ansprechpartner"] = coesfeld["Telefon"] = coesfeld["Gemeindeschlüssel"] = ""
    form.settings["Umsatzsteuersatz"] = 19
    code, output, _ = run(tmp_path, ("Nord.xlsx", form))
    assert code == 0, output


def test_the_party_says_its_bank_came_from_the_iban(tmp_path):
    from datetime import date

    from kim_excel.commands.settle import load_settlement

    write(coesfeld_clerk(), tmp_path / "Nord.xlsx")
    settlement, _ = load_settlement(tmp_path, date(2025, 1, 10))
    coesfeld = settlement.regions[0].employer
    assert (coesfeld.bic, coesfeld.bank, coesfeld.bank_from_iban) == (
        "WELADE3WXXX", "Sparkasse Westmünsterland", True)
    write(per_employer(example_2024(), "Coesfeld"), tmp_path / "Nord.xlsx")
    settlement, _ = load_settlement(tmp_path, date(2025, 1, 10))
    assert settlement.regions[0].employer.bank_from_iban is False
