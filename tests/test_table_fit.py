"""fit_columns: which columns a narrow table keeps, and how text columns shrink; FittedTable's in-place updates."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from widgets.table_fit import LAZY_MARGIN, ColumnSpec, FittedTable, PaneTable, cut, fit_columns, same_cell

SPECS = [
    ColumnSpec("coin"),
    ColumnSpec("cum", 1),
    ColumnSpec("d24", 3),
    ColumnSpec("d30", 1),
    ColumnSpec("ratio", 2),
    ColumnSpec("share", 4),
]
WIDTHS = {"coin": 4, "cum": 9, "d24": 9, "d30": 9, "ratio": 7, "share": 5}  # + 2 padding each: 55 in all


def test_everything_fits_at_its_natural_width() -> None:
    assert fit_columns(SPECS, WIDTHS, 55) == dict.fromkeys(WIDTHS)


def test_columns_go_highest_priority_first_and_keep_their_order() -> None:
    assert list(fit_columns(SPECS, WIDTHS, 54)) == ["coin", "cum", "d24", "d30", "ratio"]  # share (4)
    assert list(fit_columns(SPECS, WIDTHS, 48)) == ["coin", "cum", "d24", "d30", "ratio"]
    assert list(fit_columns(SPECS, WIDTHS, 47)) == ["coin", "cum", "d30", "ratio"]  # then d24 (3)
    assert list(fit_columns(SPECS, WIDTHS, 37)) == ["coin", "cum", "d30", "ratio"]
    assert list(fit_columns(SPECS, WIDTHS, 36)) == ["coin", "cum", "d30"]  # then the ratio (2)
    # equal priorities: the rightmost goes first
    assert list(fit_columns(SPECS, WIDTHS, 26)) == ["coin", "cum"]
    assert list(fit_columns(SPECS, WIDTHS, 16)) == ["coin"]


def test_priority_zero_columns_stay_even_when_nothing_fits() -> None:
    assert fit_columns(SPECS, WIDTHS, 3) == {"coin": None}
    assert fit_columns([ColumnSpec("a"), ColumnSpec("b")], {"a": 10, "b": 10}, 5) == {"a": None, "b": None}


def test_a_text_column_shrinks_before_anything_is_dropped() -> None:
    specs = [ColumnSpec("state"), ColumnSpec("name", min_width=10), ColumnSpec("value", 1), ColumnSpec("rule", 2)]
    widths = {"state": 3, "name": 29, "value": 8, "rule": 8}  # 48 + 8 padding = 56
    assert fit_columns(specs, widths, 56) == dict.fromkeys(widths)
    # 6 cells short: the name gives them up, every column stays
    assert fit_columns(specs, widths, 50) == {"state": None, "name": 23, "value": None, "rule": None}
    # the name at its minimum still is not enough: the rule goes, the name takes back what it can
    assert fit_columns(specs, widths, 36) == {"state": None, "name": 19, "value": None}
    # nothing droppable left: shrunk as far as allowed
    assert fit_columns(specs, widths, 10) == {"state": None, "name": 10}


def test_missing_widths_count_as_empty_columns() -> None:
    assert fit_columns([ColumnSpec("a"), ColumnSpec("b", 1)], {"a": 4}, 8) == {"a": None, "b": None}


def test_cut_adds_an_ellipsis_only_when_needed() -> None:
    cell = Text("Altcoin spot selling pressure", style="bold")
    assert cut(cell, None) is cell and cut(cell, 40) is cell
    short = cut(cell, 12)
    assert short.plain == "Altcoin spo…" and short.cell_len == 12 and str(short.style) == "bold"
    assert cell.plain == "Altcoin spot selling pressure"  # the original is untouched


class _OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield PaneTable(id="t")


def _rows(n: int, *, style: str = "", bump: int = 0) -> list[tuple[str, dict[str, Text]]]:
    return [(f"c{i}", {"coin": Text(f"C{i}"), "rate": Text(f"{i + bump:+d}", style=style)}) for i in range(n)]


async def test_many_changed_rows_are_updated_in_place_and_shown() -> None:
    """One venue's new column changes every row: the cells change in place (the table keeps its rows) and the
    table shows the new values, not the old ones."""
    app = _OneTable()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one(PaneTable)
        fitter = FittedTable(table, [ColumnSpec("coin", 0), ColumnSpec("rate", 1)])
        labels = {"coin": Text("Coin"), "rate": Text("Rate")}
        fitter.sync(labels, _rows(40))
        await pilot.pause()
        keys_before = list(table.rows)
        fitter.sync(labels, _rows(40, bump=100))
        await pilot.pause()
        assert list(table.rows) == keys_before  # updated in place, not cleared and re-added
        assert [table.get_row_at(i)[1].plain for i in (0, 39)] == ["+100", "+139"]
        assert fitter.cell("c5", "rate").plain == "+105"


async def test_a_change_of_style_alone_reaches_the_table() -> None:
    """Rich's Text equality ignores the base style: a row going dim (its venue turned stale) must still repaint."""
    app = _OneTable()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one(PaneTable)
        fitter = FittedTable(table, [ColumnSpec("coin", 0), ColumnSpec("rate", 1)])
        labels = {"coin": Text("Coin"), "rate": Text("Rate")}
        for count in (3, 40):  # few rows changed (row by row) and many (in place, one repaint)
            fitter.sync(labels, _rows(count, style="bold"))
            await pilot.pause()
            fitter.sync(labels, _rows(count, style="dim"))
            await pilot.pause()
            assert {str(table.get_row_at(i)[1].style) for i in range(count)} == {"dim"}
    assert same_cell(Text("a", style="dim"), Text("a", style="dim"))
    assert not same_cell(Text("a", style="dim"), Text("a", style="bold"))


