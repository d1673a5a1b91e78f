#!/usr/bin/env python3
"""`make bench`: arc's pipeline against the anchors of ../shared/BENCH.md, in one run.

Every row is a ratio measured in the same run, tools alternated (A B A B ...), medians
reported: these machines are shared and noisy, so absolute times mean little. Nothing
here is a pass/fail test; the table goes to stdout and bench/out/results.md.

    bench/run.py [--rounds N] [--jobs N] [--only ROW[,ROW]] [--before DIR]

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
  startup   every tool's --version from the `make static` build (.build-static) vs /bin/true
            (target < 5 ms); per tool: size, libraries mapped at start, ms. Skipped, with a
            line saying so, when .build-static lacks the tools
  memory    arc-collect peak RSS on 2,000 and on 100,000 real tasks (target < 64 MB)
  queue-drain  the work queue in PostgreSQL (started by the bench): 100,000 tiny tasks (dest
            already holds a file of the listed size, no checksum_url: completed as skipped
            without the network) drained by 8 arc-collect --queue workers, tasks/s claimed and
            completed (target >= 20,000/s), and by 4 and 1 for context; the enqueue rate
            (arc-queue push) against psql \copy of the same rows
  queue-pipeline  the pipeline through the queue: arc-discover | arc-plan --queue, then 4 x
            arc-collect --queue -j 16 (enqueue start to last worker's exit) vs arc-discover |
            arc-plan | arc-collect -j 64 with a PostgreSQL state (target <= 1.1x) and with SQLite
  queue-memory  one queue worker's peak RSS draining 10,000 and 100,000 tiny tasks (< 64 MB, flat)
  telem-log telem-log --level error, --tool s3x, --where symbol=ETHUSDT and --grep over 1 GiB
            of arc log lines (NDJSON, generated once into bench/out) vs rg -F of the literal
            (target: within 3x) and jq -c 'select(...)' on the same file; peak RSS
            (target: 5x faster than jq, < 64 MB). A missing rg or jq is skipped, said so
  telem-trace  telem-trace ingest of 1,000,000 span records (random ids, 20,000 traces)
            into a fresh state database vs jq -c . on the same file (target < 60 s)
  otlp-receive  telem-trace serve storing 400 OTLP batches of 512 spans (built with
            opentelemetry-proto) posted by 4 client processes over keep-alive connections:
            spans/s as protobuf vs the same spans as JSON (target >= 50,000/s, < 64 MB peak
            RSS, the server's VmHWM), every span counted in the store after each run; the
            clients against a sink server as their ceiling, CPU of server and clients. A
            build that answers 415 to protobuf runs JSON only, said so. --before: the walls
  wf-run    per-step overhead of wf-run run on 1,000 `true` steps, a chain and 8 lanes of 125
            (concurrency 8), vs the same flows in Prefect 3 (each task runs sh -c true;
            ephemeral API server, no server of its own), wall / 1,000 (target < 5 ms), and with
            the one-step run's time taken out; wf-run run's start-up on a one-step workflow
            (median of 20; target < 50 ms) vs wf-run --version and /bin/true
  silver-convert  arc-convert of one 2,000,000-row spot aggTrades day (µs, generated once into
            bench/out) to Parquet vs polars and DuckDB doing the same (SILVER.md): wall, peak
            RSS, output size (target: <= 0.5x polars' wall, < 64 MB)
  silver-check  arc-check on the same zip vs unzip -p ZIP | wc -l (target <= 1.0x)
            Both are skipped, with a note and the anchors' figures, until the tools are built.

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
tool go to a second table. The page cache is written out and dropped before every timed
run (on this kind of VM, writing into a full page cache costs ten times the CPU, and the
tool after a 1 GiB write paid for it), and the sync right after it is timed too: s3x fsyncs every download before renaming it into
place, the others leave it in the page cache, so the download rows get a second line,
"until on disk", with wall + sync for everyone.
"""
import argparse
import os
import shutil
import sys
import time
from pathlib import Path

# The rows are modules of the package `bench`: run as a script, import it from the repository
# root (instead of this directory, whose module names would shadow others').
if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.collect import bench_collect  # noqa: E402
import bench.common  # noqa: E402
from bench.common import BUILDS, NOTES, OUT, RUNS, Table, arc_env, curl_run, fresh, mirror, prepare  # noqa: E402
from bench.memory import bench_memory  # noqa: E402
from bench.pipeline import bench_pipeline  # noqa: E402
from bench.plan import bench_plan  # noqa: E402
from bench.startup import bench_startup  # noqa: E402
from bench.queue import bench_queue  # noqa: E402
from bench.s3 import COSTS, S3_ROWS, bench_s3  # noqa: E402
from bench.servers import Server, StaticServer  # noqa: E402
from bench.silver import bench_silver  # noqa: E402
from bench.telem_log import bench_telem_log  # noqa: E402
from bench.telem_trace import bench_trace  # noqa: E402
from bench.otlp_receive import bench_otlp_receive  # noqa: E402
from bench.tracing import bench_tracing  # noqa: E402
from bench.wf_run import bench_wf  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--jobs", type=int, default=64)
    p.add_argument("--only", default="pipeline,tracing,collect,plan,startup,memory,queue-drain,queue-pipeline,queue-memory,telem-log,telem-trace,otlp-receive,wf-run,"
                   "silver-convert,silver-check," + ",".join(S3_ROWS))
    p.add_argument("--before", metavar="DIR",
                   help="an earlier build's bin directory, alternated with this one in the pipeline, plan and "
                        "telem-log rows (a second table: after / before)")
    args = p.parse_args()
    if args.before:
        bench.common.BEFORE = Path(args.before).resolve()
    rows = set(args.only.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    work = fresh(OUT / "work")
    fresh(RUNS)
    table = Table()

    server = static = tiny = None
    try:
        if rows & {"pipeline", "collect", "memory", "tracing", "queue-pipeline"}:
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
        if "startup" in rows:
            bench_startup(table, args.rounds)
        if "memory" in rows:
            tiny = Server(mirror("mirror-test", "test"))
            bench_memory(tiny, table, work, env)
        if rows & {"queue-drain", "queue-pipeline", "queue-memory"}:
            bench_queue(rows, table, args.rounds, work,
                        (server, static, discover, count) if "queue-pipeline" in rows else None)
        if "telem-log" in rows:
            bench_telem_log(table, args.rounds)
        if "telem-trace" in rows:
            bench_trace(table, args.rounds, work)
        if "otlp-receive" in rows:
            bench_otlp_receive(table, args.rounds, work)
        if "wf-run" in rows:
            bench_wf(table, args.rounds)
        if rows & {"silver-convert", "silver-check"}:
            bench_silver(rows, table, args.rounds)
        if rows & set(S3_ROWS):
            bench_s3(rows, table, args.rounds, args.jobs)
    finally:
        for s in (server, static, tiny):
            if s:
                s.stop()
        shutil.rmtree(RUNS, ignore_errors=True)

    text = (f"arc bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
            f"-j {args.jobs}, median of {args.rounds} alternated rounds\n\n{table.markdown()}\n")
    if BUILDS.rows:
        text += f"\nThis build against {bench.common.BEFORE} (--before), alternated in the same rounds:\n\n{BUILDS.markdown()}\n"
    if COSTS.rows:
        text += f"\nCosts of the s3 runs (medians; CPU and RSS from GNU time):\n\n{COSTS.markdown()}\n"
    if NOTES:
        text += "\n" + "\n\n".join(NOTES) + "\n"
    (OUT / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
