"""The key-drivers checklist: the configured rules evaluated on the driver metrics, with each driver's state,
value, threshold, trend and since when; its view-model and snapshot section.

A driver is active, clear or unknown (data missing or stale: never a stale "active"). Only flips between active
and clear are market events worth announcing; entering or leaving unknown is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics.drivers import DriverState, evaluate, parse_rules, summary
from records.viewmodels import DriverRow, DriversView, PaneStatus
from tui.views.common import num

if TYPE_CHECKING:
    from tui.views.metrics import Metrics


#: Under the table, for a driver whose "since" is a bound (shown as "≤12-07 14:09").
SINCE_BOUND_NOTE = "already so when first known: began then or earlier"


class DriverBook:
    """Evaluates the configured rules and remembers each driver's previous state (for since/trend/flips)."""

    def __init__(self, raw_rules: list[dict[str, Any]], file: str) -> None:
        self.rules = parse_rules(raw_rules, file)
        self.previous: dict[str, DriverState] = {}
        self.states: list[DriverState] = []

    def evaluate(self, metrics: Metrics, now: pd.Timestamp | None = None) -> list[DriverState]:
        """Evaluate every rule; returns the drivers that flipped between active and clear.

        A driver leaving or entering "unknown" (data arriving at start-up, a feed going stale) is not a market
        event, so it is not announced.
        """
        now = pd.Timestamp.now(tz="UTC") if now is None else now
        self.states = evaluate(self.rules, metrics.lookup, self.previous, now)
        flips = [
            s for s in self.states
            if (prev := self.previous.get(s.id)) is not None and {prev.state, s.state} == {"active", "clear"}
        ]  # fmt: skip
        self.previous = {s.id: s for s in self.states}
        return flips

    def view(self, status: PaneStatus) -> DriversView:
        rows = []
        for s in sorted(self.states, key=lambda d: {"active": 0, "unknown": 1, "clear": 2}[d.state]):
            trend = {"up": "↑", "down": "↓", "flat": "→"}.get(s.trend or "", "")
            since = "" if s.since is None else f"{'' if s.since_exact else '≤'}{s.since:%m-%d %H:%M}"
            # A state already holding when first known (start-up, data back) began then or earlier: say so.
            since_note = "" if s.since is None or s.since_exact else SINCE_BOUND_NOTE
            first = s.first_value
            # The table keeps the value short; why it is missing or stale goes under the table.
            note = first.note if first is not None and first.note and (first.value is None or first.stale) else ""
            rows.append(DriverRow(s.id, s.name, s.state, s.display_value, s.display_threshold, trend, since,
                                  s.meaning, s.detail, note, s.quality, since_note))  # fmt: skip
        return DriversView(status, summary(self.states), tuple(rows))


def snapshot_drivers(book: DriverBook) -> dict[str, Any]:
    """The ``drivers`` and ``drivers_summary`` sections of the snapshot JSON."""
    return {
        "drivers": [
            {
                "id": s.id,
                "name": s.name,
                "state": s.state,
                "value": None if s.first_value is None else num(s.first_value.value),
                "threshold": s.values[0].condition.threshold if s.values else None,
                "since": None if s.since is None else s.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                # False: the state already held when first known, so it began at or before "since".
                "since_exact": s.since_exact,
                "detail": s.detail,
                "quality": s.quality or None,
            }
            for s in book.states
        ],
        "drivers_summary": summary(book.states),
    }
