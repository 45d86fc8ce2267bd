"""Builds the widgets' view-models (and the snapshot's figures) from MarketState, feed health and analytics.

The one place where market state meets presentation: widgets stay free of pandas and rules, analytics free of
Textual. Each pane's status combines the health of the feeds behind it, so stale figures are labelled as such.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import replace
from typing import Any

import pandas as pd

from analytics.cvd import basket
from analytics.price import btc_figures, downsample
from records.viewmodels import BtcView, CvdRow, CvdView, PaneStatus, SourceLine, StatusView
from tui.runtime.config import Config
from tui.runtime.health import FeedHealth
from tui.runtime.modes import Runtime
from tui.runtime.state import MarketState

#: The funding pane's per-venue rate snapshots; the pane is live when one of them is.
FUNDING_VENUE_FEEDS = ("funding_binance", "funding_bybit", "funding_okx", "funding_hyperliquid")

#: Which feeds stand behind each pane; the first is the one whose freshness decides "live".
PANE_FEEDS: dict[str, tuple[str, ...]] = {
    "btc": ("btc_ticker", "btc_intraday", "btc_ath"),
    "cvd": ("cvd_daily", "cvd_hourly"),
    "funding": (
        *FUNDING_VENUE_FEEDS,
        "oi_binance",
        "oi_history",
        "funding_history",
    ),
    "liquidations": ("liq_okx_rest",),
    "etf": ("etf_btc", "etf_eth"),
    "macro": ("fear_greed", "cg_global", "cg_markets", "equities", "rates"),
}
CHART_POINTS = 200


def _num(value: Any) -> float | None:
    """A finite float, or None (NaN/inf/None are unknown, shown as a dash and exported as null)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def epoch_seconds(index: pd.DatetimeIndex) -> tuple[float, ...]:
    """Epoch seconds of a DatetimeIndex whatever its unit (pandas 3 indexes may be ms or us, not ns)."""
    return tuple(index.as_unit("s").asi8.astype(float).tolist())


def iso(ms_or_ts: Any) -> str | None:
    if ms_or_ts is None:
        return None
    stamp = pd.Timestamp(ms_or_ts, unit="ms", tz="UTC") if isinstance(ms_or_ts, int | float) else ms_or_ts
    return pd.Timestamp(stamp).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def pane_status(healths: list[FeedHealth], now: float, clock_offset: float = 0.0) -> PaneStatus:
    """Fresh when the primary feed is fresh; the text names the worst problem among the pane's feeds.

    A live pane says just "live": its border is redrawn whenever the text changes, and Textual repaints the whole
    pane for it, so a clock in it would send every pane down the link once a minute. The as-of time (on the
    market's clock: ``clock_offset`` is market time minus wall time, 0 live) is kept in ``PaneStatus.as_of``.
    """
    primary = healths[0]
    fresh = primary.is_fresh(now)
    problems = [h for h in healths if h.status(now) not in ("live", "paused")]
    if primary.as_of is None and not problems:
        return PaneStatus(False, "waiting for data")
    as_of = (
        dt.datetime.fromtimestamp(primary.as_of + clock_offset, dt.UTC).strftime("%H:%M UTC") if primary.as_of else ""
    )
    if not problems:
        return PaneStatus(fresh, "paused" if primary.paused else "live", as_of)
    worst = problems[0] if not fresh else sorted(problems, key=lambda h: h.status(now) == "waiting")[0]
    return PaneStatus(fresh, f"{worst.name}: {worst.describe(now)}", as_of)


#: Metrics computed from one stored object only, which its feed replaces (never mutates) on each update: the
#: drivers re-evaluate every few seconds, so these are memoised on that object's identity and the window.
_METRIC_SOURCE: dict[str, Any] = {
    "smallcap_vs_largecap": lambda s: s.extra.get("coin_markets"),
    "btc_dominance_change": lambda s: getattr(s.extra.get("global_history"), "frame", None),
    "stablecoin_share_change": lambda s: getattr(s.extra.get("global_history"), "frame", None),
    "oi_change": lambda s: s.oi_history,
    "etf_net_flow_sum": lambda s: s.extra.get("etf_btc"),
    "etf_outflow_streak": lambda s: s.extra.get("etf_btc"),
    "etf_min_daily_flow": lambda s: s.extra.get("etf_btc"),
    "spy_change": lambda s: s.extra.get("spy"),
    "us2y_change": lambda s: s.extra.get("dgs2"),
}
#: Of those, the ones whose as-of is the time of the lookup (not of the data): re-stamped on every hit.
_METRIC_STAMPED_NOW = {"smallcap_vs_largecap"}


