"""Row `tracing`: the static-server pipeline with tracing fully on against tracing off."""
import sys

from .common import alternate, new_dir, remove_database, sh, tool
from .servers import OTLPSink


def bench_tracing(static, table, rounds, jobs, work, env, discover, count):
    """The pipeline with every stage tracing (span file, OTLP spans and logs to a live
    receiver, a metrics file) against the same pipeline with tracing off."""
    sink = OTLPSink()
    traced = dict(env, ARC_TRACE_FILE=str(work / "spans.ndjson"), OTEL_EXPORTER_OTLP_ENDPOINT=sink.url,
                  ARC_METRICS_FILE=str(work / "metrics.prom"))

    def run(environment):
        def go():
            remove_database(work / "state.db")
            (work / "spans.ndjson").unlink(missing_ok=True)
            return sh(f"{discover} --download-url {static.url} | {tool('arc-plan')} --dest {new_dir('arc')} "
                      f"| {tool('arc-collect')} -j {jobs}", env=environment)
        return go

    try:
        print(f"bench: tracing on vs off, {count} archives, {rounds} rounds", file=sys.stderr)
        m = alternate({"off": run(env), "on": run(traced)}, rounds)
        spans = sum(1 for _ in (work / "spans.ndjson").open())
        table.add(f"pipeline with tracing on ({spans} spans to a file and OTLP, metrics file)", "tracing off",
                  m["off"], m["on"], "s", "<= 1.05")
    finally:
        sink.stop()
