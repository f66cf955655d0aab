"""``Buchungsliste_<J>.csv``: one row per active party, for municipal finance software.

UTF-8 with BOM, ``;``-separated, decimal comma, no thousands separator, dates TT.MM.JJJJ
(SPEC § 5). For an employer, ``Betrag_netto_EUR`` is its own share and the payment columns
stay empty: it gets no bill.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from kim_excel.core.model import RegionResult, Settlement
from kim_excel.core.money import display_decimal

COLUMNS = (
    "Jahr", "Region", "Anstellungskoerperschaft", "Kommune", "Rolle", "Anteil",
    "Eigenanteil_Region_EUR", "Betrag_netto_EUR", "USt_EUR", "Betrag_brutto_EUR",
    "Abschlaege_EUR", "Saldo_EUR", "Faellig_am",
)


def amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def fraction(value: Fraction) -> str:
    """Up to six decimals, trailing zeros dropped: 0.25 → ``0,25``; 1/3 → ``0,333333``."""
    text = f"{display_decimal(value).quantize(Decimal('0.000001'), rounding=ROUND_HALF_UP):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace(".", ",")


def day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def booking_rows(settlement: Settlement) -> list[list[str]]:
    rows = []
    for region in settlement.regions:
        for share in region.shares:
            row = [str(settlement.year), region.region, region.employer.name, share.party.name,
                   share.party.role, fraction(share.fraction), amount(region.eigenanteil),
                   amount(share.net)]
            if share.is_employer:
                row += ["", "", "", "", ""]
            else:
                row += [amount(share.vat), amount(share.gross), amount(share.advances),
                        amount(share.balance), day(share.due_date)]
            rows.append(row)
    return rows


def booking_csv(settlement: Settlement) -> bytes:
    return csv_bytes(booking_rows(settlement))


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def correction_rows(year: int, before: RegionResult, after: RegionResult,
                    partners: set[str], due: date | None) -> list[list[str]]:
    """``Buchungsliste_<J>_Korrektur_<n>.csv`` rows of one corrected region (SPEC § 7): the
    employer (its own share's difference, bill columns empty) and each partner in
    ``partners``: ``Anteil`` and ``Eigenanteil_Region_EUR`` as corrected, the amounts the
    differences, ``Abschlaege_EUR`` 0, ``Faellig_am`` the correction's due date. A partner no
    longer in the region (an exit entered after issue) has ``Anteil`` 0 and gets back what it
    was billed, so the rows of a region add up to the change of what the region billed."""
    old = {s.party.name: s for s in before.shares}
    zero = Decimal("0.00")
    rows = []
    gone = [s for s in before.partner_shares if s.party.name in partners
            and s.party.name not in {x.party.name for x in after.shares}]
    for share in [*after.shares, *gone]:
        name = share.party.name
        if not share.is_employer and name not in partners:
            continue
        was = old.get(name)
        now = share if share in after.shares else None
        net = (now.net if now else zero) - (was.net if was else zero)
        row = [str(year), after.region, after.employer.name, name, share.party.role,
               fraction(now.fraction if now else Fraction(0)), amount(after.eigenanteil),
               amount(net)]
        if share.is_employer:
            row += ["", "", "", "", ""]
        else:
            vat = (now.vat if now else zero) - (was.vat if was else zero)
            gross = (now.gross if now else zero) - (was.gross if was else zero)
            row += [amount(vat), amount(gross), amount(zero), amount(gross), day(due)]
        rows.append(row)
    return rows


@dataclass(frozen=True)
class BookingRow:
    """One row of a Buchungsliste read back (for ``versenden`` and ``planen``)."""

    year: int
    region: str
    employer: str
    kommune: str
    role: str
    net: Decimal
    eigenanteil: Decimal
    balance: Decimal | None  # None for an employer
    due: date | None


def read_booking(path: Path) -> list[BookingRow]:
    """Parse a Buchungsliste as :func:`booking_csv` writes it. Raises ``ValueError`` with a
    German reason for anything else (wrong encoding, header, column count, amount, date)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("keine UTF-8-Datei") from None
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if not lines or tuple(h.strip() for h in lines[0]) != COLUMNS:
        raise ValueError("unerwartete Kopfzeile")
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(COLUMNS):
            raise ValueError(f"Zeile {number} hat {len(cells)} statt {len(COLUMNS)} Spalten")
        row = dict(zip(COLUMNS, cells, strict=True))
        if not row["Jahr"].strip().isdigit():
            raise ValueError(f"Zeile {number}: „{row['Jahr']}“ ist kein Jahr")
        rows.append(BookingRow(
            year=int(row["Jahr"]), region=row["Region"], employer=row["Anstellungskoerperschaft"],
            kommune=row["Kommune"], role=row["Rolle"],
            net=german_amount(row["Betrag_netto_EUR"], number),
            eigenanteil=german_amount(row["Eigenanteil_Region_EUR"], number),
            balance=german_amount(row["Saldo_EUR"], number) if row["Saldo_EUR"] else None,
            due=german_date(row["Faellig_am"], number) if row["Faellig_am"] else None,
        ))
    return rows


def german_amount(text: str, line: int) -> Decimal:
    """``8125,00`` → ``Decimal("8125.00")`` (no thousands separator in the Buchungsliste)."""
    if not re.fullmatch(r"-?\d+(,\d{1,2})?", text.strip()):
        raise ValueError(f"Zeile {line}: „{text}“ ist kein Betrag")
    return Decimal(text.strip().replace(",", ".")).quantize(Decimal("0.01"))


def german_date(text: str, line: int) -> date:
    try:
        return datetime.strptime(text.strip(), "%d.%m.%Y").date()
    except ValueError:
        raise ValueError(f"Zeile {line}: „{text}“ ist kein Datum (TT.MM.JJJJ)") from None
