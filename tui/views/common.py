"""Small conversions every view module shares: finite numbers or None, chart axes, ISO times, a pane's status."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from records.viewmodels import PaneStatus

if TYPE_CHECKING:
    import pandas as pd

    from tui.runtime.health import FeedHealth

#: Points a pane chart draws at most (the series are downsampled to it).
CHART_POINTS = 200


def num(value: Any) -> float | None:
    """A finite float, or None (NaN/inf/None/non-numbers are unknown: shown as a dash and exported as null)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def epoch_seconds(index: pd.Index) -> tuple[float, ...]:
    """Epoch seconds of a datetime index whatever its unit (pandas 3 indexes may be ms or us, not ns)."""
    import pandas as pd

    return tuple(pd.DatetimeIndex(index).as_unit("s").asi8.astype(float).tolist())


def iso(ms_or_ts: Any) -> str | None:
    """``2025-10-11T12:00:00Z`` for epoch ms or a timestamp; None passes through."""
    import pandas as pd

    if ms_or_ts is None:
        return None
    stamp = pd.Timestamp(ms_or_ts, unit="ms", tz="UTC") if isinstance(ms_or_ts, int | float) else ms_or_ts
    return pd.Timestamp(stamp).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def clock_text(ms: int) -> str:
    """``HH:MM:SS`` (UTC) of epoch ms: the tape's time column."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%H:%M:%S")


def span_text(seconds: float, minutes: str = "m") -> str:
    """``3d``, ``5h`` or ``40m`` (``minutes`` is the minute unit): how long a history or a recording covers."""
    hours = seconds / 3600
    if hours >= 48:
        return f"{hours / 24:.0f}d"
    if hours >= 1:
        return f"{hours:.0f}h"
    return f"{seconds / 60:.0f}{minutes}"


def pane_status(healths: list[FeedHealth], now: float, clock_offset: float = 0.0) -> PaneStatus:
    """Fresh when the primary feed is fresh; the text names the worst problem among the pane's feeds.

    A live pane says just "live": its border is redrawn whenever the text changes, and Textual repaints the whole
    pane for it, so a clock in it would send every pane down the link once a minute. The as-of time (on the
    market's clock: ``clock_offset`` is market time minus wall time, 0 live) is kept in ``PaneStatus.as_of``.
    """
    primary = healths[0]
    fresh = primary.is_fresh(now)
    problems = [h for h in healths if h.status(now) not in ("live", "paused")]
    if primary.as_of is None and not problems:
        return PaneStatus(False, "waiting for data")
    as_of = (
        dt.datetime.fromtimestamp(primary.as_of + clock_offset, dt.UTC).strftime("%H:%M UTC") if primary.as_of else ""
    )
    if not problems:
        return PaneStatus(fresh, "paused" if primary.paused else "live", as_of)
    worst = problems[0] if not fresh else sorted(problems, key=lambda h: h.status(now) == "waiting")[0]
    return PaneStatus(fresh, f"{worst.name}: {worst.describe(now)}", as_of)
