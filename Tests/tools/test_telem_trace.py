"""telem-trace: exec around real arc pipelines, the store, show/ls/stats, OTLP in (serve,
fed by opentelemetry-proto's own JSON) and out (export, checked by a strict receiver)."""
import base64
import gzip
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import BIN, free_port, on_tty, records, run, tool
from otlp_receiver import OTLPReceiver

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def span(span_id, name, start, end, parent=None, status="ok", service=None, message=None, trace=TRACE, **extra):
    """A span record with times given as seconds after 2024-01-02T03:00:00Z."""
    def at(seconds):
        micros = round(seconds * 1_000_000)
        return f"2024-01-02T03:{micros // 60_000_000:02d}:{micros // 1_000_000 % 60:02d}.{micros % 1_000_000:06d}Z"
    r = {"trace_id": trace, "span_id": span_id, "name": name, "service": service or name.split(" ")[0],
         "start": at(start), "end": at(end), "duration_ms": round((end - start) * 1000), "status": status,
         "attributes": extra.pop("attributes", {})}
    if parent:
        r["parent_span_id"] = parent
    if message:
        r["status_message"] = message
    r.update(extra)
    return r


# The nightly run of the show snapshot: the shell's span, two stages, a stage's two tasks.
NIGHTLY = [
    span("00f067aa0ba902b7", "nightly", 0, 1.2, status="error", message="exit status 1", service="telem-trace",
         attributes={"command": "sh -c 'arc-plan | arc-collect'"}),
    span("00f067aa0ba902b8", "arc-plan", 0.01, 0.3, parent="00f067aa0ba902b7"),
    span("00f067aa0ba902b9", "arc-collect", 0.02, 1.19, parent="00f067aa0ba902b7", status="error",
         message="1 task failed", attributes={"jobs": 16}),
    span("00f067aa0ba902c1", "collect.task", 0.3, 0.7, parent="00f067aa0ba902b9", service="arc-collect",
         attributes={"url": "http://127.0.0.1/a.zip", "bytes": 1234, "verified": True, "ratio": 0.5},
         events=[{"name": "retry", "time": "2024-01-02T03:00:00.400000Z", "attributes": {"attempt": 2}}]),
    span("00f067aa0ba902c2", "collect.task", 0.7, 1.1, parent="00f067aa0ba902b9", service="arc-collect",
         status="error", message="checksum_mismatch", attributes={"url": "http://127.0.0.1/b.zip"}),
]

SHOW_60 = """\
trace 4bf92f3577b34da6a3ce929d0e0e4736  nightly  2024-01-02T03:00:00.000000Z  1.20s  5 spans  3 failed
                      0                       1.20s
* ✗ nightly          │█████████████████████████████│   1.20s
  ├─ arc-plan        │████████                     │   290ms
* └─ ✗ arc-collect   │█████████████████████████████│   1.17s
*    ├─ collect.tas… │       ██████████            │   400ms
*    └─ ✗ collect.t… │                ███████████  │   400ms

✗ nightly: exit status 1
✗ arc-collect: 1 task failed
✗ collect.task: checksum_mismatch

* critical path
"""


