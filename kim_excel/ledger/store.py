"""The record on disk: ``<J>/.kim-excel-record.json``, its numbered copies, and its health.

The ledger (``ledger/book.py``) is written as JSON (Decimals and Fractions as exact strings,
dates ISO) and read back into typed objects once. Every version that is written is also kept
as a numbered copy in ``<J>/.kim-excel-sicherung/``: what was issued, posted and sent cannot be
read back from the letters, so when the record is missing, damaged or older than the folder,
kim-excel changes nothing, says what happened and names the copy to restore (SPEC § 7).

A record written by kim-excel 1.0 (version 1, which kept its sendings in ``versand.csv``) is
taken over, not refused: :func:`migrate_v1`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from kim_excel.core.errors import LedgerError
from kim_excel.core.german import day_text
from kim_excel.core.model import RegionResult, Share
from kim_excel.core.references import SETTLEMENT_FILE, invoice_number, own_file_pattern
from kim_excel.ledger.book import (
    Bill,
    Context,
    FileEntry,
    Kind,
    Ledger,
    Region,
    Sending,
    SendResult,
    State,
    Version,
)
from kim_excel.ledger.sendlog import read_log

RECORD_NAME = ".kim-excel-record.json"
HISTORY_FOLDER = ".kim-excel-sicherung"
KEEP_COPIES = 20
VERSION = 2


# ------------------------------------------------------------------ plain data both ways


def plain(value: Any) -> Any:
    """``json.dumps`` default: one level at a time; fields that are not compared (cell
    addresses) are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(type(value).__name__)


