"""Long/short positioning: the funding pane's long/short view, the coin detail's ratios and the snapshot section.

Per coin, the latest ratio of each kind the venues publish keyless (:class:`records.derivs.LongShortRatio`):

* **accounts** (Binance, Bybit): the share of accounts with a position that are net long, each account counted once:
  the crowd. A ratio of 2 means two accounts long for one short (67 % long).
* **top traders' positions** (Binance): the top 20 % of users by margin balance, their long positions against their
  short ones by size: where the money leans.

``ratio`` = long share / short share as the venue gives it (Binance) or computed from its shares (Bybit); above 1:
more long. A crowd much longer than the top traders, with funding crowded positive, is fuel for a long flush.
Unknown figures (a coin the venue does not list, replayed history without such statistics) are None, shown as a dim
dash and exported as null, never 0. A venue whose feed is not fresh has its figures marked, never shown as current.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from records.viewmodels import LongShortCell, LongShortColumn, LongShortView, PaneStatus
from tui.runtime.feeds_positioning import feed_name
from tui.runtime.feeds_watched import WATCHED_LONG_SHORT
from tui.views.common import iso, num
from tui.views.figures import Figures, venue_status

if TYPE_CHECKING:
    import pandas as pd

    from records.derivs import LongShortRatio

#: The table's columns and the coin detail's lines, in order: (venue, kind).
COLUMNS: tuple[tuple[str, str], ...] = (("binance", "accounts"), ("binance", "top_positions"), ("bybit", "accounts"))


def basket_coins(figures: Figures) -> list[str]:
    """BTC, then the configured basket in its order (the coins the positioning feeds ask for)."""
    return list(dict.fromkeys(["BTC", *figures.config.general.coins]))


def _latest(figures: Figures, coin: str | None = None) -> dict[tuple[str, str, str], LongShortRatio]:
    """(venue, kind, coin) -> the newest record the venues' feeds hold (with ``coin``: the watched feeds' records
    of that coin in view outside the basket)."""
    out: dict[tuple[str, str, str], LongShortRatio] = {}
    held = figures.state.long_short.items() if coin is None else (
        (venue, by_coin.get(coin, ())) for venue, by_coin in figures.state.watched.long_short.items())  # fmt: skip
    for venue, records in held:
        for record in records:
            key = (venue, record.kind, record.coin)
            if key not in out or record.time > out[key].time:
                out[key] = record
    return out


def _period(stamp: pd.Timestamp) -> str:
    return f"{stamp.tz_convert('UTC'):%m-%d %H:%M}"


def _columns(figures: Figures, now: float, watched: bool = False) -> tuple[LongShortColumn, ...]:
    healths = figures.health_map()
    out = []
    for venue, kind in COLUMNS:
        feed = WATCHED_LONG_SHORT[venue] if watched else feed_name(venue)
        status = venue_status(healths.get(feed), venue, now)
        out.append(LongShortColumn(venue, kind, status.fresh, status.text))
    return tuple(out)


def _cells(latest: dict[tuple[str, str, str], LongShortRatio], columns: tuple[LongShortColumn, ...],
           coin: str) -> tuple[LongShortCell, ...]:  # fmt: skip
    cells = []
    for column in columns:
        record = latest.get((column.venue, column.kind, coin))
        if record is None:
            cells.append(LongShortCell(column.venue, column.kind, None, None, "", column.fresh, column.status))
            continue
        long_pct = num(record.long_share)
        cells.append(LongShortCell(column.venue, column.kind, num(record.ratio),
                                   None if long_pct is None else round(long_pct * 100, 4), _period(record.time),
                                   column.fresh, column.status))  # fmt: skip
    return tuple(cells)


def coin_long_short(figures: Figures, coin: str, now: float | None = None,
                    watched: bool = False) -> tuple[LongShortCell, ...]:  # fmt: skip
    """The coin detail's ratios: accounts on Binance and Bybit, top traders' positions on Binance (``watched``: a
    coin in view outside the basket, from the watched feeds, :mod:`tui.runtime.feeds_watched`)."""
    now = time.time() if now is None else now
    return _cells(_latest(figures, coin if watched else None), _columns(figures, now, watched), coin)


def long_short_view(figures: Figures, status: PaneStatus, now: float | None = None,
                    coin_filter: str = "") -> LongShortView:  # fmt: skip
    """The funding pane's long/short view: one row per basket coin (BTC first)."""
    now = time.time() if now is None else now
    columns = _columns(figures, now)
    latest = _latest(figures)
    coins = [c for c in basket_coins(figures) if not coin_filter or coin_filter in c]
    rows = tuple((coin, _cells(latest, columns, coin)) for coin in coins)
    newest = max((r.time for r in latest.values()), default=None)
    return LongShortView(status, columns, rows, "" if newest is None else f"{_period(newest)} UTC")


def snapshot_long_short(figures: Figures) -> dict[str, Any]:
    """``long_short.<COIN>``: ``accounts.{binance, bybit}`` and ``top_positions.{binance}``, each ``{ratio,
    long_pct, time}`` or null where unknown (the feeds' health is in ``sources.long_short_<venue>``)."""
    latest = _latest(figures)

    def entry(venue: str, kind: str, coin: str) -> dict[str, Any] | None:
        record = latest.get((venue, kind, coin))
        if record is None:
            return None
        long_share = num(record.long_share)
        return {"ratio": num(record.ratio), "long_pct": None if long_share is None else round(long_share * 100, 4),
                "time": iso(record.time)}  # fmt: skip

    out: dict[str, Any] = {}
    for coin in basket_coins(figures):
        out[coin] = {
            "accounts": {"binance": entry("binance", "accounts", coin), "bybit": entry("bybit", "accounts", coin)},
            "top_positions": {"binance": entry("binance", "top_positions", coin)},
        }
    return out
