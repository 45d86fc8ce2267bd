"""Coin detail: one coin's spot flow, price, derivatives positioning and liquidations on one screen.

What a trader reads here, top to bottom:

* **Header** — last price and its change over the chosen window; the coin's spot CVD over that window (taker-buy
  minus taker-sell quote volume, USD: negative = market sellers dominated); the taker buy/sell ratio (< 1 = more
  aggressive selling); and the coin's share of the altcoin basket's cumulative delta (how much of the basket's
  buying or selling this one coin accounts for).
* **Charts** — ``c`` cycles them: price and cumulative spot delta over the window, on the same bars (two charts side
  by side); spot vs perp CVD (is leverage buying what spot sells?); open interest per venue in USD (leverage building
  or flushed, and where); funding per venue per 8 h in percent (who pays, and since when). The multi-line charts
  have a legend; a venue without a history is named under the chart, never drawn as 0.
* **Funding** — each venue's current rate normalised to 8 hours (positive: longs pay shorts, i.e. leverage is
  long-crowded), its yearly carry, the next settlement; and the recent 8 h history (mean across venues) as a
  sparkline.
* **Open interest** — leverage open on each venue in USD and the 24 h change (rising OI + positive funding =
  new leveraged longs; a sharp drop in a sell-off = the flush).
* **Long/short** — who is long: the share of accounts net long on Binance and Bybit (the crowd) and of the top
  traders' positions by size on Binance (the money), each as the ratio long ÷ short with the period it is for.
* **Liquidations** — this coin's forced closes per window (1 h / 4 h / 24 h, and the screen's window up to the
  tape's 35 days), long (forced selling) vs short, with the count and the last prints. "n/a" where the tape did not
  record the window (unknown, not $0), "≥" where it recorded part of it (a lower bound).

The view-models (:class:`records.viewmodels.CoinView` and its rows) are plain frozen data built by
:mod:`tui.views.coin`; the widget only draws them. Names from the network are cleaned before display.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import var
from textual.widgets import Static

from widgets.chart import LINE_COLORS, LineChart
from widgets.format import clean, money, pct, price, ratio, tone
from widgets.long_short_table import ratio_cell
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import CoinView, LiquidationTotals

NARROW = 100  # below this many columns the detail stacks into one scrollable column

_SPARK = "▁▂▃▄▅▆▇█"


# -- text builders (pure; tested without a terminal) ------------------------------------------------------------
def window_bar(view: CoinView) -> Text:
    """``24h [7d] 30d 90d all`` with the current window highlighted."""
    text = Text()
    for name in view.windows:
        if name == view.window:
            text.append(f"[{name}]", style="bold reverse")
        else:
            text.append(f" {name} ", style="dim")
        text.append(" ")
    text.append(" [ ] t", style="dim")
    return text


def chart_bar(view: CoinView) -> Text:
    """``c price · spot/perp · [OI] · funding``: which chart ``c`` shows, and what comes next."""
    text = Text("c ", style="bold")
    for i, (name, label) in enumerate(CHART_NAMES.items()):
        if i:
            text.append(" · ", style="dim")
        chosen = name == view.chart
        text.append(f"[{label}]" if chosen else label, style="bold reverse" if chosen else "dim")
    return text


#: Short names of the charts ``c`` cycles (the view-model's ``chart`` ids), in their order.
CHART_NAMES: dict[str, str] = {"price": "price", "spot_perp": "spot/perp", "oi": "OI", "funding": "funding"}
#: How each unit of a ChartLine reads on the axis and in the legend.
UNIT_FORMATS: dict[str, Callable[[float], str]] = {
    "USD": lambda v: money(v, signed=v < 0),
    "%/8h": lambda v: f"{v:+.4f}%",
}


def chart_legend(view: CoinView) -> Text:
    """The multi-line chart's legend with each line's last value, then what the lines rest on (the note) and, when
    the chart's feed is not fresh, STALE with its age."""
    text = Text()
    for i, line in enumerate(view.chart_lines):
        if i:
            text.append("  ")
        text.append("━ ", style=LINE_COLORS[i % len(LINE_COLORS)])
        fmt = UNIT_FORMATS.get(line.unit, lambda v: f"{v:,.4g}")
        text.append(f"{clean(line.label, 16)} {fmt(line.y[-1]) if line.y else '—'}")
    if not view.chart_lines:
        text.append("no history to draw", style="yellow")
    if view.chart_stale:
        text.append(f"  STALE: {clean(view.chart_stale, 80)}", style="bold reverse")
    if view.chart_note:
        text.append(f"\n{clean(view.chart_note, 200)}", style="dim")
    return text


