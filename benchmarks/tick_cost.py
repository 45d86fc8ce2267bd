"""Event-loop cost of one 1 Hz tick with 20, 200 and 500 coins (design target: <= 10 ms with 200 coins).

What one tick does in ``tui/app/app.py`` (``_refresh_views``): rebuild the view-models of the panes whose data changed
(``ViewBuilder``: btc, cvd, funding, liquidations, etf, macro, evaluate_drivers + drivers, status) and hand them to
the widgets. This script times both halves separately on a ``MarketState`` filled with realistic synthetic data for
N coins (daily klines from 2025-01-01 and 30 days of hourly klines per coin in the ``parse_klines`` layout, funding
quotes and open interest on 4 venues, funding and OI history, a 35-day liquidation tape, ETF/macro data from the
demo market):

* view-models, "one feed changed": the funding venue snapshot of one exchange is replaced (what happens every 30 s);
* view-models, "all feeds changed": every container is replaced with new data (the worst tick, e.g. after ``r``);
* view-models, "nothing changed": the status bar and the liquidation tape's ages only;
* widgets: ``CvdPane.update_view`` and ``FundingPane.update_view`` with N rows inside a headless Textual app
  (``App.run_test``), alternating two views whose every cell differs, with and without the repaint that follows;
* the live tick when one venue's funding arrives, as one figure: the tick's view-models + ``FundingPane.update_view``
  + the repaint, in event-loop CPU time (``live_tick_rows``; the wall time of ``pilot.pause()`` is mostly sleep).
  Its view-models are the app's on a simulated 1 Hz clock (:class:`AppTick`, the app's own ``due_panes``): every
  tick brings one venue's funding and tape news, so the checklist re-evaluates each time and the tape's view-model
  is rebuilt every third tick; the totals are also given apart for the ticks without and with that rebuild.

Usage: ``python benchmarks/tick_cost.py [--coins 20,200,500] [--repeat 30]``. Prints median and p95 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

#: The synthetic market's "now" (2026-11-23T12:00:00Z, the tests' frozen demo time).
NOW_MS = 1_795_435_200_000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
#: Freeze the heap built so far before timing, as the app does after its boot (``--no-freeze`` turns it off).
FREEZE = True
VENUES = ("binance", "bybit", "okx", "hyperliquid")
REAL_COINS = ["ETH", "XRP", "BNB", "SOL", "DOGE", "TRX", "ADA", "LINK", "AVAX", "SUI", "XLM", "BCH", "HBAR", "LTC",
              "DOT", "TON", "UNI", "NEAR", "AAVE", "PEPE"]  # fmt: skip


def coin_names(n: int) -> list[str]:
    return (REAL_COINS + [f"C{i:03d}" for i in range(n)])[:n]


# -- synthetic data ---------------------------------------------------------------------------------------------


def klines(rng: np.random.Generator, start_ms: int, end_ms: int, step_ms: int, price: float) -> pd.DataFrame:
    """Bars from ``start_ms`` to ``end_ms`` (the last one provisional) in the ``parse_klines`` frame layout."""
    opens = np.arange(start_ms, end_ms, step_ms, dtype=np.int64)
    n = len(opens)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[price], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    volume = rng.uniform(1e3, 1e5, n)
    quote = volume * close
    taker = quote * rng.uniform(0.4, 0.6, n)
    closes = opens + step_ms - 1
    return pd.DataFrame(
        {
            "open": open_, "high": high, "low": low, "close": close, "volume": volume, "quote_volume": quote,
            "trades": rng.integers(100, 10_000, n), "taker_buy_base": taker / close, "taker_buy_quote": taker,
            "close_time": pd.to_datetime(closes, unit="ms", utc=True).as_unit("ms"),
            "provisional": closes >= end_ms,
        },
        index=pd.DatetimeIndex(pd.to_datetime(opens, unit="ms", utc=True).as_unit("ms"), name="open_time"),
    )  # fmt: skip


def derivs_snapshot(rng: np.random.Generator, venue: str, coins: list[str], now_ms: int) -> Any:
    from records.derivs import DerivsSnapshot, FundingQuote, OpenInterest

    stamp = pd.Timestamp(now_ms, unit="ms", tz="UTC")
    interval = 1.0 if venue == "hyperliquid" else 8.0
    funding, oi = [], []
    for coin in coins:
        rate = float(rng.normal(1e-4, 2e-4)) * interval / 8
        price = float(rng.uniform(0.1, 3000))
        # Binance, Bybit and Hyperliquid publish an index (oracle) beside the mark, so the tick builds the basis
        # too; OKX's bulk call has neither (sources/okx.py).
        mark = None if venue == "okx" else price
        index = None if venue == "okx" else price * float(1 + rng.normal(0, 5e-4))
        funding.append(FundingQuote(coin, venue, rate, interval, rate * 8 / interval, stamp, mark, f"{coin}USDT",
                                    index_price=index))  # fmt: skip
        base = float(rng.uniform(1e4, 1e7))
        oi.append(OpenInterest(coin, venue, base, base * price, stamp, f"{coin}USDT"))
    return DerivsSnapshot(venue, funding, oi if venue != "binance" else [], stamp)


def funding_history(rng: np.random.Generator, coins: list[str], now_ms: int, periods: int) -> pd.DataFrame:
    from records.derivs import funding_history_frame

    start = (now_ms // (8 * HOUR_MS) - periods - 1) * 8 * HOUR_MS
    times = np.arange(start, now_ms, 8 * HOUR_MS, dtype=np.int64)
    frames = [
        funding_history_frame(times, c, "bybit", f"{c}USDT", rng.normal(1e-4, 2e-4, len(times)),
                              np.full(len(times), 8.0))
        for c in coins
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def oi_history(rng: np.random.Generator, coins: list[str], now_ms: int) -> pd.DataFrame:
    from records.derivs import oi_history_frame

    times = np.arange(now_ms // HOUR_MS * HOUR_MS - 25 * HOUR_MS, now_ms, HOUR_MS, dtype=np.int64)
    frames = []
    for c in coins:
        base = rng.uniform(1e4, 1e7) * np.exp(np.cumsum(rng.normal(0, 0.01, len(times))))
        frames.append(oi_history_frame(times, c, "binance", f"{c}USDT", base, base * rng.uniform(0.1, 3000)))
    return pd.concat(frames, ignore_index=True)


def liquidation_tape(rng: np.random.Generator, coins: list[str], now_ms: int, rows: int) -> Any:
    """A 35-day tape of ``rows`` liquidations across the venues and coins (arrival = time order)."""
    from analytics.liquidations import LiquidationTape

    times = np.sort(rng.integers(now_ms - 35 * DAY_MS, now_ms, rows))
    qty = rng.uniform(0.01, 100, rows)
    price = rng.uniform(0.1, 3000, rows)
    frame = pd.DataFrame({
        "time": times, "exchange": rng.choice(list(VENUES[:3]), rows), "coin": rng.choice(["BTC", *coins], rows),
        "side": rng.choice(["long", "short"], rows), "qty": qty, "price": price, "notional_usd": qty * price,
    })  # fmt: skip
    tape = LiquidationTape()
    tape.extend_frame(frame)
    tape.start_recording(int(times[0]))
    return tape


#: The MarketState fields the ETF and macro feeds fill.
MACRO_FIELDS = ("etf_btc", "etf_eth", "fear_greed", "global_market", "global_history", "coin_markets", "spy", "us2y",
                "stablecoin_supply")  # fmt: skip
#: Every feed the synthetic state stands for (its data versions move when the feeds deliver).
ALL_FEEDS = ("btc_ticker", "btc_intraday", "btc_ath", "cvd_daily", "cvd_hourly", "funding_binance", "funding_bybit",
             "funding_okx", "funding_hyperliquid", "oi_binance", "oi_history", "funding_history", "etf_btc", "etf_eth",
             "fear_greed", "cg_global", "cg_markets", "equities", "rates", "llama_stablecoins", "liq_tape")  # fmt: skip


def demo_extras(now_ms: int = NOW_MS) -> dict[str, Any]:
    """ETF, sentiment and macro fields of MarketState (name -> value) from the demo market, fetched once."""
    from tui.boot import Launch, build_runtime
    from tui.runtime.config import load_config
    from tui.runtime.feeds_macro import build_macro_feeds
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState

    async def run() -> dict[str, Any]:
        config = load_config(use_user_file=False)
        runtime, _ = build_runtime(config, Launch("demo", now_ms=now_ms))
        state = MarketState()
        await Scheduler(build_macro_feeds(config, runtime, state)).run_all_once()
        await runtime.aclose()
        return {name: getattr(state, name) for name in MACRO_FIELDS}

    return asyncio.run(run())


def fill_state(state: Any, n: int, seed: int = 7, now_ms: int = NOW_MS, extras: dict[str, Any] | None = None,
               tape_rows: int = 200_000) -> None:  # fmt: skip
    """Fill ``state`` (a MarketState) with N coins of synthetic data, as the feeds would after a full cycle."""
    from sources.binance_spot import Ticker24h

    rng = np.random.default_rng(seed)
    coins = coin_names(n)
    start = int(pd.Timestamp("2025-01-01", tz="UTC").value // 1_000_000)
    day_end = now_ms // DAY_MS * DAY_MS + DAY_MS
    hour_end = now_ms // HOUR_MS * HOUR_MS + HOUR_MS
    state.alt_daily = {c: klines(rng, start, day_end, DAY_MS, rng.uniform(0.1, 3000)) for c in coins}
    state.alt_hourly = {c: klines(rng, hour_end - 30 * DAY_MS, hour_end, HOUR_MS, rng.uniform(0.1, 3000))
                        for c in coins}  # fmt: skip
    state.btc_intraday = klines(rng, now_ms - 26 * HOUR_MS, now_ms, 300_000, 100_000.0)
    state.btc_monthly = klines(rng, 1_501_545_600_000, now_ms, 30 * DAY_MS, 5_000.0)
    last = float(state.btc_intraday["close"].iloc[-1])
    state.btc_ticker = Ticker24h("BTCUSDT", last, last * 1.02, last * 1.05, last * 0.95, -2.0, 3e10,
                                 pd.Timestamp(now_ms, unit="ms", tz="UTC"))  # fmt: skip
    state.derivs = {v: derivs_snapshot(rng, v, ["BTC", *coins], now_ms) for v in VENUES}
    marks = {q.coin: q.mark_price for q in state.derivs["binance"].funding}
    from records.derivs import OpenInterest

    stamp = pd.Timestamp(now_ms, unit="ms", tz="UTC")
    state.binance_oi = [OpenInterest(c, "binance", 1e5, 1e5 * (marks[c] or 1), stamp, f"{c}USDT")
                        for c in ["BTC", *coins]]  # fmt: skip
    state.funding_history = funding_history(rng, ["BTC", *coins], now_ms, 12)
    state.oi_history = oi_history(rng, ["BTC", *coins], now_ms)
    state.liq_tape = liquidation_tape(rng, coins, now_ms, tape_rows)
    for name, value in (extras if extras is not None else demo_extras(now_ms)).items():
        setattr(state, name, value)
    for name in ALL_FEEDS:
        state.bump(name)


def touch_funding(state: Any, rng: np.random.Generator, now_ms: int = NOW_MS) -> None:
    """One feed delivered: a new Binance funding snapshot (new object, new rates)."""
    coins = [q.coin for q in state.derivs["binance"].funding]
    state.derivs["binance"] = derivs_snapshot(rng, "binance", coins, now_ms)
    state.bump("funding_binance")


def touch_tape(state: Any, rng: np.random.Generator, now_ms: int) -> None:
    """One liquidation arrived from the stream (appended to the tape, its data version moved)."""
    from tui.runtime.state import TAPE

    qty, price = float(rng.uniform(0.01, 100)), float(rng.uniform(0.1, 3000))
    state.liq_tape.extend_frame(pd.DataFrame({
        "time": [now_ms], "exchange": ["binance"], "coin": ["ETH"], "side": [rng.choice(["long", "short"])],
        "qty": [qty], "price": [price], "notional_usd": [qty * price],
    }))  # fmt: skip
    state.bump(TAPE)


def touch_all(state: Any, rng: np.random.Generator, now_ms: int = NOW_MS) -> None:
    """Every feed delivered: every container replaced by a new object (last bars moved)."""

    def moved(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.iloc[-1, out.columns.get_loc("taker_buy_quote")] *= float(rng.uniform(0.95, 1.05))
        return out

    state.alt_daily = {c: moved(f) for c, f in state.alt_daily.items()}
    state.alt_hourly = {c: moved(f) for c, f in state.alt_hourly.items()}
    state.btc_intraday = moved(state.btc_intraday)
    state.btc_monthly = moved(state.btc_monthly)
    for venue in VENUES:
        state.derivs[venue] = derivs_snapshot(rng, venue, [q.coin for q in state.derivs[venue].funding], now_ms)
    state.binance_oi = list(state.binance_oi)
    state.funding_history = state.funding_history.copy()
    state.oi_history = state.oi_history.copy()
    for name in MACRO_FIELDS:
        if name != "global_history":
            setattr(state, name, _copy(getattr(state, name)))
    for name in ALL_FEEDS:
        state.bump(name)


def _copy(value: Any) -> Any:
    import copy

    return copy.copy(value)


# -- the tick ---------------------------------------------------------------------------------------------------


def build_views(n: int, extras: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(ViewBuilder, state, scheduler) over N synthetic coins; every feed's health is fresh."""
    from tui.boot import Launch, build_runtime
    from tui.runtime.config import load_config
    from tui.runtime.feeds import build_feeds
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState
    from tui.views.builder import ViewBuilder

    config = load_config(use_user_file=False)
    runtime, _ = build_runtime(config, Launch("demo", now_ms=NOW_MS))
    state = MarketState()
    scheduler = Scheduler(build_feeds(config, runtime, state))
    fill_state(state, n, extras=extras)
    views = ViewBuilder(config, runtime, state)
    views.scheduler = scheduler
    for feed in scheduler.feeds.values():
        feed.health.as_of = time.time() + 3600  # fresh for the whole run
    from tui.runtime.gc_tuning import freeze_long_lived

    if FREEZE:
        freeze_long_lived()  # as the app does once its boot is done (``--no-freeze``: without it)
    return views, state, scheduler


