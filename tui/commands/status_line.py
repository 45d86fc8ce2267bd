"""``altpulse status``: one short line for a tmux status bar (or a shell prompt, or a script).

    BTC 97,412 -3.4% · CVD 30d -$6.0B ↓ · fund +0.046% · ETF -$223M · D 8/12

BTC price and 24 h change; the altcoin basket's CVD change over 30 days with its direction; the median funding rate
(percent per 8 h); the last completed day's US spot BTC ETF net flow; drivers active out of all rules. A figure that is
unknown shows as "—". Demo mode starts with ``SIM`` (replay with ``REPLAY``) so simulated or historical numbers are
never mistaken for live ones.

It does not start the console: it prints the cached last snapshot (:mod:`tui.commands.cache`) when that is at most
``--max-age`` seconds old (default 120), and otherwise runs one snapshot pass
(``tui.commands.snapshot.collect_snapshot``) within ``--timeout`` seconds and caches it. When that pass fails, the
last cached figures are printed behind a ``stale 5m`` marker (never as current), or ``altpulse: offline`` when there
are none; the reason goes to stderr as one line and the exit status is 1.

Formats: ``plain``; ``tmux`` (the same with ``#[fg=red]…#[default]`` style codes, none when ``NO_COLOR`` is set);
``json``, a small stable object (schema ``altpulse.status/1``)::

    schema, mode, simulated, offline, stale, age_seconds, as_of, text,
    btc_price, btc_change_24h_pct, cvd_change_30d_usd, funding_median_8h (fraction per 8 h),
    etf_last_day, etf_net_flow_usd, drivers_active, drivers_total

tmux: ``set -g status-right '#(altpulse status --format tmux)'``, ``set -g status-interval 15`` and
``set -g status-right-length 120``.

This module is on the fast path: pandas, Textual and the feeds are imported only when a snapshot must be computed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from tui.commands.cache import (
    cache_key,
    figure,
    has_headline_figures,
    read_snapshot_cache,
    refresh_lock,
    write_snapshot_cache,
)

log = logging.getLogger(__name__)

FORMATS = ("plain", "tmux", "json")
STATUS_SCHEMA = "altpulse.status/1"
DEFAULT_MAX_AGE = 120.0
DEFAULT_TIMEOUT = 20.0
DASH = "—"
SEP = " · "
OFFLINE = "altpulse: offline"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: tmux styles per semantic role (``#[...]``); "" = no style.
TMUX_STYLE = {
    "up": "fg=green",
    "down": "fg=red",
    "hot": "fg=yellow",
    "cold": "fg=cyan",
    "sim": "fg=black,bg=yellow,bold",
    "stale": "fg=yellow,bold",
    "offline": "fg=red",
    "": "",
}


# -- figures ------------------------------------------------------------------------------------------------------


class StatusFigures(NamedTuple):
    """The handful of figures the line shows, read defensively from a snapshot document."""

    mode: str
    simulated: bool
    as_of: str | None
    age_seconds: float | None
    btc_price: float | None
    btc_change_24h_pct: float | None
    cvd_change_30d_usd: float | None
    funding_median: float | None
    funding_baseline: float | None
    etf_last_day: str | None
    etf_net_flow_usd: float | None
    drivers_active: int | None
    drivers_total: int | None


def _parse_iso(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _age(doc: dict[str, Any], now: float) -> float | None:
    """Seconds since the document was made: ``cached_at`` (set by the cache), else a live document's ``as_of``."""
    made = figure(doc, "cached_at")
    if made is None and doc.get("mode") == "live":
        made = _parse_iso(doc.get("as_of"))
    return None if made is None else max(0.0, now - made)


