"""Farside Investors: US spot Bitcoin / Ether ETF daily net flows, scraped from the "all data" HTML tables.

Market meaning: a fund's daily net flow is the dollar value of shares created (inflow, positive) minus shares
redeemed (outflow, negative) that day. Creations and redemptions are settled by authorised participants who
buy or sell the coin, so a run of large outflows is the clearest public footprint of institutional selling.

Page layout (third-party scrapers such as ciyberpunk/farside-etf ``btc_farside_to_csv.py``; the exact markup
is not documented by Farside, so this parser keys on *content*, never on positions):

- one ``<table>`` whose header area holds a row of sponsor names (Blackrock, Fidelity, ...), a row of fund
  tickers ending in ``Total`` and a ``Fee`` row (0.25%, ...); the date column's header is ``Date`` or blank;
- one row per US trading day, first cell ``"11 Jan 2024"`` (day first), values in **US$ millions** with
  thousands commas, accounting negatives ``(123.4)``, and ``-`` where the fund has not reported (pending,
  **not** zero);
- summary rows ``Total``, ``Average``, ``Maximum``, ``Minimum`` at the bottom.

Today's row fills in fund by fund during the US evening: until its ``Total`` cell is present the day is
flagged partial (:attr:`EtfFlows.partial_last`) and the analytics leave it out of sums and streaks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

import pandas as pd

from sources.errors import SourceError, SourceUnavailable
from sources.http import BROWSER_UA, HttpClient

if TYPE_CHECKING:  # lxml itself is imported when a page is parsed
    from lxml.html import HtmlElement

PROVIDER = "farside"
DEFAULT_BASE_URL = "https://farside.co.uk"
PATHS = {"btc": "/bitcoin-etf-flow-all-data/", "eth": "/ethereum-etf-flow-all-data/"}
MILLION = 1_000_000.0

#: Funds known on each page (for documentation and the emulator); the parser accepts any ticker-like header.
#: MSBT (Morgan Stanley Bitcoin Trust) listed in April 2026; the parser takes any ticker column the page has.
BTC_FUNDS = ("IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "MSBT", "GBTC", "BTC")
ETH_FUNDS = ("ETHA", "FETH", "ETHW", "CETH", "ETHV", "QETH", "EZET", "ETHE", "ETH")

SUMMARY_LABELS = frozenset({"total", "average", "maximum", "minimum"})
_DATE_RE = re.compile(r"^\d{1,2} [A-Za-z]{3,9} \d{4}$")
_TICKER_RE = re.compile(r"^[A-Z][A-Z0-9.]{1,7}$")
_PENDING = frozenset({"", "-", "–", "—", "n/a", "N/A"})
_SPACES = re.compile(r"\s+")


@dataclass
class EtfFlows:
    """Daily net flows of one ETF family (``asset`` = ``"btc"`` or ``"eth"``).

    ``frame``: indexed by trading date (``DatetimeIndex``, tz-naive, name ``date``), one float column per
    fund in **US dollars** (NaN = not reported / pending, never zero) plus ``Total`` (NaN while the day is
    partial).
    ``partial_last``: the newest row is still filling in (its ``Total`` is not published yet).
    """

    asset: str
    frame: pd.DataFrame
    partial_last: bool
    funds: list[str] = field(default_factory=list)

    @property
    def as_of(self) -> date | None:
        """The newest trading date on the page (partial or not)."""
        return None if self.frame.empty else self.frame.index[-1].date()

    @property
    def last_complete(self) -> date | None:
        """The newest trading date whose Total is published."""
        total = self.frame["Total"].dropna()
        return None if total.empty else total.index[-1].date()


def _cell_text(cell: HtmlElement) -> str:
    text = cell.text_content()
    return _SPACES.sub(" ", text.replace("\xa0", " ").replace("\u2009", "")).strip()


def _expand_row(row: HtmlElement) -> list[str]:
    """Cells of a ``<tr>`` as text, ``colspan`` expanded so positions line up with the header row."""
    out: list[str] = []
    for cell in row.xpath("./th|./td"):
        try:
            span = max(1, min(50, int(cell.get("colspan", "1"))))
        except ValueError:
            span = 1
        text = _cell_text(cell)
        out.extend([text] * span)
    return out


def parse_flow_value(text: str, endpoint: str, field_name: str) -> float:
    """One table cell in US$ millions -> US dollars; ``-``/blank -> NaN (pending), ``(12.3)`` -> -12.3e6."""
    raw = text.strip()
    if raw in _PENDING:
        return math.nan
    negative = raw.startswith("(") and raw.endswith(")")
    body = raw[1:-1] if negative else raw
    body = body.replace(",", "").replace("$", "").strip()
    if body.startswith("-") and negative:
        raise SourceError(PROVIDER, endpoint, f"double negative {raw!r}", field=field_name)
    try:
        value = float(body)
    except ValueError:
        raise SourceError(PROVIDER, endpoint, f"not a number: {raw[:30]!r}", field=field_name) from None
    if not math.isfinite(value):
        raise SourceError(PROVIDER, endpoint, f"not a finite number: {raw[:30]!r}", field=field_name)
    return (-value if negative else value) * MILLION


def _parse_date(text: str, endpoint: str) -> date:
    for fmt in ("%d %b %Y", "%d %B %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise SourceError(PROVIDER, endpoint, f"unparseable date {text!r}", field="Date")


def _date_column(rows: list[list[str]]) -> int | None:
    """The column whose cells look like ``11 Jan 2024`` (the first such column in the first dated row)."""
    for cells in rows:
        for idx, text in enumerate(cells):
            if _DATE_RE.match(text):
                return idx
    return None


def parse_farside_html(html: str, asset: str, endpoint: str | None = None) -> EtfFlows:
    """Farside's "all data" page -> :class:`EtfFlows` (see the module docstring for the layout)."""
    import lxml.html

    endpoint = endpoint or PATHS.get(asset, "/")
    if not html or not html.strip():
        raise SourceError(PROVIDER, endpoint, "empty page")
    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise SourceError(PROVIDER, endpoint, f"unparseable HTML ({exc})") from None
    best: tuple[int, list[list[str]]] | None = None
    for table in doc.iter("table"):
        rows = [_expand_row(tr) for tr in table.iter("tr")]
        dated = sum(1 for r in rows if any(_DATE_RE.match(c) for c in r[:2]))
        if dated and (best is None or dated > best[0]):
            best = (dated, rows)
    if best is None:
        lowered = html[:5000].lower()
        if (
            "just a moment" in lowered
            or "cf-chl" in lowered
            or "captcha" in lowered
            or "access denied" in lowered
        ):
            raise SourceUnavailable(PROVIDER, endpoint, "bot-protection page instead of the flow table")
        raise SourceError(PROVIDER, endpoint, "no flow table with dated rows on the page", field="table")
    if "</table" not in html.lower():
        raise SourceError(PROVIDER, endpoint, "page truncated (the flow table never closes)", field="table")
    rows = best[1]
    date_col = _date_column(rows)
    assert date_col is not None
    first_dated = next(i for i, r in enumerate(rows) if len(r) > date_col and _DATE_RE.match(r[date_col]))
    header_idx = None
    for i in range(first_dated - 1, -1, -1):
        if any(c.strip().lower() == "total" for c in rows[i]):
            header_idx = i
            break
    if header_idx is None:
        raise SourceError(PROVIDER, endpoint, "no header row with fund tickers and 'Total'", field="header")
    header = rows[header_idx]
    columns: dict[int, str] = {}
    for idx, name in enumerate(header):
        if idx == date_col or not name:
            continue
        label = "Total" if name.lower() == "total" else name
        if label != "Total" and not _TICKER_RE.match(label):
            continue  # e.g. a stray caption cell; funds are upper-case tickers
        if label in columns.values():
            raise SourceError(PROVIDER, endpoint, f"duplicate column {label!r}", field="header")
        columns[idx] = label
    funds = [name for name in columns.values() if name != "Total"]
    if not funds:
        raise SourceError(PROVIDER, endpoint, "header row has no fund tickers", field="header")

    dates: list[date] = []
    values: list[list[float]] = []
    for cells in rows[header_idx + 1 :]:
        if len(cells) <= date_col:
            continue
        first = cells[date_col]
        if not _DATE_RE.match(first):
            label = first.lower()
            if label in SUMMARY_LABELS or label in ("fee", "seed", "") or label.startswith("fee"):
                continue
            if any(_DATE_RE.match(c) for c in cells):
                raise SourceError(
                    PROVIDER, endpoint, f"date not in the date column: {cells[:3]}", field="Date"
                )
            continue  # sponsor / notes rows
        day = _parse_date(first, endpoint)
        row_values = []
        for idx, name in columns.items():
            text = cells[idx] if idx < len(cells) else ""
            row_values.append(parse_flow_value(text, endpoint, f"{day.isoformat()} {name}"))
        dates.append(day)
        values.append(row_values)
    if not dates:
        raise SourceError(PROVIDER, endpoint, "no dated rows", field="Date")
    frame = pd.DataFrame(values, columns=list(columns.values()), dtype=float)
    frame.index = pd.DatetimeIndex(pd.to_datetime(dates), name="date")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0].date()
        raise SourceError(PROVIDER, endpoint, f"date {dup} appears twice", field="Date")
    frame = frame.sort_index()
    if "Total" not in frame.columns:
        raise SourceError(PROVIDER, endpoint, "no Total column", field="Total")
    frame = frame[[*funds, "Total"]]
    partial_last = bool(math.isnan(frame["Total"].iloc[-1]))
    return EtfFlows(asset=asset, frame=frame, partial_last=partial_last, funds=funds)


