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
from dataclasses import dataclass

import numpy as np
import pandas as pd

BASELINE_RATE_8H = 0.0001  # 0.01% per 8 h: the exchanges' default interest component, "neutral" funding
HOUR_MS = 3_600_000
EXCHANGES = ("binance", "bybit", "okx", "hyperliquid")


@dataclass(frozen=True)
class CoinKey:
    """A venue symbol resolved to a coin: one venue unit = ``multiplier`` coins."""

    coin: str
    multiplier: int = 1


@dataclass(frozen=True)
class FundingQuote:
    """The current (predicted) funding of one perp on one venue.

    ``rate`` is the fraction of notional paid per funding interval (positive: longs pay shorts);
    ``rate_8h`` the 8-hour equivalent; ``mark_price`` USD per **coin** (None when the endpoint lacks it);
    ``next_funding_time`` the next settlement (UTC), None when unknown.
    """

    coin: str
    exchange: str
    rate: float
    interval_hours: float
    rate_8h: float
    next_funding_time: pd.Timestamp | None
    mark_price: float | None
    symbol: str = ""
    as_of: pd.Timestamp | None = None

    @property
    def annualised(self) -> float:
        """Yearly carry of holding the long side: ``rate_8h * 3 * 365`` (a fraction; 0.1095 = 10.95%/yr)."""
        return annualise(self.rate_8h)


@dataclass(frozen=True)
class OpenInterest:
    """Open interest of one perp on one venue: ``oi_base`` in coins (one side), ``oi_usd`` in US dollars."""

    coin: str
    exchange: str
    oi_base: float
    oi_usd: float
    time: pd.Timestamp
    symbol: str = ""


@dataclass(frozen=True)
class DerivsSnapshot:
    """What one bulk call returns: funding quotes and (where the venue includes it) open interest."""

    exchange: str
    funding: list[FundingQuote]
    open_interest: list[OpenInterest]
    as_of: pd.Timestamp


def rate_8h(rate: float, interval_hours: float) -> float:
    """8-hour-equivalent funding: ``rate * 8 / interval_hours``."""
    return rate * 8.0 / interval_hours


def annualise(rate_8h_value: float) -> float:
    """``rate_8h * 3 * 365``: three 8-hour periods a day."""
    return rate_8h_value * 3.0 * 365.0


def ms_to_ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


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

#: Funding history: one row per settlement. ``time`` UTC settlement time, ``rate`` per interval, ``rate_8h``.
FUNDING_HISTORY_COLUMNS = ["time", "coin", "exchange", "symbol", "rate", "interval_hours", "rate_8h"]
#: Open-interest history: ``oi_base`` coins, ``oi_usd`` US dollars.
OI_HISTORY_COLUMNS = ["time", "coin", "exchange", "symbol", "oi_base", "oi_usd"]
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


def funding_history_frame(
    times_ms: np.ndarray, coin: str, exchange: str, symbol: str, rates: np.ndarray, intervals: np.ndarray
) -> pd.DataFrame:
    """Sorted funding history frame with :data:`FUNDING_HISTORY_COLUMNS`."""
    times = np.asarray(times_ms, dtype=np.int64)
    rates = np.asarray(rates, dtype=float)
    intervals = np.asarray(intervals, dtype=float)
    return pd.DataFrame(
        {
            "time": pd.to_datetime(times, unit="ms", utc=True),
            "coin": coin,
            "exchange": exchange,
            "symbol": symbol,
            "rate": rates,
            "interval_hours": intervals,
            "rate_8h": rates * 8.0 / intervals,
        },
        columns=FUNDING_HISTORY_COLUMNS,
    )


def empty_funding_history() -> pd.DataFrame:
    return funding_history_frame(np.empty(0, np.int64), "", "", "", np.empty(0), np.empty(0))


def oi_history_frame(
    times_ms: np.ndarray, coin: str, exchange: str, symbol: str, oi_base: np.ndarray, oi_usd: np.ndarray
) -> pd.DataFrame:
    """Sorted open-interest history frame with :data:`OI_HISTORY_COLUMNS`."""
    return pd.DataFrame(
        {
            "time": pd.to_datetime(np.asarray(times_ms, dtype=np.int64), unit="ms", utc=True),
            "coin": coin,
            "exchange": exchange,
            "symbol": symbol,
            "oi_base": np.asarray(oi_base, dtype=float),
            "oi_usd": np.asarray(oi_usd, dtype=float),
        },
        columns=OI_HISTORY_COLUMNS,
    )


def times_ms(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Epoch milliseconds (int64) of a datetime column, whatever its resolution; ints pass through."""
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    return pd.DatetimeIndex(values).as_unit("ms").asi8.astype(np.int64)
