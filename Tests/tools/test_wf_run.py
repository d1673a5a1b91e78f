"""wf-run: real workflows of shell steps, run by the built binary, with a real state database.

Timestamps written by the steps themselves prove order and parallelism; processes are
looked up in /proc to prove timeouts and stops kill whole process groups.
"""
import json
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT, records, run, tool


@pytest.fixture
def wf(tmp_path):
    """A clean environment: a state database and runs directory of the test's own."""
    e = dict(os.environ)
    for k in [k for k in e if k.startswith(("ARC_", "OTEL_", "WF_")) or k == "TRACEPARENT"]:
        del e[k]
    e.update(ARC_STATE=str(tmp_path / "state" / "state.db"), ARC_LOG_FORMAT="json")
    return e


def write(tmp_path, text, name="flow.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def events(result, kind=None, step=None):
    out = [r for r in result.records if (kind is None or r["event"] == kind) and (step is None or r.get("step") == step)]
    return out


def status(wf, run_id=None):
    r = run("wf-run", "status", "--json", *([run_id] if run_id else []), env=wf)
    assert r.status == 0, r
    [s] = r.records
    return s


def steps_of(s):
    return {x["step"]: x for x in s["steps"]}


def alive(marker):
    """Processes whose command line contains `marker` (not zombies)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != "Z":
            found.append(int(pid))
    return found


def start(wf, *args):
    return subprocess.Popen([tool("wf-run"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=wf)


def wait_for_event(proc, kind, step=None, timeout=20):
    """Reads proc's stdout until an event of `kind` (for `step`) arrives; returns the lines read."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(json.loads(line))
        if seen[-1]["event"] == kind and (step is None or seen[-1].get("step") == step):
            return seen
    raise AssertionError(f"no {kind} {step or ''} in {seen}")


# --- order, parallelism, retries, timeouts -------------------------------------------------

def test_dag_runs_in_order_and_in_parallel_up_to_concurrency(wf, tmp_path):
    times = tmp_path / "times"
    times.mkdir()
    stamp = f'date +%s.%N > {times}/$WF_STEP_ID.start; sleep 0.6; date +%s.%N > {times}/$WF_STEP_ID.end'
    steps = "\n".join(f'''
        [[step]]
        id = "{s}"
        needs = ["a"]
        run = "{stamp}"''' for s in "bcde")
    flow = write(tmp_path, f'''
        name = "fan"
        concurrency = 2
        [[step]]
        id = "a"
        run = "{stamp}"
        {steps}
        [[step]]
        id = "f"
        needs = ["b", "c", "d", "e"]
        run = "{stamp}"
        ''')
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 0, r
    t = {s: (float((times / f"{s}.start").read_text()), float((times / f"{s}.end").read_text())) for s in "abcdef"}
    for s in "bcde":
        assert t[s][0] >= t["a"][1], f"{s} started before a ended"
        assert t["f"][0] >= t[s][1], f"f started before {s} ended"
    # At any start, how many of b..e were running: never above 2, and 2 at some point.
    overlap = [sum(1 for o in "bcde" if t[o][0] <= t[s][0] < t[o][1]) for s in "bcde"]
    assert max(overlap) == 2, (overlap, t)
    assert t["e"][1] - t["b"][0] < 4 * 0.6, "the middle level ran one at a time"
    got = [(e["event"], e.get("step")) for e in r.records]
    assert got[0] == ("run_started", None) and got[-1] == ("run_succeeded", None)
    assert all(e["run_id"] == r.records[0]["run_id"] and e["workflow"] == "fan" for e in r.records)
    assert len(events(r, "step_succeeded")) == 6


def test_a_step_that_fails_twice_then_succeeds_is_retried(wf, tmp_path):
    flow = write(tmp_path, '''
        [[step]]
        id = "flaky"
        run = 'echo "try $WF_ATTEMPT"; [ "$WF_ATTEMPT" -ge 3 ] || { echo "not yet ($WF_ATTEMPT)" >&2; exit 4; }'
        retries = 3
        retry_delay = "100ms"
        ''')
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 0, r
    assert [e["attempt"] for e in events(r, "step_started")] == [1, 2, 3]
    retried = events(r, "step_retrying")
    assert [(e["attempt"], e["exit_status"], e["reason"]) for e in retried] == [(1, 4, "exit_status"), (2, 4, "exit_status")]
    assert "not yet (1)" in retried[0]["message"]
    [ok] = events(r, "step_succeeded")
    assert ok["attempt"] == 3
    s = steps_of(status(wf))["flaky"]
    assert s["status"] == "succeeded" and s["attempts"] == 3
    # Each attempt kept its own output.
    logs = run("wf-run", "logs", "--all-attempts", "--stream", "stdout", ok["run_id"], "flaky", env=wf)
    assert [l for l in logs.stdout.splitlines() if l.startswith("try")] == ["try 1", "try 2", "try 3"]


def test_retries_back_off_and_then_the_step_fails_with_its_reason(wf, tmp_path):
    flow = write(tmp_path, '''
        [[step]]
        id = "broken"
        run = "echo 'connection refused' >&2; exit 3"
        retries = 2
        retry_delay = "300ms"
        [[step]]
        id = "after"
        needs = "broken"
        run = "true"
        ''')
    began = time.time()
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 1, r
    starts = [e["ts"] for e in events(r, "step_started", "broken")]
    assert len(starts) == 3
    # 300ms * [0.5, 1] then 600ms * [0.5, 1]: at least 0.45 s of waiting in all.
    assert time.time() - began >= 0.45
    [failed] = events(r, "step_failed")
    assert failed["exit_status"] == 3 and failed["message"] == "exit status 3: connection refused"
    [skipped] = events(r, "step_skipped")
    assert skipped["step"] == "after" and skipped["reason"] == "need_failed"
    [end] = events(r, "run_failed")
    assert "broken" in end["message"]


def test_a_timeout_kills_the_whole_pipeline(wf, tmp_path):
    flow = write(tmp_path, '''
        [[step]]
        id = "hang"
        run = "sleep 41.5 | sleep 42.5"
        timeout = "1s"
        ''')
    began = time.time()
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 1, r
    assert time.time() - began < 8
    [failed] = events(r, "step_failed")
    assert failed["reason"] == "timeout" and failed["message"].startswith("timed out after 1")
    assert alive("sleep 41.5") == [] and alive("sleep 42.5") == []


def test_a_step_exiting_above_128_is_told_apart_from_one_killed_by_a_signal(wf, tmp_path):
    flow = write(tmp_path, '''
        [[step]]
        id = "high"
        run = "exit 129"
        continue_on_failure = true
        [[step]]
        id = "killed"
        run = "kill -KILL $$"
        continue_on_failure = true
        ''')
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 0, r
    high, killed = events(r, "step_failed", "high")[0], events(r, "step_failed", "killed")[0]
    assert (high["exit_status"], high["reason"], high["message"]) == (129, "exit_status", "exit status 129")
    assert (killed["exit_status"], killed["reason"], killed["message"]) == (137, "signal", "killed by signal 9 (SIGKILL)")


def test_a_pipeline_that_ignores_sigterm_is_killed_after_the_grace(wf, tmp_path):
    flow = write(tmp_path, '''
        [[step]]
        id = "stubborn"
        run = "trap '' TERM; sleep 43.5"
        timeout = "500ms"
        ''')
    r = run("wf-run", "run", "--grace", "500ms", flow, env=wf)
    assert r.status == 1, r
    assert events(r, "step_failed")[0]["reason"] == "timeout"
    assert alive("sleep 43.5") == []


# --- conditions, handlers, cache --------------------------------------------------------------

def test_when_conditions_continue_on_failure_and_handlers(wf, tmp_path):
    out = tmp_path / "out"
    flow = write(tmp_path, f'''
        [[step]]
        id = "fails"
        run = "exit 3"
        [[step]]
        id = "tolerated"
        run = "exit 5"
        continue_on_failure = true
        [[step]]
        id = "after-tolerated"
        needs = "tolerated"
        run = "echo ran > {out}.after-tolerated"
        [[step]]
        id = "on-success-only"
        needs = "fails"
        run = "echo ran > {out}.on-success-only"
        [[step]]
        id = "rescue"
        needs = "fails"
        when = "failure"
        run = "echo ran > {out}.rescue"
        [[step]]
        id = "no-rescue-needed"
        needs = "after-tolerated"
        when = "failure"
        run = "echo ran > {out}.no-rescue-needed"
        [[step]]
        id = "finally"
        needs = ["on-success-only", "rescue"]
        when = "always"
        run = "echo ran > {out}.finally"
        [on_success]
        run = "echo ran > {out}.on_success"
        [on_failure]
        run = 'echo "$WF_RUN_STATUS: $WF_FAILED_STEPS" > {out}.on_failure'
        [on_exit]
        run = 'echo "$WF_RUN_STATUS" > {out}.on_exit'
        ''')
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 1, r
    ran = sorted(p.name.split(".", 1)[1] for p in tmp_path.glob("out.*"))
    assert ran == ["after-tolerated", "finally", "on_exit", "on_failure", "rescue"]
    assert (tmp_path / "out.on_failure").read_text().strip() == "failed: fails"
    assert (tmp_path / "out.on_exit").read_text().strip() == "failed"
    skipped = {e["step"]: e["reason"] for e in events(r, "step_skipped")}
    assert skipped == {"on-success-only": "need_failed", "no-rescue-needed": "no_failure"}
    s = steps_of(status(wf))
    assert s["tolerated"]["status"] == "failed" and s["fails"]["exit_status"] == 3
    assert s["on_failure"]["status"] == "succeeded" and "on_success" not in s, "a handler that did not run is not listed"


def test_a_run_where_only_tolerated_steps_fail_succeeds(wf, tmp_path):
    flow = write(tmp_path, '''
        [[step]]
        id = "optional"
        run = "exit 1"
        continue_on_failure = true
        [on_success]
        run = "true"
        ''')
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 0, r
    assert events(r, "run_succeeded")
    assert [e["step"] for e in events(r, "step_succeeded")] == ["on_success"]


def test_cache_key_skips_a_step_a_previous_run_did_and_points_at_its_output(wf, tmp_path):
    counter = tmp_path / "count"
    flow = write(tmp_path, f'''
        [params]
        day = "2024-01-01"
        [[step]]
        id = "fetch"
        run = 'echo x >> {counter}; echo "data for $day" > "$WF_STEP_DIR/out.txt"'
        cache_key = "fetch-${{day}}"
        [[step]]
        id = "use"
        needs = "fetch"
        run = 'cat "$WF_DIR_FETCH/out.txt"'
        ''')
    first = run("wf-run", "run", flow, env=wf)
    assert first.status == 0, first
    assert events(first, "step_succeeded", "fetch")[0]["cache_key"] == "fetch-2024-01-01"
    second = run("wf-run", "run", flow, env=wf)
    assert second.status == 0, second
    [cached] = events(second, "step_skipped", "fetch")
    assert cached["reason"] == "cached" and cached["message"] == first.records[0]["run_id"]
    assert counter.read_text().count("x") == 1
    use = run("wf-run", "logs", second.records[0]["run_id"], "use", env=wf)
    assert use.stdout == "data for 2024-01-01\n"
    third = run("wf-run", "run", flow, "-p", "day=2024-01-02", env=wf)
    assert third.status == 0 and not events(third, "step_skipped")
    assert counter.read_text().count("x") == 2
    assert steps_of(status(wf, second.records[0]["run_id"]))["fetch"]["cached_from"] == first.records[0]["run_id"]


def test_step_environment_parameters_and_workdir(wf, tmp_path):
    (tmp_path / "sub").mkdir()
    flow = write(tmp_path, '''
        name = "envs"
        [env]
        BASE = "/lake"
        DEST = "${BASE}/${day}"
        [params]
        day = "2024-01-01"
        [[step]]
        id = "show"
        workdir = "sub"
        env = { LEVEL = "debug", PRICE = "$$5" }
        run = 'echo "$DEST $LEVEL $PRICE $WF_WORKFLOW $WF_STEP_ID $WF_ATTEMPT $(pwd)"; test "$WF_STEP_DIR" = "$WF_RUN_DIR/steps/show"'
        ''')
    r = run("wf-run", "run", flow, "-p", "day=2024-02-03", env=wf)
    assert r.status == 0, r
    out = run("wf-run", "logs", r.records[0]["run_id"], "show", "--stream", "stdout", env=wf).stdout
    assert out == f"/lake/2024-02-03 debug $5 envs show 1 {tmp_path}/sub\n"
    assert status(wf)["params"] == {"day": "2024-02-03"}
    bad = run("wf-run", "run", flow, "-p", "dya=2024-02-03", env=wf)
    assert bad.status == 2 and "no parameter 'dya'" in bad.stderr and "day" in bad.stderr
    missing = write(tmp_path, '[[step]]\nid = "x"\nrun = "true"\nworkdir = "nope"\n', "missing.toml")
    r = run("wf-run", "run", missing, env=wf)
    assert r.status == 1 and "cannot start" in events(r, "step_failed")[0]["message"]


# --- env_file: secrets reach the steps and nothing else ---------------------------------------

SECRET = "s3cr3t-Tok3n-9f2e"
ROTATED = "r0tat3d-Tok3n-77aa"


def hits(root, *secrets):
    """Files under root whose bytes hold any of the secrets, relative to root."""
    return [str(p.relative_to(root)) for p in sorted(Path(root).rglob("*"))
            if p.is_file() and any(s.encode() in p.read_bytes() for s in secrets)]


def table_hits(db, *secrets):
    """`table: row` for every row of every table of the state database holding a secret."""
    import sqlite3
    found = []
    with sqlite3.connect(db) as c:
        tables = [t for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert len(tables) > 1, tables
        for t in tables:
            for row in c.execute(f'SELECT * FROM "{t}"'):
                text = " ".join(v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row)
                if any(s in text for s in secrets):
                    found.append(f"{t}: {text}")
    return found


def test_env_file_values_reach_the_steps_and_are_never_stored_or_printed(wf, tmp_path):
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f'# the API token\nexport API_TOKEN="{SECRET}"\nREGION=eu-west-1   # a comment\n')
    seen = tmp_path / "seen.txt"
    trace = tmp_path / "trace.ndjson"
    flow = write(tmp_path, f'''
        name = "secretive"
        env_file = "secrets.env"
        [env]
        REGION = "us-east-1"
        [[step]]
        id = "use"
        run = 'echo "$API_TOKEN $REGION" >> {seen}'
        [[step]]
        id = "refused"
        needs = "use"
        cache_key = "k-${{API_TOKEN}}"
        run = 'echo "token $API_TOKEN was refused" >&2; test -f {tmp_path}/go && echo "$API_TOKEN" >> {seen}'
        ''')
    v = run("wf-run", "validate", flow, env=wf)
    assert v.status == 0 and v.stdout == f"{flow}: ok: workflow secretive, 2 steps, 2 variables from env_file\n", v
    r = run("wf-run", "run", "--trace", str(trace), flow, env=wf)
    assert r.status == 1, r
    assert seen.read_text() == f"{SECRET} us-east-1\n", "the step got the value; [env] wins over env_file"
    [failed] = events(r, "step_failed", "refused")
    assert failed["message"] == "exit status 1: token [from env_file] was refused"
    run_id = r.records[0]["run_id"]

    # Read again on resume, as the file is then: the state never had the values.
    env_file.write_text(f"API_TOKEN='{ROTATED}'\n")
    (tmp_path / "go").write_text("")
    resumed = run("wf-run", "resume", run_id, env=wf)
    assert resumed.status == 0, resumed
    assert seen.read_text() == f"{SECRET} us-east-1\n{ROTATED}\n"
    assert events(resumed, "step_succeeded", "refused")[0]["cache_key"] == "k-[from env_file]"
    shown = [run("wf-run", *args, env=wf) for args in (["status", "--json", run_id], ["history", "--json"],
                                                       ["status", run_id], ["graph", flow])]
    assert all(x.status == 0 for x in shown), shown

    for out in [v, r, resumed, *shown]:
        assert SECRET not in out.stdout + out.stderr and ROTATED not in out.stdout + out.stderr, out
    assert SECRET not in trace.read_text() and "[from env_file]" in trace.read_text()
    state = tmp_path / "state"
    assert table_hits(state / "state.db", SECRET, ROTATED) == []
    # The database's files, the run directory: only what the step itself wrote to stderr
    # (its own business) holds a secret (the resumed attempt, numbered 1 again, wrote over it).
    assert hits(state, SECRET, ROTATED) == [f"runs/secretive/{run_id}/logs/refused.1.err"]


def test_env_file_problems_name_the_file_and_line(wf, tmp_path):
    flow = write(tmp_path, '''
        [[step]]
        id = "a"
        run = "touch ran"
        env_file = ["ok.env", "bad.env"]
        ''')
    (tmp_path / "ok.env").write_text("A=1\n")
    (tmp_path / "bad.env").write_text(f"A=1\n\n{SECRET}\n")
    bad = str(tmp_path / "bad.env")
    for command in ("validate", "run"):
        r = run("wf-run", command, flow, env=wf, cwd=tmp_path)
        assert r.status == 2 and r.stdout == "", r
        assert f"{bad}:3:1: expected KEY=value" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
        assert SECRET not in r.stderr
    (tmp_path / "bad.env").unlink()
    for command in ("validate", "run"):
        r = run("wf-run", command, flow, env=wf, cwd=tmp_path)
        assert r.status == 3 and r.stdout == "", r
        assert f"{flow}:5:23: env_file: {bad}: open: No such file or directory" in r.stderr, r.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "state" / "runs").exists()


