"""Emulated Stooq daily CSV: ``GET /q/d/l/?s=spy.us&i=d``.

``Date,Open,High,Low,Close,Volume``, ISO dates (New York session date), oldest first, only sessions that have
closed by ``emu.now_ms()`` (Stooq publishes end-of-day bars). Unknown symbols or intervals other than ``d``
answer ``No data`` as text with HTTP 200, like the real site. ``spy.us`` maps to the dataset's ``SPY``;
``^spx`` to ``^GSPC``. Since about March 2026 Stooq serves its CSV only with an API key (pandas-datareader#1012):
without ``apikey`` the emulator answers, as Stooq does, an HTML page with HTTP 200 telling the caller to get one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse

SESSION_MS = int(6.5 * 3_600_000)
INDEX_ALIASES = {"^spx": "^GSPC", "^ndq": "^IXIC", "^ndx": "^NDX", "^dji": "^DJI"}


def dataset_symbol(stooq_symbol: str) -> str:
    s = stooq_symbol.strip().lower()
    if s in INDEX_ALIASES:
        return INDEX_ALIASES[s]
    return s.removesuffix(".us").upper()


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


KEY_PAGE = (
    "<html><head><title>Stooq</title></head><body><p>Access to the data requires an API key. Get your apikey: "
    "<a href='https://stooq.com/q/d/?s={s}&get_apikey'>here</a></p></body></html>"
)


@route("GET", "/q/d/l/")
def daily_csv(request: EmuRequest, emu: Emulator) -> EmuResponse:
    if not request.query.get("apikey"):
        return EmuResponse.text(KEY_PAGE.format(s=request.query.get("s", "")), content_type="text/html")
    symbol = dataset_symbol(request.query.get("s", ""))
    frame = emu.dataset.equities.get(symbol)
    if frame is None or request.query.get("i", "d") != "d":
        return EmuResponse.text("No data", content_type="text/csv")
    times = frame["time"].to_numpy(np.int64)
    done = times + SESSION_MS <= emu.now_ms()
    if not done.any():
        return EmuResponse.text("No data", content_type="text/csv")
    rows = frame.loc[done]
    days = (
        pd.to_datetime(times[done], unit="ms", utc=True).tz_convert("America/New_York").strftime("%Y-%m-%d")
    )
    lines = ["Date,Open,High,Low,Close,Volume"]
    for day, o, h, lo, c, v in zip(days, rows["open"], rows["high"], rows["low"], rows["close"],
                                  rows["volume"], strict=True):  # fmt: skip
        vol = "" if np.isnan(v) else str(int(v))
        lines.append(f"{day},{_num(o)},{_num(h)},{_num(lo)},{_num(c)},{vol}")
    return EmuResponse.text("\n".join(lines) + "\n", content_type="text/csv")
