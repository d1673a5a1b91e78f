"""examples/: the daily cron script and the plugin, run as a user would, against the mirror."""
import os
import subprocess
import time

from conftest import BIN, ROOT, expected_sha, ledger, records, run, sha256_file

EXAMPLES = ROOT / "examples"
FILTERS = ["--market", "um", "--type", "klines", "--symbol", "ETHUSDT", "--period", "daily"]


def example_env(env, tmp_path):
    return dict(env, PATH=f"{BIN}:{EXAMPLES}:{os.environ['PATH']}", LOG_DIR=str(tmp_path / "logs"))


def daily_update(env, dest, *filters):
    return subprocess.run([str(EXAMPLES / "daily-update.sh"), str(dest), *filters], env=env,
                          capture_output=True, text=True, timeout=120)


def test_daily_update_fetches_then_only_what_changed(mirror, env, tmp_path):
    env = example_env(env, tmp_path)
    dest = tmp_path / "data"
    first = daily_update(env, dest, *FILTERS)
    assert first.returncode == 0, first.stderr
    assert "exit 0" in first.stderr
    [results] = (tmp_path / "logs").glob("results-*.ndjson")
    done = records(results.read_text())
    assert len(done) == 9 and all(r["status"] == "ok" and r["verified"] for r in done)
    for r in done:
        assert sha256_file(r["dest"]) == expected_sha(mirror, r["key"])

    key = "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-03.zip"
    mirror.republish(key)
    second = daily_update(env, dest, *FILTERS)
    assert second.returncode == 0, second.stderr
    again = records(results.read_text())[len(done):]
    assert [(r["key"], r["reason"], r["status"]) for r in again] == [(key, "changed", "ok")]
    assert ledger(env)[str(dest / key)]["sha256"] == expected_sha(mirror, key)


def test_daily_update_reports_failures_and_never_overlaps(mirror, env, tmp_path):
    env = example_env(env, tmp_path)
    # The spot trades folder holds an archive whose CHECKSUM does not match: exit 1.
    r = daily_update(env, tmp_path / "data", "--market", "spot", "--type", "trades")
    assert r.returncode == 1, r.stderr
    assert "1 failed today" in r.stderr

    # While one run holds the lock, a second start exits 75 at once and touches nothing.
    lock = tmp_path / "logs" / "daily-update.lock"
    holder = subprocess.Popen(["flock", str(lock), "sleep", "30"])
    try:
        for _ in range(200):
            if subprocess.run(["flock", "-n", str(lock), "true"]).returncode != 0:
                break
            time.sleep(0.02)
        r = daily_update(env, tmp_path / "other", *FILTERS)
        assert r.returncode == 75, r.stderr
        assert "another run" in r.stderr
        assert not (tmp_path / "other").exists() or not list((tmp_path / "other").rglob("*.zip"))
    finally:
        holder.kill()
        holder.wait()


def test_daily_update_with_a_dead_archive_exits_3(mirror, env, tmp_path):
    env = example_env(env, tmp_path)
    mirror.stop()
    r = daily_update(env, tmp_path / "data", *FILTERS)
    assert r.returncode == 3, r.stderr


def test_urls_plugin_collects_any_list_of_urls(mirror, env, tmp_path):
    env = example_env(env, tmp_path)
    keys = [f"data/futures/um/daily/bookDepth/ETHUSDT/ETHUSDT-bookDepth-2024-01-0{d}.zip" for d in (1, 2, 3)]
    urls = tmp_path / "urls.txt"
    urls.write_text("# three days of book depth\n\n" + "".join(f"{mirror.url}/{k}\n" for k in keys))
    d = run("arc-discover", "urls", str(urls), env=env)
    assert d.status == 0, d
    assert [a["key"] for a in d.records] == [f"{mirror.url.split('/', 3)[3]}/{k}" for k in keys]
    p = run("arc-plan", "--dest", str(tmp_path / "data"), "--layout", "{file}", input=d.stdout, env=env)
    c = run("arc-collect", input=p.stdout, env=env)
    assert c.status == 0, c
    assert sorted(os.listdir(tmp_path / "data")) == sorted(k.rsplit("/", 1)[1] for k in keys)
    assert all(r["verified"] for r in c.records)


