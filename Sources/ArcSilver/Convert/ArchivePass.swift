import ArcCore

/// What to do with an archive's rows besides checking them.
enum GatePolicy: String, Sendable, CaseIterable {
    /// Silver only for archives whose check did not fail (the default).
    case fail
    /// Silver only for archives whose check passed: warnings block it too.
    case warn
    /// Silver whatever the check found (the record says what it found).
    case none

    func allows(_ status: CheckStatus) -> Bool {
        switch self {
        case .none: return true
        case .fail: return status != .fail
        case .warn: return status == .pass
        }
    }
}

/// A silver file being written for one archive.
struct SilverOutput {
    let dest: String
    let sink: HashingSink
    let writer: ParquetWriter
}

/// How one archive's single pass ended.
struct PassResult {
    var report: CheckReport
    /// The SHA-256 of the archive's bytes as read.
    var archiveSHA256: String
}

/// One pass over one archive: read (a file or an S3 stream), hash, inflate (on a thread of
/// its own, ahead of the parser), parse and check, and hand each batch of rows to the
/// Parquet writer when there is one. A problem with the archive's contents is a finding in
/// the report; only a source that cannot be read (a dead server, an unreadable file) or a
/// stop throws.
enum ArchivePass {
    /// Inflated bytes handed from the inflating thread to the parser at a time, and how
    /// many such chunks may wait by default: 4 MiB of a process's 64 MB budget.
    static let chunkSize = 1 << 20
    static let chunksAhead = 4
    /// Archives below this size (when it is known) are read without a read-ahead thread.
    static let smallArchive = 2 << 20

    /// `rows` takes each batch of parsed rows (a Parquet writer, a month being merged);
    /// nil to check only. The batch is reused once it returns.
    static func run(source: ByteSource, name: String, identity: ArchiveIdentity, dataset: Dataset,
                    expectedSHA256: String?, rows: ((ColumnBatch) throws -> Void)?, batchRows: Int = 65_536,
                    chunksAhead: Int = chunksAhead, size: Int64? = nil, hashed: String? = nil,
                    stop: StopSignal) throws -> PassResult {
        // An archive of a few hundred KB (a day of klines) is done before a read-ahead
        // thread and its megabyte buffers would pay for themselves: it is read in place,
        // with buffers its size (deflate rarely shrinks these CSVs more than 8 times).
        let small = size.map { $0 < Int64(smallArchive) } ?? false
        let chunk = small ? max(64 << 10, min(chunkSize, Int(size!) * 8)) : chunkSize
        // A local file hashed just before (to look it up in the ledgers) is not hashed again.
        let hashing = hashed == nil ? HashingSource(source) : nil
        let bufferSize = small ? max(16 << 10, Int(size!)) : 1 << 20
        // The CSV comes out of a zip (Binance, KuCoin) or a gzip (Bybit's csv.gz).
        var zip: ZipEntryReader?, gzip: GzipReader?
        switch identity.container {
        case .zip: zip = ZipEntryReader(source: hashing ?? source, name: name, bufferSize: bufferSize)
        case .gzip: gzip = GzipReader(source: hashing ?? source, name: name, bufferSize: bufferSize)
        }
        let container: ByteSource = zip ?? gzip!
        let parser = TableParser(dataset: dataset, identity: identity, batchRows: batchRows)
        var broken: Finding?, empty: Finding?
        do {
            let ahead: ByteSource = small ? container : PrefetchingSource(container, chunkSize: chunk, depth: chunksAhead)
            var buffer = [UInt8](repeating: 0, count: chunk)
            while true {
                if stop.requested { throw InterruptedError() }
                let n = try buffer.withUnsafeMutableBytes { try ahead.read(into: $0) }
                if n == 0 { break }
                try buffer.withUnsafeBytes { bytes in
                    try parser.consume(UnsafeRawBufferPointer(rebasing: bytes[0..<n])) { batch in
                        try rows?(batch)
                        parser.recycle(batch)
                    }
                }
            }
            if let zip, zip.entries.count > 1 {
                parser.addFinding(Finding(code: .severalEntries, severity: .fail,
                                          message: "the zip holds \(zip.entries.count) entries (\(zip.entries.prefix(3).joined(separator: ", "))); one CSV was expected"))
            } else if let zip, zip.inflatedBytes == 0 {
                empty = Finding(code: .emptyEntry, severity: .fail, message: "the zip's entry \(zip.entryName ?? "") is empty")
            } else if let gzip, gzip.inflatedBytes == 0 {
                // Bybit publishes some days as gzips of nothing (44 bytes): no data, not
                // an empty day of good data.
                empty = Finding(code: .emptyArchive, severity: .fail,
                                message: "the gzip holds no bytes at all (an empty file\(gzip.entryName.map { " named \(quoted($0))" } ?? "")), not even a header")
            }
        } catch let error as ArcError where error is ZipError || error is GzipError {
            broken = Finding(code: error.code, severity: .fail, message: error.description)
            // The rest is read only to hash the archive (the quality ledger is keyed by it).
            if let hashing { try drain(hashing) }
        }
        var report = try parser.finish { batch in
            try rows?(batch)
            parser.recycle(batch)
        }
        if let empty {
            // "No data rows" says the same as the empty entry, less precisely.
            report.findings = [empty]
        }
        if let broken {
            // What the rows seemed to say after the stream broke (a cut last line, a day
            // "cut short") is the break itself: the one finding is the container's.
            report.findings = [broken]
        }
        let sha256 = hashed ?? hashing!.finalizeHex()
        var result = PassResult(report: report, archiveSHA256: sha256)
        if let expectedSHA256, expectedSHA256 != sha256 {
            result.report.findings.append(Finding(code: .sha256Mismatch, severity: .fail,
                                      message: "the archive's SHA-256 is \(sha256), not the \(expectedSHA256) its record says was verified: it changed after it was collected"))
        }
        return result
    }

    private static func drain(_ source: ByteSource) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while try buffer.withUnsafeMutableBytes({ try source.read(into: $0) }) > 0 {}
    }
}

/// SIGINT or SIGTERM arrived while an archive was being read.
struct InterruptedError: ArcError {
    var code: FailureCode { .interrupted }
    var exitStatus: ExitStatus { .interrupted }
    var description: String { "interrupted" }
}
