"""camt.052, camt.053 and camt.054 in versions .001.02 and .001.08, read into bank entries.

The version is told by the namespace; the two versions differ where German banks put the
payer (``RltdPties/Dbtr/Pty/Nm`` in .08, ``RltdPties/Dbtr/Nm`` in .02), the status
(``Sts/Cd`` against plain ``Sts``) and a transaction's own amount (``TxDtls/Amt`` in .08
only). Both spellings are read in either version: a bank that mixes them loses nothing.

Glossary:

- Tagesauszug (camt.053 ``Stmt``), Umsätze untertags (camt.052 ``Rpt``), Sammlerauflösung
  (camt.054 ``Ntfctn``: the single payments behind one batch entry of the Tagesauszug).
- Buchung (``Ntry``): one entry on the account; Einzelumsatz (``NtryDtls/TxDtls``): one
  payment within it; Sammler (``NtryDtls/Btch``): an entry that stands for several payments.
- Verwendungszweck (``RmtInf/Ustrd``), Saldo (``Bal``): OPBD/PRCD opening, CLBD closing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache

from lxml import etree

from kim_excel.core.bank import BankEntry, EntryStatus, Statement
from kim_excel.core.german import format_eur
from kim_excel.core.model import CellRef, Problem
from kim_excel.core.money import ZERO, NotMoney, money
from kim_excel.input.bankfiles import (
    FILE,
    Refused,
    check_balance,
    check_euro,
    compact_iban,
    element,
    line,
    problem,
)

ISO_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.(\d{3})\.\d{3}\.\d{2})")
# message number → (the element under Document, the statement element in it)
MESSAGES = {"052": ("BkToCstmrAcctRpt", "Rpt"), "053": ("BkToCstmrStmt", "Stmt"),
            "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
VERSIONS = ("001.02", "001.08")
# Before the root element: the XML declaration, comments, processing instructions.
PROLOG_DOCTYPE = re.compile(rb"(?:\s|<\?.*?\?>|<!--.*?-->)*<!DOCTYPE", re.S)
PROLOG_BYTES = 64 * 1024
STATUS = {"BOOK": EntryStatus.BOOKED, "PDNG": EntryStatus.PENDING,
          "FUTR": EntryStatus.PENDING, "INFO": EntryStatus.INFO}
NOT_PROVIDED = "NOTPROVIDED"  # the EndToEndId of a payer who gave none
MAX_PROBLEMS = 10  # per file: ten examples tell the clerk enough; the rest are counted

NOT_XML_MESSAGE = ("Die Datei ist kein gültiges XML und damit kein camt-Kontoauszug "
                   "(technische Ursache: {reason}). Bitte den Auszug neu bei der Bank abrufen.")
DOCTYPE_MESSAGE = (
    "Die Datei enthält eine DOCTYPE-Deklaration, die ein Kontoauszug der Bank nie hat; sie "
    "wird aus Sicherheitsgründen nicht gelesen (Schutz vor XML-Bomben). Bitte den Auszug neu "
    "bei der Bank abrufen.")
NOT_CAMT_MESSAGE = (
    "Die Datei ist eine XML-Datei, aber kein Kontoauszug im camt-Format (Wurzelelement "
    "„{root}“{namespace}). Gelesen werden camt.052, camt.053 und camt.054 als .xml oder .zip "
    "und MT940.")
OTHER_MESSAGE_MESSAGE = (
    "Die Datei ist die ISO-20022-Nachricht {message}, kein Kontoauszug. Gelesen werden "
    "camt.052 (Umsätze untertags), camt.053 (Tagesauszug) und camt.054 (Sammlerauflösung).")
VERSION_MESSAGE = (
    "Die camt-Version {message} (Namensraum „{namespace}“) wird nicht gelesen; gelesen werden "
    "camt.052, camt.053 und camt.054 in den Versionen .001.02 und .001.08.")
WRONG_ELEMENT_MESSAGE = ("Die Datei hat den Namensraum von {message}, aber das Element "
                         "„{found}“ statt „{expected}“; sie ist kein gültiger Kontoauszug.")
MISSING_MESSAGE = "Das Pflichtelement fehlt."
NO_IBAN_MESSAGE = "Das Konto ist nicht mit einer IBAN angegeben."
AMOUNT_MESSAGE = "„{text}“ ist kein Betrag in ganzen Cent."
INDICATOR_MESSAGE = "„{text}“ ist weder CRDT (Gutschrift) noch DBIT (Belastung)."
DATE_MESSAGE = "„{text}“ ist kein Datum."
STATUS_MESSAGE = "Der Status „{text}“ ist unbekannt (erwartet BOOK, PDNG oder INFO)."
TX_AMOUNT_MESSAGE = ("Die Buchung hat mehrere Einzelumsätze, aber dieser nennt keinen Betrag "
                     "(TxDtls/Amt oder TxDtls/AmtDtls/TxAmt/Amt).")
TX_SUM_MESSAGE = "Die Einzelumsätze ergeben zusammen {parts}, die Buchung lautet aber über {total}."
MORE_MESSAGE = "… und {count} weitere Fehler in derselben Datei."


@dataclass(frozen=True)
class EntryGroup:
    """One camt entry (``Ntry``) as the batch rule needs it: what it is and where its
    transactions sit in :attr:`Statement.entries` (``first`` … ``first + size - 1``)."""

    place: str  # Stmt/Ntry[3]
    reference: str  # the entry's AcctSvcrRef, "" without one
    name: str  # the batch's name: its AcctSvcrRef, else its identity in the statement
    amount: Decimal  # signed
    booked: date | None
    status: EntryStatus
    batch: tuple[str, str, str] | None  # Btch (MsgId, PmtInfId, NbOfTxs); None without Btch
    detailed: bool  # it has transaction details (TxDtls)
    first: int
    size: int


@dataclass(frozen=True)
class CamtStatement:
    statement: Statement
    groups: tuple[EntryGroup, ...]


def read_camt(data: bytes, source: str) -> tuple[list[CamtStatement], list[Problem]]:
    """Every statement (``Stmt``/``Rpt``/``Ntfctn``) of one camt document, and the problems
    that keep them from being used (an empty list when there are none)."""
    try:
        root = parse_xml(data)
        namespace, kind, version = identify(root)
    except Refused as refusal:
        return [], [problem(source, refusal)]
    reader = _Reader(source, namespace, kind, version)
    found = reader.document(root)
    problems = reader.problems
    if len(problems) > MAX_PROBLEMS:
        more = Problem(MORE_MESSAGE.format(count=len(problems) - MAX_PROBLEMS),
                       CellRef(source, FILE))
        problems = [*problems[:MAX_PROBLEMS], more]
    return found, problems


def parse_xml(data: bytes) -> etree._Element:
    """The document's root, parsed without DTDs, entities or network; a DOCTYPE is refused.

    The DOCTYPE is looked for before parsing too: libxml2 stops an entity bomb on its own,
    but with a message about "amplification" that tells the clerk nothing.
    """
    head = data[:PROLOG_BYTES]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    if PROLOG_DOCTYPE.match(head.removeprefix(b"\xef\xbb\xbf")):
        raise Refused(FILE, DOCTYPE_MESSAGE)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True,
                             collect_ids=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        reason = (exc.msg or str(exc)).strip()
        raise Refused(line(exc.lineno) if exc.lineno else FILE,
                      NOT_XML_MESSAGE.format(reason=reason)) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise Refused(FILE, DOCTYPE_MESSAGE)
    return root


def identify(root: etree._Element) -> tuple[str, str, str]:
    """(namespace, kind, version) of a camt document: ``camt.053``, ``001.08``."""
    name = etree.QName(root)
    namespace = name.namespace or ""
    match = ISO_NAMESPACE.fullmatch(namespace)
    if name.localname != "Document" or match is None:
        shown = f" im Namensraum „{namespace}“" if namespace else " ohne Namensraum"
        raise Refused(FILE, NOT_CAMT_MESSAGE.format(root=name.localname, namespace=shown))
    message, number = match.group(1), match.group(2)
    if not message.startswith("camt.") or number not in MESSAGES:
        raise Refused(FILE, OTHER_MESSAGE_MESSAGE.format(message=message))
    version = message[len("camt.000."):]
    if version not in VERSIONS:
        raise Refused(FILE, VERSION_MESSAGE.format(message=message, namespace=namespace))
    expected = MESSAGES[number][0]
    body = next(iter(root), None)
    found = etree.QName(body).localname if body is not None else ""
    if found != expected:
        raise Refused(element("Document"), WRONG_ELEMENT_MESSAGE.format(
            message=message, found=found or "(leer)", expected=expected))
    return namespace, f"camt.{number}", version


@lru_cache(maxsize=256)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


@dataclass(frozen=True)
class _Entry:
    """What every transaction of one entry shares."""

    place: str
    account: str
    statement: str
    amount: Decimal  # signed
    status: EntryStatus
    reversal: bool
    booked: date | None
    value_date: date | None
    reference: str
    base: str  # its identity without a bank reference: <account>/<statement>/<n>
    batch: str  # the name of the batch its transactions detail, "" for a single payment


class _Reader:
    def __init__(self, source: str, namespace: str, kind: str, version: str):
        self.source = source
        self.namespace = namespace
        self.kind = kind
        self.version = version
        self.problems: list[Problem] = []
        self.cut = len(namespace) + 2  # "{namespace}Tag" → "Tag"
        self.cache: dict[object, dict[str, list]] = {}

    # -------------------------------------------------------------- element access
    # lxml's find() costs several microseconds a call, and an entry asks about twenty
    # questions; a dict of each element's children, built once, answers them for much less
    # (10,000 entries: about 0.3 s of 1.2 s instead of 3 s).

    def children(self, node) -> dict[str, list]:
        found = self.cache.get(node)
        if found is None:
            found = self.cache[node] = {}
            cut = self.cut
            for child in node:
                tag = child.tag
                if tag.__class__ is str:  # not an entity reference
                    name = tag[cut:]
                    if name in found:
                        found[name].append(child)
                    else:
                        found[name] = [child]
        return found

    def all(self, node, path: str) -> list:
        """Every element at ``path`` (``A/B/C``) below ``node``, in document order."""
        found = [node]
        for step in _steps(path):
            found = [child for parent in found for child in self.children(parent).get(step, ())]
        return found

    def find(self, node, path: str):
        """The first element at ``path`` below ``node``, None when absent."""
        for step in _steps(path):
            below = self.children(node).get(step)
            if not below:
                return None
            node = below[0]
        return node

    def text(self, node, path: str) -> str:
        """The stripped text at ``path`` below ``node``, "" when absent."""
        found = self.find(node, path)
        return (found.text or "").strip() if found is not None else ""

    def required(self, node, path: str, place: str) -> str:
        value = self.text(node, path)
        if not value:
            raise Refused(element(f"{place}/{path}"), MISSING_MESSAGE)
        return value

    def amount(self, node, path: str, place: str) -> Decimal | None:
        """The unsigned euro amount at ``path``, None when absent."""
        found = self.find(node, path)
        if found is None:
            return None
        where = element(f"{place}/{path}")
        check_euro(found.get("Ccy"), where)
        text = (found.text or "").strip()
        try:
            value = money(text)
        except (NotMoney, ValueError, ArithmeticError):
            raise Refused(where, AMOUNT_MESSAGE.format(text=text)) from None
        if value < 0:
            raise Refused(where, AMOUNT_MESSAGE.format(text=text))
        return value

    def signed(self, node, place: str, path: str = "Amt", indicator: str = "CdtDbtInd",
               default: str = "") -> Decimal | None:
        value = self.amount(node, path, place)
        if value is None:
            return None
        code = self.text(node, indicator) or default
        if code not in ("CRDT", "DBIT"):
            raise Refused(element(f"{place}/{indicator}"),
                          INDICATOR_MESSAGE.format(text=code) if code else MISSING_MESSAGE)
        return value if code == "CRDT" else -value

    def day(self, node, path: str, place: str) -> date | None:
        text = self.text(node, f"{path}/Dt") or self.text(node, f"{path}/DtTm")
        if not text:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise Refused(element(f"{place}/{path}"), DATE_MESSAGE.format(text=text)) from None

    # -------------------------------------------------------------- document and statement

    def document(self, root) -> list[CamtStatement]:
        body, tag = root[0], MESSAGES[self.kind[-3:]][1]
        nodes = self.all(body, tag)
        found = []
        for index, node in enumerate(nodes, 1):
            place = f"{tag}[{index}]" if len(nodes) > 1 else tag
            try:
                found.append(self.statement(node, place))
            except Refused as refusal:
                self.problems.append(problem(self.source, refusal))
        return found

    def statement(self, node, place: str) -> CamtStatement:
        identity = self.required(node, "Id", place)
        account = compact_iban(self.text(node, "Acct/Id/IBAN"))
        if not account:
            raise Refused(element(f"{place}/Acct/Id"), NO_IBAN_MESSAGE)
        check_euro(self.text(node, "Acct/Ccy") or None, element(f"{place}/Acct/Ccy"),
                   account=True)
        balances = self.balances(node, place)
        entries: list[BankEntry] = []
        groups: list[EntryGroup] = []
        booked_total = ZERO
        failed = False
        for n, entry in enumerate(self.all(node, "Ntry"), 1):
            self.cache.clear()  # what one entry needed, never needed again
            try:
                group, transactions = self.entry(entry, f"{place}/Ntry[{n}]", n, account,
                                                 identity, len(entries))
            except Refused as refusal:
                self.problems.append(problem(self.source, refusal))
                failed = True
                continue
            entries.extend(transactions)
            groups.append(group)
            if group.status is EntryStatus.BOOKED:
                booked_total += group.amount
        opening, opening_date, closing, closing_date, closing_place = balances
        statement = Statement(
            source=self.source, kind=self.kind, version=self.version, identity=identity,
            account=account, currency="EUR", opening=opening, closing=closing,
            opening_date=opening_date, closing_date=closing_date,
            entries=unique_identities(entries), booked_total=booked_total)
        if not failed:  # a sum without the refused entries would only add a false alarm
            check_balance(statement, element(closing_place))
        return CamtStatement(statement, tuple(groups))

    def balances(self, node, place: str):
        """(opening, its date, closing, its date, the closing balance's place)."""
        found: dict[str, tuple[Decimal, date | None, str]] = {}
        for index, balance in enumerate(self.all(node, "Bal"), 1):
            code = self.text(balance, "Tp/CdOrPrtry/Cd")
            where = f"{place}/Bal[{index}]"
            if code in ("OPBD", "PRCD", "CLBD") and code not in found:
                found[code] = (self.signed(balance, where), self.day(balance, "Dt", where), where)
        opening = found.get("OPBD") or found.get("PRCD")
        closing = found.get("CLBD")
        return (opening[0] if opening else None, opening[1] if opening else None,
                closing[0] if closing else None, closing[1] if closing else None,
                closing[2] if closing else place)

    # -------------------------------------------------------------- entries and transactions

    def entry(self, node, place: str, n: int, account: str, statement: str, before: int
              ) -> tuple[EntryGroup, list[BankEntry]]:
        amount = self.signed(node, place)
        if amount is None:
            raise Refused(element(f"{place}/Amt"), MISSING_MESSAGE)
        status = self.status(node, place)
        reference = self.text(node, "AcctSvcrRef")
        base = f"{account}/{statement}/{n}"
        details = self.all(node, "NtryDtls")
        transactions = [(tx, f"{place}/NtryDtls{f'[{d}]' if len(details) > 1 else ''}"
                             f"/TxDtls[{i}]")
                        for d, detail in enumerate(details, 1)
                        for i, tx in enumerate(self.all(detail, "TxDtls"), 1)]
        batch_node = self.find(node, "NtryDtls/Btch")
        batch = None if batch_node is None else (
            self.text(batch_node, "MsgId"), self.text(batch_node, "PmtInfId"),
            self.text(batch_node, "NbOfTxs"))
        is_batch = batch is not None or len(transactions) > 1
        facts = _Entry(place=place, account=account, statement=statement, amount=amount,
                       status=status, reversal=self.text(node, "RvslInd").lower()
                       in ("true", "1"), booked=self.day(node, "BookgDt", place),
                       value_date=self.day(node, "ValDt", place), reference=reference,
                       base=base, batch=(reference or base) if is_batch else "")
        if transactions:
            made = self.transactions(transactions, facts, before)
        else:
            # Without details the entry is the payment; its additional information is the
            # only text there is (a fee's "Kontoführung", a cash deposit's note).
            note = self.text(node, "AddtlNtryInf")
            made = [self.bank_entry(facts, before + 1, identity=self.identity(facts, "", 0),
                                    remittance=(note,) if note else ())]
        group = EntryGroup(place=place, reference=reference, name=reference or base, amount=amount,
                           booked=facts.booked, status=status, batch=batch,
                           detailed=bool(transactions), first=before, size=len(made))
        return group, made

    def status(self, node, place: str) -> EntryStatus:
        found = self.find(node, "Sts")
        if found is None:
            raise Refused(element(f"{place}/Sts"), MISSING_MESSAGE)
        code = (self.text(found, "Cd") or self.text(found, "Prtry")
                or (found.text or "").strip())
        if code not in STATUS:
            raise Refused(element(f"{place}/Sts"), STATUS_MESSAGE.format(text=code))
        return STATUS[code]

    def transactions(self, transactions, facts: _Entry, before: int) -> list[BankEntry]:
        single = len(transactions) == 1
        own = [self.text(tx, "Refs/AcctSvcrRef") for tx, _ in transactions]  # transaction's
        shares = Counter(ref or facts.reference for ref in own)
        made = []
        for index, ((tx, place), ref) in enumerate(zip(transactions, own, strict=True), 1):
            amount = facts.amount if single else self.transaction_amount(tx, place, facts)
            shared = shares[ref or facts.reference] > 1
            made.append(self.transaction(tx, facts, amount, before + index, ref,
                                         self.identity(facts, ref, index if shared else 0)))
        if not single:
            total = sum((e.amount for e in made), ZERO)
            if total != facts.amount:
                raise Refused(element(facts.place), TX_SUM_MESSAGE.format(
                    parts=format_eur(total), total=format_eur(facts.amount)))
        return made

    def transaction_amount(self, tx, place: str, facts: _Entry) -> Decimal:
        """A transaction's own amount: ``TxDtls/Amt`` (.08), else ``AmtDtls/TxAmt/Amt``."""
        default = "CRDT" if facts.amount >= 0 else "DBIT"
        for path in ("Amt", "AmtDtls/TxAmt/Amt"):
            value = self.signed(tx, place, path, default=default)
            if value is not None:
                return value
        raise Refused(element(place), TX_AMOUNT_MESSAGE)

    def transaction(self, tx, facts: _Entry, amount: Decimal, position: int, own: str,
                    identity: str) -> BankEntry:
        incoming = amount > 0 or (amount == 0 and facts.amount >= 0)
        name, iban = self.party(tx, "Dbtr" if incoming else "Cdtr")
        end_to_end = self.text(tx, "Refs/EndToEndId")
        reference = next((r.text.strip() for r in self.all(tx, "RmtInf/Strd/CdtrRefInf/Ref")
                          if r.text and r.text.strip()), "")
        return self.bank_entry(
            facts, position, identity=identity, batch=facts.batch, amount=amount, name=name,
            iban=iban, reference=reference,
            remittance=tuple(u.text or "" for u in self.all(tx, "RmtInf/Ustrd")),
            end_to_end="" if end_to_end == NOT_PROVIDED else end_to_end,
            bank_reference=own or facts.reference)

    def party(self, tx, role: str) -> tuple[str, str]:
        name = (self.text(tx, f"RltdPties/{role}/Pty/Nm")
                or self.text(tx, f"RltdPties/{role}/Nm"))
        return name, compact_iban(self.text(tx, f"RltdPties/{role}Acct/Id/IBAN"))

    def identity(self, facts: _Entry, own: str, index: int) -> str:
        """The bank's reference (the transaction's, else the entry's), else the statement and
        the entry's position; ``#index`` when several transactions of the entry share it."""
        reference = own or facts.reference
        identity = f"{facts.account}:{reference}" if reference else facts.base
        return f"{identity}#{index}" if index else identity

    def bank_entry(self, facts: _Entry, position: int, **fields) -> BankEntry:
        """A bank entry with what the entry gives, and ``fields`` of the transaction."""
        given = {"amount": facts.amount, "bank_reference": facts.reference, **fields}
        return BankEntry(
            account=facts.account, booked=facts.booked, value_date=facts.value_date,
            status=facts.status, reversal=facts.reversal, source=self.source,
            statement=facts.statement, position=position, **given)


def unique_identities(entries: list[BankEntry]) -> tuple[BankEntry, ...]:
    """Entries whose bank repeats a reference within one statement stay apart: the second
    gets ``~2``, the third ``~3`` (in statement order, so a re-read gives the same)."""
    seen: dict[str, int] = {}
    result = []
    for entry in entries:
        count = seen[entry.identity] = seen.get(entry.identity, 0) + 1
        result.append(entry if count == 1 else replace(entry, identity=f"{entry.identity}~{count}"))
    return tuple(result)
