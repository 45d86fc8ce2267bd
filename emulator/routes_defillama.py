"""Emulated DefiLlama stablecoin chart: ``GET /stablecoincharts/all`` (host ``stablecoins.llama.fi``).

Served from ``dataset.stablecoin_supply`` (``time`` ms at the UTC day start, ``pegged_usd`` and optional
``pegged_eur``: the dollar value of the USD- and EUR-pegged stablecoins that day) in the format the real server
writes (see :mod:`sources.defillama`): one object per day, oldest first, ``date`` in epoch seconds as a string,
per-peg maps of JSON numbers rounded to cents, ``totalMintedUSD`` and ``totalBridgedToUSD`` zero for the
all-chains chart, as the server writes them. Only days that have begun by ``emu.now_ms()`` are served: a replay
never sees the future. A dataset without the history (a replay of files, which have none) answers what the real
server answers when a route's file is missing: HTTP 404 with the plain text ``Invalid request``. The
``stablecoin`` filter (one coin's chart) is not emulated and answers the same way.
"""

from __future__ import annotations

import math

import numpy as np

from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse

#: Coins per dollar of value for the EUR pegs (a fixed EUR/USD: the emulator has no FX history).
EUR_PER_USD = 1 / 1.08


def _missing() -> EmuResponse:
    return EmuResponse.text("Invalid request", status=404)


def _cents(value: float) -> float:
    return round(float(value), 2)


@route("GET", "/stablecoincharts/all")
def stablecoin_chart(request: EmuRequest, emu: Emulator) -> EmuResponse:
    frame = emu.dataset.stablecoin_supply
    if frame is None or not len(frame) or request.query.get("stablecoin"):
        return _missing()
    times = frame["time"].to_numpy(np.int64)
    visible = int(np.searchsorted(times, emu.now_ms(), side="right"))
    usd = frame["pegged_usd"].to_numpy(np.float64)
    eur = frame["pegged_eur"].to_numpy(np.float64) if "pegged_eur" in frame.columns else np.full(len(frame), np.nan)
    out = []
    for i in range(visible):
        value_usd = {"peggedUSD": _cents(usd[i])}
        coins = {"peggedUSD": _cents(usd[i])}  # a dollar coin at its peg: as many coins as dollars
        if not math.isnan(eur[i]):
            value_usd["peggedEUR"] = _cents(eur[i])
            coins["peggedEUR"] = _cents(eur[i] * EUR_PER_USD)
        zeros = dict.fromkeys(value_usd, 0)
        out.append({
            "date": str(int(times[i] // 1000)), "totalCirculating": coins, "totalUnreleased": zeros,
            "totalCirculatingUSD": value_usd, "totalMintedUSD": zeros, "totalBridgedToUSD": zeros,
        })  # fmt: skip
    return EmuResponse.json(out, headers={"Cache-Control": "public, max-age=1800"})
