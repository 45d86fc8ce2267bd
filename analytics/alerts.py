"""Alert rules: when a driver flips or a metric crosses a threshold, say so once, not on every tick.

Pure: no I/O, no clock of its own. The console (and ``altpulse watch``) hands :meth:`AlertEngine.evaluate` the
drivers' latest states, a metric lookup and the market time; it returns the alerts to deliver. Where they go is
the routes' business (:mod:`tui.runtime.alert_routes`).

Two kinds of rule, from config.toml's ``[[alerts]]`` (validated by :func:`parse_alert_rules`):

- **flip**: a key driver changed between active and clear (every driver, or the ones named in ``drivers``; only
  the states in ``to``). Unknown (data missing or stale) is not a state a driver flips to: the engine remembers each
  driver's last *known* state, so active -> unknown -> clear is one flip to clear, and active -> unknown -> active
  none at all.
- **threshold**: ``when = "METRIC OP NUMBER"`` over any metric the drivers use
  (:data:`analytics.drivers.KNOWN_METRICS`, with its window: ``btc_change(1h) < -3``, or ``long_liq_1h > 500e6``)
  and a coin's price or funding (:data:`analytics.drivers.COIN_METRICS`: ``price(SOL) < 120``, ``funding_8h(ETH) >
  0.0005``; a bare coin symbol is its price: ``BTC < 90000``). It is *active* while the comparison holds and
  *clear* once the value is back beyond the threshold by ``hysteresis`` (in the metric's unit): with ``BTC < 90000``
  and ``hysteresis = 500`` it fires below 90,000 and re-arms only above 90,500, so a price hovering on 90,000 fires
  once. A value that is unknown or stale changes nothing.

**Cool-down** (``cooldown`` seconds of market time, per rule and driver): after an alert fires, another for the
same subject waits. A change inside the cool-down is held, and sent when the cool-down ends only if the state it
reached still holds and differs from the last one sent, so a flapping driver costs one alert, and the trader is
never left believing a state that ended.

**The first state is not news.** The first known state of each subject (the console starting, a driver's data
arriving) is reported once as kind ``initial``, which is sent nowhere unless the rule says ``on_start = true``: a
restarted watcher does not page the trader for every driver that was already active.

Market time, not wall time, runs the cool-downs: a replay at x60 behaves as the same hour did live.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from analytics.drivers import (
    COIN_METRICS,
    KNOWN_METRICS,
    OPS,
    WINDOWED_METRICS,
    DriverState,
    MetricValue,
    RuleError,
    day_window_problem,
    format_metric,
    window_span,
)

__all__ = [
    "ALERT_SCHEMA",
    "BUILTIN_ROUTES",
    "Alert",
    "AlertEngine",
    "AlertRule",
    "Expression",
    "parse_alert_rules",
    "parse_expression",
]

#: The JSON schema name every alert carries (the object a command reads on stdin, a webhook receives).
ALERT_SCHEMA = "altpulse.alert/1"
#: Routes every config has without declaring them (``[[alert_routes]]`` adds named ones).
BUILTIN_ROUTES = ("toast", "bell", "notify-send")

Kind = Literal["flip", "threshold", "initial"]
Known = Literal["active", "clear"]
_STATES: tuple[Known, ...] = ("active", "clear")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_COIN_RE = re.compile(r"^[A-Z0-9]{2,15}$")
_EXPR_RE = re.compile(
    r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\(\s*([A-Za-z0-9]+)\s*\))?\s*(<=|>=|<|>)\s*"
    r"([-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*$"
)


@dataclass(frozen=True)
class Expression:
    """``metric(arg) op threshold``: ``arg`` is the window of a windowed metric or the coin of a coin metric."""

    metric: str
    arg: str | None
    op: str
    threshold: float

    @property
    def label(self) -> str:
        if self.metric == "price" and self.arg:
            return f"{self.arg} price"
        return f"{self.metric}({self.arg})" if self.arg else self.metric

    def test(self, value: float) -> bool:
        return OPS[self.op](value, self.threshold)  # type: ignore[index]

    def released(self, value: float, hysteresis: float) -> bool:
        """True when ``value`` is back beyond the threshold by ``hysteresis`` (the alert re-arms)."""
        if self.op in ("<", "<="):
            return value >= self.threshold + hysteresis and not self.test(value)
        return value <= self.threshold - hysteresis and not self.test(value)


def parse_expression(text: str) -> Expression:
    """``"BTC < 90000"``, ``"price(SOL) < 120"``, ``"funding_median_8h > 0.0003"``, ``"long_liq_1h > 500e6"``,
    ``"btc_change(1h) < -3"`` -> :class:`Expression`; ValueError saying what was expected otherwise."""
    match = _EXPR_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("expected 'METRIC OP NUMBER', e.g. 'BTC < 90000', 'funding_median_8h > 0.0003', "
                         "'long_liq_1h > 500e6' or 'price(SOL) < 120'")  # fmt: skip
    name, arg, op, number = match.groups()
    threshold = float(number.replace("_", ""))
    if not math.isfinite(threshold):
        raise ValueError(f"expected a finite threshold, got {number}")
    if name in COIN_METRICS:
        coin = (arg or ("BTC" if name == "price" else "")).upper()
        if not _COIN_RE.match(coin):
            raise ValueError(f"{name} takes a coin: {name}(SOL)")
        return Expression(name, coin, op, threshold)
    if name in KNOWN_METRICS:
        return Expression(name, _window_arg(name, arg), op, threshold)
    suffix = re.match(r"^(.+)_([1-9][0-9]{0,4}[mhdw])$", name)
    if suffix and suffix.group(1) in WINDOWED_METRICS and arg is None:  # long_liq_1h = long_liq(1h)
        return Expression(suffix.group(1), _window_arg(suffix.group(1), suffix.group(2)), op, threshold)
    if _COIN_RE.match(name) and arg is None:  # a coin symbol alone is its price
        return Expression("price", name, op, threshold)
    known = ", ".join([*KNOWN_METRICS, *COIN_METRICS])
    raise ValueError(f"unknown metric {name!r}: expected a coin symbol (its price) or one of {known}")


def _window_arg(metric: str, arg: str | None) -> str | None:
    if metric not in WINDOWED_METRICS:
        if arg is not None:
            raise ValueError(f"{metric} is point-in-time and takes no window")
        return None
    if arg is None:
        raise ValueError(f"{metric} needs a window, e.g. {metric}(24h) or {metric}_24h")
    window_span(arg)  # ValueError with the expected form
    problem = day_window_problem(metric, arg)
    if problem:
        raise ValueError(problem)
    return arg


@dataclass(frozen=True)
class AlertRule:
    """One ``[[alerts]]`` entry. ``routes`` None: the default routes (``[alerting] routes``)."""

    id: str
    kind: Literal["flip", "threshold"]
    to: tuple[Known, ...]
    cooldown: float  # seconds of market time
    drivers: tuple[str, ...] = ()  # flip: () = every driver
    expression: Expression | None = None  # threshold
    when: str = ""  # the expression as written
    hysteresis: float = 0.0
    routes: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None  # an inline command route (argv, no shell)
    on_start: bool = False
    enabled: bool = True
    name: str = ""

    def route_names(self, default: Sequence[str]) -> tuple[str, ...]:
        names = tuple(default) if self.routes is None else self.routes
        return (*names, f"{self.id}:command") if self.command else names


_RULE_KEYS = ("id", "name", "when", "drivers", "to", "hysteresis", "cooldown", "routes", "command", "on_start",
              "enabled")  # fmt: skip


def _fail(file: str, path: str, expected: str) -> RuleError:
    return RuleError(file, path, expected)


def _seconds(value: Any, file: str, path: str) -> float:
    """A cool-down: seconds (a number >= 0) or a window string (``"5m"``, ``"1h"``)."""
    if isinstance(value, bool):
        raise _fail(file, path, "expected seconds (a number >= 0) or a duration like '5m'")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise _fail(file, path, f"expected seconds >= 0, got {value!r}")
        return float(value)
    try:
        return window_span(value).total_seconds()
    except ValueError:
        raise _fail(file, path, f"expected seconds (a number >= 0) or a duration like '5m', got {value!r}") from None


def _str_list(value: Any, file: str, path: str, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(file, path, f"expected a list of {what}")
    return tuple(value)


def parse_alert_rules(
    raw: Any, file: str, *, drivers: Iterable[str], routes: Iterable[str], cooldown: float
) -> list[AlertRule]:
    """Validate ``[[alerts]]`` (as tomllib loads it) into rules; ``drivers`` and ``routes`` are the ids a rule may
    name (the configured drivers; :data:`BUILTIN_ROUTES` and the ``[[alert_routes]]`` names), ``cooldown`` the
    default (``[alerting] cooldown``).

    Keys: ``id`` (required, letters/digits/``_``/``-``, unique); ``when`` (a threshold rule, see
    :func:`parse_expression`) or else a flip rule with ``drivers`` (driver ids; default every driver); ``to``
    (``"active"``, ``"clear"`` or both; default both for flips, ``"active"`` for thresholds); ``hysteresis`` (>= 0,
    thresholds only); ``cooldown`` (seconds or ``"5m"``); ``routes`` (route names); ``command`` (a command run
    without a shell: a string split like a shell would, or an array of arguments); ``on_start`` (send the first
    state too); ``enabled``; ``name``. Every problem is a :class:`~analytics.drivers.RuleError` naming the file and
    the key path (``alerts[2].when``); the config loader adds the line.
    """
    if not isinstance(raw, list):
        raise _fail(file, "alerts", "expected an array of tables ([[alerts]])")
    known_drivers, known_routes = set(drivers), set(routes)
    rules: list[AlertRule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        path = f"alerts[{i}]"
        if not isinstance(item, dict):
            raise _fail(file, path, "expected a table")
        for key in item:
            if key not in _RULE_KEYS:
                raise _fail(file, f"{path}.{key}", f"unknown key {key!r}; expected one of {', '.join(_RULE_KEYS)}")
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
            raise _fail(file, f"{path}.id", "expected an id of letters, digits, '_' or '-' (required)")
        if rule_id in seen:
            used = f"alerts[{seen[rule_id]}]"
            raise _fail(file, f"{path}.id", f"expected a unique id; {rule_id!r} is already used by {used}")
        seen[rule_id] = i
        kind: Literal["flip", "threshold"] = "threshold" if "when" in item else "flip"
        expression = None
        if kind == "threshold":
            if "drivers" in item:
                raise _fail(file, f"{path}.drivers", "a rule has either when (a threshold) or drivers (flips)")
            try:
                expression = parse_expression(item["when"])
            except ValueError as exc:
                raise _fail(file, f"{path}.when", str(exc)) from None
        chosen: tuple[str, ...] = ()
        if "drivers" in item:
            chosen = _str_list(item["drivers"], file, f"{path}.drivers", "driver ids")
            unknown = [d for d in chosen if d not in known_drivers]
            if unknown:
                raise _fail(file, f"{path}.drivers", f"unknown driver {unknown[0]!r}; expected one of "
                                                     f"{', '.join(sorted(known_drivers))}")  # fmt: skip
        to = _str_list(item.get("to", list(_STATES) if kind == "flip" else ["active"]), file, f"{path}.to",
                       '"active" and/or "clear"')  # fmt: skip
        if not to or any(t not in _STATES for t in to):
            raise _fail(file, f"{path}.to", 'expected "active", "clear" or ["active", "clear"]')
        hysteresis = item.get("hysteresis", 0.0)
        if isinstance(hysteresis, bool) or not isinstance(hysteresis, int | float) or not hysteresis >= 0:
            expected = f"expected a number >= 0 (in the metric's unit), got {hysteresis!r}"
            raise _fail(file, f"{path}.hysteresis", expected)
        if hysteresis and kind == "flip":
            raise _fail(file, f"{path}.hysteresis", "only a threshold rule (when = ...) has a hysteresis")
        rule_cooldown = _seconds(item.get("cooldown", cooldown), file, f"{path}.cooldown")
        routes_named = None
        if "routes" in item:
            routes_named = _str_list(item["routes"], file, f"{path}.routes", "route names") if item["routes"] else ()
            unknown = [r for r in routes_named if r not in known_routes]
            if unknown:
                raise _fail(
                    file,
                    f"{path}.routes",
                    f"unknown route {unknown[0]!r}; expected one of "
                    f"{', '.join(sorted(known_routes))} ([[alert_routes]] names)",
                )
        command = _command(item["command"], file, f"{path}.command") if "command" in item else None
        flags = {}
        for key in ("on_start", "enabled"):
            value = item.get(key, key == "enabled")
            if not isinstance(value, bool):
                raise _fail(file, f"{path}.{key}", f"expected true or false, got {value!r}")
            flags[key] = value
        name = item.get("name", "")
        if not isinstance(name, str):
            raise _fail(file, f"{path}.name", "expected a string")
        rules.append(AlertRule(rule_id, kind, tuple(to), rule_cooldown, chosen, expression,  # type: ignore[arg-type]
                               item.get("when", ""), float(hysteresis), routes_named, command,
                               flags["on_start"], flags["enabled"], name))  # fmt: skip
    return rules


def _command(value: Any, file: str, path: str) -> tuple[str, ...]:
    """A command as argv (never through a shell): an array of strings, or a string split by shell rules."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise _fail(file, path, f"cannot split the command: {exc}") from None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        raise _fail(file, path, 'expected a command string ("notify.py --loud") or an array of arguments')
    if not argv or not argv[0]:
        raise _fail(file, path, "expected a non-empty command")
    return tuple(argv)


