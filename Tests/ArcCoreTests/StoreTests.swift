import XCTest
@testable import ArcCore
import ArcTestSupport

private struct Boom: Error {}

final class DatabaseTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    private func count(_ db: Database, _ sql: String) throws -> Int64 {
        let s = try db.statement(sql)
        XCTAssertTrue(try s.step())
        let n = s.int(0)
        s.reset()
        return n
    }

    private func tableExists(_ db: Database, _ name: String) throws -> Bool {
        let s = try db.statement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
        s.bind(1, name)
        XCTAssertTrue(try s.step())
        let n = s.int(0)
        s.reset()
        return n == 1
    }

    func testOpenCreatesDirectoriesAndUsesWAL() throws {
        let path = dir.file("a/b/state.db")
        let db = try Database(path: path)
        let s = try db.statement("PRAGMA journal_mode")
        XCTAssertTrue(try s.step())
        XCTAssertEqual(s.text(0), "wal")
        s.reset()
        XCTAssertTrue(FileSystem.exists(path))
        XCTAssertEqual(try db.userVersion, 0)
    }

    func testOpenFailuresAreUnavailable() {
        dir.write("file", "x")
        let e = assertThrows(SystemError.self, try Database(path: dir.file("file/state.db")))
        XCTAssertEqual(e?.exitStatus, .unavailable)
        let d = assertThrows(StoreError.self, try Database(path: dir.path))
        XCTAssertEqual(d?.exitStatus, .unavailable)
        XCTAssertEqual(d?.code, FailureCode("store_error"))
    }

    func testMigrationsRunOnceEachAndSetUserVersion() throws {
        let path = dir.file("state.db")
        let v1 = ["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y TEXT); INSERT INTO b VALUES ('one')"]
        do {
            let db = try Database(path: path)
            try db.migrate(v1)
            XCTAssertEqual(try db.userVersion, 2)
            try db.migrate(v1) // already applied: nothing runs again (the INSERT would duplicate)
            XCTAssertEqual(try count(db, "SELECT count(*) FROM b"), 1)
        }
        // A newer build appends a migration; only it runs.
        let db = try Database(path: path)
        try db.migrate(v1 + ["ALTER TABLE a ADD COLUMN z TEXT; INSERT INTO b VALUES ('three')"])
        XCTAssertEqual(try db.userVersion, 3)
        XCTAssertEqual(try count(db, "SELECT count(*) FROM b"), 2)
        // An older build (fewer migrations) leaves a newer database alone.
        try db.migrate(Array(v1.prefix(1)))
        XCTAssertEqual(try db.userVersion, 3)
    }

    func testFailedMigrationRollsBackAndKeepsTheVersion() throws {
        let db = try Database(path: dir.file("state.db"))
        let migrations = ["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y TEXT); THIS IS NOT SQL"]
        XCTAssertNotNil(assertThrows(StoreError.self, try db.migrate(migrations)))
        XCTAssertEqual(try db.userVersion, 1, "the first migration stays, the failed one is undone")
        XCTAssertTrue(try tableExists(db, "a"))
        XCTAssertFalse(try tableExists(db, "b"), "the part of the failed migration that ran was rolled back")
        try db.migrate(["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y TEXT)"])
        XCTAssertEqual(try db.userVersion, 2)
    }

    func testTransactionCommitsOrRollsBackOnThrow() throws {
        let db = try Database(path: dir.file("state.db"))
        try db.execute("CREATE TABLE t (x INTEGER)")
        let value = try db.transaction { () -> Int in
            try db.statement("INSERT INTO t VALUES (?)").bind(1, 1 as Int64?).run()
            return 7
        }
        XCTAssertEqual(value, 7)
        XCTAssertThrowsError(try db.transaction {
            try db.statement("INSERT INTO t VALUES (?)").bind(1, 2 as Int64?).run()
            throw Boom()
        }) { XCTAssertTrue($0 is Boom, "the body's error is rethrown as it is") }
        XCTAssertEqual(try count(db, "SELECT count(*) FROM t"), 1)
        XCTAssertEqual(try count(db, "SELECT sum(x) FROM t"), 1)
        // The connection is usable again after the rollback.
        try db.transaction { try db.execute("INSERT INTO t VALUES (3)") }
        XCTAssertEqual(try count(db, "SELECT sum(x) FROM t"), 4)
    }

    func testBindingsRoundTrip() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (s TEXT, i INTEGER, b INTEGER)")
        let insert = try db.statement("INSERT INTO t VALUES (?, ?, ?)")
        for (s, i, b) in [("日本🎉", Int64.max, true), ("", Int64.min, false)] as [(String?, Int64?, Bool?)] {
            try insert.bind(1, s).bind(2, i).bind(3, b).run()
        }
        try db.statement("INSERT INTO t VALUES (?, ?, ?)").bind(1, nil as String?).bind(2, nil as Int64?).bind(3, nil as Bool?).run()
        let select = try db.statement("SELECT s, i, b FROM t ORDER BY rowid")
        var rows: [(String?, Int64?, Int64?)] = []
        while try select.step() { rows.append((select.text(0), select.optionalInt(1), select.optionalInt(2))) }
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0].0, "日本🎉")
        XCTAssertEqual(rows[0].1, Int64.max)
        XCTAssertEqual(rows[0].2, 1)
        XCTAssertEqual(rows[1].0, "", "an empty string is not NULL")
        XCTAssertEqual(rows[1].1, Int64.min)
        XCTAssertEqual(rows[1].2, 0)
        XCTAssertNil(rows[2].0)
        XCTAssertNil(rows[2].1)
    }

    func testStatementErrorsCarryTheCode() throws {
        let db = try Database(path: ":memory:")
        let e = assertThrows(StoreError.self, try db.statement("SELECT * FROM missing"))
        XCTAssertEqual(e?.code, FailureCode("store_error"))
        XCTAssertTrue(e?.description.contains("no such table: missing") ?? false)
    }

    func testAWriterWaitsForTheOtherThenTimesOutAsStoreBusy() throws {
        let path = dir.file("busy.db")
        let a = try Database(path: path, busyTimeoutMillis: 50)
        try a.execute("CREATE TABLE t (x INTEGER)")
        let b = try Database(path: path, busyTimeoutMillis: 50)
        try a.execute("BEGIN IMMEDIATE")
        let e = assertThrows(StoreError.self, try b.transaction { try b.execute("INSERT INTO t VALUES (1)") })
        XCTAssertEqual(e?.code, FailureCode("store_busy"))
        XCTAssertEqual(e?.exitStatus, .unavailable)
        try a.execute("COMMIT")
        try b.transaction { try b.execute("INSERT INTO t VALUES (1)") }
        XCTAssertEqual(try count(a, "SELECT count(*) FROM t"), 1)
    }
}
