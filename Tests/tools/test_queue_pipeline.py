"""The work queue through the whole pipeline: arc-convert --queue converters draining a queue
of arc-collect's results (arc-queue push), and examples/queue-fanout.toml, where wf-run
fans one listing out to four collectors and two converters and waits for both queues to
drain. A real PostgreSQL (the session's `postgres` fixture, a database per test)."""
import os
import signal
import subprocess
import time
import uuid

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, expected_sha, records, run, sha256_file, tool
from test_postgres_state import psql

EXAMPLES = ROOT / "examples"


@pytest.fixture
def pgenv(postgres, env, tmp_path):
    name = "q_" + uuid.uuid4().hex[:12]
    psql(postgres.url, f"CREATE DATABASE {name}")
    yield dict(env, ARC_STATE=postgres.url.rsplit("/", 1)[0] + "/" + name)
    psql(postgres.url, f"DROP DATABASE {name} WITH (FORCE)")


def queue_rows(env, queue):
    return psql(env["ARC_STATE"], f"SELECT identity, state, attempts, coalesce(error_code, '') FROM queue_tasks "
                                  f"WHERE queue = '{queue}' ORDER BY identity")


def collected(env, dest, *filters, status=0):
    """The archives of `filters`, collected through the queue `bronze` by one worker."""
    listing = run("arc-discover", "binance", *filters, env=env)
    assert listing.status == 0, listing
    plan = run("arc-plan", "--dest", str(dest), "--queue", "bronze", input=listing.stdout, env=env)
    assert plan.status == 0 and plan.stdout == "", plan
    got = run("arc-collect", "--queue", "bronze", "-j", "8", env=env)
    assert got.status == status, got
    return got


def test_converters_drain_a_queue_of_collected_archives_once_each(mirror, pgenv, tmp_path):
    got = collected(pgenv, tmp_path / "bronze", "--market", "spot", "--type", "klines")
    ok = [r for r in got.records if r["status"] == "ok"]
    assert len(ok) > 10
    push = run("arc-queue", "push", "silver", input="".join(l + "\n" for l in got.stdout.splitlines()), env=pgenv)
    assert push.status == 0, push
    # A record that is no archive fails for good, with its error; it is no one's to retry.
    bad = run("arc-queue", "push", "--identity", "key", "silver", input='{"key": "junk", "dest": 7}\n', env=pgenv)
    assert bad.status == 0, bad

    silver = tmp_path / "silver"
    # Into files: a worker blocked on a full pipe would hold its leases, and the other wait.
    outs = [(tmp_path / f"convert-{n}.ndjson", tmp_path / f"convert-{n}.log") for n in range(2)]
    workers = [subprocess.Popen([tool("arc-convert"), "--queue", "silver", "--dest", str(silver), "-j", "2", "--batch", "2"],
                                env=pgenv, stdout=open(out, "w"), stderr=open(log, "w")) for out, log in outs]
    for w in workers:
        w.wait(timeout=120)
    assert sorted(w.returncode for w in workers) == [0, 1], [log.read_text()[-2000:] for _, log in outs]  # the bad record's
    results = [r for out, _ in outs for r in records(out.read_text())]
    assert all(r["queue"]["settled"] == "done" for r in results)
    # Failed downloads' results pass through (done), as on stdin; the others are converted.
    assert sorted(r["key"] for r in results if "silver" not in r) == sorted(r["key"] for r in got.records if r["status"] != "ok")
    converted = [r for r in results if "silver" in r]
    assert sorted(r["key"] for r in converted) == sorted(r["key"] for r in ok)  # each once, none left out
    for r in converted:
        table = pq.read_table(r["silver"]["dest"])
        assert table.num_rows == r["silver"]["rows"] == r["check"]["rows"] > 0
    states = {identity: (state, code) for identity, state, _, code in queue_rows(pgenv, "silver")}
    assert states.pop("junk") == ("failed", "bad_record")
    assert set(states.values()) == {("done", "")}

    # Done is done: a worker finds nothing; pushed again (a republished day would be), the
    # archives are pending again and the silver ledger makes them reuses, not conversions.
    again = run("arc-convert", "--queue", "silver", "--dest", str(silver), env=pgenv)
    assert again.status == 0 and again.stdout == "", again
    run("arc-queue", "push", "silver", input="".join(l + "\n" for l in got.stdout.splitlines()), env=pgenv)
    reuse = run("arc-convert", "--queue", "silver", "--dest", str(silver), env=pgenv)
    assert reuse.status == 0 and all(r["silver"].get("reused") for r in reuse.records if r.get("silver")), reuse


