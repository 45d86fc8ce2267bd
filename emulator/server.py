"""Serve the emulator on 127.0.0.1 as an ASGI app (uvicorn), for end-to-end, fault and benchmark runs.

Every provider path is answered on the one server, so a config whose ``[sources]`` URLs all point at
``http://127.0.0.1:PORT`` runs the whole console through a real socket. Faults can be switched per path prefix at
start-up (``--fault /fapi/=status:503``, ``--fault ws:okx=silent``) or at run time with
``POST|GET /_emulator/fault?spec=SPEC`` and ``/_emulator/clear`` (see :func:`parse_fault`, :func:`parse_ws_fault`);
``/_emulator/requests?since=EPOCH_S`` lists the requests served (wall time, local address, path) for budget checks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from emulator.core import Emulator
from emulator.wire import EmuRequest, Fault

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


#: Websocket fault kinds (on :class:`emulator.ws_streams.WsHub`); ``drop`` cuts open connections once.
WS_KINDS = ("drop", "silent", "refuse")
WS_VENUES = ("binance", "bybit", "okx")
#: How long the served emulator holds a request under a ``timeout`` fault before answering anyway (the client's
#: timeout fires long before; the bound keeps a forgotten fault from pinning server tasks for ever).
TIMEOUT_HOLD_S = 120.0


def parse_fault(spec: str) -> tuple[str, Fault]:
    """An HTTP fault spec ``PREFIX=KIND[:ARG[:ARG]]``, e.g. ``/api/v3/=status:429:5``, ``/fapi/=timeout``.

    ``status[:STATUS[:RETRY_AFTER]]`` · ``slow[:SECONDS]`` · ``missing_field:FIELD`` ·
    ``renamed_field:FIELD[:NEW]`` · ``garbage_numbers[:FIELD]`` · ``nan_inf[:FIELD]`` · ``timeout`` · ``reset`` ·
    ``truncated`` · ``malformed`` · ``empty``. An empty PREFIX matches every path.
    """
    from emulator.faults import KINDS

    prefix, sep, rest = spec.partition("=")
    if not sep or not rest:
        raise ValueError(f"fault {spec!r}: expected PREFIX=KIND[:ARG[:ARG]]")
    if prefix and not prefix.startswith("/"):
        raise ValueError(f"fault {spec!r}: PREFIX must be a URL path starting with '/' (or empty for all paths)")
    parts = rest.split(":")
    kind = parts[0]
    if kind not in KINDS:
        raise ValueError(f"fault {spec!r}: unknown kind {kind!r} (expected one of: {', '.join(KINDS)})")
    fault = Fault(kind=kind)
    try:
        if kind == "status":
            fault.status = int(parts[1]) if len(parts) > 1 else 500
            fault.retry_after = float(parts[2]) if len(parts) > 2 else None
            if not 100 <= fault.status <= 599:
                raise ValueError
        elif kind == "slow":
            fault.delay_s = float(parts[1]) if len(parts) > 1 else 5.0
        elif kind in ("missing_field", "renamed_field"):
            if len(parts) < 2 or not parts[1]:
                raise ValueError
            fault.field = parts[1]
            fault.rename_to = parts[2] if len(parts) > 2 and parts[2] else None
        elif kind in ("garbage_numbers", "nan_inf"):
            fault.field = parts[1] if len(parts) > 1 and parts[1] else None
    except ValueError:
        raise ValueError(f"fault {spec!r}: bad argument for {kind!r}") from None
    return prefix, fault


def parse_ws_fault(spec: str) -> tuple[str | None, str]:
    """A websocket fault spec ``ws:VENUE=KIND`` (VENUE binance/bybit/okx or ``*``; KIND drop/silent/refuse)."""
    head, sep, kind = spec.partition("=")
    venue = head[3:] if head.startswith("ws:") else ""
    if not sep or not head.startswith("ws:") or kind not in WS_KINDS or venue not in (*WS_VENUES, "*", ""):
        raise ValueError(
            f"websocket fault {spec!r}: expected ws:VENUE=KIND with VENUE one of {', '.join(WS_VENUES)} or *, "
            f"KIND one of {', '.join(WS_KINDS)}"
        )
    return (None if venue in ("*", "") else venue), kind


def apply_fault_spec(emulator: Emulator, spec: str) -> str:
    """Apply an HTTP (``PREFIX=KIND...``) or websocket (``ws:VENUE=KIND``) fault spec; returns what was set."""
    if spec.startswith("ws:"):
        from emulator.ws_streams import get_hub

        venue, kind = parse_ws_fault(spec)
        hub = get_hub(emulator)
        if kind == "drop":
            return f"dropped {hub.drop(venue)} websocket connection(s)"
        hub.set_fault(kind, venue)
        return f"websocket {venue or 'all'}: {kind}"
    prefix, fault = parse_fault(spec)
    emulator.faults[prefix] = fault
    return f"{prefix or '(all paths)'}: {fault.kind}"


def clear_faults(emulator: Emulator) -> None:
    """Clear every HTTP and websocket fault."""
    emulator.faults.clear()
    hub = emulator.cache.get("ws_hub")
    if hub is not None:
        for venue in list(hub.faults):
            hub.set_fault(None, venue or None)


class EmulatorASGI:
    """ASGI adapter around an :class:`Emulator` (HTTP; websocket scopes go to ``websocket_app`` when given)."""

    def __init__(
        self, emulator: Emulator, websocket_app: Callable[..., Awaitable[None]] | None = None
    ) -> None:
        self.emulator = emulator
        self.websocket_app = websocket_app
        #: (wall time s, local host the request came in on, path, status or fault kind) for budget checks.
        self.log: deque[tuple[float, str, str, str]] = deque(maxlen=50_000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "websocket":
            if self.websocket_app is None:
                await send({"type": "websocket.close", "code": 1003})
                return
            await self.websocket_app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = EmuRequest.from_parts(
            scope["method"], scope["path"], scope["query_string"].decode("latin-1"), body
        )
        if request.path.startswith("/_emulator/"):
            status, payload = self._control(request)
            await _respond(send, status, json.dumps(payload).encode(), {"Content-Type": "application/json"})
            return
        host = _local_host(scope)
        fault = self.emulator.fault_for(request.path)
        if fault is not None and fault.kind in ("timeout", "reset", "slow"):
            self.log.append((time.time(), host, request.path, fault.kind))
        else:
            self.log.append((time.time(), host, request.path, "-"))
        if fault is not None and fault.kind == "timeout" and await self._hold(request.path, receive):
            return  # the client gave up (its timeout fired): nothing to answer
        response = self.emulator.handle(request)
        if fault is not None and fault.kind == "reset":
            # Half the body, then the connection is cut: the client sees the peer close mid-response.
            raw_headers = _raw_headers(response.headers, len(response.body) + 1)
            await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
            await send({"type": "http.response.body", "body": response.body[: len(response.body) // 2],
                        "more_body": True})  # fmt: skip
            return  # uvicorn closes the transport of a response left incomplete
        if fault is not None and fault.kind == "slow":
            await _drip(send, response.status, response.body, response.headers, fault.delay_s)
            return
        await _respond(send, response.status, response.body, response.headers)

    async def _hold(self, path: str, receive: Receive) -> bool:
        """Hold a request while its timeout fault lasts (bounded); True when the client disconnected."""
        disconnect = asyncio.ensure_future(receive())
        try:
            deadline = time.monotonic() + TIMEOUT_HOLD_S
            while time.monotonic() < deadline:
                done, _ = await asyncio.wait({disconnect}, timeout=0.2)
                if done:
                    return True
                fault = self.emulator.fault_for(path)
                if fault is None or fault.kind != "timeout":
                    return False
            return False
        finally:
            disconnect.cancel()

    def _control(self, request: EmuRequest) -> tuple[int, dict[str, Any]]:
        if request.path == "/_emulator/fault":
            try:
                done = apply_fault_spec(self.emulator, request.query.get("spec", ""))
            except ValueError as exc:
                return 400, {"error": str(exc)}
            return 200, {"ok": True, "applied": done, "faults": self._fault_list()}
        if request.path == "/_emulator/clear":
            clear_faults(self.emulator)
            return 200, {"ok": True}
        if request.path == "/_emulator/status":
            return 200, {"now_ms": self.emulator.now_ms(), "requests": len(self.emulator.requests),
                         "faults": self._fault_list()}  # fmt: skip
        if request.path == "/_emulator/requests":
            try:
                since = float(request.query.get("since", "0"))
            except ValueError:
                return 400, {"error": "since: expected epoch seconds"}
            return 200, {"requests": [list(entry) for entry in self.log if entry[0] >= since]}
        return 404, {"error": "unknown control path"}

    def _fault_list(self) -> list[str]:
        faults = [f"{prefix}={fault.kind}" for prefix, fault in sorted(self.emulator.faults.items())]
        hub = self.emulator.cache.get("ws_hub")
        if hub is not None:
            faults += [f"ws:{venue or '*'}={kind}" for venue, kind in sorted(hub.faults.items())]
        return faults


def _local_host(scope: Scope) -> str:
    """The address the request arrived on (one server may listen on several loopback addresses)."""
    server = scope.get("server")
    if server:
        return str(server[0])
    for key, value in scope.get("headers", []):
        if key == b"host":
            return value.decode("latin-1").rsplit(":", 1)[0]
    return ""


def _raw_headers(headers: dict[str, str], length: int) -> list[tuple[bytes, bytes]]:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items() if k.lower() != "content-length"]
    raw.append((b"content-length", str(length).encode()))
    return raw


async def _drip(send: Send, status: int, body: bytes, headers: dict[str, str], delay_s: float) -> None:
    """Send the headers at once, then the body in ten pieces spread over ``delay_s`` (a slow body)."""
    await send({"type": "http.response.start", "status": status, "headers": _raw_headers(headers, len(body))})
    pieces = 10
    step = max(1, -(-len(body) // pieces))
    for i in range(0, max(len(body), 1), step):
        await asyncio.sleep(delay_s / pieces)
        last = i + step >= len(body)
        await send({"type": "http.response.body", "body": body[i : i + step], "more_body": not last})


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw_headers = _raw_headers(headers, len(body))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