# ---------------------------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Alert:
    """One alert: what fired, about what, and where it is going. :meth:`to_json` is the documented object."""

    rule: str
    kind: Kind
    subject: str  # the driver id, or the threshold's metric label
    name: str
    state: Known
    previous: Known | None
    value: float | None
    threshold: float | None
    time_ms: int  # market time
    mode: str  # live | demo | replay | follow
    simulated: bool
    text: str
    routes: tuple[str, ...]
    seq: int = 0

    @property
    def uid(self) -> str:
        return f"{self.time_ms}-{self.rule}-{self.subject}-{self.seq}"

    def to_json(self) -> dict[str, Any]:
        import datetime as dt

        stamp = dt.datetime.fromtimestamp(self.time_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "schema": ALERT_SCHEMA, "uid": self.uid, "id": self.rule, "kind": self.kind, "subject": self.subject,
            "name": self.name, "state": self.state, "previous": self.previous, "value": _finite(self.value),
            "threshold": _finite(self.threshold), "time": stamp, "mode": self.mode, "simulated": self.simulated,
            "text": self.text, "routes": list(self.routes),
        }  # fmt: skip


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


#: What an alert says: (name, value, threshold, text), made from the new state and the previous one.
_Made = tuple[str, float | None, float | None, str]
_Make = Callable[[Known, Known | None], _Made]


