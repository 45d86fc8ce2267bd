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


# --- the 30-day dominance and stablecoin-share changes estimated before 30 days of /global snapshots exist


def _markets(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame({"id": [r[0] for r in rows], "symbol": [r[0][:3].upper() for r in rows],
                         "market_cap": [r[1] for r in rows], "change_30d_pct": [r[2] for r in rows]})  # fmt: skip


def test_market_then_by_hand():
    # BTC 60 now after +20% (50 then), ETH 30 after -25% (40 then), a stablecoin 10 flat: 100 now, 100 then.
    then = macro.market_then(_markets([("bitcoin", 60, 20), ("ethereum", 30, -25), ("tether", 10, 0)]),
                             min_coins=2)  # fmt: skip
    assert then.cap_ratio == pytest.approx(1.0) and then.btc_ratio == pytest.approx(50 / 60)
    assert then.n_coins == 3 and then.n_left_out == 0 and then.note == ""
    # A coin listed inside the window (no change) and an impossible -100% are left out of both sums and counted.
    then = macro.market_then(_markets([("bitcoin", 60, 20), ("ethereum", 30, -25), ("tether", 10, 0),
                                       ("newcoin", 50, math.nan), ("dead", 5, -100)]), min_coins=2)  # fmt: skip
    assert then.cap_ratio == pytest.approx(1.0) and then.n_coins == 3 and then.n_left_out == 2
    assert "2 coins" in then.note
    # ETH doubled instead: 60 + 15 + 10 = 85 then against 100 now.
    then = macro.market_then(_markets([("bitcoin", 60, 20), ("ethereum", 30, 100), ("tether", 10, 0)]),
                             min_coins=2)  # fmt: skip
    assert then.cap_ratio == pytest.approx((50 + 15 + 10) / 100)


def test_market_then_unknown_without_btc_or_enough_coins():
    no_btc = macro.market_then(_markets([("bitcoin", 60, math.nan), ("ethereum", 30, 5)]), min_coins=1)
    assert not no_btc.known and "BTC" in no_btc.note
    few = macro.market_then(_markets([("bitcoin", 60, 1), ("ethereum", 30, 5)]), min_coins=20)
    assert not few.known and "only 2 coins" in few.note


def test_estimated_dominance_change_by_hand():
    then = macro.market_then(_markets([("bitcoin", 60, 20), ("ethereum", 30, -25), ("tether", 10, 0)]),
                             min_coins=2)  # fmt: skip
    # The top coins are 95% of the market: /global says BTC is 57% of it (60 / 105.26). Then: BTC 50 of the top
    # coins' 100, scaled by the same 95%: 47.5%. The change is +9.5 points.
    end = pd.Timestamp("2026-11-23 12:00", tz="UTC")
    change = macro.estimated_dominance_change(then, 57.0, end_time=end, window=pd.Timedelta(days=30))
    total_now = 60 / 0.57
    assert change.start == pytest.approx(50 / 100 * (100 / total_now) * 100)  # the formula as stated, by hand
    assert change.start == pytest.approx(47.5) and change.end == 57.0 and change.value == pytest.approx(9.5)
    assert change.end_time == end and change.start_time == end - pd.Timedelta(days=30)
    # Alts outperforming BTC: dominance fell. BTC flat, ETH doubled: then BTC 60 of 85.
    then = macro.market_then(_markets([("bitcoin", 60, 0), ("ethereum", 30, 100), ("tether", 10, 0)]),
                             min_coins=2)  # fmt: skip
    assert macro.estimated_dominance_change(then, 60.0).start == pytest.approx(60 / 85 * 100)
    unknown = macro.estimated_dominance_change(macro.market_then(_markets([("bitcoin", 1, 1)])), 57.0)
    assert math.isnan(unknown.value) and unknown.end == 57.0 and "only 1" in unknown.note


def test_estimated_stablecoin_share_change_by_hand():
    # BTC flat (60), ETH doubled (15 then), the stablecoin 10: the market was 85 of today's 100.
    then = macro.market_then(_markets([("bitcoin", 60, 0), ("ethereum", 30, 100), ("tether", 10, 0)]),
                             min_coins=2)  # fmt: skip
    days = pd.date_range("2026-10-01", periods=41, freq="D", tz="UTC")
    supply = pd.Series(np.linspace(200e9, 240e9, 41), index=days)  # +$1B a day
    now = pd.Timestamp("2026-11-05 06:00", tz="UTC")  # the newest day at or before: Nov 5 (235B); Oct 6 (205B)
    change = macro.estimated_stablecoin_share_change(then, 8.0, supply, pd.Timedelta(days=30), now=now)
    # The stablecoins were 205/235 of today's, the market 85/100 of today's: 8 * (205/235) / 0.85.
    assert change.start == pytest.approx(8.0 * (205 / 235) / 0.85)
    assert change.value == pytest.approx(8.0 - 8.0 * (205 / 235) / 0.85)
    short = macro.estimated_stablecoin_share_change(then, 8.0, supply[:20], pd.Timedelta(days=30))
    assert math.isnan(short.value) and short.note.startswith("stablecoin supply: history covers")
