"""The NRW holiday table (kim_excel/core/holidays_nrw.py) is what the ``holidays`` package says,
year by year; run this file to write the table anew (``python tests/test_nrw_holidays.py``)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import holidays
import pytest

from kim_excel.core import holidays_nrw
from kim_excel.core.dates import due_date, nrw_holidays

TABLE = Path(holidays_nrw.__file__)


def package_days(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv="NW", years=year))


@pytest.mark.parametrize("year", range(holidays_nrw.FIRST_YEAR, holidays_nrw.LAST_YEAR + 1))
def test_the_table_is_what_the_package_says(year):
    assert nrw_holidays(year) == package_days(year)


def test_beyond_the_table_the_package_answers():
    assert nrw_holidays(2101) == package_days(2101)
    assert date(1999, 12, 25) in nrw_holidays(1999)


def test_a_due_date_on_corpus_christi_moves_to_the_next_working_day():
    # 2025-06-19 is Fronleichnam (a holiday in NRW, not everywhere): due the Friday after
    assert due_date(date(2025, 5, 20), 30) == date(2025, 6, 20)


def table_text() -> str:
    rows = "\n".join(
        f'    {year}: "{" ".join(d.strftime("%m%d") for d in sorted(package_days(year)))}",'
        for year in range(holidays_nrw.FIRST_YEAR, holidays_nrw.LAST_YEAR + 1))
    head = TABLE.read_text(encoding="utf-8").split("NRW_HOLIDAYS = {")[0]
    return f"{head}NRW_HOLIDAYS = {{\n{rows}\n}}\n"


def test_the_file_is_what_this_module_would_write():
    assert TABLE.read_text(encoding="utf-8") == table_text()


if __name__ == "__main__":
    TABLE.write_text(table_text(), encoding="utf-8")
    sys.exit(0)
