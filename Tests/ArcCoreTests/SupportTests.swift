import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport

final class GlobTests: XCTestCase {
    func testStar() {
        let g = Glob("*USDT")
        XCTAssertTrue(g.matches("BTCUSDT"))
        XCTAssertTrue(g.matches("USDT"))
        XCTAssertFalse(g.matches("USDTBTC"))
        XCTAssertFalse(g.matches("BTCUSDC"))
        XCTAssertTrue(Glob("*").matches(""))
        XCTAssertTrue(Glob("*").matches("anything"))
        XCTAssertTrue(Glob("BTC*").matches("BTC"))
        XCTAssertTrue(Glob("**").matches("x"))
    }

    func testBacktracking() {
        XCTAssertTrue(Glob("a*b*c").matches("aXbYbZc"))
        XCTAssertTrue(Glob("*USDT").matches("USDTUSDT"))
        XCTAssertTrue(Glob("*AB").matches("AAB"))
        XCTAssertFalse(Glob("a*b*c").matches("aXbYbZ"))
        XCTAssertTrue(Glob("*1000*").matches("1000SHIBUSDT"))
    }

    func testQuestionMark() {
        XCTAssertTrue(Glob("BTC?USDT").matches("BTCXUSDT"))
        XCTAssertFalse(Glob("BTC?USDT").matches("BTCUSDT"))
        XCTAssertFalse(Glob("?").matches(""))
    }

    func testClasses() {
        XCTAssertTrue(Glob("[BE]TCUSDT").matches("BTCUSDT"))
        XCTAssertTrue(Glob("[BE]TCUSDT").matches("ETCUSDT"))
        XCTAssertFalse(Glob("[BE]TCUSDT").matches("LTCUSDT"))
        XCTAssertTrue(Glob("[A-C]*").matches("BNB"))
        XCTAssertFalse(Glob("[A-C]*").matches("DOGE"))
        XCTAssertTrue(Glob("[!B]*").matches("ETH"))
        XCTAssertFalse(Glob("[!B]*").matches("BTC"))
        XCTAssertTrue(Glob("[^B]*").matches("ETH"))
        XCTAssertTrue(Glob("[]]x").matches("]x"), "a ] first in a class is a member")
        XCTAssertTrue(Glob("[a-]").matches("-"), "a trailing - is a member")
    }

    func testUnclosedBracketIsLiteral() {
        XCTAssertTrue(Glob("[abc").matches("[abc"))
        XCTAssertFalse(Glob("[abc").matches("a"))
    }

    func testMatchesWholeStringOnly() {
        XCTAssertTrue(Glob("BTCUSDT").matches("BTCUSDT"))
        XCTAssertFalse(Glob("BTCUSDT").matches("BTCUSDT_PERP"))
        XCTAssertFalse(Glob("BTCUSDT").matches("XBTCUSDT"))
        XCTAssertFalse(Glob("").matches("x"))
        XCTAssertTrue(Glob("").matches(""))
    }

    func testIsLiteral() {
        XCTAssertTrue(Glob("BTCUSDT").isLiteral)
        XCTAssertTrue(Glob("BTC-USDT_2024").isLiteral)
        XCTAssertFalse(Glob("*USDT").isLiteral)
        XCTAssertFalse(Glob("BTC?").isLiteral)
        XCTAssertFalse(Glob("[BE]TC").isLiteral)
    }
}

final class DayTests: XCTestCase {
    func testParseAndPrint() {
        XCTAssertEqual(Day("2024-01-31")?.description, "2024-01-31")
        XCTAssertEqual(Day("1970-01-01")?.daysSinceEpoch, 0)
        XCTAssertEqual(Day("2000-03-01")?.daysSinceEpoch, 11_017)
        XCTAssertEqual(Day("1969-12-31")?.daysSinceEpoch, -1)
        XCTAssertEqual(Day(daysSinceEpoch: 19_723).description, "2024-01-01")
    }