def tick(views: Any, scheduler: Any, panes: set[str], now: float) -> Any:
    """The view-model half of ``AltpulseApp._refresh_views`` for the panes whose feeds changed; returns the
    funding view-model when it was rebuilt (None otherwise)."""
    funding = None
    if "btc" in panes:
        views.btc(now)
    if "cvd" in panes:
        views.cvd(now)
    if "funding" in panes:
        funding = views.funding(now)
    views.liquidations(now)  # the tape ages: rebuilt every few seconds whatever changed
    if "etf" in panes:
        views.etf(now)
    if "macro" in panes:
        views.macro(now)
    views.evaluate_drivers()
    views.drivers(now)
    views.status(scheduler, now)
    return funding


class AppTick:
    """``AltpulseApp._refresh_views`` on a simulated 1 Hz clock: the view-models :func:`tui.views.registry.due_panes`
    says are due (the tape's rebuilt at most every 3 s and at least every 5 s, the checklist when a metric's feed
    delivered and at least every 10 s), the "why" line after the checklist, and the status bar."""

    def __init__(self, views: Any, scheduler: Any, start: float) -> None:
        self.views, self.scheduler, self.now = views, scheduler, start
        self.painted: dict[str, float] = {}
        self.later: set[str] = set()
        self.rebuilt: list[str] = []

    def __call__(self, news: set[str]) -> Any:
        """One tick, one second after the last, with ``news`` delivered meanwhile; returns the funding view-model
        when it was rebuilt."""
        from tui.views.registry import due_panes

        self.now += 1.0
        views, now = self.views, self.now
        due, self.later = due_panes(news | self.later, self.painted, now, views.status_changed)
        funding = None
        self.rebuilt = [spec.key for spec in due]
        for spec in due:
            self.painted[spec.key] = now
            if spec.key == "drivers":
                views.evaluate_drivers()
                views.explain(now)
            built = views.build(spec.key, now)
            if spec.key == "funding":
                funding = built
        views.status(self.scheduler, now)
        return funding


