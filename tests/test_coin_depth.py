"""Coin detail depth (issue 15 part 4): the charts ``c`` cycles (spot vs perp CVD, OI per venue, funding per venue)
and the coin's own liquidations per window, on small hand-checkable states; then ``c`` on the demo market."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from rich.console import Console

from analytics.liquidations import LiquidationTape
from records.derivs import DerivsSnapshot, FundingQuote, OpenInterest
from records.viewmodels import ChartLine
from tests.test_app import demo_app, wait_for_data
from tests.test_coin_screen import ALL_FEEDS, DAY, HOUR, NOW, builder, header_text, klines, live
from tui.app.coin_screen import CoinScreen, open_coin
from tui.runtime.health import FeedHealth
from tui.runtime.state import MarketState
from tui.views.coin import build_coin_view
from tui.views.coin_charts import CHARTS, next_chart
from widgets.chart import LineChart
from widgets.coin_detail import CoinDetail, chart_legend, liquidations_block

NOW_MS = int(NOW.value // 1_000_000)
H_MS = 3_600_000


def plain(renderable: object) -> str:
    console = Console(width=120, no_color=True, record=True)
    console.print(renderable)
    return console.export_text()


def secs(*stamps: pd.Timestamp) -> tuple[float, ...]:
    return tuple(float(s.timestamp()) for s in stamps)


def derivs_state() -> MarketState:
    """SOL listed on Binance, Bybit and Hyperliquid (current funding and OI on each)."""
    state = MarketState()
    quotes = {v: FundingQuote("SOL", v, 0.0001, 8.0, 0.0001, None, 150.0, "SOLUSDT", NOW)
              for v in ("binance", "bybit", "hyperliquid")}  # fmt: skip
    state.derivs = {v: DerivsSnapshot(v, [q], [OpenInterest("SOL", v, 1.0, 1000.0, NOW)], NOW)
                    for v, q in quotes.items()}  # fmt: skip
    return state


# -- open interest per venue ------------------------------------------------------------------------------------
def test_oi_chart_draws_one_line_per_venue_with_history_up_to_the_clock() -> None:
    state = derivs_state()
    times = [NOW - 30 * HOUR, NOW - 2 * HOUR, NOW - HOUR, NOW, NOW + HOUR]  # one too old for 24h, one in the future
    state.oi_history = pd.DataFrame({
        "time": times * 2 + [NOW],
        "coin": ["SOL"] * 10 + ["ETH"],
        "exchange": ["bybit"] * 5 + ["binance"] * 5 + ["binance"],
        "oi_usd": [1.0, 2.0, 3.0, 4.0, 99.0, 10.0, 20.0, float("nan"), 40.0, 99.0, 5e9],
    })  # fmt: skip
    view = build_coin_view(builder(state).figures, "SOL", "24h", chart="oi")
    assert view.chart == "oi" and view.chart_title.startswith("Open interest per venue over 24h")
    # venue order of the heatmap (binance before bybit), the NaN sample left out rather than drawn as 0
    assert view.chart_lines == (
        ChartLine("binance", secs(NOW - 2 * HOUR, NOW), (20.0, 40.0), "USD"),
        ChartLine("bybit", secs(NOW - 2 * HOUR, NOW - HOUR, NOW), (2.0, 3.0, 4.0), "USD"),
    )
    assert "hyperliquid: current OI only (no history kept)" in view.chart_note
    assert "history held 30h" in view.chart_note
    # a longer window reaches the older sample; "all" too
    week = build_coin_view(builder(state).figures, "SOL", "7d", chart="oi")
    assert week.chart_lines[1].y == (1.0, 2.0, 3.0, 4.0)
    # the price chart (default) computes no lines
    assert build_coin_view(builder(state).figures, "SOL", "24h").chart_lines == ()


def test_oi_chart_stale_history_is_marked_with_its_age_and_missing_history_is_said() -> None:
    state = derivs_state()
    state.oi_history = pd.DataFrame({"time": [NOW - HOUR, NOW], "coin": ["SOL"] * 2, "exchange": ["binance"] * 2,
                                     "oi_usd": [1.0, 2.0]})  # fmt: skip
    stale = FeedHealth("oi_history", "binance", 300.0, max_data_age=3 * 3600.0, as_of=time.time() - 5 * 3600)
    view = build_coin_view(builder(state, {"oi_history": stale}).figures, "SOL", "24h", chart="oi")
    assert view.chart_stale.startswith("oi_history: stale") and "5h" in view.chart_stale
    assert "STALE: oi_history: stale" in chart_legend(view).plain
    fresh = build_coin_view(builder(state, {"oi_history": live("oi_history")}).figures, "SOL", "24h", chart="oi")
    assert fresh.chart_stale == ""
    state.oi_history = None
    empty = build_coin_view(builder(state).figures, "SOL", "24h", chart="oi")
    assert empty.chart_lines == ()
    assert "binance, bybit, hyperliquid: current OI only" in empty.chart_note
    assert "no history to draw" in chart_legend(empty).plain


# -- funding per venue ------------------------------------------------------------------------------------------
def test_funding_chart_normalises_each_venue_to_8h_in_percent() -> None:
    state = derivs_state()
    bucket_end = NOW.floor("8h")  # 2026-11-23 08:00: a settlement at t lands in the bucket (end - 8h, end]
    bybit_times = [bucket_end - 8 * HOUR, bucket_end]  # 8-hourly settlements
    hl_times = [bucket_end - pd.Timedelta(hours=h) for h in range(7, -1, -1)]  # hourly settlements into one bucket
    state.funding_history = pd.DataFrame({
        "time": [*bybit_times, *hl_times, NOW + HOUR],
        "coin": ["SOL"] * 11,
        "exchange": ["bybit", "bybit"] + ["hyperliquid"] * 8 + ["bybit"],
        "rate": [0.0001, 0.0003, *[0.00001 * k for k in range(1, 9)], 0.5],  # the last one is after the clock
        "interval_hours": [8.0, 8.0] + [1.0] * 8 + [8.0],
    })  # fmt: skip
    view = build_coin_view(builder(state).figures, "SOL", "24h", chart="funding")
    lines = {line.label: line for line in view.chart_lines}
    assert [line.label for line in view.chart_lines] == ["bybit", "hyperliquid"]
    assert all(line.unit == "%/8h" for line in view.chart_lines)
    assert lines["bybit"].x == secs(bucket_end - 8 * HOUR, bucket_end)
    assert lines["bybit"].y == pytest.approx((0.01, 0.03))  # fraction per 8 h -> percent, the future one left out
    # hourly rates x 8 = per 8 h, the bucket's mean: 8 x mean(1..8) x 1e-5 = 3.6e-4 = 0.036 %
    assert lines["hyperliquid"].x == secs(bucket_end)
    assert lines["hyperliquid"].y == pytest.approx((0.036,))
    assert "binance: current rate only" in view.chart_note and view.chart_title.endswith("(%/8h)")
    assert "+0.0300%" in chart_legend(view).plain and "+0.0360%" in chart_legend(view).plain


def test_funding_chart_adds_the_other_venues_settled_history_for_the_coin_in_view() -> None:
    from records.derivs import funding_history_frame

    state = derivs_state()
    end = NOW.floor("8h")
    state.funding_history = pd.DataFrame({"time": [end], "coin": ["SOL"], "exchange": ["bybit"], "rate_8h": [0.0002]})
    times = [int((end - pd.Timedelta(hours=h)).value // 1_000_000) for h in (3, 2, 1, 0)]
    hourly = funding_history_frame(times, "SOL", "hyperliquid", "SOL", [1e-5, 2e-5, 3e-5, 4e-5], [1.0] * 4)
    binance = funding_history_frame([times[-1]], "SOL", "binance", "SOLUSDT", [0.0001], [8.0])
    state.venue_funding = {"hyperliquid": {"SOL": hourly}, "binance": {"SOL": binance, "ETH": binance}}
    stale = FeedHealth("venue_funding_hyperliquid", "hyperliquid", 900.0, max_data_age=86400.0,
                       as_of=time.time() - 2 * 86400)  # fmt: skip
    view = build_coin_view(builder(state, {"venue_funding_hyperliquid": stale}).figures, "SOL", "24h",
                           chart="funding")  # fmt: skip
    lines = {line.label: line.y for line in view.chart_lines}
    assert list(lines) == ["binance", "bybit", "hyperliquid"]  # the heatmap's venue order
    assert lines["binance"] == pytest.approx((0.01,)) and lines["bybit"] == pytest.approx((0.02,))
    assert lines["hyperliquid"] == pytest.approx((0.02,))  # mean of 8 x (1..4)e-5 = 2e-4 per 8 h
    assert view.chart_stale.startswith("venue_funding_hyperliquid: stale")  # only that venue's feed is named
    assert "binance" not in view.chart_stale and "current rate only" not in view.chart_note  # every venue drawn


def test_funding_chart_window_sets_the_periods_drawn() -> None:
    state = derivs_state()
    ends = [NOW.floor("8h") - 8 * HOUR * k for k in range(11, -1, -1)]  # 12 periods: 4 days
    state.funding_history = pd.DataFrame({"time": ends, "coin": ["SOL"] * 12, "exchange": ["bybit"] * 12,
                                          "rate_8h": [0.0001 * k for k in range(12)]})  # fmt: skip
    day = build_coin_view(builder(state).figures, "SOL", "24h", chart="funding")
    assert day.chart_lines[0].x == secs(*ends[-3:])  # 24 h = 3 periods of 8 h
    assert day.chart_lines[0].y == pytest.approx((0.09, 0.10, 0.11))
    week = build_coin_view(builder(state).figures, "SOL", "7d", chart="funding")
    assert len(week.chart_lines[0].x) == 12  # all the history the console keeps (funding.history_periods)


# -- spot vs perp CVD -------------------------------------------------------------------------------------------
def test_spot_vs_perp_cvd_lines_on_daily_bars_from_the_window_start() -> None:
    today = NOW.normalize()
    # spot +40 a day, perp -20 a day; each has a bar opened after the clock (tomorrow) that must not count
    spot = klines(today + DAY, DAY, [100.0] * 40, [70.0] * 40)
    perp = klines(today + DAY, DAY, [100.0] * 40, [40.0] * 40)
    state = MarketState(alt_daily={"SOL": spot}, perp_daily={"SOL": perp})
    view = build_coin_view(builder(state).figures, "SOL", "7d", chart="spot_perp")
    assert [line.label for line in view.chart_lines] == ["spot", "perp"]
    spot_line, perp_line = view.chart_lines
    # the window's first day: floor(now - 7d) = 11-16 00:00, so 8 daily bars up to today
    assert spot_line.x[0] == (today - 7 * DAY).timestamp() and spot_line.x[-1] == today.timestamp()
    assert spot_line.y == pytest.approx(tuple(40.0 * k for k in range(1, 9)))
    assert perp_line.y[-1] == pytest.approx(-160.0) and perp_line.unit == "USD"
    assert "1d bars" in view.chart_note
    # 24 h on daily bars: still two bars (yesterday and today), never a single dot
    assert len(build_coin_view(builder(state).figures, "SOL", "24h", chart="spot_perp").chart_lines[1].x) == 2
    # no perp bars: the spot line alone, and the note says why the perp is missing
    state.perp_daily = {}
    only_spot = build_coin_view(builder(state).figures, "SOL", "7d", chart="spot_perp")
    assert [line.label for line in only_spot.chart_lines] == ["spot"]
    assert "perp: no USD-M perp bars" in only_spot.chart_note


def test_chart_cycle_order() -> None:
    assert CHARTS == ("price", "spot_perp", "oi", "funding")
    assert [next_chart(c) for c in CHARTS] == ["spot_perp", "oi", "funding", "price"]
    assert next_chart("price", -1) == "funding" and next_chart("bogus") == "spot_perp"


# -- the coin's liquidations ------------------------------------------------------------------------------------
def tape_with(rows: list[tuple[int, str, str, float]], recording_since_ms: int | None) -> LiquidationTape:
    tape = LiquidationTape(recording_since_ms=recording_since_ms)
    if rows:
        tape.extend_frame(pd.DataFrame({
            "time": [r[0] for r in rows], "exchange": ["bybit"] * len(rows), "coin": [r[1] for r in rows],
            "side": [r[2] for r in rows], "qty": [1.0] * len(rows), "price": [150.0] * len(rows),
            "notional_usd": [r[3] for r in rows],
        }))  # fmt: skip
    return tape


def totals(view) -> dict[str, tuple[float | None, float | None, int | None]]:
    return {w.window: (w.long_usd, w.short_usd, w.count) for w in view.liq_windows}


def test_coin_liquidations_per_window_up_to_the_clock() -> None:
    state = MarketState()
    state.liq_tape = tape_with([
        (NOW_MS - 3 * 86_400_000, "SOL", "long", 7.0),  # 3 days ago: only in the 7d window
        (NOW_MS - 5 * H_MS, "SOL", "long", 1000.0),
        (NOW_MS - 2 * H_MS, "SOL", "short", 300.0),
        (NOW_MS - 30 * 60_000, "SOL", "long", 50.0),
        (NOW_MS - 10 * 60_000, "ETH", "long", 9e6),  # another coin
        (NOW_MS + 60_000, "SOL", "long", 5e6),  # after the clock
    ], recording_since_ms=NOW_MS - 10 * 86_400_000)  # fmt: skip
    view = build_coin_view(builder(state).figures, "SOL", "24h")
    assert totals(view) == {"1h": (50.0, 0.0, 1), "4h": (50.0, 300.0, 2), "24h": (1050.0, 300.0, 3)}
    assert all(w.coverage == 1.0 for w in view.liq_windows)
    assert (view.liq_long_usd, view.liq_short_usd, view.liq_count) == (1050.0, 300.0, 3)
    assert [r.notional_usd for r in view.liquidations] == [50.0, 300.0, 1000.0]  # newest first, 24 h
    week = build_coin_view(builder(state).figures, "SOL", "7d")
    assert totals(week)["7d"] == (1057.0, 300.0, 4)  # the screen's window, within the tape's 35 days
    for beyond_the_tape in ("90d", "all"):  # longer than the tape's 35 days: only the pane's windows
        windows = [w.window for w in build_coin_view(builder(state).figures, "SOL", beyond_the_tape).liq_windows]
        assert windows == ["1h", "4h", "24h"]
    text = plain(liquidations_block(view))
    assert "1h long $50  short $0  1 order" in text and "24h long $1.05K  short $300  3 orders" in text


def test_coin_liquidations_null_without_coverage_zero_only_when_covered() -> None:
    state = MarketState()
    # no tape at all: unknown, with the reason
    none = build_coin_view(builder(state).figures, "SOL", "24h")
    assert none.liq_windows == () and none.liq_long_usd is None and none.liq_count is None
    assert "not started" in plain(liquidations_block(none))
    # a tape that never recorded (no stream ever connected): every window unknown, never $0
    state.liq_tape = tape_with([], recording_since_ms=None)
    never = build_coin_view(builder(state).figures, "SOL", "24h")
    assert totals(never) == {"1h": (None, None, None), "4h": (None, None, None), "24h": (None, None, None)}
    assert never.liq_long_usd is None and never.liq_count is None
    text = plain(liquidations_block(never))
    assert text.count("n/a") == 3 and "$0" not in text and "unknown" in text
    # covered for 2 days, prints for another coin only: SOL had none, a real 0
    state.liq_tape = tape_with([(NOW_MS - H_MS, "ETH", "long", 5.0)], recording_since_ms=NOW_MS - 2 * 86_400_000)
    covered = build_coin_view(builder(state).figures, "SOL", "24h")
    assert totals(covered) == {"1h": (0.0, 0.0, 0), "4h": (0.0, 0.0, 0), "24h": (0.0, 0.0, 0)}
    assert "none recorded for SOL in the last 24h" in covered.liq_note
    # recording for 30 minutes: the 1 h window is half covered, a lower bound the block marks with ≥
    state.liq_tape = tape_with([(NOW_MS - 60_000, "SOL", "long", 20.0)], recording_since_ms=NOW_MS - 30 * 60_000)
    partial = build_coin_view(builder(state).figures, "SOL", "24h")
    one_hour = partial.liq_windows[0]
    assert one_hour.window == "1h" and one_hour.coverage == pytest.approx(0.5) and one_hour.long_usd == 20.0
    assert "lower bound" in partial.liq_note
    assert "long ≥$20" in plain(liquidations_block(partial)) and "50% recorded" in plain(liquidations_block(partial))


def test_liquidation_streams_down_mark_the_totals_stale() -> None:
    from types import SimpleNamespace

    state = MarketState()
    state.liq_tape = tape_with([(NOW_MS - H_MS, "SOL", "long", 5.0)], recording_since_ms=NOW_MS - 2 * 86_400_000)
    status = SimpleNamespace(state="offline", connected_at=None, retry_in_s=None, error="HTTP 451", records=0,
                             lower_bound=False)  # fmt: skip
    offline = SimpleNamespace(state="offline", status=lambda: status)  # a LiquidationFeed's face, as the views read it
    state.liq_streams = {"binance": offline}  # type: ignore[dict-item]
    view = build_coin_view(builder(state).figures, "SOL", "24h")
    assert view.liq_stale == "binance: offline"
    assert "STALE: binance: offline" in plain(liquidations_block(view))


# -- the screen on the demo market ------------------------------------------------------------------------------
def lines_title(app) -> str:
    return str(app.screen.query_one("#coin-lines-title").content)


async def test_c_cycles_every_chart_on_the_demo_coin_screen() -> None:
    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot, feeds=(*ALL_FEEDS, "cvd_perp_daily"))
        open_coin(app, "SOL")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, CoinScreen)
        binding = next(b for b in screen.BINDINGS if getattr(b, "key", None) == "c")
        assert binding.description == "Chart" and binding.show  # in the footer and the ? panel
        detail = screen.query_one(CoinDetail)
        chart = screen.query_one("#coin-lines-chart", LineChart)
        assert screen.chart == "price" and not detail.has_class("-lines")
        assert "[price]" in str(screen.query_one("#coin-price-title").content)
        seen: dict[str, tuple[str, tuple[str, ...]]] = {}
        for expected in ("spot_perp", "oi", "funding"):
            await pilot.press("c")
            await pilot.pause(0.1)
            assert screen.chart == expected and detail.has_class("-lines")
            assert screen.view is not None and screen.view.chart == expected
            seen[expected] = (lines_title(app), chart.labels)
            assert chart.labels == tuple(line.label for line in screen.view.chart_lines)
        assert seen["spot_perp"][0].startswith("Spot vs perp CVD over 24h") and seen["spot_perp"][1] == ("spot", "perp")
        assert seen["oi"][0].startswith("Open interest per venue") and "binance" in seen["oi"][1]
        assert seen["funding"][0].startswith("Funding per venue") and seen["funding"][1]
        assert len({title for title, _ in seen.values()}) == 3
        assert "[OI]" in seen["oi"][0] and "[funding]" in seen["funding"][0]
        # the coin in view has its settled funding fetched on Binance, OKX and Hyperliquid too (Bybit's is the basket's)
        assert app.state.coin_in_view == "SOL"
        for _ in range(100):
            if set(chart.labels) == {"binance", "bybit", "okx", "hyperliquid"}:
                break
            await pilot.pause(0.1)
        assert chart.labels == ("binance", "bybit", "okx", "hyperliquid")
        assert all(line.unit == "%/8h" for line in screen.view.chart_lines)
        # the chart stays chosen across windows; the next c goes back to price + CVD
        await pilot.press("right_square_bracket")
        assert screen.window == "7d" and screen.chart == "funding" and "over 7d" in lines_title(app)
        await pilot.press("c")
        await pilot.pause(0.1)
        assert screen.chart == "price" and not detail.has_class("-lines") and "SOL $" in header_text(app)
        # the coin's liquidations: the windows of the liquidations pane, with their counts
        assert [w.window for w in screen.view.liq_windows][:3] == ["1h", "4h", "24h"]
        assert "Liquidations SOL" in plain(screen.query_one("#coin-liqs").content)
        await pilot.press("escape")
        await pilot.pause()
        assert app.state.coin_in_view is None  # no detail up: the per-venue funding feeds are idle


def test_line_chart_keeps_the_single_series_api() -> None:
    chart = LineChart()
    chart.set_series((1.0, 2.0), (3.0, 4.0), "a")
    assert chart.labels == () and chart._series is not None
    chart.set_lines((ChartLine("x", (1.0,), (2.0,)), ChartLine("empty", (), ())), "b")
    assert chart.labels == ("x",) and chart._series is None  # a line without points is not drawn
    chart.set_series((1.0,), (2.0,), "c")
    assert chart.labels == ()
