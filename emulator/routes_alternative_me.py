"""Emulated alternative.me Fear & Greed endpoint: ``GET /fng/?limit=N``.

Same wire format as the real API (see :mod:`sources.alternative_me`): every value a string, ``timestamp`` in
epoch seconds, newest first, ``time_until_update`` on the newest entry only, ``limit`` default 1 and ``0`` for
the whole history. A day's value is published at 00:00 UTC of that day, so nothing later than
``emu.now_ms()`` is visible. (``format=csv`` and ``date_format`` are not emulated: JSON with unix times is
always returned.)
"""

from __future__ import annotations

import numpy as np

from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse

DAY_MS = 86_400_000


@route("GET", "/fng/")
def fng(request: EmuRequest, emu: Emulator) -> EmuResponse:
    frame = emu.dataset.fear_greed
    raw_limit = request.query.get("limit", "1") or "1"
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 1
    now = emu.now_ms()
    data: list[dict[str, str]] = []
    if frame is not None and len(frame):
        times = frame["time"].to_numpy(np.int64)
        hi = int(np.searchsorted(times, now, side="right"))
        lo = 0 if limit <= 0 else max(0, hi - limit)
        values = frame["value"].to_numpy(np.float64)
        labels = frame["classification"].to_numpy()
        for i in range(hi - 1, lo - 1, -1):
            if np.isnan(values[i]):
                continue
            data.append({
                "value": str(round(values[i])),
                "value_classification": str(labels[i]),
                "timestamp": str(int(times[i] // 1000)),
            })  # fmt: skip
        if data:
            next_update = (now // DAY_MS + 1) * DAY_MS
            data[0]["time_until_update"] = str(max(0, (next_update - now) // 1000))
    payload = {"name": "Fear and Greed Index", "data": data, "metadata": {"error": None}}
    return EmuResponse.json(payload)
