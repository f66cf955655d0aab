"""The settlement's e-invoices (SPEC § 8): the adapter from the model to :mod:`xrechnung`.

For every partner with a ``Leitweg-ID`` the run writes beside its letter an XRechnung,
``Abrechnung_<J>_<Kommune>.xml``; with ``--pdf`` its PDF becomes a ZUGFeRD PDF/A-3 with that
XML embedded, and the XML beside it carries that PDF as supporting document (BG-24). The
figures are the settlement's, the references those of the letter (:mod:`references`): the
Rechnungsnummer and the ONE Verwendungszweck. This is the only module that maps the
settlement model to e-invoices; numbers, dates and file names come from the caller.

Glossary: Abschlag (advance, BT-113), Storno (a credit note cancelling a bill as it was),
Gutschrift (credit note, 381), Verwendungszweck (remittance information, BT-83).

Decisions (SPEC § 8 left room; the rule or guidance that decided each):

- **Direction.** A document's net, VAT and gross are never negative: a bill that asks for
  money is an invoice 380, one that grants money a credit note 381 with positive amounts
  (UNTDID 1001; 384 "corrected invoice" would mean it replaces the earlier one, and a
  correction bills only the difference).
- **Who pays whom (BG-16).** The account that receives this document's amount due: the
  employer's IBAN (58) when the partner pays; the partner's ``IBAN`` (58) when the employer
  pays (a refund, a credit note); where the partner's IBAN is unknown, code 1 "instrument not
  defined" (58 requires an IBAN, BR-DE-23-a). A zero amount due moves no money: code 1 with
  the text "Keine Zahlung" (BR-DE-1 requires BG-16 in every XRechnung).
- **Advances above 0 % (§ 14 Abs. 5 Satz 2 UStG).** BT-113 stays the gross advances; the VAT
  they contain (:func:`calculation.contained_vat`) is stated in a note (BT-22): EN 16931 has
  no structured field for it. ZUGFeRD's ``SpecifiedAdvancePayment`` (EXTENDED, BG-X-45) is
  flagged by the official rules (CII-SR-436 "should not be present", a warning), and a
  document-level allowance would change the tax basis (BT-109/BT-116) that the final bill
  must show in full. One sum of advances and one sum of their VAT suffice (Abschn. 14.8
  UStAE, "in einer Summe").
- **Corrections** (:func:`correction_einvoices`): see there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.core.agreement import AGREEMENT_TITLE
from kim_excel.core.calculation import contained_vat
from kim_excel.core.files import write_atomically
from kim_excel.core.german import day_text, format_eur, german_number
from kim_excel.core.model import Party, RegionResult, Settlement, Share, Terms
from kim_excel.core.money import ZERO
from kim_excel.core.references import (
    STORNO_NUMBER,
    TOPIC,
    companion,
    document_of,
    invoice_number,
    letter_file,
    payment_reference,
    storno_file,
)
from kim_excel.documents.xlsx.letter import key_text
from kim_excel.documents.xrechnung import (
    CREDIT_NOTE,
    INVOICE,
    NOT_DEFINED,
    SEPA_CREDIT_TRANSFER,
    Account,
    Attachment,
    Buyer,
    InvoiceData,
    Payment,
    Seller,
    _factur_x_schema,
    add_attachment,
    build_xrechnung,
    invoice_number_of,
    remove_attachments,
)
from kim_excel.documents.zugferd import embed_in_pdf

NO_LEITWEG_ID = "keine Leitweg-ID angegeben"
LINE_NAME = "Eigenanteil Kommunales Case-Management {year}"
# BT-120 at 0 % when the employer gave no ``Hinweis Umsatzsteuer``
NOT_TAXABLE = "Nicht im Anwendungsbereich der Umsatzsteuer."
NO_PAYMENT = "Keine Zahlung"  # BT-82 with code 1 when no money moves
LETTER_PDF = "Anschreiben mit Berechnung (PDF)"  # BT-123 of the supporting document


@dataclass(frozen=True)
class Amounts:
    """What a bill says in euros, signed as the partner sees it: positive = the partner
    pays. A share's bill, a correction's differences, or one document's effect."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    prepaid: Decimal
    amount_due: Decimal

    @classmethod
    def of(cls, share: Share) -> Amounts:
        return cls(share.net, share.vat, share.gross, share.advances, share.balance)

    def minus(self, earlier: Amounts) -> Amounts:
        """The differences to ``earlier``: what a correction bills (may be negative)."""
        return Amounts(self.net - earlier.net, self.vat - earlier.vat,
                       self.gross - earlier.gross, self.prepaid - earlier.prepaid,
                       self.amount_due - earlier.amount_due)

    def negated(self) -> Amounts:
        """Every amount with the other sign (``ZERO - x``: a zero stays ``0.00``, not
        ``-0.00``)."""
        return Amounts(ZERO - self.net, ZERO - self.vat, ZERO - self.gross,
                       ZERO - self.prepaid, ZERO - self.amount_due)

    def plus(self, other: Amounts) -> Amounts:
        return self.minus(other.negated())


