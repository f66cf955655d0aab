"""Correction letters ``Korrektur_<J>_<Kommune>_<n>.xlsx`` (SPEC § 7).

A correction follows an issued settlement that turned out wrong. Its letter shows the amount
billed before (with that document's Rechnungsnummer and date), the corrected share from the
region's full trail (sheet ``Berechnung``, live formulas with their values), and the
difference to pay or to be refunded, with the correction's own date and due date (R10).
The letter and trail building blocks are the settlement letter's own (``xlsx/letter.py``,
``xlsx/trail.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.core.german import day_text, german_number, iban_groups
from kim_excel.core.model import RegionResult, Settlement, Share
from kim_excel.core.references import payment_reference
from kim_excel.documents.xlsx.letter import (
    LETTER_ROW_HEIGHT,
    Letter,
    address_lines,
    key_text,
    setup_letter,
    write_info_block,
)
from kim_excel.documents.xlsx.sheet import Sheet, a1, as_datetime
from kim_excel.documents.xlsx.styles import Styles, add_sheet, new_workbook
from kim_excel.documents.xlsx.trail import TRAIL, setup_trail, write_basis, write_region_trail

LETTER = "Korrektur"
SUBJECT = "Kommunales Case-Management – Korrektur der Abrechnung des Eigenanteils {year}"


@dataclass(frozen=True)
class CorrectionLetter:
    """What one partner's correction says besides the corrected settlement."""

    number: str  # its own Rechnungsnummer: 2024-Billerbeck-K1
    corrects: str  # the number of the document it corrects
    corrects_date: date
    day: date  # the correction's own date (the run that wrote it)
    due: date  # R10 from ``day``
    before: Share  # the partner's share as billed before


def difference(before: Share, after: Share) -> tuple[Decimal, Decimal, Decimal]:
    """(net, VAT, gross) to pay (positive) or to be refunded (negative)."""
    return after.net - before.net, after.vat - before.vat, after.gross - before.gross


def write_correction_workbook(path: Path, settlement: Settlement, region: RegionResult,
                              share: Share, info: CorrectionLetter) -> None:
    """The correction letter to one partner and the corrected region's trail."""
    workbook = new_workbook(path, {
        "title": f"Korrektur {info.number} – {share.party.full_name}",
        "subject": SUBJECT.format(year=settlement.year) + f" – Region {region.region}",
        "author": region.employer.full_name,
        "company": region.employer.full_name,
        "comments": "Erstellt mit kim-excel",
        "created": as_datetime(info.day),
    })
    styles = Styles(workbook)
    letter = Sheet(add_sheet(workbook, LETTER), styles, LETTER, LETTER_ROW_HEIGHT)
    trail = Sheet(add_sheet(workbook, TRAIL), styles, TRAIL)
    setup_trail(trail)
    basis, row = write_basis(trail, settlement, [region], 0)
    cells, _ = write_region_trail(trail, settlement, region, basis, row + 1,
                                  highlight=share.party.name)
    write_letter(letter, settlement, region, share, info, cells)
    workbook.close()


