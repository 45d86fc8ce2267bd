"""The store interface the console records through and reads back from, and what it answers with.

Kept small on purpose: writing is :meth:`Store.write` (rows per table, one transaction), reading is a handful of
queries that return plain frames and records. The SQLite backend (:mod:`store.sqlite`) is the only one today; a
desk that puts one store on a server database implements this protocol over it (README, "Recording").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

#: table -> rows, each row a tuple in the table's column order (:data:`store.schema.TABLES`).
#: Rows per table; an iterable is consumed once, in the write's transaction (a large delivery need not exist as
#: one list of tuples: 198 pairs x 700 bars would be ~80 MB of Python objects at once).
Rows = Mapping[str, Iterable[tuple[Any, ...]]]


class StoreError(Exception):
    """The store cannot be used as asked; the text names the file and the reason."""


class StoreLocked(StoreError):
    """Another process is the store's writer (a collector or a recording console)."""


class StoreUnavailable(StoreError):
    """The store cannot be written (read-only directory, full disk): recording is off, the console runs on."""


@dataclass(frozen=True)
class Session:
    """One run that recorded: it covers ``[started_ms, heartbeat_ms]`` on the market clock."""

    id: int
    role: str
    mode: str
    pid: int | None
    started_ms: int
    heartbeat_ms: int
    ended_ms: int | None


@dataclass(frozen=True)
class FeedRecord:
    """A feed's latest delivery as its writer recorded it (what a follower shows)."""

    feed: str
    seq: int
    wall_ms: int
    market_ms: int
    data_ms: int | None
    health: dict[str, Any]
    payload: str | None


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    first_ms: int | None
    last_ms: int | None


@dataclass(frozen=True)
class StoreInfo:
    path: str
    schema_version: int
    mode: str
    size_bytes: int
    tables: list[TableInfo]
    sessions: list[Session]
    gaps: list[tuple[int, int]]
    writer_pid: int | None  # the live writer's pid, None when nobody writes
    notes: list[str] = field(default_factory=list)


class Store(Protocol):
    """What the console needs of a store."""

    path: str
    mode: str  # what the store holds: "live" or "demo" (simulated)

    def write(self, rows: Rows, heartbeat: tuple[int, int] | None = None) -> None:
        """Insert ``rows`` (keyed tables replace rows of the same key) and move session ``heartbeat[0]``'s
        heartbeat to ``heartbeat[1]``, all in one transaction."""

    def begin_session(self, role: str, started_ms: int, pid: int | None) -> int: ...

    def end_session(self, session: int, ended_ms: int) -> None: ...

    def sessions(self) -> list[Session]: ...

    def liquidations(self, since_ms: int, until_ms: int | None = None) -> pd.DataFrame:
        """Tape frame (``time`` ms, exchange, coin, side, qty, price, notional_usd) in time order."""

    def has_liquidations(self, since_ms: int, until_ms: int) -> bool: ...

    def liquidations_as_of(self, since_ms: int, until_ms: int) -> tuple[pd.DataFrame, int]:
        """The tape frame and the last row id it includes, from one consistent read."""

    def last_liquidation_rowid(self) -> int: ...

    def writer_pid(self) -> int | None:
        """The pid of the process recording into the store now (None: nobody)."""

    def liquidations_after(self, rowid: int, until_ms: int | None = None) -> tuple[pd.DataFrame, int]:
        """Rows written after row ``rowid`` and the last row id read (a follower's tail)."""

    def read(self, table: str, since_ms: int | str | None = None, until_ms: int | str | None = None,
             where: Mapping[str, Any] | None = None) -> pd.DataFrame:  # fmt: skip
        """Every row of ``table`` whose time lies in ``[since_ms, until_ms]`` (either end open when None; ISO dates
        for a table keyed by date, ``etf_flows``)."""

    def feed_records(self, after_seq: int = 0) -> list[FeedRecord]: ...

    def info(self) -> StoreInfo: ...

    def prune(self, now_ms: int, retention_days: Mapping[str, float], max_bytes: int) -> dict[str, int]:
        """Drop rows past their kind's retention (0 days: keep forever), then the oldest intraday and
        liquidation rows while the file is over ``max_bytes``; returns rows dropped per table."""

    def close(self) -> None: ...


#: Holes between sessions shorter than this are a restart, not a gap (a restart takes a few seconds).
MIN_GAP_MS = 60_000


def coverage_gaps(sessions: Sequence[Session], since_ms: int, until_ms: int, min_gap_ms: int) -> list[tuple[int, int]]:
    """The spans of ``[since_ms, until_ms]`` no session covered, at least ``min_gap_ms`` long, oldest first.

    A session covers ``[started, heartbeat]`` (its last committed batch): the time after a crash until the next
    start is a gap, as is any time before ``until`` after the newest heartbeat. Never interpolated: a gap is shown
    as missing, never filled with zeros or straight lines.
    """
    spans = sorted((s.started_ms, s.heartbeat_ms) for s in sessions if s.heartbeat_ms >= since_ms)
    gaps: list[tuple[int, int]] = []
    cursor: int | None = None
    for start, end in spans:
        if cursor is None:
            cursor = max(end, since_ms)
            continue
        if start - cursor >= min_gap_ms:
            gaps.append((cursor, min(start, until_ms)))
        cursor = max(cursor, end)
    if cursor is not None and until_ms - cursor >= min_gap_ms:
        gaps.append((cursor, until_ms))
    return [(a, b) for a, b in gaps if b > a]
