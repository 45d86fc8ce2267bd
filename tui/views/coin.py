"""Builds the coin detail view-model (:class:`widgets.coin_detail.CoinView`) from market state and analytics.

Market meaning of each figure, over the chosen window (the last N bars, the latest possibly still open):

* ``change_pct = (last close / open of the window's first bar - 1) x 100`` — how far price moved.
* ``cvd_usd = sum(2 x taker_buy_quote - quote_volume)`` over the window's bars — net USD market-bought minus
  market-sold (:func:`analytics.cvd.cvd`). A bar with an unknown taker split makes the total unknown (never 0).
* ``ratio = sum(taker_buy_quote) / sum(quote_volume - taker_buy_quote)`` — above 1 buyers were more aggressive.
* ``share_pct`` — the coin's ``share_of_basket`` in the daily basket since ``cvd.start`` (the CVD pane's
  "Share" column): its cumulative delta over the sum of the known coins' absolute cumulative deltas.
* Funding per venue is the current predicted rate normalised to 8 h; the history is the mean across venues per
  8 h settlement period (:func:`analytics.funding.funding_history_matrix`); annualised = rate_8h x 3 x 365.
* Open interest per venue in USD; the 24 h change is :func:`analytics.open_interest.oi_change` on the hourly OI
  history (venues with a sample at both ends only).
* Liquidations: this coin's rows of the recorded tape summed per trailing window (1 h / 4 h / 24 h and the
  screen's window up to 35 d: unknown, never 0, where the tape did not record), its last prints newest first
  (:func:`tui.views.coin_charts.coin_liquidations`).
* The chart ``c`` selects: price + spot CVD (here), or spot vs perp CVD, OI per venue, funding per venue
  (:mod:`tui.views.coin_charts`).
* Long/short: the latest ratio (long share / short share) of accounts on Binance and Bybit and of the top traders'
  positions on Binance (:mod:`tui.views.long_short`).

A coin outside the basket opened here is *watched* (:mod:`tui.runtime.feeds_watched`): its bars, OI and funding
history and long/short ratios come from ``state.watched`` (never from the basket's frames, so looking at a coin moves
no basket figure); while a watched feed's first fetch of it is under way its figures say "loading", and a coin with
no Binance spot pair says "no spot pair" (its perpetuals still show).

Bars: hourly klines (kept for ``cvd.hourly_days``) for windows up to 30 days, daily klines beyond; BTC uses the
5-minute intraday bars and the monthly history (or alt frames if BTC is configured as a basket coin). The finest
frame that reaches back over the whole window is used; if none does, the one with most bars in the window, and the
view says how much history it covers. Pure: reads state, computes with analytics, returns frozen data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.cvd import basket, buy_sell_ratio, cvd
from analytics.funding import funding_history_matrix
from analytics.open_interest import oi_change
from analytics.price import downsample
from records.viewmodels import CoinFunding, CoinOpenInterest, CoinView, PaneStatus
from tui.runtime.feeds_watched import NO_SPOT, WATCHED_BYBIT, WATCHED_SPOT, WATCHED_USDM
from tui.runtime.health import FeedHealth
from tui.views.coin_charts import (
    CHART_TITLES,
    CHARTS,
    coin_liquidations,
    coin_rows,
    funding_chart,
    oi_chart,
    spot_perp_chart,
)
from tui.views.common import CHART_POINTS, epoch_seconds, num, pane_status, span_text
from tui.views.figures import Figures, venue_status
from tui.views.long_short import coin_long_short
from tui.views.registry import PANE_FEEDS, VENUES

#: Time windows, in the order ``[`` / ``]`` / ``t`` step through them.
WINDOWS: tuple[str, ...] = ("24h", "7d", "30d", "90d", "all")
WINDOW_SPAN: dict[str, pd.Timedelta | None] = {
    "24h": pd.Timedelta(days=1),
    "7d": pd.Timedelta(days=7),
    "30d": pd.Timedelta(days=30),
    "90d": pd.Timedelta(days=90),
    "all": None,
}


def normalise_coin(coin: str) -> str:
    """``" sol "`` -> ``"SOL"``; keeps only the characters a ticker can have."""
    return "".join(ch for ch in str(coin).strip().upper() if ch.isalnum())[:20]


def next_window(window: str, step: int = 1) -> str:
    """The window ``step`` places after ``window`` in :data:`WINDOWS`, wrapping around."""
    index = WINDOWS.index(window) if window in WINDOWS else 0
    return WINDOWS[(index + step) % len(WINDOWS)]


# -- bars -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Bars:
    feed: str  # the feed that fills this frame (its version keys the charts, its health the status)
    frame: pd.DataFrame
    label: str  # "1h bars"


def _interval(frame: pd.DataFrame) -> pd.Timedelta:
    """Bar length from Binance's ``close_time = open_time + interval - 1 ms`` (else the smallest step)."""
    index = pd.DatetimeIndex(frame.index)
    if "close_time" in frame.columns and len(frame):
        return pd.Timestamp(pd.DatetimeIndex(frame["close_time"])[0]) + pd.Timedelta(milliseconds=1) - index[0]
    if len(frame) > 1:
        return pd.Timedelta(np.diff(index.asi8).min(), unit=index.unit)
    return pd.Timedelta(0)


