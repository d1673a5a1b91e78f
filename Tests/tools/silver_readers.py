"""Independent readers for the silver stage's tests and benchmarks.

The CSV inside a Binance zip is read here with Python's zipfile and csv only (no Arrow),
typed per dataset as ../shared/SILVER.md lays the datasets out; Parquet files are read back
with pyarrow, DuckDB and polars. `assert_same(parquet, zip)` holds a converted file to the
CSV it came from, value by value. `reference_findings(zip)` is a plain Python quality check
that names what is wrong in an archive with the finding codes arc-check uses.

Silver columns (the choices made where SILVER.md leaves room):
- names are the snake_case names of SILVER.md's table; the kline `ignore` column is dropped;
  coin-margined klines keep the kline names (their volume columns hold base-asset amounts);
- integer epoch times become timestamp[us, tz=UTC]: a file whose first time value is at or
  above 10**15 is in microseconds (kept as is), otherwise milliseconds (times 1000);
- text datetimes become timestamp[us, tz=UTC] too: metrics' create_time and bookDepth's
  timestamp (`YYYY-MM-DD HH:MM:SS`, UTC), and EOHSummary's date (`YYYY-MM-DD`, midnight UTC);
- ids, counts, fundingRate's funding_interval_hours and EOHSummary's hour are int64; prices,
  quantities, ratios and bookDepth's percentage are double; booleans come from True/true
  and False/false; symbols, sides and other words are strings;
- every column is required (never null) except EOHSummary's columns after `strike`, which
  may be empty (null).
"""
import csv
import datetime as dt
import glob as globlib
import io
import math
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

# Silver types (the names of Sources/ArcSilver/Datasets/ColumnBatch.swift's SilverType).
TIMESTAMP, INT64, DOUBLE, BOOLEAN, STRING = "timestamp", "int64", "double", "boolean", "string"

# How a CSV field is read: epoch (integer ms or µs), datetime (text), date (text), int,
# double, bool, text; "drop" leaves the column out of silver.
_SILVER_TYPE = {"epoch": TIMESTAMP, "datetime": TIMESTAMP, "date": TIMESTAMP, "int": INT64, "double": DOUBLE,
                "bool": BOOLEAN, "text": STRING}

_KLINES = ("open_time:epoch open:double high:double low:double close:double volume:double close_time:epoch "
           "quote_volume:double count:int taker_buy_volume:double taker_buy_quote_volume:double ignore:drop")
_EOH_OPTIONAL = ("open high low close volume_contracts volume_usdt best_bid_price best_ask_price best_bid_qty "
                 "best_ask_qty best_buy_iv best_sell_iv mark_price mark_iv delta gamma vega theta "
                 "openinterest_contracts openinterest_usdt")

# (market, type) -> "name:kind ..."; market "*" for any market.
_LAYOUTS = {
    **{("*", t): _KLINES for t in ("klines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines")},
    ("spot", "trades"): "id:int price:double qty:double quote_qty:double time:epoch is_buyer_maker:bool "
                        "is_best_match:bool",
    ("futures/um", "trades"): "id:int price:double qty:double quote_qty:double time:epoch is_buyer_maker:bool",
    ("futures/cm", "trades"): "id:int price:double qty:double base_qty:double time:epoch is_buyer_maker:bool",
    ("spot", "aggTrades"): "agg_trade_id:int price:double quantity:double first_trade_id:int last_trade_id:int "
                           "transact_time:epoch is_buyer_maker:bool is_best_match:bool",
    ("*", "aggTrades"): "agg_trade_id:int price:double quantity:double first_trade_id:int last_trade_id:int "
                        "transact_time:epoch is_buyer_maker:bool",
    ("*", "fundingRate"): "calc_time:epoch funding_interval_hours:int last_funding_rate:double",
    ("*", "bookTicker"): "update_id:int best_bid_price:double best_bid_qty:double best_ask_price:double "
                         "best_ask_qty:double transaction_time:epoch event_time:epoch",
    ("*", "metrics"): "create_time:datetime symbol:text sum_open_interest:double sum_open_interest_value:double "
                      "count_toptrader_long_short_ratio:double sum_toptrader_long_short_ratio:double "
                      "count_long_short_ratio:double sum_taker_long_short_vol_ratio:double",
    ("*", "bookDepth"): "timestamp:datetime percentage:double depth:double notional:double",
    ("*", "liquidationSnapshot"): "time:epoch side:text order_type:text time_in_force:text "
                                  "original_quantity:double price:double average_price:double order_status:text "
                                  "last_fill_quantity:double accumulated_fill_quantity:double",
    ("*", "BVOLIndex"): "calc_time:epoch symbol:text base_asset:text quote_asset:text index_value:double",
    ("*", "EOHSummary"): "date:date hour:int symbol:text underlying:text type:text strike:double "
                         + " ".join(f"{n}:double?" for n in _EOH_OPTIONAL.split()),
}

