"""Emulated Farside ETF flow pages: ``/bitcoin-etf-flow-all-data/`` and ``/ethereum-etf-flow-all-data/``.

The page mimics Farside's "all data" layout (see :mod:`sources.farside`): a sponsor-name row and a ticker row
in ``<thead>``, a ``Fee`` row, one row per trading day oldest first with values in US$ millions (one decimal,
thousands commas, accounting negatives ``(12.3)``, ``-`` for not reported), then ``Total`` / ``Average`` /
``Maximum`` / ``Minimum`` summary rows over the complete days.

Publication model (nothing after ``emu.now_ms()`` is visible): trading day D's row appears at 21:00 UTC on D
(after the US close), its funds fill in one by one until 01:00 UTC on D+1, and only then is its ``Total``
printed. A fund column appears only once the fund has a reported value in the visible history.
"""

from __future__ import annotations

import math
from html import escape
from typing import cast

import numpy as np
import pandas as pd

from emulator.core import Emulator, route
from emulator.wire import EmuRequest, EmuResponse

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
ROW_APPEARS_MS = 21 * HOUR_MS  # after the US close (16:00 ET)
FILL_SPAN_MS = 4 * HOUR_MS  # funds report over the US evening; Total once all are in

SPONSORS = {
    "IBIT": "Blackrock", "FBTC": "Fidelity", "BITB": "Bitwise", "ARKB": "Ark", "BTCO": "Invesco",
    "EZBC": "Franklin", "BRRR": "Valkyrie", "HODL": "VanEck", "BTCW": "WTree", "MSBT": "Morgan Stanley",
    "GBTC": "Grayscale", "BTC": "Grayscale", "ETHA": "Blackrock", "FETH": "Fidelity", "ETHW": "Bitwise",
    "CETH": "21Shares", "ETHV": "VanEck", "QETH": "Invesco", "EZET": "Franklin", "ETHE": "Grayscale",
    "ETH": "Grayscale",
}  # fmt: skip
FEES = {
    "IBIT": "0.25%", "FBTC": "0.25%", "BITB": "0.20%", "ARKB": "0.21%", "BTCO": "0.25%", "EZBC": "0.19%",
    "BRRR": "0.25%", "HODL": "0.20%", "BTCW": "0.25%", "MSBT": "0.14%", "GBTC": "1.50%", "BTC": "0.15%",
    "ETHA": "0.25%", "FETH": "0.25%", "ETHW": "0.20%", "CETH": "0.21%", "ETHV": "0.20%", "QETH": "0.25%",
    "EZET": "0.19%", "ETHE": "2.50%", "ETH": "0.15%",
}  # fmt: skip
TITLES = {"btc": "Bitcoin ETF Flow – All Data", "eth": "Ethereum ETF Flow – All Data"}


def fmt_millions(usd: float) -> str:
    """US dollars -> Farside's cell text: US$m with one decimal, thousands commas, ``(x)`` for negatives."""
    if usd is None or (isinstance(usd, float) and math.isnan(usd)):
        return "-"
    m = round(usd / 1e6, 1)
    if m == 0:
        return "0.0"
    text = f"{abs(m):,.1f}"
    return f"({text})" if m < 0 else text


