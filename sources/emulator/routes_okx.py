"""Emulated OKX v5 ``/api/v5/public/funding-rate``, ``/funding-rate-history`` and ``/open-interest``.

Formats follow the OKX v5 docs (2026 copy): envelope ``{code, msg, data}`` with every value a string;
``funding-rate`` accepts one ``instId`` or ``ANY`` (all swaps); its ``fundingTime`` is the *upcoming*
settlement, ``nextFundingTime`` the one after (their difference is the interval), ``fundingRate`` the
predicted rate (here: the last settled one) and ``settFundingRate`` the last settled rate. History is newest
first, ``limit`` max 400 (default 400), ``after`` = older than, ``before`` = newer than, three months kept.
``open-interest`` needs ``instType`` and returns all swaps without ``instId``; ``oi`` is in contracts of
``ctVal`` coins (a power of ten chosen so one contract is worth 10-100 USD at the coin's first price),
``oiCcy`` in coins, ``oiUsd`` in USD. Errors: HTTP 200 with ``code`` ``51001`` (unknown instrument) or
``50014`` (missing parameter) [HTTP status of these unverified].
"""

from __future__ import annotations

import math

from sources.emulator.core import BadRequest, Emulator, EmuRequest, EmuResponse, route
from sources.emulator.routes_binance_futures import (
    DAY,
    current_funding,
    dec,
    funding_series,
    int_param,
    listed_coins,
    mark_price,
    oi_at,
    oi_series,
    resolve,
)

EXCHANGE = "okx"
HISTORY_DAYS = 92
HISTORY_MAX = 400


def _ok(data: list[dict[str, object]]) -> EmuResponse:
    return EmuResponse.json({"code": "0", "msg": "", "data": data})


def _error(code: str, message: str) -> EmuResponse:
    return EmuResponse.json({"code": code, "msg": message, "data": []})


def _funding_item(emu: Emulator, coin: str, now: int) -> dict[str, object] | None:
    current = current_funding(emu, EXCHANGE, coin, now)
    if current is None:
        return None
    step = int(current.interval_hours * 3_600_000)
    rate = dec(current.rate, 10)
    return {
        "formulaType": "withRate",
        "fundingRate": rate,
        "fundingTime": str(current.next_ms),
        "impactValue": "",
        "instId": f"{coin}-USDT-SWAP",
        "instType": "SWAP",
        "interestRate": "0.0001",
        "maxFundingRate": dec(0.015 * current.interval_hours / 8),
        "method": "current_period",
        "minFundingRate": dec(-0.015 * current.interval_hours / 8),
        "nextFundingRate": "",
        "nextFundingTime": str(current.next_ms + step),
        "premium": dec(current.rate - 0.0001 * current.interval_hours / 8, 10),
        "settFundingRate": dec(current.last_rate, 10),
        "settState": "settled",
        "ts": str(now),
    }


@route("GET", "/api/v5/public/funding-rate")
def funding_rate(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    inst_id = request.query.get("instId", "")
    if not inst_id:
        return _error("50014", "Parameter instId can not be empty")
    if inst_id == "ANY":
        items = [i for c in listed_coins(emu, EXCHANGE, now) if (i := _funding_item(emu, c, now))]
        return _ok(items)
    key = resolve(EXCHANGE, inst_id)
    item = _funding_item(emu, key.coin, now) if key else None
    if item is None:
        return _error("51001", "Instrument ID or Spread ID doesn't exist.")
    return _ok([item])


@route("GET", "/api/v5/public/funding-rate-history")
def funding_rate_history(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    inst_id = request.query.get("instId", "")
    if not inst_id:
        return _error("50014", "Parameter instId can not be empty")
    try:
        limit = int_param(request, "limit")
        after, before = int_param(request, "after"), int_param(request, "before")
    except BadRequest:
        return _error("51000", "Parameter limit/after/before error")
    limit = HISTORY_MAX if limit is None else max(1, min(limit, HISTORY_MAX))
    key = resolve(EXCHANGE, inst_id)
    series = funding_series(emu, EXCHANGE).get(key.coin) if key else None
    if key is None or series is None:
        return _error("51001", "Instrument ID or Spread ID doesn't exist.")
    times = series.times
    ok = (times <= now) & (times >= now - HISTORY_DAYS * DAY)
    if after is not None:
        ok &= times < after
    if before is not None:
        ok &= times > before
    idx = ok.nonzero()[0][::-1][:limit]  # newest first
    data = [
        {
            "formulaType": "withRate",
            "fundingRate": dec(float(series.values[i]), 10),
            "fundingTime": str(int(times[i])),
            "instId": inst_id,
            "instType": "SWAP",
            "method": "current_period",
            "realizedRate": dec(float(series.values[i]), 10),
        }
        for i in idx
    ]
    return _ok(data)


def contract_value(emu: Emulator, coin: str) -> float:
    """Coins per contract: a power of ten putting one contract at 10-100 USD at the first OI price."""
    series = oi_series(emu, EXCHANGE).get(coin)
    first = float(series.extra[0]) if series is not None and len(series.extra) else 1.0
    return 10.0 ** math.ceil(math.log10(10.0 / first))


@route("GET", "/api/v5/public/open-interest")
def open_interest(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    inst_type = request.query.get("instType", "")
    if not inst_type:
        return _error("50014", "Parameter instType can not be empty")
    if inst_type != "SWAP":
        return _ok([])
    inst_id = request.query.get("instId")
    family = request.query.get("instFamily")
    if inst_id:
        key = resolve(EXCHANGE, inst_id)
        if key is None:
            return _error("51001", "Instrument ID or Spread ID doesn't exist.")
        coins = [key.coin]
    else:
        coins = sorted(oi_series(emu, EXCHANGE))
        if family:
            coins = [c for c in coins if f"{c}-USDT" == family]
    data = []
    for coin in coins:
        oi = oi_at(emu, EXCHANGE, coin, now)
        price = mark_price(emu, EXCHANGE, coin, now)
        if oi is None or price is None:
            continue
        ct_val = contract_value(emu, coin)
        data.append({
            "instType": "SWAP",
            "instId": f"{coin}-USDT-SWAP",
            "oi": f"{oi[1] / ct_val:.0f}",
            "oiCcy": dec(oi[1], 12),
            "oiUsd": dec(oi[1] * price, 14),
            "ts": str(now),
        })  # fmt: skip
    return _ok(data)
