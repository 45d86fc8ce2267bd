"""Where alerts go: the routes (toast, bell, a command, notify-send, a webhook), their delivery, and the alert log.

Delivery never blocks the tick: every external route runs as an asyncio task (a subprocess with a timeout, an HTTP
POST with retries and back-off), and a failure is recorded on the alert's log entry, logged, and shown in the status
bar (:attr:`Router.problem`); it never raises into the caller. The routes:

- ``toast`` / ``bell``: the console's own (a toast, the terminal bell); ``altpulse watch`` prints every alert
  instead, so there ``toast`` is "printed" and ``bell`` is skipped (no screen).
- ``command``: ``command = "..."`` (a rule's own) or ``[[alert_routes]] type = "command"``: run **without a shell**
  (the string is split like a shell would split it; no expansion, no pipes), the alert as one JSON object
  (:data:`analytics.alerts.ALERT_SCHEMA`) and a newline on stdin; exit 0 within ``timeout`` seconds is delivered,
  anything else (a non-zero exit with its stderr's last line, a timeout: the process is killed, not found) failed.
- ``notify-send``: a desktop notification (libnotify's ``notify-send [--urgency=LEVEL] SUMMARY BODY``: critical when
  a driver turns active, normal otherwise), when the program is on PATH (else skipped, said once).
- ``webhook``: an HTTP POST of the alert. ``template = "json"`` (default) posts the alert object itself;
  ``"ntfy"`` posts the one-line text as the body to the topic URL (``https://ntfy.sh/<topic>``) with ntfy's
  ``Title``, ``Priority`` (``min|low|default|high|urgent`` or 1-5) and ``Tags`` (comma-separated) headers, as ntfy's
  publish API documents (docs.ntfy.sh/publish: "POST /mytopic ... body = message", headers ``X-Title``/``Title``,
  ``X-Priority``/``Priority``, ``X-Tags``/``Tags``); ``"slack"`` posts ``{"text": ...}`` with ``Content-type:
  application/json`` (Slack incoming webhooks, api.slack.com/incoming-webhooks: "your JSON payload only needs to
  define a text property"); ``"discord"`` posts ``{"content": ...}`` (Discord's execute-webhook body needs one of
  content/embeds/files; content is up to 2000 characters, so the text is cut there). Connection errors, timeouts,
  429 and 5xx are retried ``retries`` times with exponential back-off (1 s, 2 s, 4 s ...); any other status fails
  at once. HTTP header values must be Latin-1, so ntfy's Title is sent as ASCII (other characters as ``?``).

The alert log keeps the last alerts in memory (the console's alert screen) and appends each one, with where it was
sent and how that went, to a JSON-lines file (``[alerting] log``; default ``alerts.jsonl`` in the user data dir,
``alerts-demo.jsonl`` for the demo, none for a replay), which ``snapshot --json`` (``alerts``) and a follower's
alert screen read. Written on the event loop: one short line per alert, rare by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.alerts import Alert, AlertRule, parse_alert_rules
from analytics.drivers import RuleError, parse_rules

if TYPE_CHECKING:
    import httpx

    from tui.runtime.config_schema import Alerting

#: The merged config (:class:`tui.runtime.config.Config`: not imported, the loader imports this module).
Config = Any

log = logging.getLogger(__name__)

TYPES = ("command", "webhook", "notify-send")
TEMPLATES = ("json", "ntfy", "slack", "discord")
NTFY_PRIORITIES = ("min", "low", "default", "high", "urgent", "max", "1", "2", "3", "4", "5")
_ROUTE_KEYS = ("name", "type", "command", "url", "template", "headers", "priority", "tags", "timeout", "retries")
DISCORD_LIMIT = 2000
#: The alert log keeps this many alerts in memory, and its file about ten times as many.
KEEP = 200
FILE_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Route:
    """One place alerts go. ``type``: toast | bell | notify-send | command | webhook."""

    name: str
    type: str
    command: tuple[str, ...] = ()
    url: str = ""
    template: str = "json"
    headers: Mapping[str, str] = field(default_factory=dict)
    priority: str = ""
    tags: tuple[str, ...] = ()
    timeout: float = 10.0
    retries: int = 3

    @property
    def local(self) -> bool:
        return self.type in ("toast", "bell")


def builtin_routes(alerting: Alerting) -> dict[str, Route]:
    return {
        "toast": Route("toast", "toast"),
        "bell": Route("bell", "bell"),
        "notify-send": Route("notify-send", "notify-send", timeout=alerting.command_timeout),
    }


def parse_routes(raw: Any, file: str, alerting: Alerting) -> dict[str, Route]:
    """``[[alert_routes]]`` -> name -> :class:`Route` (the built-in ones included); RuleError naming the key."""
    routes = builtin_routes(alerting)
    if not isinstance(raw, list):
        raise RuleError(file, "alert_routes", "expected an array of tables ([[alert_routes]])")
    for i, item in enumerate(raw):
        path = f"alert_routes[{i}]"
        for key in item:
            if key not in _ROUTE_KEYS:
                raise RuleError(file, f"{path}.{key}", f"unknown key {key!r}; expected one of {', '.join(_ROUTE_KEYS)}")
        name = item.get("name")
        if not isinstance(name, str) or not name or any(c.isspace() for c in name) or ":" in name:
            raise RuleError(file, f"{path}.name", "expected a route name without spaces or ':' (required)")
        if name in routes:
            raise RuleError(file, f"{path}.name", f"expected a new name; {name!r} is already a route")
        kind = item.get("type")
        if kind not in TYPES:
            raise RuleError(file, f"{path}.type", f"expected one of {', '.join(TYPES)}, got {kind!r}")
        timeout = item.get("timeout", alerting.webhook_timeout if kind == "webhook" else alerting.command_timeout)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise RuleError(file, f"{path}.timeout", f"expected seconds (a positive number), got {timeout!r}")
        retries = item.get("retries", alerting.webhook_retries)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise RuleError(file, f"{path}.retries", f"expected a whole number >= 0, got {retries!r}")
        spec: dict[str, Any] = {"timeout": float(timeout), "retries": retries}
        if kind == "command":
            spec["command"] = command_argv(item.get("command"), file, f"{path}.command")
        elif "command" in item:
            raise RuleError(file, f"{path}.command", f"a {kind} route takes no command")
        if kind == "webhook":
            url = item.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) < 10:
                raise RuleError(file, f"{path}.url", "expected an http(s) URL (required for a webhook)")
            template = item.get("template", "json")
            if template not in TEMPLATES:
                raise RuleError(file, f"{path}.template", f"expected one of {', '.join(TEMPLATES)}, got {template!r}")
            headers = item.get("headers", {})
            if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                        for k, v in headers.items()):  # fmt: skip
                expected = 'expected a table of strings, e.g. { Authorization = "Bearer tk_..." }'
                raise RuleError(file, f"{path}.headers", expected)
            priority = str(item.get("priority", ""))
            if priority and (template != "ntfy" or priority not in NTFY_PRIORITIES):
                expected = f"an ntfy template's priority: one of {', '.join(NTFY_PRIORITIES)}"
                raise RuleError(file, f"{path}.priority", expected)
            tags = item.get("tags", [])
            if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
                raise RuleError(file, f"{path}.tags", 'expected a list of ntfy tags, e.g. ["warning", "skull"]')
            spec.update(url=url, template=template, headers=dict(headers), priority=priority, tags=tuple(tags))
        else:
            for key in ("url", "template", "headers", "priority", "tags"):
                if key in item:
                    raise RuleError(file, f"{path}.{key}", "only a webhook route takes this key")
        routes[name] = Route(name, kind, **spec)
    return routes


def command_argv(value: Any, file: str, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise RuleError(file, path, f"cannot split the command: {exc}") from None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        raise RuleError(file, path, "expected a command string or an array of arguments (required)")
    if not argv or not argv[0]:
        raise RuleError(file, path, "expected a non-empty command")
    return tuple(argv)


def alert_rules(config: Config, routes: dict[str, Route] | None = None) -> tuple[list[AlertRule], dict[str, Route]]:
    """The configured rules and every route they can use (a rule's own ``command`` as route ``<id>:command``)."""
    alerting = config.alerting
    if routes is None:
        routes = parse_routes(config.alert_routes_raw, config.alert_routes_file, alerting)
    unknown = [r for r in alerting.routes if r not in routes]
    if unknown:
        file = config.files[-1] if config.files else config.alerts_file or config.drivers_file
        raise RuleError(file, "alerting.routes", f"unknown route {unknown[0]!r}; expected one of "
                                                 f"{', '.join(sorted(routes))} ([[alert_routes]] names)")  # fmt: skip
    drivers = [r.id for r in parse_rules(config.drivers_raw, config.drivers_file)]
    rules = parse_alert_rules(config.alerts_raw, config.alerts_file or config.drivers_file, drivers=drivers,
                              routes=routes, cooldown=alerting.cooldown)  # fmt: skip
    routes = dict(routes)
    for rule in rules:
        if rule.command:
            routes[f"{rule.id}:command"] = Route(f"{rule.id}:command", "command", rule.command,
                                                 timeout=alerting.command_timeout)  # fmt: skip
    return rules, routes


def alert_log_path(config: Config, mode: str) -> Path | None:
    """Where ``mode``'s alerts are kept: ``[alerting] log``, else the user data dir (demo: a file of its own);
    None for a replay (its alerts are history, not news)."""
    if mode == "replay":
        return None
    name = "alerts-demo.jsonl" if mode == "demo" else "alerts.jsonl"
    if config.alerting.log:
        path = Path(config.alerting.log).expanduser()
        return path if mode != "demo" or path.name.startswith("alerts-demo") else path.with_name(f"demo-{path.name}")
    from platformdirs import user_data_dir

    return Path(user_data_dir("altpulse", appauthor=False)) / name


# ------------------------------------------------------------------------------------------------ the log


class AlertLog:
    """The last alerts (what fired, where it was sent and how that went), in memory and in a JSON-lines file."""

    def __init__(self, path: Path | None, keep: int = KEEP) -> None:
        self.path = path
        self.entries: deque[dict[str, Any]] = deque(maxlen=keep)
        self.failed: str | None = None  # why the file is not written (then memory only)

    def add(self, alert: Alert) -> dict[str, Any]:
        entry = alert.to_json()
        entry["deliveries"] = [{"route": r, "status": "pending", "detail": ""} for r in alert.routes]
        self.entries.append(entry)
        self.write(entry)
        return entry

    def settle(self, entry: dict[str, Any], route: str, status: str, detail: str = "") -> None:
        for delivery in entry["deliveries"]:
            if delivery["route"] == route:
                delivery.update(status=status, detail=detail)
        if all(d["status"] != "pending" for d in entry["deliveries"]):
            self.write(entry)

    def write(self, entry: dict[str, Any]) -> None:
        if self.path is None or self.failed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)
                size = handle.tell()
            if size > FILE_MAX_BYTES:
                kept = self.path.read_text(encoding="utf-8").splitlines(keepends=True)[-KEEP * 10 // 2 :]
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text("".join(kept), encoding="utf-8")
                os.chmod(tmp, 0o600)
                tmp.replace(self.path)
        except OSError as exc:
            self.failed = f"alert log {self.path}: {exc.strerror or exc}"
            log.warning("%s; alerts are kept in memory only", self.failed)

    def recent(self, n: int = KEEP) -> list[dict[str, Any]]:
        return list(self.entries)[-n:]


def read_alert_log(path: Path | None, n: int = 50) -> list[dict[str, Any]]:
    """The last ``n`` alerts of a log file, oldest first (each alert's latest line: its settled deliveries)."""
    if path is None or not path.is_file():
        return []
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 400 * n * 4))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    latest: dict[str, dict[str, Any]] = {}
    for line in lines:
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if isinstance(doc, dict) and isinstance(doc.get("uid"), str):
                latest.pop(doc["uid"], None)  # re-insert: ordered by the latest line
                latest[doc["uid"]] = doc
    return list(latest.values())[-n:]


