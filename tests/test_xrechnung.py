"""XRechnung 3.0 (CII) and the ZUGFeRD PDF: every document passes the OFFICIAL rules with no
error AND no warning.

The official validator (``../shared/einvoice/validate.py``: XML schema, EN 16931, XRechnung
Schematron) loads its rules in about a second, so it runs ONCE for all files of this module
(the fixture ``validated``), the ZUGFeRD PDF included. The XML is parsed back (lxml, XPath
with the CII namespaces) to check that it says what was put in.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from kim_excel.documents.pdf import convert, find_soffice
from kim_excel.documents.xrechnung import (
    CREDIT_NOTE,
    NOT_DEFINED,
    SEPA_CREDIT_TRANSFER,
    Account,
    Attachment,
    Buyer,
    InvoiceData,
    Payment,
    Seller,
    add_attachment,
    build_xrechnung,
    invoice_number_of,
    remove_attachments,
)
from kim_excel.documents.zugferd import (
    XRECHNUNG_ATTACHMENT,
    ZUGFERD_KEYWORDS,
    embed_in_pdf,
    xmp_date,
)
from tests.external_tools import errors, require, validate

PDFA3_FILTER = 'pdf:calc_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"3"}}'
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
      "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"}
XMP = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
       "dc": "http://purl.org/dc/elements/1.1/", "pdf": "http://ns.adobe.com/pdf/1.3/",
       "xmp": "http://ns.adobe.com/xap/1.0/", "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
       "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
       "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
       "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"}
TAX = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
MEANS = "//ram:SpecifiedTradeSettlementPaymentMeans"
VAT_NOTE = ("Die Leistung ist nicht steuerbar (§ 2b UStG); es wird keine Umsatzsteuer "
            "berechnet.")
AGREEMENT = "Kooperationsvereinbarung Kommunales Case-Management (Test)"

COESFELD = Seller(
    name="Stadt Coesfeld", street="Markt 8", postcode="48653", city="Coesfeld",
    contact_name="Fachbereich Finanzen, Frau Beispiel", contact_phone="+49 2541 939-0",
    contact_email="kim-abrechnung@coesfeld.example",
    electronic_address="rechnung@coesfeld.example", gemeindeschluessel="05558012")
HAVIXBECK = Buyer(name="Gemeinde Havixbeck", street="Willi-Richter-Platz 1", postcode="48329",
                  city="Havixbeck", leitweg_id="05558016-0001-35", identifier="05558020")
EMPLOYER_ACCOUNT = Account("DE26401545300000123456", "Stadt Coesfeld", "WELADED1MST")
PARTNER_ACCOUNT = Account("DE81400501500000654321", "Gemeinde Havixbeck")
TO_EMPLOYER = Payment(SEPA_CREDIT_TRANSFER, EMPLOYER_ACCOUNT, "SEPA-Überweisung")
TO_PARTNER = Payment(SEPA_CREDIT_TRANSFER, PARTNER_ACCOUNT, "SEPA-Überweisung")
NO_ACCOUNT = Payment(NOT_DEFINED, text="Überweisung an Gemeinde Havixbeck")
LETTER_PDF = b"%PDF-1.6\n% a letter, for the attachment only\n%%EOF\n"


def invoice(net: str, prepaid: str = "0.00", rate: str = "0", seller: Seller = COESFELD,
            payment: Payment = TO_EMPLOYER, **changes) -> InvoiceData:
    """A settlement bill of Havixbeck with VAT as R8."""
    net_amount, vat_rate = Decimal(net), Decimal(rate)
    vat = (net_amount * vat_rate).quantize(Decimal("0.01"))
    gross = net_amount + vat
    fields = dict(
        number="2025-003", issue_date=date(2026, 3, 16), type_code="380", year=2025,
        seller=seller, buyer=HAVIXBECK, line_name="Eigenanteil Kommunales Case-Management 2025",
        line_description="Region Nord: Anteil 0,625 von 2,5 VZÄ (25 %)", vat_rate=vat_rate,
        vat_note=VAT_NOTE, net=net_amount, vat=vat, gross=gross, prepaid=Decimal(prepaid),
        amount_due=gross - Decimal(prepaid), due_date=date(2026, 4, 15), payment=payment,
        payment_terms="Zahlbar bis zum 15.04.2026 ohne Abzug.",
        remittance="KIM 2025 Havixbeck 2025-003",
        notes=("Abrechnung des Eigenanteils 2025 gemäß § 2 der Kooperationsvereinbarung.",),
        contract_reference=AGREEMENT)
    fields.update(changes)
    return InvoiceData(**fields)


def credit_note(net: str, rate: str = "0", prepaid: str = "0.00", **changes) -> InvoiceData:
    """A correction that lowers the bill: a credit note with POSITIVE amounts."""
    return invoice(net, rate=rate, prepaid=prepaid, type_code=CREDIT_NOTE, number="2025-K1-003",
                   issue_date=date(2026, 6, 2), due_date=date(2026, 7, 2),
                   preceding_number="2025-003", preceding_date=date(2026, 3, 16),
                   payment=changes.pop("payment", TO_PARTNER),
                   payment_terms="Der Betrag wird Ihnen bis zum 02.07.2026 erstattet.",
                   remittance="KIM 2025 Havixbeck Korrektur 2025-K1-003", **changes)


WITH_VAT_ID = dataclasses.replace(COESFELD, vat_id="DE123456789")
WITH_TAX_NUMBER = dataclasses.replace(COESFELD, tax_number="201/123/45678")
NO_BUYER_ID = dataclasses.replace(HAVIXBECK, identifier=None)
LETTER = Attachment("Abrechnung_2025_Havixbeck.pdf", LETTER_PDF, "Anschreiben (PDF)", "2025-003")

SCENARIOS = {
    "normal_0_percent": invoice("8125.00"),
    "prepaid": invoice("8125.00", prepaid="6000.00"),
    "refund_to_partner_account": invoice("8125.00", prepaid="10000.00", payment=TO_PARTNER),
    "refund_without_partner_iban": invoice("8125.00", prepaid="10000.00", payment=NO_ACCOUNT),
    "zero_balance": invoice("8125.00", prepaid="8125.00",
                            payment=Payment(NOT_DEFINED, text="Keine Zahlung"),
                            payment_terms="Es ist nichts zu zahlen."),
    "vat_19_ust_idnr": invoice("8125.00", rate="0.19", seller=WITH_VAT_ID),
    "vat_19_steuernummer": invoice("8125.00", rate="0.19", seller=WITH_TAX_NUMBER,
                                   payment=dataclasses.replace(TO_EMPLOYER, account=dataclasses
                                                               .replace(EMPLOYER_ACCOUNT,
                                                                        bic=None))),
    "vat_19_with_advances": invoice(
        "8125.00", prepaid="6000.00", rate="0.19", seller=WITH_VAT_ID,
        notes=("Abzüglich geleisteter Abschläge: 6.000,00 €, darin enthaltene Umsatzsteuer "
               "19 %: 957,98 € (Entgelt 5.042,02 €); § 14 Abs. 5 Satz 2 UStG.",)),
    "correction_380": invoice("1250.00", number="2025-K1-003", preceding_number="2025-003",
                              preceding_date=date(2026, 3, 16)),
    "credit_note_381": credit_note("1312.50"),
    "credit_note_381_19": credit_note("1312.50", rate="0.19", seller=WITH_VAT_ID),
    "credit_note_negative_prepaid": credit_note("100.00", prepaid="-50.00"),
    "storno_with_advances": credit_note("8125.00", prepaid="6000.00"),
    "with_letter_attached": invoice("8125.00", attachments=(LETTER,)),
    "no_buyer_identifier": invoice("8125.00", buyer=NO_BUYER_ID),
    "subsidy_lapsed": invoice("170000.00", prepaid="8125.00"),
    "cent": invoice("0.01"),
    "zero_bill": invoice("0.00", payment=Payment(NOT_DEFINED, text="Keine Zahlung"),
                         payment_terms="Es ist nichts zu zahlen."),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("xrechnung")
    paths = {}
    for name, data in SCENARIOS.items():
        paths[name] = folder / f"{name}.xml"
        paths[name].write_bytes(build_xrechnung(data))
    attached = add_attachment(build_xrechnung(SCENARIOS["prepaid"]), LETTER)
    paths["attachment_added"] = folder / "attachment_added.xml"
    paths["attachment_added"].write_bytes(attached)
    return paths


@pytest.fixture(scope="module")
def zugferd_pdf(tmp_path_factory) -> tuple[Path, Path] | None:
    """(LibreOffice's PDF/A-3 of a tiny letter, that PDF with the XRechnung embedded), or
    None without LibreOffice (the PDF tests are then skipped, the XML tests still run)."""
    import xlsxwriter  # only here: writing a workbook is not what this module tests

    if find_soffice() is None:
        return None
    folder = tmp_path_factory.mktemp("zugferd")
    workbook = xlsxwriter.Workbook(folder / "letter.xlsx")
    workbook.set_properties({"title": "Abrechnung 2025 – Gemeinde Havixbeck",
                             "author": "Stadt Coesfeld", "subject": "Eigenanteil 2025"})
    workbook.add_worksheet("Abrechnung").write("A1", "Abrechnung 2025 – Gemeinde Havixbeck")
    workbook.close()
    code, output = convert([folder / "letter.xlsx"], folder, PDFA3_FILTER, timeout=180)
    assert code == 0 and (folder / "letter.pdf").is_file(), output
    letter = folder / "letter.pdf"
    zugferd = folder / "zugferd.pdf"
    xml = remove_attachments(build_xrechnung(SCENARIOS["with_letter_attached"]))
    zugferd.write_bytes(embed_in_pdf(letter.read_bytes(), xml,
                                     when=datetime(2026, 3, 16, 9, 30, tzinfo=UTC)))
    return letter, zugferd


@pytest.fixture(scope="module")
def validated(written, zugferd_pdf) -> dict[str, dict]:
    """The official validator's verdict on every file, from ONE call."""
    pdfs = [zugferd_pdf[1]] if zugferd_pdf else []
    return validate([*written.values(), *pdfs])


@pytest.mark.slow
@pytest.mark.parametrize("name", [*SCENARIOS, "attachment_added"])
def test_every_document_passes_the_official_rules_without_a_warning(validated, name):
    result = validated[f"{name}.xml"]
    assert result["checks"] == ["xsd", "en16931", "xrechnung"]
    assert errors(result) == []
    assert [m for m in result["messages"] if m["level"] == "warning"] == []
    assert result["valid"] is True


@pytest.mark.slow
def test_the_validator_does_catch_a_broken_invoice(written, tmp_path):
    """The check can fail: the same invoice with an amount due that does not add up."""
    tree = etree.parse(str(written["prepaid"]))
    due = tree.xpath("//ram:DuePayableAmount", namespaces=NS)[0]
    assert due.text == "2125.00"
    due.text = "2125.01"
    broken = tmp_path / "broken.xml"
    tree.write(str(broken), xml_declaration=True, encoding="utf-8")
    result = validate([broken])["broken.xml"]
    assert any(message.startswith("BR-CO-16") for message in errors(result))


def parsed(path: Path):
    return etree.parse(str(path))


def one(tree, path: str) -> str:
    found = tree.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, found)
    return found[0] if isinstance(found[0], str) else found[0].text


