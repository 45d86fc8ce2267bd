"""``altpulse`` command line: the console (live, ``--demo`` or ``--replay DIR``), ``snapshot``, ``status``,
``doctor``, ``collect``, ``store`` and ``watch``.

Errors in arguments or config print one clear line on stderr and exit 2; no traceback ever reaches the terminal
(``--log-file`` keeps the details).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

EXIT_USAGE = 2
EXIT_SOURCE_FAILED = 1


class CliError(Exception):
    """A problem with the command line or the config, reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message}")

if TYPE_CHECKING:
    from tui.runtime.config import Config


def _mode_args(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """Options valid before and after the subcommand; in the subcommand they must not reset the top level's."""
    if sub:
        parser.set_defaults()
        parser.argument_default = argparse.SUPPRESS
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--demo", action="store_true", help="simulated market, works offline (labelled SIMULATED)")
    group.add_argument("--replay", metavar="PATH", type=Path,
                       help="replay real history: a folder of files, or a recorder store (.sqlite)")  # fmt: skip
    parser.add_argument("--at", metavar="ISO-TIME", help="replay: virtual time to start at (UTC)")
    parser.add_argument(
        "--speed",
        type=float,
        default=argparse.SUPPRESS if sub else 1.0,
        metavar="X",
        help="replay: clock speed (default 1)",
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="config file overriding the user's config")
    parser.add_argument("--coins", metavar="ETH,SOL,...", help="altcoin basket (overrides config)")
    parser.add_argument("--log-file", type=Path, metavar="PATH", help="write a debug log here")


def _store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, metavar="PATH", default=None,
                        help="the recorder store (default: [store] path, else the user data dir)")  # fmt: skip


def _sub_options(parser: argparse.ArgumentParser, *names: str) -> None:
    """The top level's file options, accepted after a subcommand too (without resetting the top level's)."""
    helps = {"--config": "config file overriding the user's config", "--coins": "altcoin basket (overrides config)",
             "--log-file": "write a debug log here", "--store": "the recorder store (default: the user data dir's)"}
    for name in names:
        kind = str if name == "--coins" else Path
        parser.add_argument(name, type=kind, metavar="ETH,SOL,..." if name == "--coins" else "PATH",
                            default=argparse.SUPPRESS, help=helps[name])  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="altpulse", description="Terminal market-sentiment console for crypto traders.")
    _mode_args(parser)
    parser.add_argument("--follow", nargs="?", const=True, default=None, metavar="STORE",
                        help="read a collector's store instead of polling (default store: the user data dir's)")
    parser.add_argument("--no-record", action="store_true", help="do not record this run into the store")
    _store_args(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    snap = sub.add_parser("snapshot", help="fetch every feed once, print every figure, exit")
    _mode_args(snap, sub=True)
    snap.add_argument("--json", action="store_true", default=False, help="print the documented JSON schema")
    snap.add_argument("--listen", type=float, default=0.0, metavar="SECONDS",
                      help="also listen to the liquidation streams for this long before printing")  # fmt: skip
    status = sub.add_parser("status", help="one short line for a tmux status bar (from the cached snapshot)")
    _mode_args(status, sub=True)
    from tui.commands.status_line import add_arguments as add_status_arguments

    add_status_arguments(status)
    doctor = sub.add_parser("doctor", help="check every provider once (reachability, status, format) and exit")
    doctor.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                        help="config file overriding the user's config")  # fmt: skip
    doctor.add_argument("--log-file", type=Path, metavar="PATH", default=argparse.SUPPRESS, help="write a debug log")
    from tui.commands.doctor import add_arguments as add_doctor_arguments

    add_doctor_arguments(doctor)
    collect = sub.add_parser("collect", help="poll and record headless (no screen); consoles --follow it")
    collect.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                         help="record the simulated market (into the demo store)")  # fmt: skip
    _sub_options(collect, "--config", "--coins", "--log-file", "--store")
    collect.add_argument("--seconds", type=float, default=0.0, metavar="S", help="stop after S seconds (0: never)")
    collect.add_argument("--alerts", action="store_true", default=False,
                         help="also send and print the [[alerts]] (= altpulse watch --record)")  # fmt: skip
    collect.add_argument("--json", action="store_true", default=False, help="with --alerts: print JSON lines")
    watch = sub.add_parser("watch", help="headless alerts: evaluate the drivers and [[alerts]] rules, send, print")
    group = watch.add_mutually_exclusive_group()
    group.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                       help="the simulated market (its clock x60 unless --speed)")  # fmt: skip
    group.add_argument("--replay", metavar="PATH", type=Path, default=argparse.SUPPRESS,
                       help="replayed history: a folder of files or a recorder store")  # fmt: skip
    watch.add_argument("--at", metavar="ISO-TIME", default=argparse.SUPPRESS, help="replay: virtual time to start at")
    watch.add_argument("--speed", dest="watch_speed", type=float, default=None, metavar="X",
                       help="market clock speed (demo default 60, replay 1; a recording runs at 1)")  # fmt: skip
    _sub_options(watch, "--config", "--coins", "--log-file", "--store")
    from tui.commands.watch import add_arguments as add_watch_arguments

    add_watch_arguments(watch)
    backtest = sub.add_parser("backtest", help="the driver rules over history: flips, time active, forward returns")
    backtest.add_argument("--replay", type=Path, metavar="PATH", required=True,
                          help="history: a folder of replay files or a recorder store")  # fmt: skip
    backtest.add_argument("--from", dest="start", metavar="ISO-TIME", default=None, help="first step (UTC)")
    backtest.add_argument("--to", dest="end", metavar="ISO-TIME", default=None, help="last step (UTC)")
    backtest.add_argument("--step", default="1h", metavar="WINDOW", help="evaluation step, e.g. 1h, 4h, 1d")
    backtest.add_argument("--set", action="append", metavar="DRIVER.CONDITION=VALUE",
                          help="override a threshold (condition: its metric or index); repeatable")  # fmt: skip
    backtest.add_argument("--json", action="store_true", default=False, help="print JSON (altpulse.backtest/1)")
    _sub_options(backtest, "--config", "--coins", "--log-file")
    store = sub.add_parser("store", help="what the recorder store holds, and exports of it")
    store.add_argument("--demo", action="store_true", default=argparse.SUPPRESS, help="the demo store")
    _sub_options(store, "--config", "--store")
    from tui.commands.store_cli import add_arguments as add_store_arguments

    add_store_arguments(store)
    return parser


