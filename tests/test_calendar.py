"""The NYSE session calendar: the rule set agrees with a reference calendar, and the console does not load it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import holidays

from analytics.calendar import UNSCHEDULED_CLOSINGS, is_us_session, us_market_holidays


def test_rules_match_the_reference_nyse_calendar_1998_to_2035() -> None:
    years = range(1998, 2036)
    reference = set(holidays.financial_holidays("NYSE", years=years))
    assert set(us_market_holidays(years)) == reference


def test_observance_and_one_off_closings() -> None:
    closed = us_market_holidays(range(2021, 2027))
    assert dt.date(2026, 4, 3) in closed  # Good Friday
    assert dt.date(2021, 6, 18) not in closed  # Juneteenth became an NYSE holiday in 2022
    assert dt.date(2022, 6, 20) in closed  # ... on a Sunday: the Monday after
    assert dt.date(2021, 12, 24) in closed  # Christmas on a Saturday: the Friday before
    assert dt.date(2021, 12, 31) not in closed  # New Year's Day on a Saturday: no closing
    assert dt.date(2025, 1, 9) in closed and dt.date(2025, 1, 9) in UNSCHEDULED_CLOSINGS
    assert all(day.weekday() < 5 for day in closed)


def test_is_us_session() -> None:
    days = [dt.date(2026, 4, 2), dt.date(2026, 4, 3), dt.date(2026, 4, 4), dt.datetime(2026, 4, 6, 15, 30)]
    assert is_us_session(days).tolist() == [True, False, False, True]
    assert is_us_session([]).tolist() == []


def test_the_calendar_does_not_load_the_holidays_package() -> None:
    code = (
        "import sys, datetime as dt\n"
        "from analytics.calendar import is_us_session\n"
        "is_us_session([dt.date(2026, 4, 3)])\n"
        "assert 'holidays' not in sys.modules, 'holidays imported at run time'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
