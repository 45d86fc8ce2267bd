"""A 24-hour accelerated soak of the demo data path (benchmarks/soak.py): memory stops growing after warm-up.

Every feed runs on its cadence against the demo emulator while the virtual clock jumps 15 simulated minutes a
step, and every view-model is rebuilt each step. Runs in CI with the rest of the suite (about 30-60 s on a
2-core machine); it asserts bounds on memory and containers, never on time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.soak import Sample, SoakResult

REPO = Path(__file__).resolve().parents[1]
#: The soak runs in a process of its own: in a test worker, the garbage other tests leave (freed late, or held
#: by the allocator) shows in this process's RSS and reads as growth that the data path never made.
RUN = """
import asyncio, dataclasses, json
from benchmarks.soak import soak
result = asyncio.run(soak(hours=24, step_min=15, coins=["ETH", "SOL"], samples=24))
print(json.dumps(dataclasses.asdict(result)))
"""

#: RSS may wobble by allocator noise once everything is warm (measured: +0.3 MB over the second half, since the
#: console prunes pandas' dead weak references once a minute; +10-14 MB without); a leak of one frame per step
#: would be far above.
RSS_GROWTH_LIMIT_MB = 6.0


@pytest.mark.timeout(900)
def test_day_long_soak_keeps_memory_and_containers_bounded() -> None:
    done = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, cwd=REPO, timeout=880)
    assert done.returncode == 0, done.stderr[-2000:]
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    result = SoakResult(**{**raw, "samples": [Sample(**sample) for sample in raw["samples"]]})

    assert not result.failures, result.failures
    assert result.samples[-1].hour >= 23.5
    # RSS: flat over the second half of the day.
    assert result.growth_second_half_mb() < RSS_GROWTH_LIMIT_MB, [round(s.rss_mb, 1) for s in result.samples]

    first, last = result.samples[0].sizes, result.samples[-1].sizes
    for sample in result.samples:
        sizes = sample.sizes
        assert sizes["btc_intraday"] <= 26 * 12 + 1
        assert sizes["alt_hourly_max"] <= result.hourly_cap + 1
        assert sizes["alt_daily_max"] <= first["alt_daily_max"] + 2  # one new daily bar per day at most
        assert sizes["funding_history"] <= 3 * 14  # 3 coins x (12 periods + slack)
        assert sizes["oi_history"] <= 3 * 26
        assert sizes["emulator_requests"] <= 10_001
        # One version per feed (35 feeds, the coin detail's per-venue funding among them), never per step.
        assert sizes["versions"] <= 40 and sizes["memo_entries"] <= 64 and sizes["alt_coins"] <= 4
    # The tape is trimmed to 35 days: after a day it holds no more than at the start plus a day of new rows.
    assert last["liq_tape"] <= first["liq_tape"] + max(s["liq_tape"] for s in [first, last]) // 35 + 5_000
    # The emulator memoises per dataset frame (coin x bar size x kind), never per request or per time: a few
    # entries for each of the demo's ~280 coins, however long it runs.
    assert last["emulator_cache"] <= 4 * 300
