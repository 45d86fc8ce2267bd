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

from emulator import perp_market as market
from emulator.core import Emulator


def series(emu: Emulator, exchange: str, kind: str) -> dict[str, market.Series]:
    """coin -> samples (``times`` ms, ``values`` long share) of ``kind`` on ``exchange`` (memoised per frame)."""
    frame = emu.dataset.long_short
    if frame is None:
        return {}
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
