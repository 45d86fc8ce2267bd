"""The recorder's writer thread: the event loop hands over work, a thread turns it into rows and commits them.

A tick never waits on disk: :meth:`BatchWriter.submit` appends a callable to a list (a lock held for an append)
and returns. Every ``flush_every`` seconds the thread runs what was submitted, each callable returning the rows
it makes (``{table: [row, ...]}``: converting frames to rows happens here, not on the loop), and commits them with
the session's heartbeat in one transaction. So ``kill -9`` loses at most what was submitted since the last commit:
``flush_every`` seconds of data (1 s by default); a committed batch survives (WAL).

A store that refuses writes (read-only, full disk: :class:`store.StoreUnavailable`) turns recording off: the
writer keeps running, drops what it is given and says why in :attr:`BatchWriter.failed` (the status bar shows
it). Retention is applied once an hour from the same thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from store.base import Store, StoreError, StoreUnavailable

log = logging.getLogger(__name__)

Job = Callable[[], Mapping[str, Iterable[tuple[Any, ...]]]]


@dataclass
class WriterStats:
    """What the writer did: batches committed, rows written, and how long the slowest commit took."""

    batches: int = 0
    rows: int = 0
    last_ms: float = 0.0
    max_ms: float = 0.0
    pruned: int = 0


class BatchWriter:
    """Runs submitted jobs and commits their rows from one thread (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        session: int,
        clock_ms: Callable[[], int],
        *,
        flush_every: float = 1.0,
        prune: Callable[[Store, int], int] | None = None,
        prune_every: float = 3600.0,
    ) -> None:
        self.store = store
        self.session = session
        self.clock_ms = clock_ms
        self.flush_every = flush_every
        self.failed: str | None = None
        self.stats = WriterStats()
        self._prune = prune
        self._prune_every = prune_every
        self._pending: list[Job] = []
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="altpulse-recorder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue ``job`` (run in the writer thread at the next flush); dropped once recording has failed."""
        if self.failed is not None:
            return
        with self._guard:
            self._pending.append(job)

    def flush(self) -> None:
        """Ask for a commit now (tests, shutdown)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is pending, mark the session ended, stop the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self.failed is None:
            try:
                self.store.end_session(self.session, self.clock_ms())
            except StoreError as exc:
                log.warning("recorder: %s", exc)

    def _run(self) -> None:
        next_prune = time.monotonic() + min(60.0, self._prune_every)  # first pass soon after start
        while True:
            self._wake.wait(self.flush_every)
            self._wake.clear()
            self.commit()
            if self._prune is not None and self.failed is None and time.monotonic() >= next_prune:
                next_prune = time.monotonic() + self._prune_every
                try:
                    self.stats.pruned += self._prune(self.store, self.clock_ms())
                except StoreError as exc:
                    self._fail(exc)
            if self._stopping:
                return

    def commit(self) -> None:
        """Run the pending jobs and commit their rows with the heartbeat (the thread's step; tests call it)."""
        with self._guard:
            jobs, self._pending = self._pending, []
        if self.failed is not None:
            return
        # Each job's rows stay as it produced them (lists or generators) and are chained per table: a generator is
        # turned into rows only as SQLite takes them, so a large first delivery never exists as one list.
        parts: dict[str, list[Iterable[tuple[Any, ...]]]] = {}
        for job in jobs:
            try:
                produced = job()
            except Exception:  # one bad conversion must not lose the batch or kill the recorder
                log.exception("recorder: a job failed")
                continue
            for table, rows in produced.items():
                parts.setdefault(table, []).append(rows)
        counter = [0]
        merged = {table: _counted(itertools.chain.from_iterable(p), counter) for table, p in parts.items()}
        started = time.perf_counter()
        try:
            self.store.write(merged, heartbeat=(self.session, self.clock_ms()))
        except StoreError as exc:
            self._fail(exc)
            return
        elapsed = (time.perf_counter() - started) * 1000
        stats = self.stats
        stats.batches += 1
        stats.rows += counter[0]
        stats.last_ms = elapsed
        stats.max_ms = max(stats.max_ms, elapsed)

    def _fail(self, exc: StoreError) -> None:
        reason = str(exc) if isinstance(exc, StoreUnavailable) else f"recording stopped: {exc}"
        self.failed = reason
        log.error("recorder: %s", reason)
        with self._guard:
            self._pending.clear()


def _counted(rows: Iterable[tuple[Any, ...]], counter: list[int]) -> Iterator[tuple[Any, ...]]:
    """``rows``, adding one to ``counter[0]`` per row as it is taken."""
    for row in rows:
        counter[0] += 1
        yield row
