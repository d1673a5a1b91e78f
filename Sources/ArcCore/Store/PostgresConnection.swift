import CPq
import Glibc

/// One connection to a PostgreSQL server through libpq: SQL with `$1...` parameters sent
/// apart from the text (never spliced into it), results as rows of text values,
/// transactions. Not for use by two threads at once (libpq's rule for a connection): each
/// thread or process opens its own, as workers competing for rows with
/// `FOR UPDATE SKIP LOCKED` do.
public final class PostgresConnection {
    /// The URL with its password masked: what errors and logs name.
    public let target: String
    private let handle: OpaquePointer

    /// Whether `text` names a PostgreSQL database (a libpq connection URI) rather than a
    /// SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Connects to `url` (`postgres://user:password@host:port/database?options`, or
    /// `postgresql://`). A server that refuses, cannot be reached within
    /// `connectTimeoutSeconds` (unless the URL sets `connect_timeout`) or rejects the
    /// credentials is a `PostgresError` of kind `.connect` (exit 3); its password, from the
    /// userinfo or a `password=` parameter, is registered as a secret and appears nowhere.
    public init(url: String, connectTimeoutSeconds: Int = 10, applicationName: String = "arc") throws {
        target = Secrets.redact(url)
        try PostgresConnection.check(url, target: target)
        // Keywords are applied in order and the last wins: the URL (expanded from dbname)
        // comes last, so its own connect_timeout or application_name overrides ours.
        let keywords = ["connect_timeout", "application_name", "dbname"]
        let values = [String(connectTimeoutSeconds), applicationName, url]
        let connection = withCStrings(keywords) { k in
            withCStrings(values) { v in arc_PQconnectdbParams(k, v, 1) }
        }
        guard let connection else {
            throw PostgresError(.connect, target: target, message: "out of memory")
        }
        guard arc_PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: arc_PQerrorMessage(connection))
            arc_PQfinish(connection)
            throw PostgresError(.connect, target: target, message: message)
        }
        handle = connection
        // libpq prints the server's notices ("relation already exists, skipping") on
        // stderr, where the tools write their log records: drop them.
        arc_PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { arc_PQfinish(handle) }

    /// A URL libpq cannot parse fails here, before any connection (exit 2); the password it
    /// holds is remembered as a secret, so no message anywhere shows it.
    private static func check(_ url: String, target: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = arc_PQconninfoParse(url, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "cannot parse the URL"
            arc_PQfreemem(errorMessage)
            throw PostgresError(.badURL, target: target, message: message)
        }
        defer { arc_PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                Secrets.register(String(cString: value))
            }
            option += 1
        }
    }

    /// Whether the connection is up (false once the server went away mid-statement).
    public var isConnected: Bool { arc_PQstatus(handle) == CONNECTION_OK }

    /// Whether a transaction is open on this connection.
    public var inTransaction: Bool { arc_PQtransactionStatus(handle) != PQTRANS_IDLE }

    /// Runs one statement with its `parameters` bound to `$1`, `$2`... as text (nil is SQL
    /// NULL; the server casts the text to each parameter's type), and returns its rows.
    /// With no parameters the text may hold several statements separated by `;` (a
    /// migration), and the last one's result is returned.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> PostgresResult {
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = arc_PQexec(handle, sql)
        } else {
            let copies = parameters.map { $0.map { strdup($0) } ?? nil }
            defer { copies.forEach { free($0) } }
            result = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
                arc_PQexecParams(handle, sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        defer { arc_PQclear(result) }
        guard let result else { throw failure(nil) }
        let status = arc_PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            throw failure(result)
        }
        return PostgresResult(result)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws
    /// (the error is rethrown). Inside an open transaction, `body` joins it.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if inTransaction { return try body() }
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            // On a lost connection there is nothing to roll back: the server did.
            if isConnected { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Waits up to `seconds` for a notification on a channel this connection LISTENs to
    /// (libpq queues them as they arrive); whether one came. The ones queued are all taken.
    public func waitForNotification(seconds: Double) throws -> Bool {
        if takeNotifications() { return true }
        var pfd = pollfd(fd: arc_PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(max(0, seconds) * 1000))
        guard ready > 0 else { return false }
        guard arc_PQconsumeInput(handle) == 1 else {
            throw PostgresError(.connectionLost, target: target, message: String(cString: arc_PQerrorMessage(handle)))
        }
        return takeNotifications()
    }

    private func takeNotifications() -> Bool {
        var any = false
        while let note = arc_PQnotifies(handle) {
            arc_PQfreemem(note)
            any = true
        }
        return any
    }

    private func failure(_ result: OpaquePointer?) -> PostgresError {
        guard arc_PQstatus(handle) == CONNECTION_OK else {
            return PostgresError(.connectionLost, target: target, message: String(cString: arc_PQerrorMessage(handle)))
        }
        guard let result else {
            return PostgresError(.statement, target: target, message: String(cString: arc_PQerrorMessage(handle)))
        }
        let field = { (code: Int32) in arc_PQresultErrorField(result, code).map { String(cString: $0) } }
        let message = field(arc_pg_diag_message_primary) ?? String(cString: arc_PQresultErrorMessage(result))
        return PostgresError(.statement, target: target, sqlState: field(arc_pg_diag_sqlstate), message: message)
    }
}

/// A statement's result, copied out of libpq: column names, rows of text values (nil for
/// NULL), and the count of rows an INSERT, UPDATE or DELETE touched.
public struct PostgresResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    public let affectedRows: Int

    init(_ result: OpaquePointer) {
        let columnCount = arc_PQnfields(result)
        let rowCount = arc_PQntuples(result)
        columns = (0..<columnCount).map { String(cString: arc_PQfname(result, $0)) }
        rows = (0..<rowCount).map { row in
            (0..<columnCount).map { column in
                arc_PQgetisnull(result, row, column) != 0 ? nil : String(cString: arc_PQgetvalue(result, row, column))
            }
        }
        affectedRows = Int(String(cString: arc_PQcmdTuples(result))) ?? 0
    }

    /// The value in `row` under the column named `name` (nil when NULL or no such column).
    public func value(_ row: Int, _ name: String) -> String? {
        guard let column = columns.firstIndex(of: name) else { return nil }
        return rows[row][column]
    }
}

/// Calls `body` with a NULL-terminated array of C strings made from `strings`.
private func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
