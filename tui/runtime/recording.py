"""The recorder: what the feeds deliver goes into the store as it is delivered, and comes back on the next start.

Three things are recorded. *History*: normalised rows with their venue and market time (liquidations, klines,
funding and open interest, settled funding, ETF flows, macro series, driver state changes), what a replay of the
store and ``store export`` read. *The latest delivery of each feed, whole* (``feed_state``: the values the console
holds plus the feed's health), what a follower shows and what a restart paints before its first fetch. *Sessions*
with a heartbeat per committed batch, from which the gaps (time nobody recorded) are derived, never filled.

Everything here runs on the event loop and only takes references (feeds replace what they store, never mutate it)
or copies a few new tape rows; turning them into rows and JSON happens in the writer thread
(:class:`store.writer.BatchWriter`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.base import Store
    from store.writer import BatchWriter
    from tui.runtime.config import Config
    from tui.runtime.modes import Runtime
    from tui.runtime.scheduler import Feed
    from tui.runtime.state import MarketState

log = logging.getLogger(__name__)
DAY_MS = 86_400_000
#: The liquidation tape keeps 35 days: that much is restored.
TAPE_RESTORE_MS = 35 * DAY_MS
#: At most this many tape rows go to one batch (a demo's seed is 200k rows: written over a few seconds instead of
#: holding the GIL, and so the screen, for half a second).
TAPE_ROWS_PER_TICK = 20_000
#: Stream health is recorded as a feed of this prefix (``stream_binance``): a follower shows the collector's.
STREAM_PREFIX = "stream_"


def store_path(config: Config, mode: str) -> Path:
    """Where ``mode``'s store lives: ``[store] path``, else the user data dir; demo data never goes into the live
    store (``demo.sqlite`` beside it)."""
    if config.store.path:
        path = Path(config.store.path).expanduser()
        return path if mode != "demo" or path.name.startswith("demo") else path.with_name(f"demo-{path.name}")
    from platformdirs import user_data_dir

    return Path(user_data_dir("altpulse", appauthor=False)) / ("demo.sqlite" if mode == "demo" else "store.sqlite")


# -- what each feed puts in the state --------------------------------------------------------------------------
def feed_fields(feed: str) -> tuple[str, ...]:
    """The market-state paths a feed writes (``attr`` or ``attr.key`` for per-venue dicts)."""
    fixed = {
        "btc_ticker": ("btc_ticker",), "btc_intraday": ("btc_intraday",), "btc_ath": ("btc_monthly",),
        "cvd_daily": ("alt_daily", "coin_errors"), "cvd_hourly": ("alt_hourly", "coin_errors"),
        "cvd_perp_daily": ("perp_daily",), "cvd_market": ("market_daily", "spot_pairs", "market_errors"),
        "oi_binance": ("binance_oi",), "oi_history": ("oi_history",), "funding_history": ("funding_history",),
        "okx_instruments": ("okx_contracts",), "etf_btc": ("etf_btc",), "etf_eth": ("etf_eth",),
        "fear_greed": ("fear_greed",), "cg_global": ("global_market", "global_history"),
        "cg_markets": ("coin_markets",), "equities": ("spy",), "rates": ("us2y",),
        "llama_stablecoins": ("stablecoin_supply",),
    }  # fmt: skip
    if feed in fixed:
        return fixed[feed]
    for prefix, attr in (("funding_", "derivs"), ("universe_", "perp_universe"), ("long_short_", "long_short")):
        if feed.startswith(prefix) and feed != "funding_history":
            return (f"{attr}.{feed.removeprefix(prefix)}",)
    return ()


def get_field(state: MarketState, path: str) -> Any:
    attr, _, key = path.partition(".")
    value = getattr(state, attr)
    if key:
        return value.get(key)
    if attr == "global_history":
        return None if value is None else value.frame
    if attr == "okx_contracts":
        return None if value is None else {"table": dict(value.table), "loaded_at": value.loaded_at}
    if attr in ("coin_errors", "market_errors"):
        return dict(value)
    return value


def set_field(state: MarketState, path: str, value: Any) -> None:
    attr, _, key = path.partition(".")
    if key:
        if value is not None:
            getattr(state, attr)[key] = value
        return
    if attr == "global_history":
        from tui.runtime.global_history import GlobalHistory

        if state.global_history is None:
            state.global_history = GlobalHistory()
        if value is not None:
            state.global_history.frame = value
        return
    if attr == "okx_contracts":
        if value is not None and state.okx_contracts is not None:
            state.okx_contracts.update(value["table"], value.get("loaded_at"))
        return
    if attr in ("alt_daily", "alt_hourly", "perp_daily", "coin_errors", "market_daily") and value is not None:
        target = getattr(state, attr)
        target.clear()
        target.update(value)
        return
    setattr(state, attr, value)


def health_dict(feed: Feed) -> dict[str, Any]:
    h = feed.health
    return {"error": h.error, "failures": h.failures, "unavailable": h.unavailable, "suspect": h.suspect,
            "retry_at": h.retry_at, "as_of": h.as_of, "market_as_of": h.market_as_of,
            "data_as_of": h.data_as_of}  # fmt: skip


# -- history rows (built in the writer thread) ------------------------------------------------------------------
def _ms(stamp: Any) -> int | None:
    import pandas as pd

    if stamp is None or stamp is pd.NaT:
        return None
    ts = pd.Timestamp(stamp)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value // 1_000_000)


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out  # NaN is unknown: NULL in the store


def kline_interval_ms(frame: Any) -> int | None:
    """The bar spacing of a kline frame (ms), None with fewer than two bars."""
    import numpy as np

    if frame is None or len(frame) < 2:
        return None
    opens = frame.index.as_unit("ms").asi8
    step = int(np.min(np.diff(opens[-3:]))) if len(opens) >= 3 else int(opens[1] - opens[0])
    return step if step > 0 else None


def kline_rows(symbol: str, frame: Any, since_ms: int | None = None, market: str = "binance_spot") -> list[tuple]:
    """Rows of a kline frame (:mod:`records.klines`), optionally only bars opened at or after ``since_ms``
    (vectorised: 200 coins x 720 hourly bars is one pass over columns, not a Python loop over cells)."""
    import numpy as np
    import pandas as pd

    interval = kline_interval_ms(frame)
    if interval is None:
        return []
    opens = frame.index.as_unit("ms").asi8
    first = int(np.searchsorted(opens, since_ms)) if since_ms is not None else 0
    n = len(opens) - first
    if n <= 0:
        return []
    # Columns sliced by position: a delivery usually adds a bar or two per coin, so per-coin overhead is what counts.
    columns: list[list[Any]] = [[market] * n, [symbol] * n, [interval] * n, opens[first:].tolist()]
    for name in ("open", "high", "low", "close", "volume", "quote_volume"):
        columns.append(frame[name].to_numpy(np.float64)[first:].tolist())  # NaN is stored as NULL (unknown)
    columns.append(frame["trades"].to_numpy(np.int64)[first:].tolist())
    columns += [frame[name].to_numpy(np.float64)[first:].tolist() for name in ("taker_buy_base", "taker_buy_quote")]
    columns.append(pd.DatetimeIndex(frame["close_time"]).as_unit("ms").asi8[first:].tolist())
    columns.append(frame["provisional"].to_numpy(bool)[first:].astype(int).tolist())
    return list(zip(*columns, strict=True))


def frame_from_kline_rows(rows: Any) -> Any:
    """A kline frame in the parsers' layout (:mod:`records.klines`) from ``klines`` table rows of one symbol."""
    import numpy as np
    import pandas as pd

    opens = rows["open_time"].to_numpy(np.int64)
    data: dict[str, Any] = {c: rows[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume",
                                                                       "quote_volume")}  # fmt: skip
    data["trades"] = rows["trades"].fillna(0).to_numpy(np.int64)
    data["taker_buy_base"] = rows["taker_buy_base"].to_numpy(np.float64)
    data["taker_buy_quote"] = rows["taker_buy_quote"].to_numpy(np.float64)
    data["close_time"] = pd.to_datetime(rows["close_time"].to_numpy(np.int64), unit="ms", utc=True).as_unit("ms")
    data["provisional"] = rows["provisional"].to_numpy(np.int64).astype(bool)
    index = pd.DatetimeIndex(pd.to_datetime(opens, unit="ms", utc=True).as_unit("ms"), name="open_time")
    return pd.DataFrame(data, index=index)


