"""Plausibility warnings: settings that are valid but probably not what the clerk meant.

None of these stops a run (they are :class:`Notice`s, printed, written into LIESMICH.txt
and counted in the watcher's log). Pure functions: today's date is a parameter, the clock
is never read here.

- an Abrechnungsjahr in the future, or the current year, which is not over yet;
- an Abrechnungsjahr before the programme (Kommunales Integrationsmanagement, from 2022);
- a ``Datum der Abrechnung`` before the end of the settled year;
- a ``Förderbetrag je VZÄ`` other than the programme's rate for that year (the blank form
  pre-fills 57,000, which bills 2,000 € per VZÄ too little for 2022);
- a VAT rate above 0 while ``Hinweis Umsatzsteuer`` still says that no VAT is charged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from kim_excel.core.dates import RATE_FROM_2023, RATE_UNTIL_2022, programme_rate
from kim_excel.core.model import CellRef, Notice, Settings, Severity, Terms
from kim_excel.core.money import format_decimal, format_eur
from kim_excel.core.schema import S_DATE, S_RATE, S_VAT_NOTE, S_YEAR

FIRST_PROGRAMME_YEAR = 2022


@dataclass(frozen=True)
class YearNotOver(Notice):
    """The Abrechnungsjahr is the current or a future year: a warning for a settlement,
    the normal case for a plan (``planen`` drops it)."""

# Setting names as in the form: schema.py is their one home.
YEAR, RATE, DATE, VAT_NOTE = S_YEAR, S_RATE, S_DATE, S_VAT_NOTE

# Phrases of a VAT note that says no VAT is charged ("nicht erhoben", "nicht steuerbar" …).
NO_VAT = re.compile(
    r"(nicht|keine?)\s+(erhoben|umsatzsteuer|steuerbar|umsatzsteuerbar|umsatzsteuerpflichtig|"
    r"steuerpflichtig|der\s+umsatzsteuer)|umsatzsteuerfrei|steuerfrei|nicht\s+steuerbar",
    re.IGNORECASE)


# A message never says one thing while the command does another (SPEC § 7): the run settles
# the year all the same, as a draft, and says so.
NOT_OVER = ("Die Abrechnung wird trotzdem geschrieben, als Entwurf: bitte die Jahreszahl und "
            "die Kosten prüfen, bevor sie festgeschrieben oder versandt wird.")


def rate_rule() -> str:
    return (f"{format_eur(RATE_UNTIL_2022)} bis {FIRST_PROGRAMME_YEAR}, "
            f"{format_eur(RATE_FROM_2023)} ab {FIRST_PROGRAMME_YEAR + 1}")


def settings_warnings(settings: Settings, today: date,
                      cells: Mapping[str, CellRef] | None = None) -> list[Notice]:
    """Warnings about the agreement-wide settings (once per run)."""
    cells = cells or {}
    year = settings.year
    notices: list[Notice] = []

    def warn(setting: str, message: str, kind: type[Notice] = Notice) -> None:
        notices.append(kind(message, Severity.WARNING, cells.get(setting)))

    if year > today.year:
        warn(YEAR, f"Abrechnungsjahr {year} liegt in der Zukunft (heute ist der "
                   f"{today:%d.%m.%Y}). {NOT_OVER}", YearNotOver)
    elif year == today.year:
        warn(YEAR, f"Abrechnungsjahr {year} ist noch nicht abgeschlossen (heute ist der "
                   f"{today:%d.%m.%Y}); die Kosten des Jahres stehen erst nach dem 31.12.{year} "
                   f"fest. {NOT_OVER}", YearNotOver)
    if year < FIRST_PROGRAMME_YEAR:
        warn(YEAR, f"Abrechnungsjahr {year} liegt vor Beginn des Programms (gefördert wird ab "
                   f"{FIRST_PROGRAMME_YEAR}). Bitte die Jahreszahl prüfen.")
    if settings.subsidy_rate is not None and settings.subsidy_rate != programme_rate(year):
        warn(RATE, f"Förderbetrag je VZÄ {format_eur(settings.subsidy_rate)} weicht vom Satz des "
                   f"Programms für {year} ab: {format_eur(programme_rate(year))} ({rate_rule()}). "
                   f"Bitte prüfen; leer gelassen gilt der Satz des Programms.")
    return notices


def terms_warnings(year: int, terms: Terms,
                   cells: Mapping[str, CellRef] | None = None) -> list[Notice]:
    """Warnings about an employer's own settings (once per workbook)."""
    cells = cells or {}
    notices: list[Notice] = []
    end = date(year, 12, 31)
    if terms.date_given and terms.settlement_date < end:
        notices.append(Notice(
            f"Datum der Abrechnung {terms.settlement_date:%d.%m.%Y} liegt vor dem Ende des "
            f"Abrechnungsjahres ({end:%d.%m.%Y}). Bitte das Datum prüfen.",
            Severity.WARNING, cells.get(DATE)))
    if terms.vat_rate > 0 and says_no_vat(terms.vat_note):
        notices.append(Notice(
            f"Umsatzsteuer wird berechnet ({format_decimal(terms.vat_rate * 100)} %), aber "
            f"„{VAT_NOTE}“ sagt, dass keine erhoben wird: bitte den Hinweis anpassen, er steht "
            f"auf jeder Abrechnung.", Severity.WARNING, cells.get(VAT_NOTE)))
    return notices


def says_no_vat(note: str) -> bool:
    """True for a note that says no VAT is charged.

    >>> says_no_vat("Umsatzsteuer wird nicht erhoben (§ 2b UStG)."), says_no_vat("zzgl. 19 % USt")
    (True, False)
    """
    return bool(NO_VAT.search(note))
