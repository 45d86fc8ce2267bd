"""``altpulse status``: the line's formats from a fixed snapshot document, the snapshot cache, and the command.

No network: every snapshot pass here is the demo market or a patched ``tui.commands.snapshot.collect_snapshot``. The
user cache dir is redirected to a temporary directory (``XDG_CACHE_HOME``) in every test.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tui.commands import cache as cache_mod
from tui.commands.cache import (
    cache_key,
    cache_path,
    has_headline_figures,
    read_snapshot_cache,
    refresh_lock,
    write_snapshot_cache,
)
from tui.commands.status_line import age_text, format_offline, format_status, short_money

REPO = Path(__file__).resolve().parents[1]
NOW = 1_760_184_000.0  # 2025-10-11T12:00:00Z
PLAIN = "BTC 97,412 -3.4% · CVD 30d -$6.0B ↓ · fund +0.046% · ETF -$223M · D 8/12"


def _drivers(active: int, total: int) -> list[dict[str, Any]]:
    states = ["active"] * active + ["clear", "unknown"] * total
    return [
        {
            "id": f"r{i}",
            "name": f"rule {i}",
            "state": states[i],
            "value": None,
            "threshold": 0.0,
            "since": None,
            "detail": "",
        }
        for i in range(total)
    ]


def snapshot_doc(mode: str = "live") -> dict[str, Any]:
    """A fixed ``altpulse.snapshot/1`` document (only the parts the status line reads, plus a few others)."""
    return {
        "schema": "altpulse.snapshot/1",
        "mode": mode,
        "simulated": mode == "demo",
        "as_of": "2025-10-11T12:00:00Z",
        "btc": {
            "price": 97412.38,
            "change_24h_pct": -3.43,
            "change_1h_pct": -0.5,
            "ath": 126000.0,
            "drawdown_pct": -22.7,
        },
        "cvd": {
            "since": "2025-01-01",
            "interval": "1d",
            "basket": {
                "cumulative_usd": -4.7e9,
                "change_30d_usd": -6.02e9,
                "buy_sell_ratio": 0.99,
                "buy_sell_ratio_30d": 0.9,
                "excluded": [],
            },
            "coins": {},
        },
        "funding": {
            "interval_hours": 8,
            "baseline": 0.0001,
            "median": 0.00046,
            "share_above_baseline": 0.9,
            "rates": {},
        },
        "etf": {
            "last_day": "2025-10-10",
            "net_flow_usd": -223.1e6,
            "by_fund": {},
            "streak_days": -2,
            "partial_today": False,
        },
        "drivers": _drivers(8, 12),
        "drivers_summary": "8 of 12 drivers active",
        "sources": {
            "btc_ticker": {"provider": "binance", "status": "live", "as_of": "2025-10-11T12:00:00Z", "error": None}
        },
    }


def cached(doc: dict[str, Any], age: float) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["cached_at"] = NOW - age
    return out


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the developer's own ~/.cache/altpulse; colour on unless a test says otherwise."""
    path = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return path


# -- format_status ------------------------------------------------------------------------------------------------
def test_plain_line_is_the_documented_example() -> None:
    assert format_status(cached(snapshot_doc(), 10), "plain", NOW, 120) == PLAIN


def test_plain_line_without_cache_stamp_uses_live_as_of_for_age() -> None:
    doc = snapshot_doc()
    assert format_status(doc, "plain", NOW + 30, 120) == PLAIN
    assert format_status(doc, "plain", NOW + 600, 120) == "stale 10m · " + PLAIN


def test_tmux_line_has_style_codes_around_signed_figures() -> None:
    line = format_status(cached(snapshot_doc(), 10), "tmux", NOW, 120)
    assert line == (
        "BTC 97,412 #[fg=red]-3.4%#[default] · CVD 30d #[fg=red]-$6.0B ↓#[default] · "
        "fund #[fg=yellow]+0.046%#[default] · ETF #[fg=red]-$223M#[default] · D 8/12"
    )
    assert "\n" not in line and "\x1b" not in line


def test_tmux_colours_follow_the_sign() -> None:
    doc = snapshot_doc()
    doc["btc"]["change_24h_pct"] = 2.0
    doc["cvd"]["basket"]["change_30d_usd"] = 1.5e9
    doc["funding"]["median"] = -0.0002
    doc["etf"]["net_flow_usd"] = 51e6
    line = format_status(cached(doc, 0), "tmux", NOW, 120)
    assert "#[fg=green]+2.0%#[default]" in line
    assert "#[fg=green]+$1.5B ↑#[default]" in line
    assert "#[fg=cyan]-0.020%#[default]" in line
    assert "#[fg=green]+$51M#[default]" in line


