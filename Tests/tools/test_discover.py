"""arc-discover against the mirror: listing rules, filters, --list, --incremental, plugins."""
import os
import stat
import textwrap

from conftest import BUCKET, make_mirror, run
from faultproxy import FaultProxy


def discover(env, *args):
    r = run("arc-discover", "binance", *args, env=env)
    assert r.status == 0, r
    return r.records


def test_archive_record_has_every_contract_field(mirror, env):
    [a, *_] = discover(env, "--market", "cm", "--type", "klines", "--symbol", "BTCUSD_PERP", "--since", "2024-01-02",
                       "--until", "2024-01-02")
    key = "data/futures/cm/daily/klines/BTCUSD_PERP/1d/BTCUSD_PERP-1d-2024-01-02.zip"
    assert a["source"] == "binance" and a["market"] == "cm" and a["period"] == "daily"
    assert a["type"] == "klines" and a["symbol"] == "BTCUSD_PERP" and a["interval"] == "1d"
    assert a["date"] == "2024-01-02" and a["key"] == key
    assert a["url"] == f"{mirror.url}/{key}" and a["checksum_url"] == f"{mirror.url}/{key}.CHECKSUM"
    assert a["size"] == mirror.path(key).stat().st_size
    assert len(a["etag"]) == 32 and '"' not in a["etag"]
    assert a["last_modified"].endswith("Z") and len(a["last_modified"]) == 24


def test_folder_with_more_than_1000_keys_is_listed_to_the_end(mirror, env):
    got = discover(env, "--market", "spot", "--type", "klines", "--period", "daily", "--symbol", "BTCUSDT")
    dates = [a["date"] for a in got]
    assert len(got) == 550 and len(set(dates)) == 550
    assert min(dates) == "2022-06-01" and max(dates) == "2023-12-02"


def test_1m_never_matches_1mo(mirror, env):
    base = ["--market", "spot", "--type", "klines", "--period", "monthly", "--symbol", "BTCUSDT"]
    assert {a["interval"] for a in discover(env, *base, "--interval", "1m")} == {"1m"}
    assert len(discover(env, *base, "--interval", "1m")) == 18
    assert {a["interval"] for a in discover(env, *base, "--interval", "1mo")} == {"1mo"}
    both = discover(env, *base)
    assert len(both) == 36 and {a["interval"] for a in both} == {"1m", "1mo"}


def test_since_and_until_select_days_and_overlapping_months(mirror, env):
    base = ["--market", "spot", "--type", "klines", "--symbol", "BTCUSDT", "--interval", "1m"]
    days = discover(env, *base, "--period", "daily", "--since", "2023-06-15", "--until", "2023-06-20")
    assert [a["date"] for a in days] == [f"2023-06-{d}" for d in range(15, 21)]
    months = discover(env, *base, "--period", "monthly", "--since", "2023-06-15", "--until", "2023-08")
    assert [a["date"] for a in months] == ["2023-06", "2023-07", "2023-08"]


def test_every_market_and_symbol_globs(mirror, env):
    everything = discover(env)
    assert len(everything) == 616
    assert {a["market"] for a in everything} == {"spot", "um", "cm", "option"}
    usdt = discover(env, "--market", "spot", "--symbol", "*USDT")
    assert {a["symbol"] for a in usdt} == {"BTCUSDT", "XRPUSDT"}
    eth = discover(env, "--symbol", "ETH*")
    assert {(a["market"], a["symbol"]) for a in eth} == {("um", "ETHUSDT"), ("cm", "ETHUSD")}


def test_list_types_symbols_and_intervals_come_from_the_listing(mirror, env):
    types = discover(env, "--list", "types", "--market", "um")
    assert {(t["period"], t["type"]) for t in types} == {
        ("daily", "klines"), ("daily", "bookDepth"), ("monthly", "klines"), ("monthly", "fundingRate")}
    symbols = discover(env, "--list", "symbols", "--market", "spot")
    assert {s["symbol"]: s["types"] for s in symbols} == {
        "BTCUSDT": ["klines"], "XRPUSDT": ["aggTrades", "trades"]}
    intervals = discover(env, "--list", "intervals", "--market", "spot", "--type", "klines")
    assert {(i["period"], i["interval"]) for i in intervals} == {("daily", "1m"), ("monthly", "1m"), ("monthly", "1mo")}


def test_incremental_lists_only_what_is_new(mirror, env):
    args = ["--incremental", "--market", "um", "--type", "klines", "--symbol", "ETHUSDT", "--period", "daily"]
    assert len(discover(env, *args)) == 9
    assert discover(env, *args) == []
    make_mirror(mirror.root, "--add-day", "2024-01-11")
    assert [a["date"] for a in discover(env, *args)] == ["2024-01-11"]
    # Without --incremental, everything listed is there again.
    assert len(discover(env, *args[1:])) == 10


def test_incremental_does_not_skip_past_an_archive_without_checksum(mirror, env):
    args = ["--incremental", "--market", "spot", "--type", "aggTrades"]
    assert [a["date"] for a in discover(env, *args)] == ["2024-01-01", "2024-01-02"]
    # 2024-01-02 has no CHECKSUM yet: the next run lists it again.
    assert [a["date"] for a in discover(env, *args)] == ["2024-01-02"]


def test_dead_listing_server_exits_3(mirror, env):
    mirror.stop()
    r = run("arc-discover", "binance", "--market", "option", "--retries", "1", env=env)
    assert r.status == 3, r
    assert r.stdout == ""
    assert any(l["level"] == "error" and "listing" in l["msg"] for l in r.logs)