# --- state: kill, resume, overlap, cancel ------------------------------------------------------

RESUMABLE = '''
    name = "resumable"
    [[step]]
    id = "first"
    run = "echo x >> {tmp}/first.count"
    [[step]]
    id = "slow"
    needs = "first"
    run = 'echo x >> {tmp}/slow.count; if [ -f {tmp}/go ]; then exit 0; fi; sleep 44.5'
    [[step]]
    id = "last"
    needs = "slow"
    run = "echo x >> {tmp}/last.count"
    '''


def test_sigkill_mid_run_then_resume_runs_only_what_did_not_finish(wf, tmp_path):
    flow = write(tmp_path, RESUMABLE.format(tmp=tmp_path))
    proc = start(wf, "run", flow)
    seen = wait_for_event(proc, "step_started", "slow")
    run_id = seen[0]["run_id"]
    time.sleep(0.2)
    proc.kill()
    proc.wait()
    s = status(wf, run_id)
    assert s["status"] == "interrupted"
    assert steps_of(s)["first"]["status"] == "succeeded" and steps_of(s)["slow"]["status"] == "running"
    assert alive("sleep 44.5"), "the step outlives a SIGKILLed wf-run (resume must stop it)"

    (tmp_path / "go").touch()
    r = run("wf-run", "resume", run_id, env=wf)
    assert r.status == 0, r
    assert alive("sleep 44.5") == []
    assert r.records[0]["event"] == "run_resumed" and r.records[0]["run_id"] == run_id
    assert [e["step"] for e in events(r, "step_started")] == ["slow", "last"]
    assert [(tmp_path / f"{s}.count").read_text().count("x") for s in ("first", "slow", "last")] == [1, 2, 1]
    s = status(wf, run_id)
    assert s["status"] == "succeeded" and s["resumes"] == 1
    assert run("wf-run", "resume", run_id, env=wf).status == 0  # nothing left to do


