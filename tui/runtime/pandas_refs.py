"""Drop the dead weak references pandas keeps on the frames the console holds for hours.

Under Copy-on-Write (always on in pandas 3) every view of a frame, a column, a slice, a filtered copy that shares
the columns, adds a weak reference to the viewed block's (and index's) reference list. pandas prunes the dead ones
only when a list passes a threshold (500, then doubling), so each long-lived block carries up to a few hundred dead
references. The console keeps a few thousand blocks alive (every coin's klines, the emulator's market) and views
them on every tick: measured in the day-long soak (benchmarks/soak.py), ~14 MB of dead references that grew for the
whole day. :func:`sweep_dead_references` walks what the console holds once a minute and prunes those lists.

pandas has no public call for this: the sweep reads ``_mgr.blocks``, ``Block.refs`` and ``Index._references`` and
uses ``BlockValuesRefs.has_reference()``, which prunes before it answers. Should those internals change, the
sweep finds nothing to prune and is a no-op; it never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

#: How often the console sweeps (seconds): at one view per tick a hot block gathers ~60 dead references meanwhile.
PRUNE_REFS_EVERY_S = 60.0
#: Our own packages: objects from these are walked into (their attributes); foreign objects (httpx clients, Textual
#: widgets) are not, so the walk stays on what the console holds and never wanders through a library's internals.
OWN_PACKAGES = ("analytics", "emulator", "records", "sources", "tui")
#: Nesting depth of the walk: state -> dict of coins -> frame is 3; the emulator's cache keys and memo entries 4-5.
MAX_DEPTH = 6


def sweep_dead_references(*roots: Any) -> int:
    """Prune dead weak references on every pandas object reachable from ``roots``; returns how many refs lists
    were swept (0 when the pandas internals it relies on are absent)."""
    import pandas as pd

    swept = 0
    for obj in _reachable(roots, pd):
        for refs in _refs_of(obj, pd):
            try:
                refs.has_reference()  # prunes dead weak references, then answers
            except Exception:  # pragma: no cover - a pandas without this internal: nothing to prune
                log.debug("pandas refs sweep: has_reference() failed on %r", type(refs), exc_info=True)
                return swept
            swept += 1
    return swept


def _reachable(roots: Iterable[Any], pd: Any) -> Iterable[Any]:
    """Pandas objects reachable from ``roots`` through containers and our own objects' attributes."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(root, 0) for root in roots]
    while stack:
        obj, depth = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        if isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
            yield obj
            continue
        if depth >= MAX_DEPTH:
            continue
        children: Iterable[Any]
        if isinstance(obj, dict):
            children = list(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            children = list(obj)
        elif type(obj).__module__.split(".", 1)[0] in OWN_PACKAGES:
            children = _attributes(obj)
        else:
            continue
        stack.extend((child, depth + 1) for child in children)


def _attributes(obj: Any) -> list[Any]:
    values = list(getattr(obj, "__dict__", {}).values())
    for klass in type(obj).__mro__:
        for name in getattr(klass, "__slots__", ()):
            if hasattr(obj, name):
                values.append(getattr(obj, name))
    return values


def _refs_of(obj: Any, pd: Any) -> Iterable[Any]:
    """The reference lists pandas keeps for one frame, series or index."""
    indexes: list[Any] = []
    if isinstance(obj, pd.Index):
        indexes.append(obj)
    else:
        indexes.append(obj.index)
        if isinstance(obj, pd.DataFrame):
            indexes.append(obj.columns)
        for block in getattr(getattr(obj, "_mgr", None), "blocks", ()):
            refs = getattr(block, "refs", None)
            if refs is not None:
                yield refs
    for index in indexes:
        refs = getattr(index, "_references", None)
        if refs is not None:
            yield refs
