"""The coin detail's chart modes (``c`` cycles them) and its own liquidations, as view-model pieces.

Charts, each over the screen's window (``[`` / ``]``), every point at or before the market clock:

* ``price`` — price and spot CVD on the same bars (built in :mod:`tui.views.coin`, the two charts side by side).
* ``spot_perp`` — **spot vs perp CVD**: the coin's cumulative taker delta (taker buy minus taker sell quote volume,
  USD, :func:`analytics.cvd.cvd`) from the window's first daily bar, on Binance spot and on Binance USD-M
  perpetuals. Daily bars on both: the perp klines the console keeps are daily, and the two lines must share their
  bars to be compared. Spot falling while perp rises = leverage is absorbing spot supply.
* ``oi`` — **open interest per venue** in USD, one line per venue that has a history in state (Binance's hourly
  ``openInterestHist``, ~25 h). The other venues publish only their current OI in the bulk call: the note names
  them instead of drawing a line the console never recorded.
* ``funding`` — **funding per venue** per 8 h settlement period (:func:`analytics.funding.funding_history_matrix`
  per exchange: every settlement normalised to 8 h, ``rate_8h = rate x 8 / interval_hours``, the mean of the
  settlements in the bucket), in percent: the heatmap's scale. One line per venue with a settled history: Bybit's
  (basket / watched feeds) and Binance's, OKX's and Hyperliquid's for the coin in view
  (:mod:`tui.runtime.feeds_venue_funding`).

Liquidations (:func:`coin_liquidations`): the coin's rows of the recorded tape summed per trailing window
(:func:`analytics.liquidations.window_totals`: 1 h / 4 h / 24 h as the liquidations pane, plus the screen's window
up to the tape's 35 days). A window the tape did not record is unknown (None), never $0; a partly recorded one is
a lower bound (``coverage`` < 1); 0 only when the tape covered the window and this coin had no liquidation.

Pure: reads state, returns frozen data; a chart with nothing known says why (``chart_note``), it never draws zeros.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analytics.cvd import cvd
from analytics.funding import EIGHT_HOURS_MS, column_ms, funding_history_matrix
from analytics.liquidations import window_totals
from analytics.price import downsample
from records.viewmodels import ChartLine, LiquidationTotals
from tui.runtime.feeds_venue_funding import VENUE_FUNDING_VENUES
from tui.runtime.feeds_watched import WATCHED_BYBIT, WATCHED_SPOT, WATCHED_USDM
from tui.views.common import CHART_POINTS, num, span_text
from tui.views.figures import Figures
from tui.views.liquidations import liquidation_rows, liquidations_status
from tui.views.registry import VENUES

#: The charts ``c`` steps through, in order, with the title each shows.
CHARTS: tuple[str, ...] = ("price", "spot_perp", "oi", "funding")
CHART_TITLES: dict[str, str] = {
    "price": "Price + spot CVD",
    "spot_perp": "Spot vs perp CVD",
    "oi": "Open interest per venue",
    "funding": "Funding per venue",
}
#: The liquidations pane's windows; the coin detail adds its own window when the tape can hold it.
LIQ_WINDOWS: tuple[str, ...] = ("1h", "4h", "24h")
LIQ_ROWS = 10
DAY_MS = 86_400_000
#: The tape keeps 35 days (:data:`analytics.liquidations.MAX_TAPE_AGE`): longer windows would only be lower bounds.
LIQ_MAX_WINDOW_DAYS = 35


def next_chart(chart: str, step: int = 1) -> str:
    """The chart ``step`` places after ``chart`` in :data:`CHARTS`, wrapping around."""
    index = CHARTS.index(chart) if chart in CHARTS else 0
    return CHARTS[(index + step) % len(CHARTS)]


def _span_ms(window: str) -> int | None:
    """The coin screen's window in ms ("24h", "7d", ...); None for "all"."""
    return None if window == "all" else _window_ms_of(window)


