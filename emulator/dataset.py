"""The data an emulator serves from: one container for the demo simulation and for replayed real history.

Every frame uses explicit units and UTC epoch milliseconds, so the endpoint handlers only have to reformat it into
each provider's wire format and cut it at the virtual time. A field left ``None`` (or an empty dict) means the
dataset has no such data; the matching endpoints then answer the way the provider does for an unknown symbol, and
the console shows the figure as unknown, never as zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

#: The market whose klines answer the Binance spot endpoints (``MarketDataset.spot_klines``).
SPOT = "binance_spot"
#: Binance USD-M perpetuals (traded klines, with the taker split when the files have it).
USDM = "binance_usdm"

#: Columns of a spot kline frame (Binance semantics; quote in USDT). Taker columns may be NaN when the source
#: files carry no taker split (OHLCV-only history): CVD is then unknown.
KLINE_COLUMNS = [
    "open_time",  # int64 epoch ms
    "open",
    "high",
    "low",
    "close",
    "volume",  # base coin
    "quote_volume",  # USDT
    "count",  # trades
    "taker_buy_volume",  # base coin, NaN if unknown
    "taker_buy_quote_volume",  # USDT, NaN if unknown
]


@dataclass
class MarketDataset:
    """Everything the emulator can serve.

    markets: market (``"binance_spot"``, ``"binance_usdm"``, ``"binance_usdm_mark"``, ``"bybit_linear"``, ...) ->
        symbol (``"BTCUSDT"``) -> base interval in ms -> frame with :data:`KLINE_COLUMNS`, sorted by ``open_time``.
        Several resolutions may be stored (e.g. hourly history and minute bars for recent days); a handler
        aggregates the finest one that divides the requested interval, never across markets.
    spot_klines: ``markets["binance_spot"]`` (the same dict), what the Binance spot endpoints serve.
    funding: long frame ``time`` (ms), ``exchange`` (binance|bybit|okx|hyperliquid), ``coin`` (``"BTC"``),
        ``rate`` (fraction per funding interval), ``interval_hours``; one row per settled funding period.
    open_interest: long frame ``time`` (ms), ``exchange``, ``coin``, ``oi_base`` (coins), ``price`` (USD mark).
    liquidations: long frame ``time`` (ms), ``exchange``, ``coin``, ``side`` ("long"|"short": the position that
        was liquidated), ``qty`` (coins), ``price`` (USD).
    etf_flows: ``"btc"``/``"eth"`` -> frame indexed by trading date (``datetime.date``), one column per fund
        ticker in **US dollars**, plus ``Total``; NaN = not reported.
    fear_greed: ``time`` (ms, day start UTC), ``value`` (0-100), ``classification``.
    global_market: ``time`` (ms), ``total_mcap_usd``, ``total_volume_usd``, and ``pct_<sym>`` columns for the
        top coins' market-cap share in percent (``pct_btc``, ``pct_eth``, ``pct_usdt``, ``pct_usdc``, ...).
    coin_markets: ``time`` (ms), ``id``, ``symbol``, ``name``, ``price``, ``market_cap``, ``rank``; daily
        snapshots of the top coins by market cap.
    stablecoin_supply: ``time`` (ms, UTC day start), ``pegged_usd`` (USD value of the USD-pegged stablecoins)
        and optional ``pegged_eur`` (USD value of the EUR-pegged ones); DefiLlama's daily chart.
    equities: ticker (``"SPY"``) -> daily frame ``time`` (ms, session open UTC), ``open``, ``high``, ``low``,
        ``close``, ``volume``.
    rates: FRED series id (``"DGS2"``) -> frame ``time`` (ms, date UTC), ``value`` (percent; NaN = holiday).
    long_short: long frame ``time`` (ms), ``exchange`` (binance|bybit), ``coin``, ``kind`` (``accounts``: every
        account with a position; ``top_positions``: the top traders' positions), ``long_share`` (fraction of
        accounts, or of position size, net long; the short share is the rest); sampled on a grid, the routes serve
        the last sample at or before each period's time stamp. None (replayed history): the routes answer a
        listed symbol with an empty list, as the venues do for a symbol without statistics.
    history_source: where the older bars of a symbol come from when its stored frames keep only recent ones
        (``(market, symbol) -> every bar's frames``, None for a symbol whose stored frames are complete); see
        :meth:`history`. None (replayed history, most tests): every stored frame is complete.
    """

    name: str
    simulated: bool
    spot_klines: dict[str, dict[int, pd.DataFrame]] = field(default_factory=dict)
    funding: pd.DataFrame | None = None
    open_interest: pd.DataFrame | None = None
    liquidations: pd.DataFrame | None = None
    etf_flows: dict[str, pd.DataFrame] = field(default_factory=dict)
    fear_greed: pd.DataFrame | None = None
    global_market: pd.DataFrame | None = None
    coin_markets: pd.DataFrame | None = None
    stablecoin_supply: pd.DataFrame | None = None
    equities: dict[str, pd.DataFrame] = field(default_factory=dict)
    rates: dict[str, pd.DataFrame] = field(default_factory=dict)
    long_short: pd.DataFrame | None = None
    markets: dict[str, dict[str, dict[int, pd.DataFrame]]] = field(default_factory=dict)
    #: The earliest and latest instants any data covers (ms): ``--at`` must lie in this span.
    start_ms: int | None = None
    data_end_ms: int | None = None
    #: The default ``--at``: the last complete time common to the price data; ``end_note`` says how it was chosen.
    end_ms: int | None = None
    end_note: str = ""
    #: What the loader found worth telling (conflicting duplicates, dropped non-session rows) and skipped files.
    load_notes: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    history_source: Callable[[str, str], dict[int, pd.DataFrame] | None] | None = None

    def __post_init__(self) -> None:
        # One dict under two names: ``spot_klines`` is the Binance spot market.
        if self.spot_klines and SPOT not in self.markets:
            self.markets[SPOT] = self.spot_klines
        self.spot_klines = self.markets.setdefault(SPOT, self.spot_klines)
        if self.data_end_ms is None:
            self.data_end_ms = self.end_ms

    @property
    def perp_klines(self) -> dict[str, dict[int, pd.DataFrame]]:
        """Binance USD-M perpetual klines (``markets["binance_usdm"]``), empty when the dataset has none."""
        return self.markets.get(USDM, {})

    def history(self, market: str, symbol: str) -> dict[int, pd.DataFrame]:
        """Every bar of ``symbol`` on ``market``: its stored frames or, where those keep only the recent bars (the
        demo's long tail, :class:`emulator.demo_tail.TailHistory`), the whole history. Empty when it is not listed."""
        if self.history_source is not None:
            full = self.history_source(market, symbol)
            if full is not None:
                return full
        return self.markets.get(market, {}).get(symbol) or {}
