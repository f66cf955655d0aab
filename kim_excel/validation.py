"""Step 2 of the pipeline: turn raw cells into a checked :class:`SettlementInput`.

Every problem is collected as a :class:`Problem` (file, sheet, cell, German message) and all
of them are reported together; validation never stops at the first. Checks that span
sheets (one employer per region, hours for a whole region) and files (the same employer's
costs twice, workbooks that disagree) follow the per-cell checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from kim_excel.errors import InputError
from kim_excel.model import (
    EMPLOYER,
    KOSTENARTEN,
    PARTNER,
    ROLES,
    Advance,
    CellRef,
    MaterialCost,
    Notice,
    Party,
    Position,
    Problem,
    Settings,
    SettlementInput,
    Severity,
    Terms,
)
from kim_excel.money import NotMoney, format_decimal, money, number
from kim_excel.names import resolver, unknown_party, with_party_names
from kim_excel.reading import RawWorkbook, Table, UnreadableWorkbook, normalise, read_workbook

# Sheets and their headers: the contract with the finance staff (SPEC § 4).
EINSTELLUNGEN = "Einstellungen"
VERTRAGSPARTEIEN = "Vertragsparteien"
PERSONALKOSTEN = "Personalkosten"
SACHKOSTEN = "Sachkosten"
FOERDERUNG = "Förderung"
STUNDEN = "Stunden"
ABSCHLAEGE = "Abschläge"

REQUIRED_HEADERS: dict[str, tuple[str, ...]] = {
    EINSTELLUNGEN: ("Einstellung", "Wert"),
    VERTRAGSPARTEIEN: ("Kommune", "Bezeichnung", "Region", "Rolle", "Stundenanteil",
                       "Ausgeschieden zum", "Straße", "PLZ", "Ort", "E-Mail", "IBAN", "BIC",
                       "Kreditinstitut"),
    PERSONALKOSTEN: ("Anstellungskörperschaft", "Stelle", "VZÄ", "Monate", "Personalkosten"),
    SACHKOSTEN: ("Anstellungskörperschaft", "Kostenart", "Bezeichnung", "Betrag"),
    FOERDERUNG: ("Anstellungskörperschaft", "Förderung erhalten"),
    STUNDEN: ("Kommune", "Stunden"),
    ABSCHLAEGE: ("Kommune", "Datum", "Betrag"),
}
OPTIONAL_HEADERS = {VERTRAGSPARTEIEN: ("Ansprechpartner", "Telefon", "Kassenzeichen")}
REQUIRED_SHEETS = (EINSTELLUNGEN, VERTRAGSPARTEIEN, PERSONALKOSTEN, SACHKOSTEN)
ALL_SHEETS = tuple(REQUIRED_HEADERS)

# Einstellungen rows (SPEC § 4), normalised name → field.
S_YEAR = "Abrechnungsjahr"
S_RATE = "Förderbetrag je VZÄ"
S_LAPSED = "Landesförderung entfallen"
S_VAT = "Umsatzsteuersatz"
S_VAT_NOTE = "Hinweis Umsatzsteuer"
S_PAYMENT = "Zahlungsziel (Tage)"
S_NOTICE = "Kündigungsfrist (Monate)"
S_DATE = "Datum der Abrechnung"
S_AZ = "Aktenzeichen"
S_BUCHUNG = "Buchungsstelle"
S_END = "Vertrag beendet zum"
SETTINGS_ROWS = (S_YEAR, S_RATE, S_LAPSED, S_VAT, S_VAT_NOTE, S_PAYMENT, S_NOTICE, S_DATE,
                 S_AZ, S_BUCHUNG, S_END)

# No settlement comes near this; larger numbers are typing errors (and would exceed the
# 28 significant digits of exact decimal arithmetic).
MAX_AMOUNT = 10**12
# Dates outside these years are typing errors (and 31.12.9999 + 30 days does not exist).
# (A small number typed into a date cell shows as a day in 1900: 60 is 28.02.1900.)
MIN_YEAR, MAX_YEAR = 1990, 2199

YES = ("ja", "j", "yes", "wahr", "true", "x")
NO = ("nein", "n", "no", "falsch", "false", "")
EMAIL = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+$")
BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


@dataclass
class Collector:
    """Problems and notices of one validation, in the order they were found."""

    problems: list[Problem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def error(self, where: CellRef | None, message: str) -> None:
        self.problems.append(Problem(message, where))

    def warn(self, where: CellRef | None, message: str) -> None:
        self.notices.append(Notice(message, Severity.WARNING, where))


@dataclass
class WorkbookInput:
    """What one workbook says, before the workbooks of a run are merged."""

    file: str
    settings: Settings | None  # agreement-wide: must agree with the other workbooks
    terms: Terms | None  # the employer's own: for the regions whose costs stand here
    parties: tuple[Party, ...]
    positions: list[Position]
    material_costs: list[MaterialCost]
    subsidies: dict[str, tuple[Decimal, CellRef]]
    hours: dict[str, tuple[Decimal, CellRef]]
    advances: list[Advance]
    # Where each party's row and each setting are, for messages that name a cell.
    party_rows: dict[str, tuple[Table, int]] = field(default_factory=dict)
    setting_cells: dict[str, CellRef] = field(default_factory=dict)


@dataclass
class Trail:
    """Cells of the merged input, so that checks across sheets can name ``Sheet!Cell``."""

    party_rows: dict[str, tuple[Table, int]] = field(default_factory=dict)  # normalised name
    subsidies: dict[str, CellRef] = field(default_factory=dict)  # normalised name
    hours: dict[str, CellRef] = field(default_factory=dict)  # normalised name
    fallback: CellRef | None = None  # the parties sheet of the first workbook

    def party(self, name: str, header: str = "Kommune") -> CellRef | None:
        found = self.party_rows.get(normalise(name))
        if found is None:
            return self.fallback
        table, index = found
        if normalise(header) not in table.headers:
            return table.ref(index)
        return table.ref(index, header)


def load_input(source: Path, today: date) -> tuple[SettlementInput, list[Notice]]:
    """Read and validate every workbook of ``source``; raise :class:`InputError` with all
    problems, or return the merged input and the warnings to show."""
    from kim_excel.reading import find_workbooks, open_elsewhere

    out = Collector()
    trail = Trail()
    parsed: list[WorkbookInput] = []
    for path in find_workbooks(source):
        lock = open_elsewhere(path)
        if lock is not None:
            program = "Excel" if lock.name.startswith("~$") else "LibreOffice"
            out.warn(None, f"{path.name} ist gerade in {program} geöffnet (Sperrdatei "
                           f"{lock.name}); nicht gespeicherte Änderungen sind in dieser "
                           f"Abrechnung nicht enthalten.")
        try:
            raw = read_workbook(path, ALL_SHEETS)
        except UnreadableWorkbook as exc:
            out.problems.append(exc.problem)
            continue
        item = parse_workbook(raw, today, out)
        # "Gemeinde Nottuln" → "Nottuln": one spelling for every check that follows
        parsed.append(with_party_names(item, item.parties, out.error))
    if out.problems:
        raise InputError(out.problems)
    merged = merge(parsed, out, trail)
    if out.problems or merged is None:
        raise InputError(out.problems)
    out.notices.extend(plausibility_of(parsed, today))
    merged = with_successors(merged, out)
    check_agreement(merged, out, trail)
    if out.problems:
        raise InputError(out.problems)
    return canonical(merged), out.notices


def plausibility_of(parsed: list[WorkbookInput], today: date) -> list[Notice]:
    """The plausibility warnings (kim_excel.plausibility): the agreement-wide settings once,
    each workbook's own terms once."""
    from kim_excel.plausibility import settings_warnings, terms_warnings

    first = next(p for p in parsed if p.settings is not None)
    notices = settings_warnings(first.settings, today, first.setting_cells)
    for item in parsed:
        if item.terms is not None:
            notices += terms_warnings(first.settings.year, item.terms, item.setting_cells)
    return notices


