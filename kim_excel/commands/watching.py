"""``kim-excel beobachten``: settle every workbook that is dropped into the input folder.

For a municipality's shared network folder: the clerk drops a workbook into ``input/`` and
the results (or an error report) appear in ``output/``. The rules:

- **Looking.** The watcher looks at the folder every ``interval`` seconds (network shares
  often deliver no file-system events) and, where the operating system reports events
  (watchdog), also right after each event. The poll is the source of truth; events only
  make it look sooner.
- **Complete files only.** A workbook is read only when its size and modification time have
  not changed for one interval (two looks agree), when no other file in the folder is still
  being written, and when no lock file lies beside it (Excel: ``~$<name>``, LibreOffice:
  ``.~lock.<name>#``), i.e. it is not open for editing.
- **Workbooks that belong together** (SPEC § 4: one per employer, for the same year) are
  settled together: when a workbook arrives or changes, every workbook in the folder that
  states the same ``Abrechnungsjahr`` is settled with it, in one run, exactly as
  ``kim-excel abrechnen`` would settle them. Workbooks of other years are left alone, so an
  old year lying in the folder does not spoil the new one. A workbook whose year cannot be
  read (damaged, not a workbook, year missing) is run alone and gets its error report.
  A group waits while one of its workbooks is open in Excel.
- **Nothing twice.** The run reads a snapshot (the exact bytes hashed) of its workbooks.
  For every file name the SHA-256 of the content last processed, and the result, is kept in
  ``<ausgabe>/.kim-excel-beobachten.json``, so the same file dropped again, a save without
  change, or a restart of the watcher does not settle again; a changed file does (also when
  it is changed back to an earlier version, because the output must match the folder).
  The same content under a second name is a second workbook: in one folder that means the
  same costs twice, and the run says so.
- **Results.** A good run writes ``<ausgabe>/<J>/`` (with ``LIESMICH.txt``) and removes old
  error reports of its workbooks; an invalid one writes
  ``<ausgabe>/Fehlerberichte/Fehler_<Datei>.xlsx`` (see :mod:`kim_excel.documents.error_report`).
  A failure that is not the input's fault (output folder locked, a result open in Excel, a
  bug) is retried after a minute, at most three times per content.
- **Log.** One line per event (time | file | result) on the terminal and appended to
  ``<ausgabe>/protokoll.log``; only file names and counts, never figures or names from the
  workbooks.
- **Running.** Whatever a workbook holds, the watcher keeps running; Ctrl+C or SIGTERM stop
  it cleanly (exit status 0) after the run in progress. One watcher per output folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kim_excel.commands.settle import run_settlement
from kim_excel.core.errors import InputError, KimError, UnreadableInput
from kim_excel.core.files import write_atomically
from kim_excel.core.german import count
from kim_excel.core.names import normalise
from kim_excel.core.schema import EINSTELLUNGEN, S_YEAR
from kim_excel.documents.error_report import (
    REPORT_FOLDER,
    remove_stale_reports,
    write_error_reports,
)
from kim_excel.input.reading import lock_files, read_workbook

STATE_NAME = ".kim-excel-beobachten.json"
LOCK_NAME = ".kim-excel-beobachten.lock"
LOG_NAME = "protokoll.log"
CANDIDATE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".xlsb", ".csv")  # as reading.py
RETRY_SECONDS = 60.0
MAX_ATTEMPTS = 3
NO_FILE = "–"


# ---------------------------------------------------------------- log and memory


class Journal:
    """One line per event: ``2025-03-02 14:05:33 | Datei.xlsx | Ergebnis``.

    Appended to ``protokoll.log`` in UTF-8 with a byte order mark and CRLF, so that Notepad
    on an old Windows server shows the umlauts; also printed on the terminal.
    """

    def __init__(self, path: Path, echo: Callable[[str], None] | None = None):
        self.path = path
        self.echo = echo or (lambda line: print(line, flush=True))

    def write(self, file: str, result: str) -> None:
        line = f"{datetime.now():%Y-%m-%d %H:%M:%S} | {file} | {result}"
        # no console, or a code page without „ä“: the log file still gets the line
        with contextlib.suppress(OSError, UnicodeError):
            self.echo(line)
        try:
            new = not self.path.exists() or self.path.stat().st_size == 0
            with open(self.path, "a", encoding="utf-8", newline="\r\n") as handle:
                handle.write(("\ufeff" if new else "") + line + "\n")
        except OSError as exc:
            print(f"Protokoll „{self.path}“ kann nicht geschrieben werden ({exc.strerror}).",
                  file=sys.stderr, flush=True)


class Memory:
    """Per file name: the SHA-256 of the content last processed, when, and the result."""

    def __init__(self, path: Path):
        self.path = path
        self.files: dict[str, dict[str, str]] = {}
        self.damaged = False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.files = {str(k): dict(v) for k, v in data.get("dateien", {}).items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError, TypeError):
            self.damaged = True  # start afresh: at worst every workbook is settled once more

    def known(self, name: str, sha256: str) -> bool:
        return self.files.get(name, {}).get("sha256") == sha256

    def remember(self, digests: dict[str, str], result: str) -> None:
        stamp = datetime.now().replace(microsecond=0).isoformat()
        for name, sha256 in digests.items():
            self.files[name] = {"sha256": sha256, "zeit": stamp, "ergebnis": result}

        data = {"version": 1, "dateien": self.files}
        write_atomically(self.path, json.dumps(data, ensure_ascii=False, indent=1,
                                               sort_keys=True).encode("utf-8"))


# ---------------------------------------------------------------- the watcher


@dataclass
class Observed:
    """What the watcher knows about one file of the input folder."""

    stat: tuple[int, int]  # size, modification time in ns
    since: float  # monotonic time this stat was first seen
    initial: bool  # there when the watcher started
    sha256: str | None = None
    year: int | None = None
    year_read: bool = False
    handled: bool = False  # this content was settled or deliberately skipped
    lock_logged: bool = False


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stated_year(path: Path) -> int | None:
    """The ``Abrechnungsjahr`` a workbook states, or None if it cannot be read."""

    try:
        raw = read_workbook(path, (EINSTELLUNGEN,))
    except Exception:  # anything unreadable is run alone and reported there
        return None
    table = raw.table(EINSTELLUNGEN)
    if table is None:
        return None
    for _, values in table.rows:
        if normalise(table.value(values, "Einstellung")) != normalise(S_YEAR):
            continue
        try:
            year = Decimal(str(table.value(values, "Wert")).strip())
        except InvalidOperation:
            return None
        return int(year) if year == year.to_integral_value() and 1900 < year < 2200 else None
    return None


class Watcher:
    """Looks at the input folder on each :meth:`poll` and settles what is ready."""

    def __init__(self, eingang: Path, ausgabe: Path, interval: float, journal: Journal,
                 memory: Memory, clock: Callable[[], float] = time.monotonic,
                 today: Callable[[], date] = date.today):
        self.eingang = eingang
        self.ausgabe = ausgabe
        self.interval = interval
        self.journal = journal
        self.memory = memory
        self.clock = clock
        self.today = today
        self.observed: dict[str, Observed] = {}
        self.started = False
        self.retry_at: dict[tuple[str, str], float] = {}
        self.attempts: dict[tuple[str, str], int] = {}
        self.folder_missing = False

    # -- looking

    def scan(self) -> dict[str, tuple[int, int]] | None:
        try:
            entries = list(os.scandir(self.eingang))
        except OSError:
            if not self.folder_missing:
                self.journal.write(str(self.eingang), "Eingangsordner nicht erreichbar; es wird "
                                                      "weiter nachgesehen")
                self.folder_missing = True
            return None
        if self.folder_missing:
            self.journal.write(str(self.eingang), "Eingangsordner wieder erreichbar")
            self.folder_missing = False
        current = {}
        for entry in entries:
            name = entry.name
            if name.startswith(("~$", ".")) or not name.lower().endswith(CANDIDATE_SUFFIXES):
                continue
            try:
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:
                continue  # vanished meanwhile
            current[name] = (st.st_size, st.st_mtime_ns)
        return current

    def poll(self) -> None:
        """One look at the folder; settles every group of workbooks that is ready."""
        now = self.clock()
        current = self.scan()
        if current is None:
            return
        self.note_changes(current, now)
        if any(now - seen.since < self.interval for seen in self.observed.values()):
            return  # a file is still being written: wait until the folder is quiet
        locked = {name for name in current if self.is_locked(name)}
        ready = [name for name in sorted(current) if name not in locked]
        for name in ready:
            self.identify(name)
        ready = [name for name in ready if self.observed[name].sha256 is not None]
        new = [name for name in ready if self.is_new(name, now)]
        for name in locked:
            self.note_lock(name)
            self.read_year(name)  # Excel saves by renaming: reading the year is safe
        groups: dict[object, list[str]] = {}
        for name in new:
            year = self.observed[name].year
            groups.setdefault(year if year is not None else ("allein", name), []).append(name)
        for key, changed in groups.items():
            if isinstance(key, int):
                if any(self.observed[name].year == key for name in locked):
                    continue  # a workbook of this year is open in Excel
                members = [name for name in ready if self.observed[name].year == key]
            else:
                members = changed
            self.settle(members, changed)

    def note_changes(self, current: dict[str, tuple[int, int]], now: float) -> None:
        for name in list(self.observed):
            if name not in current:
                del self.observed[name]
                if name in self.memory.files:
                    self.journal.write(name, "aus dem Eingang entfernt; bisherige Ergebnisse "
                                             "bleiben unverändert")
        for name, stat in current.items():
            seen = self.observed.get(name)
            if seen is None or seen.stat != stat:
                self.observed[name] = Observed(stat, now, initial=not self.started)
        self.started = True

    def is_locked(self, name: str) -> bool:
        return any(lock.exists() for lock in lock_files(self.eingang, name))

    def note_lock(self, name: str) -> None:
        seen = self.observed[name]
        if not seen.lock_logged:
            self.journal.write(name, "ist geöffnet (Sperrdatei daneben); wird erst nach dem "
                                     "Schließen gelesen")
            seen.lock_logged = True

    def identify(self, name: str) -> None:
        """Hash and year of a file's current content, once per change."""
        seen = self.observed[name]
        seen.lock_logged = False
        if seen.sha256 is not None:
            return
        path = self.eingang / name
        try:
            seen.sha256 = content_hash(path.read_bytes())
        except OSError:
            return  # still held by the copying program: try again at the next look
        self.read_year(name)

    def read_year(self, name: str) -> None:
        seen = self.observed[name]
        if not seen.year_read:
            seen.year = stated_year(self.eingang / name)
            seen.year_read = True

    def is_new(self, name: str, now: float) -> bool:
        seen = self.observed[name]
        if seen.handled:
            return False
        if self.memory.known(name, seen.sha256):
            seen.handled = True
            if not seen.initial:
                result = self.memory.files[name].get("ergebnis", "")
                self.journal.write(name, f"unverändert, dieser Inhalt wurde bereits verarbeitet "
                                         f"({result}) – übersprungen")
            return False
        return self.retry_at.get((name, seen.sha256), 0.0) <= now

    # -- settling

    def settle(self, members: list[str], changed: list[str]) -> None:
        """One settlement run over a snapshot of ``members``; never raises."""
        label = ", ".join(changed)
        others = [name for name in members if name not in changed]
        if others:
            label += f" (zusammen mit {', '.join(others)})"
        with tempfile.TemporaryDirectory(prefix="kim-excel-beobachten-") as tmp:
            snapshot = Path(tmp)
            digests: dict[str, str] = {}
            try:
                for name in members:
                    data = (self.eingang / name).read_bytes()
                    digests[name] = content_hash(data)
                    (snapshot / name).write_bytes(data)
            except OSError:
                return  # changed or taken away meanwhile: the next look sees it again
            for name, digest in digests.items():
                self.observed[name].sha256 = digest
            try:
                result, outcome = self.run(snapshot, members)
            except KimError as exc:
                self.retry(label, digests, f"nicht abgerechnet: {exc}")
                return
            except Exception as exc:  # a bug must not stop the watcher
                traceback.print_exc(file=sys.stderr)
                self.retry(label, digests, f"unerwarteter Fehler ({type(exc).__name__}); "
                                           f"die Eingabe bleibt unverändert")
                return
        self.memory.remember(digests, outcome)
        for name in members:
            self.observed[name].handled = True
        self.journal.write(label, result)

    def run(self, snapshot: Path, members: list[str]) -> tuple[str, str]:
        """Settle the snapshot; returns the log text and the short result to remember."""

        reports = self.ausgabe / REPORT_FOLDER
        workbooks = [snapshot / name for name in members]
        try:
            result = run_settlement(snapshot, self.ausgabe, today=self.today())
        except InputError as exc:
            written = write_error_reports(workbooks, exc.problems, reports)
            where = ", ".join(str(p) for p in written) or "keiner (kein Fehler nennt eine Datei)"
            return (f"ungültig: {count(len(exc.problems), 'Fehler', 'Fehler')} – Fehlerbericht: "
                    f"{where}", "ungültig")
        except UnreadableInput as exc:
            return f"nicht lesbar: {exc}", "nicht lesbar"
        text = (f"abgerechnet: Abrechnungsjahr {result.settlement.year}, "
                f"{len(result.files)} Dateien in {result.folder}")
        if result.notices:
            several = len(result.notices) > 1
            text += (f"; {count(len(result.notices), 'Hinweis', 'Hinweise')}, „kim-excel "
                     f"pruefen --eingang {self.eingang}“ zeigt {'sie' if several else 'ihn'}")
        if remove_stale_reports(workbooks, reports):
            text += "; alter Fehlerbericht entfernt"
        return text, f"abgerechnet {result.settlement.year}"

    def retry(self, label: str, digests: dict[str, str], text: str) -> None:
        """Not the input's fault: try the same content again later, a few times."""
        now = self.clock()
        attempts = 0
        for key in digests.items():
            self.attempts[key] = self.attempts.get(key, 0) + 1
            attempts = max(attempts, self.attempts[key])
            self.retry_at[key] = now + RETRY_SECONDS
        if attempts >= MAX_ATTEMPTS:
            self.memory.remember(digests, "fehlgeschlagen")
            for name in digests:
                self.observed[name].handled = True
            self.journal.write(label, f"{text} – {attempts} Versuche, aufgegeben bis zur "
                                      f"nächsten Änderung der Datei")
        else:
            self.journal.write(label, f"{text} – neuer Versuch in {RETRY_SECONDS:.0f} s")


