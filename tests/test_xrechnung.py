"""XRechnung 3.0 (CII) and ZUGFeRD: every scenario passes the OFFICIAL rules with no error.

The official validator (``../shared/einvoice/validate.py``: XML schema, EN 16931, XRechnung
Schematron) loads its rules in about a second, so it runs once for all files of this module
(the fixture ``validated``). The XML is also parsed back to check that it says what was put in.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from kim_excel.documents.pdf import convert, find_soffice
from kim_excel.documents.xrechnung import (
    CORRECTION,
    XRECHNUNG_ATTACHMENT,
    Buyer,
    InvoiceData,
    Seller,
    build_xrechnung,
    embed_in_pdf,
)
from tests.external_tools import errors, require, validate

PDFA3_FILTER = 'pdf:calc_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"3"}}'
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
      "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"}
TAX = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
VAT_NOTE = ("Die Leistung ist nicht steuerbar (§ 2b UStG); es wird keine Umsatzsteuer "
            "berechnet.")

COESFELD = Seller(
    name="Stadt Coesfeld", street="Markt 8", postcode="48653", city="Coesfeld",
    contact_name="Fachbereich Finanzen, Frau Beispiel", contact_phone="+49 2541 939-0",
    contact_email="kim-abrechnung@coesfeld.example",
    electronic_address="rechnung@coesfeld.example", iban="DE26401545300000123456",
    account_name="Stadt Coesfeld", bic="WELADED1MST", gemeindeschluessel="05558012")
HAVIXBECK = Buyer(name="Gemeinde Havixbeck", street="Willi-Richter-Platz 1", postcode="48329",
                  city="Havixbeck", leitweg_id="05558016-0001-35")


def cents(text: str) -> Decimal:
    return Decimal(text)


def invoice(net: str, prepaid: str = "0.00", rate: str = "0", vat: str | None = None,
            seller: Seller = COESFELD, **changes) -> InvoiceData:
    """A settlement bill of Havixbeck; VAT as R8 unless given (a correction's difference)."""
    net_amount, vat_rate = cents(net), Decimal(rate)
    vat_amount = cents(vat) if vat is not None else (net_amount * vat_rate).quantize(
        Decimal("0.01"))
    gross = net_amount + vat_amount
    fields = dict(
        number="2025-003", issue_date=date(2026, 3, 16), year=2025, seller=seller,
        buyer=HAVIXBECK, line_name="Eigenanteil Kommunales Case-Management 2025",
        line_description="Region Nord: Anteil 0,625 von 2,5 VZÄ (25 %)", vat_rate=vat_rate,
        vat_note=VAT_NOTE, net=net_amount, vat=vat_amount, gross=gross,
        prepaid=cents(prepaid), amount_due=gross - cents(prepaid), due_date=date(2026, 4, 15),
        remittance="KIM 2025 Havixbeck 2025-003",
        notes=("Abrechnung des Eigenanteils 2025 gemäß § 2 der Kooperationsvereinbarung.",),
        contract_reference="Kooperationsvereinbarung KIM (2023)")
    fields.update(changes)
    return InvoiceData(**fields)


def correction(net: str, rate: str = "0", vat: str | None = None, **changes) -> InvoiceData:
    return invoice(net, rate=rate, vat=vat, type_code=CORRECTION, number="2025-K1-003",
                   issue_date=date(2026, 6, 2), due_date=date(2026, 7, 2),
                   preceding_number="2025-003", preceding_date=date(2026, 3, 16),
                   remittance="KIM 2025 Havixbeck Korrektur 2025-K1-003", **changes)


WITH_VAT_ID = dataclasses.replace(COESFELD, vat_id="DE123456789")
WITH_TAX_NUMBER = dataclasses.replace(COESFELD, tax_number="201/123/45678", bic=None)

SCENARIOS = {
    "normal_0_percent": invoice("8125.00"),
    "refund_0_percent": invoice("8125.00", prepaid="10000.00"),
    "vat_19_ust_idnr": invoice("8125.00", rate="0.19", seller=WITH_VAT_ID),
    "vat_19_steuernummer_no_bic": invoice("8125.00", rate="0.19", seller=WITH_TAX_NUMBER),
    "vat_19_refund": invoice("8125.00", prepaid="10000.00", rate="0.19", seller=WITH_VAT_ID),
    "prepaid": invoice("8125.00", prepaid="6000.00"),
    "correction_plus": correction("1250.00"),
    "correction_minus": correction("-1312.50"),
    "correction_minus_19": correction("-1312.50", rate="0.19", vat="-249.38",
                                      seller=WITH_VAT_ID),
    "subsidy_lapsed": invoice("170000.00", prepaid="8125.00"),
    "cent": invoice("0.01"),
}


@pytest.fixture(scope="module")
def zugferd_pdf(tmp_path_factory) -> tuple[Path, Path]:
    """(LibreOffice's PDF/A-3 of a tiny workbook, that PDF with the XRechnung embedded)."""
    import xlsxwriter

    folder = tmp_path_factory.mktemp("zugferd")
    require(find_soffice() is not None, "LibreOffice (soffice) not installed")
    workbook = xlsxwriter.Workbook(folder / "letter.xlsx")
    workbook.add_worksheet("Abrechnung").write("A1", "Abrechnung 2025 – Gemeinde Havixbeck")
    workbook.close()
    code, output = convert([folder / "letter.xlsx"], folder, PDFA3_FILTER, timeout=180)
    assert code == 0 and (folder / "letter.pdf").is_file(), output
    letter = folder / "letter.pdf"
    zugferd = folder / "zugferd.pdf"
    zugferd.write_bytes(embed_in_pdf(letter.read_bytes(),
                                     build_xrechnung(SCENARIOS["prepaid"])))
    return letter, zugferd


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("xrechnung")
    paths = {}
    for name, data in SCENARIOS.items():
        paths[name] = folder / f"{name}.xml"
        paths[name].write_bytes(build_xrechnung(data))
    return paths


@pytest.fixture(scope="module")
def validated(written, zugferd_pdf) -> dict[str, dict]:
    """The official validator's verdict on every file, from ONE call."""
    return validate([*written.values(), zugferd_pdf[1]])


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_passes_the_official_rules(validated, name):
    result = validated[f"{name}.xml"]
    assert result["checks"] == ["xsd", "en16931", "xrechnung"]
    assert errors(result) == []
    assert result["valid"] is True


@pytest.mark.slow
def test_the_validator_does_catch_a_broken_invoice(written, tmp_path):
    """The check can fail: the same invoice with an amount due that does not add up."""
    broken = tmp_path / "broken.xml"
    text = written["prepaid"].read_text(encoding="utf-8")
    assert text.count("<ram:DuePayableAmount>2125.00<") == 1
    broken.write_text(text.replace("<ram:DuePayableAmount>2125.00<",
                                   "<ram:DuePayableAmount>2125.01<"), encoding="utf-8")
    result = validate([broken])["broken.xml"]
    assert any(message.startswith("BR-CO-16") for message in errors(result))


def one(tree, path: str) -> str:
    found = tree.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, found)
    return found[0] if isinstance(found[0], str) else found[0].text


