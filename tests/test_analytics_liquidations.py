"""Liquidation analytics, hand-computed; the bounded tape; and the demo generator's cascade."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.liquidations import (
    LiquidationTape,
    _core,
    _hourly_long_sums,
    _hourly_long_sums_sorted,
    btc_change_pct,
    cascade,
    hourly_long_median,
    venue_totals,
    window_totals,
)
from emulator import demo_liquidations
from emulator.dataset import MarketDataset
from emulator.scenario import DAY, DEFAULT_ALTS, HOUR, MINUTE, Scenario
from records.liquidations import Liquidation, records_to_frame

NOW = 1_760_000_000_000 // HOUR * HOUR  # an hour boundary


def tape(rows: list[tuple[int, str, str, str, float]]) -> pd.DataFrame:
    """rows of (ms before NOW, exchange, coin, side, notional USD); qty 1 coin at price = notional."""
    return records_to_frame(
        Liquidation(NOW - ago, ex, coin, side, 1.0, usd, usd) for ago, ex, coin, side, usd in rows
    )  # type: ignore[arg-type]


def test_window_totals_by_side() -> None:
    t = tape(
        [
            (10 * MINUTE, "binance", "BTC", "long", 100.0),
            (59 * MINUTE, "bybit", "BTC", "short", 40.0),
            (HOUR, "okx", "ETH", "long", 7.0),  # exactly 1h old: outside 1h (now - 1h < t), inside 4h
            (3 * HOUR, "bybit", "ETH", "long", 50.0),
            (5 * HOUR, "binance", "SOL", "short", 1000.0),
            (25 * HOUR, "binance", "SOL", "long", 1e9),  # older than 24h
            (-MINUTE, "binance", "BTC", "long", 1e9),  # in the future: ignored
        ]
    )
    out = window_totals(t, NOW)
    assert out.loc["1h"].tolist() == pytest.approx([100.0, 40.0, 140.0, 100 / 140, 2, 1.0])
    assert out.loc["4h", "long_usd"] == 157.0 and out.loc["4h", "short_usd"] == 40.0
    assert out.loc["24h", "total_usd"] == 1197.0 and out.loc["24h", "count"] == 5
    empty = window_totals(tape([]), NOW)
    assert empty["total_usd"].tolist() == [0.0, 0.0, 0.0] and empty["long_share"].isna().all()


def test_venue_totals_share() -> None:
    t = tape(
        [
            (MINUTE, "binance", "BTC", "long", 60.0),
            (2 * MINUTE, "binance", "ETH", "short", 20.0),
            (3 * MINUTE, "bybit", "BTC", "long", 20.0),
            (2 * HOUR, "okx", "BTC", "long", 999.0),
        ]
    )
    out = venue_totals(t, NOW, "1h")
    assert list(out.index) == ["binance", "bybit"]
    assert out.loc["binance"].tolist() == pytest.approx([60.0, 20.0, 80.0, 0.8])
    assert out.loc["bybit", "share"] == pytest.approx(0.2)
    by_coin = venue_totals(t, NOW, "24h", by="coin")
    assert by_coin.loc["BTC", "long_usd"] == 1079.0


def hourly_longs(values: list[float]) -> list[tuple[int, str, str, str, float]]:
    """values[k] is the long USD in trailing hour k (k=0 is the last hour), placed mid-hour."""
    return [(k * HOUR + 30 * MINUTE, "binance", "BTC", "long", v) for k, v in enumerate(values) if v]


def test_hourly_median_counts_empty_hours_as_zero() -> None:
    # last hour 50; previous hours: 10, 0, 30, 20, 0 -> n depends on recording start.
    t = tape([*hourly_longs([50, 10, 0, 30, 20, 0]), (6 * HOUR, "bybit", "BTC", "short", 5.0)])
    since = NOW - 6 * HOUR
    # H_1..H_5 = 10, 0, 30, 20, 0 -> median 10
    assert hourly_long_median(t, NOW, recorded_since=since) == 10.0
    # lookback 3h -> hours H_1, H_2 only (n = floor((3h-1h)/1h) = 2): median(10, 0) = 5
    assert hourly_long_median(t, NOW, lookback=pd.Timedelta(hours=3), recorded_since=since) == 5.0
    # default recording start = first row (6h ago, the short): same as above
    assert hourly_long_median(t, NOW) == 10.0
    assert np.isnan(hourly_long_median(t, NOW, recorded_since=NOW - 90 * MINUTE))


def closes(pairs: list[tuple[int, float]]) -> pd.Series:
    return pd.Series([p for _, p in pairs], index=[NOW - ago for ago, _ in pairs], dtype=float)


def test_btc_change_uses_last_close_at_or_before() -> None:
    s = closes([(2 * HOUR, 100.0), (HOUR, 100.0), (30 * MINUTE, 99.0), (0, 97.0)])
    assert btc_change_pct(s, NOW) == pytest.approx(-3.0)
    dt = pd.Series(s.values, index=pd.to_datetime(s.index, unit="ms", utc=True))
    assert btc_change_pct(dt, NOW) == pytest.approx(-3.0)
    # An index in any unit or zone reads the same instants.
    for unit in ("s", "ms", "us", "ns"):
        for zone in (None, "UTC", "America/New_York"):
            index = dt.index.as_unit(unit)
            index = index.tz_localize(None) if zone is None else index.tz_convert(zone)
            assert btc_change_pct(pd.Series(s.values, index=index), NOW) == pytest.approx(-3.0), (unit, zone)
    late = pd.Series([100.0, 97.0], index=pd.to_datetime([NOW - HOUR + 1, NOW], unit="ms", utc=True).as_unit("us"))
    assert np.isnan(btc_change_pct(late, NOW))  # nothing observed an hour before now
    assert np.isnan(btc_change_pct(s, NOW - 3 * HOUR))


def test_cascade_fires_on_ratio_and_drop() -> None:
    t = tape(hourly_longs([600, 100, 100, 50, 200, 100]))
    s = closes([(HOUR, 100.0), (0, 97.5)])
    c = cascade(t, s, NOW, recorded_since=NOW - 6 * HOUR)
    assert c.long_usd_1h == 600 and c.median_hourly == 100 and c.ratio == 6.0
    assert c.btc_change_1h_pct == pytest.approx(-2.5)
    assert c.active and c.meter == 1.0 and c.hours_in_median == 5
    assert not c.complete and "5 h recorded" in c.reason
    assert c.recorded_for == pd.Timedelta(hours=6)
    # Price only -1.5%: not active although the ratio is.
    assert not cascade(t, closes([(HOUR, 100.0), (0, 98.5)]), NOW, recorded_since=NOW - 6 * HOUR).active
    # Ratio 4 < 5: not active although price fell; meter 0.8.
    calm = cascade(tape(hourly_longs([400, 100, 100, 100])), s, NOW, recorded_since=NOW - 4 * HOUR)
    assert not calm.active and calm.meter == pytest.approx(0.8)


def test_cascade_without_history_says_so() -> None:
    t = tape([(10 * MINUTE, "binance", "BTC", "long", 1e6)])
    c = cascade(t, closes([(HOUR, 100.0), (0, 90.0)]), NOW, recorded_since=NOW - 80 * MINUTE)
    assert not c.active and np.isnan(c.ratio) and c.hours_in_median == 0
    assert "need 2 h" in c.reason and c.recorded_for == pd.Timedelta(minutes=80)
    unknown_price = cascade(
        tape(hourly_longs([600, 100, 100])), pd.Series(dtype=float), NOW, recorded_since=NOW - 3 * HOUR
    )
    assert unknown_price.ratio == 6.0 and not unknown_price.active and "unknown" in unknown_price.reason


def test_cascade_zero_median_is_infinite_ratio() -> None:
    t = tape([(10 * MINUTE, "okx", "BTC", "long", 5.0)])
    c = cascade(t, closes([(HOUR, 100.0), (0, 95.0)]), NOW, recorded_since=NOW - 5 * HOUR)
    assert c.median_hourly == 0 and c.ratio == float("inf") and c.active


# --- the bounded tape ---------------------------------------------------------------------------------------


def rec(t: int, side: str = "long", usd: float = 10.0, ex: str = "binance", coin: str = "BTC") -> Liquidation:
    return Liquidation(t, ex, coin, side, usd / 100.0, 100.0, usd)  # type: ignore[arg-type]


def test_tape_is_bounded_and_reports_truncation() -> None:
    tape_ = LiquidationTape(max_rows=1000)
    tape_.start_recording(NOW - 10 * DAY)
    capacity = len(tape_._time)
    for i in range(50):
        tape_.extend(rec(NOW - 10 * DAY + (i * 100 + j) * 1000) for j in range(100))
    assert len(tape_) == 1000 and len(tape_._time) == capacity  # no growth
    frame = tape_.frame()
    assert frame["time"].iloc[0] == NOW - 10 * DAY + 4000 * 1000  # the 1000 newest survive
    assert tape_.recorded_since_ms == NOW - 10 * DAY + 4000 * 1000


def test_tape_trims_by_age_and_matches_frame_analytics() -> None:
    tape_ = LiquidationTape(max_rows=100, max_age=pd.Timedelta(days=35))
    tape_.start_recording(NOW - 40 * DAY)
    tape_.extend(
        [
            rec(NOW - 36 * DAY),
            rec(NOW - 3 * HOUR, usd=20),
            rec(NOW - 30 * MINUTE, "short", 5, "bybit", "ETH"),
            rec(NOW - 10 * MINUTE, usd=100),
        ]
    )
    assert tape_.trim(NOW) == 1 and len(tape_) == 3
    assert tape_.recorded_since_ms == NOW - 35 * DAY
    frame = tape_.frame()
    assert frame["exchange"].tolist() == ["binance", "bybit", "binance"]
    assert frame["side"].tolist() == ["long", "short", "long"]
    pd.testing.assert_frame_equal(window_totals(tape_, NOW), window_totals(frame, NOW))
    assert tape_.frame(since_ms=NOW - HOUR)["notional_usd"].tolist() == [5.0, 100.0]
    assert venue_totals(tape_, NOW, "1h").loc["binance", "long_usd"] == 100.0


def test_tape_extend_frame_round_trip() -> None:
    frame = tape(hourly_longs([1, 2, 3]))
    tape_ = LiquidationTape(max_rows=10)
    tape_.extend_frame(frame)
    pd.testing.assert_frame_equal(tape_.frame(), frame)


# --- the demo generator -------------------------------------------------------------------------------------


def make_demo_dataset(
    coins: tuple[str, ...] = ("BTC", *DEFAULT_ALTS), anchor: int = NOW + 30 * MINUTE, seed: int = 7
) -> tuple[MarketDataset, Scenario]:
    """A small stand-in for the demo's spot klines (hourly + minute bars, a -7% crash) plus demo
    liquidations."""
    scenario = Scenario(anchor_ms=anchor, seed=seed, coins=coins)
    dataset = MarketDataset(name="test", simulated=True)
    rng = np.random.default_rng(1)
    for i, coin in enumerate(coins):
        frames = {}
        for step, start in ((HOUR, anchor - 40 * DAY), (MINUTE, scenario.minute_data_from_ms)):
            t = np.arange(start // step * step, scenario.end_ms, step, dtype=np.int64)
            crash = (t >= scenario.crash_start_ms) & (t < scenario.crash_end_ms)
            log_ret = rng.normal(0, 0.002 * np.sqrt(step / HOUR), len(t)) + np.where(
                crash, -0.07 * step / HOUR, 0
            )
            close = (100_000.0 if coin == "BTC" else 10.0 / (i + 1)) * np.exp(np.cumsum(log_ret))
            open_ = np.concatenate([[close[0]], close[:-1]])
            frames[step] = pd.DataFrame(
                {
                    "open_time": t,
                    "open": open_,
                    "high": np.maximum(open_, close),
                    "low": np.minimum(open_, close),
                    "close": close,
                    "volume": 1.0,
                    "quote_volume": close,
                    "count": 10,
                    "taker_buy_volume": 0.5,
                    "taker_buy_quote_volume": close / 2,
                }
            )
        dataset.spot_klines[f"{coin}USDT"] = frames
    demo_liquidations.fill(dataset, scenario)
    return dataset, scenario


def test_demo_fill_is_deterministic_and_has_the_cascade() -> None:
    dataset, scenario = make_demo_dataset()
    liq = dataset.liquidations
    assert liq is not None
    demo_liquidations.fill(dataset, scenario)
    pd.testing.assert_frame_equal(liq, dataset.liquidations)  # same seed, same tape
    assert list(liq.columns) == ["time", "exchange", "coin", "side", "qty", "price"]
    assert liq["time"].is_monotonic_increasing
    assert (
        liq["time"].iloc[0] >= scenario.anchor_ms - 35 * DAY - HOUR and liq["time"].iloc[-1] < scenario.end_ms
    )
    assert set(liq["exchange"]) == {"binance", "bybit", "okx"} and set(liq["side"]) == {"long", "short"}
    assert (liq["qty"] > 0).all() and (liq["price"] > 0).all()

    frame = liq.assign(notional_usd=liq["qty"] * liq["price"])
    # Background BTC longs: median hour in the $1-20M band across venues.
    btc = frame[
        (frame["coin"] == "BTC") & (frame["side"] == "long") & (frame["time"] < scenario.crash_start_ms - DAY)
    ]
    hourly = btc.groupby(btc["time"] // HOUR)["notional_usd"].sum()
    assert 1e6 < hourly.median() < 20e6
    # The cascade: hundreds of millions, > 5x the 30-day hourly median in the hour before the anchor.
    crash = frame[(frame["time"] >= scenario.crash_start_ms) & (frame["time"] < scenario.crash_end_ms)]
    assert crash.loc[crash["side"] == "long", "notional_usd"].sum() > 300e6
    btc_closes = dataset.spot_klines["BTCUSDT"][MINUTE].set_index("open_time")["close"]
    btc_closes.index = btc_closes.index + MINUTE
    visible = frame[frame["time"] <= scenario.anchor_ms]
    at_anchor = cascade(visible, btc_closes, scenario.anchor_ms, recorded_since=scenario.anchor_ms - 35 * DAY)
    assert at_anchor.ratio > 5 and at_anchor.active and at_anchor.complete
    # ... and it fades within the demo's first hour or so.
    later = scenario.anchor_ms + 70 * MINUTE
    faded = cascade(
        frame[frame["time"] <= later], btc_closes, later, recorded_since=scenario.anchor_ms - 35 * DAY
    )
    assert faded.ratio < 5 and not faded.active


def test_demo_fill_without_prices_gives_an_empty_tape() -> None:
    dataset = MarketDataset(name="empty", simulated=True)
    demo_liquidations.fill(dataset, Scenario(anchor_ms=NOW))
    assert dataset.liquidations is not None and len(dataset.liquidations) == 0
    assert list(dataset.liquidations.columns) == ["time", "exchange", "coin", "side", "qty", "price"]


def test_totals_unknown_until_something_was_recorded() -> None:
    tape_ = LiquidationTape()
    out = window_totals(tape_, NOW)
    assert out["long_usd"].isna().all() and out["short_usd"].isna().all() and (out["coverage"] == 0).all()
    tape_.start_recording(NOW - 12 * MINUTE)
    out = window_totals(tape_, NOW)
    assert out.loc["1h", "long_usd"] == 0.0 and out.loc["1h", "coverage"] == pytest.approx(12 / 60)
    assert out.loc["24h", "coverage"] == pytest.approx(12 / 1440)


def test_hours_the_console_was_not_running_are_left_out_of_the_median_not_counted_as_zero() -> None:
    # H_1..H_5 = 10, 0, 30, 20, 0; the console was down during H_3 (the 30) and part of H_4.
    t = tape(hourly_longs([50, 10, 0, 30, 20, 0]))
    since = NOW - 6 * HOUR
    gap = (NOW - 5 * HOUR + 10 * MINUTE, NOW - 4 * HOUR + 20 * MINUTE)  # overlaps H_4 and H_3
    # Without the gap: median(10, 0, 30, 20, 0) = 10; H_3 and H_4 unknown: median(10, 0, 0) = 0.
    assert hourly_long_median(t, NOW, recorded_since=since) == 10.0
    live = LiquidationTape()
    live.extend_frame(t)
    live.start_recording(since)
    live.gaps = (gap,)
    assert hourly_long_median(live, NOW) == 0.0
    c = cascade(live, closes([(HOUR, 100.0), (0, 90.0)]), NOW)
    assert c.hours_in_median == 3 and not c.complete and "1 recording gap left out" in c.reason


def test_a_gap_is_taken_out_of_a_windows_coverage() -> None:
    t = tape([(10 * MINUTE, "binance", "BTC", "long", 100.0)])
    live = LiquidationTape()
    live.extend_frame(t)
    live.start_recording(NOW - 2 * DAY)
    live.gaps = ((NOW - 3 * HOUR, NOW - 2 * HOUR),)
    out = window_totals(live, NOW)
    assert out.loc["1h", "coverage"] == 1.0
    assert out.loc["4h", "coverage"] == pytest.approx(0.75)
    assert out.loc["24h", "coverage"] == pytest.approx(23 / 24)
    assert out.loc["24h", "long_usd"] == 100.0  # a lower bound: what was recorded, nothing filled in


def test_rows_appended_since_a_count_are_what_the_recorder_writes_next() -> None:
    live = LiquidationTape(max_rows=4)
    rows = [Liquidation(NOW - i, "binance", "BTC", "long", 1.0, 10.0, 10.0) for i in range(3)]
    live.extend(rows)
    columns, ex, coins = live.appended_since(0)
    assert len(columns[0]) == 3 and ex == ["binance"] and coins == ["BTC"]
    mark = live.appended
    live.extend(rows[:2])
    columns, _, _ = live.appended_since(mark)
    assert list(columns[0]) == [NOW, NOW - 1]
    assert len(live.appended_since(live.appended)[0][0]) == 0


def test_the_tapes_running_total_gives_the_frame_figures_through_appends_late_rows_trims_and_venues() -> None:
    """The live tape answers the cascade from a time-sorted running total kept between calls and extended by new
    rows; at every step it must give what the row-by-row formulas give on the same rows as a plain frame (hourly
    median, last hour, with gaps and a venue subset), whether it extended, or rebuilt after a late row, a trim or
    a capacity drop."""
    rng = np.random.default_rng(5)
    live = LiquidationTape(max_rows=1500, max_age=pd.Timedelta(days=35))
    live.start_recording(NOW - 40 * DAY)
    live.gaps = ((NOW - 9 * DAY, NOW - 8 * DAY - 30 * MINUTE),)
    venues = ["binance", "bybit", "okx"]
    closes_ = closes([(NOW - 2 * HOUR, 100.0), (NOW, 96.0)])
    clock = NOW - 38 * DAY
    for step in range(40):
        n = int(rng.integers(1, 120))
        newest = clock
        clock += int(rng.integers(1, 30)) * HOUR
        times = np.sort(clock - rng.integers(0, HOUR, n))
        usd = rng.uniform(1, 1e5, n)
        if step % 7 == 3:
            times[0], usd[0] = newest - 2 * HOUR, 1e9  # a big row arriving late: older than the newest kept
        live.extend(rec(int(t), "long" if i == 0 and step % 7 == 3 else str(rng.choice(["long", "short"])), float(u),
                        str(rng.choice(venues))) for i, (t, u) in enumerate(zip(times, usd, strict=True)))  # fmt: skip
        if step % 9 == 8:
            live.trim(clock)
        now = clock + int(rng.integers(0, HOUR))
        frame = live.frame()
        for subset in (None, frozenset({"binance", "okx"})):
            rows = frame if subset is None else frame[frame["exchange"].isin(subset)]
            got = cascade(live, closes_, now, venues=subset)
            want = cascade(rows, closes_, now, recorded_since=live.recorded_since_ms)
            assert got.long_usd_1h == pytest.approx(want.long_usd_1h, rel=1e-9, abs=1e-6)
            t, is_long, usd = _core(rows)
            direct = _hourly_long_sums(t, is_long, usd, now, 30 * DAY, live.recorded_since_ms, live.gaps)
            median = float(np.median(direct)) if len(direct) else float("nan")
            assert got.hours_in_median == len(direct)
            from_prefix = _hourly_long_sums_sorted(live.long_prefix(subset), now, 30 * DAY, live.recorded_since_ms,
                                                   live.gaps)  # fmt: skip
            np.testing.assert_allclose(from_prefix, direct, rtol=1e-9, atol=1e-6)  # every hour, not only the median
            assert got.median_hourly == pytest.approx(median, rel=1e-9, abs=1e-6, nan_ok=True)
            if subset is None:
                assert hourly_long_median(live, now) == pytest.approx(median, rel=1e-9, abs=1e-6, nan_ok=True)
    assert len(live) == 1500  # the capacity drop happened on the way
