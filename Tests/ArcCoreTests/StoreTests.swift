import XCTest
@testable import ArcCore

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
        XCTAssertEqual(d?.code, "store_error")
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
        XCTAssertEqual(e?.code, "store_error")
        XCTAssertTrue(e?.description.contains("no such table: missing") ?? false)
    }

    func testTwoConnectionsShareOneWALFile() throws {
        let path = dir.file("shared.db")
        let a = try StateStore.open(path)
        let b = try StateStore.open(path)
        XCTAssertEqual(try b.userVersion, StateStore.migrations.count)
        let ledgerA = Ledger(a), ledgerB = Ledger(b)

        try ledgerA.transaction {
            try ledgerA.recordSuccess(Ledger.Item(dest: "/d/1", url: "u1"), sha256: "h1", verified: true, attempts: 1, at: "t1")
        }
        XCTAssertEqual(try ledgerB.entry(dest: "/d/1")?.sha256, "h1", "B sees A's commit")

        try ledgerB.transaction {
            try ledgerB.recordSuccess(Ledger.Item(dest: "/d/2", url: "u2"), sha256: "h2", verified: true, attempts: 1, at: "t2")
        }
        XCTAssertEqual(try ledgerA.entry(dest: "/d/2")?.sha256, "h2", "A sees B's commit")

        // Both keep writing in turn: neither holds a stale snapshot that blocks its next write.
        try ledgerA.transaction {
            try ledgerA.recordFailure(Ledger.Item(dest: "/d/3", url: "u3"), code: "timeout", message: "m", attempts: 2, at: "t3")
        }
        try ledgerB.transaction {
            try ledgerB.recordSuccess(Ledger.Item(dest: "/d/3", url: "u3"), sha256: "h3", verified: true, attempts: 1, at: "t4")
        }
        XCTAssertEqual(try ledgerA.entry(dest: "/d/3")?.status, "ok")
    }

    func testLookupsDoNotPinAStaleSnapshot() throws {
        // Reads may share a read transaction (Ledger lookups are batched), but it must end
        // with `endLookups` and before any write: a connection left on an old snapshot misses
        // other processes' commits and cannot write after them (SQLITE_BUSY_SNAPSHOT).
        let path = dir.file("pin.db")
        let a = try StateStore.open(path)
        let b = try StateStore.open(path)
        let ledgerA = Ledger(a), ledgerB = Ledger(b)
        let catalogA = Catalog(a), catalogB = Catalog(b)
        try ledgerB.recordSuccess(Ledger.Item(dest: "/x", url: "u"), sha256: "1", verified: true, attempts: 1, at: "t")
        try catalogB.record(prefix: "p/", lastKey: "p/1", at: "t")

        XCTAssertEqual(try catalogA.lastKey(prefix: "p/"), "p/1")
        try catalogB.record(prefix: "p/", lastKey: "p/2", at: "t")
        XCTAssertEqual(try catalogA.lastKey(prefix: "p/"), "p/2", "a catalog lookup holds no snapshot")

        XCTAssertEqual(try ledgerA.entry(dest: "/x")?.sha256, "1")
        try ledgerB.recordSuccess(Ledger.Item(dest: "/x", url: "u"), sha256: "2", verified: true, attempts: 1, at: "t")
        try ledgerA.endLookups()
        XCTAssertEqual(try ledgerA.entry(dest: "/x")?.sha256, "2", "after endLookups the next lookup sees new commits")

        // B commits while A's lookups are still open; A's write must still go through.
        try ledgerB.recordSuccess(Ledger.Item(dest: "/y", url: "u"), sha256: "3", verified: true, attempts: 1, at: "t")
        try ledgerA.transaction {
            try ledgerA.recordSuccess(Ledger.Item(dest: "/z", url: "u"), sha256: "4", verified: true, attempts: 1, at: "t")
        }
        XCTAssertEqual(try ledgerA.entry(dest: "/y")?.sha256, "3")
        try catalogA.transaction { try catalogA.record(prefix: "p/", lastKey: "p/3", at: "t") }
        XCTAssertEqual(try catalogB.lastKey(prefix: "p/"), "p/3")
        XCTAssertEqual(try ledgerB.entry(dest: "/z")?.sha256, "4")
    }

    func testAWriterWaitsForTheOtherThenTimesOutAsStoreBusy() throws {
        let path = dir.file("busy.db")
        let a = try Database(path: path, busyTimeoutMillis: 50)
        try a.execute("CREATE TABLE t (x INTEGER)")
        let b = try Database(path: path, busyTimeoutMillis: 50)
        try a.execute("BEGIN IMMEDIATE")
        let e = assertThrows(StoreError.self, try b.transaction { try b.execute("INSERT INTO t VALUES (1)") })
        XCTAssertEqual(e?.code, "store_busy")
        XCTAssertEqual(e?.exitStatus, .unavailable)
        try a.execute("COMMIT")
        try b.transaction { try b.execute("INSERT INTO t VALUES (1)") }
        XCTAssertEqual(try count(a, "SELECT count(*) FROM t"), 1)
    }
}

