"""The drivers timeline screen (``d`` on the dashboard, or "Drivers timeline" in the command palette).

For each key driver, when it was active over the history the console has (the demo's simulated market, the
replay files, the recorder's store), with BTC and the basket CVD under it, on the market clock: the question
"when did this rule fire before, and what was the market doing?". The series are computed by the backtest's
engine in a thread worker (seconds over two years), with "computing…" shown meanwhile; drawing them at a width is
pure and instant, so a resize regroups the periods without recomputing. ``←``/``→`` (``h``/``l``) move the cursor
over periods, ``Enter`` opens every driver's state, value and threshold in that period, ``[``/``]`` change the span
(all, 90d, 30d, 7d, 2d: a shorter span evaluates at a finer step), ``Esc`` closes the panel, then goes back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from records.viewmodels import TimelineView
from widgets.status_bar import ModeBanner
from widgets.timeline import TimelineDetailPanel, TimelineStrip

if TYPE_CHECKING:
    from tui.views.timeline import TimelineHistory

log = logging.getLogger(__name__)
#: Below this many rows the detail panel takes the strip's place instead of sitting under it.
SHORT_ROWS = 36


class TimelineScreen(Screen[None]):
    """``TimelineScreen(app)``: reads the app's session (None while booting: it waits for it)."""

    CSS_PATH = "../../widgets/timeline.tcss"
    AUTO_FOCUS = "TimelineStrip"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", key_display="Esc", id="timeline_back"),
        Binding("left,h", "move(-1)", "Earlier period", show=False, id="timeline_left"),
        Binding("right,l", "move(1)", "Later period", show=False, id="timeline_right"),
        Binding("home", "jump(0)", "First period", show=False, id="timeline_first"),
        Binding("end", "jump(-1)", "Last period", show=False, id="timeline_last"),
        Binding("enter", "detail", "Values", key_display="⏎", id="timeline_detail"),
        Binding("left_square_bracket", "span(-1)", "Longer span", key_display="[", id="timeline_span_prev"),
        Binding("right_square_bracket", "span(1)", "Shorter span", key_display="]", id="timeline_span_next"),
        Binding("question_mark", "app.help", "Keys", key_display="?", id="help"),
    ]

    def __init__(self, span: str = "all") -> None:
        super().__init__()
        self.span = span
        self.history: TimelineHistory | None = None
        self.cursor_step: int | None = None  # the step the cursor's period ends on (None: the last, now)
        self.view: TimelineView | None = None
        self.detail_open = False
        self._dataset: tuple[Any, int, str] | None = None

    def compose(self) -> ComposeResult:
        yield ModeBanner(" ", id="banner")
        with VerticalScroll(id="timeline-body"):
            yield TimelineStrip(id="timeline-strip")
            yield TimelineDetailPanel(id="timeline-detail")
        yield Footer()

    def on_mount(self) -> None:
        label, simulated = getattr(self.app, "banner", ("", False))
        self.query_one(ModeBanner).update_mode(label, simulated)
        self.sub_title = "drivers timeline"
        self.title = "Drivers timeline"
        self.set_class(self.size.height < SHORT_ROWS, "-short")
        self.start()

    # -- computing (a thread worker) ----------------------------------------------------------------------------
    def start(self) -> None:
        self.history = None
        self._show_message(f"computing the drivers over the history (span {self.span})…")
        self._compute(self.span)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False, name="timeline")
    def _compute(self, span: str) -> None:
        """Thread worker: wait for the boot, find the history, evaluate every rule over it (seconds)."""
        import time

        from tui.views.timeline import compute_history

        try:
            session = None
            for _ in range(600):  # the boot thread may still be building the market
                session = getattr(self.app, "session", None)
                if session is not None or getattr(self.app, "boot_error", None):
                    break
                time.sleep(0.1)
            if session is None:
                raise RuntimeError("the console has not started its data (see the banner)")
            if self._dataset is None:
                from tui.boot import timeline_history

                self._dataset = timeline_history(session)
            dataset, now, source = self._dataset
            history = compute_history(session.config, dataset, now, span, source)
        except Exception as exc:  # said on the screen; the log has the traceback
            log.exception("computing the drivers timeline failed")
            self.app.call_from_thread(self._show_message, f"no timeline: {exc}")
            return
        self.app.call_from_thread(self._computed, span, history)

    def _computed(self, span: str, history: TimelineHistory) -> None:
        if span != self.span or not self.is_attached:  # a newer span was asked for meanwhile, or the screen left
            return
        self.history = history
        self.redraw()

    # -- drawing --------------------------------------------------------------------------------------------
    def _width(self) -> int:
        strip = self.query_one(TimelineStrip)
        return max(20, (strip.content_size.width or self.size.width - 2))

    def _show_message(self, text: str) -> None:
        if not self.is_attached:
            return
        self.view = TimelineView(message=text)
        self.query_one(TimelineStrip).update_view(self.view)

    def redraw(self) -> None:
        from tui.views.timeline import build_timeline_view, period_detail

        if self.history is None:
            return
        width = self._width()
        self.view = build_timeline_view(self.history, width, self.cursor_step)
        self.query_one(TimelineStrip).update_view(self.view)
        if self.detail_open:
            self.query_one(TimelineDetailPanel).update_detail(period_detail(self.history, width, self.view.cursor))

    def on_resize(self) -> None:
        self.set_class(self.size.height < SHORT_ROWS, "-short")
        self.call_after_refresh(self.redraw)

    # -- actions --------------------------------------------------------------------------------------------
    def _set_cell(self, cell: int) -> None:
        from tui.views.timeline import cell_last_step

        if self.history is None or self.view is None or not self.view.cells:
            return
        cell = max(0, min(cell, self.view.cells - 1))
        self.cursor_step = cell_last_step(self.history, self._width(), cell)
        self.redraw()

    def action_move(self, step: int) -> None:
        if self.view is not None:
            self._set_cell(self.view.cursor + step)

    def action_jump(self, cell: int) -> None:
        if self.view is not None:
            self._set_cell(cell if cell >= 0 else self.view.cells - 1)

    def action_detail(self) -> None:
        if self.history is None:
            return
        self.detail_open = not self.detail_open
        self.set_class(self.detail_open, "-detail")
        self.redraw()

    def action_span(self, step: int) -> None:
        from tui.views.timeline import next_span

        self.span = next_span(self.span, step)
        self.cursor_step = None
        self.start()

    def action_back(self) -> None:
        if self.detail_open:
            self.action_detail()
            return
        self.app.pop_screen()
