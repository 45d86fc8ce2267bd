"""Forced liquidations on the three big perp venues (Binance, Bybit, OKX): one record type, three strict
parsers.

Market meaning. A liquidation is the exchange closing a leveraged position whose margin ran out. A wave of
*long* liquidations is forced selling: it drives price down, which liquidates the next layer of longs (a
cascade). The console sums them in USD per hour and compares the last hour with the trailing hourly median
(:mod:`analytics.liquidations`).

Every record says which position was liquidated (``side="long"`` means a long was force-closed), the size in
coins and the price in USD (USDT taken as USD). The venues disagree on how they say it (shared/sources.md
§1.5, §2.3, §3, §7.4):

- **Binance**, WS ``!forceOrder@arr`` on the ``/market`` tier (``wss://fstream.binance.com/market/ws/!forceOrder@arr``,
  developers.binance.com "WebSocket Change Notice", legacy unrouted URLs retired 2026-04-23; checked 2026-12):
  ``{"e":"forceOrder","E":ms,"o":{s,S,q,p,ap,X,l,z,T}}``. A long was
  liquidated when ``o.S == "SELL"`` (the forced order's side). Notional ``z * ap`` (filled qty x average
  price).
- **Bybit**, WS ``allLiquidation.<SYMBOL>``: ``{"topic","type":"snapshot","ts","data":[{T,s,S,v,p}]}``. A long
  was liquidated when ``S == "Buy"`` (Bybit's docs: the *position* side). Notional ``v * p`` (size x
  bankruptcy price).
- **OKX**, WS channel ``liquidation-orders`` and REST ``/api/v5/public/liquidation-orders``:
  ``data[{instId, uly, details[{side, posSide, bkPx, sz, bkLoss, ts}]}]``. A long was liquidated when
  ``posSide == "long"``, or in net mode (``posSide == "net"``) when ``side == "sell"``. Notional
  ``sz * ctVal * bkPx`` (``sz`` in contracts; inverse ``-USD-SWAP``: ``sz * ctVal`` USD).

Completeness: Binance pushes at most **one order per symbol per second** (snapshot semantics), so its totals
are a lower bound; OKX says its channel "doesn't represent the total number of liquidations"; Bybit's
``allLiquidation`` pushes every 500 ms. None of them offers keyless history except OKX REST (per underlying),
so the console records its own tape.

Symbols: Binance and Bybit list small-priced coins as ``1000PEPEUSDT`` (price x1000, size /1000). The parsers
map them back to the coin (``PEPE``) and rescale qty x1000 and price /1000, so the notional is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from records.liquidations import BINANCE, BYBIT, OKX, Liquidation, Side
from sources.errors import SourceError
from sources.symbols import SCALED_COINS  # the one table of 1000x listings, shared with funding/OI
from sources.values import field, req_float, to_int

#: Binance routes USD-M streams by tier since 2026-04-23; liquidations are on /market (sources.binance_routes).
BINANCE_WS_URL = "wss://fstream.binance.com/market/ws/!forceOrder@arr"
BYBIT_WS_URL = "wss://stream.bybit.com/v5/public/linear"
OKX_WS_URL = "wss://ws.okx.com:8443/ws/v5/public"
OKX_REST_BASE = "https://www.okx.com"
OKX_REST_PATH = "/api/v5/public/liquidation-orders"

BINANCE_ENDPOINT = "ws !forceOrder@arr"
BYBIT_ENDPOINT = "ws allLiquidation"
OKX_WS_ENDPOINT = "ws liquidation-orders"


# --- symbols ------------------------------------------------------------------------------------------------

#: Scale prefixes Binance/Bybit put in front of small-priced coins (``1000PEPEUSDT``, ``1000000MOGUSDT``,
#: ``1MBABYDOGEUSDT``). Longest first so ``1000000`` wins over ``1000``.
_SCALE_PREFIXES: tuple[tuple[str, int], ...] = (
    ("1000000", 1_000_000),
    ("100000", 100_000),
    ("10000", 10_000),
    ("1000", 1_000),
    ("1M", 1_000_000),
)
_QUOTES = ("USDT", "USDC", "PERP")  # Bybit's USDC perps are BTCPERP
_DELIVERY = re.compile(
    r"^(?P<root>[A-Z0-9]+)_(?P<expiry>\d{6})$"
)  # Binance USD-M quarterlies: BTCUSDT_250926


def split_venue_symbol(symbol: str) -> tuple[str, int]:
    """``"1000PEPEUSDT"`` -> ``("PEPE", 1000)``; ``"BTCUSDT"`` -> ``("BTC", 1)``; ``"BTCPERP"`` -> ``("BTC",
    1)``.

    The multiplier is how many coins one venue unit stands for: qty_coins = qty x mult, price_usd = price /
    mult. Raises ``ValueError`` for a symbol that is not a USD-stablecoin-margined perp/future (e.g.
    ``BTCUSD_PERP``, a coin-margined contract whose size is in USD contracts, or an empty base).
    """
    s = symbol.strip().upper()
    match = _DELIVERY.match(s)
    if match:
        s = match.group("root")
    for quote in _QUOTES:
        if s.endswith(quote) and len(s) > len(quote):
            base = s[: -len(quote)]
            break
    else:
        raise ValueError(f"not a USDT/USDC-margined symbol: {symbol!r}")
    mult = 1
    if len(base) > 4 and base.endswith("1000") and base[-5].isalpha():
        return base[:-4], 1000  # Bybit's older suffix form: SHIB1000USDT
    for prefix, scale in _SCALE_PREFIXES:
        # "1INCH" must stay 1INCH: the prefix must be followed by a letter and leave a non-empty coin.
        if base.startswith(prefix) and len(base) > len(prefix) and base[len(prefix)].isalpha():
            base, mult = base[len(prefix) :], scale
            break
    if not base.isalnum():
        raise ValueError(f"unexpected characters in symbol {symbol!r}")
    return base, mult


def venue_symbol(coin: str, exchange: str, multipliers: Mapping[str, int] | None = None) -> str:
    """The linear USDT perp symbol of ``coin`` on Binance/Bybit (``"PEPE"`` -> ``"1000PEPEUSDT"``)."""
    mult = (multipliers if multipliers is not None else SCALED_COINS.get(exchange, {})).get(coin.upper(), 1)
    prefix = "" if mult == 1 else str(mult)
    return f"{prefix}{coin.upper()}USDT"


def _coin_and_mult(symbol: Any, provider: str, endpoint: str, name: str) -> tuple[str, str, int]:
    if not isinstance(symbol, str) or not symbol:
        raise SourceError(provider, endpoint, f"expected a symbol string, got {symbol!r}", field=name)
    try:
        coin, mult = split_venue_symbol(symbol)
    except ValueError as exc:
        raise SourceError(provider, endpoint, str(exc), field=name) from None
    return symbol, coin, mult


def _positive(value: Any, provider: str, endpoint: str, name: str) -> float:
    number = req_float(value, provider, endpoint, name)
    if number <= 0:
        raise SourceError(provider, endpoint, f"must be positive, got {number}", field=name)
    return number


def _non_negative(value: Any, provider: str, endpoint: str, name: str) -> float:
    number = req_float(value, provider, endpoint, name)
    if number < 0:
        raise SourceError(provider, endpoint, f"must not be negative, got {number}", field=name)
    return number


def _time_ms(value: Any, provider: str, endpoint: str, name: str) -> int:
    ms = to_int(value, provider, endpoint, name)
    # 2017-01-01 .. 2100-01-01: catches seconds-for-milliseconds and garbage.
    if not 1_483_228_800_000 <= ms <= 4_102_444_800_000:
        raise SourceError(provider, endpoint, f"timestamp out of range: {ms}", field=name)
    return ms


# --- Binance ------------------------------------------------------------------------------------------------


def parse_binance_force_order(raw: Any, endpoint: str = BINANCE_ENDPOINT) -> list[Liquidation]:
    """One ``!forceOrder@arr`` (or ``<symbol>@forceOrder``) message -> 0 or more records.

    Accepts the raw event, a combined-stream wrapper ``{"stream":..,"data":event}`` and a JSON array of
    events. ``S == "SELL"`` is the forced *sell* that closes a long, so it is a long liquidation; ``BUY`` a
    short one. qty is ``z`` (cumulative filled), price ``ap`` (average fill price); an order with nothing
    filled yet (``z == 0``) carries no liquidation and yields no record.
    """
    if isinstance(raw, list):
        out: list[Liquidation] = []
        for item in raw:
            out.extend(parse_binance_force_order(item, endpoint))
        return out
    if isinstance(raw, Mapping) and "stream" in raw and "data" in raw:
        return parse_binance_force_order(raw["data"], endpoint)
    event = field(raw, "e", BINANCE, endpoint)
    if event != "forceOrder":
        raise SourceError(BINANCE, endpoint, f"unexpected event type {event!r}", field="e")
    order = field(raw, "o", BINANCE, endpoint)
    symbol, coin, mult = _coin_and_mult(field(order, "s", BINANCE, endpoint), BINANCE, endpoint, "o.s")
    side_raw = field(order, "S", BINANCE, endpoint)
    if side_raw == "SELL":
        side: Side = "long"
    elif side_raw == "BUY":
        side = "short"
    else:
        raise SourceError(BINANCE, endpoint, f"expected SELL or BUY, got {side_raw!r}", field="o.S")
    filled = _non_negative(field(order, "z", BINANCE, endpoint), BINANCE, endpoint, "o.z")
    when = order.get("T", raw.get("E"))
    time = _time_ms(when, BINANCE, endpoint, "o.T")
    if filled == 0:
        return []
    avg = _positive(field(order, "ap", BINANCE, endpoint), BINANCE, endpoint, "o.ap")
    qty = filled * mult
    price = avg / mult
    return [Liquidation(time, BINANCE, coin, side, qty, price, filled * avg, symbol)]


# --- Bybit --------------------------------------------------------------------------------------------------


def parse_bybit_all_liquidation(raw: Any, endpoint: str = BYBIT_ENDPOINT) -> list[Liquidation]:
    """One ``allLiquidation.<SYMBOL>`` push -> records (``data`` is a list; a single object is accepted too).

    Bybit's ``S`` is the *position* side: ``Buy`` means a long was liquidated (bybit-exchange/docs
    ``all-liquidation.mdx``). ``v`` is the executed size (coins, or 1000-coin units for ``1000PEPEUSDT``),
    ``p`` the bankruptcy price. The legacy ``liquidation.<SYMBOL>`` topic is rejected: Bybit removed it from
    the docs.
    """
    topic = field(raw, "topic", BYBIT, endpoint)
    if not isinstance(topic, str) or not topic.startswith("allLiquidation."):
        hint = (
            " (legacy topic; subscribe to allLiquidation.<SYMBOL>)"
            if str(topic).startswith("liquidation.")
            else ""
        )
        raise SourceError(BYBIT, endpoint, f"unexpected topic {topic!r}{hint}", field="topic")
    topic_symbol = topic.split(".", 1)[1]
    data = field(raw, "data", BYBIT, endpoint)
    items = [data] if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise SourceError(BYBIT, endpoint, f"expected a list, got {type(data).__name__}", field="data")
    out: list[Liquidation] = []
    for item in items:
        symbol, coin, mult = _coin_and_mult(field(item, "s", BYBIT, endpoint), BYBIT, endpoint, "data.s")
        if symbol != topic_symbol:
            raise SourceError(BYBIT, endpoint, f"symbol {symbol!r} under topic {topic!r}", field="data.s")
        side_raw = field(item, "S", BYBIT, endpoint)
        if side_raw == "Buy":
            side: Side = "long"
        elif side_raw == "Sell":
            side = "short"
        else:
            raise SourceError(BYBIT, endpoint, f"expected Buy or Sell, got {side_raw!r}", field="data.S")
        size = _positive(field(item, "v", BYBIT, endpoint), BYBIT, endpoint, "data.v")
        price = _positive(field(item, "p", BYBIT, endpoint), BYBIT, endpoint, "data.p")
        time = _time_ms(field(item, "T", BYBIT, endpoint), BYBIT, endpoint, "data.T")
        out.append(Liquidation(time, BYBIT, coin, side, size * mult, price / mult, size * price, symbol))
    return out


# --- OKX ----------------------------------------------------------------------------------------------------

def okx_inst_id(coin: str) -> str:
    return f"{coin.upper()}-USDT-SWAP"


def parse_okx_instruments(raw: Any, endpoint: str = "/api/v5/public/instruments") -> dict[str, float]:
    """``GET /api/v5/public/instruments?instType=SWAP`` -> ``{instId: contract size}``.

    The size is ``ctVal x ctMult``: coins per contract for linear swaps (``BTC-USDT-SWAP``: 0.01 BTC), USD per
    contract for inverse ones (``BTC-USD-SWAP``). Left out: instruments with an empty ``ctVal`` (pre-open), and
    those OKX files under another asset class (``instCategory`` other than ``1``, crypto: stock, commodity, forex
    and bond perpetuals). Docs: OKX v5 "Get instruments" (page copy of 2026-07-03, checked 2026-12).
    """
    data = _okx_envelope(raw, endpoint)
    out: dict[str, float] = {}
    for item in data:
        inst = field(item, "instId", OKX, endpoint)
        ct = field(item, "ctVal", OKX, endpoint)
        if not isinstance(inst, str) or ct in ("", None):
            continue
        category = item.get("instCategory")
        if category not in (None, "", "1"):
            continue
        mult = item.get("ctMult")
        factor = 1.0 if mult in ("", None) else _positive(mult, OKX, endpoint, "ctMult")
        out[inst] = _positive(ct, OKX, endpoint, "ctVal") * factor
    return out


def _okx_envelope(raw: Any, endpoint: str) -> list[Any]:
    """REST ``{"code":"0","msg":"","data":[...]}`` or a WS push ``{"arg":{..},"data":[...]}`` -> ``data``."""
    if isinstance(raw, Mapping) and "code" in raw:
        code = raw.get("code")
        if str(code) != "0":
            msg = raw.get("msg")
            msg = msg if isinstance(msg, str) else ""
            raise SourceError(OKX, endpoint, f"error code {code}: {msg[:120]}", field="code")
    data = field(raw, "data", OKX, endpoint)
    if not isinstance(data, list):
        raise SourceError(OKX, endpoint, f"expected a list, got {type(data).__name__}", field="data")
    return data


def parse_okx_liquidation_orders(
    raw: Any,
    ct_val: Mapping[str, float],
    endpoint: str = OKX_WS_ENDPOINT,
    *,
    unknown: Literal["raise", "skip"] = "raise",
    unsized: dict[str, list[Any]] | None = None,
) -> list[Liquidation]:
    """An OKX ``liquidation-orders`` WS push or REST response -> records.

    ``sz`` is in **contracts**: for a linear swap (``X-USDT-SWAP``) qty = ``sz x ctVal`` coins and the
    notional is ``qty x bkPx``; for an inverse swap (``X-USD-SWAP``) ``ctVal`` is USD, so the notional is ``sz
    x ctVal`` and qty = notional / ``bkPx``. ``ct_val`` maps instId -> ctVal (the exchange's own table,
    :func:`parse_okx_instruments`); an instrument missing from it raises, or with ``unknown="skip"`` is kept
    aside in ``unsized`` (instId -> its raw entries) for the caller to size once the table knows it: never
    dropped silently, never sized with a guess. With ``unknown="skip"`` an entry for an instrument this console
    does not follow (OKX's USD-margined ``BTC-USD_UM-SWAP``, say) is passed over without spoiling the rest of the
    message.

    Side: ``posSide`` ``long``/``short`` names the liquidated position directly (hedge mode); in net mode
    (``posSide == "net"``) a forced ``sell`` closes a long and a forced ``buy`` a short. A hedge-mode detail
    whose order side contradicts its position side (``long`` with ``buy``) is rejected.
    """
    out: list[Liquidation] = []
    for entry in _okx_envelope(raw, endpoint):
        inst = field(entry, "instId", OKX, endpoint)
        if not isinstance(inst, str) or not inst.endswith("-SWAP") or inst.count("-") != 2:
            if unknown == "skip" and isinstance(inst, str):
                continue
            raise SourceError(
                OKX, endpoint, f"expected a SWAP instId like BTC-USDT-SWAP, got {inst!r}", field="instId"
            )
        coin, quote, _ = inst.split("-")
        if quote not in ("USDT", "USDC", "USD") or not coin.isalnum():
            if unknown == "skip":
                continue
            raise SourceError(OKX, endpoint, f"unsupported instrument {inst!r}", field="instId")
        details = field(entry, "details", OKX, endpoint)
        if not isinstance(details, list):
            raise SourceError(
                OKX, endpoint, f"expected a list, got {type(details).__name__}", field="details"
            )
        if inst not in ct_val:
            if unknown == "skip":
                if unsized is not None:
                    unsized.setdefault(inst, []).append(entry)
                continue
            raise SourceError(OKX, endpoint, f"no contract value (ctVal) known for {inst}", field="instId")
        contract = float(ct_val[inst])
        for detail in details:
            side_raw = field(detail, "side", OKX, endpoint)
            pos_side = field(detail, "posSide", OKX, endpoint)
            if side_raw not in ("buy", "sell"):
                raise SourceError(
                    OKX, endpoint, f"expected buy or sell, got {side_raw!r}", field="details.side"
                )
            if pos_side == "long":
                side: Side = "long"
            elif pos_side == "short":
                side = "short"
            elif pos_side == "net":
                side = "long" if side_raw == "sell" else "short"
            else:
                raise SourceError(
                    OKX, endpoint, f"expected long, short or net, got {pos_side!r}", field="details.posSide"
                )
            if (pos_side == "long" and side_raw != "sell") or (pos_side == "short" and side_raw != "buy"):
                raise SourceError(
                    OKX, endpoint, f"{pos_side} position closed by a {side_raw} order", field="details.side"
                )
            size = _positive(field(detail, "sz", OKX, endpoint), OKX, endpoint, "details.sz")
            price = _positive(field(detail, "bkPx", OKX, endpoint), OKX, endpoint, "details.bkPx")
            time = _time_ms(field(detail, "ts", OKX, endpoint), OKX, endpoint, "details.ts")
            if quote == "USD":
                notional = size * contract
                qty = notional / price
            else:
                qty = size * contract
                notional = qty * price
            out.append(Liquidation(time, OKX, coin, side, qty, price, notional, inst))
    return out


# --- frames -------------------------------------------------------------------------------------------------


