"""The simulated (or replayed) perpetual-futures market every venue's routes read: which coins are listed, their
funding (settled and predicted), open interest, mark price and the venue's symbols.

Served from ``MarketDataset.funding`` (one row per settlement) and ``.open_interest`` at the virtual time:
nothing stamped after ``emu.now_ms()`` is visible, and a coin whose settlements stop (a file that ends) stops
being listed two intervals later rather than repeating its last rate for ever. The *predicted* funding of the
running period is, in replayed history, the last settled rate of that coin on that venue (premia persist; the
files know nothing in between); in the simulated market it moves from the last settlement towards the next one
as the period elapses, as a live prediction does. The mark price is the venue's own market where the dataset has
it (Binance USD-M mark or traded klines, Bybit linear klines), else spot, whichever has the most recent
information, never a price from after ``now`` (:func:`~emulator.klines.latest_price`).

The venues' own formats are in their route modules (``routes_binance_futures``, ``routes_bybit``, ``routes_okx``,
``routes_hyperliquid``), which all read this one market.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from emulator.core import Emulator
from emulator.dataset import SPOT
from emulator.klines import latest_price
from records.derivs import CoinKey
from sources.symbols import PARSERS, venue_symbol

HOUR = 3_600_000


DAY = 24 * HOUR


@dataclass
class Series:
    """One coin on one venue: settlement times and rates, or OI sample times, base amounts and prices."""

    times: np.ndarray
    values: np.ndarray
    extra: np.ndarray  # funding: interval hours; open interest: USD price


def _split(frame: pd.DataFrame, exchange: str, value_col: str, extra_col: str) -> dict[str, Series]:
    views = _split_sorted(frame, exchange, value_col, extra_col)
    if views is not None:
        return views
    sub = frame[frame["exchange"] == exchange]
    out: dict[str, Series] = {}
    for coin, group in sub.groupby("coin", sort=True):
        order = np.argsort(group["time"].to_numpy(np.int64), kind="stable")
        out[str(coin)] = Series(
            group["time"].to_numpy(np.int64)[order],
            group[value_col].to_numpy(float)[order],
            group[extra_col].to_numpy(float)[order],
        )
    return out


def _split_sorted(frame: pd.DataFrame, exchange: str, value_col: str, extra_col: str) -> dict[str, Series] | None:
    """The split as views into ``frame``'s columns when its rows are already grouped by exchange and coin, each coin
    in time order (the demo sorts them so, :func:`emulator.demo.build_demo_dataset`): no copy of the ~475k OI rows.
    None when they are not (then :func:`_split` copies)."""
    rows = np.flatnonzero((frame["exchange"] == exchange).to_numpy(bool))
    if not len(rows):
        return {}
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    if hi - lo != len(rows):
        return None
    coins = frame["coin"].to_numpy(object)[lo:hi]
    starts = np.flatnonzero(np.r_[True, coins[1:] != coins[:-1]])
    ends = np.r_[starts[1:], len(coins)]
    names = [str(coins[i]) for i in starts]
    times = frame["time"].to_numpy(np.int64)[lo:hi]
    # One run per coin, each in time order (time drops only where a new coin's run starts).
    drops = np.flatnonzero(np.diff(times) < 0) + 1
    if len(set(names)) != len(names) or not np.isin(drops, starts).all():
        return None
    values = frame[value_col].to_numpy(float)[lo:hi]
    extra = frame[extra_col].to_numpy(float)[lo:hi]
    return {name: Series(times[a:b], values[a:b], extra[a:b])
            for name, a, b in sorted(zip(names, starts.tolist(), ends.tolist(), strict=True))}  # fmt: skip


def funding_series(emu: Emulator, exchange: str) -> dict[str, Series]:
    """coin -> settlements on ``exchange`` (memoised per dataset frame)."""
    return _series(emu, emu.dataset.funding, "derivs-funding", exchange, "rate", "interval_hours")


def oi_series(emu: Emulator, exchange: str) -> dict[str, Series]:
    """coin -> open-interest samples on ``exchange`` (memoised per dataset frame)."""
    return _series(emu, emu.dataset.open_interest, "derivs-oi", exchange, "oi_base", "price")


def _series(emu: Emulator, frame: pd.DataFrame | None, kind: str, exchange: str, values: str,
            extra: str) -> dict[str, Series]:  # fmt: skip
    if frame is None:
        return {}
    key = (kind, exchange, id(frame))
    if key not in emu.cache:
        emu.cache[key] = _split(frame, exchange, values, extra)
    result: dict[str, Series] = emu.cache[key]
    return result


@dataclass(frozen=True)
class Current:
    """The running funding period of one coin on one venue at the virtual time."""

    rate: float  # predicted rate for the period settling at ``next_ms`` (= the last settled rate)
    interval_hours: float
    last_ms: int  # the last settlement at or before now
    last_rate: float
    next_ms: int


def current_funding(emu: Emulator, exchange: str, coin: str, now: int) -> Current | None:
    """The predicted funding of the running period, or None when the coin has not settled yet or its settlements
    ended more than two intervals ago (the data stops: the venue no longer lists it)."""
    series = funding_series(emu, exchange).get(coin)
    if series is None:
        return None
    i = int(np.searchsorted(series.times, now, side="right")) - 1
    if i < 0:
        return None
    interval = float(series.extra[i])
    step = int(interval * HOUR)
    last = int(series.times[i])
    if i == len(series.times) - 1 and now - last > 2 * step:
        return None
    next_ms = last + step * ((now - last) // step + 1)
    settled = float(series.values[i])
    rate = settled
    if emu.dataset.simulated and i + 1 < len(series.times):
        # A real predicted rate moves with the premium all period long; the simulation knows where it settles,
        # so it walks there. (Replayed history knows only settlements: its prediction is the last one, no more.)
        frac = min(1.0, max(0.0, (now - last) / max(1, int(series.times[i + 1]) - last)))
        rate = settled + frac * (float(series.values[i + 1]) - settled)
    return Current(rate, interval, last, settled, next_ms)


def listed_coins(emu: Emulator, exchange: str, now: int) -> list[str]:
    """Coins with at least one settlement at or before ``now`` on ``exchange``."""
    return [c for c, s in funding_series(emu, exchange).items() if len(s.times) and s.times[0] <= now]


def spot_price(emu: Emulator, coin: str, now: int) -> float | None:
    """USD price of one coin at ``now`` on Binance spot (None if unknown), never from after ``now``."""
    found = latest_price(emu.dataset.spot_klines.get(coin + "USDT"), now, interpolate=emu.dataset.simulated,
                         cache=emu.cache)  # fmt: skip
    return None if found is None else found[0]


def venue_price(emu: Emulator, exchange: str, coin: str, now: int) -> float | None:
    """USD per coin on ``exchange``'s own market where the dataset has it, else spot: the most recent known."""
    best: tuple[int, int, float] | None = None
    markets = (*VENUE_MARKETS.get(exchange, ()), SPOT)
    for rank, market in enumerate(markets):
        found = latest_price(emu.dataset.markets.get(market, {}).get(coin + "USDT"), now,
                             interpolate=emu.dataset.simulated, cache=emu.cache)  # fmt: skip
        if found is not None and (best is None or (found[1], -rank) > best[:2]):
            best = (found[1], -rank, found[0])
    return None if best is None else best[2]


