"""``altpulse backtest`` (issue 15): the driver rules over history, checked against a plain loop on a small
synthetic history, and run on the shared replay dataset when it is present."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analytics.backtest import flips_to_active, forward_returns
from emulator.dataset import KLINE_COLUMNS, MarketDataset
from tui.cli import main
from tui.commands.backtest import run_backtest

H = 3_600_000
DAY = 24 * H
T0 = 1_760_000_400_000 - 1_760_000_400_000 % DAY  # a UTC midnight
DAYS = 20
#: Fear & Greed per day: active (<= 25) on days 2-3, 7, 11-12 and 16 with the default threshold; <= 15 on 7 and 16.
FNG = [50, 40, 20, 22, 60, 55, 45, 10, 70, 60, 40, 24, 18, 50, 50, 60, 12, 40, 50, 50]
RULES = [{"id": "fear", "name": "Extreme fear", "meaning": "m",
          "conditions": [{"metric": "fear_greed", "op": "<=", "threshold": 25}]}]  # fmt: skip


def _bars(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    closes = 100.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))
    frame = pd.DataFrame({c: np.nan for c in KLINE_COLUMNS}, index=range(n))
    frame["open_time"] = T0 + np.arange(n, dtype=np.int64) * H
    frame["open"] = frame["high"] = frame["low"] = frame["close"] = closes
    return frame, closes


def _dataset() -> tuple[MarketDataset, dict[str, np.ndarray]]:
    btc, btc_close = _bars(DAYS * 24, 1)
    eth, eth_close = _bars(DAYS * 24, 2)
    fng = pd.DataFrame({"time": T0 + np.arange(DAYS, dtype=np.int64) * DAY, "value": np.array(FNG, dtype=float),
                        "classification": "x"})  # fmt: skip
    data = MarketDataset("synthetic", False, spot_klines={"BTCUSDT": {H: btc}, "ETHUSDT": {H: eth}}, fear_greed=fng,
                         start_ms=T0, end_ms=T0 + DAYS * DAY)  # fmt: skip
    return data, {"btc": btc_close, "eth": eth_close}


def _config() -> SimpleNamespace:
    return SimpleNamespace(drivers_raw=RULES, drivers_file="test.toml", funding=SimpleNamespace(baseline_8h=0.0001),
                           general=SimpleNamespace(coins=("ETH", "SOL")))  # fmt: skip


def _expected(threshold: float, closes: dict[str, np.ndarray], steps: list[int]) -> dict[str, object]:
    """The straightforward loop: the index published by each step, a flip on clear -> active, and the close of the
    last bar finished by t and by t + h."""

    def price(series: np.ndarray, t: int) -> float | None:
        done = [i for i in range(len(series)) if T0 + (i + 1) * H <= t]  # bar i closes at open + 1 h
        if not done or t > T0 + len(series) * H:
            return None
        return float(series[done[-1]])

    def ret(series: np.ndarray, t: int, h: int) -> float | None:
        a, b = price(series, t), price(series, t + h)
        return None if a is None or b is None else (b / a - 1) * 100

    flips, active, prev = [], 0, None
    for t in steps:
        day = min((t - T0) // DAY, DAYS - 1)  # the last value published by t (the end: day 19's, a day old)
        state = "active" if FNG[day] <= threshold else "clear"
        active += state == "active"
        if state == "active" and prev == "clear":
            flips.append(t)
        prev = state
    out: dict[str, object] = {"flips": flips, "active": active}
    for h_name, h in (("1d", DAY), ("7d", 7 * DAY)):
        for name, series in (("btc", closes["btc"]), ("basket", closes["eth"])):
            after = [r for t in flips if (r := ret(series, t, h)) is not None]
            out[f"{name}_{h_name}"] = sum(after) / len(after) if after else None
            every = [r for t in steps if (r := ret(series, t, h)) is not None]
            out[f"{name}_{h_name}_all"] = sum(every) / len(every)
    return out


@pytest.mark.parametrize(("sets", "threshold"), [([], 25.0), (["fear.fear_greed=15"], 15.0), (["fear.0=15"], 15.0)])
def test_flips_and_forward_returns_match_a_plain_loop(sets: list[str], threshold: float) -> None:
    data, closes = _dataset()
    doc = run_backtest(_config(), data, start=None, end=None, step="1h", sets=sets, source="synthetic")
    steps = list(range(T0 + H, T0 + DAYS * DAY + 1, H))  # from the first BTC close observed to the data's end
    assert doc["steps"] == len(steps) and doc["basket_coins"] == ["ETH"]  # SOL has no bars: left out
    want = _expected(threshold, closes, steps)
    (fear,) = doc["drivers"]
    stamp = [pd.Timestamp(t, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ") for t in want["flips"]]
    assert fear["flip_times"] == stamp and fear["flips"] == len(stamp) == (2 if threshold == 15 else 4)
    assert fear["time_active_hours"] == want["active"]
    for series in ("btc", "basket"):
        for h in ("1d", "7d"):
            assert fear["after_flip"][series][f"{h}_pct"] == pytest.approx(want[f"{series}_{h}"])
            assert doc["unconditional"][series][f"{h}_pct"] == pytest.approx(want[f"{series}_{h}_all"])


def test_stale_data_is_unknown_and_does_not_flip() -> None:
    # Days 4-9 missing: the index goes stale 2 days after day 3's, the driver unknown, and no clear -> active flip
    # is invented across the gap (day 3 active, day 10 clear, day 11 active: one flip after it).
    data, _ = _dataset()
    assert data.fear_greed is not None
    data.fear_greed = data.fear_greed[~data.fear_greed["time"].between(T0 + 4 * DAY, T0 + 9 * DAY)]
    doc = run_backtest(_config(), data, start=None, end=None, step="1h", sets=[], source="synthetic")
    (fear,) = doc["drivers"]
    times = [pd.Timestamp(t).value // 1_000_000 for t in fear["flip_times"]]
    assert times == [T0 + 2 * DAY, T0 + 11 * DAY, T0 + 16 * DAY]
    assert fear["known_share"] < 1


def test_flip_and_return_definitions() -> None:
    assert flips_to_active(["active", "clear", "unknown", "active", "unknown", "active", "clear", "active"]) == [3, 7]
    times = np.array([10, 20, 30], dtype=np.int64)
    out = forward_returns(np.array([10, 15, 25]), times, np.array([100.0, 110.0, 121.0]), 10, 100)
    assert out[0] == pytest.approx(10.0) and out[1] == pytest.approx(10.0) and np.isnan(out[2])  # 35 > last price


def test_bad_override_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["backtest", "--replay", str(tmp_path), "--set", "nosuch.x=1"])
    assert info.value.code == 2 and "Traceback" not in capsys.readouterr().err


def test_backtest_on_the_shared_replay(shared_dir, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["backtest", "--replay", str(shared_dir / "data" / "replay"), "--json"])
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "altpulse.backtest/1" and doc["steps"] > 10_000
    drivers = {d["id"]: d for d in doc["drivers"]}
    assert drivers["etf_outflows"]["flips"] > 0 and drivers["extreme_fear"]["flips"] > 0
    for d in drivers.values():
        assert d["flips"] == len(d["per_flip"]) == len(d["flip_times"])
        assert set(d["after_flip"]) == {"btc", "basket"}
    assert drivers["liquidation_cascade"]["flips"] == 0 and drivers["liquidation_cascade"]["unknown_note"]
    assert doc["unconditional"]["btc"]["7d_pct"] is not None
