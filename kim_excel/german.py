"""German notation for people: numbers, euro amounts, percentages, dates, IBANs.

The one home of every German number and date text (STYLE.md § 11). Workbook cells carry
numbers with a number format instead (``styles.py``); these functions write text: letters,
notices, mails, the terminal. This half formats; parsing what people type lives beside it.

>>> format_eur(Decimal("1234567.5"))
'1.234.567,50 €'
>>> german_number(Decimal("1250.625"))
'1.250,625'
>>> format_decimal(Decimal("0.625"))
'0,625'
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")  # the rounding policy of money.round_cents: half away from zero


def _german_separators(text: str) -> str:
    """``1,234.5`` (Python's notation) → ``1.234,5``."""
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def format_eur(amount: Decimal, symbol: bool = True) -> str:
    """``1234567.5`` → ``1.234.567,50 €`` (commercial rounding to the cent)."""
    text = _german_separators(f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}")
    return f"{text} €" if symbol else text


def format_decimal(value: Decimal, places: int | None = None) -> str:
    """A plain number without thousands separator: ``0.625`` → ``0,625``."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(value.normalize(), "f") if places is None else format(value, "f")
    return text.replace(".", ",")


def german_number(value: Decimal, max_places: int = 4, thousands: bool = True) -> str:
    """``0.625`` → ``0,625``; ``2.5`` → ``2,5``; ``1250`` → ``1.250``; at most 4 decimals."""
    value = value.quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP).normalize()
    return _german_separators(f"{value:,f}" if thousands else f"{value:f}")


def percent_text(fraction: Decimal) -> str:
    """``0.25`` → ``25,00 %``."""
    return format_eur(fraction * 100, symbol=False) + " %"


def day_text(day: date) -> str:
    """``02.03.2025``."""
    return f"{day:%d.%m.%Y}"


def iban_groups(iban: str) -> str:
    """``DE26401545300000123456`` → ``DE26 4015 4530 0000 1234 56``."""
    compact = iban.replace(" ", "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