ORPHANING = '''
    name = "orphaning"
    [params]
    secs = "0"
    [[step]]
    id = "nap"
    run = 'echo x >> {tmp}/nap.count; if [ -f {tmp}/go ]; then exit 0; fi; sleep $secs'
    '''


def kill_mid_step(wf, flow):
    """Starts a run whose step sleeps 46.5 s, SIGKILLs wf-run once the step started, and
    returns the run id and the step's process group (which outlives wf-run)."""
    proc = start(wf, "run", "-p", "secs=46.5", flow)
    [started] = [e for e in wait_for_event(proc, "step_started", "nap") if e["event"] == "step_started"]
    deadline = time.time() + 10
    while not alive("sleep 46.5") and time.time() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert alive("sleep 46.5"), "the step outlives a SIGKILLed wf-run"
    return started["run_id"], started["pgid"]


def test_a_run_refuses_while_steps_of_a_sigkilled_run_still_run(wf, tmp_path):
    flow = write(tmp_path, ORPHANING.format(tmp=tmp_path))
    run_id, pgid = kill_mid_step(wf, flow)
    # What cron starts next: the workflow's lock is free (wf-run died), its step is not.
    again = run("wf-run", "run", flow, env=wf)
    assert again.status == 75, again
    assert again.stdout == ""
    assert f"run {run_id}" in again.stderr and "nap" in again.stderr and f"process group {pgid}" in again.stderr, again.stderr
    assert alive("sleep 46.5"), "refusing leaves the step alone"
    assert len(records(run("wf-run", "history", "--json", env=wf).stdout)) == 1
    # --allow-overlap runs beside it, as it runs beside a live run.
    assert run("wf-run", "run", "--allow-overlap", flow, env=wf).status == 0
    # Once the leftover step has ended, runs start again.
    os.killpg(pgid, signal.SIGKILL)
    deadline = time.time() + 10
    while alive("sleep 46.5") and time.time() < deadline:
        time.sleep(0.02)
    ok = run("wf-run", "run", flow, env=wf)
    assert ok.status == 0, ok
    assert status(wf, run_id)["status"] == "interrupted"

    # resume stops the leftover step and finishes the run; then runs start again.
    run_id, pgid = kill_mid_step(wf, flow)
    assert run("wf-run", "run", flow, env=wf).status == 75
    (tmp_path / "go").touch()
    resumed = run("wf-run", "resume", run_id, env=wf)
    assert resumed.status == 0, resumed
    assert alive("sleep 46.5") == []
    ok = run("wf-run", "run", flow, env=wf)
    assert ok.status == 0, ok
    assert (tmp_path / "nap.count").read_text().count("x") == 6


