"""Row `tracing`: the static-server pipeline with tracing fully on against tracing off."""
import sys

from .common import alternate, drop_page_cache, new_dir, remove_database, sh, tool
from .servers import OTLPSink


def bench_tracing(static, table, rounds, jobs, work, env, discover, count):
    """The pipeline with every stage tracing (span file, OTLP spans and logs to a live
    receiver, a metrics file) against the same pipeline with tracing off; and, for
    context, tracing with OTLP as http/json instead of the default http/protobuf. The page
    cache is dropped before every run: each run writes 2,000 files, and on this kind of VM
    writing into a full page cache costs several times the CPU (common.drop_page_cache),
    which made this ratio swing from 0.9 to 1.25 between identical runs."""
    sink = OTLPSink()
    traced = dict(env, ARC_TRACE_FILE=str(work / "spans.ndjson"), OTEL_EXPORTER_OTLP_ENDPOINT=sink.url,
                  ARC_METRICS_FILE=str(work / "metrics.prom"))

    def run(environment):
        def go():
            remove_database(work / "state.db")
            (work / "spans.ndjson").unlink(missing_ok=True)
            drop_page_cache()
            return sh(f"{discover} --download-url {static.url} | {tool('arc-plan')} --dest {new_dir('arc')} "
                      f"| {tool('arc-collect')} -j {jobs}", env=environment)
        return go

    try:
        print(f"bench: tracing on vs off, {count} archives, {rounds} rounds", file=sys.stderr)
        m = alternate({"off": run(env), "on": run(traced),
                       "on, json": run(dict(traced, OTEL_EXPORTER_OTLP_PROTOCOL="http/json"))}, rounds)
        spans = sum(1 for _ in (work / "spans.ndjson").open())
        table.add(f"pipeline with tracing on ({spans} spans to a file and OTLP, metrics file)", "tracing off",
                  m["off"], m["on"], "s", "<= 1.05")
        table.add("the same, OTLP as http/protobuf (the default)", "OTLP as http/json", m["on, json"], m["on"], "s",
                  "context")
    finally:
        sink.stop()
