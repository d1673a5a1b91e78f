"""A strict OTLP/HTTP JSON receiver for tool tests.

Every request body is checked against the reference definition, opentelemetry-proto: the
hex ids OTLP/JSON uses are turned into the base64 the generic protobuf JSON mapping
expects (as the OpenTelemetry collector does), then the body is parsed with
`google.protobuf.json_format.Parse(..., ignore_unknown_fields=False)`. A body that does
not parse is recorded in `.errors` and answered 400.

    with OTLPReceiver() as r:
        run("telem-trace", "export", "--otlp", r.url)
        [(service, span)] = r.spans      # span: opentelemetry.proto.trace.v1.Span

`OTLPReceiver(status=500)` answers every request with that status (after checking it).
"""
import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

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


def service_name(resource):
    for kv in resource.attributes:
        if kv.key == "service.name":
            return kv.value.string_value
    return None


class OTLPReceiver:
    def __init__(self, status=200):
        self.status = status
        self.spans = []         # (service.name, opentelemetry.proto.trace.v1.Span)
        self.log_records = []   # (service.name, opentelemetry.proto.logs.v1.LogRecord)
        self.errors = []        # why a body was refused
        self.requests = 0
        self.bodies = []        # (path, parsed JSON as sent) of every well-formed request
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
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                status, answer = receiver._receive(self.path, self.headers.get("Content-Type", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
        with self.lock:
            self.requests += 1
        if path not in ("/v1/traces", "/v1/logs"):
            return 404, {"code": 12, "message": f"no such path {path}"}
        if not content_type.startswith("application/json"):
            return self._refuse(415, f"{path}: Content-Type {content_type!r}, expected application/json")
        try:
            sent = json.loads(body)
            converted = json.dumps(hex_ids_to_base64(sent))
            message = ExportTraceServiceRequest() if path == "/v1/traces" else ExportLogsServiceRequest()
            json_format.Parse(converted, message, ignore_unknown_fields=False)
        except (ValueError, json_format.ParseError) as e:
            return self._refuse(400, f"{path}: {e}")
        with self.lock:
            self.bodies.append((path, sent))
            if path == "/v1/traces":
                for rs in message.resource_spans:
                    for ss in rs.scope_spans:
                        self.spans.extend((service_name(rs.resource), s) for s in ss.spans)
            else:
                for rl in message.resource_logs:
                    for sl in rl.scope_logs:
                        self.log_records.extend((service_name(rl.resource), r) for r in sl.log_records)
        return self.status, {} if self.status == 200 else {"code": 14, "message": f"status {self.status} as configured"}

    def _refuse(self, status, why):
        with self.lock:
            self.errors.append(why)
        return status, {"code": 3, "message": why}
