"""The emulator's Binance spot endpoints must answer like ``data-api.binance.vision`` does.

Query semantics (``symbol``, ``interval``, ``startTime``, ``endTime``, ``limit``), the 12-field wire rows,
the still-open last bar, the virtual time as a hard horizon, error codes, calendar aggregation and the 24 h
ticker are checked over HTTP through :class:`EmulatorTransport`, then the real parsers and the paging client
read the same answers. The clock is frozen (``speed=0``) so every expectation is exact.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pandas as pd
import pytest

from emulator import Emulator, EmulatorTransport, MarketDataset, VirtualClock
from emulator.demo_spot import simulate_spot
from emulator.scenario import DAY, HOUR, MINUTE, Scenario
from sources.binance_spot import BinanceSpot, parse_klines, parse_ticker_24hr
from sources.http import HttpClient

BASE = "https://data-api.binance.vision"
KLINES = f"{BASE}/api/v3/klines"
TICKER = f"{BASE}/api/v3/ticker/24hr"
ANCHOR = int(pd.Timestamp("2026-11-20T13:37:00Z").value // 1_000_000)
#: The virtual "now" of most tests: mid-minute and mid-hour, a while after the anchor.
NOW = ANCHOR + 17 * MINUTE + 23_456
DECIMAL = re.compile(r"^\d+\.\d{8}$")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario(anchor_ms=ANCHOR)


@pytest.fixture(scope="module")
def dataset(scenario: Scenario) -> MarketDataset:
    return MarketDataset(
        name="demo",
        simulated=True,
        spot_klines=simulate_spot(scenario),
        start_ms=scenario.history_start_ms,
        end_ms=scenario.end_ms,
    )


@pytest.fixture
def emu(dataset: MarketDataset) -> Emulator:
    return Emulator(dataset, VirtualClock(start_ms=NOW, speed=0))


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as c:
        yield c


async def klines(client: httpx.AsyncClient, **params: object) -> list[list[object]]:
    response = await client.get(KLINES, params={"symbol": "BTCUSDT", **params})
    assert response.status_code == 200, response.text
    return response.json()


def opens(rows: list[list[object]]) -> np.ndarray:
    return np.array([r[0] for r in rows], dtype=np.int64)


def minute_truth(dataset: MarketDataset, symbol: str = "BTCUSDT") -> pd.DataFrame:
    return dataset.spot_klines[symbol][MINUTE]


# --- limit and time-range semantics -------------------------------------------------------------------------


async def test_no_params_gives_the_most_recent_500(client: httpx.AsyncClient) -> None:
    rows = await klines(client, interval="1m")
    assert len(rows) == 500
    t = opens(rows)
    assert np.all(np.diff(t) == MINUTE)
    assert t[-1] == NOW // MINUTE * MINUTE  # the bar that is open right now


async def test_limit_is_capped_at_1000(client: httpx.AsyncClient) -> None:
    assert len(await klines(client, interval="1h", limit=1000)) == 1000
    assert len(await klines(client, interval="1h", limit=5000)) == 1000
    assert len(await klines(client, interval="1h", limit=7)) == 7


async def test_start_time_pages_forward(client: httpx.AsyncClient) -> None:
    start = NOW - 3 * DAY + 12_345  # not on a bar boundary: the first bar is the next one that opens
    first = await klines(client, interval="1h", startTime=start, limit=30)
    assert opens(first)[0] == (start // HOUR + 1) * HOUR
    second = await klines(client, interval="1h", startTime=int(opens(first)[-1]) + 1, limit=30)
    together = np.concatenate([opens(first), opens(second)])
    assert len(first) == len(second) == 30
    assert np.all(np.diff(together) == HOUR)


async def test_start_time_pages_stop_at_now(client: httpx.AsyncClient) -> None:
    rows = await klines(client, interval="1h", startTime=NOW - 5 * HOUR, limit=1000)
    assert len(rows) == 5  # four closed hours and the open one; nothing beyond the virtual time
    assert await klines(client, interval="1m", startTime=NOW + MINUTE) == []


async def test_end_time_alone_gives_the_last_bars_up_to_it(client: httpx.AsyncClient) -> None:
    end = NOW - 2 * DAY + 30 * MINUTE + 5
    rows = await klines(client, interval="1h", endTime=end, limit=24)
    t = opens(rows)
    assert len(rows) == 24
    assert t[-1] == end // HOUR * HOUR
    assert np.all(np.diff(t) == HOUR)


async def test_bar_containing_end_time_is_the_whole_bar(client: httpx.AsyncClient) -> None:
    """endTime selects bars by their open time; it does not truncate the last one."""
    end = NOW - 3 * HOUR + 30 * MINUTE
    by_end = (await klines(client, interval="1h", endTime=end, limit=1))[0]
    by_start = (await klines(client, interval="1h", startTime=end // HOUR * HOUR, limit=1))[0]
    assert by_end == by_start


async def test_start_and_end_time_together(client: httpx.AsyncClient) -> None:
    start, end = NOW - 10 * HOUR, NOW - 4 * HOUR
    t = opens(await klines(client, interval="15m", startTime=start, endTime=end, limit=1000))
    assert t[0] >= start and t[-1] <= end
    assert t[0] - start < 15 * MINUTE and end - t[-1] < 15 * MINUTE


# --- rows ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "ms"), [("1m", MINUTE), ("5m", 5 * MINUTE), ("1h", HOUR), ("4h", 4 * HOUR)]
)
async def test_rows_have_binance_shape(client: httpx.AsyncClient, interval: str, ms: int) -> None:
    rows = await klines(client, interval=interval, limit=50)
    for row in rows:
        assert len(row) == 12
        assert isinstance(row[0], int) and isinstance(row[6], int) and isinstance(row[8], int)
        assert row[6] == row[0] + ms - 1
        assert row[0] % ms == 0
        for i in (1, 2, 3, 4, 5, 7, 9, 10):
            assert isinstance(row[i], str) and DECIMAL.match(row[i]), (i, row[i])
        assert row[11] == "0"
        o, h, lo, c = (float(row[i]) for i in (1, 2, 3, 4))
        assert lo <= min(o, c) <= max(o, c) <= h
        assert 0 <= float(row[10]) <= float(row[7])


async def test_last_bar_is_provisional_and_nothing_later_is_visible(
    client: httpx.AsyncClient, emu: Emulator, dataset: MarketDataset
) -> None:
    rows = await klines(client, interval="1m", limit=5)
    assert rows[-1][6] > NOW >= rows[-1][0]
    assert all(r[6] < NOW for r in rows[:-1])
    # The open bar carries only the trading so far: less volume than the stored whole minute.
    truth = minute_truth(dataset)
    whole = truth.loc[truth["open_time"] == rows[-1][0]].iloc[0]
    assert float(rows[-1][7]) < whole["quote_volume"]
    # Five virtual minutes later it is complete and equals the stored bar.
    emu.clock.advance(5 * MINUTE)
    later = await klines(client, interval="1m", startTime=rows[-1][0], limit=1)
    assert float(later[0][7]) == pytest.approx(whole["quote_volume"], rel=1e-12)
    assert float(later[0][4]) == pytest.approx(whole["close"], rel=1e-12)


async def test_provisional_bar_agrees_across_intervals(client: httpx.AsyncClient) -> None:
    """The open hour is the same as the tail of a long or a short window, and its close is the latest minute's
    close: no coarse bar leaks where the price is going."""
    last_minute = (await klines(client, interval="1m", limit=1))[0]
    short = (await klines(client, interval="1h", limit=2))[-1]
    long = (await klines(client, interval="1h", limit=1000))[-1]
    daily = (await klines(client, interval="1d", limit=400))[-1]
    assert short == long
    assert short[4] == last_minute[4] == daily[4]


async def test_one_hour_bar_equals_its_sixty_minutes(client: httpx.AsyncClient) -> None:
    hour = NOW // HOUR * HOUR - 5 * HOUR
    h = (await klines(client, interval="1h", startTime=hour, limit=1))[0]
    m = await klines(client, interval="1m", startTime=hour, endTime=hour + HOUR - 1, limit=1000)
    assert len(m) == 60
    assert h[1] == m[0][1] and h[4] == m[-1][4]
    assert float(h[2]) == max(float(r[2]) for r in m)
    assert float(h[3]) == min(float(r[3]) for r in m)
    for i in (5, 7, 9, 10):
        assert float(h[i]) == pytest.approx(sum(float(r[i]) for r in m), rel=1e-9)
    assert h[8] == sum(r[8] for r in m)


# --- calendar intervals -------------------------------------------------------------------------------------


def _expected(dataset: MarketDataset, bucket_start: int, bucket_end: int) -> dict[str, float]:
    """A bar recomputed from the stored hourly frame."""
    h = dataset.spot_klines["BTCUSDT"][HOUR]
    rows = h[(h["open_time"] >= bucket_start) & (h["open_time"] < bucket_end)]
    return {
        "open": rows["open"].iloc[0],
        "high": rows["high"].max(),
        "low": rows["low"].min(),
        "close": rows["close"].iloc[-1],
        "quote": rows["quote_volume"].sum(),
        "taker": rows["taker_buy_quote_volume"].sum(),
    }


def _check_bar(row: list[object], expected: dict[str, float]) -> None:
    got = {"open": row[1], "high": row[2], "low": row[3], "close": row[4], "quote": row[7], "taker": row[10]}
    for key, value in expected.items():
        assert float(got[key]) == pytest.approx(value, rel=1e-9), key


async def test_daily_bars(client: httpx.AsyncClient, dataset: MarketDataset) -> None:
    rows = await klines(client, interval="1d", limit=10)
    assert len(rows) == 10
    t = opens(rows)
    assert np.all(t % DAY == 0) and np.all(np.diff(t) == DAY)
    assert t[-1] == NOW // DAY * DAY
    for row in rows[:-1]:
        _check_bar(row, _expected(dataset, row[0], row[0] + DAY))


async def test_weekly_bars_open_on_monday(client: httpx.AsyncClient, dataset: MarketDataset) -> None:
    rows = await klines(client, interval="1w", limit=8)
    for row in rows:
        start = pd.Timestamp(row[0], unit="ms", tz="UTC")
        assert start.weekday() == 0 and start == start.normalize()
        assert row[6] == row[0] + 7 * DAY - 1
    for row in rows[:-1]:
        _check_bar(row, _expected(dataset, row[0], row[0] + 7 * DAY))


async def test_monthly_bars_follow_the_calendar(client: httpx.AsyncClient, dataset: MarketDataset) -> None:
    rows = await klines(client, interval="1M", limit=6)
    assert len(rows) == 6
    for row in rows:
        start = pd.Timestamp(row[0], unit="ms", tz="UTC")
        nxt = start + pd.offsets.MonthBegin(1)
        assert start.day == 1 and start == start.normalize()
        assert row[6] == nxt.value // 1_000_000 - 1
    for row in rows[:-1]:
        _check_bar(row, _expected(dataset, row[0], row[6] + 1))
    now = pd.Timestamp(NOW, unit="ms", tz="UTC")
    assert rows[-1][0] == pd.Timestamp(year=now.year, month=now.month, day=1, tz="UTC").value // 1_000_000


async def test_monthly_start_time_skips_the_month_already_begun(client: httpx.AsyncClient) -> None:
    start = int(pd.Timestamp("2025-03-15T00:00:00Z").value // 1_000_000)
    rows = await klines(client, interval="1M", startTime=start, limit=3)
    assert [pd.Timestamp(r[0], unit="ms", tz="UTC").strftime("%Y-%m") for r in rows] == [
        "2025-04",
        "2025-05",
        "2025-06",
    ]


# --- errors -------------------------------------------------------------------------------------------------


async def test_invalid_symbol_is_400_with_code_1121(client: httpx.AsyncClient) -> None:
    response = await client.get(KLINES, params={"symbol": "NOPEUSDT", "interval": "1h"})
    assert response.status_code == 400
    assert response.json()["code"] == -1121
    response = await client.get(TICKER, params={"symbol": "NOPEUSDT"})
    assert response.status_code == 400 and response.json()["code"] == -1121


@pytest.mark.parametrize("interval", ["", "2m", "1H", "1y", "60"])
async def test_bad_interval_is_400(client: httpx.AsyncClient, interval: str) -> None:
    response = await client.get(KLINES, params={"symbol": "BTCUSDT", "interval": interval})
    assert response.status_code == 400
    assert response.json()["code"] < 0


async def test_missing_symbol_and_bad_numbers_are_400(client: httpx.AsyncClient) -> None:
    assert (await client.get(KLINES, params={"interval": "1h"})).status_code == 400
    bad = await client.get(KLINES, params={"symbol": "BTCUSDT", "interval": "1h", "startTime": "yesterday"})
    assert bad.status_code == 400 and "startTime" in bad.json()["msg"]


# --- 24 h ticker --------------------------------------------------------------------------------------------


async def test_ticker_matches_the_klines(client: httpx.AsyncClient, dataset: MarketDataset) -> None:
    response = await client.get(TICKER, params={"symbol": "ETHUSDT"})
    assert response.status_code == 200
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "2"
    t = response.json()
    last_minute = (await klines(client, symbol="ETHUSDT", interval="1m", limit=1))[0]
    assert t["symbol"] == "ETHUSDT"
    assert t["lastPrice"] == last_minute[4]
    assert (t["openTime"], t["closeTime"]) == (NOW - DAY, NOW)
    day = await klines(
        client, symbol="ETHUSDT", interval="1m", startTime=(NOW - DAY) // MINUTE * MINUTE, limit=1000
    )
    day += await klines(client, symbol="ETHUSDT", interval="1m", startTime=day[-1][0] + 1, limit=1000)
    assert day[-1][0] == NOW // MINUTE * MINUTE
    # The rolling window starts mid-minute: the minute at its edge may count in full, in part or not at all.
    total = sum(float(r[7]) for r in day)
    assert total - float(day[0][7]) <= float(t["quoteVolume"]) <= total * (1 + 1e-12)
    assert float(t["highPrice"]) >= max(float(r[2]) for r in day[1:])
    assert float(t["lowPrice"]) <= min(float(r[3]) for r in day[1:])
    change = float(t["lastPrice"]) / float(t["openPrice"]) - 1
    assert float(t["priceChangePercent"]) == pytest.approx(change * 100, abs=1e-3)


async def test_ticker_symbols_json_array(client: httpx.AsyncClient) -> None:
    response = await client.get(TICKER, params={"symbols": json.dumps(["BTCUSDT", "ETHUSDT"])})
    assert response.status_code == 200
    assert [t["symbol"] for t in response.json()] == ["BTCUSDT", "ETHUSDT"]
    bad = await client.get(TICKER, params={"symbols": '["BTCUSDT","NOPEUSDT"]'})
    assert bad.status_code == 400 and bad.json()["code"] == -1121
    assert (await client.get(TICKER, params={"symbols": "BTCUSDT"})).status_code == 400


async def test_ticker_without_symbol_lists_every_pair(
    client: httpx.AsyncClient, dataset: MarketDataset
) -> None:
    response = await client.get(TICKER)
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "80"
    assert {t["symbol"] for t in response.json()} == set(dataset.spot_klines)


@pytest.mark.parametrize("minute_hours", [72, 12])
async def test_ticker_sees_no_future(dataset: MarketDataset, minute_hours: int) -> None:
    """The last price and the day's range come from trading up to now, also when minute bars cover less than
    the 24 h window (a replay with a short minute file): no coarse bar that closes in the future is used."""
    minutes = minute_truth(dataset)
    minutes = minutes[minutes["open_time"] >= NOW // HOUR * HOUR - minute_hours * HOUR].reset_index(drop=True)
    hourly = dataset.spot_klines["BTCUSDT"][HOUR]
    short = MarketDataset(name="t", simulated=True, spot_klines={"BTCUSDT": {HOUR: hourly, MINUTE: minutes}})
    emu = Emulator(short, VirtualClock(start_ms=NOW, speed=0))
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as c:
        t = (await c.get(TICKER, params={"symbol": "BTCUSDT"})).json()
        last_minute = (await klines(c, interval="1m", limit=1))[0]
    assert t["lastPrice"] == last_minute[4]
    # Every hour and minute that closed inside the window, from the stored truth.
    h_closed = hourly[
        (hourly["open_time"] >= NOW - DAY) & (hourly["open_time"] + HOUR <= minutes["open_time"][0])
    ]
    m_closed = minutes[minutes["open_time"] + MINUTE <= NOW]
    closed_low = pd.concat([h_closed["low"], m_closed["low"]]).min()
    closed_high = pd.concat([h_closed["high"], m_closed["high"]]).max()
    open_minute = minutes[minutes["open_time"] == NOW // MINUTE * MINUTE].iloc[0]
    assert min(closed_low, open_minute["low"]) <= float(t["lowPrice"]) <= closed_low
    assert closed_high <= float(t["highPrice"]) <= max(closed_high, open_minute["high"])


# --- the real parsers and client over the emulator ----------------------------------------------------------


async def test_parse_klines_reads_the_emulator(client: httpx.AsyncClient) -> None:
    frame = parse_klines(await klines(client, symbol="SOLUSDT", interval="5m", limit=300), NOW)
    assert len(frame) == 300
    assert frame["provisional"].tolist() == [False] * 299 + [True]
    assert frame.index.is_monotonic_increasing and str(frame.index.tz) == "UTC"
    assert (frame["taker_buy_quote"] <= frame["quote_volume"]).all()


async def test_parse_ticker_reads_the_emulator(client: httpx.AsyncClient) -> None:
    raw = (await client.get(TICKER, params={"symbol": "BTCUSDT"})).json()
    ticker = parse_ticker_24hr(raw)
    assert ticker.symbol == "BTCUSDT"
    assert ticker.low <= ticker.last <= ticker.high
    assert ticker.close_time == pd.Timestamp(NOW, unit="ms", tz="UTC")


async def test_binance_spot_client_pages_history(emu: Emulator) -> None:
    http = HttpClient(transport=EmulatorTransport(emu))
    try:
        spot = BinanceSpot(http)
        start = NOW - 60 * DAY
        frame = await spot.klines("ADAUSDT", "1h", start_ms=start, now_ms=NOW)
        tickers = await spot.ticker_24hr(["BTCUSDT", "ADAUSDT"])
        single = await spot.ticker_24hr(["ETHUSDT"])
    finally:
        await http.aclose()
    expected_bars = (NOW // HOUR * HOUR - (start // HOUR + 1) * HOUR) // HOUR + 1
    assert len(frame) == expected_bars > 1000  # needed a second page
    assert frame.index.is_unique and frame.index.is_monotonic_increasing
    assert (frame.index.to_series().diff().iloc[1:] == pd.Timedelta(hours=1)).all()
    assert frame["provisional"].sum() == 1 and bool(frame["provisional"].iloc[-1])
    assert http.log.by_host == {"data-api.binance.vision": 4}  # two kline pages, two ticker calls
    assert set(tickers) == {"BTCUSDT", "ADAUSDT"} and set(single) == {"ETHUSDT"}
    assert tickers["ADAUSDT"].last == pytest.approx(float(frame["close"].iloc[-1]))


# --- exchangeInfo: the listing of the market-wide CVD -------------------------------------------------------

EXCHANGE_INFO = f"{BASE}/api/v3/exchangeInfo"
#: Every field ``rest-api.md`` shows for a ``symbols`` entry (binance-spot-api-docs @ a5e0bc3d), in its order.
DOCUMENTED_SYMBOL_FIELDS = [
    "symbol", "status", "baseAsset", "baseAssetPrecision", "quoteAsset", "quotePrecision", "quoteAssetPrecision",
    "baseCommissionPrecision", "quoteCommissionPrecision", "orderTypes", "icebergAllowed", "ocoAllowed",
    "otoAllowed", "opoAllowed", "quoteOrderQtyMarketAllowed", "allowTrailingStop", "cancelReplaceAllowed",
    "amendAllowed", "pegInstructionsAllowed", "isSpotTradingAllowed", "isMarginTradingAllowed", "filters",
    "permissions", "permissionSets", "defaultSelfTradePreventionMode", "allowedSelfTradePreventionModes",
]  # fmt: skip


async def listing(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.get(EXCHANGE_INFO, params=params)


async def test_exchange_info_has_binances_format_and_weight(client: httpx.AsyncClient, dataset: MarketDataset) -> None:
    response = await listing(client)
    assert response.status_code == 200 and response.headers["X-MBX-USED-WEIGHT-1M"] == "20"
    body = response.json()
    assert list(body) == ["timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"]
    assert body["timezone"] == "UTC" and body["serverTime"] == NOW
    assert {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000} in body[
        "rateLimits"]  # fmt: skip
    entries = {s["symbol"]: s for s in body["symbols"]}
    assert all(list(s) == DOCUMENTED_SYMBOL_FIELDS for s in entries.values())
    # Every pair of the dataset, and the pairs a console must leave out of an altcoin figure beside them.
    assert set(dataset.spot_klines) <= set(entries)
    assert {"ETHBTC", "USDCUSDT", "FDUSDUSDT", "WBTCUSDT", "PAXGUSDT", "MATICUSDT", "BTCUPUSDT"} <= set(entries)
    eth = entries["ETHUSDT"]
    assert (eth["baseAsset"], eth["quoteAsset"], eth["status"]) == ("ETH", "USDT", "TRADING")
    assert eth["permissions"] == [] and eth["permissionSets"] == [["SPOT", "MARGIN"]]  # moved there in 2024
    assert entries["MATICUSDT"]["status"] == "BREAK" and not entries["MATICUSDT"]["isSpotTradingAllowed"]
    assert entries["BTCUPUSDT"]["permissionSets"] == [["LEVERAGED"]]
    bull = [s for s in entries if s.endswith("BULLUSDT")]
    assert len(bull) == 1 and entries[bull[0]]["permissionSets"] == [["SPOT"]]  # only a pattern can tell


async def test_exchange_info_honours_its_documented_parameters(client: httpx.AsyncClient) -> None:
    spot = {s["symbol"] for s in (await listing(client, permissions="SPOT")).json()["symbols"]}
    assert "ETHUSDT" in spot and "BTCUPUSDT" not in spot  # a LEVERAGED-only token is not a SPOT pair
    either = {s["symbol"] for s in (await listing(client, permissions='["MARGIN","LEVERAGED"]')).json()["symbols"]}
    assert {"BTCUPUSDT", "ETHUSDT"} <= either and not any(s.endswith("BULLUSDT") for s in either)  # SPOT only
    one = (await listing(client, symbol="SOLUSDT")).json()["symbols"]
    assert [s["symbol"] for s in one] == ["SOLUSDT"]
    two = (await listing(client, symbols='["ETHUSDT","BTCUSDT"]')).json()["symbols"]
    assert [s["symbol"] for s in two] == ["ETHUSDT", "BTCUSDT"]
    halted = (await listing(client, symbolStatus="BREAK")).json()["symbols"]
    assert [s["symbol"] for s in halted] == ["MATICUSDT"]
    bare = (await listing(client, symbol="ETHUSDT", showPermissionSets="false")).json()["symbols"][0]
    assert bare["permissionSets"] == []
    for params, code in (({"symbol": "NOPEUSDT"}, -1121), ({"symbols": '["ETHUSDT","NOPEUSDT"]'}, -1121),
                         ({"symbol": "ETHUSDT", "permissions": "SPOT"}, -1128),
                         ({"symbols": '["ETHUSDT"]', "symbolStatus": "TRADING"}, -1128),
                         ({"symbol": "ETHUSDT", "symbols": '["ETHUSDT"]'}, -1128),
                         ({"symbolStatus": "SOON"}, -1122), ({"permissions": "FUTURES"}, -1130),
                         ({"symbols": "[ETHUSDT"}, -1100)):  # fmt: skip
        response = await listing(client, **params)
        assert response.status_code == 400 and response.json()["code"] == code, (params, response.text)
        assert isinstance(response.json()["msg"], str)


async def test_exchange_info_lists_nothing_before_its_first_bar(dataset: MarketDataset) -> None:
    """A replay before a pair's listing does not list it: nothing later than the clock leaks through."""
    late = {interval: frame.assign(open_time=frame["open_time"] + 10 * DAY)
            for interval, frame in dataset.spot_klines["SOLUSDT"].items()}  # fmt: skip
    start = int(dataset.spot_klines["SOLUSDT"][HOUR]["open_time"].iloc[0])
    data = MarketDataset(name="replay", simulated=False, spot_klines={"ETHUSDT": dataset.spot_klines["ETHUSDT"],
                                                                      "NEWUSDT": late})  # fmt: skip
    emu = Emulator(data, VirtualClock(start_ms=start + 5 * DAY, speed=0))
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as c:
        before = {s["symbol"] for s in (await listing(c)).json()["symbols"]}
        emu.clock.advance(6 * DAY)
        after = {s["symbol"] for s in (await listing(c)).json()["symbols"]}
    assert "ETHUSDT" in before and "NEWUSDT" not in before and "NEWUSDT" in after


