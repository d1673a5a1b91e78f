"""arc-plan: tasks against the ledger, layouts, --prefer-monthly, --gaps, bad input."""
import json

from conftest import run


def archives(env, *args):
    r = run("arc-discover", "binance", *args, env=env)
    assert r.status == 0, r
    return r.stdout


def test_layout_places_archives_and_unknown_fields_pass_through(mirror, env, tmp_path):
    listing = archives(env, "--market", "um", "--type", "klines", "--symbol", "BTCUSDT", "--period", "daily")
    tagged = "".join(json.dumps(dict(json.loads(l), batch="b1")) + "\n" for l in listing.splitlines())
    p = run("arc-plan", "--dest", str(tmp_path / "lake"), "--layout",
            "type={type}/symbol={symbol}/{interval}/date={date}/{file}", input=tagged, env=env)
    assert p.status == 0, p
    [t, *_] = p.records
    assert t["dest"] == str(tmp_path / "lake" / "type=klines/symbol=BTCUSDT/1m/date=2024-01-01/BTCUSDT-1m-2024-01-01.zip")
    assert t["batch"] == "b1" and t["reason"] == "new" and len(t["task_id"]) == 16


def test_interval_placeholder_of_a_type_without_intervals_collapses(mirror, env, tmp_path):
    listing = archives(env, "--market", "um", "--type", "bookDepth")
    p = run("arc-plan", "--dest", "rel", "--layout", "{symbol}/{interval}/{file}", input=listing, env=env)
    assert p.status == 0, p
    assert all(t["dest"].endswith(f"/rel/ETHUSDT/{t['key'].split('/')[-1]}") for t in p.records)
    assert all(t["dest"].startswith("/") for t in p.records)  # destinations are absolute


def test_task_ids_are_stable_and_held_archives_are_not_planned(mirror, env, tmp_path):
    listing = archives(env, "--market", "option")
    dest = str(tmp_path / "data")
    first = run("arc-plan", "--dest", dest, input=listing, env=env).records
    again = run("arc-plan", "--dest", dest, input=listing, env=env).records
    assert [t["task_id"] for t in first] == [t["task_id"] for t in again]
    c = run("arc-collect", input="".join(json.dumps(t) + "\n" for t in first), env=env)
    assert c.status == 0, c
    assert run("arc-plan", "--dest", dest, input=listing, env=env).records == []
    forced = run("arc-plan", "--dest", dest, "--force", input=listing, env=env).records
    assert [t["reason"] for t in forced] == ["forced", "forced"]


def test_prefer_monthly_skips_days_a_monthly_archive_covers(mirror, env, tmp_path):
    listing = archives(env, "--market", "spot", "--type", "klines", "--symbol", "BTCUSDT", "--interval", "1m")
    p = run("arc-plan", "--dest", str(tmp_path), "--prefer-monthly", input=listing, env=env)
    assert p.status == 0, p
    planned = sorted((t["period"], t["date"]) for t in p.records)
    months = [("monthly", f"{y}-{m:02d}") for y, ms in ((2022, range(6, 13)), (2023, range(1, 12))) for m in ms]
    assert planned == sorted(months + [("daily", "2023-12-01"), ("daily", "2023-12-02")])
    summary = p.logs[-1]
    assert summary["daily_covered_by_monthly"] == 548


def test_gaps_reports_missing_days_per_series(mirror, env):
    listing = archives(env, "--market", "um")
    g = run("arc-plan", "--gaps", input=listing, env=env)
    assert g.status == 0, g
    [gap] = g.records
    assert (gap["market"], gap["type"], gap["symbol"], gap["interval"], gap["period"]) == (
        "um", "klines", "ETHUSDT", "1m", "daily")
    assert gap["missing"] == [{"from": "2024-01-05", "to": "2024-01-05", "count": 1}]
    assert (gap["first"], gap["last"], gap["expected"], gap["present"]) == ("2024-01-01", "2024-01-10", 10, 9)


def test_bad_lines_are_reported_with_line_and_field_then_skipped(mirror, env, tmp_path):
    good = archives(env, "--market", "option").splitlines()
    lines = [good[0], "not json", '{"key": "a.zip"}', '{"url": "http://x/a.zip", "key": 5}', "", good[1]]
    p = run("arc-plan", "--dest", str(tmp_path), input="\n".join(lines) + "\n", env=env)
    assert p.status == 1
    assert len(p.records) == 2
    warnings = [l for l in p.logs if l["level"] == "warn"]
    assert [w["line"] for w in warnings] == [2, 3, 4]
    assert 'stdin:3: field "url"' in warnings[1]["msg"]
    assert 'stdin:4: field "key"' in warnings[2]["msg"]
    strict = run("arc-plan", "--dest", str(tmp_path), "--strict", input="\n".join(lines), env=env)
    assert strict.status == 2 and len(strict.records) <= 1
    assert "stdin:2" in strict.logs[-1]["msg"]


def test_empty_input_plans_nothing(env, tmp_path):
    r = run("arc-plan", "--dest", str(tmp_path), input="", env=env)
    assert r.status == 0 and r.stdout == ""


def test_bad_destinations_are_usage_errors(env):
    for dest in ("s3://lake/*", "ftp://host/x", "s3://"):
        r = run("arc-plan", "--dest", dest, input="", env=env)
        assert r.status == 2 and dest in r.stderr, (dest, r)
    assert run("arc-plan", input="", env=env).status == 2
    bad = run("arc-plan", "--dest", "x", "--layout", "{nope}/{file}", input="", env=env)
    assert bad.status == 2 and "{nope}" in bad.stderr


def test_s3_destination_plans_s3_dests(mirror, env):
    """--dest s3://bucket/prefix/ gives each task an s3:// dest under the prefix."""
    r = run("arc-plan", "--dest", "s3://lake/binance/", input=archives(env, "--market", "option"), env=env)
    assert r.status == 0 and len(r.records) == 2, r
    for t in r.records:
        assert t["dest"] == "s3://lake/binance/" + t["key"]


def test_input_files_as_arguments(mirror, env, tmp_path):
    f = tmp_path / "archives.ndjson"
    f.write_text(archives(env, "--market", "option"))
    r = run("arc-plan", "--dest", str(tmp_path / "d"), str(f), env=env)
    assert r.status == 0 and len(r.records) == 2
    missing = run("arc-plan", "--dest", str(tmp_path / "d"), str(tmp_path / "nope.ndjson"), env=env)
    assert missing.status == 3 and "nope.ndjson" in missing.stderr
