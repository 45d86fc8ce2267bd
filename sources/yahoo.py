"""Yahoo Finance chart endpoint (unofficial, keyless): daily SPY / QQQ / DXY bars for the stock-weakness
driver.

``GET https://query2.finance.yahoo.com/v8/finance/chart/{SYM}?interval=1d&range=3mo`` returns
``{"chart": {"result": [{"meta": {...}, "timestamp": [unix s, ...], "indicators": {"quote": [{"open": [...],
"high": [...], "low": [...], "close": [...], "volume": [...]}], "adjclose": [{"adjclose": [...]}]}}],
"error": null}}`` **[capture]** (yahoo-finance2 recorded fixtures). The arrays are parallel and may hold
``null`` (halts, data gaps); a range with no sessions has no ``timestamp`` and an empty ``quote`` object.
On failure (e.g. an unknown symbol, HTTP 404) the body is ``{"chart": {"result": null, "error": {"code":
"Not Found", "description": "No data found, symbol may be delisted"}}}`` [3rd: quoted in
ranaroussi/yfinance#1548].

Market meaning: US equities are the risk benchmark crypto trades against; a > 2% five-session slide in SPY
or QQQ usually comes with de-risking across crypto. The endpoint is unofficial and may 429 default agents, so
requests carry a browser User-Agent; :func:`equity_daily` falls back to Stooq's CSV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sources.errors import SourceError, SourceUnavailable
from sources.http import BROWSER_UA, HttpClient
from sources.values import field, to_float, to_int

PROVIDER = "yahoo"
DEFAULT_BASE_URL = "https://query2.finance.yahoo.com"
CHART = "/v8/finance/chart/"
BAR_COLUMNS = ["open", "high", "low", "close", "volume", "adjclose"]


@dataclass
class EquityBars:
    """Daily bars of one symbol. ``frame`` is indexed by session start (UTC ``DatetimeIndex``, name ``time``)
    with :data:`BAR_COLUMNS` (prices in ``currency``; NaN where the provider sent null). ``source`` names the
    provider that answered (``yahoo`` or ``stooq``)."""

    symbol: str
    frame: pd.DataFrame
    currency: str
    source: str
    exchange_tz: str = "America/New_York"
    regular_market_price: float | None = None
    regular_market_time: pd.Timestamp | None = None
    #: The symbol these bars stand in for (``"SPY"`` for the S&P 500 index ``^GSPC``), None when they are its own.
    proxy_for: str | None = None

    @property
    def as_of(self) -> pd.Timestamp | None:
        closes = self.frame["close"].dropna()
        return None if closes.empty else closes.index[-1]


def _endpoint(symbol: str) -> str:
    return f"{CHART}{symbol}"


def parse_chart(raw: Any, symbol: str) -> EquityBars:
    """Chart body -> :class:`EquityBars`; ``chart.error`` and misaligned arrays raise :class:`SourceError`."""
    endpoint = _endpoint(symbol)
    chart = field(raw, "chart", PROVIDER, endpoint)
    error = chart.get("error") if isinstance(chart, dict) else None
    if error:
        if isinstance(error, dict):
            message = f"{error.get('code', 'error')}: {str(error.get('description', ''))[:120]}"
        else:
            message = str(error)[:120]
        raise SourceError(PROVIDER, endpoint, message, field="chart.error")
    results = field(chart, "result", PROVIDER, endpoint)
    if not isinstance(results, list) or not results:
        raise SourceError(PROVIDER, endpoint, "empty result", field="chart.result")
    result = results[0]
    meta = field(result, "meta", PROVIDER, endpoint)
    if not isinstance(meta, dict):
        raise SourceError(PROVIDER, endpoint, "expected an object", field="meta")
    currency = meta.get("currency") or "USD"
    tz = meta.get("exchangeTimezoneName") or "America/New_York"
    price = to_float(
        meta.get("regularMarketPrice"), PROVIDER, endpoint, "meta.regularMarketPrice", allow_none=True
    )
    mtime = meta.get("regularMarketTime")
    market_time = None
    if mtime is not None:
        seconds = to_int(mtime, PROVIDER, endpoint, "meta.regularMarketTime")
        market_time = pd.Timestamp(seconds, unit="s", tz="UTC")
    stamps = result.get("timestamp")
    indicators = field(result, "indicators", PROVIDER, endpoint)
    quotes = field(indicators, "quote", PROVIDER, endpoint)
    if not isinstance(quotes, list) or not quotes or not isinstance(quotes[0], dict):
        raise SourceError(
            PROVIDER, endpoint, "expected a list with one quote object", field="indicators.quote"
        )
    quote = quotes[0]
    if not stamps:
        if any(quote.get(k) for k in ("close", "open")):
            raise SourceError(PROVIDER, endpoint, "prices without timestamps", field="timestamp")
        return EquityBars(symbol, _empty_bars(), currency, PROVIDER, tz, price, market_time)
    if not isinstance(stamps, list):
        raise SourceError(PROVIDER, endpoint, "expected a list", field="timestamp")
    n = len(stamps)
    times = np.array([to_int(t, PROVIDER, endpoint, "timestamp") for t in stamps], dtype=np.int64)
    if np.any(np.diff(times) <= 0):
        raise SourceError(PROVIDER, endpoint, "timestamps are not increasing", field="timestamp")
    columns: dict[str, np.ndarray] = {}
    adj = indicators.get("adjclose")
    adj_list = adj[0].get("adjclose") if isinstance(adj, list) and adj and isinstance(adj[0], dict) else None
    for name in BAR_COLUMNS:
        arr = adj_list if name == "adjclose" else quote.get(name)
        if arr is None:
            if name in ("volume", "adjclose"):
                columns[name] = np.full(n, np.nan)
                continue
            raise SourceError(PROVIDER, endpoint, "missing array", field=f"indicators.quote.{name}")
        if not isinstance(arr, list) or len(arr) != n:
            got = len(arr) if isinstance(arr, list) else "?"
            message = f"array length {got} != {n} timestamps"
            raise SourceError(PROVIDER, endpoint, message, field=f"indicators.quote.{name}")
        values = np.empty(n, dtype=np.float64)
        for i, v in enumerate(arr):
            number = to_float(v, PROVIDER, endpoint, f"indicators.quote.{name}", allow_none=True)
            values[i] = math.nan if number is None else number
        if np.any(values[~np.isnan(values)] < 0):
            raise SourceError(PROVIDER, endpoint, "negative value", field=f"indicators.quote.{name}")
        columns[name] = values
    frame = pd.DataFrame(
        columns, index=pd.DatetimeIndex(pd.to_datetime(times, unit="s", utc=True), name="time")
    )
    return EquityBars(symbol, frame, currency, PROVIDER, tz, price, market_time)


def _empty_bars() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in BAR_COLUMNS},
                        index=pd.DatetimeIndex([], tz="UTC", name="time"))  # fmt: skip


class YahooChart:
    """Keyless Yahoo chart client (about 20 requests/min budget; cache daily bars)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def daily(self, symbol: str, range_: str = "3mo") -> EquityBars:
        endpoint = _endpoint(symbol)
        raw = await self.http.get_json(
            PROVIDER, endpoint, self.base_url + endpoint,
            params={"interval": "1d", "range": range_, "includePrePost": "false", "events": "div,split"},
            headers={"User-Agent": BROWSER_UA, "Accept": "application/json"},
        )  # fmt: skip
        return parse_chart(raw, symbol)


async def equity_daily(yahoo: YahooChart, stooq: Any | None, symbol: str, range_: str = "3mo") -> EquityBars:
    """Yahoo first, then Stooq (``sources.stooq.Stooq``) when Yahoo fails; a rate limit or block is not
    retried against Yahoo. Raises the Yahoo error when there is no fallback or the fallback fails too
    (chained)."""
    try:
        return await yahoo.daily(symbol, range_)
    except SourceError as first:
        if stooq is None:
            raise
        try:
            return await stooq.daily(symbol)
        except SourceError as second:
            if isinstance(first, SourceUnavailable):
                raise second from first
            raise first from second
