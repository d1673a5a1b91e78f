import ArcCore

/// `--merge month`: one Parquet file per series and month, made from its daily archives:
/// those in the input and those the collect ledger holds for the same month, so the daily
/// pipeline's one new day remakes its month whole. Each day is checked (or its check taken
/// from the quality ledger); the days the gate lets through are merged in date order, each
/// sorted by time, exact duplicate rows dropped. The month is remade only when the set of
/// days or one day's bytes changed (the SHA-256 of their list is its input hash).
struct MonthJob {
    struct Key: Hashable {
        var source, market, type, symbol: String
        var interval: String?
        var month: String
    }

    /// One day of the month: an input archive (its record is written), or one the ledger
    /// holds (only read).
    struct Day {
        var item: ArchiveItem
        var identity: ArchiveIdentity
        var fromInput: Bool
    }

    let key: Key
    let days: [Day]
    let dataset: Dataset
    let runner: SilverRunner

    private var options: SilverOptions { runner.options }

    /// What each day's check said, and the output it will get.
    private struct DayState {
        var day: Day
        var sha256: String?
        var checkJSON: String?
        var status: CheckStatus?
        var unsorted = false
        var error: (code: FailureCode, message: String)?
    }

    /// The records of the input's days.
    func run() -> [[UInt8]] {
        var states = days.sorted { $0.identity.date < $1.identity.date }.map { DayState(day: $0) }
        for i in states.indices where !runner.stopping { check(&states[i]) }
        let included = states.filter { $0.error == nil && $0.status.map(options.gate.allows) == true }
        let name = "\(key.symbol)-\(key.interval ?? key.type)-\(key.month).parquet"
        var silver: ArchiveJob.SilverFields?
        var failure: (code: FailureCode, message: String)?
        if !included.isEmpty && !runner.stopping {
            do {
                let target = options.target!
                let dest = try target.dest(for: included[0].day.identity, file: name, date: key.month)
                silver = try reuse(dest, included) ?? write(dest, included)
            } catch {
                failure = ((error as? ArcError)?.code ?? .ioError, "\(error)")
                runner.log.error("\(key.symbol) \(key.interval ?? key.type) \(key.month): \(error)")
                runner.count { $0.errors += 1 }
            }
        }
        return states.filter(\.day.fromInput).map { state in
            let job = ArchiveJob(item: state.day.item, runner: runner)
            let check = state.checkJSON.map { ArchiveJob.CheckField.json($0) }
            if let error = state.error {
                return job.record(identity: state.day.identity, check: check, error: (error.code.rawValue, error.message))
            }
            let kept = included.contains { $0.day.identity.key == state.day.identity.key }
            if kept, let silver {
                var fields = silver
                fields.gate = state.status == .pass ? nil : options.gate.rawValue
                return job.record(identity: state.day.identity, sha256: state.sha256, check: check, silver: fields)
            }
            if kept, let failure {
                return job.record(identity: state.day.identity, sha256: state.sha256, check: check,
                                  silverError: (failure.code.rawValue, failure.message))
            }
            let why = state.status == .fail ? "check_failed" : "check_warned"
            return job.record(identity: state.day.identity, sha256: state.sha256, check: check,
                              silverError: (why, "the check \(state.status == .fail ? "failed" : "warned") and --gate \(options.gate.rawValue) leaves this day out of \(name)"))
        }
    }

