"""Electronic invoices: one settlement bill as XRechnung 3.0 (CII syntax), and as ZUGFeRD PDF.

SPEC § 8. :func:`build_xrechnung` turns an :class:`InvoiceData` (plain fields, filled by the
caller from a settlement) into the XML that must pass the official rules (XML schema, EN 16931,
XRechnung Schematron; ``../shared/einvoice/validate.py``). :func:`embed_in_pdf` puts that XML into
a PDF/A-3 letter (ZUGFeRD, profile XRECHNUNG). Both are pure: bytes in, bytes out.

The comments name the EN 16931 business terms (BT-n, BG-n) and the rules that force a choice:

- at 0 % the settlement is outside the scope of VAT: category ``O`` with the VAT note as
  exemption reason (BR-O-10) and code ``VATEX-EU-O``, rate 0 (BR-DE-14), no VAT identifier on
  either side (BR-O-02), so the seller is identified by its Gemeindeschlüssel (BR-CO-26);
- above 0 %: category ``S`` with the rate and the seller's USt-IdNr. or Steuernummer (BR-S-02);
- negative amounts (a refund, a correction that lowers the bill): the item net price may not be
  negative (BR-27), so the line bills the quantity −1 at the positive price; line total, VAT,
  gross and amount due are then negative, which EN 16931 allows (BR-CO-16 only asks
  amount due = gross − prepaid);
- a correction is type 384 and names the invoice it corrects (BT-25, BT-26); its amounts are the
  differences to that invoice.

drafthorse (Apache-2.0, pretix) writes the CII: a complete typed model of the Factur-X/ZUGFeRD
CII whose output is known to pass the XRechnung rules, plus the PDF/A-3 attachment code
(derived from akretion's factur-x) — far less to keep right than hand-built XML.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from kim_excel.core.money import CENT, ZERO

XRECHNUNG_3_0 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"  # BT-23 (PEPPOL-EN16931-R001)
INVOICE = "380"  # BT-3 commercial invoice
CORRECTION = "384"  # BT-3 corrected invoice
SEPA_CREDIT_TRANSFER = "58"  # BT-81
EMAIL_SCHEME = "EM"  # BT-34 electronic address: e-mail
LEITWEG_SCHEME = "0204"  # BT-49 electronic address: Leitweg-ID
# ZUGFeRD 2.x / Factur-X 1.07 § 6.2: the reference profile XRECHNUNG is embedded as
# "xrechnung.xml" (drafthorse 2025.2 still writes "factur-x.xml"; pretix/python-drafthorse#114).
XRECHNUNG_ATTACHMENT = "xrechnung.xml"


@dataclass(frozen=True)
class Seller:
    """The Anstellungskörperschaft that bills (BG-4), with its contact (BG-6) and bank (BG-17)."""

    name: str  # BT-27
    street: str  # BT-35
    postcode: str  # BT-38
    city: str  # BT-37
    contact_name: str  # BT-41 Ansprechpartner (BR-DE-5)
    contact_phone: str  # BT-42 Telefon (BR-DE-6)
    contact_email: str  # BT-43 E-Mail (BR-DE-7)
    electronic_address: str  # BT-34, scheme EM: the employer's E-Mail
    iban: str  # BT-84 (BR-DE-23-a)
    account_name: str  # BT-85
    bic: str | None = None  # BT-86
    gemeindeschluessel: str | None = None  # BT-29: required at 0 % (BR-CO-26)
    vat_id: str | None = None  # BT-31 USt-IdNr., only above 0 % (BR-O-02)
    tax_number: str | None = None  # BT-32 Steuernummer, only above 0 %
    country: str = "DE"  # BT-40


@dataclass(frozen=True)
class Buyer:
    """The Partnerkommune billed (BG-7), addressed by its Leitweg-ID."""

    name: str  # BT-44
    street: str  # BT-50
    postcode: str  # BT-53
    city: str  # BT-52
    leitweg_id: str  # BT-10 buyer reference (BR-DE-15) and BT-49 (scheme 0204)
    country: str = "DE"  # BT-55


@dataclass(frozen=True)
class InvoiceData:
    """Everything one e-invoice says. Amounts are ``Decimal`` in EUR, whole cents.

    For a correction (``type_code`` 384) the amounts are the differences to the corrected
    invoice ``preceding_number`` of ``preceding_date``; they may be negative.
    """

    number: str  # BT-1 Rechnungsnummer
    issue_date: date  # BT-2 Datum der Abrechnung
    year: int  # BG-14 invoicing period 01.01.–31.12. of the Abrechnungsjahr
    seller: Seller
    buyer: Buyer
    line_name: str  # BT-153 the one invoice line: the Eigenanteil share
    vat_rate: Decimal  # fraction: 0 (category O) or e.g. 0.19 (category S)
    vat_note: str  # BT-120 exemption reason at 0 %; a note (BT-22) otherwise, if given
    net: Decimal  # BT-131 = BT-106 = BT-109 = BT-116
    vat: Decimal  # BT-117 = BT-110
    gross: Decimal  # BT-112 = net + vat
    prepaid: Decimal  # BT-113 Abschläge
    amount_due: Decimal  # BT-115 = gross − prepaid; negative: a refund
    due_date: date  # BT-9
    remittance: str  # BT-83 the Verwendungszweck
    line_description: str | None = None  # BT-154
    notes: tuple[str, ...] = ()  # BT-22, e.g. how the share was computed
    contract_reference: str | None = None  # BT-12
    payment_terms: str | None = None  # BT-20; default: payment_terms_text()
    type_code: str = INVOICE  # BT-3: 380, or 384 for a correction
    preceding_number: str | None = None  # BT-25, required for 384
    preceding_date: date | None = None  # BT-26
    currency: str = "EUR"  # BT-5

    def __post_init__(self) -> None:
        problems = invoice_data_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def is_correction(self) -> bool:
        return self.type_code == CORRECTION

    @property
    def vat_category(self) -> str:
        return "O" if self.vat_rate == 0 else "S"  # BT-118


def invoice_data_problems(data: InvoiceData) -> list[str]:
    """What makes ``data`` inconsistent — a bug of the caller, not the user's input."""
    problems = amount_problems(data) or tax_problems(data)
    if data.type_code not in (INVOICE, CORRECTION):
        problems.append(f"type_code must be {INVOICE} or {CORRECTION}, not {data.type_code!r}")
    if data.type_code == CORRECTION and not (data.preceding_number and data.preceding_date):
        problems.append("a correction needs preceding_number and preceding_date")
    return problems


