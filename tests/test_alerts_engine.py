"""The pure alert engine: flips remembered across unknown, hysteresis, cool-downs, the first state, rule errors."""

from __future__ import annotations

from typing import Any

import pytest

from analytics.alerts import AlertEngine, AlertRule, parse_alert_rules, parse_expression
from analytics.drivers import Condition, ConditionResult, DriverState, MetricValue, RuleError

MIN = 60_000
T0 = 1_760_000_000_000


def driver(state: str, driver_id: str = "cascade", value: float = 6.0) -> DriverState:
    cond = Condition("long_liq_vs_median", ">", 5.0, "30d")
    result = ConditionResult(cond, MetricValue(value, None), state == "active")
    return DriverState(driver_id, "Liquidation cascade", "", state, [result], f"{value:.1f}x", "> 5.0x",  # type: ignore[arg-type]
                       "", None, False, None)  # fmt: skip


def rules(*raw: dict[str, Any], cooldown: float = 300.0) -> list[AlertRule]:
    return parse_alert_rules(list(raw), "cfg.toml", drivers={"cascade", "fear"}, routes={"toast", "hook"},
                             cooldown=cooldown)  # fmt: skip


def run_flips(engine: AlertEngine, states: list[str], step_ms: int = MIN) -> list[Any]:
    fired = []
    for i, state in enumerate(states):
        fired += [a for a in engine.evaluate(T0 + i * step_ms, [driver(state)]) if a.kind != "initial"]
    return fired


def test_a_flip_fires_once_and_unknown_in_between_is_no_flip() -> None:
    engine = AlertEngine(rules({"id": "flips"}, cooldown=0))
    first = engine.evaluate(T0, [driver("active")])
    assert [(a.kind, a.state, a.routes) for a in first] == [("initial", "active", ())]  # the first state: sent nowhere
    fired = run_flips(engine, ["active", "unknown", "active", "active", "unknown", "clear", "clear"])
    assert [(a.kind, a.previous, a.state) for a in fired] == [("flip", "active", "clear")]
    assert fired[0].routes == ("toast",) and fired[0].value == 6.0 and fired[0].threshold == 5.0
    doc = fired[0].to_json()
    assert doc["schema"] == "altpulse.alert/1" and doc["id"] == "flips" and doc["subject"] == "cascade"
    assert set(doc) >= {"id", "kind", "state", "value", "threshold", "time", "mode", "text", "routes"}


def test_the_cool_down_holds_a_flapping_driver_to_one_alert_and_catches_up_on_what_still_holds() -> None:
    engine = AlertEngine(rules({"id": "flips", "cooldown": "10m"}))
    engine.evaluate(T0, [driver("active")])
    # clear at +1m (sent), active +2m, clear +3m, active +4m (all held), still active at +11m: sent then.
    fired = [a for i, s in enumerate(["clear", "active", "clear", "active"], start=1)
             for a in engine.evaluate(T0 + i * MIN, [driver(s)])]  # fmt: skip
    assert [a.state for a in fired] == ["clear"]
    late = engine.evaluate(T0 + 11 * MIN, [driver("active")])
    assert [(a.state, a.previous) for a in late] == [("active", "clear")] and "cool-down" in late[0].text
    # Flapping back to what was last sent inside the cool-down sends nothing at its end.
    engine.evaluate(T0 + 12 * MIN, [driver("clear")])
    engine.evaluate(T0 + 13 * MIN, [driver("active")])
    assert engine.evaluate(T0 + 30 * MIN, [driver("active")]) == []


def test_only_to_active_and_chosen_drivers() -> None:
    engine = AlertEngine(rules({"id": "up", "drivers": ["cascade"], "to": "active", "routes": ["hook"]}, cooldown=0))
    seen = []
    for i, s in enumerate(["clear", "active", "clear", "active"]):
        seen += engine.evaluate(T0 + i * MIN, [driver(s), driver(s, "fear")])
    fired = [a for a in seen if a.kind == "flip"]
    assert [(a.subject, a.state, a.routes) for a in fired] == [("cascade", "active", ("hook",))] * 2


