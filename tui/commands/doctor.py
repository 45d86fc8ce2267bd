"""``altpulse doctor``: check every provider once, from the trader's own machine, and say what drifted.

Why: altpulse's tests meet an emulator; the real providers move (Binance re-routed its futures streams in April
2026, OKX retires endpoints, Stooq started asking for a key). A trader runs ``doctor`` where the console runs:
each REST endpoint the console uses is called once, within its rate limit (one request each, per-coin ones for
BTC only), through the same parsers the console uses, so every field it reads is checked; each liquidation
websocket is connected and subscribed for a bounded time and must deliver at least one message.

Each check reports a status:

- ``ok``: answered and parsed; ``quiet``: a websocket acknowledged the subscription but sent no liquidation in
  the time given (a calm market can do that; a retired path sends nothing at all);
- ``drift``: answered, but not in the format the console reads (a field missing or renamed, not a number, an
  empty list where data belongs, a page that is not the table, frozen values): the provider changed;
- ``blocked``: HTTP 451 (geo-blocked) or 403 (blocked here); ``limited``: rate limited (429/418, or the venue's
  ban), with the wait; ``down``: timed out, refused, reset or a 5xx; ``skipped``: not configured (Stooq without a
  key).

Exit status 0 when every check is ``ok``, ``quiet`` or ``skipped``; 1 when anything else happened; 2 for bad
arguments. ``--json`` prints the document below (schema ``altpulse.doctor/1``; new keys may be added)::

    schema        "altpulse.doctor/1"
    checked_at    ISO-8601 UTC
    ok            true when the exit status is 0
    checks        list of {provider, endpoint, kind ("rest" | "ws"), url, status (ok | quiet | drift | blocked |
                  limited | down | skipped), http_status (int or null), latency_ms (int or null), detail (what is
                  wrong, or what was seen)}

No Textual import: it runs on a headless jump host and in cron.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

SCHEMA = "altpulse.doctor/1"
OK_STATES = frozenset({"ok", "quiet", "skipped"})
DAY_MS = 86_400_000


@dataclass
class Check:
    """One endpoint's verdict (see the module docstring for the statuses)."""

    provider: str
    endpoint: str
    kind: str
    url: str
    status: str = "ok"
    http_status: int | None = None
    latency_ms: int | None = None
    detail: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", default=False, help="print the documented JSON document")
    parser.add_argument("--ws-seconds", type=float, default=20.0, metavar="S",
                        help="how long each websocket may take to deliver a message (default 20)")  # fmt: skip


def _verdict(check: Check, exc: BaseException) -> None:
    """Fill a failed check's status from the exception the shared client or a parser raised."""
    from sources.errors import RateLimited, SourceError, SourceUnavailable

    text = str(exc)
    if isinstance(exc, SourceError):
        check.http_status = exc.status
    if isinstance(exc, RateLimited):
        check.status, check.detail = "limited", f"{text} (retry after {exc.retry_after:.0f} s)"
    elif isinstance(exc, SourceUnavailable):
        where = {451: "geo-blocked here", 403: "blocked here"}.get(exc.status or 0, "unavailable")
        check.status, check.detail = "blocked", f"{where}: {text}"
    elif isinstance(exc, SourceError) and (
        "timed out" in text or "connection failed" in text or (exc.status or 0) >= 500
    ):
        check.status, check.detail = "down", text
    elif isinstance(exc, SourceError):
        check.status, check.detail = "drift", text
    elif isinstance(exc, TimeoutError):
        check.status, check.detail = "down", "timed out"
    elif isinstance(exc, OSError):
        check.status, check.detail = "down", f"connection failed ({exc.strerror or type(exc).__name__})"
    else:
        check.status, check.detail = "drift", f"{type(exc).__name__}: {text}"[:200]


async def _timed(check: Check, call: Callable[[], Awaitable[str]]) -> Check:
    started = time.monotonic()
    try:
        check.detail = await call()
    except Exception as exc:  # every failure becomes a verdict, never a traceback
        _verdict(check, exc)
    check.latency_ms = int((time.monotonic() - started) * 1000)
    return check


def _require(items: Any, what: str, provider: str, endpoint: str) -> int:
    """A bulk answer must hold data: an empty list where data belongs is drift, not an empty market."""
    from sources.errors import SourceError

    count = len(items)
    if not count:
        raise SourceError(provider, endpoint, f"empty response: no {what}")
    return count


