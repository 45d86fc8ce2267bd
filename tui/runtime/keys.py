"""The dashboard's remappable key bindings: one id per action, its default key and what it does.

``[keys]`` in config.toml maps an id to another key (``refresh = "F5"``); the app applies it with Textual's keymap,
so the footer, the ``?`` panel and the command palette all show the user's keys.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

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
    "help": ("question_mark", "app.help", "Keys", True),
    "quit": ("q", "app.quit", "Quit", True),
}

_DISPLAY = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-", "enter": "⏎"}


def dashboard_bindings() -> list[Binding]:
    return [
        Binding(key, action, description, show=show, id=binding_id, key_display=_DISPLAY.get(key))
        for binding_id, (key, action, description, show) in ACTIONS.items()
    ]


def _key_label(binding: Binding, app: object) -> str:
    display = getattr(app, "get_key_display", None)
    return display(binding) if callable(display) else (binding.key_display or binding.key)


class KeyCommands(Provider):
    """Command palette: every key binding active where the palette was opened, by what it does ("Sort  s").

    Built from the screen's live bindings (so a ``[keys]`` remap, or the funding pane's ``v`` when it has focus,
    shows as it is), which keeps the palette, the footer and the ``?`` panel in agreement.
    """

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands: list[tuple[str, str, Callable[[], object]]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in NOT_IN_PALETTE:
                continue
            name = binding.description
            if name in seen:
                continue
            seen.add(name)
            run = partial(self.app.call_later, active.node.run_action, binding.action)
            commands.append((name, _key_label(binding, self.app), run))
        return commands

    async def discover(self) -> Hits:
        for name, key, run in self._commands():
            yield DiscoveryHit(name, run, help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, key, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, text=name, help=f"key: {key}")


#: Actions the palette already offers in its own words (or that would reopen it).
NOT_IN_PALETTE = {"command_palette", "app.command_palette", "quit", "app.quit"}
