"""Sheet parsers: one workbook's sheets → typed rows (:class:`WorkbookInput`).

Every cell problem is recorded in the workbook's :class:`Collector`; a row with a problem is
kept when the checks across sheets can still use it (a party with a bad IBAN still has its
region and role), so structural problems show up in the same run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from kim_excel.core.agreement import default_vat_note
from kim_excel.core.model import (
    EMPLOYER,
    KOSTENARTEN,
    PARTNER,
    ROLES,
    Advance,
    CellRef,
    MaterialCost,
    Party,
    Position,
    Settings,
    Terms,
)
from kim_excel.core.names import normalise
from kim_excel.core.schema import (
    ABSCHLAEGE,
    ALL_SHEETS,
    EINSTELLUNGEN,
    FOERDERUNG,
    GEMEINDESCHLUESSEL,
    LEITWEG_ID,
    PARTY_HEADERS,
    PERSONALKOSTEN,
    REQUIRED_HEADERS,
    REQUIRED_SHEETS,
    S_AZ,
    S_BUCHUNG,
    S_DATE,
    S_END,
    S_LAPSED,
    S_NOTICE,
    S_PAYMENT,
    S_PREFIX,
    S_RATE,
    S_VAT,
    S_VAT_NOTE,
    S_YEAR,
    SACHKOSTEN,
    SETTINGS_ROWS,
    STEUERNUMMER,
    STUNDEN,
    UST_ID,
    VERTRAGSPARTEIEN,
)
from kim_excel.input.cells import (
    EMAIL,
    Collector,
    bic_value,
    check_structure,
    data_rows,
    date_value,
    describe,
    gemeindeschluessel_value,
    hours_value,
    iban_value,
    int_value,
    is_empty,
    leitweg_value,
    money_value,
    number_value,
    postcode_value,
    text_value,
    vat_value,
    yes_no,
)
from kim_excel.input.extent import cell_name
from kim_excel.input.reading import RawWorkbook, Table


@dataclass
class WorkbookInput:
    """What one workbook says, before the workbooks of a run are merged."""

    file: str
    settings: Settings | None  # agreement-wide: must agree with the other workbooks
    settings_sound: bool  # False: a setting's cell is wrong (reported), defaults stand in
    terms: Terms | None  # the employer's own: for the regions whose costs stand here
    parties: tuple[Party, ...]
    incomplete: set[str]  # normalised regions and names of party rows that are not sound
    positions: list[Position]
    material_costs: list[MaterialCost]
    subsidies: dict[str, tuple[Decimal, CellRef]]
    hours: dict[str, tuple[Decimal, CellRef]]
    advances: list[Advance]
    # Where each party's row and each setting are, for messages that name a cell.
    party_rows: dict[str, tuple[Table, int]] = field(default_factory=dict)
    setting_cells: dict[str, CellRef] = field(default_factory=dict)


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
    incomplete: set[str] = set()
    parsed = parse_settings(tables[EINSTELLUNGEN], today, out, setting_cells) \
        if EINSTELLUNGEN in tables else None
    settings, terms, sound = parsed if parsed else (None, None, False)
    parties = parse_parties(tables[VERTRAGSPARTEIEN], out, party_rows, incomplete) \
        if VERTRAGSPARTEIEN in tables else ()
    year = settings.year if settings else None
    return WorkbookInput(
        file=raw.name,
        settings=settings,
        settings_sound=sound,
        terms=terms,
        parties=tuple(parties),
        incomplete=incomplete,
        positions=parse_positions(tables.get(PERSONALKOSTEN), out),
        material_costs=parse_material(tables.get(SACHKOSTEN), out),
        subsidies=parse_keyed_amounts(tables.get(FOERDERUNG), "Anstellungskörperschaft",
                                      "Förderung erhalten", money_value, out),
        hours=parse_keyed_amounts(tables.get(STUNDEN), "Kommune", "Stunden", hours_value, out),
        advances=parse_advances(tables.get(ABSCHLAEGE), year, out),
        party_rows=party_rows,
        setting_cells=setting_cells,
    )


def parse_settings(table: Table, today: date, out: Collector,
                   cells: dict[str, CellRef] | None = None) -> tuple[Settings, Terms, bool] | None:
    """The agreement-wide settings, the employer's own (SPEC § 4) and whether all their
    cells are sound; None without a valid year."""
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
    date_given = not is_empty(value)  # empty: the ledger decides (ledger/life.settle_dated)
    settled = date_value(value, where, out, "Datum der Abrechnung") if date_given else None
    prefix = prefix_value(*get(S_PREFIX), out)
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
    sound = None not in (year, lapsed, vat_rate, payment, notice, prefix) and not (
        date_given and settled is None) and not (
        not is_empty(get(S_RATE)[0]) and rate is None) and not (
        not is_empty(get(S_END)[0]) and end is None)
    if year is None:
        return None
    if not vat_note and not vat_rate:
        vat_note = default_vat_note(year)  # SPEC R8: the note that fits the year
    # With a broken cell (reported) the defaults stand in, so that the checks across
    # sheets still run and report their problems in the same run; nothing is settled.
    settings = Settings(year=year, subsidy_rate=rate, subsidy_lapsed=bool(lapsed),
                        notice_months=18 if notice is None else notice, contract_end=end)
    terms = Terms(
        settlement_date=settled, date_given=date_given,
        payment_days=30 if payment is None else payment,
        vat_rate=vat_rate or Decimal(0), vat_note=vat_note,
        aktenzeichen=text_value(get(S_AZ)[0]), buchungsstelle=text_value(get(S_BUCHUNG)[0]),
        invoice_prefix=prefix or "",
    )
    return settings, terms, sound


PREFIX_CHARACTERS = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,19}")


def prefix_value(value: object, where: CellRef, out: Collector) -> str | None:
    """``Präfix Rechnungsnummer``: letters, digits and ``- / _ .``, at most 20 characters, so
    that the Rechnungsnummer stays one word that a bank statement can be searched for."""
    text = text_value(value)
    if not text or PREFIX_CHARACTERS.fullmatch(text):
        return text
    out.error(where, f"{describe(value)} ist als Präfix der Rechnungsnummer nicht möglich; "
                     f"erlaubt sind Buchstaben ohne Umlaute, Ziffern und - / _ . (ohne "
                     f"Leerzeichen, höchstens 20 Zeichen), z. B. „RE-KIM-“.")
    return None


def parse_parties(table: Table, out: Collector, rows: dict[str, tuple[Table, int]] | None = None,
                  incomplete: set[str] | None = None) -> list[Party]:
    """The rows of ``Vertragsparteien``. A row whose name, region and role are sound is kept
    even when another cell of it is wrong (that is reported), so the checks across sheets
    still see it; ``incomplete`` gets the regions whose rows are not all sound."""
    parties: list[Party] = []
    seen: dict[str, CellRef] = {}
    for index, row in data_rows(table, PARTY_HEADERS):
        row_problems = len(out.problems)
        party = parse_party(PartyRow(table, index, row), out, seen)
        if party is not None:
            parties.append(party)
            if rows is not None:
                rows[normalise(party.name)] = (table, index)
        if incomplete is not None and len(out.problems) > row_problems:
            incomplete.update({normalise(text_value(row["Region"])),
                               normalise(text_value(row["Kommune"]))})
    if not parties and not out.problems:
        out.error(table.header_ref(), "Es sind keine Vertragsparteien eingetragen.")
    return parties


@dataclass
class PartyRow:
    """One row of ``Vertragsparteien`` and the cells it came from."""

    table: Table
    index: int
    values: dict[str, object]

    def at(self, header: str) -> CellRef:
        column = self.table.headers.get(normalise(header))
        if column is None:
            return self.table.ref(self.index)
        return CellRef(self.table.file, self.table.sheet, cell_name(self.index, column))

    def text(self, header: str) -> str:
        return text_value(self.values[header])


def parse_party(row: PartyRow, out: Collector, seen: dict[str, CellRef]) -> Party | None:
    name, where = row.text("Kommune"), row.at("Kommune")
    ok = True
    if not name:
        out.error(where, "Name der Kommune fehlt.")
        ok = False
    elif normalise(name) in seen:
        out.error(where, f"„{name}“ steht doppelt (zuerst in {seen[normalise(name)]}).")
        ok = False
    else:
        seen[normalise(name)] = where
    texts = {h: row.text(h) for h in ("Bezeichnung", "Region", "Straße", "Ort")}
    for header, text in texts.items():
        if not text:
            out.error(row.at(header), f"„{header}“ fehlt für {name or 'diese Zeile'}.")
    role_text = row.text("Rolle")
    role = next((r for r in ROLES if normalise(r) == normalise(role_text)), None)
    if role is None:
        out.error(row.at("Rolle"), f"{describe(role_text)} ist keine Rolle; erlaubt: "
                                   f"{EMPLOYER} oder {PARTNER}.")
    share = party_share(row, out)
    exit_date = party_exit(row, out)
    if not ok or role is None or not texts["Region"]:
        return None
    return Party(
        name=name, bezeichnung=texts["Bezeichnung"], region=texts["Region"], role=role,
        stundenanteil=share if share is not None else Decimal(0), exit_date=exit_date,
        street=texts["Straße"], city=texts["Ort"], where=where,
        **party_contact(row, out),
    )


def party_share(row: PartyRow, out: Collector) -> Decimal | None:
    share = number_value(row.values["Stundenanteil"], row.at("Stundenanteil"), out,
                         "Stundenanteil in VZÄ (z. B. 0,625)")
    if share is not None and share < 0:
        out.error(row.at("Stundenanteil"), f"{describe(row.values['Stundenanteil'])} ist "
                                           f"negativ; erlaubt ist ein Stundenanteil ab 0.")
        return None
    return share


def party_exit(row: PartyRow, out: Collector) -> date | None:
    if is_empty(row.values["Ausgeschieden zum"]):
        return None
    exit_date = date_value(row.values["Ausgeschieden zum"], row.at("Ausgeschieden zum"), out,
                           "31.12. eines Jahres")
    if exit_date is not None and (exit_date.month, exit_date.day) != (12, 31):
        out.error(row.at("Ausgeschieden zum"),
                  f"{describe(exit_date)}: ausscheiden kann man nur zum Ende eines "
                  f"Kalenderjahres (31.12.), § 4 Abs. 2 der Vereinbarung.")
        return None
    return exit_date


def party_contact(row: PartyRow, out: Collector) -> dict[str, str]:
    """Address, bank and e-invoice cells, checked where filled in. Whether they are needed
    depends on the whole run (who bills, who gets e-invoices): see ``checks.py``."""
    email = row.text("E-Mail")
    if email and not EMAIL.match(email):
        out.error(row.at("E-Mail"), f"„{email}“ ist keine gültige E-Mail-Adresse.")
        email = ""
    iban, bic = row.text("IBAN"), row.text("BIC")
    leitweg, key = row.text(LEITWEG_ID), row.values[GEMEINDESCHLUESSEL]
    return {
        "postcode": postcode_value(row.values["PLZ"], row.at("PLZ"), out) or "",
        "email": email,
        "iban": (iban_value(iban, row.at("IBAN"), out) or "") if iban else "",
        "bic": (bic_value(bic, row.at("BIC"), out) or "") if bic else "",
        "bank": row.text("Kreditinstitut"),
        "contact": row.text("Ansprechpartner"),
        "phone": row.text("Telefon"),
        "kassenzeichen": row.text("Kassenzeichen"),
        "leitweg_id": (leitweg_value(leitweg, row.at(LEITWEG_ID), out) or "") if leitweg
        else "",
        "gemeindeschluessel": "" if is_empty(key) else
        gemeindeschluessel_value(key, row.at(GEMEINDESCHLUESSEL), out) or "",
        "steuernummer": row.text(STEUERNUMMER),
        "ust_id": row.text(UST_ID).replace(" ", "").upper(),
    }


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


