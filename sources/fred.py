"""FRED graph CSV (keyless): ``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS2``.

Market meaning: DGS2 is the 2-year US Treasury constant-maturity yield in percent, the market's best keyless
read of where the Fed funds rate is heading; a fast rise (> +0.15 points in 10 days) is a hawkish repricing
that tends to weigh on crypto. It is published with about a one-business-day lag, so every value carries its
observation date (``as_of``), never "today".

Two header formats are seen in real downloads **[capture]** (``shared/fixtures/real/fred``): the current
``observation_date,DGS2`` with **empty** cells for holidays, and the legacy ``DATE,DGS2`` with ``.`` for
missing values. Both are accepted; ``""`` and ``"."`` become NaN (no observation), anything else non-numeric
is an error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sources.errors import SourceError
from sources.http import HttpClient

PROVIDER = "fred"
ENDPOINT = "/graph/fredgraph.csv"
DEFAULT_BASE_URL = "https://fred.stlouisfed.org"
DATE_HEADERS = ("observation_date", "DATE")


@dataclass
class FredSeries:
    """One FRED series: ``values`` indexed by observation date (tz-naive ``DatetimeIndex``, name ``date``),
    float, NaN where FRED has no observation (holidays)."""

    series_id: str
    values: pd.Series

    @property
    def as_of(self) -> pd.Timestamp | None:
        """Date of the newest actual observation."""
        valid = self.values.dropna()
        return None if valid.empty else valid.index[-1]

    @property
    def latest(self) -> float:
        valid = self.values.dropna()
        return float("nan") if valid.empty else float(valid.iloc[-1])


def parse_fredgraph_csv(text: str, series_id: str | None = None) -> FredSeries:
    """``fredgraph.csv`` body -> :class:`FredSeries`. ``series_id`` (when given) must match the value
    column."""
    endpoint = ENDPOINT
    body = text.lstrip("\ufeff").strip()
    if not body:
        raise SourceError(PROVIDER, endpoint, "empty body", field="body")
    first = body.splitlines()[0]
    header = [h.strip() for h in first.split(",")]
    if len(header) != 2 or header[0] not in DATE_HEADERS:
        if body[:200].lower().lstrip().startswith("<"):
            raise SourceError(PROVIDER, endpoint, "HTML page instead of CSV", field="header")
        raise SourceError(PROVIDER, endpoint, f"unexpected header {first[:80]!r}", field="header")
    if "\n" in body and not text.rstrip(" \t").endswith("\n"):
        # fredgraph.csv ends every line with a newline: without it the last row may be cut mid-number.
        raise SourceError(PROVIDER, endpoint, "body truncated (no final newline)", field="body")
    sid = header[1]
    if series_id is not None and sid != series_id:
        raise SourceError(PROVIDER, endpoint, f"asked for {series_id}, got {sid}", field="header")
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise SourceError(PROVIDER, endpoint, f"malformed CSV ({exc})") from None
    dates = pd.to_datetime(frame[header[0]].str.strip(), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        bad = frame[header[0]][dates.isna()].iloc[0]
        raise SourceError(PROVIDER, endpoint, f"bad date {bad[:20]!r}", field=header[0])
    raw = frame[sid].str.strip()
    missing = raw.isin(["", "."])
    numbers = pd.to_numeric(raw.where(~missing, None), errors="coerce")
    bad = numbers.isna() & ~missing
    if bad.any():
        raise SourceError(PROVIDER, endpoint, f"not a number: {raw[bad].iloc[0][:20]!r}", field=sid)
    values = numbers.to_numpy(np.float64)
    if not np.all(np.isfinite(values[~np.isnan(values)])):
        raise SourceError(PROVIDER, endpoint, "infinite value", field=sid)
    index = pd.DatetimeIndex(dates, name="date")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise SourceError(PROVIDER, endpoint, "dates are not strictly increasing", field=header[0])
    return FredSeries(series_id=sid, values=pd.Series(values, index=index, name=sid))


class Fred:
    """Keyless FRED CSV client (the JSON API needs a key; ``fredgraph.csv`` does not)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def series(self, series_id: str = "DGS2", start: str | None = None) -> FredSeries:
        """Series ``series_id``; ``start`` (``YYYY-MM-DD``) trims the download with FRED's ``cosd``
        [unverified]."""
        params = {"id": series_id}
        if start:
            params["cosd"] = start
        text = await self.http.get_text(PROVIDER, ENDPOINT, self.base_url + ENDPOINT, params=params)
        return parse_fredgraph_csv(text, series_id)
