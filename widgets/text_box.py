"""A Static that repaints only when what it shows changes.

Textual repaints a widget's whole region on every ``update``, even with identical content, and every repaint is
bytes down the user's SSH link. The panes update their text on each data tick; most ticks change nothing.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


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
    """``update`` is a no-op when the new content would look the same as what is shown."""

    _shown: object = None

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        key = content_key(content)
        if key == self._shown:
            return
        self._shown = key
        super().update(content, layout=layout)
