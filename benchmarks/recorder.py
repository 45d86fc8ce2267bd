"""What recording costs: the event loop's share per tick, the writer thread's commits, a liquidation burst, the
store's size per recorded day, and starting up from a 30-day store.

Everything runs through the real code: a ``MarketState`` filled for N coins as in ``tick_cost.py``, the real
:class:`tui.runtime.recording.Recorder` and :class:`store.writer.BatchWriter` over a real SQLite file in a temp dir.

* **loop per tick**: what the recorder adds to a 1 Hz tick on the event loop (``feed_updated`` for the feeds that
  delivered, and ``tick``, which hands over the tape's new rows); and the tick itself (the view-model half of
  ``_refresh_views`` for "one feed changed") with the writer thread idle and with it committing a burst at the
  same time (the GIL is shared: this is what recording costs the screen);
* **commits** (writer thread): the first full delivery of every feed, then steady state: BTC ticker, one venue's
  funding, the hourly klines (two bars per coin), and a second of a 1,000 liquidations/s burst;
* **size per day**: one simulated day at the demo's rates (its liquidation rate, every feed at its configured
  cadence, funding sampled every ``[store] funding_every``) written through the recorder, file size before/after;
* **start-up**: boot a demo console over a 30-day store (liquidations at the demo's rate, hourly and daily klines,
  funding, feed states) and time until the tape is restored, against the same boot with no store.

Usage: ``python benchmarks/recorder.py [--coins 200] [--repeat 20]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from tick_cost import ALL_FEEDS, NOW_MS, build_views, demo_extras, measure, tick, touch_funding

DAY_MS = 86_400_000


def ms(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return f"median {statistics.median(samples):8.2f} ms   p95 {p95:8.2f} ms"


def recorder_for(views: Any, state: Any, scheduler: Any, path: Path) -> Any:
    from store.sqlite import SqliteStore
    from store.writer import BatchWriter
    from tui.runtime.recording import Recorder

    store = SqliteStore(path, "demo", writer=True)
    session = store.begin_session("console", NOW_MS, None)
    writer = BatchWriter(store, session, lambda: NOW_MS, flush_every=3600)  # commits driven by hand
    return Recorder(views.config, views.runtime, state, store, writer, session, feeds=scheduler.feeds)


def deliver(recorder: Any, state: Any, names: list[str]) -> None:
    for name in names:
        state.bump(name)
        recorder.feed_updated(name)


def timed_commit(recorder: Any) -> float:
    start = time.perf_counter()
    recorder.writer.commit()
    return (time.perf_counter() - start) * 1000


def burst(rng: np.random.Generator, now_ms: int, n: int) -> list[Any]:
    from records.liquidations import Liquidation

    times = now_ms - rng.integers(0, 1000, n)
    return [Liquidation(int(t), "binance", "ETH", "long", 1.0, 3000.0, 3000.0) for t in times]


def loop_and_commits(n: int, repeat: int, extras: dict[str, Any], folder: Path) -> None:
    views, state, scheduler = build_views(n, extras)
    recorder = recorder_for(views, state, scheduler, folder / "bench.sqlite")
    feeds = [f for f in ALL_FEEDS if f in scheduler.feeds]
    print(f"\n== {n} coins: the writer thread's commits")
    deliver(recorder, state, feeds)
    recorder.tick()
    print(f"first delivery of every feed + the {len(state.liq_tape):,}-row tape (seed, in 20k-row slices): ", end="")
    first = [timed_commit(recorder)]
    while recorder._tape_mark < state.liq_tape.appended:
        recorder.tick()
        first.append(timed_commit(recorder))
    print(f"{first[0]:.0f} ms, then {len(first) - 1} slices of {statistics.median(first[1:] or [0]):.0f} ms")
    rng = np.random.default_rng(3)
    cases = {
        "btc_ticker (feed_state row)": ["btc_ticker"],
        "one venue's funding (sampled rows + feed_state)": ["funding_binance"],
        "hourly klines (2 new bars per coin)": ["cvd_hourly"],
    }
    for label, names in cases.items():
        samples = []
        for _ in range(repeat):
            if names == ["funding_binance"]:
                touch_funding(state, rng)
                recorder._funding_at.clear()  # every sample is a recorded one (at most every funding_every)
            deliver(recorder, state, names)
            samples.append(timed_commit(recorder))
        print(f"  {label:<52} {ms(samples)}")
    samples = []
    for _ in range(repeat):
        state.liq_tape.extend(burst(rng, NOW_MS, 1000))
        recorder.tick()
        samples.append(timed_commit(recorder))
    print(f"  {'a second of a 1,000 liquidations/s burst':<52} {ms(samples)}")

    print(f"== {n} coins: the event loop per 1 Hz tick")
    loop = []
    for _ in range(repeat):
        state.liq_tape.extend(burst(rng, NOW_MS, 1000))
        start = time.perf_counter()
        deliver(recorder, state, ["btc_ticker", "funding_binance"])
        recorder.tick()
        loop.append((time.perf_counter() - start) * 1000)
        recorder.writer.commit()
    print(f"  {'recorder hooks (2 feeds + 1,000 tape rows)':<52} {ms(loop)}")
    now = time.time()
    idle = measure(lambda: tick(views, scheduler, {"funding"}, now), repeat, lambda: touch_funding(state, rng))
    print(f"  {'tick, one feed changed, writer idle':<52} median {idle[0]:8.2f} ms   p95 {idle[1]:8.2f} ms")
    stop = threading.Event()

    def busy_writer() -> None:  # the writer thread committing a burst and funding rows nonstop
        while not stop.is_set():
            recorder.writer.submit(lambda: {"liquidations": [
                (NOW_MS, "binance", "ETH", "long", 1.0, 3000.0, 3000.0, 1) for _ in range(1000)]})  # fmt: skip
            recorder.writer.commit()

    worker = threading.Thread(target=busy_writer)
    worker.start()
    try:
        busy = measure(lambda: tick(views, scheduler, {"funding"}, now), repeat, lambda: touch_funding(state, rng))
    finally:
        stop.set()
        worker.join()
    print(f"  {'tick, one feed changed, writer committing':<52} median {busy[0]:8.2f} ms   p95 {busy[1]:8.2f} ms")
    recorder.store.close()


def size_per_day(extras: dict[str, Any], folder: Path, coins: int) -> None:
    """One simulated day at the demo's rates through the recorder: bytes per day."""
    from emulator.demo import build_demo_dataset
    from tui.runtime.config import load_config

    dataset = build_demo_dataset(now_ms=NOW_MS)
    tape = dataset.liquidations
    per_day = len(tape[tape["time"] > NOW_MS - 7 * DAY_MS]) / 7
    views, state, scheduler = build_views(coins, extras)
    recorder = recorder_for(views, state, scheduler, folder / "day.sqlite")
    deliver(recorder, state, [f for f in ALL_FEEDS if f in scheduler.feeds])
    recorder.tick()
    while recorder._tape_mark < state.liq_tape.appended:
        recorder.tick()
        recorder.writer.commit()
    recorder.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = recorder.store.size_bytes()
    cadence = load_config(use_user_file=False).cadence
    rng = np.random.default_rng(5)
    every = {name: getattr(cadence, key) for name, key in (
        ("btc_ticker", "btc_ticker"), ("btc_intraday", "btc_intraday"), ("cvd_hourly", "cvd_hourly"),
        ("cvd_daily", "cvd_daily"), ("funding_binance", "funding"), ("funding_bybit", "funding"),
        ("funding_okx", "funding"), ("funding_hyperliquid", "funding"), ("oi_binance", "open_interest"),
        ("etf_btc", "etf"), ("fear_greed", "fear_greed"), ("cg_global", "coingecko"))}  # fmt: skip
    step = 60
    for second in range(0, 86_400, step):
        now = NOW_MS + second * 1000
        recorder.runtime.now_ms = lambda now=now: now  # type: ignore[method-assign]
        due = [name for name, period in every.items() if second % max(step, int(period) // step * step) == 0]
        deliver(recorder, state, due)
        state.liq_tape.extend(burst(rng, now, int(per_day * step / 86_400)))
        recorder.tick()
        recorder.writer.commit()
    recorder.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    grown = recorder.store.size_bytes() - before
    print(f"\n== store size per recorded day ({coins} coins, {per_day:,.0f} liquidations/day as the demo simulates)")
    print(f"  {grown / 1_048_576:.1f} MB per day; feed_state rows are rewritten in place (no growth); klines were "
          "unchanged bars here, so real days add ~24 hourly bars per coin on top (~2 KB per coin)")
    recorder.store.close()


def startup(folder: Path, coins: int) -> None:
    """Boot a demo console over a 30-day store vs with none: time until the tape is restored."""
    from store.sqlite import SqliteStore
    from tui.boot import Launch, boot
    from tui.runtime.config import load_config

    config = load_config(use_user_file=False)
    path = folder / "thirty.sqlite"
    first = boot(config, Launch("demo", now_ms=NOW_MS - 30 * DAY_MS, record=True, store=path))
    first.start_streams()
    asyncio.run(first.scheduler.run_all_once())
    recorder = first.recorder
    assert recorder is not None
    while recorder._tape_mark < first.state.liq_tape.appended:
        first.tick()
        recorder.writer.commit()
    asyncio.run(first.aclose())
    # Thirty days of the demo's liquidations and sessions after it.
    from emulator.demo import build_demo_dataset

    tape = build_demo_dataset(now_ms=NOW_MS).liquidations
    recent = tape[tape["time"] > NOW_MS - 30 * DAY_MS]
    store = SqliteStore(path, "demo", writer=True)
    sid = store.begin_session("collector", NOW_MS - 30 * DAY_MS, None)
    rows = [(int(r.time), r.exchange, r.coin, r.side, float(r.qty), float(r.price), float(r.qty * r.price), sid)
            for r in recent.itertuples()]  # fmt: skip
    store.write({"liquidations": rows}, heartbeat=(sid, NOW_MS))
    store.close()
    size = path.stat().st_size / 1_048_576

    def boot_once(record: bool) -> tuple[float, int]:
        start = time.perf_counter()
        session = boot(config, Launch("demo", now_ms=NOW_MS, record=record, store=path if record else None))
        session.start_streams()
        elapsed = time.perf_counter() - start
        rows_restored = len(session.state.liq_tape) if session.state.liq_tape is not None else 0
        asyncio.run(session.aclose())
        return elapsed, rows_restored

    with_store = [boot_once(True) for _ in range(3)]
    without = [boot_once(False) for _ in range(3)]
    print(f"\n== start-up over a 30-day store ({size:.0f} MB, {len(rows):,} liquidations)")
    print(f"  boot + streams started, tape restored from the store: {min(t for t, _ in with_store):.2f} s "
          f"({with_store[0][1]:,} rows)")
    print(f"  the same boot without a store (the demo seeds its own): {min(t for t, _ in without):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", default="200")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    extras = demo_extras()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in [int(c) for c in args.coins.split(",")]:
            loop_and_commits(n, args.repeat, extras, folder)
        size_per_day(extras, folder, 20)
        startup(folder, 20)


if __name__ == "__main__":
    main()
