"""The shared HTTP client: error mapping, retries with back-off, Retry-After, per-host budgets."""

from __future__ import annotations

import httpx
import pytest

from sources.errors import RateLimited, SourceError, SourceUnavailable
from sources.http import HostBudget, HttpClient


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(handler, fake: FakeTime | None = None, **kwargs) -> HttpClient:
    fake = fake or FakeTime()
    return HttpClient(httpx.MockTransport(handler), sleep=fake.sleep, clock=fake.clock, **kwargs)


async def test_429_raises_rate_limited_with_retry_after() -> None:
    client = client_for(
        lambda r: httpx.Response(429, headers={"Retry-After": "17"}, json={"msg": "slow down"})
    )
    with pytest.raises(RateLimited) as info:
        await client.get_json("binance", "/api/v3/klines", "https://data-api.binance.vision/api/v3/klines")
    assert info.value.retry_after == 17
    assert "binance /api/v3/klines (HTTP 429)" in str(info.value)
    assert client.log.total == 1  # no hammering after a 429


async def test_418_ban_and_451_geo_block() -> None:
    client = client_for(lambda r: httpx.Response(418, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as info:
        await client.get_json("binance", "/x", "https://api.binance.com/x")
    assert info.value.retry_after == 120
    client = client_for(lambda r: httpx.Response(451, json={"code": 0, "msg": "restricted location"}))
    with pytest.raises(SourceUnavailable, match="451"):
        await client.get_json(
            "binance", "/fapi/v1/premiumIndex", "https://fapi.binance.com/fapi/v1/premiumIndex"
        )


async def test_5xx_is_retried_with_backoff_then_succeeds() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503) if len(calls) < 3 else httpx.Response(200, json=[1])

    fake = FakeTime()
    client = client_for(handler, fake, retries=2)
    assert await client.get_json(
        "bybit", "/v5/market/tickers", "https://api.bybit.com/v5/market/tickers"
    ) == [1]
    assert len(calls) == 3
    assert len(fake.sleeps) == 2 and all(s >= 0 for s in fake.sleeps)


async def test_5xx_gives_up_after_retries_with_status_in_message() -> None:
    client = client_for(lambda r: httpx.Response(502), retries=1)
    with pytest.raises(SourceError, match=r"HTTP 502"):
        await client.get_json(
            "okx", "/api/v5/public/funding-rate", "https://www.okx.com/api/v5/public/funding-rate"
        )
    assert client.log.total == 2


async def test_timeouts_and_connection_errors_become_source_errors() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = client_for(timeout, retries=0)
    with pytest.raises(SourceError, match="timed out"):
        await client.get_json(
            "fred", "/graph/fredgraph.csv", "https://fred.stlouisfed.org/graph/fredgraph.csv"
        )

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = client_for(refused, retries=0)
    with pytest.raises(SourceError, match="connection failed"):
        await client.get_json(
            "fred", "/graph/fredgraph.csv", "https://fred.stlouisfed.org/graph/fredgraph.csv"
        )


async def test_malformed_json_is_a_source_error() -> None:
    client = client_for(lambda r: httpx.Response(200, content=b'[{"a": 1'))
    with pytest.raises(SourceError, match="malformed JSON"):
        await client.get_json("binance", "/api/v3/klines", "https://data-api.binance.vision/api/v3/klines")


async def test_budget_makes_calls_wait_instead_of_exceeding_the_limit() -> None:
    fake = FakeTime()
    client = client_for(lambda r: httpx.Response(200, json={}), fake, budgets={"api.example.com": (3, 10)})
    for _ in range(5):
        await client.get_json("x", "/y", "https://api.example.com/y")
    # 3 fit in the first 10 s window; the 4th and 5th had to wait for it to roll.
    assert sum(fake.sleeps) >= 10 - 1e-9
    assert client.log.by_host["api.example.com"] == 5


def test_host_budget_adopts_the_servers_own_weight_count() -> None:
    budget = HostBudget(limit=100, window_s=60)
    budget.server_used, budget.server_seen_at = 95, 0.0
    assert budget.wait_for(2, now=1.0) == 0.0
    assert budget.wait_for(10, now=1.0) > 0  # the server says we are nearly at the limit
    assert budget.wait_for(10, now=61.0) == 0.0  # its report has aged out of the window


async def test_binance_weight_header_is_read() -> None:
    client = client_for(lambda r: httpx.Response(200, json=[], headers={"X-MBX-USED-WEIGHT-1M": "4799"}))
    await client.get_json(
        "binance", "/api/v3/klines", "https://data-api.binance.vision/api/v3/klines", weight=2
    )
    assert client.budget("data-api.binance.vision").server_used == 4799


def test_alias_budgets_copy_the_host_and_its_endpoint_groups() -> None:
    from sources.http import DEFAULT_BUDGETS, alias_budgets

    budgets = dict(DEFAULT_BUDGETS)
    alias_budgets(budgets, {"127.0.0.3": "fapi.binance.com"})
    assert budgets["127.0.0.3"] == DEFAULT_BUDGETS["fapi.binance.com"]
    assert budgets["127.0.0.3#data"] == DEFAULT_BUDGETS["fapi.binance.com#data"]
    assert budgets["127.0.0.3#funding"] == DEFAULT_BUDGETS["fapi.binance.com#funding"]
    assert "127.0.0.3#data" not in DEFAULT_BUDGETS  # in place on the mapping given, not the defaults
