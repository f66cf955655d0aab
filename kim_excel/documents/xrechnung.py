"""Electronic invoices: one bill as XRechnung 3.0 (CII syntax), and as ZUGFeRD PDF.

SPEC § 8. :func:`build_xrechnung` turns an :class:`InvoiceData` (plain fields, filled by
``einvoices.py`` from a settlement) into the XML that must pass the official rules (XML schema,
EN 16931, XRechnung Schematron; ``../shared/einvoice/validate.py``) with no error and no
warning; :func:`add_attachment` adds a supporting document to such an XML. Pure: data in,
bytes out. This is the only module that knows CII; ``zugferd.py`` puts the XML into a PDF.

The comments name the EN 16931 business terms (BT-n, BG-n) and the rules that force a choice:

- a document is an invoice ``380`` or a credit note ``381``; its net, VAT and gross are never
  negative (a negative bill is a credit note with positive amounts), so the one line always
  bills the quantity 1 at a price that is never negative (BR-27). Only the prepaid amount and
  the amount due carry a sign (BR-CO-16: amount due = gross − prepaid);
- at 0 % the bill is outside the scope of VAT: category ``O`` with the VAT note as exemption
  reason (BR-O-10) and code ``VATEX-EU-O``, rate 0 (BR-DE-14), no VAT identifier on either
  side (BR-O-02), so the seller is identified by its Gemeindeschlüssel (BR-CO-26);
- above 0 %: category ``S`` with the rate and the seller's USt-IdNr. or Steuernummer (BR-S-02);
- one preceding invoice (BG-3): the CII D16B schema that XRechnung validates against allows
  ``InvoiceReferencedDocument`` once in the header (EN 16931 itself allows several);
- the payment instructions (BG-16, required by BR-DE-1) name the account that receives the
  money (:class:`Payment`); with SEPA credit transfer (58) an IBAN is required (BR-DE-23-a).

drafthorse (Apache-2.0, pretix) writes the CII: a typed model of the Factur-X/ZUGFeRD CII whose
output is known to pass the XRechnung rules.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from lxml import etree

from kim_excel.core.money import CENT, ZERO

XRECHNUNG_3_0 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"  # BT-23 (PEPPOL-EN16931-R001)
INVOICE = "380"  # BT-3 commercial invoice (UNTDID 1001)
CREDIT_NOTE = "381"  # BT-3 credit note: positive amounts that the seller owes the buyer
TYPE_CODES = (INVOICE, CREDIT_NOTE)
SEPA_CREDIT_TRANSFER = "58"  # BT-81 (UNTDID 4461): needs an IBAN (BR-DE-23-a)
NOT_DEFINED = "1"  # BT-81 "instrument not defined": names no account
EMAIL_SCHEME = "EM"  # BT-34 electronic address: e-mail
LEITWEG_SCHEME = "0204"  # BT-49 electronic address: Leitweg-ID
SUPPORTING_DOCUMENT = "916"  # BG-24 in CII: AdditionalReferencedDocument type "reference paper"
PDF_MIME = "application/pdf"


@dataclass(frozen=True)
class Seller:
    """The Anstellungskörperschaft that bills (BG-4), with its contact (BG-6)."""

    name: str  # BT-27
    street: str  # BT-35
    postcode: str  # BT-38
    city: str  # BT-37
    contact_name: str  # BT-41 Ansprechpartner (BR-DE-5)
    contact_phone: str  # BT-42 Telefon (BR-DE-6)
    contact_email: str  # BT-43 E-Mail (BR-DE-7)
    electronic_address: str  # BT-34, scheme EM: the employer's E-Mail
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
    identifier: str | None = None  # BT-46 the Gemeindeschlüssel, without a scheme
    country: str = "DE"  # BT-55


@dataclass(frozen=True)
class Account:
    """A bank account that receives money (BG-17)."""

    iban: str  # BT-84
    holder: str  # BT-85
    bic: str | None = None  # BT-86


@dataclass(frozen=True)
class Payment:
    """The payment instructions (BG-16): how, and into which account, money moves."""

    means: str  # BT-81: SEPA_CREDIT_TRANSFER or NOT_DEFINED
    account: Account | None = None  # BG-17, required with 58 (BR-DE-23-a), none with 1
    text: str | None = None  # BT-82, e.g. "SEPA-Überweisung"


@dataclass(frozen=True)
class Attachment:
    """A supporting document (BG-24) carried inside the XML, e.g. the letter's PDF."""

    filename: str  # BT-125 filename
    content: bytes  # BT-125
    description: str  # BT-123
    reference: str  # BT-122 (BR-52)
    mime: str = PDF_MIME  # BT-125 mime code (BR-CL-24)


