"""The dashboard screen: six panes in a grid that adapts to the terminal's width, a mode banner and a status bar.

Keys are declared here, on the screen that owns them, and listed by ``?``.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widgets import Footer

from widgets.btc_pane import BtcPane
from widgets.cvd_pane import CvdPane
from widgets.drivers_pane import DriversPane
from widgets.etf_pane import EtfPane
from widgets.funding_pane import FundingPane
from widgets.liquidations_pane import LiquidationsPane
from widgets.panes import Pane
from widgets.status_bar import ModeBanner, StatusBar

WIDE = 140
MEDIUM = 100


def layout_for(width: int) -> str:
    """The layout class for a terminal ``width``: -wide (>= 140), -medium (>= 100), -narrow."""
    if width >= WIDE:
        return "-wide"
    if width >= MEDIUM:
        return "-medium"
    return "-narrow"


class DashboardScreen(Screen[None]):
    BINDINGS = [
        Binding("1", "focus_pane(1)", "BTC", show=False),
        Binding("2", "focus_pane(2)", "CVD", show=False),
        Binding("3", "focus_pane(3)", "Funding", show=False),
        Binding("4", "focus_pane(4)", "Liqs", show=False),
        Binding("5", "focus_pane(5)", "ETF", show=False),
        Binding("6", "focus_pane(6)", "Drivers", show=False),
        Binding("f", "maximize", "Max"),
        Binding("s", "sort", "Sort"),
        Binding("p", "app.toggle_pause", "Pause"),
        Binding("r", "app.refresh_now", "Refresh"),
        Binding("question_mark", "app.help", "Keys", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield ModeBanner(" starting… ", id="banner")
        with ScrollableContainer(id="dashboard"):
            yield BtcPane()
            yield CvdPane()
            yield FundingPane()
            yield LiquidationsPane()
            yield EtfPane()
            yield DriversPane()
        yield StatusBar(" ", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._apply_layout(self.app.size.width)
        label, simulated = getattr(self.app, "banner", ("", False))
        self.query_one(ModeBanner).update_mode(label, simulated)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        wanted = layout_for(width)
        for name in ("-wide", "-medium", "-narrow"):
            self.set_class(name == wanted, name)
        compact = wanted == "-narrow" or (wanted == "-wide" and width < 170)
        for pane in self.query(Pane):
            if hasattr(pane, "set_compact"):
                pane.set_compact(compact)

    def panes(self) -> list[Pane]:
        return sorted(self.query(Pane), key=lambda p: p.number)

    def action_focus_pane(self, number: int) -> None:
        for pane in self.panes():
            if pane.number == number:
                focus_target = next(iter(pane.query("DataTable")), pane)
                focus_target.focus()
                pane.scroll_visible()
                return

    def action_maximize(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        target = self.focused_pane() or self.panes()[0]
        self.maximize(target, container=False)

    def focused_pane(self) -> Pane | None:
        node = self.focused
        while node is not None and not isinstance(node, Pane):
            node = node.parent  # type: ignore[assignment]
        return node

    def action_sort(self) -> None:
        pane = self.focused_pane()
        if pane is None or not hasattr(pane, "cycle_sort"):
            pane = self.query_one(CvdPane)
        key = pane.cycle_sort()
        self.notify(f"{pane.pane_title}: sorted by {key}", timeout=2)
