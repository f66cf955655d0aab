"""Step 4 of the pipeline: the settlement workbook a partner receives, and the overview.

``Abrechnung_<J>_<Kommune>.xlsx`` has two sheets:

- ``Abrechnung`` — the one-page A4 letter from the Anstellungskörperschaft to the partner;
- ``Berechnung`` — the trail: every position, every Sachkosten line and the split of the
  whole region, so each partner can check its bill against the others' (§ 1 Nr. 6).

Every derived figure is a live formula written together with the value ``calculation.py``
computed, so viewers that never recalculate (Outlook preview, Protected View) still show the
right figure. The formulas restate the rules of SPEC § 3 cell by cell (``ROUND`` is Excel's
commercial rounding, like ours); a LibreOffice test recalculates every output and compares.
Nothing here computes a settlement figure: the cached values come from the Settlement.
Text from the input is always written with ``write_string``: a name beginning with ``=``
stays text. The overview lives in ``overview.py``.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from kim_excel.model import (
    KOSTENART_PERSONAL,
    KOSTENARTEN,
    KeyBasis,
    Party,
    RegionResult,
    Settlement,
    Share,
)
from kim_excel.money import format_eur
from kim_excel.styles import ROW_HEIGHT, Styles, add_sheet, new_workbook

LETTER = "Abrechnung"
TRAIL = "Berechnung"
SUBJECT = "Kommunales Case-Management – Abrechnung des Eigenanteils {year}"
LETTER_FOOTER = "&L&8&F&R&8Seite &P"
FOOTER = "&L&8&F – &A&R&8Seite &P von &N"

# The letter: label | explanation (B:C merged) | amount
LETTER_WIDTHS = (40, 16, 14, 17)
# The trail: name | kind or role | VZÄ / nominal | months / inherited | amount | amount | amount
TRAIL_WIDTHS = (36, 34, 12, 12, 16, 16, 16)
LAST_TRAIL_COL = len(TRAIL_WIDTHS) - 1
ADDRESS_ROW = 6  # the return line; the recipient's address below it
LETTER_ROW_HEIGHT = 13.5  # points: a little air between the lines of the letter


# ------------------------------------------------------------------ entry points


def write_partner_workbook(path: Path, settlement: Settlement, region: RegionResult,
                           share: Share) -> None:
    """``Abrechnung_<J>_<Kommune>.xlsx``: the letter to one partner and the region's trail."""
    workbook = new_workbook(path, {
        "title": f"Abrechnung des Eigenanteils {settlement.year} – {share.party.full_name}",
        "subject": SUBJECT.format(year=settlement.year) + f" – Region {region.region}",
        "author": region.employer.full_name,
        "company": region.employer.full_name,
        "comments": "Erstellt mit kim-excel",
        "created": as_datetime(region.terms.settlement_date),
    })
    styles = Styles(workbook)
    letter = Sheet(add_sheet(workbook, LETTER), styles, LETTER, LETTER_ROW_HEIGHT)
    trail = Sheet(add_sheet(workbook, TRAIL), styles, TRAIL)
    setup_trail(trail)
    basis, row = write_basis(trail, settlement, [region], 0)
    cells, _ = write_region_trail(trail, settlement, region, basis, row + 1,
                                  highlight=share.party.name)
    write_letter(letter, settlement, region, share, cells, basis)
    workbook.close()


def write_overview(path: Path, settlement: Settlement) -> None:
    """``Uebersicht_<J>.xlsx``: all regions and parties, totals, a check and a chart."""
    from kim_excel.overview import write_overview as write

    write(path, settlement)


# ------------------------------------------------------------------ cells and text


def col_name(col: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(col)


def a1(row: int, col: int, sheet: str | None = None) -> str:
    """An absolute reference, ``$G$12`` or ``Berechnung!$G$12``."""
    ref = f"${col_name(col)}${row + 1}"
    if sheet is None:
        return ref
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", sheet):
        sheet = "'" + sheet.replace("'", "''") + "'"
    return f"{sheet}!{ref}"


def span(first_row: int, last_row: int, col: int, sheet: str | None = None) -> str:
    """``$E$5:$E$9`` (a column range), optionally on another sheet."""
    start = a1(first_row, col, sheet)
    return f"{start}:{a1(last_row, col)}"


def cell_value(amount: Decimal) -> float:
    """The float written as a cell's value; ``+ 0.0`` turns ``-0.0`` into ``0.0``."""
    return float(amount) + 0.0


def as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def german_number(value: Decimal, max_places: int = 4, thousands: bool = True) -> str:
    """``0.625`` → ``0,625``; ``2.5`` → ``2,5``; ``1250`` → ``1.250``; at most 4 decimals."""
    value = value.quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP).normalize()
    text = f"{value:,f}" if thousands else f"{value:f}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def percent_text(fraction: Decimal) -> str:
    """``0.25`` → ``25,00 %``."""
    return format_eur(fraction * 100, symbol=False) + " %"


