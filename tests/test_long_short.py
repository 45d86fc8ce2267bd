"""Long/short ratios end to end: the parsers through the real clients (bodies in the venues' documented formats),
the emulated routes (formats, parameter checks, errors), the demo story, the feeds, the view-models, the snapshot
section, the funding pane's long/short view and the coin detail.

Documented formats (checked 2026-12 against the providers' pages):

* Binance USD-M "Long/Short Ratio" (``/futures/data/globalLongShortAccountRatio``) and "Top Trader Long/Short
  Ratio (Positions)" (``/futures/data/topLongShortPositionRatio``): weight 0, IP rate limit 1000 requests / 5 min,
  ``period`` 5m..1d, ``limit`` default 30, max 500, the latest 30 days; a JSON array of ``{symbol, longShortRatio,
  longAccount, shortAccount, timestamp}``, every value a string (copies in rosssaunders/coincise
  ``docs/binance/usdm/endpoints/public/``). The docs' own rows carry ratios that do not match their shares
  (``0.1960`` for 0.6622 / 0.3378): the ratio is taken as given.
* Bybit v5 "Get Long Short Ratio" (``/v5/market/account-ratio``): ``category``, ``symbol``, ``period`` 5min, 15min,
  30min, 1h, 4h, 1d, ``limit`` [1, 500] default 50, ``startTime``/``endTime``, ``cursor``; ``result.list`` of
  ``{symbol, buyRatio, sellRatio, timestamp}`` strings, newest first, and ``nextPageCursor``
  (``lastid%3D0%26lasttime%3D1696258800``).
"""

from __future__ import annotations

import itertools
import json
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pandas as pd
import pytest
from rich.text import Text
from textual.widgets import DataTable

from emulator.clock import VirtualClock
from emulator.core import Emulator
from emulator.dataset import MarketDataset
from emulator.demo import anchor_for, build_demo_dataset
from emulator.scenario import DAY, HOUR, MINUTE, Scenario
from emulator.transport import EmulatorTransport
from records.derivs import LongShortRatio
from records.viewmodels import CoinView, LongShortCell, LongShortColumn, LongShortView, PaneStatus
from sources.binance_futures import LONG_SHORT_ENDPOINTS, BinanceFutures
from sources.bybit import Bybit
from sources.errors import RateLimited, SourceError
from sources.http import HttpClient
from tests.conftest import FROZEN_NOW_MS
from tui.boot import Launch, boot
from tui.runtime.config import load_config
from tui.runtime.feeds_positioning import unknown_symbol
from tui.runtime.health import FeedHealth
from tui.runtime.modes import Runtime
from tui.runtime.state import MarketState
from tui.views.builder import ViewBuilder
from tui.views.coin import build_coin_view
from tui.views.long_short import snapshot_long_short
from widgets.coin_detail import long_short_block
from widgets.funding_pane import FundingPane
from widgets.heat import STALE_MARK

ACCOUNTS = LONG_SHORT_ENDPOINTS["accounts"]
TOP = LONG_SHORT_ENDPOINTS["top_positions"]
BYBIT = "/v5/market/account-ratio"
NOW = FROZEN_NOW_MS  # 2026-11-23 12:00 UTC
FIVE_MIN = 5 * MINUTE
DEFAULT_COINS = list(load_config(use_user_file=False).general.coins)

# The docs' response examples, verbatim in content.
BINANCE_ACCOUNTS_DOC = [
    {"symbol": "BTCUSDT", "longShortRatio": "0.1960", "longAccount": "0.6622", "shortAccount": "0.3378",
     "timestamp": "1583139600000"},
    {"symbol": "BTCUSDT", "longShortRatio": "1.9559", "longAccount": "0.6617", "shortAccount": "0.3382",
     "timestamp": "1583139900000"},
]  # fmt: skip
BINANCE_TOP_DOC = [
    {"symbol": "BTCUSDT", "longShortRatio": "1.4342", "longAccount": "0.5891", "shortAccount": "0.4108",
     "timestamp": "1583139600000"},
    {"symbol": "BTCUSDT", "longShortRatio": "1.4337", "longAccount": "0.3583", "shortAccount": "0.6417",
     "timestamp": "1583139900000"},
]  # fmt: skip
BYBIT_DOC = {
    "retCode": 0, "retMsg": "OK",
    "result": {"list": [{"symbol": "BTCUSDT", "buyRatio": "0.49", "sellRatio": "0.51", "timestamp": "1696262400000"},
                        {"symbol": "BTCUSDT", "buyRatio": "0.4927", "sellRatio": "0.5073",
                         "timestamp": "1696258800000"}],
               "nextPageCursor": "lastid%3D0%26lasttime%3D1696258800"},
    "retExtInfo": {}, "time": 1731567491688,
}  # fmt: skip


def ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


# -- the parsers, through the real clients ----------------------------------------------------------------------
class Recorder:
    """A MockTransport handler answering one body (and status) and remembering the requests."""

    def __init__(self, body: Any, status: int = 200) -> None:
        self.body, self.status = body, status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)


async def binance_call(body: Any, kind: str = "accounts", status: int = 200, **kwargs: Any) -> tuple[Any, Recorder]:
    handler = Recorder(body, status)
    http = HttpClient(httpx.MockTransport(handler), retries=0)
    try:
        found = await BinanceFutures(http, wall=lambda: NOW / 1000).long_short_ratio("BTCUSDT", kind, **kwargs)
    finally:
        await http.aclose()
    return found, handler


