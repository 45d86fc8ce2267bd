"""Parsers for alternative.me, CoinGecko, Yahoo, Stooq and FRED: real fixtures where they exist, and
hostile input."""

from __future__ import annotations

import json
import math

import pytest

from sources.alternative_me import parse_fng
from sources.coingecko import parse_coin_markets, parse_global
from sources.errors import RateLimited, SourceError, SourceUnavailable
from sources.fred import parse_fredgraph_csv
from sources.stooq import parse_stooq_csv, stooq_symbol
from sources.yahoo import parse_chart
from tests.conftest import SHARED

REAL = SHARED / "fixtures" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="shared real fixtures not present")


# --- FRED (real downloads in both header formats)


@needs_real
def test_fred_current_format_real_file():
    text = (REAL / "fred/DGS2_fredgraph_current_format.csv").read_text()
    series = parse_fredgraph_csv(text, "DGS2")
    assert series.series_id == "DGS2"
    assert len(series.values) == 60
    assert series.values.loc["2025-11-21"] == pytest.approx(3.51)  # first row of the file
    assert math.isnan(series.values.loc["2025-11-27"])  # Thanksgiving: empty cell
    assert str(series.as_of.date()) == "2026-02-12" and series.latest == pytest.approx(3.47)


@needs_real
def test_fred_legacy_format_real_file():
    text = (REAL / "fred/DGS2_fredgraph_legacy_format.csv").read_text()
    assert text.startswith("DATE,DGS2")
    series = parse_fredgraph_csv(text, "DGS2")
    assert series.values.isna().sum() == 2  # "." cells
    assert str(series.as_of.date()) == "2023-03-27" and series.latest == pytest.approx(3.94)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("observation_date,DGS2\n2025-01-02,abc\n", "DGS2"),
        ("when,DGS2\n2025-01-02,4.1\n", "header"),
        ("observation_date,DGS2\n02/01/2025,4.1\n", "observation_date"),
        ("observation_date,DGS2\n2025-01-03,4.1\n2025-01-02,4.0\n", "observation_date"),
        ("<html>error</html>", "header"),
    ],
)
def test_fred_hostile(text, field):
    with pytest.raises(SourceError) as err:
        parse_fredgraph_csv(text, "DGS2")
    assert err.value.field == field and err.value.provider == "fred"


def test_fred_series_mismatch():
    with pytest.raises(SourceError, match="asked for DGS2"):
        parse_fredgraph_csv("observation_date,DFF\n2025-01-02,4.33\n", "DGS2")


# --- Yahoo (real recorded chart bodies)


@needs_real
def test_yahoo_daily_real_fixture():
    raw = json.loads((REAL / "yahoo/chart_aapl_1d_2020-08-31_2020-11-07.json").read_text())
    bars = parse_chart(raw, "AAPL")
    assert len(bars.frame) == 49
    assert bars.frame["close"].iloc[0] == pytest.approx(129.0399932861328)
    assert str(bars.frame.index[0]) == "2020-08-31 13:30:00+00:00"  # 1598880600 = 09:30 New York
    assert bars.exchange_tz == "America/New_York" and bars.currency == "USD"
    qqq = parse_chart(json.loads((REAL / "yahoo/chart_qqq_1d.json").read_text()), "QQQ")
    assert len(qqq.frame) == 1 and qqq.frame["close"].iloc[0] == pytest.approx(216.16000366210938)


@needs_real
def test_yahoo_empty_range_real_fixture():
    raw = json.loads((REAL / "yahoo/chart_aapl_1m_intraday.json").read_text())
    bars = parse_chart(raw, "AAPL")
    assert bars.frame.empty and bars.regular_market_price == pytest.approx(244.87)


@needs_real
def test_yahoo_nulls_become_nan():
    raw = json.loads((REAL / "yahoo/chart_aapl_1d_2020-08-31_2020-11-07.json").read_text())
    quote = raw["chart"]["result"][0]["indicators"]["quote"][0]
    quote["close"][3] = None
    quote["volume"][3] = None
    bars = parse_chart(raw, "AAPL")
    assert math.isnan(bars.frame["close"].iloc[3]) and math.isnan(bars.frame["volume"].iloc[3])
    assert len(bars.frame) == 49


def test_yahoo_error_body():
    error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
    raw = {"chart": {"result": None, "error": error}}
    with pytest.raises(SourceError) as err:
        parse_chart(raw, "NOPE")
    assert err.value.field == "chart.error" and "delisted" in str(err.value)
    assert "/v8/finance/chart/NOPE" in str(err.value)


def test_yahoo_misaligned_and_garbage():
    raw = {"chart": {"result": [{"meta": {"symbol": "SPY"}, "timestamp": [1, 2],
           "indicators": {"quote": [{"open": [1, 2], "high": [1, 2], "low": [1, 2], "close": [1],
                                     "volume": [1, 2]}]}}], "error": None}}  # fmt: skip
    with pytest.raises(SourceError) as err:
        parse_chart(raw, "SPY")
    assert err.value.field == "indicators.quote.close"
    raw["chart"]["result"][0]["indicators"]["quote"][0]["close"] = [1, "x"]
    with pytest.raises(SourceError) as err:
        parse_chart(raw, "SPY")
    assert err.value.field == "indicators.quote.close"


# --- Stooq


STOOQ = "Date,Open,High,Low,Close,Volume\n2025-10-09,671.2,672.5,668.1,671.16,58000000\n" \
        "2025-10-10,672.0,673.9,652.8,653.02,159000000\n"  # fmt: skip


