"""The liquidation stream runner against real local websocket servers (127.0.0.1 only) and the emulated
streams."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from emulator.clock import VirtualClock
from emulator.core import Emulator
from emulator.okx_contracts import CT_VAL
from emulator.transport import EmulatorTransport
from emulator.ws_streams import asgi_app, get_hub, serve_ws, ws_urls
from records.liquidations import Liquidation
from sources.errors import SourceError
from sources.http import HttpClient
from sources.liquidations import venue_symbol
from sources.ws import LiquidationStream, OkxContracts, OkxLiquidationPoller, websockets_opener
from tests.test_analytics_liquidations import make_demo_dataset

pytestmark = pytest.mark.timeout(30)

FAST = {"backoff_base_s": 0.05, "backoff_max_s": 0.2, "rng": random.Random(1)}


def bybit_push(i: int) -> str:
    return json.dumps(
        {
            "topic": "allLiquidation.BTCUSDT",
            "type": "snapshot",
            "ts": 1_700_000_000_000 + i,
            "data": [{"T": 1_700_000_000_000 + i, "s": "BTCUSDT", "S": "Buy", "v": "0.1", "p": "60000"}],
        }
    )


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_drop_then_reconnect_keeps_every_record() -> None:
    connections = 0
    subscribe_frames: list[dict] = []

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        first = connections == 1
        n_frames = 2  # 15 symbols at 10 topics a request
        for _ in range(n_frames):
            request = json.loads(await ws.recv())
            subscribe_frames.append(request)
            await ws.send(json.dumps({"success": True, "ret_msg": "", "conn_id": "x", "op": "subscribe"}))
        for i in range(3) if first else range(3, 5):
            await ws.send(bybit_push(i))
        if first:
            await asyncio.sleep(0.1)
            ws.transport.abort()  # a network drop, no close frame
            return
        await ws.wait_closed()

    records: list[Liquidation] = []
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        symbols = ["BTCUSDT"] + [f"C{i}USDT" for i in range(14)]
        stream = LiquidationStream.bybit(
            websockets_opener(open_timeout=2),
            symbols,
            records.extend,
            url=f"ws://127.0.0.1:{port}/v5/public/linear",
            **FAST,
        )
        task = asyncio.create_task(stream.run())
        await wait_for(lambda: len(records) == 5)
        assert stream.state == "live"
        stream.stop()
        await task
    assert [r.time - 1_700_000_000_000 for r in records] == [0, 1, 2, 3, 4]
    assert all(r.side == "long" and r.exchange == "bybit" for r in records)
    assert stream.reconnects == 1 and connections == 2
    log = list(stream.state_log)
    assert log[:5] == ["connecting", "live", "retrying", "connecting", "live"] and log[-1] == "offline"
    assert stream.error is not None and "closed" in stream.error  # why it was retrying
    assert [len(f["args"]) for f in subscribe_frames] == [10, 5, 10, 5]  # resubscribed after the drop
    assert stream.status().state == "offline" and stream.status().records == 5


async def test_silent_server_trips_the_watchdog() -> None:
    opened = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal opened
        opened += 1
        await ws.wait_closed()  # accepts, then says nothing

    statuses: list[str] = []
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = LiquidationStream.binance(
            websockets_opener(open_timeout=2),
            lambda recs: None,
            url=f"ws://127.0.0.1:{port}/market/ws/!forceOrder@arr",
            silence_timeout_s=0.3,
            on_status=lambda s: statuses.append(s.state),
            **FAST,
        )
        assert stream.lower_bound
        task = asyncio.create_task(stream.run())
        await wait_for(lambda: stream.reconnects >= 2)
        stream.stop()
        await task
    assert "no message for 0.3 s" in (stream.error or "")
    assert statuses.count("retrying") >= 2 and opened >= 2
    assert stream.last_message_at is None  # never showed anything as live data


async def test_bybit_app_ping_and_pong_keep_it_alive() -> None:
    pings = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal pings
        async for message in ws:
            request = json.loads(message)
            if request["op"] == "ping":
                pings += 1
                await ws.send(json.dumps({"success": True, "ret_msg": "pong", "conn_id": "x", "op": "ping"}))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = LiquidationStream.bybit(
            websockets_opener(),
            ["BTCUSDT"],
            lambda recs: None,
            url=f"ws://127.0.0.1:{port}/v5/public/linear",
            silence_timeout_s=0.5,
            **FAST,
        )
        stream.venue.ping_interval_s = 0.1
        task = asyncio.create_task(stream.run())
        await asyncio.sleep(1.2)  # > 2x the silence timeout: only the pongs keep it up
        stream.stop()
        await task
    assert pings >= 5 and stream.reconnects == 0


async def test_geo_block_goes_offline_without_spinning() -> None:
    def refuse(connection: ServerConnection, request: object) -> Response:
        return Response(451, "Unavailable For Legal Reasons", Headers(), b"restricted location")

    async with serve(lambda ws: asyncio.sleep(0), "127.0.0.1", 0, process_request=refuse) as server:
        port = server.sockets[0].getsockname()[1]
        stream = LiquidationStream.binance(
            websockets_opener(), lambda recs: None, url=f"ws://127.0.0.1:{port}/market/ws/!forceOrder@arr", **FAST
        )
        task = asyncio.create_task(stream.run())
        await wait_for(lambda: stream.state == "offline" and stream.error is not None)
        status = stream.status()
        stream.stop()
        await task
    assert "451" in (status.error or "") and status.retry_in_s is not None and status.retry_in_s > 800


async def test_parse_errors_are_counted_not_fatal() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("not json")
        await ws.send(json.dumps({"e": "forceOrder", "E": 1, "o": {"s": "BTCUSDT", "S": "SIDEWAYS"}}))
        await ws.send(
            json.dumps(
                {
                    "e": "forceOrder",
                    "E": 1_700_000_000_000,
                    "o": {
                        "s": "BTCUSDT",
                        "S": "SELL",
                        "q": "1",
                        "p": "1",
                        "ap": "50000",
                        "X": "FILLED",
                        "l": "1",
                        "z": "1",
                        "T": 1_700_000_000_000,
                    },
                }
            )
        )
        await ws.wait_closed()

    records: list[Liquidation] = []
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = LiquidationStream.binance(
            websockets_opener(), records.extend, url=f"ws://127.0.0.1:{port}/market/ws/!forceOrder@arr", **FAST
        )
        task = asyncio.create_task(stream.run())
        await wait_for(lambda: len(records) == 1)
        stream.stop()
        await task
    assert stream.bad_messages == 2 and stream.reconnects == 0
    assert "binance" in (stream.error or "") and records[0].notional_usd == 50000


# --- the emulated streams -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> tuple:
    return make_demo_dataset()


def emulator_at(demo: tuple, at_ms: int, speed: float) -> Emulator:
    dataset, _ = demo
    return Emulator(dataset, VirtualClock(start_ms=at_ms, speed=speed))


async def test_emulated_streams_deliver_the_cascade_in_venue_formats(demo: tuple) -> None:
    dataset, scenario = demo
    start = scenario.cascade_peak_ms - 60_000
    emu = emulator_at(demo, start, speed=120.0)  # 1 wall second = 2 virtual minutes
    hub = get_hub(emu)
    got: dict[str, list[Liquidation]] = {"binance": [], "bybit": [], "okx": []}
    bybit_symbols = [venue_symbol(c, "bybit") for c in scenario.coins]
    # OKX sizes come from its instruments list, loaded the way the console loads it.
    contracts = OkxContracts()
    http = HttpClient(transport=EmulatorTransport(emu), retries=0)
    await OkxLiquidationPoller(http, ["BTC"], contracts=contracts).load_contract_values()
    await http.aclose()
    streams = [
        LiquidationStream.binance(hub.opener(), got["binance"].extend, **FAST),
        LiquidationStream.bybit(hub.opener(), bybit_symbols, got["bybit"].extend, **FAST),
        LiquidationStream.okx(hub.opener(), got["okx"].extend, contracts=contracts, **FAST),
    ]
    tasks = [asyncio.create_task(s.run()) for s in streams]
    await wait_for(lambda: all(s.state == "live" for s in streams))
    await asyncio.sleep(1.5)
    end = emu.now_ms()
    for s in streams:
        s.stop()
    await asyncio.gather(*tasks)

    liq = dataset.liquidations
    for venue, recs in got.items():
        assert len(recs) > 20, venue
        longs = sum(r.notional_usd for r in recs if r.side == "long")
        assert longs > 0.9 * sum(r.notional_usd for r in recs), f"{venue}: a long cascade"
        assert all(start <= r.time < end for r in recs)
        assert {r.coin for r in recs} <= set(scenario.coins)
    # Bybit pushes everything for subscribed symbols: exactly the dataset's rows (from the first full batch).
    first = min(r.time for r in got["bybit"])
    last = max(r.time for r in got["bybit"])
    rows = liq[(liq["exchange"] == "bybit") & (liq["time"] >= first) & (liq["time"] <= last)]
    assert len(rows) == len(got["bybit"])
    assert sum(r.notional_usd for r in got["bybit"]) == pytest.approx(
        (rows["qty"] * rows["price"]).sum(), rel=1e-6
    )
    pepe = [r for r in got["bybit"] if r.coin == "PEPE"]
    assert all(r.symbol == "1000PEPEUSDT" and r.price < 1 for r in pepe)
    # Binance: one order per symbol per second at most -> a lower bound of its dataset rows.
    b_rows = liq[(liq["exchange"] == "binance") & (liq["time"] >= start) & (liq["time"] < end)]
    assert len(got["binance"]) <= len(b_rows)
    seconds = {(r.symbol, r.time // 1000) for r in got["binance"]}
    assert len(seconds) == len(got["binance"])
    # OKX: contracts x ctVal give back the coins (to the 0.01-contract rounding). Compared over the span the
    # stream delivered, as for Bybit: on a loaded machine it connects some virtual seconds after ``start``.
    o_first = min(r.time for r in got["okx"])
    o_last = max(r.time for r in got["okx"])
    o_rows = liq[(liq["exchange"] == "okx") & (liq["time"] >= o_first) & (liq["time"] <= o_last)]
    assert abs(sum(r.notional_usd for r in got["okx"]) / (o_rows["qty"] * o_rows["price"]).sum() - 1) < 0.05


async def test_emulated_server_drop_and_silence_over_tcp(demo: tuple) -> None:
    _, scenario = demo
    emu = emulator_at(demo, scenario.cascade_peak_ms, speed=60.0)
    hub = get_hub(emu)
    server = await serve_ws(hub)
    try:
        port = server.sockets[0].getsockname()[1]
        urls = ws_urls("127.0.0.1", port)
        records: list[Liquidation] = []
        contracts = OkxContracts({f"{c}-USDT-SWAP": v for c, v in CT_VAL.items()})
        stream = LiquidationStream.okx(
            websockets_opener(open_timeout=2), records.extend, url=urls["okx"], silence_timeout_s=0.5,
            contracts=contracts, **FAST,
        )  # fmt: skip
        stream.venue.ping_interval_s = 0.1
        task = asyncio.create_task(stream.run())
        await wait_for(lambda: len(records) > 5)
        assert hub.drop("okx") == 1
        await wait_for(lambda: stream.reconnects == 1 and stream.state == "live")
        before = len(records)
        await wait_for(lambda: len(records) > before)
        hub.set_fault("silent", "okx")  # no data, no pongs
        await wait_for(lambda: "no message" in (stream.error or ""))
        hub.set_fault(None, "okx")
        await wait_for(lambda: stream.state == "live" and stream.reconnects >= 2)
        hub.set_fault("refuse")
        hub.drop()
        await wait_for(lambda: stream.state == "retrying" and stream.reconnects >= 3)
        stream.stop()
        await task
    finally:
        server.close()
        await server.wait_closed()
    assert "retrying" in stream.state_log and stream.records == len(records)


async def test_bybit_emulator_refuses_oversized_subscriptions(demo: tuple) -> None:
    _, scenario = demo
    hub = get_hub(emulator_at(demo, scenario.cascade_peak_ms, speed=0))
    async with hub.opener()("wss://stream.bybit.com/v5/public/linear") as conn:
        await conn.send(
            json.dumps({"op": "subscribe", "args": [f"allLiquidation.C{i}USDT" for i in range(11)]})
        )
        reply = json.loads(await conn.recv())
        assert reply["success"] is False and reply["op"] == "subscribe"
        await conn.send(json.dumps({"op": "ping"}))
        assert json.loads(await conn.recv())["ret_msg"] == "pong"


async def test_asgi_app_serves_the_same_stream(demo: tuple) -> None:
    _, scenario = demo
    hub = get_hub(emulator_at(demo, scenario.cascade_peak_ms, speed=60.0))
    app = asgi_app(hub)
    inbox: asyncio.Queue = asyncio.Queue()
    sent: list[dict] = []
    await inbox.put({"type": "websocket.connect"})
    await inbox.put({"type": "websocket.receive", "text": "ping"})

    async def send(event: dict) -> None:
        sent.append(event)
        if sum(e["type"] == "websocket.send" for e in sent) == 1:
            await inbox.put({"type": "websocket.disconnect", "code": 1000})

    await asyncio.wait_for(app({"type": "websocket", "path": "/ws/v5/public"}, inbox.get, send), 5)
    assert sent[0] == {"type": "websocket.accept"}
    assert sent[1] == {"type": "websocket.send", "text": "pong"}


# --- the OKX REST fallback ----------------------------------------------------------------------------------


async def test_okx_rest_route_and_poller(demo: tuple) -> None:
    _, scenario = demo
    emu = emulator_at(demo, scenario.cascade_peak_ms, speed=0)
    http = HttpClient(EmulatorTransport(emu))
    try:
        # OKX answers a missing instFamily with code 50015 and HTTP 400 (its error-code table); the code is kept.
        with pytest.raises(SourceError, match="code 50015") as err:
            await http.get_json(
                "okx",
                "/api/v5/public/liquidation-orders",
                "https://www.okx.com/api/v5/public/liquidation-orders",
                params={"instType": "SWAP"},
            )
        assert err.value.status == 400
        poller = OkxLiquidationPoller(http, ["BTC", "ETH"])
        await poller.load_contract_values()  # OKX's own contract sizes, as the console loads them
        first = await poller.poll()
        assert len(first) > 50 and {r.coin for r in first} == {"BTC", "ETH"}
        assert all(r.time <= emu.now_ms() for r in first)
        assert first == sorted(first, key=lambda r: r.time)
        assert await poller.poll() == []  # nothing new at a frozen clock
        emu.clock.advance(5 * 60_000)
        fresh = await poller.poll()
        assert fresh and min(r.time for r in fresh) > max(r.time for r in first) - 1
    finally:
        await http.aclose()


async def test_okx_rest_route_paging_params(demo: tuple) -> None:
    _, scenario = demo
    emu = emulator_at(demo, scenario.cascade_peak_ms, speed=0)
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as client:
        url = "https://www.okx.com/api/v5/public/liquidation-orders"
        page = (
            await client.get(
                url, params={"instType": "SWAP", "uly": "BTC-USDT", "state": "filled", "limit": "5"}
            )
        ).json()
        details = page["data"][0]["details"]
        assert len(details) == 5 and [int(d["ts"]) for d in details] == sorted(
            (int(d["ts"]) for d in details), reverse=True
        )
        older = (
            await client.get(
                url,
                params={
                    "instType": "SWAP",
                    "instFamily": "BTC-USDT",
                    "state": "filled",
                    "limit": "5",
                    "after": details[-1]["ts"],
                },
            )
        ).json()
        assert max(int(d["ts"]) for d in older["data"][0]["details"]) < int(details[-1]["ts"])
        bad = (await client.get(url, params={"instType": "SWAP", "uly": "BTC-USDT", "limit": "x"})).json()
        assert bad["code"] == "51000"


async def test_binance_routes_as_since_april_2026(demo: tuple) -> None:
    """The emulator follows Binance's 2026 routing: /market carries liquidations (raw, wrapped or subscribed);
    a retired unrouted path completes the handshake and acknowledges SUBSCRIBE but never sends an event."""
    _, scenario = demo
    emu = emulator_at(demo, scenario.cascade_peak_ms, speed=60.0)
    hub = get_hub(emu)
    opener = hub.opener()

    async def first_frame(url: str, subscribe: bool = False) -> list[str]:
        frames = []
        async with opener(url) as conn:
            if subscribe:
                await conn.send(json.dumps({"method": "SUBSCRIBE", "params": ["!forceOrder@arr"], "id": 7}))
            for _ in range(2):
                try:
                    frames.append(await asyncio.wait_for(conn.recv(), 1.5))
                except TimeoutError:
                    break
        return frames

    raw = await first_frame("wss://fstream.binance.com/market/ws/!forceOrder@arr")
    assert json.loads(raw[0])["e"] == "forceOrder"
    wrapped = await first_frame("wss://fstream.binance.com/market/stream?streams=!forceOrder@arr")
    assert json.loads(wrapped[0])["stream"] == "!forceOrder@arr" and json.loads(wrapped[0])["data"]["o"]["s"]
    bare = await first_frame("wss://fstream.binance.com/market/ws", subscribe=True)
    assert json.loads(bare[0]) == {"result": None, "id": 7} and json.loads(bare[1])["e"] == "forceOrder"
    # The legacy paths: acknowledged, then silence (the cascade is under way: /market sent events every second).
    assert await first_frame("wss://fstream.binance.com/ws/!forceOrder@arr") == []
    legacy = await first_frame("wss://fstream.binance.com/ws", subscribe=True)
    assert [json.loads(f) for f in legacy] == [{"result": None, "id": 7}]


def test_legacy_binance_url_in_a_config_is_moved_to_market(tmp_path) -> None:
    from tui.runtime.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('[sources]\nbinance_ws = "wss://fstream.binance.com/ws/!forceOrder@arr"\n')
    config = load_config(path, use_user_file=False)
    assert config.sources.binance_ws == "wss://fstream.binance.com/market/ws/!forceOrder@arr"
    assert len(config.notes) == 1 and f"{path}:2: sources.binance_ws: unrouted" in config.notes[0]
    assert load_config(use_user_file=False).notes == ()  # the default is already routed
