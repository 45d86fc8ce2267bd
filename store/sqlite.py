"""The SQLite backend of the store: one file in WAL mode, one writer at a time, any number of readers.

Why SQLite: it ships with Python, a WAL file lets followers read while the writer commits, and a transaction that
was committed survives the writer being killed (``kill -9`` loses only what was not yet handed to SQLite, see
:mod:`store.writer`). The writer holds an exclusive ``flock`` on ``<store>.lock`` for its lifetime, so a second
writer is refused at once with the first one's pid, and a writer that died (even by ``kill -9``) leaves no stale
lock behind: the kernel drops the lock with the process.

Files are the user's only: the directory is created 0700, the store and its lock 0600 (SQLite gives its ``-wal``
and ``-shm`` files the store's own permissions). A file that is not an altpulse store (a foreign SQLite file, a
corrupt one, a newer schema) is never written into: a writer moves it aside and says where; a reader refuses.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from store.base import (
    MIN_GAP_MS,
    FeedRecord,
    Rows,
    Session,
    StoreError,
    StoreInfo,
    StoreLocked,
    StoreUnavailable,
    TableInfo,
    coverage_gaps,
)
from store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, TABLES

DAY_MS = 86_400_000
#: A feed's newest row replaces its last one, but a failed fetch (no payload) keeps the last delivery's values.
FEED_STATE_UPSERT = (
    " ON CONFLICT (feed) DO UPDATE SET seq = excluded.seq, wall_ms = excluded.wall_ms, market_ms = excluded.market_ms,"
    " data_ms = coalesce(excluded.data_ms, feed_state.data_ms), health = excluded.health,"
    " payload = coalesce(excluded.payload, feed_state.payload)"
)


def _unavailable(exc: sqlite3.Error) -> bool:
    """A write the disk or the directory refuses: recording stops, nothing else does."""
    text = str(exc).lower()
    return any(s in text for s in ("readonly", "read-only", "disk is full", "disk i/o", "unable to open"))


class SqliteStore:
    """A store file. ``writer=True`` takes the writer lock, creates or migrates the schema and may move a
    foreign or corrupt file aside (``moved_aside`` says where); readers only read."""

    def __init__(self, path: Path, mode: str = "live", *, writer: bool = False) -> None:
        self.path = str(path)
        self.file = Path(path)
        self.mode = mode
        self.writer = writer
        self.moved_aside: str | None = None
        self.notes: list[str] = []
        self._lock = threading.Lock()
        self._lock_fd: int | None = None
        self._seq = 0
        if writer:
            self._take_writer_lock()
        try:
            self.conn = self._connect()
        except BaseException:
            self._release_writer_lock()
            raise

    # -- opening ------------------------------------------------------------------------------------------------
    def _take_writer_lock(self) -> None:
        try:
            self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreUnavailable(f"{self.path}: cannot create the store here ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "another process"
            raise StoreLocked(
                f"{self.path} is already being recorded by {who} (an `altpulse collect` or a recording console); "
                f"use `altpulse --follow {self.path}` to read it, or --no-record"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def _release_writer_lock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = None

    def _connect(self) -> sqlite3.Connection:
        if not self.writer and not self.file.is_file():
            raise StoreError(f"{self.path}: no such store")
        if self.writer and not self.file.exists():
            try:
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError as exc:
                raise StoreUnavailable(f"{self.path}: cannot create the store ({exc.strerror or exc})") from None
        try:
            conn = self._open_checked()
        except _Foreign as exc:
            if not self.writer:
                raise StoreError(f"{self.path}: {exc}") from None
            self._move_aside(str(exc))
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            conn = self._open_checked()
        if self.writer:
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise (StoreUnavailable if _unavailable(exc) else StoreError)(f"{self.path}: {exc}") from None
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _Foreign(f"not a readable SQLite file ({exc})") from None
        if app_id != APPLICATION_ID and (tables or version):
            conn.close()
            raise _Foreign(f"a SQLite file of another program (application_id {app_id:#x})")
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{self.path}: schema version {version} is newer than this altpulse ({SCHEMA_VERSION});"
                             " upgrade altpulse to read it")  # fmt: skip
        conn.execute("PRAGMA busy_timeout = 5000")
        # 512 KiB of page cache (SQLite's default is 2 MiB a connection): the recorder appends and readers read a
        # span once, so a big cache only adds to the console's resident size.
        conn.execute("PRAGMA cache_size = -512")
        if self.writer:
            try:
                if not tables:
                    # Before the first table: lets pruning hand freed pages back to the file system.
                    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                self._migrate(conn, version)
            except sqlite3.DatabaseError as exc:
                conn.close()
                if _unavailable(exc):
                    raise StoreUnavailable(f"{self.path}: cannot write ({exc})") from None
                raise _Foreign(f"damaged ({exc})") from None
        try:
            stored_mode = dict(conn.execute("SELECT key, value FROM meta").fetchall()).get("mode")
            self._seq = conn.execute("SELECT coalesce(max(seq), 0) FROM feed_state").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _Foreign(f"damaged ({exc})") from None
        if stored_mode and stored_mode != self.mode and self.writer:
            conn.close()
            raise StoreError(f"{self.path} holds {stored_mode} data: a {self.mode} console does not record into "
                             f"it (use a store of its own with --store PATH)")  # fmt: skip
        if stored_mode:
            self.mode = stored_mode  # readers take what the store holds (a follower of a demo store is simulated)
        return conn

    def _migrate(self, conn: sqlite3.Connection, version: int) -> None:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(MIGRATIONS[target]):
                conn.execute(statement)
            if target == 1:
                conn.execute("INSERT INTO meta (key, value) VALUES ('mode', ?), ('created_ms', ?)",
                             (self.mode, str(int(time.time() * 1000))))  # fmt: skip
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")

    def _move_aside(self, why: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = f"{self.path}.unreadable-{stamp}"
        try:
            os.replace(self.path, target)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.replace(self.path + suffix, target + suffix)
        except OSError as exc:
            reason = exc.strerror or exc
            raise StoreUnavailable(f"{self.path}: {why}, and it cannot be moved aside ({reason})") from None
        self.moved_aside = target
        self.notes.append(f"{self.path} was {why}: moved aside to {target}; recording starts a new store")

    # -- writing ------------------------------------------------------------------------------------------------
    def write(self, rows: Rows, heartbeat: tuple[int, int] | None = None) -> None:
        with self._lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                for name, batch in rows.items():
                    if not batch:
                        continue
                    table = TABLES[name]
                    if name == "feed_state":
                        batch = [self._with_seq(row) for row in batch]
                    verb = "INSERT OR REPLACE" if table.key else "INSERT"
                    marks = ", ".join("?" * len(table.columns))
                    sql = f"{verb} INTO {name} ({', '.join(table.columns)}) VALUES ({marks})"
                    if name == "feed_state":  # a failed fetch updates the health and keeps the last payload
                        sql = sql.replace("INSERT OR REPLACE", "INSERT") + FEED_STATE_UPSERT
                    conn.executemany(sql, batch)
                if heartbeat is not None:
                    conn.execute("UPDATE sessions SET heartbeat_ms = max(heartbeat_ms, ?) WHERE id = ?",
                                 (heartbeat[1], heartbeat[0]))  # fmt: skip
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if _unavailable(exc):
                    raise StoreUnavailable(f"{self.path}: recording stopped: {exc}") from None
                raise StoreError(f"{self.path}: write failed: {exc}") from None

    def _with_seq(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        self._seq += 1
        return (row[0], self._seq, *row[2:])

    def begin_session(self, role: str, started_ms: int, pid: int | None) -> int:
        with self._lock:
            cur = self.conn.execute(
                "INSERT INTO sessions (role, mode, pid, started_ms, heartbeat_ms) VALUES (?, ?, ?, ?, ?)",
                (role, self.mode, pid, started_ms, started_ms),
            )
            return int(cur.lastrowid or 0)

    def end_session(self, session: int, ended_ms: int) -> None:
        with self._lock:
            self.conn.execute("UPDATE sessions SET ended_ms = ?, heartbeat_ms = max(heartbeat_ms, ?) WHERE id = ?",
                              (ended_ms, ended_ms, session))  # fmt: skip

    # -- reading ------------------------------------------------------------------------------------------------
    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: read failed: {exc}") from None

    def sessions(self) -> list[Session]:
        rows = self._query("SELECT id, role, mode, pid, started_ms, heartbeat_ms, ended_ms FROM sessions ORDER BY id")
        return [Session(*row) for row in rows]

    def liquidations(self, since_ms: int, until_ms: int | None = None) -> Any:
        where, params = _span("time", since_ms, until_ms)
        with self._lock:
            try:
                return _read_tape(self.conn, where, params)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: read failed: {exc}") from None

    def liquidations_after(self, rowid: int, until_ms: int | None = None) -> tuple[Any, int]:
        rows = self._query("SELECT rowid, time, exchange, coin, side, qty, price, notional_usd FROM liquidations "
                           "WHERE rowid > ? ORDER BY rowid", (rowid,))  # fmt: skip
        last = rows[-1][0] if rows else rowid
        kept = [r[1:] for r in rows if until_ms is None or r[1] <= until_ms]
        return _tape_frame(kept), last

    def liquidations_as_of(self, since_ms: int, until_ms: int) -> tuple[Any, int]:
        """The tape frame (names as categoricals) and the last row id, read in one transaction (one snapshot of the
        file): a follower tails from that id without losing or repeating a row."""
        with self._lock:
            try:
                self.conn.execute("BEGIN")
                last = self.conn.execute("SELECT coalesce(max(rowid), 0) FROM liquidations").fetchone()[0]
                frame = _read_tape(self.conn, "WHERE time >= ? AND time <= ? AND rowid <= ?",
                                   (since_ms, until_ms, last), compact=True)  # fmt: skip
                self.conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise StoreError(f"{self.path}: read failed: {exc}") from None
        return frame, int(last)

    def has_liquidations(self, since_ms: int, until_ms: int) -> bool:
        return bool(self._query("SELECT EXISTS (SELECT 1 FROM liquidations WHERE time >= ? AND time <= ?)",
                                (since_ms, until_ms))[0][0])  # fmt: skip

    def last_liquidation_rowid(self) -> int:
        return int(self._query("SELECT coalesce(max(rowid), 0) FROM liquidations")[0][0])

    def read(self, table: str, since_ms: int | str | None = None, until_ms: int | str | None = None,
             where: Mapping[str, Any] | None = None) -> Any:  # fmt: skip
        import pandas as pd

        spec = TABLES[table]
        clause, params = _span(spec.time, since_ms, until_ms, where)
        rows = self._query(f"SELECT {', '.join(spec.columns)} FROM {table} {clause} ORDER BY {spec.time}", params)
        return pd.DataFrame(rows, columns=list(spec.columns))

    def feed_records(self, after_seq: int = 0) -> list[FeedRecord]:
        rows = self._query("SELECT feed, seq, wall_ms, market_ms, data_ms, health, payload FROM feed_state "
                           "WHERE seq > ? ORDER BY seq", (after_seq,))  # fmt: skip
        out = []
        for feed, seq, wall, market, data, health, payload in rows:
            try:
                parsed = json.loads(health)
            except ValueError:
                parsed = {}
            out.append(FeedRecord(feed, seq, wall, market, data, parsed if isinstance(parsed, dict) else {}, payload))
        return out

    def writer_pid(self) -> int | None:
        """The pid of the process recording into this store now, or None."""
        try:
            fd = os.open(f"{self.path}.lock", os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return _read_pid(fd) or -1
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def size_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))

    def info(self) -> StoreInfo:
        tables = []
        for name, spec in TABLES.items():
            count, first, last = self._query(f"SELECT count(*), min({spec.time}), max({spec.time}) FROM {name}")[0]
            if spec.time == "date":  # ISO dates: report them as their UTC midnights
                first, last = _date_ms(first), _date_ms(last)
            tables.append(TableInfo(name, int(count), first, last))
        sessions = self.sessions()
        gaps: list[tuple[int, int]] = []
        if sessions:
            last_beat = max(s.heartbeat_ms for s in sessions)
            gaps = coverage_gaps(sessions, min(s.started_ms for s in sessions), last_beat, MIN_GAP_MS)
        version = int(self._query("PRAGMA user_version")[0][0])
        return StoreInfo(self.path, version, self.mode, self.size_bytes(), tables, sessions, gaps, self.writer_pid())

    def prune(self, now_ms: int, retention_days: Mapping[str, float], max_bytes: int) -> dict[str, int]:
        dropped: dict[str, int] = {}

        def delete(sql: str, params: tuple[Any, ...], table: str) -> int:
            cur = self.conn.execute(sql, params)
            dropped[table] = dropped.get(table, 0) + max(cur.rowcount, 0)
            return max(cur.rowcount, 0)

        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                for name, spec in TABLES.items():
                    if spec.retention == "by_interval":
                        for kind, test in (("intraday", "<"), ("daily", ">=")):
                            days = retention_days.get(kind, 0)
                            if days:
                                delete(f"DELETE FROM {name} WHERE interval_ms {test} ? AND {spec.time} < ?",
                                       (DAY_MS, now_ms - int(days * DAY_MS)), name)  # fmt: skip
                        continue
                    days = retention_days.get(spec.retention, 0)
                    if not days:
                        continue
                    cutoff: Any = now_ms - int(days * DAY_MS)
                    if spec.time == "date":
                        cutoff = time.strftime("%Y-%m-%d", time.gmtime(cutoff / 1000))
                    delete(f"DELETE FROM {name} WHERE {spec.time} < ?", (cutoff,), name)
                self.conn.execute("COMMIT")
                self.conn.executescript("PRAGMA incremental_vacuum;")  # executescript: steps it to the end
                # Over the size bound: the oldest tenth of the bulkiest kinds goes first, until it fits.
                for _ in range(20):
                    if not max_bytes or self._pages_bytes() <= max_bytes:
                        break
                    removed = 0
                    for name, column in (("liquidations", "time"), ("klines", "open_time"), ("funding", "time"),
                                         ("open_interest", "time")):  # fmt: skip
                        removed += delete(
                            f"DELETE FROM {name} WHERE {column} <= (SELECT {column} FROM {name} ORDER BY {column} "
                            f"LIMIT 1 OFFSET (SELECT count(*) / 10 FROM {name}))", (), name)  # fmt: skip
                    self.conn.executescript("PRAGMA incremental_vacuum;")  # executescript: steps it to the end
                    if not removed:
                        break
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                if _unavailable(exc):
                    raise StoreUnavailable(f"{self.path}: recording stopped: {exc}") from None
                raise StoreError(f"{self.path}: pruning failed: {exc}") from None
        return {k: v for k, v in dropped.items() if v}

    def _pages_bytes(self) -> int:
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            if self.writer:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.close()
        self._release_writer_lock()


class _Foreign(Exception):
    """The file is not an altpulse store this version can use (foreign, corrupt)."""


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode().strip()
        return int(text) if text else None
    return None


def _statements(script: str) -> list[str]:
    """A migration script's statements (no semicolons inside our DDL, so splitting is safe)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _span(column: str, since: Any, until: Any, where: Mapping[str, Any] | None = None) -> tuple[str, tuple[Any, ...]]:
    parts: list[str] = []
    params: list[Any] = []
    if since is not None:
        parts.append(f"{column} >= ?")
        params.append(since)
    if until is not None:
        parts.append(f"{column} <= ?")
        params.append(until)
    for key, value in (where or {}).items():
        if key not in {c for t in TABLES.values() for c in t.columns}:
            raise StoreError(f"unknown column {key!r}")
        parts.append(f"{key} = ?")
        params.append(value)
    return ("WHERE " + " AND ".join(parts)) if parts else "", tuple(params)


