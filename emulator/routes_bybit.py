"""Emulated Bybit v5 ``/v5/market/tickers?category=linear`` and ``/v5/market/funding/history``.  Formats
follow bybit-exchange/docs (``tickers.mdx``, ``history-fund-rate.mdx``): the envelope ``{retCode, retMsg,
result, retExtInfo, time}``, every value a string, ``""`` for fields that do not apply (delivery fields
of perpetuals), errors as HTTP 200 with ``retCode != 0`` (``10001`` for bad parameters). Ticker prices
come from the spot data at the virtual time (24 h statistics from the hourly spot bars); funding and open
interest from the dataset, with the predicted rate being the last settled one (see
:mod:`emulator.routes_binance_futures`). Funding history is newest first, ``limit`` 1..200
(default 200); ``startTime`` without ``endTime`` is rejected.

``/v5/market/account-ratio`` (``long-short-ratio.mdx``): ``category`` linear, ``symbol``, ``period`` 5min, 15min,
30min, 1h, 4h or 1d, ``limit`` [1, 500] default 50, ``startTime``/``endTime``, ``cursor``; ``result.list`` of
``{symbol, buyRatio, sellRatio, timestamp}`` strings newest first and ``nextPageCursor`` (``lastid=..&lasttime=<s>``
URL-encoded, as Bybit sends it; "" on the last page), served from :mod:`emulator.positioning`. A listed symbol
without statistics answers an empty list; a bad symbol, period or limit ``retCode 10001``.
"""

from __future__ import annotations

import re

from emulator import perp_market as market
from emulator import positioning
from emulator.core import Emulator, route
from emulator.wire import BadRequest, EmuRequest, EmuResponse, int_param
from sources.symbols import venue_symbol

EXCHANGE = "bybit"