@pytest.fixture
def tenv(tmp_path):
    """No inherited trace context or collector; the arc tools first in PATH; a fresh state."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("ARC_", "OTEL_")) and k != "TRACEPARENT"}
    e.update(ARC_STATE=str(tmp_path / "state.db"), ARC_LOG_FORMAT="json", TMPDIR=str(tmp_path),
             PATH=f"{BIN}:{os.environ['PATH']}")
    return e


def write_spans(path, spans, extra_lines=()):
    path.write_text("".join(json.dumps(s) + "\n" for s in spans) + "".join(l + "\n" for l in extra_lines))
    return path


def stored(env, sql="SELECT * FROM spans ORDER BY start_ns"):
    db = sqlite3.connect(env["ARC_STATE"])
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(sql)]
    finally:
        db.close()


def ingest(env, path):
    r = run("telem-trace", "ingest", str(path), env=env)
    assert r.status == 0, r
    return r


# --- show, ls, stats on known data ----------------------------------------------------------

def test_show_renders_the_tree_waterfall_failures_and_critical_path(tenv, tmp_path):
    f = write_spans(tmp_path / "nightly.ndjson", NIGHTLY)
    ingest(tenv, f)
    r = run("telem-trace", "show", "--no-color", "--width", "60", TRACE, env=tenv)
    assert r.status == 0, r
    assert r.stdout == SHOW_60
    # A unique prefix, the latest trace, and the file read directly all show the same.
    assert run("telem-trace", "show", "--width", "60", "4bf9", env=tenv).stdout == SHOW_60
    assert run("telem-trace", "show", "--width", "60", env=tenv).stdout == SHOW_60
    other = dict(tenv, ARC_STATE=str(tmp_path / "none.db"))
    assert run("telem-trace", "show", "--width", "60", "--file", str(f), env=other).stdout == SHOW_60
    # --json: the trace's span records, as ingested.
    back = run("telem-trace", "show", "--json", TRACE, env=tenv).records
    assert sorted(back, key=lambda s: s["span_id"]) == sorted(NIGHTLY, key=lambda s: s["span_id"])


def test_show_wider_uses_the_width_and_unknown_or_ambiguous_ids_exit_2(tenv, tmp_path):
    other = "4bf9" + "0" * 27 + "1"
    ingest(tenv, write_spans(tmp_path / "a.ndjson", NIGHTLY + [span("00000000000000a1", "other", 5, 6, trace=other)]))
    wide = run("telem-trace", "show", "--width", "120", TRACE, env=tenv)
    assert wide.status == 0
    rows = [l for l in wide.stdout.splitlines() if "│" in l]
    assert len(rows) == 5 and all(len(l) == 120 for l in rows)
    # Wide enough, a row names what its span is about (the url's file name here).
    assert "├─ collect.task a.zip " in rows[3] and "└─ ✗ collect.task b.zip " in rows[4]
    ambiguous = run("telem-trace", "show", "4bf9", env=tenv)
    assert ambiguous.status == 2 and "several traces" in ambiguous.stderr
    missing = run("telem-trace", "show", "abcdef", env=tenv)
    assert missing.status == 2 and "no trace abcdef" in missing.stderr
    assert run("telem-trace", "show", "xyz", env=tenv).status == 2


def test_ls_lists_recent_traces_with_limit_and_since(tenv, tmp_path):
    late = "b" * 32
    ingest(tenv, write_spans(tmp_path / "a.ndjson", NIGHTLY + [
        span("00000000000000a1", "later run", 60, 62, trace=late),
        span("00000000000000a2", "stage", 60.5, 61, parent="00000000000000a1", trace=late, status="error")]))
    r = run("telem-trace", "ls", env=tenv)
    assert r.status == 0, r
    assert r.records == [
        {"trace_id": late, "name": "later run", "service": "later", "start": "2024-01-02T03:01:00.000000Z",
         "duration_ms": 2000, "status": "ok", "spans": 2, "errors": 1},
        {"trace_id": TRACE, "name": "nightly", "service": "telem-trace", "start": "2024-01-02T03:00:00.000000Z",
         "duration_ms": 1200, "status": "error", "spans": 5, "errors": 3},
    ]
    assert [t["trace_id"] for t in run("telem-trace", "ls", "--limit", "1", env=tenv).records] == [late]
    since = run("telem-trace", "ls", "--since", "2024-01-02T03:00:30Z", env=tenv).records
    assert [(t["trace_id"], t["spans"]) for t in since] == [(late, 2)]
    assert run("telem-trace", "ls", "--since", "1h", env=tenv).records == []
    assert run("telem-trace", "ls", "--since", "yesterday", env=tenv).status == 2


def test_with_arc_trace_file_set_nothing_in_the_store_points_at_the_file(tenv, tmp_path):
    """Spans written with ARC_TRACE_FILE went to that file, not the store: show, ls and stats
    finding nothing in the store say so and give the command line with --file."""
    f = write_spans(tmp_path / "spans.ndjson", NIGHTLY)
    e = dict(tenv, ARC_TRACE_FILE=str(f))
    latest = run("telem-trace", "show", env=e)
    assert latest.status == 2 and latest.stdout == ""
    assert "no trace (none stored yet) in the store" in latest.stderr
    assert f"ARC_TRACE_FILE is set, so spans went to {f}" in latest.stderr and f"telem-trace show --file {f}" in latest.stderr
    one = run("telem-trace", "show", TRACE[:8], env=e)
    assert one.status == 2 and f"telem-trace show {TRACE[:8]} --file {f}" in one.stderr
    for command in ("ls", "stats"):
        r = run("telem-trace", command, env=e)
        assert r.status == 0 and r.stdout == "", r
        [warning] = [l for l in r.logs if l["level"] == "warn"]
        assert warning["msg"].startswith("no ") and f"telem-trace {command} --file {f}" in warning["msg"]
        assert warning["trace_file"] == str(f)
    # The command it suggests finds the spans.
    assert run("telem-trace", "show", "--width", "60", "--file", str(f), TRACE, env=e).stdout == SHOW_60
    # No ARC_TRACE_FILE, or --file given: nothing to suggest.
    plain = run("telem-trace", "show", env=tenv)
    assert plain.status == 2 and "ARC_TRACE_FILE" not in plain.stderr
    assert [l for l in run("telem-trace", "ls", env=tenv).logs if l["level"] == "warn"] == []
    empty = write_spans(tmp_path / "empty.ndjson", [])
    assert "ARC_TRACE_FILE" not in run("telem-trace", "ls", "--file", str(empty), env=e).stderr


def test_stats_percentiles_are_nearest_rank_on_known_durations(tenv, tmp_path):
    # "step": 20 durations, 1..20 ms, shuffled; one failed. Nearest rank over n = 20:
    # p50 = 10th = 10 ms, p95 = 19th = 19 ms, p99 = 20th = 20 ms, max = 20 ms.
    order = [7, 3, 19, 1, 20, 12, 5, 16, 9, 2, 14, 11, 18, 4, 13, 6, 17, 8, 15, 10]
    spans = [span(f"{n:016x}", "step", 10 * i, 10 * i + ms / 1000, status="error" if ms == 13 else "ok")
             for i, (n, ms) in enumerate(zip(range(1, 21), order))]
    spans.append(span("00000000000000ff", "other", 300, 300.005))
    ingest(tenv, write_spans(tmp_path / "steps.ndjson", spans))
    r = run("telem-trace", "stats", env=tenv)
    assert r.status == 0, r
    assert r.records == [
        {"name": "other", "count": 1, "errors": 0, "p50_ms": 5, "p95_ms": 5, "p99_ms": 5, "max_ms": 5},
        {"name": "step", "count": 20, "errors": 1, "p50_ms": 10, "p95_ms": 19, "p99_ms": 20, "max_ms": 20},
    ]
    assert [s["name"] for s in run("telem-trace", "stats", "--name", "other", env=tenv).records] == ["other"]
    # Since the 11th step: 11..20 of the shuffled order.
    late = run("telem-trace", "stats", "--name", "step", "--since", "2024-01-02T03:01:40Z", env=tenv).records
    durations = sorted(order[10:])
    assert late == [{"name": "step", "count": 10, "errors": 1, "p50_ms": durations[4], "p95_ms": durations[9],
                     "p99_ms": durations[9], "max_ms": durations[9]}]


# --- ingest -----------------------------------------------------------------------------------

def test_ingest_is_idempotent_and_reports_bad_lines_with_their_numbers(tenv, tmp_path):
    good = write_spans(tmp_path / "good.ndjson", NIGHTLY)
    ingest(tenv, good)
    ingest(tenv, good)
    assert len(stored(tenv)) == 5
    bad = write_spans(tmp_path / "bad.ndjson", NIGHTLY[:2], extra_lines=[
        "not json",
        json.dumps(span("00000000000000e1", "x", 1, 2, trace="ABC")),
        json.dumps(dict(span("00000000000000e2", "x", 2, 1))),
        json.dumps(dict(span("00000000000000e3", "x", 1, 2), status="fine")),
        json.dumps({k: v for k, v in span("00000000000000e4", "x", 1, 2).items() if k != "start"}),
    ] + [json.dumps(s) for s in NIGHTLY[2:]])
    fresh = dict(tenv, ARC_STATE=str(tmp_path / "fresh.db"))
    r = run("telem-trace", "ingest", str(bad), env=fresh)
    assert r.status == 1, r
    warnings = [l["msg"] for l in r.logs if l["level"] == "warn"]
    assert len(warnings) == 5
    for line, text in [(3, "not a JSON object"), (4, 'field "trace_id"'), (5, "ends before it starts"),
                       (6, 'field "status"'), (7, 'field "start"')]:
        assert any(f"{bad}:{line}:" in w and text in w for w in warnings), (line, warnings)
    assert len(stored(fresh)) == 5
    summary = r.logs[-1]
    assert summary["spans"] == 5 and summary["bad_lines"] == 5

    # --strict: stops at line 3 (exit 2), keeping the two spans before it.
    strict = dict(tenv, ARC_STATE=str(tmp_path / "strict.db"))
    s = run("telem-trace", "ingest", "--strict", str(bad), env=strict)
    assert s.status == 2 and f"{bad}:3" in s.stderr
    assert len(stored(strict)) == 2


def test_ingest_reads_stdin_and_a_missing_file_is_exit_3(tenv, tmp_path):
    text = "".join(json.dumps(s) + "\n" for s in NIGHTLY)
    r = run("telem-trace", "ingest", input=text, env=tenv)
    assert r.status == 0, r
    assert len(stored(tenv)) == 5
    missing = run("telem-trace", "ingest", str(tmp_path / "nope.ndjson"), env=tenv)
    assert missing.status == 3 and "nope.ndjson" in missing.stderr


# --- exec ---------------------------------------------------------------------------------------

def test_exec_puts_every_stage_of_a_pipeline_in_one_trace(tenv, tmp_path):
    dest = tmp_path / "dest"
    r = subprocess.run([tool("telem-trace"), "exec", "--name", "nightly", "--",
                        "sh", "-c", f"printf '' | arc-plan --dest {dest} | arc-collect | telem-trace ingest"],
                       env=tenv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    spans = stored(tenv)
    assert len({s["trace_id"] for s in spans}) == 1
    [root] = [s for s in spans if s["parent_span_id"] is None]
    assert root["name"] == "nightly" and root["service"] == "telem-trace" and root["status"] == "ok"
    stages = [s for s in spans if s is not root]
    assert sorted(s["name"] for s in stages) == ["arc-collect", "arc-plan", "telem-trace ingest"]
    assert all(s["parent_span_id"] == root["span_id"] for s in stages)
    assert all(root["start_ns"] <= s["start_ns"] and s["end_ns"] <= root["end_ns"] for s in stages)
    # The trace id is in the log line that ends the run, and show draws the trace from it.
    [done] = [l for l in records(r.stderr) if l.get("tool") == "telem-trace" and "exit_status" in l]
    assert done["trace_id"] == root["trace_id"] and done["exit_status"] == 0
    shown = run("telem-trace", "show", "--width", "70", root["trace_id"][:8], env=tenv).stdout
    lines = shown.splitlines()
    assert lines[0].startswith(f"trace {root['trace_id']}  nightly  ")
    assert re.fullmatch(r"\* nightly +│█+│ +\S+", lines[2]) and len(lines[2]) == 70, lines[2]
    # The stages under the root, by start time, their bars inside the root's.
    by_start = [s["name"] for s in sorted(stages, key=lambda s: (s["start_ns"], s["name"]))]
    tree = [re.sub(r" +│[█ ]+│ +\S+$", "", l)[2:] for l in lines[3:6]]
    assert tree == [f"{b} {n}" for b, n in zip(["├─", "├─", "└─"], by_start)], shown
    assert sum(l.startswith("* ") for l in lines[2:6]) >= 2  # the root and the stage that ended last


def test_exec_with_trace_file_writes_spans_there_and_not_to_the_store(tenv, tmp_path):
    trace = tmp_path / "run.ndjson"
    r = subprocess.run([tool("telem-trace"), "exec", "--trace", str(trace), "--", "sh", "-c",
                        f"printf '' | arc-plan --dest {tmp_path / 'd'} | arc-collect"],
                       env=tenv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    spans = records(trace.read_text())
    assert len(spans) == 3
    [root] = [s for s in spans if "parent_span_id" not in s]
    assert root["service"] == "telem-trace" and root["attributes"]["exit_status"] == 0
    assert root["name"].startswith("sh -c printf '' | arc-plan") and len(root["name"]) <= 60
    assert sorted(s["name"] for s in spans if s is not root) == ["arc-collect", "arc-plan"]
    assert all(s["parent_span_id"] == root["span_id"] for s in spans if s is not root)
    assert not Path(tenv["ARC_STATE"]).exists() or stored(tenv) == []
    # Inside a trace already (TRACEPARENT): the exec span is a child of it.
    parent = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"
    inner = tmp_path / "inner.ndjson"
    r = subprocess.run([tool("telem-trace"), "exec", "--trace", str(inner), "--", "true"],
                       env=dict(tenv, TRACEPARENT=parent), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    [s] = records(inner.read_text())
    assert s["trace_id"] == "c" * 32 and s["parent_span_id"] == "d" * 16 and s["name"] == "true"


# 129 and 200 are exit statuses a command chose, not signals: "exit status 129".
@pytest.mark.parametrize("code", [0, 1, 3, 7, 129, 200])
def test_exec_returns_the_commands_exit_status(tenv, code):
    r = run("telem-trace", "exec", "--name", f"exit-{code}", "--", "sh", "-c", f"exit {code}", env=tenv)
    assert r.status == code, r
    [s] = stored(tenv)
    assert s["name"] == f"exit-{code}"
    assert s["status"] == ("ok" if code == 0 else "error")
    assert json.loads(s["attributes"])["exit_status"] == code
    if code:
        assert s["status_message"] == f"exit status {code}"
        assert f"exit status {code} after" in r.stderr and "signal" not in r.stderr, r.stderr


def test_exec_reports_signals_and_missing_commands(tenv):
    killed = run("telem-trace", "exec", "--", "sh", "-c", "kill -KILL $$", env=tenv)
    assert killed.status == 128 + 9, killed
    missing = run("telem-trace", "exec", "--", "no-such-command-here", env=tenv)
    assert missing.status == 127 and "command not found" in missing.stderr
    spans = stored(tenv)
    assert [(s["status"], s["status_message"]) for s in spans] == [
        ("error", "killed by signal 9 (SIGKILL)"), ("error", "no-such-command-here: command not found")]
    assert run("telem-trace", "exec", env=tenv).status == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_exec_forwards_signals_to_the_command(tenv, tmp_path, sig):
    ready = tmp_path / "ready"
    p = subprocess.Popen([tool("telem-trace"), "exec", "--name", "sleeper", "--", "sh", "-c",
                          f"touch {ready}; exec sleep 30"], env=tenv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while not ready.exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    started = time.time()
    p.send_signal(sig)
    _, err = p.communicate(timeout=20)
    assert p.returncode == 128 + sig, err
    assert time.time() - started < 5
    [s] = stored(tenv)
    assert s["name"] == "sleeper" and s["status"] == "error" and s["status_message"] == f"killed by signal {int(sig)} ({sig.name})"


# --- serve: OTLP/HTTP JSON in -------------------------------------------------------------------

def otlp_request():
    """An ExportTraceServiceRequest built with opentelemetry-proto, as the protobuf JSON
    mapping writes it, ids then turned to hex as OTLP/JSON requires."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="checkout"))
    ss = rs.scope_spans.add()
    ss.scope.name = "py-test"
    t0 = 1_700_000_000_000_000_000
    trace_id = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
    root = ss.spans.add(trace_id=trace_id, span_id=bytes.fromhex("b7ad6b7169203331"), name="GET /cart",
                        kind=Span.SPAN_KIND_SERVER, start_time_unix_nano=t0, end_time_unix_nano=t0 + 250_000_000)
    root.status.CopyFrom(Status(code=Status.STATUS_CODE_OK))
    root.attributes.extend([
        KeyValue(key="http.method", value=AnyValue(string_value="GET")),
        KeyValue(key="http.status_code", value=AnyValue(int_value=200)),
        KeyValue(key="ratio", value=AnyValue(double_value=0.25)),
        KeyValue(key="cached", value=AnyValue(bool_value=True)),
        KeyValue(key="blob", value=AnyValue(bytes_value=b"\x00\x01\xff")),
    ])
    arr = AnyValue()
    arr.array_value.values.extend([AnyValue(string_value="a"), AnyValue(int_value=2)])
    root.attributes.add(key="tags", value=arr)
    kv = AnyValue()
    kv.kvlist_value.values.extend([KeyValue(key="region", value=AnyValue(string_value="eu")),
                                   KeyValue(key="zone", value=AnyValue(int_value=3))])
    root.attributes.add(key="cloud", value=kv)
    child = ss.spans.add(trace_id=trace_id, span_id=bytes.fromhex("00f067aa0ba902b7"),
                         parent_span_id=bytes.fromhex("b7ad6b7169203331"), name="SELECT cart",
                         kind=Span.SPAN_KIND_CLIENT, start_time_unix_nano=t0 + 50_000_000,
                         end_time_unix_nano=t0 + 200_000_000)
    child.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="deadlock"))
    ev = child.events.add(time_unix_nano=t0 + 100_000_000, name="retry")
    ev.attributes.add(key="attempt", value=AnyValue(int_value=2))
    body = json.loads(json_format.MessageToJson(req))

    def to_hex(v):
        if isinstance(v, dict):
            return {k: (base64.b64decode(x).hex() if k in ("traceId", "spanId", "parentSpanId") else to_hex(x))
                    for k, x in v.items()}
        return [to_hex(x) for x in v] if isinstance(v, list) else v
    return to_hex(body)


