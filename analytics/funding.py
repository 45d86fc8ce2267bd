"""Funding analytics: who pays to hold perps, across coins and venues, on one 8-hour scale.

Market meaning: perpetual-swap funding is what longs pay shorts (positive) or shorts pay longs (negative)
every funding interval. Persistently high positive funding across many coins means leverage is crowded on
the long side, the classic set-up for a long squeeze. Venues settle at different intervals (1 h on
Hyperliquid, 4 h or 8 h elsewhere), so every figure here is the **8-hour equivalent**:

    rate_8h = rate * 8 / interval_hours          (per settlement, what the sources already provide)
    history bucket value = mean(rate_8h of the settlements inside the 8 h bucket)
                         (= the sum of the per-interval rates paid over those 8 h when none is missing)
    annualised = rate_8h * 3 * 365

The "crowded leverage" driver reads :func:`funding_stats`: the median across coins of each coin's
cross-venue mean ``rate_8h``, and the share of coins whose mean is above the 0.01%/8h baseline.
All functions are pure and vectorised (numpy/pandas, no per-row Python loops).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from records.derivs import BASELINE_RATE_8H, FundingQuote, times_ms

EIGHT_HOURS_MS = 8 * 3_600_000
_MINUTE_MS = 60_000


def column_ms(column: pd.Series) -> np.ndarray:
    """Epoch ms of a time column, as :func:`sources.symbols.times_ms`, without its slow path for tz-aware
    datetimes (``np.asarray`` of a tz-aware column boxes every value as a Timestamp: ~80 ms per 40k rows)."""
    if isinstance(column, pd.Series) and isinstance(column.dtype, pd.DatetimeTZDtype | np.dtypes.DateTime64DType):
        return pd.DatetimeIndex(column).as_unit("ms").asi8.astype(np.int64)
    return times_ms(column)


def group_codes(values: np.ndarray | pd.Series, *, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and labels of a label column, like ``pd.factorize`` but hashing only the starts of
    runs of equal labels: history frames arrive grouped by coin, so this is several times faster."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        codes, labels = pd.factorize(values, sort=sort)
        return np.asarray(codes), np.asarray(labels, dtype=object)
    arr = np.asarray(values, dtype=object)
    if len(arr) == 0:
        return np.empty(0, np.int64), np.empty(0, dtype=object)
    change = np.empty(len(arr), dtype=bool)
    change[0] = True
    np.not_equal(arr[1:], arr[:-1], out=change[1:])
    heads = np.flatnonzero(change)
    head_codes, head_labels = pd.factorize(arr[heads], sort=sort)
    return head_codes[np.cumsum(change) - 1], np.asarray(head_labels, dtype=object)


def annualised(rate_8h: float | np.ndarray | pd.DataFrame) -> float | np.ndarray | pd.DataFrame:
    """Yearly carry of the long side: ``rate_8h * 3 * 365``."""
    return rate_8h * 3 * 365


def funding_matrix(quotes: Iterable[FundingQuote]) -> pd.DataFrame:
    """Coins x exchanges of the current ``rate_8h`` (NaN where a venue does not list the coin).

    Rows are sorted by coin, columns by exchange; a duplicate (coin, exchange) keeps the last quote.
    """
    items = list(quotes)
    return _venue_grids(items, [_rates(items)], None)[0]


def funding_grids(quotes: Iterable[FundingQuote], venues: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(``rate_8h``, basis) as coins x ``venues``, from one pass over the quotes: what the funding pane reads each
    time a venue's snapshot lands. Both have :func:`funding_matrix`'s rows; the columns are ``venues`` in that order
    (a venue with no quote is a column of NaN, a quote of another venue is left out).

    The basis is the perp's ``(mark / index - 1) x 100`` in percent, NaN where the venue gives no index (OKX's bulk
    call has none) or no mark. Market meaning: a perp priced above its spot index (positive basis) is leverage paying
    up to be long; it is what funding charges for, so the two usually share a sign, and a basis against the funding's
    sign is worth a look.
    """
    items = list(quotes)
    n = len(items)
    marks = np.fromiter((q.mark_price or np.nan for q in items), dtype=float, count=n)  # None and 0: unknown
    indexes = np.fromiter((q.index_price or np.nan for q in items), dtype=float, count=n)
    rates, basis = _venue_grids(items, [_rates(items), (marks / indexes - 1.0) * 100], venues)
    return rates, basis


