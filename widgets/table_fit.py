"""Keeping a pane's DataTable in step with its view-model, within the width the pane has.

A table in a 50-column tmux pane cannot show what it shows at 160 columns, and a column cut mid-number is worse
than no column: :func:`fit_columns` drops the least important columns first (and shrinks text columns such as a
driver's name, with an ellipsis) until the rest fits. :class:`FittedTable` measures the cells, applies the fit and
updates the table in place: only the cells whose text changed are touched (cheap over SSH, no flicker, the cursor
stays on its row), and the table is rebuilt only when its columns or its rows' identities change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

#: Cells the DataTable adds around each column (``cell_padding`` 1 on each side).
PADDING = 2


@dataclass(frozen=True)
class ColumnSpec:
    """A table column. ``priority`` 0 is always kept; the highest is dropped first (the rightmost of equals).

    ``min_width`` makes a text column shrinkable down to that many cells before anything is dropped for it.
    """

    key: str
    priority: int = 0
    min_width: int | None = None


def fit_columns(
    specs: Sequence[ColumnSpec], widths: Mapping[str, int], available: int, padding: int = PADDING
) -> dict[str, int | None]:
    """The columns to show, in order, each mapped to a width it must be cut to (None: its natural width).

    ``widths`` are the natural widths (widest cell or label). Columns go in order of priority, highest first,
    until the natural widths fit in ``available``; before each drop, shrinkable columns are tried at their
    ``min_width``. When even the priority-0 columns do not fit they are all kept, shrunk as far as allowed (the
    table then scrolls sideways rather than hiding a column that must be shown).
    """
    kept = list(specs)
    while True:
        natural = {c.key: max(0, widths.get(c.key, 0)) for c in kept}
        total = sum(natural.values()) + padding * len(kept)
        if total <= available:
            return {c.key: None for c in kept}
        shrinkable = [c for c in kept if c.min_width is not None and natural[c.key] > c.min_width]
        room = sum(natural[c.key] - (c.min_width or 0) for c in shrinkable)
        droppable = [c for c in kept if c.priority > 0]
        if total - room <= available or not droppable:
            return {c.key: None for c in kept} | _shrink(shrinkable, natural, total - available)
        victim = max(reversed(droppable), key=lambda c: c.priority)
        kept.remove(victim)


def _shrink(columns: list[ColumnSpec], natural: dict[str, int], excess: int) -> dict[str, int | None]:
    """Cut ``excess`` cells from the shrinkable columns, widest first, none below its ``min_width``."""
    width = {c.key: natural[c.key] for c in columns}
    floor = {c.key: c.min_width or 0 for c in columns}
    while excess > 0:
        key = max(width, key=lambda k: width[k] - floor[k], default=None)
        if key is None or width[key] <= floor[key]:
            break
        width[key] -= 1
        excess -= 1
    return {k: w for k, w in width.items() if w < natural[k]}


def cut(cell: Text, width: int | None) -> Text:
    """``cell`` cut to ``width`` cells with an ellipsis (unchanged when it fits or ``width`` is None)."""
    if width is None or cell.cell_len <= width:
        return cell
    cut_cell = cell.copy()
    cut_cell.truncate(width, overflow="ellipsis")
    return cut_cell


class PaneTable(DataTable[Text]):
    """A pane's table: the arrows, or ``j``/``k``/``h``/``l`` for hands that stay on the home row. When a
    :class:`FittedTable` drives it, its columns are refitted whenever its own width changes (a help panel
    opening beside the dashboard narrows the tables, not only the terminal)."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("h", "scroll_left", "Left", show=False),
        Binding("l", "scroll_right", "Right", show=False),
    ]

    fitter: FittedTable | None = None

    def on_resize(self) -> None:
        if self.fitter is not None:
            self.fitter.refit()


class CoinTable(PaneTable):
    """A pane's table whose rows are coins: Enter opens the coin (the dashboard handles the row selection), and
    the ``?`` panel says so instead of DataTable's generic "Select"."""

    BINDINGS = [Binding("enter", "select_cursor", "Coin detail", show=False)]


