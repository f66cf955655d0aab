"""The files of a year folder that cover all of it, written from the ledger: the overview, the
Buchungsliste and LIESMICH. Every command that changes the folder writes them anew, so what
the clerk sees agrees with what the ledger holds (SPEC § 7): the settlement run, festschreiben,
versenden.

The Buchungsliste keeps each region's settlement as issued (its rows never change after
issue: corrections have their own lists); the overview shows every region's current figures
and every bill with its state.
"""

from __future__ import annotations

from pathlib import Path

from kim_excel.core.files import write_atomically
from kim_excel.core.references import DRAFT_FOLDER, booking_file, overview_file, payments_file
from kim_excel.documents.booking import booking_csv
from kim_excel.documents.liesmich import FILE_NAME, write_liesmich
from kim_excel.documents.overview import write_overview
from kim_excel.documents.payments import write_payments
from kim_excel.ledger.book import Ledger
from kim_excel.ledger.payments import payments
from kim_excel.ledger.store import HISTORY_FOLDER, RECORD_NAME
from kim_excel.ledger.transaction import Transaction


def write_summaries(change: Transaction, staging: Path) -> list[str]:
    """Overview, Buchungsliste and ``Zahlungen_<J>.xlsx`` into ``staging`` now; LIESMICH when
    the change is published, so that it lists every file the change wrote (and the folder's
    other files as the clerk's)."""
    ledger = change.ledger
    year = ledger.year
    paid = payments(ledger) if ledger.statements else None
    write_overview(staging / overview_file(year), ledger.settlement(), ledger, paid)
    write_atomically(staging / booking_file(year),
                     booking_csv(ledger.settlement(latest=False)))
    written = [overview_file(year), booking_file(year)]
    if paid is not None:  # Zahlungen_<J>.xlsx once a statement was read (SPEC § 9)
        write_payments(staging / payments_file(year), ledger, paid)
        written.append(payments_file(year))

    def liesmich(staging: Path) -> list[str]:
        write_liesmich(staging, ledger, ledger.notices, others_in(change.folder, ledger), paid)
        return [FILE_NAME]

    change.on_publish(liesmich)
    return written


def others_in(folder: Path, ledger: Ledger) -> list[str]:
    """The files of the folder kim-excel does not manage."""
    if not folder.is_dir():
        return []
    ours = {*ledger.files, *ledger.released, RECORD_NAME, FILE_NAME}
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.name not in ours and not p.name.startswith(".")
                  and p.name not in (DRAFT_FOLDER, HISTORY_FOLDER))
