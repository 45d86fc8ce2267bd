"""The console's alerting: the ``[[alerts]]`` rules evaluated on the same figures as the drivers, sent to routes.

One :class:`Alerting` per booted session (the app, ``altpulse watch`` / ``collect --alerts``): flip rules are fed
the checklist's states each time the drivers are evaluated (:meth:`Alerting.on_drivers`), threshold rules look their
metrics up through :class:`tui.views.metrics.Metrics` (the drivers' own registry, plus a coin's price and funding)
every ``[alerting] every`` seconds (:meth:`Alerting.tick`). Rule logic is :mod:`analytics.alerts` (pure), delivery
:mod:`tui.runtime.alert_routes`. The alert screen and ``snapshot --json`` read :func:`alert_rows` /
:func:`snapshot_alerts`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from analytics.alerts import Alert, AlertEngine
from analytics.drivers import DriverState, MetricValue
from tui.runtime.alert_routes import AlertLog, LocalHandler, Router, alert_log_path, alert_rules, read_alert_log

if TYPE_CHECKING:
    from tui.runtime.config import Config
    from tui.runtime.modes import Runtime
    from tui.views.metrics import Metrics


class Alerting:
    """The rules, their memory, the routes and the log of one session. ``listeners`` hear every alert (fired or
    initial), e.g. the watcher printing each one."""

    def __init__(self, config: Config, runtime: Runtime, metrics: Metrics, *, log_file: bool = True,
                 local: LocalHandler | None = None) -> None:  # fmt: skip
        rules, routes = alert_rules(config)
        self.config = config
        self.runtime = runtime
        self.metrics = metrics
        mode = runtime.mode
        self.engine = AlertEngine(rules, config.alerting.routes, mode=mode, simulated=runtime.simulated)
        path = alert_log_path(config, "demo" if runtime.simulated and mode != "replay" else mode) if log_file else None
        self.log = AlertLog(path if mode != "follow" else None)
        #: The file a follower's alert screen reads (the collector's alerts): the live or demo log.
        self.read_path = alert_log_path(config, "demo" if runtime.simulated else "live") if mode == "follow" else path
        self.router = Router(routes, self.log, local=local, external=mode != "follow")
        self.listeners: list[Callable[[Alert], None]] = []
        self.every = config.alerting.every
        self._next = 0.0
        self.has_thresholds = any(r.kind == "threshold" and r.enabled for r in rules)

    def on_drivers(self, states: Sequence[DriverState]) -> list[Alert]:
        """The flip rules on the checklist's latest states."""
        return self._handle(self.engine.evaluate(int(self.runtime.now_ms()), states, None))

    def tick(self, now: float | None = None) -> list[Alert]:
        """The threshold rules, at most every ``[alerting] every`` seconds (called once a second)."""
        now = time.monotonic() if now is None else now
        if not self.has_thresholds or now < self._next:
            return []
        self._next = now + self.every
        return self._handle(self.engine.evaluate(int(self.runtime.now_ms()), None, self.lookup))

    def lookup(self, metric: str, arg: str | None) -> MetricValue | None:
        if metric in ("price", "funding_8h"):
            return self.metrics.coin(metric, arg or "BTC")
        return self.metrics.lookup(metric, arg)

    def _handle(self, alerts: list[Alert]) -> list[Alert]:
        for alert in alerts:
            if alert.routes:
                self.router.dispatch(alert)
            for listener in self.listeners:
                listener(alert)
        return alerts

    @property
    def problem(self) -> str | None:
        """What the status bar says while a route fails (or the log cannot be written)."""
        return self.router.problem or self.log.failed

    def recent(self, n: int = 50) -> list[dict[str, Any]]:
        """The last alerts, oldest first: this session's, or (a follower) the collector's log file."""
        if self.runtime.mode == "follow":
            return read_alert_log(self.read_path, n)
        return self.log.recent(n)


def alert_rows(entries: Sequence[dict[str, Any]]) -> list[tuple[str, str, str, str, str, str]]:
    """The alert screen's rows, newest first: time, rule, kind, state, text, where it went (route: status)."""
    rows = []
    for e in reversed(entries):
        sent = ", ".join(f"{d['route']}: {d['status']}" + (f" ({d['detail']})" if d["status"] == "failed" else "")
                         for d in e.get("deliveries", []))  # fmt: skip
        rows.append((str(e.get("time", ""))[5:16].replace("T", " "), str(e.get("id", "")), str(e.get("kind", "")),
                     str(e.get("state", "")).upper(), str(e.get("text", "")), sent or "-"))  # fmt: skip
    return rows


def snapshot_alerts(config: Config, runtime: Runtime, n: int = 20) -> list[dict[str, Any]]:
    """The ``alerts`` section of the snapshot JSON: the last alerts of this mode's log (what a collector with
    ``--alerts``, ``watch`` or a console sent), each the alert object with ``deliveries`` ({route, status: sent |
    failed | skipped | pending, detail}); [] for a replay (no log) or when nothing was ever sent."""
    mode = "demo" if runtime.simulated and runtime.mode != "replay" else runtime.mode
    return read_alert_log(alert_log_path(config, "live" if mode == "follow" else mode), n)
