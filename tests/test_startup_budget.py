"""What a console's start-up asks of each provider, against the provider's published limit.

Boots the console's feeds the way ``altpulse snapshot`` does (:func:`tui.boot.boot`, then every feed once in start-up
order, :func:`tui.commands.snapshot.first_pass`) against the demo market: the default basket (BTC + 20 alts), the whole
Binance spot market for the market CVD (198 USDT pairs in the demo) and 279 perps on four venues. Every request the
shared HTTP client sends is counted per budget (the host, ``host#group`` for an endpoint group with a limit of its
own, ``host/path`` for an OKX endpoint with a lower figure) and priced in the provider's unit:

- Binance: the request weight the emulator charges (``X-MBX-USED-WEIGHT-1M``; its routes charge the documented
  weights: klines 2 on spot, 1/2/5/10 by ``limit`` on USD-M, ticker/24hr 2/40/80, exchangeInfo 20, premiumIndex 10
  without a symbol, openInterest 1, ``/futures/data`` and fundingInfo 0), and the client must never budget less than
  it is charged;
- Hyperliquid: the documented weight of each ``/info`` request (20 for ``metaAndAssetCtxs``; ``fundingHistory`` 20 plus
  1 per 20 rows returned);
- everyone else: requests.

The published limits are :data:`sources.http.PUBLISHED_LIMITS` (one table, with its sources; the client's budgets in
:data:`sources.http.DEFAULT_BUDGETS` stay below them). The whole start-up must fit in **one** window of each limit, so
no burst of it can breach a limit however the requests fall in time (no timing is measured or asserted here).
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import sources.http as http_module
from sources.http import DEFAULT_BUDGET, DEFAULT_BUDGETS, PUBLISHED_LIMITS, budget_host

NOW_MS = 1_796_000_000_000 + 17 * 60_000  # a frozen demo clock: the same requests every run
BINANCE_HOSTS = ("data-api.binance.vision", "api.binance.com", "fapi.binance.com")
#: Hyperliquid ``/info`` weights ("Rate limits and user limits"): 2 for a few light reads, 20 for every other type.
HL_LIGHT = {"l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState", "exchangeStatus"}
HL_PER_20_ITEMS = {"fundingHistory", "recentTrades", "userFills", "userFunding", "historicalOrders"}


@dataclass(frozen=True)
class Sent:
    provider: str
    host: str
    path: str
    weight: float  # what the client budgeted
    group: str | None
    charged: float | None  # Binance: the weight the (emulated) server charged
    body: Any  # the JSON request body (Hyperliquid's info type)
    items: int | None  # rows in a list answer


class CountingClient(http_module.HttpClient):
    """The shared client, noting every answered request (failures fail the test: every feed must deliver)."""

    sent: list[Sent] = []

    async def request(self, provider: str, endpoint: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await super().request(provider, endpoint, method, url, **kwargs)
        charged = response.headers.get("X-MBX-USED-WEIGHT-1M")
        items = None
        if provider == "hyperliquid":
            payload = response.json()
            items = len(payload) if isinstance(payload, list) else None
        CountingClient.sent.append(Sent(provider, response.request.url.host, response.request.url.path,
                                        float(kwargs.get("weight", 1.0)), kwargs.get("group"),
                                        None if charged is None else float(charged), kwargs.get("json_body"),
                                        items))  # fmt: skip
        return response


@dataclass
class Startup:
    sent: list[Sent]
    attempts: int  # the client's own request log: every attempt, retries included
    failed: dict[str, str]


@pytest.fixture(scope="module")
def startup() -> Iterator[Startup]:
    from tui.boot import Launch, boot
    from tui.commands.snapshot import first_pass
    from tui.runtime.config import load_config

    CountingClient.sent = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(http_module, "HttpClient", CountingClient)

        async def run() -> Startup:
            session = boot(load_config(use_user_file=False), Launch("demo", now_ms=NOW_MS, speed=0.0, record=False))
            try:
                await first_pass(session.scheduler)
                failed = {f.name: str(f.health.error) for f in session.scheduler.feeds.values() if f.health.error}
                return Startup(list(CountingClient.sent), session.runtime.http.log.total, failed)
            finally:
                await session.aclose()

        yield asyncio.run(run())


def hl_weight(sent: Sent) -> float:
    kind = (sent.body or {}).get("type")
    if kind in HL_LIGHT:
        return 2.0
    if kind in HL_PER_20_ITEMS:
        return 20.0 + math.ceil((sent.items or 0) / 20)
    return 20.0


def usage(sent: list[Sent]) -> dict[str, float]:
    """Units spent per published-limit key (and per budget key)."""
    out: dict[str, float] = defaultdict(float)
    for s in sent:
        key = budget_host(s.host, s.provider, s.path, DEFAULT_BUDGETS)
        if key in BINANCE_HOSTS:
            assert s.charged is not None, f"{s.path}: the emulator charged no weight"
            out[key] += s.charged
        elif key == "api.hyperliquid.xyz":
            out[key] += hl_weight(s)
        else:
            out[key] += 1
        if s.group is not None:
            out[f"{key}#{s.group}"] += 1
        if f"{key}{s.path}" in PUBLISHED_LIMITS:
            out[f"{key}{s.path}"] += 1
    return dict(out)


def test_every_feed_delivered_without_a_retry(startup: Startup) -> None:
    assert startup.failed == {}
    assert startup.attempts == len(startup.sent)  # nothing retried, nothing uncounted


def test_budgets_stay_below_the_published_limits() -> None:
    for key, published in PUBLISHED_LIMITS.items():
        if key not in DEFAULT_BUDGETS:
            continue  # an OKX endpoint: the host's budget holds it
        limit, window = DEFAULT_BUDGETS[key]
        assert window == published.window_s, key
        assert limit < published.limit, key


def test_every_provider_host_has_a_budget_of_its_own(startup: Startup) -> None:
    hosts = {budget_host(s.host, s.provider, s.path, DEFAULT_BUDGETS) for s in startup.sent}
    assert hosts - set(DEFAULT_BUDGETS) == set()
    assert DEFAULT_BUDGET not in [DEFAULT_BUDGETS[h] for h in hosts]  # not the fallback for unknown hosts


def test_the_client_budgets_what_binance_charges(startup: Startup) -> None:
    binance = [s for s in startup.sent if s.host in BINANCE_HOSTS]
    assert binance
    for s in binance:
        assert s.charged is not None and s.weight >= s.charged, (s.path, s.weight, s.charged)


def test_startup_fits_in_one_window_of_every_published_limit(startup: Startup) -> None:
    spent = usage(startup.sent)
    rows = []
    for key, value in sorted(spent.items()):
        published = PUBLISHED_LIMITS.get(key)
        requests = sum(1 for s in startup.sent if budget_host(s.host, s.provider, s.path, DEFAULT_BUDGETS) == key)
        share = f"{published.limit:g} {published.unit} / {published.window_s:g} s" if published else ""
        limit = f"{share} ({value / published.limit:.1%})" if published else "no published limit"
        budget = DEFAULT_BUDGETS.get(key)
        rows.append(f"{key:<44} {requests or '':>5} {value:>7g}  {limit}"
                    + (f"  budget {budget[0]:g}/{budget[1]:g} s" if budget else ""))  # fmt: skip
        if published is not None:
            assert value <= published.limit, f"{key}: start-up spends {value:g} of {published.limit:g}"
    print("\nstart-up, per budget: requests, units spent, published limit (share), client budget")
    print("\n".join(rows))
    # The market CVD's pairs are all there: one daily page per pair, plus the basket's.
    klines = [s for s in startup.sent if s.path == "/api/v3/klines"]
    assert len(klines) >= 198