def rest_checks(
    config: Any, http: Any, now_ms: int, frozen_gap_s: float = 2.0
) -> list[tuple[Check, Callable[[], Awaitable[str]] | None]]:
    """(check, call) for every REST endpoint the console uses (the BTC ticker twice, ``frozen_gap_s`` apart)."""
    from sources.alternative_me import AlternativeMe
    from sources.binance_futures import LONG_SHORT_ENDPOINTS, BinanceFutures
    from sources.binance_spot import BinanceSpot
    from sources.bybit import Bybit
    from sources.coingecko import CoinGecko
    from sources.defillama import DefiLlama
    from sources.farside import FarsideEtf
    from sources.fred import Fred
    from sources.hyperliquid import Hyperliquid
    from sources.okx import Okx
    from sources.stooq import Stooq
    from sources.ws import OkxLiquidationPoller
    from sources.yahoo import YahooChart

    src = config.sources
    spot, fut = BinanceSpot(http, src.binance_spot), BinanceFutures(http, src.binance_futures)
    bybit, okx, hl = Bybit(http, src.bybit), Okx(http, src.okx), Hyperliquid(http, src.hyperliquid)
    gecko, yahoo = CoinGecko(http, src.coingecko), YahooChart(http, src.yahoo)
    poller = OkxLiquidationPoller(http, ["BTC"], base_url=src.okx)

    def check(provider: str, endpoint: str, base: str) -> Check:
        return Check(provider, endpoint, "rest", base.rstrip("/") + endpoint.split(" ")[0])

    async def ticker() -> str:
        first = (await spot.ticker_24hr(["BTCUSDT"]))["BTCUSDT"]
        await asyncio.sleep(frozen_gap_s)
        second = (await spot.ticker_24hr(["BTCUSDT"]))["BTCUSDT"]
        if (first.last, first.quote_volume) == (second.last, second.quote_volume):
            from sources.errors import SourceError

            raise SourceError("binance", "/api/v3/ticker/24hr",
                              f"frozen: price and volume identical {frozen_gap_s:g} s apart")  # fmt: skip
        return f"BTCUSDT {second.last:,.2f}"

    async def klines() -> str:
        frame = await spot.klines("BTCUSDT", "1h", limit=3, now_ms=now_ms)
        return f"{_require(frame, 'klines', 'binance', '/api/v3/klines')} bars, taker split present"

    async def spot_pairs() -> str:
        from analytics.market_cvd import select_pairs

        listing = await spot.exchange_info()
        counted = select_pairs(listing.symbols, config.general.quote, exclude=config.cvd.market_exclude,
                               patterns=config.cvd.market_exclude_patterns)  # fmt: skip
        _require(counted.symbols, f"trading {config.general.quote} altcoin pair", "binance", "/api/v3/exchangeInfo")
        return f"{len(listing.symbols)} spot pairs, {len(counted.symbols)} counted in the market CVD"

    async def perp_klines() -> str:
        frame = await fut.klines("BTCUSDT", "1d", now_ms=now_ms, limit=3)
        return f"{_require(frame, 'klines', 'binance', '/fapi/v1/klines')} bars, taker split present"

    async def perps() -> str:
        return f"{_require(await fut.perpetuals(), 'perpetuals', 'binance', '/fapi/v1/exchangeInfo')} perpetuals"

    async def premium() -> str:
        return f"{_require(await fut.funding_quotes(), 'perpetuals', 'binance', '/fapi/v1/premiumIndex')} rates"

    async def funding_hist() -> str:
        frame = await fut.funding_history("BTCUSDT", now_ms - 3 * DAY_MS, now_ms, max_pages=1)
        return f"{_require(frame, 'settlements', 'binance', '/fapi/v1/fundingRate')} settlements"

    async def oi() -> str:
        [record] = await fut.open_interest({"BTCUSDT": 1.0})
        return f"BTC {record.oi_base:,.0f} coins"

    async def oi_hist() -> str:
        frame = await fut.open_interest_hist("BTCUSDT", "1h", limit=3)
        return f"{_require(frame, 'samples', 'binance', '/futures/data/openInterestHist')} samples"

    async def long_short(kind: str) -> str:
        found = await fut.long_short_ratio("BTCUSDT", kind, "5m", limit=2)
        _require(found, "ratios", "binance", LONG_SHORT_ENDPOINTS[kind])
        return f"BTC {found[-1].ratio:.2f} ({found[-1].long_share * 100:.0f}% long) at {found[-1].time:%H:%M} UTC"

    async def ls_accounts() -> str:
        return await long_short("accounts")

    async def ls_top() -> str:
        return await long_short("top_positions")

    async def bybit_ratio() -> str:
        found = await bybit.account_ratio("BTCUSDT", "5min", limit=2)
        _require(found, "ratios", "bybit", "/v5/market/account-ratio")
        return f"BTC {found[-1].ratio:.2f} ({found[-1].long_share * 100:.0f}% long) at {found[-1].time:%H:%M} UTC"

    async def bybit_tickers() -> str:
        snap = await bybit.snapshot()
        return f"{_require(snap.funding, 'perpetuals', 'bybit', '/v5/market/tickers')} rates"

    async def bybit_instruments() -> str:
        listed = await bybit.perpetuals(max_pages=1)
        return f"{_require(listed, 'perpetuals', 'bybit', '/v5/market/instruments-info')} perpetuals"

    async def bybit_hist() -> str:
        frame = await bybit.funding_history("BTCUSDT", now_ms - 3 * DAY_MS, now_ms, max_pages=1)
        return f"{_require(frame, 'settlements', 'bybit', '/v5/market/funding/history')} settlements"

    async def okx_funding() -> str:
        return f"{_require(await okx.funding_quotes(), 'swaps', 'okx', '/api/v5/public/funding-rate')} rates"

    async def okx_oi() -> str:
        return f"{_require(await okx.open_interest(), 'swaps', 'okx', '/api/v5/public/open-interest')} swaps"

    async def okx_instruments() -> str:
        await poller.load_contract_values()
        table = poller.contracts.table
        _require(table, "swaps", "okx", "/api/v5/public/instruments")
        return f"{len(table)} contract sizes (BTC-USDT-SWAP {table.get('BTC-USDT-SWAP', '?')})"

    async def okx_hist() -> str:
        frame = await okx.funding_history("BTC-USDT-SWAP", now_ms - 3 * DAY_MS, now_ms, max_pages=1)
        return f"{_require(frame, 'settlements', 'okx', '/api/v5/public/funding-rate-history')} settlements"

    async def okx_liq() -> str:
        records = await poller.fetch("BTC")
        return f"{len(records)} recent BTC liquidations"

    async def hl_ctxs() -> str:
        snap = await hl.snapshot()
        return f"{_require(snap.funding, 'perps', 'hyperliquid', 'metaAndAssetCtxs')} rates"

    async def hl_hist() -> str:
        frame = await hl.funding_history("BTC", now_ms - DAY_MS, now_ms, max_pages=1)
        return f"{_require(frame, 'settlements', 'hyperliquid', 'fundingHistory')} settlements"

    async def farside(asset: str) -> str:
        flows = await FarsideEtf(http, src.farside).flows(asset)
        return f"{len(flows.funds)} funds, newest {flows.as_of}" + (" (partial)" if flows.partial_last else "")

    async def fng() -> str:
        data = await AlternativeMe(http, src.alternative_me).fear_greed(limit=2)
        return f"{data.latest_value:.0f} {data.latest_classification}"

    async def cg_global() -> str:
        g = await gecko.global_market()
        return f"BTC dominance {g.btc_dominance_pct:.1f}%"

    async def cg_markets() -> str:
        frame = await gecko.coin_markets(per_page=100)
        return f"{_require(frame, 'coins', 'coingecko', '/api/v3/coins/markets')} coins"

    async def stablecoins() -> str:
        from sources.errors import SourceError, SourceUnavailable

        try:
            supply = await DefiLlama(http, src.defillama).stablecoin_supply()
        except SourceUnavailable as exc:
            if exc.status != 404:
                raise
            # The console stands a missing chart down as "unavailable"; to doctor a route gone is drift.
            raise SourceError(exc.provider, exc.endpoint, exc.detail, status=404) from None
        return f"USD stablecoins ${supply['supply_usd'].iloc[-1] / 1e9:,.1f}B on {supply.index[-1]:%Y-%m-%d}"

    async def spy() -> str:
        bars = await yahoo.daily("SPY", "1mo")
        return f"{_require(bars.frame, 'sessions', 'yahoo', '/v8/finance/chart/SPY')} sessions"

    async def stooq() -> str:
        bars = await Stooq(http, src.stooq, src.stooq_apikey).daily("SPY")
        return f"{len(bars.frame)} sessions"

    async def fred() -> str:
        series = await Fred(http, src.fred).series("DGS2")
        return f"DGS2 {series.latest:.2f}% as of {series.as_of:%Y-%m-%d}"

    out: list[tuple[Check, Callable[[], Awaitable[str]] | None]] = [
        (check("binance", "/api/v3/ticker/24hr", src.binance_spot), ticker),
        (check("binance", "/api/v3/klines", src.binance_spot), klines),
        (check("binance", "/api/v3/exchangeInfo", src.binance_spot), spot_pairs),
        (check("binance", "/fapi/v1/exchangeInfo", src.binance_futures), perps),
        (check("binance", "/fapi/v1/premiumIndex + fundingInfo", src.binance_futures), premium),
        (check("binance", "/fapi/v1/fundingRate", src.binance_futures), funding_hist),
        (check("binance", "/fapi/v1/klines", src.binance_futures), perp_klines),
        (check("binance", "/fapi/v1/openInterest", src.binance_futures), oi),
        (check("binance", "/futures/data/openInterestHist", src.binance_futures), oi_hist),
        (check("binance", "/futures/data/globalLongShortAccountRatio", src.binance_futures), ls_accounts),
        (check("binance", "/futures/data/topLongShortPositionRatio", src.binance_futures), ls_top),
        (check("bybit", "/v5/market/tickers", src.bybit), bybit_tickers),
        (check("bybit", "/v5/market/instruments-info", src.bybit), bybit_instruments),
        (check("bybit", "/v5/market/funding/history", src.bybit), bybit_hist),
        (check("bybit", "/v5/market/account-ratio", src.bybit), bybit_ratio),
        (check("okx", "/api/v5/public/funding-rate", src.okx), okx_funding),
        (check("okx", "/api/v5/public/open-interest", src.okx), okx_oi),
        (check("okx", "/api/v5/public/instruments", src.okx), okx_instruments),
        (check("okx", "/api/v5/public/funding-rate-history", src.okx), okx_hist),
        (check("okx", "/api/v5/public/liquidation-orders", src.okx), okx_liq),
        (check("hyperliquid", "/info metaAndAssetCtxs", src.hyperliquid), hl_ctxs),
        (check("hyperliquid", "/info fundingHistory", src.hyperliquid), hl_hist),
        (check("farside", "/bitcoin-etf-flow-all-data/", src.farside), lambda: farside("btc")),
        (check("farside", "/ethereum-etf-flow-all-data/", src.farside), lambda: farside("eth")),
        (check("alternative.me", "/fng/", src.alternative_me), fng),
        (check("coingecko", "/api/v3/global", src.coingecko), cg_global),
        (check("coingecko", "/api/v3/coins/markets", src.coingecko), cg_markets),
        (check("defillama", "/stablecoincharts/all", src.defillama), stablecoins),
        (check("yahoo", "/v8/finance/chart/SPY", src.yahoo), spy),
        (check("fred", "/graph/fredgraph.csv", src.fred), fred),
    ]
    stooq_check = check("stooq", "/q/d/l/", src.stooq)
    if src.stooq_apikey:
        out.append((stooq_check, stooq))
    else:
        stooq_check.status, stooq_check.detail = "skipped", "no [sources] stooq_apikey (Stooq needs a key since 2026)"
        out.append((stooq_check, None))
    return out