def header(view: CoinView) -> Text:
    """The coin's headline figures over the window; stale figures are dimmed and labelled."""
    text = Text()
    coin = clean(view.coin, 16)
    text.append(f"{coin} ", style="bold")
    if view.message:
        text.append(clean(view.message, 160), style="yellow")
        if view.perp_cvd_30d_usd is not None:  # a perp-only coin: its leverage's flow, with no spot beside it
            text.append("  perp CVD 30d ")
            text.append(money(view.perp_cvd_30d_usd, signed=True), style=tone(view.perp_cvd_30d_usd))
        text.append("\n")
        text.append_text(window_bar(view))
        return text
    fresh = view.status.fresh
    text.append(f"${price(view.price)}", style="bold" if fresh else "dim strike")
    text.append(f"  {view.window} ")
    text.append(pct(view.change_pct), style=tone(view.change_pct) if fresh else "dim")
    text.append("  CVD ")
    text.append(money(view.cvd_usd, signed=True), style=(tone(view.cvd_usd) if fresh else "dim") + " bold")
    text.append("  B/S ")
    r = view.ratio
    text.append(ratio(r), style="dim" if r is None else ("red" if r < 1 else "green"))
    text.append("  share ")
    text.append("—" if view.share_pct is None else f"{view.share_pct:+.0f}%", style=tone(view.share_pct))
    if view.perp_cvd_30d_usd is not None:  # spot vs perp: who is selling, spot holders or leverage
        text.append("  perp CVD 30d ")
        text.append(money(view.perp_cvd_30d_usd, signed=True), style=tone(view.perp_cvd_30d_usd))
    text.append("\n")
    text.append_text(window_bar(view))
    notes = [n for n in (view.bars, view.coverage, view.cvd_note, view.share_note) if n]
    if notes:
        text.append("  " + " · ".join(clean(n, 80) for n in notes), style="dim")
    if not fresh:
        text.append(f"\nSTALE: {clean(view.status.text, 120)}", style="bold reverse")
    return text


def sparkline(values: tuple[float | None, ...]) -> Text:
    """One block per period scaled between the series' min and max; an unknown period is a gap (·)."""
    known = [v for v in values if v is not None]
    text = Text()
    if not known:
        return text
    low, high = min(known), max(known)
    for v in values:
        if v is None:
            text.append("·", style="dim")
            continue
        level = 0 if high == low else round((v - low) / (high - low) * (len(_SPARK) - 1))
        text.append(_SPARK[level], style="green" if v < 0 else ("yellow" if v > 0.0001 else ""))
    return text


def rate_pct(rate_8h: float | None) -> str:
    """A funding fraction per 8 h as percent: 0.00048 -> ``+0.0480%``."""
    return "—" if rate_8h is None else f"{rate_8h * 100:+.4f}%"


def funding_block(view: CoinView) -> Group | Text:
    if not view.funding and not view.funding_history:
        return Text("Funding: no perpetual listed on the tracked venues (or waiting for data)", style="dim")
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=False)
    table.add_column("Venue")
    table.add_column("%/8h", justify="right")
    table.add_column("Annual", justify="right")
    table.add_column("Basis", justify="right")
    table.add_column("Next")
    for row in view.funding:
        style = "" if row.fresh else "dim"
        venue = Text(clean(row.venue, 12), style=style)
        if not row.fresh:
            venue.append(" ⚠", style="yellow")
        rate = Text(rate_pct(row.rate_8h), style=style or (tone(row.rate_8h)))
        annual = Text("—" if row.annualised_pct is None else f"{row.annualised_pct:+.1f}%", style=style)
        basis = Text("—" if row.basis_pct is None else f"{row.basis_pct:+.3f}%", style=style)
        nxt = Text(clean(row.next_funding, 24) if row.fresh else clean(row.status, 24), style=style or "")
        table.add_row(venue, rate, annual, basis, nxt)
    title = Text("Funding ", style="bold")
    title.append("(positive: longs pay shorts)", style="dim")
    if view.funding_mean_8h is not None:
        title.append("  mean ")
        title.append(rate_pct(view.funding_mean_8h), style=tone(view.funding_mean_8h))
    parts: list[Text | Table] = [title, table]
    if view.funding_history:
        hist = Text("History ")
        hist.append(f"{view.funding_labels[0] if view.funding_labels else ''} ", style="dim")
        hist.append_text(sparkline(view.funding_history))
        known = [v for v in view.funding_history if v is not None]
        if known:
            hist.append(f" now {rate_pct(view.funding_history[-1])}", style="dim")
            hist.append(f"  range {rate_pct(min(known))}…{rate_pct(max(known))}", style="dim")
        parts.append(hist)
    elif view.funding_note:
        parts.append(Text(f"History {clean(view.funding_note, 40)}", style="dim"))
    return Group(*parts)


