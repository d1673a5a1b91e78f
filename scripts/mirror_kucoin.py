"""KuCoin's archive (historical-data.kucoin.com) as make-mirror.py lays it out: `--preset kucoin`.

    data/{spot|futures}/daily/{type}/{SYMBOL}/[{interval}/]{SYMBOL}-{INTERVAL|TYPE}-{YYYY-MM-DD}.zip
    data/{spot|futures}/daily/depth/orderbooklv50/{SYMBOL}/{SYMBOL}-orderbooklv50-{YYYY-MM-DD}.zip

Beside every zip a `.zip.CHECKSUM` holding its **MD5** (`HASH  NAME`, as SOURCES.md has
it), served by `rclone serve s3` from OUT/historical-data.kucoin.com like the real host's
ListObjects v1. Spot pairs lose their dash (BTCUSDT), books keep it (BTC-USDT); futures
are BTCUSDTM where the trading API says XBTUSDTM.

CSV contents per SOURCES.md: klines `time,open,close,high,low,volume,turnover` with the
time in seconds (futures klines: `time,open,close,high,low,volume`); trades
`trade_id,trade_time,price,size,side` in milliseconds. The quirks, on purpose (QUIRKS maps
each key to its name):
  wrong-checksum     a sidecar whose MD5 is not the zip's (still 32 hex digits)
  no-checksum        a zip without its sidecar
  short-rows         futures 1d klines: the header declares 6 columns, the rows have 5
  spills-past-day    a book file whose last rows are a few seconds into the next day

The same arguments always write the same bytes and mtimes.
"""
import datetime as dt
import os
import random

from mirror_common import days, write_file, write_sidecar, zip_bytes

BUCKET = "historical-data.kucoin.com"
INTERVAL_S = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400}
KLINE_HEADER = {"spot": "time,open,close,high,low,volume,turnover", "futures": "time,open,close,high,low,volume"}
TRADE_HEADER = "trade_id,trade_time,price,size,side"


def key(market, type_, symbol, interval, date):
    last = type_.split("/")[-1]
    name = f"{symbol}-{interval or last}-{date}.zip"
    return "/".join(["data", market, "daily", type_, symbol] + ([interval] if interval else []) + [name])


# (market, type, symbol, interval, dates)
FOLDERS = [
    # 600 zips and 600 sidecars in one folder: the listing must page (1000 keys a page).
    ("spot", "klines", "BTCUSDT", "1d", days("2022-06-01", 600)),
    ("spot", "klines", "BTCUSDT", "1m", days("2024-01-01", 10)),
    ("spot", "klines", "ETHUSDT", "1m", days("2024-01-01", 5)),
    ("spot", "trades", "BTCUSDT", None, days("2024-01-01", 5)),
    ("spot", "trades", "ETHUSDT", None, days("2024-01-01", 3)),
    ("spot", "depth/orderbooklv50", "BTC-USDT", None, days("2024-01-01", 2)),
    ("futures", "klines", "BTCUSDTM", "1m", days("2024-01-01", 5)),
    ("futures", "klines", "BTCUSDTM", "1d", days("2024-01-01", 5)),
    ("futures", "klines", "ETHUSDTM", "1h", days("2024-01-01", 3)),
    ("futures", "trades", "BTCUSDTM", None, days("2024-01-01", 3)),
    ("futures", "fundingRates", "BTCUSDTM", None, days("2024-01-01", 3)),
    # Index prices without an interval folder, mark prices with one: both shapes are listed.
    ("futures", "index", "BTCUSDTM", None, days("2024-01-01", 2)),
    ("futures", "mark", "BTCUSDTM", "1m", days("2024-01-01", 2)),
]

QUIRKS = {
    key("spot", "klines", "ETHUSDT", "1m", "2024-01-03"): "wrong-checksum",
    key("spot", "trades", "ETHUSDT", None, "2024-01-02"): "no-checksum",
    **{key("futures", "klines", "BTCUSDTM", "1d", d): "short-rows" for d in days("2024-01-01", 5)},
    **{key("spot", "depth/orderbooklv50", "BTC-USDT", None, d): "spills-past-day" for d in days("2024-01-01", 2)},
}


def day_start(date):
    return int(dt.datetime.fromisoformat(date).replace(tzinfo=dt.timezone.utc).timestamp())


