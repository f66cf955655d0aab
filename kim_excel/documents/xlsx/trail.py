"""The ``Berechnung`` sheet: every position, every Sachkosten line and the split of a region.

Written into each partner's workbook (one region, the recipient's row highlighted) and into
the overview (every region, each on its own pages). Every derived figure is a live formula
written together with the value ``calculation.py`` computed; the formulas restate the rules
of SPEC § 3 cell by cell (``ROUND`` is Excel's commercial rounding, like ours). Nothing here
computes a settlement figure. ``net_formula`` is the one writer of the R7 share formula.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kim_excel.core.german import day_text
from kim_excel.core.model import (
    KOSTENART_PERSONAL,
    KOSTENARTEN,
    KeyBasis,
    RegionResult,
    Settlement,
    Share,
)
from kim_excel.documents.xlsx.sheet import (
    FOOTER,
    Sheet,
    a1,
    cell_value,
    lines_needed,
    setup_page,
    span,
)

TRAIL = "Berechnung"
# name | kind or role | VZÄ / nominal | months / inherited | amount | amount | amount
TRAIL_WIDTHS = (36, 34, 12, 12, 16, 16, 16)
LAST_TRAIL_COL = len(TRAIL_WIDTHS) - 1


def dates_text(settlement: Settlement) -> str:
    """``Datum der Abrechnung 02.03.2025``, or per region when the employers' dates differ."""
    days = {r.terms.settlement_date for r in settlement.regions}
    if len(days) <= 1:
        return f"Datum der Abrechnung {day_text(settlement.latest_date)}"
    return "Datum der Abrechnung je Region: " + ", ".join(
        f"{r.region} {day_text(r.terms.settlement_date)}" for r in settlement.regions)



@dataclass
class Basis:
    """Cells holding the year's settings that formulas refer to."""

    rate: str
    vat_rate: str | None
    # The regions' own terms (date, payment term, VAT) differ: each region's section shows
    # its own instead of the common basis (SPEC § 4).
    terms_per_region: bool = False


@dataclass
class PartyCells:
    key: str
    fraction: str
    net: str


@dataclass
class RegionCells:
    """Where a region's figures stand in a trail sheet (absolute, with the sheet name)."""

    kinds: dict[str, str]  # KOSTENART_PERSONAL and each of KOSTENARTEN → cell
    costs: str
    subsidy: str
    eigenanteil: str
    eigenanteil_here: str  # the same cell, referred to from its own sheet
    key_total: str = ""
    vat_rate: str | None = None  # the region's VAT rate cell; None at 0 %
    parties: dict[str, PartyCells] = field(default_factory=dict)


def setup_trail(sheet: Sheet, one_page: bool = False) -> None:
    """Landscape, one page wide. ``one_page``: a partner's trail, printed (and in its PDF)
    on the one page after the letter, shrunk as far as needed."""
    setup_page(sheet.ws, landscape=True, fit=(1, 1) if one_page else (1, 0),
               margins=(0.6, 0.5, 0.6, 0.7), footer=FOOTER, widths=TRAIL_WIDTHS)


@dataclass(frozen=True)
class Dated:
    """The date and due date of one document (a correction's own, a late first letter's),
    shown in its trail instead of the region's settlement date."""

    label: str  # "Datum der Korrektur"
    day: date
    due: date | None