@dataclass(frozen=True)
class InvoiceData:
    """Everything one e-invoice says. Amounts are ``Decimal`` in EUR, whole cents.

    ``net``, ``vat`` and ``gross`` are never negative: an invoice (380) asks for them, a
    credit note (381) grants them. ``prepaid`` and ``amount_due`` are signed in the
    document's own direction: an invoice's negative amount due is paid back to the buyer,
    a credit note's positive amount due is paid to the buyer.
    """

    number: str  # BT-1 Rechnungsnummer
    issue_date: date  # BT-2
    type_code: str  # BT-3: INVOICE or CREDIT_NOTE
    year: int  # BG-14 invoicing period 01.01.–31.12. of the Abrechnungsjahr
    seller: Seller
    buyer: Buyer
    line_name: str  # BT-153 the one invoice line
    vat_rate: Decimal  # fraction: 0 (category O) or e.g. 0.19 (category S)
    vat_note: str  # BT-120 exemption reason at 0 %; a note (BT-22) otherwise, if given
    net: Decimal  # BT-131 = BT-106 = BT-109 = BT-116
    vat: Decimal  # BT-117 = BT-110
    gross: Decimal  # BT-112 = net + vat
    prepaid: Decimal  # BT-113 Abschläge
    amount_due: Decimal  # BT-115 = gross − prepaid
    due_date: date  # BT-9
    payment: Payment  # BG-16
    payment_terms: str  # BT-20
    remittance: str  # BT-83 the Verwendungszweck
    line_description: str | None = None  # BT-154
    notes: tuple[str, ...] = ()  # BT-22
    contract_reference: str | None = None  # BT-12
    preceding_number: str | None = None  # BT-25
    preceding_date: date | None = None  # BT-26
    attachments: tuple[Attachment, ...] = field(default=(), repr=False)  # BG-24
    currency: str = "EUR"  # BT-5

    def __post_init__(self) -> None:
        problems = invoice_data_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def vat_category(self) -> str:
        return "O" if self.vat_rate == 0 else "S"  # BT-118


def invoice_data_problems(data: InvoiceData) -> list[str]:
    """What makes ``data`` inconsistent — a bug of the caller, not the user's input."""
    problems = amount_problems(data) or tax_problems(data)
    problems += payment_problems(data.payment)
    if data.type_code not in TYPE_CODES:
        problems.append(f"type_code must be {INVOICE} or {CREDIT_NOTE}, not {data.type_code!r}")
    if bool(data.preceding_number) != bool(data.preceding_date):
        problems.append("preceding_number and preceding_date go together (BT-25, BT-26)")
    return problems


def amount_problems(data: InvoiceData) -> list[str]:
    """Whole cents; net, VAT, gross never negative; gross = net + VAT; due = gross − prepaid."""
    problems = []
    for name in ("net", "vat", "gross", "prepaid", "amount_due"):
        value = getattr(data, name)
        if not isinstance(value, Decimal) or value != value.quantize(CENT):
            problems.append(f"{name} must be a Decimal of whole cents, not {value!r}")
    if problems:
        return problems
    for name in ("net", "vat", "gross"):
        if getattr(data, name) < 0:
            problems.append(f"{name} must not be negative (a negative bill is a credit note "
                            f"{CREDIT_NOTE} with positive amounts), not {getattr(data, name)}")
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


def payment_problems(payment: Payment) -> list[str]:
    """58 names an IBAN (BR-DE-23-a); 1 names no account."""
    if payment.means == SEPA_CREDIT_TRANSFER:
        return [] if payment.account and payment.account.iban else [
            "payment means 58 needs an account with an IBAN (BR-DE-23-a)"]
    if payment.means == NOT_DEFINED:
        return ["payment means 1 names no account"] if payment.account else []
    return [f"payment means must be {SEPA_CREDIT_TRANSFER} or {NOT_DEFINED}, "
            f"not {payment.means!r}"]


def build_xrechnung(data: InvoiceData) -> bytes:
    """The XRechnung 3.0 (CII) of ``data``, checked against the Factur-X EN 16931 schema."""
    xml = _document(data).serialize(schema=None)
    _factur_x_schema().assertValid(_parse(xml))
    for attachment in data.attachments:
        xml = add_attachment(xml, attachment)  # BG-24
    return xml


