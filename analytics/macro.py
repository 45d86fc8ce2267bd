"""Macro and market-structure analytics (pure functions): BTC dominance, stablecoin share, altcoin market cap,
small-cap vs large-cap returns, SPY's 5-day change and the 2-year yield's 10-day change.

Until the console has kept a window of ``/global`` snapshots, the dominance and stablecoin-share changes can be
*estimated*: the market one window ago from the top coins' price changes over it (:func:`market_then`), the
stablecoins' growth from a supply history (DefiLlama's); see :func:`estimated_dominance_change`.

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


@dataclass(frozen=True)
class MarketThen:
    """The top coins' market caps one window ago relative to now, estimated from their price changes over it.

    ``cap_ratio`` = ``sum(cap_i / (1 + r_i)) / sum(cap_i)`` (the counted coins' total then over now) and
    ``btc_ratio`` = ``1 / (1 + r_btc)``; NaN when unknown. A cap then is the cap now undone by the price change,
    i.e. circulating supply is taken as constant over the window (unlocks and stablecoin mints are not seen).
    """

    cap_ratio: float
    btc_ratio: float
    n_coins: int
    n_left_out: int
    note: str = ""

    @property
    def known(self) -> bool:
        return not (math.isnan(self.cap_ratio) or math.isnan(self.btc_ratio))


def market_then(
    markets: pd.DataFrame,
    *,
    change_column: str = "change_30d_pct",
    btc_id: str = "bitcoin",
    min_coins: int = 20,
) -> MarketThen:
    """:class:`MarketThen` from a ``/coins/markets`` frame (``market_cap`` USD, ``change_column`` percent).

    Coins with an unknown change (listed inside the window) or an impossible one (<= -100%) are left out of both
    sums and counted. BTC is the row whose ``id`` is ``btc_id`` (``symbol`` ``BTC`` without an id column). Unknown
    when BTC's change is unknown or fewer than ``min_coins`` coins are left to count.
    """
    # numpy throughout: this runs on every /coins/markets delivery, for two metrics (a pandas filter costs ms).
    all_caps = markets["market_cap"].to_numpy(np.float64)
    with_cap = np.isfinite(all_caps) & (all_caps > 0)
    changes = markets[change_column].to_numpy(np.float64)[with_cap]
    ok = np.isfinite(changes) & (changes > -100)
    left_out = int((~ok).sum())
    caps = all_caps[with_cap][ok]
    factors = 1 + changes[ok] / 100
    if "id" in markets.columns:
        is_btc = markets["id"].to_numpy(object) == btc_id
    else:
        is_btc = np.char.upper(markets["symbol"].to_numpy(str)) == "BTC"
    btc = np.asarray(is_btc, dtype=bool)[with_cap][ok]
    note = f"{left_out} coins without a usable change left out" if left_out else ""
    if not btc.any():
        return MarketThen(math.nan, math.nan, len(caps), left_out, "BTC has no usable change")
    if len(caps) < min_coins:
        return MarketThen(math.nan, math.nan, len(caps), left_out, f"only {len(caps)} coins with a change")
    cap_ratio = float((caps / factors).sum() / caps.sum())
    btc_ratio = float(1 / factors[btc][0])
    return MarketThen(cap_ratio, btc_ratio, len(caps), left_out, note)


def estimated_dominance_change(
    then: MarketThen,
    dominance_now_pct: float,
    *,
    end_time: pd.Timestamp | None = None,
    window: pd.Timedelta | None = None,
) -> WindowChange:
    """BTC dominance now minus one window ago (points), the past dominance estimated from price changes.

    ``dominance_then = dominance_now * btc_ratio / cap_ratio``: BTC's cap then over the top coins' cap then, scaled
    by the current ratio of the top coins to the whole market (taken as constant over the window). It is
    ``btc_cap / (1 + r_btc) / sum(cap_i / (1 + r_i)) * sum(cap_i) / total_now`` with BTC's share of
    ``total_now`` read from the same ``/global`` snapshot as ``dominance_now_pct``, so the change compares one
    source with itself. ``start_time`` is ``end_time - window`` when both are given.
    """
    if not then.known:
        return _unknown(then.note, dominance_now_pct, end_time)
    start = dominance_now_pct * then.btc_ratio / then.cap_ratio
    start_time = end_time - window if end_time is not None and window is not None else None
    return WindowChange(dominance_now_pct - start, start, dominance_now_pct, start_time, end_time, then.note)


def estimated_stablecoin_share_change(
    then: MarketThen,
    share_now_pct: float,
    supply_usd: pd.Series,
    window: pd.Timedelta,
    *,
    now: pd.Timestamp | None = None,
    end_time: pd.Timestamp | None = None,
) -> WindowChange:
    """The stablecoin share of total market cap now minus one window ago (points), the past share estimated.

    ``share_then = share_now * (supply_then / supply_now) / cap_ratio``: the stablecoins grew by their supply's
    change (``supply_usd``: a time-indexed daily series of the USD stablecoin supply, e.g. DefiLlama's, read at
    its newest point at or before ``now`` and one window before that) while the market grew by ``1 / cap_ratio``.
    ``share_now_pct`` keeps the measured share's own basket (CoinGecko's USDT + USDC): the estimate takes that
    basket to keep its part of all USD stablecoins over the window.
    """
    supply = change_over_window(supply_usd, window, now=now)
    if not supply.known:
        return _unknown(f"stablecoin supply: {supply.note}", share_now_pct, end_time)
    if not then.known:
        return _unknown(then.note, share_now_pct, end_time)
    start = share_now_pct * (supply.start / supply.end) / then.cap_ratio
    start_time = end_time - window if end_time is not None else None
    return WindowChange(share_now_pct - start, start, share_now_pct, start_time, end_time, then.note)


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
