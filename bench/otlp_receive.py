"""Row `otlp-receive`: telem-trace serve storing OTLP/HTTP trace batches from several
clients at once, protobuf against the same spans as JSON (issue 17: >= 50,000 spans/s,
< 64 MB peak RSS).

The requests are built once with opentelemetry-proto's own classes (400 batches of 512
spans shaped like an SDK's: random 16/8-byte ids, ~20 traces a batch nested a few levels
deep, 6-8 attributes of mixed kinds, an event on some, three services) and serialized
twice: as protobuf and as OTLP/JSON (the protobuf JSON mapping with hex ids). Each run
starts `telem-trace serve` on a fresh state database; 4 client processes (http.client,
one keep-alive connection each) post their share of the bodies as fast as answers come
back. Timed from the first send to the last answer; the server's peak RSS is its VmHWM,
read before it is stopped; afterwards the stored span count must equal what was sent.

The clients' own ceiling is measured too: the same clients against a sink (a Python
server that reads each body and answers 200) in the same run, and the clients' CPU
seconds are reported beside the server's, so a slow figure can be told from slow clients.
"""
import multiprocessing
import os
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

from . import common
from .common import BUILDS, NOTES, OUT, ROOT, VENV, arc_env, remove_database, tool

BATCHES = 400
BATCH_SPANS = 512
CLIENTS = 4
DATA = OUT / "otlp-receive"
TARGET = ">= 50,000 spans/s, < 64 MB"


# --- the requests ---------------------------------------------------------------------------