def day_text(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def dates_text(settlement: Settlement) -> str:
    """``Datum der Abrechnung 02.03.2025``, or per region when the employers' dates differ."""
    days = {r.terms.settlement_date for r in settlement.regions}
    if len(days) <= 1:
        return f"Datum der Abrechnung {day_text(settlement.latest_date)}"
    return "Datum der Abrechnung je Region: " + ", ".join(
        f"{r.region} {day_text(r.terms.settlement_date)}" for r in settlement.regions)


def iban_groups(iban: str) -> str:
    """``DE26401545300000123456`` → ``DE26 4015 4530 0000 1234 56``."""
    compact = iban.replace(" ", "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def address_lines(party: Party) -> list[str]:
    city = f"{party.postcode} {party.city}".strip()
    return [line for line in (party.full_name, party.street, city) if line]


@lru_cache(maxsize=8192)  # the same labels recur in every letter
def lines_needed(text: str, width: float, size: float = 10, bold: bool = False) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide.

    Measured on the rendered letter: one width unit (a digit of Arial 10) holds about 1.25
    average characters of German text in DejaVu Sans, LibreOffice's stand-in for Arial and
    wider than Arial itself; 1.15 leaves a margin, bold text counts 10 % wider.
    """
    per_line = max(8, int(width * 1.15 * 10 / size * (0.9 if bold else 1.0)))
    lines = 0
    for paragraph in text.split("\n"):
        lines += max(1, len(textwrap.wrap(paragraph, per_line)))
    return lines


class Sheet:
    """A worksheet with its name and the workbook's styles; every write goes through here."""

    def __init__(self, worksheet, styles: Styles, name: str,
                 row_height: float = ROW_HEIGHT) -> None:
        self.ws = worksheet
        self.styles = styles
        self.name = name
        self.row_height = row_height  # the sheet's default row height, points
        self.heights: dict[int, float] = {}
        self.page_breaks: list[int] = []
        if row_height != ROW_HEIGHT:
            worksheet.set_default_row(row_height)

    def ref(self, row: int, col: int) -> str:
        return a1(row, col, self.name)

    def text(self, row: int, col: int, value: str, style: str = "text") -> None:
        self.ws.write_string(row, col, str(value), self.styles[style])

    def blank(self, row: int, col: int, style: str) -> None:
        self.ws.write_blank(row, col, None, self.styles[style])

    def number(self, row: int, col: int, value: Decimal | int, style: str) -> None:
        self.ws.write_number(row, col, cell_value(Decimal(value)), self.styles[style])

    def formula(self, row: int, col: int, formula: str, value: Decimal, style: str) -> None:
        self.ws.write_formula(row, col, formula, self.styles[style], cell_value(value))

    def date(self, row: int, col: int, day: date, style: str) -> None:
        self.ws.write_datetime(row, col, as_datetime(day), self.styles[style])

    def merged(self, row: int, first: int, last: int, value: str, style: str) -> None:
        """Text across columns ``first..last`` (always written as text, never a formula)."""
        if first == last:
            self.text(row, first, value, style)
            return
        self.ws.merge_range(row, first, row, last, "", self.styles[style])
        self.text(row, first, value, style)

    def fit_row(self, row: int, lines: int, size: float = 10) -> None:
        """Make ``row`` tall enough for ``lines`` lines (never lower than it already is)."""
        height = max(ROW_HEIGHT * size / 10 * lines + (2 if lines > 1 else 0), self.row_height)
        if height > self.heights.get(row, self.row_height):
            self.heights[row] = height
            self.ws.set_row(row, height)

    def line(self, row: int, first: int, last: int, style: str) -> None:
        """A row of blank cells carrying a style (a rule under a section title)."""
        for col in range(first, last + 1):
            self.blank(row, col, style)


# ------------------------------------------------------------------ the trail


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


def setup_trail(sheet: Sheet) -> None:
    ws = sheet.ws
    for col, width in enumerate(TRAIL_WIDTHS):
        ws.set_column(col, col, width)
    ws.hide_gridlines(2)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.5, top=0.6, bottom=0.7)
    ws.set_footer(FOOTER)
    ws.protect()


def write_basis(sheet: Sheet, settlement: Settlement, regions: list[RegionResult],
                row: int) -> tuple[Basis, int]:
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
    vat_rate, row = write_terms(sheet, regions[0], row) if regions else (None, row)
    return Basis(rate, vat_rate), row


def write_terms(sheet: Sheet, region: RegionResult, row: int) -> tuple[str | None, int]:
    """The employer's own terms: VAT rate, date, due date; returns the VAT rate's cell."""
    terms = region.terms
    vat_rate = None
    if terms.vat_rate > 0:
        sheet.text(row, 0, "Umsatzsteuersatz")
        sheet.text(row, 1, "auf die Anteile der Partnerkommunen")
        sheet.ws.write_number(row, 6, cell_value(terms.vat_rate),
                              sheet.styles.vat_rate(terms.vat_rate))
        vat_rate = sheet.ref(row, 6)
        row += 1
    sheet.text(row, 0, "Datum der Abrechnung")
    sheet.date(row, 6, terms.settlement_date, "date")
    row += 1
    if region.partner_shares:
        sheet.text(row, 0, "Fällig am")
        sheet.text(row, 1, f"Zahlungsziel {terms.payment_days} Tage, nächster Werktag in NRW")
        sheet.date(row, 6, region.due_date, "date")
        row += 1
    return vat_rate, row


def write_region_trail(sheet: Sheet, settlement: Settlement, region: RegionResult, basis: Basis,
                       row: int, highlight: str | None = None) -> tuple[RegionCells, int]:
    """One region's trail from ``row`` on; returns its cells and the next free row."""
    sheet.text(row, 0, f"Region {region.region} – Anstellungskörperschaft "
                       f"{region.employer.full_name}", "section")
    sheet.line(row, 1, LAST_TRAIL_COL, "section")
    row += 2
    vat_rate = basis.vat_rate
    if basis.terms_per_region:
        vat_rate, row = write_terms(sheet, region, row)
        row += 1
    positions, row = write_positions(sheet, settlement, region, basis, row)
    material, row = write_material(sheet, region, row)
    cells, row = write_region_sums(sheet, settlement, region, positions, material, row)
    cells.vat_rate = vat_rate
    row = write_split(sheet, settlement, region, cells, row, highlight)
    return cells, row


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
    partner_rows = [first + i for i, s in enumerate(region.shares) if not s.is_employer]
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
        sheet.formula(r, 6, net_formula(share, r, partner_rows, eigenanteil, key_total),
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


def net_formula(share: Share, row: int, partner_rows: list[int], eigenanteil: str,
                key_total: str) -> str:
    """R7: a partner pays ``ROUND(Eigenanteil × key / sum of keys, 2)``; the employer the rest."""
    if not share.is_employer:
        correction = f"{share.cent_correction:+.2f}" if share.cent_correction else ""
        return f"=ROUND({eigenanteil}*{a1(row, 4)}/{key_total},2){correction}"
    if not partner_rows:
        return f"={eigenanteil}"
    if partner_rows == list(range(partner_rows[0], partner_rows[-1] + 1)):
        return f"={eigenanteil}-SUM({span(partner_rows[0], partner_rows[-1], 6)})"
    return f"={eigenanteil}-(" + "+".join(a1(r, 6) for r in partner_rows) + ")"


# ------------------------------------------------------------------ the letter


def key_label(region: RegionResult) -> str:
    return {KeyBasis.STUNDENANTEIL: "Ihr Anteil nach dem Stundenanteil",
            KeyBasis.HOURS: "Ihr Anteil nach den tatsächlichen Stunden",
            KeyBasis.EQUAL: "Ihr Anteil zu gleichen Teilen"}[region.key_basis]


def key_text(region: RegionResult, share: Share) -> str:
    """``0,625 von 2,5 VZÄ = 25,00 %``, ``1.250 von 5.000 Stunden = 25,00 %``, ``1 von 4 …``."""
    share_text = f"{german_number(share.key)} von {german_number(region.key_total)}"
    pct = percent_text(share.fraction)
    if region.key_basis is KeyBasis.STUNDENANTEIL:
        return f"{share_text} VZÄ = {pct}"
    if region.key_basis is KeyBasis.HOURS:
        return f"{share_text} Stunden = {pct}"
    return f"{share_text} Vertragsparteien = {pct}"


def personnel_text(region: RegionResult) -> str:
    count = len(region.positions)
    if not count:
        return "keine Stellen"
    noun = "Stelle" if count == 1 else "Stellen"
    return f"{count} {noun}, zusammen {german_number(region.vzae)} VZÄ"


def subsidy_text(settlement: Settlement, region: RegionResult) -> str:
    if settlement.settings.subsidy_lapsed:
        return "entfallen (§ 2)"
    if region.subsidy_received is not None:
        return f"laut Förderbescheid (rechnerisch {format_eur(region.subsidy_computed)})"
    months = sorted({p.position.months for p in region.positions})
    if not months:
        return ""
    rate = format_eur(settlement.subsidy_rate)
    capped = any(p.subsidy < p.subsidy_uncapped for p in region.positions)
    if months == [Decimal(12)]:
        text = f"{german_number(region.vzae)} VZÄ × {rate} je Jahr"
    else:
        period = f"für {german_number(months[0])} Monate" if len(months) == 1 else \
            f"nach besetzten Monaten ({german_number(months[0])} bis {german_number(months[-1])})"
        text = f"{rate} je VZÄ und Jahr, anteilig {period}"
    return text + ("; höchstens die Personalkosten je Stelle" if capped else "")


def body_text(settlement: Settlement, region: RegionResult, share: Share) -> str:
    covered = "" if settlement.settings.subsidy_lapsed else \
        ", soweit die Landesförderung sie nicht deckt (Eigenanteil),"
    text = (f"nach § 2 der Kooperationsvereinbarung über das Kommunale Case-Management rechnen "
            f"wir als Anstellungskörperschaft der Region {region.region} die Kosten des Jahres "
            f"{settlement.year}{covered} mit Ihnen wie folgt ab.")
    if region.wind_down:
        end = settlement.settings.contract_end
        text += (f" Die Kooperationsvereinbarung ist im gegenseitigen Einvernehmen"
                 f"{f' zum {day_text(end)}' if end else ''} beendet worden; nach § 4 Abs. 3 "
                 f"werden die Personal- und Sachkosten bis zum Ende der Arbeitsverhältnisse, "
                 f"längstens 12 Monate, zu gleichen Teilen auf die bisherigen Vertragsparteien "
                 f"aufgeteilt.")
    elif settlement.settings.subsidy_lapsed:
        text += (" Da die Landesförderung entfallen ist, tragen die Vertragsparteien der Region "
                 "sämtliche Kosten zu gleichen Teilen (§ 2).")
    elif region.key_basis is KeyBasis.HOURS:
        text += (" Aufgeteilt wird nach den tatsächlichen Stunden, in denen das "
                 "Case-Management in den Kommunen tätig war (§ 2).")
    if share.inherited and region.exited:
        names = " und ".join(p.full_name for p in region.exited)
        if len(region.exited) == 1:
            text += (f" Der Stundenanteil der ausgeschiedenen Vertragspartei {names} ist zu "
                     f"gleichen Teilen auf die verbleibenden übergegangen (§ 4 Abs. 2).")
        else:
            text += (f" Die Stundenanteile der ausgeschiedenen Vertragsparteien {names} sind zu "
                     f"gleichen Teilen auf die verbleibenden übergegangen (§ 4 Abs. 2).")
    return text


def payment_reference(settlement: Settlement, share: Share) -> str:
    """The one Verwendungszweck (references.py), the same as in the e-mail."""
    from kim_excel import references

    number = references.invoice_number(settlement.year, share.party.name)
    return references.payment_reference(settlement.year, number, share.party.kassenzeichen)


class Letter:
    """Writes the letter top to bottom; ``row`` is the next free row."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.row = 0
        self.width = sum(LETTER_WIDTHS)

    def paragraph(self, text: str, style: str = "wrap", size: float = 10) -> None:
        self.sheet.merged(self.row, 0, 3, text, style)
        self.sheet.fit_row(self.row, lines_needed(text, self.width, size), size)
        self.row += 1

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    def amount(self, label: str, detail: str, formula: str | None, value: Decimal | None,
               kind: str = "plain") -> int:
        """One line of the table; ``formula`` None writes ``value`` as a plain number."""
        s = self.sheet
        label_style, detail_style, eur_style = {
            "plain": ("cell_wrap", "cell_wrap", "eur"),
            "bold": ("bold_wrap", "cell_wrap", "eur_bold"),
            "total": ("label_total", "label_total", "eur_total"),
            "result": ("label_result", "label_result", "eur_result"),
        }[kind]
        row = self.row
        s.text(row, 0, label, label_style)
        s.merged(row, 1, 2, detail, detail_style)
        if formula is not None:
            s.formula(row, 3, formula, value, eur_style)
        elif value is not None:
            s.number(row, 3, value, eur_style)
        else:
            s.blank(row, 3, eur_style)
        bold = kind != "plain"
        s.fit_row(row, max(lines_needed(label, LETTER_WIDTHS[0], bold=bold),
                           lines_needed(detail, LETTER_WIDTHS[1] + LETTER_WIDTHS[2])))
        self.row += 1
        return row


def setup_letter(ws, last_row: int) -> None:
    for col, width in enumerate(LETTER_WIDTHS):
        ws.set_column(col, col, width)
    ws.hide_gridlines(2)
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 1)  # one page, always: a longer text shrinks instead of spilling over
    ws.set_margins(left=0.9, right=0.55, top=0.6, bottom=0.75)
    ws.set_footer(LETTER_FOOTER)
    ws.print_area(0, 0, last_row, len(LETTER_WIDTHS) - 1)
    ws.protect()


def write_letter(sheet: Sheet, settlement: Settlement, region: RegionResult, share: Share,
                 cells: RegionCells, basis: Basis) -> None:
    s = region.terms
    employer, partner = region.employer, share.party
    letter = Letter(sheet)

    # Letter head: sender and information block, then return line and recipient where the
    # window of a DIN-lang envelope is (45 mm from the top edge: 15 mm margin, the sender's
    # 18 pt row and five rows of 13.5 pt).
    sheet.text(0, 0, employer.full_name, "sender")
    sheet.fit_row(0, 1, 14)
    sheet.text(1, 0, f"Kommunales Case-Management – Region {region.region}", "sender_line")
    sheet.text(ADDRESS_ROW, 0, " · ".join(address_lines(employer)), "return_line")
    for offset, line in enumerate(address_lines(partner)):
        sheet.text(ADDRESS_ROW + 1 + offset, 0, line)
    info: list[tuple[str, str | date]] = [
        ("Ansprechpartner", employer.contact), ("Telefon", employer.phone),
        ("E-Mail", employer.email), ("Aktenzeichen", s.aktenzeichen),
        ("Kassenzeichen", partner.kassenzeichen), ("Datum", s.settlement_date),
    ]
    row = 0
    for label, value in info:
        if not value:
            continue
        sheet.text(row, 1, label, "info_label")
        if isinstance(value, date):
            sheet.ws.merge_range(row, 2, row, 3, "", sheet.styles["info_date"])
            sheet.date(row, 2, value, "info_date")
        else:
            sheet.merged(row, 2, 3, value, "info_value")
            sheet.fit_row(row, lines_needed(value, LETTER_WIDTHS[2] + LETTER_WIDTHS[3], 9), 9)
        row += 1
    letter.row = max(row, ADDRESS_ROW + 1 + len(address_lines(partner))) + 2

    subject = SUBJECT.format(year=settlement.year)
    if region.wind_down:
        subject += " (Abwicklung)"
    sheet.text(letter.row, 0, subject, "subject")
    sheet.fit_row(letter.row, 1, 11)
    letter.skip(2)
    sheet.text(letter.row, 0, "Sehr geehrte Damen und Herren,")
    letter.skip(2)
    letter.paragraph(body_text(settlement, region, share))
    letter.skip()

    # The table: region's costs → Eigenanteil → this partner's share → balance.
    head = letter.row
    sheet.text(head, 0, f"Region {region.region}, Jahr {settlement.year}", "th")
    sheet.merged(head, 1, 2, "Erläuterung", "th")
    sheet.text(head, 3, "Betrag", "th_right")
    letter.skip()
    by_kind = region.material_by_kind()
    first = letter.amount(KOSTENART_PERSONAL, personnel_text(region),
                          f"={cells.kinds[KOSTENART_PERSONAL]}", region.personnel_costs)
    for kind in KOSTENARTEN:
        letter.amount(kind, "", f"={cells.kinds[kind]}", by_kind[kind])
    total = letter.amount("Kosten der Region insgesamt", "",
                          f"=SUM({span(first, letter.row - 1, 3)})", region.costs, "total")
    subsidy = letter.amount("abzüglich Landesförderung", subsidy_text(settlement, region),
                            f"=-{cells.subsidy}", -region.subsidy)
    letter.amount("Eigenanteil der Region", "", f"={a1(total, 3)}+{a1(subsidy, 3)}",
                  region.eigenanteil, "total")
    letter.skip()
    letter.amount(key_label(region), key_text(region, share), None, None)
    own = cells.parties[partner.name]
    net = letter.amount(f"Anteil der {partner.full_name}", "auf den Cent gerundet",
                        f"={own.net}", share.net, "bold")
    billed = net
    if s.vat_rate > 0 and cells.vat_rate is not None:
        vat = letter.amount(f"zuzüglich Umsatzsteuer {german_number(s.vat_rate * 100)} %", "",
                            f"=ROUND({a1(net, 3)}*{cells.vat_rate},2)", share.vat)
        billed = letter.amount("Bruttobetrag", "", f"={a1(net, 3)}+{a1(vat, 3)}", share.gross,
                               "total")
    advances = letter.amount("abzüglich geleistete Abschläge",
                             "bereits gezahlt" if share.advances else "keine",
                             None, -share.advances)
    balance = f"{a1(billed, 3)}+{a1(advances, 3)}"
    if share.balance < 0:
        letter.amount("Erstattungsbetrag (zu viel gezahlt)", "wird Ihnen erstattet",
                      f"=-({balance})", -share.balance, "result")
    else:
        letter.amount("Zu zahlender Betrag", "", f"={balance}", share.balance, "result")
    letter.skip()
    write_payment(letter, settlement, region, share)

    if s.vat_note:
        letter.paragraph(s.vat_note, "small", 9)
        letter.skip()
    letter.paragraph("Jede Stelle, alle Sachkosten und die Aufteilung auf alle Vertragsparteien "
                     "der Region: Blatt „Berechnung“ dieser Arbeitsmappe.", "small", 9)
    letter.skip()
    sheet.text(letter.row, 0, "Mit freundlichen Grüßen")
    letter.skip()
    sheet.text(letter.row, 0, "Im Auftrag")
    letter.skip(2)  # room for the signature; the longer Verwendungszweck takes a line
    signer = employer.contact or employer.full_name
    sheet.text(letter.row, 0, signer, "signature_line")
    setup_letter(sheet.ws, letter.row)


def write_payment(letter: Letter, settlement: Settlement, region: RegionResult,
                  share: Share) -> None:
    sheet = letter.sheet
    employer = region.employer
    reference = payment_reference(settlement, share)

    def pair(label: str, value: str | date, style: str = "text") -> None:
        sheet.text(letter.row, 0, label, "bold" if style != "text" else "text")
        if isinstance(value, date):
            sheet.date(letter.row, 1, value, "date_bold")
        else:
            sheet.merged(letter.row, 1, 3, value, "bold_wrap" if style != "text" else "wrap")
            sheet.fit_row(letter.row, lines_needed(value, sum(LETTER_WIDTHS[1:])))
        letter.skip()

    if share.balance > 0:
        letter.paragraph("Bitte überweisen Sie den Betrag bis zum Fälligkeitstag auf folgendes "
                         "Konto:")
        if share.due_date:
            pair("Fällig am", share.due_date, "bold")
        pair("Empfänger", employer.full_name)
        if employer.iban:
            pair("IBAN", iban_groups(employer.iban))
        if employer.bic:
            pair("BIC", employer.bic)
        if employer.bank:
            pair("Kreditinstitut", employer.bank)
        pair("Verwendungszweck", reference)
    elif share.balance < 0:
        letter.paragraph("Ihre Abschläge übersteigen Ihren Anteil. Den Erstattungsbetrag "
                         "überweisen wir Ihnen bis zum genannten Tag auf Ihr uns bekanntes "
                         "Konto.")
        if share.due_date:
            pair("Erstattung bis zum", share.due_date, "bold")
        if share.party.iban:
            pair("Ihr Konto (IBAN)", iban_groups(share.party.iban))
        pair("Verwendungszweck", reference)
    else:
        letter.paragraph("Ihr Anteil ist durch die geleisteten Abschläge vollständig "
                         "beglichen; es ist nichts zu zahlen.")
