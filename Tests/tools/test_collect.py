"""arc-collect: verification, safe writes, resume, retries, stalls, dry runs, bad input."""
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

from conftest import BUCKET, expected_sha, ledger, run, sha256_file, tool
from faultproxy import KINDS, FaultProxy

KEY = "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-03.zip"


def tasks_for(env, dest, *discover_args):
    d = run("arc-discover", "binance", *discover_args, env=env)
    p = run("arc-plan", "--dest", str(dest), input=d.stdout, env=env)
    assert p.status == 0, p
    return p.records


def one_task(env, tmp_path, key=KEY):
    parts = key.split("/")
    tasks = tasks_for(env, tmp_path / "data", "--market", "um", "--type", "klines", "--symbol", parts[-3],
                      "--interval", parts[-2], "--period", "daily")
    return next(t for t in tasks if t["key"] == key)


def partial_path(task):
    dest = task["dest"]
    d, name = os.path.split(dest)
    return os.path.join(d, f".{name}.{task['etag'][:12]}.part")


def test_dry_run_fetches_and_records_nothing(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    r = run("arc-collect", "--dry-run", input=[task], env=env)
    assert r.status == 0, r
    [res] = r.records
    assert res["status"] == "skipped" and res["dry_run"] is True and res["key"] == KEY
    assert not os.path.exists(task["dest"])
    assert ledger(env) == {} if os.path.exists(env["ARC_STATE"]) else True


def test_partial_download_from_an_earlier_run_is_resumed(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    data = mirror.path(KEY).read_bytes()
    os.makedirs(os.path.dirname(task["dest"]), exist_ok=True)
    with open(partial_path(task), "wb") as f:
        f.write(data[: len(data) // 2])
    r = run("arc-collect", "--log-level", "debug", input=[task], env=env)
    assert r.status == 0, r
    [res] = r.records
    assert res["status"] == "ok" and res["verified"]
    assert sha256_file(task["dest"]) == expected_sha(mirror, KEY)
    assert not os.path.exists(partial_path(task))
    assert any(l.get("resumed_bytes") == len(data) // 2 for l in r.logs), r.stderr


def test_a_corrupt_partial_file_is_detected_and_fetched_again(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    size = mirror.path(KEY).stat().st_size
    os.makedirs(os.path.dirname(task["dest"]), exist_ok=True)
    with open(partial_path(task), "wb") as f:
        f.write(b"\0" * (size // 2))
    r = run("arc-collect", input=[task], env=env)
    assert r.status == 0, r
    assert r.records[0]["status"] == "ok"
    assert sha256_file(task["dest"]) == expected_sha(mirror, KEY)
    assert any("resuming" in l["msg"] for l in r.logs if l["level"] == "warn")


def test_a_file_already_in_place_is_verified_not_downloaded(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    os.makedirs(os.path.dirname(task["dest"]), exist_ok=True)
    with open(task["dest"], "wb") as f:
        f.write(mirror.path(KEY).read_bytes())
    r = run("arc-collect", input=[task], env=env)
    [res] = r.records
    assert res["status"] == "skipped" and res["verified"] and res["sha256"] == expected_sha(mirror, KEY)
    assert ledger(env)[task["dest"]]["status"] == "ok"
    # Same size, wrong bytes: replaced by the verified download.
    with open(task["dest"], "r+b") as f:
        f.write(b"XXXX")
    r = run("arc-collect", input=[task], env=env)
    assert r.records[0]["status"] == "ok"
    assert sha256_file(task["dest"]) == expected_sha(mirror, KEY)


def test_retries_ride_out_a_server_restart(mirror, env, tmp_path):
    tasks = tasks_for(env, tmp_path / "data", "--market", "um", "--period", "daily", "--type", "klines")
    mirror.stop()
    threading.Timer(1.0, mirror.start).start()
    r = run("arc-collect", "--retries", "8", "--retry-delay", "200ms", input=tasks, env=env)
    assert r.status == 0, r
    assert all(x["status"] == "ok" for x in r.records)
    assert max(x["attempts"] for x in r.records) > 1
    assert r.logs[-1]["retries"] > 0


def test_a_stalled_server_is_cut_off_by_the_stall_timeout(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    mirror.pause()
    started = time.time()
    r = run("arc-collect", "--stall-timeout", "1s", "--retries", "2", "--retry-delay", "50ms", input=[task], env=env)
    elapsed = time.time() - started
    mirror.resume()
    assert r.status == 1, r
    [res] = r.records
    assert res["status"] == "failed" and res["error"]["code"] == "timeout"
    assert res["attempts"] == 2
    assert elapsed < 15
    assert not os.path.exists(task["dest"])


def test_many_concurrent_transfers(mirror, env, tmp_path):
    tasks = tasks_for(env, tmp_path / "data", "--market", "spot", "--type", "klines", "--period", "daily")
    r = run("arc-collect", "-j", "128", input=tasks, env=env)
    assert r.status == 0, r
    assert len(r.records) == 550 and all(x["status"] == "ok" for x in r.records)


# One system call as `strace -f -y` prints it: "PID name(args) = ret", or split in two
# ("PID name(args <unfinished ...>", then "PID <... name resumed>...") when threads interleave.
SYSCALL = re.compile(r"^\d+ +(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")


def test_group_commit_flushes_data_before_renames_and_renames_before_reporting(mirror, env, tmp_path):
    """Group commit, read from the system calls arc-collect makes: every archive's bytes are
    flushed (a syncfs after its partial file's last write) before it is renamed into place,
    and every rename is flushed before any result record or ledger write that follows it."""
    tasks = tasks_for(env, tmp_path / "data", "--market", "spot", "--type", "klines", "--period", "daily")[:120]
    trace = tmp_path / "trace"
    proc = subprocess.run(["strace", "-f", "-qq", "-y", "-s", "64", "-o", str(trace),
                           "-e", "trace=write,pwrite64,rename,syncfs,fdatasync",
                           tool("arc-collect"), "-j", "32"],
                          input="".join(json.dumps(t) + "\n" for t in tasks), capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert sum(1 for l in proc.stdout.splitlines() if json.loads(l)["status"] == "ok") == len(tasks)

    last_write = {}      # partial file -> index of its last write
    flushes = []         # indexes of finished syncfs calls
    unflushed = []       # renames (index, dest) not yet followed by a finished syncfs
    renames = 0
    for i, line in enumerate(trace.read_text().splitlines()):
        m = SYSCALL.match(line)
        if not m:
            continue
        name, resumed, args = m.group(2) or m.group(1), m.group(1) is not None, m.group(3)
        if name == "syncfs" and "<unfinished" not in args:
            flushes.append(i)
            unflushed.clear()
        elif name in ("write", "pwrite64") and not resumed:
            path = args.split("<", 1)[1].split(">", 1)[0] if "<" in args.split(",")[0] else ""
            if path.endswith(".part"):
                last_write[path] = i
            elif path.startswith("pipe:") or path.endswith("-wal"):
                # A result record (stdout) or the ledger (SQLite's WAL) after an unflushed rename.
                assert not unflushed, f"line {i + 1} reports before the renames {unflushed[:3]} are flushed"
        elif name == "rename" and not resumed:
            source, dest = re.findall(r'"([^"]+)"', args)[:2]
            wrote = last_write.get(source)
            assert wrote is not None, f"line {i + 1}: {source} renamed, never written"
            assert any(wrote < f < i for f in flushes), f"line {i + 1}: {source} renamed before its data was flushed"
            unflushed.append((i + 1, dest))
            renames += 1
        elif name == "fdatasync":
            assert False, f"line {i + 1}: an fdatasync per file (group commit flushes once per batch): {line}"
    assert renames == len(tasks)


def test_fail_fast_stops_at_the_first_failure(mirror, env, tmp_path):
    tasks = tasks_for(env, tmp_path / "data", "--market", "spot", "--type", "trades")
    bad = [t for t in tasks if t["date"] == "2024-01-02"]
    r = run("arc-collect", "-j", "1", "--fail-fast", input=bad + tasks_for(
        env, tmp_path / "data", "--market", "spot", "--type", "klines", "--period", "daily"), env=env)
    assert r.status == 1, r
    assert r.records[0]["error"]["code"] == "checksum_mismatch"
    assert len(r.records) < 100


def test_without_checksum_url_stored_unverified_unless_required(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    task["checksum_url"] = None
    r = run("arc-collect", input=[task], env=env)
    assert r.status == 0 and r.records[0]["verified"] is False and r.records[0]["status"] == "ok"
    os.remove(task["dest"])
    strict = run("arc-collect", "--require-checksum", input=[dict(task, reason="forced")], env=env)
    assert strict.status == 1 and strict.records[0]["error"]["code"] == "checksum_missing"


def test_garbage_and_empty_input(mirror, env, tmp_path):
    assert run("arc-collect", input="", env=env).status == 0
    task = one_task(env, tmp_path)
    lines = ["{oops", json.dumps({"url": task["url"]}), json.dumps(dict(task, dest="ftp://b/k")), json.dumps(task)]
    r = run("arc-collect", input="\n".join(lines), env=env)
    assert r.status == 1, r
    assert [x["status"] for x in r.records] == ["ok"]
    warnings = [l for l in r.logs if l["level"] == "warn"]
    assert [w["line"] for w in warnings] == [1, 2, 3]
    assert 'field "dest"' in warnings[1]["msg"]
    strict = run("arc-collect", "--strict", input="\n".join(lines), env=env)
    assert strict.status == 2 and strict.records == []


def test_unwritable_state_database_exits_3(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run("arc-collect", "--state", str(blocker / "state.db"), input=[task], env=env)
    assert r.status == 3, r
    assert r.stdout == ""


def test_a_damaging_proxy_costs_retries_not_archives(mirror, env, tmp_path):
    """Behind a proxy that damages 30% of requests (5xx, 403 outage pages, resets, bodies cut
    short, stalls, slow bodies, flipped bytes) and flips a byte in the first GET of every zip,
    every archive ends stored and verified; only one corrupted upstream fails, after two
    downloads agreed on its wrong hash, and nothing unverified is left at a final name."""
    broken = "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-04.zip"
    damaged = bytearray(mirror.path(broken).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF                 # same size, other bytes; CHECKSUM unchanged
    mirror.path(broken).write_bytes(bytes(damaged))
    upstream_sha = sha256_file(mirror.path(broken))
    dest = tmp_path / "data"
    with FaultProxy(mirror.url, seed=3, rate=0.3, flip_first=".zip", stall=5) as proxy:
        e = dict(env, ARC_BINANCE_DOWNLOAD_URL=f"{proxy.url}/{BUCKET}")
        tasks = tasks_for(e, dest, "--market", "um") + tasks_for(e, dest, "--market", "cm")
        assert len(tasks) == 23 and all(t["url"].startswith(proxy.url) for t in tasks)
        # A generous budget: the broken archive needs three rounds (its flipped first copy,
        # then two that agree), each with its CHECKSUM, through 30% faults whose timing (slow
        # bodies against the stall timeout) varies with the machine's load; at --retries 8
        # its CHECKSUM's attempts ran out first, once in a loaded full run (server_error).
        r = run("arc-collect", "-j", "8", "--retries", "16", "--retry-delay", "10ms", "--stall-timeout", "1s",
                input=tasks, env=e, timeout=300)
    assert r.status == 1, r
    # Every kind of damage was done, and every zip's first copy was bad.
    assert set(proxy.applied) == set(KINDS), proxy.applied
    assert all(proxy.damaged(f"/{BUCKET}/{t['key']}")[:1] == ["flip"] for t in tasks)
    results = {x["key"]: x for x in r.records}
    assert len(results) == len(tasks)
    bad = results.pop(broken)
    assert bad["status"] == "failed" and bad["error"]["code"] == "checksum_mismatch", bad
    assert bad["sha256"] == upstream_sha and "two downloads" in bad["error"]["message"]
    assert not os.path.exists(bad["dest"])
    for x in results.values():
        assert x["status"] == "ok" and x["verified"], x
        assert x["sha256"] == expected_sha(mirror, x["key"]) == sha256_file(x["dest"])
    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == sorted(Path(x["dest"]).name for x in results.values())
    rows = ledger(env)
    assert rows[bad["dest"]]["status"] == "failed" and all(rows[x["dest"]]["status"] == "ok" for x in results.values())
    # Each refetch after a bad copy was said (warn); the one final failure is an error.
    refetches = [l for l in r.logs if l["level"] == "warn" and l["msg"].startswith("checksum mismatch")]
    assert len(refetches) >= len(tasks)
    assert [l["url"] for l in r.logs if l["level"] == "error"] == [bad["url"]]


def test_a_bad_copy_of_a_checksum_file_is_fetched_again(mirror, env, tmp_path):
    task = one_task(env, tmp_path)
    base = mirror.url.rsplit("/", 1)[0]
    # The first byte of the hash, changed: a bad CHECKSUM file or another hash, by the digit.
    with FaultProxy(mirror.url, rate=0, flip_first=".CHECKSUM", flip_at=0) as proxy:
        task = dict(task, url=task["url"].replace(base, proxy.url), checksum_url=task["checksum_url"].replace(base, proxy.url))
        r = run("arc-collect", input=[task], env=env)
    assert r.status == 0, r
    [res] = r.records
    assert res["status"] == "ok" and res["verified"] and res["sha256"] == expected_sha(mirror, KEY)
    assert proxy.requests[f"/{BUCKET}/{KEY}.CHECKSUM"] == 2


def test_final_failures_are_errors_and_retries_warnings(mirror, env, tmp_path):
    """`telem-log --level error` over a failed run's log finds every task that failed for
    good, and nothing else; retries that may still succeed are warnings."""
    import socket
    tasks = tasks_for(env, tmp_path / "data", "--market", "spot", "--type", "trades")
    wrong = next(t for t in tasks if t["date"] == "2024-01-02")          # CHECKSUM wrong upstream
    base = mirror.url.rsplit("/", 1)[0]
    missing = dict(tasks[0], url=tasks[0]["url"].replace(".zip", "-gone.zip"), dest=tasks[0]["dest"] + "-gone")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"                  # nothing listens: refused
        unreachable = dict(tasks[1], url=tasks[1]["url"].replace(base, dead),
                           checksum_url=tasks[1]["checksum_url"].replace(base, dead), dest=tasks[1]["dest"] + "-dead")
        r = run("arc-collect", "--retries", "3", "--retry-delay", "10ms", input=tasks + [missing, unreachable], env=env)
    assert r.status == 1, r
    failed = {x["url"]: x["error"]["code"] for x in r.records if x["status"] == "failed"}
    assert failed == {wrong["url"]: "checksum_mismatch", missing["url"]: "not_found",
                      unreachable["url"]: "connection_failed"}, r.records
    errors = [l for l in r.logs if l["level"] == "error"]
    assert sorted(l["url"] for l in errors) == sorted(failed) and all(l["code"] == failed[l["url"]] for l in errors)
    warnings = [l for l in r.logs if l["level"] == "warn"]
    # The unreachable archive and its CHECKSUM: attempts 1 and 2 of 3 failed, then the error.
    retried = sorted((l["url"], l["attempt"]) for l in warnings if l["url"] in (unreachable["url"], unreachable["checksum_url"]))
    assert retried == sorted((u, a) for u in (unreachable["url"], unreachable["checksum_url"]) for a in (1, 2))
    assert all(l["code"] == "connection_failed" and l["max_attempts"] == 3 for l in warnings if "attempt" in l)
    # The wrong CHECKSUM: fetched again once (a warning), then the same hash twice (the error).
    assert [l["url"] for l in warnings if l["msg"].startswith("checksum mismatch")] == [wrong["url"]]
    log = tmp_path / "collect.log"
    log.write_text(r.stderr)
    found = run("telem-log", "--level", "error", str(log), env=env)
    assert sorted(l["url"] for l in found.records) == sorted(failed)
