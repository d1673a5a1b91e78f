"""arc-check and arc-convert on Bybit's and KuCoin's archives: Bybit's csv.gz (derivatives
trades in seconds with a fraction, spot trades in milliseconds, an optional trailing RPI
column) and KuCoin's zips (spot klines in seconds with their own column order, trades in
milliseconds), generated here with each quirk; the Parquet written read back by pyarrow,
DuckDB and polars and compared value by value with the CSV parsed independently here
(times from the decimal text, never through a float); findings for each quirk; the record's
`source` (or --source) deciding how a key reads; silver paths kept apart per source."""
import gzip
import io
import json
import os
import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import run
import silver_readers as sr

DAY = "2024-01-01"
DAY_START_S = 1704067200          # 2024-01-01T00:00:00Z
DAY_END_S = DAY_START_S + 86400

BYBIT_DERIV_HEADER = ("timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,"
                      "foreignNotional")
BYBIT_SPOT_HEADER = "id,timestamp,price,volume,side"
KUCOIN_KLINES_HEADER = "time,open,close,high,low,volume,turnover"
KUCOIN_TRADES_HEADER = "trade_id,trade_time,price,size,side"

# Independent layouts: (CSV name, silver name, kind); kinds: seconds (decimal seconds), ms
# (integer milliseconds), int, double, text; a trailing "?" marks an optional column.
LAYOUTS = {
    ("bybit", "linear", "trades"): [
        ("timestamp", "timestamp", "seconds"), ("symbol", "symbol", "text"), ("side", "side", "text"),
        ("size", "size", "double"), ("price", "price", "double"), ("tickDirection", "tick_direction", "text"),
        ("trdMatchID", "trd_match_id", "text"), ("grossValue", "gross_value", "double"),
        ("homeNotional", "home_notional", "double"), ("foreignNotional", "foreign_notional", "double"),
        ("RPI", "rpi", "text?")],
    ("bybit", "spot", "trades"): [
        ("id", "id", "int"), ("timestamp", "timestamp", "ms"), ("price", "price", "double"),
        ("volume", "volume", "double"), ("side", "side", "text"), ("rpi", "rpi", "text?")],
    ("kucoin", "spot", "klines"): [
        ("time", "time", "seconds"), ("open", "open", "double"), ("close", "close", "double"),
        ("high", "high", "double"), ("low", "low", "double"), ("volume", "volume", "double"),
        ("turnover", "turnover", "double")],
    ("kucoin", "spot", "trades"): [
        ("trade_id", "trade_id", "text"), ("trade_time", "trade_time", "ms"), ("price", "price", "double"),
        ("size", "size", "double"), ("side", "side", "text")],
}
SILVER_TYPES = {"seconds": sr.TIMESTAMP, "ms": sr.TIMESTAMP, "int": sr.INT64, "double": sr.DOUBLE,
                "text": sr.STRING}


def seconds_to_us(text):
    """Decimal seconds to integer microseconds, exactly (digits past the µs dropped)."""
    whole, _, fraction = text.partition(".")
    return int(whole) * 1_000_000 + int((fraction + "000000")[:6])


def expected_rows(layout, csv_text):
    """(silver columns, rows) of a CSV as silver should hold it."""
    lines = [line for line in csv_text.splitlines() if line]
    header = lines[0].split(",")
    names = [c for c, _, _ in layout]
    assert header == names or header == names[:-1], header
    width = len(header)
    columns = [(silver, SILVER_TYPES[kind.rstrip("?")], kind.endswith("?")) for _, silver, kind in layout]
    rows = []
    for line in lines[1:]:
        fields = line.split(",")
        assert len(fields) == width
        row = []
        for (_, _, kind), text in zip(layout, fields + [None] * (len(layout) - width)):
            kind = kind.rstrip("?")
            if text is None:
                row.append(None)
            elif kind == "seconds":
                row.append(seconds_to_us(text))
            elif kind == "ms":
                row.append(int(text) * 1000)
            elif kind == "int":
                row.append(int(text))
            elif kind == "double":
                row.append(float(text))
            else:
                row.append(text)
        rows.append(tuple(row))
    return columns, rows


