"""CoinGecko (keyless public tier): market-wide capitalisation, BTC dominance and the top-100 coin list.

- ``GET /api/v3/global``: ``{"data": {"total_market_cap": {"usd": ...}, "total_volume": {"usd": ...},
  "market_cap_percentage": {"btc": 57.1, "eth": 11.9, "usdt": 4.1, ... top 10 only},
  "market_cap_change_percentage_24h_usd": -1.2, "updated_at": <epoch seconds>, ...}}`` (JSON numbers).
- ``GET /api/v3/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=100&page=1
  &price_change_percentage=30d``: a list of ``{id, symbol, name, current_price, market_cap, market_cap_rank,
  total_volume, price_change_percentage_24h, price_change_percentage_30d_in_currency, ...}``. Nullable:
  ``market_cap_rank``, ``fully_diluted_valuation``, ``max_supply``, ``roi`` and the change fields of new
  coins.

Errors arrive as ``{"error": "..."}`` or ``{"status": {"error_code": 429, "error_message": "..."}}``. The
keyless tier allows roughly 5-30 calls a minute and moves with traffic: poll ``/global`` at most every 5
minutes.

Market meaning: BTC dominance rising while the total cap falls is a flight to quality inside crypto; a rising
stablecoin share (USDT + USDC of total cap) means holders are parking in dollars rather than buying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sources.errors import SourceError
from sources.http import HttpClient
from sources.values import expect_list, field, req_float, to_float, to_int

PROVIDER = "coingecko"
DEFAULT_BASE_URL = "https://api.coingecko.com"
GLOBAL = "/api/v3/global"
MARKETS = "/api/v3/coins/markets"
STABLECOINS = ("usdt", "usdc")


@dataclass(frozen=True)
class GlobalMarket:
    """One ``/global`` snapshot. Percentages are of total market cap (0-100); money in USD.

    ``stablecoin_share_pct`` sums the USDT and USDC shares; CoinGecko lists shares only for its top 10, so a
    stablecoin missing from that list counts as unknown: ``stablecoins_complete`` is False and the share is a
    lower bound.
    """

    time: pd.Timestamp
    total_mcap_usd: float
    total_volume_usd: float
    btc_dominance_pct: float
    eth_dominance_pct: float
    stablecoin_share_pct: float
    stablecoins_complete: bool
    mcap_change_24h_pct: float
    shares_pct: dict[str, float]

    @property
    def alt_mcap_ex_btc_usd(self) -> float:
        """TOTAL2: everything except BTC."""
        return self.total_mcap_usd * (1 - self.btc_dominance_pct / 100)

    @property
    def alt_mcap_ex_btc_eth_usd(self) -> float:
        """TOTAL3: everything except BTC and ETH (the "altcoin market cap")."""
        return self.total_mcap_usd * (1 - (self.btc_dominance_pct + self.eth_dominance_pct) / 100)


def _api_error(raw: Any, endpoint: str) -> None:
    if isinstance(raw, dict):
        if isinstance(raw.get("error"), str):
            raise SourceError(PROVIDER, endpoint, f"API error: {raw['error'][:120]}", field="error")
        status = raw.get("status")
        if isinstance(status, dict) and status.get("error_code"):
            raise SourceError(PROVIDER, endpoint, f"API error {status.get('error_code')}: "
                              f"{str(status.get('error_message', ''))[:120]}", field="status")  # fmt: skip


def parse_global(raw: Any, endpoint: str = GLOBAL) -> GlobalMarket:
    """``/global`` body -> :class:`GlobalMarket`."""
    _api_error(raw, endpoint)
    data = field(raw, "data", PROVIDER, endpoint)

    def usd(key: str) -> float:
        obj = field(data, key, PROVIDER, endpoint)
        value = req_float(field(obj, "usd", PROVIDER, endpoint), PROVIDER, endpoint, f"{key}.usd")
        if value <= 0:
            raise SourceError(PROVIDER, endpoint, f"non-positive {value}", field=f"{key}.usd")
        return value

    total = usd("total_market_cap")
    volume = usd("total_volume")
    pct_raw = field(data, "market_cap_percentage", PROVIDER, endpoint)
    if not isinstance(pct_raw, dict) or not pct_raw:
        raise SourceError(PROVIDER, endpoint, "expected a non-empty object", field="market_cap_percentage")
    shares: dict[str, float] = {}
    for sym, value in pct_raw.items():
        pct = req_float(value, PROVIDER, endpoint, f"market_cap_percentage.{sym}")
        if not 0 <= pct <= 100:
            raise SourceError(
                PROVIDER, endpoint, f"share {pct} outside 0-100", field=f"market_cap_percentage.{sym}"
            )
        shares[str(sym).lower()] = pct
    for key in ("btc", "eth"):
        if key not in shares:
            raise SourceError(PROVIDER, endpoint, "missing field", field=f"market_cap_percentage.{key}")
    if sum(shares.values()) > 100.5:
        raise SourceError(
            PROVIDER, endpoint, "shares add up to more than 100%", field="market_cap_percentage"
        )
    updated = to_int(field(data, "updated_at", PROVIDER, endpoint), PROVIDER, endpoint, "updated_at")
    change = to_float(data.get("market_cap_change_percentage_24h_usd"), PROVIDER, endpoint,
                      "market_cap_change_percentage_24h_usd", allow_none=True)  # fmt: skip
    return GlobalMarket(
        time=pd.Timestamp(updated, unit="s", tz="UTC"),
        total_mcap_usd=total,
        total_volume_usd=volume,
        btc_dominance_pct=shares["btc"],
        eth_dominance_pct=shares["eth"],
        stablecoin_share_pct=sum(shares.get(s, 0.0) for s in STABLECOINS),
        stablecoins_complete=all(s in shares for s in STABLECOINS),
        mcap_change_24h_pct=math.nan if change is None else change,
        shares_pct=shares,
    )


MARKET_COLUMNS = ["id", "symbol", "name", "price", "market_cap", "rank", "total_volume",
                  "change_24h_pct", "change_7d_pct", "change_30d_pct"]  # fmt: skip
_CHANGE_FIELDS = {
    "change_24h_pct": ("price_change_percentage_24h_in_currency", "price_change_percentage_24h"),
    "change_7d_pct": ("price_change_percentage_7d_in_currency",),
    "change_30d_pct": ("price_change_percentage_30d_in_currency",),
}


def parse_coin_markets(raw: Any, endpoint: str = MARKETS) -> pd.DataFrame:
    """``/coins/markets`` list -> frame with :data:`MARKET_COLUMNS`, sorted by market cap (largest first).

    Prices and caps in USD; changes in percent; nullable fields (a new coin's 30-day change, an unranked coin)
    become NaN, never zero. ``id`` must be present and unique.
    """
    _api_error(raw, endpoint)
    rows = expect_list(raw, PROVIDER, endpoint)
    for required in ("current_price", "market_cap"):
        # Nullable per coin, but a key absent from every row is a schema change, not a new listing.
        if rows and all(isinstance(item, dict) and required not in item for item in rows):
            raise SourceError(PROVIDER, endpoint, "field missing from every coin", field=required)
    out: dict[str, list[Any]] = {c: [] for c in MARKET_COLUMNS}
    for item in rows:
        coin_id = field(item, "id", PROVIDER, endpoint)
        if not isinstance(coin_id, str) or not coin_id:
            raise SourceError(PROVIDER, endpoint, "expected a coin id string", field="id")
        out["id"].append(coin_id)
        out["symbol"].append(str(field(item, "symbol", PROVIDER, endpoint)).upper())
        out["name"].append(str(item.get("name") or coin_id))

        def opt(key: str, cid: str = coin_id, obj: Any = item) -> float:
            value = to_float(obj.get(key), PROVIDER, endpoint, f"{cid}.{key}", allow_none=True)
            return math.nan if value is None else value

        price = opt("current_price")
        mcap = opt("market_cap")
        if price < 0 or mcap < 0:
            raise SourceError(
                PROVIDER, endpoint, "negative price or market cap", field=f"{coin_id}.market_cap"
            )
        out["price"].append(price)
        out["market_cap"].append(mcap)
        out["rank"].append(opt("market_cap_rank"))
        out["total_volume"].append(opt("total_volume"))
        for col, keys in _CHANGE_FIELDS.items():
            value = math.nan
            for key in keys:
                if key in item:
                    value = opt(key)
                    break
            out[col].append(value)
    frame = pd.DataFrame(out)
    if frame["id"].duplicated().any():
        raise SourceError(PROVIDER, endpoint, "duplicate coin id", field="id")
    for col in MARKET_COLUMNS[3:]:
        frame[col] = frame[col].astype(np.float64)
    return frame.sort_values("market_cap", ascending=False, na_position="last", kind="stable").reset_index(
        drop=True
    )


class CoinGecko:
    """Keyless CoinGecko client (about 5-30 calls/min; poll ``/global`` at most every 5 minutes)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def global_market(self) -> GlobalMarket:
        raw = await self.http.get_json(PROVIDER, GLOBAL, self.base_url + GLOBAL)
        return parse_global(raw)

    async def coin_markets(self, per_page: int = 100, page: int = 1) -> pd.DataFrame:
        """The top ``per_page`` coins by market cap with 24h/7d/30d price changes."""
        params = {
            "vs_currency": "usd",
            "order": "market_cap_desc",
            "per_page": max(1, min(250, per_page)),
            "page": max(1, page),
            "price_change_percentage": "24h,7d,30d",
            "sparkline": "false",
        }
        raw = await self.http.get_json(PROVIDER, MARKETS, self.base_url + MARKETS, params=params)
        return parse_coin_markets(raw)
