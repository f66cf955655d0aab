"""``kim-excel beobachten``, run as a real process on temporary folders.

Every wait is bounded: a helper polls for the awaited log line or file with a deadline and
fails with the log and the watcher's stderr when it does not come.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from kim_excel.commands.watching import STATE_NAME, Journal, Memory, Watcher
from kim_excel.ledger.store import HISTORY_FOLDER, RECORD_NAME
from tests.builders import council_paper_form, example_2024, write
from tests.test_error_report import months_13_without_year, red_cells

REPO = Path(__file__).resolve().parents[1]
DEADLINE = 15.0


class Running:
    """One ``kim-excel beobachten`` process on ``input/`` and ``output/`` under ``root``."""

    def __init__(self, root: Path, interval: float):
        self.root = root
        self.input = root / "input"
        self.output = root / "output"
        self.stage = root / "stage"
        for folder in (self.input, self.stage):
            folder.mkdir(parents=True, exist_ok=True)
        self.stdout = open(root / f"stdout-{time.monotonic_ns()}.txt", "w+")  # noqa: SIM115
        self.stderr = open(root / f"stderr-{time.monotonic_ns()}.txt", "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kim_excel", "beobachten", "--eingang", str(self.input),
             "--ausgabe", str(self.output), "--intervall", str(interval)],
            stdout=self.stdout, stderr=self.stderr, env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=root)

    def log(self) -> list[str]:
        path = self.output / "protokoll.log"
        if not path.exists():
            return []
        return path.read_text(encoding="utf-8-sig").splitlines()

    def lines_about(self, name: str) -> list[str]:
        return [line for line in self.log() if f"| {name}" in line]

    def wait_for(self, condition, what: str, deadline: float = DEADLINE):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            result = condition()
            if result:
                return result
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stderr.seek(0)
        raise AssertionError(f"not seen within {deadline} s: {what}\nlog:\n"
                             + "\n".join(self.log()) + f"\nstderr:\n{self.stderr.read()}")

    def wait_for_line(self, *parts: str) -> str:
        def found():
            return next((line for line in self.log() if all(p in line for p in parts)), None)
        return self.wait_for(found, " and ".join(parts))

    def drop(self, name: str, content) -> Path:
        """Write into a staging folder, then move in: how a copy to a share ends."""
        staged = self.stage / name
        if isinstance(content, bytes):
            staged.write_bytes(content)
        else:
            write(content, staged)
        target = self.input / name
        os.replace(staged, target)
        return target

    def stop(self, sig=signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=10)


@pytest.fixture
def watcher(tmp_path):
    started: list[Running] = []

    def start(interval: float = 0.2) -> Running:
        running = Running(tmp_path, interval)
        started.append(running)
        before = len([line for line in running.log() if "Beobachtung gestartet" in line])
        running.wait_for(lambda: len([line for line in running.log()
                                      if "Beobachtung gestartet" in line]) > before,
                         "the start line")
        return running

    yield start
    for running in started:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait(timeout=10)
        running.stdout.close()
        running.stderr.close()


def example_bytes(tmp_path: Path) -> bytes:
    return write(example_2024(), tmp_path / "built" / "example.xlsx").read_bytes()


def year_folders(output: Path) -> list[str]:
    return sorted(p.name for p in output.iterdir() if p.is_dir() and p.name.isdigit())


def log_time(line: str) -> datetime:
    return datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


@pytest.mark.slow
def test_a_workbook_dropped_in_is_settled_within_seconds(watcher):
    w = watcher()
    started = time.monotonic()
    w.drop("Abrechnung 2024.xlsx", example_2024())
    line = w.wait_for_line("| Abrechnung 2024.xlsx | abgerechnet")
    elapsed = time.monotonic() - started

    assert "Abrechnungsjahr 2024, 11 Dateien in" in line
    files = sorted(p.name for p in (w.output / "2024").iterdir()
                   if p.name not in (RECORD_NAME, HISTORY_FOLDER))
    assert files == sorted([f"Abrechnung_2024_{k}.xlsx" for k in (
        "Billerbeck", "Havixbeck", "Rosendahl", "Nottuln", "Luedinghausen", "Nordkirchen",
        "Olfen", "Senden")] + ["Uebersicht_2024.xlsx", "Buchungsliste_2024.csv",
                               "LIESMICH.txt"])
    assert elapsed < 10
    assert w.proc.poll() is None


@pytest.mark.slow
def test_a_workbook_copied_in_slowly_is_read_only_when_complete(watcher, tmp_path):
    """40 chunks, 0.05 s apart (2 s in all), straight into the watched folder; the watcher
    looks every 0.5 s, i.e. about four times while the copy runs. Had it read a partial
    file, the log would show an error line for it and the memory a second hash."""
    w = watcher(interval=0.5)
    data = example_bytes(tmp_path)
    size = len(data) // 40 + 1
    with open(w.input / "langsam.xlsx", "wb") as handle:
        for start in range(0, len(data), size):
            handle.write(data[start:start + size])
            handle.flush()
            time.sleep(0.05)
    copied = datetime.now().replace(microsecond=0)

    w.wait_for_line("| langsam.xlsx | abgerechnet")
    lines = w.lines_about("langsam.xlsx")
    assert len(lines) == 1 and "abgerechnet" in lines[0]
    assert log_time(lines[0]) >= copied
    state = json.loads((w.output / STATE_NAME).read_text(encoding="utf-8"))
    assert state["dateien"] == {"langsam.xlsx": {
        "sha256": hashlib.sha256(data).hexdigest(), "zeit": state["dateien"]["langsam.xlsx"][
            "zeit"], "ergebnis": "abgerechnet 2024"}}
    assert not (w.output / "Fehlerberichte").exists()


@pytest.mark.slow
def test_an_invalid_workbook_gets_an_error_report_with_red_cells_at_the_problems(
        watcher, tmp_path):
    w = watcher()
    staged = months_13_without_year(tmp_path / "built" / "Abrechnung Dülmen.xlsx")
    dropped = w.drop("Abrechnung Dülmen.xlsx", staged.read_bytes())
    line = w.wait_for_line("| Abrechnung Dülmen.xlsx | ungültig")

    report = w.output / "Fehlerberichte" / "Fehler_Abrechnung_Duelmen.xlsx"
    assert f"ungültig: 2 Fehler – Fehlerbericht: {report}" in line
    book = openpyxl.load_workbook(report)
    assert red_cells(book) == {"Personalkosten!D2", "Einstellungen!B2"}
    assert "0 bis 12 Monate" in book["Personalkosten"]["D2"].comment.text
    assert "„Abrechnungsjahr“ fehlt" in book["Einstellungen"]["B2"].comment.text
    assert dropped.read_bytes() == staged.read_bytes()  # the clerk's file is untouched
    assert year_folders(w.output) == []

    # corrected under the same name: settled, and the misleading old report goes
    w.drop("Abrechnung Dülmen.xlsx", example_2024())
    line = w.wait_for_line("| Abrechnung Dülmen.xlsx | abgerechnet")
    assert "alter Fehlerbericht entfernt" in line
    assert not report.exists()


@pytest.mark.slow
def test_a_corrupt_file_is_reported_and_the_watcher_keeps_running(watcher, tmp_path):
    w = watcher()
    w.drop("kaputt.xlsx", os.urandom(4000))
    line = w.wait_for_line("| kaputt.xlsx | ungültig: 1 Fehler")
    report = w.output / "Fehlerberichte" / "Fehler_kaputt.xlsx"
    assert str(report) in line
    assert openpyxl.load_workbook(report).sheetnames == ["Fehler"]
    assert w.proc.poll() is None

    w.drop("gut.xlsx", example_2024())  # the damaged file stays beside it
    w.wait_for_line("| gut.xlsx | abgerechnet: Abrechnungsjahr 2024")
    assert year_folders(w.output) == ["2024"]
    assert len(w.lines_about("kaputt.xlsx")) == 1


@pytest.mark.slow
def test_the_same_file_dropped_again_is_not_processed_twice(watcher, tmp_path):
    w = watcher()
    data = example_bytes(tmp_path)
    w.drop("Abrechnung.xlsx", data)
    w.wait_for_line("| Abrechnung.xlsx | abgerechnet")
    before = mtimes(w.output / "2024")

    w.drop("Abrechnung.xlsx", data)  # copied in once more: new file, same content
    w.wait_for_line("| Abrechnung.xlsx | unverändert")
    assert mtimes(w.output / "2024") == before

    # a restart remembers: after it has settled something else, still only one run
    assert w.stop() == 0
    w2 = watcher()
    w2.drop("kaputt.xlsx", b"not a workbook")
    w2.wait_for_line("| kaputt.xlsx | ungültig")
    runs = [line for line in w2.log() if "| Abrechnung.xlsx | abgerechnet" in line]
    assert len(runs) == 1
    assert mtimes(w.output / "2024") == before


def per_employer_2024():
    """The example split as SPEC § 4 allows: Coesfeld's costs in one workbook, Dülmen's and
    Ascheberg's (with the advances of Süd) in another; settings and parties the same."""
    nord, rest = example_2024(), example_2024()
    nord.positions = [p for p in nord.positions if p["Anstellungskörperschaft"] == "Coesfeld"]
    nord.material = [m for m in nord.material if m["Anstellungskörperschaft"] == "Coesfeld"]
    nord.advances = []
    rest.positions = [p for p in rest.positions if p["Anstellungskörperschaft"] != "Coesfeld"]
    rest.material = [m for m in rest.material if m["Anstellungskörperschaft"] != "Coesfeld"]
    return nord, rest


