"""Stooq daily CSV: the fallback for US equity daily bars when Yahoo fails, **only with a user's API key**.

Since about March 2026 Stooq serves ``/q/d/l/`` only with an API key (pandas-datareader#1012, 2026-04; the
parameter is taken to be ``apikey``, [unverified]); without one it answers an HTML page with HTTP 200, and since
2026-07-29 non-browser clients may get a proof-of-work interstitial. So the console uses Stooq only when
``[sources] stooq_apikey`` is set, and the page is reported as unavailable, never parsed.

``GET https://stooq.com/q/d/l/?s=spy.us&i=d`` returns ``Date,Open,High,Low,Close,Volume`` with ISO dates,
oldest first [3rd: several client parsers, e.g. KIC/hrp ``Stooq.groovy`` and other scrapers in the code
corpus; no raw capture was found]. Known failure bodies, all sent with **HTTP 200**, so the header row must
be validated:

- ``Exceeded the daily hits limit`` (plain text) [unverified wording, from memory]: raised as
  :class:`RateLimited` (a :class:`SourceError`) with a one-hour retry;
- ``No data`` (unknown symbol) [3rd: stooq.pl answers "Brak danych"];
- an HTML page (a 2026 report says non-browser clients now get a proof-of-work interstitial,
  Verdenroz/finance-query#263): raised as :class:`SourceUnavailable`;
- PHP warnings printed above the header (jjttcc/market-analysis-system notes them): rejected, never skipped
  over.

US symbols take a ``.us`` suffix (``spy.us``); indexes use ``^spx``.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

from sources.errors import RateLimited, SourceError, SourceUnavailable
from sources.http import BROWSER_UA, HttpClient
from sources.yahoo import BAR_COLUMNS, EquityBars

PROVIDER = "stooq"
ENDPOINT = "/q/d/l/"
DEFAULT_BASE_URL = "https://stooq.com"
EXPECTED_HEADER = ["Date", "Open", "High", "Low", "Close"]


def stooq_symbol(symbol: str) -> str:
    """``SPY`` -> ``spy.us``; symbols that already carry a suffix or an index caret pass through
    lower-cased."""
    s = symbol.strip().lower()
    return s if ("." in s or s.startswith("^")) else f"{s}.us"


def parse_stooq_csv(text: str, symbol: str) -> EquityBars:
    """CSV body -> :class:`EquityBars` (session start taken as 09:30 America/New_York, the US cash open)."""
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        raise SourceError(PROVIDER, ENDPOINT, "empty body", field="body")
    lowered = stripped[:300].lower()
    if "exceeded the daily hits limit" in lowered:
        raise RateLimited(PROVIDER, ENDPOINT, "exceeded the daily hits limit", retry_after=3600.0)
    if lowered.startswith("<") or "<html" in lowered:
        raise SourceUnavailable(PROVIDER, ENDPOINT, "HTML page instead of CSV (bot check?)")
    if lowered.startswith("no data") or lowered.startswith("brak danych"):
        raise SourceError(PROVIDER, ENDPOINT, f"no data for {symbol}", field="s")
    first_line = stripped.splitlines()[0]
    header = [h.strip() for h in first_line.split(",")]
    if header[:5] != EXPECTED_HEADER:
        raise SourceError(PROVIDER, ENDPOINT, f"unexpected header {first_line[:80]!r}", field="header")
    if "\n" in stripped and not text.rstrip(" \t").endswith("\n"):
        # Every line, the last included, ends with a newline: without it the last row may be cut mid-number.
        raise SourceError(PROVIDER, ENDPOINT, "body truncated (no final newline)", field="body")
    try:
        frame = pd.read_csv(io.StringIO(stripped), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise SourceError(PROVIDER, ENDPOINT, f"malformed CSV ({exc})") from None
    days = pd.to_datetime(frame["Date"], format="%Y-%m-%d", errors="coerce")
    if days.isna().any():
        bad = frame["Date"][days.isna()].iloc[0]
        raise SourceError(PROVIDER, ENDPOINT, f"bad date {bad[:20]!r}", field="Date")
    out: dict[str, np.ndarray] = {}
    for name in ("Open", "High", "Low", "Close", "Volume"):
        if name not in frame.columns:
            out[name.lower()] = np.full(len(frame), np.nan)
            continue
        col = frame[name].str.strip()
        numbers = pd.to_numeric(col.where(col != "", None), errors="coerce")
        bad = numbers.isna() & (col != "")
        if bad.any():
            raise SourceError(PROVIDER, ENDPOINT, f"not a number: {col[bad].iloc[0][:20]!r}", field=name)
        values = numbers.to_numpy(np.float64)
        if np.any(values[~np.isnan(values)] < 0) or not np.all(np.isfinite(values[~np.isnan(values)])):
            raise SourceError(PROVIDER, ENDPOINT, "negative or infinite value", field=name)
        out[name.lower()] = values
    out["adjclose"] = np.full(len(frame), math.nan)
    opens = (pd.DatetimeIndex(days) + pd.Timedelta(hours=9, minutes=30)).tz_localize("America/New_York")
    index = pd.DatetimeIndex(opens.tz_convert("UTC"), name="time")
    bars = pd.DataFrame({c: out[c] for c in BAR_COLUMNS}, index=index)
    if not bars.index.is_monotonic_increasing or bars.index.has_duplicates:
        raise SourceError(PROVIDER, ENDPOINT, "dates are not strictly increasing", field="Date")
    return EquityBars(symbol=symbol.upper(), frame=bars, currency="USD", source=PROVIDER)


class Stooq:
    """Stooq CSV client (fallback only, with the user's API key: it bans IPs that poll it hard)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL, apikey: str = "") -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.apikey = apikey

    async def daily(self, symbol: str) -> EquityBars:
        params = {"s": stooq_symbol(symbol), "i": "d"}
        if self.apikey:
            params["apikey"] = self.apikey
        text = await self.http.get_text(
            PROVIDER, ENDPOINT, self.base_url + ENDPOINT,
            params=params,
            headers={"User-Agent": BROWSER_UA, "Accept": "text/csv,*/*"},
        )  # fmt: skip
        return parse_stooq_csv(text, symbol)
