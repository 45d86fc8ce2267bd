"""Emulated Yahoo chart endpoint: ``GET /v8/finance/chart/{SYMBOL}?interval=1d&range=3mo`` (prefix route).

Same shape as the real body (see :mod:`sources.yahoo`): ``meta``, a ``timestamp`` array of session opens in
epoch seconds, parallel ``indicators.quote`` arrays with ``null`` where the dataset has NaN, and ``adjclose``.
Sessions opening after ``emu.now_ms()`` are not sent. The session in progress: in a simulated market its close
moves towards the stored close as the session elapses; in replayed history only its open is known (a close-only
file's session is not sent until it has closed), so no close from after the virtual time leaks. Unknown symbols
answer HTTP 404 with ``{"chart": {"result": null, "error": {"code": "Not Found", "description": "No data found,
symbol may be delisted"}}}``. Only daily bars are emulated (``interval=1d``); other intervals answer HTTP 400.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse

DAY_S = 86_400
SESSION_MS = int(6.5 * 3_600_000)
RANGES_DAYS = {"1d": 1, "5d": 5, "1mo": 31, "3mo": 92, "6mo": 183, "1y": 366, "2y": 731, "5y": 1827,
               "10y": 3653, "max": 100_000}  # fmt: skip
VALID_RANGES = [*RANGES_DAYS, "ytd"]


def _error(code: str, description: str, status: int) -> EmuResponse:
    return EmuResponse.json({"chart": {"result": None, "error": {"code": code, "description": description}}},
                            status=status)  # fmt: skip


def _nullable(values: np.ndarray, digits: int = 4) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), digits) for v in values]


@route("GET", "/v8/finance/chart/*")
def chart(request: EmuRequest, emu: Emulator) -> EmuResponse:
    symbol = unquote(request.path.rsplit("/", 1)[-1])
    frame = emu.dataset.equities.get(symbol)
    if frame is None:
        return _error("Not Found", "No data found, symbol may be delisted", 404)
    interval = request.query.get("interval", "1d")
    if interval != "1d":
        return _error("Bad Request", f"Invalid input - interval={interval} is not emulated", 400)
    now = emu.now_ms()
    range_ = request.query.get("range", "")
    if "period1" in request.query:
        try:
            start_ms = int(request.query["period1"]) * 1000
            end_ms = int(request.query.get("period2", now // 1000)) * 1000
        except ValueError:
            return _error("Bad Request", "Invalid input - period1/period2", 400)
    else:
        range_ = range_ or "1mo"
        if range_ == "ytd":
            start_ms = int(pd.Timestamp(pd.Timestamp(now, unit="ms").year, 1, 1, tz="UTC").value // 1_000_000)
        elif range_ in RANGES_DAYS:
            start_ms = now - RANGES_DAYS[range_] * DAY_S * 1000
        else:
            return _error("Bad Request", f"Invalid input - range={range_}", 400)
        end_ms = now
    end_ms = min(end_ms, now)
    times = frame["time"].to_numpy(np.int64)
    keep = (times >= start_ms) & (times <= end_ms)
    rows = frame.loc[keep]
    opens = rows["open"].to_numpy(np.float64).copy()
    highs = rows["high"].to_numpy(np.float64).copy()
    lows = rows["low"].to_numpy(np.float64).copy()
    closes = rows["close"].to_numpy(np.float64).copy()
    volumes = rows["volume"].to_numpy(np.float64).copy()
    stamps = times[keep]
    if len(stamps) and now < stamps[-1] + SESSION_MS and not emu.dataset.simulated:
        # Real history knows nothing of the running session but its open (and nothing at all without one).
        if np.isnan(opens[-1]):
            opens, highs, lows, closes, volumes = (a[:-1] for a in (opens, highs, lows, closes, volumes))
            stamps = stamps[:-1]
        else:
            closes[-1] = highs[-1] = lows[-1] = opens[-1]
            volumes[-1] = 0.0
    elif len(stamps) and now < stamps[-1] + SESSION_MS:
        # The simulated session in progress: cut at the virtual time so no future close leaks.
        frac = max(0.0, min(1.0, (now - stamps[-1]) / SESSION_MS))
        o, c = opens[-1], closes[-1]
        cut = o + frac * (c - o)
        closes[-1] = cut
        highs[-1] = max(o, cut, min(highs[-1], max(o, cut) * 1.002))
        lows[-1] = min(o, cut, max(lows[-1], min(o, cut) * 0.998))
        volumes[-1] = volumes[-1] * frac
    all_closes = frame["close"].to_numpy(np.float64)
    first = int(np.argmax(keep)) if keep.any() else len(times)
    prev_close = float(all_closes[first - 1]) if first > 0 else (float(closes[0]) if len(closes) else None)
    last_t = int(stamps[-1]) if len(stamps) else now
    result: dict[str, Any] = {
        "meta": {
            "currency": "USD", "symbol": symbol, "exchangeName": "PCX", "fullExchangeName": "NYSEArca",
            "instrumentType": "ETF" if not symbol.startswith("^") else "INDEX",
            "regularMarketTime": min(now, last_t + SESSION_MS) // 1000,
            "hasPrePostMarketData": True, "gmtoffset": -14400, "timezone": "EDT",
            "exchangeTimezoneName": "America/New_York",
            "regularMarketPrice": None if not len(closes) or np.isnan(closes[-1]) else float(closes[-1]),
            "chartPreviousClose": prev_close, "priceHint": 2, "dataGranularity": "1d", "range": range_,
            "validRanges": VALID_RANGES,
        },
        "indicators": {"quote": [{}]},
    }  # fmt: skip
    if len(stamps):
        result["timestamp"] = [int(t // 1000) for t in stamps]
        result["indicators"] = {
            "quote": [{
                "open": _nullable(opens), "high": _nullable(highs), "low": _nullable(lows),
                "close": _nullable(closes),
                "volume": [None if np.isnan(v) else int(v) for v in volumes],
            }],
            "adjclose": [{"adjclose": _nullable(closes)}],
        }  # fmt: skip
    return EmuResponse.json({"chart": {"result": [result], "error": None}})
