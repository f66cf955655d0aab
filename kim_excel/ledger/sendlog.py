"""The send log ``<J>/versand.csv``: what ``versenden`` did, for people, written from the ledger.

One line per e-mail attempt, oldest first. The ledger (``Bill.sendings``) is what counts as
sent; this file is rewritten whole from it after every attempt, so deleting it loses nothing
and sends nothing twice. It is read only to take over kim-excel 1.0's sendings
(``store.migrate_v1``) and to notice a record older than the folder (a sending it does not
know).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kim_excel.core.references import SEND_LOG
from kim_excel.ledger.book import Ledger

LOG_COLUMNS = ("Zeitpunkt", "Kommune", "Empfaenger", "Anhaenge", "SHA256", "Message_ID",
               "Ergebnis", "Meldung")


@dataclass(frozen=True)
class LogEntry:
    time: str
    partner: str
    recipient: str
    attachments: str
    hashes: str
    message_id: str
    result: str
    detail: str


def read_log(folder: Path) -> list[LogEntry]:
    """The log's lines, by column name; also after Excel saved it as ANSI (cp1252)."""
    path = folder / SEND_LOG
    if not path.is_file():
        return []
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    entries = []
    for row in csv.DictReader(io.StringIO(text, newline=""), delimiter=";"):
        values = [row.get(column) for column in LOG_COLUMNS]
        if all(isinstance(v, str) for v in values):
            entries.append(LogEntry(*values))
    return entries


def log_bytes(entries: list[LogEntry]) -> bytes:
    """The whole log: UTF-8 with BOM, ``;``, CRLF (Excel opens it as it is)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(LOG_COLUMNS)
    writer.writerows([e.time, e.partner, e.recipient, e.attachments, e.hashes, e.message_id,
                      e.result, e.detail] for e in entries)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def log_entries(ledger: Ledger) -> list[LogEntry]:
    """Every e-mail attempt of the ledger, oldest first, as the log's lines."""
    lines = []
    for _, _, bill in ledger.bills():
        for s in bill.sendings:
            lines.append(LogEntry(log_time(s.time), bill.partner, s.recipient,
                                  ", ".join(s.attachments), ", ".join(s.hashes), s.message_id,
                                  s.result.value, s.detail))
    return sorted(lines, key=lambda e: (e.time[6:10], e.time[3:5], e.time[:2], e.time[11:]))


def log_time(iso: str) -> str:
    """ISO → ``16.04.2025 10:00:00``, the log's German notation."""
    try:
        return datetime.fromisoformat(iso).strftime("%d.%m.%Y %H:%M:%S")
    except ValueError:
        return iso
