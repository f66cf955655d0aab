"""The settlement's e-invoices (SPEC § 8): the adapter from the model to :mod:`xrechnung`.

For every partner with a ``Leitweg-ID`` the run writes beside its letter an XRechnung,
``Abrechnung_<J>_<Kommune>.xml``; with ``--pdf`` its PDF becomes a ZUGFeRD PDF/A-3 with that
XML embedded. The figures are the settlement's, the references those of the letter
(:mod:`references`): the Rechnungsnummer and the ONE Verwendungszweck.

A correction reuses :func:`invoice_data`: type 384, ``Amounts.of(new).minus(old)`` as the
amounts, ``correction=n`` for its number ``<J>-<Kommune>-K<n>`` and ``preceding`` naming the
invoice it corrects; :func:`write_einvoice` takes the file stem (``Korrektur_<J>_<Kommune>_<n>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.core.files import ascii_name, write_atomically
from kim_excel.core.model import Party, RegionResult, Settlement, Share
from kim_excel.core.references import TOPIC, invoice_number, payment_reference
from kim_excel.documents.xlsx.letter import key_text
from kim_excel.documents.xrechnung import (
    CORRECTION,
    INVOICE,
    Buyer,
    InvoiceData,
    Seller,
    _factur_x_schema,
    build_xrechnung,
    embed_in_pdf,
)

NO_LEITWEG_ID = "keine Leitweg-ID angegeben"
LINE_NAME = "Eigenanteil Kommunales Case-Management {year}"
# BT-120 at 0 % when the employer gave no ``Hinweis Umsatzsteuer``
NOT_TAXABLE = "Nicht im Anwendungsbereich der Umsatzsteuer."


@dataclass(frozen=True)
class Amounts:
    """What a bill says in euros: a share's, or a correction's differences."""

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


def has_einvoice(share: Share) -> bool:
    """A partner with a Leitweg-ID gets an e-invoice; the employer gets no bill at all."""
    return not share.is_employer and bool(share.party.leitweg_id)


def einvoice_status(share: Share) -> str:
    """For the overview and LIESMICH: whether this partner gets an e-invoice, and why not."""
    if has_einvoice(share):
        return f"XRechnung an Leitweg-ID {share.party.leitweg_id}"
    return f"keine: {NO_LEITWEG_ID}"


def seller_of(employer: Party):

    return Seller(
        name=employer.full_name, street=employer.street, postcode=employer.postcode,
        city=employer.city, contact_name=employer.contact, contact_phone=employer.phone,
        contact_email=employer.email, electronic_address=employer.email, iban=employer.iban,
        account_name=employer.full_name, bic=employer.bic or None,
        gemeindeschluessel=employer.gemeindeschluessel or None,
        vat_id=employer.ust_id or None, tax_number=employer.steuernummer or None)


def buyer_of(partner: Party):

    return Buyer(name=partner.full_name, street=partner.street, postcode=partner.postcode,
                 city=partner.city, leitweg_id=partner.leitweg_id)


def invoice_data(year: int, region: RegionResult, share: Share, *, correction: int = 0,
                 amounts: Amounts | None = None, preceding: tuple[str, date] | None = None,
                 issue_date: date | None = None, due_date: date | None = None,
                 number: str | None = None):
    """The :class:`xrechnung.InvoiceData` of ``share``'s bill.

    A correction: ``correction`` n ≥ 1 (type 384, number ``<J>-<Kommune>-K<n>``), the
    difference ``amounts`` and ``preceding`` = (number, issue date) of the corrected invoice.
    Issue date: the region's ``Datum der Abrechnung`` unless given; due date: the share's.
    """

    partner, terms = share.party, region.terms
    number = number or invoice_number(year, partner.name, correction=correction,
                                      prefix=terms.invoice_prefix)
    money = amounts or Amounts.of(share)
    notes = [f"Abrechnung des Eigenanteils {year} nach § 2 der Kooperationsvereinbarung über "
             f"das Kommunale Case-Management, Region {region.region}; die Berechnung steht "
             f"im Blatt „Berechnung“ der Abrechnung."]
    if terms.aktenzeichen:
        notes.append(f"Aktenzeichen: {terms.aktenzeichen}")
    return InvoiceData(
        number=number, issue_date=issue_date or terms.settlement_date, year=year,
        seller=seller_of(region.employer), buyer=buyer_of(partner),
        line_name=LINE_NAME.format(year=year),
        line_description=f"{TOPIC}, Region {region.region}: {key_text(region, share)}",
        vat_rate=terms.vat_rate, vat_note=terms.vat_note or NOT_TAXABLE,
        net=money.net, vat=money.vat, gross=money.gross, prepaid=money.prepaid,
        amount_due=money.amount_due, due_date=due_date or share.due_date or region.due_date,
        remittance=payment_reference(year, number, partner.kassenzeichen),
        notes=tuple(notes), type_code=CORRECTION if correction else INVOICE,
        preceding_number=preceding[0] if preceding else None,
        preceding_date=preceding[1] if preceding else None)


def write_einvoice(folder: Path, settlement: Settlement, region: RegionResult, share: Share,
                   file_stem: str | None = None, **correction) -> Path | None:
    """``<file_stem>.xml`` (default ``Abrechnung_<J>_<Kommune>``) for a partner with a
    Leitweg-ID; ``None`` for everyone else. ``correction``: see :func:`invoice_data`."""
    if not has_einvoice(share):
        return None

    stem = file_stem or f"Abrechnung_{settlement.year}_{ascii_name(share.party.name)}"
    path = folder / f"{stem}.xml"
    xml = build_xrechnung(invoice_data(settlement.year, region, share, **correction))
    write_atomically(path, xml)
    return path


def prepare() -> None:
    """Import drafthorse and load the schema once, before the letter processes fork."""

    _factur_x_schema()


def embed_einvoices(folder: Path) -> list[Path]:
    """``--pdf``: every ``<stem>.pdf`` beside a ``<stem>.xml`` becomes a ZUGFeRD PDF/A-3
    (profile XRECHNUNG) with that XML embedded. Returns the PDFs changed."""

    done = []
    for xml in sorted(folder.glob("*.xml")):
        pdf = xml.with_suffix(".pdf")
        if pdf.is_file():
            write_atomically(pdf, embed_in_pdf(pdf.read_bytes(), xml.read_bytes()))
            done.append(pdf)
    return done


def einvoice_attachments(folder: Path, file_stem: str) -> list[Path]:
    """What ``versenden`` attaches for the e-invoice of the letter ``<file_stem>.xlsx``: the
    XRechnung ``<file_stem>.xml`` and, where there is one, the ZUGFeRD PDF ``<file_stem>.pdf``
    (a PDF is ZUGFeRD exactly when the XML lies beside it, :func:`embed_einvoices`). Empty
    for a partner without an e-invoice. File names are ASCII (``output.ascii_name``)."""
    xml = folder / f"{file_stem}.xml"
    if not xml.is_file():
        return []
    pdf = xml.with_suffix(".pdf")
    return [xml, pdf] if pdf.is_file() else [xml]


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
