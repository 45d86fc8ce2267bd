"""Fault injection: damage an emulator response the way real providers and networks do.

A :class:`~emulator.core.Fault` is set per path prefix (``emulator.faults["/fapi/"] = Fault("timeout")``,
or ``--fault`` / ``/_emulator/fault?spec=...`` on the served emulator). The kinds:

=================  ====================================================================================
``status``         the provider answers ``status`` (429 and 418 with ``Retry-After`` when given, 451, 403, 5xx)
``timeout``        no answer: the in-process transport raises a read timeout, the server holds the request
``slow``           the answer arrives ``delay_s`` late (the server drips the body); beyond the client's read
                   timeout it becomes a timeout
``reset``          the connection is cut (the server aborts it mid-body)
``truncated``      the body stops half-way
``malformed``      a body of the wrong shape: an HTML error page instead of JSON, a page without the flows table
                   instead of Farside's page, HTML instead of CSV
``empty``          ``[]`` / ``{}`` (keeping the provider's envelope keys empty), a CSV with its header only, a page
                   with an empty table
``garbage_numbers`` every number (or only ``field``'s) replaced by a garbage string (``"1,2O3.x"``, ``"n/a"``)
``nan_inf``        every number (or only ``field``'s) replaced by NaN / Infinity / 1e999
``missing_field``  the key ``field`` removed everywhere (a CSV column of that header)
``renamed_field``  the key ``field`` renamed to ``rename_to`` (default ``field + "_v2"``)
``frozen``         the first answer to each URL served again every time, its time stamps refreshed (a stuck
                   upstream behind a live front: 200s stamped "now" whose figures never move, which only the
                   console's frozen-data check can catch)
=================  ====================================================================================

Status, timeout, slow and reset happen before the handler runs (in :mod:`~emulator.transport` and
:mod:`~emulator.server`); the body kinds are applied here by :func:`mangle`; ``frozen`` by the emulator,
which keeps the first answer. Websocket faults (drop,
silent, refuse) live on :class:`emulator.ws_streams.WsHub`.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from emulator.wire import EmuResponse, Fault

#: Kinds applied before the handler (transport/server level) and after it (body level).
PRE_KINDS = ("status", "timeout", "slow", "reset")
BODY_KINDS = (
    "truncated", "malformed", "empty", "garbage_numbers", "nan_inf", "missing_field", "renamed_field",
)  # fmt: skip
#: Kinds that need the emulator's memory (applied in :meth:`emulator.core.Emulator.handle`).
STATE_KINDS = ("frozen",)
KINDS = PRE_KINDS + BODY_KINDS + STATE_KINDS

_GARBAGE = ("n/a", "1,2O3.x", "--", "", "0x1F", "12.3.4", "∞", "null")
_NON_FINITE: tuple[Any, ...] = (float("nan"), float("inf"), float("-inf"))
_NUMERIC = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def body_format(response: EmuResponse) -> str:
    """``json``, ``html``, ``csv`` or ``text`` from the response's Content-Type (and a sniff of the body)."""
    content_type = response.headers.get("Content-Type", "").lower()
    if "json" in content_type:
        return "json"
    if "html" in content_type:
        return "html"
    if "csv" in content_type:
        return "csv"
    head = response.body.lstrip()[:1]
    return "json" if head in (b"[", b"{") else "text"


