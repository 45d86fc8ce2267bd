"""due_panes: which view-models a 1 Hz tick rebuilds (news, a changed status, the repaint throttle and floor)."""

from __future__ import annotations

from tui.views.registry import PANE_BY_KEY, TAPE, due_panes


def keys(due: list) -> set[str]:
    return {spec.key for spec in due}


def never(key: str, now: float) -> bool:
    return False


def test_news_makes_a_pane_due_and_only_the_panes_that_read_it() -> None:
    painted = dict.fromkeys(PANE_BY_KEY, 1000.0)
    due, later = due_panes({"funding_okx"}, painted, 1001.0, never)
    # The funding heatmap and the checklist (funding is a driver's metric) read it; nothing else does.
    assert keys(due) == {"funding", "drivers"} and later == set()
    assert keys(due_panes(set(), painted, 1001.0, never)[0]) == set()


def test_a_burst_of_tape_news_waits_for_the_throttle_and_is_kept() -> None:
    painted = dict.fromkeys(PANE_BY_KEY, 1000.0)
    due, later = due_panes({TAPE}, painted, 1001.0, never)
    assert "liquidations" not in keys(due) and later == {TAPE}  # painted 1 s ago: min_interval 3 s
    due, later = due_panes(later, painted, 1003.0, never)
    assert "liquidations" in keys(due) and later == set()


def test_the_floor_repaints_without_news() -> None:
    painted = dict.fromkeys(PANE_BY_KEY, 1000.0)
    assert keys(due_panes(set(), painted, 1005.0, never)[0]) == {"liquidations"}  # max_interval 5 s
    assert keys(due_panes(set(), painted, 1010.0, never)[0]) == {"liquidations", "drivers"}  # and 10 s
    # Never painted: the panes with a floor are due at once, the others wait for their data.
    assert keys(due_panes(set(), {}, 1000.0, never)[0]) == {"liquidations", "drivers"}


def test_a_changed_status_is_asked_only_without_news() -> None:
    asked: list[str] = []

    def changed(key: str, now: float) -> bool:
        asked.append(key)
        return key == "etf"

    painted = dict.fromkeys(PANE_BY_KEY, 1000.0)
    due, _ = due_panes({"btc_ticker"}, painted, 1001.0, changed)
    assert keys(due) == {"btc", "etf"}
    assert "btc" not in asked and "etf" in asked