# The time column that says when a row happened (order, period and coverage checks),
# the columns that identify a row, and the price columns that must be positive.
_TIME = {"trades": "time", "aggTrades": "transact_time", "fundingRate": "calc_time", "bookTicker": "transaction_time",
         "metrics": "create_time", "bookDepth": "timestamp", "liquidationSnapshot": "time",
         "BVOLIndex": "calc_time", "EOHSummary": "date"}
_KEY = {"trades": ("id",), "aggTrades": ("agg_trade_id",), "fundingRate": ("calc_time",),
        "bookTicker": ("update_id",), "metrics": ("create_time", "symbol"), "bookDepth": ("timestamp", "percentage"),
        "BVOLIndex": ("calc_time", "symbol"), "EOHSummary": ("date", "hour", "symbol")}
_PRICES = {"klines": ("open", "high", "low", "close"), "markPriceKlines": ("open", "high", "low", "close"),
           "indexPriceKlines": ("open", "high", "low", "close"), "trades": ("price",), "aggTrades": ("price",)}
KLINE_TYPES = {"klines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines"}
INTERVAL_US = {"1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
               "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400}
INTERVAL_US = {k: v * 1_000_000 for k, v in INTERVAL_US.items()}
MICROSECONDS_FROM = 10 ** 15


def time_column(type):
    """The column that says when a row of this dataset happened."""
    return "open_time" if type in KLINE_TYPES else _TIME[type]


@dataclass(frozen=True)
class CsvColumn:
    csv_name: str
    kind: str          # epoch, datetime, date, int, double, bool, text, drop
    optional: bool

    @property
    def silver_type(self):
        return _SILVER_TYPE.get(self.kind)


@dataclass(frozen=True)
class Dataset:
    """What an archive holds, from its key: data/<market>/<period>/<type>/<SYMBOL>/[<interval>/]<file>."""
    market: str        # spot, futures/um, futures/cm, option
    period: str        # daily, monthly
    type: str
    symbol: str
    interval: str | None
    date: str          # YYYY-MM-DD or YYYY-MM

    @property
    def csv_columns(self):
        spec = _LAYOUTS.get((self.market, self.type)) or _LAYOUTS.get(("*", self.type))
        if spec is None:
            raise ValueError(f"no layout for {self.market} {self.type}")
        out = []
        for item in spec.split():
            name, kind = item.split(":")
            out.append(CsvColumn(name, kind.rstrip("?"), kind.endswith("?")))
        return out

    @property
    def columns(self):
        """The silver columns: (name, silver type, optional)."""
        return [(c.csv_name, c.silver_type, c.optional) for c in self.csv_columns if c.kind != "drop"]

    @property
    def period_us(self):
        """[start, end) of the archive's day or month, in µs since the epoch."""
        start = dt.datetime.fromisoformat(self.date if len(self.date) == 10 else self.date + "-01")
        start = start.replace(tzinfo=dt.timezone.utc)
        if len(self.date) == 10:
            end = start + dt.timedelta(days=1)
        else:
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return int(start.timestamp()) * 1_000_000, int(end.timestamp()) * 1_000_000


def dataset_of(zip_path, market=None, type=None):
    """The Dataset of an archive, from the Binance key at the end of its path (market and
    type may be given for a zip lying elsewhere under its own name)."""
    parts = Path(zip_path).parts
    name = parts[-1]
    for i, part in enumerate(parts[:-2]):
        if part in ("daily", "monthly") and i >= 1 and parts[i - 1] in ("spot", "option", "um", "cm"):
            found_market = parts[i - 1] if parts[i - 1] in ("spot", "option") else "futures/" + parts[i - 1]
            found_type, symbol = parts[i + 1], parts[i + 2]
            interval = parts[i + 3] if found_type in KLINE_TYPES and len(parts) > i + 4 else None
            date = re.search(r"(\d{4}-\d{2}(-\d{2})?)\.zip$", name).group(1)
            return Dataset(market or found_market, parts[i], type or found_type, symbol, interval, date)
    if not (market and type):
        raise ValueError(f"not under a Binance key, give market and type: {zip_path}")
    m = re.fullmatch(r"(.+?)-(\w+)-(\d{4}-\d{2}(?:-\d{2})?)\.zip", name)
    interval = m.group(2) if type in KLINE_TYPES else None
    return Dataset(market, "daily" if len(m.group(3)) == 10 else "monthly", type, m.group(1), interval, m.group(3))


# --------------------------------------------------------------------------- the CSV

class FieldError(ValueError):
    """A field that does not parse as its column's kind."""


_DOUBLE = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_INT = re.compile(r"-?\d+")
_BOOLS = {"True": True, "true": True, "False": False, "false": False}


def _parse(column, text):
    kind = column.kind
    if text == "" and column.optional:
        return None
    if kind in ("int", "epoch"):
        if not _INT.fullmatch(text):
            raise FieldError(text)
        return int(text)
    if kind == "double":
        if not _DOUBLE.fullmatch(text):
            raise FieldError(text)
        return float(text)
    if kind == "bool":
        if text not in _BOOLS:
            raise FieldError(text)
        return _BOOLS[text]
    if kind in ("datetime", "date"):
        pattern = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}" if kind == "datetime" else r"\d{4}-\d{2}-\d{2}"
        if not re.fullmatch(pattern, text):
            raise FieldError(text)
        when = dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
        return int(when.timestamp()) * 1_000_000
    if kind == "text":
        if text == "":
            raise FieldError(text)
        return text
    return text


