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
from datetime import date, datetime
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
)
from kim_excel.money import NotMoney, format_decimal, money, number
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
    settings: Settings | None
    parties: tuple[Party, ...]
    positions: list[Position]
    material_costs: list[MaterialCost]
    subsidies: dict[str, tuple[Decimal, CellRef]]
    hours: dict[str, tuple[Decimal, CellRef]]
    advances: list[Advance]


def load_input(source: Path, today: date) -> tuple[SettlementInput, list[Notice]]:
    """Read and validate every workbook of ``source``; raise :class:`InputError` with all
    problems, or return the merged input and the warnings to show."""
    from kim_excel.reading import find_workbooks

    out = Collector()
    parsed: list[WorkbookInput] = []
    for path in find_workbooks(source):
        try:
            raw = read_workbook(path, ALL_SHEETS)
        except UnreadableWorkbook as exc:
            out.problems.append(exc.problem)
            continue
        parsed.append(parse_workbook(raw, today, out))
    if out.problems:
        raise InputError(out.problems)
    merged = merge(parsed, out)
    if out.problems or merged is None:
        raise InputError(out.problems)
    check_agreement(merged, out)
    if out.problems:
        raise InputError(out.problems)
    return canonical(merged), out.notices


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
    settings = parse_settings(tables[EINSTELLUNGEN], today, out) if EINSTELLUNGEN in tables \
        else None
    parties = parse_parties(tables[VERTRAGSPARTEIEN], out) if VERTRAGSPARTEIEN in tables else ()
    year = settings.year if settings else None
    return WorkbookInput(
        file=raw.name,
        settings=settings,
        parties=tuple(parties),
        positions=parse_positions(tables.get(PERSONALKOSTEN), out),
        material_costs=parse_material(tables.get(SACHKOSTEN), out),
        subsidies=parse_keyed_amounts(tables.get(FOERDERUNG), "Anstellungskörperschaft",
                                      "Förderung erhalten", money_value, out),
        hours=parse_keyed_amounts(tables.get(STUNDEN), "Kommune", "Stunden", hours_value, out),
        advances=parse_advances(tables.get(ABSCHLAEGE), year, out),
    )


def check_structure(table: Table, sheet: str, out: Collector) -> bool:
    """Headers present, no merged cells, no formulas without results. False: skip the sheet."""
    missing = [h for h in REQUIRED_HEADERS[sheet] if normalise(h) not in table.headers]
    ok = True
    if missing:
        found = [h for h in table.headers] or ["keine"]
        out.error(table.header_ref(),
                  f"Spalte(n) {', '.join(f'„{h}“' for h in missing)} fehlen in Zeile 1 "
                  f"(gefunden: {', '.join(found)}).")
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
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (date, datetime)):
        return value.strftime("%d.%m.%Y")
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
        amount = money(value)
    except NotMoney:
        reason = "hat Bruchteile eines Cents (bitte auf 2 Nachkommastellen runden, z. B. " \
                 "mit =RUNDEN(…;2))" if isinstance(value, (float, int, Decimal)) or (
                     isinstance(value, str) and _is_number_text(value)) else "ist kein Betrag"
        out.error(where, f"{describe(value)} {reason}; erlaubt ist ein Betrag in EUR ab 0.")
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
        out.error(where, f"{what} fehlt.")
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
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*", value)
        if match:
            try:
                return date(int(match[3]), int(match[2]), int(match[1]))
            except ValueError:
                pass
    out.error(where, f"{describe(value)} ist kein gültiges Datum; erwartet: {what} "
                     f"(TT.MM.JJJJ).")
    return None


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


