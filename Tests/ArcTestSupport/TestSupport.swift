import Glibc
import XCTest
import ArcCore

/// A fresh directory under $TMPDIR, removed with everything in it on `remove()`.
public final class TempDir: @unchecked Sendable {
    public let path: String

    public init(_ name: String = "arc-tests") {
        let base = FileSystem.environment("TMPDIR") ?? "/tmp"
        var template = Array((base + "/\(name)-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: made!)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` inside the directory and returns the full path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = file(name)
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot create \(p)")
        defer { close(fd) }
        try! FileSystem.writeAll(fd, bytes, path: p)
        return p
    }

    /// The file's bytes; empty when it does not exist.
    public func read(_ name: String) -> [UInt8] { (try? FileSystem.read(file(name))) ?? [] }

    public func remove() { FileSystem.removeTree(path) }
}

/// A logger writing JSON lines to a file, so tests can read what a component reported.
public final class CapturedLog: @unchecked Sendable {
    public let dir: TempDir
    public let fd: Int32
    public let logger: Logger

    public init(_ dir: TempDir) {
        self.dir = dir
        fd = open(dir.file("log.ndjson"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0)
        logger = Logger(tool: "arc-test", level: .debug, format: .json, terminal: Terminal(fd: fd))
    }

    deinit { close(fd) }

    /// The log lines written so far, parsed.
    public var records: [Record] {
        let text = String(decoding: dir.read("log.ndjson"), as: UTF8.self)
        return text.split(separator: "\n").compactMap { try? Record(parsing: String($0)) }
    }
}

/// Captures what a `BufferedOutput` writes, through a temporary file.
public final class CapturedOutput: @unchecked Sendable {
    public let dir: TempDir
    public let fd: Int32
    public let stream: BufferedOutput
    private let name: String

    public init(_ dir: TempDir, name: String = "out.ndjson", flushThreshold: Int = 1 << 16) {
        self.dir = dir
        fd = open(dir.file(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0)
        stream = BufferedOutput(fd: fd, flushThreshold: flushThreshold)
        self.name = name
    }

    deinit { close(fd) }

    /// Everything written, after a flush.
    public func text() throws -> String {
        try stream.flush()
        return String(decoding: dir.read(name), as: UTF8.self)
    }

    public func records() throws -> [Record] {
        try text().split(separator: "\n").map { try Record(parsing: String($0)) }
    }
}

extension Record {
    /// The record's bytes as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Asserts that `body` throws an error of type `E`, and returns it for further checks.
@discardableResult
public func assertThrows<E: Error, T>(_ expected: E.Type, _ body: @autoclosure () throws -> T,
                                      file: StaticString = #filePath, line: UInt = #line) -> E? {
    do {
        let value = try body()
        XCTFail("expected \(E.self), got the value \(value)", file: file, line: line)
        return nil
    } catch let error as E {
        return error
    } catch {
        XCTFail("expected \(E.self), got \(Swift.type(of: error)): \(error)", file: file, line: line)
        return nil
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass: for tests of
/// concurrent code, which wait for what they check instead of sleeping a fixed time.
public func waitUntil(timeout: Double = 10, _ what: String = "the condition",
                      file: StaticString = #filePath, line: UInt = #line, _ condition: () throws -> Bool) rethrows {
    let deadline = MonotonicClock.nanos() + UInt64(timeout * 1e9)
    while MonotonicClock.nanos() < deadline {
        if try condition() { return }
        usleep(10_000)
    }
    XCTFail("timed out after \(timeout) s waiting for \(what)", file: file, line: line)
}
