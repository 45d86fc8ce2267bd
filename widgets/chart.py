"""A line chart (plotext via textual-plotext) that redraws only when its data or its size changes."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence

from textual_plotext import PlotextPlot


def _tick_label(epoch_s: float, span_s: float) -> str:
    stamp = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    if span_s <= 2 * 86_400:
        return stamp.strftime("%H:%M")
    if span_s <= 400 * 86_400:
        return stamp.strftime("%d %b")
    return stamp.strftime("%b %y")


class LineChart(PlotextPlot):
    """One series over time. ``set_series`` is a no-op when ``key`` is unchanged (no busy redraws)."""

    DEFAULT_CSS = """
    LineChart { height: 1fr; min-height: 5; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None, y_label: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self._key: object = None
        self._y_label = y_label
        self._has_data = False
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
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if os.environ.get("NO_COLOR"):
            plt.theme("clear")
        if not x:
            self._has_data = False
            self.refresh()
            return
        self._has_data = True
        xs = list(x)
        plt.plot(xs, list(y), marker="braille", color=None if os.environ.get("NO_COLOR") else color)
        if zero_line and min(y) < 0 < max(y):
            plt.horizontal_line(0, color=None if os.environ.get("NO_COLOR") else "gray")
        span = xs[-1] - xs[0] if len(xs) > 1 else 0
        ticks = [xs[0], xs[len(xs) // 2], xs[-1]] if len(xs) > 2 else xs
        plt.xticks(ticks, [_tick_label(t, span) for t in ticks])
        if y_format is not None:
            low, high = min(y), max(y)
            steps = 4
            yticks = [low + (high - low) * i / steps for i in range(steps + 1)] if high > low else [low]
            plt.yticks(yticks, [y_format(v) for v in yticks])
        plt.ylabel(self._y_label)
        self.refresh()
