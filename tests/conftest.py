"""Shared test helpers: where the read-only shared fixtures live, and a frozen demo time."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
#: A fixed "now" for the demo market so tests and snapshots are reproducible (2026-11-23T12:00:00Z).
FROZEN_NOW_MS = 1_795_435_200_000


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's own ~/.config/altpulse/config.toml in tests, nor record into their store."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg_data")))


async def run_in_palette(pilot, text: str) -> None:
    """Open the command palette, type ``text`` and run the first match, as a user would."""
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*text)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await pilot.pause(0.3)
