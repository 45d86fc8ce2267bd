"""Emulated Binance spot market-data endpoints: ``/api/v3/klines`` and ``/api/v3/ticker/24hr``.

Formats and query semantics follow binance-spot-api-docs ``rest-api.md``: numbers as decimal strings, times in
epoch ms, ``limit`` default 500 and max 1000, ``startTime`` pages forward, the newest bar is still open.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.klines import BINANCE_INTERVALS, DAY, MINUTE, rolling_24h, window
from emulator.klines import close_time as kline_close_time
from emulator.wire import BadRequest, EmuRequest, EmuResponse, int_param

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"


def _fmt(value: float, decimals: int = 8) -> str:
    return f"{value:.{decimals}f}"


#: Binance spot's 400 for a non-integer parameter names the legal range.
_LEGAL = "; legal range is '^[0-9]{1,20}$'"


def _invalid_symbol() -> EmuResponse:
    return EmuResponse.json({"code": -1121, "msg": "Invalid symbol."}, status=400)


@route("GET", "/api/v3/klines")
def klines(request: EmuRequest, emu: Emulator) -> EmuResponse:
    return klines_answer(request, emu, emu.dataset.spot_klines, max_limit=1000, weight=lambda limit: 2)


def klines_answer(request: EmuRequest, emu: Emulator, market: dict[str, dict[int, pd.DataFrame]], *,
                  max_limit: int, weight: Callable[[int], int]) -> EmuResponse:  # fmt: skip
    """Binance's klines answer from one market's bars (spot ``/api/v3/klines``, USD-M ``/fapi/v1/klines``: the
    same 12-element rows and query semantics; ``limit`` defaults to 500, capped at ``max_limit``)."""
    symbol = request.query.get("symbol", "")
    interval = request.query.get("interval", "")
    if not symbol:
        raise BadRequest("Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    if interval not in BINANCE_INTERVALS:
        raise BadRequest("Invalid interval.")
    frames = market.get(symbol)
    if not frames:
        return _invalid_symbol()
    limit = int_param(request, "limit", _LEGAL) or 500
    limit = max(1, min(limit, max_limit))
    interval_ms = BINANCE_INTERVALS[interval]
    bars = window(
        frames,
        interval_ms,
        emu.now_ms(),
        int_param(request, "startTime", _LEGAL),
        int_param(request, "endTime", _LEGAL),
        limit,
        interpolate=emu.dataset.simulated,
    )
    return EmuResponse.json(kline_rows(bars, interval_ms), headers={WEIGHT_HEADER: str(weight(limit))})


def kline_rows(bars: pd.DataFrame, interval_ms: int) -> list[list[object]]:
    """Frame -> Binance's 12-element kline arrays.

    Unknown taker volumes are sent as null (replay of OHLCV-only history; real Binance always sends them).
    """
    if bars.empty:
        return []
    opens = bars["open_time"].to_numpy(np.int64)
    closes = kline_close_time(opens, interval_ms)
    rows: list[list[object]] = []
    # Plain tuples unpacked by column: on a named tuple the ``count`` field reads as tuple.count to a type checker.
    columns = ["open", "high", "low", "close", "volume", "quote_volume", "count", "taker_buy_volume",
               "taker_buy_quote_volume"]  # fmt: skip
    bar_values = bars[columns].itertuples(index=False, name=None)
    for i, (o, h, lo, c, volume, quote_volume, count, taker_volume, taker_quote_volume) in enumerate(bar_values):
        taker_base = None if np.isnan(taker_volume) else _fmt(taker_volume)
        taker_quote = None if np.isnan(taker_quote_volume) else _fmt(taker_quote_volume)
        rows.append([
            int(opens[i]), _fmt(o), _fmt(h), _fmt(lo), _fmt(c), _fmt(volume),
            int(closes[i]), _fmt(quote_volume), int(count), taker_base, taker_quote, "0",
        ])  # fmt: skip
    return rows


def ticker_24h(symbol: str, emu: Emulator) -> dict[str, object] | None:
    """Binance's rolling 24-hour statistics for ``symbol`` at the virtual time (spot bars only, no look-ahead).

    ``closeTime`` is the instant of the latest known price: the request time on a simulated market, a bar's
    open or close time in replayed history (so a coarse file's price carries its real age).
    """
    now = emu.now_ms()
    day = rolling_24h(emu.dataset.spot_klines.get(symbol), now, interpolate=emu.dataset.simulated)
    if day is None:
        return None
    open_price, last, quote, volume = day["open"], day["last"], day["quote_volume"], day["volume"]
    return {
        "symbol": symbol,
        "priceChange": _fmt(last - open_price),
        "priceChangePercent": _fmt((last / open_price - 1) * 100, 3),
        "weightedAvgPrice": _fmt(quote / volume if volume else last),
        "prevClosePrice": _fmt(day["prev_close"]),
        "lastPrice": _fmt(last),
        "lastQty": "0.01000000",
        "bidPrice": _fmt(last * 0.99999),
        "bidQty": "1.00000000",
        "askPrice": _fmt(last * 1.00001),
        "askQty": "1.00000000",
        "openPrice": _fmt(open_price),
        "highPrice": _fmt(day["high"]),
        "lowPrice": _fmt(day["low"]),
        "volume": _fmt(volume),
        "quoteVolume": _fmt(quote),
        "openTime": now - DAY,
        "closeTime": int(day["info_ms"]),
        "firstId": 1,
        "lastId": int(day["count"]) + 1,
        "count": int(day["count"]),
    }


@route("GET", "/api/v3/ticker/24hr")
def ticker(request: EmuRequest, emu: Emulator) -> EmuResponse:
    if "symbols" in request.query:
        try:
            symbols = json.loads(request.query["symbols"])
        except ValueError:
            raise BadRequest("Illegal characters found in parameter 'symbols'.") from None
        if not isinstance(symbols, list) or not symbols:
            raise BadRequest("Illegal characters found in parameter 'symbols'.")
        out = []
        for symbol in symbols:
            stats = ticker_24h(str(symbol), emu)
            if stats is None:
                return _invalid_symbol()
            out.append(stats)
        weight = 2 if len(out) <= 20 else 40 if len(out) <= 100 else 80
        return EmuResponse.json(out, headers={WEIGHT_HEADER: str(weight)})
    symbol = request.query.get("symbol")
    if symbol is None:
        stats_all = [s for sym in emu.dataset.spot_klines if (s := ticker_24h(sym, emu))]
        return EmuResponse.json(stats_all, headers={WEIGHT_HEADER: "80"})
    stats = ticker_24h(symbol, emu)
    if stats is None:
        return _invalid_symbol()
    return EmuResponse.json(stats, headers={WEIGHT_HEADER: "2"})


__all__ = ["MINUTE", "kline_rows", "ticker_24h"]
