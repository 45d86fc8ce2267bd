"""What a person at the other end of an SSH link pays: ``altpulse --demo`` next to the framework floor.

Runs ``../shared/tools/ttyprobe.py`` (relative to the repository) on ``altpulse --demo`` and on
``benchmarks/bare_app.py`` (a bare Textual app with a header and a footer) in a 160x45 pseudo-terminal and prints
first paint, steady-state bytes/s, CPU (whole run, and steady state from a second, short run) and peak RSS side by
side, with the design targets (design.md section 6).

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
PROBE = REPO.parent / "shared" / "tools" / "ttyprobe.py"
FIGURES = (
    ("first_paint_s", "first paint (s)", "<= 0.5"),
    ("bytes_per_s", "steady-state bytes/s", "<= 2048"),
    ("cpu_pct", "CPU % of one core (whole run)", ""),
    ("steady_cpu_pct", "CPU % of one core (steady state)", "<= 3"),
    ("peak_rss_mb", "peak RSS (MB)", "<= 200"),
)


def probe(command: list[str], seconds: float, warmup: float) -> dict[str, float | str]:
    args = [sys.executable, str(PROBE), "--cols", "160", "--rows", "45", "--seconds", str(seconds), "--warmup",
            str(warmup), "--ready", "Bitcoin", "--json", "--", *command]  # fmt: skip
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=seconds + 120, check=False)
    out = done.stdout.strip()
    try:
        return json.loads(out)
    except json.JSONDecodeError:  # older probes print "name: value" lines
        figures: dict[str, float | str] = {}
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
    # The whole-run CPU includes start-up (imports, building the simulated market). The steady state is the
    # difference between this run and a short one that ends after start-up, over the difference in length.
    short = min(args.warmup + 2, args.seconds / 2)
    for name, command in (("altpulse --demo", demo), ("bare Textual app", bare)):
        brief = probe(command, short, min(args.warmup, short / 2))
        long_cpu, short_cpu = runs[name].get("cpu_s"), brief.get("cpu_s")
        if isinstance(long_cpu, float | int) and isinstance(short_cpu, float | int):
            runs[name]["steady_cpu_pct"] = max(0.0, (long_cpu - short_cpu) / (args.seconds - short) * 100)
    names = list(runs)
    print(f"160x45, {args.seconds:g} s per run, steady state from first paint + {args.warmup:g} s")
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
