"""``python -m emulator``: serve the demo (or a replay dataset) on 127.0.0.1 for end-to-end runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--replay", type=Path, metavar="DIR", help="serve real history from DIR instead of the demo"
    )
    parser.add_argument("--at", metavar="ISO-TIME", help="virtual start time (replay) ")
    parser.add_argument("--speed", type=float, default=1.0, help="virtual clock speed")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="SPEC",
        help="PREFIX=KIND[:ARG[:ARG]] (e.g. /fapi/=status:429:5) or ws:VENUE=drop|silent|refuse; repeatable",
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("emulator: refusing to listen beyond loopback", file=sys.stderr)
        return 2

    try:
        import uvicorn
    except ImportError:
        print("emulator: serving needs uvicorn: pip install 'altpulse[emulator]'", file=sys.stderr)
        return 2

    from emulator.clock import VirtualClock
    from emulator.core import Emulator
    from emulator.server import EmulatorASGI, apply_fault_spec

    if args.replay is not None:
        from analytics.calendar import parse_utc_ms
        from emulator.replay import load_replay_dataset

        dataset = load_replay_dataset(args.replay)
        start = parse_utc_ms(args.at) if args.at else (dataset.end_ms or 0)
        emulator = Emulator(dataset, VirtualClock(start_ms=start, speed=args.speed))
    else:
        from emulator.demo import demo_emulator

        emulator = demo_emulator(speed=args.speed)
    for spec in args.fault:
        try:
            apply_fault_spec(emulator, spec)
        except ValueError as exc:
            print(f"emulator: --fault: {exc}", file=sys.stderr)
            return 2
    from emulator.ws_streams import asgi_app, get_hub

    app = EmulatorASGI(emulator, asgi_app(get_hub(emulator)))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
