import Glibc
import XCTest
import ArcCore
import ArcTestSupport
@testable import ArcSilver

/// One value of a test table, as the test means it.
enum ParquetCell: Equatable {
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)
    case null
}

/// A table written with ParquetWriter and then read back by pyarrow, DuckDB and polars
/// through the repository's .venv: the script compares every value, type and statistic
/// with what the table says, and prints what differs.
struct ParquetTestTable {
    var schema: [SilverColumn]
    var rows: [[ParquetCell]]

    /// Writes the table in batches of `batchRows` (one batch reused, as the converter does).
    @discardableResult
    func write(to path: String, options: ParquetOptions, batchRows: Int = 10_000,
               metadata: [(key: String, value: String)] = []) throws -> ParquetSummary {
        let sink = try AtomicFileSink(path: path)
        let writer = try ParquetWriter(schema: schema, sink: sink, options: options)
        let batch = ColumnBatch(schema: schema, capacity: batchRows)
        var start = 0
        while start < rows.count {
            batch.removeAll()
            for row in rows[start..<min(start + batchRows, rows.count)] { append(row, to: batch) }
            try writer.write(batch)
            start += batchRows
        }
        let summary = try writer.finish(metadata: metadata)
        try sink.commit()
        return summary
    }

    private func append(_ row: [ParquetCell], to batch: ColumnBatch) {
        for (i, column) in schema.enumerated() {
            let cell = row[i]
            if column.optional { batch.present[i].append(cell != .null) }
            switch (column.type, cell) {
            case (.timestamp, .int(let v)), (.int64, .int(let v)): batch.int64s[i].append(v)
            case (.timestamp, .null), (.int64, .null): batch.int64s[i].append(0)
            case (.double, .double(let v)): batch.doubles[i].append(v)
            case (.double, .null): batch.doubles[i].append(0)
            case (.boolean, .bool(let v)): batch.booleans[i].append(v)
            case (.boolean, .null): batch.booleans[i].append(false)
            case (.string, .string(let v)): batch.strings[i].append(v)
            case (.string, .null): batch.strings[i].append("")
            default: preconditionFailure("cell \(cell) in a \(column.type) column")
            }
        }
        batch.rows += 1
    }

    /// What the checking script expects, one tab-separated line per fact.
    func expectation(rowGroups: Int, codec: String, keyValues: [(key: String, value: String)],
                     encodings: [(column: String, encoding: String)] = []) -> String {
        var out = ""
        for column in schema {
            out += "col\t\(column.name)\t\(ParquetTestTable.name(column.type))\t\(column.optional ? 1 : 0)\n"
        }
        out += "rowgroups\t\(rowGroups)\ncodec\t\(codec)\n"
        for (key, value) in keyValues { out += "kv\t\(ParquetTestTable.hex(key))\t\(ParquetTestTable.hex(value))\n" }
        for (column, encoding) in encodings { out += "encoding\t\(column)\t\(encoding)\n" }
        for row in rows {
            out += "row"
            for cell in row { out += "\t" + ParquetTestTable.render(cell) }
            out += "\n"
        }
        return out
    }

    static func name(_ type: SilverType) -> String {
        switch type {
        case .timestamp: return "timestamp"
        case .int64: return "int64"
        case .double: return "double"
        case .boolean: return "boolean"
        case .string: return "string"
        }
    }

    /// As the script renders what the readers return: doubles by bit pattern, strings in hex.
    static func render(_ cell: ParquetCell) -> String {
        switch cell {
        case .int(let v): return String(v)
        case .double(let v): return String(v.bitPattern)
        case .bool(let v): return v ? "1" : "0"
        case .string(let v): return hex(v)
        case .null: return "-"
        }
    }

    static func hex(_ s: String) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        for b in s.utf8 { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return out
    }
}

enum ParquetReaders {
    /// The package root, three levels above this file (Tests/ArcSilverTests/<file>).
    static let packageRoot: String = {
        var path = "\(#filePath)"
        for _ in 0..<3 { path = FileSystem.parent(of: path) }
        return path
    }()

    static var python: String { packageRoot + "/.venv/bin/python" }

    /// Runs the checking script over `file`; fails the test with the script's report.
    static func check(_ file: String, expectation: String, in dir: TempDir,
                      file testFile: StaticString = #filePath, line: UInt = #line) throws {
        guard access(python, X_OK) == 0 else {
            XCTFail("\(python) is missing: run the repository's setup (pyarrow, duckdb and polars in .venv) "
                    + "before these tests", file: testFile, line: line)
            return
        }
        let script = dir.write("check_parquet.py", checkScript)
        let expected = dir.write("expected.txt", expectation)
        var options = Subprocess.Options()
        options.stdoutPath = dir.file("check.out")
        options.stderrPath = dir.file("check.err")
        let child = try Subprocess(executable: python, arguments: [python, script, file, expected], options: options)
        let status = child.wait()
        let out = String(decoding: dir.read("check.out"), as: UTF8.self)
        let err = String(decoding: dir.read("check.err"), as: UTF8.self)
        XCTAssertEqual(status, 0, "readers disagree with \(file):\n\(out)\(err)", file: testFile, line: line)
        XCTAssertEqual(out, "ok\n", err, file: testFile, line: line)
    }

