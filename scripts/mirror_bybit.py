"""Bybit's public archive (public.bybit.com) for make-mirror.py's `--preset bybit`.

Writes two trees under OUT:

    OUT/public.bybit.com/   the bucket, for `rclone serve s3` (ETag = the MD5 of each file)
        trading/{SYM}/{SYM}{YYYY-MM-DD}.csv.gz      derivatives trades, daily
        spot/{SYM}/{SYM}_{YYYY-MM-DD}.csv.gz        spot trades, daily
        spot/{SYM}/{SYM}-{YYYY-MM}.csv.gz           spot trades, monthly
    OUT/bybit-index/        the CDN's HTML index of the same folders (an index.html in
                            each), for a static HTTP server: the fallback listing

with Bybit's quirks (SOURCES.md, "Bybit"): an empty 44-byte gzip, a folder DATAOLD01USDT
holding DATAUSDT... files, a file that is no archive name, CSV headers as published
(derivatives: seconds with a fraction, a trailing RPI column from 2025; spot:
milliseconds, a trailing rpi from 2025). A multipart ETag cannot be made honestly here:
rclone's ETag is the MD5 of the file, so that case is left to unit tests.

The same arguments write the same bytes and mtimes. `bybit_manifest()` says what is where.
"""
import datetime as dt
import gzip
import hashlib
import html
import io
import os
import random

from mirror_common import write_file

BUCKET = "public.bybit.com"
INDEX = "bybit-index"
RPI_FROM = "2025-01-01"

# (market folder, symbol folder, file symbol, dates). Dates YYYY-MM-DD are daily, YYYY-MM monthly.
FOLDERS = [
    ("trading", "BTCUSDT", "BTCUSDT", ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
                                       "2025-06-01", "2025-06-02"]),
    ("trading", "ETHUSDT", "ETHUSDT", ["2024-01-01", "2024-01-02"]),
    ("trading", "BTCUSD", "BTCUSD", ["2024-01-01"]),
    ("trading", "MATICUSDT", "MATICUSDT", ["2024-01-02", "2024-01-03"]),
    ("trading", "DATAOLD01USDT", "DATAUSDT", ["2021-03-01", "2021-03-02"]),
    ("spot", "BTCUSDT", "BTCUSDT", ["2023-11", "2023-12", "2024-01-01", "2024-01-02", "2024-01-03", "2025-06-01"]),
    ("spot", "ETHUSDT", "ETHUSDT", ["2024-01-01", "2024-01-02"]),
    ("spot", "XRPUSDC", "XRPUSDC", ["2024-01"]),
]
# Empty gzips as Bybit publishes them: a header naming the CSV, no data, 44 bytes.
EMPTY = {"trading/MATICUSDT/MATICUSDT2024-01-03.csv.gz"}
# Not an archive name: listed by the bucket, reported by discover, never a record.
ODD = ["trading/ETHUSDT/README.txt", "spot/ETHUSDT/ETHUSDT_latest.csv.gz"]


def file_name(market, symbol, date):
    if market == "trading":
        return f"{symbol}{date}.csv.gz"
    return f"{symbol}_{date}.csv.gz" if len(date) == 10 else f"{symbol}-{date}.csv.gz"


def published(date):
    """The day after the archive's period ends, 06:00 UTC (fixed, so runs agree)."""
    if len(date) == 7:
        y, m = map(int, date.split("-"))
        first = dt.date(y + (m == 12), m % 12 + 1, 1)
    else:
        first = dt.date.fromisoformat(date) + dt.timedelta(days=1)
    return dt.datetime(first.year, first.month, first.day, 6, tzinfo=dt.timezone.utc).timestamp()


def day_start(date):
    d = dt.date.fromisoformat(date if len(date) == 10 else date + "-01")
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp())


def csv_text(market, symbol, date, rows, seed):
    """Trades in the columns Bybit publishes for the market and the date."""
    rng = random.Random(f"{seed}/{market}/{symbol}/{date}")
    rpi = (date if len(date) == 10 else date + "-01") >= RPI_FROM
    t0 = day_start(date)
    span = 86_400 if len(date) == 10 else 28 * 86_400
    price = 40_000.0 if symbol.startswith("BTC") else 2_000.0 if symbol.startswith("ETH") else 1.0
    lines = []
    if market == "trading":
        lines.append("timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional"
                     + (",RPI" if rpi else ""))
        for i in range(rows):
            ts = t0 + span * i / rows + rng.random() / 10
            size = round(rng.uniform(0.001, 2), 3)
            p = round(price * rng.uniform(0.99, 1.01), 1)
            side = rng.choice(["Buy", "Sell"])
            tick = rng.choice(["PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick"])
            match = "%08x-%04x-%04x-%04x-%012x" % tuple(rng.getrandbits(b) for b in (32, 16, 16, 16, 48))
            line = f"{ts:.4f},{symbol},{side},{size},{p},{tick},{match},{p * size * 1e8:.0f},{size},{p * size:.4f}"
            lines.append(line + (f",{rng.randint(0, 1)}" if rpi else ""))
    else:
        lines.append("id,timestamp,price,volume,side" + (",rpi" if rpi else ""))
        for i in range(rows):
            ms = t0 * 1000 + span * 1000 * i // rows + rng.randint(0, 999)
            p = round(price * rng.uniform(0.99, 1.01), 2)
            line = f"{i + 1},{ms},{p},{rng.uniform(0.0001, 1):.6f},{rng.choice(['buy', 'sell'])}"
            lines.append(line + (f",{rng.randint(0, 1)}" if rpi else ""))
    return "\n".join(lines) + "\n"


