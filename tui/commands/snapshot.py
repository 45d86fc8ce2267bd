"""``altpulse snapshot``: one pass of every feed, then every figure the panes show, as text or JSON.

JSON schema ``altpulse.snapshot/1`` (stable; new keys may be added, existing ones keep their meaning). Money is in
US dollars, ratios and percentages are plain numbers (percent where the key ends in ``_pct``), times ISO-8601 UTC,
unknown figures ``null``::

    mode                      "live" | "demo" | "replay"
    simulated                 true in demo mode
    as_of                     market time of the snapshot (virtual time in demo/replay)
    replay.notes              replay only: how the default --at was chosen, data-quality findings, skipped files
    btc.market                the market every BTC figure comes from ("binance_spot")
    btc.status / .price_as_of the price feed's health (live|stale|...) and the time the price is from
    btc.price                 last trade price, USDT
    btc.change_24h_pct        rolling 24 h change, percent
    btc.change_1h_pct         change over the last hour, percent
    btc.ath                   all-time high (from monthly klines since listing)
    btc.drawdown_pct          price / ath - 1, percent (<= 0)
    cvd.since                 the CVD start date (config cvd.start)
    cvd.interval              bar size the cumulative figures use ("1d")
    cvd.basket.cumulative_usd basket CVD: taker-buy minus taker-sell quote volume summed since cvd.since
    cvd.basket.change_30d_usd basket CVD change over the last 30 days
    cvd.basket.buy_sell_ratio taker-buy / taker-sell quote volume since cvd.since (< 1 = net selling)
    cvd.basket.buy_sell_ratio_30d   the same over the last 30 days
    cvd.perp.market           binance_usdm: the same basket on Binance USD-M perpetuals (their own taker split)
    cvd.perp.basket.{cumulative_usd, change_30d_usd, buy_sell_ratio, buy_sell_ratio_30d}   as cvd.basket, perps
    cvd.perp.coins.<COIN>.{cumulative_usd, delta_30d_usd, buy_sell_ratio}   per coin (a coin without a perp: absent)
    cvd.basket.excluded       coins left out because their taker split is unknown or stale
    cvd.market.{cumulative_usd, change_30d_usd, buy_sell_ratio, buy_sell_ratio_30d}   as cvd.basket, over every
                              Binance spot altcoin pair in the quote (less BTC, stablecoins, wrapped / pegged assets
                              and leveraged tokens: config cvd.market_exclude, cvd.market_exclude_patterns)
    cvd.market.pairs          how many pairs those figures count (null before the market feed delivers)
    cvd.market.listed_after_start   pairs counted from their first day (listed after cvd.since)
    cvd.market.excluded.<PAIR>      why a listed pair is left out (unknown taker split, stale, failed fetch)
    cvd.coins.<COIN>.cumulative_usd / .buy_sell_ratio / .buy_sell_ratio_30d / .delta_24h_usd / .delta_30d_usd /
                   .share_of_basket (fraction, signed) / .error (why the coin has no figures, else null)
    funding.interval_hours    8: every rate is normalised to a rate per 8 hours (fraction: 0.0001 = 0.01 %)
    funding.baseline          the neutral rate the heatmap centres on (config funding.baseline_8h)
    funding.median            median across coins of each coin's venue-average rate (fraction per 8 h)
    funding.share_above_baseline    fraction of coins whose rate is above the baseline
    funding.rates.<COIN>.<exchange> rate per 8 h on binance | bybit | okx | hyperliquid (fresh venues only)
    funding.oi_weighted       every (coin, venue) rate weighted by that venue's open interest in USD (per 8 h)
    funding.coins.<COIN>.oi_weighted    the coin's rate weighted by each venue's OI (null: no venue with both)
    funding.coins.<COIN>.predicted.<exchange>   the running period's rate as the venue quotes it (per 8 h)
    funding.coins.<COIN>.next_time.<exchange>   the venue's next settlement (ISO-8601 UTC)
    funding.coins.<COIN>.basis_pct  (mark / index - 1) x 100, OI-weighted over the venues that give an index
                              (Binance, Bybit, Hyperliquid's oracle; OKX's bulk call has none); null: unknown
    open_interest.total_usd / .change_24h_pct    open interest over every venue, and Binance's 24 h change
    open_interest.<COIN>.usd / .change_24h_pct    per coin (USD summed over venues; change from Binance history)
    long_short.<COIN>.accounts.{binance, bybit}   BTC and every basket coin: the venue's latest share of accounts
                              net long, as {ratio (long share / short share; > 1 more long), long_pct (percent of
                              accounts long), time (the 5-minute period, ISO-8601 UTC)}; null where the venue has
                              no such figure for the coin (not listed, replayed history), never 0
    long_short.<COIN>.top_positions.binance   the same for Binance's top traders (top 20 % by margin balance), by
                              position size; the feeds' health: sources.long_short_binance / long_short_bybit
    liquidations.window_minutes    60
    liquidations.long_usd / .short_usd    USD of longs / shorts liquidated in the last hour (Binance part is a
                              lower bound: it sends at most one liquidation per symbol per second); null when
                              nothing of the hour was recorded (no stream ever live), never 0 for unknown
    liquidations.recorded_minutes   how much of that hour the tape recorded (< 60: the sums are a lower bound)
    liquidations.cascade      true when last hour's long liquidations exceed 5x their trailing hourly median
                              while BTC fell more than 2 % in the hour; null when the tape is too short to say
    liquidations.cascade_ratio / .recorded_hours    the ratio, and how many hours of tape it rests on
    liquidations.counted_venues   the venues the cascade counts (live and delivering); null = every venue taped
    liquidations.venues.<venue>.state / .detail / .silent_for_s / .records / .lower_bound   each stream, when
                              the pass listened (--listen): "silent" = connected but delivering nothing while the
                              other venues deliver (suspect, left out of the cascade); without --listen every
                              stream is "recorded" and the cascade counts every venue on the recorded tape
    liquidations.unsized      OKX liquidations held for want of a contract size (null when none)
    etf.last_day              the newest completed trading day of US spot BTC ETF flows (Farside)
    etf.net_flow_usd          that day's total net flow (negative = outflow)
    etf.by_fund.<TICKER>      that day's flow per fund (null = not reported)
    etf.streak_days           +N inflow days in a row, -N outflow days in a row
    etf.partial_today         true when today's row is still being filled in (excluded from the figures)
    macro.fear_greed / .fear_greed_class    alternative.me Fear & Greed (0-100) and its label
    macro.btc_dominance_pct / .btc_dominance_change_30d    CoinGecko BTC share of total market cap (points; the
                              change is estimated until 30 days of /global snapshots are kept: the driver's quality)
    macro.stablecoin_share_pct   USDT + USDC share of total market cap, percent
    macro.alt_mcap_ex_eth_usd    total market cap excluding BTC and ETH
    macro.spy_5d_pct          SPY change over 5 sessions, percent
    macro.spy_source          "SPY", or "^GSPC (proxy for SPY)" when the S&P 500 index stands in (SPY missing/stale)
    macro.us2y / .us2y_change_10d    US 2-year Treasury yield (FRED DGS2) and its 10-day change in points
    macro.smallcap_vs_largecap_30d_pct    50 smallest minus 50 largest of the top 100, 30-day return, pp
    drivers                   list of {id, name, state (active|clear|unknown), value, threshold, since, since_exact
                              (false: the state already held when first known, so it began at or before since),
                              detail, quality (what the figures rest on, e.g. the venues the cascade counts)}
    drivers_summary           e.g. "7 of 12 drivers active · 2 unknown"
    alerts                    the last alerts this mode's log holds (sent by a console, ``watch`` or ``collect
                              --alerts``), oldest first: each the ``altpulse.alert/1`` object (uid, id, kind, subject,
                              name, state, previous, value, threshold, time, mode, simulated, text, routes) with
                              ``deliveries``: [{route, status (sent|failed|skipped|pending), detail}]; [] in replay
    explain.text              the dashboard's "why" line, every part: "BTC -4.99% 24h: long liquidations 55.4x
                              normal, ..." (tui/views/explain.py); the head is null when BTC's price is not fresh
    explain.parts[]           best-ranked first: {driver, figure (metric(window)), value, text (as its pane shows
                              it), normal, distance (1.0 = as far from normal as the threshold, or a z-score; null:
                              no honest scale), distance_basis, pane, phrase}; only active drivers' held figures
    sources.<feed>.provider / .status (live|stale|suspect|retrying|offline|unavailable|waiting) / .as_of (when
                              fetched) / .data_as_of (the newest figure's time; both on the market clock, the
                              replayed time in replay) / .detail (e.g. "stale 35d (data to 2025-10-17)") / .error

Exit status: 0 when every feed answered, 1 when any failed (its figures are null and its error is on stderr and in
``sources``), 2 for bad arguments or config.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

SCHEMA = "altpulse.snapshot/1"


async def collect_snapshot(
    config: Any, mode: str, replay_dir: Path | None, at: str | None, listen: float = 0.0,
    speed: float | None = None,
) -> dict[str, Any]:
    """One pass of every feed (and, with ``listen`` seconds, of the liquidation streams), then the document.

    ``speed``: the market clock's rate (replay default 0: frozen at ``--at``; demo default 1)."""
    from tui.boot import Launch, boot

    if speed is None:
        speed = 0.0 if mode == "replay" else 1.0
    session = boot(config, Launch(mode, replay_dir, at, speed, record=False))
    scheduler = session.scheduler
    try:
        # The recorded tape; the streams run only when asked to listen (a one-pass snapshot has no time to).
        streams = session.start_streams()
        listening = [asyncio.ensure_future(s.run()) for s in streams] if listen > 0 else []
        session.views.state.liq_listening = bool(listening)
        await first_pass(scheduler)
        await refetch_aged(scheduler)
        if listening:
            await asyncio.sleep(listen)
        doc = build_snapshot(session.views, scheduler)
        for stream in streams:
            stream.stop()
        await asyncio.gather(*listening, return_exceptions=True)
        return doc
    finally:
        await session.aclose()


