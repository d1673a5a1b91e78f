"""The servers the rows run against, on free loopback ports: the archive mirror (rclone
serve s3) and SeaweedFS as scripts/arcservers.py starts them for the tests and the demo,
plus nginx (the static side of the archive) and an OTLP sink."""
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .common import BUCKET, ROOT, fresh

sys.path.insert(0, str(ROOT / "scripts"))
import arcservers  # noqa: E402
from arcservers import free_port  # noqa: E402


class Server(arcservers.RcloneS3):
    """rclone serve s3 over a mirror directory, on a free loopback port."""

    def __init__(self, root):
        super().__init__(root)
        try:
            self.start()
        except RuntimeError:
            raise SystemExit("bench: rclone serve s3 did not start")


class StaticServer:
    """nginx serving the same mirror as plain files: the download side of the real archive
    is a CDN (data.binance.vision), not S3, and costs the server little per request."""

    def __init__(self, root, work):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/{BUCKET}"
        conf_dir = fresh(work / "nginx")
        temp = "".join(f"  {t}_temp_path {conf_dir}/{t};\n" for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (conf_dir / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {conf_dir}/nginx.pid;\nerror_log {conf_dir}/error.log;\n"
            f"events {{ worker_connections 4096; }}\n"
            f"http {{\n  access_log off;\n  sendfile on;\n  keepalive_requests 1000000;\n{temp}"
            f"  server {{ listen 127.0.0.1:{self.port}; root {root}; }}\n}}\n")
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"),
                                      "-e", str(conf_dir / "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1)
            except urllib.error.HTTPError:
                return  # answering (403/404 for the root) is all we need
            except OSError:
                time.sleep(0.05)
                continue
            return
        raise SystemExit("bench: nginx did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait()


class OTLPSink:
    """An OTLP/HTTP receiver that reads and discards every request: the collector the
    tracing row sends to, so the cost of export is counted, not a refused connection."""

    def __init__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


S3_BUCKET = "bench"


class SeaweedFS:
    """weed mini on free loopback ports (scripts/arcservers.py, as the tests and the demo start
    it), one bucket, a fresh data directory each bench, thrown away at the end."""

    def __init__(self, root):
        self.root = fresh(root)
        self.weed = arcservers.SeaweedFS(self.root, bucket=S3_BUCKET)
        # start() waits for an authenticated ListBuckets that shows the bucket.
        self.weed.start()
        self.endpoint = self.weed.endpoint
        self.key, self.secret, self.region = self.weed.access_key, self.weed.secret_key, arcservers.S3_REGION

    def env(self, home=None):
        """scripts/arcservers.py's environment (the server's keys, region and endpoint, no
        AWS_*/S3_*/ARC_* of the machine) for s3x and aws, plus remote `sw:` for rclone and
        an aws config that gives aws cli the same 64 transfers as everyone else."""
        home = Path(home or self.root / "home")
        e = {k: v for k, v in self.weed.env(home).items() if not k.startswith("RCLONE_")}
        e.update(ARC_STATE=str(home / "state.db"), ARC_LOG_LEVEL="warn",
                 RCLONE_CONFIG_SW_TYPE="s3", RCLONE_CONFIG_SW_PROVIDER="SeaweedFS",
                 RCLONE_CONFIG_SW_ACCESS_KEY_ID=self.key, RCLONE_CONFIG_SW_SECRET_ACCESS_KEY=self.secret,
                 RCLONE_CONFIG_SW_REGION=self.region, RCLONE_CONFIG_SW_ENDPOINT=self.endpoint)
        aws_config = home / "aws-config"
        aws_config.write_text("[default]\ns3 =\n  max_concurrent_requests = 64\n  max_queue_size = 10000\n")
        e["AWS_CONFIG_FILE"] = str(aws_config)
        return e

    def stop(self):
        self.weed.stop()
        shutil.rmtree(self.root, ignore_errors=True)
