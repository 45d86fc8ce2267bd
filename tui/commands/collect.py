"""``altpulse collect [--demo]``: poll every provider and record, headless, for any number of followers.

The same boot path as the console (the same feeds, streams and recorder), without Textual: each feed runs its
loop, the liquidation streams run, the tape's new rows and the drivers' state changes are handed to the recorder
every second. Consoles started with ``altpulse --follow`` read the store instead of polling, so N of them on one
host cost one set of API calls. A second collector on the same store is refused (the store's writer lock).
SIGINT or SIGTERM stops it cleanly: pending rows are committed and the session is closed.

``collect --alerts`` is ``altpulse watch --record`` (:mod:`tui.commands.watch`): the same loop also evaluates the
``[[alerts]]`` rules and sends them, so one process per host records and alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from typing import Any

from tui.runtime.pandas_refs import PRUNE_REFS_EVERY_S

EXIT_LOCKED = 2
#: The drivers are evaluated this often (seconds) to record their state changes.
DRIVERS_EVERY = 5.0
#: On the way out, deliveries still under way (a webhook retrying) get this long before they are cancelled.
ALERT_DRAIN_SECONDS = 5.0


def run_collect(config: Any, args: Any) -> int:
    from tui.boot import Launch, boot

    mode = "demo" if getattr(args, "demo", False) else "live"
    launch = Launch(mode, record=True, store=getattr(args, "store", None), role="collector")
    session = boot(config, launch)
    if session.recorder is None:
        print(f"altpulse collect: {'; '.join(session.runtime.notes) or 'recording is not possible here'}",
              file=sys.stderr)  # fmt: skip
        asyncio.run(session.aclose())
        return EXIT_LOCKED
    store = session.recorder.store
    print(f"altpulse collect: recording {'SIMULATED ' if session.runtime.simulated else ''}{mode} data into "
          f"{store.path} (pid {_pid()}); followers: altpulse --follow {store.path}; Ctrl-C stops",
          file=sys.stderr)  # fmt: skip
    for note in session.runtime.notes:
        print(f"altpulse collect: {note}", file=sys.stderr)
    try:
        asyncio.run(headless_loop(session, float(getattr(args, "seconds", 0.0) or 0.0)))
    finally:
        stats = session.recorder.writer.stats if session.recorder is not None else None
        failed = session.recorder.failed if session.recorder is not None else None
        session.close_recorder()
        if stats is not None:
            print(f"altpulse collect: {stats.rows:,} rows in {stats.batches:,} batches"
                  f" (slowest commit {stats.max_ms:.1f} ms)" + (f"; {failed}" if failed else ""),
                  file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


def _pid() -> int:
    import os

    return os.getpid()


async def headless_loop(session: Any, seconds: float) -> None:
    """Run every feed and stream, tick the recorder (and the alerts) each second and the drivers every
    :data:`DRIVERS_EVERY` s, until SIGINT/SIGTERM/SIGHUP or ``seconds`` (0: never)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    streams = session.start_streams()
    tasks = [asyncio.ensure_future(session.scheduler.run_feed(name)) for name in session.scheduler.feeds]
    tasks += [asyncio.ensure_future(stream.run()) for stream in streams]
    started = time.monotonic()
    next_drivers = 0.0
    next_trim = time.monotonic() + 600
    next_prune = time.monotonic() + PRUNE_REFS_EVERY_S
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            session.tick()
            now = time.monotonic()
            if now >= next_drivers:
                next_drivers = now + DRIVERS_EVERY
                try:
                    session.evaluate_drivers()
                except Exception:  # a rule bug must not stop the recording; the log has it
                    import logging

                    logging.getLogger(__name__).exception("evaluating drivers failed")
            if now >= next_prune:
                next_prune = now + PRUNE_REFS_EVERY_S
                session.housekeep()
            if now >= next_trim and session.state.liq_tape is not None:
                next_trim = now + 600
                session.state.liq_tape.trim(session.runtime.now_ms())
            if seconds and now - started >= seconds:
                break
            if session.recorder is not None and session.recorder.failed:
                print(f"altpulse collect: {session.recorder.failed}", file=sys.stderr)
                break
    finally:
        for stream in streams:
            stream.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        session.tick()
        if session.alerting is not None:  # the deliveries under way get a few seconds to finish
            await session.alerting.router.drain(ALERT_DRAIN_SECONDS)
            await session.alerting.router.aclose()
        await session.runtime.aclose()
