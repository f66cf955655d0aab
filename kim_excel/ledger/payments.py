"""Payments (SPEC § 9): bank entries recorded once, matched to the issued bills, reminders due.

The ledger records each booked bank entry of a billing employer's account once (by its
identity), every statement read with its balance check, and the clerk's own assignments
(``zuordnen``). Who paid what is derived from them by the one matching (``core/matching.py``)
whenever it is asked: the same entries and assignments always give the same allocations, and a
correction issued later takes part in the picture (a Kassenzeichen payment that overpaid the
settlement pays the correction that followed). Nothing else is stored about payments.

Glossary:

- Buchung (``Entry``): a movement on the employer's account; ``B17`` is its short id.
- offen / bezahlt / teilweise bezahlt / überzahlt / überfällig: a bill's payment state, as of
  the latest statement read of the employer's account the bill is paid to (payments after it,
  or into an account whose statements were not read, are not known yet).
- Zahlungserinnerung (``Reminder``): a friendly reminder without fees or interest for what a
  partner still owes some days after the due date (``--karenz``); not a formal dunning.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from kim_excel.core.bank import BankEntry, Statement
from kim_excel.core.dates import due_date
from kim_excel.core.errors import KimError
from kim_excel.core.german import day_text, format_eur
from kim_excel.core.matching import (
    Allocation,
    ClerkAssignment,
    ClerkAssignmentError,
    Matching,
    OpenItem,
    fold,
    match,
)
from kim_excel.core.references import reminder_file, reminder_number
from kim_excel.ledger.book import (
    Assignment,
    Bill,
    Entry,
    Kind,
    Ledger,
    Region,
    Reminder,
    StatementRead,
)

ZERO = Decimal("0.00")
REMINDER_DAYS = 14  # the new date to pay of a reminder (SPEC § 9, R10 from its date)
KARENZ_DAYS = 14  # days after the due date before a reminder goes out (--karenz)
MINIMUM = Decimal("10.00")  # no reminder below (--mindestbetrag, § 23 KomHVO NRW)


# ------------------------------------------------------------------ recording statements


@dataclass
class Recorded:
    """What reading statements did to the ledger."""

    new: list[Entry] = field(default_factory=list)
    known: int = 0  # entries read before (the same or overlapping statements)
    pending: list[BankEntry] = field(default_factory=list)  # listed, never recorded
    other_accounts: list[Statement] = field(default_factory=list)  # skipped, named


def billing_accounts(ledger: Ledger) -> dict[str, str]:
    """IBAN → employer name of every employer that billed in the folder."""
    accounts = {}
    for region in ledger.regions.values():
        employer = region.latest.result.employer
        if employer.iban:
            accounts[compact(employer.iban)] = employer.full_name
    return accounts


def record_statements(ledger: Ledger, statements: list[Statement], today: date) -> Recorded:
    """Record the booked entries of the billing employers' accounts, each once; a statement
    of another account is skipped (and named), pending entries are listed, never recorded."""
    accounts = billing_accounts(ledger)
    done = Recorded()
    known = {e.identity: e for e in ledger.entries}
    detailed = {e.batch for e in ledger.entries if e.batch}
    for statement in statements:
        if statement.account not in accounts:
            done.other_accounts.append(statement)
            continue
        read = StatementRead(
            source=statement.source, kind=statement.kind, version=statement.version,
            identity=statement.identity, account=statement.account,
            first=min((e.booked for e in statement.entries if e.booked), default=None),
            last=statement.latest_date, opening=statement.opening, closing=statement.closing,
            booked_total=statement.booked_total, entries=len(statement.entries), read_on=today)
        if not any(same_statement(read, known_read) for known_read in ledger.statements):
            ledger.statements.append(read)
        for entry in statement.entries:
            if not entry.is_booked:
                done.pending.append(entry)
            elif entry.identity in known or (entry.bank_reference in detailed
                                             and not entry.batch):
                done.known += 1
            else:
                recorded = record_entry(ledger, entry)
                known[entry.identity] = recorded
                done.new.append(recorded)
                if entry.batch:
                    detailed.add(entry.batch)
                    for earlier in ledger.entries:  # the batch entry, read on its own before
                        if earlier.bank_reference == entry.batch and not earlier.batch:
                            earlier.detailed = True
    return done


def same_statement(one: StatementRead, other: StatementRead) -> bool:
    """The same statement, whenever and from whichever file it was read (a second reading,
    a renamed copy, the ZIP and its unpacked XML): what the bank wrote decides."""
    def facts(s: StatementRead) -> tuple:
        return (s.kind, s.version, s.identity, s.account, s.first, s.last, s.opening,
                s.closing, s.booked_total, s.entries)

    return facts(one) == facts(other)


def record_entry(ledger: Ledger, entry: BankEntry) -> Entry:
    recorded = Entry(
        id=f"B{len(ledger.entries) + 1}", identity=entry.identity, account=entry.account,
        booked=entry.booked or entry.value_date, amount=entry.amount, name=entry.name,
        iban=entry.iban, remittance=entry.remittance, end_to_end=entry.end_to_end,
        reference=entry.reference, reversal=entry.reversal,
        bank_reference=entry.bank_reference, batch=entry.batch, source=entry.source)
    ledger.entries.append(recorded)
    return recorded


def bank_entry(entry: Entry) -> BankEntry:
    return BankEntry(identity=entry.identity, account=entry.account, amount=entry.amount,
                     booked=entry.booked, reversal=entry.reversal, name=entry.name,
                     iban=entry.iban, remittance=entry.remittance, end_to_end=entry.end_to_end,
                     reference=entry.reference, bank_reference=entry.bank_reference,
                     source=entry.source, batch=entry.batch)


# ------------------------------------------------------------------ who paid what


@dataclass
class Payments:
    """The matching of every recorded entry against the issued bills, as the ledger stands."""

    matching: Matching
    entries: dict[str, Entry]  # by identity
    paid: dict[str, Decimal]  # Rechnungsnummer → received (same sign as the bill)
    last: dict[str, date]  # Rechnungsnummer → day of its last payment
    as_of: date | None  # the latest statement day, of any account
    # Rechnungsnummer → the latest statement day of the account it is paid to: what is known
    # about that bill (another employer's statements say nothing about it)
    until: dict[str, date] = field(default_factory=dict)
    # every billing employer with the latest statement day of its account (None: none read)
    coverage: tuple[tuple[str, date | None], ...] = ()

    def coverage_text(self) -> str:
        """``Zahlungseingänge berücksichtigt bis 20.04.2025``, or per employer where their
        statements reach different days."""
        days = {day for _, day in self.coverage}
        if len(days) == 1 and None not in days:
            return f"Zahlungseingänge berücksichtigt bis {day_text(days.pop())}"
        if not self.coverage or days == {None}:
            return "noch kein Kontoauszug gelesen"
        return "Zahlungseingänge berücksichtigt: " + ", ".join(
            f"{name} bis {day_text(day)}" if day else f"{name} noch kein Kontoauszug"
            for name, day in self.coverage)

    def allocations(self) -> list[tuple[Allocation, Entry]]:
        return [(a, self.entries[a.entry]) for a in self.matching.allocations]

    def unexplained(self) -> list[Entry]:
        return [self.entries[i] for i in self.matching.unexplained]

    def proposals(self) -> list[tuple[Entry, str]]:
        return [(self.entries[p.entry], p.number) for p in self.matching.proposals]

    def received(self, bill: Bill) -> Decimal:
        """What came in for ``bill`` (for a refund: what went out), same sign as the bill."""
        return self.paid.get(bill.number, ZERO)

    def open(self, bill: Bill) -> Decimal:
        return bill.amount - self.received(bill)

    def state(self, bill: Bill) -> str:
        """*bezahlt*, *teilweise bezahlt*, *überzahlt*, *offen* or *überfällig* (open after
        its due date, as of the latest statement); a refund the employer owes alike."""
        paid = self.received(bill)
        rest = bill.amount - paid
        if bill.amount == 0 and paid == 0:
            return "nichts zu zahlen"
        if rest == 0:
            return "bezahlt" if bill.amount > 0 else "erstattet"
        if (rest > 0) != (bill.amount > 0):
            return "überzahlt"
        known = self.until.get(bill.number)
        if known is not None and bill.due is not None and known > bill.due:
            return "überfällig"
        return "teilweise bezahlt" if paid else "offen"


def open_items(ledger: Ledger) -> list[OpenItem]:
    """Every issued letter and correction, as matching sees it (drafts are no bills yet)."""
    items = []
    for region, version, bill in ledger.issued():
        if bill.amount == 0:
            continue
        partner = region.party(bill.partner)
        employer = version.result.employer
        items.append(OpenItem(
            number=bill.number, partner=bill.partner, kassenzeichen=partner.kassenzeichen,
            amount=bill.amount, paid=ZERO, due=bill.due or bill.day,
            account=compact(employer.iban),
            partner_ibans=frozenset({compact(partner.iban)} - {""})))
    return items


def payments(ledger: Ledger) -> Payments:
    """Match every recorded entry (the clerk's assignments first) against the issued bills."""
    entries = [e for e in ledger.entries if not e.detailed]
    by_id = {e.id: e for e in entries}
    clerk = [ClerkAssignment(by_id[a.entry].identity, a.number, a.amount)
             for a in ledger.assignments if a.entry in by_id]
    try:
        result = match([bank_entry(e) for e in entries], open_items(ledger), clerk)
    except ClerkAssignmentError as exc:
        problems = list(exc.problems)
        # the clerk knows an entry by its short id; longest identity first, or ``…/1``
        # would be replaced inside ``…/10``
        for entry in sorted(entries, key=lambda e: len(e.identity), reverse=True):
            problems = [p.replace(f"Buchung {entry.identity}", f"Buchung {entry.id}")
                        for p in problems]
        raise KimError("Die Zuordnung von Hand ist so nicht möglich:\n"
                       + "\n".join(f"  – {p}" for p in problems)) from None
    paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    last: dict[str, date] = {}
    by_identity = {e.identity: e for e in entries}
    for allocation in result.allocations:
        paid[allocation.number] += allocation.amount
        day = by_identity[allocation.entry].booked
        if day and (allocation.number not in last or day > last[allocation.number]):
            last[allocation.number] = day
    return Payments(result, by_identity, dict(paid), last, ledger.statement_date(),
                    known_until(ledger), coverage(ledger))


def compact(iban: str) -> str:
    return iban.replace(" ", "").upper()


def latest_by_account(ledger: Ledger) -> dict[str, date]:
    """Account → the latest day its statements cover."""
    latest: dict[str, date] = {}
    for read in ledger.statements:
        if read.last and (read.account not in latest or read.last > latest[read.account]):
            latest[read.account] = read.last
    return latest


def known_until(ledger: Ledger) -> dict[str, date]:
    """Rechnungsnummer → the latest day the statements of its employer's account cover;
    bills of an account whose statements were never read are missing (nothing is known)."""
    latest = latest_by_account(ledger)
    found = {}
    for _, version, bill in ledger.issued():
        day = latest.get(compact(version.result.employer.iban))
        if day is not None:
            found[bill.number] = day
    return found


def coverage(ledger: Ledger) -> tuple[tuple[str, date | None], ...]:
    """Every employer with issued bills and the latest day its account's statements cover."""
    latest = latest_by_account(ledger)
    employers = {version.result.employer.full_name: compact(version.result.employer.iban)
                 for _, version, _ in ledger.issued()}
    return tuple((name, latest.get(iban)) for name, iban in employers.items())


# ------------------------------------------------------------------ the clerk's own


def assign(ledger: Ledger, entry_id: str, number: str, amount: Decimal | None,
           today: date) -> list[str]:
    """``zuordnen``: (part of) entry ``entry_id`` goes to bill ``number``; several calls split
    an entry, and a second call for the same bill replaces the first (the clerk's latest word
    counts). Refused in German when the entry or the bill is unknown, the bill is a draft or
    the amounts do not fit (nothing is recorded then)."""
    entry = entry_named(ledger, entry_id)
    bill = bill_named(ledger, number)
    if amount is not None and amount <= 0:
        raise KimError(f"Der Betrag {format_eur(amount)} ist nicht möglich: bitte den Teil der "
                       f"Buchung als positiven Betrag angeben (ohne Betrag: die ganze Buchung).")
    earlier = [a for a in ledger.assignments if a.entry == entry.id and a.number == bill.number]
    ledger.assignments = [a for a in ledger.assignments if a not in earlier]
    ledger.assignments.append(Assignment(entry.id, bill.number, amount, today))
    result = payments(ledger)  # the matching refuses a split that does not fit the entry
    share = sum((a.amount for a in result.matching.allocations
                 if a.entry == entry.identity and a.number == bill.number), ZERO)
    lines = [f"Buchung {entry.id} ({format_eur(entry.amount)} vom {day_text(entry.booked)}) "
             f"→ {bill.number}: {format_eur(share)} (von Hand)"]
    if amount is not None and share != amount:  # the matching puts an unassigned rest here
        lines.append(f"  (angegeben {format_eur(amount)}; der Rest der Buchung, "
                     f"{format_eur(share - amount)}, zählt vorerst ebenfalls für "
                     f"{bill.number}, bis er mit „kim-excel zuordnen --jahr {ledger.year} "
                     f"{entry.id} RECHNUNGSNUMMER“ einer anderen Rechnung zugeordnet ist)")
    lines += [f"  (ersetzt die Zuordnung von Hand vom {day_text(a.day)}"
              + (f" über {format_eur(a.amount)})" if a.amount is not None else ")")
              for a in earlier]
    return lines


def bill_named(ledger: Ledger, number: str) -> Bill:
    """The issued bill the clerk names, however it is written (``2024-billerbeck``)."""
    wanted = fold(number)
    found = next((t for t in ledger.bills() if fold(t[2].number) == wanted), None)
    if found is None:
        known = ", ".join(b.number for _, _, b in ledger.issued()[:6])
        raise KimError(f"Eine Rechnung „{number}“ gibt es in {ledger.year} nicht"
                       + (f" (z. B. {known})." if known else "."))
    _, version, bill = found
    if not version.is_issued:
        raise KimError(f"Die Rechnung {bill.number} ist noch ein Entwurf (nicht "
                       f"festgeschrieben); zugeordnet werden Zahlungen nur festgeschriebenen "
                       f"Rechnungen.")
    return bill


def unassign(ledger: Ledger, entry_id: str) -> list[str]:
    """Undo the clerk's assignments of an entry: it is matched by the rules again."""
    entry = entry_named(ledger, entry_id)
    mine = [a for a in ledger.assignments if a.entry == entry.id]
    if not mine:
        raise KimError(f"Buchung {entry.id} ist nicht von Hand zugeordnet; es gibt nichts "
                       f"aufzuheben.")
    ledger.assignments = [a for a in ledger.assignments if a.entry != entry.id]
    return [f"Zuordnung aufgehoben: Buchung {entry.id} → {a.number}" for a in mine]


def entry_named(ledger: Ledger, entry_id: str) -> Entry:
    wanted = entry_id.strip().upper()
    found = next((e for e in ledger.entries if e.id == wanted and not e.detailed), None)
    if found is None:
        raise KimError(f"Eine Buchung „{entry_id}“ gibt es in {ledger.year} nicht; die "
                       f"Nummern stehen in Zahlungen_{ledger.year}.xlsx (Blatt „Buchungen“).")
    return found


# ------------------------------------------------------------------ reminders


@dataclass(frozen=True)
class Due:
    """A partner that gets a reminder now: its open bills and what they add up to."""

    region: Region
    partner: str
    bills: tuple[Bill, ...]  # what it owes, oldest due first, then the credits owed to it
    total: Decimal
    until: date  # payments into the employer's account are known up to this day


def reminders_due(ledger: Ledger, paid: Payments, karenz: int = KARENZ_DAYS,
                  minimum: Decimal = MINIMUM) -> list[Due]:
    """Partners with a bill still open ``karenz`` days after its due date, counted to the
    latest statement read of the employer's account (what came in elsewhere is not known):
    all their open bills (a credit owed to them netted), if that is at least ``minimum``, and
    not while their last reminder's own date to pay has not passed."""
    due = []
    for (_, partner), (region, bills) in open_bills(ledger, paid).items():
        as_of = paid.until.get(bills[0].number)
        if as_of is None:
            continue  # no statement of this employer's account read: nothing is known
        late = [b for b in bills if paid.open(b) > 0 and b.due
                and as_of >= b.due + timedelta(days=karenz)]
        total = sum((paid.open(b) for b in bills), ZERO)
        if not late or total < minimum:
            continue
        last = delivered_reminders(region, partner)
        if last and last[-1].bill.due and as_of <= last[-1].bill.due:
            continue  # the last reminder's date to pay has not passed yet
        due.append(Due(region, partner, bills, total, as_of))
    return due


def open_bills(ledger: Ledger, paid: Payments
               ) -> dict[tuple[str, str], tuple[Region, tuple[Bill, ...]]]:
    """(region name, partner) → the region and the partner's issued bills with something
    open, in the order a reminder lists them: what it owes, oldest due first (the first gives
    the reminder's Verwendungszweck), then the credits owed to it."""
    found: dict[tuple[str, str], list[Bill]] = defaultdict(list)
    regions = {}
    for region, _, bill in ledger.issued():
        if paid.open(bill) != 0:
            found[(region.name, bill.partner)].append(bill)
            regions[region.name] = region
    return {(name, partner): (regions[name], tuple(sorted(
        bills, key=lambda b: (paid.open(b) < 0, b.due or b.day, b.number))))
        for (name, partner), bills in found.items()}


def withdraw_stale_reminders(ledger: Ledger, paid: Payments) -> list[str]:
    """A reminder not yet sent that no longer states what is open (the partner paid, the
    clerk assigned a payment, a correction was issued) is withdrawn, so that ``versenden``
    never sends it; its file goes with it. Returns what the terminal says."""
    now = {key: bills for key, (_, bills) in open_bills(ledger, paid).items()}
    lines = []
    for region in ledger.regions.values():
        for reminder in [m for m in region.reminders if m.is_draft]:
            bills = now.get((region.name, reminder.bill.partner), ())
            total = sum((paid.open(b) for b in bills), ZERO)
            if reminder.covers == tuple(b.number for b in bills) \
                    and reminder.bill.amount == total:
                continue
            region.reminders.remove(reminder)
            why = (f"offen ist jetzt {format_eur(total)} statt "
                   f"{format_eur(reminder.bill.amount)}" if total != reminder.bill.amount
                   else "die offenen Rechnungen haben sich geändert")
            lines.append(f"Zahlungserinnerung {reminder.bill.number} an "
                         f"{region.full_name(reminder.bill.partner)} entfällt (noch nicht "
                         f"versandt; {reminder.bill.file} wird entfernt): {why}.")
    return lines


def delivered_reminders(region: Region, partner: str) -> list[Reminder]:
    return [m for m in region.reminders if m.bill.partner == partner and not m.is_draft]


def add_reminder(ledger: Ledger, due: Due, today: date, prefix: str = "") -> Reminder:
    """Record the reminder of ``due`` dated ``today``: a partner's undelivered reminder is
    replaced (same round), else the next round."""
    region = due.region
    drafts = [m for m in region.reminders if m.bill.partner == due.partner and m.is_draft]
    round_ = drafts[0].round if drafts else len(
        [m for m in region.reminders if m.bill.partner == due.partner]) + 1
    region.reminders = [m for m in region.reminders if m not in drafts]
    terms = region.latest.result.terms
    reminder = Reminder(
        round=round_, until=due.until, covers=tuple(b.number for b in due.bills),
        bill=Bill(number=reminder_number(ledger.year, due.partner, round_,
                                         prefix or terms.invoice_prefix),
                  partner=due.partner, kind=Kind.REMINDER,
                  file=reminder_file(ledger.year, due.partner, round_), day=today,
                  due=due_date(today, REMINDER_DAYS), amount=due.total))
    region.reminders.append(reminder)
    return reminder
