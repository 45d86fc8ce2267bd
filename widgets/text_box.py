"""A Static that repaints only when what it shows changes, and lays the screen out again only when its size can.

Textual repaints a widget's whole region on every ``update``, even with identical content, and every repaint is
bytes down the user's SSH link. The panes update their text on each data tick; most ticks change nothing.
Each ``update`` also re-lays out the whole screen by default (the new text might need another height): in the demo
that was ~40 layouts a minute, mostly the BTC headline's price ticking. The box measures the old and the new
content as the layout would (height at its width, optimal width in its container) and lays out only when they
differ; otherwise the new text is only repainted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.css.styles import RulesMap


def content_key(content: Any) -> object:
    """What decides how ``content`` looks. Rich's ``Text ==`` ignores the base style and justification, so a
    figure turning dim (stale) would compare equal to its live self: compare those too."""
    if isinstance(content, Text):
        return ("text", content.plain, tuple(content.spans), str(content.style), content.justify, content.no_wrap,
                content.overflow, content.end)  # fmt: skip
    if isinstance(content, str):
        return ("str", content)
    return ("object", id(content))  # anything else: always repaint


class TextBox(Static):
    """``update`` is a no-op when the new content would look the same as what is shown, and skips the layout when
    the new content takes the same size (module docstring)."""

    _shown: object = None

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        key = content_key(content)
        if key == self._shown:
            return
        self._shown = key
        before = self._extent() if layout else None
        super().update(content, layout=False)
        if layout and (before is None or before != self._extent()):
            self.refresh(layout=True)

    def _extent(self) -> tuple[int, int] | None:
        """(height at the box's width, optimal width in its container) of what is shown, measured as Textual's
        layout measures it; None before the box has a size (then the layout runs)."""
        width = self.content_size.width
        container = self.container_size.width
        if width <= 0 or container <= 0:
            return None
        visual = self.visual
        # The styles are what Textual's own measuring passes here (Widget.get_content_height); typed as the rules.
        rules = cast("RulesMap", self.styles)
        return visual.get_height(rules, width), visual.get_optimal_width(rules, container)
