"""wf-run with ARC_STATE=postgres://...: runs and events in a real PostgreSQL (the session's
`postgres` fixture, a database per test) shared by "machines" that are directories of
their own here (each its own working directory, HOME and state directory, so its own run
directories), seen alike from every one of them, with the same output as a SQLite state.
"""
import os
import subprocess
import textwrap
import time
import uuid

import pytest

from arcservers import postgres_bin
from conftest import records, run, tool


def psql(url, sql):
    r = subprocess.run([str(postgres_bin() / "psql"), "-XAt", "-F", "\t", url, "-c", sql], capture_output=True,
                       text=True, env={k: v for k, v in os.environ.items() if not k.startswith("PG")}, timeout=30)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines()]


def clean_env(state, home):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_", "WF_", "XDG_")) and k != "TRACEPARENT"}
    e.update(ARC_STATE=str(state), ARC_LOG_FORMAT="json", HOME=str(home), XDG_STATE_HOME=str(home / "state"))
    return e


@pytest.fixture
def database(postgres):
    """A fresh database of this test's own on the session's server; its URL."""
    name = "wf_" + uuid.uuid4().hex[:12]
    psql(postgres.url, f"CREATE DATABASE {name}")
    yield postgres.url.rsplit("/", 1)[0] + "/" + name
    psql(postgres.url, f"DROP DATABASE {name} WITH (FORCE)")


