#!/usr/bin/env python3
"""Generates a directory tree laid out like the bucket data.binance.vision.

`rclone serve s3 --addr 127.0.0.1:PORT OUT` then serves OUT/data.binance.vision as that
bucket, so a collector can be tested, demonstrated and benchmarked offline. Every zip is
a real deflated zip holding one CSV named like the zip, with a CHECKSUM file beside it in
Binance's format. The same arguments always write the same bytes and the same mtimes.

The `silver` preset is a small mirror of archives each holding one thing the silver stage
(arc-check, arc-convert) must notice, and clean controls beside them; every one has a
CHECKSUM that matches, so the bronze stage collects them all. OUT/silver-quirks.json (also
`silver_manifest()`) maps each key to the finding code expected from it.

    make-mirror.py OUT --preset {test,demo,bench,silver} [--seed N] [--rows N]
    make-mirror.py OUT --preset kucoin    (KuCoin's tree: scripts/mirror_kucoin.py)
    make-mirror.py OUT --preset bybit [--seed N] [--rows N]   Bybit's archive (scripts/mirror_bybit.py)
    make-mirror.py OUT --preset okx [--seed N] [--rows N]     OKX's static.okx.com (scripts/mirror_okx.py)
    make-mirror.py OUT --republish KEY [KEY ...]
    make-mirror.py OUT --add-day YYYY-MM-DD
"""
import argparse
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mirror_bybit  # noqa: E402
from mirror_common import write_file, write_sidecar, zip_bytes  # noqa: E402
import mirror_kucoin  # noqa: E402
import mirror_okx  # noqa: E402

BUCKET = "data.binance.vision"
# Other exchanges' archives, each laid out by its own module (`--preset NAME`).
OTHER_ARCHIVES = {"kucoin": mirror_kucoin, "bybit": mirror_bybit, "okx": mirror_okx}
MARKETS = ("spot", "futures/um", "futures/cm", "option")
KLINE_TYPES = {"klines", "indexPriceKlines", "markPriceKlines", "premiumIndexKlines"}
# Spot switched its timestamps from milliseconds to microseconds on this day.
SPOT_MICROSECONDS_FROM = "2025-01-01"
SPOT_MICROSECOND_TYPES = {"klines", "trades", "aggTrades"}
# Futures CSVs gained a header line: klines around 2022-05, trades after 2022-08-10
# (Binance's issues #246, #278, #283). Other futures and option files always have one here.
FUTURES_HEADER_FROM = {**{t: "2022-05-01" for t in ("klines", "indexPriceKlines", "markPriceKlines",
                                                    "premiumIndexKlines")},
                       "trades": "2022-08-11"}
INTERVAL_MS = {"1s": 1_000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000,
               "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000,
               "6h": 21_600_000, "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000,
               "3d": 259_200_000, "1w": 604_800_000, "1mo": 2_592_000_000}
# Below this many CSV rows in total, worker processes cost more than they save.
PARALLEL_ROWS = 200_000


class UsageError(Exception):
    """A bad argument: reported on one line, exit status 2."""


# --------------------------------------------------------------------------- archives

@dataclass(frozen=True)
class Archive:
    """One zip in the bucket, identified the way its key spells it."""
    market: str            # "spot", "futures/um", "futures/cm" or "option"
    period: str            # "daily" or "monthly"
    type: str              # "klines", "trades", ...
    symbol: str
    interval: str | None   # only for kline-like types
    date: str              # YYYY-MM-DD (daily) or YYYY-MM (monthly)

    @property
    def name(self):
        return f"{self.symbol}-{self.interval or self.type}-{self.date}.zip"

    @property
    def key(self):
        parts = ["data", self.market, self.period, self.type, self.symbol]
        return "/".join(parts + ([self.interval] if self.interval else []) + [self.name])


def parse_key(key):
    """The Archive a bucket key names; UsageError if it does not follow Binance's layout."""
    parts = key.strip("/").split("/")
    market_len = 2 if parts[1:2] == ["futures"] else 1
    market, rest = "/".join(parts[1:1 + market_len]), parts[1 + market_len:]
    if parts[:1] != ["data"] or market not in MARKETS or len(rest) not in (4, 5):
        raise UsageError(f"not an archive key: {key}")
    period, type_, symbol, file = rest[0], rest[1], rest[2], rest[-1]
    interval = rest[3] if len(rest) == 5 else None
    prefix = f"{symbol}-{interval or type_}-"
    date = file[len(prefix):-len(".zip")]
    pattern = {"daily": r"\d{4}-\d{2}-\d{2}", "monthly": r"\d{4}-\d{2}"}.get(period)
    if (pattern is None or (interval is not None) != (type_ in KLINE_TYPES)
            or not file.startswith(prefix) or not file.endswith(".zip") or not re.fullmatch(pattern, date)):
        raise UsageError(f"not an archive key: {key}")
    return Archive(market, period, type_, symbol, interval, date)


def period_start(date):
    """Midnight UTC at the start of a day (YYYY-MM-DD) or a month (YYYY-MM)."""
    return dt.datetime.fromisoformat(date if len(date) == 10 else date + "-01").replace(tzinfo=dt.timezone.utc)


def period_end(date):
    """Midnight UTC just after the day or month."""
    start = period_start(date)
    if len(date) == 10:
        return start + dt.timedelta(days=1)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def published(date):
    """When Binance would have published the file: the day after it ends, 03:00 UTC.
    Fixed, so listings look realistic and two runs agree."""
    return (period_end(date) + dt.timedelta(hours=3)).timestamp()


