import CSQLite
import Glibc

/// A failure of the state database. `busy` means another process held the write lock for
/// longer than the busy timeout.
public struct StoreError: ArcError {
    public let path: String
    public let message: String
    public let sqliteCode: Int32
    public var code: FailureCode {
        switch sqliteCode {
        case SQLITE_BUSY, SQLITE_LOCKED: return .storeBusy
        case SQLITE_FULL: return .diskFull
        default: return .storeError
        }
    }
    public var exitStatus: ExitStatus { .unavailable }
    public var description: String { "state database \(path): \(message)" }
}

/// One connection to the SQLite state database: WAL (readers never block the writer, so
/// several tools can share the file), a busy timeout, prepared statements, transactions
/// and `user_version` migrations.
public final class Database {
    public let path: String
    fileprivate let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    /// Reads made in the open batched-read transaction (0: none is open).
    private var readsInBatch = 0
    /// Counts the batched-read transactions begun, so a reader can tell two reads of one
    /// snapshot from reads of two.
    private var readBatchesBegun = 0
    /// Reads one batched-read transaction serves before it ends, so a long stream of
    /// lookups still sees other processes' commits now and then.
    static let readBatchLimit = 4096

    /// Opens (creating it and its directory if needed) the database at `path`.
    public init(path: String, busyTimeoutMillis: Int32 = 30_000) throws {
        self.path = path
        if path != ":memory:" {
            // Private by default: logs, spans, workflow texts and step outputs live here.
            try FileSystem.makeDirectories(FileSystem.parent(of: path), mode: 0o700)
            // SQLite would open a device or a FIFO and write a journal beside it (/dev/null-journal).
            var st = stat()
            if stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
                throw StoreError(path: path, message: "not a regular file", sqliteCode: SQLITE_CANTOPEN)
            }
            // SQLite reports only "disk I/O error" for a WAL whose database was deleted.
            if !FileSystem.exists(path) && FileSystem.exists(path + "-wal") {
                throw StoreError(path: path, message: "the database is gone but \(path)-wal is still there; "
                                 + "remove \(path)-wal and \(path)-shm to start a new one", sqliteCode: SQLITE_CANTOPEN)
            }
        }
        // A new database is created 0600 (SQLite would use 0644); its -wal and -shm files
        // take the database's mode, so they are private too.
        if path != ":memory:" && !FileSystem.exists(path) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) } else if errno != EEXIST {
                throw StoreError(path: path, message: String(cString: strerror(errno)), sqliteCode: SQLITE_CANTOPEN)
            }
        }
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw StoreError(path: path, message: message, sqliteCode: rc)
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeoutMillis)
        sqlite3_extended_result_codes(db, 1)
        // A pipeline's tools opening a new file at once: the switch to WAL takes an exclusive
        // lock, and SQLite answers BUSY at once instead of calling the busy handler (seen as
        // `arc-plan | arc-collect` failing on a fresh state one run in five). Wait as it would.
        let giveUp = MonotonicClock.millis() + Int64(busyTimeoutMillis)
        while true {
            do {
                try execute("PRAGMA journal_mode=WAL")
                break
            } catch let error as StoreError where error.code == .storeBusy && MonotonicClock.millis() < giveUp {
                usleep(10_000)
            }
        }
        // NORMAL in WAL mode: a commit survives a crash of the process (the guarantee the
        // ledger needs); only a power cut can lose the last commits, never corrupt the file.
        try execute("PRAGMA synchronous=NORMAL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        for statement in cache.values { statement.finalize() }
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32, _ context: String? = nil) -> StoreError {
        let message = String(cString: sqlite3_errmsg(handle))
        return StoreError(path: path, message: context.map { "\($0): \(message)" } ?? message, sqliteCode: rc & 0xFF)
    }

    /// Runs SQL without results (several statements allowed).
    public func execute(_ sql: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        guard rc == SQLITE_OK else {
            let message = errmsg.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(errmsg)
            throw StoreError(path: path, message: message, sqliteCode: rc & 0xFF)
        }
    }

    /// A prepared statement, compiled once per connection and reused.
    public func statement(_ sql: String) throws -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw error(rc, "prepare") }
        let statement = Statement(raw, database: self)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` in a write transaction. BEGIN IMMEDIATE takes the write lock up front,
    /// so two processes wait for each other (busy timeout) instead of deadlocking.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try endReadBatch()
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs a read inside a shared transaction kept open across many reads. Outside a
    /// transaction every query takes and drops SQLite's file locks (several fcntl calls),
    /// which was half of arc-plan's time; inside one, only the first read pays. Call
    /// `endReadBatch` before waiting for input, so no snapshot is held while idle.
    /// Inside a write transaction the read simply joins it.
    public func batchedRead<T>(_ body: () throws -> T) throws -> T {
        if readsInBatch == 0 {
            guard sqlite3_get_autocommit(handle) != 0 else { return try body() }
            try execute("BEGIN")
            readBatchesBegun += 1
        }
        readsInBatch += 1
        let value = try body()
        if readsInBatch >= Database.readBatchLimit { try endReadBatch() }
        return value
    }

    /// Which batched-read transaction the read running in `batchedRead` is part of; nil
    /// outside one (a read joining a write transaction, or no read at all). Two reads with
    /// the same number, and no write of this connection between them (`totalChanges`),
    /// see the same snapshot: what one found absent from the whole table the other would too.
    public var readBatch: Int? { readsInBatch > 0 ? readBatchesBegun : nil }

    /// Rows this connection has inserted, updated or deleted since it opened.
    public var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    /// Ends the batched-read transaction, if one is open.
    public func endReadBatch() throws {
        guard readsInBatch > 0 else { return }
        readsInBatch = 0
        try execute("COMMIT")
    }

    public var userVersion: Int {
        get throws {
            let s = try statement("PRAGMA user_version")
            // Reset at once: a statement left on its row keeps a read transaction open,
            // pinning this connection to an old snapshot of the shared file.
            defer { s.reset() }
            return try s.step() ? Int(s.int(0)) : 0
        }
    }

    /// Applies the migrations newer than `user_version`, each in its own transaction.
    /// A database written by a newer arc keeps working: newer tables are left alone.
    public func migrate(_ migrations: [String]) throws {
        for (index, sql) in migrations.enumerated() {
            let target = index + 1
            try transaction {
                // Re-read inside the lock: another process may have migrated meanwhile.
                guard try userVersion < target else { return }
                try execute(sql)
                try execute("PRAGMA user_version = \(target)")
            }
        }
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }
}

/// A prepared statement. Bind parameters (1-based), step through rows, read columns (0-based).
public final class Statement {
    private var raw: OpaquePointer?
    private unowned let database: Database

    fileprivate init(_ raw: OpaquePointer, database: Database) {
        self.raw = raw
        self.database = database
    }

    fileprivate func finalize() {
        sqlite3_finalize(raw)
        raw = nil
    }

    public func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: String?) -> Statement {
        if var value {
            value.withUTF8 { u in
                u.withMemoryRebound(to: CChar.self) { c in
                    if let base = c.baseAddress {
                        _ = arc_sqlite3_bind_text(raw, index, base, Int32(c.count))
                    } else {
                        _ = arc_sqlite3_bind_text(raw, index, "", 0)
                    }
                }
            }
        } else {
            sqlite3_bind_null(raw, index)
        }
        return self
    }

    /// Binds text given as UTF-8 bytes (copied by SQLite).
    @discardableResult
    public func bind(_ index: Int32, utf8 value: UnsafeBufferPointer<UInt8>) -> Statement {
        value.withMemoryRebound(to: CChar.self) { c in
            if let base = c.baseAddress {
                _ = arc_sqlite3_bind_text(raw, index, base, Int32(c.count))
            } else {
                _ = arc_sqlite3_bind_text(raw, index, "", 0)
            }
        }
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: Int64?) -> Statement {
        if let value { sqlite3_bind_int64(raw, index, value) } else { sqlite3_bind_null(raw, index) }
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: Int?) -> Statement { bind(index, value.map(Int64.init)) }

    @discardableResult
    public func bind(_ index: Int32, _ value: Bool?) -> Statement { bind(index, value.map { $0 ? Int64(1) : 0 }) }

    /// Advances to the next row; false when done.
    public func step() throws -> Bool {
        let rc = sqlite3_step(raw)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw database.error(rc)
    }

    /// Runs a statement that returns no rows.
    public func run() throws {
        _ = try step()
        sqlite3_reset(raw)
    }

    public var columnCount: Int32 { sqlite3_column_count(raw) }

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }

    public func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }

    /// A column read as `Int64(text(column))` reads it (nil for NULL, or for text or a real
    /// that is not an integer's digits), without making the text of an integer.
    public func integerText(_ column: Int32) -> Int64? {
        switch sqlite3_column_type(raw, column) {
        case SQLITE_NULL: return nil
        case SQLITE_INTEGER: return int(column)
        default: return text(column).flatMap { Int64($0) }
        }
    }

    public func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(raw, column) else { return nil }
        return String(cString: p)
    }
}
