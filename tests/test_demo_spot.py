"""Tests of the demo market's spot klines (``emulator.demo_spot``) and the demo builders (``demo``).

They check what the console relies on: determinism, the kline invariants every parser enforces, hourly bars
that equal rolled-up minute bars, realistic levels and volumes, and the story the key-drivers checklist reads
(alts bleeding on net taker selling, then a crash on heavy selling and a volume spike). The demo is anchored at
"now" floored to the minute, so the story's headline figures must also hold, and barely move, whatever the
anchor: launches minutes apart must not show a basket CVD of -$4.7B and then +$5.2B.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import emulator
from emulator import demo
from emulator.dataset import KLINE_COLUMNS
from emulator.demo_spot import DEMO_SEED, PROFILES, coin_draws, simulate_spot
from emulator.demo_universe import tail_universe
from emulator.scenario import DAY, DEFAULT_ALTS, HOUR, MINUTE, Scenario

# 2026-11-20 13:37 UTC: deliberately not on the hour, so the minute range and the last hourly bar are ragged.
ANCHOR = int(pd.Timestamp("2026-11-20T13:37:00Z").value // 1_000_000)
ALT_SYMBOLS = [f"{c}USDT" for c in DEFAULT_ALTS]
Market = dict[str, dict[int, pd.DataFrame]]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario(anchor_ms=ANCHOR, seed=DEMO_SEED)


@pytest.fixture(scope="module")
def market(scenario: Scenario) -> dict[str, dict[int, pd.DataFrame]]:
    return simulate_spot(scenario)


def _rows(frame: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    t = frame["open_time"]
    return frame[(t >= start) & (t < end)]


def _close_before(minutes: pd.DataFrame, t_ms: int) -> float:
    """The last traded price at ``t_ms``: the close of the minute bar that ends there."""
    return float(minutes.loc[minutes["open_time"] == t_ms - MINUTE, "close"].iloc[0])


def _taker_share(frame: pd.DataFrame) -> float:
    return float(frame["taker_buy_quote_volume"].sum() / frame["quote_volume"].sum())


# --- shape and determinism ----------------------------------------------------------------------------------


def test_symbols_and_resolutions(market: Market) -> None:
    assert set(market) == {"BTCUSDT", *ALT_SYMBOLS}
    for frames in market.values():
        assert set(frames) == {HOUR, MINUTE}


def test_columns_and_dtypes(market: Market) -> None:
    for frames in market.values():
        for frame in frames.values():
            assert list(frame.columns) == KLINE_COLUMNS
            assert frame["open_time"].dtype == np.int64
            assert frame["count"].dtype == np.int64
            for col in KLINE_COLUMNS:
                if col not in ("open_time", "count"):
                    assert frame[col].dtype == np.float64, col
            assert frame.notna().all().all()


def test_time_coverage(market: Market, scenario: Scenario) -> None:
    for frames in market.values():
        hourly, minutes = frames[HOUR]["open_time"].to_numpy(), frames[MINUTE]["open_time"].to_numpy()
        assert hourly[0] == scenario.history_start_ms
        assert hourly[-1] == (scenario.end_ms - 1) // HOUR * HOUR
        assert np.all(np.diff(hourly) == HOUR)
        assert minutes[0] == scenario.minute_data_from_ms
        assert minutes[-1] == scenario.end_ms - MINUTE
        assert np.all(np.diff(minutes) == MINUTE)


def test_same_seed_and_anchor_give_identical_frames(market: Market) -> None:
    again = simulate_spot(Scenario(anchor_ms=ANCHOR, seed=DEMO_SEED))
    for symbol, frames in market.items():
        for base, frame in frames.items():
            pd.testing.assert_frame_equal(frame, again[symbol][base], check_exact=True)


def test_another_seed_gives_another_market(market: Market) -> None:
    other = simulate_spot(Scenario(anchor_ms=ANCHOR, seed=DEMO_SEED + 1))
    a, b = market["ETHUSDT"][MINUTE], other["ETHUSDT"][MINUTE]
    assert np.array_equal(a["open_time"], b["open_time"])
    assert not np.allclose(a["close"], b["close"])
    assert not np.allclose(a["quote_volume"], b["quote_volume"])


def test_unknown_coin_gets_a_generic_market() -> None:
    out = simulate_spot(Scenario(anchor_ms=ANCHOR, coins=("BTC", "ZZZ")))
    assert set(out) == {"BTCUSDT", "ZZZUSDT"}
    assert (out["ZZZUSDT"][HOUR]["close"] > 0).all()


# --- kline invariants ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [HOUR, MINUTE])
def test_kline_invariants(market: Market, base: int) -> None:
    for symbol, frames in market.items():
        f = frames[base]
        o, h, lo, c = (f[k].to_numpy() for k in ("open", "high", "low", "close"))
        assert np.all(h >= np.maximum(o, c)), symbol
        assert np.all(lo <= np.minimum(o, c)), symbol
        assert np.all(lo > 0), symbol
        # The next bar opens where the last one closed (prices sit on the tick grid, so exactly).
        assert np.array_equal(o[1:], c[:-1]), symbol
        assert np.all(f["volume"] > 0) and np.all(f["quote_volume"] > 0), symbol
        assert np.all(f["count"] >= 1), symbol
        for taker, total in (("taker_buy_volume", "volume"), ("taker_buy_quote_volume", "quote_volume")):
            assert np.all(f[taker] >= 0), symbol
            assert np.all(f[taker] <= f[total]), symbol
        # Quote volume is base volume times a price inside the bar's range.
        vwap = f["quote_volume"] / f["volume"]
        assert np.all((vwap >= f["low"] * (1 - 1e-9)) & (vwap <= f["high"] * (1 + 1e-9))), symbol


def test_prices_sit_on_the_pairs_tick_grid(market: Market) -> None:
    for coin in ("BTC", "XRP", "PEPE"):
        tick = PROFILES[coin].tick
        closes = market[f"{coin}USDT"][MINUTE]["close"].to_numpy()
        assert np.allclose(closes / tick, np.round(closes / tick), atol=1e-6)


def test_hourly_bars_equal_aggregated_minutes(market: Market, scenario: Scenario) -> None:
    for symbol, frames in market.items():
        minutes = frames[MINUTE]
        rolled = (
            minutes.groupby(minutes["open_time"] // HOUR * HOUR)
            .agg(
                open=("open", "first"),
                high=("high", "max"),
                low=("low", "min"),
                close=("close", "last"),
                volume=("volume", "sum"),
                quote_volume=("quote_volume", "sum"),
                count=("count", "sum"),
                taker_buy_volume=("taker_buy_volume", "sum"),
                taker_buy_quote_volume=("taker_buy_quote_volume", "sum"),
            )
            .rename_axis("open_time")
            .reset_index()
        )
        hourly = frames[HOUR]
        overlap = hourly[hourly["open_time"] >= scenario.minute_data_from_ms].reset_index(drop=True)
        assert len(overlap) == len(rolled) > 48, symbol
        pd.testing.assert_frame_equal(overlap, rolled[KLINE_COLUMNS], check_exact=False, rtol=1e-12)


# --- realism ------------------------------------------------------------------------------------------------


def test_price_levels_before_the_crash(market: Market, scenario: Scenario) -> None:
    levels = {s: _close_before(f[MINUTE], scenario.crash_start_ms) for s, f in market.items()}
    assert 95_000 <= levels["BTCUSDT"] <= 110_000
    assert 3_000 <= levels["ETHUSDT"] <= 4_000
    assert 150 <= levels["SOLUSDT"] <= 250
    assert 5e-6 <= levels["PEPEUSDT"] <= 2e-5


def test_btc_ath_earlier_in_history_with_a_real_drawdown(market: Market, scenario: Scenario) -> None:
    hourly = market["BTCUSDT"][HOUR]
    upto = hourly[hourly["open_time"] < scenario.anchor_ms]
    ath_at = int(upto.loc[upto["high"].idxmax(), "open_time"])
    assert ath_at < scenario.bleed_start_ms
    now = _close_before(market["BTCUSDT"][MINUTE], scenario.anchor_ms)
    assert now / upto["high"].max() - 1 < -0.10


def test_daily_quote_volumes_are_realistic(market: Market, scenario: Scenario) -> None:
    def median_daily(symbol: str) -> float:
        h = _rows(market[symbol][HOUR], scenario.history_start_ms, scenario.bleed_start_ms)
        return float(h.groupby(h["open_time"] // DAY)["quote_volume"].sum().median())

    assert 1e9 <= median_daily("BTCUSDT") <= 3e9
    for big in ("ETHUSDT", "SOLUSDT", "XRPUSDT"):
        assert 1e8 <= median_daily(big) <= 1e9, big
    for small in ("TONUSDT", "DOTUSDT", "XLMUSDT"):
        assert 1e7 <= median_daily(small) <= 1e8, small


def test_volatility_clusters(market: Market, scenario: Scenario) -> None:
    """Big moves follow big moves: |hourly return| is autocorrelated, as in every real crypto market."""
    h = _rows(market["BTCUSDT"][HOUR], scenario.history_start_ms, scenario.bleed_start_ms)
    moves = np.abs(np.diff(np.log(h["close"].to_numpy())))
    assert np.corrcoef(moves[:-1], moves[1:])[0, 1] > 0.1
    daily_vol = pd.Series(moves).groupby(np.arange(len(moves)) // 24).std()
    assert daily_vol.quantile(0.9) / daily_vol.quantile(0.1) > 1.8


# --- the story ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [DEMO_SEED, 1, 2024])
def test_story_bleed_and_crash(seed: int) -> None:
    s = Scenario(anchor_ms=ANCHOR, seed=seed)
    market = simulate_spot(s)
    basket_pre = pd.concat(
        [_rows(market[a][HOUR], s.history_start_ms, s.bleed_start_ms) for a in ALT_SYMBOLS]
    )
    basket_bleed = pd.concat(
        [_rows(market[a][HOUR], s.bleed_start_ms, s.crash_start_ms) for a in ALT_SYMBOLS]
    )
    # Two-sided before the bleed, so the cumulative CVD since the history start is made by the bleed.
    assert 0.497 <= _taker_share(basket_pre) <= 0.503
    assert 0.46 <= _taker_share(basket_bleed) <= 0.49
    btc_min = market["BTCUSDT"][MINUTE]
    btc_crash = _close_before(btc_min, s.crash_end_ms) / _close_before(btc_min, s.crash_start_ms) - 1
    assert btc_crash < -0.05
    for alt in ALT_SYMBOLS:
        bleed = _rows(market[alt][HOUR], s.bleed_start_ms, s.crash_start_ms)
        assert _taker_share(bleed) < 0.5, alt
        minutes = market[alt][MINUTE]
        crash = _close_before(minutes, s.crash_end_ms) / _close_before(minutes, s.crash_start_ms) - 1
        assert -0.19 <= crash <= -0.09, alt
        assert crash < btc_crash, alt
        assert _taker_share(_rows(minutes, s.crash_start_ms, s.crash_end_ms)) < 0.45, alt


def test_alts_bleed_against_btc(market: Market, scenario: Scenario) -> None:
    def price(symbol: str, t_ms: int) -> float:
        h = market[symbol][HOUR]
        return float(h.loc[h["open_time"] <= t_ms, "close"].iloc[-1])

    for alt in ALT_SYMBOLS:
        before = price(alt, scenario.bleed_start_ms) / price("BTCUSDT", scenario.bleed_start_ms)
        after = price(alt, scenario.crash_start_ms - HOUR) / price("BTCUSDT", scenario.crash_start_ms - HOUR)
        assert after < before * 0.95, alt


def test_crash_volume_spike_and_partial_recovery(market: Market, scenario: Scenario) -> None:
    btc = market["BTCUSDT"][MINUTE]
    calm = _rows(btc, scenario.minute_data_from_ms, scenario.crash_start_ms)["quote_volume"].median()
    crash = _rows(btc, scenario.crash_start_ms, scenario.crash_end_ms)["quote_volume"].median()
    assert crash > 4 * calm
    pre = _close_before(btc, scenario.crash_start_ms)
    low = float(_rows(btc, scenario.crash_start_ms, scenario.end_ms)["low"].min())
    later = float(btc["close"].iloc[-1])
    assert low < later < pre


# --- stability across anchors ---------------------------------------------------------------------------------

# 2026-11-23 12:00 UTC, and launches a few minutes, hours and days after it (fixed epoch ms, never the wall clock).
STABILITY_ANCHOR = 1_795_435_200_000
STABILITY_OFFSETS = {
    "+0": 0,
    "+1 min": MINUTE,
    "+3 min": 3 * MINUTE,
    "+7 min": 7 * MINUTE,
    "+1 h": HOUR,
    "+6 h": 6 * HOUR,
    "+1 day": DAY,
    "+3 days": 3 * DAY,
}


@pytest.fixture(scope="module")
def anchored_markets() -> dict[str, tuple[Scenario, Market]]:
    out = {}
    for label, offset in STABILITY_OFFSETS.items():
        s = Scenario(anchor_ms=STABILITY_ANCHOR + offset, seed=DEMO_SEED)
        out[label] = (s, simulate_spot(s))
    return out


def _basket_cvd(market: Market, s: Scenario, since: int | None = None) -> float:
    """Basket CVD (USD) over the complete hourly bars from ``since`` (default: the history start) to the anchor."""
    total = 0.0
    for alt in ALT_SYMBOLS:
        h = market[alt][HOUR]
        t = h["open_time"]
        h = h[(t >= (s.history_start_ms if since is None else since)) & (t + HOUR <= s.anchor_ms)]
        total += float((2 * h["taker_buy_quote_volume"] - h["quote_volume"]).sum())
    return total


def test_basket_cvd_is_net_selling_and_stable_across_anchors(anchored_markets) -> None:
    cumulative = {label: _basket_cvd(m, s) for label, (s, m) in anchored_markets.items()}
    change_30d = {label: _basket_cvd(m, s, s.anchor_ms - 30 * DAY) for label, (s, m) in anchored_markets.items()}
    # Net taker selling since 2025-01-01, whatever minute the demo starts: billions, not a coin flip around 0.
    assert all(v < -5e9 for v in cumulative.values()), cumulative
    assert all(v < -1e9 for v in change_30d.values()), change_30d
    # Launches minutes to days apart tell the same story with about the same figures.
    assert max(cumulative.values()) / min(cumulative.values()) > 0.8, cumulative
    assert max(change_30d.values()) / min(change_30d.values()) > 0.5, change_30d
    minutes = [cumulative[k] for k in ("+0", "+1 min", "+3 min", "+7 min")]
    assert max(minutes) / min(minutes) > 0.95, minutes


@pytest.mark.parametrize("seed", [1, 2024])
def test_basket_cvd_is_net_selling_for_other_seeds(seed: int) -> None:
    for offset in (0, 3 * MINUTE):
        s = Scenario(anchor_ms=STABILITY_ANCHOR + offset, seed=seed)
        market = simulate_spot(s)
        assert _basket_cvd(market, s) < -5e9, (seed, offset)
        assert _basket_cvd(market, s, s.anchor_ms - 30 * DAY) < 0, (seed, offset)


def test_coin_scalars_depend_on_seed_and_coin_only(anchored_markets) -> None:
    draws = {coin: coin_draws(DEMO_SEED, coin) for coin in DEFAULT_ALTS}
    assert draws == {coin: coin_draws(DEMO_SEED, coin) for coin in DEFAULT_ALTS}
    assert len({d.bleed_share for d in draws.values()}) == len(DEFAULT_ALTS)  # each coin its own draw
    assert coin_draws(DEMO_SEED + 1, "ETH") != draws["ETH"]
    for d in draws.values():
        assert 0.497 <= d.pre_bleed_share <= 0.503
        assert 0.468 <= d.bleed_share <= 0.488
    # The frames show the same per-coin taker shares whatever the anchor (i.e. whatever the number of bars).
    for coin in DEFAULT_ALTS:
        shares = []
        for s, market in anchored_markets.values():
            bleed = _rows(market[f"{coin}USDT"][HOUR], s.bleed_start_ms, s.crash_start_ms - HOUR)
            shares.append(_taker_share(bleed))
        assert max(shares) - min(shares) < 0.002, (coin, shares)
        assert abs(np.mean(shares) - draws[coin].bleed_share) < 0.003, coin


def test_history_noise_does_not_depend_on_the_anchor(anchored_markets) -> None:
    """An early hour's volumes and taker split are the same bar whichever minute (or day) the demo starts."""
    frames = [(s, m) for s, m in anchored_markets.values()]
    first_bleed = min(s.bleed_start_ms for s, _ in frames)
    for symbol in ("BTCUSDT", *ALT_SYMBOLS):
        ref = None
        for s, market in frames:
            early = _rows(market[symbol][HOUR], s.history_start_ms, first_bleed)
            cols = early[["open_time", "quote_volume", "taker_buy_quote_volume"]].reset_index(drop=True)
            if ref is None:
                ref = cols
            else:
                pd.testing.assert_frame_equal(cols, ref, check_exact=True, obj=symbol)