def test_no_color_drops_every_tmux_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    doc = cached(snapshot_doc("demo"), 10)
    line = format_status(doc, "tmux", NOW, 120)
    assert "#[" not in line
    assert line == format_status(doc, "plain", NOW, 120)
    assert "#[" not in format_offline("tmux")


def test_empty_no_color_keeps_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value disables colour
    assert "#[fg=red]" in format_status(cached(snapshot_doc(), 0), "tmux", NOW, 120)


def test_color_argument_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert "#[fg=red]" in format_status(cached(snapshot_doc(), 0), "tmux", NOW, 120, color=True)


def test_json_is_a_small_stable_object() -> None:
    out = json.loads(format_status(cached(snapshot_doc(), 42), "json", NOW, 120))
    assert list(out) == [
        "schema",
        "mode",
        "simulated",
        "offline",
        "stale",
        "age_seconds",
        "as_of",
        "text",
        "btc_price",
        "btc_change_24h_pct",
        "cvd_change_30d_usd",
        "funding_median_8h",
        "etf_last_day",
        "etf_net_flow_usd",
        "drivers_active",
        "drivers_total",
    ]
    assert out["schema"] == "altpulse.status/1"
    assert out["mode"] == "live" and out["simulated"] is False and out["offline"] is False
    assert out["stale"] is False and out["age_seconds"] == 42
    assert out["text"] == PLAIN
    assert out["btc_price"] == 97412.38 and out["btc_change_24h_pct"] == -3.43
    assert out["cvd_change_30d_usd"] == -6.02e9 and out["funding_median_8h"] == 0.00046
    assert out["etf_last_day"] == "2025-10-10" and out["etf_net_flow_usd"] == -223.1e6
    assert (out["drivers_active"], out["drivers_total"]) == (8, 12)


def test_missing_figures_show_as_dash() -> None:
    doc = snapshot_doc()
    doc["btc"] = {"price": None, "change_24h_pct": None}
    doc["cvd"]["basket"]["change_30d_usd"] = None
    doc["funding"]["median"] = None
    doc["etf"] = {"last_day": None, "net_flow_usd": None}
    doc["drivers"] = []
    doc["cached_at"] = NOW
    assert format_status(doc, "plain", NOW, 120) == "BTC — · CVD 30d — · fund — · ETF — · D —"
    out = json.loads(format_status(doc, "json", NOW, 120))
    assert out["btc_price"] is None and out["drivers_total"] is None and out["etf_last_day"] is None


def test_price_without_change_and_whole_sections_missing() -> None:
    doc = snapshot_doc()
    doc["btc"]["change_24h_pct"] = None
    del doc["funding"], doc["etf"], doc["drivers"]
    doc["cached_at"] = NOW
    assert format_status(doc, "plain", NOW, 120) == "BTC 97,412 — · CVD 30d -$6.0B ↓ · fund — · ETF — · D —"


@pytest.mark.parametrize("bad", ["97412", True, float("nan"), float("inf"), [1], {"x": 1}])
def test_malformed_figures_are_unknown_never_shown(bad: Any) -> None:
    doc = snapshot_doc()
    doc["btc"]["price"] = bad
    doc["funding"]["median"] = bad
    doc["etf"]["last_day"] = "\x1b[2J2025-10-10"
    doc["cached_at"] = NOW
    line = format_status(doc, "plain", NOW, 120)
    assert line.startswith("BTC — · ") and "fund — · " in line
    out = json.loads(format_status(doc, "json", NOW, 120))  # still valid JSON (no NaN)
    assert out["btc_price"] is None and out["etf_last_day"] is None


def test_demo_is_prefixed_sim_in_every_format() -> None:
    doc = cached(snapshot_doc("demo"), 10)
    assert format_status(doc, "plain", NOW, 120) == "SIM " + PLAIN
    assert format_status(doc, "tmux", NOW, 120).startswith("#[fg=black,bg=yellow,bold]SIM#[default] BTC ")
    out = json.loads(format_status(doc, "json", NOW, 120))
    assert out["simulated"] is True and out["text"].startswith("SIM ")


def test_simulated_flag_alone_also_prefixes_sim() -> None:
    doc = cached(snapshot_doc("live"), 10)
    doc["simulated"] = True
    assert format_status(doc, "plain", NOW, 120).startswith("SIM BTC")


def test_replay_is_prefixed_replay() -> None:
    assert format_status(cached(snapshot_doc("replay"), 10), "plain", NOW, 120) == "REPLAY " + PLAIN


