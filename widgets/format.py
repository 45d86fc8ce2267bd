"""Number and text formatting for the panes, and sanitising of untrusted text from the network.

Symbol names, fund names and error messages come from providers: they may carry Rich markup (``[link=...]``) or
terminal control sequences. :func:`safe` strips control characters and escapes markup before anything is shown.
"""

from __future__ import annotations

import math
import re

from rich.markup import escape

_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f]|\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?"
)


def clean(text: object, limit: int = 200) -> str:
    """Plain text with control characters and escape sequences removed (for Text objects and cells)."""
    raw = str(text)
    raw = _CONTROL.sub("", raw).replace("\n", " ").replace("\t", " ")
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def safe(text: object, limit: int = 200) -> str:
    """Untrusted text made safe to embed in Rich markup."""
    return escape(clean(text, limit))


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def money(value: float | None, signed: bool = False) -> str:
    """Compact US dollars: $1.23B, -$456.7M, $12.3K."""
    if _missing(value):
        return "—"
    assert value is not None
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    v = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= limit:
            return f"{sign}${v / limit:.2f}{suffix}"
    return f"{sign}${v:.0f}"


def price(value: float | None) -> str:
    """A price with as many decimals as its size needs: 97,412 · 3,456.7 · 0.5123 · 0.00001234."""
    if _missing(value):
        return "—"
    assert value is not None
    v = abs(value)
    if v >= 10_000:
        return f"{value:,.0f}"
    if v >= 100:
        return f"{value:,.1f}"
    if v >= 1:
        return f"{value:,.3f}"
    if v == 0:
        return "0"
    digits = max(2, -math.floor(math.log10(v)) + 3)
    return f"{value:.{min(digits, 12)}f}"


def pct(value: float | None, decimals: int = 2) -> str:
    """Signed percent: +1.23% / -4.56%."""
    if _missing(value):
        return "—"
    return f"{value:+.{decimals}f}%"


def ratio(value: float | None) -> str:
    if _missing(value):
        return "—"
    return f"{value:.3f}"


def tone(value: float | None) -> str:
    """A TCSS-free semantic style name for Rich: up/down/flat."""
    if _missing(value) or value == 0:
        return "dim"
    return "green" if value and value > 0 else "red"
