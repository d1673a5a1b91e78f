import ArcCore

/// The Parquet files arc-convert made: where each is, what it was made from (the
/// archive's SHA-256, or for a merged month the SHA-256 of its days' list), and the file's
/// own rows, size and SHA-256. A rerun skips an archive whose silver file was made from
/// the same bytes and is still there; a republished archive (new hash) replaces it.
final class SilverLedger: @unchecked Sendable { // the state is used under `lock` only
    private let db: any StateBackend
    /// The connection's lock, shared with the quality ledger (see QualityLedger.lock).
    private let lock: Lock

    init(_ db: any StateBackend, lock: Lock) {
        self.db = db
        self.lock = lock
    }

    struct Entry: Equatable {
        var dest: String
        var inputSHA256: String
        var rows: Int64
        var bytes: Int64
        var sha256: String
    }

    /// The daily archives arc-collect holds (its ledger, status ok) under a series' folder
    /// (`data/spot/daily/aggTrades/BTCUSDT/`) for one month: where each is and its SHA-256.
    func heldDays(folder: String, month: String) throws -> [(dest: String, key: String, sha256: String?)] {
        // The casts give PostgreSQL the parameters' type (length() and || take several).
        let rows = try lock.withLock {
            try db.rows("""
                SELECT dest, key, sha256 FROM ledger
                WHERE status = 'ok' AND substr(key, 1, length(CAST(?1 AS TEXT))) = CAST(?1 AS TEXT)
                  AND substr(date, 1, 8) = CAST(?2 AS TEXT) || '-'
                ORDER BY date
                """, [.text(folder), .text(month)])
        }
        return rows.compactMap { row in
            guard let dest = row[0], let key = row[1] else { return nil }
            return (dest, key, row[2])
        }
    }

    func entry(dest: String) throws -> Entry? {
        let row = try lock.withLock {
            try db.rows("SELECT input_sha256, rows, bytes, sha256 FROM silver WHERE dest = ?1", [.text(dest)]).first
        }
        guard let row else { return nil }
        return Entry(dest: dest, inputSHA256: row[0] ?? "", rows: row[1].flatMap { Int64($0) } ?? 0,
                     bytes: row[2].flatMap { Int64($0) } ?? 0, sha256: row[3] ?? "")
    }

    /// Records a silver file after it is durable at `entry.dest`.
    func record(_ entry: Entry, inputs: String, identity: ArchiveIdentity, checkStatus: CheckStatus?) throws {
        try lock.withLock {
            _ = try db.run("""
                INSERT INTO silver (dest, input_sha256, inputs, market, type, symbol, interval, date,
                                    rows, bytes, sha256, check_status, converted_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                ON CONFLICT (dest) DO UPDATE SET
                    input_sha256 = excluded.input_sha256, inputs = excluded.inputs, rows = excluded.rows,
                    bytes = excluded.bytes, sha256 = excluded.sha256, check_status = excluded.check_status,
                    converted_at = excluded.converted_at
                """, [.text(entry.dest), .text(entry.inputSHA256), .text(inputs), StateValue(identity.market),
                      StateValue(identity.type), StateValue(identity.symbol), StateValue(identity.interval),
                      StateValue(identity.date), .integer(entry.rows), .integer(entry.bytes), .text(entry.sha256),
                      StateValue(checkStatus?.rawValue), .text(WallClock.now())])
        }
    }
}
