"""Builds the widgets' view-models from the console's figures, one call per pane (the app, the coin screen and
the snapshot all ask here).

The one place where market state meets presentation: widgets stay free of pandas and rules, analytics free of
Textual. Each pane's status combines the health of the feeds behind it (:mod:`tui.views.registry`), so stale
figures are labelled as such. The figures themselves are computed and memoised in :mod:`tui.views.figures`; the
driver metrics read the same ones (:mod:`tui.views.metrics`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from records.viewmodels import (
    BtcView,
    CvdView,
    DriversView,
    EtfView,
    ExplainView,
    FundingView,
    LiquidationsView,
    LongShortView,
    MacroView,
    PaneStatus,
    SourceLine,
    StatusView,
)
from tui.views.btc import btc_view
from tui.views.common import pane_status
from tui.views.cvd import cvd_view
from tui.views.drivers import DriverBook
from tui.views.etf import etf_view
from tui.views.explain import explain_view
from tui.views.figures import Figures, StreamHealth
from tui.views.funding import funding_view
from tui.views.liquidations import liquidations_view
from tui.views.long_short import long_short_view
from tui.views.macro import macro_view
from tui.views.metrics import Metrics
from tui.views.registry import PANE_BY_KEY

if TYPE_CHECKING:
    from analytics.cvd import BasketCVD
    from analytics.drivers import DriverState
    from analytics.price import BtcFigures
    from tui.runtime.config import Config
    from tui.runtime.health import FeedHealth
    from tui.runtime.modes import Runtime
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState

#: What the status bar calls each liquidation stream state.
STREAM_STATE = {"live": "live", "silent": "suspect", "connecting": "retrying", "retrying": "retrying"}


class ViewBuilder:
    """The view-models of one console; ``coin_filter`` ("/" in the dashboard) narrows the coin tables."""

    def __init__(self, config: Config, runtime: Runtime, state: MarketState, scheduler: Scheduler | None = None):
        self.config = config
        self.runtime = runtime
        self.state = state
        self.figures = Figures(config, runtime, state, scheduler)
        self.metrics = Metrics(self.figures)
        self.drivers_book = DriverBook(config.drivers_raw, config.drivers_file)
        self.coin_filter = ""
        #: Why the recorder stopped, when it did (None: recording, or not recording at all); set by tui.boot.
        self.recording_failed: Callable[[], str | None] | None = None
        #: What the alert routes' last failure was (None: all well); set by tui.boot when the session alerts.
        self.alert_problem: Callable[[], str | None] | None = None
        self._last_status: dict[str, str] = {}
        self._builders: dict[str, Callable[[float], Any]] = {
            "btc": self.btc, "cvd": self.cvd, "funding": self.funding, "liquidations": self.liquidations,
            "etf": self.etf, "macro": self.macro, "drivers": self.drivers, "long_short": self.long_short,
        }  # fmt: skip

    @property
    def scheduler(self) -> Scheduler | None:
        return self.figures.scheduler

    @scheduler.setter
    def scheduler(self, scheduler: Scheduler | None) -> None:
        self.figures.scheduler = scheduler

    def build(self, key: str, now: float | None = None) -> Any:
        """The view-model named ``key`` in :data:`tui.views.registry.PANES`."""
        return self._builders[key](time.time() if now is None else now)

    # -- health -----------------------------------------------------------------------------------------------
    def health_map(self) -> dict[str, FeedHealth]:
        return self.figures.health_map()

    def clock_offset(self, now: float) -> float:
        return self.figures.clock_offset(now)

    def pane_status(self, pane: str, now: float) -> PaneStatus:
        return self.figures.pane_status(pane, now)

    def status_changed(self, pane: str, now: float) -> bool:
        """True when the pane's health text changed (so a stale label appears even without new data)."""
        if not PANE_BY_KEY[pane].watch_status:
            return False
        text = pane_status(self.figures.healths(pane), now).text.split(" · ")[0]
        changed = self._last_status.get(pane) != text
        self._last_status[pane] = text
        return changed

    def stream_health(self, now: float | None = None) -> dict[str, StreamHealth]:
        return self.figures.stream_health(now)

    # -- figures the snapshot reads directly ------------------------------------------------------------------
    def btc_figures(self) -> BtcFigures | None:
        return self.figures.btc()

    def cvd_baskets(self) -> tuple[BasketCVD | None, BasketCVD | None]:
        return self.figures.cvd_baskets()

    def ratio_over(self, daily: BasketCVD, window: pd.Timedelta) -> dict[str, float]:
        return self.figures.ratio_over(daily, window)

    # -- the panes' view-models -------------------------------------------------------------------------------
    def btc(self, now: float | None = None) -> BtcView:
        now = time.time() if now is None else now
        return btc_view(self.figures, self.pane_status("btc", now))

    def cvd(self, now: float | None = None) -> CvdView:
        now = time.time() if now is None else now
        return cvd_view(self.figures, self.pane_status("cvd", now), self.coin_filter)

    def funding(self, now: float | None = None) -> FundingView:
        now = time.time() if now is None else now
        return funding_view(self.figures, self.pane_status("funding", now), now, self.coin_filter)

    def long_short(self, now: float | None = None) -> LongShortView:
        now = time.time() if now is None else now
        return long_short_view(self.figures, self.pane_status("long_short", now), now, self.coin_filter)

    def liquidations(self, now: float | None = None) -> LiquidationsView:
        return liquidations_view(self.figures, now)

    def etf(self, now: float | None = None) -> EtfView:
        now = time.time() if now is None else now
        return etf_view(self.state, self.pane_status("etf", now))

    def macro(self, now: float | None = None) -> MacroView:
        now = time.time() if now is None else now
        return macro_view(self.state, self.metrics, self.health_map(), self.pane_status("macro", now))

    def evaluate_drivers(self) -> list[DriverState]:
        """Re-evaluate every rule; returns the drivers that flipped between active and clear."""
        # "Since" is on the market's clock: a replay's drivers flip at the replayed time, not today's.
        return self.drivers_book.evaluate(self.metrics, pd.Timestamp(self.runtime.now_ms(), unit="ms", tz="UTC"))

    def explain(self, now: float | None = None) -> ExplainView:
        """The "why" line over the drivers as last evaluated (:meth:`evaluate_drivers`)."""
        return explain_view(self.figures, self.drivers_book.states, now)

    def drivers(self, now: float | None = None) -> DriversView:
        unknown = sum(1 for s in self.drivers_book.states if s.state == "unknown")
        total = len(self.drivers_book.states)
        status = PaneStatus(unknown < total, "live" if not unknown else f"{unknown} of {total} unknown (data missing)")
        return self.drivers_book.view(status)

    # -- status bar -------------------------------------------------------------------------------------------
    def status(self, scheduler: Scheduler, now: float | None = None) -> StatusView:
        now = time.time() if now is None else now
        self.scheduler = scheduler
        lines = tuple(
            SourceLine(feed.name, feed.provider, feed.health.status(now), feed.health.describe(now))
            for feed in scheduler.feeds.values()
        )
        for name, health in self.stream_health(now).items():
            lines += (SourceLine(f"liq_{name}", name, STREAM_STATE.get(health.state, "offline"), health.text),)
        market = ""
        if self.runtime.mode != "live":
            stamp = pd.Timestamp(self.runtime.now_ms(), unit="ms", tz="UTC")
            market = f"market time {stamp:%Y-%m-%d %H:%M} UTC"
        failed = self.recording_failed() if self.recording_failed is not None else None
        note = f"recording off: {failed}" if failed and not failed.startswith("recording") else failed or ""
        alerts = self.alert_problem() if self.alert_problem is not None else None
        if alerts:
            note = f"{note} · {alerts}" if note else alerts
        return StatusView(self.runtime.label, self.runtime.simulated, lines, scheduler.paused, market, note)
