"""Kline aggregation for the emulator: cut stored bars at the virtual time and roll them up to any interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = -1  # calendar month: handled by date grouping

#: Binance's interval names (case-sensitive) -> milliseconds.
BINANCE_INTERVALS: dict[str, int] = {
    "1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "30m": 30 * MINUTE,
    "1h": HOUR, "2h": 2 * HOUR, "4h": 4 * HOUR, "6h": 6 * HOUR, "8h": 8 * HOUR, "12h": 12 * HOUR,
    "1d": DAY, "3d": 3 * DAY, "1w": WEEK, "1M": MONTH,
}  # fmt: skip
_MONDAY_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday; Binance weeks open on Monday 00:00 UTC.


def pick_frame(frames: dict[int, pd.DataFrame], interval_ms: int, start_ms: int) -> tuple[int, pd.DataFrame] | None:
    """The finest stored resolution that divides ``interval_ms`` and reaches back to ``start_ms``."""
    usable = sorted(
        (base, frame)
        for base, frame in frames.items()
        if (interval_ms == MONTH and DAY % base == 0) or (interval_ms > 0 and interval_ms % base == 0)
    )
    if not usable:
        return None
    for base, frame in usable:
        if len(frame) and int(frame["open_time"].iloc[0]) <= start_ms:
            return base, frame
    return usable[-1] if start_ms < int(usable[0][1]["open_time"].iloc[0]) else usable[0]


def cut_at(frame: pd.DataFrame, base_ms: int, now_ms: int) -> pd.DataFrame:
    """Rows opened by ``now_ms``; the row still open is scaled to the elapsed fraction (no future leaks)."""
    visible = frame[frame["open_time"].to_numpy() <= now_ms]
    if visible.empty:
        return visible
    last_open = int(visible["open_time"].iloc[-1])
    if last_open + base_ms <= now_ms:
        return visible
    frac = max(0.0, min(1.0, (now_ms - last_open) / base_ms))
    last = visible.iloc[-1].copy()
    close = last["open"] + frac * (last["close"] - last["open"])
    last["close"] = close
    last["high"] = max(last["open"], close, min(last["high"], max(last["open"], close) * 1.0005))
    last["low"] = min(last["open"], close, max(last["low"], min(last["open"], close) * 0.9995))
    for col in ("volume", "quote_volume", "taker_buy_volume", "taker_buy_quote_volume"):
        last[col] = last[col] * frac
    last["count"] = int(last["count"] * frac)
    out = visible.copy()
    out.iloc[-1] = last
    return out


def bucket_of(open_time: np.ndarray, interval_ms: int) -> np.ndarray:
    """Bucket start (ms) of each open time: fixed-size intervals, Monday weeks, or calendar months."""
    if interval_ms == MONTH:
        months = open_time.astype("datetime64[ms]").astype("datetime64[M]")
        return months.astype("datetime64[ms]").astype(np.int64)
    if interval_ms == WEEK:
        return (open_time - _MONDAY_OFFSET) // WEEK * WEEK + _MONDAY_OFFSET
    return open_time // interval_ms * interval_ms


def _nan_aware_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per-bucket sum where an all-NaN bucket stays NaN ("unknown" never sums to a fake zero)."""
    known = ~np.isnan(values)
    sums = np.add.reduceat(np.where(known, values, 0.0), starts)
    counts = np.add.reduceat(known.astype(np.int64), starts)
    return np.where(counts > 0, sums, np.nan)


def aggregate(frame: pd.DataFrame, interval_ms: int, base_ms: int) -> pd.DataFrame:
    """Roll bars up to ``interval_ms``: first open, max high, min low, last close, summed volumes."""
    if frame.empty or interval_ms == base_ms:
        return frame.reset_index(drop=True)
    buckets = bucket_of(frame["open_time"].to_numpy(np.int64), interval_ms)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], len(buckets)] - 1
    col = {name: frame[name].to_numpy(np.float64) for name in
           ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume", "taker_buy_quote_volume")}
    return pd.DataFrame({
        "open_time": buckets[starts],
        "open": col["open"][starts],
        "high": np.maximum.reduceat(col["high"], starts),
        "low": np.minimum.reduceat(col["low"], starts),
        "close": col["close"][ends],
        "volume": np.add.reduceat(col["volume"], starts),
        "quote_volume": np.add.reduceat(col["quote_volume"], starts),
        "count": np.add.reduceat(frame["count"].to_numpy(np.int64), starts),
        "taker_buy_volume": _nan_aware_sum(col["taker_buy_volume"], starts),
        "taker_buy_quote_volume": _nan_aware_sum(col["taker_buy_quote_volume"], starts),
    })  # fmt: skip


def close_time(open_time: np.ndarray, interval_ms: int) -> np.ndarray:
    if interval_ms == MONTH:
        starts = pd.to_datetime(open_time, unit="ms", utc=True)
        ends = starts + pd.offsets.MonthBegin(1)
        return ends.as_unit("ms").asi8 - 1
    return open_time + interval_ms - 1


def window(
    frames: dict[int, pd.DataFrame],
    interval_ms: int,
    now_ms: int,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
) -> pd.DataFrame:
    """Bars of ``interval_ms`` as Binance's klines endpoint would return them at ``now_ms``."""
    span = (interval_ms if interval_ms > 0 else 31 * DAY) * limit
    wanted_from = start_ms if start_ms is not None else (end_ms if end_ms is not None else now_ms) - span
    picked = pick_frame(frames, interval_ms, max(0, wanted_from))
    if picked is None:
        return pd.DataFrame(columns=["open_time"])
    base, frame = picked
    upper = now_ms if end_ms is None else min(now_ms, end_ms)
    lower_bucket = wanted_from
    if start_ms is None:
        lower_bucket = wanted_from - (interval_ms if interval_ms > 0 else 31 * DAY)
    times = frame["open_time"].to_numpy(np.int64)
    lo = np.searchsorted(times, lower_bucket - (interval_ms if interval_ms > 0 else 31 * DAY), side="left")
    hi = np.searchsorted(times, upper, side="right")
    sliced = cut_at(frame.iloc[lo:hi], base, now_ms)
    bars = aggregate(sliced, interval_ms, base)
    if bars.empty:
        return bars
    opens = bars["open_time"].to_numpy(np.int64)
    keep = opens <= upper
    if start_ms is not None:
        keep &= opens >= start_ms
    bars = bars[keep]
    if start_ms is not None:
        return bars.head(limit).reset_index(drop=True)
    return bars.tail(limit).reset_index(drop=True)
