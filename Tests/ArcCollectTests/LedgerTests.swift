import XCTest
import ArcCore
import ArcTestSupport
@testable import ArcCollect

private struct Boom: Error {}

/// A fresh state database with its ledger for each test (SQLite; `onBothBackends` runs a
/// test's body again on PostgreSQL).
class LedgerTestCase: XCTestCase {
    var dir: TempDir!
    var db: (any StateBackend)!
    var ledger: Ledger!

    override func setUpWithError() throws {
        dir = TempDir()
        db = try StateStore.open(dir.file("state.db"))
        ledger = Ledger(db)
    }

    /// Runs `body` on the fresh SQLite state, then again on a fresh PostgreSQL state from
    /// `server`: the same assertions on both backends. (A subclass per backend would be
    /// neater, but XCTest on Linux does not run inherited test methods.)
    func onBothBackends(_ server: TestPostgres, _ body: () throws -> Void) throws {
        try body()
        db = try server.freshState()
        ledger = Ledger(db)
        try body()
    }

    override func tearDown() {
        ledger = nil
        db = nil
        dir.remove()
    }
}

/// Two processes on one state: each sees the other's commits, neither blocks the other.
final class SharedStateTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    private static let postgres = TestPostgres()
    override class func setUp() { super.setUp(); postgres.start() }
    override class func tearDown() { postgres.stop(); super.tearDown() }

    /// Runs `body` with two connections to one fresh SQLite file, then to one fresh
    /// PostgreSQL database, and whether it is PostgreSQL.
    private func onBothBackends(_ name: String, _ body: (any StateBackend, any StateBackend, Bool) throws -> Void) throws {
        try body(try StateStore.openShared(dir.file(name)), try StateStore.openShared(dir.file(name)), false)
        let postgres = SharedStateTests.postgres
        try body(try postgres.freshState(), try StateStore.openShared(postgres.url()), true)
    }

    func testTwoConnectionsShareOneWALFile() throws {
        try onBothBackends("shared.db") { a, b, isPostgres in
            let version = isPostgres ? "SELECT max(version) FROM schema_version" : "PRAGMA user_version"
            let migrations = isPostgres ? StateStore.postgresMigrations : StateStore.migrations
            XCTAssertEqual(try b.rows(version, []), [[String(migrations.count)]])
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
                try ledgerA.recordFailure(Ledger.Item(dest: "/d/3", url: "u3"), code: .timeout, message: "m", attempts: 2, at: "t3")
            }
            try ledgerB.transaction {
                try ledgerB.recordSuccess(Ledger.Item(dest: "/d/3", url: "u3"), sha256: "h3", verified: true, attempts: 1, at: "t4")
            }
            XCTAssertEqual(try ledgerA.entry(dest: "/d/3")?.status, "ok")
        }
    }

    func testAnEmptyLedgerIsAskedAgainInTheNextSnapshot() throws {
        // SQLite answers lookups in an empty ledger's snapshot without a query: another
        // process's commit shows after `endLookups`, as it would have without the shortcut.
        try onBothBackends("empty.db") { a, b, isPostgres in
            let ledgerA = Ledger(a), ledgerB = Ledger(b)
            XCTAssertNil(try ledgerA.entry(dest: "/x"))
            try ledgerB.recordSuccess(Ledger.Item(dest: "/x", url: "u"), sha256: "1", verified: true, attempts: 1, at: "t")
            if !isPostgres { XCTAssertNil(try ledgerA.entry(dest: "/x"), "the same snapshot") }
            try ledgerA.endLookups()
            XCTAssertEqual(try ledgerA.entry(dest: "/x")?.sha256, "1", "a new snapshot")
        }
    }

    func testLookupsDoNotPinAStaleSnapshot() throws {
        // Reads may share a read transaction (Ledger lookups are batched), but it must end
        // with `endLookups` and before any write: a connection left on an old snapshot misses
        // other processes' commits and cannot write after them (SQLITE_BUSY_SNAPSHOT).
        try onBothBackends("pin.db") { a, b, _ in
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
    }

    /// PostgreSQL only: a connection the server dropped (here: terminated by another
    /// session) is opened again once; a lone statement is retried, and a transaction that
    /// had not committed is run again whole, so nothing it recorded is lost.
    func testALostConnectionIsOpenedAgainAndTheWorkRetried() throws {
        let postgres = SharedStateTests.postgres
        let a = try postgres.freshState(), admin = try StateStore.openShared(postgres.url())
        let ledger = Ledger(a)
        func dropA() throws {
            let pid = try XCTUnwrap(a.rows("SELECT pg_backend_pid()", []).first?[0])
            XCTAssertEqual(try admin.rows("SELECT pg_terminate_backend(?1)", [StateValue(pid)]), [["t"]])
        }
        try dropA()
        try ledger.recordSuccess(Ledger.Item(dest: "/d/1", url: "u"), sha256: "1", verified: true, attempts: 1, at: "t")
        XCTAssertEqual(try Ledger(admin).entry(dest: "/d/1")?.sha256, "1")

        var runs = 0
        try ledger.transaction {
            runs += 1
            try ledger.recordSuccess(Ledger.Item(dest: "/d/2", url: "u"), sha256: "2", verified: true, attempts: 1, at: "t")
            if runs == 1 { try dropA() }
            try ledger.recordSuccess(Ledger.Item(dest: "/d/3", url: "u"), sha256: "3", verified: true, attempts: 1, at: "t")
        }
        XCTAssertEqual(runs, 2)
        XCTAssertEqual(try Ledger(admin).entry(dest: "/d/2")?.sha256, "2")
        XCTAssertEqual(try Ledger(admin).entry(dest: "/d/3")?.sha256, "3")

        // Lost twice in a row: the second loss is the error (exit 3), not a loop.
        try dropA()
        XCTAssertThrowsError(try ledger.transaction {
            try dropA()
            try ledger.recordSuccess(Ledger.Item(dest: "/d/4", url: "u"), sha256: "4", verified: true, attempts: 1, at: "t")
        }) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .connectionLost, "\(error)")
        }
    }
}

