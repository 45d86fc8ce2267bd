"""The store's tables and their migrations.

Every table holds normalised records with the provider (or venue) they came from and their market time in epoch
milliseconds. ``PRAGMA user_version`` is the schema version; :data:`MIGRATIONS` takes a store from any earlier
version to :data:`SCHEMA_VERSION`, one step at a time, each step in one transaction. ``PRAGMA application_id``
marks the file as altpulse's, so a foreign SQLite file is recognised and never written into.
"""

from __future__ import annotations

from dataclasses import dataclass

#: "altP": what ``PRAGMA application_id`` holds in a store (a foreign SQLite file holds something else, usually 0).
APPLICATION_ID = 0x616C7450


@dataclass(frozen=True)
class Table:
    """One recorded kind: its columns in order, the time column retention and spans read, and its key.

    ``key`` empty: an append-only log (every row kept); otherwise a later row with the same key replaces the
    earlier one (a bar still open, re-fetched; a fund's day revised by Farside)."""

    name: str
    columns: tuple[str, ...]
    time: str
    key: tuple[str, ...] = ()
    #: "liquidations" | "intraday" | "daily" | "keep": which retention of ``[store]`` applies.
    retention: str = "keep"


TABLES: dict[str, Table] = {t.name: t for t in (
    Table("liquidations", ("time", "exchange", "coin", "side", "qty", "price", "notional_usd", "session"),
          "time", retention="liquidations"),
    # Klines as the sources parse them (Binance semantics): market is binance_spot, the interval in ms.
    Table("klines", ("market", "symbol", "interval_ms", "open_time", "open", "high", "low", "close", "volume",
                     "quote_volume", "trades", "taker_buy_base", "taker_buy_quote", "close_time", "provisional"),
          "open_time", ("market", "symbol", "interval_ms", "open_time"), retention="by_interval"),
    # Funding as each venue's bulk call quoted it (the predicted/current rate), sampled at [store] funding_every.
    Table("funding", ("time", "exchange", "coin", "symbol", "rate", "interval_hours", "rate_8h", "mark_price",
                      "next_funding_time"), "time", ("exchange", "coin", "time"), retention="intraday"),
    # Settled funding periods (Bybit history): the coins x time view and a replay's funding.
    Table("funding_history", ("time", "exchange", "coin", "rate", "interval_hours", "rate_8h"), "time",
          ("exchange", "coin", "time"),
          retention="daily"),
    Table("open_interest", ("time", "exchange", "coin", "oi_base", "oi_usd"), "time", ("exchange", "coin", "time"),
          retention="intraday"),
    # US spot ETF daily net flows, US dollars, one row per fund and day (fund "Total" is Farside's total).
    Table("etf_flows", ("asset", "date", "fund", "flow_usd"), "date", ("asset", "date", "fund"), retention="daily"),
    # Macro and sentiment series, one value per series and time (ms): fear_greed (0-100, the day's UTC start);
    # cg.total_mcap_usd, cg.total_volume_usd, cg.btc_dominance_pct, cg.eth_dominance_pct, cg.stablecoin_share_pct
    # and cg.share.<symbol> (CoinGecko /global, the fetch time); equity.<SYMBOL>.<open|high|low|close|volume>
    # (daily bars, the session start; source "yahoo"/"stooq"); fred.<SERIES> (the observation date's midnight).
    Table("macro", ("series", "time", "value", "source"), "time", ("series", "time"), retention="daily"),
    Table("driver_flips", ("time", "driver", "state", "value", "session"), "time", retention="daily"),
    # The latest delivery of each feed, whole (what a follower shows): payload is JSON (tui.runtime.state_codec).
    Table("feed_state", ("feed", "seq", "wall_ms", "market_ms", "data_ms", "health", "payload"), "market_ms",
          ("feed",), retention="keep"),
)}  # fmt: skip

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL,            -- console | collector | seed
    mode TEXT NOT NULL,            -- live | demo
    pid INTEGER,
    started_ms INTEGER NOT NULL,   -- market clock
    heartbeat_ms INTEGER NOT NULL, -- market clock of the last committed batch: the session covers [started, heartbeat]
    ended_ms INTEGER               -- set on a clean exit; NULL after a crash or kill -9
);
CREATE TABLE liquidations (
    time INTEGER NOT NULL, exchange TEXT NOT NULL, coin TEXT NOT NULL, side TEXT NOT NULL,
    qty REAL NOT NULL, price REAL NOT NULL, notional_usd REAL NOT NULL, session INTEGER
);
CREATE INDEX liquidations_time ON liquidations (time);
CREATE TABLE klines (
    market TEXT NOT NULL, symbol TEXT NOT NULL, interval_ms INTEGER NOT NULL, open_time INTEGER NOT NULL,
    open REAL, high REAL, low REAL, close REAL, volume REAL, quote_volume REAL, trades INTEGER,
    taker_buy_base REAL, taker_buy_quote REAL, close_time INTEGER, provisional INTEGER NOT NULL,
    PRIMARY KEY (market, symbol, interval_ms, open_time)
) WITHOUT ROWID;
CREATE TABLE funding (
    time INTEGER NOT NULL, exchange TEXT NOT NULL, coin TEXT NOT NULL, symbol TEXT, rate REAL NOT NULL,
    interval_hours REAL NOT NULL, rate_8h REAL NOT NULL, mark_price REAL, next_funding_time INTEGER,
    PRIMARY KEY (exchange, coin, time)
) WITHOUT ROWID;
CREATE INDEX funding_time ON funding (time);
CREATE TABLE funding_history (
    time INTEGER NOT NULL, exchange TEXT NOT NULL, coin TEXT NOT NULL, rate REAL NOT NULL,
    interval_hours REAL NOT NULL, rate_8h REAL NOT NULL,
    PRIMARY KEY (exchange, coin, time)
) WITHOUT ROWID;
CREATE TABLE open_interest (
    time INTEGER NOT NULL, exchange TEXT NOT NULL, coin TEXT NOT NULL, oi_base REAL, oi_usd REAL,
    PRIMARY KEY (exchange, coin, time)
) WITHOUT ROWID;
CREATE INDEX open_interest_time ON open_interest (time);
CREATE TABLE etf_flows (
    asset TEXT NOT NULL, date TEXT NOT NULL, fund TEXT NOT NULL, flow_usd REAL,
    PRIMARY KEY (asset, date, fund)
) WITHOUT ROWID;
CREATE TABLE macro (
    series TEXT NOT NULL, time INTEGER NOT NULL, value REAL, source TEXT,
    PRIMARY KEY (series, time)
) WITHOUT ROWID;
CREATE TABLE driver_flips (
    time INTEGER NOT NULL, driver TEXT NOT NULL, state TEXT NOT NULL, value REAL, session INTEGER
);
CREATE INDEX driver_flips_time ON driver_flips (time);
CREATE TABLE feed_state (
    feed TEXT PRIMARY KEY, seq INTEGER NOT NULL, wall_ms INTEGER NOT NULL, market_ms INTEGER NOT NULL,
    data_ms INTEGER, health TEXT NOT NULL, payload TEXT
);
"""

#: Version n's migration takes a store at version n-1 to n (version 0 is an empty file).
MIGRATIONS: dict[int, str] = {1: _V1}
SCHEMA_VERSION = max(MIGRATIONS)