class FittedTable:
    """Drives one DataTable: ``sync(labels, rows)`` shows ``rows`` (``(row key, {column: cell})``) in the columns
    of ``specs`` that fit the table's width. ``refit()`` re-applies the last rows after a resize.
    """

    def __init__(self, table: DataTable[Text], specs: Sequence[ColumnSpec]) -> None:
        self.table = table
        if isinstance(table, PaneTable):
            table.fitter = self
        self.specs = list(specs)
        self.row_keys: list[str] = []
        self._labels: dict[str, Text] = {}
        self._rows: list[tuple[str, dict[str, Text]]] = []
        self._shown: tuple[tuple[str, str, int | None], ...] = ()  # (key, label markup, cut width) shown now
        self._cells: dict[tuple[str, str], Text] = {}

    def set_specs(self, specs: Sequence[ColumnSpec]) -> None:
        """Another set of columns (a pane switching views); applied by the next ``sync``."""
        self.specs = list(specs)

    def available_width(self) -> int:
        """Cells the columns may use: the table's width less its vertical scrollbar when rows overflow."""
        table = self.table
        width = table.size.width
        if width <= 0:
            return 1 << 30  # not laid out yet: show everything, the first resize fits it
        if len(self._rows) + 1 > table.size.height:
            width -= table.styles.scrollbar_size_vertical
        return width

    def natural_widths(self) -> dict[str, int]:
        """Each column's widest cell or label."""
        return {
            spec.key: max(
                [self._labels.get(spec.key, Text()).cell_len, *(cells[spec.key].cell_len for _, cells in self._rows)]
            )
            for spec in self.specs
        }

    def fitted(self, widths: dict[str, int] | None = None) -> dict[str, int | None]:
        return fit_columns(self.specs, self.natural_widths() if widths is None else widths, self.available_width())

    def sync(self, labels: Mapping[str, Text], rows: Sequence[tuple[str, Mapping[str, Text]]]) -> None:
        self._labels = dict(labels)
        self._rows = [(key, dict(cells)) for key, cells in rows]
        self._apply()

    def refit(self) -> None:
        if self._labels:
            self._apply()

    def cursor_key(self) -> str | None:
        """The row key under the cursor, or None when the table is empty."""
        row = self.table.cursor_row
        return self.row_keys[row] if self.row_keys and 0 <= row < len(self.row_keys) else None

    def _apply(self) -> None:
        table = self.table
        widths = self.natural_widths()
        fit = self.fitted(widths)
        # A column's width is part of what is shown: when it changes the table is rebuilt, so every row is laid
        # out again at the new width (rows updated in place keep the old layout, and right-aligned numbers drift).
        shown = tuple((key, self._labels[key].markup, width or widths[key]) for key, width in fit.items())
        keys = [key for key, _ in self._rows]
        rows = [(key, [cut(cells[c], w) for c, w in fit.items()]) for key, cells in self._rows]
        columns = list(fit)
        common = min(len(keys), len(self.row_keys))
        if shown == self._shown and keys[:common] == self.row_keys[:common]:
            # Same columns, same leading rows: touch only the cells that changed, add or drop rows at the end.
            for key, cells in rows[:common]:
                for column, cell in zip(columns, cells, strict=True):
                    if self._cells.get((key, column)) != cell:
                        table.update_cell(key, column, cell)
                        self._cells[(key, column)] = cell
            for key in self.row_keys[common:]:
                table.remove_row(key)
                for column in columns:
                    self._cells.pop((key, column), None)
            for key, cells in rows[common:]:
                table.add_row(*cells, key=key)
                self._cells.update(((key, column), cell) for column, cell in zip(columns, cells, strict=True))
            self.row_keys = keys
            return
        current = self.cursor_key()
        cursor = table.cursor_row
        if shown != self._shown:
            table.clear(columns=True)
            for key, width in fit.items():
                table.add_column(cut(self._labels[key], width), key=key)
            self._shown = shown
        else:
            table.clear()
        self._cells = {}
        for key, cells in rows:
            table.add_row(*cells, key=key)
            self._cells.update(((key, column), cell) for column, cell in zip(columns, cells, strict=True))
        self.row_keys = keys
        if keys:
            # Keep the cursor on its row (a driver that flipped and moved), else at the same height.
            target = keys.index(current) if current in keys else min(max(cursor, 0), len(keys) - 1)
            table.move_cursor(row=target, animate=False)
