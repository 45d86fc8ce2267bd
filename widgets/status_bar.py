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


_RANK = {"live": 0, "paused": 1, "waiting": 2, "stale": 3, "retrying": 4, "offline": 5, "unavailable": 6}


def status_text(view: StatusView, width: int = 200) -> Text:
    """One glyph per provider (its worst feed), then the feeds that are not live with why."""
    text = Text(no_wrap=False)
    if view.paused:
        text.append(" PAUSED ", style="bold reverse yellow")
        text.append(" ")
    if view.market_time:
        text.append(view.market_time + "  ", style="dim")
    worst: dict[str, str] = {}
    for line in view.sources:
        current = worst.get(line.provider)
        if current is None or _RANK.get(line.status, 9) > _RANK.get(current, 9):
            worst[line.provider] = line.status
    for provider, status in worst.items():
        text.append(_GLYPH.get(status, "?") + " ", style=_STYLE.get(status, ""))
        text.append(clean(provider, 16) + "  ")
    for line in view.sources:
        if line.status not in ("live", "paused"):
            text.append(f"\n{_GLYPH.get(line.status, '?')} {clean(line.name, 24)}: ", style=_STYLE.get(line.status, ""))
            text.append(clean(line.text, 100), style=_STYLE.get(line.status, ""))
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
