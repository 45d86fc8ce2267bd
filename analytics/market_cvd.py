"""Market-wide altcoin CVD: the taker flow of every Binance spot altcoin pair, not only the curated basket.

Market meaning: the basket says what twenty large altcoins did; the market figure says whether spot money left
altcoins as a whole. It is our Binance-spot-only counterpart of the aggregate "altcoin CVD" figures quoted from
CryptoQuant (e.g. "-$209B" since 2025): theirs sums many exchanges, Binance being one, so ours is smaller in size
and should agree in direction, not in dollars.

Which pairs count (:func:`select_pairs`): every pair of Binance's listing that is trading now (status ``TRADING``,
spot orders allowed) in the quote asset (USDT ~ USD), except

* BTC, which the console shows on its own (the figure is about *alt*coins);
* the base assets of ``cvd.market_exclude``: stablecoins and fiat (a taker buying USDC with USDT swaps currencies,
  it does not buy altcoins) and wrapped or pegged assets (WBTC's flow is bitcoin's, PAXG's is gold's);
* leveraged tokens: a pair carrying Binance's ``LEVERAGED`` permission, or whose base asset matches a pattern of
  ``cvd.market_exclude_patterns`` (``*UP``) with the ``*`` standing for a base asset itself listed in the quote
  (``BTCUP``: BTC is listed, so it goes; ``JUP`` or ``SYRUP`` stay, as no ``J`` or ``SYR`` is listed);
* a pair whose symbol is not its base followed by its quote (never seen; the console's records rely on it).

Pairs delisted before now are not in the listing, so their past flow is not counted (a survivorship bias the
figure shares with any "current listing" universe).

How the figures are summed (:func:`market_cvd`, with :func:`analytics.cvd.basket` doing the sums): per day, the
taker-buy minus taker-sell quote volume of every counted pair, cumulated from ``since`` (``cvd.start``). A pair
listed after ``since`` contributes from its first daily bar (its listing day) on: its first bar is its first term,
nothing is back-filled before it, so the market CVD neither jumps nor counts days it did not trade. A pair with an
unknown taker split (NaN, e.g. OHLCV-only replay history), no bars, or no bar on the market's latest day (a stale
or failed fetch) is **excluded**, never counted as zero; ``MarketCVD.excluded`` says which and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np
import pandas as pd

from analytics.cvd import basket

__all__ = ["ListedPair", "MarketCVD", "MarketPairs", "market_cvd", "select_pairs"]

THIRTY_DAYS = pd.Timedelta(days=30)


class ListedPair(Protocol):
    """One pair of the exchange's listing (:class:`sources.binance_spot.SpotSymbol` is one)."""

    @property
    def symbol(self) -> str: ...
    @property
    def base(self) -> str: ...
    @property
    def quote(self) -> str: ...
    @property
    def trading(self) -> bool: ...
    @property
    def leveraged(self) -> bool: ...


@dataclass(frozen=True)
class MarketPairs:
    """The pairs the market CVD counts, from one listing: ``symbols`` base asset -> symbol (``"ETH"`` ->
    ``"ETHUSDT"``); ``excluded`` symbol -> why a trading pair in the quote is left out; ``not_trading`` how many
    pairs in the quote are listed but not trading (halted, delisted, cancel-only); ``as_of_ms`` the listing's time."""

    quote: str
    symbols: dict[str, str]
    excluded: dict[str, str] = field(default_factory=dict)
    not_trading: int = 0
    as_of_ms: int = 0


def _pattern(text: str) -> re.Pattern[str]:
    """``*UP`` -> a regex whose one group is what the ``*`` stands for."""
    return re.compile("".join("(.+)" if ch == "*" else re.escape(ch) for ch in text))


def select_pairs(
    listing: Iterable[ListedPair],
    quote: str,
    *,
    exclude: Iterable[str] = (),
    patterns: Iterable[str] = (),
    as_of_ms: int = 0,
) -> MarketPairs:
    """The listing's pairs the market CVD counts (rules in the module docstring), with the reason for each trading
    pair in ``quote`` it leaves out. ``exclude`` are base assets, ``patterns`` shell-style with one ``*``."""
    pairs = [p for p in listing if p.quote == quote]
    listed = {p.base for p in pairs}
    excluded_assets = {a.upper() for a in exclude}
    compiled = [(text, _pattern(text.upper())) for text in patterns]
    symbols: dict[str, str] = {}
    excluded: dict[str, str] = {}
    not_trading = 0
    for pair in pairs:
        if not pair.trading:
            not_trading += 1
            continue
        reason = None
        if pair.base == "BTC":
            reason = "BTC (shown on its own)"
        elif pair.base in excluded_assets:
            reason = "cvd.market_exclude (stablecoin, wrapped or pegged)"
        elif pair.leveraged:
            reason = "leveraged token (LEVERAGED permission)"
        elif pair.symbol != pair.base + pair.quote:
            reason = "symbol is not base + quote"
        else:
            for text, regex in compiled:
                match = regex.fullmatch(pair.base)
                if match is not None and all(stem in listed for stem in match.groups()):
                    reason = f"leveraged token (matches {text})"
                    break
        if reason is None and pair.base in symbols:
            reason = f"{pair.base} listed twice"
        if reason is None:
            symbols[pair.base] = pair.symbol
        else:
            excluded[pair.symbol] = reason
    return MarketPairs(quote, symbols, excluded, not_trading, as_of_ms)