async def first_pass(scheduler: Any) -> None:
    """Every polled feed once, in start-up order (``tests/test_startup_budget.py`` counts what it asks for)."""
    # Listings first (they filter the venue snapshots), then the venue snapshots (Binance OI needs their marks).
    listings = [n for n in scheduler.feeds if n.startswith("universe_") or n == "okx_instruments"]
    await scheduler.run_all_once(listings)
    first = [n for n in scheduler.feeds if n.startswith("funding_") and n != "funding_history"]
    await scheduler.run_all_once(first)
    done = {*first, *listings}
    await scheduler.run_all_once([n for n in scheduler.feeds if n not in done])


async def refetch_aged(scheduler: Any) -> list[str]:
    """Fetch once more every feed whose last good fetch is older than its ``stale_after``; returns their names.

    A long pass (hundreds of pairs on a slow link) can outlast the fastest feeds' freshness: the BTC ticker fetched
    first would otherwise print as stale in a document that took a minute to gather."""
    now = scheduler.clock()
    feeds = scheduler.feeds.items()
    aged = [n for n, f in feeds if f.health.as_of is not None and now - f.health.as_of > f.stale_after]
    if aged:
        await scheduler.run_all_once(aged)
    return aged


def _perp_cvd(views: Any) -> dict[str, Any]:
    """``cvd.perp``: the basket on Binance USD-M perpetuals, as ``cvd.basket`` and ``cvd.coins`` are for spot."""
    import pandas as pd

    from tui.views.common import num

    perp = views.figures.perp_basket()
    if perp is None:
        return {"market": "binance_usdm", "basket": {"cumulative_usd": None, "change_30d_usd": None,
                                                     "buy_sell_ratio": None, "buy_sell_ratio_30d": None},
                "coins": {}}  # fmt: skip
    month = pd.Timedelta(days=30)
    coins = {
        str(rec["coin"]): {"cumulative_usd": num(rec["cumulative_usd"]), "delta_30d_usd": num(rec["delta_30d_usd"]),
                           "buy_sell_ratio": num(rec["buy_sell_ratio"])}
        for rec in perp.summary.to_dict("records")
    }  # fmt: skip
    return {
        "market": "binance_usdm",
        "basket": {"cumulative_usd": num(perp.total), "change_30d_usd": num(perp.change(month)),
                   "buy_sell_ratio": num(perp.buy_sell_ratio),
                   "buy_sell_ratio_30d": num(views.figures.perp_ratio(month))},
        "coins": coins,
    }  # fmt: skip


