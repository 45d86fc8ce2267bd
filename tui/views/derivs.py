"""View-models and snapshot figures for the funding/OI and liquidation panes, from MarketState and analytics."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.funding import funding_history_matrix, funding_matrix, funding_stats
from analytics.liquidations import DEFAULT_LOOKBACK, cascade, venue_silence, window_totals
from analytics.open_interest import aggregate_oi, oi_change, oi_matrix, total_oi_change
from records.viewmodels import (
    CascadeView,
    FundingRow,
    FundingView,
    LiquidationRow,
    LiquidationsView,
    LiquidationTotals,
    PaneStatus,
    VenueStatus,
)
from tui.runtime.health import FeedHealth, format_age
from tui.runtime.state import MarketState

VENUES = ("binance", "bybit", "okx", "hyperliquid")
TAPE_ROWS = 40
OI_WINDOW = pd.Timedelta(hours=24)
HistoryRow = tuple[str, tuple[float | None, ...]]


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def venue_status(health: FeedHealth | None, venue: str, now: float) -> VenueStatus:
    if health is None:
        return VenueStatus(venue, False, "not configured")
    return VenueStatus(venue, health.is_fresh(now), health.describe(now))


#: One-entry memos: (key, objects the key's ids refer to, kept alive so no id is reused, value).
_MEMO: dict[str, tuple[tuple[Any, ...], tuple[Any, ...], Any]] = {}


def _memo(name: str, key: tuple[Any, ...], refs: tuple[Any, ...], build: Any) -> Any:
    """``build()`` once per ``key``. Feeds replace (never mutate) what they store, so the identity of the stored
    objects is their data version; ``refs`` holds those objects so their ids stay unique while cached."""
    hit = _MEMO.get(name)
    if hit is not None and hit[0] == key:
        return hit[2]
    value = build()
    _MEMO[name] = (key, refs, value)
    return value


def funding_figures(state: MarketState, fresh_venues: set[str], baseline: float) -> dict[str, Any]:
    """Matrix, per-coin median, stats and OI from the venues whose data is fresh (stale venues are excluded).

    Memoised on the identity of the stored snapshots and history (the drivers ask twice a tick, the pane once).
    """
    snaps = tuple((venue, snap) for venue, snap in state.derivs.items() if venue in fresh_venues)
    key = (
        tuple((venue, id(snap)) for venue, snap in snaps),
        id(state.binance_oi), len(state.binance_oi), id(state.oi_history), float(baseline), id(state),
    )  # fmt: skip
    refs = (snaps, state.binance_oi, state.oi_history, state)
    return _memo("funding_figures", key, refs, lambda: _funding_figures(state, fresh_venues, baseline))


def _funding_figures(state: MarketState, fresh_venues: set[str], baseline: float) -> dict[str, Any]:
    quotes = [q for venue, snap in state.derivs.items() if venue in fresh_venues for q in snap.funding]
    matrix = funding_matrix(quotes).reindex(columns=list(VENUES))
    per_coin = matrix.median(axis=1, skipna=True) if len(matrix) else pd.Series(dtype=float)
    median, share = funding_stats(matrix, baseline) if len(matrix) else (float("nan"), float("nan"))
    oi_records = [r for venue, snap in state.derivs.items() if venue in fresh_venues for r in snap.open_interest]
    if "binance" in fresh_venues:
        oi_records += list(state.binance_oi)
    oi_per_coin, oi_total = (
        aggregate_oi(oi_matrix(oi_records)) if oi_records else (pd.Series(dtype=float), float("nan"))
    )
    change = pd.Series(dtype=float)
    history = state.oi_history
    if history is not None and len(history):
        change = oi_change(history, OI_WINDOW)
    total_change = total_oi_change(history, OI_WINDOW)
    return {
        "matrix": matrix,
        "per_coin_median": per_coin,
        "median": median,
        "share": share,
        "oi": oi_per_coin,
        "oi_total": oi_total,
        "oi_change": change,
        "oi_total_change": total_change,
    }


def funding_view(state: MarketState, healths: dict[str, FeedHealth], baseline: float, periods: int,
                 status: PaneStatus, now: float | None = None) -> FundingView:  # fmt: skip
    now = time.time() if now is None else now
    venues = tuple(venue_status(healths.get(f"funding_{v}"), v, now) for v in VENUES)
    fresh = {v.venue for v in venues if v.fresh}
    if not state.derivs:
        return FundingView(status, venues=venues, baseline_8h=baseline)
    fig = funding_figures(state, fresh, baseline)
    rows = _memo("funding_rows", (id(fig),), (fig,), lambda: _funding_rows(fig))
    history = state.funding_history
    labels, history_rows = _memo("funding_history_rows", (id(history), periods), (history,),
                                 lambda: _history_rows(history, periods))  # fmt: skip
    return FundingView(
        status, venues=venues, rows=rows, baseline_8h=baseline,
        median_8h=_num(fig["median"]), share_above_baseline=_num(fig["share"]),
        oi_total_usd=_num(fig["oi_total"]), oi_change_24h_pct=_num(fig["oi_total_change"]),
        period_labels=labels, history=history_rows,
    )  # fmt: skip


def _funding_rows(fig: dict[str, Any]) -> tuple[FundingRow, ...]:
    matrix: pd.DataFrame = fig["matrix"]
    values = matrix.to_numpy(float) if len(matrix) else np.empty((0, len(VENUES)))
    medians, oi, oi_change = fig["per_coin_median"], fig["oi"], fig["oi_change"]
    rows = []
    for i, coin in enumerate(matrix.index):
        rates = tuple(_num(v) for v in values[i])
        med = _num(medians.get(coin))
        rows.append(FundingRow(
            coin=str(coin), rates_8h=rates, median_8h=med,
            annualised_pct=None if med is None else med * 3 * 365 * 100,
            oi_usd=_num(oi.get(coin)), oi_change_24h_pct=_num(oi_change.get(coin)),
        ))  # fmt: skip
    return tuple(rows)


def _history_rows(history: Any, periods: int) -> tuple[tuple[str, ...], tuple[HistoryRow, ...]]:
    if history is None or not len(history):
        return (), ()
    hist = funding_history_matrix(history, None, periods)
    labels = tuple(f"{c:%m-%d %Hh}" for c in hist.columns)
    values = hist.to_numpy(float)
    return labels, tuple((str(coin), tuple(_num(v) for v in values[i])) for i, coin in enumerate(hist.index))


@dataclass(frozen=True)
class StreamHealth:
    """One liquidation stream as the console judges it: ``state`` is live | silent | connecting | retrying |
    offline; ``counted`` says whether the cascade figures include the venue (live and delivering)."""

    venue: str
    state: str
    text: str
    counted: bool
    silent_s: float | None = None  # how long a live stream has delivered nothing (None when not live)
    records: int = 0
    lower_bound: bool = False

    @property
    def fresh(self) -> bool:
        return self.state == "live"

    def as_venue(self) -> VenueStatus:
        return VenueStatus(self.venue, self.fresh, self.text)


def stream_health(state: MarketState, now_ms: int, silent_after_s: float, peer_min: int) -> dict[str, StreamHealth]:
    """Every liquidation stream's health, a connected stream that delivers nothing while its peers deliver being
    *silent (suspect)* (:func:`analytics.liquidations.venue_silence`). Connect times and the tape are both on the
    market clock."""
    statuses = {name: s.status() for name, s in state.liq_streams.items()}
    listening = {
        name: int(st.connected_at * 1000)
        for name, st in statuses.items()
        if st.state == "live" and st.connected_at is not None
    }
    silence = {}
    tape = state.liq_tape
    if listening and tape is not None:
        times = tape.times_by_exchange(min(listening.values()))
        silence = venue_silence(times, listening, now_ms, silent_after_ms=int(silent_after_s * 1000),
                                peer_min=peer_min)  # fmt: skip
    out: dict[str, StreamHealth] = {}
    for name, st in statuses.items():
        if st.state == "live":
            quiet = silence.get(name)
            if quiet is not None and quiet.suspect:
                text = (f"silent {format_age(quiet.silent_ms / 1000)} (suspect): no liquidation while the other "
                        f"venues sent {quiet.peer_records}")  # fmt: skip
                out[name] = StreamHealth(name, "silent", text, False, quiet.silent_ms / 1000, st.records,
                                         st.lower_bound)  # fmt: skip
                continue
            text = "live" + (" (lower bound)" if st.lower_bound else "")
            silent_s = None if quiet is None else quiet.silent_ms / 1000
            out[name] = StreamHealth(name, "live", text, True, silent_s, st.records, st.lower_bound)
            continue
        text = st.state
        if st.retry_in_s is not None:
            text += f" in {int(st.retry_in_s) + 1}s"
        if st.error:
            text += f": {st.error}"
        out[name] = StreamHealth(name, st.state, text, False, None, st.records, st.lower_bound)
    return out


def counted_venues(health: dict[str, StreamHealth]) -> frozenset[str] | None:
    """The venues the cascade counts: live and delivering ones; None (every venue on the tape) without streams,
    e.g. a snapshot reading a recorded tape."""
    if not health:
        return None
    return frozenset(name for name, h in health.items() if h.counted)


def venues_note(health: dict[str, StreamHealth]) -> str:
    """The cascade's data-quality line: which venues it counts and why the others are left out."""
    if not health:
        return ""
    counted = sorted(n for n, h in health.items() if h.counted)
    left = [f"{n} {h.text.split(':')[0]}" for n, h in sorted(health.items()) if not h.counted]
    text = f"counting {', '.join(counted)}" if counted else "no venue delivering"
    return text + (f"; left out: {', '.join(left)}" if left else "")


