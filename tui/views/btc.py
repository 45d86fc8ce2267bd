"""The Bitcoin pane's view-model: last price, 24 h and 1 h change, drawdown from the all-time high, intraday chart.

Every figure is from one market, Binance spot (price, 24 h base, ATH and the intraday bars alike).
"""

from __future__ import annotations

from records.viewmodels import BtcView, PaneStatus
from tui.views.common import epoch_seconds, num
from tui.views.figures import Figures


def change_24h_pct(figures: Figures) -> float | None:
    """Binance's rolling 24 h change of BTC, percent, as the pane shows it (None before the first ticker). The "why"
    line reads it alone: the pane's other figures (ATH, 1 h change, chart) cost ~1.5 ms a tick it does not need."""
    ticker = figures.state.btc_ticker
    return None if ticker is None else num(float(ticker.change_pct))


def btc_view(figures: Figures, status: PaneStatus) -> BtcView:
    fig = figures.btc()
    ticker = figures.state.btc_ticker
    if fig is None or ticker is None:
        return BtcView(status)
    series = fig.intraday_series
    return BtcView(
        status,
        price=num(fig.price),
        change_24h_pct=change_24h_pct(figures),
        change_1h_pct=num(fig.change_1h_pct),
        ath=num(fig.ath),
        drawdown_pct=num(fig.drawdown_pct),
        high_24h=num(ticker.high),
        low_24h=num(ticker.low),
        chart_x=epoch_seconds(series.index) if len(series) else (),
        chart_y=tuple(series.astype(float).tolist()),
        chart_key=figures.state.version.get("btc_intraday", 0),
    )
