"""Market-wide altcoin CVD end to end: the feed's requests (one listing and one kline page per pair at start-up,
only the open day after), what it keeps, the snapshot's ``cvd.market`` keys and the CVD pane's market line, on the
demo emulator with a frozen clock. Pair counts come from the dataset, never hard-coded: the demo's market grows."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pandas as pd
import pytest

from analytics.cvd import cvd
from emulator import EmulatorTransport, VirtualClock
from emulator.demo import demo_emulator
from sources.http import HttpClient
from tests.conftest import FROZEN_NOW_MS
from tui.runtime.config import load_config
from tui.runtime.feeds import LISTING_EVERY_MS, MARKET_CONCURRENCY, build_feeds
from tui.runtime.modes import Runtime
from tui.runtime.scheduler import Scheduler
from tui.runtime.state import MarketState

DAY = 86_400_000
HOUR = 3_600_000
#: A small basket: the market feed fetches the other pairs itself (the basket's come from cvd_daily, once).
BASKET = ["ETH", "SOL"]


class Recorded(httpx.AsyncBaseTransport):
    """The emulator's transport, keeping every request and how many were in flight at most."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.weights: list[int] = []
        self.taken_weights: list[int] = []
        self.in_flight = self.most_in_flight = self.taken_most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let the other requests of the batch start, as a network would
            response = await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1
        self.weights.append(int(response.headers.get("X-MBX-USED-WEIGHT-1M", "0")))
        return response

    def take(self) -> list[httpx.Request]:
        """The requests since the last take; their weights and concurrency stay in ``taken_weights`` and
        ``taken_most``."""
        out, self.requests = self.requests, []
        self.taken_weights, self.weights = self.weights, []
        self.taken_most, self.most_in_flight = self.most_in_flight, 0
        return out


class Rig:
    def __init__(self, start_ms: int = FROZEN_NOW_MS) -> None:
        self.config = load_config(use_user_file=False).with_overrides("general", coins=BASKET)
        self.emulator = demo_emulator(FROZEN_NOW_MS, speed=0.0)
        # The demo's market is anchored at FROZEN_NOW_MS (history before it, a day of simulation after it).
        self.emulator.clock = VirtualClock(start_ms=start_ms, speed=0.0)
        self.transport = Recorded(EmulatorTransport(self.emulator))
        self.http = HttpClient(self.transport, timeout=5.0)
        self.runtime = Runtime("demo", "demo", self.http, self.emulator.now_ms, simulated=True)
        self.state = MarketState()
        self.scheduler = Scheduler(build_feeds(self.config, self.runtime, self.state))

    async def run(self, feed: str = "cvd_market") -> list[httpx.Request]:
        assert await self.scheduler.run_once(feed), self.scheduler.feeds[feed].health.error
        return self.transport.take()

    def alts(self) -> set[str]:
        """The dataset's USDT altcoin pairs outside the basket: what the market feed fetches itself (the emulator's
        extra listings must all be left out)."""
        alts = {s for s in self.emulator.dataset.spot_klines if s.endswith("USDT") and s != "BTCUSDT"}
        return alts - {f"{c}USDT" for c in BASKET}


@pytest.fixture
async def rig() -> Any:
    rig = Rig()
    yield rig
    await rig.http.aclose()


def paths(requests: list[httpx.Request], path: str) -> list[httpx.Request]:
    return [r for r in requests if r.url.path == path]


async def test_start_up_is_one_listing_and_one_page_per_pair_then_only_the_open_day() -> None:
    rig = Rig(FROZEN_NOW_MS - 3 * DAY - 2 * HOUR)  # three days before the demo's "now": room to sleep through
    try:
        await start_up_then_refresh(rig)
    finally:
        await rig.http.aclose()


