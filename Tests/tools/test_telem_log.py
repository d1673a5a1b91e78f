"""telem-log: the built binary on real files, pipes, a real SQLite state database and
promtool. Times are made relative to now where --since/--until are tested."""
import datetime
import fcntl
import json
import os
import select
import signal
import subprocess
import time

import pytest

from conftest import records, run, tool, wait_for


def tl(*args, input=None, env=None):
    return run("telem-log", *args, input=input, env=env)


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def line(ts, level, tool_name, msg, **fields):
    return json.dumps({"ts": ts, "level": level, "tool": tool_name, "msg": msg, **fields}, separators=(",", ":"))


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("ARC_")}
    e.update(ARC_STATE=str(tmp_path / "state" / "state.db"), ARC_LOG_FORMAT="json")
    return e


@pytest.fixture
def pipeline_logs(tmp_path):
    """Three stages' logs of one run, interleaved in time, with a stack trace and garbage."""
    plan = tmp_path / "plan.log"
    collect = tmp_path / "collect.log"
    discover = tmp_path / "discover.log"
    discover.write_text("\n".join([
        line("2026-11-25T12:00:00.000Z", "info", "arc-discover", "listing", prefix="data/spot/"),
        line("2026-11-25T12:00:03.000Z", "warn", "arc-discover", "slow listing page", page=7),
    ]) + "\n")
    plan.write_text("\n".join([
        line("2026-11-25T12:00:01.000Z", "info", "arc-plan", "planned", tasks=3),
        line("2026-11-25T12:00:04.500Z", "debug", "arc-plan", "ledger hit", key="a.zip"),
    ]) + "\n")
    collect.write_text("\n".join([
        line("2026-11-25T12:00:02.000Z", "info", "arc-collect", "start", trace_id="aaaa", span_id="01"),
        line("2026-11-25T12:00:04.000Z", "error", "arc-collect", "download failed", trace_id="bbbb", status=503,
             error={"code": "http_503", "message": "Service Unavailable"}),
        "Traceback (most recent call last):",
        '{"ts":"2026-11-25T12:00:04.100Z","level":"error"',
        line("2026-11-25T12:00:05.000Z", "error", "arc-collect", "checksum mismatch", trace_id="bbbb", status=200,
             error={"code": "checksum_mismatch", "message": "sha256 differs"}),
    ]) + "\n")
    return discover, plan, collect


def msgs(result):
    return [r["msg"] for r in result.records]


# --- reading and merging ---------------------------------------------------------------------

def test_files_merge_in_time_order_and_json_lines_pass_through_unchanged(pipeline_logs):
    discover, plan, collect = pipeline_logs
    r = tl(str(collect), str(plan), str(discover))
    assert r.status == 0, r
    assert msgs(r) == ["listing", "planned", "start", "slow listing page", "download failed",
                       "Traceback (most recent call last):", '{"ts":"2026-11-25T12:00:04.100Z","level":"error"',
                       "ledger hit", "checksum mismatch"]
    originals = set(collect.read_text().splitlines() + plan.read_text().splitlines() + discover.read_text().splitlines())
    for out in r.stdout.splitlines():
        assert out in originals or json.loads(out).keys() == {"msg"}, out


def test_text_lines_and_garbage_are_kept_as_msg(tmp_path):
    f = tmp_path / "mixed.log"
    f.write_bytes(b'plain words\n\n   \n{"not":"closed"\n[1,2]\n\xff\xfe broken utf-8\n{"msg":"ok"}\nno newline at end')
    r = tl(str(f))
    assert r.status == 0, r
    assert msgs(r) == ["plain words", '{"not":"closed"', "[1,2]", "\ufffd\ufffd broken utf-8", "ok", "no newline at end"]


