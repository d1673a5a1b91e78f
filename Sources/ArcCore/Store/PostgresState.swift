/// The state in a PostgreSQL database (`ARC_STATE=postgres://...`), for the ledger and the
/// catalog: several machines share one. Statements written for SQLite with `?N` parameters
/// run here as `$N`. A connection lost mid-run is opened again once and the statement
/// retried; a transaction lost before its COMMIT returned is run again whole (the ledger's
/// and catalog's writes are upserts, so running one twice records the same thing).
public final class PostgresState: StateBackend {
    public let url: String
    private var connection: PostgresConnection
    /// Whether `transaction` is running its body (a statement inside is not retried alone).
    private var inBody = false

    public init(url: String) throws {
        self.url = url
        connection = try PostgresConnection(url: url)
    }

    public var target: String { connection.target }

    @discardableResult
    public func run(_ sql: String, _ parameters: [StateValue]) throws -> Int {
        try retrying { try $0.execute(PostgresState.numbered(sql), parameters.map(\.postgresText)).affectedRows }
    }

    public func rows(_ sql: String, _ parameters: [StateValue]) throws -> [[String?]] {
        try retrying { try $0.execute(PostgresState.numbered(sql), parameters.map(\.postgresText)).rows }
    }

    /// Runs SQL text with no parameters (several statements allowed: a migration).
    public func execute(_ sql: String) throws {
        try retrying { _ = try $0.execute(sql) }
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if inBody { return try body() }
        var reconnected = false
        while true {
            do {
                inBody = true
                defer { inBody = false }
                return try connection.transaction(body)
            } catch let error as PostgresError where error.kind == .connectionLost && !reconnected {
                reconnected = true
                try reconnect()
            }
        }
    }

    /// Waits up to `seconds` for a notification on a LISTENed channel (see
    /// `PostgresConnection.waitForNotification`). After a lost connection the LISTEN is
    /// gone with it: the caller listens again (a missed notification only costs a poll).
    public func waitForNotification(seconds: Double) throws -> Bool {
        try connection.waitForNotification(seconds: seconds)
    }

    /// Reads need no shared transaction here: each is one round trip either way.
    public func batchedRead<T>(_ body: () throws -> T) throws -> T { try body() }
    public func endReadBatch() throws {}

    private func retrying<T>(_ statement: (PostgresConnection) throws -> T) throws -> T {
        do {
            return try statement(connection)
        } catch let error as PostgresError where error.kind == .connectionLost && !inBody {
            try reconnect()
            return try statement(connection)
        }
    }

    private func reconnect() throws {
        StateStore.warnings.current?("lost the connection to the state database; connecting again",
                                     ["state": connection.target])
        connection = try PostgresConnection(url: url)
    }

    /// `?N` -> `$N`. The ledger's and catalog's SQL holds no `?` inside a literal.
    /// Bytes, not Characters: done for every statement, it was a quarter of a queue
    /// worker's CPU when it mapped Characters.
    static func numbered(_ sql: String) -> String {
        var bytes = Array(sql.utf8)
        for i in bytes.indices where bytes[i] == UInt8(ascii: "?") { bytes[i] = UInt8(ascii: "$") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Brings the schema up to date: one transaction under an advisory lock, so workers
    /// starting at once wait for the first and find its tables made. PostgreSQL has no
    /// `user_version`: the version is the highest row of `schema_version`.
    func migrate(_ migrations: [String]) throws {
        try transaction {
            try run("SELECT pg_advisory_xact_lock(?1)", [.integer(StateStore.postgresMigrationLock)])
            try execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at text NOT NULL)")
            let version = try rows("SELECT coalesce(max(version), 0) FROM schema_version", [])
            let current = version.first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
            for (index, sql) in migrations.enumerated() where index + 1 > current {
                try execute(sql)
                try run("INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                        [.integer(Int64(index + 1)), .text(WallClock.now())])
            }
        }
    }
}