# ---------------------------------------------------------------- the command


def watch(eingang: Path, ausgabe: Path, interval: float,
          echo: Callable[[str], None] | None = None) -> None:
    """Run until SIGINT or SIGTERM. Raises :class:`KimError` only when it cannot start."""
    if not eingang.is_dir():
        raise UnreadableInput(f"Den Eingangsordner „{eingang}“ gibt es nicht (oder er ist "
                              f"kein Ordner).")
    try:
        ausgabe.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KimError(f"Der Ausgabeordner „{ausgabe}“ kann nicht angelegt werden "
                       f"({exc.strerror}).") from None
    from filelock import FileLock, Timeout

    lock = FileLock(str(ausgabe / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise KimError(f"Ein anderes „kim-excel beobachten“ arbeitet schon mit „{ausgabe}“; "
                       f"zwei davon würden jede Datei doppelt abrechnen.") from None
    journal = Journal(ausgabe / LOG_NAME, echo)
    memory = Memory(ausgabe / STATE_NAME)
    stop, wake = threading.Event(), threading.Event()

    def request_stop(signum, frame) -> None:
        stop.set()
        wake.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    observer = start_observer(eingang, wake)
    watcher = Watcher(eingang, ausgabe, interval, journal, memory)
    try:
        journal.write(NO_FILE, f"Beobachtung gestartet: Eingang {eingang}, Ausgabe {ausgabe}, "
                               f"alle {format_seconds(interval)} s"
                      + ("" if observer else "; ohne Dateiereignisse, nur regelmäßiges Nachsehen"))
        if memory.damaged:
            journal.write(STATE_NAME, "unlesbar; alle Arbeitsmappen werden einmal neu verarbeitet")
        while not stop.is_set():
            try:
                watcher.poll()
            except Exception as exc:  # keep watching whatever happens
                traceback.print_exc(file=sys.stderr)
                journal.write(NO_FILE, f"unerwarteter Fehler ({type(exc).__name__}); die "
                                       f"Beobachtung läuft weiter")
            wake.wait(interval)
            wake.clear()
        journal.write(NO_FILE, "Beobachtung beendet")
    finally:
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        lock.release()


def start_observer(eingang: Path, wake: threading.Event):
    """File-system events wake the poll early; None where the system offers none."""
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        class Wake(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                wake.set()

        observer = Observer()
        observer.daemon = True
        observer.schedule(Wake(), str(eingang), recursive=False)
        observer.start()
    except Exception:  # no inotify left, an unsupported share: polling alone still works
        return None
    return observer



def format_seconds(seconds: float) -> str:
    """``2.0`` → ``2``, ``0.2`` → ``0,2`` (German decimal comma)."""
    return f"{seconds:g}".replace(".", ",")
