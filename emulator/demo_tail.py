"""The demo's long tail on spot and perps: klines, funding and open interest for ~250 smaller coins.

The curated basket (:mod:`emulator.demo_spot`, :mod:`emulator.demo_derivs`) is simulated bar by bar down to the
minute; a real board also lists a long tail of small coins, which the console's market-wide figures (every perp in
the heatmap, market-wide spot CVD) read. Those coins tell the same story, coarser: they follow BTC with their own
beta (the BTC path the basket simulation made), bleed against it from ``bleed_start_ms`` on net taker selling,
crash harder through ``crash_start_ms``..``crash_end_ms`` on heavy selling, then retrace part of it; their funding
turns crowded in the build-up and resets in the flush, their open interest builds and is flushed.

Bars, per coin (:mod:`emulator.demo_universe` says which coins and where they list):

- **spot** (coins with a Binance USDT pair): daily bars from the history start to 14 days before the anchor, then
  hourly bars to the end (``spot_klines[SYMBOL] = {DAY: ..., HOUR: ...}``): a daily request rolls the hours up
  (:func:`emulator.klines.stitch` takes the finest resolution that covers each instant), so the running day is
  built from the hours up to the clock. A coin with no spot pair gets the same bars as a Binance USD-M market
  (``markets["binance_usdm"]``), which is where its mark price comes from. The dataset stores the last days of
  hourly bars only (``{HOUR: ...}``); a request reaching further back gets the bars above, simulated again
  (:class:`TailHistory`, :meth:`~emulator.dataset.MarketDataset.history`).
- **funding**: 14 days of settlements on each venue listing it (Binance and Bybit every 8 h, a quarter of the coins
  every 4 h, as the venues set volatile coins; OKX 8 h or 4 h; Hyperliquid hourly), appended to
  ``dataset.funding``;
- **open interest**: hourly samples over the same 14 days on each venue, appended to ``dataset.open_interest``.

Vectorised across coins (one array of coins x bars); seeded from ``scenario.seed`` and each coin's CRC-32, so a
coin's bars depend neither on the others nor on how many are listed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator.dataset import KLINE_COLUMNS, SPOT, USDM, MarketDataset
from emulator.demo_derivs import BASELINE, MOMENTUM_BETA, NOISE_SD, VENUE_TILT, ramp
from emulator.demo_spot import btc_trend, crash_shape, noise_knots
from emulator.demo_universe import TailCoin, coin_rng, tail_universe
from emulator.scenario import DAY, HOUR, Scenario

#: Hourly bars (and funding, OI) cover this much before the anchor; older history is daily.
RECENT_DAYS = 14
#: BTC's crash in the story (demo_spot's BTC profile): a tail coin's own crash comes on top of beta times it.
BTC_CRASH = 0.07
VENUE_OI_SHARE = {"binance": 0.36, "bybit": 0.26, "okx": 0.16, "hyperliquid": 0.14}
#: Open interest as a fraction of a coin's daily perp volume (small caps turn their OI over a few times a day).
OI_TO_VOLUME = 0.35
FOUR_HOUR_SHARE = 0.25  # share of tail coins Binance and Bybit settle every 4 h
CROWDED_SHARE = 0.8
TRADE_SIZE = 180.0  # USDT per spot trade
CHUNK = 48  # tail coins simulated at once (see fill)

# Per-coin random streams (component ids): scalars, the price noise, wicks, volumes, taker noise, derivatives.
_SCALARS, _RETURNS, _WICKS, _VOLUME, _TAKER, _DERIVS = range(6)


def _axis(s: Scenario) -> tuple[np.ndarray, np.ndarray, int]:
    """Bar opens (ms) and lengths, and the index of the first hourly bar."""
    recent = (s.anchor_ms - RECENT_DAYS * DAY) // DAY * DAY
    first = s.history_start_ms // DAY * DAY
    days = np.arange(first, recent, DAY, dtype=np.int64)
    hours = np.arange(recent, s.end_ms, HOUR, dtype=np.int64)
    opens = np.concatenate([days, hours])
    lengths = np.concatenate([np.full(len(days), DAY, np.int64), np.full(len(hours), HOUR, np.int64)])
    return opens, lengths, len(days)


def _btc_log_level(dataset: MarketDataset, times: np.ndarray) -> np.ndarray | None:
    """BTC's simulated log price at ``times`` (the hourly spot closes), so the tail moves with the basket's BTC."""
    hourly = (dataset.spot_klines.get("BTCUSDT") or {}).get(HOUR)
    if hourly is None or not len(hourly):
        return None
    close_t = hourly["open_time"].to_numpy(np.int64) + HOUR
    return np.log(np.interp(times, close_t, hourly["close"].to_numpy(float)))


def fill(dataset: MarketDataset, scenario: Scenario) -> None:
    """Add the tail's spot klines, funding and open interest to ``dataset`` (after ``demo_derivs``)."""
    s = scenario
    tail = tail_universe(s.seed, exclude=tuple(s.coins))
    if not tail:
        return
    opens, lengths, n_days = _axis(s)
    level_t = np.concatenate([[float(opens[0])], (opens + lengths).astype(np.float64)])
    btc = _btc_log_level(dataset, level_t)
    if btc is None:
        btc = btc_trend(level_t, s)
    btc_pin = btc[int(np.searchsorted(level_t, s.crash_start_ms))]
    btc_move = btc - btc_pin
    hour_idx = np.arange(n_days, len(opens))
    dataset.history_source = history = TailHistory(s, tail, btc_move)
    price_h: list[np.ndarray] = []
    # A chunk of coins at a time: every draw is from the coin's own streams and every step is row-wise, so the bars
    # are the same as in one pass, while the simulation's temporaries (coins x ~1,000 bars, dozens of arrays) stay a
    # few MB instead of ~90 MB at the demo's peak memory.
    for lo in range(0, len(tail), CHUNK):
        chunk = tail[lo : lo + CHUNK]
        bars = _bars(chunk, s, opens, lengths, level_t, btc_move)
        bars["open_time"] = np.broadcast_to(opens, bars["open"].shape)
        # One frame per resolution for the chunk, sliced per coin: building hundreds of small frames column by
        # column costs more than simulating them.
        parts = _parts(bars, n_days)
        for i, coin in enumerate(chunk):
            frames = {base: block.iloc[i * width : (i + 1) * width].reset_index(drop=True)
                      for base, (block, width) in parts.items()}  # fmt: skip
            if market := _market_of(coin):
                dataset.markets.setdefault(market, {})[f"{coin.coin}USDT"] = history.recent(frames)
        price_h.append(bars["open"][:, hour_idx])
        del bars, parts
    _derivatives(dataset, s, tail, opens[hour_idx], np.concatenate(price_h))


