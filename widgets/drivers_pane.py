"""The key drivers pane: a live checklist of the market conditions a trader watches (design §4).

Each driver is a rule from config.toml (ETF outflows, crowded leverage, liquidation cascade, extreme fear, ...)
evaluated by analytics: ``active`` when its condition holds (a risk signal is on), ``clear`` when it does not,
``unknown`` when its data is missing or stale. The table shows state, value against threshold, trend and since
when the state has held; active drivers come first. The highlighted row's meaning and full condition detail are
shown under the table. States are readable without colour: glyph plus word (or letter in the compact layout).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from widgets.format import clean
from widgets.panes import Pane
from widgets.table_fit import ColumnSpec, FittedTable, PaneTable
from widgets.text_box import TextBox

if TYPE_CHECKING:
    from records.viewmodels import DriverRow, DriversView

#: state -> (glyph, word, compact letter, style)
STATES: dict[str, tuple[str, str, str, str]] = {
    "active": ("●", "ACTIVE", "A", "bold red"),
    "clear": ("○", "clear", "C", "green"),
    "unknown": ("?", "unknown", "U", "yellow"),
}
STATE_ORDER = {"active": 0, "unknown": 1, "clear": 2}

#: key, label, and how it fits a narrow pane: names shrink first, then Rule, Since and the trend go.
COLUMNS: list[tuple[str, str, ColumnSpec]] = [
    ("state", "State", ColumnSpec("state")),
    ("name", "Driver", ColumnSpec("name", min_width=22)),
    ("value", "Value", ColumnSpec("value", 1)),
    ("threshold", "Rule", ColumnSpec("threshold", 4)),
    ("trend", "Tr", ColumnSpec("trend", 2)),
    ("since", "Since", ColumnSpec("since", 3)),
]
SORT_KEYS: tuple[str, ...] = ("state", "config", "name")


def state_text(state: str, compact: bool) -> Text:
    glyph, word, letter, style = STATES.get(state, ("?", clean(state, 10) or "unknown", "?", "yellow"))
    return Text(f"{glyph} {letter}" if compact else f"{glyph} {word}", style=style)


def detail_text(row: DriverRow | None) -> Text:
    """What the highlighted driver means, and all its conditions."""
    if row is None:
        return Text("")
    text = Text()
    text.append(f"{clean(row.name, 40)}: ", style="bold")
    text.append(clean(row.meaning, 240))
    text.append(f"\n{clean(row.value, 24)} vs {clean(row.threshold, 24)}", style="dim")
    if row.note:
        text.append(f" ({clean(row.note, 80)})", style="dim")
    if row.since:
        text.append(f" · since {clean(row.since, 20)}", style="dim")
        if row.since_note:
            text.append(f" ({clean(row.since_note, 80)})", style="dim")
    if row.detail:
        text.append(f"\n{clean(row.detail, 240)}", style="dim")
    if row.quality:
        text.append(f"\n{clean(row.quality, 200)}", style="yellow" if "left out" in row.quality else "dim")
    return text


class DriversPane(Pane):
    """Pane 6: summary, driver checklist (active first) and the highlighted driver's meaning."""

    PANE = "drivers"

    #: Compact below this many cells of content width: states as a glyph and a letter (● A).
    COMPACT_BELOW = 70

    def __init__(self, *, id: str | None = "pane-drivers") -> None:
        super().__init__("Key drivers", number=6, id=id)
        self.sort_key = "state"
        self._rows: dict[str, DriverRow] = {}

    def compose(self) -> ComposeResult:
        yield TextBox(Text("waiting for data…", style="dim"), id="drivers-summary", classes="headline")
        table = PaneTable(id="drivers-table", cursor_type="row", zebra_stripes=False)
        yield table
        yield TextBox(Text(""), id="drivers-detail")

    def on_mount(self) -> None:
        self._table = FittedTable(self.query_one("#drivers-table", DataTable), [spec for _, _, spec in COLUMNS])

    # -- public API ---------------------------------------------------------------------------------------
    def cycle_sort(self) -> str:
        """Order: active first ("state"), config order ("config"), or by name; returns the key."""
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.redraw()
        return self.sort_key

    def sorted_rows(self, view: DriversView) -> list[DriverRow]:
        rows = list(view.rows)
        if self.sort_key == "state":
            rows.sort(key=lambda r: STATE_ORDER.get(r.state, 1))  # stable: config order within a state
        elif self.sort_key == "name":
            rows.sort(key=lambda r: clean(r.name).lower())
        return rows

    def highlighted(self) -> DriverRow | None:
        """The driver under the table's cursor (None when the table is empty)."""
        key = self._table.cursor_key() if self._table is not None else None
        return None if key is None else self._rows.get(key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = self._table.key_at(event.cursor_row) if self._table is not None else None
        row = self._rows.get(key) if key is not None else None
        self.query_one("#drivers-detail", Static).update(detail_text(row))

    # -- rendering ----------------------------------------------------------------------------------------
    def render_view(self, view: DriversView | None) -> None:
        if view is not None:
            text = Text()
            if view.summary:
                text.append(clean(view.summary, 120), style="bold")
            elif not view.rows:
                text.append("waiting for data…", style="dim")
            if not view.status.fresh:
                text.append(
                    ("\n" if text.plain else "") + f"STALE: {clean(view.status.text, 80)}", style="bold reverse"
                )
            self.query_one("#drivers-summary", Static).update(text)
        self._fill(view)
        self.query_one("#drivers-detail", Static).update(detail_text(self.highlighted()))

    def _row_cells(self, row: DriverRow) -> dict[str, Text]:
        active = row.state == "active"
        return {
            "state": state_text(row.state, self.compact),
            "name": Text(clean(row.name, 40), style="bold" if active else ""),
            "value": Text(clean(row.value, 20), justify="right"),
            "threshold": Text(clean(row.threshold, 20), style="dim"),
            "trend": Text(clean(row.trend, 3), justify="center"),
            "since": Text(clean(row.since, 16), style="dim"),
        }

    def _fill(self, view: DriversView | None) -> None:
        if self._table is None:
            return
        marked = {"state": "state", "name": "name"}.get(self.sort_key)
        labels = {key: Text(label + (" ▲" if key == marked else "")) for key, label, _ in COLUMNS}
        rows = self.sorted_rows(view) if view is not None else []
        keys: list[str] = []
        for row in rows:
            key = row.id or row.name
            while key in keys:
                key += "#"
            keys.append(key)
        self._rows = dict(zip(keys, rows, strict=True))
        self._table.sync(labels, [(key, self._row_cells(row)) for key, row in zip(keys, rows, strict=True)])
