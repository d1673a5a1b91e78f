"""What users do by accident: repeated archives, shared state, quiet pipes, dead hosts,
empty values, and a listing server that misbehaves."""
import http.server
import json
import signal
import subprocess
import threading
import time

from conftest import expected_sha, ledger, records, run, sha256_file, tool

UM_ETH = ["--market", "um", "--type", "klines", "--symbol", "ETHUSDT", "--period", "daily"]


def test_repeated_filter_values_list_each_archive_once(mirror, env):
    once = run("arc-discover", "binance", *UM_ETH, env=env)
    twice = run("arc-discover", "binance", *UM_ETH, "--interval", "1m,1m", "--symbol", "ETHUSDT", env=env)
    assert twice.status == 0, twice
    assert [a["key"] for a in twice.records] == [a["key"] for a in once.records]


def test_an_archive_listed_twice_is_planned_once_and_collected_once(mirror, env, tmp_path):
    archives = run("arc-discover", "binance", *UM_ETH, env=env).stdout
    p = run("arc-plan", "--dest", str(tmp_path / "data"), input=archives + archives, env=env)
    assert p.status == 0, p
    assert len(p.records) == 9
    assert p.logs[-1]["duplicates"] == 9

    # Duplicate tasks reaching arc-collect anyway (two plans concatenated) never race for
    # one partial file: the second finds the first's file and verifies it.
    c = run("arc-collect", "-j", "16", input=p.stdout + p.stdout, env=env)
    assert c.status == 0, c
    assert sorted(r["status"] for r in c.records) == ["ok"] * 9 + ["skipped"] * 9
    rows = ledger(env)
    assert len(rows) == 9 and all(r["status"] == "ok" for r in rows.values())
    for r in c.records:
        assert sha256_file(r["dest"]) == expected_sha(mirror, r["key"])


def test_a_layout_that_puts_two_archives_on_one_path_is_refused_per_record(mirror, env, tmp_path):
    archives = run("arc-discover", "binance", *UM_ETH, env=env).stdout
    p = run("arc-plan", "--dest", str(tmp_path / "data"), "--layout", "{symbol}/{interval}", input=archives, env=env)
    assert p.status == 1, p
    assert len(p.records) == 1
    warnings = [l for l in p.logs if l["level"] == "warn"]
    assert len(warnings) == 8 and all('field "dest"' in w["msg"] and "{file}" in w["msg"] for w in warnings)
    bad = run("arc-plan", "--dest", str(tmp_path), "--layout", "../{file}", input=archives, env=env)
    assert bad.status == 2 and "--layout" in bad.stderr and bad.stdout == ""


def test_two_collectors_share_one_state_database(mirror, env, tmp_path):
    archives = run("arc-discover", "binance", "--market", "spot", "--type", "klines", "--period", "daily",
                   env=env).stdout
    tasks = [run("arc-plan", "--dest", str(tmp_path / name), input=archives, env=env).stdout for name in ("a", "b")]
    procs = [subprocess.Popen([tool("arc-collect"), "-j", "8"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, text=True) for _ in tasks]
    outputs = [[None]] * 2

    def feed(n):
        outputs[n] = procs[n].communicate(tasks[n], timeout=120)
    threads = [threading.Thread(target=feed, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert len(records(out)) == 550
    rows = ledger(env)
    assert len(rows) == 1100 and all(r["status"] == "ok" for r in rows.values())


def test_incremental_pipeline_beside_a_collector(mirror, env, tmp_path):
    line = (f"{tool('arc-discover')} binance --incremental --market spot --type klines --period daily "
            f"| {tool('arc-plan')} --dest {tmp_path / 'data'} | {tool('arc-collect')} -j 8")
    first = subprocess.run(["bash", "-o", "pipefail", "-c", line], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert len(records(first.stdout)) == 550
    again = subprocess.run(["bash", "-o", "pipefail", "-c", line], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert records(again.stdout) == []


def test_a_signal_stops_a_collector_waiting_on_a_quiet_pipe(env, tmp_path):
    for sig, status in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        proc = subprocess.Popen([tool("arc-collect")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        time.sleep(0.3)  # blocked reading a pipe that says nothing
        start = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=10)
        assert proc.returncode == status
        assert time.monotonic() - start < 3
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()


def test_a_dead_archive_host_exits_3(mirror, env, tmp_path):
    tasks = run("arc-plan", "--dest", str(tmp_path / "data"),
                input=run("arc-discover", "binance", *UM_ETH, env=env).stdout, env=env).stdout
    mirror.stop()
    r = run("arc-collect", "--retries", "1", input=tasks, env=env)
    assert r.status == 3, r
    assert {x["error"]["code"] for x in r.records} == {"connection_failed"}


def test_empty_filter_values_are_usage_errors(env):
    for args in (["--symbol", ""], ["--symbol", ","], ["--market", ""], ["--interval", "1m,"]):
        r = run("arc-discover", "binance", *args, env=env)
        assert r.status == 2 and r.stdout == "", (args, r)
    assert run("arc-plan", "--dest", "", env=env).status == 2
    assert run("arc-collect", "--state", "", env=env).status == 2
    assert run("arc-discover", "binance", "--list-url", "notaurl", env=env).status == 2


class StuckListing(http.server.BaseHTTPRequestHandler):
    """An S3 listing that says "more" but hands out the same marker every time."""

    def do_GET(self):
        body = (b"<?xml version='1.0'?><ListBucketResult><IsTruncated>true</IsTruncated>"
                b"<NextMarker>data/spot/</NextMarker><CommonPrefixes><Prefix>data/spot/</Prefix></CommonPrefixes>"
                b"</ListBucketResult>")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_listing_that_does_not_advance_fails_instead_of_looping(env):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StuckListing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/data.binance.vision"
        r = run("arc-discover", "binance", "--list-url", url, "--download-url", url, env=env, timeout=30)
        assert r.status == 1, r  # the first page was fine, the folder's next one failed
        assert any("does not advance" in l["msg"] for l in r.logs), r.stderr
    finally:
        server.shutdown()


def test_plugin_records_must_have_http_urls(env, tmp_path):
    plugin = tmp_path / "bin" / "arc-source-ftp"
    plugin.parent.mkdir()
    plugin.write_text("#!/bin/sh\necho '{\"url\":\"ftp://example/x.zip\"}'\necho '{\"url\":\"http://example/y.zip\"}'\n")
    plugin.chmod(0o755)
    r = run("arc-discover", "ftp", env=dict(env, PATH=f"{plugin.parent}:/usr/bin:/bin"))
    assert r.status == 1, r
    assert [x["url"] for x in r.records] == ["http://example/y.zip"]
