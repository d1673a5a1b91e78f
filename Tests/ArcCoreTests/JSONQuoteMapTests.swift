import XCTest
import Glibc
@testable import ArcCore

/// The quote map (JSONScanner's path for clean lines) must give exactly the answers of
/// the byte-by-byte scan: accepted or not, the same members, the same error and offset.
/// Checked over the fuzz corpora and over lines mutated at random from them, with the
/// bytes that make a line unclean, and lengths around the map's 64-byte words.
final class JSONQuoteMapTests: XCTestCase {
    private struct Outcome: Equatable {
        var fields: [[Int32]] = []
        var error: String?
    }

    private func outcome(_ line: [UInt8], byBytes: Bool) -> Outcome {
        var fields: [JSONField] = []
        var result = Outcome()
        line.withUnsafeBufferPointer { b in
            do {
                if byBytes { try JSONScanner.scanObjectByBytes(b, into: &fields) } else { try JSONScanner.scanObject(b, into: &fields) }
            } catch let e as JSONSyntaxError {
                result.error = "\(e.offset) \(e.reason)"
            } catch {
                result.error = "\(error)"
            }
        }
        result.fields = fields.map { [$0.keyStart, $0.keyEnd, $0.valueStart, $0.valueEnd, Int32($0.kind.rawValue),
                                      $0.keyEscaped ? 1 : 0, $0.valueEscaped ? 1 : 0] }
        return result
    }

    private func check(_ line: [UInt8], file: StaticString = #filePath, line number: UInt = #line) {
        let fast = outcome(line, byBytes: false), full = outcome(line, byBytes: true)
        if fast != full {
            XCTFail("differ on \(String(decoding: line, as: UTF8.self).debugDescription): \(fast) vs \(full)", file: file, line: number)
        }
    }

    /// Every line of every file in the corpora named.
    private func corpusLines(_ names: [String]) -> [[UInt8]] {
        let root = String("\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/"))
        var lines: [[UInt8]] = []
        for name in names {
            let dir = root + "/Fuzz/Corpus/" + name
            guard let d = opendir(dir) else { continue }
            defer { closedir(d) }
            while let entry = readdir(d) {
                let file = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if file.hasPrefix(".") { continue }
                guard let f = fopen(dir + "/" + file, "rb") else { continue }
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = fread(&chunk, 1, chunk.count, f)
                    if n <= 0 { break }
                    bytes += chunk[0..<n]
                }
                fclose(f)
                lines.append(bytes)
                lines += bytes.split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init)
            }
        }
        return lines
    }

    func testCorpusLinesAgree() {
        let lines = corpusLines(["log-line", "ndjson"])
        XCTAssertGreaterThan(lines.count, 100, "the fuzz corpora were not found")
        for line in lines { check(line) }
    }

    func testMutatedLinesAgree() {
        var rng = SystemRandomNumberGenerator()
        let seeds = corpusLines(["log-line", "ndjson"]).filter { $0.first == UInt8(ascii: "{") } + [
            Array(#"{"ts":"2026-11-25T00:00:00.021Z","level":"info","tool":"s3x","msg":"collected","symbol":"ETHUSDT","bytes":630072,"n":[1,{"a":"b"}],"ok":true,"x":null}"#.utf8),
        ]
        // The bytes that decide the path or the grammar: quotes, escapes, controls,
        // non-ASCII (valid and not), structure, digits.
        let specials: [[UInt8]] = [[0x22], [0x5C], [0x5C, 0x22], [0x5C, 0x75, 0x30, 0x30, 0x34, 0x31], [0x00], [0x09], [0x0A], [0x1F],
                                   [0x7F], [0x80], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xC3], [0xFF],
                                   [0x7B], [0x7D], [0x5B], [0x5D], [0x3A], [0x2C], [0x20], [0x31], [0x2D], [0x65]]
        for _ in 0..<60_000 {
            var line = seeds.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let at = Int.random(in: 0...line.count, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: line.insert(contentsOf: specials.randomElement(using: &rng)!, at: at)
                case 1: if at < line.count { line.remove(at: at) }
                case 2: line = Array(line[0..<at])
                case 3: if at < line.count { line[at] = specials.randomElement(using: &rng)![0] }
                default:
                    // Padding inside a string, to move the quotes across the 64-byte words.
                    if let q = line.firstIndex(of: 0x22) {
                        line.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "a"), count: Int.random(in: 1...70, using: &rng)), at: q + 1)
                    }
                }
            }
            check(line)
        }
    }

    func testLengthsAroundWordsAndTheLimit() {
        for n in [0, 1, 2, 13, 14, 15, 16, 17, 60, 61, 62, 63, 64, 65, 127, 128, 129, 4090, 4094, 4095, 4096, 4097, 5000] {
            // {"k":"aaa…"} of total length n, then cut short and with a backslash at the end.
            let pad = max(0, n - 8)
            let line = Array(#"{"k":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: pad) + Array(#""}"#.utf8)
            check(line)
            check(Array(line.dropLast()))
            check(Array(line.dropLast(2)))
            check(Array(line.dropLast(2)) + [0x5C, 0x22, 0x7D])
            check(Array(line.dropLast(2)) + [0x22, 0x22, 0x7D])
            check(Array(line.dropLast(2)) + [0x80, 0x22, 0x7D])
        }
    }
}
