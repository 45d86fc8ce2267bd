"""Replaying a recorder store: each recorded table becomes what the emulator serves (the same path as a folder of
history files), the gaps are said and left empty, and the providers' answers stop at the replayed time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import numpy as np
import pytest

from emulator import Emulator, EmulatorTransport, VirtualClock
from emulator.replay_store import load_store_dataset
from store.base import StoreError
from store.sqlite import SqliteStore

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_795_392_000_000  # 2026-11-23T00:00:00Z


def bar(symbol: str, interval: int, i: int, price: float, provisional: int = 0) -> tuple:
    open_ms = T0 + i * interval
    return ("binance_spot", symbol, interval, open_ms, price, price * 1.01, price * 0.99, price * 1.005, 10.0,
            10.0 * price, 42, 6.0, 6.0 * price, open_ms + interval - 1, provisional)  # fmt: skip


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path, "live", writer=True)
    first = store.begin_session("collector", T0, 1)
    rows = {
        "klines": [bar("BTCUSDT", HOUR, i, 90_000 + 10 * i) for i in range(48)]
        + [bar("ETHUSDT", HOUR, i, 3_000 + i) for i in range(48)]
        + [bar("BTCUSDT", DAY, i, 90_000 + i) for i in range(2)],
        "funding_history": [(T0 + k * 8 * HOUR, "bybit", "BTC", 1e-4, 8.0, 1e-4) for k in range(6)],
        # Binance's quotes before its 08:00 settlement: the last one stands for the settled rate.
        "funding": [(T0 + 7 * HOUR, "binance", "BTC", "BTCUSDT", 2e-4, 8.0, 2e-4, 90_000.0, T0 + 8 * HOUR),
                    (T0 + 7 * HOUR + 55 * 60_000, "binance", "BTC", "BTCUSDT", 3e-4, 8.0, 3e-4, 90_000.0,
                     T0 + 8 * HOUR),
                    (T0 + 9 * HOUR, "binance", "BTC", "BTCUSDT", 1e-4, 8.0, 1e-4, 90_000.0, T0 + 16 * HOUR)],
        "open_interest": [(T0 + HOUR, "bybit", "BTC", 1_000.0, 90_000_000.0)],
        "liquidations": [(T0 + 2 * HOUR, "bybit", "BTC", "long", 1.0, 90_000.0, 90_000.0, first)],
        "etf_flows": [("btc", "2026-11-20", "IBIT", -1e8), ("btc", "2026-11-20", "Total", -1.5e8),
                      ("btc", "2026-11-21", "IBIT", 2e7)],
        "macro": [("fear_greed", T0, 23.0, "alternative.me"), ("fear_greed", T0 + DAY, 50.0, "alternative.me"),
                  ("cg.total_mcap_usd", T0 + HOUR, 3.2e12, "coingecko"),
                  ("cg.total_volume_usd", T0 + HOUR, 1e11, "coingecko"),
                  ("cg.share.btc", T0 + HOUR, 58.9, "coingecko"), ("cg.share.usdt", T0 + HOUR, 5.1, "coingecko"),
                  ("equity.SPY.close", T0 - DAY + 14 * HOUR, 600.0, "yahoo"),
                  ("equity.SPY.open", T0 - DAY + 14 * HOUR, 598.0, "yahoo"),
                  ("fred.DGS2", T0 - DAY, 3.9, "fred")],
    }  # fmt: skip
    store.write(rows, heartbeat=(first, T0 + 20 * HOUR))
    second = store.begin_session("collector", T0 + 30 * HOUR, 2)  # ten hours nobody recorded
    store.write({}, heartbeat=(second, T0 + 48 * HOUR))
    store.close()
    return path


def test_each_recorded_table_becomes_what_the_emulator_serves(store_path: Path) -> None:
    dataset = load_store_dataset(store_path)
    assert not dataset.simulated and dataset.name == f"store:{store_path}"
    btc = dataset.spot_klines["BTCUSDT"]
    assert set(btc) == {HOUR, DAY} and len(btc[HOUR]) == 48
    assert btc[HOUR]["open_time"].iloc[0] == T0 and btc[HOUR]["count"].iloc[0] == 42
    assert btc[HOUR]["taker_buy_quote_volume"].iloc[0] == pytest.approx(6.0 * 90_000)
    funding = dataset.funding
    assert funding is not None
    binance = funding[funding["exchange"] == "binance"]
    assert list(binance["time"]) == [T0 + 8 * HOUR] and binance["rate"].iloc[0] == 3e-4  # the last quote before
    assert len(funding[funding["exchange"] == "bybit"]) == 6
    assert any("stands for the settled rate" in n for n in dataset.load_notes)
    oi = dataset.open_interest
    assert oi is not None and oi["price"].iloc[0] == pytest.approx(90_000.0)
    flows = dataset.etf_flows["btc"]
    assert list(flows.index) == [dt.date(2026, 11, 20), dt.date(2026, 11, 21)]
    assert flows.loc[dt.date(2026, 11, 20), "Total"] == -1.5e8 and np.isnan(flows.loc[dt.date(2026, 11, 21), "Total"])
    fng = dataset.fear_greed
    assert fng is not None and list(fng["classification"]) == ["Extreme Fear", "Neutral"]
    assert dataset.global_market is not None and dataset.global_market["pct_btc"].iloc[0] == 58.9
    assert dataset.equities["SPY"]["close"].iloc[0] == 600.0 and dataset.rates["DGS2"]["value"].iloc[0] == 3.9
    assert dataset.liquidations is not None and len(dataset.liquidations) == 1
    # The recording's span and its gap are said; the gap is not filled.
    assert dataset.start_ms is not None and dataset.end_ms is not None
    assert any("2 sessions, 1 gaps" in n and "nothing is filled in" in n for n in dataset.load_notes)


async def test_the_emulator_answers_from_the_recording_up_to_the_replayed_time(store_path: Path) -> None:
    dataset = load_store_dataset(store_path)
    at = T0 + 24 * HOUR
    emu = Emulator(dataset, VirtualClock(start_ms=at, speed=0.0))
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as client:
        response = await client.get("https://data-api.binance.vision/api/v3/klines",
                                    params={"symbol": "ETHUSDT", "interval": "1h", "limit": 1000})  # fmt: skip
        assert response.status_code == 200, response.text
        opens = [row[0] for row in response.json()]
        assert opens[0] == T0 and max(opens) <= at  # nothing after the clock
        ticker = await client.get("https://data-api.binance.vision/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"})
        assert ticker.status_code == 200 and float(ticker.json()["lastPrice"]) > 0


def test_a_demo_store_replays_as_simulated_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    demo = tmp_path / "demo.sqlite"
    store = SqliteStore(demo, "demo", writer=True)
    store.close()
    assert load_store_dataset(demo).simulated
    other = tmp_path / "other.sqlite"
    other.write_bytes(b"not a database at all" * 200)
    with pytest.raises(StoreError, match="not a readable SQLite file"):
        load_store_dataset(other)
