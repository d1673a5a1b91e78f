"""Secrets stay secret. Every tool runs with secrets planted in every input a user could
put them in (AWS keys in the environment and in ~/.aws/credentials, passwords in
Pushgateway and OTLP URLs, presigned task URLs, bearer tokens in OTLP headers, command
lines), fails in the ways that print the most (dead hosts, 503s and 403s, retries,
--log-level debug), and then every byte it wrote is searched for each secret: stdout,
stderr, span files, metrics files, what a live OTLP receiver got, the state database and
its WAL, and every other file under the test's directory. Records on stdout keep the
user's own data as given (a task's url is theirs); nothing the tools add may carry one."""
import json
import os
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import free_port, records, run, tool
from otlp_receiver import OTLPReceiver

SECRETS = {
    "aws_secret": "wJalrXUtnFEMIK7MDENGbPxRfiCYPLANTED01",
    "aws_token": "FQoGZXIvYXdzEPLANTEDSESSIONTOKEN02",
    "profile_secret": "ProfileSecretPLANTED03xyz",
    "push_password": "PushPassPLANTED04",
    "otlp_password": "OtlpPassPLANTED05",
    "otlp_token": "OtlpBearerPLANTED06",
    "signature": "SigPLANTED07abcdef0123",
    "credential": "CredPLANTED08",
    "security_token": "StsTokenPLANTED09",
    "exec_password": "ExecPassPLANTED10",
    "env_file_password": "EnvFilePassPLANTED11",
}


class Refusing:
    """An HTTP server on 127.0.0.1 answering every request with `status`."""

    def __init__(self, status):
        code = status

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                body = b"no\n"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def base_env(home):
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("ARC_", "OTEL_", "AWS_", "XDG_")) and k != "TRACEPARENT"}
    e.update(HOME=str(home), ARC_LOG_FORMAT="json", AWS_EC2_METADATA_DISABLED="true")
    return e


def presigned(url):
    return (url + f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={SECRETS['credential']}%2F20261206"
            f"&X-Amz-Signature={SECRETS['signature']}&X-Amz-Security-Token={SECRETS['security_token']}")


def leaks(text, where):
    return [f"{name} in {where}" for name, secret in SECRETS.items() if secret in text]


def without_user_urls(stdout):
    """stdout's records less the fields that echo the user's own input (a task's urls)."""
    out = []
    for r in records(stdout):
        r = {k: v for k, v in r.items() if k not in ("url", "checksum_url")}
        out.append(json.dumps(r))
    return "\n".join(out)


