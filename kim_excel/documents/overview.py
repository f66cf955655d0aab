"""``Uebersicht_<J>.xlsx``: all regions and parties for the employers and the Kreis.

Sheets: ``Übersicht`` (one table: per party its key, share, VAT, advances, balance and due
date; per region the costs, subsidy, Eigenanteil and totals; a check column that shows the
shares add up to the Eigenanteil), ``Diagramm`` (per region the subsidy against the
Eigenanteil, the Eigenanteil stacked by party) and ``Berechnung`` (the trail of every region,
the same as in the partners' workbooks). Figures are formulas into ``Berechnung`` with the
values of the Settlement cached, as in ``workbooks.py``. The trail and the sheet toolkit
come from ``xlsx/``.
"""

from __future__ import annotations

from pathlib import Path

from kim_excel.core.model import RegionResult, Settlement
from kim_excel.documents.einvoices import einvoice_status, has_einvoice
from kim_excel.documents.xlsx.letter import SUBJECT
from kim_excel.documents.xlsx.sheet import Sheet, a1, as_datetime, lines_needed, setup_page, span
from kim_excel.documents.xlsx.styles import Styles, add_sheet, new_workbook
from kim_excel.documents.xlsx.trail import (
    TRAIL,
    RegionCells,
    dates_text,
    key_unit,
    setup_trail,
    write_basis,
    write_region_trail,
)
from kim_excel.ledger.book import Kind, Ledger, bill_state

OVERVIEW = "Übersicht"
BILLS = "Rechnungen"
CHART = "Diagramm"
SUBSIDY_COLOUR = "#BFBFBF"
CHART_ROWS = 30  # rows of 17 px the chart covers (CHART_PX: 470 px), plus a margin
PARTY_COLOURS = ("#1F4E79", "#2E75B6", "#9DC3E6", "#C55A11", "#F4B183", "#548235", "#A9D18E",
                 "#7030A0", "#BF9000", "#FFD966", "#843C0C", "#00B0F0")


def write_overview(path: Path, settlement: Settlement, ledger: Ledger | None = None) -> None:
    """``ledger``: the year folder's, for the sheet ``Rechnungen`` (every bill and its state)."""
    employers = list(dict.fromkeys(r.employer.full_name for r in settlement.regions))
    workbook = new_workbook(path, {
        "title": f"Übersicht der Abrechnung des Eigenanteils {settlement.year}",
        "subject": SUBJECT.format(year=settlement.year) + " – alle Regionen",
        "author": ", ".join(employers) or "kim-excel",
        "comments": "Erstellt mit kim-excel",
        "created": as_datetime(settlement.latest_date),
    })
    styles = Styles(workbook)
    table = Sheet(add_sheet(workbook, OVERVIEW), styles, OVERVIEW)
    bills = Sheet(add_sheet(workbook, BILLS), styles, BILLS) if ledger is not None else None
    chart = Sheet(add_sheet(workbook, CHART), styles, CHART)
    trail = Sheet(add_sheet(workbook, TRAIL), styles, TRAIL)

    setup_trail(trail)
    basis, row = write_basis(trail, settlement, list(settlement.regions), 0)
    cells: list[RegionCells] = []
    for region in settlement.regions:
        if cells:
            trail.page_breaks.append(row)  # each region on its own pages
        region_cells, row = write_region_trail(trail, settlement, region, basis, row + 1)
        cells.append(region_cells)
    trail.ws.set_h_pagebreaks(trail.page_breaks)
    write_table(table, settlement, cells)
    if bills is not None:
        write_bills(bills, ledger)
    write_chart(workbook, chart, settlement, cells)
    workbook.close()


BILL_COLUMNS = (("Region", 10), ("Partnerkommune", 24), ("Art", 12), ("Rechnungsnummer", 22),
                ("berichtigt", 20), ("Datum", 11), ("Betrag (+ zahlt, − erhält)", 15),
                ("Fällig am", 11), ("Stand", 34), ("Datei", 34))


