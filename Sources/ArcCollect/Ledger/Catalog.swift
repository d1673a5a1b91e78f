import ArcCore

/// arc-discover's memory of listings: for each folder, the last key already seen, so
/// `--incremental` starts the next listing after it instead of from the beginning.
/// In SQLite or PostgreSQL (see `StateBackend`).
public final class Catalog {
    private let db: any StateBackend

    public init(_ db: any StateBackend) { self.db = db }

    public func lastKey(prefix: String) throws -> String? {
        // Not a batched read: `rows` resets the statement, so no read transaction stays open.
        try db.rows("SELECT last_key FROM catalog WHERE prefix = ?1", [StateValue(prefix)]).first?[0]
    }

    /// Remembers `lastKey` for `prefix`; never moves a folder's mark backwards.
    public func record(prefix: String, lastKey: String, at now: String) throws {
        try db.run("""
            INSERT INTO catalog (prefix, last_key, updated_at) VALUES (?1, ?2, ?3)
            ON CONFLICT (prefix) DO UPDATE SET last_key = excluded.last_key, updated_at = excluded.updated_at
            WHERE excluded.last_key > catalog.last_key
            """, [StateValue(prefix), StateValue(lastKey), StateValue(now)])
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T { try db.transaction(body) }
}
