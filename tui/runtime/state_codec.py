"""JSON for what feeds put in the market state, so a follower can show exactly what the collector fetched.

A feed delivers dataclass records (tickers, funding snapshots, ETF tables...) holding pandas frames, series and
timestamps. :func:`encode` turns such a value into JSON-able data with type tags; :func:`decode` builds it back.
Only the classes in :data:`CLASSES` are rebuilt (a store is data, never code: nothing is imported by name from the
file). Frames keep their dtypes, index and time zones; NaN and infinities survive (Python's JSON allows them).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd


def _classes() -> dict[str, type]:
    from analytics.market_cvd import MarketPairs
    from records.derivs import CoinKey, DerivsSnapshot, FundingQuote, LongShortRatio, OpenInterest
    from sources.alternative_me import FearGreed
    from sources.binance_spot import Ticker24h
    from sources.coingecko import GlobalMarket
    from sources.farside import EtfFlows
    from sources.fred import FredSeries
    from sources.ws import StreamStatus
    from sources.yahoo import EquityBars

    found = (CoinKey, DerivsSnapshot, FundingQuote, OpenInterest, FearGreed, Ticker24h, GlobalMarket, EtfFlows,
             FredSeries, StreamStatus, EquityBars, LongShortRatio, MarketPairs)  # fmt: skip
    return {cls.__name__: cls for cls in found}


_CLASSES: dict[str, type] | None = None


def classes() -> dict[str, type]:
    """The record classes a payload may hold, by name (imported on first use: the sources are heavy)."""
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = _classes()
    return _CLASSES


class CodecError(ValueError):
    """A payload this console cannot rebuild (an unknown class, a damaged document)."""


def dumps(value: Any) -> str:
    return json.dumps(encode(value), separators=(",", ":"))


def loads(text: str) -> Any:
    try:
        return decode(json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise CodecError(f"unreadable payload: {exc}") from None


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | np.integer | np.floating):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, pd.Timestamp):
        return {"$ts": int(value.value), "tz": None if value.tz is None else str(value.tz)}
    if isinstance(value, pd.DataFrame):
        return {"$df": {"columns": [str(c) for c in value.columns],
                        "data": [_column(value[c]) for c in value.columns], "index": _index(value.index)}}  # fmt: skip
    if isinstance(value, pd.Series):
        return {"$series": _column(value), "index": _index(value.index), "name": value.name}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in classes():
            raise CodecError(f"cannot record a {name}")
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"$dc": name, "f": fields}
    if isinstance(value, dict):
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, frozenset | set):
        return {"$set": sorted(encode(v) for v in value)}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if hasattr(value, "isoformat") and type(value).__name__ == "date":
        return {"$date": value.isoformat()}
    raise CodecError(f"cannot record a {type(value).__name__}")


def _column(series: pd.Series) -> dict[str, Any]:
    dtype: Any = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        tz = getattr(dtype, "tz", None)
        naive = series.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else series
        nanos = naive.to_numpy("datetime64[ns]").astype(np.int64)
        unit = dtype.unit if tz is not None else np.datetime_data(dtype)[0]
        return {"dtype": "datetime64", "tz": None if tz is None else str(tz), "unit": unit,
                "values": nanos.tolist()}  # fmt: skip
    if dtype == np.dtype(object):
        return {"dtype": "object", "values": [encode(v) for v in series.tolist()]}
    if isinstance(dtype, np.dtype):
        return {"dtype": str(dtype), "values": series.to_numpy().tolist()}
    # pandas' own dtypes (str, nullable integers): missing values travel as null
    return {"dtype": str(dtype), "ext": True,
            "values": [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
                       for v in series.tolist()]}  # fmt: skip


def _index(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": index.name}
    out = _column(pd.Series(index))
    out["name"] = index.name
    return out


def _restore_column(spec: dict[str, Any]) -> Any:
    dtype = spec["dtype"]
    values = spec["values"]
    if dtype == "datetime64":
        stamps = pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("datetime64[ns]"))
        if spec.get("tz"):
            stamps = stamps.tz_localize("UTC").tz_convert(spec["tz"])
        return stamps.as_unit(spec.get("unit") or "ns")
    if dtype == "object":
        return np.asarray([decode(v) for v in values] if values else [], dtype=object)
    if spec.get("ext"):
        return pd.array(values, dtype=dtype)
    return np.asarray(values, dtype=dtype)


def _restore_index(spec: dict[str, Any]) -> pd.Index:
    if "range" in spec:
        start, stop, step = spec["range"]
        return pd.RangeIndex(start, stop, step, name=spec.get("name"))
    return pd.Index(_restore_column(spec), name=spec.get("name"))


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$ts" in data:
        stamp = pd.Timestamp(int(data["$ts"]), unit="ns")
        return stamp.tz_localize("UTC").tz_convert(data["tz"]) if data.get("tz") else stamp
    if "$df" in data:
        spec = data["$df"]
        index = _restore_index(spec["index"])
        frame = pd.DataFrame(index=index)
        for name, col in zip(spec["columns"], spec["data"], strict=True):
            values = _restore_column(col)
            frame[name] = pd.Series(values, index=index) if isinstance(values, pd.Index) else values
        return frame
    if "$series" in data:
        values = _restore_column(data["$series"])
        return pd.Series(values, index=_restore_index(data["index"]), name=data.get("name"))
    if "$dc" in data:
        cls = classes().get(data["$dc"])
        if cls is None:
            raise CodecError(f"unknown record class {data['$dc']!r}")
        return cls(**{k: decode(v) for k, v in data["f"].items()})
    if "$map" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["$map"]}
    if "$set" in data:
        return frozenset(decode(v) for v in data["$set"])
    if "$tuple" in data:
        return tuple(decode(v) for v in data["$tuple"])
    if "$date" in data:
        import datetime as dt

        return dt.date.fromisoformat(data["$date"])
    return {k: decode(v) for k, v in data.items()}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
