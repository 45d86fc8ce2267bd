"""A diverging colour scale for funding rates, centred on the "normal" funding baseline (0.01 %/8h).

Perpetual funding near the exchanges' default of 0.01 %/8h is neutral: nobody is paying much to hold the trade.
Funding well above it means longs pay heavily to stay long (leverage is crowded long: squeeze fuel, fragile);
funding below it, and especially negative, means shorts pay (crowded short / bearish positioning).

The scale is a pure function of (rate, baseline): :func:`heat_level` gives a signed intensity step, :func:`heat_style`
a Rich style (red shades below the baseline, neutral near it, yellow -> orange -> bright for crowded longs) and
:func:`heat_glyph` a monochrome marker ("▲▲", "▼") so the scale stays readable without colour (``NO_COLOR``).
:func:`heat_cell` puts these together into one table cell. Nothing here computes market figures.
"""

from __future__ import annotations

import math
import os

from rich.style import Style
from rich.text import Text

#: Steps of distance from the baseline, in units of the baseline (0.5 = half a baseline away), per level.
#: Below: level -1 from 0.5 below (at 0 %/8h funding is one baseline below), -2 from 1.5, -3 from 3.
#: Above: +1 from 0.5 above (0.015 %/8h), +2 from 1.5 (0.025 %), +3 from 4 (0.05 %), +4 from 9 (0.1 %/8h).
BELOW_STEPS: tuple[float, ...] = (0.5, 1.5, 3.0)
ABOVE_STEPS: tuple[float, ...] = (0.5, 1.5, 4.0, 9.0)
MIN_LEVEL = -len(BELOW_STEPS)
MAX_LEVEL = len(ABOVE_STEPS)
#: Unit used when the baseline is zero (or unusable): 0.01 %/8h as a fraction.
DEFAULT_UNIT = 0.0001

_STYLES: dict[int, str] = {
    -3: "bold bright_white on dark_red",
    -2: "bright_white on red3",
    -1: "red",
    0: "",
    1: "yellow",
    2: "black on dark_orange",
    3: "bold black on orange_red1",
    4: "bold bright_white on deep_pink2",
}
#: Without colour only weight and reversal are left: extremes are bold, the very top is reversed.
_MONO_STYLES: dict[int, str] = {-3: "bold", -2: "", -1: "", 0: "", 1: "", 2: "", 3: "bold", 4: "bold reverse"}
_GLYPHS: dict[int, str] = {-3: "▼▼▼", -2: "▼▼", -1: "▼", 0: "", 1: "▲", 2: "▲▲", 3: "▲▲▲", 4: "▲▲▲"}
GLYPH_WIDTH = 3
STALE_MARK = "*"
STALE_STYLE = "dim italic"


def no_color() -> bool:
    """True when the user asked for no colour (``NO_COLOR`` set and non-empty); read at call time."""
    return bool(os.environ.get("NO_COLOR"))


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def heat_level(value: float | None, baseline: float = DEFAULT_UNIT) -> int | None:
    """Signed intensity step of ``value`` against ``baseline``: 0 near it, -3..-1 below, +1..+4 above.

    None for a missing or non-finite value. Monotone non-decreasing in ``value``; ``heat_level(baseline)`` is 0.
    """
    if not _finite(value):
        return None
    assert value is not None
    base = baseline if _finite(baseline) else DEFAULT_UNIT
    unit = abs(base) or DEFAULT_UNIT
    distance = (value - base) / unit
    if distance >= 0:
        return sum(1 for step in ABOVE_STEPS if distance >= step)
    return -sum(1 for step in BELOW_STEPS if -distance >= step)


def heat_style(value: float | None, baseline: float = DEFAULT_UNIT, *, mono: bool = False) -> Style:
    """Rich style for ``value`` on the diverging scale (``mono``: the monochrome equivalent)."""
    level = heat_level(value, baseline)
    if level is None:
        return Style(dim=True)
    return _level_style(level, mono)


def heat_glyph(value: float | None, baseline: float = DEFAULT_UNIT) -> str:
    """Monochrome intensity marker: "▲".."▲▲▲" above the baseline, "▼".."▼▼▼" below, "" near it."""
    level = heat_level(value, baseline)
    return "" if level is None else _GLYPHS[level]


def rate_text(value: float | None) -> str:
    """A funding fraction per 8h as signed percent with 3 decimals: 0.00031 -> "+0.031"; missing -> "—"."""
    if not _finite(value):
        return "—"
    assert value is not None
    shown = f"{value * 100:+.3f}"
    return "+0.000" if shown == "-0.000" else shown


def heat_cell(
    value: float | None,
    baseline: float = DEFAULT_UNIT,
    *,
    glyphs: bool = True,
    mono: bool = False,
    stale: bool = False,
) -> Text:
    """One heatmap cell: the rate, its intensity glyph (fixed width so numbers line up) and the scale's style.

    A ``stale`` cell is dimmed and suffixed with :data:`STALE_MARK` and never coloured, so it cannot look live.
    """
    number = rate_text(value)
    if stale:
        suffix = STALE_MARK.ljust(GLYPH_WIDTH) if glyphs else STALE_MARK
        return Text(number + suffix, style=STALE_STYLE, justify="right")
    # The level once per cell (heat_style and heat_glyph would each compute it): a 200-coin heatmap is ~1,000 cells.
    level = heat_level(value, baseline)
    if level is None:
        return Text(number + (" " * GLYPH_WIDTH if glyphs else ""), style="dim", justify="right")
    glyph = _GLYPHS[level].ljust(GLYPH_WIDTH) if glyphs else ""
    return Text(number + glyph, style=_level_style(level, mono), justify="right")


def _level_style(level: int, mono: bool) -> Style:
    """The parsed style of a level (parsed once per level, not once per cell)."""
    key = (level, mono)
    style = _PARSED.get(key)
    if style is None:
        style = _PARSED[key] = Style.parse((_MONO_STYLES if mono else _STYLES)[level] or "none")
    return style


_PARSED: dict[tuple[int, bool], Style] = {}
