"""Emulated Binance USDⓈ-M endpoints (funding, mark price, open interest) and the derivatives view shared by
the Bybit, OKX and Hyperliquid routes.

Served from ``MarketDataset.funding`` (one row per settlement) and ``.open_interest`` at the virtual time:
nothing stamped after ``emu.now_ms()`` is visible, and a coin whose settlements stop (a file that ends) stops
being listed two intervals later rather than repeating its last rate for ever. The *predicted* funding of the
running period is, in replayed history, the last settled rate of that coin on that venue (premia persist; the
files know nothing in between); in the simulated market it moves from the last settlement towards the next one
as the period elapses, as a live prediction does. The mark price is the
venue's own market where the dataset has it (Binance USD-M mark or traded klines, Bybit linear klines), else
spot, whichever has the most recent information, never a price from after ``now``
(:func:`~emulator.klines.latest_price`).

Binance formats (developers.binance.com): ``premiumIndex`` (weight 1 with ``symbol``, 10 without),
``fundingInfo`` (only symbols with an adjusted interval), ``fundingRate`` (``limit`` default 100, max 1000),
``openInterest`` (contract units), ``futures/data/openInterestHist`` (``limit`` default 30, max 500, last 30
days). Symbols are the venue's (``1000PEPEUSDT``: prices x1000, quantities /1000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.dataset import SPOT
from emulator.klines import latest_price
from emulator.wire import BadRequest, EmuRequest, EmuResponse, int_param
from records.derivs import CoinKey
from sources.symbols import PARSERS, venue_symbol

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
HOUR = 3_600_000
DAY = 24 * HOUR
OI_HIST_DAYS = 30
OI_PERIODS = {
    "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": HOUR, "2h": 2 * HOUR, "4h": 4 * HOUR,
    "6h": 6 * HOUR, "12h": 12 * HOUR, "1d": DAY,
}  # fmt: skip


# --- the derivatives view shared by every venue's routes -----------------------------------------------


@dataclass
class Series:
    """One coin on one venue: settlement times and rates, or OI sample times, base amounts and prices."""

    times: np.ndarray
    values: np.ndarray
    extra: np.ndarray  # funding: interval hours; open interest: USD price


def _split(frame: pd.DataFrame, exchange: str, value_col: str, extra_col: str) -> dict[str, Series]:
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


#: Where each venue's own prices live in a dataset, best first; spot is the stand-in when none is there.
VENUE_MARKETS: dict[str, tuple[str, ...]] = {
    "binance": ("binance_usdm_mark", "binance_usdm"),
    "bybit": ("bybit_linear",),
    "okx": (),
    "hyperliquid": (),
}


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


# --- Binance routes ----------------------------------------------------------------------------------------

EXCHANGE = "binance"


def _invalid_symbol() -> EmuResponse:
    return EmuResponse.json({"code": -1121, "msg": "Invalid symbol."}, status=400)


def _premium_item(emu: Emulator, coin: str, now: int) -> dict[str, object] | None:
    current = current_funding(emu, EXCHANGE, coin, now)
    mark = mark_price(emu, EXCHANGE, coin, now)
    if current is None or mark is None:
        return None
    symbol, mult = venue_symbol(EXCHANGE, coin)
    venue_mark = mark * mult
    return {
        "symbol": symbol,
        "markPrice": f"{venue_mark:.8f}",
        "indexPrice": f"{venue_mark / (1 + current.rate):.8f}",
        "estimatedSettlePrice": f"{venue_mark:.8f}",
        "lastFundingRate": f"{current.rate:.8f}",
        "interestRate": "0.00010000",
        "nextFundingTime": current.next_ms,
        "time": now,
    }


@route("GET", "/fapi/v1/premiumIndex")
def premium_index(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    symbol = request.query.get("symbol")
    if symbol:
        key = resolve(EXCHANGE, symbol)
        item = _premium_item(emu, key.coin, now) if key else None
        if item is None:
            return _invalid_symbol()
        return EmuResponse.json(item, headers={WEIGHT_HEADER: "1"})
    items = [i for c in listed_coins(emu, EXCHANGE, now) if (i := _premium_item(emu, c, now))]
    return EmuResponse.json(items, headers={WEIGHT_HEADER: "10"})


@route("GET", "/fapi/v1/fundingInfo")
def funding_info(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """Only symbols whose interval differs from the default 8 h, as on the real endpoint."""
    now = emu.now_ms()
    out = []
    for coin in listed_coins(emu, EXCHANGE, now):
        current = current_funding(emu, EXCHANGE, coin, now)
        if current is not None and current.interval_hours != 8:
            out.append({
                "symbol": venue_symbol(EXCHANGE, coin)[0],
                "adjustedFundingRateCap": "0.02000000",
                "adjustedFundingRateFloor": "-0.02000000",
                "fundingIntervalHours": int(current.interval_hours),
                "disclaimer": False,
            })  # fmt: skip
    return EmuResponse.json(out, headers={WEIGHT_HEADER: "0"})


class _FundingRateRow(TypedDict):
    """One settlement in ``/fapi/v1/fundingRate``'s answer."""

    symbol: str
    fundingRate: str
    fundingTime: int
    markPrice: str