async def bybit_call(body: Any, status: int = 200, **kwargs: Any) -> tuple[Any, Recorder]:
    handler = Recorder(body, status)
    http = HttpClient(httpx.MockTransport(handler), retries=0)
    try:
        found = await Bybit(http).account_ratio("BTCUSDT", **kwargs)
    finally:
        await http.aclose()
    return found, handler


async def test_binance_accounts_docs_example_parses_as_given() -> None:
    found, handler = await binance_call(BINANCE_ACCOUNTS_DOC, limit=2)
    (request,) = handler.requests
    assert request.url.host == "fapi.binance.com" and request.url.path == ACCOUNTS
    assert dict(request.url.params) == {"symbol": "BTCUSDT", "period": "5m", "limit": "2"}
    first, second = found
    assert (first.coin, first.exchange, first.kind, first.symbol, first.period) == ("BTC", "binance", "accounts",
                                                                                    "BTCUSDT", "5m")  # fmt: skip
    # The docs' first row's ratio does not match its shares: taken as the venue gives it, never recomputed.
    assert first.ratio == pytest.approx(0.1960) and first.long_share == pytest.approx(0.6622)
    assert first.short_share == pytest.approx(0.3378)
    assert second.ratio == pytest.approx(1.9559) and second.long_share + second.short_share == pytest.approx(0.9999)
    assert first.time == ts(1583139600000) and second.time == ts(1583139900000)  # a digit string, in ms


async def test_binance_top_positions_docs_example_newest_first_comes_out_oldest_first() -> None:
    found, handler = await binance_call(list(reversed(BINANCE_TOP_DOC)), "top_positions", period="1h", limit=9999)
    assert handler.requests[0].url.path == TOP
    assert handler.requests[0].url.params["limit"] == "500"  # the documented max
    assert handler.requests[0].url.params["period"] == "1h"
    assert [r.time for r in found] == [ts(1583139600000), ts(1583139900000)]
    assert [r.kind for r in found] == ["top_positions"] * 2 and found[1].long_share == pytest.approx(0.3583)
    assert found[1].ratio == pytest.approx(1.4337)


async def test_binance_scaled_symbol_start_clamped_and_empty_list() -> None:
    row = {"symbol": "1000PEPEUSDT", "longShortRatio": "2.0000", "longAccount": "0.6667", "shortAccount": "0.3333",
           "timestamp": 1795434900000}  # fmt: skip
    (record,), handler = await binance_call([row], start_ms=NOW - 60 * DAY, end_ms=NOW)
    assert record.coin == "PEPE" and record.symbol == "1000PEPEUSDT"  # shares are shares: no scaling
    params = handler.requests[0].url.params
    assert int(params["startTime"]) == NOW - 29 * DAY and params["endTime"] == str(NOW)  # the latest 30 days only
    # No statistics for the symbol (or the window): no records, which the console shows as unknown.
    assert (await binance_call([]))[0] == []


BAD_BINANCE = [
    ({"longShortRatio": "1.9559", "longAccount": "0.6617", "timestamp": "1583139900000"}, "shortAccount",
     "missing field"),
    ({"longShortRatio": "abc", "longAccount": "0.6617", "shortAccount": "0.3382", "timestamp": "1"},
     "longShortRatio", "not a number"),
    ({"longShortRatio": "NaN", "longAccount": "0.6617", "shortAccount": "0.3382", "timestamp": "1"},
     "longShortRatio", "not a finite number"),
    ({"longShortRatio": "1.0", "longAccount": "0.6", "shortAccount": "0.6", "timestamp": "1"}, "shares", "not 1"),
    ({"longShortRatio": "1.96", "longAccount": "66.22", "shortAccount": "33.78", "timestamp": "1"}, "long",
     "outside [0, 1]"),
    ({"longShortRatio": "-1.0", "longAccount": "0.5", "shortAccount": "0.5", "timestamp": "1"}, "longShortRatio",
     "negative ratio"),
    ({"longShortRatio": "1.0", "longAccount": "0.5", "shortAccount": "0.5", "timestamp": "12:05"}, "timestamp",
     "expected an integer"),
]  # fmt: skip


@pytest.mark.parametrize(("row", "named", "detail"), BAD_BINANCE, ids=[b[2] for b in BAD_BINANCE])
@pytest.mark.parametrize("kind", ["accounts", "top_positions"])
async def test_binance_bad_rows_raise_a_named_source_error(row: dict, named: str, detail: str, kind: str) -> None:
    with pytest.raises(SourceError) as err:
        await binance_call([{"symbol": "BTCUSDT", **row}], kind)
    exc = err.value
    endpoint = LONG_SHORT_ENDPOINTS[kind]
    assert exc.provider == "binance" and exc.endpoint == endpoint and exc.field == named
    assert str(exc).startswith(f"binance {endpoint}") and detail in str(exc)


async def test_binance_bad_bodies_and_error_json() -> None:
    ok = BINANCE_ACCOUNTS_DOC[1]
    for body, detail in (
        ({"symbol": "BTCUSDT"}, "expected a list"),
        ([ok, {**ok, "symbol": "ETHUSDT", "timestamp": "1583140200000"}], "mixed symbols"),
        ([ok, ok], "duplicate timestamps"),
        ([{**ok, "symbol": "BTCUSDT_250328"}], "not a USDT perpetual"),
        (["not an object"], "expected an object"),
    ):
        with pytest.raises(SourceError) as err:
            await binance_call(body)
        assert err.value.endpoint == ACCOUNTS and detail in str(err.value), body
    # Binance's error JSON with HTTP 400: its code and message are kept; an unknown symbol is told apart.
    with pytest.raises(SourceError) as err:
        await binance_call({"code": -1121, "msg": "Invalid symbol."}, status=400)
    assert err.value.status == 400 and "code -1121: Invalid symbol." in str(err.value)
    assert str(err.value).startswith(f"binance {ACCOUNTS}") and unknown_symbol(err.value)
    with pytest.raises(SourceError) as err:
        await binance_call({"code": -1130, "msg": "Data sent for parameter 'period' is not valid."}, "top_positions",
                           status=400)  # fmt: skip
    assert err.value.endpoint == TOP and err.value.status == 400 and not unknown_symbol(err.value)


