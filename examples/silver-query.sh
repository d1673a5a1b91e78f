#!/usr/bin/env bash
# Daily VWAP per symbol from the aggTrades of a silver lake (arc-convert's Parquet), with
# DuckDB: the `duckdb` command when installed, else Python's duckdb module ($PYTHON, or
# python3). Prints CSV: symbol, day (UTC), trades, volume, vwap, low, high.
#
#   examples/silver-query.sh SILVER_DIR
#
# It depends only on the files being Parquet under a folder named aggTrades (or
# type=aggTrades) and on their columns: transact_time, price, quantity, and symbol from a
# hive partition (symbol=BTCUSDT/...). One glob per aggTrades folder, because DuckDB
# refuses one glob over the whole lake: klines folders carry an extra interval=
# partition ("Hive partition mismatch"), and spot has is_best_match where futures do not
# (union_by_name fills it with NULL).
set -euo pipefail
lake=${1:?usage: silver-query.sh SILVER_DIR}
[ -d "$lake" ] || { echo "silver-query.sh: no such directory: $lake" >&2; exit 2; }

globs=()
while IFS= read -r -d '' dir; do
    globs+=("'${dir//\'/\'\'}/**/*.parquet'")
done < <(find "$lake" -type d \( -name aggTrades -o -name 'type=aggTrades' \) -print0 | sort -z)
if [ ${#globs[@]} -eq 0 ]; then
    echo "silver-query.sh: no aggTrades folder under $lake" >&2
    exit 1
fi
list=$(IFS=,; echo "${globs[*]}")

setup="SET TimeZone = 'UTC'"
query="SELECT symbol,
       CAST(transact_time AS DATE) AS day,
       count(*) AS trades,
       sum(quantity) AS volume,
       sum(price * quantity) / sum(quantity) AS vwap,
       min(price) AS low,
       max(price) AS high
FROM read_parquet([$list], hive_partitioning = true, union_by_name = true)
GROUP BY symbol, day
ORDER BY symbol, day"

if command -v duckdb > /dev/null; then
    exec duckdb -csv -c "$setup; $query;"
fi
exec "${PYTHON:-python3}" -c '
import csv, sys, duckdb
con = duckdb.connect()
con.execute(sys.argv[1])
result = con.execute(sys.argv[2])
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow([d[0] for d in result.description])
out.writerows(result.fetchall())
' "$setup" "$query"
