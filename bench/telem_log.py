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


# Each query names a literal: ripgrep searching that literal in the same file is the bar
# (issue 16: within 3x), jq parsing every line is the context. --grep has no jq equivalent
# (jq cannot see a line as written).
CASES = [
    ("--level error", "--level error", '"level":"error"', 'select(.level == "error")'),
    ("--tool s3x", "--tool s3x", '"tool":"s3x"', 'select(.tool == "s3x")'),
    ("--where symbol=ETHUSDT", "--where symbol=ETHUSDT", '"symbol":"ETHUSDT"', 'select(.symbol == "ETHUSDT")'),
    ("--grep checksum_mismatch", "--grep checksum_mismatch", "checksum_mismatch", None),
]


def bench_telem_log(table, rounds):
    path = log_file()
    size_gb = path.stat().st_size / 1e9
    have_rg, have_jq = common.have_anchor("rg", "telem-log"), common.have_anchor("jq", "telem-log")
    for name, ours_args, literal, jq_filter in CASES:
        ours = f"{tool('telem-log')} {ours_args} {path}"
        anchors = {}
        if have_rg:
            anchors["rg"] = f"rg -F '{literal}' {path}"
        if have_jq and jq_filter:
            anchors["jq"] = f"jq -c '{jq_filter}' {path}"
        # Untimed: warms the page cache, and every tool must select the same lines (on this
        # file the literal is never inside a message, so rg's lines are the answer too).
        counts = {n: subprocess.run(f"{c} | wc -l", shell=True, check=True, capture_output=True, text=True).stdout.strip()
                  for n, c in {"telem-log": ours, **anchors}.items()}
        if len(set(counts.values())) != 1:
            raise SystemExit(f"bench: telem-log {ours_args}: the tools selected different lines: {counts}")
        print(f"bench: telem-log {ours_args} over {size_gb:.2f} GB ({counts['telem-log']} lines out), {rounds} rounds",
              file=sys.stderr)
        runs = {"telem-log": lambda: sh(ours)}
        for n, c in anchors.items():
            runs[n] = lambda c=c: sh(c)
        if common.BEFORE:
            before = f"{tool('telem-log', before=True)} {ours_args} {path}"
            runs["before"] = lambda: sh(before)
        m = alternate(runs, rounds)
        if common.BEFORE:
            BUILDS.add(f"telem-log {name}, {size_gb:.1f} GB", m["before"], m["telem-log"], "s")
        if "rg" in m:
            table.add(f"telem-log {name}, {size_gb:.1f} GB NDJSON (s)", f"rg -F '{literal}'", m["rg"], m["telem-log"], "s",
                      "<= 3.0 (issue 16)")
        if "jq" in m:
            table.add(f"telem-log {name}, {size_gb:.1f} GB NDJSON (s)", "jq -c 'select(...)'", m["jq"], m["telem-log"], "s",
                      "<= 0.20 (5x faster)")
        if anchors:
            # rg maps the file (its RSS counts the mapped pages); telem-log reads into 1 MiB.
            anchor_name = "jq" if "jq" in anchors else "rg"
            ours_rss, anchor_rss = peak_rss_kb(ours), peak_rss_kb(anchors[anchor_name])
            table.add(f"telem-log {name} peak RSS", anchor_name, anchor_rss / 1024, ours_rss / 1024, "MB", "< 64 MB")
