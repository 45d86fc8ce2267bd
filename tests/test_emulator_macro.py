"""Emulated Farside / alternative.me / CoinGecko / Yahoo / Stooq / FRED over the demo market, round-tripped
through the real source classes; the demo's macro story makes several drivers active."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import etf as etf_an
from analytics import macro as macro_an
from emulator import demo_macro
from emulator.clock import VirtualClock
from emulator.core import Emulator
from emulator.dataset import MarketDataset
from emulator.demo import build_demo_dataset
from emulator.demo_spot import simulate_spot
from emulator.routes_farside import visible_flows
from emulator.scenario import DAY, HOUR, Scenario
from emulator.transport import EmulatorTransport
from emulator.wire import Fault
from sources.alternative_me import AlternativeMe
from sources.coingecko import CoinGecko
from sources.defillama import DefiLlama
from sources.errors import SourceError, SourceUnavailable
from sources.farside import FarsideEtf
from sources.fred import Fred
from sources.http import HttpClient
from sources.stooq import Stooq
from sources.yahoo import YahooChart, equity_daily

ANCHOR = 1_770_000_000_000 // 60_000 * 60_000  # 2026-02-02 02:40 UTC, a Monday night in Asia


@pytest.fixture(scope="module")
def dataset() -> MarketDataset:
    return build_demo_dataset(ANCHOR)


def client(dataset: MarketDataset, at: int = ANCHOR) -> tuple[HttpClient, Emulator]:
    emu = Emulator(dataset, VirtualClock(start_ms=at, speed=0))
    return HttpClient(transport=EmulatorTransport(emu), retries=0), emu


def test_fill_is_deterministic(dataset):
    # The spot bars the filler read when the demo was built: the simulation's, before the basket's old hourly
    # history was compacted to daily bars (emulator.demo_spot.compact_history).
    fresh = MarketDataset(name="t", simulated=True, spot_klines=simulate_spot(Scenario(anchor_ms=ANCHOR)))
    demo_macro.fill(fresh, Scenario(anchor_ms=ANCHOR))
    pd.testing.assert_frame_equal(fresh.etf_flows["btc"], dataset.etf_flows["btc"])
    assert set(fresh.etf_flows["btc"].columns) == {*demo_macro.BTC_FUNDS, "Total"}
    assert set(fresh.etf_flows["eth"].columns) == {*demo_macro.ETH_FUNDS, "Total"}


async def test_farside_round_trip_and_drivers(dataset):
    http, _ = client(dataset)
    flows = await FarsideEtf(http).btc_flows()
    await http.aclose()
    frame = flows.frame
    # Every published day matches the dataset to the page's $0.1M precision.
    stored = dataset.etf_flows["btc"]
    day = frame.index[-2].date()
    assert frame.loc[frame.index[-2], "Total"] == pytest.approx(stored.loc[day, "Total"], abs=0.05e6)
    # Nothing after the virtual time: the anchor day (2026-02-02) is not on the page before 21:00 UTC.
    assert frame.index[-1] < pd.Timestamp(ANCHOR, unit="ms").normalize()
    assert flows.partial_last is False
    streak = etf_an.outflow_streak_days(frame, flows.partial_last)
    worst = etf_an.largest_outflow(frame, 10, flows.partial_last)
    assert streak >= 3 and worst.value < -250e6
    assert etf_an.net_flow_sum(frame, 3, flows.partial_last).value < 0


async def test_farside_partial_row_in_the_us_evening(dataset):
    evening = (ANCHOR // DAY) * DAY + 22 * HOUR  # 22:00 UTC on the anchor day: funds are reporting
    http, _ = client(dataset, evening)
    flows = await FarsideEtf(http).eth_flows()
    await http.aclose()
    assert flows.partial_last is True
    assert str(flows.as_of) == str(pd.Timestamp(ANCHOR, unit="ms").date())
    assert flows.frame.iloc[-1].drop("Total").isna().any()
    later, _ = visible_flows(dataset.etf_flows["eth"], evening + 4 * HOUR)
    assert not pd.isna(later.loc[later.index[-1], "Total"])


async def test_farside_blocked_is_unavailable(dataset):
    for status in (403, 503):
        http, emu = client(dataset)
        emu.faults["/bitcoin"] = Fault(kind="status", status=status)
        with pytest.raises(SourceUnavailable):
            await FarsideEtf(http).btc_flows()
        await http.aclose()


async def test_fear_greed_round_trip(dataset):
    http, _ = client(dataset)
    fg = await AlternativeMe(http).fear_greed(limit=30)
    await http.aclose()
    assert len(fg.frame) == 30
    assert fg.latest_value <= 25 and fg.latest_classification == "Extreme Fear"
    assert fg.as_of <= pd.Timestamp(ANCHOR, unit="ms", tz="UTC")
    assert 0 < fg.next_update_s <= 86_400


async def test_coingecko_round_trip_and_drivers(dataset):
    http, _ = client(dataset)
    cg = CoinGecko(http)
    snapshot = await cg.global_market()
    markets = await cg.coin_markets(per_page=100)
    await http.aclose()
    assert snapshot.time <= pd.Timestamp(ANCHOR, unit="ms", tz="UTC")
    assert snapshot.stablecoins_complete and 50 < snapshot.btc_dominance_pct < 70
    assert len(markets) == 100 and markets["change_30d_pct"].notna().all()
    split = macro_an.small_vs_large_cap_return(markets)
    assert split.value_pp < -10
    # Dominance / stablecoin history as the console would build it from its own snapshots.
    g = dataset.global_market
    hist = pd.DataFrame({"time": g["time"], "btc_dominance_pct": g["pct_btc"],
                         "stablecoin_share_pct": g["pct_usdt"] + g["pct_usdc"]})  # fmt: skip
    now = pd.Timestamp(ANCHOR, unit="ms", tz="UTC")
    assert macro_an.btc_dominance_change(hist, 30, now=now).value > 1
    assert macro_an.stablecoin_share_change(hist, 30, now=now).value > 0.5


async def test_coingecko_global_is_at_most_ten_minutes_old_at_any_minute_of_the_demo(dataset):
    """CoinGecko documents /global as updated every 10 minutes; the console takes it as current for an hour. The
    demo's snapshots used to be hourly, so CoinGecko read stale for part of every hour of a demo session."""
    ages = []
    for minute in (0, 9, 30, 59, 61, 119, 6 * 60 + 59):
        at = (ANCHOR // HOUR) * HOUR + minute * 60_000
        http, _ = client(dataset, at)
        snapshot = await CoinGecko(http).global_market()
        await http.aclose()
        ages.append((at - snapshot.time.value // 1_000_000) / 60_000)
    assert all(0 <= age < 10 for age in ages), ages


async def test_defillama_round_trip_consistent_with_coingecko(dataset):
    http, _ = client(dataset)
    supply = await DefiLlama(http).stablecoin_supply()
    await http.aclose()
    now = pd.Timestamp(ANCHOR, unit="ms", tz="UTC")
    # CoinGecko at the time of DefiLlama's newest point (the day's start): the two describe the same moment.
    http, _ = client(dataset, int(now.floor("D").value // 1_000_000))
    snapshot = await CoinGecko(http).global_market()
    await http.aclose()
    # One point per UTC day, oldest first, none later than the clock: the running day's is the newest.
    assert supply.index[-1] == now.floor("D") and (supply.index.to_series().diff().dropna() == pd.Timedelta("1D")).all()
    assert len(supply) > 60
    # CoinGecko's USDT + USDC share of its total is USDT_USDC_PART of DefiLlama's USD stablecoin supply.
    cg_usd = snapshot.stablecoin_share_pct / 100 * snapshot.total_mcap_usd
    assert supply["supply_usd"].iloc[-1] * demo_macro.USDT_USDC_PART == pytest.approx(cg_usd, rel=0.03)
    # It grows over the 30 days before the anchor, as the share does ("Stablecoin rotation").
    change = macro_an.change_over_window(supply["supply_usd"], pd.Timedelta(days=30), relative=True)
    assert change.value > 0


async def test_defillama_wire_format_and_clock(dataset):
    http, _ = client(dataset, at=ANCHOR - 10 * DAY)
    raw = await http.get_json("defillama", "/stablecoincharts/all", "https://stablecoins.llama.fi/stablecoincharts/all")
    await http.aclose()
    last = raw[-1]
    assert isinstance(last["date"], str) and int(last["date"]) * 1000 <= ANCHOR - 10 * DAY
    assert set(last) == {"date", "totalCirculating", "totalUnreleased", "totalCirculatingUSD", "totalMintedUSD",
                         "totalBridgedToUSD"}  # fmt: skip
    assert set(last["totalCirculatingUSD"]) == {"peggedUSD", "peggedEUR"}
    assert last["totalMintedUSD"] == {"peggedUSD": 0, "peggedEUR": 0}


async def test_defillama_missing_history_and_faults(dataset):
    # A dataset without the chart (a replay of files): DefiLlama's 404 "Invalid request", unavailable here.
    bare = MarketDataset(name="replay", simulated=False)
    emu = Emulator(bare, VirtualClock(start_ms=ANCHOR, speed=0))
    http = HttpClient(transport=EmulatorTransport(emu), retries=0)
    with pytest.raises(SourceUnavailable, match="no stablecoin supply chart here"):
        await DefiLlama(http).stablecoin_supply()
    await http.aclose()
    # Faults on the route reach the parser: a renamed field is named, an empty answer is no data.
    for fault, needle in ((Fault("renamed_field", field="totalCirculatingUSD"), "totalCirculatingUSD"),
                          (Fault("empty"), "no data points"), (Fault("status", status=503), "HTTP 503")):  # fmt: skip
        http, emu = client(dataset)
        emu.faults["/stablecoincharts/"] = fault
        with pytest.raises(SourceError, match=needle):
            await DefiLlama(http).stablecoin_supply()
        await http.aclose()


async def test_coingecko_bad_currency(dataset):
    http, _ = client(dataset)
    with pytest.raises(SourceError):
        await http.get_json("coingecko", "/api/v3/coins/markets", "https://api.coingecko.com/api/v3/coins/markets",
                            params={"vs_currency": "xyz"})  # fmt: skip
    await http.aclose()


async def test_equities_yahoo_and_stooq_agree(dataset):
    http, emu = client(dataset)
    yahoo = await YahooChart(http).daily("SPY", "3mo")
    stooq = await Stooq(http, apikey="k").daily("SPY")
    with pytest.raises(SourceError, match="HTTP 404"):
        await YahooChart(http).daily("NOPE")
    # Without a key Stooq answers a page asking for one (HTTP 200), as it has since 2026: unavailable, not data.
    with pytest.raises(SourceUnavailable, match="HTML page"):
        await Stooq(http).daily("SPY")
    emu.faults["/v8/finance/chart/"] = Fault(kind="status", status=429, retry_after=60)
    fallback = await equity_daily(YahooChart(http), Stooq(http, apikey="k"), "QQQ")
    await http.aclose()
    assert fallback.source == "stooq"
    assert yahoo.frame.index[-1] <= pd.Timestamp(ANCHOR, unit="ms", tz="UTC")
    assert stooq.frame["close"].iloc[-1] == pytest.approx(yahoo.frame["close"].iloc[-1], rel=1e-6)
    assert macro_an.spy_change(yahoo.frame["close"], 5).value < -2
    assert fallback.symbol == "QQQ" and len(fallback.frame) > 100


async def test_fred_round_trip_with_publication_lag(dataset):
    http, _ = client(dataset)
    series = await Fred(http).series("DGS2")
    with pytest.raises(SourceError):
        await Fred(http).series("NOPE")
    await http.aclose()
    anchor_day = pd.Timestamp(ANCHOR, unit="ms").normalize()
    assert series.as_of < anchor_day  # published a business day late
    change = macro_an.yield_change(series.values, 10)
    assert change.value > 0.15 and change.end_time == series.as_of
