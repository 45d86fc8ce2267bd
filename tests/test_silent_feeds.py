"""A silent feed is not a live feed: a stream that is connected but delivers nothing while the other venues deliver,
and a REST provider that answers 200 with values that never move, are shown as suspect.

The Binance case is the real one of 2026: a console still on the unrouted ``/ws/!forceOrder@arr`` URL, which Binance
retired on 2026-04-23, gets a handshake and nothing else. The emulator serves that path exactly so.
"""

from __future__ import annotations

import pytest

from emulator.wire import Fault
from tui.runtime.config import load_config

LEGACY = "wss://fstream.binance.com/ws/!forceOrder@arr"  # what a console without the 2026 migration would use
SPEED = 60.0  # one wall second is one market minute: the demo's peers deliver several records a second


def legacy_config():
    # with_overrides bypasses the file loader's migration on purpose: this is the console that did not migrate.
    return load_config(use_user_file=False).with_overrides("sources", binance_ws=LEGACY)


async def test_silent_binance_in_snapshot_json_within_the_stated_time() -> None:
    from tui.commands.snapshot import collect_snapshot

    config = legacy_config()
    silent_after = config.liquidations.silent_after  # 120 s of market time
    listen = 2 * silent_after / SPEED + 4  # the threshold, plus time for the peers' records to pile up
    doc = await collect_snapshot(config, "demo", None, None, listen=listen, speed=SPEED)
    venues = doc["liquidations"]["venues"]
    assert venues["binance"]["state"] == "silent" and venues["binance"]["records"] == 0
    assert venues["binance"]["silent_for_s"] >= silent_after
    assert "silent" in venues["binance"]["detail"] and "(suspect)" in venues["binance"]["detail"]
    assert {venues["bybit"]["state"], venues["okx"]["state"]} == {"live"}
    assert doc["sources"]["liq_binance"]["status"] == "suspect"
    # The cascade counts the delivering venues only, and says so in the driver's data-quality note.
    assert doc["liquidations"]["counted_venues"] == ["bybit", "okx"]
    cascade = next(d for d in doc["drivers"] if d["id"] == "liquidation_cascade")
    assert cascade["quality"].startswith("counting bybit, okx; left out: binance silent")


async def test_routed_binance_url_is_not_silent() -> None:
    from tui.commands.snapshot import collect_snapshot

    config = load_config(use_user_file=False)
    doc = await collect_snapshot(config, "demo", None, None, listen=6, speed=SPEED)
    venues = doc["liquidations"]["venues"]
    assert venues["binance"]["state"] == "live" and venues["binance"]["records"] > 0
    assert doc["liquidations"]["counted_venues"] == ["binance", "bybit", "okx"]


async def test_silent_binance_on_screen() -> None:
    from tui.app.app import AltpulseApp
    from widgets.liquidations_pane import LiquidationsPane
    from widgets.status_bar import StatusBar

    app = AltpulseApp(legacy_config(), "demo", speed=SPEED)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(400):
            await pilot.pause(0.05)
            health = app.views.stream_health() if app.views is not None else {}
            if health.get("binance") is not None and health["binance"].state == "silent":
                break
        else:
            pytest.fail("binance never showed as silent")
        app.refresh_all_views()
        await pilot.pause(0.3)
        pane_text = " ".join(str(w.render()) for w in app.screen.query_one(LiquidationsPane).query("TextBox"))
        bar_text = str(app.screen.query_one(StatusBar).render())
        assert "binance" in pane_text and "silent" in pane_text and "(suspect)" in pane_text
        assert "liq_binance" in bar_text and "silent" in bar_text


async def test_frozen_rest_answers_are_suspect() -> None:
    """A price that has not moved for an hour, served with HTTP 200 (a stuck cache): suspect, not live."""
    from emulator.demo import demo_emulator
    from emulator.transport import EmulatorTransport
    from sources.http import HttpClient
    from tests.conftest import FROZEN_NOW_MS
    from tui.runtime.feeds import build_feeds
    from tui.runtime.modes import Runtime
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState

    emu = demo_emulator(FROZEN_NOW_MS, speed=0)
    emu.faults["/api/v3/ticker/24hr"] = Fault("frozen")
    http = HttpClient(EmulatorTransport(emu), retries=0)
    runtime = Runtime("demo", "SIMULATED", http, emu.now_ms, simulated=True)
    config = load_config(use_user_file=False)
    feeds = {f.name: f for f in build_feeds(config, runtime, MarketState())}
    wall = [1_000.0]
    scheduler = Scheduler([feeds["btc_ticker"]], clock=lambda: wall[0], market_clock=lambda: emu.now_ms() / 1000)
    health = feeds["btc_ticker"].health
    try:
        for minute in range(62):
            assert await scheduler.run_once("btc_ticker")
            # Stamped "now" every time, so never stale: only the frozen values give it away, after an hour.
            assert health.status(wall[0]) == ("suspect" if minute > 60 else "live"), f"minute {minute}"
            emu.clock.advance(60_000)
            wall[0] += 60.0
        assert await scheduler.run_once("btc_ticker")
        assert "frozen" in health.describe(wall[0]) and "(suspect)" in health.describe(wall[0])
        assert not health.is_fresh(wall[0])
        del emu.faults["/api/v3/ticker/24hr"]
        assert await scheduler.run_once("btc_ticker")
        assert health.status(wall[0]) == "live"  # values move again: live again
    finally:
        await http.aclose()


def test_silence_rule_needs_busy_peers() -> None:
    """A quiet market is not a broken feed: only a venue lagging peers that deliver is suspect."""
    import numpy as np

    from analytics.liquidations import venue_silence

    now = 1_000_000
    busy = {"binance": np.array([], dtype=np.int64), "bybit": np.arange(now - 100_000, now, 4_000, dtype=np.int64)}
    out = venue_silence(busy, {"binance": now - 150_000, "bybit": now - 150_000}, now, silent_after_ms=120_000,
                        peer_min=20)  # fmt: skip
    assert out["binance"].suspect and out["binance"].peer_records == 25 and not out["bybit"].suspect
    quiet = {"binance": np.array([], dtype=np.int64), "bybit": np.array([now - 5_000], dtype=np.int64)}
    out = venue_silence(quiet, {"binance": now - 600_000, "bybit": now - 600_000}, now, silent_after_ms=120_000,
                        peer_min=20)  # fmt: skip
    assert not out["binance"].suspect  # silent 10 minutes, but so was everyone
    # Silent since it connected counts from the connection, not from the last record before it.
    late = {"binance": np.array([now - 900_000], dtype=np.int64), "bybit": busy["bybit"]}
    out = venue_silence(late, {"binance": now - 60_000, "bybit": now - 150_000}, now, silent_after_ms=120_000,
                        peer_min=20)  # fmt: skip
    assert out["binance"].silent_ms == 60_000 and not out["binance"].suspect