def test_a_run_refuses_while_steps_of_a_sigkilled_run_still_run_and_cancel_clears_them(wf, tmp_path):
    flow = write(tmp_path, ORPHANING.format(tmp=tmp_path))
    run_id, pgid = kill_mid_step(wf, flow)
    assert run("wf-run", "run", flow, env=wf).status == 75
    assert run("wf-run", "cancel", run_id, env=wf).status == 0
    assert alive("sleep 46.5") == []
    ok = run("wf-run", "run", flow, env=wf)
    assert ok.status == 0, ok


def test_a_second_run_of_a_running_workflow_exits_75_unless_overlap_is_allowed(wf, tmp_path):
    flow = write(tmp_path, '''
        name = "locked"
        [[step]]
        id = "hold"
        run = "sleep 2"
        ''')
    proc = start(wf, "run", flow)
    seen = wait_for_event(proc, "step_started", "hold")
    began = time.time()
    second = run("wf-run", "run", flow, env=wf)
    assert second.status == 75, second
    assert time.time() - began < 2
    assert "already running" in second.stderr and seen[0]["run_id"] in second.stderr
    assert second.stdout == ""
    both = run("wf-run", "run", "--allow-overlap", flow, env=wf)
    assert both.status == 0, both
    assert proc.wait(timeout=10) == 0
    assert len(records(run("wf-run", "history", "--json", env=wf).stdout)) == 2


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_steps_records_the_run_cancelled_and_resume_finishes_it(wf, tmp_path, sig, code):
    flow = write(tmp_path, RESUMABLE.format(tmp=tmp_path))
    proc = start(wf, "run", flow)
    seen = wait_for_event(proc, "step_started", "slow")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == code, err
    tail = records(out)
    assert [e["event"] for e in tail] == ["step_cancelled", "run_cancelled"]
    assert alive("sleep 44.5") == []
    run_id = seen[0]["run_id"]
    assert status(wf, run_id)["status"] == "cancelled"
    (tmp_path / "go").touch()
    r = run("wf-run", "resume", run_id, env=wf)
    assert r.status == 0, r
    assert status(wf, run_id)["status"] == "succeeded"


