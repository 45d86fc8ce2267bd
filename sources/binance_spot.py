"""Binance spot market data (keyless): the 24h ticker, klines and the pair listing, the source of BTC price and
altcoin CVD (the basket's and the whole market's).

Klines carry the taker split: field [10] is the taker-buy **quote** volume and [7] the total quote volume, so the
taker-sell quote volume is their difference. The default host is ``data-api.binance.vision``, Binance's documented
market-data-only mirror (``api.binance.com`` answers 451 from US IPs); ``faqs/market_data_only.md`` lists
``/api/v3/exchangeInfo``, ``/api/v3/klines`` and ``/api/v3/ticker/24hr`` among its endpoints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from records.klines import empty_klines
from sources.errors import SourceError
from sources.http import HttpClient
from sources.values import expect_list, field, req_float, to_float, to_int

PROVIDER = "binance"
DEFAULT_BASE_URL = "https://data-api.binance.vision"
MAX_LIMIT = 1000
INTERVAL_MS = {
    "1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000,
}  # fmt: skip


@dataclass(frozen=True)
class Ticker24h:
    """Binance's rolling 24-hour statistics for one symbol (prices in quote currency, USDT ~ USD)."""

    symbol: str
    last: float
    open: float
    high: float
    low: float
    change_pct: float  # percent over the last 24 h, as Binance reports it
    quote_volume: float  # USDT traded in 24 h
    close_time: pd.Timestamp


def parse_ticker_24hr(raw: Any, endpoint: str = "/api/v3/ticker/24hr") -> Ticker24h:
    """One ticker object -> :class:`Ticker24h`; every numeric field is a decimal string on the wire."""
    symbol = field(raw, "symbol", PROVIDER, endpoint)
    if not isinstance(symbol, str) or not symbol:
        raise SourceError(PROVIDER, endpoint, "expected a symbol string", field="symbol")

    def num(key: str) -> float:
        return req_float(field(raw, key, PROVIDER, endpoint), PROVIDER, endpoint, key)

    last = num("lastPrice")
    if last <= 0:
        raise SourceError(PROVIDER, endpoint, f"non-positive price {last}", field="lastPrice")
    return Ticker24h(
        symbol=symbol,
        last=last,
        open=num("openPrice"),
        high=num("highPrice"),
        low=num("lowPrice"),
        change_pct=num("priceChangePercent"),
        quote_volume=num("quoteVolume"),
        close_time=pd.Timestamp(to_int(field(raw, "closeTime", PROVIDER, endpoint), PROVIDER, endpoint, "closeTime"),
                                unit="ms", tz="UTC"),
    )  # fmt: skip


@dataclass(frozen=True)
class SpotSymbol:
    """One Binance spot pair as ``/api/v3/exchangeInfo`` lists it (the fields a pair listing needs).

    ``status`` is the symbol status (``TRADING``, ``END_OF_DAY``, ``HALT``, ``BREAK``, ``CANCEL_ONLY`` since
    2026-07: ``enums.md``); ``permissions`` every permission named in its ``permissionSets`` (since 2024-04-25 the
    place for them; the older ``permissions`` field is empty and counted too if Binance ever fills it).
    """

    symbol: str
    base: str
    quote: str
    status: str
    spot_allowed: bool  # isSpotTradingAllowed
    permissions: frozenset[str] = frozenset()

    @property
    def trading(self) -> bool:
        """Open for spot trading now: status TRADING and spot orders allowed."""
        return self.status == "TRADING" and self.spot_allowed

    @property
    def leveraged(self) -> bool:
        """A leveraged token (Binance's BLVTs carry the LEVERAGED permission): its flow is a derivative's."""
        return "LEVERAGED" in self.permissions


@dataclass(frozen=True)
class SpotListing:
    """Binance spot's pair listing at ``server_time`` (epoch ms, Binance's clock)."""

    server_time: int
    symbols: tuple[SpotSymbol, ...]


def _text(raw: Any, key: str, endpoint: str) -> str:
    value = field(raw, key, PROVIDER, endpoint)
    if not isinstance(value, str) or not value:
        raise SourceError(PROVIDER, endpoint, f"expected a non-empty string, got {str(value)[:40]!r}", field=key)
    return value


def _permissions(raw: Any, endpoint: str) -> frozenset[str]:
    """Every permission named in ``permissionSets`` (a list of lists of strings) and the legacy ``permissions``."""
    names: list[Any] = []
    sets = raw.get("permissionSets", [])
    if not isinstance(sets, list) or not all(isinstance(s, list) for s in sets):
        raise SourceError(PROVIDER, endpoint, "expected a list of permission lists", field="permissionSets")
    for group in sets:
        names += group
    legacy = raw.get("permissions", [])
    if not isinstance(legacy, list):
        raise SourceError(PROVIDER, endpoint, "expected a list", field="permissions")
    names += legacy
    if not all(isinstance(n, str) for n in names):
        raise SourceError(PROVIDER, endpoint, "expected permission names", field="permissionSets")
    return frozenset(names)


