"""Bank statements for tests, written as German banks deliver them (SPEC § 9).

Give a list of :class:`Payment` (and :class:`Batch`: several payments booked as one entry) and
an :class:`Account`; get camt.053 (daily statement), camt.052 (intraday report) or camt.054
(batch details) in version .001.02 or .001.08, a ZIP of them, or MT940:

- a long Verwendungszweck is cut into 140-character ``Ustrd`` lines (camt) or 27-character
  ``?2x`` subfields that continue without repeating ``SVWZ+`` (MT940), and MT940 lines are
  wrapped at 65 characters wherever that falls, after a space too;
- the payer is ``RltdPties/Dbtr/Pty/Nm`` in .08 and ``RltdPties/Dbtr/Nm`` in .02, the status
  ``Sts/Cd`` in .08 and plain ``Sts`` in .02, an empty end-to-end id ``NOTPROVIDED``;
- MT940 text is ASCII: umlauts transliterated (``ä`` → ``ae``, ``ß`` → ``ss``) as the SWIFT
  character set asks, other characters outside it (and ``?``, the subfield mark) become ``.``.

Every XML written here validates against the ISO 20022 schemas in ``../shared/camt``
(tests/test_statements.py checks each kind and version with lxml's ``XMLSchema``).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree

from kim_excel.core.files import TRANSLITERATION

D = Decimal
NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.{version}"
# kind → (the element under Document, the statement element)
MESSAGES = {"052": ("BkToCstmrAcctRpt", "Rpt"), "053": ("BkToCstmrStmt", "Stmt"),
            "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
USTRD = 140  # characters of one Ustrd line
SUBFIELD = 27  # characters of one MT940 ?2x subfield
SWIFT_LINE = 65
NAME_SUBFIELDS = 2  # ?32 and ?33


@dataclass(frozen=True)
class Payment:
    """One movement on the account, as the payer made it."""

    amount: Decimal  # + received, − paid out
    booked: date
    name: str = ""  # the other party: payer of an incoming, payee of an outgoing payment
    iban: str = ""  # the other party's IBAN
    text: str = ""  # the Verwendungszweck as one text; the bank cuts it into lines
    end_to_end: str = ""  # "" is delivered as NOTPROVIDED
    reference: str = ""  # structured creditor reference (RmtInf/Strd/CdtrRefInf/Ref)
    bank_reference: str = ""  # AcctSvcrRef (camt); the //reference of :61: (MT940)
    status: str = "BOOK"  # BOOK, PDNG or INFO
    reversal: bool = False
    value_date: date | None = None

    @property
    def lines(self) -> tuple[str, ...]:
        """The ``Ustrd`` lines a bank delivers for :attr:`text`."""
        return tuple(self.text[i:i + USTRD] for i in range(0, len(self.text), USTRD))


@dataclass(frozen=True)
class Batch:
    """Several payments booked as one entry (Sammler): the camt.053 shows the total with
    ``NtryDtls/Btch`` and no details, the camt.054 details the payments."""

    payments: tuple[Payment, ...]
    bank_reference: str = ""  # AcctSvcrRef of the batch entry (053 and 054 alike)
    payment_id: str = "PMTINF-1"  # Btch/PmtInfId

    @property
    def amount(self) -> Decimal:
        return sum((p.amount for p in self.payments), D("0.00"))

    @property
    def booked(self) -> date:
        return self.payments[0].booked

    @property
    def status(self) -> str:
        return self.payments[0].status


@dataclass(frozen=True)
class Account:
    """The employer's account the statements are for."""

    iban: str = "DE89370400440532013000"
    owner: str = "Kreis Coesfeld"
    bic: str = "COBADEFFXXX"
    opening: Decimal = D("10000.00")
    currency: str = "EUR"

    @property
    def bank_code(self) -> str:
        return self.iban[4:12]

    @property
    def number(self) -> str:
        return self.iban[12:22]


