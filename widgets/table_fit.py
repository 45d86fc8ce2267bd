"""Keeping a pane's DataTable in step with its view-model, within the width the pane has.

A table in a 50-column tmux pane cannot show what it shows at 160 columns, and a column cut mid-number is worse
than no column: :func:`fit_columns` drops the least important columns first (and shrinks text columns such as a
driver's name, with an ellipsis) until the rest fits. :class:`FittedTable` measures the cells, applies the fit and
updates the table in place: only the cells whose text changed are touched (cheap over SSH, no flicker, the cursor
stays on its row), and the table is rebuilt only when its columns or its rows' identities change.

A board of hundreds of rows (every perp of four venues) is synced lazily (:meth:`FittedTable.sync_lazy`): the table
keeps a row for each so it scrolls as a whole, but only the rows in view have their cells built, measured and
compared; the others are filled when a scroll or a cursor move brings them into view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from widgets.table_cache import CellCachedTable

#: Cells the DataTable adds around each column (``cell_padding`` 1 on each side).
PADDING = 2
#: Rows a lazy table builds above and below the ones in view (a fractional scroll mid-animation shows one more).
LAZY_MARGIN = 2


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


def same_cell(a: Text, b: Text) -> bool:
    """Whether two cells look the same. Rich's ``Text ==`` compares only the text and its spans, not the base
    style: a row going from live to dimmed (a stale venue) would not count as changed and stay bright."""
    return a is b or (a == b and a.style == b.style and a.justify == b.justify and a.end == b.end)


#: The label of a column that has none (shared, never changed).
EMPTY = Text()

#: Cells of one row by column key (a key or its name).
CellMap = Mapping[str, Text] | Mapping[ColumnKey, Text] | Mapping[ColumnKey | str, Text]


class PaneTable(CellCachedTable):
    """A pane's table: the arrows, or ``j``/``k``/``h``/``l`` for hands that stay on the home row, ``g``/``G`` for
    the first and the last row. When a
    :class:`FittedTable` drives it, its columns are refitted whenever its own width changes (a help panel
    opening beside the dashboard narrows the tables, not only the terminal)."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("h", "scroll_left", "Left", show=False),
        Binding("l", "scroll_right", "Right", show=False),
        # First and last row: ctrl+home / ctrl+end do not reach every terminal (or tmux).
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    fitter: FittedTable | None = None

    def on_resize(self) -> None:
        if self.fitter is not None:
            self.fitter.refit()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # A lazy table has built only the rows that were in view: fill the ones the scroll brings in before the
        # repaint shows them.
        if self.fitter is not None and self.fitter.lazy and int(old_value) != int(new_value):
            self.fitter.refit()

    def update_cell(
        self, row_key: RowKey | str, column_key: ColumnKey | str, value: Text, *, update_width: bool = False
    ) -> None:
        """DataTable's ``update_cell``, but repainting only the cell's row: the stock one repaints the whole
        table for one changed number, which over SSH is the whole table's bytes every tick."""
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        self.update_row(row_key, {column_key: value})

    def update_row(self, row_key: RowKey | str, cells: CellMap) -> None:
        """Replace some cells of one row and repaint only them (the other rows keep their cached lines)."""
        self.update_rows([(row_key, cells)])

    def update_rows(self, changes: Sequence[tuple[RowKey | str, CellMap]]) -> None:
        """Replace cells of many rows and repaint those rows once: one venue's new funding changes a column of
        every row, and clearing and re-adding 200 rows would also re-measure every cell (DataTable's dimensions
        pass). Only the changed cells are rendered again (:meth:`CellCachedTable.invalidate_cells`)."""
        changed: dict[RowKey, list[ColumnKey]] = {}
        for row_key, cells in changes:
            row, columns = self._set_cells(row_key, cells)
            changed.setdefault(row, []).extend(columns)
        self.invalidate_cells(changed)

    def _set_cells(self, row_key: RowKey | str, cells: CellMap) -> tuple[RowKey, list[ColumnKey]]:
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        if row not in self._row_locations:
            raise CellDoesNotExist(f"No row exists for row_key={row!r}.")
        data = self._data[row]
        columns = []
        for column_key, value in cells.items():
            column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
            if column not in self._column_locations:
                raise CellDoesNotExist(f"No cell exists for row_key={row!r}, column_key={column!r}.")
            data[column] = value
            columns.append(column)
        return row, columns


class CoinTable(PaneTable):
    """A pane's table whose rows are coins: Enter opens the coin (the dashboard handles the row selection), and
    the ``?`` panel says so instead of DataTable's generic "Select"."""

    BINDINGS = [Binding("enter", "select_cursor", "Coin detail", show=False)]