def test_a_converter_killed_mid_queue_leaves_its_archives_to_the_next(mirror, pgenv, tmp_path):
    got = collected(pgenv, tmp_path / "bronze", "--market", "spot", status=1)  # a bad CHECKSUM, a 404
    ok = sorted(r["key"] for r in got.records if r["status"] == "ok")
    run("arc-queue", "push", "silver", input="".join(l + "\n" for l in got.stdout.splitlines() if '"status":"ok"' in l),
        env=pgenv)
    silver = tmp_path / "silver"
    first = subprocess.Popen([tool("arc-convert"), "--queue", "silver", "--dest", str(silver), "--lease", "2s",
                              "--batch", "4"], env=pgenv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it once it has settled some archives
        done = [r for r in queue_rows(pgenv, "silver") if r[1] == "done"]
        if len(done) >= 5:
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    second = run("arc-convert", "--queue", "silver", "--dest", str(silver), "--lease", "2s", env=pgenv, timeout=120)
    assert second.status == 0, second
    rows = queue_rows(pgenv, "silver")
    assert [r[1] for r in rows] == ["done"] * len(ok)
    files = sorted(silver.rglob("*.parquet"))
    assert len(files) == len(ok) and all(pq.read_table(f).num_rows > 0 for f in files)
    assert not [p for p in silver.rglob("*") if p.is_file() and not p.name.endswith(".parquet")]  # no temporaries


def test_queue_fanout_workflow_collects_and_converts_everything_once(mirror, pgenv, tmp_path):
    """examples/queue-fanout.toml: enqueue, four collectors, two converters, the report."""
    env = dict(pgenv, PATH=f"{os.path.dirname(tool('arc-plan'))}:{os.environ['PATH']}")
    dest, silver = tmp_path / "data", tmp_path / "silver"
    flow = str(EXAMPLES / "queue-fanout.toml")
    r = run("wf-run", "--state", str(tmp_path / "wf" / "state.db"), "run", flow, "-p", f"dest={dest}", "-p", f"silver={silver}",
            "-p", "filters=--market um", "-p", "jobs=4", "-p", "queue=fan", env=env, timeout=300)
    assert r.status == 0, r
    ok = sorted(x["step"] for x in r.records if x["event"] == "step_succeeded")
    assert ok == sorted(["enqueue", "collect-1", "collect-2", "collect-3", "collect-4", "convert-1", "convert-2", "report"])
    run_dir = tmp_path / "wf" / "runs" / "queue-fanout" / r.records[0]["run_id"] / "steps"
    results = [x for n in range(1, 5) for x in records((run_dir / f"collect-{n}" / "results.ndjson").read_text())]
    listing = run("arc-discover", "binance", "--market", "um", env=env)
    assert sorted(x["key"] for x in results) == sorted(x["key"] for x in listing.records)  # each once, none left out
    for x in results:
        assert x["status"] == "ok" and sha256_file(x["dest"]) == expected_sha(mirror, x["key"])
    converted = [x for n in (1, 2) for x in records((run_dir / f"convert-{n}" / "silver.ndjson").read_text())]
    assert sorted(x["key"] for x in converted) == sorted(x["key"] for x in results)
    report = records((run_dir / "report" / "queues.ndjson").read_text())
    assert [(q["queue"], q["pending"], q["leased"], q["failed"]) for q in report] == [("fan", 0, 0, 0), ("fan-silver", 0, 0, 0)]
    assert report[0]["done"] == len(results) and report[1]["done"] == len(converted)
