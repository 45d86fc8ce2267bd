"""View-models: plain data the widgets draw. Built by :mod:`tui.views` from market state; no pandas here.

A figure that is not fresh carries that fact (``fresh`` False and a ``status`` text like "stale 3m"), so a widget
can never show an old number as live.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaneStatus:
    """Health of the data behind a pane: ``fresh`` figures may be shown as current; ``text`` says why not."""

    fresh: bool
    text: str  # "live", "stale 3m", "retrying in 8s: HTTP 503", "waiting for data"
    as_of: str = ""  # "12:04:31 UTC" of the newest figure


@dataclass(frozen=True)
class BtcView:
    """Bitcoin's headline figures. Percentages are plain percent numbers (−3.2 means −3.2 %)."""

    status: PaneStatus
    price: float | None = None
    change_24h_pct: float | None = None
    change_1h_pct: float | None = None
    ath: float | None = None
    drawdown_pct: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None
    chart_x: tuple[float, ...] = ()  # epoch seconds
    chart_y: tuple[float, ...] = ()
    chart_key: int = 0  # changes when the chart data changes (redraw only then)


@dataclass(frozen=True)
class CvdRow:
    """One altcoin's spot taker flow. USD figures; ``ratio`` is taker-buy / taker-sell quote volume."""

    coin: str
    cumulative_usd: float | None
    delta_24h_usd: float | None
    delta_30d_usd: float | None
    ratio_30d: float | None
    share_pct: float | None  # share of the basket's cumulative delta
    note: str = ""  # e.g. "unknown: no taker data", "HTTP 400: Invalid symbol."


@dataclass(frozen=True)
class CvdView:
    """The altcoin basket's cumulative volume delta since ``since``."""

    status: PaneStatus
    since: str = ""
    basket_usd: float | None = None
    basket_change_30d_usd: float | None = None
    basket_ratio_30d: float | None = None
    chart_x: tuple[float, ...] = ()
    chart_y: tuple[float, ...] = ()
    chart_key: int = 0
    rows: tuple[CvdRow, ...] = ()
    excluded: tuple[str, ...] = ()  # coins left out of the basket (unknown data)
    provisional: bool = False  # today's bar is still open
    #: The same basket on Binance USD-M perpetuals (taker buys minus sells there): spot selling against perp
    #: buying is leverage absorbing spot supply. None until the perp feed delivers; ``perp_coins`` it covers.
    perp_change_30d_usd: float | None = None
    perp_ratio_30d: float | None = None
    perp_coins: int = 0
    #: Every Binance spot altcoin pair in the quote, not only the basket (less BTC, stablecoins, wrapped / pegged and
    #: leveraged tokens): the market's CVD since ``since``, its 30-day change and buy/sell ratio, and how many pairs
    #: it counts (0 until the market feed delivers).
    market_usd: float | None = None
    market_change_30d_usd: float | None = None
    market_ratio_30d: float | None = None
    market_pairs: int = 0


@dataclass(frozen=True)
class SourceLine:
    name: str
    provider: str
    status: str  # live | stale | retrying | offline | unavailable | waiting | paused
    text: str


@dataclass(frozen=True)
class StatusView:
    mode_label: str
    simulated: bool
    sources: tuple[SourceLine, ...] = field(default_factory=tuple)
    paused: bool = False
    market_time: str = ""
    recording: str = ""  # why the recorder stopped ("recording off: ... read-only"); empty while it records


# -- derivatives ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VenueStatus:
    """One exchange's feed health as shown in a column header (``fresh`` False -> its cells are not current)."""

    venue: str  # binance | bybit | okx | hyperliquid
    fresh: bool
    text: str  # "live", "stale 3m", "unavailable here: HTTP 451"


