"""Writing many partner workbooks in a pool of processes (moved out of ``pipeline.py``).

Each partner workbook is independent of the others, so on a machine with several cores a
pool of processes writes them in chunks; the main process meanwhile writes the summaries.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from kim_excel.core.errors import KimError
from kim_excel.core.model import Settlement
from kim_excel.documents.einvoices import has_einvoice, prepare
from kim_excel.ledger.book import Bill

Progress = Callable[[int, int], None]  # (partner workbooks written, of how many)


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


def write_partner_workbooks(settlement: Settlement, bills: dict[str, Bill], folder: Path,
                            jobs: list[tuple[int, int]], report: Progress) -> int:
    """Write the partner workbooks of ``jobs`` (region index, share index): each partner's
    letter as the ledger's ``bills`` (partner → bill) name it, with its XRechnung."""
    from kim_excel.documents import workbooks  # looked up per call, so tests can replace the writer
    from kim_excel.documents.einvoices import write_einvoice

    for done, (r, s) in enumerate(jobs, start=1):
        region = settlement.regions[r]
        share = region.shares[s]
        bill = bills[share.party.name]
        letter = folder / bill.file
        workbooks.write_partner_workbook(letter, settlement, region, share, bill)
        write_einvoice(folder, settlement, region, share, letter.stem, number=bill.number,
                       issue_date=bill.day, due_date=bill.due)  # SPEC § 8, or nothing
        report(done, len(jobs))
    return len(jobs)


def write_in_pool(settlement: Settlement, bills: dict[str, Bill], folder: Path,
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
                               initargs=(settlement, bills, folder))
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


def start_worker(settlement: Settlement, bills: dict[str, Bill], folder: Path) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the main process's business
    die_with_parent()
    _WORKER.update(settlement=settlement, bills=bills, folder=folder)


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
    return write_partner_workbooks(_WORKER["settlement"], _WORKER["bills"], _WORKER["folder"],
                                   jobs, lambda done, total: None)