def test_a_coins_market_does_not_depend_on_the_rest_of_the_basket() -> None:
    full = simulate_spot(Scenario(anchor_ms=STABILITY_ANCHOR, seed=DEMO_SEED))
    small = simulate_spot(Scenario(anchor_ms=STABILITY_ANCHOR, seed=DEMO_SEED, coins=("BTC", "SOL", "ETH")))
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
        for base in (HOUR, MINUTE):
            pd.testing.assert_frame_equal(small[symbol][base], full[symbol][base], check_exact=True)


@pytest.mark.parametrize("offset", [0, 3 * MINUTE, DAY])
def test_same_anchor_gives_identical_frames(offset: int) -> None:
    s = Scenario(anchor_ms=STABILITY_ANCHOR + offset, seed=DEMO_SEED)
    a, b = simulate_spot(s), simulate_spot(s)
    for symbol, frames in a.items():
        for base, frame in frames.items():
            pd.testing.assert_frame_equal(frame, b[symbol][base], check_exact=True)


_DIGEST_SCRIPT = """
import hashlib
from emulator.demo_spot import simulate_spot
from emulator.scenario import Scenario
frames = simulate_spot(Scenario(anchor_ms={anchor}, seed={seed}, coins=("BTC", "ETH", "ZZZ")))
print(hashlib.sha256(b"".join(f[b].to_numpy().tobytes() for f in frames.values() for b in sorted(f))).hexdigest())
"""