class Machine:
    """A machine sharing the state: its own directory as HOME, working directory and
    state directory (where its runs directories go by default)."""

    def __init__(self, root, state):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.env = clean_env(state, root)

    @property
    def runs(self):
        return self.root / "state" / "arc" / "runs"

    def wf(self, *args, **kw):
        return run("wf-run", *args, env=self.env, cwd=self.root, **kw)

    def on_terminal(self, *args):
        """What wf-run prints for a person: its stdout a terminal (a pty), so tables."""
        import pty
        main, child = pty.openpty()
        try:
            p = subprocess.run([tool("wf-run"), *args], stdout=child, stderr=subprocess.PIPE, env=self.env,
                               cwd=self.root, timeout=60)
            os.close(child)
            child = None
            out = b""
            while True:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # EIO: the writer is gone and all was read
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            os.close(main)
            if child is not None:
                os.close(child)
        assert p.returncode == 0, p.stderr
        return out.decode().replace("\r\n", "\n")

    def start(self, *args):
        return subprocess.Popen([tool("wf-run"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env, cwd=self.root)


@pytest.fixture
def machines(database, tmp_path):
    return [Machine(tmp_path / f"machine{n}", database) for n in (1, 2, 3)]


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


FLOW = '''
    name = "shared"
    [params]
    who = "nobody"
    [[step]]
    id = "hello"
    run = "echo hello from $who"
    [[step]]
    id = "count"
    needs = "hello"
    run = "echo x >> {tmp}/count.$who"
    '''


def shapes(m, *run_ids):
    """What status and history print, reduced to their shape: the records' keys (and the
    steps'), the tables' header lines and first columns."""
    history = m.wf("history", "--json")
    assert history.status == 0, history
    out = {"history_keys": sorted({k for r in history.records for k in r}),
           "history_header": m.on_terminal("history").splitlines()[0].split()}
    for run_id in run_ids:
        s = m.wf("status", "--json", run_id)
        assert s.status == 0, s
        [rec] = s.records
        out.setdefault("status_keys", sorted(rec))
        out.setdefault("step_keys", sorted({k for st in rec["steps"] for k in st}))
        t = m.on_terminal("status", run_id)
        out.setdefault("status_labels", [line.split()[0] for line in t.splitlines() if line.strip()])
    return out


def test_runs_from_two_machines_are_seen_from_a_third_as_with_sqlite(machines, tmp_path):
    one, two, three = machines
    flow = write(tmp_path / "flow.toml", FLOW.format(tmp=tmp_path))
    ran = []
    for m, who in [(one, "one"), (two, "two")]:
        r = m.wf("run", flow, "-p", f"who={who}")
        assert r.status == 0, r
        ran.append(r.records[0]["run_id"])
        assert (m.runs / "shared" / ran[-1] / "workflow.toml").exists(), "the run's directory is on its machine"
        assert (tmp_path / f"count.{who}").read_text() == "x\n"
    assert not (three.root / "state").exists()

    history = three.wf("history", "--json")
    assert history.status == 0, history
    assert [(h["run_id"], h["status"], h["params"], h["run_dir"], h["steps_succeeded"]) for h in history.records] == [
        (ran[1], "succeeded", {"who": "two"}, str(two.runs / "shared" / ran[1]), 2),
        (ran[0], "succeeded", {"who": "one"}, str(one.runs / "shared" / ran[0]), 2)]
    for run_id, m in zip(ran, (one, two)):
        s = three.wf("status", "--json", run_id)
        assert s.status == 0, s
        [rec] = s.records
        assert rec["status"] == "succeeded" and [x["step"] for x in rec["steps"]] == ["hello", "count"], rec
        assert three.wf("logs", run_id, "hello").stdout == f"hello from {'one' if m is one else 'two'}\n"
    newest = three.wf("status", "--json")
    assert newest.records[0]["run_id"] == ran[1]
    assert three.on_terminal("status").startswith(f"run       {ran[1]}\n")
    assert not (three.root / "state").exists(), "reading the shared state leaves nothing on the machine"
    assert psql(one.env["ARC_STATE"], "SELECT count(*) FROM wf_runs") == [["2"]]

    # The same runs on a SQLite state print the same shape.
    local = Machine(tmp_path / "local", tmp_path / "local" / "state.db")
    local_ids = [local.wf("run", flow, "-p", f"who={who}").records[0]["run_id"] for who in ("one", "two")]
    assert shapes(three, *ran) == shapes(local, *local_ids)


def test_a_workflow_running_on_one_machine_is_refused_on_another(machines, tmp_path):
    one, two, three = machines
    flow = write(tmp_path / "slow.toml", f'''
        name = "slow"
        [[step]]
        id = "hold"
        run = "while [ ! -f {tmp_path}/go ]; do sleep 0.05; done"
        ''')
    proc = one.start("run", flow)
    first = records(proc.stdout.readline())[0]
    assert first["event"] == "run_started", first
    run_id = first["run_id"]
    try:
        began = time.time()
        second = two.wf("run", flow)
        assert second.status == 75, second
        assert time.time() - began < 5
        [line] = second.stderr.splitlines()
        assert "workflow slow is already running" in line and run_id in line and "another machine" in line, line
        s = three.wf("status", "--json", run_id)
        assert s.records[0]["status"] == "running", s
        # A machine without the run's directory (here: moved away for a moment) cannot
        # signal its process: cancel says where to do it.
        run_dir = one.runs / "slow" / run_id
        os.rename(run_dir, tmp_path / "away")
        try:
            c = two.wf("cancel", run_id)
            assert not run_dir.exists(), "the refused cancel made nothing"
        finally:
            os.rename(tmp_path / "away", run_dir)
        assert c.status == 3 and "running on another machine" in c.stderr and "cancel it there" in c.stderr, c
        assert proc.poll() is None, "the run goes on"
    finally:
        (tmp_path / "go").touch()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert three.wf("status", "--json", run_id).records[0]["status"] == "succeeded"
    assert two.wf("run", flow).status == 0, "free again once the first ended"


def test_a_failed_run_resumes_from_postgres(machines, tmp_path):
    one, two, three = machines
    flow = write(tmp_path / "flaky.toml", f'''
        name = "flaky"
        [[step]]
        id = "first"
        run = "echo x >> {tmp_path}/first.count"
        [[step]]
        id = "second"
        needs = "first"
        run = "echo x >> {tmp_path}/second.count; test -f {tmp_path}/go"
        ''')
    r = one.wf("run", flow)
    assert r.status == 1, r
    run_id = r.records[0]["run_id"]
    failed = three.wf("status", "--json", run_id).records[0]
    assert failed["status"] == "failed" and failed["steps_failed"] == 1, failed
    (tmp_path / "go").touch()

    # Another machine, without the run's directory, is told where to resume it.
    run_dir = one.runs / "flaky" / run_id
    os.rename(run_dir, tmp_path / "away")
    try:
        elsewhere = two.wf("resume", run_id)
        assert not run_dir.exists(), "the refused resume made nothing"
    finally:
        os.rename(tmp_path / "away", run_dir)
    assert elsewhere.status == 2 and "ran on another machine" in elsewhere.stderr, elsewhere

    resumed = one.wf("resume", run_id[:15])
    assert resumed.status == 0, resumed
    assert resumed.records[0]["event"] == "run_resumed"
    assert [e["step"] for e in resumed.records if e["event"] == "step_started"] == ["second"]
    assert [(tmp_path / f"{s}.count").read_text() for s in ("first", "second")] == ["x\n", "x\nx\n"]
    done = three.wf("status", "--json", run_id).records[0]
    assert done["status"] == "succeeded" and done["resumes"] == 1, done
    assert [h["status"] for h in three.wf("history", "--json").records] == ["succeeded"]


def test_a_database_that_is_down_is_exit_3(tmp_path):
    m = Machine(tmp_path / "m", "postgres://arc:secret@127.0.0.1:1/arc")
    flow = write(tmp_path / "flow.toml", f'[[step]]\nid = "a"\nrun = "touch {tmp_path}/ran"\n')
    for args in (["run", flow], ["status"], ["history"], ["resume", "x"]):
        r = m.wf(*args)
        assert r.status == 3, (args, r)
        assert len(r.stderr.splitlines()) == 1 and "Connection refused" in r.stderr, (args, r)
        assert "secret" not in r.stderr and r.stdout == ""
    assert not (tmp_path / "ran").exists(), "nothing runs without a log to record it in"


# --- every wf-run test again, on PostgreSQL ----------------------------------------------------
# test_wf_run.py's tests, collected here a second time as test_pg_*: they ask for `wf`,
# which here is a PostgreSQL state (with the runs directory where the SQLite state keeps
# it), so the whole suite proves the same behaviour on both backends.

import test_wf_run  # noqa: E402

for _name, _test in list(vars(test_wf_run).items()):
    if _name.startswith("test_") and callable(_test):
        globals()["test_pg_" + _name[len("test_"):]] = _test


@pytest.fixture
def wf(database, tmp_path):
    e = clean_env(database, tmp_path / "home")
    e["WF_RUNS_DIR"] = str(tmp_path / "state" / "runs")
    return e


@pytest.fixture(autouse=True)
def tables_in_postgres(request, monkeypatch):
    """The suite's look through every table for a secret, made to look in PostgreSQL."""
    if not request.node.name.startswith("test_pg_"):
        return
    url = request.getfixturevalue("database") if "wf" in request.fixturenames else None

    def table_hits(_db, *secrets):
        tables = [t for [t] in psql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
        assert "wf_events" in tables, tables
        found = []
        for t in tables:
            for [text] in psql(url, f'SELECT t::text FROM "{t}" t'):
                if any(s in text for s in secrets):
                    found.append(f"{t}: {text}")
        return found
    monkeypatch.setattr(test_wf_run, "table_hits", table_hits)
