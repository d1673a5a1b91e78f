#!/usr/bin/env python3
"""SeaweedFS (`weed mini`: master, volume, filer and S3) on free loopback ports.

Shared by the tool tests (Tests/tools/conftest.py), the demo and the benchmark, so the
flags that make it answer like AWS live in one place. As a command:

    scripts/seaweed.py start DIR [--bucket NAME]   # prints `export AWS_...` lines; pid in DIR/weed.pid
    scripts/seaweed.py stop DIR
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEED = ROOT / ".venv" / "bin" / "weed"
ACCESS_KEY = "arc-test-key"
SECRET_KEY = "arc-test-secret"
REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_port():
    # weed mini's maintenance worker dials the admin server at its http port + 10000
    # whatever -admin.port.grpc says: give it that port.
    for _ in range(200):
        port = free_port()
        if port + 10000 < 65536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                    return port
                except OSError:
                    pass
    raise RuntimeError("no free port pair for weed's admin server")


def s3_ready(endpoint, bucket):
    """True once an S3 request is answered and the startup bucket exists (anonymous HEAD
    is refused with 403 when it exists, 404 when it does not yet)."""
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="HEAD"), timeout=1)
        return True
    except urllib.error.HTTPError as e:
        return e.code in (200, 403)
    except OSError:
        return False


class SeaweedFS:
    """Made to answer like AWS where a flag allows: no bucket auto-created on upload and no
    deleting a bucket that still holds objects (both on by default in weed mini). S3 also
    answers virtual-host requests for BUCKET.localhost (-s3.domainName=localhost)."""

    def __init__(self, root, bucket="arc-test", access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        self.root = Path(root)
        self.bucket = bucket
        self.access_key, self.secret_key = access_key, secret_key
        self.proc = None
        self.port = None
        self.log = self.root / "weed.log"

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, attempts=3, ready=None):
        """Starts weed and waits until `ready(self)` (default: the S3 port answers and the
        startup bucket exists). A port picked free can be taken before weed binds it: then
        it tries again on new ports."""
        for attempt in range(attempts):
            try:
                return self._start(ready or (lambda s: s3_ready(s.endpoint, s.bucket)))
            except RuntimeError:
                self.stop()
                if attempt == attempts - 1:
                    raise

    def _start(self, ready):
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        admin = admin_port()
        ports = {"s3.port": self.port, "s3.port.grpc": free_port(), "master.port": free_port(),
                 "master.port.grpc": free_port(), "filer.port": free_port(), "filer.port.grpc": free_port(),
                 "volume.port": free_port(), "volume.port.grpc": free_port(), "admin.port": admin,
                 "admin.port.grpc": admin + 10000}
        # Log files, temp files and the two unix sockets weed lets us place go under root
        # (its gRPC sockets stay in /tmp, named by port, removed on a clean stop).
        args = [str(WEED), f"-logdir={self.root}", "mini", f"-dir={data}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", f"-bucket={self.bucket}", *(f"-{k}={v}" for k, v in ports.items()),
                "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", "-s3.allowDeleteBucketNotEmpty=false", "-s3.autoCreateBucket=false",
                "-s3.domainName=localhost", "-volume.preStopSeconds=0",
                f"-s3.localSocket={data}/s3.sock", f"-filer.localSocket={data}/filer.sock"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        env.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key, HOME=str(self.root),
                   TMPDIR=str(self.root))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root,
                                         start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited {self.proc.returncode}: {self.log_tail()}")
            if ready(self):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"weed mini did not answer S3 requests: {self.log_tail()}")

    def log_tail(self, n=4000):
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        # A clean stop (about 1 s) removes weed's sockets from /tmp; after many deletes its
        # filer can take 10 s and more to drain, and the data is thrown away anyway.
        if self.proc and self.proc.poll() is None:
            stop_group(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.proc = None

    def env(self, home, base=None):
        """The environment without the machine's AWS_*/S3_*/ARC_* settings, plus this
        server's keys, region and endpoint; HOME is `home` so no ~/.aws is read."""
        Path(home).mkdir(parents=True, exist_ok=True)
        drop = ("AWS_", "S3_", "ARC_")
        e = {k: v for k, v in (base or os.environ).items() if not k.startswith(drop) and "proxy" not in k.lower()}
        e.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key,
                 AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, AWS_ENDPOINT_URL=self.endpoint,
                 AWS_EC2_METADATA_DISABLED="true", HOME=str(home))
        return e


def stop_group(pid):
    """SIGTERM to weed's process group, SIGKILL if it lingers past 3 s."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv):
    if len(argv) < 3 or argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    root = Path(argv[2])
    if argv[1] == "stop":
        pid_file = root / "weed.pid"
        if pid_file.exists():
            stop_group(int(pid_file.read_text()))
            pid_file.unlink()
        return
    bucket = argv[argv.index("--bucket") + 1] if "--bucket" in argv else "arc-test"
    s = SeaweedFS(root, bucket=bucket).start()
    (root / "weed.pid").write_text(str(s.proc.pid))
    print(f"export AWS_ACCESS_KEY_ID={s.access_key} AWS_SECRET_ACCESS_KEY={s.secret_key} "
          f"AWS_REGION={REGION} AWS_ENDPOINT_URL={s.endpoint} AWS_EC2_METADATA_DISABLED=true")


if __name__ == "__main__":
    main(sys.argv)
