"""Replay datasets: real history files in a directory -> a :class:`MarketDataset` the emulator serves.

``load_replay_dataset(DIR)`` walks ``DIR`` recursively (sorted, hidden files ignored) and recognises every
file by its **content** (header row / JSON keys); file and folder names are used only for the symbol, the
interval, the exchange of a funding file and provenance notes. ``load_replay(DIR)`` returns the same dataset
plus the list of files ``loaded`` (what each became) and ``skipped`` (with the reason). Recognised layouts:

Klines -> ``markets[MARKET][SYMBOL][interval_ms]`` (the symbol and interval come from the file name,
``BTCUSDT-1m-2025-10-10.csv`` or ``BTCUSDT_1h.csv``; the interval is checked against the timestamps' spacing;
daily files of one symbol and interval are concatenated; several intervals of one symbol sit side by side).
Each file belongs to ONE market, read from its path (:func:`market_of`): ``binance_spot`` (the default),
``binance_usdm`` (a folder or name with ``usdm``/``um``/``futures``/``fapi``), ``binance_usdm_mark`` /
``binance_coinm_mark`` (mark/index-price klines: every volume 0), ``bybit_linear`` (``bybit``). Only
``binance_spot`` answers the Binance spot endpoints, so a figure is never stitched from two venues.

- Binance public-data kline CSV, 12 columns, with or without the header
  ``open_time,open,high,low,close,volume,
  close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore``; ``open_time`` in ms or µs.
- Any kline CSV whose columns are recognised **by name**, wherever they are and whatever else the file carries
  (collectors add ``datetime`` or ``symbol`` columns and shorten names: ``taker_buy_base``,
  ``taker_buy_quote``, ``quote_asset_volume``, ``trades``, ``number_of_trades``, ``turnover``, ...; see
  :data:`KLINE_ALIASES`). Taker-buy quote volume present: real CVD. Columns not used are named in the load notes.
- Mark/index-price klines (every volume 0, as ``markPriceKlines`` files are): prices only, in a ``*_mark``
  market, never standing in for traded volume; volumes 0 and the taker columns NaN (CVD unknown).
- OHLCV without a taker split (``time,open,high,low,close,volume[,turnover]``, times as ISO strings or epoch
  s/ms/µs): taker columns NaN (CVD unknown, never zero); ``quote_volume`` = ``turnover`` when present, else
  ``close * volume`` (an *estimate*, flagged in the load notes); trade ``count`` 0 (unknown).

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
with the reason.

Imperfect files (real collectors produce them): a row repeated identically is dropped (counted in the notes); two
rows for the same bar, day or fund that disagree are reported with their files and lines and the later one is
kept (a later fetch supersedes a partial one). Equity bars and ETF flows stamped on days that are not NYSE
sessions (weekends, holidays) are dropped and noted: they are not sessions. Every such finding is in
``ReplayLoad.notes`` and ``MarketDataset.load_notes``.

The span: ``start_ms``/``data_end_ms`` cover every file; ``end_ms`` (the default ``--at``) is the last complete
time common to the price files that reach the end of the data, each file's last row taken as possibly partial (a
collector's newest bar or day is usually still open); ``end_note`` says which files decided it.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from analytics.calendar import is_us_session
from emulator.dataset import KLINE_COLUMNS, SPOT, MarketDataset
from sources.errors import SourceError
from sources.farside import parse_flow_value

BINANCE_KLINE_HEADER = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                        "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]  # fmt: skip
TIME_COLUMNS = ("open_time", "timestamp", "time", "ts", "date", "datetime")
#: Kline columns recognised by name (normalised: lower case, spaces and dashes as underscores), best first.
KLINE_ALIASES: dict[str, tuple[str, ...]] = {
    "open_time": (*TIME_COLUMNS, "opentime", "open_timestamp", "start_time"),
    "open": ("open", "o", "open_price"),
    "high": ("high", "h", "high_price"),
    "low": ("low", "l", "low_price"),
    "close": ("close", "c", "close_price"),
    "volume": ("volume", "vol", "base_volume", "volume_base", "v"),
    "quote_volume": ("quote_volume", "quote_asset_volume", "quote_vol", "qav", "turnover", "volccyquote",
                     "volume_quote", "quote_volume_usdt"),
    "count": ("count", "trades", "number_of_trades", "num_trades", "trade_count", "n"),
    "taker_buy_volume": ("taker_buy_volume", "taker_buy_base", "taker_buy_base_volume",
                         "taker_buy_base_asset_volume", "taker_buy_base_asset_vol", "tbbav", "taker_base_volume",
                         "taker_buy_vol"),
    "taker_buy_quote_volume": ("taker_buy_quote_volume", "taker_buy_quote", "taker_buy_quote_asset_volume",
                               "taker_buy_quote_asset_vol", "tbqav", "taker_quote_volume",
                               "taker_buy_quote_vol"),
}  # fmt: skip
#: Columns a kline file may carry that are known and deliberately not used.
KLINE_KNOWN_UNUSED = {"close_time", "ignore", "datetime", "date", "symbol", "interval", "unused"}
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
_VALUE_COLUMNS = ["open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
                  "taker_buy_quote_volume"]  # fmt: skip
#: A price file whose newest complete bar lies within this of the newest one "reaches the end of the data".
CURRENT_SLACK_MS = 6 * 3_600_000


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
    #: Data-quality findings: conflicting duplicates (file and line), dropped non-session rows, seams.
    notes: list[str] = field(default_factory=list)


class _Unrecognised(Exception):
    pass


def load_replay_dataset(directory: Path) -> MarketDataset:
    """The dataset of real history in ``directory`` (see the module docstring for the layouts)."""
    return load_replay(directory).dataset


def load_replay(directory: Path) -> ReplayLoad:
    """Like :func:`load_replay_dataset`, with the per-file report (``loaded``, ``skipped``, ``notes``)."""
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
    """Times as epoch ms from ISO strings or epoch seconds / ms / µs / ns, decided by magnitude row by row.

    Row by row because one file can change unit part-way (Binance spot public-data files switched to microseconds
    on 2025-01-01; a file spanning that date has both).
    """
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        arr = numeric.to_numpy(np.float64)
        mag = np.abs(arr)
        scaled = np.where(mag > 1e17, arr / 1e6, np.where(mag > 1e14, arr / 1e3, np.where(mag > 1e11, arr, arr * 1e3)))
        return np.floor(scaled).astype(np.int64)
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


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _crypto_pair(symbol: str) -> bool:
    return bool(re.search(r"(USDT|USDC|BUSD|FDUSD|USD_PERP|USD|BTC|ETH)$", symbol)) and len(symbol) > 4


def kline_columns(header: list[str]) -> dict[str, int] | None:
    """Positions of the kline fields in ``header``, recognised by name (:data:`KLINE_ALIASES`), or None when the
    file lacks a time column or any of open/high/low/close. The first alias found wins (``open_time`` over a
    ``datetime`` text column beside it)."""
    names = [_norm(h) for h in header]
    found: dict[str, int] = {}
    for target, aliases in KLINE_ALIASES.items():
        for alias in aliases:
            if alias in names and names.index(alias) not in found.values():
                found[target] = names.index(alias)
                break
    if not {"open_time", "open", "high", "low", "close"} <= set(found):
        return None
    return found


def market_of(rel_path: str, symbol: str, price_only: bool) -> str:
    """The market a kline file belongs to, from its path: one market per figure, never a mix.

    ``bybit`` -> ``bybit_linear`` (``bybit_spot`` when the path says spot); ``coinm``/``cm``/``_PERP`` symbols ->
    Binance COIN-M; ``usdm``/``um``/``futures``/``fapi`` -> Binance USD-M; anything else Binance spot (the files'
    usual origin; the load note says so). Price-only files (every volume 0: mark/index price) get ``_mark``.
    """
    low = rel_path.lower()
    tokens = set(re.split(r"[^a-z0-9]+", low))
    if "bybit" in low:
        market = "bybit_spot" if "spot" in tokens else "bybit_linear"
    elif symbol.endswith("_PERP") or tokens & {"coinm", "cm", "dapi"} or "coin-m" in low:
        market = "binance_coinm"
    elif tokens & {"usdm", "um", "futures", "fapi", "perp", "perps", "usdt-m"} or "usd-m" in low:
        market = "binance_usdm"
    else:
        market = SPOT
    if price_only or "markprice" in low.replace("_", ""):
        # Mark and index prices exist only for derivatives: a price-only Binance file is a USD-M one.
        return f"{'binance_usdm' if market == SPOT else market}_mark"
    return market


def _line_ref(rel: str, line: int) -> str:
    return f"{rel}:{line}"


def dedupe(frame: pd.DataFrame, key: list[str], value_cols: list[str], what: str) -> tuple[pd.DataFrame, list[str]]:
    """Drop identical duplicate rows of ``key``; for rows that disagree keep the later one and report both.

    ``frame`` carries ``_ref`` (``file:line``) per row, in load order; values are compared with a relative
    tolerance of 1e-9 (NaN equals NaN). Returns the frame without ``_ref`` duplicates and the report lines.
    """
    dup = frame.duplicated(key, keep=False)
    if not dup.any():
        return frame, []
    notes: list[str] = []
    identical = 0
    drop: list[int] = []
    for _, group in frame[dup].groupby(key, sort=False):
        values = group[value_cols].to_numpy(np.float64)
        same = np.all(np.isclose(values, values[-1], rtol=1e-9, atol=0.0, equal_nan=True))
        drop.extend(group.index[:-1])
        if same:
            identical += len(group) - 1
        else:
            label = ", ".join(str(group.iloc[-1][k]) for k in key)
            refs = " and ".join(group["_ref"].astype(str))
            notes.append(f"conflicting duplicate {what} {label}: {refs} disagree; kept {group['_ref'].iloc[-1]}")
    if identical:
        notes.append(f"{identical} identical duplicate {what} row{'s' if identical != 1 else ''} dropped")
    return frame.drop(index=drop), notes


def _session_filter(days: list[Any], rel: str, what: str) -> tuple[np.ndarray, str]:
    """Mask of the rows on NYSE sessions and a note naming what was dropped (empty when nothing was)."""
    mask = is_us_session(days)
    if mask.all():
        return mask, ""
    off = [str(d) for d, ok in zip(days, mask, strict=True) if not ok]
    shown = ", ".join(off[:4]) + (" ..." if len(off) > 4 else "")
    return mask, f"{rel}: {len(off)} {what} row{'s' if len(off) != 1 else ''} on non-session days dropped ({shown})"


# ----------------------------------------------------------------------------------------------- builder


class _Builder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.loaded: list[LoadedFile] = []
        self.skipped: list[SkippedFile] = []
        self.notes: list[str] = []
        # (market, symbol, interval) -> list of (quality, frame with _ref)
        self.klines: dict[tuple[str, str, int], list[tuple[int, pd.DataFrame]]] = {}
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
                "time": cast(pd.DatetimeIndex, frame.index).as_unit("ms").asi8, "value": frame["value"].to_numpy(),
                "classification": frame["classification"].to_numpy(),
                "_ref": [f"{self.rel(path)}:data[{i}]" for i in range(len(frame))],
            }))  # fmt: skip
            self.loaded.append(
                LoadedFile(self.rel(path), "alternative.me fng JSON", "fear_greed", len(frame))
            )
        else:
            raise _Unrecognised("JSON layout not recognised (expected alternative.me fng or ETF daily_flows)")

    def _etf_json(self, path: Path, raw: dict[str, Any]) -> None:
        meta = raw.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        description = str(meta.get("description", ""))
        records = raw["daily_flows"]
        dates, rows, totals, refs = [], [], [], []
        for i, item in enumerate(records):
            if not isinstance(item, dict) or "date" not in item or not isinstance(item.get("flows"), dict):
                raise ValueError(f"daily_flows[{i}]: expected date and flows")
            dates.append(pd.Timestamp(item["date"]).date())
            rows.append({k: (np.nan if v is None else float(v)) for k, v in item["flows"].items()})
            total = item.get("total")
            totals.append(np.nan if total is None else float(total))
            refs.append(f"{self.rel(path)}:daily_flows[{i}]")
        frame = pd.DataFrame(rows, dtype=float)
        frame["Total"] = totals
        unit = 1e6  # the JSON carries US$M (its metadata says so; Farside's unit)
        asset = self._etf_asset(frame.columns)
        frame = frame * unit
        frame = self._etf_rows(frame, dates, refs, self.rel(path))
        self.etf.setdefault(asset, []).append((True, frame))
        note = f"US$M -> USD ({description[:60]})" if description else "US$M -> USD"
        self.loaded.append(
            LoadedFile(self.rel(path), "ETF flows JSON", f"etf_flows[{asset}]", len(frame), note)
        )

    def _etf_rows(self, frame: pd.DataFrame, dates: list[Any], refs: list[str], rel: str) -> pd.DataFrame:
        """Index ETF rows by date: duplicates resolved and reported, non-session days dropped and noted."""
        frame = frame.reset_index(drop=True)
        frame["_date"] = dates
        frame["_ref"] = refs
        values = [c for c in frame.columns if c not in ("_date", "_ref")]
        frame, notes = dedupe(frame, ["_date"], values, "ETF day")
        self.notes.extend(notes)
        mask, note = _session_filter(list(frame["_date"]), rel, "ETF flow")
        if note:
            self.notes.append(note)
        frame = frame[mask]
        out = frame[values].copy()
        out.index = pd.Index(list(frame["_date"]), name="date")
        return out

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
            self._binance_kline(path, text)
        elif {"value", "classification"} <= cols and ("timestamp" in cols or "date" in cols):
            self._fng_csv(path, text)
        elif len(header) == 2 and header[0] in ("observation_date", "DATE"):
            from sources.fred import parse_fredgraph_csv

            series = parse_fredgraph_csv(text)
            values = series.values
            self.rates[series.series_id] = pd.DataFrame({
                "time": cast(pd.DatetimeIndex, values.index).as_unit("ms").asi8, "value": values.to_numpy(np.float64),
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
        elif (mapping := kline_columns(header)) is not None:
            symbol, _ = _interval_from_name(path.stem)
            if "volume" in mapping:
                self._named_kline(path, text, header, mapping)
            elif not _crypto_pair(symbol):
                self._equity_intraday(path, text, lower, symbol)
            else:
                raise _Unrecognised("crypto OHLC without a volume column")
        elif {"percentage", "depth", "notional"} <= cols:
            raise _Unrecognised("order-book depth snapshots (bookDepth): the dataset has no order-book field")
        else:
            raise _Unrecognised(f"CSV header not recognised: {','.join(header)[:80]}")

    # --- klines
    def _store_kline(self, path: Path, kind: str, quality: int, frame: pd.DataFrame, notes: str,
                     first_line: int) -> None:  # fmt: skip
        symbol, interval = _interval_from_name(path.stem)
        spacing = _spacing(np.sort(frame["open_time"].to_numpy(np.int64)))
        if interval is None:
            if spacing is None:
                raise _Unrecognised(
                    "kline file without an interval in its name and too few rows to infer one"
                )
            interval = spacing
        elif spacing is not None and spacing != interval:
            raise ValueError(f"name says {interval} ms bars but rows are {spacing} ms apart")
        rel = self.rel(path)
        market = market_of(rel, symbol, quality == _QUALITY["price_only"])
        if market == SPOT and not any(t in rel.lower() for t in ("spot", "binance")):
            notes = f"{notes}; taken as Binance spot (the path names no other market)".strip("; ")
        frame = frame.copy()
        frame["_ref"] = [_line_ref(rel, first_line + i) for i in range(len(frame))]
        self.klines.setdefault((market, symbol, interval), []).append((quality, frame))
        target = f"markets[{market}][{symbol}][{interval}]"
        self.loaded.append(LoadedFile(rel, kind, target, len(frame), notes))

    def _binance_kline(self, path: Path, text: str) -> None:
        """The headerless Binance public-data layout (12 numeric columns)."""
        frame = pd.read_csv(io.StringIO(text), header=None, names=BINANCE_KLINE_HEADER)
        mapping = {name: i for i, name in enumerate(BINANCE_KLINE_HEADER) if name in KLINE_ALIASES}
        self._kline_from(path, frame, mapping, kind="Binance public-data kline CSV (12 columns)", first_line=1,
                         unused=[])  # fmt: skip

    def _named_kline(self, path: Path, text: str, header: list[str], mapping: dict[str, int]) -> None:
        frame = pd.read_csv(io.StringIO(text), header=0)
        used = set(mapping.values())
        unused = [h for i, h in enumerate(header) if i not in used]
        binance = [_norm(h) for h in header][:12] == BINANCE_KLINE_HEADER
        kind = "Binance public-data kline CSV (12 columns)" if binance else "kline CSV (columns by name)"
        self._kline_from(path, frame, mapping, kind=kind, first_line=2, unused=unused)

    def _kline_from(self, path: Path, frame: pd.DataFrame, mapping: dict[str, int], *, kind: str,
                    first_line: int, unused: list[str]) -> None:  # fmt: skip
        column = {target: frame.iloc[:, pos] for target, pos in mapping.items()}
        n = len(frame)
        cols: dict[str, np.ndarray] = {"open_time": _epoch_ms(column["open_time"])}
        for name in ("open", "high", "low", "close", "volume"):
            cols[name] = pd.to_numeric(column[name], errors="raise").to_numpy(np.float64)
        self._check_prices(cols)
        taker = "taker_buy_quote_volume" in column
        if "quote_volume" in column:
            cols["quote_volume"] = pd.to_numeric(column["quote_volume"], errors="raise").to_numpy(np.float64)
        else:
            cols["quote_volume"] = cols["close"] * cols["volume"]
        cols["count"] = (pd.to_numeric(column["count"], errors="raise").to_numpy(np.int64) if "count" in column
                         else np.zeros(n, dtype=np.int64))  # fmt: skip
        for name in ("taker_buy_volume", "taker_buy_quote_volume"):
            cols[name] = (pd.to_numeric(column[name], errors="raise").to_numpy(np.float64) if name in column
                          else np.full(n, np.nan))  # fmt: skip
        notes: list[str] = []
        if n and not cols["volume"].any() and not cols["quote_volume"].any():
            cols["taker_buy_volume"] = np.full(n, np.nan)
            cols["taker_buy_quote_volume"] = np.full(n, np.nan)
            kind = f"{kind}, mark/index price (all volumes 0)"
            quality = _QUALITY["price_only"]
            notes.append("prices only; volumes unusable, CVD unknown")
        elif taker:
            quality = _QUALITY["taker"]
            notes.append("taker split present: CVD known")
        elif "quote_volume" in column:
            quality = _QUALITY["turnover"]
            notes.append("quote volume from the file; no taker split: CVD unknown")
        else:
            quality = _QUALITY["ohlcv"]
            notes.append("quote volume ESTIMATED as close*volume; no taker split: CVD unknown")
        ignored = [u for u in unused if _norm(u) not in KLINE_KNOWN_UNUSED]
        if unused:
            notes.append(f"columns not used: {', '.join(unused)}" + ("" if not ignored else " (not recognised)"))
        self._store_kline(path, kind, quality, pd.DataFrame(cols)[KLINE_COLUMNS], "; ".join(notes), first_line)

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
        rel = self.rel(path)
        self.fear_greed.append(
            pd.DataFrame(
                {
                    "time": times,
                    "value": values,
                    "classification": frame["classification"].astype(str).to_numpy(),
                    "_ref": [_line_ref(rel, 2 + i) for i in range(len(frame))],
                }
            )
        )
        self.loaded.append(LoadedFile(rel, "Fear & Greed CSV", "fear_greed", len(frame)))

    def _etf_long(self, path: Path, text: str) -> None:
        frame = pd.read_csv(io.StringIO(text), dtype={"ticker": str})
        frame.columns = [c.lower() for c in frame.columns]
        rel = self.rel(path)
        frame["_ref"] = [_line_ref(rel, 2 + i) for i in range(len(frame))]
        frame["ticker"] = frame["ticker"].str.upper().str.strip()
        known = frame["ticker"].isin(BTC_ETF | ETH_ETF)
        ignored = sorted(set(frame.loc[~known, "ticker"]))
        frame = frame[known]
        if frame.empty:
            raise _Unrecognised(f"ETF flows file without US spot BTC/ETH ETFs (tickers {ignored[:6]})")
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        frame["flow_usd"] = pd.to_numeric(frame["flow_usd"], errors="raise")
        # A repeated (day, fund) row would otherwise be summed into a doubled flow.
        frame, notes = dedupe(frame, ["date", "ticker"], ["flow_usd"], "ETF fund day")
        self.notes.extend(notes)
        mask, note = _session_filter(list(frame["date"]), rel, "ETF flow")
        if note:
            self.notes.append(note)
        frame = frame[mask]
        wide = frame.pivot(index="date", columns="ticker", values="flow_usd").astype(np.float64)
        wide.columns.name = None
        wide.index.name = "date"
        for asset, tickers in (("btc", BTC_ETF), ("eth", ETH_ETF)):
            part = wide[[c for c in wide.columns if c in tickers]]
            if part.shape[1] == 0:
                continue
            part = part.copy()
            part["Total"] = np.nan  # only some funds of the family: the net total is unknown
            self.etf.setdefault(asset, []).append((False, part))
            notes_text = f"USD; funds {list(part.columns[:-1])}; Total unknown"
            if ignored:
                notes_text += f"; ignored non-crypto tickers {ignored}"
            self.loaded.append(LoadedFile(rel, "ETF flows long CSV", f"etf_flows[{asset}]",
                                          len(part), notes_text))  # fmt: skip

    def _etf_wide(self, path: Path, text: str, header: list[str]) -> None:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        rel = self.rel(path)
        date_col = frame.columns[0]
        dates = list(pd.to_datetime(frame.pop(date_col)).dt.date)
        # Cells as Farside prints them: "-"/blank = not reported (NaN), "(1.2)" negatives, thousands commas.
        frame = frame.apply(lambda col: [parse_flow_value(v, rel, str(col.name)) / 1e6 for v in col])
        in_usd = any(str(c).lower().endswith("_usd") for c in frame.columns)
        frame.columns = [re.sub(r"_usd$", "", str(c), flags=re.I) for c in frame.columns]
        frame.columns = ["Total" if c.lower() == "total" else c.upper() for c in frame.columns]
        frame = frame.astype(np.float64) * (1.0 if in_usd else 1e6)
        has_total = "Total" in frame.columns
        if not has_total:
            frame["Total"] = frame.sum(axis=1, min_count=1)
        asset = self._etf_asset(frame.columns)
        frame = self._etf_rows(frame, dates, [_line_ref(rel, 2 + i) for i in range(len(frame))], rel)
        self.etf.setdefault(asset, []).append((True, frame))
        unit = "USD" if in_usd else "US$M -> USD"
        notes = unit + ("" if has_total else "; Total = sum of funds")
        self.loaded.append(LoadedFile(rel, "ETF flows wide CSV", f"etf_flows[{asset}]", len(frame), notes))

    def _funding(self, path: Path, text: str, lower: list[str]) -> None:
        frame = pd.read_csv(io.StringIO(text))
        frame.columns = lower
        name = path.stem
        rel = self.rel(path)
        refs = np.array([_line_ref(rel, 2 + i) for i in range(len(frame))], dtype=object)
        parts: list[pd.DataFrame] = []
        if "symbol" in lower and "fundingtime" in lower:
            coins = frame["symbol"].astype(str).str.replace(r"(USDT|USDC|USD|_PERP)+$", "", regex=True)
            parts.append(
                pd.DataFrame(
                    {
                        "time": _epoch_ms(frame["fundingtime"]),
                        "exchange": "binance",
                        "coin": coins.to_numpy(),
                        "rate": frame["fundingrate"].astype(float),
                        "_ref": refs,
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
                                           "rate": frame["fundingrate"].astype(float), "_ref": refs}))  # fmt: skip
            for col in lower:
                if col.startswith("fr_") and col[3:] in EXCHANGES:
                    rate = pd.to_numeric(frame[col], errors="raise")
                    parts.append(pd.DataFrame(
                        {"time": times, "exchange": col[3:], "coin": coin, "rate": rate, "_ref": refs}
                    ))  # fmt: skip
        out = pd.concat(parts, ignore_index=True).dropna(subset=["rate"])
        # Settlement stamps carry a few ms of jitter (``16:00:00.001``): funding settles on the minute.
        out["time"] = (out["time"].to_numpy(np.int64) + 30_000) // 60_000 * 60_000
        self.funding.append(out)
        exchanges = sorted(out["exchange"].unique())
        notes = f"exchanges {exchanges}, coins {sorted(out['coin'].unique())}; times rounded to the minute"
        self.loaded.append(LoadedFile(rel, "funding CSV", "funding", len(out), notes))

    def _macro(self, path: Path, text: str, lower: list[str]) -> None:
        frame = pd.read_csv(io.StringIO(text))
        frame.columns = lower
        rel = self.rel(path)
        days = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
        sessions = is_us_session(list(days.date))
        opens = (days + pd.Timedelta(hours=9, minutes=30)).tz_localize("America/New_York").tz_convert("UTC")
        times = opens.as_unit("ms").asi8
        used = []
        dropped: set[str] = set()
        for col, symbol in MACRO_SYMBOLS.items():
            if col not in frame.columns:
                continue
            close = pd.to_numeric(frame[col], errors="raise").to_numpy(np.float64)
            # A value on a weekend or exchange holiday is a vendor's carried-forward close, not a session.
            off = ~np.isnan(close) & ~sessions
            dropped.update(str(d) for d in days.date[off])
            keep = ~np.isnan(close) & sessions
            nan = np.full(int(keep.sum()), np.nan)
            self.equities[symbol] = pd.DataFrame({"time": times[keep], "open": nan, "high": nan, "low": nan,
                                                  "close": close[keep], "volume": nan})  # fmt: skip
            used.append(f"{col}->{symbol}")
        if dropped:
            shown = ", ".join(sorted(dropped)[:4]) + (" ..." if len(dropped) > 4 else "")
            self.notes.append(f"{rel}: closes on {len(dropped)} non-session days dropped ({shown})")
        ignored = [c for c in lower[1:] if c not in MACRO_SYMBOLS]
        notes = "close only; " + ", ".join(used) + (f"; ignored {ignored}" if ignored else "")
        notes += "; ^GSPC is the S&P 500 index, not SPY (used as SPY's proxy, labelled so)"
        self.loaded.append(LoadedFile(rel, "macro daily closes CSV", "equities", len(frame), notes))

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
        days = cast(pd.DatetimeIndex, daily.index)  # grouped by the "day" column: tz-naive session dates
        mask, note = _session_filter(list(days.date), self.rel(path), f"{symbol} session")
        if note:
            self.notes.append(note)
        daily = daily[mask]
        session_open = (days[mask] + pd.Timedelta(hours=9, minutes=30)).tz_localize("America/New_York")
        daily.insert(0, "time", session_open.tz_convert("UTC").as_unit("ms").asi8)
        daily["volume"] = np.nan
        self.equities[symbol] = daily.reset_index(drop=True)
        self.loaded.append(LoadedFile(self.rel(path), "intraday equity bars CSV", f"equities[{symbol}]",
                                      len(daily), "regular-session daily bars aggregated from intraday; "
                                      "volume unknown"))  # fmt: skip

    # --- assemble
    def _merge_klines(self, market: str, symbol: str, interval: int,
                      parts: list[tuple[int, pd.DataFrame]]) -> pd.DataFrame:  # fmt: skip
        """One frame per (market, symbol, interval): the best quality per bar; duplicates resolved and reported."""
        frame = pd.concat([f.assign(_q=q) for q, f in parts], ignore_index=True)
        # Rows of a lower-quality layout (OHLCV) never replace a better one (taker split) for the same bar.
        best = frame.groupby("open_time")["_q"].transform("max")
        frame = frame[frame["_q"] == best]
        frame = frame.sort_values("open_time", kind="stable")
        frame, notes = dedupe(frame, ["open_time"], _VALUE_COLUMNS, f"{symbol} {market} bar at")
        self.notes.extend(_humanise_bar_notes(notes))
        return frame.drop(columns=["_q", "_ref"]).reset_index(drop=True)

    def finish(self) -> ReplayLoad:
        dataset = MarketDataset(name=f"replay:{self.root}", simulated=False)
        for (market, symbol, interval), parts in sorted(self.klines.items()):
            frame = self._merge_klines(market, symbol, interval, parts)
            dataset.markets.setdefault(market, {}).setdefault(symbol, {})[interval] = frame
        if self.fear_greed:
            fg = pd.concat(self.fear_greed, ignore_index=True).sort_values("time", kind="stable")
            fg, notes = dedupe(fg, ["time"], ["value"], "Fear & Greed day at")
            self.notes.extend(notes)
            dataset.fear_greed = fg.drop(columns="_ref").reset_index(drop=True)
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
            funding, notes = dedupe(funding, ["time", "exchange", "coin"], ["rate"], "funding settlement")
            self.notes.extend(notes)
            funding = funding.sort_values(["exchange", "coin", "time"], kind="stable").reset_index(drop=True)
            spacing = funding.groupby(["exchange", "coin"])["time"].transform(lambda s: s.diff().median())
            funding["interval_hours"] = (spacing / 3_600_000).round().fillna(8.0)
            dataset.funding = funding[["time", "exchange", "coin", "rate", "interval_hours"]]
        dataset.equities = self.equities
        set_span(dataset)
        dataset.load_notes = list(self.notes)
        dataset.skipped_files = [f"{s.path}: {s.reason}" for s in self.skipped]
        return ReplayLoad(dataset=dataset, loaded=self.loaded, skipped=self.skipped, notes=self.notes)

def set_span(dataset: MarketDataset) -> None:
    """``start_ms``/``data_end_ms`` over every file (or recorded table); ``end_ms``, the default ``--at`` (module
    docstring)."""
    starts: list[int] = []
    ends: list[int] = []
    complete: list[tuple[int, str]] = []  # (last complete instant, which file) of each price frame
    for market, symbols in dataset.markets.items():
        for symbol, frames in symbols.items():
            for interval, frame in frames.items():
                if not len(frame):
                    continue
                opens = frame["open_time"].to_numpy(np.int64)
                starts.append(int(opens[0]))
                ends.append(int(opens[-1]) + interval - 1)
                # The last row may be a collector's still-open bar: data is complete up to its open.
                complete.append((int(opens[-1]), f"{symbol} {_interval_label(interval)} ({market})"))
    for table in [dataset.fear_greed, dataset.funding, *dataset.rates.values(), *dataset.equities.values()]:
        if table is not None and len(table):
            starts.append(int(table["time"].min()))
            ends.append(int(table["time"].max()))
    for flows in dataset.etf_flows.values():
        if len(flows):
            days = pd.DatetimeIndex(pd.to_datetime(list(flows.index)))
            starts.append(int(days[0].value // 1_000_000))
            ends.append(int(days[-1].value // 1_000_000) + 86_399_999)
    dataset.start_ms = min(starts) if starts else None
    dataset.data_end_ms = max(ends) if ends else None
    if not complete:
        dataset.end_ms = dataset.data_end_ms
        dataset.end_note = "no price files: the replay ends with its newest data"
        return
    newest = max(t for t, _ in complete)
    current = [(t, name) for t, name in complete if t >= newest - CURRENT_SLACK_MS]
    end, limiting = min(current)
    early = sorted({name.rsplit(" (", 1)[0] for t, name in complete if t < newest - CURRENT_SLACK_MS})
    dataset.end_ms = end
    note = (f"default --at {_fmt_ms(end)}: the last complete time common to the {len(current)} price files "
            f"that reach the end of the data (limited by {limiting}; each file's last row is taken as "
            f"possibly partial)")  # fmt: skip
    if early:
        note += f"; ended earlier: {', '.join(early[:8])}" + (" ..." if len(early) > 8 else "")
    dataset.end_note = note


def _interval_label(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _fmt_ms(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")


def _humanise_bar_notes(notes: list[str]) -> list[str]:
    """Bar keys are epoch ms in :func:`dedupe`'s notes; show them as UTC times."""
    out = []
    for note in notes:
        out.append(re.sub(r"bar at (\d{12,14}):", lambda m: f"bar at {_fmt_ms(int(m.group(1)))}:", note))
    return out
