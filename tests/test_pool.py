"""Many partner workbooks in a process pool: the same files, the same errors, progress."""

from __future__ import annotations

import errno
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from benchmarks.scenarios import fixed, scenario_form
from kim_excel.cli.main import ProgressLine
from kim_excel.commands.settle import PARALLEL_FROM, run_settlement, worker_count
from kim_excel.core.errors import InputError, KimError, OutputError
from kim_excel.core.model import CellRef, Problem
from kim_excel.documents import workbooks
from tests.builders import example_2024, write

TODAY = date(2025, 3, 2)


class FrozenClock(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen_xlsxwriter_clock(monkeypatch):
    """xlsxwriter stamps the creation time unless the writer sets it; freeze it so that two
    runs can be compared byte for byte (forked workers inherit the patch)."""
    import xlsxwriter.core

    monkeypatch.setattr(xlsxwriter.core, "datetime", FrozenClock)


@pytest.fixture
def forty_partners(tmp_path) -> Path:
    """Four regions of ten partners each, with hours, advances and a party that left."""
    return write(scenario_form(fixed("40", "", 40)), tmp_path / "eingang" / "Vierzig.xlsx")


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.slow
def test_two_processes_write_byte_identical_files_to_one_process(
        tmp_path, forty_partners, frozen_xlsxwriter_clock):
    one = run_settlement(forty_partners, tmp_path / "eins", TODAY, workers=1)
    two = run_settlement(forty_partners, tmp_path / "zwei", TODAY, workers=2)
    assert [f.name for f in one.files] == [f.name for f in two.files]
    assert len(one.files) >= 40  # partners (less any that left) + overview + Buchungsliste
    assert contents(one.folder) == contents(two.folder)


def test_shipped_example_in_a_pool_matches_one_process(tmp_path, frozen_xlsxwriter_clock):
    source = write(example_2024(), tmp_path / "in" / "Beispiel.xlsx")
    one = run_settlement(source, tmp_path / "eins", TODAY, workers=1)
    three = run_settlement(source, tmp_path / "drei", TODAY, workers=3)
    assert contents(one.folder) == contents(three.folder)


@pytest.mark.slow
def test_with_other_threads_running_fresh_worker_processes_write_the_same_files(
        tmp_path, forty_partners):
    """A process with threads (the watcher) must not fork: the pool spawns fresh
    interpreters instead, which get the settlement pickled — and write the same files."""
    import threading

    from benchmarks.floor import same_workbook
    from kim_excel.commands.settle import pool_context

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert pool_context().get_start_method() == "spawn"
        two = run_settlement(forty_partners, tmp_path / "zwei", TODAY, workers=2)
    finally:
        stop.set()
        other.join()
    assert pool_context().get_start_method() == "fork"
    one = run_settlement(forty_partners, tmp_path / "eins", TODAY, workers=1)
    assert sorted(contents(one.folder)) == sorted(contents(two.folder))
    for path in one.files:  # the clock is not frozen in a spawned process: stamps may differ
        other_file = two.folder / path.name
        if path.suffix == ".xlsx":
            assert same_workbook(path, other_file), path.name
        else:
            assert path.read_bytes() == other_file.read_bytes()


def failing_writer(failure: BaseException, party: str):
    """The real writer, except that for ``party`` it leaves half a file and raises."""
    real = workbooks.write_partner_workbook

    def write_partner_workbook(path, settlement, region, share, bill=None):
        if share.party.name == party:
            path.write_bytes(b"PK\x03\x04 halb geschrieben")
            raise failure
        real(path, settlement, region, share, bill)

    return write_partner_workbook


@pytest.mark.parametrize("failure", [
    KimError("Die Vorlage für das Anschreiben fehlt."),
    OSError(errno.ENOSPC, "No space left on device"),
    InputError([Problem("„x“ ist kein Betrag", CellRef("a.xlsx", "Sachkosten", "D7"))]),
], ids=["KimError", "Platte voll", "InputError"])
@pytest.mark.slow
def test_a_failing_worker_raises_the_same_error_and_keeps_the_earlier_results(
        tmp_path, forty_partners, monkeypatch, failure):
    ausgabe = tmp_path / "ausgabe"
    earlier = run_settlement(forty_partners, ausgabe, TODAY, workers=1)
    before = contents(earlier.folder)
    victim = earlier.settlement.regions[-1].partner_shares[-1].party.name
    monkeypatch.setattr(workbooks, "write_partner_workbook", failing_writer(failure, victim))
    # Another kim-excel version: the drafts are written anew (same figures would be kept).
    monkeypatch.setattr("kim_excel.ledger.life.__version__", "0-test")

    # A disk error becomes the German OutputError; the others go up unchanged.
    expected = OutputError if isinstance(failure, OSError) else type(failure)
    raised = {}
    for workers in (1, 2):
        with pytest.raises(expected) as info:
            run_settlement(forty_partners, ausgabe, TODAY, workers=workers)
        raised[workers] = info.value
    assert str(raised[1]) == str(raised[2])
    if isinstance(failure, OSError):
        assert "Frühere Ergebnisse sind unverändert" in str(raised[2])
    else:
        assert str(raised[2]) == str(failure)
    assert getattr(raised[2], "problems", None) == getattr(failure, "problems", None)
    assert contents(earlier.folder) == before  # nothing half-written, nothing lost
    assert sorted(p.name for p in ausgabe.iterdir()) == [".kim-excel.lock", "2024"]


def test_a_worker_that_dies_is_reported_in_german_and_nothing_is_written(
        tmp_path, forty_partners, monkeypatch):
    main = os.getpid()
    real = workbooks.write_partner_workbook

    def dying(path, settlement, region, share, bill=None):
        if os.getpid() != main:
            os._exit(9)  # as if the kernel killed it for want of memory
        real(path, settlement, region, share, bill)

    monkeypatch.setattr(workbooks, "write_partner_workbook", dying)
    ausgabe = tmp_path / "ausgabe"
    with pytest.raises(KimError, match="Hilfsprozess.*unerwartet beendet.*--prozesse 1"):
        run_settlement(forty_partners, ausgabe, TODAY, workers=2)
    assert [p.name for p in ausgabe.iterdir()] == [".kim-excel.lock"]


@pytest.mark.slow
def test_progress_counts_every_partner_workbook_up_to_the_total(tmp_path, forty_partners):
    for workers in (1, 2):
        calls: list[tuple[int, int]] = []
        result = run_settlement(forty_partners, tmp_path / f"aus{workers}", TODAY,
                                progress=lambda done, total, c=calls: c.append((done, total)),
                                workers=workers)
        partners = sum(len(r.partner_shares) for r in result.settlement.regions)
        assert calls[0] == (0, partners) and calls[-1] == (partners, partners)
        done = [d for d, _ in calls]
        assert done == sorted(done) and {t for _, t in calls} == {partners}
        if workers == 1:
            assert done == list(range(partners + 1))


def test_a_pool_only_when_there_are_many_workbooks():
    assert worker_count(PARALLEL_FROM - 1, None) == 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert worker_count(PARALLEL_FROM, None) == min(cores, PARALLEL_FROM)
    assert worker_count(5, 2) == 2  # asked for explicitly
    assert worker_count(1, 4) == 1  # never more processes than workbooks
    assert worker_count(0, None) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_stays_quiet_for_a_short_run_and_counts_in_german_for_a_long_one(
        monkeypatch, capsys):
    import kim_excel.cli.main as cli

    clock = Clock()
    monkeypatch.setattr(cli.time, "monotonic", clock)
    short = ProgressLine()
    for done in range(0, 341, 20):
        clock.now += 0.01
        short(done, 340)
    short(340, 340)
    short.finish()
    assert capsys.readouterr().err == ""

    long = ProgressLine()
    long(0, 10_638)
    clock.now += 2.0
    long(4_000, 10_638)
    clock.now += 1.0  # a log file gets a line every 5 s, not every chunk
    long(5_000, 10_638)
    clock.now += 5.0
    long(9_000, 10_638)
    long(10_638, 10_638)
    long.finish()
    assert capsys.readouterr().err.splitlines() == [
        "Abrechnungen: 4.000 von 10.638 geschrieben …",
        "Abrechnungen: 9.000 von 10.638 geschrieben …",
        "Abrechnungen: 10.638 von 10.638 geschrieben …",
    ]


@pytest.mark.slow
def test_abrechnen_takes_the_number_of_processes(tmp_path, forty_partners):
    from click.testing import CliRunner

    from kim_excel.cli.main import main

    ok = CliRunner().invoke(main, ["abrechnen", "--eingang", str(forty_partners),
                                   "--ausgabe", str(tmp_path / "aus"), "--prozesse", "2"])
    assert ok.exit_code == 0, ok.output
    assert len(list((tmp_path / "aus" / "2024").glob("Abrechnung_*.xlsx"))) >= 38
    wrong = CliRunner().invoke(main, ["abrechnen", "--eingang", str(forty_partners),
                                      "--prozesse", "0"])
    assert wrong.exit_code == 2 and "--prozesse" in wrong.output
