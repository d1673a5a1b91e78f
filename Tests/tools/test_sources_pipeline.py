"""Bybit's and KuCoin's archives the whole way: arc-discover SOURCE | arc-plan | arc-collect |
arc-convert, against their mirrors (make-mirror.py --preset bybit|kucoin under rclone serve
s3). Each source verifies its own way (Bybit: the listing's ETag is the MD5; KuCoin: MD5
sidecars), each quirk ends where it should (an empty gzip, a wrong sidecar, a missing one),
a corrupted byte is caught, and the Parquet holds exactly the published rows."""
import datetime as dt
import gzip
import os
import subprocess
import zipfile

import pytest

import mirror_kucoin
import silver_readers as sr
from conftest import BIN, ROOT, RcloneS3, make_mirror, records, run


def arc_env(tmp_path, **extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_")) and k != "TRACEPARENT"}
    e.update(ARC_STATE=str(tmp_path / "state.db"), ARC_LOG_FORMAT="json", **extra)
    return e


def steps(env, dest, source, *discover_args, collect_args=()):
    d = run("arc-discover", source, *discover_args, env=env)
    assert d.status == 0, d
    p = run("arc-plan", "--dest", str(dest), input=d.stdout, env=env)
    assert p.status == 0, p
    c = run("arc-collect", "-j", "8", *collect_args, input=p.stdout, env=env)
    return d, p, c


def by_key(records):
    return {r["key"]: r for r in records}


def data_rows(text):
    """The CSV's rows, its header line left out."""
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) - 1


# Bybit ------------------------------------------------------------------------------------