def assert_parquet_holds(parquet, columns, rows):
    """pyarrow, DuckDB and polars all read exactly these rows, with these types."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq
    names = [n for n, _, _ in columns]
    schema = pq.read_schema(parquet)
    assert schema.names == names, schema.names
    for (name, silver, optional), field in zip(columns, schema):
        arrow_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        assert str(arrow_type) == sr.expected_arrow_type(silver), (name, arrow_type)
        assert field.nullable == optional, (name, field.nullable)
    meta = sr.assert_statistics(parquet)
    assert meta.num_rows == len(rows)
    _, got = sr.read_parquet_pyarrow(parquet)
    assert sr._first_difference(rows, got, names) is None, ("pyarrow", sr._first_difference(rows, got, names))
    _, got = sr.read_parquet_duckdb(parquet)
    assert sr._first_difference(rows, got, names) is None, ("duckdb", sr._first_difference(rows, got, names))
    schema, got = sr.read_parquet_polars(parquet)
    for (name, silver, _), (_, dtype) in zip(columns, schema.items()):
        if silver == sr.TIMESTAMP:
            assert dtype == pl.Datetime("us", "UTC"), (name, dtype)
    assert sr._first_difference(rows, got, names) is None, ("polars", sr._first_difference(rows, got, names))


# --------------------------------------------------------------------------- fixtures

def deriv_rows(symbol="BTCUSDT", rpi=False):
    """A clean day of derivatives trades: fractions of 0 to 7 digits (past the microsecond,
    dropped), times at which a float parse goes wrong (the last one would land in the next
    day), the last trade in the day's last microsecond."""
    times = ["1704067200", "1704067200.1", "1704067200.1234", "1704067201.000001", "1704070000.1234569",
             "1704080000.999999", "1704100000.5", "1704120000.6543215", "1704153599.9999999"]
    out = [BYBIT_DERIV_HEADER + (",RPI" if rpi else "")]
    for n, t in enumerate(times):
        side = "Buy" if n % 2 else "Sell"
        price = f"{42000 + n}.{n}5"
        line = (f"{t},{symbol},{side},{0.001 * (n + 1):.3f},{price},PlusTick,"
                f"0b1c{n:04d}-aaaa-bbbb-cccc-{n:012d},{(n + 1) * 4200000},{0.001 * (n + 1):.3f},{(n + 1) * 42.0}")
        out.append(line + (f",{n % 2}" if rpi else ""))
    return out


def spot_rows(first_id=1, rpi=False, start_ms=DAY_START_S * 1000, count=6, last_ms=None):
    out = [BYBIT_SPOT_HEADER + (",rpi" if rpi else "")]
    step = (86_399_000 if last_ms is None else last_ms - start_ms) // max(1, count - 1)
    for n in range(count):
        ms = start_ms + n * step
        out.append(f"{first_id + n},{ms},{42000 + n}.5,{0.01 * (n + 1):.2f},{'buy' if n % 2 else 'sell'}"
                   + (f",{n % 2}" if rpi else ""))
    return out


def kucoin_klines(skip=()):
    out = [KUCOIN_KLINES_HEADER]
    for m in range(1440):
        if m in skip:
            continue
        o = 42000 + m
        out.append(f"{DAY_START_S + 60 * m},{o}.1,{o}.2,{o}.9,{o}.05,{m % 7 + 0.5},{(m % 7 + 0.5) * o}")
    return out


def kucoin_trades():
    out = [KUCOIN_TRADES_HEADER]
    for n, ms in enumerate([DAY_START_S * 1000 + 5, DAY_START_S * 1000 + 3_600_000, DAY_END_S * 1000 - 1000]):
        out.append(f"65{n:022x},{ms},{42000 + n}.25,{0.5 + n},{'buy' if n % 2 else 'sell'}")
    return out


