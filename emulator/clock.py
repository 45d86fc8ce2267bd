"""The emulator's virtual clock: wall time shifted to a chosen start and scaled by a replay speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class VirtualClock:
    """``now_ms`` = ``start_ms`` + elapsed wall time x ``speed``. ``speed=0`` freezes it (tests, snapshots)."""

    start_ms: int
    speed: float = 1.0
    wall: Callable[[], float] = time.time
    _wall0: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._wall0 = self.wall()

    def now_ms(self) -> int:
        return int(self.start_ms + (self.wall() - self._wall0) * 1000 * self.speed)

    def advance(self, ms: int) -> None:
        """Move the clock forward (used by soak tests and by frozen clocks)."""
        self.start_ms += ms

    @classmethod
    def realtime(cls) -> VirtualClock:
        return cls(start_ms=int(time.time() * 1000))
