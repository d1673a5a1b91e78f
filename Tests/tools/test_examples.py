"""examples/: the daily cron script and the plugin, run as a user would, against the mirror."""
import os
import subprocess
import time

import pytest

from conftest import BIN, ROOT, expected_sha, ledger, records, run, sha256_file, wait_for

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


# --- shards: GNU parallel over (local or stand-in) ssh hosts, a Slurm array run by hand ---

FAKE_SSH = """#!/bin/sh
# ssh stand-in: drops the options and the host (noted in $FAKE_SSH_LOG), then runs the
# command line the way sshd does, with the login shell's -c. sshd also sets SHELL to the
# login shell (bash, as the example asks), and parallel's remote worker execs $SHELL: CI
# runs without SHELL set, where the worker's exec fails and parallel still reports 0.
export SHELL=/bin/bash
while [ $# -gt 0 ]; do
    case $1 in
        --) shift; break ;;
        -[bcDEeFIiJLlmOoPpQRSWw]) shift 2 ;;
        -*) shift ;;
        *) echo "$1" >> "$FAKE_SSH_LOG"; shift; break ;;
    esac
done
[ "${1:-}" = -- ] && shift
exec bash -c "$*"
"""


def shard_env(env, tmp_path):
    e = example_env(env, tmp_path)
    e["HOME"] = str(tmp_path / "home")  # GNU parallel keeps its own files under ~/.parallel
    for k in [k for k in e if k.startswith("SLURM_") or k in ("JOB_COMPLETION_INDEX", "ARC_SHARD_COUNT")]:
        del e[k]
    return e


def planned_keys(env, dest, *filters):
    listing = run("arc-discover", "binance", *filters, env=env)
    p = run("arc-plan", "--dest", str(dest), input=listing.stdout, env=dict(env, ARC_STATE=str(dest) + ".plan.db"))
    assert p.status == 0, p
    return sorted(t["key"] for t in p.records)


def parallel_shards(env, hosts, dest, *filters):
    return subprocess.run([str(EXAMPLES / "parallel-shards.sh"), hosts, str(dest), *filters], env=env,
                          capture_output=True, text=True, timeout=180)


def shards_logged(stderr):
    """The shards arc-plan said it planned, from the logs (other lines are the scripts')."""
    return sorted(r["shard"] for r in records("\n".join(l for l in stderr.splitlines() if l.startswith("{")))
                  if r.get("shard"))


def test_parallel_shards_split_a_listing_across_local_slots_exactly(mirror, env, tmp_path):
    env = shard_env(env, tmp_path)
    filters = ["--market", "um"]
    dest = tmp_path / "data"
    r = parallel_shards(env, "3/:", dest, *filters)
    assert r.returncode == 0, r.stderr
    assert "3 of 3 shards ran on 3/:; exit 0" in r.stderr
    assert shards_logged(r.stderr) == ["0/3", "1/3", "2/3"]
    results = records(r.stdout)
    keys = [x["key"] for x in results]
    assert len(keys) == len(set(keys))  # no archive collected by two shards
    assert sorted(keys) == planned_keys(env, tmp_path / "check", *filters)  # none left out
    for x in results:
        assert x["status"] == "ok" and sha256_file(x["dest"]) == expected_sha(mirror, x["key"])
    again = parallel_shards(env, "3/:", dest, *filters)  # each shard finds its archives held
    assert again.returncode == 0 and again.stdout == "", again.stderr


