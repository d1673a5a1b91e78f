"""Rows `s3-upload`, `s3-download`, `s3-copy`, `s3-big` and `s3-memory`: s3x against s5cmd,
rclone and aws cli on one SeaweedFS."""
import os
import shutil
import statistics
import subprocess
import sys
import time

from .common import OUT, VENV, alternate, drop_page_cache, fresh, new_dir, tool
from .servers import S3_BUCKET, SeaweedFS

SMALL_COUNT = 2_000


class Costs:
    """Wall time, the `sync` after it, CPU seconds and peak RSS of every measured s3 run,
    per row and tool (medians)."""

    def __init__(self):
        self.rows = {}

    def add(self, work, name, seconds, flush, cpu, rss_kb):
        self.rows.setdefault(work, {}).setdefault(name, []).append((seconds, flush, cpu, rss_kb))

    def markdown(self):
        lines = ["| work | tool | runs | wall s | sync after s | CPU s (user+sys) | peak RSS |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for work, tools in self.rows.items():
            for name, values in tools.items():
                wall, flush, cpu, rss = (statistics.median(v[i] for v in values) for i in range(4))
                lines.append(f"| {work} | {name} | {len(values)} | {wall:.2f} | {flush:.2f} | {cpu:.2f} "
                             f"| {rss / 1024:.1f} MB |")
        return "\n".join(lines)


COSTS = Costs()


def measured(command, env, work=None, name=None):
    """Runs `command` (one process, exec'd) under GNU time, the page cache written out and
    dropped before (`drop_page_cache`); returns (wall seconds, CPU seconds, peak RSS KB,
    seconds of the `sync` right after) and records the costs under work/name. The sync after tells what is still to be written:
    s3x fsyncs each download before its rename, s5cmd, rclone and aws do not."""
    drop_page_cache()
    report = OUT / "time-s3.txt"
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%U %S %M", "bash", "-c", f"exec {command}"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: failed ({proc.returncode}): {command}\n{proc.stderr[-2000:]}")
    user, system, rss = report.read_text().split()[-3:]
    cpu = float(user) + float(system)
    start = time.monotonic()
    os.sync()
    flush = time.monotonic() - start
    if work:
        COSTS.add(work, name, seconds, flush, cpu, int(rss))
    return seconds, cpu, int(rss), flush


def small_files():
    """2,000 files of 80-96 KB of random bytes in a Binance-like tree (20 symbols x 100
    days), made once and kept in bench/out."""
    root = OUT / "s3-small" / "files"
    done = OUT / "s3-small" / ".complete"
    if not done.exists():
        print(f"bench: generating {SMALL_COUNT:,} files of ~88 KB in {root} ...", file=sys.stderr)
        fresh(root)
        for n in range(SMALL_COUNT):
            symbol = f"SYM{n // 100:02d}USDT"
            folder = root / symbol / "1m"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{symbol}-1m-{n % 100:04d}.zip").write_bytes(os.urandom(80_000 + (n * 7919) % 16_000))
        done.touch()
    return root