def write_bills(sheet: Sheet, ledger: Ledger) -> None:
    """Every bill of the folder, settlements and corrections, with its state (SPEC § 7)."""
    ws = sheet.ws
    setup_page(ws, landscape=True, margins=(0.5, 0.5, 0.6, 0.7),
               widths=tuple(width for _, width in BILL_COLUMNS))
    sheet.text(0, 0, f"Rechnungen und Korrekturen {ledger.year} – Stand jeder Rechnung",
               "title")
    sheet.fit_row(0, 1, 13)
    head = 2
    for col, (title, _) in enumerate(BILL_COLUMNS):
        sheet.text(head, col, title, "th_right" if col in (6,) else "th")
    sheet.fit_row(head, max(lines_needed(t, w, bold=True) for t, w in BILL_COLUMNS))
    ws.freeze_panes(head + 1, 0)
    ws.repeat_rows(head)
    row = head + 1
    for region, version, bill in ledger.bills():
        state = bill_state(version, bill)
        values = (region.name, region.full_name(bill.partner),
                  "Abrechnung" if bill.kind is Kind.LETTER else "Korrektur", bill.number,
                  bill.corrects)
        for col, value in enumerate(values):
            sheet.text(row, col, value, "cell_wrap")
        sheet.date(row, 5, bill.day, "date")
        sheet.number(row, 6, bill.amount, "eur")
        if bill.due:
            sheet.date(row, 7, bill.due, "date")
        sheet.text(row, 8, state, "cell_wrap")
        sheet.text(row, 9, bill.file, "cell_wrap")
        sheet.fit_row(row, max(lines_needed(state, BILL_COLUMNS[8][1]),
                               lines_needed(bill.file, BILL_COLUMNS[9][1]),
                               lines_needed(values[1], BILL_COLUMNS[1][1])))
        row += 1
    ws.print_area(0, 0, max(row - 1, head), len(BILL_COLUMNS) - 1)




def columns(with_vat: bool, references: tuple[str, ...] = (),
            einvoices: bool = False) -> list[tuple[str, str, int]]:
    """(key, header, width) of the overview table, in order."""
    cols = [
        ("region", "Region", 10), ("party", "Vertragspartei", 24), ("role", "Rolle", 22),
        ("costs", "Kosten der Region", 15), ("subsidy", "Landes­förderung", 15),
        ("eigenanteil", "Eigenanteil der Region", 15), ("key", "Schlüssel", 10),
        ("unit", "Einheit", 8), ("fraction", "Anteil", 9),
        ("net", "Anteil am Eigenanteil", 15),
    ]
    if with_vat:
        cols += [("vat", "Umsatzsteuer", 13), ("gross", "Brutto", 15)]
    cols += [("advances", "Abschläge", 13), ("balance", "Saldo (+ zahlt, − erhält)", 15),
             ("due", "Fällig am", 11)]
    cols += [(key, REFERENCES[key], 16) for key in references]
    if einvoices:  # SPEC § 8: who got an XRechnung, and why the others did not
        cols += [("einvoice", "E-Rechnung", EINVOICE_WIDTH)]
    cols += [("check", "Prüfung (muss 0,00 € sein)", 14)]
    return cols


EINVOICE_WIDTH = 24

REFERENCES = {"kassenzeichen": "Kassenzeichen", "aktenzeichen": "Aktenzeichen",
              "buchungsstelle": "Buchungsstelle"}


def reference_values(region: RegionResult, share) -> dict[str, str]:
    """What a booker needs beside a partner's bill: its Kassenzeichen, the employer's
    Aktenzeichen and Buchungsstelle."""
    return {"kassenzeichen": share.party.kassenzeichen,
            "aktenzeichen": region.terms.aktenzeichen,
            "buchungsstelle": region.terms.buchungsstelle}


def used_references(settlement: Settlement) -> tuple[str, ...]:
    """The reference columns that hold anything in this run."""
    used = set()
    for region in settlement.regions:
        for share in region.partner_shares:
            used.update(k for k, v in reference_values(region, share).items() if v)
    return tuple(k for k in REFERENCES if k in used)