def _market_of(coin: TailCoin) -> str | None:
    """Where a tail coin's bars live: its Binance spot pair, else its Binance USD-M perp (None: neither)."""
    return SPOT if coin.spot else USDM if "binance" in coin.venues else None


def _parts(bars: dict[str, np.ndarray], n_days: int) -> dict[int, tuple[pd.DataFrame, int]]:
    """The daily and the hourly part of the axis, each as one frame of every coin in ``bars`` (coin after coin)."""
    return {DAY: _block(bars, slice(0, n_days)), HOUR: _block(bars, slice(n_days, None))}


#: How many tail symbols' whole histories :class:`TailHistory` keeps between requests (~85 KB each; a coin detail asks
#: for a few intervals of one symbol in a row).
HISTORY_CACHE = 4
#: Days of hourly bars before the anchor that the dataset stores (:meth:`TailHistory.recent`):
#: every refresh reads less (the running day, 24 h tickers, mark prices, the market CVD's last two daily bars, which
#: :func:`~emulator.klines.reaches_before` counts as four days), so none of them is simulated again.
RESIDENT_DAYS = 5


class TailHistory:
    """The tail's whole bars, simulated again when a request reaches before the hourly ones the dataset keeps.

    :func:`fill` simulates the tail's daily and hourly bars a chunk of coins at a time, reads their prices for the
    funding and open interest, and stores the last :data:`RESIDENT_DAYS` of hourly bars only (:meth:`recent`: ~14 MB
    less for the ~260 tail markets, and less at the build's peak); a later filler reads the older ones through
    :meth:`~emulator.dataset.MarketDataset.history`. The console reads the tail's recent bars on every refresh (the
    running day's klines, 24 h tickers, mark prices), its older bars only when a market CVD is first fetched or a
    coin is opened: those requests get the bars back from here, bit for bit: a coin's bars come from its own random
    streams and every step of :func:`_bars` is row by row, so one coin alone gets what it got in its chunk.
    """

    def __init__(self, scenario: Scenario, tail: list[TailCoin], btc_move: np.ndarray) -> None:
        self.scenario = scenario
        self.coins = {(market, f"{c.coin}USDT"): c for c in tail if (market := _market_of(c))}
        self.btc_move = btc_move
        self._recent: dict[tuple[str, str], dict[int, pd.DataFrame]] = {}  # insertion order = least recent first

    def __call__(self, market: str, symbol: str) -> dict[int, pd.DataFrame] | None:
        """Every bar of a tail symbol (``{DAY: ..., HOUR: ...}``), None for a symbol that is not the tail's."""
        key = (market, symbol)
        coin = self.coins.get(key)
        if coin is None:
            return None
        frames = self._recent.pop(key, None)
        if frames is None:
            s = self.scenario
            opens, lengths, n_days = _axis(s)
            level_t = np.concatenate([[float(opens[0])], (opens + lengths).astype(np.float64)])
            bars = _bars([coin], s, opens, lengths, level_t, self.btc_move)
            bars["open_time"] = np.broadcast_to(opens, bars["open"].shape)
            frames = {base: block for base, (block, _) in _parts(bars, n_days).items()}
        self._recent[key] = frames
        while len(self._recent) > HISTORY_CACHE:
            del self._recent[next(iter(self._recent))]
        return frames

    def recent(self, frames: dict[int, pd.DataFrame]) -> dict[int, pd.DataFrame]:
        """What the dataset stores of a tail symbol's bars: the hourly ones of the last :data:`RESIDENT_DAYS`."""
        cut = (self.scenario.anchor_ms - RESIDENT_DAYS * DAY) // DAY * DAY
        hourly = frames[HOUR]
        first = int(np.searchsorted(hourly["open_time"].to_numpy(np.int64), cut, side="left"))
        # A copy: the chunk's frames are views of its blocks, which are freed once every coin of the chunk is cut.
        return {HOUR: hourly.iloc[first:].reset_index(drop=True).copy()}


