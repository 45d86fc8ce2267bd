"""Console export helpers: a DataTable to CSV (plain text, no control characters, no spreadsheet formulas), the
screen to SVG, the export directory, and clipboard copies."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, DataTable

from tui.app.export import (
    cell_text,
    copy_text,
    export_dir,
    export_focused,
    focused_table,
    table_to_csv,
    table_to_text,
)

ROWS: list[tuple[Any, ...]] = [
    ("ETH", Text("-$1.20B", style="bold red"), -3.456, "0.987"),
    ("SOL", Text("+$512.0M", style="green"), 2.0, "[b]1.012[/b]"),
    ('=HYPERLINK("http://x")', "\x1b[31mEVIL\x1b[0m\x07", None, "@SUM(A1)"),
    ("-rm", "+$45K", 7, "\\[link=http://x]esc"),
]


class Pane(Vertical, can_focus=True):
    """A focusable container holding a table, like the dashboard's panes."""


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        with Pane(id="cvd-pane"):
            yield DataTable(id="cvd")
        yield Button("ok", id="ok")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Coin", key="coin")
        table.add_column(Text("CVD 30d", style="bold"), key="cvd")
        table.add_column("24h %", key="chg")
        table.add_column("B/S", key="bs")
        for row in ROWS:
            table.add_row(*row, key=str(row[0]))


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


EXPECTED = [
    ["Coin", "CVD 30d", "24h %", "B/S"],
    ["ETH", "-$1.20B", "-3.46", "0.987"],
    ["SOL", "+$512.0M", "2.00", "1.012"],
    ['\'=HYPERLINK("http://x")', "EVIL", "", "'@SUM(A1)"],
    ["'-rm", "+$45K", "7", "[link=http://x]esc"],
]


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(path))
    return path


def test_export_dir_is_created_under_user_data(_isolated_data: Path) -> None:
    path = export_dir()
    assert path == _isolated_data / "altpulse" / "exports"
    assert path.is_dir()


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (Text("x\x1b[2Jy"), "xy"),
        ("[bold]B[/bold]", "B"),
        ("[unclosed", "[unclosed"),
        ("[/oops]", "[/oops]"),
        (1.005, "1.00"),
        (3, "3"),
        (None, ""),
        ("a\nb\tc", "a b c"),
    ],
)
def test_cell_text(cell: object, text: str) -> None:
    assert cell_text(cell) == text


async def test_table_to_csv_round_trip(tmp_path: Path) -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DataTable)
        path = table_to_csv(table, tmp_path / "t.csv")
        await pilot.pause()
    assert read_csv(path) == EXPECTED
    raw = path.read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x07" not in raw


async def test_csv_follows_the_table_sort(tmp_path: Path) -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        table = app.query_one(DataTable)
        table.sort("coin", reverse=True)
        path = table_to_csv(table, tmp_path / "sorted.csv")
    assert [row[0] for row in read_csv(path)[1:]] == ["SOL", "ETH", '\'=HYPERLINK("http://x")', "'-rm"]


async def test_export_focused_writes_csv_and_svg(tmp_path: Path) -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        app.query_one(DataTable).focus()
        await pilot.pause()
        csv_path, svg_path = export_focused(app, tmp_path)
        again = export_focused(app, tmp_path)  # within the same second: new names, nothing overwritten
    assert csv_path is not None and csv_path.parent == tmp_path
    assert csv_path.name.startswith("altpulse-") and csv_path.name.endswith("-cvd.csv")
    assert read_csv(csv_path) == EXPECTED
    assert svg_path.parent == tmp_path and svg_path.suffix == ".svg"
    svg = svg_path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "ETH" in svg
    assert again[0] != csv_path and again[1] != svg_path
    assert again[0] is not None and again[0].is_file() and again[1].is_file()


async def test_export_defaults_to_the_export_dir(_isolated_data: Path) -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        app.query_one(DataTable).focus()
        await pilot.pause()
        csv_path, svg_path = export_focused(app)
    assert csv_path is not None and csv_path.parent == _isolated_data / "altpulse" / "exports"
    assert svg_path.parent == csv_path.parent and svg_path.is_file()


async def test_focused_pane_exports_its_table(tmp_path: Path) -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        app.query_one(Pane).focus()
        await pilot.pause()
        assert focused_table(app) is app.query_one(DataTable)
        csv_path, _ = export_focused(app, tmp_path)
    assert csv_path is not None and read_csv(csv_path)[0] == EXPECTED[0]


async def test_no_focused_table_exports_only_the_screen(tmp_path: Path) -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        app.query_one(Button).focus()
        await pilot.pause()
        csv_path, svg_path = export_focused(app, tmp_path)
    assert csv_path is None
    assert svg_path.is_file() and [p.suffix for p in tmp_path.iterdir()] == [".svg"]


async def test_export_to_an_unwritable_place_raises_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    app = TableApp()
    async with app.run_test(size=(100, 20)):
        with pytest.raises(OSError):
            export_focused(app, blocker / "exports")


async def test_copy_text_and_table_text() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DataTable)
        table.focus()
        await pilot.press("down")
        row = table_to_text(table, cursor_row_only=True)
        assert row == "Coin\tCVD 30d\t24h %\tB/S\nSOL\t+$512.0M\t2.00\t1.012"
        copied = copy_text(app, "a\x1b]52;c;evil\x07b\tc\nline 2")
        assert copied == "ab\tc\nline 2"
        assert app.clipboard == copied
        full = table_to_text(table)
        assert len(full.splitlines()) == 1 + len(ROWS)