def visible_flows(frame: pd.DataFrame, now_ms: int) -> tuple[pd.DataFrame, bool]:
    """Rows published by ``now_ms`` (US$), the last one possibly partial; returns (frame, last_is_partial)."""
    if frame is None or frame.empty:
        return pd.DataFrame(), False
    index = pd.DatetimeIndex(pd.to_datetime([pd.Timestamp(d) for d in frame.index])).as_unit("ms")
    starts = index.asi8
    shown = starts + ROW_APPEARS_MS <= now_ms
    if not shown.any():
        return pd.DataFrame(), False
    out = frame.loc[shown].copy()
    out.index = index[shown]
    funds = [c for c in out.columns if c != "Total"]
    if "Total" not in out.columns:
        out["Total"] = out[funds].sum(axis=1, min_count=1)
    # A fund's column exists once it has reported anything (launches add columns, closures keep them).
    live = [f for f in funds if out[f].notna().any()]
    last_start = int(starts[shown][-1])
    elapsed = now_ms - (last_start + ROW_APPEARS_MS)
    partial = elapsed < FILL_SPAN_MS
    if partial:
        # Funds report in a fixed order spread over the evening; until all are in, Total is not printed.
        reported = int(len(funds) * elapsed / FILL_SPAN_MS)
        order = sorted(funds, key=lambda f: (sum(map(ord, f)) * 7919) % 101)
        pending = order[reported:]
        # Column names are unique, so each name's location is one position.
        out.iloc[-1, [cast(int, out.columns.get_loc(f)) for f in pending]] = np.nan
        out.iloc[-1, cast(int, out.columns.get_loc("Total"))] = np.nan
    return out[[*live, "Total"]], partial


def render_page(asset: str, flows: pd.DataFrame) -> str:
    """The HTML page for ``flows`` (US$, DatetimeIndex) in Farside's table layout."""
    funds = [c for c in flows.columns if c != "Total"]
    head_sponsor = "".join(f"<th>{escape(SPONSORS.get(f, ''))}</th>" for f in funds)
    head_ticker = "".join(f"<th>{escape(f)}</th>" for f in funds)
    fee_row = "".join(f"<td>{escape(FEES.get(f, ''))}</td>" for f in funds)
    parts = [
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="UTF-8">',
        f"<title>{escape(TITLES.get(asset, 'ETF Flow'))} - Farside Investors</title></head><body>",
        '<div class="entry-content"><p>All data in US$m</p>',
        '<table class="etf" style="width:100%"><thead>',
        f"<tr><th></th>{head_sponsor}<th></th></tr>",
        f'<tr><th></th>{head_ticker}<th><span class="tabletext">Total</span></th></tr>',
        "</thead><tbody>",
        f"<tr><td>Fee</td>{fee_row}<td></td></tr>",
    ]
    values = flows.to_numpy(np.float64)
    for day, row in zip(flows.index, values, strict=True):
        cells = []
        for v in row:
            text = fmt_millions(float(v))
            cls = "redFont" if text.startswith("(") else "tabletext"
            cells.append(f'<td><span class="{cls}">{text}</span></td>')
        label = pd.Timestamp(day).strftime("%d %b %Y")
        parts.append(f'<tr><td><span class="tabletext">{label}</span></td>{"".join(cells)}</tr>')
    complete = flows[flows["Total"].notna()]
    for label, reducer in (("Total", "sum"), ("Average", "mean"), ("Maximum", "max"), ("Minimum", "min")):
        agg = getattr(complete, reducer)() if not complete.empty else pd.Series(np.nan, index=flows.columns)
        summary = "".join(f"<td>{fmt_millions(float(agg[c]))}</td>" for c in flows.columns)
        parts.append(f'<tr class="summary"><td>{label}</td>{summary}</tr>')
    parts.append("</tbody></table><p>Source: Farside Investors (emulated)</p></div></body></html>")
    return "\n".join(parts)


def _page(asset: str, emu: Emulator) -> EmuResponse:
    frame = emu.dataset.etf_flows.get(asset)
    flows, _partial = visible_flows(frame, emu.now_ms()) if frame is not None else (pd.DataFrame(), False)
    if flows.empty:
        body = "<html><head><title>Farside Investors</title></head><body><p>No data yet.</p></body></html>"
        return EmuResponse.text(body, content_type="text/html")
    return EmuResponse.text(render_page(asset, flows), content_type="text/html")


@route("GET", "/bitcoin-etf-flow-all-data/")
def btc_page(request: EmuRequest, emu: Emulator) -> EmuResponse:
    return _page("btc", emu)


@route("GET", "/ethereum-etf-flow-all-data/")
def eth_page(request: EmuRequest, emu: Emulator) -> EmuResponse:
    return _page("eth", emu)


__all__ = ["fmt_millions", "render_page", "visible_flows"]
