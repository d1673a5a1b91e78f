"""arc-plan --shard K/N and --shard auto: N shards of one listing partition its plan exactly."""
import json

import pytest

from conftest import run

ENGINE_VARS = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
               "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "ARC_SHARD_COUNT")


@pytest.fixture
def clean_env(env):
    """The tools' environment with no job engine's variables from the machine running the tests."""
    return {k: v for k, v in env.items() if k not in ENGINE_VARS}


@pytest.fixture
def listing(clean_env):
    r = run("arc-discover", "binance", env=clean_env)
    assert r.status == 0, r
    assert len(r.records) > 500
    return r.stdout


def stable_hash(text):
    """ArcCore's StableHash, written again from its definition: the shards must not depend
    on anything but the key."""
    mask = (1 << 64) - 1
    state = 0x9E3779B97F4A7C15

    def mix(s, word):
        s = ((s ^ word) * 0xBF58476D1CE4E5B9) & mask
        return s ^ (s >> 31)
    data = text.encode()
    whole = len(data) // 8 * 8
    for i in range(0, whole, 8):
        state = mix(state, int.from_bytes(data[i:i + 8], "little"))
    state = mix(state, int.from_bytes(data[whole:], "little") ^ ((len(data) << 56) & mask))
    z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def shard_of(key, n):
    return (stable_hash(key) * n) >> 64


def plan(env, listing, dest, *args):
    p = run("arc-plan", "--dest", str(dest), *args, input=listing, env=env)
    assert p.status == 0, p
    return p


@pytest.mark.parametrize("n", [1, 3, 7])
def test_shards_partition_the_plan_exactly(mirror, clean_env, listing, tmp_path, n):
    whole = plan(clean_env, listing, tmp_path / "data").records
    ids = [t["task_id"] for t in whole]
    assert len(set(ids)) == len(ids) > 500

    shards = []
    for k in range(n):
        p = plan(clean_env, listing, tmp_path / "data", "--shard", f"{k}/{n}")
        [kept] = [l for l in p.logs if l["msg"].startswith(f"shard {k}/{n} kept")]
        assert kept["kept"] == len(p.records) and kept["archives"] == len(listing.splitlines())
        assert all(shard_of(t["key"], n) == k for t in p.records)
        shards.append(p.records)

    # Every task in exactly one shard, and the same task (id, dest, reason) as unsharded.
    seen = {}
    for k, tasks in enumerate(shards):
        for t in tasks:
            assert t["task_id"] not in seen, f"{t['key']} in shards {seen[t['task_id']]} and {k}"
            seen[t["task_id"]] = k
    assert sorted(json.dumps(t, sort_keys=True) for s in shards for t in s) == \
        sorted(json.dumps(t, sort_keys=True) for t in whole)
    if n > 1:
        assert all(0 < len(s) < len(whole) for s in shards), [len(s) for s in shards]


def test_shards_do_not_depend_on_dest_order_or_the_mirrors_address(mirror, clean_env, listing, tmp_path):
    def keys(text, dest, k):
        return sorted(t["key"] for t in plan(clean_env, text, dest, "--shard", f"{k}/3").records)
    lines = listing.splitlines(keepends=True)
    shuffled = "".join(lines[1::2] + lines[0::2])
    moved = "".join(l.replace(mirror.url, "http://elsewhere.invalid:1") for l in lines)
    for k in range(3):
        here = keys(listing, tmp_path / "a", k)
        assert here == keys(shuffled, tmp_path / "a", k) == keys(moved, "s3://lake/other", k)


def test_prefer_monthly_sees_the_whole_listing_in_every_shard(mirror, clean_env, listing, tmp_path):
    whole = plan(clean_env, listing, tmp_path, "--prefer-monthly").records
    parts = [t for k in range(3) for t in plan(clean_env, listing, tmp_path, "--prefer-monthly",
                                                "--shard", f"{k}/3").records]
    assert sorted(t["task_id"] for t in parts) == sorted(t["task_id"] for t in whole)


def test_a_shard_collected_is_held_for_the_full_plan(mirror, clean_env, listing, tmp_path):
    listing = "".join(l for l in listing.splitlines(keepends=True) if '"market":"option"' in l or '"um"' in l)
    dest = tmp_path / "data"
    mine = plan(clean_env, listing, dest, "--shard", "1/2").records
    c = run("arc-collect", input=mine, env=clean_env)
    assert c.status in (0, 1), c
    done = {r["key"] for r in c.records if r["status"] == "ok"}
    assert done
    left = {t["key"] for t in plan(clean_env, listing, dest).records}
    assert not (left & done)
    assert {t["key"] for t in plan(clean_env, listing, dest, "--shard", "0/2").records} <= left


@pytest.mark.parametrize("engine", [
    {"SLURM_ARRAY_TASK_ID": "{k}", "SLURM_ARRAY_TASK_COUNT": "3"},
    {"SLURM_ARRAY_TASK_ID": "{k1}", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1",
     "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_STEP": "1"},
    {"JOB_COMPLETION_INDEX": "{k}", "ARC_SHARD_COUNT": "3"},
])
def test_shard_auto_reads_the_job_engine(mirror, clean_env, listing, tmp_path, engine):
    for k in range(3):
        env = dict(clean_env, **{name: v.format(k=k, k1=k + 1) for name, v in engine.items()})
        auto = plan(env, listing, tmp_path, "--shard", "auto")
        assert auto.records == plan(clean_env, listing, tmp_path, "--shard", f"{k}/3").records
        assert any(l["msg"] == f"shard {k}/3 kept {len(auto.records)} of {len(listing.splitlines())} archives"
                   for l in auto.logs)


@pytest.mark.parametrize("shard, engine, says", [
    ("3/3", {}, "--shard 3/3: K must be from 0 to 2"),
    ("0/0", {}, "--shard 0/0: N must be at least 1"),
    ("1of3", {}, "expected K/N"),
    ("-1/3", {}, "expected K/N"),
    ("auto", {}, "set SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT"),
    ("auto", {"SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_COUNT": "8"}, "gives shard 8 of 8"),
    ("auto", {"SLURM_ARRAY_TASK_ID": "one", "SLURM_ARRAY_TASK_COUNT": "8"}, "SLURM_ARRAY_TASK_ID=one"),
    ("auto", {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "0"}, "gives shard 0 of 0"),
    ("auto", {"JOB_COMPLETION_INDEX": "2"}, "ARC_SHARD_COUNT is not"),
    ("auto", {"JOB_COMPLETION_INDEX": "2", "ARC_SHARD_COUNT": "x"}, "ARC_SHARD_COUNT=x"),
])
def test_bad_shards_are_usage_errors_with_nothing_done(mirror, clean_env, listing, tmp_path, shard, engine, says):
    p = run("arc-plan", "--dest", str(tmp_path / "data"), "--shard", shard, input=listing,
            env=dict(clean_env, **engine))
    assert p.status == 2, p
    assert p.stdout == ""
    [line] = p.stderr.splitlines()
    assert says in json.loads(line)["msg"], line
    assert not (tmp_path / "state").exists()  # no state database opened


def test_gaps_refuses_a_shard(mirror, clean_env, listing):
    g = run("arc-plan", "--gaps", "--shard", "0/2", input=listing, env=clean_env)
    assert g.status == 2 and g.stdout == ""
    assert "--gaps" in g.logs[-1]["msg"]