def extract(doc: dict[str, Any], now: float) -> StatusFigures:
    """The status figures of a snapshot document; anything missing or malformed is None."""
    from widgets.format import clean

    drivers = doc.get("drivers")
    active = total = None
    if isinstance(drivers, list) and drivers:
        total = len(drivers)
        active = sum(1 for d in drivers if isinstance(d, dict) and d.get("state") == "active")
    etf_day = doc.get("etf", {}).get("last_day") if isinstance(doc.get("etf"), dict) else None
    as_of = doc.get("as_of")
    mode = str(doc["mode"]) if doc.get("mode") in ("live", "demo", "replay") else "live"
    return StatusFigures(
        mode=mode,
        simulated=doc.get("simulated") is True or mode == "demo",
        as_of=clean(as_of, 40) if isinstance(as_of, str) else None,
        age_seconds=_age(doc, now),
        btc_price=figure(doc, "btc", "price"),
        btc_change_24h_pct=figure(doc, "btc", "change_24h_pct"),
        cvd_change_30d_usd=figure(doc, "cvd", "basket", "change_30d_usd"),
        funding_median=figure(doc, "funding", "median"),
        funding_baseline=figure(doc, "funding", "baseline"),
        etf_last_day=etf_day if isinstance(etf_day, str) and _DATE.match(etf_day) else None,
        etf_net_flow_usd=figure(doc, "etf", "net_flow_usd"),
        drivers_active=active,
        drivers_total=total,
    )


# -- text ---------------------------------------------------------------------------------------------------------
def short_money(value: float | None, signed: bool = True) -> str:
    """Status-bar dollars: two or three significant figures (-$6.0B, -$223M, +$45K, $512)."""
    if value is None or not math.isfinite(value):
        return DASH
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    v = abs(value)
    units = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"), (1.0, ""))
    for i, (limit, suffix) in enumerate(units):
        if v >= limit or limit == 1.0:
            n = v / limit
            text = f"{n:.1f}" if n < 9.95 and suffix else f"{n:.0f}"
            if float(text) >= 1000 and i > 0:  # 999.7M rounds to 1000M: say 1.0B
                limit, suffix = units[i - 1]
                text = f"{v / limit:.1f}"
            return f"{sign}${text}{suffix}"
    return DASH  # pragma: no cover


