"""The demo market's macro and flow context: ETF flows, Fear & Greed, CoinGecko snapshots, SPY/QQQ, DGS2.

:func:`fill` adds these to a :class:`~emulator.dataset.MarketDataset` already holding the simulated
spot klines, seeded with ``scenario.seed + 3`` and tied to the simulated BTC/ETH prices (hourly ``BTCUSDT`` /
``ETHUSDT`` frames), so the story is coherent across panes:

* **ETF flows** (US trading days, NYSE holidays skipped): daily net flow follows the day's BTC (ETH) return
  with an autocorrelated tail, split over the real fund list with fund-specific weights (GBTC/ETHE bleeding,
  small funds often flat). In the last trading days before the anchor an outflow streak (5 days, one below
  -$250M) is laid in: the "ETF outflows" and "Institutional selling" drivers are active.
* **Fear & Greed**: a daily 0-100 index driven by the 14-day BTC return, sliding over the last week into
  Extreme Fear (23 on the anchor day, 16 the day after): the "Extreme fear" driver is active.
* **CoinGecko global**: daily snapshots plus hourly ones over the last two days and the demo day. BTC
  dominance rises about +1.8 points and the USDT+USDC share about +0.9 point over the 30 days before the
  anchor ("Bitcoin dominance rising", "Stablecoin rotation"). A console starts with no kept snapshots, so its
  first 30 days estimate both changes from the coin markets' 30-day price changes below (and the DefiLlama supply):
  over the demo's coins that estimate rises too, within about a point of the story's figures.
* **Stablecoin supply** (DefiLlama's daily chart): the USD value of all USD stablecoins, USDT + USDC being
  :data:`USDT_USDC_PART` of it, so that CoinGecko's USDT + USDC share times its total market cap matches the
  supply on every day; it grows with that share (the bootstrap of "Stablecoin rotation" reads it).
* **Top-100 coin markets**: daily snapshots (hourly near the anchor) for 100 real coin names; coins with demo
  klines use those prices, the rest are simulated so that the 50 smallest trail the 50 largest by about 20
  percentage points over 30 days ("Small caps lagging").
* **SPY / QQQ** daily sessions (open 09:30 New York) with a -3%+ slide over the last five completed sessions
  ("Stock-market weakness").
* **DGS2** (2-year Treasury, percent) on business days, rising about +0.36 point over the 16 days before the
  anchor ("Rates / Fed uncertainty").

Vectorised; the whole fill takes a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from emulator.dataset import SPOT, USDM, MarketDataset
from emulator.scenario import DAY, HOUR, MINUTE, Scenario

BTC_FUNDS = ("IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "GBTC", "BTC")
BTC_WEIGHTS = (0.50, 0.20, 0.06, 0.06, 0.015, 0.015, 0.01, 0.03, 0.005, 0.07, 0.035)
ETH_FUNDS = ("ETHA", "FETH", "ETHW", "CETH", "ETHV", "QETH", "EZET", "ETHE", "ETH")
ETH_WEIGHTS = (0.55, 0.17, 0.05, 0.02, 0.04, 0.01, 0.01, 0.08, 0.07)

#: NYSE full-day holidays (also bond-market holidays for the DGS2 gaps), 2025-2027.
US_HOLIDAYS = frozenset(pd.to_datetime([
    "2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
    "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25", "2026-01-01", "2026-01-19", "2026-02-16",
    "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25",
    "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05",
    "2027-09-06", "2027-11-25", "2027-12-24",
]).date)  # fmt: skip

#: (CoinGecko id, symbol, name) of a realistic top-100, largest first; stablecoins are flagged by STABLES.
TOP_COINS: list[tuple[str, str, str]] = [
    (coin_id, symbol, name)
    for coin_id, symbol, name in (line.split(",", 2) for line in """
