"""Open-interest analytics: how much leverage is open, and how fast it is building or being flushed.

Market meaning: open interest (OI) is the size of all open perp positions (one side counted). Rising OI with
positive funding means new leveraged longs (fuel for a squeeze); a sharp OI drop during a sell-off is the
flush (liquidations and forced closing). Venues report OI in different units, so the sources normalise it to
coins (``oi_base``) and US dollars (``oi_usd``) first.

    aggregate OI of a coin (USD)  = sum over venues of oi_usd
    OI change over a window (%)   = 100 * (OI_agg(t_end) / OI_agg(t_end - window) - 1)

where each venue's value at an instant is its last sample at or before that instant ("as of"), and only
venues with a sample at both ends count (so a venue that starts reporting mid-window is not read as
growth). Pure and vectorised.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analytics.funding import column_ms, group_codes
from records.derivs import OpenInterest


def oi_matrix(records: Iterable[OpenInterest]) -> pd.DataFrame:
    """Coins x exchanges of ``oi_usd`` (NaN where a venue has no figure)."""
    items = list(records)
    if not items:
        return pd.DataFrame(dtype=float)
    coin_codes, coins = pd.factorize(np.array([r.coin for r in items], dtype=object), sort=True)
    ex_codes, exchanges = pd.factorize(np.array([r.exchange for r in items], dtype=object), sort=True)
    grid = np.full((len(coins), len(exchanges)), np.nan)
    grid[coin_codes, ex_codes] = np.fromiter((r.oi_usd for r in items), dtype=float, count=len(items))
    return pd.DataFrame(
        grid,
        index=pd.Index(coins, name="coin", dtype=object),
        columns=pd.Index(exchanges, name="exchange", dtype=object),
    )


def aggregate_oi(matrix: pd.DataFrame) -> tuple[pd.Series, float]:
    """(per-coin OI in USD summed over venues, total over all coins). Coins with no figure are dropped."""
    values = matrix.to_numpy(float)
    present = ~np.isnan(values)
    per_coin = np.where(present, values, 0.0).sum(axis=1)
    keep = present.any(axis=1)
    series = pd.Series(per_coin[keep], index=matrix.index[keep], name="oi_usd")
    return series, float(series.sum())


def _window_sums(
    history: pd.DataFrame, window: pd.Timedelta | int, column: str, end: pd.Timestamp | int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(coins, per-coin OI at the window's start, at its end, has both) over venues with a sample at both ends."""
    window_ms = int(window.total_seconds() * 1000) if isinstance(window, pd.Timedelta) else int(window)
    t = column_ms(history["time"])
    if end is None:
        end_ms = int(t.max())
    elif isinstance(end, int):
        end_ms = end
    else:
        end_ms = int(pd.Timestamp(end).value // 1_000_000)
    coin_codes, coins = group_codes(history["coin"].to_numpy())
    ex_codes, exchanges = group_codes(history["exchange"].to_numpy())
    codes = coin_codes.astype(np.int64) * max(len(exchanges), 1) + ex_codes
    n_series = len(coins) * max(len(exchanges), 1)
    order = np.lexsort((t, codes))
    codes_s, t_s, v_s = codes[order], t[order], history[column].to_numpy(float)[order]
    # one sorted composite key: code * span + time offset -> "as of" lookups for every series at once
    t0 = int(t_s.min())
    span = int(max(int(t_s.max()), end_ms) - t0 + 1)
    composite = codes_s * span + (t_s - t0)
    series_ids = np.arange(n_series, dtype=np.int64)

    def as_of(instant: int) -> np.ndarray:
        if instant < t0:
            return np.full(n_series, np.nan)
        pos = np.searchsorted(composite, series_ids * span + (instant - t0), side="right") - 1
        safe = np.clip(pos, 0, None)
        valid = (pos >= 0) & (codes_s[safe] == series_ids)
        return np.where(valid, v_s[safe], np.nan)

    v_end, v_start = as_of(end_ms), as_of(end_ms - window_ms)
    both = ~np.isnan(v_end) & ~np.isnan(v_start)
    coin_of = series_ids // max(len(exchanges), 1)
    end_sum = np.bincount(coin_of[both], weights=v_end[both], minlength=len(coins))
    start_sum = np.bincount(coin_of[both], weights=v_start[both], minlength=len(coins))
    has = np.bincount(coin_of[both], minlength=len(coins)) > 0
    return coins, start_sum, end_sum, has


def oi_change(
    history: pd.DataFrame,
    window: pd.Timedelta | int,
    *,
    column: str = "oi_usd",
    end: pd.Timestamp | int | None = None,
) -> pd.Series:
    """Per-coin percent change of aggregate OI over ``window`` (ms or Timedelta), ending at ``end``
    (default: the latest sample). ``history`` is long: ``time``, ``coin``, ``exchange``, ``column``."""
    if history is None or len(history) == 0:
        return pd.Series(dtype=float, name="oi_change_pct")
    coins, start_sum, end_sum, has = _window_sums(history, window, column, end)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * (end_sum / np.where(start_sum > 0, start_sum, np.nan) - 1.0)
    return pd.Series(pct[has], index=pd.Index(coins[has], name="coin", dtype=object), name="oi_change_pct")


def total_oi_change(
    history: pd.DataFrame | None,
    window: pd.Timedelta | int,
    *,
    column: str = "oi_usd",
    end: pd.Timestamp | int | None = None,
) -> float:
    """Percent change of the whole market's OI over ``window``: ``100 * (sum end / sum start - 1)`` over the same
    (coin, venue) series :func:`oi_change` uses (a sample at both ends), so a coin or venue that starts reporting
    mid-window is not read as growth. The one definition the funding pane, the "open interest rebuilding" driver
    and the snapshot share. NaN without history or without a series spanning the window."""
    if history is None or len(history) == 0:
        return float("nan")
    _, start_sum, end_sum, has = _window_sums(history, window, column, end)
    start, finish = float(start_sum[has].sum()), float(end_sum[has].sum())
    return 100.0 * (finish / start - 1.0) if start > 0 else float("nan")
