"""Hyperliquid perpetuals (keyless, ``POST https://api.hyperliquid.xyz/info``): funding and open interest.

What the numbers mean: ``{"type": "metaAndAssetCtxs"}`` returns ``[meta, ctxs]``: ``meta.universe`` lists
every perp (``name``, ``szDecimals``, ``maxLeverage``, ``isDelisted``) and ``ctxs`` is **index-aligned**
with it (names are not repeated). Each ctx carries ``funding`` (the predicted rate for the current
**hourly** period; positive: longs pay shorts), ``openInterest`` (in the perp's units: coins, or thousands
of coins for ``kPEPE``), ``oraclePx``, ``markPx`` and ``premium``/``midPx``/``impactPxs``, which are null
for illiquid coins. Funding settles every hour, so ``rate_8h = funding * 8``; OI in USD is
``openInterest * oraclePx``.

Verified: the response shape (hyperliquid-python-sdk ``assetctxs.yaml``, a real ``allDexsAssetCtxs``
capture whose ctx objects are the same); hourly settlement (a 2026 ``fundingHistory`` capture steps 1 h;
2023 captures stepped 8 h, so history intervals are inferred from spacing); limits from a client README:
1200 weight/min per IP, ``metaAndAssetCtxs`` weight 20, ``fundingHistory`` 20 plus 1 per 20 rows returned.
Builder-deployed dexes (``xyz:NVDA``) and delisted perps are skipped. The response has no timestamp; the
as-of time is the HTTP ``Date`` header (falling back to the local clock).
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import numpy as np
import pandas as pd

from sources.errors import SourceError
from sources.http import HttpClient, decode_json
from sources.symbols import (
    DerivsSnapshot,
    FundingQuote,
    OpenInterest,
    empty_funding_history,
    funding_history_frame,
    hyperliquid_symbol,
    infer_interval_hours,
    ms_to_ts,
    rate_8h,
    times_ms,
)
from sources.values import expect_list, field, to_float, to_int

PROVIDER = "hyperliquid"
EXCHANGE = "hyperliquid"
DEFAULT_BASE_URL = "https://api.hyperliquid.xyz"
INTERVAL_HOURS = 1.0
HOUR_MS = 3_600_000
INFO_WEIGHT = 20
HISTORY_PAGE = 500  # rows per fundingHistory answer


def _num(item: Any, key: str, endpoint: str, *, optional: bool = False) -> float | None:
    return to_float(field(item, key, PROVIDER, endpoint), PROVIDER, endpoint, key, allow_none=optional)


def parse_meta_and_asset_ctxs(raw: Any, as_of_ms: int, endpoint: str = "metaAndAssetCtxs") -> DerivsSnapshot:
    """``[meta, ctxs]`` -> funding quotes and open interest for every listed main-dex perp."""
    pair = expect_list(raw, PROVIDER, endpoint)
    if len(pair) != 2:
        raise SourceError(
            PROVIDER, endpoint, f"expected [meta, ctxs], got {len(pair)} elements", field="response"
        )
    meta, ctxs = pair
    universe = expect_list(field(meta, "universe", PROVIDER, endpoint), PROVIDER, endpoint, "universe")
    ctxs = expect_list(ctxs, PROVIDER, endpoint, "assetCtxs")
    if len(ctxs) != len(universe):
        raise SourceError(PROVIDER, endpoint, f"{len(universe)} assets but {len(ctxs)} contexts",
                          field="assetCtxs")  # fmt: skip
    as_of = ms_to_ts(as_of_ms)
    next_funding = ms_to_ts((as_of_ms // HOUR_MS + 1) * HOUR_MS)
    funding: list[FundingQuote] = []
    oi: list[OpenInterest] = []
    for asset, ctx in zip(universe, ctxs, strict=True):
        name = field(asset, "name", PROVIDER, endpoint)
        if not isinstance(name, str):
            raise SourceError(PROVIDER, endpoint, f"expected a string, got {name!r}", field="name")
        if asset.get("isDelisted") is True:
            continue
        key = hyperliquid_symbol(name)
        if key is None:
            continue
        rate = _num(ctx, "funding", endpoint)
        mark = _num(ctx, "markPx", endpoint)
        oracle = _num(ctx, "oraclePx", endpoint)
        qty = _num(ctx, "openInterest", endpoint)
        assert rate is not None and mark is not None and oracle is not None and qty is not None
        if mark <= 0 or oracle <= 0:
            raise SourceError(PROVIDER, endpoint, f"{name}: non-positive price", field="oraclePx")
        if qty < 0:
            raise SourceError(PROVIDER, endpoint, f"{name}: negative", field="openInterest")
        funding.append(
            FundingQuote(
                coin=key.coin,
                exchange=EXCHANGE,
                rate=rate,
                interval_hours=INTERVAL_HOURS,
                rate_8h=rate_8h(rate, INTERVAL_HOURS),
                next_funding_time=next_funding,
                mark_price=mark / key.multiplier,
                symbol=name,
                as_of=as_of,
            )
        )
        oi.append(OpenInterest(key.coin, EXCHANGE, qty * key.multiplier, qty * oracle, as_of, name))
    return DerivsSnapshot(EXCHANGE, funding, oi, as_of)


def parse_funding_history(raw: Any, endpoint: str = "fundingHistory") -> pd.DataFrame:
    """``[{coin, fundingRate, premium, time}]`` -> ascending frame; interval inferred from spacing."""
    rows = expect_list(raw, PROVIDER, endpoint)
    if not rows:
        return empty_funding_history()
    name = field(rows[0], "coin", PROVIDER, endpoint)
    key = hyperliquid_symbol(name) if isinstance(name, str) else None
    if key is None:
        raise SourceError(PROVIDER, endpoint, f"not a main-dex perp: {name!r}", field="coin")
    times = np.empty(len(rows), dtype=np.int64)
    rates = np.empty(len(rows))
    for i, row in enumerate(rows):
        if field(row, "coin", PROVIDER, endpoint) != name:
            raise SourceError(PROVIDER, endpoint, f"row {i}: mixed coins", field="coin")
        times[i] = to_int(field(row, "time", PROVIDER, endpoint), PROVIDER, endpoint, "time")
        value = _num(row, "fundingRate", endpoint)
        assert value is not None
        rates[i] = value
    order = np.argsort(times, kind="stable")
    times, rates = times[order], rates[order]
    if np.any(np.diff(times) <= 0):
        raise SourceError(PROVIDER, endpoint, "duplicate funding times", field="time")
    intervals = infer_interval_hours(times, INTERVAL_HOURS)
    return funding_history_frame(times, key.coin, EXCHANGE, name, rates, intervals)


def _date_header_ms(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp() * 1000)
    except (TypeError, ValueError, IndexError):
        return None


class Hyperliquid:
    """Keyless Hyperliquid info endpoint through the shared :class:`HttpClient` (budget in weight units)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/info"

    async def snapshot(self) -> DerivsSnapshot:
        """Funding, mark and open interest of every perp: ONE ``metaAndAssetCtxs`` call (weight 20)."""
        endpoint = "metaAndAssetCtxs"
        response = await self.http.request(
            PROVIDER, endpoint, "POST", self.url, json_body={"type": endpoint}, weight=INFO_WEIGHT
        )
        raw = decode_json(response, PROVIDER, endpoint)
        as_of = _date_header_ms(response.headers.get("Date")) or int(time.time() * 1000)
        return parse_meta_and_asset_ctxs(raw, as_of, endpoint)

    async def funding_history(
        self, name: str, start_ms: int, end_ms: int | None = None, *, max_pages: int = 20
    ) -> pd.DataFrame:
        """Hourly funding of ``name`` (``BTC``, ``kPEPE``) from ``start_ms``, 500 rows a call."""
        endpoint = "fundingHistory"
        pages: list[pd.DataFrame] = []
        cursor = start_ms
        for _ in range(max_pages):
            body: dict[str, Any] = {"type": endpoint, "coin": name, "startTime": cursor}
            if end_ms is not None:
                body["endTime"] = end_ms
            raw = await self.http.post_json(
                PROVIDER, endpoint, self.url, body, weight=INFO_WEIGHT + HISTORY_PAGE // 20
            )
            page = parse_funding_history(raw, endpoint)
            if page.empty:
                break
            pages.append(page)
            if len(page) < HISTORY_PAGE:
                break
            cursor = int(times_ms(page["time"])[-1]) + 1
        if not pages:
            return empty_funding_history()
        frame = pd.concat(pages, ignore_index=True).drop_duplicates("time").sort_values("time")
        frame = frame.assign(interval_hours=infer_interval_hours(times_ms(frame["time"]), INTERVAL_HOURS))
        frame["rate_8h"] = frame["rate"] * 8.0 / frame["interval_hours"]
        return frame.reset_index(drop=True)


__all__ = ["Hyperliquid", "parse_funding_history", "parse_meta_and_asset_ctxs"]
