import ArcCore

/// What arc-collect holds and where: one row per destination. arc-plan reads it to decide
/// what to fetch; arc-collect writes it only after the data is safely stored. In SQLite or
/// PostgreSQL (the same SQL: see `StateBackend`).
public final class Ledger {
    private let db: any StateBackend
    /// Entries read ahead by `prefetch` (nil: not held), each used once.
    private var prefetched: [String: Entry?] = [:]

    /// Whether `prefetch` saves anything: a server's round trip per lookup, where SQLite's
    /// is a function call.
    public let prefetches: Bool

    /// SQLite: lookups step one prepared statement directly (arc-plan asks once an archive,
    /// and the generic `rows` spent more on arrays of strings than SQLite on the query).
    private let sqlite: Database?
    private var lookup: Statement?
    /// Whether the ledger was empty in read batch `batch` with this connection at `changes`:
    /// then no lookup in that snapshot can find anything, and none needs to ask (a first
    /// run plans every archive against an empty ledger).
    private var emptiness: (batch: Int, changes: Int64, empty: Bool)?

    public init(_ db: any StateBackend) {
        self.db = db
        prefetches = db is PostgresState
        sqlite = db as? Database
    }

    /// Reads the entries of `dests` in one query, for the `entry` calls that follow (those
    /// of an earlier batch that were never asked for are dropped: memory stays per batch).
    public func prefetch(_ dests: [String]) throws {
        guard prefetches, !dests.isEmpty else { return }
        prefetched.removeAll(keepingCapacity: true)
        for dest in dests { prefetched[dest] = .some(nil) }
        for row in try db.rows("SELECT dest, status, size, etag, sha256, error_code FROM ledger WHERE dest = ANY(?1::text[])",
                               [.array(dests)]) {
            guard let dest = row[0] else { continue }
            prefetched[dest] = Entry(status: row[1] ?? "failed", size: row[2].flatMap { Int64($0) }, etag: row[3], sha256: row[4],
                                     errorCode: row[5])
        }
    }

    /// What the ledger knows about one destination.
    public struct Entry: Equatable {
        public var status: String
        public var size: Int64?
        public var etag: String?
        public var sha256: String?
        /// Why the last attempt failed (a failed entry's `error_code`).
        public var errorCode: String? = nil
    }

    /// Lookups are batched into shared read transactions (see `Database.batchedRead`);
    /// call `endLookups` before waiting for more input.
    public func entry(dest: String) throws -> Entry? {
        if let sqlite { return try sqlite.batchedRead { try sqliteEntry(sqlite) { $0.bind(1, dest) } } }
        if prefetches, let known = prefetched.removeValue(forKey: dest) { return known }
        return try db.batchedRead {
            guard let row = try db.rows("SELECT status, size, etag, sha256, error_code FROM ledger WHERE dest = ?1", [StateValue(dest)]).first
            else { return nil }
            return Entry(status: row[0] ?? "failed", size: row[1].flatMap { Int64($0) }, etag: row[2], sha256: row[3],
                         errorCode: row[4])
        }
    }

    /// `entry(dest:)` for a dest given as UTF-8 (arc-plan's, made as bytes): on SQLite no
    /// String is made for it.
    public func entry(destUTF8 dest: UnsafeBufferPointer<UInt8>) throws -> Entry? {
        if let sqlite { return try sqlite.batchedRead { try sqliteEntry(sqlite) { $0.bind(1, utf8: dest) } } }
        return try entry(dest: String(decoding: dest, as: UTF8.self))
    }

    public func endLookups() throws { try db.endReadBatch() }

    private func sqliteEntry(_ sqlite: Database, bindDest: (Statement) -> Void) throws -> Entry? {
        if let batch = sqlite.readBatch, try isEmpty(sqlite, batch: batch) { return nil }
        let s: Statement
        if let lookup { s = lookup } else {
            s = try sqlite.statement("SELECT status, size, etag, sha256, error_code FROM ledger WHERE dest = ?1")
            lookup = s
        }
        // Reset at once: a statement left on its row keeps a read transaction open.
        defer { s.reset() }
        bindDest(s)
        guard try s.step() else { return nil }
        return Entry(status: s.text(0) ?? "failed", size: s.integerText(1), etag: s.text(2), sha256: s.text(3),
                     errorCode: s.text(4))
    }

    /// Whether the ledger is empty in the snapshot of read batch `batch`: asked once a batch,
    /// and again after this connection itself writes (the only change a snapshot sees).
    private func isEmpty(_ sqlite: Database, batch: Int) throws -> Bool {
        let changes = sqlite.totalChanges
        if let e = emptiness, e.batch == batch, e.changes == changes { return e.empty }
        let s = try sqlite.statement("SELECT 1 FROM ledger LIMIT 1")
        defer { s.reset() }
        let empty = try !s.step()
        emptiness = (batch, changes, empty)
        return empty
    }

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

    /// A success replaces everything the ledger said of its dest (one or many at once).
    static let heldNow = """
        ON CONFLICT (dest) DO UPDATE SET
            url = excluded.url, key = excluded.key, source = excluded.source, market = excluded.market,
            period = excluded.period, type = excluded.type, symbol = excluded.symbol,
            interval = excluded.interval, date = excluded.date, size = excluded.size,
            etag = excluded.etag, last_modified = excluded.last_modified, sha256 = excluded.sha256,
            verified = excluded.verified, collected_at = excluded.collected_at, status = 'ok',
            error_code = NULL, error_message = NULL, attempts = excluded.attempts,
            task_id = excluded.task_id, updated_at = excluded.updated_at
        """

