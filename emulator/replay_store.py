"""Replay a recorder store: the recorded tables -> the :class:`MarketDataset` the emulator serves, like a folder of
history files (``altpulse --replay STORE.sqlite``, ``snapshot --replay STORE.sqlite``).

What was recorded comes back as the providers would have answered at the replayed time: klines
(``markets[market][symbol][interval]``), settled funding, open interest, the liquidation tape, ETF flows per fund,
Fear & Greed, CoinGecko ``/global`` snapshots, equity daily bars and FRED series. The recording's gaps (time no
session recorded) are said in the load notes and left empty: the emulator answers for them what it has, nothing is
interpolated. Not replayed: CoinGecko ``/coins/markets`` (only its latest table is kept, so "small caps lagging"
is unknown in a store replay) and the venues' predicted funding between settlements.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from emulator.dataset import KLINE_COLUMNS, MarketDataset
from emulator.replay import set_span
from store.base import coverage_gaps
from store.sqlite import SqliteStore

#: alternative.me's bands (its published classification: 0-24 Extreme Fear ... 75-100 Extreme Greed).
FNG_BANDS = np.array([25, 47, 55, 76])
FNG_LABELS = np.array(["Extreme Fear", "Fear", "Neutral", "Greed", "Extreme Greed"])


def load_store_dataset(path: Path, *, until_ms: int | None = None) -> MarketDataset:
    """The dataset a store's recording makes (raises :class:`store.StoreError` for a file that is not a store)."""
    store = SqliteStore(path, "live")
    try:
        dataset = MarketDataset(name=f"store:{path}", simulated=store.mode == "demo")
        _klines(store, dataset, until_ms)
        _funding(store, dataset, until_ms)
        _open_interest(store, dataset, until_ms)
        tape = store.liquidations(0, until_ms)
        dataset.liquidations = tape[["time", "exchange", "coin", "side", "qty", "price"]] if len(tape) else None
        _etf(store, dataset, until_ms)
        _macro(store, dataset, until_ms)
        sessions = store.sessions()
    finally:
        store.close()
    set_span(dataset)
    if sessions:
        first = min(s.started_ms for s in sessions)
        last = max(s.heartbeat_ms for s in sessions)
        gaps = coverage_gaps(sessions, first, last, 60_000)
        longest = max((b - a for a, b in gaps), default=0) / 3_600_000
        note = f"recorded store: {len(sessions)} sessions, {len(gaps)} gaps"
        if gaps:
            note += f" (longest {longest:.1f} h; nothing was recorded then, and nothing is filled in)"
        dataset.load_notes.append(note)
    return dataset


