"""The Binance spot parsers (``sources.binance_spot``) on real recorded responses and on hostile input.

The real files live in the shared fixtures folder next to the repository (never copied in); the tests
skip cleanly where it is absent. Hostile input must raise a :class:`SourceError` naming provider, endpoint and
field: the console shows that in the status bar instead of a wrong figure.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from records.klines import KLINE_FRAME_COLUMNS
from sources.binance_spot import parse_exchange_info, parse_klines, parse_ticker_24hr
from sources.errors import SourceError

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real" / "binance"
KLINES_ENDPOINT = "/api/v3/klines"
TICKER_ENDPOINT = "/api/v3/ticker/24hr"


def real(name: str) -> Any:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"real fixture {path} not available")
    return json.loads(path.read_text())


@pytest.fixture
def live_klines() -> list[list[Any]]:
    return real("spot_klines_btcusdt_1m.json")


@pytest.fixture
def docs_ticker() -> dict[str, Any]:
    return real("spot_ticker_24hr_docs_example.json")


def raises_source_error(fn: Any, *args: Any, endpoint: str, field: str) -> SourceError:
    with pytest.raises(SourceError) as info:
        fn(*args)
    err = info.value
    assert (err.provider, err.endpoint, err.field) == ("binance", endpoint, field)
    assert "binance" in str(err) and endpoint in str(err) and field in str(err)
    return err


# --- real responses -----------------------------------------------------------------------------------------


def test_live_btcusdt_minutes(live_klines: list[list[Any]]) -> None:
    now = live_klines[-1][6] + 1  # just after the last bar closed
    frame = parse_klines(live_klines, now)
    assert len(frame) == len(live_klines)
    assert set(frame.columns) == set(KLINE_FRAME_COLUMNS) - {"open_time"}
    assert str(frame.index.tz) == "UTC" and frame.index.name == "open_time"
    assert frame.index[0] == pd.Timestamp(live_klines[0][0], unit="ms", tz="UTC")
    assert (frame.index.to_series().diff().iloc[1:] == pd.Timedelta(minutes=1)).all()
    for i, row in enumerate(live_klines):
        got = frame.iloc[i]
        assert got["open"] == float(row[1]) and got["close"] == float(row[4])
        assert got["volume"] == float(row[5]) and got["quote_volume"] == float(row[7])
        assert got["trades"] == row[8]
        assert got["taker_buy_base"] == float(row[9]) and got["taker_buy_quote"] == float(row[10])
        assert got["close_time"] == pd.Timestamp(row[6], unit="ms", tz="UTC")
    assert frame["trades"].dtype == np.int64
    assert not frame["provisional"].any()
    # CVD's inputs: the taker-sell quote volume is what remains of the quote volume.
    assert ((frame["quote_volume"] - frame["taker_buy_quote"]) >= 0).all()


def test_live_last_bar_is_provisional_while_open(live_klines: list[list[Any]]) -> None:
    now = live_klines[-1][0] + 30_000  # half-way through the last minute
    frame = parse_klines(live_klines, now)
    assert frame["provisional"].tolist() == [False] * (len(live_klines) - 1) + [True]


def test_docs_example_klines() -> None:
    raw = real("spot_klines_docs_example.json")
    frame = parse_klines(raw, now_ms=raw[0][6] + 1)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["high"] == float(raw[0][2]) and row["low"] == float(raw[0][3])
    assert row["taker_buy_quote"] == float(raw[0][10])
    assert row["close_time"] - frame.index[0] == pd.Timedelta(milliseconds=raw[0][6] - raw[0][0])


def test_docs_example_ticker(docs_ticker: dict[str, Any]) -> None:
    t = parse_ticker_24hr(docs_ticker)
    assert t.symbol == docs_ticker["symbol"]
    assert t.last == float(docs_ticker["lastPrice"])
    assert t.open == float(docs_ticker["openPrice"])
    assert (t.high, t.low) == (float(docs_ticker["highPrice"]), float(docs_ticker["lowPrice"]))
    assert t.change_pct == float(docs_ticker["priceChangePercent"])
    assert t.quote_volume == float(docs_ticker["quoteVolume"])
    assert t.close_time == pd.Timestamp(docs_ticker["closeTime"], unit="ms", tz="UTC")


def test_empty_kline_list_is_an_empty_frame_of_the_same_shape(live_klines: list[list[Any]]) -> None:
    empty = parse_klines([], now_ms=0)
    full = parse_klines(live_klines, now_ms=0)
    assert empty.empty and list(empty.columns) == list(full.columns)
    # Same kinds of column; the datetime unit may differ (pandas 3 infers it from the data).
    assert [d.kind for d in empty.dtypes] == [d.kind for d in full.dtypes]
    assert str(empty.index.tz) == "UTC" and empty.index.name == "open_time"


def test_null_taker_split_is_unknown_not_zero(live_klines: list[list[Any]]) -> None:
    rows = copy.deepcopy(live_klines)
    rows[3][9] = rows[3][10] = None
    frame = parse_klines(rows, now_ms=rows[-1][6] + 1)
    assert math.isnan(frame["taker_buy_quote"].iloc[3]) and math.isnan(frame["taker_buy_base"].iloc[3])
    assert frame["taker_buy_quote"].drop(frame.index[3]).notna().all()


def test_the_fast_column_path_and_the_strict_parser_agree(live_klines: list[list[Any]]) -> None:
    """A well-formed answer takes numpy's column conversion (the market CVD parses ~200 pairs x 700 bars at
    start-up); the strict per-value parser, used whenever anything is off, must give the very same values."""
    from sources import binance_spot

    fast = binance_spot._kline_columns(live_klines)
    assert fast is not None
    slow = binance_spot._kline_values(live_klines, KLINES_ENDPOINT)
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    # Anything off leaves the fast path, so the strict parser can name it.
    for index, value in ((1, ""), (8, "617"), (9, None), (2, "inf"), (0, 1.5e12), (5, True)):
        assert binance_spot._kline_columns(_klines_with(live_klines, 3, index, value)) is None, (index, value)
    assert binance_spot._kline_columns([*live_klines, live_klines[0][:10]]) is None


# --- hostile klines -----------------------------------------------------------------------------------------


def _klines_with(live: list[list[Any]], row: int, index: int, value: Any) -> list[list[Any]]:
    rows = copy.deepcopy(live)
    rows[row][index] = value
    return rows


@pytest.mark.parametrize(
    ("index", "value", "field"),
    [
        (1, "sixty thousand", "open"),
        (2, "NaN", "high"),
        (3, "Infinity", "low"),
        (4, None, "close"),
        (4, "", "close"),
        (5, float("nan"), "volume"),
        (7, [1, 2], "quote_volume"),
        (9, "1e999", "taker_buy_base"),
        (10, "0x10", "taker_buy_quote"),
        (0, "yesterday", "openTime"),
        (0, 1634943780000.5, "openTime"),
        (6, None, "closeTime"),
        (8, True, "trades"),
        (8, "617.5", "trades"),
    ],
)
def test_garbage_values_name_the_field(
    live_klines: list[list[Any]], index: int, value: Any, field: str
) -> None:
    rows = _klines_with(live_klines, 4, index, value)
    raises_source_error(parse_klines, rows, 0, endpoint=KLINES_ENDPOINT, field=field)


def test_error_body_instead_of_a_list() -> None:
    body = {"code": -1121, "msg": "Invalid symbol."}
    raises_source_error(parse_klines, body, 0, endpoint=KLINES_ENDPOINT, field="response")


@pytest.mark.parametrize("row", [None, "garbage", {"0": 1}, [1634943780000, "1", "1", "1", "1", "1"]])
def test_short_or_non_array_rows(live_klines: list[list[Any]], row: Any) -> None:
    rows = [*copy.deepcopy(live_klines[:2]), row]
    err = raises_source_error(parse_klines, rows, 0, endpoint=KLINES_ENDPOINT, field="kline")
    assert "row 2" in str(err)


def test_missing_taker_fields_are_a_short_row(live_klines: list[list[Any]]) -> None:
    rows = copy.deepcopy(live_klines)
    rows[1] = rows[1][:9]
    raises_source_error(parse_klines, rows, 0, endpoint=KLINES_ENDPOINT, field="kline")


def test_decreasing_or_repeated_open_times(live_klines: list[list[Any]]) -> None:
    reversed_rows = list(reversed(copy.deepcopy(live_klines)))
    raises_source_error(parse_klines, reversed_rows, 0, endpoint=KLINES_ENDPOINT, field="openTime")
    repeated = [*copy.deepcopy(live_klines), copy.deepcopy(live_klines[-1])]
    raises_source_error(parse_klines, repeated, 0, endpoint=KLINES_ENDPOINT, field="openTime")


def test_taker_buy_above_total_quote(live_klines: list[list[Any]]) -> None:
    quote = float(live_klines[2][7])
    rows = _klines_with(live_klines, 2, 10, f"{quote * 1.01:.8f}")
    raises_source_error(parse_klines, rows, 0, endpoint=KLINES_ENDPOINT, field="takerBuyQuote")
    # Exactly equal (every trade was a taker buy, like the live file's last bar) is legitimate.
    equal = _klines_with(live_klines, 2, 10, live_klines[2][7])
    assert parse_klines(equal, 0)["taker_buy_quote"].iloc[2] == quote


def test_negative_price_or_volume(live_klines: list[list[Any]]) -> None:
    rows = _klines_with(live_klines, 0, 5, "-1.0")
    raises_source_error(parse_klines, rows, 0, endpoint=KLINES_ENDPOINT, field="kline")


def test_custom_endpoint_is_named(live_klines: list[list[Any]]) -> None:
    rows = _klines_with(live_klines, 0, 1, "abc")
    raises_source_error(parse_klines, rows, 0, "/api/v3/uiKlines", endpoint="/api/v3/uiKlines", field="open")


# --- hostile tickers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["symbol", "lastPrice", "openPrice", "highPrice", "lowPrice", "priceChangePercent", "quoteVolume"],
)
def test_ticker_missing_field(docs_ticker: dict[str, Any], field: str) -> None:
    raw = {k: v for k, v in docs_ticker.items() if k != field}
    err = raises_source_error(parse_ticker_24hr, raw, endpoint=TICKER_ENDPOINT, field=field)
    assert "missing" in str(err)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lastPrice", "NaN"),
        ("lastPrice", "0.00000000"),
        ("lastPrice", "-4.0"),
        ("highPrice", "n/a"),
        ("quoteVolume", None),
        ("priceChangePercent", "-inf"),
        ("closeTime", "soon"),
        ("closeTime", None),
        ("symbol", ""),
        ("symbol", 42),
    ],
)
def test_ticker_garbage(docs_ticker: dict[str, Any], field: str, value: Any) -> None:
    raw = {**docs_ticker, field: value}
    raises_source_error(parse_ticker_24hr, raw, endpoint=TICKER_ENDPOINT, field=field)


@pytest.mark.parametrize("raw", [None, [], "BNBBTC", 4.0])
def test_ticker_not_an_object(raw: Any) -> None:
    with pytest.raises(SourceError) as info:
        parse_ticker_24hr(raw)
    assert (info.value.provider, info.value.endpoint) == ("binance", TICKER_ENDPOINT)
    assert info.value.field == "symbol"


# --- exchangeInfo: the pair listing of the market-wide CVD ---------------------------------------------------

EXCHANGE_INFO_ENDPOINT = "/api/v3/exchangeInfo"


def documented_symbol(symbol: str, base: str, quote: str, **changes: Any) -> dict[str, Any]:
    """One ``symbols`` entry as ``rest-api.md`` "Exchange information" shows it (binance-spot-api-docs @ a5e0bc3d)."""
    entry: dict[str, Any] = {
        "symbol": symbol, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8, "quoteAsset": quote,
        "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "opoAllowed": True,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False, "cancelReplaceAllowed": False,
        "amendAllowed": False, "pegInstructionsAllowed": True, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True, "filters": [], "permissions": [], "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"],
    }  # fmt: skip
    entry.update(changes)
    return entry


@pytest.fixture
def docs_exchange_info() -> dict[str, Any]:
    return {
        "timezone": "UTC", "serverTime": 1565246363776,
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}],
        "exchangeFilters": [],
        "symbols": [
            documented_symbol("ETHBTC", "ETH", "BTC"),
            documented_symbol("SOLUSDT", "SOL", "USDT", permissionSets=[["SPOT", "MARGIN"], ["TRD_GRP_004"]]),
            documented_symbol("MATICUSDT", "MATIC", "USDT", status="BREAK", isSpotTradingAllowed=False),
            documented_symbol("BTCUPUSDT", "BTCUP", "USDT", permissionSets=[["LEVERAGED"]]),
        ],
        "sors": [{"baseAsset": "BTC", "symbols": ["BTCUSDT", "BTCUSDC"]}],
    }  # fmt: skip


def test_exchange_info_documented_body(docs_exchange_info: dict[str, Any]) -> None:
    listing = parse_exchange_info(docs_exchange_info)
    assert listing.server_time == 1565246363776
    by_symbol = {s.symbol: s for s in listing.symbols}
    assert list(by_symbol) == ["ETHBTC", "SOLUSDT", "MATICUSDT", "BTCUPUSDT"]
    eth = by_symbol["ETHBTC"]
    assert (eth.base, eth.quote, eth.status, eth.trading, eth.leveraged) == ("ETH", "BTC", "TRADING", True, False)
    # Permission sets are ANDed lists of ORed names: every name counts as one the pair carries.
    assert by_symbol["SOLUSDT"].permissions == {"SPOT", "MARGIN", "TRD_GRP_004"}
    assert not by_symbol["MATICUSDT"].trading and by_symbol["MATICUSDT"].status == "BREAK"
    assert by_symbol["BTCUPUSDT"].leveraged and by_symbol["BTCUPUSDT"].trading
    # showPermissionSets=false answers empty sets; a legacy filled ``permissions`` still counts.
    bare = dict(docs_exchange_info, symbols=[documented_symbol("X1USDT", "X1", "USDT", permissionSets=[],
                                                               permissions=["LEVERAGED"])])  # fmt: skip
    assert parse_exchange_info(bare).symbols[0].leveraged


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"symbols": []}, "symbols"),
        ({"symbols": {"ETHBTC": {}}}, "symbols"),
        ({"symbols": ["ETHBTC"]}, "symbols"),
        ({"serverTime": "soon"}, "serverTime"),
        ({"serverTime": float("nan")}, "serverTime"),
    ],
)
def test_exchange_info_malformed_envelope(docs_exchange_info: dict[str, Any], change: dict[str, Any],
                                          field: str) -> None:  # fmt: skip
    raises_source_error(parse_exchange_info, {**docs_exchange_info, **change}, endpoint=EXCHANGE_INFO_ENDPOINT,
                        field=field)  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", ""),
        ("symbol", None),
        ("baseAsset", 7),
        ("quoteAsset", ""),
        ("status", None),
        ("isSpotTradingAllowed", "true"),
        ("permissionSets", "SPOT"),
        ("permissionSets", ["SPOT"]),
        ("permissionSets", [["SPOT", 3]]),
        ("permissions", "SPOT"),
    ],
)
def test_exchange_info_garbage_symbol(docs_exchange_info: dict[str, Any], field: str, value: Any) -> None:
    raw = copy.deepcopy(docs_exchange_info)
    raw["symbols"][1][field] = value
    raises_source_error(parse_exchange_info, raw, endpoint=EXCHANGE_INFO_ENDPOINT, field=field)


@pytest.mark.parametrize("field", ["symbol", "baseAsset", "quoteAsset", "status", "serverTime", "symbols"])
def test_exchange_info_missing_field_is_named(docs_exchange_info: dict[str, Any], field: str) -> None:
    raw = copy.deepcopy(docs_exchange_info)
    if field in raw:
        del raw[field]
    else:
        del raw["symbols"][0][field]
    err = raises_source_error(parse_exchange_info, raw, endpoint=EXCHANGE_INFO_ENDPOINT, field=field)
    assert "missing" in str(err)
