"""The macro block's view-model and snapshot section: BTC dominance, stablecoin share, Fear & Greed, SPY, the US
2-year yield, and small versus large caps.

Changes come from the driver metrics (:mod:`tui.views.metrics`), so the pane and the checklist show one figure.
A figure whose feed is stale is marked so (``fresh`` False), never shown as current.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from records.viewmodels import MacroItem, MacroView, PaneStatus
from tui.views.common import num
from widgets.format import money, pct

if TYPE_CHECKING:
    from tui.runtime.health import FeedHealth
    from tui.runtime.state import MarketState
    from tui.views.metrics import Metrics


def _tone(value: float | None, bad_when: str) -> str:
    if value is None:
        return "dim"
    bad = value < 0 if bad_when == "negative" else value > 0
    return "red" if bad else "green"


def _estimated(quality: str) -> str:
    """The short note of a change estimated until the kept /global snapshots span its window (else "")."""
    return "estimated until 30 days of snapshots" if quality.startswith("estimated") else ""


def macro_view(state: MarketState, metrics: Metrics, healths: dict[str, FeedHealth], status: PaneStatus) -> MacroView:
    now = time.time()

    def fresh(feed: str) -> bool:
        health = healths.get(feed)
        return health is not None and health.is_fresh(now)

    items: list[MacroItem] = []
    glob = state.global_market
    if glob is not None:
        dom = metrics.get("btc_dominance_change", "30d")
        items.append(MacroItem(
            "BTC dominance", f"{glob.btc_dominance_pct:.1f}%",
            "" if dom.value is None else f"{dom.value:+.2f} pt 30d", _tone(dom.value, "positive"),
            fresh("cg_global"), dom.note if dom.value is None else _estimated(dom.quality),
        ))  # fmt: skip
        items.append(MacroItem(
            "Alt mcap ex BTC/ETH", money(glob.alt_mcap_ex_btc_eth_usd), "", "dim", fresh("cg_global"),
        ))  # fmt: skip
        stable = metrics.get("stablecoin_share_change", "30d")
        notes = ["" if glob.stablecoins_complete else "lower bound (not all in CoinGecko's top 10)",
                 "" if stable.value is None else _estimated(stable.quality)]  # fmt: skip
        items.append(MacroItem(
            "Stablecoin share", f"{glob.stablecoin_share_pct:.2f}%",
            "" if stable.value is None else f"{stable.value:+.2f} pt 30d", _tone(stable.value, "positive"),
            fresh("cg_global"), "; ".join(n for n in notes if n),
        ))  # fmt: skip
    fng = state.fear_greed
    if fng is not None:
        index = num(fng.latest_value)
        tone = "red" if index is not None and index <= 25 else "green" if index and index >= 75 else "yellow"
        items.append(MacroItem("Fear & Greed", f"{index:.0f}" if index is not None else "—",
                               str(fng.latest_classification), tone, fresh("fear_greed"),
                               f"as of {fng.as_of:%Y-%m-%d}"))  # fmt: skip
    spy = metrics.get("spy_change", "5d")
    bars = state.spy
    if bars is not None:
        last = bars.frame["close"].dropna()
        note = f"{bars.source}, as of {bars.as_of:%Y-%m-%d}" if bars.as_of is not None else ""
        change = pct(spy.value) + " 5d" if spy.value is not None else ""
        shown = f"{last.iloc[-1]:.2f}" if len(last) else "—"
        label = "SPY"
        if bars.proxy_for:
            # The S&P 500 index standing in for SPY (same large caps): never shown under SPY's own name.
            label, note = "S&P 500 (SPY proxy)", f"{bars.symbol} index, {note}"
        items.append(MacroItem(label, shown, change, _tone(spy.value, "negative"), fresh("equities"), note))
    us2y = metrics.get("us2y_change", "10d")
    series = state.us2y
    if series is not None:
        note = f"FRED, as of {series.as_of:%Y-%m-%d}" if series.as_of is not None else ""
        change = "" if us2y.value is None else f"{us2y.value:+.2f} pt 10d"
        items.append(MacroItem("US 2y yield", f"{series.latest:.2f}%", change, _tone(us2y.value, "positive"),
                               fresh("rates"), note))  # fmt: skip
    small = metrics.get("smallcap_vs_largecap", "30d")
    if state.coin_markets is not None:
        items.append(MacroItem("Small vs large caps", "—" if small.value is None else f"{small.value:+.1f} pp",
                               "30d", _tone(small.value, "negative"), fresh("cg_markets"), small.note))  # fmt: skip
    return MacroView(status, tuple(items))


def snapshot_macro(state: MarketState, metrics: Metrics) -> dict[str, Any]:
    """The ``macro`` section of the snapshot JSON."""
    fng = state.fear_greed
    glob = state.global_market

    def metric(name: str, window: str | None) -> float | None:
        value = metrics.lookup(name, window)
        return None if value is None else value.value

    bars = state.spy
    return {
        "fear_greed": num(fng.latest_value) if fng is not None else None,
        "fear_greed_class": str(fng.latest_classification) if fng is not None else None,
        "btc_dominance_pct": num(glob.btc_dominance_pct) if glob is not None else None,
        "btc_dominance_change_30d": metric("btc_dominance_change", "30d"),
        "stablecoin_share_pct": num(glob.stablecoin_share_pct) if glob is not None else None,
        "alt_mcap_ex_eth_usd": num(glob.alt_mcap_ex_btc_eth_usd) if glob is not None else None,
        "spy_5d_pct": metric("spy_change", "5d"),
        "spy_source": None if bars is None else (f"{bars.symbol} (proxy for SPY)" if bars.proxy_for else bars.symbol),
        "us2y": num(state.us2y.latest) if state.us2y is not None else None,
        "us2y_change_10d": metric("us2y_change", "10d"),
        "smallcap_vs_largecap_30d_pct": metric("smallcap_vs_largecap", "30d"),
    }
