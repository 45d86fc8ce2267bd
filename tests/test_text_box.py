"""TextBox repaints only when what it shows changes (bytes over SSH), and notices a change of base style."""

from __future__ import annotations

import pytest
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
        # Repaints only (a first update of another size also asks for a layout, counted apart below).
        box.refresh = lambda *a, **k: (k.get("layout") or repaints.append(1), original(*a, **k))[1]  # type: ignore[method-assign]
        box.update(Text("BTC $97,000", style="bold"))
        box.update(Text("BTC $97,000", style="bold"))
        assert len(repaints) == 1
        box.update(Text("BTC $97,000", style="dim"))  # went stale: must repaint
        assert len(repaints) == 2
        await pilot.pause()
        assert "BTC $97,000" in str(box.content)


class SizedApp(App[None]):
    CSS = "#fixed { width: 30; height: auto; } #auto { width: auto; height: auto; }"

    def compose(self) -> ComposeResult:
        yield TextBox("start", id="fixed")
        yield TextBox("start", id="auto")


def _layouts(box: TextBox) -> list[int]:
    calls: list[int] = []
    original = box.refresh
    box.refresh = lambda *a, **k: (k.get("layout") and calls.append(1), original(*a, **k))[1]  # type: ignore[method-assign]
    return calls


async def test_same_size_update_repaints_without_a_layout() -> None:
    """A ticking price keeps the box's size: the screen is not laid out again for it (every layout costs the
    whole screen's arrangement; the BTC headline changes every 2 s)."""
    app = SizedApp()
    async with app.run_test() as pilot:
        box = app.query_one("#fixed", TextBox)
        box.update(Text("BTC $97,000  24h -7.84%"))
        await pilot.pause()
        layouts = _layouts(box)
        box.update(Text("BTC $97,013  24h -7.80%"))
        assert layouts == []
        await pilot.pause()
        assert "97,013" in str(box.render())


@pytest.mark.parametrize(
    ("box_id", "first", "second", "measure", "before", "after"),
    [
        # a fixed-width box whose text wraps to a second line grows
        ("#fixed", "short", "a line much longer than the thirty cells of this box", "height", 1, 2),
        # an auto-width box shrinks with its widest line
        ("#auto", "twelve cells", "six ce", "width", 12, 6),
    ],
)
async def test_a_text_of_another_size_lays_out(box_id: str, first: str, second: str, measure: str, before: int,
                                               after: int) -> None:  # fmt: skip
    app = SizedApp()
    async with app.run_test() as pilot:
        box = app.query_one(box_id, TextBox)
        box.update(Text(first))
        await pilot.pause()
        assert getattr(box.size, measure) == before
        layouts = _layouts(box)
        box.update(Text(second))
        assert layouts == [1]
        await pilot.pause()
        assert getattr(box.size, measure) == after
