#!/usr/bin/env bash
# Builds and runs the fuzz targets (libFuzzer + AddressSanitizer); the root Makefile's
# `make fuzz` and `make fuzz-smoke` call this.
#
#   Fuzz/fuzz.sh run [TARGET...]     each target for FUZZ_SECONDS (60), release build;
#                                    new inputs go to Fuzz/.work/TARGET, crashes to
#                                    Fuzz/Crashes/TARGET/ (kept; exit 1 if any)
#   Fuzz/fuzz.sh smoke [TARGET...]   the committed corpus through each target (every seed
#                                    and every crash input fixed so far), debug build (it
#                                    builds fastest); FUZZ_SMOKE_SECONDS=N adds N s of
#                                    fuzzing each (not deterministic, so not the default)
#   Fuzz/fuzz.sh merge [TARGET...]   the fewest inputs from Fuzz/.work that add coverage
#                                    to Fuzz/Corpus, into it (-set_cover_merge=1), to commit
#   Fuzz/fuzz.sh build [debug|release]
#
# TARGET is a name from Fuzz/Package.swift without "fuzz-" (toml, http-request...); none
# means all. FUZZ_CONFIG=debug|release overrides the build, FUZZ_ARGS adds libFuzzer flags.
# A crash input is reproduced with
#   ASAN_OPTIONS=suppressions=Fuzz/asan.supp Fuzz/.build/CONFIG/fuzz-TARGET Fuzz/Crashes/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
# asan.supp: a false positive of ASan's regexec interceptor (see the file).
export ASAN_OPTIONS="suppressions=$FUZZ_DIR/asan.supp${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# The Swift runtime's backtracer would inspect a crashed process too, and trip ASan.
export SWIFT_BACKTRACE=enable=no

mode=${1:-}
[ $# -gt 0 ] && shift
all_targets=$(sed -n 's/^ *("fuzz-\([a-z0-9-]*\)".*/\1/p' Package.swift)
targets=${*:-$all_targets}
[ "$mode" = build ] && targets=$all_targets
for t in $targets; do
    grep -qx "$t" <<<"$all_targets" || { echo "fuzz: no target '$t' (known: $(echo $all_targets))" >&2; exit 2; }
done

build() {
    local config=$1 start=$SECONDS
    echo "fuzz: building the fuzz targets ($config, -sanitize=fuzzer,address)" >&2
    # -parse-as-library: no main of our own (libFuzzer's); -enable-testing: @testable imports.
    if ! swift build -c "$config" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
            -Xswiftc -enable-testing 2>&1 | { grep -v "ld.gold: warning: Cannot export local symbol" || true; } >&2; then
        exit 1
    fi
    echo "fuzz: built in $((SECONDS - start)) s" >&2
}

flags() {
    local t=$1
    echo "-timeout=${FUZZ_TIMEOUT:-10} -rss_limit_mb=${FUZZ_RSS_MB:-2048} -print_final_stats=1"
    [ -f "Dictionaries/$t.dict" ] && echo "-dict=Dictionaries/$t.dict"
    echo "${FUZZ_ARGS:-}"
}

case $mode in
build)
    build "${1:-${FUZZ_CONFIG:-release}}"
    ;;
run)
    config=${FUZZ_CONFIG:-release}
    build "$config"
    seconds=${FUZZ_SECONDS:-60}
    failed=()
    for t in $targets; do
        mkdir -p ".work/$t" "Crashes/$t" "Corpus/$t"
        echo "fuzz: $t for ${seconds} s" >&2
        log=".work/$t.log"
        # shellcheck disable=SC2046
        if ! ".build/$config/fuzz-$t" $(flags "$t") -max_total_time="$seconds" -artifact_prefix="Crashes/$t/" \
                ".work/$t" "Corpus/$t" >"$log" 2>&1; then
            failed+=("$t")
            grep -E "ERROR|property failed|SUMMARY|Test unit written" "$log" | head -8 >&2 || true
        fi
        grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$log" | tail -2 >&2 || true
        rmdir "Crashes/$t" 2>/dev/null || true
    done
    if [ ${#failed[@]} -gt 0 ]; then
        echo "fuzz: crashes in: ${failed[*]} (inputs in Fuzz/Crashes/, logs in Fuzz/.work/TARGET.log)" >&2
        exit 1
    fi
    echo "fuzz: no crashes" >&2
    ;;
smoke)
    config=${FUZZ_CONFIG:-debug}
    build "$config"
    seconds=${FUZZ_SMOKE_SECONDS:-0}
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    failed=()
    for t in $targets; do
        mkdir -p "$scratch/$t" "$scratch/crashes-$t"
        if [ "$seconds" = 0 ]; then limit="-runs=0"; else limit="-max_total_time=$seconds"; fi
        # shellcheck disable=SC2046
        if ! ".build/$config/fuzz-$t" $(flags "$t") $limit -artifact_prefix="$scratch/crashes-$t/" \
                "$scratch/$t" "Corpus/$t" >"$scratch/$t.log" 2>&1; then
            failed+=("$t")
            mkdir -p "Crashes/$t"
            cp "$scratch/crashes-$t"/* "Crashes/$t/" 2>/dev/null || true
            grep -E "ERROR|property failed|SUMMARY" "$scratch/$t.log" | head -8 >&2 || true
        fi
        printf 'fuzz-smoke: %-14s %s\n' "$t" "$(grep -E '^stat::number_of_executed_units' "$scratch/$t.log" | awk '{print $2 " runs"}')" >&2
    done
    if [ ${#failed[@]} -gt 0 ]; then
        echo "fuzz-smoke: failed: ${failed[*]} (inputs in Fuzz/Crashes/)" >&2
        exit 1
    fi
    ;;
merge)
    config=${FUZZ_CONFIG:-release}
    build "$config"
    for t in $targets; do
        [ -d ".work/$t" ] || continue
        # shellcheck disable=SC2046
        ".build/$config/fuzz-$t" -set_cover_merge=1 $(flags "$t") "Corpus/$t" ".work/$t" 2>&1 \
            | grep -E "MERGE-OUTER: [0-9]+ new files" >&2 || true
    done
    ;;
*)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
