"""ETF flow, sentiment and macro feeds: Farside (BTC and ETH ETFs), alternative.me Fear & Greed, CoinGecko
``/global`` and ``/coins/markets``, DefiLlama's stablecoin supply, SPY/QQQ daily (Yahoo; Stooq with a user's key)
and FRED's 2-year yield.

These providers publish slowly (daily, or every few minutes) and some have tight keyless limits, so cadences are
long (config ``[cadence]``). CoinGecko keeps no free dominance history: each ``/global`` snapshot is appended to a
bounded history (kept in the user's data directory in live mode, so the 30-day change survives restarts); until it
spans 30 days the changes are estimated from ``/coins/markets``' 30-day price changes and DefiLlama's supply.
"""

from __future__ import annotations

from typing import Any

from tui.runtime.config import Config
from tui.runtime.global_history import GlobalHistory, global_history_path
from tui.runtime.modes import Runtime
from tui.runtime.scheduler import Delivered, Feed
from tui.runtime.state import MarketState


def build_macro_feeds(config: Config, runtime: Runtime, state: MarketState) -> list[Feed]:
    from sources.alternative_me import AlternativeMe
    from sources.coingecko import CoinGecko
    from sources.defillama import DefiLlama
    from sources.farside import FarsideEtf
    from sources.fred import Fred
    from sources.stooq import Stooq
    from sources.yahoo import YahooChart

    src = config.sources
    cadence = config.cadence
    farside = FarsideEtf(runtime.http, src.farside)
    fng = AlternativeMe(runtime.http, src.alternative_me)
    gecko = CoinGecko(runtime.http, src.coingecko)
    llama = DefiLlama(runtime.http, src.defillama)
    yahoo = YahooChart(runtime.http, src.yahoo)
    # Stooq needs a key since 2026: without one it is not asked at all (Yahoo alone, then the S&P index proxy).
    stooq = Stooq(runtime.http, src.stooq, src.stooq_apikey) if src.stooq_apikey else None
    fred = Fred(runtime.http, src.fred)
    # Live keeps its CSV too (what a console that does not record restarts from); the store restores it otherwise.
    live = runtime.mode == "live"
    history = GlobalHistory(global_history_path() if live else None, save=live)
    state.global_history = history

    async def etf_btc() -> Delivered:
        flows = await farside.btc_flows()
        state.etf_btc = flows
        return Delivered(_day_ms(flows.last_complete))

    async def etf_eth() -> Delivered:
        flows = await farside.eth_flows()
        state.etf_eth = flows
        return Delivered(_day_ms(flows.last_complete))

    async def fear_greed() -> Delivered:
        fng_data = await fng.fear_greed(limit=60)
        state.fear_greed = fng_data
        return Delivered(_day_ms(fng_data.as_of))

    async def global_market() -> Delivered:
        snapshot = await gecko.global_market()
        state.global_market = snapshot
        history.add(snapshot)
        return Delivered(_day_ms(snapshot.time))

    async def coin_markets() -> None:
        # The top 250 in one call: their 30-day changes estimate the market a month ago (dominance bootstrap).
        state.coin_markets = await gecko.coin_markets(per_page=250)

    async def stablecoins() -> Delivered:
        supply = await llama.stablecoin_supply()
        state.stablecoin_supply = supply.iloc[-STABLECOIN_KEEP_DAYS:]
        return Delivered(_day_ms(supply.index[-1]))

    async def equities() -> Delivered:
        bars = await us_equities(yahoo, stooq, runtime.now_ms())
        state.spy = bars
        return Delivered(_day_ms(bars.as_of))

    async def rates() -> Delivered:
        series = await fred.series("DGS2")
        state.us2y = series
        return Delivered(_day_ms(series.as_of))

    day = 86_400.0
    return [
        # Daily data has calendar ages: the newest complete ETF day is at most a long weekend old (a Friday seen on
        # a holiday Tuesday evening), Fear & Greed updates every midnight, FRED publishes DGS2 a business day late.
        Feed("etf_btc", "farside", cadence.etf, etf_btc, max_data_age=ETF_MAX_AGE_DAYS * day),
        Feed("etf_eth", "farside", cadence.etf, etf_eth, max_data_age=ETF_MAX_AGE_DAYS * day),
        Feed("fear_greed", "alternative.me", cadence.fear_greed, fear_greed, max_data_age=2 * day),
        Feed("cg_global", "coingecko", cadence.coingecko, global_market, max_data_age=3600.0),
        # /coins/markets changes slowly and CoinGecko's keyless tier is tight: poll it at a third of /global.
        Feed("cg_markets", "coingecko", cadence.coingecko * 3, coin_markets),
        # A daily series whose newest point is the running day: a day or two old is current.
        Feed("llama_stablecoins", "defillama", cadence.defillama, stablecoins, max_data_age=3 * day),
        Feed("equities", "yahoo", cadence.equities, equities, max_data_age=EQUITY_MAX_AGE_DAYS * day),
        Feed("rates", "fred", cadence.rates, rates, max_data_age=7 * day),
    ]


#: A session's bar (or an ETF day) counts as current for this many calendar days: a Friday is still the newest
#: session on the Tuesday after a long weekend.
EQUITY_MAX_AGE_DAYS = 5.5
ETF_MAX_AGE_DAYS = 5.5
#: Days of DefiLlama's stablecoin supply kept (its whole history is ~3,000 days; windows are at most months).
STABLECOIN_KEEP_DAYS = 400


def _day_ms(when: Any) -> float | None:
    """Epoch ms of a date or timestamp (a date is its UTC midnight); None passes through."""
    import pandas as pd

    if when is None:
        return None
    stamp = pd.Timestamp(when)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return float(stamp.value // 1_000_000)


async def us_equities(yahoo: Any, stooq: Any, now_ms: int, sessions: int = 5) -> Any:
    """SPY daily bars; where SPY is missing, stale, or too short for a ``sessions`` change, and the S&P 500 index
    (``^GSPC``) serves better, the index stands in, labelled as a proxy (``EquityBars.proxy_for == "SPY"``): both
    measure the same US large caps."""
    from dataclasses import replace

    from sources.errors import SourceError
    from sources.yahoo import equity_daily

    max_age_ms = EQUITY_MAX_AGE_DAYS * 86_400_000

    def usable(bars: Any) -> bool:
        as_of = None if bars is None else _day_ms(bars.as_of)
        fresh = as_of is not None and now_ms - as_of <= max_age_ms
        return fresh and int(bars.frame["close"].notna().sum()) > sessions

    spy: Any = None
    error: SourceError | None = None
    try:
        spy = await equity_daily(yahoo, stooq, "SPY")
    except SourceError as exc:
        error = exc
    if usable(spy):
        return spy
    try:
        index = await yahoo.daily("^GSPC")
    except SourceError:
        index = None
    if usable(index):
        return replace(index, proxy_for="SPY")
    if spy is not None:
        return spy
    assert error is not None
    raise error