class FittedTable:
    """Drives one DataTable: ``sync(labels, rows)`` shows ``rows`` (``(row key, {column: cell})``) in the columns
    of ``specs`` that fit the table's width. ``refit()`` re-applies the last rows after a resize.

    The DataTable's own rows are positional (``r0``, ``r1``, ...): when the order changes (a coin overtakes
    another in the sort, a new liquidation tops the tape) only the rows whose cells changed are repainted, and
    the cursor follows the row it was on. Columns get fixed widths that only grow while they fit, so a number
    one digit shorter never rebuilds the table; the table is rebuilt only when its columns change.
    """

    def __init__(self, table: DataTable[Text], specs: Sequence[ColumnSpec]) -> None:
        self.table = table
        if isinstance(table, PaneTable):
            table.fitter = self
        self.specs = list(specs)
        self.row_keys: list[str] = []
        self._labels: dict[str, Text] = {}
        # The rows of the last sync: their keys, the cells built so far by row index (all of them unless lazy),
        # and for a lazy sync the function that builds a row's cells.
        self._keys: list[str] = []
        self._built: dict[int, dict[str, Text]] = {}
        self._build: Callable[[int], Mapping[str, Text]] | None = None
        self._shown: tuple[tuple[str, str, int], ...] = ()  # (key, label markup, width) of the columns shown
        self._widths: dict[str, int] = {}
        self._cells: list[list[Text]] = []  # what each positional row shows, in shown-column order
        # id(cell) -> (cell, width): this sync's and the last one's measured cells (see _cell_len).
        self._lengths: dict[int, tuple[Text, int]] = {}
        self._lengths_next: dict[int, tuple[Text, int]] = {}
        self._applying = False  # inside _apply (see there)
        self._again = False  # a refit was asked for meanwhile

    @property
    def lazy(self) -> bool:
        """Whether the last sync builds its rows' cells only when they come into view."""
        return self._build is not None

    def set_specs(self, specs: Sequence[ColumnSpec]) -> None:
        """Another set of columns (a pane switching views); applied by the next ``sync``."""
        self.specs = list(specs)

    def available_width(self) -> int:
        """Cells the columns may use: the table's width less its vertical scrollbar when rows overflow."""
        table = self.table
        width = table.size.width
        if width <= 0:
            return 1 << 30  # not laid out yet: show everything, the first resize fits it
        if len(self._keys) + 1 > table.size.height:
            width -= table.styles.scrollbar_size_vertical
        return width

    def natural_widths(self) -> dict[str, int]:
        """Each column's widest cell or label (of the rows built: a lazy sync measures the rows it has shown)."""
        width, rows = self._cell_len, self._built.values()
        return {
            spec.key: max([width(self._labels.get(spec.key, EMPTY)), *(width(cells[spec.key]) for cells in rows)])
            for spec in self.specs
        }

    def _cell_len(self, cell: Text) -> int:
        """A cell's width, measured once per cell object: panes hand the same Text again for a cell that did not
        change (most of a 200-row table on a tick), and measuring every cell of every row twice a sync was a
        third of the funding pane's update."""
        hit = self._lengths.get(id(cell))
        if hit is None or hit[0] is not cell:
            hit = (cell, cell.cell_len)
        self._lengths_next[id(cell)] = hit
        return hit[1]

    def sync(self, labels: Mapping[str, Text], rows: Sequence[tuple[str, Mapping[str, Text]]]) -> None:
        """Show ``rows``. A cell handed in is never changed afterwards (a new cell is a new Text): the widths are
        measured once per cell object."""
        self._labels = dict(labels)
        self._keys = [key for key, _ in rows]
        self._built = {i: dict(cells) for i, (_, cells) in enumerate(rows)}
        self._build = None
        self._apply()

    def sync_lazy(self, labels: Mapping[str, Text], keys: Sequence[str],
                  build: Callable[[int], Mapping[str, Text]]) -> None:  # fmt: skip
        """Show ``len(keys)`` rows, the cells of row ``i`` being ``build(i)``, called only for the rows in view
        (and :data:`LAZY_MARGIN` around them) and for the others when they scroll into view, once per sync.
        Until then a row out of view keeps what it showed before, which nobody sees. The columns' widths are those
        of the rows built. The table must be a :class:`PaneTable` (its scroll is what fills the rows)."""
        if not isinstance(self.table, PaneTable):
            raise TypeError("sync_lazy needs a PaneTable: a plain DataTable would never fill the rows scrolled to")
        self._labels = dict(labels)
        self._keys = list(keys)
        self._built = {}
        self._build = build
        self._apply()

    def _row(self, i: int) -> dict[str, Text]:
        cells = self._built.get(i)
        if cells is None:
            assert self._build is not None  # an eager sync has built every row
            cells = self._built[i] = dict(self._build(i))
        return cells

    def _window(self) -> range:
        """The indices of the rows whose cells this apply needs: every row, or for a lazy sync those in view."""
        count = len(self._keys)
        if self._build is None:
            return range(count)
        table = self.table
        height = table.size.height
        if height <= 0:  # not laid out yet (or empty and auto-sized): it will show at most a screen of rows
            return range(min(count, table.app.size.height))
        header = table.header_height if table.show_header else 0
        top = int(table.scroll_y)
        return range(max(0, top - LAZY_MARGIN), min(count, top + max(1, height - header) + LAZY_MARGIN))

    def refit(self) -> None:
        if self._labels:
            self._apply()

    def shown_keys(self) -> list[str]:
        """The keys of the columns on screen (the width may have dropped some)."""
        return [column for column, _, _ in self._shown]

    def cursor_key(self) -> str | None:
        """The row key under the cursor, or None when the table is empty."""
        return self.key_at(self.table.cursor_row)

    def reset_widths(self) -> None:
        """Forget the columns' kept widths (the cells' format changed): the next sync sizes them afresh."""
        self._widths = {}

    def key_at(self, row: int) -> str | None:
        return self.row_keys[row] if 0 <= row < len(self.row_keys) else None

    def all_columns(self) -> tuple[list[Text], list[list[Text]]]:
        """Every column's label and every row's cells, whether or not the width let them be shown."""
        keys = [spec.key for spec in self.specs if spec.key in self._labels]
        rows = (self._row(i) for i in range(len(self._keys)))
        return [self._labels[k] for k in keys], [[cells[k] for k in keys] for cells in rows]

    def cell(self, key: str, column: str) -> Text:
        """What the table shows for row ``key`` in ``column`` (KeyError if either is not shown; a row of a lazy
        sync that has not been in view shows what it showed before)."""
        return self._cells[self.row_keys.index(key)][[c for c, _, _ in self._shown].index(column)]

    def _widths_for(self, fit: dict[str, int | None], natural: dict[str, int]) -> dict[str, int]:
        widths = {c: w if w is not None else natural[c] for c, w in fit.items()}
        sticky = {c: max(w, self._widths.get(c, 0)) if fit[c] is None else w for c, w in widths.items()}
        if sum(sticky.values()) + PADDING * len(sticky) <= self.available_width():
            return sticky
        return widths

    def _apply(self) -> None:
        # Clearing the table scrolls it to the top and moving the cursor scrolls it to the cursor; for a lazy sync
        # either calls back here (``watch_scroll_y``) mid-update. That refit waits for this one to finish, then runs
        # (a second or third pass when a pass moved the scroll).
        if self._applying:
            self._again = True
            return
        self._applying = True
        try:
            for _ in range(3):
                self._again = False
                self._apply_once()
                if not self._again:
                    break
        finally:
            self._applying = False

    def _apply_once(self) -> None:
        table = self.table
        # Widths measured this sync are kept for the next (cells handed again); the others are let go.
        self._lengths_next = {}
        window = self._window()
        for i in window:
            self._row(i)
        natural = self.natural_widths()
        fit = fit_columns(self.specs, natural, self.available_width())
        widths = self._widths_for(fit, natural)
        shown = tuple((c, self._labels[c].markup, widths[c]) for c in fit)
        keys = self._keys
        count = len(keys)
        measure = self._cell_len
        rows: dict[int, list[Text]] = {}
        for i in window:
            cells = self._built[i]
            rows[i] = [cells[c] if w is None or measure(cells[c]) <= w else cut(cells[c], w) for c, w in fit.items()]
        self._lengths, self._lengths_next = self._lengths_next, {}
        current, cursor = self.cursor_key(), table.cursor_row
        if shown != self._shown:
            table.clear(columns=True)
            for column, width in widths.items():
                table.add_column(cut(self._labels[column], fit[column]), key=column, width=width)
            self._shown, self._widths, self._cells = shown, widths, []
        else:
            table_keys = [c for c, _, _ in shown]
            changes = [
                (i, {c: cell for c, before, cell in zip(table_keys, self._cells[i], new, strict=True)
                     if not same_cell(before, cell)})
                for i, new in rows.items() if i < len(self._cells)
            ]
            changes = [(i, cells) for i, cells in changes if cells]
            if not isinstance(table, PaneTable) and len(changes) > max(8, count // 2):
                # Most rows of a plain DataTable changed (a re-sort of a long table): one rebuild is cheaper than
                # cell-by-cell edits, and the whole table is repainted either way.
                table.clear()
                self._cells = []
            else:
                if isinstance(table, PaneTable) and len(changes) > 8:
                    # Many rows changed (a venue's new column, a re-sort): their cells in place and one repaint;
                    # the widths are the fitter's, so nothing needs measuring again.
                    table.update_rows([(f"r{i}", cells) for i, cells in changes])
                else:
                    for i, cells in changes:
                        if isinstance(table, PaneTable):
                            table.update_row(f"r{i}", cells)
                        else:
                            for column, cell in cells.items():
                                table.update_cell(f"r{i}", column, cell)
                for i, _ in changes:
                    self._cells[i] = rows[i]
                for i in range(len(self._cells) - 1, count - 1, -1):
                    table.remove_row(f"r{i}")
                del self._cells[count:]
        blank = [EMPTY] * len(fit)  # a lazy row out of view: filled when it comes into view
        for i in range(len(self._cells), count):
            shown_cells = rows.get(i, blank)
            table.add_row(*shown_cells, key=f"r{i}")
            self._cells.append(shown_cells)
        self.row_keys = list(keys)
        if keys:
            # The cursor stays on its row's key (a driver that flipped and moved up), else at the same height.
            target = keys.index(current) if current in keys else min(max(cursor, 0), len(keys) - 1)
            if target != table.cursor_row:
                table.move_cursor(row=target, animate=False)
