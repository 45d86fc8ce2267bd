"""Binance USD-M parsers against real/docs samples, inline documented formats and hostile inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sources.binance_futures import (
    parse_funding_history,
    parse_funding_info,
    parse_open_interest,
    parse_open_interest_hist,
    parse_premium_index,
)
from sources.errors import SourceError

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real" / "binance"


def load(name: str) -> Any:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real sample {name} not available")
    return json.loads(path.read_text())


def test_premium_index_docs_example() -> None:
    raw = load("fapi_premium_index_docs_example.json")
    (quote,) = parse_premium_index(raw)
    assert quote.coin == "BTC" and quote.exchange == "binance"
    assert quote.rate == pytest.approx(float(raw["lastFundingRate"]))
    assert quote.interval_hours == 8 and quote.rate_8h == pytest.approx(quote.rate)
    assert quote.mark_price == pytest.approx(float(raw["markPrice"]))
    assert quote.index_price == pytest.approx(float(raw["indexPrice"]))
    assert quote.next_funding_time is not None
    assert quote.next_funding_time.value // 1_000_000 == raw["nextFundingTime"]


def test_premium_index_all_symbols_scaled_interval_and_skips() -> None:
    # The all-symbols answer is an array; a dated contract carries lastFundingRate "" and is skipped.
    raw = [
        {"symbol": "1000PEPEUSDT", "markPrice": "0.01234000", "indexPrice": "0.01233000",
         "estimatedSettlePrice": "0.01233500", "lastFundingRate": "0.00020000", "interestRate": "0.00010000",
         "nextFundingTime": 1597392000000, "time": 1597370495002},
        {"symbol": "BTCUSDT_250328", "markPrice": "90000.1", "indexPrice": "89000",
         "estimatedSettlePrice": "0",
         "lastFundingRate": "", "interestRate": "", "nextFundingTime": 0, "time": 1597370495002},
    ]  # fmt: skip
    (quote,) = parse_premium_index(raw, {"1000PEPEUSDT": 4})
    assert quote.coin == "PEPE"
    assert quote.mark_price == pytest.approx(0.00001234)
    assert quote.index_price == pytest.approx(0.00001233)  # per coin, as the mark
    assert quote.interval_hours == 4 and quote.rate_8h == pytest.approx(0.0004)


def test_funding_info_documented_shape() -> None:
    raw = [{"symbol": "BLZUSDT", "adjustedFundingRateCap": "0.02500000",
            "adjustedFundingRateFloor": "-0.02500000",
            "fundingIntervalHours": 4, "disclaimer": False}]  # fmt: skip
    assert parse_funding_info(raw) == {"BLZUSDT": 4}


def test_funding_history_docs_example() -> None:
    raw = load("fapi_funding_rate_history_docs_example.json")
    frame = parse_funding_history(raw)
    assert list(frame["rate"]) == pytest.approx([-0.0375, 0.0001])
    assert list(frame["interval_hours"]) == [8.0, 8.0]  # 1570636800000 - 1570608000000 = 8 h
    assert frame["coin"].tolist() == ["BTC", "BTC"]


def test_open_interest_docs_example_to_usd() -> None:
    raw = load("fapi_open_interest_docs_example.json")
    oi = parse_open_interest(raw, mark_price=11793.63104562)
    assert oi.oi_base == pytest.approx(10659.509)
    assert oi.oi_usd == pytest.approx(10659.509 * 11793.63104562)


def test_open_interest_scaled_symbol() -> None:
    oi = parse_open_interest(
        {"openInterest": "2000", "symbol": "1000PEPEUSDT", "time": 1}, mark_price=0.00001
    )
    assert oi.coin == "PEPE" and oi.oi_base == 2_000_000 and oi.oi_usd == pytest.approx(20.0)


def test_open_interest_hist_docs_example_string_timestamps() -> None:
    raw = load("fapi_open_interest_hist_docs_example.json")
    frame = parse_open_interest_hist(raw)
    assert frame["oi_base"].tolist() == pytest.approx([20403.637, 20401.367])
    assert frame["oi_usd"].iloc[0] == pytest.approx(150570784.07809979)
    assert frame["time"].iloc[1].value // 1_000_000 == 1583128200000


@pytest.mark.parametrize(
    ("mutate", "field_name"),
    [
        (lambda r: r.update(lastFundingRate="abc"), "lastFundingRate"),
        (lambda r: r.update(markPrice="NaN"), "markPrice"),
        (lambda r: r.pop("nextFundingTime"), "nextFundingTime"),
        (lambda r: r.update(markPrice="-1"), "markPrice"),
        (lambda r: r.update(time="soon"), "time"),
    ],
)
def test_premium_index_hostile(mutate: Any, field_name: str) -> None:
    raw = {"symbol": "BTCUSDT", "markPrice": "1.0", "lastFundingRate": "0.0001", "nextFundingTime": 1,
           "time": 1}  # fmt: skip
    mutate(raw)
    with pytest.raises(SourceError) as info:
        parse_premium_index([raw])
    assert info.value.field == field_name and info.value.provider == "binance"


def test_hostile_history_and_oi() -> None:
    with pytest.raises(SourceError) as info:
        parse_funding_history([{"symbol": "BTCUSDT", "fundingRate": None, "fundingTime": 1}])
    assert info.value.field == "fundingRate"
    with pytest.raises(SourceError) as info:
        parse_open_interest({"openInterest": "-5", "symbol": "BTCUSDT", "time": 1}, 1.0)
    assert info.value.field == "openInterest"
    with pytest.raises(SourceError) as info:
        parse_open_interest_hist({"code": -1121})
    assert info.value.field == "response"
    with pytest.raises(SourceError) as info:
        parse_funding_info([{"symbol": "X", "fundingIntervalHours": 0}])
    assert info.value.field == "fundingIntervalHours"