    /// The day's check: from the quality ledger when its bytes were checked before, else
    /// one pass that only checks.
    private func check(_ state: inout DayState) {
        let job = ArchiveJob(item: state.day.item, runner: runner)
        do {
            state.sha256 = try job.knownSHA256()
            if !options.force, let sha = state.sha256, let json = try runner.quality?.report(sha256: sha) {
                state.checkJSON = json
                state.status = ArchiveJob.status(ofJSON: json)
                state.unsorted = json.contains("\"code\":\"out_of_order\"")
                if state.day.fromInput { runner.count { $0.cached += 1; ArchiveJob.countStatus(state.status!, in: &$0) } }
                return
            }
            let result = try ArchivePass.run(source: try open(state.day.item), name: state.day.item.dest,
                                             identity: state.day.identity, dataset: dataset,
                                             expectedSHA256: state.day.item.sha256, rows: nil, batchRows: options.batchRows,
                                             chunksAhead: options.chunksAhead, stop: runner.stop)
            let json = ArchiveJob.checkJSON(result.report)
            try runner.quality?.record(sha256: result.archiveSHA256, identity: state.day.identity, report: result.report, json: json)
            state.sha256 = result.archiveSHA256
            state.checkJSON = json
            state.status = result.report.status
            state.unsorted = result.report.finding(.outOfOrder) != nil
            if state.day.fromInput {
                runner.count { ArchiveJob.countStatus(result.report.status, in: &$0); $0.rows += Int64(result.report.rows) }
            }
        } catch {
            state.error = ((error as? ArcError)?.code ?? .ioError, "\(error)")
            runner.log.error("\(state.day.item.dest): \(error)")
            if state.day.fromInput { runner.count { $0.errors += 1 } }
        }
    }

    private func open(_ item: ArchiveItem) throws -> ByteSource { try item.open(s3: runner.s3Client).source }

    private static func inputs(_ included: [DayState]) -> [(key: String, sha256: String)] {
        included.map { ($0.day.identity.key, $0.sha256 ?? "") }
    }

    private static func inputHash(_ included: [DayState]) -> String {
        SHA256.hex(Array(inputs(included).map { "\($0.key) \($0.sha256)\n" }.joined().utf8))
    }

    private func reuse(_ dest: String, _ included: [DayState]) throws -> ArchiveJob.SilverFields? {
        guard !options.force, let entry = try runner.silver?.entry(dest: dest), entry.inputSHA256 == Self.inputHash(included),
              S3URL.isS3(dest) || FileSystem.size(dest) == entry.bytes else { return nil }
        runner.count { $0.reused += 1 }
        return ArchiveJob.SilverFields(dest: dest, rows: entry.rows, bytes: entry.bytes, sha256: entry.sha256,
                                       reused: true, gate: nil, days: included.count)
    }

    private func write(_ dest: String, _ included: [DayState]) throws -> ArchiveJob.SilverFields {
        let hashing = HashingSink(try SilverTarget.sink(for: dest, s3: runner.s3Client))
        do {
            let writer = try ParquetWriter(schema: dataset.schema, sink: hashing, options: options.parquet)
            let merger = MonthMerger(schema: dataset.schema, timeColumn: dataset.timeColumn, writer: writer)
            for state in included {
                if runner.stopping { throw InterruptedError() }
                let unsorted = state.unsorted
                _ = try ArchivePass.run(source: try open(state.day.item), name: state.day.item.dest,
                                        identity: state.day.identity, dataset: dataset, expectedSHA256: state.sha256,
                                        rows: { batch in unsorted ? merger.hold(batch) : try merger.add(batch) },
                                        batchRows: options.batchRows, chunksAhead: options.chunksAhead, stop: runner.stop)
                if unsorted { try merger.endSortedDay() }
            }
            try merger.finish()
            let worst = included.compactMap(\.status).max() ?? .pass
            let summary = try writer.finish(metadata: [
                ("arc.source_key", included.map(\.day.identity.key).joined(separator: ",")),
                ("arc.input_sha256", Self.inputHash(included)),
                ("arc.check_status", worst.rawValue),
                ("arc.duplicates_dropped", String(merger.duplicatesDropped)),
                ("arc.version", Tool.version),
            ])
            try hashing.commit()
            let fields = ArchiveJob.SilverFields(dest: dest, rows: summary.rows, bytes: hashing.bytes, sha256: hashing.sha256 ?? "",
                                                 reused: false, gate: nil, days: included.count)
            try runner.silver?.record(SilverLedger.Entry(dest: dest, inputSHA256: Self.inputHash(included), rows: summary.rows,
                                                         bytes: fields.bytes, sha256: fields.sha256),
                                      inputs: ArchiveJob.inputsJSON(Self.inputs(included)),
                                      identity: included[0].day.identity, checkStatus: worst)
            runner.count { $0.written += 1; $0.silverBytes += fields.bytes }
            return fields
        } catch {
            hashing.abort()
            throw error
        }
    }
}
