"""Recording and restoring through a real store file: a restarted demo gets its tape, its cascade baseline and its
feeds back at once with the gap it was down; followers show the collector's figures and make no request; a store
that stops taking writes turns recording off with a status-bar warning. The codec round-trips what feeds deliver."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import time_machine

from analytics.liquidations import cascade as cascade_of
from store.sqlite import SqliteStore
from tests.conftest import FROZEN_NOW_MS
from tui.boot import Launch, Session, boot
from tui.runtime.config import load_config
from tui.runtime.state_codec import dumps, loads
from widgets.status_bar import status_text

MINUTE = 60_000


@pytest.fixture
def config():  # type: ignore[no-untyped-def]
    return load_config(None).with_overrides("general", coins=["ETH", "SOL"])


def drain(session: Session) -> None:
    """Hand every pending tape row to the writer and commit (what the 1 Hz tick and the thread do over time)."""
    recorder = session.recorder
    assert recorder is not None
    tape = session.state.liq_tape
    assert tape is not None
    for _ in range(100):
        session.tick()
        recorder.writer.commit()
        if recorder._tape_mark >= tape.appended:
            return
    raise AssertionError("the recorder did not catch up with the tape")


async def test_a_restarted_demo_restores_tape_baseline_and_feeds_with_the_gap(config, tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    first = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS, record=True, store=path))
    first.start_streams()
    await first.scheduler.run_all_once(["btc_ticker", "btc_intraday", "cvd_daily", "cvd_perp_daily", "cvd_market",
                                        "funding_binance", "etf_btc"])  # fmt: skip
    drain(first)
    tape1 = first.state.liq_tape
    assert tape1 is not None and len(tape1) > 1000
    frame1 = tape1.frame()
    since1 = tape1.recorded_since_ms
    ticker1 = first.state.btc_ticker
    fetched1 = first.scheduler.feeds["btc_ticker"].health.as_of
    daily1 = dict(first.state.alt_daily)
    perp1 = dict(first.state.perp_daily)
    market1, pairs1 = dict(first.state.market_daily), first.state.spot_pairs
    market_cvd1 = first.views.figures.market_cvd()
    intraday1 = first.state.btc_intraday
    await first.aclose()

    later = FROZEN_NOW_MS + 5 * MINUTE  # "restarted after a few minutes"
    # How long the restore takes is measured by benchmarks/recorder.py, not asserted here (no timed assertions).
    second = boot(config, Launch("demo", now_ms=later, record=True, store=path))
    second.start_streams()
    try:
        tape2 = second.state.liq_tape
        assert tape2 is not None
        frame2 = tape2.frame()
        # The recording, not the new run's simulated seed: the same rows (the tape's 35 days back from the new
        # now), the same record start.
        window = later - 35 * 1440 * MINUTE
        kept = frame1[frame1["time"] >= window].reset_index(drop=True)
        pd.testing.assert_frame_equal(frame2, kept)
        assert tape2.recorded_since_ms == max(since1, window)
        assert second.restored_tape is not None and second.restored_tape.liquidations == len(kept)
        # The five minutes nobody recorded are a gap, not quiet: shown, and left out of the baseline.
        assert tape2.gaps == ((FROZEN_NOW_MS, later),)
        btc = pd.Series([100.0, 99.0], index=np.array([later - 60 * MINUTE, later]))
        c = cascade_of(tape2, btc, later)
        expected = cascade_of(kept, btc, later, recorded_since=max(since1, window))
        # A five-minute gap lies in the last hour (the numerator, never in the median): the baseline is whole, the
        # last hour's total says it is a lower bound.
        # (The tape sums its hours from a running total, the frame row by row: equal to float rounding.)
        assert c.hours_in_median == expected.hours_in_median
        assert c.median_hourly == pytest.approx(expected.median_hourly, rel=1e-12)
        assert not c.complete and "last hour was partly not recorded" in c.reason
        view = second.views.build("liquidations", time.time())
        assert view.cascade is not None and "1 gap (5 min)" in view.cascade.recorded_for
        # Feeds restored with their recorded fetch time: the age shows until they fetch again.
        assert "btc_ticker" in second.restored_feeds
        assert second.state.btc_ticker == ticker1
        assert second.scheduler.feeds["btc_ticker"].health.as_of == pytest.approx(fetched1, abs=0.001)
        # Kline frames come back from the klines rows, bar for bar, in the parsers' layout.
        assert second.state.alt_daily.keys() == {"ETH", "SOL"}
        for coin, frame in daily1.items():
            pd.testing.assert_frame_equal(second.state.alt_daily[coin], frame, obj=coin)
        pd.testing.assert_frame_equal(second.state.btc_intraday, intraday1)
        assert perp1 and second.state.perp_daily.keys() == perp1.keys()  # perp bars: their own market's rows
        for coin, frame in perp1.items():
            pd.testing.assert_frame_equal(second.state.perp_daily[coin], frame, obj=f"perp {coin}")
        # The market CVD's listing and its pairs outside the basket (the basket's are alt_daily's) come back too.
        assert second.state.spot_pairs == pairs1 and pairs1 is not None and {"ETH", "SOL"} <= set(pairs1.symbols)
        assert market1 and second.state.market_daily.keys() == market1.keys() and not {"ETH", "SOL"} & set(market1)
        for coin, frame in market1.items():
            pd.testing.assert_frame_equal(second.state.market_daily[coin], frame, obj=f"market {coin}")
        restored = second.views.figures.market_cvd()
        assert market_cvd1 is not None and restored is not None and restored.pairs == market_cvd1.pairs
        assert restored.total == pytest.approx(market_cvd1.total)
        assert second.state.etf_btc is not None
    finally:
        await second.aclose()


async def test_a_store_that_stops_taking_writes_turns_recording_off_in_the_status_bar(config, tmp_path: Path) -> None:
    session = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS, record=True, store=tmp_path / "demo.sqlite"))
    session.start_streams()
    try:
        recorder = session.recorder
        assert recorder is not None
        drain(session)
        store = recorder.store
        assert isinstance(store, SqliteStore)
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
        await session.scheduler.run_all_once(["cvd_daily", "cvd_hourly"])
        recorder.writer.commit()
        assert recorder.failed is not None
        view = session.views.status(session.scheduler)
        assert view.recording.startswith("recording off") and "full" in view.recording
        assert "recording off" in status_text(view, 160).plain
        # The console runs on: the feeds still deliver into memory.
        assert await session.scheduler.run_once("btc_ticker")
    finally:
        await session.aclose()


async def test_a_second_recording_console_runs_without_recording_and_says_why(config, tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    first = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS, record=True, store=path))
    try:
        second = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS, record=True, store=path))
        assert second.recorder is None
        assert any("already being recorded" in n and "--follow" in n for n in second.runtime.notes)
        await second.aclose()
    finally:
        await first.aclose()


def test_frozen_demos_do_not_record_unless_asked(config) -> None:
    session = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS))
    assert session.recorder is None


async def test_followers_show_the_collectors_figures_and_make_no_request(tmp_path: Path, monkeypatch) -> None:
    from emulator import loopback
    from sources import http as http_mod
    from tui.commands.snapshot import build_snapshot

    pytest.importorskip("uvicorn")
    budgets = dict(http_mod.DEFAULT_BUDGETS)
    loopback.map_budgets(budgets)
    monkeypatch.setattr(http_mod, "DEFAULT_BUDGETS", budgets)
    path = tmp_path / "store.sqlite"
    with loopback.ServedEmulator() as served:
        cfg = load_config(loopback.write_config(tmp_path / "config.toml", served.port, coins=["ETH", "SOL"]))
        collector = boot(cfg, Launch("live", record=True, store=path, role="collector"))
        collector.start_streams()
        feeds = collector.scheduler.feeds
        listings = [n for n in feeds if n.startswith("universe_") or n == "okx_instruments"]
        await collector.scheduler.run_all_once(listings)
        venues = [n for n in feeds if n.startswith("funding_") and n != "funding_history"]
        await collector.scheduler.run_all_once(venues)
        await collector.scheduler.run_all_once([n for n in feeds if n not in {*listings, *venues}])
        assert collector.recorder is not None
        collector.tick()
        collector.recorder.writer.commit()
        served_before = len(served.emulator.requests)
        docs = []
        followers = [boot(cfg, Launch("follow", store=path)) for _ in range(2)]
        try:
            for follower in followers:
                assert follower.runtime.mode == "follow" and "polls no provider" in follower.runtime.label
                follower.start_streams()
                results = await follower.scheduler.run_all_once()
                errors = {n: f.health.error for n, f in follower.scheduler.feeds.items() if not results[n]}
                assert not errors, errors
            assert len(served.emulator.requests) == served_before  # not one request from the followers
            # Figures such as BTC's 1 h change depend on the instant they are computed at: all three at one instant.
            with time_machine.travel(time.time(), tick=False):
                expected = build_snapshot(collector.views, collector.scheduler)
                docs = [build_snapshot(f.views, f.scheduler) for f in followers]
        finally:
            for follower in followers:
                await follower.aclose()
            await collector.aclose()
    for section in ("btc", "cvd", "funding", "etf", "long_short"):
        assert docs[0][section] == docs[1][section], section
        assert _figures(docs[0][section]) == _figures(expected[section]), section
    assert docs[0]["btc"]["price"] is not None and docs[0]["funding"]["median"] is not None
    assert docs[0]["long_short"]["SOL"]["accounts"]["bybit"] is not None  # the collector's ratios, restored


def _figures(section: dict) -> dict:
    """A snapshot section without its health texts (a follower says it reads the store)."""
    drop = {"status", "detail"}
    return {k: _figures(v) if isinstance(v, dict) else v for k, v in section.items() if k not in drop}


# -- the codec ---------------------------------------------------------------------------------------------------
async def test_every_delivery_of_the_demo_round_trips_through_the_codec(config) -> None:
    from tui.runtime.recording import feed_fields, get_field

    session = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS))
    try:
        session.start_streams()
        results = await session.scheduler.run_all_once()
        assert all(results.values())
        checked = 0
        for name in session.scheduler.feeds:
            for path in feed_fields(name):
                value = get_field(session.state, path)
                if value is None:
                    continue
                _assert_same(loads(dumps(value)), value, f"{name}:{path}")
                checked += 1
        assert checked >= 20
    finally:
        await session.aclose()


def _assert_same(got: object, want: object, where: str) -> None:
    if isinstance(want, pd.DataFrame):
        assert isinstance(got, pd.DataFrame), where
        pd.testing.assert_frame_equal(got, want, obj=where)
    elif isinstance(want, pd.Series):
        assert isinstance(got, pd.Series), where
        pd.testing.assert_series_equal(got, want, obj=where)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for key in want:
            _assert_same(got[key], want[key], f"{where}.{key}")
    elif hasattr(want, "__dataclass_fields__"):
        assert type(got) is type(want), where
        for name in want.__dataclass_fields__:  # type: ignore[attr-defined]
            _assert_same(getattr(got, name), getattr(want, name), f"{where}.{name}")
    elif isinstance(want, list | tuple):
        assert type(got) is type(want) and len(got) == len(want), where  # type: ignore[arg-type]
        for i, (a, b) in enumerate(zip(got, want, strict=True)):  # type: ignore[call-overload]
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(want, float) and np.isnan(want):
        assert isinstance(got, float) and np.isnan(got), where
    else:
        assert got == want, where


def test_the_codec_rebuilds_only_known_record_classes() -> None:
    from tui.runtime.state_codec import CodecError

    with pytest.raises(CodecError, match="unknown record class"):
        loads('{"$dc": "Popen", "f": {"args": ["rm", "-rf", "/"]}}')
    with pytest.raises(CodecError):
        dumps(object())


async def test_the_console_follows_a_demo_collectors_store_labelled_simulated(config, tmp_path: Path) -> None:
    from tui.app.app import AltpulseApp
    from widgets.btc_pane import BtcPane
    from widgets.status_bar import ModeBanner

    path = tmp_path / "demo.sqlite"
    collector = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS, record=True, store=path, role="collector"))
    collector.start_streams()
    await collector.scheduler.run_all_once()
    drain(collector)
    try:
        app = AltpulseApp(config, "follow", store=path)
        async with app.run_test(size=(160, 45)) as pilot:
            for _ in range(60):
                await pilot.pause(0.2)
                if app.session is not None and app.state is not None and app.state.btc_ticker is not None:
                    break
            await pilot.pause(1.5)
            banner = app.screen.query_one(ModeBanner)
            assert "SIMULATED DATA · FOLLOW demo.sqlite · polls no provider" in str(banner.content)
            assert banner.has_class("-simulated")
            assert "$" in str(app.screen.query_one("#btc-headline").content)
            assert app.session is not None and app.session.recorder is None and not app.session.streams
            assert app.screen.query_one(BtcPane) is not None
            assert "Traceback" not in app.export_screenshot()
    finally:
        await collector.aclose()


async def test_a_followers_ages_are_the_collectors_and_a_stopped_collector_goes_offline(config, tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    collector = boot(config, Launch("demo", now_ms=FROZEN_NOW_MS, record=True, store=path, role="collector"))
    collector.start_streams()
    await collector.scheduler.run_all_once(["btc_ticker", "cvd_hourly", "funding_bybit"])
    drain(collector)
    fetched = collector.scheduler.feeds["btc_ticker"].health.as_of
    follower = boot(config, Launch("follow", store=path))
    follower.start_streams()
    try:
        assert await follower.scheduler.run_once("btc_ticker")
        health = follower.scheduler.feeds["btc_ticker"].health
        # The age a follower shows is the collector's fetch's, not the time it read the store.
        assert health.as_of == pytest.approx(fetched, abs=0.001)
        assert follower.state.btc_ticker == collector.state.btc_ticker
        # A feed the collector never delivered is not shown as if it were.
        assert not await follower.scheduler.run_once("etf_btc")
        assert "not in the store" in (follower.scheduler.feeds["etf_btc"].health.error or "")
        assert follower.follower is not None
        follower.follower.step()
        assert {s.state for s in follower.state.liq_streams.values()} <= {"offline", "connecting", "live", "retrying"}
        await collector.aclose()  # the collector stops: its lock goes with it
        follower.tail.every = 0.0  # type: ignore[union-attr]  # read now, not after the next second
        follower.follower.step()
        statuses = [s.status() for s in follower.state.liq_streams.values()]
        assert all(st.state == "offline" and "no collector" in (st.error or "") for st in statuses)
        # Read again: the same record, so the data version does not move and the age keeps growing.
        version = follower.state.version.get("btc_ticker")
        assert await follower.scheduler.run_once("btc_ticker")
        assert follower.state.version.get("btc_ticker") == version
        assert health.as_of == pytest.approx(fetched, abs=0.001)
    finally:
        await follower.aclose()
        await collector.aclose()