@dataclass(frozen=True)
class Options:
    """What else a statement carries; the defaults are a plain daily statement."""

    statement_id: str = "2024-03-01-0001"
    created: datetime = datetime(2024, 3, 1, 18, 30)
    # Balances: None writes OPBD and CLBD (053) or none (052, 054); a tuple names the codes.
    balances: tuple[str, ...] | None = None
    closing: Decimal | None = None  # a closing balance other than the true one
    batch_details: bool = False  # a 053/052 batch entry with TxDtls (details included)


def signed(amount: Decimal) -> tuple[str, str]:
    """(the amount as camt writes it, its CdtDbtInd)."""
    return f"{abs(amount):.2f}", "CRDT" if amount >= 0 else "DBIT"


def closing_balance(account: Account, items: Sequence[Payment | Batch]) -> Decimal:
    return account.opening + sum((i.amount for i in items if i.status == "BOOK"), D("0.00"))


# ------------------------------------------------------------------ camt


def camt(kind: str, version: str, account: Account, items: Sequence[Payment | Batch],
         options: Options | None = None) -> bytes:
    """A camt document (``kind`` "052", "053" or "054", ``version`` "02" or "08")."""
    options = options or Options()
    writer = _CamtWriter(kind, version, account, options)
    return writer.document(items)


