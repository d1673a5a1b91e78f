import Glibc
import ArcCore

/// What s3x writes per object: `cp SOURCE DEST` lines, or JSON event records (--json).
/// Failures are logged on stderr too. Counts feed --stat and the exit status.
public final class EventOutput: @unchecked Sendable { // counts and output are guarded by `lock`
    public enum Status: String { case ok, skipped, failed }

    let json: Bool
    /// -q: no line per object (JSON records are still written).
    let quiet: Bool
    let log: Logger
    /// Where lines and records go: stdout, or a test's capture.
    let stream: BufferedOutput
    private let lock = Lock()
    private var counts: [String: (ok: Int, skipped: Int, failed: Int)] = [:]
    private var worstFailure: ExitStatus?

    init(json: Bool, quiet: Bool, log: Logger, stream: BufferedOutput = .stdout) {
        self.json = json
        self.quiet = quiet
        self.log = log
        self.stream = stream
    }

    public func emit(_ operation: String, source: String?, destination: String?, size: Int64? = nil,
                     etag: String? = nil, verified: String? = nil, status: Status = .ok, error: ArcError? = nil,
                     dryRun: Bool = false) {
        lock.withLock {
            var c = counts[operation] ?? (0, 0, 0)
            switch status {
            case .ok: c.ok += 1
            case .skipped: c.skipped += 1
            case .failed:
                c.failed += 1
                // Only a store that cannot be reached, or refuses the credentials, is exit 3;
                // a file that cannot be written is one failed object among others.
                let exit = (error as? S3Error)?.exitStatus ?? .failures
                if worstFailure == nil || exit == .unavailable { worstFailure = exit == .unavailable ? .unavailable : .failures }
            }
            counts[operation] = c
        }
        let command = [operation, source, destination].compactMap { $0 }.joined(separator: " ")
        if let error {
            log.error("\(command): \(error.description)", ["code": .string(error.code.rawValue)])
        }
        if json {
            var b = RecordBuilder(capacity: 256)
            b.begin()
            // s5cmd's fields first, in its order and shapes (scripts written for it read
            // these); ours (size, etag, verified, status, dry_run, error_code) after them.
            b.string("operation", operation)
            b.bool("success", status != .failed)
            if error != nil { b.string("command", command) }
            b.optionalString("source", source)
            b.optionalString("destination", destination)
            if status != .failed, let destination {
                b.object("object") { o in
                    // s5cmd names the object by its URL only when both ends are in S3.
                    if let source, S3URL.isS3(source), S3URL.isS3(destination) { o.string("key", destination) }
                    o.string("type", "file")
                    if let size { o.int("size", size) }
                }
            }
            if let error {
                b.string("error", Secrets.redact(error.description))
                b.string("error_code", error.code.rawValue)
            }
            if let size { b.int("size", size) }
            b.optionalString("etag", etag)
            b.optionalString("verified", verified)
            b.string("status", status.rawValue)
            if dryRun { b.bool("dry_run", true) }
            b.end()
            write(b.bytes)
        } else if status == .ok && !quiet {
            // Dry runs print what would be done, in the same words (as s5cmd does).
            write(Array((command + "\n").utf8))
        }
    }

    /// A line of command output as is (ls, du, presign).
    public func line(_ text: String) { write(Array((text + "\n").utf8)) }

    /// A JSON record built by the caller.
    public func record(_ build: (inout RecordBuilder) -> Void) {
        var b = RecordBuilder(capacity: 256)
        b.begin()
        build(&b)
        b.end()
        write(b.bytes)
    }

    private func write(_ bytes: [UInt8]) {
        do { try stream.write(bytes) } catch {
            // The reader went away (`| head`): stop as programs killed by SIGPIPE do.
            _exit(141)
        }
    }

    /// Objects per operation and status, for the run's metrics.
    public var countsByOperation: [(operation: String, ok: Int, skipped: Int, failed: Int)] {
        lock.withLock { counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value.ok, $0.value.skipped, $0.value.failed) } }
    }

    public var failed: Int { lock.withLock { counts.values.reduce(0) { $0 + $1.failed } } }
    public var succeeded: Int { lock.withLock { counts.values.reduce(0) { $0 + $1.ok } } }

    /// 0, or 1 when something failed, or 3 when a failure means the service is unusable.
    public var exitStatus: ExitStatus { lock.withLock { worstFailure ?? .ok } }

    public func statistics() -> String {
        lock.withLock {
            var lines = ["operation  success  skipped  error"]
            for (op, c) in counts.sorted(by: { $0.key < $1.key }) {
                lines.append(op.padded(to: 10) + " " + String(c.ok).padded(to: 8) + " " + String(c.skipped).padded(to: 8) + " " + String(c.failed))
            }
            return lines.joined(separator: "\n")
        }
    }
}

