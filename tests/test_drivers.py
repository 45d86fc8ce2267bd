"""Tests for analytics.drivers: rule validation, three-valued evaluation, since/changed/trend tracking."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.drivers import (
    KNOWN_METRICS,
    Condition,
    DriverState,
    MetricValue,
    Rule,
    RuleError,
    evaluate,
    format_metric,
    parse_rules,
    parse_window,
    summary,
)
from tui.runtime.config import load_config
from tui.views.drivers import snapshot_drivers

FILE = "/home/u/.config/altpulse/config.toml"


def shipped_rules() -> list[dict[str, Any]]:
    """The shipped [[drivers]] as the console reads them: config.toml through the config loader (analytics has no
    defaults of its own)."""
    return load_config(use_user_file=False).drivers_raw


T1 = pd.Timestamp("2024-05-01 12:00", tz="UTC")
T2 = T1 + pd.Timedelta(minutes=1)
T3 = T1 + pd.Timedelta(minutes=2)
T4 = T1 + pd.Timedelta(minutes=3)


def one_rule(**overrides: Any) -> list[dict[str, Any]]:
    rule: dict[str, Any] = {
        "id": "r1", "name": "Rule one", "meaning": "Something happens.",
        "conditions": [{"metric": "btc_change", "op": "<", "threshold": -2, "window": "1h"}],
    }  # fmt: skip
    rule.update(overrides)
    return [rule]


def with_condition(**overrides: Any) -> list[dict[str, Any]]:
    raw = one_rule()
    raw[0]["conditions"][0].update(overrides)
    return raw


def without(key: str, condition: bool = False) -> list[dict[str, Any]]:
    raw = one_rule()
    del (raw[0]["conditions"][0] if condition else raw[0])[key]
    return raw


# ----------------------------------------------------------------------------------------- metrics / windows


def test_known_metric_ids_are_exactly_the_documented_set() -> None:
    assert set(KNOWN_METRICS) == {
        "etf_net_flow_sum", "etf_outflow_streak", "etf_min_daily_flow", "basket_cvd_change",
        "basket_buy_sell_ratio", "funding_median_8h", "funding_share_above_baseline", "long_liq_vs_median",
        "btc_change", "oi_change", "smallcap_vs_largecap", "btc_dominance_change", "stablecoin_share_change",
        "fear_greed", "spy_change", "us2y_change", "long_liq", "short_liq",
    }  # fmt: skip
    assert all(isinstance(text, str) and text for text in KNOWN_METRICS.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1h", pd.Timedelta(hours=1)), ("24h", pd.Timedelta(days=1)), ("3d", pd.Timedelta(days=3)),
     ("30d", pd.Timedelta(days=30)), ("15m", pd.Timedelta(minutes=15)), ("2w", pd.Timedelta(days=14))],
)  # fmt: skip
def test_parse_window_valid(text: str, expected: pd.Timedelta) -> None:
    assert parse_window(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0d", "1.5h", "30 d", " 1h", "1H", "h", "-1d", "1y", "99999w", 30, None]
)
def test_parse_window_invalid(text: Any) -> None:
    with pytest.raises(ValueError, match="window"):
        parse_window(text)


# ----------------------------------------------------------------------------------------------- parse_rules


def test_shipped_rules_parse_and_match_design() -> None:
    rules = parse_rules(shipped_rules(), "defaults")
    assert [r.id for r in rules] == [
        "etf_outflows", "institutional_selling", "alt_selling_pressure", "crowded_leverage",
        "liquidation_cascade", "oi_rebuilding", "small_caps_lagging", "btc_dominance_rising",
        "stablecoin_rotation", "extreme_fear", "stock_weakness", "rates_uncertainty",
    ]  # fmt: skip
    by_id = {r.id: r for r in rules}
    assert by_id["etf_outflows"].conditions == [Condition("etf_net_flow_sum", "<", 0.0, "3d")]
    assert by_id["institutional_selling"].mode == "any"
    assert by_id["institutional_selling"].conditions == [
        Condition("etf_outflow_streak", ">=", 3.0, None), Condition("etf_min_daily_flow", "<", -250e6, "10d"),
    ]  # fmt: skip
    assert by_id["alt_selling_pressure"].mode == "all"
    assert by_id["alt_selling_pressure"].conditions[1] == Condition("basket_buy_sell_ratio", "<", 0.97, "30d")
    assert by_id["crowded_leverage"].conditions[0] == Condition("funding_median_8h", ">", 0.0001, None)
    assert by_id["liquidation_cascade"].conditions == [
        Condition("long_liq_vs_median", ">", 5.0, "30d"), Condition("btc_change", "<", -2.0, "1h"),
    ]  # fmt: skip
    assert by_id["extreme_fear"].conditions == [Condition("fear_greed", "<=", 25.0, None)]
    assert by_id["rates_uncertainty"].conditions == [Condition("us2y_change", ">", 0.15, "10d")]
    assert all(r.enabled and r.meaning and r.name for r in rules)
    # each load reads the file afresh: mutating one config's rules does not change the next
    first = shipped_rules()
    first[0]["id"] = "changed"
    assert shipped_rules()[0]["id"] == "etf_outflows"


def test_parse_rules_defaults_and_types() -> None:
    (rule,) = parse_rules(one_rule(), FILE)
    assert rule == Rule(
        "r1", "Rule one", "Something happens.", [Condition("btc_change", "<", -2.0, "1h")], "all", True
    )
    assert isinstance(rule.conditions[0].threshold, float)
    (off,) = parse_rules(one_rule(enabled=False, mode="any"), FILE)
    assert off.enabled is False and off.mode == "any"


def test_rule_error_message_format() -> None:
    raw = shipped_rules()
    raw[3]["conditions"][0]["op"] = "=<"
    with pytest.raises(RuleError) as info:
        parse_rules(raw, "config.toml")
    assert (
        str(info.value) == "config.toml: drivers[3].conditions[0].op: expected one of <, <=, >, >=, got '=<'"
    )
    assert info.value.file == "config.toml"
    assert info.value.path == "drivers[3].conditions[0].op"
    assert isinstance(info.value, ValueError)


def _dup() -> list[dict[str, Any]]:
    return one_rule() + one_rule()


C0 = "drivers[0].conditions[0]"
ERROR_CASES: list[tuple[str, Callable[[], Any], str, str]] = [
    ("not a list", lambda: {"drivers": []}, "drivers", "expected an array of tables"),
    ("item not a table", lambda: ["x"], "drivers[0]", "expected a table, got 'x'"),
    ("unknown rule key", lambda: one_rule(colour="red"), "drivers[0].colour", "unknown key 'colour'"),
    ("non-string key", lambda: [{**one_rule()[0], 3: 1}], "drivers[0]", "unknown key 3"),
    ("missing id", lambda: without("id"), "drivers[0].id", "missing required key"),
    ("id not str", lambda: one_rule(id=7), "drivers[0].id", "expected a non-empty string, got 7"),
    ("id bad chars", lambda: one_rule(id="a b"), "drivers[0].id", "letters, digits"),
    ("duplicate id", _dup, "drivers[1].id", "already used by drivers[0]"),
    ("missing name", lambda: without("name"), "drivers[0].name", "missing required key"),
    ("empty meaning", lambda: one_rule(meaning="  "), "drivers[0].meaning", "expected a non-empty string"),
    ("bad mode", lambda: one_rule(mode="both"), "drivers[0].mode", "expected one of all, any, got 'both'"),
    ("mode not str", lambda: one_rule(mode=["all"]), "drivers[0].mode", "got an array"),
    ("enabled not bool", lambda: one_rule(enabled="yes"), "drivers[0].enabled", "expected a boolean"),
    ("enabled int", lambda: one_rule(enabled=1), "drivers[0].enabled", "(true/false), got 1"),
    ("missing conditions", lambda: without("conditions"), "drivers[0].conditions", "missing required key"),
    ("empty conditions", lambda: one_rule(conditions=[]), "drivers[0].conditions", "non-empty array"),
    ("conditions table", lambda: one_rule(conditions={"m": 1}), "drivers[0].conditions", "got a table"),
    ("condition not table", lambda: one_rule(conditions=[1]), C0, "expected a table"),
    ("unknown cond key", lambda: with_condition(units="usd"), C0 + ".units", "unknown key"),
    ("missing metric", lambda: without("metric", True), C0 + ".metric", "missing"),
    ("unknown metric", lambda: with_condition(metric="btc_price"), C0 + ".metric",
     "expected a known metric"),
    ("bad op", lambda: with_condition(op="=<"), C0 + ".op", "expected one of <, <=, >, >="),
    ("op equals", lambda: with_condition(op="=="), C0 + ".op", "got '=='"),
    ("op unhashable", lambda: with_condition(op=["<"]), C0 + ".op", "got an array"),
    ("missing op", lambda: without("op", True), C0 + ".op", "missing required key"),
    ("threshold str", lambda: with_condition(threshold="-2"), C0 + ".threshold",
     "expected a number, got '-2'"),
    ("threshold bool", lambda: with_condition(threshold=True), C0 + ".threshold",
     "expected a number, got True"),
    ("threshold nan", lambda: with_condition(threshold=math.nan), C0 + ".threshold",
     "expected a finite number"),
    ("threshold inf", lambda: with_condition(threshold=-math.inf), C0 + ".threshold",
     "expected a finite number"),
    ("threshold huge", lambda: with_condition(threshold=10**400), C0 + ".threshold",
     "expected a finite number"),
    ("missing threshold", lambda: without("threshold", True), C0 + ".threshold", "missing"),
    ("window format", lambda: with_condition(window="1.5h"), C0 + ".window",
     "expected a window like '1h'"),
    ("window int", lambda: with_condition(window=30), C0 + ".window", "got 30"),
    ("window too long", lambda: with_condition(window="600w"), C0 + ".window",
     "at most 10 years, got '600w'"),
    ("window missing", lambda: without("window", True), C0 + ".window",
     "missing window for btc_change"),
    ("window on point metric", lambda: with_condition(metric="fear_greed", window="1d"),
     C0 + ".window", "takes no window"),
    ("etf window hours", lambda: with_condition(metric="etf_net_flow_sum", window="36h"),
     C0 + ".window", "whole (trading) days"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "path", "fragment"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_parse_rules_errors_name_file_path_and_expectation(
    case: str, make: Callable[[], Any], path: str, fragment: str
) -> None:
    with pytest.raises(RuleError) as info:
        parse_rules(make(), FILE)
    message = str(info.value)
    assert message.startswith(f"{FILE}: {path}: "), message
    assert info.value.path == path
    assert fragment in message, message


def test_error_path_points_at_the_right_driver_and_condition() -> None:
    raw = shipped_rules()
    raw[1]["conditions"][1]["window"] = "ten days"
    with pytest.raises(RuleError, match=r"drivers\[1\]\.conditions\[1\]\.window: .*got 'ten days'"):
        parse_rules(raw, FILE)


_PLAUSIBLE = [
    "<",
    "=<",
    "all",
    "any",
    "1h",
    "30d",
    "0d",
    "btc_change",
    "fear_greed",
    "etf_net_flow_sum",
    "r1",
]
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(_PLAUSIBLE)
)
_ANY = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)
_CONDITION = st.dictionaries(st.sampled_from(["metric", "op", "threshold", "window", "extra"]),
                             _SCALARS | _ANY, max_size=5)  # fmt: skip
_RULE = st.dictionaries(
    st.sampled_from(["id", "name", "meaning", "mode", "enabled", "conditions", "other"]),
    _SCALARS | st.lists(_CONDITION | _ANY, max_size=3),
    max_size=7,
)


@settings(max_examples=400, deadline=None)
@given(raw=_ANY | st.lists(_RULE | _ANY, max_size=4))
def test_parse_rules_only_ever_raises_rule_error(raw: Any) -> None:
    try:
        rules = parse_rules(raw, FILE)
    except RuleError as exc:
        assert str(exc).startswith(f"{FILE}: ")
    else:
        assert isinstance(raw, list) and len(rules) == len(raw)


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, 11), key=st.sampled_from(["op", "threshold", "window", "metric"]), value=_SCALARS)
def test_mutated_shipped_rules_only_raise_rule_error(index: int, key: str, value: Any) -> None:
    raw = shipped_rules()
    raw[index]["conditions"][0][key] = value
    try:
        parse_rules(raw, FILE)
    except RuleError as exc:
        # a changed metric can make the (unchanged) window the offending key
        allowed = {key, "window"} if key == "metric" else {key}
        assert exc.path in {f"drivers[{index}].conditions[0].{k}" for k in allowed}, str(exc)


# ------------------------------------------------------------------------------------------------ evaluation


def rule(*conds: Condition, mode: str = "all", rule_id: str = "d") -> Rule:
    return Rule(rule_id, "Driver", "Meaning.", list(conds), mode)  # type: ignore[arg-type]


def lookup_from(values: dict[str, MetricValue | None]) -> Callable[[str, str | None], MetricValue | None]:
    return lambda metric, window: values.get(metric)


A = Condition("btc_change", "<", -2.0, "1h")
B = Condition("fear_greed", "<=", 25.0)
TRUE_A, FALSE_A = MetricValue(-3.0, T1), MetricValue(1.0, T1)
TRUE_B, FALSE_B = MetricValue(20.0, T1), MetricValue(60.0, T1)
UNKNOWN = None


@pytest.mark.parametrize(
    ("mode", "a", "b", "expected"),
    [
        ("all", TRUE_A, TRUE_B, "active"),
        ("all", TRUE_A, FALSE_B, "clear"),
        ("all", FALSE_A, FALSE_B, "clear"),
        ("all", TRUE_A, UNKNOWN, "unknown"),
        ("all", FALSE_A, UNKNOWN, "clear"),
        ("all", UNKNOWN, UNKNOWN, "unknown"),
        ("any", TRUE_A, TRUE_B, "active"),
        ("any", TRUE_A, FALSE_B, "active"),
        ("any", FALSE_A, FALSE_B, "clear"),
        ("any", TRUE_A, UNKNOWN, "active"),
        ("any", FALSE_A, UNKNOWN, "unknown"),
        ("any", UNKNOWN, UNKNOWN, "unknown"),
    ],
)
def test_three_valued_logic(mode: str, a: MetricValue | None, b: MetricValue | None, expected: str) -> None:
    (state,) = evaluate([rule(A, B, mode=mode)], lookup_from({"btc_change": a, "fear_greed": b}), None, T1)
    assert state.state == expected
    assert [r.result for r in state.values] == [
        None if a is None else a.value < -2.0,  # type: ignore[operator]
        None if b is None else b.value <= 25.0,  # type: ignore[operator]
    ]


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [("<", -2.0, False), ("<=", -2.0, True), (">", -2.0, False), (">=", -2.0, True), ("<", -2.01, True),
     (">", -1.99, True)],
)  # fmt: skip
def test_operators_at_the_threshold(op: str, value: float, expected: bool) -> None:
    cond = Condition("btc_change", op, -2.0, "1h")  # type: ignore[arg-type]
    (state,) = evaluate([rule(cond)], lookup_from({"btc_change": MetricValue(value, T1)}), None, T1)
    assert state.values[0].result is expected
    assert state.state == ("active" if expected else "clear")


def _raise(metric: str, window: str | None) -> MetricValue | None:
    raise RuntimeError("feed exploded")


@pytest.mark.parametrize(
    ("lookup", "why"),
    [
        (lookup_from({}), "missing"),
        (lookup_from({"btc_change": MetricValue(None, T1)}), "None value"),
        (lookup_from({"btc_change": MetricValue(math.nan, T1)}), "NaN"),
        (lookup_from({"btc_change": MetricValue(-5.0, T1, stale=True)}), "stale but would be true"),
        (_raise, "lookup raised"),
    ],
)
def test_unusable_metric_is_unknown(
    lookup: Callable[[str, str | None], MetricValue | None], why: str
) -> None:
    (state,) = evaluate([rule(A)], lookup, None, T1)
    assert state.state == "unknown", why
    assert state.values[0].result is None


def test_lookup_failure_is_recorded_and_other_drivers_still_evaluate() -> None:
    def lookup(metric: str, window: str | None) -> MetricValue | None:
        if metric == "btc_change":
            raise RuntimeError("feed exploded")
        return TRUE_B

    states = evaluate([rule(A, rule_id="x"), rule(B, rule_id="y")], lookup, None, T1)
    assert [s.state for s in states] == ["unknown", "active"]
    assert "feed exploded" in states[0].values[0].metric.note  # type: ignore[union-attr]


def test_lookup_receives_metric_and_window() -> None:
    calls: list[tuple[str, str | None]] = []

    def lookup(metric: str, window: str | None) -> MetricValue | None:
        calls.append((metric, window))
        return None

    evaluate(parse_rules(shipped_rules(), FILE), lookup, None, T1)
    assert ("etf_net_flow_sum", "3d") in calls
    assert ("fear_greed", None) in calls
    assert ("long_liq_vs_median", "30d") in calls and ("btc_change", "1h") in calls


def test_disabled_rules_are_skipped() -> None:
    rules = [rule(A, rule_id="on"), Rule("off", "Off", "m", [B], "all", enabled=False)]
    states = evaluate(rules, lookup_from({"btc_change": TRUE_A, "fear_greed": TRUE_B}), None, T1)
    assert [s.id for s in states] == ["on"]


def test_since_and_changed_across_evaluations() -> None:
    rules = [rule(A)]
    values: dict[str, MetricValue | None] = {"btc_change": MetricValue(-3.0, T1)}

    def run(now: pd.Timestamp, prev: list[DriverState] | None) -> DriverState:
        (state,) = evaluate(rules, lookup_from(values), {s.id: s for s in prev} if prev else None, now)
        return state

    s1 = run(T1, None)
    assert (s1.state, s1.since, s1.changed) == ("active", T1, False)
    s2 = run(T2, [s1])
    assert (s2.state, s2.since, s2.changed) == ("active", T1, False)  # still active since T1
    values["btc_change"] = MetricValue(0.5, T3)
    s3 = run(T3, [s2])
    assert (s3.state, s3.since, s3.changed) == ("clear", T3, True)
    s4 = run(T4, [s3])
    assert (s4.state, s4.since, s4.changed) == ("clear", T3, False)
    values["btc_change"] = MetricValue(0.5, T4, stale=True)
    s5 = run(T4 + pd.Timedelta(minutes=1), [s4])
    assert (s5.state, s5.since, s5.changed) == ("unknown", T4 + pd.Timedelta(minutes=1), True)


def test_since_is_exact_only_when_the_start_of_the_state_was_seen() -> None:
    """Active at the first evaluation (or when data came back) began then *or earlier*; a flip was seen."""
    rules = [rule(A)]
    values: dict[str, MetricValue | None] = {"btc_change": MetricValue(-3.0, T1)}

    def run(now: pd.Timestamp, prev: DriverState | None) -> DriverState:
        (state,) = evaluate(rules, lookup_from(values), {prev.id: prev} if prev else None, now)
        return state

    first = run(T1, None)
    assert (first.state, first.since_exact) == ("active", False)  # already active when the console started
    held = run(T2, first)
    assert (held.since, held.since_exact) == (T1, False)
    values["btc_change"] = MetricValue(0.5, T3)
    flipped = run(T3, held)
    assert (flipped.state, flipped.since, flipped.since_exact) == ("clear", T3, True)  # seen to begin at T3
    assert run(T4, flipped).since_exact is True
    values["btc_change"] = None
    lost = run(T4, flipped)
    assert (lost.state, lost.since_exact) == ("unknown", True)  # the data was seen to go
    values["btc_change"] = MetricValue(-3.0, T4)
    back = run(T4 + pd.Timedelta(minutes=1), lost)
    assert (back.state, back.since_exact) == ("active", False)  # active again, but since when is not known


def test_trend() -> None:
    rules = [rule(A)]

    def step(
        value: float | None, as_of: pd.Timestamp, prev: DriverState | None, stale: bool = False
    ) -> DriverState:
        lookup = lookup_from({"btc_change": MetricValue(value, as_of, stale=stale)})
        (state,) = evaluate(rules, lookup, {prev.id: prev} if prev else None, as_of)
        return state

    s1 = step(-1.0, T1, None)
    assert s1.trend is None  # nothing to compare with
    s2 = step(-1.5, T2, s1)
    assert s2.trend == "down"
    s3 = step(-1.5, T2, s2)  # the same datum seen again keeps the arrow
    assert s3.trend == "down"
    s4 = step(-0.5, T3, s3)
    assert s4.trend == "up"
    s5 = step(-0.5, T4, s4)  # a new datum with the same value
    assert s5.trend == "flat"
    s6 = step(-0.2, T4, s5, stale=True)
    assert s6.trend is None  # stale values have no trend
    s7 = step(-0.1, T4 + pd.Timedelta(minutes=1), s6)
    assert s7.trend is None  # previous value unusable
    retuned = [rule(Condition("btc_change", "<", -2.0, "4h"))]
    (s8,) = evaluate(retuned, lookup_from({"btc_change": MetricValue(-9.0, T4)}), {s4.id: s4}, T4)
    assert s8.trend is None  # different window: values are not comparable


def test_display_strings() -> None:
    rules = parse_rules(shipped_rules(), FILE)
    values = {
        "etf_net_flow_sum": MetricValue(-120e6, T1),
        "etf_outflow_streak": MetricValue(2.0, T1),
        "etf_min_daily_flow": MetricValue(-300e6, T1),
        "funding_median_8h": MetricValue(0.00012, T1, stale=True),
        "funding_share_above_baseline": MetricValue(0.4, T1),
    }
    states = {s.id: s for s in evaluate(rules, lookup_from(values), None, T1)}
    etf = states["etf_outflows"]
    assert (etf.state, etf.display_value, etf.display_threshold) == ("active", "-$120.0M", "< $0")
    inst = states["institutional_selling"]
    assert inst.state == "active"
    assert inst.detail == "etf_outflow_streak 2d >= 3d ✗ or etf_min_daily_flow(10d) -$300.0M < -$250.0M ✓"
    crowded = states["crowded_leverage"]
    assert crowded.state == "unknown"  # stale funding (would be true) + share 40% (false)
    assert crowded.display_value == "0.0120% (stale)"
    assert crowded.display_threshold == "> 0.0100%"
    assert "funding_share_above_baseline 40% > 60% ✗" in crowded.detail
    assert states["extreme_fear"].display_value == "?"


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [("basket_cvd_change", -1.234e9, "-$1.2B"), ("basket_cvd_change", 950.0, "$950"),
     ("basket_buy_sell_ratio", 0.97, "0.970"), ("long_liq_vs_median", 5.25, "5.2x"),
     ("btc_change", -2.0, "-2.00%"), ("btc_dominance_change", 1.0, "+1.00pt"), ("fear_greed", 25.0, "25"),
     ("funding_median_8h", 0.0001, "0.0100%"),
     ("funding_share_above_baseline", 0.6, "60%"), ("btc_change", math.nan, "?"), ("btc_change", None, "?")],
)  # fmt: skip
def test_format_metric(metric: str, value: float | None, text: str) -> None:
    assert format_metric(metric, value) == text


def _state(state: str, rule_id: str) -> DriverState:
    return DriverState(rule_id, "n", "m", state, [], "", "", "", None, False, None)  # type: ignore[arg-type]


def test_summary() -> None:
    states = [_state("active", f"a{i}") for i in range(7)] + [_state("unknown", f"u{i}") for i in range(2)]
    states += [_state("clear", f"c{i}") for i in range(3)]
    assert summary(states) == "7 of 12 drivers active · 2 unknown"
    assert summary(states[:7] + states[9:]) == "7 of 10 drivers active"
    assert summary([]) == "no drivers enabled"


def test_evaluate_does_not_mutate_inputs() -> None:
    raw = shipped_rules()
    snapshot = copy.deepcopy(raw)
    rules = parse_rules(raw, FILE)
    first = evaluate(rules, lookup_from({}), None, T1)
    previous = {s.id: s for s in first}
    evaluate(rules, lookup_from({}), previous, T2)
    assert raw == snapshot
    assert all(s.since == T1 for s in previous.values())


def test_oi_change_has_one_definition_for_pane_driver_and_snapshot() -> None:
    """The funding pane's OI 24 h change, the "open interest rebuilding" driver's value and the snapshot's figure
    are the same number, including when a venue starts reporting mid-window (which is not growth)."""
    import pandas as pd

    from tui.runtime.state import MarketState
    from tui.views.builder import ViewBuilder
    from tui.views.funding import snapshot_funding

    hours = pd.date_range("2026-11-20", periods=30, freq="1h", tz="UTC")
    rows = [{"time": t, "coin": "BTC", "exchange": "binance", "symbol": "BTCUSDT", "oi_base": 1.0,
             "oi_usd": 100.0 + i} for i, t in enumerate(hours)]  # fmt: skip
    # ETH starts reporting 6 hours ago: summing whatever exists at each time would read it as a jump.
    rows += [{"time": t, "coin": "ETH", "exchange": "binance", "symbol": "ETHUSDT", "oi_base": 1.0,
              "oi_usd": 500.0} for t in hours[-6:]]  # fmt: skip
    from records.derivs import DerivsSnapshot, FundingQuote

    quote = FundingQuote("BTC", "binance", 0.0001, 8.0, 0.0001, None, 100.0, "BTCUSDT", hours[-1])
    state = MarketState(oi_history=pd.DataFrame(rows), derivs={"binance": DerivsSnapshot("binance", [quote], [],
                                                                                          hours[-1])})  # fmt: skip

    class Rt:
        mode, simulated, label = "live", False, "LIVE"

        @staticmethod
        def now_ms() -> int:
            return int(hours[-1].value // 1_000_000)

    views = ViewBuilder(load_config(use_user_file=False), Rt(), state)
    driver = views.metrics.lookup("oi_change", "24h").value
    pane = views.funding().oi_change_24h_pct
    snap = snapshot_funding(views.figures)["open_interest"]["change_24h_pct"]
    expected = (129.0 / 105.0 - 1) * 100  # BTC only: ETH has no sample 24 h ago
    assert driver == pytest.approx(expected) and pane == pytest.approx(expected) and snap == pytest.approx(expected)


def _macro_views(state: Any, now: pd.Timestamp, scheduler: Any = None) -> Any:
    from tui.views.builder import ViewBuilder

    class Rt:
        mode, simulated, label = "live", False, "LIVE"

        @staticmethod
        def now_ms() -> int:
            return int(now.value // 1_000_000)

    return ViewBuilder(load_config(use_user_file=False), Rt(), state, scheduler)


def _global(now: pd.Timestamp, dominance: float, stables: float) -> Any:
    from sources.coingecko import GlobalMarket

    return GlobalMarket(time=now, total_mcap_usd=3e12, total_volume_usd=1e11, btc_dominance_pct=dominance,
                        eth_dominance_pct=11.0, stablecoin_share_pct=stables, stablecoins_complete=True,
                        mcap_change_24h_pct=-1.0, shares_pct={"btc": dominance, "eth": 11.0})  # fmt: skip


def test_dominance_and_stablecoin_changes_are_estimated_until_measured_history_spans_the_window() -> None:
    """Day one: no kept /global history, so both drivers rest on the estimate (and say so); once the kept snapshots
    span 30 days the measured change takes over, with its own basis named."""
    from tui.runtime.global_history import GlobalHistory
    from tui.runtime.state import MarketState

    now = pd.Timestamp("2026-11-23 12:00", tz="UTC")
    # 25 coins: BTC +20% over 30 days, 24 alts -25% each; caps now 60 and 40 in total.
    markets = pd.DataFrame({"id": ["bitcoin", *(f"alt{i}" for i in range(24))],
                            "symbol": ["BTC", *(f"A{i}" for i in range(24))],
                            "market_cap": [60.0, *([40.0 / 24] * 24)], "change_30d_pct": [20.0, *([-25.0] * 24)],
                            "change_24h_pct": 0.0, "change_7d_pct": 0.0})  # fmt: skip
    days = pd.date_range(now.floor("D") - pd.Timedelta(days=40), now.floor("D"), freq="D")
    supply = pd.DataFrame({"supply_usd": [200e9 + 1e9 * i for i in range(len(days))]},
                          index=pd.DatetimeIndex(days, name="time"))  # fmt: skip
    history = GlobalHistory()
    for hours in (2, 1, 0):  # two hours of snapshots: far from 30 days
        history.add(_global(now - pd.Timedelta(hours=hours), 57.0, 8.0))
    state = MarketState(global_market=_global(now, 57.0, 8.0), coin_markets=markets, stablecoin_supply=supply,
                        global_history=history)  # fmt: skip
    views = _macro_views(state, now)
    then_caps = 60 / 1.2 + 40 / 0.75  # 50 + 53.33 = 103.33 then, against 100 now
    dom = views.metrics.lookup("btc_dominance_change", "30d")
    assert dom.value == pytest.approx(57.0 - 57.0 * (50 / 60) / (then_caps / 100))
    assert dom.quality.startswith("estimated from 30-day price changes of the top 25 coins")
    assert "measured history takes over once 30d of /global snapshots are kept" in dom.quality
    stable = views.metrics.lookup("stablecoin_share_change", "30d")
    # Newest supply day: now (240B); 30 days before: 210B.
    assert stable.value == pytest.approx(8.0 - 8.0 * (210 / 240) / (then_caps / 100))
    assert stable.quality.startswith("estimated from DefiLlama's stablecoin supply and 30-day price changes")
    views.evaluate_drivers()
    drivers = {d["id"]: d for d in snapshot_drivers(views.drivers_book)["drivers"]}
    for rule in ("btc_dominance_rising", "stablecoin_rotation"):
        assert drivers[rule]["state"] == "active" and drivers[rule]["quality"].startswith("estimated from")
        assert drivers[rule]["since_exact"] is False  # active at the first evaluation: since then or earlier

    # 31 days of kept snapshots: dominance 55 -> 57 (+2), the stablecoin share 8.3 -> 8.0 (-0.3).
    for day in range(31, 0, -1):
        history.add(_global(now - pd.Timedelta(days=day), 55.0, 8.3))
    state.bump("cg_global")  # the feed delivered: the memo rebuilds on data versions
    dom = views.metrics.lookup("btc_dominance_change", "30d")
    stable = views.metrics.lookup("stablecoin_share_change", "30d")
    assert dom.value == pytest.approx(2.0) and stable.value == pytest.approx(-0.3)
    first = now - pd.Timedelta(days=31)
    assert dom.quality == f"measured on the /global snapshots kept since {first:%Y-%m-%d %H:%M} UTC"
    assert stable.quality == dom.quality
    views.evaluate_drivers()
    drivers = {d["id"]: d for d in snapshot_drivers(views.drivers_book)["drivers"]}
    assert drivers["btc_dominance_rising"]["state"] == "active" and drivers["stablecoin_rotation"]["state"] == "clear"
    assert drivers["stablecoin_rotation"]["quality"].startswith("measured")
    # The rotation was seen to clear: its since is exact; dominance has been active since start-up or earlier.
    assert drivers["stablecoin_rotation"]["since_exact"] is True
    assert drivers["btc_dominance_rising"]["since_exact"] is False
    from records.viewmodels import PaneStatus
    from tui.views.drivers import SINCE_BOUND_NOTE

    rows = {row.id: row for row in views.drivers_book.view(PaneStatus(True, "live")).rows}
    assert rows["btc_dominance_rising"].since.startswith("≤")
    assert rows["btc_dominance_rising"].since_note == SINCE_BOUND_NOTE
    assert not rows["stablecoin_rotation"].since.startswith("≤") and rows["stablecoin_rotation"].since_note == ""


def test_estimate_unknown_and_stale_say_why() -> None:
    from tui.runtime.health import FeedHealth
    from tui.runtime.state import MarketState

    now = pd.Timestamp("2026-11-23 12:00", tz="UTC")
    state = MarketState(global_market=_global(now, 57.0, 8.0))
    views = _macro_views(state, now)
    dom = views.metrics.lookup("btc_dominance_change", "30d")
    assert dom.value is None and "no CoinGecko /global snapshot yet" in dom.note
    assert "no estimate yet: needs CoinGecko /global and /coins/markets" in dom.note
    assert "CoinGecko gives 24h, 7d and 30d" in views.metrics.lookup("btc_dominance_change", "14d").note
    # An estimate resting on a feed that is not fresh is stale (unknown to the driver), never current.
    markets = pd.DataFrame({"id": ["bitcoin", *(f"a{i}" for i in range(24))], "symbol": ["BTC", *"X" * 24],
                            "market_cap": [60.0, *([1.0] * 24)],
                            "change_30d_pct": [10.0, *([-10.0] * 24)]})  # fmt: skip
    state.coin_markets = markets

    class Feed:
        def __init__(self, fresh: bool) -> None:
            self.health = FeedHealth("x", "p", 30.0, as_of=time.time() - (0 if fresh else 3600))

    class Sched:
        feeds = {"cg_global": Feed(True), "cg_markets": Feed(False), "llama_stablecoins": Feed(True)}

    stale = _macro_views(state, now, Sched()).metrics.lookup("btc_dominance_change", "30d")
    assert stale.stale and stale.value is not None and "cg_markets not fresh" in stale.note
    fresh = _macro_views(state, now).metrics.lookup("btc_dominance_change", "30d")
    assert not fresh.stale and fresh.value == pytest.approx(stale.value)


def test_data_only_metrics_follow_each_delivery() -> None:
    """Metrics memoised on their feed's data version (tui.views.metrics.DATA_ONLY) give the new figure once the
    scheduler has bumped that version after a delivery, and each rests on feeds the registry names."""
    from sources.alternative_me import FearGreed
    from tui.runtime.state import MarketState
    from tui.views.metrics import DATA_ONLY
    from tui.views.registry import METRIC_FEEDS

    assert all(METRIC_FEEDS.get(metric) for metric in DATA_ONLY)
    now = pd.Timestamp("2026-03-02", tz="UTC")

    def index(value: float) -> FearGreed:
        frame = pd.DataFrame({"value": [50.0, value], "classification": ["Neutral", "Fear"]},
                             index=pd.DatetimeIndex([now - pd.Timedelta(days=1), now], name="time"))  # fmt: skip
        return FearGreed(frame, None)

    state = MarketState()
    state.fear_greed = index(30.0)
    state.bump("fear_greed")
    views = _macro_views(state, now)
    assert views.metrics.lookup("fear_greed", None).value == 30.0
    state.fear_greed = index(12.0)
    state.bump("fear_greed")  # what the scheduler does after the feed delivered
    assert views.metrics.lookup("fear_greed", None).value == 12.0
