"""Liquidation parsers against the real/docs samples in shared/fixtures/real, plus hostile inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.okx_contracts import CT_VAL
from records.liquidations import records_to_frame
from sources.errors import SourceError
from sources.liquidations import (
    parse_binance_force_order,
    parse_bybit_all_liquidation,
    parse_okx_instruments,
    parse_okx_liquidation_orders,
    split_venue_symbol,
    venue_symbol,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real"
#: A contract-size table as OKX's instruments list gives it (BTC-USDT-SWAP: 0.01 BTC).
DEMO_OKX_CT_VAL = {f"{coin}-USDT-SWAP": value for coin, value in CT_VAL.items()}


def load(rel: str) -> object:
    path = REAL / rel
    if not path.exists():
        pytest.skip(f"fixture {rel} not available")
    return json.loads(path.read_text())


# --- real / docs samples ------------------------------------------------------------------------------------


def test_binance_docs_example_is_a_long_liquidation() -> None:
    raw = load("binance/ws_force_order_docs_example.json")
    [rec] = parse_binance_force_order(raw)
    assert rec.exchange == "binance" and rec.coin == "BTC" and rec.symbol == "BTCUSDT"
    assert rec.side == "long"  # S=SELL: the forced sell closes a long
    assert rec.qty == pytest.approx(0.014)
    assert rec.price == pytest.approx(9910.12345678)
    assert rec.notional_usd == pytest.approx(0.014 * 9910.12345678)
    assert rec.time == 1568014460893
    assert str(rec.timestamp) == "2019-09-09 07:34:20.893000+00:00"


def test_bybit_docs_example_sell_is_a_short_liquidation() -> None:
    raw = load("bybit/ws_all_liquidation_docs_example.json")
    [rec] = parse_bybit_all_liquidation(raw)
    assert (rec.exchange, rec.coin, rec.side) == ("bybit", "ROSE", "short")
    assert rec.qty == pytest.approx(20000)
    assert rec.price == pytest.approx(0.04499)
    assert rec.notional_usd == pytest.approx(20000 * 0.04499)
    assert rec.time == 1739502302929


def test_bybit_legacy_topic_is_rejected_with_a_hint() -> None:
    raw = load("bybit/ws_liquidation_legacy_topic.json")
    with pytest.raises(SourceError) as err:
        parse_bybit_all_liquidation(raw)
    assert err.value.provider == "bybit" and err.value.field == "topic"
    assert "legacy" in str(err.value)


# --- venue semantics ----------------------------------------------------------------------------------------


def binance_msg(**order: object) -> dict:
    base = {
        "s": "BTCUSDT",
        "S": "BUY",
        "o": "LIMIT",
        "f": "IOC",
        "q": "2",
        "p": "60000",
        "ap": "60010",
        "X": "FILLED",
        "l": "2",
        "z": "2",
        "T": 1_700_000_000_000,
    }
    base.update(order)
    return {"e": "forceOrder", "E": 1_700_000_000_001, "o": base}


def test_binance_buy_is_short_and_1000pepe_is_rescaled() -> None:
    [short] = parse_binance_force_order(binance_msg())
    assert short.side == "short" and short.notional_usd == pytest.approx(2 * 60010)
    [pepe] = parse_binance_force_order(binance_msg(s="1000PEPEUSDT", S="SELL", z="5000", ap="0.012"))
    assert (pepe.coin, pepe.side) == ("PEPE", "long")
    assert pepe.qty == pytest.approx(5_000_000) and pepe.price == pytest.approx(0.000012)
    assert pepe.notional_usd == pytest.approx(60.0)  # unchanged by the rescale


def test_binance_wrappers_and_unfilled_orders() -> None:
    combined = {"stream": "!forceOrder@arr", "data": binance_msg()}
    assert len(parse_binance_force_order(combined)) == 1
    assert len(parse_binance_force_order([binance_msg(), binance_msg(S="SELL")])) == 2
    assert parse_binance_force_order(binance_msg(z="0", ap="0")) == []


def test_bybit_buy_is_long_and_scaled_symbols() -> None:
    msg = {
        "topic": "allLiquidation.1000PEPEUSDT",
        "type": "snapshot",
        "ts": 1_700_000_000_500,
        "data": [
            {"T": 1_700_000_000_400, "s": "1000PEPEUSDT", "S": "Buy", "v": "100", "p": "0.01"},
            {"T": 1_700_000_000_450, "s": "1000PEPEUSDT", "S": "Sell", "v": "50", "p": "0.011"},
        ],
    }
    long, short = parse_bybit_all_liquidation(msg)
    assert (long.coin, long.side, short.side) == ("PEPE", "long", "short")
    assert long.qty == pytest.approx(100_000) and long.price == pytest.approx(0.00001)
    assert long.notional_usd == pytest.approx(1.0)


def okx_push(details: list[dict], inst: str = "BTC-USDT-SWAP") -> dict:
    family = inst.removesuffix("-SWAP")
    return {
        "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
        "data": [
            {"details": details, "instFamily": family, "instId": inst, "instType": "SWAP", "uly": family}
        ],
    }


def okx_detail(**kw: str) -> dict:
    base = {
        "bkLoss": "0",
        "bkPx": "60000",
        "ccy": "",
        "posSide": "long",
        "side": "sell",
        "sz": "25",
        "ts": "1700000000000",
    }
    base.update(kw)
    return base


def test_okx_contracts_times_ctval_and_sides() -> None:
    recs = parse_okx_liquidation_orders(
        okx_push(
            [
                okx_detail(),
                okx_detail(posSide="short", side="buy", sz="3"),
                okx_detail(posSide="net", side="sell", sz="1"),
                okx_detail(posSide="net", side="buy", sz="1"),
            ]
        ),
        DEMO_OKX_CT_VAL,
    )
    assert [r.side for r in recs] == ["long", "short", "long", "short"]
    assert recs[0].qty == pytest.approx(0.25)  # 25 contracts x 0.01 BTC
    assert recs[0].notional_usd == pytest.approx(0.25 * 60000)
    assert recs[0].symbol == "BTC-USDT-SWAP" and recs[0].coin == "BTC"


def test_okx_inverse_swap_ctval_is_usd() -> None:
    [rec] = parse_okx_liquidation_orders(
        okx_push([okx_detail(sz="10")], "BTC-USD-SWAP"), {"BTC-USD-SWAP": 100}
    )
    assert rec.notional_usd == pytest.approx(1000.0)
    assert rec.qty == pytest.approx(1000.0 / 60000)


def test_okx_rest_envelope_and_error_code() -> None:
    rest = {"code": "0", "msg": "", "data": okx_push([okx_detail()])["data"]}
    assert len(parse_okx_liquidation_orders(rest, DEMO_OKX_CT_VAL, "/api/v5/public/liquidation-orders")) == 1
    with pytest.raises(SourceError, match="50015") as err:
        parse_okx_liquidation_orders({"code": "50015", "msg": "uly or instFamily required", "data": []}, {})
    assert err.value.field == "code"


def test_okx_unknown_instrument_raises_or_skips() -> None:
    msg = okx_push([okx_detail()], "NEWCOIN-USDT-SWAP")
    with pytest.raises(SourceError, match="ctVal"):
        parse_okx_liquidation_orders(msg, DEMO_OKX_CT_VAL)
    assert parse_okx_liquidation_orders(msg, DEMO_OKX_CT_VAL, unknown="skip") == []


def test_okx_instruments_table() -> None:
    raw = {
        "code": "0",
        "msg": "",
        "data": [
            {"instId": "BTC-USDT-SWAP", "ctVal": "0.01", "ctMult": "1", "instCategory": "1"},
            {"instId": "X-USDT-SWAP", "ctVal": ""},  # pre-open: no size yet
            {"instId": "ETH-USDT-SWAP", "ctVal": "0.1", "ctMult": "10"},  # size = ctVal x ctMult
            {"instId": "AAPL-USDT-SWAP", "ctVal": "1", "ctMult": "1", "instCategory": "3"},  # a stock perp
        ],
    }
    assert parse_okx_instruments(raw) == {"BTC-USDT-SWAP": 0.01, "ETH-USDT-SWAP": 1.0}


def test_okx_unsupported_instrument_does_not_spoil_the_push() -> None:
    """OKX's USD-margined BTC-USD_UM-SWAP in the same push as a USDT swap: the USDT one is still read."""
    msg = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
           "data": [*okx_push([okx_detail()], "BTC-USD_UM-SWAP")["data"], *okx_push([okx_detail()])["data"]]}
    with pytest.raises(SourceError, match="unsupported instrument"):
        parse_okx_liquidation_orders(msg, DEMO_OKX_CT_VAL)
    assert [r.symbol for r in parse_okx_liquidation_orders(msg, DEMO_OKX_CT_VAL, unknown="skip")] == ["BTC-USDT-SWAP"]