def parse_settings(table: Table, today: date, out: Collector) -> Settings | None:
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

    def get(name: str) -> tuple[object, CellRef]:
        return rows.get(name, ("", CellRef(table.file, table.sheet, f"Zeile „{name}“")))

    value, where = get(S_YEAR)
    if is_empty(value):
        out.error(where, "Abrechnungsjahr fehlt; erwartet: eine Jahreszahl wie 2024.")
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
    if None in (year, lapsed, vat_rate, payment, notice, settled) or (
        not is_empty(get(S_RATE)[0]) and rate is None) or (
        not is_empty(get(S_END)[0]) and end is None
    ):
        return None
    if not vat_note:
        out.warn(get(S_VAT_NOTE)[1], "„Hinweis Umsatzsteuer“ ist leer: die Abrechnungen "
                                     "tragen keinen Hinweis zur Umsatzsteuer.")
    return Settings(
        year=year, settlement_date=settled, subsidy_rate=rate, subsidy_lapsed=lapsed,
        vat_rate=vat_rate, vat_note=vat_note, payment_days=payment, notice_months=notice,
        aktenzeichen=text_value(get(S_AZ)[0]), buchungsstelle=text_value(get(S_BUCHUNG)[0]),
        contract_end=end,
    )


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


def parse_parties(table: Table, out: Collector) -> list[Party]:
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
        parties.append(Party(
            name=name, bezeichnung=required_texts["Bezeichnung"],
            region=required_texts["Region"], role=role, stundenanteil=share,
            exit_date=exit_date, street=required_texts["Straße"], postcode=postcode,
            city=required_texts["Ort"], email=email, iban=iban or "", bic=bic or "",
            bank=bank, contact=text_value(row["Ansprechpartner"]),
            phone=text_value(row["Telefon"]), kassenzeichen=text_value(row["Kassenzeichen"]),
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
        out.error(where, f"„{text}“ ist keine gültige IBAN ({exc}).")
        return None


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
                                      at(index, "Anstellungskörperschaft")))
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
    for index, row in data_rows(table, (key_header, value_header)):
        name = text_value(row[key_header])
        where = table.ref(index, key_header)
        if not name:
            out.error(where, f"„{key_header}“ fehlt.")
            continue
        if name in result:
            out.error(where, f"„{name}“ steht doppelt (zuerst in {result[name][1]}).")
            continue
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


def merge(parsed: list[WorkbookInput], out: Collector) -> SettlementInput | None:
    """One input from several workbooks: settings and parties must agree, costs of an
    employer may come from one workbook only."""
    if not parsed:
        return None
    first = parsed[0]
    for other in parsed[1:]:
        if first.settings and other.settings and first.settings != other.settings:
            diff = [f.name for f in fields(Settings)
                    if getattr(first.settings, f.name) != getattr(other.settings, f.name)]
            out.error(CellRef(other.file, EINSTELLUNGEN),
                      f"die Einstellungen weichen von {first.file} ab "
                      f"({', '.join(SETTING_LABELS.get(d, d) for d in diff)}); alle Arbeitsmappen "
                      f"eines Laufs brauchen dieselben Einstellungen.")
        if first.parties != other.parties:
            out.error(CellRef(other.file, VERTRAGSPARTEIEN),
                      f"die Vertragsparteien weichen von {first.file} ab"
                      f"{party_difference(first.parties, other.parties)}; alle Arbeitsmappen "
                      f"eines Laufs brauchen dieselben Vertragsparteien.")
    if first.settings is None or out.problems:
        return None

    cost_file: dict[str, str] = {}
    for wb in parsed:
        employers = {p.employer for p in wb.positions} | {c.employer for c in wb.material_costs}
        for employer in sorted(employers):
            if employer in cost_file:
                out.error(CellRef(wb.file, PERSONALKOSTEN),
                          f"Kosten der Anstellungskörperschaft {employer} stehen in "
                          f"{cost_file[employer]} und in {wb.file}; jede Anstellungskörperschaft "
                          f"darf nur in einer Arbeitsmappe Kosten angeben.")
            else:
                cost_file[employer] = wb.file
    subsidies = merge_keyed([(wb.file, wb.subsidies) for wb in parsed], FOERDERUNG, out)
    hours = merge_keyed([(wb.file, wb.hours) for wb in parsed], STUNDEN, out)
    advances: list[Advance] = []
    seen_advances: dict[tuple, str] = {}
    for wb in parsed:
        for advance in wb.advances:
            key = (advance.party, advance.paid_on, advance.amount)
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
    )