def _document(data: InvoiceData):
    # drafthorse only where an e-invoice is written: most runs have no Leitweg-ID at all
    from drafthorse.models.document import Document
    from drafthorse.models.note import IncludedNote

    doc = Document()
    doc.context.business_parameter.id = PEPPOL_BILLING  # BT-23
    doc.context.guideline_parameter.id = XRECHNUNG_3_0  # BT-24
    doc.header.id = data.number  # BT-1
    doc.header.type_code = data.type_code  # BT-3
    doc.header.issue_date_time = data.issue_date  # BT-2
    notes = list(data.notes)
    if data.vat_category == "S" and data.vat_note:
        notes.append(data.vat_note)
    for note in notes:
        doc.header.notes.add(IncludedNote(content=note))  # BT-22

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
    from drafthorse.models.party import TaxRegistration  # see _document

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
    if buyer.identifier:
        party.id = buyer.identifier  # BT-46 without a scheme: no ISO 6523 code fits the AGS
    party.name = buyer.name  # BT-44
    party.address.line_one = buyer.street  # BG-8
    party.address.postcode = buyer.postcode
    party.address.city_name = buyer.city
    party.address.country_id = buyer.country
    party.electronic_address.uri_ID = (LEITWEG_SCHEME, buyer.leitweg_id)  # BT-49


def _settlement(settlement, data: InvoiceData) -> None:
    from drafthorse.models.accounting import ApplicableTradeTax  # see _document
    from drafthorse.models.payment import PaymentTerms

    settlement.currency_code = data.currency  # BT-5
    settlement.payment_reference = data.remittance  # BT-83
    settlement.period.start = date(data.year, 1, 1)  # BG-14
    settlement.period.end = date(data.year, 12, 31)
    if data.preceding_number:
        reference = settlement.invoice_referenced_document  # BG-3, once in CII D16B
        reference.issuer_assigned_id = data.preceding_number  # BT-25
        reference.issue_date_time = data.preceding_date  # BT-26
    settlement.payment_means.add(_payment_means(data.payment))  # BG-16 (BR-DE-1)
    settlement.terms.add(PaymentTerms(description=data.payment_terms,
                                      due=data.due_date))  # BT-20, BT-9

    tax = ApplicableTradeTax()  # BG-23
    tax.type_code = "VAT"
    tax.basis_amount = data.net  # BT-116
    tax.calculated_amount = data.vat  # BT-117
    tax.category_code = data.vat_category  # BT-118
    tax.rate_applicable_percent = _percent(data.vat_rate)  # BT-119 (0 at O: BR-DE-14)
    if data.vat_category == "O":
        tax.exemption_reason = data.vat_note  # BT-120 (BR-O-10)
        tax.exemption_reason_code = "VATEX-EU-O"  # BT-121
    settlement.trade_tax.add(tax)

    total = settlement.monetary_summation  # BG-22
    total.line_total = data.net  # BT-106
    total.tax_basis_total = data.net  # BT-109
    total.tax_total = (data.vat, data.currency)  # BT-110
    total.grand_total = data.gross  # BT-112
    if data.prepaid:
        total.prepaid_total = data.prepaid  # BT-113
    total.due_amount = _unsigned_zero(data.amount_due)  # BT-115


def _payment_means(payment: Payment):
    from drafthorse.models.payment import PaymentMeans  # see _document

    means = PaymentMeans(type_code=payment.means)  # BT-81
    if payment.text:
        means.information.add(payment.text)  # BT-82
    if payment.account:
        means.payee_account.iban = payment.account.iban  # BT-84
        means.payee_account.account_name = payment.account.holder  # BT-85
        if payment.account.bic:
            means.payee_institution.bic = payment.account.bic  # BT-86
    return means


def _line(data: InvoiceData):
    from drafthorse.models.tradelines import LineItem  # see _document

    line = LineItem()  # BG-25
    line.document.line_id = "1"  # BT-126
    line.product.name = data.line_name  # BT-153
    if data.line_description:
        line.product.description = data.line_description  # BT-154
    line.agreement.net.amount = data.net  # BT-146, never negative (BR-27)
    line.delivery.billed_quantity = (Decimal(1), "C62")  # BT-129, BT-130 (one unit)
    line.settlement.trade_tax.type_code = "VAT"
    line.settlement.trade_tax.category_code = data.vat_category  # BT-151
    if data.vat_category == "S":
        line.settlement.trade_tax.rate_applicable_percent = _percent(data.vat_rate)  # BT-152
    line.settlement.monetary_summation.total_amount = data.net  # BT-131
    return line


