"""Replaying a recorder store: each recorded table becomes the dataset field a folder of history files would
(same units, same columns), the recording's gaps are said and left empty, and the emulator then answers the
providers' calls from the recording, never with anything stamped after the replayed time. The round trip goes
through the console's own source parsers: what comes back is what was recorded."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import sqlite3
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from emulator import Emulator, EmulatorTransport, MarketDataset, VirtualClock
from emulator.dataset import KLINE_COLUMNS
from emulator.replay import load_replay_dataset
from emulator.replay_store import load_store_dataset
from sources.alternative_me import AlternativeMe
from sources.binance_futures import BinanceFutures
from sources.bybit import Bybit
from sources.coingecko import CoinGecko
from sources.farside import FarsideEtf
from sources.fred import Fred
from sources.http import HttpClient
from sources.yahoo import YahooChart
from store.base import StoreError
from store.sqlite import SqliteStore

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
T0 = 1_795_392_000_000  # 2026-11-23T00:00:00Z, a Monday
BARS = 48  # two days of hourly bars; the newest one still open when the recorder last wrote
#: Session open of NYSE in November (EST): 14:30 UTC.
SESSION_OPEN = 14 * HOUR + 30 * MIN


def day_ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC).timestamp() * 1000)


def kline(symbol: str, i: int, base: float, *, taker: bool = True) -> tuple:
    """A Binance spot hourly bar as the recorder writes it: prices in USDT, volume in coins."""
    open_ms = T0 + i * HOUR
    close = base * (1 + 0.002 * math.sin(i / 3))
    open_ = base * (1 + 0.002 * math.sin((i - 1) / 3))
    high, low = max(open_, close) * 1.001, min(open_, close) * 0.999
    volume = 120.0 + i
    quote = volume * (open_ + close) / 2
    buy = 0.52 * volume if taker else None
    buy_quote = 0.52 * quote if taker else None
    return ("binance_spot", symbol, HOUR, open_ms, open_, high, low, close, volume, quote,
            4_000 + i if taker else None, buy, buy_quote, open_ms + HOUR - 1, int(i == BARS - 1))  # fmt: skip


def macro_rows() -> list[tuple]:
    rows: list[tuple] = []
    # Fear & Greed, one value a day at the day's UTC start; values on alternative.me's band edges.
    for k, value in enumerate((25, 26, 46, 47, 54, 55, 76)):
        rows.append(("fear_greed", T0 + (k - 5) * DAY, float(value), "alternative.me"))
    # CoinGecko /global snapshots a day apart; the first listed no ETH share (its dominance stands in).
    for at, mcap, shares in ((T0 + HOUR, 3.00e12, {"btc": 57.9, "usdt": 6.1, "usdc": 2.5}),
                             (T0 + 25 * HOUR, 3.06e12, {"btc": 58.3, "eth": 11.4, "usdt": 6.0, "usdc": 2.4})):
        rows += [("cg.total_mcap_usd", at, mcap, "coingecko"), ("cg.total_volume_usd", at, 1.1e11, "coingecko"),
                 ("cg.btc_dominance_pct", at, shares["btc"], "coingecko"),
                 ("cg.eth_dominance_pct", at, 11.6, "coingecko"),
                 ("cg.stablecoin_share_pct", at, shares["usdt"] + shares["usdc"], "coingecko")]
        rows += [(f"cg.share.{sym}", at, pct, "coingecko") for sym, pct in shares.items()]
    # SPY daily bars (session open UTC) and a close-only index whose symbol holds a dot.
    for k, iso in enumerate(("2026-11-18", "2026-11-19", "2026-11-20")):
        at = day_ms(iso) + SESSION_OPEN
        bar = {"open": 600.0 + k, "high": 603.0 + k, "low": 598.0 + k, "close": 601.5 + k, "volume": 7.1e7}
        rows += [(f"equity.SPY.{f}", at, v, "yahoo") for f, v in bar.items()]
        rows.append(("equity.DX-Y.NYB.close", at, 99.8 + k / 10, "yahoo"))
    # FRED DGS2 in percent at the observation date's midnight; Veterans Day is a bond-market holiday (".").
    for iso, pct in (("2026-11-10", 3.52), ("2026-11-11", None), ("2026-11-12", 3.55), ("2026-11-13", 3.49)):
        rows.append(("fred.DGS2", day_ms(iso), pct, "fred"))
    return rows  # fmt: skip


def quote(at: int, due: int, rate: float) -> tuple:
    """A Binance funding quote (premiumIndex) as recorded: rate per 8 h period, settling at ``due``."""
    return (at, "binance", "BTC", "BTCUSDT", rate, 8.0, rate, 87_000.0, due)


def write_store(path: Path, mode: str = "live") -> None:
    """Three sessions of a collector: gaps of 3 h 10 min (over the 24:00 settlement) and of 1 h."""
    store = SqliteStore(path, mode, writer=True)
    s1 = store.begin_session("collector", T0, 101)
    rows = {
        "klines": [kline("BTCUSDT", i, 87_000.0) for i in range(BARS)]
        + [kline("ETHUSDT", i, 2_900.0, taker=i != 5) for i in range(BARS)],
        # Bybit's settled history: every 8 h, BTC and ETH.
        "funding_history": [(T0 + k * 8 * HOUR, "bybit", coin, rate, 8.0, rate)
                            for k in range(6) for coin, rate in (("BTC", 1.0e-4 + k * 1e-5), ("ETH", 0.8e-4))],
        "open_interest": [(T0 + i * HOUR, "binance", "BTC", 80_000.0 + i, (80_000.0 + i) * 87_000.0)
                          for i in range(3)] + [(T0 + 3 * HOUR, "binance", "BTC", None, 6.9e9)],
        "liquidations": [(T0 + 2 * HOUR, "bybit", "BTC", "long", 0.5, 86_500.0, 43_250.0, s1),
                         (T0 + 3 * HOUR, "binance", "ETH", "short", 12.0, 2_950.0, 35_400.0, s1)],
        "etf_flows": [("btc", "2026-11-18", "IBIT", -1.2e8), ("btc", "2026-11-18", "FBTC", 3.5e7),
                      ("btc", "2026-11-18", "GBTC", -2.2e7), ("btc", "2026-11-18", "Total", -1.07e8),
                      ("btc", "2026-11-19", "IBIT", 4.0e7), ("btc", "2026-11-19", "FBTC", 0.0),
                      ("btc", "2026-11-19", "GBTC", -5.0e6), ("btc", "2026-11-19", "Total", 3.5e7),
                      # The newest day as fetched mid-evening: GBTC not reported yet, no Total printed.
                      ("btc", "2026-11-20", "IBIT", 2.0e7), ("btc", "2026-11-20", "FBTC", 1.0e6),
                      ("btc", "2026-11-20", "GBTC", None),
                      ("eth", "2026-11-20", "ETHA", 1.5e7)],
        "macro": macro_rows(),
        "funding": [quote(T0 + 7 * HOUR + 50 * MIN, T0 + 8 * HOUR, 1.1e-4),
                    quote(T0 + 7 * HOUR + 55 * MIN, T0 + 8 * HOUR, 1.2e-4),
                    quote(T0 + 15 * HOUR + 55 * MIN, T0 + 16 * HOUR, 0.9e-4),
                    quote(T0 + 21 * HOUR, T0 + 24 * HOUR, 3.0e-4)],  # 3 h before a settlement nobody saw
    }  # fmt: skip
    store.write(rows, heartbeat=(s1, T0 + 21 * HOUR))
    s2 = store.begin_session("collector", T0 + 24 * HOUR + 10 * MIN, 102)
    store.write({"funding": [quote(T0 + 24 * HOUR + 15 * MIN, T0 + 32 * HOUR, 0.5e-4)],
                 "liquidations": [(T0 + 26 * HOUR, "okx", "BTC", "short", 1.5, 87_400.0, 131_100.0, s2)]},
                heartbeat=(s2, T0 + 30 * HOUR))  # fmt: skip
    s3 = store.begin_session("collector", T0 + 31 * HOUR, 103)
    store.write({"funding": [quote(T0 + 31 * HOUR + 55 * MIN, T0 + 32 * HOUR, 0.7e-4),
                             quote(T0 + 39 * HOUR + 55 * MIN, T0 + 40 * HOUR, 0.6e-4),
                             quote(T0 + 47 * HOUR + 55 * MIN, T0 + 48 * HOUR, 0.4e-4)]},  # not settled yet
                heartbeat=(s3, T0 + 47 * HOUR + 55 * MIN))  # fmt: skip
    store.end_session(s3, T0 + 48 * HOUR)
    store.close()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    write_store(path)
    return path


@pytest.fixture
def dataset(store_path: Path) -> MarketDataset:
    return load_store_dataset(store_path)


def test_klines_become_the_price_frames_with_the_open_bar_kept(dataset: MarketDataset) -> None:
    assert dataset.name.startswith("store:") and not dataset.simulated
    assert set(dataset.markets) == {"binance_spot"} and dataset.spot_klines is dataset.markets["binance_spot"]
    btc = dataset.spot_klines["BTCUSDT"]
    assert set(btc) == {HOUR}
    frame = btc[HOUR]
    assert list(frame.columns) == KLINE_COLUMNS and len(frame) == BARS
    assert frame["open_time"].dtype == np.int64 and frame["count"].dtype == np.int64
    assert list(frame["open_time"]) == [T0 + i * HOUR for i in range(BARS)]  # the provisional last bar kept
    recorded = kline("BTCUSDT", 10, 87_000.0)
    row = frame.iloc[10]
    assert (row["open"], row["close"], row["volume"], row["quote_volume"]) == pytest.approx(
        (recorded[4], recorded[7], recorded[8], recorded[9]))  # fmt: skip
    assert row["count"] == recorded[10] and row["taker_buy_quote_volume"] == pytest.approx(recorded[12])
    eth = dataset.spot_klines["ETHUSDT"][HOUR]
    # A bar without the taker split: CVD unknown (NaN, never 0); an unknown trade count is 0 as in the file replay.
    assert np.isnan(eth["taker_buy_volume"].iloc[5]) and np.isnan(eth["taker_buy_quote_volume"].iloc[5])
    assert eth["count"].iloc[5] == 0 and not np.isnan(eth["taker_buy_volume"].iloc[6])


def test_span_and_the_gaps_of_the_recording(dataset: MarketDataset) -> None:
    # The FRED history starts first; the default --at is the open of the newest (possibly partial) bar.
    assert dataset.start_ms == day_ms("2026-11-10")
    assert dataset.end_ms == T0 + (BARS - 1) * HOUR
    assert dataset.data_end_ms == T0 + BARS * HOUR - 1
    assert dataset.end_note.startswith("default --at 2026-11-24 23:00 UTC")
    assert dataset.load_notes[0] == ("recorded store: 3 sessions, 2 gaps (longest 3 h 10 min; nothing was "
                                     "recorded then, and nothing is filled in)")  # fmt: skip


def test_funding_open_interest_and_the_tape(dataset: MarketDataset) -> None:
    funding = dataset.funding
    assert funding is not None and list(funding.columns) == ["time", "exchange", "coin", "rate", "interval_hours"]
    assert funding["time"].dtype == np.int64
    bybit = funding[(funding["exchange"] == "bybit") & (funding["coin"] == "BTC")]
    assert list(bybit["time"]) == [T0 + k * 8 * HOUR for k in range(6)]
    assert bybit["rate"].iloc[2] == pytest.approx(1.2e-4) and set(bybit["interval_hours"]) == {8.0}
    binance = funding[funding["exchange"] == "binance"]
    # The last quote before each settlement the recording saw; 24:00 fell in a gap (the only quote was 3 h old)
    # and 48:00 had not settled when the recording ended: both unknown.
    assert list(binance["time"]) == [T0 + 8 * HOUR, T0 + 16 * HOUR, T0 + 32 * HOUR, T0 + 40 * HOUR]
    assert list(binance["rate"]) == pytest.approx([1.2e-4, 0.9e-4, 0.7e-4, 0.6e-4])
    assert any(n.startswith("funding of binance: the last recorded quote") for n in dataset.load_notes)
    oi = dataset.open_interest
    assert oi is not None and list(oi.columns) == ["time", "exchange", "coin", "oi_base", "price"]
    assert oi["price"].iloc[:3].to_numpy() == pytest.approx([87_000.0] * 3)  # USD mark = oi_usd / oi_base
    assert np.isnan(oi["oi_base"].iloc[3]) and np.isnan(oi["price"].iloc[3])
    tape = dataset.liquidations
    assert tape is not None and list(tape.columns) == ["time", "exchange", "coin", "side", "qty", "price"]
    assert list(tape["time"]) == [T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 26 * HOUR]
    assert list(tape["side"]) == ["long", "short", "short"] and tape["qty"].iloc[1] == 12.0


def test_etf_flows_per_fund_in_dollars_and_the_macro_series(dataset: MarketDataset) -> None:
    btc = dataset.etf_flows["btc"]
    assert list(btc.index) == [dt.date(2026, 11, 18), dt.date(2026, 11, 19), dt.date(2026, 11, 20)]
    assert all(type(d) is dt.date for d in btc.index) and btc.columns[-1] == "Total"
    assert set(btc.columns) == {"IBIT", "FBTC", "GBTC", "Total"}
    first = btc.loc[dt.date(2026, 11, 18)]
    assert first["IBIT"] == -1.2e8 and first["Total"] == -1.07e8
    last = btc.loc[dt.date(2026, 11, 20)]
    assert np.isnan(last["GBTC"]) and np.isnan(last["Total"])  # not reported / not printed: never summed
    assert list(dataset.etf_flows["eth"].columns) == ["ETHA", "Total"]
    fng = dataset.fear_greed
    assert fng is not None and list(fng.columns) == ["time", "value", "classification"]
    assert list(fng["classification"]) == ["Extreme Fear", "Fear", "Fear", "Neutral", "Neutral", "Greed",
                                           "Extreme Greed"]  # fmt: skip
    cg = dataset.global_market
    assert cg is not None and list(cg["time"]) == [T0 + HOUR, T0 + 25 * HOUR]
    assert {"total_mcap_usd", "total_volume_usd", "pct_btc", "pct_eth", "pct_usdt", "pct_usdc"} <= set(cg.columns)
    assert cg["pct_eth"].tolist() == [11.6, 11.4]  # the first snapshot's ETH share is its dominance
    assert cg["total_mcap_usd"].iloc[1] == 3.06e12
    spy = dataset.equities["SPY"]
    assert list(spy.columns) == ["time", "open", "high", "low", "close", "volume"]
    assert spy["time"].iloc[0] == day_ms("2026-11-18") + SESSION_OPEN and spy["close"].iloc[2] == 603.5
    dxy = dataset.equities["DX-Y.NYB"]
    assert dxy["close"].iloc[0] == pytest.approx(99.8) and dxy["open"].isna().all()
    dgs2 = dataset.rates["DGS2"]
    assert dgs2["time"].iloc[0] == day_ms("2026-11-10") and np.isnan(dgs2["value"].iloc[1])
    assert dgs2["value"].iloc[3] == 3.49


def test_the_same_history_as_files_and_as_a_store_gives_the_same_dataset(tmp_path: Path,
                                                                         dataset: MarketDataset) -> None:
    """Binance public-data kline CSV, alternative.me CSV and a fredgraph CSV of what the store recorded."""
    folder = tmp_path / "files"
    folder.mkdir()
    for symbol, base in (("BTCUSDT", 87_000.0), ("ETHUSDT", 2_900.0)):
        lines = []
        for i in range(BARS):
            r = kline(symbol, i, base)
            lines.append(",".join(repr(v) for v in (r[3], *r[4:9], r[13], r[9], r[10], r[11], r[12], 0)))
        (folder / f"{symbol}-1h.csv").write_text("\n".join(lines) + "\n")
    fng = dataset.fear_greed
    assert fng is not None
    (folder / "fng.csv").write_text("date,timestamp,value,classification\n" + "".join(
        f"{pd.Timestamp(t, unit='ms').date()},{t // 1000},{v},{c}\n"
        for t, v, c in zip(fng["time"], fng["value"], fng["classification"], strict=True)))  # fmt: skip
    (folder / "fredgraph.csv").write_text("observation_date,DGS2\n2026-11-10,3.52\n2026-11-11,\n"
                                          "2026-11-12,3.55\n2026-11-13,3.49\n")  # fmt: skip
    files = load_replay_dataset(folder)
    btc_file = files.spot_klines["BTCUSDT"][HOUR]
    btc_store = dataset.spot_klines["BTCUSDT"][HOUR]
    pd.testing.assert_frame_equal(btc_store, btc_file)
    assert files.fear_greed is not None
    pd.testing.assert_frame_equal(fng, files.fear_greed, check_dtype=False)
    pd.testing.assert_frame_equal(dataset.rates["DGS2"], files.rates["DGS2"])
    assert (files.end_ms, files.start_ms) == (dataset.end_ms, dataset.start_ms)


def test_until_leaves_out_everything_later(store_path: Path) -> None:
    cut = T0 + 30 * HOUR
    dataset = load_store_dataset(store_path, until_ms=cut)
    assert dataset.spot_klines["BTCUSDT"][HOUR]["open_time"].iloc[-1] == cut
    assert dataset.end_ms == cut
    assert dataset.liquidations is not None and dataset.liquidations["time"].max() <= cut
    assert dataset.funding is not None and dataset.funding["time"].max() <= cut
    assert dataset.load_notes[0].startswith("recorded store: 2 sessions, 1 gap (longest 3 h 10 min")


async def test_the_emulator_serves_the_recording_up_to_the_replayed_time(dataset: MarketDataset) -> None:
    at = T0 + 30 * HOUR + 20 * MIN  # in the middle of the recording: bars after this must not be served
    emu = Emulator(dataset, VirtualClock(start_ms=at, speed=0.0))
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="https://api.binance.com") as client:
        response = await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1h", "limit": 1000})
        assert response.status_code == 200, response.text
        bars = response.json()
        assert [b[0] for b in bars] == [T0 + i * HOUR for i in range(31)]  # nothing opened after the clock
        recorded = kline("BTCUSDT", 29, 87_000.0)
        assert float(bars[29][4]) == pytest.approx(recorded[7]) and float(bars[29][10]) == pytest.approx(recorded[12])
        ticker = await client.get("/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"})
        assert ticker.status_code == 200, ticker.text
        assert float(ticker.json()["lastPrice"]) == pytest.approx(87_000.0, rel=0.01)
        assert int(ticker.json()["closeTime"]) <= at


async def test_the_console_sources_read_back_what_was_recorded(dataset: MarketDataset) -> None:
    at = dataset.end_ms
    assert at is not None
    emu = Emulator(dataset, VirtualClock(start_ms=at, speed=0.0))
    http = HttpClient(transport=EmulatorTransport(emu), retries=0)
    try:
        fng = await AlternativeMe(http).fear_greed(limit=0)
        assert list(fng.frame["value"]) == [25, 26, 46, 47, 54, 55, 76]
        assert fng.latest_classification == "Extreme Greed"
        cg = await CoinGecko(http).global_market()
        assert cg.total_mcap_usd == 3.06e12 and cg.btc_dominance_pct == 58.3
        assert cg.mcap_change_24h_pct == pytest.approx(2.0)  # against the snapshot a day before
        dgs2 = await Fred(http).series("DGS2")
        assert dgs2.values.dropna().iloc[-1] == 3.49
        spy = await YahooChart(http).daily("SPY")
        assert list(spy.frame["close"]) == pytest.approx([601.5, 602.5, 603.5])
        flows = await FarsideEtf(http).btc_flows()
        assert flows.frame.loc[pd.Timestamp("2026-11-18"), "Total"] == pytest.approx(-1.07e8)
        bybit = await Bybit(http).funding_history("BTCUSDT", T0, at)
        assert len(bybit) == 6 and bybit["rate"].iloc[-1] == pytest.approx(1.5e-4)
        binance = await BinanceFutures(http).snapshot()
        btc = next(q for q in binance.funding if q.coin == "BTC")
        assert btc.rate == pytest.approx(0.6e-4)  # the replay's prediction: the last settlement (40:00)
    finally:
        await http.aclose()


def test_a_demo_store_is_simulated_an_empty_one_has_no_span_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    demo = tmp_path / "demo.sqlite"
    write_store(demo, "demo")
    assert load_store_dataset(demo).simulated
    empty = tmp_path / "empty.sqlite"
    SqliteStore(empty, "live", writer=True).close()
    nothing = load_store_dataset(empty)
    assert nothing.start_ms is None and nothing.end_ms is None and not nothing.spot_klines
    assert nothing.load_notes == ["recorded store: no recording sessions"]
    garbage = tmp_path / "notes.sqlite"
    garbage.write_bytes(b"not a database at all" * 200)
    with pytest.raises(StoreError, match="not a readable SQLite file"):
        load_store_dataset(garbage)
    foreign = tmp_path / "browser.sqlite"
    with contextlib.closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE cookies (host TEXT)")
    with pytest.raises(StoreError, match="another program"):
        load_store_dataset(foreign)
    with pytest.raises(StoreError, match="no such store"):
        load_store_dataset(tmp_path / "missing.sqlite")
