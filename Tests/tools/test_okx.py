"""arc-discover okx against OKX's manifest API as Tests/tools/okx_api.py plays it over
make-mirror.py --preset okx: calls cut to OKX's limits (5 instruments, 10 UTC+8 days),
the records (UTC+8 days, no exact size: checksum none), 50011 waited out, --incremental,
usage errors, an API error, and discover | plan | collect."""

import pytest

import mirror_okx
from conftest import run

SWAPS = mirror_okx.INSTRUMENTS["swap"]


@pytest.fixture
def oenv(tmp_path, okx_mirror):
    import os
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_")) and k != "TRACEPARENT"}
    e.update(ARC_STATE=str(tmp_path / "state.db"), ARC_LOG_FORMAT="json")
    return okx_mirror.env(e)


def discover(env, *args, status=0):
    r = run("arc-discover", "okx", "--rate", "1000", *args, env=env)
    assert r.status == status, r
    return r


def calls(mirror):
    return [q for _, _, q, _, _ in mirror.api.api_calls()]


def test_calls_keep_to_five_instruments_and_ten_days(okx_mirror, oenv):
    r = discover(oenv, "--symbol", ",".join(SWAPS), "--since", "2024-01-01", "--until", "2024-01-24", "-j", "4")
    assert okx_mirror.api.violations == []
    qs = calls(okx_mirror)
    # 6 instruments in batches of 5 and 1, 24 days in windows of 10, 10 and 4.
    assert len(qs) == 6
    covered = {}
    for q in qs:
        ids = q["instIdList"].split(",")
        days = (int(q["end"]) - int(q["begin"])) // 86_400_000 + 1
        assert len(ids) <= 5 and days <= 10, q
        assert q["module"] == "1" and q["instType"] == "SWAP" and q["dateAggrType"] == "daily"
        for i in ids:
            for d in range(days):
                covered.setdefault(i, []).append(int(q["begin"]) + d * 86_400_000)
    first = mirror_okx.day_start_ms("2024-01-01")
    for i in SWAPS:
        assert sorted(covered[i]) == [first + d * 86_400_000 for d in range(24)], i
    recs = r.records
    assert len(recs) == 6 * 24
    assert {(a["symbol"], a["date"]) for a in recs} == {(i, d) for i in SWAPS for d in mirror_okx.days()}


def test_record_names_the_utc8_day_and_carries_no_exact_size(okx_mirror, oenv):
    [a] = discover(oenv, "--symbol", "BTC-USDT", "--since", "2024-01-02", "--until", "2024-01-02").records
    key = mirror_okx.trades_key("BTC-USDT", "2024-01-02")
    path = okx_mirror.root / mirror_okx.HOST / key
    assert {k: a[k] for k in ("source", "market", "period", "type", "symbol", "date", "key", "url")} == {
        "source": "okx", "market": "spot", "period": "daily", "type": "trades", "symbol": "BTC-USDT",
        "date": "2024-01-02", "key": key, "url": f"{okx_mirror.api.url}/{key}"}
    assert a["day_timezone"] == "+08:00"
    assert a["size"] is None and a["checksum"] == {"kind": "none"}
    assert a["size_mb"] == f"{path.stat().st_size / 1048576:.2f}"
    assert a["size_approx_bytes"] == round(float(a["size_mb"]) * 1048576)
    [q] = calls(okx_mirror)
    # begin and end are the UTC+8 midnight of the day (16:00 UTC the day before).
    assert q["begin"] == q["end"] == str(mirror_okx.day_start_ms("2024-01-02")) == "1704124800000"


def test_markets_gaps_funding_and_download_url(okx_mirror, oenv):
    r = discover(oenv, "--symbol", "BTC-USDT,ETH-USDT,BTC-USD-240329,BTC-USDT-SWAP", "--since", "2024-01-01",
                 "--until", "2024-01-10")
    by = {}
    for a in r.records:
        by.setdefault((a["market"], a["symbol"]), []).append(a["date"])
    assert sorted(by) == [("futures", "BTC-USD-240329"), ("spot", "BTC-USDT"), ("spot", "ETH-USDT"),
                          ("swap", "BTC-USDT-SWAP")]
    assert "2024-01-05" not in by[("spot", "ETH-USDT")] and len(by[("spot", "ETH-USDT")]) == 9
    assert sorted(q["instType"] for q in calls(okx_mirror)) == ["FUTURES", "SPOT", "SWAP"]

    f = discover(oenv, "--type", "fundingRates", "--symbol", "BTC-USDT-SWAP,ETH-USDT-SWAP", "--since", "2024-01-03",
                 "--until", "2024-01-04", "--download-url", "http://mirror.example/okx/").records
    assert [(a["symbol"], a["type"], a["market"], a["date"]) for a in f] == [
        ("allswap", "fundingRates", "swap", "2024-01-03"), ("allswap", "fundingRates", "swap", "2024-01-04")]
    assert f[0]["url"] == "http://mirror.example/okx/" + mirror_okx.funding_key("2024-01-03")
    assert calls(okx_mirror)[-1]["module"] == "3"


@pytest.mark.parametrize("status", [429, 200])
def test_too_many_requests_is_waited_out_and_asked_again(okx_mirror, oenv, status):
    okx_mirror.api.throttle_first = 2
    okx_mirror.api.throttle_status = status
    r = discover(oenv, "--symbol", "BTC-USDT,ETH-USDT", "--since", "2024-01-01", "--until", "2024-01-20", "-j", "2")
    assert len(r.records) == 2 * 20 - 1
    answers = [code for *_, code in okx_mirror.api.api_calls()]
    assert answers.count("50011") == 2 and answers.count("0") == 2
    assert any(l.get("level") == "warn" for l in r.logs), r.stderr
    [summary] = [l for l in r.logs if l["msg"].startswith("listed")]
    assert summary["retries"] == 2 and summary["failed_requests"] == 0