    /// Records a stored, verified archive. Call inside a transaction, after the file is durable.
    public func recordSuccess(_ item: Item, sha256: String?, verified: Bool, attempts: Int, at now: String) throws {
        try db.run("""
            INSERT INTO ledger (dest, url, key, source, market, period, type, symbol, interval, date,
                                size, etag, last_modified, sha256, verified, collected_at,
                                status, error_code, error_message, attempts, task_id, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    'ok', NULL, NULL, ?17, ?18, ?16)
            \(Ledger.heldNow)
            """, itemValues(item) + [StateValue(item.size), StateValue(item.etag), StateValue(item.lastModified),
                                    StateValue(sha256), StateValue(verified), StateValue(now),
                                    StateValue(attempts), StateValue(item.taskID)])
    }

    /// A stored, verified archive, for `recordSuccesses`.
    public struct Success {
        public var item: Item
        public var sha256: String?
        public var verified: Bool
        public var attempts: Int

        public init(_ item: Item, sha256: String?, verified: Bool, attempts: Int) {
            self.item = item
            self.sha256 = sha256
            self.verified = verified
            self.attempts = attempts
        }
    }

    /// Records many stored archives; inside a transaction, after the files are durable.
    /// On PostgreSQL in one statement over arrays (a round trip, a parse and a plan per
    /// archive were most of a queue worker's cost); on SQLite one upsert each, which is a
    /// function call there.
    public func recordSuccesses(_ successes: [Success], at now: String) throws {
        guard prefetches, successes.count > 1 else {
            for s in successes { try recordSuccess(s.item, sha256: s.sha256, verified: s.verified, attempts: s.attempts, at: now) }
            return
        }
        // One statement touches a row once: the last record of a dest wins, as in a loop.
        var last: [String: Int] = [:]
        for (n, s) in successes.enumerated() { last[s.item.dest] = n }
        let rows = successes.indices.filter { last[successes[$0].item.dest] == $0 }.map { successes[$0] }
        func column(_ value: (Success) -> String?) -> StateValue { .array(rows.map(value)) }
        try db.run("""
            INSERT INTO ledger (dest, url, key, source, market, period, type, symbol, interval, date,
                                size, etag, last_modified, sha256, verified, collected_at,
                                status, error_code, error_message, attempts, task_id, updated_at)
            SELECT d, u, k, so, m, p, ty, sy, i, da, sz::bigint, e, lm, sh, v::integer, ?18,
                   'ok', NULL, NULL, a::integer, t, ?18
            FROM unnest(?1::text[], ?2::text[], ?3::text[], ?4::text[], ?5::text[], ?6::text[], ?7::text[],
                        ?8::text[], ?9::text[], ?10::text[], ?11::text[], ?12::text[], ?13::text[], ?14::text[],
                        ?15::text[], ?16::text[], ?17::text[])
                AS x(d, u, k, so, m, p, ty, sy, i, da, sz, e, lm, sh, v, a, t)
            \(Ledger.heldNow)
            """, [
                column { $0.item.dest }, column { Secrets.redact($0.item.url) }, column { $0.item.key },
                column { $0.item.source }, column { $0.item.market }, column { $0.item.period }, column { $0.item.type },
                column { $0.item.symbol }, column { $0.item.interval }, column { $0.item.date },
                column { $0.item.size.map(String.init) }, column { $0.item.etag }, column { $0.item.lastModified },
                column { $0.sha256 }, column { $0.verified ? "1" : "0" }, column { String($0.attempts) },
                column { $0.item.taskID }, .text(now),
            ])
    }

    /// Records a failed attempt. What is already held at the destination stays described
    /// as it is (a failed re-fetch of a republished file does not erase the old one).
    public func recordFailure(_ item: Item, code: FailureCode, message: String, attempts: Int, at now: String) throws {
        try db.run("""
            INSERT INTO ledger (dest, url, key, source, market, period, type, symbol, interval, date,
                                status, error_code, error_message, attempts, task_id, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'failed', ?11, ?12, ?13, ?14, ?15)
            ON CONFLICT (dest) DO UPDATE SET
                status = 'failed', error_code = excluded.error_code, error_message = excluded.error_message,
                attempts = excluded.attempts, task_id = excluded.task_id, updated_at = excluded.updated_at
            """, itemValues(item) + [StateValue(code.rawValue), StateValue(Secrets.redact(message)),
                                    StateValue(attempts), StateValue(item.taskID), StateValue(now)])
        // An archive that is empty upstream stays so until it is republished: its listing
        // is kept, so arc-plan can tell the same empty file from a new one.
        if code == .emptyArchive {
            try db.run("UPDATE ledger SET size = ?2, etag = ?3 WHERE dest = ?1",
                       [StateValue(item.dest), StateValue(item.size), StateValue(item.etag)])
        }
    }

    /// The url is kept for people to read (where a file came from), so without credentials:
    /// a presigned URL's signature has expired by the time anyone reads it anyway.
    /// Parameters ?1 to ?10.
    private func itemValues(_ item: Item) -> [StateValue] {
        [item.dest, Secrets.redact(item.url), item.key, item.source, item.market,
         item.period, item.type, item.symbol, item.interval, item.date].map { StateValue($0) }
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T { try db.transaction(body) }
}