class _CamtWriter:
    def __init__(self, kind: str, version: str, account: Account, options: Options):
        assert kind in MESSAGES and version in ("02", "08"), (kind, version)
        self.kind, self.version, self.account, self.options = kind, version, account, options
        self.ns = NAMESPACE.format(kind=kind, version=version)

    def el(self, parent, tag: str, text: str | None = None, **attributes):
        node = etree.SubElement(parent, f"{{{self.ns}}}{tag}", attributes)
        if text is not None:
            node.text = text
        return node

    def path(self, parent, tags: str, text: str | None = None):
        """Elements nested as in ``A/B/C``, the text in the last."""
        for tag in tags.split("/"):
            parent = self.el(parent, tag)
        if text is not None:
            parent.text = text
        return parent

    def amount(self, parent, tag: str, amount: Decimal):
        value, _ = signed(amount)
        return self.el(parent, tag, value, Ccy=self.account.currency)

    def document(self, items: Sequence[Payment | Batch]) -> bytes:
        root = etree.Element(f"{{{self.ns}}}Document", nsmap={None: self.ns})
        body_tag, statement_tag = MESSAGES[self.kind]
        body = self.el(root, body_tag)
        header = self.el(body, "GrpHdr")
        self.el(header, "MsgId", f"MSG-{self.options.statement_id}")
        self.el(header, "CreDtTm", self.options.created.isoformat())
        statement = self.el(body, statement_tag)
        self.el(statement, "Id", self.options.statement_id)
        self.el(statement, "CreDtTm", self.options.created.isoformat())
        account = self.el(statement, "Acct")
        self.path(account, "Id/IBAN", self.account.iban)
        self.el(account, "Ccy", self.account.currency)
        self.path(account, "Ownr/Nm", self.account.owner)
        self.balances(statement, items)
        for item in items:
            if isinstance(item, Batch):
                self.batch(statement, item)
            else:
                self.entry(statement, item)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def balances(self, statement, items) -> None:
        codes = self.options.balances
        if codes is None:
            codes = ("OPBD", "CLBD") if self.kind == "053" else ()
        if self.kind == "054":
            assert not codes, "camt.054 has no balances"
            return
        days = [i.booked for i in items] or [self.options.created.date()]
        closing = self.options.closing
        values = {"OPBD": self.account.opening, "PRCD": self.account.opening,
                  "CLBD": closing_balance(self.account, items) if closing is None else closing,
                  "ITBD": closing_balance(self.account, items)}
        for code in codes:
            balance = self.el(statement, "Bal")
            self.path(balance, "Tp/CdOrPrtry/Cd", code)
            self.amount(balance, "Amt", values[code])
            self.el(balance, "CdtDbtInd", signed(values[code])[1])
            day = min(days) if code in ("OPBD", "PRCD") else max(days)
            self.path(balance, "Dt/Dt", day.isoformat())

    def entry_head(self, statement, amount: Decimal, booked: date, status: str,
                   reversal: bool, reference: str, value_date: date | None = None):
        entry = self.el(statement, "Ntry")
        self.amount(entry, "Amt", amount)
        self.el(entry, "CdtDbtInd", signed(amount)[1])
        if reversal:
            self.el(entry, "RvslInd", "true")
        if self.version == "08":
            self.path(entry, "Sts/Cd", status)
        else:
            self.el(entry, "Sts", status)
        self.path(entry, "BookgDt/Dt", booked.isoformat())
        self.path(entry, "ValDt/Dt", (value_date or booked).isoformat())
        if reference:
            self.el(entry, "AcctSvcrRef", reference)
        code = self.path(entry, "BkTxCd/Prtry")
        self.el(code, "Cd", "NTRF+166+00931" if amount >= 0 else "NTRF+116+00931")
        self.el(code, "Issr", "DK")
        return entry

    def entry(self, statement, payment: Payment) -> None:
        entry = self.entry_head(statement, payment.amount, payment.booked, payment.status,
                                payment.reversal, payment.bank_reference, payment.value_date)
        details = self.el(entry, "NtryDtls")
        self.transaction(details, payment, own_reference=False)
        self.el(entry, "AddtlNtryInf", "GUTSCHR. UEBERWEISUNG" if payment.amount >= 0
                else "UEBERWEISUNG")

    def batch(self, statement, batch: Batch) -> None:
        entry = self.entry_head(statement, batch.amount, batch.booked, batch.status, False,
                                batch.bank_reference)
        details = self.el(entry, "NtryDtls")
        info = self.el(details, "Btch")
        self.el(info, "PmtInfId", batch.payment_id)
        self.el(info, "NbOfTxs", str(len(batch.payments)))
        self.amount(info, "TtlAmt", batch.amount)
        self.el(info, "CdtDbtInd", signed(batch.amount)[1])
        if self.kind == "054" or self.options.batch_details:
            for payment in batch.payments:
                self.transaction(details, payment, own_reference=True, with_amount=True)
        self.el(entry, "AddtlNtryInf", "SAMMLER-GUTSCHRIFT")

    def transaction(self, details, payment: Payment, *, own_reference: bool,
                    with_amount: bool = True) -> None:
        tx = self.el(details, "TxDtls")
        refs = self.el(tx, "Refs")
        if own_reference and payment.bank_reference:
            self.el(refs, "AcctSvcrRef", payment.bank_reference)
        self.el(refs, "EndToEndId", payment.end_to_end or "NOTPROVIDED")
        value, indicator = signed(payment.amount)
        if with_amount and self.version == "08":
            self.el(tx, "Amt", value, Ccy=self.account.currency)
            self.el(tx, "CdtDbtInd", indicator)
        if with_amount:
            self.amount(self.path(tx, "AmtDtls/TxAmt"), "Amt", payment.amount)
        self.parties(tx, payment)
        if payment.text or payment.reference:
            remittance = self.el(tx, "RmtInf")
            for line in payment.lines:
                self.el(remittance, "Ustrd", line)
            if payment.reference:
                self.path(remittance, "Strd/CdtrRefInf/Ref", payment.reference)

    def parties(self, tx, payment: Payment) -> None:
        other = (payment.name, payment.iban)
        own = (self.account.owner, self.account.iban)
        debtor, creditor = (other, own) if payment.amount >= 0 else (own, other)
        parties = self.el(tx, "RltdPties")
        for role, (name, iban) in (("Dbtr", debtor), ("Cdtr", creditor)):
            if name:
                self.path(parties, f"{role}/Pty/Nm" if self.version == "08" else f"{role}/Nm",
                          name)
            if iban:
                self.path(parties, f"{role}Acct/Id/IBAN", iban)


# ------------------------------------------------------------------ MT940


