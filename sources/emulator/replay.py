"""Replay datasets: real history files in a directory -> a :class:`MarketDataset` the emulator serves.

``load_replay_dataset(DIR)`` walks ``DIR`` recursively (sorted, hidden files ignored) and recognises every
file by its **content** (header row / JSON keys); file and folder names are used only for the symbol, the
interval, the exchange of a funding file and provenance notes. ``load_replay(DIR)`` returns the same dataset
plus the list of files ``loaded`` (what each became) and ``skipped`` (with the reason). Recognised layouts:

Klines -> ``spot_klines[SYMBOL][interval_ms]`` (the symbol and interval come from the file name,
``BTCUSDT-1m-2025-10-10.csv`` or ``BTCUSDT_1h.csv``; the interval is checked against the timestamps' spacing;
daily files of one symbol and interval are concatenated; several intervals of one symbol sit side by side):

- Binance public-data kline CSV, 12 columns, with or without the header
  ``open_time,open,high,low,close,volume,
  close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore``; ``open_time`` in ms or µs.
  The taker columns give real CVD.
- Mark/index-price klines in that layout (every volume 0, as ``markPriceKlines`` files are): their prices are
  used, their volumes are not. Stored under the symbol itself when no traded-volume klines exist for it (e.g.
  ``BTCUSD_PERP``), otherwise under ``<SYMBOL>_MARK`` so they never stand in for traded volume. Volume and
  quote volume are 0 and the taker columns NaN (CVD unknown).
- OHLCV CSV ``timestamp|time|open_time|date,open,high,low,close,volume[,turnover]`` (times as ISO strings or
  epoch s/ms/µs): taker columns NaN (CVD unknown, never zero); ``quote_volume`` = ``turnover`` when present,
  else ``close * volume`` (an *estimate*, flagged in the load notes); trade ``count`` 0 (unknown).

Other data:

- Fear & Greed: alternative.me API JSON (``{"data": [{"value", "value_classification", "timestamp"}]}``) or
  CSV
  ``date,timestamp,value,classification`` -> ``fear_greed``.
- FRED ``fredgraph.csv`` (``observation_date,<ID>`` or ``DATE,<ID>``) -> ``rates[<ID>]``.
- ETF flows -> ``etf_flows["btc"|"eth"]`` in US dollars (family chosen from the tickers):
  JSON ``{"metadata": {...}, "daily_flows": [{"date", "flows": {TICKER: US$M}, "total": US$M}]}``;
  wide CSV ``date,<TICKER>...[,Total]`` in **US$ millions** (Farside's unit; ``*_usd`` column names mean
  dollars); long CSV ``date,ticker,flow_usd`` in dollars (tickers that are not US spot BTC/ETH ETFs, e.g. SPY,
  are ignored and noted; a family known only partly has ``Total`` NaN). Sources with a Total take precedence.
- Funding CSVs -> ``funding`` (``rate`` per interval, ``interval_hours`` from the spacing):
  ``symbol,fundingTime,fundingRate[,markPrice]`` (Binance ``/fapi/v1/fundingRate`` layout),
  ``ts,fundingRate`` (exchange and coin from the file name, e.g. ``bybit_BTCUSDT_funding.csv``),
  ``ts,fr_binance,fr_bybit,fr_okx`` (coin from the file name; empty = no data).
- Macro daily closes ``date,spx_close,dxy_close,vix_close,gold_close[,eth_close]`` -> ``equities`` under the
  instruments' own Yahoo symbols ``^GSPC`` (the S&P 500 *index*, **not** SPY), ``DX-Y.NYB``, ``^VIX``,
  ``GC=F``; close only (open/high/low/volume NaN). ``eth_close`` is ignored (Binance klines are the ETH
  source).
- Intraday equity bars ``time,open,high,low,close[,...]`` without volume for a non-crypto symbol (TradingView
  exports such as ``SPY_2min.csv``) -> regular-session (09:30-16:00 New York) daily bars in ``equities[SYM]``.

Anything else (documentation, order-book depth files, unknown layouts, unreadable files) is skipped and listed
with the reason. ``start_ms``/``end_ms`` span the kline data (or all data when there are no klines).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sources.emulator.dataset import KLINE_COLUMNS, MarketDataset
from sources.errors import SourceError
from sources.farside import parse_flow_value

BINANCE_KLINE_HEADER = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                        "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]  # fmt: skip
TIME_COLUMNS = ("timestamp", "time", "open_time", "date", "datetime")
INTERVAL_MS = {"s": 1_000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
BTC_ETF = {
    "IBIT",
    "FBTC",
    "BITB",
    "ARKB",
    "BTCO",
    "EZBC",
    "BRRR",
    "HODL",
    "BTCW",
    "GBTC",
    "BTC",
    "MSBT",
    "DEFI",
}
ETH_ETF = {"ETHA", "FETH", "ETHW", "CETH", "ETHV", "QETH", "EZET", "ETHE", "ETH"}
EXCHANGES = ("binance", "bybit", "okx", "hyperliquid")
MACRO_SYMBOLS = {"spx_close": "^GSPC", "dxy_close": "DX-Y.NYB", "vix_close": "^VIX", "gold_close": "GC=F"}
_NAME_RE = re.compile(r"^(?P<sym>[A-Z0-9]+(?:_PERP)?)[-_ ](?P<n>\d+)(?P<unit>min|[smhdw])(?![a-z])")
_QUALITY = {"taker": 3, "turnover": 2, "ohlcv": 1, "price_only": 0}


@dataclass
class LoadedFile:
    """A file that became part of the dataset: ``kind`` of layout, ``target`` it went to, ``notes``."""

    path: str
    kind: str
    target: str
    rows: int
    notes: str = ""


@dataclass
class SkippedFile:
    path: str
    reason: str


@dataclass
class ReplayLoad:
    dataset: MarketDataset
    loaded: list[LoadedFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


class _Unrecognised(Exception):
    pass


def load_replay_dataset(directory: Path) -> MarketDataset:
    """The dataset of real history in ``directory`` (see the module docstring for the layouts)."""
    return load_replay(directory).dataset


def load_replay(directory: Path) -> ReplayLoad:
    """Like :func:`load_replay_dataset`, with the per-file report (``loaded`` and ``skipped``)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"replay directory not found: {directory}")
    builder = _Builder(directory)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            builder.add(path)
        except _Unrecognised as exc:
            builder.skipped.append(SkippedFile(str(rel), str(exc)))
        except (SourceError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
            builder.skipped.append(SkippedFile(str(rel), f"unreadable: {type(exc).__name__}: {exc}"[:200]))
    return builder.finish()


# ----------------------------------------------------------------------------------------------- helpers


def _epoch_ms(values: pd.Series) -> np.ndarray:
    """Times as epoch ms from ISO strings or epoch seconds / ms / µs (decided by magnitude)."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        arr = numeric.to_numpy(np.float64)
        top = np.nanmax(np.abs(arr)) if len(arr) else 0
        if top > 1e17:
            return (arr // 1_000_000).astype(np.int64)  # ns
        if top > 1e14:
            return (arr // 1_000).astype(np.int64)  # µs
        if top > 1e11:
            return arr.astype(np.int64)  # ms
        return (arr * 1000).astype(np.int64)  # s
    stamps = pd.to_datetime(values.astype(str).str.strip(), utc=True, format="ISO8601")
    return pd.DatetimeIndex(stamps).as_unit("ms").asi8


def _interval_from_name(stem: str) -> tuple[str, int | None]:
    match = _NAME_RE.match(stem)
    if not match:
        symbol = re.split(r"[-_ ]", stem)[0].upper()
        return symbol, None
    return match["sym"], int(match["n"]) * INTERVAL_MS[match["unit"]]


def _spacing(times: np.ndarray) -> int | None:
    if len(times) < 2:
        return None
    return int(np.median(np.diff(times)))


def _read_csv(path: Path) -> tuple[list[str], str]:
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0].strip()
    return [h.strip() for h in first.split(",")], text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _crypto_pair(symbol: str) -> bool:
    return bool(re.search(r"(USDT|USDC|BUSD|FDUSD|USD_PERP|USD|BTC|ETH)$", symbol)) and len(symbol) > 4


# ----------------------------------------------------------------------------------------------- builder


class _Builder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.loaded: list[LoadedFile] = []
        self.skipped: list[SkippedFile] = []
        # (symbol, interval) -> list of (quality, frame)
        self.klines: dict[tuple[str, int], list[tuple[int, pd.DataFrame]]] = {}
        self.kline_files: dict[tuple[str, int], list[str]] = {}
        self.fear_greed: list[pd.DataFrame] = []
        self.rates: dict[str, pd.DataFrame] = {}
        self.etf: dict[str, list[tuple[bool, pd.DataFrame]]] = {}
        self.funding: list[pd.DataFrame] = []
        self.equities: dict[str, pd.DataFrame] = {}

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def add(self, path: Path) -> None:
        suffix = path.suffix.lower()
        if suffix == ".json":
            self._json(path)
        elif suffix == ".csv":
            self._csv(path)
        else:
            raise _Unrecognised(f"not a data file ({suffix or 'no extension'})")

    # --- JSON
    def _json(self, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and isinstance(raw.get("daily_flows"), list):
            self._etf_json(path, raw)
        elif (isinstance(raw, dict) and isinstance(raw.get("data"), list) and raw["data"]
              and isinstance(raw["data"][0], dict) and "value_classification" in raw["data"][0]):  # fmt: skip
            from sources.alternative_me import parse_fng

            fng = parse_fng(raw, endpoint=self.rel(path))
            frame = fng.frame
            self.fear_greed.append(pd.DataFrame({
                "time": frame.index.as_unit("ms").asi8, "value": frame["value"].to_numpy(),
                "classification": frame["classification"].to_numpy(),
            }))  # fmt: skip
            self.loaded.append(
                LoadedFile(self.rel(path), "alternative.me fng JSON", "fear_greed", len(frame))
            )
        else:
            raise _Unrecognised("JSON layout not recognised (expected alternative.me fng or ETF daily_flows)")

    def _etf_json(self, path: Path, raw: dict[str, Any]) -> None:
        meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        description = str(meta.get("description", ""))
        records = raw["daily_flows"]
        dates, rows, totals = [], [], []
        for i, item in enumerate(records):
            if not isinstance(item, dict) or "date" not in item or not isinstance(item.get("flows"), dict):
                raise ValueError(f"daily_flows[{i}]: expected date and flows")
            dates.append(pd.Timestamp(item["date"]).date())
            rows.append({k: (np.nan if v is None else float(v)) for k, v in item["flows"].items()})
            total = item.get("total")
            totals.append(np.nan if total is None else float(total))
        frame = pd.DataFrame(rows, index=pd.Index(dates, name="date"), dtype=float)
        frame["Total"] = totals
        unit = 1e6  # the JSON carries US$M (its metadata says so; Farside's unit)
        asset = self._etf_asset(frame.columns)
        frame = frame * unit
        self.etf.setdefault(asset, []).append((True, frame))
        note = f"US$M -> USD ({description[:60]})" if description else "US$M -> USD"
        self.loaded.append(
            LoadedFile(self.rel(path), "ETF flows JSON", f"etf_flows[{asset}]", len(frame), note)
        )

    @staticmethod
    def _etf_asset(columns: Any) -> str:
        tickers = {str(c).upper() for c in columns}
        btc, eth = len(tickers & BTC_ETF), len(tickers & ETH_ETF)
        if btc == 0 and eth == 0:
            raise _Unrecognised("ETF flows without any known US spot BTC/ETH ETF ticker")
        return "btc" if btc >= eth else "eth"

    # --- CSV dispatch
    def _csv(self, path: Path) -> None:
        header, text = _read_csv(path)
        lower = [h.lower() for h in header]
        cols = set(lower)
        if len(header) == 12 and all(_is_number(h) for h in header[:6]):
            self._binance_kline(path, text, has_header=False)
        elif lower[:12] == BINANCE_KLINE_HEADER:
            self._binance_kline(path, text, has_header=True)
        elif {"value", "classification"} <= cols and ("timestamp" in cols or "date" in cols):
            self._fng_csv(path, text)
        elif len(header) == 2 and header[0] in ("observation_date", "DATE"):
            from sources.fred import parse_fredgraph_csv

            series = parse_fredgraph_csv(text)
            values = series.values
            self.rates[series.series_id] = pd.DataFrame({
                "time": values.index.as_unit("ms").asi8, "value": values.to_numpy(np.float64),
            })  # fmt: skip
            self.loaded.append(LoadedFile(self.rel(path), "FRED fredgraph CSV", f"rates[{series.series_id}]",
                                          len(values), f"header {header[0]!r}"))  # fmt: skip
        elif lower[:3] == ["date", "ticker", "flow_usd"]:
            self._etf_long(path, text)
        elif lower[0] == "date" and len(header) > 2 and {h.upper() for h in header[1:]} & (BTC_ETF | ETH_ETF):
            self._etf_wide(path, text, header)
        elif "fundingrate" in cols or any(c.startswith("fr_") for c in lower):
            self._funding(path, text, lower)
        elif lower[0] == "date" and any(c.endswith("_close") for c in lower):
            self._macro(path, text, lower)
        elif lower[0] in TIME_COLUMNS and {"open", "high", "low", "close"} <= cols:
            symbol, _ = _interval_from_name(path.stem)
            if "volume" in cols:
                self._ohlcv_kline(path, text, lower)
            elif not _crypto_pair(symbol):
                self._equity_intraday(path, text, lower, symbol)
            else:
                raise _Unrecognised("crypto OHLC without a volume column")
        elif {"percentage", "depth", "notional"} <= cols:
            raise _Unrecognised("order-book depth snapshots (bookDepth): the dataset has no order-book field")
        else:
            raise _Unrecognised(f"CSV header not recognised: {','.join(header)[:80]}")

    # --- klines
    def _store_kline(self, path: Path, kind: str, quality: int, frame: pd.DataFrame, notes: str) -> None:
        symbol, interval = _interval_from_name(path.stem)
        spacing = _spacing(frame["open_time"].to_numpy(np.int64))
        if interval is None:
            if spacing is None:
                raise _Unrecognised(
                    "kline file without an interval in its name and too few rows to infer one"
                )
            interval = spacing
        elif spacing is not None and spacing != interval:
            raise ValueError(f"name says {interval} ms bars but rows are {spacing} ms apart")
        venue = next((ex for ex in EXCHANGES if ex in self.rel(path).lower()), "")
        if venue and venue != "binance":
            notes = f"{venue} data served as Binance-format klines; {notes}".strip("; ")
        self.klines.setdefault((symbol, interval), []).append((quality, frame))
        self.kline_files.setdefault((symbol, interval), []).append(self.rel(path))
        target = f"spot_klines[{symbol}][{interval}]"
        self.loaded.append(LoadedFile(self.rel(path), kind, target, len(frame), notes))

    def _binance_kline(self, path: Path, text: str, has_header: bool) -> None:
        frame = pd.read_csv(io.StringIO(text), header=0 if has_header else None, names=BINANCE_KLINE_HEADER)
        open_time = frame["open_time"].to_numpy(np.int64)
        if len(open_time) and open_time.max() > 10**14:  # microseconds (Binance spot files since 2025)
            open_time = open_time // 1000
        cols: dict[str, np.ndarray] = {"open_time": open_time}
        for col in ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
                    "taker_buy_quote_volume"):  # fmt: skip
            cols[col] = frame[col].to_numpy(np.float64)
        cols["count"] = frame["count"].to_numpy(np.int64)
        self._check_prices(cols)
        if len(open_time) and not cols["volume"].any() and not cols["quote_volume"].any():
            cols["taker_buy_volume"] = np.full(len(open_time), np.nan)
            cols["taker_buy_quote_volume"] = np.full(len(open_time), np.nan)
            kind = "Binance kline CSV (mark/index price: all volumes 0)"
            notes = "prices only; volumes unusable, CVD unknown"
            self._store_kline(path, kind, _QUALITY["price_only"], pd.DataFrame(cols)[KLINE_COLUMNS], notes)
            return
        self._store_kline(path, "Binance public-data kline CSV (12 columns)", _QUALITY["taker"],
                          pd.DataFrame(cols)[KLINE_COLUMNS], "taker split present")  # fmt: skip

    def _ohlcv_kline(self, path: Path, text: str, lower: list[str]) -> None:
        frame = pd.read_csv(io.StringIO(text), header=0, names=lower)
        cols: dict[str, np.ndarray] = {"open_time": _epoch_ms(frame[lower[0]])}
        for col in ("open", "high", "low", "close", "volume"):
            cols[col] = frame[col].to_numpy(np.float64)
        turnover = next((c for c in ("turnover", "quote_volume", "quote_asset_volume") if c in lower), None)
        if turnover:
            cols["quote_volume"] = frame[turnover].to_numpy(np.float64)
            kind, quality = "OHLCV+turnover CSV", _QUALITY["turnover"]
            notes = "quote volume = turnover; CVD unknown"
        else:
            cols["quote_volume"] = cols["close"] * cols["volume"]
            kind, quality = "OHLCV CSV", _QUALITY["ohlcv"]
            notes = "quote volume ESTIMATED as close*volume; CVD unknown"
        n = len(frame)
        cols["count"] = np.zeros(n, dtype=np.int64)
        cols["taker_buy_volume"] = np.full(n, np.nan)
        cols["taker_buy_quote_volume"] = np.full(n, np.nan)
        self._check_prices(cols)
        self._store_kline(path, kind, quality, pd.DataFrame(cols)[KLINE_COLUMNS], notes)

    @staticmethod
    def _check_prices(cols: dict[str, np.ndarray]) -> None:
        prices = np.stack([cols["open"], cols["high"], cols["low"], cols["close"]])
        if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
            raise ValueError("non-positive or missing prices")
        if np.any(cols["high"] < cols["low"]):
            raise ValueError("high below low")

    # --- sentiment, ETF, funding, macro
    def _fng_csv(self, path: Path, text: str) -> None:
        frame = pd.read_csv(io.StringIO(text))
        frame.columns = [c.lower() for c in frame.columns]
        times = _epoch_ms(frame["timestamp"]) if "timestamp" in frame.columns else _epoch_ms(frame["date"])
        values = pd.to_numeric(frame["value"], errors="raise").to_numpy(np.float64)
        if np.any((values < 0) | (values > 100)):
            raise ValueError("Fear & Greed value outside 0-100")
        self.fear_greed.append(
            pd.DataFrame(
                {
                    "time": times,
                    "value": values,
                    "classification": frame["classification"].astype(str).to_numpy(),
                }
            )
        )
        self.loaded.append(LoadedFile(self.rel(path), "Fear & Greed CSV", "fear_greed", len(frame)))

    def _etf_long(self, path: Path, text: str) -> None:
        frame = pd.read_csv(io.StringIO(text), dtype={"ticker": str})
        frame.columns = [c.lower() for c in frame.columns]
        frame["ticker"] = frame["ticker"].str.upper().str.strip()
        known = frame["ticker"].isin(BTC_ETF | ETH_ETF)
        ignored = sorted(set(frame.loc[~known, "ticker"]))
        frame = frame[known]
        if frame.empty:
            raise _Unrecognised(f"ETF flows file without US spot BTC/ETH ETFs (tickers {ignored[:6]})")
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        frame["flow_usd"] = pd.to_numeric(frame["flow_usd"], errors="raise")
        # min_count keeps an empty (missing) flow as NaN instead of summing it to a fake zero.
        wide = frame.groupby(["date", "ticker"])["flow_usd"].sum(min_count=1).unstack("ticker")
        wide = wide.astype(np.float64)
        wide.columns.name = None
        wide.index.name = "date"
        for asset, tickers in (("btc", BTC_ETF), ("eth", ETH_ETF)):
            part = wide[[c for c in wide.columns if c in tickers]]
            if part.shape[1] == 0:
                continue
            part = part.copy()
            part["Total"] = np.nan  # only some funds of the family: the net total is unknown
            self.etf.setdefault(asset, []).append((False, part))
            notes = f"USD; funds {list(part.columns[:-1])}; Total unknown"
            if ignored:
                notes += f"; ignored non-crypto tickers {ignored}"
            self.loaded.append(LoadedFile(self.rel(path), "ETF flows long CSV", f"etf_flows[{asset}]",
                                          len(part), notes))  # fmt: skip

    def _etf_wide(self, path: Path, text: str, header: list[str]) -> None:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        date_col = frame.columns[0]
        frame.index = pd.Index(pd.to_datetime(frame.pop(date_col)).dt.date, name="date")
        # Cells as Farside prints them: "-"/blank = not reported (NaN), "(1.2)" negatives, thousands commas.
        frame = frame.apply(
            lambda col: [parse_flow_value(v, self.rel(path), str(col.name)) / 1e6 for v in col]
        )
        in_usd = any(str(c).lower().endswith("_usd") for c in frame.columns)
        frame.columns = [re.sub(r"_usd$", "", str(c), flags=re.I) for c in frame.columns]
        frame.columns = ["Total" if c.lower() == "total" else c.upper() for c in frame.columns]
        frame = frame.astype(np.float64) * (1.0 if in_usd else 1e6)
        has_total = "Total" in frame.columns
        if not has_total:
            frame["Total"] = frame.sum(axis=1, min_count=1)
        asset = self._etf_asset(frame.columns)
        self.etf.setdefault(asset, []).append((True, frame))
        unit = "USD" if in_usd else "US$M -> USD"
        notes = unit + ("" if has_total else "; Total = sum of funds")
        self.loaded.append(LoadedFile(self.rel(path), "ETF flows wide CSV", f"etf_flows[{asset}]", len(frame),
                                      notes))  # fmt: skip

    def _funding(self, path: Path, text: str, lower: list[str]) -> None:
        frame = pd.read_csv(io.StringIO(text))
        frame.columns = lower
        name = path.stem
        parts: list[pd.DataFrame] = []
        if "symbol" in lower and "fundingtime" in lower:
            coin = frame["symbol"].astype(str).str.replace(r"(USDT|USDC|USD|_PERP)+$", "", regex=True)
            parts.append(
                pd.DataFrame(
                    {
                        "time": _epoch_ms(frame["fundingtime"]),
                        "exchange": "binance",
                        "coin": coin.to_numpy(),
                        "rate": frame["fundingrate"].astype(float),
                    }
                )
            )
        else:
            tcol = next((c for c in lower if c in ("ts", "time", "timestamp", "fundingtime", "date")), None)
            if tcol is None:
                raise _Unrecognised("funding CSV without a time column")
            times = _epoch_ms(frame[tcol])
            coin_match = re.search(r"(?:^|_)([A-Z][A-Z0-9]{1,9}?)(?:USDT|USDC|USD)?(?:_|$)", name)
            if not coin_match:
                raise _Unrecognised("funding CSV: no coin in the file name")
            coin = coin_match.group(1)
            if "fundingrate" in lower:
                exchange = next((ex for ex in EXCHANGES if ex in name.lower()), None)
                if exchange is None:
                    raise _Unrecognised("funding CSV: no exchange in the file name")
                parts.append(pd.DataFrame({"time": times, "exchange": exchange, "coin": coin,
                                           "rate": frame["fundingrate"].astype(float)}))  # fmt: skip
            for col in lower:
                if col.startswith("fr_") and col[3:] in EXCHANGES:
                    rate = pd.to_numeric(frame[col], errors="raise")
                    parts.append(
                        pd.DataFrame({"time": times, "exchange": col[3:], "coin": coin, "rate": rate})
                    )
        out = pd.concat(parts, ignore_index=True).dropna(subset=["rate"])
        # Settlement stamps carry a few ms of jitter (``16:00:00.001``): funding settles on the minute.
        out["time"] = (out["time"].to_numpy(np.int64) + 30_000) // 60_000 * 60_000
        self.funding.append(out)
        exchanges = sorted(out["exchange"].unique())
        notes = f"exchanges {exchanges}, coins {sorted(out['coin'].unique())}; times rounded to the minute"
        self.loaded.append(LoadedFile(self.rel(path), "funding CSV", "funding", len(out), notes))

    def _macro(self, path: Path, text: str, lower: list[str]) -> None:
        frame = pd.read_csv(io.StringIO(text))
        frame.columns = lower
        days = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
        opens = (days + pd.Timedelta(hours=9, minutes=30)).tz_localize("America/New_York").tz_convert("UTC")
        times = opens.as_unit("ms").asi8
        used = []
        for col, symbol in MACRO_SYMBOLS.items():
            if col not in frame.columns:
                continue
            close = pd.to_numeric(frame[col], errors="raise").to_numpy(np.float64)
            keep = ~np.isnan(close)
            nan = np.full(int(keep.sum()), np.nan)
            self.equities[symbol] = pd.DataFrame({"time": times[keep], "open": nan, "high": nan, "low": nan,
                                                  "close": close[keep], "volume": nan})  # fmt: skip
            used.append(f"{col}->{symbol}")
        ignored = [c for c in lower[1:] if c not in MACRO_SYMBOLS]
        notes = "close only; " + ", ".join(used) + (f"; ignored {ignored}" if ignored else "")
        notes += "; ^GSPC is the S&P 500 index, not SPY"
        self.loaded.append(
            LoadedFile(self.rel(path), "macro daily closes CSV", "equities", len(frame), notes)
        )

    def _equity_intraday(self, path: Path, text: str, lower: list[str], symbol: str) -> None:
        frame = pd.read_csv(io.StringIO(text))
        frame.columns = lower
        times = pd.DatetimeIndex(pd.to_datetime(_epoch_ms(frame[lower[0]]), unit="ms", utc=True))
        local = times.tz_convert("America/New_York")
        minutes = local.hour * 60 + local.minute
        regular = (minutes >= 9 * 60 + 30) & (minutes < 16 * 60)
        bars = frame.loc[regular, ["open", "high", "low", "close"]].astype(np.float64)
        bars["day"] = local[regular].normalize().tz_localize(None)
        daily = bars.groupby("day", sort=True).agg(open=("open", "first"), high=("high", "max"),
                                                  low=("low", "min"), close=("close", "last"))  # fmt: skip
        session_open = (daily.index + pd.Timedelta(hours=9, minutes=30)).tz_localize("America/New_York")
        daily.insert(0, "time", session_open.tz_convert("UTC").as_unit("ms").asi8)
        daily["volume"] = np.nan
        self.equities[symbol] = daily.reset_index(drop=True)
        self.loaded.append(LoadedFile(self.rel(path), "intraday equity bars CSV", f"equities[{symbol}]",
                                      len(daily), "regular-session daily bars aggregated from intraday; "
                                      "volume unknown"))  # fmt: skip

    # --- assemble
    def finish(self) -> ReplayLoad:
        dataset = MarketDataset(name=f"replay:{self.root}", simulated=False)
        volume_symbols = {sym for (sym, _iv), parts in self.klines.items() if any(q > 0 for q, _ in parts)}
        for (symbol, interval), parts in self.klines.items():
            if all(q == 0 for q, _ in parts) and symbol in volume_symbols:
                key = f"{symbol}_MARK"
                for rel in self.kline_files[(symbol, interval)]:
                    for item in self.loaded:
                        if item.path == rel:
                            item.target = f"spot_klines[{key}][{interval}]"
                            item.notes += f"; stored as {key}: {symbol} has traded-volume klines"
            else:
                key = symbol
            parts_sorted = sorted(parts, key=lambda p: -p[0])
            frame = pd.concat([f.assign(_q=q) for q, f in parts_sorted], ignore_index=True)
            frame = frame.sort_values(["open_time", "_q"], ascending=[True, False], kind="stable")
            frame = frame.drop_duplicates("open_time", keep="first").drop(columns="_q").reset_index(drop=True)
            dataset.spot_klines.setdefault(key, {})[interval] = frame
        if self.fear_greed:
            fg = pd.concat(self.fear_greed, ignore_index=True).sort_values("time", kind="stable")
            dataset.fear_greed = fg.drop_duplicates("time", keep="first").reset_index(drop=True)
        dataset.rates = self.rates
        for asset, frames in self.etf.items():
            ordered = [f for complete, f in frames if complete] + [
                f for complete, f in frames if not complete
            ]
            merged = ordered[0]
            for extra in ordered[1:]:
                merged = merged.combine_first(extra)
            funds = [c for c in merged.columns if c != "Total"]
            # Days on which no fund has a value carry no information (e.g. missing issuer rows): dropped.
            merged = merged[[*funds, "Total"]].dropna(how="all").sort_index()
            dataset.etf_flows[asset] = merged
        if self.funding:
            funding = pd.concat(self.funding, ignore_index=True)
            funding = funding.drop_duplicates(["time", "exchange", "coin"], keep="first")
            funding = funding.sort_values(["exchange", "coin", "time"], kind="stable").reset_index(drop=True)
            spacing = funding.groupby(["exchange", "coin"])["time"].transform(lambda s: s.diff().median())
            funding["interval_hours"] = (spacing / 3_600_000).round().fillna(8.0)
            dataset.funding = funding[["time", "exchange", "coin", "rate", "interval_hours"]]
        dataset.equities = self.equities
        starts, ends = [], []
        for frames in dataset.spot_klines.values():
            for interval, frame in frames.items():
                if len(frame):
                    starts.append(int(frame["open_time"].iloc[0]))
                    ends.append(int(frame["open_time"].iloc[-1]) + interval - 1)
        if not starts:
            for frame in [
                dataset.fear_greed,
                dataset.funding,
                *dataset.rates.values(),
                *dataset.equities.values(),
            ]:
                if frame is not None and len(frame):
                    starts.append(int(frame["time"].min()))
                    ends.append(int(frame["time"].max()))
        dataset.start_ms = min(starts) if starts else None
        dataset.end_ms = max(ends) if ends else None
        return ReplayLoad(dataset=dataset, loaded=self.loaded, skipped=self.skipped)
