"""Row `collect`: arc-collect alone on the planned tasks against curl --parallel."""
import sys

from .common import alternate, curl_run, new_dir, plan_tasks, remove_database, sh, tool


def bench_collect(table, rounds, jobs, work, env):
    def ours():
        tasks = plan_tasks(work, env, new_dir("collect"))
        remove_database(work / "state.db")
        return sh(f"{tool('arc-collect')} -j {jobs} < {tasks}", env=env)

    print(f"bench: arc-collect alone, {rounds} rounds", file=sys.stderr)
    m = alternate({"arc": ours, "curl": lambda: curl_run(work, jobs)}, rounds)
    table.add("arc-collect alone (CHECKSUM + archive each, static server)", "curl --parallel", m["curl"], m["arc"],
              "s", "-")