def amount(tree, name: str) -> Decimal:
    return Decimal(one(tree, f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_xml_says_what_was_put_in(written, name):
    data = SCENARIOS[name]
    tree = etree.parse(str(written[name]))
    assert one(tree, "//rsm:ExchangedDocument/ram:ID") == data.number
    assert one(tree, "//rsm:ExchangedDocument/ram:TypeCode") == data.type_code
    assert one(tree, "//rsm:ExchangedDocument//udt:DateTimeString") == (
        f"{data.issue_date:%Y%m%d}")
    assert one(tree, "//ram:BuyerReference") == data.buyer.leitweg_id
    assert one(tree, "//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID") == (
        data.buyer.leitweg_id)
    assert one(tree, "//ram:BuyerTradeParty//ram:URIID/@schemeID") == "0204"
    assert one(tree, "//ram:PaymentReference") == data.remittance
    assert one(tree, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == data.seller.iban
    assert one(tree, "//ram:SpecifiedTradePaymentTerms//udt:DateTimeString") == (
        f"{data.due_date:%Y%m%d}")
    assert one(tree, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert one(tree, "//ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == (
        "20250101")
    assert one(tree, "//ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString") == (
        "20251231")
    assert amount(tree, "LineTotalAmount") == data.net
    assert amount(tree, "TaxBasisTotalAmount") == data.net
    assert amount(tree, "TaxTotalAmount") == data.vat
    assert amount(tree, "GrandTotalAmount") == data.gross
    assert amount(tree, "DuePayableAmount") == data.amount_due
    prepaid = tree.xpath("//ram:TotalPrepaidAmount", namespaces=NS)
    assert [Decimal(p.text) for p in prepaid] == ([data.prepaid] if data.prepaid else [])
    assert Decimal(one(tree, TAX + "/ram:CalculatedAmount")) == data.vat
    line_total = one(tree, "//ram:SpecifiedLineTradeSettlement//ram:LineTotalAmount")
    assert Decimal(line_total) == data.net
    price = Decimal(one(tree, "//ram:NetPriceProductTradePrice/ram:ChargeAmount"))
    quantity = Decimal(one(tree, "//ram:BilledQuantity"))
    assert price >= 0 and price * quantity == data.net  # BR-27: no negative price
    for value in (data.net, data.vat, data.gross, data.prepaid, data.amount_due):
        assert value == value.quantize(Decimal("0.01"))


def test_amounts_are_written_in_cents(written):
    tree = etree.parse(str(written["vat_19_ust_idnr"]))
    assert one(tree, "//ram:GrandTotalAmount") == "9668.75"
    assert one(tree, "//ram:TaxTotalAmount") == "1543.75"
    assert one(tree, "//ram:TaxTotalAmount/@currencyID") == "EUR"
    assert one(tree, TAX + "/ram:RateApplicablePercent") == "19.00"


def test_refund_has_a_negative_amount_due(written):
    tree = etree.parse(str(written["refund_0_percent"]))
    assert amount(tree, "DuePayableAmount") == Decimal("-1875.00")
    terms = one(tree, "//ram:SpecifiedTradePaymentTerms/ram:Description")
    assert terms == "Der Betrag wird bis zum 15.04.2026 erstattet."


def test_zero_percent_is_category_o_without_vat_ids(written):
    tree = etree.parse(str(written["normal_0_percent"]))
    assert one(tree, TAX + "/ram:CategoryCode") == "O"
    assert one(tree, TAX + "/ram:ExemptionReasonCode") == "VATEX-EU-O"
    assert one(tree, TAX + "/ram:ExemptionReason") == VAT_NOTE
    assert tree.xpath("//ram:SpecifiedTaxRegistration", namespaces=NS) == []
    assert one(tree, "//ram:SellerTradeParty/ram:ID") == "05558012"
    address = "//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID"
    assert one(tree, address) == "rechnung@coesfeld.example"
    assert one(tree, address + "/@schemeID") == "EM"


def test_vat_rate_gives_category_s_with_the_sellers_tax_id(written):
    vat_id = etree.parse(str(written["vat_19_ust_idnr"]))
    assert one(vat_id, TAX + "/ram:CategoryCode") == "S"
    assert one(vat_id, "//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE123456789"
    tax_number = etree.parse(str(written["vat_19_steuernummer_no_bic"]))
    assert one(tax_number, "//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == (
        "201/123/45678")
    assert tax_number.xpath("//ram:BICID", namespaces=NS) == []
    assert one(vat_id, "//ram:BICID") == "WELADED1MST"


def test_correction_names_the_corrected_invoice(written):
    tree = etree.parse(str(written["correction_minus"]))
    assert one(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "384"
    assert one(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "2025-003"
    assert one(tree, "//ram:InvoiceReferencedDocument//qdt:DateTimeString") == "20260316"
    assert one(tree, "//ram:BilledQuantity") == "-1"
    assert amount(tree, "DuePayableAmount") == Decimal("-1312.50")


@pytest.mark.parametrize(("changes", "message"), [
    ({"gross": Decimal("8125.01")}, "gross 8125.01 != net 8125.00 + vat 0.00"),
    ({"amount_due": Decimal("8000.00")}, "amount_due 8000.00 != gross 8125.00 - prepaid 0.00"),
    ({"net": Decimal("8125.001")}, "net must be a Decimal of whole cents"),
    ({"net": 8125.0}, "net must be a Decimal of whole cents"),
    ({"vat_rate": Decimal(19)}, "vat_rate must be a Decimal fraction"),
    ({"seller": dataclasses.replace(COESFELD, gemeindeschluessel=None)},
     "at 0 % the seller needs its Gemeindeschlüssel"),
    ({"type_code": "384"}, "a correction needs preceding_number and preceding_date"),
    ({"type_code": "381"}, "type_code must be 380 or 384"),
])
def test_inconsistent_data_is_refused(changes, message):
    with pytest.raises(ValueError, match=message.replace("+", r"\+").replace("(", r"\(")):
        dataclasses.replace(SCENARIOS["normal_0_percent"], **changes)


def test_vat_without_tax_id_is_refused():
    with pytest.raises(ValueError, match="USt-IdNr. or Steuernummer"):
        invoice("100.00", rate="0.19")


def test_zugferd_pdf_embeds_a_valid_xrechnung_as_pdfa3(validated, zugferd_pdf):
    from pypdf import PdfReader

    letter, zugferd = zugferd_pdf
    assert errors(validated[zugferd.name]) == []
    assert validated[zugferd.name]["valid"] is True
    assert b"<pdfaid:part>3</pdfaid:part>" in metadata(PdfReader(letter))  # LibreOffice's
    reader = PdfReader(zugferd)
    xmp = metadata(reader)
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp
    assert b"<fx:ConformanceLevel>XRECHNUNG</fx:ConformanceLevel>" in xmp
    assert f"<fx:DocumentFileName>{XRECHNUNG_ATTACHMENT}<".encode() in xmp
    assert list(reader.attachments) == [XRECHNUNG_ATTACHMENT]
    assert reader.attachments[XRECHNUNG_ATTACHMENT][0] == build_xrechnung(SCENARIOS["prepaid"])
    assert "/OutputIntents" in reader.trailer["/Root"]  # the PDF/A colour profile is kept
    assert len(reader.pages) == len(PdfReader(letter).pages)


def metadata(reader) -> bytes:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data()
