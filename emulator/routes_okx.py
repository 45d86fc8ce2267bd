"""Emulated OKX v5 ``/api/v5/public/funding-rate``, ``/funding-rate-history`` and ``/open-interest``.

Formats follow the OKX v5 docs (2026 copy): envelope ``{code, msg, data}`` with every value a string;
``funding-rate`` accepts one ``instId`` or ``ANY`` (all swaps); its ``fundingTime`` is the *upcoming*
settlement, ``nextFundingTime`` the one after (their difference is the interval), ``fundingRate`` the
predicted rate (here: the last settled one) and ``settFundingRate`` the last settled rate. History is newest
first, ``limit`` max 400 (default 400), ``after`` = older than, ``before`` = newer than, three months kept.
``open-interest`` needs ``instType`` and returns all swaps without ``instId``; ``oi`` is in contracts of
``ctVal`` coins (a power of ten chosen so one contract is worth 10-100 USD at the coin's first price),
``oiCcy`` in coins, ``oiUsd`` in USD. Errors carry ``code`` in the envelope and the HTTP status of OKX's REST
error-code table (docs page copy of 2026-07-13): ``50014``/``50015``/``51000`` (bad or missing parameter) with
400, ``51001`` (unknown instrument) with 200, ``50011`` (rate limit) with 429. ``/api/v5/public/instruments``
serves the emulator's contract sizes (:mod:`emulator.okx_contracts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from emulator import perp_market as market
from emulator.core import Emulator, route
from emulator.okx_contracts import contract_value
from emulator.wire import BadRequest, EmuRequest, EmuResponse, int_param

EXCHANGE = "okx"
HISTORY_DAYS = 92
HISTORY_MAX = 400


def _ok(data: Sequence[Mapping[str, object]]) -> EmuResponse:
    return EmuResponse.json({"code": "0", "msg": "", "data": data})


#: HTTP status of each OKX error code (OKX "REST API error codes"; unlisted codes come with 200).
HTTP_STATUS = {"50011": 429, "50013": 429, "50014": 400, "50015": 400, "51000": 400, "50005": 410}


def error_response(code: str, message: str) -> EmuResponse:
    return EmuResponse.json({"code": code, "msg": message, "data": []}, status=HTTP_STATUS.get(code, 200))


def _error(code: str, message: str) -> EmuResponse:
    return error_response(code, message)


def _funding_item(emu: Emulator, coin: str, now: int) -> dict[str, object] | None:
    current = market.current_funding(emu, EXCHANGE, coin, now)
    if current is None:
        return None
    step = int(current.interval_hours * 3_600_000)
    rate = market.dec(current.rate, 10)
    return {
        "formulaType": "withRate",
        "fundingRate": rate,
        "fundingTime": str(current.next_ms),
        "impactValue": "",
        "instId": f"{coin}-USDT-SWAP",
        "instType": "SWAP",
        "interestRate": "0.0001",
        "maxFundingRate": market.dec(0.015 * current.interval_hours / 8),
        "method": "current_period",
        "minFundingRate": market.dec(-0.015 * current.interval_hours / 8),
        "nextFundingRate": "",
        "nextFundingTime": str(current.next_ms + step),
        "premium": market.dec(current.rate - 0.0001 * current.interval_hours / 8, 10),
        "settFundingRate": market.dec(current.last_rate, 10),
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
        items = [i for c in market.listed_coins(emu, EXCHANGE, now) if (i := _funding_item(emu, c, now))]
        return _ok(items)
    key = market.resolve(EXCHANGE, inst_id)
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
    key = market.resolve(EXCHANGE, inst_id)
    series = market.funding_series(emu, EXCHANGE).get(key.coin) if key else None
    if key is None or series is None:
        return _error("51001", "Instrument ID or Spread ID doesn't exist.")
    times = series.times
    ok = (times <= now) & (times >= now - HISTORY_DAYS * market.DAY)
    if after is not None:
        ok &= times < after
    if before is not None:
        ok &= times > before
    idx = ok.nonzero()[0][::-1][:limit]  # newest first
    data = [
        {
            "formulaType": "withRate",
            "fundingRate": market.dec(float(series.values[i]), 10),
            "fundingTime": str(int(times[i])),
            "instId": inst_id,
            "instType": "SWAP",
            "method": "current_period",
            "realizedRate": market.dec(float(series.values[i]), 10),
        }
        for i in idx
    ]
    return _ok(data)


@route("GET", "/api/v5/public/instruments")
def instruments(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """Every listed USDT swap with its contract size (the table the console sizes ``sz`` with)."""
    inst_type = request.query.get("instType", "")
    if not inst_type:
        return _error("50014", "Parameter instType can not be empty")
    if inst_type != "SWAP":
        return _ok([])
    now = emu.now_ms()
    listed = set(market.listed_coins(emu, EXCHANGE, now)) | set(market.oi_series(emu, EXCHANGE))
    coins = sorted(listed | _liquidated(emu))
    inst_id = request.query.get("instId")
    if inst_id:
        coins = [c for c in coins if f"{c}-USDT-SWAP" == inst_id]
    data = [
        {
            "instType": "SWAP", "instId": f"{c}-USDT-SWAP", "uly": f"{c}-USDT", "instFamily": f"{c}-USDT",
            "instCategory": "1", "ctVal": market.dec(contract_value(emu, c), 12), "ctMult": "1", "ctValCcy": c,
            "ctType": "linear", "settleCcy": "USDT", "state": "live", "listTime": "1606468572000",
            "expTime": "", "lotSz": "0.01", "minSz": "0.01", "tickSz": "0.0001", "ruleType": "normal",
        }
        for c in coins
    ]
    return _ok(data)


def _liquidated(emu: Emulator) -> set[str]:
    frame = emu.dataset.liquidations
    if frame is None or not len(frame):
        return set()
    return {str(c) for c in frame.loc[frame["exchange"] == EXCHANGE, "coin"].unique()}


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
        key = market.resolve(EXCHANGE, inst_id)
        if key is None:
            return _error("51001", "Instrument ID or Spread ID doesn't exist.")
        coins = [key.coin]
    else:
        coins = sorted(market.oi_series(emu, EXCHANGE))
        if family:
            coins = [c for c in coins if f"{c}-USDT" == family]
    data = []
    for coin in coins:
        oi = market.oi_at(emu, EXCHANGE, coin, now)
        price = market.mark_price(emu, EXCHANGE, coin, now)
        if oi is None or price is None:
            continue
        ct_val = contract_value(emu, coin)
        data.append({
            "instType": "SWAP",
            "instId": f"{coin}-USDT-SWAP",
            "oi": f"{oi[1] / ct_val:.0f}",
            "oiCcy": market.dec(oi[1], 12),
            "oiUsd": market.dec(oi[1] * price, 14),
            "ts": str(now),
        })  # fmt: skip
    return _ok(data)
