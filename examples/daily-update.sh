#!/usr/bin/env bash
# The daily Binance update, for cron: list what the archive publishes, plan it against the
# ledger, fetch and verify only what is new, republished upstream or failed last time.
#
#   daily-update.sh DEST [arc-discover binance FILTERS...]
#   daily-update.sh /data/binance --market um --type klines --interval 1m --symbol BTCUSDT,ETHUSDT
#
# Writes the day's result records and logs under $LOG_DIR (default DEST/.arc-logs), never
# runs twice at once (a second start exits 75, EX_TEMPFAIL, which cron mail shows), and
# exits with arc-collect's status: 0 all done, 1 some archives failed (they are retried by
# the next run), 2 bad usage, 3 the archive or the state database could not be reached.
#
# Environment: ARC_STATE (the ledger), JOBS (downloads at once, default 32), LOG_DIR, and
# ARC_BINANCE_LIST_URL / ARC_BINANCE_DOWNLOAD_URL to use a mirror instead of Binance.
set -uo pipefail

dest=${1:?usage: daily-update.sh DEST [arc-discover binance FILTERS...]}
shift
filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=(--market um --type klines --interval 1m --symbol BTCUSDT,ETHUSDT)
log_dir=${LOG_DIR:-$dest/.arc-logs}
mkdir -p "$log_dir" || exit 3
day=$(date -u +%Y-%m-%d)

# One run at a time: cron fires again while a slow first sync is still going.
exec 9>"$log_dir/daily-update.lock"
if ! flock -n 9; then
    echo "daily-update: another run holds $log_dir/daily-update.lock; not starting" >&2
    exit 75
fi

# A full listing, not --incremental: only a full listing sees a file republished under the
# key it had (new ETag and size), which the plan then fetches again as "changed".
arc-discover binance "${filters[@]}" \
    | arc-plan --dest "$dest" \
    | arc-collect -j "${JOBS:-32}" \
    >> "$log_dir/results-$day.ndjson" 2>> "$log_dir/arc-$day.log"
statuses=("${PIPESTATUS[@]}")

# The first stage that failed says why; arc-collect's 1 (some failed) is the usual case.
status=0
for s in "${statuses[@]}"; do
    if [ "$s" -ne 0 ]; then status=$s; break; fi
done
failed=$(grep -c '"status":"failed"' "$log_dir/results-$day.ndjson" 2>/dev/null)
echo "daily-update: $day exit $status (discover ${statuses[0]}, plan ${statuses[1]}, collect ${statuses[2]}); ${failed:-0} failed today, see $log_dir" >&2
exit "$status"
