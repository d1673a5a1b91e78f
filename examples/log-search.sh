#!/usr/bin/env bash
# A day of cron logs at a glance, and a copy that is safe to share.
#
#   log-search.sh [LOG_DIR] [SINCE]
#   log-search.sh /var/log/arc 24h
#
# Reads what daily-update.sh writes under LOG_DIR: arc-DAY.log (every stage's log lines,
# NDJSON) and results-DAY.ndjson (arc-collect's result records). Shows the warnings and
# errors since SINCE (default 24h) from every log file, merged in time order; counts
# them by tool and code, and the day's failed archives by error code; writes a redacted
# copy of the warnings and errors (emails, addresses, keys, tokens masked) to attach to a
# ticket; and indexes the logs in the state database, so that later
#
#   telem-log search 'checksum OR timeout'
#
# finds them. With METRICS_FILE set, also writes the line counts there in Prometheus text
# format (for node_exporter's textfile collector). Exits 3 when LOG_DIR holds no logs.
set -euo pipefail
shopt -s nullglob

log_dir=${1:-${LOG_DIR:-.}}
since=${2:-24h}
logs=("$log_dir"/arc-*.log)
results=("$log_dir"/results-*.ndjson)
if [ ${#logs[@]} -eq 0 ]; then
    echo "log-search: no arc-*.log files in $log_dir" >&2
    exit 3
fi

echo "== warnings and errors since $since, every stage merged in time order"
telem-log --level warn --since "$since" --format human "${logs[@]}"

echo
echo "== warnings and errors by tool and code"
telem-log count --level warn --since "$since" --by tool,code --format human "${logs[@]}"

if [ ${#results[@]} -gt 0 ]; then
    echo
    echo "== failed archives by error code"
    telem-log count --where status=failed --by error.code --format human "${results[@]}"
fi

# Written under a temporary name and renamed: a half-written copy is never there to send.
share="$log_dir/share-$(date -u +%Y-%m-%d).log"
telem-log redact --level warn --since "$since" "${logs[@]}" > "$share.tmp"
mv "$share.tmp" "$share"
echo
echo "== redacted copy for sharing: $share ($(wc -l < "$share") lines)"

# Only what was appended since the last run is added: each file's offset is remembered.
telem-log ingest --quiet "${logs[@]}" > /dev/null
if [ -n "${METRICS_FILE:-}" ]; then
    telem-log metrics "${logs[@]}" > "$METRICS_FILE.tmp"
    mv "$METRICS_FILE.tmp" "$METRICS_FILE"
fi
