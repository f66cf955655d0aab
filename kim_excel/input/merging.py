"""Several workbooks → one :class:`SettlementInput`, and the input shaped for the checks.

Agreement-wide settings must agree; an employer's costs come from one workbook, whose own
settings (:class:`Terms`) its region uses. In ``Vertragsparteien`` a cell empty in one
workbook and filled in another is no disagreement: the filled value counts, so no employer
has to type in another employer's bank details. Then R6 (a named successor is a partner
until its predecessor has left), names in the parties sheet's spelling, and an empty BIC
or Kreditinstitut filled in from the IBAN.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from decimal import Decimal

from kim_excel.core.model import (
    PARTNER,
    Advance,
    CellRef,
    Notice,
    Party,
    Settings,
    SettlementInput,
    Severity,
    Terms,
)
from kim_excel.core.money import format_decimal
from kim_excel.core.names import normalise, resolver
from kim_excel.core.schema import (
    EINSTELLUNGEN,
    FOERDERUNG,
    PARTY_LABELS,
    PERSONALKOSTEN,
    SETTING_LABELS,
    STUNDEN,
    VERTRAGSPARTEIEN,
)
from kim_excel.input.cells import Collector, describe
from kim_excel.input.parse import WorkbookInput
from kim_excel.input.reading import Table


@dataclass
class Trail:
    """Cells of the merged input, so that checks across sheets can name ``Sheet!Cell``."""

    party_rows: dict[str, tuple[Table, int]] = field(default_factory=dict)  # normalised name
    subsidies: dict[str, CellRef] = field(default_factory=dict)  # normalised name
    hours: dict[str, CellRef] = field(default_factory=dict)  # normalised name
    fallback: CellRef | None = None  # the parties sheet of the first workbook
    # Every workbook's row of each party, by file: a message about an employer's own cell
    # names the row in the workbook that holds its costs.
    rows_by_file: dict[str, dict[str, tuple[Table, int]]] = field(default_factory=dict)
    incomplete: set[str] = field(default_factory=set)  # regions/names with unsound rows

    def party(self, name: str, header: str = "Kommune", file: str = "") -> CellRef | None:
        found = self.rows_by_file.get(file, {}).get(normalise(name)) or \
            self.party_rows.get(normalise(name))
        if found is None:
            return self.fallback
        table, index = found
        if normalise(header) not in table.headers:
            return table.ref(index)
        return table.ref(index, header)


def merge(parsed: list[WorkbookInput], out: Collector,
          trail: Trail | None = None) -> SettlementInput | None:
    """One input from several workbooks: settings and parties must agree, costs of an
    employer may come from one workbook only. None when no workbook has usable settings."""
    trail = trail if trail is not None else Trail()
    with_settings = [wb for wb in parsed if wb.settings is not None]
    if not with_settings:
        return None
    sound = [wb for wb in with_settings if wb.settings_sound]
    first = (sound or with_settings)[0]
    for other in sound[1:]:
        compare_settings(first, other, out)
    for wb in parsed:
        trail.incomplete |= wb.incomplete
        trail.rows_by_file[wb.file] = wb.party_rows
    parties = merge_parties([wb for wb in parsed if wb.parties], out, trail)
    terms = merge_costs(parsed, out)
    subsidies = merge_keyed([(wb.file, wb.subsidies) for wb in parsed], FOERDERUNG, out)
    hours = merge_keyed([(wb.file, wb.hours) for wb in parsed], STUNDEN, out)
    trail.subsidies = {normalise(k): where for k, (_, where) in subsidies.items()}
    trail.hours = {normalise(k): where for k, (_, where) in hours.items()}
    return SettlementInput(
        settings=first.settings,
        parties=parties,
        positions=tuple(p for wb in parsed for p in wb.positions),
        material_costs=tuple(c for wb in parsed for c in wb.material_costs),
        subsidies_received={k: v for k, (v, _) in subsidies.items()},
        hours={k: v for k, (v, _) in hours.items()},
        advances=merge_advances(parsed, out),
        sources=tuple(wb.file for wb in parsed),
        terms={p.name: terms[normalise(p.name)] for p in parties
               if p.is_employer and normalise(p.name) in terms},
    )


def compare_settings(first: WorkbookInput, other: WorkbookInput, out: Collector) -> None:
    if first.settings == other.settings:
        return
    diff = [f.name for f in fields(Settings)
            if getattr(first.settings, f.name) != getattr(other.settings, f.name)]
    labels = [SETTING_LABELS.get(d, d) for d in diff]
    out.error(other.setting_cells.get(labels[0], CellRef(other.file, EINSTELLUNGEN)),
              f"die Einstellungen für die ganze Vereinbarung weichen von {first.file} "
              f"ab ({', '.join(setting_difference(first, other, d) for d in diff)}); "
              f"sie müssen in allen Arbeitsmappen eines Laufs gleich sein.")


def merge_costs(parsed: list[WorkbookInput], out: Collector) -> dict[str, Terms]:
    """Each employer's costs in one workbook only; returns normalised employer → the terms
    of the workbook holding its costs."""
    cost_file: dict[str, str] = {}
    terms: dict[str, Terms] = {}
    for wb in parsed:
        rows: dict[str, CellRef | None] = {}  # normalised employer → its first cost row
        for item in (*wb.positions, *wb.material_costs):
            rows.setdefault(normalise(item.employer), item.where)
        for employer, where in sorted(rows.items()):
            if employer in cost_file:
                name = next((i.employer for i in (*wb.positions, *wb.material_costs)
                             if normalise(i.employer) == employer), employer)
                out.error(where or CellRef(wb.file, PERSONALKOSTEN),
                          f"Kosten der Anstellungskörperschaft {name} stehen in "
                          f"{cost_file[employer]} und in {wb.file}; jede Anstellungskörperschaft "
                          f"darf nur in einer Arbeitsmappe Kosten angeben (sonst würden sie "
                          f"doppelt abgerechnet).")
            else:
                cost_file[employer] = wb.file
                if wb.terms is not None:
                    terms[employer] = wb.terms
    return terms


def merge_advances(parsed: list[WorkbookInput], out: Collector) -> tuple[Advance, ...]:
    advances: list[Advance] = []
    seen: dict[tuple, str] = {}
    for wb in parsed:
        for advance in wb.advances:
            key = (normalise(advance.party), advance.paid_on, advance.amount)
            if key in seen and seen[key] != wb.file:
                out.error(advance.where, f"derselbe Abschlag ({advance.party}, "
                                         f"{describe(advance.paid_on)}) steht auch in "
                                         f"{seen[key]}; er würde doppelt angerechnet.")
            seen.setdefault(key, wb.file)
            advances.append(advance)
    return tuple(advances)


# ------------------------------------------------------------------ the parties

MERGED_FIELDS = tuple(f.name for f in fields(Party) if f.compare and f.name != "bank_from_iban")


def merge_parties(parsed: list[WorkbookInput], out: Collector, trail: Trail) -> tuple[Party, ...]:
    """The parties of all workbooks, cell by cell: an empty cell takes the filled value of
    another workbook; two different filled values are an error naming both cells."""
    if not parsed:
        return ()
    first = parsed[0]
    trail.party_rows = dict(first.party_rows)
    trail.fallback = CellRef(first.file, VERTRAGSPARTEIEN)
    merged = {normalise(p.name): p for p in first.parties}
    origin: dict[tuple[str, str], WorkbookInput] = {}  # (name, field) → workbook of the value
    for other in parsed[1:]:
        if {normalise(p.name) for p in other.parties} != set(merged):
            where, detail = party_difference(first.parties, other.parties, other)
            out.error(where or CellRef(other.file, VERTRAGSPARTEIEN),
                      f"die Vertragsparteien weichen von {first.file} ab{detail}; alle "
                      f"Arbeitsmappen eines Laufs brauchen dieselben Vertragsparteien.")
            continue
        for theirs in other.parties:
            key = normalise(theirs.name)
            merged[key], filled = merge_party(
                merged[key], theirs, other, lambda name, k=key: origin.get((k, name), first),
                out)
            origin.update({(key, name): other for name in filled})
    return tuple(merged.values())


def is_filled(value: object) -> bool:
    return value is not None and value != ""


def merge_party(mine: Party, theirs: Party, other: WorkbookInput, source,
                out: Collector) -> tuple[Party, list[str]]:
    """``mine`` completed by ``theirs`` (from workbook ``other``), and the fields filled in;
    ``source(field)`` is the workbook ``mine``'s value of that field came from."""
    updates = {}
    for name in MERGED_FIELDS:
        a, b = getattr(mine, name), getattr(theirs, name)
        if not is_filled(b) or a == b:
            continue
        if not is_filled(a):
            updates[name] = b
            continue
        label = PARTY_LABELS.get(name, name)
        there = source(name)
        out.error(party_cell(other, mine.name, label) or CellRef(other.file, VERTRAGSPARTEIEN),
                  f"die Vertragsparteien weichen von {there.file} ab (bei {mine.name}: {label} "
                  f"{shown(a)} gegenüber {shown(b)}); alle Arbeitsmappen eines Laufs brauchen "
                  f"dieselben Vertragsparteien. In {there.file} steht der Wert in "
                  f"{party_cell(there, mine.name, label) or VERTRAGSPARTEIEN}; eine Zelle, "
                  f"die in einer der Arbeitsmappen leer ist, wäre keine Abweichung.")
    return (replace(mine, **updates) if updates else mine), list(updates)


