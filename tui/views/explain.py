"""The "why" line at the top of the dashboard: what is driving the move, in one sentence, from the panes' own figures.

``BTC -4.99% 24h: long liquidations 55.4x normal, alt buy/sell 0.915 30d, ETF outflows 7d, ...``

- **The head** is Bitcoin's 24 h change exactly as the Bitcoin pane shows it (:func:`tui.views.btc.change_24h_pct`);
  it is left out when that pane's price is not fresh.
- **The parts** are the active drivers of the key-drivers checklist (:class:`tui.views.drivers.DriverBook`, evaluated
  on :class:`tui.views.metrics.Metrics`, the figures every pane reads): for each active driver, of its conditions
  that hold, the one furthest from its normal. Its number is the checklist's own
  (:func:`analytics.drivers.format_metric`) and its pane is named (``parts[].pane``). Conditions that hold are
  usable by construction (present, finite, not stale), so a stale or unknown figure never reaches the line; a
  driver whose data is stale is "unknown", not active. One figure read by two drivers (median funding: crowded
  leverage and OI rebuilding) appears once.
- **The ranking** is :func:`analytics.explain.distance`: the ratio of the figure's distance from its normal to the
  distance of the user's threshold (1.0 = at the threshold), or, where the threshold sits at the normal (ETF net flow
  < 0, CVD change < 0), a z-score against the rolling windows of the same figure over the history in memory (the ETF
  days, the basket's daily bars). Figures with no honest scale come last, in the configuration's order. The module
  docstring of :mod:`analytics.explain` defines each.

The widget shortens the line to its width by dropping the lowest-ranked parts (:func:`records.viewmodels.fit_line`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from analytics import etf as etf_an
from analytics.drivers import format_metric, parse_window
from analytics.explain import distance
from records.viewmodels import ExplainPart, ExplainView
from tui.views.btc import change_24h_pct
from widgets.format import pct

if TYPE_CHECKING:
    from analytics.drivers import ConditionResult, DriverState
    from tui.views.figures import Figures

#: The pane each metric's number comes from (the ETF & macro pane draws the "macro" view-model).
METRIC_PANE: dict[str, str] = {
    "etf_net_flow_sum": "etf", "etf_outflow_streak": "etf", "etf_min_daily_flow": "etf",
    "basket_cvd_change": "cvd", "basket_buy_sell_ratio": "cvd",
    "funding_median_8h": "funding", "funding_share_above_baseline": "funding", "oi_change": "funding",
    "long_liq_vs_median": "liquidations", "btc_change": "btc",
    "smallcap_vs_largecap": "macro", "btc_dominance_change": "macro", "stablecoin_share_change": "macro",
    "fear_greed": "macro", "spy_change": "macro", "us2y_change": "macro",
}  # fmt: skip
#: How each figure reads in the line: ``{v}`` is the value as the checklist shows it, ``{w}`` the window.
PHRASES: dict[str, str] = {
    "long_liq_vs_median": "long liquidations {v} normal",
    "funding_median_8h": "funding {v}/8h",
    "funding_share_above_baseline": "{v} of perps funding above baseline",
    "etf_outflow_streak": "ETF outflows {v}",
    "etf_net_flow_sum": "ETF {v} {w}",
    "etf_min_daily_flow": "ETF day {v} ({w} low)",
    "basket_cvd_change": "alt spot CVD {v} {w}",
    "basket_buy_sell_ratio": "alt buy/sell {v} {w}",
    "btc_change": "BTC {v} {w}",
    "oi_change": "OI {v} {w}",
    "smallcap_vs_largecap": "small caps {v} vs large",
    "btc_dominance_change": "BTC dominance {v} {w}",
    "stablecoin_share_change": "stablecoin share {v} {w}",
    "fear_greed": "Fear & Greed {v}",
    "spy_change": "SPY {v} {w}",
    "us2y_change": "US 2y {v} {w}",
}


def _history(figures: Figures, metric: str, window: str | None) -> np.ndarray | None:
    """The rolling windows of a figure over the history in memory, for the figures whose threshold sits at their
    normal (the z-score's scale); None when the console holds none."""
    state = figures.state
    if metric == "etf_net_flow_sum" and state.etf_btc is not None:
        days = int(parse_window(window or "3d").days)
        totals = etf_an.completed_totals(state.etf_btc.frame, state.etf_btc.partial_last)
        return totals.rolling(days).sum().to_numpy(dtype=float)  # the same sum as net_flow_sum, every day held
    if metric == "basket_cvd_change":
        daily, _ = figures.cvd_baskets()
        if daily is None or daily.interval is None or not len(daily.basket_delta):
            return None
        bars = max(1, int(parse_window(window or "30d") / daily.interval))
        return daily.basket_delta.rolling(bars).sum().to_numpy(dtype=float)  # as BasketCVD.change, every bar held
    return None


def _part(figures: Figures, driver: DriverState, result: ConditionResult) -> ExplainPart:
    cond = result.condition
    assert result.metric is not None and result.metric.value is not None  # a condition that holds is usable
    value = float(result.metric.value)
    shown = format_metric(cond.metric, value)
    far = distance(cond.metric, value, cond.threshold, cond.op, baseline_8h=figures.config.funding.baseline_8h,
                   history=_history(figures, cond.metric, cond.window))  # fmt: skip
    phrase = PHRASES.get(cond.metric, cond.metric + " {v}")
    text = phrase.format(v=shown, w=cond.window or "").strip()
    return ExplainPart(driver.id, cond.label, value, shown, far.normal, far.basis, far.score,
                       METRIC_PANE.get(cond.metric, "drivers"), text)  # fmt: skip


def _rank_key(indexed: tuple[int, ExplainPart]) -> tuple[int, float, int]:
    i, part = indexed
    return (0, -part.score, i) if part.score is not None else (1, 0.0, i)


def explain_view(figures: Figures, states: list[DriverState], now: float | None = None) -> ExplainView:
    """The line's view-model from the drivers as last evaluated (``states``) and the Bitcoin pane's figures."""
    now = time.time() if now is None else now
    change = change_24h_pct(figures) if figures.pane_status("btc", now).fresh else None
    head = None if change is None else f"BTC {pct(change)} 24h"
    candidates: list[ExplainPart] = []
    for driver in states:
        if driver.state != "active":
            continue
        held = [_part(figures, driver, r) for r in driver.values if r.result is True]
        if held:  # the held condition furthest from normal speaks for the driver
            candidates.append(min(enumerate(held), key=_rank_key)[1])
    ranked = [p for _, p in sorted(enumerate(candidates), key=_rank_key)]
    parts: list[ExplainPart] = []
    seen: set[str] = set()
    for part in ranked:
        if part.figure not in seen:  # one figure read by two drivers is said once, where it ranks best
            seen.add(part.figure)
            parts.append(part)
    empty = ""
    if not parts:
        unknown = sum(s.state == "unknown" for s in states)
        empty = "no driver active" + (f" ({unknown} unknown: data missing or stale)" if unknown else "")
        if not states:
            empty = "no drivers enabled"
    return ExplainView(head, tuple(parts), empty, change)


def snapshot_explain(view: ExplainView) -> dict[str, Any]:
    """The snapshot's ``explain`` section: the whole line and its parts, best-ranked first."""
    return {
        "text": view.text,
        "head": view.head,
        "parts": [
            {"driver": p.driver_id, "figure": p.figure, "value": p.value, "text": p.value_text,
             "normal": p.normal, "distance": None if p.score is None else round(p.score, 4),
             "distance_basis": p.normal_basis, "pane": p.pane, "phrase": p.text}
            for p in view.parts
        ],
    }  # fmt: skip


__all__ = ["METRIC_PANE", "PHRASES", "explain_view", "snapshot_explain"]