@dataclass
class CsvTable:
    dataset: Dataset
    columns: list        # (name, silver type, optional) of the silver columns
    rows: list           # tuples in file order, typed as silver types (timestamps: int µs)
    header: bool         # whether the CSV had a header line
    time_unit: str | None  # "ms" or "us" for integer epoch times, None when the file has none


def csv_lines(zip_path):
    """The text lines of the one CSV in the zip."""
    with zipfile.ZipFile(zip_path) as z:
        [member] = z.namelist()
        return z.read(member).decode().splitlines()


def read_zip(zip_path, market=None, type=None):
    """The CSV inside a Binance zip as silver rows (ValueError/FieldError when it is not
    a good archive: use reference_findings for what is wrong)."""
    ds = dataset_of(zip_path, market, type)
    lines = csv_lines(zip_path)
    header = bool(lines) and not lines[0][:1].isdigit()
    expected = ds.csv_columns
    if header and lines[0].split(",") != [c.csv_name for c in expected]:
        raise ValueError(f"{zip_path}: header {lines[0]!r} is not {','.join(c.csv_name for c in expected)}")
    raw = list(csv.reader(io.StringIO("\n".join(lines[1:] if header else lines))))
    epochs = [i for i, c in enumerate(expected) if c.kind == "epoch"]
    unit = None
    if epochs and raw:
        unit = "us" if int(raw[0][epochs[0]]) >= MICROSECONDS_FROM else "ms"
    scale = 1000 if unit == "ms" else 1
    rows = []
    for n, fields in enumerate(raw, 1 + header):
        if len(fields) != len(expected):
            raise ValueError(f"{zip_path} line {n}: {len(fields)} fields, expected {len(expected)}")
        row = []
        for c, text in zip(expected, fields):
            if c.kind == "drop":
                continue
            try:
                value = _parse(c, text)
            except FieldError:
                raise FieldError(f"{zip_path} line {n} {c.csv_name}: {text!r}") from None
            row.append(value * scale if c.kind == "epoch" and value is not None else value)
        rows.append(tuple(row))
    return CsvTable(ds, ds.columns, rows, header, unit)


