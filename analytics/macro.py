"""Macro and market-structure analytics (pure functions): BTC dominance, stablecoin share, altcoin market cap,
small-cap vs large-cap returns, SPY's 5-day change and the 2-year yield's 10-day change.

Every windowed figure is a :class:`WindowChange` carrying the two samples it compares and their times, so the
screen can label its as-of date; when the history is shorter than the window the value is NaN with a note
(e.g. BTC dominance history is built from our own CoinGecko snapshots and needs 30 days to exist).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class WindowChange:
    """``value`` = ``end - start`` (points) or ``end / start - 1`` in percent, with the samples' times."""

    value: float
    start: float
    end: float
    start_time: pd.Timestamp | None
    end_time: pd.Timestamp | None
    note: str = ""

    @property
    def known(self) -> bool:
        return not math.isnan(self.value)


def _unknown(note: str, end: float = math.nan, end_time: pd.Timestamp | None = None) -> WindowChange:
    return WindowChange(math.nan, math.nan, end, None, end_time, note)


def change_over_window(
    series: pd.Series,
    window: pd.Timedelta,
    *,
    now: pd.Timestamp | None = None,
    relative: bool = False,
) -> WindowChange:
    """Change of a time-indexed series over ``window`` ending at its newest sample at or before ``now``.

    ``start`` is the newest sample at or before ``end_time - window``. Absolute (points) by default; with
    ``relative`` the change is ``(end / start - 1) * 100`` percent. NaN samples are ignored.
    """
    values = series.dropna().sort_index()
    if now is not None:
        values = values[values.index <= now]
    if values.empty:
        return _unknown("no data")
    end_time = values.index[-1]
    end = float(values.iloc[-1])
    earlier = values[values.index <= end_time - window]
    if earlier.empty:
        covered = end_time - values.index[0]
        return _unknown(f"history covers {covered} of the {window} window", end, end_time)
    start = float(earlier.iloc[-1])
    value = (end / start - 1) * 100 if relative else end - start
    return WindowChange(value, start, end, earlier.index[-1], end_time)


def _series(snapshots: pd.DataFrame | pd.Series, column: str) -> pd.Series:
    if isinstance(snapshots, pd.Series):
        return snapshots
    frame = snapshots
    if "time" in frame.columns:
        index = pd.to_datetime(frame["time"], unit="ms", utc=True) if pd.api.types.is_integer_dtype(
            frame["time"].dtype) else pd.to_datetime(frame["time"], utc=True)  # fmt: skip
        return pd.Series(frame[column].to_numpy(np.float64), index=pd.DatetimeIndex(index))
    return frame[column]


def btc_dominance_change(
    snapshots: pd.DataFrame | pd.Series,
    window_days: int = 30,
    now: pd.Timestamp | None = None,
    column: str = "btc_dominance_pct",
) -> WindowChange:
    """BTC dominance (BTC market cap / total, percent) now minus ``window_days`` ago, in points.

    Rising dominance while the market falls is a flight to quality: alts underperform ("Bitcoin dominance
    rising" driver, > +1 point in 30 days). ``snapshots``: a time-indexed Series, or a frame with ``time``
    (epoch ms or timestamps) and ``column``.
    """
    return change_over_window(_series(snapshots, column), pd.Timedelta(days=window_days), now=now)


def stablecoin_share_change(snapshots: pd.DataFrame | pd.Series, window_days: int = 30,
                            now: pd.Timestamp | None = None,
                            column: str = "stablecoin_share_pct") -> WindowChange:  # fmt: skip
    """Stablecoin (USDT + USDC) share of total crypto market cap, change over the window in points.

    A rising share means holders rotate into dollars rather than coins ("Stablecoin rotation", > +0.5).
    """
    return change_over_window(_series(snapshots, column), pd.Timedelta(days=window_days), now=now)


def alt_mcap_ex_btc_eth(total_mcap_usd: float, btc_pct: float, eth_pct: float) -> float:
    """TOTAL3, the altcoin market cap: ``total * (1 - (btc% + eth%) / 100)`` in USD."""
    return total_mcap_usd * (1 - (btc_pct + eth_pct) / 100)


@dataclass(frozen=True)
class CapSplit:
    """Small-cap vs large-cap 30-day returns (percent) and their difference in percentage points."""

    value_pp: float
    small_return_pct: float
    large_return_pct: float
    n_small: int
    n_large: int
    note: str = ""


