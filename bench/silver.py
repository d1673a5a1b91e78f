"""Rows `silver-convert` and `silver-check`: one spot aggTrades day of 2,000,000 rows in
microseconds (about 170 MB of CSV in a zip of about 40 MB, generated once into bench/out).

silver-convert: `arc-convert --dest DIR ZIP` against polars (zipfile, read_csv with an
explicit schema, the time cast to Datetime('us', 'UTC'), write_parquet zstd) and DuckDB
(the CSV extracted to disk, then COPY (SELECT ... FROM read_csv(...)) TO ... (FORMAT
parquet, COMPRESSION zstd)), as SILVER.md measured them: wall, peak RSS, output size.
silver-check: `arc-check ZIP` against `unzip -p ZIP | wc -l`.
Every run goes through GNU time (peak RSS, CPU); tools alternate, medians are reported.
Until arc-convert or arc-check is built (and works on the file), the row says so in the
notes with the anchors' figures, and is skipped.
"""
import hashlib
import json
import random
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from .common import BIN, BUCKET, NOTES, OUT, VENV, arc_env, new_dir, tool

ROWS = 2_000_000
DAY = "2025-01-01"
KEY = f"data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-{DAY}.zip"
DAY_START_US = 1_735_689_600_000_000

POLARS = r'''
import sys, zipfile
import polars as pl
with zipfile.ZipFile(sys.argv[1]) as z:
    data = z.read(z.namelist()[0])
schema = {"agg_trade_id": pl.Int64, "price": pl.Float64, "quantity": pl.Float64, "first_trade_id": pl.Int64,
          "last_trade_id": pl.Int64, "transact_time": pl.Int64, "is_buyer_maker": pl.Boolean,
          "is_best_match": pl.Boolean}
df = pl.read_csv(data, has_header=False, schema=schema)
df = df.with_columns(pl.col("transact_time").cast(pl.Datetime("us", "UTC")))
df.write_parquet(sys.argv[2], compression="zstd")
'''

DUCKDB = r'''
import shutil, sys, zipfile
import duckdb
source, out, scratch = sys.argv[1:4]
with zipfile.ZipFile(source) as z, z.open(z.namelist()[0]) as member, open(scratch, "wb") as f:
    shutil.copyfileobj(member, f, 1 << 20)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute(f"""COPY (SELECT agg_trade_id, price, quantity, first_trade_id, last_trade_id,
                             make_timestamp(transact_time)::TIMESTAMPTZ AS transact_time, is_buyer_maker, is_best_match
                      FROM read_csv('{scratch}', header = false, columns = {{
                          'agg_trade_id': 'BIGINT', 'price': 'DOUBLE', 'quantity': 'DOUBLE',
                          'first_trade_id': 'BIGINT', 'last_trade_id': 'BIGINT', 'transact_time': 'BIGINT',
                          'is_buyer_maker': 'BOOLEAN', 'is_best_match': 'BOOLEAN'}}))
                TO '{out}' (FORMAT parquet, COMPRESSION zstd)""")
'''


