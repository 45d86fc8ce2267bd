"""Config loading: defaults documented in config.toml, key-by-key overrides, errors naming file, line and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tui.runtime.config import DEFAULTS, ConfigError, load_config, user_config_path

REPO = Path(__file__).resolve().parents[1]


def test_config_toml_documents_exactly_the_defaults() -> None:
    documented = tomllib.loads((REPO / "config.toml").read_text())
    drivers = documented.pop("drivers", None)
    assert documented == DEFAULTS
    from analytics.drivers import default_rules

    assert drivers == default_rules()


def test_defaults_load_without_files() -> None:
    config = load_config(use_user_file=False)
    assert config.coins[0] == "ETH"
    assert config.cvd_start.isoformat() == "2025-01-01"
    assert config.files == []


def test_user_file_overrides_key_by_key_and_explicit_file_wins(tmp_path: Path) -> None:
    user = user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text('[general]\ncoins = ["SOL"]\n[cadence]\nbtc_ticker = 5\n')
    explicit = tmp_path / "x.toml"
    explicit.write_text("[cadence]\nbtc_ticker = 9.5\n")
    config = load_config(explicit)
    assert config.coins == ["SOL"]
    assert config["cadence"]["btc_ticker"] == 9.5
    assert config["cadence"]["cvd_daily"] == DEFAULTS["cadence"]["cvd_daily"]
    assert config.files == [str(user), str(explicit)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[general]\ncoinz = []\n", [":2:", "unknown key 'general.coinz'", "expected one of"]),
        ('[general]\n\nbell = "yes"\n', [":3:", "general.bell", "true or false", "'yes'"]),
        ("[cadence]\nfunding = -1\n", [":2:", "cadence.funding", "positive"]),
        ('[cvd]\nstart = "2025-13-40"\n', ["cvd.start", "a date like 2025-01-01"]),
        ('[sources]\nbybit = "ftp://x"\n', ["sources.bybit", "URL"]),
        ("[nope]\nx = 1\n", [":1:", "unknown section [nope]"]),
        ("general = 3\n", ["'general' must be a table"]),
        ("[general\ncoins = 1\n", ["invalid TOML", "line 1"]),
        ("[keys]\nrefresh = 5\n", ["keys.refresh", "key name"]),
        ("[keys]\nreload = \"F5\"\n", [":2:", "unknown key action 'keys.reload'", "refresh"]),
        ("drivers = 3\n", ["'drivers' must be an array of tables"]),
        ('[[drivers]]\nid = "x"\n', ["drivers[0]"]),
    ],
)
def test_errors_name_file_line_key_and_expected(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, use_user_file=False)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_missing_explicit_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[general]\ntheme = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, use_user_file=False)