ZERO_AMOUNTS = Amounts(ZERO, ZERO, ZERO, ZERO, ZERO)


def has_einvoice(share: Share) -> bool:
    """A partner with a Leitweg-ID gets an e-invoice; the employer gets no bill at all."""
    return not share.is_employer and bool(share.party.leitweg_id)


def einvoice_status(share: Share) -> str:
    """For the overview and LIESMICH: whether this partner gets an e-invoice, and why not."""
    if has_einvoice(share):
        return f"XRechnung an Leitweg-ID {share.party.leitweg_id}"
    return f"keine: {NO_LEITWEG_ID}"


def seller_of(employer: Party) -> Seller:
    return Seller(
        name=employer.full_name, street=employer.street, postcode=employer.postcode,
        city=employer.city, contact_name=employer.contact, contact_phone=employer.phone,
        contact_email=employer.email, electronic_address=employer.email,
        gemeindeschluessel=employer.gemeindeschluessel or None,
        vat_id=employer.ust_id or None, tax_number=employer.steuernummer or None)


def buyer_of(partner: Party) -> Buyer:
    return Buyer(name=partner.full_name, street=partner.street, postcode=partner.postcode,
                 city=partner.city, leitweg_id=partner.leitweg_id,
                 identifier=partner.gemeindeschluessel or None)  # BT-46


def document_type(amounts: Amounts, if_zero: str = INVOICE) -> tuple[str, Amounts]:
    """(type code, amounts as the document states them) for a bill's ``amounts`` signed as
    the partner sees them: asking for money → 380 as it is; granting money (a negative net
    or gross) → 381 with every amount negated, so net, VAT and gross are positive. A bill of
    0.00 is ``if_zero`` (a storno stays a credit note)."""
    credit = amounts.net < 0 or amounts.gross < 0
    if credit or (if_zero == CREDIT_NOTE and amounts.net == 0 and amounts.gross == 0):
        return CREDIT_NOTE, amounts.negated()
    return INVOICE, amounts


def partner_receives(type_code: str, amount_due: Decimal) -> bool:
    """Whether the employer pays the partner: an invoice's negative or a credit note's
    positive amount due."""
    return amount_due > 0 if type_code == CREDIT_NOTE else amount_due < 0


def payment_of(type_code: str, amount_due: Decimal, employer: Party, partner: Party) -> Payment:
    """BG-16: the account that RECEIVES this document's amount due (see the module doc)."""
    if amount_due == 0:
        return Payment(NOT_DEFINED, text=NO_PAYMENT)
    receiver = partner if partner_receives(type_code, amount_due) else employer
    if not receiver.iban:  # an account nobody gave us is never made up
        return Payment(NOT_DEFINED, text=f"Überweisung an {receiver.full_name}")
    account = Account(receiver.iban.replace(" ", ""), receiver.full_name, receiver.bic or None)
    return Payment(SEPA_CREDIT_TRANSFER, account, f"SEPA-Überweisung an {receiver.full_name}")


def payment_terms(type_code: str, amount_due: Decimal, due_date: date) -> str:
    """BT-20 as the letter says it: pay by the due date, refunded by it, or nothing to pay."""
    if amount_due == 0:
        return "Es ist nichts zu zahlen."
    amount = format_eur(abs(amount_due))
    if partner_receives(type_code, amount_due):
        return f"Der Betrag von {amount} wird Ihnen bis zum {day_text(due_date)} erstattet."
    return f"Zahlbar bis zum {day_text(due_date)} ohne Abzug: {amount}."


