#!/usr/bin/env python3
"""Writes the seed corpus, Fuzz/Corpus/<target>/seed-*, from real inputs.

    Fuzz/make-seeds.py            # needs the built tools (ARC_BIN, default .build/debug),
                                  # .venv's rclone (scripts/setup.sh), python3, curl

What each target starts from:
  s3-listing, s3-error  answers of `rclone serve s3` over a make-mirror.py tree (ListObjects
                        v1 and v2, delimiters, pages, encoding-type=url, ListBuckets, errors),
                        bodies and header blocks as they came
  ndjson, lines         the records arc-discover, arc-plan and arc-collect wrote for that tree
  log-line, where       their stderr logs (--log-format json), with --where expressions
  span-record           their span records (--trace FILE)
  otlp-traces           the OTLP/HTTP JSON bodies they sent to OTEL_EXPORTER_OTLP_ENDPOINT
  otlp-protobuf         ExportTraceServiceRequest and ExportLogsServiceRequest bodies built with
                        opentelemetry-proto's Python classes (.venv): every AnyValue kind,
                        events, statuses, kinds, unknown fields; cut and over-long ones
  http-request          those requests as raw bytes, and curl's (chunked, gzip, Expect)
  workflow, toml        examples/*.toml, and TOML 1.0 specification examples (below)
  cron                  examples/crontab's schedules and cron forms from the tests
  tzif                  a few small /usr/share/zoneinfo files and their POSIX TZ footers
  checksum              sidecars (SHA-256, MD5), checksum objects of every kind, empty gzips
  zip                   small archives from python's zipfile: deflate, stored, data descriptors
                        (written to a pipe), zip64, several entries, an empty entry, none
  gzip                  Bybit-shaped csv.gz from python's gzip: with and without a name, every
                        header field, two members, Bybit's empty 44-byte gzip, cut and broken ones

Seeds are written only when missing: rerunning leaves the committed ones as they are.
Crash inputs that were fixed are kept in the corpora too (named crash-*).
"""
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "Corpus"
BIN = Path(os.environ.get("ARC_BIN", ROOT / ".build" / "debug"))
VENV_BIN = Path(os.environ.get("VENV_BIN", ROOT / ".venv" / "bin"))
BUCKET = "data.binance.vision"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"seed-{name}"
    if not p.exists():
        p.write_bytes(data if isinstance(data, bytes) else data.encode())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Capture:
    """A loopback HTTP/1.1 server that keeps every request's raw bytes and answers {}."""

    def __init__(self):
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, rest = buf.split(b"\r\n\r\n", 1)
                headers = {l.split(b":", 1)[0].strip().lower(): l.split(b":", 1)[1].strip()
                           for l in head.split(b"\r\n")[1:] if b":" in l}
                if headers.get(b"expect", b"").lower() == b"100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                    while not rest.endswith(b"0\r\n\r\n"):
                        rest += conn.recv(65536)
                    body_end = len(rest)
                else:
                    n = int(headers.get(b"content-length", b"0"))
                    while len(rest) < n:
                        rest += conn.recv(65536)
                    body_end = n
                self.requests.append(head + b"\r\n\r\n" + rest[:body_end])
                buf = rest[body_end:]
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

    def close(self):
        self.sock.close()


def fetch(url):
    """Status, header block (as sent, one "Name: value\\r\\n" per line) and body."""
    try:
        r = urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError as e:
        r = e
    head = "HTTP/1.1 %d %s\r\n" % (r.status, r.reason) + "".join("%s: %s\r\n" % kv for kv in r.headers.items())
    return r.status, head.encode(), r.read()


