#!/usr/bin/env python3
"""`make bench`: arc's pipeline against the anchors of ../shared/BENCH.md, in one run.

Every row is a ratio measured in the same run, tools alternated (A B A B ...), medians
reported: these machines are shared and noisy, so absolute times mean little. Nothing
here is a pass/fail test; the table goes to stdout and bench/out/results.md.

    bench/run.py [--rounds N] [--jobs N] [--only ROW[,ROW]]

Rows:
  pipeline  arc-discover | arc-plan | arc-collect -j 64 over 2,000 archives of ~88 KB
            (listing, CHECKSUM fetch, SHA-256, fsync, ledger) vs s5cmd cp of the same
            keys, everything over S3 (rclone serve s3); then with the downloads from a
            static server (nginx, as data.binance.vision is a CDN) vs bare curl --parallel
            and aria2c on the same URLs, writing the same tree
  collect   arc-collect alone on the planned tasks vs curl --parallel on the same URLs
  plan      arc-plan on 500,000 archive records (records/s) vs jq -c . on the same file
  memory    arc-collect peak RSS on 2,000 and on 100,000 real tasks (target < 64 MB)
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = Path(os.environ.get("ARC_BIN", ROOT / ".build" / "release"))
VENV = ROOT / ".venv" / "bin"
BUCKET = "data.binance.vision"
BENCH_PREFIX = "data/futures/um/daily/klines/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """rclone serve s3 over a mirror directory, on a free loopback port."""

    def __init__(self, root):
        self.root = root
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.endpoint}/{BUCKET}"
        self.proc = subprocess.Popen(
            [str(VENV / "rclone"), "serve", "s3", "--addr", f"127.0.0.1:{self.port}", str(root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(400):
            try:
                urllib.request.urlopen(f"{self.url}?prefix=data/&delimiter=/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("bench: rclone serve s3 did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()


class StaticServer:
    """nginx serving the same mirror as plain files: the download side of the real archive
    is a CDN (data.binance.vision), not S3, and costs the server little per request."""

    def __init__(self, root, work):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/{BUCKET}"
        conf_dir = fresh(work / "nginx")
        temp = "".join(f"  {t}_temp_path {conf_dir}/{t};\n" for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (conf_dir / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {conf_dir}/nginx.pid;\nerror_log {conf_dir}/error.log;\n"
            f"events {{ worker_connections 4096; }}\n"
            f"http {{\n  access_log off;\n  sendfile on;\n  keepalive_requests 1000000;\n{temp}"
            f"  server {{ listen 127.0.0.1:{self.port}; root {root}; }}\n}}\n")
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"),
                                      "-e", str(conf_dir / "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1)
            except urllib.error.HTTPError:
                return  # answering (403/404 for the root) is all we need
            except OSError:
                time.sleep(0.05)
                continue
            return
        raise SystemExit("bench: nginx did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait()


def mirror(name, preset):
    """Generates a mirror once; later runs reuse it (the generator is deterministic)."""
    root = OUT / name
    if not (root / BUCKET).is_dir():
        print(f"bench: generating the {preset} mirror in {root} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make-mirror.py"), str(root), "--preset", preset],
                       check=True, stderr=subprocess.DEVNULL)
    return root


def tool(name):
    return str(BIN / name)


def sh(command, env=None, cwd=None):
    """Runs a shell line; returns wall seconds. Fails the bench loudly if it fails."""
    start = time.monotonic()
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env, cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: failed ({proc.returncode}): {command}\n{proc.stderr[-2000:]}")
    return seconds


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    Path(path).mkdir(parents=True)
    return path


RUNS = OUT / "runs"
_run_count = 0


def new_dir(name):
    """A directory no earlier round used. Outputs are deleted only after the whole bench:
    ext4 scans past inodes freed in the last 30 s when it allocates new ones, so a tool
    run right after `rm -rf` of 2,000 files pays for the deletion (seen here: 2x)."""
    global _run_count
    _run_count += 1
    path = RUNS / f"{name}-{_run_count}"
    path.mkdir(parents=True)
    return path


def peak_rss_kb(command, env=None):
    """Peak RSS of the process run by `command` (GNU time), in KB."""
    report = OUT / "time.txt"
    subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%M", "bash", "-c", f"exec {command}"],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return int(report.read_text().split()[-1])


class Table:
    def __init__(self):
        self.rows = []

    def add(self, work, anchor, anchor_value, ours_value, unit, target):
        ratio = ours_value / anchor_value if anchor_value else float("nan")
        self.rows.append((work, anchor, anchor_value, ours_value, unit, ratio, target))
        print(f"  {work}: {anchor} {anchor_value:.2f} {unit}, arc {ours_value:.2f} {unit}, ratio {ratio:.2f}",
              file=sys.stderr)

    def markdown(self):
        lines = ["| work | anchor | anchor | arc | arc / anchor | target |",
                 "|---|---|---:|---:|---:|---|"]
        for work, anchor, a, o, unit, ratio, target in self.rows:
            lines.append(f"| {work} | {anchor} | {a:.2f} {unit} | {o:.2f} {unit} | {ratio:.2f} | {target} |")
        return "\n".join(lines)


def alternate(runs, rounds):
    """Runs each named callable once per round, in turn; returns the median of each."""
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(run())
    return {name: statistics.median(values) for name, values in times.items()}


def remove_database(path):
    """A state database and its WAL files: a WAL left without its database is an error."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def arc_env(state):
    env = dict(os.environ)
    for k in [k for k in env if k.startswith("ARC_")]:
        del env[k]
    env.update(ARC_STATE=str(state), ARC_LOG_LEVEL="warn")
    return env


