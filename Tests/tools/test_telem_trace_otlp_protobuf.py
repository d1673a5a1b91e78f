"""telem-trace serve over OTLP/HTTP protobuf, traces and logs: (a) bodies built with
opentelemetry-proto's own Python classes, raw and gzipped, read back by telem-trace and
telem-log; hostile bodies answered 400 with a google.rpc.Status; (b) the real Python SDK
(opentelemetry-sdk with its OTLP/HTTP protobuf exporters) sending traces and logs, what it
recorded in memory compared with what telem-trace and telem-log give back."""
import base64
import gzip
import http.client
import json
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (ExportLogsServiceRequest,
                                                                    ExportLogsServiceResponse)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                      ExportTraceServiceResponse)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from conftest import run
from test_telem_trace import Server, tenv  # noqa: F401 (tenv: the fixture)

PB = "application/x-protobuf"
T0 = 1_700_000_000_000_000_000
TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
ROOT, CHILD, LEAF, SIDE = (bytes.fromhex(h) for h in
                           ("b7ad6b7169203331", "00f067aa0ba902b7", "1111111111111111", "2222222222222222"))


def post(server, body, path="/v1/traces", content_type=PB, gzipped=False, conn=None):
    """POSTs raw bytes; (status, Content-Type, body bytes)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Content-Type": content_type}
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    answer = (r.status, r.headers.get("Content-Type"), r.read())
    if conn is None:
        c.close()
    return answer


def rfc3339(nanos):
    """As telem-trace and the receiver write times: UTC, microseconds (truncated)."""
    secs, rest = divmod(nanos, 1_000_000_000)
    return datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{rest // 1000:06d}Z"


# --- what the receiver keeps of an AnyValue (an independent reading of the rules) ----------

def any_value(v):
    kind = v.WhichOneof("value")
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "int_value":
        return v.int_value
    if kind == "double_value":
        return v.double_value
    if kind == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values if x.WhichOneof("value")]
    if kind == "kvlist_value":
        return flatten(v.kvlist_value.values)
    return None


def flatten(kvs, prefix=""):
    """kvlists flattened into dotted names, at the top level of each object."""
    out = {}
    for kv in kvs:
        if kv.value.WhichOneof("value") == "kvlist_value":
            out.update(flatten(kv.value.kvlist_value.values, prefix + kv.key + "."))
        elif kv.value.WhichOneof("value"):
            out[prefix + kv.key] = any_value(kv.value)
    return out


def every_kind():
    """Attributes of every AnyValue kind, nested ones included."""
    inner = KeyValueList(values=[KeyValue(key="region", value=AnyValue(string_value="eu")),
                                 KeyValue(key="deep", value=AnyValue(kvlist_value=KeyValueList(values=[
                                     KeyValue(key="zone", value=AnyValue(int_value=3))])))])
    return [
        KeyValue(key="s", value=AnyValue(string_value="GET ünïcode")),
        KeyValue(key="b", value=AnyValue(bool_value=True)),
        KeyValue(key="f", value=AnyValue(bool_value=False)),
        KeyValue(key="i", value=AnyValue(int_value=-(2 ** 63))),
        KeyValue(key="big", value=AnyValue(int_value=2 ** 63 - 1)),
        KeyValue(key="d", value=AnyValue(double_value=0.25)),
        KeyValue(key="bytes", value=AnyValue(bytes_value=b"\x00\x01\xff")),
        KeyValue(key="arr", value=AnyValue(array_value=ArrayValue(values=[
            AnyValue(string_value="a"), AnyValue(int_value=2), AnyValue(double_value=1.5), AnyValue(bool_value=False),
            AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1)])),
            AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=AnyValue(string_value="v"))])),
            AnyValue()]))),
        KeyValue(key="cloud", value=AnyValue(kvlist_value=inner)),
        KeyValue(key="unset", value=AnyValue()),
    ]


UNKNOWN = bytes([0xA0, 0x06, 0x07,                 # field 100, varint
                 0xA9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,  # field 101, fixed64
                 0xB2, 0x06, 0x03, 0x61, 0x62, 0x63,  # field 102, length-delimited
                 0xBD, 0x06, 1, 2, 3, 4])             # field 103, fixed32


def trace_request():
    """Nested spans (root > child > leaf, and a sibling), every kind, events, statuses;
    unknown fields in the request, a span and an attribute; the resource after the spans."""
    rs = ResourceSpans()
    ss = rs.scope_spans.add()
    ss.scope.name = "py-test"
    root = ss.spans.add(trace_id=TRACE, span_id=ROOT, name="GET /cart", kind=Span.SPAN_KIND_SERVER,
                        start_time_unix_nano=T0, end_time_unix_nano=T0 + 250_000_000)
    root.status.CopyFrom(Status(code=Status.STATUS_CODE_OK))
    root.attributes.extend(every_kind())
    root.MergeFromString(UNKNOWN)
    child = ss.spans.add(trace_id=TRACE, span_id=CHILD, parent_span_id=ROOT, name="load cart",
                         kind=Span.SPAN_KIND_CLIENT, start_time_unix_nano=T0 + 50_000_123,
                         end_time_unix_nano=T0 + 200_000_456)
    child.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="deadlock"))
    ev = child.events.add(time_unix_nano=T0 + 100_000_000, name="retry")
    ev.attributes.add(key="attempt", value=AnyValue(int_value=2))
    child.events.add(time_unix_nano=T0 + 150_000_000, name="gave up")
    leaf = ss.spans.add(trace_id=TRACE, span_id=LEAF, parent_span_id=CHILD, name="SELECT cart",
                        kind=Span.SPAN_KIND_PRODUCER, start_time_unix_nano=T0 + 60_000_000,
                        end_time_unix_nano=T0 + 70_000_000)
    leaf.attributes.add(key="db.rows", value=AnyValue(int_value=7)).MergeFromString(UNKNOWN)
    ss.spans.add(trace_id=TRACE, span_id=SIDE, parent_span_id=ROOT, name="publish",
                 kind=Span.SPAN_KIND_CONSUMER, start_time_unix_nano=T0 + 210_000_000,
                 end_time_unix_nano=T0 + 240_000_000)
    # The resource last: a receiver must not need it before the spans.
    resource = ResourceSpans()
    resource.resource.attributes.add(key="service.name", value=AnyValue(string_value="checkout"))
    body = rs.SerializeToString() + resource.SerializeToString()
    req = ExportTraceServiceRequest()
    req.MergeFromString(bytes([0x0A]) + varint(len(body)) + body + UNKNOWN)
    assert req.resource_spans[0].resource.attributes[0].value.string_value == "checkout"
    return req


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def expected_span(s, service):
    kinds = {Span.SPAN_KIND_SERVER: "server", Span.SPAN_KIND_CLIENT: "client", Span.SPAN_KIND_PRODUCER: "producer",
             Span.SPAN_KIND_CONSUMER: "consumer"}
    attributes = ({"span.kind": kinds[s.kind]} if s.kind in kinds else {}) | flatten(s.attributes)
    r = {"trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(), "name": s.name, "service": service,
         "start": rfc3339(s.start_time_unix_nano), "end": rfc3339(s.end_time_unix_nano),
         "status": {0: "unset", 1: "ok", 2: "error"}[s.status.code], "attributes": attributes}
    if s.parent_span_id:
        r["parent_span_id"] = s.parent_span_id.hex()
    if s.status.message:
        r["status_message"] = s.status.message
    if s.events:
        r["events"] = [{"name": e.name, "time": rfc3339(e.time_unix_nano),
                        **({"attributes": flatten(e.attributes)} if e.attributes else {})} for e in s.events]
    return r


def shown(env, trace_id):
    r = run("telem-trace", "show", "--json", trace_id, env=env)
    assert r.status == 0, r
    return {s["span_id"]: {k: v for k, v in s.items() if k != "duration_ms"} for s in r.records}


def test_protobuf_traces_raw_and_gzipped_read_back_the_same(tenv):
    req = trace_request()
    server = Server(tenv)
    try:
        status, ctype, body = post(server, req.SerializeToString())
        assert (status, ctype, body) == (200, PB, b"")  # nothing rejected: an empty response
        ExportTraceServiceResponse.FromString(body)
        # Gzipped, and over one keep-alive connection twice: stored once (same ids).
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for _ in range(2):
            assert post(server, req.SerializeToString(), gzipped=True, conn=conn) == (200, PB, b"")
        conn.close()
    finally:
        code, err = server.stop()
    assert code == 143, err
    assert "/v1/traces and /v1/logs" in server.listening["msg"]
    assert "stored 12 spans and 0 log records from 3 requests" in err

    spans = req.resource_spans[0].scope_spans[0].spans
    want = {s.span_id.hex(): expected_span(s, "checkout") for s in spans}
    assert shown(tenv, TRACE.hex()) == want
    root = want[ROOT.hex()]["attributes"]
    assert root["cloud.region"] == "eu" and root["cloud.deep.zone"] == 3 and root["i"] == -(2 ** 63)
    assert root["arr"] == ["a", 2, 1.5, False, [1], {"k": "v"}] and root["bytes"] == "AAH/"
    [t] = run("telem-trace", "ls", "--json", env=tenv).records
    assert (t["trace_id"], t["name"], t["service"], t["spans"], t["errors"], t["duration_ms"]) == (
        TRACE.hex(), "GET /cart", "checkout", 4, 1, 250)


def test_a_bad_span_is_counted_in_partial_success_and_the_rest_stored(tenv):
    req = trace_request()
    spans = req.resource_spans[0].scope_spans[0].spans
    spans[1].trace_id = b"\x01" * 5          # wrong length
    spans[2].span_id = b"\x00" * 8           # all zero
    spans[3].name = ""                       # no name
    server = Server(tenv)
    try:
        status, ctype, body = post(server, req.SerializeToString())
        assert (status, ctype) == (200, PB)
        answer = ExportTraceServiceResponse.FromString(body)
        assert answer.partial_success.rejected_spans == 3
        assert "traceId" in answer.partial_success.error_message
    finally:
        server.stop()
    assert list(shown(tenv, TRACE.hex())) == [ROOT.hex()]


# --- logs ---------------------------------------------------------------------------------

def logs_request(service="checkout"):
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    sl = rl.scope_logs.add()
    sl.scope.name = "py-test"
    recs = [
        LogRecord(time_unix_nano=T0 + 1_000, severity_number=9, severity_text="INFO",
                  body=AnyValue(string_value="cart loaded"), trace_id=TRACE, span_id=ROOT,
                  attributes=[KeyValue(key="items", value=AnyValue(int_value=3)),
                              KeyValue(key="http", value=AnyValue(kvlist_value=KeyValueList(values=[
                                  KeyValue(key="status", value=AnyValue(int_value=503))]))),
                              KeyValue(key="msg", value=AnyValue(string_value="collides"))]),
        LogRecord(time_unix_nano=T0 + 2_000, severity_number=17, body=AnyValue(string_value="payment failed"),
                  trace_id=TRACE, span_id=CHILD, attributes=every_kind()),
        LogRecord(time_unix_nano=0, observed_time_unix_nano=T0 + 3_000, severity_number=13,
                  body=AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=AnyValue(int_value=1))]))),
        LogRecord(time_unix_nano=T0 + 4_000, severity_number=21, body=AnyValue(int_value=42)),
        LogRecord(time_unix_nano=T0 + 5_000, severity_number=2,
                  body=AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="x"), AnyValue(bool_value=True)]))),
        LogRecord(time_unix_nano=T0 + 6_000, severity_number=6, body=AnyValue(string_value="debugging")),
    ]
    sl.log_records.extend(recs)
    return req


def search(env, *args):
    r = run("telem-log", "search", "--oldest-first", "-n", "0", *args, env=env)
    assert r.status == 0, r
    return r.records


def test_protobuf_logs_are_searchable_as_arc_log_lines(tenv):
    req = logs_request()
    server = Server(tenv)
    try:
        assert post(server, req.SerializeToString(), path="/v1/logs") == (200, PB, b"")
        assert post(server, logs_request("other").SerializeToString(), path="/v1/logs", gzipped=True) == (200, PB, b"")
        # A record with no time at all is dated when it came.
        late = ExportLogsServiceRequest()
        late.resource_logs.add().scope_logs.add().log_records.add(body=AnyValue(string_value="undated"))
        before = datetime.now(timezone.utc)
        assert post(server, late.SerializeToString(), path="/v1/logs")[0] == 200
    finally:
        code, err = server.stop()
    assert code == 143, err
    assert "stored 0 spans and 13 log records from 3 requests" in err

    lines = search(tenv, "--tool", "checkout")
    assert [l["msg"] for l in lines] == ["cart loaded", "payment failed", '{"k":1}', "42", '["x",true]', "debugging"]
    first, second, third = lines[:3]
    assert list(first)[:6] == ["ts", "level", "tool", "msg", "trace_id", "span_id"]
    assert first == {"ts": rfc3339(T0 + 1_000), "level": "info", "tool": "checkout", "msg": "cart loaded",
                     "trace_id": TRACE.hex(), "span_id": ROOT.hex(), "items": 3, "http.status": 503,
                     "attr.msg": "collides"}
    assert {k: v for k, v in second.items() if k not in ("ts", "level", "tool", "msg", "trace_id", "span_id")} == \
        flatten(every_kind())
    assert third["ts"] == rfc3339(T0 + 3_000) and "trace_id" not in third  # observed time used
    assert [l["level"] for l in lines] == ["info", "error", "warn", "fatal", "trace", "debug"]

    assert [l["msg"] for l in search(tenv, "--trace", TRACE.hex())] == ["cart loaded", "payment failed"] * 2
    assert [l["msg"] for l in search(tenv, "--tool", "other", "--level", "error")] == ["payment failed", "42"]
    assert [l["msg"] for l in search(tenv, "--tool", "checkout", "--where", "http.status=503")] == ["cart loaded"]
    assert [l["msg"] for l in search(tenv, "payment")] == ["payment failed"] * 2  # the FTS index has them
    [undated] = search(tenv, "undated")
    got = datetime.strptime(undated["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert (got - before).total_seconds() > -1 and "tool" not in undated
    counts = run("telem-log", "count", "--db", "--by", "tool,level", env=tenv).records
    assert {(c["tool"], c["level"]): c["count"] for c in counts}[("checkout", "info")] == 1
    assert sum(c["count"] for c in counts) == 13


def test_json_logs_too_and_a_bad_record_is_partial_success(tenv):
    from google.protobuf import json_format
    req = logs_request()
    req.resource_logs[0].scope_logs[0].log_records[1].trace_id = b"\x01" * 3
    body = json.loads(json_format.MessageToJson(req))
    for r in body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]:
        for k in ("traceId", "spanId"):
            if k in r and len(base64.b64decode(r[k])) in (8, 16):
                r[k] = base64.b64decode(r[k]).hex()
    server = Server(tenv)
    try:
        status, ctype, answer = post(server, json.dumps(body).encode(), path="/v1/logs", content_type="application/json")
        assert (status, ctype) == (200, "application/json")
        assert json.loads(answer)["partialSuccess"]["rejectedLogRecords"] == "1"
        status, ctype, answer = post(server, req.SerializeToString(), path="/v1/logs")
        partial = ExportLogsServiceResponse.FromString(answer).partial_success
        assert (status, partial.rejected_log_records) == (200, 1) and "traceId" in partial.error_message
    finally:
        server.stop()
    lines = search(tenv, "--tool", "checkout")
    assert [l["msg"] for l in lines] == ["cart loaded", '{"k":1}', "42", '["x",true]', "debugging"] * 2


# --- hostile bodies -------------------------------------------------------------------------

def nested_arrays(depth):
    v = AnyValue(int_value=1)
    for _ in range(depth):
        v = AnyValue(array_value=ArrayValue(values=[v]))
    return v


def hostile_bodies():
    good = trace_request().SerializeToString()
    deep = trace_request()
    deep.resource_spans[0].scope_spans[0].spans[0].attributes.add(key="deep", value=nested_arrays(40))
    return {
        "truncated": good[: len(good) // 2],
        "truncated by one byte": good[:-1],
        "declared length 2^62": b"\x0a" + varint(2 ** 62) + b"\x00" * 16,
        "declared length 2^64-1": b"\x0a" + b"\xff" * 9 + b"\x01",
        "length past the end of its message": b"\x0a\x05\x12\x10abc",
        "varint over 10 bytes": b"\x10" + b"\xff" * 10 + b"\x01",  # field 2, unknown: skipped, but read
        "truncated varint": b"\x0a\x80",
        "a group (wire type 3)": b"\x0b\x0c",
        "an end group (wire type 4)": b"\x0c",
        "wire type 6": b"\x0e",
        "field number 0": b"\x02\x00",
        "resource_spans as a varint": b"\x08\x01",
        "truncated fixed64": b"\x0a\x05\x12\x03\x12\x01\x39",
        "deep nesting": deep.SerializeToString(),
        "a span name with a huge length": wrap(1, wrap(2, wrap(2, b"\x2a" + varint(2 ** 40) + b"abc"))),
        "not protobuf at all": b"\xff\xfe\xfd hello",
    }


def wrap(field, payload):
    """A length-delimited field."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def deep_log_body():
    req = logs_request()
    req.resource_logs[0].scope_logs[0].log_records[0].body.CopyFrom(nested_arrays(40))
    return req.SerializeToString()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def test_hostile_bodies_get_400_with_a_status_and_the_server_keeps_serving(tenv):
    server = Server(tenv)
    try:
        start_rss = rss_kb(server.proc.pid)
        reasons = {}
        for path in ("/v1/traces", "/v1/logs"):
            # A KeyValue whose value declares 2^62 bytes, as an attribute (field 9 of a Span, 6 of a LogRecord).
            attributes = 9 if path == "/v1/traces" else 6
            huge = wrap(1, wrap(2, wrap(2, wrap(attributes, b"\x0a\x01k\x12" + varint(2 ** 62)))))
            bodies = hostile_bodies() | {"a huge attribute value length": huge}
            if path == "/v1/logs":
                bodies["deep log body"] = deep_log_body()
            for name, body in bodies.items():
                for gzipped in (False, True):
                    status, ctype, answer = post(server, body, path=path, gzipped=gzipped)
                    assert (status, ctype) == (400, PB), (name, path, status, answer)
                    st = status_pb2.Status.FromString(answer)
                    assert st.code == 3 and st.message, (name, st)  # INVALID_ARGUMENT
                    reasons[path, name] = st.message
            # Still serving: a good request after them all.
            assert post(server, trace_request().SerializeToString()) == (200, PB, b"")
        grown = rss_kb(server.proc.pid) - start_rss
    finally:
        code, err = server.stop()
    assert code == 143, err
    # A declared length of 2^62 allocated nothing: the server grew by far less than that.
    assert grown < 64 * 1024, grown
    # Reasons name where (the field path) and what is wrong.
    r = reasons["/v1/traces", "declared length 2^62"]
    assert r == "resource_spans[0]: truncated length-delimited field (declares 4611686018427387904 bytes, 16 left)", r
    r = reasons["/v1/traces", "a huge attribute value length"]
    assert r.startswith("resource_spans[0].scope_spans[0].spans[0].attributes[0].value: truncated length-delimited"), r
    r = reasons["/v1/traces", "deep nesting"]
    assert r.startswith("resource_spans[0].scope_spans[0].spans[0].attributes[10].value.array_value.values[0]"), r
    assert r.endswith("messages nested deeper than 32 levels"), r
    r = reasons["/v1/logs", "deep log body"]
    assert r.startswith("resource_logs[0].scope_logs[0].log_records[0].body.array_value.values[0]"), r
    assert "groups" in reasons["/v1/logs", "a group (wire type 3)"]
    assert "overflows 64 bits" in reasons["/v1/traces", "varint over 10 bytes"]
    assert "resource_spans: wire type 0, expected 2" in reasons["/v1/traces", "resource_spans as a varint"]
    assert "truncated fixed64" in reasons["/v1/traces", "truncated fixed64"]
    assert "field number 0" in reasons["/v1/traces", "field number 0"]


