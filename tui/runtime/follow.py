"""A follower: a console that reads a collector's store instead of polling the providers.

``altpulse collect`` polls and records; ``altpulse --follow [STORE]`` runs the same feeds, but each one reads the
collector's latest delivery of it from the store (``feed_state``) instead of a provider, so N consoles on one host
cost one set of API calls. The follower's HTTP client refuses every request: it polls nothing itself.

What a follower shows is what the collector fetched, with the collector's times: a feed's age is the age of the
collector's fetch, a feed the collector cannot fetch shows the collector's error, and when the collector stops its
figures go stale with their age like any feed that stopped answering. The liquidation tape is the store's, tailed
once a second, and each stream's health is the collector's (``stream_<venue>``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sources.errors import SourceError
from tui.runtime.recording import STREAM_PREFIX, feed_fields, restore_tape
from tui.runtime.scheduler import Delivered, Feed
from tui.runtime.state import TAPE

if TYPE_CHECKING:
    from collections.abc import Callable

    from store.base import FeedRecord
    from store.sqlite import SqliteStore
    from tui.runtime.config import Config
    from tui.runtime.modes import Runtime
    from tui.runtime.state import MarketState

#: A follower reads the store this often (seconds) whatever the feed's own cadence: it costs one local query.
FOLLOW_EVERY = 1.0
#: The collector is gone when its heartbeat is older than this many of its flushes (and at least 10 s).
DEAD_AFTER_FLUSHES = 5


@dataclass
class StoreTail:
    """The newest ``feed_state`` row of every feed, read from the store at most once per ``every`` seconds."""

    store: SqliteStore
    every: float = FOLLOW_EVERY
    latest: dict[str, FeedRecord] = field(default_factory=dict)
    _seq: int = 0
    _read_at: float = 0.0
    heartbeat_ms: int | None = None
    writer_pid: int | None = None

    def poll(self) -> None:
        now = time.monotonic()
        if now - self._read_at < self.every and self._read_at:
            return
        self._read_at = now
        for record in self.store.feed_records(self._seq):
            self.latest[record.feed] = record
            self._seq = max(self._seq, record.seq)
        sessions = self.store.sessions()
        writers = [s for s in sessions if s.role != "seed"]
        self.heartbeat_ms = max((s.heartbeat_ms for s in writers), default=None)
        self.writer_pid = self.store.writer_pid()

    def collector_state(self, flush_seconds: float) -> str | None:
        """None while a collector writes; otherwise why the figures are not being renewed."""
        if self.writer_pid is None:
            return "no collector is recording into this store"
        if self.heartbeat_ms is not None:
            silent = time.time() - self.heartbeat_ms / 1000
            if silent > max(10.0, DEAD_AFTER_FLUSHES * flush_seconds):
                return f"the collector has not written for {int(silent)} s"
        return None


class MirrorFeed(Feed):
    """A feed whose fetch is reading the collector's delivery; its health carries the collector's times."""

    record: FeedRecord | None = None

    def delivered(self, result: Delivered | None, now: float) -> None:
        super().delivered(result, now)
        record = self.record
        if record is None:
            return
        health = self.health
        # The age shown is the collector's fetch's, not this read's: a stopped collector's data goes stale.
        health.as_of = record.wall_ms / 1000 if record.wall_ms else health.as_of
        health.data_as_of = None if record.data_ms is None else record.data_ms / 1000
        health.suspect = record.health.get("suspect")


def follow_feeds(config: Config, runtime: Runtime, state: MarketState, store: SqliteStore,
                 template: list[Feed]) -> tuple[list[Feed], StoreTail]:  # fmt: skip
    """One mirror per feed of ``template`` (the console's own feeds: their names, providers and staleness)."""
    tail = StoreTail(store)
    applied: dict[str, int] = {}
    flush = config.store.flush_seconds

    def mirror(original: Feed) -> Feed:
        name = original.name

        async def run() -> Delivered:
            from store.base import StoreError

            try:
                tail.poll()
            except StoreError as exc:
                raise SourceError("store", name, str(exc)) from None
            record = tail.latest.get(name)
            feed.record = record
            if record is None:
                why = tail.collector_state(flush) or "the collector has not delivered it yet"
                raise SourceError(original.provider, name, f"not in the store: {why}")
            health = record.health
            if health.get("failures") and health.get("error") and record.seq != applied.get(name, -1):
                applied[name] = record.seq
                raise SourceError(original.provider, name, f"collector: {health['error']}")
            if record.seq == applied.get(name):
                return Delivered(record.data_ms, unchanged=True)
            applied[name] = record.seq
            if record.payload is not None:
                from tui.runtime.recording import apply_payload
                from tui.runtime.state_codec import loads

                apply_payload(store, state, loads(record.payload))
            return Delivered(record.data_ms)

        feed = MirrorFeed(name, original.provider, min(original.cadence, FOLLOW_EVERY), run,
                          stale_after=original.stale_after, max_data_age=original.max_data_age)  # fmt: skip
        return feed

    return [mirror(f) for f in template if feed_fields(f.name)], tail


@dataclass
class MirroredStream:
    """A liquidation stream as the collector last reported it (``.status()`` like a real stream's)."""

    name: str
    status_record: Any = None
    collector_gone: str | None = None
    lower_bound: bool = False

    @property
    def state(self) -> str:
        if self.collector_gone or self.status_record is None:
            return "offline"
        return str(self.status_record.state)

    @property
    def records(self) -> int:
        return 0 if self.status_record is None else int(self.status_record.records)

    @property
    def connections(self) -> int:
        return 1 if self.state == "live" else 0

    def status(self) -> Any:
        from dataclasses import replace

        from sources.ws import StreamStatus

        if self.status_record is None:
            return StreamStatus(self.name, "offline", None, None, 0, self.collector_gone or "not in the store yet",
                                None, self.lower_bound, 0, 0)  # fmt: skip
        if self.collector_gone:
            return replace(self.status_record, state="offline", error=self.collector_gone, connected_at=None)
        return self.status_record

    def stop(self) -> None:
        """Nothing runs here: the collector owns the connection."""


class TapeFollower:
    """Tails the store's liquidations into the tape and mirrors the collector's stream health, once a second."""

    def __init__(self, config: Config, runtime: Runtime, state: MarketState, store: SqliteStore, tail: StoreTail,
                 on_update: Callable[[str], None], frame: Any = None) -> None:  # fmt: skip
        from analytics.liquidations import LiquidationTape

        self.config, self.runtime, self.state, self.store, self.tail = config, runtime, state, store, tail
        self.on_update = on_update
        tape = LiquidationTape()
        state.liq_tape = tape
        now = runtime.now_ms()
        # The frame and the row id it reaches come from one read: the tail goes on from there, no row lost or twice.
        stored = frame if frame is not None else (store.liquidations_as_of(now - 35 * 86_400_000, now))
        self._rowid = stored[1]
        self.restored = restore_tape(store, tape, now, frame=stored[0])
        state.liq_streams = {v: MirroredStream(v, lower_bound=v == "binance") for v in ("binance", "bybit", "okx")}
        self.step()

    def step(self) -> None:
        """Read what the collector added since the last step."""
        from store.base import MIN_GAP_MS, coverage_gaps

        tape = self.state.liq_tape
        assert tape is not None
        frame, self._rowid = self.store.liquidations_after(self._rowid, self.runtime.now_ms())
        changed = bool(len(frame))
        if changed:
            tape.extend_frame(frame)
        self.tail.poll()
        gone = self.tail.collector_state(self.config.store.flush_seconds)
        for venue, stream in self.state.liq_streams.items():
            record = self.tail.latest.get(STREAM_PREFIX + venue)
            status = None
            if record is not None and record.payload is not None:
                from tui.runtime.state_codec import loads

                status = loads(record.payload)
            assert isinstance(stream, MirroredStream)
            if (status, gone) != (stream.status_record, stream.collector_gone):
                stream.status_record, stream.collector_gone = status, gone
                changed = True
        since = tape.recorded_since_ms
        if since is not None:
            gaps = tuple(coverage_gaps(self.store.sessions(), since, self.runtime.now_ms(), MIN_GAP_MS))
            if gaps != tape.gaps:
                tape.gaps = gaps
                changed = True
        if changed:
            self.state.bump(TAPE)
            self.on_update(TAPE)

    async def run(self) -> None:
        import asyncio

        while True:
            await asyncio.sleep(FOLLOW_EVERY)
            try:
                self.step()
            except SourceError:
                continue
            except Exception as exc:  # the store went away under us: keep the console up, say so
                from store.base import StoreError

                if not isinstance(exc, StoreError):
                    raise
                for stream in self.state.liq_streams.values():
                    if isinstance(stream, MirroredStream):
                        stream.collector_gone = str(exc)
                self.on_update(TAPE)
