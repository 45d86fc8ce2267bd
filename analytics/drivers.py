"""The key-drivers engine: configurable threshold rules over market metrics, evaluated with three-valued
logic.

A *driver* is a named market condition a trader watches ("ETF outflows", "Crowded leverage", ...). Each is a
:class:`Rule` of one or more :class:`Condition` s ``metric(window) op threshold``, combined with ``all`` or
``any``. Rules come from ``config.toml``'s ``[[drivers]]`` array of tables (validated by :func:`parse_rules`).
The shipped set (design.md section 4) lives in the top-level config.toml beside every other default and reaches
this module through the console's config loader: analytics does no file I/O. Metric values come from elsewhere
through a lookup callable, so this module knows nothing about where a number comes from.

Three-valued logic. A condition is *true*, *false* or *unknown* (its metric is missing, None, NaN or stale):

==========  ======================================  ======================================
mode        active                                  clear
==========  ======================================  ======================================
all         every condition true                    at least one condition false
any         at least one condition true             every condition false
==========  ======================================  ======================================

Otherwise the driver is *unknown* (Kleene logic: a false makes ``all`` false and a true makes ``any`` true
even when other inputs are unknown, because no value of the unknowns could change the answer). Stale numbers
never decide a driver.

Windows are strings ``<n><unit>`` with unit ``m`` (minutes), ``h``, ``d`` or ``w``; for the ETF metrics a
window in days counts *trading* days (the metric provider applies that calendar), for the rest it is
wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    import pandas as pd
# pandas is imported where a rule is evaluated, not here: the config loader validates [[drivers]] with this module
# before the console's first frame, and pandas would add a quarter of a second to it.

__all__ = [
    "COIN_METRICS",
    "KNOWN_METRICS",
    "MAX_WINDOW",
    "OPS",
    "WINDOWED_METRICS",
    "Condition",
    "ConditionResult",
    "DriverState",
    "MetricValue",
    "Rule",
    "RuleError",
    "day_window_problem",
    "evaluate",
    "format_metric",
    "parse_rules",
    "parse_window",
    "summary",
    "window_span",
]

Op = Literal["<", "<=", ">", ">="]
Mode = Literal["all", "any"]
State = Literal["active", "clear", "unknown"]
Trend = Literal["up", "down", "flat"]

OPS: dict[Op, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
MODES: tuple[Mode, ...] = ("all", "any")

KNOWN_METRICS: dict[str, str] = {
    "etf_net_flow_sum": "US spot BTC ETF net flow, sum of the last N trading days (USD; window in days)",
    "etf_outflow_streak": "US spot BTC ETF days in a row of net outflow (days)",
    "etf_min_daily_flow": "US spot BTC ETF most negative single-day net flow within the window (USD)",
    "basket_cvd_change": "altcoin basket spot CVD change over the window (USD)",
    "basket_buy_sell_ratio": "altcoin basket taker buy/sell quote-volume ratio over the window (ratio)",
    "funding_median_8h": "median perp funding rate across top coins, 8h-equivalent (fraction per 8h)",
    "funding_share_above_baseline": "share of top perps funding above the 0.01%/8h baseline (fraction 0..1)",
    "long_liq_vs_median": "long liquidations in the last hour / their hourly median over the window (ratio)",
    "btc_change": "BTC price change over the window (percent)",
    "oi_change": "aggregate perp open interest change over the window (percent)",
    "smallcap_vs_largecap": "return of the 50 smallest minus the 50 largest of the top 100 (pct points)",
    "btc_dominance_change": "BTC dominance change over the window (points)",
    "stablecoin_share_change": "stablecoin share of total crypto market cap, change over the window (points)",
    "fear_greed": "Crypto Fear & Greed index (0-100)",
    "spy_change": "SPY change over the window (percent)",
    "us2y_change": "US 2-year Treasury yield change over the window (percentage points)",
    "long_liq": "USD of long positions liquidated within the window, every taped venue (USD)",
    "short_liq": "USD of short positions liquidated within the window, every taped venue (USD)",
}

#: Metrics of one coin (``price(SOL)``, ``funding_8h(ETH)``): alert rules name the coin where a driver names a
#: window (``analytics.alerts``); the checklist's rules take none (they are about the whole market).
COIN_METRICS: dict[str, str] = {
    "price": "a coin's last price in the quote asset (BTC: the Binance spot ticker; alts: their latest bar's close)",
    "funding_8h": "a coin's funding rate, the median over the fresh venues, 8h-equivalent (fraction per 8h)",
}

# Metrics that are defined over a window; the others are point-in-time and take none.
WINDOWED_METRICS: frozenset[str] = frozenset({
    "etf_net_flow_sum", "etf_min_daily_flow", "basket_cvd_change", "basket_buy_sell_ratio",
    "long_liq_vs_median", "btc_change", "oi_change", "smallcap_vs_largecap", "btc_dominance_change",
    "stablecoin_share_change", "spy_change", "us2y_change", "long_liq", "short_liq",
})  # fmt: skip
# ETF data is daily: their windows must be whole days (counted as trading days).
_DAY_WINDOW_METRICS = frozenset({"etf_net_flow_sum", "etf_min_daily_flow"})

# How each metric is displayed (see format_metric).
_METRIC_UNIT: dict[str, str] = {
    "etf_net_flow_sum": "usd", "etf_outflow_streak": "days", "etf_min_daily_flow": "usd",
    "basket_cvd_change": "usd", "basket_buy_sell_ratio": "ratio", "funding_median_8h": "rate",
    "funding_share_above_baseline": "share", "long_liq_vs_median": "multiple", "btc_change": "pct",
    "oi_change": "pct", "smallcap_vs_largecap": "pp", "btc_dominance_change": "pp",
    "stablecoin_share_change": "pp", "fear_greed": "index", "spy_change": "pct", "us2y_change": "pp",
    "long_liq": "usd", "short_liq": "usd", "price": "price", "funding_8h": "rate",
}  # fmt: skip

MAX_WINDOW = dt.timedelta(days=3650)
_WINDOW_RE = re.compile(r"^([1-9][0-9]{0,4})([mhdw])$")
_WINDOW_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class RuleError(ValueError):
    """An invalid ``[[drivers]]`` entry. The message names the file, the key path and what was expected."""

    def __init__(self, file: str, path: str, expected: str) -> None:
        super().__init__(f"{file}: {path}: {expected}")
        self.file = file
        self.path = path
        self.expected = expected


def parse_window(s: str) -> pd.Timedelta:
    """A window string -> Timedelta: ``"15m"``, ``"1h"``, ``"24h"``, ``"3d"``, ``"2w"`` (positive integer +
    unit).

    Raises ``ValueError`` for anything else (including ``"0d"``, ``"1.5h"``, ``" 1h"``, ``"1H"``) and for
    windows longer than :data:`MAX_WINDOW` (10 years: no market history here is longer).
    """
    import pandas as pd

    return pd.Timedelta(_window_span(s))


def window_span(s: str) -> dt.timedelta:
    """:func:`parse_window` as a ``datetime.timedelta`` (no pandas: config validation runs before first paint)."""
    return _window_span(s)


def day_window_problem(metric: str, window: str) -> str | None:
    """Why ``window`` does not suit ``metric`` (ETF metrics count whole trading days), or None."""
    if metric in _DAY_WINDOW_METRICS and _window_span(window) % dt.timedelta(days=1):
        return f"expected whole (trading) days for {metric}, e.g. '3d'"
    return None


def _window_span(s: str) -> dt.timedelta:
    """:func:`parse_window` without pandas (what validating a config needs)."""
    match = _WINDOW_RE.match(s) if isinstance(s, str) else None
    if match is None:
        raise ValueError(f"expected a window like '1h', '24h', '3d' or '30d' (integer + m/h/d/w), got {s!r}")
    span = dt.timedelta(**{_WINDOW_UNITS[match.group(2)]: int(match.group(1))})
    if span > MAX_WINDOW:
        raise ValueError(f"expected a window of at most 10 years, got {s!r}")
    return span


@dataclass(frozen=True)
class Condition:
    """One comparison ``metric(window) op threshold``; ``window`` is None for point-in-time metrics."""

    metric: str
    op: Op
    threshold: float
    window: str | None = None

    def test(self, value: float) -> bool:
        """The comparison on a known value."""
        return OPS[self.op](value, self.threshold)

    @property
    def label(self) -> str:
        """``metric`` or ``metric(window)``, the way the checklist names the input."""
        return f"{self.metric}({self.window})" if self.window else self.metric


@dataclass(frozen=True)
class Rule:
    """A driver: conditions combined with ``all``/``any``; ``meaning`` is the one line shown to the trader."""

    id: str
    name: str
    meaning: str
    conditions: list[Condition]
    mode: Mode = "all"
    enabled: bool = True


@dataclass(frozen=True)
class MetricValue:
    """A metric's current value with its as-of time; ``stale`` values are shown but never decide a driver."""

    value: float | None
    as_of: pd.Timestamp | None
    stale: bool = False
    note: str = ""
    quality: str = ""  # what the value rests on, always shown (e.g. "counting bybit, okx; left out: binance silent")

    @property
    def usable(self) -> bool:
        """True when the value can decide a condition: present, a finite number, and not stale."""
        return (not self.stale and self.value is not None and isinstance(self.value, int | float)
                and not isinstance(self.value, bool) and math.isfinite(self.value))  # fmt: skip


