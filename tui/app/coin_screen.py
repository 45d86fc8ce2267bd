"""The coin detail screen (Enter on a coin anywhere, or ``coin SOL`` in the command palette).

One coin's price and spot CVD over a time window, its taker buy/sell ratio and share of the basket's delta, funding
on each venue and its history, open interest and its 24 h change, and its recent liquidations — the drill-down a
trader makes after the dashboard flags a coin. ``Esc``/``Backspace`` go back to the dashboard exactly as it was
(same focus, scroll and sort: the dashboard screen is kept underneath, not rebuilt). ``[`` / ``]`` / ``t`` change
the window; ``c`` cycles the chart (price + spot CVD, spot vs perp CVD, open interest per venue, funding per venue).
The view is rebuilt on a 1 s tick only when the coin's data (its feeds' versions), its health text or
the window changed: no busy redraws over SSH.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.widgets import Footer

from records.viewmodels import CoinView, PaneStatus
from tui.views.coin import WINDOWS, build_coin_view, next_window, normalise_coin
from tui.views.coin_charts import CHARTS, next_chart
from tui.views.registry import coin_feeds
from widgets.coin_detail import CoinDetail
from widgets.format import clean
from widgets.status_bar import ModeBanner

if TYPE_CHECKING:
    from tui.views.builder import ViewBuilder

log = logging.getLogger(__name__)


def coins_in(views: ViewBuilder | None) -> list[str]:
    """Every coin the console holds data for: BTC first, then the basket's coins in config order."""
    if views is None:
        return ["BTC"]
    state = views.state
    ordered = [c for c in views.config.general.coins if c in state.alt_daily or c in state.alt_hourly]
    extra = sorted((set(state.alt_daily) | set(state.alt_hourly)) - set(ordered) - {"BTC"})
    return ["BTC", *[c for c in ordered if c != "BTC"], *extra]


class CoinCommands(Provider):
    """Command palette: ``coin <SYMBOL>`` for BTC and every basket coin (``:coin sol`` works too)."""

    def _coins(self) -> list[str]:
        return coins_in(getattr(self.app, "views", None))

    async def discover(self) -> Hits:
        for coin in self._coins():
            yield DiscoveryHit(f"coin {coin}", partial(open_coin, self.app, coin), help=f"{coin} detail")

    async def search(self, query: str) -> Hits:
        query = query.strip().lstrip(":").strip()
        matcher = self.matcher(query)
        coins = self._coins()
        for coin in coins:
            command = f"coin {coin}"
            score = matcher.match(command)
            if score > 0:
                yield Hit(score, matcher.highlight(command), partial(open_coin, self.app, coin), text=command,
                          help=f"{coin}: price, CVD, funding, open interest, liquidations")  # fmt: skip
        words = query.split()
        if len(words) == 2 and words[0].lower() == "coin":
            typed = normalise_coin(words[1])
            if typed and typed not in coins:
                command = f"coin {typed}"
                yield Hit(0.5, Text(clean(command, 30)), partial(open_coin, self.app, typed), text=command,
                          help="not in the basket: shows what the derivatives venues have")  # fmt: skip


