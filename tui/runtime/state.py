"""MarketState: the latest data of every feed, bounded so memory does not grow with uptime.

Feeds write here; view-model builders read. Frames are trimmed on every write (intraday to 26 h, hourly to the
configured window, daily from the CVD start), so a console left open for days holds a constant amount of data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INTRADAY_KEEP_MS = 26 * 3_600_000


@dataclass
class MarketState:
    """Plain containers; pandas frames are typed ``Any`` so importing this module stays cheap."""

    btc_ticker: Any = None  # sources.binance_spot.Ticker24h
    btc_intraday: Any = None  # 5m klines, last ~24 h
    btc_monthly: Any = None  # 1M klines since listing (all-time high)
    alt_daily: dict[str, Any] = field(default_factory=dict)  # coin -> 1d klines since cvd.start
    alt_hourly: dict[str, Any] = field(default_factory=dict)  # coin -> 1h klines, last cvd.hourly_days
    coin_errors: dict[str, str] = field(default_factory=dict)  # coin -> why its data is missing
    # Derivatives: the latest bulk snapshot per venue, Binance OI, funding and OI history, the liquidation tape.
    derivs: dict[str, Any] = field(default_factory=dict)  # venue -> sources.symbols.DerivsSnapshot
    binance_oi: list[Any] = field(default_factory=list)  # sources.symbols.OpenInterest (one call per coin)
    funding_history: Any = None  # long frame (time, coin, exchange, rate_8h), last N 8h periods
    oi_history: Any = None  # long frame (time, coin, exchange, oi_usd), last ~25 h
    liq_tape: Any = None  # analytics.liquidations.LiquidationTape (bounded: 35 days / 1M rows)
    liq_streams: dict[str, Any] = field(default_factory=dict)  # venue -> sources.ws.LiquidationStream
    okx_contracts: Any = None  # sources.ws.OkxContracts: OKX contract sizes, shared by stream and REST fallback
    #: venue -> symbols of its crypto USDT perpetuals trading now (exchangeInfo / instruments lists); a venue
    #: missing here is not filtered (yet): stock and commodity perps are dropped once the list is known.
    perp_universe: dict[str, frozenset[str]] = field(default_factory=dict)
    # ETF, sentiment and macro feeds fill these (see tui/runtime/feeds_macro.py).
    extra: dict[str, Any] = field(default_factory=dict)
    version: dict[str, int] = field(default_factory=dict)  # feed -> bumps on each update (cheap change checks)
    #: The last liquidation-cascade evaluations (key -> result): the pane and the driver both ask each tick.
    cascade_memo: dict[Any, Any] = field(default_factory=dict)

    def bump(self, name: str) -> None:
        self.version[name] = self.version.get(name, 0) + 1
