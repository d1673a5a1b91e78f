"""Row `pipeline`: arc-discover | arc-plan | arc-collect against s5cmd cp (all over S3), and
with downloads from a static server against curl --parallel and aria2c; and the same line
with the silver step (`| arc-convert`) against the line without it."""
import os
import sys

from . import common
from .common import BENCH_PREFIX, BUCKET, BUILDS, VENV, alternate, curl_run, have_anchor, new_dir, remove_database, sh, tool


def bench_pipeline(server, static, table, rounds, jobs, work, env, discover, count):
    s5_env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")

    def ours(download_url, before=False, silver=False):
        lister = discover.replace(tool("arc-discover"), tool("arc-discover", before))

        def run():
            remove_database(work / "state.db")
            convert = f" | {tool('arc-convert')} --dest {new_dir('silver')} > /dev/null" if silver else ""
            return sh(f"{lister} --download-url {download_url} | {tool('arc-plan', before)} --dest {new_dir('arc')} "
                      f"| {tool('arc-collect', before)} -j {jobs}{convert}", env=env)
        return run

    def s5cmd():
        return sh(f"{VENV}/s5cmd --no-sign-request --endpoint-url {server.endpoint} --numworkers {jobs} "
                  f"cp 's3://{BUCKET}/{BENCH_PREFIX}*' {new_dir('s5cmd')}/", env=s5_env)

    def aria2c():
        return sh(f"aria2c -q -j {jobs} -x 1 --allow-overwrite=true --auto-file-renaming=false "
                  f"-d {new_dir('aria2c')} -i {work}/aria2.txt")

    print(f"bench: pipeline over {count} archives, -j {jobs}, {rounds} rounds", file=sys.stderr)
    runs = {"arc-s3": ours(server.url), "s5cmd": s5cmd, "arc-static": ours(static.url),
            "arc-s3-silver": ours(server.url, silver=True),
            "curl": lambda: curl_run(work, jobs)}
    if have_anchor("aria2c", "pipeline"):
        runs["aria2c"] = aria2c
    if common.BEFORE:
        runs["before-s3"] = ours(server.url, before=True)
        runs["before-static"] = ours(static.url, before=True)
    m = alternate(runs, rounds)
    if common.BEFORE:
        BUILDS.add(f"pipeline, {count} archives, all over S3", m["before-s3"], m["arc-s3"], "s")
        BUILDS.add(f"pipeline, {count} archives, downloads from a static server", m["before-static"], m["arc-static"], "s")
    table.add(f"list + fetch + verify + ledger, {count} archives, all over S3", "s5cmd cp", m["s5cmd"], m["arc-s3"],
              "s", "<= 1.0 (s5cmd verifies nothing)")
    table.add("the same, downloads from a static server", "s5cmd cp (over S3)", m["s5cmd"], m["arc-static"], "s",
              "<= 1.0 (s5cmd verifies nothing)")
    table.add("the same, downloads from a static server", "curl --parallel", m["curl"], m["arc-static"], "s",
              "<= 1.5 (curl lists and verifies nothing)")
    if "aria2c" in m:
        table.add("the same, downloads from a static server", "aria2c -j", m["aria2c"], m["arc-static"], "s", "-")
    table.add(f"the daily pipeline with the silver step (| arc-convert), {count} archives over S3",
              "the same without it", m["arc-s3"], m["arc-s3-silver"], "s", "<= 1.2 (conversion hides behind downloads)")
