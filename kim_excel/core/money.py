"""Money: exact amounts in EUR as ``decimal.Decimal``, never binary floats.

Every amount in kim-excel passes through :func:`money` once, at the edge where it enters
(a workbook cell, a setting, a test), and is rounded only by :func:`round_cents`.
Keys and their fractions (R7) are exact ``fractions.Fraction``s; :func:`display_decimal` is
the one place one becomes a ``Decimal``, for showing it, never for computing an amount.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

# German notation lives in german.py; re-exported for the callers that still import it here.
from kim_excel.core.german import display_decimal, format_decimal, format_eur  # noqa: F401

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# Floats read from Excel cells carry binary noise (0.1 + 0.2 = 0.30000000000000004).
# A cell value within this distance of a whole cent is that cent; anything further
# away has real fractions of a cent and is refused.
_FLOAT_NOISE = Decimal("0.000001")


class NotMoney(ValueError):
    """A value that is not an exact amount of EUR."""


def round_cents(amount: Decimal | Fraction) -> Decimal:
    """Round to whole cents, commercially: half away from zero (Excel's ``ROUND(x; 2)``).

    >>> round_cents(Decimal("2.675")), round_cents(Decimal("-2.675")), round_cents(Decimal("2.674"))
    (Decimal('2.68'), Decimal('-2.68'), Decimal('2.67'))

    Python's ``round()`` would give 2.67 for the float 2.675 (banker's rounding of a binary
    number that is really 2.67499…); this is why no float ever reaches this function.

    An exact share (R7) is a ``Fraction`` and is rounded as it is, with no division cut off
    before: 1,717.56 × (1 + 0.625/3) / 2.6 is exactly 798.225, which gives 798.23.

    >>> round_cents(Fraction("1717.56") * (1 + Fraction("0.625") / 3) / Fraction("2.6"))
    Decimal('798.23')
    """
    if isinstance(amount, Fraction):
        return round_cents_of(100 * amount.numerator, amount.denominator)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_cents_of(numerator: int, denominator: int) -> Decimal:
    """:func:`round_cents` of the amount ``numerator / denominator`` cents, in integers only.

    The same rule without building a ``Fraction`` (whose every step reduces by a gcd):
    R7 splits the Eigenanteil of thousands of parties with it.

    >>> round_cents_of(1597, 2), round_cents_of(-1597, 2), round_cents_of(-1, 3)
    (Decimal('7.99'), Decimal('-7.99'), Decimal('-0.00'))
    """
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    # half away from zero: floor(|cents| + 1/2)
    whole = (2 * abs(numerator) + denominator) // (2 * denominator)
    rounded = Decimal(whole).scaleb(-2).quantize(CENT)
    # negated as Decimal.quantize would: -0.004 gives -0.00, as before keys were exact
    return rounded.copy_negate() if numerator < 0 else rounded


def money(value: object) -> Decimal:
    """The one constructor for amounts: exact cents as ``Decimal``.

    Accepts ``Decimal``, ``int``, decimal strings (``"1234.50"``) and floats that denote a
    whole number of cents up to binary noise (what Excel stores for ``1234.5``).
    Refuses fractions of a cent, NaN, infinities and anything else with :class:`NotMoney`.

    >>> money(1234.5), money("0.1"), money(0.1 + 0.2)
    (Decimal('1234.50'), Decimal('0.10'), Decimal('0.30'))
    """
    if isinstance(value, bool):
        raise NotMoney(f"{value!r} ist kein Betrag")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotMoney(f"{value!r} ist kein Betrag")
        exact = Decimal(repr(value))
        if exact.adjusted() >= 26:
            raise NotMoney(f"{value!r} ist kein Betrag")
        rounded = round_cents(exact)
        if abs(exact - rounded) > _FLOAT_NOISE:
            raise NotMoney(f"{value!r} hat Bruchteile eines Cents")
        return rounded
    if isinstance(value, int):
        return Decimal(value).quantize(CENT)
    if isinstance(value, (Decimal, str)):
        try:
            exact = Decimal(value)
        except InvalidOperation:
            raise NotMoney(f"{value!r} ist kein Betrag") from None
        if not exact.is_finite() or exact.adjusted() >= 26:
            # 28 significant digits: quantizing larger values raises InvalidOperation
            raise NotMoney(f"{value!r} ist kein Betrag")
        if exact != exact.quantize(CENT, rounding=ROUND_HALF_UP):
            raise NotMoney(f"{value!r} hat Bruchteile eines Cents")
        return exact.quantize(CENT)
    raise NotMoney(f"{value!r} ist kein Betrag")


def number(value: object) -> Decimal:
    """An exact non-money quantity (VZÄ, months, hours, percent) from a cell value.

    Floats become the shortest decimal that round-trips (``0.625`` → ``Decimal("0.625")``).
    """
    if isinstance(value, bool):
        raise NotMoney(f"{value!r} ist keine Zahl")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotMoney(f"{value!r} ist keine Zahl")
        return Decimal(repr(value))
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise NotMoney(f"{value!r} ist keine Zahl") from None
        if not result.is_finite():
            raise NotMoney(f"{value!r} ist keine Zahl")
        return result
    raise NotMoney(f"{value!r} ist keine Zahl")