def aggtrades_day():
    """The zip (and its CHECKSUM) under a Binance key, made once: realistic values, like
    3261437102,97550.01000000,0.00020000,4485012110,4485012110,1735689600032000,True,True."""
    path = OUT / "silver-day" / BUCKET / KEY
    if path.exists():
        return path
    print(f"bench: generating {ROWS:,} aggTrades rows into {path} ...", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20250101)
    agg_id, trade_id, price_cents, t_ms = 3_261_437_102, 4_485_012_110, 9_355_001, DAY_START_US // 1000
    step = 86_400_000 / ROWS
    partial = path.with_suffix(".partial")
    info = zipfile.ZipInfo(path.name[:-len(".zip")] + ".csv", date_time=(2025, 1, 2, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(partial, "w") as z, z.open(info, "w", force_zip64=True) as out:
        chunk = []
        for i in range(ROWS):
            price_cents = max(1, price_cents + int(rng.gauss(0, 120)))
            # Quantities in 0.00001 steps, heavy-tailed, like BTC's.
            qty = max(1, int(rng.paretovariate(1.2) * 8)) * 1000
            n = 0 if rng.random() < 0.6 else rng.randint(1, 6)
            t_ms = max(t_ms, DAY_START_US // 1000 + int(i * step + rng.uniform(0, step)))
            maker = "True" if rng.random() < 0.5 else "False"
            chunk.append(f"{agg_id + i},{price_cents // 100}.{price_cents % 100:02d}000000,{qty // 100_000_000}."
                         f"{qty % 100_000_000:08d},{trade_id},{trade_id + n},{t_ms * 1000},{maker},True\n")
            trade_id += n + 1
            if len(chunk) == 50_000:
                out.write("".join(chunk).encode())
                chunk = []
        out.write("".join(chunk).encode())
    partial.rename(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".CHECKSUM").write_text(f"{digest}  {path.name}")
    return path


def gnu_time(command, env=None):
    """Runs `command` (a list, or a shell line) under GNU time; returns (wall s, CPU s, peak
    RSS MB, stdout). Raises RuntimeError when it fails."""
    report = OUT / "silver-time.txt"
    shell = isinstance(command, str)
    argv = ["/usr/bin/time", "-o", str(report), "-f", "%U %S %M"] + (["bash", "-o", "pipefail", "-c", command]
                                                                      if shell else command)
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"failed ({proc.returncode}): {command}\n{proc.stderr[-2000:]}")
    user, system, rss = report.read_text().split()[-3:]
    return wall, float(user) + float(system), int(rss) / 1024, proc.stdout


def size_mb(directory):
    return sum(p.stat().st_size for p in Path(directory).rglob("*.parquet")) / 1e6


def fresh_state():
    """A state database no run used: arc-check and arc-convert skip archives they already
    know by SHA-256 (--force is passed too)."""
    return arc_env(new_dir("silver-state") / "state.db")


def first_record(out, name):
    for line in out.splitlines():
        if line.strip():
            return json.loads(line)
    raise RuntimeError(f"{name} printed no record")


def run_convert(zip_path):
    dest = new_dir("silver-arc")
    wall, cpu, rss, out = gnu_time([tool("arc-convert"), "--force", "--dest", str(dest), str(zip_path)],
                                   env=fresh_state())
    record = first_record(out, "arc-convert")
    return wall, cpu, rss, record["silver"]["bytes"] / 1e6, record


def run_check(zip_path):
    wall, cpu, rss, out = gnu_time([tool("arc-check"), "--force", str(zip_path)], env=fresh_state())
    return wall, cpu, rss, 0, first_record(out, "arc-check")


def run_polars(zip_path):
    dest = new_dir("silver-polars")
    wall, cpu, rss, _ = gnu_time([str(VENV / "python"), "-c", POLARS, str(zip_path), str(dest / "part.parquet")])
    return wall, cpu, rss, size_mb(dest)


def run_duckdb(zip_path):
    dest = new_dir("silver-duckdb")
    wall, cpu, rss, _ = gnu_time([str(VENV / "python"), "-c", DUCKDB, str(zip_path), str(dest / "part.parquet"),
                                  str(dest / "day.csv")])
    (dest / "day.csv").unlink()
    return wall, cpu, rss, size_mb(dest)


def usable(name, probe):
    """None when the tool runs on the file, else why not (for the notes)."""
    if not Path(tool(name)).exists():
        return f"{name} is not built at {BIN}"
    try:
        probe()
    except (RuntimeError, KeyError, TypeError, json.JSONDecodeError) as e:
        return f"{name} did not do its work on the file: {type(e).__name__} {str(e)[:300]}"
    return None


def medians(runs, rounds):
    """runs: name -> callable returning a tuple of figures; alternated, medians of each."""
    results = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            results[name].append(run())
    return {name: tuple(statistics.median(r[i] for r in rs) for i in range(4)) for name, rs in results.items()}


def check_counted(result):
    """The probe's check read every row, and the clean file passed."""
    *_, record = result
    check = record["check"]
    if check["rows"] != ROWS or check["status"] != "pass":
        raise RuntimeError(f"arc-check: rows {check['rows']}, status {check['status']} ({check.get('findings')})")


def describe(name, figures):
    wall, cpu, rss, size = figures
    return f"{name} {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MB peak RSS" + (f", {size:.1f} MB" if size else "")


def bench_silver(rows, table, rounds):
    zip_path = aggtrades_day()
    if "silver-convert" in rows:
        why = usable("arc-convert", lambda: check_output(run_convert(zip_path)))
        runs = {"polars": lambda: run_polars(zip_path), "duckdb": lambda: run_duckdb(zip_path)}
        if not why:
            runs = {"arc": lambda: run_convert(zip_path)[:4], **runs}
        print(f"bench: converting {ROWS:,} aggTrades rows to Parquet, {rounds} rounds", file=sys.stderr)
        m = medians(runs, rounds)
        work = f"{ROWS:,}-row spot aggTrades day -> Parquet zstd"
        if why:
            NOTES.append(f"silver-convert skipped: {why}. Anchors on {work}: {describe('polars', m['polars'])}; "
                         f"{describe('DuckDB', m['duckdb'])}.")
        else:
            arc, polars, duck = m["arc"], m["polars"], m["duckdb"]
            table.add(f"arc-convert, {work} (wall)", "polars", polars[0], arc[0], "s", "<= 0.5x polars")
            table.add(f"arc-convert, {work} (wall)", "DuckDB (extract + COPY)", duck[0], arc[0], "s", "-")
            table.add("arc-convert peak RSS", "polars", polars[2], arc[2], "MB", "< 64 MB")
            table.add("arc-convert output size", "polars", polars[3], arc[3], "MB", "-")
            NOTES.append(f"silver-convert CPU and size: {describe('arc-convert', arc)}; {describe('polars', polars)}; "
                         f"{describe('DuckDB', duck)}.")
    if "silver-check" in rows:
        unzip = f"unzip -p {zip_path} | wc -l"
        why = usable("arc-check", lambda: check_counted(run_check(zip_path)))
        runs = {"unzip": lambda: gnu_time(unzip)[:3] + (0,)}
        if not why:
            runs = {"arc": lambda: run_check(zip_path)[:4], **runs}
        print(f"bench: checking {ROWS:,} aggTrades rows, {rounds} rounds", file=sys.stderr)
        m = medians(runs, rounds)
        if why:
            NOTES.append(f"silver-check skipped: {why}. Anchor: {describe('unzip -p | wc -l', m['unzip'])}.")
        else:
            anchor = "unzip -p ZIP \\| wc -l"     # the bar escaped: the table is markdown
            table.add(f"arc-check, {ROWS:,}-row aggTrades day (wall)", anchor, m["unzip"][0], m["arc"][0], "s",
                      "<= 1.0x")
            table.add("arc-check peak RSS", anchor, m["unzip"][2], m["arc"][2], "MB", "< 64 MB")


def check_output(result):
    """The probe's conversion wrote the rows it says, at the path it says, with that hash."""
    *_, record = result
    silver = record["silver"]
    import pyarrow.parquet as pq
    dest = Path(silver["dest"])
    if pq.read_metadata(dest).num_rows != ROWS or silver["rows"] != ROWS:
        raise RuntimeError(f"{dest}: not {ROWS} rows ({silver})")
    if hashlib.sha256(dest.read_bytes()).hexdigest() != silver["sha256"]:
        raise RuntimeError(f"{dest}: sha256 differs from the record's")
