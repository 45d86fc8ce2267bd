"""Untrusted text from the network (coin symbols, fund names, error messages) is shown literally: Rich markup is
never interpreted and terminal control sequences never reach the screen or stdout."""

from __future__ import annotations

import pytest
from rich.text import Text

from emulator.wire import Fault
from tests.conftest import FROZEN_NOW_MS
from tui.app.app import AltpulseApp
from tui.runtime.config import load_config
from widgets.format import clean, safe

HOSTILE_COIN = "[bold]EVIL\x1b[2J\x07"
HOSTILE_FUND = "[link=https://x.example]IBIT\x1b]8;;https://x.example\x07"
CONTROL = ("\x1b", "\x07", "\x9b", "\x00")


@pytest.mark.parametrize(
    "hostile",
    [
        "[/]", "[bold", "\\[bold]", "[link=https://x]a[/link]", "[@click=app.quit]x[/]", "\x1b[31mRED\x1b[0m",
        "\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", "A\r\nB\tC", "\u009b31m", "x" * 500 + "[bold]",
    ],
)  # fmt: skip
def test_safe_and_clean_extra_cases(hostile: str) -> None:
    shown = Text.from_markup(safe(hostile))
    assert not shown.spans
    assert not any(c in shown.plain for c in (*CONTROL, "\r", "\n", "\t"))
    assert len(clean(hostile)) <= 200
    assert "\x1b" not in clean(hostile)


def test_safe_keeps_ordinary_text() -> None:
    assert safe("BTC ETF: +$1.2B (HTTP 503)") == "BTC ETF: +$1.2B (HTTP 503)"
    assert clean("1000PEPE") == "1000PEPE"


def _screen_text(app: AltpulseApp) -> str:
    return app.export_screenshot()


async def test_hostile_names_in_the_app_are_shown_literally() -> None:
    config = load_config(use_user_file=False).with_overrides("general", coins=["ETH", HOSTILE_COIN])
    app = AltpulseApp(config, "demo", frozen_now_ms=FROZEN_NOW_MS)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(400):
            await pilot.pause(0.05)
            if app.scheduler is not None and app.scheduler.feeds["cvd_daily"].health.as_of:
                break
        assert app.runtime is not None
        # Farside renames a fund column to a hostile name; the feed re-fetches and fails or shows it literally.
        app.session.emulator.faults["/bitcoin-etf-flow-all-data/"] = Fault(
            "renamed_field", field="IBIT", rename_to=HOSTILE_FUND
        )
        app.scheduler.refresh_now()
        for _ in range(60):
            await pilot.pause(0.05)
            if app.scheduler.feeds["etf_btc"].health.error:
                break
        app.refresh_all_views()
        await pilot.pause(0.3)
        svg = _screen_text(app)
        assert "EVIL" in svg  # the coin is listed (with its error), not hidden
        assert not any(c in svg for c in CONTROL)
        assert "x.example" not in svg or "[link=https://x.example]" in svg  # never a live link
        for widget in app.screen.query("Static"):
            content = widget.render()
            if isinstance(content, Text):
                assert not any(c in content.plain for c in CONTROL)
                for span in content.spans:
                    assert "link" not in str(span.style)
        for pane in app.screen.query("Pane"):
            subtitle = str(pane.border_subtitle or "")
            assert not any(c in subtitle for c in CONTROL)
            assert not Text.from_markup(subtitle).spans or "[" not in subtitle


def test_snapshot_text_output_is_clean(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from tui.cli import main

    path = tmp_path / "c.toml"
    path.write_text('[general]\ncoins = ["ETH", "[bold]EVIL\\u001b[2J\\u0007"]\n')
    with pytest.raises(SystemExit):
        main(["snapshot", "--demo", "--config", str(path)])
    out, err = capsys.readouterr()
    assert "EVIL" in out + err
    assert not any(c in out + err for c in CONTROL)
