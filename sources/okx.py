"""OKX v5 USDT perpetual swaps (keyless, ``https://www.okx.com``): funding and open interest.

What the numbers mean (OKX docs v5, "Get funding rate", "Get funding rate history", "Get open interest",
read in a 2026 copy of the docs): ``fundingRate`` is the *predicted* rate for the period that settles at
``fundingTime`` (positive: longs pay shorts); ``nextFundingTime`` is the settlement after that, so the
funding interval is ``nextFundingTime - fundingTime`` (8 h normally; OKX moves volatile coins to 6/4/2/1 h).
``settFundingRate`` is the last settled rate. Funding is normalised to ``rate_8h = rate * 8 / interval``.
Open interest: ``oi`` is in contracts (``ctVal`` coins each), ``oiCcy`` in coins, ``oiUsd`` in US dollars;
we use ``oiCcy`` and ``oiUsd`` and never need ``ctVal``.

Bulk calls (verified in the docs): ``/api/v5/public/funding-rate?instId=ANY`` returns every perpetual (and
X-Perps futures, which we drop); ``/api/v5/public/open-interest?instType=SWAP`` every swap. Both are limited
to 10 and 20 requests per 2 s (IP + instrument). History: ``limit`` max 400, newest first, ``after`` pages to
older records, three months kept. Every value is a string. Errors arrive as HTTP 200 with ``code != "0"``;
``50011`` is the rate limit (documented with HTTP 429).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

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
from sources.errors import RateLimited, SourceError
from sources.http import HttpClient
from sources.symbols import infer_interval_hours, okx_symbol
from sources.values import expect_list, field, to_float, to_int

log = logging.getLogger(__name__)
T = TypeVar("T")

PROVIDER = "okx"
EXCHANGE = "okx"
DEFAULT_BASE_URL = "https://www.okx.com"
HISTORY_MAX = 400
RATE_LIMIT_CODE = "50011"
RATE_LIMIT_WAIT_S = 2.0  # OKX limits are per 2-second window
HOUR_MS = 3_600_000


def unwrap(raw: Any, endpoint: str) -> list[Any]:
    """Check the ``{code, msg, data}`` envelope; returns ``data``."""
    code = field(raw, "code", PROVIDER, endpoint)
    if not isinstance(code, str):
        raise SourceError(PROVIDER, endpoint, f"expected a string code, got {code!r}", field="code")
    if code != "0":
        message = raw.get("msg") if isinstance(raw.get("msg"), str) else ""
        if code == RATE_LIMIT_CODE:
            raise RateLimited(PROVIDER, endpoint, f"code {code}: {message}", retry_after=RATE_LIMIT_WAIT_S)
        raise SourceError(PROVIDER, endpoint, f"code {code}: {message[:120]}", field="code")
    return expect_list(field(raw, "data", PROVIDER, endpoint), PROVIDER, endpoint, "data")


def _num(item: Any, key: str, endpoint: str) -> float:
    value = to_float(field(item, key, PROVIDER, endpoint), PROVIDER, endpoint, key)
    assert value is not None
    return value


def _ms(item: Any, key: str, endpoint: str) -> int:
    return to_int(field(item, key, PROVIDER, endpoint), PROVIDER, endpoint, key)


def _swap_key(item: Any, endpoint: str) -> tuple[str, Any] | None:
    inst_id = field(item, "instId", PROVIDER, endpoint)
    if not isinstance(inst_id, str):
        raise SourceError(PROVIDER, endpoint, f"expected a string, got {inst_id!r}", field="instId")
    if item.get("instType", "SWAP") != "SWAP":
        return None
    key = okx_symbol(inst_id)
    return (inst_id, key) if key is not None else None


def _each_swap(raw: Any, endpoint: str, parse_one: Callable[[str, Any, Any], T]) -> list[T]:
    """``parse_one(inst_id, key, item)`` over every USDT swap of a bulk answer, tolerating a few bad items.

    One pre-open or half-listed swap (an empty ``fundingTime``, say) must not blank the whole venue: a bad item is
    left out and logged; only when more than half the swaps are bad (a changed format, not one odd listing) does
    the first error stand for the answer.
    """
    out: list[T] = []
    errors: list[SourceError] = []
    for item in unwrap(raw, endpoint):
        found = _swap_key(item, endpoint)
        if found is None:
            continue
        inst_id, key = found
        try:
            out.append(parse_one(inst_id, key, item))
        except SourceError as exc:
            errors.append(exc)
    if errors and len(errors) > len(out):
        raise errors[0]
    for error in errors[:3]:
        log.warning("okx %s: item left out: %s", endpoint, error)
    return out


def parse_funding_rates(raw: Any, endpoint: str = "/api/v5/public/funding-rate") -> list[FundingQuote]:
    """``funding-rate`` (one instId or ``ANY``) -> quotes for USDT swaps (mark price not carried: None)."""

    def one(inst_id: str, key: Any, item: Any) -> FundingQuote:
        rate = _num(item, "fundingRate", endpoint)
        funding_time = _ms(item, "fundingTime", endpoint)
        next_time = _ms(item, "nextFundingTime", endpoint)
        hours = round((next_time - funding_time) / HOUR_MS, 3)
        if hours <= 0 or hours > 24:
            raise SourceError(PROVIDER, endpoint, f"{inst_id}: interval {hours} h from funding times",
                              field="nextFundingTime")  # fmt: skip
        return FundingQuote(
            coin=key.coin,
            exchange=EXCHANGE,
            rate=rate,
            interval_hours=hours,
            rate_8h=rate_8h(rate, hours),
            next_funding_time=ms_to_ts(funding_time),
            mark_price=None,
            symbol=inst_id,
            as_of=ms_to_ts(_ms(item, "ts", endpoint)),
        )

    return _each_swap(raw, endpoint, one)


def parse_open_interest(raw: Any, endpoint: str = "/api/v5/public/open-interest") -> list[OpenInterest]:
    """``open-interest?instType=SWAP`` -> records for USDT swaps, coins (``oiCcy``) and USD (``oiUsd``)."""

    def one(inst_id: str, key: Any, item: Any) -> OpenInterest:
        base = _num(item, "oiCcy", endpoint)
        usd = _num(item, "oiUsd", endpoint)
        if base < 0 or usd < 0:
            raise SourceError(PROVIDER, endpoint, f"{inst_id}: negative open interest", field="oiCcy")
        return OpenInterest(key.coin, EXCHANGE, base, usd, ms_to_ts(_ms(item, "ts", endpoint)), inst_id)

    return _each_swap(raw, endpoint, one)


def parse_funding_history(
    raw: Any, interval_hours: float | None = None, endpoint: str = "/api/v5/public/funding-rate-history"
) -> pd.DataFrame:
    """``data[{instId, fundingRate, realizedRate, fundingTime}]`` (newest first) -> ascending frame.

    ``realizedRate`` (what was actually paid) is used when present, else ``fundingRate``.
    """
    rows = unwrap(raw, endpoint)
    if not rows:
        return empty_funding_history()
    found = _swap_key(rows[0], endpoint)
    if found is None:
        raise SourceError(PROVIDER, endpoint, "not a USDT swap", field="instId")
    inst_id, key = found
    times = np.empty(len(rows), dtype=np.int64)
    rates = np.empty(len(rows))
    for i, row in enumerate(rows):
        if field(row, "instId", PROVIDER, endpoint) != inst_id:
            raise SourceError(PROVIDER, endpoint, f"row {i}: mixed instruments", field="instId")
        times[i] = _ms(row, "fundingTime", endpoint)
        realized = to_float(row.get("realizedRate"), PROVIDER, endpoint, "realizedRate", allow_none=True)
        rates[i] = realized if realized is not None else _num(row, "fundingRate", endpoint)
    order = np.argsort(times, kind="stable")
    times, rates = times[order], rates[order]
    if np.any(np.diff(times) <= 0):
        raise SourceError(PROVIDER, endpoint, "duplicate funding times", field="fundingTime")
    if interval_hours is None:
        intervals = infer_interval_hours(times, 8.0)
    else:
        intervals = np.full(len(times), float(interval_hours))
    return funding_history_frame(times, key.coin, EXCHANGE, inst_id, rates, intervals)


class Okx:
    """Keyless OKX v5 public data through the shared :class:`HttpClient`."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def funding_quotes(self) -> list[FundingQuote]:
        """Predicted funding of every USDT swap: ONE call with ``instId=ANY``."""
        endpoint = "/api/v5/public/funding-rate"
        raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params={"instId": "ANY"})
        return parse_funding_rates(raw, endpoint)

    async def open_interest(self) -> list[OpenInterest]:
        """Open interest of every swap: ONE call with ``instType=SWAP``."""
        endpoint = "/api/v5/public/open-interest"
        raw = await self.http.get_json(
            PROVIDER, endpoint, self.base_url + endpoint, params={"instType": "SWAP"}
        )
        return parse_open_interest(raw, endpoint)

    async def snapshot(self) -> DerivsSnapshot:
        """Funding and open interest of all USDT swaps: two bulk calls (OKX has no combined endpoint)."""
        funding = await self.funding_quotes()
        oi = await self.open_interest()
        stamps = [q.as_of for q in funding if q.as_of is not None] + [o.time for o in oi]
        return DerivsSnapshot(EXCHANGE, funding, oi, max(stamps, default=pd.Timestamp.now(tz="UTC")))

    async def funding_history(
        self, inst_id: str, start_ms: int, end_ms: int | None = None, *, max_pages: int = 10
    ) -> pd.DataFrame:
        """Settled funding of ``inst_id`` back to ``start_ms``, paging to older rows with ``after``."""
        endpoint = "/api/v5/public/funding-rate-history"
        pages: list[pd.DataFrame] = []
        after = None if end_ms is None else end_ms + 1
        for _ in range(max_pages):
            params: dict[str, Any] = {"instId": inst_id, "limit": HISTORY_MAX}
            if after is not None:
                params["after"] = after
            raw = await self.http.get_json(PROVIDER, endpoint, self.base_url + endpoint, params=params)
            page = parse_funding_history(raw, None, endpoint)
            if page.empty:
                break
            pages.append(page)
            oldest = int(times_ms(page["time"])[0])
            # Keep paging while pages come back (OKX's page size was 100 in 2025, 400 in 2026): stop on an empty
            # page, at the start, or when a page does not reach further back.
            if oldest <= start_ms or (after is not None and oldest >= after):
                break
            after = oldest
        if not pages:
            return empty_funding_history()
        frame = pd.concat(pages, ignore_index=True).drop_duplicates("time").sort_values("time")
        frame = frame[times_ms(frame["time"]) >= start_ms]
        times = times_ms(frame["time"])
        frame = frame.assign(interval_hours=infer_interval_hours(times, 8.0))
        frame["rate_8h"] = frame["rate"] * 8.0 / frame["interval_hours"]
        return frame.reset_index(drop=True)


__all__ = ["Okx", "parse_funding_history", "parse_funding_rates", "parse_open_interest", "unwrap"]