def _label(interval: pd.Timedelta) -> str:
    seconds = interval.total_seconds()
    if seconds >= 27 * 86_400:
        return "1M bars"
    if seconds >= 86_400:
        return f"{seconds / 86_400:.0f}d bars"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f}h bars"
    return f"{seconds / 60:.0f}m bars"


def _candidates(state: Any, coin: str) -> list[_Bars]:
    """The coin's kline frames, finest bars first (a coin in view outside the basket: the watched feed's)."""
    found: list[tuple[str, Any]] = [
        ("cvd_hourly", state.alt_hourly.get(coin)),
        ("cvd_daily", state.alt_daily.get(coin)),
    ]
    if coin in state.watched.left:
        found += [(WATCHED_SPOT, state.watched.hourly.get(coin)), (WATCHED_SPOT, state.watched.daily.get(coin))]
    if coin == "BTC":
        found += [("btc_intraday", state.btc_intraday), ("btc_ath", state.btc_monthly)]
    bars = [
        _Bars(feed, frame, _label(_interval(frame)))
        for feed, frame in found
        if frame is not None and len(frame) and {"close", "quote_volume", "taker_buy_quote"} <= set(frame.columns)
    ]
    return sorted(bars, key=lambda b: _interval(b.frame))


def window_bars(frame: pd.DataFrame, window: str) -> pd.DataFrame:
    """The bars of ``window``: those opened after ``last open - span`` (all bars for "all")."""
    span = WINDOW_SPAN[window]
    if span is None or not len(frame):
        return frame
    start = frame.index[-1] - span
    return frame.iloc[frame.index.searchsorted(start, side="right") :]


def _covers(frame: pd.DataFrame, window: str) -> bool:
    span = WINDOW_SPAN[window]
    if span is None:
        return True
    return frame.index[0] - _interval(frame) <= frame.index[-1] - span


def choose_bars(candidates: list[_Bars], window: str) -> _Bars | None:
    """Finest frame covering the whole window with at least 2 bars in it; else the one with most bars in it.

    For "all", the frame reaching back furthest (finest among equals).
    """
    if not candidates:
        return None
    if WINDOW_SPAN[window] is None:
        return min(candidates, key=lambda b: b.frame.index[0])  # stable: finest first among equal starts
    for bars in candidates:
        if _covers(bars.frame, window) and len(window_bars(bars.frame, window)) >= 2:
            return bars
    return max(candidates, key=lambda b: len(window_bars(b.frame, window)))



# -- sections ---------------------------------------------------------------------------------------------------
def _loading(figures: Figures, coin: str, feed: str) -> bool:
    """True while the watched feed ``feed`` has not finished its first fetch of ``coin`` (a coin just opened
    outside the basket): its figures are "loading", not unknown. Never for a console without that feed (a
    follower polls nothing) or a coin not watched."""
    watched = figures.state.watched
    return coin in watched.left and feed in figures.health_map() and coin not in watched.fetched.get(feed, ())


def _status(figures: Figures, feeds: tuple[str, ...], now: float) -> PaneStatus:
    healths = figures.health_map()
    chosen = [healths.get(name) or FeedHealth(name, "", 30.0) for name in feeds]
    return pane_status(chosen, now, figures.clock_offset(now))


def _share(figures: Figures, coin: str) -> tuple[float | None, str]:
    if coin == "BTC":
        return None, "BTC is not in the altcoin basket"
    daily, _ = figures.cvd_baskets()
    since = f"of basket CVD since {figures.config.cvd.start.isoformat()}"
    if daily is None:
        return None, since
    if coin in daily.unknown_reasons:
        return None, f"excluded from basket: {daily.unknown_reasons[coin]}"
    rows = daily.summary[daily.summary["coin"] == coin]
    if not len(rows):
        return None, "not in the basket"
    share = num(rows["share_of_basket"].iat[0])
    return (None if share is None else share * 100), since


