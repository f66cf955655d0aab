"""The ledger: the year folder's record as typed objects, the one owner of state (SPEC § 7).

Every command reads the record once into a :class:`Ledger` (``ledger/store.py``) and asks it:
which regions are settled, with which figures and date; which bills exist, with which
Rechnungsnummer; what is issued, posted, sent. State changes are methods here; the folder
transaction (``ledger/folder.py``) writes the ledger atomically with the files they concern.
Nothing re-derives a state from today's input, the clock or a log.

Glossary (after Frappe's ``docstatus``):

- Region (``Region``): the unit of a year folder. Its settlement and each correction round are
  a ``Version`` of its figures.
- Runde (``round``): 0 is the settlement; n ≥ 1 the n-th correction round of the year folder
  (``Korrektur_<J>_<Kommune>_<n>.xlsx``, ``Buchungsliste_<J>_Korrektur_<n>.csv``).
- Entwurf / festgeschrieben (``State.DRAFT`` / ``State.ISSUED``): a draft is replaced by the
  next run; an issued version never changes again, it is only followed by a correction.
- Rechnung (``Bill``): what one partner receives in one version: the settlement letter
  (``Kind.LETTER``) or a correction letter (``Kind.CORRECTION``); a partner that joins an issued
  region gets a first letter in the correction round. Its Rechnungsnummer is stored when the
  letter is written and never recomputed.
- Per Post / gesendet (``Bill.posted`` / ``Bill.sendings``): how an issued bill went out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from kim_excel.core.german import day_text, format_eur
from kim_excel.core.model import Party, RegionResult, Settings, Settlement, Share
from kim_excel.core.names import fold

ZERO = Decimal("0.00")


class State(Enum):
    DRAFT = "draft"
    ISSUED = "issued"


class Kind(Enum):
    LETTER = "letter"
    CORRECTION = "correction"
    REMINDER = "reminder"  # a Zahlungserinnerung: asks for what is open, bills nothing new


class SendResult(Enum):
    """What became of one e-mail (the words of ``versand.csv``)."""

    SENT = "gesendet"
    TEST = "Test"  # to a test address: never counts as sent
    FAILED = "Fehler"
    NO_ADDRESS = "ohne Adresse"


@dataclass
class Sending:
    """One attempt to e-mail a bill."""

    time: str  # ISO date and time with offset
    recipient: str
    result: SendResult
    attachments: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()  # SHA-256 of the attachments, in their order
    message_id: str = ""
    detail: str = ""

    @property
    def day(self) -> date:
        return date.fromisoformat(self.time[:10])


@dataclass
class Bill:
    """One partner's letter or correction letter."""

    number: str  # Rechnungsnummer, stored when the letter was written
    partner: str
    kind: Kind
    file: str  # the workbook, ``Abrechnung_<J>_<Kommune>.xlsx`` or ``Korrektur_…_<n>.xlsx``
    day: date  # the letter's date
    due: date | None  # when the amount is due or refunded
    amount: Decimal  # + the partner pays, − it is refunded, 0 nothing to pay
    corrects: str = ""  # the Rechnungsnummer of the document it corrects
    corrects_day: date | None = None
    posted: date | None = None  # festschreiben: went out by post on that day
    sendings: list[Sending] = field(default_factory=list)

    @property
    def sent(self) -> Sending | None:
        """The first successful e-mail to the partner (a test mail never counts)."""
        return next((s for s in self.sendings if s.result is SendResult.SENT), None)

    @property
    def delivered(self) -> bool:
        """Posted or e-mailed: it went out, and never goes out again by itself."""
        return self.posted is not None or self.sent is not None

    def delivery_text(self) -> str:
        """``per Post am 04.03.2025``, ``per E-Mail am 16.04.2025 an …``, or empty."""
        if self.sent is not None:
            return f"per E-Mail am {day_text(self.sent.day)} an {self.sent.recipient}"
        if self.posted is not None:
            return f"per Post am {day_text(self.posted)}"
        return ""


@dataclass(frozen=True)
class Context:
    """What a letter depends on besides its region's figures: the agreement-wide settings, the
    rate and the writer's version (a new kim-excel may write other letters)."""

    settings: Settings
    subsidy_rate: Decimal
    subsidy_rate_is_default: bool
    writer: str


