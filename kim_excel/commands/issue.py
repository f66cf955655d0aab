"""``kim-excel festschreiben``: letters signed and sent by post are issued (SPEC § 7).

Issuing freezes a region's draft settlement or correction; the ledger also records that its
letters went out by post, so that ``versenden`` never e-mails them afterwards. Bills of an
issued region that never went out (a partner without e-mail address) count as posted too. The
overview and LIESMICH are written anew: they show the new states.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

from kim_excel.commands.summaries import write_summaries
from kim_excel.core.errors import KimError
from kim_excel.ledger.book import Ledger, Region
from kim_excel.ledger.transaction import read_ledger, year_folder


def region_of(ledger: Ledger, folder: Path, text: str | None) -> Region | None:
    """The region a person names (``Süd``, ``sued``, ``SUED``), or None for all of them."""
    if ledger.is_empty:
        raise KimError(f"Für {ledger.year} gibt es noch keine Abrechnung in „{folder}“ – bitte "
                       f"zuerst `kim-excel abrechnen` ausführen.")
    if text is None:
        return None
    region = ledger.region_named(text)
    if region is None:
        raise KimError(f"Region „{text}“ gibt es in „{folder}“ nicht; abgerechnet sind: "
                       f"{', '.join(ledger.regions)}.")
    return region


def pending(ausgabe: Path, year: int, region: str | None, today: date) -> list[str]:
    """What ``festschreiben`` would do, as German lines; nothing changes."""
    ledger = copy.deepcopy(read_ledger(ausgabe, year))
    return ledger.issue(region_of(ledger, ausgabe / str(year), region), today, posted=True)


def issue_folder(ausgabe: Path, year: int, region: str | None, today: date) -> list[str]:
    """``festschreiben``: issue under the output lock, with the overview and LIESMICH."""
    with year_folder(ausgabe, year) as change:
        ledger = change.ledger
        done = ledger.issue(region_of(ledger, change.folder, region), today, posted=True)
        if done:
            with change.writing() as staging:
                change.wrote(*write_summaries(ledger, staging, change.folder))
    return done
