"""Demo liquidations: a simulated tape for Binance, Bybit and OKX that tells the scenario's story.

Derived from the demo's own spot prices (``dataset.spot_klines[COIN+"USDT"]``, hourly ``3_600_000`` and minute
``60_000`` bars), seeded with ``rng(scenario.seed + 2)``, covering ``max(history_start, anchor - 35 d)`` to
``scenario.end_ms`` so the 30-day hourly median has a full window behind the anchor:

- **Background**: per coin, hour and side a total drawn from a lognormal (BTC longs: median about $4M/h across
  the three venues, 90% of hours between about $1M and $16M; other coins scaled down by size), raised in hours
  the price fell (longs) or rose (shorts) by ``exp(-/+ 40 x hourly log-return)`` (capped at 6x), then split
  into a Poisson number of orders with heavy-tailed (lognormal) sizes at uniform times within the hour.
- **Long liquidation cascade** during the crash (``crash_start_ms`` .. ``crash_end_ms``): about $650M of long
  liquidations across the basket (BTC about 40%), intensity rising linearly to ``cascade_peak_ms`` then
  decaying exponentially (5 min), so ~95% lands in the hour before the anchor: far above 5x the 30-day hourly
  median there, and fading below it within the demo's first hour. A smaller short squeeze (~$40M) follows on
  the bounce.
- Venue split: Binance 45%, Bybit 35%, OKX 20% of orders. The Binance websocket emulation then applies
  Binance's one-order-per-symbol-per-second snapshot rule, so Binance totals undercount as they do live.

Prices: each order is priced at the spot close interpolated at its time (minute bars where they exist, hourly
before), with +/-0.1% noise standing in for the bankruptcy-price offset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emulator.columns import repeated_names
from emulator.dataset import MarketDataset
from emulator.scenario import DAY, HOUR, MINUTE, Scenario
from records.liquidations import BINANCE, BYBIT, OKX

VENUES = np.array([BINANCE, BYBIT, OKX], dtype=object)
VENUE_SHARE = np.array([0.45, 0.35, 0.20])
BTC_HOURLY_LONG_MEDIAN_USD = 4.0e6
HOURLY_SIGMA = 0.85
SHORT_TO_LONG = 0.8
MOVE_SENSITIVITY = 40.0
CASCADE_LONG_USD = 650e6
SQUEEZE_SHORT_USD = 40e6
#: Liquidation size of each coin relative to BTC (open interest-ish ordering); unknown coins get 0.03.
COIN_WEIGHT: dict[str, float] = {
    "BTC": 1.0,
    "ETH": 0.6,
    "SOL": 0.25,
    "XRP": 0.15,
    "DOGE": 0.12,
    "BNB": 0.05,
    "SUI": 0.06,
    "PEPE": 0.05,
    "ADA": 0.05,
    "LINK": 0.04,
    "AVAX": 0.04,
    "TRX": 0.02,
    "LTC": 0.03,
    "BCH": 0.03,
    "DOT": 0.02,
    "TON": 0.02,
    "XLM": 0.02,
    "HBAR": 0.02,
    "UNI": 0.02,
    "NEAR": 0.02,
    "AAVE": 0.03,
}
COLUMNS = ["time", "exchange", "coin", "side", "qty", "price"]


def _price_path(
    dataset: MarketDataset, coin: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(times, prices) for interpolation plus hourly (open_times, log returns) for the move factor."""
    frames = dataset.spot_klines.get(f"{coin}USDT")
    if not frames or HOUR not in frames or len(frames[HOUR]) == 0:
        return None
    hourly = frames[HOUR]
    h_open = hourly["open_time"].to_numpy(np.int64)
    h_close = hourly["close"].to_numpy(np.float64)
    h_ret = np.log(h_close / hourly["open"].to_numpy(np.float64))
    times = h_open + HOUR
    prices = h_close
    minute = frames.get(MINUTE)
    if minute is not None and len(minute):
        m_times = minute["open_time"].to_numpy(np.int64) + MINUTE
        keep = times < m_times[0]
        times = np.concatenate([h_open[:1], times[keep], m_times])
        prices = np.concatenate(
            [hourly["open"].to_numpy(np.float64)[:1], prices[keep], minute["close"].to_numpy(np.float64)]
        )
    else:
        times = np.concatenate([h_open[:1], times])
        prices = np.concatenate([hourly["open"].to_numpy(np.float64)[:1], prices])
    return times, prices, h_open, h_ret


