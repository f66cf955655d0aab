"""Dates of the agreement: due dates (R10), notice periods (R11) and the programme's rate.

Pure functions; the clock is never read here.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from kim_excel.core.holidays_nrw import FIRST_YEAR, LAST_YEAR, NRW_HOLIDAYS

# The subsidy per VZÄ and year of the NRW programme (building block 2): 55,000 EUR up to
# 2022 (agreement § 2), 57,000 EUR from 2023 (grant notices of 2023).
RATE_UNTIL_2022 = Decimal(55000)
RATE_FROM_2023 = Decimal(57000)


def programme_rate(year: int) -> Decimal:
    return RATE_UNTIL_2022 if year <= 2022 else RATE_FROM_2023


@lru_cache(maxsize=64)
def nrw_holidays(year: int) -> frozenset[date]:
    """The public holidays of North Rhine-Westphalia in ``year``: from the table the tests
    keep equal to the ``holidays`` package, the package itself outside it."""
    if FIRST_YEAR <= year <= LAST_YEAR:
        return frozenset(date(year, int(d[:2]), int(d[2:])) for d in NRW_HOLIDAYS[year].split())
    import holidays  # heavy (every country's module, 0.2–0.6 s): only beyond the table

    return frozenset(holidays.country_holidays("DE", subdiv="NW", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and no public holiday in North Rhine-Westphalia."""
    return day.weekday() < 5 and day not in nrw_holidays(day.year)


def next_working_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_date(settlement_date: date, payment_days: int) -> date:
    """R10: settlement date + payment term, moved past weekends and NRW holidays.

    25 Dec 2025 (Thu) and 26 Dec are holidays, 27/28 Dec a weekend:

    >>> due_date(date(2025, 12, 1), 24)
    datetime.date(2025, 12, 29)
    """
    return next_working_day(settlement_date + timedelta(days=payment_days))


def notice_takes_effect(received: date, notice_months: int) -> date:
    """R11: the first 31 Dec E with ``received ≤ E − notice_months`` (month ends clip).

    With 18 months, notice received by 30 Jun 2025 ends the membership on 31 Dec 2026,
    one received on 1 Jul 2025 on 31 Dec 2027 (31 Dec 2026 − 18 months = 30 Jun 2025).

    >>> notice_takes_effect(date(2025, 6, 30), 18), notice_takes_effect(date(2025, 7, 1), 18)
    (datetime.date(2026, 12, 31), datetime.date(2027, 12, 31))
    """
    if notice_months < 0:
        raise ValueError("notice_months must not be negative")
    year = received.year
    while True:
        end = date(year, 12, 31)
        if received <= end - relativedelta(months=notice_months):
            return end
        year += 1


def last_day_for_notice(end: date, notice_months: int) -> date:
    """The last day a notice may be received to take effect on ``end`` (31 Dec)."""
    return end - relativedelta(months=notice_months)


def parse_german_date(text: str) -> date:
    """``TT.MM.JJJJ`` (one-digit day and month allowed) → ``date``; ValueError otherwise.

    >>> parse_german_date("1.7.2025"), parse_german_date(" 29.02.2024 ")
    (datetime.date(2025, 7, 1), datetime.date(2024, 2, 29))
    """
    import re

    match = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*", text)
    if not match:
        raise ValueError(f"„{text}“ hat nicht die Form TT.MM.JJJJ")
    day, month, year = int(match[1]), int(match[2]), int(match[3])
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"„{text}“ ist kein Tag des Kalenders") from None