class Server:
    """telem-trace serve on a free port; the address comes from its log line."""

    def __init__(self, env, *args, address="127.0.0.1:0"):
        self.proc = subprocess.Popen([tool("telem-trace"), "serve", "--otlp", address, *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.before = []  # what it logged before it listened (warnings)
        while True:
            line = self.proc.stderr.readline()
            assert line, "serve exited before listening: " + "".join(self.before)
            log = json.loads(line)
            if "port" in log:
                break
            self.before.append(line)
        self.listening = log
        self.port = log["port"]
        self.url = f"http://127.0.0.1:{self.port}"

    def post(self, body, content_type="application/json", path="/v1/traces", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), json.loads(e.read() or b"null")

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        _, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, err


def test_serve_stores_otlp_json_from_the_reference_definition(tenv):
    server = Server(tenv)
    try:
        status, ctype, answer = server.post(otlp_request())
        assert (status, ctype, answer) == (200, "application/json", {})
        # The same again, gzip-compressed, over one keep-alive connection with a chunked body.
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        body = gzip.compress(json.dumps(otlp_request()).encode())
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/json",
                                                               "Content-Encoding": "gzip"})
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"{}"
        conn.request("POST", "/v1/traces", body=iter([json.dumps(otlp_request()).encode()]),
                     headers={"Content-Type": "application/json"}, encode_chunked=True)
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"{}"
        conn.close()

        # A protobuf request with one empty resource_spans: nothing to store, an empty answer.
        assert server.post(b"\x0a\x00", content_type="application/x-protobuf") == (200, "application/x-protobuf", None)
        status, _, answer = server.post(b"{}", content_type="text/plain")
        assert status == 415 and "application/x-protobuf" in answer["message"]
        status, _, answer = server.post(b"{not json", content_type="application/json")
        assert status == 400 and "not JSON" in answer["message"]
        status, _, _ = server.post(otlp_request(), path="/v1/metrics")
        assert status == 404
        # Bad ids: those spans are skipped and reported as rejected; the rest stored.
        bad = otlp_request()
        bad["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"] = "xyz"
        bad["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "1" * 32
        status, _, answer = server.post(bad)
        assert status == 200 and answer["partialSuccess"]["rejectedSpans"] == "1"
    finally:
        code, err = server.stop()
    assert code == 143, err

    everything = stored(tenv)
    assert len(everything) == 3  # the two, and the one of the partial request with a good id
    spans = {s["span_id"]: s for s in everything if s["trace_id"] == "0af7651916cd43dd8448eb211c80319c"}
    root, child = spans["b7ad6b7169203331"], spans["00f067aa0ba902b7"]
    assert root["trace_id"] == "0af7651916cd43dd8448eb211c80319c" and root["parent_span_id"] is None
    assert (root["name"], root["service"], root["status"]) == ("GET /cart", "checkout", "ok")
    assert root["end_ns"] - root["start_ns"] == 250_000_000
    assert json.loads(root["attributes"]) == {
        "span.kind": "server", "http.method": "GET", "http.status_code": 200, "ratio": 0.25, "cached": True,
        "blob": base64.b64encode(b"\x00\x01\xff").decode(), "tags": ["a", 2], "cloud.region": "eu", "cloud.zone": 3}
    assert (child["parent_span_id"], child["status"], child["status_message"]) == ("b7ad6b7169203331", "error", "deadlock")
    assert json.loads(child["events"]) == [{"name": "retry", "time": "2023-11-14T22:13:20.100000Z",
                                            "attributes": {"attempt": 2}}]

    # ls, show and stats read what came in.
    [t] = [t for t in run("telem-trace", "ls", env=tenv).records if t["trace_id"].startswith("0af7")]
    assert (t["name"], t["service"], t["spans"], t["errors"], t["duration_ms"]) == ("GET /cart", "checkout", 2, 1, 250)
    shown = run("telem-trace", "show", "--width", "60", "0af7", env=tenv).stdout
    assert "└─ ✗ SELECT cart" in shown and "✗ SELECT cart: deadlock" in shown
    stats = {s["name"]: s for s in run("telem-trace", "stats", env=tenv).records}
    assert stats["SELECT cart"]["p50_ms"] == 150 and stats["SELECT cart"]["errors"] == 1


def test_serve_stops_on_sigint_with_130_and_a_taken_port_is_exit_3(tenv):
    server = Server(tenv)
    taken = run("telem-trace", "serve", "--otlp", f"127.0.0.1:{server.port}", env=tenv, timeout=20)
    assert taken.status == 3 and "Address already in use" in taken.stderr
    code, err = server.stop(signal.SIGINT)
    assert code == 130, err
    assert run("telem-trace", "serve", "--otlp", "nowhere", env=tenv).status == 2


# --- export: OTLP/HTTP JSON out -----------------------------------------------------------------

def test_export_sends_spans_a_strict_receiver_accepts(tenv, tmp_path):
    ingest(tenv, write_spans(tmp_path / "n.ndjson", NIGHTLY))
    with OTLPReceiver() as receiver:
        r = run("telem-trace", "export", "--otlp", receiver.url, "--batch", "2", env=tenv)
        assert r.status == 0, r
    assert receiver.errors == [] and receiver.requests == 3
    assert receiver.content_types == ["application/x-protobuf"] * 3, "protobuf by default"
    got = {s.span_id.hex(): (service, s) for service, s in receiver.spans}
    assert len(got) == 5
    for record in NIGHTLY:
        service, s = got[record["span_id"]]
        assert service == record["service"]
        assert s.trace_id.hex() == TRACE and s.name == record["name"]
        assert s.parent_span_id.hex() == record.get("parent_span_id", "")
        assert s.status.code == (2 if record["status"] == "error" else 1)
        assert s.status.message == record.get("status_message", "")
        assert s.end_time_unix_nano - s.start_time_unix_nano == round(record["duration_ms"] * 1e6)
    _, task = got["00f067aa0ba902c1"]
    attrs = {kv.key: kv.value for kv in task.attributes}
    assert attrs["url"].string_value == "http://127.0.0.1/a.zip" and attrs["bytes"].int_value == 1234
    assert attrs["verified"].bool_value is True and attrs["ratio"].double_value == 0.5
    [event] = task.events
    assert event.name == "retry" and event.attributes[0].value.int_value == 2

    # One trace by prefix, with the collector from the environment.
    with OTLPReceiver() as receiver:
        r = run("telem-trace", "export", "--trace-id", "4bf92f", env=dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url))
        assert r.status == 0, r
    # The five, and the export's own span (telemetry goes to the same collector).
    assert receiver.errors == []
    assert sorted(s.name for _, s in receiver.spans if s.trace_id.hex() == TRACE) == sorted(s["name"] for s in NIGHTLY)
    assert [s.name for _, s in receiver.spans if s.trace_id.hex() != TRACE] == ["telem-trace export"]