async def test_binance_client_refuses_what_the_venue_does_not_offer_without_a_request() -> None:
    for kwargs in ({"kind": "top_accounts"}, {"kind": "accounts", "period": "5min"}):
        handler = Recorder([])
        http = HttpClient(httpx.MockTransport(handler), retries=0)
        try:
            with pytest.raises(ValueError):
                await BinanceFutures(http).long_short_ratio("BTCUSDT", **kwargs)
        finally:
            await http.aclose()
        assert handler.requests == []


async def test_bybit_docs_example_newest_first_ratio_computed() -> None:
    found, handler = await bybit_call(BYBIT_DOC, period="1h", limit=2)
    (request,) = handler.requests
    assert request.url.host == "api.bybit.com" and request.url.path == BYBIT
    assert dict(request.url.params) == {"category": "linear", "symbol": "BTCUSDT", "period": "1h", "limit": "2"}
    older, newer = found  # oldest first
    assert older.time == ts(1696258800000) and newer.time == ts(1696262400000)
    assert newer.long_share == pytest.approx(0.49) and newer.short_share == pytest.approx(0.51)
    # Bybit sends no ratio: long share / short share.
    assert newer.ratio == pytest.approx(0.49 / 0.51) and older.ratio == pytest.approx(0.4927 / 0.5073)
    assert {(r.coin, r.exchange, r.kind, r.period) for r in found} == {("BTC", "bybit", "accounts", "1h")}
    # The default period is the 5-minute one; the documented limit range is kept.
    _, handler = await bybit_call(BYBIT_DOC, limit=0)
    assert handler.requests[0].url.params["period"] == "5min" and handler.requests[0].url.params["limit"] == "1"


def bybit_body(rows: Any, **result: Any) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": {"list": rows, "nextPageCursor": "", **result},
            "retExtInfo": {}, "time": 1731567491688}  # fmt: skip


BYBIT_ROW = {"symbol": "BTCUSDT", "buyRatio": "0.49", "sellRatio": "0.51", "timestamp": "1696262400000"}
BAD_BYBIT = [
    (bybit_body([{k: v for k, v in BYBIT_ROW.items() if k != "buyRatio"}]), "buyRatio", "missing field"),
    (bybit_body([{**BYBIT_ROW, "sellRatio": "n/a"}]), "sellRatio", "not a number"),
    (bybit_body([{**BYBIT_ROW, "sellRatio": ""}]), "sellRatio", "missing value"),
    (bybit_body([{**BYBIT_ROW, "buyRatio": "0.7"}]), "shares", "not 1"),
    (bybit_body([{**BYBIT_ROW, "buyRatio": "1", "sellRatio": "0"}]), "sellRatio", "ratio is undefined"),
    (bybit_body([BYBIT_ROW, {**BYBIT_ROW, "symbol": "ETHUSDT"}]), "symbol", "mixed symbols"),
    (bybit_body([BYBIT_ROW, BYBIT_ROW]), "timestamp", "duplicate timestamps"),
    ({"retCode": 0, "retMsg": "OK", "result": {}, "retExtInfo": {}, "time": 1}, "list", "missing field"),
    ({"retCode": 10001, "retMsg": "params error: Symbol Is Invalid", "result": {}, "retExtInfo": {}, "time": 1},
     "retCode", "retCode 10001: params error: Symbol Is Invalid"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "named", "detail"), BAD_BYBIT, ids=[b[2] for b in BAD_BYBIT])
async def test_bybit_bad_bodies_raise_a_named_source_error(body: dict, named: str, detail: str) -> None:
    with pytest.raises(SourceError) as err:
        await bybit_call(body)
    exc = err.value
    assert exc.provider == "bybit" and exc.endpoint == BYBIT and exc.field == named
    assert str(exc).startswith(f"bybit {BYBIT}") and detail in str(exc)