def test_gzip_that_is_not_gzip_and_errors_before_decoding_answer_in_protobuf(tenv):
    server = Server(tenv)
    try:
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        c.request("POST", "/v1/traces", body=b"not gzip", headers={"Content-Type": PB, "Content-Encoding": "gzip"})
        r = c.getresponse()
        st = status_pb2.Status.FromString(r.read())
        assert (r.status, st.code) == (400, 3) and "gzip" in st.message
        status, ctype, answer = post(server, b"", path="/v1/metrics")
        assert (status, ctype, status_pb2.Status.FromString(answer).code) == (404, PB, 12)
        status, ctype, answer = post(server, b"", path="/v1/logs", content_type="text/plain")
        assert (status, ctype, json.loads(answer)["code"]) == (415, "application/json", 3)
        # An empty protobuf body is an empty request: nothing stored, nothing rejected.
        assert post(server, b"", path="/v1/logs") == (200, PB, b"")
    finally:
        server.stop()


# --- (b) the real SDK ---------------------------------------------------------------------

SDK_APP = textwrap.dedent('''
    import json, logging, sys
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import (BatchLogRecordProcessor, SimpleLogRecordProcessor,
                                                InMemoryLogRecordExporter, LogRecordExporter)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.trace import SpanKind, Status, StatusCode

    results = []

    class Recording(SpanExporter):
        """The OTLP exporter, its every result kept: the test checks none failed."""
        def __init__(self, inner):
            self.inner = inner
        def export(self, spans):
            r = self.inner.export(spans)
            results.append(["spans", len(spans), r.name])
            return r
        def shutdown(self):
            self.inner.shutdown()
        def force_flush(self, timeout_millis=30000):
            return True

    class RecordingLogs(LogRecordExporter):
        def __init__(self, inner):
            self.inner = inner
        def export(self, batch):
            r = self.inner.export(batch)
            results.append(["logs", len(batch), r.name])
            return r
        def shutdown(self):
            self.inner.shutdown()
        def force_flush(self, timeout_millis=30000):
            return True

    resource = Resource.create({"service.name": "sdk-app", "service.version": "1.2"})
    memory = InMemorySpanExporter()
    tp = TracerProvider(resource=resource)
    tp.add_span_processor(BatchSpanProcessor(Recording(OTLPSpanExporter())))
    tp.add_span_processor(SimpleSpanProcessor(memory))
    log_memory = InMemoryLogRecordExporter()
    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(BatchLogRecordProcessor(RecordingLogs(OTLPLogExporter())))
    lp.add_log_record_processor(SimpleLogRecordProcessor(log_memory))
    log = logging.getLogger("sdk-app")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=lp))

    tracer = tp.get_tracer("sdk-test", "0.1")
    every = {"s": "text", "b": True, "i": 42, "f": 0.5, "ss": ["a", "b"], "bs": [True, False],
             "is": [1, 2, 3], "fs": [1.5, 2.25]}
    with tracer.start_as_current_span("checkout", kind=SpanKind.SERVER, attributes=every) as root:
        log.info("cart loaded", extra={"items": 3, "user": "ann"})
        with tracer.start_as_current_span("load cart", kind=SpanKind.CLIENT) as child:
            child.add_event("retry", {"attempt": 2, "why": "timeout"})
            with tracer.start_as_current_span("SELECT cart") as leaf:
                leaf.set_attribute("db.rows", 7)
                log.warning("slow query: %d ms", 250)
                leaf.set_status(Status(StatusCode.ERROR, "deadlock"))
            child.add_event("done")
        log.error("payment failed", extra={"codes": [402, 409]})
    log.debug("idle")
    tp.force_flush()
    lp.force_flush()
    tp.shutdown()
    lp.shutdown()

    def span(s):
        return {"trace_id": format(s.context.trace_id, "032x"), "span_id": format(s.context.span_id, "016x"),
                "parent_span_id": format(s.parent.span_id, "016x") if s.parent else None, "name": s.name,
                "kind": s.kind.name, "start": s.start_time, "end": s.end_time, "attributes": dict(s.attributes),
                "events": [[e.name, e.timestamp, dict(e.attributes)] for e in s.events],
                "status": s.status.status_code.name, "message": s.status.description}

    def record(r):
        l = r.log_record
        return {"body": l.body, "severity_number": l.severity_number.value, "time": l.timestamp,
                "trace_id": format(l.trace_id, "032x") if l.trace_id else None,
                "span_id": format(l.span_id, "016x") if l.span_id else None,
                "attributes": {k: list(v) if isinstance(v, tuple) else v for k, v in dict(l.attributes).items()}}

    json.dump({"results": results, "spans": [span(s) for s in memory.get_finished_spans()],
               "logs": [record(r) for r in log_memory.get_finished_logs()]}, sys.stdout)
''')


