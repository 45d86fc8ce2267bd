"""The key-driver rules over history: their states at a fixed step, flips to active, time active, and what BTC (and a
basket) did after each flip compared with any time in the same span.

Pure functions over arrays: the metric values at each step come from the caller (``altpulse backtest``,
:mod:`tui.commands.backtest`), which computes each one with the console's own analytics from data at or before the
step only, so every figure at time ``t`` is look-ahead-free by construction. The rules are evaluated by
:func:`analytics.drivers.evaluate`, the same function the console's checklist calls, with the states carried from
one step to the next as the console carries them from one tick to the next.

Definitions (what the README reports):

- **flip to active**: a step where a driver is active and its last *known* state before it was clear. Unknown
  steps (data missing or stale) are skipped, neither ending nor starting a run: a driver that goes clear -> unknown
  -> active flipped once; one that was active before a data gap and is active after it did not flip. A driver
  active at the first known step did not flip (nothing says when it began).
- **time active**: steps active x step.
- **forward return** over ``h`` from ``t``: ``price(t + h) / price(t) - 1`` in percent, where ``price(x)`` is the last
  close observed at or before ``x``; NaN when ``t + h`` is past the last price or either price is older than
  ``max_age`` (a gap in the data). The future price is read only to *score* a flip, never to decide one.
- **unconditional average**: the mean forward return over every step of the span where it is defined: what
  holding from a random step of the same span returned. The difference is the rule's edge *in this sample*; windows
  after flips closer than ``h`` overlap, and a handful of flips proves nothing (the README says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from analytics.drivers import DriverState, MetricValue, Rule, evaluate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DriverRun", "evaluate_steps", "flips_to_active", "forward_returns", "run_rules", "summarise"]


def evaluate_steps(
    rules: Iterable[Rule],
    steps: Sequence[pd.Timestamp],
    lookup_at: Callable[[int], Callable[[str, str | None], MetricValue | None]],
) -> list[list[DriverState]]:
    """Every enabled rule's :class:`DriverState` at every step (values, thresholds, since), ``evaluate`` once per
    step with the previous step's states passed on, as the console passes them from tick to tick. ``lookup_at(i)``
    is the metric lookup at step ``i`` (data up to ``steps[i]`` only)."""
    rules = [r for r in rules if r.enabled]
    out: list[list[DriverState]] = []
    previous: dict[str, DriverState] = {}
    for i, now in enumerate(steps):
        states = evaluate(rules, lookup_at(i), previous, now)
        out.append(states)
        previous = {s.id: s for s in states}
    return out


def run_rules(
    rules: Iterable[Rule],
    steps: Sequence[pd.Timestamp],
    lookup_at: Callable[[int], Callable[[str, str | None], MetricValue | None]],
) -> dict[str, list[str]]:
    """Each enabled rule's state (active / clear / unknown) at every step (:func:`evaluate_steps`)."""
    rules = [r for r in rules if r.enabled]
    out: dict[str, list[str]] = {r.id: [] for r in rules}
    for states in evaluate_steps(rules, steps, lookup_at):
        for state in states:
            out[state.id].append(state.state)
    return out


def flips_to_active(states: Sequence[str]) -> list[int]:
    """Step indexes where the state turns active from a last known state of clear (module docstring)."""
    flips: list[int] = []
    last_known: str | None = None
    for i, state in enumerate(states):
        if state == "unknown":
            continue
        if state == "active" and last_known == "clear":
            flips.append(i)
        last_known = state
    return flips


def forward_returns(
    steps_ms: np.ndarray, price_ms: np.ndarray, prices: np.ndarray, horizon_ms: int, max_age_ms: int
) -> np.ndarray:
    """Forward return in percent from each step over ``horizon_ms`` (module docstring); ``price_ms`` are the times
    the ``prices`` were observed (sorted)."""
    steps_ms = np.asarray(steps_ms, dtype=np.int64)
    price_ms = np.asarray(price_ms, dtype=np.int64)
    prices = np.asarray(prices, dtype=float)
    out = np.full(steps_ms.shape, np.nan)
    if not price_ms.size:
        return out

    def at(times: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(price_ms, times, side="right") - 1
        ok = pos >= 0
        value = np.where(ok, prices[np.clip(pos, 0, None)], np.nan)
        age = times - price_ms[np.clip(pos, 0, None)]
        return np.where(ok & (age <= max_age_ms), value, np.nan)

    start, end = at(steps_ms), at(steps_ms + horizon_ms)
    end = np.where(steps_ms + horizon_ms <= price_ms[-1], end, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (end / start - 1.0) * 100.0
    return np.where(np.isfinite(out), out, np.nan)


def _mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


@dataclass(frozen=True)
class DriverRun:
    """One driver over the span: flips to active (step indexes), steps active / known, and the forward returns after
    each flip per series and horizon (``returns[series][horizon]``, NaN where undefined)."""

    id: str
    flips: list[int]
    active_steps: int
    known_steps: int
    returns: dict[str, dict[str, list[float]]]

    def mean_after(self, series: str, horizon: str) -> float | None:
        return _mean(np.asarray(self.returns[series][horizon], dtype=float))


def summarise(
    states: dict[str, list[str]], forward: dict[str, dict[str, np.ndarray]]
) -> tuple[list[DriverRun], dict[str, dict[str, float | None]]]:
    """Per driver its :class:`DriverRun`; and the unconditional mean forward return per series and horizon.

    ``forward[series][horizon]`` is the forward-return array over every step (:func:`forward_returns`)."""
    runs = []
    for rule_id, seq in states.items():
        flips = flips_to_active(seq)
        returns = {s: {h: [float(arr[i]) for i in flips] for h, arr in by_h.items()} for s, by_h in forward.items()}
        runs.append(
            DriverRun(rule_id, flips, sum(s == "active" for s in seq), sum(s != "unknown" for s in seq), returns)
        )
    unconditional = {s: {h: _mean(arr) for h, arr in by_h.items()} for s, by_h in forward.items()}
    return runs, unconditional


def finite_or_none(value: float | None) -> float | None:
    """A finite float or None (JSON null)."""
    return None if value is None or not math.isfinite(value) else float(value)
