"""``altpulse collect`` as a user runs it, in a real process: it records, a second collector is refused, ``kill -9``
loses at most the last batch and leaves a readable store and no stale lock, ``store info`` and ``snapshot --replay``
read what it made, and a corrupt store is moved aside while recording starts afresh."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ALTPULSE = [sys.executable, "-m", "tui.cli"]


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
            "NO_COLOR": "1"}  # fmt: skip


def run(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ALTPULSE, *args], capture_output=True, text=True, timeout=timeout, env=env(tmp_path))


def store_info(tmp_path: Path, store: Path) -> dict[str, Any]:
    done = run(tmp_path, "store", "info", "--json", "--store", str(store))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.timeout(240)
def test_collector_records_refuses_a_second_writer_and_survives_kill_9(tmp_path: Path) -> None:
    store = tmp_path / "demo.sqlite"
    args = [*ALTPULSE, "collect", "--demo", "--coins", "ETH,SOL", "--store", str(store)]
    collector = subprocess.Popen(args, env=env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def recorded() -> bool:
            if not store.exists():
                return False
            info = store_info(tmp_path, store)
            tables = info["tables"]
            return tables["liquidations"]["rows"] > 0 and tables["klines"]["rows"] > 0 and info["feeds_recorded"] > 5

        wait_for(recorded, 90, "the collector's first batches")
        second = run(tmp_path, "collect", "--demo", "--store", str(store), timeout=60)
        assert second.returncode == 2
        assert f"already being recorded by pid {collector.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        before = store_info(tmp_path, store)
        assert before["writer_pid"] == collector.pid and before["simulated"] is True
        time.sleep(2.5)  # two more flushes, then the hard kill mid-run
        rows_seen = store_info(tmp_path, store)["tables"]["liquidations"]["rows"]
        collector.send_signal(signal.SIGKILL)
        collector.wait(10)
    finally:
        if collector.poll() is None:
            collector.kill()
            collector.wait(10)
        collector.stdout.close()  # type: ignore[union-attr]
        collector.stderr.close()  # type: ignore[union-attr]
    conn = sqlite3.connect(store)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    after = store_info(tmp_path, store)
    # Every batch committed before the kill is there; the session is not marked ended (it was killed).
    assert after["tables"]["liquidations"]["rows"] >= rows_seen
    assert after["writer_pid"] is None and after["sessions"][-1]["ended"] is None
    # No stale lock: a new collector starts at once, and ends its own session cleanly.
    again = run(tmp_path, "collect", "--demo", "--coins", "ETH,SOL", "--store", str(store), "--seconds", "3")
    assert again.returncode == 0, again.stderr
    final = store_info(tmp_path, store)
    assert len(final["sessions"]) >= 3 and final["sessions"][-1]["ended"] is not None
    # The store replays through the emulator like a folder of files.
    snap = run(tmp_path, "snapshot", "--replay", str(store), "--json", "--coins", "ETH,SOL")
    # Exit 1: a few seconds of recording reach no Binance/OKX/Hyperliquid settlement, so those venues have no
    # funding to replay, and say so; everything recorded is there.
    assert snap.returncode in (0, 1), snap.stderr
    assert "Traceback" not in snap.stderr
    doc = json.loads(snap.stdout)
    assert doc["mode"] == "replay" and doc["simulated"] is True
    assert doc["btc"]["price"] is not None
    export = run(tmp_path, "store", "export", "liquidations", "--store", str(store))
    assert export.returncode == 0 and export.stdout.startswith("time,exchange,coin,side,qty,price,notional_usd,session")
    assert len(export.stdout.splitlines()) - 1 == final["tables"]["liquidations"]["rows"]


def test_a_corrupt_store_is_moved_aside_and_the_collector_records_anyway(tmp_path: Path) -> None:
    store = tmp_path / "demo.sqlite"
    store.write_bytes(b"\x00garbage, not sqlite\x00" * 500)
    done = run(tmp_path, "collect", "--demo", "--coins", "ETH", "--store", str(store), "--seconds", "2")
    assert done.returncode == 0, done.stderr
    assert "moved aside" in done.stderr and str(store) in done.stderr and "Traceback" not in done.stderr
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("demo.sqlite.unreadable-")]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"\x00garbage")
    assert store_info(tmp_path, store)["tables"]["klines"]["rows"] > 0


def test_store_info_on_a_missing_store_is_one_clear_line(tmp_path: Path) -> None:
    done = run(tmp_path, "store", "info", "--store", str(tmp_path / "nothing.sqlite"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"altpulse store: {tmp_path / 'nothing.sqlite'}: no such store"


def test_an_unwritable_store_location_is_refused_with_the_reason(tmp_path: Path) -> None:
    done = run(tmp_path, "collect", "--demo", "--store", "/proc/altpulse/demo.sqlite", "--seconds", "1")
    assert done.returncode == 2
    assert "recording off" in done.stderr and "cannot create" in done.stderr and "Traceback" not in done.stderr
