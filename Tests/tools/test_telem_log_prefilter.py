"""telem-log searches a single input for a filter's literal before parsing lines (--level,
--tool, --trace, --where k=v and k~literal, --grep literal). These tests prove the answers
are those of parsing every line: each query runs on one file (prefiltered) and on the same
file beside an empty one (two inputs are merged, never prefiltered: every line parsed),
and the outputs must be equal byte for byte; the true matches are also counted by hand,
so a prefilter that skipped one fails here."""
import json
import random
import subprocess

import pytest

from conftest import tool

ERROR_SPELLINGS = [
    b'{"ts":"2026-11-25T10:00:01Z","level":"error","msg":"plain"}',
    b'{"msg":"spaces","level": "error"}',
    b'{"msg":"spaces both sides","level" :\t"error" }',
    b'{"level":"ERROR","msg":"upper"}',
    b'{"level":"Err","msg":"short"}',
    b'{"severity":"error","msg":"severity key"}',
    b'{"lvl":"E","msg":"lvl key, one letter"}',
    b'{"level":50,"msg":"pino number"}',
    b'{"level":60,"msg":"pino fatal"}',
    b'{"level":"critical","msg":"ranks above error"}',
    b'{"level":"EMERGENCY","msg":"long name"}',
    b'{"le\\u0076el":"error","msg":"escaped key"}',
    b'{"level":"info","level":"error","msg":"last key wins"}',
    b'{"ctx":{"level":"info"},"level":"error","msg":"nested first"}',
    b'{"level":"error","msg":"invalid utf-8 \xff here"}',
    b'{"level":"error","msg":"crlf"}\r',
    # Hits turned down, then one that passes further on in the same line (searched on
    # without going back to the other searchers: the `\u` one must still be seen).
    b'{"level":"info","msg":"refused, then an escaped key","le\\u0076el":"error"}',
    b'{"lvl":"debug","severity":"info","level":"fatal"}',
    b'{"tool":"x","level":"fatal"}',
]
NOT_ERROR = [
    b'{"level":"info","lvl":"debug","severity":"warn","msg":"\\u0065rror, all refused"}',
    b'{"level":"info","msg":"\\"level\\":\\"error\\" in a message"}',
    b'{"level":"info","msg":"level\\":\\"error"}',
    b'{"level":"err\\u006fr","msg":"escaped value is no name"}',
    b'{"level":"error","level":"info","msg":"last key wins"}',
    b'{"ctx":{"level":"error"},"level":"info","msg":"nested"}',
    b'{"level":"error"',
    b'"level":"error" as text',
    b'{"level":"warn","msg":"error"}',
    b'{"msg":"no level at all, error"}',
    b'{"level":49}',
    b'{"level":"errors"}',
    b'\x00\x01\xfe garbage "level":"error" \xc3',
    b'',
    b'   ',
]
OTHER = [
    b'{"ts":"2026-11-25T10:00:00Z","level":"info","tool":"s3x","msg":"checksum ok","trace_id":"abc"}',
    b'{"level":"warn","tool":"s3\\u0078","msg":"escaped tool"}',
    b'{"level":"info","service":"s3x","msg":"service key"}',
    b'{"level":"info","tool":"wf-run","service":"s3x","msg":"tool wins over service"}',
    b'{"level":"info","msg":"\\"s3x\\" only in a message"}',
    b'{"level":"info","symbol":"ETHUSDT","status":503}',
    b'{"level":"info","symbol":"ETH\\u0055SDT","status":"503"}',
    b'{"level":"info","symbol":"ETHUSDTX","status":503.0}',
    b'{"level":"info","msg":"symbol ETHUSDT in text","status":5.03e2}',
    b'{"error":{"code":"timeout"},"level":"error"}',
    b'{"error.code":"timeout"}',
    b'{"error":{"code":"time\\u006fut"}}',
    b'plain words',
    b'Traceback: checksum mismatch in a text line',
    b'{"level":"info","msg":"bad \xfe byte then checksum"}',
    b'{"level":"info","traceId":"abc","tool":"s3x"}',
    b'{"level":"warning","tool":"s3x","msg":"checksum"}',
    # Needles that share a byte (`v`, `k`) at different offsets: searched by that byte.
    b'{"tool":"vk","msg":"kv-a"}',
    b'{"msg":"\\"vk\\"","tool":"kv-a"}',
    b'{"tool":"xvk","service":"kv-a"}',
    b'{"tool":"kv-","msg":"vvkk"}',
]
# Lines where the exact bytes `"tool":"s3x"` / `"symbol":"ETHUSDT"` are found but the line
# must still be parsed to get its answer: a shortcut that took such a hit as a match
# without parsing the line would change one of these answers.
SHORTCUT_TRAPS = [
    b'{"ctx":{"tool":"s3x"},"tool":"wf-run"}',
    b'{"ctx":{"tool":"s3x"},"level":"info"}',
    b'{"ctx":{"symbol":"ETHUSDT"},"symbol":"BTCUSDT"}',
    b'{"tool":"s3x","tool":"wf-run"}',
    b'{"tool":"wf-run","tool":"s3x"}',
    b'{"symbol":"ETHUSDT","symbol":"BTCUSDT"}',
    b'{"tool":"s3x","t\\u006fol":"wf-run"}',
    b'{"symbol":"ETHUSDT","sym\\u0062ol":"BTCUSDT"}',
    b'{"tool":"s3x","msg":"a \\"quoted\\" word"}',
    b'{"tool":"s3xx"}',
    b'{"tool":"s3x ","n":1}',
    b'{"symbol":"ETHUSDTT"}',
    b'{"tool":"s3x","n":01}',
    b'{"tool":"s3x","msg":"ok"} trailing',
    b'{"tool":"s3x",}',
    b'{"tool":"s3x","a":[1,2}',
    b'{"symbol":"ETHUSDT","bad":tru}',
    b'{"symbol":"ETHUSDT","msg":"unterminated}',
    b'"tool":"s3x" as text',
    b'x {"tool":"s3x"}',
    b'symbol ETHUSDT "symbol":"ETHUSDT"',
    b'{"tool":"s3x","msg":"bad \xff byte"}',
    b'{"symbol":"ETHUSDT","msg":"cut \xc3"}',
    b'{ "tool" : "s3x" }',
    b'  {"tool":"s3x"}  ',
    b'{"tool":"s3x"}\r',
    b'{"tool":["s3x"]}',
    b'{"symbol":{"x":"ETHUSDT"}}',
    b'{"tool":null,"service":"s3x"}',
    b'{"service":"s3x","tool":"s3x"}',
    b'{"ts":"2026-11-25T09:00:00Z","tool":"s3x","symbol":"ETHUSDT"}',
    b'{"tool":"s3x","symbol":"ETHUSDT","msg":"no time: inherits 09:00"}',
    b'{"ts":"2026-11-25T11:00:00Z","tool":"s3x","symbol":"ETHUSDT"}',
    b'{"tool":"s3x","symbol":"ETHUSDT","msg":"no time: inherits 11:00"}',
    b'{"time":"not a time","tool":"s3x","symbol":"ETHUSDT"}',
]

