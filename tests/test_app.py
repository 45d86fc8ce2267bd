"""The console through Textual's Pilot on the demo market with a frozen clock."""

from __future__ import annotations

import io

import pytest

from tests.conftest import FROZEN_NOW_MS, run_in_palette
from tui.app.app import AltpulseApp
from tui.runtime.config import load_config
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
        status = str(app.screen.query_one(StatusBar).content)
        assert "● binance" in status and "● hyperliquid" in status and "● farside" in status
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
        await pilot.press("j", "j")
        assert app.focused.cursor_row == 2
        await pilot.press("k")
        assert app.focused.cursor_row == 1
        await pilot.press("f")
        assert app.screen.maximized is pane
        await pilot.pause()
        # the SIMULATED banner and the sources' health stay on screen around a maximised pane
        assert app.screen.query_one(ModeBanner).region.height == 1
        assert app.screen.query_one(StatusBar).region.height >= 1
        await pilot.press("f")
        assert app.screen.maximized is None
        await pilot.press("r")  # must not raise
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


async def test_narrow_pane_stacks_and_drops_columns() -> None:
    app = demo_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for_data(app, pilot)
        assert app.screen.has_class("-narrow")
        # The least important columns go first (the basket share, OI, the venue, the rule), the rest fits whole.
        expected = {
            "#cvd-table": ["Coin", "CVD", "Δ24h", "Δ30d ▲", "B/S 30d"],
            "#funding-table": ["Coin", "BIN", "BYB", "OKX", "HL", "OI ▲"],  # the sort column stays
            "#liqs-tape": ["Time ▲", "Venue", "Coin", "Side", "Size"],
            "#drivers-table": ["State ▲", "Driver", "Value", "Tr"],
        }
        for selector, labels in expected.items():
            table = app.screen.query_one(selector)
            assert [str(c.label) for c in table.columns.values()] == labels, selector
            assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width, selector
        cvd = app.screen.query_one("#cvd-table")
        await pilot.resize_terminal(50, 20)  # narrower still: the 24h delta goes too
        await pilot.pause()
        assert [str(c.label) for c in cvd.columns.values()] == ["Coin", "CVD", "Δ30d ▲", "B/S 30d"]
        await pilot.resize_terminal(60, 20)  # and back: it returns
        await pilot.pause()
        assert [str(c.label) for c in cvd.columns.values()] == expected["#cvd-table"]


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


async def test_all_six_panes_fill_from_the_demo_market() -> None:
    from widgets.drivers_pane import DriversPane
    from widgets.funding_pane import FundingPane
    from widgets.liquidations_pane import LiquidationsPane

    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(
            app, pilot, feeds=("btc_ticker", "cvd_daily", "funding_bybit", "etf_btc", "fear_greed", "cg_markets")
        )
        await pilot.pause(0.2)
        app.refresh_all_views()
        await pilot.pause()
        funding = app.screen.query_one(FundingPane)
        assert funding.query_one("DataTable").row_count >= 5  # BTC + the basket coins listed on the venues
        liqs = app.screen.query_one(LiquidationsPane)
        assert "ACTIVE" in "".join(str(s.content) for s in liqs.query("Static"))  # the demo cascade is under way
        drivers = app.screen.query_one(DriversPane)
        summary = "".join(str(s.content) for s in drivers.query("Static"))
        assert "drivers active" in summary
        assert drivers.query_one("DataTable").row_count == 12


async def test_status_bar_names_a_failing_feed_and_why() -> None:
    from sources.errors import SourceError

    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot)
        feed = app.scheduler.feeds["etf_btc"]

        async def blocked() -> None:
            raise SourceError("farside", "/bitcoin-etf-flow-all-data/", "access refused (blocked)", status=403)

        feed.run = blocked
        await app.scheduler.run_once("etf_btc")
        app.refresh_all_views()
        await pilot.pause()
        status = str(app.screen.query_one(StatusBar).content)
        assert "etf_btc" in status and "HTTP 403" in status


