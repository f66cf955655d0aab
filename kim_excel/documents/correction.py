"""Correction letters ``Korrektur_<J>_<Kommune>_<n>.xlsx`` (SPEC § 7).

A correction follows an issued settlement that turned out wrong. Its letter shows the amount
billed before (with the numbers and dates of the documents that billed it), the corrected share
from the region's full trail (sheet ``Berechnung``, live formulas with their values, dated with
the correction's own date and due date), and the difference to pay or to be refunded. A
correction is a letter: head, information block, payment block (a GiroCode when it asks for
payment) and closing are the settlement letter's own (``xlsx/letter.py``). A partner that is no
longer a party of the region (an exit entered after issue) gets its whole bill refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.core.german import day_text, german_number
from kim_excel.core.model import RegionResult, Settlement, Share
from kim_excel.core.references import payment_reference
from kim_excel.documents.xlsx.letter import (
    LETTER_ROW_HEIGHT,
    Payment,
    key_text,
    write_closing,
    write_head,
    write_payment,
)
from kim_excel.documents.xlsx.sheet import Sheet, a1, as_datetime
from kim_excel.documents.xlsx.styles import Styles, add_sheet, new_workbook
from kim_excel.documents.xlsx.trail import (
    TRAIL,
    Dated,
    RegionCells,
    setup_trail,
    write_basis,
    write_region_trail,
)

LETTER = "Korrektur"
SUBJECT = "Kommunales Case-Management – Korrektur der Abrechnung des Eigenanteils {year}"


@dataclass(frozen=True)
class CorrectionLetter:
    """What one partner's correction says besides the corrected settlement."""

    number: str  # its own Rechnungsnummer: 2024-Billerbeck-K1
    corrects: str  # the number of the document it corrects (the partner's last bill)
    corrects_date: date
    day: date  # the correction's own date (the run that wrote it)
    due: date  # R10 from ``day``
    before: Share  # the partner's share as billed before
    # the documents that billed it before: "Rechnung 2024-Billerbeck vom 03.03.2025"; a
    # running total after an earlier correction names both documents
    billed_by: str = ""


def difference(before: Share, after: Share) -> tuple[Decimal, Decimal, Decimal]:
    """(net, VAT, gross) to pay (positive) or to be refunded (negative)."""
    return after.net - before.net, after.vat - before.vat, after.gross - before.gross


def write_correction_workbook(path: Path, settlement: Settlement, region: RegionResult,
                              share: Share, info: CorrectionLetter) -> None:
    """The correction letter to one partner and the corrected region's trail. ``share`` is
    the partner's corrected share (its zero share when it is no longer in the region)."""
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
    basis, row = write_basis(trail, settlement, [region], 0,
                             Dated("Datum der Korrektur", info.day, info.due))
    cells, _ = write_region_trail(trail, settlement, region, basis, row + 1,
                                  highlight=share.party.name)
    write_letter(letter, settlement, region, share, info, cells)
    workbook.close()


def write_letter(sheet: Sheet, settlement: Settlement, region: RegionResult, share: Share,
                 info: CorrectionLetter, cells: RegionCells) -> None:
    partner = share.party
    corrects = f"{info.corrects} vom {day_text(info.corrects_date)}"
    letter = write_head(sheet, region, partner, [
        ("Kassenzeichen", partner.kassenzeichen), ("Rechnungsnummer", info.number),
        ("Berichtigt", corrects), ("Datum", info.day)], SUBJECT.format(year=settlement.year))
    in_region = partner.name in cells.parties
    text = (f"die Kosten der Region {region.region} für {settlement.year} haben sich nach "
            f"unserer Abrechnung {corrects} geändert. Wir berichtigen Ihren Anteil wie folgt; "
            f"die bisherige Abrechnung bleibt im Übrigen bestehen.")
    if not in_region:
        text += " " + exit_text(settlement.year, region, share)
    letter.paragraph(text)
    letter.skip()

    head = letter.row
    sheet.text(head, 0, f"Region {region.region}, Jahr {settlement.year}", "th")
    sheet.merged(head, 1, 2, "Erläuterung", "th")
    sheet.text(head, 3, "Betrag", "th_right")
    letter.skip()
    before = info.before
    vat_rate = region.terms.vat_rate
    old_net = letter.amount("Bisher abgerechnet (netto)", info.billed_by or f"Rechnung "
                            f"{corrects}", None, before.net)
    old_vat = letter.amount("Umsatzsteuer bisher", "", None, before.vat) \
        if vat_rate > 0 or before.vat else None
    letter.amount("Eigenanteil der Region, berichtigt", "Blatt „Berechnung“",
                  f"={cells.eigenanteil}", region.eigenanteil)
    if in_region:
        new_net = letter.amount(f"Anteil der {partner.full_name}, berichtigt",
                                key_text(region, share), f"={cells.parties[partner.name].net}",
                                share.net, "bold")
    else:
        new_net = letter.amount(f"Anteil der {partner.full_name}, berichtigt",
                                "keine Vertragspartei der Region im Jahr", None, share.net,
                                "bold")
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
    write_payment(letter, region.employer, partner, Payment(
        gross_diff, info.due, payment_reference(settlement.year, info.number,
                                                partner.kassenzeichen),
        nothing_text="Der zu zahlende Betrag ändert sich nicht."))
    write_closing(letter, region, [region.terms.vat_note] if region.terms.vat_note else [])


def exit_text(year: int, region: RegionResult, share: Share) -> str:
    """Why a partner owes nothing now: it is no party of the region in the year (R6)."""
    left = next((p for p in region.exited if p.name == share.party.name), None)
    when = f" zum {day_text(left.exit_date)}" if left is not None and left.exit_date else ""
    return (f"Die {share.party.full_name} ist{when} aus der Kooperation ausgeschieden und im "
            f"Jahr {year} keine Vertragspartei der Region mehr (§ 4 Abs. 2); was ihr berechnet "
            f"wurde, erstatten wir.")