def test_parallel_shards_with_one_local_host_and_the_worst_exit(mirror, env, tmp_path):
    env = shard_env(env, tmp_path)
    one = parallel_shards(env, ":", tmp_path / "one", "--market", "option")
    assert one.returncode == 0, one.stderr
    assert shards_logged(one.stderr) == ["0/1"] and len(records(one.stdout)) == 2
    # The spot trades hold an archive whose CHECKSUM does not match: its shard exits 1.
    bad = parallel_shards(env, "2/:", tmp_path / "bad", "--market", "spot", "--type", "trades")
    assert bad.returncode == 1, bad.stderr
    assert sorted(x["status"] for x in records(bad.stdout)) == ["failed", "ok", "ok"]
    usage = subprocess.run([str(EXAMPLES / "parallel-shards.sh"), "2/:"], env=env, capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr


def test_parallel_shards_over_ssh_quote_the_filters(mirror, env, tmp_path):
    """Through parallel's ssh path (an ssh stand-in that runs the command here): the quoting
    for the remote shell keeps a glob filter intact, and each host runs one shard."""
    env = shard_env(env, tmp_path)
    fake = tmp_path / "fake-ssh"
    fake.write_text(FAKE_SSH)
    fake.chmod(0o755)
    env.update(PARALLEL_SSH=str(fake), FAKE_SSH_LOG=str(tmp_path / "hosts.log"))
    filters = ["--market", "um", "--type", "klines", "--symbol", "ETH*"]
    r = parallel_shards(env, "nodeA,nodeB,user@nodeC", tmp_path / "data", *filters)
    assert r.returncode == 0, r.stderr
    assert sorted((tmp_path / "hosts.log").read_text().split()) == ["nodeA", "nodeB", "nodeC"]
    keys = sorted(x["key"] for x in records(r.stdout))
    assert keys == planned_keys(env, tmp_path / "check", *filters) and keys
    assert all("/ETH" in k for k in keys)


def test_slurm_array_script_run_as_each_array_task(mirror, env, tmp_path):
    env = shard_env(env, tmp_path)
    script = EXAMPLES / "slurm-shards.sbatch"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert "#SBATCH --array=0-7" in script.read_text()
    filters = ["--market", "um"]
    dest = tmp_path / "data"
    env.update(STATE_DIR=str(tmp_path / "shard-state"), RESULTS_DIR=str(tmp_path / "results"))

    def array_task(k, n="3"):
        return subprocess.run(["bash", str(script), str(dest), *filters], capture_output=True, text=True,
                              env=dict(env, SLURM_ARRAY_TASK_ID=str(k), SLURM_ARRAY_TASK_COUNT=n), timeout=120)
    for k in range(3):
        r = array_task(k)
        assert r.returncode == 0, r.stderr
        assert f"shard {k}/3 kept" in r.stderr and f"slurm-shards: shard {k} of 3" in r.stderr
    files = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert files == [f"results-shard-{k}-of-3.ndjson" for k in range(3)]
    per_shard = [[x["key"] for x in records((tmp_path / "results" / f).read_text())] for f in files]
    keys = [k for shard in per_shard for k in shard]
    assert len(keys) == len(set(keys)) and sorted(keys) == planned_keys(env, tmp_path / "check", *filters)
    assert sorted(p.name for p in (tmp_path / "shard-state").glob("*.db")) == [
        f"shard-{k}-of-3.db" for k in range(3)]
    # The next day's run: each shard's own ledger holds its archives.
    assert array_task(1).returncode == 0
    assert len(records((tmp_path / "results" / files[1]).read_text())) == len(per_shard[1])

    outside = subprocess.run(["bash", str(script), str(dest)], capture_output=True, text=True, env=env)
    assert outside.returncode == 2 and "SLURM_ARRAY_TASK_ID" in outside.stderr
    bad = array_task(3)
    assert bad.returncode == 2 and "gives shard 3 of 3" in bad.stderr


class SingleNodeSlurm:
    """munged, slurmctld and slurmd (Debian's slurm-wlm) on 127.0.0.1, on free ports, with
    every file in a temporary directory; the node is this machine, under its own hostname
    (slurmctld accepts only that as its host)."""

    def __init__(self, root):
        import getpass
        import socket
        from conftest import free_port
        self.root = root
        self.procs = []
        host = socket.gethostname().split(".")[0]
        user = getpass.getuser()
        for d in ("munge", "state", "spool", "log"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "munge").chmod(0o700)
        key = root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self.socket = root / "munge" / "munge.sock"
        self.conf = root / "slurm.conf"
        self.conf.write_text("\n".join([
            "ClusterName=arctest", f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={free_port()}", f"SlurmdPort={free_port()}",
            f"SlurmUser={user}", f"SlurmdUser={user}",
            "AuthType=auth/munge", "CryptoType=crypto/munge", f"AuthInfo=socket={self.socket}",
            f"StateSaveLocation={root / 'state'}", f"SlurmdSpoolDir={root / 'spool'}",
            f"SlurmctldPidFile={root / 'slurmctld.pid'}", f"SlurmdPidFile={root / 'slurmd.pid'}",
            f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}", f"SlurmdLogFile={root / 'log' / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "MpiDefault=none",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core", "ReturnToService=2",
            "SlurmdParameters=config_overrides", "JobCompType=jobcomp/none",
            "AccountingStorageType=accounting_storage/none", "JobAcctGatherType=jobacct_gather/none",
            f"NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=2048 State=UNKNOWN",
            f"PartitionName=arctest Nodes={host} Default=YES MaxTime=INFINITE State=UP", ""]))
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))
        self.start(["munged", "--foreground", "--force", f"--socket={self.socket}", f"--key-file={key}",
                    f"--pid-file={root / 'munge' / 'munged.pid'}", f"--log-file={root / 'munge' / 'munged.log'}",
                    f"--seed-file={root / 'munge' / 'seed'}"])
        self.start(["slurmctld", "-D", "-c", "-f", str(self.conf)])
        self.start(["slurmd", "-D", "-f", str(self.conf)])
        from conftest import wait_for
        wait_for(lambda: subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True,
                                        text=True).stdout.strip() == "idle", "the Slurm node to be idle", timeout=60)

    def start(self, argv):
        self.procs.append(subprocess.Popen(argv, env=dict(os.environ, SLURM_CONF=str(self.conf)),
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def slurm(tmp_path):
    import shutil
    missing = [c for c in ("munged", "slurmctld", "slurmd", "sbatch") if not shutil.which(c)]
    if missing:
        pytest.skip(f"no single-node Slurm here: {', '.join(missing)} not installed (Debian's slurm-wlm and munge)")
    s = SingleNodeSlurm(tmp_path / "slurm")
    yield s
    s.stop()


def test_slurm_array_example_on_a_real_single_node_slurm(mirror, env, slurm, tmp_path):
    """sbatch --array=0-7 (the script's own #SBATCH line): eight array tasks, each its shard."""
    env = dict(shard_env(env, tmp_path), SLURM_CONF=str(slurm.conf), STATE_DIR=str(tmp_path / "shard-state"),
               RESULTS_DIR=str(tmp_path / "results"))
    filters = ["--market", "um"]
    work = tmp_path / "submit"
    work.mkdir()
    # Two array tasks at once on this small node (the script asks for 2 CPUs and 1 GB each).
    r = subprocess.run(["sbatch", "--parsable", "--cpus-per-task=1", "--mem=256M", "--chdir", str(work),
                        str(EXAMPLES / "slurm-shards.sbatch"), str(tmp_path / "data"), *filters],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    job = r.stdout.strip()
    # sbatch --wait polls at growing intervals: squeue is asked more often instead.
    wait_for(lambda: subprocess.run(["squeue", "-h", "-j", job], env=env, capture_output=True,
                                    text=True).stdout.strip() == "", "the array job to finish", timeout=300, interval=0.2)
    logs = sorted(work.glob("arc-shards-*.log"))
    assert len(logs) == 8
    assert all(" exit 0 (discover 0, plan 0, collect 0)" in l.read_text() for l in logs), [l.read_text()[-1500:] for l in logs]
    assert sorted(l.read_text().split("slurm-shards: shard ")[1].split(" on ")[0] for l in logs) == \
        sorted(f"{k} of 8" for k in range(8))
    results = [x for f in sorted((tmp_path / "results").iterdir()) for x in records(f.read_text())]
    keys = [x["key"] for x in results]
    assert len(keys) == len(set(keys)) and sorted(keys) == planned_keys(env, tmp_path / "check", *filters)
    assert all(x["status"] == "ok" for x in results)