def _basket_return(caps: np.ndarray, changes_pct: np.ndarray) -> float:
    """Market-cap-weighted return of a basket formed at the window start: ``sum(cap_now) /
    sum(cap_now / (1 + r)) - 1`` (percent), i.e. weights are the coins' caps 30 days ago."""
    start_caps = caps / (1 + changes_pct / 100)
    return float((caps.sum() / start_caps.sum() - 1) * 100)


def small_vs_large_cap_return(
    markets: pd.DataFrame,
    *,
    top: int = 100,
    change_column: str = "change_30d_pct",
    exclude_symbols: Iterable[str] = (),
) -> CapSplit:
    """Return of the ``top/2`` smallest of the top ``top`` coins minus the ``top/2`` largest, in pp.

    ``markets`` has ``market_cap`` (USD) and ``change_column`` (percent), as :func:`sources.coingecko.
    parse_coin_markets` returns. Coins are ranked by current market cap; each half's return is
    market-cap-weighted (:func:`_basket_return`); coins with an unknown change (new listings) are left out
    and counted in the note. Below -10 pp the "Small caps lagging" driver is active: risk appetite is
    draining from the long tail first.
    """
    frame = markets
    if "symbol" in frame.columns and exclude_symbols:
        frame = frame[~frame["symbol"].str.upper().isin({s.upper() for s in exclude_symbols})]
    frame = frame.dropna(subset=["market_cap"]).sort_values("market_cap", ascending=False).head(top)
    if len(frame) < top:
        return CapSplit(math.nan, math.nan, math.nan, 0, 0, f"only {len(frame)} coins with a market cap")
    half = top // 2
    parts = []
    missing = 0
    for part in (frame.iloc[:half], frame.iloc[half:]):
        ok = part[change_column].notna() & (part[change_column] > -100)
        missing += int((~ok).sum())
        parts.append((part.loc[ok, "market_cap"].to_numpy(np.float64), part.loc[ok, change_column].to_numpy(
            np.float64)))  # fmt: skip
    (large_caps, large_chg), (small_caps, small_chg) = parts
    if not len(large_caps) or not len(small_caps):
        return CapSplit(math.nan, math.nan, math.nan, len(small_caps), len(large_caps), "no 30-day changes")
    large = _basket_return(large_caps, large_chg)
    small = _basket_return(small_caps, small_chg)
    note = f"{missing} coins without a 30-day change left out" if missing else ""
    return CapSplit(small - large, small, large, len(small_caps), len(large_caps), note)


def spy_change(closes: pd.Series, sessions: int = 5) -> WindowChange:
    """Percent change over the last ``sessions`` daily closes: ``close[-1] / close[-1-sessions] - 1``.

    ``closes`` is indexed by session time (NaN ignored); rows stamped on days that are not NYSE sessions (a
    vendor's carried-forward holiday close) are not sessions and are left out. Below -2% over 5 sessions the
    "Stock-market weakness" driver is active: equity de-risking usually spills into crypto.
    """
    from analytics.calendar import is_us_session

    values = closes.dropna().sort_index()
    if len(values) and isinstance(values.index, pd.DatetimeIndex):
        # Daily bars are stamped at the session open (13:30/14:30 UTC) or at midnight: the UTC date is the session.
        values = values[is_us_session(list(values.index.date))]
    if len(values) <= sessions:
        end = float(values.iloc[-1]) if len(values) else math.nan
        return _unknown(f"only {len(values)} sessions (need {sessions + 1})", end,
                        values.index[-1] if len(values) else None)  # fmt: skip
    end, start = float(values.iloc[-1]), float(values.iloc[-1 - sessions])
    return WindowChange((end / start - 1) * 100, start, end, values.index[-1 - sessions], values.index[-1])


def yield_change(values: pd.Series, days: int = 10) -> WindowChange:
    """Yield change in percentage points from the newest observation back ``days`` calendar days
    (``end - start``, start = newest observation on or before ``as_of - days``).

    ``end_time`` is the observation's own date (FRED publishes DGS2 a business day late): label the figure
    with it. Above +0.15 points in 10 days the "Rates / Fed uncertainty" driver is active (hawkish repricing).
    """
    return change_over_window(values, pd.Timedelta(days=days))