def _setup_logging(path: Path | None) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    if path is None:
        # Never let logging's last-resort handler write over the TUI.
        root.addHandler(logging.NullHandler())
        return
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"altpulse: --log-file {path}: {exc.strerror or exc}") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _load(args: argparse.Namespace) -> Config:
    from tui.runtime.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise CliError(f"altpulse: config error: {exc}") from None
    if args.coins:
        coins = [c.strip().upper() for c in args.coins.split(",") if c.strip()]
        bad = [c for c in coins if not c.isalnum() or len(c) > 15]
        if not coins or bad:
            raise CliError(f"altpulse: --coins: expected comma-separated coin symbols like ETH,SOL; got {args.coins!r}")
        config = config.with_overrides("general", coins=coins)
    return config


def _mode(args: argparse.Namespace) -> str:
    if getattr(args, "follow", None) is not None:
        if args.replay is not None or args.at is not None:
            raise CliError("altpulse: --follow reads a collector's store: it does not take --replay or --at")
        return "follow"
    if args.replay is not None:
        if not args.replay.exists():
            raise CliError(f"altpulse: --replay: {args.replay} does not exist (a folder of files or a store)")
        if args.speed <= 0 or args.speed > 10_000:
            raise CliError(f"altpulse: --speed: expected a number in (0, 10000], got {args.speed}")
        if args.at is not None:
            from analytics.calendar import parse_utc_ms

            try:
                parse_utc_ms(args.at)
            except (ValueError, TypeError):
                raise CliError(
                    f"altpulse: --at: expected an ISO-8601 time like 2025-10-11T12:00:00Z, got {args.at!r}"
                ) from None
        return "replay"
    if args.at is not None:
        raise CliError("altpulse: --at only applies with --replay DIR")
    return "demo" if args.demo else "live"


def main(argv: list[str] | None = None) -> None:
    try:
        code = _main(sys.argv[1:] if argv is None else argv)
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # last resort: one line, details in the log
        logging.getLogger(__name__).exception("unexpected error")
        print(f"altpulse: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    raise SystemExit(code)


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.log_file)
    if args.command == "status":  # before the config: a fresh cache is answered without loading it
        from tui.commands.status_line import run_status

        return run_status(args, load_config=lambda: _load(args), resolve_mode=lambda: _mode(args))
    config = _load(args)
    if args.command == "collect" and args.alerts:  # one process records and alerts: watch --record
        from tui.commands.watch import run_watch

        return run_watch(config, args, record=True)
    if args.command == "collect":
        from tui.commands.collect import run_collect

        return run_collect(config, args)
    if args.command == "watch":
        from tui.commands.watch import run_watch

        _mode(args)  # the replay path and --at, checked like the console's
        if args.watch_speed is not None and not 0 < args.watch_speed <= 10_000:
            raise CliError(f"altpulse: --speed: expected a number in (0, 10000], got {args.watch_speed}")
        args.speed = args.watch_speed
        return run_watch(config, args)
    if args.command == "store":
        from tui.commands.store_cli import run_store

        return run_store(config, args)
    if args.command == "backtest":
        from tui.commands.backtest import run_backtest_command
        from tui.runtime.modes import UsageError

        try:
            return run_backtest_command(config, args)
        except UsageError as exc:
            raise CliError(f"altpulse: {exc}") from None
    if args.command == "doctor":
        from tui.commands.doctor import run_doctor

        return run_doctor(config, args)
    mode = _mode(args)
    if args.command == "snapshot":
        from tui.commands.snapshot import run_snapshot
        from tui.runtime.modes import UsageError

        try:
            if not 0 <= args.listen <= 3600:
                raise CliError(f"altpulse: --listen: expected seconds in [0, 3600], got {args.listen}")
            return run_snapshot(config, mode, replay_dir=args.replay, at=args.at, as_json=args.json,
                                listen=args.listen)  # fmt: skip
        except UsageError as exc:
            raise CliError(f"altpulse: {exc}") from None
    from tui.app.app import AltpulseApp

    store = args.store
    if mode == "follow":
        from tui.runtime.recording import store_path

        store = Path(args.follow) if isinstance(args.follow, str) else store or store_path(
            config, "demo" if args.demo else "live")  # fmt: skip
        if not store.is_file():
            raise CliError(f"altpulse: --follow: {store}: no such store (start `altpulse collect` first)")
    record = False if args.no_record else None
    app = AltpulseApp(config, mode, replay_dir=args.replay, at=args.at, speed=args.speed, record=record, store=store)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    main()