    static let checkScript = #"""
import sys, struct
import pyarrow as pa, pyarrow.parquet as pq, duckdb, polars as pl

path, expected_path = sys.argv[1], sys.argv[2]
cols, rows, kv, encodings = [], [], {}, []
groups = codec = None
for line in open(expected_path, encoding="utf-8"):
    parts = line.rstrip("\n").split("\t")
    if parts[0] == "col": cols.append((parts[1], parts[2], parts[3] == "1"))
    elif parts[0] == "row": rows.append(parts[1:])
    elif parts[0] == "kv": kv[bytes.fromhex(parts[1]).decode()] = bytes.fromhex(parts[2]).decode()
    elif parts[0] == "rowgroups": groups = int(parts[1])
    elif parts[0] == "codec": codec = parts[1]
    elif parts[0] == "encoding": encodings.append((parts[1], parts[2]))

failures = []
def check(ok, what):
    if not ok: failures.append(what)

def render(kind, v):
    if v is None: return "-"
    if kind == "double": return str(struct.unpack("<Q", struct.pack("<d", v))[0])
    if kind == "boolean": return "1" if v else "0"
    if kind == "string": return (v if isinstance(v, bytes) else v.encode()).hex()
    return str(int(v))

def compare(reader, name, kind, got):
    want = [r[[c[0] for c in cols].index(name)] for r in rows]
    got = [render(kind, v) for v in got]
    if got != want:
        n = len(got) if len(got) != len(want) else next(i for i in range(len(got)) if got[i] != want[i])
        check(False, f"{reader}: column {name}: {len(got)} values for {len(want)}; first difference at row {n}: "
                     f"{got[n] if n < len(got) else None} for {want[n] if n < len(want) else None}")

def expected_stats(kind, values):
    present = [v for v in values if v != "-"]
    nulls = len(values) - len(present)
    if kind == "double":
        floats = [struct.unpack("<d", struct.pack("<Q", int(v)))[0] for v in present]
        floats = [f for f in floats if f == f]
        return nulls, (min(floats) if floats else None), (max(floats) if floats else None)
    if kind == "string":
        bs = [bytes.fromhex(v) for v in present]
        return nulls, (min(bs) if bs else None), (max(bs) if bs else None)
    if kind == "boolean":
        bs = [v == "1" for v in present]
        return nulls, (min(bs) if bs else None), (max(bs) if bs else None)
    ints = [int(v) for v in present]
    return nulls, (min(ints) if ints else None), (max(ints) if ints else None)

# pyarrow: values, Arrow types, footer, statistics of every chunk
arrow_types = {"timestamp": pa.timestamp("us", tz="UTC"), "int64": pa.int64(), "double": pa.float64(),
               "boolean": pa.bool_(), "string": pa.string()}
table = pq.read_table(path)
check(table.num_rows == len(rows), f"pyarrow: {table.num_rows} rows for {len(rows)}")
for name, kind, optional in cols:
    field = table.schema.field(name)
    check(field.type == arrow_types[kind], f"pyarrow: column {name} is {field.type}, not {arrow_types[kind]}")
    check(field.nullable == optional, f"pyarrow: column {name} nullable={field.nullable}")
    column = table.column(name)
    if kind == "timestamp": column = column.cast(pa.int64())
    compare("pyarrow", name, kind, column.to_pylist())
md = pq.read_metadata(path)
check(md.num_row_groups == groups, f"pyarrow: {md.num_row_groups} row groups for {groups}")
check(md.created_by.startswith("arc version "), f"pyarrow: created_by {md.created_by!r}")
got_kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}
check(got_kv == kv, f"pyarrow: key-value metadata {got_kv} for {kv}")
check(md.num_rows == len(rows), f"pyarrow: metadata says {md.num_rows} rows")
for i, (name, kind, optional) in enumerate(cols):
    leaf = md.schema.column(i)
    if kind == "timestamp":
        check(leaf.converted_type == "TIMESTAMP_MICROS", f"pyarrow: {name} converted type {leaf.converted_type}")
        check("isAdjustedToUTC=true" in str(leaf.logical_type) and "microseconds" in str(leaf.logical_type),
              f"pyarrow: {name} logical type {leaf.logical_type}")
    if kind == "string":
        check(leaf.converted_type == "UTF8" and str(leaf.logical_type) == "String", f"pyarrow: {name} {leaf.logical_type}")
