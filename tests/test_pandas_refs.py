"""tui.runtime.pandas_refs: the sweep prunes the dead weak references pandas leaves on long-lived frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tui.runtime.pandas_refs import sweep_dead_references
from tui.runtime.state import MarketState


def _klines(rows: int = 500) -> pd.DataFrame:
    return pd.DataFrame({"close": np.linspace(1.0, 2.0, rows), "quote_volume": np.arange(rows, dtype=float)},
                        index=pd.date_range("2026-01-01", periods=rows, freq="h", tz="UTC"))  # fmt: skip


def _view_often(frame: pd.DataFrame, times: int = 300) -> None:
    for _ in range(times):  # what a tick's view-model build does: a column, a tail slice, then dropped
        frame["close"].iloc[-1]
        frame.iloc[-24:]["quote_volume"].sum()


def _dead(refs: object) -> int:
    return sum(1 for ref in refs.referenced_blocks if ref() is None)  # type: ignore[attr-defined]


def test_views_leave_dead_references_that_the_sweep_prunes() -> None:
    state = MarketState()
    state.alt_daily = {"ETH": _klines(), "SOL": _klines()}
    for frame in state.alt_daily.values():
        _view_often(frame)
    block_refs = [block.refs for frame in state.alt_daily.values() for block in frame._mgr.blocks]
    index_refs = [frame.index._references for frame in state.alt_daily.values()]
    assert all(_dead(refs) >= 100 for refs in block_refs + index_refs)  # what pandas leaves behind

    swept = sweep_dead_references(state)

    assert swept >= len(block_refs) + len(index_refs)
    assert all(_dead(refs) == 0 for refs in block_refs + index_refs)
    # The frames are untouched: same values, still views of nothing else.
    assert state.alt_daily["ETH"]["close"].iloc[-1] == 2.0


def test_a_live_view_survives_the_sweep() -> None:
    frame = _klines()
    tail = frame.iloc[-10:]  # held: its reference must stay, or writing to the frame would write through to it
    _view_often(frame)
    sweep_dead_references({"frame": frame})
    block = frame._mgr.blocks[0]
    assert block.refs.has_reference()
    frame.iloc[-1, 0] = 99.0
    assert tail.iloc[-1, 0] == 2.0  # Copy-on-Write still copies


def test_the_walk_stays_out_of_foreign_objects_and_survives_cycles() -> None:
    class Foreign:  # a library object (this test module is no package of ours): never walked into
        def __init__(self, frame: pd.DataFrame) -> None:
            self.frame = frame

    frame = _klines()
    _view_often(frame)
    box: list[object] = [Foreign(frame)]
    box.append(box)
    assert sweep_dead_references(box) == 0
    assert _dead(frame._mgr.blocks[0].refs) > 0
    assert sweep_dead_references(box, {"again": [frame]}) >= 1
    assert _dead(frame._mgr.blocks[0].refs) == 0
