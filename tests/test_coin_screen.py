"""Coin detail: build_coin_view figures on small hand-checkable states, and the screen on the demo market."""

from __future__ import annotations

import time
from itertools import pairwise
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from rich.text import Text
from textual.geometry import Region

from analytics.liquidations import LiquidationTape
from records.derivs import DerivsSnapshot, FundingQuote, OpenInterest
from records.viewmodels import CoinView, PaneStatus
from tests.conftest import FROZEN_NOW_MS, run_in_palette
from tests.test_app import demo_app, wait_for_data
from tui.app.coin_screen import CoinCommands, CoinScreen, coins_in, open_coin
from tui.app.dashboard import DashboardScreen
from tui.runtime.config import load_config
from tui.runtime.health import FeedHealth
from tui.runtime.modes import Runtime
from tui.runtime.state import MarketState
from tui.views.builder import ViewBuilder
from tui.views.coin import WINDOWS, build_coin_view, next_window, window_bars
from widgets.coin_detail import CoinDetail, header, sparkline
from widgets.format import money, pct, price

NOW = pd.Timestamp(FROZEN_NOW_MS, unit="ms", tz="UTC")  # 2026-11-23 12:00 UTC
HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
ALL_FEEDS = ("btc_ticker", "btc_intraday", "btc_ath", "cvd_daily", "cvd_hourly", "funding_binance", "funding_bybit",
             "funding_history", "oi_history", "oi_binance")  # fmt: skip


# -- small states -----------------------------------------------------------------------------------------------
def klines(last_open: pd.Timestamp, step: pd.Timedelta, quote: list[float], buy: list[float],
           closes: list[float] | None = None) -> pd.DataFrame:  # fmt: skip
    """A parse_klines-shaped frame of len(quote) bars ending with the bar opened at ``last_open``."""
    n = len(quote)
    index = pd.DatetimeIndex([last_open - step * (n - 1 - i) for i in range(n)], name="open_time").as_unit("ms")
    closes = closes if closes is not None else [100.0 + i for i in range(n)]
    opens = [closes[0] - 1.0, *closes[:-1]]
    return pd.DataFrame(
        {
            "open": opens, "high": np.maximum(opens, closes), "low": np.minimum(opens, closes), "close": closes,
            "volume": [q / 100 for q in quote], "quote_volume": quote, "trades": [10] * n,
            "taker_buy_base": [b / 100 for b in buy], "taker_buy_quote": buy,
            "close_time": index + step - pd.Timedelta(milliseconds=1),
            "provisional": [False] * (n - 1) + [True],
        },
        index=index,
    )  # fmt: skip


def builder(state: MarketState, healths: dict[str, FeedHealth] | None = None) -> ViewBuilder:
    config = load_config(use_user_file=False).with_overrides("general", coins=["SOL", "ETH"])
    runtime = Runtime("demo", "SIMULATED", None, lambda: FROZEN_NOW_MS, simulated=True)
    views = ViewBuilder(config, runtime, state)
    if healths is not None:
        views.scheduler = SimpleNamespace(feeds={n: SimpleNamespace(health=h) for n, h in healths.items()})
    return views


def live(name: str) -> FeedHealth:
    return FeedHealth(name, "x", 60.0, as_of=time.time())


def hourly_state() -> tuple[MarketState, pd.DataFrame]:
    rng = np.random.default_rng(7)
    quote = list(rng.uniform(1000, 2000, 48))
    buy = [q * s for q, s in zip(quote, rng.uniform(0.3, 0.7, 48), strict=True)]
    frame = klines(NOW, HOUR, quote, buy)
    state = MarketState(alt_hourly={"SOL": frame})
    state.bump("cvd_hourly")
    return state, frame


# -- build_coin_view figures ------------------------------------------------------------------------------------
def test_window_figures_are_sums_over_the_last_n_bars() -> None:
    state, frame = hourly_state()
    view = build_coin_view(builder(state).figures, "sol", "24h")
    last24 = frame.iloc[-24:]
    q, b = last24["quote_volume"].to_numpy(), last24["taker_buy_quote"].to_numpy()
    assert view.coin == "SOL" and view.window == "24h" and view.bars == "1h bars" and not view.message
    assert view.cvd_usd == pytest.approx(float((2 * b - q).sum()))
    assert view.ratio == pytest.approx(b.sum() / (q - b).sum())
    assert view.price == pytest.approx(147.0)  # closes 100..147
    assert view.change_pct == pytest.approx((147.0 / last24["open"].iat[0] - 1) * 100)
    assert len(view.price_x) == 24 and view.price_y[-1] == 147.0
    assert view.cvd_y[-1] == pytest.approx(view.cvd_usd)
    assert view.cvd_x[0] == last24.index[0].timestamp()
    assert view.coverage == ""
    # the whole 48 h frame for a 7-day window: every bar, and it says the history is short
    week = build_coin_view(builder(state).figures, "SOL", "7d")
    assert week.cvd_usd == pytest.approx(float((2 * frame["taker_buy_quote"] - frame["quote_volume"]).sum()))
    assert week.coverage == "history covers only 2d"
    assert week.chart_key != view.chart_key


