"""DefiLlama ``/stablecoincharts/all``: bodies in the format the server writes (``date`` as epoch-second strings,
one amount per peg type), through the shared HTTP client over ``httpx.MockTransport``; good, malformed, empty and
HTTP errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pandas as pd
import pytest

from sources.defillama import CHARTS, DefiLlama, parse_stablecoin_chart
from sources.errors import RateLimited, SourceError, SourceUnavailable
from sources.http import HttpClient

DAY_S = 86_400
D0 = 1_609_459_200  # 2021-01-01 00:00 UTC


def point(day: int, usd: Any, **extra: Any) -> dict[str, Any]:
    """One day as DefiLlama writes it (storeCharts.ts): date string, per-peg maps, cents."""
    return {
        "date": str(D0 + day * DAY_S),
        "totalCirculating": {"peggedUSD": usd, "peggedEUR": 1514922.1},
        "totalUnreleased": {"peggedUSD": 0, "peggedEUR": 0},
        "totalCirculatingUSD": {"peggedUSD": usd, "peggedEUR": 1846135.27, **extra},
        "totalMintedUSD": {"peggedUSD": 0, "peggedEUR": 0},
        "totalBridgedToUSD": {"peggedUSD": 0, "peggedEUR": 0},
    }


GOOD = [point(0, 28653377081.96), point(1, 28801222310.5), point(2, 29010000000.0)]


async def fetch(handler: Any) -> pd.DataFrame:
    async def no_sleep(_s: float) -> None:
        return None

    http = HttpClient(httpx.MockTransport(handler), retries=1, sleep=no_sleep)
    try:
        return await DefiLlama(http).stablecoin_supply()
    finally:
        await http.aclose()


async def test_good_body_through_the_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps(GOOD).encode(), headers={"Content-Type": "application/json"})

    frame = await fetch(handler)
    assert str(seen[0].url) == "https://stablecoins.llama.fi/stablecoincharts/all"
    assert list(frame.columns) == ["supply_usd"] and frame.index.name == "time"
    assert str(frame.index.tz) == "UTC"
    assert frame.index[0] == pd.Timestamp("2021-01-01", tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2021-01-03", tz="UTC")
    # The dollar value of the USD-pegged coins, not the coin count and not the EUR pegs.
    assert frame["supply_usd"].tolist() == [28653377081.96, 28801222310.5, 29010000000.0]


def test_dates_as_numbers_and_out_of_order_are_accepted_and_sorted() -> None:
    body = [dict(point(2, 3.0e10), date=D0 + 2 * DAY_S), point(0, 1.0e10), point(1, 2.0e10)]
    frame = parse_stablecoin_chart(body)  # the OpenAPI example shows a number: both forms are read
    assert frame["supply_usd"].tolist() == [1.0e10, 2.0e10, 3.0e10]
    assert frame.index.is_monotonic_increasing


def test_a_day_without_a_usd_figure_is_left_out_never_zero() -> None:
    no_usd = point(1, 0)
    del no_usd["totalCirculatingUSD"]["peggedUSD"]
    frame = parse_stablecoin_chart([point(0, 1.0e10), no_usd, point(2, 0), point(3, 1.2e10)])
    assert frame.index.tolist() == [pd.Timestamp(D0 + s * DAY_S, unit="s", tz="UTC") for s in (0, 3)]
    assert (frame["supply_usd"] > 0).all()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"error": "nope"}, "response"),  # an object where the list belongs
        ("<html>Service unavailable</html>", "response"),
        ([point(0, "n/a")], "totalCirculatingUSD.peggedUSD"),
        ([point(0, float("inf"))], "totalCirculatingUSD.peggedUSD"),
        ([point(0, -5.0)], "totalCirculatingUSD.peggedUSD"),
        ([dict(point(0, 1e10), date="2021-01-01")], "date"),  # an ISO date, not epoch seconds
        ([dict(point(0, 1e10), date=str(D0 * 1000))], "date"),  # milliseconds
        ([{"totalCirculatingUSD": {"peggedUSD": 1e10}}], "date"),
        ([{"date": str(D0), "totalCirculating": {"peggedUSD": 1e10}}], "totalCirculatingUSD"),
        ([dict(point(0, 1e10), totalCirculatingUSD=[1e10])], "totalCirculatingUSD"),
        ([point(0, 1e10), point(0, 1.1e10)], "date"),  # the same day twice
        ([point(0, 0), point(1, 0)], "totalCirculatingUSD.peggedUSD"),  # not one figure
        ([1, 2, 3], "date"),
    ],
)
def test_malformed_bodies_raise_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_stablecoin_chart(body)
    assert err.value.provider == "defillama" and err.value.endpoint == CHARTS
    assert err.value.field == field


def test_empty_list_is_an_error_not_an_empty_market() -> None:
    with pytest.raises(SourceError, match="no data points"):
        parse_stablecoin_chart([])


async def test_truncated_json_is_a_source_error() -> None:
    body = json.dumps(GOOD).encode()[:40]
    with pytest.raises(SourceError, match="malformed JSON"):
        await fetch(lambda r: httpx.Response(200, content=body))


async def test_http_errors() -> None:
    # 404: DefiLlama's plain-text "Invalid request" when the route's file is missing: unavailable, asked rarely.
    with pytest.raises(SourceUnavailable) as gone:
        await fetch(lambda r: httpx.Response(404, text="Invalid request"))
    assert gone.value.status == 404 and "no stablecoin supply chart here" in str(gone.value)
    # 429: stand down for Retry-After, not retried here.
    calls: list[int] = []

    def limited(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, headers={"Retry-After": "90"}, text="Too Many Requests")

    with pytest.raises(RateLimited) as limit:
        await fetch(limited)
    assert limit.value.retry_after == 90 and len(calls) == 1
    # 500 "Internal Error": retried, then a plain SourceError with the status.
    with pytest.raises(SourceError) as server:
        await fetch(lambda r: httpx.Response(500, text="Internal Error"))
    assert server.value.status == 500 and not isinstance(server.value, SourceUnavailable)
    assert str(server.value).startswith("defillama /stablecoincharts/all (HTTP 500)")
