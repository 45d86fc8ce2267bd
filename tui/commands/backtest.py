"""``altpulse backtest --replay PATH [--from T --to T] [--step 1h] [--set driver.condition=value] [--json]``: the key
driver rules over history, and what BTC and the basket did after each flip to active.

Headless (no Textual). The history is the replay engine's dataset (:func:`tui.boot.load_history`: the files
``--replay`` reads, through the same parsers, or a recorder store). The rules are the console's (config.toml's
``[[drivers]]``, with ``--set`` overrides) evaluated by :func:`analytics.drivers.evaluate` at every step
(:func:`analytics.backtest.run_rules`). The metrics at each step are computed by :class:`HistoryMetrics` with the
same analytics functions the console's :class:`tui.views.metrics.Metrics` calls, on the data observed at or before
the step only:

======================  ===========================================================================================
metric                  at step t
======================  ===========================================================================================
btc_change(w)           :func:`analytics.price.pct_change_over` on Binance spot BTC closes observed by t (a bar's
                        close at its close time), from the finest bars no coarser than ``w``; stale when the last
                        close is older than two bars
etf_*                   :mod:`analytics.etf` on the US spot BTC ETF days known by t (day D is taken as known at
                        D+1 00:00 UTC: Farside fills a day in during the US evening); stale after 5.5 days, the
                        console's rule
fear_greed              the index value published by t (alternative.me publishes at 00:00 UTC); stale after 2 days
spy_change(w)           :func:`analytics.macro.spy_change` on the sessions closed by t (16:00 New York); SPY, or the
                        S&P 500 index standing in as the console does; stale after 5.5 days
us2y_change(w)          :func:`analytics.macro.yield_change` on FRED DGS2 days known by t (published a day late)
funding_median_8h,      :func:`analytics.funding.funding_stats` on each venue's last **settled** rate by t (per 8 h;
funding_share_...       a rate older than two of its periods is left out). The console reads the venues' live
                        predicted rate, which history does not keep: the settled rate is the closest record
others                  unknown, with the reason: basket CVD needs taker-split daily bars, the cascade a
                        liquidation tape, OI, dominance, stablecoin share and small caps a history replay files do
                        not carry (a driver resting on them stays unknown and never flips)
======================  ===========================================================================================

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics import etf as etf_an
from analytics import macro as macro_an
from analytics.backtest import finite_or_none, forward_returns, run_rules, summarise
from analytics.calendar import parse_utc_ms
from analytics.drivers import MetricValue, parse_rules, parse_window
from analytics.funding import funding_stats
from analytics.price import pct_change_over
from tui.runtime.feeds_macro import EQUITY_MAX_AGE_DAYS, ETF_MAX_AGE_DAYS
from tui.runtime.modes import UsageError

SCHEMA = "altpulse.backtest/1"
DAY_MS = 86_400_000
HORIZONS = {"1d": DAY_MS, "7d": 7 * DAY_MS}
#: The oldest a price may be to start or end a forward return: one daily bar (the coarsest kept).
PRICE_MAX_AGE_MS = DAY_MS
#: What no replay file carries, per metric (their drivers stay unknown).
NOT_REPLAYED = {
    "basket_cvd_change": "basket CVD is not replayed by the backtest (needs daily taker-split bars)",
    "basket_buy_sell_ratio": "basket CVD is not replayed by the backtest (needs daily taker-split bars)",
    "long_liq_vs_median": "no liquidation tape in the history (no keyless liquidation history exists)",
    "oi_change": "no open-interest history in the replay data",
    "smallcap_vs_largecap": "no CoinGecko market history in the replay data",
    "btc_dominance_change": "no BTC dominance history in the replay data",
    "stablecoin_share_change": "no stablecoin-share history in the replay data",
}


def _closes(frames: dict[int, pd.DataFrame], max_interval_ms: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(observed ms, closes, bar ms) of the finest bars no coarser than ``max_interval_ms`` (every size merged when
    None: finer bars win where they overlap); a bar's close is observed at its close time (open + interval)."""
    sizes = sorted(ms for ms in frames if max_interval_ms is None or ms <= max_interval_ms)
    if not sizes:
        return np.array([], dtype=np.int64), np.array([]), 0
    if max_interval_ms is not None:
        sizes = sizes[:1]
    times, closes = [], []
    for size in reversed(sizes):  # coarse first, so a finer bar at the same instant comes later and wins
        frame = frames[size]
        times.append(frame["open_time"].to_numpy(np.int64) + size)
        closes.append(frame["close"].to_numpy(float))
    t, c = np.concatenate(times), np.concatenate(closes)
    order = np.argsort(t, kind="stable")
    t, c = t[order], c[order]
    keep = np.append(t[1:] != t[:-1], True)  # the last of equal instants (the finest)
    return t[keep], c[keep], sizes[0]


