"""Export from the console: the focused table as CSV and the screen as SVG (ctrl+s), and copying text (OSC 52).

Pure helpers over Textual objects; the dashboard binds the keys and reports the result. Files go to
``<user_data_dir>/exports`` (``~/.local/share/altpulse/exports`` on Linux, ``$XDG_DATA_HOME`` honoured) with
time-stamped names (``altpulse-20251011-120000-cvd.csv`` and ``altpulse-20251011-120000.svg``). CSV cells are the
text the table shows, without styles or control characters; a cell that a spreadsheet would run as a formula
(``=…``, ``@…``, ``+``/``-`` not followed by a number) is prefixed with ``'``, since symbol and fund names come
from the network.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from widgets.format import clean

if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import DataTable

#: Longest cell text kept in an export (a cell is a figure or a short name; this only bounds hostile input).
CELL_LIMIT = 1000
_NUMBERISH = re.compile(r"^[+-]?\$?[\d.,]+\s*(%|[KMBT]|bp|x)?$")
#: Whole CSI / OSC sequences. widgets.format.clean removes their ESC byte but leaves the parameters ("[31m") behind.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def _plain(text: str, limit: int) -> str:
    return clean(_ESCAPES.sub("", text), limit)


def export_dir() -> Path:
    """``<user_data_dir>/exports``, created if needed."""
    from platformdirs import user_data_dir

    path = Path(user_data_dir("altpulse", appauthor=False)) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cell_text(cell: object) -> str:
    """The plain text a DataTable shows for ``cell`` (Rich Text -> .plain, markup strings rendered, floats as the
    table formats them), with control characters removed."""
    from rich.text import Text

    if isinstance(cell, Text):
        text = cell.plain
    elif isinstance(cell, str):
        from rich.errors import MarkupError

        try:
            text = Text.from_markup(cell).plain
        except MarkupError:
            text = cell
    elif isinstance(cell, float):
        text = f"{cell:.2f}"
    elif cell is None:
        text = ""
    else:
        plain = getattr(cell, "plain", None)
        text = plain if isinstance(plain, str) else str(cell)
    return _plain(text, CELL_LIMIT).strip()


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas; signed numbers (-3.4%, +$1.2B) stay as they are."""
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not _NUMBERISH.match(text)):
        return "'" + text
    return text


def table_rows(data_table: DataTable[Any]) -> tuple[list[str], list[list[str]]]:
    """The table's column labels and its rows (in the order shown, i.e. as sorted) as plain text.

    A pane table that dropped columns to fit a narrow terminal exports all of them, uncut: the file and the
    clipboard are not limited by the width of the pane.
    """
    fitter = getattr(data_table, "fitter", None)
    if fitter is not None:
        labels, rows = fitter.all_columns()
        return [cell_text(label) for label in labels], [[cell_text(cell) for cell in row] for row in rows]
    header = [cell_text(column.label) for column in data_table.ordered_columns]
    rows = [[cell_text(cell) for cell in data_table.get_row(row.key)] for row in data_table.ordered_rows]
    return header, rows


def table_to_csv(data_table: DataTable[Any], path: Path | str) -> Path:
    """Write the table as CSV (header row of column labels, then every row as shown); returns the path."""
    header, rows = table_rows(data_table)
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([_csv_safe(h) for h in header])
        writer.writerows([_csv_safe(c) for c in row] for row in rows)
    return path


def table_to_text(data_table: DataTable[Any], *, cursor_row_only: bool = False) -> str:
    """The table (or its cursor row) as tab-separated plain text, header first, for the clipboard."""
    header, rows = table_rows(data_table)
    if cursor_row_only:
        index = data_table.cursor_row
        rows = [rows[index]] if 0 <= index < len(rows) else []
    return "\n".join("\t".join(line) for line in [header, *rows])


def focused_table(app: App[Any]) -> DataTable[Any] | None:
    """The focused DataTable, or the first DataTable inside the focused widget (a pane), or None."""
    from textual.widgets import DataTable

    node = app.focused
    if node is None:
        return None
    if isinstance(node, DataTable):
        return node
    return next(iter(node.query(DataTable)), None)


def _stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")


def _free(directory: Path, stem: str, suffix: str) -> Path:
    """``stem.suffix`` in ``directory``, or ``stem-2.suffix``, ``stem-3.suffix``… if taken (two exports a second)."""
    candidate = directory / f"{stem}{suffix}"
    n = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", clean(text, 40).lower()).strip("-")


def export_focused(app: App[Any], directory: Path | None = None) -> tuple[Path | None, Path]:
    """Save the focused table (if any) as CSV and the screen as SVG; returns (csv path or None, svg path).

    Names are ``altpulse-<local time>[-<table id>].csv`` and ``altpulse-<local time>.svg`` in :func:`export_dir`
    (or ``directory``). I/O problems raise OSError for the caller to report.
    """
    directory = export_dir() if directory is None else directory
    directory.mkdir(parents=True, exist_ok=True)
    stamp = f"altpulse-{_stamp()}"
    table = focused_table(app)
    csv_path: Path | None = None
    if table is not None:
        owner = table.id or next((n.id for n in table.ancestors if getattr(n, "id", None)), None) or "table"
        csv_path = table_to_csv(table, _free(directory, f"{stamp}-{_slug(owner) or 'table'}", ".csv"))
    svg_path = _free(directory, stamp, ".svg")
    saved = app.save_screenshot(filename=svg_path.name, path=str(directory))
    return csv_path, Path(saved)


def copy_text(app: App[Any], text: str) -> str:
    """Copy ``text`` to the terminal's clipboard (OSC 52, via Textual); control characters go, lines and tabs stay.

    Returns what was copied. Terminals without OSC 52 support (or tmux without ``set -g set-clipboard on``) ignore
    it silently.
    """
    lines = ["\t".join(_plain(field, 10_000) for field in line.split("\t")) for line in str(text).splitlines()]
    copied = "\n".join(lines)
    app.copy_to_clipboard(copied)
    return copied