async def test_the_client_reads_the_emulated_listing(emu: Emulator) -> None:
    from analytics.market_cvd import select_pairs

    http = HttpClient(transport=EmulatorTransport(emu))
    try:
        listing_ = await BinanceSpot(http).exchange_info()
    finally:
        await http.aclose()
    assert listing_.server_time == NOW and http.log.by_host == {"data-api.binance.vision": 1}
    pairs = select_pairs(listing_.symbols, "USDT", exclude=["USDC", "FDUSD", "WBTC", "PAXG"],
                         patterns=["*UP", "*DOWN", "*BULL", "*BEAR"])  # fmt: skip
    # Exactly the dataset's altcoins: BTC, the stablecoins, the wrapped and pegged, the halted pair, the other
    # quote and both leveraged tokens are left out, each for its own rule.
    assert set(pairs.symbols.values()) == set(emu.dataset.spot_klines) - {"BTCUSDT"}
    assert pairs.not_trading == 1 and "BTCUPUSDT" not in pairs.excluded  # permissions=SPOT: not even listed
    assert {r for s, r in pairs.excluded.items() if s.endswith("BULLUSDT")} == {"leveraged token (matches *BULL)"}


@pytest.mark.parametrize("interpolate", [True, False])
def test_ticker_fast_path_answers_what_stitching_answers(dataset: MarketDataset, interpolate: bool) -> None:
    """Where the minute bars alone cover the day, the ticker is read off plain arrays (the demo polls it every
    2 s); it must answer what stitching every resolution answers, at any instant (a bar running or closed)."""
    from emulator import klines as kl

    frames = dict(dataset.spot_klines["BTCUSDT"])
    hourly = frames[HOUR]
    # As in the demo: daily bars for the old history too, ending weeks before now.
    frames[DAY] = kl.aggregate(hourly[hourly["open_time"] < NOW - 40 * DAY].reset_index(drop=True), DAY, HOUR)
    usable = kl.usable_frames(frames, None)
    assert [base for base, _ in usable] == [MINUTE, HOUR, DAY]
    checked = 0
    for offset in (0, 1, 59_999, 60_000, 23_456, 7 * MINUTE + 1, 3 * HOUR + 17, 20 * HOUR - 1):
        now = NOW + offset
        fast = kl._rolling_24h_fine(usable, now, interpolate=interpolate)
        assert fast is not None  # the demo's minute bars cover the day
        original = kl._rolling_24h_fine
        kl._rolling_24h_fine = lambda *args, **kwargs: None  # type: ignore[assignment]
        try:
            slow = kl.rolling_24h(frames, now, interpolate=interpolate)
        finally:
            kl._rolling_24h_fine = original  # type: ignore[assignment]
        assert slow is not None and set(fast) == set(slow)
        for key, value in slow.items():
            assert fast[key] == pytest.approx(value, rel=1e-12), (offset, key)
        checked += 1
    assert checked == 8


def test_ticker_fast_path_steps_aside_where_minute_bars_do_not_cover_the_day(dataset: MarketDataset) -> None:
    from emulator import klines as kl

    minutes = minute_truth(dataset)
    short = {HOUR: dataset.spot_klines["BTCUSDT"][HOUR],
             MINUTE: minutes[minutes["open_time"] >= NOW - 12 * HOUR].reset_index(drop=True)}  # fmt: skip
    assert kl._rolling_24h_fine(kl.usable_frames(short, None), NOW, interpolate=True) is None
    gap = minutes.drop(index=minutes.index[(minutes["open_time"] - (NOW - 5 * HOUR)).abs().argmin()])
    holes = {HOUR: short[HOUR], MINUTE: gap.reset_index(drop=True)}
    assert kl._rolling_24h_fine(kl.usable_frames(holes, None), NOW, interpolate=True) is None
