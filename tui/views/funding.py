"""The funding heatmap's view-model and snapshot section: perp funding per coin and venue (per 8 h), its recent
history, open interest and its 24 h change.

Rates are the venues' current (predicted) funding normalised to 8 hours, a fraction (0.0001 = 0.01 %/8h;
positive: longs pay shorts). Only venues whose snapshot is fresh count; the others say why in the venue line.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from analytics.funding import funding_history_matrix
from records.viewmodels import FundingRow, FundingView, PaneStatus
from tui.views.common import iso, num
from tui.views.figures import Figures, FundingFigures, venue_status
from tui.views.registry import VENUES

HistoryRow = tuple[str, tuple[float | None, ...]]


def funding_view(figures: Figures, status: PaneStatus, now: float | None = None, coin_filter: str = "") -> FundingView:
    now = time.time() if now is None else now
    healths = figures.health_map()
    baseline = figures.config.funding.baseline_8h
    periods = figures.config.funding.history_periods
    venues = tuple(venue_status(healths.get(f"funding_{v}"), v, now) for v in VENUES)
    fresh = {v.venue for v in venues if v.fresh}
    state = figures.state
    if not state.derivs:
        return FundingView(status, venues=venues, baseline_8h=baseline)
    fig = figures.funding(fresh)
    rows = figures.memo.get(("funding_rows", frozenset(fresh)), figures.funding_key(frozenset(fresh)),
                            lambda: _funding_rows(fig))  # fmt: skip
    labels, history_rows = figures.memo.get("funding_history_rows", (figures.versions("funding_history"), periods),
                                            lambda: _history_rows(state.funding_history, periods))  # fmt: skip
    view = FundingView(
        status, venues=venues, rows=rows, baseline_8h=baseline,
        median_8h=num(fig.median), share_above_baseline=num(fig.share),
        oi_total_usd=num(fig.oi_total), oi_change_24h_pct=num(fig.oi_total_change),
        oi_weighted_8h=num(fig.oi_weighted_market), period_labels=labels, history=history_rows, perps=len(rows),
    )  # fmt: skip
    if coin_filter:
        view = replace(
            view,
            rows=tuple(r for r in view.rows if coin_filter in r.coin),
            history=tuple(h for h in view.history if coin_filter in h[0]),
            coin_filter=coin_filter,
        )
    return view


def _funding_rows(fig: FundingFigures) -> tuple[FundingRow, ...]:
    matrix = fig.matrix
    index = matrix.index
    values = matrix.to_numpy(float) if len(matrix) else np.empty((0, len(VENUES)))
    # Whole columns at once: a num() per value and a lookup per coin and figure were most of a 1 Hz tick's funding
    # view (1,000 values for 200 coins).
    rates = _finite(values)
    medians = _finite(_aligned(fig.per_coin_median, index))
    oi, oi_change = _finite(_aligned(fig.oi, index)), _finite(_aligned(fig.oi_change, index))
    return tuple(
        FundingRow(coin=str(coin), rates_8h=tuple(rates[i]), median_8h=medians[i],
                   annualised_pct=None if medians[i] is None else medians[i] * 3 * 365 * 100,
                   oi_usd=oi[i], oi_change_24h_pct=oi_change[i])
        for i, coin in enumerate(index)
    )  # fmt: skip


def _aligned(series: pd.Series, index: pd.Index) -> np.ndarray:
    """``series``' values for each coin of ``index`` (NaN where it has none)."""
    if series.index.is_unique:
        return series.reindex(index).to_numpy(float)
    by_coin = series.to_dict()  # a coin listed twice: its last value, as a lookup would give
    return np.array([by_coin.get(coin, np.nan) for coin in index], float)


def _finite(values: np.ndarray) -> list[Any]:
    """``values`` as Python floats (nested lists for a matrix), NaN and infinities as None (unknown, never 0)."""
    numbers = np.asarray(values, float)
    out = numbers.astype(object)
    out[~np.isfinite(numbers)] = None
    return out.tolist()


def _history_rows(history: pd.DataFrame | None, periods: int) -> tuple[tuple[str, ...], tuple[HistoryRow, ...]]:
    if history is None or not len(history):
        return (), ()
    hist = funding_history_matrix(history, None, periods)
    labels = tuple(f"{c:%m-%d %Hh}" for c in hist.columns)
    values = hist.to_numpy(float)
    return labels, tuple((str(coin), tuple(num(v) for v in values[i])) for i, coin in enumerate(hist.index))


def _coin_funding(figures: Figures, fig: Any, now: float | None) -> dict[str, Any]:
    """``funding.coins.<COIN>``: the OI-weighted rate, each fresh venue's predicted rate (the running period's, per
    8 h) and next settlement, and the OI-weighted basis in percent (null where no venue gives an index)."""
    fresh = figures.fresh_venues(now)
    quotes: dict[str, dict[str, Any]] = {}
    for venue, snap in figures.state.derivs.items():
        if venue not in fresh:
            continue
        for q in snap.funding:
            quotes.setdefault(q.coin, {})[venue] = q
    out: dict[str, Any] = {}
    for coin in fig.matrix.index:
        by_venue = quotes.get(str(coin), {})
        out[str(coin)] = {
            "oi_weighted": num(fig.oi_weighted.get(coin)),
            "predicted": {v: num(q.rate_8h) for v, q in sorted(by_venue.items())},
            "next_time": {v: iso(q.next_funding_time) for v, q in sorted(by_venue.items())
                          if q.next_funding_time is not None},
            "basis_pct": num(fig.basis_weighted.get(coin)),
        }  # fmt: skip
    return out


def snapshot_funding(figures: Figures, now: float | None = None) -> dict[str, Any]:
    """The ``funding`` and ``open_interest`` sections of the snapshot JSON (fresh venues only)."""
    baseline = figures.config.funding.baseline_8h
    fig = figures.funding(figures.fresh_venues(now))
    matrix = fig.matrix
    rates = {
        str(coin): {v: num(matrix.at[coin, v]) for v in VENUES if num(matrix.at[coin, v]) is not None}
        for coin in matrix.index
    }
    oi = {
        str(coin): {"usd": num(usd), "change_24h_pct": num(fig.oi_change.get(coin))}
        for coin, usd in fig.oi.items()
    }
    return {
        "funding": {
            "interval_hours": 8,
            "baseline": baseline,
            "median": num(fig.median),
            "share_above_baseline": num(fig.share),
            "oi_weighted": num(fig.oi_weighted_market),
            "rates": rates,
            "coins": _coin_funding(figures, fig, now),
        },
        "open_interest": {
            "total_usd": num(fig.oi_total),
            "change_24h_pct": num(fig.oi_total_change),
            **oi,
        },
    }