start = 0
for g in range(md.num_row_groups):
    group = md.row_group(g)
    for i, (name, kind, optional) in enumerate(cols):
        chunk = group.column(i)
        check(chunk.compression == codec, f"pyarrow: group {g} {name} codec {chunk.compression}")
        check(chunk.num_values == group.num_rows, f"pyarrow: group {g} {name} num_values {chunk.num_values}")
        for c, e in encodings:
            if c == name: check(e in chunk.encodings, f"pyarrow: group {g} {name} encodings {chunk.encodings} lack {e}")
        nulls, lo, hi = expected_stats(kind, [r[i] for r in rows[start:start + group.num_rows]])
        s = chunk.statistics
        check(s is not None and s.has_null_count and s.null_count == nulls, f"pyarrow: group {g} {name} null count {s}")
        if s is None: continue
        if lo is None:
            check(not s.has_min_max, f"pyarrow: group {g} {name}: min/max without values")
            continue
        check(s.has_min_max, f"pyarrow: group {g} {name}: no min/max")
        if not s.has_min_max: continue
        rlo, rhi = s.min_raw, s.max_raw
        if kind == "string":
            rlo = rlo if isinstance(rlo, bytes) else rlo.encode()
            rhi = rhi if isinstance(rhi, bytes) else rhi.encode()
        check((rlo, rhi) == (lo, hi), f"pyarrow: group {g} {name}: min/max {rlo!r}, {rhi!r} for {lo!r}, {hi!r}")
    start += group.num_rows

# DuckDB: values, schema, metadata
con = duckdb.connect()
select = ", ".join(f'epoch_us("{n}")' if k == "timestamp" else f'"{n}"' for n, k, _ in cols)
result = con.execute(f"select {select} from read_parquet(?)", [path]).fetchall()
for i, (name, kind, optional) in enumerate(cols):
    compare("duckdb", name, kind, [r[i] for r in result])
duck_types = {"timestamp": "TIMESTAMP WITH TIME ZONE", "int64": "BIGINT", "double": "DOUBLE",
              "boolean": "BOOLEAN", "string": "VARCHAR"}
described = {r[0]: r[1] for r in con.execute("describe select * from read_parquet(?)", [path]).fetchall()}
for name, kind, _ in cols:
    check(described.get(name) == duck_types[kind], f"duckdb: {name} is {described.get(name)}")
schema_rows = con.execute("select name, type, converted_type, repetition_type from parquet_schema(?)", [path]).fetchall()
physical = {"timestamp": "INT64", "int64": "INT64", "double": "DOUBLE", "boolean": "BOOLEAN", "string": "BYTE_ARRAY"}
converted = {"timestamp": "TIMESTAMP_MICROS", "string": "UTF8"}
by_name = {r[0]: r for r in schema_rows}
for name, kind, optional in cols:
    r = by_name.get(name)
    check(r is not None and r[1] == physical[kind] and r[2] == converted.get(kind)
          and r[3] == ("OPTIONAL" if optional else "REQUIRED"), f"duckdb: parquet_schema {r}")
meta = con.execute("select row_group_id, path_in_schema, compression, stats_null_count, stats_min_value is not null, "
                   "num_values, encoding_stats from parquet_metadata(?) order by row_group_id, column_id", [path]).fetchall()
check(len(meta) == groups * len(cols), f"duckdb: {len(meta)} column chunks in parquet_metadata")
names = [c[0] for c in cols]
for row_group_id, column, compression, nulls, has_min, num_values, stats in meta:
    check(compression == codec, f"duckdb: {column} compression {compression}")
    check(nulls is not None, f"duckdb: group {row_group_id} {column}: no null count")
    data_pages = {s["encoding"] for s in stats if s["page_type"] == "DATA_PAGE"}
    for c, e in encodings:
        if c == column: check(e in data_pages, f"duckdb: group {row_group_id} {column}: no {e} data page in {stats}")

# polars: values and dtypes
polars_types = {"timestamp": pl.Datetime("us", "UTC"), "int64": pl.Int64, "double": pl.Float64,
                "boolean": pl.Boolean, "string": pl.String}
frame = pl.read_parquet(path)
for name, kind, _ in cols:
    check(frame.schema[name] == polars_types[kind], f"polars: {name} is {frame.schema[name]}")
    series = frame[name].cast(pl.Int64) if kind == "timestamp" else frame[name]
    compare("polars", name, kind, series.to_list())

print("\n".join(failures) if failures else "ok")
sys.exit(1 if failures else 0)
"""#
}
