"""The polling scheduler and feed health: back-off, Retry-After, unavailable sources, pause, no overlap."""

from __future__ import annotations

import asyncio

import pytest

from sources.errors import RateLimited, SourceError, SourceUnavailable
from tui.runtime.health import FeedHealth, format_age
from tui.runtime.scheduler import Feed, Scheduler


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


def make(outcomes: list[object], clock: Clock) -> tuple[Scheduler, list[int]]:
    calls: list[int] = []

    async def run() -> None:
        calls.append(1)
        outcome = outcomes.pop(0) if outcomes else None
        if isinstance(outcome, BaseException):
            raise outcome

    return Scheduler([Feed("f", "binance", 10.0, run)], clock=clock, backoff_base=2.0), calls


async def test_success_marks_live_then_stale_with_age() -> None:
    clock = Clock()
    sched, _ = make([None], clock)
    assert await sched.run_once("f")
    health = sched.feeds["f"].health
    assert health.status(clock.now) == "live"
    assert health.describe(clock.now + 31) == "stale 31s"
    assert not health.is_fresh(clock.now + 31)


async def test_source_error_backs_off_and_says_why() -> None:
    clock = Clock()
    sched, _ = make([SourceError("bybit", "/v5/market/tickers", "bad gateway", status=502)], clock)
    assert not await sched.run_once("f")
    health = sched.feeds["f"].health
    assert health.status(clock.now) == "retrying"
    assert "HTTP 502" in health.describe(clock.now)
    assert health.retry_at is not None and health.retry_at >= clock.now + 2.0


async def test_rate_limit_honours_retry_after() -> None:
    clock = Clock()
    sched, _ = make(
        [RateLimited("binance", "/api/v3/klines", "rate limited", retry_after=42, status=429)], clock
    )
    await sched.run_once("f")
    assert sched.feeds["f"].health.retry_at == clock.now + 42


async def test_unavailable_source_is_not_hammered() -> None:
    clock = Clock()
    sched, _ = make(
        [SourceUnavailable("binance", "/fapi", "not available from this location", status=451)], clock
    )
    await sched.run_once("f")
    health = sched.feeds["f"].health
    assert health.status(clock.now) == "unavailable"
    assert health.retry_at == clock.now + sched.unavailable_retry
    assert "unavailable here" in health.describe(clock.now)


async def test_a_bug_in_a_feed_does_not_escape() -> None:
    clock = Clock()
    sched, _ = make([KeyError("boom")], clock)
    assert not await sched.run_once("f")
    assert "internal error: KeyError" in (sched.feeds["f"].health.error or "")


async def test_three_failures_without_data_is_offline_and_recovery_clears_it() -> None:
    clock = Clock()
    errors = [SourceError("x", "/y", "connection failed") for _ in range(3)]
    sched, _ = make([*errors, None], clock)
    for _ in range(3):
        await sched.run_once("f")
    health = sched.feeds["f"].health
    assert health.status(clock.now) == "offline"
    assert await sched.run_once("f")
    assert health.status(clock.now) == "live" and health.error is None and health.failures == 0


async def test_backoff_grows_and_is_capped() -> None:
    sched, _ = make([], Clock())
    sched.backoff_cap = 60
    delays = [sched._backoff(n) for n in range(1, 30)]
    assert all(2.0 <= d <= 60 for d in delays)


async def test_feed_loop_never_overlaps_itself_and_refresh_wakes_it() -> None:
    running = 0
    peak = 0
    runs = 0

    async def slow() -> None:
        nonlocal running, peak, runs
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        runs += 1

    sched = Scheduler([Feed("slow", "x", 3600.0, slow)])
    task = asyncio.create_task(sched.run_feed("slow"))
    await asyncio.sleep(0.05)
    for _ in range(5):
        sched.refresh_now()  # asks again while it may still be running
    await asyncio.sleep(0.1)
    task.cancel()
    assert peak == 1
    assert runs == 2  # the first run, then exactly one woken run


async def test_pause_holds_the_feeds() -> None:
    runs = 0

    async def fast() -> None:
        nonlocal runs
        runs += 1

    sched = Scheduler([Feed("fast", "x", 0.01, fast)])
    sched.pause()
    task = asyncio.create_task(sched.run_feed("fast"))
    await asyncio.sleep(0.05)
    assert runs == 0
    sched.resume()
    await asyncio.sleep(0.05)
    task.cancel()
    assert runs >= 2


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5s"), (89, "89s"), (600, "10m"), (7200, "2h"), (200_000, "2d")]
)
def test_format_age(seconds: float, text: str) -> None:
    assert format_age(seconds) == text


def test_waiting_before_first_fetch() -> None:
    assert FeedHealth("f", "p", 30).status(0) == "waiting"


