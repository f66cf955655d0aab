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
from kim_excel.core.model import Settlement
from kim_excel.core.references import DRAFT_FOLDER, booking_file, overview_file
from kim_excel.documents.booking import booking_csv
from kim_excel.documents.liesmich import FILE_NAME, write_liesmich
from kim_excel.documents.overview import write_overview
from kim_excel.ledger.book import Ledger
from kim_excel.ledger.store import HISTORY_FOLDER, RECORD_NAME


def folder_settlement(ledger: Ledger, latest: bool = True) -> Settlement:
    """The settlement of every region of the folder: each one's current figures (``latest``)
    or as first billed."""
    context = ledger.context
    return Settlement(settings=context.settings, subsidy_rate=context.subsidy_rate,
                      subsidy_rate_is_default=context.subsidy_rate_is_default,
                      regions=tuple(r.latest.result if latest else r.settlement.result
                                    for r in ledger.regions.values()))


def write_summaries(ledger: Ledger, staging: Path, folder: Path | None = None) -> list[str]:
    """Overview, Buchungsliste and LIESMICH into ``staging``; ``folder``: the year folder as
    it is (its other files are listed as the clerk's)."""
    year = ledger.year
    write_overview(staging / overview_file(year), folder_settlement(ledger), ledger)
    write_atomically(staging / booking_file(year),
                     booking_csv(folder_settlement(ledger, latest=False)))
    write_liesmich(staging, ledger, ledger.notices, others_in(folder, ledger))
    return [overview_file(year), booking_file(year), FILE_NAME]


def others_in(folder: Path | None, ledger: Ledger) -> list[str]:
    """The files of the folder kim-excel does not manage."""
    if folder is None or not folder.is_dir():
        return []
    ours = {*ledger.files, *ledger.released, RECORD_NAME, FILE_NAME}
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.name not in ours and not p.name.startswith(".")
                  and p.name not in (DRAFT_FOLDER, HISTORY_FOLDER))