final class LedgerTests: LedgerTestCase {
    private static let postgres = TestPostgres()
    override class func setUp() { super.setUp(); postgres.start() }
    override class func tearDown() { postgres.stop(); super.tearDown() }

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
        let rows = try db.rows("SELECT error_code, error_message, attempts, collected_at, updated_at FROM ledger WHERE dest = ?1",
                               [StateValue(dest)])
        XCTAssertEqual(rows.count, 1)
        let r = try XCTUnwrap(rows.first)
        return (r[0], r[1], Int64(r[2] ?? "") ?? -1, r[3], r[4])
    }

    func testUnknownDestinationHasNoEntry() throws {
        try onBothBackends(LedgerTests.postgres) {
            XCTAssertNil(try ledger.entry(dest: "/nowhere"))
        }
    }

    func testAnEmptyLedgerStillSeesThisConnectionsOwnWrites() throws {
        // SQLite answers lookups in an empty ledger's snapshot without a query; a write of
        // this connection inside the same read batch must end that.
        try onBothBackends(LedgerTests.postgres) {
            XCTAssertNil(try ledger.entry(dest: "/data/a.zip")) // opens a batched read on an empty ledger
            try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 1, at: "t")
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip")?.sha256, "abc")
            var dest = Array("/data/a.zip".utf8)
            XCTAssertEqual(try dest.withUnsafeMutableBufferPointer { try ledger.entry(destUTF8: UnsafeBufferPointer($0)) },
                           try ledger.entry(dest: "/data/a.zip"))
            XCTAssertNil(try ledger.entry(dest: "/data/b.zip"))
        }
    }

    func testSuccessIsRecordedAndFound() throws {
        try onBothBackends(LedgerTests.postgres) {
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
    }

    func testPrefetchReadsEntriesInOneQueryWhateverTheirNames() throws {
        try onBothBackends(LedgerTests.postgres) {
            let odd = ["/data/a \"quoted\" b.zip", "/data/back\\slash,comma{brace}.zip", "/data/ünï.zip", "/data/NULL"]
            try ledger.transaction {
                for dest in odd { try ledger.recordSuccess(item(dest), sha256: dest, verified: true, attempts: 1, at: "t") }
            }
            try ledger.prefetch(odd + ["/data/missing.zip"])
            // On PostgreSQL the entries now come from the prefetch: the table is emptied first.
            if ledger.prefetches { try db.run("DELETE FROM ledger", []) }
            for dest in odd { XCTAssertEqual(try ledger.entry(dest: dest)?.sha256, dest) }
            XCTAssertNil(try ledger.entry(dest: "/data/missing.zip"))
        }
    }

    func testManySuccessesInOneCallAreRecordedAsOneByOne() throws {
        try onBothBackends(LedgerTests.postgres) {
            var bare = item("/data/bare.zip", size: nil, etag: nil)
            bare.key = nil
            bare.interval = nil
            let odd = item("/data/\"odd\" \\ {x},y.zip", size: 7, etag: "NULL")
            try ledger.transaction { try ledger.recordFailure(odd, code: .timeout, message: "slow", attempts: 3, at: "t0") }
            try ledger.transaction {
                try ledger.recordSuccesses([
                    Ledger.Success(item("/data/a.zip"), sha256: "first", verified: false, attempts: 1),
                    Ledger.Success(bare, sha256: nil, verified: false, attempts: 2),
                    Ledger.Success(odd, sha256: "o", verified: true, attempts: 4),
                    Ledger.Success(item("/data/a.zip"), sha256: "last", verified: true, attempts: 5),
                ], at: "t1")
            }
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip"), Ledger.Entry(status: "ok", size: 100, etag: "e1", sha256: "last"))
            XCTAssertEqual(try ledger.entry(dest: "/data/bare.zip"), Ledger.Entry(status: "ok", size: nil, etag: nil, sha256: nil))
            XCTAssertEqual(try ledger.entry(dest: odd.dest), Ledger.Entry(status: "ok", size: 7, etag: "NULL", sha256: "o"))
            let r = try row(odd.dest)
            XCTAssertNil(r.code)
            XCTAssertNil(r.message)
            XCTAssertEqual(r.attempts, 4)
            XCTAssertEqual(r.collected, "t1")
            let bareRow = try db.rows("SELECT key, interval, verified, attempts FROM ledger WHERE dest = ?1", [StateValue(bare.dest)])
            XCTAssertEqual(bareRow.first, [nil, nil, "0", "2"])
        }
    }

    func testFailureOfANewDestination() throws {
        try onBothBackends(LedgerTests.postgres) {
            try ledger.recordFailure(item(), code: .notFound, message: "HTTP 404", attempts: 1, at: "t1")
            let e = try ledger.entry(dest: "/data/a.zip")
            XCTAssertEqual(e, Ledger.Entry(status: "failed", size: nil, etag: nil, sha256: nil, errorCode: "not_found"),
                           "nothing is held, so no size or etag is recorded")
            let r = try row("/data/a.zip")
            XCTAssertEqual(r.code, "not_found")
            XCTAssertEqual(r.message, "HTTP 404")
            XCTAssertNil(r.collected)
        }
    }

    func testAnEmptyArchiveKeepsItsListing() throws {
        try onBothBackends(LedgerTests.postgres) {
            // So arc-plan can tell the same empty file (not planned again) from a republished one.
            try ledger.recordFailure(item(size: 44, etag: "e9"), code: .emptyArchive, message: "empty", attempts: 1, at: "t1")
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip"),
                           Ledger.Entry(status: "failed", size: 44, etag: "e9", sha256: nil, errorCode: "empty_archive"))
        }
    }

    func testFailureAfterSuccessKeepsWhatIsHeld() throws {
        try onBothBackends(LedgerTests.postgres) {
            try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 1, at: "t1")
            // A republished version (new etag and size) fails to download.
            try ledger.recordFailure(item(size: 200, etag: "e2"), code: .checksumMismatch, message: "bad", attempts: 5, at: "t2")
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip"), Ledger.Entry(status: "failed", size: 100, etag: "e1", sha256: "abc",
                                                                                  errorCode: "checksum_mismatch"))
            let r = try row("/data/a.zip")
            XCTAssertEqual(r.code, "checksum_mismatch")
            XCTAssertEqual(r.attempts, 5)
            XCTAssertEqual(r.collected, "t1")
            XCTAssertEqual(r.updated, "t2")
        }
    }

    func testSuccessAfterFailureClearsTheError() throws {
        try onBothBackends(LedgerTests.postgres) {
            try ledger.recordFailure(item(), code: .timeout, message: "slow", attempts: 5, at: "t1")
            try ledger.recordSuccess(item(size: 200, etag: "e2"), sha256: "def", verified: false, attempts: 1, at: "t2")
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip"), Ledger.Entry(status: "ok", size: 200, etag: "e2", sha256: "def"))
            let r = try row("/data/a.zip")
            XCTAssertNil(r.code)
            XCTAssertNil(r.message)
        }
    }

    func testLookupInsideAWriteTransactionJoinsIt() throws {
        try onBothBackends(LedgerTests.postgres) {
            _ = try ledger.entry(dest: "/data/a.zip") // opens a batched read
            try ledger.transaction {
                XCTAssertNil(try ledger.entry(dest: "/data/a.zip"))
                try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 1, at: "t")
                XCTAssertEqual(try ledger.entry(dest: "/data/a.zip")?.sha256, "abc")
            }
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip")?.sha256, "abc")
        }
    }

    func testOneRowPerDestination() throws {
        try onBothBackends(LedgerTests.postgres) {
            try ledger.recordSuccess(item("/data/a.zip"), sha256: "a", verified: true, attempts: 1, at: "t")
            try ledger.recordSuccess(item("/data/a.zip"), sha256: "a2", verified: true, attempts: 1, at: "t")
            try ledger.recordSuccess(item("/data/b.zip"), sha256: "b", verified: true, attempts: 1, at: "t")
            XCTAssertEqual(try db.rows("SELECT count(*) FROM ledger", []), [["2"]])
            XCTAssertEqual(try ledger.entry(dest: "/data/a.zip")?.sha256, "a2")
        }
    }

    func testRollbackLeavesTheLedgerUnchanged() throws {
        try onBothBackends(LedgerTests.postgres) {
            XCTAssertThrowsError(try ledger.transaction {
                try ledger.recordSuccess(item(), sha256: "abc", verified: true, attempts: 1, at: "t")
                throw Boom()
            })
            XCTAssertNil(try ledger.entry(dest: "/data/a.zip"))
        }
    }
}

final class CatalogTests: LedgerTestCase {
    private static let postgres = TestPostgres()
    override class func setUp() { super.setUp(); postgres.start() }
    override class func tearDown() { postgres.stop(); super.tearDown() }

    func testMarksOnlyMoveForward() throws {
        try onBothBackends(CatalogTests.postgres) {
            let catalog = Catalog(db)
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
            // Marks compare bytewise, whatever the database's collation: "_" (0x5F) sorts after "Z".
            try catalog.record(prefix: "c/", lastKey: "c/Z", at: "t4")
            try catalog.record(prefix: "c/", lastKey: "c/_", at: "t5")
            try catalog.record(prefix: "c/", lastKey: "c/a", at: "t6")
            try catalog.record(prefix: "c/", lastKey: "c/B", at: "t7")
            XCTAssertEqual(try catalog.lastKey(prefix: "c/"), "c/a")
        }
    }
}
