import ArcTestSupport
import Glibc
import XCTest
@testable import ArcCore

/// The byte at `offset` of a pattern source: not periodic in any chunk size used here.
private func patternByte(_ offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: offset &* 31 ^ (offset >> 9)) }

/// `total` bytes of the pattern (Int.max: no end) in pieces of the given sizes in turn,
/// then `failure` if one is given. Counts its reads and its bytes, and says when it is
/// freed, through state the test thread can look at.
private final class PatternSource: ByteSource {
    struct Failure: Error, Equatable { let after: Int }

    let total: Int
    let pieces: [Int]
    let fails: Bool
    let produced: Locked<Int>
    let freed: Locked<Bool>
    private var turn = 0
    private var offset = 0

    init(total: Int, pieces: [Int] = [Int.max], fails: Bool = false, produced: Locked<Int> = Locked(0),
         freed: Locked<Bool> = Locked(false)) {
        self.total = total
        self.pieces = pieces
        self.fails = fails
        self.produced = produced
        self.freed = freed
    }

    deinit { freed.withLock { $0 = true } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, total - offset, pieces[turn % pieces.count])
        turn += 1
        if count == 0 && fails { throw Failure(after: offset) }
        for i in 0..<count { buffer[i] = patternByte(offset + i) }
        offset += count
        produced.withLock { $0 += count }
        return count
    }
}

final class PrefetchingSourceTests: XCTestCase {
    /// Reads to the end in reads of `chunk` bytes, checking every byte against the pattern.
    private func readPattern(_ source: ByteSource, chunk: Int, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
        defer { buffer.deallocate() }
        var offset = 0
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { return offset }
            for i in 0..<n where buffer[i] != patternByte(offset + i) {
                XCTFail("byte \(offset + i) differs", file: file, line: line)
                return offset
            }
            offset += n
        }
    }

    func testPassesEveryByteThroughInOrder() throws {
        // Chunks of 1000 bytes filled from pieces of 1, 7, 4096 and 333 bytes; read back in
        // reads of 1, 7, 4096 and 1 MB.
        for (chunk, total) in [(1, 20_000), (7, 300_001), (4096, 2_000_003), (1 << 20, 2_000_003)] {
            let prefetching = PrefetchingSource(PatternSource(total: total, pieces: [1, 7, 4096, 333]), chunkSize: 1000, depth: 3)
            XCTAssertEqual(try readPattern(prefetching, chunk: chunk), total, "reads of \(chunk)")
            XCTAssertEqual(try readPattern(prefetching, chunk: chunk), 0, "after the end")
        }
        let large = PrefetchingSource(PatternSource(total: 10_000_000), chunkSize: 1 << 20, depth: 4)
        XCTAssertEqual(try readPattern(large, chunk: 65_536), 10_000_000)
        let empty = PrefetchingSource(PatternSource(total: 0))
        XCTAssertEqual(try readPattern(empty, chunk: 10), 0)
    }

    func testAnErrorComesOutWhereItHappened() throws {
        let prefetching = PrefetchingSource(PatternSource(total: 5_003, pieces: [700], fails: true), chunkSize: 1000, depth: 2)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        var offset = 0
        while true {
            do {
                let n = try prefetching.read(into: buffer)
                XCTAssertGreaterThan(n, 0, "an end instead of the error")
                for i in 0..<n { XCTAssertEqual(buffer[i], patternByte(offset + i)) }
                offset += n
            } catch let error as PatternSource.Failure {
                XCTAssertEqual(error, PatternSource.Failure(after: 5_003))
                break
            }
        }
        XCTAssertEqual(offset, 5_003, "every byte before the error")
        XCTAssertThrowsError(try prefetching.read(into: buffer), "and again") { XCTAssertTrue($0 is PatternSource.Failure) }
    }

    func testReadsNoMoreThanItsDepthAhead() throws {
        let produced = Locked(0)
        let prefetching = PrefetchingSource(PatternSource(total: Int.max, produced: produced), chunkSize: 10_000, depth: 3)
        waitUntil("the read-ahead to fill") { produced.current == 30_000 }
        usleep(50_000)
        XCTAssertEqual(produced.current, 30_000)
        // Taking one chunk frees one buffer: one more chunk is read.
        XCTAssertEqual(try readPattern(Limited(prefetching, 10_000), chunk: 10_000), 10_000)
        waitUntil("the next chunk") { produced.current == 40_000 }
        usleep(50_000)
        XCTAssertEqual(produced.current, 40_000)
        prefetching.close()
    }

    func testCloseStopsTheThreadWhenTheConsumerStopsEarly() throws {
        let produced = Locked(0)
        let freed = Locked(false)
        let prefetching = PrefetchingSource(PatternSource(total: Int.max, pieces: [3000], produced: produced, freed: freed),
                                            chunkSize: 4096, depth: 4)
        XCTAssertEqual(try readPattern(Limited(prefetching, 100_000), chunk: 1000), 100_000)
        prefetching.close()
        // Joined: the thread let go of the source, and reads nothing more.
        XCTAssertTrue(freed.current)
        let after = produced.current
        usleep(20_000)
        XCTAssertEqual(produced.current, after)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 10, alignment: 1)
        defer { buffer.deallocate() }
        XCTAssertEqual(try prefetching.read(into: buffer), 0)
        prefetching.close()  // twice is harmless
    }

    func testDroppingItStopsTheThread() throws {
        let freed = Locked(false)
        do {
            let prefetching = PrefetchingSource(PatternSource(total: Int.max, freed: freed), chunkSize: 1000, depth: 2)
            XCTAssertEqual(try readPattern(Limited(prefetching, 1500), chunk: 100), 1500)
        }
        XCTAssertTrue(freed.current, "deinit joined the thread, which freed the source")
        let freedUnread = Locked(false)
        do {
            // Never read at all: the thread is blocked on a full queue, or still reading.
            _ = PrefetchingSource(PatternSource(total: Int.max, freed: freedUnread), chunkSize: 1000, depth: 2)
        }
        XCTAssertTrue(freedUnread.current)
    }

    func testAConsumerSlowerAndFasterThanTheSource() throws {
        // Both sides pause now and then, so each waits for the other at times.
        final class Jittery: ByteSource {
            let inner = PatternSource(total: 3_000_000, pieces: [10_000, 77, 50_000])
            var reads = 0
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                reads += 1
                if reads % 7 == 0 { usleep(200) }
                return try inner.read(into: buffer)
            }
        }
        let prefetching = PrefetchingSource(Jittery(), chunkSize: 32_768, depth: 2)
        final class SlowReader: ByteSource {
            let inner: ByteSource
            var reads = 0
            init(_ inner: ByteSource) { self.inner = inner }
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                reads += 1
                if reads % 11 == 0 { usleep(300) }
                return try inner.read(into: buffer)
            }
        }
        XCTAssertEqual(try readPattern(SlowReader(prefetching), chunk: 20_000), 3_000_000)
    }
}

/// The first `limit` bytes of a source.
private final class Limited: ByteSource {
    let inner: ByteSource
    var left: Int
    init(_ inner: ByteSource, _ limit: Int) {
        self.inner = inner
        left = limit
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard left > 0 else { return 0 }
        let n = try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, left)]))
        left -= n
        return n
    }
}