async def test_a_lazy_sync_builds_the_rows_in_view_and_the_rows_scrolled_to() -> None:
    """``sync_lazy``: a row's cells are built when it is in view (once per sync), the rows below are built when
    the table scrolls to them, and a shorter sync drops the rows it no longer has."""
    app = _OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(PaneTable)
        fitter = FittedTable(table, [ColumnSpec("coin", 0), ColumnSpec("rate", 1)])
        labels = {"coin": Text("Coin"), "rate": Text("Rate")}
        built: list[int] = []

        def build(bump: int) -> Callable[[int], dict[str, Text]]:
            def cells(i: int) -> dict[str, Text]:
                built.append(i)
                return {"coin": Text(f"C{i}"), "rate": Text(f"{i + bump:+d}")}

            return cells

        await pilot.pause()
        fitter.sync_lazy(labels, [f"c{i}" for i in range(500)], build(0))
        await pilot.pause()
        assert table.row_count == 500 and fitter.lazy
        in_view = table.size.height - table.header_height
        assert set(built) == set(range(in_view + LAZY_MARGIN))  # the rows in view and the margin below, once each
        built.clear()
        fitter.sync_lazy(labels, [f"c{i}" for i in range(500)], build(1000))
        table.scroll_to(y=300, animate=False)
        await pilot.pause()
        assert 300 in built and 299 - LAZY_MARGIN not in built and 150 not in built
        assert table.get_row_at(300)[1].plain == "+1300"
        assert fitter.cell("c300", "rate").plain == "+1300"
        # New columns while scrolled down: the table is rebuilt, which scrolls it back to the top mid-update.
        fitter.sync_lazy({**labels, "rate": Text("Rate per 8 hours")}, [f"c{i}" for i in range(500)], build(2000))
        await pilot.pause()
        assert table.row_count == 500 and [c.label.plain for c in table.ordered_columns] == ["Coin", "Rate per 8 hours"]
        top = int(table.scroll_y)
        assert table.get_row_at(top)[1].plain == f"{top + 2000:+d}"
        fitter.sync(labels, _rows(5))
        await pilot.pause()
        assert table.row_count == 5 and not fitter.lazy
        assert [table.get_row_at(i)[1].plain for i in range(5)] == ["+0", "+1", "+2", "+3", "+4"]


async def test_a_lazy_sync_needs_a_pane_table() -> None:
    """A plain DataTable has no scroll hook to fill the rows it scrolls to: refused, not shown half empty."""
    from textual.widgets import DataTable

    class Plain(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="t")

    app = Plain()
    async with app.run_test(size=(40, 10)):
        fitter = FittedTable(app.query_one(DataTable), [ColumnSpec("coin", 0)])
        with pytest.raises(TypeError, match="PaneTable"):
            fitter.sync_lazy({"coin": Text("Coin")}, ["a"], lambda i: {"coin": Text("A")})
