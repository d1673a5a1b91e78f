"""Row `startup`: every tool's `--version` from the `make static` build against /bin/true.

Also what scripts/static.sh prints after building (run as a script: `startup.py BIN TOOL...`):
each tool's size, the shared libraries the loader maps for it at start (ldd), and the
median of its --version beside /bin/true's, alternated so both see the same noise.
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def tools_in(bin_dir):
    """The tools: one per Sources/*/main.swift, as static.sh builds them."""
    root = Path(__file__).resolve().parents[1]
    return sorted(p.parent.name for p in (root / "Sources").glob("*/main.swift"))


def loaded_libraries(path):
    """What the loader maps before main runs: the closure of DT_NEEDED, as ldd lists it."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip() and "vdso" not in line]


def medians_ms(commands, runs):
    """Median wall milliseconds of each command, run in turn `runs` times."""
    times = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def measure(bin_dir, tools, runs=50):
    """(tool, MB, libraries, --version ms) for each tool, and /bin/true's ms."""
    commands = {tool: [os.path.join(bin_dir, tool), "--version"] for tool in tools}
    commands["/bin/true"] = ["/bin/true"]
    ms = medians_ms(commands, runs)
    rows = [(tool, os.path.getsize(os.path.join(bin_dir, tool)) / 1e6,
             loaded_libraries(os.path.join(bin_dir, tool)), ms[tool]) for tool in tools]
    return rows, ms["/bin/true"]


def bench_startup(table, rounds):
    from .common import NOTES, ROOT
    bin_dir = ROOT / os.environ.get("STATIC_DIR", ".build-static") / "release"
    tools = tools_in(bin_dir)
    missing = [t for t in tools if not (bin_dir / t).exists()]
    if missing:
        line = f"startup: skipped, {bin_dir} has no {' '.join(missing)} (`make static` builds them)"
        print(f"bench: {line}", file=sys.stderr)
        NOTES.append(line)
        return
    print(f"bench: --version of {len(tools)} static tools against /bin/true", file=sys.stderr)
    rows, true_ms = measure(str(bin_dir), tools, runs=max(20, rounds * 10))
    slowest = max(rows, key=lambda r: r[3])
    table.add(f"every tool's --version, static build (slowest: {slowest[0]})", "/bin/true",
              true_ms, slowest[3], "ms", "< 5 ms")
    NOTES.append("Start-up of the static build (--version, median ms; libraries the loader maps):\n\n"
                 + "| tool | size | libraries | --version |\n|---|---:|---:|---:|\n"
                 + "\n".join(f"| {t} | {mb:.1f} MB | {len(libs)} | {ms:.1f} ms |" for t, mb, libs, ms in rows)
                 + f"\n| /bin/true | | | {true_ms:.1f} ms |")


if __name__ == "__main__":
    rows, true_ms = measure(sys.argv[1], sys.argv[2:])
    print(f"{'tool':<12} {'size':>8} {'--version':>10}  libraries the loader maps at start")
    for tool, mb, libs, ms in rows:
        print(f"{tool:<12} {mb:>6.1f}MB {ms:>8.1f}ms  {len(libs)}: {' '.join(Path(l).name for l in libs)}")
    print(f"{'/bin/true':<12} {'':>8} {true_ms:>8.1f}ms")
