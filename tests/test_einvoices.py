"""E-invoices and GiroCodes of a real run (SPEC § 5, § 8): the real command on real workbooks.

Two runs of the example as each employer's own workbook, with Leitweg-IDs for every partner
but Rosendahl — one with the Landesförderung, one with it lapsed; Mitte bills 19 % VAT, in
Süd Nordkirchen gets a refund. Every XML of both runs, plus a correction built by the same
adapter, goes through the official validator in ONE call.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from kim_excel.commands.settle import load_settlement
from kim_excel.documents.einvoices import einvoice_attachments, einvoice_lines, invoice_data
from kim_excel.documents.xrechnung import build_xrechnung
from tests.builders import NO_LEITWEG_ID, einvoice_example, example_2024, write
from tests.external_tools import errors, validate, zbarimg
from tests.runner import run_kim

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
SUM = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
TODAY = date(2025, 3, 10)


def settle(folder: Path, forms: dict, *options: str) -> Path:
    """Write the workbooks into ``folder``/input and run ``kim-excel abrechnen`` on them."""
    for name, form in forms.items():
        write(form, folder / "input" / name)
    done = run_kim("abrechnen", "--eingang", folder / "input", "--ausgabe", folder / "output",
                   *options, cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "output" / "2024"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    return {"funded": settle(tmp_path_factory.mktemp("funded"), einvoice_example()),
            "lapsed": settle(tmp_path_factory.mktemp("lapsed"), einvoice_example(lapsed=True))}


@pytest.fixture(scope="module")
def correction(tmp_path_factory) -> Path:
    """A real correction (SPEC § 7, § 8): Süd is issued with `festschreiben`, then a late
    Sachkosten invoice of 1,000 € arrives and `abrechnen` runs again; Olfen's correction
    K1 is type 384 with the differences and names the invoice it corrects."""
    folder = tmp_path_factory.mktemp("correction")
    forms = einvoice_example()
    settle(folder, forms)
    done = run_kim("festschreiben", "--jahr", 2024, "--region", "Süd", "--ausgabe",
                   folder / "output", "--ja", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    forms["Ascheberg.xlsx"].material.append(
        {"Anstellungskörperschaft": "Ascheberg", "Kostenart": "Technische Ausstattung",
         "Bezeichnung": "Nachberechnung Laptop", "Betrag": Decimal("1000.00")})
    out = settle(folder, forms)
    return out / "Korrektur_2024_Olfen_1.xml"


@pytest.fixture(scope="module")
def validated(runs, correction, tmp_path_factory) -> dict[str, dict]:
    """The official validator's verdict on every XML of both runs, from ONE call (the
    validator names results by file name, so the lapsed run's copies get a prefix)."""
    folder = tmp_path_factory.mktemp("lapsed_copies")
    lapsed = []
    for xml in sorted(runs["lapsed"].glob("*.xml")):
        lapsed.append(folder / f"lapsed_{xml.name}")
        lapsed[-1].write_bytes(xml.read_bytes())
    return validate([*sorted(runs["funded"].glob("*.xml")), *lapsed, correction])


@pytest.mark.slow
def test_every_xml_of_the_run_passes_the_official_rules(runs, validated):
    names = sorted(p.name for p in runs["funded"].glob("*.xml"))
    assert names == [f"Abrechnung_2024_{n}.xml" for n in (
        "Billerbeck", "Havixbeck", "Luedinghausen", "Nordkirchen", "Nottuln", "Olfen", "Senden")]
    assert len(validated) == 2 * 7 + 1
    for name, result in validated.items():
        assert errors(result) == [], name
        assert result["valid"] is True, name


def text(tree, path: str) -> str:
    return tree.xpath(path, namespaces=NS)[0].text


def letter_values(path: Path) -> dict[str, str]:
    """Label → value of the letter (info block in B:C, payment details in A:B)."""
    sheet = load_workbook(path, data_only=True)["Abrechnung"]
    values = {}
    for row in sheet.iter_rows(values_only=True):
        for label, value in ((row[1], row[2]), (row[0], row[1])):
            if isinstance(label, str) and value is not None:
                values.setdefault(label, value)
    return values


