"""``kim-excel abrechnen``: the settlement run in one function.

    read → validate → compare with the ledger (dates) → calculate → plan → write

``run_settlement`` is what ``kim-excel abrechnen`` calls; ``load_settlement`` stops after the
calculation (``pruefen``, ``planen`` and the watcher's checks use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError

from kim_excel.commands.letters import Progress, write_settlement
from kim_excel.core.errors import InputError, OutputError
from kim_excel.core.files import os_reason
from kim_excel.core.model import Notice, Problem, Settlement, SettlementInput
from kim_excel.core.references import file_name_clashes
from kim_excel.core.schema import VERTRAGSPARTEIEN
from kim_excel.documents.pool import (  # noqa: F401 (re-exported)
    PARALLEL_FROM,
    pool_context,
    worker_count,
)
from kim_excel.input.validation import load_input
from kim_excel.ledger.book import Ledger
from kim_excel.ledger.life import apply_plan, plan_settlement, settle_dated
from kim_excel.ledger.transaction import year_folder

# What writing can raise when the disk or the folder is the problem, not kim-excel: a full
# disk, a read-only share, a name too long, a folder where a file should be.
WRITE_ERRORS = (OSError, FileCreateError)


@dataclass
class RunResult:
    settlement: Settlement
    notices: list[Notice]
    folder: Path
    files: list[Path] = field(default_factory=list)
    ledger: Ledger | None = None  # the year folder's ledger after the run


def load_settlement(eingang: Path, today: date) -> tuple[Settlement, list[Notice]]:
    """Read, validate and calculate (without a year folder: an empty date is today);
    raises :class:`InputError` listing every problem."""
    inp, notices = load_input(eingang, today)
    settlement = with_notices(settle_dated(inp, None, today), notices)
    return settlement, list(settlement.notices)


def with_notices(settlement: Settlement, notices: list[Notice]) -> Settlement:
    """The input's warnings travel with the settlement, so that the terminal and
    LIESMICH.txt list them with the calculation's own."""
    return replace(settlement, notices=(*notices, *settlement.notices))


def run_settlement(eingang: Path, ausgabe: Path, today: date, pdf: bool = False,
                   progress: Progress | None = None, workers: int | None = None) -> RunResult:
    """The whole run; writes ``<ausgabe>/<J>/`` atomically or nothing at all.

    The region is the unit: only the regions whose figures are new or changed get new files;
    an issued region gets corrections instead (``ledger/life.py``). ``progress(done, total)``
    hears how many partner workbooks are written (the library never prints); ``workers``:
    processes that write them, ``None`` decides by their number.
    """
    inp, input_notices = load_input(eingang, today)  # read + validate
    check_file_names(inp)
    try:
        with year_folder(ausgabe, inp.settings.year) as change:
            ledger = change.ledger
            settlement = with_notices(settle_dated(inp, ledger, today), input_notices)
            plan = plan_settlement(settlement, ledger, today, pdf, changed_files(change))
            apply_plan(plan, ledger, settlement)
            with change.writing() as staging:
                done = write_settlement(ledger, plan, settlement, staging, pdf, progress,
                                        workers, change.folder)
                change.wrote(*done.written)
    except WRITE_ERRORS as exc:
        raise OutputError(output_failure(ausgabe, exc)) from None
    return RunResult(settlement, [*settlement.notices, *plan.notices, *done.notices,
                                  *change.notices],
                     change.folder, [change.folder / n for n in done.written], ledger)


def changed_files(change):
    return lambda names: [n for n in names if change.changed_by_hand(n)]


def output_failure(ausgabe: Path, exc: BaseException) -> str:
    return (f"Die Ergebnisse können nicht nach „{ausgabe}“ geschrieben werden "
            f"({os_reason(exc)}). Bitte Schreibrechte und freien Speicherplatz prüfen, oder mit "
            f"--ausgabe einen anderen Ordner angeben. Frühere Ergebnisse sind unverändert.")


def check_file_names(inp: SettlementInput) -> None:
    """Two partners must not share a file name after transliteration."""
    partners = [p.name for p in inp.parties if not p.is_employer]
    problems = [Problem(f"„{partner}“ und „{earlier}“ ergäben denselben Dateinamen {file}; bitte "
                        f"im Blatt „{VERTRAGSPARTEIEN}“ einen der Namen eindeutig machen.")
                for partner, earlier, file in file_name_clashes(inp.settings.year, partners)]
    if problems:
        raise InputError(problems)
