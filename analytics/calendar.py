"""The US equity-market calendar: which dates are NYSE trading sessions (weekdays that are not exchange holidays).

Why it matters: equity and ETF figures count *sessions* ("SPY down over 5 sessions", "3 outflow days in a row"). A
row stamped on a holiday (a data vendor's forward-filled close, a zero-flow placeholder) is not a session and must
not shorten a window or break a streak. The holiday list is the ``holidays`` package's NYSE financial calendar
(Good Friday, Juneteenth and one-off closings such as the 2025-01-09 day of mourning included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def _nyse_holidays(first_year: int, last_year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.financial_holidays("NYSE", years=range(first_year, last_year + 1)))


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
