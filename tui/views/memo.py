"""The view layer's one memo: a figure is rebuilt only when the data it rests on changed.

Keys are data versions (``MarketState.version[feed]``, bumped by the scheduler after each delivery; the tape's
revision), plus the parameters of the figure. Each name holds one entry, so the memo stays as small as the set of
figures the panes show: the pane, the driver and the snapshot asking for the same figure in one tick share it,
and a new delivery replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    """``get(name, key, build)``: ``build()`` once per ``key`` under ``name``; a new key replaces the old entry."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[Hashable, Any]] = {}
        self.builds = 0  # how many entries were (re)built: what the benchmarks and tests count

    def get(self, name: Hashable, key: Hashable, build: Callable[[], T]) -> T:
        hit = self._entries.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = build()
        self._entries[name] = (key, value)
        self.builds += 1
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
