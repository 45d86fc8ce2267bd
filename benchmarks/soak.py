"""24-hour accelerated soak of the data path in demo mode: is memory flat once the buffers are full?

The demo market runs a day past its anchor. Its virtual clock is frozen and advanced in steps (default 3 simulated
minutes); at each step every feed whose cadence has elapsed runs once through ``Scheduler.run_once`` (as the app's
feed loops would), the liquidation tape is trimmed as the app's 10-minute timer does, and every view-model is
rebuilt (``ViewBuilder``: btc, cvd, funding, liquidations, etf, macro, drivers, status). The websocket streams are
not run; the OKX REST fallback (polled while the OKX stream is down) feeds the tape instead.

Samples RSS (psutil) and the sizes of MarketState's containers as the day goes by, then prints RSS over time,
the peak and the growth over the second half (design target: flat after warm-up, RSS <= 200 MB).

Usage: ``python benchmarks/soak.py [--hours 24] [--step-min 3] [--coins 20]``. ``tests/test_soak.py`` runs a
shorter-basket version and asserts that memory and every container stay bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The tests' frozen demo time (2026-11-23T12:00:00Z): the soak starts here.
START_MS = 1_795_435_200_000
MINUTE_MS = 60_000
TRIM_EVERY_MS = 600_000  # tui/app/app.py trims the tape every 600 s


@dataclass
class Sample:
    hour: float  # simulated hours since the start
    rss_mb: float
    sizes: dict[str, int]


@dataclass
class SoakResult:
    samples: list[Sample] = field(default_factory=list)
    feed_runs: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    hourly_cap: int = 0

    @property
    def peak_rss_mb(self) -> float:
        return max(s.rss_mb for s in self.samples)

    def growth_second_half_mb(self) -> float:
        """RSS at the end minus the lowest RSS sampled in the second half of the run (0 when flat)."""
        half = [s for s in self.samples if s.hour >= self.samples[-1].hour / 2]
        return half[-1].rss_mb - min(s.rss_mb for s in half)


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def container_sizes(state: Any, emulator: Any, views: Any) -> dict[str, int]:
    """Rows held by each MarketState container (and the emulator's bookkeeping, and the views' memo)."""

    def rows(frame: Any) -> int:
        return 0 if frame is None else len(frame)

    history = state.global_history
    return {
        "btc_intraday": rows(state.btc_intraday),
        "btc_monthly": rows(state.btc_monthly),
        "alt_daily_max": max((len(f) for f in state.alt_daily.values()), default=0),
        "alt_hourly_max": max((len(f) for f in state.alt_hourly.values()), default=0),
        "alt_coins": len(state.alt_daily) + len(state.alt_hourly),
        "coin_errors": len(state.coin_errors),
        "derivs_quotes": sum(len(s.funding) + len(s.open_interest) for s in state.derivs.values()),
        "binance_oi": len(state.binance_oi),
        "funding_history": rows(state.funding_history),
        "oi_history": rows(state.oi_history),
        "liq_tape": rows(state.liq_tape),
        "global_history": 0 if history is None else len(history.frame),
        "versions": len(state.version),
        "memo_entries": len(views.figures.memo),
        "emulator_requests": len(emulator.requests),
        "emulator_cache": len(emulator.cache),
    }


async def soak(
    hours: float = 24.0,
    step_min: float = 3.0,
    coins: list[str] | None = None,
    samples: int = 48,
    on_sample: Callable[[Sample], None] | None = None,
) -> SoakResult:
    """Run the accelerated day; returns the samples (one every ``hours / samples`` simulated hours)."""
    from tui.boot import Launch, build_runtime
    from tui.runtime.config import load_config
    from tui.runtime.feeds import build_feeds
    from tui.runtime.feeds_derivs import start_liquidation_tape
    from tui.runtime.pandas_refs import PRUNE_REFS_EVERY_S, sweep_dead_references
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState
    from tui.views.builder import ViewBuilder

    config = load_config(use_user_file=False)
    if coins is not None:
        config = config.with_overrides("general", coins=coins)
    runtime, emulator = build_runtime(config, Launch("demo", now_ms=START_MS))
    assert emulator is not None
    clock = emulator.clock

    async def virtual_sleep(seconds: float) -> None:
        clock.advance(int(seconds * 1000))  # a rate-limit or retry wait costs simulated, not wall, time
        await asyncio.sleep(0)

    # The client keeps the providers' live request budgets; measure them in simulated time, or the accelerated
    # day would be throttled by wall-clock windows.
    runtime.http._clock = lambda: runtime.now_ms() / 1000
    runtime.http._sleep = virtual_sleep
    state = MarketState()
    feeds = build_feeds(config, runtime, state)
    scheduler = Scheduler(feeds, clock=lambda: runtime.now_ms() / 1000, versions=state.version)
    views = ViewBuilder(config, runtime, state)
    views.scheduler = scheduler
    start_liquidation_tape(config, runtime, state)
    result = SoakResult(hourly_cap=config.cvd.hourly_days * 24)
    last_run: dict[str, int] = {}
    last_trim = last_prune = START_MS
    step_ms = int(step_min * MINUTE_MS)
    end_ms = START_MS + int(hours * 3_600_000)
    sample_every_ms = max(step_ms, int(hours * 3_600_000 / samples))
    next_sample = START_MS
    wall0 = time.perf_counter()
    try:
        while True:
            now_ms = runtime.now_ms()
            due = [n for n, f in scheduler.feeds.items() if now_ms - last_run.get(n, -(10**15)) >= f.cadence * 1000]
            # The websocket streams would feed the tape; without them the OKX REST fallback does.
            for name in due:
                ok = await scheduler.run_once(name)
                last_run[name] = now_ms
                result.feed_runs += 1
                if not ok:
                    result.failures[name] = result.failures.get(name, 0) + 1
            if now_ms - last_trim >= TRIM_EVERY_MS and state.liq_tape is not None:
                state.liq_tape.trim(now_ms)
                last_trim = now_ms
            if now_ms - last_prune >= PRUNE_REFS_EVERY_S * 1000:
                sweep_dead_references(state, views, emulator)  # as Session.housekeep, once a minute
                last_prune = now_ms
            now = now_ms / 1000
            views.btc(now), views.cvd(now), views.funding(now), views.liquidations(now)
            views.etf(now), views.macro(now)
            views.evaluate_drivers()
            views.drivers(now), views.status(scheduler, now)
            if now_ms >= next_sample or now_ms + step_ms > end_ms:
                gc.collect()
                sample = Sample((now_ms - START_MS) / 3_600_000, rss_mb(), container_sizes(state, emulator, views))
                result.samples.append(sample)
                if on_sample is not None:
                    on_sample(sample)
                next_sample += sample_every_ms
            if now_ms + step_ms > end_ms:
                break
            clock.advance(step_ms)
    finally:
        await runtime.aclose()
    result.wall_s = time.perf_counter() - wall0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--step-min", type=float, default=3.0, help="simulated minutes per step")
    parser.add_argument("--coins", type=int, default=20, help="basket size (the first N of the default basket)")
    args = parser.parse_args()
    from tui.runtime.config import load_config

    basket = [c for c in load_config(use_user_file=False).general.coins if c != "BTC"][: args.coins]
    keys = ("btc_intraday", "alt_hourly_max", "alt_daily_max", "liq_tape", "funding_history", "oi_history",
            "global_history", "emulator_requests")  # fmt: skip
    print(f"{'sim h':>6s} {'RSS MB':>8s} " + " ".join(f"{k:>17s}" for k in keys))

    def show(sample: Sample) -> None:
        cells = " ".join(f"{sample.sizes[k]:17d}" for k in keys)
        print(f"{sample.hour:6.1f} {sample.rss_mb:8.1f} {cells}", flush=True)

    result = asyncio.run(soak(args.hours, args.step_min, basket, on_sample=show))
    print(f"simulated {args.hours:g} h in {result.wall_s:.0f} s wall, {result.feed_runs} feed runs, "
          f"failures: {result.failures or 'none'}")  # fmt: skip
    print(f"peak RSS {result.peak_rss_mb:.1f} MB (target <= 200 MB); growth over the second half "
          f"{result.growth_second_half_mb():+.1f} MB; hourly frames <= {result.hourly_cap} + 1 bars")  # fmt: skip


if __name__ == "__main__":
    main()