def test_frames_are_identical_across_processes() -> None:
    """The coin streams are keyed by a stable hash of the symbol, not Python's per-process salted ``hash``."""
    script = _DIGEST_SCRIPT.format(anchor=STABILITY_ANCHOR, seed=DEMO_SEED)
    root = Path(__file__).resolve().parents[1]
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        digests.add(run.stdout.strip())
    frames = simulate_spot(Scenario(anchor_ms=STABILITY_ANCHOR, seed=DEMO_SEED, coins=("BTC", "ETH", "ZZZ")))
    digests.add(
        hashlib.sha256(b"".join(f[b].to_numpy().tobytes() for f in frames.values() for b in sorted(f))).hexdigest()
    )
    assert len(digests) == 1


# --- demo builders ------------------------------------------------------------------------------------------


def test_build_demo_dataset_anchors_at_the_minute() -> None:
    ds = demo.build_demo_dataset(ANCHOR + 42_123)
    s = Scenario(anchor_ms=ANCHOR)
    assert ds.name == "demo" and ds.simulated
    assert (ds.start_ms, ds.end_ms) == (s.history_start_ms, s.end_ms)
    # The basket, plus the long tail's spot pairs (emulator.demo_tail; tested in test_demo_tail.py).
    tail = {f"{c.coin}USDT" for c in tail_universe(DEMO_SEED) if c.spot}
    assert set(ds.spot_klines) == {"BTCUSDT", *ALT_SYMBOLS} | tail
    expected = simulate_spot(s)["SOLUSDT"][MINUTE]
    pd.testing.assert_frame_equal(ds.spot_klines["SOLUSDT"][MINUTE], expected, check_exact=True)


