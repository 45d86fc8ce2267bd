"""Perpetual-swap symbols mapped to one coin key, and the shared records every derivatives source returns.

Why this matters to a trader: the same market hides behind different names and units on each venue.
Binance and Bybit list low-priced coins in blocks of 1000 (``1000PEPEUSDT``: one contract unit is 1000
PEPE and its price is the price of 1000 PEPE), Hyperliquid does the same with a ``k`` prefix (``kPEPE``),
OKX names swaps ``PEPE-USDT-SWAP`` and counts open interest in contracts. Before funding or open interest
can be compared across venues, every figure is converted to **one coin** and **US dollars**:

- ``price_per_coin = venue_price / multiplier``
- ``oi_base (coins) = venue_quantity * multiplier``; ``oi_usd = oi_base * price_per_coin``
- funding rates are fractions of notional, so the multiplier does not touch them.

Funding is paid every ``interval_hours`` (1 h on Hyperliquid, 8 h on most Binance/OKX/Bybit swaps, 1/2/4
h on volatile coins). The console compares venues on the **8-hour equivalent**: ``rate_8h = rate * 8 /
interval_hours``, and shows the yearly carry ``annualised = rate_8h * 3 * 365``. Positive funding means
longs pay shorts (crowded long); 0.01%/8h (0.0001) is the usual baseline.

Only USDT-margined perpetuals are mapped. COIN-margined (``BTCUSD_PERP``), USDC (``BTCPERP``), dated
contracts (``BTCUSDT_250328``, ``BTC-USDT-250328``) and Hyperliquid builder-deployed dexes (``xyz:NVDA``)
return ``None``.
"""

from __future__ import annotations

import re

import numpy as np

from records.derivs import HOUR_MS, CoinKey

# --- venue symbol -> coin ---

# Binance/Bybit prefix multipliers (1000PEPEUSDT, 10000LADYSUSDT, 1000000MOGUSDT); the coin must start with a
# letter right after the prefix, so 1INCHUSDT stays 1INCH.
_USDT_PERP = re.compile(r"^(?:(1000000|100000|10000|1000)(?=[A-Z]))?([A-Z0-9]+)USDT$")
# Bybit's older suffix form: SHIB1000USDT.
_USDT_SUFFIX = re.compile(r"^([A-Z][A-Z0-9]*?)(1000)USDT$")
_OKX_SWAP = re.compile(r"^([A-Z0-9]+)-USDT-SWAP$")
_HL_SCALED = re.compile(r"^k([A-Z][A-Z0-9]*)$")
_HL_PLAIN = re.compile(r"^[A-Z0-9]+$")


def binance_symbol(symbol: str) -> CoinKey | None:
    """``BTCUSDT`` -> BTC; ``1000PEPEUSDT`` -> PEPE x1000; dated (``BTCUSDT_250328``) and COIN-M -> None."""
    return _usdt_linear(symbol)


def bybit_symbol(symbol: str) -> CoinKey | None:
    """Bybit linear USDT perps: like Binance, plus the ``SHIB1000USDT`` suffix form; USDC/dated -> None."""
    return _usdt_linear(symbol)


def _usdt_linear(symbol: str) -> CoinKey | None:
    if not symbol or "_" in symbol or "-" in symbol:
        return None
    match = _USDT_SUFFIX.match(symbol)
    if match and match.group(1):
        return CoinKey(match.group(1), int(match.group(2)))
    match = _USDT_PERP.match(symbol)
    if not match:
        return None
    return CoinKey(match.group(2), int(match.group(1) or 1))


def okx_symbol(inst_id: str) -> CoinKey | None:
    """``BTC-USDT-SWAP`` -> BTC (OKX prices are per coin; contract size is ``ctVal``); others -> None."""
    match = _OKX_SWAP.match(inst_id or "")
    return CoinKey(match.group(1)) if match else None


def hyperliquid_symbol(name: str) -> CoinKey | None:
    """``BTC`` -> BTC; ``kPEPE`` -> PEPE x1000; builder dexes (``xyz:NVDA``) and odd names -> None."""
    if not name or ":" in name:
        return None
    match = _HL_SCALED.match(name)
    if match:
        return CoinKey(match.group(1), 1000)
    return CoinKey(name) if _HL_PLAIN.match(name) else None


#: Coins each venue lists in 1000-coin units (real listings: 1000PEPEUSDT, 1000SHIBUSDT, 1000BONKUSDT,
#: 1000FLOKIUSDT on Binance and Bybit; kPEPE, kSHIB, kBONK, kFLOKI on Hyperliquid). The emulator names its
#: symbols from this table; the parsers never need it (they read the multiplier from the symbol).
SCALED_COINS: dict[str, dict[str, int]] = {
    "binance": {"PEPE": 1000, "SHIB": 1000, "BONK": 1000, "FLOKI": 1000},
    "bybit": {"PEPE": 1000, "SHIB": 1000, "BONK": 1000, "FLOKI": 1000},
    "hyperliquid": {"PEPE": 1000, "SHIB": 1000, "BONK": 1000, "FLOKI": 1000},
    "okx": {},
}


def venue_symbol(exchange: str, coin: str) -> tuple[str, int]:
    """The venue's symbol for ``coin`` and its multiplier, e.g. ("1000PEPEUSDT", 1000), ("kPEPE", 1000)."""
    mult = SCALED_COINS.get(exchange, {}).get(coin, 1)
    if exchange in ("binance", "bybit"):
        return (f"{mult}{coin}USDT" if mult > 1 else f"{coin}USDT"), mult
    if exchange == "okx":
        return f"{coin}-USDT-SWAP", 1
    if exchange == "hyperliquid":
        return (f"k{coin}" if mult == 1000 else coin), mult
    raise ValueError(f"unknown exchange {exchange!r}")


PARSERS = {
    "binance": binance_symbol,
    "bybit": bybit_symbol,
    "okx": okx_symbol,
    "hyperliquid": hyperliquid_symbol,
}


# --- history frames shared by the sources ---

MAX_INTERVAL_HOURS = 8.0  # no venue here settles less often than every 8 h


def infer_interval_hours(times_ms: np.ndarray, default: float) -> np.ndarray:
    """Funding interval of each settlement from the spacing of settlement times (sorted ascending).

    A row's period runs from the previous settlement to its own; the first row uses the next gap. Gaps are
    rounded to whole hours (Binance stamps settlements a few ms late) and capped at 8 h, so a missing row does
    not read as a 16-hour period. With a single row the venue's ``default`` is used.
    """
    times = np.asarray(times_ms, dtype=np.int64)
    if len(times) < 2:
        return np.full(len(times), float(default))
    gaps = np.round(np.diff(times) / HOUR_MS)
    intervals = np.concatenate([gaps[:1], gaps])
    intervals = np.where(intervals <= 0, default, np.minimum(intervals, MAX_INTERVAL_HOURS))
    return intervals.astype(float)