def advances_note(advances: Decimal, vat_rate: Decimal) -> str | None:
    """BT-22 of a final bill after advances: the advances and, above 0 %, the VAT they
    contain, as deducted (§ 14 Abs. 5 Satz 2 UStG)."""
    if not advances:
        return None
    if not vat_rate:
        return f"Abzüglich geleisteter Abschläge: {format_eur(advances)}."
    vat = contained_vat(advances, vat_rate)
    return (f"Abzüglich geleisteter Abschläge: {format_eur(advances)}, darin enthaltene "
            f"Umsatzsteuer {german_number(vat_rate * 100)} %: {format_eur(vat)} (Entgelt "
            f"{format_eur(advances - vat)}); § 14 Abs. 5 Satz 2 UStG.")


def bill_text(amounts: Amounts, vat_rate: Decimal) -> str:
    """``9.668,75 € (netto 8.125,00 € zuzüglich 19 % Umsatzsteuer 1.543,75 €)``."""
    if not vat_rate:
        return format_eur(amounts.gross)
    return (f"{format_eur(amounts.gross)} (netto {format_eur(amounts.net)} zuzüglich "
            f"{german_number(vat_rate * 100)} % Umsatzsteuer {format_eur(amounts.vat)})")


def difference_text(difference: Decimal) -> str:
    if difference > 0:
        return f"Differenz: {format_eur(difference)} nachzuzahlen"
    if difference < 0:
        return f"Differenz: {format_eur(-difference)} zu erstatten"
    return "Differenz: 0,00 €"


@dataclass(frozen=True)
class Bill:
    """What one e-invoice of a partner says besides the parties: its amounts as the partner
    sees them (positive = the partner pays), its rate and note, and its references."""

    number: str
    issue_date: date
    due_date: date
    amounts: Amounts
    vat_rate: Decimal
    vat_note: str
    line_name: str
    line_description: str
    remittance: str
    notes: tuple[str, ...] = ()
    payment_terms: str | None = None  # default: :func:`payment_terms`
    preceding: tuple[str, date] | None = None
    if_zero: str = INVOICE  # the type of a bill of 0.00 (see :func:`document_type`)


def bill_invoice(year: int, employer: Party, partner: Party, bill: Bill,
                 attachments: tuple[Attachment, ...] = ()) -> InvoiceData:
    """The :class:`xrechnung.InvoiceData` of ``bill``: type, direction and payment decided
    here, for letters and corrections alike."""
    type_code, amounts = document_type(bill.amounts, bill.if_zero)
    return InvoiceData(
        number=bill.number, issue_date=bill.issue_date, type_code=type_code, year=year,
        seller=seller_of(employer), buyer=buyer_of(partner), line_name=bill.line_name,
        line_description=bill.line_description, vat_rate=bill.vat_rate,
        vat_note=bill.vat_note or (NOT_TAXABLE if not bill.vat_rate else ""),
        net=amounts.net, vat=amounts.vat, gross=amounts.gross, prepaid=amounts.prepaid,
        amount_due=amounts.amount_due,
        due_date=bill.due_date, payment=payment_of(type_code, amounts.amount_due, employer,
                                                   partner),
        payment_terms=bill.payment_terms or payment_terms(type_code, amounts.amount_due,
                                                          bill.due_date),
        remittance=bill.remittance, notes=bill.notes, contract_reference=AGREEMENT_TITLE,
        preceding_number=bill.preceding[0] if bill.preceding else None,
        preceding_date=bill.preceding[1] if bill.preceding else None,
        attachments=attachments)


def settlement_notes(year: int, region: RegionResult) -> tuple[str, ...]:
    notes = [f"Abrechnung des Eigenanteils {year} nach § 2 der Kooperationsvereinbarung über "
             f"das Kommunale Case-Management, Region {region.region}; die Berechnung steht "
             f"im Blatt „Berechnung“ der Abrechnung."]
    if region.terms.aktenzeichen:
        notes.append(f"Aktenzeichen: {region.terms.aktenzeichen}")
    return tuple(notes)


def invoice_data(year: int, region: RegionResult, share: Share,
                 attachments: tuple[Attachment, ...] = (), *, number: str | None = None,
                 issue_date: date | None = None, due_date: date | None = None) -> InvoiceData:
    """The :class:`xrechnung.InvoiceData` of ``share``'s settlement letter: number, date and
    Verwendungszweck as the letter's (the ledger's bill: ``number``, ``issue_date``,
    ``due_date``; by default the draft's), advances (and above 0 % their VAT) deducted."""
    terms = region.terms
    number = number or invoice_number(year, share.party.name, prefix=terms.invoice_prefix)
    advances = advances_note(share.advances, terms.vat_rate)
    bill = Bill(
        number=number, issue_date=issue_date or terms.settlement_date,
        due_date=due_date or share.due_date or region.due_date, amounts=Amounts.of(share),
        vat_rate=terms.vat_rate, vat_note=terms.vat_note, line_name=LINE_NAME.format(year=year),
        line_description=f"{TOPIC}, Region {region.region}: {key_text(region, share)}",
        remittance=payment_reference(year, number, share.party.kassenzeichen),
        notes=settlement_notes(year, region) + ((advances,) if advances else ()))
    return bill_invoice(year, region.employer, share.party, bill, attachments)


