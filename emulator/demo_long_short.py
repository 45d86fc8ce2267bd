"""Simulated long/short positioning for the demo market: who is long, by account and by size, on Binance and Bybit.

The story (see :class:`~emulator.scenario.Scenario`), as a trader would read it off the ratios:

- **normally** the crowd leans long (accounts 54-62 % long, a ratio of about 1.2-1.6; BTC's crowd a little less
  so than the alts') while the top traders' positions sit near balance (47-53 % long);
- during the **crowded-funding build-up** (from ``crowded_funding_start_ms``, over two days) the crowd piles in:
  the account share rises by 6-18 points (ratio 2-4), the more the hotter the coin's own funding runs (read off the
  dataset's Binance funding), while the top traders add only a fifth as much: the crowd is far longer than the
  money that knows;
- the **crash flushes it** (``crash_start_ms`` to ``crash_end_ms``): the build-up is liquidated and the account share
  overshoots 4-8 points below normal, the top traders' half as much, recovering over the next day.

Bybit's accounts follow Binance's with a small tilt and noise of their own. Frame as
:class:`~emulator.dataset.MarketDataset` ``long_short``: ``time, exchange, coin, kind, long_share`` on an hourly grid
from 33 days before the anchor (Binance keeps 30) and every 5 minutes over the last three days and the day ahead.
Vectorised per coin, seeded with ``scenario.seed + 17``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator.columns import repeated_names
from emulator.dataset import MarketDataset
from emulator.scenario import DAY, HOUR, MINUTE, Scenario

HISTORY_DAYS = 33
FINE_DAYS = 3
FINE_STEP = 5 * MINUTE
BASELINE = 0.0001  # 0.01 %/8 h: the funding that means "neutral"
#: How hot a coin's funding must run above the baseline (per 8 h) to crowd its accounts the most.
FULL_CROWD_RATE = 0.0004
FLUSH_RECOVERY_MS = 18 * HOUR
#: Simulation parameters (not market figures): the share's noise (standard deviation, smoothing) and its bounds.
NOISE_SD = 0.008
NOISE_ALPHA = 0.05
SHARE_BOUNDS = (0.2, 0.85)


def fill(dataset: MarketDataset, scenario: Scenario) -> None:
    """Populate ``dataset.long_short`` for every coin of ``scenario`` (see the module docstring)."""
    rng = np.random.default_rng(scenario.seed + 17)
    fine_from = (scenario.anchor_ms - FINE_DAYS * DAY) // HOUR * HOUR
    start = (scenario.anchor_ms - HISTORY_DAYS * DAY) // HOUR * HOUR
    grid = np.concatenate([np.arange(start, fine_from, HOUR, dtype=np.int64),
                           np.arange(fine_from, scenario.end_ms + 1, FINE_STEP, dtype=np.int64)])  # fmt: skip
    crowd = _crowding(dataset, scenario)
    up = _ramp(grid, scenario.crowded_funding_start_ms, scenario.crowded_funding_start_ms + 2 * DAY)
    down = np.clip((grid - scenario.crash_start_ms) / (scenario.crash_end_ms - scenario.crash_start_ms), 0.0, 1.0)
    recovery = np.exp(-np.clip(grid - scenario.crash_end_ms, 0, None) / FLUSH_RECOVERY_MS)
    parts: list[tuple[str, str, str, np.ndarray]] = []  # (exchange, coin, kind, long share on the grid)
    for coin in scenario.coins:
        heat = crowd.get(coin, 0.7)
        base = rng.uniform(0.52, 0.58) if coin == "BTC" else rng.uniform(0.54, 0.62)
        lift = 0.06 + 0.12 * heat
        flush = rng.uniform(0.04, 0.08)
        # The build-up is liquidated through the crash (1 - down), then the overshoot below normal fades.
        accounts = base + lift * up * (1 - down) - flush * down * recovery
        top_base = rng.uniform(0.47, 0.53)
        top = top_base + 0.2 * lift * up * (1 - down) - 0.5 * flush * down * recovery
        bybit = accounts + rng.uniform(-0.03, 0.0)
        for exchange, kind, share in (("binance", "accounts", accounts), ("binance", "top_positions", top),
                                      ("bybit", "accounts", bybit)):  # fmt: skip
            noisy = np.clip(share + _smooth_noise(len(grid), rng), *SHARE_BOUNDS)
            parts.append((exchange, coin, kind, np.round(noisy, 6)))
    dataset.long_short = _frame(parts, grid) if parts else None


def _frame(parts: list[tuple[str, str, str, np.ndarray]], grid: np.ndarray) -> pd.DataFrame:
    """The long frame, part after part on ``grid``, the names as categories (in name order): built from codes, not
    from per-part frames of text concatenated (the filler's peak memory)."""

    def names(i: int) -> pd.Categorical[str]:
        return repeated_names([str(p[i]) for p in parts], len(grid))

    return pd.DataFrame({"time": np.tile(grid, len(parts)), "exchange": names(0), "coin": names(1), "kind": names(2),
                         "long_share": np.concatenate([p[3] for p in parts])})  # fmt: skip


def _crowding(dataset: MarketDataset, scenario: Scenario) -> dict[str, float]:
    """coin -> 0..1: how far its Binance funding ran above the baseline during the build-up (0: not at all)."""
    funding = dataset.funding
    if funding is None or not len(funding):
        return {}
    window = funding[(funding["exchange"] == "binance") & (funding["time"] > scenario.crowded_funding_start_ms + DAY)
                     & (funding["time"] <= scenario.crash_start_ms)]  # fmt: skip
    if not len(window):
        return {}
    rate_8h = window["rate"] * 8.0 / window["interval_hours"]
    mean = rate_8h.groupby(window["coin"], observed=True).mean()
    return {str(c): float(np.clip((v - BASELINE) / FULL_CROWD_RATE, 0.0, 1.0)) for c, v in mean.items()}


def _ramp(t: np.ndarray, start: int, end: int) -> np.ndarray:
    """0 before ``start``, 1 after ``end``, a smoothstep between."""
    x = np.clip((t - start) / max(end - start, 1), 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _smooth_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Exponentially smoothed white noise with standard deviation :data:`NOISE_SD` (the ratios drift, not jump)."""
    raw = pd.Series(rng.standard_normal(n)).ewm(alpha=NOISE_ALPHA, adjust=False).mean().to_numpy()
    return raw * (NOISE_SD / np.sqrt(NOISE_ALPHA / (2 - NOISE_ALPHA)))
