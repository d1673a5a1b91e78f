#!/usr/bin/env bash
# `make demo`: the main job on a fresh machine, offline. Generates a small mirror of
# Binance's archive, serves it with `rclone serve s3` on 127.0.0.1, runs the pipeline
# against it, shows what landed and the ledger, converts it to Parquet (arc-convert) and
# queries it with DuckDB, then shows "the next day"; then the same
# into S3 (SeaweedFS on 127.0.0.1) and an s3x sync; then a run traced as one trace,
# its logs read back with telem-log, and its Prometheus metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${ARC_BIN:-$root/.build/release}
demo=$root/.demo
rm -rf "$demo"
mkdir -p -m 700 "$demo"  # the state is private (arc warns about a state directory others can read)

servers=(.venv/bin/python scripts/arcservers.py)  # the mirror and SeaweedFS, as the tests start them
port=$("${servers[@]}" port)
export ARC_STATE=$demo/state.db
export PATH=$bin:$PATH

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; }

say "A local mirror of data.binance.vision (generated), served by rclone serve s3 on 127.0.0.1:$port"
.venv/bin/python scripts/make-mirror.py "$demo/mirror" --preset demo
stop_servers() { "${servers[@]}" mirror stop "$demo/mirror"; }
trap stop_servers EXIT
# Waits until it answers; exports ARC_BINANCE_LIST_URL and ARC_BINANCE_DOWNLOAD_URL.
eval "$("${servers[@]}" mirror start "$demo/mirror" --port "$port")"

pipeline="arc-discover binance --market um --type klines --interval 1m --symbol BTCUSDT,ETHUSDT --since 2024-01-01 | arc-plan --dest $demo/data | arc-collect -j 64"
say "The pipeline"
show "$pipeline"
sh -c "$pipeline" > "$demo/results.ndjson"
echo "result records: $(wc -l < "$demo/results.ndjson")  (one per archive; first one:)"
head -n 1 "$demo/results.ndjson"

say "What landed"
show "find $demo/data -name '*.zip' | sort | head -n 5"
find "$demo/data" -name '*.zip' | sort | head -n 5
echo "... $(find "$demo/data" -name '*.zip' | wc -l) archives, $(du -sh "$demo/data" | cut -f1), each verified against its .CHECKSUM"

say "The ledger (in $ARC_STATE)"
show "sqlite3 $ARC_STATE 'SELECT symbol, date, size, substr(sha256, 1, 16), status FROM ledger ORDER BY symbol, date LIMIT 5'"
sqlite3 -header -column "$ARC_STATE" \
    "SELECT symbol, date, size, substr(sha256, 1, 16) AS sha256, status FROM ledger ORDER BY symbol, date LIMIT 5"

say "Bronze to silver: the same results into Parquet, checked on the way (arc-convert)"
show "arc-convert --dest $demo/silver < results.ndjson | jq -c '{key, check: .check.status, rows: .silver.rows}' | head -n 3"
arc-convert --dest "$demo/silver" < "$demo/results.ndjson" > "$demo/silver.ndjson"
jq -c '{key, check: .check.status, rows: .silver.rows}' "$demo/silver.ndjson" | head -n 3
echo "... $(grep -c '"silver"' "$demo/silver.ndjson") Parquet files, hive-partitioned; one glob reads them all:"
query="SELECT symbol, count(*) AS klines, min(open_time) AS first, max(open_time) AS last, round(avg(close), 2) AS avg_close
       FROM read_parquet('$demo/silver/futures/um/daily/klines/**/*.parquet', hive_partitioning = true) GROUP BY symbol ORDER BY symbol"
show "duckdb: $query"
.venv/bin/python -c 'import sys, duckdb; duckdb.sql(sys.argv[1]).show()' "$query"
show "arc-convert --dest $demo/silver < results.ndjson   # again: nothing to do"
arc-convert --dest "$demo/silver" < "$demo/results.ndjson" | jq -c '.silver.reused' | sort | uniq -c

say "The next day: a new day is published and one file is republished upstream"
.venv/bin/python scripts/make-mirror.py "$demo/mirror" --add-day 2024-01-15
.venv/bin/python scripts/make-mirror.py "$demo/mirror" \
    --republish data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-03.zip
show "$pipeline   # the same line, from cron"
sh -c "$pipeline" | jq -c '{key, reason, status, verified}'

say "Again, right away: nothing to do"
show "$pipeline"
sh -c "$pipeline"

