"""Settled funding of the coin on the detail screen on every venue beyond Bybit: the coin detail's funding chart.

The console keeps settled funding history from Bybit only (``funding_history`` for the basket, ``watched_bybit``
for a coin in view outside it): one request per coin per venue, too many to make for the whole basket on four
venues. The coin detail's "funding per venue" chart wants the other venues too, for one coin: so while a coin's
detail is up (``state.coin_in_view``, set by :func:`view_coin`), one feed per provider fetches that coin's settled
funding over the heatmap's history periods (``funding.history_periods`` x 8 h):

* ``venue_funding_binance``: ``/fapi/v1/fundingRate`` (one page; the ``funding`` group's 500 requests / 5 min / IP);
* ``venue_funding_okx``: ``/api/v5/public/funding-rate-history`` (one page of up to 400, 10 requests / 2 s / IP);
* ``venue_funding_hyperliquid``: ``fundingHistory`` (hourly settlements, one page of 500; weight 20 + 25 of the
  1,200 a minute per IP).

Each runs every 15 minutes and at once when a coin comes into view, asks only a venue whose bulk snapshot lists the
coin (none asked for a coin it does not list), and is idle (no request) while no detail is up. So a coin in view
costs 3 requests per 15 minutes. What they fetch goes to ``state.venue_funding`` (venue -> coin -> frame), never
into the basket's fields (no heatmap, median or driver reads it); bounded to :data:`MAX_WATCHED` coins a venue, the
least recently fetched going first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sources.errors import SourceError
from tui.runtime.config import Config
from tui.runtime.feeds_positioning import unknown_symbol
from tui.runtime.modes import Runtime
from tui.runtime.scheduler import Delivered, Feed, Scheduler
from tui.runtime.state import MAX_WATCHED, MarketState

if TYPE_CHECKING:
    import pandas as pd

#: The venues fetched here (Bybit's settled funding comes from the basket's and the watched feeds).
VENUE_FUNDING_VENUES: tuple[str, ...] = ("binance", "okx", "hyperliquid")
VENUE_FUNDING_FEEDS: tuple[str, ...] = tuple(f"venue_funding_{v}" for v in VENUE_FUNDING_VENUES)
CADENCE_S = 900.0
EIGHT_HOURS_MS = 8 * 3_600_000


def view_coin(state: MarketState, scheduler: Scheduler | None, coin: str | None) -> bool:
    """``coin`` is on the detail screen now (None: no detail is up). A new coin wakes the feeds; True when asked."""
    if state.coin_in_view == coin:
        return False
    state.coin_in_view = coin
    return coin is not None and scheduler is not None and bool(scheduler.run_now(list(VENUE_FUNDING_FEEDS)))


def _listed(state: MarketState, venue: str, coin: str) -> bool:
    """The venue's latest bulk snapshot quotes the coin (no snapshot yet: not asked, it would only guess)."""
    snap = state.derivs.get(venue)
    return snap is not None and any(q.coin == coin for q in snap.funding)


def build_venue_funding_feeds(config: Config, runtime: Runtime, state: MarketState) -> list[Feed]:
    from sources.binance_futures import BinanceFutures
    from sources.hyperliquid import Hyperliquid
    from sources.okx import Okx
    from sources.symbols import venue_symbol

    src = config.sources
    periods = config.funding.history_periods
    binance = BinanceFutures(runtime.http, src.binance_futures, wall=lambda: runtime.now_ms() / 1000)
    okx = Okx(runtime.http, src.okx)
    hyperliquid = Hyperliquid(runtime.http, src.hyperliquid)
    # One page each: the heatmap's periods are 12 x 8 h (96 hourly rows on Hyperliquid), well inside a page.
    fetchers: dict[str, Callable[[str, int, int], Awaitable[pd.DataFrame]]] = {
        "binance": lambda symbol, start, end: binance.funding_history(symbol, start, end, max_pages=1),
        "okx": lambda symbol, start, end: okx.funding_history(symbol, start, end, max_pages=1),
        "hyperliquid": lambda symbol, start, end: hyperliquid.funding_history(symbol, start, end, max_pages=1),
    }

    def feed(venue: str) -> Feed:
        fetch = fetchers[venue]
        held = state.venue_funding.setdefault(venue, {})

        async def run() -> Delivered:
            coin = state.coin_in_view
            if coin is None or not _listed(state, venue, coin):
                return Delivered(None)  # idle: no detail up, or the venue does not list the coin
            now = runtime.now_ms()
            symbol, _ = venue_symbol(venue, coin)
            try:
                frame: Any = await fetch(symbol, now - (periods + 1) * EIGHT_HOURS_MS, now)
            except SourceError as exc:
                if not unknown_symbol(exc):
                    raise
                frame = None
            held.pop(coin, None)  # re-inserted last: the dict's order is the eviction order
            if frame is not None and len(frame):
                held[coin] = frame
            while len(held) > MAX_WATCHED:
                held.pop(next(iter(held)))
            return Delivered(None if frame is None or not len(frame) else
                             float(frame["time"].max().value // 1_000_000))  # fmt: skip

        # Settlements come every 8 h (1 h on Hyperliquid): a day without one means the history stopped.
        return Feed(f"venue_funding_{venue}", venue, CADENCE_S, run, max_data_age=86400.0)

    return [feed(v) for v in VENUE_FUNDING_VENUES]
