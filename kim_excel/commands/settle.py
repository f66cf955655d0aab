"""The settlement run in one function: read → validate → calculate → write.

``run_settlement`` is what ``kim-excel abrechnen`` calls; ``load_settlement`` stops after
the calculation (``pruefen``, ``versenden``, ``planen`` and the watcher use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from kim_excel.commands.yearfolder import carry_with_record, write_year_folder
from kim_excel.core.calculation import settle
from kim_excel.core.errors import InputError, OutputError
from kim_excel.core.files import os_reason
from kim_excel.core.model import Notice, Problem, Settlement, SettlementInput
from kim_excel.core.references import file_name_clashes, letter_file
from kim_excel.core.schema import VERTRAGSPARTEIEN
from kim_excel.documents.pool import (  # noqa: F401 (re-exported)
    PARALLEL_FROM,
    pool_context,
    worker_count,
)
from kim_excel.input.validation import load_input
from kim_excel.ledger.folder import output_lock, recover, staged_folder
from kim_excel.ledger.life import Action, Plan, Step, plan_run, with_recorded_dates
from kim_excel.ledger.record import RECORD_NAME, Record, read_record

Progress = Callable[[int, int], None]  # (partner workbooks written, of how many)


@dataclass
class RunResult:
    settlement: Settlement
    notices: list[Notice]
    folder: Path
    files: list[Path] = field(default_factory=list)


def load_settlement(eingang: Path, today: date) -> tuple[Settlement, list[Notice]]:
    """Read, validate and calculate; raises :class:`InputError` listing every problem."""
    _, settlement = read_and_settle(eingang, today)
    return settlement, list(settlement.notices)


def read_and_settle(eingang: Path, today: date) -> tuple[SettlementInput, Settlement]:
    """read → validate → calculate. The input's warnings travel with the settlement, so
    that the terminal and LIESMICH.txt list them with the calculation's own."""
    inp, notices = load_input(eingang, today)  # read + validate
    settlement = settle(inp)  # calculate (pure)
    return inp, replace(settlement, notices=(*notices, *settlement.notices))


def run_settlement(eingang: Path, ausgabe: Path, today: date, pdf: bool = False,
                   progress: Progress | None = None, workers: int | None = None) -> RunResult:
    """The whole run; writes ``<ausgabe>/<J>/`` atomically or nothing at all.

    read → validate → calculate → compare with the year folder's record → write. The region
    is the unit: only the regions whose figures are new or changed get new files; an issued
    region gets corrections instead (``life.py``). ``progress(done, total)`` hears how many
    partner workbooks are written (the library never prints); ``workers``: processes that
    write them, ``None`` decides by their number.
    """
    inp, settlement = read_and_settle(eingang, today)
    notices = list(settlement.notices)
    names = partner_file_names(settlement)
    folder = ausgabe / str(settlement.year)
    try:
        with output_lock(ausgabe):
            recover(folder)
            had_record = (folder / RECORD_NAME).is_file()
            record = read_record(folder, settlement.year)
            settlement = with_recorded_dates(inp, settlement, record)  # the record's dates
            plan = plan_run(settlement, record, folder, today, pdf)  # draft, issued, correct
            notices += plan.notices
            remove: set[str] = set()
            carry = carry_with_record(record, had_record, remove, notices)
            with staged_folder(folder, carry) as staging:
                outcome = write_year_folder(settlement, plan, record, names, staging, pdf,
                                            progress, workers)
                remove.update(outcome.remove)
                notices += outcome.notices
    except write_errors() as exc:
        raise OutputError(output_failure(ausgabe, exc)) from None
    return RunResult(settlement, notices, folder, [folder / name for name in outcome.written])


def write_errors() -> tuple[type[BaseException], ...]:
    """What writing can raise when the disk or the folder is the problem, not kim-excel:
    a full disk, a read-only share, a name too long, a folder where a file should be."""
    from xlsxwriter.exceptions import FileCreateError

    return (OSError, FileCreateError)


def output_failure(ausgabe: Path, exc: BaseException) -> str:
    reason = os_reason(exc)
    return (f"Die Ergebnisse können nicht nach „{ausgabe}“ geschrieben werden ({reason}). "
            f"Bitte Schreibrechte und freien Speicherplatz prüfen, oder mit --ausgabe einen "
            f"anderen Ordner angeben. Frühere Ergebnisse sind unverändert.")


def partner_file_names(settlement: Settlement) -> dict[str, str]:
    """``Abrechnung_<J>_<Kommune>.xlsx`` per partner, in ASCII; two partners must not share
    a file name after transliteration."""
    partners = [s.party.name for region in settlement.regions for s in region.partner_shares]
    problems = [Problem(f"„{partner}“ und „{earlier}“ ergäben denselben Dateinamen {file}; bitte "
                        f"im Blatt „{VERTRAGSPARTEIEN}“ einen der Namen eindeutig machen.")
                for partner, earlier, file in file_name_clashes(settlement.year, partners)]
    if problems:
        raise InputError(problems)
    return {partner: letter_file(settlement.year, partner) for partner in partners}


def write_outputs(settlement: Settlement, names: dict[str, str], folder: Path,
                  progress: Progress | None = None, workers: int | None = None) -> list[Path]:
    """Every output file of ``settlement`` into the empty ``folder`` (no earlier record)."""

    plan = Plan([Step(region, Action.WRITE) for region in settlement.regions])
    outcome = write_year_folder(settlement, plan, Record(year=settlement.year), names, folder,
                                False, progress, workers)
    return [folder / name for name in outcome.written]
