#!/usr/bin/env python3
"""The local servers the tool tests (Tests/tools/conftest.py), the demo and the benchmark
run, each on free loopback ports, in one place: the archive mirror (`rclone serve s3`
over a tree from make-mirror.py), SeaweedFS (`weed mini`: master, volume, filer and S3,
with the flags that make it answer like AWS), a small stdlib SigV4 client, and
PostgreSQL (Debian's `postgresql`, run as an unprivileged user in a temporary directory).

As a command (for scripts/demo.sh):

    scripts/arcservers.py port                               # prints a free loopback port
    scripts/arcservers.py mirror start ROOT [--port N]       # prints `export ARC_BINANCE_*`;
                                                             # pid in ROOT.pid, log in ROOT.log
    scripts/arcservers.py mirror stop ROOT
    scripts/arcservers.py seaweed start DIR [--bucket NAME]  # prints `export AWS_...`; pid in DIR/weed.pid
    scripts/arcservers.py seaweed stop DIR
    scripts/arcservers.py postgres start DIR                 # prints `export ARC_POSTGRES_URL=...`;
                                                             # pid in DIR/postgres.pid, log in DIR/postgres.log
    scripts/arcservers.py postgres stop DIR                  # stops it and removes its data directory
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
BUCKET = "data.binance.vision"


def free_port():
    """A TCP port free on 127.0.0.1 now (another process may take it before it is bound)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The archive mirror: rclone serve s3 ---------------------------------------------------

