"""The demo's Binance USD-M perpetual klines (daily), derived from its spot market: the same story on leverage.

The seeds' market sells altcoins on spot while funding stays "hard positive across many alts": leverage keeps
buying what spot sells. So each coin's perp trades about 2.5 times its spot volume at the spot price (plus the
small basis funding pays for), and its takers buy a few points more often than spot's: perp CVD holds up or
rises while spot CVD bleeds, the divergence a trader reads. Daily bars for the history (what perp CVD is
cumulated on) and hourly bars for the last three days, so the running day is built from the hours up to the clock,
never from a whole day that has not happened yet; the demo's memory barely moves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator.dataset import KLINE_COLUMNS, USDM, MarketDataset
from emulator.scenario import Scenario

DAY = 86_400_000
HOUR = 3_600_000
#: Perp volume as a multiple of spot volume (Binance USD-M trades a few times its spot book).
VOLUME_MULTIPLE = 2.5
#: How many more points of perp volume are taker buys than on spot (leverage buying the spot dip).
TAKER_TILT = 0.025


def daily_from_hourly(hourly: pd.DataFrame) -> pd.DataFrame:
    """Whole UTC days of hourly bars (:data:`KLINE_COLUMNS`) as daily bars; the running day is kept, partial."""
    day = hourly["open_time"].to_numpy(np.int64) // DAY * DAY
    grouped = hourly.assign(day=day).groupby("day", sort=True)
    out = pd.DataFrame({
        "open_time": grouped["open_time"].first().index.to_numpy(np.int64),
        "open": grouped["open"].first().to_numpy(), "high": grouped["high"].max().to_numpy(),
        "low": grouped["low"].min().to_numpy(), "close": grouped["close"].last().to_numpy(),
        "volume": grouped["volume"].sum().to_numpy(), "quote_volume": grouped["quote_volume"].sum().to_numpy(),
        "count": grouped["count"].sum().to_numpy(), "taker_buy_volume": grouped["taker_buy_volume"].sum().to_numpy(),
        "taker_buy_quote_volume": grouped["taker_buy_quote_volume"].sum().to_numpy(),
    })  # fmt: skip
    return out[KLINE_COLUMNS]


def perp_of(spot: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The perp's bars for spot bars ``spot`` (:data:`KLINE_COLUMNS`), as the module docstring tells."""
    n = len(spot)
    basis = 1 + rng.normal(2e-4, 1e-4, n)  # the perp trades a hair above spot while longs pay funding
    volume = spot["volume"].to_numpy() * VOLUME_MULTIPLE * rng.uniform(0.85, 1.15, n)
    share = spot["taker_buy_volume"].to_numpy() / np.maximum(spot["volume"].to_numpy(), 1e-12)
    share = np.clip(share + TAKER_TILT + rng.normal(0, 0.01, n), 0.05, 0.95)
    close = spot["close"].to_numpy() * basis
    quote = volume * close
    perp = pd.DataFrame({
        "open_time": spot["open_time"].to_numpy(np.int64), "open": spot["open"].to_numpy() * basis,
        "high": spot["high"].to_numpy() * basis, "low": spot["low"].to_numpy() * basis, "close": close,
        "volume": volume, "quote_volume": quote, "count": (spot["count"].to_numpy() * 3).astype(np.int64),
        "taker_buy_volume": volume * share, "taker_buy_quote_volume": quote * share,
    })[KLINE_COLUMNS]  # fmt: skip
    return perp


def fill(dataset: MarketDataset, scenario: Scenario) -> None:
    """``markets["binance_usdm"][SYMBOL]``: daily bars over the spot history, hourly bars for the last 3 days."""
    rng = np.random.default_rng(scenario.seed + 11)
    recent = scenario.anchor_ms - 3 * DAY
    perps: dict[str, dict[int, pd.DataFrame]] = {}
    # The scenario's coins only: the long tail (emulator.demo_tail) brings its own bars, and a console reads perp
    # CVD for the basket.
    for symbol in sorted(f"{coin}USDT" for coin in scenario.coins):
        frames = dataset.spot_klines.get(symbol) or {}
        hourly = frames.get(HOUR)
        if hourly is None or not len(hourly):
            continue
        tail = hourly[hourly["open_time"] >= recent // DAY * DAY].reset_index(drop=True)
        perps[symbol] = {DAY: perp_of(daily_from_hourly(hourly), rng), HOUR: perp_of(tail, rng)}
    dataset.markets.setdefault(USDM, {}).update(perps)