# --------------------------------------------------------------------------- presets

def days(first, count, skip=()):
    start = dt.date.fromisoformat(first)
    every = ((start + dt.timedelta(days=i)).isoformat() for i in range(count))
    return [d for d in every if d not in skip]


def months(first, last):
    out, (y, m) = [], map(int, first.split("-"))
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass
class Folder:
    """One folder of a preset: the same market/period/type/symbol/interval over `dates`.
    `broken` maps a date to "wrong-checksum" or "no-checksum"."""
    market: str
    period: str
    type: str
    symbol: str
    interval: str | None
    dates: list
    broken: dict = field(default_factory=dict)

    def archives(self):
        for date in self.dates:
            yield Archive(self.market, self.period, self.type, self.symbol, self.interval, date), self.broken.get(date)


BENCH_SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT",
                 "DOTUSDT", "LINKUSDT", "LTCUSDT", "TRXUSDT", "MATICUSDT", "ATOMUSDT", "ETCUSDT", "FILUSDT",
                 "APTUSDT", "ARBUSDT", "OPUSDT", "NEARUSDT"]

# Each preset: default CSV rows per archive, and its folders.
PRESETS = {
    # Every hard case a collector's tests need, with tiny zips so it generates in well under 2 s.
    "test": (5, [
        # More than 1000 keys in one folder (550 zips + 550 CHECKSUMs): listing must page.
        Folder("spot", "daily", "klines", "BTCUSDT", "1m", days("2022-06-01", 550)),
        # `1m` beside `1mo`: the prefix ".../1m" without its slash matches both folders.
        Folder("spot", "monthly", "klines", "BTCUSDT", "1m", months("2022-06", "2023-11")),
        Folder("spot", "monthly", "klines", "BTCUSDT", "1mo", months("2022-06", "2023-11")),
        # A missing day (2024-01-05) for gap reports.
        Folder("futures/um", "daily", "klines", "ETHUSDT", "1m", days("2024-01-01", 10, skip={"2024-01-05"})),
        Folder("futures/um", "monthly", "klines", "ETHUSDT", "1m", ["2023-11", "2023-12"]),
        # Types without an interval folder, daily-only and monthly-only.
        Folder("futures/um", "daily", "bookDepth", "ETHUSDT", None, days("2024-01-01", 3)),
        Folder("futures/um", "monthly", "fundingRate", "ETHUSDT", None, ["2023-12"]),
        Folder("futures/um", "daily", "klines", "BTCUSDT", "1m", days("2024-01-01", 3)),
        # cm: a perpetual's symbol, and indexPriceKlines under the bare pair.
        Folder("futures/cm", "daily", "klines", "BTCUSD_PERP", "1d", days("2024-01-01", 3)),
        Folder("futures/cm", "daily", "indexPriceKlines", "ETHUSD", "1h", days("2024-01-01", 2)),
        Folder("option", "daily", "BVOLIndex", "BTCBVOLUSDT", None, days("2024-01-01", 2)),
        # A CHECKSUM that does not match its zip (still well formed), and a zip without one.
        Folder("spot", "daily", "trades", "XRPUSDT", None, days("2024-01-01", 3),
               broken={"2024-01-02": "wrong-checksum"}),
        Folder("spot", "daily", "aggTrades", "XRPUSDT", None, days("2024-01-01", 2),
               broken={"2024-01-02": "no-checksum"}),
    ]),
    # A small but realistic mirror for `make demo`: full days of 1m klines.
    "demo": (1440, [
        Folder(market, period, "klines", symbol, "1m", dates)
        for market in ("spot", "futures/um")
        for symbol in ("BTCUSDT", "ETHUSDT")
        for period, dates in (("daily", days("2024-01-01", 14)), ("monthly", ["2023-11", "2023-12"]))
    ]),
    # 2,000 archives of about 88 KB, like real um 1m klines, for throughput measurements.
    "bench": (1440, [
        Folder("futures/um", "daily", "klines", symbol, "1m", days("2024-01-01", 100))
        for symbol in BENCH_SYMBOLS
    ]),
}

