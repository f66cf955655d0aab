"""``Buchungsliste_<J>.csv``: one row per active party, for municipal finance software.

UTF-8 with BOM, ``;``-separated, decimal comma, no thousands separator, dates TT.MM.JJJJ
(SPEC § 5). For an employer, ``Betrag_netto_EUR`` is its own share and the payment columns
stay empty: it gets no bill.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from kim_excel.model import Settlement

COLUMNS = (
    "Jahr", "Region", "Anstellungskoerperschaft", "Kommune", "Rolle", "Anteil",
    "Eigenanteil_Region_EUR", "Betrag_netto_EUR", "USt_EUR", "Betrag_brutto_EUR",
    "Abschlaege_EUR", "Saldo_EUR", "Faellig_am",
)


def amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def fraction(value: Decimal) -> str:
    """Up to six decimals, trailing zeros dropped: 0.25 → ``0,25``; 1/3 → ``0,333333``."""
    text = f"{value.quantize(Decimal('0.000001'), rounding=ROUND_HALF_UP):f}"
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(booking_rows(settlement))
    return buffer.getvalue().encode("utf-8-sig")
