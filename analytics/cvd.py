"""Cumulative volume delta (CVD) of spot altcoins, per coin and for a basket, from Binance klines.

Market meaning: every trade has an aggressor. When takers lift offers (market buys) they pay up; when they hit
bids (market sells) they give in. A candle's *delta* is the taker-buy quote volume minus the taker-sell quote
volume, in USD (USDT ~ USD); its running sum from an anchor time is the CVD. A rising basket CVD means spot
buyers are absorbing supply across the altcoin market; a falling one means persistent spot selling.

Inputs are the frames of :func:`sources.binance_spot.parse_klines`: a UTC ``open_time`` DatetimeIndex with the
columns ``quote_volume``, ``taker_buy_quote`` (NaN when the source has no taker split, e.g. OHLCV-only replay
history), ``close_time`` and ``provisional`` (the still-open bar whose volumes will grow).

Decisions on data that is missing (documented here once, relied on by every function below):

* **Unknown taker split is never zero.** A NaN ``taker_buy_quote`` makes that bar's delta NaN. A cumulative
  sum cannot be continued across an unknown bar, so :func:`cvd` returns NaN from the first unknown bar to the
  end of the series (the bars before it stay valid). Ratios over a window with any unknown bar are NaN.
* **Basket**: a coin with any unknown bar in the window, with no bars at all, or without a bar at the basket's
  latest bar time (stale / lagging fetch / delisted) is *excluded* from the basket totals and listed in
  ``BasketCVD.unknown_coins`` with a reason. It is not counted as zero. When *every* coin is unknown (e.g. a
  replay of OHLCV-only history) the basket series, total, ratio and changes are all NaN.
* **Gaps and listings.** Binance emits no kline for an interval without trades, so a missing bar after a
  coin's first bar means "no trades" and its CVD carries forward; before a coin's first bar it had not started
  trading (its per-coin CVD is NaN there, and it contributes nothing to the basket). Frames are therefore
  taken to be the coin's complete history from their first bar; callers that truncate history must pass
  ``since`` inside it.
* **Provisional bars** (still open) are included; ``BasketCVD.includes_provisional`` says so, so the UI can
  mark the latest figure as "still moving".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

__all__ = ["BasketCVD", "basket", "buy_sell_ratio", "candle_delta", "cvd"]

_NS_PER_MS = 1_000_000
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column's values as a read-only-by-convention numpy array.

    ``DataFrame.__getitem__`` builds a Series (~15-20 us in pandas 3); across 200 coins x 3 columns that alone
    would cost ~10 ms, so use the internal column accessor when it exists and fall back to the public path.
    The returned array may be a view of the frame: callers never write to it.
    """
    getter = getattr(frame, "_get_column_array", None)
    if getter is not None:
        loc = frame.columns.get_loc(name)
        if isinstance(loc, int):
            return np.asarray(getter(loc))
    return frame[name].to_numpy()


def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Index values as int64 nanoseconds since the epoch (UTC), whatever the index's resolution."""
    factor = _NS_PER_UNIT[index.unit]
    return index.asi8 if factor == 1 else index.asi8 * factor


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    """``ts`` as a UTC timestamp; a naive timestamp is taken to be UTC."""
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _ts_ns(ts: pd.Timestamp) -> int:
    """A timestamp as int64 ns since the epoch; a naive timestamp is taken to be UTC."""
    return int(_utc(ts).as_unit("ns").value)


def _utc_index(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(ns, unit="ns", utc=True), name="open_time")


def candle_delta(frame: pd.DataFrame) -> pd.Series:
    """Per-candle volume delta in USD: how much more was market-bought than market-sold in each bar.

    Formula: ``delta = buy - sell = taker_buy_quote - (quote_volume - taker_buy_quote)``, i.e.
    ``delta = 2 * taker_buy_quote - quote_volume``. Positive = aggressive buyers dominated the bar. A bar
    whose taker split is unknown (NaN) has a NaN delta.
    """
    delta = 2.0 * frame["taker_buy_quote"].astype(float) - frame["quote_volume"].astype(float)
    return delta.rename("delta")


def cvd(frame: pd.DataFrame, since: pd.Timestamp) -> pd.Series:
    """Cumulative volume delta in USD from ``since``: the net USD market-bought minus market-sold since then.

    Formula: for bars with ``open_time >= since`` (the first bar at/after ``since`` is the first term),
    ``cvd_t = sum_{i <= t} (2 * taker_buy_quote_i - quote_volume_i)``.

    Unknown handling: if a bar's taker split is unknown, the running total is unknown from that bar onwards,
    so the series is NaN from the first unknown bar to the end; earlier values are kept. Never filled with
    zero.
    """
    window = frame.iloc[frame.index.searchsorted(_utc(since), side="left") :]
    values = 2.0 * _column(window, "taker_buy_quote").astype(float) - _column(window, "quote_volume").astype(
        float
    )
    unknown = np.cumsum(np.isnan(values)) > 0
    total = np.cumsum(np.where(unknown, 0.0, values))
    total[unknown] = np.nan
    return pd.Series(total, index=window.index, name="cvd")


