"""Live, demo and replay differ only in the transport the sources are given; this module builds that runtime.

Live: the real network. Demo: an in-process emulator over a seeded simulation. Replay: the same emulator over real
history files, its virtual clock starting at ``--at``. Everything above the transport is identical; only
``Runtime.label`` (the on-screen banner) says which mode runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.runtime.config import Config


@dataclass
class Runtime:
    mode: str  # "live" | "demo" | "replay"
    label: str
    http: Any  # sources.http.HttpClient
    now_ms: Callable[[], int]
    emulator: Any = None  # emulator.Emulator in demo/replay
    simulated: bool = False
    notes: list[str] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.http.aclose()

    def clock_offset(self) -> float:
        """Market time minus wall time, in seconds (0 live): what turns a fetch's wall time into market time."""
        return self.now_ms() / 1000 - time.time()

    def recorded_liquidations(self, now_ms: int) -> Any:
        """A previously recorded liquidation tape up to ``now_ms`` (long frame), or None.

        Live has no keyless liquidation history, so it records from start-up. Demo and replay hand back the
        dataset's tape as if it had been recorded earlier (demo's is simulated, and labelled so on screen).
        """
        if self.emulator is None:
            return None
        frame = self.emulator.dataset.liquidations
        if frame is None or not len(frame):
            return None
        return frame[frame["time"] <= now_ms]


class UsageError(ValueError):
    """A mode argument the data cannot satisfy (e.g. ``--at`` outside the replay's span): exit 2 with this text."""


def _span_text(start_ms: int | None, end_ms: int | None) -> str:
    import pandas as pd

    def fmt(ms: int | None) -> str:
        return "?" if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")

    return f"{fmt(start_ms)} to {fmt(end_ms)}"


def parse_at(text: str) -> int:
    """``--at`` as epoch ms; accepts ISO-8601 with or without zone (UTC assumed)."""
    import pandas as pd

    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)


def release_freed_memory() -> None:
    """Hand the heap that building a dataset churned through back to the OS (glibc ``malloc_trim``).

    The demo simulation and the replay parsers allocate and free tens of MB of temporaries; glibc keeps the freed
    pages, so a console that runs for days would otherwise sit ~20 MB above what it uses. No-op elsewhere.
    """
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the process's own C library
    except OSError:
        return
    if trim is not None:  # glibc; musl and macOS have none
        trim(0)


def build_runtime(
    config: Config,
    mode: str,
    *,
    replay_dir: Path | None = None,
    at: str | None = None,
    speed: float = 1.0,
    now_ms: int | None = None,
) -> Runtime:
    """Create the shared HTTP client wired to the network or to an emulator."""
    from sources.http import HttpClient

    timeout = float(config["sources"]["timeout_seconds"])
    if mode == "live":
        http = HttpClient(timeout=timeout)
        return Runtime("live", "LIVE", http, lambda: int(time.time() * 1000))

    from emulator import Emulator, EmulatorTransport, VirtualClock

    if mode == "demo":
        from emulator.demo import build_demo_dataset

        dataset = build_demo_dataset(now_ms=now_ms)
        release_freed_memory()
        start = dataset.anchor_ms if hasattr(dataset, "anchor_ms") else (now_ms or int(time.time() * 1000))
        # A frozen demo (now_ms given: tests, snapshots) stands still; otherwise it runs at ``speed``.
        clock = VirtualClock(start_ms=start, speed=0.0 if now_ms is not None else speed)
        emulator = Emulator(dataset, clock)
        http = HttpClient(EmulatorTransport(emulator), timeout=timeout, budgets=_unlimited())
        return Runtime("demo", "SIMULATED DATA · demo", http, clock.now_ms, emulator, simulated=True)

    if mode == "replay":
        from emulator.replay import load_replay_dataset

        if replay_dir is None or not replay_dir.is_dir():
            raise ValueError(f"--replay: {replay_dir} is not a directory")
        dataset = load_replay_dataset(replay_dir)
        release_freed_memory()
        if dataset.start_ms is None:
            raise UsageError(f"--replay {replay_dir}: no usable data files ({len(dataset.skipped_files)} skipped)")
        if at is not None:
            start = parse_at(at)
            if not dataset.start_ms <= start <= (dataset.data_end_ms or start):
                raise UsageError(
                    f"--at {at}: outside the replay data, which spans "
                    f"{_span_text(dataset.start_ms, dataset.data_end_ms)} (default --at: the end of the price data)"
                )
        else:
            start = dataset.end_ms or dataset.data_end_ms or int(time.time() * 1000)
        clock = VirtualClock(start_ms=start, speed=speed)
        emulator = Emulator(dataset, clock)
        http = HttpClient(EmulatorTransport(emulator), timeout=timeout, budgets=_unlimited())
        label = f"REPLAY {replay_dir.name} @ virtual time" + (f" x{speed:g}" if speed != 1 else "")
        runtime = Runtime("replay", label, http, clock.now_ms, emulator)
        if at is None and dataset.end_note:
            runtime.notes.append(dataset.end_note)
        runtime.notes.extend(dataset.load_notes)
        if dataset.skipped_files:
            shown = "; ".join(dataset.skipped_files[:3]) + (" ..." if len(dataset.skipped_files) > 3 else "")
            runtime.notes.append(f"{len(dataset.skipped_files)} replay files skipped: {shown}")
        return runtime
    raise ValueError(f"unknown mode {mode!r}")


def _unlimited() -> dict[str, tuple[float, float]]:
    """The emulator has no rate limit of its own, but keep the live budgets so behaviour matches; the in-process
    transport answers in microseconds, so only backfill bursts would ever wait."""
    return {}
