"""Replay loader: the real shared dataset (values checked by hand against the files) and synthetic layouts."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emulator.clock import VirtualClock
from emulator.core import Emulator
from emulator.replay import load_replay, load_replay_dataset
from emulator.transport import EmulatorTransport
from sources.alternative_me import AlternativeMe
from sources.farside import FarsideEtf
from sources.http import HttpClient
from sources.yahoo import YahooChart
from tests.conftest import SHARED

REPLAY = SHARED / "data" / "replay"
needs_replay = pytest.mark.skipif(not REPLAY.is_dir(), reason="shared replay data not present")
DAY = 86_400_000
OCT11 = int(pd.Timestamp("2025-10-11", tz="UTC").value // 1_000_000)


@pytest.fixture(scope="module")
def replay():
    if not REPLAY.is_dir():
        pytest.skip("shared replay data not present")
    return load_replay(REPLAY)


@needs_replay
def test_loads_and_reports_skips(replay):
    ds = replay.dataset
    assert ds.name == f"replay:{REPLAY}" and ds.simulated is False
    skipped = {s.path: s.reason for s in replay.skipped}
    assert "SOURCES.md" in skipped
    assert any("bookDepth" in p for p in skipped)
    assert all("unreadable" not in r for r in skipped.values())
    assert ds.start_ms == int(pd.Timestamp("2024-01-01", tz="UTC").value // 1_000_000)
    assert ds.start_ms < OCT11 < ds.end_ms


@needs_replay
def test_real_values_at_2025_10_11(replay):
    ds = replay.dataset
    # binance_1d/BTCUSDT_1d.csv row "2025-10-11,112774.49,113322.39,109561.59,110644.40,35448.51652"
    daily = ds.spot_klines["BTCUSDT"][DAY]
    row = daily[daily["open_time"] == OCT11].iloc[0]
    assert row["close"] == pytest.approx(110644.40) and row["open"] == pytest.approx(112774.49)
    assert math.isnan(row["taker_buy_quote_volume"])  # OHLCV-only file: CVD unknown, never zero
    assert row["quote_volume"] == pytest.approx(110644.40 * 35448.51652)  # estimated close*volume
    # sentiment/alternative_me_fng_2024-01_2026-08.csv row "2025-10-11,1760140800,27.0,Fear"
    fg = ds.fear_greed
    day = fg[fg["time"] == 1_760_140_800_000].iloc[0]
    assert day["value"] == 27 and day["classification"] == "Fear"
    # etf_flows/us_spot_btc_etf_flows_2025-09_2026-03.json: 2025-10-11 is a Saturday, so the latest ETF day
    # is 2025-10-10 with "total": -4.5 (US$M) and IBIT 74.2, GBTC -19.2.
    etf = ds.etf_flows["btc"]
    assert dt.date(2025, 10, 11) not in etf.index
    assert etf.loc[dt.date(2025, 10, 10), "Total"] == pytest.approx(-4.5e6)
    assert etf.loc[dt.date(2025, 10, 10), "IBIT"] == pytest.approx(74.2e6)
    assert etf.loc[dt.date(2025, 10, 10), "GBTC"] == pytest.approx(-19.2e6)
    # macro/macro_all_2025-09_2026-03.csv "2025-10-10,...,6552.509765625,..." -> ^GSPC (the index, not SPY)
    spx = ds.equities["^GSPC"]
    assert spx["close"].iloc[np.flatnonzero(spx["time"] < OCT11)[-1]] == pytest.approx(6552.509765625)
    assert "SPY" in ds.equities  # from the TradingView 2-minute SPY bars, not from the index
    # us_equities_2min_tradingview/SPY_2min.csv: 1760103000 (09:30 ET) open 672.15, 1760126280 (15:58 ET)
    # close 653.12 -> the 2025-10-10 regular-session daily bar.
    spy = ds.equities["SPY"].set_index("time")
    bar = spy.loc[1_760_103_000_000]
    assert bar["open"] == pytest.approx(672.15) and bar["close"] == pytest.approx(653.12)


@needs_replay
def test_klines_layouts_and_mark_prices(replay):
    ds = replay.dataset
    # One market per figure: spot files answer the spot endpoints; futures and Bybit files keep their own market.
    assert set(ds.spot_klines["BTCUSDT"]) == {DAY, 4 * 3_600_000}
    assert set(ds.markets["binance_usdm"]["BTCUSDT"]) == {900_000}
    assert set(ds.markets["bybit_linear"]["BTCUSDT"]) == {3_600_000}
    # Mark-price klines never stand in for traded volume: a market of their own.
    mark = ds.markets["binance_usdm_mark"]["BTCUSDT"][300_000]
    assert len(mark) == 7 * 288 and (mark["volume"] == 0).all() and mark["taker_buy_volume"].isna().all()
    assert mark["close"].iloc[0] == pytest.approx(121544.26997101)
    assert 60_000 in ds.markets["binance_coinm_mark"]["BTCUSD_PERP"]
    # Bybit OHLCV + turnover: quote volume is the turnover column.
    bybit = ds.markets["bybit_linear"]["BTCUSDT"][3_600_000]
    assert bybit["quote_volume"].iloc[0] == pytest.approx(171610402.6991)
    for symbols in ds.markets.values():
        for frames in symbols.values():
            for frame in frames.values():
                assert frame["open_time"].is_monotonic_increasing and not frame["open_time"].duplicated().any()


@needs_replay
def test_funding_layouts(replay):
    funding = replay.dataset.funding
    counts = funding.groupby("exchange").size().to_dict()
    assert counts == {"binance": 636, "bybit": 636, "okx": 292}
    assert set(funding["interval_hours"]) == {8.0}
    first = funding[(funding["exchange"] == "binance")].iloc[0]
    assert first["rate"] == pytest.approx(4.66e-05) and first["coin"] == "BTC"


@needs_replay
async def test_emulator_serves_replay_at_2025_10_11():
    ds = load_replay_dataset(REPLAY)
    emu = Emulator(ds, VirtualClock(start_ms=OCT11 + 12 * 3_600_000, speed=0))
    http = HttpClient(transport=EmulatorTransport(emu), retries=0)
    flows = await FarsideEtf(http).btc_flows()
    fg = await AlternativeMe(http).fear_greed(limit=2)
    gspc = await YahooChart(http).daily("^GSPC", "1mo")
    await http.aclose()
    assert flows.as_of == dt.date(2025, 10, 10) and flows.partial_last is False
    assert flows.frame["Total"].iloc[-1] == pytest.approx(-4.5e6)
    assert fg.latest_value == 27 and list(fg.frame["value"]) == [64, 27]
    assert gspc.frame["close"].iloc[-1] == pytest.approx(6552.5098, rel=1e-6)
    assert gspc.frame["open"].isna().all()  # close-only source: no invented OHLC


def test_synthetic_layouts(tmp_path: Path):
    # Binance public-data kline CSV without header and with microsecond timestamps (2025+ spot files).
    start_us = 1_760_054_400_000_000
    rows = [f"{start_us + i * 60_000_000},100,101,99,100.5,2,{start_us + i * 60_000_000 + 59_999_999},201,"
            f"10,1.2,120.6,0" for i in range(5)]  # fmt: skip
    (tmp_path / "spot").mkdir()
    (tmp_path / "spot" / "SOLUSDT-1m-2025-10-10.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "DGS2.csv").write_text("DATE,DGS2\n2025-10-09,3.60\n2025-10-10,.\n")
    (tmp_path / "etf.csv").write_text('date,IBIT,FBTC,Total\n2025-10-10,"1,074.2",(10.2),-\n')
    (tmp_path / "fng.json").write_text(
        json.dumps(
            {
                "name": "Fear and Greed Index",
                "data": [{"value": "27", "value_classification": "Fear", "timestamp": "1760140800"}],
                "metadata": {"error": None},
            }
        )
    )
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "weird.csv").write_text("a,b,c\n1,2,3\n")
    (tmp_path / "BTCUSDT_1h.csv").write_text(
        "timestamp,open,high,low,close,volume\n2025-10-10 00:00:00,1,0.5,1,1,1\n"
    )
    result = load_replay(tmp_path)
    ds = result.dataset
    sol = ds.spot_klines["SOLUSDT"][60_000]
    assert int(sol["open_time"].iloc[0]) == 1_760_054_400_000  # µs -> ms
    assert sol["taker_buy_quote_volume"].iloc[0] == pytest.approx(120.6)
    assert ds.rates["DGS2"]["value"].isna().tolist() == [False, True]
    etf = ds.etf_flows["btc"]
    assert etf.loc[dt.date(2025, 10, 10), "FBTC"] == pytest.approx(-10.2e6)
    assert etf.loc[dt.date(2025, 10, 10), "IBIT"] == pytest.approx(1_074.2e6)
    assert math.isnan(etf.loc[dt.date(2025, 10, 10), "Total"])
    assert ds.fear_greed["value"].tolist() == [27.0]
    skipped = {s.path: s.reason for s in result.skipped}
    assert "not a data file" in skipped["notes.txt"]
    assert "not recognised" in skipped["weird.csv"]
    assert "high below low" in skipped["BTCUSDT_1h.csv"]  # hostile file reported, not loaded
    assert "BTCUSDT" not in ds.spot_klines


def test_kline_columns_recognised_by_name(tmp_path: Path):
    """A collector's layout: an extra datetime column, short taker names, a symbol column; CVD is computed."""
    header = ("open_time,datetime,open,high,low,close,volume,close_time,quote_volume,trades,taker_buy_base,"
              "taker_buy_quote,symbol,sma_20")  # fmt: skip
    rows = [header]
    for i in range(4):
        t = 1_760_054_400_000 + i * 3_600_000
        rows.append(f"{t},2025-10-10 0{i}:00:00,100,101,99,100.5,2,{t + 3_599_999},200,10,1.5,150,SOLUSDT,99")
    (tmp_path / "SOLUSDT_1h.csv").write_text("\n".join(rows) + "\n")
    result = load_replay(tmp_path)
    frame = result.dataset.spot_klines["SOLUSDT"][3_600_000]
    assert frame["taker_buy_quote_volume"].tolist() == [150.0] * 4
    assert frame["taker_buy_volume"].tolist() == [1.5] * 4 and frame["count"].tolist() == [10] * 4
    loaded = result.loaded[0]
    assert "taker split present" in loaded.notes
    assert "columns not used: datetime, close_time, symbol, sma_20 (not recognised)" in loaded.notes


def test_epoch_units_change_inside_one_file(tmp_path: Path):
    """Binance spot files switched to microseconds on 2025-01-01: a file spanning it has both, row by row."""
    ms_row = "1735686000000,1,1,1,1,1,1735689599999,1,1,0.5,0.5,0"  # 2024-12-31 23:00 in ms
    us_row = "1735689600000000,1,1,1,1,1,1735693199999999,1,1,0.5,0.5,0"  # 2025-01-01 00:00 in µs
    (tmp_path / "BTCUSDT-1h-2025-01.csv").write_text(ms_row + "\n" + us_row + "\n")
    frame = load_replay(tmp_path).dataset.spot_klines["BTCUSDT"][3_600_000]
    assert frame["open_time"].tolist() == [1_735_686_000_000, 1_735_689_600_000]
