"""OKX's public API for tool tests: GET /api/v5/public/market-data-history answered from a
tree make-mirror.py --preset okx wrote (OUT/static.okx.com), and the tree's files served
at their paths, so the manifest's URLs point back here.

It keeps OKX's rules: at most 5 instruments (instIdList) and 10 days (begin..end, UTC+8
midnights, both inclusive) a call, else HTTP 400 {"code":"51000",...} (and the call is
counted in `violations`); `throttle_first` answers the next N calls with 50011 (too many
requests; HTTP 429, or 200 with `throttle_status=200` as OKX sometimes does), and
`max_per_second` does so for calls beyond that many within a second. `fail_with` makes
every call answer that error code. Every request is logged in `requests`:
(monotonic time, path, query dict, HTTP status, OKX code or None for files).

Answer shape, as OKX documents it: {"code":"0","msg":"","data":[{"ts","totalSizeMB",
"dateAggrType","details":[{"instId","instFamily","dateRangeStart","dateRangeEnd",
"groupSizeMB","groupDetails":[{"filename","dateTs","sizeMB","url"}]}]}]}: numbers as
strings, sizes in MB rounded to 2 decimals, files newest first."""
import json
import os
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import mirror_okx
from arcservers import free_port


DAY_MS = 86_400_000
MODULES = {"1": "trades", "3": "fundingRates"}


class OKXAPI:
    def __init__(self, root):
        """`root`: the directory holding static.okx.com/ (make-mirror.py's OUT)."""
        self.root = os.path.join(str(root), mirror_okx.HOST)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests = []
        self.violations = []
        self.lock = threading.Lock()
        self.throttle_first = 0
        self.throttle_status = 429
        self.max_per_second = None
        self.fail_with = None
        self.server = None

    # ---------------------------------------------------------------- the manifest
    def api_calls(self):
        return [r for r in self.requests if r[1].startswith("/api/")]

    def answer(self, q):
        """(HTTP status, body dict) for a market-data-history query."""
        def error(code, msg, status=400):
            return status, {"code": code, "msg": msg, "data": []}
        if self.fail_with:
            return error(self.fail_with, "Service temporarily unavailable")
        module, inst_type = q.get("module"), q.get("instType")
        if module not in MODULES:
            return error("51000", "Parameter module error")
        if inst_type not in ("SPOT", "SWAP", "FUTURES", "OPTION"):
            return error("51000", "Parameter instType error")
        if q.get("dateAggrType") != "daily":
            return error("51000", "Parameter dateAggrType error")
        ids = [i for i in q.get("instIdList", "").split(",") if i]
        if not ids or len(ids) > 5:
            return error("51000", "Parameter instIdList error")
        try:
            begin, end = int(q["begin"]), int(q["end"])
        except (KeyError, ValueError):
            return error("51000", "Parameter begin error")
        if end < begin or (end - begin) // DAY_MS + 1 > 10:
            return error("51000", "Parameter end error")
        details, total = [], 0.0
        for inst in ids:
            files = []
            t = begin
            while t <= end:
                date = time.strftime("%Y-%m-%d", time.gmtime((t + 8 * 3_600_000) // 1000))
                key = mirror_okx.trades_key(inst, date) if module == "1" else mirror_okx.funding_key(date)
                path = os.path.join(self.root, *key.split("/"))
                if os.path.exists(path):
                    mb = os.path.getsize(path) / 1_048_576
                    files.append({"filename": key.rsplit("/", 1)[1], "dateTs": str(mirror_okx.day_start_ms(date)),
                                  "sizeMB": f"{mb:.2f}", "url": f"{self.url}/{key}"})
                    total += mb
                t += DAY_MS
            files.reverse()
            details.append({"instId": inst, "instFamily": "", "dateRangeStart": str(begin),
                            "dateRangeEnd": str(end + DAY_MS), "groupSizeMB": "0",
                            "groupDetails": files})
        return 200, {"code": "0", "msg": "", "data": [{"ts": str(int(time.time() * 1000)),
                                                      "totalSizeMB": f"{total:.2f}", "dateAggrType": "daily",
                                                      "details": details}]}

    # ---------------------------------------------------------------- serving
    def start(self):
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=outer.root, **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                now = time.monotonic()
                if parts.path != "/api/v5/public/market-data-history":
                    with outer.lock:
                        outer.requests.append((now, parts.path, {}, 200, None))
                    return super().do_GET()
                q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with outer.lock:
                    recent = sum(1 for t, p, _, s, _ in outer.requests if p.startswith("/api/") and t > now - 1.0)
                    throttled = outer.throttle_first > 0 or (outer.max_per_second is not None and
                                                             recent >= outer.max_per_second)
                    if outer.throttle_first > 0:
                        outer.throttle_first -= 1
                if throttled:
                    status, body = outer.throttle_status, {"code": "50011", "msg": "Too Many Requests", "data": []}
                else:
                    status, body = outer.answer(q)
                with outer.lock:
                    outer.requests.append((now, parts.path, q, status, body["code"]))
                    if body["code"] == "51000":
                        outer.violations.append(q)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