def _split(
    rng: np.random.Generator, totals: np.ndarray, counts: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split each total into ``counts`` heavy-tailed pieces: (group index per piece, notional per piece)."""
    group = np.repeat(np.arange(len(totals)), counts)
    weights = rng.lognormal(0.0, sigma, size=len(group))
    sums = np.bincount(group, weights=weights, minlength=len(totals))
    return group, totals[group] * weights / sums[group]


def _cascade_times(
    rng: np.random.Generator, n: int, start: int, peak: int, end: int, tau_ms: float
) -> np.ndarray:
    """Times rising linearly from ``start`` to ``peak``, then decaying exponentially (truncated at
    ``end``)."""
    pre = rng.random(n) < 0.55
    u = rng.random(n)
    rise = start + (peak - start) * np.sqrt(u)
    span = max(end - peak, 1)
    decay = peak - tau_ms * np.log1p(-u * (1 - np.exp(-span / tau_ms)))
    return np.where(pre, rise, decay).astype(np.int64)


def fill(dataset: MarketDataset, scenario: Scenario) -> None:
    """Populate ``dataset.liquidations`` (see the module docstring); deterministic for a seed and anchor."""
    rng = np.random.default_rng(scenario.seed + 2)
    start = (max(scenario.history_start_ms, scenario.anchor_ms - 35 * DAY) // HOUR) * HOUR
    end = scenario.end_ms
    hours = np.arange(start, end, HOUR, dtype=np.int64)
    parts: list[dict[str, np.ndarray]] = []
    for coin in scenario.coins:
        path = _price_path(dataset, coin)
        if path is None:
            continue
        times, prices, h_open, h_ret = path
        weight = COIN_WEIGHT.get(coin, 0.03)
        idx = np.searchsorted(h_open, hours)
        found = (idx < len(h_open)) & (h_open[np.minimum(idx, len(h_open) - 1)] == hours)
        ret = np.where(found, h_ret[np.minimum(idx, len(h_open) - 1)], 0.0)

        # Background, both sides: hourly totals -> orders.
        base = BTC_HOURLY_LONG_MEDIAN_USD * weight
        long_tot = (
            base
            * rng.lognormal(0.0, HOURLY_SIGMA, len(hours))
            * np.clip(np.exp(-MOVE_SENSITIVITY * ret), 0.3, 6)
        )
        short_tot = (
            base
            * SHORT_TO_LONG
            * rng.lognormal(0.0, HOURLY_SIGMA, len(hours))
            * np.clip(np.exp(MOVE_SENSITIVITY * ret), 0.3, 6)
        )
        totals = np.concatenate([long_tot, short_tot])
        is_long = np.concatenate([np.ones(len(hours), bool), np.zeros(len(hours), bool)])
        hour_of = np.concatenate([hours, hours])
        counts = np.maximum(1, rng.poisson(3 + 26 * weight, len(totals)))
        group, notional = _split(rng, totals, counts, 1.2)
        order_time = hour_of[group] + rng.integers(0, HOUR, len(group))
        order_long = is_long[group]

        # The cascade (longs) and the squeeze on the bounce (shorts).
        share = weight / sum(COIN_WEIGHT.get(c, 0.03) for c in scenario.coins)
        n_c = int(40 + 900 * share)
        c_time = _cascade_times(
            rng, n_c, scenario.crash_start_ms, scenario.cascade_peak_ms, scenario.crash_end_ms, 5 * MINUTE
        )
        _, c_notional = _split(rng, np.array([CASCADE_LONG_USD * share]), np.array([n_c]), 1.0)
        n_s = int(10 + 120 * share)
        s_time = _cascade_times(
            rng,
            n_s,
            scenario.crash_end_ms,
            scenario.crash_end_ms + 12 * MINUTE,
            scenario.crash_end_ms + 45 * MINUTE,
            10 * MINUTE,
        )
        _, s_notional = _split(rng, np.array([SQUEEZE_SHORT_USD * share]), np.array([n_s]), 1.0)

        t_all = np.concatenate([order_time, c_time, s_time])
        long_all = np.concatenate([order_long, np.ones(n_c, bool), np.zeros(n_s, bool)])
        usd_all = np.concatenate([notional, c_notional, s_notional])
        keep = (t_all >= start) & (t_all < end)
        t_all, long_all, usd_all = t_all[keep], long_all[keep], usd_all[keep]
        price = np.interp(t_all, times, prices) * (1 + rng.uniform(-0.001, 0.001, len(t_all)))
        parts.append(
            {
                "time": t_all,
                "venue": rng.choice(3, size=len(t_all), p=VENUE_SHARE).astype(np.int8),
                "coin": np.array([coin], dtype=object),  # the part's one coin (a column of it is made below)
                "long": long_all,
                "qty": usd_all / price,
                "price": price,
            }
        )
    if not parts:
        dataset.liquidations = pd.DataFrame(
            {c: pd.Series(dtype=object if c in ("exchange", "coin", "side") else float) for c in COLUMNS}
        )
        dataset.liquidations["time"] = dataset.liquidations["time"].astype(np.int64)
        return
    time = np.concatenate([p["time"] for p in parts])
    order = np.argsort(time, kind="stable")
    # Categorical names: 230k rows of three text columns would otherwise be ~17 MB of pointers and strings.
    coins = repeated_names([str(p["coin"][0]) for p in parts], [len(p["time"]) for p in parts])

    # One column at a time in time order, each part's piece dropped once it is in: the assembly is the filler's
    # peak memory.
    joined = {name: np.concatenate([p.pop(name) for p in parts])[order] for name in ("venue", "long", "qty", "price")}
    columns = {
        "time": time[order],
        "exchange": pd.Categorical.from_codes(joined.pop("venue"), pd.Index([str(v) for v in VENUES])),
        "coin": coins[order],
        "side": pd.Categorical.from_codes(joined.pop("long").astype(np.int8), pd.Index(["short", "long"])),
        "qty": joined.pop("qty"),
        "price": joined.pop("price"),
    }
    del time, order, coins, parts
    dataset.liquidations = pd.DataFrame(columns, columns=COLUMNS)
