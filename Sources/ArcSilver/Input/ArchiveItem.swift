import ArcCore

/// One archive to read: from a result record (arc-collect's, or arc-check's), or an
/// archive's path (a zip, or Bybit's csv.gz) given as an argument.
struct ArchiveItem: @unchecked Sendable { // handed from the input thread to one worker
    enum Location {
        case file(String)
        case s3(S3URL)
    }

    /// The input record whose fields the output keeps; nil for an argument.
    var record: Record?
    /// Where the input came from, for messages: "FILE:LINE" or the argument.
    var origin: String
    var location: Location
    /// The archive's path or URL as given (the record's dest, or the argument).
    var dest: String
    /// The key (or dest) whose end names the archive: data/<market>/<period>/<type>/...
    /// (Binance, KuCoin), trading/<SYMBOL>/... or spot/<SYMBOL>/... (Bybit)
    var identityText: String
    /// The SHA-256 arc-collect verified, when the record carries one.
    var sha256: String?
    /// Whose archive it is: the record's `source`, else --source; nil to tell by the key
    /// (Binance's layout, or Bybit's shapes).
    var source: String?

    /// An argument: a local path or an s3:// URL.
    init(argument: String, source: String? = nil) throws {
        self.source = source
        record = nil
        origin = argument
        dest = argument
        identityText = argument
        sha256 = nil
        location = S3URL.isS3(argument) ? .s3(try S3URL(parsing: argument)) : .file(FileSystem.absolute(argument))
    }

    /// A daily archive the collect ledger holds (for a month being merged).
    init(held dest: String, key: String, sha256: String?, source: String?) throws {
        self.source = source
        record = nil
        origin = "ledger"
        self.dest = dest
        identityText = key
        self.sha256 = sha256
        location = S3URL.isS3(dest) ? .s3(try S3URL(parsing: dest)) : .file(dest)
    }

    /// A record, or nil when it is not an archive held (a failed or dry-run result): those
    /// are passed on unchanged.
    init?(record: Record, origin: String, source defaultSource: String? = nil) throws {
        if let status = try record.string("status"), status != "ok" && status != "skipped" { return nil }
        if try record.bool("dry_run") == true { return nil }
        guard let dest = try record.string("dest"), !dest.isEmpty else {
            throw FieldError(field: "dest", expected: "the archive's path or s3:// URL", kind: record.field("dest")?.kind)
        }
        self.record = record
        self.origin = origin
        source = try record.string("source").flatMap { $0.isEmpty ? nil : $0 } ?? defaultSource
        self.dest = dest
        identityText = try record.string("key").flatMap { $0.isEmpty ? nil : $0 } ?? dest
        sha256 = try record.string("sha256").flatMap { Hex.isHex(Substring($0), count: 64) ? $0.lowercased() : nil }
        location = S3URL.isS3(dest) ? .s3(try S3URL(parsing: dest)) : .file(FileSystem.absolute(dest))
    }
}

extension ArchiveItem {
    /// The archive's bytes, and its size when known beforehand (a local file's, or the
    /// record's `size`): small archives are read without a read-ahead thread.
    func open(s3: () throws -> S3Client) throws -> (source: ByteSource, size: Int64?) {
        switch location {
        case .file(let path): return (try FileByteSource(path: path), FileSystem.size(path))
        case .s3(let url): return (S3ObjectSource(client: try s3(), url: url), try record?.int("size"))
        }
    }
}
