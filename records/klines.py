"""The kline frame every spot and perp kline parser returns (Binance semantics; quote in USDT).

Indexed by UTC open time. ``taker_buy_quote`` is NaN when the source has no taker split (CVD is then unknown,
never 0); ``provisional`` marks the bar still open (its volumes will grow).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KLINE_FRAME_COLUMNS = [
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "trades",
    "taker_buy_base", "taker_buy_quote", "provisional",
]  # fmt: skip


def empty_klines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "open": pd.Series(dtype=float), "high": pd.Series(dtype=float), "low": pd.Series(dtype=float),
            "close": pd.Series(dtype=float), "volume": pd.Series(dtype=float),
            "quote_volume": pd.Series(dtype=float), "trades": pd.Series(dtype=np.int64),
            "taker_buy_base": pd.Series(dtype=float), "taker_buy_quote": pd.Series(dtype=float),
            "close_time": pd.Series(dtype="datetime64[ms, UTC]"), "provisional": pd.Series(dtype=bool),
        },
        index=pd.DatetimeIndex([], tz="UTC", name="open_time").as_unit("ms"),
    )  # fmt: skip
