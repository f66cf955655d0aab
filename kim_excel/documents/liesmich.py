"""``LIESMICH.txt`` in ``output/<J>/``: every file of the folder with its state, and what to do
next.

Written from the ledger by every command that changes the folder, so it always describes the
files beside it: each region's bills and corrections (number, amount, due date, state), the
e-invoices, the summaries, the clerk's own files. Plain text for Windows Notepad, also the old
one on terminal servers: UTF-8 with a byte order mark and CRLF line ends. No clock: the same
ledger gives the same bytes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kim_excel.core.files import write_atomically
from kim_excel.core.german import day_text, format_eur
from kim_excel.core.references import (
    LIESMICH,
    booking_file,
    companion,
    correction_booking_file,
    overview_file,
    payments_file,
)
from kim_excel.documents.einvoices import einvoice_lines
from kim_excel.ledger.book import (
    Bill,
    Kind,
    Ledger,
    Region,
    Version,
    amount_text,
    bill_state,
    version_title,
)
from kim_excel.ledger.payments import Payments

FILE_NAME = LIESMICH


def write_liesmich(folder: Path, ledger: Ledger, notices: list[str],
                   others: list[str], paid: Payments | None = None) -> Path:
    """``others``: the files in the folder that kim-excel does not manage (the clerk's);
    ``paid``: what the bank statements say (SPEC § 9), once one was read."""
    path = folder / FILE_NAME
    text = liesmich_text(ledger, notices, others, paid)
    write_atomically(path, ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    return path


def liesmich_text(ledger: Ledger, notices: list[str], others: list[str],
                  paid: Payments | None = None) -> str:
    year = ledger.year
    title = f"Kommunales Case-Management – Abrechnung des Eigenanteils {year}"
    lines = [
        title,
        "=" * len(title),
        "",
        f"Diesen Ordner hat kim-excel erstellt ({dates_text(ledger)}).",
        f"Ein neuer Lauf für {year} ersetzt nur die Entwürfe der Regionen, die er abrechnet;",
        "Festgeschriebenes ändert sich nie mehr. Eigene Dateien (Scans, Notizen) bleiben.",
        "",
        "Was die Dateien sind",
        "--------------------",
    ]
    for region in ledger.regions.values():
        lines += region_lines(ledger, region, paid)
    letters = {b.partner: b.file for _, _, b in ledger.bills() if b.kind is Kind.LETTER}
    lines += einvoice_lines(ledger.settlement(), letters)  # SPEC § 8: who got one, who not
    lines += summary_file_lines(ledger, paid)
    if ledger.released or others:
        lines += ["", "Eigene Dateien (kim-excel ändert und verwaltet sie nicht):"]
        lines += [f"  {name}" for name in sorted({*ledger.released, *others})]
    lines += next_steps(ledger, paid)
    if notices:
        lines += ["", "Hinweise zu dieser Abrechnung", "-----------------------------"]
        lines += [f"- {notice}" for notice in notices]
    return "\n".join(lines) + "\n"


def dates_text(ledger: Ledger) -> str:
    days = {r.settlement.day for r in ledger.regions.values()}
    if len(days) <= 1:
        return f"Datum der Abrechnung {day_text(max(days, default=None) or ledger_end(ledger))}"
    return "Datum der Abrechnung je Region: " + ", ".join(
        f"{r.name} {day_text(r.settlement.day)}" for r in ledger.regions.values())


def ledger_end(ledger: Ledger) -> date:
    return date(ledger.year, 12, 31)


def region_lines(ledger: Ledger, region: Region, paid: Payments | None) -> list[str]:
    lines = ["", f"Region {region.name} – Anstellungskörperschaft "
                 f"{region.settlement.result.employer.full_name} "
                 f"({state_of(region.settlement)}):"]
    if not any(v.bills for v in region.versions):
        lines.append("  (keine Partnerkommune, daher keine Abrechnung)")
    for version in region.versions:
        if version.round:
            lines.append(f"  {version_title(version)} vom {day_text(version.day)} "
                         f"({state_of(version)}):")
        for bill in version.bills.values():
            lines += bill_lines(ledger, region, version, bill, paid)
    for reminder in region.reminders:
        bill = reminder.bill
        lines += [f"  {bill.file}",
                  f"      Zahlungserinnerung {bill.number} an {region.full_name(bill.partner)}: "
                  f"offen {format_eur(bill.amount)},",
                  f"      zu zahlen bis {day_text(bill.due)} (Zahlungen bis "
                  f"{day_text(reminder.until)} berücksichtigt)",
                  f"      Stand: {bill.delivery_text() or 'noch nicht versandt'}"]
    return lines


def state_of(version: Version) -> str:
    if not version.is_issued:
        return "Entwurf"
    return f"festgeschrieben am {day_text(version.issued_on)}" if version.issued_on \
        else "festgeschrieben"


def bill_lines(ledger: Ledger, region: Region, version: Version, bill: Bill,
               paid: Payments | None) -> list[str]:
    what = "Abrechnung" if bill.kind is Kind.LETTER else "Korrektur"
    name = region.full_name(bill.partner)
    lines = [f"  {bill.file}",
             f"      {what} {bill.number} an {name}: {amount_text(bill)}."]
    if bill.kind is Kind.CORRECTION:
        lines.append(f"      berichtigt {bill.corrects} vom {day_text(bill.corrects_day)}")
    lines.append(f"      Stand: {bill_state(version, bill)}")
    if paid is not None and version.is_issued and bill.amount:
        got = paid.received(bill)
        lines.append(f"      Zahlung: {paid.state(bill)} (eingegangen {format_eur(got)}, "
                     f"offen {format_eur(paid.open(bill))})")
    for suffix, label in ((".xml", "E-Rechnung (XRechnung)"), (".pdf", "PDF")):
        if companion(bill.file, suffix) in ledger.files:
            lines.append(f"      {companion(bill.file, suffix)}: {label}")
    return lines


def summary_file_lines(ledger: Ledger, paid: Payments | None) -> list[str]:
    year = ledger.year
    lines = [
        "",
        overview_file(year),
        "      Alle Regionen und Kommunen auf einen Blick: Kosten, Förderung, Eigenanteil,",
        "      Anteile, Abschläge und Salden; Blatt „Rechnungen“: jede Rechnung und Korrektur",
        "      mit ihrem Stand.",
        booking_file(year),
        "      Eine Zeile je Kommune zur Übernahme in die Finanzsoftware (Semikolon-getrennt,",
        "      Dezimalkomma); festgeschriebene Zeilen ändern sich nie mehr.",
    ]
    if paid is not None:
        lines += [payments_file(year),
                  "      Was bezahlt und was offen ist, jede Zuordnung einer Buchung mit ihrer",
                  "      Regel, die noch zuzuordnenden Buchungen und jeder gelesene Kontoauszug."]
    for number in ledger.rounds():
        name = correction_booking_file(year, number)
        if name in ledger.files:
            lines += [name, f"      Die Differenzen der Korrektur Nr. {number} zum Buchen."]
    return lines


def next_steps(ledger: Ledger, paid: Payments | None = None) -> list[str]:
    year = ledger.year
    drafts = any(not v.is_issued for r in ledger.regions.values() for v in r.versions)
    waiting = ledger.undelivered()
    lines = ["", "Was jetzt zu tun ist", "--------------------"]
    if drafts:
        lines += [
            f"1. Prüfen: {overview_file(year)} öffnen und Kosten, Förderung und Eigenanteil je",
            "   Region mit den eigenen Unterlagen vergleichen; jede Abrechnung zeigt, wie ihr",
            "   Betrag entsteht. Stimmt etwas nicht: die Eingabe korrigieren und erneut",
            "   abrechnen (ein Entwurf wird ersetzt).",
            "2. Zeichnen: die Abrechnungen ausdrucken (oder als PDF) und zeichnen lassen.",
        ]
    if drafts or waiting:
        lines += [
            f"{'3' if drafts else '1'}. Versenden: „kim-excel versenden --jahr {year}“ legt "
            "zuerst E-Mail-Entwürfe in",
            "   den Ordner „E-Mails“ zum Ansehen; erst",
            f"   „kim-excel versenden --jahr {year} --senden“ verschickt sie. (Liegt dieser Ordner",
            "   nicht unter „output“, zusätzlich „--ausgabe <Ordner>“ angeben.)",
            "   „--senden“ schreibt fest, was es verschickt; per Post Versandtes schreibt",
            f"   „kim-excel festschreiben --jahr {year}“ fest. Festgeschriebenes ändert sich nie",
            "   mehr; Versandtes wird nie ein zweites Mal versandt.",
        ]
    else:
        lines.append("Alles ist festgeschrieben und versandt.")
    lines += [
        f"Buchen: {booking_file(year)} (und jede Korrektur-Buchungsliste) in die",
        "Finanzsoftware übernehmen.",
        f"Zahlungen: „kim-excel zahlungen --jahr {year} <Kontoauszüge>“ liest die Kontoauszüge",
        "(camt oder MT940) und zeigt, was bezahlt und was offen ist; mit „--erinnern“ entsteht",
        "für Überfälliges eine Zahlungserinnerung, die „versenden“ verschickt.",
        "",
        "Ändern sich später die Zahlen einer festgeschriebenen Region, entstehen Korrekturen",
        f"(Korrektur_{year}_<Kommune>_<n>.xlsx, Buchungsliste_{year}_Korrektur_<n>.csv)",
        "für jede Partnerkommune, deren Betrag sich ändert; „versenden“ verschickt sie.",
    ]
    return lines
