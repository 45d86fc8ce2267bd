"""The emulator served through real sockets, one loopback address per provider, for end-to-end runs and benchmarks.

Each provider gets its own address (127.0.0.2 = Binance spot, ...) on one port, so the console's HTTP client keeps a
budget per provider as it does against the real hosts; :func:`map_budgets` gives those addresses the real hosts'
budgets (``main`` also writes the address map beside the config, :func:`hosts_file`, for consoles in other
processes). :func:`write_config` writes the ``[sources]`` (and optional ``[general]``/``[cadence]``) a console needs
to talk to it. ``python -m emulator.loopback --config PATH`` serves the demo market this way until killed.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

#: config [sources] key -> (loopback address, the real host whose budget applies)
PROVIDERS = {
    "binance_spot": ("127.0.0.2", "data-api.binance.vision"),
    "binance_futures": ("127.0.0.3", "fapi.binance.com"),
    "bybit": ("127.0.0.4", "api.bybit.com"),
    "okx": ("127.0.0.5", "www.okx.com"),
    "hyperliquid": ("127.0.0.6", "api.hyperliquid.xyz"),
    "farside": ("127.0.0.7", "farside.co.uk"),
    "alternative_me": ("127.0.0.8", "api.alternative.me"),
    "coingecko": ("127.0.0.9", "api.coingecko.com"),
    "yahoo": ("127.0.0.10", "query2.finance.yahoo.com"),
    "stooq": ("127.0.0.11", "stooq.com"),
    "fred": ("127.0.0.12", "fred.stlouisfed.org"),
    "defillama": ("127.0.0.13", "stablecoins.llama.fi"),
}
WS_HOST = "127.0.0.1"


def loopback_hosts() -> dict[str, str]:
    """Each provider's loopback address -> the real host it stands for (whose budget applies)."""
    return {ip: host for ip, host in PROVIDERS.values()}


def hosts_file(config: Path) -> Path:
    """Where ``main`` writes :func:`loopback_hosts` as JSON, beside the config: a console under measurement maps
    its budgets from it (``sources.http.alias_budgets``) without importing the emulator into its own process."""
    return config.with_name("loopback_hosts.json")


def map_budgets(budgets: dict[str, tuple[float, float]]) -> None:
    """Give each provider's loopback address the budgets of the real host it stands for (in place)."""
    from sources.http import alias_budgets

    alias_budgets(budgets, loopback_hosts())


def bind_all(hosts: list[str]) -> tuple[list[socket.socket], int]:
    """Listening sockets on every host, all on one free port (retried if another process holds it)."""
    for _ in range(20):
        first = socket.socket()
        first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        first.bind((hosts[0], 0))
        port = first.getsockname()[1]
        socks = [first]
        try:
            for host in hosts[1:]:
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, port))
                socks.append(sock)
        except OSError:
            for sock in socks:
                sock.close()
            continue
        for sock in socks:
            sock.listen(128)
        return socks, port
    raise RuntimeError("no free port on the loopback addresses")


def write_config(path: Path, port: int, *, coins: list[str] | None = None,
                 cadence: dict[str, float] | None = None, timeout_s: float | None = None) -> Path:  # fmt: skip
    """A config.toml pointing every source at the served emulator (plus the given basket and cadences)."""
    from emulator.ws_streams import VENUE_PATH

    lines: list[str] = []
    if coins is not None:
        lines += ["[general]", "coins = [" + ", ".join(f'"{c}"' for c in coins) + "]", ""]
    if cadence:
        lines += ["[cadence]", *(f"{key} = {value}" for key, value in cadence.items()), ""]
    lines.append("[sources]")
    if timeout_s is not None:
        lines.append(f"timeout_seconds = {timeout_s}")
    lines += [f'{key} = "http://{ip}:{port}"' for key, (ip, _) in PROVIDERS.items()]
    for venue in ("binance", "bybit", "okx"):
        lines.append(f'{venue}_ws = "ws://{WS_HOST}:{port}{VENUE_PATH[venue]}"')
    path.write_text("\n".join(lines) + "\n")
    return path


class ServedEmulator:
    """The demo emulator (or ``emulator``) on :data:`WS_HOST` plus every provider address, in a background thread."""

    def __init__(self, emulator: Any = None, pre_faults: list[str] | None = None) -> None:
        import uvicorn

        from emulator.demo import demo_emulator
        from emulator.server import EmulatorASGI, apply_fault_spec
        from emulator.ws_streams import asgi_app, get_hub

        self.emulator = emulator if emulator is not None else demo_emulator(speed=1.0)
        for spec in pre_faults or []:
            apply_fault_spec(self.emulator, spec)
        self.app = EmulatorASGI(self.emulator, asgi_app(get_hub(self.emulator)))
        self.sockets, self.port = bind_all([WS_HOST, *(ip for ip, _ in PROVIDERS.values())])
        config = uvicorn.Config(self.app, log_level="critical", lifespan="off", ws="websockets-sansio",
                                timeout_graceful_shutdown=2)  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": self.sockets}, daemon=True)

    def __enter__(self) -> ServedEmulator:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("emulator server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        for sock in self.sockets:
            sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.loopback", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="write the console's config.toml here")
    parser.add_argument("--coins", default="", help="basket for the config (comma-separated); default: config.toml's")
    parser.add_argument("--speed", type=float, default=1.0, help="the simulated market's clock speed (default 1)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="a fault to switch on at start (as for python -m emulator); repeatable")
    args = parser.parse_args(argv)
    from emulator.demo import demo_emulator

    with ServedEmulator(demo_emulator(speed=args.speed), pre_faults=args.fault) as served:
        coins = [c.strip().upper() for c in args.coins.split(",") if c.strip()] or None
        # The hosts first: a waiting benchmark starts the console once the config exists.
        hosts_file(args.config).write_text(json.dumps(loopback_hosts()))
        write_config(args.config, served.port, coins=coins)
        print(f"serving on port {served.port}; config in {args.config}", flush=True)
        try:
            while served.thread.is_alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