@dataclass(frozen=True)
class FundingRow:
    """A coin's perpetual funding, normalised to a rate per 8 hours (fraction: 0.0001 = 0.01 %/8h).

    Positive funding: longs pay shorts (leverage is long-crowded). ``rates_8h`` follows ``FundingView.venues``.
    """

    coin: str
    rates_8h: tuple[float | None, ...]
    median_8h: float | None
    annualised_pct: float | None  # median_8h x 3 x 365 x 100
    oi_usd: float | None  # open interest summed over venues, USD
    oi_change_24h_pct: float | None


@dataclass(frozen=True)
class FundingView:
    """Funding heatmap (coins x venues) and its coins x time companion (last N 8h periods, venue median)."""

    status: PaneStatus
    venues: tuple[VenueStatus, ...] = ()
    rows: tuple[FundingRow, ...] = ()
    baseline_8h: float = 0.0001
    median_8h: float | None = None  # median across coins of each coin's median
    share_above_baseline: float | None = None  # fraction of coins whose median is above the baseline
    oi_total_usd: float | None = None
    oi_change_24h_pct: float | None = None
    oi_weighted_8h: float | None = None  # funding weighted by each venue's OI in USD, over every coin and venue
    period_labels: tuple[str, ...] = ()  # coins x time columns, oldest first ("11-22 16h")
    history: tuple[tuple[str, tuple[float | None, ...]], ...] = ()  # (coin, rate_8h per period)
    # The market's count of perps, whatever the filter; ``coin_filter``: the "/" text ``rows`` are narrowed to, so
    # the header never reads a filtered count beside the market's median and OI.
    perps: int = 0
    coin_filter: str = ""


@dataclass(frozen=True)
class LongShortCell:
    """One venue's latest long/short ratio of a coin (``kind`` accounts: every account; top_positions: the top
    traders' positions). ``ratio`` = long share / short share (above 1: more long); ``long_pct`` the long share in
    percent; ``time`` the period it is for ("11-23 12:05"); unknown figures are None, never 0. ``fresh`` False: the
    venue's feed is stale (its ``status`` says why), the figure is not current."""

    venue: str  # binance | bybit
    kind: str  # accounts | top_positions
    ratio: float | None
    long_pct: float | None
    time: str = ""
    fresh: bool = True
    status: str = ""


@dataclass(frozen=True)
class LongShortColumn:
    """One column of the long/short table: a venue and kind, and the health of its feed."""

    venue: str
    kind: str
    fresh: bool
    status: str


@dataclass(frozen=True)
class LongShortView:
    """The funding pane's long/short view: per basket coin (BTC first), its ratios in ``columns`` order."""

    status: PaneStatus
    columns: tuple[LongShortColumn, ...] = ()
    rows: tuple[tuple[str, tuple[LongShortCell, ...]], ...] = ()  # (coin, one cell per column)
    as_of: str = ""  # the newest ratio's period ("11-23 12:05 UTC")


@dataclass(frozen=True)
class LiquidationRow:
    time: str  # "19:04:31"
    venue: str
    coin: str
    side: str  # "long" (a long was liquidated: forced sell) | "short"
    notional_usd: float
    price: float | None


@dataclass(frozen=True)
class LiquidationTotals:
    """USD liquidated in one trailing window; None when nothing of the window was recorded (unknown, not 0)."""

    window: str  # "1h" | "4h" | "24h"
    long_usd: float | None
    short_usd: float | None
    coverage: float = 1.0  # recorded share of the window: below 1 the sums are a lower bound ("12m recorded")
    count: int | None = None  # liquidations in the window (None: unknown, the window was not recorded)


@dataclass(frozen=True)
class CascadeView:
    """Liquidation-cascade detector: last hour's long liquidations against their trailing hourly median."""

    active: bool
    ratio: float | None  # long_1h / median hourly
    meter: float  # 0..1 (1 = at or beyond the threshold)
    threshold: float
    long_1h_usd: float | None
    median_hourly_usd: float | None
    btc_change_1h_pct: float | None
    recorded_for: str  # "6h 12m of tape" / "30d"