def test_unknown_taker_split_stays_unknown_and_earlier_gaps_do_not_matter() -> None:
    state, frame = hourly_state()
    frame.iloc[5, frame.columns.get_loc("taker_buy_quote")] = np.nan  # before the 24 h window
    assert build_coin_view(builder(state).figures, "SOL", "24h").cvd_usd is not None
    frame.iloc[-3, frame.columns.get_loc("taker_buy_quote")] = np.nan  # inside it
    view = build_coin_view(builder(state).figures, "SOL", "24h")
    assert view.cvd_usd is None and view.ratio is None
    assert view.cvd_note.startswith("taker split unknown from")
    assert len(view.cvd_y) == 21  # the known part is drawn, the rest is not invented
    assert "—" in header(view).plain


def test_daily_bars_beyond_thirty_days_and_share_of_basket() -> None:
    start_daily = NOW.normalize()
    sol_d = klines(start_daily, DAY, [100.0] * 120, [70.0] * 120)  # +40/day
    eth_d = klines(start_daily, DAY, [100.0] * 120, [40.0] * 120)  # -20/day
    state = MarketState(alt_daily={"SOL": sol_d, "ETH": eth_d}, alt_hourly={"SOL": klines(NOW, HOUR, [10.0] * 720,
                        [6.0] * 720)})  # fmt: skip
    state.bump("cvd_daily")
    views = builder(state)
    view = build_coin_view(views.figures, "SOL", "90d")
    assert view.bars == "1d bars" and view.cvd_usd == pytest.approx(90 * 40.0)
    assert view.ratio == pytest.approx(70 / 30)
    assert build_coin_view(views.figures, "SOL", "30d").bars == "1h bars"
    assert build_coin_view(views.figures, "SOL", "30d").cvd_usd == pytest.approx(720 * 2.0)
    # share = cumulative / sum of |cumulative| of the basket since cvd.start (the daily frame is all after it)
    cum_sol, cum_eth = 120 * 40.0, 120 * -20.0
    assert view.share_pct == pytest.approx(cum_sol / (abs(cum_sol) + abs(cum_eth)) * 100)
    assert "since 2025-01-01" in view.share_note
    assert build_coin_view(views.figures, "SOL", "all").cvd_usd == pytest.approx(cum_sol)


