"""The work queue: arc-plan --queue fills it, arc-collect --queue workers drain it, arc-queue
shows and tends it, all against a real PostgreSQL (the session's `postgres` fixture, a
database per test) and the built binaries.

The chaos tests run 8 workers as separate processes over the bench mirror's 2,000 archives
and SIGKILL random ones as they go, restarting each (half under the same --worker name, as
a StatefulSet's pod comes back): every task must end done exactly once, every file and
object byte-identical to the mirror, no key stored twice.
"""
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest

from arcservers import postgres_bin
from conftest import BUCKET, Mirror, expected_sha, make_mirror, records, run, sha256_file, tool, wait_for
from faultproxy import FaultProxy

ETH = ["--market", "um", "--type", "klines", "--symbol", "ETHUSDT", "--period", "daily"]
# The last 93 days of a 550-day folder (the mirror's biggest: its listing pages).
BTC_DAILY = ["--market", "spot", "--type", "klines", "--symbol", "BTCUSDT", "--interval", "1m", "--period", "daily",
             "--since", "2023-09-01"]
XRP_TRADES = ["--market", "spot", "--type", "trades", "--symbol", "XRPUSDT"]
BENCH = ["--market", "um", "--type", "klines", "--interval", "1m", "--period", "daily"]


def psql(url, sql):
    r = subprocess.run([str(postgres_bin() / "psql"), "-XAt", "-F", "\t", url, "-c", sql], capture_output=True,
                       text=True, env={k: v for k, v in os.environ.items() if not k.startswith("PG")}, timeout=30)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines()]


@pytest.fixture
def qenv(postgres, env):
    """`env` with ARC_STATE naming a fresh database of its own on the session's server."""
    name = "q_" + uuid.uuid4().hex[:12]
    psql(postgres.url, f"CREATE DATABASE {name}")
    yield dict(env, ARC_STATE=postgres.url.rsplit("/", 1)[0] + "/" + name)
    psql(postgres.url, f"DROP DATABASE {name} WITH (FORCE)")


def tasks(env, queue):
    """queue_tasks rows of `queue` by identity: state, attempts, worker, error_code, error_message."""
    rows = psql(env["ARC_STATE"], "SELECT identity, state, attempts, worker, error_code, error_message "
                                  f"FROM queue_tasks WHERE queue = '{queue}'")
    return {r[0]: {"state": r[1], "attempts": int(r[2]), "worker": r[3] or None, "error_code": r[4] or None,
                   "error_message": r[5] or None} for r in rows}


def ledger(env):
    return {d: {"status": s, "sha256": h} for d, s, h in psql(env["ARC_STATE"], "SELECT dest, status, sha256 FROM ledger")}


def stats(env, *args):
    r = run("arc-queue", "stats", *args, env=env)
    assert r.status == 0, r
    return r.records


def plan_into(env, queue, dest, discover, *plan_args):
    d = run("arc-discover", "binance", *discover, env=env)
    assert d.status == 0, d
    p = run("arc-plan", "--dest", str(dest), "--queue", queue, *plan_args, input=d.stdout, env=env)
    assert p.status == 0, p
    assert p.stdout == "", "the tasks go into the queue, not to stdout"
    return d.records


