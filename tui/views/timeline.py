"""The drivers timeline: when each key driver was active over the history available, with BTC and the basket's
CVD under it, on the market clock (UTC).

Two steps, so the heavy one runs off the UI thread:

- :func:`compute_history` (seconds; the screen runs it in a thread worker): every ``[[drivers]]`` rule evaluated at
  a fixed step over the history, by the backtest's engine (:class:`tui.views.history.HistoryMetrics` and
  :func:`analytics.backtest.evaluate_steps`, the console's own rule evaluator), each step seeing only the data
  observed at or before it. The history is what :func:`tui.boot.timeline_history` finds: the demo's simulated
  market, the replay files, or the recorder's store, cut at the market clock (no step is later than "now").
- :func:`build_timeline_view` and :func:`period_detail` (pure, milliseconds): the steps grouped into as many
  periods (cells) as the pane has columns. **A cell is active when the driver was active at more than half of its
  steps, unknown when it was unknown at half or more, otherwise clear**: a narrow pane shows fewer, longer
  periods, and the legend says how long. BTC is the last close observed by each period's end; the basket CVD is
  the basket coins' taker buy minus sell volume cumulated from the timeline's first step (None when the history
  has no taker split, as the real replay files have none).

A driver the history cannot evaluate at any step (the replay files carry no taker split, liquidation tape, open
interest or market history) is an "unknown" row with the reason, never a clear one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.backtest import evaluate_steps
from analytics.drivers import DriverState, parse_rules
from records.viewmodels import TimelineDetail, TimelineDetailRow, TimelineRow, TimelineView
from tui.views.history import HistoryMetrics, bar_closes
from widgets.format import money

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: The spans ``[`` / ``]`` cycle through ("all": from the history's first BTC bar).
SPANS = ("all", "90d", "30d", "7d", "2d")
SPAN_MS = {"90d": 90 * DAY_MS, "30d": 30 * DAY_MS, "7d": 7 * DAY_MS, "2d": 2 * DAY_MS}
#: Evaluation steps, finest first: the finest that keeps a span within :data:`MAX_STEPS` is used.
STEPS_MS = (15 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, 4 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 7 * DAY_MS)
#: About two years at 12 h: a few seconds of evaluation on a 2-core machine.
MAX_STEPS = 1500
LETTER = {"active": "a", "clear": "c", "unknown": "u"}
STATE_OF = {v: k for k, v in LETTER.items()}


@dataclass(frozen=True)
class TimelineHistory:
    """Every driver's state at every step of the span (``states[i]``: the rules' :class:`DriverState` at
    ``steps_ms[i]``), BTC's last observed close and the basket CVD at each step (NaN: unknown), and why a driver
    is unknown at every step (``unknown_notes``)."""

    source: str
    span: str
    step_ms: int
    steps_ms: np.ndarray
    ids: tuple[str, ...]
    names: tuple[str, ...]
    states: list[list[DriverState]]
    btc: np.ndarray
    cvd: np.ndarray
    unknown_notes: dict[str, str]
    #: Drivers with a condition never known (their state rests on the others), and why.
    partial_notes: dict[str, str] = field(default_factory=dict)

    def letters(self, rule: int) -> np.ndarray:
        return np.array([LETTER[step[rule].state] for step in self.states], dtype="<U1")


def next_span(span: str, step: int) -> str:
    i = SPANS.index(span) if span in SPANS else 0
    return SPANS[(i + step) % len(SPANS)]


def choose_step(span_ms: int) -> int:
    """The finest of :data:`STEPS_MS` that keeps ``span_ms`` within :data:`MAX_STEPS` steps."""
    for step in STEPS_MS:
        if span_ms // step <= MAX_STEPS:
            return step
    return STEPS_MS[-1]


def _step_text(ms: int) -> str:
    if ms % DAY_MS == 0:
        return f"{ms // DAY_MS}d"
    return f"{ms // HOUR_MS}h" if ms % HOUR_MS == 0 else f"{ms // MINUTE_MS}m"


def compute_history(config: Any, dataset: Any, end_ms: int, span: str = "all", source: str = "") -> TimelineHistory:
    """The drivers' states over ``span`` ending at ``end_ms`` (the market clock), on the step grid; raises
    ``ValueError`` when the history has no BTC bar before ``end_ms``."""
    rules = [r for r in parse_rules(config.drivers_raw, config.drivers_file) if r.enabled]
    btc_obs, btc_close, _ = bar_closes(dataset.spot_klines.get("BTCUSDT", {}))
    if not btc_obs.size or int(btc_obs[0]) > end_ms:
        raise ValueError("no Binance spot BTC bars in the history before the market clock")
    first = max(int(dataset.start_ms or btc_obs[0]), int(btc_obs[0]))
    lo = first if span not in SPAN_MS else max(first, end_ms - SPAN_MS[span])
    step = choose_step(end_ms - lo)
    lo = -(-lo // step) * step  # the first step on the grid at or after the start
    hi = end_ms // step * step
    if hi < lo:
        lo = hi
    steps_ms = np.arange(lo, hi + 1, step, dtype=np.int64)
    metrics = HistoryMetrics(dataset, steps_ms, config.funding.baseline_8h, tuple(config.general.coins))
    stamps = [pd.Timestamp(int(ms), unit="ms", tz="UTC") for ms in steps_ms]
    states = evaluate_steps(rules, stamps, metrics.lookup_at)
    pos = np.searchsorted(btc_obs, steps_ms, side="right") - 1
    safe = np.clip(pos, 0, None)
    btc = np.where((pos >= 0) & (steps_ms - btc_obs[safe] <= DAY_MS), btc_close[safe], np.nan)
    notes: dict[str, str] = {}
    never: dict[str, str] = {}
    for k, rule in enumerate(rules):
        why = []
        for cond in rule.conditions:
            values = metrics.series(cond.metric, cond.window)
            if all(v is None or v.value is None for v in values):
                first_note = next((v.note for v in values if v is not None and v.note), "no data")
                why.append(f"{cond.label}: {first_note}")
        if all(s[k].state == "unknown" for s in states):
            notes[rule.id] = "; ".join(why) or "its data is stale or missing at every step"
        elif why:  # evaluable only through its other conditions (a false one clears an "all" rule)
            never[rule.id] = "never known over this history: " + "; ".join(why)
    return TimelineHistory(source, span, step, steps_ms, tuple(r.id for r in rules), tuple(r.name for r in rules),
                           states, btc, metrics.basket_cvd_line(), notes, never)  # fmt: skip


def _chunks(n_steps: int, width: int) -> tuple[int, int]:
    """(steps per cell, cells) for ``n_steps`` steps in at most ``width`` cells."""
    per = max(1, math.ceil(n_steps / max(1, width)))
    return per, math.ceil(n_steps / per) if n_steps else 0


def aggregate(letters: np.ndarray, per: int) -> str:
    """One letter per run of ``per`` steps: ``a`` when active at more than half of them, ``u`` when unknown at
    half or more, else ``c`` (the module docstring's rule)."""
    out = []
    for start in range(0, len(letters), per):
        part = letters[start : start + per]
        active, unknown = int((part == "a").sum()), int((part == "u").sum())
        out.append("a" if 2 * active > len(part) else "u" if 2 * unknown >= len(part) else "c")
    return "".join(out)


def _time(ms: int, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").strftime(fmt)


def _axis(starts: list[int], span_ms: int, cells: int) -> tuple[tuple[int, str], ...]:
    """UTC date labels under the cells, each at the cell it starts on, never overlapping (one gap cell)."""
    fmt = "%d %H:%M" if span_ms <= 3 * DAY_MS else "%m-%d" if span_ms <= 200 * DAY_MS else "%Y-%m"
    labels: list[tuple[int, str]] = []
    width = len(_time(starts[0], fmt)) if starts else 0
    every = max(width + 2, cells // 6 if cells >= 6 * (width + 2) else width + 2)
    for cell in range(0, cells, every):
        if cell + width <= cells:
            labels.append((cell, _time(starts[cell], fmt)))
    return tuple(labels)


def label_width(total_width: int) -> int:
    """The driver-name column: 24 characters in a wide pane, 14 in a narrow one (names are cut with …)."""
    return 24 if total_width >= 120 else 14


def build_timeline_view(history: TimelineHistory, total_width: int, cursor_step: int | None = None) -> TimelineView:
    """The timeline at ``total_width`` columns; the cursor on the period holding step ``cursor_step`` (default:
    the last, "now")."""
    names = label_width(total_width)
    n = len(history.steps_ms)
    per, cells = _chunks(n, total_width - names - 1)
    rows = []
    for k, rule_id in enumerate(history.ids):
        note = history.unknown_notes.get(rule_id, "")
        rows.append(TimelineRow(rule_id, history.names[k], aggregate(history.letters(k), per),
                                f"unknown over this history: {note}" if note else ""))  # fmt: skip
    starts = [int(history.steps_ms[min(c * per, n - 1)]) for c in range(cells)]
    ends = [min((c + 1) * per, n) - 1 for c in range(cells)]
    cursor = min(cells - 1, (n - 1 if cursor_step is None else max(0, min(cursor_step, n - 1))) // per)
    btc = tuple(_finite(history.btc[i]) for i in ends)
    cvd = tuple(_finite(history.cvd[i]) for i in ends)
    period = per * history.step_ms
    span_ms = int(history.steps_ms[-1] - history.steps_ms[0]) + history.step_ms if n else 0
    first, last = (int(history.steps_ms[0]), int(history.steps_ms[-1])) if n else (0, 0)
    title = (f"span {history.span} · step {_step_text(history.step_ms)} · {_time(first, '%Y-%m-%d')} → "
             f"{_time(last)} UTC · {history.source}")  # fmt: skip
    legend = "● active  ○ clear  ? unknown (data missing or stale)"
    rule = f"1 cell = {_step_text(period)}: active if active most of it, unknown if unknown half of it or more"
    return TimelineView(
        title=title,
        rows=tuple(rows),
        label_width=names,
        axis=_axis(starts, span_ms, cells),
        btc=btc,
        cvd=cvd,
        btc_label=_range_label("BTC", btc, lambda v: f"{v:,.0f}"),
        cvd_label=_range_label("CVD", cvd, lambda v: money(v, signed=True)),
        cursor=cursor,
        cursor_label=_period_text(history, cursor, per),
        legend=legend,
        rule=rule,
    )


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _range_label(name: str, values: tuple[float | None, ...], fmt: Any) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return f"{name} unknown"
    return f"{name} {fmt(min(known))}–{fmt(max(known))}"


def _period_text(history: TimelineHistory, cell: int, per: int) -> str:
    n = len(history.steps_ms)
    if not n:
        return ""
    a, b = cell * per, min((cell + 1) * per, n) - 1
    start = int(history.steps_ms[a])
    end = int(history.steps_ms[b])
    return _time(start) + " UTC" if a == b else f"{_time(start)} → {_time(end)} UTC"


def cell_last_step(history: TimelineHistory, total_width: int, cell: int) -> int:
    """The step index at the end of ``cell`` at this width (what the cursor keeps across a resize)."""
    n = len(history.steps_ms)
    per, cells = _chunks(n, total_width - label_width(total_width) - 1)
    cell = max(0, min(cell, cells - 1))
    return min((cell + 1) * per, n) - 1


def period_detail(history: TimelineHistory, total_width: int, cell: int) -> TimelineDetail:
    """Every driver in ``cell``'s period: its state over the period and its values at the period's end."""
    n = len(history.steps_ms)
    per, _ = _chunks(n, total_width - label_width(total_width) - 1)
    a, b = cell * per, min((cell + 1) * per, n)
    rows = []
    for k, rule_id in enumerate(history.ids):
        letters = history.letters(k)[a:b]
        end = history.states[b - 1][k]
        note = history.unknown_notes.get(rule_id, "") or history.partial_notes.get(rule_id, "")
        if not note and end.state == "unknown":
            note = "; ".join(r.metric.note for r in end.values if r.metric is not None and r.metric.note)
        rows.append(TimelineDetailRow(
            name=history.names[k], state=STATE_OF[aggregate(letters, per)], active_share=float((letters == "a").mean()),
            state_at_end=end.state, value=end.display_value, threshold=end.display_threshold, detail=end.detail,
            note=note,
        ))  # fmt: skip
    btc = _finite(history.btc[b - 1])
    cvd = _finite(history.cvd[b - 1])
    title = (f"{_period_text(history, cell, per)} · values at {_time(int(history.steps_ms[b - 1]))} UTC · BTC "
             f"{'unknown' if btc is None else f'{btc:,.0f}'} · basket CVD since the start "
             f"{'unknown' if cvd is None else money(cvd, signed=True)}")  # fmt: skip
    return TimelineDetail(title, tuple(rows))
