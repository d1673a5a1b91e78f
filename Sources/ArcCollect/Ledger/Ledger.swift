import ArcCore

/// What arc-collect holds and where: one row per destination. arc-plan reads it to decide
/// what to fetch; arc-collect writes it only after the data is safely stored.
public final class Ledger {
    private let db: Database

    public init(_ db: Database) { self.db = db }

    /// What the ledger knows about one destination.
    public struct Entry: Equatable {
        public var status: String
        public var size: Int64?
        public var etag: String?
        public var sha256: String?
    }

    /// Lookups are batched into shared read transactions (see `Database.batchedRead`);
    /// call `endLookups` before waiting for more input.
    public func entry(dest: String) throws -> Entry? {
        try db.batchedRead {
            let s = try db.statement("SELECT status, size, etag, sha256 FROM ledger WHERE dest = ?")
            s.bind(1, dest)
            defer { s.reset() }
            guard try s.step() else { return nil }
            return Entry(status: s.text(0) ?? "failed", size: s.optionalInt(1), etag: s.text(2), sha256: s.text(3))
        }
    }

    public func endLookups() throws { try db.endReadBatch() }

    /// The archive fields a ledger row keeps.
    public struct Item {
        public var dest: String
        public var url: String
        public var key: String?
        public var taskID: String?
        public var source: String?, market: String?, period: String?, type: String?
        public var symbol: String?, interval: String?, date: String?
        public var size: Int64?
        public var etag: String?
        public var lastModified: String?

        public init(dest: String, url: String) {
            self.dest = dest
            self.url = url
        }
    }

    /// Records a stored, verified archive. Call inside a transaction, after the file is durable.
    public func recordSuccess(_ item: Item, sha256: String?, verified: Bool, attempts: Int, at now: String) throws {
        let s = try db.statement("""
            INSERT INTO ledger (dest, url, key, source, market, period, type, symbol, interval, date,
                                size, etag, last_modified, sha256, verified, collected_at,
                                status, error_code, error_message, attempts, task_id, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    'ok', NULL, NULL, ?17, ?18, ?16)
            ON CONFLICT (dest) DO UPDATE SET
                url = excluded.url, key = excluded.key, source = excluded.source, market = excluded.market,
                period = excluded.period, type = excluded.type, symbol = excluded.symbol,
                interval = excluded.interval, date = excluded.date, size = excluded.size,
                etag = excluded.etag, last_modified = excluded.last_modified, sha256 = excluded.sha256,
                verified = excluded.verified, collected_at = excluded.collected_at, status = 'ok',
                error_code = NULL, error_message = NULL, attempts = excluded.attempts,
                task_id = excluded.task_id, updated_at = excluded.updated_at
            """)
        bindItem(s, item)
        s.bind(14, sha256).bind(15, verified).bind(16, now).bind(17, attempts).bind(18, item.taskID)
        try s.run()
    }

    /// Records a failed attempt. What is already held at the destination stays described
    /// as it is (a failed re-fetch of a republished file does not erase the old one).
    public func recordFailure(_ item: Item, code: FailureCode, message: String, attempts: Int, at now: String) throws {
        let s = try db.statement("""
            INSERT INTO ledger (dest, url, key, source, market, period, type, symbol, interval, date,
                                status, error_code, error_message, attempts, task_id, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'failed', ?11, ?12, ?13, ?14, ?15)
            ON CONFLICT (dest) DO UPDATE SET
                status = 'failed', error_code = excluded.error_code, error_message = excluded.error_message,
                attempts = excluded.attempts, task_id = excluded.task_id, updated_at = excluded.updated_at
            """)
        bindItem(s, item, withSize: false)
        s.bind(11, code.rawValue).bind(12, Secrets.redact(message)).bind(13, attempts).bind(14, item.taskID).bind(15, now)
        try s.run()
    }

    /// The url is kept for people to read (where a file came from), so without credentials:
    /// a presigned URL's signature has expired by the time anyone reads it anyway.
    private func bindItem(_ s: Statement, _ item: Item, withSize: Bool = true) {
        s.bind(1, item.dest).bind(2, Secrets.redact(item.url)).bind(3, item.key).bind(4, item.source).bind(5, item.market)
            .bind(6, item.period).bind(7, item.type).bind(8, item.symbol).bind(9, item.interval).bind(10, item.date)
        if withSize {
            s.bind(11, item.size).bind(12, item.etag).bind(13, item.lastModified)
        }
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T { try db.transaction(body) }
}
