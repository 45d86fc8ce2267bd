"""End to end through real sockets: the demo emulator served on 127.0.0.1 (uvicorn, HTTP and websockets), the
console in live mode pointed at it, and faults switched on and off through the emulator's control API.

Each provider gets its own loopback address (127.0.0.2 = Binance spot, ...) so the shared HTTP client keeps a
budget per provider as it does on the real hosts: the test maps those addresses to the real hosts' budgets in
``sources.http.DEFAULT_BUDGETS`` and then checks, from the emulator's own request log, that no provider ever saw
more requests in a window than its budget allows, faults and retries included.

Test-side settings (not config keys): the scheduler's back-off is shortened (cap 2 s, unavailable retry 10 s)
and each feed's stale threshold is cut to a few seconds, so a whole fault-and-recover cycle fits in a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import loopback
from emulator.loopback import PROVIDERS, WS_HOST
from sources import http as http_mod
from tui.app.app import AltpulseApp
from tui.runtime.config import load_config
from widgets.btc_pane import BtcPane
from widgets.cvd_pane import CvdPane
from widgets.etf_pane import EtfPane

uvicorn = pytest.importorskip("uvicorn")

CADENCE = {
    "btc_ticker": 1, "btc_intraday": 3, "btc_ath": 5, "cvd_daily": 4, "cvd_hourly": 4, "funding": 2,
    "open_interest": 4, "liquidations_rest": 3, "etf": 30, "fear_greed": 2, "coingecko": 20, "equities": 4,
    "rates": 2,
}  # fmt: skip


class ServedEmulator(loopback.ServedEmulator):
    """The demo emulator on 127.0.0.1 plus one loopback address per provider, with the control API at hand."""

    def control(self, path: str, **params: str) -> dict[str, Any]:
        response = httpx.post(f"http://{WS_HOST}:{self.port}/_emulator/{path}", params=params, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def fault(self, *specs: str) -> None:
        for spec in specs:
            self.control("fault", spec=spec)


def write_config(path: Path, port: int) -> Path:
    return loopback.write_config(path, port, coins=["ETH", "SOL"], cadence=CADENCE, timeout_s=1.0)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ServedEmulator]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # live mode keeps CoinGecko history there
    budgets = dict(http_mod.DEFAULT_BUDGETS)
    loopback.map_budgets(budgets)
    monkeypatch.setattr(http_mod, "DEFAULT_BUDGETS", budgets)
    # Farside refuses us from the start (451): its keyless budget (4 a minute) is too tight to fault mid-run.
    with ServedEmulator(pre_faults=["/bitcoin-etf-flow-all-data/=status:451"]) as server:
        yield server


def screen_has_no_traceback(app: AltpulseApp) -> None:
    svg = app.export_screenshot()
    assert "Traceback" not in svg and "Error:" not in svg.split("altpulse", 1)[-1][:0]


def assert_panes_honest(app: AltpulseApp) -> None:
    """A pane whose primary feed is not fresh is marked stale: its figures are never presented as live."""
    now = time.time()
    feeds = app.scheduler.feeds
    for pane_cls, primary in ((BtcPane, "btc_ticker"), (CvdPane, "cvd_daily"), (EtfPane, "etf_btc")):
        pane = app.screen.query_one(pane_cls)
        if not feeds[primary].health.is_fresh(now - 1.5):  # the 1 Hz tick may lag by a second
            assert pane.has_class("-stale"), f"{pane_cls.__name__} shows {primary} as fresh"
            assert str(pane.border_subtitle).startswith("⚠")
    for venue in app.views.funding(now).venues:
        if not feeds[f"funding_{venue.venue}"].health.is_fresh(now):
            assert not venue.fresh, venue


async def wait_until(pilot: Any, predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.2)
    pytest.fail(f"timed out waiting for {what}")


def budget_violations(log: list[tuple[float, str, str, str]]) -> list[str]:
    """Hosts whose request count in some sliding window exceeded the provider's budget."""
    out = []
    for key, (ip, host) in PROVIDERS.items():
        limit, window = http_mod.DEFAULT_BUDGETS[host]
        times = sorted(t for t, local, _path, _kind in log if local == ip)
        start = 0
        for end, at in enumerate(times):
            while times[start] <= at - window:
                start += 1
            if end - start + 1 > limit:
                out.append(f"{key}: {end - start + 1} requests in {window:g}s > {limit:g}")
                break
    return out


