"""ETF flow, sentiment and macro feeds: Farside (BTC and ETH ETFs), alternative.me Fear & Greed, CoinGecko
``/global`` and ``/coins/markets``, SPY/QQQ daily (Yahoo, Stooq fallback) and FRED's 2-year yield.

These providers publish slowly (daily, or every few minutes) and some have tight keyless limits, so cadences are
long (config ``[cadence]``). CoinGecko keeps no free dominance history: each ``/global`` snapshot is appended to a
bounded history (kept in the user's data directory in live mode, so the 30-day change survives restarts).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tui.config import Config
from tui.modes import Runtime
from tui.scheduler import Feed
from tui.state import MarketState

log = logging.getLogger(__name__)
GLOBAL_HISTORY_DAYS = 45
GLOBAL_COLUMNS = ["time", "btc_dominance_pct", "stablecoin_share_pct", "total_mcap_usd"]


def global_history_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("altpulse", appauthor=False)) / "coingecko_global.csv"


class GlobalHistory:
    """Bounded history of CoinGecko ``/global`` snapshots (one row per fetch, last 45 days)."""

    def __init__(self, path: Path | None) -> None:
        import pandas as pd

        self.path = path
        self.frame = pd.DataFrame(columns=GLOBAL_COLUMNS)
        if path is not None and path.is_file():
            try:
                loaded = pd.read_csv(path)
                if list(loaded.columns) == GLOBAL_COLUMNS:
                    loaded["time"] = pd.to_datetime(loaded["time"], utc=True)
                    self.frame = loaded.dropna()
            except (OSError, ValueError) as exc:  # a damaged file is not worth failing the feed for
                log.warning("ignoring unreadable %s: %s", path, exc)

    def add(self, snapshot: Any) -> None:
        import pandas as pd

        row = pd.DataFrame([{
            "time": pd.Timestamp(snapshot.time), "btc_dominance_pct": snapshot.btc_dominance_pct,
            "stablecoin_share_pct": snapshot.stablecoin_share_pct, "total_mcap_usd": snapshot.total_mcap_usd,
        }])  # fmt: skip
        frame = pd.concat([self.frame, row], ignore_index=True) if len(self.frame) else row
        frame = frame.drop_duplicates("time", keep="last").sort_values("time")
        cutoff = frame["time"].iloc[-1] - pd.Timedelta(days=GLOBAL_HISTORY_DAYS)
        self.frame = frame[frame["time"] >= cutoff].reset_index(drop=True)
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.frame.to_csv(self.path, index=False)
            except OSError as exc:
                log.warning("cannot save %s: %s", self.path, exc)


def build_macro_feeds(config: Config, runtime: Runtime, state: MarketState) -> list[Feed]:
    from sources.alternative_me import AlternativeMe
    from sources.coingecko import CoinGecko
    from sources.farside import FarsideEtf
    from sources.fred import Fred
    from sources.stooq import Stooq
    from sources.yahoo import YahooChart, equity_daily

    src = config["sources"]
    cadence = config["cadence"]
    farside = FarsideEtf(runtime.http, src["farside"])
    fng = AlternativeMe(runtime.http, src["alternative_me"])
    gecko = CoinGecko(runtime.http, src["coingecko"])
    yahoo = YahooChart(runtime.http, src["yahoo"])
    stooq = Stooq(runtime.http, src["stooq"])
    fred = Fred(runtime.http, src["fred"])
    history = GlobalHistory(global_history_path() if runtime.mode == "live" else None)
    state.extra["global_history"] = history

    async def etf_btc() -> None:
        state.extra["etf_btc"] = await farside.btc_flows()
        state.bump("etf")

    async def etf_eth() -> None:
        state.extra["etf_eth"] = await farside.eth_flows()
        state.bump("etf")

    async def fear_greed() -> None:
        state.extra["fear_greed"] = await fng.fear_greed(limit=60)
        state.bump("macro")

    async def global_market() -> None:
        snapshot = await gecko.global_market()
        state.extra["global"] = snapshot
        history.add(snapshot)
        state.bump("macro")

    async def coin_markets() -> None:
        state.extra["coin_markets"] = await gecko.coin_markets(per_page=100)
        state.bump("macro")

    async def equities() -> None:
        state.extra["spy"] = await equity_daily(yahoo, stooq, "SPY")
        state.bump("macro")

    async def rates() -> None:
        state.extra["dgs2"] = await fred.series("DGS2")
        state.bump("macro")

    return [
        Feed("etf_btc", "farside", cadence["etf"], etf_btc),
        Feed("etf_eth", "farside", cadence["etf"], etf_eth),
        Feed("fear_greed", "alternative.me", cadence["fear_greed"], fear_greed),
        Feed("cg_global", "coingecko", cadence["coingecko"], global_market),
        # /coins/markets changes slowly and CoinGecko's keyless tier is tight: poll it at a third of /global.
        Feed("cg_markets", "coingecko", cadence["coingecko"] * 3, coin_markets),
        Feed("equities", "yahoo", cadence["equities"], equities),
        Feed("rates", "fred", cadence["rates"], rates),
    ]
