"""Perp CVD: Binance USD-M klines served as Binance documents them (``/fapi/v1/klines``: the spot rows, up to 1,500
a call, weight by limit), read by the console's own client, summed as the spot basket is, and shown beside it."""

from __future__ import annotations

import httpx
import pytest

from emulator import EmulatorTransport
from emulator.demo import demo_emulator
from sources.binance_futures import BinanceFutures
from sources.errors import SourceError
from sources.http import HttpClient
from tests.conftest import FROZEN_NOW_MS

BASE = "https://fapi.binance.com"
DAY = 86_400_000
START = 1_735_689_600_000  # 2025-01-01


@pytest.fixture(scope="module")
def emu():  # type: ignore[no-untyped-def]
    return demo_emulator(FROZEN_NOW_MS, speed=0.0)


async def test_perp_klines_route_follows_the_documented_limits(emu) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as client:
        full = await client.get(f"{BASE}/fapi/v1/klines", params={"symbol": "ETHUSDT", "interval": "1h",
                                                                    "limit": 5000})  # fmt: skip
        assert full.status_code == 200 and len(full.json()) <= 1500
        assert full.headers["X-MBX-USED-WEIGHT-1M"] == "10"  # over 1,000 bars: weight 10
        small = await client.get(f"{BASE}/fapi/v1/klines", params={"symbol": "ETHUSDT", "interval": "1d",
                                                                     "limit": 50})  # fmt: skip
        rows = small.json()
        assert small.headers["X-MBX-USED-WEIGHT-1M"] == "1" and len(rows) == 50
        assert all(len(r) == 12 for r in rows) and max(r[0] for r in rows) <= FROZEN_NOW_MS  # nothing after the clock
        taker, quote = float(rows[-2][10]), float(rows[-2][7])
        assert 0 < taker < quote
        bad = await client.get(f"{BASE}/fapi/v1/klines", params={"symbol": "NOPEUSDT", "interval": "1d"})
        assert bad.status_code == 400 and bad.json() == {"code": -1121, "msg": "Invalid symbol."}


async def test_the_client_pages_from_the_start_and_names_an_unknown_symbol(emu) -> None:  # type: ignore[no-untyped-def]
    http = HttpClient(EmulatorTransport(emu), timeout=2.0, budgets={})
    futures = BinanceFutures(http, BASE)
    try:
        daily = await futures.klines("SOLUSDT", "1d", start_ms=START, now_ms=FROZEN_NOW_MS, limit=200)
        # Two years of days in 200-bar pages: paged forward, no bar twice, none after the clock, today still open.
        assert len(daily) > 600 and daily.index.is_unique and daily.index.is_monotonic_increasing
        assert daily.index[0].value // 1_000_000 == START
        assert daily.index[-1].value // 1_000_000 <= FROZEN_NOW_MS and bool(daily["provisional"].iloc[-1])
        # A startTime before the data (the demo keeps perp hours for its last days only) answers from the first
        # bar there is, as Binance does for a contract listed later, rather than nothing.
        hourly = await futures.klines("SOLUSDT", "1h", start_ms=FROZEN_NOW_MS - 80 * DAY, now_ms=FROZEN_NOW_MS)
        assert 24 < len(hourly) < 24 * 5 and hourly.index[-1].value // 1_000_000 <= FROZEN_NOW_MS
        with pytest.raises(SourceError, match="Invalid symbol"):
            await futures.klines("NOPEUSDT", "1d", start_ms=START, now_ms=FROZEN_NOW_MS)
    finally:
        await http.aclose()


async def test_perp_cvd_sits_beside_spot_cvd_in_the_pane_and_the_snapshot() -> None:
    from tui.boot import Launch, boot
    from tui.commands.snapshot import build_snapshot
    from tui.runtime.config import load_config

    config = load_config(None).with_overrides("general", coins=["ETH", "SOL"])
    session = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS))
    try:
        assert await session.scheduler.run_once("cvd_daily") and await session.scheduler.run_once("cvd_perp_daily")
        assert set(session.state.perp_daily) == {"ETH", "SOL"}
        view = session.views.build("cvd")
        assert view.perp_coins == 2 and view.perp_change_30d_usd is not None and view.perp_ratio_30d is not None
        doc = build_snapshot(session.views, session.scheduler)
        perp = doc["cvd"]["perp"]
        assert perp["market"] == "binance_usdm" and set(perp["coins"]) == {"ETH", "SOL"}
        total = sum(c["cumulative_usd"] for c in perp["coins"].values())
        assert perp["basket"]["cumulative_usd"] == pytest.approx(total, rel=1e-9)
        # The demo's story: spot sells while leverage buys, so perp CVD holds up where spot CVD bleeds.
        assert perp["basket"]["change_30d_usd"] > doc["cvd"]["basket"]["change_30d_usd"]
        from tui.views.coin import build_coin_view

        coin = build_coin_view(session.views.figures, "ETH", "24h")
        assert coin.perp_cvd_30d_usd == pytest.approx(perp["coins"]["ETH"]["delta_30d_usd"])
        assert build_coin_view(session.views.figures, "BTC", "24h").perp_cvd_30d_usd is None  # not in the basket
    finally:
        await session.aclose()
