"""An in-process fake of every provider the console calls, answering the same URLs in the same formats.

Demo mode feeds it a seeded simulated market, replay mode a dataset loaded from real history files. The sources
above it cannot tell the difference; only the on-screen banner says which mode is running. The same emulator can be
served on 127.0.0.1 (``python -m sources.emulator``) for end-to-end, fault and benchmark runs.
"""

from sources.emulator.clock import VirtualClock
from sources.emulator.core import Emulator, EmuRequest, EmuResponse
from sources.emulator.dataset import MarketDataset
from sources.emulator.transport import EmulatorTransport

__all__ = ["EmuRequest", "EmuResponse", "Emulator", "EmulatorTransport", "MarketDataset", "VirtualClock"]
