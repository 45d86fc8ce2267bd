"""Liquidation analytics: window totals by side and venue, the trailing hourly median, and the cascade
detector.

Market meaning. Long liquidations are forced selling. A burst of them far above their usual hourly level while
BTC is falling is a *liquidation cascade*: each forced sale pushes price into the next layer of leveraged
longs. Such flushes often mark local capitulation, but while one is under way, catching the falling knife is
dangerous.

All functions are pure and vectorised over a *tape*: either a frame with
:data:`~sources.liquidations.TAPE_COLUMNS` (``time`` epoch ms or UTC datetimes, ``exchange``, ``coin``,
``side`` "long"|"short" = the position liquidated, ``qty`` coins, ``price`` USD, ``notional_usd``; when
``notional_usd`` is absent it is ``qty x price``) or a :class:`LiquidationTape`. A window ending at ``now`` is
``now - w < time <= now``.

Formulas:

- ``window_totals``: for w in 1h/4h/24h, ``long_usd = sum(notional | side = long, in window)``, likewise
  short; ``total = long + short``; ``long_share = long / total``; ``coverage`` = the recorded share of the window
  (NaN sums when nothing of it was recorded).
- ``venue_totals``: the same sums grouped by exchange over one window, plus each venue's share of the total.
- ``hourly_long_median``: the trailing hourly windows ``H_k = (now - (k+1)h, now - k h]`` for ``k = 1..n``
  (the last hour ``k = 0`` is excluded, it is what gets compared), ``n = floor((now - 1h - max(now - lookback,
  recorded_since)) / 1h)``; the median of ``sum(long notional in H_k)`` over those hours, **hours with no
  liquidation counting as 0**.
- ``cascade``: ``ratio = long_usd_1h / median_hourly``; BTC 1h change ``= (close(now) / close(now - 1h) - 1) x
  100`` (closes as of each instant); ``active = ratio > ratio_threshold and btc_change_1h_pct <
  btc_drop_pct``; ``meter = clip(ratio / ratio_threshold, 0, 1)`` (1 = the liquidation half of the rule is
  met).

Recording gaps. There is no keyless liquidation history (shared/sources.md §7.5): the tape is what this
console recorded. When it has been recording for less than ``lookback``, the median is taken over the hours
that exist and :class:`Cascade` says so (``recorded_for``, ``complete=False``, ``hours_in_median``); with less
than one full hour before the last one there is no median and the detector is inactive with ``reason`` saying
why. Hours during which a feed was down count as recorded zeros (they lower the median, making the ratio err
on the high side) — the status bar shows such outages. Time the console was not running at all (a restart, a
crash: the recorder's *gaps*, :attr:`LiquidationTape.gaps`) is different: nothing is known of it, so an hour that
overlaps a gap is left out of the median, and a window's ``coverage`` excludes the gap's share (its totals are then
a labelled lower bound). Gaps are never filled. Binance's stream is a lower bound (one order per symbol
per second), so absolute USD figures undercount; the ratio is consistent because the same undercount sits in
numerator and median.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from records.liquidations import TAPE_COLUMNS, Liquidation

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WINDOWS_MS: dict[str, int] = {"1h": HOUR_MS, "4h": 4 * HOUR_MS, "24h": DAY_MS}
DEFAULT_LOOKBACK = pd.Timedelta(days=30)
MAX_TAPE_AGE = pd.Timedelta(days=35)


def _ms(value: int | float | pd.Timestamp | np.datetime64) -> int:
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        return int(ts.value // 1_000_000)
    return int(value)


def _td_ms(value: pd.Timedelta | int) -> int:
    return int(pd.Timedelta(value).value // 1_000_000) if not isinstance(value, int) else value


def _time_ms(column: pd.Series | pd.Index) -> np.ndarray:
    """Epoch ms of a time column or index: UTC datetimes (any unit, any zone; naive = UTC) or integers already."""
    if isinstance(column, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(column):
        # Its integers are UTC whatever the zone (an index as it is: rebuilding one costs more than the cast).
        stamps = column if isinstance(column, pd.DatetimeIndex) else pd.DatetimeIndex(column)
        return stamps.asi8.view(f"datetime64[{stamps.unit}]").astype("datetime64[ms]").astype(np.int64)
    return np.asarray(column, np.int64)


def _core(
    tape: pd.DataFrame | LiquidationTape, venues: Collection[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time ms, is_long, notional USD) arrays of a tape frame or a :class:`LiquidationTape`, optionally only the
    rows of ``venues``."""
    if isinstance(tape, LiquidationTape):
        return tape.arrays(venues)
    if venues is not None and len(tape):
        tape = tape[tape["exchange"].isin(list(venues))]
    if len(tape) == 0:
        return np.empty(0, np.int64), np.empty(0, bool), np.empty(0)
    time = _time_ms(tape["time"])
    is_long = tape["side"].to_numpy() == "long"
    if "notional_usd" in tape.columns:
        notional = tape["notional_usd"].to_numpy(np.float64)
    else:
        notional = tape["qty"].to_numpy(np.float64) * tape["price"].to_numpy(np.float64)
    return time, is_long, notional


