"""Emulated Binance spot market-data endpoints: ``/api/v3/klines``, ``/api/v3/ticker/24hr`` and
``/api/v3/exchangeInfo``.

Formats and query semantics follow binance-spot-api-docs ``rest-api.md``: numbers as decimal strings, times in
epoch ms, ``limit`` default 500 and max 1000, ``startTime`` pages forward, the newest bar is still open; the listing
holds the dataset's pairs (those with a bar at or before the virtual time) and a few Binance lists beside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.dataset import SPOT
from emulator.klines import BINANCE_INTERVALS, DAY, MINUTE, reaches_before, rolling_24h, window
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
    return klines_answer(request, emu, SPOT, max_limit=1000, weight=lambda limit: 2)


def klines_answer(request: EmuRequest, emu: Emulator, market: str, *, max_limit: int,
                  weight: Callable[[int], int]) -> EmuResponse:  # fmt: skip
    """Binance's klines answer from one market's bars (spot ``/api/v3/klines``, USD-M ``/fapi/v1/klines``: the
    same 12-element rows and query semantics; ``limit`` defaults to 500, capped at ``max_limit``). A request
    reaching before a symbol's stored bars is answered from its whole history (:func:`~emulator.klines.reaches_before`,
    :meth:`~emulator.dataset.MarketDataset.history`)."""
    symbol = request.query.get("symbol", "")
    interval = request.query.get("interval", "")
    if not symbol:
        raise BadRequest("Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    if interval not in BINANCE_INTERVALS:
        raise BadRequest("Invalid interval.")
    frames = emu.dataset.markets.get(market, {}).get(symbol)
    if not frames:
        return _invalid_symbol()
    limit = int_param(request, "limit", _LEGAL) or 500
    limit = max(1, min(limit, max_limit))
    interval_ms = BINANCE_INTERVALS[interval]
    now, start, end = emu.now_ms(), int_param(request, "startTime", _LEGAL), int_param(request, "endTime", _LEGAL)
    if emu.dataset.history_source is not None and reaches_before(frames, interval_ms, now, start, end, limit):
        frames = emu.dataset.history(market, symbol)
    bars = window(frames, interval_ms, now, start, end, limit, interpolate=emu.dataset.simulated)
    return EmuResponse.json(kline_rows(bars, interval_ms), headers={WEIGHT_HEADER: str(weight(limit))})


def kline_rows(bars: pd.DataFrame, interval_ms: int) -> list[list[object]]:
    """Frame -> Binance's 12-element kline arrays.

    Unknown taker volumes are sent as null (replay of OHLCV-only history; real Binance always sends them).
    """
    if bars.empty:
        return []
    opens = bars["open_time"].to_numpy(np.int64)
    closes = kline_close_time(opens, interval_ms).tolist()

    def text(column: str) -> list[str]:
        return [f"{v:.8f}" for v in bars[column].to_numpy(np.float64).tolist()]

    def taker(column: str) -> list[str | None]:
        return [None if v != v else f"{v:.8f}" for v in bars[column].to_numpy(np.float64).tolist()]  # NaN != NaN

    # Column by column on plain Python floats: a day's request for 200 pairs is ~1M numbers to format.
    columns = zip(opens.tolist(), text("open"), text("high"), text("low"), text("close"), text("volume"), closes,
                  text("quote_volume"), bars["count"].to_numpy(np.int64).tolist(), taker("taker_buy_volume"),
                  taker("taker_buy_quote_volume"), strict=True)  # fmt: skip
    return [[*row, "0"] for row in columns]


def ticker_24h(symbol: str, emu: Emulator) -> dict[str, object] | None:
    """Binance's rolling 24-hour statistics for ``symbol`` at the virtual time (spot bars only, no look-ahead).

    ``closeTime`` is the instant of the latest known price: the request time on a simulated market, a bar's
    open or close time in replayed history (so a coarse file's price carries its real age).
    """
    now = emu.now_ms()
    day = rolling_24h(emu.dataset.spot_klines.get(symbol), now, interpolate=emu.dataset.simulated, cache=emu.cache)
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


#: Pairs Binance lists beside the dataset's, one for each rule a console must apply to count altcoins only: another
#: quote, stablecoins, a wrapped and a pegged asset, a halted pair (MATIC became POL in 2024; Binance keeps such
#: symbols with status BREAK) and a leveraged token carrying the LEVERAGED permission (BLVTs, as in 2021-2024).
#: (symbol, base, quote, status, permission sets)
EXTRA_SYMBOLS: tuple[tuple[str, str, str, str, tuple[tuple[str, ...], ...]], ...] = (
    ("ETHBTC", "ETH", "BTC", "TRADING", (("SPOT", "MARGIN"),)),
    ("USDCUSDT", "USDC", "USDT", "TRADING", (("SPOT", "MARGIN"),)),
    ("FDUSDUSDT", "FDUSD", "USDT", "TRADING", (("SPOT", "MARGIN"),)),
    ("WBTCUSDT", "WBTC", "USDT", "TRADING", (("SPOT", "MARGIN"),)),
    ("PAXGUSDT", "PAXG", "USDT", "TRADING", (("SPOT", "MARGIN"),)),
    ("MATICUSDT", "MATIC", "USDT", "BREAK", (("SPOT", "MARGIN"),)),
    ("BTCUPUSDT", "BTCUP", "USDT", "TRADING", (("LEVERAGED",),)),
)
#: Quote assets the dataset's symbols may end in, longest first (FDUSD before USD-anything).
QUOTES = ("FDUSD", "USDT", "USDC", "BTC")
#: The symbol statuses ``symbolStatus`` may filter on (``rest-api.md``), and the permissions of ``enums.md``.
SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK")
PERMISSIONS = ("SPOT", "MARGIN", "LEVERAGED", *(f"TRD_GRP_{n:03d}" for n in range(2, 26)))
#: Without ``permissions`` Binance lists the pairs with any of these.
DEFAULT_PERMISSIONS = ("SPOT", "MARGIN", "LEVERAGED")


def _bad_combination() -> EmuResponse:
    return EmuResponse.json({"code": -1128, "msg": "Combination of optional parameters invalid."}, status=400)


def _symbol_entry(symbol: str, base: str, quote: str, status: str, sets: tuple[tuple[str, ...], ...],
                  show_sets: bool) -> dict[str, object]:  # fmt: skip
    """One ``symbols`` entry, every field in ``rest-api.md``'s order ("Exchange information")."""
    trading = status == "TRADING"
    return {
        "symbol": symbol, "status": status, "baseAsset": base, "baseAssetPrecision": 8, "quoteAsset": quote,
        "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "opoAllowed": True,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
        "amendAllowed": True, "pegInstructionsAllowed": True, "isSpotTradingAllowed": trading,
        "isMarginTradingAllowed": trading and any("MARGIN" in s for s in sets),
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.00000001", "maxPrice": "1000000.00000000",
             "tickSize": "0.00000001"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000000.00000000", "stepSize": "0.00001000"},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
        ],
        "permissions": [],
        "permissionSets": [list(s) for s in sets] if show_sets else [],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
    }  # fmt: skip


