import ArcCore

/// What arc-check (and arc-convert, which checks in the same pass) found inside each
/// archive, keyed by the archive's SHA-256: an unchanged archive is not read again, a
/// republished one (new bytes, new hash) is. The whole `check` object is kept as JSON, so
/// a cached answer is exactly the answer first given. In SQLite or PostgreSQL (the same
/// SQL: see `StateBackend`).
final class QualityLedger: @unchecked Sendable { // the state is used under `lock` only
    private let db: any StateBackend
    /// The connection's lock, shared with every other user of `db` (the silver ledger):
    /// one connection (SQLite or PostgreSQL) must never be used by two threads at once.
    private let lock: Lock

    init(_ db: any StateBackend, lock: Lock) {
        self.db = db
        self.lock = lock
    }

    /// The `check` object recorded for this archive, as JSON text.
    func report(sha256: String) throws -> String? {
        try lock.withLock {
            try db.rows("SELECT report FROM quality WHERE archive_sha256 = ?1", [.text(sha256)]).first?[0]
        }
    }

    func record(sha256: String, identity: ArchiveIdentity, report: CheckReport, json: String) throws {
        try lock.withLock {
            _ = try db.run("""
                INSERT INTO quality (archive_sha256, key, market, period, type, symbol, interval, date,
                                     status, rows, first_time, last_time, report, checked_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                ON CONFLICT (archive_sha256) DO UPDATE SET
                    key = excluded.key, status = excluded.status, rows = excluded.rows,
                    first_time = excluded.first_time, last_time = excluded.last_time,
                    report = excluded.report, checked_at = excluded.checked_at
                """, [.text(sha256), StateValue(identity.key), StateValue(identity.market), StateValue(identity.period),
                      StateValue(identity.type), StateValue(identity.symbol), StateValue(identity.interval),
                      StateValue(identity.date), .text(report.status.rawValue), .integer(Int64(report.rows)),
                      StateValue(report.firstTime.map(MicrosecondTime.rfc3339)),
                      StateValue(report.lastTime.map(MicrosecondTime.rfc3339)), .text(json), .text(WallClock.now())])
        }
    }
}
