"""Derivatives feeds: funding and open interest on four venues, their history, and the liquidation streams.

One bulk request per venue per funding cycle: Binance ``premiumIndex``, Bybit ``tickers`` (funding and OI),
OKX ``funding-rate?instId=ANY`` plus ``open-interest`` (OKX has no combined call), Hyperliquid
``metaAndAssetCtxs``. Binance has no all-symbols OI call, so its OI is one light request per basket coin on a slower
cadence. Liquidations come from websockets (Binance all-market, Bybit per symbol, OKX all swaps) into a bounded
tape; OKX REST is polled only while the OKX stream is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sources.errors import SourceError
from tui.runtime.config import Config
from tui.runtime.modes import Runtime
from tui.runtime.scheduler import Delivered, Feed
from tui.runtime.state import TAPE, MarketState

if TYPE_CHECKING:
    from records.derivs import DerivsSnapshot

HOUR_MS = 3_600_000


class PerpVenue(Protocol):
    """A venue's bulk call: every perp's funding (and OI where the venue includes it) in one request."""

    async def snapshot(self) -> DerivsSnapshot: ...


class PerpListing(Protocol):
    """A venue's list of the crypto USDT perpetuals trading now."""

    async def perpetuals(self) -> set[str]: ...

EIGHT_HOURS_MS = 8 * HOUR_MS
VENUES = ("binance", "bybit", "okx", "hyperliquid")


