"""The liquidations pane: forced closes of leveraged futures positions, the cascade meter and the live tape.

A long liquidation is a forced market sell (a leveraged long ran out of margin); a short liquidation a forced buy.
A burst of long liquidations while price falls is a cascade: forced selling pushes price into the next layer of
stops. The meter compares the last hour's long liquidations with their trailing hourly median (ACTIVE past the
configured multiple with BTC falling). Exchanges throttle their liquidation streams, so totals are a lower bound.

Rows: the cascade meter, totals per window (1h / 4h / 24h, long vs short USD), each venue's feed state, the tape
(newest first) and the lower-bound note. A venue whose feed is not fresh shows its state text, and its tape rows
are dimmed and marked, so nothing stale looks live.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from widgets.format import clean, money, pct, price
from widgets.heat import STALE_MARK
from widgets.panes import Pane
from widgets.table_fit import CoinTable, ColumnSpec, FittedTable
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import CascadeView, LiquidationRow, LiquidationsView, VenueStatus

METER_WIDTH = 10
#: The tape shows at most this many rows (the view-model normally holds fewer).
MAX_TAPE = 200

#: key, label, and how it fits a narrow pane: price goes first, then the venue.
COLUMNS: list[tuple[str, str, ColumnSpec]] = [
    ("time", "Time", ColumnSpec("time")),
    ("venue", "Venue", ColumnSpec("venue", 2)),
    ("coin", "Coin", ColumnSpec("coin")),
    ("side", "Side", ColumnSpec("side")),
    ("size", "Size", ColumnSpec("size")),
    ("price", "Price", ColumnSpec("price", 3)),
]
SORT_KEYS: tuple[str, ...] = ("time", "size")


def _finite(value: float | None) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def meter_bar(fraction: float | None, width: int = METER_WIDTH) -> str:
    """``[██████░░░░]`` filled in proportion to ``fraction`` (clamped to 0..1; unknown -> empty)."""
    if fraction is None or not math.isfinite(fraction):
        filled = 0
    else:
        filled = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "█" * filled + "░" * (width - filled) + "]"


def cascade_line(cascade: CascadeView | None, fresh: bool, compact: bool = False) -> Text:
    """The cascade meter: bar, ratio to the hourly median, state (ACTIVE reversed), BTC 1h and the sample."""
    text = Text()
    if cascade is None:
        text.append("Cascade ", style="bold")
        text.append(meter_bar(None), style="dim")
        text.append(" waiting for data…", style="dim")
        return text
    ratio = cascade.ratio
    hot = cascade.active
    text.append("Cascade ", style="bold")
    bar_style = ("bold red" if hot else ("yellow" if cascade.meter >= 0.6 else "")) if fresh else "dim"
    text.append(meter_bar(cascade.meter), style=bar_style)
    shown = "—" if ratio is None or not math.isfinite(ratio) else f"{ratio:.1f}x"
    text.append(f" {shown} of hourly median", style="" if fresh else "dim")
    text.append(" ")
    if hot:
        text.append(" ACTIVE ", style="bold reverse red" if fresh else "bold reverse")
    else:
        text.append("clear", style="green" if fresh else "dim")
    if not fresh:
        text.append(f" {STALE_MARK}stale", style="dim italic")
    if not compact:
        text.append(f"  (alert ≥ {cascade.threshold:g}x)", style="dim")
    text.append("\nLongs 1h ")
    text.append(money(cascade.long_1h_usd), style="red" if fresh and hot else ("" if fresh else "dim"))
    text.append(" / med " if compact else " vs median ")
    text.append(money(cascade.median_hourly_usd))
    text.append("  BTC 1h ")
    change = cascade.btc_change_1h_pct
    text.append(pct(change), style=("red" if (change or 0) < 0 else "green") if fresh and change else "dim")
    if cascade.recorded_for:
        lead = "  " if compact else "  median over "
        text.append(f"{lead}{clean(cascade.recorded_for, 64)}", style="dim")
    return text


def totals_text(view: LiquidationsView, compact: bool) -> Text:
    """One line per window: long (forced sells, red) and short (forced buys, green) liquidations in USD.

    Compact: one line, 1h and 24h only.
    """
    text = Text()
    if not view.totals:
        text.append("totals: waiting for data…", style="dim")
        return text
    fresh = view.status.fresh
    totals = [t for t in view.totals if t.window != "4h"] if compact else list(view.totals)
    for i, total in enumerate(totals):
        if i:
            text.append(" · " if compact else "\n", style="dim")
        text.append(f"{clean(total.window, 4):>{0 if compact else 3}} ", style="bold")
        text.append("L " if compact else "long ")
        width = 0 if compact else 8
        text.append(money(total.long_usd).rjust(width), style="red" if fresh and total.long_usd else "dim")
        text.append(" S " if compact else "  short ")
        text.append(money(total.short_usd).rjust(width), style="green" if fresh and total.short_usd else "dim")
        if total.long_usd is not None and total.coverage < 1:
            minutes = total.coverage * {"1h": 60, "4h": 240, "24h": 1440}.get(total.window, 60)
            text.append(f" ({minutes:.0f}m rec.)" if compact else f"  ({minutes:.0f} min recorded)", style="dim")
    return text


def venues_text(venues: tuple[VenueStatus, ...]) -> Text:
    """Each venue's feed state: live venues in green, others in yellow with their reason."""
    text = Text()
    for i, venue in enumerate(venues):
        if i:
            text.append(" · ", style="dim")
        name = clean(venue.venue, 14)
        if venue.fresh:
            text.append(f"{name} ", style="bold")
            text.append(clean(venue.text, 30) or "live", style="green")
        else:
            text.append(f"{name}{STALE_MARK} ", style="bold yellow")
            text.append(clean(venue.text, 60) or "not current", style="yellow")
    return text


