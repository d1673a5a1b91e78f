"""arc-collect straight into S3 (SeaweedFS), and s3x's interrupted and resumed transfers.

The archive mirror is `rclone serve s3`; the lake is SeaweedFS. Nothing here is mocked:
the built tools run as a user runs them, and the results are read back with a separate
client (conftest's stdlib SigV4 client and `aws s3api`).
"""
import hashlib
import json
import os
import signal
import subprocess

import pytest

from conftest import BUCKET, SeaweedFS, aws, free_port, ledger, records, run, s5cmd, tool, wait_for
from faultproxy import FaultProxy

TRADES = ["--market", "spot", "--type", "trades"]
KLINES = ["--market", "um", "--type", "klines", "--interval", "1m", "--symbol", "BTCUSDT"]


def both(env, s3env):
    """The mirror's environment (state, archive URLs) plus the lake's (keys, endpoint)."""
    e = dict(env)
    e.update({k: v for k, v in s3env.items() if k.startswith("AWS_") or k == "HOME"})
    return e


def pipeline_into(e, dest, discover):
    d = run("arc-discover", "binance", *discover, env=e)
    assert d.status == 0, d
    p = run("arc-plan", "--dest", dest, input=d.stdout, env=e)
    assert p.status == 0, p
    return p, run("arc-collect", "-j", "16", input=p.stdout, env=e)


