"""The drivers timeline: a row per key driver of one cell per period (active / clear / unknown), the UTC dates
under it, BTC's price and the basket's CVD as one-line sparklines aligned with the cells, and the cursor's period.

Draws :class:`records.viewmodels.TimelineView` (built in :mod:`tui.views.timeline`); it computes nothing. Every
state has a glyph as well as a colour (the key-drivers checklist's: ● active, ○ clear, ? unknown), and the cursor
column is marked by ▼ above the rows and reverse video, so the strip reads with ``NO_COLOR=1``. A driver the
history cannot evaluate is drawn as its reason, never as a row of clear cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from widgets.format import clean
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import TimelineDetail, TimelineView

#: letter -> (glyph, style): the checklist's glyphs and colours (widgets/drivers_pane.py).
CELLS = {"a": ("●", "bold red"), "c": ("○", "green"), "u": ("?", "yellow")}
STATE_GLYPH = {"active": ("● ACTIVE", "bold red"), "clear": ("○ clear", "green"), "unknown": ("? unknown", "yellow")}
SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: tuple[float | None, ...]) -> str:
    """One block character per value between the series' min and max; a space where the value is unknown."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    lo, hi = min(known), max(known)
    scale = (len(SPARK) - 1) / (hi - lo) if hi > lo else 0.0
    return "".join(" " if v is None else SPARK[round((v - lo) * scale)] for v in values)


def _label(text: str, width: int) -> str:
    text = clean(text, 80)
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


def _cursor_line(view: TimelineView) -> str:
    """``▼`` over the cursor's column with its period beside it (left of it when the cursor is on the right)."""
    column = view.label_width + 1 + view.cursor
    label = clean(view.cursor_label, 60)
    if column + 2 + len(label) <= view.label_width + 1 + view.cells or column < len(label) + 1:
        return " " * column + "▼ " + label
    return (label + " ").rjust(column) + "▼"


def timeline_text(view: TimelineView, width: int = 0) -> Text:
    """The whole strip, every line cropped to ``width`` cells (0: no limit)."""
    lines: list[Text] = []
    if view.message:
        lines.append(Text(clean(view.message, 200), style="italic"))
    else:
        w, cells, cursor = view.label_width, view.cells, view.cursor
        lines.append(Text(clean(view.title, 200), style="bold"))
        lines.append(Text(_cursor_line(view)))
        for row in view.rows:
            line = Text(_label(row.name, w) + " ")
            if row.note:
                line.append(clean(row.note, 200)[:cells].ljust(cells), style="yellow")
            else:
                for i, letter in enumerate(row.cells):
                    glyph, style = CELLS.get(letter, ("?", "yellow"))
                    line.append(glyph, style=f"{style} reverse" if i == cursor else style)
            lines.append(line)
        axis = [" "] * cells
        for cell, label in view.axis:
            axis[cell : cell + len(label)] = list(label)
        lines.append(Text(_label("UTC", w) + " " + "".join(axis)[:cells], style="dim"))
        for name, values in (("BTC", view.btc), ("basket CVD", view.cvd)):
            spark = sparkline(values)
            line = Text(_label(name, w) + " ")
            line.append(spark[:cursor])
            line.append(spark[cursor : cursor + 1] or " ", style="reverse")
            line.append(spark[cursor + 1 :])
            lines.append(line)
        lines.append(Text(clean(view.btc_label, 60) + " · " + clean(view.cvd_label, 60), style="dim"))
        lines.append(Text(clean(view.legend, 300), style="dim"))
        lines.append(Text(clean(view.rule, 300), style="dim"))
    if width > 0:
        for line in lines:
            line.truncate(width, overflow="ellipsis")
    return Text("\n").join(lines)


def detail_text(detail: TimelineDetail) -> Text:
    """Every driver in the cursor's period: state over it, share active, and at its end value vs threshold."""
    out = Text(no_wrap=False, overflow="fold")
    out.append(clean(detail.title, 200) + "\n", style="bold")
    for row in detail.rows:
        glyph, style = STATE_GLYPH.get(row.state, ("? unknown", "yellow"))
        out.append(f"{glyph:<9} ", style=style)
        out.append(clean(row.name, 40) + " ", style="bold")
        out.append(f"· {row.active_share:.0%} of the period active · at its end {clean(row.state_at_end, 10)}: "
                   f"{clean(row.value, 30)} {clean(row.threshold, 30)}")  # fmt: skip
        text = clean(row.detail, 300)
        if text:
            out.append(f" · {text}", style="dim")
        if row.note:
            out.append(f" · {clean(row.note, 200)}", style="yellow")
        out.append("\n")
    out.append("Enter/Esc close · ←/→ move the period", style="dim")
    return out


class TimelineStrip(TextBox):
    """The driver x time strip; focusable so the screen's keys reach it."""

    can_focus = True

    _view: TimelineView | None = None

    def update_view(self, view: TimelineView) -> None:
        self._view = view
        self.update(timeline_text(view, self.content_size.width))

    def on_resize(self) -> None:
        if self._view is not None:
            self.update(timeline_text(self._view, self.content_size.width))


class TimelineDetailPanel(TextBox):
    """The panel Enter opens under the strip: every driver's state, value and threshold in one period."""

    def update_detail(self, detail: TimelineDetail) -> None:
        self.update(detail_text(detail))
