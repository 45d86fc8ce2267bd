"""What each feed fetches and where it puts it. One function per feed; the scheduler decides when.

Every feed makes one bulk call per provider where the provider offers one. Per-coin feeds fetch coins a few at a
time and record a coin that fails (e.g. an unknown symbol) in ``state.coin_errors`` instead of failing the whole
basket; the feed fails only when every coin fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sources.errors import SourceError
from tui.runtime.config import Config
from tui.runtime.modes import Runtime
from tui.runtime.scheduler import Delivered, Feed
from tui.runtime.state import INTRADAY_KEEP_MS, MarketState

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
BTC_LISTING_MS = 1_501_545_600_000  # 2017-08-01: BTCUSDT's first month on Binance
#: The market CVD's pair listing is fetched again after this long (market clock): Binance lists a few pairs a week.
LISTING_EVERY_MS = 6 * HOUR_MS
#: Kline requests of the market CVD in flight at once: ~450 pairs at start-up go out a few at a time, so the other
#: feeds keep their turn on the connection pool and the event loop parses one page at a time.
MARKET_CONCURRENCY = 6


def _ms(date: Any) -> int:
    import pandas as pd

    return int(pd.Timestamp(date).tz_localize("UTC").value // 1_000_000)


async def _per_coin(
    coins: list[str], fetch: Callable[[str], Awaitable[Any]], state: MarketState, concurrency: int = 4,
    errors_to: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``fetch`` per coin with bounded concurrency; failures go to ``errors_to`` (``state.coin_errors``, the
    basket's, unless given)."""
    target = state.coin_errors if errors_to is None else errors_to
    gate = asyncio.Semaphore(concurrency)
    results: dict[str, Any] = {}
    errors: dict[str, SourceError] = {}

    async def one(coin: str) -> None:
        async with gate:
            try:
                results[coin] = await fetch(coin)
            except SourceError as exc:
                errors[coin] = exc

    await asyncio.gather(*(one(c) for c in coins))
    for coin in results:
        target.pop(coin, None)
    for coin, exc in errors.items():
        target[coin] = exc.detail if exc.status is None else f"HTTP {exc.status}: {exc.detail}"
    if coins and not results:
        raise next(iter(errors.values()))
    return results


