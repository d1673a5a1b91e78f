#!/usr/bin/env bash
# Replicates the local archive tree into an S3 data lake, then the lake to a second
# store (another provider, or a bucket in another region), streaming S3 to S3 without
# local disk. Run it after daily-update.sh; cron line in examples/crontab.
#
#   examples/lake-replicate.sh DATA_DIR s3://lake/binance/ [s3://replica/binance/]
#
# Credentials and endpoints come from the usual AWS variables; the replica's from
# REPLICA_ENDPOINT_URL and REPLICA_PROFILE when set. Exit status: s3x's (0 all synced,
# 1 some objects failed, 3 a store could not be reached or refused the credentials).
set -euo pipefail
data=${1:?usage: lake-replicate.sh DATA_DIR s3://lake/prefix/ [s3://replica/prefix/]}
lake=${2:?usage: lake-replicate.sh DATA_DIR s3://lake/prefix/ [s3://replica/prefix/]}
replica=${3:-}

# Only what changed moves: sizes and mtimes decide, and the mtime travels with each object.
# --exclude keeps arc's partial downloads out of the lake.
s3x --json sync --exclude '*.part' "$data/" "$lake" > "${LOG_DIR:-.}/lake-sync.ndjson"

if [ -n "$replica" ]; then
    replica_args=()
    [ -n "${REPLICA_ENDPOINT_URL:-}" ] && replica_args+=(--endpoint-url "$REPLICA_ENDPOINT_URL")
    [ -n "${REPLICA_PROFILE:-}" ] && replica_args+=(--profile "$REPLICA_PROFILE")
    # The lake is the source side; the replica is the destination side.
    source_args=()
    [ -n "${AWS_ENDPOINT_URL:-}" ] && source_args+=(--source-endpoint-url "$AWS_ENDPOINT_URL")
    s3x "${source_args[@]}" "${replica_args[@]}" --json sync --delete "$lake" "$replica" \
        > "${LOG_DIR:-.}/replica-sync.ndjson"
fi
