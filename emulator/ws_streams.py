"""Emulated liquidation websockets: Binance ``!forceOrder@arr``, Bybit ``allLiquidation``, OKX
``liquidation-orders``.

They replay ``MarketDataset.liquidations`` (``time`` ms, ``exchange``, ``coin``, ``side``, ``qty`` coins,
``price`` USD) in real time at the emulator's :class:`~emulator.clock.VirtualClock`, each in its
venue's wire format, so :class:`sources.ws.LiquidationStream` cannot tell them from the real thing:

- **Binance** on the routed ``/market`` tier, as since 2026-04-23: ``/market/ws/!forceOrder@arr`` streams on
  connect, ``/market/stream?streams=!forceOrder@arr`` wraps each event as ``{"stream","data"}``, and the bare
  ``/market/ws`` waits for ``{"method":"SUBSCRIBE","params":["!forceOrder@arr"],"id":N}`` (acknowledged with
  ``{"result":null,"id":N}``). The retired unrouted paths (``/ws/...``, ``/ws``, ``/stream``) behave as the real
  server does now: the handshake completes, a SUBSCRIBE is acknowledged, and **nothing is ever sent** (a console
  still on a legacy URL sees a silent "live" feed). Snapshot semantics as documented: per symbol and per 1000
  ms window only the *latest* order is pushed (so Binance totals undercount, as live). Symbols and sizes are
  in Binance's units (``1000PEPEUSDT``: qty /1000, price x1000).
- **Bybit** (path ``/v5/public/linear``): ``{"op":"subscribe","args":[...]}`` with at most 10 topics per
  request (more is refused, the emulator is strict); every subscribed symbol's liquidations are pushed in 500
  ms batches; ``{"op":"ping"}`` answers a pong.
- **OKX** (path ``/ws/v5/public``): subscribe to ``liquidation-orders``/``SWAP``; 1000 ms batches, one message
  per instrument, ``sz`` in contracts of the emulated instrument table (:mod:`emulator.okx_contracts`,
  what ``/api/v5/public/instruments`` serves); the text ``ping``
  answers ``pong``.

A connection starts at the virtual "now" (no backlog, like a real socket). Faults for tests:
:meth:`WsHub.drop` (cut every open connection now), ``set_fault("silent")`` (connections stay open but send
nothing, not even pongs) and ``set_fault("refuse")`` (new connections fail), optionally per venue.

The same streams are served on 127.0.0.1 through a real socket by :func:`serve_ws` (``websockets`` server) or
mounted into an ASGI server with :func:`asgi_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

from emulator.core import Emulator
from emulator.okx_contracts import contract_value
from records.liquidations import BINANCE, BYBIT, OKX
from sources.errors import SourceUnavailable
from sources.liquidations import okx_inst_id, venue_symbol
from sources.symbols import SCALED_COINS
from sources.ws import WsClosed, WsConnection, WsOpener

#: URL path -> venue. Hosts are ignored, as for the HTTP routes.
PATHS: dict[str, str] = {"/market/ws/!forceOrder@arr": BINANCE, "/v5/public/linear": BYBIT, "/ws/v5/public": OKX}
VENUE_PATH = {venue: path for path, venue in PATHS.items()}
BINANCE_STREAM = "!forceOrder@arr"


def route_path(path: str, query: str = "") -> tuple[str, str] | None:
    """(venue, mode) of a websocket URL path, or None. Binance modes: ``raw`` (events as sent), ``wrapped``
    (combined-stream envelope), ``subscribe`` (bare ``/market/ws``: nothing until a SUBSCRIBE) and ``legacy``
    (a retired unrouted path: handshake and acks only, never an event)."""
    if path in ("/v5/public/linear",):
        return BYBIT, "raw"
    if path == "/ws/v5/public":
        return OKX, "raw"
    if path == f"/market/ws/{BINANCE_STREAM}":
        return BINANCE, "raw"
    if path == "/market/stream":
        streams = dict(parse_qsl(query)).get("streams", "")
        return (BINANCE, "wrapped") if BINANCE_STREAM in streams.split("/") else None
    if path == "/market/ws":
        return BINANCE, "subscribe"
    if path in ("/ws", "/stream") or (path.startswith("/ws/") and "@" in path):
        return BINANCE, "legacy"
    return None
BATCH_MS = {BINANCE: 1000, BYBIT: 500, OKX: 1000}
BYBIT_MAX_ARGS = 10
_conn_ids = itertools.count(1)


def decimal_str(value: float, significant: int = 8) -> str:
    """A positive number as a plain decimal string with ``significant`` digits (never exponent notation)."""
    if value == 0 or not math.isfinite(value):
        return "0"
    decimals = max(0, min(12, significant - 1 - math.floor(math.log10(abs(value)))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class _Rows:
    """One column of the dataset's liquidation frame read through one venue's row positions: ``values[rows[key]]``.

    The tape indexes the frame's own column instead of copying the venue's rows (~230k rows over three venues in the
    demo: ~6 MB of copies kept for the whole run)."""

    values: np.ndarray
    rows: np.ndarray

    def __getitem__(self, key: Any) -> Any:
        return self.values[self.rows[key]]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class _VenueTape:
    """One venue's liquidations in time order (built once per dataset, cached on the emulator).

    ``time`` is the venue's own sorted array (what :meth:`between` searches); the other columns read the dataset's
    frame through the venue's row positions (:class:`_Rows`)."""

    time: np.ndarray
    coin: _Rows
    long: np.ndarray
    qty: _Rows
    price: _Rows

    def between(self, start_ms: int, end_ms: int) -> slice:
        """Rows with ``start_ms <= time < end_ms``."""
        lo = int(np.searchsorted(self.time, start_ms, side="left"))
        hi = int(np.searchsorted(self.time, end_ms, side="left"))
        return slice(lo, hi)

    def next_after(self, start_ms: int) -> int | None:
        i = int(np.searchsorted(self.time, start_ms, side="left"))
        return int(self.time[i]) if i < len(self.time) else None


