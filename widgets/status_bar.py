"""The status bar: the mode (a SIMULATED label in demo, never hidden) and each source's health."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.format import clean
from widgets.viewmodels import StatusView

_STYLE = {
    "live": "green",
    "paused": "yellow",
    "waiting": "dim",
    "stale": "yellow",
    "retrying": "yellow",
    "offline": "red",
    "unavailable": "red",
}
_GLYPH = {
    "live": "●",
    "paused": "‖",
    "waiting": "○",
    "stale": "◐",
    "retrying": "↻",
    "offline": "✕",
    "unavailable": "⊘",
}


def status_text(view: StatusView, width: int = 200) -> Text:
    text = Text(no_wrap=False)
    if view.paused:
        text.append(" PAUSED ", style="bold reverse yellow")
        text.append(" ")
    if view.market_time:
        text.append(view.market_time + "  ", style="dim")
    for line in view.sources:
        text.append(_GLYPH.get(line.status, "?") + " ", style=_STYLE.get(line.status, ""))
        text.append(clean(line.name, 24))
        if line.status != "live":
            text.append(f" {clean(line.text, 60)}", style=_STYLE.get(line.status, ""))
        text.append("  ")
    return text


class StatusBar(Static):
    """Docked at the bottom, above the key footer."""

    def update_view(self, view: StatusView) -> None:
        self.update(status_text(view, self.size.width))


class ModeBanner(Static):
    """Docked at the top. In demo mode it reads SIMULATED DATA in reverse video (visible under NO_COLOR too)."""

    def update_mode(self, label: str, simulated: bool) -> None:
        self.set_class(simulated, "-simulated")
        self.update(Text(f" {clean(label, 80)} ", style="bold reverse" if simulated else "bold"))
