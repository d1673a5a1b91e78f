import ArcCore

/// The Parquet files arc-convert made: where each is, what it was made from (the
/// archive's SHA-256, or for a merged month the SHA-256 of its days' list), and the file's
/// own rows, size and SHA-256. A rerun skips an archive whose silver file was made from
/// the same bytes and is still there; a republished archive (new hash) replaces it.
final class SilverLedger: @unchecked Sendable { // the database is used under `lock` only
    private let db: Database
    /// The connection's lock, shared with the quality ledger (see QualityLedger.lock).
    private let lock: Lock

    init(_ db: Database, lock: Lock) {
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
        try lock.withLock {
            let s = try db.statement("""
                SELECT dest, key, sha256 FROM ledger
                WHERE status = 'ok' AND substr(key, 1, length(?1)) = ?1 AND substr(date, 1, 8) = ?2 || '-'
                ORDER BY date
                """)
            defer { s.reset() }
            s.bind(1, folder).bind(2, month)
            var days: [(String, String, String?)] = []
            while try s.step() {
                if let dest = s.text(0), let key = s.text(1) { days.append((dest, key, s.text(2))) }
            }
            return days
        }
    }

    func entry(dest: String) throws -> Entry? {
        try lock.withLock {
            let s = try db.statement("SELECT input_sha256, rows, bytes, sha256 FROM silver WHERE dest = ?1")
            defer { s.reset() }
            s.bind(1, dest)
            guard try s.step() else { return nil }
            return Entry(dest: dest, inputSHA256: s.text(0) ?? "", rows: s.int(1), bytes: s.int(2), sha256: s.text(3) ?? "")
        }
    }

    /// Records a silver file after it is durable at `entry.dest`.
    func record(_ entry: Entry, inputs: String, identity: ArchiveIdentity, checkStatus: CheckStatus?) throws {
        try lock.withLock {
            let s = try db.statement("""
                INSERT INTO silver (dest, input_sha256, inputs, market, type, symbol, interval, date,
                                    rows, bytes, sha256, check_status, converted_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                ON CONFLICT (dest) DO UPDATE SET
                    input_sha256 = excluded.input_sha256, inputs = excluded.inputs, rows = excluded.rows,
                    bytes = excluded.bytes, sha256 = excluded.sha256, check_status = excluded.check_status,
                    converted_at = excluded.converted_at
                """)
            defer { s.reset() }
            s.bind(1, entry.dest).bind(2, entry.inputSHA256).bind(3, inputs).bind(4, identity.market)
                .bind(5, identity.type).bind(6, identity.symbol).bind(7, identity.interval).bind(8, identity.date)
                .bind(9, entry.rows).bind(10, entry.bytes).bind(11, entry.sha256)
                .bind(12, checkStatus?.rawValue).bind(13, WallClock.now())
            try s.run()
        }
    }
}
