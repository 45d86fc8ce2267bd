"""The command line: clear one-line errors (never a traceback) and the snapshot command's JSON schema."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main

REPO = Path(__file__).resolve().parents[1]


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--demo", "--replay", "/tmp"], "not allowed with argument"),
        (["--at", "2025-01-01"], "--at only applies with --replay"),
        (["--replay", "/definitely/not/here"], "does not exist (a folder of files or a store)"),
        (["--coins", "ETH,[bold]"], "--coins"),
        (["--config", "/definitely/not/here.toml"], "config file not found"),
        (["snapshot", "--speed", "x"], "invalid float value"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(argv, capsys)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_bad_config_value_names_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text('[cadence]\nbtc_ticker = "fast"\n')
    code, _, err = run_main(["--config", str(bad), "snapshot", "--demo"], capsys)
    assert code == 2
    assert f"{bad}:2" in err and "cadence.btc_ticker" in err and "seconds" in err


def test_demo_snapshot_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["snapshot", "--demo", "--json", "--coins", "ETH,SOL,DOGE"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "altpulse.snapshot/1"
    assert doc["mode"] == "demo" and doc["simulated"] is True
    assert doc["as_of"].endswith("Z")
    btc = doc["btc"]
    assert 10_000 < btc["price"] < 500_000
    assert btc["ath"] >= btc["price"]
    assert btc["drawdown_pct"] == pytest.approx((btc["price"] / btc["ath"] - 1) * 100)
    cvd = doc["cvd"]
    assert cvd["since"] == "2025-01-01"
    assert set(cvd["coins"]) == {"ETH", "SOL", "DOGE"}
    total = sum(c["cumulative_usd"] for c in cvd["coins"].values())
    assert cvd["basket"]["cumulative_usd"] == pytest.approx(total, rel=1e-9)
    assert cvd["basket"]["buy_sell_ratio_30d"] < 1  # the demo market bleeds with net taker selling
    # The whole Binance spot market beside the basket (issue 13: >= 150 pairs), and the basket's perp CVD.
    market = cvd["market"]
    assert market["pairs"] >= 150 and market["cumulative_usd"] < 0 and market["buy_sell_ratio"] is not None
    assert cvd["perp"]["basket"]["cumulative_usd"] is not None and set(cvd["perp"]["coins"]) >= {"ETH", "SOL"}
    funding = doc["funding"]
    eth = funding["coins"]["ETH"]
    assert set(eth["predicted"]) == {"binance", "bybit", "okx", "hyperliquid"}
    assert eth["predicted"]["binance"] == pytest.approx(funding["rates"]["ETH"]["binance"])
    rates = list(eth["predicted"].values())
    assert min(rates) <= eth["oi_weighted"] <= max(rates)  # a weighted mean of the venues' rates
    assert min(r for c in funding["rates"].values() for r in c.values()) <= funding["oi_weighted"]
    assert eth["basis_pct"] is not None and all(t.endswith("Z") for t in eth["next_time"].values())
    # Every perp the venues list, not only the basket's: the demo's long tail is on the board.
    assert len(funding["rates"]) >= 200 and sum(len(v) == 4 for v in funding["rates"].values()) >= 20
    # A pass that did not listen to the streams reads the recorded tape, every venue on it: the cascade is known.
    liq = doc["liquidations"]
    assert liq["cascade"] is not None and liq["counted_venues"] == ["binance", "bybit", "okx"]
    assert {v["state"] for v in liq["venues"].values()} == {"recorded"}
    assert {v["records"] for v in liq["venues"].values()} == {None}  # nothing listened to: no count, not 0
    cascade = next(d for d in doc["drivers"] if d["id"] == "liquidation_cascade")
    assert cascade["state"] != "unknown" and "recorded tape" in cascade["quality"]
    # Long/short ratios for BTC and every basket coin: accounts on Binance and Bybit, top traders on Binance.
    long_short = doc["long_short"]
    assert list(long_short) == ["BTC", "ETH", "SOL", "DOGE"]
    for coin, sides in long_short.items():
        for entry in (sides["accounts"]["binance"], sides["accounts"]["bybit"], sides["top_positions"]["binance"]):
            assert entry is not None and entry["ratio"] > 0 and 0 < entry["long_pct"] < 100, coin
            assert entry["ratio"] == pytest.approx(entry["long_pct"] / (100 - entry["long_pct"]), rel=0.01)
            assert entry["time"].endswith("Z")
    assert {"long_short_binance", "long_short_bybit"} <= set(doc["sources"])
    for source in doc["sources"].values():
        assert source["status"] == "live" and source["error"] is None and source["as_of"].endswith("Z")
    assert doc["sources"]["llama_stablecoins"]["provider"] == "defillama"
    # No driver is blind at start: dominance and stablecoin rotation rest on the estimate, and say so.
    drivers = {d["id"]: d for d in doc["drivers"]}
    for rule, source in (("btc_dominance_rising", "30-day price changes of the top 100 coins"),
                         ("stablecoin_rotation", "DefiLlama's stablecoin supply")):  # fmt: skip
        assert drivers[rule]["state"] != "unknown" and drivers[rule]["value"] is not None
        assert source in drivers[rule]["quality"] and "measured history takes over" in drivers[rule]["quality"]
    assert doc["macro"]["btc_dominance_change_30d"] == drivers["btc_dominance_rising"]["value"]
    # Every default driver has a value from the first pass (issue 13: no driver blind at start).
    assert [d["id"] for d in doc["drivers"] if d["state"] == "unknown"] == []
    # The "why" line (issue 15): its parts are the active drivers' figures, as their panes show them, ranked.
    explain = doc["explain"]
    assert explain["head"] == f"BTC {btc['change_24h_pct']:+.2f}% 24h" and explain["text"].startswith(explain["head"])
    active = {d["id"] for d in doc["drivers"] if d["state"] == "active"}
    parts = explain["parts"]
    assert parts and {p["driver"] for p in parts} <= active
    assert all(p["phrase"] in explain["text"] and p["text"] in p["phrase"] and p["pane"] for p in parts)
    scores = [p["distance"] for p in parts if p["distance"] is not None]
    assert scores == sorted(scores, reverse=True) and all(s >= 1 for s in scores)  # past the threshold, best first


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_snapshot_without_network_fails_cleanly(tmp_path: Path) -> None:
    """Every source unreachable: a message per failed source on stderr, exit 1, no traceback, JSON still out."""
    port = _closed_port()
    config = tmp_path / "offline.toml"
    config.write_text(
        f'[sources]\nbinance_spot = "http://127.0.0.1:{port}"\ntimeout_seconds = 2\n'
        '[general]\ncoins = ["ETH", "SOL"]\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--config", str(config), "snapshot", "--json"],
        capture_output=True, text=True, timeout=90, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "btc_ticker (binance) failed: binance /api/v3/ticker/24hr: connection failed" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["btc"]["price"] is None
    assert doc["sources"]["cvd_daily"]["status"] in ("retrying", "offline")


def test_follow_without_a_store_is_one_clear_line_before_any_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["--follow", str(tmp_path / "none.sqlite")], capsys)
    assert code == 2 and out == ""
    missing = tmp_path / "none.sqlite"
    assert err.strip() == f"altpulse: --follow: {missing}: no such store (start `altpulse collect` first)"
