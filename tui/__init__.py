"""The console: runtime, view-models, the Textual app and the headless commands, in that order of layers.

- :mod:`tui.runtime` — config, modes, feeds, the polling scheduler, market state and feed health (no Textual).
- :mod:`tui.views` — view-model building: one module per pane, a registry of panes and the feeds behind them.
- :mod:`tui.boot` — the one boot path (runtime, state, feeds, scheduler, views) for the app, snapshot and status.
- :mod:`tui.app` — the Textual app and its screens (the only part of ``tui`` that imports Textual).
- :mod:`tui.commands` — headless commands (snapshot, status, doctor); they never import Textual.
- :mod:`tui.cli` — the command line, which dispatches to the app or a command.

Each layer imports only the ones below it (import-linter checks this in CI).
"""
