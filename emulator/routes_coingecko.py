"""Emulated CoinGecko endpoints: ``/api/v3/global`` and ``/api/v3/coins/markets``.

Served from ``dataset.global_market`` (snapshots: ``time``, ``total_mcap_usd``, ``total_volume_usd``,
``pct_<sym>``) and ``dataset.coin_markets`` (daily snapshots: ``time``, ``id``, ``symbol``, ``name``,
``price``,
``market_cap``, ``rank``), always the newest snapshot at or before ``emu.now_ms()``. JSON numbers, as the real
API sends them. ``market_cap_percentage`` lists only the ten largest shares (so USDC can be missing, as on the
real API). Price changes over 24h/7d/30d come from the snapshot that long before; when the history is shorter
the field is ``null``, as for a newly listed coin. Errors use CoinGecko's ``{"error": "..."}`` body.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse

DAY_MS = 86_400_000
CHANGE_WINDOWS = {"1h": 3_600_000, "24h": DAY_MS, "7d": 7 * DAY_MS, "14d": 14 * DAY_MS, "30d": 30 * DAY_MS,
                  "200d": 200 * DAY_MS, "1y": 365 * DAY_MS}  # fmt: skip


def _error(message: str, status: int = 400) -> EmuResponse:
    return EmuResponse.json({"error": message}, status=status)


def _at_or_before(times: np.ndarray, t: int) -> int:
    """Index of the last time <= t, or -1."""
    return int(np.searchsorted(times, t, side="right")) - 1


@route("GET", "/api/v3/global")
def global_data(request: EmuRequest, emu: Emulator) -> EmuResponse:
    frame = emu.dataset.global_market
    if frame is None or not len(frame):
        return _error("emulator: no global market data in this dataset", status=404)
    times = frame["time"].to_numpy(np.int64)
    now = emu.now_ms()
    i = _at_or_before(times, now)
    if i < 0:
        return _error("emulator: no global market data before this time", status=404)
    row = frame.iloc[i]
    pct_cols = [c for c in frame.columns if c.startswith("pct_")]
    shares = {c[4:]: float(row[c]) for c in pct_cols if not np.isnan(row[c])}
    top10 = dict(sorted(shares.items(), key=lambda kv: -kv[1])[:10])
    j = _at_or_before(times, int(times[i]) - DAY_MS)
    change = None
    if j >= 0:
        change = (float(row["total_mcap_usd"]) / float(frame["total_mcap_usd"].iloc[j]) - 1) * 100
    total = float(row["total_mcap_usd"])
    payload = {
        "data": {
            "active_cryptocurrencies": 17_400,
            "upcoming_icos": 0,
            "ongoing_icos": 49,
            "ended_icos": 3376,
            "markets": 1_290,
            "total_market_cap": {"usd": total},
            "total_volume": {"usd": float(row["total_volume_usd"])},
            "market_cap_percentage": top10,
            "market_cap_change_percentage_24h_usd": change,
            "updated_at": int(times[i] // 1000),
        }
    }
    return EmuResponse.json(payload)


def _snapshots(emu: Emulator) -> tuple[np.ndarray, dict[int, pd.DataFrame]] | None:
    """Snapshot times and each snapshot indexed by coin id (memoised per dataset frame)."""
    frame = emu.dataset.coin_markets
    if frame is None or not len(frame):
        return None
    key = ("coingecko_snapshots", id(frame))
    cached = emu.cache.get(key)
    if cached is None:
        groups = {int(cast(np.int64, t)): g.set_index("id") for t, g in frame.groupby("time", sort=True)}
        cached = (np.array(sorted(groups), dtype=np.int64), groups)
        emu.cache[key] = cached
    return cached


def _num(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


@route("GET", "/api/v3/coins/markets")
def coins_markets(request: EmuRequest, emu: Emulator) -> EmuResponse:
    if request.query.get("vs_currency", "").lower() != "usd":
        return _error("invalid vs_currency")
    try:
        per_page = max(1, min(250, int(request.query.get("per_page", "100") or 100)))
        page = max(1, int(request.query.get("page", "1") or 1))
    except ValueError:
        return _error("invalid per_page or page")
    windows = [w.strip() for w in request.query.get("price_change_percentage", "").split(",") if w.strip()]
    if any(w not in CHANGE_WINDOWS for w in windows):
        return _error("invalid price_change_percentage")
    snaps = _snapshots(emu)
    if snaps is None:
        return EmuResponse.json([])
    times, groups = snaps
    now = emu.now_ms()
    i = _at_or_before(times, now)
    if i < 0:
        return EmuResponse.json([])
    snap = groups[int(times[i])].sort_values("market_cap", ascending=False)
    chunk = snap.iloc[(page - 1) * per_page : page * per_page]
    earlier: dict[str, pd.DataFrame | None] = {}
    for w in {"24h", *windows}:
        j = _at_or_before(times, int(times[i]) - CHANGE_WINDOWS[w])
        earlier[w] = groups[int(times[j])] if j >= 0 and times[j] < times[i] else None
    stamp = pd.Timestamp(int(times[i]), unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.000Z")
    out: list[dict[str, Any]] = []
    for rank, (coin_id, row) in enumerate(chunk.iterrows(), start=(page - 1) * per_page + 1):
        price = float(row["price"])
        item: dict[str, Any] = {
            "id": coin_id, "symbol": str(row["symbol"]).lower(), "name": str(row["name"]),
            "image": f"https://coin-images.coingecko.com/coins/images/0/large/{coin_id}.png",
            "current_price": price, "market_cap": _num(float(row["market_cap"])), "market_cap_rank": rank,
            "fully_diluted_valuation": None, "total_volume": _num(float(row.get("total_volume", np.nan))),
            "high_24h": None, "low_24h": None,
        }  # fmt: skip
        changes: dict[str, float | None] = {}
        for w, prev in earlier.items():
            prev_price = 0.0  # no earlier snapshot of the coin: no change
            if prev is not None and coin_id in prev.index:
                prev_price = float(cast(float, prev.at[coin_id, "price"]))
            changes[w] = (price / prev_price - 1) * 100 if prev_price > 0 else None
        item["price_change_percentage_24h"] = changes["24h"]
        item["last_updated"] = stamp
        for w in windows:
            item[f"price_change_percentage_{w}_in_currency"] = changes[w]
        out.append(item)
    return EmuResponse.json(out)