def s3_seeds(tmp):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make-mirror.py"), str(tmp / "mirror"), "--preset", "test"],
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    rclone = subprocess.Popen([str(VENV_BIN / "rclone"), "serve", "s3", "--addr", f"127.0.0.1:{port}",
                               str(tmp / "mirror")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/{BUCKET}?prefix=data/&delimiter=/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.05)
    listings = {
        "v1-delimiter": "?prefix=data/&delimiter=/",
        "v1-futures-um": "?prefix=data/futures/um/daily/klines/&delimiter=/",
        "v1-keys": "?prefix=data/futures/um/daily/klines/BTCUSDT/1m/",
        "v1-page": "?prefix=data/spot/&max-keys=3",
        "v1-marker": "?prefix=data/spot/&max-keys=3&marker=data/spot/daily",
        "v1-url-encoded": "?prefix=data/&delimiter=/&encoding-type=url",
        "v2-keys": "?list-type=2&prefix=data/spot/&max-keys=5",
        "v2-delimiter": "?list-type=2&prefix=data/&delimiter=/&encoding-type=url",
        "v1-empty": "?prefix=nothing/here/",
    }
    for name, query in listings.items():
        _, head, body = fetch(f"{base}/{BUCKET}{query}")
        put("s3-listing", name, body)
        put("s3-error", "headers-" + name, head)
    _, head, body = fetch(f"{base}/")
    put("s3-listing", "list-buckets", body)
    errors = {
        "no-such-key": f"/{BUCKET}/data/none.zip",
        "no-such-bucket": "/no-such-bucket?prefix=a/",
        "no-such-bucket-object": "/no-such-bucket/key",
    }
    for name, path in errors.items():
        status, head, body = fetch(base + path)
        put("s3-error", name, body)
        put("s3-error", "headers-" + name, head)
    req = urllib.request.Request(f"{base}/{BUCKET}/data/x.zip", method="HEAD")
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        put("s3-error", "headers-head-404", "HTTP/1.1 404 Not Found\r\n" + "".join("%s: %s\r\n" % kv for kv in e.headers.items()))
    return rclone, base


def pipeline_seeds(tmp, base, capture):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_")) and k != "TRACEPARENT"}
    env.update(ARC_STATE=str(tmp / "state.db"), ARC_BINANCE_LIST_URL=f"{base}/{BUCKET}",
               ARC_BINANCE_DOWNLOAD_URL=f"{base}/{BUCKET}", ARC_LOG_FORMAT="json",
               ARC_TRACE_FILE=str(tmp / "spans.ndjson"), OTEL_EXPORTER_OTLP_ENDPOINT=capture.url)

    def run(args, stdin=b""):
        p = subprocess.run([str(BIN / args[0]), *args[1:]], input=stdin, env=env, capture_output=True, timeout=300)
        return p.stdout, p.stderr

    archives, log1 = run(["arc-discover", "binance", "--market", "um", "--type", "klines", "--interval", "1m"])
    tasks, log2 = run(["arc-plan", "--dest", str(tmp / "data")], archives)
    results, log3 = run(["arc-collect", "-j", "4"], tasks)
    bad, log4 = run(["arc-plan", "--dest", str(tmp / "data")], b'{"source":"binance"}\nnot json\n\n{"key":1}\n')
    gaps, log5 = run(["arc-plan", "--gaps"], archives)
    _, log6 = run(["wf-run", "run", str(ROOT / "examples" / "retry-demo.toml"), "--runs-dir", str(tmp / "runs")])
    for name, records in [("archives", archives), ("tasks", tasks), ("results", results), ("gaps", gaps)]:
        lines = records.splitlines()
        for i in sorted({0, len(lines) // 2, len(lines) - 1}):
            if 0 <= i < len(lines):
                put("ndjson", f"{name}-{i}", lines[i])
        put("lines", name, b"\n".join(lines[:20]) + b"\n")
    put("lines", "results-crlf-blank", b"\r\n".join(results.splitlines()[:5]) + b"\r\n\r\n  \r\nnot json\r\n")
    put("lines", "bad-input", b'{"source":"binance"}\nnot json\n\n{"key":1}')
    logs = (log1 + log2 + log3 + log4 + log5 + log6).splitlines()
    for i, line in enumerate(logs[:40]):
        put("ndjson", f"log-{i}", line)
    for i in range(0, min(len(logs), 60), 6):
        put("log-line", f"logs-{i}", b"\n".join(logs[i:i + 6]) + b"\n")
    spans = (tmp / "spans.ndjson").read_bytes().splitlines() if (tmp / "spans.ndjson").exists() else []
    for i, line in enumerate(spans[:30]):
        put("span-record", f"span-{i}", line)
    wheres = ["level=warn", "level>=warn", "error.code~^http_5", "status!=404", "bytes>1000", "bytes<=0",
              "msg~[0-9]+ archives", "msg!~^listing", "tool==arc-collect", "attempts>=2", "duration_ms<500",
              "error.message~(timeout|refused)", "ts>2024-01-01"]
    for i, w in enumerate(wheres):
        put("where", f"where-{i}", w.encode() + b"\n" + b"\n".join(logs[i * 3:i * 3 + 4]) + b"\n")
    for i, req in enumerate(capture.requests[:12]):
        put("http-request", f"exporter-{i}", req)
        head, body = req.split(b"\r\n\r\n", 1)
        if b"/v1/traces" in head.split(b"\r\n")[0]:
            if b"gzip" in head.lower():
                body = gzip.decompress(body)
            put("otlp-traces", f"exporter-{i}", body)


def curl_seeds(capture, tmp):
    body = (CORPUS / "otlp-traces").glob("seed-exporter-*")
    sample = next(iter(sorted(body)), None)
    data = sample.read_bytes() if sample else b'{"resourceSpans":[]}'
    (tmp / "body.json").write_bytes(data)
    (tmp / "body.json.gz").write_bytes(gzip.compress(data))
    (tmp / "body.pb").write_bytes(b"\x0a\x00")
    before = len(capture.requests)
    url = capture.url + "/v1/traces"
    j = ["-H", "Content-Type: application/json"]
    for args in [j + ["--data-binary", f"@{tmp / 'body.json'}"],
                 j + ["-H", "Transfer-Encoding: chunked", "--data-binary", f"@{tmp / 'body.json'}"],
                 j + ["-H", "Content-Encoding: gzip", "--data-binary", f"@{tmp / 'body.json.gz'}"],
                 j + ["-H", "Expect: 100-continue", "--data-binary", f"@{tmp / 'body.json'}"],
                 ["--http1.0", "-H", "Content-Type: application/x-protobuf", "--data-binary", f"@{tmp / 'body.pb'}"]]:
        subprocess.run(["curl", "-s", "-o", "/dev/null", *args, url], check=True)
    for i, req in enumerate(capture.requests[before:]):
        put("http-request", f"curl-{i}", req)
    put("http-request", "keep-alive-two", b"GET /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /v1/traces?x=1 HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")


TOML_SPEC = {
    "keys": 'key = "value"\nbare_key = "value"\n"127.0.0.1" = "value"\n\'quoted "value"\' = "value"\n'
            'physical.color = "orange"\nsite."google.com" = true\nfruit . flavor = "banana"\n',
    "strings": 'str = "I\'m a string. \\"You can quote me\\". Name\\tJos\\u00E9\\nLocation\\tSF."\n'
               'str1 = """\nRoses are red\nViolets are blue"""\n'
               'str2 = """\nThe quick brown \\\n\n  fox jumps over \\\n    the lazy dog."""\n'
               "winpath = 'C:\\Users\\nodejs\\templates'\nregex = '<\\i\\c*\\s*>'\n"
               "lines = '''\nThe first newline is\ntrimmed in raw strings.\n'''\n"
               'quot15 = \'\'\'Here are fifteen quotation marks: """""""""""""""\'\'\'\n'
               'esc = "\\b\\f\\r\\\\\\U0001F600"\n',
    "numbers": "int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\nint5 = 1_000\nhex1 = 0xDEADBEEF\nhex2 = 0xdead_beef\n"
               "oct1 = 0o01234567\nbin1 = 0b11010110\nbig = 9223372036854775807\nsmall = -9223372036854775808\n"
               "flt1 = +1.0\nflt2 = 3.1415\nflt3 = -0.01\nflt4 = 5e+22\nflt5 = 1e06\nflt6 = -2E-2\nflt7 = 6.626e-34\n"
               "flt8 = 224_617.445_991_228\nsf1 = inf\nsf2 = +inf\nsf3 = -inf\nsf4 = nan\nsf6 = -nan\nbool1 = true\nbool2 = false\n",
    "datetimes": "odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00-07:00\nodt3 = 1979-05-27T00:32:00.999999-07:00\n"
                 "odt4 = 1979-05-27 07:32:00Z\nldt1 = 1979-05-27T07:32:00\nld1 = 1979-05-27\nlt1 = 07:32:00\n"
                 "lt2 = 00:32:00.999999\nleap = 2024-02-29T23:59:60Z\n",
    "arrays": 'integers = [ 1, 2, 3 ]\ncolors = [ "red", "yellow", "green" ]\nnested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\n'
              'nested_mixed_array = [ [ 1, 2 ], ["a", "b", "c"] ]\nnumbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n'
              'contributors = [\n  "Foo Bar <foo@example.com>",\n  { name = "Baz Qux", email = "bazqux@example.com" },\n]\n'
              'integers3 = [\n  1,\n  2, # this is ok\n]\n',
    "tables": '[table-1]\nkey1 = "some string"\nkey2 = 123\n\n[dog."tater.man"]\ntype.name = "pug"\n\n[a.b.c]\n[ d.e.f ]\n'
              '[ j . "ʞ" . \'l\' ]\n\n[x.y.z.w]\n[x]\n\n[fruit]\napple.color = "red"\napple.taste.sweet = true\n'
              '[fruit.apple.texture]  # you can add sub-tables\nsmooth = true\n',
    "inline": 'name = { first = "Tom", last = "Preston-Werner" }\npoint = { x = 1, y = 2 }\nanimal = { type.name = "pug" }\n'
              'empty = {}\nt = { a = [\n 1,\n 2 ], b = { c = \'d\' } }\n',
    "array-of-tables": '[[products]]\nname = "Hammer"\nsku = 738594937\n\n[[products]]  # empty table within the array\n\n'
                       '[[products]]\nname = "Nail"\nsku = 284758393\ncolor = "gray"\n\n[[fruits]]\nname = "apple"\n\n'
                       '[fruits.physical]  # subtable\ncolor = "red"\n\n[[fruits.varieties]]  # nested array of tables\n'
                       'name = "red delicious"\n\n[[fruits]]\nname = "banana"\n[[fruits.varieties]]\nname = "plantain"\n',
    "crlf-bom": "\ufeffa = 1\r\n[t]\r\n\tb\t=\t\"x\"\t# c\r\n\r\nm = \"\"\"\r\none\r\ntwo \\\r\n  three\"\"\"\r\n",
    "errors": 'a = 1\na = 2\n[fruit]\napple = "red"\n[fruit]\n[[fruit]]\nb = { c = 1, }\nd = 0x\ne = 1979-02-30\n',
}

CRON = ["*/15 * * * *", "5 * * * *", "0 9-11 * * *", "10-30/10 8 * * *", "50/5 23 * * *", "0 0 1,15 * *",
        "0 0 1 */3 *", "0,30 6,18 * * *", "0 12 * jan,JUL *", "0 0 * * mon-fri", "0 0 * * Sat-SUN", "0 0 * * 7",
        "0 0 * * mon/3", "0 0 * mar-may/2 1", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
        "@HOURLY", "*/20 * * * * *", "30 0 12 * * *", "59 59 23 31 12 *", "0 0 29 2 *", "0 0 31 * *", "0 0 30 2 *",
        "0 0 13 * 5", "0 2 * * *", "30 1 * * *", "*/5 1-3 * * *", "0 0 L * *", "0 0 ? * 1#2", "@reboot",
        "1-60 * * * *", "5-1 * * * *", "*/0 * * * *"]

ZONES = ["UTC", "Etc/GMT+5", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
         "Africa/Casablanca", "America/Sao_Paulo", "Pacific/Chatham", "Antarctica/Troll"]


def static_seeds():
    for f in sorted((ROOT / "examples").glob("*.toml")):
        put("toml", "example-" + f.stem, f.read_bytes())
        put("workflow", "example-" + f.stem, f.read_bytes())
    for name, text in TOML_SPEC.items():
        put("toml", "spec-" + name, text)
    put("workflow", "minimal", '[[step]]\nid = "a"\nrun = "true"\n')
    put("workflow", "graph", 'name = "g"\nschedule = "0 3 * * *"\ntimezone = "Europe/London"\n[env]\nA = 1\n'
        '[[step]]\nid = "a"\nrun = "true"\ntimeout = "1h30m"\n[[step]]\nid = "b"\nneeds = ["a"]\nrun = "x"\n'
        'when = "always"\nretries = 2\nretry_delay = 0.5\n[on_failure]\nrun = "echo"\n')
    crontab = (ROOT / "examples" / "crontab").read_text().splitlines()
    schedules = [" ".join(l.split()[:5]) for l in crontab if l[:1].isdigit() or l.startswith("*")]
    for i, expr in enumerate(dict.fromkeys(schedules + CRON)):
        put("cron", f"{i:02d}", expr)
    for zone in ZONES:
        p = Path("/usr/share/zoneinfo") / zone
        if p.exists():
            data = p.read_bytes()
            put("tzif", zone.replace("/", "-"), data)
            footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
            if footer and not footer.startswith(b"TZif"):
                put("tzif", "footer-" + zone.replace("/", "-"), footer)
    for i, rule in enumerate([b"EST5EDT,M3.2.0,M11.1.0", b"<+0330>-3:30", b"CET-1CEST,M3.5.0,M10.5.0/3",
                              b"XXX3EDT4,0/0,J365/25", b"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", b"IST-1GMT0,M10.5.0,M3.5.0/1"]):
        put("tzif", f"posix-{i}", rule)


def csv_table_seeds():
    """csv-table: make-mirror.py's CSV for one archive of each kind it writes, and the
    quirks SILVER.md lists; each seed is the archive key, a newline, then the CSV."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_mirror", ROOT / "scripts" / "make-mirror.py")
    mirror = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mirror)
    keys = [
        "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-01.zip",
        "data/futures/um/monthly/klines/ETHUSDT/1d/ETHUSDT-1d-2023-12.zip",
        "data/futures/cm/daily/indexPriceKlines/ETHUSD/1h/ETHUSD-1h-2024-01-01.zip",
        "data/spot/daily/trades/XRPUSDT/XRPUSDT-trades-2024-01-01.zip",
        "data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2024-01-01.zip",
        "data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-01.zip",
        "data/futures/um/daily/bookDepth/ETHUSDT/ETHUSDT-bookDepth-2024-01-01.zip",
        "data/futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2023-12.zip",
        "data/option/daily/BVOLIndex/BTCBVOLUSDT/BTCBVOLUSDT-BVOLIndex-2024-01-01.zip",
    ]
    for key in keys:
        a = mirror.parse_key(key)
        put("csv-table", f"{a.type}-{a.market.replace('/', '-')}-{a.date}", f"{key}\n" + mirror.csv_text(a, 12, 1))
    day = "2024-03-01"
    um_trades = f"data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-{day}.zip\n"
    put("csv-table", "trades-crlf-no-final-newline", um_trades + "id,price,qty,quote_qty,time,is_buyer_maker\r\n"
        "1,62000.1,0.5,31000.05,1709251200123,true\r\n2,62000.2,0.5,31000.1,1709251200124,false")
    put("csv-table", "trades-bad-fields", um_trades + "1,62000.1,0.5,31000.05,1709251200123,true\n"
        "2,6200x,0.5,1,1709251200124,false\n3,,1,1,1709251200125,true\n4,1,1,1,1709251200126\n\n"
        "4,1,1,1,1709251200126,true,true\n4,1,1,1,1709251200126,true\n9,1e400,1,1,99999999999999999,TRUE\n")
    put("csv-table", "trades-wrong-header", um_trades + "id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n1,1,1,1,1,true,true\n")
    put("csv-table", "metrics", f"data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-{day}.zip\n"
        "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,"
        "sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio\n"
        f"{day} 00:05:00,BTCUSDT,80000.1,4960000000.5,1.8,1.6,2.1,0.95\n{day} 00:05:00,BTCUSDT,80000.1,4960000000.5,1.8,1.6,2.1,0.95\n")
    put("csv-table", "eoh-summary-empty-fields", f"data/option/daily/EOHSummary/BTCUSDT/BTCUSDT-EOHSummary-{day}.zip\n"
        "date,hour,symbol,underlying,type,strike,open,high,low,close,volume_contracts,volume_usdt,best_bid_price,"
        "best_ask_price,best_bid_qty,best_ask_qty,best_buy_iv,best_sell_iv,mark_price,mark_iv,delta,gamma,vega,theta,"
        f"openinterest_contracts,openinterest_usdt\n{day},1,BTC-240301-60000-P,BTCUSDT,P,60000,,,,,0,0,,,,,,,150.1,0.58,-0.39,0.0001,12.4,-79,20,1240000\n")
    put("csv-table", "liquidations", "data/futures/cm/daily/liquidationSnapshot/BTCUSD_PERP/BTCUSD_PERP-liquidationSnapshot-"
        f"{day}.zip\n1709251200123,SELL,LIMIT,IOC,12,61000.5,61010.2,FILLED,12,12\n1709251200123,BUY,LIMIT,IOC,1,0,0,FILLED,1,1\n")
    put("csv-table", "weekly-klines-gaps", "data/spot/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-02.zip\n"
        "1707091200000,1,1,1,1,1,1707695999999,1,1,1,1,0\n1708300800000,1,1,1,1,1,1708905599999,1,1,1,1,0\n"
        "1708300800001,1,1,1,1,1,1708905599999,1,1,1,1,0\n1708300800000,1,1,1,1,1,1708905599999,1,1,1,1,0\n")
    # Bybit's and KuCoin's (a KuCoin key is read as KuCoin's after "kucoin ").
    put("csv-table", "bybit-derivatives-rpi", "trading/BTCUSDT/BTCUSDT2024-03-01.csv.gz\n"
        "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional,RPI\n"
        "1709251200.1234,BTCUSDT,Buy,0.5,62000.5,PlusTick,0b1c-1,3.1e+09,0.5,31000.25,0\n"
        "1709251200.1234,BTCUSDT,Buy,0.6,62000.5,PlusTick,0b1c-1,3.1e+09,0.6,31000.25,1\n"
        "1709337599.9999999,BTCUSDT,Sell,0.1,62001,MinusTick,0b1c-2,6.2e+08,0.1,6200.1,\n")
    put("csv-table", "bybit-spot-monthly", "spot/BTCUSDT/BTCUSDT-2024-02.csv.gz\nid,timestamp,price,volume,side\n"
        "1,1706745600123,42000.5,0.01,buy\n3,1706745600124,42000.6,0.02,sell\n3,1706745600125,0,0.02,sell\n")
    put("csv-table", "kucoin-klines", "kucoin data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-01.zip\n"
        "time,open,close,high,low,volume,turnover\n1709251200,62000.1,62000.2,62000.9,62000.05,1.5,93000.3\n"
        "1709251320,62000.1,62000.2,62000.9,62000.05,1.5,93000.3\n")
    put("csv-table", "kucoin-trades", "kucoin data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip\n"
        "trade_id,trade_time,price,size,side\n65e1a0000000000000000001,1709251200123,62000.5,0.5,buy\n"
        "65e1a0000000000000000001,1709251200123,62000.6,0.5,sell\n")


class _Pipe(io.RawIOBase):
    """An unseekable stream: zipfile then writes a data descriptor after each entry."""
    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.data += b
        return len(b)


def zip_seeds():
    rows = b"".join(b"%d,97550.%02d000000,0.00020000,%d,%d,%d,True,True\n"
                    % (3261437102 + i, i, 4485012110 + i, 4485012110 + i, 1735689600032000 + i) for i in range(6))

    def archive(entries, method=zipfile.ZIP_DEFLATED, stream=False, zip64=False, comment=b""):
        target = _Pipe() if stream else io.BytesIO()
        with zipfile.ZipFile(target, "w", compression=method) as z:
            z.comment = comment
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
                info.compress_type = method
                with z.open(info, "w", force_zip64=zip64) as f:
                    f.write(data)
        return bytes(target.data if stream else target.getvalue())

    one = [("BTCUSDT-aggTrades-2025-01-01.csv", rows)]
    put("zip", "deflate", archive(one))
    put("zip", "stored", archive(one, zipfile.ZIP_STORED))
    put("zip", "deflate-descriptor", archive(one, stream=True))
    put("zip", "stored-descriptor", archive(one, zipfile.ZIP_STORED, stream=True))
    put("zip", "zip64-descriptor", archive(one, stream=True, zip64=True))
    put("zip", "zip64", archive(one, zip64=True))
    put("zip", "several", archive([("a.csv", rows), ("b.csv", rows[:40]), ("c.csv", b"")], stream=True))
    put("zip", "empty-entry", archive([("a.csv", b"")]))
    put("zip", "empty", archive([]))
    put("zip", "comment", archive(one, comment=b"a comment"))


def gzip_seeds():
    rows = b"timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional\n" + \
        b"".join(b"%d.%04d,BTCUSDT,Buy,0.001,42000.5,PlusTick,0b1c%04d-aaaa-bbbb-cccc-000000000000,4200000,0.001,42\n"
                 % (1704067200 + i, i, i) for i in range(8))

    def member(data, name=None, comment=None, extra=None, header_crc=False, mtime=0):
        flags = (2 if header_crc else 0) | (4 if extra is not None else 0) | (8 if name else 0) | (16 if comment else 0)
        head = b"\x1f\x8b\x08" + bytes([flags]) + mtime.to_bytes(4, "little") + b"\x00\x03"
        if extra is not None:
            head += len(extra).to_bytes(2, "little") + extra
        if name:
            head += name + b"\x00"
        if comment:
            head += comment + b"\x00"
        if header_crc:
            head += (zlib.crc32(head) & 0xFFFF).to_bytes(2, "little")
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = deflate.compress(data) + deflate.flush()
        return head + body + zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")

    good = member(rows, name=b"BTCUSDT2024-01-01.csv")
    put("gzip", "plain", gzip.compress(rows, mtime=0))
    put("gzip", "named", good)
    put("gzip", "every-header-field", member(rows, name=b"a.csv", comment=b"c", extra=b"AB\x02\x00xy", header_crc=True))
    put("gzip", "two-members", member(rows[:100]) + member(rows[100:]))
    put("gzip", "empty-44", member(b"", name=b"EMPTUSDT_2024-01-01.csv"))
    put("gzip", "stored-blocks", gzip.compress(rows, compresslevel=0, mtime=0))
    put("gzip", "cut", good[:len(good) // 2])
    put("gzip", "bad-crc", good[:-8] + bytes([good[-8] ^ 1]) + good[-7:])
    put("gzip", "trailing-junk", good + b"junk")
def checksum_seeds():
    """CHECKSUM sidecars as Binance (SHA-256) and KuCoin (MD5) write them, checksum objects of
    every kind (and bad ones: a multipart ETag, an unknown kind), and empty and small gzips."""
    sha = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    md5 = "0cc175b9c0f1b6a831c399e269772661"
    put("checksum", "sidecar-sha256", f"{sha}  BTCUSDT-1m-2024-01-01.zip")
    put("checksum", "sidecar-md5", f"{md5.upper()}  BTCUSDT-1m-2024-01-01.zip\n")
    for name, obj in [("sha256-url", {"kind": "sha256", "url": "https://h/a.zip.CHECKSUM"}),
                      ("md5-url", {"kind": "md5", "url": "https://h/a.zip.CHECKSUM"}),
                      ("md5-value", {"kind": "md5", "value": md5}),
                      ("etag", {"kind": "etag-md5", "value": f'"{md5}"'}),
                      ("multipart", {"kind": "etag-md5", "value": f'"{md5}-3"'}),
                      ("size", {"kind": "size"}), ("none", {"kind": "none"}), ("unknown", {"kind": "crc64"})]:
        put("checksum", "object-" + name, json.dumps(obj))
    put("checksum", "record", json.dumps({"url": "https://h/a", "checksum_url": "https://h/a.CHECKSUM",
                                          "checksum": {"kind": "sha256", "url": "https://h/a.CHECKSUM"}}))
    empty = io.BytesIO()
    with gzip.GzipFile(filename="BTCUSDT2024-01-01.csv", mode="wb", fileobj=empty, mtime=0):
        pass
    put("checksum", "gzip-empty-named", empty.getvalue())
    put("checksum", "gzip-empty", gzip.compress(b"", mtime=0))
    put("checksum", "gzip-one-byte", gzip.compress(b"1", mtime=0))


# Run by .venv's python (opentelemetry-proto is installed there): prints NAME HEX lines.
OTLP_PROTOBUF_SEEDS = r"""
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

def kinds():
    inner = KeyValueList(values=[KeyValue(key="zone", value=AnyValue(int_value=3))])
    return [KeyValue(key="s", value=AnyValue(string_value="x")), KeyValue(key="b", value=AnyValue(bool_value=True)),
            KeyValue(key="i", value=AnyValue(int_value=-5)), KeyValue(key="d", value=AnyValue(double_value=0.25)),
            KeyValue(key="raw", value=AnyValue(bytes_value=b"\x00\xff")),
            KeyValue(key="arr", value=AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="a"),
                     AnyValue(kvlist_value=inner), AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1)]))]))),
            KeyValue(key="kv", value=AnyValue(kvlist_value=inner))]

