"""The status bar: the mode (a SIMULATED label in demo, never hidden) and each source's health."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from widgets.format import clean
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import StatusView

_STYLE = {
    "live": "green",
    "paused": "yellow",
    "waiting": "dim",
    "stale": "yellow",
    "suspect": "yellow",
    "retrying": "yellow",
    "offline": "red",
    "unavailable": "red",
}
_GLYPH = {
    "live": "●",
    "paused": "‖",
    "waiting": "○",
    "stale": "◐",
    "suspect": "?",
    "retrying": "↻",
    "offline": "✕",
    "unavailable": "⊘",
}


_RANK = {"live": 0, "paused": 1, "waiting": 2, "stale": 3, "suspect": 4, "retrying": 5, "offline": 6, "unavailable": 7}


def status_text(view: StatusView, width: int = 200) -> Text:
    """One glyph per provider (its worst feed), then the feeds that are not live with why.

    When the providers do not fit on one line of ``width`` (a tmux side-pane), the live ones are counted
    ("● 7/9 live") and only the others are named, so the bar stays one line plus one per problem.
    """
    text = Text(no_wrap=False)
    worst: dict[str, str] = {}
    for line in view.sources:
        current = worst.get(line.provider)
        if current is None or _RANK.get(line.status, 9) > _RANK.get(current, 9):
            worst[line.provider] = line.status
    head = Text()
    if view.paused:
        head.append(" PAUSED ", style="bold reverse yellow")
        head.append(" ")
    providers = Text()
    for provider, status in worst.items():
        providers.append(_GLYPH.get(status, "?") + " ", style=_STYLE.get(status, ""))
        providers.append(clean(provider, 16) + "  ")
    market = view.market_time
    if head.cell_len + len(market) + 2 + providers.cell_len > width:
        market = market.replace("market time ", "market ").replace(" UTC", "")
        live = sum(1 for status in worst.values() if status in ("live", "paused"))
        providers = Text()
        providers.append("● ", style="green" if live == len(worst) else "yellow")
        providers.append(f"{live}/{len(worst)} live  ")
        for provider, status in worst.items():
            if status not in ("live", "paused"):
                providers.append(_GLYPH.get(status, "?") + " ", style=_STYLE.get(status, ""))
                providers.append(clean(provider, 16) + "  ")
    text.append_text(head)
    if market:
        text.append(market + "  ", style="dim")
    text.append_text(providers)
    text.rstrip()
    if view.recording:
        text.append(f"\n⊘ {clean(view.recording, 140)}", style="yellow")
    for line in view.sources:
        if line.status not in ("live", "paused"):
            text.append(f"\n{_GLYPH.get(line.status, '?')} {clean(line.name, 24)}: ", style=_STYLE.get(line.status, ""))
            text.append(clean(line.text, 100), style=_STYLE.get(line.status, ""))
    return text


class StatusBar(TextBox):
    """Docked at the bottom, above the key footer. Redrawn when its view or its width changes, not every tick."""

    _view: StatusView | None = None

    def update_view(self, view: StatusView) -> None:
        self._view = view
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        if self._view is not None:
            self.update(status_text(self._view, self.content_size.width or self.size.width))


class ModeBanner(TextBox):
    """Docked at the top. In demo mode it reads SIMULATED DATA in reverse video (visible under NO_COLOR too)."""

    def update_mode(self, label: str, simulated: bool) -> None:
        self.set_class(simulated, "-simulated")
        self.update(Text(f" {clean(label, 80)} ", style="bold reverse" if simulated else "bold"))
