"""The US equity-market calendar: which dates are NYSE trading sessions (weekdays that are not exchange holidays).

Why it matters: equity and ETF figures count *sessions* ("SPY down over 5 sessions", "3 outflow days in a row"). A
row stamped on a holiday (a data vendor's forward-filled close, a zero-flow placeholder) is not a session and must
not shorten a window or break a streak.

The holidays are NYSE Rule 7.2's, written as pandas holiday rules (``pandas.tseries.holiday``: the date arithmetic,
Easter for Good Friday, the weekend observance), plus the exchange's unscheduled closings since 2000. They are exact
from 1998 (the first year of the Martin Luther King Jr. closing); ``tests/test_calendar.py`` checks them against the
``holidays`` package's NYSE calendar for 1998-2035. That package is not used at run time: its NYSE calendar pulls in
every calendar it ships (336 modules, ~13 MB resident) for ten dates a year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pandas.tseries.holiday import Holiday


#: Unscheduled full-day closings since 2000 (NYSE press releases): September 11, days of mourning, Hurricane Sandy.
UNSCHEDULED_CLOSINGS: tuple[dt.date, ...] = (
    dt.date(2001, 9, 11),
    dt.date(2001, 9, 12),
    dt.date(2001, 9, 13),
    dt.date(2001, 9, 14),
    dt.date(2004, 6, 11),  # President Reagan
    dt.date(2007, 1, 2),  # President Ford
    dt.date(2012, 10, 29),  # Hurricane Sandy
    dt.date(2012, 10, 30),
    dt.date(2018, 12, 5),  # President G. H. W. Bush
    dt.date(2025, 1, 9),  # President Carter
)


def _nyse_rules() -> list[Holiday]:
    """NYSE Rule 7.2's holidays. A holiday on a Saturday closes the Friday before, on a Sunday the Monday after;
    New Year's Day on a Saturday closes nothing (the Friday ends the year's accounting period)."""
    from pandas.tseries.holiday import (
        GoodFriday,
        Holiday,
        USLaborDay,
        USMartinLutherKingJr,
        USMemorialDay,
        USPresidentsDay,
        USThanksgivingDay,
        nearest_workday,
        sunday_to_monday,
    )

    return [
        Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
        # The third Monday of January, as pandas' federal rule, but an NYSE closing only from 1998.
        Holiday("MLK Jr. Day", month=1, day=1, offset=USMartinLutherKingJr.offset, start_date="1998-01-01"),
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, observance=nearest_workday, start_date="2022-01-01"),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USMartinLutherKingJr,
        USThanksgivingDay,
        Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
    ]


@lru_cache(maxsize=8)
def _nyse_holidays(first_year: int, last_year: int) -> frozenset[dt.date]:
    from pandas.tseries.holiday import AbstractHolidayCalendar

    class Nyse(AbstractHolidayCalendar):
        rules = _nyse_rules()

    scheduled = Nyse().holidays(dt.datetime(first_year, 1, 1), dt.datetime(last_year, 12, 31))
    # A Saturday New Year's Day comes back as the Saturday itself: no weekday is closed for it.
    closed = {stamp.date() for stamp in scheduled if stamp.weekday() < 5}
    closed.update(d for d in UNSCHEDULED_CLOSINGS if first_year <= d.year <= last_year)
    return frozenset(closed)


def us_market_holidays(years: Iterable[int]) -> frozenset[dt.date]:
    """NYSE full-day closings in ``years``."""
    wanted = sorted(set(years))
    if not wanted:
        return frozenset()
    return _nyse_holidays(wanted[0], wanted[-1])


def is_us_session(dates: Iterable[dt.date]) -> np.ndarray:
    """Boolean mask: True where the date is an NYSE trading session (a weekday that is not a holiday)."""
    days = [d.date() if isinstance(d, dt.datetime) else d for d in dates]
    if not days:
        return np.zeros(0, dtype=bool)
    closed = us_market_holidays(d.year for d in days)
    return np.array([d.weekday() < 5 and d not in closed for d in days], dtype=bool)


def parse_utc_ms(text: str) -> int:
    """An ISO-8601 time (``2025-10-11T12:00:00Z``; without a zone, UTC is assumed) as epoch milliseconds."""
    import pandas as pd

    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)
