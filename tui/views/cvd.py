"""The altcoin CVD pane's view-model: the basket's cumulative taker delta since ``cvd.start`` and a row per coin.

Delta is taker-buy minus taker-sell quote volume (USD): persistent negative delta is spot selling pressure. The
ratio is taker-buy / taker-sell volume over the last 30 days (< 1: more selling). A coin whose taker split is
unknown is listed with the reason and left out of the basket, never counted as 0. Beside the basket: the same
figures over every Binance spot altcoin pair (:mod:`analytics.market_cvd`) and over the basket's perpetuals.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from analytics.price import downsample
from records.viewmodels import CvdRow, CvdView, PaneStatus
from tui.views.common import CHART_POINTS, epoch_seconds, num
from tui.views.figures import Figures

THIRTY_DAYS = pd.Timedelta(days=30)


def cvd_view(figures: Figures, status: PaneStatus, coin_filter: str = "") -> CvdView:
    """Everything but the status depends only on the CVD data versions, the per-coin errors and the filter."""
    state = figures.state
    key = (figures.versions("cvd_daily", "cvd_hourly", "cvd_perp_daily", "cvd_market"),
           tuple(sorted(state.coin_errors.items())), coin_filter)  # fmt: skip
    view = figures.memo.get("cvd_view", key, lambda: _cvd_view(figures, status, coin_filter))
    return replace(view, status=status)


def _cvd_view(figures: Figures, status: PaneStatus, coin_filter: str) -> CvdView:
    daily, hourly = figures.cvd_baskets()
    since = figures.config.cvd.start.isoformat()
    errors = figures.state.coin_errors
    market = _market(figures)
    if daily is None:
        return CvdView(status, since=since,
                       rows=tuple(CvdRow(c, None, None, None, None, None, note=errors[c]) for c in sorted(errors)),
                       **market)  # fmt: skip
    summary = daily.summary.set_index("coin")
    delta_24h = hourly.summary.set_index("coin")["delta_24h_usd"] if hourly is not None else None
    ratio_30d = figures.ratio_over(daily, THIRTY_DAYS)
    rows: list[CvdRow] = []
    for key, rec in summary.iterrows():
        coin = str(key)
        note = ""
        if rec["unknown"]:
            note = daily.unknown_reasons.get(coin, "unknown")
        d24 = rec["delta_24h_usd"]
        if delta_24h is not None and coin in delta_24h.index:
            d24 = delta_24h.get(coin)
        share = num(rec["share_of_basket"])
        rows.append(CvdRow(
            coin, num(rec["cumulative_usd"]), num(d24), num(rec["delta_30d_usd"]),
            num(ratio_30d.get(coin)), None if share is None else share * 100, note,
        ))  # fmt: skip
    for coin, error in errors.items():
        if coin not in summary.index:
            rows.append(CvdRow(coin, None, None, None, None, None, note=error))
    if coin_filter:
        rows = [r for r in rows if coin_filter in r.coin]
    cumulative = downsample(daily.cumulative, CHART_POINTS)
    perp = figures.perp_basket()
    perp_ratio = num(figures.perp_ratio(THIRTY_DAYS))
    return CvdView(
        status,
        since=since,
        basket_usd=num(daily.total),
        basket_change_30d_usd=num(daily.change(THIRTY_DAYS)),
        basket_ratio_30d=num(ratio_30d.get("__basket__")),
        chart_x=epoch_seconds(cumulative.index),
        chart_y=tuple(cumulative.astype(float).tolist()),
        chart_key=figures.state.version.get("cvd_daily", 0),
        rows=tuple(rows),
        excluded=tuple(daily.unknown_coins),
        provisional=daily.includes_provisional,
        perp_change_30d_usd=None if perp is None else num(perp.change(THIRTY_DAYS)),
        perp_ratio_30d=perp_ratio,
        perp_coins=0 if perp is None else len(perp.summary) - len(perp.unknown_coins),
        **market,
    )


def _market(figures: Figures) -> dict[str, Any]:
    """The market-wide figures of :class:`CvdView` (every Binance spot altcoin pair; the window is 30 days)."""
    market = figures.market_cvd()
    if market is None:
        return {}
    return {"market_usd": num(market.total), "market_change_30d_usd": num(market.change_usd),
            "market_ratio_30d": num(market.buy_sell_ratio_window), "market_pairs": market.pairs}  # fmt: skip

