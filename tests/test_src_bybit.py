"""Bybit v5 parsers against docs/test samples, the documented linear shape, and hostile inputs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sources.bybit import parse_funding_history, parse_tickers
from sources.errors import RateLimited, SourceError

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real" / "bybit"


def load(name: str) -> Any:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real sample {name} not available")
    return json.loads(path.read_text())


def linear_from(item: dict[str, Any], when: int = 1673272861686) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": [item]}, "retExtInfo": {},
            "time": when}  # fmt: skip


def test_tickers_from_linear_ws_snapshot_fields() -> None:
    # The linear ticker object (docs example pushed over WS) wrapped in the REST envelope of tickers.mdx.
    data = load("ws_ticker_linear_docs_example.json")["data"]
    snap = parse_tickers(linear_from(data))
    (quote,) = snap.funding
    (oi,) = snap.open_interest
    assert quote.coin == "BTC" and quote.rate == pytest.approx(-0.000212) and quote.interval_hours == 8
    assert quote.mark_price == pytest.approx(17217.33)
    assert quote.index_price == pytest.approx(float(data["indexPrice"]))
    assert quote.next_funding_time is not None and quote.next_funding_time.value // 10**6 == 1673280000000
    # openInterest/openInterestValue count both sides (Bybit's docs): one side, as the other venues count, is half.
    assert oi.oi_base == pytest.approx(68744.761 / 2) and oi.oi_usd == pytest.approx(1183601235.91 / 2)


def test_tickers_inverse_docs_example_is_rejected_as_wrong_category() -> None:
    raw = load("tickers_inverse_docs_example.json")
    with pytest.raises(SourceError) as info:
        parse_tickers(raw)
    assert info.value.field == "category"


def test_tickers_normalise_4h_scaled_and_missing() -> None:
    base = load("tickers_inverse_docs_example.json")["result"]["list"][0]
    pepe = dict(base, symbol="1000PEPEUSDT", markPrice="0.012", fundingRate="0.0002", fundingIntervalHour="4",
                openInterest="1000", openInterestValue="12")  # fmt: skip
    prelisting = dict(base, symbol="NEWUSDT", fundingRate="", openInterest="", openInterestValue="")
    usdc = dict(base, symbol="BTCPERP")
    raw = {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": [pepe, prelisting, usdc]},
           "retExtInfo": {}, "time": 1}  # fmt: skip
    snap = parse_tickers(raw)
    assert [q.symbol for q in snap.funding] == ["1000PEPEUSDT"]  # "" funding is missing, not zero
    quote = snap.funding[0]
    assert quote.rate_8h == pytest.approx(0.0004) and quote.mark_price == pytest.approx(0.000012)
    assert [o.coin for o in snap.open_interest] == ["PEPE"]
    assert snap.open_interest[0].oi_base == 500_000 and snap.open_interest[0].oi_usd == 6  # two-sided, halved
    # The single-side fields (2026-06-11) are Bybit's own one-side figures: used as they are when present.
    single = dict(pepe, singleOpenInterest="480", singleOpenInterestValue="5.9")
    raw["result"]["list"] = [single]
    [oi] = parse_tickers(raw).open_interest
    assert oi.oi_base == 480_000 and oi.oi_usd == pytest.approx(5.9)


def test_funding_history_samples() -> None:
    frame = parse_funding_history(load("funding_history_test_data.json"))
    assert frame["rate"].tolist() == pytest.approx([0.00015, 0.0001])  # sorted oldest first
    assert frame["interval_hours"].tolist() == [8.0, 8.0]
    with pytest.raises(SourceError) as info:  # the docs example is the USDC perp ETHPERP
        parse_funding_history(load("funding_history_docs_example.json"))
    assert info.value.field == "symbol"


@pytest.mark.parametrize(
    ("mutate", "field_name"),
    [
        (lambda r: r["result"]["list"][0].update(fundingRate="x"), "fundingRate"),
        (lambda r: r["result"]["list"][0].update(fundingIntervalHour=""), "fundingIntervalHour"),
        (lambda r: r["result"]["list"][0].update(markPrice=""), "markPrice"),
        (lambda r: r["result"]["list"][0].pop("openInterest"), "openInterest"),
        (lambda r: r.update(retCode="0"), "retCode"),
        (lambda r: r.update(result=[]), "result"),
    ],
)
def test_tickers_hostile(mutate: Any, field_name: str) -> None:
    raw = linear_from(copy.deepcopy(load("ws_ticker_linear_docs_example.json")["data"]))
    mutate(raw)
    with pytest.raises(SourceError) as info:
        parse_tickers(raw)
    assert info.value.field == field_name and info.value.provider == "bybit"


def test_error_envelope_on_http_200() -> None:
    with pytest.raises(RateLimited):
        parse_tickers({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "time": 1})
    with pytest.raises(SourceError, match="10001"):
        parse_tickers({"retCode": 10001, "retMsg": "params error", "result": {}, "time": 1})