    func testRejectsInvalidDates() {
        for text in ["2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "2024-1-01", "2024/01/01",
                     "24-01-01", "2024-01-011", "", "abcd-ef-gh", "2024-01-0a"] {
            XCTAssertNil(Day(text), text)
        }
    }

    func testLeapYears() {
        XCTAssertNotNil(Day("2024-02-29"))
        XCTAssertNotNil(Day("2000-02-29"), "divisible by 400")
        XCTAssertNil(Day("1900-02-29"), "divisible by 100, not 400")
        XCTAssertEqual(Day.daysIn(year: 2024, month: 2), 29)
        XCTAssertEqual(Day.daysIn(year: 2023, month: 2), 28)
        XCTAssertEqual(Day.daysIn(year: 2023, month: 4), 30)
        XCTAssertEqual(Day.daysIn(year: 2023, month: 12), 31)
    }

    func testArithmeticAndOrder() {
        let d = Day("2023-12-31")!
        XCTAssertEqual(d.adding(days: 1).description, "2024-01-01")
        XCTAssertEqual(d.adding(days: 60).description, "2024-02-29")
        XCTAssertEqual(d.adding(days: -365).description, "2022-12-31")
        XCTAssertLessThan(Day("2023-12-31")!, Day("2024-01-01")!)
        XCTAssertEqual(d.month.description, "2023-12")
        let c = Day("2024-07-04")!.components
        XCTAssertEqual([c.year, c.month, c.day], [2024, 7, 4])
    }

    func testCivilConversionRoundTripsOverCenturies() {
        var expected = Day(year: 1899, month: 12, day: 31)!.daysSinceEpoch
        for year in 1900...2100 {
            for month in 1...12 {
                for day in 1...Day.daysIn(year: year, month: month) {
                    let d = Day(year: year, month: month, day: day)!
                    expected += 1
                    XCTAssertEqual(d.daysSinceEpoch, expected)
                    let c = d.components
                    if c.year != year || c.month != month || c.day != day { XCTFail("\(year)-\(month)-\(day)"); return }
                }
            }
        }
    }

    func testMonth() {
        let m = Month("2024-02")!
        XCTAssertEqual(m.firstDay.description, "2024-02-01")
        XCTAssertEqual(m.lastDay.description, "2024-02-29")
        XCTAssertEqual(m.adding(months: 11).description, "2025-01")
        XCTAssertEqual(m.adding(months: -2).description, "2023-12")
        XCTAssertEqual(Month(index: m.index), m)
        XCTAssertLessThan(Month("2023-12")!, m)
        XCTAssertNil(Month("2024-13"))
        XCTAssertNil(Month("2024-00"))
        XCTAssertNil(Month("2024-1"))
        XCTAssertNil(Month("2024-01-01"))
    }
}

