"""``kim-excel zahlungen`` and ``kim-excel zuordnen``: bank statements against what was billed.

    read the statements → (refused as a whole, nothing recorded) → record each entry once →
    match → reminders due (``--erinnern``) → Zahlungen_<J>.xlsx, overview, LIESMICH

The ledger records the entries and the clerk's assignments; the matching and the states are
derived from them (``ledger/payments.py``). Everything is written in one folder change: a run
that fails or is killed records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.commands.summaries import write_summaries
from kim_excel.core.bank import BankEntry, Statement
from kim_excel.core.errors import KimError, StatementError
from kim_excel.core.german import count, day_text, format_eur
from kim_excel.documents.reminder import write_reminder
from kim_excel.input.statements import read_statements
from kim_excel.ledger.book import Ledger
from kim_excel.ledger.payments import (
    KARENZ_DAYS,
    MINIMUM,
    Payments,
    add_reminder,
    assign,
    payments,
    record_statements,
    reminders_due,
    unassign,
    withdraw_stale_reminders,
)
from kim_excel.ledger.transaction import Transaction, year_folder


@dataclass
class PaymentsRun:
    lines: list[str] = field(default_factory=list)  # what the terminal shows
    written: list[Path] = field(default_factory=list)


def run_payments(ausgabe: Path, year: int, sources: list[Path], today: date,
                 remind: bool = False, karenz: int = KARENZ_DAYS,
                 minimum: Decimal = MINIMUM) -> PaymentsRun:
    """``zahlungen``: read, record, match; with ``remind`` the reminders that are due."""
    found = read_all(sources)  # a bad statement refuses the run: nothing recorded
    run = PaymentsRun()
    with year_folder(ausgabe, year) as change:
        ledger = change.ledger
        require_bills(ledger, change.folder)
        recorded = record_statements(ledger, found, today)
        run.lines += recorded_lines(recorded.new, recorded.known, recorded.pending,
                                    recorded.other_accounts)
        paid = payments(ledger)
        withdrawn = withdraw_stale_reminders(ledger, paid)
        reminders = write_reminders(change, paid, today, karenz, minimum) if remind else []
        with change.writing() as staging:
            for region, reminder in reminders:
                covered = [ledger.bill(n)[2] for n in reminder.covers]
                write_reminder(staging / reminder.bill.file, ledger.year, region, reminder,
                               [(b, paid.received(b)) for b in covered])
                change.wrote(reminder.bill.file)
            change.wrote(*write_summaries(change, staging))
        run.lines += state_lines(ledger, paid)
        run.lines += ["", *withdrawn] if withdrawn else []
        run.lines += [f"Zahlungserinnerung {r.bill.number} an {region.full_name(r.bill.partner)}: "
                      f"{format_eur(r.bill.amount)} offen, neu zu zahlen bis "
                      f"{day_text(r.bill.due)} ({r.bill.file})" for region, r in reminders]
        if remind and not reminders:
            run.lines.append("Keine neue Zahlungserinnerung fällig.")
        run.lines += waiting_lines(ledger)
        run.lines += [notice.message for notice in change.notices]
        run.written = [change.folder / n for n in change.written]
    return run


def read_all(sources: list[Path]) -> list[Statement]:
    """Every statement of ``sources``; one bad file refuses them all (SPEC § 9)."""
    try:
        return read_statements(sources)
    except StatementError as exc:
        raise KimError("Die Kontoauszüge werden nicht übernommen – nichts erfasst, auch nicht "
                       "aus den übrigen Auszügen dieses Laufs:\n"
                       + "\n".join(f"  {p}" for p in exc.problems)
                       + "\nBitte den Auszug neu bei der Bank abrufen (oder weglassen) und "
                         "den Lauf wiederholen.") from None


def waiting_lines(ledger: Ledger) -> list[str]:
    """The reminders written before that have not gone out yet."""
    waiting = [m.bill.file for _, m in ledger.reminders() if m.is_draft]
    if not waiting:
        return []
    return [f"Noch nicht versandt: {', '.join(waiting)} – `kim-excel versenden --jahr "
            f"{ledger.year}` verschickt sie (per Post: `kim-excel festschreiben`)."]


def require_bills(ledger: Ledger, folder: Path) -> None:
    if ledger.is_empty:
        raise KimError(f"Für {ledger.year} gibt es noch keine Abrechnung in „{folder}“ – bitte "
                       f"zuerst `kim-excel abrechnen` ausführen.")


def write_reminders(change: Transaction, paid: Payments, today: date, karenz: int,
                    minimum: Decimal) -> list:
    """Record the reminders due; a partner's unsent reminder with the same open bills and
    amount stays as it is (none twice for the same open state)."""
    ledger = change.ledger
    done = []
    for due in reminders_due(ledger, paid, karenz, minimum):
        drafts = [m for m in due.region.reminders if m.bill.partner == due.partner
                  and m.is_draft]
        same = drafts and drafts[0].covers == tuple(b.number for b in due.bills) \
            and drafts[0].bill.amount == due.total
        if not same:
            done.append((due.region, add_reminder(ledger, due, today)))
    return done


def recorded_lines(new, known: int, pending: list[BankEntry],
                   other: list[Statement]) -> list[str]:
    lines = [f"{count(len(new), 'neue Buchung', 'neue Buchungen')} erfasst"
             + (f", {known} schon bekannt (nicht doppelt gezählt)" if known else "") + "."]
    lines += [f"Vorgemerkt, nicht gebucht (wird nicht erfasst): {format_eur(e.amount)} "
              f"{e.name} – {' '.join(e.remittance)[:60]}" for e in pending]
    lines += [f"Übersprungen: {s.source} ist ein Auszug des Kontos {s.account}, das keiner "
              f"abrechnenden Anstellungskörperschaft gehört." for s in other]
    return lines


def state_lines(ledger: Ledger, paid: Payments) -> list[str]:
    """Per bill: amount, received, open and state; then what the clerk has to look at."""
    lines = ["", f"Stand der Zahlungen – {paid.coverage_text()}:"]
    for region, _, bill in ledger.issued():
        received = paid.received(bill)
        lines.append(f"  {bill.number:<26} {region.full_name(bill.partner):<22} "
                     f"{format_eur(bill.amount):>14}  bezahlt {format_eur(received):>14}  "
                     f"{paid.state(bill)}")
    proposals, unexplained = paid.proposals(), paid.unexplained()
    if proposals or unexplained:
        lines += ["", f"Zuzuordnen (kim-excel zuordnen --jahr {ledger.year} BUCHUNG "
                      f"RECHNUNGSNUMMER [BETRAG]):"]
        lines += [f"  {e.id}: {format_eur(e.amount)} von {e.name or '?'} – Vorschlag {n}"
                  for e, n in proposals]
        lines += [f"  {e.id}: {format_eur(e.amount)} von {e.name or '?'} – "
                  f"{' '.join(e.remittance)[:60]}" for e in unexplained]
    return lines


def run_assignment(ausgabe: Path, year: int, entry: str, number: str | None,
                   amount: Decimal | None, today: date, undo: bool = False) -> list[str]:
    """``zuordnen``: record (or with ``undo`` remove) the clerk's assignment of an entry; the
    payments workbook, the overview and LIESMICH follow, and a reminder not yet sent that no
    longer states what is open is withdrawn."""
    with year_folder(ausgabe, year) as change:
        ledger = change.ledger
        require_bills(ledger, change.folder)
        lines = unassign(ledger, entry) if undo else assign(ledger, entry, number, amount,
                                                            today)
        lines += withdraw_stale_reminders(ledger, payments(ledger))
        with change.writing() as staging:
            change.wrote(*write_summaries(change, staging))
        lines += [notice.message for notice in change.notices]
    return lines
