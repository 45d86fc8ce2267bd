"""Bybit v5 linear perpetuals (keyless, ``https://api.bybit.com``): funding and open interest in ONE call.

What the numbers mean: ``GET /v5/market/tickers?category=linear`` without a symbol returns every linear
contract with ``fundingRate`` (the rate the current period is heading for, paid at ``nextFundingTime``;
positive: longs pay shorts), ``fundingIntervalHour`` (8, 4, 2 or 1: volatile coins settle more often),
``markPrice``, and open interest: ``openInterest``/``openInterestValue`` count **both sides** (the docs say so;
contract units, coins x multiplier for ``1000PEPEUSDT``, and USD), while ``singleOpenInterest``/
``singleOpenInterestValue`` (added 2026-06-11) count one side, as Binance and OKX do: the single-side fields are
used when present, else half of the two-sided ones, so the venues add up on one scale. Funding is normalised to
``rate_8h = fundingRate * 8 / fundingIntervalHour``.

Wire rules (bybit-exchange/docs @072c197d, 2026-07-24: ``tickers.mdx``, ``history-fund-rate.mdx``,
``rate-limit.mdx``, ``error.mdx``; checked 2026-12): every value is a string and an empty string means *missing*
(never zero); errors arrive as HTTP 200 with ``retCode != 0`` (``10006`` = too many visits: a rate limit;
``10018`` is deprecated in the docs, kept for older servers); an IP over 600 requests / 5 s gets HTTP 403 and a
ban of at least 10 minutes (:mod:`sources.http` stands down that long); funding history is newest first,
``limit`` 1..200, and ``startTime`` alone is rejected, so history pages backwards with ``endTime``.

Long/short account ratio (``docs/v5/market/long-short-ratio.mdx`` @072c197d): ``GET /v5/market/account-ratio``,
params ``category`` (``linear`` = USDT contracts, or ``inverse``), ``symbol`` (uppercase), ``period`` ``5min``,
``15min``, ``30min``, ``1h``, ``4h``, ``1d``, ``limit`` [1, 500] default 50, ``startTime``/``endTime`` (ms) and a
``cursor`` (``nextPageCursor``); ``result.list`` of ``{symbol, buyRatio, sellRatio, timestamp}`` newest first,
every value a string: ``buyRatio`` the share of holders net long, ``sellRatio`` the share net short (the docs' own
definition: long-short account ratio = long account ratio / short account ratio, which Bybit does not send: it is
computed here). History from 2020-07-20. No limit of its own: the IP's 600 requests / 5 s.
"""

from __future__ import annotations

import itertools
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
    rate_8h,
    times_ms,
)
from sources.errors import RateLimited, SourceError
from sources.http import HttpClient
from sources.symbols import bybit_symbol, infer_interval_hours
from sources.values import check_shares, expect_list, field, to_float, to_int

PROVIDER = "bybit"
EXCHANGE = "bybit"
DEFAULT_BASE_URL = "https://api.bybit.com"
FUNDING_HISTORY_MAX = 200
ACCOUNT_RATIO_MAX = 500
ACCOUNT_RATIO_PERIODS = ("5min", "15min", "30min", "1h", "4h", "1d")
RATE_LIMIT_CODES = {10006, 10018}  # "Too many visits!", "exceeded the IP rate limit"
RATE_LIMIT_WAIT_S = 5.0  # Bybit's per-second windows; the reset header is not visible to the parser


def unwrap(raw: Any, endpoint: str) -> tuple[dict[str, Any], int]:
    """Check the v5 envelope ``{retCode, retMsg, result, retExtInfo, time}``; returns (result, time ms)."""
    code = field(raw, "retCode", PROVIDER, endpoint)
    if isinstance(code, bool) or not isinstance(code, int):
        raise SourceError(PROVIDER, endpoint, f"expected an integer code, got {code!r}", field="retCode")
    if code != 0:
        message = raw.get("retMsg") if isinstance(raw.get("retMsg"), str) else "error"
        if code in RATE_LIMIT_CODES:
            raise RateLimited(PROVIDER, endpoint, f"retCode {code}: {message}", retry_after=RATE_LIMIT_WAIT_S)
        raise SourceError(PROVIDER, endpoint, f"retCode {code}: {message[:120]}", field="retCode")
    result = field(raw, "result", PROVIDER, endpoint)
    if not isinstance(result, dict):
        raise SourceError(PROVIDER, endpoint, "expected an object", field="result")
    when = to_int(field(raw, "time", PROVIDER, endpoint), PROVIDER, endpoint, "time")
    return result, when


