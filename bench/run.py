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
  tracing   the static-server pipeline with tracing fully on (span file, OTLP spans and
            logs to a live receiver, metrics file) vs off (target: under 5% slower)
  collect   arc-collect alone on the planned tasks vs curl --parallel on the same URLs
  plan      arc-plan on 500,000 archive records (records/s) vs jq -c . on the same file
  memory    arc-collect peak RSS on 2,000 and on 100,000 real tasks (target < 64 MB)
  telem-log telem-log --level error and --where symbol=ETHUSDT over 1 GiB of arc log lines
            (NDJSON, generated once into bench/out) vs jq -c 'select(...)' on the same file;
            peak RSS of both (target: 5x faster than jq, < 64 MB)
  telem-trace  telem-trace ingest of 1,000,000 span records (random ids, 20,000 traces)
            into a fresh state database vs jq -c . on the same file (target < 60 s)
  wf-run    per-step overhead of wf-run run on 1,000 `true` steps, a chain and 8 lanes of 125
            (concurrency 8), vs the same flows in Prefect 3 (each task runs sh -c true;
            ephemeral API server, no server of its own), wall / 1,000 (target < 5 ms), and with
            the one-step run's time taken out; wf-run run's start-up on a one-step workflow
            (median of 20; target < 50 ms) vs wf-run --version and /bin/true

s3x against s5cmd, rclone and aws cli, all on one SeaweedFS (weed mini, loopback), 64
transfers each (aws: max_concurrent_requests = 64 in its config; aws runs one round):
  s3-upload    2,000 files of ~88 KB (random bytes, Binance-like tree) to S3
  s3-download  the same 2,000 objects back to a fresh directory
  s3-copy      S3-to-S3 (server-side) copy of the 2,000 objects to a fresh prefix
  s3-big       a 1 GiB file up and down, every tool at its default part size and parts
               in flight (s3x and s5cmd: 50 MiB parts, 5 at once)
  s3-memory    peak RSS of s3x sync of 20,000 and of 100,000 empty files to S3, and of the
               same syncs again (nothing to copy, both sides listed); s5cmd cp of the
               100,000 as the anchor (s5cmd sync needs minutes and GBs); then of s3x ls -r
               over 20,000 and over 200,000 objects (s5cmd ls the anchor)
