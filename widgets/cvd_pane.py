"""The altcoin CVD pane: the basket's cumulative taker delta since the start date, the whole market's beside it,
and a per-coin table.

Delta is taker-buy minus taker-sell quote volume (USD): persistent negative delta means market sellers are
hitting bids, i.e. spot selling pressure. The ratio is taker-buy / taker-sell volume (< 1 = more selling).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from widgets.chart import LineChart
from widgets.format import clean, money, ratio, tone
from widgets.panes import Pane
from widgets.table_fit import CoinTable, ColumnSpec, FittedTable
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import CvdRow, CvdView

#: key, label, and how it fits a narrow pane: the cumulative and 30-day deltas stay longest, then the ratio.
COLUMNS: list[tuple[str, str, ColumnSpec]] = [
    ("coin", "Coin", ColumnSpec("coin")),
    ("cum", "CVD", ColumnSpec("cum", 1)),
    ("d24", "Δ24h", ColumnSpec("d24", 3)),
    ("d30", "Δ30d", ColumnSpec("d30", 1)),
    ("ratio", "B/S 30d", ColumnSpec("ratio", 2)),
    ("share", "Share", ColumnSpec("share", 4)),
]

SORT_KEYS = ("d30", "cum", "d24", "ratio", "coin")


def summary(view: CvdView, compact: bool = False) -> Text:
    """The pane's headline lines; ``compact`` (a narrow pane) shortens the market line to fit one line."""
    text = Text()
    if view.basket_usd is None:
        text.append("waiting for data…" if not view.rows else "basket CVD unknown", style="dim")
        return text
    fresh = view.status.fresh
    text.append(f"Basket CVD since {view.since} ")
    text.append(
        money(view.basket_usd, signed=True), style=(tone(view.basket_usd) if fresh else "dim") + " bold"
    )
    text.append("  30d ")
    text.append(money(view.basket_change_30d_usd, signed=True), style=tone(view.basket_change_30d_usd))
    text.append("  B/S ")
    r = view.basket_ratio_30d
    text.append(ratio(r), style="red" if r is not None and r < 1 else "green")
    if view.provisional:
        text.append("  (today open)", style="dim")
    if view.market_pairs:
        text.append("\nMarket " if compact else "\nMarket CVD ")
        text.append(money(view.market_usd, signed=True), style=tone(view.market_usd) if fresh else "dim")
        text.append("  30d ")
        text.append(money(view.market_change_30d_usd, signed=True), style=tone(view.market_change_30d_usd))
        mr = view.market_ratio_30d
        text.append("  B/S ")
        text.append(ratio(mr), style="red" if mr is not None and mr < 1 else "green")
        pairs = f"{view.market_pairs} pairs"
        text.append(f"  {pairs}" if compact else f"  ({pairs})", style="dim")
    if view.perp_change_30d_usd is not None:
        text.append("\nPerp CVD 30d ")
        text.append(money(view.perp_change_30d_usd, signed=True), style=tone(view.perp_change_30d_usd))
        pr = view.perp_ratio_30d
        if pr is not None:
            text.append("  B/S ")
            text.append(ratio(pr), style="red" if pr < 1 else "green")
        text.append(f"  ({view.perp_coins} perps, Binance USD-M)", style="dim")
    if view.excluded:
        text.append(
            f"\nexcluded (no taker data): {', '.join(clean(c, 12) for c in view.excluded)}", style="yellow"
        )
    if not fresh:
        text.append(f"\nSTALE: {view.status.text}", style="bold reverse")
    return text


def _cells(row: CvdRow) -> dict[str, Text]:
    values = {
        "coin": Text(clean(row.coin, 12), style="bold"),
        "cum": Text(money(row.cumulative_usd, signed=True), style=tone(row.cumulative_usd), justify="right"),
        "d24": Text(money(row.delta_24h_usd, signed=True), style=tone(row.delta_24h_usd), justify="right"),
        "d30": Text(money(row.delta_30d_usd, signed=True), style=tone(row.delta_30d_usd), justify="right"),
        "ratio": Text(
            ratio(row.ratio_30d),
            style="red" if row.ratio_30d is not None and row.ratio_30d < 1 else "green",
            justify="right",
        ),
        "share": Text("—" if row.share_pct is None else f"{row.share_pct:.0f}%", justify="right"),
    }
    if row.note:
        values["cum"] = Text(clean(row.note, 28), style="yellow")
    return values


class CvdPane(Pane):
    """Pane 2."""

    PANE = "cvd"
    #: Below this many cells the market line drops its "CVD" and parentheses (it then fits ~50 cells).
    COMPACT_BELOW = 56
    #: The help panel's text (``?``) while the pane or its table has focus.
    HELP = """\
**Altcoin spot CVD**: taker buys minus taker sells (USD) since `cvd.start`; falling means spot selling.
**B/S**: taker buy ÷ sell volume over 30 days (below 1: more selling).

**Basket**: the coins of `general.coins`. **Market**: every Binance spot altcoin pair ("N pairs"; BTC,
stablecoins, wrapped and leveraged tokens left out: `cvd.market_exclude`), our Binance-spot-only figure for the
seeds' "-$209B" (CryptoQuant aggregates many exchanges, Binance being one). **Perp**: the basket on Binance USD-M.
"""

    def __init__(self, *, id: str | None = "pane-cvd") -> None:
        super().__init__("Altcoin spot CVD", number=2, id=id)
        self.sort_key = "d30"

    def compose(self) -> ComposeResult:
        yield TextBox(Text("waiting for data…", style="dim"), id="cvd-summary", classes="headline")
        yield LineChart(id="cvd-chart")
        table = CoinTable(id="cvd-table", cursor_type="row", zebra_stripes=False)
        yield table

    def on_mount(self) -> None:
        self._table = FittedTable(self.query_one("#cvd-table", DataTable), [spec for _, _, spec in COLUMNS])

    def render_view(self, view: CvdView | None) -> None:
        if view is None:
            self._fill()
            return
        self.query_one("#cvd-summary", Static).update(summary(view, self.compact))
        self.query_one("#cvd-chart", LineChart).set_series(
            view.chart_x,
            view.chart_y,
            view.chart_key,
            zero_line=True,
            y_format=lambda v: money(v, signed=True),
        )
        self._fill()

    def sorted_rows(self, view: CvdView) -> list[CvdRow]:
        attr = {"d30": "delta_30d_usd", "cum": "cumulative_usd", "d24": "delta_24h_usd", "ratio": "ratio_30d"}
        if self.sort_key == "coin":
            return sorted(view.rows, key=lambda r: r.coin)
        name = attr[self.sort_key]
        # Most selling first; unknown values sink to the bottom.
        return sorted(view.rows, key=lambda r: (getattr(r, name) is None, getattr(r, name) or 0.0))

    def _fill(self) -> None:
        if self._table is None:
            return
        labels = {key: Text(label + (" ▲" if key == self.sort_key else "")) for key, label, _ in COLUMNS}
        rows = self.sorted_rows(self.view) if self.view is not None else []
        self._table.sync(labels, [(row.coin, _cells(row)) for row in rows])

    def selected_coin(self) -> str | None:
        """The coin of the row under the cursor (for drill-down)."""
        return self._table.cursor_key() if self._table is not None else None

    def cycle_sort(self) -> str:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._fill()
        return self.sort_key