def amount(tree, name: str) -> Decimal:
    return Decimal(one(tree, f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_xml_says_what_was_put_in(written, name):
    data = SCENARIOS[name]
    tree = parsed(written[name])
    assert one(tree, "//rsm:ExchangedDocument/ram:ID") == data.number
    assert one(tree, "//rsm:ExchangedDocument/ram:TypeCode") == data.type_code
    assert one(tree, "//rsm:ExchangedDocument//udt:DateTimeString") == (
        f"{data.issue_date:%Y%m%d}")
    assert one(tree, "//ram:BuyerReference") == data.buyer.leitweg_id
    assert one(tree, "//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID") == (
        data.buyer.leitweg_id)
    assert one(tree, "//ram:BuyerTradeParty//ram:URIID/@schemeID") == "0204"
    assert one(tree, "//ram:PaymentReference") == data.remittance
    assert one(tree, "//ram:SpecifiedTradePaymentTerms/ram:Description") == data.payment_terms
    assert one(tree, "//ram:SpecifiedTradePaymentTerms//udt:DateTimeString") == (
        f"{data.due_date:%Y%m%d}")
    assert one(tree, "//ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == (
        "20250101")
    assert one(tree, "//ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString") == (
        "20251231")
    assert one(tree, "//ram:ContractReferencedDocument/ram:IssuerAssignedID") == AGREEMENT
    assert amount(tree, "LineTotalAmount") == data.net
    assert amount(tree, "TaxBasisTotalAmount") == data.net
    assert amount(tree, "TaxTotalAmount") == data.vat
    assert amount(tree, "GrandTotalAmount") == data.gross
    assert amount(tree, "DuePayableAmount") == data.amount_due
    prepaid = tree.xpath("//ram:TotalPrepaidAmount", namespaces=NS)
    assert [Decimal(p.text) for p in prepaid] == ([data.prepaid] if data.prepaid else [])
    assert Decimal(one(tree, TAX + "/ram:CalculatedAmount")) == data.vat
    notes = [n.text for n in tree.xpath("//ram:IncludedNote/ram:Content", namespaces=NS)]
    assert notes[:len(data.notes)] == list(data.notes)


@pytest.mark.parametrize("name", SCENARIOS)
def test_one_line_of_quantity_one_at_a_price_never_negative(written, name):
    """BR-27 and SPEC § 8: no negative amounts and no quantity −1, also in a credit note."""
    tree = parsed(written[name])
    assert one(tree, "//ram:BilledQuantity") == "1"
    assert one(tree, "//ram:BilledQuantity/@unitCode") == "C62"
    price = Decimal(one(tree, "//ram:NetPriceProductTradePrice/ram:ChargeAmount"))
    assert price == SCENARIOS[name].net >= 0
    for total in ("LineTotalAmount", "TaxBasisTotalAmount", "TaxTotalAmount",
                  "GrandTotalAmount"):
        assert not amount(tree, total).is_signed()


def test_a_credit_note_is_381_with_positive_amounts_naming_the_corrected_invoice(written):
    tree = parsed(written["credit_note_381_19"])
    assert one(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert one(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "2025-003"
    assert one(tree, "//ram:InvoiceReferencedDocument//qdt:DateTimeString") == "20260316"
    assert (amount(tree, "TaxBasisTotalAmount"), amount(tree, "TaxTotalAmount"),
            amount(tree, "GrandTotalAmount"), amount(tree, "DuePayableAmount")) == (
        Decimal("1312.50"), Decimal("249.38"), Decimal("1561.88"), Decimal("1561.88"))
    assert len(tree.xpath("//ram:InvoiceReferencedDocument", namespaces=NS)) == 1


def test_an_invoice_without_preceding_invoice_names_none(written):
    tree = parsed(written["normal_0_percent"])
    assert tree.xpath("//ram:InvoiceReferencedDocument", namespaces=NS) == []


def payment_of(tree) -> tuple[str, str | None, str | None]:
    ibans = tree.xpath(MEANS + "/ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
                       namespaces=NS)
    holder = tree.xpath(MEANS + "//ram:AccountName", namespaces=NS)
    return (one(tree, MEANS + "/ram:TypeCode"), ibans[0].text if ibans else None,
            holder[0].text if holder else None)


def test_payment_names_the_account_that_receives_the_money(written):
    assert payment_of(parsed(written["prepaid"])) == (
        "58", EMPLOYER_ACCOUNT.iban, "Stadt Coesfeld")
    assert payment_of(parsed(written["refund_to_partner_account"])) == (
        "58", PARTNER_ACCOUNT.iban, "Gemeinde Havixbeck")
    assert payment_of(parsed(written["credit_note_381"])) == (
        "58", PARTNER_ACCOUNT.iban, "Gemeinde Havixbeck")
    no_iban = parsed(written["refund_without_partner_iban"])
    assert payment_of(no_iban) == ("1", None, None)
    assert one(no_iban, MEANS + "/ram:Information") == "Überweisung an Gemeinde Havixbeck"
    assert no_iban.xpath("//ram:PayeeSpecifiedCreditorFinancialInstitution", namespaces=NS) == []


def test_zero_balance_moves_no_money_and_says_so(written):
    tree = parsed(written["zero_balance"])
    assert amount(tree, "DuePayableAmount") == 0
    assert one(tree, "//ram:DuePayableAmount") == "0.00"
    assert payment_of(tree) == ("1", None, None)
    assert one(tree, MEANS + "/ram:Information") == "Keine Zahlung"
    assert "Zahlbar" not in one(tree, "//ram:SpecifiedTradePaymentTerms/ram:Description")


def test_refund_has_a_negative_amount_due(written):
    tree = parsed(written["refund_to_partner_account"])
    assert amount(tree, "DuePayableAmount") == Decimal("-1875.00")
    assert amount(tree, "TotalPrepaidAmount") == Decimal("10000.00")


def test_zero_percent_is_category_o_without_vat_ids(written):
    tree = parsed(written["normal_0_percent"])
    assert one(tree, TAX + "/ram:CategoryCode") == "O"
    assert one(tree, TAX + "/ram:ExemptionReasonCode") == "VATEX-EU-O"
    assert one(tree, TAX + "/ram:ExemptionReason") == VAT_NOTE
    assert one(tree, TAX + "/ram:RateApplicablePercent") == "0.00"
    assert tree.xpath("//ram:SpecifiedTaxRegistration", namespaces=NS) == []
    assert one(tree, "//ram:SellerTradeParty/ram:ID") == "05558012"
    address = "//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID"
    assert one(tree, address) == "rechnung@coesfeld.example"
    assert one(tree, address + "/@schemeID") == "EM"


def test_vat_rate_gives_category_s_with_the_sellers_tax_id(written):
    vat_id = parsed(written["vat_19_ust_idnr"])
    assert one(vat_id, TAX + "/ram:CategoryCode") == "S"
    assert one(vat_id, TAX + "/ram:RateApplicablePercent") == "19.00"
    assert one(vat_id, "//ram:GrandTotalAmount") == "9668.75"
    assert one(vat_id, "//ram:TaxTotalAmount/@currencyID") == "EUR"
    assert one(vat_id, "//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE123456789"
    assert one(vat_id, "//ram:BICID") == "WELADED1MST"
    tax_number = parsed(written["vat_19_steuernummer"])
    assert one(tax_number, "//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == (
        "201/123/45678")
    assert tax_number.xpath("//ram:BICID", namespaces=NS) == []


def test_buyer_is_identified_by_its_gemeindeschluessel_where_known(written):
    assert one(parsed(written["normal_0_percent"]), "//ram:BuyerTradeParty/ram:ID") == (
        "05558020")
    assert parsed(written["no_buyer_identifier"]).xpath("//ram:BuyerTradeParty/ram:ID",
                                                        namespaces=NS) == []


SUPPORTING = "//ram:ApplicableHeaderTradeAgreement/ram:AdditionalReferencedDocument"


def supporting(tree) -> list[tuple[str, str, str, str, bytes]]:
    """(BT-122, type code, mime code, file name, content) of every BG-24."""
    import base64

    found = []
    for document in tree.xpath(SUPPORTING, namespaces=NS):
        binary = document.find("ram:AttachmentBinaryObject", NS)
        found.append((document.findtext("ram:IssuerAssignedID", namespaces=NS),
                      document.findtext("ram:TypeCode", namespaces=NS), binary.get("mimeCode"),
                      binary.get("filename"), base64.b64decode(binary.text)))
    return found


def test_the_letters_pdf_travels_as_supporting_document(written):
    expected = [("2025-003", "916", "application/pdf", "Abrechnung_2025_Havixbeck.pdf",
                 LETTER_PDF)]
    assert supporting(parsed(written["with_letter_attached"])) == expected
    assert supporting(parsed(written["attachment_added"])) == expected
    assert supporting(parsed(written["normal_0_percent"])) == []


def test_adding_the_attachment_twice_keeps_one_and_removing_gives_the_plain_xml():
    plain = build_xrechnung(SCENARIOS["prepaid"])
    twice = add_attachment(add_attachment(plain, LETTER), LETTER)
    assert len(supporting(etree.fromstring(twice).getroottree())) == 1
    assert supporting(etree.fromstring(remove_attachments(twice)).getroottree()) == []
    assert remove_attachments(plain) == plain
    assert invoice_number_of(twice) == "2025-003"


@pytest.mark.parametrize(("changes", "message"), [
    ({"gross": Decimal("8125.01")}, "gross 8125.01 != net 8125.00 + vat 0.00"),
    ({"amount_due": Decimal("8000.00")}, "amount_due 8000.00 != gross 8125.00 - prepaid 0.00"),
    ({"net": Decimal("8125.001")}, "net must be a Decimal of whole cents"),
    ({"net": 8125.0}, "net must be a Decimal of whole cents"),
    ({"net": Decimal("-8125.00"), "gross": Decimal("-8125.00"),
      "amount_due": Decimal("-8125.00")}, "net must not be negative"),
    ({"vat_rate": Decimal(19)}, "vat_rate must be a Decimal fraction"),
    ({"seller": dataclasses.replace(COESFELD, gemeindeschluessel=None)},
     "at 0 % the seller needs its Gemeindeschlüssel"),
    ({"type_code": "384"}, "type_code must be 380 or 381"),
    ({"preceding_number": "2025-001"}, "preceding_number and preceding_date go together"),
    ({"payment": Payment(SEPA_CREDIT_TRANSFER)}, "payment means 58 needs an account"),
    ({"payment": Payment(NOT_DEFINED, EMPLOYER_ACCOUNT)}, "payment means 1 names no account"),
    ({"payment": Payment("30", EMPLOYER_ACCOUNT)}, "payment means must be 58 or 1"),
])
def test_inconsistent_data_is_refused(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dataclasses.replace(SCENARIOS["normal_0_percent"], **changes)


def test_vat_without_tax_id_is_refused():
    with pytest.raises(ValueError, match="USt-IdNr. or Steuernummer"):
        invoice("100.00", rate="0.19")


def test_xmp_dates_are_the_pdf_dates():
    assert xmp_date("D:20261202180228Z") == "2026-12-02T18:02:28Z"
    assert xmp_date("D:20261202180228Z'") == "2026-12-02T18:02:28Z"
    assert xmp_date("D:20261202180228+01'00'") == "2026-12-02T18:02:28+01:00"
    with pytest.raises(ValueError):
        xmp_date("2026-12-02")


# ------------------------------------------------------------------ ZUGFeRD PDF


def need_pdf(zugferd_pdf):
    require(zugferd_pdf is not None, "LibreOffice (soffice) not installed")
    return zugferd_pdf


def xmp_of(reader):
    stream = reader.trailer["/Root"]["/Metadata"].get_object()
    assert "/Filter" not in stream  # PDF/A: the XMP stream is not compressed
    return etree.fromstring(stream.get_data().strip())


def xmp_text(xmp, path: str) -> str | None:
    found = xmp.xpath(path, namespaces=XMP)
    assert len(found) <= 1, path
    return found[0].text if found else None


@pytest.mark.slow
@pytest.mark.libreoffice
def test_zugferd_pdf_is_pdfa3_with_a_valid_embedded_xrechnung(validated, zugferd_pdf):
    from pypdf import PdfReader  # as the code: only the PDF tests need it

    letter, zugferd = need_pdf(zugferd_pdf)
    result = validated[zugferd.name]  # the validator reads the XML out of the PDF
    assert errors(result) == [] and result["valid"] is True
    assert [m for m in result["messages"] if m["level"] == "warning"] == []
    assert zugferd.read_bytes()[:9] == letter.read_bytes()[:9] == b"%PDF-1.6\n"
    assert re.match(rb"%PDF-1\.[4-7]\n%[\x80-\xff]{4}", zugferd.read_bytes())  # binary line
    reader = PdfReader(zugferd)
    xmp = xmp_of(reader)
    assert xmp_text(xmp, "//pdfaid:part") == "3"
    assert xmp_text(xmp, "//pdfaid:conformance") == "B"
    assert xmp_text(xmp, "//fx:DocumentFileName") == XRECHNUNG_ATTACHMENT
    assert xmp_text(xmp, "//fx:DocumentType") == "INVOICE"
    assert xmp_text(xmp, "//fx:Version") == "1.0"
    assert xmp_text(xmp, "//fx:ConformanceLevel") == "XRECHNUNG"
    schema = xmp.xpath("//rdf:li[pdfaSchema:prefix='fx']", namespaces=XMP)
    assert len(schema) == 1  # PDF/A: the fx properties are described in the XMP itself
    assert schema[0].xpath(".//pdfaProperty:name/text()", namespaces=XMP) == [
        "DocumentFileName", "DocumentType", "Version", "ConformanceLevel"]
    root = reader.trailer["/Root"]
    assert "/OutputIntents" in root  # the PDF/A colour profile is kept
    assert len(reader.pages) == len(PdfReader(letter).pages)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_zugferd_pdf_embeds_xrechnung_xml_as_alternative_without_the_pdf_inside(zugferd_pdf):
    from pypdf import PdfReader  # see above

    _, zugferd = need_pdf(zugferd_pdf)
    reader = PdfReader(zugferd)
    assert list(reader.attachments) == [XRECHNUNG_ATTACHMENT]
    embedded = reader.attachments[XRECHNUNG_ATTACHMENT][0]
    assert embedded == remove_attachments(build_xrechnung(SCENARIOS["with_letter_attached"]))
    assert supporting(etree.fromstring(embedded).getroottree()) == []  # no BG-24 inside
    root = reader.trailer["/Root"]
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = names[1].get_object()
    assert names[0] == spec["/F"] == spec["/UF"] == XRECHNUNG_ATTACHMENT
    assert spec["/AFRelationship"] == "/Alternative"
    assert [a.get_object() for a in root["/AF"]] == [spec]
    stream = spec["/EF"]["/F"].get_object()
    assert spec["/EF"]["/UF"].get_object() is stream
    assert stream["/Subtype"] == "/text/xml"
    assert stream["/Params"]["/ModDate"] == "D:20260316093000Z"
    assert stream["/Params"]["/Size"] == len(embedded)
    assert b"/Subtype /text#2Fxml" in zugferd.read_bytes()


@pytest.mark.slow
@pytest.mark.libreoffice
def test_zugferd_pdf_document_info_and_xmp_agree(zugferd_pdf):
    from pypdf import PdfReader  # see above

    letter, zugferd = need_pdf(zugferd_pdf)
    info = PdfReader(zugferd).metadata
    xmp = xmp_of(PdfReader(zugferd))
    assert info["/Title"] == xmp_text(xmp, "//dc:title/rdf:Alt/rdf:li") == (
        "Abrechnung 2025 – Gemeinde Havixbeck")
    assert info["/Author"] == xmp_text(xmp, "//dc:creator/rdf:Seq/rdf:li") == "Stadt Coesfeld"
    assert info["/Subject"] == xmp_text(xmp, "//dc:description/rdf:Alt/rdf:li")
    assert info["/Keywords"] == xmp_text(xmp, "//pdf:Keywords") == ZUGFERD_KEYWORDS
    assert info["/Producer"] == xmp_text(xmp, "//pdf:Producer")
    assert info["/Producer"] == PdfReader(letter).metadata["/Producer"]  # LibreOffice's
    assert info["/Creator"] == xmp_text(xmp, "//xmp:CreatorTool")
    assert xmp_date(info["/CreationDate"]) == xmp_text(xmp, "//xmp:CreateDate")
    assert xmp_date(PdfReader(letter).metadata["/CreationDate"]) == xmp_text(
        xmp, "//xmp:CreateDate")  # the letter's own creation time is kept
    assert info["/ModDate"] == "D:20260316093000Z"
    assert xmp_text(xmp, "//xmp:ModifyDate") == "2026-03-16T09:30:00Z"
