#!/usr/bin/env python3
"""Generates a directory tree laid out like the bucket data.binance.vision.

`rclone serve s3 --addr 127.0.0.1:PORT OUT` then serves OUT/data.binance.vision as that
bucket, so a collector can be tested, demonstrated and benchmarked offline. Every zip is
a real deflated zip holding one CSV named like the zip, with a CHECKSUM file beside it in
Binance's format. The same arguments always write the same bytes and the same mtimes.

    make-mirror.py OUT --preset {test,demo,bench} [--seed N] [--rows N]
    make-mirror.py OUT --republish KEY [KEY ...]
    make-mirror.py OUT --add-day YYYY-MM-DD
"""
import argparse
import datetime as dt
import hashlib
import io
import math
import multiprocessing
import os
import random
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field

BUCKET = "data.binance.vision"
MARKETS = ("spot", "futures/um", "futures/cm", "option")
KLINE_TYPES = {"klines", "indexPriceKlines", "markPriceKlines", "premiumIndexKlines"}
# The zip member's timestamp is fixed: zipfile would otherwise stamp the current time
# and two runs would differ.
ZIP_DATE_TIME = (2020, 1, 1, 0, 0, 0)
# Spot switched its timestamps from milliseconds to microseconds on this day.
SPOT_MICROSECONDS_FROM = "2025-01-01"
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


def trade_rows(rng, a, rows, t0, scale, futures):
    """trades: id, price, qty, quote_qty, time, is_buyer_maker (+ is_best_match on spot).
    aggTrades: agg id, price, qty, first id, last id, time, is_buyer_maker (+ best match)."""
    price = base_price(a.symbol)
    d = decimals_for(price)
    yes, no = ("true", "false") if futures else ("True", "False")
    best = "" if futures else ",True"
    trade_id, t = rng.randint(10**6, 10**9), t0
    out = []
    for i in range(rows):
        price *= 1 + rng.gauss(0, 0.0002)
        q = rng.expovariate(1 / 500)
        t += rng.randint(1, 2000) * scale
        maker = yes if rng.random() < 0.5 else no
        if a.type == "aggTrades":
            n = rng.randint(0, 4)
            out.append(f"{i + trade_id // 3},{price:.{d}f},{q:.2f},{trade_id},{trade_id + n},{t},{maker}{best}")
            trade_id += n + 1
        else:
            out.append(f"{trade_id + i},{price:.{d}f},{q:.2f},{price * q:.4f},{t},{maker}{best}")
    return out


def book_depth_rows(rng, a, rows, t0, scale, futures):
    """Depth within +/-1..5 % of the mid price, one snapshot every 30 s."""
    price = base_price(a.symbol)
    out = []
    for i in range(rows):
        when = dt.datetime.fromtimestamp(t0 / 1000 + 30 * (i // 10), dt.timezone.utc)
        pct = (i % 10) - 5 + (1 if i % 10 >= 5 else 0)
        depth = abs(pct) * rng.uniform(5_000, 6_000)
        out.append(f"{when:%Y-%m-%d %H:%M:%S},{pct},{depth:.2f},{depth * price:.8f}")
    return out


def funding_rows(rng, a, rows, t0, scale, futures):
    """One funding every 8 h."""
    return [f"{t0 + i * 28_800_000},8,{rng.gauss(0.0001, 0.00005):.8f}" for i in range(rows)]


def bvol_rows(rng, a, rows, t0, scale, futures):
    """The volatility index once a second."""
    index = rng.uniform(40, 70)
    out = []
    for i in range(rows):
        index += rng.gauss(0, 0.05)
        out.append(f"{t0 + i * 1000},{a.symbol},BTC,USDT,{index:.2f}")
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
    "aggTrades": ("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
                  trade_rows),
    "bookDepth": ("timestamp,percentage,depth,notional", book_depth_rows),
    "fundingRate": ("calc_time,funding_interval_hours,last_funding_rate", funding_rows),
    "BVOLIndex": ("calc_time,symbol,base_asset,quote_asset,index_value", bvol_rows),
}


def max_rows(a):
    """Rows that fit in the period (a 1d daily file has one row, a 1mo monthly file one)."""
    span = (period_end(a.date) - period_start(a.date)).total_seconds() * 1000
    step = INTERVAL_MS[a.interval] if a.interval else {"fundingRate": 28_800_000}.get(a.type, 1000)
    return max(1, int(span // step))


def csv_text(a, rows, seed):
    """The CSV for an archive. Seeded by the key, so any archive can be made on its own,
    in any process, and comes out the same."""
    rng = random.Random(f"{seed}/{a.key}")
    header, make_rows = CONTENT.get(a.type, ("time,price,qty", generic_rows))
    futures = a.market != "spot"
    scale = 1000 if a.market == "spot" and a.date >= SPOT_MICROSECONDS_FROM else 1
    t0 = int(period_start(a.date).timestamp() * 1000) * scale
    lines = ([header] if futures else []) + make_rows(rng, a, min(rows, max_rows(a)), t0, scale, futures)
    return "\n".join(lines) + "\n"


def zip_bytes(csv_name, text):
    info = zipfile.ZipInfo(csv_name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3                 # the same bytes on every platform
    info.external_attr = 0o644 << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        # Level 1: four times faster than the default and about as large as Binance's zips.
        z.writestr(info, text, compresslevel=1)
    return buf.getvalue()


# --------------------------------------------------------------------------- writing

def write_file(path, data, mtime):
    """Replaces the file in one step, so a server reading it meanwhile sees old or new."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(data)
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


def write_archive(job):
    """Writes a zip and its CHECKSUM (or breaks the CHECKSUM on purpose); returns the zip's size."""
    out, a, rows, seed, broken, mtime = job
    data = zip_bytes(a.name[:-len(".zip")] + ".csv", csv_text(a, rows, seed))
    path = os.path.join(out, BUCKET, *a.key.split("/"))
    write_file(path, data, mtime)
    if broken == "no-checksum":
        if os.path.exists(path + ".CHECKSUM"):
            os.remove(path + ".CHECKSUM")
        return len(data)
    # A wrong checksum is still well formed: the sha256 of other bytes.
    digest = hashlib.sha256(data + b"\n" if broken == "wrong-checksum" else data).hexdigest()
    write_file(path + ".CHECKSUM", f"{digest}  {a.name}".encode(), mtime)
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
    mode.add_argument("--preset", choices=sorted(PRESETS), help="generate a whole mirror")
    mode.add_argument("--republish", nargs="+", metavar="KEY", help="rewrite these archives with new content")
    mode.add_argument("--add-day", type=day, metavar="YYYY-MM-DD", help="add a day to every daily klines folder")
    p.add_argument("--seed", type=int, default=1, help="seed for the content (default 1)")
    p.add_argument("--rows", type=positive, help="CSV rows per archive (default: per preset, or as before)")
    return p.parse_args(argv)


def main(argv=None):
    try:
        args = parse_args(argv)
        if args.preset:
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
