"""Headless commands: ``snapshot``, ``status`` (the status line and its cache) and ``doctor``.

They boot the same runtime as the app (:mod:`tui.boot`) and print text or JSON. They never import Textual (an
import-linter contract in CI): ``altpulse status`` in a tmux status bar must start in milliseconds.
"""
