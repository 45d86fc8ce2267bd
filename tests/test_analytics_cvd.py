"""Tests for analytics.cvd: per-candle delta, CVD, buy/sell ratio and the basket, on hand-computed klines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.cvd import BasketCVD, basket, buy_sell_ratio, candle_delta, cvd
from sources.binance_spot import parse_klines

DAY_MS = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def day(i: int) -> pd.Timestamp:
    return pd.Timestamp(T0 + i * DAY_MS, unit="ms", tz="UTC")


def klines(
    bars: list[tuple[float, float | None]], start_day: int = 0, now_ms: int | None = None
) -> pd.DataFrame:
    """Daily klines through the real parser: each bar is (quote_volume, taker_buy_quote or None = unknown)."""
    rows = []
    for k, (quote, buy) in enumerate(bars):
        open_ms = T0 + (start_day + k) * DAY_MS
        rows.append([open_ms, "1", "1", "1", "1", "1", open_ms + DAY_MS - 1, str(quote), 1, "0.5",
                     None if buy is None else str(buy), "0"])  # fmt: skip
    if now_ms is None:
        now_ms = T0 + (start_day + len(bars)) * DAY_MS + 1  # every bar closed
    return parse_klines(rows, now_ms)


# ---------------------------------------------------------------------------------------- candle_delta / cvd


def test_candle_delta_hand_computed() -> None:
    frame = klines([(100, 70), (200, 50), (80, 40)])
    # 2*70-100 = 40; 2*50-200 = -100; 2*40-80 = 0
    assert candle_delta(frame).tolist() == [40.0, -100.0, 0.0]


def test_candle_delta_unknown_stays_nan() -> None:
    frame = klines([(100, 70), (200, None), (80, 40)])
    delta = candle_delta(frame)
    assert delta.iloc[0] == 40.0
    assert math.isnan(delta.iloc[1])
    assert delta.iloc[2] == 0.0


def test_cvd_cumulative_from_since() -> None:
    frame = klines([(100, 70), (200, 50), (80, 60), (50, 10)])  # deltas 40, -100, 40, -30
    full = cvd(frame, day(0))
    assert full.tolist() == [40.0, -60.0, -20.0, -50.0]
    assert list(full.index) == [day(0), day(1), day(2), day(3)]
    # since inside bar 1 -> the first bar at/after since is bar 2
    later = cvd(frame, day(1) + pd.Timedelta(hours=3))
    assert later.tolist() == [40.0, 10.0]
    assert later.index[0] == day(2)
    # exactly on a bar's open time includes that bar
    assert cvd(frame, day(1)).tolist() == [-100.0, -60.0, -90.0]


def test_cvd_since_after_last_bar_is_empty() -> None:
    assert cvd(klines([(100, 70)]), day(5)).empty


def test_cvd_naive_since_is_utc() -> None:
    frame = klines([(100, 70), (200, 50)])
    assert cvd(frame, pd.Timestamp("2024-01-02")).tolist() == [-100.0]


def test_cvd_unknown_tail_is_nan_not_zero() -> None:
    frame = klines([(100, 70), (200, 50), (80, None), (50, 10)])
    series = cvd(frame, day(0))
    assert series.iloc[:2].tolist() == [40.0, -60.0]
    assert series.iloc[2:].isna().all()  # bar 3 is known but the running total cannot continue
    # starting after the unknown bar, the CVD is known again
    assert cvd(frame, day(3)).tolist() == [-30.0]


# -------------------------------------------------------------------------------------------- buy_sell_ratio


def test_buy_sell_ratio_hand_computed() -> None:
    frame = klines([(100, 70), (200, 50), (80, 40)])
    # buys 160, sells 30 + 150 + 40 = 220
    assert buy_sell_ratio(frame) == pytest.approx(160 / 220)
    # since day 1: buys 90, sells 150 + 40 = 190
    assert buy_sell_ratio(frame, day(1)) == pytest.approx(90 / 190)


def test_buy_sell_ratio_nan_cases() -> None:
    assert math.isnan(buy_sell_ratio(klines([(100, 70), (50, None)])))  # unknown split
    assert math.isnan(buy_sell_ratio(klines([(100, 70)]), day(5)))  # empty window
    assert math.isnan(buy_sell_ratio(klines([(100, 100)])))  # no sell volume: undefined, not infinite
    # the unknown bar before `since` does not matter
    assert buy_sell_ratio(klines([(50, None), (100, 70)]), day(1)) == pytest.approx(70 / 30)


# ---------------------------------------------------------------------------------------------------- basket


def three_coins() -> dict[str, pd.DataFrame]:
    return {
        "AAA": klines([(100, 70), (200, 50), (80, 60), (50, 10)]),  # deltas 40, -100, 40, -30
        "BBB": klines([(10, 8), (20, 12), (40, 10), (30, 30)]),  # deltas 6, 4, -20, 30
        "CCC": klines([(100, 50), (100, None), (100, 50), (100, 90)]),  # unknown on day 1
    }


def test_basket_excludes_unknown_coin_and_sums_the_rest() -> None:
    result = basket(three_coins(), day(0))
    assert isinstance(result, BasketCVD)
    assert result.unknown_coins == ["CCC"]
    assert "taker split unknown from 2024-01-02" in result.unknown_reasons["CCC"]
    assert result.basket_delta.tolist() == [46.0, -96.0, 20.0, 0.0]
    assert result.cumulative.tolist() == [46.0, -50.0, -30.0, -30.0]
    assert result.total == -30.0
    # per-coin frame keeps the unknown coin's known prefix and NaN tail
    assert result.per_coin["AAA"].tolist() == [40.0, -60.0, -20.0, -50.0]
    assert result.per_coin["BBB"].tolist() == [6.0, 10.0, -10.0, 20.0]
    assert result.per_coin["CCC"].iloc[0] == 0.0
    assert result.per_coin["CCC"].iloc[1:].isna().all()
    # basket ratio over AAA + BBB only: buys 190 + 60 = 250; sells 240 + 40 = 280
    assert result.buy_sell_ratio == pytest.approx(250 / 280)
    assert result.interval == pd.Timedelta(days=1)
    assert result.as_of == day(3)


def test_basket_since_filtering_and_unknown_before_since_is_ignored() -> None:
    result = basket(three_coins(), day(2))
    assert result.unknown_coins == []  # CCC's unknown bar is before since
    # day 2: 40 - 20 + 0 = 20; day 3: -30 + 30 + 80 = 80
    assert result.basket_delta.tolist() == [20.0, 80.0]
    assert result.cumulative.tolist() == [20.0, 100.0]
    assert list(result.per_coin.index) == [day(2), day(3)]


def test_basket_summary_table() -> None:
    result = basket(three_coins(), day(0))
    table = result.summary.set_index("coin")
    assert list(table.columns) == ["cumulative_usd", "buy_sell_ratio", "delta_24h_usd", "delta_30d_usd",
                                   "share_of_basket", "provisional", "unknown"]  # fmt: skip
    assert table.loc["AAA", "cumulative_usd"] == -50.0
    assert table.loc["BBB", "cumulative_usd"] == 20.0
    assert table.loc["AAA", "buy_sell_ratio"] == pytest.approx(190 / 240)
    assert table.loc["BBB", "buy_sell_ratio"] == pytest.approx(60 / 40)
    assert table.loc["AAA", "delta_24h_usd"] == -30.0  # last daily bar only
    assert table.loc["BBB", "delta_24h_usd"] == 30.0
    # 4 days of history cannot cover 30 days: unknown, not a partial sum
    assert table["delta_30d_usd"].isna().all()
    # share = cum / sum of |cum| over known coins = -50/70, 20/70
    assert table.loc["AAA", "share_of_basket"] == pytest.approx(-50 / 70)
    assert table.loc["BBB", "share_of_basket"] == pytest.approx(20 / 70)
    assert bool(table.loc["CCC", "unknown"])
    assert (
        table.loc["CCC", ["cumulative_usd", "buy_sell_ratio", "delta_24h_usd", "share_of_basket"]]
        .isna()
        .all()
    )


def test_basket_window_deltas_use_full_history_not_since() -> None:
    frames = {"AAA": klines([(100, 60)] * 40)}  # delta +20 a day for 40 days
    result = basket(frames, day(35))
    row = result.summary.iloc[0]
    assert row["cumulative_usd"] == 100.0  # days 35..39
    assert row["delta_24h_usd"] == 20.0
    assert row["delta_30d_usd"] == 600.0  # days 10..39, before `since`
    custom = basket(frames, day(35), windows={"7d": pd.Timedelta(days=7)})
    assert custom.summary.iloc[0]["delta_7d_usd"] == 140.0


def test_basket_change_over_window() -> None:
    frames = {"AAA": klines([(100, 60)] * 40), "BBB": klines([(100, 45)] * 40)}  # +20 and -10 a day
    result = basket(frames, day(0))
    assert result.change(pd.Timedelta(days=30)) == pytest.approx(300.0)
    assert result.change(pd.Timedelta(days=40)) == pytest.approx(400.0)  # exactly the full history
    assert math.isnan(result.change(pd.Timedelta(days=41)))  # longer than the history since `since`
    short = basket(frames, day(20))
    assert math.isnan(short.change(pd.Timedelta(days=30)))  # since too recent for a 30-day change
    assert short.change(pd.Timedelta(days=20)) == pytest.approx(200.0)


def test_basket_stale_and_empty_coins_are_unknown() -> None:
    frames = {
        "AAA": klines([(100, 70), (200, 50), (80, 60)]),
        "OLD": klines([(100, 70), (200, 50)]),  # no bar at the basket's latest time
        "NIL": klines([]),
    }
    result = basket(frames, day(0))
    assert result.unknown_coins == ["OLD", "NIL"]
    assert result.unknown_reasons["NIL"] == "no data"
    assert result.unknown_reasons["OLD"].startswith("stale")
    assert result.cumulative.tolist() == [40.0, -60.0, -20.0]


def test_basket_listing_mid_window_and_gap() -> None:
    frames = {
        "AAA": klines([(100, 70), (200, 50), (80, 60), (50, 10)]),  # 40, -100, 40, -30
        "NEW": klines([(10, 8), (20, 0)], start_day=2),  # listed on day 2: 6, -20
    }
    # GAP trades days 0, 1, 3 (no kline on day 2): deltas 2, 4, 6
    gap_rows = klines([(10, 6), (10, 7), (10, 8), (10, 8)])
    frames["GAP"] = gap_rows.drop(index=day(2))
    result = basket(frames, day(0))
    assert result.unknown_coins == []
    assert result.per_coin["NEW"].iloc[:2].isna().all()  # not trading yet
    assert result.per_coin["NEW"].iloc[2:].tolist() == [6.0, -14.0]
    assert result.per_coin["GAP"].tolist() == [2.0, 6.0, 6.0, 12.0]  # carried over the gap
    assert result.basket_delta.tolist() == [42.0, -96.0, 46.0, -44.0]


def test_basket_provisional_flag() -> None:
    closed = basket({"AAA": klines([(100, 70), (200, 50)])}, day(0))
    assert not closed.includes_provisional
    now_inside_last_bar = T0 + DAY_MS + 3_600_000
    open_bar = basket({"AAA": klines([(100, 70), (200, 50)], now_ms=now_inside_last_bar)}, day(0))
    assert open_bar.includes_provisional
    assert bool(open_bar.summary.iloc[0]["provisional"])
    # a provisional bar before `since` does not count
    assert not basket({"AAA": klines([(100, 70)], now_ms=T0 + 1)}, day(1)).includes_provisional


def test_basket_empty_inputs() -> None:
    result = basket({}, day(0))
    assert result.cumulative.empty and math.isnan(result.total) and math.isnan(result.buy_sell_ratio)
    assert math.isnan(result.change(pd.Timedelta(days=1)))
    only_nil = basket({"NIL": klines([])}, day(0))
    assert only_nil.unknown_coins == ["NIL"]


def test_basket_matches_single_coin_functions() -> None:
    rng = np.random.default_rng(7)
    frames = {}
    for coin in ("A", "B", "C"):
        quote = rng.uniform(1e5, 1e6, 60)
        frames[coin] = klines(list(zip(quote, quote * rng.uniform(0.3, 0.7, 60), strict=True)))
    result = basket(frames, day(10))
    for coin, frame in frames.items():
        np.testing.assert_allclose(result.per_coin[coin].to_numpy(), cvd(frame, day(10)).to_numpy())
        row = result.summary.set_index("coin").loc[coin]
        assert row["buy_sell_ratio"] == pytest.approx(buy_sell_ratio(frame, day(10)))
    expected_total = sum(cvd(f, day(10)).iloc[-1] for f in frames.values())
    assert result.total == pytest.approx(expected_total)


def test_basket_for_200_coins_x_400_days() -> None:
    rng = np.random.default_rng(0)
    quote = rng.uniform(1e5, 1e6, 400)
    base = klines(list(zip(quote, quote * 0.5, strict=True)))
    frames = {}
    for c in range(200):
        frame = base.copy()
        frame["taker_buy_quote"] = frame["quote_volume"] * rng.uniform(0.3, 0.7, 400)
        frames[f"C{c}"] = frame
    result = basket(frames, day(300))  # speed is measured by benchmarks/analytics_recompute.py, not here
    assert result.per_coin.shape == (100, 200)
    expected = sum(float((2 * f["taker_buy_quote"] - f["quote_volume"]).iloc[300:].sum()) for f in frames.values())
    assert result.total == pytest.approx(expected, rel=1e-9)


def test_basket_same_result_without_the_fast_column_accessor(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = basket(three_coins(), day(0))
    monkeypatch.delattr(pd.DataFrame, "_get_column_array", raising=False)
    slow = basket(three_coins(), day(0))
    pd.testing.assert_frame_equal(fast.per_coin, slow.per_coin)
    pd.testing.assert_frame_equal(fast.summary, slow.summary)
    assert fast.unknown_coins == slow.unknown_coins


def test_basket_with_every_coin_unknown_is_nan_not_zero() -> None:
    frames = {"AAA": klines([(100, None), (200, None)]), "BBB": klines([(50, 20), (80, None)])}
    result = basket(frames, day(0))
    assert result.unknown_coins == ["AAA", "BBB"]
    assert len(result.cumulative) == 2 and result.cumulative.isna().all()
    assert math.isnan(result.total) and math.isnan(result.buy_sell_ratio)
    assert math.isnan(result.change(pd.Timedelta(days=1)))
    assert result.summary["share_of_basket"].isna().all()