@dataclass(frozen=True)
class LiquidationsView:
    status: PaneStatus
    venues: tuple[VenueStatus, ...] = ()
    totals: tuple[LiquidationTotals, ...] = ()
    tape: tuple[LiquidationRow, ...] = ()  # newest first
    cascade: CascadeView | None = None
    lower_bound_note: str = (
        ""  # e.g. "Binance sends at most 1 per symbol per second: totals are a lower bound"
    )


# -- ETF flows and macro --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EtfDay:
    date: str  # "2026-11-20"
    total_usd: float | None  # None: not reported
    partial: bool = False  # funds still reporting


@dataclass(frozen=True)
class EtfView:
    """US spot ETF daily net flows (USD; negative = outflow)."""

    status: PaneStatus
    asset: str = "BTC"
    days: tuple[EtfDay, ...] = ()  # oldest first, last N trading days
    last_by_fund: tuple[tuple[str, float | None], ...] = ()  # latest complete day, by fund
    streak_days: int | None = None  # +N inflow days in a row, -N outflow days
    largest_outflow: tuple[str, float] | None = None  # (date, usd) within the window
    cumulative_usd: float | None = None  # sum over the window
    window_days: int = 10
    eth_last: EtfDay | None = None
    eth_streak_days: int | None = None


@dataclass(frozen=True)
class MacroItem:
    label: str  # "BTC dominance"
    value: str  # "58.2%"
    change: str = ""  # "+1.3 pt 30d"
    tone: str = "dim"  # green | red | yellow | dim
    fresh: bool = True
    note: str = ""  # "as of 2026-11-20", "needs 30 days of snapshots (12 so far)"


@dataclass(frozen=True)
class MacroView:
    status: PaneStatus
    items: tuple[MacroItem, ...] = ()


# -- key drivers ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriverRow:
    id: str
    name: str
    state: str  # active | clear | unknown
    value: str  # current value of the first condition, formatted
    threshold: str  # "< -$250M"
    trend: str  # "↑" "↓" "→" or ""
    since: str  # "12-07 19:02"; "≤12-07 19:02" when it already held when first known (began then or earlier)
    meaning: str
    detail: str = ""  # all conditions, e.g. "streak 2d >= 3 ✗ or min day -$300M < -$250M ✓"
    note: str = ""  # why the value is missing or stale, e.g. "needs 30d of /global snapshots"
    quality: str = ""  # what the figures rest on, e.g. "counting bybit, okx; left out: binance silent 3m"
    since_note: str = ""  # why ``since`` is a bound, e.g. "already so when first known: began then or earlier"


@dataclass(frozen=True)
class DriversView:
    status: PaneStatus
    summary: str = ""  # "7 of 12 drivers active · 2 unknown"
    rows: tuple[DriverRow, ...] = ()


# -- the "why" line -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExplainPart:
    """One figure of the "why" line: an active driver's figure, how far it is from its normal, and its pane.

    ``score`` is the distance from normal defined per figure in :mod:`analytics.explain` (1.0 = as far as the
    driver's threshold; None = no honest scale, ranked after the others); ``text`` is what the line shows.
    """

    driver_id: str
    figure: str  # metric id with its window, e.g. "long_liq_vs_median(30d)"
    value: float
    value_text: str  # the value exactly as its pane shows it ("55.4x", "-$816.4M")
    normal: float | None  # the figure's normal / baseline
    normal_basis: str  # how the normal and the scale are defined for this figure
    score: float | None
    pane: str  # the pane the number comes from: btc | cvd | funding | liquidations | etf | macro | drivers
    text: str  # "long liquidations 55.4x normal"


@dataclass(frozen=True)
class ExplainView:
    """The line at the top of the dashboard: ``head`` (BTC's move, None when its price is not fresh) and the
    parts, highest-ranked first; ``empty`` says why there is nothing to explain (no driver active, all unknown)."""

    head: str | None
    parts: tuple[ExplainPart, ...] = ()
    empty: str = ""
    head_value: float | None = None  # BTC's 24 h change, percent (its sign colours the head)

    @property
    def text(self) -> str:
        """The whole line, every part (the snapshot's ``explain.text``; the widget drops parts to fit)."""
        return compose_line(self.head, tuple(p.text for p in self.parts), self.empty)