def from_data(kind: Any, data: Any) -> Any:
    """The typed value of ``kind`` for what :func:`plain` wrote."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return from_data(options[0], data)
    if origin in (tuple, list):
        args = typing.get_args(kind)
        items = [from_data(args[0], v) for v in data]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _, value_type = typing.get_args(kind)
        return {k: from_data(value_type, v) for k, v in data.items()}
    if kind is Any or kind is object:
        return data
    if dataclasses.is_dataclass(kind):
        hints = type_hints(kind)
        return kind(**{f.name: from_data(hints[f.name], data[f.name])
                       for f in dataclasses.fields(kind) if f.compare and f.name in data})
    if kind is Decimal:
        return Decimal(data)
    if kind is Fraction:
        return Fraction(data)
    if kind is date:
        return date.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    return data


@functools.lru_cache(maxsize=64)
def type_hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def ledger_bytes(ledger: Ledger) -> bytes:
    data = {"version": VERSION, **{f.name: getattr(ledger, f.name)
                                   for f in dataclasses.fields(ledger)}}
    return (json.dumps(data, default=plain, ensure_ascii=False, indent=1) + "\n").encode()


def ledger_from_bytes(raw: bytes, folder: Path) -> Ledger:
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("kein JSON-Objekt")
    if data.get("version") == 1:
        return migrate_v1(data, folder)
    if data.get("version") != VERSION:
        raise ValueError(f"unbekannte Version {data.get('version')!r}")
    return from_data(Ledger, {k: v for k, v in data.items() if k != "version"})


# ------------------------------------------------------------------ reading, with its health


def load_ledger(folder: Path, year: int) -> Ledger:
    """The folder's ledger; an empty one where nothing was settled yet.

    Raises :class:`LedgerError` (no command may change the folder then) when the record is
    missing while the folder holds a settlement, when it cannot be read, or when it is older
    than the folder: it does not know the newest copy, a sending in ``versand.csv`` or a file
    kim-excel wrote."""
    path = folder / RECORD_NAME
    copies = history(folder)
    if not path.is_file():
        found = sorted(p.name for p in folder.glob("*") if SETTLEMENT_FILE.match(p.name)) \
            if folder.is_dir() else []
        if found or copies:
            raise LedgerError(missing_text(folder, found, copies))
        return Ledger(year=year)
    try:
        ledger = ledger_from_bytes(path.read_bytes(), folder)
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError, AttributeError) as exc:
        raise LedgerError(damaged_text(folder, reason(exc), copies)) from None
    why = staleness(ledger, folder, copies)
    if why:
        raise LedgerError(stale_text(folder, why, copies))
    return ledger


def reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"kein gültiges JSON, Zeile {exc.lineno}"
    if isinstance(exc, ValueError) and exc.args and isinstance(exc.args[0], str) \
            and exc.args[0].startswith(("unbekannte", "kein")):
        return exc.args[0]
    return "der Inhalt passt nicht zu kim-excel"


def staleness(ledger: Ledger, folder: Path, copies: list[tuple[int, Path]]) -> str:
    """Why ``ledger`` is older than the folder, in German; empty when it is not."""
    if copies and copies[-1][0] > ledger.generation:
        return (f"es gibt eine neuere Sicherung (Nr. {copies[-1][0]}, die Verwaltungsdatei ist "
                f"Nr. {ledger.generation})")
    known = {s.message_id for _, _, b in ledger.bills() for s in b.sendings if s.message_id}
    for entry in read_log(folder):
        if entry.result == SendResult.SENT.value and entry.message_id not in known:
            return (f"sie kennt den Versand vom {entry.time[:10]} an {entry.recipient} "
                    f"({entry.attachments}) nicht")
    partners = sorted({b.partner for _, _, b in ledger.bills()})
    if partners:
        ours = own_file_pattern(ledger.year, partners)
        for path in sorted(folder.iterdir()):
            name = path.name
            if ours.match(name) and name not in ledger.files and name not in ledger.released:
                return f"sie kennt die Datei „{name}“ nicht"
    return ""


def history(folder: Path) -> list[tuple[int, Path]]:
    """The numbered copies of the record, oldest first."""
    found = []
    for path in (folder / HISTORY_FOLDER).glob("record-*.json"):
        number = path.stem.removeprefix("record-")
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def copy_name(generation: int) -> str:
    return f"{HISTORY_FOLDER}/record-{generation:04d}.json"


RESTORE_NONE = (
    "Es gibt keine Sicherung der Verwaltungsdatei. Bitte die Datei „{record}“ aus der "
    "Datensicherung zurückholen. Gibt es keine, den Ordner „{folder}“ umbenennen (z. B. in "
    "„{folder.name}_alt“) und neu abrechnen: dann entsteht ein neuer Ordner, und die Briefe im "
    "umbenannten Ordner bleiben unverändert erhalten.")


def restore_text(folder: Path, copies: list[tuple[int, Path]], skip_newest: bool = False) -> str:
    """What the clerk does: copy the newest usable copy back, then repeat the command."""
    usable = copies[:-1] if skip_newest else copies
    record = folder / RECORD_NAME
    if not usable:
        return RESTORE_NONE.format(record=record, folder=folder)
    number, path = usable[-1]
    when = datetime.fromtimestamp(path.stat().st_mtime)
    return (f"Wiederherstellen: die letzte Sicherung „{path}“ (Nr. {number}, geschrieben am "
            f"{day_text(when.date())} um {when:%H:%M} Uhr) nach „{record}“ kopieren und den "
            f"Befehl wiederholen (siehe README, „Wenn die Verwaltungsdatei fehlt“).")


def missing_text(folder: Path, found: list[str], copies: list[tuple[int, Path]]) -> str:
    example = f" (z. B. „{found[0]}“)" if found else ""
    return (f"In „{folder}“ fehlt die Verwaltungsdatei {RECORD_NAME}, aber der Ordner enthält "
            f"eine Abrechnung{example}. Was festgeschrieben, per Post oder per E-Mail versandt "
            f"ist, lässt sich aus den Briefen nicht ablesen; deshalb ändert kim-excel in diesem "
            f"Ordner nichts. " + restore_text(folder, copies))


def damaged_text(folder: Path, why: str, copies: list[tuple[int, Path]]) -> str:
    return (f"Die Verwaltungsdatei „{folder / RECORD_NAME}“ ist beschädigt ({why}); kim-excel "
            f"ändert in diesem Ordner nichts. Bitte die Datei nicht von Hand ändern. "
            + restore_text(folder, copies))


def stale_text(folder: Path, why: str, copies: list[tuple[int, Path]]) -> str:
    return (f"Die Verwaltungsdatei „{folder / RECORD_NAME}“ ist älter als der Ordner: {why}. "
            f"Vermutlich wurde eine ältere Fassung zurückgeholt. Mit ihr könnte Versandtes "
            f"erneut versandt oder Festgeschriebenes überschrieben werden; deshalb ändert "
            f"kim-excel in diesem Ordner nichts. " + restore_text(folder, copies))


# ------------------------------------------------------------------ kim-excel 1.0's record


def migrate_v1(data: dict, folder: Path) -> Ledger:
    """A version-1 record (kim-excel 1.0, commit 29f5369) as a ledger.

    Version 1 knew files, figures, dates, issued and corrections; what was e-mailed stood in
    ``versand.csv`` only, and numbers of settlement letters were computed, never stored. The
    numbers are stored now as 1.0 printed them (no prefix). An issued version none of whose
    bills was e-mailed was issued by ``festschreiben``: its bills went out by post on the day
    of issue. A bill of an issued version whose other bills were e-mailed was not sent (no
    address, a failure): it stays due, as 1.0 would have sent it again."""
    year = int(data["year"])
    log = read_log(folder)
    regions = {}
    for name, entry in data["regions"].items():
        versions = [settlement_v1(year, entry)]
        before = versions[0].result
        for correction in entry["corrections"]:
            version = correction_v1(correction, before)
            versions.append(version)
            if version.is_issued:
                before = version.result
        regions[name] = Region(name, versions)
    ledger = Ledger(year=year, context=from_data(Context, data["settings"])
                    if data.get("settings") else None, regions=regions)
    owners = {b.file: b.number for _, _, b in ledger.bills()}
    ledger.files = {n: FileEntry(f["sha256"], f.get("region", ""),
                                 owners.get(f"{Path(n).stem}.xlsx", ""))
                    for n, f in data["files"].items()}
    ledger.drafts = {n: FileEntry(f["sha256"], f.get("region", ""),
                                  owners.get(f"{Path(n).stem}.xlsx", ""))
                     for n, f in data.get("drafts", {}).items()}
    by_file = {b.file: b for _, _, b in ledger.bills()}
    for line in log:
        bill = by_file.get(line.attachments.split(", ")[0])
        if bill is not None:
            bill.sendings.append(Sending(
                time=v1_time(line.time), recipient=line.recipient, result=SendResult(line.result)
                if line.result in {r.value for r in SendResult} else SendResult.FAILED,
                attachments=tuple(line.attachments.split(", ")),
                hashes=tuple(line.hashes.split(", ")), message_id=line.message_id,
                detail=line.detail))
    for region in regions.values():
        for version in region.versions:
            if version.is_issued and not any(b.sent for b in version.bills.values()):
                for bill in version.bills.values():
                    bill.posted = version.issued_on or version.day
    return ledger


def v1_time(text: str) -> str:
    """``16.04.2025 10:00:00`` (1.0's log, local time) → ISO."""
    try:
        return datetime.strptime(text, "%d.%m.%Y %H:%M:%S").isoformat()
    except ValueError:
        return text


def settlement_v1(year: int, entry: dict) -> Version:
    result: RegionResult = from_data(RegionResult, entry["result"])
    day = date.fromisoformat(entry["settlement_date"])
    bills = {}
    for share in result.partner_shares:
        name = share.party.name
        bills[name] = Bill(number=invoice_number(year, name), partner=name, kind=Kind.LETTER,
                           file=entry["letters"][name], day=day, due=share.due_date,
                           amount=share.balance)
    issued = entry.get("issued_on") or ""
    return Version(0, State(entry["state"]), day, from_data(Context, entry["context"]), result,
                   bills, date.fromisoformat(issued) if issued else None)


def correction_v1(correction: dict, billed: RegionResult) -> Version:
    result: RegionResult = from_data(RegionResult, correction["result"])
    before: RegionResult = from_data(RegionResult, correction["before"])
    old = {s.party.name: s for s in before.partner_shares}
    new = {s.party.name: s for s in result.partner_shares}
    day, due = date.fromisoformat(correction["day"]), date.fromisoformat(correction["due"])
    bills = {}
    for name, letter in correction["letters"].items():
        bills[name] = Bill(
            number=letter["number"], partner=name, kind=Kind.CORRECTION, file=letter["file"],
            day=day, due=due, amount=gross(new.get(name)) - gross(old.get(name)),
            corrects=letter["corrects"], corrects_day=date.fromisoformat(letter["corrects_date"]))
    return Version(int(correction["round"]), State(correction["state"]), day,
                   from_data(Context, correction["context"]), result, bills)


def gross(share: Share | None) -> Decimal:
    return share.gross if share is not None else Decimal("0.00")
