"""Formatting, and untrusted text from the network made safe for display."""

from __future__ import annotations

import pytest
from rich.text import Text

from widgets.format import clean, money, pct, price, safe


@pytest.mark.parametrize(
    "hostile",
    [
        "[bold red]PWN[/]",
        "[link=https://evil.example]click[/link]",
        "EVIL\x1b[2J\x1b[HUSDT",
        "BAD\x1b]0;title\x07COIN",
        "A\x00B\x07C\x9bD",
    ],
)
def test_safe_text_strips_controls_and_escapes_markup(hostile: str) -> None:
    shown = Text.from_markup(safe(hostile))
    plain = shown.plain
    assert "\x1b" not in plain and "\x07" not in plain and "\x00" not in plain
    assert not shown.spans  # no style or link was injected
    if hostile.startswith("["):
        assert plain == hostile  # markup is shown literally, not interpreted


def test_clean_truncates() -> None:
    assert clean("x" * 300, limit=10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.234e9, "$1.23B"), (-4.567e8, "-$456.70M"), (12_300, "$12.30K"), (None, "—"), (float("nan"), "—")],
)
def test_money(value: float | None, text: str) -> None:
    assert money(value) == text


def test_price_and_pct() -> None:
    assert price(97412.4) == "97,412"
    assert price(0.00001234) == "0.00001234"
    assert pct(-3.21) == "-3.21%"
    assert pct(float("inf")) == "—"