Every s3 run is wrapped in /usr/bin/time: CPU seconds (user + sys) and peak RSS of each
tool go to a second table. The page cache is flushed (sync) before every timed run, and
the sync right after it is timed too: s3x fsyncs every download before renaming it into
place, the others leave it in the page cache, so the download rows get a second line,
"until on disk", with wall + sync for everyone.
"""
import argparse
import json
import os
import shutil
import signal
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

# The servers the tests and the demo start too (rclone serve s3, SeaweedFS), and free_port.
sys.path.insert(0, str(ROOT / "scripts"))
import arcservers  # noqa: E402
from arcservers import free_port  # noqa: E402


class Server(arcservers.RcloneS3):
    """rclone serve s3 over a mirror directory, on a free loopback port."""

    def __init__(self, root):
        super().__init__(root)
        try:
            self.start()
        except RuntimeError:
            raise SystemExit("bench: rclone serve s3 did not start")


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
NOTES = []  # paragraphs under the table: how an anchor was run, its fixed costs


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
    for k in [k for k in env if k.startswith(("ARC_", "OTEL_")) or k == "TRACEPARENT"]:
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


class OTLPSink:
    """An OTLP/HTTP receiver that reads and discards every request: the collector the
    tracing row sends to, so the cost of export is counted, not a refused connection."""

    def __init__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def bench_tracing(static, table, rounds, jobs, work, env, discover, count):
    """The pipeline with every stage tracing (span file, OTLP spans and logs to a live
    receiver, a metrics file) against the same pipeline with tracing off."""
    sink = OTLPSink()
    traced = dict(env, ARC_TRACE_FILE=str(work / "spans.ndjson"), OTEL_EXPORTER_OTLP_ENDPOINT=sink.url,
                  ARC_METRICS_FILE=str(work / "metrics.prom"))

    def run(environment):
        def go():
            remove_database(work / "state.db")
            (work / "spans.ndjson").unlink(missing_ok=True)
            return sh(f"{discover} --download-url {static.url} | {tool('arc-plan')} --dest {new_dir('arc')} "
                      f"| {tool('arc-collect')} -j {jobs}", env=environment)
        return go

    try:
        print(f"bench: tracing on vs off, {count} archives, {rounds} rounds", file=sys.stderr)
        m = alternate({"off": run(env), "on": run(traced)}, rounds)
        spans = sum(1 for _ in (work / "spans.ndjson").open())
        table.add(f"pipeline with tracing on ({spans} spans to a file and OTLP, metrics file)", "tracing off",
                  m["off"], m["on"], "s", "<= 1.05")
    finally:
        sink.stop()


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


def synthetic_spans(path, count):
    """`count` span records shaped like arc-collect's (a root and 49 tasks per trace,
    random ids as real ones are), written once."""
    if path.exists():
        return
    import random
    rng = random.Random(1)
    base = 1_704_164_400_000_000  # 2024-01-02T03:00:00Z in microseconds

    def ts(us):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1_000_000)) + f".{us % 1_000_000:06d}Z"
    with path.open("w") as f:
        for n in range(count):
            if n % 50 == 0:
                trace, root = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016x}"
            start = base + n * 1000
            end = start + 500 + (n * 7919) % 100_000
            r = {"trace_id": trace, "span_id": root if n % 50 == 0 else f"{rng.getrandbits(64):016x}"}
            if n % 50:
                r["parent_span_id"] = root
            r.update(name="collect.task" if n % 50 else "arc-collect", service="arc-collect", start=ts(start),
                     end=ts(end), duration_ms=(end - start) // 1000, status="error" if n % 97 == 0 else "ok",
                     attributes={"url": f"https://data.binance.vision/data/spot/daily/klines/BTCUSDT/1m/{n}.zip",
                                 "bytes": 88000 + n % 977, "attempts": 1})
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def bench_trace(table, rounds, work):
    count = 1_000_000
    spans = OUT / "spans-1m.ndjson"
    synthetic_spans(spans, count)
    env = arc_env(work / "trace.db")

    def ours():
        remove_database(work / "trace.db")
        return sh(f"{tool('telem-trace')} ingest {spans}", env=env)

    def jq():
        return sh(f"jq -c . < {spans} > /dev/null")

    print(f"bench: telem-trace ingest of {count} spans, {rounds} rounds", file=sys.stderr)
    m = alternate({"arc": ours, "jq": jq}, rounds)
    table.add(f"telem-trace ingest, {count} spans into a fresh store", "jq -c .", m["jq"], m["arc"], "s", "< 60 s")


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


def log_file():
    """1 GiB of log lines as arc's tools write them (several tools and levels, traces, keys,
    sizes; errors with a nested error object), made once: a block of 20,000 lines repeated."""
    path = OUT / "logs-1g.ndjson"
    if path.exists() and path.stat().st_size >= 1 << 30:
        return path
    print(f"bench: generating {path} ...", file=sys.stderr)
    import random
    rng = random.Random(7)
    tools = ["arc-discover", "arc-plan", "arc-collect", "s3x", "wf-run"]
    symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
    lines, ms = [], 0
    for _ in range(20_000):
        ms += rng.randint(1, 40)
        s, rem = divmod(ms, 1000)
        r = rng.random()
        level = "error" if r < 0.01 else "warn" if r < 0.05 else "debug" if r < 0.25 else "info"
        symbol = rng.choice(symbols)
        d = {"ts": f"2026-11-25T{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{rem:03d}Z", "level": level,
             "tool": rng.choice(tools)}
        if level == "error":
            d.update(msg="download failed", error={"code": rng.choice(["http_503", "timeout", "checksum_mismatch"]),
                                                   "message": "GET failed after 5 attempts"})
        elif level == "warn":
            d.update(msg="retrying after a transient error", attempt=rng.randint(1, 4))
        else:
            d["msg"] = rng.choice(["collected", "planned task", "listed page", "verified checksum"])
        d.update(trace_id=f"{rng.getrandbits(128):032x}", span_id=f"{rng.getrandbits(64):016x}",
                 key=f"data/futures/um/daily/klines/{symbol}/1m/{symbol}-1m-2024-{rng.randint(1, 12):02d}-"
                     f"{rng.randint(1, 28):02d}.zip",
                 symbol=symbol, bytes=rng.randint(1000, 9_000_000), duration_ms=rng.randint(1, 5000))
        lines.append(json.dumps(d, separators=(",", ":")))
    block = ("\n".join(lines) + "\n").encode()
    partial = path.with_suffix(".partial")
    with partial.open("wb") as f:
        written = 0
        while written < 1 << 30:
            f.write(block)
            written += len(block)
    partial.rename(path)
    return path


def bench_telem_log(table, rounds):
    path = log_file()
    size_gb = path.stat().st_size / 1e9
    cases = [("--level error", "--level error", 'select(.level == "error")'),
             ("--where symbol=ETHUSDT", "--where symbol=ETHUSDT", 'select(.symbol == "ETHUSDT")')]
    for name, ours_args, jq_filter in cases:
        ours = f"{tool('telem-log')} {ours_args} {path}"
        jq = f"jq -c '{jq_filter}' {path}"
        # Untimed: warms the page cache, and both must select the same lines.
        counts = [subprocess.run(f"{c} | wc -l", shell=True, check=True, capture_output=True, text=True).stdout.strip()
                  for c in (ours, jq)]
        if counts[0] != counts[1]:
            raise SystemExit(f"bench: telem-log {ours_args} selected {counts[0]} lines, jq {counts[1]}")
        print(f"bench: telem-log {ours_args} over {size_gb:.2f} GB ({counts[0]} lines out), {rounds} rounds",
              file=sys.stderr)
        m = alternate({"telem-log": lambda: sh(ours), "jq": lambda: sh(jq)}, rounds)
        table.add(f"telem-log {name}, {size_gb:.1f} GB NDJSON (s)", "jq -c 'select(...)'", m["jq"], m["telem-log"], "s",
                  "<= 0.20 (5x faster)")
        ours_rss, jq_rss = peak_rss_kb(ours), peak_rss_kb(jq)
        table.add(f"telem-log {name} peak RSS", "jq", jq_rss / 1024, ours_rss / 1024, "MB", "< 64 MB")


# --- wf-run against Prefect 3 ---------------------------------------------------------------

WF_STEPS = 1_000
WF_LANES = 8
WF_STARTS = 20

# The anchor: the same flows in Prefect 3, written to bench/out/wf/prefect_flow.py. Each task
# runs `sh -c true` in a subprocess, as wf-run runs each step with sh -c. It notes the
# import, ephemeral-server start and flow times (monotonic seconds) to $BENCH_PREFECT_TIMES.
PREFECT_FLOW = '''\
"""bench/run.py's wf-run anchor (generated): prefect_flow.py chain|fanout|one|empty N

