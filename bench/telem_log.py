"""Row `telem-log`: telem-log filters over 1 GiB of log lines against jq, time and peak RSS."""
import json
import subprocess
import sys

from . import common
from .common import BUILDS, OUT, alternate, peak_rss_kb, sh, tool


def log_file():
    """1 GiB of log lines as arc's tools write them (several tools and levels, traces, keys,
    sizes; errors with a nested error object), made once: a block of 20,000 lines repeated."""
    path = OUT / "logs-1g.ndjson"
    if path.exists() and path.stat().st_size >= 1 << 30:
        return path
    print(f"bench: generating {path} ...", file=sys.stderr)
    import random
    rng = random.Random(7)
    tools = ["arc-discover", "arc-plan", "arc-collect", "s3x", "wf-run"]
    symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
    lines, ms = [], 0
    for _ in range(20_000):
        ms += rng.randint(1, 40)
        s, rem = divmod(ms, 1000)
        r = rng.random()
        level = "error" if r < 0.01 else "warn" if r < 0.05 else "debug" if r < 0.25 else "info"
        symbol = rng.choice(symbols)
        d = {"ts": f"2026-11-25T{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{rem:03d}Z", "level": level,
             "tool": rng.choice(tools)}
        if level == "error":
            d.update(msg="download failed", error={"code": rng.choice(["http_503", "timeout", "checksum_mismatch"]),
                                                   "message": "GET failed after 5 attempts"})
        elif level == "warn":
            d.update(msg="retrying after a transient error", attempt=rng.randint(1, 4))
        else:
            d["msg"] = rng.choice(["collected", "planned task", "listed page", "verified checksum"])
        d.update(trace_id=f"{rng.getrandbits(128):032x}", span_id=f"{rng.getrandbits(64):016x}",
                 key=f"data/futures/um/daily/klines/{symbol}/1m/{symbol}-1m-2024-{rng.randint(1, 12):02d}-"
                     f"{rng.randint(1, 28):02d}.zip",
                 symbol=symbol, bytes=rng.randint(1000, 9_000_000), duration_ms=rng.randint(1, 5000))
        lines.append(json.dumps(d, separators=(",", ":")))
    block = ("\n".join(lines) + "\n").encode()
    partial = path.with_suffix(".partial")
    with partial.open("wb") as f:
        written = 0
        while written < 1 << 30:
            f.write(block)
            written += len(block)
    partial.rename(path)
    return path


def bench_telem_log(table, rounds):
    path = log_file()
    size_gb = path.stat().st_size / 1e9
    cases = [("--level error", "--level error", 'select(.level == "error")'),
             ("--where symbol=ETHUSDT", "--where symbol=ETHUSDT", 'select(.symbol == "ETHUSDT")')]
    for name, ours_args, jq_filter in cases:
        ours = f"{tool('telem-log')} {ours_args} {path}"
        jq = f"jq -c '{jq_filter}' {path}"
        # Untimed: warms the page cache, and both must select the same lines.
        counts = [subprocess.run(f"{c} | wc -l", shell=True, check=True, capture_output=True, text=True).stdout.strip()
                  for c in (ours, jq)]
        if counts[0] != counts[1]:
            raise SystemExit(f"bench: telem-log {ours_args} selected {counts[0]} lines, jq {counts[1]}")
        print(f"bench: telem-log {ours_args} over {size_gb:.2f} GB ({counts[0]} lines out), {rounds} rounds",
              file=sys.stderr)
        runs = {"telem-log": lambda: sh(ours), "jq": lambda: sh(jq)}
        if common.BEFORE:
            before = f"{tool('telem-log', before=True)} {ours_args} {path}"
            runs["before"] = lambda: sh(before)
        m = alternate(runs, rounds)
        if common.BEFORE:
            BUILDS.add(f"telem-log {name}, {size_gb:.1f} GB", m["before"], m["telem-log"], "s")
        table.add(f"telem-log {name}, {size_gb:.1f} GB NDJSON (s)", "jq -c 'select(...)'", m["jq"], m["telem-log"], "s",
                  "<= 0.20 (5x faster)")
        ours_rss, jq_rss = peak_rss_kb(ours), peak_rss_kb(jq)
        table.add(f"telem-log {name} peak RSS", "jq", jq_rss / 1024, ours_rss / 1024, "MB", "< 64 MB")
