"""The data runtime: config, modes, feeds, the polling scheduler, market state and feed health.

No Textual here, so the headless commands and the tests drive it with plain asyncio. May import ``sources``,
``analytics`` and ``records``; never ``tui.views``, ``tui.app``, ``tui.commands`` or ``widgets``, and never the
emulator (demo and replay reach the runtime only as the transport :mod:`tui.boot` gives it).
"""
