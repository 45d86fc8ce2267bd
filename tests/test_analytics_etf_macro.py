"""ETF flow and macro analytics: formulas on small hand-checked inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics import etf, macro


def flows(totals: list[float], partial_last: bool = False) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.bdate_range("2025-10-06", periods=len(totals)), name="date")
    frame = pd.DataFrame({"IBIT": np.array(totals) * 0.6, "GBTC": np.array(totals) * 0.4, "Total": totals},
                         index=index)  # fmt: skip
    if partial_last:
        frame.iloc[-1] = [12e6, np.nan, np.nan]
    return frame


def test_net_flow_sum_streak_and_largest_outflow():
    f = flows([100e6, 50e6, -20e6, -300e6, -40e6])
    assert etf.net_flow_sum(f, 3).value == pytest.approx(-360e6)
    assert etf.net_flow_sum(f, 3).as_of.isoformat() == "2025-10-10"
    assert etf.current_streak(f) == -3 and etf.outflow_streak_days(f) == 3
    worst = etf.largest_outflow(f, 10)
    assert worst.value == pytest.approx(-300e6) and worst.as_of.isoformat() == "2025-10-09"
    assert "only 5" in worst.note
    assert etf.cumulative_flows(f).iloc[-1] == pytest.approx(-210e6)
    assert etf.current_streak(flows([-1e6, 5e6, 6e6])) == 2
    assert etf.current_streak(flows([-1e6, 0.0])) == 0


def test_partial_day_is_left_out_never_zero():
    f = flows([-10e6, -20e6, -30e6, 99e6], partial_last=True)
    assert etf.net_flow_sum(f, 3, partial_last=True).value == pytest.approx(-60e6)
    assert etf.outflow_streak_days(f, partial_last=True) == 3
    part = etf.partial_day(f, True)
    assert part.reported == ["IBIT"] and part.pending == ["GBTC"] and part.reported_sum == 12e6
    short = etf.net_flow_sum(flows([1e6]), 3)
    assert math.isnan(short.value) and "only 1" in short.note
    assert etf.partial_day(f, False) is None


def test_window_change_notes_short_history():
    idx = pd.date_range("2025-10-01", periods=10, freq="D", tz="UTC")
    dom = pd.Series(np.linspace(57, 58, 10), index=idx)
    short = macro.btc_dominance_change(dom, 30)
    assert math.isnan(short.value) and "history covers" in short.note and short.end == pytest.approx(58)
    ok = macro.btc_dominance_change(dom, 5)
    assert ok.value == pytest.approx(58 - np.linspace(57, 58, 10)[4])
    frame = pd.DataFrame({"time": idx.as_unit("ms").asi8, "stablecoin_share_pct": np.linspace(7, 8, 10)})
    assert macro.stablecoin_share_change(frame, 9).value == pytest.approx(1.0)


@pytest.mark.parametrize("times", [
    pd.date_range("2025-10-01", periods=10, freq="D", tz="UTC"),  # tz-aware timestamps: a pandas extension dtype
    pd.date_range("2025-10-01", periods=10, freq="D").strftime("%Y-%m-%d"),  # ISO strings (pandas 3: str dtype)
    pd.date_range("2025-10-01", periods=10, freq="D", tz="UTC").as_unit("ms").asi8,  # epoch ms
])  # fmt: skip
def test_window_change_reads_a_time_column_of_any_kind(times):
    # numpy cannot interpret pandas' extension dtypes: timestamps and strings once raised TypeError here.
    frame = pd.DataFrame({"time": times, "btc_dominance_pct": np.linspace(57, 58, 10)})
    change = macro.btc_dominance_change(frame, 9)
    assert change.value == pytest.approx(1.0) and change.end_time == pd.Timestamp("2025-10-10", tz="UTC")


def test_alt_mcap():
    assert macro.alt_mcap_ex_btc_eth(3.5e12, 58.0, 11.0) == pytest.approx(3.5e12 * 0.31)


def test_small_vs_large_cap_weighted():
    caps = np.concatenate([np.full(50, 10e9), np.full(50, 1e9)])
    changes = np.concatenate([np.full(50, -5.0), np.full(50, -25.0)])
    markets = pd.DataFrame({"symbol": [f"C{i}" for i in range(100)], "market_cap": caps,
                            "change_30d_pct": changes})  # fmt: skip
    split = macro.small_vs_large_cap_return(markets)
    assert split.large_return_pct == pytest.approx(-5.0) and split.small_return_pct == pytest.approx(-25.0)
    assert split.value_pp == pytest.approx(-20.0)
    markets.loc[99, "change_30d_pct"] = np.nan
    assert "1 coins" in macro.small_vs_large_cap_return(markets).note
    # Weights are the caps at the window start: a +100% and a -50% coin of equal current cap -> -20%.
    assert macro._basket_return(np.array([2.0, 2.0]), np.array([100.0, -50.0])) == pytest.approx(-20.0)
    assert math.isnan(macro.small_vs_large_cap_return(markets.head(60)).value_pp)


def test_spy_and_yield_change():
    idx = pd.bdate_range("2025-10-01", periods=7, tz="UTC")
    closes = pd.Series([100, 101, 102, 100, 99, 98, 98.94], index=idx, dtype=float)
    change = macro.spy_change(closes, 5)
    assert change.value == pytest.approx((98.94 / 101 - 1) * 100)
    assert math.isnan(macro.spy_change(closes.head(3), 5).value)
    days = pd.DatetimeIndex(pd.bdate_range("2025-10-01", "2025-10-20"), name="date")
    values = pd.Series(np.linspace(3.5, 3.8, len(days)), index=days)
    values.iloc[-1] = np.nan  # holiday: not an observation
    y = macro.yield_change(values, 10)
    assert y.end_time == days[-2] and y.start_time <= days[-2] - pd.Timedelta(days=10)
    assert y.value == pytest.approx(
        values.iloc[-2] - values[values.index <= days[-2] - pd.Timedelta(days=10)].iloc[-1]
    )