@dataclass(frozen=True)
class MarketCVD:
    """The market's CVD from ``since`` in USD (taker-buy minus taker-sell quote volume over the counted pairs).

    ``cumulative``: the running total per daily bar; ``change_usd``: its change over the last ``window`` (NaN when
    the history is shorter); ``buy_sell_ratio``: taker-buy / taker-sell quote volume since ``since``,
    ``buy_sell_ratio_window`` the same over the last ``window`` (< 1: more selling); ``pairs``: how many pairs the
    figures count; ``listed_after_start``: those of them whose first bar is after ``since`` (counted from their
    listing); ``excluded``: pair -> why it is left out (unknown taker split, no data, stale).
    """

    since: pd.Timestamp
    window: pd.Timedelta
    cumulative: pd.Series
    change_usd: float
    buy_sell_ratio: float
    buy_sell_ratio_window: float
    pairs: int
    listed_after_start: tuple[str, ...] = ()
    excluded: dict[str, str] = field(default_factory=dict)
    includes_provisional: bool = False
    as_of: pd.Timestamp | None = None

    @property
    def total(self) -> float:
        """Market CVD at the latest bar (USD); NaN when no pair is counted."""
        return float(self.cumulative.iloc[-1]) if self.pairs and len(self.cumulative) else float("nan")


def _window_ratio(frames: Mapping[str, pd.DataFrame], pairs: list[str], start: pd.Timestamp,
                  since: pd.Timestamp) -> float:  # fmt: skip
    """Sum of taker-buy over sum of taker-sell quote volume of ``pairs``' bars opened after ``start`` (and not
    before ``since``)."""
    buy = sell = 0.0
    for pair in pairs:
        frame = frames[pair]
        first = max(frame.index.searchsorted(start, side="right"), frame.index.searchsorted(since, side="left"))
        rows = frame.iloc[first:]
        taker = rows["taker_buy_quote"].to_numpy(np.float64)
        total = rows["quote_volume"].to_numpy(np.float64)
        buy += float(taker.sum())
        sell += float((total - taker).sum())
    return buy / sell if pairs and sell > 0 else float("nan")


def market_cvd(
    frames: Mapping[str, pd.DataFrame], since: pd.Timestamp, *, window: pd.Timedelta = THIRTY_DAYS
) -> MarketCVD:
    """Market CVD, its change and buy/sell ratio over ``window``, and the pairs covered (module docstring).

    ``frames``: pair -> daily kline frame (:func:`sources.binance_spot.parse_klines`), each the pair's whole history
    from ``since`` or its listing. Formulas (USD, counted pairs only; ``delta = 2 * taker_buy_quote -
    quote_volume``): ``cumulative_t = sum over days <= t of sum_pairs delta``; ``change_usd = sum of the daily sums
    of bars opened after as_of - window``; ``buy_sell_ratio = sum taker_buy_quote / sum (quote_volume -
    taker_buy_quote)``, since ``since`` or over the window.
    """
    window = pd.Timedelta(window)
    totals = basket(frames, since, windows={})
    counted = [pair for pair in frames if pair not in totals.unknown_reasons]
    since_ts = totals.since
    late = tuple(p for p in counted if len(frames[p]) and cast(pd.Timestamp, frames[p].index[0]) > since_ts)
    as_of = totals.as_of
    ratio_window = float("nan") if as_of is None else _window_ratio(frames, counted, as_of - window, since_ts)
    return MarketCVD(
        since=since_ts,
        window=window,
        cumulative=totals.cumulative.rename("market_cvd"),
        change_usd=totals.change(window) if counted else float("nan"),
        buy_sell_ratio=totals.buy_sell_ratio,
        buy_sell_ratio_window=ratio_window,
        pairs=len(counted),
        listed_after_start=late,
        excluded={p: r.replace(", basket at ", ", market at ") for p, r in totals.unknown_reasons.items()},
        includes_provisional=totals.includes_provisional,
        as_of=as_of,
    )