def big_file():
    """1 GiB of random bytes, made once."""
    path = OUT / "s3-big" / "big.bin"
    if not path.exists() or path.stat().st_size != 1 << 30:
        print(f"bench: generating 1 GiB in {path} ...", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as f:
            for _ in range(1024):
                f.write(os.urandom(1 << 20))
        path.with_suffix(".tmp").rename(path)
    return path


def empty_files(count):
    """`count` empty files, 1,000 a folder, made once."""
    root = OUT / f"s3-empty-{count}" / "files"
    done = OUT / f"s3-empty-{count}" / ".complete"
    if not done.exists():
        print(f"bench: creating {count} empty files in {root} ...", file=sys.stderr)
        fresh(root)
        for d in range(0, count, 1000):
            folder = root / f"d{d // 1000:04d}"
            folder.mkdir()
            for n in range(d, min(d + 1000, count)):
                (folder / f"f{n:07d}").touch()
        done.touch()
    return root


class S3Bench:
    """The s3x rows: every tool in alternated rounds on the same server, medians."""

    def __init__(self, server, table, rounds, jobs):
        self.server, self.table, self.rounds, self.jobs = server, table, rounds, jobs
        self.env = server.env()
        self.s3x = f"{tool('s3x')} -q --numworkers {jobs}"
        self.s5cmd = f"{VENV}/s5cmd --endpoint-url {server.endpoint} --numworkers {jobs}"
        self.rclone = f"{VENV}/rclone --transfers {jobs} --checkers {jobs} --s3-no-check-bucket"
        self.aws = f"{VENV}/aws --endpoint-url {server.endpoint}"
        self.count = 0
        self.seeded = set()

    def prefix(self, name):
        self.count += 1
        return f"s3://{S3_BUCKET}/{name}-{self.count}/"

    def seed_small(self):
        """The 2,000 files under s3://bench/up/ (s5cmd, untimed), for download and copy."""
        if "small" not in self.seeded:
            measured(f"{self.s5cmd} cp '{small_files()}/*' s3://{S3_BUCKET}/up/", self.env)
            self.seeded.add("small")

    def compare(self, work, runs, aws=None, anchors=("s5cmd",), target="<= 1.0", durable=False):
        """Alternates `runs` (name -> command maker), then aws once; adds the table rows.
        `durable`: also a row for wall time + the `sync` after it (downloads: until the
        files are on disk, which s3x waits for and the others do not)."""
        flushed = {}

        def timed(name, make):
            def run():
                command, after = make()
                seconds, _, _, flush = measured(command, self.env, work, name)
                flushed.setdefault(name, []).append(seconds + flush)
                if after:
                    after()
                return seconds
            return run

        print(f"bench: {work}, {self.rounds} rounds", file=sys.stderr)
        m = alternate({name: timed(name, make) for name, make in runs.items()}, self.rounds)
        for anchor in anchors:
            self.table.add(work, anchor, m[anchor], m["s3x"], "s", target)
        if aws:
            seconds = timed("aws", aws)()
            self.table.add(work, "aws s3 cp (1 round)", seconds, m["s3x"], "s", "<= 0.33")
        if durable:
            d = {name: statistics.median(values) for name, values in flushed.items()}
            for anchor in anchors:
                self.table.add(f"{work}, until on disk (+ sync)", f"{anchor} + sync", d[anchor], d["s3x"], "s", "-")
        return m

    def upload(self):
        files = small_files()
        self.compare(
            f"s3x upload {SMALL_COUNT:,} files of ~88 KB", {
                "s3x": lambda: (f"{self.s3x} cp {files}/ {self.prefix('up-s3x')}", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp '{files}/*' {self.prefix('up-s5cmd')}", None),
                "rclone": lambda: (f"{self.rclone} copy {files} sw:{self.prefix('up-rclone')[5:]}", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors --recursive {files} {self.prefix('up-aws')}", None),
            anchors=("s5cmd", "rclone"))

    def download(self):
        self.seed_small()
        up = f"s3://{S3_BUCKET}/up"
        self.compare(
            f"s3x download {SMALL_COUNT:,} objects", {
                "s3x": lambda: (f"{self.s3x} cp '{up}/*' {new_dir('dl-s3x')}/", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp '{up}/*' {new_dir('dl-s5cmd')}/", None),
                "rclone": lambda: (f"{self.rclone} copy sw:{up[5:]} {new_dir('dl-rclone')}", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors --recursive {up}/ {new_dir('dl-aws')}/", None),
            anchors=("s5cmd", "rclone"), durable=True)

    def copy(self):
        self.seed_small()
        up = f"s3://{S3_BUCKET}/up"
        self.compare(
            f"s3x S3-to-S3 copy of {SMALL_COUNT:,} objects", {
                "s3x": lambda: (f"{self.s3x} cp '{up}/*' {self.prefix('copy-s3x')}", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp '{up}/*' {self.prefix('copy-s5cmd')}", None),
                "rclone": lambda: (f"{self.rclone} copy sw:{up[5:]} sw:{self.prefix('copy-rclone')[5:]}", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors --recursive {up}/ {self.prefix('copy-aws')}", None),
            anchors=("s5cmd", "rclone"))

    def big(self):
        path = big_file()
        self.compare(
            "s3x upload of 1 GiB (defaults: 50 MiB parts, 5 in flight)", {
                "s3x": lambda: (f"{self.s3x} cp {path} {self.prefix('big-s3x')}big.bin", None),
                "s5cmd": lambda: (f"{self.s5cmd} cp {path} {self.prefix('big-s5cmd')}big.bin", None),
            },
            aws=lambda: (f"{self.aws} s3 cp --only-show-errors {path} {self.prefix('big-aws')}big.bin", None))
        source = f"s3://{S3_BUCKET}/big/big.bin"
        measured(f"{self.s5cmd} cp {path} {source}", self.env)

        def download(name, command):
            def make():
                out = new_dir(f"big-{name}")
                return command(out), lambda: shutil.rmtree(out)
            return make

        self.compare(
            "s3x download of 1 GiB (defaults: 50 MiB parts, 5 in flight)", {
                "s3x": download("s3x", lambda out: f"{self.s3x} cp {source} {out}/big.bin"),
                "s5cmd": download("s5cmd", lambda out: f"{self.s5cmd} cp {source} {out}/big.bin"),
            },
            aws=download("aws", lambda out: f"{self.aws} s3 cp --only-show-errors {source} {out}/big.bin"),
            durable=True)
        # The same bytes uploaded by s3x, so SeaweedFS keeps a CRC-32C of them: s3x checks that
        # instead of MD5 (s5cmd's upload above leaves only the MD5 ETag to check).
        crc_source = f"s3://{S3_BUCKET}/big-crc/big.bin"
        measured(f"{self.s3x} cp {path} {crc_source}", self.env)
        self.compare(
            "s3x download of 1 GiB with a CRC-32C kept (uploaded by s3x)", {
                "s3x": download("s3x", lambda out: f"{self.s3x} cp {crc_source} {out}/big.bin"),
                "s5cmd": download("s5cmd", lambda out: f"{self.s5cmd} cp {crc_source} {out}/big.bin"),
            },
            durable=True)

    def memory(self):
        """s5cmd sync is no anchor here: on 100,000 files it took 240 s and 1.7 GB (s5cmd 2.3.0
        sorts both sides in memory); s5cmd cp of the same files is, and it puts the second
        100,000 objects under many/ for the listing."""
        few, many = empty_files(20_000), empty_files(100_000)
        work = "s3x sync peak RSS"
        print("bench: s3x sync of 20,000 and 100,000 empty files (then again: nothing to copy), "
              "s5cmd cp of the 100,000", file=sys.stderr)
        t20, _, rss20, _ = measured(f"{self.s3x} sync {few} s3://{S3_BUCKET}/few/", self.env, work, "s3x 20,000")
        t100, _, rss100, _ = measured(f"{self.s3x} sync {many} s3://{S3_BUCKET}/many/a/", self.env, work,
                                      "s3x 100,000")
        s5_time, _, s5_rss, _ = measured(f"{self.s5cmd} cp '{many}/*' s3://{S3_BUCKET}/many/b/", self.env, work,
                                      "s5cmd cp 100,000")
        # Both sides listed in full, nothing copied: the listing side of sync.
        _, _, again20, _ = measured(f"{self.s3x} sync {few} s3://{S3_BUCKET}/few/", self.env, work,
                                 "s3x 20,000 again (nothing to copy)")
        _, _, again100, _ = measured(f"{self.s3x} sync {many} s3://{S3_BUCKET}/many/a/", self.env, work,
                                  "s3x 100,000 again (nothing to copy)")
        print(f"  sync wall: s3x 20,000 {t20:.1f} s, s3x 100,000 {t100:.1f} s; s5cmd cp 100,000 {s5_time:.1f} s",
              file=sys.stderr)
        self.table.add("s3x sync peak RSS: 20,000 -> 100,000 empty files", "s3x, 20,000", rss20 / 1024,
                       rss100 / 1024, "MB", "< 64 MB, flat")
        self.table.add("s3x sync again, nothing to copy: 20,000 -> 100,000", "s3x, 20,000", again20 / 1024,
                       again100 / 1024, "MB", "< 64 MB, flat")
        self.table.add("s3x sync peak RSS, 100,000 empty files", "s5cmd cp", s5_rss / 1024, rss100 / 1024, "MB",
                       "< 64 MB")
        self.table.add("s3x sync wall time, 100,000 empty files", "s5cmd cp", s5_time, t100, "s", "-")

        work = "s3x ls -r peak RSS"
        print("bench: s3x ls -r over 20,000 and 200,000 objects", file=sys.stderr)
        _, _, ls20, _ = measured(f"{self.s3x} ls -r s3://{S3_BUCKET}/few/", self.env, work, "s3x 20,000")
        l200, _, ls200, _ = measured(f"{self.s3x} ls -r s3://{S3_BUCKET}/many/", self.env, work, "s3x 200,000")
        s5_ls, _, s5_ls_rss, _ = measured(f"{self.s5cmd} ls 's3://{S3_BUCKET}/many/*'", self.env, work,
                                          "s5cmd 200,000")
        self.table.add("s3x ls -r peak RSS: 20,000 -> 200,000 objects", "s3x, 20,000", ls20 / 1024, ls200 / 1024,
                       "MB", "< 64 MB, flat")
        self.table.add("s3x ls -r peak RSS, 200,000 objects", "s5cmd ls", s5_ls_rss / 1024, ls200 / 1024, "MB",
                       "< 64 MB")
        self.table.add("s3x ls -r wall time, 200,000 objects", "s5cmd ls", s5_ls, l200, "s", "-")


S3_ROWS = ("s3-upload", "s3-download", "s3-copy", "s3-big", "s3-memory")


def bench_s3(rows, table, rounds, jobs):
    server = SeaweedFS(OUT / "seaweed")
    try:
        bench = S3Bench(server, table, rounds, jobs)
        # Warm the server, the page cache and every tool once, untimed.
        print("bench: seeding and warming SeaweedFS", file=sys.stderr)
        bench.seed_small()
        measured(f"{bench.s3x} ls s3://{S3_BUCKET}/up/", bench.env)
        measured(f"{bench.rclone} lsf sw:{S3_BUCKET}/up", bench.env)
        for row, run in (("s3-upload", bench.upload), ("s3-download", bench.download), ("s3-copy", bench.copy),
                         ("s3-big", bench.big), ("s3-memory", bench.memory)):
            if row in rows:
                started = time.monotonic()
                run()
                print(f"bench: {row} took {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        server.stop()
