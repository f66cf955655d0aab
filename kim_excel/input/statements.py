"""Step 1 of ``zahlungen``: the employer's bank statements read into typed entries (SPEC § 9).

:func:`read_statements` takes files and folders as the clerk names them, reads every statement
in them (camt.052/.053/.054 as XML or as the bank's ZIP, MT940) and returns one
:class:`Statement` per camt ``Stmt``/``Rpt``/``Ntfctn`` or MT940 statement, in the order read.
Every file is read before anything is decided: one :class:`StatementError` lists every bad file,
and a run that meets one is refused as a whole.

Identities (:attr:`BankEntry.identity`) are made from what the bank wrote, never from when or
how often a file was read, so the same entry gets the same identity in every file it appears
in (tests/test_statements.py reads each case):

- camt with a bank reference: ``<account>:<AcctSvcrRef>`` (the transaction's, else the
  entry's), plus ``#<n>`` (the transaction's place in the entry) when several transactions
  share it. A camt.052 of the morning and the camt.053 of the day carry the same references,
  so their entries meet; the account keeps two banks' references apart.
- camt without one, and every MT940 (whose bank reference no bank promises to be unique):
  ``<account>/<statement id>/<n>``, the entry's position in its statement; stable when the
  same statement is read again, distinct for two equal payments.
- A reference the bank repeats within one statement gets ``~2``, ``~3`` in statement order, so
  two entries never share an identity.

Nothing is deduplicated here; the ledger records each entry once by its identity. The one
exception is the batch rule: a camt.054 that details a batch entry of a camt.053 (or .052)
replaces that entry in the statement by its transactions, so the batch is never counted beside
them.

Glossary: Kontoauszug (statement), Sammelbuchung (batch entry: one entry for several payments),
Sammlerauflösung (camt.054: the payments behind a batch entry).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from kim_excel.core.bank import Statement
from kim_excel.core.errors import StatementError
from kim_excel.core.files import os_reason
from kim_excel.core.german import format_eur
from kim_excel.core.model import CellRef, Problem
from kim_excel.input.bankfiles import FILE, Refused, element, problem
from kim_excel.input.camt import CamtStatement, EntryGroup, read_camt
from kim_excel.input.mt940 import decode, looks_like_mt940, read_mt940
from kim_excel.input.unzip import Limits, ZipRefused, unpack

STATEMENT_SUFFIXES = (".xml", ".zip", ".sta", ".mt940", ".txt")
MB = 1024 * 1024
# A daily statement of a busy account is a few MB; a year of them in one ZIP stays far below.
MAX_FILE_BYTES = 128 * MB
ZIP_LIMITS = Limits(member=MAX_FILE_BYTES, total=512 * MB, ratio=200)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

MISSING_MESSAGE = "Die Datei oder den Ordner gibt es nicht."
EMPTY_FOLDER_MESSAGE = ("Im Ordner liegt kein Kontoauszug (Dateien mit der Endung .xml, .zip, "
                        ".sta, .mt940 oder .txt).")
UNREADABLE_MESSAGE = "Die Datei kann nicht gelesen werden ({reason})."
TOO_LARGE_MESSAGE = ("Die Datei ist größer als {limit} MB; so groß ist kein Kontoauszug. Bitte "
                     "die Auszüge einzeln oder als ZIP der Bank angeben.")
NOT_STATEMENT_MESSAGE = ("Die Datei ist kein Kontoauszug: weder camt-XML (.xml oder .zip) noch "
                         "MT940.")
WORKBOOK_MESSAGE = ("Die Datei ist eine Tabelle (Excel oder OpenDocument), kein Kontoauszug. "
                    "Bitte die Kontoauszüge so angeben, wie die Bank sie liefert: camt als "
                    ".xml oder .zip, oder MT940.")
OLE_MESSAGE = "Die Datei ist eine ältere Office-Datei (etwa .xls oder .doc), kein Kontoauszug."
EMPTY_ZIP_MESSAGE = "Das ZIP-Archiv enthält keinen Kontoauszug."
ZIP_MESSAGES = {
    "damaged": ("Das ZIP-Archiv ist beschädigt (kein gültiges ZIP, Prüfsumme falsch oder "
                "unvollständig heruntergeladen). Bitte die Kontoauszüge neu bei der Bank "
                "abrufen."),
    "encrypted": ("Das ZIP-Archiv ist mit einem Kennwort verschlüsselt und kann nicht gelesen "
                  "werden. Bitte die Kontoauszüge ohne Kennwort abrufen."),
    "too large": ("Das ZIP-Archiv entpackt sich auf mehr als {limit} MB (oder eine Datei darin "
                  "auf mehr als {member} MB); so groß sind keine Kontoauszüge (Schutz vor "
                  "ZIP-Bomben)."),
    "ratio": ("Das ZIP-Archiv ist ungewöhnlich stark gepackt (mehr als das {ratio}-Fache); so "
              "sind keine Kontoauszüge gepackt (Schutz vor ZIP-Bomben)."),
}
BATCH_MESSAGE = (
    "Die Sammelbuchung über {total} wird in „{detail}“ durch Einzelumsätze über zusammen "
    "{parts} aufgelöst; die Beträge passen nicht zusammen.")


def read_statements(paths: Sequence[Path]) -> list[Statement]:
    """Every statement in ``paths`` (files, or folders of statement files).

    Raises :class:`StatementError` listing every file that cannot be used: not a statement,
    an unknown camt version or message, a currency other than EUR, balances that do not add
    up, a damaged or oversized ZIP, an unreadable file.
    """
    problems: list[Problem] = []
    found: list[CamtStatement | Statement] = []
    for path in paths:
        for file in statement_files(path, problems):
            statements, trouble = read_file(file)
            found.extend(statements)
            problems.extend(trouble)
    if problems:
        raise StatementError(problems)
    statements, problems = detail_batches(found)
    if problems:
        raise StatementError(problems)
    return statements


def statement_files(path: Path, problems: list[Problem]) -> list[Path]:
    """``path`` itself, or the statement files in the folder ``path`` sorted by name
    (hidden files and Office's lock files ``~$…`` left out)."""
    where = CellRef(str(path), "Ordner" if path.is_dir() else FILE)
    if path.is_file():
        return [path]
    if not path.is_dir():
        problems.append(Problem(MISSING_MESSAGE, where))
        return []
    try:
        files = sorted((p for p in path.iterdir()
                        if p.suffix.lower() in STATEMENT_SUFFIXES
                        and not p.name.startswith(("~$", ".")) and p.is_file()),
                       key=lambda p: p.name)
    except OSError as exc:
        problems.append(Problem(UNREADABLE_MESSAGE.format(reason=os_reason(exc)), where))
        return []
    if not files:
        problems.append(Problem(EMPTY_FOLDER_MESSAGE, where))
    return files


def read_file(path: Path) -> tuple[list[CamtStatement | Statement], list[Problem]]:
    """The statements of one file (XML, ZIP or MT940, told by its content, not its name)."""
    source = path.name
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return [], [_at_file(source, TOO_LARGE_MESSAGE.format(limit=MAX_FILE_BYTES // MB))]
        with path.open("rb") as handle:
            head = handle.read(8)
        if head.startswith(b"PK"):
            return read_zip(path, source)
        if head == OLE_MAGIC:
            return [], [_at_file(source, OLE_MESSAGE)]
        data = path.read_bytes()
    except OSError as exc:
        return [], [_at_file(source, UNREADABLE_MESSAGE.format(reason=os_reason(exc)))]
    return read_document(data, source)


def read_document(data: bytes, source: str
                  ) -> tuple[list[CamtStatement | Statement], list[Problem]]:
    """One statement document: camt XML or MT940 text."""
    head = data[:64]
    for bom in BOMS:
        head = head.removeprefix(bom)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or head.lstrip().startswith(b"<"):
        return read_camt(data, source)
    text = decode(data)
    if looks_like_mt940(text):
        return read_mt940(text, source)
    return [], [_at_file(source, NOT_STATEMENT_MESSAGE)]


def read_zip(path: Path, source: str) -> tuple[list[CamtStatement | Statement], list[Problem]]:
    """The statements in the bank's ZIP, member by member, unpacked within :data:`ZIP_LIMITS`."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, NotImplementedError, RuntimeError, EOFError):
        return [], [_at_file(source, ZIP_MESSAGES["damaged"])]
    if "[Content_Types].xml" in names or "mimetype" in names:
        return [], [_at_file(source, WORKBOOK_MESSAGE)]
    found: list[CamtStatement | Statement] = []
    problems: list[Problem] = []
    try:
        for info, data in unpack(path, ZIP_LIMITS, wanted=_is_statement_member):
            statements, trouble = read_document(data, f"{source}/{info.filename}")
            found.extend(statements)
            problems.extend(trouble)
    except ZipRefused as exc:
        return [], [_at_file(source, ZIP_MESSAGES[exc.reason].format(
            limit=ZIP_LIMITS.total // MB, member=ZIP_LIMITS.member // MB,
            ratio=ZIP_LIMITS.ratio))]
    if not found and not problems:
        problems.append(_at_file(source, EMPTY_ZIP_MESSAGE))
    return found, problems


def _is_statement_member(info: zipfile.ZipInfo) -> bool:
    """What a folder would read: statement files, not hidden ones, not the PDF of the same
    statement some banks pack beside the XML."""
    name = info.filename.rsplit("/", 1)[-1]
    return (Path(name).suffix.lower() in STATEMENT_SUFFIXES
            and not info.filename.startswith("__MACOSX/") and not name.startswith((".", "~$")))


def _at_file(source: str, message: str) -> Problem:
    return problem(source, Refused(FILE, message))


# ------------------------------------------------------------------ the batch rule


def detail_batches(found: Sequence[CamtStatement | Statement]
                   ) -> tuple[list[Statement], list[Problem]]:
    """The statements with every batch entry that a camt.054 details replaced by the 054's
    transactions; those transactions' ``batch`` names the batch entry (its bank reference,
    else its identity) in every statement they appear in.

    A batch entry of a camt.053 or .052 pairs with an entry of a camt.054 of the same account
    whose bank reference (AcctSvcrRef) it shares; an entry with ``NtryDtls/Btch`` but no
    details pairs, without a shared reference, with a 054 entry of the same amount whose
    booking day and batch data (MsgId, PmtInfId, NbOfTxs) do not differ where both give them.
    The order of the files does not matter: every file is read before pairing.
    """
    notes = [(c, g) for c in found if isinstance(c, CamtStatement)
             and c.statement.kind == "camt.054" for g in c.groups]
    by_reference: dict[tuple[str, str], list[tuple[CamtStatement, EntryGroup]]] = {}
    by_amount: dict[tuple[str, object], list[tuple[CamtStatement, EntryGroup]]] = {}
    for note, group in notes:
        account = note.statement.account
        if group.reference:
            by_reference.setdefault((account, group.reference), []).append((note, group))
        by_amount.setdefault((account, group.amount), []).append((note, group))
    batch_names: dict[str, str] = {}  # identity of a 054 transaction → its batch's name
    problems: list[Problem] = []
    statements = []
    for item in found:
        if not isinstance(item, CamtStatement):
            statements.append(item)
            continue
        if item.statement.kind == "camt.054" or not notes:
            statements.append(item.statement)
            continue
        statements.append(_replace_batches(item, by_reference, by_amount, batch_names,
                                           problems))
    if batch_names:
        statements = [replace(s, entries=tuple(
            replace(e, batch=batch_names[e.identity]) if e.identity in batch_names else e
            for e in s.entries)) for s in statements]
    return statements, problems


def _replace_batches(item: CamtStatement, by_reference, by_amount,
                     batch_names: dict[str, str], problems: list[Problem]) -> Statement:
    statement = item.statement
    pairs = _pairs(statement.account, item.groups, by_reference, by_amount)
    entries = []
    for index, group in enumerate(item.groups):
        own = statement.entries[group.first:group.first + group.size]
        if index not in pairs:
            entries.extend(own)
            continue
        note, detail = pairs[index]
        if detail.amount != group.amount:
            problems.append(problem(statement.source, Refused(element(group.place),
                                    BATCH_MESSAGE.format(
                                        total=format_eur(group.amount),
                                        detail=note.statement.source,
                                        parts=format_eur(detail.amount)))))
            entries.extend(own)
            continue
        details = note.statement.entries[detail.first:detail.first + detail.size]
        batch_names.update((e.identity, group.name) for e in details)
        entries.extend(details)
    return replace(statement, entries=tuple(entries))


def _pairs(account: str, groups: Sequence[EntryGroup], by_reference, by_amount
           ) -> dict[int, tuple[CamtStatement, EntryGroup]]:
    """Which camt.054 entry details which of ``groups`` (by index), each 054 entry used once
    per statement: first every pair by shared reference, then batches by their data (a
    batch without a shared reference must not take the details another batch names)."""
    pairs: dict[int, tuple[CamtStatement, EntryGroup]] = {}
    used: set[int] = set()

    def take(index: int, candidates, fits) -> None:
        for note, detail in candidates:
            if id(detail) not in used and fits(detail):
                pairs[index] = note, detail
                used.add(id(detail))
                return

    for index, group in enumerate(groups):
        if group.reference:
            take(index, by_reference.get((account, group.reference), []), lambda d: True)
    for index, group in enumerate(groups):
        if index not in pairs and group.batch is not None and not group.detailed:
            take(index, by_amount.get((account, group.amount), []),
                 lambda d, group=group: _same_batch(group, d))
    return pairs


def _same_batch(group: EntryGroup, detail: EntryGroup) -> bool:
    if group.booked and detail.booked and group.booked != detail.booked:
        return False
    msg_id, payment_id, count = detail.batch or ("", "", "")
    theirs = (msg_id, payment_id, count or str(detail.size))
    return all(not mine or not other or mine == other
               for mine, other in zip(group.batch or (), theirs, strict=True))