@dataclass
class _Track:
    """One rule's memory of one subject: its last known state, what was last sent and when, what is held."""

    known: Known | None = None
    sent: Known | None = None
    sent_at: float | None = None
    held: Known | None = None


@dataclass
class AlertEngine:
    """Evaluates the rules against each new look at the market; keeps the per-subject memory the rules need.

    ``mode``/``simulated`` mark every alert: the text of a simulated (demo) alert starts ``[SIMULATED]``, a
    replay's ``[REPLAY]``, and the JSON says ``mode`` and ``simulated``."""

    rules: Sequence[AlertRule]
    default_routes: Sequence[str] = ("toast",)
    mode: str = "live"
    simulated: bool = False
    tracks: dict[tuple[str, str], _Track] = field(default_factory=dict)
    _seq: int = 0

    @property
    def prefix(self) -> str:
        if self.simulated:
            return "[SIMULATED] "
        return "[REPLAY] " if self.mode == "replay" else ""

    def evaluate(
        self,
        now_ms: int,
        drivers: Sequence[DriverState] | None = None,
        lookup: Callable[[str, str | None], MetricValue | None] | None = None,
    ) -> list[Alert]:
        """The alerts due at market time ``now_ms``: flip rules read ``drivers`` (skipped when None), threshold
        rules ``lookup(metric, arg)`` (skipped when None)."""
        out: list[Alert] = []
        for rule in self.rules:
            if not rule.enabled:
                continue
            if rule.kind == "flip" and drivers is not None:
                for driver in drivers:
                    if rule.drivers and driver.id not in rule.drivers:
                        continue
                    state: Known | None = driver.state if driver.state in _STATES else None
                    out += self._step(rule, driver.id, state, now_ms, partial(self._flip, rule, driver))
            elif rule.kind == "threshold" and lookup is not None and rule.expression is not None:
                value = _lookup(lookup, rule.expression)
                crossing = self._threshold_state(rule, value)
                out += self._step(rule, rule.expression.label, crossing, now_ms, partial(self._crossing, rule, value))
        return out

    def _threshold_state(self, rule: AlertRule, value: float | None) -> Known | None:
        expr = rule.expression
        if value is None or expr is None:
            return None  # unknown or stale: no news either way
        track = self.tracks.get((rule.id, expr.label))
        if track is not None and track.known == "active":
            return "clear" if expr.released(value, rule.hysteresis) else "active"
        return "active" if expr.test(value) else "clear"

    def _step(self, rule: AlertRule, subject: str, state: Known | None, now_ms: int, make: _Make) -> list[Alert]:
        track = self.tracks.setdefault((rule.id, subject), _Track())
        now = now_ms / 1000
        out: list[Alert] = []
        if state is not None and track.known is None:
            track.known = state
            routes = rule.route_names(self.default_routes) if rule.on_start else ()
            if rule.on_start:
                track.sent, track.sent_at = state, now
            out.append(self._alert(rule, "initial", subject, state, None, now_ms, routes, make))
            return out
        if state is not None and state != track.known:
            previous, track.known = track.known, state
            if state in rule.to:
                if track.sent_at is not None and now - track.sent_at < rule.cooldown:
                    track.held = state  # sent when the cool-down ends, if it still holds
                else:
                    track.held = None
                    track.sent, track.sent_at = state, now
                    out.append(self._alert(rule, rule.kind, subject, state, previous, now_ms,
                                           rule.route_names(self.default_routes), make))  # fmt: skip
            else:
                track.held = None  # a held change that went back before the cool-down ended is no news
        if track.held is not None and track.sent_at is not None and now - track.sent_at >= rule.cooldown:
            held, track.held = track.held, None
            if held == track.known and held != track.sent:
                previous = track.sent
                track.sent, track.sent_at = held, now
                out.append(self._alert(rule, rule.kind, subject, held, previous, now_ms,
                                       rule.route_names(self.default_routes), make, late=True))  # fmt: skip
        return out

    def _alert(self, rule: AlertRule, kind: Kind, subject: str, state: Known, previous: Known | None, now_ms: int,
               routes: tuple[str, ...], make: _Make, *, late: bool = False) -> Alert:  # fmt: skip
        name, value, threshold, text = make(state, previous)
        if kind == "initial":
            text = f"at start: {text}"
        if late:
            text += " (held through the cool-down)"
        self._seq += 1
        return Alert(rule.id, kind, subject, rule.name or name, state, previous, value, threshold, now_ms, self.mode,
                     self.simulated, self.prefix + text, routes, self._seq)  # fmt: skip

    @staticmethod
    def _flip(rule: AlertRule, driver: DriverState, state: Known, previous: Known | None) -> _Made:
        first = driver.values[0] if driver.values else None
        value = first.metric.value if first is not None and first.metric is not None else None
        threshold = first.condition.threshold if first is not None else None
        text = f"{driver.name}: now {state.upper()} ({driver.display_value}, rule {driver.display_threshold})"
        return driver.name, value, threshold, text

    @staticmethod
    def _crossing(rule: AlertRule, value: float | None, state: Known, previous: Known | None) -> _Made:
        expr = rule.expression
        assert expr is not None
        shown, limit = format_metric(expr.metric, value), format_metric(expr.metric, expr.threshold)
        if state == "active":
            text = f"{rule.name or rule.when}: {expr.label} {shown} {expr.op} {limit}"
        else:
            text = f"{rule.name or rule.when} no longer holds: {expr.label} {shown}"
        return rule.when, value, expr.threshold, text


def _lookup(lookup: Callable[[str, str | None], MetricValue | None], expr: Expression) -> float | None:
    """The metric's value when it can decide (present, finite, not stale), else None; a failing lookup is None."""
    try:
        mv = lookup(expr.metric, expr.arg)
    except Exception:  # a metric bug must not stop the other rules
        return None
    if mv is None or not mv.usable or mv.value is None:
        return None
    return float(mv.value)


def rules_by_id(rules: Iterable[AlertRule]) -> Mapping[str, AlertRule]:
    return {r.id: r for r in rules}
