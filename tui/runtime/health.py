"""Per-feed health as a trader sees it: live, stale (with age), retrying (in N s, why), offline, unavailable, and
suspect (answering, but with data that does not move or has gone silent).

Two clocks. *Fetching* is judged on the wall clock (is the feed answering on its cadence?); the *data* is judged on
the market clock (how old is the newest figure it delivered?), so a replay applies the live rules to replayed
time: a file that ended a month before ``--at`` is stale, not current. ``offset()`` is market time minus wall time
(0 live). Kept free of Textual and pandas so the status bar, the snapshot CLI and the tests share one definition.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def format_age(seconds: float) -> str:
    """Compact age: 45s, 3m, 2h, 4d."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)}s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)}m"
    if seconds < 36 * 3600:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _stamp(epoch_s: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M}" if moment.second or moment.minute or moment.hour else f"{moment:%Y-%m-%d}"


@dataclass
class FeedHealth:
    """What the console knows about one feed.

    ``as_of``: wall time (epoch s) of the last good fetch. ``data_as_of``: market time (epoch s) of the newest
    figure that fetch delivered, when the feed reports one; the data is stale once it is older than
    ``max_data_age`` on the market clock. ``suspect``: a reason to distrust data that still arrives (a frozen
    price, identical funding poll after poll), set by the feed's own checks.
    """

    name: str
    provider: str
    stale_after: float
    as_of: float | None = None
    error: str | None = None
    retry_at: float | None = None
    failures: int = 0
    unavailable: bool = False
    paused: bool = False
    market_as_of: float | None = None  # the last good fetch on the market clock (replayed time in a replay)
    data_as_of: float | None = None
    max_data_age: float | None = None
    suspect: str | None = None
    offset: Callable[[], float] = field(default=lambda: 0.0, repr=False)

    def market_now(self, now: float) -> float:
        return now + self.offset()

    def data_age(self, now: float | None = None) -> float | None:
        """Age of the newest figure on the market clock (None when the feed reports no data time)."""
        now = time.time() if now is None else now
        return None if self.data_as_of is None else self.market_now(now) - self.data_as_of

    def data_stale(self, now: float | None = None) -> bool:
        age = self.data_age(now)
        return age is not None and self.max_data_age is not None and age > self.max_data_age

    def status(self, now: float | None = None) -> str:
        """One of: waiting, live, stale, suspect, retrying, offline, unavailable, paused."""
        now = time.time() if now is None else now
        if self.unavailable:
            return "unavailable"
        if self.failures and self.retry_at is not None and self.retry_at > now:
            return "retrying" if self.as_of is not None or self.failures < 3 else "offline"
        if self.failures and self.as_of is None:
            return "offline" if self.failures >= 3 else "retrying"
        if self.as_of is None:
            return "waiting"
        if now - self.as_of > self.stale_after or self.data_stale(now):
            return "stale"
        if self.suspect:
            return "suspect"
        return "paused" if self.paused else "live"

    def is_fresh(self, now: float | None = None) -> bool:
        """True when its figures may be shown as current (fetched recently, data young enough, not suspect)."""
        now = time.time() if now is None else now
        return (
            self.as_of is not None
            and now - self.as_of <= self.stale_after
            and not self.unavailable
            and not self.data_stale(now)
            and not self.suspect
        )

    def age(self, now: float | None = None) -> float | None:
        now = time.time() if now is None else now
        return None if self.as_of is None else now - self.as_of

    def describe(self, now: float | None = None) -> str:
        """Short text for the status bar, e.g. ``stale 3m``, ``stale 35d (data to 2025-10-17)``,
        ``retrying in 8s: HTTP 503`` or ``frozen 1h (suspect)``."""
        now = time.time() if now is None else now
        status = self.status(now)
        if status in ("retrying", "offline"):
            text = status
            if self.retry_at is not None and self.retry_at > now:
                text += f" in {int(self.retry_at - now) + 1}s"
            if self.error:
                text += f": {self.error}"
            if self.as_of is not None:
                text += f" (data {format_age(now - self.as_of)} old)"
            return text
        if status == "stale":
            if self.data_stale(now):
                age = self.data_age(now) or 0.0
                text = f"stale {format_age(age)} (data to {_stamp(self.data_as_of or 0.0)})"
            else:
                text = f"stale {format_age(now - (self.as_of or now))}"
            return text + (f": {self.error}" if self.error else "")
        if status == "suspect":
            return f"{self.suspect} (suspect)"
        if status == "unavailable":
            return f"unavailable here: {self.error}" if self.error else "unavailable here"
        return status
