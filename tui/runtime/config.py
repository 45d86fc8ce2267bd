"""Configuration: built-in defaults, overridden key by key by the user's file and then by ``--config PATH``.

The defaults live here (``DEFAULTS``) and ``config.toml`` at the repository root documents every one of them; a
test keeps the two identical. Files are read with :mod:`tomllib`. An unknown key or a
value of the wrong type is a :class:`ConfigError` that names the file, the line (when it can be found), the key and
the expected type. The ``[[drivers]]`` rules are validated by :func:`analytics.drivers.parse_rules`.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "altpulse"


class ConfigError(ValueError):
    """A configuration problem, with a message that names file, line and key."""


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) and x for x in v)


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


#: key -> (validator, expected-type text). Sections are TOML tables.
SCHEMA: dict[str, dict[str, tuple[Callable[[Any], bool], str]]] = {
    "general": {
        "coins": (_is_str_list, 'a list of coin symbols, e.g. ["ETH", "SOL"]'),
        "quote": (_is_str, 'a quote asset string, e.g. "USDT"'),
        "bell": (_is_bool, "true or false"),
        "theme": (_is_str, "a Textual theme name"),
        "stale_factor": (_positive(_is_number), "a positive number"),
    },
    "cvd": {
        "start": (_is_date, "a date like 2025-01-01"),
        "hourly_days": (_positive(_is_int), "a positive integer (days)"),
    },
    "funding": {
        "baseline_8h": (_is_number, "a number (fraction per 8h, e.g. 0.0001)"),
        "history_periods": (_positive(_is_int), "a positive integer"),
    },
    "cadence": {
        "btc_ticker": (_positive(_is_number), "seconds (a positive number)"),
        "btc_intraday": (_positive(_is_number), "seconds (a positive number)"),
        "btc_ath": (_positive(_is_number), "seconds (a positive number)"),
        "cvd_daily": (_positive(_is_number), "seconds (a positive number)"),
        "cvd_hourly": (_positive(_is_number), "seconds (a positive number)"),
        "funding": (_positive(_is_number), "seconds (a positive number)"),
        "open_interest": (_positive(_is_number), "seconds (a positive number)"),
        "liquidations_rest": (_positive(_is_number), "seconds (a positive number)"),
        "etf": (_positive(_is_number), "seconds (a positive number)"),
        "fear_greed": (_positive(_is_number), "seconds (a positive number)"),
        "coingecko": (_positive(_is_number), "seconds (a positive number)"),
        "equities": (_positive(_is_number), "seconds (a positive number)"),
        "rates": (_positive(_is_number), "seconds (a positive number)"),
    },
    "sources": {
        "binance_spot": (_is_url, "an http(s) URL"),
        "binance_futures": (_is_url, "an http(s) URL"),
        "binance_ws": (_is_url, "a ws(s) URL"),
        "bybit": (_is_url, "an http(s) URL"),
        "bybit_ws": (_is_url, "a ws(s) URL"),
        "okx": (_is_url, "an http(s) URL"),
        "okx_ws": (_is_url, "a ws(s) URL"),
        "hyperliquid": (_is_url, "an http(s) URL"),
        "farside": (_is_url, "an http(s) URL"),
        "alternative_me": (_is_url, "an http(s) URL"),
        "coingecko": (_is_url, "an http(s) URL"),
        "yahoo": (_is_url, "an http(s) URL"),
        "stooq": (_is_url, "an http(s) URL"),
        "stooq_apikey": (_is_str, 'a string (your Stooq API key; "" leaves Stooq out)'),
        "fred": (_is_url, "an http(s) URL"),
        "timeout_seconds": (_positive(_is_number), "seconds (a positive number)"),
    },
    "liquidations": {
        "silent_after": (_positive(_is_number), "seconds (a positive number)"),
        "silent_peers": (_positive(_is_int), "a positive integer (records)"),
    },
    "keys": {},  # action -> key; checked against tui.runtime.keys.ACTIONS at load time
}


@dataclass
class Config:
    """The merged configuration. ``data`` mirrors the TOML tables; ``drivers`` holds the raw rule tables."""

    data: dict[str, Any]
    drivers_raw: list[dict[str, Any]]
    drivers_file: str
    files: list[str]
    #: What loading changed or wants the user to know (e.g. a retired Binance URL moved to /market), one line each.
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.data[section]

    @property
    def coins(self) -> list[str]:
        return [c.upper() for c in self.data["general"]["coins"]]

    @property
    def cvd_start(self) -> dt.date:
        start = self.data["cvd"]["start"]
        return start if isinstance(start, dt.date) else dt.date.fromisoformat(start)

    def with_overrides(self, section: str, **values: Any) -> Config:
        data = copy.deepcopy(self.data)
        data[section].update(values)
        return Config(data, self.drivers_raw, self.drivers_file, self.files, list(self.notes))


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/altpulse/config.toml`` on Linux (platformdirs elsewhere)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def _line_of(text: str, section: str | None, key: str) -> int | None:
    """Best-effort line number of ``key`` inside ``[section]`` (tomllib keeps no positions)."""
    current: str | None = None
    key_re = re.compile(rf"^\s*(\"{re.escape(key)}\"|{re.escape(key)})\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]\s]+)\s*\]", line)
        if header:
            current = header.group(1)
            if section is not None and current == section and key == "":
                return number
            continue
        if current == section and key_re.match(line):
            return number
    return None


def _where(path: str, text: str, section: str | None, key: str) -> str:
    line = _line_of(text, section, key)
    return f"{path}:{line}" if line else path


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not UTF-8 text") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def merge_file(
    data: dict[str, Any], raw: dict[str, Any], path: str, text: str, notes: list[str] | None = None
) -> list[dict[str, Any]] | None:
    """Validate ``raw`` against the schema and merge it into ``data``; returns its ``[[drivers]]`` if any.

    A retired Binance futures stream URL (unrouted ``fstream.binance.com/ws/...``, which connects but has delivered
    no liquidation since 2026-04-23) is moved to the ``/market`` tier, with a line in ``notes`` naming file, line
    and key, rather than left to fail silently."""
    drivers: list[dict[str, Any]] | None = None
    for section, table in raw.items():
        if section == "drivers":
            if not isinstance(table, list) or not all(isinstance(t, dict) for t in table):
                raise ConfigError(f"{_where(path, text, None, 'drivers')}: 'drivers' must be an array of tables "
                                  "([[drivers]])")  # fmt: skip
            drivers = table
            continue
        if section not in SCHEMA:
            raise ConfigError(
                f"{_where(path, text, section, '')}: unknown section [{section}] "
                f"(expected one of: {', '.join([*SCHEMA, 'drivers'])})"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{_where(path, text, None, section)}: '{section}' must be a table ([{section}])")
        if section == "keys":
            from tui.runtime.keys import ACTIONS

            for action, key in table.items():
                if action not in ACTIONS:
                    raise ConfigError(
                        f"{_where(path, text, section, action)}: unknown key action 'keys.{action}' "
                        f"(expected one of: {', '.join(ACTIONS)})"
                    )
                if not isinstance(key, str) or not key.strip():
                    raise ConfigError(f"{_where(path, text, section, action)}: keys.{action}: expected a key name "
                                      "string like \"ctrl+r\" or \"F5\"")  # fmt: skip
            data["keys"].update(table)
            continue
        for key, value in table.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                raise ConfigError(
                    f"{_where(path, text, section, key)}: unknown key '{section}.{key}' "
                    f"(expected one of: {', '.join(SCHEMA[section])})"
                )
            check, expected = spec
            if not check(value):
                raise ConfigError(
                    f"{_where(path, text, section, key)}: {section}.{key}: expected {expected}, got {value!r}"
                )
            if section == "sources" and key == "binance_ws":
                from sources.binance_routes import binance_ws_problem, market_ws_url

                problem = binance_ws_problem(value)
                if problem is not None:
                    value = market_ws_url(value)
                    if notes is not None:
                        notes.append(f"{_where(path, text, section, key)}: sources.binance_ws: {problem}; "
                                     f"using {value}")  # fmt: skip
            data[section][key] = value
    return drivers


#: The shipped config.toml in a source checkout or an editable install (the repository's top level).
CHECKOUT_CONFIG = Path(__file__).resolve().parents[2] / "config.toml"


def installed_config_path() -> Path:
    """Where a wheel puts the shipped config.toml (``[tool.setuptools.data-files]`` in pyproject)."""
    return Path(sys.prefix) / "share" / APP_NAME / "config.toml"


def shipped_config_path() -> Path:
    """The config.toml that holds every default: the checkout's, else the installed copy."""
    for path in (CHECKOUT_CONFIG, installed_config_path()):
        if path.is_file():
            return path
    raise ConfigError(
        f"the shipped config.toml (every default) is missing: looked for {CHECKOUT_CONFIG} and "
        f"{installed_config_path()}; reinstall altpulse"
    )