def compose_line(head: str | None, parts: tuple[str, ...], empty: str = "") -> str:
    """``"<head>: <part>, <part>"``; without parts the ``empty`` reason; without a head the parts alone."""
    body = ", ".join(parts) if parts else empty
    if head is None:
        return body
    return f"{head}: {body}" if body else head


def fit_line(head: str | None, parts: tuple[str, ...], empty: str, width: int) -> str:
    """The line shortened to ``width`` cells: the lowest-ranked parts go first (``parts`` is best first), never a
    part cut in half; ``+N`` says how many were dropped when it fits. With no part fitting, the head alone."""
    for keep in range(len(parts), -1, -1):
        dropped = len(parts) - keep
        line = compose_line(head, parts[:keep], empty if not parts else "")
        if dropped:
            marked = f"{line}, +{dropped}" if keep else f"{line}: +{dropped} drivers" if head else f"+{dropped}"
            if len(marked) <= width:
                return marked
        if len(line) <= width:
            return line
    return head if head is not None and len(head) <= width else ""


# -- view-models ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartLine:
    """One labelled line of a multi-line chart: ``x`` epoch seconds (ascending), ``y`` values in ``unit``.

    ``unit`` tells the widget how to label the axis: "USD" (compact dollars) or "%/8h" (a funding rate in percent
    per 8 hours). Only known points are carried: an unknown sample is left out, never drawn as 0.
    """

    label: str  # "binance", "spot", "perp"
    x: tuple[float, ...]
    y: tuple[float, ...]
    unit: str = "USD"


@dataclass(frozen=True)
class CoinFunding:
    """One venue's current funding for the coin. ``rate_8h`` is a fraction (0.0001 = 0.01 %/8h)."""

    venue: str
    fresh: bool
    status: str  # the venue feed's health: "live", "stale 3m", "not configured"
    rate_8h: float | None
    annualised_pct: float | None  # rate_8h x 3 x 365 x 100
    interval_hours: float | None  # settlement interval on that venue (1 h on Hyperliquid)
    next_funding: str = ""  # "16:00 UTC (in 4h)"
    basis_pct: float | None = None  # (mark / index - 1) x 100 on that venue; None where it gives no index (OKX)


@dataclass(frozen=True)
class CoinOpenInterest:
    venue: str
    fresh: bool
    usd: float | None