def median_p95(values: list[float]) -> tuple[float, float]:
    """(median, 95th percentile, the nearest sample) of ``values``."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))]


def measure(fn: Callable[[], Any], repeat: int, setup: Callable[[], Any] = lambda: None) -> tuple[float, float]:
    """(median, p95) in ms of ``fn`` over ``repeat`` runs after one warm-up; ``setup`` runs untimed before each."""
    setup()
    fn()
    samples = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return median_p95(samples)


def view_rows(n: int, extras: dict[str, Any], repeat: int) -> list[tuple[str, float, float]]:
    views, state, scheduler = build_views(n, extras)
    rng = np.random.default_rng(1)
    now = time.time()
    all_panes = {"btc", "cvd", "funding", "etf", "macro"}
    out = []

    def touch_one() -> None:
        touch_funding(state, rng)

    def touch_every() -> None:
        touch_all(state, rng)

    out.append(("views: nothing changed", *measure(lambda: tick(views, scheduler, set(), now), repeat)))
    out.append(("views: one feed changed (funding)",
                *measure(lambda: tick(views, scheduler, {"funding"}, now), repeat, touch_one)))  # fmt: skip
    few = max(5, repeat // 3)
    out.append(("views: all feeds changed", *measure(lambda: tick(views, scheduler, all_panes, now), few, touch_every)))
    for name in ("btc", "cvd", "funding", "liquidations", "etf", "macro", "evaluate_drivers"):
        method = getattr(views, name)
        call = method if name == "evaluate_drivers" else (lambda method=method: method(now))
        out.append((f"  {name} (new data)", *measure(call, few, touch_every)))
    return out


async def widget_rows(n: int, extras: dict[str, Any], repeat: int) -> list[tuple[str, float, float]]:
    """CvdPane / FundingPane ``update_view`` with N rows in a headless app (each call: every cell differs; and the
    live case, one venue's new funding snapshot)."""
    from textual.app import App, ComposeResult

    from widgets.cvd_pane import CvdPane

    try:
        from widgets.funding_pane import FundingPane
    except ImportError:  # an older tree without the funding pane
        FundingPane = None

    views, state, _ = build_views(n, extras)
    rng = np.random.default_rng(2)
    now = time.time()
    cvd_views, funding_views = [], []
    for _ in range(2):
        touch_all(state, rng)
        cvd_views.append(views.cvd(now))
        funding_views.append(views.funding(now))
    # The live case: one venue's new snapshot (Binance's rates and OI new, the other venues as they were).
    one_venue = []
    for _ in range(2):
        touch_funding(state, rng)
        one_venue.append(views.funding(now))

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield CvdPane()
            if FundingPane is not None:
                yield FundingPane()

    out: list[tuple[str, float, float]] = []
    app = Bench()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        panes: list[tuple[str, Any, list[Any]]] = [("CvdPane", app.query_one(CvdPane), cvd_views)]
        if FundingPane is not None:
            panes.append(("FundingPane", app.query_one(FundingPane), funding_views))
            panes.append(("FundingPane, one venue new,", app.query_one(FundingPane), one_venue))
        for label, pane, seq in panes:
            calls, painted = [], []
            pane.update_view(seq[1])
            await pilot.pause()
            for i in range(repeat):
                start = time.perf_counter()
                pane.update_view(seq[i % 2])
                mid = time.perf_counter()
                await pilot.pause()  # lets Textual lay out and paint the change (the rest of the tick's cost)
                end = time.perf_counter()
                calls.append((mid - start) * 1000)
                painted.append((end - start) * 1000)
            for name, samples in ((f"widget: {label}.update_view", calls), (f"widget: {label} update+repaint",
                                                                            painted)):  # fmt: skip
                out.append((name, *median_p95(samples)))
    return out


#: The funding pane's outer size on the dashboard at 160x45 (its region there, read from the running app: 60x20,
#: 16 table rows), for the live tick as a trader's screen pays it.
DASHBOARD_PANE = (60, 20)


async def live_tick_rows(
    n: int, extras: dict[str, Any], repeat: int, size: tuple[int, int] | None = None
) -> list[tuple[str, float, float]]:
    """The whole live tick when one venue's funding snapshot arrives, as event-loop time: the tick's view-models,
    ``FundingPane.update_view`` and the repaint that follows, in one headless 160x45 app. ``size=None`` gives the
    table the whole screen (~41 visible rows, every column: the upper bound, and the maximised pane ``f``);
    ``size=DASHBOARD_PANE`` sizes it as on the dashboard.

    Measured as the event loop thread's CPU time (``time.thread_time``), not wall time: ``pilot.pause()`` sleeps
    in 20 ms steps until the process is idle, so its wall time is mostly sleeping. The repaint is the thread's CPU
    over that pause less the median of an idle pause (the pause's own polling). The other panes' widgets (status
    bar, liquidations, drivers) are not updated here: their view-models are in the figure, their repaints not.
    """
    from textual.app import App, ComposeResult

    from tui.runtime.state import TAPE
    from widgets.funding_pane import FundingPane

    views, state, scheduler = build_views(n, extras)
    rng = np.random.default_rng(3)
    now = time.time()

    class Bench(App[None]):
        CSS = "" if size is None else f"FundingPane {{ width: {size[0]}; height: {size[1]}; }}"

        def compose(self) -> ComposeResult:
            yield FundingPane()

    app = Bench()
    clock = time.thread_time
    samples: dict[str, list[float]] = {"view-models": [], "update_view": [], "repaint": [], "total": []}
    plain_ticks: list[float] = []  # totals of the ticks that did not rebuild the tape's view-model
    tape_ticks: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        pane = app.query_one(FundingPane)
        pane.update_view(views.funding(now))
        await pilot.pause()
        idle = []
        for _ in range(repeat):
            start = clock()
            await pilot.pause()
            idle.append(clock() - start)
        floor = statistics.median(idle)
        app_tick = AppTick(views, scheduler, now)
        for i in range(repeat + 1):  # the first is a warm-up
            touch_funding(state, rng)
            touch_tape(state, rng, NOW_MS + i * 1000)  # the tape had news, as most seconds of a live market do
            start = clock()
            view = app_tick({"funding_binance", TAPE})
            built = clock()
            with_tape = "liquidations" in app_tick.rebuilt
            pane.update_view(view)
            updated = clock()
            await pilot.pause()
            painted = clock() - floor
            if i:
                parts = (built - start, updated - built, max(0.0, painted - updated), max(updated, painted) - start)
                for name, value in zip(samples, parts, strict=True):
                    samples[name].append(value * 1000)
                (tape_ticks if with_tape else plain_ticks).append(parts[-1] * 1000)
    label = "live tick, one venue" if size is None else "dashboard pane: live tick, one venue"
    out = [(f"{label}: idle pause (subtracted)", *median_p95([v * 1000 for v in idle]))]
    out += [(f"{label}: {name}", *median_p95(values)) for name, values in samples.items()]
    for name, values in (("without the tape's rebuild", plain_ticks), ("with the tape's rebuild (1 in 3)",
                                                                      tape_ticks)):  # fmt: skip
        if values:
            out.append((f"{label}: total {name}", *median_p95(values)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", default="20,200,500", help="comma-separated basket sizes")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-widgets", action="store_true", help="skip the headless Textual part")
    parser.add_argument("--no-freeze", action="store_true", help="time without the app's gc.freeze() after boot")
    args = parser.parse_args()
    global FREEZE
    FREEZE = not args.no_freeze
    sizes = [int(x) for x in args.coins.split(",")]
    extras = demo_extras()
    table: dict[str, dict[int, tuple[float, float]]] = {}
    for n in sizes:
        rows = view_rows(n, extras, args.repeat)
        if not args.no_widgets:
            rows += asyncio.run(widget_rows(n, extras, max(10, args.repeat // 2)))
            rows += asyncio.run(live_tick_rows(n, extras, args.repeat))
            rows += asyncio.run(live_tick_rows(n, extras, args.repeat, size=DASHBOARD_PANE))
        for name, med, p95 in rows:
            table.setdefault(name, {})[n] = (med, p95)
        print(f"  ... {n} coins done", file=sys.stderr)
    header = f"{'tick part (ms: median / p95)':52s}" + "".join(f"{str(n) + ' coins':>18s}" for n in sizes)
    print(header)
    print("-" * len(header))
    for name, by_n in table.items():
        cells = "".join(f"{by_n[n][0]:9.2f} / {by_n[n][1]:6.2f}" if n in by_n else f"{'-':>18s}" for n in sizes)
        print(f"{name:52s}{cells}")
    print("target: <= 10 ms per tick with 200 coins (design.md section 6)")


if __name__ == "__main__":
    main()