class Worker:
    """arc-collect --queue as a background process, its stdout and stderr in files (a
    worker's output may be large; pipes would fill)."""

    def __init__(self, env, queue, directory, name, *args, worker=None):
        self.out = Path(directory) / f"{name}.out"
        self.err = Path(directory) / f"{name}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            command = [tool("arc-collect"), "--queue", queue, *(["--worker", worker] if worker else []), *args]
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)

    @property
    def pid(self):
        return self.proc.pid

    def wait(self, timeout=120):
        return self.proc.wait(timeout=timeout)

    def records(self, partial_ok=False):
        """Its result records; a killed worker's last line may be cut short."""
        out = []
        lines = self.out.read_text().splitlines()
        for n, line in enumerate(lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                assert partial_ok and n == len(lines) - 1, f"{self.out}: line {n + 1} is not JSON: {line!r}"
        return out

    def logs(self):
        return records(self.err.read_text())

    def __repr__(self):
        return f"<worker {self.out.name} exit {self.proc.returncode}\nstderr: {self.err.read_text()[-3000:]}>"


def check_result_shape(rec, queue):
    q = rec["queue"]
    assert set(q) == {"name", "id", "attempt", "settled"}, rec
    assert q["name"] == queue and isinstance(q["id"], int) and q["attempt"] >= 1, rec
    assert q["settled"] in ("done", "failed", "retry", "released", "lost"), rec


# --- draining a queue ------------------------------------------------------------------

def test_workers_drain_a_planned_queue_exactly_once(mirror, qenv, tmp_path):
    dest = tmp_path / "data"
    listing = plan_into(qenv, "spot", dest, BTC_DAILY)
    n = len(listing)
    assert n == 93, n
    [depth] = stats(qenv, "spot")
    assert depth == {"queue": "spot", "pending": n, "waiting": 0, "leased": 0, "expired": 0, "done": 0,
                     "failed": 0, "workers": 0}
    # The same listing again: one task each, the log says they were already queued.
    d = run("arc-discover", "binance", *BTC_DAILY, env=qenv)
    again = run("arc-plan", "--dest", str(dest), "--queue", "spot", input=d.stdout, env=qenv)
    assert again.status == 0 and again.stdout == "", again
    [summary] = [l for l in again.logs if l["msg"].startswith("queued ")]
    assert (summary["added"], summary["requeued"], summary["kept"]) == (0, 0, n), summary
    assert stats(qenv, "spot")[0]["pending"] == n
    assert psql(qenv["ARC_STATE"], "SELECT count(*) FROM queue_tasks") == [[str(n)]]

    workers = [Worker(qenv, "spot", tmp_path, f"w{n}", "-j", "4", "--batch", "4", worker=f"w{n}") for n in range(3)]
    for w in workers:
        assert w.wait() == 0, w
    results = [r for w in workers for r in w.records()]
    assert sorted(r["dest"] for r in results) == sorted(str(dest / a["key"]) for a in listing), \
        "every planned task done, none twice"
    for r in results:
        check_result_shape(r, "spot")
        assert r["status"] == "ok" and r["verified"], r
        assert (r["queue"]["attempt"], r["queue"]["settled"]) == (1, "done"), r
        assert sha256_file(r["dest"]) == expected_sha(mirror, r["key"]) == r["sha256"]
    assert len({r["queue"]["id"] for r in results}) == n
    assert sum(len(w.records()) > 0 for w in workers) >= 2, "the workers shared the queue"

    held = ledger(qenv)
    assert len(held) == n and all(held[r["dest"]] == {"status": "ok", "sha256": r["sha256"]} for r in results)
    assert {(t["state"], t["attempts"]) for t in tasks(qenv, "spot").values()} == {("done", 1)}
    # The ledger has them all: planning again plans nothing, so nothing is queued.
    d = run("arc-discover", "binance", *BTC_DAILY, env=qenv)
    p = run("arc-plan", "--dest", str(dest), input=d.stdout, env=qenv)
    assert p.status == 0 and p.records == [], p

    [depth] = stats(qenv, "spot")
    assert (depth["pending"], depth["leased"], depth["done"], depth["failed"], depth["workers"]) == (0, 0, n, 0, 0)
    by_worker = {w["worker"]: w for w in stats(qenv, "--workers", "spot")}
    assert set(by_worker) == {"w0", "w1", "w2"}
    assert sum(w["done"] for w in by_worker.values()) == n
    assert sum(w["claimed"] for w in by_worker.values()) == n
    for w in by_worker.values():
        assert w["alive"] is False and w["stopped_at"] and w["leased"] == 0, w
    waited = run("arc-queue", "wait", "spot", env=qenv)
    assert waited.status == 0 and waited.records[0]["done"] == n, waited
    # A worker on a drained queue ends at once, with nothing to do.
    late = run("arc-collect", "--queue", "spot", env=qenv, timeout=30)
    assert late.status == 0 and late.stdout == "", late


# --- exit statuses ---------------------------------------------------------------------

def test_tasks_that_fail_for_good_are_failed_in_the_queue_exit_1(mirror, qenv, tmp_path):
    dest = tmp_path / "data"
    listing = plan_into(qenv, "xrp", dest, XRP_TRADES)
    assert len(listing) == 3
    # A 404: an archive the mirror does not have, pushed by hand.
    missing = {"url": listing[0]["url"].rsplit("/", 1)[0] + "/XRPUSDT-trades-2030-01-01.zip",
               "dest": str(dest / "missing.zip"), "key": "missing"}
    pushed = run("arc-queue", "push", "xrp", input=[missing], env=qenv)
    assert pushed.status == 0, pushed

    w = Worker(qenv, "xrp", tmp_path, "w", "--retries", "2", "--retry-delay", "10ms")
    assert w.wait() == 1, w
    by_key = {r["key"]: r for r in w.records()}
    bad = "data/spot/daily/trades/XRPUSDT/XRPUSDT-trades-2024-01-02.zip"
    assert by_key[bad]["error"]["code"] == "checksum_mismatch" and by_key[bad]["queue"]["settled"] == "failed"
    assert by_key["missing"]["error"]["code"] == "not_found" and by_key["missing"]["queue"]["settled"] == "failed"
    rows = tasks(qenv, "xrp")
    assert rows[str(dest / bad)]["state"] == "failed" and rows[str(dest / bad)]["error_code"] == "checksum_mismatch"
    assert "does not match CHECKSUM" in rows[str(dest / bad)]["error_message"]
    assert rows[str(dest / "missing.zip")]["state"] == "failed" and rows[str(dest / "missing.zip")]["error_code"] == "not_found"
    assert sorted(t["state"] for t in rows.values()) == ["done", "done", "failed", "failed"]
    assert not (dest / bad).exists() and not (dest / "missing.zip").exists()

    waited = run("arc-queue", "wait", "xrp", env=qenv)
    assert waited.status == 1 and waited.records[0]["failed"] == 2, waited
    retried = run("arc-queue", "retry", "xrp", env=qenv)
    assert retried.status == 0 and retried.records == [{"queue": "xrp", "retried": 2}], retried
    rows = tasks(qenv, "xrp")
    assert sorted((t["state"], t["attempts"]) for t in rows.values()) == [("done", 1), ("done", 1), ("pending", 0), ("pending", 0)]
    assert stats(qenv, "xrp")[0]["pending"] == 2
    # They fail again, the same way: still exit 1.
    again = Worker(qenv, "xrp", tmp_path, "again", "--retries", "2", "--retry-delay", "10ms")
    assert again.wait() == 1, again
    assert sorted(r["error"]["code"] for r in again.records()) == ["checksum_mismatch", "not_found"]


@pytest.mark.parametrize("args,message", [
    (["--queue", "q", "tasks.ndjson"], "--queue takes its tasks from the queue: no FILE arguments"),
    (["--queue", "q", "--dry-run"], "--queue and --dry-run: a dry run would claim tasks it does not do"),
    (["--follow"], "--follow needs --queue NAME"),
    (["--queue", "no spaces"], "--queue: 'no spaces' is not a queue name (1 to 64 of A-Z a-z 0-9 . _ -)"),
    (["--queue", "q", "--lease", "500ms"], "--lease: at least 1s (it is renewed every third of it)"),
])
def test_queue_usage_errors_are_exit_2_in_one_line(args, message, qenv):
    r = run("arc-collect", *args, env=qenv)
    assert r.status == 2, r
    assert [l["msg"] for l in r.logs] == [message], r


def test_a_queue_needs_postgres_and_a_dead_one_is_exit_3(env, tmp_path):
    # Without --queue, the queue options' defaults are no usage error (they once were).
    plain = run("arc-collect", "-j", "2", input="", env=env)
    assert plain.status == 0, plain
    # env's ARC_STATE is a SQLite file.
    for name, args in [("arc-collect", ["--queue", "q"]), ("arc-plan", ["--dest", str(tmp_path), "--queue", "q"])]:
        r = run(name, *args, env=env)
        assert r.status == 2, r
        assert len(r.stderr.splitlines()) == 1 and "--queue needs a PostgreSQL state" in r.stderr, r
    r = run("arc-queue", "stats", env=env)
    assert r.status == 2 and len(r.stderr.splitlines()) == 1 and "PostgreSQL" in r.stderr, r
    dead = dict(env, ARC_STATE="postgres://arc:s3cret@127.0.0.1:1/arc")
    for name, args in [("arc-collect", ["--queue", "q"]), ("arc-queue", ["stats"]), ("arc-queue", ["wait", "q"]),
                       ("arc-plan", ["--dest", str(tmp_path), "--queue", "q"])]:
        r = run(name, *args, env=dead, timeout=60)
        assert r.status == 3, (name, r)
        assert len(r.stderr.splitlines()) == 1 and "Connection refused" in r.stderr, r
        assert "s3cret" not in r.stderr


# --- chaos: workers killed and restarted -----------------------------------------------

@pytest.fixture(scope="module")
def bench_mirror(tmp_path_factory):
    """The bench preset's 2,000 um 1m klines archives (240 rows, about 15 KB each, so a
    kill often lands mid-download), served."""
    m = Mirror(tmp_path_factory.mktemp("bench") / "mirror")
    make_mirror(m.root, "--preset", "bench", "--rows", "240")
    m.start()
    yield m
    m.stop()


def chaos(env, queue, directory, workers=8, seed=14, collect_args=()):
    """Runs `workers` queue workers, SIGKILLing a random one every 0.3-1 s and starting it
    again (even slots under the same --worker name, odd ones under a new one) until the
    queue has nothing left to claim; then lets the last ones drain it. Returns every
    worker process (killed ones included) and the kill count."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    everyone, slots, generation = [], {}, Counter()
    args = ["-j", "4", "--batch", "4", "--lease", "2s", "--max-attempts", "50", *collect_args]

    def start(slot):
        generation[slot] += 1
        name = f"w{slot}" if slot % 2 == 0 else f"w{slot}-{generation[slot]}"
        w = Worker(env, queue, directory, f"w{slot}-{generation[slot]}", *args, worker=name)
        w.killed = False
        everyone.append(w)
        slots[slot] = w

    for slot in range(workers):
        start(slot)
    kills = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(0.3, 1.0))
        open_tasks = int(psql(env["ARC_STATE"], f"SELECT count(*) FROM queue_tasks WHERE queue = '{queue}' "
                                                "AND state = 'pending'")[0][0])
        if open_tasks == 0:
            break
        alive = [s for s, w in slots.items() if w.proc.poll() is None]
        if not alive:
            break
        victim = slots[rng.choice(alive)]
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        victim.killed = True
        kills += 1
        start(next(s for s, w in slots.items() if w is victim))
    for w in everyone:
        status = w.wait(timeout=max(10, deadline - time.monotonic()))
        assert status == (-signal.SIGKILL if w.killed else 0), w
    return everyone, kills


def check_chaos(env, queue, everyone, planned, stored_bytes):
    """Done exactly once, nothing held, each key stored once, the ledger whole; `stored_bytes`
    reads what is at a dest."""
    rows = tasks(env, queue)
    assert len(rows) == len(planned)
    states = Counter(t["state"] for t in rows.values())
    assert states == {"done": len(planned)}, states
    assert psql(env["ARC_STATE"], "SELECT count(*) FROM queue_tasks WHERE lease_until IS NOT NULL") == [["0"]]
    # Each completion counts for the worker that made it, in its transaction: a task
    # completed twice would count twice.
    assert psql(env["ARC_STATE"], f"SELECT sum(done), sum(failed) FROM queue_workers WHERE queue = '{queue}'") == \
        [[str(len(planned)), "0"]]

    results = [r for w in everyone for r in w.records(partial_ok=w.killed)]
    ok = Counter(r["key"] for r in results if r["status"] == "ok")
    assert max(ok.values()) == 1, [k for k, n in ok.items() if n > 1][:5]
    done = Counter(r["key"] for r in results if r["queue"]["settled"] == "done")
    assert max(done.values()) == 1, [k for k, n in done.items() if n > 1][:5]
    for r in results:
        check_result_shape(r, queue)
        if r["status"] in ("ok", "skipped"):
            assert r["queue"]["settled"] in ("done", "lost"), r
        else:
            assert r["error"]["code"] in ("interrupted", "lease_lost") or r["queue"]["settled"] == "retry", r
    assert sum(1 for r in results if r["queue"]["settled"] == "done") >= 0.9 * len(planned), \
        "most results are written (only a kill between commit and write loses one)"

    held = ledger(env)
    assert len(held) == len(planned)
    for a in planned:
        want = a["checksum"]
        assert held[a["dest"]] == {"status": "ok", "sha256": want}, a["dest"]
        assert hashlib.sha256(stored_bytes(a["dest"])).hexdigest() == want, a["dest"]
    return results


def planned_tasks(env, queue, mirror):
    """The queue's tasks with the mirror's SHA-256 of each."""
    out = []
    for (record,) in psql(env["ARC_STATE"], f"SELECT task FROM queue_tasks WHERE queue = '{queue}'"):
        t = json.loads(record)
        t["checksum"] = expected_sha(mirror, t["key"])
        out.append(t)
    return out


def test_chaos_killed_workers_lose_nothing_and_store_nothing_twice(bench_mirror, qenv, tmp_path):
    env = dict(qenv, ARC_BINANCE_LIST_URL=bench_mirror.url, ARC_BINANCE_DOWNLOAD_URL=bench_mirror.url)
    dest = tmp_path / "lake"
    assert len(plan_into(env, "chaos", dest, BENCH)) == 2000
    planned = planned_tasks(env, "chaos", bench_mirror)
    started = time.monotonic()
    everyone, kills = chaos(env, "chaos", tmp_path / "workers")
    took = time.monotonic() - started
    print(f"chaos: 2000 archives, 8 workers, {kills} kills, {len(everyone)} processes, {took:.1f} s")
    assert kills >= 5, "the run was long enough to kill workers while it ran"
    results = check_chaos(env, "chaos", everyone, planned, lambda d: Path(d).read_bytes())
    # Nothing half-written is left, and nothing but the archives.
    leftovers = [p for p in dest.rglob("*") if p.is_file() and not p.name.endswith(".zip")]
    assert leftovers == [], leftovers[:5]
    assert sum(1 for p in dest.rglob("*.zip")) == 2000
    # Tasks orphaned by a kill came back and were claimed again.
    assert psql(env["ARC_STATE"], "SELECT count(*) > 0 FROM queue_tasks WHERE attempts > 1") == [["t"]]
    print(f"chaos: {Counter((r['status'], r['queue']['settled']) for r in results)}")


def test_chaos_into_s3(bench_mirror, qenv, tmp_path, s3env, bucket, seaweed):
    env = dict(qenv, ARC_BINANCE_LIST_URL=bench_mirror.url, ARC_BINANCE_DOWNLOAD_URL=bench_mirror.url)
    env.update({k: v for k, v in s3env.items() if k.startswith("AWS_") or k == "HOME"})
    assert len(plan_into(env, "chaos-s3", f"s3://{bucket}/bronze", BENCH)) == 2000
    planned = planned_tasks(env, "chaos-s3", bench_mirror)
    s3 = seaweed.client()
    started = time.monotonic()
    everyone, kills = chaos(env, "chaos-s3", tmp_path / "workers", seed=7)
    print(f"chaos into S3: 2000 archives, 8 workers, {kills} kills, {time.monotonic() - started:.1f} s")
    assert kills >= 5
    check_chaos(env, "chaos-s3", everyone, planned, lambda d: s3.get(bucket, d[len(f"s3://{bucket}/"):]))
    assert len(s3.keys(bucket, "bronze/")) == 2000
    assert s3.uploads(bucket) == [], "no multipart upload left open"


# --- a worker cut off ------------------------------------------------------------------

class SlowProxy(FaultProxy):
    """Every archive comes slowly (8 pieces, 25 ms apart): a worker holds its tasks long
    enough to be stopped with them."""

    def __init__(self, upstream):
        super().__init__(upstream, rate=1.0, kinds=("slow",))


def test_a_worker_cut_off_longer_than_its_lease_stores_and_settles_nothing(mirror, qenv, tmp_path):
    with SlowProxy(mirror.url) as proxy:
        env = dict(qenv, ARC_BINANCE_DOWNLOAD_URL=f"{proxy.url}/{BUCKET}")
        dest = tmp_path / "data"
        listing = plan_into(env, "cut", dest, ETH)
        cut = Worker(env, "cut", tmp_path, "cut", "-j", "4", "--batch", "4", "--lease", "2s", worker="cut")
        wait_for(lambda: tasks(env, "cut") and sum(t["worker"] == "cut" and t["state"] == "leased"
                                                     for t in tasks(env, "cut").values()) >= 3, "the worker to hold tasks")
        cut.proc.send_signal(signal.SIGSTOP)
        held = {d for d, t in tasks(env, "cut").items() if t["worker"] == "cut" and t["state"] == "leased"}
        stopped_at = time.monotonic()
        try:
            # Silent past its lease: its tasks show as expired, and it no longer counts as a worker.
            late = wait_for(lambda: [d for d in stats(env, "cut") if d["expired"] == len(held)], "its leases to run out")
            assert late[0]["leased"] == len(held) and late[0]["workers"] == 0, late
            # The others take its tasks, and finish the queue.
            other = Worker(env, "cut", tmp_path, "other", "-j", "8", "--lease", "2s", worker="other")
            assert other.wait(timeout=60) == 0, other
            assert time.monotonic() - stopped_at > 2
            rows = tasks(env, "cut")
            assert all(rows[d]["state"] == "done" and rows[d]["worker"] == "other" for d in held), rows
            inodes = {d: os.stat(d).st_ino for d in held}
            contents = {d: sha256_file(d) for d in held}
        finally:
            cut.proc.send_signal(signal.SIGCONT)
        status = cut.wait(timeout=60)
    assert status == 0, cut
    mine = [r for r in cut.records() if r["dest"] in held]
    for r in mine:
        assert r["queue"]["settled"] == "lost", r
        assert r["status"] == "failed" and r["error"]["code"] == "lease_lost", \
            f"a worker that lost its lease stored {r['dest']}: {r}"
    # What it held is as the other worker stored it: not replaced, not rewritten.
    for d in held:
        assert os.stat(d).st_ino == inodes[d], f"{d} was replaced after the other worker stored it"
        assert sha256_file(d) == contents[d]
    rows = tasks(env, "cut")
    assert {t["state"] for t in rows.values()} == {"done"}
    assert all(rows[d]["worker"] == "other" for d in held)
    done = Counter(r["dest"] for w in (cut, other) for r in w.records() if r["queue"]["settled"] == "done")
    assert sorted(done) == sorted(str(dest / a["key"]) for a in listing) and set(done.values()) == {1}
    assert ledger(env) and all(v["status"] == "ok" for v in ledger(env).values())


# --- --follow and SIGTERM --------------------------------------------------------------

class StallProxy(FaultProxy):
    """Every answer with a body stalls after a third of it, for a long time."""

    def __init__(self, upstream):
        super().__init__(upstream, rate=1.0, kinds=("stall",), stall=60)


def test_follow_waits_for_tasks_and_sigterm_gives_back_what_it_holds(mirror, qenv, tmp_path):
    w = Worker(qenv, "follow", tmp_path, "follow", "--follow", "--lease", "3s", "-j", "4", worker="f1")
    # Nothing queued yet: it waits, alive.
    wait_for(lambda: [x for x in stats(qenv, "--workers", "follow") if x["alive"]], "the worker to register")
    time.sleep(1)
    assert w.proc.poll() is None, w
    listing = plan_into(qenv, "follow", tmp_path / "data", ETH)
    wait_for(lambda: stats(qenv, "follow")[0]["done"] == len(listing), "the follower to do the new tasks", timeout=60)
    assert w.proc.poll() is None, "still following after the drain"

    # Tasks it will hold, stalled, when SIGTERM comes.
    with StallProxy(mirror.url) as proxy:
        env = dict(qenv, ARC_BINANCE_DOWNLOAD_URL=f"{proxy.url}/{BUCKET}")
        stalled = plan_into(env, "follow", tmp_path / "more", XRP_TRADES)
        wait_for(lambda: sum(t["state"] == "leased" for t in tasks(qenv, "follow").values()) == len(stalled),
                 "the follower to hold the stalled tasks")
        wait_for(lambda: proxy.applied["stall"] >= 1, "a transfer to stall")
        w.proc.send_signal(signal.SIGTERM)
        assert w.wait(timeout=30) == 143, w
    rows = tasks(qenv, "follow")
    back = [t for t in rows.values() if t["state"] != "done"]
    assert len(back) == len(stalled)
    assert {(t["state"], t["attempts"]) for t in back} == {("pending", 0)}, \
        "given back at once, the claim not counted as an attempt"
    results = w.records()
    released = [r for r in results if r["queue"]["settled"] == "released"]
    assert len(released) == len(stalled) and all(r["error"]["code"] == "interrupted" for r in released), results
    [me] = stats(qenv, "--workers", "follow")
    assert me["alive"] is False and me["stopped_at"] and me["leased"] == 0, me


# --- a failure for now -----------------------------------------------------------------

class FlakyKeys(FaultProxy):
    """Answers 5xx for the paths in `failing`; everything else passes."""

    def __init__(self, upstream):
        super().__init__(upstream, rate=0.0)
        self.failing = set()

    def _decide(self, method, path):
        n, _ = super()._decide(method, path)
        return n, ("5xx" if path in self.failing else None)


def test_a_failure_for_now_goes_back_to_the_queue_and_is_done_later(mirror, qenv, tmp_path):
    """One archive answers 500s for a while, another for good: both go back to the queue
    (settled retry, waiting out the 5 s backoff); the first is done at its second claim,
    the second fails for good at --max-attempts."""
    mended = "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-03.zip"
    broken = "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-04.zip"
    with FlakyKeys(mirror.url) as proxy:
        env = dict(qenv, ARC_BINANCE_DOWNLOAD_URL=f"{proxy.url}/{BUCKET}")
        dest = tmp_path / "data"
        listing = plan_into(env, "flaky", dest, ETH)
        path = {a["key"]: "/" + a["url"].split("/", 3)[3] for a in listing}
        proxy.failing = {path[mended], path[broken]}
        w = Worker(env, "flaky", tmp_path, "w", "--retries", "2", "--retry-delay", "10ms", "--max-attempts", "2",
                   worker="w")
        first = wait_for(lambda: all(tasks(env, "flaky")[str(dest / k)]["error_code"] for k in (mended, broken))
                         and tasks(env, "flaky"), "the flaky tasks to fail for now", timeout=60)
        for k in (mended, broken):
            t = first[str(dest / k)]
            assert (t["state"], t["error_code"], t["attempts"]) == ("pending", "server_error", 1), t
        assert stats(env, "flaky")[0]["waiting"] == 2
        proxy.failing = {path[broken]}
        assert w.wait(timeout=60) == 1, w
    results = w.records()
    mine = [r for r in results if r["key"] == mended]
    assert [(r["status"], r["queue"]["attempt"], r["queue"]["settled"]) for r in mine] == \
        [("failed", 1, "retry"), ("ok", 2, "done")], mine
    assert mine[0]["error"]["code"] == "server_error"
    lost = [r for r in results if r["key"] == broken]
    assert [(r["status"], r["queue"]["attempt"], r["queue"]["settled"]) for r in lost] == \
        [("failed", 1, "retry"), ("failed", 2, "failed")], lost
    rows = tasks(env, "flaky")
    row = rows[str(dest / mended)]
    assert (row["state"], row["attempts"], row["error_code"]) == ("done", 2, None), row
    row = rows[str(dest / broken)]
    assert (row["state"], row["attempts"], row["error_code"]) == ("failed", 2, "server_error"), row
    assert sha256_file(dest / mended) == expected_sha(mirror, mended)
    assert not (dest / broken).exists()
    assert sum(l["msg"].startswith("failed for now, back in the queue") for l in w.logs()) == 2
    summary = [l for l in w.logs() if "requeued" in l]
    assert summary and (summary[-1]["requeued"], summary[-1]["failed"], summary[-1]["ok"]) == (2, 1, len(listing) - 1)


# --- arc-queue -------------------------------------------------------------------------

def test_stats_shapes_and_metrics_pass_promtool(mirror, qenv, tmp_path):
    plan_into(qenv, "one", tmp_path / "a", ETH)
    plan_into(qenv, "two", tmp_path / "b", XRP_TRADES)
    w = Worker(qenv, "one", tmp_path, "w", worker="host-a:1")
    assert w.wait() == 0, w
    both = stats(qenv)
    assert [s["queue"] for s in both] == ["one", "two"]
    for s in both:
        assert list(s) == ["queue", "pending", "waiting", "leased", "expired", "done", "failed", "workers"], s
    assert (both[0]["done"], both[1]["pending"]) == (9, 3)
    [worker] = stats(qenv, "--workers")
    assert list(worker) == ["queue", "worker", "host", "pid", "started_at", "seen_at", "stopped_at", "alive",
                            "leased", "claimed", "done", "failed"], worker
    assert worker["worker"] == "host-a:1" and worker["pid"] == w.pid and worker["done"] == 9
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", worker["started_at"]), worker
    assert stats(qenv, "--workers", "two") == []
    assert stats(qenv, "nothing-here") == [{"queue": "nothing-here", "pending": 0, "waiting": 0, "leased": 0,
                                            "expired": 0, "done": 0, "failed": 0, "workers": 0}]

    # A live worker, for the per-worker series: one following an empty queue.
    follower = Worker(qenv, "two-more", tmp_path, "f", "--follow", worker='odd "name"\\x')
    try:
        wait_for(lambda: [x for x in stats(qenv, "--workers", "two-more") if x["alive"]], "the follower")
        m = run("arc-queue", "metrics", env=qenv)
        assert m.status == 0, m
        check = subprocess.run(["promtool", "check", "metrics"], input=m.stdout, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr + m.stdout
        assert 'arc_queue_tasks{queue="one",state="done"} 9\n' in m.stdout
        assert 'arc_queue_tasks{queue="two",state="pending"} 3\n' in m.stdout
        assert 'arc_queue_workers{queue="two-more"} 1\n' in m.stdout
        assert 'worker="odd \\"name\\"\\\\x"' in m.stdout, m.stdout
        only = run("arc-queue", "metrics", "two", env=qenv)
        assert only.status == 0 and 'queue="one"' not in only.stdout and 'queue="two"' in only.stdout, only
    finally:
        follower.proc.send_signal(signal.SIGTERM)
        assert follower.wait(timeout=30) == 143, follower


def test_metrics_listen_serves_and_stops_on_sigterm(qenv, tmp_path):
    assert run("arc-queue", "push", "served", input=[{"dest": "/x/1", "url": "http://127.0.0.1:9/1"}], env=qenv).status == 0
    err = open(tmp_path / "serve.err", "w+")
    proc = subprocess.Popen([tool("arc-queue"), "metrics", "--listen", "127.0.0.1:0"], stdout=subprocess.DEVNULL,
                            stderr=err, env=qenv)
    try:
        def address():
            err.seek(0)
            for line in err.read().splitlines():
                rec = json.loads(line)
                if rec.get("address"):
                    return rec["address"]
        where = wait_for(address, "the serving log line", timeout=30)
        assert re.fullmatch(r"127\.0\.0\.1:\d+", where) and not where.endswith(":0"), where
        with urllib.request.urlopen(f"http://{where}/metrics", timeout=10) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            body = r.read().decode()
        assert 'arc_queue_tasks{queue="served",state="pending"} 1\n' in body
        assert subprocess.run(["promtool", "check", "metrics"], input=body, text=True).returncode == 0
        # Read afresh on every scrape.
        assert run("arc-queue", "push", "served", input=[{"dest": "/x/2", "url": "http://127.0.0.1:9/2"}],
                   env=qenv).status == 0
        with urllib.request.urlopen(f"http://{where}/metrics", timeout=10) as r:
            assert 'arc_queue_tasks{queue="served",state="pending"} 2\n' in r.read().decode()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://{where}/other", timeout=10)
        assert e.value.code == 404
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()


def test_push_with_an_identity_field(qenv, tmp_path):
    rows = [{"id": "a", "url": "http://127.0.0.1:9/a", "dest": "/x/a"},
            {"id": "b", "url": "http://127.0.0.1:9/b", "dest": "/x/a"},   # same dest, other identity
            {"id": "a", "url": "http://127.0.0.1:9/a2", "dest": "/x/a2"}]  # same identity: one task
    r = run("arc-queue", "push", "--identity", "id", "ids", input=rows, env=qenv)
    assert r.status == 0 and r.stdout == "", r
    [log] = [l for l in r.logs if l["msg"].startswith("pushed ")]
    assert (log["added"], log["requeued"], log["kept"], log["bad_lines"]) == (2, 0, 1, 0), log
    held = tasks(qenv, "ids")
    assert set(held) == {"a", "b"}
    task = json.loads(psql(qenv["ARC_STATE"], "SELECT task FROM queue_tasks WHERE identity = 'a'")[0][0])
    assert task["url"] == "http://127.0.0.1:9/a2", "the last record of an identity in one push wins"
    # A line that is not a record, or lacks the field: reported and skipped, exit 1.
    bad = run("arc-queue", "push", "--identity", "id", "ids", input='{"id": "c", "dest": "/x/c"}\nnot json\n{"dest": "/x/d"}\n',
              env=qenv)
    assert bad.status == 1, bad
    assert set(tasks(qenv, "ids")) == {"a", "b", "c"}
    assert stats(qenv, "ids")[0]["pending"] == 3
    # Pushing from a file, with the default identity (dest).
    f = tmp_path / "t.ndjson"
    f.write_text(json.dumps({"url": "http://127.0.0.1:9/z", "dest": "/x/z"}) + "\n")
    r = run("arc-queue", "push", "bydest", str(f), env=qenv)
    assert r.status == 0 and set(tasks(qenv, "bydest")) == {"/x/z"}, r
    assert run("arc-queue", "push", env=qenv).status == 2
    # Open tasks and no worker: wait gives up after --timeout with exit 3, its record written.
    waited = run("arc-queue", "wait", "--timeout", "300ms", "ids", env=qenv)
    assert waited.status == 3 and waited.records[0]["pending"] == 3, waited


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["metrics", "--listen", "nowhere"], ["stats", "bad name"],
                                  ["retry"], ["wait"]])
def test_arc_queue_usage_errors_are_exit_2(args, qenv):
    r = run("arc-queue", *args, env=qenv)
    assert r.status == 2, r
    assert len(r.stderr.splitlines()) == 1, r
