"""What the terminal shows after a run: short, German, every figure a clerk checks first."""

from __future__ import annotations

from collections.abc import Iterable

from kim_excel.core.model import KeyBasis, Notice, Problem, Settlement
from kim_excel.core.money import format_eur


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