# The silver preset: (market, period, type, symbol, interval, date, quirk), one archive
# each. The quirk names are keys of QUIRKS (below); "clean" archives are the controls:
# every layout, header or not, ms or µs, True or true, and must pass the check.
SILVER_ARCHIVES = [
    # Clean controls.
    ("futures/um", "daily", "klines", "BTCUSDT", "1h", "2024-01-01", "clean"),      # header line
    ("futures/um", "daily", "klines", "BTCUSDT", "1h", "2022-03-01", "clean"),      # no header (before 2022-05)
    ("futures/um", "monthly", "klines", "BTCUSDT", "1d", "2024-01", "clean"),
    ("futures/um", "daily", "markPriceKlines", "BTCUSDT", "1h", "2024-01-01", "clean"),
    ("futures/um", "daily", "premiumIndexKlines", "BTCUSDT", "1h", "2024-01-01", "clean"),
    ("futures/um", "daily", "trades", "BTCUSDT", None, "2022-08-12", "clean"),     # header (after 2022-08-10)
    ("futures/um", "daily", "trades", "BTCUSDT", None, "2022-08-01", "clean"),     # no header
    ("futures/um", "daily", "aggTrades", "BTCUSDT", None, "2024-01-01", "clean"),  # true/false
    ("futures/um", "daily", "bookTicker", "BTCUSDT", None, "2024-01-01", "clean"),
    ("futures/um", "daily", "metrics", "BTCUSDT", None, "2024-01-01", "clean"),    # text datetimes
    ("futures/um", "daily", "bookDepth", "BTCUSDT", None, "2024-01-01", "clean"),  # text datetimes
    ("futures/um", "monthly", "fundingRate", "BTCUSDT", None, "2024-01", "clean"),
    ("futures/cm", "daily", "klines", "BTCUSD_PERP", "1h", "2024-01-01", "clean"),
    ("futures/cm", "daily", "trades", "BTCUSD_PERP", None, "2024-01-01", "clean"),  # base_qty
    ("futures/cm", "daily", "aggTrades", "BTCUSD_PERP", None, "2024-01-01", "clean"),
    ("futures/cm", "daily", "liquidationSnapshot", "BTCUSD_PERP", None, "2024-01-01", "clean"),
    ("spot", "daily", "klines", "BTCUSDT", "1h", "2024-12-31", "clean"),             # ms
    ("spot", "daily", "klines", "BTCUSDT", "1h", "2025-01-01", "clean"),             # µs
    ("spot", "monthly", "klines", "BTCUSDT", "1d", "2024-01", "clean"),
    ("spot", "daily", "trades", "BTCUSDT", None, "2024-12-31", "clean"),             # ms, True/False
    ("spot", "daily", "trades", "BTCUSDT", None, "2025-01-01", "clean"),             # µs
    ("spot", "daily", "aggTrades", "BTCUSDT", None, "2024-12-31", "clean"),          # ms
    ("spot", "daily", "aggTrades", "BTCUSDT", None, "2025-01-01", "clean"),          # µs
    ("option", "daily", "BVOLIndex", "BTCBVOLUSDT", None, "2024-01-01", "clean"),
    ("option", "daily", "EOHSummary", "BTCUSDT", None, "2024-01-01", "clean"),       # empty fields
    # The zip itself.
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-02-01", "not-zip"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-02-02", "truncated"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-02-03", "corrupt-stream"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-02-04", "crc-mismatch"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-02-05", "several-entries"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-02-06", "empty-entry"),
    # The CSV's layout and fields.
    ("futures/um", "daily", "klines", "ETHUSDT", "1h", "2024-02-01", "trades-in-klines"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-02-07", "trades-in-klines"),
    ("futures/um", "daily", "metrics", "ETHUSDT", None, "2024-02-01", "renamed-column"),
    ("spot", "daily", "trades", "ETHUSDT", None, "2024-02-01", "bad-number"),
    ("futures/um", "daily", "aggTrades", "ETHUSDT", None, "2024-02-01", "bad-boolean"),
    ("spot", "daily", "aggTrades", "ETHUSDT", None, "2025-02-01", "zero-price"),
    ("futures/um", "daily", "trades", "ETHUSDT", None, "2024-02-01", "negative-price"),
    ("spot", "daily", "aggTrades", "ETHUSDT", None, "2025-02-02", "next-day-row"),
    ("futures/um", "daily", "klines", "ETHUSDT", "1h", "2024-02-02", "previous-day-row"),
    # Order, duplicates, coverage.
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-03-01", "out-of-order"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-03-02", "duplicate-rows"),
    ("futures/um", "daily", "klines", "ETHUSDT", "1h", "2024-03-02", "duplicate-keys"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2024-03-03", "missing-klines"),
    ("futures/um", "monthly", "klines", "ETHUSDT", "1d", "2024-03", "missing-klines"),
    ("spot", "daily", "klines", "ETHUSDT", "1h", "2018-01-15", "off-grid"),
    ("spot", "daily", "aggTrades", "ETHUSDT", None, "2025-03-01", "cut-short"),
    ("spot", "daily", "aggTrades", "ETHUSDT", None, "2025-03-02", "agg-id-gap"),
    ("futures/um", "daily", "aggTrades", "ETHUSDT", None, "2024-03-01", "trade-id-chain-gap"),
    ("spot", "daily", "trades", "ETHUSDT", None, "2025-03-01", "trade-id-gap"),
]
# 300 rows: a full day of 1h klines, of 5-minute metrics, of the month's fundings, and
# enough trades to spread over the whole day.
PRESETS["silver"] = (300, [Folder(m, p, t, s, i, [d], broken={d: q}) for m, p, t, s, i, d, q in SILVER_ARCHIVES])


# --------------------------------------------------------------------------- CSV content

# Rough price levels of early 2024, so the numbers look familiar.
PRICE_LEVELS = {"BTC": 42_000, "ETH": 2_300, "BNB": 310, "SOL": 100, "XRP": 0.6, "ADA": 0.55, "DOGE": 0.09,
                "AVAX": 38, "DOT": 8, "LINK": 15, "LTC": 72, "TRX": 0.11, "MATIC": 0.9, "ATOM": 10,
                "ETC": 26, "FIL": 5.5, "APT": 9, "ARB": 1.9, "OP": 3.5, "NEAR": 3.4}


def base_price(symbol):
    """The symbol's price level (its base asset's, else one derived from its name), so
    one symbol's files look alike."""
    for asset in sorted(PRICE_LEVELS, key=len, reverse=True):
        if symbol.startswith(asset):
            return PRICE_LEVELS[asset]
    return 10 ** random.Random(symbol).uniform(-1, 3)


def decimals_for(price):
    """About six significant digits, like real tick sizes."""
    return max(1, min(8, 5 - math.floor(math.log10(price))))


