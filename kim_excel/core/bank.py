"""Bank statements as plain data: what a statement says, entry by entry (SPEC § 9).

``input/statements.py`` reads camt.052/.053/.054 (versions .001.02 and .001.08) and MT940 into
these; ``core/matching.py`` matches their entries to the bills of a year folder; the ledger
records each entry once, by its :attr:`BankEntry.identity`.

Glossary:

- Kontoauszug (``Statement``): one statement of one account (a camt ``Stmt``/``Rpt``/``Ntfctn``
  or an MT940 message), with its opening and closing balance where the format has them.
- Buchung (``BankEntry``): one movement on the account as matching needs it: one transaction
  of a camt entry (its ``TxDtls``), or the entry itself when it has no details.
- Verwendungszweck (``remittance``): the unstructured remittance lines as delivered; a word
  or a Rechnungsnummer may be cut between two lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum


class EntryStatus(Enum):
    BOOKED = "BOOK"  # only booked entries count (SPEC § 9)
    PENDING = "PDNG"  # listed, never recorded
    INFO = "INFO"


@dataclass(frozen=True)
class BankEntry:
    """One movement on the employer's account."""

    identity: str  # unique and stable: the bank's reference, else statement and position
    account: str  # IBAN of the account the statement is for (compact, upper case)
    amount: Decimal  # + received, − paid out (whole cents)
    booked: date | None  # booking date
    value_date: date | None = None
    status: EntryStatus = EntryStatus.BOOKED
    reversal: bool = False  # the entry undoes an earlier one (camt ``RvslInd``)
    name: str = ""  # the other party: the payer of an incoming, the payee of an outgoing one
    iban: str = ""  # the other party's IBAN (compact, upper case), if given
    remittance: tuple[str, ...] = ()  # Verwendungszweck lines, as delivered
    end_to_end: str = ""  # the payer's own reference; "" for NOTPROVIDED
    reference: str = ""  # structured creditor reference (camt ``Strd/CdtrRefInf/Ref``)
    bank_reference: str = ""  # the bank's own reference (``AcctSvcrRef``), if any
    source: str = ""  # the file it came from (``auszug.zip/2024-03-01.xml``)
    statement: str = ""  # the statement's id
    position: int = 0  # 1-based position in the statement (entry, then transaction)
    batch: str = ""  # the bank reference of the batch entry this transaction details, if any

    @property
    def is_booked(self) -> bool:
        return self.status is EntryStatus.BOOKED

    @property
    def text(self) -> str:
        """The Verwendungszweck as one text, lines joined without a separator (a line break
        may cut a word)."""
        return "".join(self.remittance)


@dataclass(frozen=True)
class Statement:
    """One statement of one account."""

    source: str  # file (and ZIP member) it was read from
    kind: str  # "camt.053", "camt.052", "camt.054" or "MT940"
    version: str  # "001.08", "001.02"; "" for MT940
    identity: str  # the statement's id (camt ``Id``, MT940 ``:20:``/``:28C:``)
    account: str  # IBAN (compact, upper case)
    currency: str
    opening: Decimal | None = None  # booked opening balance, where the format has one
    closing: Decimal | None = None  # booked closing balance
    opening_date: date | None = None
    closing_date: date | None = None
    entries: tuple[BankEntry, ...] = ()
    # Sum of the booked entries at entry level (a batch counts once, with its total): what the
    # balances must differ by.
    booked_total: Decimal = Decimal("0.00")

    @property
    def balance_checked(self) -> bool:
        return self.opening is not None and self.closing is not None

    @property
    def balance_ok(self) -> bool | None:
        """Opening balance + booked entries = closing balance; ``None`` without balances."""
        if not self.balance_checked:
            return None
        return self.opening + self.booked_total == self.closing

    @property
    def latest_date(self) -> date | None:
        """The last day the statement covers: its closing date, else its latest booking."""
        days = [e.booked for e in self.entries if e.booked]
        return self.closing_date or (max(days) if days else None)