def test_a_json_line_with_invalid_utf8_keeps_its_fields(tmp_path):
    """A stray byte (Latin-1 text, a cut multibyte character) in one value: the line is read
    with U+FFFD in its place, as jq reads it, and keeps its level, tool and fields."""
    f = tmp_path / "bad.log"
    f.write_bytes(b'{"ts":"2026-11-25T12:00:00Z","level":"warn","tool":"arc-x","msg":"caf\xe9 \xe2\x82!","n":1}\n'
                  b'{"ts":"2026-11-25T12:00:01Z","level":"info","tool":"arc-x","msg":"ok"}\n'
                  b'plain \xff text\n')
    r = tl("--level", "warn", str(f))
    assert r.status == 0 and msgs(r) == ["caf\ufffd \ufffd!"]
    jq = subprocess.run(["jq", "-c", 'select(.level == "warn")', str(f)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.stdout.encode() == jq.stdout, "written as jq writes it"
    counted = tl("count", "--by", "level,tool", str(f))
    assert sorted(json.dumps(x) for x in counted.records) == sorted(json.dumps(x) for x in [
        {"level": "info", "tool": "arc-x", "count": 1}, {"level": "warn", "tool": "arc-x", "count": 1},
        {"level": None, "tool": None, "count": 1}])
    assert msgs(tl("--where", "n=1", str(f))) == ["caf\ufffd \ufffd!"]


def test_stdin_and_dash(pipeline_logs):
    _, plan, _ = pipeline_logs
    assert msgs(tl(input=plan.read_text())) == ["planned", "ledger hit"]
    assert msgs(tl("-", input=plan.read_text())) == ["planned", "ledger hit"]


def test_empty_input_is_no_output_and_exit_0(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    for args in ([], [str(empty)]):
        r = tl(*args, input="")
        assert r.status == 0 and r.stdout == "", r


# --- filters ---------------------------------------------------------------------------------

def test_level_filter_takes_that_level_and_above_in_every_spelling(tmp_path):
    f = tmp_path / "levels.log"
    f.write_text("\n".join(json.dumps(d) for d in [
        {"level": "debug", "msg": "d"}, {"level": "info", "msg": "i"}, {"severity": "WARNING", "msg": "w"},
        {"lvl": "ERR", "msg": "e"}, {"level": "fatal", "msg": "f"}, {"level": "critical", "msg": "c"},
        {"level": 50, "msg": "pino error"}, {"msg": "no level"},
    ]) + "\nplain text\n")
    assert msgs(tl("--level", "warn", str(f))) == ["w", "e", "f", "c", "pino error"]
    assert msgs(tl("--level", "error", str(f))) == ["e", "f", "c", "pino error"]
    assert msgs(tl("--level", "fatal", str(f))) == ["f", "c"]
    assert msgs(tl("--level", "info", str(f))) == ["i", "w", "e", "f", "c", "pino error", "no level", "plain text"]
    assert tl("--level", "loud", str(f)).status == 2


def test_since_and_until_relative_and_absolute(tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    f = tmp_path / "times.log"
    f.write_text("\n".join([
        line(rfc3339(now - datetime.timedelta(days=2)), "info", "t", "two days ago"),
        line(rfc3339(now - datetime.timedelta(hours=3)), "info", "t", "three hours ago"),
        "its stack trace",
        line(rfc3339(now - datetime.timedelta(minutes=20)), "info", "t", "twenty minutes ago"),
        line(rfc3339(now - datetime.timedelta(seconds=5)), "info", "t", "just now"),
    ]) + "\n")
    assert msgs(tl("--since", "2h", str(f))) == ["twenty minutes ago", "just now"]
    assert msgs(tl("--since", "1d", "--until", "15m", str(f))) == ["three hours ago", "its stack trace", "twenty minutes ago"]
    assert msgs(tl("--since", "30m", "--until", "1m", str(f))) == ["twenty minutes ago"]
    assert msgs(tl("--until", "1d", str(f))) == ["two days ago"]
    cutoff = rfc3339(now - datetime.timedelta(hours=1))
    assert msgs(tl("--since", cutoff, str(f))) == ["twenty minutes ago", "just now"]
    bad = tl("--since", "yesterday", str(f))
    assert bad.status == 2 and "--since" in bad.stderr


def test_tool_trace_where_and_grep(pipeline_logs):
    files = [str(p) for p in pipeline_logs]
    assert msgs(tl("--tool", "arc-plan", *files)) == ["planned", "ledger hit"]
    assert msgs(tl("--tool", "arc-plan,arc-discover", *files)) == ["listing", "planned", "slow listing page", "ledger hit"]
    assert msgs(tl("--trace", "bbbb", *files)) == ["download failed", "checksum mismatch"]
    assert msgs(tl("--where", "status=503", *files)) == ["download failed"]
    assert msgs(tl("--where", "status>=200", "--where", "status<300", *files)) == ["checksum mismatch"]
    assert msgs(tl("--where", "status>500", *files)) == ["download failed"]
    assert msgs(tl("--where", "error.code~^http_5", *files)) == ["download failed"]
    assert msgs(tl("--where", "error.code!=http_503", "--level", "error", *files)) == [
        "checksum mismatch"], "a missing field is not the value; text lines count as info"
    assert msgs(tl("--where", "error.code!~mismatch", "--tool", "arc-collect", *files)) == ["start", "download failed"]
    assert msgs(tl("--where", "tasks=3", *files)) == ["planned"]
    assert msgs(tl("--where", "page>6.5", *files)) == ["slow listing page"]
    assert msgs(tl("--where", "msg~^Trace", *files)) == ["Traceback (most recent call last):"]
    assert msgs(tl("--grep", "sha256|Unavailable", *files)) == ["download failed", "checksum mismatch"]
    assert msgs(tl("--grep", "CHECKSUM", *files)) == []
    assert msgs(tl("-i", "--grep", "CHECKSUM", *files)) == ["checksum mismatch"]
    assert msgs(tl("-i", "--where", "msg~^LISTING", *files)) == ["listing"]


def test_where_orderings_compare_numbers_only(tmp_path):
    """FIELD>N is numeric: text, null, booleans and structures never hold (jq's select(.v > 10)
    would take every string and no null; here neither), a numeric string does, trimmed."""
    f = tmp_path / "v.log"
    values = [42, "42", " 12 ", 7, "abc", "n/a", None, True, False, "", {"a": 11}, [11], "11x"]
    f.write_text("".join(json.dumps({"msg": f"m{i}", "v": v}) + "\n" for i, v in enumerate(values)))
    assert msgs(tl("--where", "v>10", str(f))) == ["m0", "m1", "m2"]
    assert msgs(tl("--where", "v<=10", str(f))) == ["m3"]
    assert msgs(tl("--where", "v>=7", "--where", "v<12", str(f))) == ["m3"]
    for expr in ("v>abc", "ts>2026-01-01", "v<=10x"):
        r = tl("--where", expr, str(f))
        assert r.status == 2 and r.stdout == "", r
        [err] = r.logs
        assert err["msg"].startswith(f"--where: '{expr}'"), err


def test_bad_where_and_regex_are_usage_errors_naming_the_flag(pipeline_logs):
    files = [str(p) for p in pipeline_logs]
    for args, flag in ((["--where", "status"], "--where"), (["--where", "=5"], "--where"),
                       (["--where", "msg~(unclosed"], "--where"), (["--grep", "a[b"], "--grep"),
                       (["redact", "--pattern", "(x"], "--pattern")):
        r = tl(*args, *files)
        assert r.status == 2 and r.stdout == "", r
        [err] = r.logs
        assert err["msg"].startswith(flag), err


def test_missing_or_unreadable_files_are_exit_3_named_before_any_output(pipeline_logs, tmp_path):
    discover, _, _ = pipeline_logs
    r = tl(str(discover), str(tmp_path / "nope.log"))
    assert r.status == 3 and r.stdout == "", r
    [err] = r.logs
    assert "nope.log" in err["msg"] and err["code"] == "not_found"
    d = tl(str(tmp_path))
    assert d.status == 3 and str(tmp_path) in d.stderr


# --- output ----------------------------------------------------------------------------------

def test_fields_select_keys_and_columns(pipeline_logs):
    _, _, collect = pipeline_logs
    r = tl("--fields", "ts,level,error.code", "--level", "error", str(collect))
    assert r.records == [
        {"ts": "2026-11-25T12:00:04.000Z", "level": "error", "error.code": "http_503"},
        {"ts": "2026-11-25T12:00:05.000Z", "level": "error", "error.code": "checksum_mismatch"},
    ]
    h = tl("--format", "human", "--fields", "level,status,msg", "--trace", "bbbb", str(collect))
    assert h.stdout.splitlines() == ["ERROR 503 \"download failed\"", "ERROR 200 \"checksum mismatch\""]


def test_human_lines(pipeline_logs):
    _, plan, collect = pipeline_logs
    r = tl("--format", "human", str(plan), str(collect))
    lines = r.stdout.splitlines()
    assert lines[0] == "2026-11-25T12:00:01.000Z INFO  arc-plan planned tasks=3"
    assert "2026-11-25T12:00:04.000Z ERROR arc-collect download failed trace_id=bbbb status=503" in lines[2]
    assert "Traceback (most recent call last):" in lines
    assert "\x1b[" not in r.stdout, "no colours when stdout is not a terminal"


# --- follow ----------------------------------------------------------------------------------

class Follower:
    def __init__(self, *args):
        self.proc = subprocess.Popen([tool("telem-log"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        fl = fcntl.fcntl(self.proc.stdout, fcntl.F_GETFL)
        fcntl.fcntl(self.proc.stdout, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self.buffer = b""

    def read_lines(self, count, timeout=10):
        deadline = time.time() + timeout
        while self.buffer.count(b"\n") < count and time.time() < deadline:
            select.select([self.proc.stdout], [], [], 0.1)
            chunk = self.proc.stdout.read()
            if chunk:
                self.buffer += chunk
        lines = self.buffer.split(b"\n")
        got, self.buffer = lines[:count], b"\n".join(lines[count:])
        assert len(lines) > count, f"only {got} within {timeout}s"
        return [json.loads(x)["msg"] for x in got]


def read_to_end(proc, path):
    """True once `proc` has a descriptor open on `path` and has read all of it: its read
    position (/proc/PID/fdinfo) is the file's size. How a test waits for the follower to
    have seen what is there, instead of sleeping and hoping."""
    target, size = str(path), os.path.getsize(path)
    for fd in os.listdir(f"/proc/{proc.pid}/fd"):
        try:
            if os.readlink(f"/proc/{proc.pid}/fd/{fd}") != target:
                continue
            with open(f"/proc/{proc.pid}/fdinfo/{fd}") as info:
                pos = int(next(l for l in info if l.startswith("pos:")).split()[1])
        except (OSError, StopIteration):
            continue
        if pos == size:
            return True
    return False


def append(path, *lines):
    with open(path, "a") as f:
        f.write("".join(x + "\n" for x in lines))


def test_follow_reads_appends_across_rotation_and_truncation_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(line("2026-11-25T12:00:00.000Z", "info", "t", "old") + "\n")
    f = Follower("-f", "--level", "info", str(log))
    try:
        assert f.read_lines(1) == ["old"]
        append(log, line("2026-11-25T12:00:01.000Z", "info", "t", "appended"))
        # A line written in two pieces comes out once, whole.
        with open(log, "a") as w:
            w.write('{"msg":"half')
            w.flush()
            wait_for(lambda: read_to_end(f.proc, log), "the follower to read the first half")
            w.write(' and half"}\n')
        append(log, line("2026-11-25T12:00:02.000Z", "debug", "t", "filtered out"))
        assert f.read_lines(2) == ["appended", "half and half"]
        # logrotate's create mode: the file renamed away, a new one at the name.
        os.rename(log, tmp_path / "app.log.1")
        append(tmp_path / "app.log.1", line("2026-11-25T12:00:03.000Z", "info", "t", "late write to the old file"))
        wait_for(lambda: read_to_end(f.proc, tmp_path / "app.log.1"), "the follower to read the old file's last line")
        append(log, line("2026-11-25T12:00:04.000Z", "info", "t", "new file"))
        assert f.read_lines(2) == ["late write to the old file", "new file"]
        # copytruncate: the same file emptied in place.
        wait_for(lambda: read_to_end(f.proc, log), "the follower to reach the end of the new file")
        with open(log, "w") as w:
            w.write("after truncation\n")
        assert f.read_lines(1) == ["after truncation"]
        f.proc.send_signal(signal.SIGTERM)
        assert f.proc.wait(timeout=10) == 143
    finally:
        if f.proc.poll() is None:
            f.proc.kill()
            f.proc.wait()


def test_follow_notices_a_truncation_refilled_past_the_old_offset(tmp_path):
    """copytruncate with a busy writer: the file is emptied and written past where the
    follower was before its next poll sees it short. Its size alone says nothing: the
    bytes before the old offset changed, so it is read from its start, every line whole."""
    log = tmp_path / "app.log"
    log.write_text("".join(line("2026-11-25T12:00:00.000Z", "info", "t", f"old {i}") + "\n" for i in range(2)))
    f = Follower("-f", str(log))
    try:
        assert f.read_lines(2) == ["old 0", "old 1"]
        wait_for(lambda: read_to_end(f.proc, log), "the follower to reach the end")
        refill = [line("2026-11-25T12:00:01.000Z", "info", "t", f"new line {i} after the truncation") for i in range(3)]
        with open(log, "w") as w:
            w.write("".join(x + "\n" for x in refill))
        assert len("".join(x + "\n" for x in refill)) > 2 * len(line("2026-11-25T12:00:00.000Z", "info", "t", "old 0")) + 2
        assert f.read_lines(3) == [f"new line {i} after the truncation" for i in range(3)]
        # Refilled to exactly the old size: nothing to see in the size, the bytes differ.
        wait_for(lambda: read_to_end(f.proc, log), "the follower to reach the end")
        ys = "y" * (os.path.getsize(log) - len(line("2026-11-25T12:00:02.000Z", "info", "t", "")) - 1)
        same = line("2026-11-25T12:00:02.000Z", "info", "t", ys) + "\n"
        assert len(same) == os.path.getsize(log)
        with open(log, "w") as w:
            w.write(same)
        assert f.read_lines(1) == [ys]
        append(log, line("2026-11-25T12:00:03.000Z", "info", "t", "appended"))
        assert f.read_lines(1) == ["appended"]
    finally:
        f.proc.kill()
        f.proc.wait()


def test_follow_of_stdin_reads_to_its_end():
    r = tl("-f", input=line("2026-11-25T12:00:00.000Z", "info", "t", "piped") + "\n")
    assert r.status == 0 and msgs(r) == ["piped"]


def test_follow_only_where_it_means_something(pipeline_logs):
    r = tl("count", "-f", "--by", "level", str(pipeline_logs[0]))
    assert r.status == 2 and "--follow" in r.stderr


# --- redact ----------------------------------------------------------------------------------

SECRETS = {
    "email": ("reset sent to alice.smith+arc@example.co.uk", "reset sent to [email]"),
    "ipv4": ("client 203.0.113.7:443 via 10.0.0.1", "client [ipv4]:443 via [ipv4]"),
    "ipv6": ("client 2001:db8::8a2e:370:7334 and [::1]:8080", "client [ipv6] and [[ipv6]]:8080"),
    "aws_key": ("using AKIAIOSFODNN7EXAMPLE", "using [aws_key]"),
    "aws_secret": ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                   "aws_secret_access_key=[secret]"),
    "bearer": ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
               "Authorization: [token]"),
    "bearer_alone": ("header bearer abcdef0123456789", "header bearer [token]"),
    "card": ("paid with 4111 1111 1111 1111", "paid with [card]"),
    "card_plain": ("paid with 5500000000000004.", "paid with [card]."),
}

UNTOUCHED = [
    "at 2026-11-25T12:00:00.123Z", "order 4111111111111112", "epoch 1732536000123",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736", "span 00f067aa0ba902b7",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "version v1.2.3.4 of 1.2.3.4.5", "host data.binance.vision", "https://example.com/a?b=c",
    "12:00:00", "mac 00:1a:2b:3c:4d:5e",
]


@pytest.mark.parametrize("name", SECRETS)
def test_redact_each_pattern_in_text_and_in_json(tmp_path, name):
    text, expected = SECRETS[name]
    f = tmp_path / "in.log"
    f.write_text(text + "\n" + json.dumps({"ts": "2026-11-25T12:00:00.000Z", "msg": text, "n": 1}) + "\n")
    r = tl("redact", str(f))
    assert r.status == 0, r
    plain, js = r.stdout.splitlines()
    assert plain == expected
    assert json.loads(js) == {"ts": "2026-11-25T12:00:00.000Z", "msg": expected, "n": 1}


def test_redact_leaves_alone_what_is_not_secret(tmp_path):
    f = tmp_path / "in.log"
    f.write_text("".join(t + "\n" for t in UNTOUCHED) + json.dumps({"msg": " ".join(UNTOUCHED)}) + "\n")
    r = tl("redact", str(f))
    assert r.stdout == f.read_text()


def test_redacted_ndjson_keeps_its_structure(tmp_path):
    f = tmp_path / "in.log"
    originals = [
        {"ts": "2026-11-25T12:00:00.000Z", "level": "info", "tool": "arc-collect", "msg": "user bob@corp.io from 10.1.2.3",
         "headers": {"Authorization": "Basic dXNlcjpwYXNz", "X-Req": "r1"}, "password": "hunter2",
         "list": ["ok", "carol@corp.io", {"token": 5}], "card": 4111111111111111, "quoted": "say \"hi\" to 10.0.0.9"},
        {"ts": "2026-11-25T12:00:01.000Z", "msg": "nothing to hide", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
    ]
    f.write_text("".join(json.dumps(o) + "\n" for o in originals) + "plain 10.0.0.1\n")
    r = tl("redact", "--pattern", "r[0-9]", str(f))
    out = r.stdout.splitlines()
    first, second = json.loads(out[0]), json.loads(out[1])
    assert list(first) == list(originals[0]) and list(first["headers"]) == ["Authorization", "X-Req"]
    assert first["msg"] == "user [email] from [ipv4]"
    assert first["headers"] == {"Authorization": "[token]", "X-Req": "[redacted]"}
    assert first["password"] == "[secret]"
    assert first["list"] == ["ok", "[email]", {"token": "[secret]"}], "a secret key's number too"
    assert first["card"] == "[card]", "a card number written as a number"
    assert first["quoted"] == 'say "hi" to [ipv4]'
    assert out[1] == json.dumps(originals[1]), "a line with nothing to mask is passed on byte for byte"
    assert out[2] == "plain [ipv4]"


# Each line holds secrets that the strings after "SECRET" stand for; none may survive.
AWKWARD = [
    "login password='two words SECRET1' user=bob",
    'config api_key: "abc def SECRET2" region=eu',
    "token=SECRET3 session_id=SECRET4 sessionId=SECRET5 Api-Key=SECRET6",
    "GET https://h.example/cb?token=SECRET7&next=/home",
    "fetch https://alice:SECRET8@db.example:5432/app",
    "https://b.s3.amazonaws.com/o?X-Amz-Credential=SECRET9%2Fus-east-1&X-Amz-Security-Token=SECRET10"
    "&X-Amz-Signature=SECRET11&x-id=GetObject",
    "http://h/o?AWSAccessKeyId=SECRET12&Signature=SECRET13&key=SECRET14&sig=SECRET15&page=2",
    json.dumps({"password": "two words SECRET16", "user": "bob"}),
    json.dumps({"list": [{"password": "SECRET17"}, "harmless", 7], "next": "kept"}),
    json.dumps({"password": 12345, "pin_code": 7, "pan": 4111111111111111, "token": 99, "tokens_used": 1234}),
    json.dumps({"credentials": {"user": "SECRET18", "id": 1}, "Cookie": "sid=SECRET19; theme=dark"}),
    json.dumps({"msg": "retry https://u:SECRET20@h.io/x?sig=SECRET21 with passwd='SECRET22 x'"}),
    json.dumps({"Session": "SECRET23", "X-Amz-Security-Token": "SECRET24", "session_count": 3}),
]


def test_redact_masks_secret_keys_whole_and_nothing_after(tmp_path):
    f = tmp_path / "in.log"
    f.write_text("".join(x + "\n" for x in AWKWARD))
    r = tl("redact", str(f))
    assert r.status == 0, r
    out = r.stdout.splitlines()
    assert len(out) == len(AWKWARD)
    for before, after in zip(AWKWARD, out):
        assert "SECRET" not in after and "12345" not in after and "4111" not in after, after
        if before.startswith("{"):
            b, a = json.loads(before), json.loads(after)
            assert list(a) == list(b), after
    assert out[0] == "login password='[secret]' user=bob"
    assert out[3] == "GET https://h.example/cb?token=[secret]&next=/home", "the key and the rest of the URL stay"
    assert out[4] == "fetch https://alice:[secret]@db.example:5432/app"
    assert out[6] == "http://h/o?AWSAccessKeyId=[secret]&Signature=[secret]&key=[secret]&sig=[secret]&page=2"
    assert json.loads(out[8]) == {"list": [{"password": "[secret]"}, "harmless", 7], "next": "kept"}
    assert json.loads(out[9]) == {"password": "[secret]", "pin_code": 7, "pan": "[card]", "token": "[secret]",
                                  "tokens_used": 1234}
    assert json.loads(out[10]) == {"credentials": {"user": "[secret]", "id": "[secret]"}, "Cookie": "[token]"}
    assert json.loads(out[12])["session_count"] == 3


def test_redact_reads_stdin_and_filters(tmp_path):
    text = line("2026-11-25T12:00:00.000Z", "error", "t", "mail me@x.io") + "\n" + line(
        "2026-11-25T12:00:00.000Z", "info", "t", "mail you@x.io") + "\n"
    r = tl("redact", "--level", "error", input=text)
    assert msgs(r) == ["mail [email]"]


# --- ingest, search, count, metrics ----------------------------------------------------------

def test_ingest_is_incremental_and_search_finds(pipeline_logs, env):
    discover, plan, collect = pipeline_logs
    r = tl("ingest", str(discover), str(plan), str(collect), env=env)
    assert r.status == 0, r
    assert [(x["lines"], x["from_offset"]) for x in r.records] == [(2, 0), (2, 0), (5, 0)]
    again = tl("ingest", str(collect), env=env)
    assert again.records[0]["lines"] == 0, "ingesting the same file again adds nothing"
    append(collect, line("2026-11-25T12:00:06.000Z", "error", "arc-collect", "connection reset", trace_id="cccc"))
    more = tl("ingest", str(collect), env=env)
    assert more.records[0]["lines"] == 1 and more.records[0]["from_offset"] == collect.stat().st_size - len(
        line("2026-11-25T12:00:06.000Z", "error", "arc-collect", "connection reset", trace_id="cccc")) - 1

    assert msgs(tl("search", "checksum", env=env)) == ["checksum mismatch"]
    assert msgs(tl("search", "failed OR mismatch OR reset", env=env)) == ["connection reset", "checksum mismatch",
                                                                         "download failed"]
    assert msgs(tl("search", "--oldest-first", "--limit", "2", "failed OR mismatch OR reset", env=env)) == [
        "download failed", "checksum mismatch"]
    assert msgs(tl("search", "-n", "1", "failed OR mismatch OR reset", env=env)) == ["connection reset"]
    assert msgs(tl("search", "Traceback", env=env)) == ["Traceback (most recent call last):"]
    assert msgs(tl("search", "msg:listing", env=env)) == ["slow listing page", "listing"]
    assert msgs(tl("search", "--level", "error", "--tool", "arc-collect", "--where", "status=503", env=env)) == [
        "download failed"]
    assert msgs(tl("search", "--trace", "cccc", env=env)) == ["connection reset"]
    # The text lines took the time of the line before them; newest first, then last stored first.
    assert msgs(tl("search", "--since", "2026-11-25T12:00:04Z", "--until", "2026-11-25T12:00:05Z", env=env)) == ["ledger hit", '{"ts":"2026-11-25T12:00:04.100Z","level":"error"', "Traceback (most recent call last):",
                                 "download failed"]
    assert msgs(tl("search", "nothing_like_this", env=env)) == []
    bad = tl("search", '"unclosed', env=env)
    assert bad.status == 2 and "search" in bad.stderr
    stdin = tl("ingest", input=line("2026-11-25T13:00:00.000Z", "info", "cron", "from a pipe") + "\n", env=env)
    assert stdin.records == [{"source": "stdin", "lines": 1, "from_offset": 0, "to_offset": stdin.records[0]["to_offset"]}]
    assert msgs(tl("search", "pipe", env=env)) == ["from a pipe"]


def test_count_by_fields_and_buckets(pipeline_logs, env):
    files = [str(p) for p in pipeline_logs]
    r = tl("count", "--by", "level", *files)
    # Most frequent first; ties by value, an absent one (the text lines) first.
    assert r.records == [{"level": "info", "count": 3}, {"level": None, "count": 2}, {"level": "error", "count": 2},
                         {"level": "debug", "count": 1}, {"level": "warn", "count": 1}]
    by_level = r.records
    r = tl("count", "--level", "error", "--by", "tool,error.code", *files)
    assert {(x["error.code"], x["count"]) for x in r.records} == {("http_503", 1), ("checksum_mismatch", 1)}
    r = tl("count", "--by", "tool", "--every", "2s", *files)
    assert r.records[:3] == [{"ts": "2026-11-25T12:00:00.000Z", "tool": "arc-discover", "count": 1},
                             {"ts": "2026-11-25T12:00:00.000Z", "tool": "arc-plan", "count": 1},
                             {"ts": "2026-11-25T12:00:02.000Z", "tool": "arc-collect", "count": 1}]
    assert sum(x["count"] for x in r.records) == 9
    table = tl("count", "--by", "level", "--format", "human", *files)
    assert table.stdout.splitlines()[0].split() == ["LEVEL", "COUNT"]
    assert tl("count", *files).status == 2, "--by is required"
    assert tl("count", "--by", "level", "--every", "soon", *files).status == 2

    assert tl("ingest", *files, env=env).status == 0
    db = tl("count", "--db", "--by", "level", env=env)
    assert db.records == by_level, "the same counts from the database"


def test_metrics_pass_promtool(pipeline_logs, tmp_path, env):
    files = [str(p) for p in pipeline_logs]
    r = tl("metrics", *files)
    assert r.status == 0, r
    assert 'arc_log_lines_total{tool="arc-collect",level="error"} 2' in r.stdout.splitlines()
    assert "# TYPE arc_log_lines_total counter" in r.stdout
    weird = tmp_path / "weird.log"
    weird.write_text(json.dumps({"level": "error", "tool": 'quote " back \\ slash', "error": {"code": "new\nline"}}) + "\n")
    by_code = tl("metrics", "--by", "tool,error.code", str(weird), *files)
    assert 'error_code="new\\nline"' in by_code.stdout
    for text in (r.stdout, by_code.stdout):
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    assert tl("ingest", *files, env=env).status == 0
    db = tl("metrics", "--db", env=env)
    assert db.stdout == r.stdout


# --- memory ----------------------------------------------------------------------------------

def test_a_gigabyte_streams_in_flat_memory(tmp_path):
    """1 GiB of log lines (long text lines and JSON lines with a 4 KB msg, cheap for the
    debug build) read with a filter: peak RSS must stay under 64 MB."""
    big = tmp_path / "big.log"
    text = ("2026-11-25 12:00:00 INFO worker-3 fetched data/futures/um/daily/klines/BTCUSDT/1m/x.zip " * 4 + "\n")
    js = json.dumps({"ts": "2026-11-25T12:00:00.000Z", "level": "error", "tool": "arc-collect", "msg": "y" * 4000}) + "\n"
    block = (text * 40 + js).encode() * 64
    with open(big, "wb") as f:
        written = 0
        while written < (1 << 30):
            f.write(block)
            written += len(block)
    report = tmp_path / "time.txt"
    started = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%M", tool("telem-log"), "--level", "error", str(big)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - started
    big.unlink()
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b"\n") == written // len(block) * 64
    peak_kb = int(report.read_text().split()[-1])
    assert peak_kb < 64 * 1024, f"peak RSS {peak_kb} KB"
    print(f"1 GiB in {elapsed:.1f} s, peak RSS {peak_kb / 1024:.1f} MB")


def test_an_endless_line_does_not_exhaust_memory(tmp_path):
    """A 40 MB line without a newline (over the 16 MB a line may have) is skipped, reported."""
    f = tmp_path / "long.log"
    with open(f, "wb") as w:
        w.write(b'{"msg":"before"}\n')
        w.write(b"x" * (40 << 20))
        w.write(b'\n{"msg":"after"}\n')
    r = tl(str(f), env={**os.environ, "ARC_LOG_FORMAT": "json"})
    assert r.status == 1 and msgs(r) == ["before", "after"], "a line dropped is a record failed: exit 1"
    [warning] = r.logs
    assert warning["msg"] == "skipped a line longer than 16777216 bytes", warning
    assert (warning["file"], warning["line"], warning["offset"]) == (str(f), 2, 17)
    counted = tl("count", "--by", "msg", str(f), env={**os.environ, "ARC_LOG_FORMAT": "json"})
    assert counted.status == 1 and len(counted.records) == 2 and counted.logs[0]["line"] == 2


def test_redact_refuses_a_line_too_long_to_mask(tmp_path):
    """redact never drops a line it did not mask, nor passes one unmasked: at a line over
    16 MiB it stops, the lines before it written whole, and says where (exit 1)."""
    f = tmp_path / "long.log"
    with open(f, "wb") as w:
        w.write(b'{"msg":"before","password":"hunter2"}\n')
        w.write(b'{"msg":"' + b"x" * (17 << 20) + b'","password":"leaked"}\n')
        w.write(b'{"msg":"after","password":"hunter3"}\n')
    r = tl("redact", str(f), env={**os.environ, "ARC_LOG_FORMAT": "json"})
    assert r.status == 1
    assert r.stdout == '{"msg":"before","password":"[secret]"}\n'
    [err] = r.logs
    assert err["level"] == "error" and err["msg"].startswith(f"{f}:2: line longer than 16777216 bytes"), err
