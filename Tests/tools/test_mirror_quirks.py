"""scripts/make-mirror.py's silver preset: every quirk the silver stage must find is in an
archive of its own, with a CHECKSUM that matches (the bronze stage collects it), and the
quirk is really there as Python's zipfile and csv read it; and the readers the silver
tests and benchmarks hold arc-convert to (silver_readers.py)."""
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import MAKE_MIRROR, ROOT, make_mirror
from silver_readers import (assert_same, dataset_of, read_parquet_duckdb, read_parquet_polars, read_parquet_pyarrow,
                            read_zip, reference_findings, time_column, write_reference_parquet)

BUCKET = "data.binance.vision"
CODES = {"not_zip", "truncated", "corrupt_stream", "crc_mismatch", "several_entries", "empty_entry", "unknown_layout",
         "bad_field", "non_positive_price", "outside_period", "out_of_order", "duplicate_rows", "duplicate_keys",
         "missing_intervals", "off_grid", "cut_short", "id_gaps"}


def load_generator():
    spec = importlib.util.spec_from_file_location("make_mirror", MAKE_MIRROR)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_mirror"] = module   # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


MANIFEST = load_generator().silver_manifest()
CLEAN = sorted(k for k, v in MANIFEST.items() if v["finding"] is None)


@pytest.fixture(scope="module")
def silver(tmp_path_factory):
    root = tmp_path_factory.mktemp("silver")
    make_mirror(root, "--preset", "silver")
    return root


def path_of(root, key):
    return root / BUCKET / key


def test_every_finding_code_has_an_archive_and_the_file_matches_the_function(silver):
    manifest = json.loads((silver / "silver-quirks.json").read_text())
    assert manifest == MANIFEST
    assert {v["finding"] for v in manifest.values()} - {None} == CODES
    assert all(set(v["also"]) <= CODES for v in manifest.values())
    # Every zip in the tree is in the manifest and the other way round.
    zips = {str(p.relative_to(silver / BUCKET)) for p in (silver / BUCKET).rglob("*.zip")}
    assert zips == set(manifest)


@pytest.mark.parametrize("key", sorted(MANIFEST))
def test_archive_has_a_matching_checksum_and_its_quirk(silver, key):
    expected = MANIFEST[key]
    path = path_of(silver, key)
    checksum = path.with_name(path.name + ".CHECKSUM").read_text()
    assert checksum == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}"
    found = reference_findings(path)
    if expected["finding"] is None:
        assert found == set(), (key, found)
    else:
        assert expected["finding"] in found, (key, found)
        assert found <= {expected["finding"], *expected["also"]}, (key, found)


@pytest.mark.parametrize("key", sorted(k for k, v in MANIFEST.items() if v["rows"] is not None))
def test_header_time_unit_booleans_and_rows_are_as_the_manifest_says(silver, key):
    expected = MANIFEST[key]
    with zipfile.ZipFile(path_of(silver, key)) as z:
        [name] = z.namelist()
        assert name == key.rsplit("/", 1)[1][:-len(".zip")] + ".csv"
        lines = z.read(name).decode().splitlines()
    header = not lines[0][:1].isdigit()
    assert header == expected["header"]
    data = lines[1:] if header else lines
    assert len(data) == expected["rows"]
    first = data[0].split(",")
    if expected["time_unit"] in ("ms", "us"):
        time = first[{"trades": 4, "aggTrades": 5, "bookTicker": 5}.get(expected["csv_type"], 0)]
        assert len(time) == (16 if expected["time_unit"] == "us" else 13), time
    if expected["type"] in ("trades", "aggTrades") and expected["quirk"] == "clean":
        spot = expected["market"] == "spot"
        booleans = {f for line in data for f in line.split(",")[-2 if spot else -1:]}
        assert booleans == ({"True", "False"} if spot else {"true", "false"}) or booleans <= {"True", "False"} and spot