def booking(folder: Path) -> dict[str, dict[str, str]]:
    text_ = (folder / "Buchungsliste_2024.csv").read_bytes().decode("utf-8-sig")
    return {row["Kommune"]: row for row in csv.DictReader(io.StringIO(text_), delimiter=";")}


def eur(value: str) -> str:
    return value.replace(",", ".")


@pytest.mark.slow
@pytest.mark.parametrize("run", ["funded", "lapsed"])
def test_the_xml_says_what_the_letter_and_the_buchungsliste_say(runs, run):
    folder = runs[run]
    rows = booking(folder)
    leitweg = {p["Kommune"]: p.get("Leitweg-ID") for p in einvoice_example()[
        "Coesfeld.xlsx"].parties}
    for xml in folder.glob("*.xml"):
        tree = etree.parse(str(xml))
        letter = letter_values(xml.with_suffix(".xlsx"))
        partner = next(k for k in rows if xml.stem.endswith(k.replace("ü", "ue")))
        row = rows[partner]
        assert text(tree, "//rsm:ExchangedDocument/ram:ID") == letter["Rechnungsnummer"]
        assert text(tree, "//ram:BuyerReference") == leitweg[partner]
        assert text(tree, SUM + "ram:TaxBasisTotalAmount") == eur(row["Betrag_netto_EUR"])
        assert text(tree, SUM + "ram:TaxTotalAmount") == eur(row["USt_EUR"])
        assert text(tree, SUM + "ram:GrandTotalAmount") == eur(row["Betrag_brutto_EUR"])
        assert text(tree, SUM + "ram:DuePayableAmount") == eur(row["Saldo_EUR"])
        if row["Abschlaege_EUR"] != "0,00":
            assert text(tree, SUM + "ram:TotalPrepaidAmount") == eur(row["Abschlaege_EUR"])
        due = text(tree, "//ram:DueDateDateTime/udt:DateTimeString")
        assert f"{due[6:]}.{due[4:6]}.{due[:4]}" == row["Faellig_am"]
        assert text(tree, "//ram:PaymentReference") == letter["Verwendungszweck"]
        iban = text(tree, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID")
        if "IBAN" in letter:  # a refund letter names the partner's account, not the payee's
            assert iban == letter["IBAN"].replace(" ", "")
        category = text(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
                              "/ram:CategoryCode")
        assert category == ("S" if partner == "Nottuln" else "O")
    nottuln = etree.parse(str(folder / "Abrechnung_2024_Nottuln.xml"))
    assert text(nottuln, "//ram:SellerTradeParty//ram:ID[@schemeID='VA']") == "DE123456789"
    assert text(nottuln, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
                         "/ram:RateApplicablePercent") == "19.00"
    refund = etree.parse(str(folder / "Abrechnung_2024_Nordkirchen.xml"))
    if run == "funded":  # with the subsidy lapsed, its share exceeds the advance
        assert text(refund, SUM + "ram:DuePayableAmount") == "-25417.15"


@pytest.mark.slow
def test_a_correction_is_type_384_with_the_differences(correction, validated):
    """The correction's XML beside its letter: the differences as in the correction's
    Buchungsliste, no advances deducted again, the corrected invoice named."""
    tree = etree.parse(str(correction))
    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "384"
    assert text(tree, "//rsm:ExchangedDocument/ram:ID") == "2024-Olfen-K1"
    assert text(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "2024-Olfen"
    with open(correction.parent / "Buchungsliste_2024_Korrektur_1.csv", encoding="utf-8-sig",
              newline="") as f:
        row = next(r for r in csv.DictReader(f, delimiter=";") if r["Kommune"] == "Olfen")
    assert text(tree, SUM + "ram:TaxBasisTotalAmount") == eur(row["Betrag_netto_EUR"])
    assert text(tree, SUM + "ram:DuePayableAmount") == eur(row["Saldo_EUR"])
    assert row["Saldo_EUR"] == "200,00"  # 1,000 € more in Süd; Olfen: 0.5 of 2.5 VZÄ
    assert text(tree, "//ram:PaymentReference").startswith("KIM-2024-SUED-03 Rechnung "
                                                           "2024-Olfen-K1")
    assert not errors(validated[correction.name])


def girocode_of(letter: Path, tmp_path: Path) -> list[str] | None:
    """The GiroCode's fields as a phone reads them from the letter workbook's image."""
    with zipfile.ZipFile(letter) as archive:
        images = [n for n in archive.namelist() if n.startswith("xl/media/")]
        if not images:
            return None
        assert len(images) == 1
        png = tmp_path / f"{letter.stem}.png"
        png.write_bytes(archive.read(images[0]))
    return zbarimg(png).split("\n")


@pytest.mark.slow
def test_a_decoder_reads_the_letters_girocode_back(runs, tmp_path):
    folder = runs["funded"]
    rows = booking(folder)
    for name, partner in (("Olfen", "Olfen"), ("Nottuln", "Nottuln"),
                          (NO_LEITWEG_ID, NO_LEITWEG_ID), ("Luedinghausen", "Lüdinghausen")):
        letter = folder / f"Abrechnung_2024_{name}.xlsx"
        fields = girocode_of(letter, tmp_path)
        values = letter_values(letter)
        assert fields is not None, name
        assert fields[:4] == ["BCD", "002", "2", "SCT"]
        assert fields[6] == values["IBAN"].replace(" ", "")
        assert fields[7] == "EUR" + eur(rows[partner]["Saldo_EUR"])  # gross − advances
        assert fields[10] == values["Verwendungszweck"]
        assert fields[5] == values["Empfänger"]
    # a refund letter has none
    assert girocode_of(folder / "Abrechnung_2024_Nordkirchen.xlsx", tmp_path) is None


@pytest.mark.slow
def test_without_leitweg_id_no_xml_and_everything_else_as_before(runs, tmp_path):
    plain = settle(tmp_path, {"Beispiel.xlsx": example_2024()})
    assert not list(plain.glob("*.xml"))
    assert "E-Rechnung" not in overview_headers(plain)
    funded = runs["funded"]
    assert not (funded / f"Abrechnung_2024_{NO_LEITWEG_ID}.xml").exists()
    assert (funded / f"Abrechnung_2024_{NO_LEITWEG_ID}.xlsx").is_file()
    assert einvoice_attachments(funded, f"Abrechnung_2024_{NO_LEITWEG_ID}") == []
    assert einvoice_attachments(funded, "Abrechnung_2024_Olfen") == [
        funded / "Abrechnung_2024_Olfen.xml"]


def overview_headers(folder: Path) -> list[str]:
    sheet = load_workbook(folder / "Uebersicht_2024.xlsx", data_only=True)["Übersicht"]
    return [c for c in next(sheet.iter_rows(min_row=4, max_row=4, values_only=True)) if c]


@pytest.mark.slow
def test_the_overview_says_who_got_an_e_invoice_and_why_not(runs):
    """LIESMICH names each XRechnung beside its letter: tests/test_liesmich.py."""
    folder = runs["funded"]
    sheet = load_workbook(folder / "Uebersicht_2024.xlsx", data_only=True)["Übersicht"]
    headers = list(next(sheet.iter_rows(min_row=4, max_row=4, values_only=True)))
    column = headers.index("E-Rechnung")
    party = headers.index("Vertragspartei")
    status = {row[party]: row[column] for row in sheet.iter_rows(min_row=5, values_only=True)
              if row[party]}
    assert status["Gemeinde Rosendahl"] == "keine: keine Leitweg-ID angegeben"
    assert status["Stadt Olfen"].startswith("XRechnung an Leitweg-ID 05558036-0001-")
    assert status["Stadt Coesfeld"] is None  # the employer gets no bill at all


def test_liesmich_lines_without_any_leitweg_id(tmp_path):
    write(example_2024(), tmp_path / "in" / "Beispiel.xlsx")
    settlement, _ = load_settlement(tmp_path / "in", TODAY)
    lines = einvoice_lines(settlement, {})
    assert lines[-1].startswith("Keine E-Rechnung (keine Leitweg-ID angegeben")
    assert "Gemeinde Senden" in lines[-1]


def test_invoice_data_takes_the_settlements_figures(tmp_path):
    for name, form in einvoice_example().items():
        write(form, tmp_path / "in" / name)
    settlement, _ = load_settlement(tmp_path / "in", TODAY)
    region, share = settlement.share_of("Nottuln")
    data = invoice_data(2024, region, share)
    assert (data.number, data.net, data.vat, data.gross, data.amount_due) == (
        "2024-Nottuln", share.net, share.vat, share.gross, share.balance)
    assert data.vat_category == "S" and data.seller.vat_id == "DE123456789"
    assert data.issue_date == region.terms.settlement_date == date(2025, 3, 2)
    assert data.due_date == region.due_date and data.year == 2024
    assert data.buyer.leitweg_id == share.party.leitweg_id
    assert build_xrechnung(data).startswith(b"<?xml")


@pytest.mark.slow
@pytest.mark.libreoffice
def test_with_pdf_the_letter_is_zugferd_and_its_girocode_scans(tmp_path):
    import subprocess

    from pypdf import PdfReader

    folder = settle(tmp_path, einvoice_example(), "--pdf")
    zugferd = sorted(p for p in folder.glob("*.pdf") if p.with_suffix(".xml").exists())
    assert len(zugferd) == 7
    for name, result in validate(zugferd).items():  # checks the embedded XML
        assert errors(result) == [] and result["valid"] is True, name
    olfen = folder / "Abrechnung_2024_Olfen.pdf"
    attached = PdfReader(olfen).attachments
    assert attached["xrechnung.xml"][0] == olfen.with_suffix(".xml").read_bytes()
    assert not PdfReader(folder / f"Abrechnung_2024_{NO_LEITWEG_ID}.pdf").attachments
    assert einvoice_attachments(folder, "Abrechnung_2024_Olfen") == [
        olfen.with_suffix(".xml"), olfen]
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", "-singlefile",
                    str(olfen), str(tmp_path / "page")], check=True, timeout=60)
    fields = zbarimg(tmp_path / "page.png").split("\n")
    values = letter_values(olfen.with_suffix(".xlsx"))
    assert fields[6] == values["IBAN"].replace(" ", "")
    assert fields[7] == "EUR" + eur(booking(folder)["Olfen"]["Saldo_EUR"])
    assert fields[10] == values["Verwendungszweck"]