def test_bybit_discover_plan_collect_convert(bybit_mirror, tmp_path):
    env = bybit_mirror.env(arc_env(tmp_path))
    bronze, silver = tmp_path / "bronze", tmp_path / "silver"
    d, p, c = steps(env, bronze, "bybit")
    assert len(d.records) >= 20, d
    results = by_key(c.records)
    assert set(results) == set(by_key(d.records)), c

    # The one empty gzip Bybit-style is refused; everything else is stored, verified by the
    # listing's ETag (which is the file's MD5).
    empty = "trading/MATICUSDT/MATICUSDT2024-01-03.csv.gz"
    assert c.status == 1, c
    assert results[empty]["status"] == "failed" and results[empty]["error"]["code"] == "empty_archive"
    assert not (bronze / empty).exists()
    stored = {k: r for k, r in results.items() if k != empty}
    for key, r in stored.items():
        assert r["status"] == "ok", r
        assert r["verification"] == "etag-md5" and r["verified"] is True, r
        assert (bronze / key).read_bytes() == (bybit_mirror.root / "public.bybit.com" / key).read_bytes()

    # A second plan of the same listing has nothing to do, the empty file included.
    again = run("arc-plan", "--dest", str(bronze), input=d.stdout, env=env)
    assert again.status == 0 and again.records == [], again

    ok_results = "".join(line + "\n" for line in c.stdout.splitlines() if '"status":"ok"' in line)
    v = run("arc-convert", "--dest", str(silver), input=ok_results, env=env)
    assert v.status == 0, v
    assert len(v.records) == len(stored)
    for rec in v.records:
        out = rec["silver"]["dest"]
        assert out.startswith(str(silver / "bybit")), rec
        published = gzip.decompress((bronze / rec["key"]).read_bytes()).decode()
        assert rec["silver"]["rows"] == data_rows(published), rec
        schema, rows = sr.read_parquet_pyarrow(out)
        assert len(rows) == data_rows(published)
        # Times are microseconds inside the file's UTC day (or month).
        names = [f.name for f in schema]
        column = "timestamp" if "timestamp" in names else "time"
        times = [row[names.index(column)] for row in rows]
        assert times, rec
        if rec["period"] == "daily":
            day = int(dt.datetime.fromisoformat(rec["date"]).replace(tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
            assert all(day <= t < day + 86_400_000_000 for t in times), rec


def test_bybit_corrupted_byte_is_caught_by_the_etag(bybit_mirror, tmp_path):
    env = bybit_mirror.env(arc_env(tmp_path))
    d = run("arc-discover", "bybit", "--symbol", "BTCUSDT", "--market", "linear", env=env)
    assert d.status == 0 and d.records, d
    victim = d.records[0]["key"]
    path = bybit_mirror.root / "public.bybit.com" / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    p = run("arc-plan", "--dest", str(tmp_path / "bronze"), input=d.stdout, env=env)
    c = run("arc-collect", "--retries", "1", input=p.stdout, env=env)
    assert c.status == 1, c
    r = by_key(c.records)[victim]
    assert r["status"] == "failed" and r["verification"] == "etag-md5", r
    assert "MD5 mismatch" in r["error"]["message"], r
    assert not (tmp_path / "bronze" / victim).exists()
    assert sum(x["status"] == "ok" for x in c.records) == len(d.records) - 1


def test_bybit_from_the_html_index_verifies_sizes_only(bybit_mirror, tmp_path):
    """The CDN's index shows sizes, no ETags: the records say so, results are stored but not
    `verified`, and --require-checksum refuses them."""
    env = bybit_mirror.env(arc_env(tmp_path))
    d = run("arc-discover", "bybit", "--index", "--download-url", bybit_mirror.s3.url, "--market", "spot", env=env)
    assert d.status == 0 and d.records, d
    assert {r["checksum"]["kind"] for r in d.records} == {"size"}
    p = run("arc-plan", "--dest", str(tmp_path / "bronze"), input=d.stdout, env=env)
    c = run("arc-collect", input=p.stdout, env=env)
    assert c.status == 0, c
    assert {(r["verification"], r["verified"]) for r in c.records} == {("size", False)}
    strict = run("arc-collect", "--require-checksum", input=run(
        "arc-plan", "--dest", str(tmp_path / "strict"), input=d.stdout, env=arc_env(tmp_path / "s")).stdout,
        env=arc_env(tmp_path / "s"))
    assert strict.status == 1 and {r["error"]["code"] for r in strict.records} == {"checksum_missing"}, strict


# KuCoin -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kucoin(tmp_path_factory):
    root = tmp_path_factory.mktemp("kucoin")
    make_mirror(root, "--preset", "kucoin")
    m = RcloneS3(root, bucket=mirror_kucoin.BUCKET, dir_cache_time="0s").start()
    yield m
    m.stop()


def kucoin_env(tmp_path, mirror):
    return arc_env(tmp_path, ARC_KUCOIN_LIST_URL=mirror.url, ARC_KUCOIN_DOWNLOAD_URL=mirror.url)


def zip_text(path):
    with zipfile.ZipFile(path) as z:
        return z.read(z.namelist()[0]).decode()


def test_kucoin_discover_plan_collect_convert(kucoin, tmp_path):
    env = kucoin_env(tmp_path, kucoin)
    bronze, silver = tmp_path / "bronze", tmp_path / "silver"
    d, p, c = steps(env, bronze, "kucoin", "--market", "spot", "--type", "klines,trades", "--symbol", "ETH-USDT")
    results = by_key(c.records)
    assert len(results) == len(d.records) == 8, c

    wrong = "data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-03.zip"
    missing = "data/spot/daily/trades/ETHUSDT/ETHUSDT-trades-2024-01-02.zip"
    assert c.status == 1, c
    assert results[wrong]["status"] == "failed" and results[wrong]["verification"] == "md5", results[wrong]
    assert "MD5 mismatch" in results[wrong]["error"]["message"]
    assert results[missing]["status"] == "failed" and results[missing]["error"]["code"] == "checksum_missing"
    assert not (bronze / wrong).exists() and not (bronze / missing).exists()
    good = {k: r for k, r in results.items() if k not in (wrong, missing)}
    assert len(good) == 6
    for key, r in good.items():
        assert r["status"] == "ok" and r["verification"] == "md5" and r["verified"] is True, r

    ok_results = "".join(line + "\n" for line in c.stdout.splitlines() if '"status":"ok"' in line)
    v = run("arc-convert", "--dest", str(silver), input=ok_results, env=env)
    assert v.status == 0, v
    assert len(v.records) == 6
    for rec in v.records:
        assert rec["silver"]["dest"].startswith(str(silver / "kucoin")), rec
        published = zip_text(bronze / rec["key"])
        schema, rows = sr.read_parquet_pyarrow(rec["silver"]["dest"])
        assert len(rows) == data_rows(published) == rec["silver"]["rows"], rec
        if rec["type"] == "klines":
            # KuCoin's own column order, kept: time, open, close, high, low, ...
            names = [f.name for f in schema]
            assert names[:5] == ["time", "open", "close", "high", "low"], names
            first = published.splitlines()[1].split(",")
            t = rows[0][0]
            assert t == int(first[0]) * 1_000_000, (t, first)


def test_kucoin_corrupted_byte_is_caught_by_the_md5_sidecar(tmp_path):
    root = tmp_path / "mirror"
    make_mirror(root, "--preset", "kucoin")
    m = RcloneS3(root, bucket=mirror_kucoin.BUCKET, dir_cache_time="0s").start()
    try:
        env = kucoin_env(tmp_path, m)
        d = run("arc-discover", "kucoin", "--market", "spot", "--type", "trades", "--symbol", "BTCUSDT", env=env)
        assert d.status == 0 and len(d.records) == 5, d
        victim = d.records[2]["key"]
        path = root / mirror_kucoin.BUCKET / victim
        data = bytearray(path.read_bytes())
        data[-30] ^= 0x20
        path.write_bytes(bytes(data))
        p = run("arc-plan", "--dest", str(tmp_path / "bronze"), input=d.stdout, env=env)
        c = run("arc-collect", "--retries", "1", input=p.stdout, env=env)
        assert c.status == 1, c
        r = by_key(c.records)[victim]
        assert r["status"] == "failed" and "MD5 mismatch" in r["error"]["message"], r
        assert sorted(x["status"] for x in c.records) == ["failed"] + ["ok"] * 4
    finally:
        m.stop()


# examples/three-exchanges.sh ------------------------------------------------------------

def test_three_exchanges_example_fills_one_lake(mirror, env, bybit_mirror, kucoin, tmp_path):
    e = bybit_mirror.env(dict(env, PATH=f"{BIN}:{os.environ['PATH']}",
                              ARC_KUCOIN_LIST_URL=kucoin.url, ARC_KUCOIN_DOWNLOAD_URL=kucoin.url))
    lake = tmp_path / "lake"
    r = subprocess.run([str(ROOT / "examples" / "three-exchanges.sh"), str(lake), "2023-12-01", "2024-01-02"],
                       env=e, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr + (lake / "arc.log").read_text()
    kinds = {}
    # The mirrors' days differ: Binance's two are in December, KuCoin's and Bybit's in January.
    for source in ("binance", "kucoin", "bybit"):
        results = records((lake / f"results-{source}.ndjson").read_text())
        assert len(results) == 2, (source, results)
        assert all(x["status"] == "ok" and x["verified"] and "silver" in x for x in results), results
        kinds[source] = {x["verification"] for x in results}
        for x in results:
            assert os.path.exists(x["silver"]["dest"]), x
    assert kinds == {"binance": {"sha256"}, "kucoin": {"md5"}, "bybit": {"etag-md5"}}
    assert (lake / "silver" / "kucoin").is_dir() and (lake / "silver" / "bybit").is_dir()

    # Run again: nothing new, still exit 0.
    again = subprocess.run([str(ROOT / "examples" / "three-exchanges.sh"), str(lake), "2023-12-01", "2024-01-02"],
                           env=e, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