def age_text(seconds: float) -> str:
    """45s, 5m, 3h, 2d."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def _signed_role(value: float | None) -> str:
    if value is None or value == 0:
        return ""
    return "up" if value > 0 else "down"


def _segments(fig: StatusFigures, stale: bool) -> list[list[tuple[str, str]]]:
    """The line as groups (joined by " · ") of (text, role) pieces (joined by spaces)."""
    from widgets.format import pct, price

    prefix: list[tuple[str, str]] = []
    if fig.mode == "demo" or (fig.simulated and fig.mode != "replay"):
        prefix.append(("SIM", "sim"))
    elif fig.mode == "replay":
        prefix.append(("REPLAY", "sim"))
    if stale and fig.age_seconds is not None:
        prefix.append((f"stale {age_text(fig.age_seconds)}", "stale"))

    btc: list[tuple[str, str]] = [("BTC", ""), (price(fig.btc_price), "")]
    if fig.btc_price is not None:
        btc.append((pct(fig.btc_change_24h_pct, 1), _signed_role(fig.btc_change_24h_pct)))

    cvd: list[tuple[str, str]] = [("CVD 30d", "")]
    c = fig.cvd_change_30d_usd
    if c is None:
        cvd.append((DASH, ""))
    else:
        arrow = "↑" if c > 0 else ("↓" if c < 0 else "→")
        cvd.append((f"{short_money(c)} {arrow}", _signed_role(c)))

    m = fig.funding_median
    fund_role = ""
    if m is not None:
        if m < 0:
            fund_role = "cold"
        elif fig.funding_baseline is not None and m > fig.funding_baseline:
            fund_role = "hot"
    fund = [("fund", ""), (DASH if m is None else f"{m * 100:+.3f}%", fund_role)]

    etf = [("ETF", ""), (short_money(fig.etf_net_flow_usd), _signed_role(fig.etf_net_flow_usd))]
    drivers_text = DASH if fig.drivers_total is None else f"{fig.drivers_active}/{fig.drivers_total}"
    drivers = [("D", ""), (drivers_text, "")]

    groups = [btc, cvd, fund, etf, drivers]
    if stale:  # "SIM stale 5m · BTC …": the marker stands apart, where it is seen first
        return [prefix, *groups]
    if prefix:
        groups[0] = prefix + btc
    return groups


def _want_color(color: bool | None) -> bool:
    if color is not None:
        return color
    return os.environ.get("NO_COLOR", "") == ""


def _tmux_escape(text: str) -> str:
    return text.replace("#", "##")


def _render(groups: list[list[tuple[str, str]]], fmt: str, color: bool) -> str:
    from widgets.format import clean

    def piece(text: str, role: str) -> str:
        text = clean(text, 60)
        if fmt != "tmux":
            return text
        text = _tmux_escape(text)
        style = TMUX_STYLE.get(role, "")
        return f"#[{style}]{text}#[default]" if color and style else text

    return SEP.join(" ".join(piece(t, r) for t, r in group) for group in groups)


def format_status(doc: dict[str, Any], fmt: str, now: float, max_age: float, *, color: bool | None = None) -> str:
    """The status line of a snapshot document in ``fmt`` (plain | tmux | json).

    ``now`` is the wall-clock time (epoch seconds); a document older than ``max_age`` (by its ``cached_at``, or a
    live document's ``as_of``) is marked ``stale <age>``. ``color`` overrides the ``NO_COLOR`` check (tmux only).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown status format {fmt!r}")
    fig = extract(doc, now)
    stale = fig.age_seconds is not None and fig.age_seconds > max_age
    plain = _render(_segments(fig, stale), "plain", False)
    if fmt == "plain":
        return plain
    if fmt == "tmux":
        return _render(_segments(fig, stale), "tmux", _want_color(color))
    return json.dumps(
        {
            "schema": STATUS_SCHEMA,
            "mode": fig.mode,
            "simulated": fig.simulated,
            "offline": False,
            "stale": stale,
            "age_seconds": None if fig.age_seconds is None else round(fig.age_seconds),
            "as_of": fig.as_of,
            "text": plain,
            "btc_price": fig.btc_price,
            "btc_change_24h_pct": fig.btc_change_24h_pct,
            "cvd_change_30d_usd": fig.cvd_change_30d_usd,
            "funding_median_8h": fig.funding_median,
            "etf_last_day": fig.etf_last_day,
            "etf_net_flow_usd": fig.etf_net_flow_usd,
            "drivers_active": fig.drivers_active,
            "drivers_total": fig.drivers_total,
        },
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
    )


def format_offline(fmt: str, mode: str = "live", *, reason: str | None = None, color: bool | None = None) -> str:
    """What the status line says when there is nothing to show (no cache, and the snapshot pass failed)."""
    from widgets.format import clean

    prefix = {"demo": "SIM ", "replay": "REPLAY "}.get(mode, "")
    if fmt == "json":
        return json.dumps(
            {
                "schema": STATUS_SCHEMA,
                "mode": mode,
                "simulated": mode == "demo",
                "offline": True,
                "stale": False,
                "error": clean(reason, 200) if reason else None,
                "text": prefix + OFFLINE,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
    if fmt == "tmux" and _want_color(color):
        return f"{prefix}#[{TMUX_STYLE['offline']}]{OFFLINE}#[default]"
    return prefix + OFFLINE


# -- command ------------------------------------------------------------------------------------------------------
def _seconds(limit: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or value > limit:
            raise argparse.ArgumentTypeError(f"expected seconds in [0, {limit:g}], got {text!r}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``status`` subcommand's own options (the mode options come from the CLI's common set)."""
    parser.add_argument("--format", choices=FORMATS, default="plain", help="plain (default), tmux or json")
    parser.add_argument(
        "--max-age",
        type=_seconds(7 * 86400),
        default=DEFAULT_MAX_AGE,
        metavar="SECONDS",
        help=f"use the cached snapshot when at most this old (default {DEFAULT_MAX_AGE:g})",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds(600),
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on a snapshot pass when the cache is not fresh (default {DEFAULT_TIMEOUT:g})",
    )


def _daemon_executor() -> Any:
    """The snapshot pass's default executor: one daemon thread per call, never joined at interpreter exit.

    asyncio resolves host names with getaddrinfo in the default executor, and a blocked lookup cannot be cancelled;
    with daemon threads, a timed-out pass leaves the process at once instead of waiting for the resolver. (Built
    here so the fast path does not import concurrent.futures.)
    """
    import threading
    from concurrent.futures import Future, ThreadPoolExecutor

    class DaemonExecutor(ThreadPoolExecutor):
        def __init__(self) -> None:
            super().__init__(max_workers=1)
            self._daemons: list[threading.Thread] = []

        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            future: Future[Any] = Future()

            def work() -> None:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:
                    future.set_exception(exc)

            thread = threading.Thread(target=work, name="altpulse-status-worker", daemon=True)
            self._daemons.append(thread)
            thread.start()
            return future

        def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
            if wait:
                for thread in self._daemons:
                    thread.join()
            super().shutdown(wait=wait, cancel_futures=cancel_futures)

    return DaemonExecutor()


def _compute(
    config: Any, mode: str, args: argparse.Namespace, timeout: float
) -> tuple[dict[str, Any] | None, str | None]:
    """One snapshot pass bounded by ``timeout``: (document, None) or (None, why not)."""
    import asyncio

    from tui.commands.snapshot import collect_snapshot
    from widgets.format import clean

    replay_dir = args.replay if mode == "replay" else None
    loop = asyncio.new_event_loop()
    loop.set_default_executor(_daemon_executor())
    timed_out = False
    try:
        doc = loop.run_until_complete(asyncio.wait_for(collect_snapshot(config, mode, replay_dir, args.at), timeout))
    except TimeoutError:
        timed_out = True
        return None, f"snapshot took longer than {timeout:g} s"
    except Exception as exc:
        log.exception("status: snapshot failed")
        return None, clean(f"snapshot failed: {type(exc).__name__}: {exc}", 200)
    finally:
        # Unlike asyncio.run, do not wait for the executor after a timeout (see _daemon_executor).
        if not timed_out:
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    if not has_headline_figures(doc):
        failed = [f"{name} ({s.get('error')})" for name, s in doc.get("sources", {}).items() if s.get("error")]
        detail = f": {failed[0]}" + (f" and {len(failed) - 1} more" if len(failed) > 1 else "") if failed else ""
        return None, clean(f"no figures from any feed{detail}", 200)
    return doc, None


def run_status(
    args: argparse.Namespace,
    *,
    load_config: Callable[[], Any],
    resolve_mode: Callable[[], str],
    out: Any = None,
    err: Any = None,
) -> int:
    """``altpulse status``: print one line; 0 when it shows current figures, 1 when stale or offline.

    ``resolve_mode`` and ``load_config`` are the CLI's (they raise its CliError); the config is only loaded when a
    snapshot must be computed, so a fresh cache is answered without importing pandas or the feeds.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    fmt: str = args.format
    max_age: float = args.max_age
    timeout: float = args.timeout

    def emit(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        mode = resolve_mode()
    except Exception:
        emit(format_offline(fmt))
        raise
    key = cache_key(
        args.replay if mode == "replay" else None,
        args.at if mode == "replay" else None,
        coins=args.coins,
        config_path=args.config,
    )
    cached = read_snapshot_cache(mode, max_age, key=key)
    if cached is not None:
        emit(format_status(cached, fmt, time.time(), max_age))
        return 0

    doc: dict[str, Any] | None = None
    error: str | None = None
    with refresh_lock(mode, timeout) as got:
        # Another status may have refreshed the cache while this one waited for the lock.
        cached = read_snapshot_cache(mode, max_age, key=key)
        if cached is not None:
            emit(format_status(cached, fmt, time.time(), max_age))
            return 0
        if got:
            try:
                config = load_config()
            except Exception:
                emit(format_offline(fmt, mode, reason="config error"))
                raise
            doc, error = _compute(config, mode, args, timeout)
            if doc is not None:
                write_snapshot_cache(doc, mode, key=key)
        else:
            error = f"another altpulse status is still refreshing (waited {timeout:g} s)"

    if doc is not None:
        now = time.time()
        emit(format_status({**doc, "cached_at": now}, fmt, now, max_age))  # made just now, whatever its as_of says
        return 0
    return _fallback(mode, key, fmt, max_age, error, emit, err)


def _fallback(mode: str, key: str | None, fmt: str, max_age: float, error: str | None, emit: Callable[[str], None],
              err: Any) -> int:  # fmt: skip
    """The pass failed: the last figures marked stale, else "offline"; the reason on stderr; exit status 1."""
    now = time.time()
    stale = read_snapshot_cache(mode, None, key=key, now=now)
    if stale is not None:
        emit(format_status(stale, fmt, now, max_age))
        age = _age(stale, now)
        shown = f"; showing figures from {age_text(age)} ago" if age is not None else ""
        print(f"altpulse: status: {error}{shown}", file=err)
    else:
        emit(format_offline(fmt, mode, reason=error))
        print(f"altpulse: status: {error}", file=err)
    return 1
