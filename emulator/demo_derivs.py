"""Simulated perpetual-swap funding and open interest for the demo market, derived from the spot prices.

The story a trader should read off the console (see :class:`~emulator.scenario.Scenario`):

- **normally** funding sits near the 0.01%/8h baseline (0.0001), drifting with the coin's 3-day return
  (rallies pull longs in and push funding up) plus venue-specific noise;
- from ``crowded_funding_start_ms`` to ``crowded_funding_end_ms`` it turns **crowded positive**: most coins
  (well over 60%) at 0.02-0.06%/8h, the rest near the baseline, while open interest (in coins) **builds**
  15-35% as leverage piles in;
- the crash flushes it: OI drops 10-25% between ``crash_start_ms`` and ``crash_end_ms`` and funding
  **resets** to around zero or negative, recovering only slowly.

Venue conventions match the real ones: Binance, OKX and Bybit settle every 8 h (one Bybit coin every 4 h, to
exercise the normalisation), Hyperliquid every hour; the rate per interval is the 8-hour-equivalent rate
times ``interval_hours / 8``. Frames follow :class:`~emulator.dataset.MarketDataset`:
``funding`` = ``time, exchange, coin, rate, interval_hours`` (one row per settlement, ``time`` the settlement
instant) and ``open_interest`` = ``time, exchange, coin, oi_base, price`` (hourly, every 5 minutes from
``minute_data_from_ms``). Everything is vectorised per coin and seeded with ``scenario.seed + 1``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator.columns import repeated_names
from emulator.dataset import MarketDataset
from emulator.scenario import DAY, HOUR, MINUTE, Scenario

EXCHANGES = ("binance", "bybit", "okx", "hyperliquid")
INTERVAL_HOURS = {"binance": 8, "bybit": 8, "okx": 8, "hyperliquid": 1}
BASELINE = 0.0001  # 0.01% per 8 h
HISTORY_DAYS = 60
OI_FINE_STEP = 5 * MINUTE
# Simulation parameters (not market figures): how strongly funding follows the 3-day return, how noisy it
# is, each venue's persistent tilt, and each venue's share of a coin's open interest relative to its daily
# spot turnover.
MOMENTUM_BETA = 0.0015
NOISE_SD = 0.00004
VENUE_TILT = {"binance": 0.0, "bybit": 0.000005, "okx": -0.000005, "hyperliquid": 0.00001}
VENUE_OI_SHARE = {"binance": 0.35, "bybit": 0.25, "okx": 0.15, "hyperliquid": 0.12}
CROWDED_SHARE = 0.85  # share of coins that get crowded; the others stay near the baseline


def fill(dataset: MarketDataset, scenario: Scenario) -> None:
    """Populate ``dataset.funding`` and ``dataset.open_interest`` for every coin of ``scenario``.

    Reads the hourly spot frames (``spot_klines[COIN + "USDT"][3_600_000]``) and, when present, the minute
    frames for the fine OI grid. Raises ValueError when a coin has no hourly spot frame.
    """
    rng = np.random.default_rng(scenario.seed + 1)
    start = max(scenario.history_start_ms, scenario.anchor_ms - HISTORY_DAYS * DAY)
    start = start // (8 * HOUR) * (8 * HOUR)
    end = scenario.end_ms
    hours = np.arange(start, end + 1, HOUR, dtype=np.int64)
    fine_from = max(start, scenario.minute_data_from_ms // HOUR * HOUR)
    oi_grid = np.concatenate(
        [hours[hours < fine_from], np.arange(fine_from, end + 1, OI_FINE_STEP, dtype=np.int64)]
    )
    alts = [c for c in scenario.coins if c != "BTC"] or list(scenario.coins)
    four_hour_coin = alts[int(rng.integers(len(alts)))]
    coins = list(scenario.coins)
    crowded = rng.random(len(coins)) < CROWDED_SHARE
    if len(coins) > 1 and crowded.mean() <= 0.6:  # keep the story: more than 60% crowded
        crowded[rng.permutation(len(coins))[: int(np.ceil(0.7 * len(coins)))]] = True

    funding_parts: list[dict[str, np.ndarray | str]] = []
    oi_parts: list[dict[str, np.ndarray | str]] = []
    for ci, coin in enumerate(coins):
        hourly, minute = _spot_frames(dataset, coin)
        price_h = np.interp(hours, hourly["open_time"].to_numpy(np.int64), hourly["open"].to_numpy(float))
        fair = _fair_rate_8h(price_h, hours, scenario, bool(crowded[ci]), rng)
        price_oi = _price_on(oi_grid, hourly, minute)
        daily_turnover = float(np.nanmedian(hourly["quote_volume"].to_numpy(float)[: 30 * 24])) * 24
        shape = _oi_shape(oi_grid, scenario, rng)
        for exchange in EXCHANGES:
            interval = 4 if (exchange == "bybit" and coin == four_hour_coin) else INTERVAL_HOURS[exchange]
            noise = _smooth_noise(len(hours), NOISE_SD * 0.5, 0.1, rng)
            venue = fair + VENUE_TILT[exchange] + noise
            n_periods = (len(hours) - 1) // interval
            per_period = venue[: n_periods * interval].reshape(n_periods, interval).mean(axis=1)
            times = start + (np.arange(n_periods, dtype=np.int64) + 1) * interval * HOUR
            funding_parts.append(
                {
                    "time": times,
                    "exchange": exchange,
                    "coin": coin,
                    "rate": np.round(per_period * interval / 8.0, 8),
                    "interval_hours": np.full(n_periods, float(interval)),
                }
            )
            share = VENUE_OI_SHARE[exchange] * rng.uniform(0.8, 1.25)
            oi_usd0 = max(daily_turnover, 1.0) * 0.6 * share
            oi_base = oi_usd0 / price_oi[0] * shape * np.exp(_smooth_noise(len(oi_grid), 0.004, 0.02, rng))
            oi_parts.append(
                {"time": oi_grid, "exchange": exchange, "coin": coin, "oi_base": oi_base, "price": price_oi}
            )
    dataset.funding = _concat(funding_parts, ["time", "exchange", "coin", "rate", "interval_hours"])
    dataset.open_interest = _concat(oi_parts, ["time", "exchange", "coin", "oi_base", "price"])


def _spot_frames(dataset: MarketDataset, coin: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    frames = dataset.spot_klines.get(coin + "USDT")
    if not frames or HOUR not in frames or len(frames[HOUR]) == 0:
        raise ValueError(
            f"demo_derivs needs hourly spot klines for {coin}USDT (run the spot simulation first)"
        )
    return frames[HOUR], frames.get(MINUTE)


def _price_on(grid: np.ndarray, hourly: pd.DataFrame, minute: pd.DataFrame | None) -> np.ndarray:
    """Price at each grid instant: the open of the bar starting there (minute bars where they exist)."""
    price = np.interp(grid, hourly["open_time"].to_numpy(np.int64), hourly["open"].to_numpy(float))
    if minute is not None and len(minute):
        m_times = minute["open_time"].to_numpy(np.int64)
        inside = (grid >= m_times[0]) & (grid <= m_times[-1])
        price[inside] = np.interp(grid[inside], m_times, minute["open"].to_numpy(float))
    return price


def _smooth_noise(n: int, sd: float, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """An AR(1)-like series (exponentially smoothed white noise), rescaled to standard deviation ``sd``."""
    raw = pd.Series(rng.standard_normal(n)).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return raw * (sd / np.sqrt(alpha / (2 - alpha)))


def _ramp(t: np.ndarray, start: int, end: int) -> np.ndarray:
    """0 before ``start``, 1 after ``end``, a smoothstep between."""
    x = np.clip((t - start) / max(end - start, 1), 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _fair_rate_8h(
    price: np.ndarray, hours: np.ndarray, scenario: Scenario, crowded: bool, rng: np.random.Generator
) -> np.ndarray:
    """Hourly 8h-equivalent funding of one coin before venue noise (see the module docstring)."""
    lag = 72
    past = np.concatenate([np.full(lag, price[0]), price[:-lag]])
    momentum = np.clip(price / past - 1.0, -0.3, 0.3)
    normal = BASELINE + MOMENTUM_BETA * momentum + _smooth_noise(len(hours), NOISE_SD, 0.05, rng)
    level = rng.uniform(0.0002, 0.0006) if crowded else rng.uniform(0.00007, 0.00012)
    cs, ce = scenario.crowded_funding_start_ms, scenario.crowded_funding_end_ms
    crowd = level + _smooth_noise(len(hours), NOISE_SD * 0.5, 0.1, rng)
    w = _ramp(hours, cs, cs + DAY)
    rate = (1 - w) * normal + w * crowd
    reset = rng.uniform(-0.0004, 0.00002)
    after = hours >= ce
    decay = np.exp(-(hours[after] - ce) / (36 * HOUR))
    rate[after] = reset * decay + 0.00003 * (1 - decay) + _smooth_noise(int(after.sum()), 0.00001, 0.2, rng)
    return np.clip(rate, -0.003, 0.003)


def _oi_shape(grid: np.ndarray, scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative OI path: build-up during the crowded period, a 10-25% flush through the crash."""
    build = rng.uniform(0.15, 0.35)
    drop = rng.uniform(0.11, 0.24)  # leaves room for the noise inside 10-25%
    up = _ramp(grid, scenario.crowded_funding_start_ms, scenario.crash_start_ms)
    down = np.clip((grid - scenario.crash_start_ms) / (scenario.crash_end_ms - scenario.crash_start_ms), 0, 1)
    return (1 + build * up) * (1 - drop * down)


def _concat(parts: list[dict[str, np.ndarray | str]], columns: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: [] for c in columns})
    lengths = [len(p["time"]) for p in parts]
    data: dict[str, np.ndarray | pd.Categorical[str]] = {}
    for col in columns:
        if isinstance(parts[0][col], str):
            # Sorted categories, as the frame is sorted by them.
            data[col] = repeated_names([str(p[col]) for p in parts], lengths)
        else:
            data[col] = np.concatenate([np.asarray(p[col]) for p in parts])
    frame = pd.DataFrame(data, columns=columns)
    frame["time"] = frame["time"].astype(np.int64)
    return frame.sort_values(["exchange", "coin", "time"], kind="stable").reset_index(drop=True)


#: The smoothstep the funding and OI build-ups use, shared with the long tail (emulator.demo_tail).
ramp = _ramp