def test_okx_contracts_hold_unsized_liquidations_until_the_table_knows_them() -> None:
    from sources.ws import OkxContracts

    contracts = OkxContracts(coins=frozenset({"BTC", "NEW"}))
    push = okx_push([okx_detail(), okx_detail(sz="4")], "NEW-USDT-SWAP")
    assert contracts.parse(push, "ws") == []  # no table yet: held, not guessed, not dropped
    assert contracts.held_details == 2 and "held until the contract sizes load" in contracts.describe()
    assert contracts.parse(okx_push([okx_detail()], "OTHER-USDT-SWAP"), "ws") == []  # not followed: not held
    assert contracts.held_details == 2
    recovered = contracts.update({"BTC-USDT-SWAP": 0.01})  # the table loads, without NEW yet
    assert recovered == [] and "not counted: contract size unknown (NEW-USDT-SWAP)" in contracts.describe()
    recovered = contracts.update({"BTC-USDT-SWAP": 0.01, "NEW-USDT-SWAP": 10.0})  # listed now: sized
    assert [r.qty for r in recovered] == pytest.approx([250.0, 40.0])
    assert contracts.held_details == 0 and contracts.describe() == ""


# --- symbols ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("BTCUSDT", ("BTC", 1)),
        ("1000PEPEUSDT", ("PEPE", 1000)),
        ("1000000MOGUSDT", ("MOG", 1_000_000)),
        ("1INCHUSDT", ("1INCH", 1)),
        ("SHIB1000USDT", ("SHIB", 1000)),
        ("BTCPERP", ("BTC", 1)),
        ("ETHUSDT_250926", ("ETH", 1)),
        ("1MBABYDOGEUSDT", ("BABYDOGE", 1_000_000)),
    ],
)
def test_split_venue_symbol(symbol: str, expected: tuple[str, int]) -> None:
    assert split_venue_symbol(symbol) == expected