def _frame(tape: pd.DataFrame | LiquidationTape, since_ms: int) -> pd.DataFrame:
    if isinstance(tape, LiquidationTape):
        return tape.frame(since_ms=since_ms)
    return tape


# --- totals -------------------------------------------------------------------------------------------------


def _window_ms(label: str) -> int:
    """A window label beyond :data:`WINDOWS_MS` (``"90m"``, ``"2d"``: the alert rules' ``long_liq(2d)``) in ms."""
    from analytics.drivers import window_span

    return int(window_span(label).total_seconds() * 1000)


def window_totals(
    tape: pd.DataFrame | LiquidationTape,
    now: int | pd.Timestamp,
    windows: Sequence[str] = ("1h", "4h", "24h"),
    recorded_since: int | pd.Timestamp | None = None,
    gaps: Sequence[tuple[int, int]] | None = None,
) -> pd.DataFrame:
    """Long/short/total liquidated USD per trailing window: index = window label, columns ``long_usd``,
    ``short_usd``, ``total_usd``, ``long_share`` (NaN when nothing was liquidated), ``count`` and ``coverage``.

    ``coverage`` is the recorded fraction of the window: ``clip(now - recorded_since, 0, w) / w``. Nothing is
    known of a window the console did not record, so with coverage 0 (a tape that never recorded, e.g. no stream
    ever connected) the sums are NaN, never 0; a partly recorded window is a lower bound the caller labels.
    ``recorded_since`` defaults to a :class:`LiquidationTape`'s own; a plain frame is taken as the whole record.
    ``gaps`` (default: the tape's own) are spans nothing was recorded in: their share of a window is not covered.
    """
    now_ms = _ms(now)
    time, is_long, notional = _core(tape)
    since = _recorded_since(tape, recorded_since)
    holes = _gaps(tape, gaps)
    whole_record = since is None and not isinstance(tape, LiquidationTape)
    widths = [WINDOWS_MS[label] if label in WINDOWS_MS else _window_ms(label) for label in windows]
    age = now_ms - time
    # One pass over the whole tape (weeks of rows), then each window reads only the widest window's rows.
    recent = (age >= 0) & (age < max(widths, default=0))
    age, is_long, notional = age[recent], is_long[recent], notional[recent]
    rows = []
    for width in widths:
        coverage = 1.0 if whole_record else (0.0 if since is None else min(max(now_ms - since, 0), width) / width)
        if holes and coverage > 0:
            coverage = max(0.0, coverage - _overlap_ms(holes, now_ms - width, now_ms) / width)
        inside = (age >= 0) & (age < width)
        long_usd = float(notional[inside & is_long].sum())
        short_usd = float(notional[inside & ~is_long].sum())
        total = long_usd + short_usd
        if coverage <= 0:
            long_usd = short_usd = total = float("nan")
        share = long_usd / total if total > 0 else np.nan
        rows.append((long_usd, short_usd, total, share, int(inside.sum()), coverage))
    return pd.DataFrame(
        rows,
        index=pd.Index(list(windows), name="window"),
        columns=["long_usd", "short_usd", "total_usd", "long_share", "count", "coverage"],
    )