def write_gz(path, lines, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode() if lines else b""
    path.write_bytes(gzip.compress(data, **kw))
    return path


def write_zip(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(path.name[:-4] + ".csv", "\n".join(lines) + "\n")
    return path


def empty_gzip_44(path):
    """Bybit's empty days: a gzip of nothing whose header names the CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=buf, mtime=0):
        pass
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """{name: (path, key, lines or None)} of every fixture archive."""
    root = tmp_path_factory.mktemp("sources")
    out = {}

    def add(name, key, lines, writer=write_gz, **kw):
        out[name] = (writer(root / key, lines, **kw), key, lines)

    add("deriv", f"trading/BTCUSDT/BTCUSDT{DAY}.csv.gz", deriv_rows())
    add("deriv_rpi", f"trading/ETHUSDT/ETHUSDT{DAY}.csv.gz", deriv_rows("ETHUSDT", rpi=True))
    add("spot_daily", f"spot/BTCUSDT/BTCUSDT_{DAY}.csv.gz", spot_rows())
    add("spot_monthly", "spot/BTCUSDT/BTCUSDT-2024-01.csv.gz",
        spot_rows(first_id=100, rpi=True, count=8, last_ms=(DAY_START_S + 31 * 86400) * 1000 - 5))
    add("kucoin_klines", f"data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-{DAY}.zip", kucoin_klines(), write_zip)
    add("kucoin_trades", f"data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-{DAY}.zip", kucoin_trades(), write_zip)

    # Quirks.
    rows = deriv_rows("DUPUSDT")
    fields = rows[2].split(",")
    fields[3] = "0.009"
    rows.insert(3, ",".join(fields))  # the same trdMatchID and time, another size
    add("deriv_duplicate_key", f"trading/DUPUSDT/DUPUSDT{DAY}.csv.gz", rows)
    rows = deriv_rows("DUPRUSDT")
    rows.insert(3, rows[2])
    add("deriv_duplicate_row", f"trading/DUPRUSDT/DUPRUSDT{DAY}.csv.gz", rows)
    rows = deriv_rows("OUTUSDT")
    rows[-1] = rows[-1].replace("1704153599.9999999", "1704153600.000001", 1)
    add("deriv_outside", f"trading/OUTUSDT/OUTUSDT{DAY}.csv.gz", rows)
    rows = deriv_rows("NEGUSDT")
    rows[4] = rows[4].replace(",42003.35,", ",-1,")
    add("deriv_negative", f"trading/NEGUSDT/NEGUSDT{DAY}.csv.gz", rows)
    rows = deriv_rows("REVUSDT")
    add("deriv_descending", f"trading/REVUSDT/REVUSDT{DAY}.csv.gz", [rows[0]] + rows[:0:-1])
    rows = deriv_rows("BADUSDT")
    rows[2] = rows[2].replace("1704067200.1,", "1704067200.1e3,")
    add("deriv_bad_time", f"trading/BADUSDT/BADUSDT{DAY}.csv.gz", rows)
    add("deriv_short", f"trading/SHORTUSDT/SHORTUSDT{DAY}.csv.gz", deriv_rows("SHORTUSDT")[:-3])
    rows = spot_rows()
    del rows[3]
    add("spot_id_gap", f"spot/GAPUSDT/GAPUSDT_{DAY}.csv.gz", rows)
    rows = spot_rows()
    rows[3] = rows[3].replace("42002.5", "42002.75")
    rows[3] = rows[2].split(",")[0] + "," + rows[3].split(",", 1)[1]
    add("spot_duplicate_id", f"spot/DIDUSDT/DIDUSDT_{DAY}.csv.gz", rows)
    out["spot_empty_gzip"] = (empty_gzip_44(root / f"spot/EMPTUSDT/EMPTUSDT_{DAY}.csv.gz"),
                              f"spot/EMPTUSDT/EMPTUSDT_{DAY}.csv.gz", None)
    add("spot_header_only", f"spot/HDRUSDT/HDRUSDT_{DAY}.csv.gz", [BYBIT_SPOT_HEADER])
    add("spot_wrong_header", f"spot/WHUSDT/WHUSDT_{DAY}.csv.gz",
        ["id,time,price,qty,side"] + spot_rows()[1:])

    # Broken gzips, made from a good one.
    good = gzip.compress(("\n".join(deriv_rows("XUSDT")) + "\n").encode(), mtime=0)

    def raw(name, key, data):
        p = root / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out[name] = (p, key, None)

    raw("gz_truncated", f"trading/TRUNCUSDT/TRUNCUSDT{DAY}.csv.gz", good[:len(good) // 2])
    raw("gz_no_trailer", f"trading/TRAILUSDT/TRAILUSDT{DAY}.csv.gz", good[:-5])
    crc = bytearray(good)
    crc[-8] ^= 0xFF
    raw("gz_crc", f"trading/CRCUSDT/CRCUSDT{DAY}.csv.gz", bytes(crc))
    size = bytearray(good)
    size[-4:] = struct.pack("<I", struct.unpack("<I", good[-4:])[0] + 1)
    raw("gz_size", f"trading/SIZEUSDT/SIZEUSDT{DAY}.csv.gz", bytes(size))
    raw("gz_corrupt", f"trading/CORRUSDT/CORRUSDT{DAY}.csv.gz", good[:10] + b"\xff" * 8 + good[18:])
    raw("not_gzip", f"trading/HTMLUSDT/HTMLUSDT{DAY}.csv.gz", b"<html><body>403 Forbidden</body></html>\n")
    raw("gz_garbage_after", f"trading/TAILUSDT/TAILUSDT{DAY}.csv.gz", good + b"junk")
    # Two members, as `cat a.gz b.gz` writes: one CSV.
    lines = deriv_rows("CATUSDT")
    half = len(lines) // 2
    raw("gz_two_members", f"trading/CATUSDT/CATUSDT{DAY}.csv.gz",
        gzip.compress(("\n".join(lines[:half]) + "\n").encode())
        + gzip.compress(("\n".join(lines[half:]) + "\n").encode()))
    out["gz_two_members"] = (out["gz_two_members"][0], out["gz_two_members"][1], lines)
    return root, out


@pytest.fixture
def senv(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_", "AWS_"))}
    e.update(ARC_STATE=str(tmp_path / "state" / "state.db"), ARC_LOG_FORMAT="json")
    return e


def codes(record):
    return {f["code"] for f in record["check"]["findings"]}


def check_one(path, senv, *args):
    r = run("arc-check", *args, str(path), env=senv)
    assert len(r.records) == 1, r.stderr
    return r, r.records[0]


# --------------------------------------------------------------------------- the tests

def test_a_float_parse_would_get_these_times_wrong():
    """The fixture's times tell an exact parse from a float one."""
    times = [line.split(",")[0] for line in deriv_rows()[1:]]
    wrong = [t for t in times if round(float(t) * 1e6) != seconds_to_us(t) or int(float(t) * 1e6) != seconds_to_us(t)]
    assert len(wrong) >= 2, "no fixture time where a float parse goes wrong"
    assert seconds_to_us("1704153599.9999999") == 1704153599999999 < (DAY_END_S * 1_000_000)
    assert round(float("1704153599.9999999") * 1e6) == DAY_END_S * 1_000_000
    assert seconds_to_us("1704067200.1234") == 1704067200123400


@pytest.mark.parametrize("name,market,period,columns,unit", [
    ("deriv", "linear", "daily", 11, "s"),
    ("deriv_rpi", "linear", "daily", 11, "s"),
    ("spot_daily", "spot", "daily", 6, "ms"),
    ("spot_monthly", "spot", "monthly", 6, "ms"),
    ("gz_two_members", "linear", "daily", 11, "s"),
])
def test_bybit_archives_pass_by_their_key_shape(tree, senv, name, market, period, columns, unit):
    _, items = tree
    path, key, lines = items[name]
    r, rec = check_one(path, senv)
    assert r.status == 0, (rec, r.stderr)
    assert rec["source"] == "bybit" and rec["market"] == market and rec["period"] == period, rec
    assert rec["type"] == "trades" and rec["key"] == key, rec
    check = rec["check"]
    assert check["status"] == "pass" and check["rows"] == len(lines) - 1, check
    assert check["header"] is True and check["time_unit"] == unit and check["columns"] == columns, check
    _, rows = expected_rows(LAYOUTS[("bybit", market, "trades")], "\n".join(lines))
    first, last = min(r[1 if market == "spot" else 0] for r in rows), max(r[1 if market == "spot" else 0] for r in rows)
    assert check["first_time"] == rfc3339_us(first) and check["last_time"] == rfc3339_us(last), check


def rfc3339_us(micros):
    import datetime as dt
    d = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("name,expected,status", [
    ("deriv_duplicate_key", "duplicate_keys", "warn"),
    ("deriv_duplicate_row", "duplicate_rows", "warn"),
    ("deriv_outside", "outside_period", "fail"),
    ("deriv_negative", "non_positive_price", "fail"),
    ("deriv_descending", "out_of_order", "warn"),
    ("deriv_bad_time", "bad_field", "fail"),
    ("deriv_short", "cut_short", "warn"),
    ("spot_id_gap", "id_gaps", "warn"),
    ("spot_duplicate_id", "duplicate_keys", "warn"),
    ("spot_empty_gzip", "empty_archive", "fail"),
    ("spot_header_only", "no_rows", "fail"),
    ("spot_wrong_header", "unknown_layout", "fail"),
    ("gz_truncated", "truncated", "fail"),
    ("gz_no_trailer", "truncated", "fail"),
    ("gz_crc", "crc_mismatch", "fail"),
    ("gz_size", "size_mismatch", "fail"),
    ("gz_corrupt", "corrupt_stream", "fail"),
    ("not_gzip", "not_gzip", "fail"),
    ("gz_garbage_after", "corrupt_archive", "fail"),
])
def test_each_quirk_is_a_finding(tree, senv, name, expected, status):
    _, items = tree
    path, _, _ = items[name]
    r, rec = check_one(path, senv)
    assert r.status == (1 if status == "fail" else 0), (rec, r.stderr)
    found = codes(rec)
    assert expected in found and rec["check"]["status"] == status, rec
    if status == "fail" and expected not in ("outside_period", "non_positive_price", "bad_field"):
        # A broken container is the one finding: what the rows seemed to say after it broke is not.
        assert found == {expected}, rec
    for f in rec["check"]["findings"]:
        assert f["message"] and "\n" not in f["message"], f
    assert "error" not in rec, rec


def test_the_empty_gzip_is_44_bytes_and_gets_no_parquet(tree, senv, tmp_path):
    _, items = tree
    path, _, _ = items["spot_empty_gzip"]
    assert path.stat().st_size == 44, path.stat().st_size
    r = run("arc-convert", "--dest", str(tmp_path / "silver"), str(path), env=senv)
    assert r.status == 1, r.stderr
    rec = r.records[0]
    assert codes(rec) == {"empty_archive"} and rec["silver_error"]["code"] == "check_failed", rec
    assert not list((tmp_path / "silver").rglob("*.parquet"))


def test_kucoin_keys_need_the_source(tree, senv, tmp_path):
    """KuCoin's keys look like Binance's: read as Binance's they do not fit its layouts;
    --source kucoin, or a record saying source kucoin, reads them as KuCoin's."""
    _, items = tree
    for name in ("kucoin_klines", "kucoin_trades"):
        path, key, lines = items[name]
        r, rec = check_one(path, senv)
        assert rec["source"] == "binance" and codes(rec) == {"unknown_layout"}, rec
        r, rec = check_one(path, senv, "--source", "kucoin", "--force")
        assert r.status == 0 and rec["source"] == "kucoin" and rec["check"]["status"] == "pass", rec
        assert rec["check"]["rows"] == len(lines) - 1 and rec["key"] == key, rec
        result = {"status": "ok", "source": "kucoin", "market": "spot", "type": name.split("_")[1], "symbol": "BTCUSDT",
                  "date": DAY, "key": key, "dest": str(path), "verification": "md5", "verified": True}
        r = run("arc-check", "--force", input=[result], env=senv)
        assert r.status == 0, r.stderr
        [rec] = r.records
        assert rec["check"]["status"] == "pass" and rec["verification"] == "md5", rec
        assert rec["check"]["time_unit"] == ("s" if name == "kucoin_klines" else "ms"), rec


def test_kucoin_klines_quirks(tmp_path, senv):
    key = f"data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-{DAY}.zip"
    path = write_zip(tmp_path / key, kucoin_klines(skip={10, 11, 500}))
    r, rec = check_one(path, senv, "--source", "kucoin")
    found = [f for f in rec["check"]["findings"] if f["code"] == "missing_intervals"]
    assert rec["check"]["status"] == "warn" and found and found[0]["count"] == 2, rec
    # Binance's kline column order is not KuCoin's: a Binance header is refused, shown.
    path = write_zip(tmp_path / "other" / key, ["open_time,open,high,low,close,volume"] + kucoin_klines()[1:])
    r, rec = check_one(path, senv, "--source", "kucoin")
    assert codes(rec) == {"unknown_layout"} and "time,open,close,high,low" in rec["check"]["findings"][0]["message"], rec


def test_a_bybit_record_names_its_source(tree, senv):
    _, items = tree
    path, key, _ = items["deriv"]
    result = {"status": "ok", "source": "bybit", "market": "linear", "period": "daily", "type": "trades",
              "symbol": "BTCUSDT", "date": DAY, "key": key, "dest": str(path), "verification": "etag-md5"}
    r = run("arc-check", input=[result], env=senv)
    assert r.status == 0, r.stderr
    assert r.records[0]["check"]["status"] == "pass" and r.records[0]["verification"] == "etag-md5"
    # A record of another source for the same file is read by that source's layout.
    r = run("arc-check", "--force", input=[{**result, "source": "kucoin"}], env=senv)
    assert r.status == 1 and r.records[0]["check"]["findings"][0]["code"] == "not_an_archive", r.records
    r = run("arc-check", "--force", input=[{**result, "source": "okx"}], env=senv)
    assert r.status == 1 and "okx" in r.records[0]["check"]["findings"][0]["message"], r.records


CLEAN = [("deriv", ("bybit", "linear", "trades"),
          "bybit/linear/daily/trades/symbol=BTCUSDT/date=2024-01-01/BTCUSDT2024-01-01.parquet"),
         ("deriv_rpi", ("bybit", "linear", "trades"),
          "bybit/linear/daily/trades/symbol=ETHUSDT/date=2024-01-01/ETHUSDT2024-01-01.parquet"),
         ("gz_two_members", ("bybit", "linear", "trades"),
          "bybit/linear/daily/trades/symbol=CATUSDT/date=2024-01-01/CATUSDT2024-01-01.parquet"),
         ("spot_daily", ("bybit", "spot", "trades"),
          "bybit/spot/daily/trades/symbol=BTCUSDT/date=2024-01-01/BTCUSDT_2024-01-01.parquet"),
         ("spot_monthly", ("bybit", "spot", "trades"),
          "bybit/spot/monthly/trades/symbol=BTCUSDT/date=2024-01/BTCUSDT-2024-01.parquet"),
         ("kucoin_klines", ("kucoin", "spot", "klines"),
          "kucoin/spot/daily/klines/symbol=BTCUSDT/interval=1m/date=2024-01-01/BTCUSDT-1m-2024-01-01.parquet"),
         ("kucoin_trades", ("kucoin", "spot", "trades"),
          "kucoin/spot/daily/trades/symbol=BTCUSDT/date=2024-01-01/BTCUSDT-trades-2024-01-01.parquet")]


def test_convert_writes_exactly_the_rows_with_microsecond_times(tree, senv, tmp_path):
    _, items = tree
    dest = tmp_path / "silver"
    results = []
    for name, (source, market, type), _ in CLEAN:
        path, key, _ = items[name]
        results.append({"status": "ok", "source": source, "market": market, "type": type, "key": key,
                        "dest": str(path)})
    # A Binance archive beside them keeps its path (no source folder).
    binance_key = f"data/spot/daily/trades/ETHUSDT/ETHUSDT-trades-{DAY}.zip"
    binance = write_zip(tmp_path / "bronze" / binance_key,
                        [f"{n + 1},42000.5,0.01,420.005,{(DAY_START_S + n * 43000) * 1000},True,True" for n in range(3)])
    results.append({"status": "ok", "source": "binance", "key": binance_key, "dest": str(binance)})
    r = run("arc-convert", "--dest", str(dest), input=results, env=senv)
    assert r.status == 0, r.stderr
    got = {rec["key"]: rec for rec in r.records}
    for name, layout, relative in CLEAN:
        path, key, lines = items[name]
        rec = got[key]
        assert rec["check"]["status"] == "pass", rec
        assert rec["silver"]["dest"] == str(dest / relative), rec["silver"]
        columns, rows = expected_rows(LAYOUTS[layout], "\n".join(lines))
        assert rec["silver"]["rows"] == len(rows)
        assert_parquet_holds(dest / relative, columns, rows)
    assert got[binance_key]["silver"]["dest"] == str(
        dest / "spot/daily/trades/symbol=ETHUSDT/date=2024-01-01/ETHUSDT-trades-2024-01-01.parquet")
    sr.assert_same(got[binance_key]["silver"]["dest"], str(binance))


def test_a_trade_time_is_the_decimal_text_to_the_microsecond(tree, senv, tmp_path):
    """The timestamps DuckDB reads are the text's digits, not a float's rounding."""
    import duckdb
    _, items = tree
    path, _, lines = items["deriv"]
    dest = tmp_path / "silver"
    assert run("arc-convert", "--dest", str(dest), str(path), env=senv).status == 0
    got = duckdb.sql(f"SELECT epoch_us(timestamp) FROM read_parquet('{dest}/bybit/linear/**/*.parquet', "
                     "hive_partitioning = true) ORDER BY 1").fetchall()
    texts = [line.split(",")[0] for line in lines[1:]]
    assert [g[0] for g in got] == sorted(int(Decimal(t) * 1_000_000) for t in texts)
    assert got[-1][0] == DAY_END_S * 1_000_000 - 1


def test_hive_read_of_a_source_tree(tree, senv, tmp_path):
    import duckdb
    _, items = tree
    dest = tmp_path / "silver"
    paths = [str(items[n][0]) for n in ("deriv", "deriv_rpi", "gz_two_members")]
    assert run("arc-convert", "--dest", str(dest), *paths, env=senv).status == 0
    rows = duckdb.sql(f"SELECT symbol, count(*), count(rpi) FROM read_parquet('{dest}/bybit/linear/daily/trades/**/*.parquet', "
                      "hive_partitioning = true, union_by_name = true) GROUP BY ALL ORDER BY 1").fetchall()
    assert rows == [("BTCUSDT", 9, 0), ("CATUSDT", 9, 0), ("ETHUSDT", 9, 9)], rows


def test_arguments_that_are_not_archives_of_a_source(tmp_path, senv):
    p = write_gz(tmp_path / "somewhere" / "BTCUSDT2024-01-01.csv.gz", deriv_rows())
    r, rec = check_one(p, senv)
    assert r.status == 1 and codes(rec) == {"not_an_archive"}, rec
    r, rec = check_one(p, senv, "--source", "bybit")
    assert "not a Bybit archive" in rec["check"]["findings"][0]["message"], rec
    r = run("arc-check", "--source", "okx", str(p), env=senv)
    assert r.status == 2 and "okx" in r.stderr
