"""arc-discover kucoin against KuCoin's tree (make-mirror.py --preset kucoin, served by
rclone serve s3): the archive's names and the trading API's, filters, --list, --incremental,
MD5 sidecars in the records' checksum, and listings that are not listings."""
import hashlib
import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import mirror_kucoin
from conftest import RcloneS3, free_port, make_mirror, run

KUCOIN = mirror_kucoin.BUCKET
ALL_ARCHIVES = sum(len(dates) for *_, dates in mirror_kucoin.FOLDERS)


def serve(root):
    make_mirror(root, "--preset", "kucoin")
    return RcloneS3(root, bucket=KUCOIN, dir_cache_time="0s").start()


@pytest.fixture(scope="module")
def kucoin(tmp_path_factory):
    """The preset, served; read only (tests that change the tree make their own)."""
    m = serve(tmp_path_factory.mktemp("kucoin"))
    yield m
    m.stop()


def kenv(tmp_path, mirror):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_")) and k != "TRACEPARENT"}
    e.update(ARC_STATE=str(tmp_path / "state.db"), ARC_KUCOIN_LIST_URL=mirror.url,
             ARC_KUCOIN_DOWNLOAD_URL=mirror.url, ARC_LOG_FORMAT="json")
    return e


@pytest.fixture
def env(tmp_path, kucoin):
    return kenv(tmp_path, kucoin)


def discover(env, *args):
    r = run("arc-discover", "kucoin", *args, env=env)
    assert r.status == 0, r
    return r.records


def test_record_carries_the_md5_sidecar_as_its_checksum(kucoin, env):
    [a] = discover(env, "--market", "spot", "--type", "klines", "--symbol", "BTCUSDT", "--interval", "1m",
                   "--since", "2024-01-02", "--until", "2024-01-02")
    key = "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip"
    assert {k: a[k] for k in ("source", "market", "period", "type", "symbol", "interval", "date", "key")} == {
        "source": "kucoin", "market": "spot", "period": "daily", "type": "klines", "symbol": "BTCUSDT",
        "interval": "1m", "date": "2024-01-02", "key": key}
    assert a["url"] == f"{kucoin.url}/{key}"
    assert a["checksum"] == {"kind": "md5", "url": f"{kucoin.url}/{key}.CHECKSUM"}
    assert a.get("checksum_url") is None, "checksum_url means a SHA-256 sidecar"
    zip_bytes = (kucoin.root / KUCOIN / key).read_bytes()
    assert a["size"] == len(zip_bytes) and a["etag"] == hashlib.md5(zip_bytes).hexdigest()
    # The sidecar at that URL is `MD5  NAME`.
    sidecar = urllib.request.urlopen(a["checksum"]["url"]).read().decode()
    assert sidecar == f"{hashlib.md5(zip_bytes).hexdigest()}  BTCUSDT-1m-2024-01-02.zip"


def test_every_folder_at_once_and_a_folder_of_more_than_1000_keys(kucoin, env):
    everything = discover(env, "-j", "32")
    assert len(everything) == ALL_ARCHIVES == len({a["key"] for a in everything})
    assert all(a["source"] == "kucoin" and a["period"] == "daily" and a["checksum"]["kind"] == "md5" for a in everything)
    one_at_a_time = discover(env, "-j", "1")
    assert sorted(a["key"] for a in one_at_a_time) == sorted(a["key"] for a in everything)
    days = discover(env, "--market", "spot", "--type", "klines", "--symbol", "BTCUSDT", "--interval", "1d")
    assert len(days) == 600 and min(a["date"] for a in days) == "2022-06-01"


def test_filters_and_globs(kucoin, env):
    futures = discover(env, "--market", "futures", "--type", "klines")
    assert {(a["symbol"], a["interval"]) for a in futures} == {("BTCUSDTM", "1m"), ("BTCUSDTM", "1d"), ("ETHUSDTM", "1h")}
    assert {a["symbol"] for a in discover(env, "--type", "klines", "--interval", "1h")} == {"ETHUSDTM"}
    assert {a["symbol"] for a in discover(env, "--symbol", "*USDTM", "--type", "trades")} == {"BTCUSDTM"}
    eth = discover(env, "--symbol", "ETH*")
    assert {(a["market"], a["type"], a["symbol"]) for a in eth} == {
        ("spot", "klines", "ETHUSDT"), ("spot", "trades", "ETHUSDT"), ("futures", "klines", "ETHUSDTM")}
    # Types in a group folder (books in depth/), and types with and without interval folders.
    books = discover(env, "--type", "depth/orderbooklv50")
    assert [(a["symbol"], a["date"]) for a in books] == [("BTC-USDT", "2024-01-01"), ("BTC-USDT", "2024-01-02")]
    assert books[0]["key"] == "data/spot/daily/depth/orderbooklv50/BTC-USDT/BTC-USDT-orderbooklv50-2024-01-01.zip"
    prices = discover(env, "--market", "futures", "--type", "index,mark")
    assert {(a["type"], a.get("interval")) for a in prices} == {("index", None), ("mark", "1m")}


def test_trading_api_spellings_find_the_archives_names(kucoin, env):
    r = run("arc-discover", "kucoin", "--symbol", "BTC-USDT", "--market", "spot", env=env)
    assert r.status == 0, r
    assert {(a["type"], a["symbol"]) for a in r.records} == {
        ("klines", "BTCUSDT"), ("trades", "BTCUSDT"), ("depth/orderbooklv50", "BTC-USDT")}
    [note] = [l for l in r.logs if l.get("symbol") == "BTC-USDT"]
    assert note["level"] == "info" and note["archive_symbols"] == "BTCUSDT" and "spells it BTCUSDT" in note["msg"]

    xbt = discover(env, "--symbol", "XBTUSDTM", "--type", "trades")
    assert {a["symbol"] for a in xbt} == {"BTCUSDTM"} and len(xbt) == 3
    assert {a["symbol"] for a in discover(env, "--symbol", "XBT*", "--market", "futures", "--type", "klines")} == {"BTCUSDTM"}
    # The archive's own names work as they are, with nothing to say.
    r = run("arc-discover", "kucoin", "--symbol", "BTCUSDTM", "--type", "trades", env=env)
    assert len(r.records) == 3 and not [l for l in r.logs if "spells" in l["msg"]]