@dataclass
class Version:
    """The region's figures as one round billed them."""

    round: int  # 0 the settlement, n a correction round
    state: State
    day: date  # the settlement date (round 0) or the correction's own date
    context: Context
    result: RegionResult
    bills: dict[str, Bill] = field(default_factory=dict)  # partner → its bill of this round
    issued_on: date | None = None

    @property
    def is_issued(self) -> bool:
        return self.state is State.ISSUED


@dataclass
class Reminder:
    """A Zahlungserinnerung to one partner (SPEC § 9): round ``n`` of that partner, covering
    its open bills as of the latest statement. A draft until it went out (by post or e-mail);
    the next round only after its own date to pay has passed."""

    round: int
    until: date  # "Zahlungseingänge berücksichtigt bis": the latest statement's date
    covers: tuple[str, ...]  # the Rechnungsnummern of the open bills it lists
    bill: Bill  # kind REMINDER: number, file, day, due (the new date to pay), amount (open)

    @property
    def is_draft(self) -> bool:
        return not self.bill.delivered


@dataclass
class Region:
    name: str
    versions: list[Version]  # the settlement, then its correction rounds
    reminders: list[Reminder] = field(default_factory=list)

    @property
    def settlement(self) -> Version:
        return self.versions[0]

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def is_issued(self) -> bool:
        return self.settlement.is_issued

    @property
    def billed(self) -> Version:
        """The last issued version: what the partners have been billed."""
        return next(v for v in reversed(self.versions) if v.is_issued)

    @property
    def open_correction(self) -> Version | None:
        latest = self.latest
        return latest if latest.round and not latest.is_issued else None

    def party(self, name: str) -> Party:
        """The party as the latest version that knew it has it (address, e-mail, IBAN)."""
        for version in reversed(self.versions):
            for party in (*(s.party for s in version.result.shares), *version.result.exited):
                if party.name == name:
                    return party
        raise KeyError(name)

    def full_name(self, partner: str) -> str:
        """``Stadt Billerbeck``."""
        return self.party(partner).full_name

    def billed_before(self, version: Version) -> Version:
        """The last issued version before ``version``: what its corrections correct."""
        earlier = self.versions[:self.versions.index(version)]
        return next(v for v in reversed(earlier) if v.is_issued)

    def bills(self) -> list[tuple[Version, Bill]]:
        return [(v, b) for v in self.versions for b in v.bills.values()]

    def last_bill(self, partner: str) -> Bill | None:
        """The last issued bill of ``partner``: the document a correction corrects."""
        for version in reversed(self.versions):
            if version.is_issued and partner in version.bills:
                return version.bills[partner]
        return None

    def differences(self, result: RegionResult, context: Context) -> list[str]:
        """What a run with ``result`` would change in this region, in German; empty when
        nothing (the one answer to "do the figures match the ledger?").

        A draft must be the same exactly, or the run writes it anew. An issued region is
        compared by what each partner was billed — net, VAT and gross (advances entered after
        issue change no issued bill, SPEC § 7): a change needs a correction, and an open
        correction must be the one this result gives."""
        if not self.is_issued:
            if result == self.latest.result and context == self.latest.context:
                return []
            return share_differences(self.latest.result, result) or [
                f"Region {self.name}: die Eingabe weicht von der Abrechnung ab"]
        changed = [f"{p}: {text}" for p, text in
                   changed_partners(self.billed.result, result).items()]
        pending = self.open_correction
        if pending is None:
            return changed
        if not changed:
            return [f"Region {self.name}: der Entwurf der Korrektur Nr. {pending.round} "
                    f"entfällt"]
        if result == pending.result and context == pending.context:
            return []
        return changed


def billed_amounts(share: Share) -> tuple[Decimal, Decimal, Decimal]:
    return share.net, share.vat, share.gross


def changed_partners(before: RegionResult, after: RegionResult) -> dict[str, str]:
    """Partner → what changed in its bill (net, VAT or gross; a partner that joined or left
    counts too), in German; the partners whose bill a correction must change."""
    old = {s.party.name: s for s in before.partner_shares}
    new = {s.party.name: s for s in after.partner_shares}
    changed = {}
    for name in [*old, *(n for n in new if n not in old)]:
        was, now = old.get(name), new.get(name)
        if was is None:
            changed[name] = f"neu in der Region, {format_eur(now.gross)}"
        elif now is None:
            changed[name] = f"nicht mehr in der Region (bisher {format_eur(was.gross)})"
        elif billed_amounts(was) != billed_amounts(now):
            changed[name] = f"bisher {format_eur(was.gross)}, jetzt {format_eur(now.gross)}"
    return changed


