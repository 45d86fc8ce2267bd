"""The demo market's script: when the simulated events happen, relative to the moment the demo starts.

All demo generators (spot klines, derivatives, ETF and macro) read the same :class:`Scenario`, so a trader sees one
coherent story: a months-long altcoin bleed with net taker selling, a crowded-long funding build-up, then a sharp
drawdown whose liquidation cascade is under way when the console opens and fades during the first hour, so the
key-drivers checklist visibly flips while the demo runs. Deterministic: the same seed and anchor give the same
market.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

#: The default altcoin basket: the ~20 largest non-stablecoin altcoins with Binance USDT spot pairs.
DEFAULT_ALTS = [
    "ETH", "XRP", "BNB", "SOL", "DOGE", "TRX", "ADA", "LINK", "AVAX", "SUI",
    "XLM", "BCH", "HBAR", "LTC", "DOT", "TON", "UNI", "NEAR", "AAVE", "PEPE",
]  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """Event times of the simulated market, in epoch ms (UTC). ``anchor_ms`` is "now" when the demo starts."""

    anchor_ms: int
    seed: int = 7
    history_start_ms: int = 1_735_689_600_000  # 2025-01-01T00:00Z: the default CVD backfill start
    coins: tuple[str, ...] = ("BTC", *DEFAULT_ALTS)

    @property
    def minute_data_from_ms(self) -> int:
        """Minute bars exist from here on (two days before the anchor); hourly bars cover all history."""
        return (self.anchor_ms // HOUR) * HOUR - 2 * DAY

    @property
    def end_ms(self) -> int:
        """The simulation runs a day past the anchor, so a demo session keeps moving for 24 hours."""
        return self.anchor_ms + DAY

    @property
    def bleed_start_ms(self) -> int:
        """Altcoins start bleeding against BTC (net taker selling) 120 days before the anchor."""
        return self.anchor_ms - 120 * DAY

    @property
    def crowded_funding_start_ms(self) -> int:
        """Funding turns crowded-positive (longs pay > 0.01%/8h across venues) 5 days before the anchor..."""
        return self.anchor_ms - 5 * DAY

    @property
    def crowded_funding_end_ms(self) -> int:
        """...until the flush: funding resets towards zero and below after the crash."""
        return self.crash_start_ms + 30 * MINUTE

    @property
    def crash_start_ms(self) -> int:
        """The sharp drawdown starts 40 minutes before the anchor (BTC about -7%, alts -10 to -18%)."""
        return self.anchor_ms - 40 * MINUTE

    @property
    def crash_end_ms(self) -> int:
        """The selling exhausts 20 minutes after the anchor; a choppy partial recovery follows."""
        return self.anchor_ms + 20 * MINUTE

    @property
    def cascade_peak_ms(self) -> int:
        """Long liquidations peak here (the steepest minutes of the drop)."""
        return self.anchor_ms - 15 * MINUTE
