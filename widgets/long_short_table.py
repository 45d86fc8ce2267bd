"""The long/short table: per basket coin, who is long on Binance and Bybit (the funding pane's third view, ``v``).

Each cell is a venue's latest ratio and its long share, ``2.15 68%``: the ratio is long share / short share (above
1 more long), by account (every account counted once: the crowd) or by the top traders' position size (the
money). A ratio of 2 or more (two in three long) is marked crowded (yellow, ``▲`` without colour), one below 1
short-leaning (cyan, ``▼``). Unknown is a dim dash, never 0; a venue whose feed is not fresh has its header marked
and its cells dimmed and suffixed with :data:`widgets.heat.STALE_MARK`, so a stale ratio never looks live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from widgets.format import clean
from widgets.heat import STALE_MARK, STALE_STYLE, no_color
from widgets.table_fit import ColumnSpec

if TYPE_CHECKING:
    from records.viewmodels import LongShortCell, LongShortColumn, LongShortView

#: Ratios at or above this are crowded long (2 = two accounts long for one short, 67 % long).
CROWDED_RATIO = 2.0
#: (wide, compact) header labels by (venue, kind).
LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("binance", "accounts"): ("Binance accts", "BIN acc"),
    ("binance", "top_positions"): ("Binance top pos", "BIN top"),
    ("bybit", "accounts"): ("Bybit accts", "BYB acc"),
}


@dataclass(frozen=True)
class LongShortTable:
    """What the pane's fitted table shows: column specs and labels, rows keyed by coin."""

    specs: list[ColumnSpec]
    labels: dict[str, Text]
    rows: list[tuple[str, dict[str, Text]]]
    coins: dict[str, str]  # row key -> coin (Enter opens its detail)


def column_label(column: LongShortColumn, compact: bool) -> Text:
    wide, short = LABELS.get((column.venue, column.kind), (clean(column.venue, 10), clean(column.venue, 4)))
    label = Text(short if compact else wide)
    if not column.fresh:
        label.append(STALE_MARK)
        label.stylize("yellow")
    return label


def ratio_text(ratio: float | None, long_pct: float | None) -> str:
    """``2.15 68%``; unknown parts are dashes."""
    left = "—" if ratio is None else f"{ratio:.2f}"
    right = "—" if long_pct is None else f"{long_pct:.0f}%"
    return f"{left} {right}"


def ratio_cell(cell: LongShortCell, *, mono: bool = False) -> Text:
    """One cell: ratio and long share, styled by how one-sided the positioning is; dimmed and marked when stale."""
    if cell.ratio is None and cell.long_pct is None:
        return Text("—", style="dim", justify="right")
    number = ratio_text(cell.ratio, cell.long_pct)
    if not cell.fresh:
        return Text(number + STALE_MARK, style=STALE_STYLE, justify="right")
    ratio = cell.ratio
    crowded = ratio is not None and ratio >= CROWDED_RATIO
    short = ratio is not None and ratio < 1.0
    if mono:
        return Text(number + ("▲" if crowded else "▼" if short else " "), style="bold" if crowded else "",
                    justify="right")  # fmt: skip
    return Text(number, style="bold yellow" if crowded else "cyan" if short else "", justify="right")


def long_short_table(view: LongShortView | None, *, compact: bool = False) -> LongShortTable:
    """The table of ``view`` (empty before the first one): a coin column, then one column per venue and kind."""
    specs = [ColumnSpec("coin")]
    labels = {"coin": Text("Coin")}
    if view is None:
        return LongShortTable(specs, labels, [], {})
    mono = no_color()
    keys = []
    for i, column in enumerate(view.columns):
        key = f"ls{i}:{clean(column.venue, 12)}:{clean(column.kind, 16)}"
        keys.append(key)
        specs.append(ColumnSpec(key, priority=i))  # narrow: Bybit goes first, then the top traders
        labels[key] = column_label(column, compact)
    rows: list[tuple[str, dict[str, Text]]] = []
    coins: dict[str, str] = {}
    seen: dict[str, int] = {}
    for coin, cells in view.rows:
        base = clean(coin, 20)
        count = seen.get(base, 0)
        seen[base] = count + 1
        row_key = base if count == 0 else f"{base}#{count}"  # a coin listed twice must not crash the table
        coins[row_key] = coin
        values = {"coin": Text(clean(coin, 12), style="bold")}
        for key, cell in zip(keys, cells, strict=False):
            values[key] = ratio_cell(cell, mono=mono)
        for key in keys[len(cells) :]:
            values[key] = Text("—", style="dim", justify="right")
        rows.append((row_key, values))
    return LongShortTable(specs, labels, rows, coins)


def long_short_summary(view: LongShortView | None) -> Text:
    """The pane's header in the long/short view: what the numbers are, their time, and what is not current."""
    text = Text("Long/short ", style="bold")
    text.append("long ÷ short, % long · acc: every account · top: top traders' positions", style="dim")
    if view is None or not view.rows:
        text.append("\nwaiting for data…", style="dim")
        return text
    known = any(c.ratio is not None for _, cells in view.rows for c in cells)
    text.append("\n")
    if view.as_of:
        text.append(f"as of {clean(view.as_of, 24)}")
    elif not known:
        text.append("no ratios (not published for these coins here)", style="dim")
    stale = [c for c in view.columns if not c.fresh]
    if stale:
        text.append("\n")
        venues = dict.fromkeys((clean(c.venue, 12), clean(c.status, 40)) for c in stale)
        names = " · ".join(f"{venue} {status}" for venue, status in venues)
        text.append(f"{STALE_MARK} {names}", style="yellow")
        text.append(" — not current", style="dim")
    if not view.status.fresh:
        text.append(f"\nSTALE: {clean(view.status.text, 80)}", style="bold reverse")
    return text