def _envelope(emu: Emulator, result: dict[str, object]) -> EmuResponse:
    return EmuResponse.json(
        {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": emu.now_ms()}
    )


def _error(emu: Emulator, code: int, message: str) -> EmuResponse:
    return EmuResponse.json(
        {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": emu.now_ms()}
    )


def _ticker(emu: Emulator, coin: str, now: int) -> dict[str, str] | None:
    current = market.current_funding(emu, EXCHANGE, coin, now)
    mark = market.mark_price(emu, EXCHANGE, coin, now)
    oi = market.oi_at(emu, EXCHANGE, coin, now)
    if current is None or mark is None:
        return None
    symbol, mult = venue_symbol(EXCHANGE, coin)
    day = market.spot_24h(emu, coin, now)
    prev_24h = day.open if day else mark
    prev_1h = market.mark_price(emu, EXCHANGE, coin, now - market.HOUR) or mark
    last = mark * (1 + current.rate)  # perps trade at a premium when funding is positive
    tick = mark * 1e-5
    return {
        "symbol": symbol,
        "lastPrice": market.dec(last * mult),
        "indexPrice": market.dec(mark / (1 + current.rate) * mult),
        "markPrice": market.dec(mark * mult),
        "prevPrice24h": market.dec(prev_24h * mult),
        "price24hPcnt": f"{last / prev_24h - 1:.6f}",
        "highPrice24h": market.dec(max(day.high if day else mark, mark) * mult),
        "lowPrice24h": market.dec(min(day.low if day else mark, mark) * mult),
        "prevPrice1h": market.dec(prev_1h * mult),
        # A venue's funding never depends on an unrelated figure: without an OI sample the field is "" (unknown).
        # Bybit counts both sides in openInterest(Value), one side in the single* fields (the dataset's figure).
        "openInterest": f"{2 * oi[1] / mult:.3f}" if oi else "",
        "openInterestValue": f"{2 * oi[1] * mark:.2f}" if oi else "",
        "singleOpenInterest": f"{oi[1] / mult:.3f}" if oi else "",
        "singleOpenInterestValue": f"{oi[1] * mark:.2f}" if oi else "",
        "turnover24h": f"{day.quote_volume if day else 0.0:.4f}",
        "volume24h": f"{(day.volume if day else 0.0) / mult:.4f}",
        "fundingRate": f"{current.rate:.8f}".rstrip("0").rstrip(".") or "0",
        "nextFundingTime": str(current.next_ms),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": "1",
        "bid1Price": market.dec((last - tick) * mult),
        "ask1Price": market.dec((last + tick) * mult),
        "bid1Size": "1",
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": str(int(current.interval_hours)),
        "basisRateYear": "",
        "fundingCap": market.dec(0.02 * current.interval_hours / 8),
    }


@route("GET", "/v5/market/tickers")
def tickers(request: EmuRequest, emu: Emulator) -> EmuResponse:
    category = request.query.get("category", "")
    if category != "linear":
        # only the derivatives view is emulated here
        return _error(emu, 10001, "params error: category only supports linear in the emulator")
    now = emu.now_ms()
    symbol = request.query.get("symbol")
    if symbol:
        key = market.resolve(EXCHANGE, symbol)
        item = _ticker(emu, key.coin, now) if key else None
        if item is None:
            return _error(emu, 10001, "params error: symbol invalid")
        items = [item]
    else:
        items = [t for c in market.listed_coins(emu, EXCHANGE, now) if (t := _ticker(emu, c, now))]
    return _envelope(emu, {"category": "linear", "list": items})


@route("GET", "/v5/market/funding/history")
def funding_history(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    if request.query.get("category") not in ("linear", "inverse"):
        return _error(emu, 10001, "params error: category invalid")
    try:
        limit = int_param(request, "limit")
        start, end = int_param(request, "startTime"), int_param(request, "endTime")
    except BadRequest:  # Bybit answers malformed numbers with retCode 10001
        return _error(emu, 10001, "params error")
    limit = 200 if limit is None else limit
    if not 1 <= limit <= 200:
        return _error(emu, 10001, "params error: limit must be in [1, 200]")
    if start is not None and end is None:
        return _error(emu, 10001, "params error: endTime is required when startTime is set")
    symbol = request.query.get("symbol", "")
    key = market.resolve(EXCHANGE, symbol)
    series = market.funding_series(emu, EXCHANGE).get(key.coin) if key else None
    if key is None or series is None:
        return _error(emu, 10001, "params error: symbol invalid")
    # Bybit returns the newest `limit` rows inside the window, newest first
    idx = market.window_rows(series.times, None, end, now, limit, oldest_first=False)
    rows = [
        {
            "symbol": symbol,
            "fundingRate": f"{series.values[i]:.8f}",
            "fundingRateTimestamp": str(series.times[i]),
        }
        for i in idx
        if start is None or series.times[i] >= start
    ]
    return _envelope(emu, {"category": "linear", "list": rows})


PAGE_DEFAULT = 500


@route("GET", "/v5/market/instruments-info")
def instruments_info(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """``category=linear`` instruments: every listed perpetual plus a stock perpetual (Bybit lists TradFi perps
    under linear since 2026-03), paged with ``limit`` (default 500, max 1000) and ``nextPageCursor``."""
    if request.query.get("category") != "linear":
        return _error(emu, 10001, "params error: category only supports linear in the emulator")
    try:
        limit = int_param(request, "limit") or PAGE_DEFAULT
    except BadRequest:
        return _error(emu, 10001, "params error")
    if not 1 <= limit <= 1000:
        return _error(emu, 10001, "params error: limit must be in [1, 1000]")
    items = [
        {"symbol": venue_symbol(EXCHANGE, c)[0], "contractType": "LinearPerpetual", "status": "Trading",
         "baseCoin": c, "quoteCoin": "USDT", "symbolType": "", "fundingInterval": 480, "settleCoin": "USDT"}
        for c in market.listed_coins(emu, EXCHANGE, emu.now_ms())
    ]  # fmt: skip
    stock = {"symbol": "TSLAUSDT", "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": "TSLA",
             "quoteCoin": "USDT", "symbolType": "stock", "fundingInterval": 480, "settleCoin": "USDT"}  # fmt: skip
    items.append(stock)
    start = int(request.query.get("cursor") or 0) if (request.query.get("cursor") or "0").isdigit() else 0
    page = items[start : start + limit]
    cursor = str(start + limit) if start + limit < len(items) else ""
    return _envelope(emu, {"category": "linear", "list": page, "nextPageCursor": cursor})


ACCOUNT_RATIO_PERIODS = {"5min": 5 * 60_000, "15min": 15 * 60_000, "30min": 30 * 60_000, "1h": market.HOUR,
                         "4h": 4 * market.HOUR, "1d": market.DAY}  # fmt: skip
ACCOUNT_RATIO_MAX = 500
_LASTTIME = re.compile(r"lasttime(?:%3D|=)(\d+)")


def _share(value: float) -> str:
    """Bybit's share strings: at most 4 decimals, trailing zeros dropped (``"0.49"``, ``"0.4927"``)."""
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


@route("GET", "/v5/market/account-ratio")
def account_ratio(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    if request.query.get("category") != "linear":
        return _error(emu, 10001, "params error: category only supports linear in the emulator")
    period = request.query.get("period", "")
    if period not in ACCOUNT_RATIO_PERIODS:
        return _error(emu, 10001, "params error: period invalid")
    try:
        limit = int_param(request, "limit")
        start, end = int_param(request, "startTime"), int_param(request, "endTime")
    except BadRequest:
        return _error(emu, 10001, "params error")
    limit = 50 if limit is None else limit
    if not 1 <= limit <= ACCOUNT_RATIO_MAX:
        return _error(emu, 10001, "params error: limit must be in [1, 500]")
    symbol = request.query.get("symbol", "")
    key = market.resolve(EXCHANGE, symbol)
    if key is None or not positioning.listed(emu, EXCHANGE, key.coin, now):
        return _error(emu, 10001, "params error: symbol invalid")
    cursor = _LASTTIME.search(request.query.get("cursor") or "")
    if cursor is not None:  # the next page: periods before the last one served
        before = int(cursor.group(1)) * 1000 - 1
        end = before if end is None else min(end, before)
    # One more than asked for: whether a next page exists.
    found = positioning.periods(emu, EXCHANGE, "accounts", key.coin, ACCOUNT_RATIO_PERIODS[period], start=None,
                                end=end, limit=limit + 1, oldest_first=False)  # fmt: skip
    found = [(t, s) for t, s in found if start is None or t >= start]
    page, more = found[:limit], len(found) > limit
    rows = []
    for t, long_share in page:
        buy = round(long_share, 4)
        rows.append({"symbol": symbol, "buyRatio": _share(buy), "sellRatio": _share(1.0 - buy), "timestamp": str(t)})
    next_cursor = f"lastid%3D0%26lasttime%3D{page[-1][0] // 1000}" if more and page else ""
    return _envelope(emu, {"list": rows, "nextPageCursor": next_cursor})
