"""OTLP/HTTP protobuf out, the default of arc's exporters (the tools' own telemetry and
`telem-trace export`), and http/json when asked: OTEL_EXPORTER_OTLP_PROTOCOL, the
per-signal OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / _LOGS_PROTOCOL, `--protocol`. Every body
goes to the strict receiver (otlp_receiver.py), which parses protobuf with
opentelemetry-proto and requires it to re-serialize to the very bytes sent."""
import gzip
import json
import urllib.error
import urllib.request

import pytest

from conftest import run
from otlp_receiver import JSON, PROTOBUF, OTLPReceiver
from test_telem_trace_otlp_protobuf import wrap
from test_telem_trace import TRACE, ingest, span, tenv, write_spans  # noqa: F401 (tenv: the fixture)

GRPC_WARNING = "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported (http/protobuf or http/json): sending http/protobuf"


LONG = "ü" * 9000  # 18,000 bytes: the AnyValue, KeyValue and Span lengths take three bytes

# Every kind of attribute value, zero values included (AnyValue's oneof keeps them), events,
# every status, parent ids and none, two services.
EVERYTHING = [
    span("00f067aa0ba902b7", "nightly", 0, 1.2, status="error", message="exit status 1", service="telem-trace",
         attributes={"command": "sh -c 'arc-plan | arc-collect'", "empty": "", "zero": 0, "negative": -42,
                     "big": 2**62, "false": False, "true": True, "nought": 0.0, "ratio": -0.125,
                     "list": [1, "a"], "object": {"k": "v"}}),
    span("00f067aa0ba902b8", "arc-plan", 0.01, 0.3, parent="00f067aa0ba902b7", status="unset"),
    span("00f067aa0ba902c1", "collect.task", 0.3, 0.7, parent="00f067aa0ba902b8", service="arc-collect",
         attributes={"url": "http://127.0.0.1/a.zip", "bytes": 1234, "verified": True, "ratio": 0.5, "long": LONG},
         events=[{"name": "retry", "time": "2024-01-02T03:00:00.400000Z", "attributes": {"attempt": 2, "ok": False}},
                 {"name": "resumed", "time": "2024-01-02T03:00:00.500000Z", "attributes": {}}]),
    span("00f067aa0ba902c2", "collect.täsk ✓", 0.7, 1.1, parent="00f067aa0ba902b8", service="arc-collect",
         status="error", message="checksum_mismatch: " + "x" * 300, attributes={}),
    span("00f067aa0ba902c3", "instant", 0, 0, trace="0" * 31 + "1", service="arc-collect"),
]


def export(env, receiver, *args):
    return run("telem-trace", "export", "--otlp", receiver.url, *args, env=env)