QUERIES = [
    ["--level", "error"],
    ["--level", "warn"],
    ["--level", "fatal"],
    ["--level", "info"],
    ["--tool", "s3x"],
    ["--tool", "s3x", "--tool", "wf-run"],
    ["--tool", "kv-a", "--tool", "vk"],
    ["--trace", "abc"],
    ["--where", "symbol=ETHUSDT"],
    ["--where", "error.code=timeout"],
    ["--where", "msg=plain words"],
    ["--where", "msg~checksum"],
    ["--where", "status=503"],
    ["--grep", "checksum"],
    ["--grep", "\ufffd"],
    ["--grep", "level\":\"error"],
    ["--level", "error", "--tool", "s3x"],
    ["--level", "warn", "--grep", "checksum"],
    ["--level", "error", "--where", "error.code=timeout"],
    ["--grep", "checksum", "--since", "2026-11-25T10:00:00Z"],
    ["--level", "error", "--until", "2026-11-25T10:00:01Z"],
    ["--tool", "s3x", "--since", "2026-11-25T10:00:00Z"],
    ["--tool", "s3x", "--until", "2026-11-25T10:00:00Z"],
    ["--where", "symbol=ETHUSDT", "--since", "2026-11-25T10:00:00Z"],
    ["--where", "symbol=ETHUSDT", "--until", "2026-11-25T10:00:00Z"],
    ["--tool", "s3x", "--fields", "tool,msg"],
    ["--where", "symbol=ETHUSDT", "--fields", "symbol"],
]


def telem_log(*args, input=None):
    proc = subprocess.run([tool("telem-log"), *args], input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc.returncode, proc.stdout, proc.stderr


def full_parse(args, path, tmp_path):
    """The same query with every line parsed: an empty second input turns the prefilter off."""
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    return telem_log(*args, str(path), str(empty))


def write(tmp_path, name, lines, final_newline=True):
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + (b"\n" if final_newline else b""))
    return path