bitcoin,BTC,Bitcoin
ethereum,ETH,Ethereum
tether,USDT,Tether
ripple,XRP,XRP
binancecoin,BNB,BNB
solana,SOL,Solana
usd-coin,USDC,USDC
dogecoin,DOGE,Dogecoin
tron,TRX,TRON
cardano,ADA,Cardano
hyperliquid,HYPE,Hyperliquid
chainlink,LINK,Chainlink
sui,SUI,Sui
stellar,XLM,Stellar
bitcoin-cash,BCH,Bitcoin Cash
avalanche-2,AVAX,Avalanche
hedera-hashgraph,HBAR,Hedera
litecoin,LTC,Litecoin
leo-token,LEO,LEO Token
the-open-network,TON,Toncoin
shiba-inu,SHIB,Shiba Inu
polkadot,DOT,Polkadot
monero,XMR,Monero
dai,DAI,Dai
ethena-usde,USDE,Ethena USDe
uniswap,UNI,Uniswap
aave,AAVE,Aave
pepe,PEPE,Pepe
near,NEAR,NEAR Protocol
ethena,ENA,Ethena
bittensor,TAO,Bittensor
aptos,APT,Aptos
internet-computer,ICP,Internet Computer
ethereum-classic,ETC,Ethereum Classic
ondo-finance,ONDO,Ondo
polygon-ecosystem-token,POL,POL
mantle,MNT,Mantle
cronos,CRO,Cronos
kaspa,KAS,Kaspa
vechain,VET,VeChain
render-token,RENDER,Render
arbitrum,ARB,Arbitrum
fetch-ai,FET,Artificial Superintelligence Alliance
cosmos,ATOM,Cosmos Hub
algorand,ALGO,Algorand
filecoin,FIL,Filecoin
worldcoin-wld,WLD,Worldcoin
official-trump,TRUMP,Official Trump
jupiter-exchange-solana,JUP,Jupiter
sei-network,SEI,Sei
bonk,BONK,Bonk
optimism,OP,Optimism
injective-protocol,INJ,Injective
stacks,STX,Stacks
celestia,TIA,Celestia
immutable-x,IMX,Immutable
the-graph,GRT,The Graph
dogwifcoin,WIF,dogwifhat
floki,FLOKI,FLOKI
lido-dao,LDO,Lido DAO
theta-token,THETA,Theta Network
quant-network,QNT,Quant
maker,MKR,Maker
thorchain,RUNE,THORChain
pendle,PENDLE,Pendle
curve-dao-token,CRV,Curve DAO
the-sandbox,SAND,The Sandbox
decentraland,MANA,Decentraland
gala,GALA,GALA
flow,FLOW,Flow
elrond-erd-2,EGLD,MultiversX
tezos,XTZ,Tezos
eos,EOS,EOS
neo,NEO,NEO
iota,IOTA,IOTA
kaia,KAIA,Kaia
jasmycoin,JASMY,JasmyCoin
pancakeswap-token,CAKE,PancakeSwap
ethereum-name-service,ENS,ENS
conflux-token,CFX,Conflux
zcash,ZEC,Zcash
dash,DASH,Dash
chiliz,CHZ,Chiliz
compound-governance-token,COMP,Compound
havven,SNX,Synthetix
1inch,1INCH,1inch
layerzero,ZRO,LayerZero
starknet,STRK,Starknet
pyth-network,PYTH,Pyth Network
wormhole,W,Wormhole
beam-2,BEAM,Beam
arweave,AR,Arweave
mina-protocol,MINA,Mina
kusama,KSM,Kusama
oasis-network,ROSE,Oasis
zilliqa,ZIL,Zilliqa
basic-attention-token,BAT,Basic Attention
gnosis,GNO,Gnosis
raydium,RAY,Raydium
helium,HNT,Helium
""".strip().splitlines())
]
STABLES = frozenset({"USDT", "USDC", "DAI", "USDE"})
#: Market caps at the anchor (USD) for the largest coins; the rest follow a power law down to ~$0.5B.
TOP_CAPS = (1.95e12, 4.1e11, 1.75e11, 1.3e11, 1.2e11, 8.5e10, 7.2e10, 2.8e10, 2.6e10, 2.3e10)
BTC_SUPPLY = 19_900_000.0
#: USDT + USDC's part of all USD stablecoins in the demo (DAI, USDe and the long tail are the rest), and the
#: EUR-pegged stablecoins' value as a part of the USD ones (DefiLlama lists both).
USDT_USDC_PART = 0.86
EUR_PART = 0.0017


def trading_days(start: date, end: date) -> pd.DatetimeIndex:
    """US trading dates (weekdays that are not NYSE holidays) from ``start`` to ``end`` inclusive."""
    days = pd.bdate_range(start, end)
    return days[~np.isin(days.date, list(US_HOLIDAYS))]


def _price_lookup(dataset: MarketDataset, symbol: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """A vectorised ``times_ms -> close of the bar that ended at or before t`` for ``symbol`` (Binance spot, else
    its USD-M perp for a coin with no spot pair), or None.

    Hourly bars where they exist; before the first hourly bar, a coarser frame's (the long tail keeps daily bars
    for its older history, :mod:`emulator.demo_tail`). Every bar, also where the dataset stores only the recent
    ones (:meth:`~emulator.dataset.MarketDataset.history`)."""
    frames = dataset.history(SPOT, symbol) or dataset.history(USDM, symbol)
    if not frames:
        return None
    base = HOUR if HOUR in frames else min(frames)
    frame = frames[base]
    opens = frame["open_time"].to_numpy(np.int64)
    closes = frame["close"].to_numpy(np.float64)
    coarse = [(b, f) for b, f in frames.items() if b > base and len(f)]
    c_base, c_frame = max(coarse, key=lambda item: item[0]) if coarse and len(opens) else (0, None)
    c_opens = None if c_frame is None else c_frame["open_time"].to_numpy(np.int64)
    c_closes = None if c_frame is None else c_frame["close"].to_numpy(np.float64)

    def at(times_ms: np.ndarray) -> np.ndarray:
        times = np.asarray(times_ms, dtype=np.int64)
        idx = np.searchsorted(opens, times - base, side="right") - 1
        out = closes[np.clip(idx, 0, len(closes) - 1)]
        if c_opens is not None and c_closes is not None:
            c_idx = np.searchsorted(c_opens, times - c_base, side="right") - 1
            out = np.where(idx < 0, c_closes[np.clip(c_idx, 0, len(c_opens) - 1)], out)
        return out

    return at


def _synthetic_path(rng: np.random.Generator, times_ms: np.ndarray, level: float, vol_day: float) -> np.ndarray:
    """A random-walk price at ``times_ms`` ending at ``level`` (used when the dataset has no klines)."""
    steps = np.diff(times_ms, prepend=times_ms[0]) / DAY
    logp = np.cumsum(rng.normal(0, vol_day, len(times_ms)) * np.sqrt(np.maximum(steps, 0)))
    return level * np.exp(logp - logp[-1])


def _ar1(rng: np.random.Generator, n: int, phi: float, scale: float, df: float = 4.0) -> np.ndarray:
    shocks = rng.standard_t(df, n) * scale
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = phi * acc + shocks[i]
        out[i] = acc
    return out


def _etf_family(
    rng: np.random.Generator,
    days: pd.DatetimeIndex,
    closes: np.ndarray,
    funds: tuple[str, ...],
    weights: tuple[float, ...],
    scale_m: float,
    streak_from: int | None,
) -> pd.DataFrame:
    """Per-fund daily flows in US dollars for one family, rounded to $0.1M with Total = sum of funds."""
    n = len(days)
    ret = np.diff(np.log(closes), prepend=np.log(closes[0]))
    total_m = scale_m * (0.25 + ret / 0.02) + _ar1(rng, n, 0.45, 0.55 * scale_m)
    if streak_from is not None and streak_from < n:
        k = n - streak_from
        pattern = np.array([-0.9, -1.6, -2.4, -0.7, -1.3, -1.1, -0.8, -1.5])
        streak = pattern[np.arange(k) % len(pattern)] * scale_m * rng.uniform(0.85, 1.15, k)
        streak[min(2, k - 1)] = -rng.uniform(330, 470) * scale_m / 180
        total_m[streak_from:] = streak
    w = np.asarray(weights)
    jitter = rng.lognormal(0, 0.5, (n, len(funds))) * w
    share = jitter / jitter.sum(axis=1, keepdims=True)
    per_fund = total_m[:, None] * share
    quiet = (rng.random((n, len(funds))) < 0.55) & (w < 0.05)
    per_fund[quiet] = 0.0
    if funds[-2] in ("GBTC", "ETHE"):  # the high-fee legacy trusts keep bleeding
        bleed = np.abs(rng.normal(0.08 * scale_m, 0.04 * scale_m, n))
        per_fund[:, -2] -= bleed
        per_fund[:, 0] += bleed
    per_fund = np.round(per_fund, 1)
    frame = pd.DataFrame(per_fund * 1e6, columns=list(funds))
    frame["Total"] = np.round(per_fund.sum(axis=1), 1) * 1e6
    frame.index = pd.Index(days.date, name="date")
    return frame


def _classify(values: np.ndarray) -> np.ndarray:
    bins = np.array([26, 47, 55, 76])  # alternative.me labels 25 "Extreme Fear", 26-46 "Fear", 47-54 "Neutral"
    labels = np.array(["Extreme Fear", "Fear", "Neutral", "Greed", "Extreme Greed"])
    return labels[np.searchsorted(bins, values, side="right")]


def fill(dataset: MarketDataset, scenario: Scenario) -> None:
    """Fill ETF flows, Fear & Greed, CoinGecko snapshots, equities and rates into ``dataset`` (in place)."""
    rng = np.random.default_rng(scenario.seed + 3)
    anchor = scenario.anchor_ms
    start_day = pd.Timestamp(scenario.history_start_ms, unit="ms").normalize()
    anchor_day = pd.Timestamp(anchor, unit="ms").normalize()
    end_day = pd.Timestamp(scenario.end_ms, unit="ms").normalize()
    btc_at = _price_lookup(dataset, "BTCUSDT")
    eth_at = _price_lookup(dataset, "ETHUSDT")

    # --- ETF flows, one row per US trading day, priced at the US close (~21:00 UTC).
    days = trading_days(start_day.date(), end_day.date())
    close_ms = days.as_unit("ms").asi8 + 21 * HOUR
    btc_close = btc_at(close_ms) if btc_at else _synthetic_path(rng, close_ms, 100_000.0, 0.03)
    eth_close = eth_at(close_ms) if eth_at else _synthetic_path(rng, close_ms, 3_500.0, 0.04)
    before_anchor = np.flatnonzero(days < anchor_day)
    streak_from = int(before_anchor[-5]) if len(before_anchor) >= 5 else None
    dataset.etf_flows["btc"] = _etf_family(rng, days, btc_close, BTC_FUNDS, BTC_WEIGHTS, 180.0, streak_from)
    dataset.etf_flows["eth"] = _etf_family(rng, days, eth_close, ETH_FUNDS, ETH_WEIGHTS, 45.0, streak_from)

    # --- Fear & Greed, daily at 00:00 UTC.
    fg_days = pd.date_range(start_day, end_day, freq="D")
    fg_ms = fg_days.as_unit("ms").asi8
    btc_daily = btc_at(fg_ms) if btc_at else _synthetic_path(rng, fg_ms, 100_000.0, 0.03)
    ret14 = np.log(btc_daily / np.concatenate([np.full(14, btc_daily[0]), btc_daily[:-14]]))
    fg = 52 + 38 * np.tanh(ret14 / 0.12) + _ar1(rng, len(fg_ms), 0.7, 3.0)
    ai = int(np.searchsorted(fg_ms, (anchor // DAY * DAY), side="left"))
    slide_from = max(0, ai - 7)
    fg[slide_from : ai + 1] = np.linspace(min(max(fg[slide_from], 45), 62), 23, ai + 1 - slide_from)
    fg[ai + 1 :] = 16
    fg = np.clip(np.round(fg), 3, 97)
    dataset.fear_greed = pd.DataFrame({"time": fg_ms, "value": fg, "classification": _classify(fg)})

    # --- CoinGecko /global snapshots: daily, then hourly over the last two days and the demo day (on the console's
    # clock, every 10 minutes there: see _global_update_grid).
    recent_from = (anchor // HOUR) * HOUR - 2 * DAY
    daily = fg_ms[fg_ms < recent_from]
    hourly = np.arange(recent_from, scenario.end_ms + 1, HOUR, dtype=np.int64)
    snap_ms = np.concatenate([daily, hourly])
    btc_px = btc_at(snap_ms) if btc_at else _synthetic_path(rng, snap_ms, 100_000.0, 0.03)
    days_to_anchor = (snap_ms - anchor) / DAY
    ramp = np.clip((days_to_anchor + 30) / 30, 0, None)  # 0 thirty days before the anchor, 1 at it
    wobble = np.sin(snap_ms / (17 * DAY)) * 0.6 + rng.normal(0, 0.05, len(snap_ms))
    dom = 57.2 + 1.8 * ramp + wobble * (1 - np.clip(ramp, 0, 1))
    usdt = 4.85 + 0.62 * ramp + rng.normal(0, 0.01, len(snap_ms))
    usdc = 2.05 + 0.28 * ramp + rng.normal(0, 0.01, len(snap_ms))
    eth = 11.6 - 0.9 * ramp + rng.normal(0, 0.04, len(snap_ms))
    total = btc_px * BTC_SUPPLY / (dom / 100)
    crash = np.exp(-np.abs(snap_ms - scenario.cascade_peak_ms) / (6 * HOUR))
    dataset.global_market = pd.DataFrame({
        "time": snap_ms, "total_mcap_usd": total,
        "total_volume_usd": total * (0.035 + 0.05 * crash) * rng.lognormal(0, 0.1, len(snap_ms)),
        "pct_btc": dom, "pct_eth": eth, "pct_usdt": usdt, "pct_xrp": 4.2 - 0.2 * ramp,
        "pct_bnb": 3.9 - 0.1 * ramp, "pct_sol": 2.7 - 0.3 * ramp, "pct_usdc": usdc,
        "pct_doge": 0.95 - 0.1 * ramp, "pct_trx": 0.8 + 0.02 * ramp, "pct_ada": 0.72 - 0.08 * ramp,
        "pct_link": 0.5 - 0.06 * ramp,
    })  # fmt: skip
    dataset.global_market = _global_update_grid(dataset.global_market, recent_from)

    # --- DefiLlama stablecoin supply: one value per UTC day (its start), read off the /global snapshots so the two
    # sources agree: (USDT + USDC share) x total market cap = USDT_USDC_PART of the USD stablecoin supply.
    stable_usd = (usdt + usdc) / 100 * total / USDT_USDC_PART
    supply_usd = np.interp(fg_ms, snap_ms, stable_usd)
    dataset.stablecoin_supply = pd.DataFrame({
        "time": fg_ms, "pegged_usd": np.round(supply_usd, 2), "pegged_eur": np.round(supply_usd * EUR_PART, 2),
    })  # fmt: skip

    # --- Top-100 coin markets: daily snapshots for 45 days, hourly near the anchor.
    mk_daily = daily[daily >= anchor - 45 * DAY]
    mk_ms = np.concatenate([mk_daily, hourly])
    n_coins = len(TOP_COINS)
    caps_anchor = np.concatenate([np.array(TOP_CAPS), 1.9e10 * (np.arange(11, n_coins + 1) / 11.0) ** -1.55])
    btc_mk = btc_at(mk_ms) if btc_at else _synthetic_path(rng, mk_ms, 100_000.0, 0.03)
    i_anchor = int(np.searchsorted(mk_ms, anchor, side="right")) - 1
    i_back = int(np.searchsorted(mk_ms, mk_ms[i_anchor] - 30 * DAY, side="right")) - 1
    i_back = max(i_back, 0)
    btc_30d = np.log(btc_mk[i_anchor] / btc_mk[i_back])
    u_back = np.clip((mk_ms - mk_ms[i_back]) / max(1, mk_ms[i_anchor] - mk_ms[i_back]), 0, None)
    prices = np.empty((len(mk_ms), n_coins))
    for j, (_cid, sym, _name) in enumerate(TOP_COINS):
        lookup = _price_lookup(dataset, f"{sym}USDT") if sym not in STABLES else None
        if sym in STABLES:
            prices[:, j] = 1.0 + rng.normal(0, 0.0004, len(mk_ms))
            continue
        if lookup is not None:
            prices[:, j] = lookup(mk_ms)
            continue
        # Simulated coin: its 30-day log return is pinned (large caps near BTC's, small caps ~25 points worse)
        target = btc_30d - (0.03 if j < 50 else 0.25) + rng.normal(0, 0.04)
        noise = np.log(_synthetic_path(rng, mk_ms, 1.0, 0.035))
        logp = noise + (target - (noise[i_anchor] - noise[i_back])) * u_back
        prices[:, j] = np.exp(logp - logp[i_anchor]) * rng.uniform(0.02, 40.0)
    supply = caps_anchor / prices[i_anchor]
    caps = prices * supply[None, :]
    ids = np.array([c[0] for c in TOP_COINS])
    symbols = np.array([c[1] for c in TOP_COINS])
    names = np.array([c[2] for c in TOP_COINS])
    order = np.argsort(-caps, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, n_coins + 1)[None, :].repeat(len(mk_ms), axis=0), axis=1)
    dataset.coin_markets = pd.DataFrame({
        "time": np.repeat(mk_ms, n_coins), "id": np.tile(ids, len(mk_ms)),
        "symbol": np.tile(symbols, len(mk_ms)), "name": np.tile(names, len(mk_ms)),
        "price": prices.ravel(), "market_cap": caps.ravel(), "rank": ranks.ravel(),
        "total_volume": (caps * 0.04 * rng.lognormal(0, 0.3, caps.shape)).ravel(),
    })  # fmt: skip

    # --- SPY / QQQ daily sessions with a five-session slide into the anchor.
    sessions = days
    opens_ms = (
        ((sessions + pd.Timedelta(hours=9, minutes=30)).tz_localize("America/New_York").tz_convert("UTC"))
        .as_unit("ms")
        .asi8
    )
    done = np.flatnonzero(opens_ms + int(6.5 * HOUR) <= anchor)
    for symbol, level, vol, slide in (("SPY", 640.0, 0.009, -0.034), ("QQQ", 560.0, 0.012, -0.045)):
        rets = rng.normal(0.0004, vol, len(sessions))
        if len(done) >= 6:
            last = int(done[-1])
            rets[last - 4 : last + 1] = slide * np.array([0.15, 0.3, -0.1, 0.4, 0.25])
        logc = np.cumsum(rets)
        anchor_idx = int(done[-1]) if len(done) else len(sessions) - 1
        close = level * np.exp(logc - logc[anchor_idx])
        prev = np.concatenate([[close[0]], close[:-1]])
        open_ = prev * (1 + rng.normal(0, vol / 3, len(close)))
        spread = np.abs(rng.normal(0, vol / 2, len(close)))
        high = np.maximum(open_, close) * (1 + spread)
        low = np.minimum(open_, close) * (1 - spread)
        volume = (
            (7e7 if symbol == "SPY" else 4.5e7)
            * (1 + 8 * np.clip(-rets, 0, None))
            * rng.lognormal(0, 0.2, len(close))
        )
        dataset.equities[symbol] = pd.DataFrame({
            "time": opens_ms, "open": np.round(open_, 2), "high": np.round(high, 2), "low": np.round(low, 2),
            "close": np.round(close, 2), "volume": np.round(volume),
        })  # fmt: skip

    # --- DGS2 on business days (NaN on bond holidays), rising into the anchor.
    bdays = pd.bdate_range(start_day, end_day)
    b_ms = bdays.as_unit("ms").asi8
    steps = rng.normal(0, 0.035, len(bdays))
    level = 3.55 + np.cumsum(steps) - np.cumsum(steps)[-1]
    days_before = ((anchor // DAY * DAY) - b_ms) / DAY
    in_rise = days_before <= 16
    rise = np.where(in_rise, (16 - np.clip(days_before, 0, 16)) / 16 * 0.36, 0.0)
    base = level[np.argmax(in_rise)] if in_rise.any() else level[-1]
    level = np.where(in_rise, base + rise + rng.normal(0, 0.008, len(bdays)), level)
    values = np.round(level, 2)
    values[np.isin(bdays.date, list(US_HOLIDAYS))] = np.nan
    dataset.rates["DGS2"] = pd.DataFrame({"time": b_ms, "value": values})


#: CoinGecko documents /global's cache as updated "every 10 minutes": its ``updated_at`` is at most that old.
GLOBAL_UPDATE_MS = 10 * MINUTE


def _global_update_grid(frame: pd.DataFrame, recent_from: int) -> pd.DataFrame:
    """``frame``'s snapshots from ``recent_from`` on, every :data:`GLOBAL_UPDATE_MS` (linear between the hourly
    ones, which stay as they are; the older daily ones too). With hourly snapshots the demo's ``updated_at`` was up to
    an hour old, and the console, which takes /global as current for an hour, showed CoinGecko stale for part of
    every hour; the real endpoint is at most ten minutes old."""
    times = frame["time"].to_numpy(np.int64)
    recent = times >= recent_from
    if recent.sum() < 2:
        return frame
    hours = times[recent]
    grid = np.arange(hours[0], hours[-1] + 1, GLOBAL_UPDATE_MS, dtype=np.int64)
    fine = pd.DataFrame({"time": grid})
    for column in frame.columns.drop("time"):
        fine[column] = np.interp(grid, hours, frame[column].to_numpy(float)[recent])
    return pd.concat([frame[~recent], fine], ignore_index=True)
