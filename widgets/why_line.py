"""The "why" line under the mode banner: what is driving the move, shortened to the width it has.

It draws :class:`records.viewmodels.ExplainView` (built in :mod:`tui.views.explain`): the head (BTC's 24 h move)
and the parts, best-ranked first. When the line is wider than the widget, the lowest-ranked parts go first and a
``+N`` says how many are left out (:func:`records.viewmodels.fit_line`): a number is never cut in half.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from records.viewmodels import fit_line
from widgets.format import clean, tone
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import ExplainView


def why_text(view: ExplainView, width: int) -> Text:
    """The line fitted to ``width`` cells (one leading space of margin), the head coloured by BTC's move."""
    head = clean(view.head, 40) if view.head is not None else None
    parts = tuple(clean(p.text, 80) for p in view.parts)
    line = fit_line(head, parts, clean(view.empty, 80), max(0, width - 1))
    text = Text(" ", no_wrap=True, overflow="crop")
    if head is not None and line.startswith(head):
        text.append(head, style=f"bold {tone(view.head_value)}".strip())
        text.append(line[len(head) :])
    else:
        text.append(line)
    return text


class WhyLine(TextBox):
    """One line at the top of the dashboard; redrawn when its view or its width changes."""

    _view: ExplainView | None = None

    def update_view(self, view: ExplainView) -> None:
        self._view = view
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        if self._view is not None:
            self.update(why_text(self._view, self.content_size.width or self.size.width))
