"""CellCachedTable (widgets.table_cache): in-place updates re-render only the changed cells, and every cell
renders segment for segment as Textual's own DataTable renders it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

import widgets.table_cache as table_cache
from widgets.heat import heat_cell
from widgets.table_fit import ColumnSpec, FittedTable, PaneTable

WIDTHS = [4, 9, 9, 9, 6, 5, 6, 3, 2, 6, 4]


def _cells(i: int) -> list[Text]:
    spans = Text("ab")
    spans.stylize("bold red", 0, 1)
    return [
        Text(f"C{i}", style="bold"), heat_cell(i * 1e-4 - 3e-4, 1e-4), heat_cell(None), heat_cell(2e-4, stale=True),
        Text("left", justify="left", style="on blue"), Text("ctr", justify="center", style="italic"),
        Text("dflt", style="on green"), spans, Text(""), Text(" sp ", justify="right", style="underline"),
        Text("too wide", justify="right"),  # wider than its column: DataTable's own path crops it
    ]  # fmt: skip


class _Pair(App[None]):
    """A CellCachedTable (PaneTable) and a stock DataTable with the same rows."""

    def compose(self) -> ComposeResult:
        yield PaneTable(id="cached", cursor_type="row")
        yield DataTable(id="stock", cursor_type="row")


async def _filled(app: _Pair, pilot: Any, height: int, rows: int) -> tuple[PaneTable, DataTable[Any]]:
    """Both tables of ``app`` with the same columns and ``rows`` rows, ``height`` lines tall, painted."""
    cached, stock = app.query_one("#cached", PaneTable), app.query_one("#stock", DataTable)
    for table in (cached, stock):
        table.styles.height = height
        for c, width in enumerate(WIDTHS):
            table.add_column(f"c{c}", key=f"c{c}", width=width)
        for i in range(rows):
            table.add_row(*_cells(i), key=f"r{i}")
    app.set_focus(None)  # the focused table's header is styled differently
    await pilot.pause()
    return cached, stock


def _lines(table: DataTable[Any]) -> list[list[Any]]:
    return [list(table.render_line(y)) for y in range(table.size.height)]


async def test_cells_render_as_the_stock_datatable_does() -> None:
    """Every line, segment for segment (styles and the row/column meta included), at first paint, with the
    cursor moved and after in-place updates: the fast path must not change what the screen shows."""
    app = _Pair()
    async with app.run_test(size=(120, 40)) as pilot:
        cached, stock = await _filled(app, pilot, 15, 10)
        assert _lines(cached) == _lines(stock)
        new = {"c1": heat_cell(9e-4, 1e-4), "c4": Text("x", style="on red"), "c6": Text("d2", style="reverse")}
        cached.update_rows([("r3", new), ("r7", {"c2": heat_cell(-5e-4, 1e-4)})])
        for column, cell in new.items():
            stock.update_cell("r3", column, cell)
        stock.update_cell("r7", "c2", heat_cell(-5e-4, 1e-4))
        for table in (cached, stock):
            table.move_cursor(row=3)
        await pilot.pause()
        assert _lines(cached) == _lines(stock)
        assert "+0.090▲▲▲" in cached.render_line(4).text  # row 3, under the header


async def test_a_frame_renders_as_the_stock_datatable_and_the_next_frame_sees_a_style_change() -> None:
    """Whole frames (``render_lines``, where the table reads its styles once a frame) match the stock table's, and
    a style changed between two frames shows in the second: the memo lives one frame."""
    app = _Pair()
    async with app.run_test(size=(120, 40)) as pilot:
        cached, stock = await _filled(app, pilot, 12, 8)

        def frame(table: DataTable[Any]) -> list[list[Any]]:
            return [list(strip) for strip in table.render_lines(Region(0, 0, table.size.width, table.size.height))]

        before = frame(cached)
        assert before == frame(stock)
        for table in (cached, stock):
            table.styles.background = "darkred"
            table.styles.color = "yellow"
        await pilot.pause()
        after = frame(cached)
        assert after == frame(stock) and after != before
        assert cached._frame is None  # nothing kept between frames


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield PaneTable(id="t", cursor_type="row")


def _rows(n: int, bump: int = 0, style: str = "") -> list[tuple[str, dict[str, Text]]]:
    return [(f"c{i}", {"coin": Text(f"C{i}"), "rate": Text(f"{i + bump:+d}", style=style)}) for i in range(n)]


async def _settle(pilot: Any, table: PaneTable) -> None:
    """Pause until the table's first resize and dimensions pass (whole-table invalidations, by DataTable's
    update count) are behind it, then paint it all once at that count: what follows measures the in-place path
    alone (a resize bumps the count without a repaint, so the next one renders afresh whatever changed)."""
    stable = 0
    for _ in range(30):
        count = table._update_count
        await pilot.pause()
        stable = stable + 1 if table._update_count == count else 0
        if stable == 3:
            break
    table.refresh()
    await pilot.pause()


@asynccontextmanager
async def _fitted(count: int) -> AsyncIterator[tuple[Any, PaneTable, FittedTable]]:
    """(pilot, table, fitter) showing ``_rows(count)``, settled (see :func:`_settle`)."""
    app = _One()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one(PaneTable)
        fitter = FittedTable(table, SPECS)
        fitter.sync(LABELS, _rows(count))
        await _settle(pilot, table)
        yield pilot, table, fitter


def _count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every cell rendered from now on (by the fast path, which every cell of these tables takes)."""
    renders: list[str] = []
    real = table_cache.text_cell_lines

    def counting(console: Any, cell: Text, *args: Any) -> Any:
        renders.append(cell.plain)
        return real(console, cell, *args)

    monkeypatch.setattr(table_cache, "text_cell_lines", counting)
    return renders


