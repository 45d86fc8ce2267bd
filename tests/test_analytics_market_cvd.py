"""Tests for analytics.market_cvd: which Binance spot pairs the market CVD counts, and its figures on hand-computed
daily klines (a pair listed after the start, a pair with an unknown taker split, a stale pair)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import pytest

from analytics.market_cvd import market_cvd, select_pairs
from sources.binance_spot import parse_klines

DAY_MS = 86_400_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC


def day(i: int) -> pd.Timestamp:
    return pd.Timestamp(T0 + i * DAY_MS, unit="ms", tz="UTC")


def klines(bars: list[tuple[float, float | None]], start_day: int = 0, now_ms: int | None = None) -> pd.DataFrame:
    """Daily klines through the real parser: each bar is (quote_volume, taker_buy_quote or None = unknown)."""
    rows = []
    for k, (quote, buy) in enumerate(bars):
        open_ms = T0 + (start_day + k) * DAY_MS
        rows.append([open_ms, "1", "1", "1", "1", "1", open_ms + DAY_MS - 1, str(quote), 1, "0.5",
                     None if buy is None else str(buy), "0"])  # fmt: skip
    return parse_klines(rows, T0 + 5 * DAY_MS + 1 if now_ms is None else now_ms)


@dataclass(frozen=True)
class Pair:
    symbol: str
    base: str
    quote: str = "USDT"
    trading: bool = True
    leveraged: bool = False


# ------------------------------------------------------------------------------------------------- select_pairs


def test_select_pairs_applies_every_rule_and_says_why() -> None:
    listing = [
        Pair("BTCUSDT", "BTC"), Pair("ETHUSDT", "ETH"), Pair("SOLUSDT", "SOL"), Pair("XRPUSDT", "XRP"),
        Pair("ETHBTC", "ETH", "BTC"),  # another quote: not the market's
        Pair("USDCUSDT", "USDC"), Pair("WBTCUSDT", "WBTC"),  # excluded by name (config)
        Pair("BTCUPUSDT", "BTCUP", leveraged=True),  # Binance's BLVT: LEVERAGED permission
        Pair("XRPBULLUSDT", "XRPBULL"),  # a 2020 BULL token with plain SPOT permission: the pattern catches it
        Pair("JUPUSDT", "JUP"), Pair("SYRUPUSDT", "SYRUP"),  # end in UP, but no J or SYR is listed: altcoins
        Pair("MATICUSDT", "MATIC", trading=False),  # halted (BREAK)
        Pair("XYZUSDT", "ABC"),  # a symbol that is not base + quote
    ]  # fmt: skip
    pairs = select_pairs(listing, "USDT", exclude=["usdc", "WBTC"], patterns=["*UP", "*DOWN", "*BULL", "*BEAR"],
                         as_of_ms=123)  # fmt: skip
    assert pairs.symbols == {"ETH": "ETHUSDT", "SOL": "SOLUSDT", "XRP": "XRPUSDT", "JUP": "JUPUSDT",
                             "SYRUP": "SYRUPUSDT"}  # fmt: skip
    assert pairs.excluded == {
        "BTCUSDT": "BTC (shown on its own)",
        "USDCUSDT": "cvd.market_exclude (stablecoin, wrapped or pegged)",
        "WBTCUSDT": "cvd.market_exclude (stablecoin, wrapped or pegged)",
        "BTCUPUSDT": "leveraged token (LEVERAGED permission)",
        "XRPBULLUSDT": "leveraged token (matches *BULL)",
        "XYZUSDT": "symbol is not base + quote",
    }
    assert pairs.not_trading == 1 and pairs.quote == "USDT" and pairs.as_of_ms == 123
    # Without patterns the BULL token would count; another quote sees only its own pairs.
    assert "XRPBULL" in select_pairs(listing, "USDT").symbols
    assert select_pairs(listing, "BTC").symbols == {"ETH": "ETHBTC"}


def test_a_pattern_stem_must_itself_be_listed_in_the_quote() -> None:
    listing = [Pair("ETHUSDT", "ETH"), Pair("ETHDOWNUSDT", "ETHDOWN"), Pair("ADADOWNUSDT", "ADADOWN")]
    pairs = select_pairs(listing, "USDT", patterns=["*DOWN"])
    assert set(pairs.symbols) == {"ETH", "ADADOWN"}  # ADA is not listed here: ADADOWN is taken for a coin
    assert pairs.excluded == {"ETHDOWNUSDT": "leveraged token (matches *DOWN)"}


# --------------------------------------------------------------------------------------------------- market_cvd


def frames() -> dict[str, pd.DataFrame]:
    return {
        "A": klines([(100, 60)] * 5),  # delta +20 a day
        "B": klines([(200, 80)] * 5),  # delta -40 a day
        "C": klines([(50, 30)] * 3, start_day=2),  # listed on day 2: delta +10 a day from its listing
        "D": klines([(100, 60), (100, 60), (100, 60), (100, None), (100, 60)]),  # taker split unknown on day 3
        "E": klines([(100, 90)] * 3),  # stale: its last bar is day 2
    }


def test_market_cvd_hand_computed_with_a_late_listing_an_unknown_and_a_stale_pair() -> None:
    market = market_cvd(frames(), day(0), window=pd.Timedelta(days=3))
    # Daily sums over A, B and (from day 2) C: -20, -20, -10, -10, -10 -> cumulated -20, -40, -50, -60, -70.
    assert market.cumulative.tolist() == [-20.0, -40.0, -50.0, -60.0, -70.0]
    assert list(market.cumulative.index) == [day(i) for i in range(5)]
    assert market.total == -70.0
    # The last 3 days (opened after day 4 - 3 days: days 2, 3, 4): -10 x 3.
    assert market.change_usd == -30.0
    # Since the start: buys 5*60 + 5*80 + 3*30 = 790, sells 5*40 + 5*120 + 3*20 = 860.
    assert market.buy_sell_ratio == pytest.approx(790 / 860)
    # Days 2-4: buys 3*60 + 3*80 + 3*30 = 510, sells 3*40 + 3*120 + 3*20 = 540.
    assert market.buy_sell_ratio_window == pytest.approx(510 / 540)
    assert market.pairs == 3 and market.listed_after_start == ("C",)
    # D is excluded whole (not counted as zero on day 3), E for being stale: never counted as flat.
    assert set(market.excluded) == {"D", "E"}
    assert "taker split unknown from 2025-01-04" in market.excluded["D"] and "stale" in market.excluded["E"]
    assert market.as_of == day(4) and not market.includes_provisional


def test_market_change_needs_a_whole_window_and_the_open_day_is_flagged() -> None:
    open_day = {"A": klines([(100, 60)] * 5, now_ms=T0 + 4 * DAY_MS + 5)}  # day 4 still open
    market = market_cvd(open_day, day(0), window=pd.Timedelta(days=30))
    assert market.total == 100.0 and market.includes_provisional
    assert math.isnan(market.change_usd)  # five days of history do not make a 30-day change
    assert market.buy_sell_ratio_window == pytest.approx(300 / 200)  # the window's bars that exist
    # From a start inside the data: the bars before it count nowhere.
    later = market_cvd(frames(), day(3), window=pd.Timedelta(days=3))
    assert later.cumulative.tolist() == [-10.0, -20.0] and later.buy_sell_ratio == pytest.approx(340 / 360)


def test_no_pair_with_known_taker_data_is_unknown_not_zero() -> None:
    unknown = {"D": klines([(100, None)] * 5)}
    market = market_cvd(unknown, day(0))
    assert market.pairs == 0 and math.isnan(market.total)
    assert math.isnan(market.change_usd) and math.isnan(market.buy_sell_ratio)
    assert math.isnan(market.buy_sell_ratio_window)
    empty = market_cvd({}, day(0))
    assert empty.pairs == 0 and math.isnan(empty.total) and empty.as_of is None
