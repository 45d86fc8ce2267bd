"""The polling scheduler: each feed runs as its own loop on its own cadence, never overlapping itself.

On failure a feed backs off exponentially with full jitter (capped), honours a provider's ``Retry-After`` on rate
limits, and polls a source that refuses us for good reason (HTTP 451/403) only every ``unavailable_retry`` seconds.
``refresh_now`` wakes every feed; ``pause`` holds them. The Textual app runs each loop as a worker; the snapshot
CLI calls :meth:`Scheduler.run_once`. No Textual import here, so it is tested with plain asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sources.errors import RateLimited, SourceError, SourceUnavailable
from tui.health import FeedHealth

log = logging.getLogger(__name__)


@dataclass
class Feed:
    """A named fetch that updates the market state; ``run`` raises SourceError on failure."""

    name: str
    provider: str
    cadence: float
    run: Callable[[], Awaitable[None]]
    stale_after: float = 0.0
    health: FeedHealth = field(init=False)

    def __post_init__(self) -> None:
        if not self.stale_after:
            self.stale_after = max(3 * self.cadence, 30.0)
        self.health = FeedHealth(self.name, self.provider, self.stale_after)


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
    ) -> None:
        self.feeds = {feed.name: feed for feed in feeds}
        self.on_update = on_update
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.unavailable_retry = unavailable_retry
        self.clock = clock
        self._wake: dict[str, asyncio.Event] = {}
        self._running = asyncio.Event()
        self._running.set()
        self.speed = 1.0  # cadence multiplier divisor (+/- keys)

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

    def refresh_now(self) -> None:
        for event in self._wake.values():
            event.set()

    async def run_once(self, name: str) -> bool:
        """Run one fetch of ``name`` and record its health; returns True on success."""
        feed = self.feeds[name]
        health = feed.health
        try:
            await feed.run()
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
        health.failures = 0
        health.error = None
        health.retry_at = None
        health.unavailable = False
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
