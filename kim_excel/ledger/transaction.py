"""One change of a year folder: the ledger and the files it concerns, written together.

Every command that changes ``<ausgabe>/<J>/`` goes through :func:`year_folder`: under the
output lock, after a killed run's folder is put back, with the ledger read and found healthy
(``store.load_ledger`` refuses a missing, damaged or stale record before anything is written).
The command changes the ledger through its methods and writes its documents into the staging
folder of :meth:`Transaction.writing`; on success the record, its numbered copy and the send
log join them, and the staging folder replaces the year folder whole (``folder.py``). A run
that fails or is killed leaves the old folder as it was.

What stays from the old folder is decided here, from the ledger: a file of a bill that no
longer exists goes; a companion (XRechnung, PDF) of a letter written anew goes unless it was
written anew too; an e-mail draft goes when its bill's attachments changed; a file changed by
hand is never overwritten (it is kept as ``…_bearbeitet``, or left to the clerk) and the run
says so. ``versenden`` also saves the ledger alone after every e-mail (:meth:`save_now`).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kim_excel.core.files import write_atomically
from kim_excel.core.model import Notice, Severity
from kim_excel.core.references import SEND_LOG, correction_booking_file, document_of
from kim_excel.ledger.book import FileEntry, Ledger
from kim_excel.ledger.folder import Carried, carry_over, output_lock, recover, staged_folder
from kim_excel.ledger.sendlog import log_bytes, log_entries
from kim_excel.ledger.store import (
    KEEP_COPIES,
    RECORD_NAME,
    copy_name,
    history,
    ledger_bytes,
    load_ledger,
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Transaction:
    folder: Path  # <ausgabe>/<J>/
    before: Ledger  # as read
    ledger: Ledger  # the one this change writes (a copy to change)
    written: list[str] = field(default_factory=list)  # relative paths written into staging
    notices: list[Notice] = field(default_factory=list)
    staging: Path | None = None
    _remove: set[str] = field(default_factory=set)  # ours, to go unless changed since
    _prune: set[str] = field(default_factory=set)  # record copies beyond KEEP_COPIES
    _last: list[Callable[[Path], list[str]]] = field(default_factory=list)

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """The staging folder to write into; on leaving it without an error, the ledger and
        the files are published together."""
        with staged_folder(self.folder, self._carry) as staging:
            self.staging = staging
            yield staging
            self._finish(staging)

    def on_publish(self, write: Callable[[Path], list[str]]) -> None:
        """``write(staging)`` runs when the change is published, once the ledger lists every
        file the change wrote (LIESMICH describes them all); it returns the names it wrote."""
        self._last.append(write)

    def wrote(self, *names: str) -> None:
        self.written += [n for n in names if n not in self.written]

    def changed_by_hand(self, name: str) -> bool:
        """A file kim-excel wrote that someone changed (or removed) since."""
        entry = self.before.files.get(name)
        path = self.folder / name
        return entry is not None and (not path.is_file() or sha256(path) != entry.sha256)

    def intact(self, names: list[str]) -> bool:
        return all(not self.changed_by_hand(n) for n in names)

    # ------------------------------------------------------------------ publishing

    def _finish(self, staging: Path) -> None:
        ledger, before = self.ledger, self.before
        written = set(self.written)
        numbers = {b.number for _, b in ledger.documents()}
        rounds = {correction_booking_file(ledger.year, n) for n in ledger.rounds()}
        rewritten = {before.files[n].owner for n in written if n in before.files}
        self._remove = set()
        for name, entry in before.files.items():
            if name in written:
                continue
            gone = (entry.owner and entry.owner not in numbers) or \
                (name.startswith("Buchungsliste_") and "_Korrektur_" in name
                 and name not in rounds)
            if gone or (entry.owner and entry.owner in rewritten):
                self._remove.add(name)
        files = {n: e for n, e in before.files.items() if n not in self._remove}
        owners = {b.file: b.number for _, b in ledger.documents()}
        for name in self.written:
            files[name] = FileEntry(sha256(staging / name), region_of(ledger, name),
                                    owners.get(document_of(name), ""))
        ledger.files = files
        for write in self._last:
            for name in write(staging):
                self.wrote(name)
                files[name] = FileEntry(sha256(staging / name))
        self._drop_stale_drafts(staging)
        hand = {n for n in self._remove if (self.folder / n).is_file() and self.changed_by_hand(n)}
        ledger.released = sorted({*ledger.released, *hand} - set(files))
        self._write_log(staging)
        first = not (self.folder / RECORD_NAME).is_file()
        changed = first or ledger_bytes(ledger) != ledger_bytes(before)
        if changed:
            ledger.generation = before.generation + 1
        data = ledger_bytes(ledger)
        write_atomically(staging / RECORD_NAME, data)
        copies = history(self.folder)
        if changed or not copies:  # a new version gets its numbered copy; the old ones stay
            self._prune = {copy_name(n) for n, _ in
                           copies[:max(0, len(copies) + 1 - KEEP_COPIES)]}
            (staging / copy_name(ledger.generation)).parent.mkdir(exist_ok=True)
            write_atomically(staging / copy_name(ledger.generation), data)

    def _drop_stale_drafts(self, staging: Path) -> None:
        """An e-mail draft goes when its bill is gone or its attachments changed."""
        ledger = self.ledger
        current = {b.number: b for _, b in ledger.documents()}
        for name, draft in list(ledger.drafts.items()):
            bill = current.get(draft.owner)
            if bill is None:
                why = "das Schreiben gibt es nicht mehr"
            else:
                hashes = tuple(ledger.files[n].sha256 for n in attachment_names(ledger, bill.file)
                               if n in ledger.files)
                if hashes == draft.attachments:
                    continue
                old = next((b for _, b in self.before.documents() if b.number == bill.number),
                           None)
                why = ("er nannte die alten Beträge" if old is None or
                       (old.amount, old.day, old.due) != (bill.amount, bill.day, bill.due)
                       else "seine Anhänge haben sich geändert")
            del ledger.drafts[name]
            self._remove.add(name)
            self.notices.append(Notice(f"Veralteter E-Mail-Entwurf entfernt ({why}): {name}",
                                       Severity.INFO))

    def _write_log(self, staging: Path) -> None:
        entries = log_entries(self.ledger)
        if entries:
            write_atomically(staging / SEND_LOG, log_bytes(entries))
            self.ledger.files[SEND_LOG] = FileEntry(sha256(staging / SEND_LOG))

    def _carry(self, old: Path, new: Path) -> None:
        owned = {n: f.sha256 for n, f in {**self.before.files, **self.before.drafts}.items()}
        owned[RECORD_NAME] = sha256(old / RECORD_NAME) if (old / RECORD_NAME).is_file() else ""
        remove = set(self._remove)
        for name in self._prune:
            if (old / name).is_file():
                owned[name] = sha256(old / name)
                remove.add(name)
        self.notices += carried_notices(carry_over(old, new, owned, remove))

    # ------------------------------------------------------------------ the ledger alone

    def save_now(self) -> None:
        """Write the ledger (and the send log from it) in place, atomically, without swapping
        the folder: after each e-mail, so that nothing sent is ever forgotten."""
        ledger = self.ledger
        ledger.generation = max(ledger.generation, self.before.generation) + 1
        entries = log_entries(ledger)
        log = log_bytes(entries) if entries else b""
        if log:
            ledger.files[SEND_LOG] = FileEntry(hashlib.sha256(log).hexdigest())
        data = ledger_bytes(ledger)
        (self.folder / copy_name(ledger.generation)).parent.mkdir(exist_ok=True)
        write_atomically(self.folder / copy_name(ledger.generation), data)
        write_atomically(self.folder / RECORD_NAME, data)  # the record first: it counts
        self.before = copy.deepcopy(ledger)
        if log:
            write_atomically(self.folder / SEND_LOG, log)  # for people; rewritten next time


def attachment_names(ledger: Ledger, document: str) -> list[str]:
    """The files that go out with a letter: the workbook, its XRechnung(s), its PDF."""
    return [document, *sorted(n for n in ledger.files if n != document
                              and n.endswith((".xml", ".pdf")) and document_of(n) == document)]


def region_of(ledger: Ledger, name: str) -> str:
    document = document_of(name)
    return next((r.name for r, b in ledger.documents() if b.file == document), "")


def carried_notices(done: Carried) -> list[Notice]:
    notices = []
    for name, kept in done.kept:
        if name == kept:
            notices.append(Notice(f"„{name}“ wurde nach dem letzten Lauf geändert und bleibt "
                                  f"unverändert liegen; kim-excel verwaltet sie nicht mehr."))
        else:
            notices.append(Notice(f"„{name}“ wurde nach dem letzten Lauf geändert (oder stammt "
                                  f"nicht von kim-excel) und bleibt als „{kept}“ erhalten; "
                                  f"„{name}“ ist neu geschrieben."))
    return notices


@contextmanager
def year_folder(ausgabe: Path, year: int) -> Iterator[Transaction]:
    """The year folder ``<ausgabe>/<J>/`` to change, locked, with its healthy ledger."""
    with output_lock(ausgabe):
        folder = ausgabe / str(year)
        recover(folder)
        ledger = load_ledger(folder, year)
        yield Transaction(folder, ledger, copy.deepcopy(ledger))


def read_ledger(ausgabe: Path, year: int) -> Ledger:
    """The ledger for a command that only reads (no lock: the record is replaced atomically)."""
    return load_ledger(ausgabe / str(year), year)
