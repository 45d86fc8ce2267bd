"""Builds the demo mode's simulated market (``altpulse --demo``) and an emulator serving it.

The market is anchored at "now" (floored to the minute) so the story's crash is unfolding when the console
opens: see :class:`~emulator.scenario.Scenario`. Spot klines always come from
:mod:`emulator.demo_spot`; derivatives (funding, open interest, liquidations) and macro data (ETF
flows, fear & greed, equities, rates) are filled by ``demo_derivs``, ``demo_liquidations`` and ``demo_macro`` when
those modules are present, so the demo grows feed by feed; long/short positioning by ``demo_long_short`` (after the
funding it reads).
"""

from __future__ import annotations

import importlib
import time
from types import ModuleType

from emulator.clock import VirtualClock
from emulator.core import Emulator
from emulator.dataset import MarketDataset
from emulator.demo_spot import DEMO_SEED, compact_history, simulate_spot
from emulator.scenario import MINUTE, Scenario

#: Optional fillers, each a module of ``emulator`` exposing ``fill(dataset, scenario) -> None``.
FILLERS = ("demo_derivs", "demo_tail", "demo_liquidations", "demo_macro", "demo_perp_klines", "demo_long_short")


def anchor_for(now_ms: int | None = None) -> int:
    """The demo's anchor: ``now_ms`` (default: the wall clock) floored to the minute, so bars line up."""
    now = int(time.time() * 1000) if now_ms is None else int(now_ms)
    return now // MINUTE * MINUTE


def _optional_module(name: str) -> ModuleType | None:
    """Import ``emulator.<name>`` if it exists.

    Only the module's own absence is tolerated: an ImportError raised *inside* an existing filler (a bug, a
    missing dependency) propagates, so a broken filler is never mistaken for an absent one.
    """
    qualified = f"emulator.{name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as exc:
        if exc.name == qualified:
            return None
        raise


def build_demo_dataset(now_ms: int | None = None, seed: int = DEMO_SEED) -> MarketDataset:
    """The simulated market anchored at ``now_ms`` (default: now); deterministic in ``(seed, anchor)``."""
    scenario = Scenario(anchor_ms=anchor_for(now_ms), seed=seed)
    dataset = MarketDataset(
        name="demo",
        simulated=True,
        spot_klines=simulate_spot(scenario),
        start_ms=scenario.history_start_ms,
        end_ms=scenario.end_ms,
    )
    for name in FILLERS:
        module = _optional_module(name)
        if module is not None:
            module.fill(dataset, scenario)
    # Every filler has read the basket's hourly history: keep it as daily bars but for the last weeks.
    compact_history(dataset.spot_klines, scenario)
    # Funding and OI grouped by venue and coin, in time order, with the names as categories: the routes then read each
    # coin's series as views of these frames (emulator.perp_market) instead of copies, and ~600k rows carry no text.
    for name in ("funding", "open_interest"):
        frame = getattr(dataset, name)
        if frame is not None and len(frame):
            setattr(dataset, name, None)  # one copy at a time: the build's peak memory is the demo's peak
            for column in ("exchange", "coin"):  # categories in name order (the fillers make them so: kept as they are)
                names = frame[column].astype("category")
                frame[column] = names.cat.set_categories(sorted(str(c) for c in names.cat.categories))
            frame = frame.sort_values(["exchange", "coin", "time"], kind="stable", ignore_index=True)
            setattr(dataset, name, frame)
        del frame
    return dataset


def demo_emulator(now_ms: int | None = None, speed: float = 1.0, seed: int = DEMO_SEED) -> Emulator:
    """An emulator over the demo market whose virtual clock starts at the anchor and runs at ``speed``."""
    anchor = anchor_for(now_ms)
    dataset = build_demo_dataset(anchor, seed=seed)
    return Emulator(dataset, VirtualClock(start_ms=anchor, speed=speed))