def party_cell(wb: WorkbookInput, name: str, header: str) -> CellRef | None:
    found = wb.party_rows.get(normalise(name))
    if found is None:
        return None
    table, index = found
    return table.ref(index, header) if normalise(header) in table.headers else None


def shown(value: object) -> str:
    if value is None or value == "":
        return "leer"
    if isinstance(value, Decimal):
        return format_decimal(value)
    return describe(value).strip("„“")


def setting_difference(first: WorkbookInput, other: WorkbookInput, name: str) -> str:
    label = SETTING_LABELS.get(name, name)
    return (f"{label}: {shown(getattr(first.settings, name))} gegenüber "
            f"{shown(getattr(other.settings, name))}")


def party_difference(a: tuple[Party, ...], b: tuple[Party, ...],
                     other: WorkbookInput | None = None) -> tuple[CellRef | None, str]:
    """Where and how the parties of workbook ``other`` (``b``) differ from ``a``."""
    names_a, names_b = {p.name for p in a}, {p.name for p in b}
    if names_a != names_b:
        only_b = sorted(names_b - names_a)
        only = sorted(names_a ^ names_b)
        return (party_cell(other, only_b[0], "Kommune") if other and only_b else None,
                f" (nur in einer der beiden: {', '.join(only)})")
    by_name = {p.name: p for p in b}
    for party in a:
        theirs = by_name[party.name]
        if party != theirs:
            field_name = next(f.name for f in fields(Party) if f.compare
                              and getattr(party, f.name) != getattr(theirs, f.name))
            label = PARTY_LABELS.get(field_name, field_name)
            return (party_cell(other, party.name, label) if other else None,
                    f" (bei {party.name}: {label} {shown(getattr(party, field_name))} "
                    f"gegenüber {shown(getattr(theirs, field_name))})")
    return None, " (Reihenfolge der Zeilen)"


