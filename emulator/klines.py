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


def _merge_spans(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of half-open spans ``[start, end)`` as sorted, disjoint spans."""
    if not len(starts):
        return starts.astype(np.int64), ends.astype(np.int64)
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.r_[True, s[1:] > reach[:-1]]
    heads = np.flatnonzero(new)
    tails = np.r_[heads[1:], len(s)] - 1
    return s[heads], reach[tails]


def _covered_before(x: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Total length of the disjoint sorted spans that lies before each instant of ``x``."""
    if not len(starts):
        return np.zeros(len(x), dtype=np.int64)
    lengths = ends - starts
    cum = np.r_[0, np.cumsum(lengths)]
    i = np.searchsorted(starts, x, side="right") - 1
    safe = np.clip(i, 0, None)
    inside = np.clip(x - starts[safe], 0, lengths[safe])
    return np.where(i >= 0, cum[safe] + inside, 0)


_VOLUMES = ("volume", "quote_volume", "taker_buy_volume", "taker_buy_quote_volume")


def _remainder(row: pd.Series, fine: pd.DataFrame, uncovered_at: int) -> dict:
    """What a coarse bar says about the part of its span that no finer row covers (a seam between files).

    Volumes are the coarse bar's minus the finer rows inside it (never below zero); the price path is bounded by
    what is known: the seam side's open/close come from the coarse bar and the adjacent fine row, and the coarse
    high (low) belongs to the remainder only when no fine row reached it.
    """
    t = int(row["open_time"])
    before = uncovered_at == t  # the uncovered part comes first: the finer data starts inside this bar
    first, last = fine.iloc[0], fine.iloc[-1]
    out = {c: row[c] for c in row.index}
    out["open_time"] = uncovered_at
    if before:
        out["open"], out["close"] = float(row["open"]), float(first["open"])
    else:
        out["open"], out["close"] = float(last["close"]), float(row["close"])
    edge_hi, edge_lo = max(out["open"], out["close"]), min(out["open"], out["close"])
    out["high"] = float(row["high"]) if float(row["high"]) > float(fine["high"].max()) else edge_hi
    out["low"] = float(row["low"]) if float(row["low"]) < float(fine["low"].min()) else edge_lo
    out["high"], out["low"] = max(out["high"], edge_hi), min(out["low"], edge_lo)
    for col in _VOLUMES:
        total = float(row[col])
        part = fine[col].to_numpy(np.float64)
        # An unknown (NaN) finer value makes the remainder unknown too; a known total never goes negative.
        out[col] = max(0.0, total - float(part.sum())) if not np.isnan(part).any() else np.nan
    out["count"] = max(0, int(row["count"]) - int(fine["count"].sum()))
    return out


def stitch(usable: list[tuple[int, pd.DataFrame]], lo_ms: int, hi_ms: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Stored rows opening in ``[lo_ms, hi_ms]``, each instant from the finest resolution that covers it.

    A dataset may hold hourly bars for all history and minute bars for the last days; a window reaching across
    both takes the coarse rows only where no finer row exists. Coverage is that of the finer *files* (their rows
    after ``hi_ms`` included), so the coarse bar around the virtual now is never used where minute bars exist. A
    coarse bar that a finer file covers only in part (a file starting or ending inside it) is not dropped: its
    remainder (:func:`_remainder`) fills the uncovered part, so no interval is left empty and no volume is
    counted twice. Returns the rows (sorted by open time) and each row's length in ms.
    """
    pieces: list[pd.DataFrame] = []
    lengths: list[np.ndarray] = []
    finer: list[pd.DataFrame] = []  # the rows each finer resolution contributes near the window
    cov_s = np.empty(0, dtype=np.int64)
    cov_e = np.empty(0, dtype=np.int64)
    margin = max((base for base, _ in usable), default=0)
    for base, frame in usable:
        times = frame["open_time"].to_numpy(np.int64)
        # Rows around the window (future ones included): they cover the coarser resolutions after this one.
        c = int(np.searchsorted(times, lo_ms - margin, side="left"))
        d = int(np.searchsorted(times, hi_ms + margin, side="right"))
        near, near_t = frame.iloc[c:d], times[c:d]
        row_len = np.full(len(near), base, dtype=np.int64)
        if len(cov_s) and len(near):
            overlap = _covered_before(near_t + base, cov_s, cov_e) - _covered_before(near_t, cov_s, cov_e)
            whole = overlap == 0
            extra, extra_len = [], []
            for i in np.flatnonzero((overlap > 0) & (overlap < base)):
                t = int(near_t[i])
                inside = [f[(f["open_time"].to_numpy(np.int64) >= t) & (f["open_time"].to_numpy(np.int64) < t + base)]
                          for f in finer]  # fmt: skip
                fine_rows = pd.concat(inside).sort_values("open_time", kind="stable")
                if fine_rows.empty:
                    continue
                # The first instant of the bar that no finer span covers.
                j = int(np.searchsorted(cov_s, t, side="right")) - 1
                uncovered = int(cov_e[j]) if j >= 0 and cov_e[j] > t else t
                extra.append(_remainder(near.iloc[i], fine_rows, uncovered))
                extra_len.append(int(base - overlap[i]))
            keep, keep_len = near[whole], row_len[whole]
            if extra:
                rem = pd.DataFrame(extra, columns=near.columns).astype(near.dtypes.to_dict())
                keep = pd.concat([keep, rem], ignore_index=True)
                keep_len = np.r_[keep_len, np.array(extra_len, dtype=np.int64)]
            cov_s, cov_e = _merge_spans(np.r_[cov_s, near_t], np.r_[cov_e, near_t + base])
            near, row_len = keep, keep_len
        elif len(near):
            cov_s, cov_e = _merge_spans(np.r_[cov_s, near_t], np.r_[cov_e, near_t + base])
        if not len(near):
            continue
        finer.append(near)
        opens = near["open_time"].to_numpy(np.int64)
        in_window = (opens >= lo_ms) & (opens <= hi_ms)
        if in_window.any():
            pieces.append(near[in_window])
            lengths.append(row_len[in_window])
    if not pieces:
        empty = usable[0][1].iloc[:0] if usable else pd.DataFrame(columns=["open_time"])
        return empty, np.zeros(0, dtype=np.int64)
    if len(pieces) == 1:
        return pieces[0].reset_index(drop=True), lengths[0]
    rows = pd.concat(pieces, ignore_index=True)
    order = np.argsort(rows["open_time"].to_numpy(np.int64), kind="stable")
    return rows.iloc[order].reset_index(drop=True), np.concatenate(lengths)[order]


def cut_at(frame: pd.DataFrame, base_ms: int, now_ms: int, *, interpolate: bool = False) -> pd.DataFrame:
    """Rows opened by ``now_ms``, the row still open (``base_ms`` long) cut to what was known at ``now_ms``.

    Real history (replay) knows nothing of an open bar but its open: the bar is shown flat at its open price
    with no volume yet (an unknown taker split stays unknown), so no figure can lean on a price from after
    ``now_ms``. A simulated market (``interpolate``, the demo) has no future to leak: its open bar's close moves
    from the open towards the final close in proportion to elapsed time (the simulated intra-bar path), its range
    and volumes grow the same way.
    """
    visible = frame[frame["open_time"].to_numpy() <= now_ms]
    if visible.empty:
        return visible
    last_open = int(visible["open_time"].iloc[-1])
    if last_open + base_ms <= now_ms:
        return visible
    frac = _elapsed(now_ms, last_open, base_ms, interpolate)
    o, h, lo, c = (float(visible[k].iloc[-1]) for k in ("open", "high", "low", "close"))
    values = _running_bar(o, h, lo, c, int(visible["count"].iloc[-1]),
                          {col: float(visible[col].iloc[-1]) for col in _VOLUMES}, frac)  # fmt: skip
    out = visible.copy()
    row = len(out) - 1
    for col, value in values.items():
        # Whole columns replaced (each keeps its dtype): pandas' scalar iloc assignment costs ~1 ms a cell, and
        # every kline answer cuts one bar.
        column = out[col].to_numpy(copy=True)
        column[row] = value
        out[col] = column
    return out


def _elapsed(now_ms: int, open_ms: int, base_ms: int, interpolate: bool) -> float:
    """How much of the bar opened at ``open_ms`` has run by ``now_ms`` (0..1); 0 for real history (see cut_at)."""
    return max(0.0, min(1.0, (now_ms - open_ms) / base_ms)) if interpolate else 0.0


def _running_bar(o: float, h: float, lo: float, c: float, count: int, volumes: dict[str, float],
                 frac: float) -> dict[str, float | int]:  # fmt: skip
    """The running bar's close, range, trade count and ``volumes`` when ``frac`` of it has run (see cut_at): the
    close moves from the open towards the final close, the range and the volumes grow in proportion."""
    close = o + frac * (c - o)
    values: dict[str, float | int] = {
        "close": close,
        "high": max(o, close) + frac * (h - max(o, c)),
        "low": min(o, close) - frac * (min(o, c) - lo),
        "count": int(count * frac),
    }
    for col, volume in volumes.items():
        values[col] = volume * frac
    return values


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
    *,
    interpolate: bool = False,
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
        # Binance answers the first ``limit`` bars opening at or after startTime, wherever the data begins (a coin
        # listed later, a finer resolution kept only for recent days): the span starts at the first bar there is.
        first = min(int(f["open_time"].iloc[0]) for _, f in usable)
        lo = max(start_ms, int(bucket_of(np.array([first], dtype=np.int64), interval_ms)[0]))
        # Rows past the first ``limit`` whole bars after that are never returned; skip rolling them up.
        hi = min(hi, lo + (limit + 1) * step)
    else:
        lo = int(bucket_of(np.array([last_bucket - limit * step], dtype=np.int64), interval_ms)[0])
    rows, lengths = stitch(usable, lo, hi)
    if rows.empty:
        return rows
    rows = cut_at(rows, int(lengths[-1]), now_ms, interpolate=interpolate)
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


def reaches_before(frames: dict[int, pd.DataFrame], interval_ms: int, now_ms: int, start_ms: int | None,
                   end_ms: int | None, limit: int) -> bool:  # fmt: skip
    """Whether :func:`window` may want bars opening before the first stored one: then a dataset that keeps only a
    symbol's recent bars answers from its whole history (:meth:`emulator.dataset.MarketDataset.history`).

    Conservative: the span :func:`window` reads starts at ``startTime``, else at most ``limit`` + 2 bars (the bucket
    of the last bar and the bucket the span starts in, each floored) before ``min(now, endTime)``."""
    first = min((int(f["open_time"].iloc[0]) for f in frames.values() if len(f)), default=None)
    if first is None:
        return True
    if start_ms is not None:
        return start_ms < first
    step = interval_ms if interval_ms > 0 else 31 * DAY  # an upper bound of one bar's length
    upper = now_ms if end_ms is None else min(now_ms, end_ms)
    return upper - (limit + 2) * step < first


def rolling_24h(
    frames: dict[int, pd.DataFrame] | None, now_ms: int, *, interpolate: bool, cache: dict | None = None
) -> dict[str, float] | None:
    """Rolling 24-hour statistics of one market's bars at ``now_ms``, with no look-ahead (see :func:`cut_at`).

    Returns ``open`` (price 24 h ago), ``high``, ``low``, ``last`` (the latest known price), ``volume`` (base),
    ``quote_volume``, ``count``, ``prev_close`` and ``info_ms``: the instant the latest price is from (``now``
    for a simulated market; a bar's open or close time in real history, which is what makes a coarse replay's
    price honestly old). None when no bar covers the last day.
    """
    usable = usable_frames(frames or {}, None)
    if not usable:
        return None
    fast = _rolling_24h_fine(usable, now_ms, interpolate=interpolate, cache=cache)
    if fast is not None:
        return fast
    # Finest data wherever it exists, so the last price and the day's range are those of trading up to now.
    rows, lengths = stitch(usable, now_ms - DAY - 2 * usable[-1][0], now_ms)
    if rows.empty:
        return None
    in_window = rows["open_time"].to_numpy(np.int64) + lengths > now_ms - DAY
    if not in_window.any():
        return None
    first = int(np.argmax(in_window))
    win = cut_at(rows.iloc[first:], int(lengths[-1]), now_ms, interpolate=interpolate)
    if win.empty:
        return None
    last_open = int(win["open_time"].iloc[-1])
    last_len = int(lengths[first + len(win) - 1])
    if interpolate or last_open + last_len <= now_ms:
        info = now_ms if interpolate else last_open + last_len - 1
    else:
        info = last_open  # only the open of the running bar is known
    return {
        "open": float(win["open"].iloc[0]),
        "high": float(win["high"].max()),
        "low": float(win["low"].min()),
        "last": float(win["close"].iloc[-1]),
        "volume": float(win["volume"].sum()),
        "quote_volume": float(win["quote_volume"].sum()),
        "count": int(win["count"].sum()),
        "prev_close": float(rows["close"].iloc[first - 1]) if first > 0 else float(win["open"].iloc[0]),
        "info_ms": float(min(info, now_ms)),
    }


def _rolling_24h_fine(
    usable: list[tuple[int, pd.DataFrame]], now_ms: int, *, interpolate: bool, cache: dict | None = None
) -> dict | None:
    """:func:`rolling_24h` on plain arrays when the finest resolution alone covers the day without a gap (the
    demo's minute bars, a replay's where present): then stitching takes exactly those rows, and the answer is a
    few slices instead of frame copies (the demo polls BTC's ticker every 2 s). None when the finest bars do not
    cover it: the caller stitches."""
    base, frame = usable[0]

    def a(name: str) -> np.ndarray:
        return _column(frame, name, cache)

    opens = a("open_time")
    first = int(np.searchsorted(opens, now_ms - DAY - base, side="right"))  # first bar ending after now - 24 h
    end = int(np.searchsorted(opens, now_ms, side="right"))  # bars opened by now
    # Stitching keeps a coarser bar only where the finest bars do not cover it: with every finest bar present from
    # the one before the day to the end of the last coarser bar opened by now, none of them shows in the answer.
    need = now_ms
    for coarse_base, coarse in usable[1:]:
        coarse_opens = _column(coarse, "open_time", cache)
        k = int(np.searchsorted(coarse_opens, now_ms, side="right")) - 1
        if k >= 0:
            need = max(need, int(coarse_opens[k]) + coarse_base)
    past = max(end, int(np.searchsorted(opens, need - base, side="left")))
    if first == 0 or first >= end or past >= len(opens) or np.any(np.diff(opens[first - 1 : past + 1]) != base):
        return None
    last = end - 1
    last_open = int(opens[last])
    o, h, low, close = (float(a(k)[last]) for k in ("open", "high", "low", "close"))
    volume, quote, count = float(a("volume")[last]), float(a("quote_volume")[last]), int(a("count")[last])
    if last_open + base > now_ms:  # the running bar, cut at now as :func:`cut_at` does
        cut = _running_bar(o, h, low, close, count, {"volume": volume, "quote_volume": quote},
                           _elapsed(now_ms, last_open, base, interpolate))  # fmt: skip
        h, low, close, volume, quote = (float(cut[k]) for k in ("high", "low", "close", "volume", "quote_volume"))
        count = int(cut["count"])
        info = now_ms if interpolate else last_open
    else:
        info = now_ms if interpolate else last_open + base - 1
    body = slice(first, last)
    return {
        "open": float(a("open")[first]),
        "high": max(float(a("high")[body].max()), h) if first < last else h,
        "low": min(float(a("low")[body].min()), low) if first < last else low,
        "last": close,
        "volume": float(a("volume")[body].sum()) + volume,
        "quote_volume": float(a("quote_volume")[body].sum()) + quote,
        "count": int(a("count")[body].sum()) + count,
        "prev_close": float(a("close")[first - 1]),
        "info_ms": float(min(info, now_ms)),
    }


def _column(frame: pd.DataFrame, name: str, cache: dict | None) -> np.ndarray:
    """One column of a stored frame as an array, memoised on the frame's identity in ``cache`` (stored frames are
    never mutated): the ticker and the latest price read the same few columns of the same frames on every call."""
    key = ("klines-arrays", id(frame))
    hit = cache.get(key) if cache is not None else None
    if hit is None or hit[0] is not frame:
        hit = (frame, {})
        if cache is not None:
            cache[key] = hit
    arrays: dict[str, np.ndarray] = hit[1]
    array = arrays.get(name)
    if array is None:
        array = arrays[name] = frame[name].to_numpy(np.int64 if name in ("open_time", "count") else np.float64)
    return array


def _columns(frame: pd.DataFrame, cache: dict | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(open_time, open, close) arrays of a stored frame, memoised on its identity in ``cache``."""
    return _column(frame, "open_time", cache), _column(frame, "open", cache), _column(frame, "close", cache)


def latest_price(
    frames: dict[int, pd.DataFrame] | None, now_ms: int, *, interpolate: bool, cache: dict | None = None
) -> tuple[float, int] | None:
    """(price, the instant it is from) of one market at ``now_ms``, never from after it.

    Each stored resolution offers the close of its last finished bar (at that bar's close) or the open of its
    running bar (at its open); the most recent wins, the finer on a tie. A simulated market interpolates inside
    the running bar (:func:`cut_at`). None when no bar opened by ``now_ms``.
    """
    best: tuple[int, int, float] | None = None  # (info time, -base, price)
    for base, frame in (frames or {}).items():
        if not len(frame):
            continue
        times, opens, closes = _columns(frame, cache)
        i = int(np.searchsorted(times, now_ms, side="right")) - 1
        if i < 0:
            continue
        t = int(times[i])
        if t + base <= now_ms:
            candidate = (t + base - 1, -base, float(closes[i]))
        elif interpolate:
            frac = (now_ms - t) / base
            candidate = (now_ms, -base, float(opens[i] + frac * (closes[i] - opens[i])))
        else:
            candidate = (t, -base, float(opens[i]))
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else (best[2], best[0])