async def start_up_then_refresh(rig: Rig) -> None:
    start_ms = int(pd.Timestamp(rig.config.cvd.start, tz="UTC").value // 1_000_000)
    basket = await rig.run("cvd_daily")
    first = await rig.run()
    # Every pair once: the basket's through cvd_daily, the others through the market feed.
    assert {r.url.params["symbol"] for r in basket} == {f"{c}USDT" for c in BASKET}
    listing, klines = paths(first, "/api/v3/exchangeInfo"), paths(first, "/api/v3/klines")
    assert len(first) == len(listing) + len(klines) and len(listing) == 1
    assert dict(listing[0].url.params) == {"permissions": "SPOT"}
    assert {r.url.params["symbol"] for r in klines} == rig.alts() and len(klines) == len(rig.alts())
    # One page per pair: from cvd.start, a page of up to 1,000 days (less than two years of history here).
    assert all((r.url.params["interval"], r.url.params["startTime"], r.url.params["limit"]) ==
               ("1d", str(start_ms), "1000") for r in klines)  # fmt: skip
    # Within Binance spot's budget: exchangeInfo 20 and klines 2 a request, a few requests in flight at once.
    assert sum(rig.transport.taken_weights) == 20 + 2 * len(klines)
    assert 1 < rig.transport.taken_most <= MARKET_CONCURRENCY
    assert {f"{b}USDT" for b in rig.state.market_daily} == rig.alts() and not rig.state.market_errors
    assert rig.state.spot_pairs is not None and "BTCUSDT" in rig.state.spot_pairs.excluded
    assert set(BASKET) <= set(rig.state.spot_pairs.symbols)  # counted, from the basket's frames
    eth = rig.state.market_daily["XRP"]
    assert eth.index[0].value // 1_000_000 == start_ms and bool(eth["provisional"].iloc[-1])

    rig.emulator.clock.advance(HOUR)
    again = await rig.run()
    # The refresh: no listing, one request per pair for the open day only (yesterday's final bar and today's).
    assert not paths(again, "/api/v3/exchangeInfo") and len(again) == len(klines)
    assert all(dict(r.url.params) == {"symbol": r.url.params["symbol"], "interval": "1d", "limit": "2"}
               for r in again)  # fmt: skip
    assert len(rig.state.market_daily["XRP"]) == len(eth)

    # Three days later (a console asleep): as many bars as days went by, still one request a pair, no gap.
    rig.emulator.clock.advance(3 * DAY)
    later = await rig.run()
    assert {r.url.params.get("limit") for r in paths(later, "/api/v3/klines")} == {"4"}
    assert len(paths(later, "/api/v3/exchangeInfo")) == 1  # past the listing's 6 hours: read again
    assert LISTING_EVERY_MS < 3 * DAY
    merged = rig.state.market_daily["XRP"]
    assert len(merged) == len(eth) + 3 and merged.index.is_unique and merged.index.is_monotonic_increasing
    # What the refreshes built equals a whole fetch at the same instant.
    whole = MarketState()
    scheduler = Scheduler(build_feeds(rig.config, rig.runtime, whole))
    assert await scheduler.run_once("cvd_market")
    pd.testing.assert_frame_equal(rig.state.market_daily["XRP"], whole.market_daily["XRP"])


async def test_a_failed_pair_keeps_its_frame_with_its_error_and_a_delisted_pair_goes(rig: Rig) -> None:
    await rig.run()
    xrp = rig.emulator.dataset.spot_klines.pop("XRPUSDT")  # Binance stops answering for it...
    try:
        rig.emulator.clock.advance(HOUR)
        await rig.run()
        assert "Invalid symbol" in rig.state.market_errors["XRP"]
        assert "XRP" in rig.state.market_daily  # ...its last frame stays (stale once the day moves on)
        rig.emulator.clock.advance(LISTING_EVERY_MS)  # ...and the next listing no longer has it
        await rig.run()
        assert "XRP" not in rig.state.market_daily and "XRP" not in rig.state.market_errors
    finally:
        rig.emulator.dataset.spot_klines["XRPUSDT"] = xrp


async def test_market_cvd_in_the_snapshot_and_the_pane_view() -> None:
    from tui.boot import Launch, boot
    from tui.commands.snapshot import build_snapshot, render_text

    config = load_config(use_user_file=False).with_overrides("general", coins=BASKET)
    session = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS))
    try:
        assert await session.scheduler.run_once("cvd_daily") and await session.scheduler.run_once("cvd_market")
        doc = build_snapshot(session.views, session.scheduler)
        market = doc["cvd"]["market"]
        for key in ("cumulative_usd", "change_30d_usd", "buy_sell_ratio", "buy_sell_ratio_30d", "pairs"):
            assert market[key] is not None, key
        frames = {**session.state.alt_daily, **session.state.market_daily}  # the basket's pairs and the others
        assert market["pairs"] == len(frames) > len(BASKET) and market["excluded"] == {}
        # Its cumulative is the sum of each pair's own CVD since cvd.start (computed pair by pair here).
        since = pd.Timestamp(config.cvd.start, tz="UTC")
        assert market["cumulative_usd"] == pytest.approx(sum(float(cvd(f, since).iloc[-1]) for f in frames.values()))
        assert 0 < market["buy_sell_ratio_30d"] < 2 and market["change_30d_usd"] != 0
        assert f"Altcoin market CVD ({market['pairs']} Binance spot pairs)" in render_text(doc)
        view = session.views.build("cvd")
        assert view.market_pairs == market["pairs"]
        assert view.market_usd == pytest.approx(market["cumulative_usd"])
        assert view.market_change_30d_usd == pytest.approx(market["change_30d_usd"])
        assert view.market_ratio_30d == pytest.approx(market["buy_sell_ratio_30d"])
        assert doc["sources"]["cvd_market"]["status"] == "live"
    finally:
        await session.aclose()