@pytest.mark.parametrize(
    ("age", "marker"), [(121, "stale 2m"), (300, "stale 5m"), (3 * 3600, "stale 3h"), (2 * 86400 + 5, "stale 2d")]
)
def test_stale_document_is_marked_never_current(age: float, marker: str) -> None:
    doc = cached(snapshot_doc(), age)
    assert format_status(doc, "plain", NOW, 120) == f"{marker} · {PLAIN}"
    tmux = format_status(doc, "tmux", NOW, 120)
    assert tmux.startswith(f"#[fg=yellow,bold]{marker}#[default] · BTC ")
    out = json.loads(format_status(doc, "json", NOW, 120))
    assert out["stale"] is True and out["age_seconds"] == age


def test_stale_demo_keeps_sim_first() -> None:
    doc = cached(snapshot_doc("demo"), 300)
    assert format_status(doc, "plain", NOW, 120) == "SIM stale 5m · " + PLAIN


def test_max_age_boundary_is_inclusive() -> None:
    assert format_status(cached(snapshot_doc(), 120), "plain", NOW, 120) == PLAIN
    assert format_status(cached(snapshot_doc(), 60), "plain", NOW, 30).startswith("stale 1m · ")


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError):
        format_status(snapshot_doc(), "xml", NOW, 120)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-6.02e9, "-$6.0B"),
        (-223.1e6, "-$223M"),
        (51e6, "+$51M"),
        (9.96e6, "+$10M"),
        (999.7e6, "+$1.0B"),
        (1.234e12, "+$1.2T"),
        (45_300, "+$45K"),
        (512, "+$512"),
        (0, "$0"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_short_money(value: float | None, text: str) -> None:
    assert short_money(value) == text


def test_age_text() -> None:
    assert [age_text(s) for s in (0, 59, 60, 3599, 3600, 86399, 86400)] == ["0s", "59s", "1m", "59m", "1h", "23h", "1d"]


def test_offline_line_in_every_format() -> None:
    assert format_offline("plain") == "altpulse: offline"
    assert format_offline("plain", "demo") == "SIM altpulse: offline"
    assert format_offline("tmux") == "#[fg=red]altpulse: offline#[default]"
    out = json.loads(format_offline("json", reason="snapshot took longer than 20 s"))
    assert out["offline"] is True and out["error"] == "snapshot took longer than 20 s"
    assert out["text"] == "altpulse: offline"


# -- cache --------------------------------------------------------------------------------------------------------
def test_cache_lives_under_xdg_cache_home_per_mode(_isolated_cache: Path) -> None:
    assert cache_path("live") == _isolated_cache / "altpulse" / "snapshot-live.json"
    assert cache_path("demo") == _isolated_cache / "altpulse" / "snapshot-demo.json"
    with pytest.raises(ValueError):
        cache_path("../../etc/passwd")


def test_cache_round_trip() -> None:
    doc = snapshot_doc()
    path = write_snapshot_cache(doc, "live", now=NOW)
    assert path == cache_path("live") and path.is_file()
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []  # the temporary file was renamed
    back = read_snapshot_cache("live", 120, now=NOW + 5)
    assert back is not None
    assert back.pop("cached_at") == NOW
    assert back == doc
    assert "cached_at" not in doc  # the caller's document is not changed


def test_cache_max_age() -> None:
    write_snapshot_cache(snapshot_doc(), "live", now=NOW)
    assert read_snapshot_cache("live", 120, now=NOW + 120) is not None
    assert read_snapshot_cache("live", 120, now=NOW + 121) is None
    stale = read_snapshot_cache("live", None, now=NOW + 3600)  # any age: the stale fallback
    assert stale is not None and stale["cached_at"] == NOW


def test_cache_from_the_future_is_ignored() -> None:
    write_snapshot_cache(snapshot_doc(), "live", now=NOW + 3600)
    assert read_snapshot_cache("live", 120, now=NOW) is None
    assert read_snapshot_cache("live", None, now=NOW) is None


def test_modes_are_separate() -> None:
    write_snapshot_cache(snapshot_doc("demo"), "demo", now=NOW)
    assert read_snapshot_cache("live", 120, now=NOW) is None
    assert read_snapshot_cache("replay", 120, now=NOW) is None
    assert read_snapshot_cache("demo", 120, now=NOW)["mode"] == "demo"  # type: ignore[index]
    with pytest.raises(ValueError):
        write_snapshot_cache(snapshot_doc("demo"), "live")
    assert not cache_path("live").exists()


def test_live_cache_holding_simulated_data_is_rejected() -> None:
    doc = snapshot_doc("live")
    write_snapshot_cache(doc, "live", now=NOW)
    envelope = json.loads(cache_path("live").read_text())
    envelope["doc"]["simulated"] = True
    cache_path("live").write_text(json.dumps(envelope))
    assert read_snapshot_cache("live", 120, now=NOW) is None


def test_cache_key_must_match() -> None:
    key = cache_key(Path("/data/replay"), "2025-10-11T12:00:00Z")
    assert key is not None and "2025-10-11T12:00:00Z" in key
    assert cache_key() is None
    write_snapshot_cache(snapshot_doc("replay"), "replay", key=key, now=NOW)
    assert read_snapshot_cache("replay", 120, key=key, now=NOW) is not None
    assert read_snapshot_cache("replay", 120, now=NOW) is None
    assert read_snapshot_cache("replay", 120, key=cache_key(Path("/data/replay")), now=NOW) is None
    assert cache_key(coins="eth, sol") == "coins=ETH,SOL"


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"cache": "other"}', b"\xff\xfe", b"null"])
def test_corrupt_cache_reads_as_none(content: bytes) -> None:
    path = cache_path("live")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert read_snapshot_cache("live", None) is None


