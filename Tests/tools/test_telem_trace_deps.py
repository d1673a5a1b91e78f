"""telem-trace deps: the service dependency map, from spans of three services (an app
instrumented with an OpenTelemetry SDK, arc-collect, a wf-run step) stored with
`telem-trace ingest` or read with --file; NDJSON, the table on a terminal, and DOT drawn by
Graphviz's own `dot`."""
import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import on_tty, run
from test_telem_trace import tenv  # noqa: F401 (tenv: the fixture)

T1 = "4bf92f3577b34da6a3ce929d0e0e4736"
T2 = "5bf92f3577b34da6a3ce929d0e0e4736"
T3 = "6bf92f3577b34da6a3ce929d0e0e4736"


def span(trace, span_id, name, service, start, end, parent=None, status="ok", attributes=None):
    """A span record as the tools write it, times in seconds after 2024-01-02T03:00:00Z."""
    def at(seconds):
        micros = round(seconds * 1_000_000)
        return f"2024-01-02T03:{micros // 60_000_000:02d}:{micros // 1_000_000 % 60:02d}.{micros % 1_000_000:06d}Z"
    r = {"trace_id": trace, "span_id": span_id, "name": name, "start": at(start), "end": at(end),
         "duration_ms": round((end - start) * 1000), "status": status, "attributes": attributes or {}}
    if service is not None:
        r["service"] = service
    if parent:
        r["parent_span_id"] = parent
    return r


CLIENT = {"span.kind": "client", "http.method": "POST"}

SPANS = [
    # T1: the app calls arc-collect (traced: its span is the child), arc-collect's task runs a
    # wf-run step that fails, and the app calls redis (not traced: a client span with peer.service).
    span(T1, "00000000000000a1", "GET /checkout", "shop", 0, 1, attributes={"span.kind": "server"}),
    span(T1, "00000000000000a2", "POST /collect", "shop", 0.1, 0.5, "00000000000000a1",
         attributes=dict(CLIENT, **{"peer.service": "arc-collect"})),
    span(T1, "00000000000000a3", "arc-collect", "arc-collect", 0.12, 0.48, "00000000000000a2"),
    span(T1, "00000000000000a4", "collect.task", "arc-collect", 0.15, 0.45, "00000000000000a3"),
    span(T1, "00000000000000a5", "step fetch", "wf-run", 0.2, 0.3, "00000000000000a4", status="error"),
    span(T1, "00000000000000a6", "GET cart", "shop", 0.6, 0.605, "00000000000000a1",
         attributes={"span.kind": "client", "peer.service": "redis"}),
    # T2, a minute later: the same call, faster, and a wf-run span that succeeds.
    span(T2, "00000000000000b1", "GET /checkout", "shop", 60, 61),
    span(T2, "00000000000000b2", "POST /collect", "shop", 60.1, 60.3, "00000000000000b1",
         attributes=dict(CLIENT, **{"peer.service": "arc-collect"})),
    span(T2, "00000000000000b3", "arc-collect", "arc-collect", 60.11, 60.29, "00000000000000b2"),
    span(T2, "00000000000000b4", "wf.poll", "wf-run", 60.15, 60.2, "00000000000000b3"),
    # T3, two minutes in: a root without a service starts a wf-run step.
    span(T3, "00000000000000c1", "nightly", None, 120, 125),
    span(T3, "00000000000000c2", "step build", "wf-run", 120.5, 124.5, "00000000000000c1"),
]


def edge(caller, callee, calls, errors, p50, p95, p99, total):
    return {"caller": caller, "callee": callee, "calls": calls, "errors": errors,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "total_ms": total}


ALL_EDGES = [
    edge("unknown_service", "wf-run", 1, 0, 4000, 4000, 4000, 4000),
    edge("shop", "arc-collect", 2, 0, 180, 360, 360, 540),       # 360 ms (T1) and 180 ms (T2)
    edge("arc-collect", "wf-run", 2, 1, 50, 100, 100, 150),      # 100 ms failed (T1), 50 ms (T2)
    edge("shop", "redis", 1, 0, 5, 5, 5, 5),
]


def ndjson(spans):
    return "".join(json.dumps(s) + "\n" for s in spans)


@pytest.fixture
def stored(tenv, tmp_path):
    f = tmp_path / "spans.ndjson"
    f.write_text(ndjson(SPANS))
    r = run("telem-trace", "ingest", str(f), env=tenv)
    assert r.status == 0, r
    return tenv


def deps(env, *args, **kw):
    r = run("telem-trace", "deps", *args, env=env, **kw)
    assert r.status == 0, r
    return r.records


