"""The console in live mode, as a trader runs it, against the demo market served through real sockets.

``altpulse --demo`` carries its simulated exchanges in-process (their dataset and the work of answering), so its
memory and CPU are not what a live console costs. Here the emulator runs in another process
(:mod:`emulator.loopback`: one loopback address per provider, the real hosts' request budgets), and the
console, in live mode with every ``[sources]`` URL pointed at it, runs under ``../shared/tools/ttyprobe.py`` at
160x45. Printed: first paint, steady-state bytes/s, CPU (whole run and steady state), peak RSS of the console alone
and its RSS just before the quit key. The steady CPU and the last RSS are sampled inside the console
(:mod:`benchmarks.process_meter`): the CPU's slope from ``--warmup`` seconds after start to the end.

Usage: ``python benchmarks/live_console.py [--seconds 60] [--warmup 15]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Where the measured console writes its CPU time and resident size each second (:mod:`benchmarks.process_meter`).
METER_FILE_ENV = "ALTPULSE_BENCH_METER_FILE"
sys.path.insert(0, str(REPO))


def child(config: str) -> int:
    """Run the console (live mode) with the loopback addresses given the real providers' budgets.

    The budgets are mapped when the boot thread builds the runtime, as the console imports the HTTP stack there:
    importing it here would add its import time to the first paint. The address map comes from the server's JSON
    file, so the emulator's modules stay out of the measured process.
    """
    import tui.boot
    from tui.cli import main as cli_main

    report = os.environ.get(METER_FILE_ENV)
    if report:
        from benchmarks import process_meter

        process_meter.start(Path(report))

    build = tui.boot.build_runtime

    def build_runtime(*args: object, **kwargs: object) -> object:
        map_loopback_budgets(Path(config))
        return build(*args, **kwargs)

    tui.boot.build_runtime = build_runtime  # type: ignore[assignment]
    return cli_main(["--config", config])


def map_loopback_budgets(config: Path) -> None:
    """Give the loopback addresses the real hosts' budgets, from the map ``python -m emulator.loopback`` writes
    beside ``config`` (``emulator.loopback.hosts_file``)."""
    import json

    from sources import http

    hosts = json.loads(config.with_name("loopback_hosts.json").read_text())
    http.alias_budgets(http.DEFAULT_BUDGETS, hosts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--child", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(child(args.child))
    from benchmarks import process_meter
    from benchmarks.terminal import PROBE, probe

    if not PROBE.is_file():
        sys.exit(f"ttyprobe not found at {PROBE} (it lives in ../shared/tools next to the repository)")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        env = {**os.environ, "XDG_DATA_HOME": str(Path(tmp) / "data"), "XDG_CONFIG_HOME": str(Path(tmp) / "cfg")}
        server = subprocess.Popen([sys.executable, "-m", "emulator.loopback", "--config", str(config)],
                                  cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not config.exists():
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the emulator server did not start")
                time.sleep(0.2)
            os.environ.update(env)
            meter_file = Path(tmp) / "meter.txt"
            os.environ[METER_FILE_ENV] = str(meter_file)
            command = [sys.executable, str(Path(__file__).resolve()), "--child", str(config)]
            full = probe(command, args.seconds, args.warmup)
            samples = process_meter.read(meter_file)
            del os.environ[METER_FILE_ENV]
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    steady = process_meter.steady_cpu_pct(samples, args.warmup)
    steady_rss = process_meter.last_rss_mb(samples)
    print(f"live console against the served demo market, 160x45, {args.seconds:g} s; bytes/s from first paint + "
          f"{args.warmup:g} s, steady CPU from {args.warmup:g} s after start")  # fmt: skip
    rows = [
        ("first paint (s)", full.get("first_paint_s"), "<= 0.5"),
        ("steady-state bytes/s", full.get("bytes_per_s"), "<= 2048"),
        ("CPU % of one core (whole run)", full.get("cpu_pct"), ""),
        ("CPU % of one core (steady state)", steady, "<= 3"),
        ("peak RSS (MB)", full.get("peak_rss_mb"), "<= 150"),  # the live console's target (the demo's is 200)
        ("RSS before the quit key (MB)", steady_rss, ""),
    ]
    for label, value, target in rows:
        shown = f"{value:.2f}" if isinstance(value, float | int) else "-"
        print(f"{label:34s}{shown:>12s}{target:>10s}")
    print(f"exit: {full.get('exit', '?')}")


if __name__ == "__main__":
    main()
