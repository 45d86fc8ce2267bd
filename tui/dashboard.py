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
from widgets.panes import Pane, PlaceholderPane
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
            yield PlaceholderPane(
                "Funding",
                "Funding heatmap: coins x exchanges (Binance, Bybit, OKX, Hyperliquid), normalised to 8h; "
                "open interest and its 24h change. Not built yet in this release.",
                number=3,
                id="pane-funding",
            )
            yield PlaceholderPane(
                "Liquidations",
                "Liquidation tape, totals per 1h/4h/24h and the cascade meter. Not built yet in this release.",
                number=4,
                id="pane-liqs",
            )
            yield PlaceholderPane(
                "ETF flows & macro",
                "US spot BTC/ETH ETF daily net flows by fund, streaks; dominance, Fear & Greed, SPY, 2y yield. "
                "Not built yet in this release.",
                number=5,
                id="pane-etf",
            )
            yield PlaceholderPane(
                "Key drivers",
                "Checklist of market drivers evaluated live from config.toml rules. Not built yet in this release.",
                number=6,
                id="pane-drivers",
            )
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
        self.query_one(CvdPane).set_compact(compact)

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
        focused = self.focused
        while focused is not None and not isinstance(focused, Pane):
            focused = focused.parent  # type: ignore[assignment]
        target = focused or self.panes()[0]
        self.maximize(target, container=False)

    def action_sort(self) -> None:
        key = self.query_one(CvdPane).cycle_sort()
        self.notify(f"CVD table sorted by {key}", timeout=2)