def buy_sell_ratio(frame: pd.DataFrame, since: pd.Timestamp | None = None) -> float:
    """Taker buy/sell quote-volume ratio over the window: above 1 buyers are more aggressive, below 1 sellers.

    Formula: ``sum(taker_buy_quote) / sum(quote_volume - taker_buy_quote)`` over bars with ``open_time >=
    since`` (all bars when ``since`` is None). NaN when any bar in the window has an unknown taker split, when
    the window is empty, or when there is no sell volume (the ratio is undefined).
    """
    if since is not None:
        frame = frame.iloc[frame.index.searchsorted(_utc(since), side="left") :]
    buy = _column(frame, "taker_buy_quote").astype(float)
    total = _column(frame, "quote_volume").astype(float)
    if buy.size == 0 or np.isnan(buy).any() or np.isnan(total).any():
        return float("nan")
    sell = float((total - buy).sum())
    if sell <= 0.0:
        return float("nan")
    return float(buy.sum()) / sell


@dataclass(frozen=True)
class BasketCVD:
    """CVD of a basket of coins from ``since``; every USD figure is taker-buy minus taker-sell quote volume.

    ``per_coin``: CVD per coin (columns = coins, index = the union of bar open times at/after ``since``); NaN
    before a coin's first bar and from its first unknown bar on. ``basket_delta`` / ``cumulative``: per-bar
    sum over the *known* coins and its running total. ``summary``: one row per coin (see :func:`basket`).
    ``unknown_coins`` (with ``unknown_reasons``) are excluded from every basket figure.
    """

    since: pd.Timestamp
    per_coin: pd.DataFrame
    basket_delta: pd.Series
    cumulative: pd.Series
    summary: pd.DataFrame
    buy_sell_ratio: float
    unknown_coins: list[str]
    unknown_reasons: dict[str, str] = field(default_factory=dict)
    includes_provisional: bool = False
    interval: pd.Timedelta | None = None
    as_of: pd.Timestamp | None = None

    @property
    def total(self) -> float:
        """Basket CVD at the latest bar (USD); NaN when the basket has no bars."""
        return float(self.cumulative.iloc[-1]) if len(self.cumulative) else float("nan")

    def change(self, window: pd.Timedelta) -> float:
        """Basket CVD change over ``window`` ending at the latest bar, in USD ("CVD change over 30 days").

        Formula: ``sum(basket_delta_i for bars with open_time > as_of - window)``, i.e. the cumulative now
        minus the cumulative ``window`` earlier. For daily bars and ``window = 30d`` that is the last 30 bars
        (the latest possibly provisional). NaN when the series since ``since`` does not reach back a full
        window (``first_bar_open - interval > as_of - window``) or is empty.
        """
        if self.basket_delta.empty:
            return float("nan")
        window = pd.Timedelta(window)
        index = self.basket_delta.index
        start = index[-1] - window
        step = self.interval if self.interval is not None else pd.Timedelta(0)
        if index[0] - step > start:
            return float("nan")
        pos = index.searchsorted(start, side="right")
        return float(self.basket_delta.to_numpy()[pos:].sum())


def _union(times: list[np.ndarray]) -> np.ndarray:
    """Sorted union of the coins' bar times (ns); the common case, identical indexes, costs one comparison."""
    nonempty = [t for t in times if t.size]
    if not nonempty:
        return np.empty(0, dtype=np.int64)
    first = nonempty[0]
    if all(t.size == first.size for t in nonempty) and (np.vstack(nonempty) == first).all():
        return first
    return np.unique(np.concatenate(nonempty))


def _interval_ns(frames: Mapping[str, pd.DataFrame], union: np.ndarray) -> int | None:
    """Bar length (ns) from Binance's ``close_time = open_time + interval - 1 ms``, else the smallest step."""
    for frame in frames.values():
        if len(frame) and "close_time" in frame.columns:
            first_close = pd.Timestamp(frame["close_time"].iloc[0])
            return _ts_ns(first_close) + _NS_PER_MS - _ts_ns(frame.index[0])
    if union.size > 1:
        return int(np.diff(union).min())
    return None


