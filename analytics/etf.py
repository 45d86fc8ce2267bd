"""ETF flow analytics: net flow sums, streaks, the largest outflow and cumulative flows (pure functions).

Input is a daily flow frame as :class:`sources.farside.EtfFlows` carries it (index: trading dates; one column
per fund in US dollars; ``Total``; NaN = not reported) plus ``partial_last`` when the newest day is still
filling in. Every figure uses **completed days only**: the partial day (and any day whose Total is missing) is
left out rather than read as zero, because a half-reported day understates the flow.

Market meaning: US spot ETF creations/redemptions are settled by authorised participants buying or selling the
coin, so persistent net outflows are institutional selling pressure ("ETF outflows" and "Institutional
selling" drivers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FlowFigure:
    """A flow figure in US dollars with the trading date it is as of and the days it covers."""

    value: float
    as_of: date | None
    days: int
    note: str = ""


def completed_totals(flows: pd.DataFrame, partial_last: bool = False) -> pd.Series:
    """Daily net totals (USD) of completed days, oldest first: the partial last day and NaN Totals dropped."""
    if flows is None or flows.empty or "Total" not in flows.columns:
        return pd.Series(dtype=float)
    total = flows["Total"].astype(float)
    if partial_last:
        total = total.iloc[:-1]
    return total.dropna()


def _as_date(label: date | str) -> date:
    return pd.Timestamp(label).date()


def net_flow_sum(flows: pd.DataFrame, n: int = 3, partial_last: bool = False) -> FlowFigure:
    """Sum of the last ``n`` completed trading days' net flows: ``sum(Total[-n:])`` (USD).

    NaN (with a note) when fewer than ``n`` completed days exist.
    """
    totals = completed_totals(flows, partial_last)
    if len(totals) < n:
        return FlowFigure(math.nan, None, len(totals), f"only {len(totals)} completed days (need {n})")
    window = totals.iloc[-n:]
    note = "today's partial row excluded" if partial_last else ""
    return FlowFigure(float(window.sum()), _as_date(window.index[-1]), n, note)


def current_streak(flows: pd.DataFrame, partial_last: bool = False) -> int:
    """Length of the current run of same-signed completed days: ``+k`` for k inflow days in a row, ``-k`` for
    k outflow days in a row, 0 when the newest day is flat or there is no data."""
    totals = completed_totals(flows, partial_last).to_numpy(np.float64)
    if not len(totals):
        return 0
    signs = np.sign(totals)
    last = signs[-1]
    if last == 0:
        return 0
    breaks = np.flatnonzero(signs[::-1] != last)
    run = int(breaks[0]) if len(breaks) else len(signs)
    return int(run * last)


def outflow_streak_days(flows: pd.DataFrame, partial_last: bool = False) -> int:
    """Consecutive completed outflow days ending with the newest one (0 if the newest day was an inflow)."""
    return max(0, -current_streak(flows, partial_last))


def largest_outflow(flows: pd.DataFrame, n: int = 10, partial_last: bool = False) -> FlowFigure:
    """The most negative completed daily net flow within the last ``n`` trading days: ``min(Total[-n:])``.

    The value is positive when every day in the window was an inflow; ``as_of`` is that day's date.
    """
    totals = completed_totals(flows, partial_last)
    if totals.empty:
        return FlowFigure(math.nan, None, 0, "no completed days")
    window = totals.iloc[-n:]
    low = int(window.argmin())  # position of the first minimum, as idxmin() finds its label
    note = "" if len(window) == n else f"only {len(window)} completed days (window {n})"
    return FlowFigure(float(window.iloc[low]), _as_date(window.index[low]), len(window), note)


def cumulative_flows(flows: pd.DataFrame, partial_last: bool = False) -> pd.Series:
    """Running sum of completed daily net flows (USD): ``cumsum(Total)``, the net money the ETFs took in."""
    return completed_totals(flows, partial_last).cumsum()


@dataclass(frozen=True)
class PartialDay:
    """What is known of a day still filling in: the funds reported so far and their sum (USD)."""

    day: date
    reported_sum: float
    reported: list[str]
    pending: list[str]


def partial_day(flows: pd.DataFrame, partial_last: bool) -> PartialDay | None:
    """The newest row when it is partial (``partial_last``), else None."""
    if not partial_last or flows is None or flows.empty:
        return None
    row = flows.iloc[-1].drop(labels=["Total"], errors="ignore")
    reported = [str(k) for k, v in row.items() if not math.isnan(v)]
    pending = [str(k) for k, v in row.items() if math.isnan(v)]
    return PartialDay(_as_date(flows.index[-1]), float(row.sum(min_count=1)) if reported else math.nan,
                      reported, pending)  # fmt: skip
