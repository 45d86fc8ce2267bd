"""Configuration: every setting the console reads, parsed once into typed, frozen sections.

Precedence, key by key: the shipped ``config.toml``, then the user's file (``$XDG_CONFIG_HOME/altpulse/config.toml``,
platformdirs elsewhere), then ``--config PATH``. A ``[[drivers]]`` array in a later file replaces the whole rule list.

Where the defaults live: only in the shipped ``config.toml``, which documents every key beside its value. It is the
repository's top-level file in a source checkout or editable install, else the copy a wheel installs as
``<prefix>/share/altpulse/config.toml``. It goes through the same checks as a user's file and must set every key the
schema declares, so no default can exist in code and drift from the file. The key-driver rules are defaults like the
rest: they are its ``[[drivers]]`` (analytics stays pure and reads no file).

The schema is the section dataclasses of :mod:`tui.runtime.config_schema`. An unknown section or key, or a value of
the wrong type, is a :class:`ConfigError` naming the file, the line (when it can be found), the key and the expected
type; ``[keys]`` is checked against :data:`tui.runtime.keys.ACTIONS` and ``[[drivers]]`` by
:func:`analytics.drivers.parse_rules`. Values are converted once, here, so call sites read
``config.funding.baseline_8h`` as a float and never cast.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tui.runtime.config_schema import (
    SCHEMA,
    SECTIONS,
    Alerting,
    Cadence,
    Cvd,
    Funding,
    General,
    KeySpec,
    Liquidations,
    Sources,
    Store,
)

__all__ = [
    "CHECKOUT_CONFIG",
    "SCHEMA",
    "Alerting",
    "Cadence",
    "Config",
    "ConfigError",
    "Cvd",
    "Funding",
    "General",
    "KeySpec",
    "Liquidations",
    "Sources",
    "Store",
    "installed_config_path",
    "load_config",
    "read_toml",
    "shipped_config_path",
    "user_config_path",
    "validate_alerts",
    "validate_drivers",
]

APP_NAME = "altpulse"

#: The shipped config.toml in a source checkout or an editable install (the repository's top level).
CHECKOUT_CONFIG = Path(__file__).resolve().parents[2] / "config.toml"


class ConfigError(ValueError):
    """A configuration problem, with a message that names file, line and key."""


@dataclass(frozen=True)
class Config:
    """The merged configuration: one typed section per TOML table, plus what loading found.

    ``drivers_raw`` holds the ``[[drivers]]`` tables as read (the views parse them into rules) and ``drivers_file``
    the file they came from; ``files`` the user files read, in order (the shipped one is not listed); ``notes``
    what loading changed or wants the user to know (e.g. a retired Binance URL moved to /market), one line each.
    """

    general: General
    cvd: Cvd
    funding: Funding
    cadence: Cadence
    sources: Sources
    liquidations: Liquidations
    store: Store
    alerting: Alerting
    #: action id -> key name(s), only the remapped actions (read-only).
    keys: Mapping[str, str]
    drivers_raw: list[dict[str, Any]]
    drivers_file: str
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: ``[[alerts]]`` and ``[[alert_routes]]`` as read, and the file each came from (a later file's array replaces
    #: the whole list, like ``[[drivers]]``); validated by :func:`validate_alerts`.
    alerts_raw: list[dict[str, Any]] = field(default_factory=list)
    alerts_file: str = ""
    alert_routes_raw: list[dict[str, Any]] = field(default_factory=list)
    alert_routes_file: str = ""

    def with_overrides(self, section: str, **values: Any) -> Config:
        """A copy with some keys of ``section`` replaced, each value checked and converted as a file's would be.

        A retired Binance stream URL is not migrated here (only files are): tests use that to stand for a console
        that did not migrate."""
        where = f"override of [{section}]"
        if section == "keys":
            bindings = {action: _binding(action, key, lambda: where) for action, key in values.items()}
            return replace(self, keys=MappingProxyType({**self.keys, **bindings}))
        if section not in SECTIONS:
            raise ConfigError(_unknown_section(where, section))
        converted = {key: _accept(section, key, value, lambda: where) for key, value in values.items()}
        return replace(self, **{section: replace(getattr(self, section), **converted)})


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/altpulse/config.toml`` on Linux (platformdirs elsewhere)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


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


# ------------------------------------------------------------------------------------------------- errors


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


def _unknown_section(where: str, section: str) -> str:
    return f"{where}: unknown section [{section}] (expected one of: {', '.join([*SCHEMA, *ARRAYS])})"


#: The arrays of tables a file may hold besides its sections (each replaces the earlier files' whole list).
ARRAYS = ("drivers", "alerts", "alert_routes")


def array_line(text: str, name: str, index: int, key: str) -> int | None:
    """The line of ``key`` in the ``index``-th ``[[name]]`` table (its header's line when the key is not there)."""
    count = -1
    header: int | None = None
    key_re = re.compile(rf"^\s*(\"{re.escape(key)}\"|{re.escape(key)})\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*\[", line):
            if count == index:
                break  # the next table: the key is not in this one
            if re.match(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]", line):
                count += 1
                if count == index:
                    header = number
            continue
        if count == index and key and key_re.match(line):
            return number
    return header


# ----------------------------------------------------------------------------------------------- checking
# ``where`` is a callable: finding a key's line scans the file, so it is done only for the key that is wrong.


def _accept(section: str, key: str, value: Any, where: Callable[[], str]) -> Any:
    """``section.key``'s value converted to its field's type, or a ConfigError naming where, key and type."""
    specs = SCHEMA[section]
    spec = specs.get(key)
    if spec is None:
        raise ConfigError(f"{where()}: unknown key '{section}.{key}' (expected one of: {', '.join(specs)})")
    if not spec.check(value):
        raise ConfigError(f"{where()}: {section}.{key}: expected {spec.expected}, got {value!r}")
    return spec.convert(value)


def _binding(action: str, key: Any, where: Callable[[], str]) -> str:
    """A ``[keys]`` entry: a known action (the app's remappable ones) bound to a non-empty key name."""
    from tui.runtime.keys import ACTIONS

    if action not in ACTIONS:
        raise ConfigError(f"{where()}: unknown key action 'keys.{action}' (expected one of: {', '.join(ACTIONS)})")
    if not isinstance(key, str) or not key.strip():
        raise ConfigError(f'{where()}: keys.{action}: expected a key name string like "ctrl+r" or "F5"')
    return key


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


def _merge_file(
    values: dict[str, dict[str, Any]], raw: dict[str, Any], path: str, text: str, notes: list[str],
    arrays: dict[str, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]] | None:  # fmt: skip
    """Check and convert ``raw``'s values into ``values`` (section -> key -> value); returns its ``[[drivers]]``.

    A retired Binance futures stream URL (unrouted ``fstream.binance.com/ws/...``, which connects but has delivered
    no liquidation since 2026-04-23) is moved to the ``/market`` tier, with a line in ``notes`` naming file, line
    and key, rather than left to fail silently. ``[[alerts]]`` and ``[[alert_routes]]`` go into ``arrays``."""
    arrays = {} if arrays is None else arrays
    drivers: list[dict[str, Any]] | None = None
    for section, table in raw.items():
        if section in ("alerts", "alert_routes"):
            if not isinstance(table, list) or not all(isinstance(t, dict) for t in table):
                raise ConfigError(f"{_where(path, text, None, section)}: '{section}' must be an array of tables "
                                  f"([[{section}]])")  # fmt: skip
            arrays[section] = table
            continue
        if section == "drivers":
            if not isinstance(table, list) or not all(isinstance(t, dict) for t in table):
                raise ConfigError(f"{_where(path, text, None, 'drivers')}: 'drivers' must be an array of tables "
                                  "([[drivers]])")  # fmt: skip
            drivers = table
            continue
        if section not in SCHEMA:
            raise ConfigError(_unknown_section(_where(path, text, section, ""), section))
        if not isinstance(table, dict):
            raise ConfigError(f"{_where(path, text, None, section)}: '{section}' must be a table ([{section}])")
        for key, value in table.items():

            def where(section: str = section, key: str = key) -> str:
                return _where(path, text, section, key)

            if section == "keys":
                values["keys"][key] = _binding(key, value, where)
                continue
            accepted = _accept(section, key, value, where)
            if section == "sources" and key == "binance_ws":
                from sources.binance_routes import binance_ws_problem, market_ws_url

                problem = binance_ws_problem(accepted)
                if problem is not None:
                    accepted = market_ws_url(accepted)
                    notes.append(f"{where()}: sources.binance_ws: {problem}; using {accepted}")
            values[section][key] = accepted
    return drivers


def _require_every_key(values: dict[str, dict[str, Any]], path: str, text: str) -> None:
    """The shipped file is the only source of defaults: a key it does not set would have no value at all."""
    for section, specs in SCHEMA.items():
        for key, spec in specs.items():
            if key not in values[section]:
                raise ConfigError(f"{_where(path, text, section, '')}: missing key '{section}.{key}' "
                                  f"(the shipped config.toml sets every key; expected {spec.expected})")  # fmt: skip


def load_config(explicit: Path | None = None, *, use_user_file: bool = True) -> Config:
    """The shipped config.toml, then the user's file (if any), then ``explicit`` (which must exist)."""
    shipped = shipped_config_path()
    values: dict[str, dict[str, Any]] = {section: {} for section in SCHEMA}
    notes: list[str] = []
    raw, text = read_toml(shipped)
    arrays: dict[str, list[dict[str, Any]]] = {}
    drivers = _merge_file(values, raw, str(shipped), text, notes, arrays)
    alert_files = dict.fromkeys(arrays, str(shipped))
    _require_every_key(values, str(shipped), text)
    if drivers is None:
        raise ConfigError(f"{shipped}: the shipped config.toml sets no [[drivers]]")
    drivers_file = str(shipped)
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
        found_arrays: dict[str, list[dict[str, Any]]] = {}
        found = _merge_file(values, raw, str(path), text, notes, found_arrays)
        arrays.update(found_arrays)
        alert_files.update(dict.fromkeys(found_arrays, str(path)))
        files.append(str(path))
        if found is not None:
            drivers, drivers_file = found, str(path)
    sections = {name: cls(**values[name]) for name, cls in SECTIONS.items()}
    config = Config(**sections, keys=MappingProxyType(values["keys"]), drivers_raw=drivers,
                    drivers_file=drivers_file, files=tuple(files), notes=tuple(notes),
                    alerts_raw=arrays.get("alerts", []), alerts_file=alert_files.get("alerts", ""),
                    alert_routes_raw=arrays.get("alert_routes", []),
                    alert_routes_file=alert_files.get("alert_routes", ""))  # fmt: skip
    validate_drivers(config)
    validate_alerts(config)
    return config


def validate_alerts(config: Config) -> None:
    """``[[alert_routes]]``, ``[[alerts]]`` and ``[alerting] routes`` checked together (a rule names drivers and
    routes); a problem is a ConfigError naming the file, the line and the key."""
    from analytics.drivers import RuleError
    from tui.runtime.alert_routes import alert_rules, parse_routes

    try:
        routes = parse_routes(config.alert_routes_raw, config.alert_routes_file, config.alerting)
        alert_rules(config, routes)
    except RuleError as exc:
        raise ConfigError(_with_line(exc)) from None


def _with_line(exc: Any) -> str:
    """``file: alerts[2].when: ...`` as ``file:LINE: alerts[2].when: ...`` (the line found in the file)."""
    match = re.match(r"^(alerts|alert_routes)\[(\d+)\](?:\.([A-Za-z0-9_]+))?", exc.path)
    line = None
    if match:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = Path(exc.file).read_text(encoding="utf-8")
            line = array_line(text, match.group(1), int(match.group(2)), match.group(3) or "")
    elif exc.path.startswith("alerting."):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            line = _line_of(Path(exc.file).read_text(encoding="utf-8"), "alerting", exc.path.split(".", 1)[1])
    where = f"{exc.file}:{line}" if line else exc.file
    return f"{where}: {exc.path}: {exc.expected}"


def validate_drivers(config: Config) -> None:
    from analytics.drivers import RuleError, parse_rules

    try:
        parse_rules(config.drivers_raw, config.drivers_file)
    except RuleError as exc:
        raise ConfigError(str(exc)) from None
