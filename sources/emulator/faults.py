"""Fault injection: damage an emulator response the way real providers and networks do."""

from __future__ import annotations

import json
import re

from sources.emulator.core import EmuResponse, Fault


def mangle(response: EmuResponse, fault: Fault) -> EmuResponse:
    """Apply a body-level fault (status, timeout and reset faults are applied before the handler runs)."""
    body = response.body
    if fault.kind == "malformed":
        body = b"<html><body>502 Bad Gateway</body></html>"
    elif fault.kind == "truncated":
        body = body[: max(1, len(body) // 2)]
    elif fault.kind == "empty":
        body = b"[]" if body.lstrip().startswith(b"[") else b"{}"
    elif fault.kind == "garbage_numbers":
        body = re.sub(rb'"-?\d+(\.\d+)?(e-?\d+)?"', b'"NaN"', body)
    elif fault.kind == "missing_field" and fault.field:
        body = _drop_field(body, fault.field)
    return EmuResponse(response.status, body, dict(response.headers))


def _drop_field(body: bytes, name: str) -> bytes:
    try:
        payload = json.loads(body)
    except ValueError:
        return body

    def walk(node: object) -> object:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k != name}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(payload)).encode()
