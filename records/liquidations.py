"""Liquidation records and the tape frame schema.

A liquidation is the exchange closing a leveraged position whose margin ran out; ``side`` is the *position* that
was liquidated (a wave of long liquidations is forced selling). Sizes are in coins, prices and notionals in USD
(USDT taken as USD). The parsers that build these records from each venue's messages are in
:mod:`sources.liquidations`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Side = Literal["long", "short"]


BINANCE = "binance"


BYBIT = "bybit"


OKX = "okx"


#: Columns of a liquidation tape frame (what :func:`records_to_frame` builds and analytics reads).
TAPE_COLUMNS = ["time", "exchange", "coin", "side", "qty", "price", "notional_usd"]


@dataclass(frozen=True)
class Liquidation:
    """One forced liquidation.

    time: epoch ms (UTC) of the fill as the venue reports it; ``side``: the *position* that was liquidated;
    ``qty``: coins (venue scaling such as 1000PEPE undone); ``price``: USD per coin (USDT = USD);
    ``notional_usd``: qty x price as the venue defines it (see module docstring); ``symbol``: the venue's own
    instrument name, kept for display and debugging.
    """

    time: int
    exchange: str
    coin: str
    side: Side
    qty: float
    price: float
    notional_usd: float
    symbol: str = ""

    @property
    def timestamp(self) -> pd.Timestamp:
        return pd.Timestamp(self.time, unit="ms", tz="UTC")


def records_to_frame(records: Iterable[Liquidation]) -> pd.DataFrame:
    """Records -> a tape frame with :data:`TAPE_COLUMNS` (``time`` int64 epoch ms), sorted by time."""
    rows = list(records)
    frame = pd.DataFrame(
        {
            "time": np.fromiter((r.time for r in rows), dtype=np.int64, count=len(rows)),
            "exchange": [r.exchange for r in rows],
            "coin": [r.coin for r in rows],
            "side": [r.side for r in rows],
            "qty": np.fromiter((r.qty for r in rows), dtype=np.float64, count=len(rows)),
            "price": np.fromiter((r.price for r in rows), dtype=np.float64, count=len(rows)),
            "notional_usd": np.fromiter((r.notional_usd for r in rows), dtype=np.float64, count=len(rows)),
        },
        columns=TAPE_COLUMNS,
    )
    return frame.sort_values("time", kind="stable", ignore_index=True)


def empty_tape() -> pd.DataFrame:
    return records_to_frame([])