final class ClockTests: XCTestCase {
    func testRFC3339Formatting() {
        XCTAssertEqual(WallClock.rfc3339(millis: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(WallClock.rfc3339(millis: 1_704_164_645_678), "2024-01-02T03:04:05.678Z")
        XCTAssertEqual(WallClock.rfc3339(millis: -1), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(WallClock.rfc3339(millis: 86_399_999), "1970-01-01T23:59:59.999Z")
    }

    func testRFC3339Parsing() {
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02T03:04:05.678Z"), 1_704_164_645_678)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02T03:04:05Z"), 1_704_164_645_000)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02t03:04:05z"), 1_704_164_645_000)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02 03:04:05Z"), 1_704_164_645_000)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02T03:04:05.6Z"), 1_704_164_645_600)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02T03:04:05.123456789Z"), 1_704_164_645_123)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02T05:04:05+02:00"), 1_704_164_645_000)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-01T22:04:05-05:00"), 1_704_164_645_000)
        XCTAssertEqual(WallClock.parseRFC3339("2024-01-02"), 1_704_153_600_000)
        for bad in ["", "2024-01-02T03:04", "2024-01-02T03:04:05", "2024-01-02T25:00:00Z", "2024-01-02T03:04:05.Z",
                    "2024-01-02T03:04:05Zjunk", "2024-01-02T03:04:05+0200", "2024-02-30T00:00:00Z", "yesterday"] {
            XCTAssertNil(WallClock.parseRFC3339(bad), bad)
        }
    }

    func testRFC3339RoundTrip() {
        for millis: Int64 in [0, 1, 999, 1000, 1_704_164_645_678, 4_102_444_799_999] {
            XCTAssertEqual(WallClock.parseRFC3339(WallClock.rfc3339(millis: millis)), millis)
        }
        let now = WallClock.now()
        XCTAssertEqual(now.count, 24)
        XCTAssertTrue(now.hasSuffix("Z"))
    }

    func testHTTPDate() {
        XCTAssertEqual(WallClock.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784_111_777_000)
        XCTAssertNil(WallClock.parseHTTPDate("Sun, 06 Foo 1994 08:49:37 GMT"))
        XCTAssertNil(WallClock.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT"))
        XCTAssertNil(WallClock.parseHTTPDate("Sun, 31 Feb 1994 08:49:37 GMT"))
    }

    func testDurations() {
        XCTAssertEqual(parseDuration("500ms"), 0.5)
        XCTAssertEqual(parseDuration("30s"), 30)
        XCTAssertEqual(parseDuration("5m"), 300)
        XCTAssertEqual(parseDuration("2h"), 7200)
        XCTAssertEqual(parseDuration("1d"), 86_400)
        XCTAssertEqual(parseDuration("1.5s"), 1.5)
        XCTAssertEqual(parseDuration("0"), 0)
        XCTAssertEqual(parseDuration("12"), 12, "bare numbers are seconds")
        XCTAssertEqual(parseDuration("1m30s"), 90, "compounds, largest unit first")
        for bad in ["", "s", "ms", "-1s", "-5", "5 m", "5x", "fast", "30s1m"] {
            XCTAssertNil(parseDuration(bad), bad)
        }
    }

    func testMonotonicClockMovesForward() {
        let a = MonotonicClock.nanos()
        let b = MonotonicClock.nanos()
        XCTAssertGreaterThanOrEqual(b, a)
    }
}

final class HumanFormatTests: XCTestCase {
    func testBytes() {
        XCTAssertEqual(HumanFormat.bytes(0), "0 B")
        XCTAssertEqual(HumanFormat.bytes(999), "999 B")
        XCTAssertEqual(HumanFormat.bytes(1000), "1.00 KB")
        XCTAssertEqual(HumanFormat.bytes(1_500_000), "1.50 MB")
        XCTAssertEqual(HumanFormat.bytes(45_600_000), "45.6 MB")
        XCTAssertEqual(HumanFormat.bytes(123_000_000_000), "123 GB")
        XCTAssertEqual(HumanFormat.rate(2_000_000), "2.00 MB/s")
    }

    func testDurations() {
        XCTAssertEqual(HumanFormat.duration(0), "0.0s")
        XCTAssertEqual(HumanFormat.duration(5.25), "5.3s")
        XCTAssertEqual(HumanFormat.duration(42), "42s")
        XCTAssertEqual(HumanFormat.duration(75), "1m15s")
        XCTAssertEqual(HumanFormat.duration(3700), "1h01m")
    }
}

final class FileSystemTests: XCTestCase {
    func testPathParts() {
        XCTAssertEqual(FileSystem.parent(of: "/a/b/c"), "/a/b")
        XCTAssertEqual(FileSystem.parent(of: "/a"), "/")
        XCTAssertEqual(FileSystem.parent(of: "a"), ".")
        XCTAssertEqual(FileSystem.baseName(of: "/a/b/c.zip"), "c.zip")
        XCTAssertEqual(FileSystem.baseName(of: "c.zip"), "c.zip")
    }