# --------------------------------------------------------------------------- Parquet

def _is_many(path):
    return os.path.isdir(path) or any(ch in str(path) for ch in "*?[")


def _glob(path):
    """A glob for every Parquet file under a directory (or the glob or file as given)."""
    return f"{str(path).rstrip('/')}/**/*.parquet" if os.path.isdir(path) else str(path)


def read_parquet_pyarrow(path, columns=None):
    """(Arrow schema, rows) of a Parquet file, or of a hive-partitioned directory or glob
    (partition columns added). Timestamps come back as int µs, like read_zip's."""
    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq
    if _is_many(path):
        if os.path.isdir(path):
            table = pads.dataset(str(path), format="parquet", partitioning="hive").to_table(columns=columns)
        else:
            files = sorted(globlib.glob(str(path), recursive=True))
            base = os.path.commonpath([os.path.dirname(f) for f in files]) if files else "."
            table = pads.dataset(files, format="parquet",
                                 partitioning=pads.partitioning(flavor="hive"),
                                 partition_base_dir=base).to_table(columns=columns)
    else:
        table = pq.read_table(path, columns=columns)
    cols = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_dictionary(field.type):
            column = column.cast(field.type.value_type)
        if pa.types.is_timestamp(field.type):
            column = column.cast(pa.int64())
        cols.append(column.to_pylist())
    return table.schema, list(zip(*cols)) if cols else []


def read_parquet_duckdb(path, columns=None):
    """(DuckDB column types, rows); timestamps as int µs (epoch_us)."""
    import duckdb
    con = duckdb.connect()
    try:
        source = f"read_parquet('{_glob(path)}', hive_partitioning = {str(_is_many(path)).lower()})"
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        types = {name: kind for name, kind, *_ in described}
        names = columns or [name for name, *_ in described]
        select = ", ".join(f'epoch_us("{n}")' if types[n].startswith("TIMESTAMP") else f'"{n}"' for n in names)
        return [types[n] for n in names], con.execute(f"SELECT {select} FROM {source}").fetchall()
    finally:
        con.close()


def read_parquet_polars(path, columns=None):
    """(polars schema, rows); timestamps as int µs."""
    import polars as pl
    many = _is_many(path)
    df = pl.read_parquet(_glob(path), hive_partitioning=many, columns=columns)
    schema = df.schema
    casts = [pl.col(n).dt.epoch("us") for n, t in schema.items() if isinstance(t, pl.Datetime)]
    if casts:
        df = df.with_columns(casts)
    return schema, df.rows()


_ARROW_TYPES = {TIMESTAMP: "timestamp[us, tz=UTC]", INT64: "int64", DOUBLE: "double", BOOLEAN: "bool",
                STRING: "string"}
_DUCKDB_TYPES = {TIMESTAMP: "TIMESTAMP WITH TIME ZONE", INT64: "BIGINT", DOUBLE: "DOUBLE", BOOLEAN: "BOOLEAN",
                 STRING: "VARCHAR"}


def expected_arrow_type(silver_type):
    return _ARROW_TYPES[silver_type]


def assert_statistics(parquet_path):
    """Every column chunk of every row group carries statistics with min and max (unless
    the chunk is all null), and a null count."""
    import pyarrow.parquet as pq
    meta = pq.read_metadata(parquet_path)
    assert meta.num_row_groups >= 1 or meta.num_rows == 0, f"{parquet_path}: no row group"
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in range(group.num_columns):
            chunk = group.column(j)
            stats = chunk.statistics
            where = f"{parquet_path} row group {i} column {chunk.path_in_schema}"
            assert stats is not None, f"{where}: no statistics"
            assert stats.has_null_count, f"{where}: no null count"
            if stats.null_count < group.num_rows:
                assert stats.has_min_max, f"{where}: no min/max"
                assert stats.min is not None and stats.max is not None, f"{where}: min/max unreadable"
    return meta