SETTING_LABELS = {
    "year": S_YEAR, "settlement_date": S_DATE, "subsidy_rate": S_RATE,
    "subsidy_lapsed": S_LAPSED, "vat_rate": S_VAT, "vat_note": S_VAT_NOTE,
    "payment_days": S_PAYMENT, "notice_months": S_NOTICE, "aktenzeichen": S_AZ,
    "buchungsstelle": S_BUCHUNG, "contract_end": S_END,
}


def party_difference(a: tuple[Party, ...], b: tuple[Party, ...]) -> str:
    names_a, names_b = {p.name for p in a}, {p.name for p in b}
    if names_a != names_b:
        only = sorted(names_a ^ names_b)
        return f" (nur in einer der beiden: {', '.join(only)})"
    by_name = {p.name: p for p in b}
    for party in a:
        if party != by_name[party.name]:
            return f" (bei {party.name})"
    return " (Reihenfolge)"


def merge_keyed(sources, sheet: str, out: Collector) -> dict[str, tuple[Decimal, CellRef]]:
    merged: dict[str, tuple[Decimal, CellRef]] = {}
    for _file, entries in sources:
        for name, (value, where) in entries.items():
            if name in merged and merged[name][0] != value:
                out.error(where, f"„{name}“ steht mit anderem Wert auch in "
                                 f"{merged[name][1].file} ({merged[name][1]}).")
            merged.setdefault(name, (value, where))
    return merged


# ------------------------------------------------------------- the agreement


def check_agreement(inp: SettlementInput, out: Collector) -> None:
    """Checks across sheets: roles, regions, names used in the cost sheets, hours, R12."""
    year = inp.settings.year
    by_name = {normalise(p.name): p for p in inp.parties}
    parties_where = CellRef(inp.sources[0] if inp.sources else "", VERTRAGSPARTEIEN)
    by_region: dict[str, list[Party]] = {}
    for p in inp.parties:
        by_region.setdefault(p.region, []).append(p)
    wind_down_year = inp.settings.contract_end.year if inp.settings.contract_end and \
        year > inp.settings.contract_end.year else None
    for region, members in by_region.items():
        active = [p for p in members if p.is_active_in(wind_down_year or year)]
        employers = [p for p in active if p.is_employer]
        left_employers = [p for p in members if p.is_employer and p not in active]
        if len(employers) > 1:
            out.error(parties_where,
                      f"Region {region} hat {year} mehrere Anstellungskörperschaften "
                      f"({', '.join(p.name for p in employers)}); erlaubt ist genau eine. "
                      f"Eine Nachfolgerin setzt voraus, dass die bisherige ausgeschieden ist.")
        elif not employers and left_employers:
            out.error(parties_where,
                      f"Anstellungskörperschaft {left_employers[0].name} ist zum "
                      f"{describe(left_employers[0].exit_date)} ausgeschieden, für Region "
                      f"{region} ist aber keine neue benannt (zweite Zeile mit der Rolle "
                      f"{EMPLOYER}).")
        elif not employers:
            out.error(parties_where, f"Region {region} hat keine Anstellungskörperschaft; "
                                     f"genau eine Zeile braucht die Rolle {EMPLOYER}.")
        if employers and len(active) > 1 and sum(
            (p.stundenanteil for p in active), Decimal(0)
        ) == 0 and not inp.hours:
            out.error(parties_where, f"Region {region}: alle Stundenanteile sind 0.")

    def employer_of(name: str, where: CellRef | None) -> None:
        party = by_name.get(normalise(name))
        if party is None:
            out.error(where, f"„{name}“ ist keine Vertragspartei (siehe Blatt "
                             f"„{VERTRAGSPARTEIEN}“).")
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
        employer_of(employer, CellRef(inp.sources[0], FOERDERUNG))
    check_hours(inp, by_name, wind_down_year or year, out)
    for advance in inp.advances:
        party = by_name.get(normalise(advance.party))
        if party is None:
            out.error(advance.where, f"„{advance.party}“ ist keine Vertragspartei.")
        elif party.is_employer:
            out.error(advance.where, f"{advance.party} ist Anstellungskörperschaft; Abschläge "
                                     f"zahlen nur Partnerkommunen.")
        elif not party.is_active_in(wind_down_year or year):
            out.error(advance.where, f"{advance.party} ist zum {describe(party.exit_date)} "
                                     f"ausgeschieden und ist {year} keine Partnerkommune mehr.")
    if wind_down_year is not None:
        check_wind_down(inp, out)