def parse_exchange_info(raw: Any, endpoint: str = "/api/v3/exchangeInfo") -> SpotListing:
    """``exchangeInfo`` -> every listed pair with its status, assets and permissions (``rest-api.md`` "Exchange
    information"): ``{"timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols": [{"symbol", "status",
    "baseAsset", "quoteAsset", ..., "isSpotTradingAllowed", "permissions": [], "permissionSets": [["SPOT",
    "MARGIN"]]}]}``. Which pairs count is decided by the caller (:func:`analytics.market_cvd.select_pairs`); a
    listing without a single pair is a broken answer (Binance lists thousands), not an empty exchange.
    """
    server_time = to_int(field(raw, "serverTime", PROVIDER, endpoint), PROVIDER, endpoint, "serverTime")
    items = expect_list(field(raw, "symbols", PROVIDER, endpoint), PROVIDER, endpoint, "symbols")
    if not items:
        raise SourceError(PROVIDER, endpoint, "empty response: no symbol listed", field="symbols")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise SourceError(PROVIDER, endpoint, f"expected an object, got {type(item).__name__}", field="symbols")
        allowed = item.get("isSpotTradingAllowed", True)  # documented and always sent; only its type is checked
        if not isinstance(allowed, bool):
            raise SourceError(PROVIDER, endpoint, f"expected true or false, got {str(allowed)[:20]!r}",
                              field="isSpotTradingAllowed")  # fmt: skip
        out.append(SpotSymbol(
            symbol=_text(item, "symbol", endpoint), base=_text(item, "baseAsset", endpoint),
            quote=_text(item, "quoteAsset", endpoint), status=_text(item, "status", endpoint), spot_allowed=allowed,
            permissions=_permissions(item, endpoint),
        ))  # fmt: skip
    return SpotListing(server_time, tuple(out))


_NUMERIC_FIELDS = {1: "open", 2: "high", 3: "low", 4: "close", 5: "volume", 7: "quote_volume"}
_TAKER_FIELDS = {9: "taker_buy_base", 10: "taker_buy_quote"}


def parse_klines(raw: Any, now_ms: int, endpoint: str = "/api/v3/klines") -> pd.DataFrame:
    """Binance kline arrays -> a frame indexed by UTC open time.

    Columns: open/high/low/close (quote currency), volume (base), quote_volume (USDT), trades, taker_buy_base,
    taker_buy_quote (USDT; NaN when the source has no taker split), close_time, and ``provisional``: True for the
    bar whose close time is still in the future (its volumes will grow).
    """
    rows = expect_list(raw, PROVIDER, endpoint)
    if not rows:
        return empty_klines()
    parsed = _kline_columns(rows)
    opens, closes, trades, values = parsed if parsed is not None else _kline_values(rows, endpoint)
    if np.any(np.diff(opens) <= 0):
        raise SourceError(PROVIDER, endpoint, "open times are not strictly increasing", field="openTime")
    if np.any(values[:, :6] < 0) or np.any(values[:, 6:] < 0):
        raise SourceError(PROVIDER, endpoint, "negative price or volume", field="kline")
    over = values[:, 7] > values[:, 5] * (1 + 1e-9) + 1e-6
    if np.any(over):
        raise SourceError(PROVIDER, endpoint, "taker-buy quote volume exceeds quote volume", field="takerBuyQuote")
    frame = pd.DataFrame(
        {
            "open": values[:, 0],
            "high": values[:, 1],
            "low": values[:, 2],
            "close": values[:, 3],
            "volume": values[:, 4],
            "quote_volume": values[:, 5],
            "trades": trades,
            "taker_buy_base": values[:, 6],
            "taker_buy_quote": values[:, 7],
            "close_time": pd.to_datetime(closes, unit="ms", utc=True).as_unit("ms"),
            "provisional": closes >= now_ms,
        },
        # Pinned to ms (the wire unit) so frames from every page and the empty frame concatenate cleanly.
        index=pd.DatetimeIndex(pd.to_datetime(opens, unit="ms", utc=True).as_unit("ms"), name="open_time"),
    )
    return frame


_Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _kline_columns(rows: list[Any]) -> _Columns | None:
    """The fast path: each column converted by numpy at once, for the well-formed answer Binance sends (integer
    times and counts, decimal strings for prices and volumes). ``None`` when anything is off (a short row, a null,
    a bool, a float time, a string numpy cannot read or a non-finite number): the strict per-value parser then
    finds the first bad value and names it. Both give the same frame for a good answer (tested)."""
    if not all(type(row) is list and len(row) >= 11 for row in rows):
        return None
    ints = []
    for idx in (0, 6, 8):
        column = [row[idx] for row in rows]
        if {type(v) for v in column} != {int}:
            return None
        try:
            ints.append(np.array(column, dtype=np.int64))
        except OverflowError:
            return None
    floats = []
    for idx in (*_NUMERIC_FIELDS, *_TAKER_FIELDS):
        column = [row[idx] for row in rows]
        if not {type(v) for v in column} <= {str, int, float}:
            return None
        try:
            floats.append(np.array(column, dtype=np.float64))
        except (ValueError, OverflowError):
            return None
    values = np.column_stack(floats)
    if not np.isfinite(values).all():
        return None
    return ints[0], ints[1], ints[2], values


