"""arc-collect verifies by what each record's `checksum` says: SHA-256 and MD5 sidecars,
inline hashes, a single-part ETag (an MD5), a size only, or nothing; into a directory and
into S3. The archives are hand-written records over files served by `rclone serve s3`
(real MD5 ETags, Range requests); plan and collect are the built tools."""
import gzip
import hashlib
import io
import json
import os

import pytest

from conftest import BUCKET, RcloneS3, ledger, run

KINDS = ["sha256-sidecar", "md5-sidecar", "sha256-inline", "md5-inline", "etag-md5"]


class Published:
    """Files as a source publishes them, served by rclone serve s3 on a loopback port."""

    def __init__(self, root):
        self.root = root
        (root / BUCKET / "data").mkdir(parents=True)
        self.server = RcloneS3(root, dir_cache_time="0s")

    def path(self, key):
        return self.root / BUCKET / key

    def url(self, key):
        return f"{self.server.url}/{key}"

    def publish(self, key, data, sidecar=None):
        """Writes `key` (and `key.CHECKSUM` holding `sidecar`, a hash, when given)."""
        self.path(key).parent.mkdir(parents=True, exist_ok=True)
        self.path(key).write_bytes(data)
        if sidecar:
            self.path(key + ".CHECKSUM").write_text(f"{sidecar}  {os.path.basename(key)}")

    def archive(self, key, kind, data=None):
        """The archive record for `key` verified by `kind` (a name from KINDS, or size/none),
        from the bytes published now (or `data`), sidecar written as the kind needs."""
        data = self.path(key).read_bytes() if data is None else data
        sha, md5 = hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()
        checksum = {
            "sha256-sidecar": {"kind": "sha256", "url": self.url(key + ".CHECKSUM")},
            "md5-sidecar": {"kind": "md5", "url": self.url(key + ".CHECKSUM")},
            "sha256-inline": {"kind": "sha256", "value": sha},
            "md5-inline": {"kind": "md5", "value": md5.upper()},
            "etag-md5": {"kind": "etag-md5", "value": f'"{md5}"'},
            "size": {"kind": "size"},
            "none": {"kind": "none"},
        }[kind]
        if kind.endswith("sidecar"):
            self.path(key + ".CHECKSUM").write_text(f"{sha if kind.startswith('sha') else md5}  {os.path.basename(key)}")
        return {"source": "test", "market": "linear", "period": "daily", "type": "trades", "symbol": "BTCUSDT",
                "date": "2024-01-01", "key": key, "url": self.url(key), "size": len(data), "etag": f'"{md5}"',
                "last_modified": "2024-01-02T00:00:00.000Z", "checksum": checksum}

    def corrupt(self, key, at=None):
        """Flips one byte of the published file (same size; sidecars and records unchanged)."""
        data = bytearray(self.path(key).read_bytes())
        data[len(data) // 2 if at is None else at] ^= 0xFF
        self.path(key).write_bytes(bytes(data))


@pytest.fixture
def pub(tmp_path):
    p = Published(tmp_path / "pub")
    p.server.start()
    yield p
    p.server.stop()


@pytest.fixture
def venv_env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_", "AWS_")) and k != "TRACEPARENT"}
    e.update(ARC_STATE=str(tmp_path / "state" / "state.db"), ARC_LOG_FORMAT="json")
    return e


def key_of(kind, n=0, ext="csv.gz"):
    return f"data/{kind}/BTCUSDT/BTCUSDT2024-01-{n + 1:02d}.{ext}"


def payload(n=0, size=20000):
    return gzip.compress(bytes((i * 7 + n) % 251 for i in range(size)), mtime=0)


def plan(env, dest, archives, *args):
    p = run("arc-plan", "--dest", str(dest), *args, input=archives, env=env)
    assert p.status == 0, p
    return p.records


def collect(env, tasks, *args):
    return run("arc-collect", "--retries", "3", "--retry-delay", "10ms", *args, input=tasks, env=env)


def by_key(result):
    return {r["key"]: r for r in result.records}


def test_every_kind_stores_good_bytes_and_says_how_it_was_verified(pub, venv_env, tmp_path):
    archives = []
    for n, kind in enumerate(KINDS + ["size", "none"]):
        pub.publish(key_of(kind, n), payload(n))
        archives.append(pub.archive(key_of(kind, n), kind))
    r = collect(venv_env, plan(venv_env, tmp_path / "data", archives))
    assert r.status == 0, r
    results = by_key(r)
    for n, kind in enumerate(KINDS + ["size", "none"]):
        res = results[key_of(kind, n)]
        data = pub.path(key_of(kind, n)).read_bytes()
        assert res["status"] == "ok", res
        assert res["verification"] == kind.split("-sidecar")[0].split("-inline")[0], res
        assert res["verified"] is (kind not in ("size", "none")), res
        assert res["sha256"] == hashlib.sha256(data).hexdigest()    # whatever the kind
        assert open(res["dest"], "rb").read() == data
    assert all(row["status"] == "ok" for row in ledger(venv_env).values())


@pytest.mark.parametrize("kind", KINDS)
def test_one_corrupted_byte_is_caught(pub, venv_env, tmp_path, kind):
    key = key_of(kind)
    pub.publish(key, payload())
    archive = pub.archive(key, kind)
    pub.corrupt(key)                                    # upstream: same size, one byte other
    r = collect(venv_env, plan(venv_env, tmp_path / "data", [archive]))
    assert r.status == 1, r
    [res] = r.records
    assert res["status"] == "failed" and res["error"]["code"] == "checksum_mismatch", res
    assert res["verification"] == archive["checksum"]["kind"] and res["verified"] is False
    message = res["error"]["message"]
    algorithm = "MD5" if "md5" in kind else "SHA-256"
    got = hashlib.md5 if algorithm == "MD5" else hashlib.sha256
    assert message.startswith(algorithm), message
    assert f"({archive['checksum']['kind']}" in message, message
    assert got(pub.path(key).read_bytes()).hexdigest() in message
    assert "two downloads" in message                   # fetched again before failing
    assert res["sha256"] == hashlib.sha256(pub.path(key).read_bytes()).hexdigest()
    if kind == "etag-md5":
        assert message.startswith("MD5 mismatch: expected ") and "(etag-md5" in message, message
    assert not os.path.exists(res["dest"])
    assert ledger(venv_env)[res["dest"]]["status"] == "failed"


def test_size_catches_a_byte_missing_or_added_and_none_stores_anything(pub, venv_env, tmp_path):
    short, longer, unchecked = key_of("size", 0), key_of("size", 1), key_of("none", 2)
    for n, key in enumerate([short, longer, unchecked]):
        pub.publish(key, payload(n))
    archives = [pub.archive(short, "size"), pub.archive(longer, "size"), pub.archive(unchecked, "none")]
    pub.publish(short, pub.path(short).read_bytes()[:-1])
    pub.publish(longer, pub.path(longer).read_bytes() + b"\0")
    pub.corrupt(unchecked)
    r = collect(venv_env, plan(venv_env, tmp_path / "data", archives))
    assert r.status == 1, r
    results = by_key(r)
    for key in (short, longer):
        res = results[key]
        assert res["status"] == "failed" and res["error"]["code"] == "size_mismatch", res
        assert "(size)" in res["error"]["message"] and res["verification"] == "size"
        assert not os.path.exists(res["dest"])
    res = results[unchecked]
    assert res["status"] == "ok" and res["verified"] is False and res["verification"] == "none"
    assert open(res["dest"], "rb").read() == pub.path(unchecked).read_bytes()


def test_require_checksum_refuses_size_and_none(pub, venv_env, tmp_path):
    kinds = ["size", "none", "etag-md5", "md5-sidecar"]
    archives = []
    for n, kind in enumerate(kinds):
        pub.publish(key_of(kind, n), payload(n))
        archives.append(pub.archive(key_of(kind, n), kind))
    # The older contract too: neither checksum nor checksum_url, only a size.
    pub.publish(key_of("plain", 9), payload(9))
    plain = dict(pub.archive(key_of("plain", 9), "size"))
    del plain["checksum"]
    r = collect(venv_env, plan(venv_env, tmp_path / "data", archives + [plain]), "--require-checksum")
    assert r.status == 1, r
    results = by_key(r)
    for n, kind in enumerate(kinds):
        res = results[key_of(kind, n)]
        if kind in ("size", "none"):
            assert res["status"] == "failed" and res["error"]["code"] == "checksum_missing", res
            assert f"checksum kind {kind}" in res["error"]["message"]
            assert not os.path.exists(res["dest"])
        else:
            assert res["status"] == "ok" and res["verified"], res
    assert results[key_of("plain", 9)]["error"]["code"] == "checksum_missing"
    assert results[key_of("plain", 9)]["verification"] == "size"


def test_bad_checksums_are_bad_fields_reported_and_skipped(pub, venv_env, tmp_path):
    pub.publish(key_of("good"), payload())
    good = pub.archive(key_of("good"), "etag-md5")
    md5 = hashlib.md5(b"x").hexdigest()
    dest = tmp_path / "data"
    bad = {
        "checksum.value": {"kind": "etag-md5", "value": f'"{md5}-3"'},     # a multipart ETag is no MD5
        "checksum.kind": {"kind": "crc64"},
    }
    tasks = plan(venv_env, dest, [good])
    lines = [json.dumps(dict(tasks[0], checksum=c, dest=str(dest / f"bad-{n}"))) for n, c in enumerate(bad.values())]
    r = run("arc-collect", input="\n".join(lines + [json.dumps(tasks[0])]) + "\n", env=venv_env)
    assert r.status == 1, r
    assert [x["status"] for x in r.records] == ["ok"]
    warnings = [l for l in r.logs if l["level"] == "warn"]
    assert [w["line"] for w in warnings] == [1, 2]
    for w, field in zip(warnings, bad):
        assert f'field "{field}"' in w["msg"], w
    assert "multipart" in warnings[0]["msg"]
    assert not any(os.path.exists(dest / f"bad-{n}") for n in range(2))
    strict = run("arc-collect", "--strict", input="\n".join(lines) + "\n", env=venv_env)
    assert strict.status == 2 and strict.records == []


def test_an_empty_gzip_is_reported_not_stored_and_not_planned_again(pub, venv_env, tmp_path):
    """Bybit publishes some 44-byte gzips holding nothing: they match their ETag, and are
    still no data. arc-plan does not plan them again until they are republished."""
    empty, small = key_of("empty", 0), key_of("empty", 1)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="BTCUSDT2024-01-01.csv", mode="wb", fileobj=buf, mtime=0):
        pass
    pub.publish(empty, buf.getvalue())
    pub.publish(small, gzip.compress(b"1", mtime=0))      # small, but holds a byte: data
    archives = [pub.archive(empty, "etag-md5"), pub.archive(small, "etag-md5")]
    dest = tmp_path / "data"
    r = collect(venv_env, plan(venv_env, dest, archives))
    assert r.status == 1, r
    results = by_key(r)
    res = results[empty]
    assert res["status"] == "failed" and res["error"]["code"] == "empty_archive", res
    assert "empty archive" in res["error"]["message"] and res["bytes"] == len(buf.getvalue())
    assert not os.path.exists(res["dest"]) and not any(p.name.endswith(".part") for p in dest.rglob("*"))
    assert results[small]["status"] == "ok" and os.path.exists(results[small]["dest"])
    assert ledger(venv_env)[res["dest"]]["error_code"] == "empty_archive"
    # The next day's run: the same empty file is not planned again; a republished one is.
    assert plan(venv_env, dest, archives) == []
    pub.publish(empty, payload())
    again = plan(venv_env, dest, [pub.archive(empty, "etag-md5")])
    assert [t["reason"] for t in again] == ["retry"]
    r = collect(venv_env, again)
    assert r.status == 0 and r.records[0]["status"] == "ok", r


