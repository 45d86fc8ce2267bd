"""Strict conversion of provider values (numbers often arrive as strings) into Python numbers and timestamps.

Every converter names provider, endpoint and field in the :class:`SourceError` it raises, and never guesses:
garbage strings, NaN and infinities are rejected rather than passed on as figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sources.errors import SourceError


def to_float(value: Any, provider: str, endpoint: str, field: str, *, allow_none: bool = False) -> float | None:
    """Parse a finite number given as a JSON number or a decimal string."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if allow_none:
            return None
        raise SourceError(provider, endpoint, "missing value", field=field)
    if isinstance(value, bool):
        raise SourceError(provider, endpoint, f"expected a number, got {value!r}", field=field)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise SourceError(provider, endpoint, f"not a number: {value[:40]!r}", field=field) from None
    else:
        raise SourceError(provider, endpoint, f"expected a number, got {type(value).__name__}", field=field)
    if not math.isfinite(number):
        raise SourceError(provider, endpoint, f"not a finite number: {value!r}", field=field)
    return number


def req_float(value: Any, provider: str, endpoint: str, field: str) -> float:
    """Like :func:`to_float` but the value must be present."""
    result = to_float(value, provider, endpoint, field)
    assert result is not None
    return result


def to_int(value: Any, provider: str, endpoint: str, field: str) -> int:
    """Parse an integer (epoch milliseconds, counts) given as a JSON integer or a digit string."""
    if isinstance(value, bool):
        raise SourceError(provider, endpoint, f"expected an integer, got {value!r}", field=field)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise SourceError(provider, endpoint, f"expected an integer, got {str(value)[:40]!r}", field=field)


def field(obj: Any, key: str, provider: str, endpoint: str) -> Any:
    """``obj[key]`` for a JSON object, or a SourceError naming the missing field."""
    if not isinstance(obj, Mapping):
        raise SourceError(provider, endpoint, f"expected an object, got {type(obj).__name__}", field=key)
    if key not in obj:
        raise SourceError(provider, endpoint, "missing field", field=key)
    return obj[key]


def expect_list(obj: Any, provider: str, endpoint: str, what: str = "response") -> list[Any]:
    """The response must be a JSON array."""
    if not isinstance(obj, list):
        raise SourceError(provider, endpoint, f"expected a list, got {type(obj).__name__}", field=what)
    return obj


#: Long and short shares arrive rounded (Binance 4 decimals: ``0.6617 + 0.3382``): they must add up to 1 within this.
SHARE_SUM_TOLERANCE = 0.01


def check_shares(long_share: float, short_share: float, provider: str, endpoint: str, where: str = "") -> None:
    """A long/short pair of shares must be fractions in [0, 1] adding up to ~1 (:data:`SHARE_SUM_TOLERANCE`):
    anything else (percent instead of fractions, a field swapped for a ratio) is not a share."""
    prefix = f"{where}: " if where else ""
    for name, value in (("long", long_share), ("short", short_share)):
        if not 0.0 <= value <= 1.0:
            raise SourceError(provider, endpoint, f"{prefix}{name} share {value} outside [0, 1]", field=name)
    if abs(long_share + short_share - 1.0) > SHARE_SUM_TOLERANCE:
        raise SourceError(provider, endpoint, f"{prefix}long + short shares = {long_share + short_share:.4f}, not 1",
                          field="shares")  # fmt: skip