def amount_problems(data: InvoiceData) -> list[str]:
    """Whole cents; gross = net + VAT; amount due = gross − prepaid."""
    problems = []
    for name in ("net", "vat", "gross", "prepaid", "amount_due"):
        value = getattr(data, name)
        if not isinstance(value, Decimal) or value != value.quantize(CENT):
            problems.append(f"{name} must be a Decimal of whole cents, not {value!r}")
    if problems:
        return problems
    if data.gross != data.net + data.vat:
        problems.append(f"gross {data.gross} != net {data.net} + vat {data.vat}")
    if data.amount_due != data.gross - data.prepaid:
        problems.append(f"amount_due {data.amount_due} != gross {data.gross} "
                        f"- prepaid {data.prepaid}")
    return problems


def tax_problems(data: InvoiceData) -> list[str]:
    """Category O at 0 % needs the seller's Gemeindeschlüssel; S needs its tax id."""
    if not isinstance(data.vat_rate, Decimal) or not 0 <= data.vat_rate < 1:
        return [f"vat_rate must be a Decimal fraction in [0, 1), not {data.vat_rate!r}"]
    problems = []
    if data.vat_rate == 0:
        if data.vat != 0:
            problems.append("vat must be 0 at a rate of 0")
        if not data.seller.gemeindeschluessel:
            problems.append("at 0 % the seller needs its Gemeindeschlüssel (BR-CO-26)")
    elif not (data.seller.vat_id or data.seller.tax_number):
        problems.append("above 0 % the seller needs a USt-IdNr. or Steuernummer (BR-S-02)")
    return problems


def payment_terms_text(amount_due: Decimal, due_date: date) -> str:
    """BT-20 when the caller gives none: pay by, or refunded by, the due date."""
    if amount_due < 0:
        return f"Der Betrag wird bis zum {due_date:%d.%m.%Y} erstattet."
    return f"Zahlbar bis zum {due_date:%d.%m.%Y} ohne Abzug."


def build_xrechnung(data: InvoiceData) -> bytes:
    """The XRechnung 3.0 (CII) of ``data``, checked against the Factur-X EN 16931 schema."""
    doc = _document(data)
    xml = doc.serialize(schema=None)
    _factur_x_schema().assertValid(_parse(xml))
    return xml


