"""Every MarketState container is trimmed on write: feed writes keep their sizes bounded as the clock moves.

Runs the real feeds against the demo emulator with a frozen virtual clock that the tests advance; no timing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.conftest import FROZEN_NOW_MS
from tui.boot import Launch, build_runtime
from tui.runtime.config import load_config
from tui.runtime.feeds import build_feeds
from tui.runtime.scheduler import Scheduler
from tui.runtime.state import INTRADAY_KEEP_MS, MarketState

HOUR_MS = 3_600_000
COINS = ["ETH", "SOL"]


class Rig:
    def __init__(self) -> None:
        self.config = load_config(use_user_file=False).with_overrides("general", coins=COINS)
        self.runtime, self.emulator = build_runtime(self.config, Launch("demo", now_ms=FROZEN_NOW_MS))
        self.state = MarketState()
        self.scheduler = Scheduler(build_feeds(self.config, self.runtime, self.state))

    async def run(self, *names: str) -> None:
        results = await self.scheduler.run_all_once(list(names))
        assert all(results.values()), {n: self.scheduler.feeds[n].health.error for n in names}

    def advance(self, ms: int) -> None:
        self.emulator.clock.advance(ms)

    def now(self) -> pd.Timestamp:
        return pd.Timestamp(self.runtime.now_ms(), unit="ms", tz="UTC")


@pytest.fixture
async def rig() -> Any:
    rig = Rig()
    yield rig
    await rig.runtime.aclose()


async def test_btc_intraday_keeps_about_26_hours(rig: Rig) -> None:
    cap = INTRADAY_KEEP_MS // 300_000 + 1
    for _ in range(4):
        await rig.run("btc_intraday")
        frame = rig.state.btc_intraday
        assert 2 <= len(frame) <= cap
        assert frame.index[0] >= rig.now() - pd.Timedelta(milliseconds=INTRADAY_KEEP_MS + 300_000)
        rig.advance(5 * HOUR_MS)


async def test_hourly_frames_stay_within_the_hourly_window(rig: Rig) -> None:
    days = rig.config.cvd.hourly_days
    sizes = []
    for _ in range(6):
        await rig.run("cvd_hourly")
        for coin in COINS:
            frame = rig.state.alt_hourly[coin]
            assert len(frame) <= days * 24 + 1
            assert frame.index[0] >= rig.now() - pd.Timedelta(days=days)
            assert frame.index.is_monotonic_increasing and not frame.index.has_duplicates
        sizes.append(len(rig.state.alt_hourly[COINS[0]]))
        rig.advance(3 * HOUR_MS + 17 * 60_000)  # incremental fetches across hour boundaries
    assert max(sizes) - min(sizes) <= 1  # rolling window: full from the first fetch, never growing


async def test_daily_frames_grow_only_by_the_days_that_pass(rig: Rig) -> None:
    await rig.run("cvd_daily")
    first = len(rig.state.alt_daily[COINS[0]])
    rig.advance(20 * HOUR_MS)
    await rig.run("cvd_daily")
    assert len(rig.state.alt_daily[COINS[0]]) <= first + 1  # from cvd.start to now: one bar per day
    assert set(rig.state.alt_daily) == set(COINS)


async def test_market_frames_grow_only_by_the_days_that_pass(rig: Rig) -> None:
    await rig.run("cvd_market")
    pairs = set(rig.state.market_daily)
    sizes = {coin: len(frame) for coin, frame in rig.state.market_daily.items()}
    assert pairs and not pairs & set(COINS)  # the basket's pairs are alt_daily's, not held twice
    for _ in range(3):
        rig.advance(8 * HOUR_MS)  # open-day refreshes across a day boundary
        await rig.run("cvd_market")
    assert set(rig.state.market_daily) == pairs
    for coin, frame in rig.state.market_daily.items():
        assert sizes[coin] <= len(frame) <= sizes[coin] + 1 and frame.index.is_unique, coin


async def test_derivative_histories_are_replaced_not_appended(rig: Rig) -> None:
    periods = rig.config.funding.history_periods
    coins = len(COINS) + 1  # BTC too
    for _ in range(3):
        await rig.run("funding_history", "oi_history", "funding_binance", "funding_bybit")
        assert len(rig.state.funding_history) <= coins * (periods + 2)
        assert len(rig.state.oi_history) <= coins * 26
        for snap in rig.state.derivs.values():
            assert len(snap.funding) <= 4 * coins + 1000  # one bulk snapshot per venue, replaced each time
        assert set(rig.state.derivs) <= {"binance", "bybit", "okx", "hyperliquid"}
        rig.advance(8 * HOUR_MS)


async def test_global_history_keeps_45_days() -> None:
    from tui.runtime.global_history import GLOBAL_HISTORY_DAYS, GlobalHistory

    history = GlobalHistory(None)

    class Snap:
        def __init__(self, t: pd.Timestamp) -> None:
            self.time = t
            self.btc_dominance_pct, self.stablecoin_share_pct, self.total_mcap_usd = 58.0, 7.0, 3e12

    start = pd.Timestamp("2026-01-01", tz="UTC")
    for i in range(0, 60 * 24, 6):  # 60 days, one snapshot every 6 h
        history.add(Snap(start + pd.Timedelta(hours=i)))
    frame = history.frame
    assert frame["time"].iloc[-1] - frame["time"].iloc[0] <= pd.Timedelta(days=GLOBAL_HISTORY_DAYS)
    assert len(frame) <= GLOBAL_HISTORY_DAYS * 4 + 1


def test_liquidation_tape_is_trimmed_by_age_and_capped_by_rows() -> None:
    from analytics.liquidations import LiquidationTape
    from records.liquidations import Liquidation

    tape = LiquidationTape(max_rows=500, max_age=pd.Timedelta(days=2))
    now = FROZEN_NOW_MS
    for hour in range(24 * 5):  # five days, 10 liquidations an hour
        t = now + hour * HOUR_MS
        tape.extend(Liquidation(t + i, "binance", "ETH", "long", 1.0, 2000.0, 2000.0) for i in range(10))
        assert len(tape) <= 500
        if hour % 6 == 0:
            tape.trim(t)
            assert tape.arrays()[0].min() >= t - 2 * 24 * HOUR_MS
    assert len(tape._time) <= 500 + max(1024, 500 // 4)  # the buffer itself never grows


async def test_okx_rest_fallback_feeds_a_bounded_tape(rig: Rig) -> None:
    from tui.runtime.feeds_derivs import start_liquidation_tape

    start_liquidation_tape(rig.config, rig.runtime, rig.state)
    tape = rig.state.liq_tape
    before = len(tape)
    for _ in range(5):
        await rig.run("liq_okx_rest")
        rig.advance(2 * HOUR_MS)
        tape.trim(rig.runtime.now_ms())
        assert len(tape) <= tape.max_rows
        assert tape.arrays()[0].min() >= rig.runtime.now_ms() - tape.max_age_ms
    assert len(tape) <= before + 5 * 1000


async def test_okx_rest_fallback_never_records_a_liquidation_twice(rig: Rig) -> None:
    """The REST fallback answers with OKX's latest orders, which the seeded tape (or the websocket before it
    dropped) already holds: they must not be counted again."""
    from tui.runtime.feeds_derivs import start_liquidation_tape

    start_liquidation_tape(rig.config, rig.runtime, rig.state)
    tape = rig.state.liq_tape

    def okx_rows() -> pd.DataFrame:
        frame = tape.frame()
        return frame[frame["exchange"] == "okx"]

    before = len(okx_rows())
    assert before > 0  # the demo seeds a recording that includes OKX
    await rig.run("liq_okx_rest")
    await rig.run("liq_okx_rest")
    rows = okx_rows()
    assert len(rows) == before
    rig.advance(HOUR_MS)  # new liquidations happen: only those are added, once
    await rig.run("liq_okx_rest")
    await rig.run("liq_okx_rest")
    rows = okx_rows()
    assert len(rows) >= before
    assert not rows.duplicated(["time", "coin", "side", "qty", "price"]).any()


def test_emulator_request_log_is_bounded(rig: Rig) -> None:
    from emulator.wire import EmuRequest

    emulator = rig.emulator
    for _ in range(12_000):
        emulator.handle(EmuRequest("GET", "/no/such/route", {}))
    assert len(emulator.requests) <= 10_001
