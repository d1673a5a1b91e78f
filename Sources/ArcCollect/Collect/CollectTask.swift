import ArcCore

/// A task record as arc-collect reads it: the archive's fields plus task_id and dest.
/// The record itself is kept whole so every field passes through to the result.
public struct CollectTask {
    public let record: Record
    public let line: Int
    public let url: String
    public let dest: String
    /// How the archive is verified (see `resolveChecksum`).
    public let checksum: ArchiveChecksum
    /// The sidecar file holding the hash (a sha256 or md5 checksum with a url), fetched
    /// beside the archive.
    public let checksumURL: String?
    public let size: Int64?
    public let etag: String?
    public let reason: String?
    /// The destination when it is an S3 object rather than a file.
    public let s3Dest: S3URL?
    /// The queue's hold on this task, when a queue worker claimed it (arc-collect --queue).
    public var claim: WorkQueue.Claim?

    /// Reads the fields arc-collect acts on; throws `FieldError` for a bad or missing one.
    public init(_ record: Record, line: Int) throws {
        self.record = record
        self.line = line
        url = try record.requiredString("url")
        guard url.isHTTPURL else {
            throw FieldError(field: "url", expected: "an http:// or https:// URL", kind: .string)
        }
        let destText = try record.requiredString("dest")
        guard !destText.hasSuffix("/"), !destText.utf8.contains(0) else {
            throw FieldError(field: "dest", expected: "a file path or s3://bucket/key", kind: .string)
        }
        if S3URL.isS3(destText) {
            guard let url = try? S3URL(parsing: destText), !url.key.isEmpty, !url.hasWildcard else {
                throw FieldError(field: "dest", expected: "s3://bucket/key without wildcards", kind: .string)
            }
            dest = destText
            s3Dest = url
        } else if destText.contains("://") {
            throw FieldError(field: "dest", expected: "a local path or s3://bucket/key", kind: .string)
        } else {
            dest = FileSystem.absolute(destText)
            s3Dest = nil
        }
        size = try record.int("size")
        if let size, size < 0 { throw FieldError(field: "size", problem: "negative size \(size)") }
        checksum = try Self.resolveChecksum(record, size: size)
        // A hash given inline needs no sidecar.
        checksumURL = checksum.value == nil ? checksum.url : nil
        etag = try record.string("etag")
        reason = try record.string("reason")
    }

    /// The record's `checksum`; without one, a SHA-256 sidecar at `checksum_url`, else the
    /// listed size, else nothing. When a record has both, `checksum_url` says where a
    /// sha256 sidecar is (null: there is none): it is the field tools and users wrote before
    /// `checksum` (a jq edit pointing it at a mirror), and it must keep meaning what it did.
    static func resolveChecksum(_ record: Record, size: Int64?) throws -> ArchiveChecksum {
        let checksumURL = try record.string("checksum_url")
        let fallback = checksumURL.map(ArchiveChecksum.sha256(url:)) ?? ArchiveChecksum(kind: size == nil ? .none : .size)
        guard var checksum = try ArchiveChecksum.read(from: record) else { return fallback }
        if checksum.kind == .sha256, checksum.url != nil, record.has("checksum_url") {
            guard let checksumURL else { return fallback }
            checksum.url = checksumURL
        }
        return checksum
    }

    /// What the ledger keeps about this archive.
    public var ledgerItem: Ledger.Item {
        var item = Ledger.Item(dest: dest, url: url)
        item.key = try? record.string("key")
        item.taskID = try? record.string("task_id")
        item.source = try? record.string("source")
        item.market = try? record.string("market")
        item.period = try? record.string("period")
        item.type = try? record.string("type")
        item.symbol = try? record.string("symbol")
        item.interval = try? record.string("interval")
        item.date = try? record.string("date")
        item.size = size
        item.etag = etag
        item.lastModified = try? record.string("last_modified")
        return item
    }

    /// The temporary name the download is written to, beside its final name. It carries
    /// the ETag, so a partial file of an older version is never resumed into a newer one.
    public var partialPath: String {
        let tag = etag.map { String($0.filter { $0.isLetter || $0.isNumber }.prefix(12)) } ?? size.map { "s\($0)" } ?? "x"
        var name = "." + FileSystem.baseName(of: dest) + "." + (tag.isEmpty ? "x" : tag) + ".part"
        // A name near the 255-byte limit has no room for the tag: stand in a hash of it.
        if name.utf8.count > 255 { name = "." + SHA256.hex(Array(name.utf8)).prefix(32) + ".part" }
        return FileSystem.parent(of: dest) + "/" + name
    }
}

/// The outcome of one task, written as a result record and into the ledger.
public struct CollectOutcome {
    public enum Status: String {
        case ok, skipped, failed
    }

    public var status: Status
    public var bytes: Int64 = 0
    public var sha256: String?
    public var verified = false
    public var attempts = 0
    public var durationMillis: Int64 = 0
    public var error: (code: FailureCode, message: String)?
    /// Dry runs and interrupted tasks leave the ledger alone.
    public var recordInLedger = true

    public static func failed(_ code: FailureCode, _ message: String) -> CollectOutcome {
        var o = CollectOutcome(status: .failed)
        o.error = (code, message)
        return o
    }

    /// This outcome turned into a failure after the fact (the group commit could not
    /// store the file): the attempts and the time spent stay.
    func failing(_ code: FailureCode, _ message: String) -> CollectOutcome {
        var o = CollectOutcome.failed(code, message)
        o.attempts = attempts
        o.durationMillis = durationMillis
        return o
    }

    /// The result record: the task's fields, then the outcome's (and, from a queue worker,
    /// `queue {name, id, attempt, settled}`).
    func encode(_ task: CollectTask, into b: inout RecordBuilder, dryRun: Bool,
                queue: (name: String, settled: WorkQueue.Settlement)? = nil) {
        b.begin()
        b.copyFields(of: task.record, except: CollectOutcome.fields)
        b.string("status", status.rawValue)
        b.int("bytes", bytes)
        b.stringOrNull("sha256", sha256)
        b.bool("verified", verified)
        b.string("verification", task.checksum.kind.rawValue)
        b.int("attempts", attempts)
        b.int("duration_ms", durationMillis)
        if let error {
            b.object("error") { e in
                e.string("code", error.code.rawValue)
                e.string("message", Secrets.redact(error.message))
            }
        }
        if dryRun { b.bool("dry_run", true) }
        if let queue, let claim = task.claim { claim.encode(into: &b, queue: queue.name, settled: queue.settled) }
        b.end()
    }

    static let fields: RecordBuilder.FieldNames = ["status", "bytes", "sha256", "verified", "verification", "attempts", "duration_ms",
                                                   "error", "dry_run", "queue"]
}

extension FailureCode {
    /// The task has no CHECKSUM where it should (404), or none at all with --require-checksum.
    public static let checksumMissing = FailureCode("checksum_missing")
    /// The CHECKSUM file is not `HASH  NAME`.
    public static let badChecksumFile = FailureCode("bad_checksum_file")
    /// A verified `.gz` archive holds nothing (Bybit publishes some empty 44-byte gzips):
    /// reported, never stored as good data.
    public static let emptyArchive = FailureCode("empty_archive")
    /// A state arc-collect should never reach; a bug to report.
    public static let internalError = FailureCode("internal")
}
