import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport

/// PostgresConnection against a real PostgreSQL (one server for the class, started through
/// scripts/arcservers.py), each test in tables of its own.
final class PostgresTests: XCTestCase {
    /// The class's server; started in class setUp, stopped in class tearDown.
    private static let server = Locked<PostgresServer?>(nil)
    private static let startFailure = Locked<String?>(nil)

    override class func setUp() {
        super.setUp()
        do {
            let started = try PostgresServer()
            server.withLock { $0 = started }
        } catch {
            startFailure.withLock { $0 = "\(error)" }
        }
    }

    override class func tearDown() {
        server.withLock { $0?.stop(); $0 = nil }
        super.tearDown()
    }

    /// The server, or the test fails (never skips) with why it did not start.
    private func running(file: StaticString = #filePath, line: UInt = #line) throws -> PostgresServer {
        guard let server = PostgresTests.server.current else {
            XCTFail("PostgreSQL did not start: \(PostgresTests.startFailure.current ?? "?")", file: file, line: line)
            throw UnavailableError("postgres", "not started")
        }
        return server
    }

    private func connect() throws -> PostgresConnection {
        try PostgresConnection(url: running().url)
    }

    func testParameterizedInsertAndSelect() throws {
        let db = try connect()
        try db.execute("""
            CREATE TABLE items (id bigint PRIMARY KEY, name text, size bigint);
            CREATE INDEX items_name ON items (name)
            """)
        let inserted = try db.execute("INSERT INTO items (id, name, size) VALUES ($1, $2, $3), ($4, $5, $6)",
                                      ["1", "it's; DROP TABLE items --", "10", "2", nil, "20"])
        XCTAssertEqual(inserted.affectedRows, 2)
        let one = try db.execute("SELECT id, name, size FROM items WHERE id = $1", ["1"])
        XCTAssertEqual(one.columns, ["id", "name", "size"])
        XCTAssertEqual(one.rows, [["1", "it's; DROP TABLE items --", "10"]])
        XCTAssertEqual(one.value(0, "name"), "it's; DROP TABLE items --")
        let nulls = try db.execute("SELECT id FROM items WHERE name IS NULL")
        XCTAssertEqual(nulls.rows, [["2"]])
        let sum = try db.execute("SELECT sum(size), count(*) FROM items WHERE size >= $1", ["0"])
        XCTAssertEqual(sum.rows, [["30", "2"]])
        let updated = try db.execute("UPDATE items SET size = size + 1")
        XCTAssertEqual(updated.affectedRows, 2)
        XCTAssertEqual(try db.execute("SELECT name FROM items WHERE id = 99").rows, [])
    }

