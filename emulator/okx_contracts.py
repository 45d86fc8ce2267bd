"""The emulator's OKX instrument table: contract sizes (``ctVal``) of the swaps it lists, one table for every route.

The instruments endpoint, the open-interest route (``oi`` in contracts), the liquidation websocket and the REST
fallback (``sz`` in contracts) all size contracts from :func:`contract_value`, so the console, which loads the
table from ``/api/v5/public/instruments`` as it does live, reads back exactly the coins the dataset holds. Known
coins carry OKX's usual sizes (BTC 0.01 and ETH 0.1 as OKX documents; the others as OKX lists them, not checked
one by one); any other coin gets a power of ten putting one contract at 10-100 USD at its first price.
"""

from __future__ import annotations

import math

from emulator.core import Emulator
from emulator.perp_market import oi_series

CT_VAL: dict[str, float] = {
    "BTC": 0.01, "ETH": 0.1, "XRP": 100, "BNB": 0.01, "SOL": 1, "DOGE": 1000, "TRX": 1000, "ADA": 100,
    "LINK": 1, "AVAX": 1, "SUI": 1, "XLM": 100, "BCH": 0.1, "HBAR": 100, "LTC": 1, "DOT": 1, "TON": 1, "UNI": 1,
    "NEAR": 10, "AAVE": 0.1, "PEPE": 10_000_000,
}  # fmt: skip


def contract_value(emu: Emulator, coin: str) -> float:
    """Coins per contract of ``coin``'s USDT swap on the emulated OKX."""
    if coin in CT_VAL:
        return float(CT_VAL[coin])
    key = ("okx-ct-val", coin)
    if key not in emu.cache:
        emu.cache[key] = 10.0 ** math.ceil(math.log10(10.0 / max(_first_price(emu, coin), 1e-12)))
    return float(emu.cache[key])


def _first_price(emu: Emulator, coin: str) -> float:
    series = oi_series(emu, "okx").get(coin)
    if series is not None and len(series.extra):
        return float(series.extra[0])
    frames = emu.dataset.spot_klines.get(f"{coin}USDT") or {}
    for frame in frames.values():
        if len(frame):
            return float(frame["close"].iloc[0])
    return 1.0


def okx_table(emu: Emulator, coins: list[str]) -> dict[str, float]:
    """instId -> ctVal for ``coins``."""
    return {f"{c}-USDT-SWAP": contract_value(emu, c) for c in coins}
