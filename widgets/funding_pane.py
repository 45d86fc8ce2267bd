"""The funding pane: perpetual funding per coin and exchange as a heatmap, with open interest beside it.

Funding is what one side of a perpetual swap pays the other every few hours, normalised here to a rate per 8h.
Positive funding means longs pay shorts: leverage is crowded long (fuel for a long squeeze, a fragile market);
negative means shorts pay. Around the exchanges' default of 0.01 %/8h positioning is neutral, so the colour scale
(:mod:`widgets.heat`) is centred there. Open interest (OI, USD) rising after a flush means leverage is rebuilding.

Three views, cycled with ``v``: coins x venues (the latest rate on each exchange, the coin's median, OI and its
24 h change), coins x time (the venue median over the last N 8h periods) and long/short (who is long, by account
and by the top traders' size: :mod:`widgets.long_short_table`). A venue whose feed is not fresh has
its header marked and its cells dimmed and suffixed, so a stale number never looks live.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import DataTable, Static

from widgets.format import clean, money, pct
from widgets.heat import STALE_MARK, heat_cell, heat_glyph, heat_style, no_color, rate_text
from widgets.long_short_table import long_short_summary, long_short_table
from widgets.panes import Pane
from widgets.table_fit import CoinTable, ColumnSpec, FittedTable
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import FundingRow, FundingView, LongShortView

#: Short venue labels (wide, compact) for the column headers; unknown venues are shown cleaned and truncated.
VENUE_LABELS: dict[str, tuple[str, str]] = {
    "binance": ("Binance", "BIN"),
    "bybit": ("Bybit", "BYB"),
    "okx": ("OKX", "OKX"),
    "hyperliquid": ("Hyperliq", "HL"),
}

#: Sort orders for ``cycle_sort``: (key, column that carries the ▲ marker, label for the notification).
SORT_KEYS: tuple[str, ...] = ("oi", "median", "oi_change", "coin")
SORT_COLUMN = {"median": "median", "oi_change": "oi_chg", "oi": "oi", "coin": "coin"}
SORT_LABEL = {"median": "median funding", "oi_change": "OI 24h change", "oi": "open interest", "coin": "coin"}


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def venue_label(venue: str, compact: bool) -> str:
    wide, short = VENUE_LABELS.get(venue.lower(), (clean(venue, 10), clean(venue, 4)))
    return short if compact else wide


@dataclass(frozen=True)
class _Column:
    key: str
    label: Text
    spec: ColumnSpec


def summary(view: FundingView, *, sort_note: str = "", time_view: bool = False) -> Text:
    """Header: median funding (%/8h and annualised), share above the baseline, total OI and its 24 h change."""
    text = Text()
    if not view.rows and not view.perps:
        text.append("waiting for data…", style="dim")
        if not view.status.fresh and view.status.text:
            text.append(f"\nSTALE: {clean(view.status.text, 80)}", style="bold reverse")
        return text
    fresh = view.status.fresh
    mono = no_color()
    median = view.median_8h
    text.append("Median ")
    if _finite(median):
        assert median is not None
        style = heat_style(median, view.baseline_8h, mono=mono) if fresh else "dim"
        text.append(f"{rate_text(median)}%/8h", style=style)
        glyph = heat_glyph(median, view.baseline_8h)
        if glyph:
            text.append(glyph)
        text.append(f" ({median * 3 * 365 * 100:+.1f}%/yr)", style="" if fresh else "dim")
    else:
        text.append("—", style="dim")
    share = view.share_above_baseline
    text.append(" · ")
    text.append("—" if share is None else f"{share * 100:.0f}%", style="bold" if (share or 0) > 0.6 else "")
    text.append(f" of coins > {rate_text(view.baseline_8h).lstrip('+')}%")
    text.append("\nOI ")
    text.append(money(view.oi_total_usd), style="" if fresh else "dim")
    text.append(" ")
    text.append(pct(view.oi_change_24h_pct), style="bold" if abs(view.oi_change_24h_pct or 0) >= 5 else "")
    text.append(" 24h")
    text.append(f" · {view.perps or len(view.rows)} perps", style="dim")
    if _finite(view.oi_weighted_8h):
        assert view.oi_weighted_8h is not None
        text.append(" · OI-wtd ")
        weighted = view.oi_weighted_8h
        style = heat_style(weighted, view.baseline_8h, mono=mono) if fresh else "dim"
        text.append(f"{rate_text(weighted)}%", style=style)
    if sort_note:
        text.append(f"  sort {sort_note} ▲", style="dim")
    if view.coin_filter:
        # The median, OI and count above are the market's; only the rows are narrowed.
        text.append(f"\nfilter /{clean(view.coin_filter, 12)}: {len(view.rows)} of {view.perps} shown", style="bold")
    if time_view:
        text.append("\ncoins x time: venue median per 8h", style="bold")
        if not view.history:
            text.append(" · no funding history yet", style="dim")
    stale = [v for v in view.venues if not v.fresh]
    if stale:
        text.append("\n")
        text.append(
            f"{STALE_MARK} " + " · ".join(f"{venue_label(v.venue, True)} {clean(v.text, 40)}" for v in stale),
            style="yellow",
        )
        text.append(" — not current", style="dim")
    if not fresh:
        text.append(f"\nSTALE: {clean(view.status.text, 80)}", style="bold reverse")
    return text


class FundingPane(Pane):
    """Pane 3: funding heatmap (coins x venues, or coins x time) with open interest."""

    PANE = "funding"
    BINDINGS = [Binding("v", "toggle_view", "View")]

    #: Compact below this many cells of content width: short venue names, no heat glyphs (unless NO_COLOR).
    COMPACT_BELOW = 82
    #: The views ``v`` cycles through.
    MODES = ("venues", "time", "long_short")

    #: The long/short view-model (the funding heatmap is ``view``).
    long_short: var[LongShortView | None] = var(None, init=False, always_update=True)

    def __init__(self, *, id: str | None = "pane-funding") -> None:
        super().__init__("Funding & OI", number=3, id=id)
        # Biggest open interest first, as desks read a board of hundreds of perps: the top rows that fit are the
        # coins that matter; ``s`` re-sorts, ``/`` finds any coin.
        self.sort_key = "oi"
        self.mode = "venues"  # venues | time | long_short
        self._coins: dict[str, str] = {}  # row key -> coin as given by the view
        # Cells of the last fill by what they show (a heat cell by rate, baseline, glyphs, mono and stale; the coin,
        # OI and OI change cells by their value and liveness): one venue's new snapshot changes one column, so the
        # other cells of the rows in view are reused instead of rebuilt, and the table sees the same objects.
        self._cell_memo: dict[tuple[object, ...], Text] = {}
        self._cell_next: dict[tuple[object, ...], Text] = {}

    def compose(self) -> ComposeResult:
        yield TextBox(Text("waiting for data…", style="dim"), id="funding-summary", classes="headline")
        table = CoinTable(id="funding-table", cursor_type="row", zebra_stripes=False)
        yield table

    def on_mount(self) -> None:
        self._table = FittedTable(self.query_one("#funding-table", DataTable), [])

    # -- public API ---------------------------------------------------------------------------------------
    def cycle_sort(self) -> str:
        """Next sort order (OI, median funding, OI 24h change, coin); returns its key."""
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.redraw()
        return self.sort_key

    def selected_coin(self) -> str | None:
        """The coin under the table's cursor (for drill-down on Enter), or None."""
        key = self._table.cursor_key() if self._table is not None else None
        return None if key is None else self._coins.get(key)

    def action_toggle_view(self) -> None:
        """Next view: the coins x venues heatmap, the coins x time table, the long/short ratios."""
        self.mode = self.MODES[(self.MODES.index(self.mode) + 1) % len(self.MODES)]
        self.redraw()

    def update_long_short(self, view: LongShortView) -> None:
        """Show a new long/short view-model (the same as assigning ``long_short``)."""
        self.long_short = view

    def watch_long_short(self, view: LongShortView | None) -> None:
        if self.mode == "long_short":
            self.redraw()

    # -- rendering ----------------------------------------------------------------------------------------
    def render_view(self, view: FundingView | None) -> None:
        if self.mode == "long_short":
            self._fill_long_short()
            return
        columns = self._wanted_columns(view)
        self._fill(view, columns)
        # The sort is named in the header when its column is not on screen (another view, or dropped for width).
        visible = set(self._table.shown_keys()) if self._table is not None else {c.key for c in columns}
        note = "" if SORT_COLUMN[self.sort_key] in visible else SORT_LABEL[self.sort_key]
        if view is not None:
            text = summary(view, sort_note=note, time_view=self.mode == "time")
            self.query_one("#funding-summary", Static).update(text)

    def sorted_rows(self, view: FundingView) -> list[FundingRow]:
        """Rows in the current sort order: most crowded / biggest OI rise first; unknowns sink to the bottom."""
        if self.sort_key == "coin":
            return sorted(view.rows, key=lambda r: clean(r.coin))
        attr = {"median": "median_8h", "oi_change": "oi_change_24h_pct", "oi": "oi_usd"}[self.sort_key]

        def key(row: FundingRow) -> tuple[bool, float]:
            value = getattr(row, attr)
            return (not _finite(value), -(value or 0.0) if _finite(value) else 0.0)

        return sorted(view.rows, key=key)

    def _wanted_columns(self, view: FundingView | None) -> list[_Column]:
        """Every column the mode can show; the narrower the pane, the more of the low-priority ones are dropped:
        OI first, then its 24 h change, then the median (venues), or the oldest periods first (coins x time).
        """
        sort_column = SORT_COLUMN[self.sort_key]

        def column(key: str, name: str, priority: int = 0, style: str = "") -> _Column:
            # The column the rows are sorted by is the last to go when the pane is narrow.
            return _Column(key, Text(name + (" ▲" if key == sort_column else ""), style=style),
                           ColumnSpec(key, 0 if key == sort_column else priority))  # fmt: skip

        columns = [column("coin", "Coin")]
        if view is None:
            return columns
        if self.mode == "time":
            count = len(view.period_labels)
            for i, period in enumerate(view.period_labels):
                columns.append(column(f"p{i}:{clean(period, 12)}", clean(period, 12), count - i))
            return columns
        for i, venue in enumerate(view.venues):
            name = venue_label(venue.venue, self.compact)
            if venue.fresh:
                columns.append(column(f"v{i}:{clean(venue.venue, 20)}", name))
            else:
                columns.append(column(f"v{i}:{clean(venue.venue, 20)}", name + STALE_MARK, style="yellow"))
        columns += [column("median", "Med", 1), column("oi", "OI", 3), column("oi_chg", "OI 24h", 2)]
        return columns

    def _venue_cells(self, view: FundingView, row: FundingRow, stale: tuple[bool, ...], glyphs: bool,
                     mono: bool) -> list[Text]:  # fmt: skip
        """One row of the coins x venues view; ``stale``: each venue's column, then the median's."""
        live = view.status.fresh
        baseline = view.baseline_8h
        rates = list(row.rates_8h)[: len(stale) - 1]
        rates += [None] * (len(stale) - 1 - len(rates))
        rates.append(row.median_8h)
        cells = [self._cell(("coin", row.coin), lambda: Text(clean(row.coin, 12), style="bold"))]
        cells += [self._heat(rate, baseline, glyphs, mono, dim) for rate, dim in zip(rates, stale, strict=True)]
        oi_style = "" if live else "dim"
        oi = self._cell(("oi", row.oi_usd, live), lambda: Text(money(row.oi_usd), justify="right", style=oi_style))
        cells.append(oi)
        change = row.oi_change_24h_pct
        style = ("bold" if abs(change or 0) >= 5 else "") if live else "dim"
        cells.append(self._cell(("oi_chg", change, live), lambda: Text(pct(change, 1), justify="right", style=style)))
        return cells

    def _heat(self, rate: float | None, baseline: float, glyphs: bool, mono: bool, stale: bool) -> Text:
        key = ("heat", rate, baseline, glyphs, mono, stale)
        return self._cell(key, lambda: heat_cell(rate, baseline, glyphs=glyphs, mono=mono, stale=stale))

    def _cell(self, key: tuple[object, ...], build: Callable[[], Text]) -> Text:
        """A cell, reused from the last fill when nothing it shows changed (cells are never mutated: the table
        cuts a copy when a column is narrowed). ``key`` is everything the cell shows."""
        cell = self._cell_next.get(key)
        if cell is None:
            cell = self._cell_memo.get(key)
        if cell is None:
            cell = build()
        self._cell_next[key] = cell
        return cell

    def _row_builders(self, view: FundingView | None) -> tuple[list[str], Callable[[int], list[Text]]]:
        """The coins of the current mode in display order, and the function that builds row ``i``'s cells: the
        table calls it only for the rows in view (a board of every perp is hundreds of rows)."""
        if view is None:
            return [], lambda i: []
        order = self.sorted_rows(view)
        mono = no_color()
        glyphs = mono or not self.compact
        baseline = view.baseline_8h
        if self.mode == "venues":
            live = view.status.fresh
            stale = (*(not (venue.fresh and live) for venue in view.venues), not live)
            return [row.coin for row in order], lambda i: self._venue_cells(view, order[i], stale, glyphs, mono)
        rank = {row.coin: i for i, row in enumerate(order)}
        history = sorted(view.history, key=lambda h: (rank.get(h[0], len(rank)), clean(h[0])))
        count = len(view.period_labels)
        dim = not view.status.fresh

        def time_cells(i: int) -> list[Text]:
            coin, rates = history[i]
            values = list(rates)[:count] + [None] * (count - len(rates))
            cells = [self._cell(("coin", coin), lambda: Text(clean(coin, 12), style="bold"))]
            return cells + [self._heat(v, baseline, glyphs, mono, dim) for v in values]

        return [coin for coin, _ in history], time_cells

    def _fill_long_short(self) -> None:
        table = long_short_table(self.long_short, compact=self.compact)
        self.query_one("#funding-summary", Static).update(long_short_summary(self.long_short))
        if self._table is not None:
            self._coins = table.coins
            self._table.set_specs(table.specs)
            self._table.sync(table.labels, table.rows)

    def _fill(self, view: FundingView | None, columns: list[_Column]) -> None:
        if self._table is None:
            return
        # The cells of the last fill (and of the rows scrolled to since) are what this one may reuse; only what
        # this fill uses is kept, so the memo stays the size of what has been on screen.
        self._cell_memo, self._cell_next = self._cell_next, {}
        coins, build = self._row_builders(view)
        keys = _unique_keys(coins)
        self._coins = dict(zip(keys, coins, strict=True))
        names = [c.key for c in columns]
        self._table.set_specs([c.spec for c in columns])
        self._table.sync_lazy({c.key: c.label for c in columns}, keys,
                              lambda i: dict(zip(names, build(i), strict=True)))  # fmt: skip


def _unique_keys(coins: list[str]) -> list[str]:
    """Row keys made unique (a provider listing a coin twice must not crash the table)."""
    seen: dict[str, int] = {}
    result = []
    for coin in coins:
        count = seen.get(coin, 0)
        seen[coin] = count + 1
        result.append(coin if count == 0 else f"{coin}#{count}")
    return result
