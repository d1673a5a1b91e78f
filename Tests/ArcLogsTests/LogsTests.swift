/// telem-log (Sources/ArcCore/Logs): every class name ends in LogsTests, so `--filter LogsTests` runs them all.
import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcLogs

private func entry(_ text: String) -> LogEntry {
    let e = LogEntry()
    e.load(text)
    return e
}

final class ParsingLogsTests: XCTestCase {
    func testCommandWordsAndFilesShareTheFirstPosition() throws {
        let spec = Tool.fullSpec(TelemLogCommand.spec)
        let read = try ArgumentParser.parse(["--level", "warn", "a.log", "count"], spec: spec, environment: { _ in nil })
        XCTAssertEqual(read.path, ["telem-log"])
        XCTAssertEqual(read.positionals, ["a.log", "count"], "after a file, a command's name is a file")
        let count = try ArgumentParser.parse(["--level", "warn", "count", "--by", "tool", "a.log"], spec: spec, environment: { _ in nil })
        XCTAssertEqual(count.path, ["telem-log", "count"])
        XCTAssertEqual(count.positionals, ["a.log"])
        XCTAssertEqual(count.value("level"), "warn", "the reading filters hold inside commands")
        let none = try ArgumentParser.parse([], spec: spec, environment: { _ in nil })
        XCTAssertEqual(none.positionals, [], "no file: stdin, not 'missing command'")
        let dashed = try ArgumentParser.parse(["--", "count"], spec: spec, environment: { _ in nil })
        XCTAssertEqual(dashed.path, ["telem-log"])
        XCTAssertEqual(dashed.positionals, ["count"])
    }