async def test_bybit_empty_list_unknown_symbol_and_rate_limit() -> None:
    assert (await bybit_call(bybit_body([])))[0] == []  # no statistics: unknown, not 0
    with pytest.raises(SourceError) as err:
        await bybit_call(BAD_BYBIT[-1][0])
    assert unknown_symbol(err.value)
    with pytest.raises(RateLimited) as limited:
        await bybit_call({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": 1})
    assert limited.value.endpoint == BYBIT and limited.value.retry_after > 0
    with pytest.raises(ValueError):
        await bybit_call(bybit_body([]), period="5m")  # Binance's name for it: not Bybit's


# -- the emulated routes -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataset() -> MarketDataset:
    return build_demo_dataset(NOW)


def emulator(dataset: MarketDataset) -> Emulator:
    return Emulator(dataset, VirtualClock(start_ms=NOW, speed=0))


async def raw_get(emu: Emulator, path: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as client:
        return await client.get(f"https://emulated{path}", params=params)


@pytest.mark.parametrize("path", [ACCOUNTS, TOP])
async def test_binance_routes_serve_the_documented_rows(dataset: MarketDataset, path: str) -> None:
    emu = emulator(dataset)
    response = await raw_get(emu, path, symbol="BTCUSDT", period="5m", limit=3)
    assert response.status_code == 200 and response.headers["X-MBX-USED-WEIGHT-1M"] == "0"
    rows = response.json()
    assert len(rows) == 3
    for row in rows:
        assert set(row) == {"symbol", "longShortRatio", "longAccount", "shortAccount", "timestamp"}
        assert all(isinstance(v, str) for v in row.values())  # decimal strings, the timestamp a digit string
        long_share, short_share = float(row["longAccount"]), float(row["shortAccount"])
        assert abs(long_share + short_share - 1) <= 0.0001
        assert float(row["longShortRatio"]) == pytest.approx(long_share / short_share, abs=0.002)
    times = [int(r["timestamp"]) for r in rows]
    assert times == sorted(times) and {b - a for a, b in itertools.pairwise(times)} == {FIVE_MIN}
    assert NOW - FIVE_MIN < times[-1] <= NOW  # the latest period, never one after the virtual now
    assert len((await raw_get(emu, path, symbol="ETHUSDT", period="1h")).json()) == 30  # the default limit
    assert len((await raw_get(emu, path, symbol="1000PEPEUSDT", period="5m", limit=500)).json()) == 500
    # Only the latest 30 days are kept.
    old = (await raw_get(emu, path, symbol="BTCUSDT", period="1d", startTime=NOW - 40 * DAY, limit=500)).json()
    assert old and min(int(r["timestamp"]) for r in old) >= NOW - 30 * DAY
    window = (await raw_get(emu, path, symbol="BTCUSDT", period="1h", startTime=NOW - 5 * HOUR,
                            endTime=NOW - 2 * HOUR)).json()  # fmt: skip
    assert [int(r["timestamp"]) for r in window] == [NOW - h * HOUR for h in (5, 4, 3, 2)]


async def test_binance_routes_answer_bad_requests_as_the_venue(dataset: MarketDataset) -> None:
    emu = emulator(dataset)
    for params, code in (
        ({"symbol": "BTCUSDT", "period": "2m"}, -1130),
        ({"symbol": "BTCUSDT", "period": "5min"}, -1130),
        ({"symbol": "BTCUSDT", "period": "5m", "limit": 501}, -1130),
        ({"symbol": "BTCUSDT", "period": "5m", "limit": 0}, -1130),
        ({"symbol": "BTCUSDT"}, -1102),
        ({"period": "5m"}, -1102),
        ({"symbol": "BTCUSDT", "period": "5m", "startTime": NOW, "endTime": NOW - HOUR}, -1023),
        ({"symbol": "FOOUSDT", "period": "5m"}, -1121),
        ({"symbol": "BTCUSDT_250328", "period": "5m"}, -1121),
    ):
        for path in (ACCOUNTS, TOP):
            response = await raw_get(emu, path, **params)
            body = response.json()
            assert response.status_code == 400 and set(body) == {"code", "msg"} and body["code"] == code, params
    response = await raw_get(emu, ACCOUNTS, symbol="FOOUSDT", period="5m")
    assert response.json()["msg"] == "Invalid symbol."


async def test_bybit_route_serves_newest_first_with_a_cursor(dataset: MarketDataset) -> None:
    emu = emulator(dataset)
    response = await raw_get(emu, BYBIT, category="linear", symbol="BTCUSDT", period="5min", limit=3)
    body = response.json()
    assert response.status_code == 200 and body["retCode"] == 0 and body["retMsg"] == "OK"
    rows = body["result"]["list"]
    for row in rows:
        assert set(row) == {"symbol", "buyRatio", "sellRatio", "timestamp"} and all(isinstance(v, str)
                                                                                    for v in row.values())  # fmt: skip
        assert float(row["buyRatio"]) + float(row["sellRatio"]) == pytest.approx(1.0, abs=1e-9)
    times = [int(r["timestamp"]) for r in rows]
    assert times == [times[0] - k * FIVE_MIN for k in range(3)] and NOW - FIVE_MIN < times[0] <= NOW  # newest first
    cursor = body["result"]["nextPageCursor"]
    assert cursor == f"lastid%3D0%26lasttime%3D{times[-1] // 1000}"  # Bybit's shape: seconds, URL-encoded
    following = (await raw_get(emu, BYBIT, category="linear", symbol="BTCUSDT", period="5min", limit=3,
                               cursor=cursor)).json()["result"]["list"]  # fmt: skip
    assert [int(r["timestamp"]) for r in following] == [times[-1] - k * FIVE_MIN for k in (1, 2, 3)]
    default = (await raw_get(emu, BYBIT, category="linear", symbol="ETHUSDT", period="1h")).json()["result"]
    assert len(default["list"]) == 50
    window = (await raw_get(emu, BYBIT, category="linear", symbol="BTCUSDT", period="1h", startTime=NOW - 3 * HOUR,
                            endTime=NOW)).json()["result"]  # fmt: skip
    assert [int(r["timestamp"]) for r in window["list"]] == [NOW - h * HOUR for h in range(4)]
    assert window["nextPageCursor"] == ""  # the last page


async def test_bybit_route_answers_bad_requests_as_the_venue(dataset: MarketDataset) -> None:
    emu = emulator(dataset)
    for params in (
        {"category": "linear", "symbol": "BTCUSDT", "period": "5m"},
        {"category": "linear", "symbol": "BTCUSDT", "period": "5min", "limit": 501},
        {"category": "linear", "symbol": "BTCUSDT", "period": "5min", "limit": 0},
        {"category": "linear", "symbol": "BTCUSDT", "period": "5min", "limit": "x"},
        {"symbol": "BTCUSDT", "period": "5min"},
        {"category": "linear", "symbol": "FOOUSDT", "period": "5min"},
    ):
        response = await raw_get(emu, BYBIT, **params)
        body = response.json()
        assert response.status_code == 200 and body["retCode"] == 10001 and body["result"] == {}, params


async def test_routes_round_trip_through_the_clients_and_match_the_dataset(dataset: MarketDataset) -> None:
    emu = emulator(dataset)
    http = HttpClient(EmulatorTransport(emu), retries=0)
    try:
        binance = BinanceFutures(http, wall=lambda: NOW / 1000)
        accounts = await binance.long_short_ratio("SOLUSDT", "accounts", "5m", limit=12)
        top = await binance.long_short_ratio("SOLUSDT", "top_positions", "5m", limit=12)
        bybit = await Bybit(http).account_ratio("SOLUSDT", "5min", limit=12)
    finally:
        await http.aclose()
    frame = dataset.long_short
    assert frame is not None
    for records, exchange, kind in ((accounts, "binance", "accounts"), (top, "binance", "top_positions"),
                                    (bybit, "bybit", "accounts")):  # fmt: skip
        assert len(records) == 12 and {r.coin for r in records} == {"SOL"}
        sub = frame[(frame["exchange"] == exchange) & (frame["kind"] == kind) & (frame["coin"] == "SOL")]
        for record in records:
            t = record.time.value // 1_000_000
            expected = sub[sub["time"] <= t]["long_share"].iloc[-1]  # the last sample at or before the period
            assert record.long_share == pytest.approx(expected, abs=0.00006), (exchange, kind)
    assert [r.time for r in accounts] == [r.time for r in bybit]  # both on the 5-minute grid
    assert any(a.long_share != t.long_share for a, t in zip(accounts, top, strict=True))


async def test_a_listed_symbol_without_statistics_answers_an_empty_list(dataset: MarketDataset) -> None:
    # Replayed history has no such files: the venues' answer for a symbol without statistics.
    bare = MarketDataset(dataset.name, True, spot_klines=dataset.spot_klines, funding=dataset.funding)
    emu = emulator(bare)
    assert (await raw_get(emu, ACCOUNTS, symbol="BTCUSDT", period="5m")).json() == []
    body = (await raw_get(emu, BYBIT, category="linear", symbol="BTCUSDT", period="5min")).json()
    assert body["retCode"] == 0 and body["result"]["list"] == [] and body["result"]["nextPageCursor"] == ""
    assert (await raw_get(emu, ACCOUNTS, symbol="FOOUSDT", period="5m")).json()["code"] == -1121  # still unknown


def test_demo_story(dataset: MarketDataset) -> None:
    """The crowd piles in with the crowded funding, the top traders much less, and the crash flushes it."""
    scenario = Scenario(anchor_ms=anchor_for(NOW))
    frame = dataset.long_short
    assert frame is not None
    assert set(frame["coin"]) == set(scenario.coins)
    assert set(zip(frame["exchange"], frame["kind"], strict=True)) == {("binance", "accounts"),
                                                                       ("binance", "top_positions"),
                                                                       ("bybit", "accounts")}  # fmt: skip
    assert frame["long_share"].between(0.2, 0.85).all()
    assert frame["time"].min() <= NOW - 30 * DAY and frame["time"].max() >= NOW + 20 * HOUR

    def median(t: int, exchange: str, kind: str) -> float:
        sub = frame[(frame["exchange"] == exchange) & (frame["kind"] == kind) & (frame["time"] <= t)]
        return float(sub.groupby("coin", observed=True)["long_share"].last().median())

    for exchange, kind in (("binance", "accounts"), ("bybit", "accounts"), ("binance", "top_positions")):
        normal = median(scenario.crowded_funding_start_ms, exchange, kind)
        crowded = median(scenario.crash_start_ms, exchange, kind)
        flushed = median(scenario.crash_end_ms, exchange, kind)
        assert crowded > normal and flushed < normal, (exchange, kind)
        if kind == "accounts":
            assert 0.52 <= normal <= 0.64 and crowded - normal >= 0.06
        else:
            assert 0.45 <= normal <= 0.55 and crowded - normal <= 0.05  # the money barely follows the crowd
    rise = median(scenario.crash_start_ms, "binance", "accounts") - median(scenario.crowded_funding_start_ms,
                                                                           "binance", "accounts")  # fmt: skip
    top_rise = median(scenario.crash_start_ms, "binance", "top_positions") - median(
        scenario.crowded_funding_start_ms, "binance", "top_positions")  # fmt: skip
    assert top_rise < rise / 2


# -- the feeds, the view-models and the snapshot section on the demo market ---------------------------------------
async def run_feeds(session: Any, *, universe: bool = True) -> dict[str, bool]:
    feeds = session.scheduler.feeds
    if universe:
        await session.scheduler.run_all_once([n for n in feeds if n.startswith("universe_")])
    return await session.scheduler.run_all_once(["long_short_binance", "long_short_bybit"])


def demo_session(coins: list[str] | None = None) -> Any:
    config = load_config(use_user_file=False)
    if coins is not None:
        config = config.with_overrides("general", coins=coins)
    return boot(config, Launch("demo", now_ms=NOW, record=False))


async def test_the_feeds_carry_btc_and_every_basket_coin_into_view_and_snapshot() -> None:
    from tui.commands.snapshot import build_snapshot

    session = demo_session()
    try:
        results = await run_feeds(session)
        assert all(results.values()), {n: session.scheduler.feeds[n].health.error for n in results}
        view = session.views.long_short()
        doc = build_snapshot(session.views, session.scheduler)
        health = {n: session.scheduler.feeds[n].health for n in ("long_short_binance", "long_short_bybit")}
    finally:
        await session.aclose()
    coins = ["BTC", *DEFAULT_COINS]
    assert [coin for coin, _ in view.rows] == coins  # BTC first, then the basket in its order
    assert [(c.venue, c.kind) for c in view.columns] == [("binance", "accounts"), ("binance", "top_positions"),
                                                         ("bybit", "accounts")]  # fmt: skip
    assert all(c.fresh for c in view.columns) and view.status.fresh
    assert view.as_of == "11-23 12:00 UTC"
    for coin, cells in view.rows:
        for cell in cells:
            assert cell.ratio is not None and cell.long_pct is not None, (coin, cell)
            assert 20 <= cell.long_pct <= 85 and cell.time == "11-23 12:00"
            assert cell.ratio == pytest.approx(cell.long_pct / (100 - cell.long_pct), rel=0.01)
    section = json.loads(json.dumps(doc))["long_short"]
    assert list(section) == coins
    for coin, sides in section.items():
        assert set(sides) == {"accounts", "top_positions"} and set(sides["accounts"]) == {"binance", "bybit"}
        assert set(sides["top_positions"]) == {"binance"}
        for entry in (sides["accounts"]["binance"], sides["accounts"]["bybit"], sides["top_positions"]["binance"]):
            assert set(entry) == {"ratio", "long_pct", "time"} and entry["time"] == "2026-11-23T12:00:00Z", coin
            assert entry["ratio"] > 0 and 0 < entry["long_pct"] < 100
    # The pane's cells and the snapshot are the same figures.
    cell = dict(view.rows)["ETH"][2]
    assert section["ETH"]["accounts"]["bybit"]["ratio"] == cell.ratio
    assert section["ETH"]["accounts"]["bybit"]["long_pct"] == cell.long_pct
    assert doc["sources"]["long_short_binance"]["status"] == "live"
    assert doc["sources"]["long_short_bybit"]["error"] is None
    assert health["long_short_binance"].data_as_of == NOW / 1000  # the newest period's time on the market clock


async def test_unknown_figures_are_null_never_zero() -> None:
    session = demo_session(["ETH", "SOL", "FOO"])
    assert session.emulator is not None
    frame = session.emulator.dataset.long_short
    # Bybit lists SOL (it settles funding there) but has no statistics for it: an empty list.
    session.emulator.dataset.long_short = frame[~((frame["exchange"] == "bybit") & (frame["coin"] == "SOL"))]
    try:
        # First without the listings: FOO is asked for and answered "invalid symbol" by both venues.
        assert all((await run_feeds(session, universe=False)).values())
        asked = {path for _, _, path in session.emulator.requests}
        assert {ACCOUNTS, TOP, BYBIT} <= asked
        section = snapshot_long_short(session.views.figures)
        view = session.views.long_short()
        # With the listings known, a coin no venue lists is not asked for at all.
        before = len(session.emulator.requests)
        assert all((await run_feeds(session)).values())
        requests = session.emulator.requests[before:]
    finally:
        await session.aclose()
    assert section["SOL"]["accounts"]["bybit"] is None and section["SOL"]["accounts"]["binance"] is not None
    assert section["FOO"] == {"accounts": {"binance": None, "bybit": None}, "top_positions": {"binance": None}}
    assert '"bybit": null' in json.dumps(section["SOL"]["accounts"])
    cells = dict(view.rows)
    assert [(c.ratio, c.long_pct) for c in cells["FOO"]] == [(None, None)] * 3
    assert (cells["SOL"][2].ratio, cells["SOL"][2].long_pct, cells["SOL"][2].time) == (None, None, "")
    assert cells["SOL"][0].ratio is not None
    universe_requests = [p for _, _, p in requests if p in (ACCOUNTS, TOP, BYBIT)]
    assert len(universe_requests) == 2 * 3 + 3  # BTC, ETH and SOL only: two Binance ratios, one Bybit each


async def test_replayed_history_without_statistics_is_unknown_and_the_feeds_stay_healthy() -> None:
    session = demo_session(["ETH"])
    assert session.emulator is not None
    session.emulator.dataset.long_short = None
    try:
        results = await run_feeds(session)
        section = snapshot_long_short(session.views.figures)
        errors = [session.scheduler.feeds[n].health.error for n in results]
    finally:
        await session.aclose()
    assert all(results.values()) and errors == [None, None]
    assert all(v is None for sides in section.values() for venues in sides.values() for v in venues.values())
    assert list(section) == ["BTC", "ETH"]


async def test_a_failing_venue_fails_its_own_feed_only() -> None:
    from emulator.wire import Fault

    session = demo_session(["ETH"])
    assert session.emulator is not None
    session.emulator.faults[TOP] = Fault("missing_field", field="longAccount")
    try:
        results = await run_feeds(session)
        error = session.scheduler.feeds["long_short_binance"].health.error
    finally:
        await session.aclose()
    assert results == {"long_short_binance": False, "long_short_bybit": True}
    assert error is not None and TOP in error and "longAccount" in error


# -- view-models on a small hand-made state -------------------------------------------------------------------------
def ratio(coin: str, exchange: str, kind: str, long_share: float, minutes_ago: int = 0) -> LongShortRatio:
    stamp = ts(NOW) - pd.Timedelta(minutes=minutes_ago)
    return LongShortRatio(coin, exchange, kind, long_share / (1 - long_share), long_share, 1 - long_share, stamp)


def builder(state: MarketState, healths: dict[str, FeedHealth]) -> ViewBuilder:
    config = load_config(use_user_file=False).with_overrides("general", coins=["SOL", "ETH"])
    runtime = Runtime("demo", "SIMULATED", None, lambda: NOW, simulated=True)
    views = ViewBuilder(config, runtime, state)
    views.scheduler = SimpleNamespace(feeds={n: SimpleNamespace(health=h) for n, h in healths.items()})
    return views


def test_view_keeps_the_newest_marks_a_stale_venue_and_filters() -> None:
    state = MarketState()
    state.long_short = {
        "binance": (ratio("SOL", "binance", "accounts", 0.6, 5), ratio("SOL", "binance", "accounts", 0.75),
                    ratio("SOL", "binance", "top_positions", 0.5), ratio("BTC", "binance", "accounts", 0.55)),
        "bybit": (ratio("SOL", "bybit", "accounts", 0.64, 30),),
    }  # fmt: skip
    now = time.time()
    healths = {
        "long_short_binance": FeedHealth("long_short_binance", "binance", 600.0, as_of=now),
        "long_short_bybit": FeedHealth("long_short_bybit", "bybit", 600.0, as_of=now - 3600),
    }
    views = builder(state, healths)
    view = views.long_short(now)
    assert [coin for coin, _ in view.rows] == ["BTC", "SOL", "ETH"]
    sol = dict(view.rows)["SOL"]
    assert sol[0].ratio == pytest.approx(3.0) and sol[0].long_pct == 75.0  # the newest period wins
    assert sol[1].long_pct == 50.0 and sol[0].time == "11-23 12:00"
    assert sol[2].long_pct == 64.0 and sol[2].time == "11-23 11:30"
    assert not sol[2].fresh and sol[2].status.startswith("stale") and sol[0].fresh
    assert [c.fresh for c in view.columns] == [True, True, False]
    eth = dict(view.rows)["ETH"]
    assert all(c.ratio is None and c.long_pct is None for c in eth)  # no figure: unknown
    assert dict(view.rows)["BTC"][1].ratio is None  # BTC's top traders' figure not delivered
    assert view.as_of == "11-23 12:00 UTC"
    views.coin_filter = "SO"
    assert [coin for coin, _ in views.long_short(now).rows] == ["SOL"]
    # The coin detail's cells are the same figures, in the same column order.
    coin = build_coin_view(views.figures, "SOL", "24h", now)
    assert [(c.venue, c.kind, c.ratio) for c in coin.long_short] == [(c.venue, c.kind, c.ratio) for c in sol]
    doc = snapshot_long_short(views.figures)
    assert doc["SOL"]["accounts"]["binance"] == {"ratio": pytest.approx(3.0), "long_pct": 75.0,
                                                 "time": "2026-11-23T12:00:00Z"}  # fmt: skip
    assert doc["ETH"]["accounts"]["binance"] is None and doc["BTC"]["top_positions"]["binance"] is None


def test_coin_detail_block_lists_every_venue_with_unknowns_and_stale_marks() -> None:
    cells = (
        LongShortCell("binance", "accounts", 2.2, 68.75, "11-23 12:00"),
        LongShortCell("binance", "top_positions", None, None),
        LongShortCell("bybit", "accounts", 1.5, 60.0, "11-23 11:30", fresh=False, status="stale 1h"),
    )
    view = CoinView("SOL", "24h", PaneStatus(True, "live"), long_short=cells)
    block = long_short_block(view)
    lines = plain_renderable(block)
    assert "Long/short" in lines and "ratio long ÷ short, % long" in lines
    assert "Accounts" in lines and "Top traders' positions" in lines
    assert "2.20 69%" in lines and "1.50 60%" + STALE_MARK in lines and "stale 1h" in lines and "⚠" in lines
    top_line = next(line for line in lines.splitlines() if "Top traders" in line)
    assert "—" in top_line and "0.00" not in top_line
    assert "waiting for data" in plain_renderable(long_short_block(CoinView("SOL", "24h", PaneStatus(True, "live"))))


def plain_renderable(renderable: Any) -> str:
    from rich.console import Console

    console = Console(width=100, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


# -- the funding pane's long/short view ------------------------------------------------------------------------------
HOSTILE = "[bold]X\x1b[2J"


def ls_view(*, stale_bybit: bool = False, coins: tuple[str, ...] = ("BTC", "ETH", "SOL")) -> LongShortView:
    bybit = LongShortColumn("bybit", "accounts", not stale_bybit, "stale 40m" if stale_bybit else "live")
    columns = (LongShortColumn("binance", "accounts", True, "live"),
               LongShortColumn("binance", "top_positions", True, "live"), bybit)  # fmt: skip
    shares = {"BTC": (0.55, 0.48, 0.53), "ETH": (0.7, 0.52, None), "SOL": (0.45, None, 0.66)}
    rows = []
    for coin in coins:
        cells = []
        for column, share in zip(columns, shares.get(coin, (0.6, 0.5, 0.6)), strict=True):
            if share is None:
                cells.append(LongShortCell(column.venue, column.kind, None, None, "", column.fresh, column.status))
            else:
                cells.append(LongShortCell(column.venue, column.kind, round(share / (1 - share), 4), share * 100,
                                           "11-23 12:00", column.fresh, column.status))  # fmt: skip
        rows.append((coin, tuple(cells)))
    return LongShortView(PaneStatus(True, "live", "12:00:00 UTC"), columns, tuple(rows), "11-23 12:00 UTC")


async def test_funding_pane_cycles_to_the_long_short_view_and_back() -> None:
    from tests.test_widgets_panes import PaneApp, column_labels, funding_view, static_text, table_rows

    pane = FundingPane()
    app = PaneApp(pane)
    async with app.run_test(size=(120, 30)) as pilot:
        pane.update_view(funding_view())
        pane.update_long_short(ls_view(stale_bybit=True))
        app.query_one("#funding-table", DataTable).focus()
        await pilot.pause()
        await pilot.press("v", "v")
        await pilot.pause()
        table = app.query_one("#funding-table", DataTable)
        assert pane.mode == "long_short"
        assert column_labels(table) == ["Coin", "Binance accts", "Binance top pos", f"Bybit accts{STALE_MARK}"]
        rows = {r[0]: [c.strip() for c in r[1:]] for r in table_rows(table)}
        assert list(rows) == ["BTC", "ETH", "SOL"]
        assert rows["BTC"] == ["1.22 55%", "0.92 48%", f"1.13 53%{STALE_MARK}"]
        assert rows["ETH"][:2] == ["2.33 70%", "1.08 52%"] and rows["ETH"][2] == "—"  # unknown: a dash, not 0
        assert rows["SOL"][1] == "—"
        eth = table.get_row_at(1)
        assert isinstance(eth[1], Text) and "yellow" in str(eth[1].style)  # two in three long: crowded
        assert "cyan" in str(table.get_row_at(2)[1].style)  # below 1: more short than long
        summary = static_text(app, "#funding-summary")
        assert "Long/short" in summary and "as of 11-23 12:00 UTC" in summary
        assert "bybit stale 40m" in summary and "not current" in summary
        table.move_cursor(row=2)
        assert pane.selected_coin() == "SOL"  # Enter opens the coin from this view too
        # A new view-model while shown is drawn at once.
        pane.update_long_short(ls_view(coins=("BTC", "ETH", "SOL", HOSTILE)))
        await pilot.pause()
        names = [r[0] for r in table_rows(table)]
        assert len(names) == 4 and "[bold]X[2J" in names and "\x1b" not in "".join(names)
        assert column_labels(table)[3] == "Bybit accts"
        await pilot.press("v")
        await pilot.pause()
        assert pane.mode == "venues" and "Binance" in column_labels(table) and table.row_count == 3


async def test_funding_pane_long_short_view_compact_and_empty() -> None:
    from tests.test_widgets_panes import PaneApp, column_labels, static_text

    pane = FundingPane()
    app = PaneApp(pane)
    async with app.run_test(size=(60, 20)) as pilot:
        pane.mode = "long_short"
        pane.redraw()
        await pilot.pause()
        assert "waiting for data" in static_text(app, "#funding-summary")
        pane.update_long_short(ls_view())
        await pilot.pause()
        labels = column_labels(app.query_one("#funding-table", DataTable))
        assert labels[0] == "Coin" and set(labels[1:]) <= {"BIN acc", "BIN top", "BYB acc"} and len(labels) >= 2


# -- the console on the demo market -----------------------------------------------------------------------------------
async def test_the_console_shows_the_ratios_in_the_funding_pane_and_the_coin_detail() -> None:
    from tests.test_app import demo_app, wait_for_data
    from tests.test_widgets_panes import column_labels, table_rows
    from tui.app.coin_screen import CoinScreen, open_coin

    app = demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for_data(app, pilot, feeds=("long_short_binance", "long_short_bybit", "funding_binance"))
        pane = app.screen.query_one(FundingPane)
        table = pane.query_one("#funding-table", DataTable)
        table.focus()
        await pilot.pause()
        await pilot.press("v", "v")
        await pilot.pause()
        assert pane.mode == "long_short"
        expected = app.views.long_short()
        # The pane is a third of the screen wide: the compact labels.
        assert pane.compact and column_labels(table) == ["Coin", "BIN acc", "BIN top", "BYB acc"]
        rows = {r[0]: [c.strip() for c in r[1:]] for r in table_rows(table)}
        assert list(rows) == ["BTC", "ETH", "SOL", "DOGE", "PEPE"]
        for coin, cells in expected.rows:
            assert rows[coin] == [f"{c.ratio:.2f} {c.long_pct:.0f}%" for c in cells], coin
        table.move_cursor(row=list(rows).index("SOL"))  # the cursor keeps its coin across the views
        await pilot.pause()
        assert pane.selected_coin() == "SOL"
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, CoinScreen) and app.screen.coin == "SOL"
        text = plain_renderable(app.screen.query_one("#coin-long-short").content)
        sol = dict(expected.rows)["SOL"]
        assert "Top traders' positions" in text and text.count("Accounts") == 2
        for cell in sol:
            assert f"{cell.ratio:.2f} {cell.long_pct:.0f}%" in text and cell.time in text
        await pilot.press("escape")
        await pilot.pause()
        open_coin(app, "BTC")
        await pilot.pause(0.3)
        btc = plain_renderable(app.screen.query_one("#coin-long-short").content)
        assert f"{dict(expected.rows)['BTC'][0].ratio:.2f}" in btc
