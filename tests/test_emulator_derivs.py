"""Demo derivatives data (story, speed) and the emulated funding/OI endpoints round-tripped through the
real source classes over HttpClient(transport=EmulatorTransport(emu)) with a frozen virtual clock."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emulator import Emulator, EmulatorTransport, MarketDataset, VirtualClock, demo_derivs
from emulator.scenario import DAY, HOUR, MINUTE, Scenario
from sources.binance_futures import BinanceFutures
from sources.bybit import Bybit
from sources.errors import SourceError
from sources.http import HttpClient
from sources.hyperliquid import Hyperliquid
from sources.okx import Okx
from sources.symbols import venue_symbol

ANCHOR = 1_760_000_000_000 // MINUTE * MINUTE


def spot_frames(scenario: Scenario) -> dict[str, dict[int, pd.DataFrame]]:
    """Hourly spot frames for every coin (a random walk with a 10% drop through the crash): our own small
    stand-in so these tests do not depend on the spot simulator."""
    rng = np.random.default_rng(3)
    start = scenario.history_start_ms
    times = np.arange(start, scenario.end_ms + 1, HOUR, dtype=np.int64)
    out: dict[str, dict[int, pd.DataFrame]] = {}
    for i, coin in enumerate(scenario.coins):
        walk = np.cumsum(rng.normal(0, 0.004, len(times)))
        crash = np.where(times >= scenario.crash_start_ms, np.log(0.9), 0.0)
        close = (100.0 * (i + 1)) * np.exp(walk + crash)
        open_ = np.concatenate([[close[0]], close[:-1]])
        volume = np.full(len(times), 1000.0)
        out[coin + "USDT"] = {HOUR: pd.DataFrame({
            "open_time": times, "open": open_, "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close, "volume": volume, "quote_volume": volume * close,
            "count": np.full(len(times), 10),
            "taker_buy_volume": volume / 2, "taker_buy_quote_volume": volume * close / 2,
        })}  # fmt: skip
    return out


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario(anchor_ms=ANCHOR)


@pytest.fixture(scope="module")
def dataset(scenario: Scenario) -> MarketDataset:
    ds = MarketDataset("test", True, spot_klines=spot_frames(scenario))
    demo_derivs.fill(ds, scenario)
    return ds


def emulator(dataset: MarketDataset, at: int) -> Emulator:
    return Emulator(dataset, VirtualClock(start_ms=at, speed=0))


def test_fill_is_deterministic(scenario: Scenario) -> None:
    spot = spot_frames(scenario)
    a, b = MarketDataset("a", True, spot_klines=spot), MarketDataset("b", True, spot_klines=spot)
    demo_derivs.fill(a, scenario)
    demo_derivs.fill(b, scenario)
    pd.testing.assert_frame_equal(a.funding, b.funding)
    assert a.liquidations is None  # not ours to fill


def test_story(dataset: MarketDataset, scenario: Scenario) -> None:
    f = dataset.funding
    assert f is not None and set(f["exchange"]) == {"binance", "bybit", "okx", "hyperliquid"}
    assert set(f["coin"]) == set(scenario.coins)
    assert f["time"].min() >= scenario.anchor_ms - 60 * DAY - 8 * HOUR and f["time"].max() <= scenario.end_ms
    intervals = f.groupby(["exchange", "coin"])["interval_hours"].first()
    assert set(intervals["hyperliquid"]) == {1.0} and set(intervals["binance"]) == {8.0}
    assert (
        sorted(intervals["bybit"].value_counts().index) == [4.0, 8.0] and (intervals["bybit"] == 4).sum() == 1
    )
    r8 = f["rate"] * 8 / f["interval_hours"]

    def per_coin(lo: int, hi: int) -> pd.Series:
        mask = (f["time"] > lo) & (f["time"] <= hi)
        return r8[mask].groupby(f["coin"][mask]).mean()

    normal = per_coin(scenario.anchor_ms - 30 * DAY, scenario.crowded_funding_start_ms)
    crowded = per_coin(scenario.crowded_funding_start_ms + DAY, scenario.crowded_funding_end_ms)
    after = per_coin(scenario.crowded_funding_end_ms, scenario.end_ms)
    assert 0.00003 < normal.median() < 0.00017
    assert (crowded > 0.0001).mean() > 0.6 and 0.0002 <= crowded.median() <= 0.0006
    assert after.median() < 0.00005
    oi = dataset.open_interest
    assert oi is not None
    binance = oi[oi["exchange"] == "binance"].pivot(index="time", columns="coin", values="oi_base")
    at = binance.index.to_numpy()

    def level(t: int) -> pd.Series:
        return binance.iloc[int(np.searchsorted(at, t, side="right")) - 1]

    build = level(scenario.crash_start_ms) / level(scenario.crowded_funding_start_ms) - 1
    drop = 1 - level(scenario.crash_end_ms) / level(scenario.crash_start_ms)
    assert (build > 0.05).all()
    assert drop.between(0.08, 0.27).all(), drop.describe()


async def test_round_trip_all_venues(dataset: MarketDataset, scenario: Scenario) -> None:
    emu = emulator(dataset, scenario.anchor_ms)
    http = HttpClient(transport=EmulatorTransport(emu))
    try:
        snaps = {
            "binance": await BinanceFutures(http).snapshot(),
            "bybit": await Bybit(http).snapshot(),
            "okx": await Okx(http).snapshot(),
            "hyperliquid": await Hyperliquid(http).snapshot(),
        }
        for name, snap in snaps.items():
            assert {q.coin for q in snap.funding} == set(scenario.coins), name
            for quote in snap.funding:
                series = dataset.funding[
                    (dataset.funding["exchange"] == name) & (dataset.funding["coin"] == quote.coin)
                ]
                done = series[series["time"] <= scenario.anchor_ms]
                last, upcoming = done.iloc[-1], series[series["time"] > scenario.anchor_ms].iloc[0]
                # The simulated prediction walks from the last settlement to the next as the period elapses.
                frac = (scenario.anchor_ms - last["time"]) / (upcoming["time"] - last["time"])
                expected = last["rate"] + frac * (upcoming["rate"] - last["rate"])
                assert quote.rate == pytest.approx(expected, abs=1e-8), (name, quote.coin)
                assert quote.interval_hours == last["interval_hours"]
                assert (
                    quote.next_funding_time is not None
                    and quote.next_funding_time.value // 10**6 > scenario.anchor_ms
                )
        btc = {n: next(q for q in s.funding if q.coin == "BTC") for n, s in snaps.items()}
        assert btc["binance"].mark_price == pytest.approx(btc["hyperliquid"].mark_price, rel=1e-3)
        pepe_hl = next(o for o in snaps["hyperliquid"].open_interest if o.coin == "PEPE")
        assert pepe_hl.symbol == "kPEPE"
        oi = dataset.open_interest
        row = oi[
            (oi["exchange"] == "hyperliquid") & (oi["coin"] == "PEPE") & (oi["time"] <= scenario.anchor_ms)
        ].iloc[-1]
        assert pepe_hl.oi_base == pytest.approx(row["oi_base"], rel=1e-6)
        binance = BinanceFutures(http)
        marks = {q.symbol: q.mark_price for q in snaps["binance"].funding if q.coin in ("BTC", "PEPE")}
        ois = await binance.open_interest(marks)  # type: ignore[arg-type]
        assert {o.symbol for o in ois} == {"BTCUSDT", "1000PEPEUSDT"}
        hist = await binance.funding_history("BTCUSDT", scenario.anchor_ms - 30 * DAY)
        assert len(hist) == 90 and hist["time"].max().value // 10**6 <= scenario.anchor_ms
        oih = await binance.open_interest_hist("BTCUSDT", "1h")
        assert len(oih) == 500 and (oih["oi_usd"] > 0).all()
        f = dataset.funding
        four = f[(f["exchange"] == "bybit") & (f["interval_hours"] == 4)]["coin"].iloc[0]
        symbol = venue_symbol("bybit", four)[0]
        by = await Bybit(http).funding_history(symbol, scenario.anchor_ms - 60 * DAY, scenario.anchor_ms)
        assert by["time"].is_monotonic_increasing and len(by) > 200  # paged past one 200-row page
        assert set(by["interval_hours"]) == {4.0}
        assert by["rate_8h"].to_numpy() == pytest.approx(2 * by["rate"].to_numpy())
        quote4 = next(q for q in snaps["bybit"].funding if q.coin == four)
        assert quote4.interval_hours == 4 and quote4.rate_8h == pytest.approx(2 * quote4.rate)
        ok = await Okx(http).funding_history("BTC-USDT-SWAP", scenario.anchor_ms - 20 * DAY)
        assert 58 <= len(ok) <= 61
        hl = await Hyperliquid(http).funding_history("BTC", scenario.anchor_ms - 30 * DAY)
        assert len(hl) == 720 and set(hl["interval_hours"]) == {1.0}  # 2 pages of 500
    finally:
        await http.aclose()


async def test_nothing_after_now_is_visible(dataset: MarketDataset, scenario: Scenario) -> None:
    early = scenario.crowded_funding_start_ms - 3 * DAY
    emu = emulator(dataset, early)
    http = HttpClient(transport=EmulatorTransport(emu))
    try:
        hist = await BinanceFutures(http).funding_history("ETHUSDT", early - 5 * DAY, scenario.end_ms)
        assert hist["time"].max().value // 10**6 <= early
        hl = await Hyperliquid(http).funding_history("ETH", early - DAY, scenario.end_ms)
        assert hl["time"].max().value // 10**6 <= early
        first = await Okx(http).funding_quotes()
        second = await Okx(http).funding_quotes()
        assert [q.rate for q in first] == [q.rate for q in second]  # consistent across calls
    finally:
        await http.aclose()


async def test_one_bulk_request_per_exchange_per_cycle(dataset: MarketDataset, scenario: Scenario) -> None:
    emu = emulator(dataset, scenario.anchor_ms)
    http = HttpClient(transport=EmulatorTransport(emu))
    sources = (BinanceFutures(http), Bybit(http), Hyperliquid(http))
    okx = Okx(http)
    try:
        await sources[0].funding_intervals()  # warm-up: the cached fundingInfo call
        for cycle in range(3):
            before = dict(http.log.by_host)
            for source in sources:
                await source.snapshot()
            await okx.funding_quotes()
            emu.clock.advance(8 * HOUR)
            spent = {h: n - before.get(h, 0) for h, n in http.log.by_host.items()}
            assert spent == {"fapi.binance.com": 1, "api.bybit.com": 1, "api.hyperliquid.xyz": 1,
                             "www.okx.com": 1}, (cycle, spent)  # fmt: skip
    finally:
        await http.aclose()


async def test_error_answers(dataset: MarketDataset, scenario: Scenario) -> None:
    from sources.errors import SourceError

    emu = emulator(dataset, scenario.anchor_ms)
    http = HttpClient(transport=EmulatorTransport(emu), retries=0)
    try:
        with pytest.raises(SourceError, match="10001"):
            await Bybit(http).funding_history("NOPEUSDT", 0, scenario.anchor_ms)
        with pytest.raises(SourceError) as info:
            await BinanceFutures(http).open_interest({"NOPEUSDT": 1.0})
        assert info.value.status == 400
        raw = await http.get_json(
            "okx", "x", "https://www.okx.com/api/v5/public/funding-rate", params={"instId": "NOPE-USDT-SWAP"}
        )
        assert raw["code"] == "51001"
    finally:
        await http.aclose()


async def test_perpetual_listings_leave_out_stock_perps(dataset: MarketDataset, scenario: Scenario) -> None:
    """Binance and Bybit list stock perpetuals (TSLAUSDT) under the same USDT-perp names as coins since 2026; the
    listings the console loads keep crypto perpetuals only, and the heatmap follows them."""
    from sources.binance_futures import parse_exchange_info
    from sources.bybit import parse_instruments
    from tui.runtime.feeds_derivs import only_listed

    emu = emulator(dataset, scenario.anchor_ms)
    http = HttpClient(transport=EmulatorTransport(emu))
    try:
        binance = await BinanceFutures(http).perpetuals()
        bybit = await Bybit(http).perpetuals()
        snap = await Bybit(http).snapshot()
    finally:
        await http.aclose()
    assert "TSLAUSDT" not in binance and "BTCUSDT_261225" not in binance and "BTCUSDT" in binance
    assert "TSLAUSDT" not in bybit and "1000PEPEUSDT" in bybit and len(bybit) == len(scenario.coins)
    raw = {"symbols": [{"symbol": "XAUUSDT", "contractType": "TRADIFI_PERPETUAL", "status": "TRADING",
                        "quoteAsset": "USDT"}]}  # fmt: skip
    with pytest.raises(SourceError, match="no trading USDT perpetual"):
        parse_exchange_info(raw)
    page = {"retCode": 0, "retMsg": "OK", "time": 1, "retExtInfo": {}, "result": {"category": "linear",
            "nextPageCursor": "abc", "list": [{"symbol": "GOLDUSDT", "contractType": "LinearPerpetual",
                                               "status": "Trading", "quoteCoin": "USDT", "symbolType": "commodity"}]}}
    assert parse_instruments(page) == (set(), "abc")  # fmt: skip
    fake = snap.funding[0].__class__(**{**snap.funding[0].__dict__, "symbol": "TSLAUSDT", "coin": "TSLA"})
    filtered = only_listed(snap.__class__(snap.exchange, [*snap.funding, fake], snap.open_interest, snap.as_of),
                           frozenset(bybit))  # fmt: skip
    assert "TSLA" not in {q.coin for q in filtered.funding} and len(filtered.funding) == len(snap.funding)