class ConditionResult(NamedTuple):
    """One condition's evaluation: the metric as looked up (None = missing) and True/False/None (unknown)."""

    condition: Condition
    metric: MetricValue | None
    result: bool | None


@dataclass(frozen=True)
class DriverState:
    """A driver's evaluated state for the checklist.

    ``display_value``/``display_threshold`` describe the first condition (e.g. ``"-$120.0M"`` and ``"< $0"``);
    ``detail`` is a compact line over all conditions. ``since`` is when the current state began as observed
    by this process, and ``since_exact`` says whether that is when it *began*: True only when this process saw it
    begin (a change from a known state); False when the state already held when first known (at start-up, or when
    data came back), so it began at or before ``since``. ``changed`` is True when the state differs from a
    previous evaluation; ``trend`` is the direction of the first condition's value at its latest update (see
    :func:`evaluate`).
    """

    id: str
    name: str
    meaning: str
    state: State
    values: list[ConditionResult]
    display_value: str
    display_threshold: str
    detail: str
    since: pd.Timestamp | None
    changed: bool
    trend: Trend | None
    mode: Mode = "all"
    since_exact: bool = False

    @property
    def first_value(self) -> MetricValue | None:
        return self.values[0].metric if self.values else None

    @property
    def quality(self) -> str:
        """The data-quality notes of its metrics (what the figures rest on), joined; "" when none."""
        notes = [v.metric.quality for v in self.values if v.metric is not None and v.metric.quality]
        return "; ".join(dict.fromkeys(notes))