def swift_text(text: str) -> str:
    """Text in the SWIFT character set, umlauts transliterated (``Lüdinghausen`` →
    ``Luedinghausen``); anything else outside it, and ``?``, becomes ``.``."""
    text = "".join(TRANSLITERATION.get(ch, ch) for ch in text)
    return re.sub(r"[^A-Za-z0-9/\-:().,'+ ]", ".", text)


def mt940_amount(amount: Decimal) -> str:
    return f"{abs(amount):.2f}".replace(".", ",")


def mt940(account: Account, payments: Sequence[Payment], *, reference: str = "STARTUMSE",
          number: str = "00001/001", opening_date: date | None = None,
          closing: Decimal | None = None, iban_in_25: bool = False,
          currency: str | None = None) -> bytes:
    """One MT940 statement of booked payments (MT940 has no pending entries)."""
    assert all(p.status == "BOOK" for p in payments), "MT940 lists booked entries only"
    currency = currency or account.currency
    days = [p.booked for p in payments]
    opened = opening_date or (min(days) if days else date(2024, 3, 1))
    closed = max(days) if days else opened
    if closing is None:
        closing = closing_balance(account, payments)
    lines = [":20:" + reference,
             ":25:" + (account.iban if iban_in_25 else f"{account.bank_code}/{account.number}"),
             ":28C:" + number,
             f":60F:{_mark(account.opening)}{opened:%y%m%d}{currency}"
             f"{mt940_amount(account.opening)}"]
    for payment in payments:
        lines += _statement_line(payment)
    lines += [f":62F:{_mark(closing)}{closed:%y%m%d}{currency}{mt940_amount(closing)}", "-"]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _mark(amount: Decimal, reversal: bool = False) -> str:
    """C credit, D debit; RC reverses a credit (money goes out), RD a debit (money comes in)."""
    if reversal:
        return "RD" if amount >= 0 else "RC"
    return "C" if amount >= 0 else "D"


def _statement_line(payment: Payment) -> list[str]:
    assert len(payment.bank_reference) <= 16, "the MT940 bank reference is 16x"
    value = payment.value_date or payment.booked
    head = (f":61:{value:%y%m%d}{payment.booked:%m%d}{_mark(payment.amount, payment.reversal)}"
            f"{mt940_amount(payment.amount)}NTRFNONREF")
    if payment.bank_reference:
        head += "//" + payment.bank_reference
    code = "166" if payment.amount >= 0 else "116"
    subfields = [f"?00{'GUTSCHR. UEBERWEISUNG' if payment.amount >= 0 else 'UEBERWEISUNG'}",
                 "?109310"]
    purpose = (_cut(swift_text(f"EREF+{payment.end_to_end or 'NOTPROVIDED'}"), SUBFIELD)
               + (_cut("SVWZ+" + swift_text(payment.text), SUBFIELD) if payment.text else []))
    assert len(purpose) <= 10, "?20 to ?29 hold the purpose"
    subfields += [f"?{20 + i}{part}" for i, part in enumerate(purpose)]
    if payment.iban:
        subfields.append(f"?31{payment.iban}")
    name = _cut(swift_text(payment.name), SUBFIELD)[:NAME_SUBFIELDS]
    subfields += [f"?{32 + i}{part}" for i, part in enumerate(name)]
    details = ":86:" + code + "".join(subfields)
    return [head, *_cut(details, SWIFT_LINE)]


def _cut(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]


# ------------------------------------------------------------------ files


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A ZIP as banks hand them out: one deflated XML file per statement."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def edited(data: bytes, path: str, *, text: str | None = None, remove: bool = False,
           **attributes: str) -> bytes:
    """A camt document with the one element at ``path`` (XPath, prefix ``c:``) changed: its
    text, its attributes, or removed. For tests of what banks should never send."""
    root = etree.fromstring(data)
    [node] = root.xpath(path, namespaces={"c": root.nsmap[None]})
    if remove:
        node.getparent().remove(node)
    if text is not None:
        node.text = text
    for name, value in attributes.items():
        node.set(name, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
