"""Data sources: one module per provider, the only layer that does I/O.

Each module turns a provider's raw response into plain records or pandas frames with explicit units, and raises
:class:`sources.errors.SourceError` on anything it cannot trust. Nothing here knows about widgets.
"""