def test_cancel_stops_a_running_run(wf, tmp_path):
    flow = write(tmp_path, RESUMABLE.format(tmp=tmp_path))
    proc = start(wf, "run", flow)
    seen = wait_for_event(proc, "step_started", "slow")
    c = run("wf-run", "cancel", seen[0]["run_id"][:15], env=wf)
    assert c.status == 0, c
    assert proc.wait(timeout=10) == 143
    assert status(wf)["status"] == "cancelled"
    again = run("wf-run", "cancel", seen[0]["run_id"], env=wf)
    assert again.status == 2 and "not running" in again.stderr


# --- reading runs back -------------------------------------------------------------------------

def test_status_history_and_logs_say_what_ran_and_why_it_failed(wf, tmp_path):
    flow = write(tmp_path, '''
        name = "reports"
        [[step]]
        id = "ok"
        run = "echo hello; echo warming up >&2"
        [[step]]
        id = "bad"
        needs = "ok"
        run = "echo 'disk full on /data' >&2; exit 7"
        ''')
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 1
    run_id = r.records[0]["run_id"]
    s = status(wf)
    assert s["run_id"] == run_id and s["status"] == "failed" and s["workflow"] == "reports"
    assert s["message"] == "1 step failed: bad"
    bad = steps_of(s)["bad"]
    assert (bad["exit_status"], bad["reason"], bad["message"]) == (7, "exit_status", "exit status 7: disk full on /data")
    h = records(run("wf-run", "history", "--workflow", "reports", "--json", env=wf).stdout)
    assert [(x["run_id"], x["status"], x["steps_succeeded"], x["steps_failed"]) for x in h] == [(run_id, "failed", 1, 1)]
    both = run("wf-run", "logs", run_id, env=wf).stdout
    assert "==> ok, attempt 1, stdout <==\nhello\n" in both and "==> bad, attempt 1, stderr <==\ndisk full on /data\n" in both
    assert run("wf-run", "logs", run_id, "ok", "--stream", "stderr", env=wf).stdout == "warming up\n"
    nope = run("wf-run", "status", "nosuchrun", env=wf)
    assert nope.status == 2 and "no run 'nosuchrun'" in nope.stderr