@pytest.mark.parametrize("kind", ["md5-inline", "etag-md5", "md5-sidecar"])
def test_md5_kinds_resume_and_verify_in_place(pub, venv_env, tmp_path, kind):
    key = key_of(kind)
    pub.publish(key, payload(size=400000))
    data = pub.path(key).read_bytes()
    [task] = plan(venv_env, tmp_path / "data", [pub.archive(key, kind)])
    dest = task["dest"]
    partial = os.path.join(os.path.dirname(dest), f".{os.path.basename(dest)}.{hashlib.md5(data).hexdigest()[:12]}.part")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    # A partial file from an earlier run: resumed, and the MD5 covers its bytes too.
    with open(partial, "wb") as f:
        f.write(data[: len(data) // 2])
    r = collect(venv_env, [task], "--log-level", "debug")
    assert r.status == 0 and r.records[0]["status"] == "ok" and r.records[0]["verified"], r
    assert any(l.get("resumed_bytes") == len(data) // 2 for l in r.logs), r.stderr
    assert open(dest, "rb").read() == data and not os.path.exists(partial)
    # A partial of wrong bytes: caught by the MD5, fetched again from byte 0.
    os.remove(dest)
    with open(partial, "wb") as f:
        f.write(b"\0" * (len(data) // 2))
    r = collect(venv_env, [dict(task, reason="forced")])
    assert r.status == 0 and r.records[0]["status"] == "ok", r
    assert open(dest, "rb").read() == data
    assert any("resuming" in l["msg"] for l in r.logs if l["level"] == "warn"), r.stderr
    # Already in place: verified by its MD5 (skipped); same size, other bytes: replaced.
    r = collect(venv_env, [task])
    assert r.records[0]["status"] == "skipped" and r.records[0]["verified"], r
    with open(dest, "r+b") as f:
        f.write(b"XXXX")
    r = collect(venv_env, [task])
    assert r.records[0]["status"] == "ok" and r.records[0]["verified"], r
    assert open(dest, "rb").read() == data


@pytest.mark.parametrize("kind", ["md5-sidecar", "etag-md5"])
def test_into_s3_every_md5_kind_is_checked_before_anything_is_stored(pub, venv_env, s3env, bucket, seaweed, tmp_path,
                                                                     kind):
    e = dict(venv_env)
    e.update({k: v for k, v in s3env.items() if k.startswith("AWS_") or k == "HOME"})
    good, bad, large, large_bad, empty = (key_of(kind, n) for n in range(5))
    pub.publish(good, payload(0))
    pub.publish(bad, payload(1))
    big = os.urandom(9 << 20)                               # over 8 MiB: uploaded in parts
    pub.publish(large, big, )
    pub.publish(large_bad, big[::-1])
    pub.publish(empty, gzip.compress(b"", mtime=0))
    archives = [pub.archive(k, kind) for k in (good, bad, large, large_bad, empty)]
    pub.corrupt(bad)
    pub.corrupt(large_bad, at=(9 << 20) - 5)               # in the last part
    r = collect(e, plan(e, f"s3://{bucket}/lake", archives), "-j", "4")
    assert r.status == 1, r
    results = by_key(r)
    s3 = seaweed.client()
    for key in (good, large):
        res = results[key]
        assert res["status"] == "ok" and res["verified"] and res["verification"] == archives[0]["checksum"]["kind"], res
        assert s3.get(bucket, "lake/" + key) == pub.path(key).read_bytes()
    for key, more in ((bad, "nothing was stored"), (large_bad, "the upload was aborted")):
        res = results[key]
        assert res["status"] == "failed" and res["error"]["code"] == "checksum_mismatch", res
        assert res["error"]["message"].startswith("MD5") and more in res["error"]["message"], res
    assert results[empty]["error"]["code"] == "empty_archive", results[empty]
    assert sorted(o["key"] for o in s3.list(bucket)) == sorted(["lake/" + good, "lake/" + large])


def test_a_plugin_says_how_to_verify_and_a_bad_checksum_is_caught_at_discovery(pub, venv_env, tmp_path):
    """A source plugin (arc-source-NAME, any language) writes the checksum object; arc-discover
    skips a record whose checksum cannot be acted on (a multipart ETag given as an MD5)."""
    good, unverified = key_of("plugin", 0), key_of("plugin", 1)
    pub.publish(good, payload(0))
    pub.publish(unverified, payload(1))
    records = [pub.archive(good, "etag-md5"), pub.archive(unverified, "size"),
               dict(pub.archive(good, "etag-md5"), checksum={"kind": "etag-md5", "value": '"' + "a" * 32 + '-2"'})]
    bindir = tmp_path / "plugins"
    bindir.mkdir()
    plugin = bindir / "arc-source-demo"
    plugin.write_text("#!/usr/bin/env python3\nimport sys\nsys.stdout.write(open(sys.argv[1]).read())\n")
    plugin.chmod(0o755)
    listing = tmp_path / "listing.ndjson"
    listing.write_text("".join(json.dumps(r) + "\n" for r in records))
    e = dict(venv_env, PATH=f"{bindir}:{os.environ['PATH']}")
    d = run("arc-discover", "demo", str(listing), env=e)
    assert d.status == 1, d
    assert [r["checksum"]["kind"] for r in d.records] == ["etag-md5", "size"]
    [warning] = [l for l in d.logs if l["level"] == "warn"]
    assert warning["line"] == 3 and 'field "checksum.value"' in warning["msg"], warning
    r = collect(e, plan(e, tmp_path / "data", d.records))
    assert r.status == 0, r
    # Results come out as downloads finish, not in input order.
    assert sorted((x["verification"], x["verified"]) for x in r.records) == [("etag-md5", True), ("size", False)]
