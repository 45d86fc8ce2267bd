"""The demo market's long tail: the ~250 smaller coins a real derivatives board lists beside the curated basket.

A trader reading CoinGlass sees hundreds of perpetuals, each listed on some venues and not others, most of them
with a Binance spot pair, a few perp-only. This module says *which* coins the demo lists where, and how each one
trades (price level, turnover, beta to BTC, how hard it bled and crashed). :mod:`emulator.demo_tail` turns that
into klines, funding and open interest.

Tickers are real ones (2026 listings), largest first; BTC, the basket (:data:`emulator.scenario.DEFAULT_ALTS`),
stablecoins, wrapped and leveraged tokens are not in the tail. Attributes are drawn from a stream keyed by the
symbol's CRC-32 and the demo seed, so a coin keeps its profile whatever else is listed, launch after launch.
Listing shares follow what the venues list in 2026: Binance USD-M nearly everything, Bybit most, OKX about half,
Hyperliquid about half; about three in five tail coins have a Binance USDT spot pair.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from emulator.scenario import DEFAULT_ALTS

#: The tail, largest first (rank drives turnover). Real 2026 tickers; none of BTC, the basket or stablecoins.
_TAIL_TEXT = """
HYPE ENA TAO APT ICP ETC ONDO POL KAS VET RENDER ARB FET ATOM ALGO FIL WLD TRUMP JUP SEI BONK OP INJ
STX TIA IMX GRT WIF FLOKI LDO THETA QNT RUNE PENDLE CRV SAND MANA GALA FLOW EGLD XTZ EOS NEO IOTA
KAIA JASMY CAKE ENS CFX ZEC DASH CHZ COMP SNX 1INCH ZRO STRK PYTH W BEAM AR MINA KSM ROSE SHIB XMR
VIRTUAL ETHFI EIGEN MORPHO AERO JTO AXS APE DYDX GMX ORDI BOME WLFI PUMP ASTER XPL ZK MOVE S BERA IP
KAITO LAYER PENGU PNUT GOAT MOODENG NEIRO TURBO POPCAT MEW BRETT NOT DOGS PEOPLE MEME BLUR ID ARKM
CYBER SSV RPL LQTY MAGIC ACE XAI PORTAL PIXEL ALT MANTA DYM AEVO SAGA TNSR OM REZ BB IO LISTA ZETA
AXL SUPER AI ACH HOOK HIGH EDU AGLD RDNT COTI ONT QTUM ICX IOST RVN SXP WOO KNC BAND STORJ SKL CTSI
DENT HOT CELR MTL OGN NKN LPT API3 TRB UMA ALICE C98 MASK AUDIO RSR CHR DUSK SFP YGG ILV GMT ASTR
HFT PHB FXS STG SPELL ARPA TLM AUCTION MAV ARK BICO NMR XVG POLYX GLM CETUS DEGEN GRASS DRIFT SWELL
CHILLGUY ETHW GAS BSV TWT GTC BEL FLM IOTX LSK STEEM NTRN RIF POWR KDA OMNI VANRY SUN MBOX DODO PERP
RARE VOXEL CVX XVS MOVR GLMR ZIL ONE CELO HNT BAT ZRX LRC ANKR CKB ENJ YFI SUSHI BAL JOE GNS SCR
CATI HMSTR USUAL ME VANA AIXBT COOKIE ANIME BIO RED PARTI SIGN INIT HAEDAL HUMA SOPH SPK HOME SAHARA
ERA TREE PROVE MITO OPEN AVNT
"""
TAIL_COINS: tuple[str, ...] = tuple(_TAIL_TEXT.split())

#: Listing probabilities per venue (2026 shares of the tail each venue lists) and of a Binance USDT spot pair.
VENUE_SHARE = {"binance": 0.92, "bybit": 0.86, "okx": 0.55, "hyperliquid": 0.50}
SPOT_SHARE = 0.64
#: Binance spot USDT turnover (USD/day) of the largest tail coin; the rest fall with rank as a power law.
TOP_TAIL_TURNOVER = 6.0e7
TURNOVER_DECAY = 0.8
#: The largest tail coins are listed everywhere (as APT, ETC or ONDO are); a few real ones have no Binance spot
#: pair (Hyperliquid's own token, Kaspa, Monero since Binance delisted it).
LISTED_EVERYWHERE_BELOW_RANK = 40
PERP_ONLY = frozenset({"HYPE", "KAS", "XMR"})


@dataclass(frozen=True)
class TailCoin:
    """How one tail coin is listed and trades in the demo.

    rank: 0 for the largest. price: USD just before the crash. tick: price tick. spot_turnover: typical Binance
    spot USDT volume per day (USD; also the scale of its perp activity when it has no spot pair). beta: moves
    per BTC move. hourly_vol: standard deviation of hourly log returns. bleed: log loss against BTC from the
    bleed start to the crash. crash: the crash's drawdown (fraction). venues: the perp venues that list it.
    spot: whether Binance lists a USDT spot pair. perp_turnover_x: perp volume as a multiple of spot turnover.
    """

    coin: str
    rank: int
    price: float
    tick: float
    spot_turnover: float
    beta: float
    hourly_vol: float
    bleed: float
    crash: float
    venues: tuple[str, ...]
    spot: bool
    perp_turnover_x: float


def _draws(seed: int, coin: str) -> np.random.Generator:
    # CRC-32, not hash(): Python salts str hashes per process, and the demo must be the same every launch.
    return np.random.default_rng([seed, zlib.crc32(coin.encode("utf-8")), 0x7A11])


def tail_coin(seed: int, coin: str, rank: int) -> TailCoin:
    """The profile of one tail coin (a pure function of seed, symbol and rank)."""
    rng = _draws(seed, coin)
    # Always the same draws in the same order, so a new attribute appended later moves none of these.
    price = float(np.exp(rng.uniform(np.log(0.002), np.log(60.0))))
    beta = float(rng.uniform(1.2, 2.0))
    hourly_vol = float(rng.uniform(0.010, 0.018))
    bleed = float(rng.uniform(0.45, 0.85))  # small caps bleed harder than the basket (0.12-0.40)
    crash = float(rng.uniform(0.14, 0.26))
    listed = rng.random(len(VENUE_SHARE))
    spot_draw = float(rng.random())
    perp_x = float(rng.uniform(2.0, 6.0))
    turnover_noise = float(np.exp(rng.normal(0.0, 0.35)))
    venues = tuple(v for v, u in zip(VENUE_SHARE, listed, strict=True) if u < VENUE_SHARE[v])
    if rank < LISTED_EVERYWHERE_BELOW_RANK:
        venues = tuple(VENUE_SHARE)
    elif not venues:  # a coin no venue lists is not part of a perp board
        venues = ("binance",)
    spot = coin not in PERP_ONLY and (spot_draw < SPOT_SHARE or rank < LISTED_EVERYWHERE_BELOW_RANK)
    tick = 10.0 ** (np.floor(np.log10(price)) - 4)
    turnover = TOP_TAIL_TURNOVER * (rank + 1) ** -TURNOVER_DECAY * turnover_noise
    return TailCoin(coin, rank, price, float(tick), turnover, beta, hourly_vol, bleed, crash, venues,
                    spot, perp_x)  # fmt: skip


def tail_universe(seed: int, exclude: tuple[str, ...] = ()) -> list[TailCoin]:
    """Every tail coin, largest first, leaving out BTC, the default basket and ``exclude`` (a custom basket)."""
    skip = {"BTC", *DEFAULT_ALTS, *exclude}
    coins = [c for c in TAIL_COINS if c not in skip]
    return [tail_coin(seed, coin, rank) for rank, coin in enumerate(coins)]
