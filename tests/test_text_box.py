"""TextBox repaints only when what it shows changes (bytes over SSH), and notices a change of base style."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from widgets.text_box import TextBox, content_key


def test_content_key_sees_style_and_justification_that_rich_equality_ignores() -> None:
    live, stale = Text("$97,000", style="bold"), Text("$97,000", style="dim")
    assert live == stale  # rich compares text and spans only
    assert content_key(live) != content_key(stale)
    assert content_key(Text("1", justify="right")) != content_key(Text("1", justify="left"))
    assert content_key(Text("a") + Text("b", style="red")) == content_key(Text("a") + Text("b", style="red"))
    assert content_key("x") == content_key("x") != content_key(Text("x"))


class BoxApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TextBox("start", id="box")


async def test_identical_updates_do_not_repaint() -> None:
    app = BoxApp()
    async with app.run_test() as pilot:
        box = app.query_one(TextBox)
        repaints = []
        original = box.refresh
        box.refresh = lambda *a, **k: (repaints.append(1), original(*a, **k))[1]  # type: ignore[method-assign]
        box.update(Text("BTC $97,000", style="bold"))
        box.update(Text("BTC $97,000", style="bold"))
        assert len(repaints) == 1
        box.update(Text("BTC $97,000", style="dim"))  # went stale: must repaint
        assert len(repaints) == 2
        await pilot.pause()
        assert "BTC $97,000" in str(box.content)
