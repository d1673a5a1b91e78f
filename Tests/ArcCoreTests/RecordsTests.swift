import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport

final class JSONScannerTests: XCTestCase {
    private func scan(_ text: String) throws -> [JSONField] {
        var fields: [JSONField] = []
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBufferPointer { try JSONScanner.scanObject(UnsafeBufferPointer($0), into: &fields) }
        return fields
    }

    private func reason(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        assertThrows(JSONSyntaxError.self, try scan(text), file: file, line: line)?.reason
    }

    func testTopLevelMembersAndKinds() throws {
        let r = try Record(parsing: #"{"s":"x","n":-1.5e3,"o":{"a":[1,{"b":null}]},"a":[],"t":true,"f":false,"z":null}"#)
        XCTAssertEqual(r.fields.count, 7, "nested members are not top-level fields")
        XCTAssertEqual(r.fields.map { $0.kind }, [.string, .number, .object, .array, .bool, .bool, .null])
        XCTAssertEqual(r.fields.map { r.keyText($0) }, ["s", "n", "o", "a", "t", "f", "z"])
        XCTAssertEqual(String(decoding: r.raw(r.field("o")!), as: UTF8.self), #"{"a":[1,{"b":null}]}"#)
        XCTAssertEqual(String(decoding: r.raw(r.field("s")!), as: UTF8.self), #""x""#, "strings keep their quotes")
    }

    func testWhitespaceAroundEverything() throws {
        let r = try Record(parsing: " \t{ \"a\" :\t1 , \"b\" : [ 1 , 2 ] }\t ")
        XCTAssertEqual(try r.int("a"), 1)
        XCTAssertEqual(String(decoding: r.raw(r.field("b")!), as: UTF8.self), "[ 1 , 2 ]")
    }

    func testEmptyObject() throws {
        XCTAssertEqual(try scan("{}").count, 0)
        XCTAssertEqual(try scan("{ }").count, 0)
    }

    func testEmptyAndBlankLinesAreErrors() {
        XCTAssertEqual(reason(""), "empty line")
        XCTAssertEqual(reason("   "), "empty line")
    }

    func testNotAnObject() {
        XCTAssertEqual(reason("[1,2]"), "not a JSON object")
        XCTAssertEqual(reason("\"text\""), "not a JSON object")
        XCTAssertEqual(reason("42"), "not a JSON object")
        XCTAssertEqual(reason("null"), "not a JSON object")
        XCTAssertEqual(reason("plain log line"), "not a JSON object")
    }

    func testTruncatedLines() {
        for text in ["{", #"{"a""#, #"{"a":"#, #"{"a":1"#, #"{"a":1,"#, #"{"a":"abc"#, #"{"a":[1,2"#, #"{"a":{"b":1"#,
                     #"{"a":tr"#, #"{"a":"\u00"#] {
            XCTAssertNotNil(reason(text), "accepted truncated line \(text)")
        }
        XCTAssertEqual(reason(#"{"a":1"#), "unexpected end of line")
    }

    func testTrailingGarbage() {
        XCTAssertEqual(reason(#"{"a":1}x"#), "unexpected data after the object")
        XCTAssertEqual(reason(#"{"a":1}{"b":2}"#), "unexpected data after the object")
    }

    func testGrammarErrors() {
        let bad = [
            #"{a:1}"#,            // unquoted key
            #"{'a':1}"#,          // single quotes
            #"{"a":1,}"#,         // trailing comma
            #"{"a" 1}"#,          // missing colon
            #"{"a":01}"#,         // leading zero
            #"{"a":1.}"#,         // fraction without digits
            #"{"a":1e}"#,         // exponent without digits
            #"{"a":-}"#,          // lone minus
            #"{"a":+1}"#,         // plus sign
            #"{"a":tru}"#,        // bad literal
            #"{"a":nul}"#,
            #"{"a":"\x"}"#,       // bad escape
            #"{"a":"\u12G4"}"#,   // bad \u escape
            #"{"a":[1 2]}"#,      // missing comma in an array
            #"{"a":{"b" 1}}"#,    // missing colon in a nested object
            #"{"a":[1,]}"#,       // trailing comma in an array
            #"{"a":NaN}"#,
        ]
        for text in bad {
            XCTAssertNotNil(reason(text), "accepted \(text)")
        }
    }

    func testControlCharacterInString() {
        XCTAssertEqual(reason("{\"a\":\"x\ty\"}"), "control character in string")
        XCTAssertEqual(reason("{\"a\":\"x\ny\"}"), "control character in string")
    }

    func testStringsMustBeUTF8() throws {
        func scanBytes(_ bytes: [UInt8]) throws {
            var fields: [JSONField] = []
            var line = Array("{\"a\":\"".utf8) + bytes + Array("\"}".utf8)
            try line.withUnsafeMutableBufferPointer { try JSONScanner.scanObject(UnsafeBufferPointer($0), into: &fields) }
        }
        // Good: 2, 3 and 4 byte sequences, also past the 8-byte fast path.
        XCTAssertNoThrow(try scanBytes(Array("café 中文 🎉 and a longer tail é".utf8)))
        for bad: [UInt8] in [[0xFF, 0xFE], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                             [0xC3], Array("12345678".utf8) + [0x80]] {
            XCTAssertEqual(assertThrows(JSONSyntaxError.self, try scanBytes(bad))?.reason, "invalid UTF-8 in string", "\(bad)")
        }
    }

    func testValidNumbers() throws {
        for n in ["0", "-0", "1", "-12", "0.5", "-0.5e+10", "1E-3", "12345678901234567890"] {
            let fields = try scan("{\"n\":\(n)}")
            XCTAssertEqual(fields.first?.kind, .number, n)
        }
    }

    func testErrorOffsetPointsAtTheProblem() {
        let e = assertThrows(JSONSyntaxError.self, try scan(#"{"a":1,"b":?}"#))
        XCTAssertEqual(e?.offset, 11)
        XCTAssertEqual(e?.description, "unexpected character at column 12")
    }

    func testNestingLimit() throws {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        XCTAssertEqual(reason("{\"a\":\(deep)}"), "nested too deeply")
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertEqual(try scan("{\"a\":\(ok)}").first?.kind, .array)
    }
}

final class RecordTests: XCTestCase {
    func testTypedAccess() throws {
        let r = try Record(parsing: #"{"s":"x","i":42,"neg":-7,"d":1.25,"b":true,"f":false,"z":null,"big":1e3}"#)
        XCTAssertEqual(try r.string("s"), "x")
        XCTAssertEqual(try r.int("i"), 42)
        XCTAssertEqual(try r.int("neg"), -7)
        XCTAssertEqual(try r.double("d"), 1.25)
        XCTAssertEqual(try r.double("i"), 42)
        XCTAssertEqual(try r.double("big"), 1000)
        XCTAssertEqual(try r.bool("b"), true)
        XCTAssertEqual(try r.bool("f"), false)
        XCTAssertNil(try r.string("z"), "null reads as nil")
        XCTAssertNil(try r.int("z"))
        XCTAssertNil(try r.string("absent"))
        XCTAssertTrue(r.has("z"))
        XCTAssertFalse(r.has("absent"))
    }

    func testWrongTypesThrow() throws {
        let r = try Record(parsing: #"{"s":"x","i":42,"d":1.5,"o":{}}"#)
        XCTAssertEqual(assertThrows(FieldError.self, try r.int("s"))?.description, "expected an integer, found a string")
        XCTAssertNotNil(assertThrows(FieldError.self, try r.int("d")), "a fraction is not an integer")
        XCTAssertNotNil(assertThrows(FieldError.self, try r.string("i")))
        XCTAssertNotNil(assertThrows(FieldError.self, try r.bool("s")))
        XCTAssertNotNil(assertThrows(FieldError.self, try r.double("o")))
    }

    func testIntegerOutOfRangeThrows() throws {
        let r = try Record(parsing: #"{"n":99999999999999999999,"max":9223372036854775807}"#)
        XCTAssertNotNil(assertThrows(FieldError.self, try r.int("n")))
        XCTAssertEqual(try r.int("max"), Int64.max)
    }

    func testRequiredString() throws {
        let r = try Record(parsing: #"{"a":"x","e":"","z":null}"#)
        XCTAssertEqual(try r.requiredString("a"), "x")
        XCTAssertEqual(assertThrows(FieldError.self, try r.requiredString("e"))?.expected, "a non-empty string")
        XCTAssertEqual(assertThrows(FieldError.self, try r.requiredString("z"))?.description, "missing; expected a string")
        XCTAssertEqual(assertThrows(FieldError.self, try r.requiredString("absent"))?.field, "absent")
    }

    func testEscapesAndUnicode() throws {
        let r = try Record(parsing: #"{"k":"q\"b\\s\/n\nt\tr\rb\bf\f é\u00e9\u65e5\ud83c\udf89🎉"}"#)
        XCTAssertEqual(try r.string("k"), "q\"b\\s/n\nt\tr\rb\u{8}f\u{c} éé日🎉🎉")
        XCTAssertTrue(r.field("k")!.valueEscaped)
        let plain = try Record(parsing: #"{"k":"日本語 ✓"}"#)
        XCTAssertFalse(plain.field("k")!.valueEscaped)
        XCTAssertEqual(try plain.string("k"), "日本語 ✓")
    }

    func testLoneSurrogateBecomesReplacementCharacter() throws {
        let r = try Record(parsing: #"{"k":"a\ud800b","l":"\udc00"}"#)
        XCTAssertEqual(try r.string("k"), "a\u{FFFD}b")
        XCTAssertEqual(try r.string("l"), "\u{FFFD}")
    }

    func testEscapedKeysAreFound() throws {
        let r = try Record(parsing: #"{"u\u0072l":"http://x","plain":1}"#)
        XCTAssertEqual(try r.string("url"), "http://x")
        XCTAssertEqual(r.keyText(r.fields[0]), "url")
    }

    func testLastDuplicateKeyWins() throws {
        let r = try Record(parsing: #"{"a":1,"b":2,"a":3}"#)
        XCTAssertEqual(try r.int("a"), 3)
    }

    func testKeysOfDifferentLengthDoNotMatchByPrefix() throws {
        let r = try Record(parsing: #"{"keys":1,"ke":2}"#)
        XCTAssertNil(try r.int("key"))
        XCTAssertEqual(try r.int("ke"), 2)
        XCTAssertEqual(try r.int("keys"), 1)
    }
}

final class JSONTextTests: XCTestCase {
    private func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        JSONText.appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func testQuoting() {
        XCTAssertEqual(quoted("plain"), #""plain""#)
        XCTAssertEqual(quoted(""), #""""#)
        XCTAssertEqual(quoted("a\"b\\c"), #""a\"b\\c""#)
        XCTAssertEqual(quoted("l1\nl2\r\t\u{8}\u{c}"), #""l1\nl2\r\t\b\f""#)
        XCTAssertEqual(quoted("\u{1}\u{1f}"), #""\u0001\u001f""#)
        XCTAssertEqual(quoted("é日🎉/"), "\"é日🎉/\"", "non-ASCII and / are written as they are")
    }

    func testQuoteThenParseRoundTrips() throws {
        let values = ["", "x", "a\"b", "back\\slash", "\u{0}\u{1}\u{7f}", "tab\tnew\nline", "日本語🎉", "\\u0041"]
        for v in values {
            var b = RecordBuilder()
            b.begin()
            b.string("v", v)
            b.end()
            let line = String(decoding: b.bytes.dropLast(), as: UTF8.self)
            XCTAssertEqual(try Record(parsing: line).string("v"), v, "round trip of \(v.debugDescription)")
        }
    }

    func testParseInt() {
        func p(_ s: String) -> Int64? { JSONText.parseInt(ArraySlice(Array(s.utf8))) }
        XCTAssertEqual(p("0"), 0)
        XCTAssertEqual(p("-0"), 0)
        XCTAssertEqual(p("123"), 123)
        XCTAssertEqual(p("-45"), -45)
        XCTAssertEqual(p("9223372036854775807"), Int64.max)
        XCTAssertNil(p("9223372036854775808"))
        XCTAssertEqual(p("-9223372036854775808"), Int64.min)
        XCTAssertNil(p("-9223372036854775809"))
        XCTAssertNil(p(""))
        XCTAssertNil(p("-"))
        XCTAssertNil(p("1.0"))
        XCTAssertNil(p("1e3"))
    }
}

final class RecordBuilderTests: XCTestCase {
    private func built(_ body: (inout RecordBuilder) -> Void) -> String {
        var b = RecordBuilder()
        b.begin()
        body(&b)
        b.end()
        return String(decoding: b.bytes, as: UTF8.self)
    }

    func testValueTypes() {
        let line = built {
            $0.string("s", "x")
            $0.int("i", -42)
            $0.int("zero", 0)
            $0.int("max", Int64.max)
            $0.double("d", 1.5)
            $0.double("inf", .infinity)
            $0.bool("t", true)
            $0.bool("f", false)
            $0.null("z")
            $0.optionalString("absent", nil)
            $0.optionalString("present", "p")
            $0.stringOrNull("sn", nil)
            $0.intOrNull("in", nil)
            $0.raw("r", Array("[1,2]".utf8))
            $0.strings("list", ["a", "b\"c"])
        }
        XCTAssertEqual(line, #"{"s":"x","i":-42,"zero":0,"max":9223372036854775807,"d":1.5,"inf":null,"t":true,"f":false,"z":null,"present":"p","sn":null,"in":null,"r":[1,2],"list":["a","b\"c"]}"# + "\n")
    }

    func testNestedObjectsAndArrays() throws {
        let line = built {
            $0.string("a", "1")
            $0.object("err") { e in
                e.string("code", "x")
                e.string("message", "y")
            }
            $0.objects("items", [1, 2]) { b, n in
                b.int("n", n)
                b.bool("odd", n % 2 == 1)
            }
            $0.objects("none", [Int]()) { _, _ in }
            $0.string("after", "z")
        }
        XCTAssertEqual(line, #"{"a":"1","err":{"code":"x","message":"y"},"items":[{"n":1,"odd":true},{"n":2,"odd":false}],"none":[],"after":"z"}"# + "\n")
        XCTAssertNoThrow(try Record(parsing: String(line.dropLast())))
    }

    func testBeginReusesTheBuffer() {
        var b = RecordBuilder()
        b.begin()
        b.string("first", "x")
        b.end()
        b.begin()
        b.int("second", 2)
        b.end()
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), "{\"second\":2}\n")
    }

    func testUnknownFieldsPassThroughByteForByte() throws {
        // Values keep their exact spelling: number forms, escapes, nested whitespace, raw UTF-8.
        let input = #"{"url":"http://a/b","tag":{"team": "données", "n" : [1.50, 2E3]},"note":"x\u00e9\n","big":12345678901234567890,"ok":true}"#
        let r = try Record(parsing: input)
        var b = RecordBuilder()
        b.begin()
        b.copyFields(of: r, except: ["url"])
        b.string("added", "y")
        b.end()
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self),
                       #"{"tag":{"team": "données", "n" : [1.50, 2E3]},"note":"x\u00e9\n","big":12345678901234567890,"ok":true,"added":"y"}"# + "\n")
    }

    func testCopyFieldsExceptMatchesEscapedKeys() throws {
        let r = try Record(parsing: #"{"st\u0061tus":"old","keep":1,"status2":2}"#)
        var b = RecordBuilder()
        b.begin()
        b.copyFields(of: r, except: ["status"])
        b.string("status", "ok")
        b.end()
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), #"{"keep":1,"status2":2,"status":"ok"}"# + "\n")
    }

    func testCopyAllFieldsReproducesCompactInput() throws {
        let input = #"{"a":1,"b":"two","c":[3],"d":{"e":null}}"#
        let r = try Record(parsing: input)
        var b = RecordBuilder()
        b.begin()
        b.copyFields(of: r)
        b.end()
        XCTAssertEqual(String(decoding: b.bytes, as: UTF8.self), input + "\n")
    }
}

final class ArchiveRecordTests: XCTestCase {
    func testEncodeWritesOptionalFieldsAsTheContractSays() throws {
        let a = Archive(source: "binance", market: "spot", period: "daily", type: "trades", symbol: "BTCUSDT",
                        interval: nil, date: "2024-01-02", key: "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-01-02.zip",
                        url: "https://x/k.zip", checksumURL: nil, size: nil, etag: "abc", lastModified: nil)
        var b = RecordBuilder()
        b.begin()
        a.encode(into: &b)
        b.end()
        let line = String(decoding: b.bytes, as: UTF8.self)
        XCTAssertEqual(line, #"{"source":"binance","market":"spot","period":"daily","type":"trades","symbol":"BTCUSDT","date":"2024-01-02","key":"data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-01-02.zip","url":"https://x/k.zip","checksum_url":null,"size":null,"etag":"abc","last_modified":null}"# + "\n")
        let r = try Record(parsing: String(line.dropLast()))
        XCTAssertFalse(r.has("interval"), "interval is left out, not null, for types without one")
        XCTAssertEqual(Set(r.fields.map { r.keyText($0) }), Set(Archive.fieldNames).subtracting(["interval", "checksum"]))
    }
}

final class LineReaderTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    private func lines(_ content: [UInt8], bufferSize: Int) throws -> [String] {
        let path = dir.write("in", content)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = LineReader(fd: fd, name: "in", bufferSize: bufferSize)
        var out: [String] = []
        while let line = try reader.nextLine({ String(decoding: $0, as: UTF8.self) }) { out.append(line) }
        XCTAssertEqual(reader.lineNumber, out.count)
        return out
    }

    func testSplitsLinesAndStripsCR() throws {
        let text = "a\r\nbb\n\nccc\r\n\r\nlast"
        for size in [1, 2, 3, 7, 64 * 1024] {
            XCTAssertEqual(try lines(Array(text.utf8), bufferSize: size), ["a", "bb", "", "ccc", "", "last"], "buffer \(size)")
        }
    }

    func testFinalNewlineDoesNotMakeAnExtraLine() throws {
        XCTAssertEqual(try lines(Array("x\ny\n".utf8), bufferSize: 4), ["x", "y"])
        XCTAssertEqual(try lines([], bufferSize: 4), [])
    }

    func testOnlyOneTrailingCRIsStripped() throws {
        XCTAssertEqual(try lines(Array("a\r\r\nb\r".utf8), bufferSize: 16), ["a\r", "b"])
    }

    func testLongLinesGrowTheBuffer() throws {
        let long = String(repeating: "x", count: 10_000)
        XCTAssertEqual(try lines(Array((long + "\nshort\n" + long).utf8), bufferSize: 16), [long, "short", long])
    }

    func testALineOverTheLimitIsSkippedAndReported() throws {
        let long = String(repeating: "x", count: 100)
        let path = dir.write("in", "a\n" + long + "\nb\n" + long)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = LineReader(fd: fd, name: "in", bufferSize: 8, maxLineLength: 32)
        var out: [String] = []
        var tooLong: [Int] = []
        while true {
            do {
                guard let line = try reader.nextLine({ String(decoding: $0, as: UTF8.self) }) else { break }
                out.append(line)
            } catch let e as LineTooLongError {
                tooLong.append(e.line)
            }
        }
        XCTAssertEqual(out, ["a", "b"])
        XCTAssertEqual(tooLong, [2, 4], "the lines are numbered as in the file, the last without a newline too")
    }

    func testWillBlockRunsBeforeReads() throws {
        let path = dir.write("in", "a\nb\n")
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = LineReader(fd: fd, name: "in")
        var calls = 0
        reader.willBlock = { calls += 1 }
        while try reader.nextLine({ _ in () }) != nil {}
        XCTAssertGreaterThanOrEqual(calls, 1)
    }
}

final class RecordInputTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    private let mixed = "{\"n\":1}\n"                 // 1 good
        + "[1,2]\n"                                     // 2 not an object
        + "\n"                                          // 3 blank: ignored, not bad
        + "{\"n\":2}\r\n"                               // 4 good, CRLF
        + "{\"n\":3,\"x\":\n"                           // 5 truncated
        + "   \t\r\n"                                   // 6 blank with spaces
        + "not json at all\n"                           // 7 bad
        + "{\"n\":4}"                                   // 8 good, no final newline

    func testSkipsBadLinesAndReportsTheirLineNumbers() throws {
        let path = dir.write("in.ndjson", mixed)
        let log = CapturedLog(dir)
        let input = RecordInput(paths: [path], strict: false, log: log.logger)
        var got: [(Int64, Int)] = []
        while let (record, line) = try input.next() { got.append((try record.int("n")!, line)) }
        XCTAssertEqual(got.map { $0.0 }, [1, 2, 4])
        XCTAssertEqual(got.map { $0.1 }, [1, 4, 8])
        XCTAssertEqual(input.badLines, 3)
        XCTAssertEqual(input.records, 3)
        let warnings = log.records.filter { (try? $0.string("level")) == "warn" }
        XCTAssertEqual(warnings.compactMap { try? $0.int("line") }, [2, 5, 7])
        XCTAssertEqual(warnings.compactMap { try? $0.string("file") }, [path, path, path])
        XCTAssertTrue(try warnings[0].string("msg")!.contains("\(path):2: not a JSON object"))
    }

    func testStrictStopsAtTheFirstBadLine() throws {
        let path = dir.write("in.ndjson", mixed)
        let input = RecordInput(paths: [path], strict: true, log: CapturedLog(dir).logger)
        XCTAssertNotNil(try input.next())
        let e = assertThrows(InputError.self, try input.next())
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.file, path)
        XCTAssertEqual(e?.code, FailureCode("bad_record"))
        XCTAssertEqual(e?.exitStatus, .usage)
    }

    func testReadsFilesInOrderWithLineNumbersPerFile() throws {
        let a = dir.write("a", "{\"f\":\"a1\"}\n{\"f\":\"a2\"}\n")
        let b = dir.write("b", "{\"f\":\"b1\"}\n")
        let input = RecordInput(paths: [a, b], strict: false, log: CapturedLog(dir).logger)
        var got: [String] = []
        while let (r, line) = try input.next() { got.append("\(try r.string("f")!)@\(line)") }
        XCTAssertEqual(got, ["a1@1", "a2@2", "b1@1"])
    }

    func testMissingFileIsASystemError() {
        let input = RecordInput(paths: [dir.file("nope")], strict: false, log: CapturedLog(dir).logger)
        let e = assertThrows(SystemError.self, try input.next())
        XCTAssertEqual(e?.code, FailureCode("not_found"))
        XCTAssertEqual(e?.exitStatus, .unavailable)
    }

    func testDecodeTurnsFieldErrorsIntoRejectedLines() throws {
        let path = dir.write("in", "{\"url\":\"x\"}\n{\"url\":5}\n{\"other\":1}\n")
        let log = CapturedLog(dir)
        let input = RecordInput(paths: [path], strict: false, log: log.logger)
        var urls: [String] = []
        while let (r, line) = try input.next() {
            if let url = try input.decode(r, line: line, { try $0.requiredString("url") }) { urls.append(url) }
        }
        XCTAssertEqual(urls, ["x"])
        XCTAssertEqual(input.badLines, 2)
        XCTAssertTrue(log.records.contains { (try? $0.string("msg"))?.contains(":2: field \"url\": expected a string, found a number") == true })

        let strict = RecordInput(paths: [path], strict: true, log: log.logger)
        _ = try strict.next()
        let (r2, line2) = try strict.next()!
        let e = assertThrows(InputError.self, try strict.decode(r2, line: line2) { try $0.requiredString("url") })
        XCTAssertEqual(e?.field, "url")
        XCTAssertEqual(e?.code, FailureCode("bad_field"))
    }

    func testReadsAnOpenDescriptor() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let payload = Array("{\"a\":1}\n{\"a\":2}\n".utf8)
        XCTAssertEqual(write(fds[1], payload, payload.count), payload.count)
        close(fds[1])
        let input = RecordInput(fd: fds[0], name: "plugin", strict: false, log: CapturedLog(dir).logger)
        XCTAssertEqual(input.currentName, "plugin")
        var n = 0
        while let (r, _) = try input.next() { n += Int(try r.int("a")!) }
        XCTAssertEqual(n, 3)
    }
}

final class OutputStreamTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    func testBuffersUntilFlushOrThreshold() throws {
        let out = CapturedOutput(dir, flushThreshold: 10)
        try out.stream.write("abc")
        XCTAssertEqual(dir.read("out.ndjson"), [], "below the threshold nothing reaches the file")
        try out.stream.write("defghijk")
        XCTAssertEqual(String(decoding: dir.read("out.ndjson"), as: UTF8.self), "abcdefghijk")
        try out.stream.write("z")
        XCTAssertEqual(try out.text(), "abcdefghijkz")
    }

    func testClosedPipeIsBrokenPipeError() throws {
        ignoreSIGPIPE()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])
        defer { close(fds[1]) }
        let stream = BufferedOutput(fd: fds[1])
        try stream.write("x\n")
        XCTAssertNotNil(assertThrows(BrokenPipeError.self, try stream.flush()))
    }
}

final class RecordEdgeTests: XCTestCase {
    func testEmptyKey() throws {
        let r = try Record(parsing: #"{"":1,"a":2}"#)
        XCTAssertEqual(try r.int(""), 1)
        XCTAssertEqual(try r.int("a"), 2)
    }

    func testLongLineWithManyFields() throws {
        let body = (0..<500).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let r = try Record(parsing: "{" + body + "}")
        XCTAssertEqual(r.fields.count, 500)
        XCTAssertEqual(try r.int("k499"), 499)
        XCTAssertEqual(try r.int("k0"), 0)
    }
}

final class JSONValueTests: XCTestCase {
    func testNestedDocument() throws {
        let v = try JSONValue(parsing: #"{"a": [1, "two", {"b": null, "c": true}], "n": -12.5e1, "big": "9007199254740993"}"#)
        XCTAssertEqual(v["a"]?.arrayValue?.count, 3)
        XCTAssertEqual(v["a"]?.arrayValue?[0].int64Value, 1)
        XCTAssertEqual(v["a"]?.arrayValue?[1].stringValue, "two")
        XCTAssertEqual(v["a"]?.arrayValue?[2]["b"], .null)
        XCTAssertEqual(v["a"]?.arrayValue?[2]["c"]?.boolValue, true)
        XCTAssertEqual(v["n"]?.doubleValue, -125)
        XCTAssertEqual(v["big"]?.int64Value, 9_007_199_254_740_993, "64-bit integers as strings keep every digit")
        XCTAssertNil(v["missing"])
        XCTAssertNil(v["a"]?["b"], "an array has no members")
    }

    func testScalarsAndEmptyContainersAtTheTop() throws {
        XCTAssertEqual(try JSONValue(parsing: "  42 "), .number("42"))
        XCTAssertEqual(try JSONValue(parsing: #""x\u00e9\n""#), .string("xé\n"))
        XCTAssertEqual(try JSONValue(parsing: "[]"), .array([]))
        XCTAssertEqual(try JSONValue(parsing: "{}"), .object([]))
        XCTAssertEqual(try JSONValue(parsing: "false"), .bool(false))
    }

    func testAcrossLinesAsCredentialHelpersPrint() throws {
        let v = try JSONValue(parsing: "{\n  \"Version\": 1,\n  \"AccessKeyId\": \"AK\"\n}\n")
        XCTAssertEqual(v["AccessKeyId"]?.stringValue, "AK")
    }

    func testRepeatedKeyLookupTakesTheLast() throws {
        let v = try JSONValue(parsing: #"{"k": 1, "k": 2}"#)
        XCTAssertEqual(v.members?.count, 2)
        XCTAssertEqual(v["k"]?.int64Value, 2)
    }

    func testErrorsNameTheOffset() {
        for (text, offset) in [("[1, 2", 5), ("[1,]", 3), ("{\"a\" 1}", 5), ("[1] x", 4), ("", 0), ("nul", 0)] {
            let e = assertThrows(JSONSyntaxError.self, try JSONValue(parsing: text))
            XCTAssertEqual(e?.offset, offset, text)
        }
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        XCTAssertNotNil(assertThrows(JSONSyntaxError.self, try JSONValue(parsing: deep)))
    }
}
