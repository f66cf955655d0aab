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
from kim_excel.core.model import Party, RegionResult, Settings, Share
from kim_excel.core.names import fold

ZERO = Decimal("0.00")


class State(Enum):
    DRAFT = "draft"
    ISSUED = "issued"


class Kind(Enum):
    LETTER = "letter"
    CORRECTION = "correction"


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
class Region:
    name: str
    versions: list[Version]  # the settlement, then its correction rounds

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
        """Why ``result`` is not what this region holds, in German; empty when it is.

        The one answer to "do the figures match the record?": a draft must be the same
        exactly (or the next run writes it anew); an issued region by what each partner is
        billed — net, VAT and gross — which is what a run would correct. Advances entered after
        issue change no issued bill (SPEC § 7)."""
        latest = self.latest
        if not latest.is_issued and not self.is_issued:
            if result == latest.result and context == latest.context:
                return []
            return share_differences(latest.result, result) or [
                f"Region {self.name}: die Eingabe weicht von der Abrechnung ab"]
        return [f"{p}: {text}" for p, text in changed_partners(latest.result, result).items()]


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

    @property
    def is_empty(self) -> bool:
        return not self.regions

    def bills(self) -> list[tuple[Region, Version, Bill]]:
        return [(r, v, b) for r in self.regions.values() for v, b in r.bills()]

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
                        if not bill.delivered:
                            bill.posted = today
                            done.append(f"Region {entry.name}: {bill.file} per Post versandt")
        return done

    def issue_version(self, region: Region, version: Version, today: date) -> list[str]:
        """Issue one draft version (``versenden --senden`` issues what it sent)."""
        if version.is_issued:
            return []
        version.state = State.ISSUED
        version.issued_on = today
        files = ", ".join(b.file for b in version.bills.values())
        return [f"Region {region.name}: {version_title(version)} festgeschrieben "
                f"({files or 'ohne Partnerkommune'})"]

    def undelivered(self, region: Region | None = None) -> list[tuple[Region, Version, Bill]]:
        return [(r, v, b) for r, v, b in self.bills()
                if (region is None or r is region) and not b.delivered]


def bill_state(version: Version, bill: Bill) -> str:
    """``Entwurf``, ``festgeschrieben, per Post am 04.03.2025``, ``festgeschrieben, noch nicht
    versandt`` …: the one text of a bill's state (overview, LIESMICH, terminal)."""
    if not version.is_issued:
        return "Entwurf"
    return f"festgeschrieben, {bill.delivery_text() or 'noch nicht versandt'}"


def version_title(version: Version) -> str:
    return "Abrechnung" if version.round == 0 else f"Korrektur Nr. {version.round}"