class RcloneS3:
    """`rclone serve s3` over ROOT (each directory in it a bucket, anonymous access) on a
    loopback port: the same ListObjects XML and GETs the real archive bucket answers.

    `dir_cache_time="0s"` makes every listing read the tree again (the tests change it
    between runs). `url` is the archive bucket's URL.
    """

    def __init__(self, root, port=None, bucket=BUCKET, dir_cache_time=None):
        self.root = Path(root)
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.endpoint}/{bucket}"
        self.dir_cache_time = dir_cache_time
        self.proc = None

    def start(self, log=None, new_session=False, timeout=20):
        """Starts it and waits until a listing answers; RuntimeError if it does not in
        `timeout` seconds. `log`: an open file for its output (else discarded)."""
        cache = ["--dir-cache-time", self.dir_cache_time] if self.dir_cache_time else []
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "rclone"), "serve", "s3", "--addr", f"127.0.0.1:{self.port}", *cache, str(self.root)],
            stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL, start_new_session=new_session)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rclone serve s3 exited {self.proc.returncode}")
            try:
                urllib.request.urlopen(f"{self.url}?prefix=data/&delimiter=/", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("rclone serve s3 did not start")

    def stop(self):
        """SIGKILL (it holds nothing worth a clean stop) and waits for it."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)


# --- Authenticated S3: SeaweedFS -----------------------------------------------------------

S3_ACCESS_KEY = "arc-test-key"
S3_SECRET_KEY = "arc-test-secret-0123456789abcdef"
S3_REGION = "us-east-1"


class S3Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    def __repr__(self):
        return f"<S3 {self.status} {self.body[:500]!r}>"


class S3Client:
    """A minimal SigV4 client (stdlib only, path style) for fixtures and checks.

    It is independent of the tools under test: seeding and verifying objects through it
    (or through aws/s5cmd) keeps a bug that is symmetric in upload and download from
    cancelling out.
    """

    def __init__(self, endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, region=S3_REGION):
        parsed = urllib.parse.urlsplit(endpoint)
        self.host, self.port = parsed.hostname, parsed.port
        self.access_key, self.secret_key, self.region = access_key, secret_key, region

    def request(self, method, bucket="", key="", query=None, body=b"", headers=None, timeout=30):
        import hashlib
        import hmac
        import http.client
        path = "/" + urllib.parse.quote(bucket, safe="") if bucket else "/"
        if key:
            path += "/" + urllib.parse.quote(key, safe="/~")
        enc = lambda v: urllib.parse.quote(str(v), safe="-_.~")
        canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted((query or {}).items()))
        now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        payload_hash = hashlib.sha256(body).hexdigest()
        h = {k.lower(): str(v).strip() for k, v in (headers or {}).items()}
        h.update({"host": f"{self.host}:{self.port}", "x-amz-date": now, "x-amz-content-sha256": payload_hash})
        signed = sorted(h)
        canonical = "\n".join([method, path, canonical_query, *(f"{k}:{h[k]}" for k in signed), "",
                               ";".join(signed), payload_hash])
        scope = f"{now[:8]}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", now, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        k = ("AWS4" + self.secret_key).encode()
        for part in (now[:8], self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                              f"SignedHeaders={';'.join(signed)}, Signature={signature}")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path + ("?" + canonical_query if canonical_query else ""), body=body, headers=h)
            resp = conn.getresponse()
            return S3Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def _ok(self, resp, *statuses):
        assert resp.status in (statuses or (200,)), resp
        return resp

    def buckets(self):
        import xml.etree.ElementTree as ET
        root = ET.fromstring(self._ok(self.request("GET")).body)
        return [e.text for e in root.iter() if e.tag.endswith("}Name") or e.tag == "Name"]

    def create_bucket(self, bucket):
        self._ok(self.request("PUT", bucket))

    def put(self, bucket, key, data, metadata=None, headers=None):
        """PutObject in one request; returns the response headers (etag...)."""
        h = dict(headers or {})
        h.update({f"x-amz-meta-{k}": v for k, v in (metadata or {}).items()})
        return self._ok(self.request("PUT", bucket, key, body=data, headers=h)).headers

    def get(self, bucket, key):
        return self._ok(self.request("GET", bucket, key)).body

    def head(self, bucket, key):
        """The object's headers, or None when it does not exist."""
        resp = self.request("HEAD", bucket, key)
        if resp.status == 404:
            return None
        return self._ok(resp).headers

    def delete(self, bucket, key):
        self._ok(self.request("DELETE", bucket, key), 204, 200)

    def list(self, bucket, prefix=""):
        """Every object under prefix (ListObjectsV2, all pages): [{key, size, etag}]."""
        import xml.etree.ElementTree as ET
        out, token = [], None
        while True:
            q = {"list-type": "2", "prefix": prefix, "encoding-type": "url"}
            if token:
                q["continuation-token"] = token
            root = ET.fromstring(self._ok(self.request("GET", bucket, query=q)).body)
            ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            for c in root.findall(f"{ns}Contents"):
                out.append({"key": urllib.parse.unquote_plus(c.findtext(f"{ns}Key")),
                            "size": int(c.findtext(f"{ns}Size")), "etag": c.findtext(f"{ns}ETag").strip('"')})
            token = root.findtext(f"{ns}NextContinuationToken")
            if root.findtext(f"{ns}IsTruncated") != "true" or not token:
                return out

    def keys(self, bucket, prefix=""):
        return sorted(o["key"] for o in self.list(bucket, prefix))

    def uploads(self, bucket):
        """Multipart uploads in progress (ListMultipartUploads, first page): [(key, upload_id)]."""
        import xml.etree.ElementTree as ET
        root = ET.fromstring(self._ok(self.request("GET", bucket, query={"uploads": ""})).body)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        return [(u.findtext(f"{ns}Key"), u.findtext(f"{ns}UploadId")) for u in root.findall(f"{ns}Upload")]

    def parts(self, bucket, key, upload_id):
        """The part numbers an upload holds (ListParts, first page)."""
        import xml.etree.ElementTree as ET
        resp = self.request("GET", bucket, key, query={"uploadId": upload_id})
        if resp.status == 404:
            return []
        root = ET.fromstring(self._ok(resp).body)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        return [int(p.findtext(f"{ns}PartNumber")) for p in root.findall(f"{ns}Part")]


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


class SeaweedFS:
    """`weed mini` (master, volume, filer, S3) on free loopback ports, keys from its environment.

    Made to answer like AWS where a flag allows: no bucket auto-created on upload and no
    deleting a bucket that still holds objects (both on by default in weed mini). S3 also
    answers virtual-host requests for BUCKET.localhost (-s3.domainName=localhost).
    """

    def __init__(self, root, bucket="arc-test", access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY):
        self.root = Path(root)
        self.bucket = bucket
        self.access_key, self.secret_key = access_key, secret_key
        self.proc = None
        self.port = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kw):
        return S3Client(self.endpoint, **{"access_key": self.access_key, "secret_key": self.secret_key, **kw})

    def start(self, attempts=3):
        # A port picked free can be taken before weed binds it: try again on new ports.
        for attempt in range(attempts):
            try:
                return self._start()
            except RuntimeError:
                self.stop()
                if attempt == attempts - 1:
                    raise

    def _start(self):
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        admin = admin_port()
        ports = {"s3.port": self.port, "s3.port.grpc": free_port(), "master.port": free_port(),
                 "master.port.grpc": free_port(), "filer.port": free_port(), "filer.port.grpc": free_port(),
                 "volume.port": free_port(), "volume.port.grpc": free_port(), "admin.port": admin,
                 "admin.port.grpc": admin + 10000}
        self.ports = ports
        # Log files, temp files and the two unix sockets weed lets us place go under root
        # (its gRPC sockets stay in /tmp, named by port, removed on a clean stop).
        args = [str(VENV_BIN / "weed"), f"-logdir={self.root}", "mini", f"-dir={data}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", f"-bucket={self.bucket}", *(f"-{k}={v}" for k, v in ports.items()),
                "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", "-s3.allowDeleteBucketNotEmpty=false", "-s3.autoCreateBucket=false",
                "-s3.domainName=localhost", "-volume.preStopSeconds=0",
                f"-s3.localSocket={data}/s3.sock", f"-filer.localSocket={data}/filer.sock"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        env.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key, HOME=str(self.root),
                   TMPDIR=str(self.root))
        self.log = self.root / "weed.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root,
                                         start_new_session=True)
        client = self.client()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited {self.proc.returncode}: {self.log_tail()}")
            try:
                # An authenticated ListBuckets that shows the startup bucket: S3, filer and keys ready.
                if self.bucket in client.buckets():
                    break
            except (OSError, AssertionError):
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"weed mini did not answer S3 requests: {self.log_tail()}")
        self._one_collection(ports["filer.port"])
        return self

    def _one_collection(self, filer_port):
        """Stores every bucket in one collection. By default each bucket gets a collection,
        whose volume its first write grows: 0.2 s, about a second when uploads race for
        it, and a volume (of a few dozen) per bucket. Then grows that one volume."""
        import http.client
        conf = json.dumps({"locations": [{"locationPrefix": "/buckets/", "collection": "arc"}]}).encode()
        body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="filer.conf"\r\n\r\n'
                + conf + b"\r\n--b--\r\n")
        conn = http.client.HTTPConnection("127.0.0.1", filer_port, timeout=30)
        try:
            conn.request("POST", "/etc/seaweedfs/filer.conf", body=body,
                         headers={"Content-Type": "multipart/form-data; boundary=b"})
            resp = conn.getresponse()
            assert resp.status in (200, 201), (resp.status, resp.read())
        finally:
            conn.close()
        client = self.client()
        client.put(self.bucket, ".warm-up", b"x")
        client.delete(self.bucket, ".warm-up")

    def log_tail(self, n=4000):
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        # A clean stop takes about a second; after many deletes weed's filer can take ten
        # and more to drain, and the data is thrown away anyway: kill it then, and remove
        # the gRPC sockets it leaves in /tmp.
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                for server in ("master", "volume", "filer", "s3", "admin"):
                    port = self.ports[f"{server}.port.grpc"]
                    Path(f"/tmp/seaweedfs-{server}-grpc-{port}.sock").unlink(missing_ok=True)
            except ProcessLookupError:
                pass
        self.proc = None

    def env(self, home):
        """os.environ without AWS_*/S3_* settings of the machine, plus this server's keys,
        region and endpoint; HOME is `home` so no ~/.aws of the machine is read."""
        Path(home).mkdir(parents=True, exist_ok=True)
        drop = ("AWS_", "S3_", "ARC_")
        e = {k: v for k, v in os.environ.items() if not k.startswith(drop) and "proxy" not in k.lower()}
        e.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key,
                 AWS_REGION=S3_REGION, AWS_DEFAULT_REGION=S3_REGION, AWS_ENDPOINT_URL=self.endpoint,
                 AWS_EC2_METADATA_DISABLED="true", HOME=str(home))
        return e


