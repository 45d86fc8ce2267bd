"""Command line entry point (filled in below)."""


def main() -> None:  # pragma: no cover - replaced by the real CLI
    raise SystemExit("altpulse: not built yet")