def write_basis(sheet: Sheet, settlement: Settlement, regions: list[RegionResult],
                row: int, dated: Dated | None = None) -> tuple[Basis, int]:
    """The title and the settings every formula builds on; returns the next free row."""
    s = settlement.settings
    title = f"Berechnung des Eigenanteils {settlement.year}"
    if len(regions) == 1:
        title += f" – Region {regions[0].region}"
    sheet.text(row, 0, title, "title")
    sheet.fit_row(row, 1, 13)
    row += 1
    sheet.text(row, 0, "Kommunales Case-Management – Kooperationsvereinbarung, § 2 Kosten",
               "sender_line")
    row += 2
    sheet.text(row, 0, "Grundlagen", "section")
    sheet.line(row, 1, LAST_TRAIL_COL, "section")
    row += 1
    sheet.text(row, 0, "Förderbetrag je VZÄ und Jahr")
    note = (f"Satz des Landesprogramms für {settlement.year}" if settlement.subsidy_rate_is_default
            else "laut Einstellungen")
    sheet.text(row, 1, note)
    sheet.number(row, 6, settlement.subsidy_rate, "eur")
    rate = sheet.ref(row, 6)
    row += 1
    if s.subsidy_lapsed:
        sheet.text(row, 0, "Landesförderung")
        sheet.text(row, 1, "entfallen (§ 2): alle Kosten zu gleichen Teilen")
        row += 1
    if any(r.wind_down for r in regions) and s.contract_end is not None:
        sheet.text(row, 0, "Vertrag beendet zum")
        sheet.text(row, 1, "§ 4 Abs. 3: Abwicklung zu gleichen Teilen")
        sheet.date(row, 6, s.contract_end, "date")
        row += 1
    if len({r.terms for r in regions}) > 1:
        return Basis(rate, None, terms_per_region=True), row
    vat_rate, row = write_terms(sheet, regions[0], row, dated) if regions else (None, row)
    return Basis(rate, vat_rate), row


def write_terms(sheet: Sheet, region: RegionResult, row: int,
                dated: Dated | None = None) -> tuple[str | None, int]:
    """The employer's own terms: VAT rate, date, due date (the document's own where
    ``dated``); returns the VAT rate's cell."""
    terms = region.terms
    vat_rate = None
    if terms.vat_rate > 0:
        sheet.text(row, 0, "Umsatzsteuersatz")
        sheet.text(row, 1, "auf die Anteile der Partnerkommunen")
        sheet.ws.write_number(row, 6, cell_value(terms.vat_rate),
                              sheet.styles.vat_rate(terms.vat_rate))
        vat_rate = sheet.ref(row, 6)
        row += 1
    sheet.text(row, 0, dated.label if dated else "Datum der Abrechnung")
    sheet.date(row, 6, dated.day if dated else terms.settlement_date, "date")
    row += 1
    due = dated.due if dated else region.due_date
    if region.partner_shares and due:
        sheet.text(row, 0, "Fällig am")
        sheet.text(row, 1, f"Zahlungsziel {terms.payment_days} Tage, nächster Werktag in NRW")
        sheet.date(row, 6, due, "date")
        row += 1
    return vat_rate, row


def write_region_trail(sheet: Sheet, settlement: Settlement, region: RegionResult, basis: Basis,
                       row: int, highlight: str | None = None) -> tuple[RegionCells, int]:
    """One region's trail from ``row`` on; returns its cells and the next free row."""
    sheet.text(row, 0, f"Region {region.region} – Anstellungskörperschaft "
                       f"{region.employer.full_name}", "section")
    sheet.line(row, 1, LAST_TRAIL_COL, "section")
    row += 2
    row = write_references(sheet, region, row)
    vat_rate = basis.vat_rate
    if basis.terms_per_region:
        vat_rate, row = write_terms(sheet, region, row)
        row += 1
    positions, row = write_positions(sheet, settlement, region, basis, row)
    material, row = write_material(sheet, region, row)
    cells, row = write_region_sums(sheet, settlement, region, positions, material, row)
    cells.vat_rate = vat_rate
    row = write_split(sheet, settlement, region, cells, row, highlight)
    row = write_advances(sheet, region, row)
    return cells, row


def write_references(sheet: Sheet, region: RegionResult, row: int) -> int:
    """The employer's Aktenzeichen and Buchungsstelle, for whoever books the bills."""
    terms = region.terms
    written = False
    for label, value in (("Aktenzeichen", terms.aktenzeichen),
                         ("Buchungsstelle", terms.buchungsstelle)):
        if value:
            sheet.text(row, 0, label)
            sheet.text(row, 1, value)
            row += 1
            written = True
    return row + 1 if written else row