def side_text(side: str, dimmed: bool, compact: bool = False) -> Text:
    """Which side was forced out: "LONG liq" (a forced sell) or "SHORT liq" (a forced buy); compact drops "liq"."""
    kind = side.lower()
    suffix = "" if compact else " liq"
    if kind == "long":
        return Text("LONG" + suffix, style="dim" if dimmed else "red")
    if kind == "short":
        return Text("SHORT" + suffix, style="dim" if dimmed else "green")
    return Text(clean(side, 10), style="dim")


class LiquidationsPane(Pane):
    """Pane 4: cascade meter, totals per window, venue states, the tape and its lower-bound note."""

    PANE = "liquidations"

    #: Compact below this many cells of content width: one-line meter and totals, sides without "liq".
    COMPACT_BELOW = 64

    def __init__(self, *, id: str | None = "pane-liqs") -> None:
        super().__init__("Liquidations", number=4, id=id)
        self.sort_key = "time"
        self._shown: list[LiquidationRow] = []

    def compose(self) -> ComposeResult:
        yield TextBox(Text("Cascade waiting for data…", style="dim"), id="liqs-cascade", classes="headline")
        yield TextBox(Text(""), id="liqs-totals")
        yield TextBox(Text(""), id="liqs-venues")
        table = CoinTable(id="liqs-tape", cursor_type="row", zebra_stripes=False)
        yield table
        yield TextBox(Text(""), id="liqs-note")

    def on_mount(self) -> None:
        self._table = FittedTable(self.query_one("#liqs-tape", DataTable), [spec for _, _, spec in COLUMNS])

    # -- public API ---------------------------------------------------------------------------------------
    def cycle_sort(self) -> str:
        """Toggle the tape between newest first ("time") and largest first ("size"); returns the key."""
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.redraw()
        return self.sort_key

    def selected_coin(self) -> str | None:
        """The coin of the tape row under the cursor (for drill-down on Enter), or None."""
        table = self.query_one("#liqs-tape", DataTable)
        if not 0 <= table.cursor_row < len(self._shown):
            return None
        return self._shown[table.cursor_row].coin

    # -- rendering ----------------------------------------------------------------------------------------
    def render_view(self, view: LiquidationsView | None) -> None:
        if view is not None:
            fresh = view.status.fresh
            head = cascade_line(view.cascade, fresh, self.compact)
            if not fresh:
                head.append(f"\nSTALE: {clean(view.status.text, 80)}", style="bold reverse")
            self.query_one("#liqs-cascade", Static).update(head)
            self.query_one("#liqs-totals", Static).update(totals_text(view, self.compact))
            self.query_one("#liqs-venues", Static).update(venues_text(view.venues))
            note = Text(clean(view.lower_bound_note, 160), style="dim")
            if not view.tape:
                note = Text("no liquidations recorded yet" + (f" · {note.plain}" if note.plain else ""), style="dim")
            self.query_one("#liqs-note", Static).update(note)
        self._fill(view)

    def ordered_tape(self, view: LiquidationsView) -> list[LiquidationRow]:
        tape = list(view.tape[:MAX_TAPE])
        if self.sort_key == "size":
            tape.sort(key=lambda r: -(r.notional_usd if _finite(r.notional_usd) else 0.0))
        return tape

    def _tape_cells(self, row: LiquidationRow, stale_venues: set[str], live: bool) -> dict[str, Text]:
        dimmed = row.venue in stale_venues or not live
        venue = clean(row.venue, 12) + (STALE_MARK if row.venue in stale_venues else "")
        return {
            "time": Text(clean(row.time, 10) + (STALE_MARK if dimmed and self.compact else ""), style="dim"),
            "venue": Text(venue, style="dim" if dimmed else ""),
            "coin": Text(clean(row.coin, 12), style="dim" if dimmed else "bold"),
            "side": side_text(row.side, dimmed, self.compact),
            "size": Text(money(row.notional_usd), justify="right", style="dim" if dimmed else ""),
            "price": Text(price(row.price), justify="right", style="dim" if dimmed else ""),
        }

    def _fill(self, view: LiquidationsView | None) -> None:
        """Rows are keyed by position: the newest record pushes the others down, cells change in place."""
        if self._table is None:
            return
        sort_column = "time" if self.sort_key == "time" else "size"
        labels = {key: Text(label + (" ▲" if key == sort_column else "")) for key, label, _ in COLUMNS}
        if view is None:
            self._shown = []
            self._table.sync(labels, [])
            return
        stale = {v.venue for v in view.venues if not v.fresh}
        self._shown = self.ordered_tape(view)
        rows = [(f"t{i}", self._tape_cells(r, stale, view.status.fresh)) for i, r in enumerate(self._shown)]
        self._table.sync(labels, rows)
