import ArcCore

/// One archive through arc-check or arc-convert: find what it is, skip it if the ledgers
/// say it was done from the same bytes, else one pass (with a Parquet file written for
/// arc-convert), the ledgers, and the output record.
struct ArchiveJob {
    let item: ArchiveItem
    let runner: SilverRunner

    private var options: SilverOptions { runner.options }
    private var log: Logger { runner.log }

    /// The output record's line.
    func run() -> [UInt8] { outcome().line }

    /// The output record's line, and why the archive could not be read when it could not
    /// (a queue worker decides from it whether another try may help).
    struct Outcome {
        var line: [UInt8]
        var error: FailureCode?
        /// The archive's store could not be reached (a dead host, no such bucket).
        var unreachable = false
    }

    func outcome() -> Outcome {
        let identity: ArchiveIdentity, dataset: Dataset
        do {
            identity = try ArchiveIdentity(path: item.identityText, source: item.source)
            dataset = try Dataset.of(identity)
        } catch {
            // Not an archive of a known layout: nothing can be checked.
            let code = (error as? ArcError)?.code ?? .unknownLayout
            log.error("\(item.origin): \(error)", ["dest": .string(item.dest)])
            runner.count { $0.failed += 1 }
            return Outcome(line: record(identity: nil, check: .json(Self.checkJSON(CheckReport.unreadable("\(error)", code: code)))))
        }
        do {
            // The hash a lookup needs; for a local file without a record's hash, read once
            // here and then trusted by the pass (the file is not hashed twice).
            let known = options.force ? nil : try knownSHA256()
            if let known, let done = try alreadyDone(identity, sha: known) { return Outcome(line: done) }
            return Outcome(line: try pass(identity, dataset, fileSHA256: item.sha256 == nil ? known : nil))
        } catch {
            let arc = error as? ArcError
            let code = arc?.code ?? .ioError
            let unreachable = arc?.exitStatus == .unavailable || code == .connectionFailed
            if code == .interrupted {
                runner.count { $0.errors += 1 }
            } else {
                log.error("\(item.dest): \(error)", ["dest": .string(item.dest), "code": .string(code.rawValue)])
                runner.count {
                    $0.errors += 1
                    if unreachable { $0.unreachable += 1 }
                }
            }
            return Outcome(line: record(identity: identity, error: (code.rawValue, "\(error)")), error: code, unreachable: unreachable)
        }
    }

    // MARK: - Skipping what is done

    /// The archive's SHA-256 before reading it: the record's (arc-collect verified it), or
    /// a local file's own (hashing is ~30 times faster than checking).
    func knownSHA256() throws -> String? {
        if let sha = item.sha256 { return sha }
        if case .file(let path) = item.location { return try SHA256.hexOfFile(path) }
        return nil
    }

    private func alreadyDone(_ identity: ArchiveIdentity, sha: String) throws -> [UInt8]? {
        switch options.mode {
        case .check:
            guard let json = try runner.quality?.report(sha256: sha) else { return nil }
            runner.count {
                $0.cached += 1
                Self.countStatus(Self.status(ofJSON: json), in: &$0)
            }
            return record(identity: identity, sha256: sha, check: .json(json))
        case .convert:
            guard let target = options.target, let ledger = runner.silver,
                  let entry = try ledger.entry(dest: try target.dest(for: identity, file: SilverTarget.fileName(identity))),
                  entry.inputSHA256 == sha, Self.stillThere(entry) else { return nil }
            let json = try runner.quality?.report(sha256: sha)
            runner.count {
                $0.reused += 1
                $0.rows += entry.rows
                if let json { Self.countStatus(Self.status(ofJSON: json), in: &$0) }
            }
            return record(identity: identity, sha256: sha, check: json.map { .json($0) },
                          silver: SilverFields(dest: entry.dest, rows: entry.rows, bytes: entry.bytes, sha256: entry.sha256,
                                               reused: true, gate: nil))
        }
    }

    /// A local silver file the ledger lists must still be there, at its size; an S3 one is
    /// trusted (a HEAD per archive would cost more than it saves).
    private static func stillThere(_ entry: SilverLedger.Entry) -> Bool {
        if S3URL.isS3(entry.dest) { return true }
        return FileSystem.size(entry.dest) == entry.bytes
    }

    // MARK: - The pass

