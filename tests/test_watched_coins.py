"""Coins in view outside the basket (tui.runtime.feeds_watched): the coin detail on a tail coin of the demo market
gets its price change, CVD, OI and funding history; watching it moves no basket figure; a perp-only coin says
"no spot pair"; the watched set is bounded and cleared; the new coin is fetched at once (Scheduler.run_now)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import pandas as pd
import pytest

from tests.conftest import FROZEN_NOW_MS
from tests.test_app import demo_app, wait_for_data
from tui.app.coin_screen import CoinScreen, open_coin
from tui.app.dashboard import DashboardScreen
from tui.boot import Launch, boot
from tui.commands.snapshot import build_snapshot
from tui.runtime.config import load_config
from tui.runtime.feeds_watched import NO_SPOT, WATCHED_FEEDS, watch
from tui.runtime.scheduler import Feed, Scheduler
from tui.runtime.state import MAX_WATCHED, WATCH_LINGER_S, MarketState, WatchedCoins
from tui.views.coin import build_coin_view

#: ENA: a tail coin listed everywhere with a spot pair; HYPE: perp-only (no Binance spot pair); FOO: listed nowhere.
TAIL, PERP_ONLY, NOWHERE = "ENA", "HYPE", "FOO"
BASKET = ["ETH", "SOL", "DOGE", "PEPE"]
#: The figures of the snapshot document that rest on the basket (CVD, perp CVD, market CVD, funding, OI, drivers).
BASKET_SECTIONS = ("cvd", "funding", "open_interest", "long_short", "drivers", "drivers_summary")


def demo_session() -> Any:
    config = load_config(use_user_file=False).with_overrides("general", coins=BASKET)
    return boot(config, Launch("demo", now_ms=FROZEN_NOW_MS, record=False))


async def run_basket(session: Any) -> None:
    """Every feed but the watched ones, in the snapshot's order (listings, venue snapshots, the rest)."""
    scheduler = session.scheduler
    names = [n for n in scheduler.feeds if n not in WATCHED_FEEDS]
    listings = [n for n in names if n.startswith("universe_") or n == "okx_instruments"]
    snapshots = [n for n in names if n.startswith("funding_") and n != "funding_history"]
    for group in (listings, snapshots, [n for n in names if n not in {*listings, *snapshots}]):
        results = await scheduler.run_all_once(group)
        assert all(results.values()), {n: scheduler.feeds[n].health.error for n, ok in results.items() if not ok}


def basket_figures(session: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(build_snapshot(session.views, session.scheduler), default=str))
    return {key: doc.get(key) for key in BASKET_SECTIONS}


# -- the watched set --------------------------------------------------------------------------------------------
def test_the_watched_set_is_bounded_most_recent_first_and_cleared() -> None:
    watched = WatchedCoins()
    coins = [f"C{i}" for i in range(MAX_WATCHED + 3)]
    for coin in coins:
        assert watched.enter(coin)
        watched.hourly[coin] = pd.DataFrame({"close": [1.0]})
        watched.long_short.setdefault("binance", {})[coin] = ()
        watched.fetched.setdefault("watched_spot", set()).add(coin)
    assert watched.coins == coins[::-1][:MAX_WATCHED]  # most recent first, the oldest three gone
    assert set(watched.hourly) == set(watched.coins) == set(watched.long_short["binance"])
    assert watched.fetched["watched_spot"] == set(watched.coins)
    assert not watched.enter(coins[-1])  # already watched: nothing new to fetch
    # Viewing an old coin again makes it the most recent: the next eviction takes another.
    watched.enter(coins[4])
    assert watched.coins[0] == coins[4]
    # Leaving view: kept for the linger time (going back is instant), then dropped with its data.
    watched.leave(coins[4], now=1000.0)
    assert watched.expire(1000.0 + WATCH_LINGER_S - 1) == [] and coins[4] in watched.coins
    watched.enter(coins[4])  # back in view before it expired: stays
    watched.leave(coins[4], now=2000.0)
    assert watched.expire(2000.0 + WATCH_LINGER_S) == [coins[4]]
    assert coins[4] not in watched.coins and coins[4] not in watched.hourly
    assert coins[4] not in watched.fetched["watched_spot"] and coins[4] not in watched.long_short["binance"]
    for coin in watched.coins:
        watched.leave(coin, now=3000.0)
    watched.expire(3000.0 + WATCH_LINGER_S)
    assert watched.coins == [] and watched.hourly == {} and watched.long_short["binance"] == {}


