"""Hyperliquid parsers against real captures (meta + asset ctxs, funding history) and hostile inputs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sources.errors import SourceError
from sources.hyperliquid import parse_funding_history, parse_meta_and_asset_ctxs

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real" / "hyperliquid"
AS_OF = 1_769_908_800_000


def load(name: str) -> Any:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real sample {name} not available")
    return json.loads(path.read_text())


def meta_and_ctxs() -> list[Any]:
    """metaAndAssetCtxs = [meta, ctxs]: the 3-asset meta sample (BTC, ETH, ATOM) and the first three main-dex
    ctxs of the live capture, which are the same three assets (prices 77.6k, 2124, 2.13)."""
    meta = load("meta_perp_nautilus.json")
    ctxs = load("ws_all_dexs_asset_ctxs.json")["data"]["ctxs"][0][1][:3]
    return [meta, ctxs]


def test_meta_and_asset_ctxs_capture() -> None:
    raw = meta_and_ctxs()
    snap = parse_meta_and_asset_ctxs(raw, AS_OF)
    btc = snap.funding[0]
    ctx = raw[1][0]
    assert [q.coin for q in snap.funding] == ["BTC", "ETH", "ATOM"]
    assert btc.interval_hours == 1 and btc.rate_8h == pytest.approx(float(ctx["funding"]) * 8)
    assert btc.mark_price == pytest.approx(float(ctx["markPx"]))
    assert btc.index_price == pytest.approx(float(ctx["oraclePx"]))  # the oracle is Hyperliquid's index
    assert (
        btc.next_funding_time is not None
        and btc.next_funding_time.value // 10**6 == (AS_OF // 3_600_000 + 1) * 3_600_000
    )
    oi = snap.open_interest[0]
    assert oi.oi_base == pytest.approx(float(ctx["openInterest"]))
    assert oi.oi_usd == pytest.approx(float(ctx["openInterest"]) * float(ctx["oraclePx"]))


def test_illiquid_ctx_with_nulls_parses() -> None:
    ctxs = load("ws_all_dexs_asset_ctxs.json")["data"]["ctxs"][0][1]
    illiquid = next(c for c in ctxs if c.get("premium") is None and c.get("midPx") is None)
    universe = {"universe": [{"name": "kPEPE", "szDecimals": 0, "maxLeverage": 10},
                             {"name": "OLD", "szDecimals": 0, "maxLeverage": 3, "isDelisted": True},
                             {"name": "xyz:NVDA", "szDecimals": 2, "maxLeverage": 10}]}  # fmt: skip
    snap = parse_meta_and_asset_ctxs([universe, [illiquid, illiquid, illiquid]], AS_OF)
    assert [q.symbol for q in snap.funding] == ["kPEPE"]  # delisted and builder-dex skipped
    assert snap.funding[0].coin == "PEPE"
    assert snap.funding[0].mark_price == pytest.approx(float(illiquid["markPx"]) / 1000)


def test_funding_history_intervals_then_and_now() -> None:
    old = parse_funding_history(load("funding_history_btc.json"))  # 2023: 8-hourly
    assert set(old["interval_hours"]) == {8.0}
    new = parse_funding_history(load("funding_history_nautilus.json"))  # 2026: hourly, premium optional
    assert new["interval_hours"].tolist() == [1.0, 1.0, 1.0]
    assert new["rate_8h"].tolist() == pytest.approx([0.0000125 * 8, -0.0000081 * 8, 0.0000033 * 8])


@pytest.mark.parametrize(
    ("mutate", "field_name"),
    [
        (lambda r: r[1][0].update(funding="oops"), "funding"),
        (lambda r: r[1][0].update(oraclePx=None), "oraclePx"),
        (lambda r: r[1][1].pop("openInterest"), "openInterest"),
        (lambda r: r[1].pop(), "assetCtxs"),
        (lambda r: r.pop(), "response"),
        (lambda r: r[0].pop("universe"), "universe"),
    ],
)
def test_hostile(mutate: Any, field_name: str) -> None:
    raw = copy.deepcopy(meta_and_ctxs())
    mutate(raw)
    with pytest.raises(SourceError) as info:
        parse_meta_and_asset_ctxs(raw, AS_OF)
    assert info.value.field == field_name and info.value.provider == "hyperliquid"


def test_funding_history_interval_follows_the_2023_switch() -> None:
    """Hyperliquid settled every 8 h until 2023-06-08 00:00 UTC and hourly from 01:00 (a real fundingHistory
    answer, hyperliquid-python-sdk@5cd90193). Rows are normalised by their period's interval, not by the gap to a
    neighbour: a window starting on the last 8 h row, and a missing hourly row, keep their true values."""
    from sources.hyperliquid import HOURLY_FROM_MS, parse_funding_history

    last_8h = 1_686_182_400_254  # 2023-06-08 00:00:00.254, "0.0001" (per 8 h)
    hourly = [HOURLY_FROM_MS + 54 + i * 3_600_000 for i in range(6) if i != 3]  # 04:00 missing
    rows = [{"coin": "BTC", "fundingRate": "0.0001", "premium": "0.0002", "time": last_8h}]
    rows += [{"coin": "BTC", "fundingRate": "0.0000125", "premium": "0.0002", "time": t} for t in hourly]
    frame = parse_funding_history(rows)
    assert frame["interval_hours"].tolist() == [8.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert frame["rate_8h"].tolist() == pytest.approx([0.0001] * 6)  # one 8 h equivalent across the switch
    # A single pre-switch row is still per 8 h (the old fallback read it as hourly: 8x too high).
    assert parse_funding_history(rows[:1])["rate_8h"].tolist() == pytest.approx([0.0001])