def build_requests(batches=BATCHES, per_batch=BATCH_SPANS, seed=17):
    """`batches` ExportTraceServiceRequests as (protobuf bytes, OTLP/JSON bytes). Needs
    opentelemetry-proto (the bench's venv has it)."""
    import base64
    import json
    import random
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    rng = random.Random(seed)
    services = ["checkout", "cart", "payments"]
    names = {"checkout": ["POST /checkout", "checkout.validate", "SELECT orders", "INSERT orders"],
             "cart": ["GET /cart", "cart.load", "redis GET", "SELECT cart_items"],
             "payments": ["POST /charge", "payments.authorize", "HTTP POST", "fraud.score"]}
    routes = ["/checkout", "/cart", "/cart/items", "/charge", "/charge/refund"]
    t0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z: batches follow each other in time

    def hex_ids(v):
        # OTLP/JSON carries ids as hex, where the generic protobuf JSON mapping has base64.
        if isinstance(v, dict):
            return {k: (base64.b64decode(x).hex() if k in ("traceId", "spanId", "parentSpanId") else hex_ids(x))
                    for k, x in v.items()}
        return [hex_ids(x) for x in v] if isinstance(v, list) else v

    def attributes(span, service, n):
        kv = [KeyValue(key="http.method", value=AnyValue(string_value=rng.choice(["GET", "POST", "PUT"]))),
              KeyValue(key="http.route", value=AnyValue(string_value=rng.choice(routes))),
              KeyValue(key="http.status_code", value=AnyValue(int_value=rng.choice([200, 200, 200, 201, 404, 503]))),
              KeyValue(key="net.peer.name", value=AnyValue(string_value=f"{service}-{rng.randint(1, 9)}.internal")),
              KeyValue(key="db.rows", value=AnyValue(int_value=rng.randint(0, 5000))),
              KeyValue(key="sample.ratio", value=AnyValue(double_value=rng.random())),
              KeyValue(key="cache.hit", value=AnyValue(bool_value=rng.random() < 0.5))]
        if n % 3 == 0:
            tags = AnyValue()
            tags.array_value.values.extend([AnyValue(string_value="eu-west-1"), AnyValue(int_value=n % 7)])
            kv.append(KeyValue(key="tags", value=tags))
        span.attributes.extend(kv if n % 3 != 1 else kv[:6])  # 8, 6 or 7 attributes

    out = []
    n = 0
    for b in range(batches):
        req = ExportTraceServiceRequest()
        per_service = {}
        for s in services:
            rs = req.resource_spans.add()
            rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=s))
            rs.resource.attributes.add(key="host.name", value=AnyValue(string_value=f"node-{rng.randint(1, 4)}"))
            ss = rs.scope_spans.add()
            ss.scope.name = "opentelemetry.instrumentation.bench"
            per_service[s] = ss
        roots = 20
        base = t0 + b * 1_000_000_000
        for r in range(roots):
            trace_id = rng.getrandbits(128).to_bytes(16, "big")
            count = per_batch // roots + (1 if r < per_batch % roots else 0)
            tree = []  # (span_id, start, end, depth)
            for i in range(count):
                n += 1
                if i == 0:
                    parent, depth = None, 0
                    start = base + r * 40_000_000
                    end = start + 30_000_000 + rng.randint(0, 9_000_000)
                    service = services[r % len(services)]
                else:
                    # Under one of the last few spans: trees a few levels deep, not a flat fan.
                    p_id, p_start, p_end, p_depth = tree[max(0, len(tree) - rng.randint(1, 4))]
                    if p_depth >= 4:
                        p_id, p_start, p_end, p_depth = tree[0]
                    parent, depth = p_id, p_depth + 1
                    start = p_start + rng.randint(0, max(1, (p_end - p_start) // 2))
                    end = start + rng.randint(1000, max(1001, p_end - start))
                    service = rng.choice(services)
                span_id = rng.getrandbits(64).to_bytes(8, "big")
                tree.append((span_id, start, end, depth))
                span = per_service[service].spans.add(
                    trace_id=trace_id, span_id=span_id, name=rng.choice(names[service]),
                    kind=Span.SPAN_KIND_SERVER if parent is None else rng.choice(
                        [Span.SPAN_KIND_INTERNAL, Span.SPAN_KIND_CLIENT]),
                    start_time_unix_nano=start, end_time_unix_nano=end)
                if parent:
                    span.parent_span_id = parent
                attributes(span, service, n)
                if n % 5 == 0:
                    ev = span.events.add(time_unix_nano=start + 500, name="retry" if n % 2 else "cache.miss")
                    ev.attributes.add(key="attempt", value=AnyValue(int_value=n % 4))
                if n % 50 == 0:
                    span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="upstream timed out"))
                elif parent is None:
                    span.status.CopyFrom(Status(code=Status.STATUS_CODE_OK))
        as_json = hex_ids(json_format.MessageToDict(req))
        out.append((req.SerializeToString(), json.dumps(as_json, separators=(",", ":")).encode()))
    return out


def _write_bodies(path, bodies):
    with path.open("wb") as f:
        for body in bodies:
            f.write(struct.pack("<I", len(body)))
            f.write(body)


def _read_bodies(path):
    data = path.read_bytes()
    out, at = [], 0
    while at < len(data):
        (size,) = struct.unpack_from("<I", data, at)
        out.append(data[at + 4:at + 4 + size])
        at += 4 + size
    return out


def requests():
    """The bodies (protobuf list, JSON list), generated once into bench/out in the venv's
    Python (opentelemetry-proto), read back on later runs."""
    pb, js = DATA / f"pb-{BATCHES}x{BATCH_SPANS}.bin", DATA / f"json-{BATCHES}x{BATCH_SPANS}.bin"
    if not (pb.exists() and js.exists()):
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"bench: building {BATCHES} OTLP requests of {BATCH_SPANS} spans (opentelemetry-proto) ...",
              file=sys.stderr)
        subprocess.run([str(VENV / "python"), "-m", "bench.otlp_receive", "--generate", str(DATA)],
                       cwd=ROOT, check=True)
    return _read_bodies(pb), _read_bodies(js)


# --- the clients ----------------------------------------------------------------------------

