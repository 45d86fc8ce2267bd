"""The key-drivers metrics: each metric id of :data:`analytics.drivers.KNOWN_METRICS`, computed from MarketState.

A metric whose feed is not fresh comes back ``stale=True`` (the driver shows "unknown", never a stale "active");
one whose data is missing comes back ``value=None`` with a note saying why (e.g. "needs 30 days of /global
snapshots, have 2 h").
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from analytics import etf as etf_an
from analytics import macro as macro_an
from analytics.drivers import MetricValue, parse_window
from analytics.price import observed_closes, pct_change_over
from tui.runtime.health import FeedHealth

#: Which feeds a metric rests on; the metric is stale when none of them is fresh.
METRIC_FEEDS: dict[str, tuple[str, ...]] = {
    "etf_net_flow_sum": ("etf_btc",),
    "etf_outflow_streak": ("etf_btc",),
    "etf_min_daily_flow": ("etf_btc",),
    "basket_cvd_change": ("cvd_daily",),
    "basket_buy_sell_ratio": ("cvd_daily",),
    "funding_median_8h": ("funding_binance", "funding_bybit", "funding_okx", "funding_hyperliquid"),
    "funding_share_above_baseline": ("funding_binance", "funding_bybit", "funding_okx", "funding_hyperliquid"),
    "long_liq_vs_median": ("btc_intraday",),
    "btc_change": ("btc_intraday",),
    "oi_change": ("oi_history",),
    "smallcap_vs_largecap": ("cg_markets",),
    "btc_dominance_change": ("cg_global",),
    "stablecoin_share_change": ("cg_global",),
    "fear_greed": ("fear_greed",),
    "spy_change": ("equities",),
    "us2y_change": ("rates",),
}


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _ts(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


class Metrics:
    """``lookup(metric, window)`` for :func:`analytics.drivers.evaluate`, over the views' state."""

    def __init__(self, views: Any) -> None:
        self.views = views
        self.state = views.state
        self._handlers: dict[str, Callable[[str | None], MetricValue]] = {
            "etf_net_flow_sum": self._etf_sum,
            "etf_outflow_streak": self._etf_streak,
            "etf_min_daily_flow": self._etf_min,
            "basket_cvd_change": self._cvd_change,
            "basket_buy_sell_ratio": self._cvd_ratio,
            "funding_median_8h": lambda w: self._funding(0),
            "funding_share_above_baseline": lambda w: self._funding(1),
            "long_liq_vs_median": self._liq_ratio,
            "btc_change": self._btc_change,
            "oi_change": self._oi_change,
            "smallcap_vs_largecap": self._small_caps,
            "btc_dominance_change": lambda w: self._global_change(w, "btc_dominance_pct"),
            "stablecoin_share_change": lambda w: self._global_change(w, "stablecoin_share_pct"),
            "fear_greed": self._fear_greed,
            "spy_change": self._spy,
            "us2y_change": self._us2y,
        }

    def lookup(self, metric: str, window: str | None) -> MetricValue | None:
        handler = self._handlers.get(metric)
        if handler is None:
            return None
        value = handler(window)
        if self._stale(metric):
            return MetricValue(value.value, value.as_of, stale=True, note=value.note or "data is stale")
        return value

    def _stale(self, metric: str) -> bool:
        healths: dict[str, FeedHealth] = self.views.health_map()
        names = METRIC_FEEDS.get(metric, ())
        present = [healths[n] for n in names if n in healths]
        if not present:
            return False
        now = time.time()
        return not any(h.is_fresh(now) for h in present)

    # -- ETF ------------------------------------------------------------------------------------------------
    def _etf(self) -> Any:
        return self.state.extra.get("etf_btc")

    def _etf_sum(self, window: str | None) -> MetricValue:
        flows = self._etf()
        if flows is None:
            return MetricValue(None, None, note="no ETF data yet")
        days = int(parse_window(window or "3d").days)
        fig = etf_an.net_flow_sum(flows.frame, days, flows.partial_last)
        return MetricValue(_finite(fig.value), _ts(fig.as_of), note=fig.note)

    def _etf_streak(self, window: str | None) -> MetricValue:
        flows = self._etf()
        if flows is None:
            return MetricValue(None, None, note="no ETF data yet")
        streak = etf_an.outflow_streak_days(flows.frame, flows.partial_last)
        return MetricValue(float(streak), _ts(flows.last_complete))

    def _etf_min(self, window: str | None) -> MetricValue:
        flows = self._etf()
        if flows is None:
            return MetricValue(None, None, note="no ETF data yet")
        fig = etf_an.largest_outflow(flows.frame, int(parse_window(window or "10d").days), flows.partial_last)
        return MetricValue(_finite(fig.value), _ts(fig.as_of), note=fig.note)

    # -- CVD ------------------------------------------------------------------------------------------------
    def _cvd_change(self, window: str | None) -> MetricValue:
        daily, _ = self.views.cvd_baskets()
        if daily is None:
            return MetricValue(None, None, note="no CVD data yet")
        value = _finite(daily.change(parse_window(window or "30d")))
        note = "" if value is not None else "CVD unknown (no taker split) or history shorter than the window"
        return MetricValue(value, daily.as_of, note=note)

    def _cvd_ratio(self, window: str | None) -> MetricValue:
        daily, _ = self.views.cvd_baskets()
        if daily is None:
            return MetricValue(None, None, note="no CVD data yet")
        ratios = self.views.ratio_over(daily, parse_window(window or "30d"))
        return MetricValue(_finite(ratios.get("__basket__")), daily.as_of)

    # -- derivatives ----------------------------------------------------------------------------------------
    def _funding(self, index: int) -> MetricValue:
        from tui.views.derivs import funding_figures

        healths = self.views.health_map()
        now = time.time()
        fresh = {v for v in self.state.derivs if (h := healths.get(f"funding_{v}")) and h.is_fresh(now)}
        if not fresh:
            return MetricValue(None, None, note="no fresh funding data")
        fig = funding_figures(self.state, fresh, self.views.config.funding.baseline_8h)
        value = fig["median"] if index == 0 else fig["share"]
        return MetricValue(_finite(value), pd.Timestamp.now(tz="UTC"))

    def _liq_ratio(self, window: str | None) -> MetricValue:
        from tui.views.derivs import cascade_figures, counted_venues, venues_note

        if self.state.liq_tape is None:
            return MetricValue(None, None, note="no liquidation tape")
        now_ms = self.views.runtime.now_ms()
        health = self.views.stream_health()
        result = cascade_figures(self.state, now_ms, lookback=parse_window(window or "30d"),
                                 venues=counted_venues(health))  # fmt: skip
        return MetricValue(_finite(result.ratio), pd.Timestamp(now_ms, unit="ms", tz="UTC"), note=result.reason,
                           quality=venues_note(health))  # fmt: skip

    def _oi_change(self, window: str | None) -> MetricValue:
        from analytics.open_interest import total_oi_change

        history = self.state.oi_history
        if history is None or not len(history):
            return MetricValue(None, None, note="no open-interest history")
        value = _finite(total_oi_change(history, parse_window(window or "24h")))
        note = "" if value is not None else "open-interest history shorter than the window"
        return MetricValue(value, _ts(history["time"].max()), note=note)

    # -- price and macro ------------------------------------------------------------------------------------
    def _btc_change(self, window: str | None) -> MetricValue:
        intraday = self.state.btc_intraday
        if intraday is None or not len(intraday):
            return MetricValue(None, None, note="no BTC intraday data")
        closes = observed_closes(intraday, self.views.runtime.now_ms())
        value = pct_change_over(closes, parse_window(window or "1h"))
        return MetricValue(_finite(value), closes.index[-1])

    def _small_caps(self, window: str | None) -> MetricValue:
        markets = self.state.extra.get("coin_markets")
        if markets is None:
            return MetricValue(None, None, note="no CoinGecko markets yet")
        if window not in (None, "30d"):
            return MetricValue(None, None, note="CoinGecko gives 30-day changes only")
        split = macro_an.small_vs_large_cap_return(markets)
        return MetricValue(_finite(split.value_pp), pd.Timestamp.now(tz="UTC"), note=split.note)

    def _global_change(self, window: str | None, column: str) -> MetricValue:
        history = self.state.extra.get("global_history")
        if history is None or not len(history.frame):
            return MetricValue(None, None, note="no CoinGecko /global snapshot yet")
        series = history.frame.set_index("time")[column].astype(float)
        change = macro_an.change_over_window(series, parse_window(window or "30d"))
        note = change.note
        if change.value != change.value:  # NaN: history too short
            note = f"needs {window or '30d'} of /global snapshots (CoinGecko keeps no free history); {note}"
        return MetricValue(_finite(change.value), _ts(change.end_time), note=note)

    def _fear_greed(self, window: str | None) -> MetricValue:
        fng = self.state.extra.get("fear_greed")
        if fng is None:
            return MetricValue(None, None, note="no Fear & Greed data yet")
        return MetricValue(_finite(fng.latest_value), _ts(fng.as_of), note=fng.latest_classification)

    def _spy(self, window: str | None) -> MetricValue:
        bars = self.state.extra.get("spy")
        if bars is None:
            return MetricValue(None, None, note="no SPY data yet")
        sessions = int(parse_window(window or "5d").days)
        change = macro_an.spy_change(bars.frame["close"], sessions)
        return MetricValue(_finite(change.value), _ts(change.end_time), note=change.note)

    def _us2y(self, window: str | None) -> MetricValue:
        series = self.state.extra.get("dgs2")
        if series is None:
            return MetricValue(None, None, note="no FRED DGS2 data yet")
        change = macro_an.yield_change(series.values, int(parse_window(window or "10d").days))
        return MetricValue(_finite(change.value), _ts(change.end_time), note=change.note)
