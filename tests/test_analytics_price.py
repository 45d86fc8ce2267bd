"""Tests for analytics.price: ATH / drawdown, 1 h change, pct_change_over edge cases, downsampling."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.price import btc_figures, downsample, pct_change_over

T0 = pd.Timestamp("2024-03-01 00:00", tz="UTC")


def minutes(values: list[float], start: pd.Timestamp = T0) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="1min"), dtype=float)


def history(highs: list[float]) -> pd.DataFrame:
    index = pd.date_range("2021-01-01", periods=len(highs), freq="MS", tz="UTC")
    return pd.DataFrame({"high": highs, "close": [h * 0.9 for h in highs]}, index=index)


def intraday(closes: list[float], highs: list[float] | None = None) -> pd.DataFrame:
    series = minutes(closes)
    return pd.DataFrame({"close": series, "high": highs if highs is not None else series.to_numpy()},
                        index=series.index)  # fmt: skip


# ------------------------------------------------------------------------------------------- pct_change_over


def test_pct_change_over_hand_computed() -> None:
    series = minutes([100.0 + i for i in range(61)])  # 00:00 .. 01:00, value 100 .. 160
    assert pct_change_over(series, pd.Timedelta(hours=1)) == pytest.approx(60.0)  # 160 vs 100 at 00:00
    assert pct_change_over(series, pd.Timedelta(minutes=30)) == pytest.approx((160 / 130 - 1) * 100)


def test_pct_change_over_uses_value_just_before_the_start() -> None:
    index = pd.DatetimeIndex([T0, T0 + pd.Timedelta(minutes=20), T0 + pd.Timedelta(minutes=90)])
    series = pd.Series([50.0, 80.0, 100.0], index=index)
    # start = 00:30 -> the value at or just before is 80 (00:20)
    assert pct_change_over(series, pd.Timedelta(hours=1)) == pytest.approx(25.0)
    # start exactly on a point uses that point
    assert pct_change_over(series, pd.Timedelta(minutes=70)) == pytest.approx(25.0)
    assert pct_change_over(series, pd.Timedelta(minutes=90)) == pytest.approx(100.0)


def test_pct_change_over_nan_when_history_shorter_than_window() -> None:
    series = minutes([100.0] * 60)  # 00:00 .. 00:59, 59 minutes of history
    assert math.isnan(pct_change_over(series, pd.Timedelta(hours=1)))
    assert pct_change_over(series, pd.Timedelta(minutes=59)) == 0.0


def test_pct_change_over_degenerate_inputs() -> None:
    assert math.isnan(pct_change_over(pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC")),
                                      pd.Timedelta(hours=1)))  # fmt: skip
    assert math.isnan(pct_change_over(minutes([0.0, 5.0]), pd.Timedelta(minutes=1)))  # zero reference
    assert pct_change_over(minutes([10.0]), pd.Timedelta(0)) == 0.0  # zero window: last vs itself
    # NaN values are skipped: last known 12 vs 10
    assert pct_change_over(minutes([10.0, 11.0, 12.0, np.nan]), pd.Timedelta(minutes=2)) == pytest.approx(
        20.0
    )


# ------------------------------------------------------------------------------------------------ downsample


def test_downsample_short_series_unchanged() -> None:
    series = minutes([1.0, 2.0, 3.0])
    assert downsample(series, 3) is series
    assert downsample(series, 10) is series


def test_downsample_hand_computed_positions() -> None:
    series = minutes([float(i) for i in range(10)])
    out = downsample(series, 4)  # linspace(0, 9, 4) = 0, 3, 6, 9
    assert out.tolist() == [0.0, 3.0, 6.0, 9.0]
    assert list(out.index) == [series.index[i] for i in (0, 3, 6, 9)]


def test_downsample_single_point_and_invalid() -> None:
    series = minutes([1.0, 2.0, 3.0])
    assert downsample(series, 1).tolist() == [3.0]
    with pytest.raises(ValueError, match="max_points"):
        downsample(series, 0)


@given(n=st.integers(min_value=1, max_value=3000), max_points=st.integers(min_value=2, max_value=500))
def test_downsample_keeps_endpoints_and_bounds_size(n: int, max_points: int) -> None:
    series = pd.Series(np.arange(n, dtype=float) * 1.5, index=pd.date_range(T0, periods=n, freq="1s"))
    out = downsample(series, max_points)
    assert len(out) <= max_points
    assert len(out) == min(n, max_points)  # no positions lost to rounding collisions
    assert out.iloc[0] == series.iloc[0] and out.index[0] == series.index[0]
    assert out.iloc[-1] == series.iloc[-1] and out.index[-1] == series.index[-1]
    assert out.index.is_monotonic_increasing


# ----------------------------------------------------------------------------------------------- btc_figures


def test_btc_figures_drawdown_and_ath() -> None:
    figures = btc_figures(60_000.0, -1.5, history([30_000, 73_000, 65_000]), intraday([59_000.0, 60_000.0]))
    assert figures.price == 60_000.0
    assert figures.change_24h_pct == -1.5
    assert figures.ath == 73_000.0
    assert figures.ath_time == pd.Timestamp("2021-02-01", tz="UTC")
    assert figures.drawdown_pct == pytest.approx((60_000 / 73_000 - 1) * 100)  # -17.81 %
    assert figures.drawdown_pct == pytest.approx(-17.808219, abs=1e-6)


def test_btc_figures_new_high_means_zero_drawdown() -> None:
    # the ticker is ahead of the last intraday bar's high: the current price is the ATH
    figures = btc_figures(80_000.0, 4.0, history([30_000, 73_000]), intraday([79_000.0, 79_500.0]))
    assert figures.ath == 80_000.0
    assert figures.ath_time is None
    assert figures.drawdown_pct == 0.0
    # the latest intraday bar set the high the price now sits at
    at_high = btc_figures(79_500.0, 4.0, history([30_000, 73_000]), intraday([79_000.0, 79_500.0]))
    assert at_high.ath == 79_500.0 and at_high.drawdown_pct == 0.0
    assert at_high.ath_time == T0 + pd.Timedelta(minutes=1)


def test_btc_figures_intraday_spike_counts_towards_ath() -> None:
    figures = btc_figures(
        70_000.0, 0.0, history([60_000]), intraday([69_000.0, 70_000.0], highs=[75_000, 70_500])
    )
    assert figures.ath == 75_000.0
    assert figures.drawdown_pct == pytest.approx((70_000 / 75_000 - 1) * 100)


def test_btc_figures_without_history_ath_is_unknown() -> None:
    empty = pd.DataFrame({"high": pd.Series(dtype=float)}, index=pd.DatetimeIndex([], tz="UTC"))
    no_intraday = pd.DataFrame({"close": pd.Series(dtype=float)}, index=pd.DatetimeIndex([], tz="UTC"))
    figures = btc_figures(60_000.0, 1.0, empty, no_intraday)
    assert math.isnan(figures.ath) and math.isnan(figures.drawdown_pct)
    assert math.isnan(figures.change_1h_pct)
    assert figures.intraday_series.empty and figures.as_of is None


def test_btc_figures_change_1h_and_chart_series() -> None:
    closes = [100.0] * 30 + [110.0] * 31 + [99.0] * 500  # 561 one-minute bars
    closes[-61] = 90.0  # the bar opened exactly 60 minutes before the last one
    figures = btc_figures(99.0, -3.0, history([120.0]), intraday(closes), max_points=100)
    assert figures.change_1h_pct == pytest.approx(10.0)  # 99 vs 90
    assert len(figures.intraday_series) == 100
    assert figures.intraday_series.iloc[-1] == 99.0
    assert figures.intraday_series.index[-1] == figures.as_of == T0 + pd.Timedelta(minutes=560)
    assert figures.intraday_series.index[0] == T0


def test_one_hour_change_compares_prices_sixty_minutes_apart() -> None:
    """15-minute bars: the running bar's price against the close observed an hour earlier, not against the
    bar that opened an hour before the running one (which closed only 45 minutes ago)."""
    from analytics.price import observed_closes

    start = pd.Timestamp("2025-10-10 20:00", tz="UTC")
    opens = pd.date_range(start, periods=6, freq="15min")
    frame = pd.DataFrame(
        {"close": [100.0, 101.0, 102.0, 103.0, 104.0, 99.0],
         "close_time": opens + pd.Timedelta(minutes=15) - pd.Timedelta(milliseconds=1)},
        index=opens,
    )  # fmt: skip
    now_ms = int((start + pd.Timedelta(minutes=80)).value // 1_000_000)  # 21:20, inside the 21:15 bar
    observed = observed_closes(frame, now_ms)
    assert observed.index[-1] == pd.Timestamp("2025-10-10 21:20", tz="UTC")
    # 60 minutes before 21:20 is 20:20: the newest close observed by then is the 20:00 bar's (at 20:15).
    assert pct_change_over(observed, pd.Timedelta(hours=1)) == pytest.approx((99.0 / 100.0 - 1) * 100)
    figures = btc_figures(99.0, 0.0, pd.DataFrame({"high": []}), frame, now_ms=now_ms)
    assert figures.change_1h_pct == pytest.approx((99.0 / 100.0 - 1) * 100)