t0 = 1_700_000_000_000_000_000
tr = ExportTraceServiceRequest()
rs = tr.resource_spans.add()
rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="checkout"))
ss = rs.scope_spans.add()
ss.scope.name = "seed"
root = ss.spans.add(trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)), name="GET /cart", kind=Span.SPAN_KIND_SERVER,
                    start_time_unix_nano=t0, end_time_unix_nano=t0 + 5_000_000, attributes=kinds())
root.status.CopyFrom(Status(code=Status.STATUS_CODE_OK))
child = ss.spans.add(trace_id=bytes(range(1, 17)), span_id=bytes(range(2, 10)), parent_span_id=bytes(range(1, 9)),
                     name="SELECT", kind=Span.SPAN_KIND_CLIENT, start_time_unix_nano=t0 + 1, end_time_unix_nano=t0 + 2)
child.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="deadlock"))
child.events.add(time_unix_nano=t0 + 1, name="retry", attributes=[KeyValue(key="n", value=AnyValue(int_value=2))])
lr = ExportLogsServiceRequest()
rl = lr.resource_logs.add()
rl.resource.attributes.add(key="service.name", value=AnyValue(string_value="checkout"))
sl = rl.scope_logs.add()
sl.log_records.add(time_unix_nano=t0, severity_number=17, severity_text="ERROR", body=AnyValue(string_value="failed"),
                   trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)), attributes=kinds())
