"""Hand freed memory back to the operating system, so the console's resident size is what it holds, not its past.

The console's working set is its imports (~100 MB: pandas, numpy, Textual) and its market state (~15-25 MB live);
what glibc's allocator keeps on top is memory the console freed but the allocator did not return: the boot parses
hundreds of JSON pages into frames and drops them, the 1 Hz tick builds and drops view-models. Two causes, two calls:

* glibc serves allocations of at least ``M_MMAP_THRESHOLD`` with their own mappings, returned on free, but raises
  that threshold to the size of every such block freed (up to 32 MB). After the boot's first large temporaries the
  numpy arrays of a kline page come from the heap instead, and the heap stays as large as its busiest moment.
  :func:`tune_allocator` fixes the threshold at 128 KiB (its default starting value), which turns the raising off.
* Free pages inside the heap are returned only from its top. :func:`release_free_memory` (``malloc_trim(0)``)
  returns every free page: measured against the loopback emulator, ~10 MB after the boot.

Both are glibc calls reached through :mod:`ctypes`; on another C library (macOS, musl) they are absent and these
functions do nothing. They never raise.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

#: ``mallopt`` parameter number of the mmap threshold (glibc ``malloc.h``: ``#define M_MMAP_THRESHOLD -3``).
M_MMAP_THRESHOLD = -3
#: Blocks this large or larger get their own mapping (glibc's default initial threshold, kept fixed).
MMAP_THRESHOLD_BYTES = 128 * 1024


@cache
def _libc() -> Any:
    """The process's C library when it is glibc (has ``mallopt`` and ``malloc_trim``), else None. Looked up in
    the symbols the process already has (``dlopen(NULL)``): no ``find_library``, which runs a subprocess.
    ctypes is imported here, on first use, to keep it out of the console's start-up."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def _call(name: str, *args: int) -> bool:
    """``libc.name(*args)`` is nonzero; False without glibc or when the call fails (never raises)."""
    libc = _libc()
    if libc is None:
        return False
    try:
        return bool(getattr(libc, name)(*args))
    except Exception:  # pragma: no cover - a C library whose call misbehaves: leave things as they are
        log.debug("%s failed", name, exc_info=True)
        return False


def tune_allocator() -> bool:
    """Fix glibc's mmap threshold (module docstring); True when set. Call once, early."""
    return _call("mallopt", M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def release_free_memory() -> bool:
    """Return every free page of the heap to the OS (``malloc_trim(0)``); True when something was returned."""
    return _call("malloc_trim", 0)
