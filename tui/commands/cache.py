"""A cache of the last full snapshot document (``altpulse.snapshot/1``), so ``altpulse status`` answers instantly.

Written by ``altpulse snapshot``, by ``altpulse status`` when it had to compute one, and by the running console.
One file per mode, ``<user_cache_dir>/snapshot-<mode>.json`` (``~/.cache/altpulse`` on Linux, ``$XDG_CACHE_HOME``
honoured), so simulated demo numbers can never be read back as live ones. Each file is an envelope::

    {"cache": "altpulse.snapshot-cache/1", "mode": ..., "key": ..., "written_at": <epoch s>, "doc": {...}}

``key`` distinguishes documents of the same mode that answer different questions (``--replay DIR --at T``, an
explicit ``--coins`` or ``--config``): a reader only accepts a document written under the same key (None for the
plain live and demo invocations, which is what the console writes). Files are written atomically (a temporary file in
the same directory, then :func:`os.replace`), so a reader never sees half a document.

This module is imported on the ``altpulse status`` fast path: it must stay free of pandas, Textual and asyncio.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENVELOPE = "altpulse.snapshot-cache/1"
#: The snapshot schema the cached documents follow (tui.commands.snapshot.SCHEMA; repeated to keep this import light).
SNAPSHOT_SCHEMA = "altpulse.snapshot/1"
MODES = ("live", "demo", "replay")
#: A cache file larger than this is not ours (a full snapshot of a 40-coin basket is about 30 KB).
MAX_BYTES = 8 * 1024 * 1024
#: Tolerated clock skew for a file stamped in the future (e.g. the clock was stepped back).
FUTURE_SKEW_S = 60.0


def cache_dir() -> Path:
    """The per-user cache directory (not created)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("altpulse", appauthor=False))


def cache_path(mode: str) -> Path:
    """``<cache_dir>/snapshot-<mode>.json``; ``mode`` must be live, demo or replay."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
    return cache_dir() / f"snapshot-{mode}.json"


def cache_key(
    replay_dir: Path | str | None = None,
    at: str | None = None,
    *,
    coins: str | None = None,
    config_path: Path | str | None = None,
) -> str | None:
    """The key of a document that is not the plain one of its mode, or None for the plain one.

    Replay documents depend on the directory and ``--at``; an explicit ``--coins`` or ``--config`` changes the
    basket. The plain live/demo invocation (and the console) use None.
    """
    parts: list[str] = []
    if replay_dir is not None:
        parts.append(f"replay={Path(replay_dir).resolve()}@{at or 'end'}")
    if coins:
        parts.append("coins=" + ",".join(c.strip().upper() for c in coins.split(",") if c.strip()))
    if config_path is not None:
        parts.append(f"config={Path(config_path).resolve()}")
    return ";".join(parts) or None


def figure(doc: dict[str, Any], *path: str) -> float | None:
    """The finite number at ``path`` in a snapshot document, else None (missing, null, a bool, NaN)."""
    node: Any = doc
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node) if math.isfinite(node) else None


def has_headline_figures(doc: dict[str, Any]) -> bool:
    """True when the document carries at least one figure the status line shows (else it is an offline pass)."""
    return any(
        figure(doc, *path) is not None
        for path in (
            ("btc", "price"),
            ("cvd", "basket", "change_30d_usd"),
            ("funding", "median"),
            ("etf", "net_flow_usd"),
        )
    )


def _check_mode(doc: dict[str, Any], mode: str) -> bool:
    """The document belongs to ``mode``: its own mode matches and a live file never holds simulated data."""
    if doc.get("mode") != mode:
        return False
    return not (mode == "live" and doc.get("simulated") is not False)


def write_snapshot_cache(
    doc: dict[str, Any], mode: str, *, key: str | None = None, now: float | None = None
) -> Path | None:
    """Store ``doc`` as the latest snapshot of ``mode``; returns the file, or None when nothing was written.

    Never raises for I/O problems (a read-only or full disk only costs the cache; the reason is logged). A document
    without any headline figure (every feed failed) is not written, so the last good one stays available as a stale
    fallback. A document whose own ``mode`` differs from ``mode`` is a programming error (ValueError).
    """
    path = cache_path(mode)
    if not _check_mode(doc, mode):
        raise ValueError(f"snapshot document of mode {doc.get('mode')!r} cannot be cached as {mode!r}")
    if not has_headline_figures(doc):
        log.info("snapshot cache: %s document has no figures; keeping the previous one", mode)
        return None
    body = {k: v for k, v in doc.items() if k != "cached_at"}
    envelope = {
        "cache": ENVELOPE,
        "mode": mode,
        "key": key,
        "written_at": time.time() if now is None else now,
        "doc": body,
    }
    tmp: str | None = None
    try:
        text = json.dumps(envelope, allow_nan=False, separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".snapshot-{mode}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
        tmp = None
    except (OSError, TypeError, ValueError) as exc:
        log.warning("snapshot cache: cannot write %s: %s", path, exc)
        return None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path


def read_snapshot_cache(
    mode: str, max_age: float | None, *, key: str | None = None, now: float | None = None
) -> dict[str, Any] | None:
    """The cached document of ``mode`` if it is at most ``max_age`` seconds old (any age when None), else None.

    The returned document carries ``cached_at`` (epoch seconds when it was written). Anything unexpected (no file,
    not JSON, another schema or mode, another key, a time stamp in the future) reads as "no cache".
    """
    path = cache_path(mode)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_BYTES:
        return None
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(envelope, dict) or envelope.get("cache") != ENVELOPE or envelope.get("mode") != mode:
        return None
    if envelope.get("key") != key:
        return None
    doc = envelope.get("doc")
    written = envelope.get("written_at")
    if not isinstance(doc, dict) or doc.get("schema") != SNAPSHOT_SCHEMA or not _check_mode(doc, mode):
        return None
    if isinstance(written, bool) or not isinstance(written, int | float) or not math.isfinite(written):
        return None
    now = time.time() if now is None else now
    if written > now + FUTURE_SKEW_S:
        return None
    if max_age is not None and now - written > max_age:
        return None
    doc["cached_at"] = float(written)
    return doc


@contextlib.contextmanager
def refresh_lock(mode: str, timeout: float) -> Iterator[bool]:
    """Hold the per-mode refresh lock (waiting up to ``timeout`` s); yields whether it was obtained.

    Several tmux clients refreshing the same status line then run one snapshot between them instead of one each
    (the public APIs' rate limits are per IP). Where file locks are not available the lock is always obtained.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield True
        return
    path = cache_path(mode).with_suffix(".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield True
        return
    deadline = time.monotonic() + max(0.0, timeout)
    got = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
                break
            except OSError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.1)
        yield got
    finally:
        if got:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
