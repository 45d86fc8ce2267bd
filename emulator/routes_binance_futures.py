"""Emulated Binance USDⓈ-M endpoints: funding, mark price, open interest and the perpetual listings.

Served from the simulated (or replayed) perpetual market of :mod:`emulator.perp_market`, which the Bybit, OKX and
Hyperliquid routes read too.

Binance formats (developers.binance.com): ``premiumIndex`` (weight 1 with ``symbol``, 10 without),
``fundingInfo`` (only symbols with an adjusted interval), ``fundingRate`` (``limit`` default 100, max 1000),
``openInterest`` (contract units), ``futures/data/openInterestHist`` (``limit`` default 30, max 500, last 30
days). Symbols are the venue's (``1000PEPEUSDT``: prices x1000, quantities /1000).

Long/short ratios (``futures/data/globalLongShortAccountRatio`` and ``topLongShortPositionRatio``, weight 0, 1000
requests / 5 min / IP, ``limit`` default 30, max 500, the latest 30 days): rows ``{symbol, longShortRatio,
longAccount, shortAccount, timestamp}`` with every number a decimal string and the timestamp a digit string, as the
docs show them, oldest first, served from :mod:`emulator.positioning`. A listed symbol without statistics answers
``[]``. Errors as Binance's documented codes (the docs name no answer for a bad period or a ``limit`` past 500):
an unknown symbol ``-1121 Invalid symbol.``, a missing parameter ``-1102``, a bad period or limit ``-1130``, a
``startTime`` after ``endTime`` ``-1023``, all HTTP 400.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from emulator import perp_market as market
from emulator import positioning
from emulator.core import Emulator, route
from emulator.dataset import USDM
from emulator.wire import BadRequest, EmuRequest, EmuResponse, int_param
from sources.symbols import venue_symbol

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
OI_HIST_DAYS = 30
OI_PERIODS = {
    "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": market.HOUR, "2h": 2 * market.HOUR, "4h": 4 * market.HOUR,
    "6h": 6 * market.HOUR, "12h": 12 * market.HOUR, "1d": market.DAY,
}  # fmt: skip


# --- Binance routes ----------------------------------------------------------------------------------------

EXCHANGE = "binance"


def _invalid_symbol() -> EmuResponse:
    return EmuResponse.json({"code": -1121, "msg": "Invalid symbol."}, status=400)


def _premium_item(emu: Emulator, coin: str, now: int) -> dict[str, object] | None:
    current = market.current_funding(emu, EXCHANGE, coin, now)
    mark = market.mark_price(emu, EXCHANGE, coin, now)
    if current is None or mark is None:
        return None
    symbol, mult = venue_symbol(EXCHANGE, coin)
    venue_mark = mark * mult
    return {
        "symbol": symbol,
        "markPrice": f"{venue_mark:.8f}",
        "indexPrice": f"{venue_mark / (1 + current.rate):.8f}",
        "estimatedSettlePrice": f"{venue_mark:.8f}",
        "lastFundingRate": f"{current.rate:.8f}",
        "interestRate": "0.00010000",
        "nextFundingTime": current.next_ms,
        "time": now,
    }


@route("GET", "/fapi/v1/premiumIndex")
def premium_index(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    symbol = request.query.get("symbol")
    if symbol:
        key = market.resolve(EXCHANGE, symbol)
        item = _premium_item(emu, key.coin, now) if key else None
        if item is None:
            return _invalid_symbol()
        return EmuResponse.json(item, headers={WEIGHT_HEADER: "1"})
    items = [i for c in market.listed_coins(emu, EXCHANGE, now) if (i := _premium_item(emu, c, now))]
    return EmuResponse.json(items, headers={WEIGHT_HEADER: "10"})


@route("GET", "/fapi/v1/fundingInfo")
def funding_info(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """Only symbols whose interval differs from the default 8 h, as on the real endpoint."""
    now = emu.now_ms()
    out = []
    for coin in market.listed_coins(emu, EXCHANGE, now):
        current = market.current_funding(emu, EXCHANGE, coin, now)
        if current is not None and current.interval_hours != 8:
            out.append({
                "symbol": venue_symbol(EXCHANGE, coin)[0],
                "adjustedFundingRateCap": "0.02000000",
                "adjustedFundingRateFloor": "-0.02000000",
                "fundingIntervalHours": int(current.interval_hours),
                "disclaimer": False,
            })  # fmt: skip
    return EmuResponse.json(out, headers={WEIGHT_HEADER: "0"})


class _FundingRateRow(TypedDict):
    """One settlement in ``/fapi/v1/fundingRate``'s answer."""

    symbol: str
    fundingRate: str
    fundingTime: int
    markPrice: str


