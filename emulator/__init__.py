"""An in-process fake of every provider the console calls, answering the same URLs in the same formats.

Demo mode feeds it a seeded simulated market, replay mode a dataset loaded from real history files. The sources
above it cannot tell the difference; only the on-screen banner says which mode is running. The same emulator can be
served on 127.0.0.1 (``python -m emulator``) for end-to-end, fault and benchmark runs.

A test double and a consumer of the sources' formats, not part of the I/O layer: may import ``sources`` (the
replay reads real files with their parsers), ``analytics`` and ``records``; never the console. The console reaches
it only through the transports :mod:`tui.boot` builds.
"""

from emulator.clock import VirtualClock
from emulator.core import Emulator
from emulator.dataset import MarketDataset
from emulator.transport import EmulatorTransport
from emulator.wire import EmuRequest, EmuResponse

__all__ = ["EmuRequest", "EmuResponse", "Emulator", "EmulatorTransport", "MarketDataset", "VirtualClock"]