def prepare(work, env, static):
    """The inputs the rows share, made outside any timing: URL lists for curl and aria2c
    that write the same tree arc does (directory layout costs the filesystem), pointing
    at the static server, and the listing arc-collect alone plans from."""
    discover = f"{tool('arc-discover')} binance --market um --type klines --period daily"
    subprocess.run(f"{discover} --download-url {static.url} > {work}/archives.ndjson", shell=True, check=True, env=env)
    archives = [json.loads(line) for line in (work / "archives.ndjson").read_text().splitlines()]
    with (work / "curl.cfg").open("w") as f:
        for a in archives:
            f.write(f'url = "{a["url"]}"\noutput = "{a["key"]}"\n')
    with (work / "aria2.txt").open("w") as f:
        for a in archives:
            f.write(f'{a["url"]}\n  out={a["key"]}\n')
    return discover, len(archives)


def plan_tasks(work, env, dest):
    """Tasks for arc-collect alone, planned into `dest` outside the timing."""
    subprocess.run(f"{tool('arc-plan')} --force --dest {dest} < {work}/archives.ndjson > {work}/tasks.ndjson",
                   shell=True, check=True, env=env)
    return work / "tasks.ndjson"


def curl_run(work, jobs):
    return sh(f"curl -sS --fail --parallel --parallel-max {jobs} --create-dirs --output-dir {new_dir('curl')} "
              f"-K {work}/curl.cfg")


def bench_pipeline(server, static, table, rounds, jobs, work, env, discover, count):
    s5_env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")

    def ours(download_url):
        def run():
            remove_database(work / "state.db")
            return sh(f"{discover} --download-url {download_url} | {tool('arc-plan')} --dest {new_dir('arc')} "
                      f"| {tool('arc-collect')} -j {jobs}", env=env)
        return run

    def s5cmd():
        return sh(f"{VENV}/s5cmd --no-sign-request --endpoint-url {server.endpoint} --numworkers {jobs} "
                  f"cp 's3://{BUCKET}/{BENCH_PREFIX}*' {new_dir('s5cmd')}/", env=s5_env)

    def aria2c():
        return sh(f"aria2c -q -j {jobs} -x 1 --allow-overwrite=true --auto-file-renaming=false "
                  f"-d {new_dir('aria2c')} -i {work}/aria2.txt")

    print(f"bench: pipeline over {count} archives, -j {jobs}, {rounds} rounds", file=sys.stderr)
    m = alternate({"arc-s3": ours(server.url), "s5cmd": s5cmd, "arc-static": ours(static.url),
                   "curl": lambda: curl_run(work, jobs), "aria2c": aria2c}, rounds)
    table.add(f"list + fetch + verify + ledger, {count} archives, all over S3", "s5cmd cp", m["s5cmd"], m["arc-s3"],
              "s", "<= 1.0 (s5cmd verifies nothing)")
    table.add("the same, downloads from a static server", "curl --parallel", m["curl"], m["arc-static"], "s",
              "<= 1.5 (curl lists and verifies nothing)")
    table.add("the same, downloads from a static server", "aria2c -j", m["aria2c"], m["arc-static"], "s", "-")


def bench_collect(table, rounds, jobs, work, env):
    def ours():
        tasks = plan_tasks(work, env, new_dir("collect"))
        remove_database(work / "state.db")
        return sh(f"{tool('arc-collect')} -j {jobs} < {tasks}", env=env)

    print(f"bench: arc-collect alone, {rounds} rounds", file=sys.stderr)
    m = alternate({"arc": ours, "curl": lambda: curl_run(work, jobs)}, rounds)
    table.add("arc-collect alone (CHECKSUM + archive each, static server)", "curl --parallel", m["curl"], m["arc"],
              "s", "-")