def _num(item: Any, key: str, endpoint: str, *, optional: bool = False) -> float | None:
    """A decimal string; ``""`` is missing: None when ``optional``, else a SourceError naming ``key``."""
    return to_float(field(item, key, PROVIDER, endpoint), PROVIDER, endpoint, key, allow_none=optional)


def parse_tickers(raw: Any, endpoint: str = "/v5/market/tickers") -> DerivsSnapshot:
    """The linear tickers response -> funding quotes and open interest for every USDT perpetual.

    A perpetual whose ``fundingRate`` is ``""`` (pre-listing) gets no funding quote, and one whose
    ``openInterest`` is ``""`` no OI record: missing is unknown, never zero. Garbage raises SourceError.
    """
    result, when = unwrap(raw, endpoint)
    category = field(result, "category", PROVIDER, endpoint)
    if category != "linear":
        raise SourceError(
            PROVIDER, endpoint, f"expected category 'linear', got {category!r}", field="category"
        )
    items = expect_list(field(result, "list", PROVIDER, endpoint), PROVIDER, endpoint, "list")
    as_of = ms_to_ts(when)
    funding: list[FundingQuote] = []
    oi: list[OpenInterest] = []
    for item in items:
        symbol = field(item, "symbol", PROVIDER, endpoint)
        if not isinstance(symbol, str):
            raise SourceError(PROVIDER, endpoint, f"expected a string, got {symbol!r}", field="symbol")
        key = bybit_symbol(symbol)
        if key is None:
            continue
        mark_venue = _num(item, "markPrice", endpoint)
        assert mark_venue is not None
        if mark_venue <= 0:
            raise SourceError(PROVIDER, endpoint, f"{symbol}: non-positive mark", field="markPrice")
        mark = mark_venue / key.multiplier
        index_venue = _num(item, "indexPrice", endpoint, optional=True) if "indexPrice" in item else None
        index = index_venue / key.multiplier if index_venue is not None and index_venue > 0 else None
        rate = _num(item, "fundingRate", endpoint, optional=True)
        if rate is not None:
            hours = _num(item, "fundingIntervalHour", endpoint)
            assert hours is not None
            if hours <= 0 or hours > 24:
                raise SourceError(
                    PROVIDER, endpoint, f"{symbol}: interval {hours}", field="fundingIntervalHour"
                )
            next_raw = field(item, "nextFundingTime", PROVIDER, endpoint)
            next_ms = 0 if next_raw == "" else to_int(next_raw, PROVIDER, endpoint, "nextFundingTime")
            funding.append(
                FundingQuote(
                    coin=key.coin,
                    exchange=EXCHANGE,
                    rate=rate,
                    interval_hours=hours,
                    rate_8h=rate_8h(rate, hours),
                    next_funding_time=ms_to_ts(next_ms) if next_ms > 0 else None,
                    mark_price=mark,
                    symbol=symbol,
                    as_of=as_of,
                    index_price=index,
                )
            )
        single = item.get("singleOpenInterest") not in (None, "")
        qty = _num(item, "singleOpenInterest" if single else "openInterest", endpoint, optional=True)
        if qty is not None:
            if qty < 0:
                raise SourceError(PROVIDER, endpoint, f"{symbol}: negative", field="openInterest")
            value_key = "singleOpenInterestValue" if single else "openInterestValue"
            value = _num(item, value_key, endpoint, optional=True) if value_key in item else None
            if not single:
                # Two-sided figures: one side is half (Bybit's own single-side fields are exactly that).
                qty, value = qty / 2, (None if value is None else value / 2)
            oi_base = qty * key.multiplier
            oi_usd = value if value is not None else oi_base * mark
            if oi_usd < 0:
                raise SourceError(PROVIDER, endpoint, f"{symbol}: negative", field="openInterestValue")
            oi.append(OpenInterest(key.coin, EXCHANGE, oi_base, oi_usd, as_of, symbol))
    return DerivsSnapshot(EXCHANGE, funding, oi, as_of)


