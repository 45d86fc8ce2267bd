"""Data sources: one module per provider, the only layer that does I/O.

Each module turns a provider's raw response into the plain records of :mod:`records` (or pandas frames with the
schemas there), with explicit units, and raises :class:`sources.errors.SourceError` on anything it cannot trust.
May import ``records`` only: nothing here knows about analytics, the console, widgets or the emulator.
"""
