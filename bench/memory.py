"""Row `memory`: arc-collect's peak RSS on 2,000 and on 100,000 real tasks."""
import json
import subprocess
import sys

from .common import arc_env, new_dir, peak_rss_kb, plan_tasks, remove_database, tool


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
