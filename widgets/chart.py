"""A line chart (plotext via textual-plotext) that redraws only when its data or its size changes.

Two ways to feed it: ``set_series`` (one series, the panes' price and CVD charts) and ``set_lines`` (several
labelled :class:`records.viewmodels.ChartLine` series with a legend: the coin detail's per-venue OI and funding, spot
vs perp CVD). Without colour (``NO_COLOR``) each line of ``set_lines`` gets its own marker, so the legend still tells
them apart.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import plotext._utility as _plotext_utility
from textual.app import RenderResult
from textual_plotext import PlotextPlot

if TYPE_CHECKING:
    from records.viewmodels import ChartLine

#: Line colours of ``set_lines``, in the order of the lines (the first line is drawn in the single series' cyan).
LINE_COLORS: tuple[str, ...] = ("cyan", "magenta", "yellow", "green", "red", "blue")
#: Markers of ``set_lines`` without colour: one per line, so a monochrome legend still tells them apart.
MONO_MARKERS: tuple[str, ...] = ("braille", "•", "+", "x", "o", "*")


def _ordered_unique(data: object) -> list[object]:
    return list(dict.fromkeys(data))  # type: ignore[call-overload]


# plotext de-duplicates a series' points with ``list(set(...))`` before drawing them, so where two series meet
# (the zero line under the CVD curve) which one is drawn last depends on Python's per-process hash seed: the same
# data drew differently from one run to the next. An order-keeping de-duplication makes every frame reproducible.
_plotext_utility.no_duplicates = _ordered_unique


def _tick_label(epoch_s: float, span_s: float) -> str:
    stamp = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    if span_s <= 2 * 86_400:
        return stamp.strftime("%H:%M")
    if span_s <= 400 * 86_400:
        return stamp.strftime("%d %b")
    return stamp.strftime("%b %y")


@dataclass(frozen=True)
class _Series:
    x: tuple[float, ...]
    y: tuple[float, ...]
    color: str
    zero_line: bool
    y_format: Callable[[float], str] | None


@dataclass(frozen=True)
class _Lines:
    lines: tuple[ChartLine, ...]
    zero_line: bool
    y_format: Callable[[float], str] | None


class LineChart(PlotextPlot):
    """One series (``set_series``) or several labelled ones (``set_lines``) over time. Both are no-ops when ``key``
    is unchanged (no busy redraws); the last call decides what is drawn.

    The figure is rebuilt from the stored series on every render (a data change or a resize): plotext keeps
    state between builds, and a figure built once at an intermediate size during layout would otherwise carry
    it into later frames, so the same data could draw differently.
    """

    DEFAULT_CSS = """
    LineChart { height: 1fr; min-height: 5; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None, y_label: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self._key: object = None
        self._y_label = y_label
        self._series: _Series | None = None
        self._lines: _Lines | None = None
        if os.environ.get("NO_COLOR"):
            self.theme = "clear"

    def set_series(
        self,
        x: Sequence[float],
        y: Sequence[float],
        key: object,
        *,
        color: str = "cyan",
        zero_line: bool = False,
        y_format: Callable[[float], str] | None = None,
    ) -> None:
        if key == self._key:
            return
        self._key = key
        self._series = _Series(tuple(x), tuple(y), color, zero_line, y_format) if len(x) else None
        self._lines = None
        self.refresh()

    def set_lines(
        self,
        lines: Sequence[ChartLine],
        key: object,
        *,
        zero_line: bool = False,
        y_format: Callable[[float], str] | None = None,
    ) -> None:
        """Draw every line of ``lines`` (each with its label in the legend) on one time axis; lines without points
        are skipped, no line at all leaves the chart empty."""
        if key == self._key:
            return
        self._key = key
        drawn = tuple(line for line in lines if len(line.x))
        self._lines = _Lines(drawn, zero_line, y_format) if drawn else None
        self._series = None
        self.refresh()

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels of the lines drawn now (the legend), empty for a single series."""
        return () if self._lines is None else tuple(line.label for line in self._lines.lines)

    def render(self) -> RenderResult:
        self._draw()
        return super().render()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        mono = bool(os.environ.get("NO_COLOR"))
        if mono:
            plt.theme("clear")
        if self._lines is not None:
            self._draw_lines(self._lines, mono)
            return
        series = self._series
        if series is None:
            return
        xs, ys = list(series.x), list(series.y)
        plt.plot(xs, ys, marker="braille", color=None if mono else series.color)
        span = xs[-1] - xs[0] if len(xs) > 1 else 0
        ticks = [xs[0], xs[len(xs) // 2], xs[-1]] if len(xs) > 2 else xs
        plt.xticks(ticks, [_tick_label(t, span) for t in ticks])
        self._y_axis(min(ys), max(ys), series.zero_line, series.y_format, mono)

    def _draw_lines(self, spec: _Lines, mono: bool) -> None:
        plt = self.plt
        xs = [x for line in spec.lines for x in line.x]
        ys = [y for line in spec.lines for y in line.y]
        for i, line in enumerate(spec.lines):
            marker = MONO_MARKERS[i % len(MONO_MARKERS)] if mono else "braille"
            color = None if mono else LINE_COLORS[i % len(LINE_COLORS)]
            plt.plot(list(line.x), list(line.y), marker=marker, color=color, label=line.label)
        first, last = min(xs), max(xs)
        ticks = [first, (first + last) / 2, last] if last > first else [first]
        plt.xticks(ticks, [_tick_label(t, last - first) for t in ticks])
        self._y_axis(min(ys), max(ys), spec.zero_line, spec.y_format, mono)

    def _y_axis(self, low: float, high: float, zero_line: bool, y_format: Callable[[float], str] | None,
                mono: bool) -> None:  # fmt: skip
        """The zero line (when the values cross it), the formatted y ticks and the label: both kinds of chart."""
        plt = self.plt
        if zero_line and low < 0 < high:
            plt.horizontal_line(0, color=None if mono else "gray")
        if y_format is not None:
            steps = 4
            yticks = [low + (high - low) * i / steps for i in range(steps + 1)] if high > low else [low]
            plt.yticks(yticks, [y_format(v) for v in yticks])
        plt.ylabel(self._y_label)
