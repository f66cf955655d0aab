"""Notice (R11) and what it does to a region's keys (R6): ``kim-excel kuendigung``.

Glossary: Kündigung (notice) is given in writing to the end of a calendar year; the
Kündigungsfrist (notice period, N months) counts back from that 31 Dec (Wirksamkeit, E):
notice received on day d takes effect on the first 31 Dec E with ``d ≤ E − N months``.
The party pays for E, its last year; from E + 1 its nominal Stundenanteil goes in equal
parts to the parties that remain in its region (§ 4 Abs. 2).

Only ``Einstellungen`` (the period) and ``Vertragsparteien`` (the keys) are read: the
cost sheets do not matter for a notice, and a half-filled workbook should not stop it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from kim_excel.core.calculation import active_parties, split_keys
from kim_excel.core.dates import last_day_for_notice, notice_takes_effect
from kim_excel.core.errors import InputError, KimError, UnreadableInput
from kim_excel.core.model import CellRef, Party, Problem, Settings, SettlementInput
from kim_excel.core.money import display_decimal, format_decimal
from kim_excel.core.names import normalise, resolve
from kim_excel.core.schema import EINSTELLUNGEN, S_NOTICE, VERTRAGSPARTEIEN
from kim_excel.input.cells import Collector, check_structure, data_rows, int_value, is_empty
from kim_excel.input.extent import UnreadableWorkbook
from kim_excel.input.merging import Trail, merge_parties
from kim_excel.input.parse import WorkbookInput, parse_parties
from kim_excel.input.reading import find_workbooks, read_workbook

if TYPE_CHECKING:
    from kim_excel.input.parse import WorkbookInput

DEFAULT_NOTICE_MONTHS = 18  # § 4 Abs. 2 of the 2023 agreement (the 2022 text had 6)


@dataclass(frozen=True)
class Agreement:
    """What the workbooks in ``--eingang`` say about parties and the notice period."""

    files: tuple[str, ...]
    parties: tuple[Party, ...]
    notice_months: int | None  # None: the setting is empty


@dataclass(frozen=True)
class KeyChange:
    """One party of the region: its nominal key in year E and from year E + 1."""

    party: Party
    before: Fraction  # exact, as the calculation's keys (R7)
    before_fraction: Fraction
    after: Fraction | None  # None: not a party any more from E + 1
    after_fraction: Fraction | None


@dataclass(frozen=True)
class NoticeReport:
    received: date
    notice_months: int
    months_source: str  # German: where the period came from
    takes_effect: date  # 31 Dec E
    deadline: date  # the last day a notice could be received for E
    previous_end: date  # 31 Dec E − 1
    previous_deadline: date  # the last day a notice could be received for E − 1
    agreement: Agreement | None = None
    eingang: Path | None = None
    party: Party | None = None
    keys: tuple[KeyChange, ...] = ()
    successor: Party | None = None  # another employer of the region already named

    @property
    def last_year_paying(self) -> int:
        return self.takes_effect.year

    @property
    def first_year_without(self) -> int:
        return self.takes_effect.year + 1


def notice_report(received: date, months: int | None = None, eingang: Path | None = None,
                  eingang_given: bool = False, kommune: str | None = None) -> NoticeReport:
    """Everything ``kim-excel kuendigung`` prints, as data.

    ``months`` None: the workbook's ``Kündigungsfrist (Monate)``, else 18. Without a
    workbook in ``eingang`` only the dates are reported, unless ``eingang`` was asked for
    explicitly (``eingang_given``): then a missing folder is an error.
    """
    agreement = read_agreement(eingang, eingang_given) if eingang is not None else None
    if months is not None:
        source = "angegeben mit --frist"
    elif agreement is not None and agreement.notice_months is not None:
        months = agreement.notice_months
        source = f"Einstellung „Kündigungsfrist (Monate)“ in {', '.join(agreement.files)}"
    else:
        months = DEFAULT_NOTICE_MONTHS
        source = "Standard nach § 4 Abs. 2 der Vereinbarung"
    effect = notice_takes_effect(received, months)
    previous_end = date(effect.year - 1, 12, 31)
    report = NoticeReport(
        received=received, notice_months=months, months_source=source, takes_effect=effect,
        deadline=last_day_for_notice(effect, months), previous_end=previous_end,
        previous_deadline=last_day_for_notice(previous_end, months), agreement=agreement,
        eingang=eingang,
    )
    if kommune is None or agreement is None:
        return report
    party = find_party(agreement, kommune)
    successor = next((p for p in agreement.parties if p.region == party.region and p.is_employer
                      and p.name != party.name and p.is_active_in(effect.year + 1)), None)
    return replace(report, party=party, keys=key_changes(agreement.parties, party, effect),
                   successor=successor)


def find_party(agreement: Agreement, kommune: str) -> Party:

    name = resolve(kommune, agreement.parties)
    party = next((p for p in agreement.parties if p.name == name), None)
    if party is not None:
        return party
    known = ", ".join(p.name for p in agreement.parties)
    raise KimError(f"„{kommune}“ ist keine Vertragspartei laut {', '.join(agreement.files)} "
                   f"(bekannt: {known}).")


def key_changes(parties: tuple[Party, ...], leaving: Party, effect: date) -> tuple[KeyChange, ...]:
    """R6 with the calculation's own key rule: the nominal keys of ``leaving``'s region in
    year E and, with ``leaving`` gone after E, in year E + 1."""
    region = leaving.region
    after_parties = tuple(replace(p, exit_date=effect) if p.name == leaving.name else p
                          for p in parties)
    before = nominal_keys(parties, region, effect.year)
    after = nominal_keys(after_parties, region, effect.year + 1)
    before_total = sum(before.values(), Fraction(0))
    after_total = sum(after.values(), Fraction(0))
    changes = []
    for party in parties:
        if party.region != region or party.name not in before:
            continue
        new = after.get(party.name)
        changes.append(KeyChange(
            party=party,
            before=before[party.name],
            before_fraction=before[party.name] / before_total if before_total else Fraction(0),
            after=new,
            after_fraction=(new / after_total if after_total else Fraction(0))
            if new is not None else None,
        ))
    return tuple(changes)


def nominal_keys(parties: tuple[Party, ...], region: str, year: int) -> dict[str, Fraction]:
    inp = SettlementInput(settings=Settings(year=year), parties=parties)
    active = active_parties(inp, region)
    if not active:
        return {}
    _basis, keys, _inherited = split_keys(inp, region, active)
    return keys


# ---------------------------------------------------------------- reading


def read_agreement(source: Path, required: bool) -> Agreement | None:
    """Parties and notice period from the workbooks in ``source``; None if there are none
    and ``source`` was not asked for explicitly. Parties merge cell by cell as in a
    settlement run (``merging.merge_parties``): an empty cell takes another workbook's value."""

    try:
        paths = find_workbooks(source)
    except UnreadableInput:
        if required:
            raise
        return None
    out = Collector()
    found = [read_one_agreement(path, out) for path in paths]
    found = [entry for entry in found if entry is not None]
    if out.problems:
        raise InputError(out.problems)
    parties = merge_parties([wb for wb, _ in found], out, Trail())
    (first, months), *others = found
    for other, other_months in others:
        if other_months != months:
            out.problems.append(Problem(
                f"die Kündigungsfrist weicht von {first.file} ab.",
                CellRef(other.file, EINSTELLUNGEN)))
    if out.problems:
        raise InputError(out.problems)
    return Agreement(tuple(wb.file for wb, _ in found), parties, months)