@pytest.mark.parametrize("symbol", ["BTCUSD_PERP", "USDT", "", "BTC-USDT"])
def test_split_venue_symbol_rejects(symbol: str) -> None:
    with pytest.raises(ValueError):
        split_venue_symbol(symbol)


def test_venue_symbol_round_trip() -> None:
    assert venue_symbol("PEPE", "binance") == "1000PEPEUSDT"
    assert venue_symbol("BTC", "bybit") == "BTCUSDT"
    assert split_venue_symbol(venue_symbol("PEPE", "bybit")) == ("PEPE", 1000)


# --- hostile inputs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda m: m["o"].update(S="HOLD"), "o.S"),
        (lambda m: m["o"].update(z="NaN"), "o.z"),
        (lambda m: m["o"].update(z="-1"), "o.z"),
        (lambda m: m["o"].update(ap="0"), "o.ap"),
        (lambda m: m["o"].update(ap="abc"), "o.ap"),
        (lambda m: m["o"].update(T=1_700_000_000), "o.T"),  # seconds, not ms
        (lambda m: m["o"].update(s="BTCUSD_PERP"), "o.s"),
        (lambda m: m["o"].update(s=None), "o.s"),
        (lambda m: m["o"].pop("z"), "z"),
        (lambda m: m.update(e="markPriceUpdate"), "e"),
        (lambda m: m.update(o=[]), "s"),
    ],
)
def test_binance_hostile(mutate, field: str) -> None:
    msg = binance_msg()
    mutate(msg)
    with pytest.raises(SourceError) as err:
        parse_binance_force_order(msg)
    assert err.value.provider == "binance" and err.value.field == field


