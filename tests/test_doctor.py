"""``altpulse doctor`` against the emulator: all green when it behaves like the providers, and each fault the
emulator can inject named in the verdict of the endpoint it hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.demo import demo_emulator
from emulator.transport import EmulatorTransport
from emulator.wire import Fault
from emulator.ws_streams import get_hub
from sources.http import HttpClient
from tests.conftest import FROZEN_NOW_MS
from tui.commands.doctor import OK_STATES, document, run_checks
from tui.runtime.config import load_config

SPEED = 60.0  # one wall second, one market minute: the streams deliver within a second or two


@pytest.fixture(scope="module")
def dataset():
    from emulator.demo import build_demo_dataset

    return build_demo_dataset(FROZEN_NOW_MS)


def emulator(dataset):
    from emulator.clock import VirtualClock
    from emulator.core import Emulator

    return Emulator(dataset, VirtualClock(start_ms=FROZEN_NOW_MS, speed=SPEED))


async def doctor(emu, config=None, ws_seconds: float = 4.0):
    config = config or load_config(use_user_file=False)
    http = HttpClient(EmulatorTransport(emu), timeout=1.0, retries=0)
    try:
        checks = await run_checks(config, ws_seconds=ws_seconds, http=http, opener=get_hub(emu).opener(),
                                  now_ms=emu.now_ms(), frozen_gap_s=0.3)  # fmt: skip
    finally:
        await http.aclose()
    return {(c.provider, c.endpoint): c for c in checks}


async def test_all_green_against_the_emulator(dataset) -> None:
    checks = await doctor(emulator(dataset))
    bad = {k: (c.status, c.detail) for k, c in checks.items() if c.status not in OK_STATES}
    assert not bad
    assert checks[("stooq", "/q/d/l/")].status == "skipped"  # no key configured
    stables = checks[("defillama", "/stablecoincharts/all")]
    assert stables.url == "https://stablecoins.llama.fi/stablecoincharts/all" and "USD stablecoins $" in stables.detail
    for venue in ("binance", "bybit", "okx"):
        assert checks[(venue, "websocket liquidations")].status == "ok"
    doc = document(list(checks.values()))
    assert doc["schema"] == "altpulse.doctor/1" and doc["ok"] is True
    assert {"provider", "endpoint", "kind", "url", "status", "http_status", "latency_ms", "detail"} <= set(
        doc["checks"][0]
    )


LONG_SHORT = (
    ("binance", "/futures/data/globalLongShortAccountRatio"),
    ("binance", "/futures/data/topLongShortPositionRatio"),
    ("bybit", "/v5/market/account-ratio"),
)


async def test_long_short_checks_read_btc_and_name_their_own_drift(dataset) -> None:
    checks = await doctor(emulator(dataset), ws_seconds=1.0)
    for key in LONG_SHORT:
        check = checks[key]
        assert check.status == "ok" and check.kind == "rest", (key, check.detail)
        # "BTC 1.08 (52% long) at 12:00 UTC": the latest ratio, read through the console's parser.
        assert check.detail.startswith("BTC ") and "% long) at " in check.detail and check.detail.endswith(" UTC")
    emu = emulator(dataset)
    emu.faults[LONG_SHORT[0][1]] = Fault("missing_field", field="longAccount")
    emu.faults[LONG_SHORT[2][1]] = Fault("empty")
    checks = await doctor(emu, ws_seconds=1.0)
    accounts, top, bybit = (checks[key] for key in LONG_SHORT)
    assert accounts.status == "drift" and "'longAccount': missing field" in accounts.detail
    assert bybit.status == "drift" and "empty response: no ratios" in bybit.detail, bybit.detail
    assert top.status == "ok"  # one fault, one named endpoint


PREMIUM = ("binance", "/fapi/v1/premiumIndex + fundingInfo")
FAULTS = [
    (Fault("status", status=429, retry_after=30), "limited", "HTTP 429"),
    (Fault("status", status=418), "limited", "IP banned"),
    (Fault("status", status=451), "blocked", "geo-blocked here"),
    (Fault("status", status=403), "blocked", "blocked here"),
    (Fault("status", status=503), "down", "HTTP 503"),
    (Fault("timeout"), "down", "timed out"),
    (Fault("slow", delay_s=5.0), "down", "timed out"),
    (Fault("reset"), "down", "connection failed"),
    (Fault("truncated"), "drift", "malformed JSON"),
    (Fault("malformed"), "drift", "malformed JSON"),
    (Fault("empty"), "drift", "empty response"),
    (Fault("garbage_numbers"), "drift", "field '"),
    (Fault("nan_inf"), "drift", "field '"),
    (Fault("missing_field", field="lastFundingRate"), "drift", "'lastFundingRate': missing field"),
    (Fault("renamed_field", field="markPrice"), "drift", "'markPrice': missing field"),
]


@pytest.mark.parametrize(("fault", "status", "named"), FAULTS, ids=lambda v: getattr(v, "kind", None) or str(v))
async def test_each_http_fault_is_named(dataset, fault: Fault, status: str, named: str) -> None:
    emu = emulator(dataset)
    emu.faults["/fapi/v1/premiumIndex"] = fault
    checks = await doctor(emu, ws_seconds=1.0)
    check = checks[PREMIUM]
    assert check.status == status and named in check.detail, (check.status, check.detail)
    # The rest of the providers are unaffected: one fault, one named endpoint.
    assert checks[("bybit", "/v5/market/tickers")].status == "ok"


async def test_a_missing_stablecoin_chart_is_drift(dataset) -> None:
    from emulator.clock import VirtualClock
    from emulator.core import Emulator

    bare = Emulator(type(dataset)(name="bare", simulated=False), VirtualClock(start_ms=FROZEN_NOW_MS, speed=0))
    check = (await doctor(bare, ws_seconds=0.5))[("defillama", "/stablecoincharts/all")]
    assert check.status == "drift" and check.http_status == 404 and "no stablecoin supply chart here" in check.detail


async def test_the_spot_listing_is_checked_through_the_market_cvds_rules(dataset) -> None:
    emu = emulator(dataset)
    check = (await doctor(emu, ws_seconds=1.0))[("binance", "/api/v3/exchangeInfo")]
    alts = {s for s in dataset.spot_klines if s.endswith("USDT") and s != "BTCUSDT"}
    assert check.status == "ok" and f", {len(alts)} counted in the market CVD" in check.detail, check.detail
    for fault, named in ((Fault("empty"), "empty response"), (Fault("renamed_field", field="quoteAsset"),
                                                              "'quoteAsset': missing field")):  # fmt: skip
        emu.faults["/api/v3/exchangeInfo"] = fault
        check = (await doctor(emu, ws_seconds=1.0))[("binance", "/api/v3/exchangeInfo")]
        assert check.status == "drift" and named in check.detail, (check.status, check.detail)
    # A listing whose every pair the rules leave out is drift too (a quote that lists no altcoin).
    emu.faults.clear()
    config = load_config(use_user_file=False).with_overrides("general", quote="EUR")
    check = (await doctor(emu, config, ws_seconds=1.0))[("binance", "/api/v3/exchangeInfo")]
    assert check.status == "drift" and "no trading EUR altcoin pair" in check.detail, check.detail


async def test_frozen_values_are_named(dataset) -> None:
    emu = emulator(dataset)
    emu.faults["/api/v3/ticker/24hr"] = Fault("frozen")
    check = (await doctor(emu, ws_seconds=1.0))[("binance", "/api/v3/ticker/24hr")]
    assert check.status == "drift" and "frozen" in check.detail


@pytest.mark.parametrize(("kind", "status", "named"), [("silent", "drift", "no message in 2 s"),
                                                       ("refuse", "down", "refused")])  # fmt: skip
async def test_websocket_faults_are_named(dataset, kind: str, status: str, named: str) -> None:
    emu = emulator(dataset)
    get_hub(emu).set_fault(kind, "binance")
    checks = await doctor(emu, ws_seconds=2.0)
    check = checks[("binance", "websocket liquidations")]
    assert check.status == status and named in check.detail, (check.status, check.detail)
    assert checks[("bybit", "websocket liquidations")].status == "ok"


async def test_legacy_binance_url_is_caught(dataset) -> None:
    """A console still on the unrouted path: connected, not a single message (Binance's behaviour since April
    2026, which the emulator reproduces); on the real host the URL alone is enough to name the problem."""
    emu = emulator(dataset)
    base = load_config(use_user_file=False)
    silent = (await doctor(emu, base.with_overrides("sources", binance_ws="ws://127.0.0.1:1/ws/!forceOrder@arr"),
                           ws_seconds=2.0))[("binance", "websocket liquidations")]  # fmt: skip
    assert silent.status == "drift" and "no message in 2 s" in silent.detail
    named = (await doctor(emu, base.with_overrides("sources", binance_ws="wss://fstream.binance.com/ws/!forceOrder@arr"),
                          ws_seconds=1.0))[("binance", "websocket liquidations")]  # fmt: skip
    assert named.status == "drift" and "unrouted Binance futures stream URL" in named.detail


def test_doctor_cli_against_the_served_loopback_emulator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("uvicorn")
    from emulator.loopback import ServedEmulator, write_config
    from tui.cli import main

    with ServedEmulator(demo_emulator(speed=SPEED)) as served:
        config = write_config(tmp_path / "config.toml", served.port)
        with pytest.raises(SystemExit) as exit_:
            main(["doctor", "--config", str(config), "--json", "--ws-seconds", "4"])
    doc = json.loads(capsys.readouterr().out)
    assert exit_.value.code == 0, [c for c in doc["checks"] if c["status"] not in OK_STATES]
    assert doc["ok"] is True and len(doc["checks"]) == 34
    with ServedEmulator(demo_emulator(speed=SPEED), pre_faults=["/v5/market/tickers=status:503"]) as served:
        config = write_config(tmp_path / "config.toml", served.port)
        with pytest.raises(SystemExit) as exit_:
            main(["doctor", "--config", str(config), "--ws-seconds", "2"])
    out = capsys.readouterr().out
    assert exit_.value.code == 1 and "HTTP 503" in out and "checks need attention" in out