    func testACommandWithoutArgumentsStillRejectsUnknownWords() {
        let spec = CommandSpec(name: "t", summary: "t", subcommands: [CommandSpec(name: "go", summary: "go")])
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse(["stop"], spec: spec))?.message,
                       "unknown command 'stop'")
    }

    func testJSONAndTextLines() {
        let j = entry(#"{"ts":"2026-11-25T12:00:00.123Z","level":"warn","tool":"arc-plan","msg":"hi","n":1}"#)
        XCTAssertTrue(j.isJSON)
        XCTAssertEqual(j.severity, .warn)
        XCTAssertEqual(j.ownTime, 1_795_608_000_123)
        XCTAssertEqual(j.message, "hi")
        let t = entry("Traceback (most recent call last):")
        XCTAssertFalse(t.isJSON)
        XCTAssertEqual(t.message, "Traceback (most recent call last):")
        XCTAssertNil(t.severity)
        let broken = entry(#"{"ts":"2026-11-25T12:00:00Z","level":"error""#)
        XCTAssertFalse(broken.isJSON, "an invalid object is kept as text")
        XCTAssertNil(broken.severity)
    }

    func testInvalidUTF8InAJSONLineIsReplacedAndTheLineStaysJSON() {
        func load(_ bytes: [UInt8]) -> LogEntry {
            let e = LogEntry()
            bytes.withUnsafeBufferPointer { e.load($0) }
            return e
        }
        let fffd = "\u{FFFD}"
        let e = load(Array(#"{"level":"warn","tool":"arc-x","msg":"a"#.utf8) + [0xFF] + Array(#" b"#.utf8) + [0xE2, 0x82]
                     + Array(#"!","n":3}"#.utf8))
        XCTAssertTrue(e.isJSON, "one bad byte must not make the line text")
        XCTAssertEqual(e.severity, .warn)
        XCTAssertEqual(e.string(FieldKey.toolKeys), "arc-x")
        XCTAssertEqual(e.message, "a\(fffd) b\(fffd)!", "a broken-off sequence is one U+FFFD, as jq reads it")
        XCTAssertEqual(e.text, #"{"level":"warn","tool":"arc-x","msg":"a"# + fffd + " b" + fffd + #"!","n":3}"#)
        // Still not an object once repaired: text, its bytes as they came.
        let text = load(Array(#"{"level":"warn" "#.utf8) + [0xFF])
        XCTAssertFalse(text.isJSON)
        XCTAssertEqual(Array(text.bytes), Array(#"{"level":"warn" "#.utf8) + [0xFF])
        // Each sequence as Unicode's recommended practice counts it.
        for (bad, replacements) in [([0xC0, 0xAF], 2), ([0xED, 0xA0, 0x80], 3), ([0xF0, 0x9F, 0x98], 1), ([0x80], 1),
                                    ([0xF4, 0x90, 0x80, 0x80], 4)] as [([UInt8], Int)] {
            let r = load(Array(#"{"msg":""#.utf8) + bad + Array(#""}"#.utf8))
            XCTAssertEqual(r.message, String(repeating: fffd, count: replacements), "\(bad)")
        }
    }

    func testOtherLoggersShapes() {
        let e = entry(#"{"@timestamp":"2026-11-25T13:00:00+01:00","severity":"WARNING","message":"m","service":"api"}"#)
        XCTAssertEqual(e.severity, .warn)
        XCTAssertEqual(e.ownTime, 1_795_608_000_000)
        XCTAssertEqual(e.message, "m")
        XCTAssertEqual(entry(#"{"time":1795608000,"lvl":"ERR"}"#).ownTime, 1_795_608_000_000)
        XCTAssertEqual(entry(#"{"time":1795608000123,"level":50}"#).ownTime, 1_795_608_000_123)
        XCTAssertEqual(entry(#"{"time":1795608000123,"level":50}"#).severity, .error)
        XCTAssertEqual(entry(#"{"timestamp":1795608000123456789,"level":"fatal"}"#).ownTime, 1_795_608_000_123)
        XCTAssertEqual(entry(#"{"level":"critical"}"#).severity, .fatal)
        XCTAssertEqual(entry(#"{"level":"Information"}"#).severity, .info)
        XCTAssertNil(entry(#"{"level":"loud"}"#).severity)
    }

    func testSeverityOrder() {
        XCTAssertTrue(Severity.fatal > .error && Severity.error > .warn && Severity.warn > .info && Severity.info > .debug)
        XCTAssertEqual(Severity(name: "WARNING"), .warn)
        XCTAssertEqual(Severity(name: "err"), .error)
    }

    func testTimes() {
        XCTAssertEqual(LogTime.parseRFC3339("2026-11-25"), 1_795_564_800_000)
        XCTAssertEqual(LogTime.parseRFC3339("2026-11-25 12:00:00.5"), 1_795_608_000_500)
        XCTAssertEqual(LogTime.parseRFC3339("2026-11-25T12:00:00.123456Z"), 1_795_608_000_123)
        XCTAssertEqual(LogTime.parseRFC3339("2026-11-25T12:00:00-0130"), 1_795_613_400_000)
        XCTAssertNil(LogTime.parseRFC3339("2026-13-25T12:00:00Z"))
        XCTAssertNil(LogTime.parseRFC3339("yesterday"))
        let now: Int64 = 1_000_000_000
        XCTAssertEqual(LogTime.parseBound("30s", now: now), now - 30_000)
        XCTAssertEqual(LogTime.parseBound("15m", now: now), now - 900_000)
        XCTAssertEqual(LogTime.parseBound("2h", now: now), now - 7_200_000)
        XCTAssertEqual(LogTime.parseBound("3d", now: now), now - 259_200_000)
        XCTAssertEqual(LogTime.parseBound("1.5h", now: now), now - 5_400_000)
        XCTAssertNil(LogTime.parseBound("5", now: now), "a bare number has no unit")
        XCTAssertNil(LogTime.parseBound("-5m", now: now))
        XCTAssertNil(LogTime.parseBound("2x", now: now))
    }
}

final class FilterLogsTests: XCTestCase {
    private func w(_ text: String) throws -> WhereExpression { try WhereExpression(text) }

    func testWhereOperators() throws {
        let e = entry(#"{"status":503,"code":"http_503","n":"42","ok":true,"nil":null,"error":{"code":"timeout","retry":{"after":5}}}"#)
        XCTAssertTrue(try w("status=503").test(e))
        XCTAssertTrue(try w("status==503.0").test(e), "numbers compare as numbers")
        XCTAssertTrue(try w("status!=500").test(e))
        XCTAssertTrue(try w("status>500").test(e))
        XCTAssertTrue(try w("status>=503").test(e))
        XCTAssertFalse(try w("status<503").test(e))
        XCTAssertTrue(try w("status<=503").test(e))
        XCTAssertTrue(try w("n>9").test(e), "a numeric string against a number: numbers")
        XCTAssertTrue(try w("code=http_503").test(e))
        XCTAssertTrue(try w("code~^http_5").test(e))
        XCTAssertTrue(try w("code!~^http_4").test(e))
        XCTAssertTrue(try w("ok=true").test(e))
        XCTAssertTrue(try w("nil=null").test(e))
        XCTAssertTrue(try w("error.code=timeout").test(e), "dot paths reach nested fields")
        XCTAssertTrue(try w("error.retry.after>4").test(e))
        XCTAssertFalse(try w("error.nothing=x").test(e))
        XCTAssertFalse(try w("missing=x").test(e), "a missing field is not the value")
        XCTAssertTrue(try w("missing!=x").test(e), "...so != holds, as jq's select does")
        XCTAssertFalse(try w("missing>1").test(e))
        XCTAssertFalse(try w("code>1").test(e), "text is not greater than a number...")
        XCTAssertFalse(try w("code<=1").test(e), "...nor less: an ordering holds for numbers only")
    }

    func testOrderingComparesNumbersOnly() throws {
        // Each of these lines' v is no number: no ordering test may hold, as jq's null fails them.
        for line in [#"{"v":"abc"}"#, #"{"v":"n/a"}"#, #"{"v":null}"#, #"{"v":true}"#, #"{"v":false}"#,
                     #"{"v":{"a":11}}"#, #"{"v":[11]}"#, #"{"v":""}"#, #"{"v":"11x"}"#] {
            for op in [">", ">=", "<", "<="] {
                XCTAssertFalse(try w("v\(op)10").test(entry(line)), "v\(op)10 on \(line)")
            }
        }
        XCTAssertTrue(try w("v>10").test(entry(#"{"v":" 42\t"}"#)), "a numeric string is trimmed")
        XCTAssertTrue(try w("v>10").test(entry(#"{"v":1e3}"#)))
        XCTAssertTrue(try w("v<=-1.5").test(entry(#"{"v":"-2"}"#)))
        XCTAssertTrue(try w("v> 10").test(entry(#"{"v":11}"#)), "N is trimmed too")
    }

    func testOrderingTakesOnlyANumber() {
        for bad in ["v>abc", "v<n/a", "v>=10x", "v<=null", "ts>2026-01-01", "v>0x10", "v>nan", "v>inf"] {
            let e = assertThrows(UsageError.self, try WhereExpression(bad))
            XCTAssertTrue(e?.message.hasPrefix("--where: '\(bad)'") ?? false, e?.message ?? bad)
        }
        XCTAssertTrue(try w("msg~^Trace").test(entry("Traceback here")), "a text line is its msg")
    }

    func testDottedKeysAsWrittenWinOverPaths() throws {
        let e = entry(#"{"error.code":"flat","error":{"code":"nested"}}"#)
        XCTAssertTrue(try w("error.code=flat").test(e))
    }

    func testEscapedStringsCompareUnescaped() throws {
        XCTAssertTrue(try w(#"path=a"b"#).test(entry(#"{"path":"a\"b"}"#)))
        XCTAssertTrue(try w("city=Zürich").test(entry(#"{"city":"Z\u00fcrich"}"#)))
    }

    func testBadWhereAndRegexAreUsageErrorsNamingTheFlag() {
        for bad in ["noop", "=x", "a!b", " a=b", "a>", "a~("] {
            let e = assertThrows(UsageError.self, try WhereExpression(bad))
            XCTAssertTrue(e?.message.hasPrefix("--where") ?? false, e?.message ?? bad)
        }
        XCTAssertTrue(assertThrows(UsageError.self, try ByteRegex("a[", flag: "--grep"))?.message.hasPrefix("--grep") ?? false)
    }

    func testRegexLiteralAndExtended() throws {
        func m(_ pattern: String, _ text: String, ignoreCase: Bool = false) throws -> Bool {
            var bytes = Array(text.utf8)
            let r = try ByteRegex(pattern, ignoreCase: ignoreCase, flag: "--grep")
            return bytes.withUnsafeMutableBufferPointer { r.matches(UnsafeBufferPointer($0)) }
        }
        XCTAssertTrue(try m("timeout", "a timeout here"))
        XCTAssertFalse(try m("timeout", "a time out"))
        XCTAssertTrue(try m("time(out)?$", "a time"))
        XCTAssertTrue(try m("TIMEOUT", "a timeout", ignoreCase: true))
        XCTAssertTrue(try m("^a", "abc"))
        XCTAssertFalse(try m("x", ""))
        XCTAssertTrue(try m("^$", ""))
    }

    func testFilterCombination() throws {
        var f = LogFilter()
        f.minSeverity = .warn
        f.tools = [Array("arc-plan".utf8)]
        f.wheres = [try WhereExpression("code=x")]
        XCTAssertTrue(f.accepts(entry(#"{"level":"error","tool":"arc-plan","code":"x"}"#)))
        XCTAssertFalse(f.accepts(entry(#"{"level":"info","tool":"arc-plan","code":"x"}"#)))
        XCTAssertFalse(f.accepts(entry(#"{"level":"error","tool":"arc-collect","code":"x"}"#)))
        XCTAssertTrue(f.accepts(entry(#"{"level":"fatal","service":"arc-plan","code":"x"}"#)), "service stands for tool")
        XCTAssertFalse(f.accepts(entry("plain text")), "a line without a level counts as info")
        var trace = LogFilter()
        trace.trace = Array("abc".utf8)
        XCTAssertTrue(trace.accepts(entry(#"{"trace_id":"abc"}"#)))
        XCTAssertFalse(trace.accepts(entry(#"{"trace_id":"abd"}"#)))
    }

    func testTimesInheritedFromTheLineBefore() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.write("a.log", """
            untimed first
            {"ts":"2026-11-25T12:00:00Z","msg":"a"}
            stack line
            {"ts":"2026-11-25T12:00:10Z","msg":"b"}

            """)
        var f = LogFilter()
        f.since = LogTime.parseRFC3339("2026-11-25T12:00:00Z")
        f.until = LogTime.parseRFC3339("2026-11-25T12:00:10Z")
        let sources = try LogSources(paths: [path], needsTime: f.needsTime)
        var kept: [String] = []
        try sources.forEach { if f.accepts($0) { kept.append($0.message ?? "") } }
        XCTAssertEqual(kept, ["a", "stack line"], "since is inclusive, until exclusive, an untimed line has no time")
    }
}

final class MergeLogsTests: XCTestCase {
    func testMergeOrdersByTimeAcrossFilesWithStableTies() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let a = dir.write("a.log", """
            {"ts":"2026-11-25T12:00:01Z","msg":"a1"}
            a1 continued
            {"ts":"2026-11-25T12:00:03Z","msg":"a3"}
            {"ts":"2026-11-25T12:00:05Z","msg":"a5"}

            """)
        let b = dir.write("b.log", """
            {"ts":"2026-11-25T12:00:00Z","msg":"b0"}
            {"ts":"2026-11-25T12:00:03Z","msg":"b3"}
            {"time":"2026-11-25T12:00:04Z","message":"b4"}
            """)
        let c = dir.write("c.log", "{\"ts\":1795608002000,\"msg\":\"c2\"}\n\n   \n")
        let sources = try LogSources(paths: [a, b, c], needsTime: false)
        var order: [String] = []
        try sources.merged { order.append($0.message ?? "?") }
        XCTAssertEqual(order, ["b0", "a1", "a1 continued", "c2", "a3", "b3", "b4", "a5"])
    }

    func testMissingFileIsNamedBeforeAnythingIsRead() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let a = dir.write("a.log", "x\n")
        let e = assertThrows(SystemError.self, try LogSources(paths: [a, dir.file("nope.log")], needsTime: false))
        XCTAssertEqual(e?.exitStatus, .unavailable)
        XCTAssertTrue(e?.description.contains("nope.log") ?? false)
    }

    func testReaderSaysWhereEachLongLineIs() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.write("f.log", "a\n" + String(repeating: "x", count: 100) + "\nb\n\n" + String(repeating: "y", count: 70))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = LogReader(fd: fd, name: path, bufferSize: 16, maxLineLength: 64)
        var long: [LongLine] = []
        reader.onLongLine = { long.append($0) }
        var lines: [String] = []
        while let line = try reader.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        XCTAssertEqual(lines, ["a", "b", ""])
        XCTAssertEqual(long.map(\.line), [2, 5], "numbered as lines of the file, skipped ones counted")
        XCTAssertEqual(long.map(\.offset), [2, 106])
        XCTAssertEqual(reader.lineNumber, 5)
        XCTAssertEqual(long.first?.description, "\(path):2: line longer than 64 bytes")
        // Resumed in the middle, lines are not counted from the start: the offset says where.
        reader.seek(to: 4)
        long = []
        while try reader.nextLine() != nil {}
        XCTAssertEqual(long.map(\.line), [nil, nil])
        XCTAssertEqual(long.map(\.offset), [4, 106])
        // A caller that throws stops there.
        reader.seek(to: 0)
        reader.onLongLine = { throw $0 }
        XCTAssertEqual(try reader.nextLine().map { String(decoding: $0, as: UTF8.self) }, "a")
        XCTAssertEqual(assertThrows(LongLine.self, try reader.nextLine())?.line, 2)
    }

    func testFollowingReaderStartsOverWhenTheFileWasRefilledPastItsOffset() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.write("f.log", "old one\nold two\n")
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = LogReader(fd: fd, name: path, follow: true, bufferSize: 16)
        func lines() throws -> [String] {
            var out: [String] = []
            while let line = try reader.nextLine() { out.append(String(decoding: line, as: UTF8.self)) }
            return out
        }
        XCTAssertEqual(try lines(), ["old one", "old two"])
        // copytruncate, then more written than there was before the reader looks again.
        _ = dir.write("f.log", "new first line\nnew second line\n")
        XCTAssertEqual(try lines(), ["new first line", "new second line"], "not the rest of a line from its middle")
        XCTAssertEqual(try lines(), [], "unchanged: nothing new")
        // Refilled to exactly the size read: the size says nothing, the bytes do.
        _ = dir.write("f.log", "a different file of 31 bytes!!\n")
        XCTAssertEqual(try lines(), ["a different file of 31 bytes!!"])
    }

    func testReaderKeepsAHalfWrittenLineWhenFollowing() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.write("f.log", "one\ntw")
        let fd = open(path, O_RDONLY)
        let reader = LogReader(fd: fd, name: path, follow: true)
        defer { close(fd) }
        var lines: [String] = []
        while let line = try reader.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        XCTAssertEqual(lines, ["one"])
        XCTAssertEqual(reader.offset, 4)
        let w = open(path, O_WRONLY | O_APPEND)
        _ = "o\n".withCString { write(w, $0, 2) }
        close(w)
        while let line = try reader.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        XCTAssertEqual(lines, ["one", "two"])
        XCTAssertEqual(reader.offset, 8)
    }
}

final class RedactionLogsTests: XCTestCase {
    private let r = try! Redactor()
    private func red(_ s: String) -> String { r.redact(s) }

    func testEachPattern() {
        XCTAssertEqual(red("mail alice.b+x@mail.example.co.uk now"), "mail [email] now")
        XCTAssertEqual(red("from 10.0.0.1:8080 and 192.168.1.255/24"), "from [ipv4]:8080 and [ipv4]/24")
        XCTAssertEqual(red("v6 2001:db8::8a2e:370:7334 or [::1]:80 or fe80::1"), "v6 [ipv6] or [[ipv6]]:80 or [ipv6]")
        XCTAssertEqual(red("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334."), "full [ipv6].")
        XCTAssertEqual(red("mapped ::ffff:192.0.2.128"), "mapped [ipv6]")
        XCTAssertEqual(red("key AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A"), "key [aws_key] and [aws_key]")
        XCTAssertEqual(red("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "aws_secret_access_key = [secret]")
        XCTAssertEqual(red(#"{"password": "hunter2"} passwd=x"#), #"{"password": "[secret]"} passwd=[secret]"#)
        XCTAssertEqual(red("Authorization: Bearer abcdef123456"), "Authorization: [token]")
        XCTAssertEqual(red("sent bearer abcdef1234567890.xyz"), "sent bearer [token]")
        XCTAssertEqual(red("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl end"), "jwt [token] end")
        XCTAssertEqual(red("card 4111 1111 1111 1111 or 4111-1111-1111-1111 or 5500000000000004 or 378282246310005"),
                       "card [card] or [card] or [card] or [card]")
    }

    func testWhatMustNotBeTouched() {
        for text in [
            "2026-11-25T12:00:00.123Z", "at 12:00:00 on 2026-11-25",
            "order 4111111111111112 failed",                 // fails Luhn
            "epoch 1732536000123 ms",                        // no issuer starts with 1
            "id 1234567812345670",                           // passes Luhn, no issuer prefix
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "sha1 a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
            "arc v1.2.3.4 and 1.2.3.4.5 and 1.2.3 and 256.1.1.1 and 01.2.3.4",
            "https://data.binance.vision/data/spot/x.zip",
            "mac aa:bb:cc:dd:ee:ff and std::vector and a::b::c",
            "size 1.5 GiB in 3.2 s",
            "no secret here", "token_count=12",
        ] {
            XCTAssertEqual(red(text), text)
        }
    }

    func testUserPatterns() throws {
        let r = try Redactor(patterns: ["customer-[0-9]+", "acct_[a-z]+"])
        XCTAssertEqual(r.redact("customer-42 paid acct_xyz"), "[redacted] paid [redacted]")
        XCTAssertNotNil(assertThrows(UsageError.self, try Redactor(patterns: ["("])))
    }

    func testJSONKeepsKeysAndStructure() throws {
        let line = #"{"ts":"2026-11-25T12:00:00.000Z","msg":"by bob@x.io","n":4111111111111111,"headers":{"Authorization":"Basic dXNlcg=="},"list":["10.0.0.1",{"client_secret":"s3cr3t"}],"q":"say \"hi\" to 10.0.0.2"}"#
        let e = entry(line)
        let out = try Record(parsing: String(decoding: r.redactLine(e)!, as: UTF8.self))
        XCTAssertEqual(out.fields.map { out.keyText($0) }, ["ts", "msg", "n", "headers", "list", "q"])
        XCTAssertEqual(try out.string("ts"), "2026-11-25T12:00:00.000Z")
        XCTAssertEqual(try out.string("msg"), "by [email]")
        XCTAssertEqual(try out.string("n"), "[card]", "a card number is masked even as a number")
        XCTAssertEqual(String(decoding: out.raw(out.field("headers")!), as: UTF8.self), #"{"Authorization":"[token]"}"#)
        XCTAssertEqual(String(decoding: out.raw(out.field("list")!), as: UTF8.self), #"["[ipv4]",{"client_secret":"[secret]"}]"#)
        XCTAssertEqual(try out.string("q"), #"say "hi" to [ipv4]"#)
        XCTAssertNil(r.redactLine(entry(#"{"msg":"nothing \"here\""}"#)), "unchanged lines are passed on as they are")
    }

    func testLuhn() {
        XCTAssertTrue(RedactScan.luhn([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))
        XCTAssertFalse(RedactScan.luhn([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]))
    }
}

final class CountLogsTests: XCTestCase {
    func testCountsByFieldsAndBuckets() {
        let c = LogCounter(by: [FieldPath("level"), FieldPath("error.code")], every: 60_000)
        for line in [#"{"ts":"2026-11-25T12:00:10Z","level":"error","error":{"code":"timeout"}}"#,
                     #"{"ts":"2026-11-25T12:00:50Z","level":"ERR","error":{"code":"timeout"}}"#,
                     #"{"ts":"2026-11-25T12:01:00Z","level":"warn"}"#] {
            let e = entry(line)
            e.ts = e.ownTime
            c.add(e)
        }
        XCTAssertEqual(String(decoding: c.records(), as: UTF8.self), """
            {"ts":"2026-11-25T12:00:00.000Z","level":"error","error.code":"timeout","count":2}
            {"ts":"2026-11-25T12:01:00.000Z","level":"warn","error.code":null,"count":1}

            """)
    }

    func testPrometheusText() {
        let c = LogCounter(by: [FieldPath("tool"), FieldPath("error.code")], every: nil)
        for line in [#"{"tool":"arc-collect","error":{"code":"a\"b\\c"}}"#, #"{"tool":"arc-collect"}"#, #"{"tool":"arc-collect"}"#] {
            c.add(entry(line))
        }
        XCTAssertEqual(LogMetrics.render(c), """
            # HELP arc_log_lines_total Log lines read by telem-log, by tool and error_code.
            # TYPE arc_log_lines_total counter
            arc_log_lines_total{tool="arc-collect",error_code=""} 2
            arc_log_lines_total{tool="arc-collect",error_code="a\\"b\\\\c"} 1

            """)
        XCTAssertEqual(PrometheusText.labelName("9x.y-z"), "_9x_y_z")
        XCTAssertEqual(PrometheusText.labelName("__name"), "_name")
    }
}

final class IndexLogsTests: XCTestCase {
    func testIngestResumesAndSearchFinds() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try StateStore.open(dir.file("state.db"))
        let index = LogIndex(db)
        let path = dir.write("a.log", """
            {"ts":"2026-11-25T12:00:00Z","level":"info","tool":"arc-plan","msg":"planned 3 tasks"}
            {"ts":"2026-11-25T12:00:01Z","level":"error","tool":"arc-collect","msg":"connection reset by peer","trace_id":"t1"}

            """)
        func ingest() throws -> LogIndex.Ingested {
            let sources = try LogSources(paths: [path], needsTime: true)
            return try index.ingest(sources.sources[0], sources: sources, filter: LogFilter())
        }
        XCTAssertEqual(try ingest().lines, 2)
        XCTAssertEqual(try ingest().lines, 0, "ingesting the same file again adds nothing")
        let fd = open(path, O_WRONLY | O_APPEND)
        let more = #"{"ts":"2026-11-25T12:00:02Z","level":"warn","tool":"arc-collect","msg":"reset again"}"# + "\n"
        _ = more.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let third = try ingest()
        XCTAssertEqual(third.lines, 1)
        XCTAssertGreaterThan(third.fromOffset, 0)

        func search(_ q: String?, _ f: LogFilter = LogFilter(), order: LogIndex.Order = .newestFirst) throws -> [String] {
            var out: [String] = []
            try index.lines(matching: q, filter: f, order: order, limit: 10) { out.append($0.message ?? "") }
            return out
        }
        XCTAssertEqual(try search("reset"), ["reset again", "connection reset by peer"])
        XCTAssertEqual(try search("reset", order: .oldestFirst), ["connection reset by peer", "reset again"])
        var errors = LogFilter()
        errors.minSeverity = .error
        XCTAssertEqual(try search("reset", errors), ["connection reset by peer"])
        var traced = LogFilter()
        traced.trace = Array("t1".utf8)
        XCTAssertEqual(try search(nil, traced), ["connection reset by peer"])
        XCTAssertEqual(try search("msg:planned"), ["planned 3 tasks"])
        XCTAssertEqual(assertThrows(UsageError.self, try search("\"open"))?.code, FailureCode("usage"))
    }
}
