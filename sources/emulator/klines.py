"""Kline aggregation for the emulator: cut stored bars at the virtual time, roll them up to any interval."""

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


def usable_frames(frames: dict[int, pd.DataFrame], interval_ms: int | None) -> list[tuple[int, pd.DataFrame]]:
    """Non-empty stored resolutions that divide ``interval_ms`` (any, when None), finest first."""

    def divides(base: int) -> bool:
        if interval_ms is None:
            return True
        return (interval_ms == MONTH and DAY % base == 0) or (interval_ms > 0 and interval_ms % base == 0)

    return sorted(((b, f) for b, f in frames.items() if len(f) and divides(b)), key=lambda item: item[0])


def stitch(usable: list[tuple[int, pd.DataFrame]], lo_ms: int, hi_ms: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Stored rows opening in ``[lo_ms, hi_ms]``, each instant from the finest resolution that covers it.

    A dataset may hold hourly bars for all history and minute bars for the last days; a window reaching
    across both takes the hourly rows only before the minute rows start. The bar still open at the virtual
    time is then always a fine one, so it is cut from real minute data instead of being interpolated inside a
    coarse bar whose close lies in the future. Returns the rows (sorted by open time) and each row's bar
    length in ms.
    """
    pieces: list[pd.DataFrame] = []
    lengths: list[np.ndarray] = []
    covered: tuple[int, int] | None = None
    for base, frame in usable:
        times = frame["open_time"].to_numpy(np.int64)
        a = int(np.searchsorted(times, lo_ms, side="left"))
        b = int(np.searchsorted(times, hi_ms, side="right"))
        piece = frame.iloc[a:b]
        if covered is not None:
            part = times[a:b]
            piece = piece[(part + base <= covered[0]) | (part >= covered[1])]
            covered = (min(covered[0], int(times[0])), max(covered[1], int(times[-1]) + base))
        else:
            covered = (int(times[0]), int(times[-1]) + base)
        if len(piece):
            pieces.append(piece)
            lengths.append(np.full(len(piece), base, dtype=np.int64))
    if not pieces:
        empty = usable[0][1].iloc[:0] if usable else pd.DataFrame(columns=["open_time"])
        return empty, np.zeros(0, dtype=np.int64)
    if len(pieces) == 1:
        return pieces[0].reset_index(drop=True), lengths[0]
    rows = pd.concat(pieces, ignore_index=True)
    order = np.argsort(rows["open_time"].to_numpy(np.int64), kind="stable")
    return rows.iloc[order].reset_index(drop=True), np.concatenate(lengths)[order]


def cut_at(frame: pd.DataFrame, base_ms: int, now_ms: int) -> pd.DataFrame:
    """Rows opened by ``now_ms``; the row still open (``base_ms`` long) is scaled to the elapsed fraction.

    The open bar's close moves from its open towards its final close in proportion to elapsed time, and its
    range is only that much of its final wicks, so at its first instant it is a flat bar with no volume.
    """
    visible = frame[frame["open_time"].to_numpy() <= now_ms]
    if visible.empty:
        return visible
    last_open = int(visible["open_time"].iloc[-1])
    if last_open + base_ms <= now_ms:
        return visible
    frac = max(0.0, min(1.0, (now_ms - last_open) / base_ms))
    o, h, lo, c = (float(visible[k].iloc[-1]) for k in ("open", "high", "low", "close"))
    close = o + frac * (c - o)
    values: dict[str, float | int] = {
        "close": close,
        "high": max(o, close) + frac * (h - max(o, c)),
        "low": min(o, close) - frac * (min(o, c) - lo),
        "count": int(int(visible["count"].iloc[-1]) * frac),
    }
    for col in ("volume", "quote_volume", "taker_buy_volume", "taker_buy_quote_volume"):
        values[col] = float(visible[col].iloc[-1]) * frac
    out = visible.copy()
    row = len(out) - 1
    for col, value in values.items():
        out.iloc[row, out.columns.get_loc(col)] = value
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
    col = {
        name: frame[name].to_numpy(np.float64)
        for name in (
            "open",
            "high",
            "low",
            "close",
            "volume",
            "quote_volume",
            "taker_buy_volume",
            "taker_buy_quote_volume",
        )
    }
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
    """Bars of ``interval_ms`` as Binance's klines endpoint would return them at ``now_ms``.

    Bars are selected by open time: with ``startTime`` the first ``limit`` bars opening at or after it,
    otherwise the last ``limit`` bars opening at or before ``endTime`` (default: now). The bar that contains
    ``endTime`` is returned whole (as far as the virtual time allows), not truncated at ``endTime``.
    """
    usable = usable_frames(frames, interval_ms)
    if not usable:
        return pd.DataFrame(columns=["open_time"])
    step = interval_ms if interval_ms > 0 else 31 * DAY  # an upper bound of one bar's length
    upper = now_ms if end_ms is None else min(now_ms, end_ms)  # the last bar opens at or before this
    last_bucket = int(bucket_of(np.array([upper], dtype=np.int64), interval_ms)[0])
    hi = min(now_ms, int(close_time(np.array([last_bucket], dtype=np.int64), interval_ms)[0]))
    if start_ms is not None:
        lo = start_ms
        # Rows past the first ``limit`` whole bars after startTime are never returned; skip rolling them up.
        hi = min(hi, start_ms + (limit + 1) * step)
    else:
        lo = int(bucket_of(np.array([last_bucket - limit * step], dtype=np.int64), interval_ms)[0])
    rows, lengths = stitch(usable, lo, hi)
    if rows.empty:
        return rows
    rows = cut_at(rows, int(lengths[-1]), now_ms)
    bars = aggregate(rows, interval_ms, usable[0][0])
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
