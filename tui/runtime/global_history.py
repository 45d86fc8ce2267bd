"""The kept history of CoinGecko ``/global`` snapshots: BTC dominance and stablecoin share over time.

CoinGecko's keyless tier has no dominance history, so the 30-day dominance and stablecoin-share changes rest on
snapshots the console keeps itself: one row per fetch, the last 45 days, saved as CSV in the user's data
directory in live mode (so the change survives restarts; demo and replay keep theirs in memory).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
GLOBAL_HISTORY_DAYS = 45
GLOBAL_COLUMNS = ["time", "btc_dominance_pct", "stablecoin_share_pct", "total_mcap_usd"]


def global_history_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("altpulse", appauthor=False)) / "coingecko_global.csv"


class GlobalHistory:
    """Bounded history of CoinGecko ``/global`` snapshots (one row per fetch, last 45 days)."""

    def __init__(self, path: Path | None = None, *, save: bool = False) -> None:
        import pandas as pd

        self.path = path
        self.save = save
        self.frame = pd.DataFrame(columns=GLOBAL_COLUMNS)
        if path is not None and path.is_file():
            try:
                loaded = pd.read_csv(path)
                if list(loaded.columns) == GLOBAL_COLUMNS:
                    loaded["time"] = pd.to_datetime(loaded["time"], utc=True)
                    self.frame = loaded.dropna()
            except (OSError, ValueError) as exc:  # a damaged file is not worth failing the feed for
                log.warning("ignoring unreadable %s: %s", path, exc)

    def add(self, snapshot: Any) -> None:
        import pandas as pd

        row = pd.DataFrame([{
            "time": pd.Timestamp(snapshot.time), "btc_dominance_pct": snapshot.btc_dominance_pct,
            "stablecoin_share_pct": snapshot.stablecoin_share_pct, "total_mcap_usd": snapshot.total_mcap_usd,
        }])  # fmt: skip
        frame = pd.concat([self.frame, row], ignore_index=True) if len(self.frame) else row
        frame = frame.drop_duplicates("time", keep="last").sort_values("time")
        cutoff = frame["time"].iloc[-1] - pd.Timedelta(days=GLOBAL_HISTORY_DAYS)
        self.frame = frame[frame["time"] >= cutoff].reset_index(drop=True)
        if self.path is not None and self.save:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.frame.to_csv(self.path, index=False)
            except OSError as exc:
                log.warning("cannot save %s: %s", self.path, exc)
