"""The one boot path: config and mode in; runtime, market state, feeds, scheduler and view builder out.

The app and the ``snapshot`` and ``status`` commands all start here, so a feed, a transport or a replay rule is wired
in one place (``doctor`` probes the real providers with a client of its own: it boots no console). Demo and replay
build an emulator and reach the console only through what it answers: an HTTP transport, a websocket opener and a
recorded liquidation tape (:class:`tui.runtime.modes.Runtime`). The emulator handle is kept on the :class:`Session`
for tests and tools that inject faults or move its clock, never read by the runtime, the views or the app.
"""

from __future__ import annotations

import logging
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
    from tui.runtime.follow import StoreTail, TapeFollower
    from tui.runtime.recording import Recorder, Restored
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState
    from tui.views.alerts import Alerting
    from tui.views.builder import ViewBuilder


@dataclass(frozen=True)
class Launch:
    """What to run: the mode and its arguments (``--replay DIR --at TIME --speed X``); ``now_ms`` freezes a demo's
    clock (tests, layout snapshots)."""

    mode: str = "live"  # "live" | "demo" | "replay" | "follow"
    replay_dir: Path | None = None  # a folder of history files, or a recorder store
    at: str | None = None
    speed: float = 1.0
    now_ms: int | None = None
    #: Record into the store (None: ``[store] record``, except a frozen demo: tests and layout snapshots).
    record: bool | None = None
    #: The store to record into or to follow (None: the mode's default, :func:`tui.runtime.recording.store_path`).
    store: Path | None = None
    role: str = "console"  # "console" | "collector": what the store's session says wrote it
    #: Evaluate the ``[[alerts]]`` rules and send them (None: a console does, a headless collector does not).
    alerts: bool | None = None


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
    recorder: Recorder | None = None  # None: not recording (replay, follow, --no-record, or the store refused)
    follower: TapeFollower | None = None  # follow mode: the store's tape and stream health, tailed
    tail: StoreTail | None = None
    #: The store read at start (follow, restore) and what starting found worth saying about it.
    restored_feeds: list[str] = field(default_factory=list)
    restored_tape: Restored | None = None
    #: The store's tape, read in the boot thread (None: nothing recorded); consumed when the streams start.
    stored_tape: Any = None
    #: The ``[[alerts]]`` rules, routes and log (None: this session sends no alerts, e.g. a plain collector).
    alerting: Alerting | None = None

    def start_streams(self, on_update: Callable[[str], None] | None = None) -> list[LiquidationStream]:
        """Create the liquidation tape (restored from a recording where there is one) and its three streams, not
        yet running; returns the streams to run as workers. ``on_update(TAPE)`` is called when the tape or a
        stream's state changed."""
        from tui.runtime.feeds_derivs import start_liquidation_tape

        if self.runtime.mode == "follow":
            from tui.runtime.follow import TapeFollower

            assert self.tail is not None
            frame, self.stored_tape = self.stored_tape, None
            self.follower = TapeFollower(self.config, self.runtime, self.state, self.tail.store, self.tail,
                                         on_update or (lambda name: None), frame)  # fmt: skip
            self.restored_tape = self.follower.restored
            return []
        recorder = self.recorder
        restore = None if recorder is None else (lambda tape: self._restore_tape(recorder, tape))
        self.streams = start_liquidation_tape(self.config, self.runtime, self.state, on_update, restore=restore)
        release_freed_memory()  # the seed's temporaries (the demo's 35 days of tape: ~30 MB), now codes in the tape
        if recorder is not None:
            tape = self.state.liq_tape
            if self.restored_tape is None and tape is not None and len(tape) and tape.recorded_since_ms is not None:
                # A store without liquidations yet: the seed the tape holds (the demo's simulated past) is
                # recorded, as a ``seed`` session, so the next start restores it too.
                recorder.record_seed(tape.recorded_since_ms, int(self.runtime.now_ms()))
            recorder.writer.start()
        return self.streams

    def _restore_tape(self, recorder: Recorder, tape: Any) -> bool:
        """Fill the new tape from the store when the store has liquidations (True: nothing else seeds it)."""
        from tui.runtime.recording import restore_tape

        stored, self.stored_tape = self.stored_tape, None
        if stored is None:
            return False
        frame = stored[0]
        self.restored_tape = restore_tape(recorder.store, tape, int(self.runtime.now_ms()), recorder.session, frame)
        recorder.skip_tape_rows(tape)
        del frame, stored
        release_freed_memory()  # the frame's strings, now codes in the tape's arrays
        return True

    def tick(self) -> None:
        """Once a second (the app's tick, the collector's loop): hand new tape rows to the recorder."""
        if self.recorder is not None:
            self.recorder.tick()
        if self.alerting is not None:
            try:
                self.alerting.tick()
            except Exception:  # a rule bug must not stop the console or the recording; the log has it
                logging.getLogger(__name__).exception("evaluating alert rules failed")

    def housekeep(self) -> int:
        """Once a minute (``PRUNE_REFS_EVERY_S``): drop the dead weak references pandas keeps on the frames this
        session holds (the state, the views' memo, the demo's market; :mod:`tui.runtime.pandas_refs`), then hand
        the heap's free pages back to the OS (:mod:`tui.runtime.malloc_tuning`). Returns the reference lists swept."""
        from tui.runtime.malloc_tuning import release_free_memory
        from tui.runtime.pandas_refs import sweep_dead_references

        swept = 0
        try:
            swept = sweep_dead_references(self.state, self.views, self.emulator)
        except Exception:  # housekeeping must never stop the console; the log has it
            logging.getLogger(__name__).exception("pruning pandas' dead references failed")
        release_free_memory()
        return swept

    def evaluate_drivers(self) -> list[Any]:
        """Re-evaluate the drivers (returns the flips), record every state change and run the flip alerts."""
        flips = self.views.evaluate_drivers()
        if self.recorder is not None:
            self.recorder.drivers(self.views.drivers_book.states)
        if self.alerting is not None:
            try:
                self.alerting.on_drivers(self.views.drivers_book.states)
            except Exception:
                logging.getLogger(__name__).exception("evaluating alert rules failed")
        return flips

    async def aclose(self) -> None:
        for stream in self.streams:
            stream.stop()
        if self.alerting is not None:
            await self.alerting.router.aclose()
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        if self.tail is not None:
            self.tail.store.close()
        await self.runtime.aclose()

    def close_recorder(self) -> None:
        """Commit what is pending and close the store (also from a signal or atexit: no event loop needed)."""
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None


