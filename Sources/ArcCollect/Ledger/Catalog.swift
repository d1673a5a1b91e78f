import ArcCore

/// arc-discover's memory of listings: for each folder, the last key already seen, so
/// `--incremental` starts the next listing after it instead of from the beginning.
public final class Catalog {
    private let db: Database

    public init(_ db: Database) { self.db = db }

    public func lastKey(prefix: String) throws -> String? {
        let s = try db.statement("SELECT last_key FROM catalog WHERE prefix = ?")
        s.bind(1, prefix)
        defer { s.reset() } // ends the read transaction (see Database.userVersion)
        return try s.step() ? s.text(0) : nil
    }

    /// Remembers `lastKey` for `prefix`; never moves a folder's mark backwards.
    public func record(prefix: String, lastKey: String, at now: String) throws {
        let s = try db.statement("""
            INSERT INTO catalog (prefix, last_key, updated_at) VALUES (?1, ?2, ?3)
            ON CONFLICT (prefix) DO UPDATE SET last_key = excluded.last_key, updated_at = excluded.updated_at
            WHERE excluded.last_key > catalog.last_key
            """)
        s.bind(1, prefix).bind(2, lastKey).bind(3, now)
        try s.run()
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T { try db.transaction(body) }
}
