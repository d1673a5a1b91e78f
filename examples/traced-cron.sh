#!/usr/bin/env bash
# The daily pipeline as one trace, for cron: arc-discover | arc-plan | arc-collect runs
# under `telem-trace exec`, so each stage (and each download) is a span of one trace in the
# state database. When the run fails, the trace's waterfall goes to stderr, which cron
# mails: which stage failed, which archives, and where the time went.
#
#   traced-cron.sh DEST [arc-discover binance FILTERS...]
#   traced-cron.sh /data/binance --market um --type klines --interval 1m --symbol BTCUSDT
#
# Result records and logs go under $LOG_DIR (default DEST/.arc-logs). Exits with the
# pipeline's status: 0 all done, 1 some archives failed (retried by the next run), 2 bad
# usage, 3 the archive or the state database could not be reached.
#
# Environment: ARC_STATE (ledger and traces), TRACE_NAME (the trace's name, default
# daily), TRACE_FILE (spans to this NDJSON file instead of the state database), JOBS
# (downloads at once, default 32), LOG_DIR, ARC_BINANCE_LIST_URL / ARC_BINANCE_DOWNLOAD_URL.
set -uo pipefail

dest=${1:?usage: traced-cron.sh DEST [arc-discover binance FILTERS...]}
shift
log_dir=${LOG_DIR:-$dest/.arc-logs}
mkdir -p "$log_dir" || exit 3
day=$(date -u +%Y-%m-%d)
log="$log_dir/traced-$day.log"
trace_file=()
[ -n "${TRACE_FILE:-}" ] && trace_file=(--trace "$TRACE_FILE")

# The shell's $1 is DEST, the rest the filters; pipefail makes a failed stage the status.
telem-trace --log-format json "${trace_file[@]}" exec --name "${TRACE_NAME:-daily}" -- \
    bash -o pipefail -c 'dest=$1; shift; arc-discover binance "$@" | arc-plan --dest "$dest" | arc-collect -j "${JOBS:-32}"' \
    traced-cron "$dest" "$@" \
    >> "$log_dir/results-$day.ndjson" 2>> "$log"
status=$?

# telem-trace's last line names the run's trace (every line carries trace_id).
trace=$(grep '"tool":"telem-trace"' "$log" | grep '"exit_status"' | tail -n 1 \
    | sed -n 's/.*"trace_id":"\([0-9a-f]\{32\}\)".*/\1/p')
if [ "$status" -ne 0 ]; then
    echo "traced-cron: exit $status; trace ${trace:-unknown} (log: $log)" >&2
    if [ -n "$trace" ]; then
        if [ -n "${TRACE_FILE:-}" ]; then
            telem-trace show --no-color --file "$TRACE_FILE" "$trace" >&2
        else
            telem-trace show --no-color "$trace" >&2
        fi
    fi
fi
exit "$status"
