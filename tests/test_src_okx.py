"""OKX v5 parsers: the test-data sample, the documented formats (OKX docs v5) inline, hostile inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sources.errors import RateLimited, SourceError
from sources.okx import parse_funding_history, parse_funding_rates, parse_open_interest

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real" / "okx"

# The response example of "Get funding rate" in the OKX v5 docs (instId=BTC-USDT-SWAP).
DOCS_FUNDING = {
    "code": "0",
    "data": [{
        "formulaType": "noRate", "fundingRate": "0.0000182221218054", "fundingTime": "1743609600000",
        "impactValue": "", "instId": "BTC-USDT-SWAP", "instType": "SWAP", "interestRate": "",
        "maxFundingRate": "0.00375", "method": "current_period", "minFundingRate": "-0.00375",
        "nextFundingRate": "", "nextFundingTime": "1743638400000", "premium": "0.0000910113652644",
        "settFundingRate": "0.0000145824401745", "settState": "settled", "ts": "1743588686291",
    }],
    "msg": "",
}  # fmt: skip
# The response example of "Get open interest" (instType=SWAP).
DOCS_OI = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "instType": "SWAP",
            "instId": "BTC-USDT-SWAP",
            "oi": "5000",
            "oiCcy": "555.55",
            "oiUsd": "50000",
            "ts": "1597026383085",
        }
    ],
}


def test_funding_rate_docs_example() -> None:
    (quote,) = parse_funding_rates(DOCS_FUNDING)
    assert quote.coin == "BTC" and quote.interval_hours == 8  # 1743638400000 - 1743609600000
    assert quote.rate == pytest.approx(0.0000182221218054) and quote.rate_8h == pytest.approx(quote.rate)
    assert quote.next_funding_time is not None and quote.next_funding_time.value // 10**6 == 1743609600000
    assert quote.mark_price is None


def test_funding_rate_any_filters_and_normalises() -> None:
    item = DOCS_FUNDING["data"][0]
    four_h = dict(
        item, instId="PEPE-USDT-SWAP", fundingRate="0.0002", nextFundingTime=str(1743609600000 + 4 * 3600_000)
    )
    inverse = dict(item, instId="BTC-USD-SWAP")
    xperp = dict(item, instId="BTC-USDT-250328", instType="FUTURES")
    quotes = parse_funding_rates({"code": "0", "msg": "", "data": [four_h, inverse, xperp]})
    assert [(q.coin, q.interval_hours) for q in quotes] == [("PEPE", 4)]
    assert quotes[0].rate_8h == pytest.approx(0.0004)


def test_open_interest_docs_example() -> None:
    (oi,) = parse_open_interest(DOCS_OI)
    assert oi.coin == "BTC" and oi.oi_base == pytest.approx(555.55) and oi.oi_usd == pytest.approx(50000)


def test_funding_history_sample_uses_realized_rate() -> None:
    path = REAL / "funding_rate_history_test_data.json"
    if not path.exists():
        pytest.skip("real sample not available")
    frame = parse_funding_history(json.loads(path.read_text()))
    assert frame["rate"].tolist() == pytest.approx([-0.00002, 0.00015])  # realizedRate, oldest first
    assert frame["interval_hours"].tolist() == [8.0, 8.0]


@pytest.mark.parametrize(
    ("raw", "field_name"),
    [
        ({"code": "0", "msg": "", "data": [dict(DOCS_FUNDING["data"][0], fundingRate="1e9x")]},
         "fundingRate"),
        ({"code": "0", "msg": "", "data": [dict(DOCS_FUNDING["data"][0], nextFundingTime="1743609600000")]},
         "nextFundingTime"),
        ({"code": "0", "msg": "", "data": [{"instId": "BTC-USDT-SWAP", "fundingRate": "0.1"}]},
         "fundingTime"),
        ({"code": 0, "msg": "", "data": []}, "code"),
        ({"code": "0", "msg": ""}, "data"),
        ({"code": "51001", "msg": "Instrument ID doesn't exist", "data": []}, "code"),
    ],
)  # fmt: skip
def test_funding_hostile(raw: Any, field_name: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_funding_rates(raw)
    assert info.value.field == field_name and info.value.provider == "okx"


def test_open_interest_hostile_and_rate_limit() -> None:
    bad = {"code": "0", "msg": "", "data": [dict(DOCS_OI["data"][0], oiUsd="")]}
    with pytest.raises(SourceError) as info:
        parse_open_interest(bad)
    assert info.value.field == "oiUsd"
    with pytest.raises(RateLimited):
        parse_open_interest({"code": "50011", "msg": "Rate limit reached", "data": []})
