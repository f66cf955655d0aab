"""Budget figures for a coming year: ``kim-excel planen`` → ``<ausgabe>/<J>/Planung_<J>.xlsx``.

A plan workbook is the ordinary input form filled in with planned costs for year J. It is
settled by the very same ``settle`` as a real year; this module only arranges the result
the way a council paper needs it (the Coesfeld paper in ``sources/001_…``):

- an Anstellungskörperschaft: Gesamtkosten (Personalaufwendungen, Aufwendungen für Sach- und
  Dienstleistungen), Kostenerstattungen (the Landesförderung), Leistungsentgelte (what its
  partners pay, net), Summe der Erträge, its own Eigenanteil and Überschuss/Defizit;
- a Partnerkommune: its expected payment;

and compares with the last settled year where ``<ausgabe>/<Y>/Buchungsliste_<Y>.csv`` exists
(Y < J, the newest). The workbook says on every sheet and printed page that these are
Planzahlen, not a settlement.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from kim_excel.booking import read_booking
from kim_excel.model import EMPLOYER, Notice, RegionResult, Settlement, Severity, Share
from kim_excel.money import ZERO, format_decimal, format_eur

PLAN_BANNER = ("PLANZAHLEN – keine Abrechnung. Die verbindlichen Beträge ergeben sich erst aus "
               "der Jahresabrechnung nach § 2 der Kooperationsvereinbarung.")


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class EmployerFigures:
    """The council paper's figures for an Anstellungskörperschaft (all in EUR)."""

    region: RegionResult

    @property
    def personnel(self) -> Decimal:  # Personalaufwendungen
        return self.region.personnel_costs

    @property
    def material(self) -> Decimal:  # Aufwendungen für Sach- und Dienstleistungen
        return self.region.material_costs_total

    @property
    def costs(self) -> Decimal:  # Gesamtkosten = Summe der Aufwendungen
        return self.region.costs

    @property
    def subsidy(self) -> Decimal:  # Kostenerstattungen (Zuschüsse)
        return self.region.subsidy

    @property
    def fees(self) -> Decimal:  # Leistungsentgelte: the partners' shares, net of VAT
        return sum((s.net for s in self.region.partner_shares), ZERO)

    @property
    def income(self) -> Decimal:  # Summe der Erträge
        return self.subsidy + self.fees

    @property
    def eigenanteil(self) -> Decimal:  # the employer's own share
        return self.region.employer_share.net

    @property
    def result(self) -> Decimal:  # Überschuss (+) / Defizit (−) = −eigenanteil
        return self.income - self.costs


@dataclass(frozen=True)
class PreviousYear:
    """What ``Buchungsliste_<Y>.csv`` of the last settled year says."""

    year: int
    file: Path
    net: dict[str, Decimal]  # Kommune → Betrag_netto_EUR (for an employer: its own share)
    fees: dict[str, Decimal]  # Anstellungskörperschaft → its partners' net shares
    eigenanteil: dict[str, Decimal]  # region → Eigenanteil_Region_EUR


@dataclass(frozen=True)
class Plan:
    settlement: Settlement
    previous: PreviousYear | None = None
    sources: tuple[str, ...] = ()  # the input files, named on every sheet

    @property
    def year(self) -> int:
        return self.settlement.year

    def employers(self) -> list[EmployerFigures]:
        return [EmployerFigures(r) for r in self.settlement.regions]

    def previous_net(self, name: str) -> Decimal | None:
        return self.previous.net.get(name) if self.previous else None


@dataclass
class PlanResult:
    plan: Plan
    notices: list[Notice]
    path: Path
    files: list[Path] = field(default_factory=list)


def run_planning(eingang: Path, ausgabe: Path, today: date) -> PlanResult:
    """read → validate → calculate (the settlement's own steps) → write the plan workbook."""
    from kim_excel.output import output_lock, recover, write_atomically
    from kim_excel.pipeline import load_settlement
    from kim_excel.plausibility import YearNotOver
    from kim_excel.reading import find_workbooks

    settlement, notices = load_settlement(eingang, today)
    notices = [n for n in notices if not isinstance(n, YearNotOver)]  # a plan looks ahead
    sources = tuple(p.name for p in find_workbooks(eingang))
    folder = ausgabe / str(settlement.year)
    path = folder / f"Planung_{settlement.year}.xlsx"
    with output_lock(ausgabe):
        previous, read_notices = find_previous_year(ausgabe, settlement.year)
        notices.extend(read_notices)
        plan = Plan(settlement, previous, sources)
        data = plan_workbook_bytes(plan)
        recover(folder)  # a settlement run killed mid-swap must not lose its results
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    return PlanResult(plan, notices, path, [path])