def _client(port, content_type, bodies, ready, go, results):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.connect()
    ready.release()
    go.wait()
    cpu0, start = os.times(), time.monotonic()
    bad = []
    for body in bodies:
        conn.request("POST", "/v1/traces", body, {"Content-Type": content_type})
        answer = conn.getresponse()
        text = answer.read()
        # Everything stored answers {} (JSON) or an empty body (protobuf); anything else is
        # an error or a partial success, and the run does not count.
        if answer.status != 200 or text != (b"{}" if content_type == "application/json" else b""):
            bad.append(f"{answer.status} {text[:200]!r}")
    end, cpu1 = time.monotonic(), os.times()
    conn.close()
    results.put((start, end, (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), bad[:3], len(bad)))


def post_all(port, content_type, bodies, clients=CLIENTS):
    """Posts `bodies` from `clients` processes (each its share, one keep-alive connection);
    returns (wall seconds from the first send to the last answer, the clients' CPU seconds)."""
    ctx = multiprocessing.get_context("fork")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(port, content_type, bodies[i::clients], ready, go, results))
             for i in range(clients)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    go.set()
    got = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    failed = sum(r[4] for r in got)
    if failed:
        raise SystemExit(f"bench: otlp-receive: {failed} requests failed ({content_type}): {got[0][3] or got[-1][3]}")
    return max(r[1] for r in got) - min(r[0] for r in got), sum(r[2] for r in got)


# --- the servers ----------------------------------------------------------------------------

