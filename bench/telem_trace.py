"""Row `telem-trace`: telem-trace ingest of 1,000,000 span records against jq -c ."""
import json
import sys
import time

from .common import OUT, alternate, arc_env, have_anchor, remove_database, sh, tool


def synthetic_spans(path, count):
    """`count` span records shaped like arc-collect's (a root and 49 tasks per trace,
    random ids as real ones are), written once."""
    if path.exists():
        return
    import random
    rng = random.Random(1)
    base = 1_704_164_400_000_000  # 2024-01-02T03:00:00Z in microseconds

    def ts(us):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1_000_000)) + f".{us % 1_000_000:06d}Z"
    with path.open("w") as f:
        for n in range(count):
            if n % 50 == 0:
                trace, root = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016x}"
            start = base + n * 1000
            end = start + 500 + (n * 7919) % 100_000
            r = {"trace_id": trace, "span_id": root if n % 50 == 0 else f"{rng.getrandbits(64):016x}"}
            if n % 50:
                r["parent_span_id"] = root
            r.update(name="collect.task" if n % 50 else "arc-collect", service="arc-collect", start=ts(start),
                     end=ts(end), duration_ms=(end - start) // 1000, status="error" if n % 97 == 0 else "ok",
                     attributes={"url": f"https://data.binance.vision/data/spot/daily/klines/BTCUSDT/1m/{n}.zip",
                                 "bytes": 88000 + n % 977, "attempts": 1})
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def bench_trace(table, rounds, work):
    count = 1_000_000
    spans = OUT / "spans-1m.ndjson"
    synthetic_spans(spans, count)
    env = arc_env(work / "trace.db")

    def ours():
        remove_database(work / "trace.db")
        return sh(f"{tool('telem-trace')} ingest {spans}", env=env)

    def jq():
        return sh(f"jq -c . < {spans} > /dev/null")

    print(f"bench: telem-trace ingest of {count} spans, {rounds} rounds", file=sys.stderr)
    anchor = have_anchor("jq", "telem-trace")
    m = alternate({"arc": ours, "jq": jq} if anchor else {"arc": ours}, rounds)
    table.add(f"telem-trace ingest, {count} spans into a fresh store", "jq -c ." if anchor else "(jq not installed)",
              m.get("jq", 0), m["arc"], "s", "< 60 s")