def kline_rows(rng, a, rows, t0, scale, futures):
    """12 columns on a random walk. Index, mark and premium klines carry no volume.
    Volumes have 8 decimals: with them a day of 1m klines zips to about 88 KB, like
    Binance's own files, which the bench preset relies on."""
    step = INTERVAL_MS[a.interval] * scale
    price = base_price(a.symbol) * math.exp(rng.gauss(0, 0.05))
    d = decimals_for(price)
    traded = a.type == "klines"
    # About 3M USD traded a minute, heavy-tailed like real volume.
    avg_volume = 3_000_000 / price * INTERVAL_MS[a.interval] / 60_000
    sigma = rng.uniform(0.0006, 0.0012)       # each day its own volatility
    price = round(price, d)
    out = []
    for i in range(rows):
        o = price
        c = round(o * (1 + rng.gauss(0, sigma)), d)
        h = max(o, c) * (1 + abs(rng.gauss(0, sigma / 2)))
        l = min(o, c) * (1 - abs(rng.gauss(0, sigma / 2)))
        ot = t0 + i * step
        if traded:
            v = avg_volume * rng.lognormvariate(-0.72, 1.2)
            tb = v * rng.random()
            n = int(v / avg_volume * 2500) + 1
            vol = f"{v:.8f},{ot + step - 1},{v * c:.8f},{n},{tb:.8f},{tb * c:.8f}"
        else:
            vol = f"0,{ot + step - 1},0,{INTERVAL_MS[a.interval] // 1000},0,0"
        out.append(f"{ot},{o:.{d}f},{h:.{d}f},{l:.{d}f},{c:.{d}f},{vol},0")
        price = c
    return out


def trade_rows(rng, a, rows, t0, scale, futures, span=None):
    """trades: id, price, qty, quote_qty, time, is_buyer_maker (+ is_best_match on spot);
    cm trades carry base_qty (qty is in contracts of 100 USD) instead of quote_qty.
    aggTrades: agg id, price, qty, first id, last id, time, is_buyer_maker (+ best match).
    With `span` (in the file's time unit) the rows spread over that span from t0, as in a
    full day, instead of a few seconds."""
    price = base_price(a.symbol)
    d = decimals_for(price)
    yes, no = ("true", "false") if futures else ("True", "False")
    best = "" if futures else ",True"
    trade_id, t = rng.randint(10**6, 10**9), t0
    agg_id = trade_id // 3          # consecutive, as Binance's are
    times = sorted(t0 + rng.randrange(span) for _ in range(rows)) if span else None
    contracts = a.market == "futures/cm"
    out = []
    for i in range(rows):
        price *= 1 + rng.gauss(0, 0.0002)
        q = rng.expovariate(1 / 500)
        if times:
            t = times[i]
        else:
            t += rng.randint(1, 2000) * scale
        maker = yes if rng.random() < 0.5 else no
        if a.type == "aggTrades":
            n = rng.randint(0, 4)
            out.append(f"{agg_id + i},{price:.{d}f},{q:.2f},{trade_id},{trade_id + n},{t},{maker}{best}")
            trade_id += n + 1
        elif contracts:
            q = max(1, round(q / 10))
            out.append(f"{trade_id + i},{price:.{d}f},{q},{q * 100 / price:.8f},{t},{maker}")
        else:
            out.append(f"{trade_id + i},{price:.{d}f},{q:.2f},{price * q:.4f},{t},{maker}{best}")
    return out


