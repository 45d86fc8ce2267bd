"""View-models and snapshot figures for the ETF/macro pane and the key-drivers checklist."""

from __future__ import annotations

import math
import time
from typing import Any

import pandas as pd

from analytics import etf as etf_an
from analytics.drivers import DriverState, evaluate, parse_rules, summary
from records.viewmodels import DriverRow, DriversView, EtfDay, EtfView, MacroItem, MacroView, PaneStatus
from widgets.format import money, pct

ETF_WINDOW_DAYS = 10


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _days(flows: Any, n: int) -> tuple[EtfDay, ...]:
    frame = flows.frame.tail(n)
    out = []
    for i, (label, total) in enumerate(frame["Total"].items()):
        partial = flows.partial_last and i == len(frame) - 1
        out.append(EtfDay(pd.Timestamp(label).strftime("%Y-%m-%d"), _num(total), partial))
    return tuple(out)


def etf_view(state: Any, status: PaneStatus) -> EtfView:
    flows = state.extra.get("etf_btc")
    if flows is None:
        return EtfView(status)
    frame = flows.frame
    completed = etf_an.completed_totals(frame, flows.partial_last)
    last_by_fund: tuple[tuple[str, float | None], ...] = ()
    if len(completed):
        row = frame.loc[completed.index[-1]]
        last_by_fund = tuple((str(f), _num(row[f])) for f in frame.columns if f != "Total")
    largest = etf_an.largest_outflow(frame, ETF_WINDOW_DAYS, flows.partial_last)
    eth = state.extra.get("etf_eth")
    eth_days = _days(eth, 1) if eth is not None and len(eth.frame) else ()
    return EtfView(
        status,
        asset="BTC",
        days=_days(flows, ETF_WINDOW_DAYS),
        last_by_fund=last_by_fund,
        streak_days=etf_an.current_streak(frame, flows.partial_last),
        largest_outflow=(str(largest.as_of), largest.value) if largest.as_of and largest.value < 0 else None,
        cumulative_usd=_num(completed.tail(ETF_WINDOW_DAYS).sum()) if len(completed) else None,
        window_days=ETF_WINDOW_DAYS,
        eth_last=eth_days[-1] if eth_days else None,
        eth_streak_days=etf_an.current_streak(eth.frame, eth.partial_last) if eth is not None else None,
    )


def _tone(value: float | None, bad_when: str) -> str:
    if value is None:
        return "dim"
    bad = value < 0 if bad_when == "negative" else value > 0
    return "red" if bad else "green"


def macro_view(state: Any, metrics: Any, healths: dict[str, Any], status: PaneStatus) -> MacroView:
    now = time.time()

    def fresh(feed: str) -> bool:
        health = healths.get(feed)
        return health is not None and health.is_fresh(now)

    items: list[MacroItem] = []
    glob = state.extra.get("global")
    if glob is not None:
        dom = metrics.lookup("btc_dominance_change", "30d")
        items.append(MacroItem(
            "BTC dominance", f"{glob.btc_dominance_pct:.1f}%",
            "" if dom.value is None else f"{dom.value:+.2f} pt 30d", _tone(dom.value, "positive"),
            fresh("cg_global"), dom.note if dom.value is None else "",
        ))  # fmt: skip
        items.append(MacroItem(
            "Alt mcap ex BTC/ETH", money(glob.alt_mcap_ex_btc_eth_usd), "", "dim", fresh("cg_global"),
        ))  # fmt: skip
        stable = metrics.lookup("stablecoin_share_change", "30d")
        items.append(MacroItem(
            "Stablecoin share", f"{glob.stablecoin_share_pct:.2f}%",
            "" if stable.value is None else f"{stable.value:+.2f} pt 30d", _tone(stable.value, "positive"),
            fresh("cg_global"), "" if glob.stablecoins_complete else "lower bound (not all in CoinGecko's top 10)",
        ))  # fmt: skip
    fng = state.extra.get("fear_greed")
    if fng is not None:
        value = _num(fng.latest_value)
        tone = "red" if value is not None and value <= 25 else "green" if value and value >= 75 else "yellow"
        items.append(MacroItem("Fear & Greed", f"{value:.0f}" if value is not None else "—",
                               str(fng.latest_classification), tone, fresh("fear_greed"),
                               f"as of {fng.as_of:%Y-%m-%d}"))  # fmt: skip
    spy = metrics.lookup("spy_change", "5d")
    bars = state.extra.get("spy")
    if bars is not None:
        last = bars.frame["close"].dropna()
        note = f"{bars.source}, as of {bars.as_of:%Y-%m-%d}" if bars.as_of is not None else ""
        change = pct(spy.value) + " 5d" if spy.value is not None else ""
        value = f"{last.iloc[-1]:.2f}" if len(last) else "—"
        label = "SPY"
        if bars.proxy_for:
            # The S&P 500 index standing in for SPY (same large caps): never shown under SPY's own name.
            label, note = "S&P 500 (SPY proxy)", f"{bars.symbol} index, {note}"
        items.append(MacroItem(label, value, change, _tone(spy.value, "negative"), fresh("equities"), note))
    us2y = metrics.lookup("us2y_change", "10d")
    series = state.extra.get("dgs2")
    if series is not None:
        note = f"FRED, as of {series.as_of:%Y-%m-%d}" if series.as_of is not None else ""
        change = "" if us2y.value is None else f"{us2y.value:+.2f} pt 10d"
        value = f"{series.latest:.2f}%"
        items.append(MacroItem("US 2y yield", value, change, _tone(us2y.value, "positive"), fresh("rates"), note))
    small = metrics.lookup("smallcap_vs_largecap", "30d")
    if state.extra.get("coin_markets") is not None:
        items.append(MacroItem("Small vs large caps", "—" if small.value is None else f"{small.value:+.1f} pp",
                               "30d", _tone(small.value, "negative"), fresh("cg_markets"), small.note))  # fmt: skip
    return MacroView(status, tuple(items))