def test_the_edges_their_counts_and_percentiles_most_time_first(stored):
    r = run("telem-trace", "deps", env=stored)
    assert r.status == 0, r
    assert r.records == ALL_EDGES
    assert r.stderr == ""
    # --json and --format json say the same.
    assert deps(stored, "--json") == deps(stored, "--format", "json") == ALL_EDGES


def test_since_trace_id_and_name_filters(stored):
    # From 03:00:30: T2 and T3 only.
    assert deps(stored, "--since", "2024-01-02T03:00:30Z") == [
        edge("unknown_service", "wf-run", 1, 0, 4000, 4000, 4000, 4000),
        edge("shop", "arc-collect", 1, 0, 180, 180, 180, 180),
        edge("arc-collect", "wf-run", 1, 0, 50, 50, 50, 50),
    ]
    # A call counts by its own start: T3's step started after the cut, its caller (the root) before.
    assert deps(stored, "--since", "2024-01-02T03:02:00.200Z") == [ALL_EDGES[0]]
    assert deps(stored, "--since", "1h") == []
    assert run("telem-trace", "deps", "--since", "soon", env=stored).status == 2
    # One trace, by a prefix of its id.
    assert deps(stored, "--trace-id", T1[:6]) == [
        edge("shop", "arc-collect", 1, 0, 360, 360, 360, 360),
        edge("arc-collect", "wf-run", 1, 1, 100, 100, 100, 100),
        edge("shop", "redis", 1, 0, 5, 5, 5, 5),
    ]
    missing = run("telem-trace", "deps", "--trace-id", "abc", env=stored)
    assert missing.status == 2 and "no trace abc" in missing.stderr
    # bf92 is inside all three ids but starts none: not found; zz is not hex at all.
    assert run("telem-trace", "deps", "--trace-id", "bf92", env=stored).status == 2
    assert run("telem-trace", "deps", "--trace-id", "zz", env=stored).status == 2
    # --name keeps whole traces with a span of that name: T1 (step fetch) and T3 (step build).
    assert deps(stored, "--name", "step *") == [
        edge("unknown_service", "wf-run", 1, 0, 4000, 4000, 4000, 4000),
        edge("shop", "arc-collect", 1, 0, 360, 360, 360, 360),
        edge("arc-collect", "wf-run", 1, 1, 100, 100, 100, 100),
        edge("shop", "redis", 1, 0, 5, 5, 5, 5),
    ]
    assert deps(stored, "--name", "wf.po?l") == [
        edge("shop", "arc-collect", 1, 0, 180, 180, 180, 180),
        edge("arc-collect", "wf-run", 1, 0, 50, 50, 50, 50),
    ]
    # Filters combine: T2 has no span named step *, so nothing is left.
    none = run("telem-trace", "deps", "--name", "step *", "--trace-id", T2, env=stored)
    assert none.status == 0 and none.stdout == ""
    [notice] = none.logs
    assert notice["level"] == "warn" and notice["msg"].startswith("no calls between services in 0 traces")


def test_file_from_stdin_and_bad_lines_are_named_with_their_numbers(tenv, tmp_path):
    # No store needed: the spans come on stdin.
    r = run("telem-trace", "deps", "--file", "-", input=ndjson(SPANS), env=tenv)
    assert r.status == 0, r
    assert r.records == ALL_EDGES
    assert not (tmp_path / "state.db").exists()
    # A bad line is reported with its line number and skipped; the rest still counts (exit 1, as ingest).
    lines = ndjson(SPANS).splitlines()
    text = "\n".join(lines[:3] + ["not json", json.dumps(dict(SPANS[3], trace_id="XYZ"))] + lines[3:]) + "\n"
    bad = run("telem-trace", "deps", "--file", "-", input=text, env=tenv)
    assert bad.status == 1, bad
    assert bad.records == ALL_EDGES
    warnings = [l["msg"] for l in bad.logs if l["level"] == "warn"]
    assert len(warnings) == 2 and "stdin:4:" in warnings[0] and "stdin:5:" in warnings[1]
    # A file, and a file that is not there (exit 3, as ingest).
    f = tmp_path / "spans.ndjson"
    f.write_text(ndjson(SPANS))
    assert deps(tenv, "--file", str(f), "--trace-id", T3) == [ALL_EDGES[0]]
    missing = run("telem-trace", "deps", "--file", str(tmp_path / "nope.ndjson"), env=tenv)
    assert missing.status == 3 and "nope.ndjson" in missing.stderr and missing.stdout == ""


