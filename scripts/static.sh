#!/usr/bin/env bash
# `make static`: every tool built with the Swift runtime linked in (--static-swift-stdlib),
# so a binary runs on a machine without the Swift toolchain; then what each weighs and how
# long its `--version` takes (median of 50 runs), beside /bin/true as the process floor.
# The system C libraries (libcurl, SQLite, libpq, libcrypto, zlib, glibc) stay shared, as
# Debian's packages provide them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${STATIC_DIR:-.build-static}
bin="$out/release"
tools=()
for main in Sources/*/main.swift; do tools+=("$(basename "$(dirname "$main")")"); done
# Tool by tool: the test-support target links XCTest, which has no static library.
for tool in "${tools[@]}"; do
    swift build -c release --static-swift-stdlib --scratch-path "$out" --product "$tool" >&2
done
python3 - "$bin" "${tools[@]}" <<'PY'
import os, statistics, subprocess, sys, time
bin, tools = sys.argv[1], sys.argv[2:]
def median_ms(argv, runs=50):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)
print(f"{'tool':<12} {'size':>8} {'--version':>10}  shared libraries")
for tool in tools:
    path = os.path.join(bin, tool)
    needed = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    libs = [l.split("[")[1].rstrip("]") for l in needed.splitlines() if "(NEEDED)" in l]
    print(f"{tool:<12} {os.path.getsize(path) / 1e6:>6.1f}MB {median_ms([path, '--version']):>8.1f}ms  {' '.join(libs)}")
print(f"{'/bin/true':<12} {'':>8} {median_ms(['/bin/true']):>8.1f}ms")
PY