def oi_line(view: CoinView) -> Text:
    text = Text("Open interest ", style="bold")
    if not view.oi:
        text.append("—  (no perpetual listed on the tracked venues, or waiting for data)", style="dim")
        return text
    text.append(money(view.oi_total_usd))
    text.append("  24h ")
    text.append(pct(view.oi_change_24h_pct, 1), style=tone(view.oi_change_24h_pct))
    if view.oi_note:
        text.append(f" ({clean(view.oi_note, 40)})", style="dim")
    text.append("\n")
    for i, row in enumerate(view.oi):
        if i:
            text.append(" · ", style="dim")
        text.append(f"{clean(row.venue, 12)} {money(row.usd)}", style="" if row.fresh else "dim")
        if not row.fresh:
            text.append(" ⚠", style="yellow")
    return text


#: The coin detail's long/short lines: (venue, kind) -> label.
LONG_SHORT_LINES = {("binance", "accounts"): ("Accounts", "binance"), ("bybit", "accounts"): ("Accounts", "bybit"),
                    ("binance", "top_positions"): ("Top traders' positions", "binance")}  # fmt: skip


def long_short_block(view: CoinView) -> Group | Text:
    """The coin's long/short ratios (ratio long ÷ short and % long) per venue, with the period each is for."""
    title = Text("Long/short ", style="bold")
    title.append("(ratio long ÷ short, % long)", style="dim")
    if not view.long_short:
        title.append("\n—  waiting for data", style="dim")
        return title
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=False)
    for name, justify in (("Ratio of", "left"), ("Venue", "left"), ("L/S", "right"), ("Period", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    cells = sorted(view.long_short, key=lambda c: list(LONG_SHORT_LINES).index((c.venue, c.kind))
                   if (c.venue, c.kind) in LONG_SHORT_LINES else len(LONG_SHORT_LINES))  # fmt: skip
    for cell in cells:
        what, venue = LONG_SHORT_LINES.get((cell.venue, cell.kind), (clean(cell.kind, 24), clean(cell.venue, 12)))
        style = "" if cell.fresh else "dim"
        label = Text(venue, style=style)
        if not cell.fresh:
            label.append(" ⚠", style="yellow")
        when = clean(cell.time, 20) if cell.fresh or cell.ratio is None else clean(cell.status, 24)
        table.add_row(Text(what, style=style), label, ratio_cell(cell), Text(when or "", style="dim"))
    return Group(title, table)


def _liq_window(row: LiquidationTotals) -> Text:
    """``24h  long $1.2M  short $300K  12 orders``; "n/a" when the tape did not record the window, "≥" when it
    recorded only part of it (the sums are a lower bound)."""
    text = Text(f"{clean(row.window, 4):>4} ", style="bold")
    if row.count is None or row.long_usd is None or row.short_usd is None:
        text.append("n/a  (not recorded by the tape)", style="dim")
        return text
    bound = "≥" if row.coverage < 1 else ""
    text.append("long ")
    text.append(f"{bound}{money(row.long_usd)}", style="red" if row.long_usd else "dim")
    text.append("  short ")
    text.append(f"{bound}{money(row.short_usd)}", style="green" if row.short_usd else "dim")
    text.append(f"  {bound}{row.count} order{'s' if row.count != 1 else ''}", style="dim")
    if row.coverage < 1:
        text.append(f"  ({row.coverage * 100:.0f}% recorded)", style="dim")
    return text


def liquidations_block(view: CoinView) -> Group | Text:
    """The coin's liquidation totals per window, the tape's state, and its last prints (newest first)."""
    title = Text(f"Liquidations {clean(view.coin, 12)} ", style="bold")
    title.append("(long = forced selling)", style="dim")
    if view.liq_stale:
        title.append(f"\nSTALE: {clean(view.liq_stale, 120)}", style="bold reverse")
    if not view.liq_windows:
        title.append(f"\n{clean(view.liq_note, 120) or 'unknown'}", style="dim")
        return title
    parts: list[Text | Table] = [title, *(_liq_window(row) for row in view.liq_windows)]
    if view.liq_note:
        parts.append(Text(clean(view.liq_note, 120), style="dim"))
    if view.liquidations:
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=False)
        for name, justify in (("Time", "left"), ("Venue", "left"), ("Side", "left"), ("USD", "right"),
                              ("Price", "right")):  # fmt: skip
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for row in view.liquidations:
            side_style = "red" if row.side == "long" else "green"
            table.add_row(
                clean(row.time, 10), clean(row.venue, 12), Text(clean(row.side, 6), style=side_style),
                money(row.notional_usd), price(row.price),
            )  # fmt: skip
        parts.append(table)
    return Group(*parts)


# -- the widget -------------------------------------------------------------------------------------------------
class CoinDetail(VerticalScroll, can_focus=True):
    """The coin detail body: a focusable scroll column (arrows/PgUp/PgDn scroll) that redraws from a CoinView.

    Below :data:`NARROW` columns (class ``-narrow``) charts and sections stack vertically.
    """

    DEFAULT_CSS = """
    CoinDetail { height: 1fr; }
    """

    #: The coin's view-model; every assignment redraws the detail.
    view: var[CoinView | None] = var(None, init=False, always_update=True)

    def __init__(self, *, id: str | None = "coin-detail") -> None:
        super().__init__(id=id)

    def compose(self) -> ComposeResult:
        yield TextBox(Text("waiting for data…", style="dim"), id="coin-header")
        with Horizontal(id="coin-charts"):
            with Vertical(classes="coin-chart-box"):
                yield TextBox("Price", classes="coin-chart-title", id="coin-price-title")
                yield LineChart(id="coin-price-chart")
            with Vertical(classes="coin-chart-box"):
                yield TextBox("CVD", classes="coin-chart-title", id="coin-cvd-title")
                yield LineChart(id="coin-cvd-chart")
            with Vertical(id="coin-lines-box"):
                yield TextBox("", classes="coin-chart-title", id="coin-lines-title")
                yield TextBox("", id="coin-lines-legend")
                yield LineChart(id="coin-lines-chart")
        with Horizontal(id="coin-lower"):
            with Vertical(id="coin-derivs"):
                yield TextBox("", id="coin-funding")
                yield TextBox("", id="coin-oi")
                yield TextBox("", id="coin-long-short")
            yield TextBox("", id="coin-liqs")

    def on_mount(self) -> None:
        self.apply_width(self.app.size.width)
        self.watch_view(self.view)

    def on_resize(self) -> None:
        self.apply_width(self.app.size.width)

    def apply_width(self, width: int) -> None:
        self.set_class(width < NARROW, "-narrow")

    def _draw_lines(self, view: CoinView) -> None:
        title = Text(view.chart_title or CHART_NAMES.get(view.chart, ""), style="bold")
        title.append("  ")
        title.append_text(chart_bar(view))
        self.query_one("#coin-lines-title", Static).update(title)
        self.query_one("#coin-lines-legend", Static).update(chart_legend(view))
        unit = view.chart_lines[0].unit if view.chart_lines else "USD"
        self.query_one("#coin-lines-chart", LineChart).set_lines(
            view.chart_lines, ("lines", view.chart, view.chart_lines), zero_line=True, y_format=UNIT_FORMATS.get(unit)
        )

    @property
    def chart_key(self) -> tuple[object, ...]:
        return () if self.view is None else self.view.chart_key

    def update_view(self, view: CoinView) -> None:
        """Show a new view-model (the same as assigning ``view``)."""
        self.view = view

    def watch_view(self, view: CoinView | None) -> None:
        if view is None or not self.is_mounted:
            return
        self.query_one("#coin-header", Static).update(header(view))
        # Which chart ``c`` selected: the two price charts, or the multi-line one (TCSS shows one or the other).
        self.set_class(view.chart != "price", "-lines")
        self._draw_lines(view)
        window = f" over {view.window}" if not view.message else ""
        price_title = Text(f"Price{window}  ", style="bold")
        price_title.append_text(chart_bar(view))
        self.query_one("#coin-price-title", Static).update(price_title)
        self.query_one("#coin-cvd-title", Static).update(
            Text(f"Spot CVD{window} (taker buy − sell, USD)", style="bold")
        )
        self.query_one("#coin-price-chart", LineChart).set_series(
            view.price_x, view.price_y, ("price", *view.chart_key), y_format=price
        )
        self.query_one("#coin-cvd-chart", LineChart).set_series(
            view.cvd_x, view.cvd_y, ("cvd", *view.chart_key), zero_line=True,
            color="magenta", y_format=lambda v: money(v, signed=True),
        )  # fmt: skip
        self.query_one("#coin-funding", Static).update(funding_block(view))
        self.query_one("#coin-oi", Static).update(oi_line(view))
        self.query_one("#coin-long-short", Static).update(long_short_block(view))
        self.query_one("#coin-liqs", Static).update(liquidations_block(view))