# ---------------------------------------------------------------------------------------------- validation


def _fail(file: str, path: str, expected: str, got: Any = None, *, show_got: bool = True) -> RuleError:
    text = f"{expected}, got {_show(got)}" if show_got else expected
    return RuleError(file, path, text)


def _show(value: Any) -> str:
    """A short, safe rendering of an offending value for an error message."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    kinds: dict[type, str] = {dict: "a table", list: "an array", tuple: "an array"}
    return kinds.get(type(value), type(value).__name__)


_RULE_KEYS = ("id", "name", "meaning", "mode", "enabled", "conditions")
_CONDITION_KEYS = ("metric", "op", "threshold", "window")


def _check_keys(item: Mapping[Any, Any], allowed: Iterable[str], file: str, path: str) -> None:
    allowed = tuple(allowed)
    for key in item:
        if not isinstance(key, str) or key not in allowed:
            where = f"{path}.{key}" if isinstance(key, str) else path
            expected = f"unknown key {_show(key)}; expected one of {', '.join(allowed)}"
            raise _fail(file, where, expected, show_got=False)


def _require_str(item: Mapping[Any, Any], key: str, file: str, path: str) -> str:
    if key not in item:
        raise _fail(file, f"{path}.{key}", "missing required key (expected a string)", show_got=False)
    value = item[key]
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, f"{path}.{key}", "expected a non-empty string", value)
    return value


def _parse_condition(raw: Any, file: str, path: str) -> Condition:
    if not isinstance(raw, dict):
        raise _fail(file, path, "expected a table with metric, op, threshold and optional window", raw)
    _check_keys(raw, _CONDITION_KEYS, file, path)
    metric = _require_str(raw, "metric", file, path)
    if metric not in KNOWN_METRICS:
        raise _fail(file, f"{path}.metric", f"expected a known metric ({', '.join(KNOWN_METRICS)})", metric)
    if "op" not in raw:
        raise _fail(file, f"{path}.op", "missing required key (expected one of <, <=, >, >=)", show_got=False)
    op = raw["op"]
    if not isinstance(op, str) or op not in OPS:
        raise _fail(file, f"{path}.op", "expected one of <, <=, >, >=", op)
    if "threshold" not in raw:
        raise _fail(file, f"{path}.threshold", "missing required key (expected a number)", show_got=False)
    threshold = raw["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise _fail(file, f"{path}.threshold", "expected a number", threshold)
    try:
        finite = math.isfinite(threshold)
    except OverflowError:  # an integer beyond float range
        finite = False
    if not finite:
        raise _fail(file, f"{path}.threshold", "expected a finite number", threshold)
    window = raw.get("window")
    if window is not None:
        try:
            span = _window_span(window)
        except ValueError as exc:
            raise _fail(file, f"{path}.window", str(exc), show_got=False) from None
        if metric not in WINDOWED_METRICS:
            raise _fail(
                file,
                f"{path}.window",
                f"metric {metric} is point-in-time and takes no window; remove the key",
                window,
            )
        if metric in _DAY_WINDOW_METRICS and span % dt.timedelta(days=1):
            raise _fail(
                file, f"{path}.window", f"expected whole (trading) days for {metric}, e.g. '3d'", window
            )
    elif metric in WINDOWED_METRICS:
        expected = f"missing window for {metric} (expected e.g. '24h' or '30d')"
        raise _fail(file, f"{path}.window", expected, show_got=False)
    return Condition(metric=metric, op=op, threshold=float(threshold), window=window)


def parse_rules(raw: Any, file: str) -> list[Rule]:
    """Validate the TOML ``[[drivers]]`` array of tables (as loaded by tomllib) into :class:`Rule` objects.

    Keys per driver: ``id`` (string of letters, digits, ``_``/``-``; unique), ``name``, ``meaning`` (non-empty
    strings), ``mode`` (``"all"``/``"any"``, default ``"all"``), ``enabled`` (bool, default true),
    ``conditions`` (non-empty array of tables: ``metric`` from :data:`KNOWN_METRICS`, ``op`` one of ``<, <=,
    >, >=``, ``threshold`` a finite number, ``window`` as :func:`parse_window` — required for
    :data:`WINDOWED_METRICS`, forbidden for point-in-time ones, whole days for the ETF metrics). Unknown keys
    are errors.

    Every problem raises :class:`RuleError` naming ``file``, the key path (``drivers[3].conditions[0].op``)
    and what was expected, e.g. ``config.toml: drivers[3].conditions[0].op: expected one of <, <=, >, >=, got
    '=<'``.
    """
    if not isinstance(raw, list):
        raise _fail(file, "drivers", "expected an array of tables ([[drivers]])", raw)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        path = f"drivers[{i}]"
        if not isinstance(item, dict):
            raise _fail(file, path, "expected a table", item)
        _check_keys(item, _RULE_KEYS, file, path)
        rule_id = _require_str(item, "id", file, path)
        if not _ID_RE.match(rule_id):
            raise _fail(file, f"{path}.id", "expected letters, digits, '_' or '-' only", rule_id)
        if rule_id in seen:
            expected = f"expected a unique id; {rule_id!r} is already used by drivers[{seen[rule_id]}]"
            raise _fail(file, f"{path}.id", expected, show_got=False)
        seen[rule_id] = i
        name = _require_str(item, "name", file, path)
        meaning = _require_str(item, "meaning", file, path)
        mode = item.get("mode", "all")
        if not isinstance(mode, str) or mode not in MODES:
            raise _fail(file, f"{path}.mode", "expected one of all, any", mode)
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _fail(file, f"{path}.enabled", "expected a boolean (true/false)", enabled)
        if "conditions" not in item:
            expected = "missing required key (expected a non-empty array of tables)"
            raise _fail(file, f"{path}.conditions", expected, show_got=False)
        raw_conditions = item["conditions"]
        if not isinstance(raw_conditions, list) or not raw_conditions:
            raise _fail(file, f"{path}.conditions", "expected a non-empty array of tables", raw_conditions)
        conditions = [
            _parse_condition(c, file, f"{path}.conditions[{k}]") for k, c in enumerate(raw_conditions)
        ]
        rules.append(
            Rule(id=rule_id, name=name, meaning=meaning, conditions=conditions, mode=mode, enabled=enabled)
        )
    return rules


# ---------------------------------------------------------------------------------------------- formatting


def _usd(value: float) -> str:
    sign = "-" if value < 0 else ""
    mag = abs(value)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if mag >= div:
            return f"{sign}${mag / div:.1f}{suffix}"
    return f"{sign}${mag:.0f}"


def format_metric(metric: str, value: float | None) -> str:
    """A metric value as the checklist shows it, in the metric's unit (``"?"`` when unknown).

    USD -> ``-$1.2B``; funding fraction per 8h -> percent with 4 decimals (``0.0100%``); shares -> ``60%``;
    ratios -> ``0.970``; multiples -> ``5.0x``; percent -> ``-2.00%``; points -> ``+1.00pt``; index -> ``25``;
    days -> ``3d``.
    """
    if (
        value is None
        or not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
    ):
        return "?"
    unit = _METRIC_UNIT.get(metric, "")
    if unit == "usd":
        return _usd(value)
    if unit == "rate":
        return f"{value * 100:.4f}%"
    if unit == "share":
        return f"{value * 100:.0f}%"
    if unit == "ratio":
        return f"{value:.3f}"
    if unit == "multiple":
        return f"{value:.1f}x"
    if unit == "pct":
        return f"{value:+.2f}%"
    if unit == "pp":
        return f"{value:+.2f}pt"
    if unit == "index":
        return f"{value:.0f}"
    if unit == "price":
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.6g}"
    if unit == "days":
        return f"{value:.0f}d"
    return f"{value:g}"


def _condition_text(res: ConditionResult) -> str:
    cond = res.condition
    mark = {True: "✓", False: "✗", None: "?"}[res.result]
    value = format_metric(cond.metric, res.metric.value if res.metric is not None else None)
    if res.metric is not None and res.metric.stale and value != "?":
        value += " (stale)"
    return f"{cond.label} {value} {cond.op} {format_metric(cond.metric, cond.threshold)} {mark}"


# ---------------------------------------------------------------------------------------------- evaluation


def _combine(results: list[bool | None], mode: Mode) -> State:
    """Kleene three-valued ``all``/``any`` -> active/clear/unknown (see the module docstring's table)."""
    if mode == "all":
        if any(r is False for r in results):
            return "clear"
        return "active" if all(r is True for r in results) else "unknown"
    if any(r is True for r in results):
        return "active"
    return "clear" if all(r is False for r in results) else "unknown"


def _lookup(
    metric_lookup: Callable[[str, str | None], MetricValue | None], cond: Condition
) -> MetricValue | None:
    """Look a metric up; a failing lookup makes the condition unknown instead of breaking the checklist."""
    try:
        return metric_lookup(cond.metric, cond.window)
    except Exception as exc:  # a metric bug must not take down every other driver
        return MetricValue(None, None, note=f"lookup failed: {type(exc).__name__}: {exc}")


def _decisive(mv: MetricValue) -> float | None:
    """The value as a float when it can decide a condition (:attr:`MetricValue.usable`), else None."""
    if mv.value is None or not mv.usable:  # usable implies a value: the first test is for the type checker
        return None
    return float(mv.value)


def _trend(rule: Rule, current: MetricValue | None, prev: DriverState | None) -> Trend | None:
    """Direction of the first condition's value at its latest update.

    A new datum (a different ``as_of`` or a different value) is compared with the previous evaluation's value:
    up / down / flat (equal within 1e-9 relative). The same datum seen again (same ``as_of`` and value) keeps
    the previous trend, so a 1 Hz re-evaluation of a daily figure does not turn every arrow into "flat".
    None when either value is unusable or the first condition changed (rule retuned).
    """
    if prev is None or not prev.values or current is None or (b := _decisive(current)) is None:
        return None
    prev_cond, prev_mv, _ = prev.values[0]
    first = rule.conditions[0]
    if (
        prev_mv is None
        or (a := _decisive(prev_mv)) is None
        or (prev_cond.metric, prev_cond.window) != (first.metric, first.window)
    ):
        return None
    if current.as_of == prev_mv.as_of and a == b:  # the same datum again
        return prev.trend
    if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
        return "flat"
    return "up" if b > a else "down"


def evaluate(
    rules: Iterable[Rule],
    metric_lookup: Callable[[str, str | None], MetricValue | None],
    previous: Mapping[str, DriverState] | None,
    now: pd.Timestamp,
) -> list[DriverState]:
    """Evaluate every enabled rule against current metric values: which market conditions hold right now?

    For each condition: ``mv = metric_lookup(metric, window)``; result = ``value op threshold`` when ``mv`` is
    usable, else None (unknown: missing, None, NaN/inf, stale, or the lookup raised). Conditions combine by
    the rule's mode with Kleene logic (module docstring). Disabled rules are skipped (not returned).

    ``since``: the previous state's ``since`` when the state is unchanged, else ``now`` (also ``now`` on a
    first evaluation); ``since_exact``: carried while unchanged, else True only when the previous state was a
    known one (a first evaluation, or data arriving after "unknown", cannot tell when the state began).
    ``changed``: a previous state for the id exists and its state differs (use it to notify). ``trend``: see
    :func:`_trend`. ``previous`` maps rule id -> the last returned :class:`DriverState`.
    """
    previous = previous or {}
    out: list[DriverState] = []
    for rule in rules:
        if not rule.enabled:
            continue
        results: list[ConditionResult] = []
        for cond in rule.conditions:
            mv = _lookup(metric_lookup, cond)
            number = _decisive(mv) if mv is not None else None
            result = cond.test(number) if number is not None else None
            results.append(ConditionResult(cond, mv, result))
        state = _combine([r.result for r in results], rule.mode)
        prev = previous.get(rule.id)
        unchanged = prev is not None and prev.state == state
        first = results[0]
        cond0 = first.condition
        shown = format_metric(cond0.metric, first.metric.value if first.metric is not None else None)
        if first.metric is not None and first.metric.stale and shown != "?":
            shown += " (stale)"
        out.append(DriverState(
            id=rule.id,
            name=rule.name,
            meaning=rule.meaning,
            state=state,
            values=results,
            display_value=shown,
            display_threshold=f"{cond0.op} {format_metric(cond0.metric, cond0.threshold)}",
            detail=(" and " if rule.mode == "all" else " or ").join(_condition_text(r) for r in results),
            since=prev.since if unchanged and prev is not None else _timestamp(now),
            changed=prev is not None and not unchanged,
            trend=_trend(rule, first.metric, prev),
            mode=rule.mode,
            since_exact=prev.since_exact if unchanged and prev is not None else (
                prev is not None and prev.state != "unknown"),
        ))  # fmt: skip
    return out


def _timestamp(now: Any) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(now)


def summary(states: Iterable[DriverState]) -> str:
    """One status-bar line: ``"7 of 12 drivers active · 2 unknown"`` (the unknown part only when > 0)."""
    states = list(states)
    if not states:
        return "no drivers enabled"
    active = sum(s.state == "active" for s in states)
    unknown = sum(s.state == "unknown" for s in states)
    text = f"{active} of {len(states)} drivers active"
    return f"{text} · {unknown} unknown" if unknown else text
