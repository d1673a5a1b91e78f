"""telem-trace serve with a bearer token (--token-file), the refusal to listen beyond
loopback without one (or --no-auth), and arc's own exporters sending the token from
OTEL_EXPORTER_OTLP_HEADERS."""
import json
import urllib.error
import urllib.request

import pytest

from conftest import run
from test_telem_trace import Server, otlp_request, stored, tenv  # noqa: F401 (tenv is a fixture)

TOKEN = "s3cr3t-Tok3n_for.tests~"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "otlp-token"
    path.write_text(f"\n  {TOKEN}  \n")
    path.chmod(0o600)
    return path


def bearer(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers


def test_with_a_token_file_only_requests_carrying_the_token_are_stored(tenv, token_file):
    server = Server(dict(tenv, ARC_LOG_LEVEL="debug"), "--token-file", str(token_file))
    try:
        assert server.listening["auth"] == "bearer"
        assert server.before == [], "a 0600 file draws no warning"
        status, ctype, answer = server.post(otlp_request())
        assert (status, ctype) == (401, "application/json") and "Bearer" in answer["message"]
        conn_status, headers = get(server.url + "/v1/traces")
        assert conn_status == 401 and headers["WWW-Authenticate"] == "Bearer"
        status, _, answer = server.post(otlp_request(), headers=bearer("s3cr3t-Tok3n_for.tests"))
        assert status == 401 and answer == {"code": 16, "message": "wrong bearer token"}
        status, _, _ = server.post(otlp_request(), headers={"Authorization": f"Basic {TOKEN}"})
        assert status == 401
        # Every path asks for it, even those that do not exist.
        assert server.post(otlp_request(), path="/v1/logs")[0] == 401
        assert stored(tenv) == [], "nothing refused was stored"

        status, _, answer = server.post(otlp_request(), headers=bearer())
        assert (status, answer) == (200, {})
        status, _, answer = server.post(otlp_request(), headers={"Authorization": f"bearer {TOKEN}"})
        assert status == 200, "the scheme is case-insensitive"
        assert server.post(otlp_request(), path="/v1/metrics", headers=bearer())[0] == 404
    finally:
        code, err = server.stop()
    assert code == 143, err
    assert len(stored(tenv)) == 2
    assert TOKEN not in err and "s3cr3t" not in err, "the token never reaches the log"


def test_refusals_before_the_body_answer_a_protobuf_request_in_protobuf(tenv, token_file):
    """401 (no token) and 413 (a body over 64 MiB) are decided from the request's head,
    before the handler; OTLP still wants a google.rpc.Status in the request's encoding."""
    import http.client
    from google.rpc import status_pb2
    server = Server(tenv, "--token-file", str(token_file))
    try:
        def head_only(headers):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.putrequest("POST", "/v1/traces")
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()  # the body never comes: the answer must not wait for it
            r = conn.getresponse()
            answer = (r.status, r.getheader("Content-Type"), r.getheader("WWW-Authenticate"), r.read())
            conn.close()
            return answer

        protobuf = {"Content-Type": "application/x-protobuf", "Content-Length": "10"}
        status, ctype, challenge, body = head_only(protobuf)
        assert (status, ctype, challenge) == (401, "application/x-protobuf", "Bearer")
        assert status_pb2.Status.FromString(body) == status_pb2.Status(code=16, message="missing Authorization: Bearer token")
        status, ctype, _, body = head_only(dict(protobuf, **{"Content-Length": str(65 << 20)}, **bearer()))
        assert (status, ctype) == (413, "application/x-protobuf")
        assert status_pb2.Status.FromString(body).message == f"body over {64 << 20} bytes"
        # JSON requests, and those of no known type, keep the JSON Status.
        status, ctype, _, body = head_only({"Content-Type": "application/json", "Content-Length": "10"})
        assert (status, ctype, json.loads(body)["code"]) == (401, "application/json", 16)
        status, ctype, _, _ = head_only({"Content-Type": "text/plain", "Content-Length": str(65 << 20), **bearer()})
        assert (status, ctype) == (413, "application/json")
    finally:
        code, err = server.stop()
    assert code == 143, err


def test_a_token_file_others_can_read_draws_a_warning_and_bad_files_are_usage_errors(tenv, token_file, tmp_path):
    token_file.chmod(0o644)
    server = Server(tenv, "--token-file", str(token_file))
    try:
        [warning] = [json.loads(line) for line in server.before]
        assert warning["level"] == "warn" and str(token_file) in warning["msg"] and "644" in warning["msg"]
        assert TOKEN not in warning["msg"]
        assert server.post(otlp_request(), headers=bearer())[0] == 200
    finally:
        server.stop()

    empty = tmp_path / "empty"
    empty.write_text(" \n")
    for path, why in [(empty, "is empty"), (tmp_path / "missing", "No such file or directory")]:
        r = run("telem-trace", "serve", "--otlp", "127.0.0.1:0", "--token-file", str(path), env=tenv, timeout=20)
        assert r.status == 2, r
        [line] = r.stderr.strip().splitlines()
        assert str(path) in line and why in line, line


def test_a_non_loopback_address_needs_a_token_or_no_auth(tenv, token_file):
    for address in ["0.0.0.0:0", "[::]:0"]:
        r = run("telem-trace", "serve", "--otlp", address, env=tenv, timeout=20)
        assert r.status == 2, r
        [line] = r.stderr.strip().splitlines()
        assert "--token-file" in line and "--no-auth" in line, line
    both = run("telem-trace", "serve", "--otlp", "0.0.0.0:0", "--no-auth", "--token-file", str(token_file),
               env=tenv, timeout=20)
    assert both.status == 2 and "--token-file and --no-auth" in both.stderr, both

    # --no-auth: anyone who reaches it may send spans.
    server = Server(tenv, "--no-auth", address="0.0.0.0:0")
    try:
        assert server.listening["auth"] == "none"
        assert server.post(otlp_request())[0] == 200
    finally:
        server.stop()

    # --token-file: the token is asked for there too.
    server = Server(tenv, "--token-file", str(token_file), address="0.0.0.0:0")
    try:
        assert server.post(otlp_request())[0] == 401
        assert server.post(otlp_request(), headers=bearer())[0] == 200
    finally:
        server.stop()


def test_arc_tools_send_the_token_from_otel_exporter_otlp_headers(tenv, token_file, tmp_path):
    server = Server(tenv, "--token-file", str(token_file))
    exporting = dict(tenv, OTEL_EXPORTER_OTLP_ENDPOINT=server.url, OTEL_LOGS_EXPORTER="none",
                     ARC_STATE=str(tmp_path / "plan.db"))
    try:
        # Values are URL-encoded, as the OpenTelemetry spec has it: %20 is the space.
        sent = run("arc-plan", "--dest", str(tmp_path / "d"), input="",
                   env=dict(exporting, OTEL_EXPORTER_OTLP_HEADERS=f"Authorization=Bearer%20{TOKEN}"))
        assert sent.status == 0, sent
        assert "not delivered" not in sent.stderr, sent.stderr
        # The per-signal variable replaces the common one for spans.
        per_signal = run("arc-plan", "--dest", str(tmp_path / "d"), input="",
                         env=dict(exporting, OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20wrong",
                                  OTEL_EXPORTER_OTLP_TRACES_HEADERS=f"Authorization=Bearer%20{TOKEN}"))
        assert per_signal.status == 0 and "not delivered" not in per_signal.stderr, per_signal
        # A wrong token: the spans are refused and reported, without the token.
        wrong = run("arc-plan", "--dest", str(tmp_path / "d"), input="",
                    env=dict(exporting, OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20not-the-t0ken"))
        assert wrong.status == 0, wrong
        assert "not delivered" in wrong.stderr and "401" in wrong.stderr, wrong.stderr
        assert "not-the-t0ken" not in wrong.stderr
    finally:
        code, err = server.stop()
    assert code == 143, err
    spans = stored(tenv)
    assert [s["name"] for s in spans] == ["arc-plan", "arc-plan"], spans
    assert TOKEN not in err