def assert_same(args, path, tmp_path):
    got = telem_log(*args, str(path))
    want = full_parse(args, path, tmp_path)
    assert got[0] == want[0], (args, got[2], want[2])
    assert got[1] == want[1], args
    return got


@pytest.mark.parametrize("args", QUERIES, ids=[" ".join(q) for q in QUERIES])
def test_adversarial_lines_give_the_answers_of_parsing_every_line(tmp_path, args):
    lines = ERROR_SPELLINGS + NOT_ERROR + OTHER + SHORTCUT_TRAPS
    path = write(tmp_path, "adversarial.log", lines, final_newline=False)
    assert_same(args, path, tmp_path)
    # Reversed, so the line without a newline is another one.
    assert_same(args, write(tmp_path, "reversed.log", lines[::-1], final_newline=False), tmp_path)


def test_every_spelling_of_error_is_found_and_none_of_the_lookalikes(tmp_path):
    path = write(tmp_path, "levels.log", NOT_ERROR + ERROR_SPELLINGS, final_newline=False)
    status, out, _ = telem_log("--level", "error", str(path))
    assert status == 0
    got = out.splitlines()
    # Each true match by hand: the line as written (CR dropped, invalid UTF-8 replaced).
    assert len(got) == len(ERROR_SPELLINGS)
    assert got[-1] == b'{"tool":"x","level":"fatal"}'  # the last line, without its newline
    assert b'{"le\\u0076el":"error","msg":"escaped key"}' in got
    assert b'{"level":"error","msg":"crlf"}' in got
    assert b'{"level":"error","msg":"invalid utf-8 \xef\xbf\xbd here"}' in got
    assert not any(b"in a message" in g or b"nested\"}" in g for g in got)


def test_escaped_values_match_tool_and_where(tmp_path):
    path = write(tmp_path, "escaped.log", OTHER)
    _, out, _ = telem_log("--tool", "s3x", str(path))
    assert b'"tool":"s3\\u0078"' in out and b'"service":"s3x"' in out and b"only in a message" not in out
    _, out, _ = telem_log("--where", "symbol=ETHUSDT", str(path))
    assert len(out.splitlines()) == 2
    _, out, _ = telem_log("--where", "error.code=timeout", str(path))
    assert len(out.splitlines()) == 3


def test_a_text_line_takes_the_time_of_a_line_the_search_passed_over(tmp_path):
    path = write(tmp_path, "trace.log", [
        b'{"ts":"2026-11-25T09:00:00Z","level":"info","msg":"early"}',
        b'Traceback: checksum early',
        b'{"ts":"2026-11-25T11:00:00Z","level":"info","msg":"late"}',
        b'{"level":"info","msg":"no time of its own"}',
        b'Traceback: checksum late',
    ])
    args = ["--grep", "Traceback", "--since", "2026-11-25T10:00:00Z"]
    _, out, _ = assert_same(args, path, tmp_path)
    assert out == b'{"msg":"Traceback: checksum late"}\n'


def random_log(rng, count):
    pieces = ERROR_SPELLINGS + NOT_ERROR + OTHER
    lines = []
    for _ in range(count):
        r = rng.random()
        if r < 0.3:
            lines.append(rng.choice(pieces))
        else:
            # Lines of many lengths, so matches fall across the 1 MiB read boundaries.
            pad = "x" * rng.randint(0, 900)
            level = rng.choice(["info", "debug", "warn", "error", "ERROR", "fatal"])
            lines.append(json.dumps({"ts": "2026-11-25T10:00:00Z", "level": level, "msg": pad,
                                     "tool": rng.choice(["s3x", "arc-plan"]),
                                     "symbol": rng.choice(["ETHUSDT", "BTCUSDT"])},
                                    separators=(",", ":")).encode())
    return lines


@pytest.mark.parametrize("args", QUERIES[:9] + QUERIES[12:18], ids=lambda q: " ".join(q))
def test_lines_across_read_boundaries(tmp_path, args):
    path = write(tmp_path, "big.log", random_log(random.Random(16), 12_000), final_newline=False)
    assert path.stat().st_size > 3 << 20
    assert_same(args, path, tmp_path)


def test_stdin_is_prefiltered_with_the_same_answers(tmp_path):
    path = write(tmp_path, "big.log", random_log(random.Random(3), 6_000))
    for args in (["--level", "error"], ["--tool", "s3x"], ["--grep", "checksum"]):
        piped = telem_log(*args, input=path.read_bytes())
        assert piped[:2] == full_parse(args, path, tmp_path)[:2]


