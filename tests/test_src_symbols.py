"""Venue symbol -> coin mapping, multipliers and the funding normalisation helpers."""

from __future__ import annotations

import numpy as np
import pytest

from records.derivs import CoinKey, annualise, rate_8h
from sources.symbols import (
    binance_symbol,
    bybit_symbol,
    hyperliquid_symbol,
    infer_interval_hours,
    okx_symbol,
    venue_symbol,
)


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("BTCUSDT", CoinKey("BTC", 1)),
        ("1000PEPEUSDT", CoinKey("PEPE", 1000)),
        ("1000000MOGUSDT", CoinKey("MOG", 1_000_000)),
        ("1INCHUSDT", CoinKey("1INCH", 1)),
        ("BTCUSDT_250328", None),  # dated
        ("BTCUSD_PERP", None),  # COIN-M
        ("ETHBTC", None),
        ("", None),
    ],
)
def test_binance_symbols(symbol: str, expected: CoinKey | None) -> None:
    assert binance_symbol(symbol) == expected


def test_bybit_symbols() -> None:
    assert bybit_symbol("1000PEPEUSDT") == CoinKey("PEPE", 1000)
    assert bybit_symbol("SHIB1000USDT") == CoinKey("SHIB", 1000)
    assert bybit_symbol("BTCPERP") is None  # USDC perpetual
    assert bybit_symbol("BTC-26DEC25") is None


def test_okx_and_hyperliquid_symbols() -> None:
    assert okx_symbol("BTC-USDT-SWAP") == CoinKey("BTC", 1)
    assert okx_symbol("BTC-USD-SWAP") is None
    assert okx_symbol("BTC-USDT-250328") is None
    assert hyperliquid_symbol("kPEPE") == CoinKey("PEPE", 1000)
    assert hyperliquid_symbol("BTC") == CoinKey("BTC", 1)
    assert hyperliquid_symbol("xyz:NVDA") is None


def test_venue_symbol_round_trips() -> None:
    assert venue_symbol("binance", "PEPE") == ("1000PEPEUSDT", 1000)
    assert venue_symbol("hyperliquid", "PEPE") == ("kPEPE", 1000)
    assert venue_symbol("okx", "PEPE") == ("PEPE-USDT-SWAP", 1)
    for exchange, parse in (("binance", binance_symbol), ("bybit", bybit_symbol), ("okx", okx_symbol),
                            ("hyperliquid", hyperliquid_symbol)):  # fmt: skip
        for coin in ("BTC", "PEPE", "SOL"):
            symbol, mult = venue_symbol(exchange, coin)
            assert parse(symbol) == CoinKey(coin, mult)


def test_normalisation() -> None:
    assert rate_8h(0.0001, 1) == pytest.approx(0.0008)
    assert rate_8h(0.0002, 4) == pytest.approx(0.0004)
    assert annualise(0.0001) == pytest.approx(0.1095)


def test_interval_inference_rounds_jitter_and_caps_gaps() -> None:
    hour = 3_600_000
    times = np.array([0, 8 * hour + 48, 16 * hour + 3, 32 * hour])  # ms jitter, then one missing row
    assert infer_interval_hours(times, 8).tolist() == [8.0, 8.0, 8.0, 8.0]
    assert infer_interval_hours(np.array([0, hour, 2 * hour]), 8).tolist() == [1.0, 1.0, 1.0]
    assert infer_interval_hours(np.array([5]), 4).tolist() == [4.0]