chain: N tasks called in turn, each waiting for the one before (wait_for).
fanout: N tasks in 8 lanes of N/8, each waiting for the one before it in its lane, submitted
level by level to ThreadPoolTaskRunner(max_workers=8).
one: a chain of N (1). empty: a flow with no task.
"""
import json
import os
import subprocess
import sys
import time

started = time.monotonic()
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.task_runners import ThreadPoolTaskRunner
imported = time.monotonic()

LANES = %(lanes)d


@task
def step():
    subprocess.run(["sh", "-c", "true"], check=True)


@flow(name="bench-chain")
def chain(n):
    previous = None
    for _ in range(n):
        previous = step(wait_for=[previous] if previous else None, return_state=True)
    return previous


@flow(name="bench-fanout", task_runner=ThreadPoolTaskRunner(max_workers=LANES))
def fanout(n):
    lanes = [None] * LANES
    for i in range(n):
        lane = i %% LANES
        lanes[lane] = step.submit(wait_for=[lanes[lane]] if lanes[lane] else None)
    for future in lanes:
        if future:
            future.result()


@flow(name="bench-empty")
def empty():
    pass


shape, n = sys.argv[1], int(sys.argv[2])
# No PREFECT_API_URL: the first client starts the ephemeral API server (a uvicorn subprocess
# on the SQLite database in PREFECT_HOME). Started here, so the flow's time is apart from it.
with get_client(sync_client=True) as client:
    client.hello()
served = time.monotonic()
{"chain": chain, "one": chain, "fanout": fanout}.get(shape, lambda n: empty())(n)
done = time.monotonic()
if os.environ.get("BENCH_PREFECT_TIMES"):
    with open(os.environ["BENCH_PREFECT_TIMES"], "a") as f:
        f.write(json.dumps({"shape": shape, "n": n, "import": imported - started, "server": served - imported,
                            "flow": done - served}) + "\\n")
'''


def wf_workflows(root):
    """The two 1,000-step workflows, a one-step one, and the Prefect script, in `root`.
    chain: s0001 needs s0000, and so on. fanout: 8 lanes of 125 (l3-s0042 needs l3-s0041),
    concurrency 8, written level by level as Prefect submits them."""
    def write(name, steps, concurrency):
        lines = [f'name = "bench-{name}"', f"concurrency = {concurrency}", ""]
        for step, need in steps:
            lines += ["[[step]]", f'id = "{step}"', 'run = "true"'] + ([f'needs = ["{need}"]'] if need else []) + [""]
        (root / f"{name}.toml").write_text("\n".join(lines))
        return root / f"{name}.toml"

    chain = [(f"s{i:04d}", f"s{i - 1:04d}" if i else None) for i in range(WF_STEPS)]
    fanout = [(f"l{i % WF_LANES}-s{i // WF_LANES:04d}", f"l{i % WF_LANES}-s{i // WF_LANES - 1:04d}" if i >= WF_LANES else None)
              for i in range(WF_STEPS)]
    (root / "prefect_flow.py").write_text(PREFECT_FLOW % {"lanes": WF_LANES})
    return {"chain": write("chain", chain, 1), "fanout": write("fanout", fanout, WF_LANES),
            "one": write("one", [("s0000", None)], 1)}


def prefect_env(home, times):
    """Prefect 3 with no server of its own: PREFECT_API_URL unset, so each run starts the
    ephemeral API server (PREFECT_SERVER_ALLOW_EPHEMERAL_MODE) on the SQLite database in
    PREFECT_HOME (here, not ~/.prefect), and stops it on exit; logging at WARNING (a quiet
    run, as wf-run's stdout goes to /dev/null), no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="true",
               PREFECT_LOGGING_LEVEL="WARNING", PREFECT_SERVER_LOGGING_LEVEL="WARNING",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", BENCH_PREFECT_TIMES=str(times))
    return env


def exec_seconds(argv, env):
    """Wall seconds of one process started directly (no shell), stdout to /dev/null."""
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr[-2000:]}")
    return seconds


