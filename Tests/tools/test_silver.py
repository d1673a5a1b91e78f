"""arc-check and arc-convert: the quirk archives of the `silver` mirror preset found one by
one, silver files read back by pyarrow, DuckDB and polars and compared value by value with
the CSV parsed independently (silver_readers), the ledgers, the gate, S3 both ways, and
bad input."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import BUCKET, free_port, make_mirror, records, run, tool, wait_for
import silver_readers as sr

FAIL_CODES = {"not_zip", "truncated", "corrupt_stream", "crc_mismatch", "several_entries", "empty_entry",
              "unknown_layout", "bad_field", "non_positive_price", "outside_period", "sha256_mismatch"}
WARN_CODES = {"duplicate_rows", "duplicate_keys", "out_of_order", "missing_intervals", "off_grid", "cut_short",
              "id_gaps"}


@pytest.fixture(scope="module")
def silver_mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("silver-mirror")
    make_mirror(root, "--preset", "silver")
    manifest = json.loads((root / "silver-quirks.json").read_text())
    return root / BUCKET, manifest


@pytest.fixture
def senv(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_", "AWS_"))}
    e.update(ARC_STATE=str(tmp_path / "state" / "state.db"), ARC_LOG_FORMAT="json")
    return e


def zips(silver_mirror, which):
    base, manifest = silver_mirror
    return [(str(base / key), meta) for key, meta in sorted(manifest.items()) if which(meta)]


def by_key(recs):
    return {r["key"]: r for r in recs}


def test_check_finds_every_quirk_and_passes_the_clean(silver_mirror, senv):
    base, manifest = silver_mirror
    paths = [str(base / key) for key in sorted(manifest)]
    r = run("arc-check", "-j", "2", *paths, env=senv)
    assert r.status == 1, r
    got = by_key(r.records)
    assert set(got) == set(manifest), r
    for key, meta in manifest.items():
        check = got[key]["check"]
        codes = {f["code"] for f in check["findings"]}
        expected = meta["finding"]
        if expected is None:
            assert check["status"] == "pass" and not codes, (key, check)
            assert check["rows"] == meta["rows"], (key, check)
            assert check["header"] == meta["header"], (key, check)
            if meta["time_unit"] in ("ms", "us"):
                assert check["time_unit"] == meta["time_unit"], (key, check)
            continue
        assert expected in codes, (key, check)
        assert codes <= {expected, *meta["also"]}, (key, check)
        status = "fail" if codes & FAIL_CODES else "warn"
        assert check["status"] == status, (key, check)
        for f in check["findings"]:
            assert f["severity"] in ("fail", "warn") and f["message"], f
    # Every record names where it came from and the archive's own hash.
    for rec in r.records:
        assert rec["dest"].endswith(rec["key"]) and len(rec["sha256"]) == 64


def test_check_rows_times_and_unit_match_the_csv(silver_mirror, senv):
    for path, meta in zips(silver_mirror, lambda m: m["finding"] is None and m["time_unit"] in ("ms", "us")):
        table = sr.read_zip(path)
        r = run("arc-check", path, env=senv)
        assert r.status == 0, r
        check = r.records[0]["check"]
        assert check["rows"] == len(table.rows), (path, check)
        t = sr.time_column(meta["csv_type"])
        idx = [c[0] for c in table.columns].index(t)
        first = min(row[idx] for row in table.rows)
        last = max(row[idx] for row in table.rows)
        assert check["first_time"] == rfc3339_us(first) and check["last_time"] == rfc3339_us(last), (path, check)


def rfc3339_us(micros):
    import datetime as dt
    d = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_findings_carry_lines_and_ranges(silver_mirror, senv):
    base, manifest = silver_mirror
    bad = next(k for k, m in manifest.items() if m["finding"] == "bad_field")
    r = run("arc-check", str(base / bad), env=senv)
    f = next(f for f in r.records[0]["check"]["findings"] if f["code"] == "bad_field")
    assert f["lines"] and all(isinstance(n, int) and n > 0 for n in f["lines"]), f
    missing = next(k for k, m in manifest.items() if m["finding"] == "missing_intervals" and m["period"] == "daily")
    r = run("arc-check", str(base / missing), env=senv)
    f = next(f for f in r.records[0]["check"]["findings"] if f["code"] == "missing_intervals")
    assert f["ranges"] and f["count"] >= 1, f


def test_fail_on_warn(silver_mirror, senv):
    path, _ = zips(silver_mirror, lambda m: m["finding"] == "out_of_order")[0]
    assert run("arc-check", path, env=senv).status == 0
    assert run("arc-check", "--fail-on", "warn", path, env=senv).status == 1


def test_a_checked_archive_is_not_read_again(silver_mirror, senv, tmp_path):
    path, _ = zips(silver_mirror, lambda m: m["finding"] is None and m["type"] == "aggTrades")[0]
    first = run("arc-check", path, env=senv)
    assert first.status == 0, first
    rec = first.records[0]
    copy = tmp_path / "gone" / rec["key"]
    copy.parent.mkdir(parents=True)
    copy.write_bytes(open(path, "rb").read())
    # A result record with the verified hash, whose file has since disappeared: the ledger
    # answers, nothing is read.
    task = {"key": rec["key"], "dest": str(copy), "status": "ok", "sha256": rec["sha256"], "tag": "kept"}
    copy.unlink()
    again = run("arc-check", input=[task], env=senv)
    assert again.status == 0, again
    assert again.records[0]["check"] == rec["check"] and again.records[0]["tag"] == "kept"
    forced = run("arc-check", "--force", input=[task], env=senv)
    # Forced, the archive is read: it is gone, and nothing else could be read (exit 3).
    assert forced.status == 3 and forced.records[0]["error"]["code"] == "not_found", forced
    db = sqlite3.connect(senv["ARC_STATE"])
    assert db.execute("SELECT status, rows FROM quality WHERE archive_sha256 = ?", (rec["sha256"],)).fetchone() \
        == ("pass", rec["check"]["rows"])


def test_convert_every_clean_archive_matches_three_readers(silver_mirror, senv, tmp_path):
    clean = zips(silver_mirror, lambda m: m["finding"] is None)
    lake = tmp_path / "lake"
    r = run("arc-convert", "--dest", str(lake), *[p for p, _ in clean], env=senv)
    assert r.status == 0, r
    got = by_key(r.records)
    assert len(got) == len(clean)
    for path, meta in clean:
        key = path.split(BUCKET + "/", 1)[1]
        rec = got[key]
        silver = rec["silver"]
        assert silver["rows"] == meta["rows"], rec
        assert silver["dest"].startswith(str(lake)) and silver["dest"].endswith(".parquet")
        assert os.path.getsize(silver["dest"]) == silver["bytes"]
        import hashlib
        assert hashlib.sha256(open(silver["dest"], "rb").read()).hexdigest() == silver["sha256"]
        sr.assert_same(silver["dest"], path)
    # Nothing but complete files under the lake.
    leftovers = [p for p in lake.rglob("*") if p.is_file() and not p.name.endswith(".parquet")]
    assert not leftovers, leftovers


def test_silver_file_metadata_and_hive_layout(silver_mirror, senv, tmp_path):
    import duckdb
    import pyarrow.parquet as pq
    paths = [p for p, m in zips(silver_mirror, lambda m: m["finding"] is None and m["market"] == "spot"
                                and m["type"] == "aggTrades")]
    lake = tmp_path / "lake"
    r = run("arc-convert", "--dest", str(lake), *paths, env=senv)
    assert r.status == 0, r
    for rec in r.records:
        dest = rec["silver"]["dest"]
        rel = os.path.relpath(dest, lake)
        assert rel == f"spot/daily/aggTrades/symbol={rec['symbol']}/date={rec['date']}/" \
                      f"{rec['symbol']}-aggTrades-{rec['date']}.parquet", rel
        meta = pq.read_metadata(dest)
        kv = {k.decode(): v.decode() for k, v in meta.metadata.items()}
        assert kv["arc.source_key"] == rec["key"] and kv["arc.archive_sha256"] == rec["sha256"]
        assert kv["arc.check_status"] == "pass" and kv["arc.version"]
        assert meta.created_by.startswith("arc")
        schema = pq.read_schema(dest)
        assert str(schema.field("transact_time").type) == "timestamp[us, tz=UTC]"
    # One glob reads the partitioned dataset, symbol and date as columns.
    glob = str(lake / "spot/daily/aggTrades/**/*.parquet")
    total, symbols = duckdb.sql(f"SELECT count(*), count(DISTINCT symbol) FROM read_parquet('{glob}', hive_partitioning = true)").fetchall()[0]
    assert total == sum(rec["silver"]["rows"] for rec in r.records) and symbols == 1
    # Microseconds kept from a 2025 spot file; milliseconds turned into microseconds from 2024.
    us = next(rec for rec in r.records if rec["date"] == "2025-01-01")
    table = sr.read_zip(next(p for p in paths if "2025-01-01" in p))
    times = duckdb.sql(f"SELECT epoch_us(transact_time) FROM read_parquet('{us['silver']['dest']}')").fetchall()
    assert [t[0] for t in times] == [row[5] for row in table.rows]
    assert any(t[0] % 1000 != 0 for t in times)


def test_gate_keeps_failed_archives_out_unless_told(silver_mirror, senv, tmp_path):
    failing, _ = zips(silver_mirror, lambda m: m["finding"] == "non_positive_price" and m["market"] == "spot")[0]
    warning, _ = zips(silver_mirror, lambda m: m["finding"] == "out_of_order")[0]
    lake = tmp_path / "lake"
    r = run("arc-convert", "--dest", str(lake), failing, warning, env=senv)
    assert r.status == 1, r
    got = {rec["dest"]: rec for rec in r.records}
    assert "silver" not in got[failing] and got[failing]["silver_error"]["code"] == "check_failed"
    assert got[warning]["silver"]["gate"] == "fail" and os.path.exists(got[warning]["silver"]["dest"])
    # Nothing of the failed archive, not even the folders its file would have gone in.
    assert not [p for p in lake.rglob("*") if f"date={got[failing]['date']}" in str(p)], list(lake.rglob("*"))
    strict = run("arc-convert", "--dest", str(tmp_path / "strict"), "--gate", "warn", "--force", warning, env=senv)
    assert strict.status == 1 and strict.records[0]["silver_error"]["code"] == "check_warned", strict
    anyway = run("arc-convert", "--dest", str(tmp_path / "anyway"), "--gate", "none", "--force", failing, env=senv)
    assert anyway.records[0]["silver"]["gate"] == "none" and anyway.records[0]["check"]["status"] == "fail", anyway
    assert os.path.exists(anyway.records[0]["silver"]["dest"])


def test_rerun_converts_only_new_or_republished(silver_mirror, senv, tmp_path):
    path, _ = zips(silver_mirror, lambda m: m["finding"] is None and m["type"] == "trades" and m["market"] == "spot")[0]
    work = tmp_path / "bronze" / os.path.relpath(path, silver_mirror[0])
    work.parent.mkdir(parents=True)
    work.write_bytes(open(path, "rb").read())
    lake = tmp_path / "lake"
    first = run("arc-convert", "--dest", str(lake), str(work), env=senv)
    assert first.status == 0, first
    dest = first.records[0]["silver"]["dest"]
    mtime = os.stat(dest).st_mtime_ns
    again = run("arc-convert", "--dest", str(lake), str(work), env=senv)
    assert again.status == 0 and again.records[0]["silver"]["reused"] is True, again
    assert os.stat(dest).st_mtime_ns == mtime
    # Republished: other bytes under the same name replace the silver file.
    other, _ = zips(silver_mirror, lambda m: m["finding"] is None and m["type"] == "trades" and m["market"] == "spot"
                    and m["date"] != first.records[0]["date"])[0]
    import zipfile
    with zipfile.ZipFile(other) as z:
        text = z.read(z.namelist()[0])
    with zipfile.ZipFile(work, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(os.path.basename(str(work))[:-4] + ".csv", text)
    third = run("arc-convert", "--dest", str(lake), "--gate", "none", str(work), env=senv)
    assert "reused" not in third.records[0]["silver"], third
    assert third.records[0]["silver"]["sha256"] != first.records[0]["silver"]["sha256"]
    db = sqlite3.connect(senv["ARC_STATE"])
    assert db.execute("SELECT count(*) FROM silver").fetchone() == (1,)


def test_bad_input(silver_mirror, senv, tmp_path):
    r = run("arc-convert", "whatever.zip", env=senv)
    assert r.status == 2 and "--dest" in r.stderr, r
    r = run("arc-check", str(tmp_path / "missing.zip"), env=senv)
    assert r.status == 3 and "missing.zip" in r.stderr, r
    good, _ = zips(silver_mirror, lambda m: m["finding"] is None and m["type"] == "aggTrades")[0]
    key = good.split(BUCKET + "/", 1)[1]
    text = 'not json\n{"dest": 5}\n' + json.dumps({"dest": good, "key": key, "status": "ok"}) + "\n"
    r = run("arc-check", input=text, env=senv)
    assert r.status == 1 and len(r.records) == 1 and r.records[0]["check"]["status"] == "pass", r
    assert "stdin:1" in r.stderr and "stdin:2" in r.stderr, r.stderr
    # A failed download is passed on untouched.
    failed = {"dest": good, "key": key, "status": "failed", "error": {"code": "timeout", "message": "x"}}
    r = run("arc-check", input=[failed], env=senv)
    assert r.status == 0 and r.records == [failed], r
    # Empty input: nothing to do.
    r = run("arc-convert", "--dest", str(tmp_path / "lake"), input="", env=senv)
    assert r.status == 0 and r.stdout == "", r
    # A path that does not follow the key layout.
    odd = tmp_path / "odd.zip"
    odd.write_bytes(open(good, "rb").read())
    r = run("arc-check", str(odd), env=senv)
    assert r.status == 1 and r.records[0]["check"]["status"] == "fail", r


def test_full_disk_leaves_nothing_half_written(silver_mirror, senv, tmp_path):
    import resource
    path, _ = zips(silver_mirror, lambda m: m["finding"] is None and m["type"] == "aggTrades")[0]
    lake = tmp_path / "lake"

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
    # The state in memory: the limit is for the silver file alone.
    proc = subprocess.run([tool("arc-convert"), "--dest", str(lake), path], env=dict(senv, ARC_STATE=":memory:"), capture_output=True,
                          text=True, preexec_fn=small_files, timeout=60)
    assert proc.returncode == 1, proc
    rec = records(proc.stdout)[0]
    assert rec["error"]["code"] in ("disk_full", "io_error", "file_too_large"), rec
    assert not list(lake.rglob("*")), list(lake.rglob("*"))


def test_sigint_mid_run_stops_cleanly(senv, tmp_path):
    import zipfile
    # One big aggTrades day, made here, so the stop lands mid-archive.
    key = "data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-01.zip"
    path = tmp_path / "bronze" / key
    path.parent.mkdir(parents=True)
    t0 = 1735689600000000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("BTCUSDT-aggTrades-2025-01-01.csv", "w") as f:
            for chunk in range(30):
                lines = [f"{i},97550.01,0.0002,{i},{i},{t0 + i * 20},True,True\n"
                         for i in range(chunk * 100_000, (chunk + 1) * 100_000)]
                f.write("".join(lines).encode())
    lake = tmp_path / "lake"
    proc = subprocess.Popen([tool("arc-convert"), "--dest", str(lake), str(path)], env=senv,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: any(lake.rglob("*.tmp-*")) or proc.poll() is not None, "a silver file being written")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert not list(lake.rglob("*")), list(lake.rglob("*"))


def test_s3_both_ways(silver_mirror, senv, s3env, bucket, seaweed, tmp_path):
    """Bronze zips in S3 (SeaweedFS) read as streams, silver written as multipart uploads,
    read back and compared; a store that is down is exit 3."""
    import hashlib
    e = dict(senv)
    e.update({k: v for k, v in s3env.items() if k.startswith("AWS_") or k == "HOME"})
    s3 = seaweed.client()
    base = silver_mirror[0]
    clean = zips(silver_mirror, lambda m: m["finding"] is None and m["market"] == "spot")
    for path, _ in clean:
        s3.put(bucket, "bronze/" + os.path.relpath(path, base), open(path, "rb").read())
    urls = [f"s3://{bucket}/bronze/" + os.path.relpath(p, base) for p, _ in clean]
    r = run("arc-convert", "--dest", f"s3://{bucket}/silver", *urls, env=e)
    assert r.status == 0, r
    assert len(r.records) == len(clean)
    for rec in r.records:
        dest = rec["silver"]["dest"]
        assert dest.startswith(f"s3://{bucket}/silver/spot/"), dest
        body = s3.get(bucket, dest[len(f"s3://{bucket}/"):])
        assert hashlib.sha256(body).hexdigest() == rec["silver"]["sha256"]
        local = tmp_path / "got.parquet"
        local.write_bytes(body)
        sr.assert_same(str(local), os.path.join(base, rec["key"]))
    dead = dict(e, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    r = run("arc-check", "--force", urls[0], env=dead)
    assert r.status == 3 and r.records[0]["error"]["code"] in ("connection_failed", "unavailable"), r


def test_merge_month_takes_the_ledgers_days_too(senv, tmp_path):
    """--merge month: one day in the input, the other days of its month from the collect
    ledger; one file, days in order, each sorted by time, exact duplicates dropped; the
    same input again reuses it; --gate warn leaves the warning days out."""
    import pyarrow.parquet as pq
    from conftest import Mirror
    m = Mirror(tmp_path / "mirror")
    make_mirror(m.root, "--preset", "silver")
    m.start()
    try:
        e = dict(senv, ARC_BINANCE_LIST_URL=m.url, ARC_BINANCE_DOWNLOAD_URL=m.url)
        d = run("arc-discover", "binance", "--market", "spot", "--type", "klines", "--interval", "1h",
                "--symbol", "ETHUSDT", "--since", "2024-03-01", env=e)
        assert d.status == 0, d
        p = run("arc-plan", "--dest", str(tmp_path / "bronze"), input=d.stdout, env=e)
        c = run("arc-collect", input=p.stdout, env=e)
        march = sorted((r for r in c.records if r["date"].startswith("2024-03")), key=lambda r: r["date"])
        assert len(march) == 3 and all(r["status"] == "ok" for r in march), c
        lake = tmp_path / "lake"
        r = run("arc-convert", "--dest", str(lake), "--merge", "month", input=[march[1]], env=e)
        assert r.status == 0, r
        assert len(r.records) == 1, r
        silver = r.records[0]["silver"]
        assert silver["days"] == 3 and silver["dest"].endswith("date=2024-03/ETHUSDT-1h-2024-03.parquet"), silver
        expected = []
        for rec in march:
            expected += sr.read_zip(rec["dest"]).rows
        kept = sorted(set(expected), key=lambda row: row[0])
        table = pq.read_table(silver["dest"])
        times = [t.value for t in table.column("open_time")]
        assert times == sorted(times) and table.num_rows == silver["rows"] == len(kept), (table.num_rows, len(kept))
        meta = {k.decode(): v.decode() for k, v in pq.read_metadata(silver["dest"]).metadata.items()}
        assert meta["arc.duplicates_dropped"] == str(len(expected) - len(kept))
        again = run("arc-convert", "--dest", str(lake), "--merge", "month", input=march, env=e)
        assert [rec["silver"].get("reused") for rec in again.records] == [True] * 3, again
        strict = run("arc-convert", "--dest", str(tmp_path / "strict"), "--merge", "month", "--gate", "warn",
                     input=march, env=e)
        assert all(rec["silver_error"]["code"] == "check_warned" for rec in strict.records), strict
        assert not list((tmp_path / "strict").rglob("*.parquet"))
    finally:
        m.stop()


def test_plan_gaps_lists_holes_inside_checked_archives(silver_mirror, senv):
    """arc-plan --gaps: missing files as before, plus the holes arc-check found inside them."""
    base, manifest = silver_mirror
    series = sorted(k for k, m in manifest.items() if m["market"] == "spot" and m["type"] == "klines"
                    and m["symbol"] == "ETHUSDT" and m["period"] == "daily")
    assert run("arc-check", *[str(base / k) for k in series], env=senv).status == 1
    listing = [{"source": "binance", "market": "spot", "period": "daily", "type": "klines", "symbol": "ETHUSDT",
                "interval": "1h", "date": manifest[k]["date"], "key": k} for k in series]
    r = run("arc-plan", "--gaps", input=listing, env=senv)
    assert r.status == 0, r
    (rec,) = r.records
    holes = {(h["date"], h["code"]) for h in rec["holes"]}
    expected = {(manifest[k]["date"], c) for k in series for c in [manifest[k]["finding"], *manifest[k]["also"]]
                if c in ("missing_intervals", "cut_short", "id_gaps")}
    assert holes == expected, (holes, expected)
    gap = next(h for h in rec["holes"] if h["code"] == "missing_intervals")
    assert gap["ranges"] and gap["ranges"][0]["from"] < gap["ranges"][0]["to"], gap
