"""alternative.me Crypto Fear & Greed Index (keyless): ``GET https://api.alternative.me/fng/?limit=N``.

Market meaning: a 0-100 daily sentiment gauge built from volatility, momentum/volume, social media,
dominance and search trends. Readings <= 25 ("Extreme Fear") historically cluster near capitulation lows; >=
75 near euphoric tops. It updates once a day at 00:00 UTC.

Wire format ([3rd], many client copies): ``{"name": "Fear and Greed Index", "data": [{"value": "40",
"value_classification": "Fear", "timestamp": "1551157200", "time_until_update": "68499"}, ...],
"metadata": {"error": null}}``. Every value is a **string**, ``timestamp`` is **seconds**, newest first, and
only the newest entry has ``time_until_update``. ``limit=0`` returns the full history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sources.errors import SourceError
from sources.http import HttpClient
from sources.values import field, req_float, to_float, to_int

PROVIDER = "alternative.me"
ENDPOINT = "/fng/"
DEFAULT_BASE_URL = "https://api.alternative.me"
CLASSES = ("Extreme Fear", "Fear", "Neutral", "Greed", "Extreme Greed")


@dataclass
class FearGreed:
    """The index history, oldest first.

    ``frame``: indexed by UTC day start (``DatetimeIndex`` tz=UTC, name ``time``) with ``value`` (float
    0-100) and
    ``classification`` (the API's own label). ``next_update_s``: seconds until the next value (newest entry
    only).
    """

    frame: pd.DataFrame
    next_update_s: float | None

    @property
    def latest_value(self) -> float:
        return float(self.frame["value"].iloc[-1])

    @property
    def latest_classification(self) -> str:
        return str(self.frame["classification"].iloc[-1])

    @property
    def as_of(self) -> pd.Timestamp:
        return self.frame.index[-1]


def parse_fng(raw: Any, endpoint: str = ENDPOINT) -> FearGreed:
    """API body -> :class:`FearGreed`; rejects non-numeric values, values outside 0-100 and unknown labels."""
    metadata = raw.get("metadata") if isinstance(raw, dict) else None
    if isinstance(metadata, dict) and metadata.get("error"):
        raise SourceError(
            PROVIDER, endpoint, f"API error: {str(metadata['error'])[:120]}", field="metadata.error"
        )
    data = field(raw, "data", PROVIDER, endpoint)
    if not isinstance(data, list):
        raise SourceError(PROVIDER, endpoint, f"expected a list, got {type(data).__name__}", field="data")
    if not data:
        raise SourceError(PROVIDER, endpoint, "no index values", field="data")
    times = np.empty(len(data), dtype=np.int64)
    values = np.empty(len(data), dtype=np.float64)
    labels: list[str] = []
    next_update: float | None = None
    for i, item in enumerate(data):
        value = req_float(field(item, "value", PROVIDER, endpoint), PROVIDER, endpoint, "value")
        if not 0 <= value <= 100:
            raise SourceError(PROVIDER, endpoint, f"value {value} outside 0-100", field="value")
        label = field(item, "value_classification", PROVIDER, endpoint)
        if label not in CLASSES:
            raise SourceError(
                PROVIDER, endpoint, f"unknown class {str(label)[:30]!r}", field="value_classification"
            )
        seconds = to_int(field(item, "timestamp", PROVIDER, endpoint), PROVIDER, endpoint, "timestamp")
        if not 1_000_000_000 <= seconds <= 10_000_000_000:
            raise SourceError(
                PROVIDER, endpoint, f"timestamp {seconds} is not in epoch seconds", field="timestamp"
            )
        times[i] = seconds
        values[i] = value
        labels.append(label)
        if i == 0 and "time_until_update" in item:
            next_update = to_float(item["time_until_update"], PROVIDER, endpoint, "time_until_update",
                                   allow_none=True)  # fmt: skip
    order = np.argsort(times, kind="stable")
    times = times[order]
    if np.any(np.diff(times) == 0):
        raise SourceError(PROVIDER, endpoint, "duplicate timestamps", field="timestamp")
    frame = pd.DataFrame(
        {"value": values[order], "classification": [labels[j] for j in order]},
        index=pd.DatetimeIndex(pd.to_datetime(times, unit="s", utc=True), name="time"),
    )
    return FearGreed(frame=frame, next_update_s=next_update)


class AlternativeMe:
    """Keyless Fear & Greed client (limit about 60 requests/min; the value changes once a day)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def fear_greed(self, limit: int = 30) -> FearGreed:
        """The newest ``limit`` daily values (0 = the whole history since 2018-02-01)."""
        raw = await self.http.get_json(
            PROVIDER,
            ENDPOINT,
            self.base_url + ENDPOINT,
            params={"limit": max(0, int(limit)), "format": "json"},
        )
        return parse_fng(raw)
