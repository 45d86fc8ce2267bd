"""Fuzzing the config loader and the command line: every bad input is one clean error naming the file and key
(config) or a usage line (CLI), never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.runtime.config import SCHEMA, ConfigError, load_config

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

KEY = st.one_of(st.sampled_from(sorted({k for table in SCHEMA.values() for k in table} | {"drivers", "keys"})),
                st.text("abcdefghijklmnopqrstuvwxyz_.-", min_size=1, max_size=12))  # fmt: skip
SCALAR = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(max_size=20), st.dates(), st.sampled_from(["2025-01-01", "https://x.example", "ws://127.0.0.1:1/x", ""]),
)  # fmt: skip
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=4), st.lists(st.text(max_size=6), max_size=4))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a TOML basic string (surrogates make invalid TOML: also a clean error)


def toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines: list[str] = []
    sections = draw(st.lists(st.one_of(st.sampled_from([*SCHEMA, "bogus"]), KEY), max_size=4, unique=True))
    for section in sections:
        lines.append(f"[{toml_key(section)}]")
        known = sorted(SCHEMA.get(section, {}))
        keys = draw(st.lists(st.one_of(st.sampled_from(known), KEY) if known else KEY, max_size=4, unique=True))
        lines += [f"{toml_key(k)} = {toml_value(draw(VALUE))}" for k in keys]
    for _ in range(draw(st.integers(0, 2))):
        lines.append("[[drivers]]")
        keys = draw(st.lists(st.sampled_from(["name", "metric", "op", "threshold", "window", "meaning", "x"]),
                             max_size=6, unique=True))  # fmt: skip
        lines += [f"{k} = {toml_value(draw(VALUE))}" for k in keys]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=30)))  # raw garbage line
    return "\n".join(lines) + "\n"


@SETTINGS
@given(doc=documents())
def test_config_loader_only_raises_config_error(tmp_path: Path, doc: str) -> None:
    path = tmp_path / "fuzz.toml"
    try:
        path.write_text(doc, encoding="utf-8", errors="surrogatepass")
    except UnicodeEncodeError:
        return
    try:
        load_config(path, use_user_file=False)
    except ConfigError as exc:
        message = str(exc)
        assert str(path) in message, message
        assert "Traceback" not in message
        if "unknown key '" in message or ": expected " in message:
            assert re.search(r"\b[\w-]+\.[^\s:]+", message), message  # names section.key


@pytest.mark.parametrize(
    ("doc", "needles"),
    [
        ("[cadence]\nfunding = -1\n", ["cadence.funding", "positive"]),
        ("[sources]\nokx = 5\n", ["sources.okx", "URL"]),
        ("[general]\ncolor = 1\n", ["general.color", "unknown key"]),
        ("[nope]\n", ["[nope]", "unknown section"]),
        ("[general\n", ["invalid TOML"]),
        ("general = 3\n", ["general", "must be a table"]),
    ],
)
def test_config_errors_name_file_key_and_expectation(tmp_path: Path, doc: str, needles: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(doc)
    with pytest.raises(ConfigError) as err:
        load_config(path, use_user_file=False)
    assert str(path) in str(err.value)
    for needle in needles:
        assert needle in str(err.value)


ARG = st.one_of(
    st.sampled_from(["--demo", "--replay", "--at", "--speed", "--config", "--coins", "--log-file", "--json",
                     "snapshot", "-h", "--help", "--bogus", "status", "", "-", "--", "0", "-1", "nan", "1e999",
                     "2025-13-45", "/nonexistent/dir", "ETH,SOL", ",,,", "[bold]X", "\x1b[2J"]),
    st.text(max_size=12),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(ARG, max_size=6))
def test_cli_never_shows_a_traceback(argv: list[str], capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # fmt: skip
    from tui import cli

    # Parse and config stages only: the console, the snapshot's data pass and the status line's refresh are
    # replaced by stubs (no network); a fuzzed --log-file lands in a temporary directory, not the checkout.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tui.commands.snapshot.run_snapshot", lambda *a, **k: 0)
    monkeypatch.setattr("tui.commands.status_line.run_status", lambda *a, **k: 0)
    monkeypatch.setattr("tui.app.app.AltpulseApp.run", lambda self, *a, **k: None)
    argv = [a for a in argv if "\x00" not in a]
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert info.value.code in (0, 1, 2, None)
    assert "Traceback" not in err and "Traceback" not in out
    if info.value.code == 2:
        assert err.strip() and len(err.strip().splitlines()) <= 3, err
    assert "unexpected error" not in err, err