# --- files: errors, graph, schedule ------------------------------------------------------------

BAD_FILES = [
    ('[[step]]\nid = "a"\nrun = "true"\nneeds = ["b"]\n', 4, 10, "needs: unknown step 'b'"),
    ('[[step]]\nid = "fetch"\nrun = "true"\n[[step]]\nid = "b"\nrun = "true"\nneeds = "fecth"\n', 7, 9,
     "unknown step 'fecth' (did you mean 'fetch'?)"),
    ('[[step]]\nid = "a"\nrun = "true"\nneeds = "b"\n[[step]]\nid = "b"\nrun = "true"\nneeds = "a"\n', 1, 1, "cycle: a -> b -> a"),
    ('schedule = "61 * * * *"\n[[step]]\nid = "a"\nrun = "true"\n', 1, 13, "schedule: minute"),
    ('schedule = "0 0 * *"\n[[step]]\nid = "a"\nrun = "true"\n', 1, 20, "schedule: expected 5 fields"),
    ('timezone = "Mars/Olympus"\n[[step]]\nid = "a"\nrun = "true"\n', 1, 12, "timezone:"),
    ('[[step]]\nid = "a"\nrun = "true"\ntimeout = "soon"\n', 4, 11, "timeout: expected a duration"),
    ('[[step]]\nid = "a"\nrun = "true"\nretries = -1\n', 4, 11, "retries: -1 is out of range"),
    ('[[step]]\nid = "a"\nrun = "true"\nretry = 3\n', 4, 1, "unknown key 'retry' in a step"),
    ('[[step]]\nid = "a"\nrun = "true"\nwhen = "sometimes"\n', 4, 8, "when: expected success, failure or always"),
    ('[[step]]\nid = "a"\nrun = "true"\n[[step]]\nid = "a"\nrun = "true"\n', 4, 1, "duplicate step id 'a'"),
    ('[[step]]\nid = "a"\nrun = "true\n', 3, 7, ""),
    ('[[step]]\nid = "a"\nrun = "true"\nneeds = ["a", 1]\n', 4, 15, "needs[1]: expected a step id (string), got integer"),
    ('[[step]]\nid = "a"\nrun = "true"\nneeds = 1\n', 4, 9, "needs: expected a step id or a list of them, got integer"),
    ('schedule = "0 0 30 2 *"\n[[step]]\nid = "a"\nrun = "true"\n', 1, 17, "schedule: never fires: February has no day 30"),
    ('schedule = "0 0 31 4,jun,9,11 *"\n[[step]]\nid = "a"\nrun = "true"\n', 1, 17,
     "schedule: never fires: April, June, September and November have no day 31"),
    ('[[step]]\nid = "a"\n', 1, 1, "missing run"),
    ('name = "x"\n', 0, 0, "no steps"),
]