#: Tape rows read per step: restoring 35 days never holds more than this many rows as Python objects.
TAPE_CHUNK = 50_000


def _read_tape(conn: sqlite3.Connection, where: str, params: tuple[Any, ...], compact: bool = False) -> Any:
    """The tape frame of the rows ``where`` selects, in time order, read in chunks into numpy columns with the
    names dictionary-encoded by SQLite itself (a row comes back as seven numbers): 35 days of tape would otherwise
    be 1.5 million Python objects at once, a hundred MB of peak RSS for a moment at every start. ``compact``: the
    name columns as categoricals (what a restore hands the tape)."""
    import numpy as np
    import pandas as pd

    names = {col: [r[0] for r in conn.execute(f"SELECT DISTINCT {col} FROM liquidations {where}", params)]
             for col in ("exchange", "coin", "side")}  # fmt: skip
    if not names["exchange"]:
        return _tape_frame([])

    def code(col: str) -> str:
        return f"CASE {col} " + " ".join(f"WHEN ? THEN {i}" for i in range(len(names[col]))) + " END"

    cursor = conn.execute(
        f"SELECT time, {code('exchange')}, {code('coin')}, {code('side')}, qty, price, notional_usd "
        f"FROM liquidations {where} ORDER BY time", (*names["exchange"], *names["coin"], *names["side"], *params))
    total = conn.execute(f"SELECT count(*) FROM liquidations {where}", params).fetchone()[0]
    data = np.empty((total, 7), np.float64)  # filled in place: no second copy; epoch ms are exact in a double
    filled = 0
    while filled < total and (rows := cursor.fetchmany(min(TAPE_CHUNK, total - filled))):
        data[filled : filled + len(rows)] = rows
        filled += len(rows)
    data = data[:filled]

    def decoded(col: str, i: int) -> Any:
        codes = data[:, i].astype(np.int32)
        if compact:  # the codes themselves: the tape takes them as they are, no string per row ever exists
            return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(names[col]))
        return np.array(names[col], dtype=object)[codes]

    return pd.DataFrame({"time": data[:, 0].astype(np.int64), "exchange": decoded("exchange", 1),
                         "coin": decoded("coin", 2), "side": decoded("side", 3), "qty": data[:, 4],
                         "price": data[:, 5], "notional_usd": data[:, 6]})  # fmt: skip


def _tape_frame(rows: list[tuple[Any, ...]]) -> Any:
    """Column by column (a third faster than a frame of row tuples: restoring 35 days of tape is this)."""
    import numpy as np
    import pandas as pd

    names = ["time", "exchange", "coin", "side", "qty", "price", "notional_usd"]
    if not rows:
        return pd.DataFrame({n: pd.Series(dtype=np.int64 if n == "time" else float if n in names[4:] else object)
                             for n in names})  # fmt: skip
    columns = list(zip(*rows, strict=True))
    data: dict[str, Any] = {"time": np.asarray(columns[0], np.int64)}
    for i, name in enumerate(names[1:4], 1):
        data[name] = np.asarray(columns[i], dtype=object)
    for i, name in enumerate(names[4:], 4):
        data[name] = np.asarray(columns[i], np.float64)
    return pd.DataFrame(data)


def _date_ms(day: Any) -> int | None:
    if day is None:
        return None
    import datetime as dt

    return int(dt.datetime.fromisoformat(str(day)).replace(tzinfo=dt.UTC).timestamp() * 1000)