def write_advances(sheet: Sheet, region: RegionResult, row: int) -> int:
    """R9 itemised: each partner's Kassenzeichen and every Abschlag with its date."""
    partners = region.partner_shares
    if not partners:
        return row
    sheet.text(row, 0, "5. Abschläge und Kassenzeichen der Partnerkommunen", "bold")
    row += 1
    header(sheet, row, ("Vertragspartei", "Kassenzeichen", "", "Datum", "Abschlag", "", ""))
    first = row = row + 1
    for share in partners:
        items = share.advance_items or (None,)
        for item in items:
            sheet.text(row, 0, share.party.full_name)
            sheet.text(row, 1, share.party.kassenzeichen)
            if item is None:
                sheet.text(row, 3, "keine", "right")
            else:
                if item.paid_on is not None:
                    sheet.date(row, 3, item.paid_on, "date")
                sheet.number(row, 4, item.amount, "eur")
            row += 1
    sheet.text(row, 0, "Summe Abschläge", "label_total")
    sheet.line(row, 1, 3, "blank_total")
    sheet.formula(row, 4, f"=SUM({span(first, row - 1, 4)})", region.partner_total("advances"),
                  "eur_total")
    return row + 2


def header(sheet: Sheet, row: int, titles: tuple[str, ...]) -> None:
    for col, title in enumerate(titles):
        sheet.text(row, col, title, "th" if col < 2 else "th_right")
    sheet.fit_row(row, max(lines_needed(t, TRAIL_WIDTHS[c], bold=True)
                           for c, t in enumerate(titles)))


@dataclass
class Totals:
    """Cells of a table's sum row."""

    first: int
    last: int
    amount: str  # the amount column's sum
    subsidy: str = ""


def write_positions(sheet: Sheet, settlement: Settlement, region: RegionResult, basis: Basis,
                    row: int) -> tuple[Totals, int]:
    lapsed = settlement.settings.subsidy_lapsed
    sheet.text(row, 0, "1. Personalkosten und Landesförderung je Stelle", "bold")
    row += 1
    if lapsed:
        note = "Die Landesförderung ist entfallen (§ 2): keine Förderung je Stelle."
    else:
        note = ("Förderung je Stelle = Förderbetrag × VZÄ × besetzte Monate / 12, auf den Cent "
                "gerundet, höchstens die Personalkosten der Stelle.")
    sheet.merged(row, 0, LAST_TRAIL_COL, note, "italic_wrap")
    row += 1
    subsidy_titles = ("", "") if lapsed else ("Förderung rechnerisch", "Förderung")
    header(sheet, row, ("Stelle", "", "VZÄ", "Monate", "Personalkosten", *subsidy_titles))
    first = row = row + 1
    for result in region.positions:
        position = result.position
        sheet.text(row, 0, position.label, "cell_wrap")
        sheet.fit_row(row, lines_needed(position.label, TRAIL_WIDTHS[0]))
        sheet.number(row, 2, position.vzae, "vzae")
        sheet.number(row, 3, position.months, "months")
        sheet.number(row, 4, position.personnel_costs, "eur")
        if not lapsed:
            sheet.formula(row, 5, f"=ROUND({basis.rate}*{a1(row, 2)}*{a1(row, 3)}/12,2)",
                          result.subsidy_uncapped, "eur")
            sheet.formula(row, 6, f"=MIN({a1(row, 5)},{a1(row, 4)})", result.subsidy, "eur")
        row += 1
    if not region.positions:
        sheet.text(row, 0, "keine Stellen angegeben", "exited")
        row += 1
    last = row - 1
    sheet.text(row, 0, "Summe", "label_total")
    sheet.blank(row, 1, "blank_total")
    sheet.formula(row, 2, f"=SUM({span(first, last, 2)})", region.vzae, "vzae_total")
    sheet.blank(row, 3, "blank_total")
    sheet.formula(row, 4, f"=SUM({span(first, last, 4)})", region.personnel_costs, "eur_total")
    sheet.blank(row, 5, "blank_total")
    subsidy = ""
    if lapsed:
        sheet.blank(row, 6, "blank_total")
    else:
        sheet.formula(row, 6, f"=SUM({span(first, last, 6)})", region.subsidy_computed,
                      "eur_total")
        subsidy = sheet.ref(row, 6)
    return Totals(first, last, sheet.ref(row, 4), subsidy), row + 2