def test_export_sends_strict_protobuf_with_every_kind_of_value_and_the_same_content_as_json(tenv, tmp_path):
    ingest(tenv, write_spans(tmp_path / "e.ndjson", EVERYTHING))
    with OTLPReceiver() as proto, OTLPReceiver() as js:
        assert export(tenv, proto, "--batch", "3").status == 0
        r = export(tenv, js, "--batch", "3", "--protocol", "http/json")
        assert r.status == 0, r
    assert proto.errors == [] and js.errors == []
    assert proto.content_types == [PROTOBUF, PROTOBUF] and js.content_types == [JSON, JSON]
    # The same requests, field for field, whichever the encoding: resources, scope, spans.
    assert [m for _, m in proto.messages] == [m for _, m in js.messages]
    got = {s.span_id.hex(): (service, s) for service, s in proto.spans}
    assert len(got) == 5
    service, root = got["00f067aa0ba902b7"]
    assert service == "telem-trace" and root.parent_span_id == b"" and root.trace_id.hex() == TRACE
    assert (root.status.code, root.status.message) == (2, "exit status 1")
    a = {kv.key: kv.value for kv in root.attributes}
    assert a["empty"].WhichOneof("value") == "string_value" and a["empty"].string_value == ""
    assert a["zero"].WhichOneof("value") == "int_value" and a["zero"].int_value == 0
    assert a["negative"].int_value == -42 and a["big"].int_value == 2**62
    assert a["false"].WhichOneof("value") == "bool_value" and a["false"].bool_value is False
    assert a["true"].bool_value is True
    assert a["nought"].WhichOneof("value") == "double_value" and a["nought"].double_value == 0.0
    assert a["ratio"].double_value == -0.125
    assert json.loads(a["list"].string_value) == [1, "a"] and json.loads(a["object"].string_value) == {"k": "v"}
    _, plan = got["00f067aa0ba902b8"]
    assert plan.parent_span_id.hex() == "00f067aa0ba902b7" and plan.status.code == 0 and plan.kind == 1
    assert plan.HasField("status"), "sent as the JSON sends it"
    _, task = got["00f067aa0ba902c1"]
    assert {kv.key: kv.value for kv in task.attributes}["long"].string_value == LONG
    assert [(e.name, [(kv.key, kv.value.WhichOneof("value")) for kv in e.attributes]) for e in task.events] == [
        ("retry", [("attempt", "int_value"), ("ok", "bool_value")]), ("resumed", [])]
    assert task.events[0].time_unix_nano - task.start_time_unix_nano == 100_000_000
    _, failed = got["00f067aa0ba902c2"]
    assert failed.name == "collect.täsk ✓" and failed.status.message.endswith("x" * 300)
    _, blank = got["00f067aa0ba902c3"]
    assert blank.start_time_unix_nano == blank.end_time_unix_nano and blank.trace_id == bytes(15) + b"\x01"
    # Each batch: a resource per service, with the SDK's attributes, and arc's scope.
    resources = [rs for _, m in proto.messages for rs in m.resource_spans]
    assert sorted(rs.resource.attributes[0].value.string_value for rs in resources) == [
        "arc-collect", "arc-collect", "arc-plan", "telem-trace"]
    for rs in resources:
        assert [(kv.key, kv.value.string_value) for kv in rs.resource.attributes][:3] == [
            ("service.name", rs.resource.attributes[0].value.string_value), ("telemetry.sdk.name", "arc"),
            ("telemetry.sdk.language", "swift")]
        assert [ss.scope.name for ss in rs.scope_spans] == ["arc"]