say "Where are the holes? (arc-plan --gaps)"
show "arc-discover binance --market spot | arc-plan --gaps"
rm -f "$demo/mirror/data.binance.vision/data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-07.zip"*
arc-discover binance --market spot | arc-plan --gaps | jq -c '{symbol, interval, period, missing}'

say "Into a data lake: the same pipeline with an s3:// destination (SeaweedFS on 127.0.0.1)"
trap 'stop_servers; "${servers[@]}" seaweed stop "$demo/seaweed"' EXIT
eval "$("${servers[@]}" seaweed start "$demo/seaweed" --bucket lake)"
lake="arc-discover binance --market um --type klines --interval 1m --symbol BTCUSDT --since 2024-01-01 | arc-plan --dest s3://lake/binance | arc-collect -j 64"
show "$lake"
sh -c "$lake" | jq -c '{dest, status, verified}' | head -n 3
echo "... each streamed from the mirror into S3, its SHA-256 checked before the object appears"
show "s3x du -H s3://lake/binance/"
s3x du -H s3://lake/binance/
show "s3x ls 's3://lake/binance/*' | head -n 3"
s3x ls 's3://lake/binance/*' | head -n 3
show "s3x head s3://lake/binance/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip | jq .metadata"
s3x head s3://lake/binance/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip | jq -c .metadata
show "s3x sync $demo/data/ s3://lake/mirror/   # and the local tree too, only what differs"
s3x sync "$demo/data/" s3://lake/mirror/ | tail -n 2
show "s3x sync $demo/data/ s3://lake/mirror/   # again: nothing to do"
s3x sync "$demo/data/" s3://lake/mirror/

say "Where the time went: the nightly run as one trace (telem-trace exec)"
mkdir -p "$demo/logs" "$demo/metrics"
nightly="arc-discover binance --market um --type klines --interval 1m --since 2024-01-01 | arc-plan --force --dest $demo/again | arc-collect -j 16 --metrics-file $demo/metrics/arc_collect.prom"
show "telem-trace exec --name nightly -- sh -c '$nightly' 2>> $demo/logs/nightly.log"
ARC_LOG_FORMAT=json telem-trace exec --name nightly -- sh -c "$nightly" > "$demo/again.ndjson" 2>> "$demo/logs/nightly.log"
show "telem-trace ls"
telem-trace ls | jq -c '{trace_id, name, duration_ms, status, spans}'
show "telem-trace show --width 100 | head -n 14"
telem-trace show --width 100 | head -n 14
echo "... a collect.task span per archive (url, bytes, attempts, status); telem-trace stats has p50/p95/p99"

say "What was logged: every stage's lines, merged in time order, each naming its trace and span"
show "telem-log --fields ts,tool,msg,span_id $demo/logs/nightly.log"
telem-log --format human --fields ts,tool,msg,span_id "$demo/logs/nightly.log"
show "telem-log count --by tool,level $demo/logs/nightly.log"
telem-log count --by tool,level "$demo/logs/nightly.log"

say "And for Prometheus: the run's metrics, as node_exporter's textfile collector reads them"
show "grep -E '^arc_collect_(tasks_total|bytes_total|last_success)' $demo/metrics/arc_collect.prom"
grep -E '^arc_collect_(tasks_total|bytes_total|last_success)' "$demo/metrics/arc_collect.prom"
show "promtool check metrics < $demo/metrics/arc_collect.prom"
promtool check metrics < "$demo/metrics/arc_collect.prom" && echo "promtool: ok"

say "The whole daily job as one workflow: wf-run (retries, state, resume, schedules)"
show "wf-run graph examples/binance-daily.toml"
wf-run graph examples/binance-daily.toml
daily="wf-run run examples/binance-daily.toml -p dest=$demo/daily -p 'filters=--market um --type klines --symbol BTCUSDT --since 2024-01-01' -p lake=s3://lake/daily/"
show "$daily | jq -c '{event, step, attempt, duration_ms}'"
wf-run run examples/binance-daily.toml -p dest="$demo/daily" -p 'filters=--market um --type klines --symbol BTCUSDT --since 2024-01-01' \
    -p lake=s3://lake/daily/ 2> "$demo/logs/wf-run.log" | jq -c '{event, step, attempt, duration_ms}'
show "wf-run status"
wf-run status
show "wf-run next -n 3 examples/binance-daily.toml   # when the scheduler would start it"
wf-run next -n 3 examples/binance-daily.toml

say "Done. Everything is under $demo; the README has more pipelines."