def _rates(items: list[FundingQuote]) -> np.ndarray:
    return np.fromiter((q.rate_8h for q in items), dtype=float, count=len(items))


def _venue_grids(
    items: list[FundingQuote], values: list[np.ndarray], venues: Sequence[str] | None
) -> list[pd.DataFrame]:
    """Coins x exchanges of numbers per quote, ``column[i]`` for ``items[i]``, one grid per column on shared rows
    and columns (a pivot table costs ~2 ms a tick on a few hundred perps; this ~0.2 ms)."""
    if not items and venues is None:
        return [pd.DataFrame(dtype=float) for _ in values]
    coin_codes, coin_labels = pd.factorize(np.array([q.coin for q in items], dtype=object), sort=True)
    exchanges = np.array([q.exchange for q in items], dtype=object)
    if venues is None:
        ex_codes, ex_labels = pd.factorize(exchanges, sort=True)
    else:
        ex_labels = np.array(list(venues), dtype=object)
        ex_codes = pd.Index(ex_labels).get_indexer(exchanges)
        listed = ex_codes >= 0
        coin_codes, ex_codes, values = coin_codes[listed], ex_codes[listed], [v[listed] for v in values]
    index = pd.Index(coin_labels, name="coin", dtype=object)
    columns = pd.Index(ex_labels, name="exchange", dtype=object)
    grids = []
    for column in values:
        grid = np.full((len(coin_labels), len(ex_labels)), np.nan)
        grid[coin_codes, ex_codes] = column  # in order: a later duplicate overwrites an earlier one
        grids.append(pd.DataFrame(grid, index=index, columns=columns))
    return grids