# ---------------------------------------------------------------- the previous year


def find_previous_year(ausgabe: Path, year: int) -> tuple[PreviousYear | None, list[Notice]]:
    """The newest ``<ausgabe>/<Y>/Buchungsliste_<Y>.csv`` with Y < ``year``."""
    candidates = []
    if ausgabe.is_dir():
        for entry in ausgabe.iterdir():
            if re.fullmatch(r"\d{4}", entry.name) and int(entry.name) < year:
                booking = entry / f"Buchungsliste_{entry.name}.csv"
                if booking.is_file():
                    candidates.append((int(entry.name), booking))
    if not candidates:
        return None, [Notice(f"Keine Buchungsliste eines Jahres vor {year} in „{ausgabe}“: "
                             f"die Planzahlen werden ohne Vergleich ausgegeben.", Severity.INFO)]
    previous_year, booking = max(candidates)
    try:
        return read_booking_list(booking, previous_year), []
    except ValueError as exc:
        return None, [Notice(f"{booking.name} kann nicht gelesen werden ({exc}); die "
                             f"Planzahlen werden ohne Vergleich ausgegeben.")]


def read_booking_list(path: Path, year: int) -> PreviousYear:
    """The last settled year's figures from its Buchungsliste; ValueError with a German
    reason when the file is not one of ours or belongs to another year."""
    net: dict[str, Decimal] = {}
    fees: dict[str, Decimal] = {}
    eigenanteil: dict[str, Decimal] = {}
    for number, row in enumerate(read_booking(path), start=2):
        if row.year != year:
            raise ValueError(f"Zeile {number} gehört zum Jahr {row.year}, nicht {year}")
        net[row.kommune] = row.net
        eigenanteil[row.region] = row.eigenanteil
        if row.role != EMPLOYER:
            fees[row.employer] = fees.get(row.employer, ZERO) + row.net
    return PreviousYear(year, path, net, fees, eigenanteil)


# ---------------------------------------------------------------- terminal


def change_text(now: Decimal, before: Decimal | None, year: int | None) -> str:
    if before is None or year is None:
        return ""
    delta = now - before
    sign = "+" if delta > 0 else ("±" if delta == 0 else "")
    return f"   ({year}: {format_eur(before)}, {sign}{format_eur(delta)})"


def summary_lines(plan: Plan) -> list[str]:
    s = plan.settlement
    prev = plan.previous
    prev_year = prev.year if prev else None
    lines = [f"Planzahlen {plan.year} – keine Abrechnung (Förderbetrag je VZÄ "
             f"{format_eur(s.subsidy_rate)})"]
    for figures in plan.employers():
        region = figures.region
        lines.append("")
        lines.append(f"Region {region.region} – {region.employer.full_name} "
                     f"(Anstellungskörperschaft)")
        rows = [("Gesamtkosten", figures.costs, None),
                ("Kostenerstattungen", figures.subsidy, None),
                ("Leistungsentgelte", figures.fees, prev.fees.get(region.employer.name)
                 if prev else None),
                ("Eigenanteil", figures.eigenanteil, plan.previous_net(region.employer.name))]
        for label, value, before in rows:
            change = change_text(value, before, prev_year)
            lines.append(f"  {label:<20}{format_eur(value):>16}{change}")
        width = max((len(sh.party.full_name) for sh in region.partner_shares), default=0)
        for share in region.partner_shares:
            vat = f" zzgl. {format_eur(share.vat)} USt" if share.vat else ""
            change = change_text(share.net, plan.previous_net(share.party.name), prev_year)
            lines.append(f"  {share.party.full_name:<{width}}  zahlt voraussichtlich "
                         f"{format_eur(share.net):>14}{vat}{change}")
    if prev:
        lines.append("")
        lines.append(f"Vergleich mit {prev.file.name} (Abrechnung {prev.year}, Nettobeträge).")
    return lines