def merge_keyed(sources, sheet: str, out: Collector) -> dict[str, tuple[Decimal, CellRef]]:
    merged: dict[str, tuple[Decimal, CellRef]] = {}
    spelled: dict[str, str] = {}  # normalised → the first spelling
    for _file, entries in sources:
        for name, (value, where) in entries.items():
            key = spelled.setdefault(normalise(name), name)
            if key in merged and merged[key][0] != value:
                out.error(where, f"„{name}“ steht mit anderem Wert auch in "
                                 f"{merged[key][1].file} ({merged[key][1]}).")
            merged.setdefault(key, (value, where))
    return merged


# ------------------------------------------------------------- shaped for the checks


def with_successors(inp: SettlementInput, notices: list[Notice]) -> SettlementInput:
    """R6: a successor employer (a second row with that role, its predecessor with an exit
    date) takes office in the year after the predecessor left; until then it is a partner.

    Billerbeck named as successor of Coesfeld, who leaves on 31.12.2025: in 2025 Coesfeld
    bills Billerbeck as a partner; from 2026 Billerbeck is the Anstellungskörperschaft.
    """
    year = inp.settings.year
    parties = list(inp.parties)
    serving_by_region: dict[str, list[int]] = {}  # employers still serving, by row index
    for index, p in enumerate(parties):
        if p.is_employer and p.is_active_in(year):
            serving_by_region.setdefault(p.region, []).append(index)
    for region, indices in serving_by_region.items():
        serving = [parties[i] for i in indices]
        leaving = [p for p in serving if p.exit_date is not None]
        staying = [i for i in indices if parties[i].exit_date is None]
        if len(serving) > 1 and len(staying) == 1 and len(leaving) == len(serving) - 1:
            successor = parties[staying[0]]
            parties[staying[0]] = replace(successor, role=PARTNER)
            start = max(p.exit_date for p in leaving).year + 1
            notices.append(Notice(
                f"{successor.name} ist als neue Anstellungskörperschaft der Region {region} "
                f"benannt und übernimmt ab {start}; {year} rechnet noch "
                f"{leaving[0].name} ab, {successor.name} ist {year} Partnerkommune.",
                Severity.INFO, successor.where))
    return replace(inp, parties=tuple(parties))


def canonical(inp: SettlementInput) -> SettlementInput:
    """Names in costs, hours and advances in the spelling of the parties sheet
    (matching ignores case and spaces, settling and printing use one spelling)."""
    known = resolver(inp.parties)

    def fix(name: str) -> str:
        return known(name) or name

    return replace(
        inp,
        positions=tuple(replace(p, employer=fix(p.employer)) for p in inp.positions),
        material_costs=tuple(replace(c, employer=fix(c.employer)) for c in inp.material_costs),
        subsidies_received={fix(k): v for k, v in inp.subsidies_received.items()},
        hours={fix(k): v for k, v in inp.hours.items()},
        advances=tuple(replace(a, party=fix(a.party)) for a in inp.advances),
    )


def with_banks_from_iban(inp: SettlementInput) -> SettlementInput:
    """An empty BIC or Kreditinstitut is taken from the IBAN's German bank code (schwifty
    knows them offline), and the party says so (``bank_from_iban``) for the letter."""
    return replace(inp, parties=tuple(bank_from_iban(p) for p in inp.parties))


def bank_from_iban(party: Party) -> Party:
    if not party.iban or (party.bic and party.bank):
        return party
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        iban = IBAN(party.iban)
        bic, bank = party.bic or str(iban.bic or ""), party.bank or (iban.bank_name or "")
    except SchwiftyException:  # reported at the IBAN cell already
        return party
    if (bic, bank) == (party.bic, party.bank):
        return party
    return replace(party, bic=bic, bank=bank, bank_from_iban=True)