def _document(data: InvoiceData):
    from drafthorse.models.document import Document
    from drafthorse.models.note import IncludedNote

    doc = Document()
    doc.context.business_parameter.id = PEPPOL_BILLING  # BT-23
    doc.context.guideline_parameter.id = XRECHNUNG_3_0  # BT-24
    doc.header.id = data.number  # BT-1
    doc.header.type_code = data.type_code  # BT-3
    doc.header.issue_date_time = data.issue_date  # BT-2
    for note in data.notes:
        doc.header.notes.add(IncludedNote(content=note))  # BT-22
    if data.vat_category == "S" and data.vat_note:
        doc.header.notes.add(IncludedNote(content=data.vat_note))

    agreement = doc.trade.agreement
    agreement.buyer_reference = data.buyer.leitweg_id  # BT-10 (BR-DE-15)
    if data.contract_reference:
        agreement.contract.issuer_assigned_id = data.contract_reference  # BT-12
    _seller(agreement.seller, data)
    _buyer(agreement.buyer, data.buyer)
    _settlement(doc.trade.settlement, data)
    doc.trade.items.add(_line(data))
    return doc


def _seller(party, data: InvoiceData) -> None:
    from drafthorse.models.party import TaxRegistration

    seller = data.seller
    if seller.gemeindeschluessel:
        party.id = seller.gemeindeschluessel  # BT-29 (BR-CO-26)
    party.name = seller.name  # BT-27
    party.address.line_one = seller.street  # BG-5 (BR-DE-3, BR-DE-4)
    party.address.postcode = seller.postcode
    party.address.city_name = seller.city
    party.address.country_id = seller.country
    party.electronic_address.uri_ID = (EMAIL_SCHEME, seller.electronic_address)  # BT-34
    party.contact.person_name = seller.contact_name  # BG-6 (BR-DE-2)
    party.contact.telephone.number = seller.contact_phone
    party.contact.email.address = seller.contact_email
    if data.vat_category == "O":
        return  # no VAT identifier with category O (BR-O-02)
    if seller.vat_id:
        party.tax_registrations.add(TaxRegistration(id=("VA", seller.vat_id)))  # BT-31
    if seller.tax_number:
        party.tax_registrations.add(TaxRegistration(id=("FC", seller.tax_number)))  # BT-32


def _buyer(party, buyer: Buyer) -> None:
    party.name = buyer.name  # BT-44
    party.address.line_one = buyer.street  # BG-8
    party.address.postcode = buyer.postcode
    party.address.city_name = buyer.city
    party.address.country_id = buyer.country
    party.electronic_address.uri_ID = (LEITWEG_SCHEME, buyer.leitweg_id)  # BT-49


def _settlement(settlement, data: InvoiceData) -> None:
    from drafthorse.models.accounting import ApplicableTradeTax
    from drafthorse.models.payment import PaymentMeans, PaymentTerms

    settlement.currency_code = data.currency  # BT-5
    settlement.payment_reference = data.remittance  # BT-83
    settlement.period.start = date(data.year, 1, 1)  # BG-14
    settlement.period.end = date(data.year, 12, 31)
    if data.is_correction:
        reference = settlement.invoice_referenced_document  # BG-3
        reference.issuer_assigned_id = data.preceding_number  # BT-25
        reference.issue_date_time = data.preceding_date  # BT-26

    means = PaymentMeans(type_code=SEPA_CREDIT_TRANSFER)  # BG-16 (BR-DE-1)
    means.payee_account.iban = data.seller.iban  # BT-84
    means.payee_account.account_name = data.seller.account_name  # BT-85
    if data.seller.bic:
        means.payee_institution.bic = data.seller.bic  # BT-86
    settlement.payment_means.add(means)
    terms = data.payment_terms or payment_terms_text(data.amount_due, data.due_date)
    settlement.terms.add(PaymentTerms(description=terms, due=data.due_date))  # BT-20, BT-9

    tax = ApplicableTradeTax()  # BG-23
    tax.type_code = "VAT"
    tax.basis_amount = _unsigned_zero(data.net)  # BT-116
    tax.calculated_amount = _unsigned_zero(data.vat)  # BT-117
    tax.category_code = data.vat_category  # BT-118
    tax.rate_applicable_percent = _percent(data.vat_rate)  # BT-119 (0 at O: BR-DE-14)
    if data.vat_category == "O":
        tax.exemption_reason = data.vat_note  # BT-120 (BR-O-10)
        tax.exemption_reason_code = "VATEX-EU-O"  # BT-121
    settlement.trade_tax.add(tax)

    total = settlement.monetary_summation  # BG-22
    total.line_total = _unsigned_zero(data.net)  # BT-106
    total.tax_basis_total = _unsigned_zero(data.net)  # BT-109
    total.tax_total = (_unsigned_zero(data.vat), data.currency)  # BT-110
    total.grand_total = _unsigned_zero(data.gross)  # BT-112
    if data.prepaid:
        total.prepaid_total = data.prepaid  # BT-113
    total.due_amount = _unsigned_zero(data.amount_due)  # BT-115 (negative: a refund)


