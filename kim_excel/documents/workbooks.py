"""Step 4 of the pipeline: ``Abrechnung_<J>_<Kommune>.xlsx``, the workbook a partner receives.

It has two sheets:

- ``Abrechnung`` — the one-page A4 letter from the Anstellungskörperschaft to the partner
  (``xlsx/letter.py``);
- ``Berechnung`` — the trail: every position, every Sachkosten line and the split of the
  whole region, so each partner can check its bill against the others' (§ 1 Nr. 6;
  ``xlsx/trail.py``).

Every derived figure is a live formula written together with the value ``calculation.py``
computed, so viewers that never recalculate (Outlook preview, Protected View) still show the
right figure; a LibreOffice test recalculates every output and compares. The overview is
``overview.py``, the plan ``planning.py``.
"""

from __future__ import annotations

from pathlib import Path

from kim_excel.core.model import RegionResult, Settlement, Share
from kim_excel.documents.xlsx.letter import LETTER, LETTER_ROW_HEIGHT, SUBJECT, write_letter
from kim_excel.documents.xlsx.sheet import Sheet, as_datetime
from kim_excel.documents.xlsx.styles import Styles, add_sheet, new_workbook
from kim_excel.documents.xlsx.trail import (
    TRAIL,
    Dated,
    setup_trail,
    write_basis,
    write_region_trail,
)
from kim_excel.ledger.book import Bill
from kim_excel.ledger.life import letter_bill


def write_partner_workbook(path: Path, settlement: Settlement, region: RegionResult,
                           share: Share, bill: Bill | None = None) -> None:
    """``Abrechnung_<J>_<Kommune>.xlsx``: the letter to one partner and the region's trail.

    ``bill``: the ledger's (its number, date, due date, amount); by default the draft bill of
    the share. A first letter written after the region was issued carries its own date."""
    bill = bill or letter_bill(settlement.year, region, share)
    workbook = new_workbook(path, {
        "title": f"Abrechnung des Eigenanteils {settlement.year} – {share.party.full_name}",
        "subject": SUBJECT.format(year=settlement.year) + f" – Region {region.region}",
        "author": region.employer.full_name,
        "company": region.employer.full_name,
        "comments": "Erstellt mit kim-excel",
        "created": as_datetime(bill.day),
    })
    styles = Styles(workbook)
    letter = Sheet(add_sheet(workbook, LETTER), styles, LETTER, LETTER_ROW_HEIGHT)
    trail = Sheet(add_sheet(workbook, TRAIL), styles, TRAIL)
    setup_trail(trail, one_page=True)
    dated = None if bill.day == region.terms.settlement_date else Dated(
        "Datum der Abrechnung", bill.day, bill.due)
    basis, row = write_basis(trail, settlement, [region], 0, dated)
    cells, _ = write_region_trail(trail, settlement, region, basis, row + 1,
                                  highlight=share.party.name)
    write_letter(letter, settlement, region, share, cells, basis, bill)
    workbook.close()
