"""Replay tells the truth: a small dataset with known answers, checked figure by figure at several ``--at`` instants.

The dataset (written by :func:`build`) has everything real collectors produce: a coarse BTC spot file with a finer
one starting part-way through a coarse bar (a seam), a missing hour in the finer file (a gap), a row repeated
identically and a bar that two files disagree on, ETF flows and index closes stamped on Thanksgiving (not a
session), an ETF day listed twice, a Fear & Greed file and an ETH file that end early. Every expectation is
computed here from the rows this file writes, never read back from the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tui.commands.snapshot import collect_snapshot
from tui.runtime.config import load_config
from tui.runtime.modes import UsageError

HOUR = 3_600_000
H4 = 4 * HOUR
DAY = 24 * HOUR
T0 = int(pd.Timestamp("2025-11-20", tz="UTC").value // 1_000_000)  # Thursday
SEAM = int(pd.Timestamp("2025-11-26 02:00", tz="UTC").value // 1_000_000)  # the 1h file starts inside a 4h bar
GAP = int(pd.Timestamp("2025-11-26 10:00", tz="UTC").value // 1_000_000)  # an hour the 1h file lacks
FINE_END = int(pd.Timestamp("2025-11-27 23:00", tz="UTC").value // 1_000_000)  # the 1h file's last bar
LAST_4H = int(pd.Timestamp("2025-11-28 20:00", tz="UTC").value // 1_000_000)
HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
)


def ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def coarse_bar(t: int) -> dict[str, float]:
    """The 4h BTC spot bar opening at ``t``: prices step up 100 a bar; volume 40 BTC; taker buys 40% of quote."""
    i = (t - T0) // H4
    o = 100_000.0 + 100 * i
    return {"open": o, "high": o + 300, "low": o - 200, "close": o + 100, "volume": 40.0, "quote": 40.0 * o,
            "taker_quote": 0.4 * 40.0 * o}  # fmt: skip


def fine_bar(t: int) -> dict[str, float]:
    """The 1h BTC spot bar opening at ``t``, a quarter of its 4h bar (prices inside the 4h range)."""
    parent = coarse_bar(t - (t - T0) % H4)
    k = ((t - T0) % H4) // HOUR
    o = parent["open"] + 25 * k
    return {"open": o, "high": o + 40, "low": o - 20, "close": o + 25, "volume": 10.0, "quote": 10.0 * o,
            "taker_quote": 0.6 * 10.0 * o}  # fmt: skip


def kline_line(t: int, bar: dict[str, float], length: int) -> str:
    taker_base = bar["taker_quote"] / bar["open"]
    return (f"{t},{bar['open']},{bar['high']},{bar['low']},{bar['close']},{bar['volume']},{t + length - 1},"
            f"{bar['quote']},100,{taker_base},{bar['taker_quote']},0")  # fmt: skip


def build(root: Path) -> None:
    spot = root / "binance_spot"
    spot.mkdir(parents=True)
    coarse = [kline_line(t, coarse_bar(t), H4) for t in range(T0, LAST_4H + 1, H4)]
    (spot / "BTCUSDT_4h.csv").write_text("\n".join([HEADER, *coarse]) + "\n")
    fine_times = [t for t in range(SEAM, FINE_END + 1, HOUR) if t != GAP]
    fine = [kline_line(t, fine_bar(t), HOUR) for t in fine_times]
    dup = fine[3]  # an identical repeat of the 05:00 bar
    (spot / "BTCUSDT_1h.csv").write_text("\n".join([HEADER, *fine[:4], dup, *fine[4:]]) + "\n")
    # A second daily file disagrees on one bar (a re-fetch of a partial bar): later file wins, both reported.
    conflict_t = ms("2025-11-27 12:00")
    changed = dict(fine_bar(conflict_t), close=fine_bar(conflict_t)["close"] + 7)
    (spot / "BTCUSDT-1h-2025-11-27b.csv").write_text(HEADER + "\n" + kline_line(conflict_t, changed, HOUR) + "\n")
    # The basket: SOL for the whole span (taker split known), ETH ending early.
    for coin, last, scale in (("SOL", LAST_4H, 0.002), ("ETH", ms("2025-11-24 20:00"), 0.03)):
        rows = []
        for t in range(T0, last + 1, H4):
            bar = {k: v * scale if k in ("open", "high", "low", "close") else v for k, v in coarse_bar(t).items()}
            bar["quote"], bar["taker_quote"] = 1000.0, 450.0
            rows.append(kline_line(t, bar, H4))
        (spot / f"{coin}USDT_4h.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    # ETF flows (US$M): sessions from Nov 17; Thanksgiving (Nov 27) carries a zero placeholder row; Nov 20 twice
    # (identical), Nov 21 twice (disagreeing: the later one is kept and reported).
    sessions = ["2025-11-17", "2025-11-18", "2025-11-19", "2025-11-20", "2025-11-21", "2025-11-24", "2025-11-25",
                "2025-11-26", "2025-11-28"]  # fmt: skip
    flows = {"2025-11-17": 50, "2025-11-18": -10, "2025-11-19": -20, "2025-11-20": -30, "2025-11-21": 40,
             "2025-11-24": -60, "2025-11-25": -70, "2025-11-26": -80, "2025-11-28": -90}  # fmt: skip
    daily = [{"date": d, "flows": {"IBIT": flows[d], "FBTC": 0.0}, "total": flows[d]} for d in sessions]
    daily.insert(4, dict(daily[3]))  # Nov 20 again, identical
    daily.insert(6, {"date": "2025-11-21", "flows": {"IBIT": 41.0, "FBTC": 0.0}, "total": 41.0})
    daily.insert(9, {"date": "2025-11-27", "flows": {"IBIT": 0.0, "FBTC": 0.0}, "total": 0.0})
    (root / "etf.json").write_text(json.dumps({"metadata": {"description": "flows (US$M)"}, "daily_flows": daily}))
    # S&P 500 closes with a carried-forward Thanksgiving close.
    closes = {"2025-11-13": 6700, "2025-11-14": 6710, "2025-11-17": 6690, "2025-11-18": 6650, "2025-11-19": 6660,
              "2025-11-20": 6600, "2025-11-21": 6620, "2025-11-24": 6580, "2025-11-25": 6560, "2025-11-26": 6540,
              "2025-11-27": 6540, "2025-11-28": 6400}  # fmt: skip
    macro = ["date,spx_close", *(f"{d},{c}" for d, c in closes.items())]
    (root / "macro.csv").write_text("\n".join(macro) + "\n")
    # Bybit BTC funding settlements every 8 h (no open-interest file: funding must not depend on one).
    funding = ["ts,fundingRate"]
    for i, t in enumerate(range(T0, LAST_4H + 1, 8 * HOUR)):
        funding.append(f"{pd.Timestamp(t, unit='ms', tz='UTC').isoformat()},{0.0001 + i * 1e-6}")
    (root / "bybit_BTCUSDT_funding.csv").write_text("\n".join(funding) + "\n")
    # Fear & Greed ends on Nov 24.
    fng = ["date,timestamp,value,classification"]
    for day in pd.date_range("2025-11-01", "2025-11-24", tz="UTC"):
        fng.append(f"{day:%Y-%m-%d},{int(day.timestamp())},20,Extreme Fear")
    (root / "fng.csv").write_text("\n".join(fng) + "\n")


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay-truth")
    build(root)
    return root


def snapshot(root: Path, at: str | None) -> dict:
    import asyncio

    config = load_config(use_user_file=False).with_overrides("general", coins=["ETH", "SOL"])
    return asyncio.run(collect_snapshot(config, "replay", root, at))


def test_loader_reports_seam_duplicates_and_holidays(dataset_dir: Path) -> None:
    from emulator.replay import load_replay

    load = load_replay(dataset_dir)
    notes = "\n".join(load.notes)
    assert "1 identical duplicate BTCUSDT binance_spot bar" in notes
    assert "conflicting duplicate BTCUSDT binance_spot bar at 2025-11-27 12:00 UTC" in notes
    assert "BTCUSDT_1h.csv:" in notes and "BTCUSDT-1h-2025-11-27b.csv:2" in notes
    assert "1 identical duplicate ETF day row dropped" in notes
    assert "conflicting duplicate ETF day 2025-11-21" in notes and "daily_flows[6]" in notes
    assert "etf.json: 1 ETF flow row on non-session days dropped (2025-11-27)" in notes
    assert "macro.csv: closes on 1 non-session days dropped (2025-11-27)" in notes
    ds = load.dataset
    assert ds.etf_flows["btc"].loc[pd.Timestamp("2025-11-21").date(), "Total"] == pytest.approx(41e6)
    # Default --at: the last complete time common to the files that reach the end (BTC 4h and SOL 4h, whose last
    # rows open at 20:00); the 1h file and ETH ended earlier and are named.
    assert ds.end_ms == LAST_4H
    assert "ended earlier" in ds.end_note and "ETHUSDT" in ds.end_note and "BTCUSDT 1h" in ds.end_note


def test_inside_an_open_coarse_bar_only_its_open_is_known(dataset_dir: Path) -> None:
    # 01:30 on Nov 26: inside the 00:00-04:00 4h bar, before the 1h file starts at 02:00.
    doc = snapshot(dataset_dir, "2025-11-26T01:30:00Z")
    bar = coarse_bar(ms("2025-11-26"))
    assert doc["btc"]["price"] == pytest.approx(bar["open"])  # not its close, not a line towards it
    assert doc["btc"]["market"] == "binance_spot"
    assert doc["btc"]["price_as_of"] == "2025-11-26T00:00:00Z"
    assert doc["btc"]["status"] == "stale"  # 90 minutes old: marked, never shown as live
    assert doc["sources"]["btc_ticker"]["as_of"] == "2025-11-26T01:30:00Z"  # on the replay clock
    # The 24 h base: the price 24 h earlier is the open of the 4h bar that was running then (Nov 25 00:00).
    base = coarse_bar(ms("2025-11-25"))["open"]
    assert doc["btc"]["change_24h_pct"] == pytest.approx((bar["open"] / base - 1) * 100, abs=1e-3)


def test_inside_an_open_fine_bar_the_finer_file_answers(dataset_dir: Path) -> None:
    doc = snapshot(dataset_dir, "2025-11-26T06:20:00Z")
    now_bar = fine_bar(ms("2025-11-26 06:00"))
    assert doc["btc"]["price"] == pytest.approx(now_bar["open"])
    assert doc["btc"]["status"] == "stale"  # 20 min old (its open), older than the 5-minute rule
    # 1 h change: the price at 06:00 against the close observed one hour before (the 05:00 bar's close at 06:00
    # is the newest observation; one hour earlier the 04:00 bar's close at 05:00): 60 minutes apart.
    newest, hour_ago = fine_bar(ms("2025-11-26 05:00"))["close"], fine_bar(ms("2025-11-26 04:00"))["close"]
    assert doc["btc"]["change_1h_pct"] == pytest.approx((newest / hour_ago - 1) * 100)


def test_seam_and_gap_are_filled_from_the_coarse_bars(dataset_dir: Path) -> None:
    import asyncio

    import httpx

    from emulator.clock import VirtualClock
    from emulator.core import Emulator
    from emulator.replay import load_replay_dataset
    from emulator.transport import EmulatorTransport

    emu = Emulator(load_replay_dataset(dataset_dir), VirtualClock(start_ms=ms("2025-11-27 00:00"), speed=0))

    async def daily() -> list:
        async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as c:
            r = await c.get("https://x/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1d", "limit": 3})
            return r.json()

    day = next(row for row in asyncio.run(daily()) if row[0] == ms("2025-11-26"))
    # Nov 26: 00:00-02:00 from the 4h bar's remainder (40 - 2 x 10 BTC), 02:00-24:00 from 1h bars except the
    # missing 10:00 hour, which the 08:00 4h bar's remainder fills (40 - 3 x 10): no interval is left empty.
    fine_hours = [t for t in range(SEAM, ms("2025-11-27"), HOUR) if t != GAP]
    expected_quote = sum(fine_bar(t)["quote"] for t in fine_hours)
    first4, gap4 = coarse_bar(ms("2025-11-26")), coarse_bar(ms("2025-11-26 08:00"))
    expected_quote += (first4["quote"] - sum(fine_bar(t)["quote"] for t in (SEAM, SEAM + HOUR)))
    expected_quote += gap4["quote"] - sum(fine_bar(t)["quote"] for t in (GAP - 2 * HOUR, GAP - HOUR, GAP + HOUR))
    assert float(day[5]) == pytest.approx(24 * 10.0)  # volume: every hour accounted once
    assert float(day[7]) == pytest.approx(expected_quote)
    assert float(day[1]) == pytest.approx(first4["open"])  # the day opens with the 4h bar, not at 02:00


def test_stale_after_a_file_ends_and_proxy_and_holidays(dataset_dir: Path) -> None:
    doc = snapshot(dataset_dir, None)  # the default --at: Nov 28 20:00
    assert doc["as_of"] == "2025-11-28T20:00:00Z"
    assert any("default --at 2025-11-28 20:00 UTC" in n for n in doc["replay"]["notes"])
    # Fear & Greed ended on Nov 24: four days old on the replay clock -> stale, and its driver unknown.
    assert doc["sources"]["fear_greed"]["status"] == "stale"
    assert "data to 2025-11-24" in doc["sources"]["fear_greed"]["detail"]
    drivers = {d["id"]: d for d in doc["drivers"]}
    assert drivers["extreme_fear"]["state"] == "unknown"
    # ETH ended on Nov 24: excluded from the basket as stale, never counted as flat.
    assert "ETH" in doc["cvd"]["basket"]["excluded"]
    assert "stale" in doc["cvd"]["coins"]["ETH"]["error"]
    # The market CVD counts the pairs the replay has, from their first bar (after cvd.start): SOL alone, its 53
    # 4h bars to 16:00 each 2 x 450 - 1000 = -100 (the open 20:00 bar has no volume yet); ETH stale, BTC left out.
    market = doc["cvd"]["market"]
    assert market["pairs"] == 1 and market["listed_after_start"] == ["SOL"]
    assert market["cumulative_usd"] == pytest.approx(-53 * 100.0)
    assert market["buy_sell_ratio"] == pytest.approx(450 / 550) and market["change_30d_usd"] is None
    assert set(market["excluded"]) == {"ETH"} and "stale" in market["excluded"]["ETH"]
    # SPY has no file: the S&P 500 index stands in, labelled. At 20:00 the close-only Nov 28 session has not
    # closed yet, so the newest close is Nov 26's, five sessions after Nov 19's.
    assert doc["macro"]["spy_source"] == "^GSPC (proxy for SPY)"
    assert doc["macro"]["spy_5d_pct"] == pytest.approx((6540 / 6660 - 1) * 100)
    # ETF: Nov 28's row is published at 21:00, so the newest day is Nov 26 and the outflow streak runs Nov 24,
    # 25, 26 = 3 days. The holiday's $0 placeholder is gone: with it the newest day would be a flat Nov 27.
    assert doc["etf"]["last_day"] == "2025-11-26" and doc["etf"]["streak_days"] == -3
    assert doc["etf"]["net_flow_usd"] == pytest.approx(-80e6)
    # Bybit funding without any open-interest sample: the venue's funding is still there (the last settlement,
    # Nov 28 16:00, is the 26th: 0.0001 + 26e-6).
    assert doc["funding"]["rates"]["BTC"]["bybit"] == pytest.approx(0.0001 + 26e-6)
    # No DefiLlama or CoinGecko files: the stablecoin chart is "unavailable here" (asked rarely, not retried in a
    # loop), and the dominance and stablecoin drivers stay unknown, saying what they wait for.
    stables = doc["sources"]["llama_stablecoins"]
    assert stables["status"] == "unavailable" and "no stablecoin supply chart here" in stables["detail"]
    assert drivers["stablecoin_rotation"]["state"] == "unknown" and drivers["stablecoin_rotation"]["value"] is None
    assert drivers["btc_dominance_rising"]["state"] == "unknown"
    # No liquidation files: the totals are unknown (null), never $0.
    assert doc["liquidations"]["long_usd"] is None and doc["liquidations"]["short_usd"] is None
    assert doc["liquidations"]["cascade"] is None


def test_holiday_is_not_a_session(dataset_dir: Path) -> None:
    # After Nov 28's close: five sessions back is Nov 20 (Nov 26, 25, 24, 21, 20), not Nov 21 as it would be with
    # the carried-forward Thanksgiving close counted as a session.
    doc = snapshot(dataset_dir, "2025-11-28T22:00:00Z")
    assert doc["macro"]["spy_5d_pct"] == pytest.approx((6400 / 6600 - 1) * 100)


def test_at_outside_the_data_is_refused_with_the_span(dataset_dir: Path) -> None:
    with pytest.raises(UsageError, match=r"outside the replay data, which spans 2025-11-01 00:00 UTC to"):
        snapshot(dataset_dir, "2024-06-01T00:00:00Z")
    with pytest.raises(UsageError, match="outside the replay data"):
        snapshot(dataset_dir, "2026-06-01T00:00:00Z")


def test_cli_text_snapshot_prints_every_section(dataset_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    with pytest.raises(SystemExit):
        main(["snapshot", "--replay", str(dataset_dir), "--coins", "ETH,SOL"])
    out = capsys.readouterr().out
    for section in ("BTC (binance_spot)", "Altcoin basket CVD", "Funding (per 8h)", "Open interest",
                    "Liquidations 1h", "BTC ETF flows", "Macro:", "Key drivers", "Sources:"):  # fmt: skip
        assert section in out
    assert "(nothing recorded)" in out and "^GSPC (proxy for SPY)" in out
