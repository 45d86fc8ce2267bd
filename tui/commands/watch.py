"""``altpulse watch [--demo | --replay DIR] [--for DURATION] [--json] [--record]``: alerts without a screen.

The headless collector's loop (:func:`tui.commands.collect.headless_loop`: the same boot path, feeds, streams and
driver evaluation every 5 s as the console) with the ``[[alerts]]`` rules on: each alert is sent to its routes and
printed as a line on stdout (``--json``: one ``altpulse.alert/1`` object per line, the same object a command route
reads on stdin). Diagnostics and failed deliveries go to stderr. SIGINT, SIGTERM and SIGHUP end it cleanly
(deliveries under way get a few seconds); ``--for 60s`` ends it after that long.

One process per host records and alerts: ``watch --record`` records into the store like ``collect`` does, and
``collect --alerts`` is the same thing spelt from the recorder's side. A watcher that does not record takes no
writer lock, so it runs beside a collector (it then polls the providers itself).

What is printed: every alert a rule fires, and once per rule and subject the first known state (kind ``initial``,
sent nowhere unless the rule says ``on_start = true``), so a watcher started while a driver is already active says
so without paging anyone. The demo's story (a liquidation cascade fading, funding resetting) plays over its first
market hour, so ``watch --demo`` runs the demo clock x60 unless ``--speed`` says otherwise (a minute shows the
hour); a recording runs on the real clock.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any

EXIT_USAGE = 2
EXIT_LOCKED = 2
#: ``watch --demo`` without ``--speed``: the demo's first market hour in a minute.
DEMO_SPEED = 60.0
_DURATION_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d)?\s*$")


def parse_duration(text: str) -> float:
    """``"60s"``, ``"5m"``, ``"2h"``, ``"1d"`` or plain seconds (``"90"``) -> seconds; ValueError otherwise."""
    match = _DURATION_RE.match(str(text))
    if match is None:
        raise ValueError(f"expected a duration like 60s, 5m or 2h, got {text!r}")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2) or "s"]


def add_arguments(parser: Any) -> None:
    parser.add_argument("--for", dest="duration", metavar="DURATION", default=None,
                        help="stop after this long (60s, 5m, 2h; default: until a signal)")  # fmt: skip
    parser.add_argument("--json", action="store_true", default=False, help="print each alert as a JSON line")
    parser.add_argument("--record", action="store_true", default=False,
                        help="also record into the store (the same as `altpulse collect --alerts`)")  # fmt: skip


def run_watch(config: Any, args: Any, *, record: bool | None = None) -> int:
    from tui.boot import Launch, boot
    from tui.runtime.modes import UsageError

    record = bool(getattr(args, "record", False)) if record is None else record
    replay = getattr(args, "replay", None)
    mode = "replay" if replay is not None else "demo" if getattr(args, "demo", False) else "live"
    speed = getattr(args, "speed", None)
    try:
        seconds = parse_duration(args.duration) if getattr(args, "duration", None) else float(
            getattr(args, "seconds", 0.0) or 0.0)  # fmt: skip
    except ValueError as exc:
        print(f"altpulse watch: --for: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if record and mode == "replay":
        print("altpulse watch: --record: a replay is history, not recorded (watch --replay without --record)",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if speed is None:
        speed = DEMO_SPEED if mode == "demo" and not record else 1.0
    if record and speed != 1.0:
        print("altpulse watch: --record records on the real clock: --speed applies to a watch that does not record",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    launch = Launch(mode, replay, getattr(args, "at", None), speed, record=record, store=getattr(args, "store", None),
                    role="collector" if record else "watcher", alerts=True)  # fmt: skip
    try:
        session = boot(config, launch)
    except UsageError as exc:
        print(f"altpulse watch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if record and session.recorder is None:
        print(f"altpulse watch: {'; '.join(session.runtime.notes) or 'recording is not possible here'}",
              file=sys.stderr)  # fmt: skip
        asyncio.run(session.aclose())
        return EXIT_LOCKED
    alerting = session.alerting
    assert alerting is not None
    as_json = bool(getattr(args, "json", False))
    counts = {"alerts": 0, "failed": 0}

    def local(alert: Any, route: Any) -> tuple[str, str]:
        return ("sent", "printed") if route.type == "toast" else ("skipped", "no screen")

    def printed(alert: Any) -> None:
        counts["alerts"] += alert.kind != "initial"
        if as_json:
            line = json.dumps(alert.to_json(), ensure_ascii=False)
        else:
            stamp = alert.to_json()["time"].replace("T", " ")
            routes = f"  -> {', '.join(alert.routes)}" if alert.routes else ""
            line = f"{stamp}  {alert.kind:<9} {alert.rule}/{alert.subject}  {alert.text}{routes}"
        print(line, flush=True)

    def delivered(entry: dict[str, Any], route: str, status: str, detail: str) -> None:
        if status == "failed":
            counts["failed"] += 1
            print(f"altpulse watch: alert {entry['id']}/{entry['subject']}: route {route} failed: {detail}",
                  file=sys.stderr, flush=True)  # fmt: skip

    alerting.router.local = local
    alerting.listeners.append(printed)
    alerting.router.listeners.append(delivered)
    what = "SIMULATED " if session.runtime.simulated else ""
    rules = [r.id for r in alerting.engine.rules if r.enabled]
    where = f"; recording into {session.recorder.store.path}" if session.recorder is not None else ""
    clock = f" (market clock x{speed:g})" if speed != 1.0 else ""
    print(f"altpulse watch: watching {what}{mode} data{clock} with {len(rules)} alert rules ({', '.join(rules)})"
          f"{where}; Ctrl-C stops", file=sys.stderr)  # fmt: skip
    for note in session.runtime.notes:
        print(f"altpulse watch: {note}", file=sys.stderr)
    from tui.commands.collect import headless_loop

    failed = None
    try:
        asyncio.run(headless_loop(session, seconds))
    finally:
        failed = session.recorder.failed if session.recorder is not None else None
        stats = session.recorder.writer.stats if session.recorder is not None else None
        session.close_recorder()
        if stats is not None:
            print(f"altpulse watch: recorded {stats.rows:,} rows in {stats.batches:,} batches", file=sys.stderr)
        print(f"altpulse watch: {counts['alerts']} alerts, {counts['failed']} failed deliveries"
              + (f"; {failed}" if failed else ""), file=sys.stderr)  # fmt: skip
    return 1 if failed else 0