def test_count_and_metrics_are_prefiltered_with_the_same_answers(tmp_path):
    path = write(tmp_path, "big.log", random_log(random.Random(5), 6_000))
    for args in (["count", "--by", "tool", "--level", "error", "--format", "json"],
                 ["count", "--by", "level", "--every", "1h", "--grep", "checksum", "--format", "json"],
                 ["metrics", "--tool", "s3x"]):
        got, want = telem_log(*args, str(path)), full_parse(args, path, tmp_path)
        # Rows of equal count (and metrics' rows) come in no fixed order, run to run.
        assert got[0] == want[0] and sorted(got[1].splitlines()) == sorted(want[1].splitlines()), args


def test_a_very_long_line_is_searched_whole_and_one_over_16_mib_is_still_reported(tmp_path):
    long_match = b'{"msg":"' + b"y" * (3 << 20) + b'","level":"error"}'
    long_other = b'{"level":"error","msg":"' + b"z" * (3 << 20) + b'"}'
    too_long = b'{"level":"error","msg":"' + b"w" * (17 << 20) + b'"}'
    path = write(tmp_path, "long.log", [b'{"level":"info"}', long_match, b"text", long_other, too_long,
                                        b'{"level":"error","msg":"after"}'])
    status, out, err = assert_same(["--level", "error"], path, tmp_path)
    assert status == 1
    assert len(out.splitlines()) == 3
    # The warning names the same line (5) as when every line is parsed.
    assert b'"line":5' in err


def test_hits_of_the_whole_member_are_still_parsed_before_they_match(tmp_path):
    """`"tool":"s3x"` in a line's bytes is not a match by itself: nested, repeated, escaped
    keys, invalid JSON after it, text lines and invalid UTF-8 (written repaired) all give
    the answers counted here by hand, prefiltered or not."""
    path = write(tmp_path, "traps.log", SHORTCUT_TRAPS)
    fffd = "\ufffd".encode()
    tool = [SHORTCUT_TRAPS[i] for i in (4, 8, 21, 23, 24)] + [b'{"tool":"s3x"}'] + \
        [SHORTCUT_TRAPS[i] for i in (29, 30, 31, 32, 33, 34)]
    tool[2] = tool[2].replace(b"\xff", fffd)
    got = assert_same(["--tool", "s3x"], path, tmp_path)
    assert got[1] == b"".join(line + b"\n" for line in tool)
    symbol = [SHORTCUT_TRAPS[22].replace(b"\xc3", fffd)] + [SHORTCUT_TRAPS[i] for i in (30, 31, 32, 33, 34)]
    got = assert_same(["--where", "symbol=ETHUSDT"], path, tmp_path)
    assert got[1] == b"".join(line + b"\n" for line in symbol)


# --level warn and above pass over a level key whose string value starts with a byte no
# name of that rank starts with (ASCII case folded), without parsing its line. Every
# spelling Severity reads, in every case, beside near misses, under each key and key form.
LEVEL_NAMES = ["info", "debug", "warn", "error", "warning", "trace", "fatal", "critical", "err", "crit",
               "notice", "dbg", "inf", "wrn", "eror", "panic", "alert", "emerg", "ftl", "d", "i", "w",
               "e", "f", "information", "emergency"]
LEVEL_NEAR_MISSES = [b"errors", b"", b" error", b"error ", b"\x00e", b"\x00\x00err", b"\x00warn", b"x",
                     b"\xc3\x89RROR", b"\xe2\x84\xaarit", b"e\\u0072r", b"\\u0065rr", b"@rror", b"`rror",
                     b"%rror", b"Emergency\x00", b"\x00\x00\x00\x00\x00\x00\x00\x00fatal", b"EMERGENCY!"]


def level_values():
    values = []
    for name in LEVEL_NAMES:
        values += [name, name.upper(), name.capitalize(), "".join(
            c.upper() if k % 2 else c for k, c in enumerate(name))]
    return [v.encode() for v in dict.fromkeys(values)] + LEVEL_NEAR_MISSES


LEVEL_KEYS = [b'"level"', b'"severity"', b'"lvl"', b'"LEVEL"', b'"Level"', b'"le\\u0076el"', b'"sev\\u0065rity"',
              b'"xlevel"', b'"lvl "']
LEVEL_SEPARATORS = [b":", b" :", b": ", b" : ", b"\t:\t", b":\r", b"  :  "]
LEVEL_NUMBERS = [b"39", b"40", b"49", b"50", b"59", b"60", b"100", b"1e2", b"-1", b"50.5", b"0040", b"-50",
                 b"99999999999999999999", b"40 ", b"4e1", b"true", b"null", b'{"level":"error"}', b'["error"]']


