"""The demo market's spot klines: a seeded, vectorised simulation of BTC and the alt basket on Binance spot.

:func:`simulate_spot` turns a :class:`~emulator.scenario.Scenario` into the ``spot_klines`` of a
:class:`~emulator.dataset.MarketDataset`: for every symbol an hourly frame covering the whole history
and a minute frame covering the last two days before the anchor plus the day after it. The minute frame is the
fine truth; hourly bars that overlap it are rolled up from it, so ``1h`` klines always equal aggregated ``1m``
klines.

The story the frames tell (all times from the Scenario):

* a 2025 bull run to an all-time high, then a slow fade, so BTC's drawdown from its ATH is meaningful;
* before ``bleed_start_ms`` the book is two-sided (taker-buy share of quote volume about 0.50 per coin, a
  coin's own bias within +-0.003), so the cumulative CVD since the history start is made by the bleed;
* from ``bleed_start_ms`` the alts bleed against BTC with net taker selling (taker-buy share about 0.47-0.49);
* from ``crash_start_ms`` to ``crash_end_ms`` a sharp drawdown (BTC -7 %, alts -10 to -18 %) on heavy taker
  selling and a volume spike, steepest around ``cascade_peak_ms``;
* after it, a choppy partial recovery with elevated volatility.

How the path is built (log prices on one time axis of bar close times, hourly bars then minute bars):

``log p = log(pin) + trend(t) + bleed(t) + crash(t) + recovery(t) + bridge noise(t)``

``pin`` is the coin's price just before the crash (late-2026 levels). ``trend`` interpolates a few BTC
waypoints (alts follow with their beta). The noise is a fat-tailed random walk whose volatility clusters (a
shared market volatility regime, an AR(1) in log-volatility, plus the UTC time-of-day cycle); it is turned
into a bridge that is zero at the waypoints, so the story's levels hold exactly whatever the seed while every
bar still moves randomly. Volumes follow the same volatility regime, the time of day, weekends and the crash.
Prices are rounded to each pair's Binance tick size, which keeps ``open[n] == close[n-1]`` exact and
``low <= open, close <= high`` after rounding (rounding is monotone).

Randomness: every kind of draw has its own stream per coin, seeded from ``(seed, stable coin key, component,
segment)`` (:func:`_rng`), never one stream shared by all draws. A coin's scalars (:func:`coin_draws`) depend on
the seed and the symbol only; its per-bar noise is drawn separately for the hourly bars (bar ``i`` is always the
``i``-th hour since the history start) and for the minute bars (keyed by the hour they start), so it depends
neither on the anchor's number of bars nor on which other coins are simulated. Launches minutes apart therefore
show the same market history, and the story's headline figures (cumulative CVD, 30 d delta) barely move.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emulator.dataset import KLINE_COLUMNS
from emulator.scenario import DAY, HOUR, MINUTE, Scenario

#: The demo's default seed (``altpulse --demo`` always shows the same market).
DEMO_SEED = 7


@dataclass(frozen=True)
class CoinProfile:
    """How one USDT pair behaves in the simulation.

    price: the price just before the crash (USDT). tick: Binance's price tick size for the pair.
    daily_quote: typical 24 h USDT volume on Binance spot. hourly_vol: typical standard deviation of hourly
    log returns. beta: sensitivity to BTC's moves (trend and noise). bleed: how much the alt loses against
    BTC (log) from the bleed start to the crash. crash: the crash's drawdown (fraction). trade_size: average
    USDT per trade.
    """

    price: float
    tick: float
    daily_quote: float
    hourly_vol: float
    beta: float
    bleed: float
    crash: float
    trade_size: float


# Levels are late-2026 figures in the range traders know; volumes are Binance spot USDT pairs only (not all
# venues).
PROFILES: dict[str, CoinProfile] = {
    "BTC": CoinProfile(104_000.0, 0.01, 2.0e9, 0.0045, 1.00, 0.00, 0.07, 1500.0),
    "ETH": CoinProfile(3_600.0, 0.01, 9.0e8, 0.0065, 1.25, 0.22, 0.12, 700.0),
    "XRP": CoinProfile(2.30, 0.0001, 3.5e8, 0.0075, 1.20, 0.25, 0.13, 400.0),
    "BNB": CoinProfile(900.0, 0.01, 1.6e8, 0.0050, 0.80, 0.12, 0.10, 500.0),
    "SOL": CoinProfile(190.0, 0.01, 5.0e8, 0.0080, 1.40, 0.28, 0.14, 500.0),
    "DOGE": CoinProfile(0.20, 0.00001, 2.2e8, 0.0090, 1.50, 0.30, 0.16, 350.0),
    "TRX": CoinProfile(0.30, 0.0001, 6.0e7, 0.0045, 0.60, 0.16, 0.10, 250.0),
    "ADA": CoinProfile(0.70, 0.0001, 1.2e8, 0.0085, 1.40, 0.32, 0.15, 300.0),
    "LINK": CoinProfile(20.0, 0.01, 9.0e7, 0.0085, 1.40, 0.30, 0.15, 350.0),
    "AVAX": CoinProfile(25.0, 0.01, 6.0e7, 0.0090, 1.50, 0.34, 0.16, 300.0),
    "SUI": CoinProfile(3.50, 0.0001, 1.5e8, 0.0105, 1.70, 0.38, 0.17, 300.0),
    "XLM": CoinProfile(0.35, 0.0001, 4.0e7, 0.0080, 1.20, 0.28, 0.13, 250.0),
    "BCH": CoinProfile(520.0, 0.1, 4.5e7, 0.0070, 1.10, 0.20, 0.12, 400.0),
    "HBAR": CoinProfile(0.22, 0.00001, 4.0e7, 0.0095, 1.50, 0.33, 0.15, 250.0),
    "LTC": CoinProfile(100.0, 0.01, 5.0e7, 0.0070, 1.10, 0.22, 0.12, 300.0),
    "DOT": CoinProfile(4.50, 0.001, 3.0e7, 0.0085, 1.40, 0.36, 0.15, 250.0),
    "TON": CoinProfile(3.00, 0.001, 2.0e7, 0.0080, 1.00, 0.30, 0.12, 250.0),
    "UNI": CoinProfile(9.00, 0.001, 4.0e7, 0.0095, 1.50, 0.34, 0.16, 300.0),
    "NEAR": CoinProfile(3.00, 0.001, 4.0e7, 0.0100, 1.60, 0.36, 0.17, 250.0),
    "AAVE": CoinProfile(280.0, 0.01, 6.0e7, 0.0095, 1.50, 0.30, 0.16, 400.0),
    "PEPE": CoinProfile(1.1e-5, 1e-8, 1.0e8, 0.0120, 1.90, 0.40, 0.18, 300.0),
}
#: A coin the table does not know trades like a generic small cap (a custom ``--coins`` list still gets a
#: market).
GENERIC_PROFILE = CoinProfile(1.0, 0.0001, 3.0e7, 0.0095, 1.5, 0.30, 0.15, 250.0)

# BTC's waypoints: (fraction of the time from history start to the bleed start, price / pre-crash price).
# A spring 2025 dip, a run to the ATH about 80 % of the way in, then a fade into the bleed.
_BTC_EARLY_WAYPOINTS = ((0.0, 0.90), (0.18, 0.78), (0.45, 1.06), (0.62, 1.00), (0.80, 1.21))
# ... and after the bleed start: (days before the crash, multiplier); a slow grind lower, then a crowded-long
# bounce in the last days that the crash wipes out.
_BTC_LATE_WAYPOINTS = ((None, 1.12), (45.0, 1.02), (5.0, 0.97), (0.0, 1.00))

# Hourly persistence of log-volatility: regimes last days, like real crypto volatility clusters.
_VOL_REGIME_PHI = 0.985
_VOL_REGIME_SCALE = 0.35  # std of log-volatility: calm weeks at ~0.6x, stormy ones at ~1.8x typical vol
_TAIL_DF = 4.0  # Student-t degrees of freedom for returns (crypto returns are fat-tailed)

# Taker-buy share of quote volume before the bleed: two-sided around 0.50, each coin with a small bias of its own
# (normal, clipped), so the basket's CVD before the bleed stays near zero and the bleed's selling dominates the
# cumulative figure for every seed and anchor.
_PRE_BLEED_SHARE = 0.500
_PRE_BLEED_BIAS_SD = 0.0015
_PRE_BLEED_BIAS_MAX = 0.003

# RNG streams: ``_rng(seed, key, component, segment)``. ``key`` is 0 for the market-wide state, else the coin's
# stable key; ``segment`` is 0 for scalars and the hourly bars, 1 + the minute bars' first epoch hour for them.
_MARKET = 0
_VOL_REGIME, _SCALARS, _RETURNS, _WICK_UP, _WICK_DOWN, _VOLUME, _TAKER, _TRADES = range(8)


@dataclass
class _Axis:
    """The shared time axis: pure hourly bars, then minute bars; times are bar opens (ms)."""

    hour_open: np.ndarray
    minute_open: np.ndarray

    @property
    def opens(self) -> np.ndarray:
        return np.concatenate([self.hour_open, self.minute_open])

    @property
    def closes(self) -> np.ndarray:
        return np.concatenate([self.hour_open + HOUR, self.minute_open + MINUTE])

    @property
    def lengths(self) -> np.ndarray:
        return np.concatenate(
            [np.full(len(self.hour_open), HOUR, np.int64), np.full(len(self.minute_open), MINUTE, np.int64)]
        )


def _axis(s: Scenario) -> _Axis:
    minute_from = max(s.minute_data_from_ms, s.history_start_ms)
    hour_open = np.arange(s.history_start_ms, minute_from, HOUR, dtype=np.int64)
    minute_open = np.arange(minute_from, s.end_ms, MINUTE, dtype=np.int64)
    return _Axis(hour_open, minute_open)


def _coin_key(coin: str) -> int:
    """A stable 32-bit key for a symbol (CRC-32 of its UTF-8 bytes; Python's ``hash`` is salted per process)."""
    return zlib.crc32(coin.encode("utf-8")) or 1  # 0 is the market's key


def _rng(seed: int, key: int, component: int, segment: int = 0) -> np.random.Generator:
    """The stream of one kind of draw: a fixed-length entropy list, so distinct tuples give distinct streams."""
    return np.random.default_rng([seed, key, component, segment])


@dataclass(frozen=True)
class CoinDraws:
    """A coin's random scalars: they depend on ``(seed, coin)`` only, never on the anchor or the basket.

    pre_bleed_share: taker-buy share of quote volume before the bleed. bleed_share: during the bleed.
    crash_share: at the crash's start (it falls a further 0.04 at the cascade peak). recover: share of the
    crash retraced in the recovery.
    """

    pre_bleed_share: float
    bleed_share: float
    crash_share: float
    recover: float


def coin_draws(seed: int, coin: str) -> CoinDraws:
    """The random scalars of ``coin`` (BTC's taker shares in the bleed and the crash are fixed, not drawn)."""
    rng = _rng(seed, _coin_key(coin), _SCALARS)
    # Always the same draws in the same order, so adding a scalar at the end never moves the others.
    bias = float(np.clip(rng.normal(0, _PRE_BLEED_BIAS_SD), -_PRE_BLEED_BIAS_MAX, _PRE_BLEED_BIAS_MAX))
    bleed_share = float(rng.uniform(0.468, 0.488))
    crash_share = float(rng.uniform(0.37, 0.41))
    recover = float(rng.uniform(0.35, 0.55))
    if coin == "BTC":
        bleed_share, crash_share = 0.497, 0.42
    return CoinDraws(_PRE_BLEED_SHARE + bias, bleed_share, crash_share, recover)


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Unit-variance AR(1) noise, vectorised as white noise convolved with the truncated kernel phi^k.

    Element ``i`` uses the draws ``i .. i+k-1`` only, so a longer series extends a shorter one unchanged.
    """
    k = int(np.ceil(np.log(1e-3) / np.log(phi)))
    kernel = phi ** np.arange(k)
    white = rng.standard_normal(n + k)
    series = np.convolve(white, kernel, mode="valid")[:n]
    return series / np.sqrt(np.sum(kernel**2))


def _fat_tails(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-variance Student-t draws."""
    return rng.standard_t(_TAIL_DF, n) * np.sqrt((_TAIL_DF - 2) / _TAIL_DF)


def _bar_noise(seed: int, key: int, component: int, axis: _Axis, fat_tails: bool = False) -> np.ndarray:
    """Unit-variance noise for every bar (Student-t if ``fat_tails``, else normal), the hourly bars and the minute
    bars each from a stream of their own.

    Streams are prefix-stable (a longer draw extends a shorter one), so the noise of the ``i``-th hour since the
    history start, and the minute noise within one minute range, do not depend on how many bars there are.
    """
    n_hour, n_minute = len(axis.hour_open), len(axis.minute_open)
    streams = [(_rng(seed, key, component), 0, n_hour)]
    if n_minute:
        segment = 1 + int(axis.minute_open[0] // HOUR)  # never 0, the hourly bars' segment
        streams.append((_rng(seed, key, component, segment), n_hour, n_hour + n_minute))
    out = np.empty(n_hour + n_minute)
    for rng, lo, hi in streams:
        if fat_tails:
            out[lo:hi] = _fat_tails(rng, hi - lo)
        else:
            rng.standard_normal(out=out[lo:hi])
    return out


def _logistic(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _crash_shape(t: np.ndarray, s: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """(progress 0..1 of the crash at each time, selling intensity 0..1 peaking at the cascade)."""
    span = s.crash_end_ms - s.crash_start_ms
    u = (t - s.crash_start_ms) / span
    peak = (s.cascade_peak_ms - s.crash_start_ms) / span
    width = 0.18
    lo, hi = _logistic(-peak / width), _logistic((1 - peak) / width)
    progress = np.clip((_logistic((np.clip(u, 0, 1) - peak) / width) - lo) / (hi - lo), 0.0, 1.0)
    inside = (u >= 0) & (u <= 1)
    bump = np.exp(-(((u - peak) / (1.6 * width)) ** 2))
    intensity = np.where(inside, bump, 0.0)
    return progress, intensity


def _btc_trend(t: np.ndarray, s: Scenario) -> np.ndarray:
    """BTC's deterministic log level relative to its pre-crash pin (0 at the crash start, flat after it)."""
    hs, bs, cs = s.history_start_ms, s.bleed_start_ms, s.crash_start_ms
    points: list[tuple[float, float]] = []
    if bs > hs:
        points += [(hs + f * (bs - hs), m) for f, m in _BTC_EARLY_WAYPOINTS]
    for days, m in _BTC_LATE_WAYPOINTS:
        points.append((bs if days is None else cs - days * DAY, m))
    points = sorted(p for p in points if hs <= p[0] <= cs)
    times = np.array([p[0] for p in points], dtype=np.float64)
    levels = np.log([p[1] for p in points])
    _, first = np.unique(times, return_index=True)
    return np.interp(t, times[first], levels[first])


def _knots(s: Scenario) -> np.ndarray:
    """Where the noise bridge is pinned to zero: the waypoints, so the story's levels hold for every seed."""
    hs, bs, cs = s.history_start_ms, s.bleed_start_ms, s.crash_start_ms
    # The end is pinned too, so the recovery stays partial (below the pre-crash level) for every seed.
    knots = [float(hs), float(bs), cs - 45.0 * DAY, float(cs), float(s.crash_end_ms), float(s.end_ms)]
    if bs > hs:
        knots += [hs + f * (bs - hs) for f, _ in _BTC_EARLY_WAYPOINTS]
    return np.unique([k for k in knots if hs <= k <= s.end_ms])


def _round_tick(x: np.ndarray, tick: float) -> np.ndarray:
    return np.maximum(np.round(x / tick) * tick, tick)


def simulate_spot(scenario: Scenario) -> dict[str, dict[int, pd.DataFrame]]:
    """Hourly (history) and minute (recent) kline frames for BTCUSDT and every alt of ``scenario.coins``.

    Keys: symbol -> ``3_600_000`` (hourly, ``history_start_ms`` to ``end_ms``) and ``60_000`` (minutes,
    ``minute_data_from_ms`` to ``end_ms``); frames have exactly :data:`KLINE_COLUMNS`. Both frames hold bars
    that open before ``end_ms``; when ``end_ms`` is not on the hour the last hourly bar rolls up only the
    minutes that exist. Deterministic in ``(scenario.seed, scenario.anchor_ms)``.
    """
    s = scenario
    axis = _axis(s)
    opens, closes, lengths = axis.opens, axis.closes, axis.lengths
    n_hour, n = len(axis.hour_open), len(opens)
    # Log-price knots sit at bar closes; index 0 of the level arrays is the very first open.
    level_t = np.concatenate([[float(opens[0])], closes.astype(np.float64)]) if n else np.zeros(1)
    bar_hours = lengths / HOUR

    # --- shared market state -----------------------------------------------------------------------
    hour_index = (opens - s.history_start_ms) // HOUR
    n_regime = int(hour_index[-1]) + 1 if n else 1
    log_vol = _VOL_REGIME_SCALE * _ar1(_rng(s.seed, _MARKET, _VOL_REGIME), n_regime, _VOL_REGIME_PHI)
    regime = np.exp(log_vol - _VOL_REGIME_SCALE**2 / 2)[hour_index]
    hour_of_day = (opens // HOUR) % 24
    # Activity peaks around the US open (~15:00 UTC) and is lowest in the late Asian night.
    season = 1.0 + 0.35 * np.cos(2 * np.pi * (hour_of_day - 15) / 24)
    weekday = (opens // DAY + 3) % 7  # 1970-01-01 was a Thursday (3)
    weekend = np.where(weekday >= 5, 0.7, 1.0)
    _, intensity = _crash_shape(opens + lengths / 2, s)
    after = np.clip((opens - s.crash_end_ms) / HOUR, 0, None)
    post = opens >= s.crash_end_ms
    # Volatility stays elevated through the crash and decays over the following hours (choppy recovery).
    crash_vol = np.where(intensity > 0, 2.0 + 2.0 * intensity, 1.0)
    crash_vol = crash_vol + np.where(post, 1.5 * np.exp(-after / 6), 0.0)
    vol_scale = regime * np.sqrt(season * weekend) * crash_vol * np.sqrt(bar_hours)
    btc_z = _bar_noise(s.seed, _coin_key("BTC"), _RETURNS, axis, fat_tails=True)

    knots = _knots(s)
    btc_trend = _btc_trend(level_t, s)
    level_progress, _ = _crash_shape(level_t, s)
    level_after = np.clip((level_t - s.crash_end_ms) / HOUR, 0, None)
    bleed_frac = np.clip((s.crash_start_ms - level_t) / max(s.crash_start_ms - s.bleed_start_ms, 1), 0, 1)

    out: dict[str, dict[int, pd.DataFrame]] = {}
    symbols = ["BTC", *[c for c in s.coins if c != "BTC"]]
    btc = PROFILES["BTC"]
    for coin in symbols:
        p = PROFILES.get(coin, GENERIC_PROFILE)
        is_btc = coin == "BTC"
        key = _coin_key(coin)
        draws = coin_draws(s.seed, coin)  # the scalars first: they never depend on the number of bars
        # --- price path --------------------------------------------------------------------------------
        if is_btc:
            z = btc_z
            sigma = p.hourly_vol
        else:
            # An alt's move is beta times BTC's plus its own; the idiosyncratic part keeps its total vol.
            idio = np.sqrt(max(p.hourly_vol**2 - (p.beta * btc.hourly_vol) ** 2, (0.3 * p.hourly_vol) ** 2))
            z_idio = _bar_noise(s.seed, key, _RETURNS, axis, fat_tails=True)
            sigma = float(np.hypot(p.beta * btc.hourly_vol, idio))
            z = (p.beta * btc.hourly_vol * btc_z + idio * z_idio) / sigma
        steps = sigma * vol_scale * z
        walk = np.concatenate([[0.0], np.cumsum(steps)])
        bridge = walk - np.interp(level_t, knots, np.interp(knots, level_t, walk))
        retraced = draws.recover * (1 - np.exp(-level_after / 3)) * (level_t > s.crash_end_ms)
        crash = np.log1p(-p.crash) * (level_progress - retraced)
        trend = btc_trend if is_btc else p.beta * btc_trend + p.bleed * bleed_frac
        log_level = np.log(p.price) + trend + crash + bridge
        price = _round_tick(np.exp(log_level), p.tick)
        o, c = price[:-1], price[1:]
        bar_sigma = sigma * vol_scale
        wick_up = np.abs(_bar_noise(s.seed, key, _WICK_UP, axis)) * 0.6 * bar_sigma
        wick_dn = np.abs(_bar_noise(s.seed, key, _WICK_DOWN, axis)) * 0.6 * bar_sigma
        high = np.maximum(_round_tick(np.maximum(o, c) * np.exp(wick_up), p.tick), np.maximum(o, c))
        low = np.minimum(_round_tick(np.minimum(o, c) * np.exp(-wick_dn), p.tick), np.minimum(o, c))

        # --- volumes -----------------------------------------------------------------------------------
        # Busier when volatile (regime, |move|), in the US session and on weekdays; the crash spikes it 5-10x.
        surge = 1.0 + 8.0 * intensity + np.where(post, 2.0 * np.exp(-after / 4), 0.0)
        noise_sd = np.where(lengths == HOUR, 0.3, 0.5)
        lognormal = np.exp(noise_sd * _bar_noise(s.seed, key, _VOLUME, axis) - noise_sd**2 / 2)
        quote = (p.daily_quote / DAY * lengths) * season * weekend * regime**1.2 * (0.75 + 0.3 * np.abs(z))
        quote = quote * lognormal * surge
        typical = (o + c + high + low) / 4
        volume = quote / typical

        # --- taker split -------------------------------------------------------------------------------
        base = np.full(n, draws.pre_bleed_share)
        base = np.where((opens >= s.bleed_start_ms) & (opens < s.crash_start_ms), draws.bleed_share, base)
        base = np.where(intensity > 0, draws.crash_share - 0.04 * intensity, base)
        # Dip buyers step in after the flush, then the book is two-sided again.
        base = np.where(post, 0.50 + 0.02 * np.exp(-after / 2), base)
        # Taker buying is what lifts price: a bar's share moves with its own return.
        ratio_sd = np.where(lengths == HOUR, 0.010, 0.03)
        ratio = np.clip(base + 0.015 * z + ratio_sd * _bar_noise(s.seed, key, _TAKER, axis), 0.03, 0.97)
        taker_quote = quote * ratio
        taker_volume = volume * ratio

        trade_noise = np.exp(0.15 * _bar_noise(s.seed, key, _TRADES, axis))
        count = np.maximum(np.round(quote / p.trade_size * trade_noise), 1).astype(np.int64)

        cols = {
            "open_time": opens,
            "open": o,
            "high": high,
            "low": low,
            "close": c,
            "volume": volume,
            "quote_volume": quote,
            "count": count,
            "taker_buy_volume": taker_volume,
            "taker_buy_quote_volume": taker_quote,
        }
        out[f"{coin}USDT"] = _frames(cols, n_hour)
    return out


def _frames(cols: dict[str, np.ndarray], n_hour: int) -> dict[int, pd.DataFrame]:
    """Split the combined bars into the minute frame and the hourly frame (pure hours + rolled-up minutes)."""
    # Copies, not views: a view would keep the whole combined array (all of history) alive behind the minute frame.
    minute = {k: v[n_hour:].copy() for k, v in cols.items()}
    hourly_head = {k: v[:n_hour] for k, v in cols.items()}
    m_open = minute["open_time"]
    if len(m_open):
        # Minute data starts on the hour, so hour buckets start every 60 rows (the last may be short).
        starts = np.flatnonzero(np.r_[True, np.diff(m_open // HOUR) != 0])
        ends = np.r_[starts[1:], len(m_open)] - 1
        rolled = {
            "open_time": m_open[starts] // HOUR * HOUR,
            "open": minute["open"][starts],
            "high": np.maximum.reduceat(minute["high"], starts),
            "low": np.minimum.reduceat(minute["low"], starts),
            "close": minute["close"][ends],
        }
        for k in ("volume", "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume"):
            rolled[k] = np.add.reduceat(minute[k], starts)
    else:
        rolled = {k: v[:0] for k, v in cols.items()}
    hourly = {k: np.concatenate([hourly_head[k], rolled[k]]) for k in KLINE_COLUMNS}
    return {HOUR: _frame(hourly), MINUTE: _frame(minute)}


def _frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    # Cast the arrays before building the frame: per-column astype on a DataFrame costs more than simulating.
    typed = {
        k: np.ascontiguousarray(cols[k], dtype=np.int64 if k in ("open_time", "count") else np.float64)
        for k in KLINE_COLUMNS
    }
    return pd.DataFrame(typed, copy=False)


#: Hourly bars of the basket are kept for this many days before the anchor once the demo is built; older history is
#: kept as daily bars (:func:`compact_history`). It covers the console's hourly requests (``cvd.hourly_days``, 30 by
#: default) and the 35 days of liquidation tape with room to spare.
HOURLY_KEEP_DAYS = 40


def compact_history(markets: dict[str, dict[int, pd.DataFrame]], scenario: Scenario) -> None:
    """Roll each hourly frame's bars older than :data:`HOURLY_KEEP_DAYS` before the anchor up into a daily frame.

    The demo's hourly history is ~23 months x 24 bars per coin (about 28 MB for the basket), yet the console asks
    for daily bars over it and hourly bars only for recent days. The roll-up is :func:`emulator.klines.aggregate`,
    the very function the klines route answers a ``1d`` request with, over the same rows in the same order, so a
    daily answer is bit for bit what it was; the cut is on a UTC day, so no day is split between the frames.
    A request at a finer interval than daily over the compacted span gets the bars that exist (hourly from the
    cut on), as Binance answers a ``startTime`` before a pair's data. Call it once every filler has read the
    hourly frames (:func:`emulator.demo.build_demo_dataset` does); frames that already have daily bars (the long
    tail) are left as they are.
    """
    from emulator.klines import aggregate

    cut = (scenario.anchor_ms - HOURLY_KEEP_DAYS * DAY) // DAY * DAY
    for frames in markets.values():
        hourly = frames.get(HOUR)
        if hourly is None or DAY in frames or not len(hourly):
            continue
        times = hourly["open_time"].to_numpy(np.int64)
        split = int(np.searchsorted(times, cut, side="left"))
        if split == 0:
            continue
        daily = aggregate(hourly.iloc[:split], DAY, HOUR)
        frames[DAY] = _frame({k: daily[k].to_numpy() for k in KLINE_COLUMNS})
        # Copies: a view would keep the whole history's arrays alive behind the recent bars.
        frames[HOUR] = _frame({k: hourly[k].to_numpy()[split:].copy() for k in KLINE_COLUMNS})


# The story's shape, shared with the long tail's coarser simulation (emulator.demo_tail).
btc_trend = _btc_trend
crash_shape = _crash_shape
noise_knots = _knots
