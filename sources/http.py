"""The one HTTP client every source shares: timeouts, connection limits, per-host request budgets and retries.

Live, demo and replay differ only in the ``transport`` given here: live uses the network, demo and replay an
in-process emulator that answers the same URLs (see :mod:`emulator`).

Retry policy, per call: transient failures (timeouts, connection errors, HTTP 5xx) are retried a few times with
exponential back-off and full jitter. Rate limits (429, Binance's 418 auto-ban) are *not* retried here: they raise
:class:`RateLimited` carrying the server's ``Retry-After`` so the scheduler can stand the whole feed down for that
long. 451 (geo-block) and 403 (bot wall) raise :class:`SourceUnavailable`, which is not worth retrying soon.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from sources.errors import RateLimited, SourceError, SourceUnavailable

# A desktop browser's User-Agent: Farside and Yahoo refuse default library agents.
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@dataclass
class HostBudget:
    """A sliding-window request budget for one host, kept below the provider's published limit.

    ``limit`` is in the provider's own unit (Binance request weight, Hyperliquid weight, or plain requests) per
    ``window_s`` seconds. Calls that would exceed it wait for the window to free up instead of earning a 429.
    """

    limit: float
    window_s: float = 60.0
    spent: deque[tuple[float, float]] = field(default_factory=deque)
    server_used: float = 0.0  # the server's own count (X-MBX-USED-WEIGHT-1M) when it reports one
    server_seen_at: float = 0.0

    def used(self, now: float) -> float:
        while self.spent and self.spent[0][0] <= now - self.window_s:
            self.spent.popleft()
        own = sum(w for _, w in self.spent)
        if now - self.server_seen_at < self.window_s:
            return max(own, self.server_used)
        return own

    def wait_for(self, weight: float, now: float) -> float:
        """Seconds to wait before ``weight`` more fits in the window (0 when it fits now)."""
        if self.used(now) + weight <= self.limit:
            return 0.0
        if not self.spent:
            return max(0.0, self.server_seen_at + self.window_s - now)
        # Wait until enough of the oldest spending leaves the window.
        excess = self.used(now) + weight - self.limit
        freed = 0.0
        for at, w in self.spent:
            freed += w
            if freed >= excess:
                return max(0.0, at + self.window_s - now)
        return max(0.0, self.spent[-1][0] + self.window_s - now)


# Published limits, with head-room. Keys are host names; unknown hosts get DEFAULT_BUDGET.
DEFAULT_BUDGETS: dict[str, tuple[float, float]] = {
    "api.binance.com": (4800, 60),  # 6000 weight/min published
    "data-api.binance.vision": (4800, 60),
    "fapi.binance.com": (1800, 60),  # 2400 weight/min in exchangeInfo
    # Endpoint groups with their own IP limits (charged per request, beside the host's weight):
    "fapi.binance.com#funding": (400, 300),  # fundingRate + fundingInfo share 500 requests / 5 min / IP
    "fapi.binance.com#data": (800, 300),  # /futures/data/* statistics: 1000 requests / 5 min / IP, weight 0
    "api.bybit.com": (400, 5),  # 600 requests / 5 s / IP
    "www.okx.com": (15, 2),  # ~20 requests / 2 s per public endpoint
    "api.hyperliquid.xyz": (900, 60),  # 1200 weight/min
    "api.coingecko.com": (8, 60),  # keyless tier is 5-30/min and moves with traffic
    "api.alternative.me": (30, 60),
    "query2.finance.yahoo.com": (20, 60),
    "stooq.com": (10, 60),
    "fred.stlouisfed.org": (20, 60),
    "farside.co.uk": (4, 60),
    "stablecoins.llama.fi": (10, 60),  # fair use, no published limit (~300/min reported); the chart is hourly
}
DEFAULT_BUDGETS.update({
    # OKX's regional sites (EEA, US) keep the global limits.
    "eea.okx.com": DEFAULT_BUDGETS["www.okx.com"], "us.okx.com": DEFAULT_BUDGETS["www.okx.com"],
})  # fmt: skip
DEFAULT_BUDGET = (60.0, 60.0)


def alias_budgets(budgets: dict[str, tuple[float, float]], aliases: Mapping[str, str]) -> None:
    """Give each alias host (a mirror, the emulator's loopback address) the budgets of the real host it stands for,
    its endpoint groups (``host#group``) included, in place. Without the groups an alias's group would get the
    default budget (60 a minute), and the 63 ``/futures/data`` requests of a start-up would wait a minute for the
    last three."""
    for alias, host in aliases.items():
        budgets[alias] = budgets[host]
        for key in [k for k in budgets if k.startswith(host + "#")]:
            budgets[alias + key[len(host) :]] = budgets[key]


@dataclass(frozen=True)
class PublishedLimit:
    """A provider's published request limit per IP: ``limit`` units (Binance or Hyperliquid weight, else requests)
    per ``window_s`` seconds, and where it is published. The budgets above stay below these."""

    limit: float
    window_s: float
    unit: str  # "weight" | "requests"
    source: str


#: The published limits behind :data:`DEFAULT_BUDGETS`, keyed like it (a host, ``host#group`` for an endpoint group
#: with a limit of its own, ``host/path`` for a per-endpoint limit). A provider that publishes no figure has none
#: here: its budget is our own guess of a polite rate. ``tests/test_startup_budget.py`` checks every budget against
#: these and counts what a console's start-up spends of each.
PUBLISHED_LIMITS: dict[str, PublishedLimit] = {
    "data-api.binance.vision": PublishedLimit(6000, 60, "weight", "Binance spot REST 'Limits': REQUEST_WEIGHT 6000 "
                                              "per minute per IP (exchangeInfo rateLimits; the market-data mirror "
                                              "shares the weights)"),
    "api.binance.com": PublishedLimit(6000, 60, "weight", "Binance spot REST 'Limits': REQUEST_WEIGHT 6000/min/IP"),
    "fapi.binance.com": PublishedLimit(2400, 60, "weight", "Binance USD-M 'General info': REQUEST_WEIGHT 2400/min/IP "
                                       "(exchangeInfo rateLimits)"),
    "fapi.binance.com#funding": PublishedLimit(500, 300, "requests", "Binance USD-M fundingRate/fundingInfo: 500 "
                                               "requests / 5 min / IP, shared"),
    "fapi.binance.com#data": PublishedLimit(1000, 300, "requests", "Binance USD-M /futures/data/*: IP rate limit 1000 "
                                            "requests / 5 min, weight 0"),
    "api.bybit.com": PublishedLimit(600, 5, "requests", "Bybit V5 'Rate Limit Rules': 600 requests within a 5-second "
                                    "window per IP (403 'access too frequent', 10 min ban)"),
    # OKX limits each endpoint on its own; 20 / 2 s is the highest of the public ones altpulse calls, so the host is
    # held to it as a whole (stricter) and the endpoints with a lower figure are listed beside it.
    "www.okx.com": PublishedLimit(20, 2, "requests", "OKX v5 public data endpoints: at most 20 requests / 2 s each "
                                  "(per IP; docs-v5 copies 2026-06/07, docs/providers.md)"),
    "www.okx.com/api/v5/public/funding-rate": PublishedLimit(10, 2, "requests", "OKX v5 Get funding rate: 10 / 2 s "
                                                             "(IP + instrument ID)"),
    "www.okx.com/api/v5/public/open-interest": PublishedLimit(20, 2, "requests", "OKX v5 Get open interest: 20 / 2 s "
                                                              "(IP + instrument ID)"),
    "www.okx.com/api/v5/public/instruments": PublishedLimit(20, 2, "requests", "OKX v5 Get instruments: 20 / 2 s "
                                                            "(IP + instType)"),
    "api.hyperliquid.xyz": PublishedLimit(1200, 60, "weight", "Hyperliquid 'Rate limits and user limits': REST "
                                          "aggregated weight 1200/min per IP; info requests weigh 20 (2 for l2Book, "
                                          "allMids, ...), fundingHistory +1 per 20 items"),
    # alternative.me, CoinGecko without a key ("IP-based rate limiting", no figure), Farside, Yahoo, Stooq, FRED's
    # graph CSV and DefiLlama publish no limit: their budgets are our own polite rates (one or two calls at start).
}  # fmt: skip
#: The host whose budget a provider's requests get when they go to a local address (an emulator on 127.0.0.1
#: stands in for the real host and is budgeted like it): provider -> (path prefix, host), first match wins.
PROVIDER_HOSTS: dict[str, tuple[tuple[str, str], ...]] = {
    "binance": (("/fapi/", "fapi.binance.com"), ("/futures/", "fapi.binance.com"), ("", "data-api.binance.vision")),
    "bybit": (("", "api.bybit.com"),),
    "okx": (("", "www.okx.com"),),
    "hyperliquid": (("", "api.hyperliquid.xyz"),),
    "coingecko": (("", "api.coingecko.com"),),
    "alternative.me": (("", "api.alternative.me"),),
    "yahoo": (("", "query2.finance.yahoo.com"),),
    "stooq": (("", "stooq.com"),),
    "fred": (("", "fred.stlouisfed.org"),),
    "farside": (("", "farside.co.uk"),),
    "defillama": (("", "stablecoins.llama.fi"),),
}


def _is_local(host: str) -> bool:
    return host == "localhost" or host.startswith("127.") or host == "::1"


def budget_host(host: str, provider: str, path: str, known: dict[str, tuple[float, float]]) -> str:
    """The budget a request spends from: its host's, or, for a local emulator address with no budget of its own,
    the real host's the provider would use for that path."""
    if host in known or not _is_local(host):
        return host
    for prefix, real in PROVIDER_HOSTS.get(provider, ()):
        if path.startswith(prefix):
            return real
    return host


@dataclass
class RequestLog:
    """Counts requests per host; the tests and the status bar read it."""

    by_host: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def add(self, host: str) -> None:
        self.by_host[host] = self.by_host.get(host, 0) + 1
        self.total += 1


#: How long to stand down after a rate limit that names no ``Retry-After``, per provider: OKX and Bybit count in
#: 2 s and 5 s windows; a Binance 418 is an IP ban of 2 minutes to 3 days that repeating only lengthens.
DEFAULT_RETRY_AFTER = {"okx": 2.0, "bybit": 5.0}
BAN_MIN_WAIT_S = 300.0
#: Bybit answers a breached IP limit with 403 "access too frequent" and lifts the ban after at least 10 minutes.
BYBIT_BAN_WAIT_S = 600.0
_BANNED_UNTIL = re.compile(r"banned until (\d{12,14})")


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    """``Retry-After`` in seconds (Binance and most APIs send seconds; an HTTP date falls back to ``default``)."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        return default


def ban_seconds(response: httpx.Response, now_s: float) -> float | None:
    """Seconds until a Binance IP ban ends, from ``{"code":-1003,"msg":"... IP banned until 1700000000000."}``."""
    match = _BANNED_UNTIL.search(response.text[:400]) if response.content else None
    return None if match is None else max(0.0, int(match.group(1)) / 1000 - now_s)


class HttpClient:
    """Shared async HTTP access for all sources."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff_base: float = 0.5,
        budgets: dict[str, tuple[float, float]] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            headers={"Accept-Encoding": "gzip, deflate"},
            follow_redirects=True,
        )
        self.retries = retries
        self.backoff_base = backoff_base
        self._budget_spec = dict(DEFAULT_BUDGETS)
        if budgets:
            self._budget_spec.update(budgets)
        self._budgets: dict[str, HostBudget] = {}
        self._sleep = sleep
        self._clock = clock
        self.log = RequestLog()

    async def aclose(self) -> None:
        await self._client.aclose()

    def budget(self, host: str) -> HostBudget:
        if host not in self._budgets:
            limit, window = self._budget_spec.get(host, DEFAULT_BUDGET)
            self._budgets[host] = HostBudget(limit=limit, window_s=window)
        return self._budgets[host]

    async def _spend(self, host: str, weight: float) -> None:
        budget = self.budget(host)
        while (wait := budget.wait_for(weight, self._clock())) > 0:
            await self._sleep(min(wait, 5.0))
        budget.spent.append((self._clock(), weight))

    async def request(
        self,
        provider: str,
        endpoint: str,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        weight: float = 1.0,
        group: str | None = None,
    ) -> httpx.Response:
        """Send one request with budget, retries and error mapping; returns a 2xx response.

        ``group`` names an endpoint family with a request limit of its own (``"funding"`` on fapi): each attempt
        also spends one request of ``host#group``'s budget."""
        parsed = httpx.URL(url)
        host = parsed.host
        pool = budget_host(host, provider, parsed.path, self._budget_spec)
        attempt = 0
        while True:
            if group is not None:
                await self._spend(f"{pool}#{group}", 1.0)
            await self._spend(pool, weight)
            self.log.add(host)
            try:
                response = await self._client.request(method, url, params=params, json=json_body, headers=headers)
            except httpx.TimeoutException:
                error: SourceError = SourceError(provider, endpoint, "timed out")
            except httpx.TransportError as exc:
                error = SourceError(provider, endpoint, f"connection failed ({type(exc).__name__})")
            else:
                self._note_server_weight(pool, response)
                status = response.status_code
                if 200 <= status < 300:
                    return response
                if status in (429, 418):
                    wait = retry_after_seconds(response, DEFAULT_RETRY_AFTER.get(provider, 60.0))
                    if status == 418 and "Retry-After" not in response.headers:
                        # No header (Binance futures documents none): the ban's end from the body, at least 5 min.
                        wait = max(ban_seconds(response, time.time()) or 0.0, BAN_MIN_WAIT_S)
                    raise RateLimited(
                        provider,
                        endpoint,
                        "rate limited" if status == 429 else "IP banned for ignoring rate limits",
                        retry_after=wait,
                        status=status,
                    )
                if status == 451:
                    raise SourceUnavailable(provider, endpoint, "not available from this location", status=status)
                if status == 403 and provider == "bybit":
                    # Bybit's 403 is its IP rate-limit ban (or a US address): stand down, then try again.
                    raise RateLimited(provider, endpoint, "access too frequent (IP rate-limit ban) or region",
                                      retry_after=BYBIT_BAN_WAIT_S, status=status)  # fmt: skip
                if status == 403:
                    raise SourceUnavailable(provider, endpoint, "access refused (blocked)", status=status)
                error = SourceError(provider, endpoint, _short_reason(response), status=status)
                if status < 500:
                    raise error
            if attempt >= self.retries:
                raise error
            attempt += 1
            # Full jitter keeps many clients from retrying in lock-step.
            await self._sleep(random.uniform(0, self.backoff_base * 2**attempt))

    def _note_server_weight(self, host: str, response: httpx.Response) -> None:
        used = response.headers.get("X-MBX-USED-WEIGHT-1M")
        if used is not None and used.isdigit():
            budget = self.budget(host)
            budget.server_used = float(used)
            budget.server_seen_at = self._clock()

    async def get_json(self, provider: str, endpoint: str, url: str, **kwargs: Any) -> Any:
        response = await self.request(provider, endpoint, "GET", url, **kwargs)
        return decode_json(response, provider, endpoint)

    async def post_json(self, provider: str, endpoint: str, url: str, body: Any, **kwargs: Any) -> Any:
        response = await self.request(provider, endpoint, "POST", url, json_body=body, **kwargs)
        return decode_json(response, provider, endpoint)

    async def get_text(self, provider: str, endpoint: str, url: str, **kwargs: Any) -> str:
        response = await self.request(provider, endpoint, "GET", url, **kwargs)
        try:
            return response.text
        except UnicodeDecodeError as exc:
            raise SourceError(provider, endpoint, f"undecodable body ({exc.reason})") from None


def decode_json(response: httpx.Response, provider: str, endpoint: str) -> Any:
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(provider, endpoint, f"malformed JSON ({exc})") from None


def _short_reason(response: httpx.Response) -> str:
    """A one-line reason from an error body (providers put it in ``msg``/``retMsg``/``message``)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return response.reason_phrase or "request failed"
    if isinstance(body, dict):
        code = body.get("code", body.get("retCode"))
        for key in ("msg", "retMsg", "message", "error"):
            if isinstance(body.get(key), str):
                # Keep the provider's own code: OKX sends 50015 with HTTP 400, Binance -1121 with 400.
                prefix = f"code {code}: " if code not in (None, "", 0, "0") else ""
                return (prefix + body[key])[:120]
    return response.reason_phrase or "request failed"