def gzip_bytes(csv_name, text):
    """A gzip as `gzip` writes one: the CSV's name in the header, mtime 0 (reproducible)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename=csv_name, mode="wb", fileobj=buf, mtime=0) as f:
        f.write(text.encode())
    return buf.getvalue()


def bybit_manifest():
    """key -> {market, symbol (the folder's), file_symbol, period, date, empty} for every archive."""
    out = {}
    for market, folder, file_symbol, dates in FOLDERS:
        for date in dates:
            key = f"{market}/{folder}/{file_name(market, file_symbol, date)}"
            out[key] = {"market": "linear" if market == "trading" else "spot", "symbol": folder,
                        "file_symbol": file_symbol, "period": "daily" if len(date) == 10 else "monthly",
                        "date": date, "empty": key in EMPTY}
    return out


def index_page(path, folders, files, style):
    """One folder's HTML index: nginx's autoindex (name, date, size in bytes) for
    trading/, a table for spot/ (any CDN's pages differ; the reader must not care)."""
    title = html.escape(f"Index of /{path}")
    rows = []
    if style == "table":
        rows.append('<tr><td><a href="../">Parent Directory</a></td><td>-</td></tr>')
        for name in folders:
            rows.append(f'<tr><td><a href="{html.escape(name)}/">{html.escape(name)}/</a></td><td>-</td></tr>')
        for name, size, mtime in files:
            when = dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
            rows.append(f"<tr><td><a href='{html.escape(name)}'>{html.escape(name)}</a></td><td>{when}</td>"
                        f"<td>{size}</td></tr>")
        body = "<table>\n" + "\n".join(rows) + "\n</table>"
    else:
        rows.append('<a href="../">../</a>')
        for name in folders:
            rows.append(f'<a href="{html.escape(name)}/">{html.escape(name)}/</a>'.ljust(60) + "-")
        for name, size, mtime in files:
            when = dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%d-%b-%Y %H:%M")
            rows.append(f'<A HREF="{html.escape(name)}">{html.escape(name)}</A>'.ljust(70) + f"{when}  {size:>10}")
        body = "<pre>" + "\n".join(rows) + "\n</pre><hr>"
    return (f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1><hr>\n{body}\n"
            "</body>\n</html>\n").encode()


def make_preset(out, seed=1, rows=None):
    """Writes the bucket and its HTML index; returns (files, bytes)."""
    rows = rows or 20
    bucket = os.path.join(out, BUCKET)
    count = size = 0
    listing = {}  # folder path -> [(name, size, mtime)]
    for market, folder, file_symbol, dates in FOLDERS:
        for date in dates:
            name = file_name(market, file_symbol, date)
            key = f"{market}/{folder}/{name}"
            csv_name = name[:-len(".gz")]
            data = gzip_bytes(csv_name, "" if key in EMPTY else csv_text(market, file_symbol, date, rows, seed))
            write_file(os.path.join(bucket, *key.split("/")), data, published(date))
            listing.setdefault(f"{market}/{folder}", []).append((name, len(data), published(date)))
            count += 1
            size += len(data)
    for key in ODD:
        market, folder, name = key.split("/")
        data = b"not an archive\n"
        write_file(os.path.join(bucket, *key.split("/")), data, published("2024-01-01"))
        listing.setdefault(f"{market}/{folder}", []).append((name, len(data), published("2024-01-01")))
    index = os.path.join(out, INDEX)
    markets = sorted({m for m, *_ in FOLDERS})
    write_file(os.path.join(index, "index.html"), index_page("", markets, [], "pre"), published("2024-01-01"))
    for market in markets:
        folders = sorted(f for m, f, *_ in FOLDERS if m == market)
        style = "table" if market == "spot" else "pre"
        write_file(os.path.join(index, market, "index.html"), index_page(market + "/", folders, [], style),
                   published("2024-01-01"))
        for folder in folders:
            files = sorted(listing[f"{market}/{folder}"])
            write_file(os.path.join(index, market, folder, "index.html"),
                       index_page(f"{market}/{folder}/", [], files, style), published("2024-01-01"))
    return count, size


def md5_file(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()