def test_listing_retries_are_warnings_and_listings_that_fail_for_good_errors(mirror, env):
    """Through a proxy that answers some listing requests with 5xx, 403 pages or resets, the
    retries are warnings and the listing is complete; when every answer is a 5xx, each folder
    that could not be listed is one error line, after its warnings."""
    direct = discover(env, "--market", "um")
    with FaultProxy(mirror.url, seed=5, rate=0.3, kinds=("5xx", "403", "reset")) as proxy:
        r = run("arc-discover", "binance", "--market", "um", "--retries", "8",
                env=dict(env, ARC_BINANCE_LIST_URL=f"{proxy.url}/{BUCKET}"))
    assert r.status == 0, r
    assert sorted(r.records, key=lambda a: a["key"]) == sorted(direct, key=lambda a: a["key"])
    warnings = [l for l in r.logs if l["level"] == "warn"]
    # (libcurl itself sends a request again when a reused connection turns out dead.)
    assert len(warnings) == r.logs[-1]["retries"] > 0 and len(warnings) <= sum(proxy.applied.values()), r.stderr
    assert {l["code"] for l in warnings} <= {"server_error", "forbidden", "connection_lost", "network_error"}
    assert all(l["max_attempts"] == 8 and l["url"].startswith(proxy.url) for l in warnings)
    assert [l for l in r.logs if l["level"] == "error"] == []

    with FaultProxy(mirror.url, rate=1, kinds=("5xx",)) as proxy:
        r = run("arc-discover", "binance", "--market", "option", "--retries", "2",
                env=dict(env, ARC_BINANCE_LIST_URL=f"{proxy.url}/{BUCKET}"))
    assert r.status != 0 and r.stdout == "", r
    errors = [l for l in r.logs if l["level"] == "error"]
    retries = [l for l in r.logs if l["level"] == "warn"]
    assert errors and all(l["code"] == "server_error" and l["msg"].startswith("listing ") for l in errors)
    assert [l["attempt"] for l in retries] == [1] * len(errors) and len(errors) == sum(proxy.requests.values()) // 2


def test_bad_filters_are_usage_errors(mirror, env):
    for args in (["--market", "futures"], ["--since", "2024-13-01"], ["--type", "nope"],
                 ["--since", "2024-02-01", "--until", "2024-01-01"], ["--jobs", "0"]):
        r = run("arc-discover", "binance", *args, env=env)
        assert r.status == 2, (args, r)
        assert r.stdout == ""
        [log] = r.logs
        assert log["level"] == "error"


PLUGIN = textwrap.dedent("""\
    #!/usr/bin/env python3
    # A source plugin in another language: archive records on stdout.
    import json, os, sys
    base = os.environ["DEMO_BASE"]
    args = sys.argv[1:]
    assert args == ["--pair", "XRPUSDT"], args
    for day in ("2024-01-01", "2024-01-03"):
        key = f"data/spot/daily/trades/XRPUSDT/XRPUSDT-trades-{day}.zip"
        print(json.dumps({"source": "demo", "market": "spot", "period": "daily", "type": "trades",
                          "symbol": "XRPUSDT", "date": day, "key": key, "url": f"{base}/{key}",
                          "checksum_url": f"{base}/{key}.CHECKSUM", "tag": "from-plugin"}))
    if os.environ.get("DEMO_GARBAGE"):
        print("this is not json")
    sys.exit(int(os.environ.get("DEMO_EXIT", "0")))
    """)


def install_plugin(tmp_path, env):
    bindir = tmp_path / "plugins"
    bindir.mkdir()
    plugin = bindir / "arc-source-demo"
    plugin.write_text(PLUGIN)
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    env = dict(env, PATH=f"{bindir}:{os.environ['PATH']}", DEMO_BASE=env["ARC_BINANCE_DOWNLOAD_URL"])
    return env


def test_plugin_source_runs_through_the_pipeline(mirror, env, tmp_path):
    env = install_plugin(tmp_path, env)
    d = run("arc-discover", "demo", "--pair", "XRPUSDT", env=env)
    assert d.status == 0, d
    assert [a["date"] for a in d.records] == ["2024-01-01", "2024-01-03"]
    p = run("arc-plan", "--dest", str(tmp_path / "data"), input=d.stdout, env=env)
    c = run("arc-collect", input=p.stdout, env=env)
    assert c.status == 0, c
    assert all(r["status"] == "ok" and r["verified"] and r["tag"] == "from-plugin" for r in c.records)


def test_plugin_garbage_is_reported_and_its_exit_status_kept(mirror, env, tmp_path):
    env = install_plugin(tmp_path, env)
    r = run("arc-discover", "demo", "--pair", "XRPUSDT", env=dict(env, DEMO_GARBAGE="1"))
    assert r.status == 1 and len(r.records) == 2
    assert any("arc-source-demo:3" in l["msg"] for l in r.logs), r.stderr
    strict = run("arc-discover", "--strict", "demo", "--pair", "XRPUSDT", env=dict(env, DEMO_GARBAGE="1"))
    assert strict.status == 2
    failing = run("arc-discover", "demo", "--pair", "XRPUSDT", env=dict(env, DEMO_EXIT="3"))
    assert failing.status == 3 and len(failing.records) == 2


def test_unknown_source_is_a_usage_error(env):
    r = run("arc-discover", "nosuchsource", env=env)
    assert r.status == 2
    assert "arc-source-nosuchsource" in r.stderr
