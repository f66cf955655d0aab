"""German notation for people: numbers, euro amounts, percentages, dates, IBANs.

The one home of every German number and date text (STYLE.md § 11). Workbook cells carry
numbers with a number format instead (``styles.py``); these functions write text: letters,
notices, mails, the terminal. The second half reads what people type (form cells, SMTP
settings) the same way everywhere: ``Ja``/``WAHR``/``x`` mean yes, ``1.234,56 €`` is a
number.

>>> format_eur(Decimal("1234567.5"))
'1.234.567,50 €'
>>> german_number(Decimal("1250.625"))
'1.250,625'
>>> format_decimal(Decimal("0.625"))
'0,625'
"""

from __future__ import annotations

import re
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


# ---------------------------------------------------------------- parsing

# One set of yes/no words for the form (``Landesförderung entfallen``) and the SMTP settings
# (``starttls``); compared after lower-casing. An empty cell means no.
YES = ("ja", "j", "yes", "wahr", "true", "x", "1", "an", "on")
NO = ("nein", "n", "no", "falsch", "false", "0", "aus", "off", "")

_GROUPED = re.compile(r"-?\d{1,3}(\.\d{3})+(,\d+)?")
_COMMA = re.compile(r"-?\d+,\d+")
_PLAIN = re.compile(r"-?\d+(\.\d+)?")
_DATE = re.compile(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*")


def yes_no_word(text: str) -> bool | None:
    """``"Ja"`` → True, ``"nein"`` or ``""`` → False, anything else → None.

    >>> yes_no_word(" WAHR "), yes_no_word("Nein"), yes_no_word("vielleicht")
    (True, False, None)
    """
    word = text.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def german_number_text(text: str) -> str:
    """``"1.234,56 €"`` → ``"1234.56"``; text that is no number stays as it is.

    >>> german_number_text("1.234,56 €"), german_number_text("7,5"), german_number_text("abc")
    ('1234.56', '7.5', 'abc')
    """
    t = text.strip().replace("€", "").replace("EUR", "").replace("\u00a0", "").replace(" ", "")
    if _GROUPED.fullmatch(t):
        t = t.replace(".", "").replace(",", ".")
    elif _COMMA.fullmatch(t):
        t = t.replace(",", ".")
    return t if is_number_text(t) else text


def is_number_text(text: str) -> bool:
    return bool(_PLAIN.fullmatch(text.strip()))


def parse_german_date(text: str) -> date | None:
    """``"31.12.2024"`` → that date; anything else (``"31.02.2024"`` too) → None."""
    match = _DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def thousands(number: int) -> str:
    """``10000`` → ``10.000``."""
    return f"{number:,}".replace(",", ".")


def count(number: int, one: str, many: str) -> str:
    """A number with its noun in singular or plural: ``1 Entwurf``, ``2 Entwürfe``,
    ``0 Entwürfe``, ``1.000 Dateien`` – never „Entwürfe(e)“-style brackets."""
    return f"{thousands(number)} {one if number == 1 else many}"
