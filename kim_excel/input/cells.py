"""Typed cell readers: one cell of the form → a value, or a German problem naming the cell.

Each reader returns the typed value, or None after recording a :class:`Problem` in the
:class:`Collector` it is given. What a German writes (``1.234,56``, ``31.12.2024``, ``Ja``) is
parsed by ``german.py``; the readers add the cell address and the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from kim_excel.core.checkdigits import iban_problem, mod97_ok
from kim_excel.core.german import german_number_text, parse_german_date, yes_no_word
from kim_excel.core.model import CellRef, Notice, Problem, Severity
from kim_excel.core.money import NotMoney, format_decimal, money, number
from kim_excel.core.names import normalise
from kim_excel.core.schema import REQUIRED_HEADERS
from kim_excel.input.extent import cell_name
from kim_excel.input.reading import Table

# No settlement comes near this; larger numbers are typing errors (and would exceed the
# 28 significant digits of exact decimal arithmetic).
MAX_AMOUNT = 10**12
# Dates outside these years are typing errors (and 31.12.9999 + 30 days does not exist).
# (A small number typed into a date cell shows as a day in 1900: 60 is 28.02.1900.)
MIN_YEAR, MAX_YEAR = 1990, 2199

EMAIL = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+$")
BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
# Leitweg-ID (KoSIT): Grobadressierung 2–12 digits, optional Feinadressierung up to 30
# letters and digits, 2 check digits, joined by hyphens.
LEITWEG = re.compile(r"^\d{2,12}(-[A-Z0-9]{1,30})?-\d{2}$")


@dataclass
class Collector:
    """Problems and notices of one validation, in the order they were found."""

    problems: list[Problem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def error(self, where: CellRef | None, message: str) -> None:
        self.problems.append(Problem(message, where))

    def warn(self, where: CellRef | None, message: str) -> None:
        self.notices.append(Notice(message, Severity.WARNING, where))


def check_structure(table: Table, sheet: str, out: Collector) -> bool:
    """Headers present, no merged cells, no formulas without results. False: skip the sheet."""
    missing = [h for h in REQUIRED_HEADERS[sheet] if normalise(h) not in table.headers]
    ok = True
    if missing:
        found = ", ".join(f"„{t}“" for t in table.header_texts.values()) or "keine"
        out.error(table.header_ref(),
                  f"{'Spalten' if len(missing) > 1 else 'Spalte'} "
                  f"{', '.join(f'„{h}“' for h in missing)} "
                  f"{'fehlen' if len(missing) > 1 else 'fehlt'} in Zeile 1 "
                  f"(gefunden: {found}). Die Überschriften der Vorlage bitte unverändert "
                  f"lassen; die Reihenfolge der Spalten ist frei.")
        ok = False

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
        result = parse_german_date(value)
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


def yes_no(value: object, where: CellRef, out: Collector) -> bool | None:
    if isinstance(value, bool):
        return value
    answer = yes_no_word(normalise(text_value(value)))
    if answer is not None:
        return answer
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


def postcode_value(value: object, where: CellRef, out: Collector) -> str | None:
    text = text_value(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and len(text) == 4:
        text = "0" + text  # a number cell loses the leading zero of 0xxxx
    if not re.fullmatch(r"\d{5}", text):
        out.error(where, f"{describe(value) if text else 'PLZ fehlt'}: erwartet wird eine "
                         f"fünfstellige Postleitzahl.")
        return None
    return text


def iban_value(text: str, where: CellRef, out: Collector) -> str | None:
    """An IBAN: structure, its country's length and check digits (``core/checkdigits``)."""
    compact = "".join(text.split()).upper()
    problem = iban_problem(compact)
    if problem is None:
        return compact
    out.error(where, f"„{text}“ ist keine gültige IBAN ({IBAN_REASONS[problem]}); erwartet: "
                     f"eine IBAN wie DE02 1203 0000 0000 2020 51.")
    return None


IBAN_REASONS = {
    "structure": "unzulässige Zeichen",
    "length": "falsche Länge, in Deutschland 22 Zeichen",
    "checksum": "die Prüfziffer stimmt nicht, vermutlich ein Tippfehler",
    "country": "unbekanntes Länderkennzeichen",
}


def bic_value(text: str, where: CellRef, out: Collector) -> str | None:
    compact = text.replace(" ", "").upper()
    if not BIC.match(compact):
        out.error(where, f"„{text}“ ist keine gültige BIC (8 oder 11 Zeichen, z. B. "
                         f"WELADED1COE).")
        return None
    return compact




def leitweg_value(text: str, where: CellRef, out: Collector) -> str | None:
    """A Leitweg-ID (the e-invoice address of a public buyer): format and check digits.

    The check digits are ISO 7064 MOD 97-10 as in an IBAN, letters counting A=10 … Z=35:
    ``05558016-0001-35`` is right, ``05558016-0001-47`` a typing error.
    """
    compact = text.replace(" ", "").upper()
    if not LEITWEG.match(compact):
        out.error(where, f"„{text}“ ist keine gültige Leitweg-ID; erwartet: Ziffern, "
                         f"Bindestriche und zwei Prüfziffern am Ende, z. B. 05558016-0001-35.")
        return None
    if not mod97_ok(compact.replace("-", "")):
        out.error(where, f"„{text}“ ist keine gültige Leitweg-ID (die Prüfziffer stimmt "
                         f"nicht, vermutlich ein Tippfehler); bitte mit der Leitweg-ID "
                         f"vergleichen, die die Kommune mitgeteilt hat.")
        return None
    return compact


def gemeindeschluessel_value(value: object, where: CellRef, out: Collector) -> str | None:
    """The amtlicher Gemeindeschlüssel: 8 digits (05558012 is Coesfeld)."""
    text = text_value(value).replace(" ", "")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and len(text) == 7:
        text = "0" + text  # a number cell loses the leading zero of 0xxxxxxx
    if not re.fullmatch(r"\d{8}", text):
        out.error(where, f"{describe(value)} ist kein gültiger Gemeindeschlüssel; erwartet: "
                         f"8 Ziffern (amtlicher Gemeindeschlüssel, z. B. 05558012).")
        return None
    return text