def test_export_of_spans_from_serve_round_trips_through_a_strict_receiver(tenv):
    server = Server(tenv)
    try:
        assert server.post(otlp_request())[0] == 200
    finally:
        server.stop()
    with OTLPReceiver() as receiver:
        r = run("telem-trace", "export", "--otlp", receiver.url + "/v1/traces", env=tenv)
        assert r.status == 0, r
    assert receiver.errors == []
    [(service, root)] = [(sv, s) for sv, s in receiver.spans if s.name == "GET /cart"]
    attrs = {kv.key: kv.value for kv in root.attributes}
    assert service == "checkout" and attrs["http.status_code"].int_value == 200
    assert json.loads(attrs["tags"].string_value) == ["a", 2]


def test_export_to_a_dead_port_is_exit_3_at_once_and_rejections_exit_1(tenv, tmp_path):
    ingest(tenv, write_spans(tmp_path / "n.ndjson", NIGHTLY))
    dead = free_port()
    started = time.time()
    r = run("telem-trace", "export", "--otlp", f"http://127.0.0.1:{dead}", env=tenv)
    assert r.status == 3, r
    assert time.time() - started < 5
    assert f"127.0.0.1:{dead}/v1/traces" in r.stderr and "OTLP receiver" in r.stderr
    with OTLPReceiver(status=400) as receiver:
        r = run("telem-trace", "export", "--otlp", receiver.url, env=tenv)
    assert r.status == 1 and "HTTP 400" in r.stderr
    assert run("telem-trace", "export", env=tenv).status == 2


