"""A strict OTLP/HTTP receiver for tool tests, protobuf and JSON.

Every request body is checked against the reference definition, opentelemetry-proto.
`application/x-protobuf` bodies (gzip or not) are parsed with `ParseFromString`, and must
serialize back to exactly the bytes sent, with no unknown fields: the canonical encoding
(fields in number order, proto3 defaults left out) the reference serializer writes.
`application/json` bodies: the hex ids OTLP/JSON uses are turned into the base64 the
generic protobuf JSON mapping expects (as the OpenTelemetry collector does), then the body
is parsed with `google.protobuf.json_format.Parse(..., ignore_unknown_fields=False)`. A
body that does not pass is recorded in `.errors` and answered 400. Answers come in the
request's encoding, as the OTLP/HTTP spec has it.

    with OTLPReceiver() as r:
        run("telem-trace", "export", "--otlp", r.url)
        [(service, span)] = r.spans      # span: opentelemetry.proto.trace.v1.Span
        assert r.content_types == ["application/x-protobuf"]

`OTLPReceiver(status=500)` answers every request with that status (after checking it);
`OTLPReceiver(partial=(2, "why"))` answers 200 with a partial_success rejecting 2 items.
"""
import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (ExportLogsServiceRequest,
                                                                    ExportLogsServiceResponse)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                      ExportTraceServiceResponse)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

ID_FIELDS = {"traceId", "spanId", "parentSpanId"}


def hex_ids_to_base64(value):
    """OTLP/JSON ids are hex; the protobuf JSON mapping of `bytes` is base64."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ID_FIELDS and isinstance(v, str) and v:
                try:
                    raw = bytes.fromhex(v)
                except ValueError:
                    raise ValueError(f"{k} {v!r} is not hex")
                out[k] = base64.b64encode(raw).decode()
            else:
                out[k] = hex_ids_to_base64(v)
        return out
    if isinstance(value, list):
        return [hex_ids_to_base64(v) for v in value]
    return value


def parse_canonical(body, message):
    """Parses protobuf `body` into `message`; raises ValueError unless the body is exactly
    what the reference serializer writes for it, with nothing it does not know."""
    message.ParseFromString(body)
    known = type(message)()
    known.CopyFrom(message)
    known.DiscardUnknownFields()
    again = known.SerializeToString()
    if again != body:
        at = next((i for i, (a, b) in enumerate(zip(again, body)) if a != b), min(len(again), len(body)))
        raise ValueError(f"not the canonical encoding (or unknown fields): {len(body)} bytes sent, "
                         f"{len(again)} re-serialized, first difference at byte {at}: "
                         f"sent {body[at:at + 16].hex()}, canonical {again[at:at + 16].hex()}")


def service_name(resource):
    for kv in resource.attributes:
        if kv.key == "service.name":
            return kv.value.string_value
    return None


class OTLPReceiver:
    def __init__(self, status=200, partial=None):
        self.status = status
        self.partial = partial  # (rejected count, error message) in every 200 answer
        self.spans = []         # (service.name, opentelemetry.proto.trace.v1.Span)
        self.log_records = []   # (service.name, opentelemetry.proto.logs.v1.LogRecord)
        self.errors = []        # why a body was refused
        self.requests = 0
        self.bodies = []        # (path, the body as JSON: as sent, or a protobuf one's mapping)
        self.content_types = []  # of every request, in order
        self.encodings = []     # (path, Content-Encoding or None) of every request, in order
        self.messages = []      # (path, Export*ServiceRequest) of every well-formed request
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                encoding = self.headers.get("Content-Encoding")
                with receiver.lock:
                    receiver.encodings.append((self.path, encoding))
                if encoding == "gzip":
                    body = gzip.decompress(body)  # raises on a body that is not one whole gzip stream
                content_type = self.headers.get("Content-Type", "")
                status, answer = receiver._receive(self.path, content_type, body)
                if content_type.startswith(PROTOBUF):
                    answer_type, data = PROTOBUF, answer.SerializeToString()
                else:
                    answer_type, data = JSON, json.dumps(json_format.MessageToDict(answer)).encode()
                self.send_response(status)
                self.send_header("Content-Type", answer_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def _receive(self, path, content_type, body):
        """(status, answer message): an Export*ServiceResponse, or a google.rpc.Status."""
        with self.lock:
            self.requests += 1
            self.content_types.append(content_type)
        if path not in ("/v1/traces", "/v1/logs"):
            return 404, Status(code=12, message=f"no such path {path}")
        message = ExportTraceServiceRequest() if path == "/v1/traces" else ExportLogsServiceRequest()
        if content_type.startswith(PROTOBUF):
            try:
                parse_canonical(body, message)
            except (ValueError, DecodeError) as e:
                return self._refuse(400, f"{path}: {e}")
            sent = json_format.MessageToDict(message)
        elif content_type.startswith(JSON):
            try:
                sent = json.loads(body)
                converted = json.dumps(hex_ids_to_base64(sent))
                json_format.Parse(converted, message, ignore_unknown_fields=False)
            except (ValueError, json_format.ParseError) as e:
                return self._refuse(400, f"{path}: {e}")
        else:
            return self._refuse(415, f"{path}: Content-Type {content_type!r}, expected {PROTOBUF} or {JSON}")
        with self.lock:
            self.bodies.append((path, sent))
            self.messages.append((path, message))
            if path == "/v1/traces":
                for rs in message.resource_spans:
                    for ss in rs.scope_spans:
                        self.spans.extend((service_name(rs.resource), s) for s in ss.spans)
            else:
                for rl in message.resource_logs:
                    for sl in rl.scope_logs:
                        self.log_records.extend((service_name(rl.resource), r) for r in sl.log_records)
        if self.status != 200:
            return self.status, Status(code=14, message=f"status {self.status} as configured")
        answer = ExportTraceServiceResponse() if path == "/v1/traces" else ExportLogsServiceResponse()
        if self.partial:
            rejected, why = self.partial
            if path == "/v1/traces":
                answer.partial_success.rejected_spans = rejected
            else:
                answer.partial_success.rejected_log_records = rejected
            answer.partial_success.error_message = why
        return 200, answer

    def _refuse(self, status, why):
        with self.lock:
            self.errors.append(why)
        return status, Status(code=3, message=why)