def venue_totals(
    tape: pd.DataFrame | LiquidationTape, now: int | pd.Timestamp, window: str = "24h", by: str = "exchange"
) -> pd.DataFrame:
    """Long/short/total USD over one window grouped by ``exchange`` (or ``coin``), sorted by total, with
    ``share`` of the window's total."""
    now_ms = _ms(now)
    frame = _frame(tape, now_ms - WINDOWS_MS[window])
    columns = ["long_usd", "short_usd", "total_usd", "share"]
    if len(frame) == 0:
        return pd.DataFrame(columns=columns, index=pd.Index([], name=by), dtype=float)
    time, is_long, notional = _core(frame)
    age = now_ms - time
    inside = (age >= 0) & (age < WINDOWS_MS[window])
    keys = frame[by].to_numpy()[inside]
    work = pd.DataFrame(
        {
            by: keys,
            "long_usd": np.where(is_long[inside], notional[inside], 0.0),
            "short_usd": np.where(is_long[inside], 0.0, notional[inside]),
        }
    )
    out = work.groupby(by, sort=False)[["long_usd", "short_usd"]].sum()
    out["total_usd"] = out["long_usd"] + out["short_usd"]
    grand = float(out["total_usd"].sum())
    out["share"] = out["total_usd"] / grand if grand > 0 else np.nan
    return out.sort_values("total_usd", ascending=False)[columns]


# --- the hourly median and the cascade ----------------------------------------------------------------------


