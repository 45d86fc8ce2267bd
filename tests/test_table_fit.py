"""fit_columns: which columns a narrow table keeps, and how text columns shrink."""

from __future__ import annotations

from rich.text import Text

from widgets.table_fit import ColumnSpec, cut, fit_columns

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
