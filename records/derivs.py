"""Perpetual-futures records: funding quotes, open interest, bulk venue snapshots and the history frame schemas.

Every figure is per **coin** and in **US dollars**, whatever the venue's units (sources do the conversion, see
:mod:`sources.symbols`). Funding is a fraction of notional per interval; the console compares venues on the
8-hour equivalent ``rate_8h = rate * 8 / interval_hours`` and shows the yearly carry ``rate_8h * 3 * 365``.
Positive funding means longs pay shorts (crowded long); 0.01%/8h (0.0001) is the usual baseline.
"""

from __future__ import annotations

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
    ``next_funding_time`` the next settlement (UTC), None when unknown; ``index_price`` the venue's index (spot
    reference, USD per coin; Hyperliquid's oracle), None where the bulk call has none (OKX): the perp's *basis* is
    mark against it.
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
    index_price: float | None = None

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


#: The two positioning ratios: every account with a position (``accounts``: Binance's global account ratio,
#: Bybit's account ratio) and the top traders' positions weighted by size (``top_positions``: Binance only).
LONG_SHORT_KINDS = ("accounts", "top_positions")


@dataclass(frozen=True)
class LongShortRatio:
    """One long/short positioning sample of a perp on one venue, at ``time`` (the period's time stamp, UTC).

    ``kind`` ``accounts``: the share of accounts holding a net long (``long_share``) or net short position, each
    account counted once, however big: a crowd gauge (retail leans long; above ~2, i.e. two in three accounts long,
    the crowd is crowded). ``top_positions``: Binance's top 20 % of users by margin balance, their long and short
    *positions* as shares of their open positions: where the big money leans. ``ratio`` is long / short share
    (above 1: more long), as the venue gives it (Binance) or computed from the shares (Bybit); ``long_share`` and
    ``short_share`` are fractions (0.66 = 66 %) summing to ~1. A crowd far longer than the top traders into a
    falling market is the fuel of a long flush.
    """

    coin: str
    exchange: str
    kind: str  # one of LONG_SHORT_KINDS
    ratio: float
    long_share: float
    short_share: float
    time: pd.Timestamp
    symbol: str = ""
    period: str = ""  # the venue's period name ("5m" on Binance, "5min" on Bybit)


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


#: Funding history: one row per settlement. ``time`` UTC settlement time, ``rate`` per interval, ``rate_8h``.
FUNDING_HISTORY_COLUMNS = ["time", "coin", "exchange", "symbol", "rate", "interval_hours", "rate_8h"]


#: Open-interest history: ``oi_base`` coins, ``oi_usd`` US dollars.
OI_HISTORY_COLUMNS = ["time", "coin", "exchange", "symbol", "oi_base", "oi_usd"]


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