def _bars(tail: list[TailCoin], s: Scenario, opens: np.ndarray, lengths: np.ndarray, level_t: np.ndarray,
          btc_move: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    """Every tail coin's bars, coins x bars (kline columns but ``open_time``)."""
    n_coins, n = len(tail), len(opens)
    col = lambda attr: np.array([getattr(c, attr) for c in tail], dtype=float)[:, None]  # noqa: E731
    beta, vol, bleed, crash, price0, tick = (col(a) for a in ("beta", "hourly_vol", "bleed", "crash", "price", "tick"))
    turnover = col("spot_turnover") * np.where(col("spot") > 0, 1.0, col("perp_turnover_x"))
    bar_hours = (lengths / HOUR)[None, :]
    streams = [[coin_rng(s.seed, c.coin, 0x7A12, k) for k in range(6)] for c in tail]

    def noise(component: int, width: int, t_dist: bool = False) -> np.ndarray:
        out = np.empty((n_coins, width))
        for i, rngs in enumerate(streams):
            rng = rngs[component]
            out[i] = rng.standard_t(4, width) / np.sqrt(2) if t_dist else rng.standard_normal(width)
        return out

    recover = np.array([streams[i][_SCALARS].uniform(0.30, 0.50) for i in range(n_coins)])[:, None]
    bias = np.array([streams[i][_SCALARS].normal(0, 0.0015) for i in range(n_coins)])[:, None]
    bleed_share = np.array([streams[i][_SCALARS].uniform(0.468, 0.488) for i in range(n_coins)])[:, None]
    crash_share = np.array([streams[i][_SCALARS].uniform(0.37, 0.41) for i in range(n_coins)])[:, None]

    # --- price: beta x BTC's path + the bleed + the coin's own extra crash + a noise bridge pinned at the knots.
    _, intensity = crash_shape(opens + lengths / 2, s)
    progress, _ = crash_shape(level_t, s)
    after = np.clip((level_t - s.crash_end_ms) / HOUR, 0, None)
    retraced = recover * (1 - np.exp(-after / 3))[None, :] * (level_t > s.crash_end_ms)[None, :]
    extra_crash = np.minimum(0.0, np.log1p(-crash) - beta * np.log1p(-BTC_CRASH))
    bleed_frac = np.clip((s.crash_start_ms - level_t) / max(s.crash_start_ms - s.bleed_start_ms, 1), 0, 1)
    idio = vol * np.sqrt(np.maximum(1 - (beta * 0.0045 / vol) ** 2, 0.09))
    crash_vol = np.where(intensity > 0, 2.0 + 2.0 * intensity, 1.0)[None, :]
    z = noise(_RETURNS, n, t_dist=True)
    steps = idio * np.sqrt(bar_hours) * crash_vol * z
    walk = np.concatenate([np.zeros((n_coins, 1)), np.cumsum(steps, axis=1)], axis=1)
    knots = noise_knots(s)
    pins = np.stack([np.interp(level_t, knots, np.interp(knots, level_t, w)) for w in walk])
    log_level = (np.log(price0) + beta * btc_move[None, :] + bleed * bleed_frac[None, :]
                 + extra_crash * (progress[None, :] - retraced) + walk - pins)  # fmt: skip
    price = np.maximum(np.round(np.exp(log_level) / tick) * tick, tick)
    o, c = price[:, :-1], price[:, 1:]
    bar_sigma = idio * np.sqrt(bar_hours) * crash_vol
    wicks = np.abs(noise(_WICKS, 2 * n)) * 0.6
    high = np.maximum(np.round(np.maximum(o, c) * np.exp(wicks[:, :n] * bar_sigma) / tick) * tick, np.maximum(o, c))
    low = np.minimum(np.round(np.minimum(o, c) * np.exp(-wicks[:, n:] * bar_sigma) / tick) * tick, np.minimum(o, c))
    low = np.maximum(low, tick)

    # --- volume: the day's turnover spread over its bars, noisier by the hour, spiking 5-9x in the crash.
    hour_of_day = (opens // HOUR) % 24
    season = np.where(lengths == HOUR, 1.0 + 0.35 * np.cos(2 * np.pi * (hour_of_day - 15) / 24), 1.0)
    post = opens >= s.crash_end_ms
    after_open = np.clip((opens - s.crash_end_ms) / HOUR, 0, None)
    surge = 1.0 + 8.0 * intensity + np.where(post, 2.0 * np.exp(-after_open / 4), 0.0)
    sd = np.where(lengths == HOUR, 0.35, 0.25)[None, :]
    lognormal = np.exp(sd * noise(_VOLUME, n) - sd**2 / 2)
    quote = turnover / DAY * lengths[None, :] * (season * surge)[None, :] * lognormal * (0.8 + 0.25 * np.abs(z))
    volume = quote / ((o + c + high + low) / 4)

    # --- taker split: two-sided before the bleed, net selling through it, heavy selling in the crash.
    base = np.broadcast_to(0.5 + np.clip(bias, -0.003, 0.003), (n_coins, n)).copy()
    bleeding = (opens >= s.bleed_start_ms) & (opens < s.crash_start_ms)
    base = np.where(bleeding[None, :], bleed_share, base)
    base = np.where((intensity > 0)[None, :], crash_share - 0.04 * intensity[None, :], base)
    base = np.where(post[None, :], (0.50 + 0.02 * np.exp(-after_open / 2))[None, :], base)
    taker_sd = np.where(lengths == HOUR, 0.010, 0.004)[None, :]
    ratio = np.clip(base + 0.015 * z * np.sqrt(np.where(lengths == HOUR, 1.0, 0.1))[None, :]
                    + taker_sd * noise(_TAKER, n), 0.03, 0.97)  # fmt: skip
    return {
        "open": o, "high": high, "low": low, "close": c, "volume": volume, "quote_volume": quote,
        "count": np.maximum(np.round(quote / TRADE_SIZE), 1), "taker_buy_volume": volume * ratio,
        "taker_buy_quote_volume": quote * ratio,
    }  # fmt: skip


def _block(bars: dict[str, np.ndarray], part: slice) -> tuple[pd.DataFrame, int]:
    """The bars of every coin in ``part`` of the axis as one frame (coin after coin) and the bars per coin."""
    width = bars["open"][:, part].shape[1]
    typed = {k: np.ascontiguousarray(bars[k][:, part], dtype=np.int64 if k in ("open_time", "count") else np.float64)
             .ravel() for k in KLINE_COLUMNS}  # fmt: skip
    return pd.DataFrame(typed, copy=False), width


def _smooth(rng: np.random.Generator, shape: tuple[int, int], sd: float, alpha: float) -> np.ndarray:
    """Exponentially smoothed white noise along the last axis, rescaled to standard deviation ``sd``."""
    raw = pd.DataFrame(rng.standard_normal(shape).T).ewm(alpha=alpha, adjust=False).mean().to_numpy().T
    return raw * (sd / np.sqrt(alpha / (2 - alpha)))


def _derivatives(dataset: MarketDataset, s: Scenario, tail: list[TailCoin], hours: np.ndarray,
                 price: np.ndarray) -> None:  # fmt: skip
    """Funding settlements and hourly OI of every tail coin on each venue listing it (see the module docstring)."""
    n_coins, n = price.shape
    rng = np.random.default_rng([s.seed, 0x7A13])
    # The 8h-equivalent fair rate of each coin: momentum-driven normally, crowded in the build-up, reset after.
    lag = 72
    past = np.concatenate([np.repeat(price[:, :1], lag, axis=1), price[:, :-lag]], axis=1)
    momentum = np.clip(price / past - 1.0, -0.3, 0.3)
    normal = BASELINE + MOMENTUM_BETA * momentum + _smooth(rng, (n_coins, n), NOISE_SD * 1.5, 0.05)
    crowded = rng.random((n_coins, 1)) < CROWDED_SHARE
    level = np.where(crowded, rng.uniform(0.0002, 0.0007, (n_coins, 1)), rng.uniform(-0.0001, 0.00012, (n_coins, 1)))
    crowd = level + _smooth(rng, (n_coins, n), NOISE_SD, 0.1)
    w = ramp(hours, s.crowded_funding_start_ms, s.crowded_funding_start_ms + DAY)[None, :]
    fair = (1 - w) * normal + w * crowd
    after = hours >= s.crowded_funding_end_ms
    decay = np.exp(-(hours[after] - s.crowded_funding_end_ms) / (36 * HOUR))[None, :]
    reset = rng.uniform(-0.0006, 0.00002, (n_coins, 1))
    fair[:, after] = reset * decay + 0.00003 * (1 - decay) + _smooth(rng, (n_coins, int(after.sum())), 0.00002, 0.2)
    fair = np.clip(fair, -0.003, 0.003)
    # Open interest (coins): builds 15-35 % into the crash, 11-24 % flushed through it.
    up = ramp(hours, s.crowded_funding_start_ms, s.crash_start_ms)[None, :]
    down = np.clip((hours - s.crash_start_ms) / (s.crash_end_ms - s.crash_start_ms), 0, 1)[None, :]
    shape = (1 + rng.uniform(0.15, 0.35, (n_coins, 1)) * up) * (1 - rng.uniform(0.11, 0.24, (n_coins, 1)) * down)
    four_hour = np.asarray(rng.random(n_coins) < FOUR_HOUR_SHARE, dtype=bool)
    perp_volume = np.array([c.spot_turnover * c.perp_turnover_x for c in tail])

    funding: list[pd.DataFrame] = []
    oi: list[pd.DataFrame] = []
    coin_names = [c.coin for c in tail]
    for venue in VENUE_OI_SHARE:
        rows = np.array([i for i, c in enumerate(tail) if venue in c.venues], dtype=np.int64)
        if not len(rows):
            continue
        venue_rate = fair[rows] + VENUE_TILT[venue] + _smooth(rng, (len(rows), n), NOISE_SD * 0.5, 0.1)
        if venue == "hyperliquid":
            intervals = np.ones(len(rows), dtype=np.int64)
        elif venue == "okx":
            intervals = np.where(four_hour[rows] & (rng.random(len(rows)) < 0.7), 4, 8)
        else:
            intervals = np.where(four_hour[rows], 4, 8)
        for interval in np.unique(intervals):
            sub = np.flatnonzero(intervals == interval)
            k = int(interval)
            periods = (n - 1) // k
            per_period = venue_rate[sub, : periods * k].reshape(len(sub), periods, k).mean(axis=2)
            times = hours[0] + (np.arange(periods, dtype=np.int64) + 1) * k * HOUR
            funding.append(pd.DataFrame({
                "time": np.tile(times, len(sub)), "exchange": _names([venue], np.zeros(len(sub) * periods, np.int16)),
                "coin": _names(coin_names, np.repeat(rows[sub], periods)),
                "rate": np.round(per_period * k / 8.0, 8).ravel(), "interval_hours": float(k),
            }))  # fmt: skip
        share = VENUE_OI_SHARE[venue] * rng.uniform(0.7, 1.3, len(rows))
        oi_usd0 = perp_volume[rows] * OI_TO_VOLUME * share
        wobble = np.exp(_smooth(rng, (len(rows), n), 0.006, 0.05))
        oi_base = (oi_usd0 / price[rows, 0])[:, None] * shape[rows] * wobble
        oi.append(pd.DataFrame({
            "time": np.tile(hours, len(rows)), "exchange": _names([venue], np.zeros(len(rows) * n, np.int16)),
            "coin": _names(coin_names, np.repeat(rows, n)),
            "oi_base": oi_base.ravel(), "price": price[rows].ravel(),
        }))  # fmt: skip
    dataset.funding = _append(dataset.funding, funding)
    dataset.open_interest = _append(dataset.open_interest, oi)


def _names(names: list[str], index: np.ndarray) -> pd.Categorical[str]:
    """``names[index]`` as a categorical column: ~500k rows of venue and coin names would be pointers to strings."""
    return pd.Categorical.from_codes(index.astype(np.int16), categories=pd.Index(names))


def _append(frame: pd.DataFrame | None, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """``frame`` with ``parts`` added. Grouped by venue and coin, each coin's rows in time order; not re-sorted as a
    whole (the readers, :mod:`emulator.perp_market`, split by venue and coin and order each series themselves).
    The venue and coin columns stay categorical, over the sorted union of the pieces' names."""
    pieces = ([frame] if frame is not None and len(frame) else []) + parts
    for col in ("exchange", "coin"):
        categories = sorted({str(name) for p in pieces for name in pd.Categorical(p[col]).categories})
        pieces = [p.assign(**{col: pd.Categorical(p[col], categories=categories)}) for p in pieces]
    out = pd.concat(pieces, ignore_index=True)
    out["time"] = out["time"].astype(np.int64)
    return out
