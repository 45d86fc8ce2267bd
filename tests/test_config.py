"""Config loading: every default in the shipped config.toml, key-by-key overrides, errors naming file, line and key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
import typing
from pathlib import Path

import pytest

from tui.runtime.config import SCHEMA, Config, ConfigError, load_config, user_config_path
from tui.runtime.config_schema import SECTIONS

SHIPPED = Path(__file__).resolve().parents[1] / "config.toml"


def test_shipped_file_parses_and_sets_every_schema_key() -> None:
    shipped = tomllib.loads(SHIPPED.read_text())
    for section, specs in SCHEMA.items():
        for key in specs:
            assert key in shipped[section], f"config.toml does not set {section}.{key}"
    config = load_config(use_user_file=False)
    assert config.drivers_file == str(SHIPPED)
    assert config.drivers_raw == shipped["drivers"]
    for section, specs in SCHEMA.items():
        for key in specs:
            parsed = getattr(getattr(config, section), key)
            assert parsed == specs[key].convert(shipped[section][key]), f"{section}.{key}"


def test_a_key_missing_from_the_shipped_file_is_an_error_naming_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "config.toml"
    broken.write_text(SHIPPED.read_text().replace("hourly_days = 30", ""))
    monkeypatch.setattr("tui.runtime.config.CHECKOUT_CONFIG", broken)
    with pytest.raises(ConfigError) as info:
        load_config(use_user_file=False)
    assert str(broken) in str(info.value) and "missing key 'cvd.hourly_days'" in str(info.value)


def test_the_shipped_file_is_validated_like_a_user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "config.toml"
    broken.write_text(SHIPPED.read_text().replace("bell = false", 'bell = "no"'))
    monkeypatch.setattr("tui.runtime.config.CHECKOUT_CONFIG", broken)
    with pytest.raises(ConfigError, match=r"config\.toml:\d+: general\.bell: expected true or false, got 'no'"):
        load_config(use_user_file=False)


def test_the_installed_copy_is_used_without_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "share" / "altpulse" / "config.toml"
    installed.parent.mkdir(parents=True)
    installed.write_text(SHIPPED.read_text().replace("btc_ticker = 2.0", "btc_ticker = 7.0"))
    monkeypatch.setattr("tui.runtime.config.CHECKOUT_CONFIG", tmp_path / "absent" / "config.toml")
    monkeypatch.setattr("sys.prefix", str(tmp_path))
    config = load_config(use_user_file=False)
    assert config.cadence.btc_ticker == 7.0
    assert config.drivers_file == str(installed)
    installed.unlink()
    with pytest.raises(ConfigError, match=r"shipped config\.toml .* is missing"):
        load_config(use_user_file=False)


def test_defaults_load_without_files() -> None:
    config = load_config(use_user_file=False)
    assert config.general.coins[0] == "ETH"
    assert config.cvd.start == dt.date(2025, 1, 1)
    assert config.files == ()
    assert config.keys == {}


def test_user_file_overrides_key_by_key_and_explicit_file_wins(tmp_path: Path) -> None:
    user = user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text('[general]\ncoins = ["SOL"]\n[cadence]\nbtc_ticker = 5\n[[drivers]]\nid = "mine"\nname = "Mine"\n'
                    'meaning = "Mine."\nconditions = [{ metric = "fear_greed", op = "<", threshold = 10 }]\n')
    explicit = tmp_path / "x.toml"
    explicit.write_text("[cadence]\nbtc_ticker = 9.5\n")
    shipped = tomllib.loads(SHIPPED.read_text())
    config = load_config(explicit)
    assert config.general.coins == ("SOL",)
    assert config.cadence.btc_ticker == 9.5
    assert config.cadence.cvd_daily == shipped["cadence"]["cvd_daily"]  # untouched keys keep the default
    assert config.general.theme == shipped["general"]["theme"]
    assert [r["id"] for r in config.drivers_raw] == ["mine"]  # [[drivers]] in a file replaces the whole list
    assert config.drivers_file == str(user)
    assert config.files == (str(user), str(explicit))


def test_values_are_converted_once_to_their_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "typed.toml"
    path.write_text('[general]\ncoins = ["eth", "Sol"]\n[cvd]\nstart = 2024-06-01\n[cadence]\nfunding = 45\n'
                    '[funding]\nbaseline_8h = 0\n[keys]\nrefresh = "F5"\n')
    config = load_config(path, use_user_file=False)
    assert config.general.coins == ("ETH", "SOL")
    assert config.cvd.start == dt.date(2024, 6, 1)  # a TOML date as well as a string
    assert config.cadence.funding == 45.0 and isinstance(config.cadence.funding, float)  # TOML ints accepted
    assert isinstance(config.funding.baseline_8h, float)
    assert config.keys == {"refresh": "F5"}
    for name in SCHEMA:
        if name == "keys":
            continue
        section = getattr(config, name)
        for field in dataclasses.fields(section):
            assert _has_type(getattr(section, field.name), typing.get_type_hints(type(section))[field.name]), (
                f"{name}.{field.name}"
            )


def _has_type(value: object, hint: object) -> bool:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return isinstance(value, tuple) and all(isinstance(v, typing.get_args(hint)[0]) for v in value)
    assert isinstance(hint, type)
    return isinstance(value, hint) and not (hint is not bool and isinstance(value, bool))


def test_market_cvd_exclusions_are_read_upper_case_with_their_groups() -> None:
    config = load_config(use_user_file=False)
    # The shipped file names the groups the market CVD leaves out: stablecoins, wrapped / pegged, leveraged tokens.
    assert {"USDC", "FDUSD", "DAI"} <= set(config.cvd.market_exclude)
    assert {"WBTC", "WBETH", "PAXG"} <= set(config.cvd.market_exclude)
    assert {"*UP", "*DOWN", "*BULL", "*BEAR"} <= set(config.cvd.market_exclude_patterns)
    changed = config.with_overrides("cvd", market_exclude=["usdc"], market_exclude_patterns=["*bull"])
    assert changed.cvd.market_exclude == ("USDC",) and changed.cvd.market_exclude_patterns == ("*BULL",)


def test_the_schema_is_read_off_the_section_dataclasses() -> None:
    assert list(SCHEMA) == [*SECTIONS, "keys"]
    for name, cls in SECTIONS.items():
        fields = dataclasses.fields(cls)
        assert list(SCHEMA[name]) == [f.name for f in fields]
        assert all(f.default is dataclasses.MISSING for f in fields)  # no second copy of a default in code
    assert [f.name for f in dataclasses.fields(Config)][: len(SECTIONS)] == list(SECTIONS)


def test_config_is_frozen_and_with_overrides_checks_like_a_file() -> None:
    config = load_config(use_user_file=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.general = config.general  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.keys["refresh"] = "F5"  # type: ignore[index]
    changed = config.with_overrides("cadence", funding=5).with_overrides("general", coins=["doge"])
    assert changed.cadence.funding == 5.0 and isinstance(changed.cadence.funding, float)
    assert changed.general.coins == ("DOGE",)
    assert changed.cadence.btc_ticker == config.cadence.btc_ticker
    assert config.cadence.funding == 30.0 and config.general.coins[0] == "ETH"  # the original is untouched
    assert changed.with_overrides("keys", pause="x").keys == {"pause": "x"}
    for section, values, needles in [
        ("cadence", {"funding": -1}, ["cadence.funding", "positive", "-1"]),
        ("cvd", {"start": "2025-13-40"}, ["cvd.start", "a date like 2025-01-01"]),
        ("general", {"colour": 1}, ["unknown key 'general.colour'", "expected one of"]),
        ("nope", {"x": 1}, ["unknown section [nope]"]),
        ("keys", {"reload": "F5"}, ["unknown key action 'keys.reload'"]),
    ]:
        with pytest.raises(ConfigError) as info:
            config.with_overrides(section, **values)
        assert all(n in str(info.value) for n in needles), str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[general]\ncoinz = []\n", [":2:", "unknown key 'general.coinz'", "expected one of"]),
        ('[general]\n\nbell = "yes"\n', [":3:", "general.bell", "true or false", "'yes'"]),
        ("[cadence]\nfunding = -1\n", [":2:", "cadence.funding", "positive"]),
        ('[cvd]\nstart = "2025-13-40"\n', ["cvd.start", "a date like 2025-01-01"]),
        ('[sources]\nbybit = "ftp://x"\n', ["sources.bybit", "URL"]),
        ('[cvd]\nstart = 2025-01-01\nmarket_exclude = ["USDC", "W BTC"]\n',
         [":3:", "cvd.market_exclude", "base assets", "'W BTC'"]),
        ('[cvd]\nmarket_exclude = "USDC"\n', [":2:", "cvd.market_exclude", "a list of base assets"]),
        ('[cvd]\n\nmarket_exclude_patterns = ["*UP", "BULL"]\n',
         [":3:", "cvd.market_exclude_patterns", "one * standing for a listed coin", "'BULL'"]),
        ('[cvd]\nmarket_exclude_patterns = ["*"]\n', [":2:", "cvd.market_exclude_patterns"]),
        ('[cvd]\nmarket_exclude_patterns = ["*UP*"]\n', [":2:", "cvd.market_exclude_patterns"]),
        ("[cadence]\ncvd_market = 0\n", [":2:", "cadence.cvd_market", "positive"]),
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