def parse_funding_history(
    raw: Any, interval_hours: float | None = None, endpoint: str = "/v5/market/funding/history"
) -> pd.DataFrame:
    """``result.list[{symbol, fundingRate, fundingRateTimestamp}]`` (newest first) -> ascending frame."""
    result, _ = unwrap(raw, endpoint)
    rows = expect_list(field(result, "list", PROVIDER, endpoint), PROVIDER, endpoint, "list")
    if not rows:
        return empty_funding_history()
    symbol = field(rows[0], "symbol", PROVIDER, endpoint)
    key = bybit_symbol(symbol) if isinstance(symbol, str) else None
    if key is None:
        raise SourceError(PROVIDER, endpoint, f"not a USDT perpetual: {symbol!r}", field="symbol")
    times = np.empty(len(rows), dtype=np.int64)
    rates = np.empty(len(rows))
    for i, row in enumerate(rows):
        if field(row, "symbol", PROVIDER, endpoint) != symbol:
            raise SourceError(PROVIDER, endpoint, f"row {i}: mixed symbols", field="symbol")
        times[i] = to_int(field(row, "fundingRateTimestamp", PROVIDER, endpoint), PROVIDER, endpoint,
                          "fundingRateTimestamp")  # fmt: skip
        value = _num(row, "fundingRate", endpoint)
        assert value is not None
        rates[i] = value
    order = np.argsort(times, kind="stable")
    times, rates = times[order], rates[order]
    if np.any(np.diff(times) <= 0):
        raise SourceError(PROVIDER, endpoint, "duplicate funding times", field="fundingRateTimestamp")
    if interval_hours is None:
        intervals = infer_interval_hours(times, 8.0)
    else:
        intervals = np.full(len(times), float(interval_hours))
    return funding_history_frame(times, key.coin, EXCHANGE, symbol, rates, intervals)


def parse_account_ratio(raw: Any, endpoint: str = "/v5/market/account-ratio") -> list[LongShortRatio]:
    """``result.list[{symbol, buyRatio, sellRatio, timestamp}]`` (newest first) -> ``accounts`` records, ascending.

    ``ratio = buyRatio / sellRatio``. An empty list is no data (unknown, never 0); a share that is not a number,
    outside [0, 1], shares not adding up to ~1, no short share at all (the ratio is undefined) or mixed symbols
    raise SourceError.
    """
    result, _ = unwrap(raw, endpoint)
    rows = expect_list(field(result, "list", PROVIDER, endpoint), PROVIDER, endpoint, "list")
    if not rows:
        return []
    symbol = field(rows[0], "symbol", PROVIDER, endpoint)
    key = bybit_symbol(symbol) if isinstance(symbol, str) else None
    if key is None:
        raise SourceError(PROVIDER, endpoint, f"not a USDT perpetual: {symbol!r}", field="symbol")
    out = []
    for i, row in enumerate(rows):
        if field(row, "symbol", PROVIDER, endpoint) != symbol:
            raise SourceError(PROVIDER, endpoint, f"row {i}: mixed symbols", field="symbol")
        long_share, short_share = _num(row, "buyRatio", endpoint), _num(row, "sellRatio", endpoint)
        assert long_share is not None and short_share is not None
        check_shares(long_share, short_share, PROVIDER, endpoint, f"row {i}")
        if short_share <= 0:
            raise SourceError(PROVIDER, endpoint, f"row {i}: no short share, the ratio is undefined",
                              field="sellRatio")  # fmt: skip
        when = to_int(field(row, "timestamp", PROVIDER, endpoint), PROVIDER, endpoint, "timestamp")
        out.append(LongShortRatio(key.coin, EXCHANGE, "accounts", long_share / short_share, long_share, short_share,
                                  ms_to_ts(when), symbol))  # fmt: skip
    out.sort(key=lambda r: r.time)
    if any(a.time == b.time for a, b in itertools.pairwise(out)):
        raise SourceError(PROVIDER, endpoint, "duplicate timestamps", field="timestamp")
    return out


#: Bybit's ``symbolType`` values of crypto linear perpetuals ("" on older listings); commodity, stock and forex
#: perpetuals (listed under ``linear`` since 2026-03) are left out.
CRYPTO_SYMBOL_TYPES = frozenset({"", "innovation"})


