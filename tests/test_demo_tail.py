"""The demo's long tail (emulator.demo_universe, emulator.demo_tail): a market of hundreds of perps and 150+ spot
pairs, listed on some venues and not others, telling the basket's story; served through the real source classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emulator import Emulator, EmulatorTransport, VirtualClock
from emulator.dataset import SPOT, USDM
from emulator.demo import build_demo_dataset
from emulator.demo_spot import DEMO_SEED
from emulator.demo_tail import TailHistory
from emulator.demo_universe import TAIL_COINS, VENUE_SHARE, tail_coin, tail_universe
from emulator.scenario import DAY, DEFAULT_ALTS, HOUR, MINUTE, Scenario
from sources.binance_futures import BinanceFutures
from sources.binance_spot import BinanceSpot
from sources.bybit import Bybit
from sources.http import HttpClient
from sources.hyperliquid import Hyperliquid
from sources.okx import Okx

ANCHOR = 1_796_000_000_000 // MINUTE * MINUTE


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    return build_demo_dataset(ANCHOR)


def test_universe_is_the_tail_only_and_stable() -> None:
    tail = tail_universe(DEMO_SEED)
    names = [c.coin for c in tail]
    assert len(names) == len(set(names)) >= 230
    assert not {"BTC", *DEFAULT_ALTS, "USDT", "USDC", "DAI", "FDUSD", "WBTC"} & set(names)
    # A coin's profile depends on seed, symbol and rank only: a custom basket leaving a coin out moves no other.
    shorter = {c.coin: c for c in tail_universe(DEMO_SEED, exclude=("HYPE",))}
    assert "HYPE" not in shorter
    assert shorter["ENA"].price == tail_coin(DEMO_SEED, "ENA", 0).price
    assert all(c.venues for c in tail) and all(set(c.venues) <= set(VENUE_SHARE) for c in tail)
    # Listed as in reality: some venues list a coin, others do not; the largest are everywhere.
    per_venue = {v: sum(v in c.venues for c in tail) for v in VENUE_SHARE}
    assert per_venue["binance"] > per_venue["bybit"] > per_venue["okx"] > 0.4 * len(tail)
    assert any(len(c.venues) < 4 for c in tail)
    assert all(len(c.venues) == 4 for c in tail[:20])
    assert sum(c.spot for c in tail) >= 140 and not tail_coin(DEMO_SEED, "HYPE", 0).spot
    assert TAIL_COINS.index("HYPE") == 0


def test_dataset_has_hundreds_of_perps_and_150_spot_pairs(dataset) -> None:  # type: ignore[no-untyped-def]
    coins = dataset.funding.groupby("exchange")["coin"].nunique()
    assert dataset.funding["coin"].nunique() >= 250
    assert coins["binance"] >= 250 and coins["hyperliquid"] < coins["binance"]
    spot_alts = [s for s in dataset.spot_klines if s != "BTCUSDT"]
    assert len(spot_alts) >= 150
    # A tail coin without a spot pair trades on Binance USD-M (its mark price comes from there).
    perp_only = [c for c in tail_universe(DEMO_SEED) if not c.spot and "binance" in c.venues]
    assert perp_only and all(f"{c.coin}USDT" in dataset.markets[USDM] for c in perp_only)


def test_tail_klines_are_valid_bars(dataset) -> None:  # type: ignore[no-untyped-def]
    for symbol in ("ENAUSDT", "APTUSDT", "WIFUSDT"):
        frames = dataset.history(SPOT, symbol)
        daily, hourly = frames[DAY], frames[HOUR]
        # Stored: the last days of hourly bars; the rest is simulated again on request.
        stored = dataset.spot_klines[symbol]
        assert list(stored) == [HOUR] and 5 * 24 <= len(stored[HOUR]) < len(hourly)
        pd.testing.assert_frame_equal(stored[HOUR], hourly.iloc[-len(stored[HOUR]) :].reset_index(drop=True))
        assert daily["open_time"].iloc[-1] + DAY == hourly["open_time"].iloc[0]  # no gap, no overlap
        both = pd.concat([daily, hourly], ignore_index=True)
        assert (both["low"] <= both[["open", "close"]].min(axis=1)).all()
        assert (both["high"] >= both[["open", "close"]].max(axis=1)).all()
        assert np.allclose(both["open"].to_numpy()[1:], both["close"].to_numpy()[:-1])
        assert (both["taker_buy_quote_volume"] <= both["quote_volume"]).all() and (both["quote_volume"] > 0).all()


def test_tail_history_is_the_built_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily bars a request gets back are bit for bit those the build made (and every filler read)."""
    monkeypatch.setattr(TailHistory, "recent", lambda self, frames: frames)  # store every bar the build made
    built = build_demo_dataset(ANCHOR)
    history = built.history_source
    assert isinstance(history, TailHistory)
    for market, symbol in [*list(history.coins)[:: len(history.coins) // 12], (USDM, "HYPEUSDT")]:
        stored, again = built.markets[market][symbol], history(market, symbol)
        assert again is not None and sorted(again) == sorted(stored) == [HOUR, DAY]
        for base, frame in stored.items():
            pd.testing.assert_frame_equal(frame, again[base], check_exact=True)
    assert history(SPOT, "BTCUSDT") is None  # the basket's bars are all stored


def test_tail_tells_the_story(dataset) -> None:  # type: ignore[no-untyped-def]
    s = Scenario(anchor_ms=ANCHOR)
    tail = [c for c in tail_universe(DEMO_SEED) if c.spot]

    def share(lo: int, hi: int) -> float:
        buy = sold = 0.0
        for c in tail:
            for frame in dataset.history(SPOT, f"{c.coin}USDT").values():
                inside = frame[(frame["open_time"] >= lo) & (frame["open_time"] < hi)]
                buy += inside["taker_buy_quote_volume"].sum()
                sold += inside["quote_volume"].sum()
        return buy / sold

    before = share(s.history_start_ms, s.bleed_start_ms - 30 * DAY)
    bleed = share(s.bleed_start_ms, s.crash_start_ms - DAY)
    crash = share(s.crash_start_ms // HOUR * HOUR, s.crash_end_ms)
    assert 0.495 < before < 0.505 and 0.46 < bleed < 0.49 and crash < 0.44
    # Small caps bleed against BTC into the crash and fall harder in it.
    btc = dataset.spot_klines["BTCUSDT"][HOUR].set_index("open_time")["close"]
    hours = lambda t: t // HOUR * HOUR  # noqa: E731
    btc_move = btc[hours(s.crash_end_ms)] / btc[hours(s.crash_start_ms) - HOUR] - 1
    moves = []
    for c in tail[:40]:
        hourly = dataset.spot_klines[f"{c.coin}USDT"][HOUR].set_index("open_time")["close"]
        moves.append(hourly[hours(s.crash_end_ms)] / hourly[hours(s.crash_start_ms) - HOUR] - 1)
    assert np.median(moves) < btc_move < 0
    # Funding turns crowded in the build-up on most tail coins, and OI builds into the crash.
    funding = dataset.funding[dataset.funding["coin"].isin([c.coin for c in tail])]
    crowded = funding[(funding["time"] > s.crowded_funding_start_ms + DAY) & (funding["time"] <= s.crash_start_ms)]
    per_coin = (crowded["rate"] * 8 / crowded["interval_hours"]).groupby(crowded["coin"]).mean()
    assert (per_coin > 0.0001).mean() > 0.6


async def test_served_in_the_venues_formats(dataset) -> None:  # type: ignore[no-untyped-def]
    emu = Emulator(dataset, VirtualClock(start_ms=ANCHOR, speed=0))
    http = HttpClient(transport=EmulatorTransport(emu))
    try:
        clients = {"binance": BinanceFutures, "bybit": Bybit, "okx": Okx, "hyperliquid": Hyperliquid}
        snaps = {name: await client(http).snapshot() for name, client in clients.items()}
        coins = {name: {q.coin for q in snap.funding} for name, snap in snaps.items()}
        assert len(set().union(*coins.values())) >= 250
        tail = {c.coin: c for c in tail_universe(DEMO_SEED)}
        for name, listed in coins.items():
            expected = {c for c, t in tail.items() if name in t.venues}
            assert expected <= listed, name
            assert not ({c for c, t in tail.items() if name not in t.venues} & listed), name
        # Four-hour coins are settled as such; rates are finite; marks exist for perp-only coins.
        binance = {q.coin: q for q in snaps["binance"].funding}
        assert {binance[c].interval_hours for c in tail if c in binance} >= {4.0, 8.0}
        assert binance["HYPE"].mark_price and binance["HYPE"].mark_price > 0
        # Thirteen months of daily spot klines for a tail coin in one page, the running day built from hours.
        start = ANCHOR - 395 * DAY
        daily = await BinanceSpot(http).klines("APTUSDT", "1d", start_ms=start, now_ms=ANCHOR)
        assert len(daily) >= 395
        assert daily.index[-1] == pd.Timestamp(ANCHOR // DAY * DAY, unit="ms", tz="UTC")
        hourly = dataset.spot_klines["APTUSDT"][HOUR]
        today = hourly[(hourly["open_time"] >= ANCHOR // DAY * DAY) & (hourly["open_time"] + HOUR <= ANCHOR)]
        assert daily["quote_volume"].iloc[-1] >= today["quote_volume"].sum()
    finally:
        await http.aclose()


def test_timeline_reads_a_tail_coin_of_the_basket_whole(dataset) -> None:  # type: ignore[no-untyped-def]
    """A custom basket may hold a tail coin: the drivers timeline's basket CVD reads its whole history, not only the
    recent bars the dataset stores."""
    from tui.views.history import HistoryMetrics

    steps = np.array([ANCHOR], dtype=np.int64)
    flows = HistoryMetrics(dataset, steps, 0.0001, ("ENA",)).basket_flows()
    ((coin, close_ms, *_),) = flows
    assert coin == "ENA" and close_ms[0] <= Scenario(anchor_ms=ANCHOR).history_start_ms + DAY