@dataclass(frozen=True)
class Day:
    """Rolling 24-hour spot statistics of one coin (USD per coin; volumes in coins and USD)."""

    open: float
    high: float
    low: float
    volume: float
    quote_volume: float


def spot_24h(emu: Emulator, coin: str, now: int) -> Day | None:
    """24 h statistics from the hourly spot frame, numpy only. The running hour counts pro rata in a simulated
    market; in real history only what had happened by ``now`` counts (its open, no volume yet)."""
    frames = emu.dataset.spot_klines.get(coin + "USDT") or {}
    if HOUR not in frames:
        return None
    key = ("derivs-spot24", coin, id(frames[HOUR]))
    if key not in emu.cache:
        f = frames[HOUR]
        emu.cache[key] = tuple(
            f[c].to_numpy(np.int64 if c == "open_time" else float)
            for c in ("open_time", "open", "high", "low", "volume", "quote_volume")
        )
    times, opens, highs, lows, vols, quotes = emu.cache[key]
    lo = int(np.searchsorted(times, now - DAY, side="right")) - 1
    hi = int(np.searchsorted(times, now, side="right"))
    lo = max(lo, 0)
    if hi <= lo:
        return None
    frac = np.ones(hi - lo)
    running = times[hi - 1] + HOUR > now
    frac[-1] = min(1.0, (now - times[hi - 1]) / HOUR) if emu.dataset.simulated or not running else 0.0
    frac[0] = min(frac[0], 1.0 - max(0.0, (now - DAY - times[lo]) / HOUR))
    high, low = highs[lo:hi], lows[lo:hi]
    if running and not emu.dataset.simulated:
        # The running hour's range is not known yet: only its open.
        high = np.r_[high[:-1], opens[hi - 1]]
        low = np.r_[low[:-1], opens[hi - 1]]
    return Day(
        float(opens[lo]),
        float(high.max()),
        float(low.min()),
        float((vols[lo:hi] * frac).sum()),
        float((quotes[lo:hi] * frac).sum()),
    )