def skipped_text(settlement: Settlement) -> str:
    """``Nicht abgerechnet (keine Kosten angegeben): Region Mitte.``, or empty."""
    names = settlement.skipped_regions
    if not names:
        return ""
    noun = "Region" if len(names) == 1 else "Regionen"
    return (f"Nicht abgerechnet, weil keine Kosten angegeben sind: {noun} "
            + ", ".join(names) + ".")


def write_table(sheet: Sheet, settlement: Settlement, cells: list[RegionCells],
                ) -> None:
    ws = sheet.ws
    references = used_references(settlement)
    cols = columns(any(c.vat_rate is not None for c in cells), references,
                   any(has_einvoice(s) for r in settlement.regions for s in r.shares))
    at = {key: index for index, (key, _, _) in enumerate(cols)}
    last_col = len(cols) - 1
    setup_page(ws, landscape=True, margins=(0.5, 0.5, 0.6, 0.7),
               widths=tuple(width for _, _, width in cols))

    sheet.text(0, 0, f"Übersicht der Abrechnung des Eigenanteils {settlement.year} – "
                     f"Kommunales Case-Management", "title")
    sheet.fit_row(0, 1, 13)
    sheet.text(1, 0, f"{dates_text(settlement)}; "
                     f"alle Beträge aus dem Blatt „Berechnung“. Die Anstellungskörperschaft "
                     f"trägt ihren Anteil selbst und erhält keine Rechnung. Prüfung: Summe der "
                     f"Anteile − Eigenanteil der Region.", "sender_line")
    skipped = skipped_text(settlement)
    if skipped:
        sheet.text(2, 0, skipped, "bold")
    head = 3
    for index, (key, title, _) in enumerate(cols):
        sheet.text(head, index, title, "th" if key in ("region", "party", "role") else "th_right")
    sheet.fit_row(head, max(lines_needed(t, w, bold=True) for _, t, w in cols))
    ws.freeze_panes(head + 1, 2)
    ws.repeat_rows(head)

    def col(key: str) -> int:
        return at[key]

    row = head + 1
    sum_rows: list[int] = []
    for region, region_cells in zip(settlement.regions, cells, strict=True):
        row, sum_row = write_region_rows(sheet, settlement, region, region_cells,
                                         row, col, set(at))
        sum_rows.append(sum_row)
        row += 1

    # All regions.
    sheet.blank(row, 0, "blank_result")
    sheet.text(row, 1, "Alle Regionen", "label_result")
    sheet.line(row, 2, last_col - 1, "blank_result")

    def grand(key: str, value) -> None:
        formula = "=" + "+".join(a1(r, col(key)) for r in sum_rows) if sum_rows else "=0"
        sheet.formula(row, col(key), formula, value, "eur_result")

    grand("costs", settlement.total("costs"))
    grand("subsidy", settlement.total("subsidy"))
    grand("eigenanteil", settlement.total("eigenanteil"))
    grand("net", settlement.total("eigenanteil"))
    for key in ("vat", "gross", "advances", "balance"):
        if key in at:
            grand(key, settlement.partner_total(key))
    check_cell(sheet, row, col)
    ws.conditional_format(head + 1, col("check"), row, col("check"), {
        "type": "cell", "criteria": "!=", "value": 0, "format": sheet.styles["check_bad"]})
    ws.print_area(0, 0, row, last_col)


