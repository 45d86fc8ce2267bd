"""The status bar line: every provider when it fits, a count and the problems when it does not."""

from __future__ import annotations

from records.viewmodels import SourceLine, StatusView
from widgets.status_bar import status_text

PROVIDERS = ["binance", "bybit", "okx", "hyperliquid", "farside", "alternative.me", "coingecko", "yahoo", "fred"]


def view(failing: dict[str, tuple[str, str]] | None = None) -> StatusView:
    failing = failing or {}
    lines = [SourceLine(f"{p}_feed", p, *failing.get(p, ("live", "live"))) for p in PROVIDERS]
    lines.append(SourceLine("okx_history", "okx", "live", "live"))  # a provider's second feed: named once
    return StatusView("SIMULATED", True, tuple(lines), market_time="market time 2026-11-23 12:00 UTC")


def test_every_provider_is_named_when_the_line_fits() -> None:
    text = status_text(view(), 200).plain
    assert text.startswith("market time 2026-11-23 12:00 UTC")
    assert all(f"● {p}" in text for p in PROVIDERS) and "\n" not in text


def test_a_narrow_bar_counts_the_live_providers_and_names_only_the_others() -> None:
    failing = {"farside": ("unavailable", "HTTP 403 (blocked)"), "okx": ("retrying", "retrying in 4s: HTTP 503")}
    text = status_text(view(failing), 60).plain
    first, *problems = text.splitlines()
    assert first == "market 2026-11-23 12:00  ● 7/9 live  ↻ okx  ⊘ farside"
    assert len(first) <= 60
    assert problems == ["↻ okx_feed: retrying in 4s: HTTP 503", "⊘ farside_feed: HTTP 403 (blocked)"]


def test_all_live_in_a_narrow_bar_is_one_short_line() -> None:
    assert status_text(view(), 60).plain == "market 2026-11-23 12:00  ● 9/9 live"