class DriverBook:
    """Evaluates the configured rules and remembers each driver's previous state (for since/trend/flips)."""

    def __init__(self, raw_rules: list[dict[str, Any]], file: str) -> None:
        self.rules = parse_rules(raw_rules, file)
        self.previous: dict[str, DriverState] = {}
        self.states: list[DriverState] = []

    def evaluate(self, metrics: Any, now: pd.Timestamp | None = None) -> list[DriverState]:
        """Evaluate every rule; returns the drivers that flipped between active and clear.

        A driver leaving or entering "unknown" (data arriving at start-up, a feed going stale) is not a market
        event, so it is not announced.
        """
        now = pd.Timestamp.now(tz="UTC") if now is None else now
        self.states = evaluate(self.rules, metrics.lookup, self.previous, now)
        flips = [
            s for s in self.states
            if (prev := self.previous.get(s.id)) is not None and {prev.state, s.state} == {"active", "clear"}
        ]  # fmt: skip
        self.previous = {s.id: s for s in self.states}
        return flips

    def view(self, status: PaneStatus) -> DriversView:
        rows = []
        for s in sorted(self.states, key=lambda d: {"active": 0, "unknown": 1, "clear": 2}[d.state]):
            trend = {"up": "↑", "down": "↓", "flat": "→"}.get(s.trend or "", "")
            since = "" if s.since is None else f"{s.since:%m-%d %H:%M}"
            first = s.first_value
            # The table keeps the value short; why it is missing or stale goes under the table.
            note = first.note if first is not None and first.note and (first.value is None or first.stale) else ""
            rows.append(DriverRow(s.id, s.name, s.state, s.display_value, s.display_threshold, trend, since,
                                  s.meaning, s.detail, note, s.quality))  # fmt: skip
        return DriversView(status, summary(self.states), tuple(rows))


def snapshot_macro(state: Any, metrics: Any, book: DriverBook) -> dict[str, Any]:
    """The ``etf``, ``macro`` and ``drivers`` sections of the snapshot JSON."""
    out: dict[str, Any] = {}
    flows = state.extra.get("etf_btc")
    etf: dict[str, Any] = {"last_day": None, "net_flow_usd": None, "by_fund": {}, "streak_days": None,
                           "partial_today": None}  # fmt: skip
    if flows is not None and len(flows.frame):
        completed = etf_an.completed_totals(flows.frame, flows.partial_last)
        if len(completed):
            last = completed.index[-1]
            row = flows.frame.loc[last]
            etf["last_day"] = pd.Timestamp(last).strftime("%Y-%m-%d")
            etf["net_flow_usd"] = _num(completed.iloc[-1])
            etf["by_fund"] = {str(f): _num(row[f]) for f in flows.frame.columns if f != "Total"}
        etf["streak_days"] = etf_an.current_streak(flows.frame, flows.partial_last)
        etf["partial_today"] = bool(flows.partial_last)
    out["etf"] = etf
    fng = state.extra.get("fear_greed")
    glob = state.extra.get("global")

    def metric(name: str, window: str | None) -> float | None:
        value = metrics.lookup(name, window)
        return None if value is None else value.value

    spy = metric("spy_change", "5d")
    bars = state.extra.get("spy")
    out["macro"] = {
        "fear_greed": _num(fng.latest_value) if fng is not None else None,
        "fear_greed_class": str(fng.latest_classification) if fng is not None else None,
        "btc_dominance_pct": _num(glob.btc_dominance_pct) if glob is not None else None,
        "btc_dominance_change_30d": metric("btc_dominance_change", "30d"),
        "stablecoin_share_pct": _num(glob.stablecoin_share_pct) if glob is not None else None,
        "alt_mcap_ex_eth_usd": _num(glob.alt_mcap_ex_btc_eth_usd) if glob is not None else None,
        "spy_5d_pct": spy,
        "spy_source": None if bars is None else (f"{bars.symbol} (proxy for SPY)" if bars.proxy_for else bars.symbol),
        "us2y": _num(state.extra["dgs2"].latest) if state.extra.get("dgs2") is not None else None,
        "us2y_change_10d": metric("us2y_change", "10d"),
        "smallcap_vs_largecap_30d_pct": metric("smallcap_vs_largecap", "30d"),
    }
    out["drivers"] = [
        {
            "id": s.id,
            "name": s.name,
            "state": s.state,
            "value": None if s.first_value is None else _num(s.first_value.value),
            "threshold": s.values[0].condition.threshold if s.values else None,
            "since": None if s.since is None else s.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "detail": s.detail,
            "quality": s.quality or None,
        }
        for s in book.states
    ]
    out["drivers_summary"] = summary(book.states)
    return out


__all__ = ["DriverBook", "etf_view", "macro_view", "snapshot_macro"]
