"""What crosses the emulator's wire: a request, a response, and a fault to inject on matching paths.

Plain records shared by the router (:mod:`emulator.core`), the fault injector (:mod:`emulator.faults`), the
provider route modules and the transports that carry them (in process, or served on 127.0.0.1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class EmuRequest:
    method: str
    path: str
    query: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @classmethod
    def from_parts(cls, method: str, path: str, query_string: str, body: bytes = b"") -> EmuRequest:
        return cls(method.upper(), path, dict(parse_qsl(query_string, keep_blank_values=True)), body)


@dataclass
class EmuResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> EmuResponse:
        merged = {"Content-Type": "application/json"}
        merged.update(headers or {})
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), merged)

    @classmethod
    def text(cls, text: str, content_type: str = "text/plain", status: int = 200) -> EmuResponse:
        return cls(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})


@dataclass
class Fault:
    """A fault to inject on matching paths (see :mod:`emulator.faults` for every kind)."""

    #: status | timeout | slow | reset | truncated | malformed | empty | garbage_numbers | nan_inf |
    #: missing_field | renamed_field | frozen
    kind: str
    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0
    field: str | None = None  # missing/renamed field; garbage_numbers/nan_inf: only this key (None: every number)
    rename_to: str | None = None  # renamed_field: the new key (default: field + "_v2")


class BadRequest(Exception):
    """A handler rejects the request's parameters the way the provider would (HTTP 400)."""


def int_param(request: EmuRequest, name: str, legal: str = "") -> int | None:
    """An integer query parameter (None when absent or empty); anything else is the provider's HTTP 400, whose
    message ``legal`` completes (Binance spot names the legal range, its futures API does not)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Illegal characters found in parameter '{name}'{legal}.") from None
