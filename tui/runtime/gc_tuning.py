"""Keep the garbage collector's full passes off the long-lived heap the console builds at start.

By the time the boot is done the process holds a few hundred thousand objects that live as long as it does: the
modules, classes and functions of Textual, pandas and numpy, the demo's simulated market, the restored tape. CPython's
full (generation 2) collection walks every one of them each time; measured at 200 coins that is ~77 ms a pass, and
allocation-heavy work such as rebuilding the funding table's cells sets one off every few ticks: a visible stall
and most of the 1 Hz tick's cost. :func:`freeze_long_lived` moves what exists after the boot into the permanent
generation (:func:`gc.freeze`, meant for exactly this), so later passes only walk objects made since.

Objects frozen this way are still freed by reference counting when dropped; only reference cycles among them are
never collected. Called once, after the boot, that is a bounded one-off (nothing built later is frozen).
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> int:
    """Collect once, then freeze every object tracked so far; returns how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