@pytest.mark.slow
def test_a_partner_that_lost_its_leitweg_id_keeps_no_old_xml(tmp_path):
    folder = settle(tmp_path / "first", einvoice_example())
    assert len(list(folder.glob("*.xml"))) == 7
    for name in einvoice_example():
        (tmp_path / "first" / "input" / name).unlink()
    again = settle(tmp_path / "first", {"Beispiel.xlsx": example_2024()})
    assert again == folder and not list(folder.glob("*.xml"))


@pytest.mark.slow
def test_versenden_attaches_the_xrechnung_to_the_partners_draft(tmp_path):
    """SPEC § 8: `versenden` attaches the XML beside the letter; ASCII names; a partner
    without a Leitweg-ID gets the letter alone."""
    from email import policy
    from email.parser import BytesParser

    folder = settle(tmp_path, einvoice_example())
    done = run_kim("versenden", "--jahr", 2024, "--eingang", tmp_path / "input", "--ausgabe",
                   tmp_path / "output", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    def attachments(stem: str) -> dict[str, bytes]:
        msg = BytesParser(policy=policy.default).parsebytes(
            (folder / "E-Mails" / f"{stem}.eml").read_bytes())
        return {p.get_filename(): p.get_content() for p in msg.iter_attachments()}

    olfen = attachments("Abrechnung_2024_Olfen")
    assert sorted(olfen) == ["Abrechnung_2024_Olfen.xlsx", "Abrechnung_2024_Olfen.xml"]
    assert olfen["Abrechnung_2024_Olfen.xml"] == (folder / "Abrechnung_2024_Olfen.xml"
                                                  ).read_bytes()
    assert sorted(attachments(f"Abrechnung_2024_{NO_LEITWEG_ID}")) == [
        f"Abrechnung_2024_{NO_LEITWEG_ID}.xlsx"]
