"""The settlement run in one function: read → validate → calculate → write.

``run_settlement`` is what ``kim-excel abrechnen`` calls; ``load_settlement`` stops after
the calculation (``pruefen``, ``versenden``, ``planen`` and the watcher use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kim_excel.booking import booking_csv
from kim_excel.calculation import settle
from kim_excel.errors import InputError, OutputError
from kim_excel.liesmich import write_liesmich
from kim_excel.model import Notice, Problem, Settlement
from kim_excel.output import (
    ascii_name,
    os_reason,
    output_lock,
    staged_folder,
    write_atomically,
)
from kim_excel.validation import VERTRAGSPARTEIEN, load_input


@dataclass
class RunResult:
    settlement: Settlement
    notices: list[Notice]
    folder: Path
    files: list[Path] = field(default_factory=list)


def load_settlement(eingang: Path, today: date) -> tuple[Settlement, list[Notice]]:
    """Read, validate and calculate; raises :class:`InputError` listing every problem."""
    inp, notices = load_input(eingang, today)  # read + validate
    settlement = settle(inp)  # calculate (pure)
    return settlement, [*notices, *settlement.notices]


def run_settlement(eingang: Path, ausgabe: Path, today: date, pdf: bool = False) -> RunResult:
    """The whole run; writes ``<ausgabe>/<J>/`` atomically or nothing at all."""
    settlement, notices = load_settlement(eingang, today)
    names = partner_file_names(settlement)
    folder = ausgabe / str(settlement.year)
    try:
        with output_lock(ausgabe), staged_folder(folder) as staging:
            files = write_outputs(settlement, names, staging)
            if pdf:
                from kim_excel.pdf import convert_letters  # only when asked: needs LibreOffice

                notices.extend(convert_letters([f for f in files if f.name.startswith(
                    "Abrechnung_")], staging))
            produced = sorted(p.name for p in staging.iterdir())
    except write_errors() as exc:
        raise OutputError(output_failure(ausgabe, exc)) from None
    return RunResult(settlement, notices, folder, [folder / name for name in produced])


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
    names: dict[str, str] = {}
    taken: dict[str, str] = {}
    problems = []
    for region in settlement.regions:
        for share in region.partner_shares:
            file = f"Abrechnung_{settlement.year}_{ascii_name(share.party.name)}.xlsx"
            if file.lower() in taken:
                problems.append(Problem(
                    f"„{share.party.name}“ und „{taken[file.lower()]}“ ergäben denselben "
                    f"Dateinamen {file}; bitte im Blatt „{VERTRAGSPARTEIEN}“ einen der Namen "
                    f"eindeutig machen."))
            taken[file.lower()] = share.party.name
            names[share.party.name] = file
    if problems:
        raise InputError(problems)
    return names


def write_outputs(settlement: Settlement, names: dict[str, str], folder: Path) -> list[Path]:
    from kim_excel.workbooks import write_overview, write_partner_workbook

    files = []
    for region in settlement.regions:
        for share in region.partner_shares:
            path = folder / names[share.party.name]
            write_partner_workbook(path, settlement, region, share)
            files.append(path)
    overview = folder / f"Uebersicht_{settlement.year}.xlsx"
    write_overview(overview, settlement)
    booking = folder / f"Buchungsliste_{settlement.year}.csv"
    write_atomically(booking, booking_csv(settlement))
    readme = write_liesmich(folder, settlement, names)  # what each file is, what to do next
    return [*files, overview, booking, readme]