def test_a_threshold_with_hysteresis_fires_once_while_the_price_hovers() -> None:
    engine = AlertEngine(rules({"id": "btc", "when": "BTC < 90000", "hysteresis": 500, "cooldown": 0}),
                         mode="demo", simulated=True)  # fmt: skip
    prices = [91000, 89990, 90010, 89950, 90300, 89000, 90600, 89900]
    fired = []
    for i, p in enumerate(prices):

        def lookup(metric: str, arg: str | None, p: float = p) -> MetricValue:
            assert (metric, arg) == ("price", "BTC")
            return MetricValue(p, None)

        fired += [a for a in engine.evaluate(T0 + i * MIN, None, lookup) if a.kind != "initial"]
    # Below 90,000 at 89,990: fires; it re-arms only at 90,600 (>= 90,500), then fires again at 89,900.
    assert [(a.state, a.value) for a in fired] == [("active", 89990), ("active", 89900)]
    assert fired[0].text.startswith("[SIMULATED] ") and fired[0].to_json()["simulated"] is True


def test_a_stale_value_changes_nothing() -> None:
    engine = AlertEngine(rules({"id": "f", "when": "funding_median_8h > 0.0003", "cooldown": 0}), mode="replay")
    values = [MetricValue(0.0001, None), MetricValue(0.0009, None, stale=True), None, MetricValue(0.0004, None)]
    fired = [a for i, v in enumerate(values) for a in engine.evaluate(T0 + i * MIN, None, lambda m, w, v=v: v)]
    assert [(a.kind, a.state) for a in fired] == [("initial", "clear"), ("threshold", "active")]
    assert fired[1].text.startswith("[REPLAY] funding_median_8h > 0.0003: funding_median_8h 0.0400% > 0.0300%")


def test_on_start_sends_the_first_state() -> None:
    engine = AlertEngine(rules({"id": "s", "when": "fear_greed <= 25", "on_start": True}))
    [first] = engine.evaluate(T0, None, lambda m, w: MetricValue(20, None))
    assert first.kind == "initial" and first.state == "active" and first.routes == ("toast",)


@pytest.mark.parametrize(("text", "expected"), [
    ("BTC < 90000", ("price", "BTC", "<", 90000.0)),
    ("price(sol) <= 120.5", ("price", "SOL", "<=", 120.5)),
    ("funding_8h(ETH) > 5e-4", ("funding_8h", "ETH", ">", 0.0005)),
    ("funding_median_8h > 0.0003", ("funding_median_8h", None, ">", 0.0003)),
    ("long_liq_1h > 500e6", ("long_liq", "1h", ">", 500e6)),
    ("btc_change(1h) < -3", ("btc_change", "1h", "<", -3.0)),
    ("etf_net_flow_sum_3d < -1_000_000", ("etf_net_flow_sum", "3d", "<", -1e6)),
])  # fmt: skip
def test_expressions(text: str, expected: tuple[Any, ...]) -> None:
    e = parse_expression(text)
    assert (e.metric, e.arg, e.op, e.threshold) == expected


@pytest.mark.parametrize(("raw", "path", "words"), [
    ({"id": "x", "when": "btc_change < -3"}, "alerts[0].when", "needs a window"),
    ({"id": "x", "when": "fear_greed(1d) < 3"}, "alerts[0].when", "point-in-time"),
    ({"id": "x", "when": "nonsense_metric > 1"}, "alerts[0].when", "unknown metric"),
    ({"id": "x", "when": "BTC = 1"}, "alerts[0].when", "METRIC OP NUMBER"),
    ({"id": "x", "when": "etf_net_flow_sum(36h) < 0"}, "alerts[0].when", "whole (trading) days"),
    ({"id": "x", "drivers": ["nope"]}, "alerts[0].drivers", "unknown driver 'nope'"),
    ({"id": "x", "to": "up"}, "alerts[0].to", '"active"'),
    ({"id": "x", "routes": ["phone"]}, "alerts[0].routes", "unknown route 'phone'"),
    ({"id": "x", "cooldown": -1}, "alerts[0].cooldown", ">= 0"),
    ({"id": "x", "hysteresis": 3}, "alerts[0].hysteresis", "threshold rule"),
    ({"id": "x", "command": ""}, "alerts[0].command", "non-empty"),
    ({"id": "x", "colour": "red"}, "alerts[0].colour", "unknown key"),
    ({"when": "BTC < 1"}, "alerts[0].id", "required"),
])  # fmt: skip
def test_rule_errors_name_the_key(raw: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(RuleError) as err:
        rules(raw)
    assert err.value.path == path and words in str(err.value) and str(err.value).startswith("cfg.toml: ")


def test_a_command_is_argv_never_a_shell_line() -> None:
    [rule] = rules({"id": "c", "command": "python3 '/tmp/my script.py' --loud; rm -rf /"})
    assert rule.command == ("python3", "/tmp/my script.py", "--loud;", "rm", "-rf", "/")
    assert rule.route_names(["toast"]) == ("toast", "c:command")