def _line(data: InvoiceData):
    from drafthorse.models.tradelines import LineItem

    line = LineItem()  # BG-25
    line.document.line_id = "1"  # BT-126
    line.product.name = data.line_name  # BT-153
    if data.line_description:
        line.product.description = data.line_description  # BT-154
    # BR-27: the price is never negative; a negative line bills the quantity -1.
    quantity = Decimal(-1) if data.net < 0 else Decimal(1)
    line.agreement.net.amount = abs(data.net)  # BT-146
    line.delivery.billed_quantity = (quantity, "C62")  # BT-129, BT-130 (one unit)
    line.settlement.trade_tax.type_code = "VAT"
    line.settlement.trade_tax.category_code = data.vat_category  # BT-151
    if data.vat_category == "S":
        line.settlement.trade_tax.rate_applicable_percent = _percent(data.vat_rate)  # BT-152
    line.settlement.monetary_summation.total_amount = _unsigned_zero(data.net)  # BT-131
    return line


def _unsigned_zero(amount: Decimal) -> Decimal:
    """``-0.00`` (what ``-1312.50 * 0`` gives) as ``0.00``: BR-O-09 wants a plain zero."""
    return amount.copy_abs() if amount == 0 else amount


def _percent(rate: Decimal) -> Decimal:
    """A fraction as the percent BT-119/BT-152 carry: ``0.19`` → ``19.00``."""
    return (rate * 100).quantize(CENT) if rate else ZERO


def _parse(xml: bytes):
    from lxml import etree

    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))


@cache
def _factur_x_schema():
    """drafthorse's Factur-X 1.0.07 EN 16931 schema, loaded once (not once per invoice)."""
    from pathlib import Path

    import drafthorse
    from lxml import etree

    folder = Path(drafthorse.__file__).parent / "schema"
    return etree.XMLSchema(file=str(folder / "Factur-X_1.0.07_EN16931.xsd"))


def embed_in_pdf(pdf_bytes: bytes, xml_bytes: bytes, lang: str = "de-DE") -> bytes:
    """A ZUGFeRD PDF/A-3 (profile XRECHNUNG): ``pdf_bytes`` with ``xml_bytes`` attached.

    ``pdf_bytes`` should already be PDF/A-3 (LibreOffice's export with ``SelectPdfVersion`` 3);
    drafthorse keeps its pages and output intent and writes the ZUGFeRD XMP metadata
    (``pdfaid:part`` 3, ``fx:ConformanceLevel`` XRECHNUNG). The attachment is then renamed to
    ``xrechnung.xml`` as ZUGFeRD asks for this profile.
    """
    from drafthorse.pdf import attach_xml

    zugferd = attach_xml(pdf_bytes, xml_bytes, level="XRECHNUNG", lang=lang)
    return _rename_attachment(zugferd, "factur-x.xml", XRECHNUNG_ATTACHMENT)


def _rename_attachment(pdf_bytes: bytes, old: str, new: str) -> bytes:
    """Rename the embedded file ``old`` (name tree, file spec and XMP) to ``new``."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, StreamObject, create_string_object

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    root = writer.root_object
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    renamed = 0
    for index in range(0, len(names), 2):
        if names[index] == old:
            names[index] = create_string_object(new)
            spec = names[index + 1].get_object()
            spec[NameObject("/F")] = create_string_object(new)
            spec[NameObject("/UF")] = create_string_object(new)
            renamed += 1
    if renamed != 1:
        raise RuntimeError(f"expected one attachment {old!r} in the ZUGFeRD PDF")
    metadata = root["/Metadata"].get_object()
    xmp = metadata.get_data()
    tag = b"DocumentFileName>"
    if xmp.count(tag + old.encode()) != 1:
        raise RuntimeError("the ZUGFeRD XMP does not name the attachment once")
    assert isinstance(metadata, StreamObject)
    metadata.set_data(xmp.replace(tag + old.encode(), tag + new.encode()))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
