"""DefiLlama stablecoins (keyless): the daily history of the stablecoin supply,
``GET https://stablecoins.llama.fi/stablecoincharts/all``.

Market meaning: the dollars parked in stablecoins. Supply growing faster than the crypto market means holders
rotate into dollars (or fresh dollars wait on the side-lines); it is what lets the "Stablecoin rotation" driver
have a 30-day change from the first minute, before the console has kept 30 days of CoinGecko ``/global``
snapshots of its own (see :mod:`tui.views.metrics`).

Wire format. DefiLlama's OpenAPI (``DefiLlama/api-docs`` ``defillama-openapi-free.json`` @ ``3a45e4e5``, server
``https://stablecoins.llama.fi``; "Get historical mcap sum of all stablecoins", optional ``stablecoin`` id)
documents an array of ``{date, totalCirculating: {peggedUSD}}``. The server that answers
(``DefiLlama/peggedassets-server`` ``api2/cron-task/storeCharts.ts`` @ ``60cfca16``, 2026-08-21) writes one
object per UTC day, oldest first::

    [{"date": "1609459200",
      "totalCirculating":    {"peggedUSD": 28611463017.33, "peggedEUR": 1514922.1, ...},
      "totalUnreleased":     {"peggedUSD": 0, ...},
      "totalCirculatingUSD": {"peggedUSD": 28653377081.96, "peggedEUR": 1846135.27, ...},
      "totalMintedUSD":      {"peggedUSD": 0, ...}, "totalBridgedToUSD": {"peggedUSD": 0, ...}}, ...]

``date`` is the day's start in epoch **seconds as a string** (the keys of a JS object; clients such as sonde's and
guanfu's fixtures copied from the live endpoint show the same), the amounts are JSON numbers rounded to cents,
one key per peg type, and a balance the server does not have is written as ``0``. ``totalCirculating`` counts
coins, ``totalCirculatingUSD`` values them at their price: altpulse reads ``totalCirculatingUSD.peggedUSD``, the
dollar value of the USD-pegged stablecoins (what DefiLlama charts as stablecoin market cap). The newest point is
the running day (refreshed during the day). Errors are plain text: 404 ``Invalid request`` when the route's file
is missing, 500 ``Internal Error``.

Limits: the free API documents none ("Standard" rate limit, fair use); third-party profiles report ~300 requests
a minute per IP and HTTP 429 when throttled. The route is served from a file cache with ``Cache-Control:
max-age=1800``: the data changes at most every 30 minutes and is daily, so altpulse asks once an hour.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sources.errors import SourceError, SourceUnavailable
from sources.http import HttpClient
from sources.values import expect_list, field, to_float, to_int

PROVIDER = "defillama"
DEFAULT_BASE_URL = "https://stablecoins.llama.fi"
CHARTS = "/stablecoincharts/all"
#: The peg whose dollar value is read: CoinGecko's stablecoin share (USDT + USDC) is of USD stablecoins too.
PEG = "peggedUSD"


def parse_stablecoin_chart(raw: Any, endpoint: str = CHARTS) -> pd.DataFrame:
    """``/stablecoincharts/all`` body -> frame indexed by UTC day (``time``) with ``supply_usd``, oldest first.

    ``supply_usd`` is the dollar value of the USD-pegged stablecoins in circulation. A day whose value is 0 or
    absent is one DefiLlama has no figure for: it is left out (never a zero supply). Anything else that is not a
    finite, non-negative number, a date that is not epoch seconds, a date given twice or an answer without a
    single figure raises :class:`SourceError` naming the field.
    """
    rows = expect_list(raw, PROVIDER, endpoint)
    if not rows:
        raise SourceError(PROVIDER, endpoint, "no data points", field="response")
    times: list[int] = []
    values: list[float] = []
    for item in rows:
        seconds = to_int(field(item, "date", PROVIDER, endpoint), PROVIDER, endpoint, "date")
        if not 1_000_000_000 <= seconds <= 10_000_000_000:
            raise SourceError(PROVIDER, endpoint, f"date {seconds} is not in epoch seconds", field="date")
        amounts = field(item, "totalCirculatingUSD", PROVIDER, endpoint)
        if not isinstance(amounts, dict):
            raise SourceError(PROVIDER, endpoint, f"expected an object, got {type(amounts).__name__}",
                              field="totalCirculatingUSD")  # fmt: skip
        value = to_float(amounts.get(PEG), PROVIDER, endpoint, f"totalCirculatingUSD.{PEG}", allow_none=True)
        if value is None or value == 0:
            continue  # no figure for the day (the server writes 0 for a balance it lacks)
        if value < 0:
            raise SourceError(PROVIDER, endpoint, f"negative supply {value}", field=f"totalCirculatingUSD.{PEG}")
        times.append(seconds)
        values.append(value)
    if not values:
        raise SourceError(PROVIDER, endpoint, "no USD stablecoin supply on any day",
                          field=f"totalCirculatingUSD.{PEG}")  # fmt: skip
    stamps = np.asarray(times, dtype=np.int64)
    order = np.argsort(stamps, kind="stable")
    stamps = stamps[order]
    if np.any(np.diff(stamps) == 0):
        raise SourceError(PROVIDER, endpoint, "duplicate dates", field="date")
    index = pd.DatetimeIndex(pd.to_datetime(stamps, unit="s", utc=True), name="time")
    return pd.DataFrame({"supply_usd": np.asarray(values, dtype=np.float64)[order]}, index=index)


class DefiLlama:
    """Keyless DefiLlama stablecoins client (fair use, no published limit; the chart changes at most every 30 min)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def stablecoin_supply(self) -> pd.DataFrame:
        """The daily USD stablecoin supply since 2017 (about 3,000 points, one call)."""
        try:
            raw = await self.http.get_json(PROVIDER, CHARTS, self.base_url + CHARTS)
        except SourceError as exc:
            if exc.status == 404 and not isinstance(exc, SourceUnavailable):
                # The route's cached file is missing (or the route retired): asking again in a few seconds will
                # not bring it back, so the feed says "unavailable here" and asks rarely.
                raise SourceUnavailable(PROVIDER, CHARTS, f"no stablecoin supply chart here ({exc.detail})",
                                        status=404) from None  # fmt: skip
            raise
        return parse_stablecoin_chart(raw)
