"""tui.app.lean_output: the lean strip renderer draws exactly the cells Textual's own renderer draws, in fewer
bytes. Both outputs are read back by a small SGR interpreter, cell by cell (character, attributes, colours, link)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.app import lean_output
from tui.app.lean_output import render_strip

SEQUENCE = re.compile(r"\x1b\[([0-9;]*)m|\x1b\]8;([^\x1b]*)\x1b\\")
COLOURS = ["red", "bright_green", "color(23)", "color(197)", "#102030", "#ffcc00", "default"]
ATTRIBUTES = ["bold", "dim", "italic", "underline", "reverse", "strike", "blink", "overline"]


def cells(output: str) -> list[tuple[str, frozenset[str], str, str, str]]:
    """(char, attributes, foreground, background, link) for every character ``output`` draws."""
    attrs: set[str] = set()
    fg = bg = link = ""
    drawn = []
    position = 0
    for match in [*SEQUENCE.finditer(output), None]:
        end = len(output) if match is None else match.start()
        drawn += [(ch, frozenset(attrs), fg, bg, link) for ch in output[position:end]]
        if match is None:
            break
        position = match.end()
        if match.group(2) is not None:
            link = match.group(2).split(";", 1)[1]
            continue
        params = [int(p) if p else 0 for p in match.group(1).split(";")]
        i = 0
        while i < len(params):
            code = params[i]
            if code == 0:
                attrs.clear()
                fg = bg = ""
            elif code in (38, 48):
                width = 3 if params[i + 1] == 5 else 5
                value = ":".join(map(str, params[i + 1 : i + width]))
                if code == 38:
                    fg = value
                else:
                    bg = value
                i += width - 1
            elif 30 <= code <= 37 or 90 <= code <= 97:
                fg = str(code)
            elif 40 <= code <= 47 or 100 <= code <= 107:
                bg = str(code)
            elif code == 39:
                fg = ""
            elif code == 49:
                bg = ""
            else:
                attrs.add(str(code))
            i += 1
    return drawn


def styles() -> st.SearchStrategy[Style | None]:
    colour = st.sampled_from([None, *COLOURS])
    def style(fg: str | None, bg: str | None, attrs: list[str], link: str | None) -> Style:
        return Style.combine([Style(color=fg, bgcolor=bg, link=link), *(Style.parse(a) for a in attrs)])

    links = st.sampled_from([None, None, None, "https://example.com/"])
    styled = st.builds(style, colour, colour, st.lists(st.sampled_from(ATTRIBUTES), max_size=2), links)
    return st.one_of(st.none(), styled, styled, styled)


def _console(system: str | None) -> Console:
    return Console(color_system=system, force_terminal=True, width=80)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    segments=st.lists(st.tuples(st.text(alphabet="ab █▄$-.,", max_size=4), styles()), max_size=12),
    system=st.sampled_from(["truecolor", "256", "standard"]),
)
def test_draws_the_same_cells_as_textuals_renderer(segments: list[tuple[str, Style | None]], system: str) -> None:
    console = _console(system)
    for _, style in segments:  # a style caches its codes for the first colour system it met; here they vary
        if style is not None:
            style._ansi = None
    stock = lean_output._stock_render(Strip([Segment(t, s) for t, s in segments]), console)
    lean = render_strip(Strip([Segment(t, s) for t, s in segments]), console)
    assert cells(lean) == cells(stock)
    assert len(lean) <= len(stock)
    assert not cells(lean + "x")[-1][1] and cells(lean + "x")[-1][2:4] == ("", "")  # ends in the default state


def test_a_dashboard_line_costs_far_fewer_bytes() -> None:
    pane = Style.parse("color(253) on color(233)")
    red = Style.parse("color(197) on color(233)")
    bold = Style.parse("bold color(253) on color(233)")
    line = [("BTC ", bold), ("$98,748", bold), ("  24h ", pane), ("-9.90%", red), ("  1h ", pane), ("-4.66%", red),
            ("        ", Style.parse("on color(233)"))]  # fmt: skip
    console = _console("256")
    stock = lean_output._stock_render(Strip([Segment(t, s) for t, s in line]), console)
    lean = render_strip(Strip([Segment(t, s) for t, s in line]), console)
    assert cells(lean) == cells(stock)
    assert len(lean.encode()) < 0.7 * len(stock.encode()), (len(lean), len(stock))


def test_joined_strips_stay_right() -> None:
    """Textual joins rendered strips (Strip.join reuses their renders): each starts and ends in the default state."""
    console = _console("truecolor")
    lean_output.install()
    try:
        parts = [Strip([Segment("ab", Style.parse("bold red on blue"))]), Strip([Segment("cd", None)])]
        for part in parts:
            part.render(console)
        joined = Strip.join(parts).render(console)
    finally:
        lean_output.uninstall()
    assert [c[:2] for c in cells(joined)] == [("a", frozenset({"1"})), ("b", frozenset({"1"})),
                                             ("c", frozenset()), ("d", frozenset())]  # fmt: skip