sl.log_records.add(observed_time_unix_nano=t0, severity_number=9,
                   body=AnyValue(kvlist_value=KeyValueList(values=kinds())))
sl.log_records.add(body=AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1)])))
unknown = bytes([0xA0, 0x06, 0x07, 0xA9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0xB2, 0x06, 1, 0x61, 0xBD, 0x06, 1, 2, 3, 4])
t, l = tr.SerializeToString(), lr.SerializeToString()
seeds = {"traces": t, "logs": l, "traces-unknown-fields": t + unknown, "logs-unknown-fields": l + unknown,
         "traces-cut": t[: len(t) // 2], "logs-cut": l[: len(l) // 3], "empty-resource": b"\x0a\x00",
         "huge-length": b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x3f\x00"}
for name, body in seeds.items():
    print(name, body.hex())
"""


def otlp_protobuf_seeds():
    python = VENV_BIN / "python"
    if not python.exists():
        print("make-seeds: no .venv python; otlp-protobuf seeds left out", file=sys.stderr)
        return
    out = subprocess.run([str(python), "-c", OTLP_PROTOBUF_SEEDS], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, hexed = line.split()
        put("otlp-protobuf", name, bytes.fromhex(hexed))


def main():
    checksum_seeds()
    otlp_protobuf_seeds()
    zip_seeds()
    gzip_seeds()
    static_seeds()
    csv_table_seeds()
    missing = [p for p in [BIN / "arc-discover", VENV_BIN / "rclone"] if not p.exists()]
    if missing:
        sys.exit(f"make-seeds: {', '.join(map(str, missing))} missing; wrote the static seeds only")
    capture = Capture()
    tmp = Path(tempfile.mkdtemp(prefix="arc-seeds-"))
    rclone = None
    try:
        rclone, base = s3_seeds(tmp)
        pipeline_seeds(tmp, base, capture)
        curl_seeds(capture, tmp)
    finally:
        if rclone:
            rclone.kill()
            rclone.wait()
        capture.close()
        shutil.rmtree(tmp, ignore_errors=True)
    for d in sorted(CORPUS.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} files")


if __name__ == "__main__":
    main()
