"""How far a driver's figure is from its normal: the ranking behind the dashboard's "why" line.

The line (:mod:`tui.views.explain`) names the figures of the *active* drivers, furthest from normal first. "How far"
has to mean something comparable across a Fear & Greed index, a liquidation multiple and a dollar flow, so every
figure gets a **normal** ``N`` and a **scale** ``S`` and its score is ``(value - N) / S``, signed so that a move in
the driver's direction is positive. What ``N`` and ``S`` are, per figure:

1. **The user's threshold sets the scale** (the default): ``S = threshold - N``, so a score of 1.0 means "exactly
   as far from normal as the threshold the user configured", 2.0 twice as far. ``N`` is the figure's neutral
   value (:data:`NEUTRAL`): 1.0 for the liquidation multiple (the trailing hourly median itself: 55x is 55 times
   normal) and for the buy/sell ratio (buys = sells), the funding baseline (config ``funding.baseline_8h``, 0.01 %
   per 8 h) for median funding, 50 for Fear & Greed (neutral on its 0-100 scale), and 0 for every change, flow,
   streak and share (a share of 0.75 against a threshold of 0.6 scores 1.25: the plain ratio to the threshold).
2. **The history the console holds sets the scale** when the threshold sits *at* the normal (``ETF net flow < 0``,
   ``CVD change < 0``: the threshold says which side, not how far). Then the score is a z-score against the same
   figure's own history in memory: ``(value - mean) / std`` of the rolling window sums of the daily ETF totals, or
   of the basket's daily CVD deltas, over every day held (at least :data:`MIN_HISTORY` windows; ``N`` is then the
   historical mean). Overlapping windows make that std an estimate, not an independent-sample one; it is a scale,
   not a test.
3. **No honest scale**: the threshold equals the normal and no history is held (or it is too short). The score is
   None and the figure is ranked after every scored one, in the configuration's order. It is still shown: the
   driver is active, only its distance is unknown.

Funding median is the one figure whose threshold is usually *at* the baseline with no history of the median kept;
its scale is then the baseline itself (a median of 0.025 %/8h against 0.01 % scores 1.5: one and a half baselines
above the baseline), which is what "crowded" is measured against on the funding pane's colour scale.

Only usable values (present, finite, not stale: :attr:`analytics.drivers.MetricValue.usable`) are scored; a stale
or unknown figure never reaches the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_HISTORY", "NEUTRAL", "Distance", "distance", "history_z"]

#: The neutral value of each figure that is not 0 (see the module docstring); ``funding_median_8h``'s is the
#: configured baseline and is passed in.
NEUTRAL: dict[str, float] = {
    "long_liq_vs_median": 1.0,
    "basket_buy_sell_ratio": 1.0,
    "fear_greed": 50.0,
}
#: Fewest rolling windows a history must have to set a z-score's scale.
MIN_HISTORY = 20


@dataclass(frozen=True)
class Distance:
    """A figure's distance from normal: ``score`` (None: no honest scale), the ``normal`` it is measured from and
    ``basis``, one line saying how (shown in the snapshot JSON)."""

    score: float | None
    normal: float | None
    basis: str


def history_z(value: float, windows: np.ndarray) -> tuple[float, float, float] | None:
    """``(z, mean, std)`` of ``value`` against the finite entries of ``windows`` (rolling window values of the same
    figure); None when fewer than :data:`MIN_HISTORY` are finite or they do not vary."""
    finite = windows[np.isfinite(windows)]
    if finite.size < MIN_HISTORY:
        return None
    mean = float(finite.mean())
    std = float(finite.std(ddof=1))
    if not math.isfinite(std) or std <= 0.0:
        return None
    return (value - mean) / std, mean, std


def distance(
    metric: str,
    value: float,
    threshold: float,
    op: str,
    *,
    baseline_8h: float = 0.0001,
    history: np.ndarray | None = None,
) -> Distance:
    """How far ``value`` of ``metric`` is from its normal (module docstring), positive in the direction the
    condition ``op threshold`` points (a fall for ``<``/``<=``, a rise for ``>``/``>=``).

    ``history``: the rolling window values of the same figure, for figures whose threshold sits at their normal.
    """
    normal = baseline_8h if metric == "funding_median_8h" else NEUTRAL.get(metric, 0.0)
    span = threshold - normal
    if span != 0.0 and math.isfinite(span):
        return Distance(
            (value - normal) / span, normal, f"(value - {normal:g}) / (threshold {threshold:g} - {normal:g})"
        )
    sign = -1.0 if op in ("<", "<=") else 1.0
    if history is not None:
        windows = np.asarray(history, dtype=float)
        z = history_z(value, windows)
        if z is not None:
            score, mean, std = z
            n = int(np.isfinite(windows).sum())
            return Distance(
                sign * score, mean, f"z-score against {n} rolling windows held (mean {mean:.4g}, std {std:.4g})"
            )
    if metric == "funding_median_8h" and normal > 0:
        return Distance(sign * (value - normal) / normal, normal, f"(value - baseline {normal:g}) / baseline")
    return Distance(None, normal, "threshold at the normal and no history held: distance unknown")