def test_basket_coins_and_btc_are_not_watched() -> None:
    config = load_config(use_user_file=False).with_overrides("general", coins=BASKET)
    state = MarketState()
    assert not watch(state, None, config, "SOL", time.time())
    assert not watch(state, None, config, "BTC", time.time())
    assert not watch(state, None, config, "", time.time())
    watch(state, None, config, TAIL, time.time())
    assert state.watched.coins == [TAIL]


async def test_run_now_wakes_the_named_feeds_only_and_never_hurries_a_back_off() -> None:
    runs: Counter[str] = Counter()
    ran = {name: asyncio.Event() for name in ("a", "b", "c")}

    def fetch(name: str) -> Any:
        async def run() -> None:
            runs[name] += 1
            ran[name].set()

        return run

    scheduler = Scheduler([Feed(n, "x", 3600.0, fetch(n)) for n in ran])
    tasks = [asyncio.ensure_future(scheduler.run_feed(n)) for n in ran]
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ran.values())), 10)
        for event in ran.values():
            event.clear()
        scheduler.feeds["b"].health.retry_at = scheduler.clock() + 600  # backing off (e.g. a Retry-After)
        assert scheduler.run_now(["a", "b", "nope"]) == ["a"]
        await asyncio.wait_for(ran["a"].wait(), 10)
        await asyncio.sleep(0)
        assert runs == {"a": 2, "b": 1, "c": 1}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- the feeds and the coin view on the demo market --------------------------------------------------------------
async def test_a_tail_coin_in_view_gets_its_figures_and_moves_no_basket_figure() -> None:
    session = demo_session()
    emulator, scheduler, state = session.emulator, session.scheduler, session.state
    try:
        await run_basket(session)
        before = basket_figures(session)
        requests_before = len(emulator.requests)
        for coin in (NOWHERE, PERP_ONLY, TAIL):
            watch(state, scheduler, session.config, coin, time.time())
        results = await scheduler.run_all_once(list(WATCHED_FEEDS))
        paths = Counter(path for _, _, path in emulator.requests[requests_before:])
        healths = {n: scheduler.feeds[n].health for n in scheduler.feeds}
        views = {coin: build_coin_view(session.views.figures, coin, "24h") for coin in (TAIL, PERP_ONLY, NOWHERE)}
        week = build_coin_view(session.views.figures, TAIL, "90d")
        await run_basket(session)  # the basket's feeds again: their figures are the same as before any watching
        after = basket_figures(session)
        universe = dict(state.perp_universe)
    finally:
        await session.aclose()
    assert all(results.values()) and all(h.error is None for h in healths.values()), {
        n: h.error for n, h in healths.items() if h.error}  # fmt: skip
    # Budget: ENA's 1d and 1h spot bars (HYPE and FOO have no pair in the market CVD's listing: not asked); five
    # USD-M requests per coin Binance lists, two Bybit ones per coin Bybit lists; FOO, listed nowhere, costs nothing.
    on_binance = sum(f"{c}USDT" in universe["binance"] for c in (TAIL, PERP_ONLY, NOWHERE))
    on_bybit = sum(f"{c}USDT" in universe["bybit"] for c in (TAIL, PERP_ONLY, NOWHERE))
    assert on_binance == 2 and on_bybit >= 1
    assert paths["/api/v3/klines"] == 2
    assert sum(n for p, n in paths.items() if p.startswith(("/fapi/", "/futures/"))) == 5 * on_binance
    assert sum(n for p, n in paths.items() if p.startswith("/v5/")) == 2 * on_bybit
    assert set(paths) <= {
        "/api/v3/klines", "/fapi/v1/klines", "/fapi/v1/openInterest", "/futures/data/openInterestHist",
        "/futures/data/globalLongShortAccountRatio", "/futures/data/topLongShortPositionRatio",
        "/v5/market/funding/history", "/v5/market/account-ratio",
    }  # fmt: skip
    # Watching moved no basket figure, and no watched coin is in a basket frame.
    assert after == before
    assert before["cvd"]["basket"]["cumulative_usd"] is not None and TAIL not in before["cvd"]["coins"]
    # The tail coin's detail: real figures, as for a basket coin.
    ena = views[TAIL]
    assert ena.message == "" and ena.bars == "1h bars" and ena.price is not None
    assert ena.change_pct is not None and ena.cvd_usd is not None and ena.ratio is not None
    assert len(ena.price_y) >= 2 and len(ena.cvd_y) >= 2
    assert ena.oi_change_24h_pct is not None and ena.oi_note == "binance"
    assert ena.funding_history and any(v is not None for v in ena.funding_history) and not ena.funding_note
    assert {row.venue for row in ena.oi} >= {"binance", "bybit"}  # Binance's from the watched OI call
    assert ena.share_pct is None and ena.share_note == "not in the basket"
    assert week.bars == "1d bars" and week.change_pct is not None  # beyond the hourly window: the daily bars
    # A perp-only coin: "no spot pair", its derivatives all there.
    hype = views[PERP_ONLY]
    assert f"{PERP_ONLY}: {NO_SPOT}" in hype.message and "its perpetuals below" in hype.message
    assert hype.status.text == NO_SPOT and hype.change_pct is None and hype.cvd_usd is None
    assert hype.funding and hype.oi_change_24h_pct is not None and hype.funding_history
    assert hype.perp_cvd_30d_usd is not None  # its Binance USD-M bars (the demo has them for perp-only coins)
    # A coin no venue lists: said, and no error anywhere.
    assert "no perpetual on the tracked venues either" in views[NOWHERE].message