def write_material(sheet: Sheet, region: RegionResult, row: int) -> tuple[Totals, int]:
    sheet.text(row, 0, "2. Sachkosten", "bold")
    row += 1
    header(sheet, row, ("Bezeichnung", "Kostenart", "", "", "Betrag", "", ""))
    first = row = row + 1
    for cost in region.material_costs:
        sheet.text(row, 0, cost.label, "cell_wrap")
        sheet.text(row, 1, cost.kind, "cell_wrap")
        sheet.fit_row(row, max(lines_needed(cost.label, TRAIL_WIDTHS[0]),
                               lines_needed(cost.kind, TRAIL_WIDTHS[1])))
        sheet.number(row, 4, cost.amount, "eur")
        row += 1
    if not region.material_costs:
        sheet.text(row, 0, "keine Sachkosten angegeben", "exited")
        row += 1
    last = row - 1
    sheet.text(row, 0, "Summe Sachkosten", "label_total")
    for col in (1, 2, 3):
        sheet.blank(row, col, "blank_total")
    sheet.formula(row, 4, f"=SUM({span(first, last, 4)})", region.material_costs_total,
                  "eur_total")
    return Totals(first, last, sheet.ref(row, 4)), row + 2


def write_region_sums(sheet: Sheet, settlement: Settlement, region: RegionResult,
                      positions: Totals, material: Totals, row: int) -> tuple[RegionCells, int]:
    """Costs by kind → costs → Landesförderung → Eigenanteil (R1–R3, R5)."""
    sheet.text(row, 0, "3. Kosten, Landesförderung und Eigenanteil der Region", "bold")
    row += 1
    kinds: dict[str, str] = {}
    first = row
    sheet.text(row, 0, KOSTENART_PERSONAL)
    sheet.text(row, 1, "Summe aus 1.")
    sheet.formula(row, 6, f"={positions.amount}", region.personnel_costs, "eur")
    kinds[KOSTENART_PERSONAL] = sheet.ref(row, 6)
    by_kind = region.material_by_kind()
    kind_range = span(material.first, material.last, 1)
    amount_range = span(material.first, material.last, 4)
    for kind in KOSTENARTEN:
        row += 1
        sheet.text(row, 0, kind)
        sheet.text(row, 1, "aus 2., nach Kostenart")
        sheet.formula(row, 6, f"=SUMIF({kind_range},{a1(row, 0)},{amount_range})",
                      by_kind[kind], "eur")
        kinds[kind] = sheet.ref(row, 6)
    row += 1
    sheet.text(row, 0, "Kosten der Region", "label_total")
    sheet.line(row, 1, 5, "blank_total")
    sheet.formula(row, 6, f"=SUM({span(first, row - 1, 6)})", region.costs, "eur_total")
    costs, costs_ref = a1(row, 6), sheet.ref(row, 6)
    row += 1
    if settlement.settings.subsidy_lapsed:
        sheet.text(row, 0, "Landesförderung")
        sheet.text(row, 1, "entfallen (§ 2)")
        sheet.number(row, 6, region.subsidy, "eur")
    elif region.subsidy_received is not None:
        sheet.text(row, 0, "Landesförderung rechnerisch")
        sheet.text(row, 1, "Summe aus 1.")
        sheet.formula(row, 6, f"={positions.subsidy}", region.subsidy_computed, "eur")
        row += 1
        sheet.text(row, 0, "Landesförderung tatsächlich erhalten")
        sheet.text(row, 1, "laut Förderbescheid; wird abgezogen")
        sheet.number(row, 6, region.subsidy_received, "eur")
    else:
        sheet.text(row, 0, "Landesförderung")
        sheet.text(row, 1, "Summe aus 1.")
        sheet.formula(row, 6, f"={positions.subsidy}", region.subsidy, "eur")
    subsidy, subsidy_ref = a1(row, 6), sheet.ref(row, 6)
    row += 1
    sheet.text(row, 0, "Eigenanteil der Region", "label_result")
    sheet.text(row, 1, "Kosten − Landesförderung", "label_result")
    sheet.line(row, 2, 5, "blank_result")
    sheet.formula(row, 6, f"={costs}-{subsidy}", region.eigenanteil, "eur_result")
    eigenanteil = a1(row, 6)
    cells = RegionCells(kinds=kinds, costs=costs_ref,
                        subsidy=subsidy_ref, eigenanteil=sheet.ref(row, 6),
                        eigenanteil_here=eigenanteil)
    return cells, row + 2


