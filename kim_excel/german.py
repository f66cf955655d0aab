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
from fractions import Fraction

CENT = Decimal("0.01")  # the rounding policy of money.round_cents: half away from zero


def display_decimal(value: Fraction | Decimal | int) -> Decimal:
    """The one place an exact key or fraction becomes a ``Decimal``: to show it.

    Correctly rounded to the 28 significant digits of the default context
    (``Fraction(5, 24)`` → ``0.2083333333333333333333333333``); callers round further to
    what they show (4 places on a letter, 6 in the Buchungsliste). No amount is ever
    computed from the result: shares are rounded from the exact key by ``money.round_cents``.
    """
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def _german_separators(text: str) -> str:
    """``1,234.5`` (Python's notation) → ``1.234,5``."""
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def format_eur(amount: Decimal, symbol: bool = True) -> str:
    """``1234567.5`` → ``1.234.567,50 €`` (commercial rounding to the cent)."""
    text = _german_separators(f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}")
    return f"{text} €" if symbol else text


def format_decimal(value: Decimal | Fraction, places: int | None = None) -> str:
    """A plain number without thousands separator: ``0.625`` → ``0,625``."""
    value = display_decimal(value)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(value.normalize(), "f") if places is None else format(value, "f")
    return text.replace(".", ",")


def german_number(value: Decimal | Fraction, max_places: int = 4, thousands: bool = True) -> str:
    """``0.625`` → ``0,625``; ``2.5`` → ``2,5``; ``1250`` → ``1.250``; at most 4 decimals."""
    value = display_decimal(value).quantize(Decimal(1).scaleb(-max_places),
                                            rounding=ROUND_HALF_UP).normalize()
    return _german_separators(f"{value:,f}" if thousands else f"{value:f}")


def percent_text(fraction: Decimal | Fraction) -> str:
    """``0.25`` → ``25,00 %``."""
    return format_eur(display_decimal(fraction) * 100, symbol=False) + " %"


def day_text(day: date) -> str:
    """``02.03.2025``."""
    return f"{day:%d.%m.%Y}"


def iban_groups(iban: str) -> str:
    """``DE26401545300000123456`` → ``DE26 4015 4530 0000 1234 56``."""
    compact = iban.replace(" ", "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
