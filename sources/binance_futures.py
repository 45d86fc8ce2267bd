"""Binance USDⓈ-M perpetuals (keyless, ``https://fapi.binance.com``): funding and open interest.

What the numbers mean: ``lastFundingRate`` in ``/fapi/v1/premiumIndex`` is the rate the *current* period is
heading for (paid at ``nextFundingTime``; positive: longs pay shorts), per the symbol's funding interval.
Most symbols settle every 8 h; ``/fapi/v1/fundingInfo`` lists only the symbols whose cap, floor or
interval were adjusted (e.g. ``fundingIntervalHours: 4``), so a symbol absent there settles every 8 h.
We normalise to ``rate_8h = rate * 8 / interval_hours``. Open interest (``/fapi/v1/openInterest``) is in
contract units of the symbol (coins x multiplier for ``1000PEPEUSDT``); USD = coins x mark price.

Verified (developers.binance.com USD-M pages and a 2026 copy of the futures REST reference; checked 2026-12):
``premiumIndex`` weight 1 with a symbol and 10 without (all symbols in one array); ``fundingInfo`` weight 0,
sharing a 500 requests / 5 min / IP limit with ``fundingRate`` (budgeted as the ``funding`` group);
``fundingRate`` ``limit`` default 100, max 1000, ascending; ``openInterestHist`` weight 0 under its own 1000
requests / 5 min / IP (the ``data`` group), ``limit`` default 30, max 500, the latest month only (``startTime``
clamped), periods 5m..1d. The host budget is 2400 weight/min. There is no all-symbols open-interest call: one
request per symbol. A 418 ban (2 min to 3 days) comes without ``Retry-After`` on fapi: the ban's end is read from
the ``-1003`` message (:mod:`sources.http`).

Long/short ratios (developers.binance.com USDⓈ-M "Long/Short Ratio" and "Top Trader Long/Short Ratio
(Positions)", copies of 2026 in rosssaunders/coincise ``docs/binance/usdm``): ``/futures/data/
globalLongShortAccountRatio`` (every account with a position: the share net long, the share net short, each account
counted once) and ``/futures/data/topLongShortPositionRatio`` (the top 20 % of users by margin balance: their long
and short *positions* as shares of their open positions). Both: weight 0, "IP rate limit 1000 requests/5min" (the
``data`` group, shared with ``openInterestHist``), params ``symbol``, ``period`` (5m..1d as for OI history),
``limit`` default 30, max 500, ``startTime``/``endTime`` (none: the most recent), "only the data of the latest 30
days"; rows ``{symbol, longShortRatio, longAccount, shortAccount, timestamp}``, numbers as decimal strings and the
timestamp a digit string (the positions endpoint keeps the ``longAccount``/``shortAccount`` names for position
shares). The docs' own examples carry ratios that do not match their shares (``"0.1960"`` for 0.6622 / 0.3378), so
the ratio is taken as given, never cross-checked; the shares must add up to ~1.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from records.derivs import (
    DerivsSnapshot,
    FundingQuote,
    LongShortRatio,
    OpenInterest,
    empty_funding_history,
    funding_history_frame,
    ms_to_ts,
    oi_history_frame,
    rate_8h,
    times_ms,
)
from sources.errors import SourceError
from sources.http import HttpClient
from sources.symbols import binance_symbol, infer_interval_hours
from sources.values import check_shares, expect_list, field, req_float, to_int

PROVIDER = "binance"
EXCHANGE = "binance"
DEFAULT_BASE_URL = "https://fapi.binance.com"
DEFAULT_INTERVAL_HOURS = 8
FUNDING_HISTORY_MAX = 1000
OI_HIST_MAX = 500
OI_HIST_PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")
FUNDING_INFO_TTL_S = 3600.0  # adjusted intervals change rarely; refresh hourly, not every cycle
OI_HIST_DAYS = 29  # "only the data of the latest 1 month is available": stay a day inside it
#: kind -> the long/short endpoint (see the module docstring); both share OI history's periods and limits.
LONG_SHORT_ENDPOINTS = {
    "accounts": "/futures/data/globalLongShortAccountRatio",
    "top_positions": "/futures/data/topLongShortPositionRatio",
}
LONG_SHORT_MAX = 500
LONG_SHORT_PERIODS = OI_HIST_PERIODS


def _str_field(raw: Any, key: str, endpoint: str) -> str:
    value = field(raw, key, PROVIDER, endpoint)
    if not isinstance(value, str) or not value:
        raise SourceError(PROVIDER, endpoint, f"expected a non-empty string, got {value!r}", field=key)
    return value


def parse_funding_info(raw: Any, endpoint: str = "/fapi/v1/fundingInfo") -> dict[str, int]:
    """``[{symbol, adjustedFundingRateCap, adjustedFundingRateFloor, fundingIntervalHours}]`` -> hours."""
    out: dict[str, int] = {}
    for item in expect_list(raw, PROVIDER, endpoint):
        symbol = _str_field(item, "symbol", endpoint)
        hours = to_int(field(item, "fundingIntervalHours", PROVIDER, endpoint), PROVIDER, endpoint,
                       "fundingIntervalHours")  # fmt: skip
        if hours <= 0 or hours > 24:
            raise SourceError(
                PROVIDER, endpoint, f"implausible interval {hours} h", field="fundingIntervalHours"
            )
        out[symbol] = hours
    return out


def parse_premium_index(
    raw: Any, intervals: dict[str, int] | None = None, endpoint: str = "/fapi/v1/premiumIndex"
) -> list[FundingQuote]:
    """``premiumIndex`` (one object, or the all-symbols array) -> quotes for USDT perpetuals.

    Dated and COIN-M contracts are skipped by symbol (they carry ``lastFundingRate: ""``). For perpetuals
    every field must parse; the interval comes from ``intervals`` (fundingInfo), else 8 h.
    """
    items = raw if isinstance(raw, list) else [raw]
    intervals = intervals or {}
    quotes: list[FundingQuote] = []
    for item in items:
        symbol = _str_field(item, "symbol", endpoint)
        key = binance_symbol(symbol)
        if key is None:
            continue

        def num(name: str, item: Any = item) -> float:
            return req_float(field(item, name, PROVIDER, endpoint), PROVIDER, endpoint, name)

        rate = num("lastFundingRate")
        mark = num("markPrice")
        if mark <= 0:
            raise SourceError(PROVIDER, endpoint, f"{symbol}: non-positive mark {mark}", field="markPrice")
        next_ms = to_int(field(item, "nextFundingTime", PROVIDER, endpoint), PROVIDER, endpoint,
                         "nextFundingTime")  # fmt: skip
        as_of = to_int(field(item, "time", PROVIDER, endpoint), PROVIDER, endpoint, "time")
        raw_index = item.get("indexPrice")  # the index the mark is anchored to; absent: unknown, never the mark
        index = None if raw_index in (None, "") else req_float(raw_index, PROVIDER, endpoint, "indexPrice")
        hours = intervals.get(symbol, DEFAULT_INTERVAL_HOURS)
        quotes.append(
            FundingQuote(
                coin=key.coin,
                exchange=EXCHANGE,
                rate=rate,
                interval_hours=float(hours),
                rate_8h=rate_8h(rate, hours),
                next_funding_time=ms_to_ts(next_ms) if next_ms > 0 else None,
                mark_price=mark / key.multiplier,
                symbol=symbol,
                as_of=ms_to_ts(as_of),
                index_price=index / key.multiplier if index is not None and index > 0 else None,
            )
        )
    return quotes


def parse_funding_history(
    raw: Any, interval_hours: int | None = None, endpoint: str = "/fapi/v1/fundingRate"
) -> pd.DataFrame:
    """``[{symbol, fundingRate, fundingTime[, markPrice]}]`` -> funding history frame (ascending).

    With ``interval_hours`` None the interval is inferred from the spacing of ``fundingTime``.
    """
    rows = expect_list(raw, PROVIDER, endpoint)
    if not rows:
        return empty_funding_history()
    symbol = _str_field(rows[0], "symbol", endpoint)
    key = binance_symbol(symbol)
    if key is None:
        raise SourceError(PROVIDER, endpoint, f"not a USDT perpetual: {symbol!r}", field="symbol")
    times = np.empty(len(rows), dtype=np.int64)
    rates = np.empty(len(rows))
    for i, row in enumerate(rows):
        if field(row, "symbol", PROVIDER, endpoint) != symbol:
            raise SourceError(PROVIDER, endpoint, f"row {i}: mixed symbols", field="symbol")
        times[i] = to_int(field(row, "fundingTime", PROVIDER, endpoint), PROVIDER, endpoint, "fundingTime")
        rates[i] = req_float(field(row, "fundingRate", PROVIDER, endpoint), PROVIDER, endpoint, "fundingRate")
    order = np.argsort(times, kind="stable")
    times, rates = times[order], rates[order]
    if np.any(np.diff(times) <= 0):
        raise SourceError(PROVIDER, endpoint, "duplicate funding times", field="fundingTime")
    if interval_hours is None:
        intervals = infer_interval_hours(times, DEFAULT_INTERVAL_HOURS)
    else:
        intervals = np.full(len(times), float(interval_hours))
    return funding_history_frame(times, key.coin, EXCHANGE, symbol, rates, intervals)


def parse_open_interest(raw: Any, mark_price: float, endpoint: str = "/fapi/v1/openInterest") -> OpenInterest:
    """``{openInterest, symbol, time}`` -> record; ``mark_price`` is USD per **coin** (from premiumIndex)."""
    symbol = _str_field(raw, "symbol", endpoint)
    key = binance_symbol(symbol)
    if key is None:
        raise SourceError(PROVIDER, endpoint, f"not a USDT perpetual: {symbol!r}", field="symbol")
    qty = req_float(field(raw, "openInterest", PROVIDER, endpoint), PROVIDER, endpoint, "openInterest")
    if qty < 0:
        raise SourceError(PROVIDER, endpoint, f"negative open interest {qty}", field="openInterest")
    when = to_int(field(raw, "time", PROVIDER, endpoint), PROVIDER, endpoint, "time")
    oi_base = qty * key.multiplier
    return OpenInterest(key.coin, EXCHANGE, oi_base, oi_base * mark_price, ms_to_ts(when), symbol)


def parse_open_interest_hist(raw: Any, endpoint: str = "/futures/data/openInterestHist") -> pd.DataFrame:
    """``[{symbol, sumOpenInterest, sumOpenInterestValue, timestamp}]`` -> OI history (coins and USD).

    ``timestamp`` arrives as an integer or (older captures) a digit string.
    """
    rows = expect_list(raw, PROVIDER, endpoint)
    if not rows:
        return oi_history_frame(np.empty(0, np.int64), "", EXCHANGE, "", np.empty(0), np.empty(0))
    symbol = _str_field(rows[0], "symbol", endpoint)
    key = binance_symbol(symbol)
    if key is None:
        raise SourceError(PROVIDER, endpoint, f"not a USDT perpetual: {symbol!r}", field="symbol")
    times = np.empty(len(rows), dtype=np.int64)
    base = np.empty(len(rows))
    usd = np.empty(len(rows))
    for i, row in enumerate(rows):
        times[i] = to_int(field(row, "timestamp", PROVIDER, endpoint), PROVIDER, endpoint, "timestamp")
        base[i] = req_float(field(row, "sumOpenInterest", PROVIDER, endpoint), PROVIDER, endpoint,
                            "sumOpenInterest")  # fmt: skip
        usd[i] = req_float(field(row, "sumOpenInterestValue", PROVIDER, endpoint), PROVIDER, endpoint,
                           "sumOpenInterestValue")  # fmt: skip
    if np.any(base < 0) or np.any(usd < 0):
        raise SourceError(PROVIDER, endpoint, "negative open interest", field="sumOpenInterest")
    order = np.argsort(times, kind="stable")
    return oi_history_frame(
        times[order], key.coin, EXCHANGE, symbol, base[order] * key.multiplier, usd[order]
    )


def parse_long_short_ratio(raw: Any, kind: str, endpoint: str | None = None) -> list[LongShortRatio]:
    """``[{symbol, longShortRatio, longAccount, shortAccount, timestamp}]`` -> records of ``kind`` (ascending).

    An empty list is no data (a symbol without statistics, or a window before the 30 days kept): no records, the
    caller shows the figure as unknown. Every row must parse: a non-numeric or negative ratio, a share outside
    [0, 1], shares not adding up to ~1 or mixed symbols raise SourceError.
    """
    endpoint = endpoint or LONG_SHORT_ENDPOINTS[kind]
    rows = expect_list(raw, PROVIDER, endpoint)
    if not rows:
        return []
    symbol = _str_field(rows[0], "symbol", endpoint)
    key = binance_symbol(symbol)
    if key is None:
        raise SourceError(PROVIDER, endpoint, f"not a USDT perpetual: {symbol!r}", field="symbol")
    out = []
    for i, row in enumerate(rows):
        if field(row, "symbol", PROVIDER, endpoint) != symbol:
            raise SourceError(PROVIDER, endpoint, f"row {i}: mixed symbols", field="symbol")

        def num(name: str, row: Any = row) -> float:
            return req_float(field(row, name, PROVIDER, endpoint), PROVIDER, endpoint, name)

        ratio, long_share, short_share = num("longShortRatio"), num("longAccount"), num("shortAccount")
        if ratio < 0:
            raise SourceError(PROVIDER, endpoint, f"row {i}: negative ratio {ratio}", field="longShortRatio")
        check_shares(long_share, short_share, PROVIDER, endpoint, f"row {i}")
        when = to_int(field(row, "timestamp", PROVIDER, endpoint), PROVIDER, endpoint, "timestamp")
        out.append(LongShortRatio(key.coin, EXCHANGE, kind, ratio, long_share, short_share, ms_to_ts(when), symbol))
    out.sort(key=lambda r: r.time)
    if any(a.time == b.time for a, b in itertools.pairwise(out)):
        raise SourceError(PROVIDER, endpoint, "duplicate timestamps", field="timestamp")
    return out


def parse_exchange_info(raw: Any, endpoint: str = "/fapi/v1/exchangeInfo") -> set[str]:
    """``exchangeInfo`` -> the symbols of crypto USDT perpetuals now trading.

    Kept: ``contractType == "PERPETUAL"``, ``status == "TRADING"``, ``quoteAsset == "USDT"`` and an
    ``underlyingType`` of ``COIN`` where the field is given: Binance also lists stock and commodity perpetuals
    (``TRADIFI_PERPETUAL``, non-coin underlyings), which ``premiumIndex`` would otherwise show as "coins".
    """
    symbols = expect_list(field(raw, "symbols", PROVIDER, endpoint), PROVIDER, endpoint, "symbols")
    out: set[str] = set()
    for item in symbols:
        symbol = _str_field(item, "symbol", endpoint)
        if (item.get("contractType") == "PERPETUAL" and item.get("status") == "TRADING"
                and item.get("quoteAsset") == "USDT" and item.get("underlyingType", "COIN") == "COIN"):  # fmt: skip
            out.add(symbol)
    if symbols and not out:
        raise SourceError(PROVIDER, endpoint, "no trading USDT perpetual in the answer", field="symbols")
    return out


#: ``/fapi/v1/klines`` returns at most this many bars a call (its documented maximum; default 500).
KLINES_MAX = 1500


class BinanceFutures:
    """Keyless Binance USDⓈ-M market data through the shared :class:`HttpClient`."""

    def __init__(
        self,
        http: HttpClient,
        base_url: str = DEFAULT_BASE_URL,
        *,
        funding_info_ttl_s: float = FUNDING_INFO_TTL_S,
        clock: Any = time.monotonic,
        wall: Any = time.time,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.funding_info_ttl_s = funding_info_ttl_s
        self._clock = clock
        self._wall = wall  # the market clock (replayed time in a replay) for the 30-day window
        self._intervals: dict[str, int] | None = None
        self._intervals_at = 0.0

    async def klines(self, symbol: str, interval: str, *, start_ms: int | None = None, now_ms: int,
                     limit: int = KLINES_MAX) -> pd.DataFrame:  # fmt: skip
        """USD-M perpetual klines (``/fapi/v1/klines``: the spot rows, the perp's own taker-buy columns), paging
        forward 1,500 bars a call from ``start_ms``. Weight 10 a full page (5 up to 1,000 bars)."""
        from sources.binance_spot import paged_klines

        capped = min(limit, KLINES_MAX)
        weight = 1 if capped < 100 else 2 if capped < 500 else 5 if capped <= 1000 else 10
        params: dict[str, Any] = {"symbol": symbol, "interval": interval, "limit": capped}
        return await paged_klines(self.http, self.base_url, "/fapi/v1/klines", params, start_ms=start_ms,
                                  end_ms=None, now_ms=now_ms, weight=weight)  # fmt: skip

    async def funding_intervals(self, *, refresh: bool = False) -> dict[str, int]:
        """Symbols with an adjusted funding interval (others: 8 h); cached for ``funding_info_ttl_s``."""
        now = self._clock()
        if refresh or self._intervals is None or now - self._intervals_at > self.funding_info_ttl_s:
            endpoint = "/fapi/v1/fundingInfo"
            raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, weight=0,
                                           group="funding")  # fmt: skip
            self._intervals = parse_funding_info(raw, endpoint)
            self._intervals_at = now
        return self._intervals

    async def perpetuals(self) -> set[str]:
        """Symbols of the crypto USDT perpetuals trading now (``exchangeInfo``, weight 1; refresh it daily)."""
        endpoint = "/fapi/v1/exchangeInfo"
        raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, weight=1)
        return parse_exchange_info(raw, endpoint)

    async def funding_quotes(self) -> list[FundingQuote]:
        """Current funding and mark price of every USDT perpetual: ONE premiumIndex call (weight 10),
        plus the fundingInfo call when its cache expired."""
        intervals = await self.funding_intervals()
        endpoint = "/fapi/v1/premiumIndex"
        raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, weight=10)
        return parse_premium_index(expect_list(raw, PROVIDER, endpoint), intervals, endpoint)

    async def snapshot(self) -> DerivsSnapshot:
        """Funding for all symbols (premiumIndex carries no open interest; see :meth:`open_interest`)."""
        quotes = await self.funding_quotes()
        as_of = max((q.as_of for q in quotes if q.as_of is not None), default=pd.Timestamp.now(tz="UTC"))
        return DerivsSnapshot(EXCHANGE, quotes, [], as_of)

    async def open_interest(self, marks: dict[str, float]) -> list[OpenInterest]:
        """Open interest for ``marks`` (venue symbol -> USD per coin): one call per symbol, weight 1 each."""
        endpoint = "/fapi/v1/openInterest"
        out = []
        for symbol, mark in marks.items():
            raw = await self.http.get_json(
                PROVIDER, endpoint, self.base_url + endpoint, params={"symbol": symbol}, weight=1
            )
            out.append(parse_open_interest(raw, mark, endpoint))
        return out

    async def funding_history(
        self, symbol: str, start_ms: int, end_ms: int | None = None, *, max_pages: int = 20
    ) -> pd.DataFrame:
        """Settled funding of ``symbol`` from ``start_ms``, paging forward 1000 rows a call."""
        endpoint = "/fapi/v1/fundingRate"
        pages: list[pd.DataFrame] = []
        cursor = start_ms
        for _ in range(max_pages):
            params: dict[str, Any] = {"symbol": symbol, "startTime": cursor, "limit": FUNDING_HISTORY_MAX}
            if end_ms is not None:
                params["endTime"] = end_ms
            raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params=params,
                                           group="funding")  # fmt: skip
            rows = expect_list(raw, PROVIDER, endpoint)
            if not rows:
                break
            page = parse_funding_history(rows, None, endpoint)
            pages.append(page)
            if len(rows) < FUNDING_HISTORY_MAX:
                break
            cursor = int(page["time"].iloc[-1].value // 1_000_000) + 1
        if not pages:
            return empty_funding_history()
        frame = pd.concat(pages, ignore_index=True).drop_duplicates("time", keep="last")
        times = times_ms(frame["time"])
        intervals = (await self.funding_intervals()).get(symbol)
        inferred = infer_interval_hours(times, intervals or DEFAULT_INTERVAL_HOURS)
        frame["interval_hours"] = inferred if intervals is None else float(intervals)
        frame["rate_8h"] = frame["rate"] * 8.0 / frame["interval_hours"]
        return frame.reset_index(drop=True)

    async def open_interest_hist(
        self,
        symbol: str,
        period: str = "1h",
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = OI_HIST_MAX,
    ) -> pd.DataFrame:
        """Open-interest history (coins and USD) of ``symbol``; Binance keeps only the last 30 days."""
        if period not in OI_HIST_PERIODS:
            raise ValueError(f"period must be one of {OI_HIST_PERIODS}")
        endpoint = "/futures/data/openInterestHist"
        params: dict[str, Any] = {"symbol": symbol, "period": period, "limit": min(limit, OI_HIST_MAX)}
        if start_ms is not None:
            # Binance keeps only the latest month; an older startTime is undocumented (an error or nothing).
            params["startTime"] = max(start_ms, int(self._wall() * 1000) - OI_HIST_DAYS * 86_400_000)
        if end_ms is not None:
            params["endTime"] = end_ms
        raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params=params, weight=0,
                                       group="data")  # fmt: skip
        return parse_open_interest_hist(raw, endpoint)

    async def long_short_ratio(
        self,
        symbol: str,
        kind: str,
        period: str = "5m",
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 30,
    ) -> list[LongShortRatio]:
        """Long/short ratios of ``symbol`` (``kind`` accounts | top_positions), oldest first: without a window the
        most recent ``limit`` periods. Weight 0; one request of the ``data`` group's 1000 per 5 minutes per IP."""
        if kind not in LONG_SHORT_ENDPOINTS:
            raise ValueError(f"kind must be one of {tuple(LONG_SHORT_ENDPOINTS)}")
        if period not in LONG_SHORT_PERIODS:
            raise ValueError(f"period must be one of {LONG_SHORT_PERIODS}")
        endpoint = LONG_SHORT_ENDPOINTS[kind]
        params: dict[str, Any] = {"symbol": symbol, "period": period, "limit": max(1, min(limit, LONG_SHORT_MAX))}
        if start_ms is not None:
            # Only the latest 30 days are kept: an older startTime is clamped, as for OI history.
            params["startTime"] = max(start_ms, int(self._wall() * 1000) - OI_HIST_DAYS * 86_400_000)
        if end_ms is not None:
            params["endTime"] = end_ms
        raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params=params, weight=0,
                                       group="data")  # fmt: skip
        return [replace(r, period=period) for r in parse_long_short_ratio(raw, kind, endpoint)]


__all__ = [
    "BinanceFutures",
    "parse_exchange_info",
    "parse_funding_history",
    "parse_funding_info",
    "parse_long_short_ratio",
    "parse_open_interest",
    "parse_open_interest_hist",
    "parse_premium_index",
]
