"""The write step of a settlement run (kim_excel/commands/letters.py), through the real command:
corrections as the standard means them (SPEC § 8) — an increase an invoice 380, a decrease a
credit note 381, a change of the VAT rate a storno and a new invoice that the correction letter
explains in words — refunds naming the partner's account, the VAT contained in advances, the
employer's prefix on every number, and the VAT note that fits the year. Every XML goes through
the official rules once (0 errors, 0 warnings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from kim_excel.core.agreement import VAT_NOTE_2B, VAT_NOTE_OLD_RULE
from tests.builders import D, einvoice_example, example_2024, write
from tests.external_tools import errors, validate, zbarimg
from tests.runner import run_kim

pytestmark = pytest.mark.slow  # every case settles, issues and settles again as a process

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
NOTTULN_IBAN = "DE81400501500000654321"  # a valid IBAN, made up


def kim(folder: Path, *args: object) -> str:
    done = run_kim(*args, "--ausgabe", folder / "output", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def settle(folder: Path, forms: dict) -> Path:
    for old in (folder / "input").glob("*.xlsx"):
        old.unlink()
    for name, form in forms.items():
        write(form, folder / "input" / name)
    kim(folder, "abrechnen", "--eingang", folder / "input")
    return folder / "output" / "2024"


def issued_then_changed(folder: Path, region: str, change) -> Path:
    """Settle the e-invoice example, issue ``region``, apply ``change(forms)``, settle."""
    forms = einvoice_example()
    settle(folder, forms)
    kim(folder, "festschreiben", "--jahr", 2024, "--region", region, "--ja")
    change(forms)
    return settle(folder, forms)


def party(forms: dict, name: str) -> list[dict]:
    return [p for form in forms.values() for p in form.parties if p["Kommune"] == name]


def to_zero(forms):
    forms["Dülmen.xlsx"].settings.update({"Umsatzsteuersatz": 0, "Hinweis Umsatzsteuer": ""})
    forms["Dülmen.xlsx"].positions[0]["Personalkosten"] -= D("200.00")


def to_nineteen(forms, extra: str = "1000.00"):
    forms["Ascheberg.xlsx"].settings.update({"Umsatzsteuersatz": 19,
                                             "Hinweis Umsatzsteuer": ""})
    for row in party(forms, "Ascheberg"):
        row["USt-IdNr."] = "DE987654321"
    if Decimal(extra):
        forms["Ascheberg.xlsx"].material.append(
            {"Anstellungskörperschaft": "Ascheberg", "Kostenart": "Technische Ausstattung",
             "Bezeichnung": "Nachberechnung", "Betrag": D(extra)})


def cheaper_nord(forms):
    forms["Coesfeld.xlsx"].positions[0]["Personalkosten"] -= D("2000.00")
    for row in party(forms, "Billerbeck"):
        row["IBAN"] = NOTTULN_IBAN


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, Path]:
    return {
        "19_to_0": issued_then_changed(tmp_path_factory.mktemp("a"), "Mitte", to_zero),
        "0_to_19": issued_then_changed(tmp_path_factory.mktemp("b"), "Süd", to_nineteen),
        "rate_only": issued_then_changed(tmp_path_factory.mktemp("c"), "Süd",
                                         lambda f: to_nineteen(f, "0")),
        "decrease": issued_then_changed(tmp_path_factory.mktemp("d"), "Nord", cheaper_nord),
    }


@pytest.fixture(scope="module")
def verdicts(cases, tmp_path_factory) -> dict[str, dict]:
    """Every XML of every case through the official rules in one call."""
    folder = tmp_path_factory.mktemp("xml")
    files = []
    for case, year_folder in cases.items():
        for xml in sorted(year_folder.glob("*.xml")):
            files.append(folder / f"{case}__{xml.name}")
            files[-1].write_bytes(xml.read_bytes())
    return validate(files)


def xml(path: Path):
    return etree.parse(str(path))


def value(tree, path: str) -> str:
    return tree.xpath(f"string({path})", namespaces=NS)


def letter_texts(path: Path, sheet: str) -> list[str]:
    book = openpyxl.load_workbook(path, data_only=True)[sheet]
    return [str(c.value) for row in book.iter_rows() for c in row if c.value is not None]


def test_every_xml_of_every_case_passes_the_official_rules(verdicts):
    assert len(verdicts) >= 4 * 7
    for name, verdict in verdicts.items():
        assert errors(verdict) == [], name
        assert [m for m in verdict["messages"] if m["level"] == "warning"] == [], name


def test_19_to_0_percent_is_a_storno_and_a_new_bill_and_the_letter_says_so(cases):
    folder = cases["19_to_0"]
    storno, new = xml(folder / "Korrektur_2024_Nottuln_1_Storno.xml"), xml(
        folder / "Korrektur_2024_Nottuln_1.xml")
    assert value(storno, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert value(storno, "//rsm:ExchangedDocument/ram:ID") == "2024-Nottuln-K1-S"
    assert value(storno, "//ram:ApplicableTradeTax/ram:CategoryCode") == "S"
    assert value(new, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert value(new, "//ram:ApplicableTradeTax/ram:CategoryCode") == "O"
    for tree in (storno, new):
        assert value(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == \
            "2024-Nottuln"
    texts = letter_texts(folder / "Korrektur_2024_Nottuln_1.xlsx", "Korrektur")
    words = next(t for t in texts if t.startswith("Weil sich der Umsatzsteuersatz"))
    assert "bisher 19 %, jetzt 0 %" in words
    assert "Gutschrift 2024-Nottuln-K1-S" in words and "Rechnung 2024-Nottuln-K1 über" in words
    assert any(VAT_NOTE_OLD_RULE in t for t in texts)  # the note of the year, not § 2b


def test_0_to_19_percent_and_the_rate_alone_are_corrections_too(cases):
    for case in ("0_to_19", "rate_only"):
        folder = cases[case]
        for name in ("Olfen", "Senden", "Luedinghausen"):
            assert (folder / f"Korrektur_2024_{name}_1.xlsx").is_file(), (case, name)
            assert (folder / f"Korrektur_2024_{name}_1_Storno.xml").is_file(), (case, name)
        new = xml(folder / "Korrektur_2024_Olfen_1.xml")
        assert value(new, "//ram:ApplicableTradeTax/ram:RateApplicablePercent") == "19.00"
    texts = letter_texts(cases["rate_only"] / "Korrektur_2024_Olfen_1.xlsx", "Korrektur")
    assert "Nachzuzahlender Betrag" in texts
    assert any("bisher 0 %, jetzt 19 %" in t for t in texts)


def test_a_decrease_is_a_credit_note_to_the_partners_account(cases):
    folder = cases["decrease"]
    note = xml(folder / "Korrektur_2024_Billerbeck_1.xml")
    assert value(note, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert Decimal(value(note, "//ram:DuePayableAmount")) == D("500.00")  # positive
    assert value(note, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == NOTTULN_IBAN
    havixbeck = xml(folder / "Korrektur_2024_Havixbeck_1.xml")  # no IBAN known: no account
    assert value(havixbeck, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "1"
    assert not havixbeck.xpath("//ram:PayeePartyCreditorFinancialAccount", namespaces=NS)
    texts = letter_texts(folder / "Korrektur_2024_Billerbeck_1.xlsx", "Korrektur")
    assert "Ihr Konto (IBAN)" in texts and "Erstattungsbetrag" in texts
    assert "Empfänger" not in texts  # no employer's account on a refund


def test_a_19_percent_bill_with_advances_shows_the_vat_they_contain(tmp_path):
    forms = einvoice_example()
    forms["Dülmen.xlsx"].advances = [{"Kommune": "Nottuln", "Datum": date(2024, 7, 15),
                                      "Betrag": D("6000.00")}]
    folder = settle(tmp_path, forms)
    texts = letter_texts(folder / "Abrechnung_2024_Nottuln.xlsx", "Abrechnung")
    assert "bereits gezahlt, darin Umsatzsteuer 19 %: 957,98 €" in texts  # 6000 × 19 / 119
    notes = [n for n in xml(folder / "Abrechnung_2024_Nottuln.xml").xpath(
        "//ram:IncludedNote/ram:Content/text()", namespaces=NS)]
    assert any("darin enthaltene Umsatzsteuer 19 %: 957,98 €" in n for n in notes)


def test_the_employers_prefix_is_on_every_number(tmp_path):
    from tests.builders import NO_LEITWEG_ID

    forms = einvoice_example()
    forms["Ascheberg.xlsx"].settings["Präfix Rechnungsnummer"] = "RE-KIM-"
    folder = settle(tmp_path, forms)
    texts = letter_texts(folder / "Abrechnung_2024_Olfen.xlsx", "Abrechnung")
    assert "RE-KIM-2024-Olfen" in texts
    assert any("Rechnung RE-KIM-2024-Olfen Eigenanteil" in t for t in texts)
    assert value(xml(folder / "Abrechnung_2024_Olfen.xml"), "//rsm:ExchangedDocument/ram:ID") \
        == "RE-KIM-2024-Olfen"
    assert "2024-Billerbeck" in letter_texts(folder / "Abrechnung_2024_Billerbeck.xlsx",
                                              "Abrechnung")  # Coesfeld has none
    import zipfile

    with zipfile.ZipFile(folder / "Abrechnung_2024_Olfen.xlsx") as book:
        png = next(n for n in book.namelist() if n.startswith("xl/media/"))
        (tmp_path / "code.png").write_bytes(book.read(png))
    assert "RE-KIM-2024-Olfen" in zbarimg(tmp_path / "code.png").splitlines()[-1]
    kim(tmp_path, "versenden", "--jahr", 2024)
    mail = BytesParser(policy=policy.default).parsebytes(
        (folder / "E-Mails" / "Abrechnung_2024_Olfen.eml").read_bytes())
    assert "Rechnungsnummer RE-KIM-2024-Olfen" in mail.get_body().get_content()
    kim(tmp_path, "festschreiben", "--jahr", 2024, "--region", "Süd", "--ja")
    forms["Ascheberg.xlsx"].positions[0]["Personalkosten"] += D("100.00")
    settle(tmp_path, forms)
    assert "RE-KIM-2024-Olfen-K1" in letter_texts(folder / "Korrektur_2024_Olfen_1.xlsx",
                                                  "Korrektur")
    assert NO_LEITWEG_ID == "Rosendahl"


@pytest.mark.parametrize("year, note", [(2025, VAT_NOTE_OLD_RULE), (2026, VAT_NOTE_OLD_RULE),
                                        (2027, VAT_NOTE_2B)])
def test_an_empty_vat_note_is_the_note_of_the_year(tmp_path, year, note):
    form = example_2024()
    form.settings.update({"Abrechnungsjahr": year, "Datum der Abrechnung": date(year + 1, 3, 2),
                          "Hinweis Umsatzsteuer": None})
    write(form, tmp_path / "input" / "a.xlsx")
    kim(tmp_path, "abrechnen", "--eingang", tmp_path / "input")
    texts = letter_texts(tmp_path / "output" / str(year) / f"Abrechnung_{year}_Olfen.xlsx",
                         "Abrechnung")
    assert note in texts
    assert not any("nicht erhoben" in t for t in texts)