def stream_status(stream: Any, now: float) -> VenueStatus:
    """A liquidation stream's health: live only while connected and hearing from the venue."""
    status = stream.status()
    if status.state == "live":
        text = "live" + (" (lower bound)" if status.lower_bound else "")
        return VenueStatus(status.venue, True, text)
    text = status.state
    if status.retry_in_s is not None:
        text += f" in {int(status.retry_in_s) + 1}s"
    if status.error:
        text += f": {status.error}"
    return VenueStatus(status.venue, False, text)


def btc_closes(state: MarketState, now_ms: int | None = None) -> pd.Series:
    """BTC closes at the instants they were observed (the running bar's at ``now``)."""
    from analytics.price import observed_closes

    intraday = state.btc_intraday
    if intraday is None or not len(intraday):
        return pd.Series(dtype=float)
    return observed_closes(intraday, now_ms)


def cascade_figures(state: MarketState, now_ms: int, threshold: float = 5.0, drop: float = -2.0,
                    lookback: pd.Timedelta | None = None, venues: frozenset[str] | None = None) -> Any:  # fmt: skip
    """The cascade detector on the live tape, counting ``venues`` only (None: all), memoised per tape content,
    BTC bars, second and parameters (it scans the whole 35-day tape; the liquidations pane and the key driver both
    want it on the same tick)."""
    tape = state.liq_tape
    if tape is None:
        return None
    lookback = DEFAULT_LOOKBACK if lookback is None else lookback
    key = (id(tape), tape.revision, id(state.btc_intraday), now_ms // 1000, threshold, drop, lookback, venues)
    memo = state.cascade_memo
    if key not in memo:
        if len(memo) >= 4:
            memo.clear()
        memo[key] = cascade(tape, btc_closes(state, now_ms), now_ms, ratio_threshold=threshold, btc_drop_pct=drop,
                            lookback=lookback, venues=venues)  # fmt: skip
    return memo[key]


def _fmt_span(td: pd.Timedelta) -> str:
    hours = td.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.0f}d of tape"
    if hours >= 1:
        return f"{hours:.0f}h of tape"
    return f"{td.total_seconds() / 60:.0f} min of tape"