def build_derivs_feeds(config: Config, runtime: Runtime, state: MarketState) -> list[Feed]:
    from sources.binance_futures import BinanceFutures
    from sources.bybit import Bybit
    from sources.hyperliquid import Hyperliquid
    from sources.okx import Okx
    from sources.symbols import venue_symbol

    src = config.sources
    cadence = config.cadence
    binance = BinanceFutures(runtime.http, src.binance_futures, wall=lambda: runtime.now_ms() / 1000)
    bybit = Bybit(runtime.http, src.bybit)
    venues: dict[str, PerpVenue] = {
        "binance": binance,
        "bybit": bybit,
        "okx": Okx(runtime.http, src.okx),
        "hyperliquid": Hyperliquid(runtime.http, src.hyperliquid),
    }
    listings: dict[str, PerpListing] = {"binance": binance, "bybit": bybit}
    coins = ["BTC", *[c for c in config.general.coins if c != "BTC"]]
    periods = config.funding.history_periods
    replay = runtime.mode == "replay"

    def universe(venue: str) -> frozenset[str] | None:
        if venue == "okx" and state.okx_contracts is not None and state.okx_contracts.loaded_at is not None:
            return frozenset(state.okx_contracts.table)
        return state.perp_universe.get(venue)

    def snapshot_feed(venue: str) -> Feed:
        async def run() -> Delivered:
            snap = only_listed(await venues[venue].snapshot(), universe(venue))
            if not snap.funding:
                # A 200 with no perpetual in it is a broken answer, not a market without funding.
                hint = " (the replay's files have no funding for this venue at this time)" if replay else ""
                raise SourceError(venue, "funding snapshot", f"empty response: no USDT perpetual in it{hint}")
            state.derivs[venue] = snap
            rates = tuple(sorted((q.coin, q.rate) for q in snap.funding))
            return Delivered(snap.as_of.value // 1_000_000, rates)

        # Predicted funding moves with the premium minute by minute; every rate identical for longer than a whole
        # 8 h period means the venue (or a cache in front of it) serves frozen data.
        return Feed(f"funding_{venue}", venue, cadence.funding, run, max_data_age=600.0,
                    frozen_after=9 * 3600.0)  # fmt: skip

    async def binance_oi() -> Delivered:
        snap = state.derivs.get("binance")
        marks = {q.symbol: q.mark_price for q in snap.funding if q.coin in coins and q.mark_price} if snap else {}
        if not marks:
            raise SourceError("binance", "/fapi/v1/openInterest", "waiting for mark prices from premiumIndex")

        async def one(symbol: str, mark: float) -> list[Any]:
            try:
                return await binance.open_interest({symbol: mark})
            except SourceError as exc:
                if _unknown_symbol(exc):
                    return []
                raise

        results = await asyncio.gather(*(one(sym, mark) for sym, mark in marks.items()))
        state.binance_oi = [record for batch in results for record in batch]
        times = [r.time.value // 1_000_000 for r in state.binance_oi]
        return Delivered(max(times) if times else None)

    async def oi_history() -> Delivered:
        import pandas as pd

        async def one(coin: str) -> Any:
            symbol, _ = venue_symbol("binance", coin)
            try:
                return await binance.open_interest_hist(symbol, "1h", limit=26)
            except SourceError as exc:
                if _unknown_symbol(exc):  # not listed on Binance futures
                    return None
                raise

        frames = [f for f in await asyncio.gather(*(one(c) for c in coins)) if f is not None and len(f)]
        state.oi_history = pd.concat(frames, ignore_index=True) if frames else None
        return Delivered(_newest_ms(state.oi_history))

    async def funding_history() -> Delivered:
        import pandas as pd

        now = runtime.now_ms()
        start = now - (periods + 1) * EIGHT_HOURS_MS
        gate = asyncio.Semaphore(4)

        async def one(coin: str) -> Any:
            symbol, _ = venue_symbol("bybit", coin)
            async with gate:
                try:
                    return await bybit.funding_history(symbol, start, now)
                except SourceError as exc:
                    if _unknown_symbol(exc):
                        return None
                    raise

        frames = [f for f in await asyncio.gather(*(one(c) for c in coins)) if f is not None and len(f)]
        state.funding_history = pd.concat(frames, ignore_index=True) if frames else None
        return Delivered(_newest_ms(state.funding_history))

    def universe_feed(venue: str) -> Feed:
        async def run() -> Delivered:
            state.perp_universe[venue] = frozenset(await listings[venue].perpetuals())
            return Delivered(None)

        # The listings change a few times a week: daily, and at start before the first heatmap settles.
        return Feed(f"universe_{venue}", venue, 86_400.0, run)

    feeds = [snapshot_feed(v) for v in VENUES]
    feeds += [universe_feed("binance"), universe_feed("bybit")]
    feeds.append(Feed("oi_binance", "binance", cadence.open_interest, binance_oi, max_data_age=600.0))
    feeds.append(Feed("oi_history", "binance", max(300.0, cadence.open_interest * 5), oi_history,
                      max_data_age=3 * 3600.0))  # fmt: skip
    # Settlements come every 8 h (4, 2 or 1 h on volatile coins): a day without one means the history stopped.
    feeds.append(Feed("funding_history", "bybit", 900.0, funding_history, max_data_age=86400.0))
    feeds.extend(_okx_liquidation_feeds(config, runtime, state, coins))
    return feeds


def only_listed(snap: Any, symbols: frozenset[str] | None) -> Any:
    """The snapshot without the symbols the venue's own listing does not count as crypto USDT perpetuals (stock,
    commodity and forex perps share the ``XXXUSDT`` pattern since 2026); unchanged while the listing is unknown."""
    if symbols is None:
        return snap
    from dataclasses import replace

    return replace(
        snap,
        funding=[q for q in snap.funding if q.symbol in symbols],
        open_interest=[o for o in snap.open_interest if o.symbol in symbols],
    )


def _newest_ms(frame: Any) -> float | None:
    """Epoch ms of the newest ``time`` in a history frame (None when empty)."""
    if frame is None or not len(frame):
        return None
    return float(pd_ms(frame["time"].max()))


def pd_ms(stamp: Any) -> int:
    import pandas as pd

    return int(pd.Timestamp(stamp).value // 1_000_000)


def _unknown_symbol(exc: SourceError) -> bool:
    """The venue does not list this coin (Binance -1121 "Invalid symbol.", Bybit 10001 "symbol invalid"):
    leave the coin out rather than fail the whole feed."""
    detail = exc.detail.lower()
    return "invalid symbol" in detail or "symbol invalid" in detail or "not exist" in detail


def _okx_liquidation_feeds(config: Config, runtime: Runtime, state: MarketState, coins: list[str]) -> list[Feed]:
    """OKX's contract sizes (loaded at start, refreshed daily) and its REST liquidations, polled for the basket only
    while the OKX websocket is not live. The sizes are OKX's own ``ctVal`` table, shared with the stream: a
    liquidation of an instrument it does not list yet waits for it (see :class:`sources.ws.OkxContracts`)."""
    from sources.ws import OkxContracts, OkxLiquidationPoller

    contracts = OkxContracts(coins=frozenset(coins))
    state.okx_contracts = contracts
    poller = OkxLiquidationPoller(runtime.http, coins[:10], contracts=contracts, base_url=config.sources.okx)

    async def instruments() -> None:
        recovered = await poller.load_contract_values()
        if recovered and state.liq_tape is not None:
            state.liq_tape.extend(recovered)  # held liquidations, sized now that OKX listed their instrument
        state.bump(TAPE)

    async def run() -> None:
        stream = state.liq_streams.get("okx")
        if stream is not None and stream.state == "live":
            return  # the stream delivers these; polling would double-count
        records = await poller.poll()
        tape = state.liq_tape
        if tape is None or not records:
            return
        # OKX REST returns its latest orders, some of which the websocket delivered before it dropped (or the
        # replay's recording holds): keep only what is newer than the tape's last OKX record of that coin.
        latest = tape.latest_times("okx")
        fresh = [r for r in records if r.time > latest.get(r.coin, -1)]
        if fresh:
            tape.extend(fresh)
            state.bump(TAPE)

    return [
        Feed("okx_instruments", "okx", 86_400.0, instruments),
        Feed("liq_okx_rest", "okx", config.cadence.liquidations_rest, run),
    ]


def start_liquidation_tape(config: Config, runtime: Runtime, state: MarketState,
                           on_update: Callable[[str], None] | None = None,
                           restore: Callable[[Any], bool] | None = None) -> list[Any]:  # fmt: skip
    """Create the tape and the three streams (not yet running); returns the streams to run as workers.

    Demo and replay seed the tape with the dataset's liquidations up to the virtual now, as a recording made
    earlier would; live starts empty, records from the moment a stream is live, and the cascade detector says how
    long it has recorded. ``restore(tape)`` fills the tape from the recorder's store first (True: it did, and
    nothing else seeds it).
    """
    from analytics.liquidations import LiquidationTape
    from sources.symbols import venue_symbol
    from sources.ws import LiquidationStream, websockets_opener

    tape = LiquidationTape()
    now = runtime.now_ms()
    seeded = None if restore is not None and restore(tape) else runtime.recorded_liquidations(now)
    if seeded is not None and len(seeded):
        tape.extend_frame(seeded)
        tape.start_recording(int(seeded["time"].min()))
    # Otherwise the record starts when a stream first goes live: a tape no stream fed knows nothing (its totals
    # are unknown, not $0), e.g. a replay without liquidation files or every venue unreachable.
    state.liq_tape = tape
    opener = runtime.ws_opener or websockets_opener()
    coins = ["BTC", *[c for c in config.general.coins if c != "BTC"]]

    changed = on_update or (lambda name: None)

    def on_records(records: list[Any]) -> None:
        tape.extend(records)
        state.bump(TAPE)
        changed(TAPE)

    def on_status(status: Any) -> None:
        # A stream going live, retrying or offline changes what the pane must say, even with no new record.
        if status.state == "live":
            tape.start_recording(runtime.now_ms())
        state.bump(TAPE)
        changed(TAPE)

    src = config.sources
    bybit_symbols = [venue_symbol("bybit", c)[0] for c in coins]
    common: dict[str, Any] = {"on_status": on_status, "market_clock": lambda: runtime.now_ms() / 1000}
    streams = [
        LiquidationStream.binance(opener, on_records, url=src.binance_ws, **common),
        LiquidationStream.bybit(opener, bybit_symbols, on_records, url=src.bybit_ws, **common),
        LiquidationStream.okx(
            opener, on_records, contracts=state.okx_contracts, coins=coins, url=src.okx_ws, **common
        ),
    ]
    state.liq_streams = {s.name: s for s in streams}
    return streams