def share_differences(before: RegionResult, after: RegionResult) -> list[str]:
    """What a partner would notice: its amount to pay and its due date."""
    old = {s.party.name: s for s in before.partner_shares}
    lines = []
    for share in after.partner_shares:
        was = old.pop(share.party.name, None)
        if was is None:
            lines.append(f"{share.party.name} fehlt in der Abrechnung")
        elif (was.balance, was.due_date) != (share.balance, share.due_date):
            lines.append(f"{share.party.name}: laut Abrechnung {format_eur(was.balance)} fällig "
                         f"am {day_text(was.due_date)}, laut Eingabe "
                         f"{format_eur(share.balance)} fällig am {day_text(share.due_date)}")
    lines += [f"{name} steht in der Abrechnung, ist aber keine Partnerkommune mehr"
              for name in old]
    return lines


@dataclass
class Entry:
    """A bank entry of a billing employer's account, recorded once (SPEC § 9)."""

    id: str  # "B17": short and stable, what the clerk types for ``zuordnen``
    identity: str  # core.bank.BankEntry.identity: the bank's reference, else its place
    account: str
    booked: date | None
    amount: Decimal  # + received, − paid out
    name: str = ""
    iban: str = ""
    remittance: tuple[str, ...] = ()
    end_to_end: str = ""
    reference: str = ""
    reversal: bool = False
    bank_reference: str = ""
    batch: str = ""  # the batch entry it details
    source: str = ""  # the statement file it was first read from
    detailed: bool = False  # a batch entry whose transactions were recorded later instead


@dataclass
class Assignment:
    """The clerk's own assignment of (part of) an entry to a bill (``zuordnen``)."""

    entry: str  # Entry.id
    number: str
    amount: Decimal | None  # None: the whole entry, or its rest
    day: date


@dataclass
class StatementRead:
    """A statement that was read, with its balance check (SPEC § 9)."""

    source: str
    kind: str
    version: str
    identity: str
    account: str
    first: date | None
    last: date | None
    opening: Decimal | None
    closing: Decimal | None
    booked_total: Decimal
    entries: int
    read_on: date

    @property
    def balance_ok(self) -> bool | None:
        if self.opening is None or self.closing is None:
            return None
        return self.opening + self.booked_total == self.closing


@dataclass
class FileEntry:
    """A file kim-excel wrote into the year folder."""

    sha256: str
    region: str = ""  # "" for the files of the whole folder
    owner: str = ""  # the Rechnungsnummer of the bill it belongs to, if any
    # E-mail drafts: the attachments' hashes when the draft was written
    attachments: tuple[str, ...] = ()


