"""Replay a recorder store: the recorded tables -> the :class:`MarketDataset` the emulator serves, like a folder of
history files (``altpulse --replay STORE.sqlite``, ``snapshot --replay STORE.sqlite``).

What was recorded comes back as the providers would have answered at the replayed time: klines
(``markets[market][symbol][interval]``, a still-open bar kept as a file's last row is), settled funding, open
interest, the liquidation tape, ETF flows per fund, Fear & Greed, CoinGecko ``/global`` snapshots, equity daily
bars and FRED series. The span (``start_ms``, ``data_end_ms``, the default ``--at`` and its note) is computed by
the file replay's own :func:`emulator.replay.set_span`, so both replays pick the same default time.

The recording's gaps (time no session recorded) are said in the load notes and left empty: the emulator answers
for them what it has, nothing is interpolated. Not replayed: CoinGecko ``/coins/markets`` (the store keeps only
the latest table, in ``feed_state``, so "small caps lagging" is unknown in a store replay), the venues' predicted
funding between settlements (a replay's prediction is the last settlement, as for files) and the driver flips
(the console recomputes them from the data).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from emulator.dataset import KLINE_COLUMNS, MarketDataset
from emulator.replay import set_span
from store.base import MIN_GAP_MS, Session, coverage_gaps
from store.sqlite import SqliteStore

HOUR_MS = 3_600_000
#: alternative.me's bands, as its API labels values (checked against 966 days of its labels: 25 is still
#: "Extreme Fear", 26-46 "Fear", 47-54 "Neutral", 55-75 "Greed", 76+ "Extreme Greed"). The store keeps the value
#: only, so the label is recomputed; third-party copies of the cut-offs differ (CoinMarketCap's index uses 45-55
#: for neutral), the API's own labels decide.
FNG_BANDS = np.array([26, 47, 55, 76])
FNG_LABELS = np.array(["Extreme Fear", "Fear", "Neutral", "Greed", "Extreme Greed"])
#: A venue's quote stands for its settled rate only when taken this close before the settlement (a quote from
#: before a recording gap is hours stale: that settlement stays unknown).
QUOTE_BEFORE_SETTLEMENT_MS = HOUR_MS
EQUITY_FIELDS = ("open", "high", "low", "close", "volume")


def load_store_dataset(path: Path, *, until_ms: int | None = None) -> MarketDataset:
    """The dataset a store's recording makes, everything stamped after ``until_ms`` (when given) left out.

    Raises :class:`store.base.StoreError` for a file that is not an altpulse store (its text says why). A store
    without any klines gives a dataset whose ``start_ms`` is None (no price data to replay).
    """
    store = SqliteStore(Path(path), "live")  # a reader: the mode becomes what the store holds
    try:
        dataset = MarketDataset(name=f"store:{path}", simulated=store.mode == "demo")
        _klines(store, dataset, until_ms)
        _funding(store, dataset, until_ms)
        _open_interest(store, dataset, until_ms)
        _liquidations(store, dataset, until_ms)
        _etf(store, dataset, until_ms)
        _macro(store, dataset, until_ms)
        sessions = store.sessions()
    finally:
        store.close()
    dataset.load_notes.insert(0, _sessions_note(sessions, until_ms))
    if any(len(f) for symbols in dataset.markets.values() for frames in symbols.values() for f in frames.values()):
        set_span(dataset)
    else:
        # No price data, nothing to replay against (boot says "no usable data"), whatever else was recorded.
        dataset.end_note = "the store holds no klines"
    return dataset


# ----------------------------------------------------------------------------------------------- tables


def _floats(values: pd.Series) -> np.ndarray:
    """A nullable REAL column as float64 (NULL -> NaN; a column of NULLs only comes back as objects)."""
    return pd.to_numeric(values, errors="coerce").to_numpy(np.float64)


def _klines(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    """``klines`` -> ``markets[market][symbol][interval_ms]`` in :data:`KLINE_COLUMNS` (Binance semantics: volume in
    the base coin, quote volume in the quote currency, taker buys NaN where not recorded)."""
    rows = store.read("klines", None, until_ms)
    if not len(rows):
        return
    for (market, symbol, interval), part in rows.groupby(["market", "symbol", "interval_ms"], sort=True):
        part = part.sort_values("open_time", kind="stable")
        frame = pd.DataFrame({
            "open_time": part["open_time"].to_numpy(np.int64),
            "open": _floats(part["open"]), "high": _floats(part["high"]), "low": _floats(part["low"]),
            "close": _floats(part["close"]), "volume": _floats(part["volume"]),
            "quote_volume": _floats(part["quote_volume"]),
            # Trade count unknown: 0, as the file replay gives an OHLCV file without counts.
            "count": pd.to_numeric(part["trades"], errors="coerce").fillna(0).to_numpy(np.int64),
            "taker_buy_volume": _floats(part["taker_buy_base"]),
            "taker_buy_quote_volume": _floats(part["taker_buy_quote"]),
        })[KLINE_COLUMNS]  # fmt: skip
        dataset.markets.setdefault(str(market), {}).setdefault(str(symbol), {})[int(interval)] = frame


def _funding(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    """``funding`` frame: one row per settlement, ``rate`` a fraction per ``interval_hours`` period.

    Bybit's settled history (``funding_history``) as recorded. The store keeps no settled history of the other
    venues, only their quotes (``funding``, sampled every ``[store] funding_every``); for those, the last quote
    taken within :data:`QUOTE_BEFORE_SETTLEMENT_MS` before a settlement the recording went past stands for the
    settled rate (the quoted rate converges on it as the period ends), and the load notes say so.
    """
    columns = ["time", "exchange", "coin", "rate", "interval_hours"]
    settled = store.read("funding_history", None, until_ms)[columns]
    quotes = store.read("funding", None, until_ms).dropna(subset=["next_funding_time"])
    parts = [settled] if len(settled) else []
    if len(quotes):
        covered = set(zip(settled["exchange"], settled["coin"], strict=True))
        own = quotes[[(e, c) not in covered for e, c in zip(quotes["exchange"], quotes["coin"], strict=True)]]
        due = own["next_funding_time"].astype(np.int64)
        ahead = due - own["time"]  # how long before its settlement each quote was taken
        fresh = (due <= own["time"].max()) & (ahead >= 0) & (ahead <= QUOTE_BEFORE_SETTLEMENT_MS)
        last = (own[fresh].sort_values("time", kind="stable")
                .groupby(["exchange", "coin", "next_funding_time"], as_index=False).last())  # fmt: skip
        if len(last):
            derived = pd.DataFrame({"time": last["next_funding_time"].to_numpy(np.int64),
                                    "exchange": last["exchange"].to_numpy(), "coin": last["coin"].to_numpy(),
                                    "rate": _floats(last["rate"]),
                                    "interval_hours": _floats(last["interval_hours"])})  # fmt: skip
            parts.append(derived)
            venues = ", ".join(sorted(set(derived["exchange"])))
            note = (f"funding of {venues}: the last recorded quote before each settlement stands for the settled "
                    "rate (the store keeps Bybit's settled history only)")  # fmt: skip
            dataset.load_notes.append(note)
    if parts:
        frame = pd.concat(parts, ignore_index=True)
        frame["time"] = frame["time"].astype(np.int64)
        frame["rate"] = _floats(frame["rate"])
        frame["interval_hours"] = _floats(frame["interval_hours"])
        dataset.funding = frame.sort_values(["exchange", "coin", "time"], kind="stable").reset_index(drop=True)


def _open_interest(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    """``open_interest`` frame: ``oi_base`` in coins and ``price`` the USD mark it was valued at (``oi_usd`` /
    ``oi_base``; NaN when the base amount is unknown or zero)."""
    rows = store.read("open_interest", None, until_ms)
    if not len(rows):
        return
    base = _floats(rows["oi_base"])
    usd = _floats(rows["oi_usd"])
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(base > 0, usd / base, np.nan)
    frame = pd.DataFrame({"time": rows["time"].to_numpy(np.int64), "exchange": rows["exchange"].to_numpy(),
                          "coin": rows["coin"].to_numpy(), "oi_base": base, "price": price})  # fmt: skip
    dataset.open_interest = frame.sort_values(["exchange", "coin", "time"], kind="stable").reset_index(drop=True)


def _liquidations(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    """The tape: ``side`` is the liquidated position ("long"/"short"), ``qty`` coins, ``price`` USD."""
    tape = store.liquidations(0, until_ms)
    if len(tape):
        dataset.liquidations = tape[["time", "exchange", "coin", "side", "qty", "price"]].reset_index(drop=True)


def _etf(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    """``etf_flows[asset]``: indexed by trading date (``datetime.date``), one column per fund in US dollars, then
    ``Total`` (Farside's own total; NaN when it was not recorded for a day). NaN = not reported."""
    until = None if until_ms is None else dt.datetime.fromtimestamp(until_ms / 1000, dt.UTC).date().isoformat()
    rows = store.read("etf_flows", None, until)
    for asset, part in rows.groupby("asset", sort=True):
        part = part.assign(flow_usd=_floats(part["flow_usd"]))
        wide = part.pivot(index="date", columns="fund", values="flow_usd")  # (asset, date, fund) is the key
        wide.index = pd.Index([dt.date.fromisoformat(str(d)) for d in wide.index], name="date")
        wide.columns.name = None
        if "Total" not in wide.columns:
            wide["Total"] = np.nan  # never the sum of the funds recorded: some may be missing
        funds = [str(c) for c in wide.columns if c != "Total"]
        # As the file replay: a day on which nothing is reported carries no information.
        frame = wide[[*funds, "Total"]].astype(np.float64).dropna(how="all").sort_index()
        if len(frame):
            dataset.etf_flows[str(asset)] = frame


def _macro(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    """``macro`` series -> ``fear_greed``, ``global_market``, ``equities[SYMBOL]``, ``rates[SERIES]``."""
    rows = store.read("macro", None, until_ms)
    if not len(rows):
        return
    rows = rows.assign(value=_floats(rows["value"])).sort_values(["series", "time"], kind="stable")
    series = rows["series"].astype(str)
    fng = rows[series == "fear_greed"].dropna(subset=["value"])
    if len(fng):
        values = fng["value"].to_numpy(np.float64)
        dataset.fear_greed = pd.DataFrame({
            "time": fng["time"].to_numpy(np.int64), "value": values,
            "classification": FNG_LABELS[np.searchsorted(FNG_BANDS, values, side="right")],
        })  # fmt: skip
    cg = rows[series.str.startswith("cg.")]
    if len(cg):
        _global_market(cg, dataset)
    equity = rows[series.str.startswith("equity.")]
    if len(equity):
        # equity.<SYMBOL>.<field>: the symbol may hold dots itself (DX-Y.NYB), the field never does.
        parts = equity["series"].str.slice(7).str.rsplit(".", n=1)
        equity = equity.assign(symbol=parts.str[0], field=parts.str[1])
        for symbol, part in equity[equity["field"].isin(EQUITY_FIELDS)].groupby("symbol", sort=True):
            wide = part.pivot(index="time", columns="field", values="value").sort_index()
            frame = pd.DataFrame({"time": wide.index.to_numpy(np.int64)})
            for column in EQUITY_FIELDS:  # a field not recorded (a close-only source) is NaN, never 0
                frame[column] = wide[column].to_numpy(np.float64) if column in wide.columns else np.nan
            dataset.equities[str(symbol)] = frame
    fred = rows[series.str.startswith("fred.")]
    for name, part in fred.groupby("series", sort=True):
        # NaN kept: FRED's "." for a holiday, as a fredgraph file gives it.
        dataset.rates[str(name)[5:]] = pd.DataFrame({"time": part["time"].to_numpy(np.int64),
                                                     "value": part["value"].to_numpy(np.float64)})  # fmt: skip
    known = (series == "fear_greed") | series.str.startswith(("cg.", "equity.", "fred."))
    if (~known).any():
        dataset.load_notes.append(f"macro series not replayed: {', '.join(sorted(set(series[~known])))}")


def _global_market(cg: pd.DataFrame, dataset: MarketDataset) -> None:
    """CoinGecko ``/global`` snapshots (one per fetch time): totals in US dollars, ``pct_<sym>`` market-cap shares
    in percent, what the emulated ``/api/v3/global`` reads. ``cg.<sym>_dominance_pct`` stands in for a share
    the snapshot did not list (the same figure, kept by the recorder separately)."""
    wide = cg.pivot(index="time", columns="series", values="value").sort_index()
    frame = pd.DataFrame({"time": wide.index.to_numpy(np.int64)})
    for name in ("total_mcap_usd", "total_volume_usd"):
        frame[name] = wide[f"cg.{name}"].to_numpy(np.float64) if f"cg.{name}" in wide.columns else np.nan
    for column in wide.columns:
        if str(column).startswith("cg.share."):
            frame[f"pct_{str(column)[9:]}"] = wide[column].to_numpy(np.float64)
    for sym in ("btc", "eth"):
        dominance = f"cg.{sym}_dominance_pct"
        if dominance in wide.columns:
            share = wide[dominance].to_numpy(np.float64)
            listed = frame[f"pct_{sym}"].to_numpy(np.float64) if f"pct_{sym}" in frame.columns else share
            frame[f"pct_{sym}"] = np.where(np.isnan(listed), share, listed)
    # The route answers a snapshot's totals as they are: one without them cannot be served (never 0).
    complete = frame["total_mcap_usd"].notna() & frame["total_volume_usd"].notna()
    if (~complete).any():
        dataset.load_notes.append(f"{int((~complete).sum())} CoinGecko /global snapshots without totals skipped")
    frame = frame[complete].reset_index(drop=True)
    if len(frame):
        dataset.global_market = frame


# ----------------------------------------------------------------------------------------------- sessions


def _sessions_note(sessions: list[Session], until_ms: int | None) -> str:
    """One line on what the recording covers: sessions, and the gaps between them (left empty, never filled)."""
    if until_ms is not None:
        sessions = [s for s in sessions if s.started_ms <= until_ms]
    if not sessions:
        return "recorded store: no recording sessions"
    first = min(s.started_ms for s in sessions)
    last = max(s.heartbeat_ms for s in sessions)
    if until_ms is not None:
        last = min(last, until_ms)
    gaps = coverage_gaps(sessions, first, last, MIN_GAP_MS)
    note = f"recorded store: {_plural(len(sessions), 'session')}, {_plural(len(gaps), 'gap')}"
    if gaps:
        note += (f" (longest {_duration(max(b - a for a, b in gaps))}; nothing was recorded then, and nothing is "
                 "filled in)")  # fmt: skip
    return note


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _duration(ms: int) -> str:
    """``3 h 10 min``, ``2 d 4 h``, ``45 min``: a gap's length as a reader takes it in."""
    minutes = ms // 60_000
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"