def test_no_secret_reaches_a_log_span_metric_error_or_the_state(tmp_path, mirror):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        f"[planted]\naws_access_key_id = AKIDPLANTED\naws_secret_access_key = {SECRETS['profile_secret']}\n")
    out = tmp_path / "out"
    out.mkdir()
    found = []
    dead = free_port()
    with Refusing(503) as refusing, OTLPReceiver() as receiver, OTLPReceiver(status=503) as refusing_otlp:
        env = base_env(home)
        env.update(
            AWS_ACCESS_KEY_ID="AKIDPLANTED", AWS_SECRET_ACCESS_KEY=SECRETS["aws_secret"],
            AWS_SESSION_TOKEN=SECRETS["aws_token"], AWS_REGION="us-east-1",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url.replace("http://", f"http://user:{SECRETS['otlp_password']}@"),
            OTEL_EXPORTER_OTLP_HEADERS=f"authorization=Bearer%20{SECRETS['otlp_token']}",
            ARC_BINANCE_LIST_URL=mirror.url, ARC_BINANCE_DOWNLOAD_URL=mirror.url)
        common = ["--log-level", "debug", "--pushgateway", f"http://user:{SECRETS['push_password']}@127.0.0.1:{dead}/"]

        # arc-discover | arc-plan for real tasks, then their urls presigned on a server that
        # answers 503 to everything: retries, then failures, all logged at debug.
        d = run("arc-discover", "binance", "--market", "um", "--type", "klines", "--symbol", "BTCUSDT",
                "--interval", "1m", "--period", "daily", *common, "--trace", str(out / "discover.spans"), env=env)
        assert d.status == 0, d
        p = run("arc-plan", "--dest", str(tmp_path / "data"), *common, "--trace", str(out / "plan.spans"),
                input=d.stdout, env=env)
        assert p.status == 0, p
        tasks = p.records[:3]
        base = f"http://127.0.0.1:{refusing.port}/"
        for t in tasks:
            t["url"] = presigned(base + t["key"])
            t["checksum_url"] = presigned(base + t["key"] + ".CHECKSUM")
        c = run("arc-collect", "--retries", "2", *common, "--trace", str(out / "collect.spans"),
                "--metrics-file", str(out / "collect.prom"), input=tasks, env=env)
        assert c.status != 0, c
        assert any(r.get("status") == "failed" for r in c.records), c
        found += leaks(without_user_urls(c.stdout), "arc-collect stdout")
        for name, r in (("arc-discover", d), ("arc-plan", p), ("arc-collect", c)):
            found += leaks(r.stderr, f"{name} stderr")

        # A collector that refuses: the "not delivered" warnings name the endpoint.
        refused_env = dict(env, OTEL_EXPORTER_OTLP_ENDPOINT=refusing_otlp.url.replace(
            "http://", f"http://user:{SECRETS['otlp_password']}@"))
        r = run("arc-plan", "--dest", str(tmp_path / "data"), *common, input="", env=refused_env)
        assert "not delivered" in r.stderr, r
        found += leaks(r.stdout + r.stderr, "arc-plan (refused OTLP)")

        # s3x with planted keys against a server that refuses (403) and a dead one, from the
        # environment and from a profile in ~/.aws/credentials.
        (tmp_path / "f.txt").write_text("x")
        s3_env = dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{refusing.port}")
        with Refusing(403) as forbidding:
            s3_env403 = dict(s3_env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{forbidding.port}")
            for args in (["ls", "s3://bucket/"], ["--json", "cp", str(tmp_path / "f.txt"), "s3://bucket/k"],
                         ["cat", "s3://bucket/k"]):
                for e in (s3_env403, dict(s3_env403, AWS_PROFILE="planted", AWS_ACCESS_KEY_ID="",
                                          AWS_SECRET_ACCESS_KEY="", AWS_SESSION_TOKEN="")):
                    r = run("s3x", "--log-level", "debug", "--retry-count", "1", "--trace", str(out / "s3x.spans"),
                            *args, env=e)
                    assert r.status != 0, r
                    found += leaks(r.stdout + r.stderr, f"s3x {' '.join(args)}")

        # telem-trace exec records the command line in its span; the command has a password.
        r = run("telem-trace", "exec", "--trace", str(out / "exec.spans"), "--", "sh", "-c", "exit 3", "x",
                f"https://deploy:{SECRETS['exec_password']}@example.invalid/hook", env=env)
        assert r.status == 3, r
        found += leaks(r.stdout + r.stderr, "telem-trace exec")
        r = run("telem-trace", "ingest", str(out / "exec.spans"), str(out / "collect.spans"), env=env)
        assert r.status == 0, r

        # wf-run with its secret in an env_file: the step uses it and fails, retried, traced.
        (tmp_path / "flow.env").write_text(f"DB_PASSWORD={SECRETS['env_file_password']}\n")
        (tmp_path / "flow.toml").write_text(
            'name = "secretive"\nenv_file = "flow.env"\n[[step]]\nid = "load"\nretries = 1\nretry_delay = "10ms"\n'
            'run = \'test -n "$DB_PASSWORD" && echo "loading as user" >&2 && exit 4\'\n')
        r = run("wf-run", "--log-level", "debug", "--trace", str(out / "wf.spans"), "run", str(tmp_path / "flow.toml"),
                env=env)
        assert r.status != 0 and "exit status 4" in r.stdout + r.stderr, r
        found += leaks(r.stdout + r.stderr, "wf-run run")
        for args in (["status"], ["history"], ["validate", str(tmp_path / "flow.toml")]):
            r = run("wf-run", *args, env=env)
            found += leaks(r.stdout + r.stderr, f"wf-run {args[0]}")

        # What the live collector received (spans and logs as sent).
        assert receiver.spans, "the live receiver got the spans"
        found += leaks(json.dumps(receiver.bodies), "the OTLP bodies")

    # Every file under the test's directory but the inputs where the secrets were planted:
    # span files, metrics, the state database (default path, under HOME) and its WAL.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path not in (home / ".aws" / "credentials", tmp_path / "flow.env"):
            found += leaks(path.read_bytes().decode("utf-8", "replace"), str(path.relative_to(tmp_path)))
    assert found == [], "\n".join(found)

    # A first run from an empty home: the state directory 0700, the database 0600.
    state = home / ".local" / "state" / "arc"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / ".local" / "state").stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "state.db").stat().st_mode) == 0o600


def test_a_state_directory_others_can_read_is_warned_about_once(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    env = base_env(tmp_path / "home")
    first = run("arc-plan", "--state", str(shared / "state.db"), "--dest", str(tmp_path / "d"), input="", env=env)
    assert first.status == 0, first
    warnings = [r for r in first.logs if r["level"] == "warn"]
    assert len(warnings) == 1 and f"chmod 700 {shared}" in warnings[0]["msg"], first
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755, "no silent chmod"
    assert stat.S_IMODE((shared / "state.db").stat().st_mode) == 0o600
    again = run("arc-plan", "--state", str(shared / "state.db"), "--dest", str(tmp_path / "d"), input="", env=env)
    assert [r for r in again.logs if r["level"] == "warn"] == [], "said once"


def test_wf_run_run_directories_are_private(tmp_path):
    flow = tmp_path / "flow.toml"
    flow.write_text('name = "private"\n[[step]]\nid = "hello"\nrun = "echo hello > out.txt"\n')
    env = base_env(tmp_path / "home")
    r = run("wf-run", "run", str(flow), env=env)
    assert r.status == 0, r
    runs = tmp_path / "home" / ".local" / "state" / "arc" / "runs"
    dirs = [p for p in runs.rglob("*") if p.is_dir()]
    assert dirs, r
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in dirs), [(str(p), oct(p.stat().st_mode)) for p in dirs]
