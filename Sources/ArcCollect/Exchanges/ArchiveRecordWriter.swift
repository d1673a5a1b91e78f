import ArcCore

/// Where a built-in source's archive records go as its listing runs: one line per archive
/// on stdout, flushed after each page. A write that fails (stdout closed, disk full)
/// stops the listing (`cancel`) and is thrown by `finish`, so a broken pipe is not a
/// listing that went well. Used from the transfer engine's thread only.
public final class ArchiveRecordWriter {
    private let output: BufferedOutput
    private var builder = RecordBuilder()
    private var writeError: Error?
    /// Stops the listing; set once the engine exists.
    public var cancel: () -> Void = {}

    public init(_ output: BufferedOutput) { self.output = output }

    public func write(_ archive: Archive) {
        guard writeError == nil else { return }
        builder.begin()
        archive.encode(into: &builder)
        builder.end()
        do { try output.write(builder.bytes) } catch { fail(error) }
    }

    /// After each page, so a slow listing still streams.
    public func pageDone() {
        guard writeError == nil else { return }
        do { try output.flush() } catch { fail(error) }
    }

    /// Throws the first write error, if any.
    public func finish() throws {
        if let writeError { throw writeError }
    }

    private func fail(_ error: Error) {
        writeError = error
        cancel()
    }
}

extension Catalog {
    /// Remembers, in one transaction, the folders an --incremental listing read to the end.
    public func record(marks: [(prefix: String, lastKey: String)]) throws {
        guard !marks.isEmpty else { return }
        let now = WallClock.now()
        try transaction {
            for mark in marks { try record(prefix: mark.prefix, lastKey: mark.lastKey, at: now) }
        }
    }
}