def key_unit(region: RegionResult) -> str:
    return {KeyBasis.STUNDENANTEIL: "VZÄ", KeyBasis.HOURS: "Stunden",
            KeyBasis.EQUAL: "Teile"}[region.key_basis]


def split_note(settlement: Settlement, region: RegionResult) -> str:
    rule = ("Partnerkommunen: Eigenanteil × Schlüssel ÷ Summe der Schlüssel, auf den Cent "
            "gerundet; die Anstellungskörperschaft trägt den Rest, so dass die Anteile genau "
            "den Eigenanteil ergeben.")
    if region.wind_down:
        end = settlement.settings.contract_end
        basis = (f"Abwicklung nach dem Vertragsende{f' zum {day_text(end)}' if end else ''} "
                 f"(§ 4 Abs. 3): die Kosten werden zu gleichen Teilen auf die bisherigen "
                 f"Vertragsparteien aufgeteilt.")
    elif settlement.settings.subsidy_lapsed:
        basis = ("Die Landesförderung ist entfallen: alle Kosten werden zu gleichen Teilen auf "
                 "die Vertragsparteien der Region umgelegt (§ 2).")
    elif region.key_basis is KeyBasis.HOURS:
        basis = ("Schlüssel: die tatsächlichen Stunden, in denen das Case-Management in den "
                 "Kommunen tätig war (§ 2).")
    else:
        basis = "Schlüssel: der Stundenanteil der Vertragsparteien in VZÄ (§ 1 Nr. 4, § 2)."
        if any(s.inherited for s in region.shares):
            basis += (" Der Stundenanteil ausgeschiedener Vertragsparteien geht zu gleichen "
                      "Teilen auf die verbleibenden über (§ 4 Abs. 2).")
    return f"{basis} {rule}"