def test_stooq_csv():
    bars = parse_stooq_csv(STOOQ, "SPY")
    assert bars.source == "stooq" and len(bars.frame) == 2
    assert bars.frame["close"].iloc[-1] == pytest.approx(653.02)
    assert str(bars.frame.index[-1]) == "2025-10-10 13:30:00+00:00"
    assert stooq_symbol("SPY") == "spy.us" and stooq_symbol("^SPX") == "^spx"


def test_stooq_failure_bodies():
    with pytest.raises(RateLimited):
        parse_stooq_csv("Exceeded the daily hits limit", "SPY")
    assert issubclass(RateLimited, SourceError)
    with pytest.raises(SourceUnavailable):
        parse_stooq_csv("<html><body>verify</body></html>", "SPY")
    with pytest.raises(SourceError, match="no data"):
        parse_stooq_csv("No data", "XYZ")
    with pytest.raises(SourceError) as err:
        parse_stooq_csv("Warning: Division by zero\nDate,Open,High,Low,Close,Volume\n", "SPY")
    assert err.value.field == "header"
    with pytest.raises(SourceError) as err:
        parse_stooq_csv(STOOQ.replace("653.02", "n/a"), "SPY")
    assert err.value.field == "Close"


# --- alternative.me


FNG = {"name": "Fear and Greed Index", "data": [
    {"value": "27", "value_classification": "Fear", "timestamp": "1760140800", "time_until_update": "3600"},
    {"value": "64", "value_classification": "Greed", "timestamp": "1760054400"},
], "metadata": {"error": None}}  # fmt: skip


def test_fng():
    fg = parse_fng(FNG)
    assert list(fg.frame["value"]) == [64.0, 27.0]  # oldest first
    assert fg.latest_value == 27 and fg.latest_classification == "Fear"
    assert str(fg.as_of) == "2025-10-11 00:00:00+00:00" and fg.next_update_s == 3600


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["data"][0].update(value="high"), "value"),
        (lambda d: d["data"][0].update(value="140"), "value"),
        (lambda d: d["data"][0].update(timestamp="1760140800000"), "timestamp"),
        (lambda d: d["data"][0].update(value_classification="Panic"), "value_classification"),
        (lambda d: d["data"][0].pop("timestamp"), "timestamp"),
        (lambda d: d.update(metadata={"error": "bad limit"}), "metadata.error"),
    ],
)
def test_fng_hostile(mutate, field):
    raw = json.loads(json.dumps(FNG))
    mutate(raw)
    with pytest.raises(SourceError) as err:
        parse_fng(raw)
    assert err.value.field == field and err.value.provider == "alternative.me"


# --- CoinGecko


GLOBAL = {"data": {"active_cryptocurrencies": 17000, "markets": 1200,
                   "total_market_cap": {"usd": 3.5e12}, "total_volume": {"usd": 1.2e11},
                   "market_cap_percentage": {"btc": 58.0, "eth": 11.0, "usdt": 5.0, "usdc": 2.0, "xrp": 4.0},
                   "market_cap_change_percentage_24h_usd": -2.5, "updated_at": 1760140800}}  # fmt: skip


def test_global():
    g = parse_global(GLOBAL)
    assert g.btc_dominance_pct == 58.0 and g.stablecoin_share_pct == 7.0 and g.stablecoins_complete
    assert g.alt_mcap_ex_btc_eth_usd == pytest.approx(3.5e12 * 0.31)
    assert g.alt_mcap_ex_btc_usd == pytest.approx(3.5e12 * 0.42)
    raw = json.loads(json.dumps(GLOBAL))
    del raw["data"]["market_cap_percentage"]["usdc"]
    assert parse_global(raw).stablecoins_complete is False


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["data"]["total_market_cap"].update(usd="lots"), "total_market_cap.usd"),
        (lambda d: d["data"]["market_cap_percentage"].pop("btc"), "market_cap_percentage.btc"),
        (lambda d: d["data"]["market_cap_percentage"].update(btc=158.0), "market_cap_percentage.btc"),
        (lambda d: d["data"].pop("updated_at"), "updated_at"),
        (lambda d: d.update(data=None) or d.update(error="rate limited"), "error"),
    ],
)
def test_global_hostile(mutate, field):
    raw = json.loads(json.dumps(GLOBAL))
    mutate(raw)
    with pytest.raises(SourceError) as err:
        parse_global(raw)
    assert err.value.field == field and err.value.provider == "coingecko"


def test_coin_markets_nullable_fields():
    raw = [
        {"id": "newcoin", "symbol": "new", "name": "New", "current_price": 1.0, "market_cap": 5e8,
         "market_cap_rank": None, "total_volume": 1e7, "price_change_percentage_24h": None,
         "price_change_percentage_30d_in_currency": None},
        {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin", "current_price": 110000.0, "market_cap": 2.2e12,
         "market_cap_rank": 1, "total_volume": 5e10, "price_change_percentage_24h": -1.0,
         "price_change_percentage_30d_in_currency": -8.5},
    ]  # fmt: skip
    frame = parse_coin_markets(raw)
    assert list(frame["id"]) == ["bitcoin", "newcoin"]
    assert frame.loc[1, "symbol"] == "NEW" and math.isnan(frame.loc[1, "change_30d_pct"])
    assert frame.loc[0, "change_30d_pct"] == -8.5
    raw[1]["market_cap"] = "big"
    with pytest.raises(SourceError) as err:
        parse_coin_markets(raw)
    assert err.value.field == "bitcoin.market_cap"
    with pytest.raises(SourceError):
        parse_coin_markets({"status": {"error_code": 429, "error_message": "rate limited"}})
