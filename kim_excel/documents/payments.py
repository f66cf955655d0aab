"""``Zahlungen_<J>.xlsx``: what is paid and what is open, written from the ledger (SPEC § 9).

Sheets:

- ``Rechnungen`` — every issued letter and correction: amount, due date, received (a SUMIF over
  the sheet ``Zuordnungen``), open (amount − received), state, last payment;
- ``Zuordnungen`` — every assignment of a bank entry to a bill, with the rule that made it;
- ``Buchungen`` — the entries the clerk has to look at: proposals (payer's IBAN and exact
  amount, never recorded by themselves) and unexplained entries, with the ids ``zuordnen``
  takes;
- ``Kontoauszüge`` — every statement read, with the check opening balance + booked entries
  = closing balance.

Derived figures are live formulas written with their values, as in the letters.
"""

from __future__ import annotations

from pathlib import Path

from kim_excel.documents.xlsx.sheet import Sheet, a1, as_datetime, lines_needed, setup_page, span
from kim_excel.documents.xlsx.styles import Styles, add_sheet, new_workbook
from kim_excel.ledger.book import Entry, Kind, Ledger
from kim_excel.ledger.payments import Payments

BILLS = "Rechnungen"
ALLOCATIONS = "Zuordnungen"
ENTRIES = "Buchungen"
STATEMENTS = "Kontoauszüge"

BILL_COLUMNS = (("Rechnungsnummer", 22), ("Partnerkommune", 22), ("Region", 10), ("Art", 11),
                ("Datum", 11), ("Fällig am", 11), ("Betrag", 14), ("Bezahlt", 14),
                ("Offen", 14), ("Stand", 16), ("Letzte Zahlung", 12))
ALLOCATION_COLUMNS = (("Buchung", 9), ("Gebucht am", 11), ("Betrag", 14),
                      ("Zahler / Empfänger", 26), ("Verwendungszweck", 50),
                      ("Rechnungsnummer", 22), ("Regel", 18))
ENTRY_COLUMNS = (("Buchung", 9), ("Gebucht am", 11), ("Betrag", 14), ("Zahler / Empfänger", 26),
                 ("IBAN", 26), ("Verwendungszweck", 50), ("Vorschlag", 22))
STATEMENT_COLUMNS = (("Datei", 30), ("Art", 10), ("Konto", 26), ("von", 11), ("bis", 11),
                     ("Anfangssaldo", 15), ("Buchungen (Summe)", 15), ("Endsaldo", 15),
                     ("Prüfung (muss 0,00 € sein)", 15))


def write_payments(path: Path, ledger: Ledger, paid: Payments) -> None:
    workbook = new_workbook(path, {
        "title": f"Zahlungen {ledger.year}",
        "subject": f"Kommunales Case-Management – Zahlungen zu den Abrechnungen {ledger.year}",
        "author": "kim-excel", "comments": "Erstellt mit kim-excel",
        "created": as_datetime(ledger_day(ledger))})
    styles = Styles(workbook)
    bills = Sheet(add_sheet(workbook, BILLS), styles, BILLS)
    allocations = Sheet(add_sheet(workbook, ALLOCATIONS), styles, ALLOCATIONS)
    entries = Sheet(add_sheet(workbook, ENTRIES), styles, ENTRIES)
    statements = Sheet(add_sheet(workbook, STATEMENTS), styles, STATEMENTS)
    first, last = write_allocations(allocations, paid)
    write_bills(bills, ledger, paid, first, last)
    write_entries(entries, ledger, paid)
    write_statements(statements, ledger)
    workbook.close()


def table(sheet: Sheet, title: str, note: str, columns: tuple[tuple[str, int], ...],
          amounts: tuple[int, ...] = ()) -> int:
    """Title, note and header; returns the first data row."""
    setup_page(sheet.ws, landscape=True, margins=(0.5, 0.5, 0.6, 0.7),
               widths=tuple(width for _, width in columns))
    sheet.text(0, 0, title, "title")
    sheet.fit_row(0, 1, 13)
    sheet.text(1, 0, note, "sender_line")
    for col, (name, _) in enumerate(columns):
        sheet.text(3, col, name, "th_right" if col in amounts else "th")
    sheet.fit_row(3, max(lines_needed(t, w, bold=True) for t, w in columns))
    sheet.ws.freeze_panes(4, 0)
    sheet.ws.repeat_rows(3)
    return 4


def as_of_text(paid: Payments) -> str:
    return paid.coverage_text()


def write_allocations(sheet: Sheet, paid: Payments) -> tuple[int, int]:
    """Every assignment; returns the rows its amounts stand in (for the SUMIF)."""
    row = first = table(sheet, "Zuordnungen: welche Buchung welche Rechnung bezahlt",
                        f"{as_of_text(paid)}. Regel: wie die Buchung zugeordnet wurde (SPEC § 9).",
                        ALLOCATION_COLUMNS, (2,))
    for allocation, entry in paid.allocations():
        text = " ".join(entry.remittance)
        sheet.text(row, 0, entry.id)
        if entry.booked:
            sheet.date(row, 1, entry.booked, "date")
        sheet.number(row, 2, allocation.amount, "eur")
        sheet.text(row, 3, entry.name, "cell_wrap")
        sheet.text(row, 4, text, "cell_wrap")
        sheet.text(row, 5, allocation.number)
        sheet.text(row, 6, allocation.rule.value)
        sheet.fit_row(row, max(lines_needed(text, 50), lines_needed(entry.name, 26)))
        row += 1
    sheet.ws.print_area(0, 0, max(row - 1, first), len(ALLOCATION_COLUMNS) - 1)
    return first, max(row - 1, first)