def _memoise_metrics(metrics: Any, state: MarketState) -> None:
    handlers = getattr(metrics, "_handlers", None)
    if not isinstance(handlers, dict):
        return
    for name, source in _METRIC_SOURCE.items():
        if name in handlers:
            handlers[name] = _memo_handler(handlers[name], source, state, name in _METRIC_STAMPED_NOW)


def _memo_handler(handler: Any, source: Any, state: MarketState, stamp_now: bool) -> Any:
    memo: dict[Any, tuple[Any, Any]] = {}  # window -> (source object, value)

    def lookup(window: str | None) -> Any:
        obj = source(state)
        hit = memo.get(window)
        if hit is not None and hit[0] is obj:
            value = hit[1]
            if stamp_now and value.as_of is not None:
                value = replace(value, as_of=pd.Timestamp.now(tz="UTC"))
            return value
        value = handler(window)
        memo[window] = (obj, value)
        return value

    return lookup


class ViewBuilder:
    def __init__(self, config: Config, runtime: Runtime, state: MarketState, scheduler: Any = None) -> None:
        self.config = config
        self.runtime = runtime
        self.state = state
        self.scheduler: Any = scheduler
        self._last_status: dict[str, str] = {}
        self._cvd_cache: tuple[tuple[int, int], Any] | None = None
        # Memos keyed by data version (rebuilt only when a feed delivered): ratio windows and the CVD view's data.
        self._ratio_cache: dict[Any, Any] = {}
        self._cvd_view_cache: tuple[tuple[Any, ...], CvdView] | None = None
        self.coin_filter = ""  # "/" in the dashboard: show only coins whose symbol contains it
        self._stream_memo: tuple[Any, dict[str, Any]] | None = None
        from tui.views.macro import DriverBook
        from tui.views.metrics import Metrics

        self.metrics = Metrics(self)
        _memoise_metrics(self.metrics, state)
        self.drivers_book = DriverBook(config.drivers_raw, config.drivers_file)

    def _healths(self, pane: str) -> list[FeedHealth]:
        if self.scheduler is None:
            return [FeedHealth(name, "", 30.0) for name in PANE_FEEDS[pane]]
        healths = [self.scheduler.feeds[n].health for n in PANE_FEEDS[pane] if n in self.scheduler.feeds]
        if pane == "funding":
            # Fresh when any venue's rate snapshot is fresh: put one first so it decides the pane's "live". The
            # history and OI feeds never do: a fresh 15-minute history poll says nothing about today's rates.
            healths.sort(key=lambda h: not (h.name in FUNDING_VENUE_FEEDS and h.is_fresh()))
        return healths

    def clock_offset(self, now: float) -> float:
        """Market time minus wall time, in seconds (0 when live)."""
        return self.runtime.now_ms() / 1000 - now if self.runtime is not None else 0.0

    def pane_status(self, pane: str, now: float) -> PaneStatus:
        return pane_status(self._healths(pane), now, self.clock_offset(now))

    def health_map(self) -> dict[str, FeedHealth]:
        return {} if self.scheduler is None else {n: f.health for n, f in self.scheduler.feeds.items()}

    # -- derivatives ------------------------------------------------------------------------------------------
    def funding(self, now: float | None = None) -> Any:
        from tui.views.derivs import funding_view

        now = time.time() if now is None else now
        view = funding_view(self.state, self.health_map(), self.config.funding.baseline_8h,
                            self.config.funding.history_periods,
                            self.pane_status("funding", now), now)  # fmt: skip
        if self.coin_filter:
            view = replace(
                view,
                rows=tuple(r for r in view.rows if self.coin_filter in r.coin),
                history=tuple(h for h in view.history if self.coin_filter in h[0]),
            )
        return view

    def stream_health(self, now: float | None = None) -> dict[str, Any]:
        """Each liquidation stream's health (silent-while-peers-deliver included), memoised per second and tape
        revision: the pane, the status bar, the cascade driver and the snapshot read the same judgement."""
        from tui.views.derivs import stream_health

        now = time.time() if now is None else now
        tape = self.state.liq_tape
        key = (int(now), None if tape is None else tape.revision,
               tuple((n, s.state) for n, s in self.state.liq_streams.items()))  # fmt: skip
        if self._stream_memo is not None and self._stream_memo[0] == key:
            return self._stream_memo[1]
        cfg = self.config.liquidations
        health = stream_health(self.state, self.runtime.now_ms(), cfg.silent_after, cfg.silent_peers)
        self._stream_memo = (key, health)
        return health

    def liquidations(self, now: float | None = None) -> Any:
        from tui.views.derivs import liquidations_view

        now = time.time() if now is None else now
        health = self.stream_health(now)
        live = [h for h in health.values() if h.state == "live"]
        if live:
            silent = [h for h in health.values() if h.state == "silent"]
            status = PaneStatus(True, "live") if not silent else PaneStatus(
                True, "live · " + ", ".join(f"{h.venue} silent (suspect)" for h in silent))
        elif health:
            status = PaneStatus(False, "; ".join(f"{h.venue}: {h.state}" for h in health.values()))
        else:
            status = self.pane_status("liquidations", now)
        return liquidations_view(self.state, self.runtime.now_ms(), status, now, self.runtime.simulated, health)

    def status_changed(self, pane: str, now: float) -> bool:
        """True when the pane's health text changed (so a stale label appears even without new data)."""
        text = pane_status(self._healths(pane), now).text
        text = text.split(" · ")[0]
        changed = self._last_status.get(pane) != text
        self._last_status[pane] = text
        return changed

    # -- Bitcoin ----------------------------------------------------------------------------------------------
    def btc_figures(self) -> Any:
        state = self.state
        if state.btc_ticker is None:
            return None
        history = state.btc_monthly if state.btc_monthly is not None else pd.DataFrame({"high": []})
        intraday = state.btc_intraday if state.btc_intraday is not None else pd.DataFrame({"close": [], "high": []})
        return btc_figures(state.btc_ticker.last, state.btc_ticker.change_pct, history, intraday,
                           max_points=CHART_POINTS, now_ms=self.runtime.now_ms())  # fmt: skip

    def btc(self, now: float | None = None) -> BtcView:
        now = time.time() if now is None else now
        status = self.pane_status("btc", now)
        figures = self.btc_figures()
        if figures is None:
            return BtcView(status)
        series = figures.intraday_series
        ticker = self.state.btc_ticker
        return BtcView(
            status,
            price=_num(figures.price),
            change_24h_pct=_num(figures.change_24h_pct),
            change_1h_pct=_num(figures.change_1h_pct),
            ath=_num(figures.ath),
            drawdown_pct=_num(figures.drawdown_pct),
            high_24h=_num(ticker.high),
            low_24h=_num(ticker.low),
            chart_x=epoch_seconds(series.index) if len(series) else (),
            chart_y=tuple(series.astype(float).tolist()),
            chart_key=self.state.version.get("btc_intraday", 0),
        )

    # -- CVD --------------------------------------------------------------------------------------------------
    def cvd_baskets(self) -> tuple[Any, Any]:
        """(daily basket since cvd.start, hourly basket over the hourly window); memoised per data version."""
        key = (self.state.version.get("cvd_daily", 0), self.state.version.get("cvd_hourly", 0))
        if self._cvd_cache is not None and self._cvd_cache[0] == key:
            return self._cvd_cache[1]
        since = pd.Timestamp(self.config.cvd.start, tz="UTC")
        daily = basket(self.state.alt_daily, since) if self.state.alt_daily else None
        hourly = None
        if self.state.alt_hourly:
            first = min((f.index[0] for f in self.state.alt_hourly.values() if len(f)), default=None)
            if first is not None:
                hourly = basket(self.state.alt_hourly, first)
        self._cvd_cache = (key, (daily, hourly))
        return daily, hourly

    def cvd(self, now: float | None = None) -> CvdView:
        now = time.time() if now is None else now
        status = self.pane_status("cvd", now)
        # Everything but the status depends only on the CVD data versions and the per-coin errors: reuse it.
        key = (
            self.state.version.get("cvd_daily", 0),
            self.state.version.get("cvd_hourly", 0),
            tuple(sorted(self.state.coin_errors.items())),
            getattr(self, "coin_filter", ""),
        )
        cached = self._cvd_view_cache
        if cached is not None and cached[0] == key:
            return replace(cached[1], status=status)
        view = self._cvd_view(status)
        self._cvd_view_cache = (key, view)
        return view

    def _cvd_view(self, status: PaneStatus) -> CvdView:
        daily, hourly = self.cvd_baskets()
        since = self.config.cvd.start.isoformat()
        errors = self.state.coin_errors
        if daily is None:
            rows = tuple(CvdRow(c, None, None, None, None, None, note=errors[c]) for c in sorted(errors))
            return CvdView(status, since=since, rows=rows)
        summary = daily.summary.set_index("coin")
        delta_24h = hourly.summary.set_index("coin")["delta_24h_usd"] if hourly is not None else None
        ratio_30d = self._ratio_30d(daily)
        rows = []
        for coin, rec in summary.iterrows():
            note = ""
            if rec["unknown"]:
                note = daily.unknown_reasons.get(str(coin), "unknown")
            d24 = rec["delta_24h_usd"]
            if delta_24h is not None and coin in delta_24h.index:
                d24 = delta_24h[coin]
            share = _num(rec["share_of_basket"])
            rows.append(CvdRow(
                str(coin), _num(rec["cumulative_usd"]), _num(d24), _num(rec["delta_30d_usd"]),
                _num(ratio_30d.get(str(coin))), None if share is None else share * 100, note,
            ))  # fmt: skip
        for coin, error in errors.items():
            if coin not in summary.index:
                rows.append(CvdRow(coin, None, None, None, None, None, note=error))
        if self.coin_filter:
            rows = [r for r in rows if self.coin_filter in r.coin]
        cumulative = downsample(daily.cumulative, CHART_POINTS)
        return CvdView(
            status,
            since=since,
            basket_usd=_num(daily.total),
            basket_change_30d_usd=_num(daily.change(pd.Timedelta(days=30))),
            basket_ratio_30d=_num(ratio_30d.get("__basket__")),
            chart_x=epoch_seconds(cumulative.index),
            chart_y=tuple(cumulative.astype(float).tolist()),
            chart_key=self.state.version.get("cvd_daily", 0),
            rows=tuple(rows),
            excluded=tuple(daily.unknown_coins),
            provisional=daily.includes_provisional,
        )

    def _ratio_30d(self, daily: Any) -> dict[str, float]:
        """Buy/sell quote-volume ratio over the last 30 days per coin and for the basket (``__basket__``)."""
        return self.ratio_over(daily, pd.Timedelta(days=30))

    def ratio_over(self, daily: Any, window: pd.Timedelta) -> dict[str, float]:
        """Buy/sell quote-volume ratio over the last ``window`` of daily bars, per coin and ``__basket__``."""
        if daily.as_of is None:
            return {}
        # Memoised per CVD data version (the drivers and the CVD pane both ask, every few seconds).
        version = self.state.version.get("cvd_daily", 0)
        window = pd.Timedelta(window)
        of = self._ratio_cache.get("of")
        if of is None or of[0] != version or of[1] is not daily:
            self._ratio_cache = {"of": (version, daily)}  # new data: drop every window's ratios
        ratios = self._ratio_cache.get(window)
        if ratios is None:
            ratios = self._ratio_cache[window] = self._ratio_over(daily, window)
        return dict(ratios)

    def _ratio_over(self, daily: Any, window: pd.Timedelta) -> dict[str, float]:
        since = daily.as_of - window + pd.Timedelta(days=1)
        recent = {
            c: f.iloc[f.index.searchsorted(since, side="left") :]  # sorted index: same as f[f.index >= since]
            for c, f in self.state.alt_daily.items()
            if c not in daily.unknown_coins
        }
        if not recent:
            return {}
        window_basket = basket(recent, since)
        ratios = dict(zip(window_basket.summary["coin"], window_basket.summary["buy_sell_ratio"], strict=True))
        ratios["__basket__"] = window_basket.buy_sell_ratio
        return ratios

    # -- ETF, macro, drivers ----------------------------------------------------------------------------------
    def etf(self, now: float | None = None) -> Any:
        from tui.views.macro import etf_view

        now = time.time() if now is None else now
        return etf_view(self.state, self.pane_status("etf", now))

    def macro(self, now: float | None = None) -> Any:
        from tui.views.macro import macro_view

        now = time.time() if now is None else now
        return macro_view(self.state, self.metrics, self.health_map(), self.pane_status("macro", now))

    def evaluate_drivers(self) -> list[Any]:
        """Re-evaluate every rule; returns the drivers that flipped between active and clear."""
        # "Since" is on the market's clock: a replay's drivers flip at the replayed time, not today's.
        return self.drivers_book.evaluate(self.metrics, pd.Timestamp(self.runtime.now_ms(), unit="ms", tz="UTC"))

    def drivers(self, now: float | None = None) -> Any:
        now = time.time() if now is None else now
        unknown = sum(1 for s in self.drivers_book.states if s.state == "unknown")
        total = len(self.drivers_book.states)
        status = PaneStatus(unknown < total, "live" if not unknown else f"{unknown} of {total} unknown (data missing)")
        return self.drivers_book.view(status)

    # -- status bar -------------------------------------------------------------------------------------------
    def status(self, scheduler: Any, now: float | None = None) -> StatusView:
        now = time.time() if now is None else now
        self.scheduler = scheduler
        lines = tuple(
            SourceLine(feed.name, feed.provider, feed.health.status(now), feed.health.describe(now))
            for feed in scheduler.feeds.values()
        )
        for name, health in self.stream_health(now).items():
            state = {"live": "live", "silent": "suspect", "connecting": "retrying", "retrying": "retrying"}.get(
                health.state, "offline")  # fmt: skip
            lines += (SourceLine(f"liq_{name}", name, state, health.text),)
        market = ""
        if self.runtime.mode != "live":
            stamp = pd.Timestamp(self.runtime.now_ms(), unit="ms", tz="UTC")
            market = f"market time {stamp:%Y-%m-%d %H:%M} UTC"
        return StatusView(self.runtime.label, self.runtime.simulated, lines, scheduler.paused, market)