def _market_cvd(views: Any) -> dict[str, Any]:
    """``cvd.market``: every Binance spot altcoin pair, as ``cvd.basket`` is for the basket."""
    from tui.views.common import num

    market = views.figures.market_cvd()
    errors = dict(views.state.market_errors)
    if market is None:
        return {"cumulative_usd": None, "change_30d_usd": None, "buy_sell_ratio": None, "buy_sell_ratio_30d": None,
                "pairs": None, "listed_after_start": [], "excluded": errors}  # fmt: skip
    return {
        "cumulative_usd": num(market.total), "change_30d_usd": num(market.change_usd),
        "buy_sell_ratio": num(market.buy_sell_ratio), "buy_sell_ratio_30d": num(market.buy_sell_ratio_window),
        "pairs": market.pairs, "listed_after_start": list(market.listed_after_start),
        "excluded": {**market.excluded, **errors},
    }  # fmt: skip


def build_snapshot(views: Any, scheduler: Any) -> dict[str, Any]:
    """The JSON document described in the module docstring."""
    import pandas as pd

    from tui.views.common import iso, num
    from tui.views.drivers import snapshot_drivers
    from tui.views.etf import snapshot_etf
    from tui.views.explain import snapshot_explain
    from tui.views.funding import snapshot_funding
    from tui.views.liquidations import snapshot_liquidations
    from tui.views.long_short import snapshot_long_short
    from tui.views.macro import snapshot_macro

    now = time.time()
    runtime = views.runtime
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "mode": runtime.mode,
        "simulated": runtime.simulated,
        "as_of": iso(runtime.now_ms()),
    }
    if runtime.mode == "replay":
        doc["replay"] = {"notes": list(runtime.notes)}
    figures = views.btc_figures()
    ticker = scheduler.feeds.get("btc_ticker")
    doc["btc"] = {
        # Every BTC figure is from one market: Binance spot (price, 24 h base, ATH and the intraday bars alike).
        "market": "binance_spot",
        "status": ticker.health.status(now) if ticker else None,
        "price_as_of": iso(pd_ts(ticker.health.data_as_of)) if ticker and ticker.health.data_as_of else None,
        "price": num(figures.price) if figures else None,
        "change_24h_pct": num(figures.change_24h_pct) if figures else None,
        "change_1h_pct": num(figures.change_1h_pct) if figures else None,
        "ath": num(figures.ath) if figures else None,
        "drawdown_pct": num(figures.drawdown_pct) if figures else None,
    }
    daily, hourly = views.cvd_baskets()
    cvd: dict[str, Any] = {"since": views.config.cvd.start.isoformat(), "interval": "1d"}
    coins: dict[str, Any] = {}
    if daily is not None:
        ratios = views.ratio_over(daily, pd.Timedelta(days=30))
        cvd["basket"] = {
            "cumulative_usd": num(daily.total),
            "change_30d_usd": num(daily.change(pd.Timedelta(days=30))),
            "buy_sell_ratio": num(daily.buy_sell_ratio),
            "buy_sell_ratio_30d": num(ratios.get("__basket__")),
            "excluded": list(daily.unknown_coins),
        }
        d24 = hourly.summary.set_index("coin")["delta_24h_usd"] if hourly is not None else None
        for rec in daily.summary.to_dict("records"):
            coin = str(rec["coin"])
            coins[coin] = {
                "cumulative_usd": num(rec["cumulative_usd"]),
                "buy_sell_ratio": num(rec["buy_sell_ratio"]),
                "buy_sell_ratio_30d": num(ratios.get(coin)),
                "delta_24h_usd": num(d24[coin]) if d24 is not None and coin in d24.index else None,
                "delta_30d_usd": num(rec["delta_30d_usd"]),
                "share_of_basket": num(rec["share_of_basket"]),
                "error": daily.unknown_reasons.get(coin),
            }
    else:
        cvd["basket"] = {"cumulative_usd": None, "change_30d_usd": None, "buy_sell_ratio": None,
                         "buy_sell_ratio_30d": None, "excluded": []}  # fmt: skip
    for coin, error in views.state.coin_errors.items():
        coins.setdefault(coin, {"cumulative_usd": None, "buy_sell_ratio": None, "buy_sell_ratio_30d": None,
                                "delta_24h_usd": None, "delta_30d_usd": None, "share_of_basket": None})  # fmt: skip
        coins[coin]["error"] = error
    cvd["coins"] = coins
    cvd["market"] = _market_cvd(views)
    cvd["perp"] = _perp_cvd(views)
    doc["cvd"] = cvd
    views.evaluate_drivers()
    doc["etf"] = snapshot_etf(views.state)
    doc["macro"] = snapshot_macro(views.state, views.metrics)
    doc.update(snapshot_drivers(views.drivers_book))
    from tui.views.alerts import snapshot_alerts

    doc["alerts"] = snapshot_alerts(views.config, runtime)
    doc["explain"] = snapshot_explain(views.explain(now))
    doc.update(snapshot_funding(views.figures, now))
    doc["long_short"] = snapshot_long_short(views.figures)
    doc["liquidations"] = snapshot_liquidations(views.figures, now)
    doc["sources"] = {
        feed.name: {
            "provider": feed.provider,
            "status": feed.health.status(now),
            # Both on the market clock: when it was fetched, and how old the newest figure it delivered is.
            "as_of": iso(pd_ts(feed.health.market_as_of)) if feed.health.market_as_of else None,
            "data_as_of": iso(pd_ts(feed.health.data_as_of)) if feed.health.data_as_of else None,
            "detail": feed.health.describe(now),
            "error": feed.health.error,
        }
        for feed in scheduler.feeds.values()
    }
    # The liquidation streams, when this pass listened to them (``--listen``): a silent one is "suspect".
    for name, health in views.stream_health(now).items():
        if not views.state.liq_streams[name].connections:
            continue
        doc["sources"][f"liq_{name}"] = {
            "provider": name,
            "status": {"live": "live", "silent": "suspect"}.get(health.state, health.state),
            "as_of": None,
            "data_as_of": None,
            "detail": health.text,
            "error": None if health.state in ("live", "silent") else health.text,
        }
    return doc


