"""Positioning feeds: the latest long/short ratios of BTC and the basket, who is long by account and by size.

Two feeds, one per venue, so a venue that fails or lags is marked on its own:

* ``long_short_binance``: per coin ``/futures/data/globalLongShortAccountRatio`` (every account) and
  ``/futures/data/topLongShortPositionRatio`` (the top traders' positions), the latest 5-minute period each;
* ``long_short_bybit``: per coin ``/v5/market/account-ratio`` (every account), the latest 5-minute period.

Budget, every :data:`CADENCE_S` (5 minutes, the period the venues publish on): Binance ``2 x (1 + basket)``
requests, weight 0, in its ``/futures/data`` limit of 1000 requests / 5 min / IP (:mod:`sources.http`'s ``data``
group keeps 800 of them, shared with OI history's ``1 + basket`` every 5 minutes): with the default 20-coin basket 42
(+21) of 1000. Bybit ``1 + basket`` requests (21) against its 600 requests / 5 s per IP. At most
:data:`CONCURRENCY` requests are in flight per venue. A coin the venue does not list (absent from its perpetual
listing once known, an "invalid symbol" answer, or an empty list: replayed history has no such statistics) is
unknown, not an error: the feed fails only when a request fails for another reason.

What the ratios mean: :class:`records.derivs.LongShortRatio`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sources.errors import SourceError
from tui.runtime.config import Config
from tui.runtime.modes import Runtime
from tui.runtime.scheduler import Delivered, Feed
from tui.runtime.state import MarketState

if TYPE_CHECKING:
    from records.derivs import LongShortRatio

#: Seconds between polls: the venues publish a ratio every 5 minutes.
CADENCE_S = 300.0
BINANCE_PERIOD = "5m"
BYBIT_PERIOD = "5min"
#: The newest ratio may be this old on the market clock before it is stale (six 5-minute periods: the venues
#: publish a period a few minutes after it, Bybit later still "during periods of extreme market volatility").
MAX_DATA_AGE_S = 1800.0
#: Every ratio of every coin identical for this long: the venue (or a cache in front of it) serves frozen data.
FROZEN_AFTER_S = 2 * 3600.0
CONCURRENCY = 4
#: venue -> the ratios its feed fetches per coin.
VENUE_KINDS: dict[str, tuple[str, ...]] = {"binance": ("accounts", "top_positions"), "bybit": ("accounts",)}


def feed_name(venue: str) -> str:
    return f"long_short_{venue}"


def unknown_symbol(exc: SourceError) -> bool:
    """The venue does not list the coin (Binance ``-1121 Invalid symbol.``, Bybit ``10001`` "symbol invalid" or
    "Symbol Is Invalid"): the coin's ratios are unknown, the feed carries on."""
    detail = exc.detail.lower()
    return any(text in detail for text in ("invalid symbol", "symbol invalid", "symbol is invalid", "not exist"))


def build_positioning_feeds(config: Config, runtime: Runtime, state: MarketState) -> list[Feed]:
    from sources.binance_futures import BinanceFutures
    from sources.bybit import Bybit
    from sources.symbols import venue_symbol

    src = config.sources
    binance = BinanceFutures(runtime.http, src.binance_futures, wall=lambda: runtime.now_ms() / 1000)
    bybit = Bybit(runtime.http, src.bybit)
    coins = ["BTC", *[c for c in config.general.coins if c != "BTC"]]
    fetchers: dict[str, Callable[[str, str], Awaitable[list[LongShortRatio]]]] = {
        "binance": lambda symbol, kind: binance.long_short_ratio(symbol, kind, BINANCE_PERIOD, limit=1),
        "bybit": lambda symbol, kind: bybit.account_ratio(symbol, BYBIT_PERIOD, limit=1),
    }

    def venue_feed(venue: str) -> Feed:
        fetch = fetchers[venue]

        async def run() -> Delivered:
            gate = asyncio.Semaphore(CONCURRENCY)
            listed = state.perp_universe.get(venue)

            async def one(coin: str, kind: str) -> LongShortRatio | None:
                symbol, _ = venue_symbol(venue, coin)
                if listed is not None and symbol not in listed:
                    return None  # not a perpetual there: nothing to ask
                async with gate:
                    try:
                        found = await fetch(symbol, kind)
                    except SourceError as exc:
                        if unknown_symbol(exc):
                            return None
                        raise
                return found[-1] if found else None

            jobs = [one(coin, kind) for coin in coins for kind in VENUE_KINDS[venue]]
            records = tuple(r for r in await asyncio.gather(*jobs) if r is not None)
            state.long_short[venue] = records
            times = [r.time.value // 1_000_000 for r in records]
            fingerprint = tuple(sorted((r.coin, r.kind, r.ratio) for r in records)) or None
            return Delivered(max(times) if times else None, fingerprint)

        return Feed(feed_name(venue), venue, CADENCE_S, run, max_data_age=MAX_DATA_AGE_S, frozen_after=FROZEN_AFTER_S)

    return [venue_feed(venue) for venue in VENUE_KINDS]