def synthetic_archives(path, count):
    """`count` archive records shaped like arc-discover's, written once."""
    if path.exists():
        return
    with path.open("w") as f:
        for n in range(count):
            symbol = f"SYM{n // 1000:04d}USDT"
            day = f"2024-{1 + (n % 1000) // 28 % 12:02d}-{1 + n % 28:02d}"
            key = f"data/futures/um/daily/klines/{symbol}/1m/{symbol}-1m-{day}-{n}.zip"
            f.write(json.dumps({
                "source": "binance", "market": "um", "period": "daily", "type": "klines", "symbol": symbol,
                "interval": "1m", "date": day, "key": key, "url": f"https://data.binance.vision/{key}",
                "checksum_url": f"https://data.binance.vision/{key}.CHECKSUM", "size": 88000 + n % 977,
                "etag": f"{n:032x}", "last_modified": "2024-01-02T03:00:00.000Z"}, separators=(",", ":")) + "\n")


def bench_plan(table, rounds, work):
    count = 500_000
    archives = OUT / "archives-500k.ndjson"
    synthetic_archives(archives, count)
    env = arc_env(work / "plan.db")

    def ours():
        remove_database(work / "plan.db")
        return sh(f"{tool('arc-plan')} --dest {work}/plan < {archives} > /dev/null", env=env)

    def jq():
        return sh(f"jq -c . < {archives} > /dev/null")

    print(f"bench: arc-plan on {count} records, {rounds} rounds", file=sys.stderr)
    m = alternate({"arc": ours, "jq": jq}, rounds)
    table.add(f"arc-plan, {count} records (records/s, higher is better)", "jq -c .",
              count / m["jq"], count / m["arc"], "rec/s", ">= 300,000 rec/s")


def bench_memory(tiny, table, work, env):
    # 2,000 real tasks (the pipeline's).
    tasks = plan_tasks(work, env, new_dir("collect"))
    remove_database(work / "state.db")
    rss_small = peak_rss_kb(f"{tool('arc-collect')} -j 64 < {tasks}", env=env)

    # 100,000 real tasks: the test preset's tiny archives, each fetched to many places.
    tiny_env = arc_env(work / "mem-tiny.db")
    tiny_env.update(ARC_BINANCE_LIST_URL=tiny.url, ARC_BINANCE_DOWNLOAD_URL=tiny.url)
    listed = subprocess.run([tool("arc-discover"), "binance", "--market", "spot", "--type", "klines",
                             "--period", "daily"], env=tiny_env, check=True, capture_output=True, text=True)
    archives = [json.loads(line) for line in listed.stdout.splitlines()]
    big = work / "tasks-100k.ndjson"
    tiny_dir = new_dir("tiny")
    with big.open("w") as f:
        for n in range(100_000):
            a = dict(archives[n % len(archives)])
            a.update(task_id=f"{n:016x}", dest=f"{tiny_dir}/{n // 1000}/{n}-{a['key'].rsplit('/', 1)[1]}",
                     reason="new")
            f.write(json.dumps(a, separators=(",", ":")) + "\n")
    print("bench: arc-collect peak RSS on 2,000 and 100,000 tasks", file=sys.stderr)
    rss_big = peak_rss_kb(f"{tool('arc-collect')} -j 64 < {big}", env=tiny_env)
    table.add("arc-collect peak RSS: 2,000 tasks -> 100,000 tasks", "2,000 tasks", rss_small / 1024,
              rss_big / 1024, "MB", "< 64 MB, flat")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--jobs", type=int, default=64)
    p.add_argument("--only", default="pipeline,collect,plan,memory")
    args = p.parse_args()
    rows = set(args.only.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    work = fresh(OUT / "work")
    fresh(RUNS)
    table = Table()

    server = static = tiny = None
    try:
        if rows & {"pipeline", "collect", "memory"}:
            root = mirror("mirror-bench", "bench")
            server, static = Server(root), StaticServer(root, work)
            env = arc_env(work / "state.db")
            env.update(ARC_BINANCE_LIST_URL=server.url, ARC_BINANCE_DOWNLOAD_URL=server.url)
            # This also warms the servers: rclone hashes each file for its ETag when first listed.
            print("bench: warming the servers, preparing inputs", file=sys.stderr)
            discover, count = prepare(work, env, static)
            curl_run(work, args.jobs)
        if "pipeline" in rows:
            bench_pipeline(server, static, table, args.rounds, args.jobs, work, env, discover, count)
        if "collect" in rows:
            bench_collect(table, args.rounds, args.jobs, work, env)
        if "plan" in rows:
            bench_plan(table, args.rounds, work)
        if "memory" in rows:
            tiny = Server(mirror("mirror-test", "test"))
            bench_memory(tiny, table, work, env)
    finally:
        for s in (server, static, tiny):
            if s:
                s.stop()
        shutil.rmtree(RUNS, ignore_errors=True)

    text = (f"arc bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
            f"-j {args.jobs}, median of {args.rounds} alternated rounds\n\n{table.markdown()}\n")
    (OUT / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
