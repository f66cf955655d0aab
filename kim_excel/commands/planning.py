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
from datetime import date
from decimal import Decimal
from pathlib import Path

from kim_excel.commands.settle import load_settlement
from kim_excel.core.files import write_atomically
from kim_excel.core.german import count, day_text, format_decimal, format_eur
from kim_excel.core.model import EMPLOYER, Notice, RegionResult, Settlement, Severity, Share
from kim_excel.core.money import ZERO
from kim_excel.documents.booking import read_booking
from kim_excel.documents.xlsx.sheet import Sheet, as_datetime, relative, setup_page
from kim_excel.documents.xlsx.styles import Styles, add_sheet, new_workbook
from kim_excel.documents.xlsx.trail import net_formula
from kim_excel.input.plausibility import YearNotOver
from kim_excel.input.reading import find_workbooks
from kim_excel.ledger.folder import output_lock, recover

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
    buffer = io.BytesIO()
    s = plan.settlement
    wb = new_workbook(buffer, {
        "title": f"Kommunales Case-Management – Planzahlen {plan.year}",
        "subject": "Planzahlen für den Haushalt (keine Abrechnung)",
        "author": ", ".join(r.employer.full_name for r in s.regions) or "kim-excel",
        "comments": "Erstellt mit kim-excel planen",
        "created": as_datetime(s.latest_date),
    })
    parties = [share.party.name for region in s.regions for share in region.shares]
    names = sheet_names(parties, ("Übersicht",))
    writer = PlanWriter(wb, Styles(wb), plan)
    writer.overview(names)
    for figures in plan.employers():
        writer.employer_sheet(names[figures.region.employer.name], figures)
        for share in figures.region.partner_shares:
            writer.partner_sheet(names[share.party.name], figures.region, share)
    wb.close()
    return buffer.getvalue()


def excel_number(value) -> str:
    """A number literal for a formula: Excel keeps 15 significant digits (2/3 of a key)."""
    return repr(float(value))


