"""The recorder's store: what the console learned, kept on disk so a restart, a replay or a follower can read it.

One SQLite file (WAL mode) through the standard library, under the user data dir. :mod:`store.base` is the small
interface the console writes and reads through (a server database would be another backend of it),
:mod:`store.sqlite` the SQLite backend, :mod:`store.schema` the tables and their migrations, :mod:`store.writer`
the thread that batches writes off the event loop. Knows records and pandas, nothing of feeds or widgets.
"""

from store.base import Store, StoreError, StoreLocked, StoreUnavailable

__all__ = ["Store", "StoreError", "StoreLocked", "StoreUnavailable"]
