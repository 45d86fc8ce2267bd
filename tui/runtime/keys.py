"""The dashboard's remappable key actions: one id per action, its default key and what it does.

``[keys]`` in config.toml maps an id to another key (``refresh = "F5"``); config loading checks the ids against
this table, and the app (:mod:`tui.app.keys`) turns it into Textual bindings and applies the user's keymap, so the
footer, the ``?`` panel and the command palette all show the user's keys. Plain data: no Textual here.
"""

from __future__ import annotations

#: id -> (default key, action, description, shown in the footer)
ACTIONS: dict[str, tuple[str, str, str, bool]] = {
    "focus_btc": ("1", "focus_pane(1)", "Bitcoin pane", False),
    "focus_cvd": ("2", "focus_pane(2)", "CVD pane", False),
    "focus_funding": ("3", "focus_pane(3)", "Funding pane", False),
    "focus_liquidations": ("4", "focus_pane(4)", "Liquidations pane", False),
    "focus_etf": ("5", "focus_pane(5)", "ETF & macro pane", False),
    "focus_drivers": ("6", "focus_pane(6)", "Key drivers pane", False),
    "open_coin": ("enter", "open_coin", "Coin detail", True),
    "filter": ("slash", "filter", "Filter coins", True),
    "maximize": ("f", "maximize", "Max", True),
    "sort": ("s", "sort", "Sort", True),
    "pause": ("p", "app.toggle_pause", "Pause", True),
    "refresh": ("r", "app.refresh_now", "Refresh", True),
    "faster": ("plus", "app.faster", "Faster refresh", False),
    "slower": ("minus", "app.slower", "Slower refresh", False),
    "export": ("ctrl+s", "export", "Export", False),
    "copy_row": ("y", "copy(False)", "Copy row", False),
    "copy_table": ("Y", "copy(True)", "Copy table", False),
    "alerts": ("a", "app.alerts", "Alert log", False),
    "timeline": ("d", "app.timeline", "Drivers timeline", False),
    "help": ("question_mark", "app.help", "Keys", True),
    "quit": ("q", "app.quit", "Quit", True),
}

#: How the footer shows a key whose Textual name is a word.
KEY_DISPLAY = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-", "enter": "⏎"}