def liquidations_view(state: MarketState, now_ms: int, status: PaneStatus, now: float | None = None,
                      simulated: bool = False, health: dict[str, StreamHealth] | None = None,
                      ) -> LiquidationsView:  # fmt: skip
    now = time.time() if now is None else now
    health = health if health is not None else {}
    venues = tuple(h.as_venue() for h in health.values()) or tuple(
        stream_status(s, now) for s in state.liq_streams.values()
    )
    tape = state.liq_tape
    if tape is None:
        return LiquidationsView(status, venues=venues)
    totals_frame = window_totals(tape, now_ms)
    totals = tuple(
        LiquidationTotals(
            str(w),
            _num(totals_frame.at[w, "long_usd"]),
            _num(totals_frame.at[w, "short_usd"]),
            float(totals_frame.at[w, "coverage"]),
        )
        for w in totals_frame.index
    )
    frame = tape.tail(TAPE_ROWS, now_ms - 24 * 3_600_000, now_ms).iloc[::-1]
    columns = (frame[c] for c in ("time", "exchange", "coin", "side", "notional_usd", "price"))
    rows = tuple(
        LiquidationRow(
            time=dt.datetime.fromtimestamp(int(t) / 1000, dt.UTC).strftime("%H:%M:%S"),
            venue=str(ex),
            coin=str(coin),
            side=str(side),
            notional_usd=float(usd),
            price=_num(px),
        )
        for t, ex, coin, side, usd, px in zip(*columns, strict=True)
    )
    c = cascade_figures(state, now_ms, venues=counted_venues(health))
    cascade_view = None
    if c is not None:
        recorded = _fmt_span(c.recorded_for) + (" (simulated history)" if simulated else "")
        quality = venues_note(health)
        if any(not h.counted for h in health.values()):
            recorded += f"; {quality}"
        cascade_view = CascadeView(
            active=c.active, ratio=_num(c.ratio), meter=float(c.meter), threshold=5.0,
            long_1h_usd=_num(c.long_usd_1h), median_hourly_usd=_num(c.median_hourly),
            btc_change_1h_pct=_num(c.btc_change_1h_pct), recorded_for=recorded,
        )  # fmt: skip
    lower = any(s.lower_bound for s in state.liq_streams.values())
    note = "Binance and OKX send at most 1 liquidation per symbol per second: totals are a lower bound" if lower else ""
    held = state.okx_contracts.describe() if state.okx_contracts is not None else ""
    if held:
        note = f"{held} · {note}" if note else held
    return LiquidationsView(status, venues=venues, totals=totals, tape=rows, cascade=cascade_view,
                            lower_bound_note=note)  # fmt: skip


