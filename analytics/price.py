"""Bitcoin price figures for the BTC pane and the drivers: price, 24 h and 1 h change, all-time high,
drawdown.

Inputs: the Binance 24 h ticker (last price and its 24 h percent change), a long history frame with a ``high``
column (monthly or daily klines from :func:`sources.binance_spot.parse_klines`) and an intraday kline frame
with ``close`` (and ``high``) for the chart and the 1-hour change. All percentages are in percent (``-2.5`` =
-2.5 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BtcFigures", "btc_figures", "downsample", "observed_closes", "pct_change_over"]

DEFAULT_CHART_POINTS = 240


@dataclass(frozen=True)
class BtcFigures:
    """What the BTC pane shows; ``ath``/``drawdown_pct`` are NaN without any history (unknown, not 0)."""

    price: float
    change_24h_pct: float
    ath: float
    # Open time of the bar that set the ATH; None when the current price is the ATH.
    ath_time: pd.Timestamp | None
    drawdown_pct: float
    change_1h_pct: float
    intraday_series: pd.Series
    as_of: pd.Timestamp | None  # open time of the latest intraday bar


def pct_change_over(series: pd.Series, window: pd.Timedelta) -> float:
    """Percent change over a trailing time window: "how much has it moved in the last hour / 30 days?".

    Formula: ``(last / ref - 1) * 100`` where ``last`` is the latest value and ``ref`` is the value at, or
    just before, ``last_time - window`` (an as-of lookup on a time index). NaN values are ignored. Returns NaN
    when the series is empty, when its history does not reach back to ``last_time - window`` (shorter than the
    window), or when ``ref`` is zero. Granularity is that of the series: with 1-minute bars indexed by open
    time, a 1 h window compares the latest close with the close of the bar opened 60 minutes earlier.
    """
    clean = series.dropna()
    if clean.empty:
        return float("nan")
    index = clean.index
    if isinstance(index, pd.DatetimeIndex):
        step = _ticks(pd.Timedelta(window), index.unit)
        return pct_change_sorted(index.asi8, clean.to_numpy(dtype=float), step)
    start = index[-1] - pd.Timedelta(window)
    pos = int(index.searchsorted(start, side="right")) - 1  # last position with time <= start
    if pos < 0:
        return float("nan")
    values = clean.to_numpy(dtype=float)
    ref = values[pos]
    if ref == 0.0:
        return float("nan")
    return float((values[-1] / ref - 1.0) * 100.0)


def _ticks(span: pd.Timedelta, unit: str) -> int:
    """``span`` as an integer count of ``unit`` (``"ms"``, ``"us"``, ``"ns"``): a datetime index's ``asi8`` unit."""
    return int(np.timedelta64(span.value, "ns").astype(f"timedelta64[{unit}]").astype(np.int64))


def pct_change_sorted(times: np.ndarray, values: np.ndarray, window: int) -> float:
    """:func:`pct_change_over` on plain arrays: ``times`` ascending integers (e.g. epoch ms), ``window`` in the
    same unit; NaN values are ignored. For callers that have arrays and ask every second (the cascade's BTC leg)."""
    known = ~np.isnan(values)
    times, values = times[known], values[known]
    if not len(values):
        return float("nan")
    pos = int(np.searchsorted(times, times[-1] - window, side="right")) - 1  # last position with time <= start
    if pos < 0 or values[pos] == 0.0:
        return float("nan")
    return float((values[-1] / values[pos] - 1.0) * 100.0)


