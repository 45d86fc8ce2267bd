"""Binance USD-M websocket routing: which ``fstream.binance.com`` URLs still carry liquidations.

Binance split its futures streams into three tiers on 2026-04-23 (developers.binance.com, "Important WebSocket
Change Notice - Base URL Split & Migration", copy of 2026-05-28): ``/public`` (book tickers, depth), ``/market``
(aggTrade, mark price, klines, tickers and ``forceOrder``) and ``/private`` (user data). The old unrouted URLs
(``wss://fstream.binance.com/ws/...``, ``/stream?streams=...``) still complete the handshake and acknowledge a
SUBSCRIBE, but forward only ``/public`` data, so a console still on one shows a connected feed that never delivers.
Kept free of heavy imports: the config loader uses it before the first paint.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MARKET_FORCE_ORDER_URL = "wss://fstream.binance.com/market/ws/!forceOrder@arr"


def binance_ws_problem(url: str) -> str | None:
    """Why a Binance USD-M stream URL receives no liquidations, or None when it is routed to ``/market``.

    Since 2026-04-23 Binance splits ``fstream.binance.com`` into ``/public``, ``/market`` and ``/private``; the old
    unrouted ``/ws/...`` and ``/stream?...`` URLs still complete the handshake and acknowledge a SUBSCRIBE but
    forward only ``/public`` streams, so ``!forceOrder@arr`` there is silent for ever.
    """
    parts = urlsplit(url)
    if not parts.hostname or not parts.hostname.endswith("fstream.binance.com"):
        return None  # a local emulator or another host: nothing to say from the URL alone
    tier = parts.path.strip("/").split("/", 1)[0]
    if tier == "market":
        return None
    if tier == "public":
        return "liquidations (!forceOrder) are /market streams: /public never carries them"
    return ("unrouted Binance futures stream URL: since 2026-04-23 it receives no /market streams "
            "(liquidations included); use wss://fstream.binance.com/market/ws/!forceOrder@arr")  # fmt: skip


def market_ws_url(url: str) -> str:
    """A retired unrouted (or ``/public``) fstream URL moved to the ``/market`` tier; others unchanged."""
    if binance_ws_problem(url) is None:
        return url
    parts = urlsplit(url)
    path = parts.path
    for tier in ("/public", "/private"):
        if path.startswith(tier + "/"):
            path = path[len(tier):]
    return urlunsplit((parts.scheme, parts.netloc, "/market" + (path or "/ws"), parts.query, parts.fragment))


