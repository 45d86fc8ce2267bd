"""The console through Textual's Pilot on the demo market with a frozen clock."""

from __future__ import annotations

import pytest

from tests.conftest import FROZEN_NOW_MS
from tui.app import AltpulseApp
from tui.config import load_config
from widgets.btc_pane import BtcPane
from widgets.cvd_pane import CvdPane
from widgets.status_bar import ModeBanner, StatusBar


def demo_app(**kwargs) -> AltpulseApp:
    config = load_config(use_user_file=False).with_overrides("general", coins=["ETH", "SOL", "DOGE", "PEPE"])
    return AltpulseApp(config, "demo", frozen_now_ms=FROZEN_NOW_MS, **kwargs)


async def wait_for_data(
    app: AltpulseApp, pilot, feeds=("btc_ticker", "btc_intraday", "btc_ath", "cvd_daily")
) -> None:
    for _ in range(400):
        await pilot.pause(0.05)
        if app.scheduler is not None and all(app.scheduler.feeds[f].health.as_of for f in feeds):
            app.refresh_all_views()
            await pilot.pause()
            return
    pytest.fail("demo feeds never delivered data")


def screen_text(app: AltpulseApp) -> str:
    return "\n".join(
        str(getattr(w, "content", getattr(w, "renderable", ""))) for w in app.screen.query("Static")
    ) + "".join(str(w.border_subtitle or "") for w in app.screen.query("Pane"))


async def test_demo_fills_btc_and_cvd_panes_and_is_labelled_simulated() -> None:
    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot)
        banner = app.screen.query_one(ModeBanner)
        assert "SIMULATED" in str(banner.content)
        assert banner.has_class("-simulated")
        btc = app.screen.query_one("#btc-headline").content
        assert "BTC $" in str(btc) and "drawdown" in str(btc)
        table = app.screen.query_one("#cvd-table")
        assert table.row_count == 4
        assert "Basket CVD since 2025-01-01" in str(app.screen.query_one("#cvd-summary").content)
        assert "live" in str(app.screen.query_one(BtcPane).border_subtitle)
        assert "btc_ticker" in str(app.screen.query_one(StatusBar).content)
        assert app.screen.has_class("-wide")


async def test_keys_pause_refresh_sort_focus_and_maximise() -> None:
    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot)
        await pilot.press("p")
        assert app.scheduler.paused
        await pilot.pause()
        assert "PAUSED" in str(app.screen.query_one(StatusBar).content)
        await pilot.press("p")
        assert not app.scheduler.paused
        pane = app.screen.query_one(CvdPane)
        before = pane.sort_key
        await pilot.press("s")
        assert pane.sort_key != before
        await pilot.press("2")
        assert app.focused is not None and app.focused.id == "cvd-table"
        await pilot.press("f")
        assert app.screen.maximized is pane
        await pilot.press("f")
        assert app.screen.maximized is None
        await pilot.press("r")  # must not raise
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


async def test_narrow_pane_stacks_and_drops_columns() -> None:
    app = demo_app()
    async with app.run_test(size=(70, 24)) as pilot:
        await wait_for_data(app, pilot)
        assert app.screen.has_class("-narrow")
        pane = app.screen.query_one(CvdPane)
        assert pane.compact
        table = app.screen.query_one("#cvd-table")
        assert len(table.columns) == 4


async def test_stale_data_is_labelled_not_shown_as_live() -> None:
    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot)
        health = app.scheduler.feeds["btc_ticker"].health
        health.as_of -= 3600  # pretend the last good fetch was an hour ago
        app.scheduler.pause()  # and that nothing new arrives
        app.refresh_all_views()
        await pilot.pause()
        pane = app.screen.query_one(BtcPane)
        assert "stale" in str(pane.border_subtitle)
        assert pane.has_class("-stale")
        assert "STALE" in str(app.screen.query_one("#btc-headline").content)
