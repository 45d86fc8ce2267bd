"""Per-feed health as a trader sees it: live, stale (with age), retrying (in N s, why), offline, unavailable.

Kept free of Textual and pandas so the status bar, the snapshot CLI and the tests share one definition.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


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


@dataclass
class FeedHealth:
    """What the console knows about one feed. ``as_of`` is the wall time (epoch s) of the last good fetch."""

    name: str
    provider: str
    stale_after: float
    as_of: float | None = None
    error: str | None = None
    retry_at: float | None = None
    failures: int = 0
    unavailable: bool = False
    paused: bool = False

    def status(self, now: float | None = None) -> str:
        """One of: waiting, live, stale, retrying, offline, unavailable, paused."""
        now = time.time() if now is None else now
        if self.unavailable:
            return "unavailable"
        if self.failures and self.retry_at is not None and self.retry_at > now:
            return "retrying" if self.as_of is not None or self.failures < 3 else "offline"
        if self.failures and self.as_of is None:
            return "offline" if self.failures >= 3 else "retrying"
        if self.as_of is None:
            return "waiting"
        if now - self.as_of > self.stale_after:
            return "stale"
        return "paused" if self.paused else "live"

    def is_fresh(self, now: float | None = None) -> bool:
        """True when its figures may be shown as current (not stale, not failed, not missing)."""
        now = time.time() if now is None else now
        return self.as_of is not None and now - self.as_of <= self.stale_after and not self.unavailable

    def age(self, now: float | None = None) -> float | None:
        now = time.time() if now is None else now
        return None if self.as_of is None else now - self.as_of

    def describe(self, now: float | None = None) -> str:
        """Short text for the status bar, e.g. ``stale 3m`` or ``retrying in 8s: HTTP 503``."""
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
            text = f"stale {format_age(now - (self.as_of or now))}"
            return text + (f": {self.error}" if self.error else "")
        if status == "unavailable":
            return f"unavailable here: {self.error}" if self.error else "unavailable here"
        return status