# --- Shared state: PostgreSQL ---------------------------------------------------------------

PG_USER = "arc"
PG_PASSWORD = "arc-test-password-0123"
PG_DATABASE = "arc"


def postgres_bin():
    """Debian's server binaries (/usr/lib/postgresql/VERSION/bin), the newest version installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("no /usr/lib/postgresql/*/bin/postgres: install Debian's postgresql (scripts/setup.sh)")
    return Path(found[-1]).parent


class PostgreSQL:
    """A PostgreSQL server on a free 127.0.0.1 port, its cluster in a directory of its own,
    thrown away on stop(): superuser `arc` with a password (scram-sha-256 over TCP, so a
    wrong password is refused), database `arc`, no Unix socket, no durability (fsync off:
    the data dies with the test).

    initdb and postgres refuse to run as root, and CI runs as root: then the server runs as
    the `postgres` system user Debian's package creates (setpriv, which execs, so the pid we
    hold is the postmaster's), and its directory is a fresh one in the system's temporary
    directory that it owns (pytest's tmp_path sits under a 0700 root directory it could not
    enter). As any other user it runs as that user under `root`.
    """

    def __init__(self, root, user=PG_USER, password=PG_PASSWORD, database=PG_DATABASE):
        self.root = Path(root)
        self.user, self.password, self.database = user, password, database
        self.proc = None
        self.port = None
        self.cluster = None  # the directory holding data/ (and the password file while initdb runs)
        self.log = self.root / "postgres.log"

    @property
    def url(self):
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _as_server_user(self):
        if os.geteuid() != 0:
            return []
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", TZ="UTC")
        return env

    def start(self, attempts=3):
        """Creates the cluster, starts the server and creates the database; RuntimeError
        when it does not come up. A port picked free can be taken before postgres binds it:
        then it tries again on another."""
        self.root.mkdir(parents=True, exist_ok=True)
        bin = postgres_bin()
        if os.geteuid() == 0:
            import pwd
            server_user = pwd.getpwnam("postgres")
            self.cluster = Path(tempfile.mkdtemp(prefix="arc-postgres-"))
            os.chown(self.cluster, server_user.pw_uid, server_user.pw_gid)
        else:
            self.cluster = Path(tempfile.mkdtemp(prefix="postgres-", dir=self.root))
        data = self.cluster / "data"
        pwfile = self.cluster / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, server_user.pw_uid, server_user.pw_gid)
        with open(self.log, "ab") as log:
            init = subprocess.run(
                [*self._as_server_user(), str(bin / "initdb"), "-D", str(data), "-U", self.user,
                 f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                 "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                stdout=log, stderr=subprocess.STDOUT, env=self._env(), cwd=self.cluster)
        pwfile.unlink()
        if init.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb exited {init.returncode}: {self.log_tail()}")
        for attempt in range(attempts):
            try:
                self._start_server(bin, data)
                break
            except RuntimeError:
                self._kill()
                if attempt == attempts - 1:
                    self.stop()
                    raise
        createdb = subprocess.run(
            [str(bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.database],
            capture_output=True, text=True, env={**self._env(), "PGPASSWORD": self.password})
        if createdb.returncode != 0:
            self.stop()
            raise RuntimeError(f"createdb exited {createdb.returncode}: {createdb.stderr}")
        return self

    def _start_server(self, bin, data, timeout=30):
        self.port = free_port()
        settings = {"listen_addresses": "127.0.0.1", "port": self.port, "unix_socket_directories": "",
                    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                    "shared_buffers": "32MB", "max_connections": "200", "logging_collector": "off"}
        args = [*self._as_server_user(), str(bin / "postgres"), "-D", str(data),
                *(f"-c{k}={v}" for k, v in settings.items())]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=self._env(),
                                         cwd=self.cluster, start_new_session=True)
        # postmaster.pid's eighth line says "ready" once the server accepts connections.
        pid_file = data / "postmaster.pid"
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited {self.proc.returncode}: {self.log_tail()}")
            try:
                lines = pid_file.read_text().splitlines()
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"postgres did not start: {self.log_tail()}")

    def log_tail(self, n=4000):
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def _kill(self):
        # Immediate shutdown (SIGQUIT) to the whole group: the postmaster and its backends
        # stop at once; the data is thrown away, so nothing is worth a checkpoint.
        # (Waited for here, not in stop_pid_group: our own child stays a zombie, which
        # killpg(pid, 0) still finds, until it is reaped.)
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGQUIT)
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self.proc = None

    def stop(self):
        """Kills the server and removes its cluster directory."""
        self._kill()
        if self.cluster:
            shutil.rmtree(self.cluster, ignore_errors=True)
            self.cluster = None


def zombie(pid):
    """Whether pid has exited but is not reaped yet (a daemon started by an earlier command
    is reaped by whatever init the machine has, which in a container may be slow or never).
    The leader of a group exits last, so a zombie leader means the group is done."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def stop_pid_group(pid, sig=signal.SIGTERM):
    """`sig` (SIGTERM) to a process group, SIGKILL if it lingers past 3 s."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        if zombie(pid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def usage():
    print(__doc__.strip(), file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) == 2 and argv[1] == "port":
        print(free_port())
        return
    if len(argv) < 4 or argv[1] not in ("mirror", "seaweed", "postgres") or argv[2] not in ("start", "stop"):
        usage()
    server, action, root = argv[1], argv[2], Path(argv[3])
    if server == "postgres":
        return postgres_command(action, root, argv[4:])
    options = dict(zip(argv[4::2], argv[5::2]))
    if len(argv[4:]) % 2 or not set(options) <= {"--port", "--bucket"}:
        usage()
    pid_file = root / "weed.pid" if server == "seaweed" else root.with_name(root.name + ".pid")
    if action == "stop":
        if pid_file.exists():
            stop_pid_group(int(pid_file.read_text()))
            pid_file.unlink()
        return
    if server == "mirror":
        # Every listing reads the tree afresh: the demo publishes a new day and republishes.
        m = RcloneS3(root, port=int(options["--port"]) if "--port" in options else None, dir_cache_time="0s")
        with open(root.with_name(root.name + ".log"), "ab") as log:
            m.start(log=log, new_session=True)
        pid_file.write_text(str(m.proc.pid))
        print(f"export ARC_BINANCE_LIST_URL={m.url} ARC_BINANCE_DOWNLOAD_URL={m.url}")
        return
    s = SeaweedFS(root, bucket=options.get("--bucket", "arc-test")).start()
    pid_file.write_text(str(s.proc.pid))
    print(f"export AWS_ACCESS_KEY_ID={s.access_key} AWS_SECRET_ACCESS_KEY={s.secret_key} "
          f"AWS_REGION={S3_REGION} AWS_ENDPOINT_URL={s.endpoint} AWS_EC2_METADATA_DISABLED=true")


def postgres_command(action, root, rest):
    """`postgres start DIR` prints the URL as `export ARC_POSTGRES_URL=...` and leaves the
    server running (its pid in DIR/postgres.pid, its cluster directory's path in
    DIR/postgres.cluster); `postgres stop DIR` stops it and removes the cluster."""
    if rest:
        usage()
    pid_file, cluster_file = root / "postgres.pid", root / "postgres.cluster"
    if action == "stop":
        if pid_file.exists():
            pid = int(pid_file.read_text())
            stop_pid_group(pid, signal.SIGQUIT)
            pid_file.unlink()
        if cluster_file.exists():
            shutil.rmtree(cluster_file.read_text().strip(), ignore_errors=True)
            cluster_file.unlink()
        return
    p = PostgreSQL(root).start()
    pid_file.write_text(str(p.proc.pid))
    cluster_file.write_text(str(p.cluster))
    print(f"export ARC_POSTGRES_URL={p.url}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
