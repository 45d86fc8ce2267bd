"""Per-coin data for coins in view outside the basket: the coin detail opened on any of the ~280 perps.

The basket feeds (:mod:`tui.runtime.feeds`, :mod:`tui.runtime.feeds_derivs`, :mod:`tui.runtime.feeds_positioning`)
fetch the configured coins; a tail coin's detail needs the same per-coin calls for that one coin. The venues'
bulk calls (funding and OI snapshots, the liquidation streams) already cover every perp, so only what has no bulk
call is fetched here, for the coins in :class:`tui.runtime.state.WatchedCoins` (at most 8, normally one or two),
by three feeds, one per provider so a venue that fails is marked on its own:

* ``watched_spot`` (Binance spot, the hourly CVD's cadence, 60 s): ``/api/v3/klines`` 1d since ``cvd.start`` and 1h
  over ``cvd.hourly_days``, each one request of weight 2 (a first fetch is one page: 1,000 bars is 2.7 years of
  days and 41 days of hours); after it, only the bars since the last provisional one.
* ``watched_usdm`` (Binance USD-M, every 5 minutes): ``/fapi/v1/klines`` 1d (perp CVD; weight 5 for the first
  page of up to 1,000 bars, 1 after it with ``limit`` < 100), ``/fapi/v1/openInterest`` (weight 1),
  ``/futures/data/openInterestHist`` 1h x 26 and the two long/short ratios (``globalLongShortAccountRatio``,
  ``topLongShortPositionRatio``, latest 5-minute period): weight 0 each, 3 of the ``/futures/data`` group's 1000
  requests / 5 min / IP.
* ``watched_bybit`` (Bybit, every 5 minutes): ``/v5/market/funding/history`` over the heatmap's history periods
  (one page of 200) and ``/v5/market/account-ratio`` (latest 5-minute period): 2 of 600 requests / 5 s / IP.

Verified (checked 2026-12 against developers.binance.com "Kline/Candlestick Data" for USD-M: weight 1 / 2 / 5 / 10
for ``limit`` in [1, 100) / [100, 500) / [500, 1000] / more, max 1500; "Open Interest Statistics": weight 0,
``limit`` default 30, max 500, the latest 30 days only; bybit-exchange.github.io ``v5/rate-limit``: 600 requests in
any 5-second window per IP, a breach answered 403 with a ban of at least 10 minutes; Binance spot ``/api/v3/klines``
weight 2 whatever the ``limit`` as in docs/providers.md).

So a coin in view costs 2 spot requests a minute and 5 USD-M plus 2 Bybit requests every 5 minutes; nothing when
no coin outside the basket is in view. A coin comes into view through :func:`watch`, which asks the scheduler to
run these feeds now (not the basket's: that would fetch the whole basket again for one coin).

What they fetch stays in ``state.watched``, never in the basket's fields: every basket figure (basket and market
CVD, perp CVD, funding medians, OI totals, drivers) reads the basket's fields only. A coin a venue does not list
(absent from the venue's perpetual listing once known, or Binance -1121 / Bybit 10001 "invalid symbol") is unknown
there, not an error: a perp-only coin (no Binance spot pair) is said as "no spot pair" in its detail, and the feed
fails only when a request fails for another reason for every coin it asked about.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sources.errors import SourceError
from tui.runtime.config import Config
from tui.runtime.feeds_positioning import BINANCE_PERIOD, BYBIT_PERIOD, VENUE_KINDS, unknown_symbol
from tui.runtime.modes import Runtime
from tui.runtime.scheduler import Delivered, Feed, Scheduler
from tui.runtime.state import MarketState

if TYPE_CHECKING:
    import pandas as pd

WATCHED_SPOT = "watched_spot"
WATCHED_USDM = "watched_usdm"
WATCHED_BYBIT = "watched_bybit"
WATCHED_FEEDS: tuple[str, ...] = (WATCHED_SPOT, WATCHED_USDM, WATCHED_BYBIT)
#: venue -> the watched feed that fetches its long/short ratios (the basket's come from ``long_short_<venue>``).
WATCHED_LONG_SHORT: dict[str, str] = {"binance": WATCHED_USDM, "bybit": WATCHED_BYBIT}
#: Seconds between the derivatives polls: the long/short ratios are 5-minute periods, OI history hourly bars.
DERIVS_CADENCE_S = 300.0
#: Requests in flight per feed: at most 8 coins are watched, so a first fetch goes out in two rounds.
CONCURRENCY = 4
#: What the detail says of a coin Binance lists no spot pair for (perp-only coins: HYPE, KAS, XMR in the demo).
NO_SPOT = "no spot pair on Binance"
DAY_MS = 86_400_000
EIGHT_HOURS_MS = 8 * 3_600_000
#: Up to this many daily bars the incremental perp fetch stays below 100 bars a request (weight 1 on fapi).
SMALL_PAGE = 99


def watchable(config: Config, coin: str) -> bool:
    """A coin the watched feeds fetch: not BTC, not a basket coin (the basket feeds have those)."""
    return bool(coin) and coin != "BTC" and coin not in config.general.coins


def watch(state: MarketState, scheduler: Scheduler | None, config: Config, coin: str, now: float) -> bool:
    """``coin`` came into view (the coin detail shows it): watch it and, when it is new, ask the scheduler to run
    the watched feeds now. Returns True when the feeds were asked. A basket coin or BTC is not watched."""
    state.watched.expire(now)
    if not watchable(config, coin) or not state.watched.enter(coin):
        return False
    return scheduler is not None and bool(scheduler.run_now(list(WATCHED_FEEDS)))


def unwatch(state: MarketState, coin: str, now: float) -> None:
    """``coin`` left view: it stays watched (and fetched) for ``WATCH_LINGER_S``, then goes with its data."""
    state.watched.leave(coin, now)


def _closed_ms(frame: Any) -> float | None:
    """Close time (epoch ms) of the newest finished bar (as :func:`tui.runtime.feeds.last_closed_ms`)."""
    if frame is None or not len(frame):
        return None
    closed = frame[~frame["provisional"]] if "provisional" in frame.columns else frame
    return None if not len(closed) else float(closed["close_time"].iloc[-1].value // 1_000_000 + 1)


def _newest_time(frame: Any) -> float | None:
    """Epoch ms of the newest ``time`` of a history frame (None when there is none)."""
    if frame is None or not len(frame):
        return None
    return float(frame["time"].max().value // 1_000_000)


def _newest(times: list[float | None]) -> float | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


async def _each(coins: list[str], fetch: Callable[[str], Awaitable[Any]]) -> dict[str, Any]:
    """``fetch`` per coin, a few at a time; raises the first error when every coin failed."""
    gate = asyncio.Semaphore(CONCURRENCY)
    results: dict[str, Any] = {}
    errors: list[SourceError] = []

    async def one(coin: str) -> None:
        async with gate:
            try:
                results[coin] = await fetch(coin)
            except SourceError as exc:
                errors.append(exc)

    await asyncio.gather(*(one(c) for c in coins))
    if coins and not results:
        raise errors[0]
    return results


async def _extend_daily(klines: Callable[..., Awaitable[pd.DataFrame]], symbol: str, old: pd.DataFrame | None,
                        start_ms: int, now: int, page: int) -> pd.DataFrame:  # fmt: skip
    """Daily bars since ``start_ms``: the whole span the first time (``page`` bars a request), then only the days
    since the frame's last bar (at least two: yesterday's final bar and today's), as the market CVD does."""
    import pandas as pd

    if old is None or old.empty:
        return await klines(symbol, "1d", start_ms=start_ms, now_ms=now, limit=page)
    bars = now // DAY_MS - int(old.index[-1].value // 1_000_000) // DAY_MS + 1
    if bars > SMALL_PAGE:
        return await klines(symbol, "1d", start_ms=start_ms, now_ms=now, limit=page)
    fresh = await klines(symbol, "1d", limit=max(2, bars), now_ms=now)
    return old if fresh.empty else pd.concat([old[old.index < fresh.index[0]], fresh])