def test_an_empty_store_has_no_edges_and_says_so_in_one_line(tenv):
    r = run("telem-trace", "deps", env=tenv)
    assert r.status == 0 and r.stdout == "", r
    assert len(r.stderr.splitlines()) == 1
    [notice] = r.logs
    assert notice["level"] == "warn" and "no calls between services in 0 traces (0 spans)" in notice["msg"]
    # DOT still gets a graph dot can draw.
    dot = run("telem-trace", "deps", "--format", "dot", env=tenv)
    assert dot.status == 0 and dot.stdout.startswith("digraph services {")
    assert subprocess.run(["dot", "-Tsvg"], input=dot.stdout, capture_output=True, text=True).returncode == 0
    # One service only: spans, but no call between services.
    one = run("telem-trace", "deps", "--file", "-", input=ndjson(SPANS[:1]), env=tenv)
    assert one.status == 0 and one.stdout == "" and "in 1 trace (1 span)" in one.logs[-1]["msg"]


def svg_texts(dot_text):
    """Renders DOT with Graphviz; the texts of each node and edge of the SVG, by its title."""
    p = subprocess.run(["dot", "-Tsvg"], input=dot_text, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    ns = {"s": "http://www.w3.org/2000/svg"}
    out = {}
    for g in ET.fromstring(p.stdout).iter("{http://www.w3.org/2000/svg}g"):
        title = g.find("s:title", ns)
        if g.get("class") in ("node", "edge") and title is not None:
            out[title.text] = ([t.text for t in g.findall("s:text", ns)],
                               {e.get("stroke") for e in g.findall("s:path", ns)})
    return out


def test_dot_renders_with_graphviz_with_the_labels_and_error_edges_red(stored):
    r = run("telem-trace", "deps", "--format", "dot", env=stored)
    assert r.status == 0, r
    drawn = svg_texts(r.stdout)
    assert {t for t, _ in drawn.items() if "->" not in t} == {"shop", "arc-collect", "wf-run", "redis", "unknown_service"}
    assert drawn["shop->arc-collect"] == (["2 calls", "p95 360ms"], {"black"})
    assert drawn["arc-collect->wf-run"] == (["2 calls, 1 error", "p95 100ms"], {"red"})
    assert drawn["shop->redis"][0] == ["1 call", "p95 5.00ms"]
    assert drawn["unknown_service->wf-run"][0] == ["1 call", "p95 4.00s"]


def test_dot_quotes_names_with_quotes_spaces_and_backslashes(tenv):
    odd = ['web "front"', "db\\main", "queue\\", "x\\N y"]
    spans = [span(T1, "00000000000000d1", "req", odd[0], 0, 1),
             span(T1, "00000000000000d2", "query", odd[1], 0.1, 0.2, "00000000000000d1", status="error"),
             span(T1, "00000000000000d3", "send", odd[1], 0.2, 0.3, "00000000000000d2",
                  attributes={"span.kind": "producer", "peer.service": odd[2]}),
             span(T1, "00000000000000d4", "other", odd[3], 0.3, 0.4, "00000000000000d1")]
    r = run("telem-trace", "deps", "--file", "-", "--format", "dot", input=ndjson(spans), env=tenv)
    assert r.status == 0, r
    drawn = svg_texts(r.stdout)
    # Each node is drawn with its name as written (no \N expanded, no quote lost), and its edges join them.
    nodes = {texts[0][0] for title, texts in drawn.items() if "->" not in title}
    assert nodes == set(odd)
    assert sum(1 for title in drawn if "->" in title) == 3
    # The NDJSON names are the same strings.
    names = {(e["caller"], e["callee"]) for e in deps(tenv, "--file", "-", input=ndjson(spans))}
    assert names == {(odd[0], odd[1]), (odd[1], odd[2]), (odd[0], odd[3])}


def test_on_a_terminal_an_aligned_table(stored):
    code, text = on_tty("telem-trace", "deps", env=stored, columns=120)
    assert code == 0
    lines = text.splitlines()
    assert [l.split() for l in lines] == [
        ["CALLER", "CALLEE", "CALLS", "ERRORS", "P50", "P95", "P99", "TOTAL"],
        ["unknown_service", "wf-run", "1", "0", "4.00s", "4.00s", "4.00s", "4.00s"],
        ["shop", "arc-collect", "2", "0", "180ms", "360ms", "360ms", "540ms"],
        ["arc-collect", "wf-run", "2", "1", "50.0ms", "100ms", "100ms", "150ms"],
        ["shop", "redis", "1", "0", "5.00ms", "5.00ms", "5.00ms", "5.00ms"],
    ]
    # Aligned: the numbers end in one column each.
    ends = {len(l) for l in lines}
    assert len(ends) == 1, lines
    # --json on a terminal, and --format dot, as asked.
    code, text = on_tty("telem-trace", "deps", "--json", env=stored, columns=120)
    assert [json.loads(l) for l in text.splitlines()] == ALL_EDGES
    code, text = on_tty("telem-trace", "deps", "--format", "dot", env=stored, columns=120)
    assert text.startswith("digraph services {")