final class LedgerTests: LedgerTestCase {
    private func item(_ dest: String = "/data/a.zip", size: Int64? = 100, etag: String? = "e1") -> Ledger.Item {
        var i = Ledger.Item(dest: dest, url: "https://x/a.zip")
        i.key = "data/a.zip"
        i.taskID = "t1"
        i.source = "binance"
        i.market = "spot"
        i.period = "daily"
        i.type = "klines"
        i.symbol = "BTCUSDT"
        i.interval = "1m"
        i.date = "2024-01-01"
        i.size = size
        i.etag = etag
        i.lastModified = "2024-01-02T00:00:00.000Z"
        return i
    }

    private func row(_ dest: String) throws -> (code: String?, message: String?, attempts: Int64, collected: String?, updated: String?) {
        let s = try db.statement("SELECT error_code, error_message, attempts, collected_at, updated_at FROM ledger WHERE dest = ?")
        s.bind(1, dest)
        XCTAssertTrue(try s.step())
        defer { s.reset() }
        return (s.text(0), s.text(1), s.int(2), s.text(3), s.text(4))
    }

    func testUnknownDestinationHasNoEntry() throws {
        XCTAssertNil(try ledger.entry(dest: "/nowhere"))
    }

    func testSuccessIsRecordedAndFound() throws {
        try ledger.transaction {
            try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 2, at: "2024-01-03T00:00:00.000Z")
        }
        XCTAssertEqual(try ledger.entry(dest: "/data/a.zip"), Ledger.Entry(status: "ok", size: 100, etag: "e1", sha256: "abc"))
        let r = try row("/data/a.zip")
        XCTAssertNil(r.code)
        XCTAssertEqual(r.attempts, 2)
        XCTAssertEqual(r.collected, "2024-01-03T00:00:00.000Z")
        XCTAssertEqual(r.updated, "2024-01-03T00:00:00.000Z")
    }

    func testFailureOfANewDestination() throws {
        try ledger.recordFailure(item(), code: "not_found", message: "HTTP 404", attempts: 1, at: "t1")
        let e = try ledger.entry(dest: "/data/a.zip")
        XCTAssertEqual(e, Ledger.Entry(status: "failed", size: nil, etag: nil, sha256: nil),
                       "nothing is held, so no size or etag is recorded")
        let r = try row("/data/a.zip")
        XCTAssertEqual(r.code, "not_found")
        XCTAssertEqual(r.message, "HTTP 404")
        XCTAssertNil(r.collected)
    }

    func testFailureAfterSuccessKeepsWhatIsHeld() throws {
        try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 1, at: "t1")
        // A republished version (new etag and size) fails to download.
        try ledger.recordFailure(item(size: 200, etag: "e2"), code: "checksum_mismatch", message: "bad", attempts: 5, at: "t2")
        XCTAssertEqual(try ledger.entry(dest: "/data/a.zip"), Ledger.Entry(status: "failed", size: 100, etag: "e1", sha256: "abc"))
        let r = try row("/data/a.zip")
        XCTAssertEqual(r.code, "checksum_mismatch")
        XCTAssertEqual(r.attempts, 5)
        XCTAssertEqual(r.collected, "t1")
        XCTAssertEqual(r.updated, "t2")
    }

    func testSuccessAfterFailureClearsTheError() throws {
        try ledger.recordFailure(item(), code: "timeout", message: "slow", attempts: 5, at: "t1")
        try ledger.recordSuccess(item(size: 200, etag: "e2"), sha256: "def", verified: false, attempts: 1, at: "t2")
        XCTAssertEqual(try ledger.entry(dest: "/data/a.zip"), Ledger.Entry(status: "ok", size: 200, etag: "e2", sha256: "def"))
        let r = try row("/data/a.zip")
        XCTAssertNil(r.code)
        XCTAssertNil(r.message)
    }

    func testLookupInsideAWriteTransactionJoinsIt() throws {
        _ = try ledger.entry(dest: "/data/a.zip") // opens a batched read
        try ledger.transaction {
            XCTAssertNil(try ledger.entry(dest: "/data/a.zip"))
            try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 1, at: "t")
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip")?.sha256, "abc")
        }
        XCTAssertEqual(try ledger.entry(dest: "/data/a.zip")?.sha256, "abc")
    }

    func testOneRowPerDestination() throws {
        try ledger.recordSuccess(item("/data/a.zip"), sha256: "a", verified: true, attempts: 1, at: "t")
        try ledger.recordSuccess(item("/data/a.zip"), sha256: "a2", verified: true, attempts: 1, at: "t")
        try ledger.recordSuccess(item("/data/b.zip"), sha256: "b", verified: true, attempts: 1, at: "t")
        let s = try db.statement("SELECT count(*) FROM ledger")
        XCTAssertTrue(try s.step())
        XCTAssertEqual(s.int(0), 2)
        s.reset()
        XCTAssertEqual(try ledger.entry(dest: "/data/a.zip")?.sha256, "a2")
    }

    func testRollbackLeavesTheLedgerUnchanged() throws {
        XCTAssertThrowsError(try ledger.transaction {
            try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 1, at: "t")
            throw Boom()
        })
        XCTAssertNil(try ledger.entry(dest: "/data/a.zip"))
    }
}