    func testRolledBackTransactionLeavesNothingAndCommittedOneStays() throws {
        let db = try connect()
        try db.execute("CREATE TABLE ledger_rb (dest text PRIMARY KEY)")
        struct Abort: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.execute("INSERT INTO ledger_rb VALUES ($1)", ["a"])
            XCTAssertTrue(db.inTransaction)
            throw Abort()
        }) { XCTAssertTrue($0 is Abort) }
        XCTAssertFalse(db.inTransaction)
        XCTAssertEqual(try db.execute("SELECT count(*) FROM ledger_rb").rows, [["0"]])

        try db.transaction { try db.execute("INSERT INTO ledger_rb VALUES ($1)", ["b"]) }
        // Another connection sees only what was committed.
        let other = try connect()
        XCTAssertEqual(try other.execute("SELECT dest FROM ledger_rb").rows, [["b"]])
    }

    func testStatementErrorCarriesTheSQLStateAndLeavesTheConnectionUsable() throws {
        let db = try connect()
        try db.execute("CREATE TABLE uniq (k text PRIMARY KEY)")
        try db.execute("INSERT INTO uniq VALUES ($1)", ["x"])
        let duplicate = assertThrows(PostgresError.self, try db.execute("INSERT INTO uniq VALUES ($1)", ["x"]))
        XCTAssertEqual(duplicate?.kind, .statement)
        XCTAssertEqual(duplicate?.sqlState, PostgresError.SQLState.uniqueViolation)
        XCTAssertEqual(duplicate?.exitStatus, .unavailable)
        XCTAssertEqual(duplicate?.code, .storeError)
        XCTAssertTrue(duplicate?.description.contains("duplicate key") == true, "\(duplicate!)")
        let missing = assertThrows(PostgresError.self, try db.execute("SELECT * FROM no_such_table"))
        XCTAssertEqual(missing?.sqlState, PostgresError.SQLState.undefinedTable)
        // A failed statement inside a transaction: rolled back, and the connection goes on.
        XCTAssertThrowsError(try db.transaction { try db.execute("INSERT INTO uniq VALUES ($1)", ["x"]) })
        XCTAssertFalse(db.inTransaction)
        XCTAssertEqual(try db.execute("SELECT count(*) FROM uniq").rows, [["1"]])
    }

    /// The work queue's claim: a row one worker holds is skipped by the others, not waited for.
    func testSkipLockedSkipsTheRowAnotherConnectionHolds() throws {
        let setup = try connect()
        try setup.execute("CREATE TABLE tasks (id int PRIMARY KEY, state text NOT NULL)")
        try setup.execute("INSERT INTO tasks SELECT g, 'pending' FROM generate_series(1, 3) g")
        let first = try connect()
        let second = try connect()
        let claim = "SELECT id FROM tasks WHERE state = 'pending' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
        try first.execute("BEGIN")
        XCTAssertEqual(try first.execute("SELECT id FROM tasks WHERE id = 1 FOR UPDATE").rows, [["1"]])
        try second.transaction {
            XCTAssertEqual(try second.execute(claim, ["10"]).rows, [["2"], ["3"]])
            try second.execute("UPDATE tasks SET state = 'leased' WHERE id = ANY($1::int[])", ["{2,3}"])
        }
        // While the first still holds row 1, nothing is left for the second to claim...
        XCTAssertEqual(try second.execute(claim, ["10"]).rows, [])
        // ...and once the first ends its transaction, row 1 can be claimed again.
        try first.execute("ROLLBACK")
        XCTAssertEqual(try second.execute(claim, ["10"]).rows, [["1"]])
    }

    func testWrongPasswordIsExit3WithoutThePassword() throws {
        let server = try running()
        let password = "wrong-Secret-7Zq9"
        let error = assertThrows(PostgresError.self, try PostgresConnection(url: server.url(password: password)))
        XCTAssertEqual(error?.kind, .connect)
        XCTAssertEqual(error?.exitStatus, .unavailable)
        XCTAssertEqual(error?.exitStatus.rawValue, 3)
        let text = error.map { "\($0)" } ?? ""
        XCTAssertFalse(text.contains(password), text)
        XCTAssertFalse(text.contains("\n"), text)
        XCTAssertTrue(text.contains("password authentication failed"), text)
        XCTAssertTrue(text.contains("postgres://arc:***@127.0.0.1:\(server.port)/arc"), text)
        // Registered as a secret: masked wherever else a tool would write it.
        XCTAssertEqual(Secrets.redact("tried \(password)"), "tried ***")
    }

    func testNoServerOnThePortIsExit3() throws {
        let port = try closedPort()
        let error = assertThrows(PostgresError.self,
                                 try PostgresConnection(url: "postgresql://arc:Dead-Port-Secret-1@127.0.0.1:\(port)/arc"))
        XCTAssertEqual(error?.kind, .connect)
        XCTAssertEqual(error?.code, .unavailable)
        XCTAssertEqual(error?.exitStatus.rawValue, 3)
        let text = error.map { "\($0)" } ?? ""
        XCTAssertTrue(text.contains("Connection refused"), text)
        XCTAssertFalse(text.contains("Dead-Port-Secret-1"), text)
        XCTAssertFalse(text.contains("\n"), text)
    }

    func testMalformedURLIsAUsageError() throws {
        let error = assertThrows(PostgresError.self,
                                 try PostgresConnection(url: "postgres://arc:Malformed-Secret-2@127.0.0.1:5432/arc?nosuchoption=1"))
        XCTAssertEqual(error?.kind, .badURL)
        XCTAssertEqual(error?.exitStatus, .usage)
        XCTAssertFalse(error.map { "\($0)" }?.contains("Malformed-Secret-2") ?? true)
    }

    func testServerGoneMidSessionIsConnectionLost() throws {
        let db = try connect()
        let killer = try connect()
        let pid = try XCTUnwrap(db.execute("SELECT pg_backend_pid()").rows.first?.first ?? nil)
        try killer.execute("SELECT pg_terminate_backend($1::int)", [pid])
        let error = assertThrows(PostgresError.self, try db.execute("SELECT 1"))
        XCTAssertEqual(error?.kind, .connectionLost)
        XCTAssertEqual(error?.code, .connectionLost)
        XCTAssertEqual(error?.exitStatus, .unavailable)
        XCTAssertFalse(db.isConnected)
    }

    func testURLsAreRecognized() {
        XCTAssertTrue(PostgresConnection.isURL("postgres://h/db"))
        XCTAssertTrue(PostgresConnection.isURL("postgresql://u@h:5432/db"))
        XCTAssertFalse(PostgresConnection.isURL("/var/lib/arc/state.db"))
        XCTAssertFalse(PostgresConnection.isURL("state-postgres://x"))
    }

    /// A loopback port nothing listens on: bound, then released.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
