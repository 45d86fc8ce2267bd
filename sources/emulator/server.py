"""Serve the emulator on 127.0.0.1 as an ASGI app (uvicorn), for end-to-end, fault and benchmark runs.

Every provider path is answered on the one server, so a config whose ``[sources]`` URLs all point at
``http://127.0.0.1:PORT`` runs the whole console through a real socket. Faults can be switched per path prefix at
start-up (``--fault /fapi/=status:503``) or at run time with ``POST /_emulator/fault`` and ``/_emulator/clear``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sources.emulator.core import Emulator, EmuRequest, Fault

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def parse_fault(spec: str) -> tuple[str, Fault]:
    """``PREFIX=KIND[:STATUS[:RETRY_AFTER]]`` e.g. ``/api/v3/=status:429:5``, ``/fapi/=timeout``."""
    prefix, _, rest = spec.partition("=")
    if not rest:
        raise ValueError(f"fault {spec!r}: expected PREFIX=KIND[:STATUS[:RETRY_AFTER]]")
    parts = rest.split(":")
    kind = parts[0]
    fault = Fault(kind=kind)
    if kind == "status":
        fault.status = int(parts[1]) if len(parts) > 1 else 500
        fault.retry_after = float(parts[2]) if len(parts) > 2 else None
    elif kind == "slow":
        fault.delay_s = float(parts[1]) if len(parts) > 1 else 5.0
    elif kind == "missing_field":
        fault.field = parts[1] if len(parts) > 1 else None
    return prefix, fault


class EmulatorASGI:
    """ASGI adapter around an :class:`Emulator` (HTTP; websocket scopes go to ``websocket_app`` when given)."""

    def __init__(
        self, emulator: Emulator, websocket_app: Callable[..., Awaitable[None]] | None = None
    ) -> None:
        self.emulator = emulator
        self.websocket_app = websocket_app

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
        fault = self.emulator.fault_for(request.path)
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(3600)  # the client's timeout fires first
            return
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay_s)
        if fault is not None and fault.kind == "reset":
            raise ConnectionResetError("emulated connection reset")  # uvicorn drops the connection
        response = self.emulator.handle(request)
        await _respond(send, response.status, response.body, response.headers)

    def _control(self, request: EmuRequest) -> tuple[int, dict[str, Any]]:
        if request.path == "/_emulator/fault":
            try:
                prefix, fault = parse_fault(request.query.get("spec", ""))
            except ValueError as exc:
                return 400, {"error": str(exc)}
            self.emulator.faults[prefix] = fault
            return 200, {"ok": True, "faults": sorted(self.emulator.faults)}
        if request.path == "/_emulator/clear":
            self.emulator.faults.clear()
            return 200, {"ok": True}
        if request.path == "/_emulator/status":
            return 200, {"now_ms": self.emulator.now_ms(), "requests": len(self.emulator.requests),
                         "faults": sorted(self.emulator.faults)}  # fmt: skip
        return 404, {"error": "unknown control path"}


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