async def ws_check(check: Check, open_conn: Any, frames: list[str], handle: Callable[[str], str | None],
                   seconds: float) -> Check:  # fmt: skip
    """Connect, subscribe, and wait up to ``seconds`` for a message; a liquidation (``handle`` returns what it
    was; None for a control frame, it raises on garbage) makes it ``ok``."""
    started = time.monotonic()
    controls = 0
    try:
        async with asyncio.timeout(seconds + 10):
            async with open_conn(check.url) as conn:
                check.latency_ms = int((time.monotonic() - started) * 1000)
                for frame in frames:
                    await conn.send(frame)
                deadline = time.monotonic() + seconds
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        raw = await asyncio.wait_for(conn.recv(), left)
                    except TimeoutError:
                        break
                    seen = handle(raw)
                    if seen:
                        check.detail = f"liquidation after {time.monotonic() - started:.1f} s ({seen})"
                        return check
                    controls += 1
        if controls:
            check.status = "quiet"
            check.detail = f"subscribed ({controls} control messages), no liquidation in {seconds:g} s"
        else:
            check.status = "drift"
            check.detail = f"connected, but no message in {seconds:g} s"
    except Exception as exc:
        _verdict(check, exc)
        if check.status == "drift" and "closed" in check.detail.lower():
            check.status = "down"
    return check


