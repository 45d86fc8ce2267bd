"""The liquidations pane's view-model and snapshot section: the live tape, totals per window, the cascade meter.

Totals are USD of long / short positions force-closed in each window (Binance and OKX send at most one per symbol
per second: a lower bound). A window the tape did not record is unknown (null), never $0. The cascade detector
compares the last hour's long liquidations with their trailing hourly median while BTC falls, counting only the
venues whose stream is live and delivering (a silent stream is suspect and left out, and the pane says so).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from analytics.liquidations import window_totals
from records.viewmodels import CascadeView, LiquidationRow, LiquidationsView, LiquidationTotals, PaneStatus
from tui.views.common import clock_text, num, span_text
from tui.views.figures import Figures, StreamHealth, counted_venues, venues_note

TAPE_ROWS = 40
DAY_MS = 86_400_000


def liquidations_status(health: dict[str, StreamHealth]) -> PaneStatus | None:
    """Live while a stream is live (naming the silent ones); otherwise each stream's state (None: no streams)."""
    live = [h for h in health.values() if h.state == "live"]
    if live:
        silent = [h for h in health.values() if h.state == "silent"]
        if not silent:
            return PaneStatus(True, "live")
        return PaneStatus(True, "live · " + ", ".join(f"{h.venue} silent (suspect)" for h in silent))
    if health:
        return PaneStatus(False, "; ".join(f"{h.venue}: {h.state}" for h in health.values()))
    return None


def tape_span(recorded: pd.Timedelta) -> str:
    return f"{span_text(recorded.total_seconds(), ' min')} of tape"


def gaps_text(gaps: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
    """"2 gaps (4h)": how much of the record is missing (the console was not running), never filled in."""
    if not gaps:
        return ""
    missing = sum(b - a for a, b in gaps) / 1000
    return f"{len(gaps)} gap{'s' if len(gaps) > 1 else ''} ({span_text(missing, ' min')})"


def liquidation_rows(frame: pd.DataFrame) -> tuple[LiquidationRow, ...]:
    """A tape frame's rows, in the frame's order, as the tape table shows them (the pane's and the coin detail's)."""
    columns = (frame[c] for c in ("time", "exchange", "coin", "side", "notional_usd", "price"))
    return tuple(
        LiquidationRow(clock_text(int(t)), str(ex), str(coin), str(side), float(usd), num(px))
        for t, ex, coin, side, usd, px in zip(*columns, strict=True)
    )


def liquidations_view(figures: Figures, now: float | None = None) -> LiquidationsView:
    now = time.time() if now is None else now
    state = figures.state
    now_ms = figures.runtime.now_ms()
    health = figures.stream_health(now)
    status = liquidations_status(health) or figures.pane_status("liquidations", now)
    venues = tuple(h.as_venue() for h in health.values())
    tape = state.liq_tape
    if tape is None:
        return LiquidationsView(status, venues=venues)
    totals_frame = window_totals(tape, now_ms)
    totals = tuple(
        LiquidationTotals(
            str(w),
            num(totals_frame.at[w, "long_usd"]),
            num(totals_frame.at[w, "short_usd"]),
            num(totals_frame.at[w, "coverage"]) or 0.0,
        )
        for w in totals_frame.index
    )
    rows = liquidation_rows(tape.tail(TAPE_ROWS, now_ms - DAY_MS, now_ms).iloc[::-1])
    c = figures.cascade(now_ms, venues=counted_venues(health))
    cascade_view = None
    if c is not None:
        recorded = tape_span(c.recorded_for) + (" (simulated history)" if figures.runtime.simulated else "")
        if tape.gaps:
            recorded += f" · {gaps_text(tape.gaps)}"
        if any(not h.counted for h in health.values()):
            recorded += f"; {venues_note(health)}"
        cascade_view = CascadeView(
            active=c.active, ratio=num(c.ratio), meter=float(c.meter), threshold=5.0,
            long_1h_usd=num(c.long_usd_1h), median_hourly_usd=num(c.median_hourly),
            btc_change_1h_pct=num(c.btc_change_1h_pct), recorded_for=recorded,
        )  # fmt: skip
    lower = any(s.lower_bound for s in state.liq_streams.values())
    note = "Binance and OKX send at most 1 liquidation per symbol per second: totals are a lower bound" if lower else ""
    held = state.okx_contracts.describe() if state.okx_contracts is not None else ""
    if held:
        note = f"{held} · {note}" if note else held
    return LiquidationsView(status, venues=venues, totals=totals, tape=rows, cascade=cascade_view,
                            lower_bound_note=note)  # fmt: skip


def snapshot_liquidations(figures: Figures, now: float | None = None) -> dict[str, Any]:
    """The ``liquidations`` section of the snapshot JSON (the last hour's totals, the cascade, each stream)."""
    state = figures.state
    now_ms = figures.runtime.now_ms()
    streams = figures.stream_health(now)
    liq: dict[str, Any] = {"window_minutes": 60, "long_usd": None, "short_usd": None, "recorded_minutes": None,
                           "cascade": None, "cascade_ratio": None, "recorded_hours": None}  # fmt: skip
    tape = state.liq_tape
    if tape is None:
        return liq
    totals = window_totals(tape, now_ms)
    if "1h" in totals.index:
        liq["long_usd"] = num(totals.at["1h", "long_usd"])
        liq["short_usd"] = num(totals.at["1h", "short_usd"])
        liq["recorded_minutes"] = round((num(totals.at["1h", "coverage"]) or 0.0) * 60, 1)
    counted = counted_venues(streams)
    c = figures.cascade(now_ms, venues=counted)
    if c is not None and tape.recorded_since_ms is not None:
        liq["cascade"] = bool(c.active) if not np.isnan(c.ratio) else None
        liq["cascade_ratio"] = num(c.ratio)
        liq["recorded_hours"] = round(c.recorded_for.total_seconds() / 3600, 2)
    liq["counted_venues"] = sorted(counted) if counted is not None else None
    liq["venues"] = {
        name: {
            "state": h.state,
            "detail": h.text,
            "silent_for_s": None if h.silent_s is None else round(h.silent_s),
            # Records this process received: none to count when it only read the recorded tape (null, not 0).
            "records": None if h.state == "recorded" else h.records,
            "lower_bound": h.lower_bound,
        }
        for name, h in streams.items()
    }
    held = state.okx_contracts.describe() if state.okx_contracts is not None else ""
    liq["unsized"] = held or None
    return liq