def test_too_many_requests_for_good_fails_with_exit_3(okx_mirror, oenv):
    okx_mirror.api.throttle_first = 100
    r = discover(oenv, "--symbol", "BTC-USDT", "--since", "2024-01-01", "--until", "2024-01-02", "--retries", "2",
                 status=3)
    assert len(okx_mirror.api.api_calls()) == 2
    assert "50011" in r.stderr


def test_incremental_starts_after_the_last_day_listed(okx_mirror, oenv):
    args = ("--incremental", "--symbol", "BTC-USDT,BTC-USDT-SWAP")
    first = discover(oenv, *args, "--until", "2024-01-24").records
    assert len(first) == 48
    n = len(calls(okx_mirror))
    assert discover(oenv, *args, "--until", "2024-01-24").records == []
    assert len(calls(okx_mirror)) == n, "nothing to ask"
    mirror_okx.add_day(str(okx_mirror.root), "2024-01-25")
    new = discover(oenv, *args, "--until", "2024-01-26").records
    assert sorted((a["symbol"], a["date"]) for a in new) == [("BTC-USDT", "2024-01-25"), ("BTC-USDT-SWAP", "2024-01-25")]
    assert all(int(q["begin"]) == mirror_okx.day_start_ms("2024-01-25") for q in calls(okx_mirror)[n:])
    # A day asked but not yet published is asked again next time.
    mirror_okx.add_day(str(okx_mirror.root), "2024-01-26")
    assert len(discover(oenv, *args, "--until", "2024-01-26").records) == 2


@pytest.mark.parametrize("args", [
    [],
    ["--symbol", "BTC-*"],
    ["--symbol", "BTC-USD-240329-50000-C"],
    ["--symbol", "BTC-USDT", "--market", "swap"],
    ["--symbol", "BTC-USDT", "--type", "fundingRates"],
    ["--symbol", "BTC-USDT", "--type", "candles"],
    ["--symbol", "BTC-USDT", "--since", "2024-01-05", "--until", "2024-01-04"],
    ["--symbol", "BTC-USDT", "--rate", "0"],
    ["--symbol", "BTC-USDT", "--list-url", "ftp://x"],
    ["--symbol", "BTC-USDT", "--since", "yesterday"],
])
def test_bad_flags_exit_2_without_asking(okx_mirror, oenv, args):
    r = run("arc-discover", "okx", *args, env=oenv)
    assert r.status == 2, r
    assert okx_mirror.api.api_calls() == []


@pytest.mark.parametrize("code", ["51000", "50026"])
def test_an_api_error_is_one_clear_line_and_exit_3(okx_mirror, oenv, code):
    okx_mirror.api.fail_with = code
    r = discover(oenv, "--symbol", "BTC-USDT", "--since", "2024-01-01", "--until", "2024-01-02", status=3)
    errors = [l for l in r.logs if l["level"] == "error"]
    assert len(errors) == 1 and f"OKX API error {code}" in errors[0]["msg"], r.stderr
    assert r.stdout == ""


def test_discover_plan_collect_stores_the_files_verified_by_nothing(okx_mirror, oenv, tmp_path):
    d = discover(oenv, "--symbol", "BTC-USDT,ETH-USDT-SWAP", "--since", "2024-01-13", "--until", "2024-01-16")
    assert len(d.records) == 8
    dest = tmp_path / "data"
    p = run("arc-plan", "--dest", str(dest), input=d.stdout, env=oenv)
    assert p.status == 0, p
    c = run("arc-collect", "-j", "4", input=p.stdout, env=oenv)
    assert c.status == 0, c
    results = c.records
    assert len(results) == 8
    for res in results:
        assert res["status"] == "ok" and res["verification"] == "none" and res["verified"] is False, res
    stored = sorted(f for f in dest.rglob("*.zip"))
    assert len(stored) == 8
    import zipfile
    headers = set()
    for f in stored:
        src = okx_mirror.root / mirror_okx.HOST / "cdn/okex/traderecords/trades/daily" / f.name.rsplit("-trades-", 1)[1][:-4].replace("-", "") / f.name
        assert f.read_bytes() == src.read_bytes()
        with zipfile.ZipFile(f) as z:
            headers.add(z.read(z.namelist()[0]).decode().split("\n", 1)[0])
    assert headers == {mirror_okx.OLD_HEADER, mirror_okx.NEW_HEADER}

    # Only a hash could catch a file truncated at the source: OKX gives none, so
    # --require-checksum refuses these records rather than store them unverified.
    s = run("arc-collect", "--require-checksum", input=p.stdout, env=dict(oenv, ARC_STATE=str(tmp_path / "s2.db")))
    assert s.status == 1 and {r["error"]["code"] for r in s.records} == {"checksum_missing"}, s


def test_default_rate_keeps_under_okx_limit(okx_mirror, oenv):
    # OKX allows 5 calls per 2 s; arc asks 2 a second unless told otherwise. The server
    # answers 50011 past 4 calls within a second: none may come.
    okx_mirror.api.max_per_second = 4
    r = run("arc-discover", "okx", "--symbol", "BTC-USDT,BTC-USDT-SWAP", "--since", "2024-01-01", "--until", "2024-01-24",
            "--retries", "1", "-j", "8", env=oenv)
    assert r.status == 0, r
    answers = [code for *_, code in okx_mirror.api.api_calls()]
    assert answers == ["0"] * 6
