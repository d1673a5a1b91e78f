"""arc-discover bybit against make-mirror.py's bybit preset: the bucket through `rclone serve
s3` and its HTML index through a static server that logs every request (and can ban)."""
import hashlib
import sys
from pathlib import Path

import pytest

from conftest import run

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import mirror_bybit  # noqa: E402

MANIFEST = mirror_bybit.bybit_manifest()


@pytest.fixture
def benv(env, bybit_mirror):
    return bybit_mirror.env(env)


def discover(benv, *args):
    r = run("arc-discover", "bybit", *args, env=benv)
    return r


def keys(records):
    return sorted(r["key"] for r in records)


def test_every_archive_listed_with_its_md5_etag(benv, bybit_mirror):
    r = discover(benv)
    assert r.status == 0, r
    assert keys(r.records) == sorted(MANIFEST)
    for rec in r.records:
        m = MANIFEST[rec["key"]]
        assert (rec["source"], rec["type"], rec["market"], rec["symbol"], rec["period"], rec["date"]) == \
            ("bybit", "trades", m["market"], m["symbol"], m["period"], m["date"])
        path = bybit_mirror.root / "public.bybit.com" / rec["key"]
        md5 = hashlib.md5(path.read_bytes()).hexdigest()
        assert rec["etag"] == md5  # rclone's ETag is the file's MD5
        assert rec["checksum"] == {"kind": "etag-md5", "value": md5}
        assert rec["size"] == path.stat().st_size
        assert rec["url"] == bybit_mirror.s3.url + "/" + rec["key"]
        assert rec.get("checksum_url") is None
    # The quirks are reported, never a failure.
    logs = r.logs
    assert [l["key"] for l in logs if l["msg"].startswith("not an archive name")] == mirror_bybit.ODD
    odd = [l for l in logs if l["msg"].startswith("file named for another symbol")]
    assert {l["key"] for l in odd} == {k for k, m in MANIFEST.items() if m["symbol"] != m["file_symbol"]}
    assert all(l["file_symbol"] == "DATAUSDT" and l["folder_symbol"] == "DATAOLD01USDT" for l in odd)
    empty = [l for l in logs if l["msg"].startswith("empty archive")]
    assert [l["key"] for l in empty] == sorted(mirror_bybit.EMPTY)
    assert [l["size"] for l in empty] == [44]


def test_filters_globs_and_dates(benv):
    r = discover(benv, "--market", "spot", "--symbol", "BTC*", "--since", "2023-12", "--until", "2024-01-02")
    assert r.status == 0, r
    assert keys(r.records) == ["spot/BTCUSDT/BTCUSDT-2023-12.csv.gz", "spot/BTCUSDT/BTCUSDT_2024-01-01.csv.gz",
                               "spot/BTCUSDT/BTCUSDT_2024-01-02.csv.gz"]
    r = discover(benv, "--market", "spot", "--period", "monthly")
    assert keys(r.records) == sorted(k for k, m in MANIFEST.items() if m["period"] == "monthly")
    r = discover(benv, "-m", "linear", "-s", "BTCUSDT,ETHUSDT", "--since", "2024-01-02", "--until", "2024-01-04",
                 "--type", "trades")
    assert keys(r.records) == ["trading/BTCUSDT/BTCUSDT2024-01-02.csv.gz", "trading/BTCUSDT/BTCUSDT2024-01-03.csv.gz",
                               "trading/BTCUSDT/BTCUSDT2024-01-04.csv.gz", "trading/ETHUSDT/ETHUSDT2024-01-02.csv.gz"]
    r = discover(benv, "-m", "linear", "-p", "monthly")
    assert r.status == 2 and "not published" in r.stderr


def test_list_symbols_and_types(benv):
    r = discover(benv, "--list", "symbols", "--symbol", "*USDT")
    assert r.status == 0, r
    assert [(x["market"], x["symbol"]) for x in r.records] == [
        ("linear", "BTCUSDT"), ("linear", "DATAOLD01USDT"), ("linear", "ETHUSDT"), ("linear", "MATICUSDT"),
        ("spot", "BTCUSDT"), ("spot", "ETHUSDT")]
    r = discover(benv, "--list", "types")
    assert [(x["market"], x["type"], x["periods"]) for x in r.records] == [
        ("linear", "trades", ["daily"]), ("spot", "trades", ["daily", "monthly"])]


def test_small_pages_give_the_same_records(benv):
    whole = discover(benv)
    paged = discover(benv, "--page-size", "2", "-j", "3")
    assert paged.status == 0, paged
    assert sorted(map(str, paged.records)) == sorted(map(str, whole.records))


def test_incremental_lists_only_what_is_new(benv, bybit_mirror):
    first = discover(benv, "--incremental")
    assert first.status == 0 and len(first.records) == len(MANIFEST)
    again = discover(benv, "--incremental")
    assert again.status == 0 and again.records == []
    # New daily and monthly spot files: spot's periods have marks of their own.
    bucket = bybit_mirror.root / "public.bybit.com"
    new = ["spot/BTCUSDT/BTCUSDT-2024-01.csv.gz", "spot/BTCUSDT/BTCUSDT_2025-06-02.csv.gz",
           "trading/ETHUSDT/ETHUSDT2024-01-03.csv.gz"]
    for key in new:
        (bucket / key).write_bytes(mirror_bybit.gzip_bytes("x.csv", "id,timestamp,price,volume,side\n"))
    later = discover(benv, "--incremental")
    assert later.status == 0, later
    assert keys(later.records) == sorted(new)


