"""Time from launch until every pane of the live console shows its first real figures, against the loopback emulator.

The demo market is served by ``python -m emulator.loopback`` in another process (one loopback address per provider,
the real hosts' request budgets), as in ``benchmarks/live_console.py``. The console runs in **this** process, in
live mode with every ``[sources]`` URL pointed at it, as the real app (``AltpulseApp``) driven headless by Textual's
``run_test`` at 160x45: the same boot thread, feeds, scheduler, budgets and 1 Hz repaint as in a terminal, only the
screen is virtual. That is what makes the panes' state readable: every 50 ms the script checks, per pane, whether
every feed behind it (``tui.views.registry.PANES``; the funding pane's long/short view and the ETF pane's macro view
included) has delivered once, and whether the pane has been repainted with a view built after that (the app's own
repaint log). The liquidation tape counts as delivered at its first row (live, the streams' first records).

Times are from the start of this script (Python start-up and the console's imports included: the clock starts when
a trader presses Enter) and, in brackets, from the app's start. Printed per pane and overall (the last pane).

Usage: ``python benchmarks/fill_time.py [--runs 3] [--timeout 120]``.
"""

from __future__ import annotations

import time

T0 = time.monotonic()

import argparse  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PANE_ORDER = ("btc", "cvd", "funding", "liquidations", "etf", "drivers")


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], Path]:
    config = tmp / "config.toml"
    server = subprocess.Popen([sys.executable, "-m", "emulator.loopback", "--config", str(config)], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while not config.exists():
        if time.monotonic() > deadline or server.poll() is not None:
            sys.exit("the emulator server did not start")
        time.sleep(0.2)
    time.sleep(0.5)  # the config is written just after the sockets listen
    return server, config


async def measure(config_path: Path, timeout: float, t_launch: float) -> tuple[dict[str, float | None], float]:
    """Seconds from ``t_launch`` until each pane is filled (None: not within ``timeout``), and the app's start."""
    import tui.boot
    from benchmarks.live_console import map_loopback_budgets

    map_loopback_budgets(config_path)
    from tui.app.app import AltpulseApp
    from tui.runtime.config import load_config
    from tui.runtime.state import TAPE
    from tui.views.registry import PANES

    assert tui.boot  # the boot path the app runs
    config = load_config(config_path, use_user_file=False)
    app = AltpulseApp(config, "live", record=False)
    t_app = time.monotonic() - t_launch
    delivered_at: dict[str, float] = {}  # spec key -> wall time when all its feeds had delivered
    first_delivery: dict[str, float] = {}  # feed -> seconds from launch to its first delivery
    filled: dict[str, float | None] = dict.fromkeys(PANE_ORDER)
    async with app.run_test(size=(160, 45)) as pilot:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(v is None for v in filled.values()):
            await pilot.pause(0.05)
            if app.scheduler is None or app.state is None:
                continue
            now_wall = time.time()
            for name, feed_ in app.scheduler.feeds.items():
                if name not in first_delivery and feed_.health.as_of is not None:
                    first_delivery[name] = time.monotonic() - t_launch
            done: dict[str, bool] = {}
            for spec in PANES:
                if spec.key not in delivered_at:
                    ok = True
                    for feed in spec.feeds:
                        if feed == TAPE:
                            ok &= app.state.liq_tape is not None and len(app.state.liq_tape) > 0
                        else:
                            f = app.scheduler.feeds.get(feed)
                            ok &= f is not None and f.health.as_of is not None
                    if ok:
                        delivered_at[spec.key] = now_wall
                painted = app._painted.get(spec.key)
                done[spec.key] = spec.key in delivered_at and painted is not None and painted >= delivered_at[spec.key]
            for pane in PANE_ORDER:
                specs = [s for s in PANES if s.pane == pane]
                if filled[pane] is None and specs and all(done[s.key] for s in specs):
                    filled[pane] = time.monotonic() - t_launch
        feeds = app.scheduler.feeds.items() if app.scheduler else []
        failed = {name: f.health.error for name, f in feeds if f.health.error}
        if failed:
            print(f"  feeds that failed: {failed}", flush=True)
        slowest = sorted(first_delivery.items(), key=lambda item: -item[1])[:5]
        print("  slowest first deliveries: " + ", ".join(f"{n} {t:.1f} s" for n, t in slowest), flush=True)
    return filled, t_app


def run_once(config: Path, timeout: float) -> tuple[dict[str, float | None], float]:
    # A fresh interpreter per run: the first run's imports and caches must not speed up the next.
    code = (f"import time; t=time.monotonic(); import sys; sys.path.insert(0, {str(REPO)!r}); "
            f"import asyncio, json; from benchmarks.fill_time import measure; from pathlib import Path; "
            f"r = asyncio.run(measure(Path({str(config)!r}), {timeout}, t)); "
            f"print('RESULT', json.dumps(r))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=os.environ)
    import json

    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            filled, t_app = json.loads(line[7:])
            return filled, t_app
        print(line)
    sys.exit(f"run failed: {out.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"XDG_DATA_HOME": str(Path(tmp) / "data"), "XDG_CONFIG_HOME": str(Path(tmp) / "cfg"),
                           "XDG_STATE_HOME": str(Path(tmp) / "state")})  # fmt: skip
        server, config = start_server(Path(tmp))
        results = []
        try:
            for i in range(args.runs):
                filled, t_app = run_once(config, args.timeout)
                results.append(filled)
                shown = "  ".join(f"{p} {'-' if v is None else f'{v:.2f}'}" for p, v in filled.items())
                print(f"run {i + 1}: app started at {t_app:.2f} s; {shown}", flush=True)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"time from launch until each pane has its first real figures, live console vs loopback, "
          f"{args.runs} runs (median, min-max, s)")  # fmt: skip
    for pane in (*PANE_ORDER, "all"):
        values = [max((v for v in r.values()), default=None) if pane == "all" and None not in r.values()
                  else r.get(pane) for r in results]  # fmt: skip
        got = [v for v in values if v is not None]
        if not got:
            print(f"  {pane:14s} not filled within {args.timeout:g} s")
            continue
        missing = len(values) - len(got)
        print(f"  {pane:14s} {statistics.median(got):6.2f}  ({min(got):.2f}-{max(got):.2f})"
              + (f"  [{missing} run(s) not filled]" if missing else ""))  # fmt: skip


if __name__ == "__main__":
    main()