def check_hours(inp: SettlementInput, by_name: dict[str, Party], year: int,
                out: Collector) -> None:
    where_sheet = CellRef(inp.sources[0], STUNDEN)
    for name in inp.hours:
        party = by_name.get(normalise(name))
        if party is None:
            out.error(where_sheet, f"„{name}“ ist keine Vertragspartei.")
        elif not party.is_active_in(year):
            out.error(where_sheet, f"{name} ist zum {describe(party.exit_date)} ausgeschieden; "
                                   f"für {year} sind keine Stunden anzugeben.")
    if not inp.hours:
        return
    given: dict[str, Decimal] = {}
    for name, hours in inp.hours.items():
        given[normalise(name)] = given.get(normalise(name), Decimal(0)) + hours
    by_region: dict[str, list[Party]] = {}
    for p in inp.parties:
        if p.is_active_in(year):
            by_region.setdefault(p.region, []).append(p)
    for region, active in by_region.items():
        with_hours = [p for p in active if normalise(p.name) in given]
        if with_hours and len(with_hours) < len(active):
            missing = [p.name for p in active if p not in with_hours]
            out.error(where_sheet, f"Region {region}: Stunden fehlen für {', '.join(missing)}. "
                                   f"Stunden gelten als Schlüssel nur für alle Parteien einer "
                                   f"Region zugleich (oder für keine).")
        elif with_hours and sum(given[normalise(p.name)] for p in with_hours) == 0:
            out.error(where_sheet, f"Region {region}: die Summe der Stunden ist 0.")


def check_wind_down(inp: SettlementInput, out: Collector) -> None:
    """R12: costs after the end count for at most 12 months past the end date."""
    from dateutil.relativedelta import relativedelta

    end = inp.settings.contract_end
    year = inp.settings.year
    limit = end + relativedelta(months=12)
    months = sum(1 for m in range(1, 13) if end < date(year, m, 1) and
                 (date(year, m, 1) + relativedelta(months=1, days=-1)) <= limit)
    for position in inp.positions:
        if position.months > months:
            out.error(position.where,
                      f"Stelle „{position.label}“: {format_decimal(position.months)} Monate in "
                      f"{year}, aber nach dem Vertragsende am {describe(end)} werden Kosten "
                      f"höchstens 12 Monate lang geteilt (§ 4 Abs. 3); in {year} sind das "
                      f"{months} Monate.")


def canonical(inp: SettlementInput) -> SettlementInput:
    """Names in costs, hours and advances in the spelling of the parties sheet
    (matching ignores case and spaces, settling and printing use one spelling)."""
    by_name = {normalise(p.name): p.name for p in inp.parties}

    def fix(name: str) -> str:
        return by_name.get(normalise(name), name)

    return replace(
        inp,
        positions=tuple(replace(p, employer=fix(p.employer)) for p in inp.positions),
        material_costs=tuple(replace(c, employer=fix(c.employer)) for c in inp.material_costs),
        subsidies_received={fix(k): v for k, v in inp.subsidies_received.items()},
        hours={fix(k): v for k, v in inp.hours.items()},
        advances=tuple(replace(a, party=fix(a.party)) for a in inp.advances),
    )