LABELS = {"coin": Text("Coin"), "rate": Text("Rate")}
SPECS = [ColumnSpec("coin", 0), ColumnSpec("rate", 1)]


async def test_a_changed_cell_is_repainted_with_its_new_value_and_style() -> None:
    async with _fitted(20) as (pilot, table, fitter):
        refreshed: list[Region] = []
        real_refresh = table.refresh

        def spy(*regions: Region, **kwargs: Any) -> Any:
            refreshed.extend(regions or [Region(0, 0, 1 << 20, 1 << 20)])
            return real_refresh(*regions, **kwargs)

        table.refresh = spy  # type: ignore[method-assign]
        rows = _rows(20)
        rows[5] = ("c5", {"coin": Text("C5"), "rate": Text("+99", style="bold red")})
        fitter.sync(LABELS, rows)
        await pilot.pause()
        line = table.render_line(6)  # row 5, under the header
        assert "+99" in line.text
        assert any(seg.text.strip() == "+99" and seg.style and seg.style.bold for seg in line)
        assert [(r.y, r.height) for r in refreshed] == [(6, 1)]  # that row only, not the whole table


async def test_an_unchanged_row_keeps_its_cached_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """One changed cell costs one cell render: the other rows' lines come from the cache (DataTable alone would
    re-render every visible cell, its caches being keyed on a table-wide update count)."""
    async with _fitted(20) as (pilot, table, fitter):
        kept = table.render_line(3)
        renders = _count_renders(monkeypatch)
        rows = _rows(20)
        rows[10] = ("c10", {"coin": Text("C10"), "rate": Text("+77")})
        fitter.sync(LABELS, rows)
        await pilot.pause()
        assert renders == ["+77"]
        assert table.render_line(3) is kept
        assert "+77" in table.render_line(11).text


async def test_many_rows_changed_render_only_their_changed_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """A venue's new column: every row changes one cell; the coin column is not rendered again."""
    async with _fitted(40) as (pilot, table, fitter):
        renders = _count_renders(monkeypatch)
        fitter.sync(LABELS, _rows(40, bump=1))
        await pilot.pause()
        visible = table.size.height - 1
        assert len(renders) == visible and not any(r.startswith("C") for r in renders)
        assert [table.render_line(y).text.split()[1] for y in (1, visible)] == ["+1", f"{visible:+d}"]


async def test_a_width_change_still_relays_the_table_out() -> None:
    async with _fitted(5) as (pilot, table, fitter):
        narrow = table.columns[ColumnKey("rate")].width
        rows = _rows(5)
        rows[2] = ("c2", {"coin": Text("C2"), "rate": Text("+123456789")})
        fitter.sync(LABELS, rows)
        await pilot.pause()
        assert table.columns[ColumnKey("rate")].width == 10 > narrow
        assert "+123456789" in table.render_line(3).text
        assert table.render_line(1).text.split()[:2] == ["C0", "+0"]