@pytest.mark.parametrize("text,line,column,message", BAD_FILES)
def test_bad_files_are_reported_with_line_and_column(wf, tmp_path, text, line, column, message):
    flow = write(tmp_path, text)
    v = run("wf-run", "validate", flow, env=wf)
    assert v.status == 2, v
    where = f"{flow}:{line}:{column}: " if line else f"{flow}: "
    assert any(l.startswith(where) and message in l for l in v.stderr.splitlines()), v.stderr
    r = run("wf-run", "run", flow, env=wf)
    assert r.status == 2 and r.stdout == ""
    assert not (tmp_path / "state" / "runs").exists()


# Every workflow in examples/, found by glob: a new example is checked without a test edit.
EXAMPLE_FLOWS = sorted((ROOT / "examples").glob("*.toml"))


def test_the_examples_have_workflows():
    assert len(EXAMPLE_FLOWS) >= 2, EXAMPLE_FLOWS


@pytest.mark.parametrize("flow", EXAMPLE_FLOWS, ids=lambda p: p.name)
def test_validate_and_graph_accept_every_example(wf, flow):
    v = run("wf-run", "validate", str(flow), env=wf)
    assert v.status == 0 and v.stderr == "", v
    assert v.stdout.startswith(f"{flow}: ok: workflow "), v
    g = run("wf-run", "graph", str(flow), env=wf)
    assert g.status == 0 and g.stdout, g


def test_validate_takes_all_the_examples_at_once_and_graph_draws_the_daily_one(wf):
    v = run("wf-run", "validate", *map(str, EXAMPLE_FLOWS), env=wf)
    assert v.status == 0, v
    assert [l.split(": ok: ")[0] for l in v.stdout.splitlines()] == list(map(str, EXAMPLE_FLOWS))
    assert "binance-daily.toml: ok: workflow binance-daily, 5 steps" in v.stdout
    daily = str(ROOT / "examples" / "binance-daily.toml")
    dot = run("wf-run", "graph", "--format", "dot", daily, env=wf).stdout
    assert dot.startswith('digraph "binance-daily" {') and '"discover" -> "collect";' in dot and '"collect" -> "lake";' in dot
    text = run("wf-run", "graph", daily, env=wf).stdout
    rows = [l.split()[:2] for l in text.splitlines()[3:]]
    assert rows[:4] == [["1", "discover"], ["2", "collect"], ["2", "gaps"], ["3", "lake"]]


def test_next_lists_firings_in_the_workflows_time_zone(wf, tmp_path):
    flow = write(tmp_path, '''
        schedule = "30 2 * * *"
        timezone = "America/New_York"
        [[step]]
        id = "a"
        run = "true"
        ''')
    r = run("wf-run", "next", "-n", "3", "--after", "2026-03-07T12:00:00Z", flow, env=wf)
    assert r.status == 0, r
    # 02:30 does not exist on 2026-03-08 in New York: it fires when the clocks jump, at 03:00 EDT.
    assert r.stdout.splitlines() == ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"]


def test_next_on_a_schedule_that_never_fires_says_so_and_exits_2(wf, tmp_path):
    flow = write(tmp_path, 'schedule = "0 0 30 2 *"\n[[step]]\nid = "a"\nrun = "true"\n')
    r = run("wf-run", "next", flow, env=wf)
    assert r.status == 2 and r.stdout == "", r
    assert f"{flow}:1:17: schedule: never fires: February has no day 30" in r.stderr, r.stderr