def _next_funding(ts: Any, now_ms: int) -> str:
    if ts is None:
        return ""
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    minutes = int((stamp.value // 1_000_000 - now_ms) // 60_000)
    text = f"{stamp:%H:%M} UTC"
    if minutes >= 0:
        text += f" (in {minutes // 60}h{minutes % 60:02d})" if minutes >= 60 else f" (in {minutes}m)"
    return text


def _funding(figures: Figures, coin: str, now: float, now_ms: int) -> dict[str, Any]:
    state = figures.state
    healths = figures.health_map()
    rows: list[CoinFunding] = []
    fresh_rates: list[float] = []
    oi_rows: list[CoinOpenInterest] = []
    for venue in VENUES:
        snap = state.derivs.get(venue)
        if snap is None:
            continue
        status = venue_status(healths.get(f"funding_{venue}"), venue, now)
        for quote in snap.funding:
            if quote.coin != coin:
                continue
            rate = num(quote.rate_8h)
            basis = (None if not quote.mark_price or not quote.index_price
                     else (quote.mark_price / quote.index_price - 1) * 100)  # fmt: skip
            rows.append(CoinFunding(
                venue, status.fresh, status.text, rate, None if rate is None else rate * 3 * 365 * 100,
                num(quote.interval_hours), _next_funding(quote.next_funding_time, now_ms), num(basis),
            ))  # fmt: skip
            if status.fresh and rate is not None:
                fresh_rates.append(rate)
            break
        records = list(snap.open_interest) + (list(state.binance_oi) if venue == "binance" else [])
        if venue == "binance" and coin in state.watched.binance_oi and coin in state.watched.left:
            records.append(state.watched.binance_oi[coin])
        usd = [r.oi_usd for r in records if r.coin == coin and num(r.oi_usd) is not None]
        if usd:
            oi_rows.append(CoinOpenInterest(venue, status.fresh, float(usd[-1])))
    fresh_oi = [r.usd for r in oi_rows if r.fresh and r.usd is not None]
    change, note = None, ""
    watched = state.watched
    history = coin_rows(state.oi_history, coin)
    if history is None and coin in watched.left:
        history = watched.oi_history.get(coin)
    if history is not None and len(history):
        change = num(oi_change(history, pd.Timedelta(hours=24)).get(coin))
        note = "+".join(sorted({str(v) for v in history["exchange"].unique()}))
    elif _loading(figures, coin, WATCHED_USDM):
        note = "loading 24h history…"
    labels: tuple[str, ...] = ()
    values: tuple[float | None, ...] = ()
    mine = coin_rows(state.funding_history, coin)
    if mine is None and coin in watched.left:
        mine = watched.funding_history.get(coin)
    if mine is not None and len(mine):
        periods = figures.config.funding.history_periods
        matrix = funding_history_matrix(mine, None, periods)
        if coin in matrix.index:
            labels = tuple(f"{c:%m-%d %Hh}" for c in matrix.columns)
            values = tuple(num(v) for v in matrix.loc[coin])
    funding_note = "loading…" if not values and _loading(figures, coin, WATCHED_BYBIT) else ""
    return {
        "funding": tuple(rows),
        "funding_mean_8h": sum(fresh_rates) / len(fresh_rates) if fresh_rates else None,
        "funding_labels": labels,
        "funding_history": values,
        "funding_note": funding_note,
        "oi": tuple(oi_rows),
        "oi_total_usd": sum(fresh_oi) if fresh_oi else None,
        "oi_change_24h_pct": change,
        "oi_note": note,
    }


def _perp_30d(figures: Figures, coin: str, watched: bool) -> float | None:
    """The coin's Binance USD-M perp CVD over 30 days (the perp basket's ``delta_30d_usd``; a watched coin's from
    its own bars, the same formula for one coin); None without perp bars."""
    perp = figures.perp_basket()
    if perp is not None and coin in set(perp.summary["coin"]):
        return num(perp.summary.set_index("coin").at[coin, "delta_30d_usd"])
    frame = figures.state.watched.perp_daily.get(coin) if watched else None
    if frame is None:
        return None
    summary = basket({coin: frame}, pd.Timestamp(figures.config.cvd.start, tz="UTC")).summary
    return num(summary["delta_30d_usd"].iat[0]) if len(summary) else None


# -- the view ---------------------------------------------------------------------------------------------------
def _chart(figures: Figures, coin: str, window: str, chart: str, now: float, now_ms: int,
           derivs: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The selected multi-line chart's fields of the view (none for "price": its two charts are the view's own)."""
    if chart == "spot_perp":
        return spot_perp_chart(figures, coin, window, now, now_ms)
    if chart == "oi":
        return oi_chart(figures, coin, window, now, now_ms, tuple(r.venue for r in derivs["oi"]))
    if chart == "funding":
        return funding_chart(figures, coin, window, now, now_ms, tuple(r.venue for r in derivs["funding"]))
    return {"chart_title": CHART_TITLES["price"]}


def build_coin_view(figures: Figures, coin: str, window: str, now: float | None = None,
                    chart: str = CHARTS[0]) -> CoinView:  # fmt: skip
    """The coin detail view-model for ``coin`` over ``window`` (one of :data:`WINDOWS`), showing ``chart`` (one of
    :data:`tui.views.coin_charts.CHARTS`; only the selected chart's lines are computed)."""
    now = time.time() if now is None else now
    coin = normalise_coin(coin)
    window = window if window in WINDOWS else WINDOWS[0]
    chart = chart if chart in CHARTS else CHARTS[0]
    state = figures.state
    now_ms = int(figures.runtime.now_ms())
    derivs = _funding(figures, coin, now, now_ms)
    watched = coin in state.watched.left
    if watched:  # a coin in view outside the basket: the watched feeds' ratios ("loading": none yet)
        derivs["long_short"] = (() if _loading(figures, coin, WATCHED_USDM) else
                                coin_long_short(figures, coin, now, watched=True))  # fmt: skip
    else:
        derivs["long_short"] = coin_long_short(figures, coin, now)
    liqs = coin_liquidations(figures, coin, window, now, now_ms)
    liqs.update(chart=chart, **_chart(figures, coin, window, chart, now, now_ms, derivs))
    perp_30d = _perp_30d(figures, coin, watched)
    bars = choose_bars(_candidates(state, coin), window)
    if bars is None:
        error = state.coin_errors.get(coin) or (state.watched.errors.get(coin) if watched else None)
        message = f"no data for {coin}: {error}" if error else f"no data for {coin} yet"
        if watched and _loading(figures, coin, WATCHED_SPOT):
            message, status = f"loading {coin}: fetching its spot bars…", PaneStatus(False, "loading")
        elif error == NO_SPOT:
            perps = "its perpetuals below" if derivs["funding"] else "no perpetual on the tracked venues either"
            message = f"{coin}: {NO_SPOT} (price and spot CVD unknown; {perps})"
            status = PaneStatus(False, NO_SPOT)
        elif not state.alt_daily and not state.alt_hourly and state.btc_ticker is None:
            status = PaneStatus(False, "waiting for data")
        else:
            status = PaneStatus(False, "no spot data")
        return CoinView(coin, window, status, message=message, perp_cvd_30d_usd=perp_30d, **derivs, **liqs)

    frame = bars.frame
    others = () if bars.feed == WATCHED_SPOT else PANE_FEEDS["btc"] if coin == "BTC" else PANE_FEEDS["cvd"]
    feeds = (bars.feed, *(f for f in others if f != bars.feed))
    status = _status(figures, feeds, now)
    recent = window_bars(frame, window)
    closes = recent["close"].astype(float)
    last = num(closes.iat[-1])
    if coin == "BTC" and state.btc_ticker is not None:
        last = num(state.btc_ticker.last) or last
    first_open = num(recent["open"].iat[0]) if "open" in recent.columns else None
    change = None if last is None or not first_open else (last / first_open - 1) * 100
    coverage = ""
    if not _covers(frame, window):
        covered = recent.index[-1] + _interval(frame) - recent.index[0]
        coverage = f"history covers only {span_text(covered.total_seconds())}"
    cumulative = cvd(frame, recent.index[0])
    total = num(cumulative.iat[-1]) if len(cumulative) else None
    cvd_note = ""
    if total is None and len(cumulative):
        unknown = cumulative.index[np.isnan(cumulative.to_numpy(float))]
        cvd_note = f"taker split unknown from {unknown[0]:%Y-%m-%d %H:%M}" if len(unknown) else "CVD unknown"
    share, share_note = _share(figures, coin)
    price_series = downsample(closes, CHART_POINTS)
    cvd_series = downsample(cumulative.dropna(), CHART_POINTS)
    version = state.version.get(bars.feed, 0)
    return CoinView(
        coin, window, status,
        price=last, change_pct=change, bars=bars.label, coverage=coverage,
        cvd_usd=total, cvd_note=cvd_note, ratio=num(buy_sell_ratio(frame, recent.index[0])),
        share_pct=share, share_note=share_note, perp_cvd_30d_usd=perp_30d,
        price_x=epoch_seconds(price_series.index), price_y=tuple(price_series.tolist()),
        cvd_x=epoch_seconds(cvd_series.index), cvd_y=tuple(cvd_series.astype(float).tolist()),
        chart_key=(coin, window, bars.feed, version, len(recent), int(recent.index[-1].value)),
        **derivs, **liqs,
    )  # fmt: skip