def _same(a, b):
    """Exact equality, doubles included (bit for bit but for the sign of zero)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b and type(a) is type(b) or (a is None and b is None)


def _first_difference(expected, got, names):
    if len(expected) != len(got):
        return f"{len(got)} rows, expected {len(expected)}"
    for n, (e, g) in enumerate(zip(expected, got)):
        for name, x, y in zip(names, e, g):
            if not _same(x, y):
                return f"row {n}, column {name}: {y!r}, expected {x!r}"
    return None


def assert_same(parquet_path, zip_path, market=None, type=None, check_nullability=True):
    """The Parquet file holds exactly the CSV of the zip: the silver column names in
    order, their types (timestamp[us, tz=UTC], int64, double, bool, string), every value
    (doubles exactly, times in µs) as read by pyarrow, DuckDB and polars, the row count,
    and statistics in every column chunk. Returns the CsvTable read from the zip."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    expected = read_zip(zip_path, market, type)
    names = [n for n, _, _ in expected.columns]

    schema = pq.read_schema(parquet_path)
    assert schema.names == names, f"{parquet_path}: columns {schema.names}, expected {names}"
    for (name, silver, optional), field in zip(expected.columns, schema):
        arrow_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        assert str(arrow_type) == _ARROW_TYPES[silver], f"{parquet_path} {name}: {arrow_type}, expected {silver}"
        if check_nullability:
            assert field.nullable == optional, f"{parquet_path} {name}: nullable={field.nullable}, optional={optional}"

    meta = assert_statistics(parquet_path)
    assert meta.num_rows == len(expected.rows), f"{parquet_path}: {meta.num_rows} rows, expected {len(expected.rows)}"
    for i, (name, silver, _) in enumerate(expected.columns):
        logical = meta.schema.column(i).logical_type
        if silver == TIMESTAMP:
            text = str(logical)
            assert "isAdjustedToUTC=true" in text and "microseconds" in text, f"{name}: {text}"
        if silver == STRING:
            assert "String" in str(logical), f"{name}: logical type {logical}"

    _, rows = read_parquet_pyarrow(parquet_path)
    problem = _first_difference(expected.rows, rows, names)
    assert problem is None, f"pyarrow, {parquet_path}: {problem}"

    types, rows = read_parquet_duckdb(parquet_path)
    assert types == [_DUCKDB_TYPES[s] for _, s, _ in expected.columns], f"duckdb types {types}"
    problem = _first_difference(expected.rows, rows, names)
    assert problem is None, f"duckdb, {parquet_path}: {problem}"

    import polars as pl
    schema, rows = read_parquet_polars(parquet_path)
    for (name, silver, _), (_, dtype) in zip(expected.columns, schema.items()):
        if silver == TIMESTAMP:
            assert dtype == pl.Datetime("us", "UTC"), f"polars {name}: {dtype}"
    problem = _first_difference(expected.rows, rows, names)
    assert problem is None, f"polars, {parquet_path}: {problem}"
    return expected


# --------------------------------------------------------------------------- findings

def reference_findings(zip_path, market=None, type=None):
    """The finding codes a quality check should report for the archive, by plain rules:
    not_zip (no zip signature), truncated (a zip signature, no readable directory),
    several_entries, empty_entry, corrupt_stream (inflating fails), crc_mismatch,
    unknown_layout (a header line or field count that is not the dataset's), bad_field (a
    field that does not parse as its type), non_positive_price, outside_period (the row's
    time outside the archive's day or month), out_of_order (time going back), duplicate_rows
    (a line twice), duplicate_keys (one key, two different rows), missing_intervals (klines:
    a grid slot absent between the first and last row), off_grid (klines: an open time not
    on the interval grid), cut_short (daily trades/aggTrades: nothing in the last hour),
    id_gaps (trade ids, agg ids or the first/last trade id chain not consecutive)."""
    data = Path(zip_path).read_bytes()
    if not data.startswith(b"PK\x03\x04"):
        return {"not_zip"}
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return {"truncated"}
    infos = z.infolist()
    if len(infos) != 1:
        return {"several_entries"} if infos else {"empty_entry"}
    try:
        body = z.read(infos[0])
    except zlib.error:
        return {"corrupt_stream"}
    except zipfile.BadZipFile as e:
        return {"crc_mismatch"} if "CRC" in str(e) else {"corrupt_stream"}
    if not body:
        return {"empty_entry"}
    return _csv_findings(dataset_of(zip_path, market, type), body.decode().splitlines())


