"""MarketState: the latest data of every feed, bounded so memory does not grow with uptime.

Feeds write here; view-model builders read. Frames are trimmed on every write (intraday to 26 h, hourly to the
configured window, daily from the CVD start), so a console left open for days holds a constant amount of data.
Each field is named and typed for what it holds; feeds *replace* what they store (never mutate it in place), and
the scheduler bumps ``version[feed]`` after every delivery: those versions are the keys the view layer's memo
rebuilds on (:mod:`tui.views.memo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: importing this module stays cheap (no pandas before first paint)
    import pandas as pd

    from analytics.liquidations import LiquidationTape
    from analytics.market_cvd import MarketPairs
    from records.derivs import DerivsSnapshot, LongShortRatio, OpenInterest
    from sources.alternative_me import FearGreed
    from sources.binance_spot import Ticker24h
    from sources.coingecko import GlobalMarket
    from sources.farside import EtfFlows
    from sources.fred import FredSeries
    from sources.ws import OkxContracts, StreamStatus
    from sources.yahoo import EquityBars
    from tui.runtime.global_history import GlobalHistory

class LiquidationFeed(Protocol):
    """What the console reads of a liquidation stream: a running one (:class:`sources.ws.LiquidationStream`) or a
    follower's mirror of the collector's (:class:`tui.runtime.follow.MirroredStream`)."""

    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def lower_bound(self) -> bool: ...
    @property
    def records(self) -> int: ...
    @property
    def connections(self) -> int: ...
    def status(self) -> StreamStatus: ...
    def stop(self) -> None: ...


INTRADAY_KEEP_MS = 26 * 3_600_000
#: The version key of the liquidation tape: streams bump it on records and on state changes (it is no polled feed).
TAPE = "liq_tape"

#: At most this many coins are watched at once (the one in the coin detail and the last ones viewed): each costs a
#: few requests per cycle (:mod:`tui.runtime.feeds_watched`) and a few frames of memory.
MAX_WATCHED = 8
#: A coin stays watched this long (wall clock, seconds) after its detail closed: Esc and Enter again on the same
#: coin, or flipping between two coins, shows figures at once instead of "loading" each time.
WATCH_LINGER_S = 600.0


@dataclass
class WatchedCoins:
    """The coins in view outside the basket (the coin detail opened on a tail coin) and their per-coin data.

    The basket feeds fetch the configured coins; the watched feeds (:mod:`tui.runtime.feeds_watched`) fetch these,
    and keep what they fetch *here*, never in the basket's fields: ``alt_daily`` is summed into the basket CVD
    (and read by the market CVD for the basket's pairs), the OI and funding histories into the heatmap's totals
    and the drivers, so a coin looked at must not move a basket figure. Bounded: at most ``limit`` coins, the
    least recently viewed one (and all its data) going first; a coin that left view goes ``linger_s`` later.
    """

    limit: int = MAX_WATCHED
    linger_s: float = WATCH_LINGER_S
    #: coin -> when it left view (wall clock; None: in view now), least recently viewed first.
    left: dict[str, float | None] = field(default_factory=dict)
    daily: dict[str, pd.DataFrame] = field(default_factory=dict)  # coin -> Binance spot 1d klines since cvd.start
    hourly: dict[str, pd.DataFrame] = field(default_factory=dict)  # coin -> spot 1h klines, last cvd.hourly_days
    perp_daily: dict[str, pd.DataFrame] = field(default_factory=dict)  # coin -> Binance USD-M 1d klines
    oi_history: dict[str, pd.DataFrame] = field(default_factory=dict)  # coin -> Binance hourly OI, last ~25 h
    funding_history: dict[str, pd.DataFrame] = field(default_factory=dict)  # coin -> Bybit settled funding
    binance_oi: dict[str, OpenInterest] = field(default_factory=dict)  # coin -> Binance open interest now
    #: venue -> coin -> the latest long/short ratios of each kind the venue publishes for it.
    long_short: dict[str, dict[str, tuple[LongShortRatio, ...]]] = field(default_factory=dict)
    #: coin -> why its spot bars are missing ("no spot pair on Binance"): said in the detail, not a feed error.
    errors: dict[str, str] = field(default_factory=dict)
    #: watched feed -> the coins it has finished a fetch of since they came into view (the others are "loading").
    fetched: dict[str, set[str]] = field(default_factory=dict)

    @property
    def coins(self) -> list[str]:
        """The watched coins, most recently viewed first."""
        return list(reversed(self.left))

    def enter(self, coin: str) -> bool:
        """``coin`` came into view; True when it was not watched yet (its feeds should fetch it now)."""
        new = coin not in self.left
        self.left.pop(coin, None)
        self.left[coin] = None
        while len(self.left) > self.limit:
            self.drop(next(iter(self.left)))
        return new

    def leave(self, coin: str, now: float) -> None:
        """``coin`` left view at ``now``: it is dropped ``linger_s`` later unless it comes back."""
        if coin in self.left and self.left[coin] is None:
            self.left[coin] = now

    def expire(self, now: float) -> list[str]:
        """Drop the coins that left view more than ``linger_s`` before ``now``; returns them."""
        gone = [c for c, at in self.left.items() if at is not None and now - at >= self.linger_s]
        for coin in gone:
            self.drop(coin)
        return gone

    def drop(self, coin: str) -> None:
        """Forget ``coin`` and everything fetched for it."""
        self.left.pop(coin, None)
        held: list[dict[str, Any]] = [
            self.daily,
            self.hourly,
            self.perp_daily,
            self.oi_history,
            self.funding_history,
            self.binance_oi,
            self.errors,
            *self.long_short.values(),
        ]
        for per_coin in held:
            per_coin.pop(coin, None)
        for coins in self.fetched.values():
            coins.discard(coin)


@dataclass
class MarketState:
    """The console's market data, one named field per kind; None until its feed first delivers."""

    # Bitcoin and the altcoin basket (Binance spot).
    btc_ticker: Ticker24h | None = None
    btc_intraday: pd.DataFrame | None = None  # 5m klines, last ~26 h
    btc_monthly: pd.DataFrame | None = None  # 1M klines since listing (all-time high)
    alt_daily: dict[str, pd.DataFrame] = field(default_factory=dict)  # coin -> 1d klines since cvd.start
    alt_hourly: dict[str, pd.DataFrame] = field(default_factory=dict)  # coin -> 1h klines, last cvd.hourly_days
    coin_errors: dict[str, str] = field(default_factory=dict)  # coin -> why its data is missing
    #: coin -> Binance USD-M perpetual 1d klines since cvd.start (perp CVD); a coin without a perp is absent.
    perp_daily: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: Market-wide CVD (every Binance spot altcoin pair in the quote, :mod:`analytics.market_cvd`): the listing it
    #: counts; base asset -> 1d klines since cvd.start (from its listing for a pair listed later) of the pairs
    #: outside the basket (``alt_daily`` holds the basket's); pair -> why its last fetch failed.
    spot_pairs: MarketPairs | None = None
    market_daily: dict[str, pd.DataFrame] = field(default_factory=dict)
    market_errors: dict[str, str] = field(default_factory=dict)
    # Derivatives: the latest bulk snapshot per venue, Binance OI, funding and OI history, the liquidation tape.
    derivs: dict[str, DerivsSnapshot] = field(default_factory=dict)  # venue -> its latest bulk snapshot
    binance_oi: list[OpenInterest] = field(default_factory=list)  # one call per coin (no bulk OI on Binance)
    funding_history: pd.DataFrame | None = None  # long frame (time, coin, exchange, rate_8h), last N 8h periods
    oi_history: pd.DataFrame | None = None  # long frame (time, coin, exchange, oi_usd), last ~25 h
    liq_tape: LiquidationTape | None = None  # bounded: 35 days / 1M rows
    #: venue -> its stream (a follower's mirror the collector's: :class:`tui.runtime.follow.MirroredStream`)
    liq_streams: dict[str, LiquidationFeed] = field(default_factory=dict)
    #: False in a one-pass snapshot that does not listen to the streams: the cascade then reads the recorded tape,
    #: every venue on it (a stream this process never opened is not "offline" news about the tape).
    liq_listening: bool = True
    okx_contracts: OkxContracts | None = None  # OKX contract sizes, shared by stream and REST fallback
    #: venue -> symbols of its crypto USDT perpetuals trading now (exchangeInfo / instruments lists); a venue
    #: missing here is not filtered (yet): stock and commodity perps are dropped once the list is known.
    perp_universe: dict[str, frozenset[str]] = field(default_factory=dict)
    #: venue -> the latest long/short ratio of each basket coin and kind it lists (tui/runtime/feeds_positioning.py)
    long_short: dict[str, tuple[LongShortRatio, ...]] = field(default_factory=dict)
    # ETF flows, sentiment and macro (tui/runtime/feeds_macro.py).
    etf_btc: EtfFlows | None = None  # US spot BTC ETF daily net flows (Farside)
    etf_eth: EtfFlows | None = None  # US spot ETH ETF daily net flows (Farside)
    fear_greed: FearGreed | None = None  # alternative.me Fear & Greed
    global_market: GlobalMarket | None = None  # CoinGecko /global: dominance, stablecoin share
    global_history: GlobalHistory | None = None  # the /global snapshots kept (CoinGecko has no free history)
    coin_markets: pd.DataFrame | None = None  # CoinGecko /coins/markets top 250 (small vs large caps, 30d changes)
    #: DefiLlama's daily USD stablecoin supply (``supply_usd`` by UTC day, last ~400 days): the stablecoin-share
    #: change's estimate until 30 days of /global snapshots are kept.
    stablecoin_supply: pd.DataFrame | None = None
    spy: EquityBars | None = None  # SPY daily bars, or the S&P 500 index standing in (``proxy_for``)
    us2y: FredSeries | None = None  # FRED DGS2, the US 2-year Treasury yield
    #: Coins in view outside the basket and their per-coin data, kept apart from the basket's (see the class).
    watched: WatchedCoins = field(default_factory=WatchedCoins)
    #: The coin on the detail screen (basket coins too; None: no detail up), set by the coin screen: its settled
    #: funding on Binance, OKX and Hyperliquid is fetched while it is up (:mod:`tui.runtime.feeds_venue_funding`).
    coin_in_view: str | None = None
    #: venue -> coin -> that coin's settled funding (``FUNDING_HISTORY_COLUMNS``) over the heatmap's history periods;
    #: at most ``MAX_WATCHED`` coins a venue. Read by the coin detail's funding chart only, never by a basket figure.
    venue_funding: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    #: feed (or :data:`TAPE`) -> how many times it delivered: the data versions views rebuild on.
    version: dict[str, int] = field(default_factory=dict)

    def bump(self, name: str) -> None:
        self.version[name] = self.version.get(name, 0) + 1
