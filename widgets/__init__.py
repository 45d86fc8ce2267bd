"""Textual widgets that draw view-models. No I/O and no market rules: they only render what they are given.

May import ``records`` (the view-models) and Textual/Rich; never ``tui``, ``sources``, ``analytics`` or the emulator.
:mod:`widgets.format` (text formatting and the escaping of untrusted text) imports no Textual, so the headless
commands use it too.
"""