def parse_instruments(raw: Any, endpoint: str = "/v5/market/instruments-info") -> tuple[set[str], str]:
    """One ``instruments-info?category=linear`` page -> (crypto USDT perpetuals trading, next page cursor).

    Kept: ``contractType == "LinearPerpetual"``, ``status == "Trading"``, ``quoteCoin == "USDT"``, a crypto
    ``symbolType``. (``fundingInterval`` there is in minutes, a JSON number; the tickers carry the hours.)
    """
    result, _ = unwrap(raw, endpoint)
    items = expect_list(field(result, "list", PROVIDER, endpoint), PROVIDER, endpoint, "list")
    out: set[str] = set()
    for item in items:
        symbol = field(item, "symbol", PROVIDER, endpoint)
        if not isinstance(symbol, str):
            raise SourceError(PROVIDER, endpoint, f"expected a string, got {symbol!r}", field="symbol")
        if (item.get("contractType") == "LinearPerpetual" and item.get("status") == "Trading"
                and item.get("quoteCoin") == "USDT" and item.get("symbolType", "") in CRYPTO_SYMBOL_TYPES):  # fmt: skip
            out.add(symbol)
    cursor = result.get("nextPageCursor") or ""
    return out, cursor if isinstance(cursor, str) else ""


class Bybit:
    """Keyless Bybit v5 linear-perpetual market data through the shared :class:`HttpClient`."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def snapshot(self) -> DerivsSnapshot:
        """Funding, interval, mark and open interest of EVERY linear perpetual: one request."""
        endpoint = "/v5/market/tickers"
        raw = await self.http.get_json(
            PROVIDER, endpoint, self.base_url + endpoint, params={"category": "linear"}
        )
        return parse_tickers(raw, endpoint)

    async def perpetuals(self, *, max_pages: int = 10) -> set[str]:
        """Symbols of the crypto USDT perpetuals trading now: ``instruments-info`` pages of 1000 (there are more
        than 500 linear symbols, and 500 is the default page), following ``nextPageCursor``."""
        endpoint = "/v5/market/instruments-info"
        out: set[str] = set()
        cursor = ""
        for _ in range(max_pages):
            params = {"category": "linear", "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params=params)
            page, cursor = parse_instruments(raw, endpoint)
            out |= page
            if not cursor:
                break
        return out

    async def funding_history(
        self, symbol: str, start_ms: int, end_ms: int, *, max_pages: int = 20
    ) -> pd.DataFrame:
        """Settled funding of ``symbol`` in [start_ms, end_ms], paging backwards 200 rows a call."""
        endpoint = "/v5/market/funding/history"
        pages: list[pd.DataFrame] = []
        cursor = end_ms
        for _ in range(max_pages):
            params = {"category": "linear", "symbol": symbol, "startTime": start_ms, "endTime": cursor,
                      "limit": FUNDING_HISTORY_MAX}  # fmt: skip
            raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params=params)
            page = parse_funding_history(raw, None, endpoint)
            if page.empty:
                break
            pages.append(page)
            # A short page is the end (Bybit documents the 200 cap); stop too when a page reaches no further back.
            oldest = int(page["time"].iloc[0].value // 1_000_000)
            if len(page) < FUNDING_HISTORY_MAX or oldest - 1 < start_ms or oldest > cursor:
                break
            cursor = oldest - 1
        if not pages:
            return empty_funding_history()
        frame = pd.concat(pages, ignore_index=True).drop_duplicates("time").sort_values("time")
        times = times_ms(frame["time"])
        frame["interval_hours"] = infer_interval_hours(times, 8.0)
        frame["rate_8h"] = frame["rate"] * 8.0 / frame["interval_hours"]
        return frame.reset_index(drop=True)

    async def account_ratio(
        self,
        symbol: str,
        period: str = "5min",
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 50,
    ) -> list[LongShortRatio]:
        """The long/short account ratio of linear ``symbol``, oldest first: without a window the most recent
        ``limit`` periods (one page; ``nextPageCursor`` is not followed)."""
        if period not in ACCOUNT_RATIO_PERIODS:
            raise ValueError(f"period must be one of {ACCOUNT_RATIO_PERIODS}")
        endpoint = "/v5/market/account-ratio"
        params: dict[str, Any] = {"category": "linear", "symbol": symbol, "period": period,
                                  "limit": max(1, min(limit, ACCOUNT_RATIO_MAX))}  # fmt: skip
        if start_ms is not None:
            params["startTime"] = str(start_ms)
        if end_ms is not None:
            params["endTime"] = str(end_ms)
        raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params=params)
        return [replace(r, period=period) for r in parse_account_ratio(raw, endpoint)]


__all__ = ["Bybit", "parse_account_ratio", "parse_funding_history", "parse_instruments", "parse_tickers", "unwrap"]
