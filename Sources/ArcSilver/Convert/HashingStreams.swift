import ArcCore

/// Hashes (SHA-256) the bytes read through it: the archive's hash comes from the same
/// read that inflates it.
final class HashingSource: ByteSource {
    private let source: ByteSource
    private let hasher = SHA256()

    init(_ source: ByteSource) { self.source = source }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try source.read(into: buffer)
        if n > 0 { hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        return n
    }

    /// The hash of everything read; call once, at the end.
    func finalizeHex() -> String { hasher.finalizeHex() }
}

/// Hashes and counts the bytes written through it: the silver file's SHA-256 without
/// reading it back.
final class HashingSink: ByteSink {
    private let sink: ByteSink
    private let hasher = SHA256()
    private(set) var bytes: Int64 = 0
    private(set) var sha256: String?

    init(_ sink: ByteSink) { self.sink = sink }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        try sink.write(buffer)
        hasher.update(buffer)
        bytes += Int64(buffer.count)
    }

    func commit() throws {
        sha256 = hasher.finalizeHex()
        try sink.commit()
    }

    func abort() { sink.abort() }
}