async def test_console_survives_every_fault_and_recovers(served: ServedEmulator, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "config.toml", served.port), use_user_file=False)
    app = AltpulseApp(config, "live")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.scheduler is not None and app.state.liq_streams, 30, "boot")
        scheduler = app.scheduler
        scheduler.backoff_base, scheduler.backoff_cap, scheduler.unavailable_retry = 0.5, 2.0, 10.0
        for feed in scheduler.feeds.values():
            feed.stale_after = feed.health.stale_after = max(4.0, 2.5 * feed.cadence)
        for stream in app.state.liq_streams.values():
            stream.silence_timeout_s, stream.backoff_base_s, stream.backoff_max_s = 3.0, 0.3, 1.0
        core = ["btc_ticker", "btc_intraday", "cvd_daily", "funding_binance", "funding_bybit", "funding_okx",
                "funding_hyperliquid", "fear_greed", "rates"]  # fmt: skip
        await wait_until(pilot, lambda: all(scheduler.feeds[n].health.status() == "live" for n in core), 40,
                         "every core feed live")  # fmt: skip
        await wait_until(pilot, lambda: all(s.state == "live" for s in app.state.liq_streams.values()), 15,
                         "liquidation streams live")  # fmt: skip
        app.refresh_all_views()
        await pilot.pause(0.3)
        # On a loaded machine the views may lag the feeds by a tick, and Farside's first poll may come after the
        # core feeds': wait for them rather than racing the scheduler.
        await wait_until(pilot, lambda: not app.screen.query_one(BtcPane).has_class("-stale"), 10, "BTC pane live")
        # Farside answered 451 from the start: unavailable, and its pane says so.
        await wait_until(pilot, lambda: scheduler.feeds["etf_btc"].health.status() == "unavailable", 20,
                         "Farside unavailable")  # fmt: skip
        assert "unavailable here" in scheduler.feeds["etf_btc"].health.describe()
        assert app.screen.query_one(EtfPane).has_class("-stale")
        phase_start = time.time()

        # -- phase 1: HTTP faults on groups of endpoints --------------------------------------------------------
        expected = {
            "btc_ticker": ("/api/v3/=status:429:2", "HTTP 429"),
            "funding_bybit": ("/v5/=status:503", "HTTP 503"),
            "fear_greed": ("/fng/=malformed", "malformed JSON"),
            "rates": ("/graph/=timeout", "timed out"),
            "funding_binance": ("/fapi/v1/premiumIndex=reset", "connection failed"),
            "funding_okx": ("/api/v5/public/funding-rate=truncated", "malformed JSON"),
            "funding_hyperliquid": ("/info=nan_inf", "hyperliquid"),
        }
        served.fault(*(spec for spec, _ in expected.values()), "/q/d/l/=slow:2", "/v8/finance/chart/=slow:2")

        def all_failing() -> bool:
            return all(scheduler.feeds[n].health.error and reason in scheduler.feeds[n].health.error
                       for n, (_, reason) in expected.items())  # fmt: skip

        await wait_until(pilot, all_failing, 15, "every faulted feed to report its reason")
        now = time.time()
        for name, (_, reason) in expected.items():
            health = scheduler.feeds[name].health
            assert health.status(now) in ("retrying", "offline", "stale"), (name, health.describe(now))
            assert reason in health.describe(now), (name, health.describe(now))
        assert scheduler.feeds["btc_ticker"].health.status(now) != "live"
        # Once the figures age past their threshold, the panes say stale and show the reason.
        await wait_until(pilot, lambda: app.screen.query_one(BtcPane).has_class("-stale"), 10, "BTC pane stale")
        # Every venue's funding is stale: each is marked "not current" in the funding pane (the pane's own border
        # is decided by tui.views.builder._healths, see test_funding_pane_border_follows_the_venues below).
        await wait_until(pilot, lambda: not any(v.fresh for v in app.views.funding(time.time()).venues), 12,
                         "every funding venue stale")  # fmt: skip
        btc_subtitle = str(app.screen.query_one(BtcPane).border_subtitle)
        assert btc_subtitle.startswith("⚠") and "btc_" in btc_subtitle, btc_subtitle
        assert_panes_honest(app)
        screen_has_no_traceback(app)
        assert app.is_running

        # -- phase 2: websockets drop, then go silent -----------------------------------------------------------
        connections = {v: s.connections for v, s in app.state.liq_streams.items()}
        served.fault("ws:*=drop")
        await wait_until(pilot, lambda: all(s.connections > connections[v] and s.state == "live"
                                            for v, s in app.state.liq_streams.items()), 15,
                         "streams to reconnect after a drop")  # fmt: skip
        served.fault("ws:okx=silent")
        served.fault("ws:okx=drop")
        okx = app.state.liq_streams["okx"]
        await wait_until(pilot, lambda: okx.state != "live" and okx.error, 12, "silent OKX stream noticed")
        assert app.state.liq_streams["binance"].state == "live"
        screen_has_no_traceback(app)
        assert_panes_honest(app)
        fault_end = time.time()

        # -- phase 3: clear; everything recovers on its own -----------------------------------------------------
        served.control("clear")
        recovered = [*expected, "cvd_daily", "btc_intraday"]
        await wait_until(pilot, lambda: all(scheduler.feeds[n].health.status() == "live" for n in recovered), 25,
                         "feeds live again after the faults cleared")  # fmt: skip
        await wait_until(pilot, lambda: okx.state == "live", 15, "OKX stream live again")
        await wait_until(pilot, lambda: not app.screen.query_one(BtcPane).has_class("-stale")
                         and not app.screen.query_one(CvdPane).has_class("-stale")
                         and str(app.screen.query_one(BtcPane).border_subtitle).startswith("live")
                         and all(v.fresh for v in app.views.funding(time.time()).venues), 8,
                         "panes refreshed")  # fmt: skip
        assert_panes_honest(app)
        screen_has_no_traceback(app)
        assert app.is_running

        # -- budgets held throughout, faults and retries included -----------------------------------------------
        log = list(served.app.log)
        assert any(phase_start <= t <= fault_end for t, *_ in log)
        assert budget_violations(log) == []
        await asyncio.sleep(0)


def test_funding_pane_border_follows_the_venues() -> None:
    from tui.runtime.health import FeedHealth
    from tui.runtime.scheduler import Feed
    from tui.views.common import pane_status
    from tui.views.figures import Figures
    from tui.views.registry import PANE_FEEDS

    now = time.time()

    async def noop() -> None:
        return None

    feeds = {name: Feed(name, "x", 2.0, noop) for name in PANE_FEEDS["funding"]}
    for feed in feeds.values():
        feed.health = FeedHealth(feed.name, "x", 5.0, as_of=now - 60)  # every venue 60 s old: stale
    feeds["funding_history"].health = FeedHealth("funding_history", "bybit", 2250.0, as_of=now - 60)  # fresh
    figures = Figures.__new__(Figures)
    figures.scheduler = type("S", (), {"feeds": feeds})()
    assert pane_status(figures.healths("funding"), now).fresh is False