def build_watched_feeds(config: Config, runtime: Runtime, state: MarketState) -> list[Feed]:
    """The three watched feeds (module docstring); each does nothing while no coin outside the basket is in view."""
    import pandas as pd

    from sources.binance_futures import BinanceFutures
    from sources.binance_spot import MAX_LIMIT, BinanceSpot
    from sources.bybit import Bybit
    from sources.symbols import venue_symbol

    src = config.sources
    spot = BinanceSpot(runtime.http, src.binance_spot)
    futures = BinanceFutures(runtime.http, src.binance_futures, wall=lambda: runtime.now_ms() / 1000)
    bybit = Bybit(runtime.http, src.bybit)
    quote = config.general.quote
    start_ms = int(pd.Timestamp(config.cvd.start).tz_localize("UTC").value // 1_000_000)
    hourly_days = config.cvd.hourly_days
    periods = config.funding.history_periods
    watched = state.watched

    def targets() -> list[str]:
        """The coins to fetch now, most recently viewed first."""
        watched.expire(time.time())
        return [c for c in watched.coins if watchable(config, c)]

    def done(feed: str, coins: list[str]) -> None:
        """Mark ``coins`` fetched (well or not) by ``feed``: their detail stops saying "loading"."""
        watched.fetched.setdefault(feed, set()).update(c for c in coins if c in watched.left)

    def listed(venue: str, coin: str) -> bool:
        """False only when the venue's perpetual listing is known and lacks the coin (nothing to ask)."""
        symbols = state.perp_universe.get(venue)
        return symbols is None or venue_symbol(venue, coin)[0] in symbols

    def keep(target: dict[str, Any], coin: str, value: Any) -> None:
        """Store ``value`` for a coin still watched (one dropped while its fetch was under way is not kept)."""
        if coin not in watched.left:
            return
        if value is None:
            target.pop(coin, None)
        else:
            target[coin] = value

    # -- Binance spot ---------------------------------------------------------------------------------------------
    def spot_listed(coin: str) -> bool:
        """False when the market CVD's listing is known and has no trading ``coin``/quote pair."""
        pairs = state.spot_pairs
        if pairs is None or pairs.quote != quote:
            return True
        symbol = f"{coin}{quote}"
        return symbol in pairs.excluded or pairs.symbols.get(coin) == symbol

    async def watched_spot() -> Delivered:
        coins = targets()
        now = runtime.now_ms()
        window_start = max(start_ms, now - hourly_days * DAY_MS)
        since_window = pd.Timestamp(window_start, unit="ms", tz="UTC")

        async def hourly(symbol: str, old: pd.DataFrame | None) -> pd.DataFrame:
            # As the basket's cvd_hourly: whole window the first time, then from the first provisional bar on.
            if old is None or old.empty or old.index[-1].value // 1_000_000 < window_start:
                return await spot.klines(symbol, "1h", start_ms=window_start, now_ms=now)
            provisional = old[old["provisional"]]
            since = provisional.index[0] if len(provisional) else old.index[-1]
            fresh = await spot.klines(symbol, "1h", start_ms=int(since.value // 1_000_000), now_ms=now)
            merged = pd.concat([old[old.index < since], fresh])
            return merged[merged.index >= since_window]

        async def one(coin: str) -> tuple[Any, Any] | None:
            if watched.errors.get(coin) == NO_SPOT or not spot_listed(coin):
                return None
            symbol = f"{coin}{quote}"
            try:
                daily = await _extend_daily(spot.klines, symbol, watched.daily.get(coin), start_ms, now, MAX_LIMIT)
                return daily, await hourly(symbol, watched.hourly.get(coin))
            except SourceError as exc:
                if unknown_symbol(exc):
                    return None
                keep(watched.errors, coin, exc.detail if exc.status is None else f"HTTP {exc.status}: {exc.detail}")
                raise

        try:
            results = await _each(coins, one)
        finally:
            done(WATCHED_SPOT, coins)
        for coin, frames in results.items():
            if frames is None:
                keep(watched.errors, coin, NO_SPOT)
                keep(watched.daily, coin, None)
                keep(watched.hourly, coin, None)
                continue
            keep(watched.errors, coin, None)
            keep(watched.daily, coin, frames[0] if len(frames[0]) else None)
            keep(watched.hourly, coin, frames[1] if len(frames[1]) else None)
        return Delivered(_newest([_closed_ms(watched.hourly.get(c)) for c in results]))

    # -- Binance USD-M --------------------------------------------------------------------------------------------
    async def or_none(call: Awaitable[Any]) -> Any:
        """The answer, or None when the venue does not list the symbol."""
        try:
            return await call
        except SourceError as exc:
            if unknown_symbol(exc):
                return None
            raise

    async def watched_usdm() -> Delivered:
        coins = targets()
        now = runtime.now_ms()
        snap = state.derivs.get("binance")
        marks = {q.symbol: q.mark_price for q in snap.funding if q.mark_price} if snap is not None else {}

        async def one(coin: str) -> dict[str, Any] | None:
            if not listed("binance", coin):
                return None
            symbol, _ = venue_symbol("binance", coin)
            perp = await or_none(_extend_daily(futures.klines, symbol, watched.perp_daily.get(coin), start_ms, now,
                                               1000))  # fmt: skip
            hist = await or_none(futures.open_interest_hist(symbol, "1h", limit=26))
            mark = marks.get(symbol)
            oi = await or_none(futures.open_interest({symbol: mark})) if mark else None
            ratios = []
            for kind in VENUE_KINDS["binance"]:
                found = await or_none(futures.long_short_ratio(symbol, kind, BINANCE_PERIOD, limit=1))
                if found:
                    ratios.append(found[-1])
            return {"perp": perp, "hist": hist, "oi": oi[0] if oi else None, "ratios": tuple(ratios)}

        try:
            results = await _each(coins, one)
        finally:
            done(WATCHED_USDM, coins)
        ratios = watched.long_short.setdefault("binance", {})
        for coin, got in results.items():
            got = got or {}
            perp, hist = got.get("perp"), got.get("hist")
            keep(watched.perp_daily, coin, perp if perp is not None and len(perp) else None)
            keep(watched.oi_history, coin, hist if hist is not None and len(hist) else None)
            keep(watched.binance_oi, coin, got.get("oi"))
            keep(ratios, coin, got.get("ratios") or None)
        return Delivered(_newest([_newest_time(watched.oi_history.get(c)) for c in results]))

    # -- Bybit ----------------------------------------------------------------------------------------------------
    async def watched_bybit() -> Delivered:
        coins = targets()
        now = runtime.now_ms()
        start = now - (periods + 1) * EIGHT_HOURS_MS

        async def one(coin: str) -> tuple[Any, Any] | None:
            if not listed("bybit", coin):
                return None
            symbol, _ = venue_symbol("bybit", coin)
            history = await or_none(bybit.funding_history(symbol, start, now, max_pages=1))
            found = await or_none(bybit.account_ratio(symbol, BYBIT_PERIOD, limit=1))
            return history, tuple(found[-1:]) if found else None

        try:
            results = await _each(coins, one)
        finally:
            done(WATCHED_BYBIT, coins)
        ratios = watched.long_short.setdefault("bybit", {})
        for coin, got in results.items():
            history, found = got if got is not None else (None, None)
            keep(watched.funding_history, coin, history if history is not None and len(history) else None)
            keep(ratios, coin, found)
        return Delivered(_newest([_newest_time(watched.funding_history.get(c)) for c in results]))

    return [
        Feed(WATCHED_SPOT, "binance", config.cadence.cvd_hourly, watched_spot, max_data_age=3 * 3600.0),
        Feed(WATCHED_USDM, "binance", DERIVS_CADENCE_S, watched_usdm, max_data_age=3 * 3600.0),
        # Settlements come every 8 h (4, 2 or 1 h on volatile coins): a day without one means the history stopped.
        Feed(WATCHED_BYBIT, "bybit", DERIVS_CADENCE_S, watched_bybit, max_data_age=86400.0),
    ]