class HistoryMetrics:
    """The driver metrics at each step of ``steps_ms``, from ``dataset`` (an ``emulator.dataset.MarketDataset``) at or
    before each step; ``series(metric, window)`` is computed once for every step, then read by index."""

    def __init__(self, dataset: Any, steps_ms: np.ndarray, baseline_8h: float) -> None:
        self.dataset = dataset
        self.steps_ms = steps_ms
        self.baseline_8h = baseline_8h
        self._cache: dict[tuple[str, str | None], list[MetricValue | None]] = {}

    def lookup_at(self, i: int) -> Callable[[str, str | None], MetricValue | None]:
        return lambda metric, window: self.series(metric, window)[i]

    def series(self, metric: str, window: str | None) -> list[MetricValue | None]:
        key = (metric, window)
        if key not in self._cache:
            self._cache[key] = self._build(metric, window)
        return self._cache[key]

    def _stamp(self, ms: int) -> pd.Timestamp:
        return pd.Timestamp(int(ms), unit="ms", tz="UTC")

    def _unknown(self, note: str) -> list[MetricValue | None]:
        return [MetricValue(None, None, note=note)] * len(self.steps_ms)

    def _build(self, metric: str, window: str | None) -> list[MetricValue | None]:
        if metric in NOT_REPLAYED:
            return self._unknown(NOT_REPLAYED[metric])
        builder = {
            "btc_change": self._btc_change, "etf_net_flow_sum": self._etf, "etf_outflow_streak": self._etf,
            "etf_min_daily_flow": self._etf, "fear_greed": self._fear_greed, "spy_change": self._spy,
            "us2y_change": self._us2y, "funding_median_8h": self._funding,
            "funding_share_above_baseline": self._funding,
        }.get(metric)  # fmt: skip
        if builder is None:
            return self._unknown(f"{metric} is not replayed by the backtest")
        return builder(metric, window)

    def _known(self, known_ms: np.ndarray, max_age_ms: float, compute: Callable[[int], MetricValue],
               ) -> list[MetricValue | None]:  # fmt: skip
        """At each step: ``compute(k)`` on the first ``k`` records known by then (memoised on ``k``), marked stale
        when the newest is older than ``max_age_ms``; unknown before the first."""
        counts = np.searchsorted(known_ms, self.steps_ms, side="right")
        memo: dict[int, MetricValue] = {}
        out: list[MetricValue | None] = []
        for step, k in zip(self.steps_ms.tolist(), counts.tolist(), strict=True):
            if k == 0:
                out.append(MetricValue(None, None, note="no data yet at this time"))
                continue
            if k not in memo:
                memo[k] = compute(k)
            value = memo[k]
            if step - int(known_ms[k - 1]) > max_age_ms:
                value = MetricValue(value.value, value.as_of, stale=True, note="data is stale")
            out.append(value)
        return out

    # -- per metric -------------------------------------------------------------------------------------------
    def _btc_change(self, metric: str, window: str | None) -> list[MetricValue | None]:
        span = parse_window(window or "1h")
        frames = self.dataset.spot_klines.get("BTCUSDT", {})
        obs, closes, size = _closes(frames, int(span / pd.Timedelta(milliseconds=1)))
        if not obs.size:
            return self._unknown(f"no Binance spot BTC bars as fine as {window}")
        series = pd.Series(closes, index=pd.DatetimeIndex(pd.to_datetime(obs, unit="ms", utc=True)))
        return self._known(obs, 2 * size, lambda k: MetricValue(
            finite_or_none(pct_change_over(series.iloc[:k], span)), self._stamp(obs[k - 1])))  # fmt: skip

    def _etf(self, metric: str, window: str | None) -> list[MetricValue | None]:
        frame = self.dataset.etf_flows.get("btc")
        if frame is None or not len(frame):
            return self._unknown("no US spot BTC ETF flows in the history")
        days = pd.DatetimeIndex(pd.to_datetime([str(d) for d in frame.index], utc=True))
        known = (days + pd.Timedelta(days=1)).as_unit("ms").asi8

        def compute(k: int) -> MetricValue:
            part = frame.iloc[:k]
            if metric == "etf_outflow_streak":
                return MetricValue(float(etf_an.outflow_streak_days(part)), self._stamp(known[k - 1]))
            n = int(parse_window(window or ("3d" if metric == "etf_net_flow_sum" else "10d")).days)
            fig = etf_an.net_flow_sum(part, n) if metric == "etf_net_flow_sum" else etf_an.largest_outflow(part, n)
            return MetricValue(finite_or_none(fig.value), self._stamp(known[k - 1]), note=fig.note)

        return self._known(known, ETF_MAX_AGE_DAYS * DAY_MS, compute)

    def _fear_greed(self, metric: str, window: str | None) -> list[MetricValue | None]:
        fng = self.dataset.fear_greed
        if fng is None or not len(fng):
            return self._unknown("no Fear & Greed history")
        known = fng["time"].to_numpy(np.int64)
        values = fng["value"].to_numpy(float)
        return self._known(known, 2 * DAY_MS, lambda k: MetricValue(finite_or_none(values[k - 1]),
                                                                   self._stamp(known[k - 1])))  # fmt: skip

    def _spy(self, metric: str, window: str | None) -> list[MetricValue | None]:
        sessions = int(parse_window(window or "5d").days)
        columns = []
        for symbol in ("SPY", "^GSPC"):
            bars = self.dataset.equities.get(symbol)
            if bars is None or not len(bars):
                continue
            opened = bars["time"].to_numpy(np.int64)
            known = opened + int(6.5 * 3_600_000)  # the session's close (16:00 New York, 6.5 h after its open)
            closes = pd.Series(bars["close"].to_numpy(float), index=pd.to_datetime(opened, unit="ms", utc=True))

            def compute(k: int, closes: pd.Series = closes, known: np.ndarray = known, symbol: str = symbol,
                        ) -> MetricValue:  # fmt: skip
                change = macro_an.spy_change(closes.iloc[:k], sessions)
                proxy = "" if symbol == "SPY" else "^GSPC (proxy for SPY)"
                return MetricValue(finite_or_none(change.value), self._stamp(known[k - 1]), note=change.note,
                                   quality=proxy)  # fmt: skip

            columns.append(self._known(known, EQUITY_MAX_AGE_DAYS * DAY_MS, compute))
        if not columns:
            return self._unknown("no SPY or S&P 500 history")
        out: list[MetricValue | None] = []
        for values in zip(*columns, strict=True):  # SPY where it is usable, else the index standing in
            usable = [v for v in values if v is not None and v.usable]
            out.append(usable[0] if usable else values[-1])
        return out

    def _us2y(self, metric: str, window: str | None) -> list[MetricValue | None]:
        frame = self.dataset.rates.get("DGS2")
        if frame is None or not len(frame):
            return self._unknown("no FRED DGS2 history in the replay data")
        days = int(parse_window(window or "10d").days)
        times = frame["time"].to_numpy(np.int64)
        values = pd.Series(frame["value"].to_numpy(float), index=pd.to_datetime(times, unit="ms", utc=True))
        known = times + DAY_MS  # FRED publishes DGS2 a business day late

        def compute(k: int) -> MetricValue:
            change = macro_an.yield_change(values.iloc[:k], days)
            return MetricValue(finite_or_none(change.value), self._stamp(known[k - 1]), note=change.note)

        return self._known(known, 7 * DAY_MS, compute)

    def _funding(self, metric: str, window: str | None) -> list[MetricValue | None]:
        funding = self.dataset.funding
        if funding is None or not len(funding):
            return self._unknown("no funding history")
        pairs = []
        for (venue, coin), rows in funding.groupby(["exchange", "coin"], sort=True):
            rows = rows.sort_values("time")
            hours = rows["interval_hours"].to_numpy(float)
            pairs.append((str(venue), str(coin), rows["time"].to_numpy(np.int64),
                          rows["rate"].to_numpy(float) * 8.0 / hours, hours))  # fmt: skip
        memo: dict[tuple[int, ...], tuple[float, float]] = {}
        out: list[MetricValue | None] = []
        for step in self.steps_ms.tolist():
            positions = []
            for _, _, times, _, hours in pairs:
                pos = int(np.searchsorted(times, step, side="right")) - 1
                fresh = pos >= 0 and step - int(times[pos]) <= 2 * hours[pos] * 3_600_000
                positions.append(pos if fresh else -1)
            key = tuple(positions)
            if all(p < 0 for p in key):
                out.append(MetricValue(None, None, note="no fresh settled funding"))
                continue
            if key not in memo:
                cells: dict[str, dict[str, float]] = {}
                for (venue, coin, _, rates, _), pos in zip(pairs, key, strict=True):
                    if pos >= 0:
                        cells.setdefault(venue, {})[coin] = float(rates[pos])
                memo[key] = funding_stats(pd.DataFrame(cells), self.baseline_8h)
            median, share = memo[key]
            value = median if metric == "funding_median_8h" else share
            out.append(MetricValue(finite_or_none(value), self._stamp(step), quality="settled funding rates"))
        return out


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
    btc_obs, btc_close, _ = _closes(dataset.spot_klines.get("BTCUSDT", {}))
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
    metrics = HistoryMetrics(dataset, steps_ms, config.funding.baseline_8h)
    states = run_rules(rules, steps, metrics.lookup_at)
    forward: dict[str, dict[str, np.ndarray]] = {"btc": {h: forward_returns(steps_ms, btc_obs, btc_close, ms,
                                                                            PRICE_MAX_AGE_MS)
                                                         for h, ms in HORIZONS.items()}}  # fmt: skip
    basket_coins = [c for c in config.general.coins if dataset.spot_klines.get(f"{c}USDT")]
    if basket_coins:
        per_coin = {c: _closes(dataset.spot_klines[f"{c}USDT"]) for c in basket_coins}
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
