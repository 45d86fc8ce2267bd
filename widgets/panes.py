"""The frame shared by every dashboard pane: a focusable box whose title carries the data's health.

A pane holds its view-model and its compactness in reactives: assigning a new view-model (``pane.view = vm``, or
``update_view``) shows its status on the border and redraws the pane; the pane's own width sets ``compact`` (short
labels, one-line totals) below ``COMPACT_BELOW`` cells, which redraws it in that form. Subclasses only say how to
draw a view-model (:meth:`Pane.render_view`); the update skeleton lives here, once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.containers import Vertical
from textual.reactive import var

from widgets.format import safe
from widgets.table_fit import FittedTable

if TYPE_CHECKING:
    from records.viewmodels import PaneStatus


def safe_status(status: PaneStatus) -> PaneStatus:
    """The status with its text made safe for the border (which Textual parses as markup)."""
    return replace(status, text=safe(status.text, 60))


class Pane(Vertical, can_focus=True):
    """A dashboard pane. ``pane_title`` is shown on the border with the data's status (live / stale 3m ...)."""

    DEFAULT_CSS = """
    Pane { border: round $panel; height: 1fr; }
    Pane:focus-within, Pane:focus { border: round $accent; }
    """

    #: The pane's key in :data:`tui.views.registry.PANES` (which view-models it draws).
    PANE: ClassVar[str] = ""
    #: Below this many cells of content width the pane switches to its compact form (0: it has none).
    COMPACT_BELOW: ClassVar[int] = 0

    #: The view-model drawn; every assignment redraws (what it shows may also depend on the terminal, e.g. NO_COLOR).
    view: var[Any] = var(None, init=False, always_update=True)
    #: The compact form (short labels, one-line totals, ...), set from the pane's own width.
    compact: var[bool] = var(False, init=False)

    def __init__(self, title: str, *, number: int, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pane_title = title
        self.number = number
        self.border_title = f"{number} {title}"
        self._ready = False  # children composed and mounted: drawing may query them
        self._table: FittedTable | None = None  # the pane's fitted table, when it has one

    def on_mount(self) -> None:
        # Runs after the subclass's own on_mount (Textual calls each class's handler, subclass first).
        self._ready = True
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_to_width(self.content_size.width)

    def fit_to_width(self, width: int) -> None:
        """Adapt to ``width`` cells of content. Tables refit their columns on their own resize (PaneTable)."""
        if self.COMPACT_BELOW:
            self.compact = width < self.COMPACT_BELOW

    def update_view(self, view: Any) -> None:
        """Show a new view-model (the same as assigning ``view``)."""
        self.view = view

    def watch_view(self, view: Any) -> None:
        if view is not None and hasattr(view, "status"):
            self.show_status(safe_status(view.status))
        self.redraw()

    def watch_compact(self, compact: bool) -> None:
        if self._table is not None:
            self._table.reset_widths()  # the compact cells are narrower: let the columns shrink
        self.redraw()

    def redraw(self) -> None:
        """Draw the current view-model (and the pane's own sort or mode) once the children exist."""
        if self._ready:
            self.render_view(self.view)

    def render_view(self, view: Any) -> None:
        """Draw ``view`` (None before the first one): panes override this."""

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
