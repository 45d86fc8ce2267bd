"""The key-drivers metrics: each metric id of :data:`analytics.drivers.KNOWN_METRICS`, computed from MarketState.

A metric whose feed is not fresh comes back ``stale=True`` (the driver shows "unknown", never a stale "active");
one whose data is missing comes back ``value=None`` with a note saying why (e.g. "needs 30 days of /global
snapshots, have 2 h").

BTC dominance and the stablecoin share have no free history: their changes are *measured* on the ``/global``
snapshots the console keeps (:mod:`tui.runtime.global_history`) once those span the window, and *estimated* until
then (the market one window ago from the top coins' price changes, the stablecoins' growth from DefiLlama's
supply history: :func:`analytics.macro.market_then`). The value's ``quality`` says which basis it rests on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd

from analytics import etf as etf_an
from analytics import macro as macro_an
from analytics.drivers import MetricValue, parse_window
from analytics.price import pct_change_over
from tui.runtime.health import FeedHealth, format_age
from tui.views.common import num
from tui.views.figures import Figures, counted_venues, venues_note
from tui.views.registry import METRIC_FEEDS

#: Metrics computed from one feed's data only: memoised on that feed's data version and the window.
DATA_ONLY = {"smallcap_vs_largecap", "oi_change", "etf_net_flow_sum", "etf_outflow_streak", "etf_min_daily_flow",
             "spy_change", "us2y_change", "fear_greed", "basket_cvd_change", "basket_buy_sell_ratio"}  # fmt: skip
#: Of those, the ones whose as-of is the time of the lookup (not of the data): re-stamped on every hit.
STAMPED_NOW = {"smallcap_vs_largecap"}
#: The ``/coins/markets`` change column behind an estimate over each window (CoinGecko gives these three).
CHANGE_COLUMNS = {pd.Timedelta(days=1): "change_24h_pct", pd.Timedelta(days=7): "change_7d_pct",
                  pd.Timedelta(days=30): "change_30d_pct"}  # fmt: skip
#: What each basis of the dominance / stablecoin-share change rests on (its value is stale when one is not fresh).
MEASURED_FEEDS = ("cg_global",)
ESTIMATE_FEEDS = {"btc_dominance_pct": ("cg_global", "cg_markets"),
                  "stablecoin_share_pct": ("cg_global", "cg_markets", "llama_stablecoins")}  # fmt: skip


def _ts(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


class Metrics:
    """``lookup(metric, window)`` for :func:`analytics.drivers.evaluate`, over the console's figures."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures
        self.state = figures.state
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
            "long_liq": lambda w: self._liq_usd(w, "long_usd"),
            "short_liq": lambda w: self._liq_usd(w, "short_usd"),
        }

    def get(self, metric: str, window: str | None) -> MetricValue:
        """:meth:`lookup` of a metric the console knows (a KeyError for any other)."""
        value = self.lookup(metric, window)
        if value is None:
            raise KeyError(metric)
        return value

    def lookup(self, metric: str, window: str | None) -> MetricValue | None:
        handler = self._handlers.get(metric)
        if handler is None:
            return None
        if metric in DATA_ONLY:
            key = self.figures.versions(*METRIC_FEEDS[metric])
            value = self.figures.memo.get(("metric", metric, window), key, lambda: handler(window))
            if metric in STAMPED_NOW and value.as_of is not None:
                value = replace(value, as_of=pd.Timestamp.now(tz="UTC"))
        else:
            value = handler(window)
        if self._stale(metric):
            return MetricValue(value.value, value.as_of, stale=True, note=value.note or "data is stale")
        return value

    def _stale(self, metric: str) -> bool:
        healths: dict[str, FeedHealth] = self.figures.health_map()
        names = METRIC_FEEDS.get(metric, ())
        present = [healths[n] for n in names if n in healths]
        if not present:
            return False
        now = time.time()
        return not any(h.is_fresh(now) for h in present)

    # -- ETF ------------------------------------------------------------------------------------------------
    def _etf(self) -> Any:
        return self.state.etf_btc

    def _etf_sum(self, window: str | None) -> MetricValue:
        flows = self._etf()
        if flows is None:
            return MetricValue(None, None, note="no ETF data yet")
        days = int(parse_window(window or "3d").days)
        fig = etf_an.net_flow_sum(flows.frame, days, flows.partial_last)
        return MetricValue(num(fig.value), _ts(fig.as_of), note=fig.note)

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
        return MetricValue(num(fig.value), _ts(fig.as_of), note=fig.note)

    # -- CVD ------------------------------------------------------------------------------------------------
    def _cvd_change(self, window: str | None) -> MetricValue:
        daily, _ = self.figures.cvd_baskets()
        if daily is None:
            return MetricValue(None, None, note="no CVD data yet")
        value = num(daily.change(parse_window(window or "30d")))
        note = "" if value is not None else "CVD unknown (no taker split) or history shorter than the window"
        return MetricValue(value, daily.as_of, note=note)

    def _cvd_ratio(self, window: str | None) -> MetricValue:
        daily, _ = self.figures.cvd_baskets()
        if daily is None:
            return MetricValue(None, None, note="no CVD data yet")
        ratios = self.figures.ratio_over(daily, parse_window(window or "30d"))
        return MetricValue(num(ratios.get("__basket__")), daily.as_of)

    # -- derivatives ----------------------------------------------------------------------------------------
    def _funding(self, index: int) -> MetricValue:
        fresh = self.figures.fresh_venues() & set(self.state.derivs)
        if not fresh:
            return MetricValue(None, None, note="no fresh funding data")
        fig = self.figures.funding(fresh)
        return MetricValue(num(fig.median if index == 0 else fig.share), pd.Timestamp.now(tz="UTC"))

    def _liq_ratio(self, window: str | None) -> MetricValue:
        if self.state.liq_tape is None:
            return MetricValue(None, None, note="no liquidation tape")
        now_ms = self.figures.runtime.now_ms()
        health = self.figures.stream_health()
        result = self.figures.cascade(now_ms, lookback=parse_window(window or "30d"), venues=counted_venues(health))
        assert result is not None  # the tape exists
        return MetricValue(num(result.ratio), pd.Timestamp(now_ms, unit="ms", tz="UTC"), note=result.reason,
                           quality=venues_note(health))  # fmt: skip

    def _oi_change(self, window: str | None) -> MetricValue:
        from analytics.open_interest import total_oi_change

        history = self.state.oi_history
        if history is None or not len(history):
            return MetricValue(None, None, note="no open-interest history")
        value = num(total_oi_change(history, parse_window(window or "24h")))
        note = "" if value is not None else "open-interest history shorter than the window"
        return MetricValue(value, _ts(history["time"].max()), note=note)

    def _liq_usd(self, window: str | None, column: str) -> MetricValue:
        """USD liquidated on one side within the window (a labelled lower bound while the tape covers only part
        of it; unknown, never 0, when it covers none)."""
        from analytics.liquidations import window_totals

        tape = self.state.liq_tape
        if tape is None:
            return MetricValue(None, None, note="no liquidation tape")
        label = window or "1h"
        now_ms = self.figures.runtime.now_ms()
        totals = window_totals(tape, now_ms, windows=(label,))
        coverage = num(totals.at[label, "coverage"]) or 0.0
        quality = "" if coverage >= 1 else f"lower bound: the tape covers {coverage:.0%} of the window"
        return MetricValue(num(totals.at[label, column]), pd.Timestamp(now_ms, unit="ms", tz="UTC"), quality=quality)

    def coin(self, metric: str, coin: str) -> MetricValue:
        """A coin's ``price`` (BTC: the spot ticker; a basket coin: its latest hourly close) or ``funding_8h`` (its
        median rate over the fresh venues), stale when the feed behind it is not fresh."""
        coin = coin.upper()
        if metric == "funding_8h":
            fresh = self.figures.fresh_venues() & set(self.state.derivs)
            if not fresh:
                return MetricValue(None, None, note="no fresh funding data")
            medians = self.figures.funding(fresh).per_coin_median
            value = num(medians.get(coin)) if coin in medians.index else None
            note = "" if value is not None else f"no funding for {coin}"
            return MetricValue(value, pd.Timestamp.now(tz="UTC"), note=note)
        price: MetricValue | None = None
        if coin == "BTC":
            ticker, feed = self.state.btc_ticker, "btc_ticker"
            price = MetricValue(num(ticker.last), _ts(ticker.close_time)) if ticker is not None else None
        else:
            bars, feed = self.state.alt_hourly.get(coin), "cvd_hourly"
            price = MetricValue(num(bars["close"].iloc[-1]), None) if bars is not None and len(bars) else None
        if price is None:
            return MetricValue(None, None, note=f"no {coin} price (BTC and the basket coins have one)")
        health = self.figures.health_map().get(feed)
        if health is not None and not health.is_fresh(time.time()):
            return replace(price, stale=True, note="price feed not fresh")
        return price

    # -- price and macro ------------------------------------------------------------------------------------
    def _btc_change(self, window: str | None) -> MetricValue:
        closes = self.figures.btc_closes(self.figures.runtime.now_ms())
        if not len(closes):
            return MetricValue(None, None, note="no BTC intraday data")
        value = pct_change_over(closes, parse_window(window or "1h"))
        return MetricValue(num(value), closes.index[-1])

    def _small_caps(self, window: str | None) -> MetricValue:
        markets = self.state.coin_markets
        if markets is None:
            return MetricValue(None, None, note="no CoinGecko markets yet")
        if window not in (None, "30d"):
            return MetricValue(None, None, note="CoinGecko gives 30-day changes only")
        split = macro_an.small_vs_large_cap_return(markets)
        return MetricValue(num(split.value_pp), pd.Timestamp.now(tz="UTC"), note=split.note)

    def _global_change(self, window: str | None, column: str) -> MetricValue:
        """The change of BTC dominance or of the stablecoin share over ``window``: measured on the kept ``/global``
        snapshots once they span it, estimated before (each basis memoised on the data it rests on)."""
        text = window or "30d"
        span = parse_window(text)
        memo, versions = self.figures.memo, self.figures.versions
        measured = memo.get(("global_measured", column, text), versions(*MEASURED_FEEDS),
                            lambda: self._measured_change(span, text, column))  # fmt: skip
        if measured.value is not None:
            return self._fresh(measured, MEASURED_FEEDS)
        feeds = ESTIMATE_FEEDS[column]
        estimate = memo.get(("global_estimate", column, text), versions(*feeds),
                            lambda: self._estimated_change(span, text, column))  # fmt: skip
        if estimate.value is not None:
            return self._fresh(estimate, feeds)
        return MetricValue(None, measured.as_of, note=f"{measured.note}; {estimate.note}")

    def _measured_change(self, span: pd.Timedelta, text: str, column: str) -> MetricValue:
        history = self.state.global_history
        if history is None or not len(history.frame):
            return MetricValue(None, None, note="no CoinGecko /global snapshot yet")
        series = history.frame.set_index("time")[column].astype(float)
        change = macro_an.change_over_window(series, span)
        if not change.known:
            kept = format_age((series.index[-1] - series.index[0]).total_seconds())
            note = f"needs {text} of /global snapshots (CoinGecko keeps no free history), have {kept}"
            return MetricValue(None, _ts(change.end_time), note=note)
        first = pd.Timestamp(series.index[0])
        quality = f"measured on the /global snapshots kept since {first:%Y-%m-%d %H:%M} UTC"
        return MetricValue(num(change.value), _ts(change.end_time), quality=quality)

    def _estimated_change(self, span: pd.Timedelta, text: str, column: str) -> MetricValue:
        glob, markets = self.state.global_market, self.state.coin_markets
        change_column = CHANGE_COLUMNS.get(span)
        if change_column is None:
            return MetricValue(None, None, note="no estimate: CoinGecko gives 24h, 7d and 30d price changes only")
        if glob is None or markets is None:
            return MetricValue(None, None, note="no estimate yet: needs CoinGecko /global and /coins/markets")
        then = macro_an.market_then(markets, change_column=change_column)
        end = _ts(glob.time)
        label = {1: "1-day", 7: "7-day", 30: "30-day"}[span.days]
        if column == "btc_dominance_pct":
            change = macro_an.estimated_dominance_change(then, glob.btc_dominance_pct, end_time=end, window=span)
            basis = f"estimated from {label} price changes of the top {then.n_coins} coins"
        else:
            supply = self.state.stablecoin_supply
            if supply is None or not len(supply):
                return MetricValue(None, None, note="no estimate yet: needs DefiLlama's stablecoin supply")
            change = macro_an.estimated_stablecoin_share_change(
                then, glob.stablecoin_share_pct, supply["supply_usd"], span, now=end, end_time=end
            )
            basis = (f"estimated from DefiLlama's stablecoin supply and {label} price changes of the top "
                     f"{then.n_coins} coins")  # fmt: skip
        if not change.known:
            return MetricValue(None, end, note=f"no estimate: {change.note}")
        quality = f"{basis}; measured history takes over once {text} of /global snapshots are kept"
        return MetricValue(num(change.value), end, note=change.note, quality=quality)

    def _fresh(self, value: MetricValue, feeds: tuple[str, ...]) -> MetricValue:
        """``value`` marked stale when one of the feeds it rests on is not fresh (an estimate needs all of them)."""
        healths = self.figures.health_map()
        now = time.time()
        stale = [name for name in feeds if name in healths and not healths[name].is_fresh(now)]
        if not stale:
            return value
        return replace(value, stale=True, note=value.note or f"{', '.join(stale)} not fresh")

    def _fear_greed(self, window: str | None) -> MetricValue:
        fng = self.state.fear_greed
        if fng is None:
            return MetricValue(None, None, note="no Fear & Greed data yet")
        return MetricValue(num(fng.latest_value), _ts(fng.as_of), note=fng.latest_classification)

    def _spy(self, window: str | None) -> MetricValue:
        bars = self.state.spy
        if bars is None:
            return MetricValue(None, None, note="no SPY data yet")
        sessions = int(parse_window(window or "5d").days)
        change = macro_an.spy_change(bars.frame["close"], sessions)
        return MetricValue(num(change.value), _ts(change.end_time), note=change.note)

    def _us2y(self, window: str | None) -> MetricValue:
        series = self.state.us2y
        if series is None:
            return MetricValue(None, None, note="no FRED DGS2 data yet")
        change = macro_an.yield_change(series.values, int(parse_window(window or "10d").days))
        return MetricValue(num(change.value), _ts(change.end_time), note=change.note)