def level_lines():
    lines = []
    for value in level_values():
        for key in LEVEL_KEYS[:3]:
            lines.append(b'{"ts":"2026-11-25T10:00:00Z",' + key + b':"' + value + b'","msg":"v"}')
        lines.append(b'{' + LEVEL_KEYS[len(lines) % len(LEVEL_KEYS)] + b':"' + value + b'"}')
        lines.append(b'{"msg":"level ' + value + b'","level' + b'":"' + value + b'"}')
        lines.append(b'{"level"' + LEVEL_SEPARATORS[len(lines) % len(LEVEL_SEPARATORS)] + b'"' + value + b'"}')
    for number in LEVEL_NUMBERS:
        for key in LEVEL_KEYS:
            for sep in LEVEL_SEPARATORS[:3]:
                lines.append(b'{' + key + sep + number + b',"msg":"n"}')
            lines.append(b'{"msg":"m",' + key + b':' + number + b'}')
    # The first level key present wins (level, then severity, then lvl), the last of a
    # repeated key, a nested object's keys are not the line's, values inside messages.
    for a, b in [(b"error", b"info"), (b"info", b"error"), (b"FATAL", b"debug"), (b"debug", b"Warn")]:
        lines += [
            b'{"severity":"' + a + b'","level":"' + b + b'"}',
            b'{"lvl":"' + a + b'","severity":"' + b + b'"}',
            b'{"level":"' + a + b'","lvl":"' + b + b'"}',
            b'{"level":"' + a + b'","level":"' + b + b'"}',
            b'{"ctx":{"level":"' + a + b'"},"level":"' + b + b'"}',
            b'{"level":"' + b + b'","ctx":{"severity":"' + a + b'"}}',
            b'{"level":"' + b + b'","msg":"\\"level\\":\\"' + a + b'\\""}',
            b'{"level":"' + b + b'","msg":"level\\":\\"' + a + b'"}',
            b'{"msg":"\\"level\\":\\"' + a + b'\\"","level":"' + b + b'"}',
            b'{"level":"' + b + b'","msg":"\\u0022level\\u0022:\\u0022' + a + b'\\u0022"}',
            b'{"level":"' + b + b'","x":"level":"' + a + b'"}',
            b'{"le\\u0076el":"' + a + b'","level":"' + b + b'"}',
            b'{"level":"' + a + b'","le\\u0076el":"' + b + b'"}',
            b'{"level":' + a + b'}',
            b'"level":"' + a + b'"',
            b'{"level":"' + a,
            b'{"level":"' + a + b'"',
            b'{"level":"' + a + b'" , "level" : "' + b + b'"}',
        ]
    return lines


LEVEL_QUERIES = [["--level", "warn"], ["--level", "error"], ["--level", "fatal"],
                 ["count", "--by", "level", "--level", "warn", "--format", "json"]]


@pytest.mark.parametrize("args", LEVEL_QUERIES, ids=lambda q: " ".join(q))
def test_level_values_in_every_spelling_give_the_answers_of_parsing_every_line(tmp_path, args):
    lines = level_lines()
    path = write(tmp_path, "levels.log", lines, final_newline=False)
    status, out, _ = assert_same(args, path, tmp_path)
    assert out.count(b"\n") > (2 if args[0] == "count" else 100)
    assert_same(args, write(tmp_path, "reversed.log", lines[::-1], final_newline=False), tmp_path)


@pytest.mark.parametrize("args", LEVEL_QUERIES[:3], ids=lambda q: " ".join(q))
def test_level_values_at_every_offset_and_across_read_boundaries(tmp_path, args):
    """The key, its `:"` and the value's first byte fall at every offset of a 64-byte
    block and on each side of the 1 MiB read boundaries (the search reads 64 bytes a
    step and stops short of a buffer's end)."""
    rng = random.Random(16)
    pieces = level_lines()
    lines = []
    while sum(len(x) + 1 for x in lines) < 3 << 20:
        pad = b"x" * rng.randint(0, 300)
        lines.append(b'{"msg":"' + pad + b'",' + rng.choice(pieces)[1:] if rng.random() < 0.5 else
                     pad + rng.choice(pieces))
    path = write(tmp_path, "big-levels.log", lines, final_newline=False)
    _, out, _ = assert_same(args, path, tmp_path)
    assert out.count(b"\n") > 1000