def write_letter(sheet: Sheet, settlement: Settlement, region: RegionResult, share: Share,
                 info: CorrectionLetter, cells) -> None:
    employer, partner = region.employer, share.party
    letter = Letter(sheet)
    sheet.text(0, 0, employer.full_name, "sender")
    sheet.fit_row(0, 1, 14)
    sheet.text(1, 0, f"Kommunales Case-Management – Region {region.region}", "sender_line")
    sheet.text(6, 0, " · ".join(address_lines(employer)), "return_line")
    for offset, line in enumerate(address_lines(partner)):
        sheet.text(7 + offset, 0, line)
    info_rows: list[tuple[str, str | date]] = [
        ("Ansprechpartner", employer.contact), ("Telefon", employer.phone),
        ("E-Mail", employer.email), ("Aktenzeichen", region.terms.aktenzeichen),
        ("Kassenzeichen", partner.kassenzeichen), ("Rechnungsnummer", info.number),
        ("Berichtigt", f"{info.corrects} vom {day_text(info.corrects_date)}"),
        ("Datum", info.day),
    ]
    row = write_info_block(sheet, info_rows)
    letter.row = max(row, 7 + len(address_lines(partner))) + 2
    sheet.text(letter.row, 0, SUBJECT.format(year=settlement.year), "subject")
    sheet.fit_row(letter.row, 1, 11)
    letter.skip(2)
    sheet.text(letter.row, 0, "Sehr geehrte Damen und Herren,")
    letter.skip(2)
    letter.paragraph(
        f"die Kosten der Region {region.region} für {settlement.year} haben sich nach unserer "
        f"Abrechnung {info.corrects} vom {day_text(info.corrects_date)} geändert. Wir "
        f"berichtigen Ihren Anteil wie folgt; die bisherige Abrechnung bleibt im Übrigen "
        f"bestehen.")
    letter.skip()

    head = letter.row
    sheet.text(head, 0, f"Region {region.region}, Jahr {settlement.year}", "th")
    sheet.merged(head, 1, 2, "Erläuterung", "th")
    sheet.text(head, 3, "Betrag", "th_right")
    letter.skip()
    before = info.before
    vat_rate = region.terms.vat_rate
    old_net = letter.amount("Bisher abgerechnet (netto)",
                            f"Rechnung {info.corrects} vom {day_text(info.corrects_date)}",
                            None, before.net)
    old_vat = letter.amount("Umsatzsteuer bisher", "", None, before.vat) \
        if vat_rate > 0 or before.vat else None
    letter.amount("Eigenanteil der Region, berichtigt", "Blatt „Berechnung“",
                  f"={cells.eigenanteil}", region.eigenanteil)
    new_net = letter.amount(f"Anteil der {partner.full_name}, berichtigt",
                            key_text(region, share), f"={cells.parties[partner.name].net}",
                            share.net, "bold")
    net_diff, vat_diff, gross_diff = difference(before, share)
    diff = letter.amount("Differenz netto", "berichtigt − bisher",
                         f"={a1(new_net, 3)}-{a1(old_net, 3)}", net_diff)
    total = f"{a1(diff, 3)}"
    if old_vat is not None:
        new_vat = letter.amount(
            f"Umsatzsteuer {german_number(vat_rate * 100)} %, berichtigt", "",
            f"=ROUND({a1(new_net, 3)}*{cells.vat_rate},2)" if cells.vat_rate else None,
            share.vat)
        vat_row = letter.amount("Differenz Umsatzsteuer", "",
                                f"={a1(new_vat, 3)}-{a1(old_vat, 3)}", vat_diff)
        total = f"{a1(diff, 3)}+{a1(vat_row, 3)}"
    if gross_diff < 0:
        letter.amount("Erstattungsbetrag", "wird Ihnen erstattet", f"=-({total})", -gross_diff,
                      "result")
    else:
        letter.amount("Nachzuzahlender Betrag", "", f"={total}", gross_diff, "result")
    letter.skip()
    write_payment(letter, settlement, region, share, info, gross_diff)
    if region.terms.vat_note:
        letter.paragraph(region.terms.vat_note, "small", 9)
        letter.skip()
    sheet.text(letter.row, 0, "Mit freundlichen Grüßen")
    letter.skip()
    sheet.text(letter.row, 0, "Im Auftrag")
    letter.skip(3)
    sheet.text(letter.row, 0, employer.contact or employer.full_name, "signature_line")
    setup_letter(sheet.ws, letter.row)


def write_payment(letter: Letter, settlement: Settlement, region: RegionResult, share: Share,
                  info: CorrectionLetter, amount: Decimal) -> None:
    sheet = letter.sheet
    reference = payment_reference(settlement.year, info.number, share.party.kassenzeichen)

    def pair(label: str, value: str | date, bold: bool = False) -> None:
        sheet.text(letter.row, 0, label, "bold" if bold else "text")
        if isinstance(value, date):
            sheet.date(letter.row, 1, value, "date_bold")
        else:
            sheet.merged(letter.row, 1, 3, value, "wrap")
        letter.skip()

    if amount > 0:
        letter.paragraph("Bitte überweisen Sie den Betrag bis zum Fälligkeitstag auf folgendes "
                         "Konto:")
        pair("Fällig am", info.due, bold=True)
        pair("Empfänger", region.employer.full_name)
        if region.employer.iban:
            pair("IBAN", iban_groups(region.employer.iban))
        if region.employer.bic:
            pair("BIC", region.employer.bic)
        pair("Verwendungszweck", reference)
    elif amount < 0:
        letter.paragraph("Den Erstattungsbetrag überweisen wir Ihnen bis zum genannten Tag auf "
                         "Ihr uns bekanntes Konto.")
        pair("Erstattung bis zum", info.due, bold=True)
        pair("Verwendungszweck", reference)
    else:
        letter.paragraph("Der zu zahlende Betrag ändert sich nicht.")
    letter.skip()