def _hourly_long_sums(
    time: np.ndarray,
    is_long: np.ndarray,
    notional: np.ndarray,
    now_ms: int,
    lookback_ms: int,
    recorded_since_ms: int,
    gaps: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Long USD in each trailing hour ``H_k``, k = 1..n (see the module docstring), without the hours that overlap a
    recording gap; empty when no hour is left."""
    n = _hour_count(now_ms, lookback_ms, recorded_since_ms)
    if n < 1:
        return np.empty(0)
    age = now_ms - time
    # 1 <= age // 1h <= n, i.e. 1h <= age < (n + 1)h: divide only the rows that count (same result, cheaper).
    use = is_long & (age >= HOUR_MS) & (age < (n + 1) * HOUR_MS)
    k = np.floor_divide(age[use], HOUR_MS)
    sums = np.bincount(k.astype(np.int64), weights=notional[use], minlength=n + 1)[1 : n + 1]
    return _known_hours(sums, now_ms, gaps)


def _hour_count(now_ms: int, lookback_ms: int, recorded_since_ms: int) -> int:
    """``n``, the trailing hours ``H_1..H_n`` of the median (see the module docstring); < 1 when none."""
    return (now_ms - HOUR_MS - max(now_ms - lookback_ms, recorded_since_ms)) // HOUR_MS


def _known_hours(sums: np.ndarray, now_ms: int, gaps: Sequence[tuple[int, int]]) -> np.ndarray:
    """``sums`` (of ``H_1..H_n``) without the hours that overlap a recording gap."""
    if not gaps:
        return sums
    ends = now_ms - np.arange(1, len(sums) + 1, dtype=np.int64) * HOUR_MS  # H_k = (end - 1h, end]
    known = np.ones(len(sums), bool)
    for start, stop in gaps:
        known &= ~((ends > start) & (ends - HOUR_MS < stop))
    return sums[known]


def _prefix_sum(prefix: tuple[np.ndarray, np.ndarray], ends: np.ndarray | int) -> np.ndarray:
    """Long USD with ``time <= end`` for each end, from a tape's :meth:`LiquidationTape.long_prefix`."""
    times, cumulative = prefix
    return cumulative[np.searchsorted(times, ends, side="right")]


def _hourly_long_sums_sorted(
    prefix: tuple[np.ndarray, np.ndarray],
    now_ms: int,
    lookback_ms: int,
    recorded_since_ms: int,
    gaps: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """:func:`_hourly_long_sums` from the tape's time-sorted running total: ``H_k`` is the difference of the running
    total at its two ends, two binary searches an hour instead of a pass over every row of the tape."""
    n = _hour_count(now_ms, lookback_ms, recorded_since_ms)
    if n < 1:
        return np.empty(0)
    edges = _prefix_sum(prefix, now_ms - np.arange(1, n + 2, dtype=np.int64) * HOUR_MS)  # now-1h, ..., now-(n+1)h
    return _known_hours(edges[:-1] - edges[1:], now_ms, gaps)


def _long_hours(
    tape: pd.DataFrame | LiquidationTape,
    venues: Collection[str] | None,
    now_ms: int,
    lookback_ms: int,
    since: int | None,
    gaps: Sequence[tuple[int, int]],
) -> tuple[float, np.ndarray, int]:
    """(long USD in the last hour, the trailing hours' sums ``H_1..H_n`` without the gap hours, the record start
    used: ``since``, or the first row's time when None), counting ``venues`` only (None: all).

    A :class:`LiquidationTape` with a known record start answers from its sorted running total (the live console asks
    every tick, and a pass over 35 days of rows per ask was most of the tick); a frame is summed row by row."""
    if isinstance(tape, LiquidationTape) and since is not None:
        prefix = tape.long_prefix(venues)
        last_hour = _prefix_sum(prefix, np.array([now_ms, now_ms - HOUR_MS]))
        return float(last_hour[0] - last_hour[1]), _hourly_long_sums_sorted(prefix, now_ms, lookback_ms, since,
                                                                            gaps), since  # fmt: skip
    time, is_long, notional = _core(tape, venues)
    if since is None:
        since = int(time.min()) if len(time) else now_ms
    age = now_ms - time
    long_1h = float(notional[is_long & (age >= 0) & (age < HOUR_MS)].sum())
    return long_1h, _hourly_long_sums(time, is_long, notional, now_ms, lookback_ms, since, gaps), since


def hourly_long_median(
    tape: pd.DataFrame | LiquidationTape,
    now: int | pd.Timestamp,
    lookback: pd.Timedelta = DEFAULT_LOOKBACK,
    recorded_since: int | pd.Timestamp | None = None,
) -> float:
    """Median hourly long-liquidation USD over the trailing ``lookback`` (NaN with no complete hour recorded).

    ``recorded_since`` defaults to the tape's own recording start (a :class:`LiquidationTape`) or its first
    row.
    """
    since = _recorded_since(tape, recorded_since)
    _, sums, _ = _long_hours(tape, None, _ms(now), _td_ms(lookback), since, _gaps(tape, None))
    return float(np.median(sums)) if len(sums) else float("nan")


def _gaps(
    tape: pd.DataFrame | LiquidationTape, explicit: Sequence[tuple[int, int]] | None
) -> Sequence[tuple[int, int]]:
    if explicit is not None:
        return explicit
    return tape.gaps if isinstance(tape, LiquidationTape) else ()


def _overlap_ms(gaps: Sequence[tuple[int, int]], start: int, end: int) -> int:
    """How much of ``(start, end]`` the gaps cover (gaps do not overlap each other)."""
    return sum(max(0, min(stop, end) - max(begin, start)) for begin, stop in gaps)


def _recorded_since(tape: pd.DataFrame | LiquidationTape, explicit: int | pd.Timestamp | None) -> int | None:
    if explicit is not None:
        return _ms(explicit)
    if isinstance(tape, LiquidationTape):
        return tape.recorded_since_ms
    return None


@dataclass(frozen=True)
class Cascade:
    """The liquidation-cascade driver's state (see the module docstring for the formula)."""

    active: bool
    ratio: float  # last-hour long USD / trailing hourly median (NaN when unknown, inf when the median is 0)
    long_usd_1h: float
    median_hourly: float
    btc_change_1h_pct: float
    recorded_for: pd.Timedelta  # how long the tape has been recorded (<= lookback means a partial median)
    meter: float  # 0..1, ratio / threshold clipped
    hours_in_median: int = 0
    complete: bool = False  # the median spans the full lookback
    reason: str = ""  # why it is inactive or partial, for the checklist's one-liner


def btc_change_pct(btc_closes: pd.Series, now_ms: int, hours: int = 1) -> float:
    """BTC's percent change over the ``hours`` before ``now``: :func:`analytics.price.pct_change_over` on the
    closes observed up to ``now`` (one definition for the pane, the driver and the cascade).

    ``btc_closes`` is indexed by the time each close was observed (UTC datetimes or epoch ms), e.g.
    :func:`analytics.price.observed_closes`. NaN when either side is missing.
    """
    from analytics.price import pct_change_sorted

    if btc_closes is None or len(btc_closes) == 0:
        return float("nan")
    times = _time_ms(btc_closes.index)
    order = np.argsort(times, kind="stable")
    times = times[order]
    values = btc_closes.to_numpy(np.float64)[order]
    seen = times <= now_ms
    if not seen.any():
        return float("nan")
    return pct_change_sorted(times[seen], values[seen], hours * HOUR_MS)


def cascade(
    tape: pd.DataFrame | LiquidationTape,
    btc_closes: pd.Series,
    now: int | pd.Timestamp,
    ratio_threshold: float = 5.0,
    btc_drop_pct: float = -2.0,
    lookback: pd.Timedelta = DEFAULT_LOOKBACK,
    recorded_since: int | pd.Timestamp | None = None,
    venues: Collection[str] | None = None,
) -> Cascade:
    """Is a long-liquidation cascade under way? (last-hour long USD > ``ratio_threshold`` x the trailing
    hourly median, while BTC's 1h change is below ``btc_drop_pct`` percent).

    ``venues`` limits numerator and median alike to the venues still delivering (a silent or offline one is left
    out of both, so its missing last hour does not read as calm); None counts every venue on the tape."""
    now_ms = _ms(now)
    lookback_ms = _td_ms(lookback)
    holes = _gaps(tape, None)
    long_1h, sums, since = _long_hours(tape, venues, now_ms, lookback_ms, _recorded_since(tape, recorded_since), holes)
    recorded_for = pd.Timedelta(milliseconds=max(0, now_ms - since))
    change = btc_change_pct(btc_closes, now_ms)
    complete = now_ms - since >= lookback_ms and not _overlap_ms(holes, now_ms - lookback_ms, now_ms)
    if len(sums) == 0:
        return Cascade(
            False,
            float("nan"),
            long_1h,
            float("nan"),
            change,
            recorded_for,
            0.0,
            0,
            False,
            f"recorded {_fmt_td(recorded_for)}: need 2 h of tape for a median",
        )
    median = float(np.median(sums))
    ratio = long_1h / median if median > 0 else float("inf") if long_1h > 0 else float("nan")
    meter = float(np.clip(ratio / ratio_threshold, 0.0, 1.0)) if not np.isnan(ratio) else 0.0
    active = bool(
        ratio > ratio_threshold and change < btc_drop_pct
    )  # NaN compares False: unknown -> inactive
    reason = ""
    if np.isnan(change):
        reason = "BTC 1h change unknown"
    elif _overlap_ms(holes, now_ms - HOUR_MS, now_ms):
        reason = "the last hour was partly not recorded (the console restarted): its total is a lower bound"
    elif not complete:
        reason = f"median over {len(sums)} h recorded (of {lookback_ms // HOUR_MS} h)"
        if holes:
            reason += f"; {len(holes)} recording gap{'s' if len(holes) > 1 else ''} left out"
    return Cascade(active, ratio, long_1h, median, change, recorded_for, meter, len(sums), complete, reason)


def _fmt_td(td: pd.Timedelta) -> str:
    minutes = int(td.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


# --- silent venues ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueSilence:
    """How long a connected venue has delivered nothing, and what its peers delivered meanwhile."""

    venue: str
    silent_ms: int  # since its last record, or since it connected when that is later
    peer_records: int  # records of the other venues in that span
    suspect: bool  # silent past the threshold while the peers were busy: the feed is probably broken


def venue_silence(
    times: Mapping[str, np.ndarray],
    listening_since_ms: Mapping[str, int],
    now_ms: int,
    *,
    silent_after_ms: int,
    peer_min: int,
) -> dict[str, VenueSilence]:
    """Which connected venues are *silent while the others are not* (a connected stream that delivers nothing).

    For each venue in ``listening_since_ms`` (connected and subscribed since that instant): ``start = max(last
    record, listening since)``, ``silent = now - start``, ``peers = records of every other venue with start < time
    <= now``; ``suspect = silent >= silent_after and peers >= peer_min``. A quiet market (peers quiet too) is not
    suspect: only a venue lagging busy peers is. ``times`` are record times per venue (any order).
    """
    out: dict[str, VenueSilence] = {}
    for venue, since in listening_since_ms.items():
        own = times.get(venue)
        own = own[own <= now_ms] if own is not None else np.empty(0, np.int64)
        last = int(own.max()) if len(own) else None
        start = since if last is None else max(last, since)
        silent = max(0, now_ms - start)
        peers = sum(int(((t > start) & (t <= now_ms)).sum()) for v, t in times.items() if v != venue)
        out[venue] = VenueSilence(venue, silent, peers, silent >= silent_after_ms and peers >= peer_min)
    return out


# --- the bounded live tape ----------------------------------------------------------------------------------


class LiquidationTape:
    """The live liquidation tape: columnar, bounded by ``max_rows`` and ``max_age`` (35 days), no memory
    growth.

    Rows are kept in arrival order in preallocated numpy arrays (36 bytes a row: 1,000,000 rows is about 36
    MB); appends are amortised O(1) (live rows are compacted to the front when the buffer end is reached).
    When full, the oldest rows are dropped first and :attr:`recorded_since_ms` moves forward to the oldest
    kept row, so the cascade detector reports the shorter history honestly. Exchange and coin names are
    dictionary-encoded.
    """

    def __init__(
        self,
        max_rows: int = 1_000_000,
        max_age: pd.Timedelta = MAX_TAPE_AGE,
        recording_since_ms: int | None = None,
    ) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be positive")
        self.max_rows = max_rows
        self.max_age_ms = _td_ms(max_age)
        self._recording_since = recording_since_ms
        self._truncated_to: int | None = None  # oldest kept time after a capacity drop
        #: Spans (ms, oldest first) the console was not recording: restored from the recorder's sessions.
        self.gaps: tuple[tuple[int, int], ...] = ()
        #: Rows ever appended (the recorder writes the rows after its last count: :meth:`appended_since`).
        self.appended = 0
        capacity = max_rows + max(1024, max_rows // 4)
        self._time = np.empty(capacity, np.int64)
        self._ex = np.empty(capacity, np.uint8)
        self._coin = np.empty(capacity, np.uint16)
        self._long = np.empty(capacity, bool)
        self._qty = np.empty(capacity, np.float64)
        self._price = np.empty(capacity, np.float64)
        self._notional = np.empty(capacity, np.float64)
        self._start = 0
        self._end = 0
        self.revision = 0  # bumps on every append or trim: what memoised figures over the tape key on
        # Venue set (None: all) -> (start, end, times, running total) of :meth:`long_prefix`, kept between calls.
        self._prefixes: dict[frozenset[str] | None, tuple[int, int, np.ndarray, np.ndarray]] = {}
        self._names: dict[str, list[str]] = {"ex": [], "coin": []}
        self._codes: dict[str, dict[str, int]] = {"ex": {}, "coin": {}}

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def recorded_since_ms(self) -> int | None:
        """Since when the tape holds a complete record (recording start, or later after capacity drops)."""
        since = self._recording_since
        if since is None and len(self):
            since = int(self._time[self._start : self._end].min())
        if self._truncated_to is not None and (since is None or self._truncated_to > since):
            return self._truncated_to
        return since

    def start_recording(self, now_ms: int) -> None:
        """Mark when the feeds started (call once when the streams start; keeps an earlier mark)."""
        if self._recording_since is None or now_ms < self._recording_since:
            self._recording_since = now_ms

    def _code(self, kind: str, name: str) -> int:
        codes = self._codes[kind]
        code = codes.get(name)
        if code is None:
            limit = 255 if kind == "ex" else 65_535
            if len(codes) >= limit:
                raise OverflowError(f"too many distinct {kind} names")
            code = codes[name] = len(codes)
            self._names[kind].append(name)
        return code

    def extend(self, records: Iterable[Liquidation]) -> None:
        """Append records (the stream callback: ``on_records=tape.extend``)."""
        rows = list(records)
        if not rows:
            return
        self._append(
            np.fromiter((r.time for r in rows), np.int64, len(rows)),
            np.fromiter((self._code("ex", r.exchange) for r in rows), np.uint8, len(rows)),
            np.fromiter((self._code("coin", r.coin) for r in rows), np.uint16, len(rows)),
            np.fromiter((r.side == "long" for r in rows), bool, len(rows)),
            np.fromiter((r.qty for r in rows), np.float64, len(rows)),
            np.fromiter((r.price for r in rows), np.float64, len(rows)),
            np.fromiter((r.notional_usd for r in rows), np.float64, len(rows)),
        )

    def extend_frame(self, frame: pd.DataFrame) -> None:
        """Append a tape frame (e.g. a backfill from OKX REST or a saved tape), vectorised."""
        if len(frame) == 0:
            return
        frame = frame.sort_values("time", kind="stable")
        time, is_long, notional = _core(frame)
        ex_codes = {name: self._code("ex", str(name)) for name in pd.unique(frame["exchange"])}
        coin_codes = {name: self._code("coin", str(name)) for name in pd.unique(frame["coin"])}
        self._append(
            time,
            frame["exchange"].map(ex_codes).to_numpy(np.uint8),
            frame["coin"].map(coin_codes).to_numpy(np.uint16),
            is_long,
            frame["qty"].to_numpy(np.float64),
            frame["price"].to_numpy(np.float64),
            notional,
        )

    def _append(self, *columns: np.ndarray) -> None:
        self.revision += 1
        n = len(columns[0])
        self.appended += n
        if n > self.max_rows:
            columns = tuple(c[-self.max_rows :] for c in columns)
            n = self.max_rows
            self._truncated_to = int(columns[0].min())
        overflow = len(self) + n - self.max_rows
        if overflow > 0:
            self._start += overflow
            self._truncated_to = (
                int(self._time[self._start : self._end].min()) if len(self) else int(columns[0].min())
            )
        if self._end + n > len(self._time):
            live = len(self)
            for array in self._arrays_all():
                array[:live] = array[self._start : self._end]
            self._start, self._end = 0, live
        for array, values in zip(self._arrays_all(), columns, strict=True):
            array[self._end : self._end + n] = values
        self._end += n

    def latest_times(self, exchange: str) -> dict[str, int]:
        """The newest record's time per coin for ``exchange`` (epoch ms): what a backfill must start after."""
        code = self._codes["ex"].get(exchange)
        if code is None or not len(self):
            return {}
        ex = self._ex[self._start : self._end]
        mask = ex == code
        if not mask.any():
            return {}
        coins = self._coin[self._start : self._end][mask]
        times = self._time[self._start : self._end][mask]
        latest = np.full(len(self._names["coin"]), np.iinfo(np.int64).min, np.int64)
        np.maximum.at(latest, coins, times)
        return {self._names["coin"][c]: int(latest[c]) for c in np.unique(coins)}

    def _arrays_all(self) -> tuple[np.ndarray, ...]:
        return (self._time, self._ex, self._coin, self._long, self._qty, self._price, self._notional)

    def trim(self, now_ms: int) -> int:
        """Drop rows older than ``max_age`` before ``now_ms`` (leading rows; arrival order is nearly time
        order). Returns how many were dropped."""
        cutoff = now_ms - self.max_age_ms
        live = self._time[self._start : self._end]
        young = np.flatnonzero(live >= cutoff)
        drop = int(young[0]) if len(young) else len(live)
        self._start += drop
        self.revision += 1
        if drop and (self._recording_since is None or self._recording_since < cutoff):
            self._recording_since = cutoff
        return drop

    def arrays(self, venues: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(time ms, is_long, notional USD) of the live rows (views; copies when limited to ``venues``)."""
        s, e = self._start, self._end
        if venues is None:
            return self._time[s:e], self._long[s:e], self._notional[s:e]
        keep = self._of_venues(s, e, venues)
        return self._time[s:e][keep], self._long[s:e][keep], self._notional[s:e][keep]

    def _of_venues(self, begin: int, end: int, venues: Collection[str]) -> np.ndarray:
        """Which rows in buffer positions ``begin:end`` come from one of ``venues``."""
        codes = [self._codes["ex"][v] for v in venues if v in self._codes["ex"]]
        return np.isin(self._ex[begin:end], np.array(codes, dtype=np.uint8))

    def long_prefix(self, venues: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(times, running total) of the live long liquidations (of ``venues``; None: all) in time order:
        ``total[i]`` is the USD of the first ``i``, so the long USD with ``a < time <= b`` is ``total[j(b)] -
        total[j(a)]``, ``j = searchsorted(times, ., side="right")``. What the cascade reads every tick.

        Kept between calls and extended by the rows appended since, which arrive in time order (a stream), so a
        tick costs the new rows, not a sort of the tape; rebuilt when the leading rows were dropped or a row
        arrived older than the newest kept."""
        key = None if venues is None else frozenset(venues)
        s, e = self._start, self._end
        kept = self._prefixes.get(key)
        if kept is not None and kept[0] == s and kept[1] <= e:
            _, done, times, total = kept
            new_times, new_usd = self._long_rows(done, e, key)
            if not len(new_times) or (np.all(new_times[1:] >= new_times[:-1])
                                      and (not len(times) or new_times[0] >= times[-1])):  # fmt: skip
                if len(new_times):
                    times = np.concatenate([times, new_times])
                    total = np.concatenate([total, total[-1] + np.cumsum(new_usd)])
                self._prefixes[key] = (s, e, times, total)
                return times, total
        times, usd = self._long_rows(s, e, key)
        order = np.argsort(times, kind="stable")
        times, total = times[order], np.concatenate([[0.0], np.cumsum(usd[order])])
        if len(self._prefixes) >= 4:  # the venue set changes when a venue goes silent: keep the recent ones
            self._prefixes.pop(next(iter(self._prefixes)))
        self._prefixes[key] = (s, e, times, total)
        return times, total

    def _long_rows(self, begin: int, end: int, venues: frozenset[str] | None) -> tuple[np.ndarray, np.ndarray]:
        """(times, USD) of the long rows in buffer positions ``begin:end`` (of ``venues``), in arrival order."""
        use = self._long[begin:end] if venues is None else self._long[begin:end] & self._of_venues(begin, end, venues)
        return self._time[begin:end][use], self._notional[begin:end][use]

    def times_by_exchange(self, since_ms: int) -> dict[str, np.ndarray]:
        """Record times (ms, arrival order) per exchange from ``since_ms`` on: what the silence check reads."""
        s, e = self._start, self._end
        time = self._time[s:e]
        recent = time >= since_ms
        ex = self._ex[s:e][recent]
        time = time[recent]
        return {name: time[ex == code] for name, code in self._codes["ex"].items()}

    def tail(self, n: int, since_ms: int, until_ms: int) -> pd.DataFrame:
        """The last ``n`` rows by time with ``since_ms <= time <= until_ms``: the same rows, in the same order, as
        ``frame(since_ms)`` filtered to ``time <= until_ms`` then ``.tail(n)``, without building the whole
        window's frame (the tape pane asks for its last rows every few seconds)."""
        s, e = self._start, self._end
        time = self._time[s:e]
        picked = np.flatnonzero((time >= since_ms) & (time <= until_ms))
        if len(picked) > n > 0:
            threshold = np.partition(time[picked], len(picked) - n)[len(picked) - n]
            picked = picked[time[picked] >= threshold]  # the n latest, plus any rows tied at the threshold
        elif n <= 0:
            picked = picked[:0]
        picked = picked[np.argsort(time[picked], kind="stable")][-n:] if n > 0 else picked
        ex_names = np.array(self._names["ex"] or [""], dtype=object)
        coin_names = np.array(self._names["coin"] or [""], dtype=object)
        rows = picked + s
        return pd.DataFrame(
            {
                "time": self._time[rows],
                "exchange": ex_names[self._ex[rows]],
                "coin": coin_names[self._coin[rows]],
                "side": np.where(self._long[rows], "long", "short").astype(object),
                "qty": self._qty[rows],
                "price": self._price[rows],
                "notional_usd": self._notional[rows],
            },
            columns=TAPE_COLUMNS,
        )

    def appended_since(self, count: int) -> tuple[tuple[np.ndarray, ...], list[str], list[str]]:
        """The rows appended after the tape's ``appended`` was ``count`` (those still held), as copies of the
        columns (time, exchange code, coin code, is_long, qty, price, notional) with the code -> name lists:
        cheap to take on the event loop, turned into rows elsewhere."""
        n = min(max(self.appended - count, 0), len(self))
        s, e = self._end - n, self._end
        columns = tuple(a[s:e].copy() for a in self._arrays_all())
        return columns, list(self._names["ex"]), list(self._names["coin"])

    def frame(self, since_ms: int | None = None, coin: str | None = None) -> pd.DataFrame:
        """The live rows (optionally only ``time >= since_ms``, only ``coin``'s) as a tape frame sorted by time.

        ``coin`` is matched on the dictionary code before any frame is built: the coin detail reads one coin's rows
        of a 35-day tape without materialising the others'."""
        s, e = self._start, self._end
        time = self._time[s:e]
        mask: slice | np.ndarray = slice(None) if since_ms is None else time >= since_ms
        if coin is not None:
            code = self._codes["coin"].get(coin)
            mine = np.zeros(len(time), bool) if code is None else self._coin[s:e] == code
            mask = mine if isinstance(mask, slice) else mask & mine
        ex_names = np.array(self._names["ex"] or [""], dtype=object)
        coin_names = np.array(self._names["coin"] or [""], dtype=object)
        frame = pd.DataFrame(
            {
                "time": time[mask],
                "exchange": ex_names[self._ex[s:e][mask]],
                "coin": coin_names[self._coin[s:e][mask]],
                "side": np.where(self._long[s:e][mask], "long", "short").astype(object),
                "qty": self._qty[s:e][mask],
                "price": self._price[s:e][mask],
                "notional_usd": self._notional[s:e][mask],
            },
            columns=TAPE_COLUMNS,
        )
        return frame.sort_values("time", kind="stable", ignore_index=True)
