"""The framework floor: a bare Textual app with a header and a footer, run like altpulse for the same probes."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Bitcoin")
        yield Footer()


if __name__ == "__main__":
    Bare().run()
