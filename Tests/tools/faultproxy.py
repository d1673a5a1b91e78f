"""A fault-injecting HTTP proxy for tool tests (stdlib only).

It forwards each request to an upstream server (`rclone serve s3` in the tests) and damages
some answers the ways a CDN edge or a flaky network does:

    5xx        503/502/500 with a short body
    403        an HTML "access denied" outage page (Binance answered outages with 403)
    reset      the connection is reset before any answer
    truncate   the headers promise the whole body; half of it comes, then the connection closes
    stall      the headers and a third of the body, then nothing for `stall` seconds
    slow       the whole body, in small pieces with pauses
    flip       the whole body with one byte changed (a bad copy: only a checksum can tell)

Which requests are damaged is decided per path and per request number for that path, from
`seed`, so a run is repeatable: request n of a path is damaged with probability `rate`, and
the kinds are handed out in turn, so a few dozen faults cover every kind. `flip_first`
(a suffix such as ".zip") flips a byte in the first GET of every path ending with it;
`flip_at` puts every flipped byte at that offset (else a seeded one).
"""
import http.client
import random
import socket
import struct
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("5xx", "403", "reset", "truncate", "stall", "slow", "flip")
BODY_KINDS = {"truncate", "stall", "slow", "flip"}

OUTAGE_PAGE = (b"<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>"
               b"<h1>403 Forbidden</h1><p>Access denied. The service is temporarily unavailable.</p>"
               b"</body></html>")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up on a stalled answer, a reset we made: expected here


class FaultProxy:
    def __init__(self, upstream, seed=1, rate=0.3, kinds=KINDS, flip_first=None, flip_at=None, stall=5.0):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname, parsed.port)
        self.seed = seed
        self.rate = rate
        self.kinds = tuple(kinds)
        self.flip_first = flip_first
        self.flip_at = flip_at
        self.stall = stall
        self.applied = Counter()        # kind -> requests damaged that way
        self.requests = Counter()       # path -> requests seen
        self.log = []                   # (method, path, n, kind or None)
        self._lock = threading.Lock()
        self._turn = 0
        self._stopping = threading.Event()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self):
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def damaged(self, path):
        """The kinds of damage done to requests for `path`, in order."""
        return [k for (_, p, _, k) in self.log if p == path and k]

    def _decide(self, method, path):
        with self._lock:
            n = self.requests[path]
            self.requests[path] += 1
            kind = None
            if method == "GET" and n == 0 and self.flip_first and path.endswith(self.flip_first):
                kind = "flip"
            elif random.Random(f"{self.seed}:{method}:{path}:{n}").random() < self.rate:
                kind = self.kinds[self._turn % len(self.kinds)]
                self._turn += 1
            if kind and method == "HEAD" and kind in BODY_KINDS:
                kind = None
            return n, kind

    def _note(self, method, path, n, kind):
        """Records what was done to request n of `path`."""
        with self._lock:
            self.log.append((method, path, n, kind))
            if kind:
                self.applied[kind] += 1

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._serve("GET")

            def do_HEAD(self):
                self._serve("HEAD")

            def _serve(self, method):
                n, kind = proxy._decide(method, self.path)
                if kind in ("reset", "5xx", "403"):
                    proxy._note(method, self.path, n, kind)
                if kind == "reset":
                    # SO_LINGER 0: close() sends a RST instead of a FIN.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind == "5xx":
                    return self._answer(random.Random(f"{proxy.seed}:{self.path}:{n}").choice([500, 502, 503]),
                                        [("Content-Type", "text/plain")], b"upstream unavailable\n")
                if kind == "403":
                    return self._answer(403, [("Content-Type", "text/html")], OUTAGE_PAGE)

                status, headers, body = self._forward(method)
                if kind in BODY_KINDS and not (status in (200, 206) and body):
                    kind = None
                proxy._note(method, self.path, n, kind)
                if kind == "flip":
                    damaged = bytearray(body)
                    at = proxy.flip_at if proxy.flip_at is not None else \
                        random.Random(f"{proxy.seed}:flip:{self.path}:{n}").randrange(len(damaged))
                    damaged[at] ^= 0x01
                    body = bytes(damaged)
                if kind in (None, "flip"):
                    return self._answer(status, headers, body, head=method == "HEAD")
                self._answer(status, headers, b"", length=len(body))
                if kind == "truncate":
                    self._write(body[: len(body) // 2])
                elif kind == "stall":
                    self._write(body[: len(body) // 3])
                    proxy._stopping.wait(proxy.stall)
                elif kind == "slow":
                    step = max(1, len(body) // 8)
                    for i in range(0, len(body), step):
                        if not self._write(body[i:i + step]) or proxy._stopping.wait(0.025):
                            break
                    else:
                        return
                self.close_connection = True

            def _forward(self, method):
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "keep-alive", "proxy-connection")}
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    conn.request(method, self.path, headers=headers)
                    response = conn.getresponse()
                    body = response.read()
                    kept = [(k, v) for k, v in response.getheaders()
                            if k.lower() not in ("content-length", "connection", "keep-alive", "transfer-encoding", "date", "server")]
                    return response.status, kept, body
                finally:
                    conn.close()

            def _answer(self, status, headers, body, length=None, head=False):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                if not head:
                    self._write(body)

            def _write(self, data):
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                    return True
                except OSError:
                    self.close_connection = True
                    return False

        return Handler
