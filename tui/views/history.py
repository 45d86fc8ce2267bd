"""The key-driver metrics over history: each metric of :data:`analytics.drivers.KNOWN_METRICS` at every step of a
fixed grid, from a dataset's records observed at or before the step only (look-ahead-free by construction).

One engine behind ``altpulse backtest`` (:mod:`tui.commands.backtest`) and the drivers timeline
(:mod:`tui.views.timeline`). The dataset is the replay engine's (``emulator.dataset.MarketDataset``: the files
``--replay`` reads, a recorder store, or the demo's simulated market), read through its frames only. The same
analytics functions the console's :class:`tui.views.metrics.Metrics` calls compute each figure:

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
basket_cvd_change(w),   the basket coins' spot bars closed by t with a taker split (:func:`analytics.cvd.
basket_buy_sell_ratio   candle_delta`; the ratio is :func:`analytics.cvd.buy_sell_ratio`'s buy / sell over the same
                        bars), summed over the coins whose bars reach back the whole window and are at most two
                        bars old; the console also counts the still-open bar, history only closed ones
long_liq_vs_median(w)   :func:`analytics.cascade` on the liquidation tape recorded by t (the demo's simulated tape;
                        replay files and stores without liquidations have none)
oi_change(w)            :func:`analytics.open_interest.total_oi_change` on the venues' OI samples by t
btc_dominance_change,   :func:`analytics.macro.change_over_window` on the CoinGecko ``/global`` snapshots by t (the
stablecoin_share_...    console's "measured" basis; the stablecoin share sums USDT and USDC, as the source does)
smallcap_vs_largecap    :func:`analytics.macro.small_vs_large_cap_return` on the ``/coins/markets`` snapshot by t,
                        each coin's 30-day change from its own snapshot 30 days earlier
======================  ===========================================================================================

A metric whose data the history does not carry is unknown at every step with the reason (:data:`NOT_REPLAYED`):
its driver stays unknown, never clear. The real replay files carry no taker split, tape, OI or market history; the
demo's simulated market carries all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analytics import etf as etf_an
from analytics import macro as macro_an
from analytics.backtest import finite_or_none
from analytics.drivers import MetricValue, parse_window
from analytics.funding import funding_stats
from analytics.price import pct_change_over
from tui.runtime.feeds_macro import EQUITY_MAX_AGE_DAYS, ETF_MAX_AGE_DAYS

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
#: What a history without the data cannot evaluate, per metric (their drivers stay unknown).
NOT_REPLAYED = {
    "basket_cvd_change": "basket CVD is not replayed by the backtest (needs daily taker-split bars)",
    "basket_buy_sell_ratio": "basket CVD is not replayed by the backtest (needs daily taker-split bars)",
    "long_liq_vs_median": "no liquidation tape in the history (no keyless liquidation history exists)",
    "oi_change": "no open-interest history in the replay data",
    "smallcap_vs_largecap": "no CoinGecko market history in the replay data",
    "btc_dominance_change": "no BTC dominance history in the replay data",
    "stablecoin_share_change": "no stablecoin-share history in the replay data",
}
#: The stablecoins whose ``/global`` shares make the stablecoin share (``sources.coingecko.STABLECOINS``).
STABLE_COLUMNS = ("pct_usdt", "pct_usdc")


def spot_bars(dataset: Any, symbol: str) -> dict[int, pd.DataFrame]:
    """Every Binance spot bar of ``symbol`` in ``dataset``: the demo stores only the recent bars of its long tail and
    gives the rest on request (``MarketDataset.history``; a coin of a custom basket can be one of them)."""
    history = getattr(dataset, "history", None)
    if history is None:
        return dataset.spot_klines.get(symbol) or {}
    frames: dict[int, pd.DataFrame] = history("binance_spot", symbol)  # emulator.dataset.SPOT (no import here)
    return frames


def bar_closes(frames: dict[int, pd.DataFrame], max_interval_ms: int | None = None,
               ) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
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

    def __init__(self, dataset: Any, steps_ms: np.ndarray, baseline_8h: float, basket: tuple[str, ...] = ()) -> None:
        self.dataset = dataset
        self.steps_ms = np.asarray(steps_ms, dtype=np.int64)
        self.baseline_8h = baseline_8h
        self.basket = tuple(basket)  # the basket CVD's coins (config order); empty: CVD unknown
        self._cache: dict[tuple[str, str | None], list[MetricValue | None]] = {}
        self._funding_stats: list[tuple[float, float] | None] | None = None

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
        builder = {
            "btc_change": self._btc_change, "etf_net_flow_sum": self._etf, "etf_outflow_streak": self._etf,
            "etf_min_daily_flow": self._etf, "fear_greed": self._fear_greed, "spy_change": self._spy,
            "us2y_change": self._us2y, "funding_median_8h": self._funding,
            "funding_share_above_baseline": self._funding, "basket_cvd_change": self._cvd,
            "basket_buy_sell_ratio": self._cvd, "long_liq_vs_median": self._cascade, "oi_change": self._oi,
            "btc_dominance_change": self._global, "stablecoin_share_change": self._global,
            "smallcap_vs_largecap": self._small_caps,
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
        obs, closes, size = bar_closes(frames, int(span / pd.Timedelta(milliseconds=1)))
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
        if self._funding_stats is None:
            self._funding_stats = self._funding_by_step(funding)
        out: list[MetricValue | None] = []
        for step, stats in zip(self.steps_ms.tolist(), self._funding_stats, strict=True):
            if stats is None:
                out.append(MetricValue(None, None, note="no fresh settled funding"))
                continue
            value = stats[0] if metric == "funding_median_8h" else stats[1]
            out.append(MetricValue(finite_or_none(value), self._stamp(step), quality="settled funding rates"))
        return out

    def _funding_by_step(self, funding: pd.DataFrame) -> list[tuple[float, float] | None]:
        """(median, share above baseline) at each step, None where no venue has a fresh settled rate; both metrics
        share it. Each (venue, coin) series is looked up for every step at once; steps that see the same set of
        settled rates share one :func:`funding_stats`."""
        names, columns = [], []
        for (venue, coin), rows in funding.groupby(["exchange", "coin"], sort=True):
            rows = rows.sort_values("time")
            times = rows["time"].to_numpy(np.int64)
            hours = rows["interval_hours"].to_numpy(float)
            rates = rows["rate"].to_numpy(float) * 8.0 / hours
            pos = np.searchsorted(times, self.steps_ms, side="right") - 1
            safe = np.clip(pos, 0, None)
            fresh = (pos >= 0) & (self.steps_ms - times[safe] <= 2 * hours[safe] * HOUR_MS)
            names.append((str(venue), str(coin), rates))
            columns.append(np.where(fresh, pos, -1))
        positions = np.vstack(columns) if columns else np.empty((0, len(self.steps_ms)), dtype=np.int64)
        memo: dict[bytes, tuple[float, float]] = {}
        out: list[tuple[float, float] | None] = []
        for i in range(len(self.steps_ms)):
            key_arr = positions[:, i]
            if not (key_arr >= 0).any():
                out.append(None)
                continue
            key = key_arr.tobytes()
            if key not in memo:
                cells: dict[str, dict[str, float]] = {}
                for (venue, coin, rates), pos in zip(names, key_arr.tolist(), strict=True):
                    if pos >= 0:
                        cells.setdefault(venue, {})[coin] = float(rates[pos])
                memo[key] = funding_stats(pd.DataFrame(cells), self.baseline_8h)
            out.append(memo[key])
        return out

    # -- what the demo's market carries (and a store that recorded it); replay files do not ---------------------
    def basket_flows(self) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per basket coin with taker-split bars: (coin, close ms, cumulative taker-buy USD, cumulative taker-sell
        USD, cumulative count of bars without a split, each bar's ms). Every bar size is used, the finest where
        sizes overlap (a dataset keeps hourly bars for recent weeks and daily ones before them), so the series
        reaches as far back as any size and is as fine as the data near the clock. A bar's volumes are observed at
        its close."""
        if not hasattr(self, "_flows"):
            from analytics.cvd import candle_delta

            flows = []
            for coin in self.basket:
                frames = spot_bars(self.dataset, f"{coin}USDT")
                parts = []
                covered_from: int | None = None  # the first open of the finer sizes already taken
                for size in sorted(ms for ms, f in frames.items() if len(f)):
                    frame = frames[size]
                    opens = frame["open_time"].to_numpy(np.int64)
                    if covered_from is not None:
                        frame = frame[opens + size <= covered_from]  # only where no finer bar exists
                        opens = frame["open_time"].to_numpy(np.int64)
                    if len(frame):
                        parts.append((frame, size))
                        covered_from = int(opens[0]) if covered_from is None else min(covered_from, int(opens[0]))
                if not parts:
                    continue
                parts.sort(key=lambda part: int(part[0]["open_time"].iloc[0]))
                frame = pd.concat([f for f, _ in parts], ignore_index=True)
                sizes = np.concatenate([np.full(len(f), ms, dtype=np.int64) for f, ms in parts])
                buy = frame["taker_buy_quote_volume"].to_numpy(float)
                if np.isnan(buy).all():
                    continue
                delta = candle_delta(frame.rename(columns={"taker_buy_quote_volume": "taker_buy_quote"}))
                missing = np.isnan(delta.to_numpy(float))
                buy = np.where(missing, 0.0, buy)
                sell = np.where(missing, 0.0, frame["quote_volume"].to_numpy(float) - buy)
                flows.append((coin, frame["open_time"].to_numpy(np.int64) + sizes, np.cumsum(buy), np.cumsum(sell),
                              np.cumsum(missing), sizes))  # fmt: skip
            self._flows = flows
        return self._flows

    def _cvd(self, metric: str, window: str | None) -> list[MetricValue | None]:
        flows = self.basket_flows()
        if not flows:
            return self._unknown(NOT_REPLAYED[metric])
        span = int(parse_window(window or "30d") / pd.Timedelta(milliseconds=1))
        steps = self.steps_ms
        buy = np.zeros(len(steps))
        sell = np.zeros(len(steps))
        counted = np.zeros(len(steps), dtype=np.int64)
        stale = np.zeros(len(steps), dtype=bool)
        for _, obs, cum_buy, cum_sell, cum_missing, size in flows:
            end = np.searchsorted(obs, steps, side="right") - 1
            start = np.searchsorted(obs, steps - span, side="right") - 1
            e, s = np.clip(end, 0, None), np.clip(start, 0, None)
            fresh = (end >= 0) & (steps - obs[e] <= 2 * size[e])
            ok = (start >= 0) & fresh & (cum_missing[e] == cum_missing[s])
            stale |= (start >= 0) & ~fresh
            buy += np.where(ok, cum_buy[e] - cum_buy[s], 0.0)
            sell += np.where(ok, cum_sell[e] - cum_sell[s], 0.0)
            counted += ok
        out: list[MetricValue | None] = []
        for i, step in enumerate(steps.tolist()):
            n = int(counted[i])
            if n == 0:
                note = "data is stale" if stale[i] else f"no basket coin's taker-split bars cover {window} yet"
                out.append(MetricValue(None, None, stale=bool(stale[i]), note=note))
                continue
            value = buy[i] - sell[i] if metric == "basket_cvd_change" else (buy[i] / sell[i] if sell[i] > 0 else None)
            quality = "" if n == len(self.basket) else f"{n} of {len(self.basket)} basket coins (closed bars)"
            out.append(MetricValue(finite_or_none(value), self._stamp(step), quality=quality))
        return out

    def basket_cvd_line(self) -> np.ndarray:
        """The basket's CVD (USD, taker buy minus sell) cumulated from the first step, at every step: the coins
        with a split and a bar closed by the first step; NaN where none is fresh (or no coin has a split)."""
        steps = self.steps_ms
        total = np.zeros(len(steps))
        counted = np.zeros(len(steps), dtype=bool)
        for _, obs, cum_buy, cum_sell, cum_missing, size in self.basket_flows():
            first = int(np.searchsorted(obs, steps[0], side="right")) - 1 if len(steps) else -1
            if first < 0:
                continue
            end = np.clip(np.searchsorted(obs, steps, side="right") - 1, 0, None)
            ok = (steps - obs[end] <= 2 * size[end]) & (cum_missing[end] == cum_missing[first])
            cum = cum_buy - cum_sell
            total += np.where(ok, cum[end] - cum[first], 0.0)
            counted |= ok
        return np.where(counted, total, np.nan)

    def _cascade(self, metric: str, window: str | None) -> list[MetricValue | None]:
        from analytics.liquidations import cascade

        tape = self.dataset.liquidations
        if tape is None or not len(tape):
            return self._unknown(NOT_REPLAYED[metric])
        # Only long liquidations count (numerator and median alike), so the short rows are left out once here
        # rather than masked at every step; their notional is computed once too.
        every = tape["time"].to_numpy(np.int64)
        first, last = int(every.min()), int(every.max())  # what was recorded, whichever side
        longs = tape[tape["side"].to_numpy() == "long"]
        tape = longs.assign(notional_usd=longs["qty"].to_numpy(float) * longs["price"].to_numpy(float))
        tape = tape.sort_values("time", kind="stable")
        if not len(tape):
            return self._unknown("no long liquidation in the history's tape")
        times = tape["time"].to_numpy(np.int64)
        lookback = parse_window(window or "30d")
        lookback_ms = int(lookback / pd.Timedelta(milliseconds=1))
        obs, closes, _ = bar_closes(self.dataset.spot_klines.get("BTCUSDT", {}), HOUR_MS)
        btc = pd.Series(closes, index=pd.DatetimeIndex(pd.to_datetime(obs, unit="ms", utc=True)))
        out: list[MetricValue | None] = []
        for step in self.steps_ms.tolist():
            if step < first:
                out.append(MetricValue(None, None, note="no liquidation recorded yet at this time"))
                continue
            lo = int(np.searchsorted(times, step - lookback_ms - HOUR_MS, side="left"))
            hi = int(np.searchsorted(times, step, side="right"))
            k = int(np.searchsorted(obs, step, side="right"))
            result = cascade(tape.iloc[lo:hi], btc.iloc[:k], step, lookback=lookback, recorded_since=first)
            # Six hours without one liquidation on any venue: the recording ended (a quiet market still has some).
            ended = step - last > 6 * HOUR_MS
            out.append(MetricValue(finite_or_none(result.ratio), self._stamp(step), stale=ended,
                                   note="the tape ends here" if ended else result.reason,
                                   quality="the history's recorded tape"))  # fmt: skip
        return out

    def _oi(self, metric: str, window: str | None) -> list[MetricValue | None]:
        from analytics.open_interest import total_oi_change

        history = self.dataset.open_interest
        if history is None or not len(history):
            return self._unknown(NOT_REPLAYED[metric])
        history = history.sort_values("time", kind="stable")
        history = history.assign(oi_usd=history["oi_base"].to_numpy(float) * history["price"].to_numpy(float))
        times = history["time"].to_numpy(np.int64)
        span = parse_window(window or "24h")
        span_ms = int(span / pd.Timedelta(milliseconds=1))
        out: list[MetricValue | None] = []
        for step in self.steps_ms.tolist():
            hi = int(np.searchsorted(times, step, side="right"))
            if hi == 0 or step - span_ms < int(times[0]):
                out.append(MetricValue(None, None, note="open-interest history shorter than the window"))
                continue
            lo = int(np.searchsorted(times, step - span_ms - 2 * HOUR_MS, side="left"))
            value = total_oi_change(history.iloc[lo:hi], span, end=step)
            stale = step - int(times[hi - 1]) > 6 * HOUR_MS
            out.append(MetricValue(finite_or_none(value), self._stamp(int(times[hi - 1])), stale=stale,
                                   note="data is stale" if stale else ""))  # fmt: skip
        return out

    def _global(self, metric: str, window: str | None) -> list[MetricValue | None]:
        glob = self.dataset.global_market
        column = "pct_btc" if metric == "btc_dominance_change" else "stablecoin"
        if glob is None or not len(glob) or (column == "pct_btc" and column not in glob):
            return self._unknown(NOT_REPLAYED[metric])
        glob = glob.sort_values("time", kind="stable")
        known = glob["time"].to_numpy(np.int64)
        if column == "pct_btc":
            values = glob["pct_btc"].to_numpy(float)
        else:
            if not all(c in glob for c in STABLE_COLUMNS):
                return self._unknown(NOT_REPLAYED[metric])
            values = sum(glob[c].to_numpy(float) for c in STABLE_COLUMNS)
        series = pd.Series(values, index=pd.DatetimeIndex(pd.to_datetime(known, unit="ms", utc=True)))
        span = parse_window(window or "30d")

        def compute(k: int) -> MetricValue:
            change = macro_an.change_over_window(series.iloc[:k], span)
            return MetricValue(finite_or_none(change.value), self._stamp(known[k - 1]), note=change.note,
                               quality="measured on the history's /global snapshots")  # fmt: skip

        return self._known(known, 2 * DAY_MS, compute)

    def _small_caps(self, metric: str, window: str | None) -> list[MetricValue | None]:
        markets = self.dataset.coin_markets
        if markets is None or not len(markets):
            return self._unknown(NOT_REPLAYED[metric])
        if window not in (None, "30d"):
            return self._unknown("CoinGecko gives 30-day changes only")
        snapshots = {int(t): rows for t, rows in markets.groupby("time", sort=True)}
        known = np.array(sorted(snapshots), dtype=np.int64)

        def compute(k: int) -> MetricValue:
            now = int(known[k - 1])
            then_pos = int(np.searchsorted(known, now - 30 * DAY_MS, side="right")) - 1
            if then_pos < 0:
                return MetricValue(None, self._stamp(now), note="needs /coins/markets snapshots 30 days apart")
            frame = snapshots[now]
            before = snapshots[int(known[then_pos])].set_index("id")["price"]
            change = (frame["price"].to_numpy(float) / frame["id"].map(before).to_numpy(float) - 1.0) * 100.0
            split = macro_an.small_vs_large_cap_return(frame.assign(change_30d_pct=change))
            return MetricValue(finite_or_none(split.value_pp), self._stamp(now), note=split.note)

        return self._known(known, 2 * DAY_MS, compute)