@dataclass
class Ledger:
    year: int
    generation: int = 0  # counts the record's versions; its copies are numbered by it
    context: Context | None = None  # the last settlement run's
    regions: dict[str, Region] = field(default_factory=dict)  # in the folder's order
    files: dict[str, FileEntry] = field(default_factory=dict)  # relative path → entry
    drafts: dict[str, FileEntry] = field(default_factory=dict)  # E-Mails/<stem>.eml
    released: list[str] = field(default_factory=list)  # ours once, changed by hand: the clerk's
    notices: list[str] = field(default_factory=list)  # the last settlement run's warnings
    unsettled: list[str] = field(default_factory=list)  # regions without costs, not settled
    entries: list[Entry] = field(default_factory=list)  # bank entries, each once
    assignments: list[Assignment] = field(default_factory=list)  # the clerk's (zuordnen)
    statements: list[StatementRead] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.regions

    def settlement(self, latest: bool = True) -> Settlement:
        """The settlement of every region of the folder: each one's current figures
        (``latest``: after its corrections) or as first billed."""
        context = self.context
        return Settlement(settings=context.settings, subsidy_rate=context.subsidy_rate,
                          subsidy_rate_is_default=context.subsidy_rate_is_default,
                          regions=tuple(r.latest.result if latest else r.settlement.result
                                        for r in self.regions.values()),
                          skipped_regions=tuple(self.unsettled))

    def bills(self) -> list[tuple[Region, Version, Bill]]:
        return [(r, v, b) for r in self.regions.values() for v, b in r.bills()]

    def reminders(self) -> list[tuple[Region, Reminder]]:
        return [(r, m) for r in self.regions.values() for m in r.reminders]

    def documents(self) -> list[tuple[Region, Bill]]:
        """Every letter, correction and reminder: what can be sent."""
        return [*((r, b) for r, _, b in self.bills()),
                *((r, m.bill) for r, m in self.reminders())]

    def issued(self) -> list[tuple[Region, Version, Bill]]:
        """The bills that were issued: what partners owe or are owed."""
        return [(r, v, b) for r, v, b in self.bills() if v.is_issued]

    def statement_date(self) -> date | None:
        """The latest day the statements read cover: payments are known up to it."""
        return max((s.last for s in self.statements if s.last), default=None)

    def bill(self, number: str) -> tuple[Region, Version, Bill] | None:
        return next((t for t in self.bills() if t[2].number == number), None)

    def bill_of_file(self, name: str) -> tuple[Region, Version, Bill] | None:
        return next((t for t in self.bills() if t[2].file == name), None)

    def rounds(self) -> list[int]:
        return sorted({v.round for r in self.regions.values() for v in r.versions if v.round})

    def next_round(self) -> int:
        return max(self.rounds(), default=0) + 1

    def region_named(self, text: str) -> Region | None:
        """A region by what a person writes: ``Süd``, ``Sued``, ``süd``, ``SUED``."""
        wanted = fold(text)
        return next((r for n, r in self.regions.items() if fold(n) == wanted), None)

    # ------------------------------------------------------------------ state changes

    def issue(self, region: Region | None, today: date, posted: bool) -> list[str]:
        """Issue the drafts of ``region`` (all regions when None): its settlement or its open
        correction. ``posted``: the letters went out by post (``festschreiben``), which also
        holds for issued bills that never went out (a partner without e-mail address)."""
        done = []
        for entry in [region] if region else list(self.regions.values()):
            for version in entry.versions:
                done += self.issue_version(entry, version, today)
                if posted:
                    for bill in version.bills.values():
                        done += post(entry, bill, today)
            if posted:
                for reminder in entry.reminders:
                    done += post(entry, reminder.bill, today)
        return done

    def issue_version(self, region: Region, version: Version, today: date) -> list[str]:
        """Issue one draft version (``versenden --senden`` issues what it sent); returns the
        line that says what, for a heading that says whether it is done or asked."""
        if version.is_issued:
            return []
        version.state = State.ISSUED
        version.issued_on = today
        return [f"Region {region.name}: {version_title(version)}"
                + ("" if version.bills else " (ohne Partnerkommune)")]

    def undelivered(self, region: Region | None = None) -> list[tuple[Region, Bill]]:
        """Letters, corrections and reminders that have not gone out."""
        return [(r, b) for r, b in self.documents()
                if (region is None or r is region) and not b.delivered]


def post(region: Region, bill: Bill, today: date) -> list[str]:
    """A bill that has not gone out went out by post today."""
    if bill.delivered:
        return []
    bill.posted = today
    return [f"Region {region.name}: {bill.file} per Post"]


def bill_state(version: Version, bill: Bill) -> str:
    """``Entwurf``, ``festgeschrieben, per Post am 04.03.2025``, ``festgeschrieben, noch nicht
    versandt`` …: the one text of a bill's state (overview, LIESMICH, terminal)."""
    if not version.is_issued:
        return "Entwurf"
    return f"festgeschrieben, {bill.delivery_text() or 'noch nicht versandt'}"


def amount_text(bill: Bill) -> str:
    """``zu zahlen 1.000,00 €, fällig am 12.05.2025``, ``Erstattung von 6.875,00 €, fällig
    am …``, ``nichts zu zahlen``: the one text of what a bill asks (terminal, LIESMICH)."""
    due = f", fällig am {day_text(bill.due)}" if bill.due else ""
    if bill.amount > 0:
        return f"zu zahlen {format_eur(bill.amount)}{due}"
    if bill.amount < 0:
        return f"Erstattung von {format_eur(-bill.amount)}{due}"
    return "nichts zu zahlen"


def version_title(version: Version) -> str:
    return "Abrechnung" if version.round == 0 else f"Korrektur Nr. {version.round}"