# ---------------------------------------------------------------- one workbook


def parse_workbook(raw: RawWorkbook, today: date, out: Collector) -> WorkbookInput:
    tables: dict[str, Table] = {}
    for sheet in ALL_SHEETS:
        table = raw.table(sheet)
        if table is None:
            if sheet in REQUIRED_SHEETS:
                out.error(CellRef(raw.name, sheet),
                          f"Das Blatt „{sheet}“ fehlt. Vorhandene Blätter: "
                          f"{', '.join(raw.sheet_names) or 'keine'}.")
            continue
        if check_structure(table, sheet, out):
            tables[sheet] = table
    setting_cells: dict[str, CellRef] = {}
    party_rows: dict[str, tuple[Table, int]] = {}
    parsed = parse_settings(tables[EINSTELLUNGEN], today, out, setting_cells) \
        if EINSTELLUNGEN in tables else None
    settings, terms = parsed if parsed else (None, None)
    parties = parse_parties(tables[VERTRAGSPARTEIEN], out, party_rows) \
        if VERTRAGSPARTEIEN in tables else ()
    year = settings.year if settings else None
    return WorkbookInput(
        file=raw.name,
        settings=settings,
        terms=terms,
        parties=tuple(parties),
        positions=parse_positions(tables.get(PERSONALKOSTEN), out),
        material_costs=parse_material(tables.get(SACHKOSTEN), out),
        subsidies=parse_keyed_amounts(tables.get(FOERDERUNG), "Anstellungskörperschaft",
                                      "Förderung erhalten", money_value, out),
        hours=parse_keyed_amounts(tables.get(STUNDEN), "Kommune", "Stunden", hours_value, out),
        advances=parse_advances(tables.get(ABSCHLAEGE), year, out),
        party_rows=party_rows,
        setting_cells=setting_cells,
    )


def check_structure(table: Table, sheet: str, out: Collector) -> bool:
    """Headers present, no merged cells, no formulas without results. False: skip the sheet."""
    missing = [h for h in REQUIRED_HEADERS[sheet] if normalise(h) not in table.headers]
    ok = True
    if missing:
        found = ", ".join(f"„{t}“" for t in table.header_texts.values()) or "keine"
        out.error(table.header_ref(),
                  f"Spalte(n) {', '.join(f'„{h}“' for h in missing)} fehlen in Zeile 1 "
                  f"(gefunden: {found}). Die Überschriften der Vorlage bitte unverändert "
                  f"lassen; die Reihenfolge der Spalten ist frei.")
        ok = False
    from kim_excel.reading import cell_name

    for (r1, c1), (r2, c2) in table.merged:
        out.error(CellRef(table.file, table.sheet, f"{cell_name(r1, c1)}:{cell_name(r2, c2)}"),
                  "verbundene Zellen im Datenbereich; bitte den Zellverbund aufheben "
                  "(Start › Verbinden und zentrieren).")
        ok = False
    for cell in sorted(table.uncached):
        out.error(CellRef(table.file, table.sheet, cell),
                  "enthält eine Formel ohne gespeichertes Ergebnis (die Datei wurde von einem "
                  "Programm gespeichert, das nicht rechnet). Bitte in Excel oder LibreOffice "
                  "öffnen, neu berechnen lassen und speichern.")
        ok = False
    return ok


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def data_rows(table: Table | None, headers: Iterable[str]):
    """Non-empty rows, as (row index, {header: value})."""
    if table is None:
        return
    columns = [(h, table.headers.get(normalise(h))) for h in headers]  # once per sheet
    for index, values in table.rows:
        width = len(values)
        row = {h: values[c] if c is not None and c < width else "" for h, c in columns}
        if all(is_empty(v) for v in row.values()):
            continue
        yield index, row


