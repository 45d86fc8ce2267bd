"""What a person at the other end of an SSH link pays: ``altpulse --demo`` next to the framework floor.

Runs ``../shared/tools/ttyprobe.py`` (relative to the repository) on ``altpulse --demo`` and on
``benchmarks/bare_app.py`` (a bare Textual app with a header and a footer) in a 160x45 pseudo-terminal and prints
first paint, steady-state bytes/s, CPU (whole run, and the steady state) and peak RSS side by side, with the
design targets (design.md section 6). The steady CPU and the RSS before the quit key come from a second run of the
same length under :mod:`benchmarks.process_meter`, which samples the program's CPU time from inside it: the slope
from ``--warmup`` seconds after start to the end.

Usage: ``python benchmarks/terminal.py [--seconds 25] [--warmup 8]``. Both programs run with this interpreter
(``sys.executable -m tui.cli --demo``), so it works from a venv without ``altpulse`` on PATH.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PROBE = REPO.parent / "shared" / "tools" / "ttyprobe.py"
FIGURES = (
    ("first_paint_s", "first paint (s)", "<= 0.5"),
    ("bytes_per_s", "steady-state bytes/s", "<= 2048"),
    ("cpu_pct", "CPU % of one core (whole run)", ""),
    ("steady_cpu_pct", "CPU % of one core (steady state)", "<= 3"),
    ("peak_rss_mb", "peak RSS (MB)", "<= 200"),
    ("steady_rss_mb", "RSS before the quit key (MB)", ""),
)
METER = REPO / "benchmarks" / "process_meter.py"


def metered(command: list[str], seconds: float, warmup: float) -> dict[str, float | None]:
    """Steady CPU % and last RSS of ``command`` (``sys.executable`` + args) run under the process meter."""
    import tempfile

    from benchmarks.process_meter import last_rss_mb, read, steady_cpu_pct

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "meter.txt"
        probe([sys.executable, str(METER), str(out), "--", *command[1:]], seconds, warmup)
        samples = read(out)
    return {"steady_cpu_pct": steady_cpu_pct(samples, warmup), "steady_rss_mb": last_rss_mb(samples)}


def probe(command: list[str], seconds: float, warmup: float) -> dict[str, float | str | None]:
    args = [sys.executable, str(PROBE), "--cols", "160", "--rows", "45", "--seconds", str(seconds), "--warmup",
            str(warmup), "--ready", "Bitcoin", "--json", "--", *command]  # fmt: skip
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=seconds + 120, check=False)
    out = done.stdout.strip()
    try:
        return json.loads(out)
    except json.JSONDecodeError:  # older probes print "name: value" lines
        figures: dict[str, float | str | None] = {}
        for line in out.splitlines():
            name, _, value = line.partition(":")
            try:
                figures[name.strip()] = float(value)
            except ValueError:
                figures[name.strip()] = value.strip()
        if not figures:
            sys.exit(f"ttyprobe produced no figures for {' '.join(command)}:\n{done.stderr.strip()}")
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    args = parser.parse_args()
    if not PROBE.is_file():
        sys.exit(f"ttyprobe not found at {PROBE} (it lives in ../shared/tools next to the repository)")
    bare = [sys.executable, str(REPO / "benchmarks" / "bare_app.py")]
    demo = [sys.executable, "-m", "tui.cli", "--demo"]
    runs = {
        "altpulse --demo": probe(demo, args.seconds, args.warmup),
        "bare Textual app": probe(bare, args.seconds, args.warmup),
    }
    # The whole-run CPU includes start-up (imports, building the simulated market); the steady state is read
    # inside a second run, from the warm-up on.
    for name, command in (("altpulse --demo", demo), ("bare Textual app", bare)):
        runs[name].update({k: v for k, v in metered(command, args.seconds, args.warmup).items() if v is not None})
    names = list(runs)
    print(f"160x45, {args.seconds:g} s per run; bytes/s from first paint + {args.warmup:g} s, steady CPU from "
          f"{args.warmup:g} s after start")  # fmt: skip
    print(f"{'figure':34s}" + "".join(f"{n:>20s}" for n in names) + f"{'target':>10s}")
    for key, label, target in FIGURES:
        cells = "".join(f"{_fmt(runs[n].get(key)):>20s}" for n in names)
        print(f"{label:34s}{cells}{target:>10s}")
    for name in names:
        exit_text = runs[name].get("exit", "?")
        print(f"{name}: exit {exit_text}")


def _fmt(value: float | str | None) -> str:
    if isinstance(value, float | int):
        return f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    return "-" if value is None else str(value)


if __name__ == "__main__":
    main()