@route("GET", "/fapi/v1/fundingRate")
def funding_rate(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    limit = max(1, min(int_param(request, "limit") or 100, 1000))
    start, end = int_param(request, "startTime"), int_param(request, "endTime")
    symbol = request.query.get("symbol")
    if symbol:
        key = market.resolve(EXCHANGE, symbol)
        if key is None:
            return _invalid_symbol()
        coins = [key.coin]
    else:
        coins = market.listed_coins(emu, EXCHANGE, now)
    rows: list[_FundingRateRow] = []
    for coin in coins:
        series = market.funding_series(emu, EXCHANGE).get(coin)
        if series is None:
            continue
        sym, mult = venue_symbol(EXCHANGE, coin)
        for i in market.window_rows(series.times, start, end, now, limit):
            t = int(series.times[i])
            mark = market.mark_price(emu, EXCHANGE, coin, t)
            rows.append({
                "symbol": sym, "fundingRate": f"{series.values[i]:.8f}", "fundingTime": t,
                "markPrice": f"{(mark or 0.0) * mult:.8f}",
            })  # fmt: skip
    rows.sort(key=lambda r: r["fundingTime"])
    rows = rows[:limit] if start is not None else rows[-limit:]
    return EmuResponse.json(rows)


@route("GET", "/fapi/v1/openInterest")
def open_interest(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    symbol = request.query.get("symbol", "")
    if not symbol:
        raise BadRequest("Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    key = market.resolve(EXCHANGE, symbol)
    oi = market.oi_at(emu, EXCHANGE, key.coin, now) if key else None
    if key is None or oi is None:
        return _invalid_symbol()
    return EmuResponse.json(
        {"openInterest": f"{oi[1] / key.multiplier:.3f}", "symbol": symbol, "time": now},
        headers={WEIGHT_HEADER: "1"},
    )


@route("GET", "/futures/data/openInterestHist")
def open_interest_hist(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    symbol = request.query.get("symbol", "")
    period = request.query.get("period", "")
    if not symbol or period not in OI_PERIODS:
        raise BadRequest("Invalid period or symbol.")
    key = market.resolve(EXCHANGE, symbol)
    series = market.oi_series(emu, EXCHANGE).get(key.coin) if key else None
    if key is None or series is None:
        return _invalid_symbol()
    step = OI_PERIODS[period]
    limit = max(1, min(int_param(request, "limit") or 30, 500))
    oldest = max(int(series.times[0]), now - OI_HIST_DAYS * market.DAY)
    grid = np.arange(-(-oldest // step) * step, now + 1, step, dtype=np.int64)
    idx = market.window_rows(grid, int_param(request, "startTime"), int_param(request, "endTime"), now, limit)
    rows = []
    for t in grid[idx]:
        j = int(np.searchsorted(series.times, t, side="right")) - 1
        base, price = float(series.values[j]), float(series.extra[j])
        rows.append({
            "symbol": symbol, "sumOpenInterest": f"{base / key.multiplier:.8f}",
            "sumOpenInterestValue": f"{base * price:.8f}", "timestamp": int(t),
        })  # fmt: skip
    return EmuResponse.json(rows, headers={WEIGHT_HEADER: "0"})


LONG_SHORT_MAX = 500
#: Binance keeps "only the data of the latest 30 days" of its trading statistics.
LONG_SHORT_KEEP_MS = 30 * market.DAY


def _error(code: int, message: str) -> EmuResponse:
    return EmuResponse.json({"code": code, "msg": message}, status=400)


def _long_short(request: EmuRequest, emu: Emulator, kind: str) -> EmuResponse:
    """One of the two long/short endpoints (module docstring): ``kind`` accounts | top_positions."""
    now = emu.now_ms()
    for name in ("symbol", "period"):
        if not request.query.get(name):
            return _error(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    period = request.query["period"]
    if period not in OI_PERIODS:
        return _error(-1130, "Data sent for parameter 'period' is not valid.")
    limit = int_param(request, "limit")
    limit = 30 if limit is None else limit
    if not 1 <= limit <= LONG_SHORT_MAX:
        return _error(-1130, "Data sent for parameter 'limit' is not valid.")
    start, end = int_param(request, "startTime"), int_param(request, "endTime")
    if start is not None and end is not None and start > end:
        return _error(-1023, "Start time is greater than end time.")
    symbol = request.query["symbol"]
    key = market.resolve(EXCHANGE, symbol)
    if key is None or not positioning.listed(emu, EXCHANGE, key.coin, now):
        return _invalid_symbol()
    rows = []
    for t, long_share in positioning.periods(emu, EXCHANGE, kind, key.coin, OI_PERIODS[period], start=start,
                                             end=end, limit=limit, keep_ms=LONG_SHORT_KEEP_MS):  # fmt: skip
        short_share = 1.0 - long_share
        rows.append({
            "symbol": symbol, "longShortRatio": f"{long_share / short_share:.4f}",
            "longAccount": f"{long_share:.4f}", "shortAccount": f"{short_share:.4f}", "timestamp": str(t),
        })  # fmt: skip
    return EmuResponse.json(rows, headers={WEIGHT_HEADER: "0"})


@route("GET", "/futures/data/globalLongShortAccountRatio")
def global_long_short_account_ratio(request: EmuRequest, emu: Emulator) -> EmuResponse:
    return _long_short(request, emu, "accounts")


@route("GET", "/futures/data/topLongShortPositionRatio")
def top_long_short_position_ratio(request: EmuRequest, emu: Emulator) -> EmuResponse:
    return _long_short(request, emu, "top_positions")


@route("GET", "/fapi/v1/exchangeInfo")
def exchange_info(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """Every perpetual the dataset lists, in the real shape (trimmed to the fields a console reads), plus one
    stock perpetual and one delivery contract as Binance lists them in 2026, which a console must leave out."""
    now = emu.now_ms()
    symbols = [
        {"symbol": venue_symbol(EXCHANGE, c)[0], "pair": venue_symbol(EXCHANGE, c)[0], "contractType": "PERPETUAL",
         "status": "TRADING", "baseAsset": c, "quoteAsset": "USDT", "marginAsset": "USDT", "underlyingType": "COIN",
         "onboardDate": 1_569_398_400_000, "deliveryDate": 4_133_404_800_000}
        for c in market.listed_coins(emu, EXCHANGE, now)
    ]  # fmt: skip
    symbols += [
        {"symbol": "TSLAUSDT", "pair": "TSLAUSDT", "contractType": "TRADIFI_PERPETUAL", "status": "TRADING",
         "baseAsset": "TSLA", "quoteAsset": "USDT", "marginAsset": "USDT", "underlyingType": "EQUITY"},
        {"symbol": "BTCUSDT_261225", "pair": "BTCUSDT", "contractType": "CURRENT_QUARTER", "status": "TRADING",
         "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT", "underlyingType": "COIN"},
    ]  # fmt: skip
    body = {"timezone": "UTC", "serverTime": now,
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}],
            "assets": [], "symbols": symbols}  # fmt: skip
    return EmuResponse.json(body, headers={WEIGHT_HEADER: "1"})


def _kline_weight(limit: int) -> int:
    """USD-M klines cost by ``limit``: [1, 100) 1, [100, 500) 2, [500, 1000] 5, over 1000 10."""
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


@route("GET", "/fapi/v1/klines")
def perp_klines(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """USD-M perpetual klines: the spot rows' format, up to 1,500 a call (the perp's own taker split)."""
    from emulator.routes_binance_spot import klines_answer

    return klines_answer(request, emu, USDM, max_limit=1500, weight=_kline_weight)