@pytest.mark.slow
def test_workbooks_of_one_year_are_settled_together_and_other_years_apart(watcher):
    """SPEC § 4: one workbook per employer. Nord alone settles Region Nord (3 partners); with
    the Mitte/Süd workbook beside it, both are settled in one run (8 partners). A 2023
    workbook in the same folder goes to output/2023 and leaves 2024 alone."""
    nord, rest = per_employer_2024()
    w = watcher()

    w.drop("Nord.xlsx", nord)
    w.wait_for_line("| Nord.xlsx | abgerechnet: Abrechnungsjahr 2024, 6 Dateien")
    partners = sorted(p.name for p in (w.output / "2024").glob("Abrechnung_*"))
    assert partners == ["Abrechnung_2024_Billerbeck.xlsx", "Abrechnung_2024_Havixbeck.xlsx",
                        "Abrechnung_2024_Rosendahl.xlsx"]

    w.drop("Mitte_Sued.xlsx", rest)
    # Region Nord's letters stay as they were: 5 new letters and the 3 summaries (SPEC § 5)
    w.wait_for_line("| Mitte_Sued.xlsx (zusammen mit Nord.xlsx) | abgerechnet: "
                    "Abrechnungsjahr 2024, 8 Dateien")
    assert len(list((w.output / "2024").glob("Abrechnung_*"))) == 8
    before = mtimes(w.output / "2024")

    w.drop("Rat_2023.xlsx", council_paper_form())
    w.wait_for_line("| Rat_2023.xlsx | abgerechnet: Abrechnungsjahr 2023")
    assert year_folders(w.output) == ["2023", "2024"]
    assert mtimes(w.output / "2024") == before