final class CatalogTests: XCTestCase {
    func testMarksOnlyMoveForward() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let catalog = Catalog(try StateStore.open(dir.file("state.db")))
        let prefix = "data/spot/daily/klines/BTCUSDT/1m/"
        XCTAssertNil(try catalog.lastKey(prefix: prefix))
        try catalog.record(prefix: prefix, lastKey: prefix + "BTCUSDT-1m-2024-01-02.zip.CHECKSUM", at: "t1")
        XCTAssertEqual(try catalog.lastKey(prefix: prefix), prefix + "BTCUSDT-1m-2024-01-02.zip.CHECKSUM")
        try catalog.record(prefix: prefix, lastKey: prefix + "BTCUSDT-1m-2024-01-01.zip.CHECKSUM", at: "t2")
        XCTAssertEqual(try catalog.lastKey(prefix: prefix), prefix + "BTCUSDT-1m-2024-01-02.zip.CHECKSUM", "never backwards")
        try catalog.transaction {
            try catalog.record(prefix: prefix, lastKey: prefix + "BTCUSDT-1m-2024-01-03.zip.CHECKSUM", at: "t3")
            try catalog.record(prefix: "other/", lastKey: "other/x", at: "t3")
        }
        XCTAssertEqual(try catalog.lastKey(prefix: prefix), prefix + "BTCUSDT-1m-2024-01-03.zip.CHECKSUM")
        XCTAssertEqual(try catalog.lastKey(prefix: "other/"), "other/x")
    }
}