def venue_tape(emulator: Emulator, venue: str) -> _VenueTape:
    key = ("ws_liquidations", venue, id(emulator.dataset.liquidations))
    cached = emulator.cache.get(key)
    if cached is not None:
        return cached
    frame = emulator.dataset.liquidations
    if frame is None or len(frame) == 0:
        none = np.empty(0, np.intp)
        tape = _VenueTape(np.empty(0, np.int64), _Rows(np.empty(0, object), none), np.empty(0, bool),
                          _Rows(np.empty(0), none), _Rows(np.empty(0), none))  # fmt: skip
    else:
        times = frame["time"].to_numpy(np.int64)
        pos = np.flatnonzero(frame["exchange"].to_numpy() == venue)
        pos = pos[np.argsort(times[pos], kind="stable")]  # the venue's rows in time order, ties as stored
        coin = frame["coin"]
        if isinstance(coin.dtype, pd.CategoricalDtype):  # the demo's: codes into a few names, not 230k pointers
            coins = _Rows(coin.cat.categories.to_numpy(object), coin.cat.codes.to_numpy()[pos])
        else:
            coins = _Rows(coin.to_numpy(object), pos)
        tape = _VenueTape(
            times[pos],
            coins,
            frame["side"].to_numpy()[pos] == "long",
            _Rows(frame["qty"].to_numpy(np.float64), pos),
            _Rows(frame["price"].to_numpy(np.float64), pos),
        )
    emulator.cache[key] = tape
    return tape


