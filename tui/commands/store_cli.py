"""``altpulse store info [--json]`` and ``altpulse store export KIND --since T --format csv|parquet``.

Reads the recorder store (as a reader: works while a collector writes) and says what it holds: tables, row
counts, time spans, the sessions that recorded and the gaps between them, size on disk, and who writes it now.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

INFO_SCHEMA = "altpulse.store/1"


def add_arguments(parser: Any) -> None:
    sub = parser.add_subparsers(dest="store_command", required=True)
    info = sub.add_parser("info", help="tables, rows, time span, gaps and size of the store")
    info.add_argument("--json", action="store_true", help=f"print the {INFO_SCHEMA} JSON document")
    export = sub.add_parser("export", help="write one recorded kind as CSV (or Parquet) to stdout or a file")
    from store.schema import TABLES

    export.add_argument("kind", choices=[t for t in TABLES if t != "feed_state"])
    export.add_argument("--since", metavar="ISO-TIME", help="only rows at or after this UTC time")
    export.add_argument("--until", metavar="ISO-TIME", help="only rows at or before this UTC time")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here (default: stdout; csv only)")
    for command in (info, export):  # accepted after the action too: `altpulse store info --store PATH`
        command.add_argument("--store", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                             help="the recorder store (default: the user data dir's)")  # fmt: skip
        command.add_argument("--demo", action="store_true", default=argparse.SUPPRESS, help="the demo store")


def _open(config: Any, args: Any) -> Any:
    from store.sqlite import SqliteStore
    from tui.runtime.recording import store_path

    path = getattr(args, "store", None) or store_path(config, "demo" if getattr(args, "demo", False) else "live")
    return SqliteStore(Path(path), "live")


def run_store(config: Any, args: Any) -> int:
    from store.base import StoreError

    try:
        store = _open(config, args)
    except StoreError as exc:
        print(f"altpulse store: {exc}", file=sys.stderr)
        return 2
    try:
        if args.store_command == "info":
            info = store.info()
            print(json.dumps(info_document(info), indent=2) if args.json else info_text(info))
            return 0
        return _export(store, args)
    except StoreError as exc:
        print(f"altpulse store: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _iso(ms: int | None) -> str | None:
    import datetime as dt

    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def info_document(info: Any) -> dict[str, Any]:
    """The ``altpulse.store/1`` document: every time is ISO-8601 UTC, sizes in bytes."""
    return {
        "schema": INFO_SCHEMA,
        "path": info.path,
        "schema_version": info.schema_version,
        "mode": info.mode,
        "simulated": info.mode == "demo",
        "size_bytes": info.size_bytes,
        "writer_pid": info.writer_pid,
        "tables": {t.name: {"rows": t.rows, "first": _iso(t.first_ms), "last": _iso(t.last_ms)} for t in info.tables
                   if t.name != "feed_state"},
        "feeds_recorded": next((t.rows for t in info.tables if t.name == "feed_state"), 0),
        "sessions": [{"id": s.id, "role": s.role, "pid": s.pid, "started": _iso(s.started_ms),
                      "last_write": _iso(s.heartbeat_ms), "ended": _iso(s.ended_ms)}
                     for s in info.sessions],
        "gaps": [{"from": _iso(a), "to": _iso(b), "seconds": (b - a) / 1000} for a, b in info.gaps],
    }  # fmt: skip


def info_text(info: Any) -> str:
    doc = info_document(info)
    lines = [f"{info.path}  ({doc['mode']}{', SIMULATED' if doc['simulated'] else ''}; schema v{info.schema_version};"
             f" {info.size_bytes / 1_048_576:.1f} MB)",
             f"writer: pid {info.writer_pid}" if info.writer_pid else "writer: none (nobody records into it now)"]
    lines.append(f"{'table':<16} {'rows':>10}  first                 last")
    for name, t in doc["tables"].items():
        lines.append(f"{name:<16} {t['rows']:>10,}  {t['first'] or '-':<21} {t['last'] or '-'}")
    lines.append(f"sessions: {len(info.sessions)}; gaps: {len(info.gaps)}")
    for gap in doc["gaps"][-10:]:
        lines.append(f"  gap {gap['from']} to {gap['to']} ({gap['seconds'] / 3600:.1f} h)")
    return "\n".join(lines)  # fmt: skip


def _export(store: Any, args: Any) -> int:
    from analytics.calendar import parse_utc_ms
    from store.schema import TABLES

    try:
        since = parse_utc_ms(args.since) if args.since else None
        until = parse_utc_ms(args.until) if args.until else None
    except (ValueError, TypeError):
        print("altpulse store export: --since/--until: expected an ISO-8601 time like 2026-11-01T00:00:00Z",
              file=sys.stderr)  # fmt: skip
        return 2
    low: Any = since
    high: Any = until
    if TABLES[args.kind].time == "date":  # ETF days: compare as ISO dates
        low = None if since is None else str(_iso(since))[:10]
        high = None if until is None else str(_iso(until))[:10]
    frame = store.read(args.kind, low, high)
    if args.format == "parquet":
        if args.output is None:
            print("altpulse store export: --format parquet needs --output FILE", file=sys.stderr)
            return 2
        try:
            frame.to_parquet(args.output, index=False)
        except ImportError:
            print("altpulse store export: Parquet needs pyarrow (pip install pyarrow); CSV works without it",
                  file=sys.stderr)  # fmt: skip
            return 2
        return 0
    if args.output is None:
        frame.to_csv(sys.stdout, index=False)
    else:
        frame.to_csv(args.output, index=False)
    return 0
