import XCTest
@testable import ArcCore
import ArcTestSupport

final class ByteStreamsTests: XCTestCase {
    func testAtomicFileSinkAppearsOnlyOnCommit() throws {
        let dir = TempDir()
        let path = dir.path + "/a/b/out.bin"
        let sink = try AtomicFileSink(path: path)
        try sink.write(Array("hello ".utf8))
        try sink.write(Array("world".utf8))
        XCTAssertFalse(FileSystem.exists(path))
        XCTAssertTrue(FileSystem.exists(sink.temporaryPath))
        try sink.commit()
        XCTAssertEqual(try FileSystem.read(path), Array("hello world".utf8))
        XCTAssertFalse(FileSystem.exists(sink.temporaryPath))
        XCTAssertEqual(sink.written, 11)
    }

    func testAbortedOrDroppedSinkLeavesNothing() throws {
        let dir = TempDir()
        var temps: [String] = []
        do {
            let sink = try AtomicFileSink(path: dir.path + "/x.bin")
            try sink.write(Array("partial".utf8))
            temps.append(sink.temporaryPath)
            sink.abort()
        }
        do {
            let sink = try AtomicFileSink(path: dir.path + "/y.bin")
            try sink.write(Array("partial".utf8))
            temps.append(sink.temporaryPath)
        }
        XCTAssertEqual(try FileSystem.directoryEntries(dir.path), [])
        XCTAssertFalse(temps.contains(where: FileSystem.exists))
    }

    func testTheNextWriterRemovesADeadWritersTemporaryOnly() throws {
        let dir = TempDir()
        try FileSystem.writeAtomically(dir.path + "/x.bin", Array("old".utf8))
        // A writer of x.bin killed with SIGKILL (a pid no process has), one alive (pid 1),
        // another host's (on a shared filesystem: not ours to judge), another file's.
        let host = AtomicFileSink.host
        let dead = ".x.bin.tmp-\(host)-4194000", live = ".x.bin.tmp-\(host)-1"
        let remote = ".x.bin.tmp-\(host)other-4194000", otherFile = ".y.bin.tmp-\(host)-4194000"
        for name in [dead, live, remote, otherFile] { try FileSystem.writeAtomically(dir.path + "/" + name, [1]) }
        let sink = try AtomicFileSink(path: dir.path + "/x.bin")
        try sink.write(Array("new".utf8))
        try sink.commit()
        XCTAssertEqual(try FileSystem.directoryEntries(dir.path).sorted(), [live, remote, otherFile, "x.bin"].sorted())
    }

    func testAnAbortedSinkRemovesTheDirectoriesItMadeUnlessUsed() throws {
        let dir = TempDir()
        let gone = try AtomicFileSink(path: dir.path + "/a/b/c/x.bin")
        try gone.write(Array("x".utf8))
        let kept = try AtomicFileSink(path: dir.path + "/a/y.bin")
        try kept.write(Array("y".utf8))
        try kept.commit()
        gone.abort()
        // a/ holds y.bin: kept; b/ and c/ were made for x.bin alone: gone.
        XCTAssertEqual(try FileSystem.directoryEntries(dir.path + "/a"), ["y.bin"])
        let other = try AtomicFileSink(path: dir.path + "/n/m/z.bin")
        other.abort()
        XCTAssertEqual(try FileSystem.directoryEntries(dir.path).sorted(), ["a"])
    }

    func testFileByteSourceReadsToTheEnd() throws {
        let dir = TempDir()
        try FileSystem.writeAtomically(dir.path + "/in", Array(repeating: 7, count: 100_000))
        let source = try FileByteSource(path: dir.path + "/in")
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            total += n
        }
        XCTAssertEqual(total, 100_000)
        XCTAssertThrowsError(try FileByteSource(path: dir.path + "/missing"))
    }
}
