"""An httpx transport that answers requests from an in-process :class:`Emulator` instead of the network."""

from __future__ import annotations

import asyncio

import httpx

from emulator.core import Emulator
from emulator.wire import EmuRequest


class EmulatorTransport(httpx.AsyncBaseTransport):
    """Routes every request (whatever its host) to the emulator; timeouts and resets are simulated here."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        emu_request = EmuRequest.from_parts(
            request.method, request.url.path, request.url.query.decode("ascii", "replace"), body
        )
        fault = self.emulator.fault_for(emu_request.path)
        if fault is not None:
            if fault.kind == "timeout":
                raise httpx.ReadTimeout("emulated timeout", request=request)
            if fault.kind == "reset":
                raise httpx.RemoteProtocolError("emulated connection reset", request=request)
            if fault.kind == "slow":
                # A body slower than the client's read timeout is a timeout, as over a real socket.
                read_timeout = (request.extensions.get("timeout") or {}).get("read")
                if read_timeout is not None and fault.delay_s >= read_timeout:
                    await asyncio.sleep(read_timeout)
                    raise httpx.ReadTimeout("emulated slow body (read timeout)", request=request)
                await asyncio.sleep(fault.delay_s)
        response = self.emulator.handle(emu_request)
        return httpx.Response(response.status, headers=response.headers, content=response.body, request=request)
