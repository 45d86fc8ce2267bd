"""The one table of what stands behind each figure: every pane's view-model with its feeds, and every driver
metric with the feeds it rests on.

The app repaints a pane when one of its feeds delivered (or its health text changed); a pane's status is "live"
when its primary feed is fresh; a metric is stale when none of its feeds is; the coin screen rebuilds when a feed
behind one of its sections moved. All of them read these tables, so a new feed is wired in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from records.derivs import EXCHANGES
from tui.runtime.feeds_positioning import VENUE_KINDS, feed_name
from tui.runtime.feeds_venue_funding import VENUE_FUNDING_FEEDS
from tui.runtime.feeds_watched import WATCHED_FEEDS
from tui.runtime.state import TAPE

#: The perp venues of the funding heatmap, in column order.
VENUES: tuple[str, ...] = EXCHANGES
#: The funding pane's per-venue rate snapshots; the pane is live when one of them is.
FUNDING_VENUE_FEEDS: tuple[str, ...] = tuple(f"funding_{venue}" for venue in VENUES)
#: The long/short ratio feeds (Binance first: it decides the long/short view's "live").
LONG_SHORT_FEEDS: tuple[str, ...] = tuple(feed_name(venue) for venue in VENUE_KINDS)


@dataclass(frozen=True)
class PaneSpec:
    """One view-model the dashboard shows.

    ``key``: the view-model's name (``ViewBuilder.build(key)``); ``pane``: the dashboard pane that draws it (the
    ETF pane draws two); ``slot``: the pane's reactive it goes into. ``feeds``: the data behind it, the first
    deciding "live" (any venue snapshot for funding). ``min_interval`` / ``max_interval`` (seconds): repaint at most /
    at least this often; ``watch_status``: repaint when the feeds' health text changes even without new data.
    """

    key: str
    pane: str
    feeds: tuple[str, ...]
    slot: str = "view"
    min_interval: float = 0.0
    max_interval: float | None = None
    watch_status: bool = True


#: Which feeds a driver metric rests on; the metric is stale when none of them is fresh.
METRIC_FEEDS: dict[str, tuple[str, ...]] = {
    "etf_net_flow_sum": ("etf_btc",),
    "etf_outflow_streak": ("etf_btc",),
    "etf_min_daily_flow": ("etf_btc",),
    "basket_cvd_change": ("cvd_daily",),
    "basket_buy_sell_ratio": ("cvd_daily",),
    "funding_median_8h": FUNDING_VENUE_FEEDS,
    "funding_share_above_baseline": FUNDING_VENUE_FEEDS,
    "long_liq_vs_median": ("btc_intraday",),
    "btc_change": ("btc_intraday",),
    "oi_change": ("oi_history",),
    "smallcap_vs_largecap": ("cg_markets",),
    # Measured on the kept /global snapshots, estimated from /coins/markets (and DefiLlama) until those span 30 days.
    "btc_dominance_change": ("cg_global", "cg_markets"),
    "stablecoin_share_change": ("cg_global", "cg_markets", "llama_stablecoins"),
    "fear_greed": ("fear_greed",),
    "spy_change": ("equities",),
    "us2y_change": ("rates",),
}


def _metric_feeds() -> tuple[str, ...]:
    return tuple(dict.fromkeys(feed for feeds in METRIC_FEEDS.values() for feed in feeds))


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("btc", "btc", ("btc_ticker", "btc_intraday", "btc_ath")),
    PaneSpec("cvd", "cvd", ("cvd_daily", "cvd_hourly", "cvd_perp_daily", "cvd_market")),
    PaneSpec("funding", "funding", (*FUNDING_VENUE_FEEDS, "oi_binance", "oi_history", "funding_history")),
    # The funding pane's third view (``v``): long/short ratios per basket coin.
    PaneSpec("long_short", "funding", LONG_SHORT_FEEDS, slot="long_short"),
    # A new liquidation shifts every tape row (the whole table goes down the link again), so a burst is shown every
    # few seconds, not on each record; the windows and the meter slide on their own, so it repaints every 5 s.
    PaneSpec("liquidations", "liquidations", ("liq_okx_rest", TAPE), min_interval=3.0, max_interval=5.0,
             watch_status=False),
    PaneSpec("etf", "etf", ("etf_btc", "etf_eth")),
    PaneSpec("macro", "etf", ("fear_greed", "cg_global", "cg_markets", "equities", "rates", "llama_stablecoins"),
             slot="macro"),
    # The checklist re-evaluates when a feed a rule reads delivered (not on the 2-second ticker: the cascade rule
    # scans the whole liquidation tape), and every 10 s for the tape's news and the clock-bound rules.
    PaneSpec("drivers", "drivers", _metric_feeds(), max_interval=10.0, watch_status=False),
)
PANE_BY_KEY: dict[str, PaneSpec] = {spec.key: spec for spec in PANES}
#: Which feeds stand behind each pane; the first is the one whose freshness decides "live".
PANE_FEEDS: dict[str, tuple[str, ...]] = {spec.key: spec.feeds for spec in PANES}


def due_panes(
    dirty: Collection[str], painted: Mapping[str, float], now: float, status_changed: Callable[[str, float], bool]
) -> tuple[list[PaneSpec], set[str]]:
    """The view-models one tick rebuilds, and the news it keeps for a later tick.

    A view-model is due when one of its feeds is in ``dirty`` (delivered since the last tick) or its status text
    changed (``status_changed(key, now)``, asked only without news), unless it was painted less than
    ``min_interval`` ago (then its news waits: a burst repaints once), and whatever happened when it was painted
    ``max_interval`` ago or more. ``painted``: key -> when it was last rebuilt (absent: never)."""
    due, later = [], set()
    for spec in PANES:
        since = now - painted.get(spec.key, 0.0)
        news = set(spec.feeds).intersection(dirty)
        wanted = bool(news) or status_changed(spec.key, now)
        if wanted and since < spec.min_interval:
            later |= news
            wanted = False
        if spec.max_interval is not None and since >= spec.max_interval:
            wanted = True
        if wanted:
            due.append(spec)
    return due, later


def coin_feeds(coin: str) -> tuple[str, ...]:
    """The data versions a coin's detail view depends on (the coin screen rebuilds only when one of them moves)."""
    spot = PANE_FEEDS["btc"] if coin == "BTC" else ()
    return (*spot, *PANE_FEEDS["cvd"], *FUNDING_VENUE_FEEDS, "oi_binance", "oi_history", "funding_history",
            *LONG_SHORT_FEEDS, *WATCHED_FEEDS, *VENUE_FUNDING_FEEDS, TAPE)  # fmt: skip