async def test_loading_until_the_first_fetch_then_figures() -> None:
    session = demo_session()
    state, scheduler = session.state, session.scheduler
    try:
        watch(state, scheduler, session.config, TAIL, time.time())
        loading = build_coin_view(session.views.figures, TAIL, "24h")
        assert all((await scheduler.run_all_once(list(WATCHED_FEEDS))).values())
        loaded = build_coin_view(session.views.figures, TAIL, "24h")
    finally:
        await session.aclose()
    assert loading.message == f"loading {TAIL}: fetching its spot bars…" and loading.status.text == "loading"
    assert loading.change_pct is None and loading.cvd_usd is None  # unknown while loading, never 0
    assert loading.oi_note == "loading 24h history…" and loading.funding_note == "loading…"
    assert loading.long_short == ()
    assert loaded.message == "" and loaded.change_pct is not None and loaded.cvd_usd is not None
    assert loaded.funding_history and loaded.oi_change_24h_pct is not None and not loaded.funding_note


async def test_the_coin_screen_watches_its_coin_and_the_basket_cvd_stays() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_data(app, pilot, feeds=("cvd_daily", "cvd_hourly", "cvd_market", "oi_history",
                                                "funding_history", "funding_binance"))  # fmt: skip
        assert app.views is not None and app.state is not None
        figures = app.views.figures
        basket_before = figures.cvd_baskets()[0].total  # type: ignore[union-attr]
        market_before = figures.market_cvd().total  # type: ignore[union-attr]
        open_coin(app, TAIL)  # what Enter on the funding board's ENA row does
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CoinScreen) and app.state.watched.coins == [TAIL]
        for _ in range(400):
            view = screen.view
            if (view is not None and view.change_pct is not None and view.oi_change_24h_pct is not None
                    and view.funding_history):  # fmt: skip
                break
            await pilot.pause(0.05)
        else:
            pytest.fail(f"the {TAIL} detail never got its figures: {screen.view}")
        assert view.cvd_usd is not None and view.message == ""
        assert TAIL not in app.state.alt_daily and TAIL not in app.state.alt_hourly
        assert figures.cvd_baskets()[0].total == basket_before  # type: ignore[union-attr]
        assert figures.market_cvd().total == market_before  # type: ignore[union-attr]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        left = app.state.watched.left[TAIL]
        assert left is not None  # out of view, still watched for a while
        assert app.state.watched.expire(left + WATCH_LINGER_S) == [TAIL]
        assert app.state.watched.coins == [] and TAIL not in app.state.watched.hourly