@route("GET", "/fapi/v1/fundingRate")
def funding_rate(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    limit = max(1, min(int_param(request, "limit") or 100, 1000))
    start, end = int_param(request, "startTime"), int_param(request, "endTime")
    symbol = request.query.get("symbol")
    if symbol:
        key = resolve(EXCHANGE, symbol)
        if key is None:
            return _invalid_symbol()
        coins = [key.coin]
    else:
        coins = listed_coins(emu, EXCHANGE, now)
    rows: list[_FundingRateRow] = []
    for coin in coins:
        series = funding_series(emu, EXCHANGE).get(coin)
        if series is None:
            continue
        sym, mult = venue_symbol(EXCHANGE, coin)
        for i in window_rows(series.times, start, end, now, limit):
            t = int(series.times[i])
            mark = mark_price(emu, EXCHANGE, coin, t)
            rows.append({
                "symbol": sym, "fundingRate": f"{series.values[i]:.8f}", "fundingTime": t,
                "markPrice": f"{(mark or 0.0) * mult:.8f}",
            })  # fmt: skip
    rows.sort(key=lambda r: r["fundingTime"])
    rows = rows[:limit] if start is not None else rows[-limit:]
    return EmuResponse.json(rows)


@route("GET", "/fapi/v1/openInterest")
def open_interest(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    symbol = request.query.get("symbol", "")
    if not symbol:
        raise BadRequest("Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    key = resolve(EXCHANGE, symbol)
    oi = oi_at(emu, EXCHANGE, key.coin, now) if key else None
    if key is None or oi is None:
        return _invalid_symbol()
    return EmuResponse.json(
        {"openInterest": f"{oi[1] / key.multiplier:.3f}", "symbol": symbol, "time": now},
        headers={WEIGHT_HEADER: "1"},
    )


@route("GET", "/futures/data/openInterestHist")
def open_interest_hist(request: EmuRequest, emu: Emulator) -> EmuResponse:
    now = emu.now_ms()
    symbol = request.query.get("symbol", "")
    period = request.query.get("period", "")
    if not symbol or period not in OI_PERIODS:
        raise BadRequest("Invalid period or symbol.")
    key = resolve(EXCHANGE, symbol)
    series = oi_series(emu, EXCHANGE).get(key.coin) if key else None
    if key is None or series is None:
        return _invalid_symbol()
    step = OI_PERIODS[period]
    limit = max(1, min(int_param(request, "limit") or 30, 500))
    oldest = max(int(series.times[0]), now - OI_HIST_DAYS * DAY)
    grid = np.arange(-(-oldest // step) * step, now + 1, step, dtype=np.int64)
    idx = window_rows(grid, int_param(request, "startTime"), int_param(request, "endTime"), now, limit)
    rows = []
    for t in grid[idx]:
        j = int(np.searchsorted(series.times, t, side="right")) - 1
        base, price = float(series.values[j]), float(series.extra[j])
        rows.append({
            "symbol": symbol, "sumOpenInterest": f"{base / key.multiplier:.8f}",
            "sumOpenInterestValue": f"{base * price:.8f}", "timestamp": int(t),
        })  # fmt: skip
    return EmuResponse.json(rows, headers={WEIGHT_HEADER: "0"})


@route("GET", "/fapi/v1/exchangeInfo")
def exchange_info(request: EmuRequest, emu: Emulator) -> EmuResponse:
    """Every perpetual the dataset lists, in the real shape (trimmed to the fields a console reads), plus one
    stock perpetual and one delivery contract as Binance lists them in 2026, which a console must leave out."""
    now = emu.now_ms()
    symbols = [
        {"symbol": venue_symbol(EXCHANGE, c)[0], "pair": venue_symbol(EXCHANGE, c)[0], "contractType": "PERPETUAL",
         "status": "TRADING", "baseAsset": c, "quoteAsset": "USDT", "marginAsset": "USDT", "underlyingType": "COIN",
         "onboardDate": 1_569_398_400_000, "deliveryDate": 4_133_404_800_000}
        for c in listed_coins(emu, EXCHANGE, now)
    ]  # fmt: skip
    symbols += [
        {"symbol": "TSLAUSDT", "pair": "TSLAUSDT", "contractType": "TRADIFI_PERPETUAL", "status": "TRADING",
         "baseAsset": "TSLA", "quoteAsset": "USDT", "marginAsset": "USDT", "underlyingType": "EQUITY"},
        {"symbol": "BTCUSDT_261225", "pair": "BTCUSDT", "contractType": "CURRENT_QUARTER", "status": "TRADING",
         "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT", "underlyingType": "COIN"},
    ]  # fmt: skip
    body = {"timezone": "UTC", "serverTime": now,
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}],
            "assets": [], "symbols": symbols}  # fmt: skip
    return EmuResponse.json(body, headers={WEIGHT_HEADER: "1"})
