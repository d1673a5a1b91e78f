#!/usr/bin/env bash
# One listing split across machines with GNU parallel over ssh: each job slot runs one shard
# (arc-plan --shard K/N) of the same arc-discover listing, planning against its own host's
# ledger and collecting into DEST on that host (or a shared s3:// DEST). Nothing is shared
# between the hosts, so a host that dies loses only its shard: run the same line again and
# the other shards find their archives held.
#
#   parallel-shards.sh HOSTS DEST [arc-discover binance FILTERS...]
#   parallel-shards.sh node1,node2,node3 /data/binance --market um --type klines --interval 1m
#   parallel-shards.sh 4/: ./data --market option              # four shards on this machine
#
# HOSTS is GNU parallel's --sshlogin list: user@host (ssh without a password, arc on the
# remote PATH and bash as the login shell), ':' for this machine, and K/host for K shards
# on one host. N, the number of shards, is the number of slots it gives (one per host
# unless K/); keep the list the same from day to day, so each archive stays with the
# ledger that holds it.
#
# Result records of every shard go to stdout (whole shards at a time, never interleaved),
# logs to stderr. Exits with the worst shard's status: 0 all done, 1 some archives failed,
# 2 bad usage, 3 the archive or a state database could not be reached.
#
# Environment: JOBS (downloads at once on each host, default 32).
set -uo pipefail

if [ $# -lt 2 ]; then echo "usage: parallel-shards.sh HOSTS DEST [arc-discover binance FILTERS...]" >&2; exit 2; fi
hosts=$1 dest=$2
shift 2

# One slot per host unless the host says K/: then a shard per slot, all started at once.
slots=() n=0
IFS=, read -r -a entries <<< "$hosts"
for h in "${entries[@]}"; do
    if [[ $h =~ ^([0-9]+)/(.+)$ ]]; then k=${BASH_REMATCH[1]}; else k=1 h="1/$h"; fi
    slots+=("$h")
    n=$((n + k))
done
[ "$n" -gt 0 ] || { echo "parallel-shards: no hosts in '$hosts'" >&2; exit 2; }
sshlogins=$(IFS=,; echo "${slots[*]}")

joblog=$(mktemp) || exit 3
trap 'rm -f "$joblog"' EXIT

# The shard's pipeline, run by bash on the host; parallel -q quotes every word for ssh.
# Its exit status is the first stage that failed (discover, plan, then collect).
shard='set -o pipefail
k=$1 n=$2 dest=$3 jobs=$4; shift 4
arc-discover binance "$@" | arc-plan --dest "$dest" --shard "$k/$n" | arc-collect -j "$jobs"'

parallel -q --sshlogin "$sshlogins" --joblog "$joblog" \
    bash -c "$shard" shard {} "$n" "$dest" "${JOBS:-32}" "$@" ::: $(seq 0 $((n - 1)))
parallel_status=$?

# parallel's own status counts failed jobs; the joblog holds each shard's exit status.
# A shard killed by a signal counts as 128 + the signal, as a shell reports it.
worst=$(awk -F'\t' 'NR > 1 { s = $8 != 0 ? 128 + $8 : $7; if (s > m) m = s } END { print m + 0 }' "$joblog")
done_shards=$(awk 'NR > 1' "$joblog" | wc -l)
if [ "$done_shards" -ne "$n" ] && [ "$worst" -eq 0 ]; then worst=3; fi
[ "$parallel_status" -eq 255 ] && [ "$worst" -eq 0 ] && worst=2
echo "parallel-shards: $done_shards of $n shards ran on $sshlogins; exit $worst" >&2
exit "$worst"