def basket(
    frames: Mapping[str, pd.DataFrame],
    since: pd.Timestamp,
    *,
    windows: Mapping[str, pd.Timedelta] | None = None,
) -> BasketCVD:
    """Per-coin and basket CVD from ``since``: is spot money buying or selling altcoins as a group?

    Formulas (USD; ``delta = 2 * taker_buy_quote - quote_volume`` per bar; only *known* coins enter basket
    sums):

    * ``per_coin[c]_t = sum of delta_c over bars since..t`` (NaN before c's first bar, NaN after an unknown
      bar);
    * ``basket_delta_t = sum_c delta_c,t`` and ``cumulative_t = sum_{i<=t} basket_delta_i``;
    * ``buy_sell_ratio = sum_c sum_t taker_buy_quote / sum_c sum_t (quote_volume - taker_buy_quote)``;
    * summary per coin: ``cumulative_usd`` (CVD at the latest bar), ``buy_sell_ratio`` (since ``since``),
      ``delta_24h_usd`` / ``delta_30d_usd`` (sum of deltas of bars with ``open_time > as_of - window`` over
      the coin's whole frame, not limited by ``since``; NaN if unknown bars are in that window or the basket's
      history is shorter than the window), ``share_of_basket = cumulative_usd / sum_known |cumulative_usd|``
      (in -1..1, sign = direction; the absolute shares of known coins add up to 1, so offsetting coins cannot
      blow it up), ``provisional`` and ``unknown`` flags. An excluded coin's figures are all NaN (``unknown``
      is True). ``windows`` overrides the default ``{"24h": 1 day, "30d": 30 days}``
      (column ``delta_<key>_usd``).

    Exclusion (listed in ``unknown_coins``, reasons in ``unknown_reasons``): any bar with unknown taker split
    since ``since``; an empty frame; no bar at the basket's latest bar time (stale). Vectorised: frames are
    stacked into T x N numpy arrays once; the only Python loop is over coins, not rows.
    """
    coins = list(frames)
    windows = (
        dict(windows) if windows is not None else {"24h": pd.Timedelta(days=1), "30d": pd.Timedelta(days=30)}
    )
    since_ts = _utc(since)
    since_ns = _ts_ns(since_ts)

    # Kline frames are indexed by open time (records.klines), a DatetimeIndex the frame's type does not carry.
    times = [_ns(cast(pd.DatetimeIndex, frames[coin].index)) for coin in coins]
    union = _union(times)

    # Arrays are built coin-major (N x T, each coin a contiguous row) and used transposed as T x N views. At
    # market scale (~200 pairs x 700 days) each float array is ~1 MB and the console's memory peaks here, so the
    # quote and taker-buy volumes never become T x N arrays: each coin's row is summed as it is laid out.
    n_t, n_c = union.size, len(coins)
    s0 = int(np.searchsorted(union, since_ns, side="left"))
    known_delta_full = np.zeros((n_c, n_t))  # 2 * buy - quote; 0 where absent or unknown
    unknown_full = np.zeros((n_c, n_t), dtype=bool)  # present with an unknown taker split
    present = np.zeros((n_c, n_t), dtype=bool)
    provisional = np.zeros((n_c, n_t), dtype=bool)
    coin_buy = np.zeros(n_c)  # taker-buy and whole quote volume of the bars since `since`
    coin_quote = np.zeros(n_c)
    scratch = np.empty(n_t)  # one coin's volumes on the union, 0 where absent
    for j, coin in enumerate(coins):
        frame = frames[coin]
        if not times[j].size:
            continue
        rows = slice(None) if times[j].size == n_t else np.searchsorted(union, times[j])
        quote = _column(frame, "quote_volume")
        buy = _column(frame, "taker_buy_quote")
        delta = 2.0 * buy - quote
        unknown = np.isnan(delta)
        unknown_full[j, rows] = unknown
        known_delta_full[j, rows] = np.where(unknown, 0.0, delta)
        present[j, rows] = True
        if "provisional" in frame.columns:
            provisional[j, rows] = _column(frame, "provisional")
        for volume, total in ((buy, coin_buy), (quote, coin_quote)):
            scratch.fill(0.0)
            scratch[rows] = volume
            total[j] = scratch[s0:].sum()
    known_delta_full, unknown_full, present, provisional = known_delta_full.T, unknown_full.T, present.T, provisional.T
    coin_sell = coin_quote - coin_buy

    win_present = present[s0:]
    win_unknown = unknown_full[s0:]
    win_delta = known_delta_full[s0:]

    # Per-coin CVD: carry over gaps, NaN before the first bar and from the first unknown bar on.
    per_coin_values = np.cumsum(win_delta, axis=0)
    per_coin_values[np.logical_or.accumulate(win_unknown, axis=0)] = np.nan
    per_coin_values[~np.logical_or.accumulate(win_present, axis=0)] = np.nan

    reasons: dict[str, str] = {}
    has_unknown = np.asarray(win_unknown.any(axis=0))
    latest_present = present[-1] if n_t else np.zeros(n_c, dtype=bool)
    as_of = pd.Timestamp(int(union[-1]), unit="ns", tz="UTC") if n_t else None
    for j, coin in enumerate(coins):
        if not times[j].size:
            reasons[coin] = "no data"
        elif has_unknown[j]:
            first_bad = int(np.argmax(win_unknown[:, j])) + s0
            when = pd.Timestamp(int(union[first_bad]), unit="ns", tz="UTC")
            reasons[coin] = f"taker split unknown from {when:%Y-%m-%d %H:%M}"
        elif not latest_present[j]:
            last = pd.Timestamp(int(times[j][-1]), unit="ns", tz="UTC")
            reasons[coin] = f"stale: last bar {last:%Y-%m-%d %H:%M}, basket at {as_of:%Y-%m-%d %H:%M}"
    known = np.array([coin not in reasons for coin in coins], dtype=bool)

    index = _utc_index(union[s0:])
    # With no coin of known taker split the basket is unknown, not flat at zero.
    # Unknown coins' deltas zeroed in place rather than the known coins' columns copied out (their window sums
    # below are NaN whatever they hold).
    win_delta[:, ~known] = 0.0
    basket_delta_values = win_delta.sum(axis=1) if known.any() else np.full(n_t - s0, np.nan)
    basket_delta = pd.Series(basket_delta_values, index=index, name="basket_delta")
    cumulative = pd.Series(np.cumsum(basket_delta_values), index=index, name="basket_cvd")

    with np.errstate(divide="ignore", invalid="ignore"):
        coin_ratio = np.where(
            (coin_sell > 0) & ~has_unknown & win_present.any(axis=0), coin_buy / coin_sell, np.nan
        )
    basket_sell = float(coin_sell[known].sum())
    basket_ratio = (
        float(coin_buy[known].sum()) / basket_sell if known.any() and basket_sell > 0 else float("nan")
    )

    cumulative_usd = per_coin_values[-1] if per_coin_values.shape[0] else np.full(n_c, np.nan)
    cumulative_usd = np.where(known, cumulative_usd, np.nan)
    gross = float(np.abs(cumulative_usd[known]).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        share = cumulative_usd / gross if gross > 0 else np.full(n_c, np.nan)

    interval_ns = _interval_ns(frames, union)
    columns: dict[str, object] = {
        "coin": coins,
        "cumulative_usd": cumulative_usd,
        "buy_sell_ratio": np.where(known, coin_ratio, np.nan),
    }
    for key, span in windows.items():
        window_delta = _window_delta(union, known_delta_full, unknown_full, span, interval_ns)
        columns[f"delta_{key}_usd"] = np.where(known, window_delta, np.nan)
    columns["share_of_basket"] = share
    columns["provisional"] = (provisional[s0:] & win_present).any(axis=0)
    columns["unknown"] = ~known
    summary = pd.DataFrame(columns)

    return BasketCVD(
        since=since_ts,
        per_coin=pd.DataFrame(per_coin_values, index=index, columns=pd.Index(coins, name="coin"), copy=False),
        basket_delta=basket_delta,
        cumulative=cumulative,
        summary=summary,
        buy_sell_ratio=basket_ratio,
        unknown_coins=[c for c in coins if c in reasons],
        unknown_reasons=reasons,
        includes_provisional=bool((provisional[s0:][:, known] & win_present[:, known]).any()),
        interval=pd.Timedelta(interval_ns, unit="ns") if interval_ns is not None else None,
        as_of=as_of,
    )


def _window_delta(
    union: np.ndarray, delta: np.ndarray, unknown: np.ndarray, span: pd.Timedelta, interval_ns: int | None
) -> np.ndarray:
    """Per-coin sum of deltas over bars with ``open_time > last - span``; NaN for unknown bars or short
    history.
    """
    n_c = delta.shape[1]
    if union.size == 0:
        return np.full(n_c, np.nan)
    start = int(union[-1]) - int(pd.Timedelta(span).value)
    if int(union[0]) - (interval_ns or 0) > start:
        return np.full(n_c, np.nan)
    r0 = int(np.searchsorted(union, start, side="right"))
    sums = delta[r0:].sum(axis=0)
    return np.where(unknown[r0:].any(axis=0), np.nan, sums)
