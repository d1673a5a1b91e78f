"""OKX's daily archive (static.okx.com) as make-mirror.py lays it out: `--preset okx`.

    cdn/okex/traderecords/trades/daily/{YYYYMMDD}/{INSTID}-trades-{YYYY-MM-DD}.zip
    cdn/okex/traderecords/swaprates/daily/{YYYYMMDD}/allswap-fundingrates-{YYYY-MM-DD}.zip

in OUT/static.okx.com. OKX lists these through its API (market-data-history), which
Tests/tools/okx_api.py plays from this tree; there are no checksums. Days are UTC+8 days:
a file's rows run from 16:00 UTC the day before.

Trade CSVs carry the header OKX used at the time (SOURCES.md): the bilingual one
(`trade_id/交易id,side/交易方向,size/数量,price/价格,created_time/成交时间`) before
NEW_HEADER_FROM, then `instrument_name,trade_id,side,price,size,created_time`; times in
milliseconds. Funding files hold every swap's rate of the day (the header is our guess:
`instrument_name,contract_type,funding_rate,real_funding_rate,funding_time`).

GAPS lists (instrument, day) pairs left out on purpose: days an instrument has no file.
The same arguments always write the same bytes and mtimes.
"""
import datetime as dt
import os
import random

import mirror_common
from mirror_common import write_file, zip_bytes

HOST = "static.okx.com"
OLD_HEADER = "trade_id/交易id,side/交易方向,size/数量,price/价格,created_time/成交时间"
NEW_HEADER = "instrument_name,trade_id,side,price,size,created_time"
FUNDING_HEADER = "instrument_name,contract_type,funding_rate,real_funding_rate,funding_time"
NEW_HEADER_FROM = "2024-01-15"
FIRST_DAY = "2024-01-01"
DAY_COUNT = 24
INSTRUMENTS = {
    "spot": ["BTC-USDT", "ETH-USDT"],
    "swap": ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP", "XRP-USDT-SWAP", "DOGE-USDT-SWAP", "LTC-USDT-SWAP"],
    "futures": ["BTC-USD-240329"],
}
GAPS = {("ETH-USDT", "2024-01-05")}
UTC8 = dt.timezone(dt.timedelta(hours=8))


def days(first=FIRST_DAY, count=DAY_COUNT):
    return mirror_common.days(first, count)


def day_start_ms(date):
    """Midnight of `date` in UTC+8, Unix milliseconds."""
    d = dt.date.fromisoformat(date)
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=UTC8).timestamp() * 1000)


def trades_key(inst, date):
    return f"cdn/okex/traderecords/trades/daily/{date.replace('-', '')}/{inst}-trades-{date}.zip"


def funding_key(date):
    return f"cdn/okex/traderecords/swaprates/daily/{date.replace('-', '')}/allswap-fundingrates-{date}.zip"


def trades_csv(inst, date, rows, seed):
    rng = random.Random(f"{seed}/{inst}/{date}")
    start = day_start_ms(date)
    new = date >= NEW_HEADER_FROM
    lines = [NEW_HEADER if new else OLD_HEADER]
    price = 40000.0 if inst.startswith("BTC") else 100.0
    for i in range(rows):
        t = start + rng.randrange(0, 86_400_000)
        side = rng.choice(["buy", "sell"])
        size = f"{rng.uniform(0.001, 2):.6f}"
        p = f"{price * rng.uniform(0.99, 1.01):.2f}"
        tid = 100000 + i
        lines.append(f"{inst},{tid},{side},{p},{size},{t}" if new else f"{tid},{side},{size},{p},{t}")
    return "\n".join(lines) + "\n"


def funding_csv(date, seed):
    rng = random.Random(f"{seed}/funding/{date}")
    t = day_start_ms(date)
    lines = [FUNDING_HEADER]
    for inst in INSTRUMENTS["swap"]:
        rate = f"{rng.uniform(-0.001, 0.001):.8f}"
        lines.append(f"{inst},SWAP,{rate},{rate},{t}")
    return "\n".join(lines) + "\n"


def write(out, key, text, date):
    data = zip_bytes(key.rsplit("/", 1)[1][:-len(".zip")] + ".csv", text)
    mtime = day_start_ms(date) // 1000 + 86_400 + 3_600  # published an hour after the day ends
    write_file(os.path.join(out, HOST, *key.split("/")), data, mtime)
    return len(data)


def all_trades():
    """(instrument, date) of every trade file in the preset."""
    return [(inst, d) for insts in INSTRUMENTS.values() for inst in insts for d in days() if (inst, d) not in GAPS]


def make_preset(out, seed=1, rows=None):
    """The whole preset; returns (zips, bytes)."""
    sizes = [write(out, trades_key(i, d), trades_csv(i, d, rows or 5, seed), d) for i, d in all_trades()]
    sizes += [write(out, funding_key(d), funding_csv(d, seed), d) for d in days()]
    return len(sizes), sum(sizes)


def add_day(out, date, seed=1, rows=None):
    """Publishes `date` for every instrument (what the next --incremental run must find)."""
    sizes = [write(out, trades_key(i, date), trades_csv(i, date, rows or 5, seed), date)
             for insts in INSTRUMENTS.values() for i in insts]
    sizes.append(write(out, funding_key(date), funding_csv(date, seed), date))
    return len(sizes), sum(sizes)