def _stale(figures: Figures, feed: str, now: float) -> str:
    """"" while ``feed`` is fresh (or the console has no such feed: a test's bare state), else its health."""
    health = figures.health_map().get(feed)
    if health is None or health.is_fresh(now):
        return ""
    return f"{feed}: {health.describe(now)}"


def _epoch_s(ms: np.ndarray) -> tuple[float, ...]:
    return tuple((ms // 1000).astype(float).tolist())


def _thin(x: tuple[float, ...], y: tuple[float, ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most :data:`CHART_POINTS` points, first and last kept (:func:`analytics.price.downsample`, as the price
    chart): a chart is a few dozen cells wide."""
    if len(x) <= CHART_POINTS:
        return x, y
    kept = downsample(pd.Series(y, index=x), CHART_POINTS)
    return tuple(kept.index), tuple(kept)


def coin_rows(frame: pd.DataFrame | None, coin: str) -> pd.DataFrame | None:
    """``coin``'s rows of a long history frame (None when it has none)."""
    if frame is None or not len(frame):
        return None
    mine = frame[frame["coin"] == coin]
    return mine if len(mine) else None


# -- spot vs perp CVD -------------------------------------------------------------------------------------------
def _daily_cvd(frame: pd.DataFrame | None, window: str, now_ms: int) -> pd.Series | None:
    """Cumulative delta over the window's daily bars (at least the last two), bars opened after ``now`` left out."""
    if frame is None or not len(frame) or not {"quote_volume", "taker_buy_quote"} <= set(frame.columns):
        return None
    frame = frame[frame.index <= pd.Timestamp(now_ms, unit="ms", tz="UTC")]
    if not len(frame):
        return None
    span = _span_ms(window)
    start = frame.index[0] if span is None else pd.Timestamp(now_ms - span, unit="ms", tz="UTC").floor("D")
    first = min(int(frame.index.searchsorted(start, side="left")), max(len(frame) - 2, 0))
    return cvd(frame, frame.index[first]).dropna()


def spot_perp_chart(figures: Figures, coin: str, window: str, now: float, now_ms: int) -> dict[str, Any]:
    """The ``spot_perp`` chart: Binance spot and USD-M perp cumulative delta from the window's first daily bar."""
    state = figures.state
    watched = coin in state.watched.left
    spot_frame = state.alt_daily.get(coin)
    perp_frame = state.perp_daily.get(coin)
    spot_feed, perp_feed = "cvd_daily", "cvd_perp_daily"
    if watched:
        if spot_frame is None:
            spot_frame, spot_feed = state.watched.daily.get(coin), WATCHED_SPOT
        if perp_frame is None:
            perp_frame, perp_feed = state.watched.perp_daily.get(coin), WATCHED_USDM
    lines: list[ChartLine] = []
    missing: list[str] = []
    for label, frame in (("spot", spot_frame), ("perp", perp_frame)):
        series = _daily_cvd(frame, window, now_ms)
        if series is None or not len(series):
            missing.append(label)
            continue
        x, y = _thin(_epoch_s(pd.DatetimeIndex(series.index).as_unit("ms").asi8), tuple(series.astype(float)))
        lines.append(ChartLine(label, x, y, "USD"))
    notes = ["1d bars (the perp klines are daily)", "Binance spot vs Binance USD-M, taker buy − sell"]
    if missing:
        why = {"spot": "no spot bars", "perp": "no USD-M perp bars"}
        notes.insert(0, "; ".join(f"{m}: {why[m]}" for m in missing))
    stale = [s for s in (_stale(figures, spot_feed, now), _stale(figures, perp_feed, now)) if s]
    return {"chart_title": f"Spot vs perp CVD over {window} (USD)", "chart_lines": tuple(lines),
            "chart_note": " · ".join(notes), "chart_stale": "; ".join(stale)}  # fmt: skip


# -- open interest per venue ------------------------------------------------------------------------------------
def oi_chart(figures: Figures, coin: str, window: str, now: float, now_ms: int,
             current: tuple[str, ...]) -> dict[str, Any]:  # fmt: skip
    """The ``oi`` chart: one line per venue with an OI history (USD), samples in ``(now - window, now]``.

    ``current`` are the venues with a current OI figure: those without a history are named in the note."""
    state = figures.state
    history, feed = coin_rows(state.oi_history, coin), "oi_history"
    if history is None and coin in state.watched.left:
        history, feed = state.watched.oi_history.get(coin), WATCHED_USDM
    lines: list[ChartLine] = []
    held = ""
    if history is not None and len(history):
        t = column_ms(history["time"])
        usd = history["oi_usd"].to_numpy(float)
        span = _span_ms(window)
        keep = (t <= now_ms) & np.isfinite(usd) & (True if span is None else t > now_ms - span)
        if keep.any():
            held = span_text((now_ms - int(t[t <= now_ms].min())) / 1000) if (t <= now_ms).any() else ""
        exchanges = history["exchange"].astype(str).to_numpy()
        for venue in sorted(set(exchanges[keep]), key=lambda v: (VENUES.index(v) if v in VENUES else 99, v)):
            mine = keep & (exchanges == venue)
            order = np.argsort(t[mine], kind="stable")
            x, y = _thin(_epoch_s(t[mine][order]), tuple(usd[mine][order].tolist()))
            lines.append(ChartLine(venue, x, y, "USD"))
    drawn = {line.label for line in lines}
    notes = []
    if lines:
        notes.append(f"hourly samples, history held {held}" if held else "hourly samples")
    no_history = [v for v in current if v not in drawn]
    if no_history:
        notes.append(f"{', '.join(no_history)}: current OI only (no history kept)")
    if not lines and not current:
        notes.append("no open interest for this coin on the tracked venues (or waiting for data)")
    return {"chart_title": f"Open interest per venue over {window} (USD)", "chart_lines": tuple(lines),
            "chart_note": " · ".join(notes), "chart_stale": _stale(figures, feed, now) if lines else ""}  # fmt: skip


# -- funding per venue ------------------------------------------------------------------------------------------
def funding_chart(figures: Figures, coin: str, window: str, now: float, now_ms: int,
                  current: tuple[str, ...]) -> dict[str, Any]:  # fmt: skip
    """The ``funding`` chart: per venue, the settled funding per 8 h period in percent (the heatmap's scale).

    The window sets how many 8 h periods are drawn (at most the ``funding.history_periods`` the console keeps);
    settlements stamped after ``now`` are left out. ``current`` venues without a history are named in the note."""
    state = figures.state
    history, feed = coin_rows(state.funding_history, coin), "funding_history"
    if history is None and coin in state.watched.left:
        history, feed = state.watched.funding_history.get(coin), WATCHED_BYBIT
    # Bybit's settled history (the basket's or the watched feed's), then the other venues' for the coin in view.
    feeds = {"bybit": feed}
    frames = [] if history is None else [history]
    for venue in VENUE_FUNDING_VENUES:
        mine = state.venue_funding.get(venue, {}).get(coin)
        if mine is not None and len(mine):
            frames.append(mine)
            feeds[venue] = f"venue_funding_{venue}"
    history = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames[0] if frames else None)
    kept = figures.config.funding.history_periods
    span = _span_ms(window)
    periods = kept if span is None else max(2, min(kept, math.ceil(span / EIGHT_HOURS_MS)))
    lines: list[ChartLine] = []
    if history is not None and len(history):
        history = history[column_ms(history["time"]) <= now_ms]
        exchanges = sorted({str(v) for v in history["exchange"].unique()},
                           key=lambda v: (VENUES.index(v) if v in VENUES else 99, v))  # fmt: skip
        for venue in exchanges:
            matrix = funding_history_matrix(history, venue, periods)
            if coin not in matrix.index:
                continue
            values = matrix.loc[coin].to_numpy(float) * 100  # fraction per 8 h -> percent per 8 h
            known = np.isfinite(values)
            # A period still under way (Hyperliquid settles hourly) is stamped at the clock, not at its future end.
            ends = np.minimum(pd.DatetimeIndex(matrix.columns).as_unit("ms").asi8, now_ms)
            if known.any():
                lines.append(ChartLine(venue, _epoch_s(ends[known]), tuple(values[known].tolist()), "%/8h"))
    drawn = {line.label for line in lines}
    notes = [f"settled funding per 8 h period (normalised to 8 h), last {len(lines[0].x)} periods"] if lines else []
    no_history = [v for v in current if v not in drawn]
    if no_history:
        notes.append(f"{', '.join(no_history)}: current rate only (no settled history kept)")
    if not lines and not current:
        notes.append("no perpetual for this coin on the tracked venues (or waiting for data)")
    stale = [s for s in (_stale(figures, feeds[line.label], now) for line in lines if line.label in feeds) if s]
    return {"chart_title": f"Funding per venue over {window} (%/8h)", "chart_lines": tuple(lines),
            "chart_note": " · ".join(notes), "chart_stale": "; ".join(stale)}  # fmt: skip


# -- the coin's liquidations ------------------------------------------------------------------------------------
def coin_liquidations(figures: Figures, coin: str, window: str, now: float, now_ms: int) -> dict[str, Any]:
    """The coin's liquidation totals per window, its last prints and the tape's health (see the module doc)."""
    state = figures.state
    tape = state.liq_tape
    if tape is None:
        return {"liq_note": "liquidation tape not started (unknown)", "liq_windows": ()}
    windows = list(LIQ_WINDOWS)
    span = _span_ms(window)
    if span is not None and DAY_MS < span <= LIQ_MAX_WINDOW_DAYS * DAY_MS:
        windows.append(window)
    longest = max(_window_ms_of(w) for w in windows)
    frame = tape.frame(now_ms - longest, coin=coin)
    frame = frame[frame["time"].to_numpy(np.int64) <= now_ms]
    since = tape.recorded_since_ms
    # A plain frame with no ``recorded_since`` reads as the whole record (coverage 1): a tape that never recorded
    # must say "unknown" instead, so it gets a start after the clock (nothing of any window covered).
    totals = window_totals(frame, now_ms, windows, recorded_since=now_ms + 1 if since is None else since,
                           gaps=tape.gaps)  # fmt: skip
    rows = []
    for w in totals.index:
        coverage = num(totals.at[w, "coverage"]) or 0.0
        known = coverage > 0
        rows.append(LiquidationTotals(str(w), num(totals.at[w, "long_usd"]), num(totals.at[w, "short_usd"]),
                                      coverage, int(num(totals.at[w, "count"]) or 0) if known else None))  # fmt: skip
    day = next(r for r in rows if r.window == "24h")
    prints = liquidation_rows(frame[frame["time"].to_numpy(np.int64) > now_ms - DAY_MS].iloc[::-1].head(LIQ_ROWS))
    note = ""
    if day.count is None:
        note = "the tape has not recorded the last 24h: totals unknown"
    elif day.coverage < 1:
        note = f"recorded for {span_text(day.coverage * DAY_MS / 1000)} of 24h only: totals are a lower bound"
    elif day.count == 0:
        note = f"none recorded for {coin} in the last 24h"
    status = liquidations_status(figures.stream_health(now))
    stale = "" if status is None or status.fresh else status.text
    return {"liquidations": prints, "liq_long_usd": day.long_usd, "liq_short_usd": day.short_usd,
            "liq_count": day.count, "liq_note": note, "liq_windows": tuple(rows), "liq_stale": stale}  # fmt: skip


def _window_ms_of(label: str) -> int:
    from analytics.drivers import window_span

    return int(window_span(label).total_seconds() * 1000)