def test_tools_send_protobuf_by_default_and_json_when_asked(tenv, tmp_path):
    def plan(receiver, **variables):
        r = run("arc-plan", "--log-level", "debug", "--dest", str(tmp_path / "d"), input="",
                env=dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, **variables))
        assert r.status == 0 and "otlp:" not in r.stderr, r
        assert receiver.errors == []
        return r

    def types(receiver, path):
        return {t for (p, _), t in zip(receiver.bodies, receiver.content_types) if p == path}

    with OTLPReceiver() as default:
        plan(default)
    assert types(default, "/v1/traces") == {PROTOBUF} and types(default, "/v1/logs") == {PROTOBUF}
    [(service, root)] = default.spans
    assert service == "arc-plan" and root.name == "arc-plan" and root.status.code == 1
    assert default.log_records and all(r.severity_number in (5, 9, 13, 17) for _, r in default.log_records)
    assert all(len(r.trace_id) == 16 and r.trace_id == root.trace_id for _, r in default.log_records)

    with OTLPReceiver() as js:
        plan(js, OTEL_EXPORTER_OTLP_PROTOCOL="http/json")
    assert types(js, "/v1/traces") == {JSON} and types(js, "/v1/logs") == {JSON}
    assert len(js.spans) == 1 and len(js.log_records) == len(default.log_records)

    # The signal's own variable overrides the common one, either way round.
    with OTLPReceiver() as split:
        plan(split, OTEL_EXPORTER_OTLP_PROTOCOL="http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/protobuf")
    assert types(split, "/v1/traces") == {PROTOBUF} and types(split, "/v1/logs") == {JSON}
    with OTLPReceiver() as split:
        plan(split, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf", OTEL_EXPORTER_OTLP_LOGS_PROTOCOL="http/json")
    assert types(split, "/v1/traces") == {PROTOBUF} and types(split, "/v1/logs") == {JSON}
    assert len(split.spans) == 1 and split.log_records


def test_an_unknown_protocol_warns_once_and_protobuf_is_delivered(tenv, tmp_path):
    with OTLPReceiver() as receiver:
        r = run("arc-plan", "--dest", str(tmp_path / "d"), input="",
                env=dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL="grpc"))
    assert r.status == 0, r
    warnings = [json.loads(line) for line in r.stderr.splitlines() if "grpc" in line]
    assert [(w["level"], w["msg"]) for w in warnings] == [("warn", GRPC_WARNING)], r.stderr
    assert receiver.errors == [] and len(receiver.spans) == 1
    assert set(receiver.content_types) == {PROTOBUF}

    # telem-trace export reads the variable for its requests and for its own span: one line.
    ingest(tenv, write_spans(tmp_path / "e.ndjson", EVERYTHING[:2]))
    with OTLPReceiver() as receiver:
        r = run("telem-trace", "export", env=dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
                                                  OTEL_EXPORTER_OTLP_PROTOCOL="grpc"))
    assert r.status == 0, r
    assert [json.loads(line)["msg"] for line in r.stderr.splitlines() if "grpc" in line] == [GRPC_WARNING]
    assert receiver.errors == [] and set(receiver.content_types) == {PROTOBUF}
    assert sorted(s.name for _, s in receiver.spans) == ["arc-plan", "nightly", "telem-trace export"]

    # A per-signal variable is named as such.
    with OTLPReceiver() as receiver:
        r = run("arc-plan", "--dest", str(tmp_path / "d"), input="",
                env=dict(tenv, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=receiver.url + "/v1/traces",
                         OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/thrift"))
    assert r.status == 0 and "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/thrift is not supported" in r.stderr, r
    assert len(receiver.spans) == 1


def test_gzip_when_asked_per_signal_and_an_unknown_compression_warns_and_sends_plain(tenv, tmp_path):
    def plan(receiver, **variables):
        r = run("arc-plan", "--log-level", "debug", "--dest", str(tmp_path / "d"), input="",
                env=dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, **variables))
        assert r.status == 0 and "otlp:" not in r.stderr, r
        assert receiver.errors == [] and len(receiver.spans) == 1 and receiver.log_records
        return r

    def encodings(receiver, path):
        return {e for p, e in receiver.encodings if p == path}

    with OTLPReceiver() as plain:
        plan(plain)
    assert encodings(plain, "/v1/traces") == {None} and encodings(plain, "/v1/logs") == {None}
    with OTLPReceiver() as zipped:
        plan(zipped, OTEL_EXPORTER_OTLP_COMPRESSION="gzip")
    assert encodings(zipped, "/v1/traces") == {"gzip"} and encodings(zipped, "/v1/logs") == {"gzip"}
    assert len(zipped.log_records) == len(plain.log_records)
    with OTLPReceiver() as split:
        plan(split, OTEL_EXPORTER_OTLP_COMPRESSION="gzip", OTEL_EXPORTER_OTLP_LOGS_COMPRESSION="none",
             OTEL_EXPORTER_OTLP_PROTOCOL="http/json")
    assert encodings(split, "/v1/traces") == {"gzip"} and encodings(split, "/v1/logs") == {None}
    with OTLPReceiver() as receiver:
        r = plan(receiver, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="zstd")
    assert [json.loads(line)["msg"] for line in r.stderr.splitlines() if "zstd" in line] == \
        ["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=zstd is not supported (gzip or none): sending uncompressed"]
    assert encodings(receiver, "/v1/traces") == {None}

    # telem-trace export: --compression, else the variables; the strict receiver parses both.
    ingest(tenv, write_spans(tmp_path / "e.ndjson", EVERYTHING))
    with OTLPReceiver() as receiver:
        assert export(tenv, receiver, "--compression", "gzip").status == 0
        assert export(dict(tenv, OTEL_EXPORTER_OTLP_COMPRESSION="gzip"), receiver, "--compression", "none").status == 0
        assert export(dict(tenv, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="gzip"), receiver).status == 0
    assert [e for _, e in receiver.encodings] == ["gzip", None, "gzip"]
    assert receiver.errors == [] and len(receiver.spans) == 3 * len(EVERYTHING)
    r = export(tenv, receiver, "--compression", "br")
    assert r.status == 2 and "--compression" in r.stderr, r


def test_export_protocol_flag_beats_the_environment_and_a_bad_value_is_usage(tenv, tmp_path):
    ingest(tenv, write_spans(tmp_path / "e.ndjson", EVERYTHING[:2]))
    with OTLPReceiver() as receiver:
        r = export(dict(tenv, OTEL_EXPORTER_OTLP_PROTOCOL="http/json"), receiver)
        assert r.status == 0, r
        assert export(dict(tenv, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/json"), receiver,
                      "--protocol", "http/protobuf").status == 0
        assert export(dict(tenv, OTEL_EXPORTER_OTLP_PROTOCOL="http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/protobuf"),
                      receiver).status == 0
    assert receiver.content_types == [JSON, PROTOBUF, PROTOBUF] and receiver.errors == []
    bad = export(tenv, receiver, "--protocol", "grpc")
    assert bad.status == 2 and "--protocol" in bad.stderr, bad


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_export_reads_partial_success_and_errors_in_either_encoding(tenv, tmp_path, protocol):
    ingest(tenv, write_spans(tmp_path / "e.ndjson", EVERYTHING))
    with OTLPReceiver(partial=(2, "two spans too old")) as receiver:
        r = export(tenv, receiver, "--protocol", protocol)
    assert r.status == 1, r
    assert "the receiver rejected 2 spans: " in r.stderr and "two spans too old" in r.stderr, r.stderr
    [summary] = [json.loads(line) for line in r.stderr.splitlines() if "exported" in line]
    assert (summary["spans"], summary["rejected"]) == (3, 2)
    with OTLPReceiver(status=400) as receiver:
        r = export(tenv, receiver, "--protocol", protocol)
    # The google.rpc.Status of a protobuf answer is read for its message, as the JSON one is shown.
    assert r.status == 1 and "HTTP 400" in r.stderr and "status 400 as configured" in r.stderr, r.stderr


def test_a_refusing_collector_is_reported_with_the_protobuf_status_message(tenv, tmp_path):
    with OTLPReceiver(status=503) as refusing:
        r = run("arc-plan", "--dest", str(tmp_path / "d"), input="",
                env=dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=refusing.url, OTEL_LOGS_EXPORTER="none"))
    assert r.status == 0, r
    assert "otlp: 1 spans not delivered" in r.stderr and "HTTP 503: status 503 as configured" in r.stderr, r.stderr


# --- the strict receiver itself -----------------------------------------------------------------

def post(receiver, body, content_type=PROTOBUF, path="/v1/traces", encoding=None):
    headers = {"Content-Type": content_type, **({"Content-Encoding": encoding} if encoding else {})}
    req = urllib.request.Request(receiver.url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def test_the_receiver_takes_only_canonical_protobuf_gzip_or_not():
    from google.rpc.status_pb2 import Status
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    def request(span_bytes):  # ExportTraceServiceRequest { resource_spans { scope_spans { spans } } }
        return wrap(1, wrap(2, wrap(2, span_bytes)))

    trace_id, span_id, name = wrap(1, b"\x01" * 16), wrap(2, b"\x02" * 8), wrap(5, b"x")
    attribute = wrap(9, wrap(1, b"k") + wrap(2, b"\x18\x00"))  # {key "k", value {int_value 0}}
    body = request(trace_id + span_id + name + attribute)
    with OTLPReceiver(partial=(1, "no")) as receiver:
        status, ctype, answer = post(receiver, body)
        assert (status, ctype) == (200, PROTOBUF), receiver.errors
        assert ExportTraceServiceResponse.FromString(answer).partial_success.rejected_spans == 1
        assert post(receiver, gzip.compress(body), encoding="gzip")[0] == 200
        # Not canonical: a default written out (kind = 0), fields out of order, an unknown field.
        for wrong in (request(trace_id + span_id + name + b"\x30\x00" + attribute),
                      request(span_id + trace_id + name + attribute),
                      body + b"\xa0\x06\x01"):
            status, ctype, answer = post(receiver, wrong)
            assert status == 400 and ctype == PROTOBUF, wrong
            assert Status.FromString(answer).code == 3
        assert post(receiver, body, content_type="text/plain")[0] == 415
    assert len(receiver.errors) == 4 and len(receiver.spans) == 2
    assert "not the canonical encoding" in receiver.errors[0]
