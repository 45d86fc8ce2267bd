"""The emulator's router: maps a request path to a provider handler and applies injected faults.

Handlers are plain functions ``(request, emulator) -> EmuResponse`` registered per path by the provider modules
(``emulator/routes_binance_spot.py`` and friends). Paths of the real providers do not collide, so the router
needs no host: served on 127.0.0.1 every source's base URL simply points at the one server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.clock import VirtualClock
from emulator.dataset import MarketDataset
from emulator.faults import mangle, restamp
from emulator.wire import BadRequest, EmuRequest, EmuResponse, Fault

Handler = Callable[[EmuRequest, "Emulator"], EmuResponse]

#: Every handler, by (method, path). A path ending in "/" followed by "*" matches as a prefix (Yahoo's
#: ``/v8/finance/chart/{symbol}``).
ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method.upper(), path)] = handler
        return handler

    return register




class Emulator:
    """Answers provider requests from a :class:`MarketDataset` at the virtual clock's time."""

    def __init__(self, dataset: MarketDataset, clock: VirtualClock) -> None:
        _load_handlers()
        self.dataset = dataset
        self.clock = clock
        #: path prefix -> fault; "" matches every path.
        self.faults: dict[str, Fault] = {}
        self.requests: list[tuple[int, str, str]] = []  # (virtual ms, method, path) for tests; bounded below
        self.cache: dict[Any, Any] = {}  # handlers memoise derived frames here

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def fault_for(self, path: str) -> Fault | None:
        best: tuple[int, Fault] | None = None
        for prefix, fault in self.faults.items():
            if path.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), fault)
        return best[1] if best else None

    def handle(self, request: EmuRequest) -> EmuResponse:
        if len(self.requests) > 10_000:
            del self.requests[:5_000]
        self.requests.append((self.now_ms(), request.method, request.path))
        handler = ROUTES.get((request.method, request.path))
        if handler is None:
            for (method, path), candidate in ROUTES.items():
                if path.endswith("*") and method == request.method and request.path.startswith(path[:-1]):
                    handler = candidate
                    break
        if handler is None:
            return EmuResponse.json({"code": -1, "msg": f"emulator: no route for {request.path}"}, status=404)
        fault = self.fault_for(request.path)
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
            return EmuResponse.json({"code": -1, "msg": "injected fault"}, status=fault.status, headers=headers)
        try:
            response = handler(request, self)
        except BadRequest as exc:
            return EmuResponse.json({"code": -1100, "msg": str(exc)}, status=400)
        if fault is not None and fault.kind == "frozen":
            key = ("frozen", request.method, request.path, tuple(sorted(request.query.items())), request.body)
            response = restamp(self.cache.setdefault(key, response), self.now_ms())
        elif fault is not None:
            response = mangle(response, fault)
        return response




_loaded = False


def _load_handlers() -> None:
    """Import every provider handler module so their routes register (once)."""
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    import emulator as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("routes_"):
            importlib.import_module(f"emulator.{info.name}")
    _loaded = True
