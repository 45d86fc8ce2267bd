"""Live, demo and replay differ only in the transport the sources are given; :class:`Runtime` is what they share.

Live: the real network. Demo: an in-process emulator over a seeded simulation. Replay: the same emulator over real
history files, its virtual clock starting at ``--at``. Everything above the transport is identical; only
``Runtime.label`` (the on-screen banner) says which mode runs. The runtime never sees the emulator itself:
:mod:`tui.boot` builds the transports (HTTP client, websocket opener, recorded tape) and hands them over here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sources.http import HttpClient
    from sources.ws import WsOpener


@dataclass
class Runtime:
    """What every feed and view reads of the mode: the HTTP client, the market clock and how to open a stream.

    ``ws_opener`` is None for the real network (:func:`sources.ws.websockets_opener`); ``recorded_tape(now_ms)``
    returns a liquidation tape recorded before start-up (long frame, times <= now_ms) or None.
    """

    mode: str  # "live" | "demo" | "replay"
    label: str
    http: HttpClient
    now_ms: Callable[[], int]
    simulated: bool = False
    notes: list[str] = field(default_factory=list)
    ws_opener: WsOpener | None = None
    recorded_tape: Callable[[int], pd.DataFrame | None] | None = None

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
        return None if self.recorded_tape is None else self.recorded_tape(now_ms)


class UsageError(ValueError):
    """A mode argument the data cannot satisfy (e.g. ``--at`` outside the replay's span): exit 2 with this text."""