def test_schedule_starts_runs_stops_on_sigterm_and_catches_up(wf, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    write(flows, '''
        name = "ticker"
        schedule = "*/2 * * * * *"
        [[step]]
        id = "tick"
        run = 'echo "$WF_SCHEDULED_TIME" >> {}/ticks'
        '''.format(tmp_path), "ticker.toml")
    write(flows, '[[step]]\nid = "x"\nrun = "true"\n', "unscheduled.toml")
    ticks_file = tmp_path / "ticks"

    def ticks():
        return ticks_file.read_text().split() if ticks_file.exists() else []

    def wait_for_ticks(n, timeout=20):
        deadline = time.time() + timeout
        while len(ticks()) < n and time.time() < deadline:
            time.sleep(0.1)
        assert len(ticks()) >= n, ticks()

    began = time.time()
    proc = start(wf, "schedule", str(flows))
    wait_for_ticks(2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 143, err
    first = ticks()
    # Firings on even seconds, one run each, never before the scheduler started.
    assert all(int(t[17:19]) % 2 == 0 for t in first) and len(set(first)) == len(first), first
    assert all(t.endswith(".000Z") for t in first)
    runs = records(run("wf-run", "history", "--json", env=wf).stdout)
    assert all(r["scheduled_at"] for r in runs)
    assert sum(r["status"] == "succeeded" for r in runs) >= 2
    assert {r["status"] for r in runs} <= {"succeeded", "cancelled"}

    time.sleep(4.5)  # two firings or more missed while down
    restart = time.time()
    proc = start(wf, "schedule", "--catch-up", "1h", str(flows))
    wait_for_ticks(len(first) + 2)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    caught = ticks()[len(first):]
    assert caught == sorted(caught) and caught[0] > first[-1], (first, caught)
    # The first two came from the catch-up: firings from while it was down.
    from datetime import datetime
    when = [datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in caught[:2]]
    assert all(w < restart for w in when), (caught, restart)
    assert time.time() - began < 60


# --- observability -----------------------------------------------------------------------------

def test_the_run_is_a_trace_each_step_a_span_and_metrics_pass_promtool(wf, tmp_path):
    from conftest import VENV_BIN
    trace = tmp_path / "trace.ndjson"
    metrics = tmp_path / "wf.prom"
    flow = write(tmp_path, '''
        name = "traced"
        [[step]]
        id = "plan"
        run = "echo '' | arc-plan --dest /tmp/nowhere > /dev/null"
        [[step]]
        id = "flaky"
        needs = "plan"
        run = '[ "$WF_ATTEMPT" -ge 2 ]'
        retries = 1
        retry_delay = "50ms"
        ''')
    e = dict(wf, PATH=f"{Path(tool('wf-run')).parent}:{os.environ['PATH']}")
    r = run("wf-run", "run", "--trace", str(trace), "--metrics-file", str(metrics), flow, env=e)
    assert r.status == 0, r
    spans = records(trace.read_text())
    [root] = [s for s in spans if s["name"] == "wf-run traced"]
    steps = [s for s in spans if s["name"] == "wf.step"]
    assert sorted((s["attributes"]["step"], s["attributes"]["attempt"], s["status"]) for s in steps) == \
        [("flaky", 1, "error"), ("flaky", 2, "ok"), ("plan", 1, "ok")]
    assert all(s["parent_span_id"] == root["span_id"] and s["trace_id"] == root["trace_id"] for s in steps)
    [plan_step] = [s for s in steps if s["attributes"]["step"] == "plan"]
    [arc_plan] = [s for s in spans if s["service"] == "arc-plan"]
    assert arc_plan["parent_span_id"] == plan_step["span_id"]
    assert r.records[0]["trace_id"] == root["trace_id"]
    text = metrics.read_text()
    promtool = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert promtool.returncode == 0, promtool.stderr + promtool.stdout
    assert 'wf_run_steps_total{status="succeeded"} 2' in text
    assert "wf_run_step_attempts_total 3" in text
    assert 'wf_run_run_success{workflow="traced"} 1' in text
    assert "wf_run_exit_status 0" in text


def test_unreadable_files_and_an_unreachable_state_database(wf, tmp_path):
    garbage = tmp_path / "garbage.toml"
    garbage.write_bytes(b"\x00\xff not text")
    r = run("wf-run", "run", str(garbage), env=wf)
    assert r.status == 2 and "not UTF-8 text" in r.stderr and r.stdout == ""
    empty = write(tmp_path, "", "empty.toml")
    r = run("wf-run", "validate", empty, env=wf)
    assert r.status == 2 and f"{empty}: no steps" in r.stderr
    r = run("wf-run", "run", str(tmp_path / "missing.toml"), env=wf)
    assert r.status == 3 and "missing.toml: open: No such file or directory" in r.stderr
    flow = write(tmp_path, '[[step]]\nid = "a"\nrun = "touch ran"\n')
    (tmp_path / "not-a-dir").write_text("")
    r = run("wf-run", "run", flow, env=dict(wf, ARC_STATE=str(tmp_path / "not-a-dir" / "state.db")), cwd=tmp_path)
    assert r.status == 3 and r.stdout == ""
    assert not (tmp_path / "ran").exists(), "nothing runs without a log to record it in"
