import Glibc

/// Buffered stdout for lines taken straight from an input buffer: one large write per
/// 256 KiB instead of an array per line. A closed reader (`| head`) is BrokenPipeError.
public final class ByteOutput {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let threshold: Int

    public init(fd: Int32 = 1, threshold: Int = 1 << 18) {
        self.fd = fd
        self.threshold = threshold
        buffer.reserveCapacity(threshold + 4096)
    }

    public var isTerminal: Bool { isatty(fd) == 1 }

    @inline(__always) public func write(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= threshold { try flush() }
    }

    public func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= threshold { try flush() }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Appends without flushing (callers building one line in pieces).
    public func append(_ byte: UInt8) { buffer.append(byte) }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n >= 0 { offset += n; continue }
                if errno == EINTR { continue }
                if errno == EPIPE { throw BrokenPipeError() }
                throw SystemError("write", path: fd == 1 ? "stdout" : "fd \(fd)", errno: errno)
            }
        }
    }
}

/// How lines are written: the line as it came (NDJSON out), or human columns.
public protocol LogWriter: AnyObject {
    func write(_ entry: LogEntry) throws
    func flush() throws
}

/// NDJSON output. A JSON line is passed on byte for byte; a text line becomes
/// `{"msg": line}`; with `--fields`, an object of just those fields, in that order
/// (absent ones left out; a dot path keeps its dotted name as the key).
public final class JSONLogWriter: LogWriter {
    private let out: ByteOutput
    private let fields: [FieldPath]
    private var line: [UInt8] = []

    public init(_ out: ByteOutput, fields: [FieldPath] = []) {
        self.out = out
        self.fields = fields
        line.reserveCapacity(4096)
    }

    public func write(_ entry: LogEntry) throws {
        if fields.isEmpty && entry.isJSON {
            try out.write(entry.bytes)
            out.append(0x0A)
            return
        }
        line.removeAll(keepingCapacity: true)
        line.append(UInt8(ascii: "{"))
        if fields.isEmpty {
            line.append(contentsOf: Array(#""msg":"#.utf8))
            LogText.appendQuotedLossy(entry.bytes, to: &line)
        } else {
            var first = true
            for path in fields {
                guard let v = entry.value(path) else { continue }
                if !first { line.append(UInt8(ascii: ",")) }
                first = false
                JSONText.appendQuoted(path.text, to: &line)
                line.append(UInt8(ascii: ":"))
                entry.appendJSON(of: v, to: &line)
            }
        }
        line.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        try out.write(line)
    }

    public func flush() throws { try out.flush() }
}

/// Writes lines as they are (redact's output: text stays text, JSON stays JSON).
public final class RawLogWriter: LogWriter {
    private let out: ByteOutput
    public init(_ out: ByteOutput) { self.out = out }
    public func write(_ entry: LogEntry) throws {
        try out.write(entry.bytes)
        out.append(0x0A)
    }
    public func flush() throws { try out.flush() }
}