def row_medians(matrix: pd.DataFrame) -> pd.Series:
    """Each coin's median across its venues, NaN ignored (NaN where no venue quotes it): what
    ``matrix.median(axis=1)`` gives, on the sorted rows at once (pandas' row-wise median costs ~0.2 ms a tick)."""
    if matrix.empty:
        return pd.Series(dtype=float)
    ordered = np.sort(matrix.to_numpy(float), axis=1)  # NaN sorts last
    counts = (~np.isnan(ordered)).sum(axis=1)
    rows = np.arange(len(ordered))
    low = ordered[rows, np.maximum(counts - 1, 0) // 2]
    high = ordered[rows, counts // 2]  # counts // 2 < the row's length whenever it has a column
    medians = np.where(counts > 0, (low + high) / 2.0, np.nan)
    return pd.Series(medians, index=matrix.index)


def funding_history_matrix(
    history: pd.DataFrame, exchange: str | None = None, periods: int = 21
) -> pd.DataFrame:
    """Coins x the last ``periods`` 8-hour buckets of normalised funding (``rate_8h``).

    ``history`` is a long frame with ``time`` (epoch ms or UTC datetimes; the settlement instant), ``coin``,
    ``exchange`` and either ``rate_8h`` or ``rate`` + ``interval_hours``. A settlement at ``t`` pays for
    the period ending at ``t`` and lands in the bucket ``(B - 8h, B]`` with ``B = ceil(t / 8h) * 8h``
    (``t`` rounded to the minute first: Binance stamps settlements a few ms late). The bucket value is the
    mean ``rate_8h`` of its settlements per exchange; with ``exchange=None`` the mean across exchanges.
    Columns are the ``periods`` bucket end times (UTC) up to the latest one, oldest first; NaN where a
    coin has no settlement in a bucket.
    """
    if history is None or len(history) == 0:
        return pd.DataFrame(dtype=float)
    frame = history if exchange is None else history[history["exchange"] == exchange]
    if len(frame) == 0:
        return pd.DataFrame(dtype=float)
    if "rate_8h" in frame:
        r8 = frame["rate_8h"].to_numpy(float)
    else:
        r8 = frame["rate"].to_numpy(float) * 8.0 / frame["interval_hours"].to_numpy(float)
    t = column_ms(frame["time"])
    t = (t + _MINUTE_MS // 2) // _MINUTE_MS * _MINUTE_MS
    bucket = -(-t // EIGHT_HOURS_MS) * EIGHT_HOURS_MS
    last = int(bucket.max())
    first = last - (periods - 1) * EIGHT_HOURS_MS
    keep = bucket >= first
    col = (bucket[keep] - first) // EIGHT_HOURS_MS
    coin_codes, coins = group_codes(frame["coin"].to_numpy()[keep])
    ex_codes, exchanges = group_codes(frame["exchange"].to_numpy()[keep])
    n_c, n_p, n_e = len(coins), periods, len(exchanges)
    cell = (coin_codes * n_p + col) * n_e + ex_codes
    sums = np.bincount(cell, weights=r8[keep], minlength=n_c * n_p * n_e).reshape(n_c, n_p, n_e)
    counts = np.bincount(cell, minlength=n_c * n_p * n_e).reshape(n_c, n_p, n_e)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_venue = sums / counts  # NaN where a venue has no settlement in the bucket
        venues = (counts > 0).sum(axis=2)
        values = np.where(counts > 0, per_venue, 0.0).sum(axis=2) / venues
    ends = pd.to_datetime(first + np.arange(n_p, dtype=np.int64) * EIGHT_HOURS_MS, unit="ms", utc=True)
    return pd.DataFrame(
        values,
        index=pd.Index(coins, name="coin", dtype=object),
        columns=pd.DatetimeIndex(ends, name="period_end"),
    )


def funding_stats(
    matrix: pd.DataFrame | pd.Series, baseline: float = BASELINE_RATE_8H
) -> tuple[float, float]:
    """(median, share above baseline) of the coins' funding.

    Each coin's figure is the mean of its row (its venues, ignoring NaN); the median is taken across coins,
    and the share is ``count(coin mean > baseline) / count(coins with any quote)``. NaN, NaN when empty.
    """
    values = matrix.to_numpy(float)
    if values.ndim == 2:
        present = ~np.isnan(values)
        counts = present.sum(axis=1)
        sums = np.where(present, values, 0.0).sum(axis=1)
        per_coin = sums[counts > 0] / counts[counts > 0]
    else:
        per_coin = values[~np.isnan(values)]
    if per_coin.size == 0:
        return float("nan"), float("nan")
    return float(np.median(per_coin)), float(np.mean(per_coin > baseline))


# --- what desks read: OI-weighted funding and basis ------------------------------------------------------------


def oi_weighted(values: pd.DataFrame, oi_usd: pd.DataFrame) -> tuple[pd.Series, float]:
    """Venue figures (coins x exchanges, e.g. ``rate_8h`` or basis) weighted by each venue's open interest in USD.

    Market meaning: what the average dollar of open interest pays (funding) or is priced at (basis). A venue
    where little is open barely moves it, unlike a plain median. Per coin: ``sum(x * oi) / sum(oi)`` over the
    venues with both a figure and OI; the market figure is the same sum over every (coin, venue) pair. NaN where no
    pair has both (unknown, never 0).
    """
    if values.empty or oi_usd.empty:
        return pd.Series(dtype=float), float("nan")
    weights = _aligned(oi_usd, values.index, values.columns)
    x = values.to_numpy(float)
    both = ~np.isnan(x) & ~np.isnan(weights) & (weights > 0)
    weighted = np.where(both, x * weights, 0.0)
    total = np.where(both, weights, 0.0)
    per_coin_w = total.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_coin = np.where(per_coin_w > 0, weighted.sum(axis=1) / per_coin_w, np.nan)
    keep = per_coin_w > 0
    market = float(weighted.sum() / total.sum()) if total.sum() > 0 else float("nan")
    return pd.Series(per_coin[keep], index=values.index[keep], name="oi_weighted"), market


def _aligned(frame: pd.DataFrame, index: pd.Index, columns: pd.Index) -> np.ndarray:
    """``frame.reindex(index=..., columns=...).to_numpy(float)`` by position (NaN where a label is missing): the
    reindex built two indexes and a frame for each of the two weightings a tick asks for."""
    rows, cols = frame.index.get_indexer(index), frame.columns.get_indexer(columns)
    out: np.ndarray = frame.to_numpy(float)[np.ix_(np.maximum(rows, 0), np.maximum(cols, 0))]
    out[rows < 0, :] = np.nan
    out[:, cols < 0] = np.nan
    return out