def _klines(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    rows = store.read("klines", None, until_ms)
    if not len(rows):
        return
    for (market, symbol, interval), part in rows.groupby(["market", "symbol", "interval_ms"], sort=True):
        part = part.sort_values("open_time")
        frame = pd.DataFrame({
            "open_time": part["open_time"].to_numpy(np.int64),
            "open": part["open"].to_numpy(np.float64), "high": part["high"].to_numpy(np.float64),
            "low": part["low"].to_numpy(np.float64), "close": part["close"].to_numpy(np.float64),
            "volume": part["volume"].to_numpy(np.float64), "quote_volume": part["quote_volume"].to_numpy(np.float64),
            "count": part["trades"].fillna(0).to_numpy(np.int64),
            "taker_buy_volume": part["taker_buy_base"].to_numpy(np.float64),
            "taker_buy_quote_volume": part["taker_buy_quote"].to_numpy(np.float64),
        })[KLINE_COLUMNS]  # fmt: skip
        dataset.markets.setdefault(str(market), {}).setdefault(str(symbol), {})[int(interval)] = frame.reset_index(
            drop=True)  # fmt: skip


def _funding(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    """Settled funding: Bybit's recorded history, and for the venues and coins it does not cover the last rate
    each venue quoted before a settlement, standing for the settled one (the quote converges on it as the period
    ends; said in the load notes)."""
    columns = ["time", "exchange", "coin", "rate", "interval_hours"]
    settled = store.read("funding_history", None, until_ms)[columns]
    snaps = store.read("funding", None, until_ms).dropna(subset=["next_funding_time"])
    parts = [settled] if len(settled) else []
    if len(snaps):
        covered = set(zip(settled["exchange"], settled["coin"], strict=True))
        own = snaps[[(e, c) not in covered for e, c in zip(snaps["exchange"], snaps["coin"], strict=True)]]
        # The quote taken closest to (before) each settlement, for settlements the recording reached.
        own = own[own["next_funding_time"] <= own["time"].max()]
        last = own.sort_values("time").groupby(["exchange", "coin", "next_funding_time"], as_index=False).last()
        if len(last):
            derived = pd.DataFrame({"time": last["next_funding_time"].to_numpy(np.int64), "exchange": last["exchange"],
                                    "coin": last["coin"], "rate": last["rate"],
                                    "interval_hours": last["interval_hours"]})  # fmt: skip
            parts.append(derived)
            venues = ", ".join(sorted(set(derived["exchange"])))
            dataset.load_notes.append(f"funding of {venues}: the last recorded quote before each settlement stands "
                                      "for the settled rate (the store keeps Bybit's settled history only)")
    if parts:
        frame = pd.concat(parts, ignore_index=True)
        frame["time"] = frame["time"].astype(np.int64)
        dataset.funding = frame.sort_values(["exchange", "coin", "time"], kind="stable").reset_index(drop=True)


def _open_interest(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    rows = store.read("open_interest", None, until_ms)
    if not len(rows):
        return
    base = rows["oi_base"].to_numpy(np.float64)
    usd = rows["oi_usd"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(base > 0, usd / base, np.nan)
    dataset.open_interest = pd.DataFrame({"time": rows["time"].to_numpy(np.int64), "exchange": rows["exchange"],
                                          "coin": rows["coin"], "oi_base": base, "price": price})  # fmt: skip


def _etf(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    until = None if until_ms is None else dt.datetime.fromtimestamp(until_ms / 1000, dt.UTC).date().isoformat()
    rows = store.read("etf_flows", None, until)
    for asset, part in rows.groupby("asset"):
        wide = part.pivot_table(index="date", columns="fund", values="flow_usd", aggfunc="last", dropna=False)
        wide.index = pd.Index([dt.date.fromisoformat(str(d)) for d in wide.index], name="date")
        wide.columns.name = None
        if "Total" not in wide.columns:
            wide["Total"] = np.nan  # a family known only by fund has no total
        funds = [c for c in wide.columns if c != "Total"]
        dataset.etf_flows[str(asset)] = wide[[*funds, "Total"]].sort_index()


def _macro(store: SqliteStore, dataset: MarketDataset, until_ms: int | None) -> None:
    rows = store.read("macro", None, until_ms)
    if not len(rows):
        return
    rows = rows.sort_values("time", kind="stable")
    fng = rows[rows["series"] == "fear_greed"].dropna(subset=["value"])
    if len(fng):
        values = fng["value"].to_numpy(np.float64)
        dataset.fear_greed = pd.DataFrame({
            "time": fng["time"].to_numpy(np.int64), "value": values,
            "classification": FNG_LABELS[np.searchsorted(FNG_BANDS, values, side="right")],
        })  # fmt: skip
    cg = rows[rows["series"].str.startswith("cg.")]
    if len(cg):
        wide = cg.pivot_table(index="time", columns="series", values="value", aggfunc="last")
        frame = pd.DataFrame({"time": wide.index.to_numpy(np.int64)})
        for name in ("total_mcap_usd", "total_volume_usd"):
            frame[name] = wide.get(f"cg.{name}", pd.Series(np.nan, index=wide.index)).to_numpy(np.float64)
        for column in wide.columns:
            if str(column).startswith("cg.share."):
                frame[f"pct_{str(column)[9:]}"] = wide[column].to_numpy(np.float64)
        if "pct_btc" not in frame.columns and "cg.btc_dominance_pct" in wide.columns:
            frame["pct_btc"] = wide["cg.btc_dominance_pct"].to_numpy(np.float64)
        dataset.global_market = frame
    equity = rows[rows["series"].str.startswith("equity.")]
    symbols = equity["series"].str.slice(7).str.rsplit(".", n=1).str[0]  # equity.<SYMBOL>.<field>
    for symbol, part in equity.groupby(symbols):
        wide = part.pivot_table(index="time", columns="series", values="value", aggfunc="last")
        frame = pd.DataFrame({"time": wide.index.to_numpy(np.int64)})
        for column in ("open", "high", "low", "close", "volume"):
            key = f"equity.{symbol}.{column}"
            frame[column] = wide[key].to_numpy(np.float64) if key in wide.columns else np.nan
        dataset.equities[str(symbol)] = frame
    fred = rows[rows["series"].str.startswith("fred.")]
    for series, part in fred.groupby("series"):
        dataset.rates[str(series)[5:]] = pd.DataFrame({"time": part["time"].to_numpy(np.int64),
                                                        "value": part["value"].to_numpy(np.float64)})  # fmt: skip
