#!/usr/bin/env bash
# `make static`: every tool built with the Swift runtime linked in (--static-swift-stdlib),
# so a binary runs on a machine without the Swift toolchain; then what each weighs, the
# shared libraries the loader maps for it at start, and how long its `--version` takes
# (median of 50 runs, alternated with /bin/true, the process floor; bench/startup.py, which
# is also `make bench`'s startup row). The system C libraries stay shared, as Debian's
# packages provide them; libcurl, libpq and libcrypto are opened only when first used
# (see Sources/CCurl/shim.h): a tool that only starts maps SQLite, zlib (and libzstd for
# arc-check and arc-convert), the C++ runtime under the Swift runtime, and glibc's.
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
python3 bench/startup.py "$bin" "${tools[@]}"
