"""The console in a real pseudo-terminal: it paints, and when the terminal goes away (SIGHUP: the SSH link
dropped, the tmux pane was killed) it leaves cleanly, with no traceback."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as on the users' machines")


def _read_until(fd: int, needle: bytes, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def test_sighup_ends_the_console_cleanly(tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "TERM": "xterm-256color"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "--demo"], cwd=REPO, env=env, stdin=follower,
                            stdout=follower, stderr=follower, start_new_session=True)  # fmt: skip
    os.close(follower)
    try:
        painted = _read_until(leader, b"SIMULATED", 30)
        assert b"SIMULATED" in painted
        painted += _read_until(leader, b"Bitcoin", 10)
        proc.send_signal(signal.SIGHUP)
        code = proc.wait(timeout=20)
        rest = _read_until(leader, b"\0", 1)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert code == 0
    assert b"Traceback" not in painted + rest
