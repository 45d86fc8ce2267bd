"""Emulated FRED graph CSV: ``GET /graph/fredgraph.csv?id=DGS2`` (current header format).

Served as ``observation_date,<ID>`` with an empty cell for holidays, like today's real downloads.
Publication lag: the observation for date D becomes visible at 21:00 UTC on D+1 (FRED posts Treasury yields
about one business day late), so nothing after ``emu.now_ms()`` leaks. ``cosd`` / ``coed`` (``YYYY-MM-DD``)
trim the window. Unknown series answer HTTP 404 with a short HTML page, as FRED's site does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse

DAY_MS = 86_400_000
PUBLISH_LAG_MS = DAY_MS + 21 * 3_600_000


@route("GET", "/graph/fredgraph.csv")
def fredgraph(request: EmuRequest, emu: Emulator) -> EmuResponse:
    series_id = request.query.get("id", "")
    frame = emu.dataset.rates.get(series_id)
    if frame is None:
        page = "<html><head><title>Error - FRED</title></head><body>Series not found.</body></html>"
        return EmuResponse.text(page, content_type="text/html", status=404)
    times = frame["time"].to_numpy(np.int64)
    keep = times + PUBLISH_LAG_MS <= emu.now_ms()
    for key, cmp in (("cosd", np.greater_equal), ("coed", np.less_equal)):
        raw = request.query.get(key)
        if raw:
            try:
                bound = int(pd.Timestamp(raw, tz="UTC").value // 1_000_000)
            except ValueError:
                return EmuResponse.text("Bad date", status=400)
            keep &= cmp(times, bound)
    days = pd.to_datetime(times[keep], unit="ms", utc=True).strftime("%Y-%m-%d")
    values = frame["value"].to_numpy(np.float64)[keep]
    lines = [f"observation_date,{series_id}"]
    lines += [f"{d},{'' if np.isnan(v) else f'{v:.2f}'}" for d, v in zip(days, values, strict=True)]
    return EmuResponse.text("\n".join(lines) + "\n", content_type="text/csv")