async def test_data_age_on_the_market_clock_and_frozen_values():
    """A feed's data goes stale when its newest figure is old on the market clock (a replay's hour), and a feed
    that answers the same values poll after poll for longer than ``frozen_after`` is suspect, not live."""
    from tui.runtime.scheduler import Delivered

    wall = [1_000.0]
    market = [5_000_000.0]
    answers = iter([Delivered(4_999_000_000, ("x", 1.0)), Delivered(5_000_000_000, ("x", 1.0)),
                    Delivered(5_000_100_000, ("x", 2.0))])  # fmt: skip

    async def run():
        return next(answers)

    feed = Feed("t", "p", 10.0, run, max_data_age=300.0, frozen_after=60.0)
    scheduler = Scheduler([feed], clock=lambda: wall[0], market_clock=lambda: market[0])
    assert await scheduler.run_once("t")
    # The newest figure is 1,000 s old on the market clock: stale, with its time, though the fetch just happened.
    assert feed.health.status(wall[0]) == "stale" and "data to" in feed.health.describe(wall[0])
    market[0] += 100.0
    wall[0] += 100.0
    assert await scheduler.run_once("t")
    assert feed.health.status(wall[0]) == "suspect" and "frozen" in feed.health.describe(wall[0])
    assert not feed.health.is_fresh(wall[0])
    market[0] += 10.0
    wall[0] += 10.0
    assert await scheduler.run_once("t")
    assert feed.health.status(wall[0]) == "live" and feed.health.is_fresh(wall[0])


async def test_general_stale_factor_decides_when_every_built_feed_reads_stale() -> None:
    """config.toml's ``general.stale_factor``: a feed's figures are stale after that many cadences (min 30 s)."""
    from sources.http import HttpClient
    from tui.runtime.config import load_config
    from tui.runtime.feeds import build_feeds
    from tui.runtime.modes import Runtime
    from tui.runtime.state import MarketState

    http = HttpClient(retries=0)  # never asked: building feeds makes no request
    runtime = Runtime("demo", "SIMULATED", http, lambda: 1_795_435_200_000, simulated=True)
    shipped = load_config(use_user_file=False)
    assert shipped.general.stale_factor == 3.0
    try:
        usual = {f.name: f for f in build_feeds(shipped, runtime, MarketState())}
        patient = {f.name: f for f in build_feeds(shipped.with_overrides("general", stale_factor=10),
                                                  runtime, MarketState())}  # fmt: skip
    finally:
        await http.aclose()
    assert usual.keys() == patient.keys() and {"btc_intraday", "funding_okx", "etf_btc"} <= usual.keys()
    for name, feed in usual.items():  # BTC, CVD, derivatives and macro feeds alike
        assert feed.health.stale_after == max(3.0 * feed.cadence, 30.0), name
        assert patient[name].health.stale_after == max(10.0 * feed.cadence, 30.0), name

    async def delivered() -> None:
        return None

    clock = Clock()
    feeds = [usual["btc_intraday"], patient["btc_intraday"]]  # a 30 s cadence
    for feed in feeds:
        feed.run = delivered
        assert await Scheduler([feed], clock=clock).run_once(feed.name)
    clock.now += 100.0  # past 3 x 30 s, short of 10 x 30 s
    assert [f.health.status(clock.now) for f in feeds] == ["stale", "live"]
    clock.now += 201.0
    assert [f.health.status(clock.now) for f in feeds] == ["stale", "stale"]


def test_a_feed_with_its_own_stale_after_keeps_it() -> None:
    async def run() -> None:
        return None

    feed = Feed("f", "x", 10.0, run, stale_after=45.0)
    feed.set_stale_factor(10.0)
    assert feed.stale_after == feed.health.stale_after == 45.0
    derived = Feed("g", "x", 5.0, run)
    assert derived.health.stale_after == 30.0  # 3 x 5 s, raised to the 30 s floor
    derived.set_stale_factor(8.0)
    assert derived.stale_after == derived.health.stale_after == 40.0


async def test_a_snapshot_refetches_what_went_stale_during_its_pass() -> None:
    """A one-pass snapshot that took longer than the ticker's freshness fetches the ticker again, not the rest."""
    from tui.commands.snapshot import refetch_aged

    clock = Clock()
    calls: dict[str, int] = {"ticker": 0, "daily": 0}

    def counting(name: str):
        async def run() -> None:
            calls[name] += 1
            if name == "daily":
                clock.now += 45.0  # the market's hundreds of pairs take 45 s on this link

        return run

    sched = Scheduler([Feed("ticker", "binance", 2.0, counting("ticker")),
                       Feed("daily", "binance", 300.0, counting("daily"))], clock=clock)  # fmt: skip
    await sched.run_once("ticker")
    await sched.run_once("daily")
    assert sched.feeds["ticker"].health.status(clock.now) == "stale"
    assert await refetch_aged(sched) == ["ticker"]
    assert calls == {"ticker": 2, "daily": 1}
    assert {f.health.status(clock.now) for f in sched.feeds.values()} == {"live"}
    assert await refetch_aged(sched) == []  # nothing aged: no request
