"""Every emulator fault kind, through every source's fetch methods: each becomes a SourceError (RateLimited,
SourceUnavailable) that names the provider, the endpoint and the field or HTTP status at fault; never another
exception type. Runs over HttpClient(transport=EmulatorTransport(emu)) with a frozen virtual clock."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

from emulator.clock import VirtualClock
from emulator.core import Emulator
from emulator.dataset import MarketDataset
from emulator.demo import build_demo_dataset
from emulator.faults import BODY_KINDS, KINDS, body_format, mangle
from emulator.transport import EmulatorTransport
from emulator.wire import EmuResponse, Fault
from sources.alternative_me import AlternativeMe
from sources.binance_futures import BinanceFutures
from sources.binance_spot import BinanceSpot
from sources.bybit import Bybit
from sources.coingecko import CoinGecko
from sources.defillama import DefiLlama
from sources.errors import RateLimited, SourceError, SourceUnavailable
from sources.farside import FarsideEtf
from sources.fred import Fred
from sources.http import HttpClient
from sources.hyperliquid import Hyperliquid
from sources.okx import Okx
from sources.stooq import Stooq
from sources.ws import OkxContracts, OkxLiquidationPoller
from sources.yahoo import YahooChart
from tests.conftest import FROZEN_NOW_MS

DAY_MS = 86_400_000
NOW = FROZEN_NOW_MS


@dataclass(frozen=True)
class Case:
    """One fetch method: ``call(http)`` runs it; ``fields`` are keys it cannot do without."""

    name: str
    provider: str
    call: Callable[[HttpClient], Awaitable[Any]]
    fields: tuple[str, ...]


CASES = [
    Case("binance_spot.ticker_24hr", "binance", lambda h: BinanceSpot(h).ticker_24hr(["BTCUSDT"]),
         ("lastPrice", "quoteVolume")),
    Case("binance_spot.klines", "binance",
         lambda h: BinanceSpot(h).klines("ETHUSDT", "1d", start_ms=NOW - 30 * DAY_MS, now_ms=NOW), ()),
    Case("binance_spot.exchange_info", "binance", lambda h: BinanceSpot(h).exchange_info(),
         ("symbols", "serverTime", "baseAsset", "quoteAsset", "status")),
    Case("binance_futures.snapshot", "binance", lambda h: BinanceFutures(h).snapshot(),
         ("lastFundingRate", "symbol")),
    Case("binance_futures.open_interest", "binance",
         lambda h: BinanceFutures(h).open_interest({"BTCUSDT": 90_000.0}), ("openInterest",)),
    Case("binance_futures.funding_history", "binance",
         lambda h: BinanceFutures(h).funding_history("BTCUSDT", NOW - 3 * DAY_MS, NOW), ("fundingRate",)),
    Case("binance_futures.open_interest_hist", "binance",
         lambda h: BinanceFutures(h).open_interest_hist("BTCUSDT", "1h", limit=26), ("sumOpenInterest",)),
    Case("binance_futures.long_short_ratio:accounts", "binance",
         lambda h: BinanceFutures(h).long_short_ratio("BTCUSDT", "accounts", limit=5),
         ("longShortRatio", "longAccount", "shortAccount", "timestamp")),
    Case("binance_futures.long_short_ratio:top_positions", "binance",
         lambda h: BinanceFutures(h).long_short_ratio("ETHUSDT", "top_positions", limit=5),
         ("longAccount", "shortAccount")),
    Case("bybit.snapshot", "bybit", lambda h: Bybit(h).snapshot(), ("fundingRate", "symbol")),
    Case("bybit.account_ratio", "bybit", lambda h: Bybit(h).account_ratio("BTCUSDT", limit=5),
         ("buyRatio", "sellRatio", "timestamp")),
    Case("bybit.funding_history", "bybit",
         lambda h: Bybit(h).funding_history("BTCUSDT", NOW - 3 * DAY_MS, NOW), ("fundingRate",)),
    Case("okx.snapshot", "okx", lambda h: Okx(h).snapshot(), ("fundingRate", "instId")),
    Case("okx.funding_history", "okx",
         lambda h: Okx(h).funding_history("BTC-USDT-SWAP", NOW - 3 * DAY_MS, NOW), ("fundingTime",)),
    Case("okx.liquidation_orders", "okx",
         lambda h: OkxLiquidationPoller(h, ["BTC"], contracts=OkxContracts({"BTC-USDT-SWAP": 0.01})).poll(),
         ("details",)),
    Case("hyperliquid.snapshot", "hyperliquid", lambda h: Hyperliquid(h).snapshot(), ("funding", "universe")),
    Case("hyperliquid.funding_history", "hyperliquid",
         lambda h: Hyperliquid(h).funding_history("BTC", NOW - 3 * DAY_MS, NOW), ("fundingRate",)),
    Case("coingecko.global_market", "coingecko", lambda h: CoinGecko(h).global_market(),
         ("market_cap_percentage",)),
    Case("coingecko.coin_markets", "coingecko", lambda h: CoinGecko(h).coin_markets(per_page=100),
         ("market_cap",)),
    Case("defillama.stablecoin_supply", "defillama", lambda h: DefiLlama(h).stablecoin_supply(),
         ("totalCirculatingUSD", "date")),
    Case("farside.btc_flows", "farside", lambda h: FarsideEtf(h).btc_flows(), ("Total",)),
    Case("farside.eth_flows", "farside", lambda h: FarsideEtf(h).eth_flows(), ()),
    Case("alternative_me.fear_greed", "alternative.me", lambda h: AlternativeMe(h).fear_greed(limit=30),
         ("value",)),
    Case("yahoo.daily", "yahoo", lambda h: YahooChart(h).daily("SPY"), ("close",)),
    Case("stooq.daily", "stooq", lambda h: Stooq(h, apikey="k").daily("SPY"), ("Close",)),
    Case("fred.series", "fred", lambda h: Fred(h).series("DGS2"), ("DGS2",)),
]  # fmt: skip
CASE_IDS = [c.name for c in CASES]


@pytest.fixture(scope="module")
def dataset() -> MarketDataset:
    return build_demo_dataset(NOW)


async def _no_sleep(_seconds: float) -> None:
    return None


async def run_case(dataset: MarketDataset, case: Case, fault: Fault | None, prefix: str = "") -> tuple[Any, Emulator]:
    emu = Emulator(dataset, VirtualClock(start_ms=NOW, speed=0))
    if fault is not None:
        emu.faults[prefix] = fault
    ticks = iter(range(10**9))
    http = HttpClient(EmulatorTransport(emu), timeout=0.2, retries=2, sleep=_no_sleep,
                      clock=lambda: float(next(ticks)))  # fmt: skip
    try:
        return await case.call(http), emu
    finally:
        await http.aclose()


STATUS_FAULTS = {
    "429": Fault("status", status=429, retry_after=7),
    "418": Fault("status", status=418),
    "451": Fault("status", status=451),
    "403": Fault("status", status=403),
    "503": Fault("status", status=503),
    "500": Fault("status", status=500),
}
NETWORK_FAULTS = {"timeout": Fault("timeout"), "slow": Fault("slow", delay_s=5.0), "reset": Fault("reset")}
BODY_FAULTS = {kind: Fault(kind) for kind in ("truncated", "malformed", "empty", "garbage_numbers", "nan_inf")}
ALL_FAULTS = {**STATUS_FAULTS, **NETWORK_FAULTS, **BODY_FAULTS}


def _is_empty(result: Any) -> bool:
    """A legitimately empty answer (no rows): never a fabricated figure."""
    if isinstance(result, pd.DataFrame | list | dict):
        return len(result) == 0
    for name in ("funding", "frame", "values"):
        inner = getattr(result, name, None)
        if inner is not None:
            return len(inner) == 0
    return False


def _assert_named(exc: SourceError, case: Case) -> None:
    assert exc.provider == case.provider
    assert exc.endpoint and exc.endpoint in str(exc)
    assert str(exc).startswith(f"{case.provider} {exc.endpoint}")


@pytest.mark.parametrize("kind", list(ALL_FAULTS))
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
async def test_every_fault_becomes_a_source_error(dataset: MarketDataset, case: Case, kind: str) -> None:
    fault = ALL_FAULTS[kind]
    try:
        result, _ = await run_case(dataset, case, fault)
    except SourceError as exc:
        _assert_named(exc, case)
        error: SourceError | None = exc
    else:
        error = None
        # Only an empty answer may pass as data: it is empty, so no figure can be shown from it.
        assert kind == "empty" and _is_empty(result), f"{case.name} accepted a {kind} body: {result!r:.200}"
        return
    if kind in ("429", "418"):
        assert isinstance(error, RateLimited) and error.status == int(kind)
        # Retry-After honoured; a 418 ban without one stands down at least 5 minutes (bans escalate when
        # retried within minutes).
        assert error.retry_after == (7.0 if kind == "429" else 300.0)
        assert f"HTTP {kind}" in str(error)
    elif kind == "403" and case.provider == "bybit":
        # Bybit's 403 is its IP rate-limit ban: wait the documented 10 minutes, then try again.
        assert isinstance(error, RateLimited) and error.retry_after == 600.0 and error.status == 403
    elif kind in ("451", "403"):
        assert isinstance(error, SourceUnavailable) and error.status == int(kind)
    elif kind in ("500", "503"):
        assert not isinstance(error, RateLimited) and error.status == int(kind) and f"HTTP {kind}" in str(error)
    elif kind in ("timeout", "slow"):
        assert "timed out" in str(error)
    elif kind == "reset":
        assert "connection failed" in str(error)
    else:
        assert not isinstance(error, RateLimited)


FIELD_CASES = [(case, name) for case in CASES for name in case.fields]


@pytest.mark.parametrize("kind", ["missing_field", "renamed_field"])
@pytest.mark.parametrize(("case", "name"), FIELD_CASES, ids=[f"{c.name}:{n}" for c, n in FIELD_CASES])
async def test_missing_or_renamed_field_is_named(dataset: MarketDataset, case: Case, name: str, kind: str) -> None:
    with pytest.raises(SourceError) as err:
        await run_case(dataset, case, Fault(kind, field=name))
    _assert_named(err.value, case)
    # JSON errors name the key; CSV errors name the header line (and quote it).
    assert name in str(err.value) or err.value.field == "header", str(err.value)


async def test_server_errors_are_retried_but_rate_limits_are_not(dataset: MarketDataset) -> None:
    case = CASES[0]  # one request per call
    for fault, expected in ((Fault("status", status=503), 3), (Fault("status", status=429, retry_after=5), 1),
                            (Fault("status", status=451), 1), (Fault("timeout"), 3)):  # fmt: skip
        emu = Emulator(dataset, VirtualClock(start_ms=NOW, speed=0))
        emu.faults["/api/v3/"] = fault
        http = HttpClient(EmulatorTransport(emu), retries=2, sleep=_no_sleep)
        with pytest.raises(SourceError):
            await case.call(http)
        await http.aclose()
        # A timeout never reaches the handler, so only answered requests are logged by the emulator.
        assert len(emu.requests) == (0 if fault.kind == "timeout" else expected)


async def test_fault_is_per_path_prefix_and_longest_prefix_wins(dataset: MarketDataset) -> None:
    emu = Emulator(dataset, VirtualClock(start_ms=NOW, speed=0))
    emu.faults["/fapi/"] = Fault("status", status=503)
    emu.faults["/fapi/v1/openInterest"] = Fault("malformed")
    http = HttpClient(EmulatorTransport(emu), retries=0, sleep=_no_sleep)
    try:
        assert (await BinanceSpot(http).ticker_24hr(["BTCUSDT"]))["BTCUSDT"].last > 0  # other prefixes unharmed
        with pytest.raises(SourceError, match="malformed JSON"):
            await BinanceFutures(http).open_interest({"BTCUSDT": 1.0})
        with pytest.raises(SourceError, match=r"HTTP 503"):
            await BinanceFutures(http).funding_quotes()
        emu.faults.clear()
        assert (await BinanceFutures(http).funding_quotes())  # recovers when cleared
    finally:
        await http.aclose()


# -- mangle itself ----------------------------------------------------------------------------------------------

JSON_BODY = EmuResponse.json({"code": "0", "data": [{"px": "12.5", "sz": 3, "ts": 1700000000000, "name": "A"}]})
CSV_BODY = EmuResponse.text("Date,Close\n2025-01-02,4.5\n2025-01-03,4.75\n", content_type="text/csv")
HTML_BODY = EmuResponse.text("<table><tr><th>IBIT</th></tr><tr><td><span>(1.5)</span></td></tr></table>",
                             content_type="text/html")  # fmt: skip


def test_body_format_sniffing() -> None:
    assert [body_format(r) for r in (JSON_BODY, CSV_BODY, HTML_BODY)] == ["json", "csv", "html"]
    assert body_format(EmuResponse(200, b"[1]", {})) == "json"


@pytest.mark.parametrize("response", [JSON_BODY, CSV_BODY, HTML_BODY], ids=["json", "csv", "html"])
@pytest.mark.parametrize("kind", BODY_KINDS)
def test_mangle_changes_every_format(response: EmuResponse, kind: str) -> None:
    field = {"json": "px", "csv": "Close", "html": "IBIT"}[body_format(response)]
    out = mangle(response, Fault(kind, field=field))
    assert out.status == response.status
    assert out.body != response.body, f"{kind} left a {body_format(response)} body unchanged"


def test_mangle_json_details() -> None:
    import json

    assert json.loads(mangle(JSON_BODY, Fault("empty")).body) == {"code": "0", "data": []}
    assert json.loads(mangle(EmuResponse.json({"a": 1}), Fault("empty")).body) == {}
    nan = mangle(JSON_BODY, Fault("nan_inf")).body
    assert b"NaN" in nan and b"1e999" in nan
    values = json.loads(nan)["data"][0]
    assert all(not math.isfinite(float(values[k])) for k in ("px", "sz", "ts"))
    garbage = json.loads(mangle(JSON_BODY, Fault("garbage_numbers", field="px")).body)["data"][0]
    assert garbage["sz"] == 3 and garbage["px"] not in ("12.5",) and isinstance(garbage["px"], str)
    assert "px" not in json.loads(mangle(JSON_BODY, Fault("missing_field", field="px")).body)["data"][0]
    renamed = json.loads(mangle(JSON_BODY, Fault("renamed_field", field="px", rename_to="price")).body)["data"][0]
    assert renamed["price"] == "12.5" and "px" not in renamed
    with pytest.raises(ValueError):
        json.loads(mangle(JSON_BODY, Fault("malformed")).body)
    with pytest.raises(ValueError):
        json.loads(mangle(JSON_BODY, Fault("truncated")).body)
    # Error answers are left alone (the fault is in the body of a good answer).
    error = EmuResponse.json({"msg": "x"}, status=400)
    assert mangle(error, Fault("malformed")) is error


def test_mangle_csv_details() -> None:
    assert mangle(CSV_BODY, Fault("empty")).body == b"Date,Close\n"
    assert mangle(CSV_BODY, Fault("missing_field", field="Close")).body.startswith(b"Date\n2025-01-02\n")
    assert mangle(CSV_BODY, Fault("renamed_field", field="Close")).body.startswith(b"Date,Close_v2\n")
    assert b"NaN" in mangle(CSV_BODY, Fault("nan_inf")).body
    assert b"<html" in mangle(CSV_BODY, Fault("malformed")).body


def test_every_kind_is_known() -> None:
    from emulator.faults import PRE_KINDS, STATE_KINDS

    assert set(KINDS) == set(PRE_KINDS) | set(BODY_KINDS) | set(STATE_KINDS)
