"""The send log ``<J>/versand.csv`` of ``kim-excel versenden`` (split out of mailing.py).

One line per attempt, appended and never rewritten. A partner counts as sent when a line says
``gesendet`` for the same recipient and the same attachment hashes.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from kim_excel.core.errors import MailError
from kim_excel.core.files import os_reason

LOG_NAME = "versand.csv"
LOG_COLUMNS = ("Zeitpunkt", "Kommune", "Empfaenger", "Anhaenge", "SHA256", "Message_ID",
               "Ergebnis", "Meldung")


class Result(Enum):
    SENT = "gesendet"
    TEST = "Test"
    FAILED = "Fehler"
    NO_ADDRESS = "ohne Adresse"


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


def read_log(path: Path) -> list[LogEntry]:
    """The log's lines, by column name; also after Excel saved it as ANSI (cp1252)."""
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


def check_log_writable(path: Path) -> None:
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise MailError(f"Das Versandprotokoll „{path}“ kann nicht geschrieben werden "
                        f"({os_reason(exc)}) – ist es in Excel geöffnet? Bitte schließen; es "
                        f"wurde nichts gesendet.") from None


def append_log(path: Path, entry: LogEntry) -> None:
    """Append one line and force it to disk; earlier lines are never rewritten."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(
        [entry.time, entry.partner, entry.recipient, entry.attachments, entry.hashes,
         entry.message_id, entry.result, entry.detail])
    with open(path, "ab") as handle:
        prefix = b""
        if handle.tell() == 0:
            header = io.StringIO()
            csv.writer(header, delimiter=";", lineterminator="\r\n").writerow(LOG_COLUMNS)
            prefix = "\ufeff".encode() + header.getvalue().encode()
        elif not _ends_with_newline(path):  # a line cut off by a crash stays on its own
            prefix = b"\r\n"
        handle.write(prefix + buffer.getvalue().encode())
        handle.flush()
        os.fsync(handle.fileno())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
