"""The "why" line (issue 15): distance from normal per figure, ranking, stale figures left out, fitting to a width."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analytics.drivers import MetricValue, evaluate, parse_rules
from analytics.explain import MIN_HISTORY, distance, history_z
from records.viewmodels import ExplainPart, ExplainView, PaneStatus, fit_line
from tui.views import explain as explain_mod
from widgets.why_line import why_text

NOW = pd.Timestamp("2026-11-23T12:00:00Z")


def test_distance_is_the_ratio_to_the_threshold_measured_from_the_normal() -> None:
    # The liquidation multiple's normal is 1x (its trailing median): 55x against a 5x threshold is (55-1)/(5-1).
    assert distance("long_liq_vs_median", 55.0, 5.0, ">").score == pytest.approx(13.5)
    # Fear & Greed is neutral at 50: 23 against <= 25 is (23-50)/(25-50).
    assert distance("fear_greed", 23.0, 25.0, "<=").score == pytest.approx(1.08)
    # A buy/sell ratio is neutral at 1.
    assert distance("basket_buy_sell_ratio", 0.915, 0.97, "<").score == pytest.approx(0.085 / 0.03)
    # Zero-neutral figures: the plain ratio to the threshold.
    assert distance("etf_outflow_streak", 7.0, 3.0, ">=").score == pytest.approx(7 / 3)
    assert distance("btc_change", -4.0, -2.0, "<").score == pytest.approx(2.0)


def test_threshold_at_the_normal_uses_the_history_or_says_unknown() -> None:
    rng = np.random.default_rng(1)
    history = rng.normal(10.0, 5.0, 200)
    z, mean, _std = history_z(-20.0, history)
    assert z == pytest.approx((-20.0 - history.mean()) / history.std(ddof=1))
    far = distance("etf_net_flow_sum", -20.0, 0.0, "<", history=history)
    assert far.score == pytest.approx(-z) and far.score > 0 and far.normal == pytest.approx(mean)  # a fall scores +
    assert "z-score" in far.basis
    assert history_z(1.0, np.arange(MIN_HISTORY - 1, dtype=float)) is None  # too short to set a scale
    assert distance("etf_net_flow_sum", -20.0, 0.0, "<").score is None  # no history: no honest scale
    # Median funding with the threshold at the baseline: baselines above the baseline.
    assert distance("funding_median_8h", 0.00035, 0.0001, ">", baseline_8h=0.0001).score == pytest.approx(2.5)


def test_fit_line_drops_the_lowest_ranked_parts_first_never_a_number_in_half() -> None:
    head, parts = "BTC -6.50% 24h", ("long liquidations 48.0x normal", "funding 0.0380%/8h", "ETF outflows 6d")
    full = fit_line(head, parts, "", 200)
    assert full == "BTC -6.50% 24h: long liquidations 48.0x normal, funding 0.0380%/8h, ETF outflows 6d"
    for width in range(10, len(full) + 1):
        line = fit_line(head, parts, "", width)
        assert len(line) <= width
        shown = [p for p in parts if p in line]
        assert tuple(shown) == parts[: len(shown)]  # a prefix of the ranking: the lowest go first
        # Whatever is left after the kept parts is only the "+N" marker: nothing cut mid-figure.
        rest = line.removeprefix(head).removeprefix(": ").removeprefix(", ".join(shown)).removeprefix(", ")
        assert rest in ("", f"+{len(parts) - len(shown)}", f": +{len(parts)} drivers", f"+{len(parts)} drivers")
    assert fit_line(head, parts, "", 60) == "BTC -6.50% 24h: long liquidations 48.0x normal, +2"
    assert fit_line(None, (), "no driver active", 80) == "no driver active"


RULES = parse_rules([
    {"id": "cascade", "name": "Liquidation cascade", "meaning": "m", "conditions": [
        {"metric": "long_liq_vs_median", "op": ">", "threshold": 5, "window": "30d"},
        {"metric": "btc_change", "op": "<", "threshold": -2, "window": "1h"}]},
    {"id": "fear", "name": "Extreme fear", "meaning": "m", "conditions": [
        {"metric": "fear_greed", "op": "<=", "threshold": 25}]},
    {"id": "stocks", "name": "Stocks", "meaning": "m", "conditions": [
        {"metric": "spy_change", "op": "<", "threshold": -2, "window": "5d"}]},
], "test.toml")  # fmt: skip


def _view(values: dict[str, MetricValue], btc_fresh: bool = True) -> ExplainView:
    states = evaluate(RULES, lambda metric, window: values.get(metric), None, NOW)
    status = PaneStatus(btc_fresh, "live" if btc_fresh else "btc_ticker: stale 7m")
    ticker = SimpleNamespace(last=98_000.0, change_pct=-6.5)  # Binance's 24 h ticker, as the Bitcoin pane reads it
    figures = SimpleNamespace(config=SimpleNamespace(funding=SimpleNamespace(baseline_8h=0.0001)),
                              state=SimpleNamespace(etf_btc=None, btc_ticker=ticker), cvd_baskets=lambda: (None, None),
                              pane_status=lambda pane, now: status)  # fmt: skip
    return explain_mod.explain_view(figures, states, 0.0)  # type: ignore[arg-type]


def test_parts_are_active_drivers_ranked_and_never_stale() -> None:
    values = {
        "long_liq_vs_median": MetricValue(48.0, NOW),
        "btc_change": MetricValue(-3.0, NOW),
        "fear_greed": MetricValue(20.0, NOW),
        "spy_change": MetricValue(-9.0, NOW, stale=True),  # far past its threshold, but stale: never shown
    }
    view = _view(values)
    assert view.text == "BTC -6.50% 24h: long liquidations 48.0x normal, Fear & Greed 20"
    first = view.parts[0]
    assert (first.driver_id, first.figure, first.pane, first.value_text) == (
        "cascade",
        "long_liq_vs_median(30d)",
        "liquidations",
        "48.0x",
    )
    assert first.score == pytest.approx(47 / 4) and first.normal == 1.0
    assert view.parts[1].score == pytest.approx(30 / 25)
    # Fresh again: the stock driver is active and ranks between the two (9/2 = 4.5).
    values["spy_change"] = MetricValue(-9.0, NOW)
    assert [p.driver_id for p in _view(values).parts] == ["cascade", "stocks", "fear"]


def test_head_left_out_when_btc_is_stale_and_empty_reasons() -> None:
    view = _view({"fear_greed": MetricValue(20.0, NOW)}, btc_fresh=False)
    assert view.head is None and view.text == "Fear & Greed 20"
    view = _view({"fear_greed": MetricValue(60.0, NOW), "spy_change": MetricValue(1.0, NOW)})
    assert view.text == "BTC -6.50% 24h: no driver active (1 unknown: data missing or stale)"


def test_widget_text_fits_its_width() -> None:
    part = ExplainPart("d", "fear_greed", 20.0, "20", 50.0, "", 1.2, "macro", "Fear & Greed 20")
    view = ExplainView("BTC -6.50% 24h", (part,) * 3, "", -6.5)
    assert why_text(view, 200).plain == " BTC -6.50% 24h: Fear & Greed 20, Fear & Greed 20, Fear & Greed 20"
    narrow = why_text(view, 40)
    assert narrow.cell_len <= 40 and narrow.plain == " BTC -6.50% 24h: Fear & Greed 20, +2"
