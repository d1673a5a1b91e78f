"""ARC_STATE=postgres://...: arc-discover's catalog, arc-plan's and arc-collect's ledger and
arc-check's and arc-convert's quality and silver tables in a real PostgreSQL (the session's `postgres` fixture, a database per test), with the
same semantics as the SQLite state; every other tool refuses such a state with exit 2 (wf-run's
runs there: test_wfrun_postgres.py)."""
import os
import subprocess
import uuid

import pytest

from arcservers import postgres_bin
from conftest import expected_sha, make_mirror, pipeline, run, sha256_file, tool

ARGS = ["--market", "um", "--type", "klines", "--symbol", "ETHUSDT", "--period", "daily"]
SQLITE_ONLY = ("keeps its state in SQLite only for now; "
               "ARC_STATE=postgres:// is supported by arc-discover, arc-plan, arc-collect, arc-check, arc-convert and wf-run")


def psql(url, sql):
    r = subprocess.run([str(postgres_bin() / "psql"), "-XAt", "-F", "\t", url, "-c", sql], capture_output=True,
                       text=True, env={k: v for k, v in os.environ.items() if not k.startswith("PG")}, timeout=30)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines()]


@pytest.fixture
def pgenv(postgres, env, tmp_path):
    """`env` with ARC_STATE naming a fresh database of its own on the session's server."""
    name = "t_" + uuid.uuid4().hex[:12]
    psql(postgres.url, f"CREATE DATABASE {name}")
    env = dict(env, ARC_STATE=postgres.url.rsplit("/", 1)[0] + "/" + name)
    yield env
    psql(postgres.url, f"DROP DATABASE {name} WITH (FORCE)")


def ledger(env):
    rows = psql(env["ARC_STATE"], "SELECT dest, status, sha256 FROM ledger")
    return {dest: {"status": status, "sha256": sha} for dest, status, sha in rows}


def test_the_pipeline_keeps_its_ledger_in_postgres(mirror, pgenv, tmp_path):
    dest = tmp_path / "data"
    _, p, c = pipeline(pgenv, dest, ARGS)
    assert c.status == 0, c
    assert len(p.records) == 9 and {t["reason"] for t in p.records} == {"new"}
    held = ledger(pgenv)
    assert len(held) == 9
    for t in p.records:
        assert held[t["dest"]] == {"status": "ok", "sha256": expected_sha(mirror, t["key"])}
        assert sha256_file(t["dest"]) == expected_sha(mirror, t["key"])
    assert not (tmp_path / "state").exists(), "no SQLite state beside the PostgreSQL one"

    # The second run plans nothing: the ledger in PostgreSQL says it is all held.
    _, p, c = pipeline(pgenv, dest, ARGS)
    assert p.records == [] and c.status == 0, (p, c)

    # A republished archive is planned as changed, fetched, and recorded anew.
    key = "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-02.zip"
    mirror.republish(key)
    _, p, c = pipeline(pgenv, dest, ARGS)
    assert [(t["key"], t["reason"]) for t in p.records] == [(key, "changed")]
    assert c.status == 0, c
    assert ledger(pgenv)[str(dest / key)]["sha256"] == expected_sha(mirror, key) == sha256_file(dest / key)


def test_incremental_discovery_uses_the_catalog_in_postgres(mirror, pgenv):
    args = ["--incremental", *ARGS]
    first = run("arc-discover", "binance", *args, env=pgenv)
    assert first.status == 0 and len(first.records) == 9, first
    again = run("arc-discover", "binance", *args, env=pgenv)
    assert again.status == 0 and again.records == [], again
    make_mirror(mirror.root, "--add-day", "2024-01-11")
    new = run("arc-discover", "binance", *args, env=pgenv)
    assert [a["date"] for a in new.records] == ["2024-01-11"], new
    marks = psql(pgenv["ARC_STATE"], "SELECT prefix, last_key FROM catalog")
    assert ["data/futures/um/daily/klines/ETHUSDT/1m/", "data/futures/um/daily/klines/ETHUSDT/1m/"
            "ETHUSDT-1m-2024-01-11.zip.CHECKSUM"] in marks
    assert psql(pgenv["ARC_STATE"], "SELECT max(version) = count(*), max(version) >= 4 FROM schema_version") == [["t", "t"]]