def test_funding_oi_and_liquidations_of_the_coin() -> None:
    state, _ = hourly_state()
    ts = NOW
    quote = FundingQuote("SOL", "binance", 0.0003, 8.0, 0.0003, NOW + pd.Timedelta(hours=4), 150.0, "SOLUSDT", ts)
    other = FundingQuote("ETH", "binance", 0.0009, 8.0, 0.0009, None, 3000.0, "ETHUSDT", ts)
    hl = FundingQuote("SOL", "hyperliquid", 0.00005, 1.0, 0.0004, NOW + HOUR, 150.0, "SOL", ts)
    state.derivs = {
        "binance": DerivsSnapshot("binance", [quote, other], [], ts),
        "hyperliquid": DerivsSnapshot("hyperliquid", [hl], [OpenInterest("SOL", "hyperliquid", 10, 1500.0, ts)], ts),
    }
    state.binance_oi = [OpenInterest("SOL", "binance", 20, 3000.0, ts), OpenInterest("ETH", "binance", 1, 9e9, ts)]
    state.oi_history = pd.DataFrame({
        "time": [NOW - DAY, NOW, NOW - DAY, NOW], "coin": ["SOL", "SOL", "ETH", "ETH"],
        "exchange": ["binance"] * 4, "oi_usd": [100.0, 110.0, 50.0, 10.0],
    })  # fmt: skip
    periods = [NOW - pd.Timedelta(hours=8 * k) for k in (2, 1, 0)]
    state.funding_history = pd.DataFrame({
        "time": periods * 2, "coin": ["SOL"] * 6, "exchange": ["bybit"] * 3 + ["okx"] * 3,
        "rate_8h": [0.0001, 0.0002, 0.0003, 0.0003, 0.0004, 0.0005],
    })  # fmt: skip
    tape = LiquidationTape(recording_since_ms=FROZEN_NOW_MS - 2 * 86_400_000)
    now_ms = FROZEN_NOW_MS
    tape.extend_frame(pd.DataFrame({
        "time": [now_ms - 25 * 3_600_000, now_ms - 3_600_000, now_ms - 60_000, now_ms - 30_000, now_ms + 60_000],
        "exchange": ["okx", "binance", "bybit", "okx", "okx"], "coin": ["SOL", "SOL", "SOL", "ETH", "SOL"],
        "side": ["long", "long", "short", "long", "long"], "qty": [1.0] * 5, "price": [150.0] * 5,
        "notional_usd": [999.0, 1000.0, 250.0, 7.0, 5.0],
    }))  # fmt: skip
    state.liq_tape = tape
    healths = {
        "funding_binance": live("funding_binance"),
        "funding_hyperliquid": FeedHealth("funding_hyperliquid", "hl", 60.0, as_of=time.time() - 3600),
    }
    view = build_coin_view(builder(state, healths).figures, "SOL", "24h")
    venues = {row.venue: row for row in view.funding}
    assert set(venues) == {"binance", "hyperliquid"}
    assert venues["binance"].fresh and venues["binance"].rate_8h == 0.0003
    assert venues["binance"].annualised_pct == pytest.approx(0.0003 * 3 * 365 * 100)
    assert venues["binance"].next_funding == "16:00 UTC (in 4h00)"
    assert not venues["hyperliquid"].fresh and venues["hyperliquid"].status.startswith("stale")
    assert view.funding_mean_8h == pytest.approx(0.0003)  # the stale venue is shown but left out of the mean
    assert view.funding_history[-3:] == pytest.approx((0.0002, 0.0003, 0.0004))  # mean across venues
    assert len(view.funding_labels) == len(view.funding_history)
    assert {r.venue: r.usd for r in view.oi} == {"binance": 3000.0, "hyperliquid": 1500.0}
    assert view.oi_total_usd == 3000.0  # fresh venues only
    assert view.oi_change_24h_pct == pytest.approx(10.0)
    assert [r.notional_usd for r in view.liquidations] == [250.0, 1000.0]  # newest first, in the last 24 h
    assert view.liq_long_usd == 1000.0 and view.liq_short_usd == 250.0 and view.liq_count == 2
    assert view.liquidations[0].side == "short" and view.liquidations[0].venue == "bybit"


def test_unknown_coin_btc_and_window_cycle() -> None:
    state, _ = hourly_state()
    state.coin_errors["XRP"] = "HTTP 400: Invalid symbol."
    views = builder(state)
    assert build_coin_view(views.figures, "XYZ", "24h").message == "no data for XYZ yet"
    assert build_coin_view(views.figures, "XRP", "24h").message == "no data for XRP: HTTP 400: Invalid symbol."
    assert "no data for XYZ yet" in header(build_coin_view(views.figures, "XYZ", "24h")).plain
    state.btc_intraday = klines(NOW, pd.Timedelta(minutes=5), [50.0] * 300, [30.0] * 300)
    state.btc_ticker = SimpleNamespace(last=123.5)
    btc = build_coin_view(views.figures, "BTC", "24h")
    assert btc.bars == "5m bars" and btc.cvd_usd == pytest.approx(288 * 10.0)
    assert btc.price == 123.5 and btc.share_pct is None and "not in the altcoin basket" in btc.share_note
    assert [next_window(w) for w in WINDOWS] == ["7d", "30d", "90d", "all", "24h"]
    assert next_window("24h", -1) == "all"
    assert len(window_bars(state.btc_intraday, "all")) == 300


def test_sparkline_and_header_clean_hostile_names() -> None:
    assert sparkline((0.0001, None, 0.0003)).plain == "▁·█"
    view = CoinView("[red]X\x1b[2J", "24h", PaneStatus(True, "live"), price=1.0)
    assert "\x1b" not in header(view).plain


# -- the screen on the demo market ------------------------------------------------------------------------------
def header_text(app) -> str:
    content = app.screen.query_one("#coin-header").content
    return content.plain if isinstance(content, Text) else str(content)


