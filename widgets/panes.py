"""The frame shared by every dashboard pane: a focusable box whose title carries the data's health."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.containers import Vertical

from records.viewmodels import PaneStatus


class Pane(Vertical, can_focus=True):
    """A dashboard pane. ``pane_title`` is shown on the border with the data's status (live / stale 3m ...)."""

    DEFAULT_CSS = """
    Pane { border: round $panel; height: 1fr; }
    Pane:focus-within, Pane:focus { border: round $accent; }
    """

    def __init__(self, title: str, *, number: int, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pane_title = title
        self.number = number
        self.border_title = f"{number} {title}"

    #: Below this many cells of content width the pane switches to its compact form (0: it has none).
    COMPACT_BELOW: ClassVar[int] = 0

    compact = False

    def on_resize(self, event: events.Resize) -> None:
        self.fit_to_width(self.content_size.width)

    def fit_to_width(self, width: int) -> None:
        """Adapt to ``width`` cells of content. Tables refit their columns on their own resize (PaneTable)."""
        if self.COMPACT_BELOW:
            self.set_compact(width < self.COMPACT_BELOW)

    def set_compact(self, compact: bool) -> bool:
        """Switch the compact form (short labels, one-line totals, ...); True when it changed and was redrawn."""
        if compact == self.compact:
            return False
        self.compact = compact
        self.compact_changed()
        return True

    def compact_changed(self) -> None:
        """Redraw in the new form (panes with a compact form override it)."""

    def show_status(self, status: PaneStatus) -> None:
        # Textual repaints the whole pane (children included) on every border title assignment, even an
        # unchanged one: assign only what changed, or every data tick costs a full pane over the link.
        title = f"{self.number} {self.pane_title}"
        subtitle = status.text if status.fresh else f"⚠ {status.text}"
        if self.border_title != title:
            self.border_title = title
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle
        self.set_class(not status.fresh, "-stale")


class PlaceholderPane(Pane):
    """A pane whose feed arrives in a later release; it says what it will show."""

    def __init__(self, title: str, text: str, *, number: int, id: str | None = None) -> None:
        super().__init__(title, number=number, id=id)
        self._text = text

    def compose(self):  # type: ignore[override]
        from textual.widgets import Static

        yield Static(self._text, classes="placeholder")
