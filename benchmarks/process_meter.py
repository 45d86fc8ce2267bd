"""A measured program's own CPU time and resident size, sampled from inside it once a second.

ttyprobe reports a run's whole CPU time and its peak RSS. The steady state after start-up is what a trader pays by
the hour, and taking it as the difference of a long and a short run is noisy: the two start-ups differ by more than
the steady minutes cost (runs of one build gave 0.0 to 3.9 %). Sampled in the process, the steady state is the
slope of its CPU time between two instants of one run.

``python benchmarks/process_meter.py OUT -- -m tui.cli --demo`` (or ``-- script.py ARGS``) runs the module or
script as ``python`` would and appends ``seconds cpu_seconds rss_mib`` to OUT every second, seconds counted from
the meter's start. The meter's thread costs a few milliseconds before the program's imports, so the first paint
is measured on a run without it.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the meter started
    cpu_s: float  # user + system CPU of the whole process, every thread
    rss_mb: float | None


def start(out: Path, every_s: float = 1.0) -> threading.Event:
    """Sample this process into ``out`` from a daemon thread until it exits or the returned event is set."""
    origin = time.monotonic()
    stop = threading.Event()

    def run() -> None:
        with out.open("a") as sink:
            while not stop.is_set():
                usage = resource.getrusage(resource.RUSAGE_SELF)
                sink.write(f"{time.monotonic() - origin:.3f} {usage.ru_utime + usage.ru_stime:.3f} {_rss_mb()}\n")
                sink.flush()
                stop.wait(every_s)

    threading.Thread(target=run, name="process-meter", daemon=True).start()
    return stop


def _rss_mb() -> str:
    try:
        with open("/proc/self/status") as status:
            kb = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), None)
    except OSError:
        kb = None
    return "-" if kb is None else f"{kb / 1024:.1f}"


def read(out: Path) -> list[Sample]:
    """The samples written to ``out`` (none when the file is missing)."""
    if not out.is_file():
        return []
    samples = []
    for line in out.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            samples.append(Sample(float(parts[0]), float(parts[1]), None if parts[2] == "-" else float(parts[2])))
    return samples


def steady_cpu_pct(samples: list[Sample], after_s: float) -> float | None:
    """CPU % of one core from the first sample at or after ``after_s`` to the last one (None: under 5 s of them)."""
    window = [s for s in samples if s.seconds >= after_s]
    if len(window) < 2 or window[-1].seconds - window[0].seconds < 5:
        return None
    first, last = window[0], window[-1]
    return (last.cpu_s - first.cpu_s) / (last.seconds - first.seconds) * 100


def last_rss_mb(samples: list[Sample]) -> float | None:
    """The resident size at the last sample: the steady state just before the quit key."""
    return next((s.rss_mb for s in reversed(samples) if s.rss_mb is not None), None)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--" or (argv[2] == "-m" and len(argv) < 4):
        sys.exit("usage: process_meter.py OUT -- (-m MODULE | SCRIPT) [ARGS...]")
    import runpy

    start(Path(argv[0]))
    program = argv[2:]
    if program[0] == "-m":
        sys.argv = [program[1], *program[2:]]
        sys.path.insert(0, str(Path.cwd()))
        runpy.run_module(program[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = program
        sys.path.insert(0, str(Path(program[0]).resolve().parent))
        runpy.run_path(program[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