    private func pass(_ identity: ArchiveIdentity, _ dataset: Dataset, fileSHA256: String?) throws -> [UInt8] {
        let (source, size) = try item.open(s3: runner.s3Client)
        var output: SilverOutput?
        if options.mode == .convert, let target = options.target {
            let dest = try target.dest(for: identity, file: SilverTarget.fileName(identity))
            let hashing = HashingSink(try SilverTarget.sink(for: dest, s3: runner.s3Client))
            output = SilverOutput(dest: dest, sink: hashing,
                                  writer: try ParquetWriter(schema: dataset.schema, sink: hashing, options: options.parquet))
        }
        let result: PassResult
        do {
            result = try ArchivePass.run(source: source, name: item.dest, identity: identity, dataset: dataset,
                                         expectedSHA256: item.sha256, rows: output.map { o in { try o.writer.write($0) } },
                                         batchRows: options.batchRows, chunksAhead: options.chunksAhead, size: size,
                                         hashed: fileSHA256, stop: runner.stop)
        } catch {
            output?.sink.abort()
            throw error
        }
        let report = result.report
        let json = Self.checkJSON(report)
        try runner.quality?.record(sha256: result.archiveSHA256, identity: identity, report: report, json: json)
        runner.count {
            Self.countStatus(report.status, in: &$0)
            $0.rows += Int64(report.rows)
        }
        logFindings(report)
        guard let output else {
            return record(identity: identity, sha256: result.archiveSHA256, check: .json(json))
        }
        guard options.gate.allows(report.status) else {
            output.sink.abort()
            runner.count { $0.gated += 1 }
            let why = report.status == .fail ? "check_failed" : "check_warned"
            return record(identity: identity, sha256: result.archiveSHA256, check: .json(json),
                          silverError: (why, "the check \(report.status == .fail ? "failed" : "warned") and --gate \(options.gate.rawValue) writes no silver for it"))
        }
        let summary: ParquetSummary
        do {
            summary = try output.writer.finish(metadata: [
                ("arc.source_key", identity.key),
                ("arc.archive_sha256", result.archiveSHA256),
                ("arc.check_status", report.status.rawValue),
                ("arc.version", Tool.version),
            ])
            try output.sink.commit()
        } catch {
            output.sink.abort()
            throw error
        }
        let fields = SilverFields(dest: output.dest, rows: summary.rows, bytes: output.sink.bytes,
                                  sha256: output.sink.sha256 ?? "", reused: false,
                                  gate: report.status == .pass ? nil : options.gate.rawValue)
        try runner.silver?.record(SilverLedger.Entry(dest: output.dest, inputSHA256: result.archiveSHA256, rows: summary.rows,
                                                     bytes: fields.bytes, sha256: fields.sha256),
                                  inputs: Self.inputsJSON([(identity.key, result.archiveSHA256)]),
                                  identity: identity, checkStatus: report.status)
        runner.count {
            $0.written += 1
            $0.silverBytes += fields.bytes
        }
        return record(identity: identity, sha256: result.archiveSHA256, check: .json(json), silver: fields)
    }

    private func logFindings(_ report: CheckReport) {
        guard report.status != .pass else { return }
        let codes = report.findings.map(\.code.rawValue).joined(separator: ", ")
        let fields: [(String, LogValue)] = [("dest", .string(item.dest)), ("status", .string(report.status.rawValue)),
                                            ("findings", .string(codes))]
        log.log(report.status == .fail ? .error : .info, "\(item.dest): check \(report.status == .fail ? "failed" : "warned"): \(codes)",
                fields: fields)
    }

    // MARK: - The output record

    enum CheckField {
        case json(String)
    }

    struct SilverFields {
        var dest: String
        var rows: Int64
        var bytes: Int64
        var sha256: String
        var reused: Bool
        var gate: String?
        /// For a merged month: the days it was made from.
        var days: Int? = nil
    }

    /// The input record's fields (or, for an argument, the archive's own), then check,
    /// silver or the reason there is none, or the error that kept the archive from being read.
    func record(identity: ArchiveIdentity?, sha256: String? = nil, check: CheckField? = nil,
                        silver: SilverFields? = nil, silverError: (String, String)? = nil,
                        error: (String, String)? = nil) -> [UInt8] {
        var b = RecordBuilder()
        b.begin()
        if let input = item.record {
            b.copyFields(of: input, except: ["check", "silver", "silver_error", "error"])
            if !input.has("sha256"), let sha256 { b.string("sha256", sha256) }
        } else {
            b.string("dest", item.dest)
            if let identity {
                b.string("source", identity.source)
                b.string("market", identity.market)
                b.string("period", identity.period)
                b.string("type", identity.type)
                b.string("symbol", identity.symbol)
                b.optionalString("interval", identity.interval)
                b.string("date", identity.date)
                b.string("key", identity.key)
            }
            if let sha256 { b.string("sha256", sha256) }
        }
        if case .json(let json) = check { b.raw("check", Array(json.utf8)) }
        if let silver {
            b.object("silver") { s in
                s.string("dest", silver.dest)
                s.int("rows", silver.rows)
                s.int("bytes", silver.bytes)
                s.string("sha256", silver.sha256)
                if silver.reused { s.bool("reused", true) }
                if let gate = silver.gate { s.string("gate", gate) }
                if let days = silver.days { s.int("days", days) }
            }
        }
        if let (code, message) = silverError {
            b.object("silver_error") { e in
                e.string("code", code)
                e.string("message", message)
            }
        }
        if let (code, message) = error {
            b.object("error") { e in
                e.string("code", code)
                e.string("message", message)
            }
        }
        b.end()
        return b.bytes
    }

    /// The check object alone, as JSON text (what the ledger keeps).
    static func checkJSON(_ report: CheckReport) -> String {
        var b = RecordBuilder()
        b.begin()
        report.write(into: &b)
        b.end()
        // {"check":{...}}\n -> {...}
        let bytes = b.bytes
        let prefix = Array("{\"check\":".utf8).count
        return String(decoding: bytes[prefix..<(bytes.count - 2)], as: UTF8.self)
    }

    /// The silver ledger's `inputs`: [{key, sha256}] of what a silver file was made from.
    static func inputsJSON(_ inputs: [(key: String, sha256: String)]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (n, input) in inputs.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"key\":".utf8)
            JSONText.appendQuoted(input.key, to: &out)
            out += Array(",\"sha256\":\"\(input.sha256)\"}".utf8)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    static func status(ofJSON json: String) -> CheckStatus {
        if json.hasPrefix("{\"status\":\"fail\"") { return .fail }
        if json.hasPrefix("{\"status\":\"warn\"") { return .warn }
        return (try? Record(parsing: json).string("status")).flatMap { $0.flatMap(CheckStatus.init(rawValue:)) } ?? .fail
    }

    static func countStatus(_ status: CheckStatus, in summary: inout SilverSummary) {
        switch status {
        case .pass: summary.passed += 1
        case .warn: summary.warned += 1
        case .fail: summary.failed += 1
        }
    }
}