def observed_closes(frame: pd.DataFrame, now_ms: int | None = None) -> pd.Series:
    """Each bar's close at the instant it was observed: a finished bar's close at its close time, the running
    bar's close (the latest price) at ``now``.

    Why not the open time: with 15-minute bars, the bar opened 60 minutes before the running one closed only 45
    minutes ago, so a "1 h change" over open times compares prices 45 minutes apart. On observation times,
    :func:`pct_change_over` compares prices a window apart (to the bar's resolution). Frames without a
    ``close_time`` column are taken as already indexed by observation time.
    """
    if "close" not in frame.columns or not len(frame):
        return pd.Series(dtype=float, name="close")
    closes = frame["close"].astype(float)
    if "close_time" not in frame.columns:
        return closes.rename("close")
    close_time = pd.DatetimeIndex(frame["close_time"])
    unit = close_time.unit
    # On the index's integers (the BTC figures, the cascade and the 1 h driver each ask every second).
    per_ms = _ticks(pd.Timedelta(milliseconds=1), unit)
    observed = close_time.asi8 + per_ms
    if now_ms is not None:
        observed = np.minimum(observed, now_ms * per_ms)  # the running bar is seen now, not at its future close
    index = pd.DatetimeIndex(observed.view(f"datetime64[{unit}]"), name="observed")
    index = index.tz_localize("UTC").tz_convert(close_time.tz) if close_time.tz is not None else index
    return pd.Series(closes.to_numpy(), index=index, name="close")


def downsample(series: pd.Series, max_points: int) -> pd.Series:
    """Thin a series for a terminal chart to at most ``max_points`` points, keeping the first and last
    exactly.

    Formula: keep positions ``round(linspace(0, n - 1, max_points))`` (unique, sorted), which always include
    ``0`` and ``n - 1``, so the chart starts and ends at the true first and latest values (the latest is the
    current price). Series with ``n <= max_points`` are returned unchanged. ``max_points == 1`` keeps only the
    last point. ``max_points < 1`` is a ``ValueError``.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points}")
    n = len(series)
    if n <= max_points:
        return series
    if max_points == 1:
        return series.iloc[[-1]]
    positions = np.unique(np.rint(np.linspace(0, n - 1, max_points)).astype(np.int64))
    return series.iloc[positions]


def btc_figures(
    ticker_last: float,
    ticker_change_pct: float,
    monthly_or_daily_closes_highs: pd.DataFrame,
    intraday: pd.DataFrame,
    *,
    max_points: int = DEFAULT_CHART_POINTS,
    now_ms: int | None = None,
) -> BtcFigures:
    """Bitcoin's headline figures: where price is, how it moved, and how far below its all-time high it
    trades.

    Formulas:

    * ``price = ticker_last``; ``change_24h_pct = ticker_change_pct`` (Binance's rolling 24 h change,
      percent);
    * ``ath = max(max(high over all history given), price)`` — the ``high`` column of the long history and,
      when it has one, of the intraday frame (a spike today is history too); NaN when neither frame has any
      high;
    * ``drawdown_pct = (price / ath - 1) * 100`` (``<= 0``; 0 at a new high) — how deep the market is below
      its peak, the usual "bull market intact?" gauge;
    * ``change_1h_pct = pct_change_over(observed_closes(intraday, now), 1 h)``: prices one hour apart (the
      same function the liquidation-cascade driver reads);
    * ``intraday_series = downsample(intraday.close, max_points)`` for the chart.
    """
    price = float(ticker_last)
    highs = [frame["high"] for frame in (monthly_or_daily_closes_highs, intraday)
             if "high" in frame.columns and len(frame)]  # fmt: skip
    ath = float("nan")
    ath_time: pd.Timestamp | None = None
    if highs:
        combined = pd.concat(highs).dropna()
        if not combined.empty:
            ath = float(combined.max())
            ath_time = pd.Timestamp(combined.idxmax())
            if price > ath:
                ath, ath_time = price, None
    drawdown = (price / ath - 1.0) * 100.0 if math.isfinite(ath) and ath > 0 else float("nan")
    closes = intraday["close"].astype(float) if "close" in intraday.columns else pd.Series(dtype=float)
    observed = observed_closes(intraday, now_ms)
    return BtcFigures(
        price=price,
        change_24h_pct=float(ticker_change_pct),
        ath=ath,
        ath_time=ath_time,
        drawdown_pct=min(drawdown, 0.0) if math.isfinite(drawdown) else drawdown,
        change_1h_pct=pct_change_over(observed, pd.Timedelta(hours=1)),
        intraday_series=downsample(closes.rename("close"), max_points),
        as_of=pd.Timestamp(closes.index[-1]) if len(closes) else None,
    )