def test_readme_hive_layout_and_tagging_pipeline(mirror, env, tmp_path):
    dest = tmp_path / "lake"
    line = (f"arc-discover binance --market um --type klines --interval 1m --symbol ETHUSDT "
            f"| jq -c '. + {{batch: \"2024-q1\"}}' "
            f"| arc-plan --dest {dest} --prefer-monthly "
            f"--layout 'market={{market}}/type={{type}}/interval={{interval}}/symbol={{symbol}}/{{file}}' "
            f"| arc-collect -j 8")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", line], env=example_env(env, tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = records(proc.stdout)
    assert results and all(r["batch"] == "2024-q1" and r["status"] == "ok" for r in results)
    # Monthly archives for 2023-11 and 2023-12, daily ones for January 2024.
    assert {r["period"] for r in results} == {"daily", "monthly"}
    assert all(r["dest"].startswith(f"{dest}/market=um/type=klines/interval=1m/symbol=ETHUSDT/") for r in results)


def test_lake_replicate_syncs_the_tree_then_the_replica(mirror, env, s3env, seaweed, tmp_path):
    """lake-replicate.sh: the archive tree into a lake bucket, then the lake to a replica
    (through --source-endpoint-url, streamed); a second run copies nothing; an archive
    deleted from the lake is deleted from the replica (--delete)."""
    e = example_env(dict(env, **{k: v for k, v in s3env.items() if k.startswith("AWS_") or k == "HOME"}), tmp_path)
    (tmp_path / "logs").mkdir()
    dest = tmp_path / "data"
    assert daily_update(e, dest, *FILTERS).returncode == 0
    s3 = seaweed.client()
    for b in ("lake-ex", "replica-ex"):
        s3.create_bucket(b)
    script = [str(EXAMPLES / "lake-replicate.sh"), str(dest), "s3://lake-ex/binance/", "s3://replica-ex/binance/"]
    first = subprocess.run(script, env=e, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*.zip"))
    assert len(files) == 9
    assert s3.keys("lake-ex") == [f"binance/{f}" for f in files]
    assert s3.keys("replica-ex") == s3.keys("lake-ex")
    assert s3.get("replica-ex", f"binance/{files[0]}") == (dest / files[0]).read_bytes()

    second = subprocess.run(script, env=e, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    for log in ("lake-sync.ndjson", "replica-sync.ndjson"):
        assert [r for r in records((tmp_path / "logs" / log).read_text()) if r["operation"] == "cp"] == []

    # Gone from the lake (and from the tree, else the first sync would bring it back):
    # the replica loses it too.
    s3.delete("lake-ex", f"binance/{files[0]}")
    (dest / files[0]).unlink()
    third = subprocess.run(script, env=e, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stderr
    assert s3.keys("replica-ex") == [f"binance/{f}" for f in files[1:]]


def test_s3x_command_file_runs_in_one_process(s3env, seaweed):
    """examples/s3x-commands.txt through `s3x run`: the bucket, the uploads with their
    metadata, and the listing, all from one process."""
    r = run("s3x", "run", str(EXAMPLES / "s3x-commands.txt"), env=s3env, cwd=ROOT)
    assert r.status == 0, r
    s3 = seaweed.client()
    keys = s3.keys("arc-example")
    assert "docs/README.md" in keys and "cron/crontab" in keys
    assert {"scripts/daily-update.sh", "scripts/lake-replicate.sh"} <= set(keys)
    assert s3.get("arc-example", "docs/README.md") == (ROOT / "README.md").read_bytes()
    head = s3.head("arc-example", "cron/crontab")
    assert head.get("x-amz-meta-origin") == "arc"
    assert "DIR  docs/" in r.stdout or any(l.strip().startswith("DIR") for l in r.stdout.splitlines())


def test_log_search_over_a_days_cron_logs(mirror, env, tmp_path):
    """log-search.sh on what daily-update.sh logged for a day with a failed archive: the
    warnings merged, counted by code, failures by error code, a redacted copy without the
    mirror's address, and the lines indexed for `telem-log search`."""
    env = example_env(env, tmp_path)
    assert daily_update(env, tmp_path / "data", "--market", "spot", "--type", "trades").returncode == 1
    logs = tmp_path / "logs"
    r = subprocess.run([str(EXAMPLES / "log-search.sh"), str(logs)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "ERROR arc-collect failed: " in r.stdout, "a task that failed for good is an error"
    assert "checksum_mismatch" in r.stdout.split("== failed archives by error code")[1]
    [share] = logs.glob("share-*.log")
    shared = records(share.read_text())
    assert shared and all(x["level"] in ("warn", "error") for x in shared)
    assert "127.0.0.1" not in share.read_text() and "[ipv4]" in share.read_text()
    found = run("telem-log", "search", "checksum", env=env)
    assert found.status == 0 and found.records, found
    empty = subprocess.run([str(EXAMPLES / "log-search.sh"), str(tmp_path / "nothing")], env=env,
                           capture_output=True, text=True)
    assert empty.returncode == 3


def test_binance_daily_workflow_runs_end_to_end(mirror, env, s3env, bucket, seaweed, tmp_path):
    """examples/binance-daily.toml with wf-run against the mirror: discover, plan and collect
    (verified), the gap report, and the new files synced into a lake bucket on SeaweedFS; a
    second run fetches nothing; `status` reads it all back."""
    e = example_env(dict(env, **{k: v for k, v in s3env.items() if k.startswith("AWS_") or k == "HOME"}), tmp_path)
    dest = tmp_path / "data"
    flow = str(EXAMPLES / "binance-daily.toml")
    params = ["-p", f"dest={dest}", "-p", "filters=" + " ".join(FILTERS), "-p", "jobs=8",
              "-p", f"lake=s3://{bucket}/binance/", "-p", f"silver={tmp_path / 'silver'}"]
    first = run("wf-run", "run", flow, *params, env=e, timeout=300)
    assert first.status == 0, first
    ok = [x["step"] for x in first.records if x["event"] == "step_succeeded"]
    assert sorted(ok) == ["collect", "discover", "gaps", "lake", "silver"]
    run_dir = tmp_path / "state" / "runs" / "binance-daily" / first.records[0]["run_id"]
    results = records((run_dir / "steps" / "collect" / "results.ndjson").read_text())
    assert len(results) == 9 and all(r["status"] == "ok" and r["verified"] for r in results)
    for r in results:
        assert sha256_file(r["dest"]) == expected_sha(mirror, r["key"])
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*.zip"))
    assert seaweed.client().keys(bucket) == [f"binance/{f}" for f in files]
    silver = records((run_dir / "steps" / "silver" / "silver.ndjson").read_text())
    assert len(silver) == 9 and all(s["silver"]["rows"] > 0 and os.path.exists(s["silver"]["dest"]) for s in silver)
    gaps = records((run_dir / "steps" / "gaps" / "gaps.ndjson").read_text())
    assert all("symbol" in g for g in gaps)

    second = run("wf-run", "run", flow, *params, env=e, timeout=300)
    assert second.status == 0, second
    run_dir2 = tmp_path / "state" / "runs" / "binance-daily" / second.records[0]["run_id"]
    assert (run_dir2 / "steps" / "collect" / "results.ndjson").read_text() == ""
    status = records(run("wf-run", "status", "--json", env=e).stdout)[0]
    assert status["status"] == "succeeded" and status["params"]["lake"] == f"s3://{bucket}/binance/"
