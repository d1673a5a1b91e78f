import Glibc

/// Reads records from stdin or files, one after another. A line that is not a JSON
/// object is reported on stderr with its file and line number and skipped; with
/// `strict` it stops the tool instead (exit 2). Blank lines are ignored. One reader at a
/// time: a tool that reads on a thread of its own hands the input over to it.
public final class RecordInput: @unchecked Sendable { // used by one thread at a time
    private var sources: [String]
    private var reader: LineReader?
    private var fd: Int32 = -1
    public private(set) var currentName = "stdin"
    public let strict: Bool
    private let log: Logger
    public private(set) var badLines = 0
    public private(set) var records = 0
    /// Runs before each blocking read (see `LineReader.willBlock`).
    public var willBlock: (() throws -> Void)?

    /// `paths` empty or `-` means standard input.
    public init(paths: [String], strict: Bool, log: Logger) {
        sources = paths.isEmpty ? ["-"] : paths
        self.strict = strict
        self.log = log
    }

    /// Reads an already open descriptor (a plugin's stdout), named `name` in messages.
    public init(fd: Int32, name: String, strict: Bool, log: Logger) {
        sources = []
        self.strict = strict
        self.log = log
        self.fd = fd
        currentName = name
        let r = LineReader(fd: fd, name: name)
        r.willBlock = { [weak self] in try self?.willBlock?() }
        reader = r
    }

    deinit { if fd > 2 { close(fd) } }

    /// Fails unless every input file can be read, before any work starts: a missing
    /// second file must not be found after the first one's records were acted on.
    public func checkSources() throws {
        for path in sources where path != "-" {
            var st = stat()
            guard stat(path, &st) == 0 else { throw SystemError("open", path: path, errno: errno) }
            if (st.st_mode & S_IFMT) == S_IFDIR { throw SystemError("open", path: path, errno: EISDIR) }
            guard access(path, R_OK) == 0 else { throw SystemError("open", path: path, errno: errno) }
        }
    }

    /// The current line number in the current source.
    public var lineNumber: Int { reader?.lineNumber ?? 0 }

    /// The next good record with its line number; nil when every source is exhausted.
    public func next() throws -> (record: Record, line: Int)? {
        while true {
            if reader == nil {
                guard !sources.isEmpty else { return nil }
                try open(sources.removeFirst())
            }
            let outcome: LineOutcome?
            do {
                outcome = try reader!.nextLine { line in
                    if isBlank(line) { return .blank }
                    do { return .record(try Record(line: line)) } catch let e as JSONSyntaxError {
                        return .bad(e)
                    }
                }
            } catch let e as LineTooLongError {
                try reject(line: e.line, field: nil, e.description)
                continue
            }
            switch outcome {
            case nil:
                closeCurrent()
            case .blank:
                continue
            case .record(let record):
                records += 1
                return (record, reader!.lineNumber)
            case .bad(let error):
                try reject(line: reader!.lineNumber, field: nil, error.description)
            }
        }
    }

    private enum LineOutcome {
        case blank
        case record(Record)
        case bad(JSONSyntaxError)
    }

    /// Reports a record that parsed but is unusable (a missing or mistyped field):
    /// logged and skipped, or thrown in strict mode.
    public func reject(line: Int, field: String?, _ message: String) throws {
        let error = InputError(file: currentName, line: line, field: field, message)
        if strict { throw error }
        badLines += 1
        log.warn("skipped bad record: \(error)", ["file": .string(currentName), "line": .int(Int64(line))])
    }

    /// Runs `body` on a record, turning `FieldError`s into a rejected line.
    public func decode<T>(_ record: Record, line: Int, _ body: (Record) throws -> T) throws -> T? {
        do { return try body(record) } catch let e as FieldError {
            try reject(line: line, field: e.field, e.description)
            return nil
        }
    }

    private func open(_ path: String) throws {
        if path == "-" {
            fd = 0
            currentName = "stdin"
        } else {
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
            currentName = path
        }
        let r = LineReader(fd: fd, name: currentName)
        r.willBlock = { [weak self] in try self?.willBlock?() }
        reader = r
    }

    private func closeCurrent() {
        if fd > 2 { close(fd) }
        fd = -1
        reader = nil
    }

    private func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where !(c == 0x20 || c == 0x09 || c == 0x0D) { return false }
        return true
    }
}
