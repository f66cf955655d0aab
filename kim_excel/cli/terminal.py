"""What the terminal shows after a run: short, German, every figure a clerk checks first."""

from __future__ import annotations

from collections.abc import Iterable

from kim_excel.core.german import day_text
from kim_excel.core.model import KeyBasis, Notice, Problem, Settlement
from kim_excel.core.money import format_eur
from kim_excel.ledger.book import Ledger, Version, amount_text, version_title


def summary_lines(settlement: Settlement) -> list[str]:
    lines = [f"Abrechnung {settlement.year} (Förderbetrag je VZÄ "
             f"{format_eur(settlement.subsidy_rate)}"
             + (", Satz des Programms" if settlement.subsidy_rate_is_default else "") + ")"]
    for region in settlement.regions:
        lines.append("")
        lines.append(f"Region {region.region} – {region.employer.full_name}")
        subsidy = "entfallen" if settlement.settings.subsidy_lapsed else format_eur(region.subsidy)
        lines.append(f"  Kosten {format_eur(region.costs):>16}   Förderung {subsidy:>16}   "
                     f"Eigenanteil {format_eur(region.eigenanteil):>16}")
        if region.key_basis is not KeyBasis.STUNDENANTEIL:
            lines.append(f"  Schlüssel: {region.key_basis.value}")
        width = max(len(s.party.full_name) for s in region.shares)
        for share in region.shares:
            if share.is_employer:
                lines.append(f"  {share.party.full_name:<{width}}  trägt selbst "
                             f"{format_eur(share.net):>14}")
                continue
            verb = "zahlt" if share.balance >= 0 else "erhält"
            lines.append(f"  {share.party.full_name:<{width}}  {verb:<6} "
                         f"{format_eur(abs(share.balance)):>14}   fällig am "
                         f"{share.due_date:%d.%m.%Y}")
    return lines


def folder_lines(ledger: Ledger) -> list[str]:
    """The state of every region of the year folder and each correction with its bills:
    what was sent agrees with what the clerk sees (SPEC § 7)."""
    lines = ["", f"Stand des Ordners {ledger.year}:"]
    for region in ledger.regions.values():
        settlement = region.settlement
        state = bill_region_state(settlement)
        lines.append(f"  Region {region.name}: {state}")
        for version in region.versions[1:]:
            lines.append(f"    {version_title(version)} vom {day_text(version.day)} "
                         f"({bill_region_state(version)}):")
            for bill in version.bills.values():
                lines.append(f"      {bill.number:<26} {region.full_name(bill.partner):<22} "
                             f"{amount_text(bill)}")
    return lines


def bill_region_state(version: Version) -> str:
    if not version.is_issued:
        return "Entwurf"
    delivered = [b for b in version.bills.values() if b.delivered]
    sent = f", {len(delivered)} von {len(version.bills)} versandt" if version.bills else ""
    return f"festgeschrieben am {day_text(version.issued_on)}{sent}" if version.issued_on \
        else f"festgeschrieben{sent}"


def notice_lines(notices: Iterable[Notice]) -> list[str]:
    return [str(n) for n in notices]


def problem_lines(problems: Iterable[Problem], report_written: bool = False) -> list[str]:
    """The error list, closed by what was written and what to correct: cells only where
    every problem names one (a damaged or encrypted file has none)."""
    problems = list(problems)
    head = "Die Eingabe enthält einen Fehler:" if len(problems) == 1 else \
        f"Die Eingabe enthält {len(problems)} Fehler:"
    written = ("Außer dem Fehlerbericht wurde nichts geschrieben." if report_written
               else "Es wurde nichts geschrieben.")
    at_cells = [bool(p.where and p.where.cell) for p in problems]
    if all(at_cells):
        what = "die genannten Zellen"
    elif any(at_cells):
        what = "die genannten Zellen und Dateien"
    else:
        what = "die genannten Dateien" if len(problems) > 1 else "die genannte Datei"
    return [head, *(f"  – {p}" for p in problems),
            f"{written} Bitte {what} korrigieren und erneut starten."]