# ------------------------------------------------------------------ corrections


@dataclass(frozen=True)
class CorrectionDocument:
    """One e-invoice of a correction, as plain data for the XML, the letter and the
    Buchungsliste: which document (``kind``), its number suffix, and its amounts."""

    kind: str  # "Nachberechnung", "Gutschrift", "Storno" or "Neuberechnung"
    suffix: str  # of the Rechnungsnummer: "" or STORNO_NUMBER
    effect: Amounts  # what it does, signed as the partner sees it (positive = pays)
    data: InvoiceData  # what the XML says (net, VAT, gross positive)

    @property
    def is_storno(self) -> bool:
        return self.suffix == STORNO_NUMBER

    @property
    def type_code(self) -> str:
        return self.data.type_code

    @property
    def number(self) -> str:
        return self.data.number


def correction_effect(documents: tuple[CorrectionDocument, ...]) -> Amounts:
    """What the documents of one correction do together: the correction's differences
    (net, VAT, gross; prepaid 0), the one row of the correction's Buchungsliste."""
    total = ZERO_AMOUNTS
    for document in documents:
        total = total.plus(document.effect)
    return total


def correction_einvoices(year: int, region: RegionResult, before: Share, before_terms: Terms,
                         after: Share, *, number: str, corrects: str, corrects_date: date,
                         issue_date: date, due_date: date,
                         attachments: tuple[Attachment, ...] = ()
                         ) -> tuple[CorrectionDocument, ...]:
    """The e-invoices of one partner's correction ``number`` of the bill ``corrects`` (of
    ``corrects_date``), billed before as ``before`` under ``before_terms`` and corrected to
    ``after`` under the region's terms. Never raises for any pair of rates.

    - same VAT rate, more to pay → one invoice 380 over the difference ("Nachberechnung");
      less → one credit note 381 over the positive difference ("Gutschrift"); no change → ();
    - another VAT rate or category (0 % ↔ 19 %, 19 % → 7 %; SPEC § 8, BR-O-11 … 14, BR-O-02:
      no ``O`` line beside another category, no VAT id beside ``O``) → a credit note 381
      ``<number>-S`` cancelling the bill as it was ("Storno") and an invoice 380 ``<number>``
      for the corrected bill ("Neuberechnung"). Both deduct the advances AS BILLED (advances
      entered after issue change no issued bill, SPEC § 7), each with the VAT they contain at
      its own rate: the storno gives back the old balance, the new bill asks the new one, so
      together they ask exactly the difference of the gross amounts.

    Each names ``corrects`` (BT-25, BT-26) and says in a note (BT-22) the amount billed before,
    the corrected amount and the difference. All use the correction's Verwendungszweck.
    """
    after_terms = region.terms
    old = Amounts(before.net, before.vat, before.gross, before.advances,
                  before.gross - before.advances)
    new = Amounts(after.net, after.vat, after.gross, before.advances,
                  after.gross - before.advances)
    change = new.minus(old)
    if before_terms.vat_rate == after_terms.vat_rate and change.gross == 0 and change.net == 0:
        return ()
    context = CorrectionContext(
        year, region, before_terms, after, number, (corrects, corrects_date), issue_date,
        due_date, payment_reference(year, number, after.party.kassenzeichen),
        f"Korrektur der Rechnung {corrects} vom {day_text(corrects_date)}: bisher "
        f"abgerechnet {bill_text(old, before_terms.vat_rate)}, berichtigt "
        f"{bill_text(new, after_terms.vat_rate)}; {difference_text(change.gross)}.",
        attachments)
    same_direction = (change.net >= 0 and change.vat >= 0) or (change.net <= 0
                                                               and change.vat <= 0)
    if before_terms.vat_rate == after_terms.vat_rate and same_direction:
        return (context.difference(Amounts(change.net, change.vat, change.gross, ZERO,
                                           change.gross)),)
    return context.storno(old, change.gross), context.rebill(new, change)