def _cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Receiver:
    """`telem-trace serve` on a free port and a fresh state database."""

    def __init__(self, binary, db):
        remove_database(db)
        env = arc_env(db)
        env["ARC_LOG_LEVEL"] = "info"  # the listening line carries the port
        self.db = db
        self.proc = subprocess.Popen([binary, "serve", "--otlp", "127.0.0.1:0"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        import json
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise SystemExit(f"bench: telem-trace serve exited before listening ({binary})")
            if '"port"' in line:
                self.port = json.loads(line)["port"]
                break

    def peak_rss_mb(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=60)

    def stored(self):
        with sqlite3.connect(self.db) as c:
            return c.execute("SELECT count(*) FROM spans").fetchone()[0]


def _sink(port_pipe):
    import http.server

    class Sink(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            # One write for the whole answer: headers and body sent apart would wait on
            # Nagle and the client's delayed ACK (40 ms a request).
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    port_pipe.send(server.server_address[1])
    server.serve_forever()


def sink_run(bodies):
    """The clients against a server that only reads and answers: their ceiling."""
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()
    proc = ctx.Process(target=_sink, args=(theirs,), daemon=True)
    proc.start()
    try:
        port = mine.recv()
        return post_all(port, "application/json", bodies)
    finally:
        proc.terminate()
        proc.join()


def protobuf_taken(binary, db):
    """Whether this build's receiver takes protobuf: an empty ExportTraceServiceRequest (no
    spans) either gets 200 or, before protobuf, 415."""
    import http.client
    server = Receiver(binary, db)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("POST", "/v1/traces", b"", {"Content-Type": "application/x-protobuf"})
        answer = conn.getresponse()
        answer.read()
        return answer.status == 200, answer.status
    finally:
        server.stop()


# --- the row --------------------------------------------------------------------------------

def bench_otlp_receive(table, rounds, work):
    pb, js = requests()
    spans = BATCHES * BATCH_SPANS
    sizes = sum(map(len, pb)) / len(pb) / 1024, sum(map(len, js)) / len(js) / 1024
    print(f"bench: otlp-receive: {spans} spans in {BATCHES} batches ({sizes[0]:.0f} KiB protobuf, "
          f"{sizes[1]:.0f} KiB JSON a batch), {CLIENTS} clients, {rounds} rounds", file=sys.stderr)
    db = work / "otlp.db"
    with_pb, status = protobuf_taken(tool("telem-trace"), db)
    if not with_pb:
        note = (f"bench: otlp-receive: this build's receiver answers {status} to protobuf; the protobuf run is "
                "skipped (JSON only)")
        print(note, file=sys.stderr)
        NOTES.append(note)

    runs = {"json": (tool("telem-trace"), "application/json", js)}
    if with_pb:
        runs["protobuf"] = (tool("telem-trace"), "application/x-protobuf", pb)
    if common.BEFORE:
        runs["json-before"] = (tool("telem-trace", before=True), "application/json", js)
        if with_pb and protobuf_taken(tool("telem-trace", before=True), db)[0]:
            runs["protobuf-before"] = (tool("telem-trace", before=True), "application/x-protobuf", pb)
    figures = {name: [] for name in list(runs) + ["sink"]}
    for _ in range(rounds):
        for name, (binary, content_type, bodies) in runs.items():
            server = Receiver(binary, db)
            cpu0 = _cpu_seconds(server.proc.pid)
            wall, client_cpu = post_all(server.port, content_type, bodies)
            server_cpu = _cpu_seconds(server.proc.pid) - cpu0
            rss = server.peak_rss_mb()
            server.stop()
            stored = server.stored()
            if stored != spans:
                raise SystemExit(f"bench: otlp-receive ({name}): stored {stored} spans of {spans} sent")
            figures[name].append((spans / wall, rss, client_cpu, server_cpu, wall))
            print(f"  otlp-receive {name}: {spans / wall:,.0f} spans/s, peak RSS {rss:.1f} MB, CPU: server "
                  f"{server_cpu:.2f} s, clients {client_cpu:.2f} s, wall {wall:.2f} s", file=sys.stderr)
        wall, client_cpu = sink_run(js)
        figures["sink"].append((spans / wall, 0, client_cpu, 0, wall))
        print(f"  otlp-receive sink: {spans / wall:,.0f} spans/s, clients {client_cpu:.2f} s CPU", file=sys.stderr)

    m = {name: tuple(statistics.median([f[i] for f in values]) for i in range(5)) for name, values in figures.items()}
    work_name = f"otlp-receive, {spans} spans in batches of {BATCH_SPANS}, {CLIENTS} clients"
    if with_pb:
        table.add(f"{work_name}: protobuf", "the same spans as JSON", m["json"][0], m["protobuf"][0], "spans/s", TARGET)
        table.add("otlp-receive peak RSS: protobuf", "JSON", m["json"][1], m["protobuf"][1], "MB", "< 64 MB")
    table.add(f"{work_name}: JSON", "the clients against a sink (their ceiling)", m["sink"][0], m["json"][0],
              "spans/s", TARGET if not with_pb else "context")
    if not with_pb:
        table.add("otlp-receive peak RSS: JSON", "the 64 MB budget", 64, m["json"][1], "MB", "< 64 MB")
    for kind in ("JSON", "protobuf"):
        if f"{kind.lower()}-before" in m:
            BUILDS.add(f"otlp-receive {kind}, {spans} spans, {CLIENTS} clients (wall)", m[f"{kind.lower()}-before"][4],
                       m[kind.lower()][4], "s")
    lines = [f"otlp-receive: CPU seconds of a run (medians; {os.cpu_count()} cores): "]
    for name, (_, _, client_cpu, server_cpu, wall) in m.items():
        lines.append(f"{name}: wall {wall:.2f} s, server {server_cpu:.2f} s, clients {client_cpu:.2f} s "
                     f"({client_cpu / wall / (os.cpu_count() or 1):.0%} of the machine)")
    NOTES.append("; ".join(lines[:1]) + "; ".join(lines[1:]))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        built = build_requests()
        folder = Path(sys.argv[2])
        _write_bodies(folder / f"pb-{BATCHES}x{BATCH_SPANS}.bin", [b[0] for b in built])
        _write_bodies(folder / f"json-{BATCHES}x{BATCH_SPANS}.bin", [b[1] for b in built])
    else:
        print("usage: python -m bench.otlp_receive --generate DIR (bench/run.py --only otlp-receive runs the row)")