# ---------------------------------------------------------------- the workbook

EXCEL_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_names(names: list[str], reserved: tuple[str, ...]) -> dict[str, str]:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, unique ignoring case."""
    taken = {r.casefold() for r in reserved}
    result = {}
    for name in names:
        base = EXCEL_FORBIDDEN.sub("_", name).strip("'") or "Kommune"
        candidate, n = base[:31], 2
        while candidate.casefold() in taken:
            suffix = f" ({n})"
            candidate, n = base[:31 - len(suffix)] + suffix, n + 1
        taken.add(candidate.casefold())
        result[name] = candidate
    return result


def plan_workbook_bytes(plan: Plan) -> bytes:
    """``Planung_<J>.xlsx`` as bytes: the same plan gives the same bytes."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False})
    s = plan.settlement
    authors = ", ".join(r.employer.full_name for r in s.regions) or "kim-excel"
    stamp = s.latest_date
    wb.set_properties({
        "title": f"Kommunales Case-Management – Planzahlen {plan.year}",
        "subject": "Planzahlen für den Haushalt (keine Abrechnung)",
        "author": authors,
        "comments": "Erstellt mit kim-excel planen",
        "created": datetime(stamp.year, stamp.month, stamp.day),
    })
    fmt = PlanFormats(wb)
    parties = [share.party.name for region in s.regions for share in region.shares]
    names = sheet_names(parties, ("Übersicht",))
    writer = PlanWriter(wb, fmt, plan)
    writer.overview(names)
    for figures in plan.employers():
        writer.employer_sheet(names[figures.region.employer.name], figures)
        for share in figures.region.partner_shares:
            writer.partner_sheet(names[share.party.name], figures.region, share)
    wb.close()
    return buffer.getvalue()


class PlanFormats:
    """The plan workbook's styles, defined once."""

    EUR = '#,##0.00 "€"'
    SIGNED = '+#,##0.00 "€";-#,##0.00 "€";0.00 "€"'

    def __init__(self, wb):
        base = {"font_name": "Arial", "font_size": 10, "valign": "vcenter"}

        def add(**props):
            return wb.add_format({**base, **props})

        self.title = add(bold=True, font_size=14)
        self.subtitle = add(font_size=11)
        self.banner = add(bold=True, font_color="#FFFFFF", bg_color="#C00000", text_wrap=True,
                          border=1, align="center")
        self.small = add(font_size=9, font_color="#595959", text_wrap=True, valign="top")
        self.note = add(font_size=9, font_color="#595959", indent=1)
        self.section = add(bold=True, font_size=11, bottom=1)
        self.head = add(bold=True, bg_color="#D9E1F2", border=1, text_wrap=True)
        self.head_num = add(bold=True, bg_color="#D9E1F2", border=1, text_wrap=True,
                            align="right")
        self.text = add(border=1)
        self.text_right = add(border=1, align="right")
        self.link = add(border=1, font_color="#0563C1", underline=1)
        self.text_bold = add(border=1, bold=True)
        self.eur = add(border=1, num_format=self.EUR)
        self.eur_bold = add(border=1, num_format=self.EUR, bold=True)
        self.signed = add(border=1, num_format=self.SIGNED)
        self.signed_bold = add(border=1, num_format=self.SIGNED, bold=True, bg_color="#F2F2F2")
        self.pct = add(border=1, num_format="0.00 %")
        self.vzae = add(border=1, num_format="0.0###")
        self.plain = add()