def test_the_python_sdk_sends_traces_and_logs_over_protobuf(tenv, tmp_path):
    server = Server(tenv)
    try:
        app = tmp_path / "app.py"
        app.write_text(SDK_APP)
        # No protocol setting: the SDK's default, http/protobuf.
        env = dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=server.url)
        p = subprocess.run([sys.executable, str(app)], env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        sent = json.loads(p.stdout)
    finally:
        code, err = server.stop()
    assert code == 143, err
    assert p.stderr == "", p.stderr  # the exporters log failures there
    assert sent["results"] and all(r[2] == "SUCCESS" for r in sent["results"]), sent["results"]
    assert sorted(r[0] for r in sent["results"]) == ["logs", "spans"]
    assert "stored 3 spans and 4 log records from" in err

    spans = sent["spans"]
    [trace_id] = {s["trace_id"] for s in spans}
    got = shown(tenv, trace_id)
    assert len(got) == len(spans) == 3
    kinds = {"SERVER": "server", "CLIENT": "client"}
    for s in spans:
        g = got[s["span_id"]]
        assert (g["trace_id"], g["name"], g["service"]) == (trace_id, s["name"], "sdk-app")
        assert g.get("parent_span_id") == s["parent_span_id"]
        assert (g["start"], g["end"]) == (rfc3339(s["start"]), rfc3339(s["end"]))
        want = ({"span.kind": kinds[s["kind"]]} if s["kind"] in kinds else {}) | s["attributes"]
        assert g["attributes"] == want
        assert [(e["name"], e["time"], e.get("attributes", {})) for e in g.get("events", [])] == \
            [(n, rfc3339(t), a) for n, t, a in s["events"]]
        assert g["status"] == {"UNSET": "unset", "OK": "ok", "ERROR": "error"}[s["status"]]
        assert g.get("status_message") == s["message"]
    assert got[[s for s in spans if s["name"] == "checkout"][0]["span_id"]]["attributes"]["fs"] == [1.5, 2.25]

    lines = search(tenv, "--tool", "sdk-app")
    assert len(lines) == len(sent["logs"]) == 4
    levels = {9: "info", 13: "warn", 17: "error", 5: "debug"}
    for line, rec in zip(lines, sorted(sent["logs"], key=lambda r: r["time"])):
        assert line["msg"] == rec["body"] and line["level"] == levels[rec["severity_number"]]
        assert line["ts"] == rfc3339(rec["time"])
        assert line.get("trace_id") == rec["trace_id"] and line.get("span_id") == rec["span_id"]
        fields = {k: v for k, v in line.items() if k not in ("ts", "level", "tool", "msg", "trace_id", "span_id")}
        assert fields == rec["attributes"]
    assert [l["msg"] for l in search(tenv, "--trace", trace_id)] == ["cart loaded", "slow query: 250 ms", "payment failed"]
    assert [l["msg"] for l in search(tenv, "--tool", "sdk-app", "--level", "warn")] == ["slow query: 250 ms",
                                                                                        "payment failed"]
    assert [l["msg"] for l in search(tenv, "--where", "user=ann")] == ["cart loaded"]