@dataclass(frozen=True)
class CorrectionContext:
    """What every document of one correction shares (see :func:`correction_einvoices`)."""

    year: int
    region: RegionResult
    before_terms: Terms
    after: Share
    number: str
    preceding: tuple[str, date]
    issue_date: date
    due_date: date
    remittance: str
    summary: str  # BT-22: before, corrected, difference
    attachments: tuple[Attachment, ...]

    def bill(self, suffix: str, amounts: Amounts, terms: Terms, line_name: str,
             description: str, notes: tuple[str, ...], payment: str | None = None) -> Bill:
        return Bill(
            number=self.number + suffix, issue_date=self.issue_date, due_date=self.due_date,
            amounts=amounts, vat_rate=terms.vat_rate, vat_note=terms.vat_note,
            line_name=line_name, line_description=description, remittance=self.remittance,
            notes=(self.summary, *notes), payment_terms=payment, preceding=self.preceding,
            if_zero=CREDIT_NOTE if suffix == STORNO_NUMBER else INVOICE)

    def document(self, kind: str, suffix: str, bill: Bill) -> CorrectionDocument:
        data = bill_invoice(self.year, self.region.employer, self.after.party, bill,
                            self.attachments)
        return CorrectionDocument(kind, suffix, bill.amounts, data)

    def difference(self, change: Amounts) -> CorrectionDocument:
        kind = "Nachberechnung" if change.gross > 0 else "Gutschrift"
        description = (f"{kind} zur Rechnung {self.preceding[0]}, Region "
                       f"{self.region.region}: {key_text(self.region, self.after)}")
        bill = self.bill("", change, self.region.terms,
                         f"Korrektur {LINE_NAME.format(year=self.year)}", description, ())
        return self.document(kind, "", bill)

    def storno(self, old: Amounts, difference: Decimal) -> CorrectionDocument:
        """The bill as it was, cancelled: its effect is the old bill negated."""
        rate = self.before_terms.vat_rate
        notes = (f"Storno der Rechnung {self.preceding[0]} vom {day_text(self.preceding[1])} "
                 f"wegen des geänderten Umsatzsteuersatzes (§ 14c UStG); die berichtigte "
                 f"Abrechnung ist die Rechnung {self.number}.",
                 *filter(None, [advances_note(old.prepaid, rate)]))
        bill = self.bill(STORNO_NUMBER, old.negated(), self.before_terms,
                         f"Storno {LINE_NAME.format(year=self.year)}",
                         f"Storno der Rechnung {self.preceding[0]} vom "
                         f"{day_text(self.preceding[1])}", notes, self.pair_terms(difference))
        return self.document("Storno", STORNO_NUMBER, bill)

    def rebill(self, new: Amounts, change: Amounts) -> CorrectionDocument:
        """The corrected bill in full, with the advances as billed."""
        rate = self.region.terms.vat_rate
        notes = (f"Berichtigte Abrechnung; die Rechnung {self.preceding[0]} wird mit der "
                 f"Gutschrift {self.number}{STORNO_NUMBER} storniert und mit ihr verrechnet.",
                 *filter(None, [advances_note(new.prepaid, rate)]))
        bill = self.bill("", new, self.region.terms, LINE_NAME.format(year=self.year),
                         f"{TOPIC}, Region {self.region.region}: "
                         f"{key_text(self.region, self.after)}", notes,
                         self.pair_terms(change.gross))
        return self.document("Neuberechnung", "", bill)

    def pair_terms(self, difference: Decimal) -> str:
        """BT-20 of storno and new bill: they are settled against each other, so both say
        what moves in the end (the difference of the gross amounts)."""
        pair = f"Gutschrift {self.number}{STORNO_NUMBER} und Rechnung {self.number}"
        if difference > 0:
            return (f"Verrechnet ({pair}): {format_eur(difference)} zahlbar bis zum "
                    f"{day_text(self.due_date)} ohne Abzug.")
        if difference < 0:
            return (f"Verrechnet ({pair}): {format_eur(-difference)} werden Ihnen bis zum "
                    f"{day_text(self.due_date)} erstattet.")
        return f"Verrechnet ({pair}): es ist nichts zu zahlen."


# ------------------------------------------------------------------ files