class EmulatedSession:
    """The server side of one emulated connection: ``feed`` takes client frames, ``next_frame`` yields server
    ones."""

    def __init__(self, hub: WsHub, venue: str, mode: str = "raw") -> None:
        self.hub = hub
        self.venue = venue
        self.mode = mode  # Binance: raw | wrapped | subscribe | legacy (see route_path)
        self.conn_id = f"emu-{next(_conn_ids)}"
        self.tape = venue_tape(hub.emulator, venue)
        batch = BATCH_MS[venue]
        self.cursor = (hub.emulator.now_ms() // batch) * batch  # the next window to emit starts here
        self.outbox: deque[str] = deque()
        self.closed = False
        self.close_reason = ""
        self.subscribed: set[str] = set()  # Bybit symbols; OKX: {"SWAP"}; Binance: unused
        self._wake = asyncio.Event()

    # client -> server
    # -------------------------------------------------------------------------------------------

    async def feed(self, text: str) -> None:
        if self.closed:
            raise WsClosed(self.close_reason or "closed")
        if self.hub.fault_for(self.venue) == "silent":
            return
        if self.venue == BYBIT:
            self._bybit_request(text)
        elif self.venue == OKX:
            self._okx_request(text)
        else:
            self._binance_request(text)
        self._wake.set()

    def _binance_request(self, text: str) -> None:
        """SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS as Binance answers them (a legacy path acks and stays silent)."""
        try:
            request = json.loads(text)
        except ValueError:
            return  # Binance ignores what it cannot read on a stream connection
        if not isinstance(request, dict) or "method" not in request:
            return
        method, ident = request.get("method"), request.get("id")
        params = request.get("params")
        params = params if isinstance(params, list) else []
        if method == "SUBSCRIBE":
            self.subscribed.update(str(p) for p in params)
            self._reply({"result": None, "id": ident})
        elif method == "UNSUBSCRIBE":
            self.subscribed.difference_update(str(p) for p in params)
            self._reply({"result": None, "id": ident})
        elif method == "LIST_SUBSCRIPTIONS":
            self._reply({"result": sorted(self.subscribed), "id": ident})

    def _bybit_request(self, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            self._reply({"success": False, "ret_msg": "Invalid request", "conn_id": self.conn_id})
            return
        op = request.get("op")
        base = {"conn_id": self.conn_id, "req_id": request.get("req_id", ""), "op": op}
        if op == "ping":
            self._reply({"success": True, "ret_msg": "pong", **base})
        elif op == "subscribe":
            args = request.get("args")
            if not isinstance(args, list) or not args:
                self._reply({"success": False, "ret_msg": "args is empty", **base})
            elif len(args) > BYBIT_MAX_ARGS:
                self._reply({"success": False, "ret_msg": f"args size > {BYBIT_MAX_ARGS}", **base})
            elif not all(
                isinstance(a, str) and a.startswith("allLiquidation.") and len(a) > 15 for a in args
            ):
                bad = next(a for a in args if not (isinstance(a, str) and a.startswith("allLiquidation.")))
                self._reply({"success": False, "ret_msg": f"Invalid topic :{bad}", **base})
            else:
                self.subscribed.update(a.split(".", 1)[1] for a in args)
                self._reply({"success": True, "ret_msg": "", **base})
        else:
            self._reply({"success": False, "ret_msg": f"Invalid op: {op}", **base})

    def _okx_request(self, text: str) -> None:
        if text == "ping":
            self.outbox.append("pong")
            return
        try:
            request = json.loads(text)
        except ValueError:
            self._invalid(text)
            return
        args = request.get("args") if isinstance(request, dict) else None
        if not isinstance(request, dict) or request.get("op") not in ("subscribe", "unsubscribe") or not args:
            self._invalid(text)
            return
        for arg in args:
            if (
                not isinstance(arg, dict)
                or arg.get("channel") != "liquidation-orders"
                or arg.get("instType") != "SWAP"
            ):
                self._reply(
                    {
                        "event": "error",
                        "code": "60018",
                        "msg": f"Wrong URL or channel:{arg}, instType doesn't exist.",
                        "connId": self.conn_id,
                    }
                )
                return
        if request["op"] == "subscribe":
            self.subscribed.add("SWAP")
        else:
            self.subscribed.discard("SWAP")
        reply: dict[str, Any] = {"event": request["op"], "arg": args[0], "connId": self.conn_id}
        if "id" in request:
            reply = {"id": request["id"], **reply}
        self._reply(reply)

    def _invalid(self, text: str) -> None:
        """OKX's answer to a frame it cannot use (not JSON, or no subscribe/unsubscribe with args): error 60012."""
        self._reply({"event": "error", "code": "60012", "msg": f"Invalid request: {text[:60]}", "connId": self.conn_id})

    def _reply(self, payload: dict[str, Any]) -> None:
        self.outbox.append(json.dumps(payload, separators=(",", ":")))

    # server -> client
    # -------------------------------------------------------------------------------------------

    def close(self, reason: str = "dropped") -> None:
        self.closed = True
        self.close_reason = reason
        self._wake.set()

    async def next_frame(self) -> str:
        """The next frame to send; waits (in virtual time) for the next liquidation. Raises WsClosed when
        cut."""
        clock = self.hub.emulator.clock
        while True:
            if self.closed:
                raise WsClosed(self.close_reason or "closed")
            silent = self.hub.fault_for(self.venue) == "silent"
            if not silent:
                if self.outbox:
                    return self.outbox.popleft()
                self._emit_until(self.hub.emulator.now_ms())
                if self.outbox:
                    return self.outbox.popleft()
            # Sleep until the next event is due (in wall time), in short steps so clock jumps and faults are
            # seen.
            wait = 0.1
            nxt = None if silent else self.tape.next_after(self.cursor)
            if nxt is not None and clock.speed > 0:
                batch = BATCH_MS[self.venue]
                due = (nxt // batch + 1) * batch
                wait = (due - self.hub.emulator.now_ms()) / 1000 / clock.speed
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(0.25, max(0.005, wait)))

    def _emit_until(self, now_ms: int) -> None:
        """Queue the frames of every complete batch window that ended by ``now_ms``."""
        batch = BATCH_MS[self.venue]
        cutoff = (now_ms // batch) * batch
        if cutoff <= self.cursor:
            return
        rows = self.tape.between(self.cursor, cutoff)
        start = self.cursor
        self.cursor = cutoff
        if rows.start == rows.stop:
            return
        if self.venue == BINANCE and self._binance_streams():
            self._emit_binance(rows, start)
        elif self.venue == BYBIT and self.subscribed:
            self._emit_bybit(rows, start)
        elif self.venue == OKX and "SWAP" in self.subscribed:
            self._emit_okx(rows, start)

    def _binance_streams(self) -> bool:
        """Whether this Binance connection gets events: never on a retired path, only once subscribed on a bare one."""
        if self.mode == "legacy":
            return False
        return self.mode != "subscribe" or BINANCE_STREAM in self.subscribed

    def _emit_binance(self, rows: slice, start: int) -> None:
        t = self.tape
        times = t.time[rows]
        window = (times - start) // 1000
        coins = t.coin[rows]
        # Snapshot semantics: the latest order per (symbol, 1000 ms window) survives.
        keep: dict[tuple[int, str], int] = {}
        for i in range(len(times)):
            keep[(int(window[i]), coins[i])] = i
        scale = SCALED_COINS[BINANCE]
        for i in sorted(keep.values()):
            j = rows.start + i
            coin = str(t.coin[j])
            mult = scale.get(coin, 1)
            qty = decimal_str(t.qty[j] / mult)
            price = decimal_str(t.price[j] * mult)
            ms = int(t.time[j])
            push = start + (int(window[i]) + 1) * 1000
            event = {
                "e": "forceOrder",
                "E": push,
                "o": {
                    "s": venue_symbol(coin, BINANCE),
                    "S": "SELL" if t.long[j] else "BUY",
                    "o": "LIMIT",
                    "f": "IOC",
                    "q": qty,
                    "p": price,
                    "ap": price,
                    "X": "FILLED",
                    "l": qty,
                    "z": qty,
                    "T": ms,
                },
            }
            self._reply({"stream": BINANCE_STREAM, "data": event} if self.mode == "wrapped" else event)

    def _emit_bybit(self, rows: slice, start: int) -> None:
        t = self.tape
        scale = SCALED_COINS[BYBIT]
        batches: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for j in range(rows.start, rows.stop):
            coin = str(t.coin[j])
            symbol = venue_symbol(coin, BYBIT)
            if symbol not in self.subscribed:
                continue
            mult = scale.get(coin, 1)
            window = (int(t.time[j]) - start) // 500
            batches.setdefault((window, symbol), []).append(
                {
                    "T": int(t.time[j]),
                    "s": symbol,
                    "S": "Buy" if t.long[j] else "Sell",
                    "v": decimal_str(t.qty[j] / mult),
                    "p": decimal_str(t.price[j] * mult),
                }
            )
        for (window, symbol), data in sorted(batches.items()):
            push = start + (window + 1) * 500
            self._reply({"topic": f"allLiquidation.{symbol}", "type": "snapshot", "ts": push, "data": data})

    def _emit_okx(self, rows: slice, start: int) -> None:
        t = self.tape
        batches: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for j in range(rows.start, rows.stop):
            inst = okx_inst_id(str(t.coin[j]))
            ct = contract_value(self.hub.emulator, str(t.coin[j]))
            contracts = round(t.qty[j] / ct, 2)
            if contracts <= 0:
                continue
            window = (int(t.time[j]) - start) // 1000
            long = bool(t.long[j])
            batches.setdefault((window, inst), []).append(
                {
                    "bkLoss": "0",
                    "bkPx": decimal_str(t.price[j]),
                    "ccy": "",
                    "posSide": "long" if long else "short",
                    "side": "sell" if long else "buy",
                    "sz": decimal_str(contracts, 10),
                    "ts": str(int(t.time[j])),
                }
            )
        arg = {"channel": "liquidation-orders", "instType": "SWAP"}
        for (_, inst), details in sorted(batches.items()):
            family = inst.removesuffix("-SWAP")
            self._reply(
                {
                    "arg": arg,
                    "data": [
                        {
                            "details": details,
                            "instFamily": family,
                            "instId": inst,
                            "instType": "SWAP",
                            "uly": family,
                        }
                    ],
                }
            )


class _InProcessConnection:
    """The client end of an in-process session (what the stream runner talks to in demo/replay)."""

    def __init__(self, session: EmulatedSession) -> None:
        self.session = session

    async def send(self, message: str) -> None:
        await self.session.feed(message)

    async def recv(self) -> str:
        return await self.session.next_frame()


@dataclass
class WsHub:
    """Every emulated websocket of one emulator: opens sessions by URL path and injects faults."""

    emulator: Emulator
    sessions: set[EmulatedSession] = field(default_factory=set)
    faults: dict[str, str] = field(default_factory=dict)  # venue or "" (all) -> "silent" | "refuse"

    def fault_for(self, venue: str) -> str | None:
        return self.faults.get(venue, self.faults.get(""))

    def set_fault(self, kind: str | None, venue: str | None = None) -> None:
        """``"silent"`` or ``"refuse"`` for ``venue`` (all venues when None); ``None`` clears it."""
        key = venue or ""
        if kind is None:
            self.faults.pop(key, None)
        elif kind in ("silent", "refuse"):
            self.faults[key] = kind
        else:
            raise ValueError(f"unknown websocket fault {kind!r}")
        for session in self.sessions:
            session._wake.set()

    def drop(self, venue: str | None = None) -> int:
        """Cut every open connection (of ``venue``) now, as a network drop would; returns how many."""
        victims = [s for s in self.sessions if venue is None or s.venue == venue]
        for session in victims:
            session.close("connection dropped (emulated fault)")
        return len(victims)

    def open_session(self, path: str, query: str = "") -> EmulatedSession:
        routed = route_path(path, query)
        if routed is None:
            raise WsClosed(f"emulator: no websocket at {path}")
        venue, mode = routed
        if self.fault_for(venue) == "refuse":
            raise ConnectionRefusedError(111, "emulated: connection refused")
        liquidations = self.emulator.dataset.liquidations
        if liquidations is None or not (liquidations["exchange"] == venue).any():
            # A replay without liquidation files has no tape to stream: say so instead of a "live", empty feed.
            raise SourceUnavailable(venue, path, "no liquidation data in this replay dataset")
        session = EmulatedSession(self, venue, mode)
        self.sessions.add(session)
        return session

    def release(self, session: EmulatedSession) -> None:
        session.close("closed by client")
        self.sessions.discard(session)

    def opener(self) -> WsOpener:
        """An opener for :class:`sources.ws.LiquidationStream` that never touches the network."""

        @asynccontextmanager
        async def open_ws(url: str) -> AsyncIterator[WsConnection]:
            parts = urlsplit(url)
            session = self.open_session(parts.path, parts.query)
            try:
                yield _InProcessConnection(session)
            finally:
                self.release(session)

        return open_ws


def get_hub(emulator: Emulator) -> WsHub:
    """The emulator's one hub (shared by the in-process opener and the 127.0.0.1 server)."""
    hub = emulator.cache.get("ws_hub")
    if hub is None:
        hub = WsHub(emulator)
        emulator.cache["ws_hub"] = hub
    return hub


def ws_urls(host: str, port: int) -> dict[str, str]:
    """The three stream URLs on a local server: venue -> ``ws://host:port/<path>``."""
    return {venue: f"ws://{host}:{port}{path}" for venue, path in VENUE_PATH.items()}


async def _pump(
    session: EmulatedSession,
    send: Callable[[str], Awaitable[None]],
    receive: Callable[[], Awaitable[str | None]],
) -> None:
    """Shuttle frames both ways until either side closes."""

    async def downstream() -> None:
        while True:
            await send(await session.next_frame())

    async def upstream() -> None:
        while (text := await receive()) is not None:
            await session.feed(text)

    tasks = [asyncio.ensure_future(downstream()), asyncio.ensure_future(upstream())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def serve_ws(hub: WsHub, host: str = "127.0.0.1", port: int = 0) -> Any:
    """Serve the emulated streams with a ``websockets`` server; returns the Server (``server.close()`` to
    stop).

    The bound port is ``server.sockets[0].getsockname()[1]``; :func:`ws_urls` builds the stream URLs. A
    :meth:`WsHub.drop` aborts the TCP connection (the client sees an abnormal close, as on a real network
    drop).
    """
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    async def handler(connection: Any) -> None:
        parts = urlsplit(connection.request.path)
        try:
            session = hub.open_session(parts.path, parts.query)
        except (WsClosed, ConnectionRefusedError, SourceUnavailable) as exc:
            await connection.close(
                code=1011 if isinstance(exc, ConnectionRefusedError) else 4404, reason=str(exc)[:100]
            )
            return

        async def receive() -> str | None:
            try:
                message = await connection.recv()
            except ConnectionClosed:
                return None
            return message if isinstance(message, str) else message.decode("utf-8", "replace")

        try:
            await _pump(session, connection.send, receive)
        finally:
            dropped = session.closed and session.close_reason.startswith("connection dropped")
            hub.release(session)
            if dropped and getattr(connection, "transport", None) is not None:
                connection.transport.abort()
            else:
                with contextlib.suppress(Exception):
                    await connection.close()

    return await serve(handler, host, port, ping_interval=None, compression=None)


def asgi_app(hub: WsHub) -> Callable[[dict[str, Any], Any, Any], Awaitable[None]]:
    """An ASGI app answering the three websocket paths (mount it next to the HTTP emulator)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            raise RuntimeError("the websocket emulator only speaks websocket")
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        try:
            session = hub.open_session(scope["path"], scope.get("query_string", b"").decode("latin-1"))
        except (WsClosed, ConnectionRefusedError, SourceUnavailable):
            await send({"type": "websocket.close", "code": 4404})
            return
        await send({"type": "websocket.accept"})

        async def send_text(text: str) -> None:
            await send({"type": "websocket.send", "text": text})

        async def receive_text() -> str | None:
            while True:
                event = await receive()
                if event["type"] == "websocket.disconnect":
                    return None
                if event["type"] == "websocket.receive":
                    return event.get("text") or (event.get("bytes") or b"").decode("utf-8", "replace")

        try:
            await _pump(session, send_text, receive_text)
        finally:
            hub.release(session)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": 1011 if session.closed else 1000})

    return app


def liquidation_frame_for(emulator: Emulator, venue: str) -> pd.DataFrame:
    """The dataset rows one venue's stream replays (for tests and the snapshot command)."""
    frame = emulator.dataset.liquidations
    if frame is None:
        return pd.DataFrame(columns=["time", "exchange", "coin", "side", "qty", "price"])
    return frame[frame["exchange"] == venue]
