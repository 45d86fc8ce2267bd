"""Layout snapshots (pytest-textual-snapshot) of the demo console at the sizes traders use, clock frozen.

The demo market is anchored at a fixed time and its virtual clock is stopped; the wall clock is frozen too
(time-machine), so ages and as-of times render identically on every run. Each screen is waited on until every
feed has delivered and every liquidation stream is live. Regenerate after an intended change with
``pytest tests/test_snapshots.py --snapshot-update`` and look at the report before committing.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.conftest import FROZEN_NOW_MS
from tui.app.app import AltpulseApp
from tui.runtime.config import load_config

FROZEN = dt.datetime.fromtimestamp(FROZEN_NOW_MS / 1000, dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_wall_clock():
    with time_machine.travel(FROZEN, tick=False):
        yield


def demo_app() -> AltpulseApp:
    return AltpulseApp(load_config(use_user_file=False), "demo", frozen_now_ms=FROZEN_NOW_MS)


async def settle(pilot) -> None:
    """Until every feed has data and every stream is live, then repaint everything once."""
    app = pilot.app
    for _ in range(600):
        await pilot.pause(0.05)
        scheduler = app.scheduler
        if scheduler is None or app.state is None:
            continue
        feeds_done = all(f.health.as_of is not None for f in scheduler.feeds.values() if f.name != "liq_okx_rest")
        streams_live = app.state.liq_streams and all(s.state == "live" for s in app.state.liq_streams.values())
        if feeds_done and streams_live:
            break
    else:
        pytest.fail("the demo never settled")
    app.refresh_all_views()
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40), (160, 45)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_layout(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(), terminal_size=size, run_before=settle)


def test_narrow_pane_maximised(snap_compare) -> None:
    """A tmux side-pane: focus the funding heatmap and maximise it."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("3", "f")
        await pilot.pause(0.5)  # the layout settles over a few frames

    assert snap_compare(demo_app(), terminal_size=(70, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_coin_detail(snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("2", "enter")
        await pilot.pause(0.5)

    assert snap_compare(demo_app(), terminal_size=size, run_before=run_before)


def test_help_panel(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("2", "question_mark")
        await pilot.pause(0.5)

    assert snap_compare(demo_app(), terminal_size=(160, 45), run_before=run_before)


def test_drivers_timeline(snap_compare) -> None:
    """The drivers timeline (``d``) on the demo's history at 80x24, cursor one period back, its values open."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("d")
        for _ in range(1800):
            await pilot.pause(0.1)
            if getattr(pilot.app.screen, "history", None) is not None:
                break
        await pilot.press("left")
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