def test_pipeline_into_s3_stores_verified_objects(mirror, env, s3env, bucket, seaweed):
    """Every archive lands at its key with the bytes of the mirror and its SHA-256 as
    x-amz-meta-sha256, the ledger holds it at its s3:// dest, and a second run plans nothing."""
    e = both(env, s3env)
    plan, c = pipeline_into(e, f"s3://{bucket}/binance", KLINES)
    assert c.status == 0, c
    results = c.records
    assert results and all(r["status"] == "ok" and r["verified"] for r in results)
    s3 = seaweed.client()
    for r in results:
        assert r["dest"].startswith(f"s3://{bucket}/binance/data/futures/um/")
        key = r["dest"][len(f"s3://{bucket}/"):]
        body = s3.get(bucket, key)
        assert body == mirror.path(r["key"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == r["sha256"]
    head = aws(s3env, "s3api", "head-object", "--bucket", bucket, "--key", results[0]["dest"].split("/", 3)[3])
    assert head["Metadata"]["sha256"] == results[0]["sha256"]
    assert head["ContentType"] == "application/zip"
    held = ledger(e)
    assert all(held[r["dest"]]["status"] == "ok" for r in results)
    again = run("arc-plan", "--dest", f"s3://{bucket}/binance",
                input=run("arc-discover", "binance", *KLINES, env=e).stdout, env=e)
    assert again.status == 0 and again.records == [], again


def test_checksum_mismatch_stores_nothing_in_s3(mirror, env, s3env, bucket, seaweed):
    """The mirror's corrupted archive (its CHECKSUM says otherwise) fails with
    checksum_mismatch and no object appears at its key; the others are stored."""
    e = both(env, s3env)
    _, c = pipeline_into(e, f"s3://{bucket}/lake", TRADES)
    assert c.status == 1, c
    failed = [r for r in c.records if r["status"] == "failed"]
    assert failed and all(r["error"]["code"] == "checksum_mismatch" for r in failed)
    keys = set(seaweed.client().keys(bucket))
    for r in failed:
        assert r["dest"].split("/", 3)[3] not in keys
    assert len(keys) == len(c.records) - len(failed)


def big_archive(mirror, key, size, checksum=None):
    """A large archive in the mirror with its CHECKSUM file; returns (bytes, sha256)."""
    data = os.urandom(size)
    path = mirror.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    (path.parent / (path.name + ".CHECKSUM")).write_text(f"{checksum or sha}  {path.name}\n")
    return data, sha


def task_for(mirror, key, size, dest):
    return {"url": f"{mirror.url}/{key}", "checksum_url": f"{mirror.url}/{key}.CHECKSUM", "key": key,
            "size": size, "dest": dest, "task_id": "t-" + key[-8:], "reason": "new"}


def test_large_archive_goes_in_parts_and_a_bad_one_is_aborted(mirror, env, s3env, bucket, seaweed):
    """An archive larger than one part (8 MiB) streams into a multipart upload, completed
    only when its SHA-256 matches; with a wrong CHECKSUM the upload is aborted: no object,
    and no multipart upload left behind."""
    e = both(env, s3env)
    size = 20 * 1024 * 1024 + 123
    good, sha = big_archive(mirror, "data/spot/monthly/trades/BIGUSDT/BIGUSDT-trades-2024-01.zip", size)
    _, _ = big_archive(mirror, "data/spot/monthly/trades/BADUSDT/BADUSDT-trades-2024-01.zip", size, checksum="0" * 64)
    tasks = [task_for(mirror, "data/spot/monthly/trades/BIGUSDT/BIGUSDT-trades-2024-01.zip", size, f"s3://{bucket}/big.zip"),
             task_for(mirror, "data/spot/monthly/trades/BADUSDT/BADUSDT-trades-2024-01.zip", size, f"s3://{bucket}/bad.zip")]
    c = run("arc-collect", input=tasks, env=e)
    assert c.status == 1, c
    by_dest = {r["dest"]: r for r in c.records}
    ok = by_dest[f"s3://{bucket}/big.zip"]
    assert ok["status"] == "ok" and ok["verified"] and ok["sha256"] == sha and ok["bytes"] == size
    assert by_dest[f"s3://{bucket}/bad.zip"]["error"]["code"] == "checksum_mismatch"
    s3 = seaweed.client()
    assert s3.get(bucket, "big.zip") == good
    assert s3.keys(bucket) == ["big.zip"]
    uploads = aws(s3env, "s3api", "list-multipart-uploads", "--bucket", bucket) or {}
    assert not uploads.get("Uploads"), uploads
    head = aws(s3env, "s3api", "head-object", "--bucket", bucket, "--key", "big.zip")
    assert head["Metadata"]["sha256"] == sha and head["ETag"].strip('"').endswith("-3")


def test_bad_copies_on_the_way_to_s3_are_fetched_again(mirror, env, s3env, bucket, seaweed):
    """A proxy flips a byte in the first GET of every zip (the first part of a large one):
    each archive is fetched again and stored verified, in one PUT or in parts; a large one
    whose CHECKSUM is really wrong fails after two downloads agree, its uploads aborted."""
    size = 9 * 1024 * 1024 + 7
    big_key, bad_key = "data/spot/monthly/trades/BIGUSDT/BIGUSDT-trades-2024-01.zip", "data/spot/monthly/trades/BADUSDT/BADUSDT-trades-2024-01.zip"
    big, big_sha = big_archive(mirror, big_key, size)
    big_archive(mirror, bad_key, size, checksum="0" * 64)
    with FaultProxy(mirror.url, rate=0, flip_first=".zip") as proxy:
        e = dict(both(env, s3env), ARC_BINANCE_DOWNLOAD_URL=f"{proxy.url}/{BUCKET}")
        plan = run("arc-plan", "--dest", f"s3://{bucket}/lake", input=run("arc-discover", "binance", *KLINES, env=e).stdout, env=e)
        proxied = type("Proxied", (), {"url": f"{proxy.url}/{BUCKET}"})       # task_for needs only .url
        tasks = plan.records + [task_for(proxied, big_key, size, f"s3://{bucket}/big.zip"),
                                task_for(proxied, bad_key, size, f"s3://{bucket}/bad.zip")]
        c = run("arc-collect", "--retry-delay", "10ms", input=tasks, env=e)
    assert c.status == 1, c
    by_dest = {r["dest"]: r for r in c.records}
    bad = by_dest.pop(f"s3://{bucket}/bad.zip")
    assert bad["status"] == "failed" and bad["error"]["code"] == "checksum_mismatch"
    assert "the same in two downloads" in bad["error"]["message"]
    s3 = seaweed.client()
    for dest, r in by_dest.items():
        assert r["status"] == "ok" and r["verified"], r
        assert s3.get(bucket, dest.split("/", 3)[3]) == (big if r["key"] == big_key else mirror.path(r["key"]).read_bytes())
    assert by_dest[f"s3://{bucket}/big.zip"]["sha256"] == big_sha
    assert f"s3://{bucket}/bad.zip".split("/", 3)[3] not in s3.keys(bucket)
    uploads = aws(s3env, "s3api", "list-multipart-uploads", "--bucket", bucket) or {}
    assert not uploads.get("Uploads"), uploads
    assert all(proxy.damaged(f"/{BUCKET}/{t['key']}") == ["flip"] for t in tasks)


def test_arc_collect_with_wrong_credentials_fails_clearly(mirror, env, s3env, bucket):
    """Refused credentials: every task fails with credentials_rejected, nothing is recorded."""
    e = both(env, s3env)
    e["AWS_SECRET_ACCESS_KEY"] = "wrong"
    _, c = pipeline_into(e, f"s3://{bucket}/x", KLINES)
    assert c.status == 1, c
    assert {r["error"]["code"] for r in c.records} == {"credentials_rejected"}
    assert all(row["status"] == "failed" for row in ledger(e).values())


def start(args, env, cwd=None):
    return subprocess.Popen([tool("s3x"), *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_interrupted_multipart_upload_resumes(s3env, bucket, seaweed, tmp_path):
    """Ctrl-C during a slow multipart upload exits 130 with nothing at the key; the next run
    finds the upload, keeps the parts already sent (their MD5s match) and sends the rest."""
    data = os.urandom(30 * 1024 * 1024)
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    p = start(["--bwlimit", "4M", "cp", "-p", "5", "-c", "1", str(f), f"s3://{bucket}/big.bin"], s3env)
    s3 = seaweed.client()
    # Interrupt once the server holds a whole part (5 MiB at 4 MB/s: about 1.3 s in).
    wait_for(lambda: any(s3.parts(bucket, key, upload) for key, upload in s3.uploads(bucket)),
             "a first part to be stored")
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert s3.keys(bucket) == []
    r = run("s3x", "cp", "-p", "5", str(f), f"s3://{bucket}/big.bin", env=s3env)
    assert r.status == 0, r
    resumed = [l for l in records(r.stderr) if "resuming" in l["msg"]]
    assert resumed and resumed[0]["parts_kept"] >= 1, r
    assert s3.get(bucket, "big.bin") == data


def test_interrupted_download_resumes_from_its_partial_file(s3env, bucket, seaweed, tmp_path):
    """SIGTERM mid-download exits 143 leaving only the hidden partial file; the next run
    continues from it (a Range request) and the file is byte-exact, with no partial left."""
    data = os.urandom(12 * 1024 * 1024)
    seaweed.client().put(bucket, "d.bin", data)
    out = tmp_path / "out"
    p = start(["--bwlimit", "3M", "cp", f"s3://{bucket}/d.bin", f"{out}/"], s3env)
    partial = out / ".d.bin.s3x-partial"
    wait_for(lambda: partial.exists() and partial.stat().st_size >= 1 << 20, "a MiB in the partial file")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=30)
    assert p.returncode == 143
    assert not (out / "d.bin").exists()
    assert 0 < partial.stat().st_size < len(data)
    r = run("s3x", "--stat", "cp", f"s3://{bucket}/d.bin", f"{out}/", env=s3env)
    assert r.status == 0, r
    assert (out / "d.bin").read_bytes() == data
    assert sorted(os.listdir(out)) == ["d.bin"]


MiB = 1024 * 1024


def put_multipart(s3env, bucket, key, data, tmp_path, uploader="s3x"):
    """Stores `data` in 5 MiB parts: its ETag ends in -N. s3x's upload leaves a CRC-32C of
    the whole object with it; s5cmd's leaves only the MD5s of the parts (in the ETag)."""
    f = tmp_path / ("src-" + key)
    f.write_bytes(data)
    if uploader == "s5cmd":
        s5cmd(s3env, "cp", "-p", "5", str(f), f"s3://{bucket}/{key}")
    else:
        r = run("s3x", "cp", "-p", "5", str(f), f"s3://{bucket}/{key}", env=s3env)
        assert r.status == 0, r
    return aws(s3env, "s3api", "head-object", "--bucket", bucket, "--key", key)["ETag"].strip('"')


def kill_mid_ranged_download(s3env, bucket, key, out, ranges):
    """Starts a slow ranged download (5 MiB ranges, two at once) and SIGKILLs it once
    `ranges` ranges are recorded complete in the journal beside the partial file."""
    p = start(["--bwlimit", "8M", "cp", "-p", "5", "-c", "2", f"s3://{bucket}/{key}", f"{out}/"], s3env)
    journal = out / f".{key}.s3x-partial.ranges"
    wait_for(lambda: journal.exists() and len(journal.read_text().splitlines()) > ranges,
             f"{ranges} ranges recorded", timeout=60)
    p.kill()
    p.communicate(timeout=30)
    assert p.returncode == -signal.SIGKILL
    assert not (out / key).exists()
    return journal


@pytest.mark.parametrize("uploader,hashed", [("s3x", "crc32c"), ("s5cmd", "md5")])
def test_killed_multipart_download_resumes_from_its_recorded_ranges(s3env, bucket, seaweed, tmp_path, uploader, hashed):
    """kill -9 mid-way through a multipart object's ranged download leaves the partial file
    and its journal of complete ranges; the next run checks those ranges against their
    recorded hashes (the CRC-32C the store keeps, else the parts' MD5s), fetches only the
    others, and the file is byte-exact, with nothing left beside it."""
    data = os.urandom(40 * MiB)
    etag = put_multipart(s3env, bucket, "m.bin", data, tmp_path, uploader)
    assert etag.endswith("-8"), etag
    out = tmp_path / "out"
    journal = kill_mid_ranged_download(s3env, bucket, "m.bin", out, ranges=2)
    kept = len(journal.read_text().splitlines()) - 1
    header = f"s3x-ranges 1 {len(data)} {5 * MiB} {etag}" + (" crc32c" if hashed == "crc32c" else "")
    assert journal.read_text().splitlines()[0] == header
    # Whole lines only: the kill may have torn the last one.
    ranges = [line.split() for line in journal.read_text().splitlines()[1:] if len(line.split()) == 2]
    assert ranges and all(len(digest) == (8 if hashed == "crc32c" else 32) for _, digest in ranges)
    r = run("s3x", "--log", "info", "cp", "-p", "5", f"s3://{bucket}/m.bin", f"{out}/", env=s3env)
    assert r.status == 0, r
    resumed = [l for l in records(r.stderr) if l["msg"].startswith("resuming the download")]
    assert resumed, r
    assert resumed[0]["ranges_kept"] >= kept >= 2 and resumed[0]["bytes_kept"] == resumed[0]["ranges_kept"] * 5 * MiB
    assert hashlib.md5((out / "m.bin").read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    assert sorted(os.listdir(out)) == ["m.bin"]


def test_killed_multipart_download_of_a_changed_object_starts_over(s3env, bucket, seaweed, tmp_path):
    """The object replaced (another ETag) between the killed run and the next: the recorded
    ranges belong to the old one, so the next run fetches everything and gets the new bytes."""
    put_multipart(s3env, bucket, "c.bin", os.urandom(30 * MiB), tmp_path)
    out = tmp_path / "out"
    kill_mid_ranged_download(s3env, bucket, "c.bin", out, ranges=1)
    data = os.urandom(30 * MiB)
    put_multipart(s3env, bucket, "c.bin", data, tmp_path)
    r = run("s3x", "--log", "info", "cp", "-p", "5", f"s3://{bucket}/c.bin", f"{out}/", env=s3env)
    assert r.status == 0, r
    assert not [l for l in records(r.stderr) if l["msg"].startswith("resuming")], r
    assert (out / "c.bin").read_bytes() == data
    assert sorted(os.listdir(out)) == ["c.bin"]


def interrupt_multipart_upload(s3env, bucket, seaweed, f, key):
    """Ctrl-C once SeaweedFS holds a 5 MiB part of a slow upload: the upload is left."""
    p = start(["--bwlimit", "4M", "cp", "-p", "5", "-c", "1", str(f), f"s3://{bucket}/{key}"], s3env)
    s3 = seaweed.client()
    wait_for(lambda: any(s3.parts(bucket, k, u) for k, u in s3.uploads(bucket) if k == key), "a first part to be stored")
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    assert p.returncode == 130
    return [u for k, u in s3.uploads(bucket) if k == key]


def test_rerun_with_another_part_size_aborts_the_upload_it_cannot_resume(s3env, bucket, seaweed, tmp_path):
    """An upload left in 5 MiB parts cannot take 6 MiB ones: the rerun aborts it and starts
    its own, so once complete no upload is left in progress (none billed for nothing)."""
    data = os.urandom(30 * MiB)
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    left = interrupt_multipart_upload(s3env, bucket, seaweed, f, "big.bin")
    assert len(left) == 1
    r = run("s3x", "--log", "info", "cp", "-p", "6", str(f), f"s3://{bucket}/big.bin", env=s3env)
    assert r.status == 0, r
    aborted = [l for l in records(r.stderr) if l["msg"].startswith("aborting a multipart upload")]
    assert [l["upload_id"] for l in aborted] == left, r
    s3 = seaweed.client()
    assert s3.uploads(bucket) == []
    assert s3.get(bucket, "big.bin") == data


def test_uploads_lists_and_aborts_what_interrupted_runs_left(s3env, bucket, seaweed, tmp_path):
    """`s3x uploads` lists the uploads in progress under a prefix (text and --json);
    --older-than spares the recent ones, and --abort --older-than 0s aborts them all, each
    an `abort` event; other prefixes are not touched."""
    s3 = seaweed.client()
    left = {}
    for key in ["logs/a.bin", "logs/b.bin", "keep/c.bin"]:
        f = tmp_path / key.replace("/", "-")
        f.write_bytes(os.urandom(12 * MiB))
        left[key] = interrupt_multipart_upload(s3env, bucket, seaweed, f, key)[0]
    r = run("s3x", "uploads", f"s3://{bucket}/logs/", env=s3env)
    assert r.status == 0, r
    lines = r.stdout.splitlines()
    assert sorted((l.split()[-2:] for l in lines), key=lambda u: u[1]) == [[left["logs/a.bin"], "logs/a.bin"], [left["logs/b.bin"], "logs/b.bin"]], r
    assert all(len(l.split()) == 4 for l in lines), r  # date, time, upload id, key
    r = run("s3x", "--json", "uploads", f"s3://{bucket}/*/b.bin", env=s3env)
    assert r.status == 0, r
    assert [(u["type"], u["url"], u["upload_id"]) for u in r.records] == [("upload", f"s3://{bucket}/logs/b.bin", left["logs/b.bin"])]
    assert r.records[0]["initiated"].endswith("Z")

    r = run("s3x", "--json", "uploads", "--abort", "--older-than", "7d", f"s3://{bucket}/logs/", env=s3env)
    assert r.status == 0 and r.records == [], r
    assert len(s3.uploads(bucket)) == 3
    r = run("s3x", "--json", "--dry-run", "uploads", "--abort", "--older-than", "0s", f"s3://{bucket}/logs/", env=s3env)
    assert r.status == 0 and [e["dry_run"] for e in r.records] == [True, True], r
    assert len(s3.uploads(bucket)) == 3
    r = run("s3x", "--json", "uploads", "--abort", "--older-than", "0s", f"s3://{bucket}/logs/", env=s3env)
    assert r.status == 0, r
    assert sorted((e["operation"], e["source"], e["status"]) for e in r.records) == [
        ("abort", f"s3://{bucket}/logs/a.bin", "ok"), ("abort", f"s3://{bucket}/logs/b.bin", "ok")]
    assert s3.uploads(bucket) == [("keep/c.bin", left["keep/c.bin"])]
    r = run("s3x", "uploads", f"s3://{bucket}/logs/", env=s3env)
    assert r.status == 0 and r.stdout == "", r


def test_server_stopped_mid_run(tmp_path):
    """SeaweedFS killed while s3x uploads 300 files: s3x does not hang, exits non-zero with
    the failures reported, and no object it reported done is missing afterwards."""
    s = SeaweedFS(tmp_path / "sw")
    s.start()
    try:
        e = s.env(tmp_path / "home")
        s.client().create_bucket("stop")
        src = tmp_path / "src"
        src.mkdir()
        for i in range(300):
            (src / f"f{i:03d}").write_bytes(os.urandom(20000))
        p = start(["--json", "--retry-count", "1", "--bwlimit", "1M", "cp", f"{src}/", "s3://stop/p/"], e)
        client = s.client()
        wait_for(lambda: len(client.keys("stop")) >= 10, "ten objects stored")
        s.stop()
        out, err = p.communicate(timeout=120)
        assert p.returncode in (1, 3), err
        events = records(out)
        assert any(ev["status"] == "failed" for ev in events)
        done = [ev["destination"] for ev in events if ev["status"] == "ok"]
        s.start()
        keys = set(s.client().keys("stop"))
        assert all(d[len("s3://stop/"):] in keys for d in done)
    finally:
        s.stop()


def test_ctrl_c_stops_objects_from_starting(s3env, bucket, seaweed, tmp_path):
    """SIGINT in the middle of a cp of 200 files: the objects in flight end cancelled, the
    ones waiting for a slot never start (no failed event, no error line each), exit 130,
    and a second run copies what is left."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(200):
        (src / f"f{i:03d}").write_bytes(os.urandom(50_000))
    p = start(["--json", "--numworkers", "4", "--bwlimit", "400K", "cp", f"{src}/", f"s3://{bucket}/c/"], s3env)
    client = seaweed.client()
    wait_for(lambda: len(client.keys(bucket, "c/")) >= 5, "five objects stored")
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    events = records(out)
    failed = [e for e in events if e["status"] == "failed"]
    assert len(failed) <= 4, f"{len(failed)} objects reported failed: only those in flight may be"
    assert all(e["error_code"] == "interrupted" for e in failed)
    assert len([l for l in records(err) if l["level"] == "error"]) <= 4
    r = run("s3x", "--json", "cp", "-n", f"{src}/", f"s3://{bucket}/c/", env=s3env)
    assert r.status == 0, r
    assert len(client.keys(bucket, "c/")) == 200
