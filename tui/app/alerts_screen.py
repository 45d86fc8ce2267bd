"""The alert log on screen (``a`` on the dashboard): the last alerts, what fired and where each was sent.

Newest first: time (market clock), rule, kind (flip, threshold), state, the alert's text (``[SIMULATED]`` in the
demo, ``[REPLAY]`` in a replay) and each route with how its delivery went (sent, failed with why, skipped, pending).
A follower shows the collector's alerts (its log file). Refreshed every two seconds while open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.views.alerts import alert_rows
from widgets.format import clean
from widgets.status_bar import ModeBanner

if TYPE_CHECKING:
    from tui.views.alerts import Alerting

COLUMNS = ("time (UTC)", "rule", "kind", "state", "alert", "sent to")


class AlertsScreen(Screen[None]):
    """``AlertsScreen(alerting)``; ``alerting`` None: this session sends no alerts (said on the screen)."""

    AUTO_FOCUS = "#alerts-table"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", key_display="Esc", id="alerts_back"),
        Binding("r", "reload", "Reload", id="alerts_reload"),
        Binding("question_mark", "app.help", "Keys", key_display="?", id="help"),
    ]

    def __init__(self, alerting: Alerting | None) -> None:
        super().__init__()
        self.alerting = alerting
        self._shown: object = None

    def compose(self) -> ComposeResult:
        yield ModeBanner(" ", id="banner")
        yield Static("", id="alerts-summary")
        yield DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        label, simulated = getattr(self.app, "banner", ("", False))
        self.query_one(ModeBanner).update_mode(label, simulated)
        self.sub_title = "Alerts"
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.action_reload()
        self.set_interval(2.0, self.action_reload, name="alerts-tick")

    def action_reload(self) -> None:
        entries = self.alerting.recent(100) if self.alerting is not None else []
        token = [(e.get("uid"), tuple(d.get("status") for d in e.get("deliveries", []))) for e in entries]
        if token == self._shown:
            return
        self._shown = token
        table = self.query_one(DataTable)
        table.clear()
        for row in alert_rows(entries):
            table.add_row(*(Text(clean(cell, 200)) for cell in row))  # plain text: no markup
        if self.alerting is None:
            summary = "This session sends no alerts."
        else:
            rules = ", ".join(r.id for r in self.alerting.engine.rules if r.enabled) or "none"
            problem = self.alerting.problem
            summary = f"{len(entries)} alerts · rules: {rules}" + (f" · {problem}" if problem else "")
            if not entries:
                summary += " · nothing has fired yet (a driver's first state is not an alert)"
        self.query_one("#alerts-summary", Static).update(Text(clean(summary, 300)))

    def action_back(self) -> None:
        self.app.pop_screen()
