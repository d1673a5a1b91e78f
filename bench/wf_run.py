"""Row `wf-run`: wf-run's per-step overhead and start-up against the same flows in Prefect 3."""
import json
import os
import statistics
import subprocess
import sys
import time

from .common import NOTES, OUT, VENV, alternate, arc_env, fresh, new_dir, tool


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
        note = "bench: wf-run: anchor Prefect 3 not in .venv, row skipped (scripts/setup.sh bench installs it)"
        print(note, file=sys.stderr)
        NOTES.append(note)
        return
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