def write_einvoice(folder: Path, settlement: Settlement, region: RegionResult, share: Share,
                   file_stem: str | None = None, **bill) -> Path | None:
    """``<file_stem>.xml`` (default ``Abrechnung_<J>_<Kommune>``) for a partner with a
    Leitweg-ID; ``None`` for everyone else. ``bill``: number and dates, as
    :func:`invoice_data` takes them."""
    if not has_einvoice(share):
        return None
    stem = file_stem or Path(letter_file(settlement.year, share.party.name)).stem
    path = folder / f"{stem}.xml"
    write_atomically(path, build_xrechnung(invoice_data(settlement.year, region, share,
                                                        **bill)))
    return path


def write_correction_einvoices(folder: Path, file_stem: str,
                               documents: tuple[CorrectionDocument, ...]) -> list[Path]:
    """The XMLs of :func:`correction_einvoices` beside the correction letter ``<file_stem>``:
    ``<file_stem>.xml`` and a storno's ``<file_stem>_Storno.xml`` (SPEC § 8)."""
    paths = []
    for document in documents:
        letter = f"{file_stem}.xlsx"
        path = folder / (storno_file(letter) if document.is_storno else companion(letter, ".xml"))
        write_atomically(path, build_xrechnung(document.data))
        paths.append(path)
    return paths


def prepare() -> None:
    """Import drafthorse and load the schema once, before the letter processes fork."""

    _factur_x_schema()


def letter_stem(xml: Path) -> str:
    """The letter an XML belongs to: ``Korrektur_…_1_Storno.xml`` → ``Korrektur_…_1``."""
    return Path(document_of(xml.name)).stem


def embed_einvoices(folder: Path) -> list[Path]:
    """``--pdf``: every ``<stem>.pdf`` beside a ``<stem>.xml`` becomes a ZUGFeRD PDF/A-3
    (profile XRECHNUNG) with that XML embedded; then every XML of a letter with a PDF
    carries that PDF as supporting document (BG-24; the embedded XML does not, or the two
    would contain each other). Returns the PDFs changed."""
    done = []
    xmls = sorted(folder.glob("*.xml"))
    for xml in xmls:
        pdf = xml.with_suffix(".pdf")
        if pdf.is_file():
            embedded = remove_attachments(xml.read_bytes())  # never the PDF inside itself
            write_atomically(pdf, embed_in_pdf(pdf.read_bytes(), embedded))
            done.append(pdf)
    for xml in xmls:
        pdf = folder / f"{letter_stem(xml)}.pdf"
        if pdf.is_file():
            letter = Attachment(pdf.name, pdf.read_bytes(), LETTER_PDF,
                                invoice_number_of(xml.read_bytes()))
            write_atomically(xml, add_attachment(xml.read_bytes(), letter))
    return done


def einvoice_attachments(folder: Path, file_stem: str) -> list[Path]:
    """What ``versenden`` attaches for the e-invoice of the letter ``<file_stem>.xlsx``: the
    XRechnung ``<file_stem>.xml`` (and a correction's storno ``<file_stem>_Storno.xml``) and,
    where there is one, the ZUGFeRD PDF ``<file_stem>.pdf`` (a PDF is ZUGFeRD exactly when
    the XML lies beside it, :func:`embed_einvoices`). Empty for a partner without an
    e-invoice. File names are ASCII (``output.ascii_name``)."""
    xml = folder / f"{file_stem}.xml"
    if not xml.is_file():
        return []
    storno = folder / storno_file(f"{file_stem}.xlsx")
    pdf = xml.with_suffix(".pdf")
    return [xml, *([storno] if storno.is_file() else []), *([pdf] if pdf.is_file() else [])]


def einvoice_lines(settlement: Settlement, names: dict[str, str]) -> list[str]:
    """LIESMICH's paragraph on e-invoices: who got one, who did not, and why."""
    with_xml = [(s, names[s.party.name]) for r in settlement.regions
                for s in r.partner_shares if has_einvoice(s)]
    without = [s.party.full_name for r in settlement.regions for s in r.partner_shares
               if not has_einvoice(s)]
    lines = ["", "E-Rechnungen (XRechnung)", "------------------------"]
    for share, letter in with_xml:
        lines.append(f"{Path(letter).with_suffix('.xml').name}")
        lines.append(f"      E-Rechnung an {share.party.full_name} (Leitweg-ID "
                     f"{share.party.leitweg_id}); mit „--pdf“ steckt sie auch im PDF (ZUGFeRD).")
    if without:
        lines.append(f"Keine E-Rechnung ({NO_LEITWEG_ID} im Blatt „Vertragsparteien“): "
                     + ", ".join(without) + ".")
    return lines