def _require_every_key(data: dict[str, Any], path: str, text: str) -> None:
    """The shipped file is the only source of defaults: a key it does not set would have no value at all."""
    for section, specs in SCHEMA.items():
        for key, (_, expected) in specs.items():
            if key not in data[section]:
                raise ConfigError(f"{_where(path, text, section, '')}: missing key '{section}.{key}' "
                                  f"(the shipped config.toml sets every key; expected {expected})")  # fmt: skip


def load_config(explicit: Path | None = None, *, use_user_file: bool = True) -> Config:
    """The shipped config.toml, then the user's file (if any), then ``explicit`` (which must exist)."""
    shipped = shipped_config_path()
    data: dict[str, Any] = {section: {} for section in SCHEMA}
    notes: list[str] = []
    raw, text = read_toml(shipped)
    found = merge_file(data, raw, str(shipped), text, notes)
    _require_every_key(data, str(shipped), text)
    if found is None:
        raise ConfigError(f"{shipped}: the shipped config.toml sets no [[drivers]]")
    drivers, drivers_file = found, str(shipped)
    files: list[str] = []
    candidates: list[Path] = []
    if use_user_file:
        user = user_config_path()
        if user.is_file():
            candidates.append(user)
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        candidates.append(explicit)
    for path in candidates:
        raw, text = read_toml(path)
        found = merge_file(data, raw, str(path), text, notes)
        files.append(str(path))
        if found is not None:
            drivers, drivers_file = found, str(path)
    config = Config(data, drivers, drivers_file, files, notes)
    validate_drivers(config)
    return config


def validate_drivers(config: Config) -> None:
    from analytics.drivers import RuleError, parse_rules

    try:
        parse_rules(config.drivers_raw, config.drivers_file)
    except RuleError as exc:
        raise ConfigError(str(exc)) from None