async def test_the_snapshot_says_unknown_before_the_market_feed_delivers() -> None:
    from tui.boot import Launch, boot
    from tui.commands.snapshot import build_snapshot, render_text

    session = boot(load_config(use_user_file=False), Launch("demo", now_ms=FROZEN_NOW_MS))
    try:
        doc = build_snapshot(session.views, session.scheduler)
        assert doc["cvd"]["market"]["pairs"] is None and doc["cvd"]["market"]["cumulative_usd"] is None
        assert "Altcoin market CVD (— Binance spot pairs): —" in render_text(doc)
        assert session.views.build("cvd").market_pairs == 0
    finally:
        await session.aclose()


async def test_the_cvd_pane_shows_the_market_line_and_its_help_names_the_figure() -> None:
    from textual.widgets import Markdown

    from tui.app.app import AltpulseApp

    config = load_config(use_user_file=False).with_overrides("general", coins=["ETH", "SOL"])
    app = AltpulseApp(config, "demo", frozen_now_ms=FROZEN_NOW_MS)
    async with app.run_test(size=(70, 24)) as pilot:
        for _ in range(400):
            await pilot.pause(0.05)
            feeds = app.scheduler.feeds if app.scheduler is not None else {}
            if all(name in feeds and feeds[name].health.as_of for name in ("cvd_daily", "cvd_market")):
                break
        else:
            pytest.fail("the CVD feeds never delivered")
        app.refresh_all_views()
        await pilot.pause()
        pairs = len(app.state.spot_pairs.symbols)
        summary = str(app.screen.query_one("#cvd-summary").content)
        assert "Basket CVD since 2025-01-01" in summary
        assert "Market CVD " in summary and f"({pairs} pairs)" in summary
        await pilot.press("2", "question_mark")
        await pilot.pause(0.5)
        help_text = app.screen.query_one("#widget-help", Markdown).source
        assert "Binance-spot-only figure" in help_text and '"-$209B"' in help_text and "CryptoQuant" in help_text


def test_the_market_line_fits_a_narrow_pane() -> None:
    from records.viewmodels import CvdView, PaneStatus
    from widgets.cvd_pane import summary

    view = CvdView(PaneStatus(True, "live", ""), since="2025-01-01", basket_usd=-1.0e9, basket_change_30d_usd=-2.0e8,
                   basket_ratio_30d=0.95, market_usd=-1.701e10, market_change_30d_usd=-5.47e9, market_ratio_30d=0.915,
                   market_pairs=197)  # fmt: skip
    wide = summary(view).plain.splitlines()[1]
    narrow = summary(view, compact=True).plain.splitlines()[1]
    assert wide == "Market CVD -$17.01B  30d -$5.47B  B/S 0.915  (197 pairs)"
    assert narrow == "Market -$17.01B  30d -$5.47B  B/S 0.915  197 pairs" and len(narrow) <= 50
    # Before the market feed delivers there is no market line (never a $0 market).
    assert "Market" not in summary(CvdView(PaneStatus(True, "live", ""), since="2025-01-01", basket_usd=1.0)).plain
