"""Emulated Hyperliquid ``POST /info`` for ``metaAndAssetCtxs``, ``meta``, ``allMids`` and ``fundingHistory``.

Formats follow the hyperliquid-python-sdk docs (``assetctxs.yaml``) and real captures: ``metaAndAssetCtxs``
answers ``[{"universe": [...]}, [ctx, ...]]`` with the contexts index-aligned to the universe; ctx numbers are
strings (``funding`` per hour, ``openInterest`` in the perp's units, ``oraclePx``, ``markPx``, ``midPx``,
``premium``, ``impactPxs``, ``prevDayPx``, ``dayNtlVlm``, ``dayBaseVlm``). Names are the venue's (``kPEPE``
= 1000 PEPE). ``fundingHistory`` returns at most 500 rows from ``startTime``, oldest first. An unknown request
type gets HTTP 422, as the real server does. Every answer carries a ``Date`` header with the virtual time (the
real server sends one; the source uses it as the as-of time).
"""

from __future__ import annotations

import email.utils

from emulator import perp_market as market
from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse
from sources.symbols import hyperliquid_symbol, venue_symbol

EXCHANGE = "hyperliquid"
HISTORY_PAGE = 500


def _headers(emu: Emulator) -> dict[str, str]:
    return {"Date": email.utils.formatdate(emu.now_ms() / 1000, usegmt=True)}


def _json(emu: Emulator, payload: object) -> EmuResponse:
    return EmuResponse.json(payload, headers=_headers(emu))


def _unprocessable(emu: Emulator) -> EmuResponse:
    response = EmuResponse.text("Failed to deserialize the JSON body into the target type", status=422)
    response.headers.update(_headers(emu))
    return response


def _universe(emu: Emulator, now: int) -> list[str]:
    return market.listed_coins(emu, EXCHANGE, now)


def _asset(coin: str) -> dict[str, object]:
    name, _ = venue_symbol(EXCHANGE, coin)
    return {"szDecimals": 2, "name": name, "maxLeverage": 20, "marginTableId": 20}


def _ctx(emu: Emulator, coin: str, now: int) -> dict[str, object]:
    _, mult = venue_symbol(EXCHANGE, coin)
    current = market.current_funding(emu, EXCHANGE, coin, now)
    oracle = (market.mark_price(emu, EXCHANGE, coin, now) or 0.0) * mult
    oi = market.oi_at(emu, EXCHANGE, coin, now)
    rate = current.rate if current else 0.0
    premium = rate - 0.0000125  # hourly funding = premium + the 0.00125%/h interest component
    mark = oracle * (1 + premium)
    day = market.spot_24h(emu, coin, now)
    day_base = (day.volume if day else 0.0) / mult
    return {
        "funding": market.dec(rate, 8),
        "openInterest": market.dec((oi[1] if oi else 0.0) / mult, 10),
        "prevDayPx": market.dec((day.open * mult) if day else oracle, 6),
        "dayNtlVlm": market.dec(day_base * mark, 12),
        "premium": market.dec(premium, 8),
        "oraclePx": market.dec(oracle, 6),
        "markPx": market.dec(mark, 6),
        "midPx": market.dec(mark, 6),
        "impactPxs": [market.dec(mark * 0.99995, 6), market.dec(mark * 1.00005, 6)],
        "dayBaseVlm": market.dec(day_base, 10),
    }


@route("POST", "/info")
def info(request: EmuRequest, emu: Emulator) -> EmuResponse:
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        return _unprocessable(emu)
    if not isinstance(body, dict):
        return _unprocessable(emu)
    now = emu.now_ms()
    kind = body.get("type")
    if kind == "metaAndAssetCtxs":
        coins = _universe(emu, now)
        return _json(emu, [{"universe": [_asset(c) for c in coins]}, [_ctx(emu, c, now) for c in coins]])
    if kind == "meta":
        return _json(emu, {"universe": [_asset(c) for c in _universe(emu, now)]})
    if kind == "allMids":
        mids = {}
        for coin in _universe(emu, now):
            name, mult = venue_symbol(EXCHANGE, coin)
            price = market.mark_price(emu, EXCHANGE, coin, now)
            if price is not None:
                mids[name] = market.dec(price * mult, 6)
        return _json(emu, mids)
    if kind == "fundingHistory":
        return _funding_history(emu, body, now)
    return _unprocessable(emu)


def _funding_history(emu: Emulator, body: dict[str, object], now: int) -> EmuResponse:
    name, start, end = body.get("coin"), body.get("startTime"), body.get("endTime")
    if (
        not isinstance(name, str)
        or not isinstance(start, int)
        or (end is not None and not isinstance(end, int))
    ):
        return _unprocessable(emu)
    key = hyperliquid_symbol(name)
    if key is None or venue_symbol(EXCHANGE, key.coin) != (name, key.multiplier):
        return _json(emu, [])
    series = market.funding_series(emu, EXCHANGE).get(key.coin)
    if series is None:
        return _json(emu, [])
    idx = market.window_rows(series.times, start, end, now, HISTORY_PAGE)
    rows = [
        {
            "coin": name,
            "fundingRate": market.dec(float(series.values[i]), 8),
            "premium": market.dec(float(series.values[i]) - 0.0000125, 8),
            "time": int(series.times[i]),
        }
        for i in idx
    ]
    return _json(emu, rows)