def test_several_tools_starting_at_once_migrate_once(pgenv):
    procs = [subprocess.Popen([tool("arc-plan"), "--dest", "/tmp/unused"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=pgenv, text=True)
             for _ in range(6)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    versions = [int(v) for [v] in psql(pgenv["ARC_STATE"], "SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, len(versions) + 1)) and len(versions) >= 4, versions


def test_a_database_that_is_down_is_exit_3(pgenv):
    env = dict(pgenv, ARC_STATE="postgres://arc:secret@127.0.0.1:1/arc")
    r = run("arc-plan", "--dest", "/tmp/unused", env=env)
    assert r.status == 3, r
    assert len(r.stderr.splitlines()) == 1 and "Connection refused" in r.stderr, r
    assert "secret" not in r.stderr


def test_a_wrong_password_is_exit_3_without_the_password(postgres, pgenv):
    wrong = "Wr0ng-pa55word"
    env = dict(pgenv, ARC_STATE=pgenv["ARC_STATE"].replace(postgres.password, wrong))
    assert wrong in env["ARC_STATE"]
    for name, args in [("arc-plan", ["--dest", "/tmp/unused"]), ("arc-collect", []),
                       ("arc-discover", ["binance", "--incremental", *ARGS])]:
        r = run(name, *args, env=env)
        assert r.status == 3, r
        assert "password authentication failed" in r.stderr, r
        assert wrong not in r.stderr and wrong not in r.stdout


def test_the_silver_stage_keeps_its_tables_in_postgres(mirror, pgenv, tmp_path):
    _, _, c = pipeline(pgenv, tmp_path / "data", ARGS)
    assert c.status == 0 and len(c.records) == 9, c
    lake = tmp_path / "lake"
    first = run("arc-convert", "--dest", str(lake), input=c.stdout, env=pgenv)
    assert first.status == 0 and len(first.records) == 9, first
    for rec in first.records:
        assert os.path.exists(rec["silver"]["dest"]) and "reused" not in rec["silver"], rec
    silver = psql(pgenv["ARC_STATE"], "SELECT dest, rows FROM silver")
    assert sorted(silver) == sorted([r["silver"]["dest"], str(r["silver"]["rows"])] for r in first.records)
    assert len(psql(pgenv["ARC_STATE"], "SELECT archive_sha256 FROM quality")) == 9

    # The second run finds every silver file made from the same bytes: nothing is written.
    again = run("arc-convert", "--dest", str(lake), input=c.stdout, env=pgenv)
    assert again.status == 0 and [r["silver"].get("reused") for r in again.records] == [True] * 9, again

    # arc-check of the same archives is answered from the quality table, the same answer.
    check = run("arc-check", input=c.stdout, env=pgenv)
    assert check.status == 0, check
    by_key = {r["key"]: r["check"] for r in first.records}
    assert {r["key"]: r["check"] for r in check.records} == by_key
    assert any("known from the ledger" in l["msg"] for l in check.logs), check

    # arc-plan --gaps reads the quality table from PostgreSQL too.
    listing = run("arc-discover", "binance", *ARGS, env=pgenv)
    gaps = run("arc-plan", "--gaps", input=listing.stdout, env=pgenv)
    assert gaps.status == 0 and gaps.records, gaps
    assert not (tmp_path / "state").exists(), "no SQLite state beside the PostgreSQL one"


@pytest.mark.parametrize("command", [
    ["telem-log", "ingest", "/dev/null"], ["telem-log", "search", "x"],
    ["telem-trace", "ls"],
])
def test_other_tools_keep_their_state_in_sqlite_only(command, postgres, env):
    r = run(*command, env=dict(env, ARC_STATE=postgres.url.replace("postgres://", "postgresql://")))
    assert r.status == 2, r
    assert [l["msg"] for l in r.logs] == [f"{command[0]} {SQLITE_ONLY}"], r
