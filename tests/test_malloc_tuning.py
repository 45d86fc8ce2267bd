"""The allocator housekeeping (tui.runtime.malloc_tuning): free heap pages go back to the OS, and on a C library
without the glibc calls both functions are harmless no-ops."""

from __future__ import annotations

import gc

import pytest

from benchmarks.soak import rss_mb
from tui.runtime import malloc_tuning
from tui.runtime.health import FeedHealth

glibc = pytest.mark.skipif(malloc_tuning._libc() is None, reason="not glibc: mallopt/malloc_trim absent")


@glibc
def test_tune_allocator_sets_the_threshold() -> None:
    assert malloc_tuning.tune_allocator() is True


@glibc
def test_release_returns_freed_heap_pages() -> None:
    """~60 MB of 1 KB blocks (heap, below the mmap threshold), a few kept so the heap cannot simply shrink from its
    top: freeing the rest leaves the pages resident until the release hands them back."""
    malloc_tuning.tune_allocator()
    blocks = [bytearray(1000) for _ in range(60_000)]
    for block in blocks:
        block[::512] = b"x" * len(block[::512])  # touch every page
    kept = [*blocks[::200], bytearray(1000)]
    del blocks
    gc.collect()
    before = rss_mb()
    assert malloc_tuning.release_free_memory() is True
    after = rss_mb()
    assert before - after > 20, (before, after)
    assert len(kept) == 301


def test_without_glibc_both_are_no_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(malloc_tuning, "_libc", lambda: None)
    assert malloc_tuning.tune_allocator() is False
    assert malloc_tuning.release_free_memory() is False


def test_first_round_done_waits_for_every_feed() -> None:
    from tui.runtime.scheduler import Scheduler

    class Feed:
        def __init__(self, name: str) -> None:
            self.name = name
            self.health = FeedHealth(name, "test", 60.0)

    feeds = [Feed("a"), Feed("b"), Feed("c")]
    scheduler = Scheduler(feeds)  # type: ignore[arg-type]
    assert not scheduler.first_round_done()
    feeds[0].health.as_of = 1.0  # delivered
    feeds[1].health.error = "HTTP 503"  # answered with an error
    assert not scheduler.first_round_done()
    feeds[2].health.unavailable = True  # not offered by this source
    assert scheduler.first_round_done()
