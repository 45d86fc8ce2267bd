"""The polling scheduler: each feed runs as its own loop on its own cadence, never overlapping itself.

On failure a feed backs off exponentially with full jitter (capped), honours a provider's ``Retry-After`` on rate
limits, and polls a source that refuses us for good reason (HTTP 451/403) only every ``unavailable_retry`` seconds.
``refresh_now`` wakes every feed (``run_now`` the named ones); ``pause`` holds them. The Textual app runs each
loop as a worker; the snapshot CLI calls :meth:`Scheduler.run_once`. No Textual import here, so it is tested with
plain asyncio.

A fetch may say what it delivered (:class:`Delivered`): the market time of its newest figure (the feed's data is
stale once that is older than ``Feed.max_data_age``) and a fingerprint of its values. A provider that answers 200
with the very same values poll after poll for longer than ``Feed.frozen_after`` (a price that has not moved for an
hour, every funding rate identical) is marked *suspect*: frozen data is not live data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from sources.errors import RateLimited, SourceError, SourceUnavailable
from tui.runtime.health import FeedHealth, format_age

log = logging.getLogger(__name__)

#: However fast a feed polls, its figures are not called stale sooner than this after its last good fetch.
MIN_STALE_AFTER = 30.0
#: A feed's figures are stale after this many of its cadences: config.toml's ``general.stale_factor`` ships the same
#: value, and :func:`tui.runtime.feeds.build_feeds` sets the configured one on every feed it builds.
DEFAULT_STALE_FACTOR = 3.0


@dataclass(frozen=True)
class Delivered:
    """What one fetch delivered: ``data_ms``, the market time (epoch ms) of its newest figure, and a
    ``fingerprint`` of its values (equal fingerprints: nothing moved)."""

    data_ms: float | None = None
    fingerprint: Hashable | None = None
    #: Nothing new since the last fetch (a follower reading a store the collector has not written to): the
    #: health is recorded, but the data version does not move, so no view rebuilds.
    unchanged: bool = False


@dataclass
class Feed:
    """A named fetch that updates the market state; ``run`` raises SourceError on failure and may return what
    it delivered (:class:`Delivered`).

    ``stale_after``: seconds after the last good fetch at which its figures are stale; 0 derives it as
    ``stale_factor`` x ``cadence`` (at least :data:`MIN_STALE_AFTER`). ``max_data_age``: seconds on the market clock
    after which the newest figure is stale (None: the feed has no data time). ``frozen_after``: seconds of identical
    fingerprints after which the data is suspect.
    """

    name: str
    provider: str
    cadence: float
    run: Callable[[], Awaitable[Delivered | None]]
    stale_after: float = 0.0
    stale_factor: float = DEFAULT_STALE_FACTOR
    max_data_age: float | None = None
    frozen_after: float | None = None
    health: FeedHealth = field(init=False)
    _fingerprint: Hashable | None = field(default=None, init=False, repr=False)
    _unchanged_since: float | None = field(default=None, init=False, repr=False)
    _derived_stale: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self._derived_stale = not self.stale_after
        if self._derived_stale:
            self.stale_after = max(self.stale_factor * self.cadence, MIN_STALE_AFTER)
        self.health = FeedHealth(self.name, self.provider, self.stale_after, max_data_age=self.max_data_age)

    def set_stale_factor(self, factor: float) -> None:
        """Mark figures stale after ``factor`` x cadence (at least :data:`MIN_STALE_AFTER`) from now on; a feed
        given its own ``stale_after`` keeps it."""
        self.stale_factor = factor
        if self._derived_stale:
            self.stale_after = self.health.stale_after = max(factor * self.cadence, MIN_STALE_AFTER)

    def delivered(self, result: Delivered | None, now: float) -> None:
        """Record a good fetch's data time and fingerprint; mark the feed suspect when its values froze."""
        health = self.health
        if result is None:
            return
        if result.data_ms is not None:
            health.data_as_of = float(result.data_ms) / 1000.0
        if result.fingerprint is None or self.frozen_after is None:
            return
        if result.fingerprint != self._fingerprint or self._unchanged_since is None:
            self._fingerprint, self._unchanged_since = result.fingerprint, now
            health.suspect = None
        elif now - self._unchanged_since > self.frozen_after:
            health.suspect = f"frozen {format_age(now - self._unchanged_since)}: identical values every poll"