#: Feeds whose frames are kline history (feed -> the state field): recorded as ``klines`` rows, bar by bar, and
#: rebuilt from them on restore and by followers. Recording the frames whole would mean re-encoding 200 coins x 720
#: hourly bars (28 MB of JSON, 2 s of CPU) every minute; the rows only add the bars that changed.
KLINE_FEEDS = {"btc_intraday": "btc_intraday", "cvd_daily": "alt_daily", "cvd_hourly": "alt_hourly",
               "cvd_perp_daily": "perp_daily", "cvd_market": "market_daily"}
#: The market of each kline field's bars (Binance spot unless said).
KLINE_MARKETS = {"perp_daily": "binance_usdm"}


def kline_ref(attr: str, frames: Mapping[str, Any], quote: str) -> dict[str, Any] | None:
    """What a restore or a follower needs to rebuild ``attr`` from the klines table (None: nothing to rebuild)."""
    intervals = [i for f in frames.values() if (i := kline_interval_ms(f)) is not None]
    if not intervals:
        return None
    starts = [int(f.index[0].value // 1_000_000) for f in frames.values() if f is not None and len(f)]
    symbols = {(f"BTC{quote}" if attr == "btc_intraday" else f"{coin}{quote}"): coin for coin in frames}
    return {"attr": attr, "interval_ms": max(set(intervals), key=intervals.count), "symbols": symbols,
            "since_ms": min(starts), "market": KLINE_MARKETS.get(attr, "binance_spot")}  # fmt: skip


def read_kline_frames(store: Store, state: MarketState, ref: Mapping[str, Any]) -> None:
    """Rebuild (or bring up to date) the state's kline frames named by ``ref`` from the klines table: only the
    bars from each frame's last one on are read when the state already holds the frames."""
    import pandas as pd

    attr = ref["attr"]
    symbols: dict[str, str] = ref["symbols"]
    window = int(ref["since_ms"])
    current: dict[str, Any] = ({"BTC": state.btc_intraday} if attr == "btc_intraday" and state.btc_intraday is not None
                               else dict(getattr(state, attr)) if attr != "btc_intraday" else {})  # fmt: skip
    known = [f for coin, f in current.items() if coin in symbols.values() and f is not None and len(f)]
    since = window
    if known and len(known) == len(symbols):
        since = max(window, min(int(f.index[-1].value // 1_000_000) for f in known))
    market = str(ref.get("market", "binance_spot"))
    where = {"market": market, "interval_ms": int(ref["interval_ms"])}
    if since > window:  # bringing known frames up to date: a few bars each, one query
        parts = iter(store.read("klines", since, None, where=where).groupby("symbol", sort=False))
    else:
        # A whole rebuild (restore): symbol by symbol (the key's prefix, an index range each), so the market's
        # 198 pairs x 700 bars never exist as one set of Python rows (~90 MB at once, the demo's peak at start).
        parts = ((symbol, store.read("klines", since, None, where={**where, "symbol": symbol})) for symbol in symbols)
    start = pd.Timestamp(window, unit="ms", tz="UTC")
    updated: dict[str, Any] = {}
    for symbol, part in parts:
        coin = symbols.get(str(symbol))
        if coin is None or not len(part):
            continue
        fresh = frame_from_kline_rows(part)
        old = current.get(coin)
        merged = fresh if old is None or not len(old) else pd.concat([old[old.index < fresh.index[0]], fresh])
        updated[coin] = merged[merged.index >= start]
    if attr == "btc_intraday":
        if "BTC" in updated:
            state.btc_intraday = updated["BTC"]
        return
    target = getattr(state, attr)
    for coin, frame in updated.items():
        target[coin] = frame


def apply_payload(store: Store, state: MarketState, values: Mapping[str, Any]) -> None:
    """Put a recorded delivery into the state (kline frames from the klines table)."""
    for path, value in values.items():
        if path == "klines":
            if value is not None:
                read_kline_frames(store, state, value)
            continue
        set_field(state, path, value)


def funding_rows(snapshot: Any, coins: frozenset[str]) -> tuple[list[tuple], list[tuple]]:
    """(funding rows, open-interest rows) of a venue's bulk snapshot, the basket's coins only."""
    at = _ms(snapshot.as_of)
    funding = [(at, q.exchange, q.coin, getattr(q, "symbol", None), q.rate, q.interval_hours, q.rate_8h,
                _num(q.mark_price), _ms(q.next_funding_time)) for q in snapshot.funding if q.coin in coins]  # fmt: skip
    oi = [(_ms(o.time), o.exchange, o.coin, _num(o.oi_base), _num(o.oi_usd))
          for o in snapshot.open_interest if o.coin in coins]  # fmt: skip
    return funding, oi


def oi_rows(records: Iterable[Any]) -> list[tuple]:
    return [(_ms(o.time), o.exchange, o.coin, _num(o.oi_base), _num(o.oi_usd)) for o in records]


def history_frame_rows(frame: Any, columns: tuple[str, ...]) -> list[tuple]:
    """Rows of a long history frame (funding or OI history) in ``columns`` order (``time`` to ms)."""
    if frame is None or not len(frame):
        return []
    times = [_ms(t) for t in frame["time"]]
    others = [frame[c].tolist() for c in columns[1:]]
    return [(t, *(_num(v) if isinstance(v, float) else v for v in vals))
            for t, *vals in zip(times, *others, strict=True)]  # fmt: skip


def etf_rows(flows: Any) -> list[tuple]:
    frame = flows.frame
    rows = []
    for day, values in frame.iterrows():
        date = day.date().isoformat() if hasattr(day, "date") else str(day)
        for fund, value in values.items():
            rows.append((flows.asset, date, str(fund), _num(value)))
    return rows


def macro_rows_for(feed: str, value: Any) -> list[tuple]:
    """The ``macro`` rows of a macro feed's delivery (see :data:`store.schema.TABLES`)."""
    if value is None:
        return []
    if feed == "fear_greed":
        frame = value.frame
        return [("fear_greed", _ms(t), _num(v), "alternative.me") for t, v in zip(frame.index, frame["value"],
                                                                                  strict=True)]  # fmt: skip
    if feed == "cg_global":
        at = _ms(value.time)
        rows = [(f"cg.{name}", at, _num(getattr(value, name)), "coingecko")
                for name in ("total_mcap_usd", "total_volume_usd", "btc_dominance_pct", "eth_dominance_pct",
                             "stablecoin_share_pct")]  # fmt: skip
        rows += [(f"cg.share.{sym}", at, _num(pct), "coingecko") for sym, pct in value.shares_pct.items()]
        return rows
    if feed == "equities":
        frame = value.frame
        rows = []
        for column in ("open", "high", "low", "close", "volume"):
            if column in frame.columns:
                rows += [(f"equity.{value.symbol}.{column}", _ms(t), _num(v), value.source)
                         for t, v in zip(frame.index, frame[column], strict=True)]  # fmt: skip
        return rows
    if feed == "rates":
        return [(f"fred.{value.series_id}", _ms(t), _num(v), "fred") for t, v in value.values.items()]
    return []


@dataclass
class Recorder:
    """Hands each delivery to the writer thread as rows and as the feed's latest state (module docstring)."""

    config: Config
    runtime: Runtime
    state: MarketState
    store: Store
    writer: BatchWriter
    session: int
    feeds: Mapping[str, Feed] = field(default_factory=dict)
    _versions: dict[str, int] = field(default_factory=dict)
    _healths: dict[str, str] = field(default_factory=dict)
    _kline_marks: dict[tuple[str, str], int] = field(default_factory=dict)
    _funding_at: dict[str, int] = field(default_factory=dict)
    _tape_mark: int = 0
    _streams_seen: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    _drivers: dict[str, str] = field(default_factory=dict)

    @property
    def coins(self) -> frozenset[str]:
        return frozenset(["BTC", *self.config.general.coins])

    @property
    def failed(self) -> str | None:
        return self.writer.failed

    def status_text(self) -> str:
        """What the status bar says about recording: where to, or why it stopped."""
        if self.writer.failed:
            return f"recording off: {self.writer.failed}"
        return f"recording to {self.store.path}"

    # -- hooks ---------------------------------------------------------------------------------------------------
    def feed_updated(self, name: str) -> None:
        """The scheduler's hook after every fetch (good or failed): new data goes to history and feed_state,
        a failure only updates the feed's recorded health (a follower then shows the collector's error)."""
        feed = self.feeds.get(name)
        if feed is None or self.writer.failed:
            return
        version = self.state.version.get(name, 0)
        delivered = version != self._versions.get(name)
        health = health_dict(feed)
        health_json = json.dumps(health, default=str)
        if not delivered and self._healths.get(name) == health_json:
            return
        self._versions[name] = version
        self._healths[name] = health_json
        values = {path: get_field(self.state, path) for path in feed_fields(name)} if delivered else None
        payload_values = values
        if values is not None and name in KLINE_FEEDS:
            attr = KLINE_FEEDS[name]
            frames = {"BTC": values[attr]} if attr == "btc_intraday" else dict(values[attr] or {})
            payload_values = {k: v for k, v in values.items() if k != attr}
            payload_values["klines"] = kline_ref(attr, frames, self.config.general.quote)
        wall_ms = int((feed.health.as_of or 0) * 1000)
        market_ms = int(self.runtime.now_ms())
        data_ms = None if feed.health.data_as_of is None else int(feed.health.data_as_of * 1000)
        history = self._history_job(name, values) if delivered and values is not None else None

        def job() -> dict[str, Iterable[tuple]]:
            from tui.runtime.state_codec import dumps

            out: dict[str, Iterable[tuple]] = dict(history()) if history is not None else {}
            payload = None if payload_values is None else dumps(payload_values)
            out["feed_state"] = [(name, None, wall_ms, market_ms, data_ms, health_json, payload)]
            return out

        self.writer.submit(job)

    def _history_job(self, name: str, values: dict[str, Any]) -> Callable[[], Mapping[str, Iterable[tuple]]] | None:
        """The history rows a delivery makes, as a job for the writer thread (None: this feed adds none)."""
        if name in KLINE_FEEDS:
            attr = KLINE_FEEDS[name]
            quote = self.config.general.quote
            frames = ({f"BTC{quote}": values[attr]} if attr == "btc_intraday" else
                      {f"{c}{quote}": f for c, f in (values.get(attr) or {}).items()})  # fmt: skip
            market = KLINE_MARKETS.get(attr, "binance_spot")
            marks = self._kline_marks
            interval_key = name

            def rows() -> Iterator[tuple]:
                # Symbol by symbol as the write takes them: a first delivery of the market's 198 pairs x 700
                # daily bars made as one list was ~100 MB of tuples at once (the console's peak memory).
                for symbol, frame in frames.items():
                    key = (interval_key, symbol)
                    new = kline_rows(symbol, frame, marks.get(key), market)
                    if new:
                        closed = [r[3] for r in new if not r[-1]]
                        marks[key] = max(closed) if closed else new[0][3]
                        yield from new

            def klines() -> dict[str, Iterable[tuple]]:
                return {"klines": rows()}

            return klines
        if name.startswith("funding_") and name != "funding_history":
            venue = name.removeprefix("funding_")
            snap = values.get(f"derivs.{venue}")
            at = int(self.runtime.now_ms())
            if snap is None or at - self._funding_at.get(venue, -(10**15)) < self.config.store.funding_every * 1000:
                return None
            self._funding_at[venue] = at
            coins = self.coins

            def funding() -> dict[str, list[tuple]]:
                rates, oi = funding_rows(snap, coins)
                return {"funding": rates, "open_interest": oi}

            return funding
        if name == "oi_binance":
            records = values.get("binance_oi") or []
            return lambda: {"open_interest": oi_rows(records)}
        if name == "oi_history":
            frame = values.get("oi_history")
            return lambda: {"open_interest": history_frame_rows(frame, ("time", "exchange", "coin", "oi_base",
                                                                          "oi_usd"))}  # fmt: skip
        if name == "funding_history":
            frame = values.get("funding_history")
            return lambda: {"funding_history": history_frame_rows(
                frame, ("time", "exchange", "coin", "rate", "interval_hours", "rate_8h"))}  # fmt: skip
        if name in ("etf_btc", "etf_eth"):
            flows = values.get(name)
            return None if flows is None else (lambda: {"etf_flows": etf_rows(flows)})
        if name in ("fear_greed", "cg_global", "equities", "rates"):
            value = values.get({"cg_global": "global_market", "equities": "spy", "rates": "us2y"}.get(name, name))
            return lambda: {"macro": macro_rows_for(name, value)}
        return None

    def tick(self) -> None:
        """Once a second: the tape's new rows and the streams' changed health go to the writer."""
        if self.writer.failed:
            return
        tape = self.state.liq_tape
        if tape is not None and tape.appended > self._tape_mark:
            columns, ex_names, coin_names = tape.appended_since(self._tape_mark)
            first = tape.appended - len(columns[0])  # the count before the oldest row handed back
            if len(columns[0]) > TAPE_ROWS_PER_TICK:  # a seed or a backlog: a slice a second, the GIL stays free
                columns = tuple(c[:TAPE_ROWS_PER_TICK] for c in columns)
            self._tape_mark = first + len(columns[0])
            session = self.session

            def liquidations() -> dict[str, list[tuple]]:
                time, ex, coin, is_long, qty, price, notional = columns
                rows = zip(time, ex, coin, is_long, qty, price, notional, strict=True)
                return {"liquidations": [
                    (int(t), ex_names[e], coin_names[c], "long" if lg else "short", float(q), float(p), float(n),
                     session) for t, e, c, lg, q, p, n in rows]}  # fmt: skip

            self.writer.submit(liquidations)
        for name, stream in self.state.liq_streams.items():
            status = stream.status()
            key = (status.state, status.error, status.records, status.connected_at, status.reconnects)
            if self._streams_seen.get(name) == key:
                continue
            self._streams_seen[name] = key
            market_ms = int(self.runtime.now_ms())

            def stream_job(status: Any = status, name: str = name, market_ms: int = market_ms) -> dict[str, list]:
                from tui.runtime.state_codec import dumps

                return {"feed_state": [(STREAM_PREFIX + name, None, market_ms, market_ms, None, "{}",
                                        dumps(status))]}  # fmt: skip

            self.writer.submit(stream_job)

    def record_seed(self, first_ms: int, now_ms: int) -> None:
        """The tape was seeded from history recorded before this store (the demo's simulated past): it is
        written with the next batch, and a ``seed`` session says what it covers."""
        seed = self.store.begin_session("seed", first_ms, None)
        self.store.write({}, heartbeat=(seed, now_ms))

    def skip_tape_rows(self, tape: Any) -> None:
        """Restored rows are already in the store: record only what is appended from now on."""
        self._tape_mark = tape.appended

    def drivers(self, states: Iterable[Any]) -> None:
        """Every driver state change (the first evaluation included) as a ``driver_flips`` row."""
        rows = []
        at = int(self.runtime.now_ms())
        for s in states:
            if self._drivers.get(s.id) == s.state:
                continue
            self._drivers[s.id] = s.state
            first = s.first_value
            rows.append((at, s.id, s.state, None if first is None else _num(first.value), self.session))
        if rows and not self.writer.failed:
            self.writer.submit(lambda: {"driver_flips": rows})

    def close(self) -> None:
        self.tick()
        self.writer.stop()
        self.store.close()


# -- opening and restoring ---------------------------------------------------------------------------------------
@dataclass
class Restored:
    """What a start restored from the store, for the console's notes and the benchmark."""

    liquidations: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)
    recorded_since_ms: int | None = None


def retention(config: Config) -> dict[str, float]:
    s = config.store
    return {"liquidations": s.liquidations_days, "intraday": s.intraday_days, "daily": s.daily_days}


def open_recorder(config: Config, runtime: Runtime, state: MarketState, *, role: str = "console",
                  path: Path | None = None) -> tuple[Recorder | None, list[str]]:  # fmt: skip
    """Open the store as its writer and start the writer thread; (None, why) when recording cannot run here
    (another writer holds it, the directory is read-only): the console runs on without it."""
    from store.base import StoreError
    from store.sqlite import SqliteStore
    from store.writer import BatchWriter

    target = path or store_path(config, runtime.mode)
    try:
        store = SqliteStore(target, "demo" if runtime.simulated else "live", writer=True)
    except StoreError as exc:
        return None, [f"recording off: {exc}"]
    notes = list(store.notes)
    session = store.begin_session(role, int(runtime.now_ms()), os.getpid())
    max_bytes = int(config.store.max_mb * 1024 * 1024)
    keep = retention(config)

    def prune(target_store: Any, now_ms: int) -> int:
        return sum(target_store.prune(now_ms, keep, max_bytes).values())

    writer = BatchWriter(store, session, lambda: int(runtime.now_ms()), flush_every=config.store.flush_seconds,
                         prune=prune)  # fmt: skip
    return Recorder(config, runtime, state, store, writer, session), notes


def read_tape(store: Store, now_ms: int) -> tuple[Any, int] | None:
    """The store's liquidations of the tape's 35 days up to ``now_ms`` and the last row id read (None when it has
    none): read in the boot thread, so the event loop never waits on it."""
    since = now_ms - TAPE_RESTORE_MS
    return store.liquidations_as_of(since, now_ms) if store.has_liquidations(since, now_ms) else None


def restore_tape(store: Store, tape: Any, now_ms: int, session: int | None = None, frame: Any = None) -> Restored:
    """The liquidation tape of the last 35 days from the store (``frame``: read already by :func:`read_tape`),
    with the time it covers and its gaps (time no session recorded: a restart, a crash); nothing after ``now_ms``."""
    from store.base import MIN_GAP_MS, coverage_gaps

    out = Restored()
    since = now_ms - TAPE_RESTORE_MS
    if frame is None:
        frame = store.liquidations(since, now_ms)
    if len(frame):
        tape.extend_frame(frame)
        out.liquidations = len(frame)
    sessions = [s for s in store.sessions() if s.id != session and s.heartbeat_ms >= since]
    if sessions:
        first = max(min(s.started_ms for s in sessions), since)
        tape.start_recording(first)
        out.recorded_since_ms = first
        # Up to now: this run's session starts now, so the time since the last heartbeat is a gap.
        out.gaps = coverage_gaps(sessions, first, now_ms, MIN_GAP_MS)
        tape.gaps = tuple(out.gaps)
    return out


def restore_feeds(store: Store, state: MarketState, feeds: Mapping[str, Feed], now_ms: int) -> list[str]:
    """Each feed's latest recorded delivery into the state, with its health as recorded (the age shows until the
    feed fetches again: restored figures are never passed off as just fetched). Returns the feeds restored."""
    from tui.runtime.state_codec import CodecError, loads

    restored = []
    for record in store.feed_records():
        feed = feeds.get(record.feed)
        if feed is None or record.payload is None or record.market_ms > now_ms:
            continue  # a feed this console does not run, or data from after the clock (never shown early)
        try:
            values = loads(record.payload)
        except CodecError as exc:
            log.warning("feed %s: recorded state not restored (%s)", record.feed, exc)
            continue
        apply_payload(store, state, values)
        health = feed.health
        health.as_of = record.wall_ms / 1000 if record.wall_ms else None
        health.market_as_of = record.market_ms / 1000
        health.data_as_of = None if record.data_ms is None else record.data_ms / 1000
        state.bump(record.feed)
        restored.append(record.feed)
    return restored