def ws_checks(config: Any, seconds: float, opener: Any = None) -> list[Awaitable[Check]]:
    from sources.binance_routes import binance_ws_problem
    from sources.symbols import venue_symbol
    from sources.ws import BinanceVenue, BybitVenue, OkxContracts, OkxVenue, websockets_opener

    src = config.sources
    opener = opener or websockets_opener(open_timeout=10)
    coins = ["BTC", *[c for c in config.general.coins if c != "BTC"]]
    binance = BinanceVenue(src.binance_ws)
    bybit = BybitVenue([venue_symbol("bybit", c)[0] for c in coins], src.bybit_ws)
    okx = OkxVenue(OkxContracts(), src.okx_ws)  # no sizes needed: a held OKX entry proves delivery as well

    def coins_of(venue: Any) -> Callable[[str], str | None]:
        def handle(raw: str) -> str | None:
            held = getattr(getattr(venue, "contracts", None), "held_details", 0)
            records = venue.handle(raw) or []
            if records:
                return records[0].coin
            if getattr(getattr(venue, "contracts", None), "held_details", 0) > held:
                return "an OKX swap, sized once the contract table loads"
            return None

        return handle

    checks: list[Awaitable[Check]] = []
    for venue, frames in ((binance, []), (bybit, bybit.subscribe_frames()), (okx, okx.subscribe_frames())):
        handle = coins_of(venue)
        check = Check(venue.name, "websocket liquidations", "ws", venue.url)
        problem = binance_ws_problem(venue.url) if venue.name == "binance" else None
        if problem:
            check.status, check.detail = "drift", problem
            checks.append(_done(check))
            continue
        checks.append(ws_check(check, opener, frames, handle, seconds))
    return checks