class Scheduler:
    def __init__(
        self,
        feeds: list[Feed],
        on_update: Callable[[str], None] = lambda name: None,
        *,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        unavailable_retry: float = 1800.0,
        clock: Callable[[], float] = time.time,
        market_clock: Callable[[], float] | None = None,
        versions: dict[str, int] | None = None,
    ) -> None:
        self.feeds = {feed.name: feed for feed in feeds}
        #: feed -> how many times it delivered (the market state's data versions: views rebuild when one moves).
        self.versions = versions if versions is not None else {}
        #: Market time in epoch seconds (the replayed time in a replay); the wall clock when not given.
        self.market_clock = market_clock or clock
        for feed in feeds:
            feed.health.offset = self.market_offset
        self.on_update = on_update
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.unavailable_retry = unavailable_retry
        self.clock = clock
        self._wake: dict[str, asyncio.Event] = {}
        self._running = asyncio.Event()
        self._running.set()
        self.speed = 1.0  # cadence multiplier divisor (+/- keys)

    def market_offset(self) -> float:
        """Market time minus wall time, in seconds."""
        return self.market_clock() - self.clock()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()
        for feed in self.feeds.values():
            feed.health.paused = True

    def resume(self) -> None:
        self._running.set()
        for feed in self.feeds.values():
            feed.health.paused = False
        self.refresh_now()

    def first_round_done(self) -> bool:
        """Every feed has answered once, with data or with an error (the start-up's fetching is over)."""
        return all(h.as_of is not None or h.error is not None or h.unavailable
                   for h in (feed.health for feed in self.feeds.values()))  # fmt: skip

    def refresh_now(self) -> None:
        for event in self._wake.values():
            event.set()

    def run_now(self, names: list[str]) -> list[str]:
        """Wake the feeds ``names`` (those this scheduler runs) to fetch now, e.g. a coin that just came into view;
        returns the ones woken. A feed backing off after a failure is not hurried: its retry (a rate limit's
        Retry-After included) comes on its own, and a fetch under way is followed by another at once."""
        now = self.clock()
        woken = []
        for name in names:
            feed, event = self.feeds.get(name), self._wake.get(name)
            if feed is None or event is None or (feed.health.retry_at is not None and feed.health.retry_at > now):
                continue
            event.set()
            woken.append(name)
        return woken

    async def run_once(self, name: str) -> bool:
        """Run one fetch of ``name`` and record its health; returns True on success."""
        feed = self.feeds[name]
        health = feed.health
        try:
            result = await feed.run()
        except RateLimited as exc:
            self._failed(health, str(exc), exc.retry_after)
            return False
        except SourceUnavailable as exc:
            health.unavailable = True
            self._failed(health, _brief(exc), self.unavailable_retry)
            return False
        except SourceError as exc:
            self._failed(health, _brief(exc), self._backoff(health.failures + 1))
            return False
        except Exception as exc:  # a bug in a parser must not kill the feed loop or the app
            log.exception("feed %s crashed", name)
            self._failed(health, f"internal error: {type(exc).__name__}: {exc}", self._backoff(health.failures + 1))
            return False
        health.as_of = self.clock()
        health.market_as_of = self.market_clock()
        feed.delivered(result if isinstance(result, Delivered) else None, health.market_as_of)
        health.failures = 0
        health.error = None
        health.retry_at = None
        health.unavailable = False
        if isinstance(result, Delivered) and result.unchanged:
            return True
        self.versions[name] = self.versions.get(name, 0) + 1
        self.on_update(name)
        return True

    def _failed(self, health: FeedHealth, reason: str, delay: float) -> None:
        health.failures += 1
        health.error = reason
        health.retry_at = self.clock() + delay
        self.on_update(health.name)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** min(failures, 16))
        # Full jitter, but never hammer: at least the base delay.
        return max(self.backoff_base, random.uniform(0, ceiling))

    async def run_feed(self, name: str) -> None:
        """The feed's loop: fetch, then sleep its cadence (or its back-off) unless woken by refresh."""
        feed = self.feeds[name]
        wake = self._wake.setdefault(name, asyncio.Event())
        while True:
            await self._running.wait()
            wake.clear()
            ok = await self.run_once(name)
            if ok:
                delay = feed.cadence / self.speed
            else:
                delay = max(0.0, (feed.health.retry_at or self.clock()) - self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=delay)

    async def run_all_once(self, names: list[str] | None = None) -> dict[str, bool]:
        """One pass of every feed, concurrently (the snapshot CLI)."""
        selected = names or list(self.feeds)
        results = await asyncio.gather(*(self.run_once(n) for n in selected))
        return dict(zip(selected, results, strict=True))


def _brief(exc: SourceError) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."