def test_a_workbook_open_in_excel_waits_until_its_lock_file_is_gone(watcher):
    w = watcher()
    lock = w.input / "~$Abrechnung.xlsx"
    lock.write_bytes(b"Frau Beispiel")
    w.drop("Abrechnung.xlsx", example_2024())
    w.wait_for_line("| Abrechnung.xlsx | ist geöffnet")
    assert year_folders(w.output) == []

    lock.unlink()
    w.wait_for_line("| Abrechnung.xlsx | abgerechnet")
    lines = w.lines_about("Abrechnung.xlsx")
    assert ["ist geöffnet" in lines[0], "abgerechnet" in lines[1]] == [True, True]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Strg+C"])
def test_a_signal_stops_the_watcher_cleanly_with_exit_status_0(watcher, sig):
    w = watcher()
    assert w.stop(sig) == 0
    assert w.log()[-1].endswith("| – | Beobachtung beendet")
    w.stderr.seek(0)
    assert w.stderr.read() == ""


@pytest.mark.slow
def test_a_second_watcher_on_the_same_output_refuses_to_start(watcher, tmp_path):
    w = watcher()
    second = subprocess.run(
        [sys.executable, "-m", "kim_excel", "beobachten", "--eingang", str(w.input),
         "--ausgabe", str(w.output)], capture_output=True, text=True, timeout=DEADLINE,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert second.returncode == 1
    assert "Ein anderes „kim-excel beobachten“ arbeitet schon" in second.stderr
    assert "Traceback" not in second.stderr


def test_a_missing_input_folder_is_a_clear_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "kim_excel", "beobachten", "--eingang", str(tmp_path / "fehlt"),
         "--ausgabe", str(tmp_path / "out")], capture_output=True, text=True,
        timeout=DEADLINE, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1
    assert "Eingangsordner" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------- in-process, with a fake clock


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_file_that_changed_since_the_last_look_waits_one_more_interval(tmp_path):
    """Interval 1 s. The half-written file is seen at t=0; complete at t=5 it has changed, so
    nothing is read; at t=5.5 the second look is too soon; at t=6 two looks one interval
    apart agree and it is settled — once, with the complete content's hash only."""
    eingang, ausgabe = tmp_path / "input", tmp_path / "output"
    eingang.mkdir()
    ausgabe.mkdir()
    data = example_bytes(tmp_path)
    lines: list[str] = []
    clock = Clock()
    w = Watcher(eingang, ausgabe, 1.0, Journal(ausgabe / "protokoll.log", lines.append),
                Memory(ausgabe / STATE_NAME), clock=clock, today=lambda: date(2025, 3, 2))
    target = eingang / "a.xlsx"
    target.write_bytes(data[: len(data) // 2])
    w.poll()
    target.write_bytes(data)
    for clock.now in (5.0, 5.5):
        w.poll()
        assert lines == []
    clock.now = 6.0
    w.poll()
    assert len(lines) == 1 and "| a.xlsx | abgerechnet: Abrechnungsjahr 2024" in lines[0]
    assert Memory(ausgabe / STATE_NAME).files["a.xlsx"]["sha256"] == \
        hashlib.sha256(data).hexdigest()
    clock.now = 9.0
    w.poll()
    assert len(lines) == 1


def test_a_damaged_memory_file_means_starting_afresh(tmp_path):
    (tmp_path / STATE_NAME).write_text("{kaputt", encoding="utf-8")
    memory = Memory(tmp_path / STATE_NAME)
    assert memory.damaged and memory.files == {}
    memory.remember({"a.xlsx": "00ff"}, "ungültig")
    assert Memory(tmp_path / STATE_NAME).known("a.xlsx", "00ff")


def test_a_workbook_without_a_readable_year_is_settled_alone(tmp_path):
    """A file of the same folder whose year is missing must not pull the others into its run:
    it gets its own report, and the valid 2024 workbook is still settled."""
    eingang, ausgabe = tmp_path / "input", tmp_path / "output"
    form = example_2024()
    form.settings["Abrechnungsjahr"] = ""
    write(form, eingang / "ohne_jahr.xlsx")
    write(example_2024(), eingang / "gut.xlsx")
    ausgabe.mkdir()
    lines: list[str] = []
    clock = Clock()
    w = Watcher(eingang, ausgabe, 1.0, Journal(ausgabe / "protokoll.log", lines.append),
                Memory(ausgabe / STATE_NAME), clock=clock, today=lambda: date(2025, 3, 2))
    w.poll()
    clock.now = 1.0
    w.poll()
    assert sorted(line.split(" | ", 2)[1:] for line in lines) == [
        ["gut.xlsx", f"abgerechnet: Abrechnungsjahr 2024, 11 Dateien in {ausgabe}/2024"],
        ["ohne_jahr.xlsx", "ungültig: 1 Fehler – Fehlerbericht: "
                           f"{ausgabe}/Fehlerberichte/Fehler_ohne_jahr.xlsx"],
    ]


def test_a_group_waits_while_one_of_its_workbooks_is_open_in_excel(tmp_path):
    """Nord.xlsx is ready, but Mitte_Sued.xlsx of the same year is open (lock file): nothing is
    settled, so no half result is published; once it is closed both go in one run."""
    eingang, ausgabe = tmp_path / "input", tmp_path / "output"
    nord, rest = per_employer_2024()
    write(nord, eingang / "Nord.xlsx")
    write(rest, eingang / "Mitte_Sued.xlsx")
    lock = eingang / "~$Mitte_Sued.xlsx"
    lock.write_bytes(b"Frau Beispiel")
    ausgabe.mkdir()
    lines: list[str] = []
    clock = Clock()
    w = Watcher(eingang, ausgabe, 1.0, Journal(ausgabe / "protokoll.log", lines.append),
                Memory(ausgabe / STATE_NAME), clock=clock, today=lambda: date(2025, 3, 2))
    for clock.now in (0.0, 1.0, 2.0):
        w.poll()
    assert [line.split(" | ", 1)[1] for line in lines] == [
        "Mitte_Sued.xlsx | ist geöffnet (Sperrdatei daneben); wird erst nach dem Schließen "
        "gelesen"]
    assert not (ausgabe / "2024").exists()

    lock.unlink()
    clock.now = 3.0
    w.poll()
    assert lines[-1].split(" | ", 1)[1] == (
        f"Mitte_Sued.xlsx, Nord.xlsx | abgerechnet: Abrechnungsjahr 2024, 11 Dateien in "
        f"{ausgabe}/2024")


def test_a_damaged_record_stops_the_run_with_its_german_reason_and_writes_nothing(tmp_path):
    """The ledger refuses a damaged record (ledger/store.py): the watcher says why in the
    journal, changes nothing in the year folder and tries again later."""
    eingang, ausgabe = tmp_path / "input", tmp_path / "output"
    write(example_2024(), eingang / "a.xlsx")
    folder = ausgabe / "2024"
    folder.mkdir(parents=True)
    (folder / RECORD_NAME).write_text("{kaputt", encoding="utf-8")
    lines: list[str] = []
    clock = Clock()
    w = Watcher(eingang, ausgabe, 1.0, Journal(ausgabe / "protokoll.log", lines.append),
                Memory(ausgabe / STATE_NAME), clock=clock, today=lambda: date(2025, 3, 2))
    w.poll()
    clock.now = 1.0
    w.poll()

    (line,) = lines
    assert line.split(" | ", 1)[1].startswith(
        f"a.xlsx | nicht abgerechnet: Die Verwaltungsdatei „{folder / RECORD_NAME}“ ist "
        f"beschädigt (kein gültiges JSON, Zeile 1); kim-excel ändert in diesem Ordner nichts.")
    assert line.endswith("– neuer Versuch in 60 s")
    assert [p.name for p in folder.iterdir()] == [RECORD_NAME]