def snapshot_derivs(state: MarketState, healths: dict[str, FeedHealth], baseline: float, now_ms: int,
                    streams: dict[str, StreamHealth] | None = None) -> dict:  # fmt: skip
    """The ``funding``, ``open_interest`` and ``liquidations`` sections of the snapshot JSON."""
    now = time.time()
    fresh = {v for v in VENUES if (h := healths.get(f"funding_{v}")) is not None and h.is_fresh(now)}
    fig = funding_figures(state, fresh, baseline)
    matrix: pd.DataFrame = fig["matrix"]
    rates = {
        str(coin): {v: _num(matrix.at[coin, v]) for v in VENUES if _num(matrix.at[coin, v]) is not None}
        for coin in matrix.index
    }
    oi = {
        str(coin): {"usd": _num(usd), "change_24h_pct": _num(fig["oi_change"].get(coin))}
        for coin, usd in fig["oi"].items()
    }
    out: dict[str, Any] = {
        "funding": {
            "interval_hours": 8,
            "baseline": baseline,
            "median": _num(fig["median"]),
            "share_above_baseline": _num(fig["share"]),
            "rates": rates,
        },
        "open_interest": {
            "total_usd": _num(fig["oi_total"]),
            "change_24h_pct": _num(fig["oi_total_change"]),
            **oi,
        },
    }
    liq: dict[str, Any] = {"window_minutes": 60, "long_usd": None, "short_usd": None, "recorded_minutes": None,
                           "cascade": None, "cascade_ratio": None, "recorded_hours": None}  # fmt: skip
    if state.liq_tape is not None:
        totals = window_totals(state.liq_tape, now_ms)
        if "1h" in totals.index:
            liq["long_usd"] = _num(totals.at["1h", "long_usd"])
            liq["short_usd"] = _num(totals.at["1h", "short_usd"])
            liq["recorded_minutes"] = round(float(totals.at["1h", "coverage"]) * 60, 1)
        streams = streams or {}
        c = cascade_figures(state, now_ms, venues=counted_venues(streams))
        if c is not None and state.liq_tape.recorded_since_ms is not None:
            liq["cascade"] = bool(c.active) if not np.isnan(c.ratio) else None
            liq["cascade_ratio"] = _num(c.ratio)
            liq["recorded_hours"] = round(c.recorded_for.total_seconds() / 3600, 2)
        counted = counted_venues(streams)
        liq["counted_venues"] = sorted(counted) if counted is not None else None
        liq["venues"] = {
            name: {
                "state": h.state,
                "detail": h.text,
                "silent_for_s": None if h.silent_s is None else round(h.silent_s),
                "records": h.records,
                "lower_bound": h.lower_bound,
            }
            for name, h in streams.items()
        }
        held = state.okx_contracts.describe() if state.okx_contracts is not None else ""
        liq["unsized"] = held or None
    out["liquidations"] = liq
    return out