def write_bills(sheet: Sheet, ledger: Ledger, paid: Payments, first: int, last: int) -> None:
    row = start = table(sheet, f"Zahlungen zu den Abrechnungen {ledger.year}",
                        f"{as_of_text(paid)}. Bezahlt: Summe der Zuordnungen (Blatt "
                        f"„{ALLOCATIONS}“); offen: Betrag − bezahlt; negativ: erstattet die "
                        f"Anstellungskörperschaft.", BILL_COLUMNS, (6, 7, 8))
    numbers = span(first, last, 5, ALLOCATIONS)
    amounts = span(first, last, 2, ALLOCATIONS)
    for region, _, bill in ledger.issued():
        received = paid.received(bill)
        sheet.text(row, 0, bill.number)
        sheet.text(row, 1, region.full_name(bill.partner))
        sheet.text(row, 2, region.name)
        sheet.text(row, 3, "Abrechnung" if bill.kind is Kind.LETTER else "Korrektur")
        sheet.date(row, 4, bill.day, "date")
        if bill.due:
            sheet.date(row, 5, bill.due, "date")
        sheet.number(row, 6, bill.amount, "eur")
        sheet.formula(row, 7, f"=SUMIF({numbers},{a1(row, 0)},{amounts})", received, "eur")
        sheet.formula(row, 8, f"={a1(row, 6)}-{a1(row, 7)}", bill.amount - received, "eur")
        sheet.text(row, 9, paid.state(bill))
        if bill.number in paid.last:
            sheet.date(row, 10, paid.last[bill.number], "date")
        row += 1
    sheet.ws.print_area(0, 0, max(row - 1, start), len(BILL_COLUMNS) - 1)


def write_entries(sheet: Sheet, ledger: Ledger, paid: Payments) -> None:
    row = start = table(
        sheet, "Buchungen, die noch niemandem zugeordnet sind",
        f"Zuordnen mit: kim-excel zuordnen --jahr {ledger.year} BUCHUNG RECHNUNGSNUMMER "
        f"[BETRAG]; ein Vorschlag (IBAN und genauer Betrag) gilt erst, wenn er so bestätigt "
        f"ist.", ENTRY_COLUMNS, (2,))
    rows: list[tuple[Entry, str]] = [*paid.proposals(), *((e, "") for e in paid.unexplained())]
    for entry, proposal in sorted(rows, key=lambda r: (r[0].booked or ledger_day(ledger),
                                                        int(r[0].id[1:]))):
        text = " ".join(entry.remittance)
        sheet.text(row, 0, entry.id, "bold")
        if entry.booked:
            sheet.date(row, 1, entry.booked, "date")
        sheet.number(row, 2, entry.amount, "eur")
        sheet.text(row, 3, entry.name, "cell_wrap")
        sheet.text(row, 4, entry.iban)
        sheet.text(row, 5, text, "cell_wrap")
        sheet.text(row, 6, proposal)
        sheet.fit_row(row, max(lines_needed(text, 50), lines_needed(entry.name, 26)))
        row += 1
    sheet.ws.print_area(0, 0, max(row - 1, start), len(ENTRY_COLUMNS) - 1)


def ledger_day(ledger: Ledger):
    return ledger.statement_date() or min(r.settlement.day for r in ledger.regions.values())


def write_statements(sheet: Sheet, ledger: Ledger) -> None:
    row = start = table(sheet, "Gelesene Kontoauszüge",
                        "Prüfung: Anfangssaldo + gebuchte Umsätze − Endsaldo; ohne Salden (z. B. "
                        "camt.054) keine Prüfung.", STATEMENT_COLUMNS, (5, 6, 7, 8))
    for statement in ledger.statements:
        sheet.text(row, 0, statement.source, "cell_wrap")
        sheet.text(row, 1, statement.kind)
        sheet.text(row, 2, statement.account)
        if statement.first:
            sheet.date(row, 3, statement.first, "date")
        if statement.last:
            sheet.date(row, 4, statement.last, "date")
        sheet.number(row, 6, statement.booked_total, "eur")
        if statement.balance_ok is not None:
            sheet.number(row, 5, statement.opening, "eur")
            sheet.number(row, 7, statement.closing, "eur")
            check = statement.opening + statement.booked_total - statement.closing
            sheet.formula(row, 8, f"=ROUND({a1(row, 5)}+{a1(row, 6)}-{a1(row, 7)},2)", check,
                          "check_ok")
        else:
            sheet.text(row, 8, "keine Salden")
        sheet.fit_row(row, lines_needed(statement.source, 30))
        row += 1
    sheet.ws.print_area(0, 0, max(row - 1, start), len(STATEMENT_COLUMNS) - 1)
