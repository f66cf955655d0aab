"""``LIESMICH.txt`` in ``output/<J>/``: what each file is and what the clerk does next.

Written by the settlement run's write step, so it always describes exactly the files beside
it. Plain text for Windows Notepad, also the old one on terminal servers: UTF-8 with a byte
order mark and CRLF line ends. No clock: the same input gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from kim_excel.core.files import write_atomically
from kim_excel.core.model import Settlement, Share
from kim_excel.core.money import format_eur
from kim_excel.documents.einvoices import einvoice_lines
from kim_excel.documents.xlsx.trail import dates_text

FILE_NAME = "LIESMICH.txt"


def write_liesmich(folder: Path, settlement: Settlement, names: dict[str, str]) -> Path:
    path = folder / FILE_NAME
    text = liesmich_text(settlement, names)
    write_atomically(path, ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    return path


def liesmich_text(settlement: Settlement, names: dict[str, str]) -> str:
    year = settlement.year
    title = f"Kommunales Case-Management – Abrechnung des Eigenanteils {year}"
    lines = [
        title,
        "=" * len(title),
        "",
        f"Diesen Ordner hat kim-excel erstellt ({dates_text(settlement)}).",
        f"Ein neuer Lauf für {year} ersetzt nur die Dateien der Regionen, die er abrechnet;",
        "eigene Dateien (Scans, Notizen), E-Mail-Entwürfe und das Versandprotokoll bleiben.",
        "",
        "Was die Dateien sind",
        "--------------------",
    ]
    for region in settlement.regions:
        lines.append("")
        lines.append(f"Region {region.region} – Anstellungskörperschaft "
                     f"{region.employer.full_name}:")
        if not region.partner_shares:
            lines.append("  (keine Partnerkommune, daher keine Abrechnung)")
        for share in region.partner_shares:
            lines.append(f"  {names[share.party.name]}")
            lines.append(f"      Abrechnung an {share.party.full_name}: {balance_text(share)}")
    lines += einvoice_lines(settlement, names)  # SPEC § 8: who got an e-invoice, and why not
    lines += [
        "",
        f"Uebersicht_{year}.xlsx",
        "      Alle Regionen und Kommunen auf einen Blick: Kosten, Förderung, Eigenanteil,",
        "      Anteile, Abschläge und Salden.",
        f"Buchungsliste_{year}.csv",
        "      Eine Zeile je Kommune zur Übernahme in die Finanzsoftware",
        "      (Semikolon-getrennt, Dezimalkomma).",
        "Abrechnung_….pdf (nur nach „kim-excel abrechnen --pdf“)",
        "      Jede Abrechnung zusätzlich als PDF.",
        "",
        "Was jetzt zu tun ist",
        "--------------------",
        f"1. Prüfen: Uebersicht_{year}.xlsx öffnen und Kosten, Förderung und Eigenanteil je",
        "   Region mit den eigenen Unterlagen vergleichen; jede Abrechnung zeigt, wie ihr",
        "   Betrag entsteht.",
        "2. Zeichnen: die Abrechnungen ausdrucken (oder als PDF) und zeichnen lassen.",
        f"3. Versenden: „kim-excel versenden --jahr {year}“ legt zuerst E-Mail-Entwürfe in",
        "   den Ordner „E-Mails“ zum Ansehen; erst",
        f"   „kim-excel versenden --jahr {year} --senden“ verschickt sie. (Liegt dieser Ordner",
        "   nicht unter „output“, zusätzlich „--ausgabe <Ordner>“ angeben.)",
        "   „--senden“ schreibt fest, was es verschickt; per Post versandte Abrechnungen",
        f"   schreibt „kim-excel festschreiben --jahr {year}“ fest. Festgeschriebenes ändert",
        "   sich nie mehr.",
        f"4. Buchen: Buchungsliste_{year}.csv in die Finanzsoftware übernehmen.",
        "",
        "Stimmt etwas nicht, die Eingabe korrigieren und erneut abrechnen: ein Entwurf wird",
        "ersetzt. Für eine festgeschriebene Region entstehen stattdessen Korrekturen",
        f"(Korrektur_{year}_<Kommune>_<n>.xlsx, Buchungsliste_{year}_Korrektur_<n>.csv) für",
        "jede Partnerkommune, deren Betrag sich ändert; „versenden“ verschickt sie.",
    ]
    if settlement.notices:
        lines += ["", "Hinweise zu dieser Abrechnung", "-----------------------------"]
        lines += [f"- {notice}" for notice in settlement.notices]
    return "\n".join(lines) + "\n"


def balance_text(share: Share) -> str:
    due = f"{share.due_date:%d.%m.%Y}" if share.due_date else "–"
    if share.balance > 0:
        return f"zu zahlen {format_eur(share.balance)}, fällig am {due}."
    if share.balance < 0:
        return f"erhält eine Erstattung von {format_eur(-share.balance)}, fällig am {due}."
    return "ausgeglichen (0,00 €)."
