"""The config's sections as typed, frozen dataclasses: the schema is read off their fields.

Each field carries a :class:`KeySpec` in its metadata: the check a TOML value must pass, the expected-type text an
error shows, and the conversion applied once at parse (seconds and fractions to ``float``, ``cvd.start`` to a
``datetime.date``, the basket to a tuple of upper-case symbols). The fields have no defaults on purpose: every
default lives in the shipped config.toml, and a section built without one of its keys is a bug, not a fallback.
:data:`SCHEMA` (section -> key -> spec) is derived from these classes for the loader, its errors and the tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: The field-metadata key under which each section field keeps its :class:`KeySpec`.
SPEC = "altpulse.config"


@dataclass(frozen=True)
class KeySpec:
    """How one key is read: ``check`` the raw TOML value, say ``expected`` when it fails, then ``convert`` it."""

    check: Callable[[Any], bool]
    expected: str
    convert: Callable[[Any], Any]


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_str_list(v: Any) -> bool:
    # A tuple too: with_overrides may be handed a section's own (converted) basket back.
    return isinstance(v, list | tuple) and all(isinstance(x, str) and x for x in v)


def _is_asset_list(v: Any) -> bool:
    return _is_str_list(v) and all(re.fullmatch(r"[A-Za-z0-9]+", x) for x in v)


def _is_pattern_list(v: Any) -> bool:
    # One * standing for a listed coin and at least one letter or digit beside it: "*UP", "*DOWN".
    return _is_str_list(v) and all(re.fullmatch(r"[A-Za-z0-9]*\*[A-Za-z0-9]*", x) and len(x) > 1 for x in v)


def _is_date(v: Any) -> bool:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return True
    if isinstance(v, str):
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            return False
        return True
    return False


def _is_url(v: Any) -> bool:
    return isinstance(v, str) and re.match(r"^(https?|wss?)://[^\s/]+", v) is not None


def _positive(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: check(v) and v > 0


def _same(v: Any) -> Any:
    return v


def _to_date(v: Any) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(v)


def _to_coins(v: Any) -> tuple[str, ...]:
    return tuple(c.upper() for c in v)


def _key(check: Callable[[Any], bool], expected: str, convert: Callable[[Any], Any] = _same) -> Any:
    """A section field (no default: the shipped config.toml has it) with its spec in the metadata."""
    return dataclasses.field(metadata={SPEC: KeySpec(check, expected, convert)})


def _seconds() -> Any:
    return _key(_positive(_is_number), "seconds (a positive number)", float)


def _url(expected: str = "an http(s) URL") -> Any:
    return _key(_is_url, expected)


@dataclass(frozen=True)
class General:
    """``[general]``: the basket, its quote asset, and how the console looks, sounds and ages its figures."""

    coins: tuple[str, ...] = _key(_is_str_list, 'a list of coin symbols, e.g. ["ETH", "SOL"]', _to_coins)
    quote: str = _key(_is_str, 'a quote asset string, e.g. "USDT"')
    bell: bool = _key(_is_bool, "true or false")
    theme: str = _key(_is_str, "a Textual theme name")
    stale_factor: float = _key(_positive(_is_number), "a positive number", float)


@dataclass(frozen=True)
class Cvd:
    """``[cvd]``: where the cumulative volume delta starts, how much hourly history is kept, and which Binance spot
    pairs the market-wide CVD leaves out (stablecoins, wrapped and pegged assets by name, leveraged tokens by
    pattern; BTC always)."""

    start: dt.date = _key(_is_date, "a date like 2025-01-01", _to_date)
    hourly_days: int = _key(_positive(_is_int), "a positive integer (days)")
    market_exclude: tuple[str, ...] = _key(
        _is_asset_list, 'a list of base assets (letters and digits), e.g. ["USDC", "WBTC"]', _to_coins
    )
    market_exclude_patterns: tuple[str, ...] = _key(
        _is_pattern_list, 'a list of patterns with one * standing for a listed coin, e.g. ["*UP", "*DOWN"]', _to_coins
    )


@dataclass(frozen=True)
class Funding:
    """``[funding]``: the neutral rate the heatmap centres on and how many 8 h periods it shows."""

    baseline_8h: float = _key(_is_number, "a number (fraction per 8h, e.g. 0.0001)", float)
    history_periods: int = _key(_positive(_is_int), "a positive integer")


@dataclass(frozen=True)
class Cadence:
    """``[cadence]``: seconds between polls of each feed."""

    btc_ticker: float = _seconds()
    btc_intraday: float = _seconds()
    btc_ath: float = _seconds()
    cvd_daily: float = _seconds()
    cvd_market: float = _seconds()
    cvd_hourly: float = _seconds()
    funding: float = _seconds()
    open_interest: float = _seconds()
    liquidations_rest: float = _seconds()
    etf: float = _seconds()
    fear_greed: float = _seconds()
    coingecko: float = _seconds()
    defillama: float = _seconds()
    equities: float = _seconds()
    rates: float = _seconds()


@dataclass(frozen=True)
class Sources:
    """``[sources]``: every provider's base URL (or the emulator's), the Stooq key and the HTTP timeout."""

    binance_spot: str = _url()
    binance_futures: str = _url()
    binance_ws: str = _url("a ws(s) URL")
    bybit: str = _url()
    bybit_ws: str = _url("a ws(s) URL")
    okx: str = _url()
    okx_ws: str = _url("a ws(s) URL")
    hyperliquid: str = _url()
    farside: str = _url()
    alternative_me: str = _url()
    coingecko: str = _url()
    defillama: str = _url()
    yahoo: str = _url()
    stooq: str = _url()
    stooq_apikey: str = _key(_is_str, 'a string (your Stooq API key; "" leaves Stooq out)')
    fred: str = _url()
    timeout_seconds: float = _seconds()


@dataclass(frozen=True)
class Liquidations:
    """``[liquidations]``: when a connected stream that delivers nothing while its peers deliver is suspect."""

    silent_after: float = _seconds()
    silent_peers: int = _key(_positive(_is_int), "a positive integer (records)")


def _is_days(v: Any) -> bool:
    return _is_number(v) and v >= 0


@dataclass(frozen=True)
class Store:
    """``[store]``: the recorder: whether the console records, where, for how long and up to what size."""

    record: bool = _key(_is_bool, "true or false")
    path: str = _key(_is_str, 'a file path, or "" for the user data dir')
    flush_seconds: float = _seconds()
    funding_every: float = _seconds()
    liquidations_days: float = _key(_is_days, "days (0 keeps forever)", float)
    intraday_days: float = _key(_is_days, "days (0 keeps forever)", float)
    daily_days: float = _key(_is_days, "days (0 keeps forever)", float)
    max_mb: float = _key(_is_days, "megabytes (0: no bound)", float)


@dataclass(frozen=True)
class Alerting:
    """``[alerting]``: the defaults of the ``[[alerts]]`` rules and their routes (:mod:`tui.runtime.alert_routes`)."""

    routes: tuple[str, ...] = _key(_is_str_list, 'a list of route names, e.g. ["toast", "phone"]', tuple)
    cooldown: float = _key(_is_days, "seconds (a number >= 0)", float)
    every: float = _seconds()
    command_timeout: float = _seconds()
    webhook_timeout: float = _seconds()
    webhook_retries: int = _key(lambda v: _is_int(v) and v >= 0, "a whole number >= 0")
    log: str = _key(_is_str, 'a file path, or "" for the user data dir')


#: TOML table -> its section class, in config.toml's order.
SECTIONS: dict[str, type[Any]] = {
    "general": General,
    "cvd": Cvd,
    "funding": Funding,
    "cadence": Cadence,
    "sources": Sources,
    "liquidations": Liquidations,
    "store": Store,
    "alerting": Alerting,
}

#: section -> key -> spec, read off the section classes. ``[keys]`` declares no keys of its own: its actions are
#: :data:`tui.runtime.keys.ACTIONS`, checked by the loader.
SCHEMA: Mapping[str, Mapping[str, KeySpec]] = {
    **{name: {f.name: f.metadata[SPEC] for f in dataclasses.fields(cls)} for name, cls in SECTIONS.items()},
    "keys": {},
}