def read_one_agreement(path: Path, out) -> tuple[WorkbookInput, int | None] | None:
    """One workbook's parties (as the settlement reads them) and its notice period."""

    try:
        raw = read_workbook(path, (EINSTELLUNGEN, VERTRAGSPARTEIEN))
    except UnreadableWorkbook as exc:
        out.problems.append(exc.problem)
        return None
    table = raw.table(VERTRAGSPARTEIEN)
    if table is None:
        out.error(CellRef(raw.name, VERTRAGSPARTEIEN),
                  f"Das Blatt „{VERTRAGSPARTEIEN}“ fehlt. Vorhandene Blätter: "
                  f"{', '.join(raw.sheet_names) or 'keine'}.")
        return None
    if not check_structure(table, VERTRAGSPARTEIEN, out):
        return None
    rows: dict = {}
    parties = tuple(parse_parties(table, out, rows))
    settings = raw.table(EINSTELLUNGEN)
    months = None
    if settings is not None and check_structure(settings, EINSTELLUNGEN, out):
        months = notice_setting(settings, out)
    workbook = WorkbookInput(file=raw.name, settings=None, settings_sound=True, terms=None,
                             parties=parties, incomplete=set(), positions=[],
                             material_costs=[], subsidies={}, hours={}, advances=[],
                             party_rows=rows)
    return workbook, months


