"""The drivers timeline (issue 15 part 2): the view-model on a small synthetic history with the states worked out
by hand, and the screen on the demo and on the shared replay files (skipped when ../shared is absent)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from emulator.dataset import KLINE_COLUMNS, MarketDataset
from tests.conftest import FROZEN_NOW_MS, run_in_palette
from tui.views.timeline import (
    aggregate,
    build_timeline_view,
    cell_last_step,
    choose_step,
    compute_history,
    period_detail,
)

M15 = 15 * 60_000
H = 3_600_000
DAY = 24 * H
T0 = 1_760_000_400_000 - 1_760_000_400_000 % DAY  # a UTC midnight
#: Fear & Greed per day; <= 25 (active) on days 0, 1, 3 and 4.
FNG = [20, 20, 60, 10, 10, 40]
RULES = [
    {"id": "fear", "name": "Extreme fear", "meaning": "m",
     "conditions": [{"metric": "fear_greed", "op": "<=", "threshold": 25}]},
    {"id": "alt_cvd", "name": "Alt selling", "meaning": "m",
     "conditions": [{"metric": "basket_cvd_change", "op": "<", "threshold": 0, "window": "30d"}]},
]  # fmt: skip


def _history():
    n = len(FNG) * 24 + 1
    closes = 100.0 + np.arange(n, dtype=float)  # bar k opens at T0 - 1h + k h and closes at T0 + k h at 100 + k
    btc = pd.DataFrame({c: np.nan for c in KLINE_COLUMNS}, index=range(n))
    btc["open_time"] = T0 - H + np.arange(n, dtype=np.int64) * H
    btc["open"] = btc["high"] = btc["low"] = btc["close"] = closes
    eth = btc.copy()  # a basket coin without a taker split: the CVD driver cannot be evaluated
    fng = pd.DataFrame({"time": T0 + np.arange(len(FNG), dtype=np.int64) * DAY, "value": np.array(FNG, float),
                        "classification": "x"})  # fmt: skip
    data = MarketDataset("synthetic", False, spot_klines={"BTCUSDT": {H: btc}, "ETHUSDT": {H: eth}},
                         fear_greed=fng, start_ms=T0, end_ms=T0 + len(FNG) * DAY)  # fmt: skip
    config = SimpleNamespace(drivers_raw=RULES, drivers_file="test.toml", funding=SimpleNamespace(baseline_8h=1e-4),
                             general=SimpleNamespace(coins=("ETH",)))  # fmt: skip
    # The market clock a quarter hour before the end of day 5: 6 days of 15-minute steps, 96 a day.
    return compute_history(config, data, T0 + len(FNG) * DAY - M15, "all", "synthetic")


def test_steps_and_states_by_hand() -> None:
    history = _history()
    assert choose_step(6 * DAY) == M15 and history.step_ms == M15
    assert len(history.steps_ms) == 6 * 96 and history.steps_ms[0] == T0
    fear = history.letters(0)
    for i, t in enumerate(history.steps_ms.tolist()):
        day = (t - T0) // DAY  # the index published at that day's 00:00 is the one known
        assert fear[i] == ("a" if FNG[day] <= 25 else "c"), (i, t)
        assert history.btc[i] == 100.0 + (t - T0) // H  # the last close observed at or before the step
    assert set(history.letters(1)) == {"u"}
    assert "basket_cvd_change(30d)" in history.unknown_notes["alt_cvd"]
    assert "fear" not in history.unknown_notes
    assert np.isnan(history.cvd).all()  # no taker split: no CVD line, not a flat zero


def test_view_cells_aggregate_by_most_of_the_period() -> None:
    history = _history()
    # 14 name columns + 1 + 6 cells: one day per cell.
    view = build_timeline_view(history, 21)
    assert view.cells == 6
    assert view.rows[0].cells == "aacaac"
    assert view.rows[1].note.startswith("unknown over this history: basket_cvd_change(30d)")
    assert view.cursor == 5  # the last period (now) by default
    assert view.btc == tuple(100.0 + d * 24 + 23 for d in range(6))  # the close by each day's last step (23:45)
    assert view.cvd == (None,) * 6
    assert view.axis and view.axis[0][0] == 0
    # Three cells of two days: (20, 20) active, (60, 10) half active -> clear, (10, 40) -> clear.
    assert build_timeline_view(history, 18).rows[0].cells == "acc"
    # The cursor follows a step: step 100 is in day 1.
    assert build_timeline_view(history, 21, cursor_step=100).cursor == 1
    assert cell_last_step(history, 21, 1) == 191
    assert "1 cell = 1d" in view.rule


def test_aggregate_rule() -> None:
    def agg(letters: str, per: int) -> str:
        return aggregate(np.array(list(letters)), per)

    assert agg("aaau", 4) == "a"  # active for most of it
    assert agg("aacc", 4) == "c"  # half is not most
    assert agg("aauc", 4) == "c"
    assert agg("uuac", 4) == "u"  # unknown for half of it: not shown as clear
    assert agg("aaaccu", 3) == "ac"  # one unknown step of three is not half
    assert agg("aaacuu", 3) == "au"


def test_period_detail_values() -> None:
    history = _history()
    detail = period_detail(history, 21, 3)
    fear, cvd = detail.rows
    assert (fear.state, fear.state_at_end, fear.value, fear.threshold, fear.active_share) == (
        "active", "active", "10", "<= 25", 1.0)  # fmt: skip
    assert "fear_greed 10 <= 25" in fear.detail
    assert cvd.state == "unknown" and "basket_cvd_change" in cvd.note
    assert "values at" in detail.title and pd.Timestamp(T0 + 3 * DAY + 95 * M15, unit="ms").strftime("%H:%M") in (
        detail.title)  # fmt: skip


# -- the screen ----------------------------------------------------------------------------------------------------
async def _open_and_wait(pilot, key: bool = True):
    from tui.app.timeline_screen import TimelineScreen

    if key:
        await pilot.press("d")
    await pilot.pause(0.1)
    screen = pilot.app.screen
    assert isinstance(screen, TimelineScreen)
    for _ in range(1800):  # the worker evaluates every rule over the history (seconds on a busy 2-core box)
        if screen.history is not None or (screen.view is not None and screen.view.message.startswith("no ")):
            break
        await pilot.pause(0.1)
    assert screen.history is not None, screen.view
    await pilot.pause(0.2)
    return screen


def _rule_names(app) -> list[str]:
    return [r["name"] for r in app.config.drivers_raw if r.get("enabled", True)]


def _plain(widget) -> str:
    rendered = widget.render()
    return getattr(rendered, "plain", str(rendered))


async def _exercise(pilot, width: int) -> None:
    from widgets.timeline import TimelineDetailPanel, TimelineStrip

    app = pilot.app
    screen = await _open_and_wait(pilot)
    view = screen.view
    assert [r.name for r in view.rows] == _rule_names(app)
    text = _plain(screen.query_one(TimelineStrip))
    for name in _rule_names(app):
        assert name[:10] in text
    assert max(len(line) for line in text.splitlines()) <= width
    last = view.cursor
    assert last == view.cells - 1
    await pilot.press("left", "h")
    assert screen.view.cursor == last - 2
    await pilot.press("l")
    assert screen.view.cursor == last - 1
    await pilot.press("enter")
    await pilot.pause(0.2)
    panel = screen.query_one(TimelineDetailPanel)
    assert panel.display
    shown = _plain(panel)
    assert "values at" in shown
    for name in _rule_names(app):
        assert name in shown
    await pilot.press("escape")  # closes the panel first
    await pilot.pause(0.1)
    assert not screen.has_class("-detail") and app.screen is screen
    await pilot.press("escape")
    await pilot.pause(0.1)
    assert app.screen is not screen


async def test_screen_on_the_demo_narrow_pane() -> None:
    from tui.app.app import AltpulseApp
    from tui.app.timeline_screen import TimelineScreen
    from tui.runtime.config import load_config

    app = AltpulseApp(load_config(use_user_file=False), "demo", frozen_now_ms=FROZEN_NOW_MS, start_feeds=False)
    async with app.run_test(size=(70, 24)) as pilot:
        await pilot.press("d")
        for _ in range(100):  # the screen is pushed on the next refresh; on a loaded box that can take a while
            await pilot.pause(0.05)
            if isinstance(app.screen, TimelineScreen) and app.screen.view is not None:
                break
        if app.screen.history is None:  # shown while the worker runs
            assert app.screen.view.message.startswith("computing")
        screen = await _open_and_wait(pilot, key=False)
        # The demo carries taker splits, a tape, OI and market history: every driver is evaluated somewhere.
        assert screen.history.unknown_notes == {}
        end = screen.history.states[-1]
        assert {s.id: s.state for s in end}["liquidation_cascade"] == "active"  # the story's cascade, at "now"
        assert screen.history.steps_ms[-1] <= FROZEN_NOW_MS  # nothing after the market clock
        await pilot.press("escape")
        await pilot.pause(0.1)
        await _exercise(pilot, 70)


async def test_palette_opens_the_timeline() -> None:
    from tui.app.app import AltpulseApp
    from tui.app.timeline_screen import TimelineScreen
    from tui.runtime.config import load_config

    app = AltpulseApp(load_config(use_user_file=False), "demo", frozen_now_ms=FROZEN_NOW_MS, start_feeds=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await run_in_palette(pilot, "Drivers timeline")
        assert isinstance(app.screen, TimelineScreen)


async def test_screen_on_the_replay_files(shared_dir) -> None:
    from tui.app.app import AltpulseApp
    from tui.runtime.config import load_config

    replay = shared_dir / "data" / "replay"
    if not replay.is_dir():
        pytest.skip("../shared/data/replay is not present")
    app = AltpulseApp(load_config(use_user_file=False), "replay", replay_dir=replay, start_feeds=False)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open_and_wait(pilot)
        notes = screen.history.unknown_notes
        # No taker split, tape, market history in the files: those rows say why, never clear.
        for rule_id in ("alt_selling_pressure", "liquidation_cascade", "btc_dominance_rising"):
            assert rule_id in notes
            row = next(r for r in screen.view.rows if r.id == rule_id)
            assert row.note.startswith("unknown over this history") and set(row.cells) == {"u"}
        assert "extreme_fear" not in notes and "a" in next(r for r in screen.view.rows if r.id == "extreme_fear").cells
        await pilot.press("escape")
        await pilot.pause(0.1)
        await _exercise(pilot, 160)


def test_basket_flows_join_daily_history_to_the_recent_hourly_bars() -> None:
    """A dataset keeps hourly bars for recent weeks and daily ones before them (the demo does): the basket's flows
    reach back over the days and stay fresh up to the clock, each instant counted once, from the finest size."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from tui.views.history import DAY_MS, HOUR_MS, HistoryMetrics

    def bars(start: int, n: int, size: int, buy: float, total: float) -> pd.DataFrame:
        return pd.DataFrame({"open_time": start + np.arange(n, dtype=np.int64) * size, "close": 1.0,
                             "quote_volume": total, "taker_buy_quote_volume": buy})  # fmt: skip

    cut = 10 * DAY_MS
    daily = bars(0, 12, DAY_MS, 60.0, 100.0)  # its last two days overlap the hours: left out
    hourly = bars(cut, 48, HOUR_MS, 1.0, 4.0)
    dataset = SimpleNamespace(spot_klines={"ETHUSDT": {DAY_MS: daily, HOUR_MS: hourly}})
    history = HistoryMetrics(dataset, np.array([cut + 48 * HOUR_MS]), 0.0001, basket=("ETH",))
    [(coin, obs, cum_buy, cum_sell, _, sizes)] = history.basket_flows()
    assert coin == "ETH" and len(obs) == 10 + 48 and list(np.unique(sizes)) == [HOUR_MS, DAY_MS]
    assert np.all(np.diff(obs) > 0) and obs[-1] == cut + 48 * HOUR_MS
    assert cum_buy[-1] - cum_sell[-1] == 10 * (60 - 40) + 48 * (1 - 3)
    line = history.basket_cvd_line()
    assert np.isfinite(line).all()  # fresh at the clock: the hourly bars reach it