def bench_wf(table, rounds):
    """wf-run against the same flows in Prefect 3, per-step overhead; then wf-run run's
    start-up (a one-step workflow) against its floor (wf-run --version, and /bin/true)."""
    python = VENV / "python"
    if subprocess.run([str(python), "-c", "import prefect"], capture_output=True).returncode != 0:
        raise SystemExit("bench: the wf-run row needs Prefect 3 in .venv: scripts/setup.sh bench")
    version = subprocess.run([str(python), "-c", "import prefect; print(prefect.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    root = fresh(OUT / "wf")
    files = wf_workflows(root)
    times = root / "prefect-times.ndjson"
    penv = prefect_env(fresh(root / "prefect-home"), times)
    script = str(root / "prefect_flow.py")

    def wf(name):
        def run():
            state = new_dir(f"wf-{name}")  # a fresh state database and runs directory each run
            env = arc_env(state / "state.db")
            env["WF_RUNS_DIR"] = str(state / "runs")
            return exec_seconds([tool("wf-run"), "run", str(files[name])], env)
        return run

    def prefect(shape, n):
        return lambda: exec_seconds([str(python), script, shape, str(n)], penv)

    # Untimed: Prefect creates and migrates its database once (PREFECT_HOME is kept for the
    # rounds, as an installed Prefect's is); every file runs once in both, page cache warm.
    print(f"bench: wf-run vs Prefect {version}: warming up (Prefect creates its database)", file=sys.stderr)
    prefect("empty", 0)()
    for name in ("one", "chain", "fanout"):
        state = new_dir(f"wf-{name}")
        env = dict(arc_env(state / "state.db"), WF_RUNS_DIR=str(state / "runs"))
        events = subprocess.run([tool("wf-run"), "run", str(files[name])], env=env, check=True,
                                capture_output=True, text=True).stdout
        done = sum(1 for line in events.splitlines() if json.loads(line).get("event") == "step_succeeded")
        if done != (1 if name == "one" else WF_STEPS):
            raise SystemExit(f"bench: wf-run run {files[name]}: {done} steps succeeded")
    times.unlink(missing_ok=True)

    print(f"bench: wf-run vs Prefect {version}, {WF_STEPS} steps, chain and {WF_LANES} lanes, {rounds} rounds",
          file=sys.stderr)
    m = alternate({"wf-chain": wf("chain"), "prefect-chain": prefect("chain", WF_STEPS),
                   "wf-fanout": wf("fanout"), "prefect-fanout": prefect("fanout", WF_STEPS),
                   "prefect-one": prefect("one", 1)}, rounds)
    print(f"bench: wf-run run start-up, {WF_STARTS} rounds", file=sys.stderr)
    s = alternate({"one": wf("one"), "version": lambda: exec_seconds([tool("wf-run"), "--version"], arc_env(root / "v.db")),
                   "true": lambda: exec_seconds(["/bin/true"], None)}, WF_STARTS)

    ms = 1000 / WF_STEPS
    anchor = f"Prefect {version}"
    table.add(f"wf-run: chain of {WF_STEPS:,} `true` steps, per step (wall / {WF_STEPS:,})", anchor,
              m["prefect-chain"] * ms, m["wf-chain"] * ms, "ms", "< 5 ms")
    table.add(f"wf-run: {WF_STEPS:,} `true` steps in {WF_LANES} lanes of {WF_STEPS // WF_LANES}, "
              f"concurrency {WF_LANES}, per step (wall / {WF_STEPS:,})", anchor,
              m["prefect-fanout"] * ms, m["wf-fanout"] * ms, "ms", "< 5 ms")
    # Start-up taken out: (wall - wall of the one-step run) / 999.
    for shape, label in (("chain", "chain"), ("fanout", f"{WF_LANES} lanes")):
        table.add(f"wf-run: {label}, per step after start-up ((wall - one-step wall) / {WF_STEPS - 1})", anchor,
                  (m[f"prefect-{shape}"] - m["prefect-one"]) * 1000 / (WF_STEPS - 1),
                  (m[f"wf-{shape}"] - s["one"]) * 1000 / (WF_STEPS - 1), "ms", "-")
    table.add("wf-run run, a one-step workflow (`true`), end to end", f"{anchor}, a one-task flow",
              m["prefect-one"] * 1000, s["one"] * 1000, "ms", "< 50 ms")
    table.add("wf-run --version (process start-up floor)", "/bin/true", s["true"] * 1000, s["version"] * 1000,
              "ms", "-")

    parts = {}
    for line in times.read_text().splitlines():
        r = json.loads(line)
        for k in ("import", "server", "flow"):
            parts.setdefault((r["shape"], k), []).append(r[k])
    med = {key: statistics.median(v) for key, v in parts.items()}
    NOTES.append(
        f"Prefect {version}, no server of its own: PREFECT_API_URL unset, each run starts Prefect's ephemeral API "
        f"server (uvicorn subprocess, SQLite in a PREFECT_HOME under bench/out/wf, migrated once before the rounds) "
        f"and stops it on exit; logging at WARNING. Medians inside the Prefect runs: import "
        f"{med[('one', 'import')]:.2f} s, ephemeral server start {med[('one', 'server')]:.2f} s, one-task flow "
        f"{med[('one', 'flow')]:.2f} s; the {WF_STEPS:,}-task flows alone (server up): chain "
        f"{med[('chain', 'flow')]:.2f} s ({med[('chain', 'flow')] * ms:.2f} ms a task), {WF_LANES} lanes "
        f"{med[('fanout', 'flow')]:.2f} s ({med[('fanout', 'flow')] * ms:.2f} ms a task). "
        f"Every wf-run run: a fresh ARC_STATE database and WF_RUNS_DIR, stdout to /dev/null; "
        f"start-up rows: median of {WF_STARTS} runs.")
    print(f"  {NOTES[-1]}", file=sys.stderr)


# --- s3x on SeaweedFS ----------------------------------------------------------------------

S3_BUCKET = "bench"
SMALL_COUNT = 2_000


class SeaweedFS:
    """weed mini on free loopback ports (scripts/arcservers.py, as the tests and the demo start
    it), one bucket, a fresh data directory each bench, thrown away at the end."""

    def __init__(self, root):
        self.root = fresh(root)
        self.weed = arcservers.SeaweedFS(self.root, bucket=S3_BUCKET)
        # start() waits for an authenticated ListBuckets that shows the bucket.
        self.weed.start()
        self.endpoint = self.weed.endpoint
        self.key, self.secret, self.region = self.weed.access_key, self.weed.secret_key, arcservers.S3_REGION

    def env(self, home=None):
        """scripts/arcservers.py's environment (the server's keys, region and endpoint, no
        AWS_*/S3_*/ARC_* of the machine) for s3x and aws, plus remote `sw:` for rclone and
        an aws config that gives aws cli the same 64 transfers as everyone else."""
        home = Path(home or self.root / "home")
        e = {k: v for k, v in self.weed.env(home).items() if not k.startswith("RCLONE_")}
        e.update(ARC_STATE=str(home / "state.db"), ARC_LOG_LEVEL="warn",
                 RCLONE_CONFIG_SW_TYPE="s3", RCLONE_CONFIG_SW_PROVIDER="SeaweedFS",
                 RCLONE_CONFIG_SW_ACCESS_KEY_ID=self.key, RCLONE_CONFIG_SW_SECRET_ACCESS_KEY=self.secret,
                 RCLONE_CONFIG_SW_REGION=self.region, RCLONE_CONFIG_SW_ENDPOINT=self.endpoint)
        aws_config = home / "aws-config"
        aws_config.write_text("[default]\ns3 =\n  max_concurrent_requests = 64\n  max_queue_size = 10000\n")
        e["AWS_CONFIG_FILE"] = str(aws_config)
        return e

    def stop(self):
        self.weed.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Costs:
    """Wall time, the `sync` after it, CPU seconds and peak RSS of every measured s3 run,
    per row and tool (medians)."""

    def __init__(self):
        self.rows = {}

    def add(self, work, name, seconds, flush, cpu, rss_kb):
        self.rows.setdefault(work, {}).setdefault(name, []).append((seconds, flush, cpu, rss_kb))

    def markdown(self):
        lines = ["| work | tool | runs | wall s | sync after s | CPU s (user+sys) | peak RSS |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for work, tools in self.rows.items():
            for name, values in tools.items():
                wall, flush, cpu, rss = (statistics.median(v[i] for v in values) for i in range(4))
                lines.append(f"| {work} | {name} | {len(values)} | {wall:.2f} | {flush:.2f} | {cpu:.2f} "
                             f"| {rss / 1024:.1f} MB |")
        return "\n".join(lines)


COSTS = Costs()


def measured(command, env, work=None, name=None):
    """Runs `command` (one process, exec'd) under GNU time, the page cache flushed before;
    returns (wall seconds, CPU seconds, peak RSS KB, seconds of the `sync` right after) and
    records the costs under work/name. The sync after tells what is still to be written:
    s3x fsyncs each download before its rename, s5cmd, rclone and aws do not."""
    os.sync()
    report = OUT / "time-s3.txt"
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%U %S %M", "bash", "-c", f"exec {command}"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: failed ({proc.returncode}): {command}\n{proc.stderr[-2000:]}")
    user, system, rss = report.read_text().split()[-3:]
    cpu = float(user) + float(system)
    start = time.monotonic()
    os.sync()
    flush = time.monotonic() - start
    if work:
        COSTS.add(work, name, seconds, flush, cpu, int(rss))
    return seconds, cpu, int(rss), flush


def small_files():
    """2,000 files of 80-96 KB of random bytes in a Binance-like tree (20 symbols x 100
    days), made once and kept in bench/out."""
    root = OUT / "s3-small" / "files"
    done = OUT / "s3-small" / ".complete"
    if not done.exists():
        print(f"bench: generating {SMALL_COUNT:,} files of ~88 KB in {root} ...", file=sys.stderr)
        fresh(root)
        for n in range(SMALL_COUNT):
            symbol = f"SYM{n // 100:02d}USDT"
            folder = root / symbol / "1m"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{symbol}-1m-{n % 100:04d}.zip").write_bytes(os.urandom(80_000 + (n * 7919) % 16_000))
        done.touch()
    return root


def big_file():
    """1 GiB of random bytes, made once."""
    path = OUT / "s3-big" / "big.bin"
    if not path.exists() or path.stat().st_size != 1 << 30:
        print(f"bench: generating 1 GiB in {path} ...", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as f:
            for _ in range(1024):
                f.write(os.urandom(1 << 20))
        path.with_suffix(".tmp").rename(path)
    return path


def empty_files(count):
    """`count` empty files, 1,000 a folder, made once."""
    root = OUT / f"s3-empty-{count}" / "files"
    done = OUT / f"s3-empty-{count}" / ".complete"
    if not done.exists():
        print(f"bench: creating {count} empty files in {root} ...", file=sys.stderr)
        fresh(root)
        for d in range(0, count, 1000):
            folder = root / f"d{d // 1000:04d}"
            folder.mkdir()
            for n in range(d, min(d + 1000, count)):
                (folder / f"f{n:07d}").touch()
        done.touch()
    return root


class S3Bench:
    """The s3x rows: every tool in alternated rounds on the same server, medians."""

    def __init__(self, server, table, rounds, jobs):
        self.server, self.table, self.rounds, self.jobs = server, table, rounds, jobs
        self.env = server.env()
        self.s3x = f"{tool('s3x')} -q --numworkers {jobs}"
        self.s5cmd = f"{VENV}/s5cmd --endpoint-url {server.endpoint} --numworkers {jobs}"
        self.rclone = f"{VENV}/rclone --transfers {jobs} --checkers {jobs} --s3-no-check-bucket"
        self.aws = f"{VENV}/aws --endpoint-url {server.endpoint}"
        self.count = 0
        self.seeded = set()

    def prefix(self, name):
        self.count += 1
        return f"s3://{S3_BUCKET}/{name}-{self.count}/"

    def seed_small(self):
        """The 2,000 files under s3://bench/up/ (s5cmd, untimed), for download and copy."""
        if "small" not in self.seeded:
            measured(f"{self.s5cmd} cp '{small_files()}/*' s3://{S3_BUCKET}/up/", self.env)
            self.seeded.add("small")

    def compare(self, work, runs, aws=None, anchors=("s5cmd",), target="<= 1.0", durable=False):
        """Alternates `runs` (name -> command maker), then aws once; adds the table rows.
        `durable`: also a row for wall time + the `sync` after it (downloads: until the
        files are on disk, which s3x waits for and the others do not)."""
        flushed = {}

        def timed(name, make):
            def run():
                command, after = make()
                seconds, _, _, flush = measured(command, self.env, work, name)
                flushed.setdefault(name, []).append(seconds + flush)
                if after:
                    after()
                return seconds
            return run

        print(f"bench: {work}, {self.rounds} rounds", file=sys.stderr)
        m = alternate({name: timed(name, make) for name, make in runs.items()}, self.rounds)
        for anchor in anchors:
            self.table.add(work, anchor, m[anchor], m["s3x"], "s", target)
        if aws:
            seconds = timed("aws", aws)()
            self.table.add(work, "aws s3 cp (1 round)", seconds, m["s3x"], "s", "<= 0.33")
        if durable:
            d = {name: statistics.median(values) for name, values in flushed.items()}
            for anchor in anchors:
                self.table.add(f"{work}, until on disk (+ sync)", f"{anchor} + sync", d[anchor], d["s3x"], "s", "-")
        return m

    def upload(self):
        files = small_files()
        self.compare(
            f"s3x upload {SMALL_COUNT:,} files of ~88 KB", {
                "s3x": lambda: (f"{self.s3x} cp {files}/ {self.prefix('up-s3x')}", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp '{files}/*' {self.prefix('up-s5cmd')}", None),
                "rclone": lambda: (f"{self.rclone} copy {files} sw:{self.prefix('up-rclone')[5:]}", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors --recursive {files} {self.prefix('up-aws')}", None),
            anchors=("s5cmd", "rclone"))

    def download(self):
        self.seed_small()
        up = f"s3://{S3_BUCKET}/up"
        self.compare(
            f"s3x download {SMALL_COUNT:,} objects", {
                "s3x": lambda: (f"{self.s3x} cp '{up}/*' {new_dir('dl-s3x')}/", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp '{up}/*' {new_dir('dl-s5cmd')}/", None),
                "rclone": lambda: (f"{self.rclone} copy sw:{up[5:]} {new_dir('dl-rclone')}", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors --recursive {up}/ {new_dir('dl-aws')}/", None),
            anchors=("s5cmd", "rclone"), durable=True)

    def copy(self):
        self.seed_small()
        up = f"s3://{S3_BUCKET}/up"
        self.compare(
            f"s3x S3-to-S3 copy of {SMALL_COUNT:,} objects", {
                "s3x": lambda: (f"{self.s3x} cp '{up}/*' {self.prefix('copy-s3x')}", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp '{up}/*' {self.prefix('copy-s5cmd')}", None),
                "rclone": lambda: (f"{self.rclone} copy sw:{up[5:]} sw:{self.prefix('copy-rclone')[5:]}", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors --recursive {up}/ {self.prefix('copy-aws')}", None),
            anchors=("s5cmd", "rclone"))

    def big(self):
        path = big_file()
        self.compare(
            "s3x upload of 1 GiB (defaults: 50 MiB parts, 5 in flight)", {
                "s3x": lambda: (f"{self.s3x} cp {path} {self.prefix('big-s3x')}big.bin", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp {path} {self.prefix('big-s5cmd')}big.bin", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors {path} {self.prefix('big-aws')}big.bin", None))
        source = f"s3://{S3_BUCKET}/big/big.bin"
        measured(f"{self.s5cmd} cp {path} {source}", self.env)

        def download(name, command):
            def make():
                out = new_dir(f"big-{name}")
                return command(out), lambda: shutil.rmtree(out)
            return make

        self.compare(
            "s3x download of 1 GiB (defaults: 50 MiB parts, 5 in flight)", {
                "s3x": download("s3x", lambda out: f"{self.s3x} cp {source} {out}/big.bin"),
                "s5cmd": download("s5cmd", lambda out: f"{self.s5cmd} cp {source} {out}/big.bin"),
            },
            aws=download("aws", lambda out: f"{self.aws} s3 cp --only-show-errors {source} {out}/big.bin"),
            durable=True)

    def memory(self):
        """s5cmd sync is no anchor here: on 100,000 files it took 240 s and 1.7 GB (s5cmd 2.3.0
        sorts both sides in memory); s5cmd cp of the same files is, and it puts the second
        100,000 objects under many/ for the listing."""
        few, many = empty_files(20_000), empty_files(100_000)
        work = "s3x sync peak RSS"
        print("bench: s3x sync of 20,000 and 100,000 empty files (then again: nothing to copy), "
              "s5cmd cp of the 100,000", file=sys.stderr)
        t20, _, rss20, _ = measured(f"{self.s3x} sync {few} s3://{S3_BUCKET}/few/", self.env, work, "s3x 20,000")
        t100, _, rss100, _ = measured(f"{self.s3x} sync {many} s3://{S3_BUCKET}/many/a/", self.env, work,
                                      "s3x 100,000")
        s5_time, _, s5_rss, _ = measured(f"{self.s5cmd} cp '{many}/*' s3://{S3_BUCKET}/many/b/", self.env, work,
                                      "s5cmd cp 100,000")
        # Both sides listed in full, nothing copied: the listing side of sync.
        _, _, again20, _ = measured(f"{self.s3x} sync {few} s3://{S3_BUCKET}/few/", self.env, work,
                                 "s3x 20,000 again (nothing to copy)")
        _, _, again100, _ = measured(f"{self.s3x} sync {many} s3://{S3_BUCKET}/many/a/", self.env, work,
                                  "s3x 100,000 again (nothing to copy)")
        print(f"  sync wall: s3x 20,000 {t20:.1f} s, s3x 100,000 {t100:.1f} s; s5cmd cp 100,000 {s5_time:.1f} s",
              file=sys.stderr)
        self.table.add("s3x sync peak RSS: 20,000 -> 100,000 empty files", "s3x, 20,000", rss20 / 1024,
                       rss100 / 1024, "MB", "< 64 MB, flat")
        self.table.add("s3x sync again, nothing to copy: 20,000 -> 100,000", "s3x, 20,000", again20 / 1024,
                       again100 / 1024, "MB", "< 64 MB, flat")
        self.table.add("s3x sync peak RSS, 100,000 empty files", "s5cmd cp", s5_rss / 1024, rss100 / 1024, "MB",
                       "< 64 MB")
        self.table.add("s3x sync wall time, 100,000 empty files", "s5cmd cp", s5_time, t100, "s", "-")

        work = "s3x ls -r peak RSS"
        print("bench: s3x ls -r over 20,000 and 200,000 objects", file=sys.stderr)
        _, _, ls20, _ = measured(f"{self.s3x} ls -r s3://{S3_BUCKET}/few/", self.env, work, "s3x 20,000")
        l200, _, ls200, _ = measured(f"{self.s3x} ls -r s3://{S3_BUCKET}/many/", self.env, work, "s3x 200,000")
        s5_ls, _, s5_ls_rss, _ = measured(f"{self.s5cmd} ls 's3://{S3_BUCKET}/many/*'", self.env, work,
                                          "s5cmd 200,000")
        self.table.add("s3x ls -r peak RSS: 20,000 -> 200,000 objects", "s3x, 20,000", ls20 / 1024, ls200 / 1024,
                       "MB", "< 64 MB, flat")
        self.table.add("s3x ls -r peak RSS, 200,000 objects", "s5cmd ls", s5_ls_rss / 1024, ls200 / 1024, "MB",
                       "< 64 MB")
        self.table.add("s3x ls -r wall time, 200,000 objects", "s5cmd ls", s5_ls, l200, "s", "-")


S3_ROWS = ("s3-upload", "s3-download", "s3-copy", "s3-big", "s3-memory")


def bench_s3(rows, table, rounds, jobs):
    server = SeaweedFS(OUT / "seaweed")
    try:
        bench = S3Bench(server, table, rounds, jobs)
        # Warm the server, the page cache and every tool once, untimed.
        print("bench: seeding and warming SeaweedFS", file=sys.stderr)
        bench.seed_small()
        measured(f"{bench.s3x} ls s3://{S3_BUCKET}/up/", bench.env)
        measured(f"{bench.rclone} lsf sw:{S3_BUCKET}/up", bench.env)
        for row, run in (("s3-upload", bench.upload), ("s3-download", bench.download), ("s3-copy", bench.copy),
                         ("s3-big", bench.big), ("s3-memory", bench.memory)):
            if row in rows:
                started = time.monotonic()
                run()
                print(f"bench: {row} took {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--jobs", type=int, default=64)
    p.add_argument("--only", default="pipeline,tracing,collect,plan,memory,telem-log,telem-trace,wf-run,"
                   + ",".join(S3_ROWS))
    args = p.parse_args()
    rows = set(args.only.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    work = fresh(OUT / "work")
    fresh(RUNS)
    table = Table()

    server = static = tiny = None
    try:
        if rows & {"pipeline", "collect", "memory", "tracing"}:
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
        if "tracing" in rows:
            bench_tracing(static, table, max(args.rounds, 5), args.jobs, work, env, discover, count)
        if "collect" in rows:
            bench_collect(table, args.rounds, args.jobs, work, env)
        if "plan" in rows:
            bench_plan(table, args.rounds, work)
        if "memory" in rows:
            tiny = Server(mirror("mirror-test", "test"))
            bench_memory(tiny, table, work, env)
        if "telem-log" in rows:
            bench_telem_log(table, args.rounds)
        if "telem-trace" in rows:
            bench_trace(table, args.rounds, work)
        if "wf-run" in rows:
            bench_wf(table, args.rounds)
        if rows & set(S3_ROWS):
            bench_s3(rows, table, args.rounds, args.jobs)
    finally:
        for s in (server, static, tiny):
            if s:
                s.stop()
        shutil.rmtree(RUNS, ignore_errors=True)

    text = (f"arc bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
            f"-j {args.jobs}, median of {args.rounds} alternated rounds\n\n{table.markdown()}\n")
    if COSTS.rows:
        text += f"\nCosts of the s3 runs (medians; CPU and RSS from GNU time):\n\n{COSTS.markdown()}\n"
    if NOTES:
        text += "\n" + "\n\n".join(NOTES) + "\n"
    (OUT / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