def test_demo_emulator_clock_starts_at_the_anchor() -> None:
    emu = demo.demo_emulator(ANCHOR + 59_999, speed=0)
    assert emu.now_ms() == ANCHOR
    assert emu.dataset.end_ms == ANCHOR + DAY


@pytest.fixture
def extra_emulator_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Lets a test drop a module into ``emulator`` without touching the package on disk."""
    monkeypatch.setattr(emulator, "__path__", [*emulator.__path__, str(tmp_path)])

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(source)
        monkeypatch.delitem(sys.modules, f"emulator.{name}", raising=False)
        return name

    yield write
    for name in [m for m in sys.modules if m.startswith("emulator.demo_test_")]:
        del sys.modules[name]
        # Importing a submodule also binds it on the package; leave the package as it was.
        if hasattr(emulator, name.rsplit(".", 1)[1]):
            delattr(emulator, name.rsplit(".", 1)[1])


def test_fillers_are_called_when_present(extra_emulator_module, monkeypatch: pytest.MonkeyPatch) -> None:
    name = extra_emulator_module(
        "demo_test_filler",
        "def fill(dataset, scenario):\n"
        "    dataset.fear_greed = {'anchor': scenario.anchor_ms, 'coins': len(dataset.spot_klines)}\n",
    )
    monkeypatch.setattr(demo, "FILLERS", ("demo_test_absent", name))
    ds = demo.build_demo_dataset(ANCHOR)
    assert ds.fear_greed == {"anchor": ANCHOR, "coins": 21}


def test_a_filler_broken_by_its_own_import_still_raises(extra_emulator_module, monkeypatch) -> None:
    name = extra_emulator_module("demo_test_broken", "import altpulse_no_such_dependency\n")
    monkeypatch.setattr(demo, "FILLERS", (name,))
    with pytest.raises(ModuleNotFoundError, match="altpulse_no_such_dependency"):
        demo.build_demo_dataset(ANCHOR)
