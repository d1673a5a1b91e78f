#!/usr/bin/env python3
"""Runs a command inside a span of a Python service instrumented with the official
OpenTelemetry SDK, so the service and the arc tools it starts make one trace.

    pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
    telem-trace serve --otlp 127.0.0.1:4318 &
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_SERVICE_NAME=lake-app \\
        examples/otel-traced-run.py "nightly refresh" wf-run run binance-daily.toml
    telem-trace deps --since 1h --format dot | dot -Tsvg > deps.svg

The SDK's exporter sends OTLP/HTTP protobuf (its default) to OTEL_EXPORTER_OTLP_ENDPOINT,
as the arc tools do; the command gets the span's context as TRACEPARENT, which every arc
tool (and wf-run's steps) joins; OTEL_SERVICE_NAME is not passed on, so the tools keep their
own names. The span is a client span naming the command's program
as peer.service. Prints the trace id on stdout and exits with the command's status.
"""
import os
import subprocess
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: otel-traced-run.py SPAN-NAME COMMAND [ARG...]")
    name, command = sys.argv[1], sys.argv[2:]
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; the exporter
    # reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT, _COMPRESSION).
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    tracer = provider.get_tracer("otel-traced-run")
    with tracer.start_as_current_span(name) as root:
        program = os.path.basename(command[0])
        with tracer.start_as_current_span(f"run {program}", kind=trace.SpanKind.CLIENT,
                                          attributes={"peer.service": program, "process.command_args": command}) as span:
            carrier = {}
            TraceContextTextMapPropagator().inject(carrier)
            env = dict(os.environ, TRACEPARENT=carrier["traceparent"])
            # The name is this service's: the programs it starts name themselves.
            env.pop("OTEL_SERVICE_NAME", None)
            code = subprocess.call(command, env=env)
            if code != 0:
                span.set_status(trace.Status(trace.StatusCode.ERROR, f"exit status {code}"))
    provider.shutdown()  # sends what is batched
    print(format(root.get_span_context().trace_id, "032x"))
    sys.exit(code)


if __name__ == "__main__":
    main()