async def test_filter_narrows_the_cvd_and_funding_tables_live() -> None:
    from widgets.funding_pane import FundingPane

    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot, feeds=("cvd_daily", "funding_bybit", "funding_okx"))
        await pilot.pause(0.2)
        await pilot.press("slash")
        assert app.focused is not None and app.focused.id == "coin-filter"
        await pilot.press("s", "o")
        await pilot.pause()
        table = app.screen.query_one("#cvd-table")
        assert table.row_count == 1
        assert app.screen.query_one(CvdPane).selected_coin() == "SOL"
        funding = app.screen.query_one(FundingPane)
        shown = [funding._table.key_at(i) for i in range(funding.query_one("DataTable").row_count)]
        # Every perp on the board whose symbol holds "SO" (the long tail has SOPH too), SOL among them.
        assert "SOL" in shown and all("SO" in str(k) for k in shown)
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 4  # cleared


async def test_filter_hands_focus_to_a_table_that_shows_the_coin_and_keeps_the_market_header() -> None:
    """A tail coin is on the heatmap but not in the basket's CVD table: Enter closes the filter on the table that
    shows it (a second Enter drills down at once), and the heatmap's header keeps the market's perp count."""
    from tui.app.coin_screen import CoinScreen
    from widgets.funding_pane import FundingPane

    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot, feeds=("cvd_daily", "funding_bybit", "funding_okx"))
        await pilot.press("2", "slash", "s", "o", "p", "h", "enter")
        await pilot.pause(0.2)
        assert app.screen.query_one("#cvd-table").row_count == 0
        funding = app.screen.query_one(FundingPane)
        assert app.focused is funding.query_one("DataTable")
        header = str(funding.query_one("#funding-summary").content)
        view = funding.view
        assert view is not None and view.perps > 100 and len(view.rows) == 1
        assert f"{view.perps} perps" in header and f"filter /SOPH: 1 of {view.perps} shown" in header
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, CoinScreen) and app.screen.coin == "SOPH"


async def test_keys_remap_from_config_and_refresh_rate_keys() -> None:
    config = load_config(use_user_file=False).with_overrides("general", coins=["ETH", "SOL"])
    config = config.with_overrides("keys", pause="x")
    app = AltpulseApp(config, "demo", frozen_now_ms=FROZEN_NOW_MS)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot)
        await pilot.press("x")
        assert app.scheduler.paused
        await pilot.press("p")  # no longer bound
        assert app.scheduler.paused
        await pilot.press("x")
        assert not app.scheduler.paused
        await pilot.press("plus")
        assert app.scheduler.speed == 2.0
        await pilot.press("minus", "minus")
        assert app.scheduler.speed == 0.5


async def test_command_palette_runs_every_key_action_and_opens_coins_from_the_dashboard() -> None:
    from tui.app.coin_screen import CoinScreen
    from tui.app.keys import KeyCommands

    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot)
        await pilot.press("2")
        names = {name for name, _, _ in KeyCommands(app.screen)._commands()}
        # every dashboard action the footer and ? list, by what it does
        assert {"Sort", "Pause", "Refresh", "Filter coins", "Max", "Export", "Faster refresh"} <= names
        pane = app.screen.query_one(CvdPane)
        before = pane.sort_key
        await run_in_palette(pilot, "sort")
        assert pane.sort_key != before
        await run_in_palette(pilot, "coin sol")
        assert isinstance(app.screen, CoinScreen) and app.screen.coin == "SOL"


async def test_help_lists_the_keys_of_the_screen() -> None:
    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot)
        await pilot.press("2", "question_mark")
        await pilot.pause(0.3)
        from rich.console import Console

        console = Console(width=100, record=True, file=io.StringIO())
        for table in app.screen.query_one("HelpPanel").query("BindingsTable"):
            console.print(table.render())
        shown = console.export_text()
        for description in ("Sort", "Pause", "Refresh", "Filter coins", "Coin detail", "Export"):
            assert description in shown, description


async def test_copy_keys_put_the_row_or_the_whole_table_on_the_clipboard_with_every_column() -> None:
    app = demo_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for_data(app, pilot)
        await pilot.press("2")
        table = app.screen.query_one("#cvd-table")
        assert "Share" not in [str(c.label) for c in table.columns.values()]  # dropped to fit the pane
        await pilot.press("j", "y")
        header, row = app.clipboard.split("\n")
        assert header.split("\t") == ["Coin", "CVD", "Δ24h", "Δ30d ▲", "B/S 30d", "Share"]  # every column
        assert row.split("\t")[0] == app.screen.query_one(CvdPane).selected_coin()
        await pilot.press("Y")
        assert len(app.clipboard.splitlines()) == 1 + table.row_count