def listed_symbols(emu: Emulator) -> list[tuple[str, str, str, str, tuple[tuple[str, ...], ...]]]:
    """(symbol, base, quote, status, permission sets) of every pair listed at the virtual time: the dataset's
    pairs that have a bar at or before it (a replay before a listing does not list the pair yet), then
    :data:`EXTRA_SYMBOLS` and one 2020-style BULL token (plain SPOT permission) on a dataset coin."""
    now = emu.now_ms()
    out = []
    for symbol, frames in emu.dataset.spot_klines.items():
        quote = next((q for q in QUOTES if symbol.endswith(q) and len(symbol) > len(q)), None)
        firsts = [int(f["open_time"].iloc[0]) for f in frames.values() if len(f)]
        if quote is None or not firsts or min(firsts) > now:
            continue
        out.append((symbol, symbol[: -len(quote)], quote, "TRADING", (("SPOT", "MARGIN"),)))
    known = {row[0] for row in out}
    alts = sorted(base for _, base, quote, _, _ in out if quote == "USDT" and base != "BTC")
    extras = [*EXTRA_SYMBOLS, *([(f"{alts[0]}BULLUSDT", f"{alts[0]}BULL", "USDT", "TRADING", (("SPOT",),))]
                                if alts else [])]  # fmt: skip
    return out + [row for row in extras if row[0] not in known]


def _list_param(request: EmuRequest, name: str) -> list[str] | None:
    """A parameter given as one value (``SPOT``) or a JSON array (``["SPOT","MARGIN"]``); None when absent."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if not raw.startswith("["):
        return [raw]
    try:
        values = json.loads(raw)
    except ValueError:
        raise BadRequest(f"Illegal characters found in parameter '{name}'.") from None
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise BadRequest(f"Illegal characters found in parameter '{name}'.")
    return values


@route("GET", "/api/v3/exchangeInfo")
def exchange_info(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """Binance's listing with its documented parameters: ``symbol`` or ``symbols`` (an unknown one is -1121),
    ``permissions`` (one or a JSON list; default SPOT, MARGIN and LEVERAGED; not with ``symbol``/``symbols``),
    ``showPermissionSets`` (default true) and ``symbolStatus`` (TRADING, HALT or BREAK; not with a symbol)."""
    query = request.query
    one, many = query.get("symbol"), _list_param(request, "symbols")
    wanted = [one] if one is not None else many
    if one is not None and many is not None:
        return _bad_combination()
    if wanted is not None and ("permissions" in query or "symbolStatus" in query):
        return _bad_combination()
    permissions = _list_param(request, "permissions") or list(DEFAULT_PERMISSIONS)
    if any(p not in PERMISSIONS for p in permissions):
        return EmuResponse.json({"code": -1130, "msg": "Data sent for parameter 'permissions' is not valid."},
                                status=400)  # fmt: skip
    status = query.get("symbolStatus")
    if status is not None and status not in SYMBOL_STATUSES:
        return EmuResponse.json({"code": -1122, "msg": "Invalid symbolStatus."}, status=400)
    show = query.get("showPermissionSets", "true")
    if show not in ("true", "false"):
        return EmuResponse.json({"code": -1130, "msg": "Data sent for parameter 'showPermissionSets' is not "
                                                       "valid."}, status=400)  # fmt: skip
    listed = listed_symbols(emu)
    if wanted is not None:
        by_symbol = {row[0]: row for row in listed}
        if any(s not in by_symbol for s in wanted):
            return _invalid_symbol()
        rows = [by_symbol[s] for s in dict.fromkeys(wanted)]
    else:
        rows = [r for r in listed if any(p in permissions for s in r[4] for p in s)
                and (status is None or r[3] == status)]  # fmt: skip
    body = {
        "timezone": "UTC",
        "serverTime": emu.now_ms(),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
        ],
        "exchangeFilters": [],
        "symbols": [_symbol_entry(*row, show_sets=show == "true") for row in rows],
    }
    return EmuResponse.json(body, headers={WEIGHT_HEADER: "20"})


__all__ = ["MINUTE", "kline_rows", "listed_symbols", "ticker_24h"]
