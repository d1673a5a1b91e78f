import Foundation
import Glibc
import XCTest
@testable import ArcCore

/// A fresh directory under $TMPDIR, removed with everything in it on `remove()`.
final class TempDir {
    let path: String

    init(_ name: String = "arc-tests") {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array((base + "/\(name)-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: made!)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` inside the directory and returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = file(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func read(_ name: String) -> [UInt8] {
        (FileManager.default.contents(atPath: file(name))).map { Array($0) } ?? []
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A logger writing JSON lines to a file, so tests can read what a component reported.
final class CapturedLog {
    let dir: TempDir
    let fd: Int32
    let logger: Logger

    init(_ dir: TempDir) {
        self.dir = dir
        fd = open(dir.file("log.ndjson"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0)
        logger = Logger(tool: "arc-test", level: .debug, format: .json, terminal: Terminal(fd: fd))
    }

    deinit { close(fd) }

    /// The log lines written so far, parsed.
    var records: [Record] {
        let text = String(decoding: dir.read("log.ndjson"), as: UTF8.self)
        return text.split(separator: "\n").compactMap { try? Record(parsing: String($0)) }
    }
}

/// Captures what an `OutputStream` writes, through a temporary file.
final class CapturedOutput {
    let dir: TempDir
    let fd: Int32
    let stream: ArcCore.OutputStream

    init(_ dir: TempDir, name: String = "out.ndjson", flushThreshold: Int = 1 << 16) {
        self.dir = dir
        fd = open(dir.file(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0)
        stream = ArcCore.OutputStream(fd: fd, flushThreshold: flushThreshold)
        self.name = name
    }

    private let name: String

    deinit { close(fd) }

    /// Everything written, after a flush.
    func text() throws -> String {
        try stream.flush()
        return String(decoding: dir.read(name), as: UTF8.self)
    }

    func records() throws -> [Record] {
        try text().split(separator: "\n").map { try Record(parsing: String($0)) }
    }
}

extension Record {
    /// The record's bytes as text.
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Asserts that `body` throws an error of type `E`, and returns it for further checks.
@discardableResult
func assertThrows<E: Error, T>(_ expected: E.Type, _ body: @autoclosure () throws -> T,
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

/// A fresh state database with its ledger for each test.
class LedgerTestCase: XCTestCase {
    var dir: TempDir!
    var db: Database!
    var ledger: Ledger!

    override func setUp() {
        dir = TempDir()
        db = try! StateStore.open(dir.file("state.db"))
        ledger = Ledger(db)
    }

    override func tearDown() {
        ledger = nil
        db = nil
        dir.remove()
    }
}