def cell(row: int, col: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return xl_rowcol_to_cell(row, col)


def money_float(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def excel_number(value: Decimal) -> str:
    """A number literal for a formula: Excel keeps 15 significant digits (2/3 of a key)."""
    return repr(float(value))


class PlanWriter:
    """Writes the sheets; every derived figure is a formula carrying its computed value."""

    def __init__(self, wb, fmt: PlanFormats, plan: Plan):
        self.wb, self.f, self.plan = wb, fmt, plan
        self.prev = plan.previous

    # -- frame shared by every sheet

    def sheet(self, name: str, widths: tuple[int, ...], heading: str, subheading: str):
        ws = self.wb.add_worksheet(name)
        ws.hide_gridlines(2)
        ws.set_paper(9)  # A4
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.6, right=0.6, top=0.9, bottom=0.8)
        ws.set_header(f'&C&"Arial,Bold"&12&KC00000PLANZAHLEN {self.plan.year} – keine Abrechnung')
        ws.set_footer("&L&8&F – &A&R&8Seite &P von &N")
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        last = len(widths) - 1
        ws.write_string(0, 0, heading, self.f.title)
        ws.write_string(1, 0, subheading, self.f.subtitle)
        ws.merge_range(2, 0, 2, last, PLAN_BANNER, self.f.banner)
        ws.set_row(2, 30)
        s = self.plan.settlement
        sources = ", ".join(self.plan.sources) or "der Eingabe"
        note = (f"Stand: {s.latest_date:%d.%m.%Y} · Grundlage: geplante Kosten für "
                f"{self.plan.year} aus {sources} · Förderbetrag je VZÄ "
                f"{format_eur(s.subsidy_rate)}")
        ws.merge_range(3, 0, 3, last, note, self.f.small)
        ws.set_row(3, 26)
        return ws

    # -- Übersicht

    def overview(self, names: dict[str, str]) -> None:
        s, prev, f = self.plan.settlement, self.prev, self.f
        ws = self.sheet("Übersicht", (10, 24, 22, 10, 17, 17, 17),
                        f"Kommunales Case-Management – Planzahlen {self.plan.year}",
                        "Übersicht aller Regionen und Kommunen")
        row = 5
        ws.write_string(row, 0, "Regionen", f.section)
        row += 1
        for col, head in ((0, "Region"), (1, "Anstellungskörperschaft"), (4, "Gesamtkosten"),
                          (5, "Kostenerstattungen"), (6, "Eigenanteil der Region")):
            ws.write_string(row, col, head, f.head if col < 2 else f.head_num)
        ws.merge_range(row, 2, row, 3, "VZÄ", f.head_num)
        ws.set_row(row, 28)
        row += 1
        for region in s.regions:
            ws.write_string(row, 0, region.region, f.text)
            ws.write_string(row, 1, region.employer.full_name, f.text)
            ws.merge_range(row, 2, row, 3, float(region.vzae), f.vzae)
            ws.write_number(row, 4, money_float(region.costs), f.eur)
            ws.write_number(row, 5, money_float(region.subsidy), f.eur)
            ws.write_formula(row, 6, f"={cell(row, 4)}-{cell(row, 5)}", f.eur,
                             money_float(region.eigenanteil))
            row += 1
        row += 1
        ws.write_string(row, 0, "Kommunen", f.section)
        row += 1
        prev_head = f"Abrechnung {prev.year}" if prev else "Vorjahr"
        heads = ("Region", "Kommune", "Rolle", "Anteil", f"Plan {self.plan.year} (netto)",
                 prev_head, "Veränderung")
        for col, head in enumerate(heads):
            ws.write_string(row, col, head, f.head if col < 3 else f.head_num)
        ws.set_row(row, 28)
        row += 1
        for region in s.regions:
            for share in region.shares:
                ws.write_string(row, 0, region.region, f.text)
                ws.write_url(row, 1, f"internal:'{names[share.party.name]}'!A1", f.link,
                             string=share.party.full_name)
                ws.write_string(row, 2, share.party.role, f.text)
                ws.write_number(row, 3, float(share.fraction), f.pct)
                ws.write_number(row, 4, money_float(share.net), f.eur)
                self._compare_cells(ws, row, 4, share.net, self.plan.previous_net(
                    share.party.name))
                row += 1
        row += 1
        ws.merge_range(row, 0, row, 6, self._comparison_note(), f.small)
        ws.set_row(row, 30)
        ws.print_area(0, 0, row, 6)

    def _compare_cells(self, ws, row: int, value_col: int, now: Decimal,
                       before: Decimal | None) -> None:
        """Previous value and the change (a formula) right of ``value_col``."""
        f = self.f
        if before is None:
            ws.write_string(row, value_col + 1, "–" if self.prev is None else "kein Wert",
                            f.text_right)
            ws.write_blank(row, value_col + 2, None, f.text)
            return
        ws.write_number(row, value_col + 1, money_float(before), f.eur)
        ws.write_formula(row, value_col + 2,
                         f"={cell(row, value_col)}-{cell(row, value_col + 1)}", f.signed,
                         money_float(now - before))

    def _comparison_note(self) -> str:
        if self.prev is None:
            return ("Vergleich: keine Buchungsliste eines früheren Jahres gefunden "
                    "(output/<Jahr>/Buchungsliste_<Jahr>.csv).")
        return (f"Vergleich mit der Abrechnung {self.prev.year} ({self.prev.file.name}), "
                f"jeweils Nettobeträge ohne Umsatzsteuer. Anteil: Schlüssel der Kommune am "
                f"Eigenanteil ihrer Region.")

    # -- Anstellungskörperschaft

    def employer_sheet(self, name: str, fig: EmployerFigures) -> None:
        f, region, year = self.f, fig.region, self.plan.year
        employer = region.employer
        ws = self.sheet(name, (50, 18, 18, 18),
                        f"Kommunales Case-Management – Planzahlen {year}",
                        f"{employer.full_name} · Anstellungskörperschaft der Region "
                        f"{region.region}")
        # Ergebnisrechnung first in the sheet's formulas, Finanzrechnung refers to it.
        fin = 5  # section row of the Finanzrechnung
        erg = fin + 4  # section row of the Ergebnisrechnung
        r_fees, r_subsidy, r_other, r_income = erg + 1, erg + 2, erg + 3, erg + 4
        r_personnel, r_material, r_depr, r_misc = erg + 5, erg + 6, erg + 7, erg + 8
        r_costs, r_result = erg + 9, erg + 10
        split = r_result + 2  # section row of the split table
        first_partner = split + 2
        partners = region.partner_shares
        r_own = first_partner + len(partners)
        r_total = r_own + 1

        ws.write_string(fin, 0, "Auswirkungen auf die Finanzrechnung (in EUR)", f.section)
        heads = ("Gesamtkosten der Maßnahme", "Objektbezogene Einnahmen (Zuschüsse, Beiträge)",
                 "Sonstige Einzahlungen (Leistungsentgelte)", "Eigenanteil")
        for col, head in enumerate(heads):
            ws.write_string(fin + 1, col, head, f.head if col == 0 else f.head_num)
        ws.set_row(fin + 1, 42)
        ws.write_formula(fin + 2, 0, f"={cell(r_costs, 1)}", f.eur_bold, money_float(fig.costs))
        ws.write_formula(fin + 2, 1, f"={cell(r_subsidy, 1)}", f.eur_bold,
                         money_float(fig.subsidy))
        ws.write_formula(fin + 2, 2, f"={cell(r_fees, 1)}", f.eur_bold, money_float(fig.fees))
        ws.write_formula(fin + 2, 3, f"={cell(fin + 2, 0)}-{cell(fin + 2, 1)}-{cell(fin + 2, 2)}",
                         f.eur_bold, money_float(fig.eigenanteil))

        ws.write_string(erg, 0, "Auswirkungen auf die Ergebnisrechnung (in EUR, jährlich)",
                        f.section)
        ws.write_formula(r_fees, 1, f"=SUM({cell(first_partner, 3)}:{cell(r_own - 1, 3)})"
                         if partners else "=0", f.eur, money_float(fig.fees))
        ws.write_number(r_subsidy, 1, money_float(fig.subsidy), f.eur)
        ws.write_number(r_other, 1, 0, f.eur)
        ws.write_formula(r_income, 1, f"=SUM({cell(r_fees, 1)}:{cell(r_other, 1)})", f.eur_bold,
                         money_float(fig.income))
        ws.write_number(r_personnel, 1, money_float(fig.personnel), f.eur)
        ws.write_number(r_material, 1, money_float(fig.material), f.eur)
        ws.write_number(r_depr, 1, 0, f.eur)
        ws.write_number(r_misc, 1, 0, f.eur)
        ws.write_formula(r_costs, 1, f"=SUM({cell(r_personnel, 1)}:{cell(r_misc, 1)})",
                         f.eur_bold, money_float(fig.costs))
        ws.write_formula(r_result, 1, f"={cell(r_income, 1)}-{cell(r_costs, 1)}", f.signed_bold,
                         money_float(fig.result))
        subsidy_note = self._subsidy_note(region)
        labels = {
            r_fees: ("Leistungsentgelte", "Anteile der Partnerkommunen (siehe unten)"),
            r_subsidy: ("Kostenerstattungen", subsidy_note),
            r_other: ("sonstige Erträge", ""),
            r_income: ("Summe der Erträge", ""),
            r_personnel: ("Personalaufwendungen", f"{len(region.positions)} Stelle(n), "
                                                  f"{format_decimal(region.vzae)} VZÄ"),
            r_material: ("Aufwendungen für Sach- und Dienstleistungen",
                         "Ausstattung, Stellenbesetzung, Verwaltung"),
            r_depr: ("Abschreibungen (netto, d. h. nach Auflösung SoPo)", ""),
            r_misc: ("sonstige Aufwendungen", ""),
            r_costs: ("Summe der Aufwendungen", ""),
            r_result: ("Überschuss (+) / Defizit (−)", "Erträge − Aufwendungen = −Eigenanteil"),
        }
        for row, (label, note) in labels.items():
            bold = row in (r_income, r_costs, r_result)
            ws.write_string(row, 0, label, f.text_bold if bold else f.text)
            if note:
                ws.merge_range(row, 2, row, 3, note, f.note)

        ws.write_string(split, 0, f"Aufteilung des Eigenanteils der Region {region.region} "
                                  f"({region.key_basis.value})", f.section)
        for col, head in enumerate(("Kommune", "Schlüssel", "Anteil", "Betrag (netto)")):
            ws.write_string(split + 1, col, head, f.head if col == 0 else f.head_num)
        for offset, share in enumerate(partners):
            self._split_row(ws, first_partner + offset, share, region, r_total)
        own = region.employer_share
        ws.write_string(r_own, 0, f"{employer.full_name} (eigener Anteil)", f.text_bold)
        self._key_cells(ws, r_own, own, region)
        partner_sum = f"SUM({cell(first_partner, 3)}:{cell(r_own - 1, 3)})" if partners else "0"
        ws.write_formula(r_own, 3, f"={cell(r_total, 3)}-{partner_sum}", f.eur_bold,
                         money_float(own.net))
        ws.merge_range(r_total, 0, r_total, 2, f"Eigenanteil der Region {region.region} "
                                               f"(Gesamtkosten − Kostenerstattungen)",
                       f.text_bold)
        ws.write_formula(r_total, 3, f"={cell(r_costs, 1)}-{cell(r_subsidy, 1)}", f.eur_bold,
                         money_float(region.eigenanteil))

        row = r_total + 2
        row = self._comparison_table(ws, row, [
            ("Eigenanteil (eigener Anteil)", cell(r_own, 3), own.net,
             self.plan.previous_net(employer.name)),
            ("Leistungsentgelte", cell(r_fees, 1), fig.fees,
             self.prev.fees.get(employer.name) if self.prev else None),
            (f"Eigenanteil der Region {region.region}", cell(r_total, 3), region.eigenanteil,
             self.prev.eigenanteil.get(region.region) if self.prev else None),
        ])
        ws.print_area(0, 0, row, 3)

    def _subsidy_note(self, region: RegionResult) -> str:
        s = self.plan.settlement
        if s.settings.subsidy_lapsed:
            return "Landesförderung entfallen"
        if region.subsidy_received is not None:
            return "Förderung laut Blatt „Förderung“"
        return (f"Landesförderung {format_decimal(region.vzae)} VZÄ × "
                f"{format_eur(s.subsidy_rate)} je Jahr")

    def _key_cells(self, ws, row: int, share: Share, region: RegionResult) -> None:
        f = self.f
        ws.write_string(row, 1, f"{format_decimal(share.key)} von "
                                f"{format_decimal(region.key_total)}", f.text)
        ws.write_number(row, 2, float(share.fraction), f.pct)

    def _split_row(self, ws, row: int, share: Share, region: RegionResult,
                   r_total: int) -> None:
        """A partner's share: ``ROUND(Eigenanteil × key / sum of keys; 2)`` (R7)."""
        f = self.f
        ws.write_string(row, 0, share.party.full_name, f.text)
        self._key_cells(ws, row, share, region)
        key, total = excel_number(share.key), excel_number(region.key_total)
        ws.write_formula(row, 3, f"=ROUND({cell(r_total, 3)}*{key}/{total},2)", f.eur,
                         money_float(share.net))

    def _comparison_table(self, ws, row: int, rows) -> int:
        """Plan against the last settled year; returns the row after the table."""
        f, year = self.f, self.plan.year
        ws.write_string(row, 0, "Veränderung gegenüber der letzten Abrechnung", f.section)
        row += 1
        prev_head = f"Abrechnung {self.prev.year}" if self.prev else "Vorjahr"
        for col, head in enumerate(("", f"Plan {year}", prev_head, "Veränderung")):
            ws.write_string(row, col, head, f.head if col == 0 else f.head_num)
        row += 1
        for label, ref, now, before in rows:
            ws.write_string(row, 0, label, f.text)
            ws.write_formula(row, 1, f"={ref}", f.eur, money_float(now))
            self._compare_cells(ws, row, 1, now, before)
            row += 1
        ws.merge_range(row, 0, row, 3, self._comparison_note(), f.small)
        ws.set_row(row, 30)
        return row

    # -- Partnerkommune

    def partner_sheet(self, name: str, region: RegionResult, share: Share) -> None:
        f, year = self.f, self.plan.year
        employer = region.employer
        ws = self.sheet(name, (50, 18, 18, 18),
                        f"Kommunales Case-Management – Planzahlen {year}",
                        f"{share.party.full_name} · Partnerkommune der Region {region.region}")
        row = 5
        ws.write_string(row, 0, f"Erwartete Zahlung an {employer.full_name} (Eigenanteil "
                                f"{year})", f.section)
        r_region, r_key, r_net = row + 1, row + 2, row + 3
        ws.write_string(r_region, 0, f"Eigenanteil der Region {region.region} "
                                     f"(Gesamtkosten − Landesförderung)", f.text)
        ws.write_number(r_region, 1, money_float(region.eigenanteil), f.eur)
        ws.merge_range(r_region, 2, r_region, 3, f"{format_eur(region.costs)} − "
                                                 f"{format_eur(region.subsidy)}", f.note)
        ws.write_string(r_key, 0, f"Schlüssel ({region.key_basis.value})", f.text)
        ws.write_number(r_key, 1, float(share.fraction), f.pct)
        ws.merge_range(r_key, 2, r_key, 3, f"{format_decimal(share.key)} von "
                                           f"{format_decimal(region.key_total)}", f.note)
        key, total = excel_number(share.key), excel_number(region.key_total)
        ws.write_string(r_net, 0, "Anteil (netto)", f.text_bold)
        ws.write_formula(r_net, 1, f"=ROUND({cell(r_region, 1)}*{key}/{total},2)", f.eur_bold,
                         money_float(share.net))
        row = r_net + 1
        r_pay = r_net
        if region.terms.vat_rate > 0:
            r_vat, r_pay = r_net + 1, r_net + 2
            rate = excel_number(region.terms.vat_rate)
            ws.write_string(r_vat, 0, f"Umsatzsteuer ({format_decimal(region.terms.vat_rate * 100)}"
                                      f" %)", f.text)
            ws.write_formula(r_vat, 1, f"=ROUND({cell(r_net, 1)}*{rate},2)", f.eur,
                             money_float(share.vat))
            ws.write_string(r_pay, 0, "Erwartete Zahlung (brutto)", f.text_bold)
            ws.write_formula(r_pay, 1, f"={cell(r_net, 1)}+{cell(r_vat, 1)}", f.eur_bold,
                             money_float(share.gross))
            row = r_pay + 1
        row += 1
        ws.write_string(row, 0, "Auswirkungen auf die Ergebnisrechnung (in EUR, jährlich)",
                        f.section)
        ws.write_string(row + 1, 0, f"Aufwendungen (Kostenerstattung an {employer.full_name})",
                        f.text)
        ws.write_formula(row + 1, 1, f"={cell(r_pay, 1)}", f.eur, money_float(share.gross))
        ws.write_string(row + 2, 0, "Überschuss (+) / Defizit (−)", f.text_bold)
        ws.write_formula(row + 2, 1, f"=-{cell(row + 1, 1)}", f.signed_bold,
                         money_float(-share.gross))
        row += 4
        row = self._comparison_table(ws, row, [
            ("Anteil (netto)", cell(r_net, 1), share.net,
             self.plan.previous_net(share.party.name)),
        ])
        ws.print_area(0, 0, row, 3)