def write_region_rows(sheet: Sheet, settlement: Settlement, region: RegionResult,
                      cells: RegionCells, row: int, col, keys: set[str]):
    """The parties of one region and its sum row; returns (next row, sum row)."""
    with_vat = "vat" in keys
    first = row
    for share in region.shares:
        own = cells.parties[share.party.name]
        sheet.text(row, col("region"), region.region)
        sheet.text(row, col("party"), share.party.full_name)
        sheet.text(row, col("role"), share.party.role)
        sheet.formula(row, col("key"), f"={own.key}", share.key, "key")
        sheet.text(row, col("unit"), key_unit(region))
        sheet.formula(row, col("fraction"), f"={own.fraction}", share.fraction, "percent")
        net = a1(row, col("net"))
        sheet.formula(row, col("net"), f"={own.net}", share.net, "eur")
        if share.is_employer:
            row += 1
            continue
        billed = net
        if with_vat and cells.vat_rate is not None:
            vat = a1(row, col("vat"))
            sheet.formula(row, col("vat"), f"=ROUND({net}*{cells.vat_rate},2)", share.vat, "eur")
            sheet.formula(row, col("gross"), f"={net}+{vat}", share.gross, "eur")
            billed = a1(row, col("gross"))
        sheet.number(row, col("advances"), share.advances, "eur")
        sheet.formula(row, col("balance"), f"={billed}-{a1(row, col('advances'))}",
                      share.balance, "eur")
        if share.due_date:
            sheet.date(row, col("due"), share.due_date, "date")
        for key, value in reference_values(region, share).items():
            if key in keys and value:
                sheet.text(row, col(key), value)
        if "einvoice" in keys:
            status = einvoice_status(share)
            sheet.text(row, col("einvoice"), status, "cell_wrap")
            sheet.fit_row(row, lines_needed(status, EINVOICE_WIDTH))
        row += 1
    last = row - 1

    sheet.text(row, col("region"), region.region, "label_total")
    sheet.text(row, col("party"), f"Summe Region {region.region}", "label_total")
    sheet.blank(row, col("role"), "blank_total")
    sheet.formula(row, col("costs"), f"={cells.costs}", region.costs, "eur_total")
    sheet.formula(row, col("subsidy"), f"={cells.subsidy}", region.subsidy, "eur_total")
    sheet.formula(row, col("eigenanteil"), f"={cells.eigenanteil}", region.eigenanteil,
                  "eur_total")
    sheet.formula(row, col("key"), f"=SUM({span(first, last, col('key'))})", region.key_total,
                  "key_total")
    sheet.text(row, col("unit"), key_unit(region), "label_total")
    sheet.blank(row, col("fraction"), "blank_total")
    sheet.formula(row, col("net"), f"=SUM({span(first, last, col('net'))})",
                  region.eigenanteil, "eur_total")
    for key in ("vat", "gross", "advances", "balance"):
        if key == "vat" and not with_vat or key == "gross" and not with_vat:
            continue
        sheet.formula(row, col(key), f"=SUM({span(first, last, col(key))})",
                      region.partner_total(key), "eur_total")
    sheet.blank(row, col("due"), "blank_total")
    for key in (*REFERENCES, "einvoice"):
        if key in keys:
            sheet.blank(row, col(key), "blank_total")
    check_cell(sheet, row, col)
    return row + 1, row


def check_cell(sheet: Sheet, row: int, col) -> None:
    """Shares add up to the Eigenanteil: Σ shares − Eigenanteil is exactly 0,00 €."""
    formula = f"=ROUND({a1(row, col('net'))}-{a1(row, col('eigenanteil'))},2)"
    sheet.formula(row, col("check"), formula, 0, "check_ok")


MAX_PARTY_SERIES = 40
CHART_PX = (1000, 470)  # the chart's size in pixels, anchored at A1
CHART_WIDTHS = (12, 16, 15)  # region | label | every further column


def column_px(width: float) -> int:
    """xlsxwriter's pixel width of a column ``width`` characters of Arial 10 wide."""
    return int(width * 7 + 0.5) + 5


def chart_last_col() -> int:
    """The last column the chart reaches into."""
    covered = column_px(CHART_WIDTHS[0]) + column_px(CHART_WIDTHS[1])
    col = 1
    while covered < CHART_PX[0]:
        col += 1
        covered += column_px(CHART_WIDTHS[2])
    return col