NS_CII = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
          "ram": "urn:un:unece:uncefact:data:standard:"
                 "ReusableAggregateBusinessInformationEntity:100"}
# Children of ApplicableHeaderTradeAgreement that come before or are BG-24, in the order of
# the CII D16B schema: a supporting document is inserted after the last of them.
BEFORE_ATTACHMENTS = (
    "BuyerReference", "SellerTradeParty", "BuyerTradeParty", "SalesAgentTradeParty",
    "BuyerTaxRepresentativeTradeParty", "SellerTaxRepresentativeTradeParty",
    "ProductEndUserTradeParty", "ApplicableTradeDeliveryTerms", "SellerOrderReferencedDocument",
    "BuyerOrderReferencedDocument", "QuotationReferencedDocument",
    "OrderResponseReferencedDocument", "ContractReferencedDocument",
    "DemandForecastReferencedDocument", "SupplyInstructionReferencedDocument",
    "PromotionalDealReferencedDocument", "PriceListReferencedDocument",
    "AdditionalReferencedDocument")


def invoice_number_of(xml: bytes) -> str:
    """BT-1 of an XRechnung (CII)."""
    return _parse(xml).findtext("rsm:ExchangedDocument/ram:ID", namespaces=NS_CII) or ""


def add_attachment(xml: bytes, attachment: Attachment) -> bytes:
    """``xml`` (an XRechnung written by :func:`build_xrechnung`) with ``attachment`` as
    supporting document (BG-24), replacing one of the same file name: for the XML beside a
    letter whose PDF is made after the XML (``--pdf``)."""
    root = _parse(xml)
    agreement = root.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement",
                          NS_CII)
    for old in agreement.findall("ram:AdditionalReferencedDocument", NS_CII):
        binary = old.find("ram:AttachmentBinaryObject", NS_CII)
        if binary is not None and binary.get("filename") == attachment.filename:
            agreement.remove(old)
    before = [i for i, child in enumerate(agreement)
              if etree.QName(child).localname in BEFORE_ATTACHMENTS]
    agreement.insert(before[-1] + 1 if before else 0, _attachment(attachment))
    out = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    _factur_x_schema().assertValid(_parse(out))
    return out


def _attachment(attachment: Attachment):
    """BG-24 as ``ram:AdditionalReferencedDocument`` (elements in the schema's order)."""
    element = etree.Element(_ram("AdditionalReferencedDocument"), nsmap={"ram": NS_CII["ram"]})
    etree.SubElement(element, _ram("IssuerAssignedID")).text = attachment.reference  # BT-122
    etree.SubElement(element, _ram("TypeCode")).text = SUPPORTING_DOCUMENT
    etree.SubElement(element, _ram("Name")).text = attachment.description  # BT-123
    binary = etree.SubElement(element, _ram("AttachmentBinaryObject"),  # BT-125
                              mimeCode=attachment.mime, filename=attachment.filename)
    binary.text = base64.b64encode(attachment.content).decode("ascii")
    return element


def _ram(name: str) -> str:
    return f"{{{NS_CII['ram']}}}{name}"


def remove_attachments(xml: bytes) -> bytes:
    """``xml`` without any supporting document (BG-24): what a ZUGFeRD PDF embeds."""
    root = _parse(xml)
    found = root.findall(".//ram:ApplicableHeaderTradeAgreement/ram:AdditionalReferencedDocument"
                         "[ram:AttachmentBinaryObject]", NS_CII)
    if not found:
        return xml
    for old in found:
        old.getparent().remove(old)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def _unsigned_zero(amount: Decimal) -> Decimal:
    """``-0.00`` (what ``-1312.50 + 1312.50`` may give) as ``0.00``."""
    return amount.copy_abs() if amount == 0 else amount


def _percent(rate: Decimal) -> Decimal:
    """A fraction as the percent BT-119/BT-152 carry: ``0.19`` → ``19.00``."""
    return (rate * 100).quantize(CENT) if rate else ZERO


def _parse(xml: bytes):
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))


@cache
def _factur_x_schema():
    """drafthorse's Factur-X 1.0.07 EN 16931 schema, loaded once (not once per invoice)."""
    import drafthorse  # see _document

    folder = Path(drafthorse.__file__).parent / "schema"
    return etree.XMLSchema(file=str(folder / "Factur-X_1.0.07_EN16931.xsd"))