def describe(value: object) -> str:
    """A cell value as the clerk sees it in a German Excel: „1,5“, „WAHR“, 31.12.2024."""
    if isinstance(value, bool):
        return "„WAHR“" if value else "„FALSCH“"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, float):
        return f"„{repr(value).replace('.', ',')}“"
    if isinstance(value, Decimal) and value.is_finite():
        return f"„{format_decimal(value)}“"
    if isinstance(value, (date, datetime)):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):  # a cell formatted as time, or a date cell holding 0
        return f"„{value:%H:%M}“ (eine Uhrzeit)"
    return f"„{value}“"


# ------------------------------------------------------------------ cell values
# Each returns the typed value, or None after recording a problem.


def text_value(value: object) -> str:
    if is_empty(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.strftime("%d.%m.%Y")
    return str(value).strip()


def money_value(value: object, where: CellRef, out: Collector, required=True) -> Decimal | None:
    if is_empty(value):
        if required:
            out.error(where, "Betrag fehlt; erlaubt ist ein Betrag in EUR ab 0 (z. B. 1234,56).")
        return None
    if isinstance(value, str):
        value = german_number_text(value)
    try:
        exact = number(value)
    except NotMoney:
        out.error(where, f"{describe(value)} ist kein Betrag; erlaubt ist ein Betrag in EUR "
                         f"ab 0 (z. B. 1234,56).")
        return None
    if abs(exact) >= MAX_AMOUNT:
        out.error(where, f"{describe(value)} ist kein plausibler Betrag; erlaubt sind Beträge "
                         f"ab 0 und unter {MAX_AMOUNT:,} EUR.".replace(",", "."))
        return None
    try:
        amount = money(value)
    except NotMoney:
        out.error(where, f"{describe(value)} hat Bruchteile eines Cents (bitte auf 2 "
                         f"Nachkommastellen runden, z. B. mit =RUNDEN(…;2)); erlaubt ist ein "
                         f"Betrag in EUR ab 0.")
        return None
    if amount < 0:
        out.error(where, f"{describe(value)} ist negativ; erlaubt sind Beträge ab 0.")
        return None
    return amount


def german_number_text(text: str) -> str:
    """``"1.234,56 €"`` → ``"1234.56"``; text that is no number stays as it is."""
    t = text.strip().replace("€", "").replace("EUR", "").replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", t):
        t = t.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d+,\d+", t):
        t = t.replace(",", ".")
    return t if _is_number_text(t) else text


def _is_number_text(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", text.strip()))


def number_value(value: object, where: CellRef, out: Collector, what: str) -> Decimal | None:
    if is_empty(value):
        out.error(where, f"Wert fehlt; erwartet: {what}.")
        return None
    if isinstance(value, str):
        value = german_number_text(value)
    try:
        return number(value)
    except NotMoney:
        out.error(where, f"{describe(value)} ist keine Zahl; erwartet: {what}.")
        return None


def hours_value(value: object, where: CellRef, out: Collector, required=True) -> Decimal | None:
    hours = number_value(value, where, out, "Stunden (Zahl ab 0)")
    if hours is not None and hours < 0:
        out.error(where, f"{describe(value)} ist negativ; erlaubt sind Stunden ab 0.")
        return None
    return hours


def date_value(value: object, where: CellRef, out: Collector, what: str) -> date | None:
    result = None
    if isinstance(value, datetime):
        result = value.date()
    elif isinstance(value, date):
        result = value
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*", value)
        if match:
            try:
                result = date(int(match[3]), int(match[2]), int(match[1]))
            except ValueError:
                result = None
    if result is None:
        out.error(where, f"{describe(value)} ist kein gültiges Datum; erwartet: {what} "
                         f"(TT.MM.JJJJ).")
        return None
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        out.error(where, f"{describe(result)} liegt außerhalb der Jahre {MIN_YEAR} bis "
                         f"{MAX_YEAR}; erwartet: {what} (TT.MM.JJJJ).")
        return None
    return result


def int_value(value: object, where: CellRef, out: Collector, what: str, low: int,
              high: int) -> int | None:
    result = number_value(value, where, out, what)
    if result is None:
        return None
    if result != result.to_integral_value() or not low <= result <= high:
        out.error(where, f"{describe(value)} ist ungültig; erwartet: {what}, eine ganze Zahl "
                         f"von {low} bis {high}.")
        return None
    return int(result)


# ---------------------------------------------------------------------- sheets


def parse_settings(table: Table, today: date, out: Collector,
                   cells: dict[str, CellRef] | None = None) -> tuple[Settings, Terms] | None:
    """The agreement-wide settings and the employer's own (SPEC § 4); None when broken."""
    rows: dict[str, tuple[object, CellRef]] = {}
    known = {normalise(n): n for n in SETTINGS_ROWS}
    for index, row in data_rows(table, ("Einstellung", "Wert")):
        key = normalise(row["Einstellung"])
        name = known.get(key)
        if name is None:
            out.warn(table.ref(index, "Einstellung"),
                     f"unbekannte Einstellung {describe(row['Einstellung'])} wird ignoriert "
                     f"(bekannt: {', '.join(SETTINGS_ROWS)}).")
            continue
        if name in rows:
            out.error(table.ref(index, "Einstellung"),
                      f"Einstellung „{name}“ steht doppelt (zuerst in {rows[name][1]}).")
            continue
        rows[name] = (row["Wert"], table.ref(index, "Wert"))
    if cells is not None:
        cells.update({name: where for name, (_, where) in rows.items()})

    def get(name: str) -> tuple[object, CellRef]:
        return rows.get(name, ("", CellRef(table.file, table.sheet)))

    value, where = get(S_YEAR)
    if S_YEAR not in rows:
        out.error(where, f"die Zeile „{S_YEAR}“ fehlt in Spalte „Einstellung“; erwartet: in "
                         f"„Wert“ eine Jahreszahl wie 2024.")
        year = None
    elif is_empty(value):
        out.error(where, f"„{S_YEAR}“ fehlt; erwartet: eine Jahreszahl wie 2024 in Spalte "
                         f"„Wert“.")
        year = None
    else:
        year = int_value(value, where, out, "Abrechnungsjahr", 2000, 2100)

    value, where = get(S_RATE)
    rate = None if is_empty(value) else money_value(value, where, out)
    lapsed = yes_no(*get(S_LAPSED), out)
    vat_rate = vat_value(*get(S_VAT), out)
    vat_note = text_value(get(S_VAT_NOTE)[0])
    value, where = get(S_PAYMENT)
    payment = 30 if is_empty(value) else int_value(value, where, out, "Zahlungsziel in Tagen",
                                                   0, 365)
    value, where = get(S_NOTICE)
    notice = 18 if is_empty(value) else int_value(value, where, out,
                                                  "Kündigungsfrist in Monaten", 0, 120)
    value, where = get(S_DATE)
    settled = today if is_empty(value) else date_value(value, where, out, "Datum der Abrechnung")
    value, where = get(S_END)
    end = None if is_empty(value) else date_value(value, where, out, "Vertrag beendet zum")
    if end is not None and (end.month, end.day) != (12, 31):
        # Costs are entered per calendar year, not per month: the months of the end year
        # after a mid-year end could not be told apart from those before it (R12).
        out.error(where, f"{describe(end)}: als Vertragsende kann nur der 31.12. eines Jahres "
                         f"eingetragen werden, weil die Kosten je Kalenderjahr erfasst werden. "
                         f"Die Monate nach einem Ende im Laufe des Jahres (§ 4 Abs. 3) bitte "
                         f"gesondert abrechnen.")
        end = None
    if None in (year, lapsed, vat_rate, payment, notice, settled) or (
        not is_empty(get(S_RATE)[0]) and rate is None) or (
        not is_empty(get(S_END)[0]) and end is None
    ):
        return None
    if not vat_note:
        out.warn(get(S_VAT_NOTE)[1], "„Hinweis Umsatzsteuer“ ist leer: die Abrechnungen "
                                     "tragen keinen Hinweis zur Umsatzsteuer.")
    settings = Settings(year=year, subsidy_rate=rate, subsidy_lapsed=lapsed,
                        notice_months=notice, contract_end=end)
    terms = Terms(
        settlement_date=settled, date_given=not is_empty(get(S_DATE)[0]), payment_days=payment,
        vat_rate=vat_rate, vat_note=vat_note, aktenzeichen=text_value(get(S_AZ)[0]),
        buchungsstelle=text_value(get(S_BUCHUNG)[0]),
    )
    return settings, terms


def yes_no(value: object, where: CellRef, out: Collector) -> bool | None:
    if isinstance(value, bool):
        return value
    text = normalise(text_value(value))
    if text in YES:
        return True
    if text in NO:
        return False
    out.error(where, f"{describe(value)} ist ungültig; erlaubt: Ja oder Nein.")
    return None


def vat_value(value: object, where: CellRef, out: Collector) -> Decimal | None:
    """``19`` and a percent-formatted ``0.19`` both mean 19 %; result is a fraction."""
    if is_empty(value):
        return Decimal(0)
    if isinstance(value, str):
        value = value.strip().removesuffix("%").strip()
    rate = number_value(value, where, out, "Umsatzsteuersatz in Prozent (z. B. 19)")
    if rate is None:
        return None
    fraction = rate / 100 if rate >= 1 else rate
    if not 0 <= fraction < 1:
        out.error(where, f"{describe(value)} ist kein gültiger Umsatzsteuersatz; erlaubt: "
                         f"0 bis unter 100 Prozent.")
        return None
    return fraction


def parse_parties(table: Table, out: Collector,
                  rows: dict[str, tuple[Table, int]] | None = None) -> list[Party]:
    headers = REQUIRED_HEADERS[VERTRAGSPARTEIEN] + OPTIONAL_HEADERS[VERTRAGSPARTEIEN]
    parties: list[Party] = []
    seen: dict[str, CellRef] = {}
    for index, row in data_rows(table, headers):
        def at(header: str, index=index) -> CellRef:
            return table.ref(index, header) if normalise(header) in table.headers \
                else table.ref(index)

        name = text_value(row["Kommune"])
        ok = True
        if not name:
            out.error(at("Kommune"), "Name der Kommune fehlt.")
            ok = False
        elif normalise(name) in seen:
            out.error(at("Kommune"), f"„{name}“ steht doppelt (zuerst in {seen[normalise(name)]}).")
            ok = False
        else:
            seen[normalise(name)] = at("Kommune")
        required_texts = {h: text_value(row[h]) for h in ("Bezeichnung", "Region", "Straße",
                                                          "Ort")}
        for header, text in required_texts.items():
            if not text:
                out.error(at(header), f"„{header}“ fehlt für {name or 'diese Zeile'}.")
                ok = False
        role_text = text_value(row["Rolle"])
        role = next((r for r in ROLES if normalise(r) == normalise(role_text)), None)
        if role is None:
            out.error(at("Rolle"), f"{describe(role_text)} ist keine Rolle; erlaubt: "
                                   f"{EMPLOYER} oder {PARTNER}.")
            ok = False
        share = number_value(row["Stundenanteil"], at("Stundenanteil"), out,
                             "Stundenanteil in VZÄ (z. B. 0,625)")
        if share is not None and share < 0:
            out.error(at("Stundenanteil"), f"{describe(row['Stundenanteil'])} ist negativ; "
                                           f"erlaubt ist ein Stundenanteil ab 0.")
            share = None
        exit_date = None
        if not is_empty(row["Ausgeschieden zum"]):
            exit_date = date_value(row["Ausgeschieden zum"], at("Ausgeschieden zum"), out,
                                   "31.12. eines Jahres")
            if exit_date is not None and (exit_date.month, exit_date.day) != (12, 31):
                out.error(at("Ausgeschieden zum"),
                          f"{describe(exit_date)}: ausscheiden kann man nur zum Ende eines "
                          f"Kalenderjahres (31.12.), § 4 Abs. 2 der Vereinbarung.")
                exit_date = None
                ok = False
            elif exit_date is None:
                ok = False
        postcode = postcode_value(row["PLZ"], at("PLZ"), out)
        email = text_value(row["E-Mail"])
        if email and not EMAIL.match(email):
            out.error(at("E-Mail"), f"„{email}“ ist keine gültige E-Mail-Adresse.")
            ok = False
        iban, bic, bank = (text_value(row[h]) for h in ("IBAN", "BIC", "Kreditinstitut"))
        if role == EMPLOYER or iban:
            iban = iban_value(iban, at("IBAN"), out, name, required=role == EMPLOYER)
            bic = bic_value(bic, at("BIC"), out, name, required=role == EMPLOYER)
            if role == EMPLOYER and not bank:
                out.error(at("Kreditinstitut"), f"Kreditinstitut fehlt für die "
                                                f"Anstellungskörperschaft {name}.")
                ok = False
            ok = ok and iban is not None and bic is not None
        if not ok or share is None or postcode is None:
            continue
        if rows is not None:
            rows[normalise(name)] = (table, index)
        parties.append(Party(
            name=name, bezeichnung=required_texts["Bezeichnung"],
            region=required_texts["Region"], role=role, stundenanteil=share,
            exit_date=exit_date, street=required_texts["Straße"], postcode=postcode,
            city=required_texts["Ort"], email=email, iban=iban or "", bic=bic or "",
            bank=bank, contact=text_value(row["Ansprechpartner"]),
            phone=text_value(row["Telefon"]), kassenzeichen=text_value(row["Kassenzeichen"]),
            where=at("Kommune"),
        ))
    if not parties and not out.problems:
        out.error(table.header_ref(), "Es sind keine Vertragsparteien eingetragen.")
    return parties


def postcode_value(value: object, where: CellRef, out: Collector) -> str | None:
    text = text_value(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and len(text) == 4:
        text = "0" + text  # a number cell loses the leading zero of 0xxxx
    if not re.fullmatch(r"\d{5}", text):
        out.error(where, f"{describe(value) if text else 'PLZ fehlt'}: erwartet wird eine "
                         f"fünfstellige Postleitzahl.")
        return None
    return text


def iban_value(text: str, where: CellRef, out: Collector, name: str, required: bool):
    if not text:
        if required:
            out.error(where, f"IBAN fehlt für die Anstellungskörperschaft {name}: sie steht "
                             f"auf jeder Abrechnung als Zahlungsverbindung.")
        return None if required else ""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(text).compact
    except SchwiftyException as exc:
        reason = IBAN_REASONS.get(type(exc).__name__, "ungültig")
        out.error(where, f"„{text}“ ist keine gültige IBAN ({reason}); erwartet: eine IBAN wie "
                         f"DE02 1203 0000 0000 2020 51.")
        return None


IBAN_REASONS = {  # schwifty's exceptions, in the clerk's words
    "InvalidStructure": "unzulässige Zeichen",
    "InvalidLength": "falsche Länge, in Deutschland 22 Zeichen",
    "InvalidChecksumDigits": "die Prüfziffer stimmt nicht, vermutlich ein Tippfehler",
    "InvalidCountryCode": "unbekanntes Länderkennzeichen",
    "InvalidBBANChecksum": "die Kontonummer passt nicht zur Prüfziffer",
    "InvalidBankCode": "unbekannte Bankleitzahl",
    "InvalidAccountCode": "ungültige Kontonummer",
    "InvalidBranchCode": "ungültige Filialnummer",
}


def bic_value(text: str, where: CellRef, out: Collector, name: str, required: bool):
    compact = text.replace(" ", "").upper()
    if not compact:
        if required:
            out.error(where, f"BIC fehlt für die Anstellungskörperschaft {name}.")
        return None if required else ""
    if not BIC.match(compact):
        out.error(where, f"„{text}“ ist keine gültige BIC (8 oder 11 Zeichen, z. B. "
                         f"WELADED1COE).")
        return None
    return compact


def parse_positions(table: Table | None, out: Collector) -> list[Position]:
    positions = []
    for index, row in data_rows(table, REQUIRED_HEADERS[PERSONALKOSTEN]):
        at = table.ref
        employer = text_value(row["Anstellungskörperschaft"])
        label = text_value(row["Stelle"])
        if not employer:
            out.error(at(index, "Anstellungskörperschaft"), "Anstellungskörperschaft fehlt.")
        if not label:
            out.error(at(index, "Stelle"), "Bezeichnung der Stelle fehlt (z. B. „Case-"
                                           "Management 1“).")
        vzae = number_value(row["VZÄ"], at(index, "VZÄ"), out, "VZÄ über 0 bis 1")
        if vzae is not None and not 0 < vzae <= 1:
            out.error(at(index, "VZÄ"), f"{describe(row['VZÄ'])} ist ungültig; erlaubt sind "
                                        f"VZÄ über 0 bis höchstens 1 je Stelle.")
            vzae = None
        months = number_value(row["Monate"], at(index, "Monate"), out, "Monate von 0 bis 12")
        if months is not None and not 0 <= months <= 12:
            out.error(at(index, "Monate"), f"{describe(row['Monate'])} ist ungültig; erlaubt "
                                           f"sind 0 bis 12 Monate (auch Bruchteile wie 7,5).")
            months = None
        costs = money_value(row["Personalkosten"], at(index, "Personalkosten"), out)
        if employer and label and None not in (vzae, months, costs):
            positions.append(Position(employer, label, vzae, months, costs,
                                      at(index, "Anstellungskörperschaft"),
                                      months_where=at(index, "Monate")))
    return positions


def parse_material(table: Table | None, out: Collector) -> list[MaterialCost]:
    costs = []
    allowed = {normalise(k): k for k in KOSTENARTEN}
    for index, row in data_rows(table, REQUIRED_HEADERS[SACHKOSTEN]):
        at = table.ref
        employer = text_value(row["Anstellungskörperschaft"])
        if not employer:
            out.error(at(index, "Anstellungskörperschaft"), "Anstellungskörperschaft fehlt.")
        kind_text = text_value(row["Kostenart"])
        kind = allowed.get(normalise(kind_text))
        if kind is None:
            hint = " Personalkosten gehören auf das Blatt „Personalkosten“." if \
                normalise(kind_text).startswith("personal") and "pauschale" not in \
                normalise(kind_text) else ""
            out.error(at(index, "Kostenart"),
                      f"{describe(kind_text) if kind_text else 'Kostenart fehlt'}: abrechenbar "
                      f"sind nach § 2 der Vereinbarung nur {', '.join(KOSTENARTEN)}.{hint}")
        amount = money_value(row["Betrag"], at(index, "Betrag"), out)
        if employer and kind and amount is not None:
            costs.append(MaterialCost(employer, kind, text_value(row["Bezeichnung"]), amount,
                                      at(index, "Anstellungskörperschaft")))
    return costs


def parse_keyed_amounts(table: Table | None, key_header: str, value_header: str,
                        parse: Callable, out: Collector) -> dict[str, tuple[Decimal, CellRef]]:
    result: dict[str, tuple[Decimal, CellRef]] = {}
    spelled: dict[str, str] = {}  # normalised → first spelling: "Olfen" and "OLFEN" are one
    for index, row in data_rows(table, (key_header, value_header)):
        name = text_value(row[key_header])
        where = table.ref(index, key_header)
        if not name:
            out.error(where, f"„{key_header}“ fehlt.")
            continue
        if normalise(name) in spelled:
            first = result.get(spelled[normalise(name)])
            out.error(where, f"„{name}“ steht doppelt"
                             + (f" (zuerst in {first[1]})" if first else "")
                             + "; erlaubt ist eine Zeile je Kommune.")
            continue
        spelled[normalise(name)] = name
        amount = parse(row[value_header], table.ref(index, value_header), out)
        if amount is not None:
            result[name] = (amount, where)
    return result


def parse_advances(table: Table | None, year: int | None, out: Collector) -> list[Advance]:
    advances = []
    for index, row in data_rows(table, REQUIRED_HEADERS[ABSCHLAEGE]):
        name = text_value(row["Kommune"])
        where = table.ref(index, "Kommune")
        if not name:
            out.error(where, "Kommune fehlt.")
        paid_on = date_value(row["Datum"], table.ref(index, "Datum"), out,
                             "Tag der Zahlung") if not is_empty(row["Datum"]) else None
        if is_empty(row["Datum"]):
            out.error(table.ref(index, "Datum"), "Datum des Abschlags fehlt (TT.MM.JJJJ).")
        amount = money_value(row["Betrag"], table.ref(index, "Betrag"), out)
        if paid_on and year and paid_on.year != year:
            out.warn(table.ref(index, "Datum"),
                     f"Abschlag vom {describe(paid_on)} liegt nicht im Abrechnungsjahr {year}; "
                     f"er wird trotzdem angerechnet.")
        if name and paid_on and amount is not None:
            advances.append(Advance(name, paid_on, amount, where))
    return advances


# ------------------------------------------------------------- across workbooks


def merge(parsed: list[WorkbookInput], out: Collector,
          trail: Trail | None = None) -> SettlementInput | None:
    """One input from several workbooks: settings and parties must agree, costs of an
    employer may come from one workbook only."""
    if not parsed:
        return None
    trail = trail if trail is not None else Trail()
    first = parsed[0]
    trail.party_rows = dict(first.party_rows)
    trail.fallback = CellRef(first.file, VERTRAGSPARTEIEN)
    for other in parsed[1:]:
        if first.settings and other.settings and first.settings != other.settings:
            diff = [f.name for f in fields(Settings)
                    if getattr(first.settings, f.name) != getattr(other.settings, f.name)]
            labels = [SETTING_LABELS.get(d, d) for d in diff]
            out.error(other.setting_cells.get(labels[0], CellRef(other.file, EINSTELLUNGEN)),
                      f"die Einstellungen für die ganze Vereinbarung weichen von {first.file} "
                      f"ab ({', '.join(setting_difference(first, other, d) for d in diff)}); "
                      f"sie müssen in allen Arbeitsmappen eines Laufs gleich sein.")
        if first.parties != other.parties:
            where, detail = party_difference(first.parties, other.parties, other)
            out.error(where or CellRef(other.file, VERTRAGSPARTEIEN),
                      f"die Vertragsparteien weichen von {first.file} ab{detail}; alle "
                      f"Arbeitsmappen eines Laufs brauchen dieselben Vertragsparteien.")
    if first.settings is None or out.problems:
        return None

    cost_file: dict[str, str] = {}
    terms: dict[str, Terms] = {}  # normalised employer → the terms of its costs' workbook
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
    subsidies = merge_keyed([(wb.file, wb.subsidies) for wb in parsed], FOERDERUNG, out)
    hours = merge_keyed([(wb.file, wb.hours) for wb in parsed], STUNDEN, out)
    trail.subsidies = {normalise(k): where for k, (_, where) in subsidies.items()}
    trail.hours = {normalise(k): where for k, (_, where) in hours.items()}
    advances: list[Advance] = []
    seen_advances: dict[tuple, str] = {}
    for wb in parsed:
        for advance in wb.advances:
            key = (normalise(advance.party), advance.paid_on, advance.amount)
            if key in seen_advances and seen_advances[key] != wb.file:
                out.error(advance.where, f"derselbe Abschlag ({advance.party}, "
                                         f"{describe(advance.paid_on)}) steht auch in "
                                         f"{seen_advances[key]}; er würde doppelt angerechnet.")
            seen_advances.setdefault(key, wb.file)
            advances.append(advance)
    return SettlementInput(
        settings=first.settings,
        parties=first.parties,
        positions=tuple(p for wb in parsed for p in wb.positions),
        material_costs=tuple(c for wb in parsed for c in wb.material_costs),
        subsidies_received={k: v for k, (v, _) in subsidies.items()},
        hours={k: v for k, (v, _) in hours.items()},
        advances=tuple(advances),
        sources=tuple(wb.file for wb in parsed),
        terms={p.name: terms[normalise(p.name)] for p in first.parties
               if p.is_employer and normalise(p.name) in terms},
    )


SETTING_LABELS = {  # the agreement-wide settings (model.Settings)
    "year": S_YEAR, "subsidy_rate": S_RATE, "subsidy_lapsed": S_LAPSED,
    "notice_months": S_NOTICE, "contract_end": S_END,
}


PARTY_LABELS = {
    "name": "Kommune", "bezeichnung": "Bezeichnung", "region": "Region", "role": "Rolle",
    "stundenanteil": "Stundenanteil", "exit_date": "Ausgeschieden zum", "street": "Straße",
    "postcode": "PLZ", "city": "Ort", "email": "E-Mail", "iban": "IBAN", "bic": "BIC",
    "bank": "Kreditinstitut", "contact": "Ansprechpartner", "phone": "Telefon",
    "kassenzeichen": "Kassenzeichen",
}


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
    def cell(name: str, header: str = "Kommune") -> CellRef | None:
        if other is None or normalise(name) not in other.party_rows:
            return None
        table, index = other.party_rows[normalise(name)]
        return table.ref(index, header) if normalise(header) in table.headers else None

    names_a, names_b = {p.name for p in a}, {p.name for p in b}
    if names_a != names_b:
        only_b = sorted(names_b - names_a)
        only = sorted(names_a ^ names_b)
        return (cell(only_b[0]) if only_b else None,
                f" (nur in einer der beiden: {', '.join(only)})")
    by_name = {p.name: p for p in b}
    for party in a:
        theirs = by_name[party.name]
        if party != theirs:
            field_name = next(f.name for f in fields(Party) if f.compare
                              and getattr(party, f.name) != getattr(theirs, f.name))
            label = PARTY_LABELS.get(field_name, field_name)
            return (cell(party.name, label),
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


# ------------------------------------------------------------- the agreement


def with_successors(inp: SettlementInput, out: Collector) -> SettlementInput:
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
            out.notices.append(Notice(
                f"{successor.name} ist als neue Anstellungskörperschaft der Region {region} "
                f"benannt und übernimmt ab {start}; {year} rechnet noch "
                f"{leaving[0].name} ab, {successor.name} ist {year} Partnerkommune.",
                Severity.INFO, successor.where))
    return replace(inp, parties=tuple(parties))


def check_agreement(inp: SettlementInput, out: Collector, trail: Trail | None = None) -> None:
    """Checks across sheets: roles, regions, names used in the cost sheets, hours, R12."""
    year = inp.settings.year
    by_name = {normalise(p.name): p for p in inp.parties}
    if trail is None:
        trail = Trail(fallback=CellRef(inp.sources[0] if inp.sources else "", VERTRAGSPARTEIEN))
    by_region: dict[str, list[Party]] = {}
    for p in inp.parties:
        by_region.setdefault(p.region, []).append(p)
    wind_down_year = inp.settings.contract_end.year if inp.settings.contract_end and \
        year > inp.settings.contract_end.year else None
    hours_given = {normalise(n) for n in inp.hours}
    for region, members in by_region.items():
        active = [p for p in members if p.is_active_in(wind_down_year or year)]
        employers = [p for p in active if p.is_employer]
        left_employers = [p for p in members if p.is_employer and p not in active]
        if len(employers) > 1:
            out.error(trail.party(employers[1].name, "Rolle"),
                      f"Region {region} hat {year} mehrere Anstellungskörperschaften "
                      f"({', '.join(p.name for p in employers)}); erlaubt ist genau eine. "
                      f"Eine Nachfolgerin setzt voraus, dass die bisherige ausgeschieden ist "
                      f"(„Ausgeschieden zum“ 31.12. eines früheren Jahres).")
        elif not employers and left_employers:
            out.error(trail.party(left_employers[0].name),
                      f"Anstellungskörperschaft {left_employers[0].name} ist zum "
                      f"{describe(left_employers[0].exit_date)} ausgeschieden, für Region "
                      f"{region} ist aber keine neue benannt (eine weitere Zeile der Region "
                      f"mit der Rolle {EMPLOYER}). Ohne Anstellungskörperschaft kann die "
                      f"Region nicht abgerechnet werden.")
        elif not employers:
            out.error(trail.party(members[0].name, "Region"),
                      f"Region {region} hat keine Anstellungskörperschaft; genau eine Partei "
                      f"der Region braucht die Rolle {EMPLOYER} (geschrieben wie in der "
                      f"Vorlage, auch die Region).")
        key_by_share = not (inp.settings.subsidy_lapsed or wind_down_year is not None or any(
            normalise(p.name) in hours_given for p in active))
        if employers and key_by_share and sum((p.stundenanteil for p in members),
                                              Decimal(0)) == 0:
            out.error(trail.party(active[0].name, "Stundenanteil"),
                      f"Region {region}: alle Stundenanteile sind 0, so lässt sich der "
                      f"Eigenanteil nicht verteilen; erlaubt ist ein Stundenanteil über 0 "
                      f"(z. B. 0,5) für mindestens eine Partei.")

    def employer_of(name: str, where: CellRef | None) -> None:
        party = by_name.get(normalise(name))
        if party is None:
            out.error(where, unknown_party(
                name, inp.parties, f"erlaubt sind die Anstellungskörperschaften aus dem Blatt "
                f"„{VERTRAGSPARTEIEN}“ ({', '.join(p.name for p in inp.parties if p.is_employer)})"
                f"."))
        elif not party.is_employer:
            out.error(where, f"{name} ist keine Anstellungskörperschaft, sondern "
                             f"{party.role}; Kosten rechnen nur die Anstellungskörperschaften ab.")
        elif not party.is_active_in(wind_down_year or year):
            out.error(where, f"{name} ist zum {describe(party.exit_date)} ausgeschieden und "
                             f"kann für {year} keine Kosten abrechnen.")

    for position in inp.positions:
        employer_of(position.employer, position.where)
    for cost in inp.material_costs:
        employer_of(cost.employer, cost.where)
    for employer in inp.subsidies_received:
        employer_of(employer, trail.subsidies.get(normalise(employer),
                                                  CellRef(inp.sources[0], FOERDERUNG)))
    check_hours(inp, by_name, wind_down_year or year, out, trail)
    for advance in inp.advances:
        party = by_name.get(normalise(advance.party))
        if party is None:
            out.error(advance.where, unknown_party(
                advance.party, inp.parties, f"Abschläge zahlen nur die Partnerkommunen aus dem "
                                            f"Blatt „{VERTRAGSPARTEIEN}“."))
        elif party.is_employer:
            out.error(advance.where, f"{advance.party} ist Anstellungskörperschaft; Abschläge "
                                     f"zahlen nur Partnerkommunen.")
        elif not party.is_active_in(wind_down_year or year):
            out.error(advance.where, f"{advance.party} ist zum {describe(party.exit_date)} "
                                     f"ausgeschieden und ist {year} keine Partnerkommune mehr.")
    check_file_names(inp, wind_down_year or year, out, trail)
    if wind_down_year is not None:
        check_wind_down(inp, out)


def check_file_names(inp: SettlementInput, year: int, out: Collector, trail: Trail) -> None:
    """Two partners must not get the same file after transliteration (``a/b`` and ``a_b``;
    ``Lüdinghausen`` and ``Luedinghausen``), or one bill would overwrite the other."""
    from kim_excel.output import ascii_name

    taken: dict[str, str] = {}
    for party in inp.parties:
        if party.is_employer or not party.is_active_in(year):
            continue
        key = ascii_name(party.name).lower()
        if key in taken:
            out.error(trail.party(party.name),
                      f"„{party.name}“ und „{taken[key]}“ ergäben denselben Dateinamen "
                      f"Abrechnung_{inp.settings.year}_{ascii_name(party.name)}.xlsx; bitte "
                      f"einen der Namen eindeutig machen (Buchstaben und Ziffern genügen).")
        else:
            taken[key] = party.name


def check_hours(inp: SettlementInput, by_name: dict[str, Party], year: int,
                out: Collector, trail: Trail | None = None) -> None:
    trail = trail or Trail()
    sheet = CellRef(inp.sources[0] if inp.sources else "", STUNDEN)

    def where(name: str) -> CellRef:
        return trail.hours.get(normalise(name), sheet)

    for name in inp.hours:
        party = by_name.get(normalise(name))
        if party is None:
            out.error(where(name), unknown_party(
                name, inp.parties, f"Stunden gibt es nur für die Kommunen aus dem Blatt "
                                   f"„{VERTRAGSPARTEIEN}“."))
        elif not party.is_active_in(year):
            out.error(where(name), f"{name} ist zum {describe(party.exit_date)} ausgeschieden; "
                                   f"für {year} sind keine Stunden anzugeben.")
    if not inp.hours:
        return
    given = {normalise(n): n for n in inp.hours}
    by_region: dict[str, list[Party]] = {}
    for p in inp.parties:
        if p.is_active_in(year):
            by_region.setdefault(p.region, []).append(p)
    for region, active in by_region.items():
        with_hours = [p for p in active if normalise(p.name) in given]
        if with_hours and len(with_hours) < len(active):
            missing = [p.name for p in active if p not in with_hours]
            out.error(where(given[normalise(with_hours[0].name)]),
                      f"Region {region}: Stunden fehlen für {', '.join(missing)}. Stunden "
                      f"gelten als Schlüssel nur für alle Parteien einer Region zugleich "
                      f"(oder für keine): bitte für {', '.join(missing)} ergänzen oder die "
                      f"Stunden der Region löschen.")
        elif with_hours and sum(inp.hours[given[normalise(p.name)]] for p in active) == 0:
            out.error(where(given[normalise(with_hours[0].name)]),
                      f"Region {region}: die Summe der Stunden ist 0; erlaubt sind Stunden "
                      f"ab 0, zusammen über 0.")


def wind_down_months(end: date, year: int) -> int:
    """R12: how many months of ``year`` lie within 12 months after the end (31 Dec).

    >>> wind_down_months(date(2025, 12, 31), 2026), wind_down_months(date(2025, 12, 31), 2027)
    (12, 0)
    """
    from dateutil.relativedelta import relativedelta

    limit = end + relativedelta(months=12)
    return sum(1 for m in range(1, 13) if end < date(year, m, 1) and
               (date(year, m, 1) + relativedelta(months=1, days=-1)) <= limit)


def check_wind_down(inp: SettlementInput, out: Collector) -> None:
    """R12: costs after the end count for at most 12 months past the end date; a year
    wholly beyond that has no shared costs at all."""
    end = inp.settings.contract_end
    year = inp.settings.year
    months = wind_down_months(end, year)
    rule = (f"nach dem Vertragsende am {describe(end)} werden Kosten höchstens 12 Monate lang "
            f"geteilt (§ 4 Abs. 3)")
    for position in inp.positions:
        if position.months > months or (months == 0 and position.personnel_costs > 0):
            out.error(position.months_where or position.where,
                      f"Stelle „{position.label}“: {format_decimal(position.months)} Monate in "
                      f"{year}, aber {rule}; in {year} sind das {months} Monate.")
    if months == 0:
        for cost in inp.material_costs:
            if cost.amount > 0:
                out.error(cost.where,
                          f"Sachkosten „{cost.label or cost.kind}“ in {year}: {rule}, also "
                          f"längstens bis zum {describe(date(end.year + 1, 12, 31))}; für "
                          f"{year} sind keine Kosten mehr abzurechnen.")


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