def test_pipeline_stages_opening_a_new_state_database_at_once_wait_for_each_other(tenv, tmp_path):
    """The first `arc-plan | arc-collect` on a machine: both create the state file at once.
    SQLite answers the switch to WAL with BUSY without waiting; before the store retried it,
    about one run in five failed with "database is locked"."""
    for n in range(12):
        env = dict(tenv, ARC_STATE=str(tmp_path / f"s{n}" / "state.db"))
        r = subprocess.run(["sh", "-c", f"printf '' | arc-plan --dest {tmp_path / 'd'} | arc-collect"],
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "locked" not in r.stderr, r.stderr


# --- examples/traced-cron.sh --------------------------------------------------------------------

def traced_cron(env, tmp_path, *filters, **extra):
    example_env = dict(env, PATH=f"{BIN}:{os.environ['PATH']}", LOG_DIR=str(tmp_path / "logs"), **extra)
    return subprocess.run([str(Path(__file__).resolve().parents[2] / "examples" / "traced-cron.sh"),
                           str(tmp_path / "data"), *filters], env=example_env, capture_output=True, text=True,
                          timeout=120)


def test_traced_cron_makes_one_trace_of_the_pipeline(mirror, env, tmp_path):
    r = traced_cron(env, tmp_path, "--market", "um", "--type", "klines", "--symbol", "ETHUSDT", "--period", "daily")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    [t] = run("telem-trace", "ls", env=env).records
    assert (t["name"], t["status"], t["errors"]) == ("daily", "ok", 0)
    spans = stored(env)
    [root] = [s for s in spans if s["parent_span_id"] is None]
    stages = {s["name"]: s for s in spans if s["parent_span_id"] == root["span_id"]}
    assert set(stages) == {"arc-discover binance", "arc-plan", "arc-collect"}
    results = records((tmp_path / "logs").glob("results-*.ndjson").__next__().read_text())
    assert len(results) == 9 and all(x["status"] == "ok" for x in results)


def test_traced_cron_shows_the_failed_trace_on_stderr(mirror, env, tmp_path):
    # The spot trades folder holds an archive whose CHECKSUM does not match: exit 1.
    r = traced_cron(env, tmp_path, "--market", "spot", "--type", "trades", TRACE_NAME="spot-trades",
                    TRACE_FILE=str(tmp_path / "spans.ndjson"))
    assert r.returncode == 1, r.stderr
    [t] = run("telem-trace", "ls", "--file", str(tmp_path / "spans.ndjson"), env=env).records
    assert r.stderr.startswith(f"traced-cron: exit 1; trace {t['trace_id']} (log: ")
    assert f"\ntrace {t['trace_id']}  spot-trades  " in r.stderr
    assert "* ✗ spot-trades" in r.stderr and "✗ arc-collect" in r.stderr, r.stderr
    # With TRACE_FILE the spans went to the file, not the store.
    assert not Path(env["ARC_STATE"]).exists() or stored(env) == []


# --- more of exec and serve ---------------------------------------------------------------------

def test_exec_with_an_otlp_endpoint_sends_every_stage_to_the_collector(tenv, tmp_path):
    with OTLPReceiver() as receiver:
        r = subprocess.run([tool("telem-trace"), "exec", "--name", "to-otlp", "--", "sh", "-c",
                            f"printf '' | arc-plan --dest {tmp_path / 'd'} | arc-collect"],
                           env=dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url), capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
    assert receiver.errors == []
    spans = {s.name: (service, s) for service, s in receiver.spans}
    assert set(spans) == {"to-otlp", "arc-plan", "arc-collect"}
    _, root = spans["to-otlp"]
    assert root.parent_span_id == b""
    for name in ("arc-plan", "arc-collect"):
        service, s = spans[name]
        assert service == name and s.trace_id == root.trace_id and s.parent_span_id == root.span_id
    # Nothing went to the store: the collector was where spans were asked to go.
    assert not Path(tenv["ARC_STATE"]).exists() or stored(tenv) == []


def test_serve_takes_concurrent_clients_curl_with_expect_100_continue_and_limits(tenv, tmp_path):
    import threading
    server = Server(tenv)
    try:
        def client(n):
            for k in range(5):
                body = otlp_request()
                spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
                trace = f"{n:016x}{k:016x}"
                for s in spans:
                    s["traceId"] = trace
                assert server.post(body)[0] == 200
        threads = [threading.Thread(target=client, args=(n + 1,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # curl sends a big body after "Expect: 100-continue" and the server's interim answer.
        big = otlp_request()
        root = big["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        root["attributes"].append({"key": "padding", "value": {"stringValue": "x" * 2_000_000}})
        for s in big["resourceSpans"][0]["scopeSpans"][0]["spans"]:
            s["traceId"] = "e" * 32
        (tmp_path / "big.json").write_text(json.dumps(big))
        c = subprocess.run(["curl", "-sS", "-H", "Content-Type: application/json", "-H", "Expect: 100-continue",
                            "--data-binary", f"@{tmp_path / 'big.json'}", "-w", "%{http_code}",
                            f"{server.url}/v1/traces"], capture_output=True, text=True, timeout=30)
        assert c.stdout == "{}200", c
        # A head that never ends is refused, not kept.
        import socket
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /v1/traces HTTP/1.1\r\nX: " + b"y" * 70_000)
            assert sock.recv(100).startswith(b"HTTP/1.1 431 ")
        # HTTP/1.0 without keep-alive: answered, then closed.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /v1/traces HTTP/1.0\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 405 ") and b"Connection: close" in answer
    finally:
        code, err = server.stop()
    assert code == 143, err
    traces = {s["trace_id"] for s in stored(tenv)}
    assert len(traces) == 8 * 5 + 1
    [padded] = [s for s in stored(tenv) if s["trace_id"] == "e" * 32 and s["parent_span_id"] is None]
    assert len(json.loads(padded["attributes"])["padding"]) == 2_000_000


def test_on_a_terminal_ls_and_stats_are_tables_and_show_has_colour(tenv, tmp_path):
    ingest(tenv, write_spans(tmp_path / "n.ndjson", NIGHTLY))

    code, text = on_tty("telem-trace", "ls", env=tenv)
    assert code == 0
    header, row = text.splitlines()
    assert header.split() == ["TRACE", "START", "DURATION", "SPANS", "ERRORS", "STATUS", "NAME"]
    assert row.split() == [TRACE, "2024-01-02T03:00:00.000Z", "1.20s", "5", "3", "error", "nightly"]
    code, text = on_tty("telem-trace", "stats", env=tenv)
    assert text.splitlines()[0].split() == ["NAME", "COUNT", "ERRORS", "P50", "P95", "P99", "MAX"]
    assert "collect.task" in text and "400ms" in text
    code, text = on_tty("telem-trace", "show", "--width", "60", TRACE, env=tenv)
    assert "\x1b[31m\x1b[1m✗ nightly" in text and "\x1b[0m" in text
    code, plain = on_tty("telem-trace", "show", "--width", "60", "--no-color", TRACE, env=tenv)
    assert plain == SHOW_60


def test_exec_still_runs_the_command_when_spans_cannot_be_recorded(tenv, tmp_path):
    r = run("telem-trace", "exec", "--", "sh", "-c", "echo ran; exit 4",
            env=dict(tenv, TMPDIR=str(tmp_path / "no-such-dir")))
    assert r.status == 4 and r.stdout == "ran\n"
    assert any(l["level"] == "warn" and "spans will not be recorded" in l["msg"] for l in r.logs), r.stderr