def last_closed_ms(frame: Any) -> float | None:
    """Close time (epoch ms) of the newest *finished* bar of a kline frame: how old its data really is (the
    running bar's volumes are still growing, and in replayed history only its open is known)."""
    if frame is None or not len(frame):
        return None
    closed = frame[~frame["provisional"]] if "provisional" in frame.columns else frame
    if not len(closed):
        return None
    return float(closed["close_time"].iloc[-1].value // 1_000_000 + 1)


def newest_closed_ms(frames: dict[str, Any]) -> float | None:
    times = [t for f in frames.values() if (t := last_closed_ms(f)) is not None]
    return max(times) if times else None


def build_feeds(config: Config, runtime: Runtime, state: MarketState) -> list[Feed]:
    """Every polled feed: BTC and CVD here, derivatives in :mod:`tui.runtime.feeds_derivs` (long/short positioning
    in :mod:`tui.runtime.feeds_positioning`), ETF and macro in :mod:`tui.runtime.feeds_macro`, coins in view outside
    the basket in :mod:`tui.runtime.feeds_watched`. Each one's figures read stale after ``general.stale_factor`` x
    its cadence (min 30 s), set here once for all of them rather than in every builder."""
    from sources.binance_spot import BinanceSpot

    spot = BinanceSpot(runtime.http, config.sources.binance_spot)
    quote = config.general.quote
    cadence = config.cadence
    coins = [c for c in config.general.coins if c != "BTC"]
    basket = frozenset(coins)
    start_ms = _ms(config.cvd.start)
    hourly_days = config.cvd.hourly_days

    async def btc_ticker() -> Delivered:
        tickers = await spot.ticker_24hr([f"BTC{quote}"])
        ticker = tickers[f"BTC{quote}"]
        state.btc_ticker = ticker
        # closeTime is when the last price is from; the price and volume together must move as trading goes on.
        return Delivered(ticker.close_time.value // 1_000_000, (ticker.last, ticker.quote_volume))

    async def btc_intraday() -> Delivered:
        now = runtime.now_ms()
        # 5-minute bars for the last ~26 h; a history without them (a replay of coarser files) falls back.
        for interval, minutes in (("5m", 5), ("15m", 15), ("1h", 60)):
            frame = await spot.klines(
                f"BTC{quote}", interval, limit=int(INTRADAY_KEEP_MS / (minutes * 60_000)), now_ms=now
            )
            if len(frame) >= 2 and frame.index[-1].value // 1_000_000 >= now - 3 * minutes * 60_000:
                break
        if not len(frame):
            # Binance always has recent bars; none at all (a replay without fine BTC spot files) is no data.
            raise SourceError("binance", "/api/v3/klines", f"no intraday bars for BTC{quote} (5m, 15m or 1h)")
        state.btc_intraday = frame
        return Delivered(last_closed_ms(frame))

    async def btc_ath() -> None:
        now = runtime.now_ms()
        state.btc_monthly = await spot.klines(f"BTC{quote}", "1M", start_ms=BTC_LISTING_MS, now_ms=now)

    async def cvd_daily() -> Delivered:
        now = runtime.now_ms()

        async def fetch(coin: str) -> Any:
            return await spot.klines(f"{coin}{quote}", "1d", start_ms=start_ms, now_ms=now)

        state.alt_daily.update(await _per_coin(coins, fetch, state))
        return Delivered(newest_closed_ms(state.alt_daily))

    async def cvd_market() -> Delivered:
        """Every Binance spot altcoin pair in the quote (:mod:`analytics.market_cvd`), daily since cvd.start.

        Start-up: the listing (``exchangeInfo``, weight 20) and one kline page per pair (weight 2; a page holds 1,000
        days, so a start within 1,000 days is one request). After that only the open day: ``limit=2`` per pair
        (yesterday's final bar and today's), or as many bars as days went by since the frame's last one. The
        ticker endpoints carry no taker split, so klines it is. The listing is read again every 6 hours. The basket's
        pairs are not fetched twice: ``cvd_daily`` has them (the market figure reads ``alt_daily`` for them), so
        every pair's bars come from one feed and are recorded once."""
        import pandas as pd

        from analytics.market_cvd import select_pairs
        from sources.binance_spot import MAX_LIMIT

        now = runtime.now_ms()
        pairs = state.spot_pairs
        if pairs is None or pairs.quote != quote or not 0 <= now - pairs.as_of_ms < LISTING_EVERY_MS:
            listing = await spot.exchange_info()
            pairs = select_pairs(listing.symbols, quote, exclude=config.cvd.market_exclude,
                                 patterns=config.cvd.market_exclude_patterns, as_of_ms=now)  # fmt: skip
            if not pairs.symbols:
                raise SourceError("binance", "/api/v3/exchangeInfo", f"no trading {quote} altcoin pair listed")
            state.spot_pairs = pairs
        symbols = {b: s for b, s in pairs.symbols.items() if b not in basket}
        old_frames = state.market_daily

        async def fetch(base: str) -> Any:
            old = old_frames.get(base)
            if old is None or old.empty:
                return await spot.klines(symbols[base], "1d", start_ms=start_ms, now_ms=now)
            last = int(old.index[-1].value // 1_000_000)
            bars = (now // DAY_MS - last // DAY_MS) + 1  # the frame's last bar up to the open day
            if bars > MAX_LIMIT:
                return await spot.klines(symbols[base], "1d", start_ms=start_ms, now_ms=now)
            fresh = await spot.klines(symbols[base], "1d", limit=max(2, bars), now_ms=now)
            if fresh.empty:
                return old
            return pd.concat([old[old.index < fresh.index[0]], fresh])

        errors = dict(state.market_errors)
        results = await _per_coin(list(symbols), fetch, state, MARKET_CONCURRENCY, errors_to=errors)
        # A pair whose refresh failed keeps its frame (the analytics call it stale once the market's day moves on);
        # a pair no longer listed goes, with its error.
        frames = {b: f for b in symbols if (f := results.get(b, old_frames.get(b))) is not None and len(f)}
        state.market_daily = frames
        state.market_errors = {b: e for b, e in errors.items() if b in symbols}
        return Delivered(newest_closed_ms({**{b: f for b, f in state.alt_daily.items() if b in pairs.symbols},
                                           **frames}))  # fmt: skip

    from sources.binance_futures import BinanceFutures

    futures = BinanceFutures(runtime.http, config.sources.binance_futures, wall=lambda: runtime.now_ms() / 1000)

    async def cvd_perp_daily() -> Delivered:
        """The basket's perpetuals on Binance USD-M, daily since cvd.start: perp CVD beside spot CVD. A coin without
        a perp (or a replay without perp files) is left out, never counted as zero."""
        now = runtime.now_ms()
        gate = asyncio.Semaphore(4)

        async def one(coin: str) -> tuple[str, Any]:
            async with gate:
                try:
                    return coin, await futures.klines(f"{coin}{quote}", "1d", start_ms=start_ms, now_ms=now)
                except SourceError as exc:
                    if "invalid symbol" in exc.detail.lower():
                        return coin, None
                    raise

        found = {c: f for c, f in await asyncio.gather(*(one(c) for c in coins)) if f is not None and len(f)}
        if coins and not found:
            hint = " (the replay's files have no USD-M klines)" if runtime.mode == "replay" else ""
            raise SourceError("binance", "/fapi/v1/klines", f"no perpetual klines for any basket coin{hint}")
        state.perp_daily = found
        return Delivered(newest_closed_ms(found))

    async def cvd_hourly() -> Delivered:
        import pandas as pd

        now = runtime.now_ms()
        window_start = max(start_ms, now - hourly_days * DAY_MS)

        async def fetch(coin: str) -> Any:
            old = state.alt_hourly.get(coin)
            # A frame restored from the recorder after a long absence ends before the window: fetch it whole (one
            # page from its old end would stop short of now).
            if old is None or old.empty or old.index[-1].value // 1_000_000 < window_start:
                return await spot.klines(f"{coin}{quote}", "1h", start_ms=window_start, now_ms=now)
            # Incremental: re-fetch from the first provisional (or the last) bar onwards.
            provisional = old[old["provisional"]]
            since = provisional.index[0] if len(provisional) else old.index[-1]
            fresh = await spot.klines(f"{coin}{quote}", "1h", start_ms=int(since.value // 1_000_000), now_ms=now)
            merged = pd.concat([old[old.index < since], fresh])
            return merged[merged.index >= pd.Timestamp(window_start, unit="ms", tz="UTC")]

        state.alt_hourly.update(await _per_coin(coins, fetch, state))
        return Delivered(newest_closed_ms(state.alt_hourly))

    from tui.runtime.feeds_derivs import build_derivs_feeds
    from tui.runtime.feeds_macro import build_macro_feeds
    from tui.runtime.feeds_positioning import build_positioning_feeds
    from tui.runtime.feeds_venue_funding import build_venue_funding_feeds
    from tui.runtime.feeds_watched import build_watched_feeds

    feeds = [
        # A BTC price older than 5 minutes is not "the price"; one that has not moved for an hour is suspect.
        Feed("btc_ticker", "binance", cadence.btc_ticker, btc_ticker, max_data_age=300.0, frozen_after=3600.0),
        # The chart and the 1 h change: the newest finished bar may be at most ~2 bars old (1 h bars in a replay).
        Feed("btc_intraday", "binance", cadence.btc_intraday, btc_intraday, max_data_age=2 * 3600.0),
        Feed("btc_ath", "binance", cadence.btc_ath, btc_ath),
        Feed("cvd_daily", "binance", cadence.cvd_daily, cvd_daily, max_data_age=2 * 86400.0),
        Feed("cvd_hourly", "binance", cadence.cvd_hourly, cvd_hourly, max_data_age=3 * 3600.0),
        Feed("cvd_perp_daily", "binance", cadence.cvd_daily, cvd_perp_daily, max_data_age=2 * 86400.0),
        Feed("cvd_market", "binance", cadence.cvd_market, cvd_market, max_data_age=2 * 86400.0),
        *build_derivs_feeds(config, runtime, state),
        *build_positioning_feeds(config, runtime, state),
        *build_macro_feeds(config, runtime, state),
        # Coins in view outside the basket (the coin detail on a tail coin): idle while there are none.
        *build_watched_feeds(config, runtime, state),
        # The coin on the detail screen: its settled funding on the venues beyond Bybit; idle while none is up.
        *build_venue_funding_feeds(config, runtime, state),
    ]
    for feed in feeds:
        feed.set_stale_factor(config.general.stale_factor)
    return feeds
