"""``python -m sources.emulator``: serve the demo (or a replay dataset) on 127.0.0.1 for end-to-end runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sources.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--replay", type=Path, metavar="DIR", help="serve real history from DIR instead of the demo"
    )
    parser.add_argument("--at", metavar="ISO-TIME", help="virtual start time (replay) ")
    parser.add_argument("--speed", type=float, default=1.0, help="virtual clock speed")
    parser.add_argument("--fault", action="append", default=[], metavar="PREFIX=KIND[:STATUS[:RETRY_AFTER]]")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("emulator: refusing to listen beyond loopback", file=sys.stderr)
        return 2

    import uvicorn

    from sources.emulator.clock import VirtualClock
    from sources.emulator.core import Emulator
    from sources.emulator.server import EmulatorASGI, parse_fault

    if args.replay is not None:
        from sources.emulator.replay import load_replay_dataset
        from tui.modes import parse_at

        dataset = load_replay_dataset(args.replay)
        start = parse_at(args.at) if args.at else (dataset.end_ms or 0)
        emulator = Emulator(dataset, VirtualClock(start_ms=start, speed=args.speed))
    else:
        from sources.emulator.demo import demo_emulator

        emulator = demo_emulator(speed=args.speed)
    for spec in args.fault:
        prefix, fault = parse_fault(spec)
        emulator.faults[prefix] = fault
    websocket_app = None
    try:
        from sources.emulator import ws_streams

        websocket_app = getattr(ws_streams, "asgi_websocket_app", None)
        if websocket_app is not None:
            websocket_app = websocket_app(emulator)
    except ImportError:
        pass
    app = EmulatorASGI(emulator, websocket_app)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