def test_the_html_index_gives_the_same_records(benv, bybit_mirror):
    s3 = discover(benv)
    forced = discover(benv, "--index")
    assert forced.status == 0, forced

    def same(r):
        return {k: r[k] for k in ("source", "market", "period", "type", "symbol", "date", "key", "url", "size")}
    assert sorted(map(str, map(same, forced.records))) == sorted(map(str, map(same, s3.records)))
    assert all(r["checksum"] == {"kind": "size"} and r["etag"] is None for r in forced.records)
    # The listing endpoint unreachable, refusing, or answering something else: the index.
    for bad in ["http://127.0.0.1:1/public.bybit.com", bybit_mirror.index.url + "/trading/BTCUSDT/"]:
        fallback = discover(benv, "--list-url", bad, "--retries", "2")
        assert fallback.status == 0, fallback
        assert any("reading the HTML index instead" in l["msg"] for l in fallback.logs)
        assert sorted(map(str, map(same, fallback.records))) == sorted(map(str, map(same, s3.records)))


def test_garbage_listings_are_an_error_with_exit_status_3(benv, bybit_mirror, tmp_path):
    garbage = tmp_path / "garbage"
    for folder in ("", "trading", "spot"):
        (garbage / folder).mkdir(parents=True, exist_ok=True)
        (garbage / folder / "index.html").write_text("this is no listing and no index\n")
    from static_http import StaticHTTP
    server = StaticHTTP(garbage).start()
    try:
        r = discover(benv, "--list-url", server.url, "--index-url", server.url, "--retries", "1")
        assert r.status == 3, r
        assert r.records == []
        errors = [l for l in r.logs if l["level"] == "error"]
        assert errors and all(l["code"] == "bad_listing" for l in errors)
        assert "no links on the page" in errors[0]["msg"]
    finally:
        server.stop()


def test_rate_limit_holds_at_the_server_and_a_user_agent_is_sent(benv, bybit_mirror):
    r = discover(benv, "--index", "--rate", "5", "-j", "16")
    assert r.status == 0, r
    requests = bybit_mirror.index.requests
    assert len(requests) >= 12  # a burst of work: the root, markets, every symbol folder
    # No two requests closer than 1/5 s, so at most 5 (+1 at the window's edges) a second.
    assert bybit_mirror.index.max_in_window(1.0) <= 6
    assert all(ua and ua.startswith("arc/") for _, _, ua, _ in requests)


def test_a_ban_is_waited_out_and_retried_to_success(benv, bybit_mirror):
    index = bybit_mirror.index
    index.ban_after, index.ban_for = 3, 6
    env = dict(benv, ARC_BAN_BACKOFF_MS="200")
    r = run("arc-discover", "bybit", "--index", "--retries", "1", "--rate", "50", env=env)
    assert r.status == 0, r
    assert len(r.records) == len(MANIFEST)
    assert sum(1 for *_, status in index.requests if status == 403) == 6
    assert not [l for l in r.logs if l["level"] == "error"]
    # With Retry-After, that is what is waited.
    index.requests.clear()
    index.answered, index.ban_after, index.ban_for, index.retry_after = 0, 2, 2, 1
    r = run("arc-discover", "bybit", "--index", "--retries", "1", "-m", "spot", env=env)
    assert r.status == 0 and len(r.records) == sum(1 for m in MANIFEST.values() if m["market"] == "spot")
    times = [t for t, *_ in index.requests]
    statuses = [s for *_, s in index.requests]
    first_ban = statuses.index(403)
    after = next(i for i in range(first_ban, len(statuses)) if statuses[i] == 200)
    assert times[after] - times[first_ban] >= 0.9


def test_a_403_before_any_answer_is_no_ban(benv, bybit_mirror):
    index = bybit_mirror.index
    index.ban_after, index.ban_for = 0, 1000
    env = dict(benv, ARC_BAN_BACKOFF_MS="10")
    r = run("arc-discover", "bybit", "--index", "--retries", "1", "-m", "linear", env=env)
    assert r.status == 3, r
    assert len(index.requests) == 1
    assert any(l.get("code") == "forbidden" for l in r.logs)


def test_bad_flags(benv):
    for args in (["--rate", "0"], ["--rate", "x"], ["--page-size", "0"], ["--list-url", "ftp://x"],
                 ["--incremental", "--list", "symbols"], ["--since", "2024-02-01", "--until", "2024-01-01"]):
        r = discover(benv, *args)
        assert r.status == 2, (args, r)


def test_collect_rate_holds_per_host(benv, bybit_mirror, tmp_path):
    from static_http import StaticHTTP
    files = StaticHTTP(bybit_mirror.root / "public.bybit.com").start()
    try:
        d = discover(benv, "--download-url", files.url, "-m", "linear")
        assert d.status == 0, d
        p = run("arc-plan", "--dest", str(tmp_path / "out"), input=d.stdout, env=benv)
        assert p.status == 0, p
        c = run("arc-collect", "-j", "16", "--rate", "5", input=p.stdout, env=benv)
        # The mirror's one empty gzip fails as Bybit's do; everything else is stored.
        assert c.status == 1, c
        failed = [r for r in c.records if r["status"] == "failed"]
        assert [r["error"]["code"] for r in failed] == ["empty_archive"], failed
        assert len(files.requests) == len(d.records) >= 10
        assert files.max_in_window(1.0) <= 6
        assert all(ua and ua.startswith("arc/") for _, _, ua, _ in files.requests)
        r = run("arc-collect", "--rate", "0", input=p.stdout, env=benv)
        assert r.status == 2
    finally:
        files.stop()
