"""The altcoin CVD pane: the basket's cumulative taker delta since the start date, and a per-coin table.

Delta is taker-buy minus taker-sell quote volume (USD): persistent negative delta means market sellers are
hitting bids, i.e. spot selling pressure. The ratio is taker-buy / taker-sell volume (< 1 = more selling).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from widgets.chart import LineChart
from widgets.format import clean, money, ratio, tone
from widgets.panes import Pane
from widgets.viewmodels import CvdRow, CvdView

COLUMNS: list[tuple[str, str, bool]] = [
    # key, label, kept in the compact (narrow) layout
    ("coin", "Coin", True),
    ("cum", "CVD", True),
    ("d24", "Δ24h", False),
    ("d30", "Δ30d", True),
    ("ratio", "B/S 30d", True),
    ("share", "Share", False),
]

SORT_KEYS = ("d30", "cum", "d24", "ratio", "coin")


def summary(view: CvdView) -> Text:
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
    if view.excluded:
        text.append(
            f"\nexcluded (no taker data): {', '.join(clean(c, 12) for c in view.excluded)}", style="yellow"
        )
    if not fresh:
        text.append(f"\nSTALE: {view.status.text}", style="bold reverse")
    return text


def _cells(row: CvdRow, compact: bool) -> list[Text]:
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
    return [values[key] for key, _, keep in COLUMNS if keep or not compact]


class CvdPane(Pane):
    """Pane 2."""

    def __init__(self, *, id: str | None = "pane-cvd") -> None:
        super().__init__("Altcoin spot CVD", number=2, id=id)
        self.compact = False
        self.sort_key = "d30"
        self._view: CvdView | None = None
        self._row_keys: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("waiting for data…", style="dim"), id="cvd-summary", classes="headline")
        yield LineChart(id="cvd-chart")
        table: DataTable[Text] = DataTable(id="cvd-table", cursor_type="row", zebra_stripes=False)
        yield table

    def on_mount(self) -> None:
        self._build_columns()

    def _build_columns(self) -> None:
        table = self.query_one("#cvd-table", DataTable)
        table.clear(columns=True)
        self._row_keys = []
        for key, label, keep in COLUMNS:
            if keep or not self.compact:
                table.add_column(label + (" ▲" if key == self.sort_key else ""), key=key)

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self._build_columns()
            if self._view is not None:
                self._fill(self._view)

    def update_view(self, view: CvdView) -> None:
        self._view = view
        self.show_status(view.status)
        self.query_one("#cvd-summary", Static).update(summary(view))
        self.query_one("#cvd-chart", LineChart).set_series(
            view.chart_x,
            view.chart_y,
            view.chart_key,
            zero_line=True,
            y_format=lambda v: money(v, signed=True),
        )
        self._fill(view)

    def sorted_rows(self, view: CvdView) -> list[CvdRow]:
        attr = {"d30": "delta_30d_usd", "cum": "cumulative_usd", "d24": "delta_24h_usd", "ratio": "ratio_30d"}
        if self.sort_key == "coin":
            return sorted(view.rows, key=lambda r: r.coin)
        name = attr[self.sort_key]
        # Most selling first; unknown values sink to the bottom.
        return sorted(view.rows, key=lambda r: (getattr(r, name) is None, getattr(r, name) or 0.0))

    def _fill(self, view: CvdView) -> None:
        table = self.query_one("#cvd-table", DataTable)
        rows = self.sorted_rows(view)
        keys = [r.coin for r in rows]
        column_keys = [key for key, _, keep in COLUMNS if keep or not self.compact]
        if keys == self._row_keys:
            # Same rows in the same order: update cells in place (cheap, no flicker, keeps the cursor).
            for row in rows:
                for column, cell in zip(column_keys, _cells(row, self.compact), strict=True):
                    table.update_cell(row.coin, column, cell)
            return
        cursor = table.cursor_row
        table.clear()
        for row in rows:
            table.add_row(*_cells(row, self.compact), key=row.coin)
        self._row_keys = keys
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def selected_coin(self) -> str | None:
        """The coin of the row under the cursor (for drill-down)."""
        table = self.query_one("#cvd-table", DataTable)
        if not self._row_keys or not 0 <= table.cursor_row < len(self._row_keys):
            return None
        return self._row_keys[table.cursor_row]

    def cycle_sort(self) -> str:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._build_columns()
        if self._view is not None:
            self._fill(self._view)
        return self.sort_key
