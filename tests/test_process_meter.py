"""The benchmarks' in-process meter: samples a run's CPU time and RSS, and reads the steady state off them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks.process_meter import Sample, last_rss_mb, read, start, steady_cpu_pct


def test_steady_cpu_is_the_slope_from_the_warmup_on() -> None:
    # Start-up burns 5 s of CPU in the first 10 s; then 0.3 s per 10 s: 3 %, whatever start-up cost.
    samples = [Sample(0.0, 0.0, 50.0), Sample(10.0, 5.0, 200.0), Sample(20.0, 5.3, 210.0), Sample(30.0, 5.6, 205.0)]
    assert steady_cpu_pct(samples, 10.0) == pytest.approx(3.0)
    assert steady_cpu_pct(samples, 0.0) == pytest.approx(5.6 / 30 * 100)
    assert last_rss_mb(samples) == 205.0


def test_too_short_a_window_or_no_rss_is_unknown() -> None:
    samples = [Sample(0.0, 0.0, None), Sample(3.0, 0.1, None)]
    assert steady_cpu_pct(samples, 0.0) is None  # under 5 s of samples
    assert steady_cpu_pct(samples, 10.0) is None  # nothing after the warm-up
    assert last_rss_mb(samples) is None
    assert read(Path("/nonexistent/meter.txt")) == []


def test_the_thread_samples_this_process(tmp_path: Path) -> None:
    out = tmp_path / "meter.txt"
    stop = start(out, every_s=0.02)
    try:
        deadline = time.monotonic() + 10
        while len(read(out)) < 4 and time.monotonic() < deadline:
            sum(i * i for i in range(20_000))  # some CPU for the meter to see
            time.sleep(0.01)
    finally:
        stop.set()
    samples = read(out)
    assert len(samples) >= 4
    assert [s.seconds for s in samples] == sorted(s.seconds for s in samples)
    assert samples[-1].cpu_s >= samples[0].cpu_s > 0
    if Path("/proc/self/status").is_file():
        assert all(s.rss_mb is not None and s.rss_mb > 1 for s in samples)
