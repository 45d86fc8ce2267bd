"""The recorder's store: schema and migrations, the writer lock, file permissions, foreign and corrupt files,
a store that refuses writes, retention and the size bound, gaps, and the batching writer thread."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from store.base import Session, StoreError, StoreLocked, StoreUnavailable, coverage_gaps
from store.schema import APPLICATION_ID, SCHEMA_VERSION, TABLES
from store.sqlite import SqliteStore
from store.writer import BatchWriter

DAY = 86_400_000
T0 = 1_795_435_200_000  # 2026-11-23T12:00:00Z


def liq(t: int, coin: str = "BTC", side: str = "long", usd: float = 1_000.0, session: int = 1) -> tuple:
    return (t, "binance", coin, side, usd / 50_000, 50_000.0, usd, session)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "store.sqlite"


def test_new_store_has_the_schema_its_id_and_user_only_permissions(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(TABLES) | {"meta", "sessions"} <= tables
    conn.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(f"{path}.lock").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_wal_and_shm_files_are_the_users_only(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    sid = store.begin_session("console", T0, 1)
    store.write({"liquidations": [liq(T0)]}, heartbeat=(sid, T0))
    for suffix in ("-wal", "-shm"):
        assert stat.S_IMODE(os.stat(f"{path}{suffix}").st_mode) == 0o600, suffix
    store.close()


def test_rows_round_trip_and_keyed_tables_replace(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    sid = store.begin_session("console", T0, 1)
    bar = ("binance_spot", "BTCUSDT", 3_600_000, T0, 1.0, 2.0, 0.5, 1.5, 10.0, 15.0, 7, 6.0, 9.0, T0 + 3_599_999, 1)
    store.write({"klines": [bar], "liquidations": [liq(T0), liq(T0 + 1)]}, heartbeat=(sid, T0 + 5))
    closed = (*bar[:7], 1.25, 12.0, 18.0, 9, 7.0, 10.0, T0 + 3_599_999, 0)  # the same bar, now closed
    store.write({"klines": [closed]}, heartbeat=(sid, T0 + 10))
    klines = store.read("klines")
    assert len(klines) == 1 and klines.iloc[0]["close"] == 1.25 and klines.iloc[0]["provisional"] == 0
    tape = store.liquidations(T0, T0 + 1)
    assert list(tape["time"]) == [T0, T0 + 1] and tape["notional_usd"].sum() == 2_000.0
    assert store.sessions()[0].heartbeat_ms == T0 + 10
    store.close()


def test_a_second_writer_is_refused_naming_the_first(path: Path) -> None:
    first = SqliteStore(path, "live", writer=True)
    with pytest.raises(StoreLocked, match=rf"already being recorded by pid {os.getpid()}.*--follow"):
        SqliteStore(path, "live", writer=True)
    reader = SqliteStore(path, "live")  # readers are never refused
    assert reader.writer_pid() == os.getpid()
    first.close()
    assert reader.writer_pid() is None
    SqliteStore(path, "live", writer=True).close()  # the lock went with the first writer
    reader.close()


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b"SQLite format 3\x00" + b"\x07" * 4000])
def test_a_corrupt_file_is_moved_aside_and_recording_starts_fresh(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    store = SqliteStore(path, "live", writer=True)
    assert store.moved_aside is not None and Path(store.moved_aside).read_bytes() == content
    assert store.notes and str(path) in store.notes[0] and "moved aside" in store.notes[0]
    assert store.sessions() == []
    store.close()


def test_a_foreign_sqlite_file_is_never_written_into(path: Path) -> None:
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER, secret TEXT)")
    conn.execute("INSERT INTO accounts VALUES (1, 'keep me')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="another program"):
        SqliteStore(path, "live")  # a reader refuses
    store = SqliteStore(path, "live", writer=True)  # a writer moves it aside, untouched
    assert store.moved_aside is not None
    kept = sqlite3.connect(store.moved_aside)
    assert kept.execute("SELECT secret FROM accounts").fetchall() == [("keep me",)]
    kept.close()
    store.close()


def test_a_newer_schema_is_refused(path: Path) -> None:
    SqliteStore(path, "live", writer=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this altpulse"):
        SqliteStore(path, "live", writer=True)


def test_demo_data_is_never_recorded_into_a_live_store(path: Path) -> None:
    SqliteStore(path, "live", writer=True).close()
    with pytest.raises(StoreError, match="holds live data"):
        SqliteStore(path, "demo", writer=True)
    reader = SqliteStore(path, "demo")
    assert reader.mode == "live"  # a reader takes what the store holds
    reader.close()


def test_an_unwritable_directory_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    # /proc refuses new files even to root (chmod does not stop root).
    with pytest.raises(StoreUnavailable, match="cannot create"):
        SqliteStore(Path("/proc/altpulse-test/store.sqlite"), "live", writer=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreUnavailable):
            SqliteStore(folder / "store.sqlite", "live", writer=True)
    finally:
        folder.chmod(0o700)


def test_a_full_disk_stops_recording_with_a_reason(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    sid = store.begin_session("console", T0, 1)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    writer = BatchWriter(store, sid, lambda: T0 + 1000, flush_every=3600)
    writer.submit(lambda: {"liquidations": [liq(T0 + i) for i in range(5_000)]})
    writer.commit()
    assert writer.failed is not None and "full" in writer.failed and str(path) in writer.failed
    writer.submit(lambda: {"liquidations": [liq(T0)]})  # dropped: recording is off
    writer.commit()
    assert writer.stats.batches == 0
    store.close()


def test_writer_batches_jobs_off_the_caller_and_commits_with_the_heartbeat(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    sid = store.begin_session("console", T0, 1)
    clock = [T0]
    threads: set[str] = set()

    def job() -> dict[str, list[tuple]]:
        threads.add(threading.current_thread().name)
        return {"liquidations": [liq(clock[0])]}

    writer = BatchWriter(store, sid, lambda: clock[0], flush_every=0.05)
    writer.start()
    for _ in range(3):
        writer.submit(job)
    clock[0] = T0 + 60_000
    writer.flush()
    writer.stop()
    assert threads == {"altpulse-recorder"}
    assert len(store.liquidations(0)) == 3
    session = store.sessions()[0]
    assert session.heartbeat_ms == T0 + 60_000 and session.ended_ms == T0 + 60_000
    store.close()


def test_a_failing_job_does_not_lose_the_batch(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    sid = store.begin_session("console", T0, 1)
    writer = BatchWriter(store, sid, lambda: T0, flush_every=3600)
    writer.submit(lambda: {"liquidations": [liq(T0)]})
    writer.submit(lambda: 1 / 0)  # type: ignore[arg-type,return-value]
    writer.submit(lambda: {"liquidations": [liq(T0 + 1)]})
    writer.commit()
    assert writer.failed is None and len(store.liquidations(0)) == 2
    store.close()


def test_retention_per_kind_and_daily_data_kept_forever(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    now = T0
    old = now - 40 * DAY
    hourly = ("binance_spot", "ETHUSDT", 3_600_000, old, 1, 1, 1, 1, 1, 1, 1, 1, 1, old + 1, 0)
    daily = ("binance_spot", "ETHUSDT", DAY, old, 1, 1, 1, 1, 1, 1, 1, 1, 1, old + 1, 0)
    store.write({
        "liquidations": [liq(now - 500 * DAY), liq(now - DAY)],
        "klines": [hourly, daily],
        "funding": [(old, "okx", "BTC", "BTC-USDT-SWAP", 1e-4, 8.0, 1e-4, 1.0, None)],
        "etf_flows": [("btc", "2024-01-11", "IBIT", 1e6)],
    })  # fmt: skip
    dropped = store.prune(now, {"liquidations": 400, "intraday": 30, "daily": 0}, 0)
    assert dropped == {"liquidations": 1, "klines": 1, "funding": 1}
    assert list(store.read("klines")["interval_ms"]) == [DAY]
    assert len(store.read("etf_flows")) == 1
    store.close()


def test_size_bound_drops_the_oldest_bulk_rows_first(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    rows = [liq(T0 + i * 1000, coin=f"C{i % 50}") for i in range(60_000)]
    store.write({"liquidations": rows, "etf_flows": [("btc", "2024-01-11", "IBIT", 1e6)]})
    before = store.size_bytes()
    bound = before // 3
    store.prune(T0 + 60_000_000, {}, bound)
    tape = store.liquidations(0)
    assert 0 < len(tape) < 60_000
    assert tape["time"].min() > T0  # the oldest went first
    assert store._pages_bytes() <= bound
    assert len(store.read("etf_flows")) == 1  # daily data is not what a size bound drops
    store.close()


def test_gaps_are_the_spans_no_session_covered() -> None:
    def s(i: int, start: int, beat: int) -> Session:
        return Session(i, "console", "live", None, start, beat, None)

    sessions = [s(1, 0, 1000), s(2, 500, 2000), s(3, 10_000, 12_000)]
    assert coverage_gaps(sessions, 0, 12_000, 100) == [(2000, 10_000)]
    assert coverage_gaps(sessions, 0, 20_000, 100) == [(2000, 10_000), (12_000, 20_000)]
    assert coverage_gaps(sessions, 0, 12_050, 100) == [(2000, 10_000)]  # under the minimum: not a gap
    assert coverage_gaps([], 0, 1000, 100) == []


def test_info_counts_rows_spans_and_gaps(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    a = store.begin_session("console", T0, 1)
    store.write({"liquidations": [liq(T0), liq(T0 + 5_000)]}, heartbeat=(a, T0 + 10_000))
    b = store.begin_session("collector", T0 + 3_600_000, 2)
    store.write({"etf_flows": [("btc", "2026-11-20", "IBIT", -1e8)]}, heartbeat=(b, T0 + 3_700_000))
    info = store.info()
    tables = {t.name: t for t in info.tables}
    assert tables["liquidations"].rows == 2 and tables["liquidations"].first_ms == T0
    assert tables["etf_flows"].first_ms == 1_795_132_800_000  # 2026-11-20 00:00 UTC
    assert info.gaps == [(T0 + 10_000, T0 + 3_600_000)]
    assert info.writer_pid == os.getpid() and info.mode == "live"
    store.close()


def test_a_failed_fetch_keeps_the_feeds_last_delivery(path: Path) -> None:
    store = SqliteStore(path, "live", writer=True)
    store.write({"feed_state": [("etf_btc", None, 1, 2, 3, '{"failures": 0}', '{"etf_btc": 1}')]})
    store.write({"feed_state": [("etf_btc", None, 5, 6, None, '{"failures": 1, "error": "HTTP 503"}', None)]})
    (record,) = store.feed_records()
    assert record.payload == '{"etf_btc": 1}' and record.data_ms == 3
    assert record.health["error"] == "HTTP 503" and record.wall_ms == 5 and record.seq == 2
    store.close()
