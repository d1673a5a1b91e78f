import ArcCore

/// What arc-check (and arc-convert, which checks in the same pass) found inside each
/// archive, keyed by the archive's SHA-256: an unchanged archive is not read again, a
/// republished one (new bytes, new hash) is. The whole `check` object is kept as JSON, so
/// a cached answer is exactly the answer first given.
final class QualityLedger: @unchecked Sendable { // the database is used under `lock` only
    private let db: Database
    /// The connection's lock, shared with every other user of `db` (the silver ledger):
    /// one SQLite connection must never be used by two threads at once.
    private let lock: Lock

    init(_ db: Database, lock: Lock) {
        self.db = db
        self.lock = lock
    }

    /// The `check` object recorded for this archive, as JSON text.
    func report(sha256: String) throws -> String? {
        try lock.withLock {
            let s = try db.statement("SELECT report FROM quality WHERE archive_sha256 = ?1")
            defer { s.reset() }
            s.bind(1, sha256)
            return try s.step() ? s.text(0) : nil
        }
    }

    func record(sha256: String, identity: ArchiveIdentity, report: CheckReport, json: String) throws {
        try lock.withLock {
            let s = try db.statement("""
                INSERT INTO quality (archive_sha256, key, market, period, type, symbol, interval, date,
                                     status, rows, first_time, last_time, report, checked_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                ON CONFLICT (archive_sha256) DO UPDATE SET
                    key = excluded.key, status = excluded.status, rows = excluded.rows,
                    first_time = excluded.first_time, last_time = excluded.last_time,
                    report = excluded.report, checked_at = excluded.checked_at
                """)
            defer { s.reset() }
            s.bind(1, sha256).bind(2, identity.key).bind(3, identity.market).bind(4, identity.period)
                .bind(5, identity.type).bind(6, identity.symbol).bind(7, identity.interval).bind(8, identity.date)
                .bind(9, report.status.rawValue).bind(10, Int64(report.rows))
                .bind(11, report.firstTime.map(MicrosecondTime.rfc3339)).bind(12, report.lastTime.map(MicrosecondTime.rfc3339))
                .bind(13, json).bind(14, WallClock.now())
            try s.run()
        }
    }
}
