"""A static HTTP server for tool tests that also watches its clients: it serves a
directory (index.html for a folder, as a CDN's HTML index), logs every request's time,
path and User-Agent, and can play a CDN that bans: after `ban_after` answered requests it
refuses the next `ban_for` with 403 (and Retry-After when `retry_after` is set)."""
import os
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from arcservers import free_port


class StaticHTTP:
    def __init__(self, root):
        self.root = str(root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests = []  # (monotonic time, path, user agent, status)
        self.lock = threading.Lock()
        self.ban_after = None
        self.ban_for = 0
        self.retry_after = None
        self.answered = 0
        self.server = None

    def start(self):
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=outer.root, **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                with outer.lock:
                    banned = outer.ban_after is not None and outer.answered >= outer.ban_after and outer.ban_for > 0
                    if banned:
                        outer.ban_for -= 1
                    else:
                        outer.answered += 1
                    outer.requests.append((time.monotonic(), self.path, self.headers.get("User-Agent"),
                                           403 if banned else 200))
                if banned:
                    body = b"<html><body>403 Forbidden</body></html>"
                    self.send_response(403)
                    if outer.retry_after is not None:
                        self.send_header("Retry-After", str(outer.retry_after))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def max_in_window(self, seconds=1.0, status=None):
        """The most requests that started within any window of `seconds`."""
        times = sorted(t for t, _, _, s in self.requests if status is None or s == status)
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - seconds:
                j += 1
            best = max(best, i - j + 1)
        return best