# ------------------------------------------------------------------------------------------------ delivery

#: A local route's handler: ``(alert, route) -> (status, detail)``; the console's toasts, the watcher's print.
LocalHandler = Callable[[Alert, Route], tuple[str, str]]


class Router:
    """Sends each alert to its routes; ``external=False`` (a follower console) skips all but toast and bell."""

    def __init__(self, routes: Mapping[str, Route], alert_log: AlertLog, *, local: LocalHandler | None = None,
                 external: bool = True, backoff: float = 1.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:  # fmt: skip
        self.routes = dict(routes)
        self.log = alert_log
        self.local = local
        self.external = external
        self.backoff = backoff
        self.transport = transport
        self.tasks: set[asyncio.Task[None]] = set()
        self.failures: dict[str, str] = {}  # route -> its last failure (cleared by a success)
        self.listeners: list[Callable[[dict[str, Any], str, str, str], None]] = []
        self._client: httpx.AsyncClient | None = None
        self._said: set[str] = set()

    @property
    def problem(self) -> str | None:
        """One line for the status bar while a route's last delivery failed."""
        if not self.failures:
            return None
        name, why = next(iter(self.failures.items()))
        more = f" (+{len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        return f"alert route {name} failed: {why}{more}"

    def dispatch(self, alert: Alert) -> dict[str, Any]:
        """Log ``alert`` and start its deliveries; returns its log entry (deliveries settle into it)."""
        entry = self.log.add(alert)
        for name in alert.routes:
            route = self.routes.get(name)
            if route is None:
                self._settle(entry, name, "failed", "no such route")
            elif route.local:
                status, detail = self.local(alert, route) if self.local else ("skipped", "no screen")
                self._settle(entry, name, status, detail)
            elif not self.external:
                self._settle(entry, name, "skipped", "a follower: the collector (collect --alerts) sends")
            else:
                try:
                    task = asyncio.get_running_loop().create_task(self._deliver(alert, route, entry))
                except RuntimeError:
                    self._settle(entry, name, "failed", "no event loop to deliver on")
                    continue
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        return entry

    def _settle(self, entry: dict[str, Any], route: str, status: str, detail: str) -> None:
        if status == "failed":
            self.failures[route] = detail
            log.warning("alert %s: route %s failed: %s", entry["uid"], route, detail)
        elif status == "sent":
            self.failures.pop(route, None)
        self.log.settle(entry, route, status, detail)
        for listener in self.listeners:
            listener(entry, route, status, detail)

    async def _deliver(self, alert: Alert, route: Route, entry: dict[str, Any]) -> None:
        try:
            if route.type == "command":
                status, detail = await self._run(route.command, alert, route.timeout)
            elif route.type == "notify-send":
                status, detail = await self._notify_send(alert, route)
            else:
                status, detail = await self._webhook(alert, route)
        except Exception as exc:  # a route bug must not take anything down; the log has it
            log.exception("alert route %s", route.name)
            status, detail = "failed", f"{type(exc).__name__}: {exc}"
        self._settle(entry, route.name, status, detail)

    async def _run(
        self, argv: Iterable[str], alert: Alert, timeout: float, stdin: bytes | None = None
    ) -> tuple[str, str]:
        argv = list(argv)
        payload = stdin if stdin is not None else (json.dumps(alert.to_json(), ensure_ascii=False) + "\n").encode()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            return "failed", f"{argv[0]}: {exc.strerror or exc}"
        try:
            _, err = await asyncio.wait_for(proc.communicate(payload), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
            return "failed", f"timed out after {timeout:g} s (killed)"
        if proc.returncode != 0:
            last = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            return "failed", f"exit {proc.returncode}" + (f": {last[0][:200]}" if last else "")
        return "sent", f"exit 0 in {argv[0]}"

    async def _notify_send(self, alert: Alert, route: Route) -> tuple[str, str]:
        program = shutil.which("notify-send")
        if program is None:
            if "notify-send" not in self._said:
                self._said.add("notify-send")
                log.info("notify-send is not installed: desktop notifications are skipped")
            return "skipped", "notify-send is not installed"
        urgency = "critical" if alert.state == "active" and alert.kind == "flip" else "normal"
        summary = "altpulse" + (" (SIMULATED)" if alert.simulated else " (REPLAY)" if alert.mode == "replay" else "")
        return await self._run([program, f"--urgency={urgency}", summary, alert.text], alert, route.timeout, b"")

    async def _webhook(self, alert: Alert, route: Route) -> tuple[str, str]:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, follow_redirects=False)
        headers = dict(route.headers)
        if route.template == "ntfy":
            body: bytes = alert.text.encode("utf-8")
            headers.setdefault("Title", _ascii(f"altpulse: {alert.name}"))
            if route.priority:
                headers.setdefault("Priority", route.priority)
            if route.tags:
                headers.setdefault("Tags", ",".join(route.tags))
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            doc: Any = alert.to_json()
            if route.template == "slack":
                doc = {"text": alert.text}
            elif route.template == "discord":
                doc = {"content": alert.text[:DISCORD_LIMIT]}
            body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        why = ""
        for attempt in range(route.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = await self._client.post(route.url, content=body, headers=headers, timeout=route.timeout)
            except httpx.TransportError as exc:
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            if response.is_success:
                return "sent", f"HTTP {response.status_code}" + (f" after {attempt} retries" if attempt else "")
            why = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                return "failed", why
        return "failed", f"{why} ({route.retries + 1} attempts)"

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (bounded) for the deliveries under way, e.g. before a watcher exits."""
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
            for task in pending:
                task.cancel()

    async def aclose(self) -> None:
        await self.drain(0.5)
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")
