"""The one boot path: config and mode in; runtime, market state, feeds, scheduler and view builder out.

The app and the ``snapshot`` and ``status`` commands all start here, so a feed, a transport or a replay rule is wired
in one place (``doctor`` probes the real providers with a client of its own: it boots no console). Demo and replay
build an emulator and reach the console only through what it answers: an HTTP transport, a websocket opener and a
recorded liquidation tape (:class:`tui.runtime.modes.Runtime`). The emulator handle is kept on the :class:`Session`
for tests and tools that inject faults or move its clock, never read by the runtime, the views or the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.calendar import parse_utc_ms
from tui.runtime.config import Config
from tui.runtime.modes import Runtime, UsageError

if TYPE_CHECKING:
    from emulator import Emulator
    from sources.ws import LiquidationStream
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState
    from tui.views.builder import ViewBuilder


@dataclass(frozen=True)
class Launch:
    """What to run: the mode and its arguments (``--replay DIR --at TIME --speed X``); ``now_ms`` freezes a demo's
    clock (tests, layout snapshots)."""

    mode: str = "live"  # "live" | "demo" | "replay"
    replay_dir: Path | None = None
    at: str | None = None
    speed: float = 1.0
    now_ms: int | None = None


@dataclass
class Session:
    """A booted console: everything the app or a headless command drives."""

    config: Config
    runtime: Runtime
    state: MarketState
    scheduler: Scheduler
    views: ViewBuilder
    emulator: Emulator | None = None  # demo and replay only; for fault injection and clock control in tests
    streams: list[LiquidationStream] = field(default_factory=list)

    def start_streams(self, on_update: Callable[[str], None] | None = None) -> list[LiquidationStream]:
        """Create the liquidation tape (restored from a recording where there is one) and its three streams, not
        yet running; returns the streams to run as workers. ``on_update(TAPE)`` is called when the tape or a
        stream's state changed."""
        from tui.runtime.feeds_derivs import start_liquidation_tape

        self.streams = start_liquidation_tape(self.config, self.runtime, self.state, on_update)
        return self.streams

    async def aclose(self) -> None:
        for stream in self.streams:
            stream.stop()
        await self.runtime.aclose()


def boot(config: Config, launch: Launch, on_update: Callable[[str], None] | None = None) -> Session:
    """Build the runtime for ``launch`` and everything above it. ``on_update(feed)`` is called when a feed
    delivers or fails (the app posts a message from it)."""
    from tui.runtime.feeds import build_feeds
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState
    from tui.views.builder import ViewBuilder

    runtime, emulator = build_runtime(config, launch)
    state = MarketState()
    feeds = build_feeds(config, runtime, state)
    scheduler = Scheduler(feeds, on_update=on_update or (lambda name: None),
                          market_clock=lambda: runtime.now_ms() / 1000, versions=state.version)  # fmt: skip
    views = ViewBuilder(config, runtime, state, scheduler)
    return Session(config, runtime, state, scheduler, views, emulator)


def _span_text(start_ms: int | None, end_ms: int | None) -> str:
    import pandas as pd

    def fmt(ms: int | None) -> str:
        return "?" if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")

    return f"{fmt(start_ms)} to {fmt(end_ms)}"


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


def build_runtime(config: Config, launch: Launch) -> tuple[Runtime, Emulator | None]:
    """The runtime for ``launch``: the shared HTTP client and stream opener wired to the network or to an emulator
    (returned beside it, None live)."""
    from sources.http import HttpClient

    mode, replay_dir, at, speed, now_ms = launch.mode, launch.replay_dir, launch.at, launch.speed, launch.now_ms
    timeout = config.sources.timeout_seconds
    if mode == "live":
        http = HttpClient(timeout=timeout)
        return Runtime("live", "LIVE", http, lambda: int(time.time() * 1000)), None

    from emulator import Emulator, VirtualClock

    if mode == "demo":
        from emulator.demo import build_demo_dataset

        dataset = build_demo_dataset(now_ms=now_ms)
        release_freed_memory()
        start = dataset.anchor_ms if hasattr(dataset, "anchor_ms") else (now_ms or int(time.time() * 1000))
        # A frozen demo (now_ms given: tests, snapshots) stands still; otherwise it runs at ``speed``.
        clock = VirtualClock(start_ms=start, speed=0.0 if now_ms is not None else speed)
        emulator = Emulator(dataset, clock)
        return _emulated(emulator, "demo", "SIMULATED DATA · demo", timeout, simulated=True), emulator

    if mode == "replay":
        from emulator.replay import load_replay_dataset

        if replay_dir is None or not replay_dir.is_dir():
            raise ValueError(f"--replay: {replay_dir} is not a directory")
        dataset = load_replay_dataset(replay_dir)
        release_freed_memory()
        if dataset.start_ms is None:
            raise UsageError(f"--replay {replay_dir}: no usable data files ({len(dataset.skipped_files)} skipped)")
        if at is not None:
            start = parse_utc_ms(at)
            if not dataset.start_ms <= start <= (dataset.data_end_ms or start):
                raise UsageError(
                    f"--at {at}: outside the replay data, which spans "
                    f"{_span_text(dataset.start_ms, dataset.data_end_ms)} (default --at: the end of the price data)"
                )
        else:
            start = dataset.end_ms or dataset.data_end_ms or int(time.time() * 1000)
        clock = VirtualClock(start_ms=start, speed=speed)
        emulator = Emulator(dataset, clock)
        label = f"REPLAY {replay_dir.name} @ virtual time" + (f" x{speed:g}" if speed != 1 else "")
        runtime = _emulated(emulator, "replay", label, timeout)
        if at is None and dataset.end_note:
            runtime.notes.append(dataset.end_note)
        runtime.notes.extend(dataset.load_notes)
        if dataset.skipped_files:
            shown = "; ".join(dataset.skipped_files[:3]) + (" ..." if len(dataset.skipped_files) > 3 else "")
            runtime.notes.append(f"{len(dataset.skipped_files)} replay files skipped: {shown}")
        return runtime, emulator
    raise ValueError(f"unknown mode {mode!r}")


def _emulated(emulator: Emulator, mode: str, label: str, timeout: float, *, simulated: bool = False) -> Runtime:
    """A runtime whose every transport is ``emulator``: HTTP, websockets and the recorded liquidation tape.

    The emulator has no rate limit of its own and answers in microseconds, so no request budget is applied."""
    from emulator import EmulatorTransport
    from emulator.ws_streams import get_hub
    from sources.http import HttpClient

    http = HttpClient(EmulatorTransport(emulator), timeout=timeout, budgets={})

    def recorded(now_ms: int) -> Any:
        frame = emulator.dataset.liquidations
        if frame is None or not len(frame):
            return None
        return frame[frame["time"] <= now_ms]

    return Runtime(mode, label, http, emulator.clock.now_ms, simulated=simulated,
                   ws_opener=get_hub(emulator).opener(), recorded_tape=recorded)  # fmt: skip