def mangle(response: EmuResponse, fault: Fault) -> EmuResponse:
    """Apply a body-level fault (status, timeout, slow and reset faults are applied before the handler runs)."""
    if fault.kind not in BODY_KINDS or response.status >= 400:
        return response
    kind = body_format(response)
    body = response.body
    if fault.kind == "truncated":
        body = body[: max(1, len(body) // 2)]
    elif fault.kind == "malformed":
        body = _malformed(kind)
    elif fault.kind == "empty":
        body = _empty(kind, body)
    elif fault.kind in ("garbage_numbers", "nan_inf"):
        body = _numbers(kind, body, fault.kind, fault.field)
    elif fault.kind in ("missing_field", "renamed_field") and fault.field:
        new = None if fault.kind == "missing_field" else (fault.rename_to or f"{fault.field}_v2")
        body = _rename(kind, body, fault.field, new)
    return EmuResponse(response.status, body, dict(response.headers))


#: JSON keys that carry "when this answer was made" (refreshed by the ``frozen`` fault so only the values freeze).
TIME_KEYS = frozenset({"closeTime", "time", "ts", "E", "serverTime", "updated_at", "T"})


def restamp(response: EmuResponse, now_ms: int) -> EmuResponse:
    """``response`` with every time-stamp key set to ``now_ms`` (seconds where the stored value was seconds)."""
    if body_format(response) != "json":
        return response
    try:
        payload = json.loads(response.body)
    except ValueError:
        return response

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k in TIME_KEYS and isinstance(v, int | str) and str(v).isdigit():
                    stamp = now_ms if int(v) > 10**11 else now_ms // 1000
                    out[k] = stamp if isinstance(v, int) else str(stamp)
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return EmuResponse(response.status, json.dumps(walk(payload)).encode(), dict(response.headers))


def _malformed(kind: str) -> bytes:
    if kind == "html":
        # A page that is HTML but not the one we parse: a bot wall / maintenance page with a broken table.
        return (b"<html><head><title>Just a moment...</title></head><body><table><tr><th>Date<th>IBIT"
                b"<tr><td>garbage<td>\x00\xff<td></table><div>Checking your browser</div>")  # fmt: skip
    if kind == "csv":
        return b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
    return b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def _empty(kind: str, body: bytes) -> bytes:
    if kind == "csv":
        first = body.split(b"\n", 1)[0]
        return first + b"\n"
    if kind == "html":
        return b"<html><body><table><thead><tr><th>Date</th></tr></thead><tbody></tbody></table></body></html>"
    try:
        payload = json.loads(body)
    except ValueError:
        return b"[]" if body.lstrip().startswith(b"[") else b"{}"
    return json.dumps(_emptied(payload)).encode()


def _emptied(node: Any, depth: int = 0) -> Any:
    """Empty every list, keeping the envelope (``{"code":"0","data":[]}``, ``{"result":{"list":[]}}``); a payload
    with no list at all becomes ``{}``."""
    if depth == 0 and isinstance(node, dict) and "[" not in json.dumps(node):
        return {}
    if isinstance(node, list):
        return []
    if isinstance(node, dict):
        if depth > 3:
            return {}
        return {k: _emptied(v, depth + 1) if isinstance(v, list | dict) else v for k, v in node.items()}
    return node


def _numbers(kind: str, body: bytes, fault_kind: str, only: str | None) -> bytes:
    counter = itertools.count()
    values = _GARBAGE if fault_kind == "garbage_numbers" else _NON_FINITE

    def replacement() -> Any:
        return values[next(counter) % len(values)]

    if kind == "json":
        try:
            payload = json.loads(body)
        except ValueError:
            return body

        def walk(node: Any, key: str | None) -> Any:
            if isinstance(node, dict):
                return {k: walk(v, k) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v, key) for v in node]
            hit = only is None or key == only
            if hit and not isinstance(node, bool) and (
                isinstance(node, int | float) or (isinstance(node, str) and _NUMERIC.match(node))
            ):
                value = replacement()
                if isinstance(node, str) and not isinstance(value, str):
                    return str(value).replace("inf", "Infinity").replace("nan", "NaN")
                return value
            return node

        # allow_nan (the default) writes NaN / Infinity / -Infinity, which Python and most parsers read back.
        return json.dumps(walk(payload, None)).replace("Infinity", "1e999", 1).encode()
    text = body.decode("utf-8", "replace")
    if kind == "csv":
        lines = text.splitlines()
        if not lines:
            return body
        header = lines[0].split(",")
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            hits = [_NUMERIC.match(c) and (only is None or (i < len(header) and header[i] == only))
                    for i, c in enumerate(cells)]  # fmt: skip
            cells = [_as_text(replacement()) if hit else c for hit, c in zip(hits, cells, strict=True)]
            out.append(",".join(cells))
        return ("\n".join(out) + "\n").encode()
    # HTML / text: numbers inside table cells (``field`` is not applied: every cell's number is replaced).
    cell = re.compile(r"(<td[^>]*>(?:<span[^>]*>)?)\s*\(?-?[\d,.]+\)?\s*((?:</span>)?</td>)")
    return cell.sub(lambda m: m.group(1) + _as_text(replacement()) + m.group(2), text).encode()


def _as_text(value: Any) -> str:
    if isinstance(value, float):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return str(value)


def _rename(kind: str, body: bytes, name: str, new: str | None) -> bytes:
    if kind == "csv":
        lines = body.decode("utf-8", "replace").splitlines()
        if not lines:
            return body
        header = lines[0].split(",")
        if name not in header:
            return body
        col = header.index(name)
        out = []
        for i, line in enumerate(lines):
            cells = line.split(",")
            if col < len(cells):
                if new is None:
                    del cells[col]
                elif i == 0:
                    cells[col] = new
            out.append(",".join(cells))
        return ("\n".join(out) + "\n").encode()
    if kind == "html":
        text = body.decode("utf-8", "replace")
        return text.replace(f">{name}<", f">{new or ''}<").encode()
    try:
        payload = json.loads(body)
    except ValueError:
        return body

    def walk(node: object) -> object:
        if isinstance(node, dict):
            out: dict[str, object] = {}
            for k, v in node.items():
                if k == name:
                    if new is not None:
                        out[new] = walk(v)
                    continue
                out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(payload)).encode()
