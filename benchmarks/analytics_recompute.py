"""Full analytics recompute: 200 coins x 400 daily candles x 4 exchanges (design target: <= 50 ms).

One recompute is what the console would do if every feed delivered at once, analytics only (no view-models, no
widgets): the CVD basket (``analytics.cvd.basket``) over 200 coins x 400 daily bars, the funding matrix and stats
over 4 venues, the funding history matrix (200 coins x 4 venues x 21 periods of 8 h settlements), the 24 h
open-interest change per coin, and the liquidation cascade over a 35-day tape.

Usage: ``python benchmarks/analytics_recompute.py [--coins 200] [--days 400] [--repeat 30]``.
Prints median and p95 in ms per step and for the whole recompute.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from benchmarks.tick_cost import (
    DAY_MS,
    HOUR_MS,
    NOW_MS,
    VENUES,
    coin_names,
    derivs_snapshot,
    klines,
    liquidation_tape,
    oi_history,
)

TARGET_MS = 50.0


def history_4_venues(rng: np.random.Generator, coins: list[str], periods: int) -> pd.DataFrame:
    """Settlements on 4 venues (Hyperliquid hourly, the others every 8 h) over ``periods`` 8 h buckets."""
    from records.derivs import funding_history_frame

    frames = []
    for venue in VENUES:
        step = HOUR_MS if venue == "hyperliquid" else 8 * HOUR_MS
        times = np.arange(NOW_MS - periods * 8 * HOUR_MS, NOW_MS, step, dtype=np.int64)
        interval = np.full(len(times), step / HOUR_MS)
        for c in coins:
            frames.append(funding_history_frame(times, c, venue, f"{c}USDT", rng.normal(1e-4, 2e-4, len(times)),
                                                interval))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    from analytics.cvd import basket
    from analytics.funding import funding_grids, funding_history_matrix, funding_stats
    from analytics.liquidations import cascade
    from analytics.open_interest import oi_change

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", type=int, default=200)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    rng = np.random.default_rng(11)
    coins = coin_names(args.coins)
    day_end = NOW_MS // DAY_MS * DAY_MS + DAY_MS
    daily = {c: klines(rng, day_end - args.days * DAY_MS, day_end, DAY_MS, rng.uniform(0.1, 3000)) for c in coins}
    since = pd.Timestamp(day_end - args.days * DAY_MS, unit="ms", tz="UTC")
    snapshots = [derivs_snapshot(rng, v, coins, NOW_MS) for v in VENUES]
    quotes = [q for s in snapshots for q in s.funding]
    history = history_4_venues(rng, coins, 21)
    oi = oi_history(rng, coins, NOW_MS)
    tape = liquidation_tape(rng, coins, NOW_MS, 200_000)
    closes = daily[coins[0]]["close"]
    closes = pd.Series(closes.to_numpy(float), index=daily[coins[0]]["close_time"])

    steps = {
        "cvd basket": lambda: basket(daily, since),
        "funding grids + stats": lambda: funding_stats(funding_grids(quotes, VENUES)[0]),
        "funding history matrix": lambda: funding_history_matrix(history, None, 21),
        "oi change 24h": lambda: oi_change(oi, pd.Timedelta(hours=24)),
        "liquidation cascade": lambda: cascade(tape, closes, NOW_MS),
    }
    timings: dict[str, list[float]] = {name: [] for name in [*steps, "full recompute"]}
    for fn in steps.values():
        fn()  # warm-up (imports, caches)
    for _ in range(args.repeat):
        total = 0.0
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            elapsed = (time.perf_counter() - start) * 1000
            timings[name].append(elapsed)
            total += elapsed
        timings["full recompute"].append(total)
    print(f"analytics recompute: {args.coins} coins x {args.days} daily candles x {len(VENUES)} exchanges, "
          f"{len(tape):,} tape rows, {len(history):,} funding settlements, {args.repeat} runs")  # fmt: skip
    print(f"{'step':28s}{'median ms':>12s}{'p95 ms':>10s}")
    for name, samples in timings.items():
        samples.sort()
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        print(f"{name:28s}{statistics.median(samples):12.2f}{p95:10.2f}")
    med = statistics.median(timings["full recompute"])
    print(f"target: <= {TARGET_MS:.0f} ms -> {'MET' if med <= TARGET_MS else 'MISSED'} (median {med:.1f} ms)")


if __name__ == "__main__":
    main()