def test_the_header_rule_and_the_time_units_are_all_there():
    clean = [MANIFEST[k] for k in CLEAN]
    um_klines = {v["header"] for v in clean if v["market"] == "futures/um" and v["type"] == "klines"}
    um_trades = {v["header"] for v in clean if v["market"] == "futures/um" and v["type"] == "trades"}
    assert um_klines == um_trades == {True, False}
    assert not any(v["header"] for v in clean if v["market"] == "spot")
    for kind in ("klines", "trades", "aggTrades"):
        assert {v["time_unit"] for v in clean if v["market"] == "spot" and v["type"] == kind} == {"ms", "us"}
    assert {v["type"] for v in clean} >= {"metrics", "bookDepth", "fundingRate", "EOHSummary", "BVOLIndex",
                                         "bookTicker", "liquidationSnapshot", "markPriceKlines"}


def test_eoh_summary_has_empty_fields(silver):
    [key] = [k for k in CLEAN if MANIFEST[k]["type"] == "EOHSummary"]
    table = read_zip(path_of(silver, key))
    names = [n for n, _, _ in table.columns]
    assert any(row[names.index("open")] is None for row in table.rows)
    assert any(row[names.index("open")] is not None for row in table.rows)
    assert all(row[names.index("symbol")] for row in table.rows)


def test_same_arguments_same_bytes(silver, tmp_path):
    again = tmp_path / "again"
    make_mirror(again, "--preset", "silver")
    for path in sorted(silver.rglob("*")):
        if path.is_file():
            twin = again / path.relative_to(silver)
            assert twin.read_bytes() == path.read_bytes(), path
            assert os.stat(twin).st_mtime == os.stat(path).st_mtime, path


def test_other_presets_have_no_manifest(tmp_path):
    make_mirror(tmp_path, "--preset", "test")
    assert not (tmp_path / "silver-quirks.json").exists()
    assert len(list((tmp_path / BUCKET).rglob("*.zip"))) == 616


@pytest.mark.parametrize("key", CLEAN)
def test_reader_types_every_clean_archive(silver, key):
    expected = MANIFEST[key]
    table = read_zip(path_of(silver, key))
    assert len(table.rows) == expected["rows"] and table.header == expected["header"]
    assert "ignore" not in [n for n, _, _ in table.columns]
    start, end = dataset_of(path_of(silver, key)).period_us
    for (name, kind, optional), values in zip(table.columns, zip(*table.rows)):
        python = {"timestamp": int, "int64": int, "double": float, "boolean": bool, "string": str}[kind]
        assert all(type(v) is python or (optional and v is None) for v in values), (name, kind)
    times = [r[[n for n, _, _ in table.columns].index(time_column(expected["type"]))] for r in table.rows]
    assert start <= min(times) and max(times) < end
    if expected["time_unit"] == "us" and expected["type"] != "klines":
        assert any(t % 1000 for t in times)      # real microseconds, nothing rounded to ms


@pytest.mark.parametrize("key", CLEAN)
def test_assert_same_accepts_a_faithful_parquet(silver, tmp_path, key):
    zip_path = path_of(silver, key)
    parquet = write_reference_parquet(read_zip(zip_path), tmp_path / "part.parquet")
    assert_same(parquet, zip_path)


