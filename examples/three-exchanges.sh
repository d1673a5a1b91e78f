#!/usr/bin/env bash
# Spot BTC/USDT from three exchanges into one lake, each verified its own way: Binance's
# 1-minute klines (SHA-256 sidecars), KuCoin's (MD5 sidecars) and Bybit's trades (the
# listing's ETag is the file's MD5; Bybit publishes no klines). Bronze keeps each exchange's
# files as published, under LAKE/bronze/SOURCE; silver Parquet lands under LAKE/silver, each
# source other than Binance in a folder of its own name.
#
#   three-exchanges.sh LAKE [SINCE [UNTIL]]      (days, YYYY-MM-DD; UNTIL defaults to SINCE)
#
# --require-checksum: an archive with nothing stronger than a size to check is refused,
# not stored. Results (with `verification`: sha256, md5 or etag-md5) go to
# LAKE/results-SOURCE.ndjson, logs to LAKE/arc.log. Exit status: the worst of the three
# pipelines (0 all done, 1 some archives failed, 2 bad usage, 3 a source unreachable).
#
# Environment: ARC_STATE (the ledger); ARC_BINANCE_*, ARC_BYBIT_* and ARC_KUCOIN_*_URL to
# use mirrors.
set -uo pipefail

lake=${1:?usage: three-exchanges.sh LAKE [SINCE [UNTIL]]}
since=${2:-2024-01-01}
until=${3:-$since}
mkdir -p "$lake" || exit 3
worst=0

collect() {  # SOURCE DISCOVER-FILTERS...
    local source=$1
    shift
    arc-discover "$source" "$@" --since "$since" --until "$until" \
        | arc-plan --dest "$lake/bronze/$source" \
        | arc-collect -j 16 --require-checksum \
        | arc-convert --dest "$lake/silver" \
        >> "$lake/results-$source.ndjson" 2>> "$lake/arc.log"
    local statuses=("${PIPESTATUS[@]}") status
    for status in "${statuses[@]}"; do
        # 3 (unreachable) outranks 2 (usage), which outranks 1 (some failed).
        if [ "$status" -gt "$worst" ] && [ "$status" -le 3 ]; then worst=$status; fi
        if [ "$status" -gt 3 ]; then worst=3; fi
    done
    echo "three-exchanges: $source: exit ${statuses[*]} (discover plan collect convert)" >&2
}

collect binance --market spot --period daily --type klines --interval 1m --symbol BTCUSDT
collect kucoin --market spot --type klines --interval 1m --symbol BTC-USDT
collect bybit --market spot --period daily --symbol BTCUSDT
exit "$worst"
