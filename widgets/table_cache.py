"""A DataTable whose in-place cell updates re-render only the cells that changed.

Textual's DataTable (8.2.8) keys all its render caches (cells, row lines, screen lines, row renderables) on one
table-wide ``_update_count`` that every ``update_cell`` bumps: one changed number re-renders every visible cell
through Rich, ~330 cells for a 41-row funding heatmap, most of a 1 Hz tick's budget. :class:`CellCachedTable`
leaves the count alone for an in-place change of cells (:meth:`CellCachedTable.invalidate_cells`: the columns keep
their widths, rows keep their places), drops only the changed cells' renders and the changed rows' cached lines,
and repaints only those rows. Whatever moves rows or columns (add, remove, sort, clear, a resize, a style change)
still goes through DataTable's own invalidation, which bumps the count.

Cells are rendered by :func:`text_cell_lines` when they are one-line Text cells in a one-line row: the same Rich
calls DataTable's pipeline makes (justify, truncate, join, render, pad, apply the styles, crop), without the nested
renderables and console options around them, which are most of its cost. Anything else (header, row labels, other
renderables, wrapping or multi-line cells) goes through DataTable's own ``_render_cell``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rich.containers import Lines
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod, OverflowMethod

T = TypeVar("T")
#: One cell's rendered lines, as DataTable's ``_render_cell`` returns them.
CellLines = list[list[Segment]]
_NEWLINE = Text("\n")


def text_cell_lines(
    console: Console,
    cell: Text,
    width: int,
    padding: int,
    pre_style: Style,
    post_style: Style,
    justify: JustifyMethod | None = None,
    overflow: OverflowMethod | None = None,
) -> CellLines | None:
    """What DataTable renders for ``cell`` in a one-line row ``width`` cells wide (``cell_padding`` ``padding``),
    segment for segment, or None when the cell is not a plain one-line case (the caller renders it the stock way).

    DataTable renders ``Styled(Padding(cell, (0, padding)), pre_style, post_style)`` with ``console.render_lines``
    at ``no_wrap``; these are the steps of that pipeline for one line: the Text's ``wrap`` (justify and truncate
    one line), ``Text("\\n").join`` and ``render``, Padding's crop and pad to the content width and its side
    padding, Styled's styles, the outer crop to ``width``. ``justify``/``overflow``: the console options' defaults.
    """
    plain = cell.plain
    content = width - 2 * padding
    if content < 1 or "\n" in plain or "\t" in plain or cell.cell_len > content:
        return None
    justify = cell.justify or justify or "default"
    if justify == "full":
        return None
    overflow = cell.overflow or overflow or "fold"
    line = cell.copy()
    Lines([line]).justify(console, content, justify=justify, overflow=overflow)
    line.truncate(content, overflow=overflow)
    rendered = list(_NEWLINE.join([line]).render(console, end=""))
    pad_style = console.get_style("none")  # Padding's style
    if pad_style:
        rendered = list(Segment.apply_style(rendered, pad_style))
    inner = Segment.adjust_line_length(rendered, content, style=pad_style, pad=True)
    side = [Segment(" " * padding, pad_style)] if padding else []
    styled = Segment.apply_style([*side, *inner, *side], pre_style, post_style)
    return [Segment.adjust_line_length(list(styled), width, style=None, pad=True)]


class _FrameStyles:
    """A component's styles for one frame: its Rich style worked out once (each read walks the ancestors), every
    other attribute read through."""

    __slots__ = ("_styles", "rich_style")

    def __init__(self, styles: RenderStyles) -> None:
        self._styles = styles
        self.rich_style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


class CellCachedTable(DataTable[Any]):
    """A DataTable with a per-cell render cache that in-place updates invalidate cell by cell."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (row, column) -> {(base style, cursor, hover, hover shown, update count, pseudo classes, width): lines}:
        # one cell's renders, dropped when the cell changes; DataTable's own cache cannot be invalidated per cell.
        self._cell_lines: dict[tuple[RowKey, ColumnKey], dict[tuple[object, ...], CellLines]] = {}
        # While one frame's lines render (render_lines): the widget's style, each component's styles and the
        # background colours, computed once. DataTable asks for them on every line (the header, fixed and row
        # styles, the background behind the row), and each walks every ancestor's styles: ~0.15 ms a line.
        self._frame: dict[object, Any] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles cannot change while one frame renders (it is one synchronous call), so the memo lives that long.
        self._frame = {}
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _per_frame(self, key: object, compute: Callable[[], T]) -> T:
        """``compute()``, once per frame while one renders (every time otherwise)."""
        if self._frame is None:
            return compute()
        if key not in self._frame:
            self._frame[key] = compute()
        value: T = self._frame[key]
        return value

    @property
    def rich_style(self) -> Style:
        return self._per_frame("style", lambda: super(CellCachedTable, self).rich_style)

    @property
    def background_colors(self) -> tuple[Color, Color]:
        return self._per_frame("background", lambda: super(CellCachedTable, self).background_colors)

    def get_component_styles(self, *names: str) -> RenderStyles:
        if self._frame is None:
            return super().get_component_styles(*names)
        styles = self._per_frame(names, lambda: _FrameStyles(super(CellCachedTable, self).get_component_styles(*names)))
        return cast("RenderStyles", styles)

    def invalidate_cells(self, cells: Mapping[RowKey, Iterable[ColumnKey]]) -> None:
        """The data of ``cells`` changed in place (same rows, same columns, same widths): forget their renders and
        the lines of their rows, and repaint those rows only."""
        if not cells:
            return
        rows = set(cells)
        if any((row := self.rows.get(key)) is None or row.height != 1 or row.auto_height for key in rows):
            # Multi-line rows: their heights may change; DataTable's whole-table invalidation.
            self._update_count += 1
            self.refresh()
            return
        for row_key, columns in cells.items():
            for column_key in columns:
                self._cell_lines.pop((row_key, column_key), None)
            index = self._row_locations.get(row_key)
            if index is not None:
                self._row_renderable_cache.discard((self._update_count, index))
        row_lines = self._row_render_cache.keys()  # an LRUCache: no iteration of its own
        for key in [k for k in row_lines if k[0] in rows]:
            self._row_render_cache.discard(key)
        top = self.header_height if self.show_header else 0
        lines = {top + y for y, (row_key, _) in enumerate(self._y_offsets) if row_key in rows}
        screen_lines = self._line_cache.keys()
        for line_key in [k for k in screen_lines if k[0] in lines]:
            self._line_cache.discard(line_key)
        width = max(self.size.width, self.virtual_size.width)
        window = self.window_region
        scroll = self.scroll_offset
        regions = [Region(0, y, width, 1) for y in sorted(lines)]
        visible = [r.translate(-scroll) for r in regions if window.overlaps(r)]
        if visible:
            self.refresh(*visible)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> CellLines:
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        column_key = self._column_locations.get_key(column_index) if column_index >= 0 else None
        if row_key is None or column_key is None:  # the header and row labels never change in place
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        count, pseudo = self._update_count, self._pseudo_class_state
        variant = (base_style, cursor, hover, self._show_hover_cursor, count, pseudo, width)
        variants = self._cell_lines.get((row_key, column_key))
        if variants is None:
            variants = self._cell_lines[(row_key, column_key)] = {}
        elif (lines := variants.get(variant)) is not None:
            return lines
        elif any(key[4] != count for key in variants):
            variants.clear()  # renders from before the table last moved (update count): never asked for again
        lines = self._render_text_cell(row_key, column_key, row_index, column_index, base_style, width, cursor, hover)
        if lines is None:
            # DataTable's own path. Its cache key ignores in-place changes, so its entry may be stale: drop it.
            stock_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, count, pseudo)
            self._cell_render_cache.discard(stock_key)
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        variants[variant] = lines
        return lines

    def _render_text_cell(
        self,
        row_key: RowKey,
        column_key: ColumnKey,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> CellLines | None:
        """A one-line Text cell of a one-line row by :func:`text_cell_lines` (None: not that case)."""
        row = self.rows.get(row_key)
        cell = self._data.get(row_key, {}).get(column_key)
        if row is None or row.height != 1 or row.auto_height or not isinstance(cell, Text):
            return None
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
        )  # fmt: skip
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        options = self.app.console_options
        return text_cell_lines(self.app.console, cell, width, self.cell_padding, pre_style, post_style,
                               options.justify, options.overflow)  # fmt: skip

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_lines.clear()

    def notify_style_update(self) -> None:
        self._cell_lines.clear()
        super().notify_style_update()
