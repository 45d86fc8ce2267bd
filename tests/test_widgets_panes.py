"""Panes 3-6 (funding, liquidations, ETF & macro, key drivers) mounted alone in a small app, and the heat scale."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Static

from records.viewmodels import (
    CascadeView,
    DriverRow,
    DriversView,
    EtfDay,
    EtfView,
    FundingRow,
    FundingView,
    LiquidationRow,
    LiquidationsView,
    LiquidationTotals,
    MacroItem,
    MacroView,
    PaneStatus,
    VenueStatus,
)
from widgets.drivers_pane import DriversPane
from widgets.etf_pane import EtfPane, macro_text, streak_text
from widgets.funding_pane import FundingPane
from widgets.heat import (
    heat_cell,
    heat_glyph,
    heat_level,
    heat_style,
    rate_text,
)
from widgets.liquidations_pane import LiquidationsPane, meter_bar
from widgets.table_fit import LAZY_MARGIN

CSS = Path(__file__).resolve().parents[1] / "widgets" / "panes.tcss"
LIVE = PaneStatus(True, "live", "12:00:00 UTC")
HOSTILE = "[bold]X\x1b[2J"
VENUES = ("binance", "bybit", "okx", "hyperliquid")


class PaneApp(App[None]):
    CSS_PATH = CSS

    def __init__(self, pane: Widget) -> None:
        super().__init__()
        self.pane = pane

    def compose(self) -> ComposeResult:
        yield self.pane


def plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def static_text(app: App, selector: str) -> str:
    return plain(app.screen.query_one(selector, Static).content)


def table_rows(table: DataTable) -> list[list[str]]:
    return [[plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def column_labels(table: DataTable) -> list[str]:
    return [c.label.plain for c in table.ordered_columns]


def no_control(text: str) -> bool:
    return not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in text)


# -- fixtures -------------------------------------------------------------------------------------------------
def funding_view(
    coins: list[str] | None = None,
    *,
    stale: str | None = None,
    bump: float = 0.0,
    status: PaneStatus = LIVE,
) -> FundingView:
    coins = coins or ["BTC", "ETH", "SOL"]
    venues = tuple(VenueStatus(v, v != stale, "live" if v != stale else "stale 3m") for v in VENUES)
    rows = tuple(
        FundingRow(
            coin=c,
            rates_8h=(0.0001 + i * 0.0001 + bump, -0.0002, 0.00005, None),
            median_8h=0.0001 + i * 0.00005 + bump,
            annualised_pct=None,
            oi_usd=1e9 * (i + 1),
            oi_change_24h_pct=float(i) - 1,
        )
        for i, c in enumerate(coins)
    )
    return FundingView(
        status,
        venues=venues,
        rows=rows,
        baseline_8h=0.0001,
        median_8h=0.00012,
        share_above_baseline=0.62,
        oi_total_usd=5e10,
        oi_change_24h_pct=3.2,
        period_labels=("11-22 00h", "11-22 08h", "11-22 16h"),
        history=tuple((c, (0.0001, 0.0004, -0.0001)) for c in coins),
    )


def liq_view(*, active: bool = True, stale_venue: bool = False, status: PaneStatus = LIVE) -> LiquidationsView:
    return LiquidationsView(
        status,
        venues=(
            VenueStatus("binance", True, "live (lower bound)"),
            VenueStatus("bybit", not stale_venue, "live" if not stale_venue else "retrying in 4s: HTTP 503"),
        ),
        totals=(
            LiquidationTotals("1h", 12e6, 3e6),
            LiquidationTotals("4h", 40e6, 10e6),
            LiquidationTotals("24h", 120e6, 80e6),
        ),
        tape=(
            LiquidationRow("12:00:03", "binance", "SOL", "long", 123_456.0, 142.3),
            LiquidationRow("12:00:01", "bybit", "ETH", "short", 5e6, 3012.5),
            LiquidationRow("11:59:58", "binance", HOSTILE, "long", 2e4, 0.5),
        ),
        cascade=CascadeView(
            active, 6.2 if active else 1.4, 1.0 if active else 0.28, 5.0, 12e6, 2e6, -2.4, "6h of tape"
        ),
        lower_bound_note="Binance sends at most 1 per symbol per second: totals are a lower bound",
    )


def etf_view(status: PaneStatus = LIVE) -> EtfView:
    days = (
        EtfDay("2026-11-16", 2e8),
        EtfDay("2026-11-17", -1e8),
        EtfDay("2026-11-18", None),
        EtfDay("2026-11-19", -3e8),
        EtfDay("2026-11-20", -5e7, partial=True),
    )
    return EtfView(
        status,
        days=days,
        last_by_fund=(("IBIT", -1.2e8), ("FBTC", -8e7), (HOSTILE, 1e7), ("ARKB", None), ("BITB", -2e6)),
        streak_days=-3,
        largest_outflow=("2026-11-19", -3e8),
        cumulative_usd=-2.5e8,
        window_days=10,
        eth_last=EtfDay("2026-11-19", -4.5e7),
        eth_streak_days=-2,
    )


def macro_view() -> MacroView:
    return MacroView(
        LIVE,
        (
            MacroItem("BTC dominance", "58.2%", "+1.3 pt 30d", "red", True, "as of 2026-11-20"),
            MacroItem("Fear & Greed", "22", "-8 7d", "red", False, "last 2026-11-18"),
        ),
    )


def drivers_view(status: PaneStatus = LIVE, *, flip: bool = False) -> DriversView:
    return DriversView(
        status,
        "2 of 4 drivers active · 1 unknown",
        (
            DriverRow("etf", "ETF outflows", "active" if flip else "clear", "+$10M", "< 0", "→", "3d", "ETF meaning"),
            DriverRow(
                "lev", "Crowded leverage", "active", "0.012%", "> 0.01%", "↑", "19:02", "Leverage meaning", "lev detail"
            ),
            DriverRow("fear", HOSTILE, "unknown", "—", "<= 25", "", "", "Fear meaning"),
            DriverRow("casc", "Liquidation cascade", "active", "6.2x", "> 5x", "↑", "12:00", "Cascade meaning"),
        ),
    )


# -- heat scale -----------------------------------------------------------------------------------------------
def test_heat_scale_is_centred_on_the_baseline() -> None:
    for baseline in (0.0001, 0.0002):
        assert heat_level(baseline, baseline) == 0
        assert heat_level(baseline * 1.2, baseline) == 0
        assert heat_level(baseline * 0.8, baseline) == 0
        assert heat_glyph(baseline, baseline) == ""
    assert heat_level(0.0, 0.0001) == -1
    assert heat_level(-0.0001, 0.0001) == -2
    assert heat_level(0.0002, 0.0001) == 1
    assert heat_level(0.0005, 0.0001) == 3
    assert heat_level(0.002, 0.0001) == 4
    assert heat_level(None) is None and heat_level(float("nan")) is None
    assert heat_level(0.00003, 0.0) == 0  # a zero baseline falls back to 0.01 % units


def test_heat_scale_is_monotone_with_colours_and_glyphs() -> None:
    values = [i * 0.00001 for i in range(-200, 300)]
    levels = [heat_level(v, 0.0001) for v in values]
    assert levels == sorted(levels)
    assert min(levels) == -3 and max(levels) == 4  # type: ignore[type-var]
    deep = heat_style(-0.0003).bgcolor
    assert deep is not None and "red" in deep.name
    assert heat_style(0.0002).color is not None and heat_style(0.0002).color.name == "yellow"
    assert heat_style(0.0001) == heat_style(0.00011)  # neutral band
    assert heat_style(0.002, mono=True).reverse and heat_style(0.002, mono=True).bgcolor is None
    assert heat_glyph(0.0002) == "▲" and heat_glyph(0.0004) == "▲▲" and heat_glyph(-0.0001) == "▼▼"
    assert rate_text(0.00031) == "+0.031" and rate_text(-0.0000001) == "+0.000" and rate_text(None) == "—"
    stale = heat_cell(0.0009, stale=True)
    assert stale.plain.startswith("+0.090*") and "▲" not in stale.plain and stale.style == "dim italic"
    assert heat_cell(0.0009, glyphs=False).plain == "+0.090"


# -- funding --------------------------------------------------------------------------------------------------
async def test_funding_heatmap_cells_and_in_place_updates() -> None:
    pane = FundingPane()
    app = PaneApp(pane)
    async with app.run_test(size=(120, 30)) as pilot:
        assert "waiting for data" in static_text(app, "#funding-summary")
        pane.update_view(FundingView(LIVE))  # empty view: no crash
        await pilot.pause()
        assert "waiting for data" in static_text(app, "#funding-summary")
        pane.update_view(funding_view())
        await pilot.pause()
        table = app.query_one("#funding-table", DataTable)
        # Biggest open interest first by default; then by median funding.
        assert column_labels(table) == ["Coin", "Binance", "Bybit", "OKX", "Hyperliq", "Med", "OI ▲", "OI 24h"]
        assert "3 perps" in static_text(app, "#funding-summary")
        assert pane.cycle_sort() == "median"
        await pilot.pause()
        assert column_labels(table) == ["Coin", "Binance", "Bybit", "OKX", "Hyperliq", "Med ▲", "OI", "OI 24h"]
        rows = table_rows(table)
        assert [r[0] for r in rows] == ["SOL", "ETH", "BTC"]  # most crowded median first
        sol = rows[0]
        assert sol[1].strip() == "+0.030▲▲" and sol[2].strip() == "-0.020▼▼▼" and sol[4].strip() == "—"
        header = static_text(app, "#funding-summary")
        assert "+0.012%/8h" in header and "+13.1%/yr" in header and "62% of coins > 0.010%" in header
        assert "$50.00B" in header and "+3.20%" in header

        table_before = [r.key for r in table.ordered_rows]
        pane.update_view(funding_view(bump=0.0002))
        await pilot.pause()
        assert [r.key for r in table.ordered_rows] == table_before  # same rows: updated in place
        assert table.row_count == 3
        assert plain(pane._table.cell("SOL", "v0:binance")).strip() == "+0.050▲▲▲"
        assert pane.selected_coin() == "SOL"


async def test_funding_stale_venue_is_marked_and_dimmed() -> None:
    pane = FundingPane()
    app = PaneApp(pane)
    async with app.run_test(size=(120, 30)) as pilot:
        pane.update_view(funding_view(stale="okx"))
        await pilot.pause()
        table = app.query_one("#funding-table", DataTable)
        assert "OKX*" in column_labels(table)
        cell = pane._table.cell("BTC", "v2:okx")
        assert plain(cell).strip().startswith("+0.005*") and "dim" in str(cell.style)
        assert "OKX stale 3m" in static_text(app, "#funding-summary")
        pane.update_view(funding_view(status=PaneStatus(False, "stale 5m")))
        await pilot.pause()
        assert "STALE: stale 5m" in static_text(app, "#funding-summary")
        assert pane.has_class("-stale") and "stale 5m" in str(pane.border_subtitle)
        assert plain(pane._table.cell("BTC", "v0:binance")).strip().endswith("*")


async def test_funding_no_color_glyphs_in_compact(monkeypatch: pytest.MonkeyPatch) -> None:
    pane = FundingPane()
    app = PaneApp(pane)
    async with app.run_test(size=(52, 24)) as pilot:
        pane.update_view(funding_view())
        await pilot.pause()
        assert pane.compact  # set from the pane's own width
        table = app.query_one("#funding-table", DataTable)
        # The 24 h change goes first; the column the rows are sorted by (OI) stays.
        assert column_labels(table) == ["Coin", "BIN", "BYB", "OKX", "HL", "Med", "OI ▲"]
        assert "sort open interest" not in static_text(app, "#funding-summary")
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width
        assert not any("▲" in c or "▼" in c for c in table_rows(table)[0])  # colour carries the scale
        monkeypatch.setenv("NO_COLOR", "1")
        pane.update_view(funding_view())  # checked at render time
        await pilot.pause()
        sol = table_rows(table)[0]
        assert "▲▲" in sol[1] and "▼▼" in sol[2]
        cell = pane._table.cell("SOL", "v0:binance")
        assert cell.style.bgcolor is None  # monochrome style: no background colours


async def test_funding_toggle_time_view_and_sort() -> None:
    pane = FundingPane()
    app = PaneApp(pane)
    async with app.run_test(size=(120, 30)) as pilot:
        pane.update_view(funding_view())
        app.query_one("#funding-table", DataTable).focus()
        await pilot.pause()
        await pilot.press("v")
        table = app.query_one("#funding-table", DataTable)
        assert pane.mode == "time"
        assert column_labels(table) == ["Coin", "11-22 00h", "11-22 08h", "11-22 16h"]
        assert table_rows(table)[0][2].strip() == "+0.040▲▲" and table_rows(table)[0][3].strip() == "-0.010▼▼"
        assert "coins x time" in static_text(app, "#funding-summary")
        await pilot.press("v")
        assert pane.mode == "long_short"  # the third view (tests/test_long_short.py): before any ratio arrives
        assert "waiting for data" in static_text(app, "#funding-summary") and column_labels(table) == ["Coin"]
        await pilot.press("v")
        assert pane.mode == "venues" and "Binance" in column_labels(table)
        assert pane.sort_key == "oi" and "OI ▲" in column_labels(table)  # a board of hundreds: biggest OI first
        assert pane.cycle_sort() == "median"
        assert pane.cycle_sort() == "oi_change"
        assert "OI 24h ▲" in column_labels(table)
        assert [r[0] for r in table_rows(table)] == ["SOL", "ETH", "BTC"]
        assert pane.cycle_sort() == "coin"
        assert [r[0] for r in table_rows(table)] == ["BTC", "ETH", "SOL"] and "Coin ▲" in column_labels(table)


async def test_funding_hostile_coin_and_sixty_coins_render() -> None:
    pane = FundingPane()
    app = PaneApp(pane)
    coins = [f"C{i:02d}" for i in range(59)] + [HOSTILE]
    async with app.run_test(size=(120, 40)) as pilot:
        pane.update_view(funding_view(coins))
        await pilot.pause()
        pane.update_view(funding_view(coins, bump=0.00001))
        await pilot.pause()
        table = app.query_one("#funding-table", DataTable)
        assert table.row_count == 60 and len(table.columns) == 8
        names = [r[0] for r in table_rows(table)]
        assert "[bold]X[2J" in names and all(no_control(n) for n in names)


async def test_a_board_of_hundreds_of_perps_builds_only_the_rows_in_view() -> None:
    """Every perp of four venues is hundreds of rows: the table keeps a row for each (it scrolls as a whole, Enter
    reaches any coin), but a fill builds the cells of the rows in view only; scrolling fills the rows it reaches,
    and the export still gets every row."""
    pane = FundingPane()
    app = PaneApp(pane)
    coins = [f"C{i:03d}" for i in range(300)]  # OI grows with the index: C299 is the first row
    async with app.run_test(size=(120, 30)) as pilot:
        pane.update_view(funding_view(coins))
        await pilot.pause()
        built: list[str] = []
        build = pane._venue_cells

        def counting(view: FundingView, row: FundingRow, *args: object) -> list[Text]:
            built.append(row.coin)
            return build(view, row, *args)  # type: ignore[arg-type]

        pane._venue_cells = counting  # type: ignore[method-assign]
        pane.update_view(funding_view(coins, bump=0.0001))
        await pilot.pause()
        table = app.query_one("#funding-table", DataTable)
        assert table.row_count == 300
        visible = table.size.height - table.header_height
        assert 0 < len(built) <= visible + 2 * LAZY_MARGIN
        assert built[0] == "C299" and "C000" not in built
        assert plain(pane._table.cell("C299", "v0:binance")).strip().startswith("+3.010")  # the new rate
        table.focus()
        built.clear()
        await pilot.press("G")  # the last row
        await pilot.pause()
        assert pane.selected_coin() == "C000"
        assert "C000" in built and len(built) <= visible + 2 * LAZY_MARGIN  # the rows the scroll reached
        last = table_rows(table)[-1]
        assert last[0] == "C000" and last[1].strip().startswith("+0.020")  # C000's new rate, not an old row's
        assert table_rows(table)[150][0] == ""  # never in view: not built
        _, rows = pane._table.all_columns()
        assert [plain(r[0]) for r in rows] == [f"C{i:03d}" for i in range(299, -1, -1)]


# -- liquidations ---------------------------------------------------------------------------------------------
async def test_liquidations_cascade_totals_tape_and_note() -> None:
    pane = LiquidationsPane()
    app = PaneApp(pane)
    async with app.run_test(size=(110, 30)) as pilot:
        pane.update_view(LiquidationsView(PaneStatus(False, "waiting for data")))  # empty: no crash
        await pilot.pause()
        pane.update_view(liq_view())
        await pilot.pause()
        head = static_text(app, "#liqs-cascade")
        assert "[██████████] 6.2x of hourly median" in head and " ACTIVE " in head
        assert "BTC 1h -2.40%" in head and "6h of tape" in head
        active = app.query_one("#liqs-cascade", Static).content
        assert any("reverse" in str(span.style) for span in active.spans)
        totals = static_text(app, "#liqs-totals")
        assert " 1h long  $12.00M" in totals and "24h long $120.00M  short  $80.00M" in totals
        table = app.query_one("#liqs-tape", DataTable)
        rows = table_rows(table)
        assert [r[0] for r in rows] == ["12:00:03", "12:00:01", "11:59:58"]  # newest first
        assert rows[0][3] == "LONG liq" and rows[1][3] == "SHORT liq"
        assert rows[2][2] == "[bold]X[2J" and no_control(rows[2][2])
        assert "lower bound" in static_text(app, "#liqs-note")
        assert pane.selected_coin() == "SOL"
        pane.update_view(liq_view(active=False))
        await pilot.pause()
        assert "ACTIVE" not in static_text(app, "#liqs-cascade") and "clear" in static_text(app, "#liqs-cascade")
        assert meter_bar(0.3) == "[███░░░░░░░]" and meter_bar(None) == "[░░░░░░░░░░]"


async def test_liquidations_stale_venue_compact_and_sort() -> None:
    pane = LiquidationsPane()
    app = PaneApp(pane)
    async with app.run_test(size=(70, 24)) as pilot:
        pane.update_view(liq_view(stale_venue=True))
        await pilot.pause()
        venues = static_text(app, "#liqs-venues")
        assert "bybit* retrying in 4s: HTTP 503" in venues and "binance live" in venues
        table = app.query_one("#liqs-tape", DataTable)
        assert table_rows(table)[1][1] == "bybit*"
        assert "dim" in str(pane._table.cell("t1", "size").style)
        assert column_labels(table) == ["Time ▲", "Venue", "Coin", "Side", "Size", "Price"]
        await pilot.resize_terminal(48, 24)  # a narrow side-pane: price goes first, then the venue
        await pilot.pause()
        assert pane.compact
        assert column_labels(table) == ["Time ▲", "Coin", "Side", "Size"]
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width
        assert " 4h " not in f" {static_text(app, '#liqs-totals')}"
        assert pane.cycle_sort() == "size"
        assert [r[3] for r in table_rows(table)] == ["$5.00M", "$123.46K", "$20.00K"]
        # A longer then shorter tape grows and shrinks the table in place.
        pane.update_view(liq_view())
        await pilot.pause()
        assert table.row_count == 3
        pane.update_view(LiquidationsView(LIVE, tape=liq_view().tape[:1]))
        await pilot.pause()
        assert table.row_count == 1
        pane.update_view(liq_view(status=PaneStatus(False, "stale 2m")))
        await pilot.pause()
        assert "STALE: stale 2m" in static_text(app, "#liqs-cascade")


# -- ETF & macro ----------------------------------------------------------------------------------------------
async def test_etf_bars_partial_day_streak_and_macro() -> None:
    pane = EtfPane()
    app = PaneApp(pane)
    async with app.run_test(size=(110, 40)) as pilot:
        pane.update_view(EtfView(PaneStatus(False, "waiting for data")))
        pane.update_macro(MacroView(PaneStatus(False, "waiting for data")))
        await pilot.pause()
        assert "waiting for data" in static_text(app, "#etf-flows")
        pane.update_view(etf_view())
        pane.update_macro(macro_view())
        await pilot.pause()
        flows = static_text(app, "#etf-flows")
        lines = flows.splitlines()
        assert lines[0] == "BTC ETF net flow, last 5 days"
        assert lines[4].startswith("11-19 ██████████████│") and lines[4].rstrip().endswith("-$300.00M")
        assert lines[1].startswith("11-16") and "│█████████" in lines[1]
        assert "n/a" in lines[3]
        assert "▒" in lines[5] and lines[5].endswith("partial")
        assert "3 outflow days" in flows and "largest out 11-19 -$300.00M" in flows
        assert "10d cumulative -$250.00M" in flows
        assert "IBIT -$120.00M · FBTC -$80.00M · [bold]X" in flows and no_control(flows.replace("\n", ""))
        assert "ETH ETF 11-19 -$45.00M  2 outflow days" in flows
        macro = static_text(app, "#etf-macro")
        assert "BTC dominance 58.2% +1.3 pt 30d  as of 2026-11-20" in macro
        assert "Fear & Greed 22 -8 7d *stale" in macro
        stale_item = macro_text(macro_view())
        assert all("dim" in str(s.style) or "yellow" in str(s.style) for s in stale_item.spans[-4:])
        pane.compact = True
        await pilot.pause()
        flows = static_text(app, "#etf-flows")
        assert "by fund (top):" in flows and "BITB" not in flows
        assert streak_text(2).plain == "2 inflow days" and streak_text(-1).plain == "1 outflow day"
        pane.update_view(etf_view(PaneStatus(False, "stale 1d")))
        await pilot.pause()
        assert "STALE: stale 1d" in static_text(app, "#etf-flows")


# -- key drivers ----------------------------------------------------------------------------------------------
async def test_drivers_summary_ordering_and_meaning_on_highlight() -> None:
    pane = DriversPane()
    app = PaneApp(pane)
    async with app.run_test(size=(110, 30)) as pilot:
        pane.update_view(DriversView(PaneStatus(False, "waiting for data")))
        await pilot.pause()
        assert "waiting for data" in static_text(app, "#drivers-summary")
        pane.update_view(drivers_view())
        await pilot.pause()
        summary = app.query_one("#drivers-summary", Static).content
        assert summary.plain == "2 of 4 drivers active · 1 unknown" and "bold" in str(summary.spans[0].style)
        table = app.query_one("#drivers-table", DataTable)
        rows = table_rows(table)
        assert [r[0] for r in rows] == ["● ACTIVE", "● ACTIVE", "? unknown", "○ clear"]
        assert [r[1] for r in rows] == ["Crowded leverage", "Liquidation cascade", "[bold]X[2J", "ETF outflows"]
        assert rows[0][2:] == ["0.012%", "> 0.01%", "↑", "19:02"]
        assert "Leverage meaning" in static_text(app, "#drivers-detail")
        assert "lev detail" in static_text(app, "#drivers-detail")
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        assert "Cascade meaning" in static_text(app, "#drivers-detail")
        # A driver flips to active: it moves up, the cursor stays on the highlighted driver.
        pane.update_view(drivers_view(flip=True))
        await pilot.pause()
        assert [r[1] for r in table_rows(table)][:3] == ["ETF outflows", "Crowded leverage", "Liquidation cascade"]
        assert "Cascade meaning" in static_text(app, "#drivers-detail")
        await pilot.resize_terminal(50, 20)  # narrow: states as letters, names shortened, Rule and Since gone
        await pilot.pause()
        assert pane.compact
        assert column_labels(table) == ["State ▲", "Driver", "Value", "Tr"]
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width
        assert [r[0] for r in table_rows(table)] == ["● A", "● A", "● A", "? U"]
        pane.update_view(drivers_view(PaneStatus(False, "stale 4m")))
        await pilot.pause()
        assert "STALE: stale 4m" in static_text(app, "#drivers-summary") and pane.has_class("-stale")
        assert pane.cycle_sort() == "config"
        assert table_rows(table)[0][1] == "ETF outflows"


async def test_hostile_status_text_on_the_border_is_not_markup() -> None:
    pane = DriversPane()
    app = PaneApp(pane)
    async with app.run_test(size=(80, 20)) as pilot:
        pane.update_view(DriversView(PaneStatus(False, "retrying: [link=http://x]HTTP 503\x1b[2J")))
        await pilot.pause()
        subtitle = str(pane.border_subtitle)
        assert no_control(subtitle) and "link=http://x" in subtitle
        assert "STALE: retrying: [link=http://x]HTTP 503" in static_text(app, "#drivers-summary")


@pytest.mark.parametrize("make", [FundingPane, LiquidationsPane, EtfPane, DriversPane])
async def test_views_given_before_mount_are_shown_on_mount(make: type) -> None:
    pane = make()
    view = {
        FundingPane: funding_view,
        LiquidationsPane: liq_view,
        EtfPane: etf_view,
        DriversPane: drivers_view,
    }[make]()
    pane.update_view(view)
    app = PaneApp(pane)
    async with app.run_test(size=(50, 24)) as pilot:
        await pilot.pause()
        shown = "\n".join(plain(s.content) for s in app.query(Static))
        shown += "\n".join(" ".join(r) for t in app.query(DataTable) for r in table_rows(t))
        assert "waiting for data" not in shown.split("\nMacro")[0]
        assert pane.border_subtitle == "live"


async def test_etf_pane_scrolls_with_the_arrow_keys() -> None:
    pane = EtfPane()
    app = PaneApp(pane)
    async with app.run_test(size=(70, 12)) as pilot:
        pane.update_view(etf_view())
        pane.update_macro(macro_view())
        pane.focus()
        await pilot.pause()
        body = app.query_one("#etf-body")
        assert body.scroll_y == 0
        await pilot.press("down", "down")
        await pilot.pause()
        assert body.scroll_y == 2
