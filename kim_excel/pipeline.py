"""The settlement run in one function: read → validate → calculate → write.

``run_settlement`` is what ``kim-excel abrechnen`` calls; ``load_settlement`` stops after
the calculation (``pruefen``, ``versenden``, ``planen`` and the watcher use it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kim_excel.booking import booking_csv
from kim_excel.calculation import settle
from kim_excel.einvoices import embed_einvoices, has_einvoice, prepare, write_einvoice
from kim_excel.errors import InputError, KimError, OutputError
from kim_excel.liesmich import write_liesmich
from kim_excel.model import Notice, Problem, Settlement
from kim_excel.output import (
    ascii_name,
    os_reason,
    output_lock,
    staged_folder,
    write_atomically,
)
from kim_excel.schema import VERTRAGSPARTEIEN
from kim_excel.validation import load_input

Progress = Callable[[int, int], None]  # (partner workbooks written, of how many)


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


def run_settlement(eingang: Path, ausgabe: Path, today: date, pdf: bool = False,
                   progress: Progress | None = None, workers: int | None = None) -> RunResult:
    """The whole run; writes ``<ausgabe>/<J>/`` atomically or nothing at all.

    ``progress(done, total)`` hears how many partner workbooks are written (the library
    never prints); ``workers``: processes that write them, ``None`` decides by their number.
    """
    settlement, notices = load_settlement(eingang, today)
    names = partner_file_names(settlement)
    folder = ausgabe / str(settlement.year)
    try:
        with output_lock(ausgabe), staged_folder(folder) as staging:
            files = write_outputs(settlement, names, staging, progress, workers)
            if pdf:
                from kim_excel.pdf import convert_letters  # only when asked: needs LibreOffice

                notices.extend(convert_letters([f for f in files if f.name.startswith(
                    "Abrechnung_") and f.suffix == ".xlsx"], staging))
                embed_einvoices(staging)  # the PDFs beside an XRechnung become ZUGFeRD
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


def write_outputs(settlement: Settlement, names: dict[str, str], folder: Path,
                  progress: Progress | None = None, workers: int | None = None) -> list[Path]:
    """Every output file into ``folder``: the partner workbooks (in a process pool when
    there are many), the overview and the Buchungsliste."""
    from kim_excel.overview import write_overview

    jobs = [(r, s) for r, region in enumerate(settlement.regions)
            for s, share in enumerate(region.shares) if not share.is_employer]
    files = [folder / names[settlement.regions[r].shares[s].party.name] for r, s in jobs]
    report = progress or (lambda done, total: None)
    report(0, len(jobs))
    overview = folder / f"Uebersicht_{settlement.year}.xlsx"
    booking = folder / f"Buchungsliste_{settlement.year}.csv"

    def write_summaries() -> None:
        write_overview(overview, settlement)
        write_atomically(booking, booking_csv(settlement))
        write_liesmich(folder, settlement, names)  # what each file is, what to do next

    count = worker_count(len(jobs), workers)
    if count > 1:
        write_in_pool(settlement, names, folder, jobs, count, report, write_summaries)
    else:
        write_partner_workbooks(settlement, names, folder, jobs, report)
        write_summaries()
    return [*files, overview, booking, folder / "LIESMICH.txt"]


# ------------------------------------------------------------ writing in parallel
# Each partner workbook is independent of the others, so on a machine with several cores
# a pool of processes writes them in chunks. Starting the pool costs about 0.05 s; measured
# on 2 cores with the full letters (`python3 benchmarks/run.py --break-even`, about 6 ms of
# xlsxwriter work per letter) it pays off from about 20 letters and saves a fifth of the
# time at 50, 40 % at 400. Below PARALLEL_FROM one process is as fast and simpler.
PARALLEL_FROM = 30
CHUNK_MAX = 100  # letters per task: about 0.6 s of work, so progress moves and the end is even


def worker_count(jobs: int, workers: int | None) -> int:
    """Processes for ``jobs`` workbooks: as asked, or every core the run may use when
    there are at least PARALLEL_FROM workbooks."""
    if workers is not None:
        return max(1, min(workers, jobs))
    if jobs < PARALLEL_FROM:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))  # honours CPU limits of containers
    except AttributeError:  # not on Windows and macOS
        cores = os.cpu_count() or 1
    return max(1, min(cores, jobs))


def write_partner_workbooks(settlement: Settlement, names: dict[str, str], folder: Path,
                            jobs: list[tuple[int, int]], report: Progress) -> int:
    """Write the partner workbooks of ``jobs`` (region index, share index)."""
    from kim_excel import workbooks  # looked up per call, so tests can replace the writer

    for done, (r, s) in enumerate(jobs, start=1):
        region = settlement.regions[r]
        share = region.shares[s]
        letter = folder / names[share.party.name]
        workbooks.write_partner_workbook(letter, settlement, region, share)
        write_einvoice(folder, settlement, region, share, letter.stem)  # SPEC § 8, or nothing
        report(done, len(jobs))
    return len(jobs)


def write_in_pool(settlement: Settlement, names: dict[str, str], folder: Path,
                  jobs: list[tuple[int, int]], count: int, report: Progress,
                  write_summaries: Callable[[], None]) -> None:
    """Write the partner workbooks in ``count`` processes; the overview and the
    Buchungsliste meanwhile here. The settlement goes to each process once (the pool's
    initializer), a task is only a list of indices. On any failure the pending tasks are
    cancelled and the running ones finish before the error goes up, so that the caller
    can remove the staging folder with nobody writing into it."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    import xlsxwriter  # noqa: F401  once here, not again in every forked worker

    if any(has_einvoice(settlement.regions[r].shares[s]) for r, s in jobs):
        prepare()  # drafthorse and its schema, likewise

    size = max(1, min(CHUNK_MAX, -(-len(jobs) // (count * 8))))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    pool = ProcessPoolExecutor(max_workers=min(count, len(chunks)),
                               mp_context=pool_context(), initializer=start_worker,
                               initargs=(settlement, names, folder))
    try:
        futures = [pool.submit(write_chunk, chunk) for chunk in chunks]
        write_summaries()
        done = 0
        for future in as_completed(futures):
            done += future.result()
            report(done, len(jobs))
    except BrokenProcessPool:
        raise KimError(
            "Ein Hilfsprozess, der die Abrechnungen schreibt, wurde unerwartet beendet "
            "(zu wenig Arbeitsspeicher?). Es wurde nichts geschrieben; bitte erneut starten, "
            "notfalls mit „--prozesse 1“."
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def pool_context():
    """``fork`` where it is safe and cheap (Linux, no other threads running): the workers
    share the settlement without copying it. Otherwise ``spawn`` (a fresh interpreter that
    gets the settlement pickled once): a fork while another thread holds a lock — the
    watcher has threads — could hang the worker."""
    import multiprocessing
    import sys
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


_WORKER: dict[str, object] = {}


def start_worker(settlement: Settlement, names: dict[str, str], folder: Path) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the main process's business
    die_with_parent()
    _WORKER.update(settlement=settlement, names=names, folder=folder)


def die_with_parent() -> None:
    """Linux: end this worker when the main process is killed, so that no orphan goes on
    writing into a staging folder that the next run sweeps away."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal
    from contextlib import suppress

    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def write_chunk(jobs: list[tuple[int, int]]) -> int:
    return write_partner_workbooks(_WORKER["settlement"], _WORKER["names"], _WORKER["folder"],
                                   jobs, lambda done, total: None)