class CoinScreen(Screen[None]):
    """``CoinScreen(views, coin, window="24h")``; ``views`` may be None while the app is still booting."""

    CSS_PATH = "../../widgets/coin_detail.tcss"
    AUTO_FOCUS = "#coin-detail"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", key_display="Esc", id="coin_back"),
        Binding("left_square_bracket", "window(-1)", "Prev window", key_display="[", id="coin_window_prev"),
        Binding("right_square_bracket", "window(1)", "Next window", key_display="]", id="coin_window_next"),
        Binding("t", "window(1)", "Window", show=False, id="coin_window_cycle"),
        Binding("c", "chart(1)", "Chart", id="coin_chart"),
        # Same ids as the dashboard's, so a user's [keys] remap of refresh/help applies here too.
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("question_mark", "app.help", "Keys", key_display="?", id="help"),
    ]

    def __init__(self, views: ViewBuilder | None, coin: str, window: str = WINDOWS[0]) -> None:
        super().__init__()
        self.views = views
        self.coin = normalise_coin(coin) or "?"
        self.window = window if window in WINDOWS else WINDOWS[0]
        self.chart = CHARTS[0]  # the chart ``c`` selected: kept when the coin or the window changes
        self.view: CoinView | None = None
        self._token: object = None
        self._watching: str | None = None  # the coin this screen put in view (state.watched), once the data is up

    def compose(self) -> ComposeResult:
        yield ModeBanner(" ", id="banner")
        yield CoinDetail()
        yield Footer()

    def on_mount(self) -> None:
        label, simulated = getattr(self.app, "banner", ("", False))
        self.query_one(ModeBanner).update_mode(label, simulated)
        self.sub_title = self.coin
        self.rebuild(force=True)
        self.set_interval(1.0, self.rebuild, name="coin-tick")

    # -- data -----------------------------------------------------------------------------------------------
    def _views(self) -> ViewBuilder | None:
        if self.views is None:
            self.views = getattr(self.app, "views", None)
        return self.views

    def _data_token(self, views: ViewBuilder, now: float) -> object:
        versions = views.figures.versions(*coin_feeds(self.coin))
        healths = views.health_map()
        health = tuple(h.status(now) for h in healths.values())
        return (self.coin, self.window, self.chart, versions, health)

    def _watch(self) -> None:
        """Keep ``self.coin`` in view: a coin outside the basket is watched (its per-coin feeds fetch it now), the one
        shown before leaves view. While the screen is up the coin stays watched; after it closes (or switches coin)
        the coin lingers a few minutes (``WATCH_LINGER_S``): a trader flicking back to it sees figures at once."""
        state = getattr(self.app, "state", None)
        views = self._views()
        if state is None or views is None:
            return
        from tui.runtime.feeds_venue_funding import view_coin

        view_coin(state, getattr(self.app, "scheduler", None), self.coin)  # any coin: its funding on every venue
        if self._watching == self.coin:
            return
        from tui.runtime.feeds_watched import unwatch, watch

        now = time.time()
        if self._watching is not None:
            unwatch(state, self._watching, now)
        self._watching = self.coin
        watch(state, getattr(self.app, "scheduler", None), views.config, self.coin, now)

    def on_unmount(self) -> None:
        state = getattr(self.app, "state", None)
        if state is not None:
            from tui.runtime.feeds_venue_funding import view_coin

            view_coin(state, None, None)  # no detail up: the per-venue funding feeds go idle
        if state is not None and self._watching is not None:
            from tui.runtime.feeds_watched import unwatch

            unwatch(state, self._watching, time.time())
            self._watching = None

    def rebuild(self, force: bool = False) -> None:
        """Rebuild the view if the coin's data, its feeds' health or the window changed (or ``force``)."""
        self._watch()
        views = self._views()
        detail = self.query_one(CoinDetail)
        if views is None:
            detail.update_view(CoinView(self.coin, self.window, PaneStatus(False, "waiting for data"), chart=self.chart,
                                        message="waiting for the data feeds to start…"))  # fmt: skip
            return
        now = time.time()
        token = self._data_token(views, now)
        if not force and token == self._token:
            return
        self._token = token
        try:
            self.view = build_coin_view(views.figures, self.coin, self.window, now, chart=self.chart)
        except Exception as exc:  # a view bug must not take the console down; the log has the traceback
            log.exception("building the coin view failed")
            self.view = CoinView(self.coin, self.window, PaneStatus(False, "display error"), chart=self.chart,
                                 message=f"display error: {type(exc).__name__}: {exc}")  # fmt: skip
        detail.update_view(self.view)

    def show_coin(self, coin: str) -> None:
        """Switch this screen to another coin (the palette on the detail screen does this instead of stacking)."""
        self.coin = normalise_coin(coin) or "?"
        self.sub_title = self.coin
        self.rebuild(force=True)

    # -- actions --------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_window(self, step: int) -> None:
        self.window = next_window(self.window, step)
        self.rebuild(force=True)

    def action_chart(self, step: int) -> None:
        """``c``: the next chart (price + spot CVD -> spot vs perp CVD -> OI per venue -> funding per venue)."""
        self.chart = next_chart(self.chart, step)
        self.rebuild(force=True)

    def action_refresh(self) -> None:
        refresh = getattr(self.app, "action_refresh_now", None)
        if callable(refresh):
            refresh()
        self.rebuild(force=True)


def open_coin(app: App[Any], coin: str) -> None:
    """Show the coin detail for ``coin``: pushes :class:`CoinScreen`, or switches it if it is already on top.

    Call it from the dashboard's Enter handler (row key = coin) and from the command palette.
    """
    screen = app.screen
    if isinstance(screen, CoinScreen):
        screen.show_coin(coin)
        return
    app.push_screen(CoinScreen(getattr(app, "views", None), coin))