def bybit_msg() -> dict:
    return {
        "topic": "allLiquidation.BTCUSDT",
        "type": "snapshot",
        "ts": 1_700_000_000_500,
        "data": [{"T": 1_700_000_000_400, "s": "BTCUSDT", "S": "Buy", "v": "0.5", "p": "60000"}],
    }


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda m: m["data"][0].update(S="buy"), "data.S"),
        (lambda m: m["data"][0].update(v="0"), "data.v"),
        (lambda m: m["data"][0].update(p="inf"), "data.p"),
        (lambda m: m["data"][0].update(s="ETHUSDT"), "data.s"),  # symbol under another topic
        (lambda m: m["data"][0].update(T="yesterday"), "data.T"),
        (lambda m: m.update(data="x"), "data"),
        (lambda m: m.update(topic="tickers.BTCUSDT"), "topic"),
        (lambda m: m.pop("topic"), "topic"),
    ],
)
def test_bybit_hostile(mutate, field: str) -> None:
    msg = bybit_msg()
    mutate(msg)
    with pytest.raises(SourceError) as err:
        parse_bybit_all_liquidation(msg)
    assert err.value.provider == "bybit" and err.value.field == field


@pytest.mark.parametrize(
    ("detail", "field"),
    [
        ({"posSide": "long", "side": "buy"}, "details.side"),  # contradiction
        ({"posSide": "both"}, "details.posSide"),
        ({"side": "SELL"}, "details.side"),
        ({"sz": ""}, "details.sz"),
        ({"bkPx": "-1"}, "details.bkPx"),
        ({"ts": "1700000000"}, "details.ts"),
    ],
)
def test_okx_hostile_details(detail: dict, field: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_okx_liquidation_orders(okx_push([okx_detail(**detail)]), DEMO_OKX_CT_VAL)
    assert err.value.provider == "okx" and err.value.field == field


@pytest.mark.parametrize("inst", ["BTC-USDT", "BTC-USDT-250926", "BTC-EUR-SWAP", 7])
def test_okx_hostile_instruments(inst: object) -> None:
    msg = okx_push([okx_detail()])
    msg["data"][0]["instId"] = inst
    with pytest.raises(SourceError) as err:
        parse_okx_liquidation_orders(msg, DEMO_OKX_CT_VAL)
    assert err.value.field == "instId"


def test_okx_details_not_a_list() -> None:
    msg = okx_push([])
    msg["data"][0]["details"] = {"sz": "1"}
    with pytest.raises(SourceError, match="expected a list"):
        parse_okx_liquidation_orders(msg, DEMO_OKX_CT_VAL)


def test_records_to_frame_sorted_with_tape_columns() -> None:
    a = parse_binance_force_order(binance_msg(T=1_700_000_000_900))
    b = parse_bybit_all_liquidation(bybit_msg())
    frame = records_to_frame(a + b)
    assert list(frame.columns) == ["time", "exchange", "coin", "side", "qty", "price", "notional_usd"]
    assert frame["time"].tolist() == [1_700_000_000_400, 1_700_000_000_900]
    assert frame["time"].dtype == "int64"
    assert len(records_to_frame([])) == 0
