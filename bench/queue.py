"""Rows `queue-drain`, `queue-pipeline` and `queue-memory`: the work queue in PostgreSQL
(arc-plan --queue / arc-queue push fill it, arc-collect --queue workers drain it), against
a PostgreSQL server the bench starts (scripts/arcservers.py, as the tests start theirs:
loopback, fsync off).

A tiny task runs arc-collect's real path without the network: its dest already holds a file
of the listed size and it has no checksum_url, so the worker claims it, finds the file in
place, completes it as `skipped`, and settles it in the queue and the ledger in one
transaction (Collector.start, Collector.record)."""
import csv
import os
import subprocess
import sys
import time

from .common import NOTES, OUT, arc_env, alternate, fresh, new_dir, peak_rss_kb, remove_database, sh, tool
from .servers import arcservers

TINY = 100_000
TINY_BYTES = 64
# ext4 allows 65,000 links to one inode: one source file per directory of 1,000 links.
PER_DIR = 1000


class Postgres:
    """One PostgreSQL server for the queue rows; `reset` empties what the tools wrote, so
    every timed run starts from the same empty tables."""

    def __init__(self, root):
        self.server = arcservers.PostgreSQL(fresh(root))
        try:
            self.server.start()
        except RuntimeError as e:
            raise SystemExit(f"bench: PostgreSQL did not start: {e}")
        self.url = self.server.url

    def psql(self, sql, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        proc = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", self.url, "-c", sql, *args],
                              env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"bench: psql failed: {sql}\n{proc.stderr}")
        return proc.stdout.strip()

    def reset(self):
        # The first tool to connect creates the tables (the migrations); none yet, nothing to empty.
        if self.psql("SELECT to_regclass('queue_tasks') IS NOT NULL") == "t":
            self.psql("TRUNCATE ledger, catalog, queue_tasks, queue_workers")

    def done(self, queue):
        return self.psql(f"SELECT state, count(*) FROM queue_tasks WHERE queue = '{queue}' GROUP BY state ORDER BY 1")

    def stop(self):
        self.server.stop()


