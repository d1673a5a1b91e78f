"""The main job: arc-discover binance | arc-plan | arc-collect against the local mirror."""
import json
import os
import signal
import subprocess
import threading
import time

from conftest import (expected_sha, ledger, pipeline, records, run, sha256_file, tool)

WRONG_CHECKSUM = "data/spot/daily/trades/XRPUSDT/XRPUSDT-trades-2024-01-02.zip"
MISSING_CHECKSUM = "data/spot/daily/aggTrades/XRPUSDT/XRPUSDT-aggTrades-2024-01-02.zip"


def assert_stored_files_verify(mirror, dest):
    """Every file at a final name is complete and matches its CHECKSUM; no partial file
    ever sits at a final name."""
    for path in dest.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            key = str(path.relative_to(dest))
            assert sha256_file(path) == expected_sha(mirror, key), key


def test_issue_example_pipeline_in_a_shell(mirror, env, tmp_path):
    dest = tmp_path / "data"
    line = (f"{tool('arc-discover')} binance --market um --type klines --interval 1m "
            f"--symbol BTCUSDT,ETHUSDT --since 2024-01-01 | {tool('arc-plan')} --dest {dest} "
            f"| {tool('arc-collect')} -j 64")
    proc = subprocess.run(["sh", "-c", line], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = records(proc.stdout)
    # 9 ETHUSDT days (2024-01-05 is missing upstream) and 3 BTCUSDT days.
    assert len(results) == 12
    assert all(r["status"] == "ok" and r["verified"] for r in results)
    assert {r["symbol"] for r in results} == {"BTCUSDT", "ETHUSDT"}
    for r in results:
        assert sha256_file(r["dest"]) == r["sha256"] == expected_sha(mirror, r["key"])
    assert_stored_files_verify(mirror, dest)


def test_full_pipeline_then_rerun_plans_only_what_failed(mirror, env, tmp_path):
    dest = tmp_path / "data"
    d, p, c = pipeline(env, dest, [])
    archives = d.records
    assert len(archives) == 616
    assert len(p.records) == 616 and {t["reason"] for t in p.records} == {"new"}
    assert c.status == 1, c  # two archives are broken upstream
    by_key = {r["key"]: r for r in c.records}
    assert len(by_key) == 616
    assert by_key[WRONG_CHECKSUM]["status"] == "failed"
    assert by_key[WRONG_CHECKSUM]["error"]["code"] == "checksum_mismatch"
    assert by_key[MISSING_CHECKSUM]["error"]["code"] == "checksum_missing"
    ok = [r for r in c.records if r["status"] == "ok"]
    assert len(ok) == 614 and all(r["verified"] for r in ok)
    # Nothing lands at the final name of a file that failed verification.
    assert not (dest / WRONG_CHECKSUM).exists()
    assert not list((dest / WRONG_CHECKSUM).parent.glob(".*.part"))
    assert_stored_files_verify(mirror, dest)
    rows = ledger(env)
    assert sum(r["status"] == "ok" for r in rows.values()) == 614
    assert rows[str(dest / WRONG_CHECKSUM)]["error_code"] == "checksum_mismatch"

    # The next day: the same line fetches only what failed before.
    d2 = run("arc-discover", "binance", env=env)
    p2 = run("arc-plan", "--dest", str(dest), input=d2.stdout, env=env)
    assert p2.status == 0, p2
    assert sorted((t["key"], t["reason"]) for t in p2.records) == sorted(
        [(WRONG_CHECKSUM, "retry"), (MISSING_CHECKSUM, "retry")])


def test_republished_archive_is_fetched_again(mirror, env, tmp_path):
    dest = tmp_path / "data"
    key = "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-02.zip"
    args = ["--market", "um", "--type", "klines", "--symbol", "ETHUSDT", "--period", "daily"]
    _, _, c = pipeline(env, dest, args)
    assert c.status == 0, c
    old = sha256_file(dest / key)

    mirror.republish(key)
    d, p, c = pipeline(env, dest, args)
    assert [(t["key"], t["reason"]) for t in p.records] == [(key, "changed")]
    assert c.status == 0, c
    assert sha256_file(dest / key) == expected_sha(mirror, key) != old
    assert ledger(env)[str(dest / key)]["sha256"] == expected_sha(mirror, key)


def collect_until(env, tasks, results_before_event, event, *args):
    """Starts arc-collect on `tasks`, waits until it has written `results_before_event`
    results, runs `event(proc)`, and returns (exit status, all result records)."""
    proc = subprocess.Popen([tool("arc-collect"), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    # Feed stdin from a thread: arc-collect reads tasks only as slots free up, and its
    # results fill the stdout pipe meanwhile, so writing everything first would deadlock.
    stdin, proc.stdin = proc.stdin, None  # communicate() below must leave it to the thread

    def feed():
        try:
            stdin.write(tasks)
            stdin.close()
        except BrokenPipeError:
            pass  # arc-collect stopped before reading everything
    threading.Thread(target=feed, daemon=True).start()
    lines = []
    while len(lines) < results_before_event:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        lines.append(line)
    event(proc)
    rest, stderr = proc.communicate(timeout=120)
    return proc.returncode, records("".join(lines) + rest), stderr


def test_server_killed_mid_run_then_rerun_completes(mirror, env, tmp_path):
    dest = tmp_path / "data"
    d = run("arc-discover", "binance", "--market", "spot", "--type", "klines", "--period", "daily", env=env)
    p = run("arc-plan", "--dest", str(dest), input=d.stdout, env=env)
    assert len(p.records) == 550
    status, results, _ = collect_until(env, p.stdout, 50, lambda _: mirror.stop(),
                                       "-j", "4", "--retries", "2", "--retry-delay", "50ms")
    assert status == 1
    failed = [r for r in results if r["status"] == "failed"]
    assert failed and {r["error"]["code"] for r in failed} <= {"connection_failed", "connection_lost", "checksum_missing"}
    assert_stored_files_verify(mirror, dest)

    mirror.start()
    d2, p2, c2 = pipeline(env, dest, ["--market", "spot", "--type", "klines", "--period", "daily"])
    assert c2.status == 0, c2
    assert len(p2.records) == len(failed)
    assert len([f for f in dest.rglob("*.zip")]) == 550
    assert_stored_files_verify(mirror, dest)


def test_sigint_mid_run_stops_cleanly_and_rerun_completes(mirror, env, tmp_path):
    dest = tmp_path / "data"
    d = run("arc-discover", "binance", "--market", "spot", "--type", "klines", "--period", "daily", env=env)
    p = run("arc-plan", "--dest", str(dest), input=d.stdout, env=env)

    def interrupt(proc):
        mirror.pause()  # transfers are now in flight and going nowhere
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)

    status, results, stderr = collect_until(env, p.stdout, 40, interrupt, "-j", "8")
    mirror.resume()
    assert status == 130, stderr
    interrupted = [r for r in results if r["status"] == "failed"]
    assert interrupted and all(r["error"]["code"] == "interrupted" for r in interrupted)
    # The ledger holds exactly what was reported ok, and each of those files verifies.
    rows = ledger(env)
    ok = {r["dest"] for r in results if r["status"] == "ok"}
    assert {d for d, r in rows.items() if r["status"] == "ok"} == ok
    assert all(r["status"] == "ok" for r in rows.values())  # interruptions are not failures
    assert_stored_files_verify(mirror, dest)

    _, p2, c2 = pipeline(env, dest, ["--market", "spot", "--type", "klines", "--period", "daily"])
    assert c2.status == 0, c2
    assert len(p2.records) == 550 - len(ok)
    assert len(list(dest.rglob("*.zip"))) == 550
    assert not list(dest.rglob(".*.part"))
    assert_stored_files_verify(mirror, dest)


def test_missing_archive_is_a_not_found_failure(mirror, env, tmp_path):
    d = run("arc-discover", "binance", "--market", "option", env=env)
    archives = d.records
    assert len(archives) == 2
    gone = archives[0]
    os.remove(mirror.path(gone["key"]))
    p = run("arc-plan", "--dest", str(tmp_path / "data"), input=d.stdout, env=env)
    c = run("arc-collect", input=p.stdout, env=env)
    assert c.status == 1
    by_key = {r["key"]: r for r in c.records}
    assert by_key[gone["key"]]["status"] == "failed"
    assert by_key[gone["key"]]["error"]["code"] == "not_found"
    assert by_key[gone["key"]]["attempts"] == 1  # a 404 is not retried
    assert by_key[archives[1]["key"]]["status"] == "ok"
    assert json.dumps(by_key[gone["key"]]["error"])  # error is an object {code, message}
