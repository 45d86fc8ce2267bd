"""The altpulse Textual app: paints the dashboard first, then boots the data runtime and the feed workers.

Heavy modules (pandas, the emulator's dataset) load in a thread worker after the first paint, so the frame appears
at once even over a slow link. Feeds run as async workers on the app's loop; a delivery posts a
:class:`~tui.app.messages.FeedUpdated` message (pending ones merge), and a 1 Hz tick rebuilds only the view-models
behind the feeds named (:mod:`tui.views.registry`) and the status bar's ages: no busy redraws.
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
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.command import Provider
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from tui.app import lean_output
from tui.app.dashboard import DashboardScreen
from tui.app.keys import KeyCommands
from tui.app.messages import FeedUpdated, FilterChanged
from tui.runtime.config import Config
from tui.runtime.malloc_tuning import release_free_memory
from tui.runtime.pandas_refs import PRUNE_REFS_EVERY_S
from widgets.panes import Pane
from widgets.status_bar import ModeBanner, StatusBar
from widgets.why_line import WhyLine

if TYPE_CHECKING:
    from analytics.alerts import Alert
    from analytics.drivers import DriverState
    from tui.boot import Session
    from tui.runtime.alert_routes import Route
    from tui.runtime.modes import Runtime
    from tui.runtime.scheduler import Scheduler
    from tui.runtime.state import MarketState
    from tui.views.builder import ViewBuilder

log = logging.getLogger(__name__)


def _coin_commands() -> type[Provider]:
    from tui.app.coin_screen import CoinCommands

    return CoinCommands


MODE_LABEL = {"live": "LIVE · public APIs", "demo": "SIMULATED DATA · demo", "replay": "REPLAY",
              "follow": "FOLLOW · polls no provider"}


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
        record: bool | None = None,
        store: Path | None = None,
    ) -> None:
        super().__init__()
        self.record = record
        self.store_path = store
        self.config = config
        self.mode = mode
        self.replay_dir = replay_dir
        self.at = at
        self.speed = speed
        self.frozen_now_ms = frozen_now_ms
        self.start_feeds = start_feeds
        self.session: Session | None = None
        self.runtime: Runtime | None = None
        self.scheduler: Scheduler | None = None
        self.state: MarketState | None = None
        self.views: ViewBuilder | None = None
        self._dirty: set[str] = set()  # feeds delivered since the last tick
        self._painted: dict[str, float] = {}  # view-model key -> when it was last rebuilt
        self._start_released = False  # free memory handed back once every feed has answered (malloc_tuning)
        self.banner: tuple[str, bool] = (MODE_LABEL.get(mode, mode), mode == "demo")
        self.boot_error: str | None = None
        # A style is sent only when it changes (tui.app.lean_output): ~40 % fewer bytes for the same screen.
        lean_output.install()
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
        self._boot()

    def _banner(self, label: str, simulated: bool) -> None:
        """Set the mode banner (the dashboard applies it on mount if it is not composed yet)."""
        self.banner = (label, simulated)
        for banner in self.screen.query(ModeBanner):
            banner.update_mode(label, simulated)

    # -- boot -------------------------------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, name="boot")
    def _boot(self) -> None:
        """Thread worker: build the runtime (imports pandas, builds the demo market) off the event loop."""
        from tui.boot import Launch, boot

        launch = Launch(self.mode, self.replay_dir, self.at, self.speed, self.frozen_now_ms, record=self.record,
                        store=self.store_path)  # fmt: skip
        session = boot(self.config, launch, on_update=self._feed_updated)
        self.session = session
        self.runtime, self.state, self.views, self.scheduler = (
            session.runtime, session.state, session.views, session.scheduler)  # fmt: skip
        self.call_from_thread(self._booted)

    def _booted(self) -> None:
        assert self.session is not None and self.scheduler is not None and self.runtime is not None
        self._banner(self.runtime.label, self.runtime.simulated)
        for note in self.config.notes:
            self.notify(note, title="Config", severity="warning", timeout=20)
        title = "Replay data" if self.mode == "replay" else "Recorder"
        for note in self.runtime.notes[:4]:
            self.notify(note, title=title, timeout=12)
        if self.session.alerting is not None:
            self.session.alerting.router.local = self._alert_local
        streams = self.session.start_streams(on_update=self._feed_updated)
        restored = self.session.restored_tape
        if restored is not None and restored.liquidations:
            from tui.views.recorder import restored_text

            self.notify(restored_text(restored), title="Recorder", timeout=8)
        if self.start_feeds:
            if self.session.follower is not None:
                self.run_worker(self.session.follower.run(), group="streams", name="follow_tape", exit_on_error=False)
            for name in self.scheduler.feeds:
                self.run_worker(self.scheduler.run_feed(name), group="feeds", name=name, exit_on_error=False)
            for stream in streams:
                self.run_worker(stream.run(), group="streams", name=f"liq_{stream.name}", exit_on_error=False)
            self.set_interval(600, self._trim_tape, name="trim-tape")
            self.set_interval(PRUNE_REFS_EVERY_S, self.session.housekeep, name="housekeeping")
        from tui.runtime.gc_tuning import freeze_long_lived

        # Everything built so far lives as long as the console: full collections need not walk it again.
        freeze_long_lived()
        self._tick()

    def _trim_tape(self) -> None:
        if self.state is not None and self.state.liq_tape is not None and self.runtime is not None:
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
        """The scheduler's and the streams' hook (on the app's loop): tell the app the Textual way."""
        self.post_message(FeedUpdated(name))

    @on(FeedUpdated)
    def _mark_dirty(self, message: FeedUpdated) -> None:
        self._dirty |= message.feeds

    # -- refresh ----------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        """1 Hz: rebuild the view-models whose data changed, and the status bar (ages move every second)."""
        if self.session is not None:
            self.session.tick()
        if not self._start_released and self.scheduler is not None and self.scheduler.first_round_done():
            # What the first round parsed and dropped (every provider's pages) goes back to the OS once the frame
            # that shows it is out; then once a minute.
            self._start_released = True
            self.call_after_refresh(release_free_memory)
        if self.views is None or not isinstance(self.screen, DashboardScreen):
            return
        try:
            self._refresh_views()
        except Exception as exc:  # a view bug must not take the console down; the log has the traceback
            tearing_down = self._exit or not self.screen.is_attached or not self.screen.children
            if isinstance(exc, NoMatches) and tearing_down:
                return  # at exit the screen's widgets go before the timer stops: nothing left to paint
            log.exception("refreshing views failed")
            self.notify(f"display error: {type(exc).__name__}: {exc}", severity="error", timeout=10)

    def _refresh_views(self) -> None:
        from tui.views.registry import due_panes

        assert self.views is not None and self.scheduler is not None
        dirty, self._dirty = self._dirty, set()
        now = time.time()
        panes = {pane.PANE: pane for pane in self.screen.query(Pane)}
        due, later = due_panes(dirty, self._painted, now, self.views.status_changed)
        self._dirty |= later  # shown on a later tick: a burst repaints once
        for spec in due:
            pane = panes.get(spec.pane)
            if pane is None:
                continue
            self._painted[spec.key] = now
            if spec.key == "drivers":
                assert self.session is not None
                self._announce(self.session.evaluate_drivers())
                for why in self.screen.query(WhyLine):  # the "why" line reads the drivers just evaluated
                    why.update_view(self.views.explain(now))
            setattr(pane, spec.slot, self.views.build(spec.key, now))
        self.screen.query_one(StatusBar).update_view(self.views.status(self.scheduler, now))

    def _announce(self, flipped: list[DriverState]) -> None:
        """A driver changing state raises a toast (and the terminal bell when ``general.bell`` is on)."""
        for driver in flipped:
            severity: SeverityLevel = "warning" if driver.state == "active" else "information"
            self.notify(f"{driver.name}: now {driver.state.upper()} ({driver.display_value})",
                        title="Key driver changed", severity=severity, timeout=8)  # fmt: skip
        if flipped and self.config.general.bell:
            self.bell()

    def _alert_local(self, alert: Alert, route: Route) -> tuple[str, str]:
        """An alert's ``toast`` and ``bell`` routes. A driver flip has had its toast from :meth:`_announce` (as
        before alerts existed), so it is not toasted twice."""
        if route.type == "bell":
            self.bell()
            return "sent", "bell"
        if alert.kind == "flip":
            return "sent", "the checklist's flip toast"
        self.notify(alert.text, title=f"Alert · {alert.rule}", severity="warning" if alert.state == "active"
                    else "information", timeout=10)  # fmt: skip
        return "sent", "toast"

    def action_alerts(self) -> None:
        """Open the alert log (the last alerts, what fired and where it was sent)."""
        from tui.app.alerts_screen import AlertsScreen

        self.push_screen(AlertsScreen(self.session.alerting if self.session is not None else None))

    def refresh_all_views(self) -> None:
        """Rebuild and repaint every pane now (the liquidations pane's repaint throttle included)."""
        self._dirty.update(self.scheduler.feeds if self.scheduler else ())
        self._painted.clear()
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

    @on(FilterChanged)
    def set_coin_filter(self, message: FilterChanged) -> None:
        """Show only coins whose symbol contains the text in the CVD and funding tables (live, as typed)."""
        from tui.views.registry import PANE_FEEDS

        if self.views is None:
            return
        self.views.coin_filter = message.text.strip().upper()
        self._dirty.update(PANE_FEEDS["cvd"], PANE_FEEDS["funding"])
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

    def action_timeline(self) -> None:
        """The drivers timeline over the history the console has (:mod:`tui.app.timeline_screen`)."""
        from tui.app.timeline_screen import TimelineScreen

        if not isinstance(self.screen, TimelineScreen):
            self.push_screen(TimelineScreen())

    def action_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    async def on_unmount(self) -> None:
        if self.session is not None:
            await self.session.aclose()
