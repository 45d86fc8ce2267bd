"""Emulated OKX ``GET /api/v5/public/liquidation-orders``: the REST fallback for liquidations, from the
dataset.

Semantics follow older OKX doc copies and 2026 third-party probes (the endpoint is no longer in OKX's 2026
docs but still answers): ``instType`` is required; for ``SWAP`` one of ``uly`` / ``instFamily`` (``BTC-USDT``)
is required, else error ``50015``; ``state=filled`` (``unfilled`` has no rows here); ``limit`` 1..100 (default
100); ``after``/``before`` page by ``ts`` (older than / newer than). Rows are the dataset's OKX liquidations up
to the virtual now and at most 7 days old, newest first, ``sz`` in contracts of the emulator's instrument table
(:mod:`emulator.okx_contracts`). Errors carry the HTTP status OKX's error-code table gives them (50014,
50015, 51000: 400; 51001: 200; see :data:`emulator.routes_okx.HTTP_STATUS`).
"""

from __future__ import annotations

import numpy as np

from emulator.core import Emulator, route
from emulator.okx_contracts import contract_value
from emulator.wire import EmuRequest, EmuResponse
from emulator.ws_streams import decimal_str, venue_tape
from records.liquidations import OKX
from sources.liquidations import OKX_REST_PATH

HISTORY_MS = 7 * 24 * 3_600_000


def _error(code: str, msg: str) -> EmuResponse:
    from emulator.routes_okx import error_response

    return error_response(code, msg)


class _ParamError(Exception):
    """A malformed numeric parameter: OKX answers code 51000 naming it."""


def _int_param(request: EmuRequest, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise _ParamError(name)
    return int(raw)


@route("GET", OKX_REST_PATH)
def liquidation_orders(request: EmuRequest, emu: Emulator) -> EmuResponse:
    inst_type = request.query.get("instType", "")
    if not inst_type:
        return _error("50014", "Parameter instType can not be empty.")
    if inst_type not in ("SWAP", "FUTURES", "MARGIN", "OPTION"):
        return _error("51000", "Parameter instType error")
    family = request.query.get("instFamily") or request.query.get("uly") or ""
    if inst_type == "SWAP" and not family:
        return _error("50015", "Either parameter uly or instFamily is required.")
    if inst_type != "SWAP":
        return EmuResponse.json({"code": "0", "msg": "", "data": []})
    state = request.query.get("state", "unfilled")
    if state not in ("filled", "unfilled"):
        return _error("51000", "Parameter state error")
    try:
        limit = _int_param(request, "limit")
        after = _int_param(request, "after")
        before = _int_param(request, "before")
    except _ParamError as exc:
        return _error("51000", f"Parameter {exc} error")
    limit = 100 if limit is None else max(1, min(limit, 100))
    inst_id = f"{family}-SWAP"
    if family.count("-") != 1 or not family.endswith("-USDT"):
        return _error("51001", "Instrument ID does not exist")
    if state == "unfilled":
        return EmuResponse.json({"code": "0", "msg": "", "data": []})

    coin = family.split("-")[0]
    ct_val = contract_value(emu, coin)
    now = emu.now_ms()
    tape = venue_tape(emu, OKX)
    window = tape.between(now - HISTORY_MS, now + 1)
    idx = np.arange(window.start, window.stop)
    idx = idx[tape.coin[idx] == coin]
    if after is not None:
        idx = idx[tape.time[idx] < after]
    if before is not None:
        idx = idx[tape.time[idx] > before]
    idx = idx[::-1][:limit]  # newest first
    details = []
    for j in idx:
        contracts = round(float(tape.qty[j]) / ct_val, 2)
        if contracts <= 0:
            continue
        long = bool(tape.long[j])
        details.append(
            {
                "bkLoss": "0",
                "bkPx": decimal_str(float(tape.price[j])),
                "ccy": "",
                "posSide": "long" if long else "short",
                "side": "sell" if long else "buy",
                "sz": decimal_str(contracts, 10),
                "ts": str(int(tape.time[j])),
            }
        )
    data = (
        [
            {
                "details": details,
                "instFamily": family,
                "instId": inst_id,
                "instType": "SWAP",
                "totalLoss": "0",
                "uly": family,
            }
        ]
        if details
        else []
    )
    return EmuResponse.json({"code": "0", "msg": "", "data": data})
