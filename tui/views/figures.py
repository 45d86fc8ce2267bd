"""The market figures every pane, driver metric and snapshot reads, computed from MarketState and memoised.

One :class:`Figures` per console. Each figure is rebuilt only when the data it rests on changed (the data versions
the scheduler bumps, the tape's revision; see :mod:`tui.views.memo`), so the pane, the key driver and the snapshot
asking for the same figure in one tick share one computation. Health comes from the scheduler's feeds; a figure
from a venue whose feed is not fresh is left out, never shown as current.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from analytics.cvd import basket
from analytics.funding import funding_grids, funding_stats, oi_weighted, row_medians
from analytics.liquidations import DEFAULT_LOOKBACK, cascade, venue_silence
from analytics.open_interest import aggregate_oi, oi_change, oi_matrix, total_oi_change
from analytics.price import btc_figures, observed_closes
from records.viewmodels import PaneStatus, VenueStatus
from tui.runtime.health import FeedHealth, format_age
from tui.runtime.state import TAPE
from tui.views.common import CHART_POINTS, pane_status
from tui.views.memo import Memo
from tui.views.registry import FUNDING_VENUE_FEEDS, PANE_FEEDS, VENUES

if TYPE_CHECKING:
    from analytics.cvd import BasketCVD
    from analytics.liquidations import Cascade
    from analytics.market_cvd import MarketCVD
    from analytics.price import BtcFigures
    from tui.runtime.config import Config
    from tui.runtime.modes import Runtime
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState

#: The open-interest change window of the heatmap, the snapshot and the ``oi_change`` driver's default.
OI_WINDOW = pd.Timedelta(hours=24)
#: The market CVD's change and buy/sell-ratio window (the basket's 30-day figures beside it use the same).
MARKET_WINDOW = pd.Timedelta(days=30)


@dataclass(frozen=True)
class FundingFigures:
    """Funding and open interest across the fresh venues. Rates are fractions per 8 h; OI in USD."""

    matrix: pd.DataFrame  # coin x venue, rate_8h
    per_coin_median: pd.Series
    median: float  # median across coins of each coin's venue median
    share: float  # share of coins above the baseline
    oi: pd.Series  # coin -> USD over the venues
    oi_total: float
    oi_change: pd.Series  # coin -> 24 h change, percent (Binance history)
    oi_total_change: float
    #: coin -> rate_8h weighted by each venue's OI in USD, and the market's (every coin and venue pair).
    oi_weighted: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    oi_weighted_market: float = float("nan")
    basis: pd.DataFrame = field(default_factory=pd.DataFrame)  # the matrix's coin x venue, (mark / index - 1) x 100
    basis_weighted: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))  # coin -> OI-weighted basis %


@dataclass(frozen=True)
class StreamHealth:
    """One liquidation stream as the console judges it: ``state`` is live | silent | connecting | retrying |
    offline, or recorded (a pass reading the recorded tape without listening); ``counted`` says whether the
    cascade figures include the venue (live and delivering, or recorded)."""

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


class Figures:
    """Memoised figures over one console's state; ``scheduler`` (None in some tests) supplies feed health."""

    def __init__(self, config: Config, runtime: Runtime, state: MarketState, scheduler: Scheduler | None = None):
        self.config = config
        self.runtime = runtime
        self.state = state
        self.scheduler = scheduler
        self.memo = Memo()

    # -- versions and health ----------------------------------------------------------------------------------
    def versions(self, *feeds: str) -> tuple[int, ...]:
        """The data versions of ``feeds``: equal tuples mean nothing they delivered changed."""
        version = self.state.version
        return tuple(version.get(feed, 0) for feed in feeds)

    def health_map(self) -> dict[str, FeedHealth]:
        return {} if self.scheduler is None else {n: f.health for n, f in self.scheduler.feeds.items()}

    def healths(self, pane: str) -> list[FeedHealth]:
        """The health of the feeds behind ``pane``, the one deciding "live" first."""
        names = [name for name in PANE_FEEDS[pane] if name != TAPE]
        if self.scheduler is None:
            return [FeedHealth(name, "", 30.0) for name in names]
        healths = [self.scheduler.feeds[n].health for n in names if n in self.scheduler.feeds]
        if pane == "funding":
            # Fresh when any venue's rate snapshot is fresh: put one first so it decides the pane's "live". The
            # history and OI feeds never do: a fresh 15-minute history poll says nothing about today's rates.
            healths.sort(key=lambda h: not (h.name in FUNDING_VENUE_FEEDS and h.is_fresh()))
        return healths

    def clock_offset(self, now: float) -> float:
        """Market time minus wall time, in seconds (0 when live)."""
        return self.runtime.now_ms() / 1000 - now if self.runtime is not None else 0.0

    def pane_status(self, pane: str, now: float) -> PaneStatus:
        return pane_status(self.healths(pane), now, self.clock_offset(now))

    def fresh_venues(self, now: float | None = None) -> set[str]:
        """The venues whose funding snapshot is fresh (only their rates and OI count)."""
        now = time.time() if now is None else now
        healths = self.health_map()
        return {v for v in VENUES if (h := healths.get(f"funding_{v}")) is not None and h.is_fresh(now)}

    # -- Bitcoin ----------------------------------------------------------------------------------------------
    def btc(self) -> BtcFigures | None:
        """Price, 24 h and 1 h change, ATH and drawdown, the intraday series (None before the first ticker)."""
        state = self.state
        if state.btc_ticker is None:
            return None
        history = state.btc_monthly if state.btc_monthly is not None else pd.DataFrame({"high": []})
        intraday = state.btc_intraday if state.btc_intraday is not None else pd.DataFrame({"close": [], "high": []})
        return btc_figures(state.btc_ticker.last, state.btc_ticker.change_pct, history, intraday,
                           max_points=CHART_POINTS, now_ms=self.runtime.now_ms())  # fmt: skip

    def btc_closes(self, now_ms: int | None = None) -> pd.Series:
        """BTC closes at the instants they were observed (the running bar's at ``now``), for the cascade and the 1 h
        driver. Not memoised: each caller reads its own clock to the millisecond, so no two calls share an instant
        (the cascade is memoised per second on its own)."""
        intraday = self.state.btc_intraday
        if intraday is None or not len(intraday):
            return pd.Series(dtype=float)
        return observed_closes(intraday, now_ms)

    # -- CVD --------------------------------------------------------------------------------------------------
    def cvd_baskets(self) -> tuple[BasketCVD | None, BasketCVD | None]:
        """(daily basket since cvd.start, hourly basket over the hourly window)."""
        return self.memo.get("cvd_baskets", self.versions("cvd_daily", "cvd_hourly"), self._cvd_baskets)

    def _cvd_baskets(self) -> tuple[BasketCVD | None, BasketCVD | None]:
        state = self.state
        since = pd.Timestamp(self.config.cvd.start, tz="UTC")
        daily = basket(state.alt_daily, since) if state.alt_daily else None
        hourly = None
        if state.alt_hourly:
            first = min((f.index[0] for f in state.alt_hourly.values() if len(f)), default=None)
            if first is not None:
                hourly = basket(state.alt_hourly, first)
        return daily, hourly

    def market_cvd(self) -> MarketCVD | None:
        """Every Binance spot altcoin pair in the quote, daily since cvd.start, its 30-day change and ratio
        (:mod:`analytics.market_cvd`); None before the market feed first delivers."""
        return self.memo.get("market_cvd", self.versions("cvd_market", "cvd_daily"), self._market_cvd)

    def _market_cvd(self) -> MarketCVD | None:
        """The listing's pairs: the market feed's frames, the basket feed's for the basket's pairs (fetched once);
        a listed pair with neither (its fetch failed) counts as "no data", excluded."""
        from analytics.market_cvd import market_cvd
        from records.klines import empty_klines

        state = self.state
        pairs = state.spot_pairs
        if pairs is None or not (state.market_daily or state.alt_daily):
            return None
        frames: dict[str, pd.DataFrame] = {}
        for base in pairs.symbols:
            found = state.market_daily.get(base, state.alt_daily.get(base))
            frames[base] = empty_klines() if found is None else found
        since = pd.Timestamp(self.config.cvd.start, tz="UTC")
        return market_cvd(frames, since, window=MARKET_WINDOW)

    def perp_basket(self) -> BasketCVD | None:
        """The basket on Binance USD-M perpetuals, daily since cvd.start (None before the perp feed delivers)."""
        return self.memo.get("perp_basket", self.versions("cvd_perp_daily"), self._perp_basket)

    def _perp_basket(self) -> BasketCVD | None:
        frames = self.state.perp_daily
        return basket(frames, pd.Timestamp(self.config.cvd.start, tz="UTC")) if frames else None

    def perp_ratio(self, window: pd.Timedelta) -> float:
        """The perp basket's buy/sell quote-volume ratio over the last ``window`` of daily bars (NaN: unknown)."""
        return float(self.memo.get(("perp_ratio", window), self.versions("cvd_perp_daily"),
                                   lambda: self._perp_ratio(window)))  # fmt: skip

    def _perp_ratio(self, window: pd.Timedelta) -> float:
        perp = self.perp_basket()
        if perp is None or perp.as_of is None:
            return float("nan")
        since = perp.as_of - window + pd.Timedelta(days=1)
        recent = {c: f.iloc[f.index.searchsorted(since, side="left"):] for c, f in self.state.perp_daily.items()
                  if c not in perp.unknown_coins}  # fmt: skip
        return float(basket(recent, since).buy_sell_ratio) if recent else float("nan")

    def ratio_over(self, daily: BasketCVD, window: pd.Timedelta) -> dict[str, float]:
        """Buy/sell quote-volume ratio over the last ``window`` of daily bars, per coin and ``__basket__``."""
        if daily.as_of is None:
            return {}
        window = pd.Timedelta(window)
        key = (self.versions("cvd_daily"), daily.as_of)
        return dict(self.memo.get(("ratio", window), key, lambda: self._ratio_over(daily, window)))

    def _ratio_over(self, daily: BasketCVD, window: pd.Timedelta) -> dict[str, float]:
        assert daily.as_of is not None  # ratio_over answers {} before the first bar
        since = daily.as_of - window + pd.Timedelta(days=1)
        recent = {
            c: f.iloc[f.index.searchsorted(since, side="left") :]  # sorted index: same as f[f.index >= since]
            for c, f in self.state.alt_daily.items()
            if c not in daily.unknown_coins
        }
        if not recent:
            return {}
        window_basket = basket(recent, since)
        ratios = dict(zip(window_basket.summary["coin"], window_basket.summary["buy_sell_ratio"], strict=True))
        ratios["__basket__"] = window_basket.buy_sell_ratio
        return ratios

    # -- funding and open interest ----------------------------------------------------------------------------
    def funding(self, fresh_venues: set[str]) -> FundingFigures:
        """Matrix, per-coin median, stats and OI from the venues whose data is fresh (stale venues are excluded)."""
        fresh = frozenset(fresh_venues)
        baseline = self.config.funding.baseline_8h
        return self.memo.get(("funding", fresh), self.funding_key(fresh), lambda: self._funding(fresh, baseline))

    def funding_key(self, fresh_venues: frozenset[str]) -> Hashable:
        """The data the funding figures of ``fresh_venues`` rest on: what derived figures memoise on too."""
        feeds = [f"funding_{v}" for v in sorted(fresh_venues)]
        return (self.versions(*feeds, "oi_binance", "oi_history"), self.config.funding.baseline_8h)

    def _funding(self, fresh_venues: frozenset[str], baseline: float) -> FundingFigures:
        state = self.state
        quotes = [q for venue, snap in state.derivs.items() if venue in fresh_venues for q in snap.funding]
        matrix, basis = funding_grids(quotes, VENUES)
        per_coin = row_medians(matrix)
        median, share = funding_stats(matrix, baseline) if len(matrix) else (float("nan"), float("nan"))
        oi_usd, oi_per_coin, oi_total = self._open_interest(fresh_venues)
        weighted, weighted_market = oi_weighted(matrix, oi_usd)
        basis_weighted, _ = oi_weighted(basis, oi_usd)
        change, total_change = self._oi_change()
        return FundingFigures(matrix, per_coin, median, share, oi_per_coin, oi_total, change, total_change,
                              weighted, weighted_market, basis, basis_weighted)  # fmt: skip

    def _open_interest(self, fresh_venues: frozenset[str]) -> tuple[pd.DataFrame, pd.Series, float]:
        """(coin x venue OI in USD, per coin, total) over the fresh venues. A venue's funding snapshot (every 30 s)
        carries its OI only on some venues (Binance's comes from its own feed): keyed on the snapshots that have
        OI, so new Binance rates do not rebuild the OI of the four venues."""
        state = self.state
        with_oi = sorted(v for v, snap in state.derivs.items() if v in fresh_venues and snap.open_interest)
        binance = "binance" in fresh_venues
        key = (self.versions(*(f"funding_{v}" for v in with_oi)), tuple(with_oi),
               self.versions("oi_binance") if binance else None)  # fmt: skip

        def build() -> tuple[pd.DataFrame, pd.Series, float]:
            records = [r for v in with_oi for r in state.derivs[v].open_interest]
            if binance:
                records += list(state.binance_oi)
            if not records:
                return pd.DataFrame(dtype=float), pd.Series(dtype=float), float("nan")
            oi_usd = oi_matrix(records)
            return (oi_usd, *aggregate_oi(oi_usd))

        return self.memo.get(("open_interest", fresh_venues), key, build)

    def _oi_change(self) -> tuple[pd.Series, float]:
        """(per-coin, whole market) OI change over :data:`OI_WINDOW`, once per OI history delivery."""

        def build() -> tuple[pd.Series, float]:
            history = self.state.oi_history
            change = pd.Series(dtype=float)
            if history is not None and len(history):
                change = oi_change(history, OI_WINDOW)
            return change, total_oi_change(history, OI_WINDOW)

        return self.memo.get("oi_change", self.versions("oi_history"), build)

    # -- liquidations -----------------------------------------------------------------------------------------
    def stream_health(self, now: float | None = None) -> dict[str, StreamHealth]:
        """Each liquidation stream's health, a connected stream that delivers nothing while its peers deliver being
        *silent (suspect)* (:func:`analytics.liquidations.venue_silence`). One judgement per second and tape
        revision: the pane, the status bar, the cascade driver and the snapshot read the same one."""
        now = time.time() if now is None else now
        tape = self.state.liq_tape
        key: Hashable = (int(now), None if tape is None else tape.revision,
                         tuple((n, s.state) for n, s in self.state.liq_streams.items()))  # fmt: skip
        return self.memo.get("stream_health", key, self._stream_health)

    def _stream_health(self) -> dict[str, StreamHealth]:
        state = self.state
        now_ms = self.runtime.now_ms()
        silent_after_ms = int(self.config.liquidations.silent_after * 1000)
        statuses = {name: s.status() for name, s in state.liq_streams.items()}
        if not state.liq_listening:
            return {name: StreamHealth(name, "recorded", RECORDED_TEXT, True, None, st.records, st.lower_bound)
                    for name, st in statuses.items()}  # fmt: skip
        listening = {
            name: int(st.connected_at * 1000)
            for name, st in statuses.items()
            if st.state == "live" and st.connected_at is not None
        }
        silence = {}
        tape = state.liq_tape
        if listening and tape is not None:
            times = tape.times_by_exchange(min(listening.values()))
            silence = venue_silence(times, listening, now_ms, silent_after_ms=silent_after_ms,
                                    peer_min=self.config.liquidations.silent_peers)  # fmt: skip
        out: dict[str, StreamHealth] = {}
        for name, st in statuses.items():
            if st.state == "live":
                quiet = silence.get(name)
                if quiet is not None and quiet.suspect:
                    text = (f"silent {format_age(quiet.silent_ms / 1000)} (suspect): no liquidation while the "
                            f"other venues sent {quiet.peer_records}")  # fmt: skip
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

    def cascade(self, now_ms: int, threshold: float = 5.0, drop: float = -2.0, lookback: pd.Timedelta | None = None,
                venues: frozenset[str] | None = None) -> Cascade | None:  # fmt: skip
        """The cascade detector on the tape, counting ``venues`` only (None: all), once per tape revision, BTC
        bars and second for each set of parameters (it scans the whole 35-day tape; the liquidations pane and the
        key driver both want it on the same tick)."""
        tape = self.state.liq_tape
        if tape is None:
            return None
        lookback = DEFAULT_LOOKBACK if lookback is None else lookback
        key = (tape.revision, self.versions("btc_intraday"), now_ms // 1000)
        return self.memo.get(
            ("cascade", threshold, drop, lookback, venues), key,
            lambda: cascade(tape, self.btc_closes(now_ms), now_ms, ratio_threshold=threshold, btc_drop_pct=drop,
                            lookback=lookback, venues=venues),
        )  # fmt: skip


#: A stream's text when this process reads the recorded tape without listening (``altpulse snapshot`` without
#: ``--listen``).
RECORDED_TEXT = "recorded tape (not listened to in this pass)"


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
    if all(h.state == "recorded" for h in health.values()):
        return f"the recorded tape of {', '.join(counted)} (the streams were not listened to in this pass)"
    left = [f"{n} {h.text.split(':')[0]}" for n, h in sorted(health.items()) if not h.counted]
    text = f"counting {', '.join(counted)}" if counted else "no venue delivering"
    return text + (f"; left out: {', '.join(left)}" if left else "")


def venue_status(health: FeedHealth | None, venue: str, now: float) -> VenueStatus:
    """A venue feed's health as the panes show it ("not configured" when the console has no such feed)."""
    if health is None:
        return VenueStatus(venue, False, "not configured")
    return VenueStatus(venue, health.is_fresh(now), health.describe(now))