def book_depth_rows(rng, a, rows, t0, scale, futures):
    """Depth within +/-1..5 % of the mid price, one snapshot every 30 s, or spaced so that
    the snapshots cover the whole period (a file that stops early is cut short)."""
    price = base_price(a.symbol)
    every = max(30, int(period_span_ms(a) / 1000 // max(1, rows // 10)))
    out = []
    for i in range(rows):
        when = dt.datetime.fromtimestamp(t0 / 1000 + every * (i // 10), dt.timezone.utc)
        pct = (i % 10) - 5 + (1 if i % 10 >= 5 else 0)
        depth = abs(pct) * rng.uniform(5_000, 6_000)
        out.append(f"{when:%Y-%m-%d %H:%M:%S},{pct},{depth:.2f},{depth * price:.8f}")
    return out


def funding_rows(rng, a, rows, t0, scale, futures):
    """One funding every 8 h."""
    return [f"{t0 + i * 28_800_000},8,{rng.gauss(0.0001, 0.00005):.8f}" for i in range(rows)]


def bvol_rows(rng, a, rows, t0, scale, futures):
    """The volatility index once a second, or spaced to cover the whole period."""
    index = rng.uniform(40, 70)
    step = max(1000, period_span_ms(a) // max(1, rows))
    out = []
    for i in range(rows):
        index += rng.gauss(0, 0.05)
        out.append(f"{t0 + i * step},{a.symbol},BTC,USDT,{index:.2f}")
    return out


def metrics_rows(rng, a, rows, t0, scale, futures):
    """Open interest and long/short ratios every 5 minutes, the time as text."""
    price = base_price(a.symbol)
    interest = rng.uniform(50_000, 100_000)
    out = []
    for i in range(rows):
        when = dt.datetime.fromtimestamp(t0 / 1000 + 300 * i, dt.timezone.utc)
        interest *= 1 + rng.gauss(0, 0.002)
        ratios = ",".join(f"{rng.uniform(0.6, 3.0):.10f}" for _ in range(4))
        out.append(f"{when:%Y-%m-%d %H:%M:%S},{a.symbol},{interest:.4f},{interest * price:.8f},{ratios}")
    return out


def book_ticker_rows(rng, a, rows, t0, scale, futures):
    """Best bid and ask on every change."""
    price = base_price(a.symbol)
    d = decimals_for(price)
    update_id, t = rng.randint(10**9, 10**12), t0
    # Changes a few hundred ms apart, or spread to cover the whole period.
    step = max(250, period_span_ms(a) // max(1, rows))
    out = []
    for i in range(rows):
        price *= 1 + rng.gauss(0, 0.0001)
        t = t0 + i * step + rng.randint(0, step // 2)
        bid, ask = price, price + 10 ** -d
        out.append(f"{update_id + i * 3},{bid:.{d}f},{rng.expovariate(0.2):.3f},{ask:.{d}f},"
                   f"{rng.expovariate(0.2):.3f},{t},{t + rng.randint(1, 20)}")
    return out


def liquidation_rows(rng, a, rows, t0, scale, futures):
    """Forced orders, filled at once."""
    price = base_price(a.symbol)
    d = decimals_for(price)
    t, out = t0, []
    for i in range(rows):
        t += rng.randint(1_000, 300_000)
        q = rng.randint(1, 500)
        p = price * (1 + rng.gauss(0, 0.002))
        out.append(f"{t},{rng.choice(('BUY', 'SELL'))},LIMIT,IOC,{q},{p:.{d}f},{p * (1 + rng.gauss(0, 0.0002)):.{d}f},"
                   f"FILLED,{q},{q}")
    return out


def eoh_summary_rows(rng, a, rows, t0, scale, futures):
    """Options' end-of-hour summary: 10 contracts an hour; a contract that did not trade
    that hour has its open, high, low and close empty, and some quotes are empty too."""
    price = base_price(a.symbol)
    day = period_start(a.date)
    expiry = (day + dt.timedelta(days=1)).strftime("%y%m%d")
    out = []
    for i in range(rows):
        hour, k = divmod(i, 10)
        strike = round(price * (0.9 + 0.04 * (k // 2)), -2)
        kind = "C" if k % 2 == 0 else "P"
        traded = rng.random() < 0.4
        o = rng.uniform(10, 2000)
        ohlc = f"{o:.1f},{o * 1.05:.1f},{o * 0.95:.1f},{o * 1.01:.1f}" if traded else ",,,"
        volume = f"{rng.uniform(0.01, 20):.2f}" if traded else "0"
        quotes = (f"{o * 0.98:.1f},{o * 1.02:.1f},{rng.uniform(0.1, 50):.2f},{rng.uniform(0.1, 50):.2f}"
                  if rng.random() < 0.8 else ",,,")
        greeks = ",".join(f"{rng.uniform(-1, 1):.5f}" for _ in range(4))
        out.append(f"{day:%Y-%m-%d},{hour:02d},BTC-{expiry}-{strike:.0f}-{kind},{a.symbol},{kind},{strike:.3f},"
                   f"{ohlc},{volume},{volume},{quotes},{rng.uniform(0.3, 0.9):.4f},{rng.uniform(0.3, 0.9):.4f},"
                   f"{o:.1f},{rng.uniform(0.3, 0.9):.4f},{greeks},{rng.uniform(1, 500):.2f},{rng.uniform(1e4, 1e7):.2f}")
    return out


def generic_rows(rng, a, rows, t0, scale, futures):
    """Any other type: a timestamp and a few plausible numbers."""
    p = base_price(a.symbol)
    return [f"{t0 + i * 1000 * scale},{p * (1 + rng.gauss(0, 0.001)):.4f},{rng.expovariate(0.01):.3f}"
            for i in range(rows)]


KLINE_HEADER = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                "taker_buy_volume,taker_buy_quote_volume,ignore")
# type -> (header, row generator). The header is written only where Binance writes one.
CONTENT = {
    **{t: (KLINE_HEADER, kline_rows) for t in KLINE_TYPES},
    "trades": ("id,price,qty,quote_qty,time,is_buyer_maker", trade_rows),
    # cm trades (the same generator writes base_qty for them)
    "trades/cm": ("id,price,qty,base_qty,time,is_buyer_maker", trade_rows),
    "aggTrades": ("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
                  trade_rows),
    "bookDepth": ("timestamp,percentage,depth,notional", book_depth_rows),
    "fundingRate": ("calc_time,funding_interval_hours,last_funding_rate", funding_rows),
    "BVOLIndex": ("calc_time,symbol,base_asset,quote_asset,index_value", bvol_rows),
    "metrics": ("create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,"
                "sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio", metrics_rows),
    "bookTicker": ("update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time",
                   book_ticker_rows),
    "liquidationSnapshot": ("time,side,order_type,time_in_force,original_quantity,price,average_price,order_status,"
                            "last_fill_quantity,accumulated_fill_quantity", liquidation_rows),
    "EOHSummary": ("date,hour,symbol,underlying,type,strike,open,high,low,close,volume_contracts,volume_usdt,"
                   "best_bid_price,best_ask_price,best_bid_qty,best_ask_qty,best_buy_iv,best_sell_iv,mark_price,"
                   "mark_iv,delta,gamma,vega,theta,openinterest_contracts,openinterest_usdt", eoh_summary_rows),
}


def period_span_ms(a):
    return int((period_end(a.date) - period_start(a.date)).total_seconds() * 1000)


def max_rows(a):
    """Rows that fit in the period (a 1d daily file has one row, a 1mo monthly file one)."""
    span = (period_end(a.date) - period_start(a.date)).total_seconds() * 1000
    step = INTERVAL_MS[a.interval] if a.interval else {"fundingRate": 28_800_000, "metrics": 300_000,
                                                       "EOHSummary": 360_000}.get(a.type, 1000)
    return max(1, int(span // step))


def time_scale(a):
    """1000 where the archive's times are in microseconds (spot from 2025), else 1 (ms)."""
    spot_us = a.market == "spot" and a.type in SPOT_MICROSECOND_TYPES
    return 1000 if spot_us and period_start(a.date) >= period_start(SPOT_MICROSECONDS_FROM) else 1


def has_header(a):
    """Whether Binance writes a header line in this archive's CSV."""
    if a.market == "spot":
        return False
    since = FUTURES_HEADER_FROM.get(a.type)
    return since is None or period_start(a.date) >= period_start(since)


def csv_parts(a, rows, seed, spread=False):
    """The header line (None where the file has none) and the data lines of an archive.
    Seeded by the key, so any archive can be made on its own, in any process, and comes
    out the same. `spread`: trades and aggTrades cover the whole period."""
    rng = random.Random(f"{seed}/{a.key}")
    header, make_rows = CONTENT.get(f"{a.type}/cm" if a.market == "futures/cm" else a.type) or \
        CONTENT.get(a.type, ("time,price,qty", generic_rows))
    futures = a.market != "spot"
    scale = time_scale(a)
    start, end = period_start(a.date), period_end(a.date)
    t0 = int(start.timestamp() * 1000) * scale
    extra = {}
    if spread and a.type in ("trades", "aggTrades"):
        extra["span"] = int((end - start).total_seconds() * 1000) * scale
    lines = make_rows(rng, a, min(rows, max_rows(a)), t0, scale, futures, **extra)
    return (header if has_header(a) else None), lines


def csv_text(a, rows, seed):
    header, lines = csv_parts(a, rows, seed)
    return "\n".join(([header] if header else []) + lines) + "\n"



# --------------------------------------------------------------------------- silver quirks

@dataclass(frozen=True)
class Quirk:
    """Something wrong in an archive on purpose, and the finding code the silver check
    must report for it (None: a clean archive). `also` lists codes a checker may report
    besides, because the same defect can be seen that way too (a row shifted off the grid
    also leaves its slot empty). `lines` edits (archive, header, data lines) -> (header,
    lines); `zip` makes the archive's bytes from (csv name, CSV text) instead of a good
    zip; `content_as` writes the CSV of another type under this archive's name."""
    finding: str | None
    note: str
    also: tuple = ()
    lines: Callable | None = None
    zip: Callable | None = None
    content_as: str | None = None


def edit(line, index, change):
    """The line with field `index` replaced by change(field)."""
    fields = line.split(",")
    fields[index] = change(fields[index])
    return ",".join(fields)


def shifted(index_list, by):
    """A change adding `by` to integer fields `index_list` of a line."""
    def change(line):
        for i in index_list:
            line = edit(line, i, lambda v: str(int(v) + by))
        return line
    return change


def time_index(a):
    return {"trades": 4, "aggTrades": 5}.get(a.type, 0)


def html_page(name, text):
    return (b"<!DOCTYPE html>\n<html><head><title>Error</title></head><body><h1>503 Service Unavailable</h1>"
            b"<p>The server is temporarily unable to service your request.</p></body></html>\n")


def truncated_zip(name, text):
    data = zip_bytes(name, text)
    return data[:len(data) // 2]


def corrupt_zip(name, text):
    """A zip whose deflate stream is damaged mid-way (headers, sizes and CRC intact): the
    first byte flip from the middle on that makes inflating fail, found by trying."""
    data = bytearray(zip_bytes(name, text))
    start = 30 + int.from_bytes(data[26:28], "little") + int.from_bytes(data[28:30], "little")
    size = int.from_bytes(data[18:22], "little")
    for at in range(start + size // 2, start + size):
        for flip in (0xFF, 0x80, 0x0F):
            data[at] ^= flip
            try:
                zlib.decompressobj(-15).decompress(bytes(data[start:start + size]))
            except zlib.error:
                return bytes(data)
            data[at] ^= flip
    raise AssertionError(f"no byte flip breaks the deflate stream of {name}")


def wrong_crc_zip(name, text):
    """A good deflate stream whose CRC-32 (in both the local and the central header) is wrong."""
    data = bytearray(zip_bytes(name, text))
    central = data.index(b"PK\x01\x02")
    for at in (14, central + 16):
        crc = int.from_bytes(data[at:at + 4], "little") ^ 0x5A5A5A5A
        data[at:at + 4] = crc.to_bytes(4, "little")
    return bytes(data)


def two_entries_zip(name, text):
    return zip_bytes(name, text, name[:-len(".csv")] + "-copy.csv", text)


def empty_entry_zip(name, text):
    return zip_bytes(name, "")


def previous_day_row(a, header, lines):
    """A row for the hour before midnight, on the grid, in order: only its day is wrong."""
    step = INTERVAL_MS[a.interval] * time_scale(a)
    return header, [shifted([0, 6], -step)(lines[0])] + lines


QUIRKS = {
    "clean": Quirk(None, "a good archive: must pass"),
    "not-zip": Quirk("not_zip", "an HTML error page saved as the zip", zip=html_page),
    "truncated": Quirk("truncated", "the first half of a good zip", also=("corrupt_stream",), zip=truncated_zip),
    "corrupt-stream": Quirk("corrupt_stream", "one byte of the deflate stream flipped", also=("crc_mismatch",),
                            zip=corrupt_zip),
    "crc-mismatch": Quirk("crc_mismatch", "a good stream, the CRC-32 in both headers wrong", zip=wrong_crc_zip),
    "several-entries": Quirk("several_entries", "the CSV and a copy of it", zip=two_entries_zip),
    "empty-entry": Quirk("empty_entry", "one member, named right, of 0 bytes", zip=empty_entry_zip),
    "trades-in-klines": Quirk("unknown_layout", "a trades CSV under a klines name", content_as="trades"),
    "renamed-column": Quirk("unknown_layout", "the header's last column renamed",
                            lines=lambda a, h, ls: (h.replace("sum_taker_long_short_vol_ratio", "taker_ratio"), ls)),
    "bad-number": Quirk("bad_field", "row 78's qty is 12.5x-like text",
                        lines=lambda a, h, ls: (h, ls[:77] + [edit(ls[77], 2, lambda v: v + "x")] + ls[78:])),
    "bad-boolean": Quirk("bad_field", "row 78's is_buyer_maker is `maybe`",
                         lines=lambda a, h, ls: (h, ls[:77] + [edit(ls[77], 6, lambda v: "maybe")] + ls[78:])),
    "zero-price": Quirk("non_positive_price", "row 51's price is 0.000…",
                        lines=lambda a, h, ls: (h, ls[:50] + [edit(ls[50], 1, lambda v: re.sub(r"\d", "0", v))]
                                                + ls[51:])),
    "negative-price": Quirk("non_positive_price", "row 51's price is negative",
                            lines=lambda a, h, ls: (h, ls[:50] + [edit(ls[50], 1, lambda v: "-" + v)] + ls[51:])),
    "next-day-row": Quirk("outside_period", "the last row's time is a day later",
                          lines=lambda a, h, ls: (h, ls[:-1] + [shifted([time_index(a)], 86_400_000 * time_scale(a))(
                              ls[-1])])),
    "previous-day-row": Quirk("outside_period", "a first row for 23:00 the day before", lines=previous_day_row),
    "out-of-order": Quirk("out_of_order", "rows 9 and 10 swapped",
                          lines=lambda a, h, ls: (h, ls[:8] + [ls[9], ls[8]] + ls[10:])),
    "duplicate-rows": Quirk("duplicate_rows", "rows 4 and 11 each written twice in a row", also=("duplicate_keys",),
                            lines=lambda a, h, ls: (h, ls[:4] + [ls[3]] + ls[4:11] + [ls[10]] + ls[11:])),
    "duplicate-keys": Quirk("duplicate_keys", "a second row for row 7's open time, another volume",
                            lines=lambda a, h, ls: (h, ls[:7] + [edit(ls[6], 5, lambda v: f"{float(v) * 2:.8f}")]
                                                    + ls[7:])),
    "missing-klines": Quirk("missing_intervals", "rows 6 to 8 missing", lines=lambda a, h, ls: (h, ls[:5] + ls[8:])),
    "off-grid": Quirk("off_grid", "row 11 opens (and closes) one second late (2018, issue #77)",
                      also=("missing_intervals",),
                      lines=lambda a, h, ls: (h, ls[:10] + [shifted([0, 6], 1000 * time_scale(a))(ls[10])] + ls[11:])),
    "cut-short": Quirk("cut_short", "only the first quarter of the day's rows (about 06:00 on)",
                       lines=lambda a, h, ls: (h, ls[:len(ls) // 4])),
    "agg-id-gap": Quirk("id_gaps", "agg_trade_id jumps by 6 at row 101",
                        lines=lambda a, h, ls: (h, ls[:100] + [shifted([0], 5)(x) for x in ls[100:]])),
    "trade-id-chain-gap": Quirk("id_gaps", "first_trade_id jumps by 8 at row 101 (last_trade_id with it)",
                                lines=lambda a, h, ls: (h, ls[:100] + [shifted([3, 4], 7)(x) for x in ls[100:]])),
    "trade-id-gap": Quirk("id_gaps", "trade id jumps by 4 at row 101",
                          lines=lambda a, h, ls: (h, ls[:100] + [shifted([0], 3)(x) for x in ls[100:]])),
}


def silver_parts(a, rows, seed, quirk):
    """The header and data lines of a silver archive, its quirk applied."""
    source = a if not quirk.content_as else Archive(a.market, a.period, quirk.content_as, a.symbol, None, a.date)
    header, lines = csv_parts(source, rows, seed, spread=True)
    return quirk.lines(a, header, lines) if quirk.lines else (header, lines)


def silver_manifest(seed=1, rows=None):
    """key -> what the silver check must find in the archive of the silver preset:
    finding (a code, or None for a clean archive), also (codes it may report besides),
    quirk (its name here), note, the archive's market/period/type/symbol/interval/date,
    csv_type (the dataset the CSV really holds: the type, but for a CSV of another
    dataset), header (whether the CSV has a header line), time_unit ("ms", "us", or "text" for
    text datetimes), rows (data rows in the CSV, None where the zip cannot be read)."""
    default_rows, folders = PRESETS["silver"]
    out = {}
    for folder in folders:
        for a, name in folder.archives():
            quirk = QUIRKS[name]
            header, lines = silver_parts(a, rows or default_rows, seed, quirk)
            unit = ("text" if a.type in ("metrics", "bookDepth", "EOHSummary")
                    else "us" if time_scale(a) == 1000 and not quirk.content_as else "ms")
            out[a.key] = {"finding": quirk.finding, "also": list(quirk.also), "quirk": name, "note": quirk.note,
                          "market": a.market, "period": a.period, "type": a.type, "symbol": a.symbol,
                          "interval": a.interval, "date": a.date, "csv_type": quirk.content_as or a.type,
                          "header": header is not None,
                          "time_unit": unit, "rows": None if quirk.zip else len(lines)}
    return out


# --------------------------------------------------------------------------- writing

def write_archive(job):
    """Writes a zip and its CHECKSUM (or breaks the CHECKSUM on purpose); returns the zip's size."""
    out, a, rows, seed, broken, mtime = job
    csv_name = a.name[:-len(".zip")] + ".csv"
    quirk = QUIRKS.get(broken)
    if quirk:
        header, lines = silver_parts(a, rows, seed, quirk)
        text = "\n".join(([header] if header else []) + lines) + "\n"
        data = (quirk.zip or zip_bytes)(csv_name, text)
    else:
        data = zip_bytes(csv_name, csv_text(a, rows, seed))
    path = os.path.join(out, BUCKET, *a.key.split("/"))
    write_file(path, data, mtime)
    write_sidecar(path, data, a.name, mtime, "sha256", broken)
    return len(data)


def write_all(jobs):
    """Writes every job, in worker processes when there is enough work; returns (count, bytes)."""
    if sum(job[2] for job in jobs) < PARALLEL_ROWS or (os.cpu_count() or 1) < 2:
        sizes = [write_archive(job) for job in jobs]
    else:
        with multiprocessing.Pool() as pool:
            sizes = pool.map(write_archive, jobs, chunksize=16)
    return len(sizes), sum(sizes)


def read_rows(path):
    """Data rows in an existing archive (the header line not counted)."""
    with zipfile.ZipFile(path) as z:
        lines = z.read(z.namelist()[0]).decode().splitlines()
    return sum(1 for line in lines if line[:1].isdigit())


# --------------------------------------------------------------------------- commands

def make_preset(out, preset, seed, rows):
    default_rows, folders = PRESETS[preset]
    if preset == "silver":
        manifest = json.dumps(silver_manifest(seed, rows), indent=1, sort_keys=True, ensure_ascii=False)
        os.makedirs(out, exist_ok=True)
        write_file(os.path.join(out, "silver-quirks.json"), (manifest + "\n").encode(), published("2025-03-02"))
    rows = rows or default_rows
    return write_all([(out, a, rows, seed, broken, published(a.date))
                      for folder in folders for a, broken in folder.archives()])


def republish(out, keys, seed, rows):
    """New content (one more row, another seed) and a correct CHECKSUM, published now:
    size, ETag, checksum and LastModified all change, as when Binance fixes a file."""
    jobs = []
    for key in keys:
        a = parse_key(key)
        path = os.path.join(out, BUCKET, *a.key.split("/"))
        if not os.path.isfile(path):
            raise UsageError(f"no such archive under {out}: {key}")
        # Seeded by the old bytes: the content changes every time, yet deterministically.
        old = hashlib.sha256(open(path, "rb").read()).hexdigest()
        # Strictly later than before, even when republished twice within a second.
        mtime = max(time.time(), os.stat(path).st_mtime + 1)
        jobs.append((out, a, rows or read_rows(path) + 1, f"{seed}/republished/{old}", None, mtime))
    return write_all(jobs)


def add_day(out, day, seed, rows):
    """Publishes `day` in every daily klines folder already in OUT, with as many rows as
    that folder's newest file, so the next run of a collector has exactly that to fetch."""
    jobs = []
    for market in MARKETS:
        base = os.path.join(out, BUCKET, "data", *market.split("/"), "daily", "klines")
        for symbol in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            for interval in sorted(os.listdir(os.path.join(base, symbol))):
                folder = os.path.join(base, symbol, interval)
                zips = sorted(f for f in os.listdir(folder) if f.endswith(".zip"))
                if zips:
                    a = Archive(market, "daily", "klines", symbol, interval, day)
                    jobs.append((out, a, rows or read_rows(os.path.join(folder, zips[-1])), seed, None,
                                 published(day)))
    if not jobs:
        raise UsageError(f"no daily klines folder under {out}")
    return write_all(jobs)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def positive(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text}")
    return int(text)


def day(text):
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}")


def parse_args(argv):
    p = Parser(prog="make-mirror.py", description=__doc__.split("\n\n")[0])
    p.add_argument("out", metavar="OUT", help="directory to write; the bucket is OUT/" + BUCKET)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preset", choices=sorted(PRESETS) + sorted(OTHER_ARCHIVES),
                      help="generate a whole mirror (kucoin, bybit, okx: those exchanges' trees, in OUT/<their host>)")
    mode.add_argument("--republish", nargs="+", metavar="KEY", help="rewrite these archives with new content")
    mode.add_argument("--add-day", type=day, metavar="YYYY-MM-DD", help="add a day to every daily klines folder")
    p.add_argument("--seed", type=int, default=1, help="seed for the content (default 1)")
    p.add_argument("--rows", type=positive, help="CSV rows per archive (default: per preset, or as before)")
    return p.parse_args(argv)


def main(argv=None):
    try:
        args = parse_args(argv)
        if args.preset in OTHER_ARCHIVES:
            count, size = OTHER_ARCHIVES[args.preset].make_preset(args.out, args.seed, args.rows)
        elif args.preset:
            count, size = make_preset(args.out, args.preset, args.seed, args.rows)
        elif args.republish:
            count, size = republish(args.out, args.republish, args.seed, args.rows)
        else:
            count, size = add_day(args.out, args.add_day, args.seed, args.rows)
    except UsageError as e:
        print(f"make-mirror.py: error: {e} (see --help)", file=sys.stderr)
        return 2
    print(f"make-mirror.py: wrote {count} zip{'' if count == 1 else 's'}, {size} bytes, under {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