def boot(config: Config, launch: Launch, on_update: Callable[[str], None] | None = None) -> Session:
    """Build the runtime for ``launch`` and everything above it. ``on_update(feed)`` is called when a feed
    delivers or fails (the app posts a message from it).

    Live and demo record into their store (unless ``launch.record`` or ``[store] record`` say not) and restore
    from it first: each feed's latest delivery now, the liquidation tape when the streams start. A follower reads
    the store instead of the providers (:mod:`tui.runtime.follow`)."""
    from tui.runtime.feeds import build_feeds
    from tui.runtime.malloc_tuning import tune_allocator
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState
    from tui.views.builder import ViewBuilder

    # Before the boot's big temporaries (a kline page's arrays): they get mappings of their own, returned when freed.
    tune_allocator()

    notify = on_update or (lambda name: None)
    state = MarketState()
    if launch.mode == "follow":
        from tui.runtime.follow import follow_feeds

        reader = _open_follow_store(config, launch)
        runtime = _follow_runtime(config, reader)
        feeds, tail = follow_feeds(config, runtime, state, reader, build_feeds(config, runtime, state))
        # A follower never backs off for long: the collector's feed failing is news to read again in a second.
        scheduler = Scheduler(feeds, on_update=notify, backoff_base=1.0, backoff_cap=2.0, unavailable_retry=2.0,
                              market_clock=lambda: runtime.now_ms() / 1000, versions=state.version)  # fmt: skip
        views = ViewBuilder(config, runtime, state, scheduler)
        from tui.runtime.recording import read_tape

        return Session(config, runtime, state, scheduler, views, None, tail=tail,
                       stored_tape=read_tape(reader, int(runtime.now_ms())),
                       alerting=_alerting(config, launch, runtime, views))  # fmt: skip
    runtime, emulator = build_runtime(config, launch)
    feeds = build_feeds(config, runtime, state)
    recorder = None
    record = launch.record if launch.record is not None else (config.store.record and launch.now_ms is None)
    if record and runtime.mode in ("live", "demo"):
        from tui.runtime.recording import open_recorder

        recorder, notes = open_recorder(config, runtime, state, role=launch.role, path=launch.store)
        runtime.notes.extend(notes)

    def updated(name: str) -> None:
        if recorder is not None:
            recorder.feed_updated(name)
        notify(name)

    scheduler = Scheduler(feeds, on_update=updated,
                          market_clock=lambda: runtime.now_ms() / 1000, versions=state.version)  # fmt: skip
    restored: list[str] = []
    stored_tape: Any = None
    if recorder is not None:
        from tui.runtime.recording import restore_feeds

        recorder.feeds = scheduler.feeds
        from tui.runtime.recording import read_tape

        now = int(runtime.now_ms())
        restored = restore_feeds(recorder.store, state, scheduler.feeds, now)
        stored_tape = read_tape(recorder.store, now)
        release_freed_memory()  # the restore's temporaries: handed back, not kept for the whole run
    views = ViewBuilder(config, runtime, state, scheduler)
    if recorder is not None:
        views.recording_failed = lambda: recorder.writer.failed
    alerting = _alerting(config, launch, runtime, views)
    return Session(config, runtime, state, scheduler, views, emulator, recorder=recorder, restored_feeds=restored,
                   stored_tape=stored_tape, alerting=alerting)  # fmt: skip