def write_split(sheet: Sheet, settlement: Settlement, region: RegionResult, cells: RegionCells,
                row: int, highlight: str | None) -> int:
    """R4–R7: each party's key, fraction and share; the employer carries the remainder."""
    sheet.text(row, 0, "4. Aufteilung des Eigenanteils auf die Vertragsparteien der Region",
               "bold")
    row += 1
    note = split_note(settlement, region)
    sheet.merged(row, 0, LAST_TRAIL_COL, note, "italic_wrap")
    sheet.fit_row(row, lines_needed(note, sum(TRAIL_WIDTHS)))
    row += 1
    inherits = any(s.inherited for s in region.shares)
    unit = key_unit(region)
    header(sheet, row, ("Vertragspartei", "Rolle",
                        "laut Vertrag" if inherits else "",
                        "übernommen" if inherits else "",
                        f"Schlüssel ({unit})", "Anteil", "Anteil am Eigenanteil"))
    first = row + 1
    last = first + len(region.shares) - 1
    total_row = last + 1
    exited_first = total_row + 1
    key_total = a1(total_row, 4)
    eigenanteil = cells.eigenanteil_here
    partners = partner_cells([first + i for i, s in enumerate(region.shares)
                              if not s.is_employer], 6)
    exited_span = span(exited_first, exited_first + len(region.exited) - 1, 2)
    for offset, share in enumerate(region.shares):
        r = first + offset
        own = share.party.name == highlight

        def style(plain: str, mine: str, own: bool = own) -> str:
            return mine if own else plain

        sheet.text(r, 0, share.party.full_name, style("text", "own_text"))
        role = share.party.role + (" (trägt den Rest)" if share.is_employer else "")
        sheet.text(r, 1, role, style("text", "own_text"))
        if inherits:
            sheet.number(r, 2, share.party.stundenanteil, style("vzae", "own_vzae"))
            sheet.formula(r, 3, f"=SUM({exited_span})/ROWS({span(first, last, 4)})",
                          share.inherited, style("vzae", "own_vzae"))
            sheet.formula(r, 4, f"={a1(r, 2)}+{a1(r, 3)}", share.key, style("key", "own_key"))
        else:
            if own:
                sheet.line(r, 2, 3, "own_text")
            sheet.number(r, 4, share.key, style("key", "own_key"))
        sheet.formula(r, 5, f"={a1(r, 4)}/{key_total}", share.fraction,
                      style("percent", "own_percent"))
        sheet.formula(r, 6, net_formula(share, eigenanteil, a1(r, 4), key_total, partners),
                      share.net, style("eur", "own_eur"))
        cells.parties[share.party.name] = PartyCells(
            key=sheet.ref(r, 4), fraction=sheet.ref(r, 5), net=sheet.ref(r, 6))
    sheet.text(total_row, 0, "Summe", "label_total")
    sheet.line(total_row, 1, 3, "blank_total")
    sheet.formula(total_row, 4, f"=SUM({span(first, last, 4)})", region.key_total, "key_total")
    sheet.blank(total_row, 5, "blank_total")
    sheet.formula(total_row, 6, f"=SUM({span(first, last, 6)})", region.eigenanteil,
                  "eur_total")
    cells.key_total = sheet.ref(total_row, 4)
    row = exited_first
    for party in region.exited:
        sheet.text(row, 0, party.full_name, "exited")
        left = f"ausgeschieden zum {day_text(party.exit_date)}" if party.exit_date else \
            "ausgeschieden"
        sheet.text(row, 1, left, "exited")
        if region.key_basis is KeyBasis.STUNDENANTEIL:
            sheet.number(row, 2, party.stundenanteil, "exited_vzae")
        row += 1
    return row + 1


def net_formula(share: Share, eigenanteil: str, key: str, key_total: str,
                partners: str | list[str]) -> str:
    """R7, the one share formula of letter, overview and plan: a partner pays
    ``ROUND(Eigenanteil × key / sum of keys, 2)`` plus its cent correction; the employer
    carries the rest, ``Eigenanteil − SUM(partners)``. ``partners`` is a range or a list of
    the partners' cells."""
    if not share.is_employer:
        correction = f"{share.cent_correction:+.2f}" if share.cent_correction else ""
        return f"=ROUND({eigenanteil}*{key}/{key_total},2){correction}"
    if not partners:
        return f"={eigenanteil}"
    if isinstance(partners, str):
        return f"={eigenanteil}-SUM({partners})"
    return f"={eigenanteil}-(" + "+".join(partners) + ")"


def partner_cells(rows: list[int], col: int) -> str | list[str]:
    """The partners' share cells for ``net_formula``: one range when the rows are adjacent."""
    if rows and rows == list(range(rows[0], rows[-1] + 1)):
        return span(rows[0], rows[-1], col)
    return [a1(r, col) for r in rows]