    func testAbsoluteNormalises() {
        XCTAssertEqual(FileSystem.absolute("/a/./b/../c//d/"), "/a/c/d")
        XCTAssertEqual(FileSystem.absolute("/.."), "/")
        // The clean fast path answers as the slow one does.
        for path in ["/a/b.zip", "/a/.hidden/b", "/a/.../b", "/a/..b/c", "/a/b./c", "/", "/a/", "/a//b", "/a/.",
                     "/a/..", "/./a", "/../a", "/a/b/..", "/.a", "/..a"] {
            let parts = path.split(separator: "/").reduce(into: [Substring]()) { p, part in
                if part == ".." { if !p.isEmpty { p.removeLast() } } else if part != "." { p.append(part) }
            }
            XCTAssertEqual(FileSystem.absolute(path), "/" + parts.joined(separator: "/"), path)
        }
        XCTAssertEqual(FileSystem.absolute("x/y"), FileSystem.absolute(FileSystem.currentDirectory()) + "/x/y")
    }

    func testWriteAtomicallyAndRead() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.file("deep/er/file.txt")
        try FileSystem.writeAtomically(path, Array("one".utf8))
        try FileSystem.writeAtomically(path, Array("two".utf8))
        XCTAssertEqual(try FileSystem.read(path), Array("two".utf8))
        XCTAssertEqual(FileSystem.size(path), 3)
        XCTAssertNil(FileSystem.size(dir.file("deep")), "a directory has no file size")
        let leftovers = try FileManagerFree.list(dir.file("deep/er"))
        XCTAssertEqual(leftovers, ["file.txt"], "no temporary file is left behind")
        try FileSystem.syncDirectory(dir.file("deep/er"))
    }

    func testMakeDirectoriesOverAFileFails() {
        let dir = TempDir()
        defer { dir.remove() }
        dir.write("f", "x")
        XCTAssertNoThrow(try FileSystem.makeDirectories(dir.file("a/b/c")))
        XCTAssertNoThrow(try FileSystem.makeDirectories(dir.file("a/b/c")))
        XCTAssertNotNil(assertThrows(SystemError.self, try FileSystem.makeDirectories(dir.file("f/sub"))))
    }

    func testSystemErrorCodes() {
        XCTAssertEqual(SystemError("write", path: "/x", errno: ENOSPC).code, FailureCode("disk_full"))
        XCTAssertEqual(SystemError("open", path: "/x", errno: EACCES).code, FailureCode("permission_denied"))
        XCTAssertEqual(SystemError("open", path: "/x", errno: ENOENT).code, FailureCode("not_found"))
        XCTAssertEqual(SystemError("read", path: "/x", errno: EIO).code, FailureCode("io_error"))
        XCTAssertEqual(SystemError("open", path: "/x", errno: ENOENT).description, "/x: open: No such file or directory")
        XCTAssertEqual(InputError(file: "in", line: 3, field: "url", "bad").description, "in:3: field \"url\": bad")
        XCTAssertEqual(InputError(file: "in", line: 0, "bad").description, "in: bad")
    }
}

