"""The agreement's dates: due dates past weekends and NRW holidays (R10), when a notice
takes effect (R11), and the programme's rate per VZÄ and year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kim_excel.core.dates import (
    due_date,
    is_working_day,
    last_day_for_notice,
    next_working_day,
    notice_takes_effect,
    parse_german_date,
    programme_rate,
)

# ------------------------------------------------------------------ R10 due dates


def test_a_due_date_on_a_working_day_stays():
    """The example: 02.03.2025 + 30 days = 01.04.2025, a Tuesday."""
    assert due_date(date(2025, 3, 2), 30) == date(2025, 4, 1)


def test_a_due_date_on_a_saturday_moves_to_monday():
    assert due_date(date(2025, 3, 1), 14) == date(2025, 3, 17)  # Sat 15.03. → Mon 17.03.


def test_a_due_date_on_a_sunday_moves_to_monday():
    assert due_date(date(2025, 3, 1), 15) == date(2025, 3, 17)  # Sun 16.03. → Mon 17.03.


def test_christmas_and_the_weekend_after_it_move_to_the_29th():
    """25 Dec 2025 (Thu) and 26 Dec are holidays, 27/28 Dec a weekend."""
    assert due_date(date(2025, 12, 1), 24) == date(2025, 12, 29)


def test_fronleichnam_is_a_holiday_in_nrw():
    """Corpus Christi (Thu 19 Jun 2025) is a holiday in NRW, not everywhere in Germany."""
    assert not is_working_day(date(2025, 6, 19))
    assert due_date(date(2025, 6, 1), 18) == date(2025, 6, 20)


@pytest.mark.parametrize("holiday", [
    date(2025, 1, 1),  # Neujahr
    date(2025, 4, 18),  # Karfreitag
    date(2025, 4, 21),  # Ostermontag
    date(2025, 5, 1),  # Tag der Arbeit
    date(2025, 5, 29),  # Christi Himmelfahrt
    date(2025, 6, 9),  # Pfingstmontag
    date(2025, 10, 3),  # Tag der Deutschen Einheit
    date(2024, 11, 1),  # Allerheiligen (a Friday)
])
def test_nrw_public_holidays_are_no_working_days(holiday):
    assert not is_working_day(holiday)


@pytest.mark.parametrize("not_in_nrw", [
    date(2025, 1, 6),  # Heilige Drei Könige: Bavaria, Baden-Württemberg, Saxony-Anhalt
    date(2025, 10, 31),  # Reformationstag: not in NRW
    date(2025, 11, 19),  # Buß- und Bettag: Saxony only
])
def test_holidays_of_other_states_are_working_days_in_nrw(not_in_nrw):
    assert is_working_day(not_in_nrw)


def test_good_friday_and_easter_monday_are_skipped_together():
    """Thu 17 Apr 2025 + 1 day = Good Friday → Sat, Sun, Easter Monday → Tue 22 Apr."""
    assert next_working_day(date(2025, 4, 18)) == date(2025, 4, 22)


def test_a_due_date_past_new_year_uses_the_next_years_holidays():
    """31 Dec 2026 is a Thursday, 1 Jan 2027 a holiday (a Friday), then a weekend."""
    assert due_date(date(2026, 12, 1), 31) == date(2027, 1, 4)


# ------------------------------------------------------------------ R11 notice


@pytest.mark.parametrize("received, months, effective", [
    (date(2025, 6, 30), 18, date(2026, 12, 31)),  # the last day for the end of 2026
    (date(2025, 7, 1), 18, date(2027, 12, 31)),  # one day late: a year later
    (date(2025, 1, 2), 18, date(2026, 12, 31)),
    (date(2025, 6, 30), 6, date(2025, 12, 31)),  # 6 months: 30 Jun still counts this year
    (date(2025, 7, 1), 6, date(2026, 12, 31)),
    (date(2025, 12, 31), 0, date(2025, 12, 31)),  # no notice period: the same year's end
])
def test_notice_takes_effect_at_the_first_possible_year_end(received, months, effective):
    assert notice_takes_effect(received, months) == effective


def test_the_last_day_for_notice_is_the_boundary_of_notice_takes_effect():
    """Whatever the period, the last day works and the day after it costs a year."""
    for months in (6, 12, 18, 24):
        end = date(2027, 12, 31)
        last = last_day_for_notice(end, months)
        assert notice_takes_effect(last, months) == end
        assert notice_takes_effect(date.fromordinal(last.toordinal() + 1), months) == \
            date(2028, 12, 31)


def test_last_day_for_notice_clips_to_the_month_end():
    assert last_day_for_notice(date(2026, 12, 31), 18) == date(2025, 6, 30)
    assert last_day_for_notice(date(2026, 12, 31), 6) == date(2026, 6, 30)


def test_a_negative_notice_period_is_refused():
    with pytest.raises(ValueError):
        notice_takes_effect(date(2025, 1, 1), -1)


# ------------------------------------------------------------------ programme rate


@pytest.mark.parametrize("year, rate", [
    (2020, Decimal(55000)), (2022, Decimal(55000)), (2023, Decimal(57000)), (2024, Decimal(57000)),
])
def test_programme_rate_is_55000_up_to_2022_and_57000_from_2023(year, rate):
    assert programme_rate(year) == rate
    assert isinstance(programme_rate(year), Decimal)


# ------------------------------------------------------------------ German dates


def test_german_dates_are_read_with_one_or_two_digit_day_and_month():
    assert parse_german_date("1.7.2025") == date(2025, 7, 1)
    assert parse_german_date(" 29.02.2024 ") == date(2024, 2, 29)


@pytest.mark.parametrize("text, message", [
    ("2025-07-01", "„2025-07-01“ hat nicht die Form TT.MM.JJJJ"),
    ("1.7.25", "„1.7.25“ hat nicht die Form TT.MM.JJJJ"),
    ("29.02.2025", "„29.02.2025“ ist kein Tag des Kalenders"),
    ("31.04.2025", "„31.04.2025“ ist kein Tag des Kalenders"),
])
def test_a_date_that_is_no_german_date_is_refused_in_german(text, message):
    with pytest.raises(ValueError) as caught:
        parse_german_date(text)
    assert str(caught.value) == message