def _csv_findings(ds, lines):
    found = set()
    expected = ds.csv_columns
    names = [c.csv_name for c in expected]
    header = not lines[0][:1].isdigit()
    if header and lines[0].split(",") != names:
        return {"unknown_layout"}
    raw = list(csv.reader(io.StringIO("\n".join(lines[1:] if header else lines))))
    if raw and len(raw[0]) != len(names):
        return {"unknown_layout"}
    epochs = [i for i, c in enumerate(expected) if c.kind == "epoch"]
    scale = 1000 if epochs and raw and _INT.fullmatch(raw[0][epochs[0]]) and \
        int(raw[0][epochs[0]]) < MICROSECONDS_FROM else 1
    # (line, typed row), or (line, None) for a row with a bad field: sequences (order,
    # ids, grid) are judged between good neighbours only, so one bad field is one finding.
    rows = []
    for fields in raw:
        row = None
        try:
            if len(fields) == len(names):
                row = {c.csv_name: _parse(c, f) for c, f in zip(expected, fields)}
        except FieldError:
            pass
        if row is None:
            found.add("bad_field")
        else:
            for c in expected:
                if c.kind == "epoch":
                    row[c.csv_name] *= scale
        rows.append((",".join(fields), row))
    pairs = [(a, b) for (_, a), (_, b) in zip(rows, rows[1:]) if a is not None and b is not None]
    rows = [(line, r) for line, r in rows if r is not None]

    time = time_column(ds.type)
    start, end = ds.period_us
    times = [r[time] for _, r in rows]
    if any(r[p] <= 0 for _, r in rows for p in _PRICES.get(ds.type, ())):
        found.add("non_positive_price")
    if any(not start <= t < end for t in times):
        found.add("outside_period")
    if any(b[time] < a[time] for a, b in pairs):
        found.add("out_of_order")
    seen_lines, by_key = set(), {}
    key = ("open_time",) if ds.type in KLINE_TYPES else _KEY.get(ds.type)
    for line, r in rows:
        if line in seen_lines:
            found.add("duplicate_rows")
            continue
        seen_lines.add(line)
        if key:
            k = tuple(r[c] for c in key)
            if k in by_key and by_key[k] != line:
                found.add("duplicate_keys")
            by_key.setdefault(k, line)
    step = INTERVAL_US.get(ds.interval) if ds.type in KLINE_TYPES else None
    if step and times:
        if any(t % step for t in times):
            found.add("off_grid")
        on_grid = sorted({t for t in times if t % step == 0})
        if any(b - a > step for a, b in zip(on_grid, on_grid[1:])):
            found.add("missing_intervals")
    if ds.type in ("trades", "aggTrades") and ds.period == "daily" and times and \
            max(times) < end - 3_600_000_000:
        found.add("cut_short")
    if ds.type == "trades" and any(b["id"] != a["id"] + 1 for a, b in pairs):
        found.add("id_gaps")
    if ds.type == "aggTrades" and any(b["agg_trade_id"] != a["agg_trade_id"] + 1
                                      or b["first_trade_id"] != a["last_trade_id"] + 1 for a, b in pairs):
        found.add("id_gaps")
    return found


def write_reference_parquet(table, path, compression="zstd"):
    """What arc-convert should write for a CsvTable, written by pyarrow: for the tests of
    this module, and as a reference to compare arc-convert's files with."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    arrow = {TIMESTAMP: pa.timestamp("us", tz="UTC"), INT64: pa.int64(), DOUBLE: pa.float64(),
             BOOLEAN: pa.bool_(), STRING: pa.string()}
    fields = [pa.field(n, arrow[t], nullable=o) for n, t, o in table.columns]
    columns = list(zip(*table.rows)) if table.rows else [[] for _ in fields]
    arrays = [pa.array(list(values), type=f.type) for f, values in zip(fields, columns)]
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path, compression=compression)
    return path