def test_since_and_until(kucoin, env):
    base = ["--market", "spot", "--type", "klines", "--symbol", "BTCUSDT", "--interval", "1m"]
    days = discover(env, *base, "--since", "2024-01-04", "--until", "2024-01-07")
    assert [a["date"] for a in days] == ["2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07"]
    assert [a["date"] for a in discover(env, *base, "--since", "2024-01-09")] == ["2024-01-09", "2024-01-10"]
    trades = discover(env, "--type", "trades", "--symbol", "BTCUSDT", "--since", "2024-01", "--until", "2024-01-02")
    assert [a["date"] for a in trades] == ["2024-01-01", "2024-01-02"]


def test_list_symbols_types_and_intervals(kucoin, env):
    symbols = discover(env, "--list", "symbols")
    assert {(s["market"], s["symbol"]): s["types"] for s in symbols} == {
        ("spot", "BTCUSDT"): ["klines", "trades"], ("spot", "ETHUSDT"): ["klines", "trades"],
        ("spot", "BTC-USDT"): ["depth/orderbooklv50"],
        ("futures", "BTCUSDTM"): ["fundingRates", "index", "klines", "mark", "trades"],
        ("futures", "ETHUSDTM"): ["klines"]}
    assert all(s["source"] == "kucoin" and "not its trading API" in s["note"] and "XBTUSDTM" in s["note"]
               for s in symbols)
    types = discover(env, "--list", "types", "--market", "spot")
    assert {t["type"] for t in types} == {"klines", "trades", "depth/orderbooklv50"}
    intervals = discover(env, "--list", "intervals", "--market", "futures")
    assert {(i["type"], i["interval"]) for i in intervals} == {("klines", "1m"), ("klines", "1d"), ("klines", "1h"),
                                                             ("mark", "1m")}


def test_incremental_lists_what_is_new_and_stops_before_a_zip_without_sidecar(tmp_path):
    m = serve(tmp_path / "mirror")
    try:
        env = kenv(tmp_path, m)
        klines = ["--incremental", "--market", "spot", "--type", "klines", "--symbol", "ETHUSDT"]
        assert len(discover(env, *klines)) == 5
        assert discover(env, *klines) == []
        mirror_kucoin.add_day(str(m.root), "2024-01-06")
        assert [a["date"] for a in discover(env, *klines)] == ["2024-01-06"]
        # ETHUSDT's trades of 2024-01-02 have no CHECKSUM: the next run lists them again.
        trades = ["--incremental", "--type", "trades", "--symbol", "ETHUSDT"]
        assert [a["date"] for a in discover(env, *trades)] == ["2024-01-01", "2024-01-02", "2024-01-03"]
        assert [a["date"] for a in discover(env, *trades)] == ["2024-01-02", "2024-01-03"]
    finally:
        m.stop()


class _Garbage(BaseHTTPRequestHandler):
    """Answers every request with 200 and a body that is no S3 listing."""
    body = b"<!doctype html><html><body>KuCoin Historical Data</body></html>"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def garbage():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_listing_that_is_not_one_is_a_clear_error(env, garbage):
    r = run("arc-discover", "kucoin", "--list-url", garbage, "--market", "spot", "--retries", "1", env=env)
    assert r.status == 3 and r.stdout == "", r
    errors = [l for l in r.logs if l["level"] == "error"]
    assert errors and all(l["code"] == "bad_listing" and "unexpected listing response: <!doctype html>" in l["msg"]
                          for l in errors), r.stderr


def test_bad_arguments_are_usage_errors(env):
    for args in (["--period", "monthly"], ["--market", "um"], ["--market", "spot", "--type", "fundingRates"],
                 ["--list-url", "ftp://x"], ["--incremental", "--list", "symbols"], ["--until", "2024-13"]):
        r = run("arc-discover", "kucoin", *args, env=env)
        assert r.status == 2 and r.stdout == "", (args, r)


def test_the_mirror_has_kucoins_quirks(kucoin):
    base = kucoin.root / KUCOIN

    def sidecar(key):
        return (base / (key + ".CHECKSUM")).read_text().split()[0]

    quirks = {q: k for k, q in mirror_kucoin.QUIRKS.items()}
    wrong = quirks["wrong-checksum"]
    assert len(sidecar(wrong)) == 32 and sidecar(wrong) != hashlib.md5((base / wrong).read_bytes()).hexdigest()
    assert not (base / (quirks["no-checksum"] + ".CHECKSUM")).exists()
    import zipfile
    with zipfile.ZipFile(base / quirks["short-rows"]) as z:
        header, *rows = z.read(z.namelist()[0]).decode().splitlines()
    assert len(header.split(",")) == 6 and {len(r.split(",")) for r in rows} == {5}
    with zipfile.ZipFile(base / quirks["spills-past-day"]) as z:
        last = z.read(z.namelist()[0]).decode().splitlines()[-1]
    day = quirks["spills-past-day"][-len("2024-01-02.zip"):-len(".zip")]
    assert int(last.split(",")[0]) >= mirror_kucoin.day_start(day) * 1000 + 86_400_000
