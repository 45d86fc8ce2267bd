"""The ETF flows & macro pane: US spot Bitcoin (and Ether) ETF daily net flows, and the macro backdrop.

ETF net flow is the dollars that entered (creations) or left (redemptions) the US spot ETFs in a trading day:
sustained outflows mean institutions are selling spot BTC through the funds. The pane draws the last N days as a
signed text bar chart (outflows left in red, inflows right in green; a partial day, funds still reporting, is
hatched and labelled), then the current streak, the largest outflow and the cumulative flow over the window, the
latest complete day by fund, and ETH ETFs in one line.

Below, the macro strip (:meth:`EtfPane.update_macro`): BTC dominance, stablecoin share, Fear & Greed, SPY, the
2-year yield... each as "label value change" with its tone and a dim note; an item that is not fresh is dimmed
and marked stale.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.reactive import var
from textual.widgets import Static

from widgets.format import clean, money
from widgets.heat import STALE_MARK
from widgets.panes import Pane
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import EtfDay, EtfView, MacroItem, MacroView

BAR_WIDTH = 14  # each side of the axis
COMPACT_BAR_WIDTH = 8
COMPACT_FUNDS = 3
MAX_FUNDS = 12
TONES = {"green": "green", "red": "red", "yellow": "yellow", "dim": "dim"}
SORT_KEYS: tuple[str, ...] = ("flow", "fund")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def short_date(date: str) -> str:
    """ "2026-11-20" -> "11-20"; anything else cleaned and truncated."""
    text = clean(date, 12)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return text[5:]
    return text


def streak_text(days: int | None) -> Text:
    """ "3 outflow days" (red), "2 inflow days" (green), "no streak" or "streak —"."""
    if days is None:
        return Text("streak —", style="dim")
    if days == 0:
        return Text("no streak", style="dim")
    n = abs(days)
    word = "outflow" if days < 0 else "inflow"
    return Text(f"{n} {word} day{'s' if n != 1 else ''}", style="red" if days < 0 else "green")


def bar_line(day: EtfDay, scale: float, width: int, fresh: bool) -> Text:
    """One day: date, outflow bar left of the axis / inflow bar right of it, value, partial marker."""
    text = Text()
    text.append(f"{short_date(day.date):>5} ", style="dim" if day.partial else "")
    value = day.total_usd
    if not _finite(value):
        text.append(" " * width + "│" + " " * width, style="dim")
        text.append(" n/a", style="dim")
        return text
    assert value is not None
    n = round(abs(value) / scale * width) if scale > 0 else 0
    if value != 0:
        n = max(1, n)
    n = min(n, width)
    block = "▒" if day.partial else "█"
    colour = ("red" if value < 0 else "green") if fresh else "dim"
    if value < 0:
        text.append(" " * (width - n))
        text.append(block * n, style=colour)
        text.append("│", style="dim")
        text.append(" " * width)
    else:
        text.append(" " * width)
        text.append("│", style="dim")
        text.append(block * n, style=colour)
        text.append(" " * (width - n))
    text.append(f" {money(value, signed=True):>9}", style=("bold " + colour) if fresh and not day.partial else "dim")
    if day.partial:
        text.append(" partial", style="yellow italic")
    return text


def flows_text(view: EtfView, *, compact: bool, fund_sort: str = "flow", bar_width: int | None = None) -> Text:
    """The ETF section: bars per day, streak / largest outflow / cumulative, funds, ETH line, stale marker."""
    text = Text()
    asset = clean(view.asset, 6)
    if not view.days:
        text.append(f"{asset} ETF flows: waiting for data…", style="dim")
        if not view.status.fresh and view.status.text:
            text.append(f"\nSTALE: {clean(view.status.text, 80)}", style="bold reverse")
        return text
    fresh = view.status.fresh
    text.append(f"{asset} ETF net flow, last {len(view.days)} days", style="bold")
    values = [abs(d.total_usd) for d in view.days if d.total_usd is not None and _finite(d.total_usd)]
    scale = max(values, default=0.0)
    width = bar_width or (COMPACT_BAR_WIDTH if compact else BAR_WIDTH)
    for day in view.days:
        text.append("\n")
        text.append_text(bar_line(day, scale, width, fresh))
    text.append("\n")
    text.append_text(streak_text(view.streak_days))
    if view.largest_outflow is not None:
        date, usd = view.largest_outflow
        text.append("  largest out ")
        text.append(f"{short_date(date)} {money(usd, signed=True)}", style="red" if fresh else "dim")
    text.append("\n")
    text.append(f"{view.window_days}d cumulative ")
    cum = view.cumulative_usd
    text.append(money(cum, signed=True), style=(("red" if (cum or 0) < 0 else "green") if fresh and cum else "dim"))
    funds = fund_lines(view.last_by_fund, compact=compact, sort=fund_sort)
    if funds.plain:
        text.append("\n")
        text.append_text(funds)
    if view.eth_last is not None or view.eth_streak_days is not None:
        text.append("\n")
        text.append_text(eth_line(view, fresh))
    if not fresh:
        text.append(f"\nSTALE: {clean(view.status.text, 80)}", style="bold reverse")
    return text


def fund_lines(funds: tuple[tuple[str, float | None], ...], *, compact: bool, sort: str = "flow") -> Text:
    """Latest complete day by fund: biggest movers first (compact: the top few only), or by fund name."""
    text = Text()
    if not funds:
        return text
    ranked = sorted(funds, key=lambda f: (not _finite(f[1]), -abs(f[1] or 0.0) if _finite(f[1]) else 0.0))
    shown = ranked[: COMPACT_FUNDS if compact else MAX_FUNDS]
    if sort == "fund":
        shown.sort(key=lambda f: clean(f[0]))
    text.append("by fund" + (" (top)" if compact and len(funds) > len(shown) else "") + ": ", style="dim")
    for i, (name, usd) in enumerate(shown):
        if i:
            text.append(" · ", style="dim")
        text.append(f"{clean(name, 8)} ", style="bold")
        text.append(money(usd, signed=True), style="red" if (usd or 0) < 0 else ("green" if usd else "dim"))
    return text


def eth_line(view: EtfView, fresh: bool) -> Text:
    text = Text("ETH ETF ", style="bold")
    day = view.eth_last
    if day is None or not _finite(day.total_usd):
        text.append("—", style="dim")
    else:
        assert day.total_usd is not None
        colour = ("red" if day.total_usd < 0 else "green") if fresh else "dim"
        text.append(f"{short_date(day.date)} ")
        text.append(money(day.total_usd, signed=True), style=colour)
        if day.partial:
            text.append(" partial", style="yellow italic")
    text.append("  ")
    text.append_text(streak_text(view.eth_streak_days))
    return text


def macro_text(view: MacroView) -> Text:
    """The macro strip: one item per line, "label value change" in its tone, then a dim note."""
    text = Text()
    if not view.items:
        text.append("Macro: waiting for data…", style="dim")
    for i, item in enumerate(view.items):
        if i:
            text.append("\n")
        text.append_text(macro_item(item))
    if not view.status.fresh and view.status.text:
        text.append(f"\nSTALE: {clean(view.status.text, 80)}", style="bold reverse")
    return text


def macro_item(item: MacroItem) -> Text:
    text = Text()
    stale = not item.fresh
    tone = "dim" if stale else TONES.get(item.tone, "")
    text.append(f"{clean(item.label, 18)} ", style="dim" if stale else "bold")
    text.append(clean(item.value, 16), style=tone)
    if item.change:
        text.append(f" {clean(item.change, 24)}", style=tone)
    if stale:
        text.append(f" {STALE_MARK}stale", style="yellow italic")
    if item.note:
        text.append(f"  {clean(item.note, 60)}", style="dim")
    return text


class EtfPane(Pane):
    """Pane 5: ETF flow bars and stats, by fund, ETH, and the macro strip (scrolls with the arrow keys)."""

    PANE = "etf"

    BINDINGS = [
        Binding("up,k", "scroll_body(-1)", "Up", show=False),
        Binding("down,j", "scroll_body(1)", "Down", show=False),
        Binding("pageup", "scroll_body(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_body(10)", "Page down", show=False),
    ]

    #: Compact below this many cells of content width: shorter bars, the top funds only.
    COMPACT_BELOW = 48
    #: The macro strip's view-model (the ETF flows are ``view``).
    macro: var[MacroView | None] = var(None, init=False, always_update=True)

    def __init__(self, *, id: str | None = "pane-etf") -> None:
        super().__init__("ETF flows & macro", number=5, id=id)
        self.bar_width: int | None = None  # set from the pane's width; None until laid out
        self.sort_key = "flow"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="etf-body", can_focus=False):
            yield TextBox(Text("ETF flows: waiting for data…", style="dim"), id="etf-flows")
            yield TextBox(Text("Macro: waiting for data…", style="dim"), id="etf-macro")

    def on_mount(self) -> None:
        self._ready = True  # the base's on_mount draws the flows after this
        self._render_macro()

    # -- public API ---------------------------------------------------------------------------------------
    def update_macro(self, view: MacroView) -> None:
        """Show a new macro view-model (the same as assigning ``macro``)."""
        self.macro = view

    def watch_macro(self, view: MacroView | None) -> None:
        self._render_macro()

    def fit_to_width(self, width: int) -> None:
        # A day's line is its date (6), two bars, the axis and the value (10): the bars take what is left.
        bar_width = max(3, min(BAR_WIDTH, (width - 19) // 2))
        changed = bar_width != self.bar_width
        self.bar_width = bar_width
        compact = width < self.COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact  # redraws
        elif changed:
            self.redraw()

    def cycle_sort(self) -> str:
        """Order of the by-fund line: biggest movers ("flow") or fund name ("fund"); returns the key."""
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.redraw()
        return self.sort_key

    def action_scroll_body(self, lines: int) -> None:
        self.query_one("#etf-body", VerticalScroll).scroll_relative(y=lines, animate=False)

    # -- rendering ----------------------------------------------------------------------------------------
    def render_view(self, view: EtfView | None) -> None:
        if view is not None:
            text = flows_text(view, compact=self.compact, fund_sort=self.sort_key, bar_width=self.bar_width)
            self.query_one("#etf-flows", Static).update(text)

    def _render_macro(self) -> None:
        if self._ready and self.macro is not None:
            self.query_one("#etf-macro", Static).update(macro_text(self.macro))
