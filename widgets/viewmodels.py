"""View-models: plain data the widgets draw. Built in ``tui/views.py`` from market state; no pandas here.

A figure that is not fresh carries that fact (``fresh`` False and a ``status`` text like "stale 3m"), so a widget
can never show an old number as live.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaneStatus:
    """Health of the data behind a pane: ``fresh`` figures may be shown as current; ``text`` says why not."""

    fresh: bool
    text: str  # "live", "stale 3m", "retrying in 8s: HTTP 503", "waiting for data"
    as_of: str = ""  # "12:04:31 UTC" of the newest figure


@dataclass(frozen=True)
class BtcView:
    """Bitcoin's headline figures. Percentages are plain percent numbers (−3.2 means −3.2 %)."""

    status: PaneStatus
    price: float | None = None
    change_24h_pct: float | None = None
    change_1h_pct: float | None = None
    ath: float | None = None
    drawdown_pct: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None
    chart_x: tuple[float, ...] = ()  # epoch seconds
    chart_y: tuple[float, ...] = ()
    chart_key: int = 0  # changes when the chart data changes (redraw only then)


@dataclass(frozen=True)
class CvdRow:
    """One altcoin's spot taker flow. USD figures; ``ratio`` is taker-buy / taker-sell quote volume."""

    coin: str
    cumulative_usd: float | None
    delta_24h_usd: float | None
    delta_30d_usd: float | None
    ratio_30d: float | None
    share_pct: float | None  # share of the basket's cumulative delta
    note: str = ""  # e.g. "unknown: no taker data", "HTTP 400: Invalid symbol."


@dataclass(frozen=True)
class CvdView:
    """The altcoin basket's cumulative volume delta since ``since``."""

    status: PaneStatus
    since: str = ""
    basket_usd: float | None = None
    basket_change_30d_usd: float | None = None
    basket_ratio_30d: float | None = None
    chart_x: tuple[float, ...] = ()
    chart_y: tuple[float, ...] = ()
    chart_key: int = 0
    rows: tuple[CvdRow, ...] = ()
    excluded: tuple[str, ...] = ()  # coins left out of the basket (unknown data)
    provisional: bool = False  # today's bar is still open


@dataclass(frozen=True)
class SourceLine:
    name: str
    provider: str
    status: str  # live | stale | retrying | offline | unavailable | waiting | paused
    text: str


@dataclass(frozen=True)
class StatusView:
    mode_label: str
    simulated: bool
    sources: tuple[SourceLine, ...] = field(default_factory=tuple)
    paused: bool = False
    market_time: str = ""