class FarsideEtf:
    """Keyless Farside scraper over the shared :class:`HttpClient` (poll at most every 30-60 minutes).

    Farside sits behind bot protection: requests carry a browser User-Agent, and 403/503 (or a challenge page)
    raise :class:`SourceUnavailable` so the scheduler backs off instead of retrying in a loop.
    """

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def flows(self, asset: str) -> EtfFlows:
        """Daily flows of the ``"btc"`` or ``"eth"`` US spot ETF family."""
        if asset not in PATHS:
            raise ValueError(f"asset must be one of {sorted(PATHS)}")
        endpoint = PATHS[asset]
        headers = {
            "User-Agent": BROWSER_UA,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-GB,en;q=0.9",
        }
        try:
            html = await self.http.get_text(PROVIDER, endpoint, self.base_url + endpoint, headers=headers)
        except SourceError as exc:
            if exc.status == 503 and not isinstance(exc, SourceUnavailable):
                raise SourceUnavailable(
                    PROVIDER, endpoint, "service unavailable (bot wall?)", status=503
                ) from exc
            raise
        return parse_farside_html(html, asset, endpoint)

    async def btc_flows(self) -> EtfFlows:
        return await self.flows("btc")

    async def eth_flows(self) -> EtfFlows:
        return await self.flows("eth")
