"""Fewer bytes to the terminal for the same screen: a strip renderer that sends a style only when it changes.

Textual renders each segment of a line as ``ESC[<style>m text ESC[0m``: a full style and a reset around every run
of text, even when the next run has the same style or differs only in its foreground colour. On the dashboard a
price line is ``BTC `` + ``$98,748`` + ``  24h `` + ``-9.90%``, each with the pane's background repeated; measured on
the demo at 160x45, seven bytes in eight written per second were escape codes, not text. Over a slow SSH link
those bytes are the latency a trader feels.

:func:`render_strip` gives the same cells in the same colours and attributes with less: runs of one style are
joined, a change of foreground colour alone sends only that colour, any other change resets and sets the new
style in one sequence (``ESC[0;<style>m``), and the line ends reset, as before (Textual joins rendered strips,
so each must start and end in the default state). Hyperlinked runs keep Textual's own rendering.
:func:`install` puts it in place of :meth:`textual.strip.Strip.render` (the one method every screen update goes
through) once, at start; tests check it against the stock renderer, cell for cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import ColorSystem
from textual.strip import Strip

if TYPE_CHECKING:
    from rich.console import Console
    from rich.style import Style

_stock_render = Strip.render


def _attributes(style: Style) -> int:
    return style._attributes & style._set_attributes


def render_strip(strip: Strip, console: Console) -> str:
    """The strip as terminal sequences: same screen as Textual's own ``Strip.render``, fewer bytes."""
    cached = strip._render_cache
    if cached is not None:
        return cached
    color_system = console._color_system or ColorSystem.TRUECOLOR
    render_ansi = Strip.render_ansi
    out: list[str] = []
    append = out.append
    current = ""  # the SGR in force ("" : the terminal's default state)
    previous: Style | None = None
    for text, style, _control in strip._segments:
        if not text:
            continue
        if style is None or style._link:
            if current:
                append("\x1b[0m")
                current, previous = "", None
            append(text if style is None else Strip.render_style(style, text, color_system))
            continue
        ansi = style._ansi
        if ansi is None:
            ansi = render_ansi(style, color_system)
        if ansi == current:
            append(text)
            continue
        if not ansi:
            append("\x1b[0m")
        elif (
            current
            and previous is not None
            and style._color is not None
            and style._bgcolor == previous._bgcolor
            and _attributes(style) == _attributes(previous)
        ):
            # Only the foreground changed: send that colour alone.
            append(f"\x1b[{';'.join(style._color.downgrade(color_system).get_ansi_codes())}m")
        elif current:
            append(f"\x1b[0;{ansi}m")
        else:
            append(f"\x1b[{ansi}m")
        current, previous = ansi, style
        append(text)
    if current:
        append("\x1b[0m")
    rendered = strip._render_cache = "".join(out)
    return rendered


def install() -> None:
    """Render every strip with :func:`render_strip` (idempotent)."""
    Strip.render = render_strip  # type: ignore[method-assign,assignment]


def uninstall() -> None:
    """Back to Textual's own renderer (tests)."""
    Strip.render = _stock_render  # type: ignore[method-assign]