def notice_setting(table, out) -> int | None:
    """The ``Kündigungsfrist (Monate)`` row, checked as the settlement run checks it."""

    for index, row in data_rows(table, ("Einstellung", "Wert")):
        if normalise(row["Einstellung"]) == normalise(S_NOTICE):
            if is_empty(row["Wert"]):
                return None
            return int_value(row["Wert"], table.ref(index, "Wert"), out,
                             "Kündigungsfrist in Monaten", 0, 120)
    return None


# ---------------------------------------------------------------- the text


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def months_text(months: int) -> str:
    return "1 Monat" if months == 1 else f"{months} Monate"


def key_text(key: Fraction, fraction: Fraction) -> str:
    """``0,625 VZÄ (25,00 %)``; keys that do not end within 4 decimals are rounded."""
    shown = display_decimal(key).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    percent = format_decimal(fraction * 100, 2)
    return f"{format_decimal(shown)} VZÄ ({percent} %)"


def notice_lines(report: NoticeReport) -> list[str]:
    effect, year = report.takes_effect, report.last_year_paying
    lines = [
        f"Kündigung eingegangen am {day(report.received)}; Kündigungsfrist "
        f"{months_text(report.notice_months)} zum Ende eines Kalenderjahres "
        f"({report.months_source}).",
        f"Wirksam zum {day(effect)}: {year} ist das letzte Jahr, für das die Kommune zahlt.",
        f"Für den {day(effect)} reicht ein Eingang bis zum {day(report.deadline)}; "
        f"für den {day(report.previous_end)} hätte die Kündigung spätestens am "
        f"{day(report.previous_deadline)} eingehen müssen.",
    ]
    moves = (f"Ab {report.first_year_without} geht der Stundenanteil der kündigenden Kommune "
             f"zu gleichen Teilen auf die übrigen Vertragsparteien ihrer Region über "
             f"(§ 4 Abs. 2).")
    if report.agreement is None:
        lines.append(moves)
        lines.append(f"Die neuen Schlüssel zeigt kim-excel, wenn in „{report.eingang}“ eine "
                     f"Arbeitsmappe mit dem Blatt „Vertragsparteien“ liegt (--eingang).")
        return lines
    if report.party is None:
        lines.append(moves)
        lines.append("Mit --kommune NAME zeigt kim-excel die neuen Schlüssel der Region.")
        return lines
    return lines + party_lines(report)


def party_lines(report: NoticeReport) -> list[str]:
    party, year = report.party, report.last_year_paying
    following = report.first_year_without
    lines = []
    if all(k.after is None for k in report.keys):
        lines.append(f"{party.full_name} ist die letzte Vertragspartei der Region "
                     f"{party.region}; ab {following} hätte die Region keine Parteien mehr.")
    else:
        lines.append(f"Ab {following} geht der Stundenanteil von {party.full_name} zu gleichen "
                     f"Teilen auf die übrigen Vertragsparteien der Region {party.region} über "
                     f"(§ 4 Abs. 2). Schlüssel (Stundenanteil):")
        width = max(len(k.party.full_name) for k in report.keys)
        before_texts = [key_text(k.before, k.before_fraction) for k in report.keys]
        before_width = max(len(t) for t in [*before_texts, str(year)])
        lines.append(f"  {'Kommune':<{width}}  {str(year):<{before_width}}  ab {following}")
        for change, before in zip(report.keys, before_texts, strict=True):
            after = "ausgeschieden" if change.after is None else key_text(
                change.after, change.after_fraction)
            lines.append(f"  {change.party.full_name:<{width}}  {before:<{before_width}}  {after}")
    if party.exit_date is not None and party.exit_date != report.takes_effect:
        lines.append(f"Hinweis: In „Vertragsparteien“ steht für {party.name} bereits "
                     f"„Ausgeschieden zum“ {day(party.exit_date)}.")
    lines.append(f"In „Vertragsparteien“ bei {party.name} unter „Ausgeschieden zum“ den "
                 f"{day(report.takes_effect)} eintragen.")
    if party.is_employer:
        if report.successor is not None:
            lines.append(f"Warnung: {party.full_name} ist Anstellungskörperschaft der Region "
                         f"{party.region}; als Nachfolgerin ist {report.successor.full_name} "
                         f"eingetragen.")
        else:
            lines.append(f"Warnung: {party.full_name} ist Anstellungskörperschaft der Region "
                         f"{party.region}. Sie kann nur ausscheiden, wenn eine Nachfolgerin "
                         f"benannt ist, die das Personal übernimmt und abrechnet: eine weitere "
                         f"Zeile der Region {party.region} mit der Rolle "
                         f"„Anstellungskörperschaft“ in „Vertragsparteien“ (§ 4 Abs. 5).")
    return lines
