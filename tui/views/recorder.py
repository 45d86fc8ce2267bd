"""What the console says about its recording: what a start restored, in one line for a notification."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tui.views.liquidations import gaps_text

if TYPE_CHECKING:
    from tui.runtime.recording import Restored


def restored_text(restored: Restored) -> str:
    """"Restored 12,345 liquidations recorded since 11-28 14:00 UTC · 2 gaps (4h)"."""
    text = f"Restored {restored.liquidations:,} liquidations"
    if restored.recorded_since_ms is not None:
        since = pd.Timestamp(restored.recorded_since_ms, unit="ms", tz="UTC")
        text += f" recorded since {since:%m-%d %H:%M} UTC"
    gaps = gaps_text(restored.gaps)
    return text + (f" · {gaps} not recorded" if gaps else " · no gaps")