class PlanWriter:
    """Writes the sheets; every derived figure is a formula carrying its computed value."""

    def __init__(self, wb, styles: Styles, plan: Plan):
        self.wb, self.styles, self.plan = wb, styles, plan
        self.prev = plan.previous

    # -- frame shared by every sheet

    def sheet(self, name: str, widths: tuple[int, ...], heading: str, subheading: str) -> Sheet:
        sheet = Sheet(add_sheet(self.wb, name), self.styles, name)
        setup_page(sheet.ws, margins=(0.6, 0.6, 0.9, 0.8), widths=widths, protect=False,
                   header=f'&C&"Arial,Bold"&12&KC00000PLANZAHLEN {self.plan.year} – '
                          f"keine Abrechnung")
        last = len(widths) - 1
        sheet.text(0, 0, heading, "plan_title")
        sheet.text(1, 0, subheading, "subtitle")
        sheet.merged(2, 0, last, PLAN_BANNER, "plan_banner")
        sheet.ws.set_row(2, 30)
        s = self.plan.settlement
        sources = ", ".join(self.plan.sources) or "der Eingabe"
        note = (f"Stand: {day_text(s.latest_date)} · Grundlage: geplante Kosten für "
                f"{self.plan.year} aus {sources} · Förderbetrag je VZÄ "
                f"{format_eur(s.subsidy_rate)}")
        sheet.merged(3, 0, last, note, "note_wrap")
        sheet.ws.set_row(3, 26)
        return sheet

    # -- Übersicht

    def overview(self, names: dict[str, str]) -> None:
        s, prev = self.plan.settlement, self.prev
        sheet = self.sheet("Übersicht", (10, 24, 22, 10, 17, 17, 17),
                           f"Kommunales Case-Management – Planzahlen {self.plan.year}",
                           "Übersicht aller Regionen und Kommunen")
        row = 5
        sheet.text(row, 0, "Regionen", "plan_section")
        row += 1
        for col, head in ((0, "Region"), (1, "Anstellungskörperschaft"), (4, "Gesamtkosten"),
                          (5, "Kostenerstattungen"), (6, "Eigenanteil der Region")):
            sheet.text(row, col, head, "plan_th" if col < 2 else "plan_th_right")
        sheet.merged(row, 2, 3, "VZÄ", "plan_th_right")
        sheet.ws.set_row(row, 28)
        row += 1
        for region in s.regions:
            sheet.text(row, 0, region.region, "boxed")
            sheet.text(row, 1, region.employer.full_name, "boxed")
            sheet.ws.merge_range(row, 2, row, 3, "", self.styles["boxed_vzae"])
            sheet.number(row, 2, region.vzae, "boxed_vzae")
            sheet.number(row, 4, region.costs, "boxed_eur")
            sheet.number(row, 5, region.subsidy, "boxed_eur")
            sheet.formula(row, 6, f"={relative(row, 4)}-{relative(row, 5)}", region.eigenanteil,
                          "boxed_eur")
            row += 1
        row += 1
        sheet.text(row, 0, "Kommunen", "plan_section")
        row += 1
        prev_head = f"Abrechnung {prev.year}" if prev else "Vorjahr"
        heads = ("Region", "Kommune", "Rolle", "Anteil", f"Plan {self.plan.year} (netto)",
                 prev_head, "Veränderung")
        for col, head in enumerate(heads):
            sheet.text(row, col, head, "plan_th" if col < 3 else "plan_th_right")
        sheet.ws.set_row(row, 28)
        row += 1
        for region in s.regions:
            for share in region.shares:
                sheet.text(row, 0, region.region, "boxed")
                sheet.ws.write_url(row, 1, f"internal:'{names[share.party.name]}'!A1",
                                   self.styles["boxed_link"], string=share.party.full_name)
                sheet.text(row, 2, share.party.role, "boxed")
                sheet.number(row, 3, share.fraction, "boxed_percent")
                sheet.number(row, 4, share.net, "boxed_eur")
                self._compare_cells(sheet, row, 4, share.net, self.plan.previous_net(
                    share.party.name))
                row += 1
        row += 1
        sheet.merged(row, 0, 6, self._comparison_note(), "note_wrap")
        sheet.ws.set_row(row, 30)
        sheet.ws.print_area(0, 0, row, 6)

    def _compare_cells(self, sheet: Sheet, row: int, value_col: int, now: Decimal,
                       before: Decimal | None) -> None:
        """Previous value and the change (a formula) right of ``value_col``."""
        if before is None:
            sheet.text(row, value_col + 1, "–" if self.prev is None else "kein Wert",
                       "boxed_right")
            sheet.blank(row, value_col + 2, "boxed")
            return
        sheet.number(row, value_col + 1, before, "boxed_eur")
        sheet.formula(row, value_col + 2,
                      f"={relative(row, value_col)}-{relative(row, value_col + 1)}",
                      now - before, "boxed_signed")

    def _comparison_note(self) -> str:
        if self.prev is None:
            return ("Vergleich: keine Buchungsliste eines früheren Jahres gefunden "
                    "(output/<Jahr>/Buchungsliste_<Jahr>.csv).")
        return (f"Vergleich mit der Abrechnung {self.prev.year} ({self.prev.file.name}), "
                f"jeweils Nettobeträge ohne Umsatzsteuer. Anteil: Schlüssel der Kommune am "
                f"Eigenanteil ihrer Region.")

    # -- Anstellungskörperschaft

    def employer_sheet(self, name: str, fig: EmployerFigures) -> None:
        region, year = fig.region, self.plan.year
        employer = region.employer
        sheet = self.sheet(name, (50, 18, 18, 18),
                           f"Kommunales Case-Management – Planzahlen {year}",
                           f"{employer.full_name} · Anstellungskörperschaft der Region "
                           f"{region.region}")
        # Ergebnisrechnung first in the sheet's formulas, Finanzrechnung refers to it.
        fin = 5  # section row of the Finanzrechnung
        erg = fin + 4  # section row of the Ergebnisrechnung
        rows = ErgebnisRows(erg)
        split = rows.result + 2  # section row of the split table
        first_partner = split + 2
        partners = region.partner_shares
        r_own = first_partner + len(partners)
        r_total = r_own + 1

        self._finanzrechnung(sheet, fin, rows, fig)
        self._ergebnisrechnung(sheet, rows, fig, first_partner, r_own)

        sheet.text(split, 0, f"Aufteilung des Eigenanteils der Region {region.region} "
                             f"({region.key_basis.value})", "plan_section")
        for col, head in enumerate(("Kommune", "Schlüssel", "Anteil", "Betrag (netto)")):
            sheet.text(split + 1, col, head, "plan_th" if col == 0 else "plan_th_right")
        partner_cells = (f"{relative(first_partner, 3)}:{relative(r_own - 1, 3)}"
                         if partners else [])
        for offset, share in enumerate(partners):
            self._split_row(sheet, first_partner + offset, share, region, relative(r_total, 3),
                            partner_cells)
        own = region.employer_share
        sheet.text(r_own, 0, f"{employer.full_name} (eigener Anteil)", "boxed_bold")
        self._key_cells(sheet, r_own, own, region)
        sheet.formula(r_own, 3, net_formula(own, relative(r_total, 3), "", "", partner_cells),
                      own.net, "boxed_eur_bold")
        sheet.merged(r_total, 0, 2, f"Eigenanteil der Region {region.region} "
                                    f"(Gesamtkosten − Kostenerstattungen)", "boxed_bold")
        sheet.formula(r_total, 3, f"={relative(rows.costs, 1)}-{relative(rows.subsidy, 1)}",
                      region.eigenanteil, "boxed_eur_bold")

        row = self._comparison_table(sheet, r_total + 2, [
            ("Eigenanteil (eigener Anteil)", relative(r_own, 3), own.net,
             self.plan.previous_net(employer.name)),
            ("Leistungsentgelte", relative(rows.fees, 1), fig.fees,
             self.prev.fees.get(employer.name) if self.prev else None),
            (f"Eigenanteil der Region {region.region}", relative(r_total, 3),
             region.eigenanteil,
             self.prev.eigenanteil.get(region.region) if self.prev else None),
        ])
        sheet.ws.print_area(0, 0, row, 3)

    def _finanzrechnung(self, sheet: Sheet, fin: int, rows: ErgebnisRows,
                        fig: EmployerFigures) -> None:
        sheet.text(fin, 0, "Auswirkungen auf die Finanzrechnung (in EUR)", "plan_section")
        heads = ("Gesamtkosten der Maßnahme", "Objektbezogene Einnahmen (Zuschüsse, Beiträge)",
                 "Sonstige Einzahlungen (Leistungsentgelte)", "Eigenanteil")
        for col, head in enumerate(heads):
            sheet.text(fin + 1, col, head, "plan_th" if col == 0 else "plan_th_right")
        sheet.ws.set_row(fin + 1, 42)
        r = fin + 2
        sheet.formula(r, 0, f"={relative(rows.costs, 1)}", fig.costs, "boxed_eur_bold")
        sheet.formula(r, 1, f"={relative(rows.subsidy, 1)}", fig.subsidy, "boxed_eur_bold")
        sheet.formula(r, 2, f"={relative(rows.fees, 1)}", fig.fees, "boxed_eur_bold")
        sheet.formula(r, 3, f"={relative(r, 0)}-{relative(r, 1)}-{relative(r, 2)}",
                      fig.eigenanteil, "boxed_eur_bold")

    def _ergebnisrechnung(self, sheet: Sheet, rows: ErgebnisRows, fig: EmployerFigures,
                          first_partner: int, r_own: int) -> None:
        region = fig.region
        sheet.text(rows.section, 0, "Auswirkungen auf die Ergebnisrechnung (in EUR, jährlich)",
                   "plan_section")
        fees = (f"=SUM({relative(first_partner, 3)}:{relative(r_own - 1, 3)})"
                if region.partner_shares else "=0")
        sheet.formula(rows.fees, 1, fees, fig.fees, "boxed_eur")
        sheet.number(rows.subsidy, 1, fig.subsidy, "boxed_eur")
        sheet.number(rows.other, 1, 0, "boxed_eur")
        sheet.formula(rows.income, 1, f"=SUM({relative(rows.fees, 1)}:{relative(rows.other, 1)})",
                      fig.income, "boxed_eur_bold")
        sheet.number(rows.personnel, 1, fig.personnel, "boxed_eur")
        sheet.number(rows.material, 1, fig.material, "boxed_eur")
        sheet.number(rows.depreciation, 1, 0, "boxed_eur")
        sheet.number(rows.misc, 1, 0, "boxed_eur")
        sheet.formula(rows.costs, 1,
                      f"=SUM({relative(rows.personnel, 1)}:{relative(rows.misc, 1)})",
                      fig.costs, "boxed_eur_bold")
        sheet.formula(rows.result, 1, f"={relative(rows.income, 1)}-{relative(rows.costs, 1)}",
                      fig.result, "boxed_signed_bold")
        labels = {
            rows.fees: ("Leistungsentgelte", "Anteile der Partnerkommunen (siehe unten)"),
            rows.subsidy: ("Kostenerstattungen", self._subsidy_note(region)),
            rows.other: ("sonstige Erträge", ""),
            rows.income: ("Summe der Erträge", ""),
            rows.personnel: ("Personalaufwendungen",
                             f"{count(len(region.positions), 'Stelle', 'Stellen')}, "
                             f"{format_decimal(region.vzae)} VZÄ"),
            rows.material: ("Aufwendungen für Sach- und Dienstleistungen",
                            "Ausstattung, Stellenbesetzung, Verwaltung"),
            rows.depreciation: ("Abschreibungen (netto, d. h. nach Auflösung SoPo)", ""),
            rows.misc: ("sonstige Aufwendungen", ""),
            rows.costs: ("Summe der Aufwendungen", ""),
            rows.result: ("Überschuss (+) / Defizit (−)",
                          "Erträge − Aufwendungen = −Eigenanteil"),
        }
        for row, (label, note) in labels.items():
            bold = row in (rows.income, rows.costs, rows.result)
            sheet.text(row, 0, label, "boxed_bold" if bold else "boxed")
            if note:
                sheet.merged(row, 2, 3, note, "plan_note")

    def _subsidy_note(self, region: RegionResult) -> str:
        s = self.plan.settlement
        if s.settings.subsidy_lapsed:
            return "Landesförderung entfallen"
        if region.subsidy_received is not None:
            return "Förderung laut Blatt „Förderung“"
        return (f"Landesförderung {format_decimal(region.vzae)} VZÄ × "
                f"{format_eur(s.subsidy_rate)} je Jahr")

    def _key_cells(self, sheet: Sheet, row: int, share: Share, region: RegionResult) -> None:
        sheet.text(row, 1, f"{format_decimal(share.key)} von "
                           f"{format_decimal(region.key_total)}", "boxed")
        sheet.number(row, 2, share.fraction, "boxed_percent")

    def _split_row(self, sheet: Sheet, row: int, share: Share, region: RegionResult,
                   eigenanteil: str, partner_cells) -> None:
        """A partner's share by the one R7 formula of the trail (cent correction included)."""
        sheet.text(row, 0, share.party.full_name, "boxed")
        self._key_cells(sheet, row, share, region)
        formula = net_formula(share, eigenanteil, excel_number(share.key),
                              excel_number(region.key_total), partner_cells)
        sheet.formula(row, 3, formula, share.net, "boxed_eur")

    def _comparison_table(self, sheet: Sheet, row: int, rows) -> int:
        """Plan against the last settled year; returns the row after the table."""
        year = self.plan.year
        sheet.text(row, 0, "Veränderung gegenüber der letzten Abrechnung", "plan_section")
        row += 1
        prev_head = f"Abrechnung {self.prev.year}" if self.prev else "Vorjahr"
        for col, head in enumerate(("", f"Plan {year}", prev_head, "Veränderung")):
            sheet.text(row, col, head, "plan_th" if col == 0 else "plan_th_right")
        row += 1
        for label, ref, now, before in rows:
            sheet.text(row, 0, label, "boxed")
            sheet.formula(row, 1, f"={ref}", now, "boxed_eur")
            self._compare_cells(sheet, row, 1, now, before)
            row += 1
        sheet.merged(row, 0, 3, self._comparison_note(), "note_wrap")
        sheet.ws.set_row(row, 30)
        return row

    # -- Partnerkommune

    def partner_sheet(self, name: str, region: RegionResult, share: Share) -> None:
        year = self.plan.year
        employer = region.employer
        sheet = self.sheet(name, (50, 18, 18, 18),
                           f"Kommunales Case-Management – Planzahlen {year}",
                           f"{share.party.full_name} · Partnerkommune der Region {region.region}")
        row = 5
        sheet.text(row, 0, f"Erwartete Zahlung an {employer.full_name} (Eigenanteil {year})",
                   "plan_section")
        r_region, r_key, r_net = row + 1, row + 2, row + 3
        sheet.text(r_region, 0, f"Eigenanteil der Region {region.region} "
                                f"(Gesamtkosten − Landesförderung)", "boxed")
        sheet.number(r_region, 1, region.eigenanteil, "boxed_eur")
        sheet.merged(r_region, 2, 3, f"{format_eur(region.costs)} − "
                                     f"{format_eur(region.subsidy)}", "plan_note")
        sheet.text(r_key, 0, f"Schlüssel ({region.key_basis.value})", "boxed")
        sheet.number(r_key, 1, share.fraction, "boxed_percent")
        sheet.merged(r_key, 2, 3, f"{format_decimal(share.key)} von "
                                  f"{format_decimal(region.key_total)}", "plan_note")
        sheet.text(r_net, 0, "Anteil (netto)", "boxed_bold")
        formula = net_formula(share, relative(r_region, 1), excel_number(share.key),
                              excel_number(region.key_total), [])
        sheet.formula(r_net, 1, formula, share.net, "boxed_eur_bold")
        r_pay = self._partner_vat(sheet, region, share, r_net)
        row = r_pay + 2
        sheet.text(row, 0, "Auswirkungen auf die Ergebnisrechnung (in EUR, jährlich)",
                   "plan_section")
        sheet.text(row + 1, 0, f"Aufwendungen (Kostenerstattung an {employer.full_name})",
                   "boxed")
        sheet.formula(row + 1, 1, f"={relative(r_pay, 1)}", share.gross, "boxed_eur")
        sheet.text(row + 2, 0, "Überschuss (+) / Defizit (−)", "boxed_bold")
        sheet.formula(row + 2, 1, f"=-{relative(row + 1, 1)}", -share.gross,
                      "boxed_signed_bold")
        row = self._comparison_table(sheet, row + 4, [
            ("Anteil (netto)", relative(r_net, 1), share.net,
             self.plan.previous_net(share.party.name)),
        ])
        sheet.ws.print_area(0, 0, row, 3)

    def _partner_vat(self, sheet: Sheet, region: RegionResult, share: Share, r_net: int) -> int:
        """VAT and the gross payment below the net share; returns the row of the payment."""
        if region.terms.vat_rate <= 0:
            return r_net
        r_vat, r_pay = r_net + 1, r_net + 2
        rate = excel_number(region.terms.vat_rate)
        sheet.text(r_vat, 0, f"Umsatzsteuer ({format_decimal(region.terms.vat_rate * 100)} %)",
                   "boxed")
        sheet.formula(r_vat, 1, f"=ROUND({relative(r_net, 1)}*{rate},2)", share.vat, "boxed_eur")
        sheet.text(r_pay, 0, "Erwartete Zahlung (brutto)", "boxed_bold")
        sheet.formula(r_pay, 1, f"={relative(r_net, 1)}+{relative(r_vat, 1)}", share.gross,
                      "boxed_eur_bold")
        return r_pay


@dataclass(frozen=True)
class ErgebnisRows:
    """Rows of the Ergebnisrechnung below its section row."""

    section: int

    fees = property(lambda self: self.section + 1)
    subsidy = property(lambda self: self.section + 2)
    other = property(lambda self: self.section + 3)
    income = property(lambda self: self.section + 4)
    personnel = property(lambda self: self.section + 5)
    material = property(lambda self: self.section + 6)
    depreciation = property(lambda self: self.section + 7)
    misc = property(lambda self: self.section + 8)
    costs = property(lambda self: self.section + 9)
    result = property(lambda self: self.section + 10)
