"""The Textual app: the dashboard and coin screens, bindings, messages and export.

The only part of ``tui`` that imports Textual. May import ``tui.boot``, ``tui.views``, ``tui.runtime`` and
``widgets``; never ``tui.commands``.
"""