async def test_sol_detail_windows_and_back_to_the_same_focus() -> None:
    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot, feeds=ALL_FEEDS)
        await pilot.press("2")
        before = app.focused
        assert before is not None and before.id == "cvd-table"
        dashboard = app.screen
        open_coin(app, "SOL")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, CoinScreen) and screen.coin == "SOL"
        expected = build_coin_view(app.views.figures, "SOL", "24h")
        text = header_text(app)
        assert f"SOL ${price(expected.price)}" in text
        assert pct(expected.change_pct) in text and money(expected.cvd_usd, signed=True) in text
        assert f"share {expected.share_pct:+.0f}%" in text and "[24h]" in text
        assert "binance" in str(app.screen.query_one("#coin-funding").content.renderables[1].columns[0]._cells)
        key = screen.query_one(CoinDetail).chart_key
        await pilot.press("right_square_bracket")
        assert screen.window == "7d" and "[7d]" in header_text(app)
        assert screen.query_one(CoinDetail).chart_key != key
        await pilot.press("left_square_bracket")
        assert screen.window == "24h" and screen.query_one(CoinDetail).chart_key == key
        for expected_window in ("7d", "30d", "90d", "all", "24h"):
            await pilot.press("t")
            assert screen.window == expected_window and f"[{expected_window}]" in header_text(app)
        await pilot.press("r")  # refresh: must not raise
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is dashboard and isinstance(app.screen, DashboardScreen)
        assert app.focused is before


async def test_btc_unknown_coin_backspace_and_no_busy_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_data(app, pilot, feeds=ALL_FEEDS)
        open_coin(app, "BTC")
        await pilot.pause(0.2)
        text = header_text(app)
        assert text.startswith("BTC $") and "5m bars" in text
        screen = app.screen
        assert isinstance(screen, CoinScreen)
        # keyed on the data versions it depends on (cvd_daily only here: it moves every 300 s in the demo)
        monkeypatch.setattr("tui.app.coin_screen.coin_feeds", lambda coin: ("cvd_daily",))
        screen.rebuild(force=True)
        view = screen.view
        screen.rebuild()
        assert screen.view is view  # nothing changed: not rebuilt
        app.state.bump("cvd_daily")
        screen.rebuild()
        assert screen.view is not view
        monkeypatch.undo()  # from here on the real data versions: the watched feeds' ones too
        open_coin(app, "xyz")  # already on the detail: switches coin in place, Esc still goes to the dashboard
        await pilot.pause()
        assert app.screen is screen and header_text(app).startswith("XYZ ")
        # Outside the basket: watched, "loading" until its first fetch, then what the venues said.
        for _ in range(200):
            if "no spot pair" in header_text(app):
                break
            await pilot.pause(0.05)
        assert "XYZ: no spot pair on Binance" in header_text(app)
        assert "no perpetual on the tracked venues either" in header_text(app)
        await pilot.press("backspace")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


async def test_command_palette_offers_every_coin() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_data(app, pilot, feeds=ALL_FEEDS)
        assert coins_in(app.views) == ["BTC", "ETH", "SOL", "DOGE", "PEPE"]
        provider = CoinCommands(app.screen)
        hits = [hit async for hit in provider.search(":coin sol")]
        assert hits and hits[0].text == "coin SOL"
        discovered = [hit.text async for hit in provider.discover()]
        assert discovered == [f"coin {c}" for c in ("BTC", "ETH", "SOL", "DOGE", "PEPE")]
        hits[0].command()
        await pilot.pause(0.2)
        assert isinstance(app.screen, CoinScreen) and app.screen.coin == "SOL"
        # and through the palette itself, from the detail screen (its COMMANDS carry the provider)
        await run_in_palette(pilot, "coin doge")
        assert isinstance(app.screen, CoinScreen) and app.screen.coin == "DOGE"


def in_scroll(widget, root) -> Region:
    """A widget's region inside the scroll column ``root`` (virtual regions are relative to the parent)."""
    region = widget.virtual_region
    x, y = region.x, region.y
    node = widget.parent
    while node is not root:
        x, y = x + node.virtual_region.x, y + node.virtual_region.y
        node = node.parent
    return Region(x, y, region.width, region.height)


@pytest.mark.parametrize("size", [(70, 24), (60, 20), (80, 24)])
async def test_narrow_stacks_without_overlap(size: tuple[int, int]) -> None:
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await wait_for_data(app, pilot, feeds=ALL_FEEDS)
        open_coin(app, "SOL")
        await pilot.pause(0.3)
        detail = app.screen.query_one(CoinDetail)
        assert detail.has_class("-narrow")
        ids = ("#coin-header", "#coin-price-chart", "#coin-cvd-chart", "#coin-funding", "#coin-oi", "#coin-liqs")
        regions = [in_scroll(app.screen.query_one(i), detail) for i in ids]
        for upper, lower in pairwise(regions):
            assert upper.bottom <= lower.y, (upper, lower)  # stacked top to bottom
        assert all(r.right <= size[0] for r in regions)
        await pilot.press("pagedown", "pagedown", "end")
        await pilot.pause()
        assert detail.scroll_y > 0
        assert "SOL $" in header_text(app)