async def _done(check: Check) -> Check:
    return check


async def run_checks(config: Any, *, ws_seconds: float, http: Any = None, opener: Any = None,
                     now_ms: int | None = None, frozen_gap_s: float = 2.0) -> list[Check]:  # fmt: skip
    """Every check, providers concurrently, each provider's endpoints one after another (within its limits)."""
    from sources.http import HttpClient

    own = http is None
    http = http or HttpClient(timeout=config.sources.timeout_seconds, retries=0)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    try:
        by_provider: dict[str, list[tuple[Check, Any]]] = {}
        for check, call in rest_checks(config, http, now_ms, frozen_gap_s):
            by_provider.setdefault(check.provider, []).append((check, call))

        async def provider(items: list[tuple[Check, Any]]) -> list[Check]:
            return [c if call is None else await _timed(c, call) for c, call in items]

        rest = await asyncio.gather(*(provider(items) for items in by_provider.values()))
        ws = await asyncio.gather(*ws_checks(config, ws_seconds, opener))
        return [c for group in rest for c in group] + list(ws)
    finally:
        if own:
            await http.aclose()


def document(checks: list[Check]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "checked_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ok": all(c.status in OK_STATES for c in checks),
        "checks": [asdict(c) for c in checks],
    }


def render_table(checks: list[Check]) -> str:
    """Provider, endpoint, status, latency, what is wrong (or what was seen), one line each."""
    from widgets.format import clean

    rows = [("provider", "endpoint", "status", "latency", "detail")]
    for c in checks:
        latency = "-" if c.latency_ms is None else f"{c.latency_ms} ms"
        status = c.status + (f" {c.http_status}" if c.http_status and c.status != "ok" else "")
        rows.append((clean(c.provider, 16), clean(c.endpoint, 40), status, latency, clean(c.detail, 110)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
    bad = sum(c.status not in OK_STATES for c in checks)
    lines.append("")
    lines.append("all providers as expected" if not bad else f"{bad} of {len(checks)} checks need attention")
    return "\n".join(lines)


def run_doctor(config: Any, args: argparse.Namespace) -> int:
    if not 1 <= args.ws_seconds <= 600:
        print(f"altpulse: --ws-seconds: expected seconds in [1, 600], got {args.ws_seconds}", file=sys.stderr)
        return 2
    checks = asyncio.run(run_checks(config, ws_seconds=args.ws_seconds))
    doc = document(checks)
    print(json.dumps(doc, indent=2) if args.json else render_table(checks))
    return 0 if doc["ok"] else 1