def test_oversized_cache_reads_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    write_snapshot_cache(snapshot_doc(), "live", now=NOW)
    monkeypatch.setattr(cache_mod, "MAX_BYTES", 100)
    assert read_snapshot_cache("live", None, now=NOW) is None


def test_document_without_figures_keeps_the_previous_cache() -> None:
    write_snapshot_cache(snapshot_doc(), "live", now=NOW)
    empty = snapshot_doc()
    empty["btc"]["price"] = None
    empty["cvd"]["basket"]["change_30d_usd"] = None
    empty["funding"]["median"] = None
    empty["etf"]["net_flow_usd"] = None
    assert not has_headline_figures(empty)
    assert write_snapshot_cache(empty, "live", now=NOW + 60) is None
    assert read_snapshot_cache("live", None, now=NOW + 60)["btc"]["price"] == 97412.38  # type: ignore[index]


def test_unwritable_cache_dir_is_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert write_snapshot_cache(snapshot_doc(), "live") is None
    assert read_snapshot_cache("live", None) is None


def test_refresh_lock_is_exclusive() -> None:
    with refresh_lock("live", 1) as first:
        assert first is True
        with refresh_lock("live", 0) as second:
            assert second is False
    with refresh_lock("live", 0) as again:
        assert again is True


def test_snapshot_command_writes_the_cache(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.commands.snapshot import run_snapshot

    async def fake_collect(config: Any, mode: str, replay_dir: Any, at: Any, **_: Any) -> dict[str, Any]:
        return snapshot_doc(mode)

    monkeypatch.setattr("tui.commands.snapshot.collect_snapshot", fake_collect)
    from tui.runtime.config import load_config

    assert run_snapshot(load_config(use_user_file=False), "demo", replay_dir=None, at=None, as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "demo"
    assert read_snapshot_cache("demo", 120)["mode"] == "demo"  # type: ignore[index]
    assert read_snapshot_cache("live", None) is None


# -- the command --------------------------------------------------------------------------------------------------
def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from tui import cli

    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def no_feeds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make any snapshot pass fail loudly; records the modes it was asked for."""
    calls: list[str] = []

    async def boom(config: Any, mode: str, replay_dir: Any, at: Any) -> dict[str, Any]:
        calls.append(mode)
        raise RuntimeError("feeds must not run")

    monkeypatch.setattr("tui.commands.snapshot.collect_snapshot", boom)
    return calls


def test_status_reads_a_fresh_cache_without_running_feeds(
    no_feeds: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot_cache(snapshot_doc(), "live")
    # The config is not even loaded on this path.
    monkeypatch.setattr("tui.runtime.config.load_config", lambda *a, **k: pytest.fail("config loaded"))
    code, out, err = _main(["status", "--format", "plain"], capsys)
    assert (code, out, err) == (0, PLAIN + "\n", "")
    assert no_feeds == []


def test_status_tmux_and_json_from_cache(no_feeds: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    write_snapshot_cache(snapshot_doc("demo"), "demo")
    code, out, _ = _main(["status", "--demo", "--format", "tmux"], capsys)
    assert code == 0 and out.startswith("#[fg=black,bg=yellow,bold]SIM#[default] BTC 97,412 #[fg=red]-3.4%")
    code, out, _ = _main(["--demo", "status", "--format", "json"], capsys)  # mode before the subcommand works too
    assert code == 0 and json.loads(out)["text"] == "SIM " + PLAIN


def test_status_never_shows_demo_figures_as_live(no_feeds: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    write_snapshot_cache(snapshot_doc("demo"), "demo")
    code, out, err = _main(["status"], capsys)
    assert code == 1 and out == "altpulse: offline\n"
    assert no_feeds == ["live"]
    assert err.count("\n") == 1 and err.startswith("altpulse: status: snapshot failed: RuntimeError")


def test_status_recomputes_a_stale_cache(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write_snapshot_cache(snapshot_doc(), "live", now=time.time() - 600)
    fresh = snapshot_doc()
    fresh["btc"]["price"] = 101_000.0

    async def collect(config: Any, mode: str, replay_dir: Any, at: Any) -> dict[str, Any]:
        return fresh

    monkeypatch.setattr("tui.commands.snapshot.collect_snapshot", collect)
    code, out, err = _main(["status"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("BTC 101,000 -3.4% · ") and "stale" not in out
    assert read_snapshot_cache("live", 120)["btc"]["price"] == 101_000.0  # type: ignore[index]


def test_status_failure_shows_stale_figures_marked(no_feeds: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    write_snapshot_cache(snapshot_doc(), "live", now=time.time() - 605)
    code, out, err = _main(["status", "--max-age", "60"], capsys)
    assert code == 1
    assert out == f"stale 10m · {PLAIN}\n"
    assert len(err.splitlines()) == 1 and "showing figures from 10m ago" in err


def test_status_when_no_feed_answers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    empty = snapshot_doc()
    empty["btc"]["price"] = None
    empty["cvd"]["basket"]["change_30d_usd"] = None
    empty["funding"]["median"] = None
    empty["etf"]["net_flow_usd"] = None
    empty["sources"]["btc_ticker"]["error"] = "binance /api/v3/ticker/24hr: connection failed"

    async def collect(config: Any, mode: str, replay_dir: Any, at: Any) -> dict[str, Any]:
        return empty

    monkeypatch.setattr("tui.commands.snapshot.collect_snapshot", collect)
    code, out, err = _main(["status", "--format", "tmux"], capsys)
    assert code == 1 and out == "#[fg=red]altpulse: offline#[default]\n"
    assert (
        err == "altpulse: status: no figures from any feed: btc_ticker (binance /api/v3/ticker/24hr: connection "
        "failed)\n"
    )
    assert not cache_path("live").exists()


def test_status_timeout_is_bounded(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    async def slow(config: Any, mode: str, replay_dir: Any, at: Any) -> dict[str, Any]:
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    monkeypatch.setattr("tui.commands.snapshot.collect_snapshot", slow)
    code, out, err = _main(["status", "--timeout", "0.2", "--format", "json"], capsys)
    assert code == 1
    assert json.loads(out)["offline"] is True
    assert err == "altpulse: status: snapshot took longer than 0.2 s\n"


def test_status_config_error_still_prints_a_line(
    tmp_path: Path, no_feeds: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[general]\ncoins = 3\n")
    code, out, err = _main(["status", "--config", str(bad)], capsys)
    assert code == 2 and out == "altpulse: offline\n"
    assert len(err.splitlines()) == 1 and "config error" in err and str(bad) in err


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--max-age", "-1"],
        ["status", "--max-age", "soon"],
        ["status", "--timeout", "nan"],
        ["status", "--format", "xml"],
        ["status", "--at", "2025-10-11"],
    ],
)
def test_status_bad_arguments(argv: list[str], no_feeds: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(argv, capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert no_feeds == []


def test_status_demo_end_to_end(_isolated_cache: Path) -> None:
    """The real command on the simulated market: one line, exit 0, SIM and BTC; the second call reads the cache."""
    env = {**os.environ, "XDG_CACHE_HOME": str(_isolated_cache), "NO_COLOR": "1"}
    # The pass's own bound raised from the 20 s default: the demo builds and serves its whole market in-process,
    # which on a loaded 2-CPU machine takes longer than a status bar should wait (that bound is tested above).
    cmd = [sys.executable, "-m", "tui.cli", "status", "--demo", "--format", "plain", "--timeout", "100"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    lines = first.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("SIM BTC ") and " · D " in lines[0] and "—" not in lines[0]
    assert (_isolated_cache / "altpulse" / "snapshot-demo.json").is_file()
    assert not (_isolated_cache / "altpulse" / "snapshot-live.json").exists()
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO, env=env)
    assert (second.returncode, second.stdout) == (0, first.stdout)