def tiny_tasks(work, n=TINY):
    """`n` tasks whose dests are hard links to a few files of TINY_BYTES (made once), and the
    same records as CSV (identity, task) for the COPY anchor."""
    tasks = work / f"queue-tiny-{n}.ndjson"
    if tasks.exists():
        return tasks
    root = fresh(OUT / "queue-tiny" / str(n))
    with tasks.open("w") as f, (work / f"queue-tiny-{n}.csv").open("w", newline="") as c:
        rows = csv.writer(c)
        for d in range((n + PER_DIR - 1) // PER_DIR):
            directory = root / f"{d:03d}"
            directory.mkdir()
            source = directory / "source.zip"
            source.write_bytes(b"x" * TINY_BYTES)
            for i in range(d * PER_DIR, min(n, (d + 1) * PER_DIR)):
                dest = directory / f"{i}.zip"
                os.link(source, dest)
                record = (f'{{"url":"http://127.0.0.1:9/tiny/{i}.zip","key":"tiny/{i}.zip","dest":"{dest}",'
                          f'"size":{TINY_BYTES},"task_id":"{i:016x}","reason":"new"}}')
                f.write(record + "\n")
                rows.writerow([str(dest), record])
    return tasks


def workers(count, queue, env, jobs, extra=""):
    """A shell line: `count` arc-collect --queue workers at once, failing if any fails."""
    one = f"{tool('arc-collect')} --queue {queue} -j {jobs}{extra} > /dev/null"
    return (f"pids=(); for i in $(seq {count}); do {one} & pids+=($!); done; "
            f"for p in \"${{pids[@]}}\"; do wait $p || exit 1; done")


def bench_queue(rows, table, rounds, work, pipeline=None):
    pg = Postgres(OUT / "postgres")
    try:
        env = arc_env(pg.url)
        if rows & {"queue-drain", "queue-memory"}:
            print(f"bench: {TINY:,} tiny tasks (hard links)", file=sys.stderr)
            tasks = tiny_tasks(work)
        if "queue-drain" in rows:
            bench_drain(pg, table, rounds, work, env, tasks)
        if "queue-pipeline" in rows and pipeline:
            bench_queue_pipeline(pg, table, rounds, work, env, *pipeline)
        if "queue-memory" in rows:
            bench_queue_memory(pg, table, work, env, tasks)
    finally:
        pg.stop()


def bench_drain(pg, table, rounds, work, env, tasks):
    enqueue, copy = [], []

    def push():
        pg.reset()
        seconds = sh(f"{tool('arc-queue')} push tiny {tasks}", env=env)
        enqueue.append(seconds)
        return seconds

    def drain(count):
        def run():
            push()
            seconds = sh(workers(count, "tiny", env, 64), env=env)
            counts = pg.done("tiny")
            if counts != f"done|{TINY}":
                raise SystemExit(f"bench: queue-drain with {count} workers left {counts!r}, not {TINY} done")
            return TINY / seconds
        return run

    def copy_anchor():
        # The least a server can be asked to do to take these rows: one COPY, no conflicts checked.
        pg.psql("DROP TABLE IF EXISTS copy_anchor; CREATE TABLE copy_anchor (identity text, task text)")
        start = time.monotonic()
        pg.psql(f"\\copy copy_anchor (identity, task) FROM '{tasks.with_suffix('.csv')}' WITH (FORMAT csv)")
        copy.append(time.monotonic() - start)
        return copy[-1]

    print(f"bench: queue drain of {TINY:,} tiny tasks by 1, 4 and 8 workers, {rounds} rounds", file=sys.stderr)
    m = alternate({"1": drain(1), "4": drain(4), "8": drain(8), "copy": copy_anchor}, rounds)
    enqueue.sort()
    rate = TINY / enqueue[len(enqueue) // 2]
    table.add(f"work queue drain, {TINY:,} tiny tasks, 8 workers (claimed + completed)", "1 worker", m["1"], m["8"],
              "tasks/s", ">= 20,000 tasks/s")
    table.add(f"the same, 4 workers", "1 worker", m["1"], m["4"], "tasks/s", "-")
    table.add(f"enqueue {TINY:,} tasks (arc-queue push), tasks/s", "psql \\copy of the same rows", TINY / m["copy"],
              rate, "tasks/s", "-")
    NOTES.append(f"queue-drain: each run empties the tables, enqueues the {TINY:,} tasks with arc-queue push "
                 f"(median {enqueue[len(enqueue) // 2]:.2f} s), then times the workers (arc-collect --queue tiny -j 64) "
                 f"from their start to the last one's exit; every task is checked done afterwards.")


def bench_queue_pipeline(pg, table, rounds, work, env, server, static, discover, count):
    listing = dict(ARC_BINANCE_LIST_URL=server.url, ARC_BINANCE_DOWNLOAD_URL=server.url)
    pg_env = dict(env, **listing)
    sqlite_env = dict(arc_env(work / "queue-sqlite.db"), **listing)
    lister = f"{discover} --download-url {static.url}"

    def single(postgres):
        def run():
            if postgres:
                pg.reset()
            else:
                remove_database(work / "queue-sqlite.db")
            return sh(f"{lister} | {tool('arc-plan')} --dest {new_dir('q-single')} | {tool('arc-collect')} -j 64",
                      env=pg_env if postgres else sqlite_env)
        return run

    def queued():
        # Cold: enqueue everything, then start the workers (they end when it is drained).
        pg.reset()
        seconds = sh(f"{lister} | {tool('arc-plan')} --dest {new_dir('q-queue')} --queue pipe && "
                     + workers(4, "pipe", pg_env, 16), env=pg_env)
        counts = pg.done("pipe")
        if counts != f"done|{count}":
            raise SystemExit(f"bench: queue-pipeline left {counts!r}, not {count} done")
        return seconds

    def standing():
        # As deployed: 4 workers already waiting (--follow, a Deployment), woken by the
        # enqueue's NOTIFY; timed from the listing's start to `arc-queue wait` seeing the
        # queue drained. The workers are stopped (SIGTERM) after the clock.
        pg.reset()
        procs = [subprocess.Popen([tool("arc-collect"), "--queue", "pipe", "--follow", "-j", "16"], env=pg_env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(4)]
        try:
            time.sleep(0.5)  # registered and listening
            seconds = sh(f"{lister} | {tool('arc-plan')} --dest {new_dir('q-standing')} --queue pipe && "
                         f"{tool('arc-queue')} wait pipe > /dev/null", env=pg_env)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
        counts = pg.done("pipe")
        if counts != f"done|{count}":
            raise SystemExit(f"bench: queue-pipeline (standing workers) left {counts!r}, not {count} done")
        return seconds

    print(f"bench: the pipeline through the queue (4 workers x -j 16) vs one arc-collect -j 64, {rounds} rounds",
          file=sys.stderr)
    m = alternate({"sqlite": single(False), "postgres": single(True), "queue": queued, "standing": standing}, rounds)
    table.add(f"pipeline through the queue, {count} archives: 4 standing workers x -j 16 (--follow), plan --queue, wait",
              "one arc-collect -j 64, PostgreSQL state", m["postgres"], m["standing"], "s", "<= 1.1")
    table.add("the same", "one arc-collect -j 64, SQLite state", m["sqlite"], m["standing"], "s", "-")
    table.add(f"the same, cold: plan --queue, then 4 workers x -j 16 until drained", "one arc-collect -j 64, PostgreSQL state",
              m["postgres"], m["queue"], "s", "-")


def bench_queue_memory(pg, table, work, env, tasks):
    def rss(n):
        pg.reset()
        sh(f"head -n {n} {tasks} | {tool('arc-queue')} push tiny", env=env)
        kb = peak_rss_kb(f"{tool('arc-collect')} --queue tiny -j 64", env=env)
        if pg.done("tiny") != f"done|{n}":
            raise SystemExit(f"bench: queue-memory left {pg.done('tiny')!r}")
        return kb

    print("bench: one queue worker's peak RSS on 10,000 and 100,000 tiny tasks", file=sys.stderr)
    small, big = rss(10_000), rss(TINY)
    table.add(f"one queue worker's peak RSS: 10,000 -> {TINY:,} tiny tasks", "10,000 tasks", small / 1024,
              big / 1024, "MB", "< 64 MB, flat")
