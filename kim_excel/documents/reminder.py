"""``Zahlungserinnerung_<J>_<Kommune>_<n>.xlsx``: a friendly reminder of what is still open.

A printable A4 letter in the style of the settlement letters (head, information block,
payment block with a GiroCode and closing are theirs, ``xlsx/letter.py``): every open bill of
the partner with its amount, what was received and what is open (a credit owed to the partner
netted), the payments considered up to the latest statement, and a new date to pay. No fees
and no interest (SPEC § 9; a Zahlungserinnerung has no legal effect). The GiroCode asks for the
open total with the Verwendungszweck of the oldest open bill.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from kim_excel.core.german import day_text
from kim_excel.core.references import payment_reference
from kim_excel.documents.xlsx.letter import (
    LETTER_ROW_HEIGHT,
    LETTER_WIDTHS,
    Payment,
    write_closing,
    write_head,
    write_payment,
)
from kim_excel.documents.xlsx.sheet import Sheet, a1, as_datetime, lines_needed, span
from kim_excel.documents.xlsx.styles import Styles, add_sheet, new_workbook
from kim_excel.ledger.book import Bill, Region, Reminder

LETTER = "Zahlungserinnerung"
SUBJECT = "Kommunales Case-Management – Zahlungserinnerung zur Abrechnung des Eigenanteils {year}"
NO_FEES = ("Diese Zahlungserinnerung ist kostenfrei: Gebühren oder Zinsen berechnen wir nicht. "
           "Haben Sie inzwischen gezahlt, ist sie gegenstandslos.")


def write_reminder(path: Path, year: int, region: Region, reminder: Reminder,
                   bills: list[tuple[Bill, Decimal]]) -> None:
    """``bills``: the open bills it covers, oldest due first, each with what was received."""
    partner = region.party(reminder.bill.partner)
    employer = region.latest.result.employer
    workbook = new_workbook(path, {
        "title": f"Zahlungserinnerung {reminder.bill.number} – {partner.full_name}",
        "subject": SUBJECT.format(year=year), "author": employer.full_name,
        "company": employer.full_name, "comments": "Erstellt mit kim-excel",
        "created": as_datetime(reminder.bill.day)})
    sheet = Sheet(add_sheet(workbook, LETTER), Styles(workbook), LETTER, LETTER_ROW_HEIGHT)
    letter = write_head(sheet, region.latest.result, partner, [
        ("Kassenzeichen", partner.kassenzeichen), ("Zahlungserinnerung", reminder.bill.number),
        ("Datum", reminder.bill.day)], SUBJECT.format(year=year))
    letter.paragraph(
        f"nach unseren Unterlagen ist aus der Abrechnung des Eigenanteils {year} am Kommunalen "
        f"Case-Management der Region {region.name} noch ein Betrag offen. Berücksichtigt sind "
        f"die Zahlungseingänge bis zum {day_text(reminder.until)}.")
    letter.skip()
    head = letter.row
    for col, title in enumerate(("Rechnung", "Betrag", "bezahlt", "offen")):
        sheet.text(head, col, title, "th" if col == 0 else "th_right")
    letter.skip()
    first = letter.row
    for bill, received in bills:
        label = (f"{'Rechnung' if bill.kind.value == 'letter' else 'Korrektur'} {bill.number} "
                 f"vom {day_text(bill.day)}, fällig am {day_text(bill.due)}")
        sheet.text(letter.row, 0, label, "cell_wrap")
        sheet.number(letter.row, 1, bill.amount, "eur")
        sheet.number(letter.row, 2, received, "eur")
        sheet.formula(letter.row, 3, f"={a1(letter.row, 1)}-{a1(letter.row, 2)}",
                      bill.amount - received, "eur")
        sheet.fit_row(letter.row, lines_needed(label, LETTER_WIDTHS[0]))
        letter.skip()
    total = reminder.bill.amount
    sheet.text(letter.row, 0, "Offen insgesamt", "label_result")
    sheet.blank(letter.row, 1, "blank_result")
    sheet.blank(letter.row, 2, "blank_result")
    sheet.formula(letter.row, 3, f"=SUM({span(first, letter.row - 1, 3)})", total,
                  "eur_result")
    letter.skip(2)
    oldest = bills[0][0]
    write_payment(letter, employer, partner, Payment(
        total, reminder.bill.due, payment_reference(year, oldest.number,
                                                    partner.kassenzeichen)))
    write_closing(letter, region.latest.result, [NO_FEES])
    workbook.close()
