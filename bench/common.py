"""What every row shares: paths, running and timing commands, the result table, medians,
and the inputs the archive rows (pipeline, tracing, collect, memory) share."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = Path(os.environ.get("ARC_BIN", ROOT / ".build" / "release"))
VENV = ROOT / ".venv" / "bin"
BUCKET = "data.binance.vision"
BENCH_PREFIX = "data/futures/um/daily/klines/"


def mirror(name, preset):
    """Generates a mirror once; later runs reuse it (the generator is deterministic)."""
    root = OUT / name
    if not (root / BUCKET).is_dir():
        print(f"bench: generating the {preset} mirror in {root} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make-mirror.py"), str(root), "--preset", preset],
                       check=True, stderr=subprocess.DEVNULL)
    return root


# `--before DIR`: an earlier build of the tools, alternated with BIN in the rows that
# measure arc's own hot paths (pipeline, plan, telem-log), so a change is judged against
# what it replaced in the same run, under the same noise.
BEFORE = None


def tool(name, before=False):
    return str((BEFORE if before else BIN) / name)


def sh(command, env=None, cwd=None):
    """Runs a shell line; returns wall seconds. Fails the bench loudly if it fails."""
    start = time.monotonic()
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env, cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: failed ({proc.returncode}): {command}\n{proc.stderr[-2000:]}")
    return seconds


def have_anchor(command, row):
    """Whether an anchor tool is installed; when not, says so (and in the results' notes)
    so the row is measured without it instead of the whole bench failing."""
    if shutil.which(command):
        return True
    note = f"bench: {row}: anchor {command} not found, skipped (scripts/setup.sh bench installs it)"
    print(note, file=sys.stderr)
    NOTES.append(note)
    return False


_DROP_NOTED = []


def drop_page_cache():
    """Empties the page cache (after a sync) so every timed run starts with free memory.
    On this kind of VM, writing into memory that the page cache fills costs about ten times
    the CPU of writing into free memory (dd of 1 GiB: 2.1 s of system time against 0.2 s),
    so whichever tool ran after a large write paid for the one before it. Needs root; without
    it, says once that the figures carry that effect."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError as error:
        if not _DROP_NOTED:
            _DROP_NOTED.append(True)
            print(f"bench: cannot drop the page cache ({error.strerror}); runs after large writes "
                  "pay for reclaiming it", file=sys.stderr)


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


class BuildTable:
    """Rows of one build against another (`--before`): the same work, the same run."""

    def __init__(self):
        self.rows = []

    def add(self, work, before, after, unit):
        self.rows.append((work, before, after, unit))
        print(f"  {work}: before {before:.3f} {unit}, after {after:.3f} {unit}, after/before {after / before:.2f}",
              file=sys.stderr)

    def markdown(self):
        lines = ["| work | before | after | after / before |", "|---|---:|---:|---:|"]
        for work, before, after, unit in self.rows:
            lines.append(f"| {work} | {before:.3f} {unit} | {after:.3f} {unit} | {after / before:.2f} |")
        return "\n".join(lines)


BUILDS = BuildTable()


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
