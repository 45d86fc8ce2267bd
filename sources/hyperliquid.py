"""Hyperliquid perpetuals (keyless, ``POST https://api.hyperliquid.xyz/info``): funding and open interest.

What the numbers mean: ``{"type": "metaAndAssetCtxs"}`` returns ``[meta, ctxs]``: ``meta.universe`` lists
every perp (``name``, ``szDecimals``, ``maxLeverage``, ``isDelisted``) and ``ctxs`` is **index-aligned**
with it (names are not repeated). Each ctx carries ``funding`` (the predicted rate for the current
**hourly** period; positive: longs pay shorts), ``openInterest`` (in the perp's units: coins, or thousands
of coins for ``kPEPE``), ``oraclePx``, ``markPx`` and ``premium``/``midPx``/``impactPxs``, which are null
for illiquid coins. Funding settles every hour, so ``rate_8h = funding * 8``; OI in USD is
``openInterest * oraclePx``.

Verified (checked 2026-12): the response shape (hyperliquid-python-sdk ``assetctxs.yaml``, a real
``allDexsAssetCtxs`` capture whose ctx objects are the same); limits from Hyperliquid's "Rate limits" page: 1200
weight/min per IP, ``metaAndAssetCtxs`` weight 20, ``fundingHistory`` 20 plus 1 per 20 rows returned, at most
500 rows per answer (page on with the last time + 1). **Funding settled every 8 hours until 2023-06-08 00:00
UTC and every hour from 01:00 that day** (:data:`HOURLY_FROM_MS`): in a real BTC ``fundingHistory`` answer
(hyperliquid-python-sdk@5cd90193, ``tests/cassettes/info_test/test_get_funding_history[None].yaml``) the rows
step 8 h up to ``1686182400254`` and 1 h from ``1686186000054``; the rates before it are per 8 h (the 0.0001
floor), after it per hour (0.0000125 = 0.0001 / 8). History is normalised with that period's interval, never one
guessed from the gap to a neighbour (a missing hourly row would halve a rate, a window starting on the last 8 h
row would multiply one by eight).
Builder-deployed dexes (``xyz:NVDA``) and delisted perps are skipped. The response has no timestamp; the
as-of time is the HTTP ``Date`` header (falling back to the local clock).
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import numpy as np
import pandas as pd

from records.derivs import (
    DerivsSnapshot,
    FundingQuote,
    OpenInterest,
    empty_funding_history,
    funding_history_frame,
    ms_to_ts,
    rate_8h,
    times_ms,
)
from sources.errors import SourceError
from sources.http import HttpClient, decode_json
from sources.symbols import hyperliquid_symbol
from sources.values import expect_list, field, to_float, to_int

PROVIDER = "hyperliquid"
EXCHANGE = "hyperliquid"
DEFAULT_BASE_URL = "https://api.hyperliquid.xyz"
INTERVAL_HOURS = 1.0
#: The first hourly settlement (2023-06-08 01:00 UTC); earlier settlements paid a per-8-hour rate every 8 hours.
HOURLY_FROM_MS = 1_686_186_000_000
HOUR_MS = 3_600_000


def interval_hours_at(times_ms: np.ndarray) -> np.ndarray:
    """Hyperliquid's funding interval for settlements at ``times_ms``: 8 h before :data:`HOURLY_FROM_MS`, else 1 h.

    The interval is the venue's for that period, not inferred from row spacing: settlements are stamped up to
    ~0.7 s late (compared against the switch with a minute's tolerance) and rows can be missing.
    """
    times = np.asarray(times_ms, dtype=np.int64)
    return np.where(times < HOURLY_FROM_MS - 60_000, 8.0, 1.0)
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
                index_price=oracle / key.multiplier,
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
    return funding_history_frame(times, key.coin, EXCHANGE, name, rates, interval_hours_at(times))


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
            last = int(times_ms(page["time"])[-1])
            if len(page) < HISTORY_PAGE or last < cursor:
                break
            cursor = last + 1
        if not pages:
            return empty_funding_history()
        frame = pd.concat(pages, ignore_index=True).drop_duplicates("time").sort_values("time")
        return frame.reset_index(drop=True)


__all__ = ["Hyperliquid", "parse_funding_history", "parse_meta_and_asset_ctxs"]
