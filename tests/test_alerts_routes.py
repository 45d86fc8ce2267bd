"""Alerts leaving the process: a command reading the JSON on stdin, webhooks (json, ntfy, slack, discord) against a
real HTTP server on 127.0.0.1, failing routes reported without stopping anything, ``altpulse watch`` on the demo,
the alert screen and config errors with file, line and key."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from analytics.alerts import Alert
from tests.conftest import FROZEN_NOW_MS
from tui.runtime.alert_routes import AlertLog, Route, Router, read_alert_log
from tui.runtime.config import ConfigError, load_config

ALTPULSE = [sys.executable, "-m", "tui.cli"]
RECORDER = "import json, sys; doc = json.load(sys.stdin); open(sys.argv[1], 'a').write(json.dumps(doc) + '\\n')"


class Hooks:
    """A webhook receiver on 127.0.0.1: records each POST (path, headers, body); answers ``statuses`` in turn."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hooks.posts.append((self.path, dict(self.headers), body))
                self.send_response(hooks.statuses.pop(0) if hooks.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Any:
    server = Hooks()
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alert(**kw: Any) -> Alert:
    base = dict(rule="btc", kind="threshold", subject="BTC price", name="BTC < 90000", state="active", previous="clear",
                value=89_900.0, threshold=90_000.0, time_ms=FROZEN_NOW_MS, mode="demo", simulated=True,
                text="[SIMULATED] BTC < 90000: BTC price 89,900.00 < 90,000.00", routes=("r",))  # fmt: skip
    return Alert(**{**base, **kw})


async def deliver(route: Route, tmp_path: Path, **kw: Any) -> dict[str, Any]:
    router = Router({"r": route}, AlertLog(tmp_path / "alerts.jsonl"), backoff=0.01)
    entry = router.dispatch(alert(**kw))
    await router.drain(30)
    await router.aclose()
    return entry


async def test_a_command_reads_the_alert_json_on_stdin_without_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "got.jsonl"
    entry = await deliver(Route("r", "command", (sys.executable, "-c", RECORDER, str(out))), tmp_path)
    assert entry["deliveries"] == [{"route": "r", "status": "sent", "detail": f"exit 0 in {sys.executable}"}]
    [doc] = [json.loads(line) for line in out.read_text().splitlines()]
    assert doc["schema"] == "altpulse.alert/1" and doc["id"] == "btc" and doc["simulated"] is True
    assert doc["text"].startswith("[SIMULATED] ") and doc["value"] == 89_900.0 and doc["threshold"] == 90_000.0
    # The log file holds the settled entry, with where it was sent.
    [logged] = read_alert_log(tmp_path / "alerts.jsonl")
    assert logged["uid"] == doc["uid"] and logged["deliveries"][0]["status"] == "sent"


@pytest.mark.parametrize(("argv", "words"), [
    ([sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(1)"], "exit 1: boom"),
    ([sys.executable, "-c", "import time; time.sleep(30)"], "timed out after 0.5 s"),
    (["/nonexistent/altpulse-hook"], "No such file"),
])  # fmt: skip
async def test_a_failing_command_is_reported_not_raised(tmp_path: Path, argv: list[str], words: str) -> None:
    router = Router({"r": Route("r", "command", tuple(argv), timeout=0.5)}, AlertLog(None))
    entry = router.dispatch(alert())
    await router.drain(10)
    [d] = entry["deliveries"]
    assert d["status"] == "failed" and words in d["detail"]
    assert router.problem is not None and router.problem.startswith("alert route r failed: ")


async def test_webhook_templates_post_what_each_service_reads(tmp_path: Path, hooks: Hooks) -> None:
    await deliver(Route("r", "webhook", url=f"{hooks.url}/json"), tmp_path)
    await deliver(Route("r", "webhook", url=f"{hooks.url}/my-topic", template="ntfy", priority="high",
                        tags=("warning", "chart_with_downwards_trend")), tmp_path)  # fmt: skip
    await deliver(Route("r", "webhook", url=f"{hooks.url}/slack", template="slack"), tmp_path)
    await deliver(Route("r", "webhook", url=f"{hooks.url}/discord", template="discord"), tmp_path, text="x" * 2500)
    (p1, h1, b1), (p2, h2, b2), (p3, _, b3), (p4, _, b4) = hooks.posts
    assert (p3, p4) == ("/slack", "/discord")
    assert p1 == "/json" and json.loads(b1)["schema"] == "altpulse.alert/1" and "json" in h1["Content-Type"]
    assert p2 == "/my-topic" and b2.decode() == alert().text
    assert h2["Title"] == "altpulse: BTC < 90000" and h2["Priority"] == "high"
    assert h2["Tags"] == "warning,chart_with_downwards_trend"
    assert json.loads(b3) == {"text": alert().text}
    assert json.loads(b4) == {"content": "x" * 2000}  # Discord's content limit


async def test_a_webhook_retries_5xx_with_back_off_and_gives_up_on_4xx(tmp_path: Path) -> None:
    server = Hooks([503, 500, 200, 404])
    try:
        ok = await deliver(Route("r", "webhook", url=server.url, retries=3), tmp_path)
        bad = await deliver(Route("r", "webhook", url=server.url, retries=3), tmp_path)
    finally:
        server.close()
    assert ok["deliveries"][0]["status"] == "sent" and "after 2 retries" in ok["deliveries"][0]["detail"]
    assert bad["deliveries"][0] == {"route": "r", "status": "failed", "detail": "HTTP 404"}
    assert len(server.posts) == 4


async def test_a_refused_webhook_fails_after_its_retries(tmp_path: Path) -> None:
    entry = await deliver(Route("r", "webhook", url=f"http://127.0.0.1:{closed_port()}/x", retries=2), tmp_path)
    [d] = entry["deliveries"]
    assert d["status"] == "failed" and "ConnectError" in d["detail"] and "(3 attempts)" in d["detail"]


async def test_a_follower_sends_nothing_external(tmp_path: Path) -> None:
    router = Router({"r": Route("r", "command", ("true",))}, AlertLog(None), external=False)
    entry = router.dispatch(alert())
    assert entry["deliveries"][0]["status"] == "skipped" and not router.tasks


def test_config_errors_in_alerts_name_file_line_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[general]\nbell = false\n\n[[alerts]]\nid = "ok"\n\n[[alerts]]\nid = "bad"\n# a comment\n'
                   'when = "BTC ~ 9"\n')  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_config(cfg, use_user_file=False)
    assert str(err.value).startswith(f"{cfg}:10: alerts[1].when: expected 'METRIC OP NUMBER'")
    cfg.write_text('[[alert_routes]]\nname = "phone"\ntype = "webhook"\nurl = "ftp://x"\n')
    with pytest.raises(ConfigError) as err:
        load_config(cfg, use_user_file=False)
    assert str(err.value).startswith(f"{cfg}:4: alert_routes[0].url: expected an http(s) URL")
    cfg.write_text('[[alerts]]\nid = "x"\nroutes = ["phone"]\n')
    with pytest.raises(ConfigError, match=r"c.toml:3: alerts\[0\].routes: unknown route 'phone'"):
        load_config(cfg, use_user_file=False)


async def test_the_alert_screen_lists_alerts_and_the_status_bar_a_failing_route() -> None:
    from textual.widgets import DataTable

    from tui.app.alerts_screen import AlertsScreen
    from tui.app.app import AltpulseApp
    from widgets.status_bar import StatusBar

    config = load_config(use_user_file=False).with_overrides("general", coins=["ETH"])
    app = AltpulseApp(config, "demo", frozen_now_ms=FROZEN_NOW_MS)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(400):
            await pilot.pause(0.05)
            if app.session is not None and app.session.alerting is not None and app.scheduler is not None:
                break
        alerting = app.session.alerting  # type: ignore[union-attr]
        alerting.router.routes["r"] = Route("r", "command", (sys.executable, "-c", "raise SystemExit(1)"))
        alerting.router.dispatch(alert(routes=("r", "toast")))
        await alerting.router.drain(10)
        app.refresh_all_views()
        await pilot.pause()
        assert "alert route r failed: exit 1" in str(app.screen.query_one(StatusBar).content)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        row = [str(c) for c in table.get_row_at(0)]
        assert row[1] == "btc" and row[3] == "ACTIVE" and "[SIMULATED]" in row[4]
        assert "r: failed (exit 1)" in row[5] and "toast: sent" in row[5]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AlertsScreen)


@pytest.mark.timeout(240)
def test_watch_on_the_demo_sends_each_flip_once_to_a_command_and_a_webhook_and_survives_failing_routes(
    tmp_path: Path, hooks: Hooks
) -> None:
    got = tmp_path / "got.jsonl"
    cfg = tmp_path / "alerts.toml"
    cfg.write_text(f"""
[[alerts]]
id = "flips"
routes = ["hook", "broken", "slow", "refused"]
command = {json.dumps([sys.executable, "-c", RECORDER, str(got)])}

[[alert_routes]]
name = "hook"
type = "webhook"
url = "{hooks.url}/topic"

[[alert_routes]]
name = "broken"
type = "command"
command = {json.dumps([sys.executable, "-c", "raise SystemExit(1)"])}

[[alert_routes]]
name = "slow"
type = "command"
command = {json.dumps([sys.executable, "-c", "import time; time.sleep(30)"])}
timeout = 1

[[alert_routes]]
name = "refused"
type = "webhook"
url = "http://127.0.0.1:{closed_port()}/x"
retries = 0
""")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    # The demo's clock runs x60 in watch: its cascade fades within the first minute or so of market time passing.
    done = subprocess.run([*ALTPULSE, "watch", "--demo", "--for", "75s", "--json", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=200, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    flips = [a for a in printed if a["kind"] == "flip"]
    assert flips, f"the demo's cascade should fade within the run: {done.stdout[-2000:]}"
    assert all(a["simulated"] and a["mode"] == "demo" and a["text"].startswith("[SIMULATED] ") for a in printed)
    assert all(a["kind"] in ("initial", "flip") for a in printed)
    # The first states were reported (not sent), each driver once.
    initial = [a["subject"] for a in printed if a["kind"] == "initial"]
    assert len(initial) == len(set(initial)) and all(a["routes"] == [] for a in printed if a["kind"] == "initial")
    # Each flip reached the command once, with the JSON printed, and the webhook got the same objects.
    received = [json.loads(line) for line in got.read_text().splitlines()]
    assert [r["uid"] for r in received] == [f["uid"] for f in flips]
    assert [json.loads(body)["uid"] for _, _, body in hooks.posts] == [f["uid"] for f in flips]
    # The failing routes were reported, each flip, and the watcher ran to the end.
    for route, words in (("broken", "exit 1"), ("slow", "timed out after 1 s"), ("refused", "ConnectError")):
        assert done.stderr.count(f"route {route} failed: {words}") == len(flips), done.stderr
    assert f"{len(flips)} alerts, {3 * len(flips)} failed deliveries" in done.stderr
    # The alert log (the demo's own) has them, with where each went.
    logged = read_alert_log(tmp_path / "data" / "altpulse" / "alerts-demo.jsonl")
    assert [e["uid"] for e in logged] == [f["uid"] for f in flips]
    statuses = {d["route"]: d["status"] for d in logged[0]["deliveries"]}
    assert statuses == {"hook": "sent", "broken": "failed", "slow": "failed", "refused": "failed",
                        "flips:command": "sent"}  # fmt: skip
    # snapshot --json says the same.
    snap = subprocess.run([*ALTPULSE, "snapshot", "--demo", "--json", "--coins", "ETH"], capture_output=True, text=True,
                          timeout=200, env=env)  # fmt: skip
    assert [a["uid"] for a in json.loads(snap.stdout)["alerts"]] == [f["uid"] for f in flips]
