"""Funding and open-interest analytics against hand-computed values, plus the 200 x 4 timing budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.funding import (
    annualised,
    funding_grids,
    funding_history_matrix,
    funding_matrix,
    funding_stats,
    oi_weighted,
    row_medians,
)
from analytics.open_interest import aggregate_oi, oi_change, oi_matrix
from records.derivs import FundingQuote, OpenInterest

H = 3_600_000


def quote(coin: str, exchange: str, rate: float, hours: float) -> FundingQuote:
    return FundingQuote(coin, exchange, rate, hours, rate * 8 / hours, None, 1.0)


def test_funding_matrix_and_stats_by_hand() -> None:
    quotes = [
        quote("BTC", "binance", 0.0001, 8),  # 0.0001 / 8h
        quote("BTC", "hyperliquid", 0.00002, 1),  # 0.00016 / 8h
        quote("ETH", "bybit", 0.0002, 4),  # 0.0004 / 8h
        quote("SOL", "okx", -0.0001, 8),  # -0.0001 / 8h
    ]
    m = funding_matrix(quotes)
    assert list(m.index) == ["BTC", "ETH", "SOL"] and list(m.columns) == [
        "binance",
        "bybit",
        "hyperliquid",
        "okx",
    ]
    assert m.loc["BTC", "hyperliquid"] == pytest.approx(0.00016)
    assert np.isnan(m.loc["SOL", "binance"])
    median, share = funding_stats(m)
    # per-coin means: BTC 0.00013, ETH 0.0004, SOL -0.0001 -> median 0.00013; above 0.0001: BTC, ETH -> 2/3
    assert median == pytest.approx(0.00013) and share == pytest.approx(2 / 3)
    assert funding_stats(m, baseline=0.0002)[1] == pytest.approx(1 / 3)
    assert annualised(0.0001) == pytest.approx(0.1095)
    assert funding_stats(pd.DataFrame(dtype=float)) != funding_stats(m)


def test_history_matrix_normalises_intervals_into_8h_buckets() -> None:
    t0 = 1_700_006_400_000 // (8 * H) * (8 * H)
    rows = []
    for k in range(1, 17):  # Hyperliquid: hourly 0.00001 then 0.00003 -> 8h sums 0.00008 and 0.00024
        rows.append((t0 + k * H, "BTC", "hyperliquid", 0.00001 if k <= 8 else 0.00003, 1.0))
    rows += [
        (t0 + 8 * H + 48, "BTC", "binance", 0.0001, 8.0),
        (t0 + 16 * H + 3, "BTC", "binance", 0.0003, 8.0),
    ]
    rows += [(t0 + 4 * H, "ETH", "bybit", 0.0001, 4.0), (t0 + 8 * H, "ETH", "bybit", 0.0002, 4.0)]
    hist = pd.DataFrame(rows, columns=["time", "coin", "exchange", "rate", "interval_hours"])
    m = funding_history_matrix(hist, None, periods=2)
    assert [c.value // 10**6 for c in m.columns] == [t0 + 8 * H, t0 + 16 * H]
    assert m.loc["BTC"].tolist() == pytest.approx([(0.00008 + 0.0001) / 2, (0.00024 + 0.0003) / 2])
    assert m.loc["ETH", m.columns[0]] == pytest.approx((0.0002 + 0.0004) / 2)  # mean rate_8h of 2 settlements
    assert np.isnan(m.loc["ETH", m.columns[1]])
    only = funding_history_matrix(hist, "hyperliquid", periods=1)
    assert only.loc["BTC"].tolist() == pytest.approx([0.00024]) and list(only.index) == ["BTC"]
    # datetime times work too
    hist_dt = hist.assign(time=pd.to_datetime(hist["time"], unit="ms", utc=True))
    pd.testing.assert_frame_equal(funding_history_matrix(hist_dt, None, periods=2), m)


def test_oi_change_and_aggregate_by_hand() -> None:
    hist = pd.DataFrame(
        [
            (0, "BTC", "binance", 100.0), (12 * H, "BTC", "binance", 130.0),
            (24 * H, "BTC", "binance", 110.0),
            (0, "BTC", "bybit", 50.0), (24 * H, "BTC", "bybit", 40.0),
            (6 * H, "ETH", "okx", 10.0), (24 * H, "ETH", "okx", 12.0),  # no sample at t=0
            (0, "SOL", "okx", 20.0), (23 * H, "SOL", "okx", 15.0),
        ],
        columns=["time", "coin", "exchange", "oi_usd"],
    )  # fmt: skip
    pct = oi_change(hist, 24 * H)
    # BTC: (110 + 40) / (100 + 50) - 1 = 0%; SOL as of 24h = 15 -> -25%; ETH has no start -> absent
    assert pct["BTC"] == pytest.approx(0.0) and pct["SOL"] == pytest.approx(-25.0)
    assert "ETH" not in pct.index
    assert oi_change(hist, pd.Timedelta(hours=12), end=12 * H)["BTC"] == pytest.approx(
        (130 + 50) / 150 * 100 - 100
    )
    assert oi_change(hist, 18 * H)["ETH"] == pytest.approx(20.0)
    t = pd.Timestamp(0, tz="UTC")
    m = oi_matrix([OpenInterest("BTC", "binance", 1, 100.0, t), OpenInterest("BTC", "okx", 1, 50.0, t),
                   OpenInterest("ETH", "okx", 1, 25.0, t)])  # fmt: skip
    per_coin, total = aggregate_oi(m)
    assert per_coin.to_dict() == {"BTC": 150.0, "ETH": 25.0} and total == 175.0


def test_200_coins_by_4_exchanges_at_scale() -> None:
    rng = np.random.default_rng(1)
    exchanges = ("binance", "bybit", "okx", "hyperliquid")
    quotes = [quote(f"C{i}", e, float(rng.normal(1e-4, 1e-4)), 8) for i in range(200) for e in exchanges]
    t = pd.Timestamp(0, tz="UTC")
    ois = [OpenInterest(f"C{i}", e, 1.0, float(rng.uniform(1, 2)), t) for i in range(200) for e in exchanges]
    times = np.arange(0, 48 * H, 8 * H)
    hist = pd.DataFrame({
        "time": np.tile(times, 800), "coin": np.repeat([f"C{i}" for i in range(200)] * 4, len(times)),
        "exchange": np.repeat([e for e in exchanges for _ in range(200)], len(times)),
        "rate": rng.normal(1e-4, 1e-4, 800 * len(times)), "interval_hours": 8.0,
    })  # fmt: skip
    hist["oi_usd"] = rng.uniform(1, 2, len(hist))
    # Speed is measured by benchmarks/analytics_recompute.py; here the shapes at scale must be right.
    matrix = funding_matrix(quotes)
    assert matrix.shape == (200, 4)
    median, share = funding_stats(matrix)
    assert 0 <= share <= 1 and np.isfinite(median)
    per_coin, total = aggregate_oi(oi_matrix(ois))
    assert len(per_coin) == 200 and total == pytest.approx(per_coin.sum())
    assert funding_history_matrix(hist, None, 6).shape == (200, 6)
    assert len(oi_change(hist, 24 * H)) == 200


def test_oi_weighted_funding_by_hand() -> None:
    rates = funding_matrix([quote("BTC", "binance", 1e-4, 8), quote("BTC", "okx", 3e-4, 8),
                            quote("ETH", "binance", 2e-4, 8), quote("ETH", "bybit", 9e-4, 8),
                            quote("SOL", "bybit", 5e-4, 8)])  # fmt: skip
    stamp = pd.Timestamp(0, tz="UTC")
    oi = oi_matrix([OpenInterest("BTC", "binance", 1, 300.0, stamp), OpenInterest("BTC", "okx", 1, 100.0, stamp),
                    OpenInterest("ETH", "binance", 1, 50.0, stamp), OpenInterest("DOGE", "okx", 1, 10.0, stamp)])
    per_coin, market = oi_weighted(rates, oi)
    # BTC: (1e-4 x 300 + 3e-4 x 100) / 400 = 1.5e-4; ETH: only Binance has OI -> 2e-4; SOL: no OI -> absent.
    assert per_coin.to_dict() == pytest.approx({"BTC": 1.5e-4, "ETH": 2e-4})
    # Market: (1e-4 x 300 + 3e-4 x 100 + 2e-4 x 50) / 450; DOGE's OI has no rate, ETH on Bybit no OI.
    assert market == pytest.approx((0.03 + 0.03 + 0.01) / 450)
    empty, nothing = oi_weighted(rates, pd.DataFrame(dtype=float))
    assert empty.empty and np.isnan(nothing)


def test_basis_is_mark_against_index_and_unknown_without_an_index() -> None:
    q = [FundingQuote("BTC", "binance", 1e-4, 8, 1e-4, None, 100_100.0, index_price=100_000.0),
         FundingQuote("BTC", "okx", 1e-4, 8, 1e-4, None, 100_050.0),  # OKX's bulk call has no index
         FundingQuote("ETH", "bybit", 2e-4, 8, 2e-4, None, 2_990.0, index_price=3_000.0),
         FundingQuote("SOL", "bybit", 3e-4, 8, 3e-4, None, None, index_price=150.0)]  # fmt: skip
    venues = ("binance", "bybit", "okx")
    rates, basis = funding_grids(q, venues)
    assert basis.at["BTC", "binance"] == pytest.approx(0.1)
    assert basis.at["ETH", "bybit"] == pytest.approx(-1 / 3)
    assert np.isnan(basis.at["BTC", "okx"]) and np.isnan(basis.at["SOL", "bybit"])  # no index / no mark: unknown
    # The same rows and columns as the rates, which are funding_matrix's in the venues' order.
    assert basis.index.equals(rates.index) and basis.columns.equals(rates.columns)
    pd.testing.assert_frame_equal(rates, funding_matrix(q).reindex(columns=list(venues)), check_column_type=False)
    _, none = funding_grids([q[1]], venues)
    assert none.isna().all().all()


def test_matrices_in_the_venues_order_with_the_last_duplicate() -> None:
    q = [quote("ETH", "okx", 1e-4, 8), quote("BTC", "bybit", 2e-4, 8), quote("BTC", "bybit", 3e-4, 8),
         quote("DOGE", "kraken", 9e-4, 8)]  # fmt: skip
    m, _ = funding_grids(q, ("binance", "okx", "bybit"))
    # The given columns in their order, a venue with no quote all NaN; another venue's quote is left out, its coin
    # stays a row of NaN (as a reindex of the sorted matrix leaves it); a repeated perp keeps its last quote.
    assert list(m.columns) == ["binance", "okx", "bybit"] and list(m.index) == ["BTC", "DOGE", "ETH"]
    assert m.at["BTC", "bybit"] == pytest.approx(3e-4) and m.loc["DOGE"].isna().all()
    reindexed = funding_matrix(q).reindex(columns=["binance", "okx", "bybit"])
    pd.testing.assert_frame_equal(m, reindexed, check_column_type=False)
    assert funding_grids([], ("binance", "okx"))[0].shape == (0, 2) and funding_matrix([]).empty
    marks = [FundingQuote("BTC", "bybit", 1e-4, 8, 1e-4, None, 101.0, index_price=100.0),
             FundingQuote("BTC", "bybit", 2e-4, 8, 2e-4, None, 102.0, index_price=100.0)]  # fmt: skip
    rates, basis = funding_grids(marks, ("bybit",))
    assert (rates.at["BTC", "bybit"], basis.at["BTC", "bybit"]) == pytest.approx((2e-4, 2.0))  # the last, both


def test_row_medians_are_pandas_row_medians() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        values = rng.normal(size=(40, int(rng.integers(1, 6))))
        values[rng.random(values.shape) < 0.4] = np.nan  # coins missing on some venues, a few on every venue
        matrix = pd.DataFrame(values, index=[f"C{i}" for i in range(40)])
        pd.testing.assert_series_equal(row_medians(matrix), matrix.median(axis=1, skipna=True), check_exact=True)
    assert row_medians(pd.DataFrame(dtype=float)).empty
