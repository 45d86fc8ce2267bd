"""The ETF pane's view-model and snapshot section: US spot Bitcoin (and Ether) ETF daily net flows (Farside).

A day still being reported (today's row while funds publish) is shown as partial and left out of every figure;
streaks count completed trading days (+N inflow days in a row, -N outflow days).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics import etf as etf_an
from records.viewmodels import EtfDay, EtfView, PaneStatus
from tui.views.common import num

if TYPE_CHECKING:
    from sources.farside import EtfFlows
    from tui.runtime.state import MarketState

ETF_WINDOW_DAYS = 10


def _days(flows: EtfFlows, n: int) -> tuple[EtfDay, ...]:
    frame = flows.frame.tail(n)
    out = []
    days = pd.DatetimeIndex(frame.index)
    for i, (day, total) in enumerate(zip(days, frame["Total"], strict=True)):
        partial = flows.partial_last and i == len(frame) - 1
        out.append(EtfDay(day.strftime("%Y-%m-%d"), num(total), partial))
    return tuple(out)


def etf_view(state: MarketState, status: PaneStatus) -> EtfView:
    flows = state.etf_btc
    if flows is None:
        return EtfView(status)
    frame = flows.frame
    completed = etf_an.completed_totals(frame, flows.partial_last)
    last_by_fund: tuple[tuple[str, float | None], ...] = ()
    if len(completed):
        row = frame.loc[completed.index[-1]]
        last_by_fund = tuple((str(f), num(row[f])) for f in frame.columns if f != "Total")
    largest = etf_an.largest_outflow(frame, ETF_WINDOW_DAYS, flows.partial_last)
    eth = state.etf_eth
    eth_days = _days(eth, 1) if eth is not None and len(eth.frame) else ()
    return EtfView(
        status,
        asset="BTC",
        days=_days(flows, ETF_WINDOW_DAYS),
        last_by_fund=last_by_fund,
        streak_days=etf_an.current_streak(frame, flows.partial_last),
        largest_outflow=(str(largest.as_of), largest.value) if largest.as_of and largest.value < 0 else None,
        cumulative_usd=num(completed.tail(ETF_WINDOW_DAYS).sum()) if len(completed) else None,
        window_days=ETF_WINDOW_DAYS,
        eth_last=eth_days[-1] if eth_days else None,
        eth_streak_days=etf_an.current_streak(eth.frame, eth.partial_last) if eth is not None else None,
    )


def snapshot_etf(state: MarketState) -> dict[str, Any]:
    """The ``etf`` section of the snapshot JSON."""
    flows = state.etf_btc
    etf: dict[str, Any] = {"last_day": None, "net_flow_usd": None, "by_fund": {}, "streak_days": None,
                           "partial_today": None}  # fmt: skip
    if flows is not None and len(flows.frame):
        completed = etf_an.completed_totals(flows.frame, flows.partial_last)
        if len(completed):
            last = completed.index[-1]
            row = flows.frame.loc[last]
            etf["last_day"] = pd.Timestamp(last).strftime("%Y-%m-%d")
            etf["net_flow_usd"] = num(completed.iloc[-1])
            etf["by_fund"] = {str(f): num(row[f]) for f in flows.frame.columns if f != "Total"}
        etf["streak_days"] = etf_an.current_streak(flows.frame, flows.partial_last)
        etf["partial_today"] = bool(flows.partial_last)
    return etf