def _alerting(config: Config, launch: Launch, runtime: Runtime, views: ViewBuilder) -> Alerting | None:
    """The session's alerting (see :attr:`Launch.alerts`); a frozen demo (tests, layout snapshots) keeps no log."""
    if not (launch.alerts if launch.alerts is not None else launch.role == "console"):
        return None
    from tui.views.alerts import Alerting

    alerting = Alerting(config, runtime, views.metrics, log_file=launch.now_ms is None)
    views.alert_problem = lambda: alerting.problem
    return alerting


def _open_follow_store(config: Config, launch: Launch) -> Any:
    from store.base import StoreError
    from store.sqlite import SqliteStore
    from tui.runtime.recording import store_path

    path = launch.store or store_path(config, "live")
    try:
        return SqliteStore(path, "live")
    except StoreError as exc:
        raise UsageError(f"--follow: {exc}") from None


def _follow_runtime(config: Config, store: Any) -> Runtime:
    """A follower's runtime: the wall clock, and an HTTP client that refuses every request (it polls nothing)."""
    import httpx

    from sources.http import HttpClient

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"a follower polls no provider ({request.url.host})", request=request)

    http = HttpClient(httpx.MockTransport(refuse), timeout=config.sources.timeout_seconds, budgets={})
    simulated = store.mode == "demo"
    name = Path(store.path).name
    label = ("SIMULATED DATA · " if simulated else "") + f"FOLLOW {name} · polls no provider"
    return Runtime("follow", label, http, lambda: int(time.time() * 1000), simulated=simulated)


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

        if replay_dir is None or not replay_dir.exists():
            raise ValueError(f"--replay: {replay_dir} does not exist")
        if replay_dir.is_file():  # a recorder store: the same emulator path as a folder of files
            from emulator.replay_store import load_store_dataset
            from store.base import StoreError

            try:
                dataset = load_store_dataset(replay_dir)
            except StoreError as exc:
                raise UsageError(f"--replay: {exc}") from None
        else:
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
        if dataset.simulated:  # a demo collector's store: still simulated data
            label = "SIMULATED DATA · " + label
        runtime = _emulated(emulator, "replay", label, timeout, simulated=dataset.simulated)
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


def load_history(path: Path) -> Any:
    """The replay engine's dataset of ``path`` (a folder of history files or a recorder store), loaded as ``--replay``
    loads it, for ``altpulse backtest``: the same files, the same parsers, nothing served. Raises ``UsageError``."""
    from emulator.replay import load_replay_dataset

    if not path.exists():
        raise UsageError(f"--replay: {path} does not exist (a folder of files or a store)")
    if path.is_file():
        from emulator.replay_store import load_store_dataset
        from store.base import StoreError

        try:
            dataset = load_store_dataset(path)
        except StoreError as exc:
            raise UsageError(f"--replay: {exc}") from None
    else:
        dataset = load_replay_dataset(path)
    if dataset.start_ms is None:
        raise UsageError(f"--replay {path}: no usable data files ({len(dataset.skipped_files)} skipped)")
    return dataset


def timeline_history(session: Session) -> tuple[Any, int, str]:
    """The history the drivers timeline reads: (dataset, the market clock's now in ms, what it is).

    Demo and replay: the dataset the emulator serves (the demo's simulated market, the replay files or store),
    the same frames :func:`load_history` returns; the timeline cuts it at now (the demo's market runs a day past
    it). Live and follow: the recorder's store, loaded as ``--replay STORE`` loads it. Raises ``UsageError`` when
    there is none (``--no-record``). Slow (a store is read whole): call it from a thread."""
    now = int(session.runtime.now_ms())
    if session.emulator is not None:
        dataset = session.emulator.dataset
        name = Path(str(dataset.name).removeprefix("replay:")).name
        label = "the demo's simulated history" if session.runtime.mode == "demo" else f"replay {name}"
        return dataset, now, label
    store = session.recorder.store if session.recorder is not None else None
    if store is None and session.tail is not None:
        store = session.tail.store
    if store is None:
        raise UsageError("no history to show: this console records nothing (--no-record, or the store refused); "
                         "run altpulse --demo, --replay DIR, or record first")  # fmt: skip
    path = Path(store.path)
    return load_history(path), now, f"the store {path.name}"
