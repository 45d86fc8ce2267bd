"""The Bitcoin pane: last price, 24 h change, drawdown from the all-time high, and an intraday chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from widgets.chart import LineChart
from widgets.format import pct, price, tone
from widgets.panes import Pane
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import BtcView


def headline(view: BtcView) -> Text:
    """Price line and context line. Stale figures are dimmed and labelled, never shown as live."""
    text = Text()
    if view.price is None:
        text.append("waiting for data…", style="dim")
        return text
    fresh = view.status.fresh
    text.append("BTC ", style="bold")
    text.append(f"${price(view.price)}", style="bold" if fresh else "dim strike")
    text.append("  24h ")
    text.append(pct(view.change_24h_pct), style=tone(view.change_24h_pct) if fresh else "dim")
    text.append("  1h ")
    text.append(pct(view.change_1h_pct), style=tone(view.change_1h_pct) if fresh else "dim")
    text.append("\nATH ")
    text.append(f"${price(view.ath)}")
    text.append("  drawdown ")
    text.append(pct(view.drawdown_pct, 1), style="red" if (view.drawdown_pct or 0) < -10 else "")
    if view.low_24h is not None and view.high_24h is not None:
        text.append(f"  24h range {price(view.low_24h)}–{price(view.high_24h)}", style="dim")
    if not fresh:
        text.append(f"\nSTALE: {view.status.text}", style="bold reverse")
    return text


class BtcPane(Pane):
    """Pane 1."""

    PANE = "btc"

    def __init__(self, *, id: str | None = "pane-btc") -> None:
        super().__init__("Bitcoin", number=1, id=id)

    def compose(self) -> ComposeResult:
        yield TextBox(Text("waiting for data…", style="dim"), id="btc-headline", classes="headline")
        yield LineChart(id="btc-chart")

    def render_view(self, view: BtcView | None) -> None:
        if view is None:
            return
        self.query_one("#btc-headline", Static).update(headline(view))
        self.query_one("#btc-chart", LineChart).set_series(
            view.chart_x, view.chart_y, view.chart_key, y_format=price
        )
