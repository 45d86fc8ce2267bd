"""``altpulse backtest --replay PATH [--from T --to T] [--step 1h] [--set driver.condition=value] [--json]``: the key
driver rules over history, and what BTC and the basket did after each flip to active.

Headless (no Textual). The history is the replay engine's dataset (:func:`tui.boot.load_history`: the files
``--replay`` reads, through the same parsers, or a recorder store). The rules are the console's (config.toml's
``[[drivers]]``, with ``--set`` overrides) evaluated by :func:`analytics.drivers.evaluate` at every step
(:func:`analytics.backtest.run_rules`). The metrics at each step are computed by
:class:`tui.views.history.HistoryMetrics` (the engine the drivers timeline shares; its docstring lists each metric's
history definition) with the same analytics functions the console's :class:`tui.views.metrics.Metrics` calls, on
the data observed at or before the step only. What the history does not carry (the replay files have no taker
split, liquidation tape, OI, dominance or market history) is unknown with the reason: a driver resting on it stays
unknown and never flips.

Forward returns (:func:`analytics.backtest.forward_returns`) use the same BTC closes (every bar size merged) and
each basket coin's; the basket's is the mean of its coins' returns where defined. JSON schema
``altpulse.backtest/1``: ``{schema, source, from, to, step, steps, overrides[], horizons[], unconditional.{btc,
basket}.<h>_pct, basket_coins[], drivers[].{id, name, flips, flip_times[], time_active_hours, active_share,
known_share, after_flip.{btc, basket}.<h>_pct (mean), per_flip[].{time, btc_<h>_pct, basket_<h>_pct}, unknown_note}}``.
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.backtest import finite_or_none, forward_returns, run_rules, summarise
from analytics.calendar import parse_utc_ms
from analytics.drivers import parse_rules, parse_window
from tui.runtime.modes import UsageError
from tui.views.history import HistoryMetrics, bar_closes

__all__ = ["apply_overrides", "run_backtest", "run_backtest_command"]

SCHEMA = "altpulse.backtest/1"
DAY_MS = 86_400_000
HORIZONS = {"1d": DAY_MS, "7d": 7 * DAY_MS}
#: The oldest a price may be to start or end a forward return: one daily bar (the coarsest kept).
PRICE_MAX_AGE_MS = DAY_MS


def apply_overrides(raw_rules: list[dict[str, Any]], sets: list[str]) -> list[dict[str, Any]]:
    """``driver.condition=value``: the threshold of ``driver``'s condition named by its metric (or its index) set to
    ``value``. A UsageError names what did not match."""
    rules = copy.deepcopy(raw_rules)
    for item in sets:
        target, _, text = item.partition("=")
        rule_id, _, cond = target.partition(".")
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"--set {item}: expected driver.condition=NUMBER") from None
        rule = next((r for r in rules if r.get("id") == rule_id), None)
        if rule is None or not cond or not math.isfinite(value):
            ids = ", ".join(str(r.get("id")) for r in rules)
            raise UsageError(f"--set {item}: expected driver.condition=NUMBER with a driver id ({ids})")
        conditions = rule.get("conditions", [])
        matches = [c for i, c in enumerate(conditions) if c.get("metric") == cond or str(i) == cond]
        if not matches:
            names = ", ".join(str(c.get("metric")) for c in conditions)
            raise UsageError(f"--set {item}: {rule_id} has no condition {cond!r} (its conditions: {names}, or 0..)")
        for condition in matches:
            condition["threshold"] = value
    return rules


def run_backtest(config: Any, dataset: Any, *, start: str | None, end: str | None, step: str,
                 sets: list[str], source: str) -> dict[str, Any]:  # fmt: skip
    """The document described in the module docstring."""
    try:
        step_td = parse_window(step)
    except ValueError as exc:
        raise UsageError(f"--step: {exc}") from None
    step_ms = int(step_td / pd.Timedelta(milliseconds=1))
    rules = parse_rules(apply_overrides(config.drivers_raw, sets), config.drivers_file)
    btc_obs, btc_close, _ = bar_closes(dataset.spot_klines.get("BTCUSDT", {}))
    if not btc_obs.size:
        raise UsageError("--replay: no Binance spot BTC bars in the history (the forward returns need them)")
    try:
        lo = parse_utc_ms(start) if start else max(int(dataset.start_ms), int(btc_obs[0]))
        hi = parse_utc_ms(end) if end else int(dataset.end_ms or btc_obs[-1])
    except (ValueError, TypeError):
        raise UsageError("--from/--to: expected ISO-8601 times like 2025-10-01T00:00:00Z") from None
    lo = -(-lo // step_ms) * step_ms  # the first step on the grid at or after --from
    if hi <= lo:
        raise UsageError("--from/--to: the span is empty")
    steps_ms = np.arange(lo, hi + 1, step_ms, dtype=np.int64)
    steps = [pd.Timestamp(int(ms), unit="ms", tz="UTC") for ms in steps_ms]
    metrics = HistoryMetrics(dataset, steps_ms, config.funding.baseline_8h, tuple(config.general.coins))
    states = run_rules(rules, steps, metrics.lookup_at)
    forward: dict[str, dict[str, np.ndarray]] = {"btc": {h: forward_returns(steps_ms, btc_obs, btc_close, ms,
                                                                            PRICE_MAX_AGE_MS)
                                                         for h, ms in HORIZONS.items()}}  # fmt: skip
    basket_coins = [c for c in config.general.coins if dataset.spot_klines.get(f"{c}USDT")]
    if basket_coins:
        per_coin = {c: bar_closes(dataset.spot_klines[f"{c}USDT"]) for c in basket_coins}
        forward["basket"] = {}
        for h, ms in HORIZONS.items():
            stack = np.vstack([forward_returns(steps_ms, t, p, ms, PRICE_MAX_AGE_MS) for t, p, _ in per_coin.values()])
            with warnings.catch_warnings():  # a step where no coin has both prices is NaN, not a warning
                warnings.simplefilter("ignore", RuntimeWarning)
                forward["basket"][h] = np.nanmean(stack, axis=0)
    runs, unconditional = summarise(states, forward)
    by_id = {r.id: r for r in rules}

    def iso(ms: int) -> str:
        return pd.Timestamp(int(ms), unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")

    drivers = []
    for run in runs:
        rule = by_id[run.id]
        notes = {}
        for cond in rule.conditions:
            values = metrics.series(cond.metric, cond.window)
            if all(v is None or v.value is None for v in values):
                first = next((v for v in values if v is not None and v.note), None)
                notes[cond.label] = first.note if first else "no data"
        drivers.append({
            "id": run.id,
            "name": rule.name,
            "flips": len(run.flips),
            "flip_times": [iso(steps_ms[i]) for i in run.flips],
            "time_active_hours": run.active_steps * step_ms / 3_600_000,
            "active_share": run.active_steps / len(steps_ms),
            "known_share": run.known_steps / len(steps_ms),
            "after_flip": {s: {f"{h}_pct": run.mean_after(s, h) for h in HORIZONS} for s in forward},
            "per_flip": [
                {"time": iso(steps_ms[i]),
                 **{f"{s}_{h}_pct": finite_or_none(run.returns[s][h][k]) for s in forward for h in HORIZONS}}
                for k, i in enumerate(run.flips)
            ],
            "unknown_note": "; ".join(f"{label}: {note}" for label, note in notes.items()) or None,
        })  # fmt: skip
    return {
        "schema": SCHEMA,
        "source": source,
        "from": iso(steps_ms[0]),
        "to": iso(steps_ms[-1]),
        "step": step,
        "steps": len(steps_ms),
        "overrides": list(sets),
        "horizons": list(HORIZONS),
        "basket_coins": basket_coins,
        "unconditional": {s: {f"{h}_pct": v for h, v in by_h.items()} for s, by_h in unconditional.items()},
        "drivers": drivers,
    }


def render_text(doc: dict[str, Any]) -> str:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:+.2f}%"

    lines = [
        f"altpulse backtest · {doc['source']} · {doc['from']} → {doc['to']} · step {doc['step']} "
        f"({doc['steps']:,} steps)" + (f" · --set {' '.join(doc['overrides'])}" if doc["overrides"] else "")
    ]
    series = list(doc["unconditional"])
    head = "  ".join(f"{s} {h}" for s in series for h in doc["horizons"])
    unc = "  ".join(f"{s} {h} {pct(doc['unconditional'][s][f'{h}_pct'])}" for s in series for h in doc["horizons"])
    lines.append(f"Unconditional mean forward return over the span (any step): {unc}")
    if "basket" in doc["unconditional"]:
        lines.append(f"Basket: equal-weighted mean of {', '.join(doc['basket_coins'])} (where each has prices)")
    lines.append(f"{'driver':<32} {'flips':>5} {'active':>9} {'known':>6}   mean after a flip: {head}")
    for d in doc["drivers"]:
        after = "  ".join(f"{pct(d['after_flip'][s][f'{h}_pct']):>9}" for s in series for h in doc["horizons"])
        lines.append(f"{d['name'][:32]:<32} {d['flips']:>5} {d['time_active_hours']:>8.0f}h {d['known_share']:>6.0%}"
                     f"   {after}")  # fmt: skip
    unknown = [d for d in doc["drivers"] if d["unknown_note"]]
    if unknown:
        lines.append("Not evaluable over this history (unknown, never flips):")
        lines.extend(f"  {d['name']}: {d['unknown_note']}" for d in unknown)
    lines.append("Forward returns overlap when flips are closer than the horizon; few flips prove nothing. Every "
                 "figure at time t uses data observed at or before t.")  # fmt: skip
    return "\n".join(lines)


def run_backtest_command(config: Any, args: Any) -> int:
    from tui.boot import load_history

    started = time.monotonic()
    path = Path(args.replay)
    dataset = load_history(path)
    doc = run_backtest(config, dataset, start=args.start, end=args.end, step=args.step, sets=args.set or [],
                       source=f"replay {path}")  # fmt: skip
    doc["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(doc, indent=2) if args.json else render_text(doc))
    return 0
