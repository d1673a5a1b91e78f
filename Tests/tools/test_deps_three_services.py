"""telem-trace deps over one trace that crosses three services nobody stitched by hand: a
Python service instrumented with the official OpenTelemetry SDK (its OTLP/HTTP protobuf
exporter) runs a wf-run workflow whose step runs arc-collect. All three send their spans to
one `telem-trace serve`, each through its own exporter (their logs too), and the trace context travels as
TRACEPARENT from the SDK to wf-run to the step. The map must show exactly the two calls,
and its DOT must render with Graphviz."""
import html
import os
import subprocess
import sys

from conftest import BIN, ROOT, run, tool
from test_telem_trace import Server

DISCOVER = ("binance", "--market", "um", "--type", "klines", "--interval", "1m",
            "--symbol", "BTCUSDT", "--since", "2024-01-01")


def test_deps_of_an_sdk_app_a_workflow_and_arc_collect(mirror, env, tmp_path):
    # The tasks are planned beforehand, untraced: the trace is the app's run.
    d = run("arc-discover", *DISCOVER, env=env)
    assert d.status == 0, d
    p = run("arc-plan", "--dest", str(tmp_path / "data"), input=d.stdout, env=env)
    assert p.status == 0 and p.stdout, p
    tasks = tmp_path / "tasks.ndjson"
    tasks.write_text(p.stdout)
    flow = tmp_path / "flow.toml"
    flow.write_text(f'name = "nightly"\n[[step]]\nid = "collect"\nrun = "arc-collect < {tasks}"\n')

    server_env = dict(env, ARC_STATE=str(tmp_path / "traces.db"))
    server = Server(server_env)
    try:
        traced = dict(env, OTEL_EXPORTER_OTLP_ENDPOINT=server.url, OTEL_SERVICE_NAME="lake-app",
                      PATH=f"{BIN}:{os.environ['PATH']}")
        # examples/otel-traced-run.py: the SDK app, run as its docstring says.
        app = subprocess.run([sys.executable, str(ROOT / "examples" / "otel-traced-run.py"), "nightly refresh",
                              tool("wf-run"), "run", str(flow)], env=traced, capture_output=True, text=True, timeout=120)
        assert app.returncode == 0, app.stderr
        assert "Failed to export" not in app.stderr, app.stderr
        # wf-run and arc-collect log NDJSON to the app's stderr: none says spans were dropped.
        assert not [line for line in app.stderr.splitlines() if '"otlp:' in line], app.stderr
        trace_id = app.stdout.strip().splitlines()[-1]
    finally:
        code, err = server.stop()
    assert code == 143, err

    spans = run("telem-trace", "show", "--json", trace_id, env=server_env)
    assert spans.status == 0, spans
    services = {s["service"] for s in spans.records}
    assert services == {"lake-app", "wf-run", "arc-collect"}, services

    # The tools' log lines came over OTLP too, into the same state, named by tool and trace.
    logs = run("telem-log", "search", "--tool", "arc-collect", "--trace", trace_id, env=server_env)
    assert logs.status == 0, logs
    tasks = len(p.stdout.splitlines())
    [summary] = [r for r in logs.records if r["msg"].startswith(f"{tasks} tasks: {tasks} ok")]
    assert summary["ok"] == tasks and summary["level"] == "info", summary
    arc_collect = [s for s in spans.records if s["service"] == "arc-collect" and s["name"] == "arc-collect"]
    assert [summary["span_id"]] == [s["span_id"] for s in arc_collect]

    deps = run("telem-trace", "deps", "--json", env=server_env)
    assert deps.status == 0, deps
    edges = {(e["caller"], e["callee"]): e for e in deps.records}
    assert set(edges) == {("lake-app", "wf-run"), ("wf-run", "arc-collect")}, edges
    assert all(e["calls"] == 1 and e["errors"] == 0 for e in edges.values())
    # The call into the workflow takes at least as long as the workflow's call into arc-collect.
    assert edges[("lake-app", "wf-run")]["total_ms"] >= edges[("wf-run", "arc-collect")]["total_ms"]

    dot = run("telem-trace", "deps", "--format", "dot", env=server_env)
    assert dot.status == 0, dot
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.stdout, capture_output=True, text=True)
    assert svg.returncode == 0, svg.stderr
    text = html.unescape(svg.stdout)  # dot writes "-" as &#45;
    for name in ("lake-app", "wf-run", "arc-collect"):
        assert f">{name}</text>" in text
    assert text.count('class="edge"') == 2 and text.count(">1 call</text>") == 2
