"""Textual bindings for the dashboard's key actions, and the command palette's list of them.

The actions and their default keys are :data:`tui.runtime.keys.ACTIONS` (config loading validates ``[keys]``
against it); here they become :class:`~textual.binding.Binding` objects with the ids the keymap remaps.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.runtime.keys import ACTIONS, KEY_DISPLAY


def dashboard_bindings() -> list[BindingType]:
    return [
        Binding(key, action, description, show=show, id=binding_id, key_display=KEY_DISPLAY.get(key))
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
            run = partial(self.app.call_later, self.app.run_action, binding.action, active.node)
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