/// Directory listing without Foundation's name clash on `BufferedOutput`.
enum FileManagerFree {
    static func list(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { throw SystemError("opendir", path: path, errno: errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

final class QueueTests: XCTestCase {
    func testBoundedQueueHandsEverythingOverInOrder() {
        let q = BlockingQueue<Int>(capacity: 2)
        let producer = WorkerThread(name: "producer") {
            for i in 0..<1000 { q.put(i) }
            q.close()
        }
        var got: [Int] = []
        while let x = q.take() { got.append(x) }
        producer.join()
        XCTAssertEqual(got, Array(0..<1000))
        XCTAssertFalse(q.put(1), "a closed queue refuses puts")
        XCTAssertNil(q.poll())
    }

    func testTakeAllDrainsInBatches() {
        let q = BlockingQueue<Int>()
        for i in 0..<5 { q.put(i) }
        XCTAssertEqual(q.takeAll(max: 3), [0, 1, 2])
        XCTAssertEqual(q.takeAll(), [3, 4])
        q.close()
        XCTAssertEqual(q.takeAll(), [])
    }

    func testCancelledSlotsWakeWaiters() {
        let slots = Slots(1)
        XCTAssertTrue(slots.acquire())
        let result = Locked<Bool?>(nil)
        let waiter = WorkerThread(name: "waiter") { result.withLock { $0 = slots.acquire() } }
        usleep(20_000)
        slots.cancel()
        waiter.join()
        XCTAssertEqual(result.current, false)
    }
}

final class StableHashTests: XCTestCase {
    private func hash(_ parts: String...) -> UInt64 {
        var h = StableHash()
        for p in parts { h.add(p) }
        return h.value
    }

    func testSameInputSameHashAcrossRuns() {
        // A fixed value: task ids must not change between runs, machines or builds.
        XCTAssertEqual(hash("https://data.binance.vision/x.zip", "/lake/x.zip"), hash("https://data.binance.vision/x.zip", "/lake/x.zip"))
        XCTAssertEqual(StableHash().hex.count, 16)
        XCTAssertEqual(hash("abc"), 0x5A9D_9C5F_9116_E4E9, String(hash("abc"), radix: 16))
    }

    func testPartsAreNotJustConcatenated() {
        XCTAssertNotEqual(hash("ab", "c"), hash("a", "bc"))
        XCTAssertNotEqual(hash("", "x"), hash("x", ""))
        XCTAssertNotEqual(hash("12345678"), hash("12345678", ""))
    }

    func testNoCollisionsAmongManyKeys() {
        var seen = Set<UInt64>()
        for n in 0..<100_000 { seen.insert(hash("data/spot/daily/klines/SYM\(n % 977)/1m/SYM-1m-\(n).zip")) }
        XCTAssertEqual(seen.count, 100_000)
    }
}

final class TextTests: XCTestCase {
    func testTrimmedRemovesASCIIWhitespaceAtBothEnds() {
        XCTAssertEqual(" \t a b \r\n".trimmed(), "a b")
        XCTAssertEqual("".trimmed(), "")
        XCTAssertEqual(" \n ".trimmed(), "")
        XCTAssertEqual("\u{00A0}x\u{00A0}".trimmed(), "\u{00A0}x\u{00A0}", "a no-break space is data")
        XCTAssertEqual(Substring("  é  ").trimmed(), "é")
    }

    func testControlCharactersEscaped() {
        XCTAssertEqual("plain é ✓".controlCharactersEscaped, "plain é ✓")
        XCTAssertEqual("a\nb\tc\rd".controlCharactersEscaped, "a\\nb\\tc\\rd")
        XCTAssertEqual("\u{1B}[31mred\u{7F}\u{0}".controlCharactersEscaped, "\\x1b[31mred\\x7f\\x0")
        XCTAssertEqual("\u{85}".controlCharactersEscaped, "\u{85}", "C1 controls are left as they are")
    }

    func testPadding() {
        XCTAssertEqual("ab".padded(to: 4), "ab  ")
        XCTAssertEqual("abcde".padded(to: 4), "abcde")
        XCTAssertEqual("ab".padded(toLeft: 4), "  ab")
        XCTAssertEqual(zeroPadded(7, 3), "007")
        XCTAssertEqual(zeroPadded(1234, 2), "1234")
    }

    func testNonEmpty() {
        XCTAssertNil("".nonEmpty)
        XCTAssertEqual("a".nonEmpty, "a")
        XCTAssertNil((nil as String?).nonEmpty)
        XCTAssertNil(("" as String?).nonEmpty)
    }
}

final class ThreadPrimitiveTests: XCTestCase {
    func testWaitGroupWaitsForEveryLeave() {
        let group = WaitGroup()
        let done = Locked(0)
        var threads: [WorkerThread] = []
        for _ in 0..<8 {
            group.enter()
            threads.append(WorkerThread(name: "w") {
                usleep(2_000)
                done.withLock { $0 += 1 }
                group.leave()
            })
        }
        group.wait()
        XCTAssertEqual(done.current, 8)
        XCTAssertEqual(group.pending, 0)
        threads.forEach { $0.join() }
    }

    func testTimedWaitTimesOutAndASignalEndsIt() {
        let state = ConditionLock()
        let started = MonotonicClock.nanos()
        let signalled = state.withLock { state.wait(seconds: 0.05) }
        XCTAssertFalse(signalled)
        XCTAssertGreaterThanOrEqual(MonotonicClock.nanos() - started, 45_000_000)

        let flag = Locked(false)
        let waker = WorkerThread(name: "waker") {
            usleep(10_000)
            state.withLock {
                flag.withLock { $0 = true }
                state.signal()
            }
        }
        state.withLock {
            while !flag.current { state.wait(seconds: 5) }
        }
        waker.join()
        XCTAssertLessThan(MonotonicClock.nanos() - started, 2_000_000_000)
    }

    func testJoiningTwiceIsHarmless() {
        let ran = Locked(0)
        let worker = WorkerThread(name: "once") { ran.withLock { $0 += 1 } }
        let joiners = (0..<3).map { _ in WorkerThread(name: "joiner") { worker.join() } }
        worker.join()
        joiners.forEach { $0.join() }
        worker.join()
        XCTAssertEqual(ran.current, 1)
    }

    func testQueueHandsEveryElementOverOnceUnderContention() {
        let queue = BlockingQueue<Int>(capacity: 4)
        let sums = Locked([Int]())
        let takers = (0..<3).map { _ in
            WorkerThread(name: "take") {
                var sum = 0
                while let v = queue.take() { sum += v }
                sums.withLock { $0.append(sum) }
            }
        }
        let putters = (0..<3).map { p in
            WorkerThread(name: "put") { for i in 0..<1000 { queue.put(p * 1000 + i) } }
        }
        putters.forEach { $0.join() }
        queue.close()
        takers.forEach { $0.join() }
        XCTAssertEqual(sums.current.reduce(0, +), (0..<3000).reduce(0, +))
    }
}

final class SubprocessTests: XCTestCase {
    /// How the child ended, not its status, says whether a signal killed it: `exit 129`
    /// and a SIGHUP both give a shell 129.
    func testTerminationTellsAnExitAboveOneTwentyEightFromASignal() throws {
        let cases: [(String, Subprocess.Termination, Int32, String)] = [
            ("exit 0", .exited(0), 0, "exit status 0"),
            ("exit 3", .exited(3), 3, "exit status 3"),
            ("exit 129", .exited(129), 129, "exit status 129"),
            ("exit 200", .exited(200), 200, "exit status 200"),
            ("kill -HUP $$", .signaled(SIGHUP), 129, "killed by signal 1 (SIGHUP)"),
            ("kill -KILL $$", .signaled(SIGKILL), 137, "killed by signal 9 (SIGKILL)"),
            ("kill -USR2 $$", .signaled(SIGUSR2), 140, "killed by signal 12 (SIGUSR2)"),
        ]
        for (script, ended, status, text) in cases {
            let child = try Subprocess(executable: "/bin/sh", arguments: ["sh", "-c", script], captureStdout: false)
            let got = child.waitForTermination()
            XCTAssertEqual(got, ended, script)
            XCTAssertEqual(got.status, status, script)
            XCTAssertEqual(got.description, text, script)
        }
        XCTAssertEqual(Subprocess.Termination.signaled(40).description, "killed by signal 40", "a real-time signal has no name")
        XCTAssertEqual(SignalName.of(SIGTERM), "SIGTERM")
        XCTAssertEqual(SignalName.of(SIGSYS), "SIGSYS")
        XCTAssertNil(SignalName.of(0))
    }
}