def _kline_values(rows: list[Any], endpoint: str) -> _Columns:
    """The strict per-value parser: every value checked, the first bad one named (row, field)."""
    opens = np.empty(len(rows), dtype=np.int64)
    closes = np.empty(len(rows), dtype=np.int64)
    trades = np.empty(len(rows), dtype=np.int64)
    values = np.empty((len(rows), 8), dtype=np.float64)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) < 11:
            raise SourceError(PROVIDER, endpoint, f"row {i}: expected a 12-element array", field="kline")
        opens[i] = to_int(row[0], PROVIDER, endpoint, "openTime")
        closes[i] = to_int(row[6], PROVIDER, endpoint, "closeTime")
        trades[i] = to_int(row[8], PROVIDER, endpoint, "trades")
        for j, (idx, name) in enumerate(_NUMERIC_FIELDS.items()):
            values[i, j] = req_float(row[idx], PROVIDER, endpoint, name)
        for j, (idx, name) in enumerate(_TAKER_FIELDS.items(), start=6):
            # null only comes from replayed OHLCV-only history: the taker split is unknown there, never zero.
            taker = to_float(row[idx], PROVIDER, endpoint, name, allow_none=True)
            values[i, j] = np.nan if taker is None else taker
    return opens, closes, trades, values


class BinanceSpot:
    """Keyless Binance spot market data through the shared :class:`HttpClient`."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def ticker_24hr(self, symbols: list[str]) -> dict[str, Ticker24h]:
        """24 h tickers for several symbols in one call (weight 2 for up to 20 symbols)."""
        endpoint = "/api/v3/ticker/24hr"
        weight = 2 if len(symbols) <= 20 else 40 if len(symbols) <= 100 else 80
        if len(symbols) == 1:
            raw: Any = [await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint,
                                                 params={"symbol": symbols[0]}, weight=weight)]
        else:
            raw = await self.http.get_json(
                PROVIDER, endpoint, self.base_url + endpoint,
                params={"symbols": json.dumps(symbols, separators=(",", ":"))}, weight=weight,
            )  # fmt: skip
        tickers = [parse_ticker_24hr(item, endpoint) for item in expect_list(raw, PROVIDER, endpoint)]
        return {t.symbol: t for t in tickers}

    async def exchange_info(self, permissions: str = "SPOT") -> SpotListing:
        """Every pair with the ``permissions`` permission (weight 20; ``permissions`` cannot be combined with
        ``symbol``/``symbols``, and without it Binance lists SPOT, MARGIN and LEVERAGED pairs alike)."""
        endpoint = "/api/v3/exchangeInfo"
        raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint,
                                       params={"permissions": permissions}, weight=20)  # fmt: skip
        return parse_exchange_info(raw, endpoint)

    async def klines(
        self,
        symbol: str,
        interval: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = MAX_LIMIT,
        now_ms: int,
        max_pages: int = 50,
    ) -> pd.DataFrame:
        """Klines for ``symbol``; with ``start_ms``, pages forward 1000 rows a call until ``end_ms`` or now."""
        params: dict[str, Any] = {"symbol": symbol, "interval": interval, "limit": min(limit, MAX_LIMIT)}
        return await paged_klines(self.http, self.base_url, "/api/v3/klines", params, start_ms=start_ms,
                                  end_ms=end_ms, now_ms=now_ms, weight=2, max_pages=max_pages)  # fmt: skip


async def paged_klines(http: HttpClient, base_url: str, endpoint: str, params: dict[str, Any], *,
                       start_ms: int | None, end_ms: int | None, now_ms: int, weight: int,
                       max_pages: int = 50) -> pd.DataFrame:  # fmt: skip
    """Binance klines (spot or USD-M: the same rows), one call, or with ``start_ms`` paging forward ``limit`` rows
    a call until ``end_ms`` or now; bars deduplicated by open time."""
    if end_ms is not None:
        params["endTime"] = end_ms
    if start_ms is None:
        raw = await http.get_json(PROVIDER, endpoint, base_url + endpoint, params=params, weight=weight)
        return parse_klines(raw, now_ms, endpoint)
    pages: list[pd.DataFrame] = []
    cursor = start_ms
    for _ in range(max_pages):
        params["startTime"] = cursor
        raw = await http.get_json(PROVIDER, endpoint, base_url + endpoint, params=params, weight=weight)
        page = parse_klines(raw, now_ms, endpoint)
        if page.empty:
            break
        pages.append(page)
        if len(page) < params["limit"]:
            break
        cursor = int(page.index[-1].value // 1_000_000) + 1
    if not pages:
        return empty_klines()
    frame = pd.concat(pages)
    return frame[~frame.index.duplicated(keep="last")]
