"""The altpulse Textual app: paints the dashboard first, then boots the data runtime and the feed workers.

Heavy modules (pandas, the emulator's dataset) load in a thread worker after the first paint, so the frame appears
at once even over a slow link. Feeds run as async workers on the app's loop; when one updates, its pane is marked
dirty and a 1 Hz tick rebuilds only the dirty view-models (no busy redraws) and the status bar's ages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.command import Provider
from textual.worker import Worker, WorkerState

from tui.app.dashboard import DashboardScreen
from tui.app.keys import KeyCommands
from tui.runtime.config import Config
from widgets.btc_pane import BtcPane
from widgets.cvd_pane import CvdPane
from widgets.drivers_pane import DriversPane
from widgets.etf_pane import EtfPane
from widgets.funding_pane import FundingPane
from widgets.liquidations_pane import LiquidationsPane
from widgets.status_bar import ModeBanner, StatusBar

log = logging.getLogger(__name__)


def _coin_commands() -> type[Provider]:
    from tui.app.coin_screen import CoinCommands

    return CoinCommands


#: The liquidations pane repaints at most this often when records arrive, and at least this often regardless.
LIQ_REPAINT_MIN_S = 3.0
LIQ_REPAINT_MAX_S = 5.0

MODE_LABEL = {"live": "LIVE · public APIs", "demo": "SIMULATED DATA · demo", "replay": "REPLAY"}


class AltpulseApp(App[None]):
    CSS_PATH = ["app.tcss", "../../widgets/panes.tcss"]
    TITLE = "altpulse"
    ENABLE_COMMAND_PALETTE = True
    # The palette offers every key's action (KeyCommands) and ``coin <SYMBOL>`` (CoinCommands) on every screen.
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {
        *App.COMMANDS,
        KeyCommands,
        _coin_commands,  # imported on first use: the coin screen pulls in pandas, which loads after first paint
    }
    BINDINGS = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        config: Config,
        mode: str = "live",
        *,
        replay_dir: Path | None = None,
        at: str | None = None,
        speed: float = 1.0,
        frozen_now_ms: int | None = None,
        start_feeds: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.mode = mode
        self.replay_dir = replay_dir
        self.at = at
        self.speed = speed
        self.frozen_now_ms = frozen_now_ms
        self.start_feeds = start_feeds
        self.session: Any = None
        self.runtime: Any = None
        self.scheduler: Any = None
        self.state: Any = None
        self.views: Any = None
        self._dirty: set[str] = set()
        self.banner: tuple[str, bool] = (MODE_LABEL.get(mode, mode), mode == "demo")
        self.boot_error: str | None = None
        self._seen_liq = -1
        self._last_liq_paint = 0.0
        self._last_drivers = 0.0
        # No animations by default: they cost bytes on a slow link (TEXTUAL_ANIMATIONS overrides).
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"
        theme = config.general.theme
        if theme in self.available_themes:
            self.theme = theme

    def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(dict(self.config.keys))
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # The terminal went away (SSH dropped, tmux pane killed): leave cleanly instead of writing into the void.
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)
        self.push_screen(DashboardScreen())
        self._banner(MODE_LABEL.get(self.mode, self.mode) + " · starting…", self.mode == "demo")
        # Paint the frame first: the boot thread imports pandas and builds the demo market, which would
        # otherwise hold the GIL while the first frame is drawn. It starts once that frame has gone out.
        self.call_after_refresh(self._start_boot)
        self.set_interval(1.0, self._tick, name="tick")

    def _start_boot(self) -> None:
        self.run_worker(self._boot, thread=True, name="boot", exit_on_error=False)

    def _banner(self, label: str, simulated: bool) -> None:
        """Set the mode banner (the dashboard applies it on mount if it is not composed yet)."""
        self.banner = (label, simulated)
        for banner in self.screen.query(ModeBanner):
            banner.update_mode(label, simulated)

    # -- boot -------------------------------------------------------------------------------------------------
    def _boot(self) -> None:
        """Thread worker: build the runtime (imports pandas, builds the demo market) off the event loop."""
        from tui.boot import boot

        session = boot(self.config, self.mode, replay_dir=self.replay_dir, at=self.at, speed=self.speed,
                       now_ms=self.frozen_now_ms, on_update=self._feed_updated)  # fmt: skip
        self.session = session
        self.runtime, self.state, self.views, self.scheduler = (
            session.runtime, session.state, session.views, session.scheduler)  # fmt: skip
        self.call_from_thread(self._booted)

    def _booted(self) -> None:
        self._banner(self.runtime.label, self.runtime.simulated)
        for note in self.config.notes:
            self.notify(note, title="Config", severity="warning", timeout=20)
        for note in self.runtime.notes[:4]:
            self.notify(note, title="Replay data", timeout=12)
        streams = self.session.start_streams()
        if self.start_feeds:
            for name in self.scheduler.feeds:
                self.run_worker(self.scheduler.run_feed(name), group="feeds", name=name, exit_on_error=False)
            for stream in streams:
                self.run_worker(stream.run(), group="streams", name=f"liq_{stream.name}", exit_on_error=False)
            self.set_interval(600, self._trim_tape, name="trim-tape")
        self._tick()

    def _trim_tape(self) -> None:
        if self.state is not None and self.state.liq_tape is not None:
            self.state.liq_tape.trim(self.runtime.now_ms())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "boot" and event.state == WorkerState.ERROR:
            error = event.worker.error
            from tui.runtime.modes import UsageError

            if isinstance(error, UsageError):
                # The arguments cannot work with this data (e.g. --at outside the replay): say so and leave.
                self.exit(return_code=2, message=f"altpulse: {error}")
                return
            self.boot_error = f"{type(error).__name__}: {error}"
            log.error("boot failed: %s", self.boot_error)
            self._banner(f"{MODE_LABEL.get(self.mode, self.mode)} · could not start: {error}", self.mode == "demo")
            self.notify(str(error), title="altpulse could not start its data feeds", severity="error", timeout=30)

    def _feed_updated(self, name: str) -> None:
        self._dirty.add(name)

    # -- refresh ----------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        """1 Hz: rebuild the view-models whose data changed, and the status bar (ages move every second)."""
        if self.views is None or not isinstance(self.screen, DashboardScreen):
            return
        try:
            self._refresh_views()
        except Exception as exc:  # a view bug must not take the console down; the log has the traceback
            log.exception("refreshing views failed")
            self.notify(f"display error: {type(exc).__name__}: {exc}", severity="error", timeout=10)

    def _refresh_views(self) -> None:
        dirty, self._dirty = self._dirty, set()
        screen = self.screen
        now = time.time()
        if dirty & {"btc_ticker", "btc_intraday", "btc_ath"} or self.views.status_changed("btc", now):
            screen.query_one(BtcPane).update_view(self.views.btc(now))
        if dirty & {"cvd_daily", "cvd_hourly"} or self.views.status_changed("cvd", now):
            screen.query_one(CvdPane).update_view(self.views.cvd(now))
        funding_feeds = {"funding_binance", "funding_bybit", "funding_okx", "funding_hyperliquid", "oi_binance",
                         "oi_history", "funding_history"}  # fmt: skip
        if dirty & funding_feeds or self.views.status_changed("funding", now):
            screen.query_one(FundingPane).update_view(self.views.funding(now))
        liq_version = self.state.version.get("liquidations", 0)
        since_paint = now - self._last_liq_paint
        if (liq_version != self._seen_liq and since_paint >= LIQ_REPAINT_MIN_S) or since_paint >= LIQ_REPAINT_MAX_S:
            # A new liquidation shifts every tape row (the whole table goes down the link again), so a burst is
            # shown every few seconds, not on each record; the windows and the meter slide on their own.
            self._seen_liq, self._last_liq_paint = liq_version, now
            screen.query_one(LiquidationsPane).update_view(self.views.liquidations(now))
        if dirty & {"etf_btc", "etf_eth"} or self.views.status_changed("etf", now):
            screen.query_one(EtfPane).update_view(self.views.etf(now))
        macro_feeds = {"fear_greed", "cg_global", "cg_markets", "equities", "rates"}
        if dirty & macro_feeds or self.views.status_changed("macro", now):
            screen.query_one(EtfPane).update_macro(self.views.macro(now))
        # No driver reads the 2-second ticker, so its updates alone do not re-run the checklist (the cascade
        # rule scans the whole liquidation tape); everything else does, and every 10 s the tape's news too.
        if dirty - {"btc_ticker"} or now - self._last_drivers >= 10:
            self._last_drivers = now
            flipped = self.views.evaluate_drivers()
            screen.query_one(DriversPane).update_view(self.views.drivers(now))
            self._announce(flipped)
        screen.query_one(StatusBar).update_view(self.views.status(self.scheduler, now))

    def _announce(self, flipped: list[Any]) -> None:
        """A driver changing state raises a toast (and the terminal bell when ``general.bell`` is on)."""
        for driver in flipped:
            severity = "warning" if driver.state == "active" else "information"
            self.notify(f"{driver.name}: now {driver.state.upper()} ({driver.display_value})",
                        title="Key driver changed", severity=severity, timeout=8)  # fmt: skip
        if flipped and self.config.general.bell:
            self.bell()

    def refresh_all_views(self) -> None:
        """Rebuild and repaint every pane now (the liquidations pane's repaint throttle included)."""
        self._dirty.update(self.scheduler.feeds if self.scheduler else ())
        self._seen_liq, self._last_liq_paint = -1, 0.0
        self._tick()

    # -- actions ----------------------------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        if self.scheduler is None:
            return
        if self.scheduler.paused:
            self.scheduler.resume()
            self.notify("Live updates resumed", timeout=2)
        else:
            self.scheduler.pause()
            self.notify("Live updates paused (p to resume)", timeout=3)
        self._tick()

    def set_coin_filter(self, text: str) -> None:
        """Show only coins whose symbol contains ``text`` in the CVD and funding tables (live, as typed)."""
        if self.views is None:
            return
        self.views.coin_filter = text.strip().upper()
        self._dirty.update({"cvd_daily", "funding_bybit"})
        self._tick()

    def action_faster(self) -> None:
        self._set_speed(2.0)

    def action_slower(self) -> None:
        self._set_speed(0.5)

    def _set_speed(self, factor: float) -> None:
        if self.scheduler is None:
            return
        self.scheduler.speed = min(4.0, max(0.25, self.scheduler.speed * factor))
        self.notify(f"Refresh rate x{self.scheduler.speed:g} of the configured cadences", timeout=2)

    def action_refresh_now(self) -> None:
        if self.scheduler is not None:
            self.scheduler.refresh_now()
            self.notify("Refreshing all feeds", timeout=2)

    def action_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    async def on_unmount(self) -> None:
        if self.session is not None:
            await self.session.aclose()
