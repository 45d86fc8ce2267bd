"""The dashboard screen: six panes in a grid that adapts to the terminal's width, a mode banner, the "why" line
and a status bar.

Keys are declared here, on the screen that owns them, and listed by ``?``.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input

from tui.app.keys import dashboard_bindings
from tui.app.messages import FilterChanged
from widgets.btc_pane import BtcPane
from widgets.cvd_pane import CvdPane
from widgets.drivers_pane import DriversPane
from widgets.etf_pane import EtfPane
from widgets.funding_pane import FundingPane
from widgets.liquidations_pane import LiquidationsPane
from widgets.panes import Pane
from widgets.status_bar import ModeBanner, StatusBar
from widgets.why_line import WhyLine

WIDE = 140
MEDIUM = 100


def layout_for(width: int) -> str:
    """The layout class for a terminal ``width``: -wide (>= 140), -medium (>= 100), -narrow."""
    if width >= WIDE:
        return "-wide"
    if width >= MEDIUM:
        return "-medium"
    return "-narrow"


class DashboardGrid(ScrollableContainer):
    """The panes' grid. Its own width picks the layout, so a help panel docked beside it narrows it too."""

    def on_resize(self, event: events.Resize) -> None:
        screen = self.screen
        if isinstance(screen, DashboardScreen):
            screen.apply_layout(event.size.width)


class DashboardScreen(Screen[None]):
    BINDINGS = dashboard_bindings()
    # A maximised pane keeps the mode banner (SIMULATED stays on screen) and the sources' health.
    ALLOW_IN_MAXIMIZED_VIEW = "ModeBanner, StatusBar, Footer"

    def compose(self) -> ComposeResult:
        yield ModeBanner(" starting… ", id="banner")
        yield WhyLine(" ", id="why")  # what is driving the move (tui.views.explain), under the banner at every width
        with DashboardGrid(id="dashboard"):
            yield BtcPane()
            yield CvdPane()
            yield FundingPane()
            yield LiquidationsPane()
            yield EtfPane()
            yield DriversPane()
        yield Input(placeholder="filter coins (Enter keeps it, Esc clears)", id="coin-filter", classes="-hidden")
        yield StatusBar(" ", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.apply_layout(self.app.size.width)
        label, simulated = getattr(self.app, "banner", ("", False))  # AltpulseApp.banner (a bare App has none)
        self.query_one(ModeBanner).update_mode(label, simulated)

    def apply_layout(self, width: int) -> None:
        wanted = layout_for(width)
        for name in ("-wide", "-medium", "-narrow"):
            self.set_class(name == wanted, name)

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

    # -- filter -------------------------------------------------------------------------------------------------
    #: The panes whose tables the filter narrows (CVD, funding): the filter hands focus back to one of them.
    FILTERED_PANES = (2, 3)
    _filter_return = 2

    def action_filter(self) -> None:
        pane = self.focused_pane()
        # Where the filter was opened from, so Enter or Esc hands the keys back to the table the trader was in.
        self._filter_return = pane.number if pane is not None and pane.number in self.FILTERED_PANES else 2
        box = self.query_one("#coin-filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "coin-filter":
            self.post_message(FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "coin-filter":
            event.input.add_class("-hidden")
            self.call_after_refresh(self._leave_filter)

    def on_key(self, event: events.Key) -> None:
        box = self.query_one("#coin-filter", Input)
        if event.key == "escape" and box.has_focus:
            box.value = ""
            box.add_class("-hidden")
            self.post_message(FilterChanged(""))
            self.call_after_refresh(self._leave_filter)
            event.stop()

    def _leave_filter(self) -> None:
        """Focus the table the filter was opened from, or the other filtered table when the filter left that one
        empty (a tail coin is on the heatmap, not in the basket's CVD table): Enter then drills down at once."""
        first = self._filter_return
        order = [first, *(n for n in self.FILTERED_PANES if n != first)]
        for number in order:
            pane = next((p for p in self.panes() if p.number == number), None)
            table = next(iter(pane.query(DataTable)), None) if pane is not None else None
            if table is not None and table.row_count:
                self.action_focus_pane(number)
                return
        self.action_focus_pane(first)

    # -- drill-down and export -------------------------------------------------------------------------------
    def selected_coin(self) -> str | None:
        """The coin under the cursor in the focused pane (BTC for the Bitcoin pane)."""
        pane = self.focused_pane()
        if isinstance(pane, BtcPane):
            return "BTC"
        picker = getattr(pane, "selected_coin", None)
        return picker() if callable(picker) else None

    def action_open_coin(self) -> None:
        coin = self.selected_coin()
        if coin is None:
            self.notify("Move to a coin in the CVD, funding or liquidations table, then press Enter", timeout=3)
            return
        from tui.app.coin_screen import open_coin

        open_coin(self.app, coin)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a table row (the table consumes the key) drills down into that row's coin."""
        event.stop()
        self.action_open_coin()

    def action_export(self) -> None:
        from tui.app.export import export_focused

        try:
            table_path, svg_path = export_focused(self.app)
        except OSError as exc:
            self.notify(f"export failed: {exc.strerror or exc}", severity="error", timeout=8)
            return
        saved = f"{table_path.name} and {svg_path.name}" if table_path else svg_path.name
        self.notify(f"Saved {saved} in {svg_path.parent}", title="Export", timeout=8)

    def action_copy(self, whole_table: bool) -> None:
        """``y``: the highlighted row (with its header), ``Y``: the whole focused table, to the terminal's clipboard
        (OSC 52; in tmux set ``set -g set-clipboard on``), tab-separated for a spreadsheet."""
        from tui.app.export import copy_text, focused_table, table_to_text

        table = focused_table(self.app)
        if table is None or not table.row_count:
            self.notify("Move to a table first (1-6), then y copies a row, Y the table", timeout=3)
            return
        copied = copy_text(self.app, table_to_text(table, cursor_row_only=not whole_table))
        rows = len(copied.splitlines()) - 1
        self.notify(f"Copied {rows} row{'s' if rows != 1 else ''} to the clipboard", timeout=3)

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
