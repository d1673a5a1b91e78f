"""Row `plan`: arc-plan on 500,000 archive records against jq -c . on the same file."""
import json
import sys

from . import common
from .common import BUILDS, OUT, alternate, arc_env, remove_database, sh, tool


def synthetic_archives(path, count):
    """`count` archive records shaped like arc-discover's, written once."""
    if path.exists():
        return
    with path.open("w") as f:
        for n in range(count):
            symbol = f"SYM{n // 1000:04d}USDT"
            day = f"2024-{1 + (n % 1000) // 28 % 12:02d}-{1 + n % 28:02d}"
            key = f"data/futures/um/daily/klines/{symbol}/1m/{symbol}-1m-{day}-{n}.zip"
            f.write(json.dumps({
                "source": "binance", "market": "um", "period": "daily", "type": "klines", "symbol": symbol,
                "interval": "1m", "date": day, "key": key, "url": f"https://data.binance.vision/{key}",
                "checksum_url": f"https://data.binance.vision/{key}.CHECKSUM", "size": 88000 + n % 977,
                "etag": f"{n:032x}", "last_modified": "2024-01-02T03:00:00.000Z"}, separators=(",", ":")) + "\n")


def bench_plan(table, rounds, work):
    count = 500_000
    archives = OUT / "archives-500k.ndjson"
    synthetic_archives(archives, count)
    env = arc_env(work / "plan.db")

    def ours(before=False):
        remove_database(work / "plan.db")
        return sh(f"{tool('arc-plan', before)} --dest {work}/plan < {archives} > /dev/null", env=env)

    def jq():
        return sh(f"jq -c . < {archives} > /dev/null")

    print(f"bench: arc-plan on {count} records, {rounds} rounds", file=sys.stderr)
    runs = {"arc": ours, "jq": jq}
    if common.BEFORE:
        runs["before"] = lambda: ours(before=True)
    m = alternate(runs, rounds)
    table.add(f"arc-plan, {count} records (records/s, higher is better)", "jq -c .",
              count / m["jq"], count / m["arc"], "rec/s", ">= 500,000 rec/s")
    if common.BEFORE:
        BUILDS.add(f"arc-plan, {count} records (wall)", m["before"], m["arc"], "s")