def write_chart(workbook, sheet: Sheet, settlement: Settlement, cells: list[RegionCells]) -> None:
    """Per region two columns: the subsidy, and the Eigenanteil stacked by party."""
    ws = sheet.ws
    setup_page(ws, landscape=True, fit=(1, 1))
    # One stacked series per party, while a legend can still name them all; a state- or
    # country-wide run (Excel allows 255 series) shows each region's Eigenanteil as one.
    parties = [(region, share) for region in settlement.regions for share in region.shares]
    by_party = len(parties) <= MAX_PARTY_SERIES
    columns = [share.party.full_name for _, share in parties] if by_party else ["Eigenanteil"]
    # The print area covers the data and the whole chart (title and legend included), also
    # when a run with one region has fewer data columns than the chart is wide.
    last_col = max(2 + len(columns), chart_last_col())
    ws.set_column(0, 0, CHART_WIDTHS[0])
    ws.set_column(1, 1, CHART_WIDTHS[1])
    ws.set_column(2, last_col, CHART_WIDTHS[2])
    top = CHART_ROWS  # the chart stands above its data
    sheet.text(top - 2, 0, "Werte des Diagramms (aus dem Blatt „Berechnung“)", "bold")
    sheet.text(top, 0, "Region", "th")
    sheet.text(top, 1, "", "th")
    sheet.text(top, 2, "Landesförderung", "th_right")
    for index, name in enumerate(columns):
        sheet.text(top, 3 + index, name, "th_right")
    sheet.fit_row(top, 2)
    row = top + 1
    for region, region_cells in zip(settlement.regions, cells, strict=True):
        sheet.text(row, 0, region.region)
        sheet.text(row, 1, "Landesförderung")
        sheet.formula(row, 2, f"={region_cells.subsidy}", region.subsidy, "eur")
        sheet.text(row + 1, 1, "Eigenanteil")
        if not by_party:
            sheet.formula(row + 1, 3, f"={region_cells.eigenanteil}", region.eigenanteil, "eur")
        for index, (owner, share) in enumerate(parties if by_party else ()):
            if owner is region:
                sheet.formula(row + 1, 3 + index,
                              f"={region_cells.parties[share.party.name].net}", share.net, "eur")
        row += 2
    last = row - 1
    ws.print_area(0, 0, max(last, top), last_col)
    if last <= top:
        return

    chart = workbook.add_chart({"type": "column", "subtype": "stacked"})
    # Two-level categories (region; Landesförderung / Eigenanteil). xlsxwriter caches only
    # one-column ranges itself, so the cache is given: outer level first, None = no label.
    categories = f"={a1(top + 1, 0, CHART)}:{a1(last, 1)}"
    levels = [[label for r in settlement.regions for label in (r.region, None)],
              [label for _ in settlement.regions for label in ("Landesförderung",
                                                                "Eigenanteil")]]
    chart.add_series({"name": f"={a1(top, 2, CHART)}", "categories": categories,
                      "categories_data": levels,
                      "values": f"={a1(top + 1, 2, CHART)}:{a1(last, 2)}",
                      "fill": {"color": SUBSIDY_COLOUR}, "gap": 50})
    for index in range(len(columns)):
        column = 3 + index
        chart.add_series({
            "name": f"={a1(top, column, CHART)}", "categories": categories,
            "categories_data": levels,
            "values": f"={a1(top + 1, column, CHART)}:{a1(last, column)}",
            "fill": {"color": PARTY_COLOURS[index % len(PARTY_COLOURS)]},
        })
    chart.set_title({"name": f"Landesförderung und Eigenanteil je Region {settlement.year} "
                             + ("(Eigenanteil nach Vertragsparteien)" if by_party else ""),
                     "name_font": {"size": 12, "bold": True}})
    chart.set_y_axis({"num_format": '#,##0 "€"', "major_gridlines": {
        "visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "right"})
    chart.set_size({"width": CHART_PX[0], "height": CHART_PX[1]})
    ws.insert_chart(0, 0, chart)
