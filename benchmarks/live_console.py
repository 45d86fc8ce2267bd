"""The console in live mode, as a trader runs it, against the demo market served through real sockets.

``altpulse --demo`` carries its simulated exchanges in-process (their dataset and the work of answering), so its
memory and CPU are not what a live console costs. Here the emulator runs in another process
(:mod:`emulator.loopback`: one loopback address per provider, the real hosts' request budgets), and the
console, in live mode with every ``[sources]`` URL pointed at it, runs under ``../shared/tools/ttyprobe.py`` at
160x45. Printed: first paint, steady-state bytes/s, CPU (whole run and steady state), peak RSS of the console alone
and its RSS just before the quit key.

Usage: ``python benchmarks/live_console.py [--seconds 60] [--warmup 15]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Where the measured console writes its resident size each second (read after the run: the steady-state RSS).
RSS_FILE_ENV = "ALTPULSE_BENCH_RSS_FILE"
sys.path.insert(0, str(REPO))


def child(config: str) -> int:
    """Run the console (live mode) with the loopback addresses given the real providers' budgets.

    The budgets are mapped when the boot thread builds the runtime, as the console imports the HTTP stack there:
    importing it here would add its import time to the first paint. The address map comes from the server's JSON
    file, so the emulator's modules stay out of the measured process.
    """
    import tui.boot
    from tui.cli import main as cli_main

    report = os.environ.get(RSS_FILE_ENV)
    if report:
        threading.Thread(target=report_rss, args=(Path(report),), daemon=True).start()

    build = tui.boot.build_runtime

    def build_runtime(*args: object, **kwargs: object) -> object:
        map_loopback_budgets(Path(config))
        return build(*args, **kwargs)

    tui.boot.build_runtime = build_runtime  # type: ignore[assignment]
    return cli_main(["--config", config])


def report_rss(path: Path) -> None:
    """Write this process's resident size (MiB) to ``path`` every second: the last value is the steady-state RSS
    just before the quit key (ttyprobe reports only the peak, which the start-up's temporaries set)."""
    while True:
        with open("/proc/self/status") as status:
            rss_kb = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), None)
        if rss_kb is not None:
            path.write_text(f"{rss_kb / 1024:.1f}")
        time.sleep(1.0)


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
            rss_file = Path(tmp) / "rss.txt"
            os.environ[RSS_FILE_ENV] = str(rss_file)
            command = [sys.executable, str(Path(__file__).resolve()), "--child", str(config)]
            full = probe(command, args.seconds, args.warmup)
            steady_rss = float(rss_file.read_text()) if rss_file.is_file() else None
            del os.environ[RSS_FILE_ENV]
            short_s = args.warmup + 2
            brief = probe(command, short_s, min(args.warmup, short_s / 2))
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    steady = None
    if isinstance(full.get("cpu_s"), float | int) and isinstance(brief.get("cpu_s"), float | int):
        steady = max(0.0, (full["cpu_s"] - brief["cpu_s"]) / (args.seconds - short_s) * 100)  # type: ignore[operator]
    print(f"live console against the served demo market, 160x45, {args.seconds:g} s, steady state from "
          f"first paint + {args.warmup:g} s")  # fmt: skip
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