@dataclass(frozen=True)
class CoinView:
    """Everything the coin detail screen shows for ``coin`` over ``window``. Unknown figures are None."""

    coin: str
    window: str  # "24h" | "7d" | "30d" | "90d" | "all"
    status: PaneStatus
    windows: tuple[str, ...] = ("24h", "7d", "30d", "90d", "all")
    message: str = ""  # "no data for XYZ yet" when there is no price data at all
    # price and spot flow over the window
    price: float | None = None
    change_pct: float | None = None
    bars: str = ""  # "1h bars", "1d bars", "5m bars"
    coverage: str = ""  # "" or e.g. "history covers only 1d 2h" when the window reaches before the data
    cvd_usd: float | None = None  # sum of (taker buy - taker sell) quote volume over the window's bars
    cvd_note: str = ""  # why the CVD is unknown ("taker split unknown from ...")
    ratio: float | None = None  # taker buy / taker sell quote volume over the window
    share_pct: float | None = None  # share of the basket's cumulative delta (-100..100)
    share_note: str = ""  # "of basket CVD since 2025-01-01" / "BTC is not in the altcoin basket"
    perp_cvd_30d_usd: float | None = None  # the coin's Binance USD-M perp CVD over 30 days (None: no perp data)
    price_x: tuple[float, ...] = ()  # epoch seconds (bar open times)
    price_y: tuple[float, ...] = ()
    cvd_x: tuple[float, ...] = ()
    cvd_y: tuple[float, ...] = ()
    chart_key: tuple[object, ...] = ()  # changes when the chart data changes (redraw only then)
    # derivatives
    funding: tuple[CoinFunding, ...] = ()
    funding_mean_8h: float | None = None  # mean across fresh venues
    funding_labels: tuple[str, ...] = ()  # 8 h periods, oldest first ("11-22 16h")
    funding_history: tuple[float | None, ...] = ()  # mean rate_8h across venues per period
    funding_note: str = ""  # "loading…" while a coin in view outside the basket has its history fetched
    oi: tuple[CoinOpenInterest, ...] = ()
    oi_total_usd: float | None = None  # sum over fresh venues
    oi_change_24h_pct: float | None = None
    oi_note: str = ""  # which venues the 24 h change is measured on
    #: long/short ratios: accounts on Binance and Bybit, top traders' positions on Binance (unknown: ratio None)
    long_short: tuple[LongShortCell, ...] = ()
    # the chart ``c`` cycles: "price" (price + spot CVD above) or a multi-line chart of ``chart_lines``
    chart: str = "price"  # price | spot_perp | oi | funding
    chart_title: str = ""  # "Open interest per venue (USD, hourly)"
    chart_lines: tuple[ChartLine, ...] = ()
    chart_note: str = ""  # what the lines rest on / why a line is missing ("okx, hyperliquid: no history kept")
    chart_stale: str = ""  # "" while the chart's feed is fresh, else its health ("oi_history: stale 3h")
    # liquidations, last 24 h (None: unknown, the tape did not record the window; 0 only when it did and was empty)
    liquidations: tuple[LiquidationRow, ...] = ()  # newest first
    liq_long_usd: float | None = None
    liq_short_usd: float | None = None
    liq_count: int | None = None
    liq_note: str = ""
    liq_windows: tuple[LiquidationTotals, ...] = ()  # 1h / 4h / 24h (and the selected window up to the tape's 35 d)
    liq_stale: str = ""  # "" while a liquidation stream is live, else why not ("binance: offline; ...")


# -- the drivers timeline ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineRow:
    """One driver over the history: ``cells`` has a state letter per period (``a`` active, ``c`` clear, ``u``
    unknown); ``note`` is set when the history cannot evaluate it at all ("unknown: no liquidation tape ...")."""

    id: str
    name: str
    cells: str
    note: str = ""


@dataclass(frozen=True)
class TimelineView:
    """The drivers timeline: a row per driver of one state cell per period, the periods' UTC dates (``axis``:
    cell index and label), BTC's close and the basket's CVD at each period's end (None: unknown), the cursor's
    period. ``message`` replaces everything while the series are computed (or when they could not be)."""

    title: str = ""
    rows: tuple[TimelineRow, ...] = ()
    label_width: int = 14
    axis: tuple[tuple[int, str], ...] = ()
    btc: tuple[float | None, ...] = ()
    cvd: tuple[float | None, ...] = ()
    btc_label: str = ""
    cvd_label: str = ""
    cursor: int = 0
    cursor_label: str = ""
    legend: str = ""
    rule: str = ""  # how a cell aggregates its steps
    message: str = ""

    @property
    def cells(self) -> int:
        return len(self.rows[0].cells) if self.rows else 0


@dataclass(frozen=True)
class TimelineDetailRow:
    """A driver in one period: its state over the period (what the cell shows), its share of the period active,
    and its state, first value and threshold at the period's end with every condition (``detail``)."""

    name: str
    state: str  # the cell's: active | clear | unknown
    active_share: float  # the share of the period's steps at which it was active (0..1)
    state_at_end: str
    value: str
    threshold: str
    detail: str
    note: str = ""


@dataclass(frozen=True)
class TimelineDetail:
    title: str
    rows: tuple[TimelineDetailRow, ...] = ()