def test_assert_same_refuses_milliseconds_a_changed_double_and_a_lost_row(silver, tmp_path):
    [key] = [k for k in CLEAN if MANIFEST[k]["market"] == "spot" and MANIFEST[k]["type"] == "aggTrades"
             and MANIFEST[k]["time_unit"] == "us"]
    zip_path = path_of(silver, key)
    good = read_zip(zip_path)
    names = [n for n, _, _ in good.columns]
    t, p = names.index("transact_time"), names.index("price")

    def broken(rows, name):
        table = read_zip(zip_path)
        table.rows = rows
        return write_reference_parquet(table, tmp_path / name)

    as_ms = [r[:t] + (r[t] // 1000 * 1000,) + r[t + 1:] for r in good.rows]
    nudged = [r[:p] + (r[p] + r[p] * 2 ** -52,) + r[p + 1:] if i == 7 else r for i, r in enumerate(good.rows)]
    for rows, name, message in ((as_ms, "ms.parquet", "transact_time"), (nudged, "double.parquet", "price"),
                                (good.rows[:-1], "short.parquet", "rows")):
        with pytest.raises(AssertionError, match=message):
            assert_same(broken(rows, name), zip_path)


def test_readers_read_a_hive_lake_the_same_way(silver, tmp_path):
    lake = tmp_path / "lake"
    keys = [k for k in CLEAN if MANIFEST[k]["type"] == "aggTrades"]
    expected = []
    for key in keys:
        v = MANIFEST[key]
        table = read_zip(path_of(silver, key))
        folder = lake / v["market"] / "aggTrades" / f"symbol={v['symbol']}" / f"date={v['date']}"
        folder.mkdir(parents=True)
        # Only the columns every market has, so the files share a schema.
        table.columns, table.rows = table.columns[:7], [r[:7] for r in table.rows]
        write_reference_parquet(table, folder / "part.parquet")
        expected += [(*r, v["symbol"]) for r in table.rows]
    glob = str(lake / "**" / "*.parquet")
    _, arrow_rows = read_parquet_pyarrow(lake, columns=["agg_trade_id", "price", "transact_time", "symbol"])
    _, duck_rows = read_parquet_duckdb(glob, columns=["agg_trade_id", "price", "transact_time", "symbol"])
    _, polars_rows = read_parquet_polars(glob, columns=["agg_trade_id", "price", "transact_time", "symbol"])
    want = sorted((r[0], r[1], r[5], r[7]) for r in expected)
    assert sorted(arrow_rows) == sorted(duck_rows) == sorted(polars_rows) == want


def test_silver_query_example_computes_daily_vwap(silver, tmp_path):
    lake = tmp_path / "silver"
    sums = {}
    for key in (k for k in CLEAN if MANIFEST[k]["type"] == "aggTrades"):
        v = MANIFEST[key]
        table = read_zip(path_of(silver, key))
        market = v["market"].split("/")
        folder = lake.joinpath(*market, "aggTrades", f"symbol={v['symbol']}", f"date={v['date']}")
        folder.mkdir(parents=True)
        write_reference_parquet(table, folder / "part.parquet")
        s = sums.setdefault((v["symbol"], v["date"]), [0, 0.0, 0.0])
        for r in table.rows:
            s[0] += 1
            s[1] += r[2]
            s[2] += r[1] * r[2]
    # A klines folder beside them (an interval= partition) must not get in the way.
    klines = [k for k in CLEAN if MANIFEST[k]["type"] == "klines" and MANIFEST[k]["market"] == "spot"][0]
    folder = lake / "spot" / "klines" / "symbol=BTCUSDT" / "interval=1h" / "date=2024-12-31"
    folder.mkdir(parents=True)
    write_reference_parquet(read_zip(path_of(silver, klines)), folder / "part.parquet")

    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run([str(ROOT / "examples" / "silver-query.sh"), str(lake)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "symbol,day,trades,volume,vwap,low,high"
    got = {}
    for line in lines[1:]:
        symbol, day, trades, volume, vwap, *_ = line.split(",")
        got[(symbol, day)] = (int(trades), float(vwap))
    assert set(got) == set(sums)
    for k, (n, volume, notional) in sums.items():
        assert got[k][0] == n and got[k][1] == pytest.approx(notional / volume, rel=1e-12)

    (tmp_path / "empty").mkdir()
    empty = subprocess.run([str(ROOT / "examples" / "silver-query.sh"), str(tmp_path / "empty")], capture_output=True,
                           text=True, env=env)
    assert empty.returncode == 1 and "no aggTrades folder" in empty.stderr


def test_the_bronze_stage_collects_every_quirk_archive(tmp_path):
    """The CHECKSUMs match, so arc-collect verifies and keeps every archive: finding the
    problems inside is the silver stage's work."""
    from conftest import Mirror, pipeline
    m = Mirror(tmp_path / "mirror")
    make_mirror(m.root, "--preset", "silver")
    m.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_")) and k != "TRACEPARENT"}
        env.update(ARC_STATE=str(tmp_path / "state.db"), ARC_BINANCE_LIST_URL=m.url,
                   ARC_BINANCE_DOWNLOAD_URL=m.url, ARC_LOG_FORMAT="json")
        results = []
        for market in ("spot", "um", "cm", "option"):
            _, _, c = pipeline(env, tmp_path / "bronze", ["--market", market])
            assert c.status == 0, c
            results += c.records
    finally:
        m.stop()
    assert sorted(r["key"] for r in results) == sorted(MANIFEST)
    assert all(r["status"] == "ok" and r["verified"] for r in results)