def oi_at(emu: Emulator, exchange: str, coin: str, now: int) -> tuple[int, float, float] | None:
    """(sample time, open interest in coins, USD price) of the last OI sample at or before ``now``."""
    series = oi_series(emu, exchange).get(coin)
    if series is None:
        return None
    i = int(np.searchsorted(series.times, now, side="right")) - 1
    if i < 0:
        return None
    return int(series.times[i]), float(series.values[i]), float(series.extra[i])


def mark_price(emu: Emulator, exchange: str, coin: str, now: int) -> float | None:
    """USD per coin: the venue's price at ``now`` (:func:`venue_price`), else the last OI sample's price."""
    price = venue_price(emu, exchange, coin, now)
    if price is not None:
        return price
    oi = oi_at(emu, exchange, coin, now)
    return oi[2] if oi else None


def resolve(exchange: str, symbol: str) -> CoinKey | None:
    """A venue symbol -> coin key, only if it is the symbol the venue uses for that coin."""
    key = PARSERS[exchange](symbol)
    if key is None or venue_symbol(exchange, key.coin) != (symbol, key.multiplier):
        return None
    return key


def dec(value: float, significant: int = 10) -> str:
    """A plain decimal string (never exponent notation) with about ``significant`` digits."""
    if value == 0 or not np.isfinite(value):
        return "0"
    decimals = max(0, min(12, significant - 1 - int(np.floor(np.log10(abs(value))))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def window_rows(
    times: np.ndarray, start: int | None, end: int | None, now: int, limit: int, *, oldest_first: bool = True
) -> np.ndarray:
    """Rows in [start, min(end, now)]: the first ``limit`` from ``start``, else the last ``limit``."""
    hi_t = now if end is None else min(end, now)
    lo = 0 if start is None else int(np.searchsorted(times, start, side="left"))
    hi = int(np.searchsorted(times, hi_t, side="right"))
    if hi <= lo:
        return np.arange(0)
    idx = np.arange(lo, min(hi, lo + limit)) if start is not None else np.arange(max(lo, hi - limit), hi)
    return idx if oldest_first else idx[::-1]


#: Where each venue's own prices live in a dataset, best first; spot is the stand-in when none is there.
VENUE_MARKETS: dict[str, tuple[str, ...]] = {
    "binance": ("binance_usdm_mark", "binance_usdm"),
    "bybit": ("bybit_linear",),
    "okx": (),
    "hyperliquid": (),
}
