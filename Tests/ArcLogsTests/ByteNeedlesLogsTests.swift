import XCTest
@testable import ArcLogs

/// ByteNeedles.find against a plain search, on haystacks built from the needles' own bytes
/// (so hits, overlaps and near misses are frequent): the first start, then the lowest
/// needle there. Covers the packed-pair path and the shared-byte path (`level"`, `lvl"`,
/// `severity"` all hold `v`), which must answer the same.
final class ByteNeedlesLogsTests: XCTestCase {
    private func naive(_ needles: [[UInt8]], _ hay: [UInt8], from: Int) -> (Int, Int)? {
        var at = from
        while at < hay.count {
            for (k, n) in needles.enumerated() where at + n.count <= hay.count && Array(hay[at..<at + n.count]) == n {
                return (at, k)
            }
            at += 1
        }
        return nil
    }

    private func check(_ words: [String], rounds: Int = 400, maxLength: Int = 90) {
        let needles = words.map { Array($0.utf8) }
        let searcher = ByteNeedles(needles)
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array(Set(needles.joined())) + Array("x\"{".utf8)
        for _ in 0..<rounds {
            var hay: [UInt8] = []
            let length = Int.random(in: 0..<maxLength, using: &rng)
            while hay.count < length {
                if Int.random(in: 0..<4, using: &rng) == 0, let n = needles.randomElement(using: &rng) {
                    // A needle, sometimes cut short or spliced into another.
                    hay += n.prefix(Int.random(in: 1...n.count, using: &rng))
                } else {
                    hay.append(alphabet.randomElement(using: &rng)!)
                }
            }
            let from = hay.isEmpty ? 0 : Int.random(in: 0..<hay.count, using: &rng)
            let end = hay.count
            let want = naive(needles, hay, from: from)
            let got = hay.withUnsafeBufferPointer { b in
                searcher.find(in: b.baseAddress ?? UnsafePointer(bitPattern: 1)!, from: from, end: end)
            }
            XCTAssertEqual(got?.at, want?.0, "\(words) in \(String(decoding: hay, as: UTF8.self)) from \(from)")
            XCTAssertEqual(got?.needle, want?.1, "\(words) in \(String(decoding: hay, as: UTF8.self)) from \(from)")
        }
    }

    func testLevelKeysBySharedByte() { check(["level\"", "severity\"", "lvl\""]) }
    func testNeedlesSharingAByteAtManyOffsets() { check(["vk", "kv-a", "vvk", "kvk"]) }
    func testNeedlesWithoutASharedRareByte() { check(["\"s3x\"", "\"wf-run\""]) }
    func testOneNeedle() { check(["ETHUSDT"]) }
    // Long enough for the blocks of 64 passed over at once, and for the AVX2 loop (32 a
    // step) where the CPU has it, with hits at any place in and across blocks.
    func testLongHaystacks() {
        check(["ETHUSDT"], rounds: 300, maxLength: 700)
        check(["\"s3x\"", "\"wf-run\""], rounds: 300, maxLength: 700)
        check(["x"], rounds: 300, maxLength: 700)
    }

    /// ByteScan's newline count and last newline against plain loops, at every length and
    /// offset around the block sizes (16, 64, and 32 with AVX2).
    func testNewlineScans() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<300 {
            let hay = (0..<length).map { _ in Int.random(in: 0..<9, using: &rng) == 0 ? UInt8(0x0A) : UInt8(ascii: "a") }
            let from = length == 0 ? 0 : Int.random(in: 0..<length, using: &rng)
            hay.withUnsafeBufferPointer { b in
                let base = b.baseAddress ?? UnsafePointer(bitPattern: 1)!
                XCTAssertEqual(ByteScan.newlines(in: base, from: from, end: length), hay[from...].filter { $0 == 0x0A }.count,
                               "length \(length) from \(from)")
                XCTAssertEqual(ByteScan.lastNewline(in: base, from: from, end: length),
                               hay.indices[from...].last { hay[$0] == 0x0A }, "length \(length) from \(from)")
            }
        }
    }
}
