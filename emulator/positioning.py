"""The long/short positioning statistics the Binance and Bybit routes serve: who is long, by account and by size.

Served from ``MarketDataset.long_short`` (see :class:`~emulator.dataset.MarketDataset`) at the virtual time: a
period's row carries the last sample at or before its time stamp, and no period after ``emu.now_ms()`` exists. The
venues' formats and errors live in their route modules (``routes_binance_futures``, ``routes_bybit``); this module
only answers "which periods, with which long share".

A symbol the venue lists (it settles funding there) but without statistics in the dataset (replayed history has no
such files) has no rows: the routes answer an empty list, as the venues do, and the console shows the figure as
unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator import perp_market as market
from emulator.core import Emulator


def series(emu: Emulator, exchange: str, kind: str) -> dict[str, market.Series]:
    """coin -> samples (``times`` ms, ``values`` long share) of ``kind`` on ``exchange`` (memoised per frame)."""
    frame = emu.dataset.long_short
    if frame is None:
        return {}
    views_key = ("long-short-views", id(frame))
    if views_key not in emu.cache:
        emu.cache[views_key] = _views(frame)
    views: dict[tuple[str, str], dict[str, market.Series]] | None = emu.cache[views_key]
    if views is not None:
        return views.get((exchange, kind), {})
    key = ("long-short", exchange, kind, id(frame))
    if key not in emu.cache:
        sub = frame[(frame["exchange"] == exchange) & (frame["kind"] == kind)]
        out: dict[str, market.Series] = {}
        for coin, group in sub.groupby("coin", sort=True, observed=True):
            times = group["time"].to_numpy(np.int64)
            order = np.argsort(times, kind="stable")
            out[str(coin)] = market.Series(times[order], group["long_share"].to_numpy(float)[order], np.empty(0))
        emu.cache[key] = out
    result: dict[str, market.Series] = emu.cache[key]
    return result


def _views(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, market.Series]] | None:
    """Every (exchange, kind) -> coin -> samples as views of ``frame``'s columns, when each series' rows are one
    time-ordered run (the demo builds them so, :mod:`emulator.demo_long_short`): the per-venue copies were ~5 MB of
    the demo's memory. None when they are not (:func:`series` then copies, in time order)."""
    n = len(frame)
    if not n:
        return {}
    codes: list[np.ndarray] = []
    names: list[list[str]] = []
    for column in ("exchange", "kind", "coin"):
        found, uniques = pd.factorize(frame[column])
        if (found < 0).any():  # a missing name: leave it to the copying path
            return None
        codes.append(found)
        names.append([str(u) for u in uniques])
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for found in codes:
        change[1:] |= found[1:] != found[:-1]
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], n]
    times = frame["time"].to_numpy(np.int64)
    if not np.isin(np.flatnonzero(np.diff(times) < 0) + 1, starts).all():
        return None  # a series out of time order
    keys = [tuple(names[c][int(found[a])] for c, found in enumerate(codes)) for a in starts.tolist()]
    if len(set(keys)) != len(keys):
        return None  # a series in several runs
    values = frame["long_share"].to_numpy(float)
    out: dict[tuple[str, str], dict[str, market.Series]] = {}
    for (exchange, kind, coin), a, b in sorted(zip(keys, starts.tolist(), ends.tolist(), strict=True)):
        out.setdefault((exchange, kind), {})[coin] = market.Series(times[a:b], values[a:b], np.empty(0))
    return out


def listed(emu: Emulator, exchange: str, coin: str, now: int) -> bool:
    """The venue lists ``coin``'s perpetual at ``now``: it has statistics, or settles funding there."""
    if any(coin in series(emu, exchange, kind) for kind in ("accounts", "top_positions")):
        return True
    return coin in market.listed_coins(emu, exchange, now)


def periods(
    emu: Emulator,
    exchange: str,
    kind: str,
    coin: str,
    step_ms: int,
    *,
    start: int | None,
    end: int | None,
    limit: int,
    keep_ms: int | None = None,
    oldest_first: bool = True,
) -> list[tuple[int, float]]:
    """(period time stamp, long share) of ``coin``: the periods on the ``step_ms`` grid inside [start, min(end,
    now)] (the first ``limit`` from ``start``, else the last ``limit``), from the first sample on, and only the
    last ``keep_ms`` before now when the venue keeps no more (Binance: 30 days)."""
    found = series(emu, exchange, kind).get(coin)
    if found is None or not len(found.times):
        return []
    now = emu.now_ms()
    oldest = int(found.times[0]) if keep_ms is None else max(int(found.times[0]), now - keep_ms)
    grid = np.arange(-(-oldest // step_ms) * step_ms, now + 1, step_ms, dtype=np.int64)
    idx = market.window_rows(grid, start, end, now, limit, oldest_first=oldest_first)
    at = np.searchsorted(found.times, grid[idx], side="right") - 1
    return [(int(t), float(found.values[j])) for t, j in zip(grid[idx], at, strict=True)]