def published(date):
    """The day after, 02:00 UTC: fixed, so two runs agree."""
    return day_start(date) + 86400 + 7200


def kline_rows(rng, market, interval, date, rows, quirk, price):
    step = INTERVAL_S.get(interval, 60)
    out = []
    for i in range(min(rows, 86400 // step)):
        o = price + rng.uniform(-50, 50)
        c = o + rng.uniform(-20, 20)
        h, lo = max(o, c) + rng.uniform(0, 10), min(o, c) - rng.uniform(0, 10)
        vol = rng.uniform(0.1, 20)
        cols = [str(day_start(date) + i * step), f"{o:.1f}", f"{c:.1f}", f"{h:.1f}", f"{lo:.1f}", f"{vol:.6f}"]
        if market == "spot":
            cols.append(f"{vol * c:.4f}")
        if quirk == "short-rows":
            cols = cols[:5]
        out.append(",".join(cols))
        price = c
    return KLINE_HEADER[market], out


def trade_rows(rng, date, rows, price):
    t = day_start(date) * 1000
    out = []
    for i in range(rows):
        t += rng.randint(1, 86_400_000 // (rows + 1))
        out.append(f"{1000000 + i},{t},{price + rng.uniform(-50, 50):.1f},{rng.uniform(0.001, 2):.6f},"
                   f"{rng.choice(['buy', 'sell'])}")
    return TRADE_HEADER, out


def book_rows(rng, date, rows, quirk):
    # Snapshots every few seconds; a spilling file goes on a few seconds past midnight.
    end = day_start(date) + 86400
    times = [day_start(date) * 1000 + i * (86_400_000 // rows) for i in range(rows)]
    if quirk == "spills-past-day":
        times += [end * 1000 + 1500, end * 1000 + 4200]
    out = [f"{t},{42000 - rng.uniform(0, 5):.1f},{rng.uniform(0.1, 3):.4f},{42000 + rng.uniform(0, 5):.1f},"
           f"{rng.uniform(0.1, 3):.4f}" for t in times]
    return "time,bid_price,bid_size,ask_price,ask_size", out


def csv_text(k, market, type_, interval, date, rows, seed, quirk):
    rng = random.Random(f"{seed}/{k}")
    price = 42000.0 if "/BTC" in k else 2200.0
    if type_ in ("klines", "mark", "index"):
        header, lines = kline_rows(rng, market if type_ == "klines" else "futures", interval or "1m", date, rows, quirk, price)
    elif type_ == "trades":
        header, lines = trade_rows(rng, date, rows, price)
    elif type_.startswith("depth/"):
        header, lines = book_rows(rng, date, rows, quirk)
    else:  # fundingRates: one every 8 hours
        header = "time,funding_rate"
        lines = [f"{(day_start(date) + h * 3600) * 1000},{rng.uniform(-1e-4, 3e-4):.6f}" for h in (0, 8, 16)]
    return "\n".join([header] + lines) + "\n"


def write_archive(out, market, type_, symbol, interval, date, rows, seed):
    """Writes a zip and its MD5 sidecar (or breaks it, per QUIRKS); returns the zip's size."""
    k = key(market, type_, symbol, interval, date)
    quirk = QUIRKS.get(k)
    name = k.rsplit("/", 1)[1]
    data = zip_bytes(name[:-len(".zip")] + ".csv", csv_text(k, market, type_, interval, date, rows, seed, quirk))
    path = os.path.join(out, BUCKET, *k.split("/"))
    mtime = published(date)
    write_file(path, data, mtime)
    write_sidecar(path, data, name, mtime, "md5", quirk)
    return len(data)


def make_preset(out, seed=1, rows=None):
    """The whole preset; returns (zips, bytes)."""
    sizes = [write_archive(out, m, t, s, i, d, rows or 5, seed) for m, t, s, i, dates in FOLDERS for d in dates]
    return len(sizes), sum(sizes)


def add_day(out, day, seed=1, rows=None):
    """Publishes `day` in every daily klines folder of the preset that is already in OUT:
    what the next --incremental run must find."""
    count = size = 0
    for market, type_, symbol, interval, _ in FOLDERS:
        if type_ == "klines" and os.path.isdir(os.path.join(out, BUCKET, "data", market, "daily", type_, symbol, interval)):
            size += write_archive(out, market, type_, symbol, interval, day, rows or 5, seed)
            count += 1
    return count, size