def pd_ts(epoch_s: float) -> Any:
    import pandas as pd

    return pd.Timestamp(epoch_s, unit="s", tz="UTC")


def render_text(doc: dict[str, Any]) -> str:
    """A human-readable listing of the same figures the panes show (every section of the JSON)."""
    from widgets.format import clean, money, pct, price, ratio

    def rate(value: Any) -> str:
        return "—" if value is None else f"{value * 100:+.4f}%"

    def num(value: Any, fmt: str = "{:.2f}") -> str:
        return "—" if value is None else fmt.format(value)

    lines = [f"altpulse snapshot · {doc['mode']}{' (SIMULATED DATA)' if doc['simulated'] else ''} · {doc['as_of']}"]
    for note in doc.get("replay", {}).get("notes", []):
        lines.append(f"  replay: {clean(note, 160)}")
    btc = doc["btc"]
    market = f" ({btc['market']})" if btc.get("market") else ""
    lines.append(
        f"BTC{market} {price(btc['price'])}  24h {pct(btc['change_24h_pct'])}  1h {pct(btc['change_1h_pct'])}  "
        f"ATH {price(btc['ath'])}  drawdown {pct(btc['drawdown_pct'], 1)}"
        + (f"  [{btc['status']}]" if btc.get("status") not in (None, "live") else "")
    )
    b = doc["cvd"]["basket"]
    lines.append(
        f"Altcoin basket CVD since {doc['cvd']['since']}: {money(b['cumulative_usd'], True)}  "
        f"30d {money(b['change_30d_usd'], True)}  buy/sell {ratio(b['buy_sell_ratio'])} "
        f"(30d {ratio(b['buy_sell_ratio_30d'])})"
        + (f"  excluded: {', '.join(clean(c, 12) for c in b['excluded'])}" if b.get("excluded") else "")
    )
    for coin, c in sorted(doc["cvd"]["coins"].items(), key=lambda kv: kv[1]["cumulative_usd"] or 0):
        extra = f"  ({clean(c['error'], 80)})" if c.get("error") else ""
        lines.append(
            f"  {clean(coin, 12):<6} CVD {money(c['cumulative_usd'], True):>10}"
            f"  24h {money(c['delta_24h_usd'], True):>9}"
            f"  30d {money(c['delta_30d_usd'], True):>9}  B/S {ratio(c['buy_sell_ratio_30d'])}{extra}"
        )
    mk = doc["cvd"].get("market")
    if mk is not None:
        pairs = "—" if mk["pairs"] is None else str(mk["pairs"])
        lines.append(
            f"Altcoin market CVD ({pairs} Binance spot pairs): {money(mk['cumulative_usd'], True)}  "
            f"30d {money(mk['change_30d_usd'], True)}  buy/sell {ratio(mk['buy_sell_ratio'])} "
            f"(30d {ratio(mk['buy_sell_ratio_30d'])})"
        )
    f = doc["funding"]
    share = f["share_above_baseline"]
    lines.append(
        f"Funding (per 8h): median {rate(f['median'])}  above baseline {rate(f['baseline'])}: "
        f"{'—' if share is None else f'{share * 100:.0f}%'} of coins"
    )
    for coin, venues in sorted(f["rates"].items()):
        cells = "  ".join(f"{clean(v, 12)} {rate(r)}" for v, r in sorted(venues.items()))
        lines.append(f"  {clean(coin, 12):<6} {cells}")
    oi = doc["open_interest"]
    lines.append(f"Open interest {money(oi['total_usd'])}  24h {pct(oi['change_24h_pct'])}")
    long_short = doc.get("long_short") or {}
    if long_short:
        lines.append("Long/short (ratio long/short, % long): accounts binance · bybit, top traders' positions binance")

    def ls(entry: Any) -> str:
        return "—" if not entry else f"{num(entry['ratio'])} {num(entry['long_pct'], '{:.0f}%')}"

    for coin, sides in long_short.items():
        acc, top = sides["accounts"], sides["top_positions"]
        lines.append(f"  {clean(coin, 12):<6} accounts {ls(acc['binance']):>11} {ls(acc['bybit']):>11}"
                     f"  top {ls(top['binance']):>11}")  # fmt: skip
    liq = doc["liquidations"]
    recorded = liq.get("recorded_minutes")
    coverage = "" if recorded is None or recorded >= 60 else f" ({recorded:.0f} min recorded)" if recorded else (
        " (nothing recorded)")
    cascade = {True: "ACTIVE", False: "no", None: "unknown"}[liq.get("cascade")]
    lines.append(
        f"Liquidations 1h: long {money(liq['long_usd'])}  short {money(liq['short_usd'])}{coverage}  cascade "
        f"{cascade} (ratio {num(liq.get('cascade_ratio'), '{:.1f}x')}, {num(liq.get('recorded_hours'), '{:.1f}')} h "
        "of tape)"
    )
    etf = doc["etf"]
    streak = "—" if etf["streak_days"] is None else f"{etf['streak_days']:+d}d"
    lines.append(
        f"BTC ETF flows {etf['last_day'] or '—'}: {money(etf['net_flow_usd'], True)}  streak {streak}"
        + ("  (today still reporting)" if etf.get("partial_today") else "")
    )
    m = doc["macro"]
    spy_label = m.get("spy_source") or "SPY"
    lines.append(
        f"Macro: Fear & Greed {num(m['fear_greed'], '{:.0f}')} {clean(m['fear_greed_class'] or '', 20)}  "
        f"BTC dom {num(m['btc_dominance_pct'], '{:.1f}%')} ({num(m['btc_dominance_change_30d'], '{:+.2f}')} pt 30d)  "
        f"stables {num(m['stablecoin_share_pct'], '{:.2f}%')}  {spy_label} 5d {pct(m['spy_5d_pct'])}  "
        f"US2y {num(m['us2y'], '{:.2f}%')} ({num(m['us2y_change_10d'], '{:+.2f}')} pt 10d)  "
        f"small-large caps 30d {num(m['smallcap_vs_largecap_30d_pct'], '{:+.1f} pp')}"
    )
    lines.append(f"Key drivers: {doc['drivers_summary']}")
    for d in doc["drivers"]:
        value = "—" if d["value"] is None else f"{d['value']:.6g}"
        quality = f" ({clean(d['quality'], 160)})" if d.get("quality") else ""
        lines.append(f"  {d['state']:<7} {clean(d['name'], 40):<32} {value:>12}  {clean(d['detail'], 120)}{quality}")
    lines.append("Sources:")
    for name, s in doc["sources"].items():
        err = f"  {clean(s['error'], 120)}" if s["error"] else ""
        detail = s.get("detail") or s["status"]
        tail = err if s["status"] not in ("stale", "retrying", "offline") else ""
        lines.append(f"  {name:<20} {s['as_of'] or '-':<21} {clean(detail, 140)}{tail}")
    return "\n".join(lines)


def run_snapshot(
    config: Any, mode: str, *, replay_dir: Path | None, at: str | None, as_json: bool, listen: float = 0.0
) -> int:
    doc = asyncio.run(collect_snapshot(config, mode, replay_dir, at, listen=listen))
    from tui.commands.cache import cache_key, write_snapshot_cache  # ``altpulse status`` reads it

    write_snapshot_cache(doc, mode, key=cache_key(replay_dir, at))
    for note in config.notes:
        print(f"altpulse: config: {note}", file=sys.stderr)
    failed = {name: s for name, s in doc["sources"].items() if s["error"]}
    for name, s in failed.items():
        print(f"altpulse: {name} ({s['provider']}) failed: {s['error']}", file=sys.stderr)
    print(json.dumps(doc, indent=2) if as_json else render_text(doc))
    return 1 if failed else 0
