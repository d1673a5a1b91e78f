import XCTest
@testable import ArcCore
@testable import ArcSilver
import ArcTestSupport

/// The quality and silver ledgers share one SQLite connection, used by every worker of
/// arc-check and arc-convert: hammered from several threads at once, every row lands and
/// the file stays sound. (Two locks for one connection corrupted the shared state file
/// under a pipeline's load.)
final class SilverLedgerTests: XCTestCase {
    func testWorkersShareTheConnectionSafely() throws {
        let dir = try TempDir()
        let db = try StateStore.open(dir.path + "/state.db")
        let lock = Lock()
        let quality = QualityLedger(db, lock: lock), silver = SilverLedger(db, lock: lock)
        let identity = try ArchiveIdentity(path: "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip")
        let report = CheckReport(rows: 10, columns: 7, findings: [])
        let json = ArchiveJob.checkJSON(report)
        let perThread = 150
        let failures = Locked<[String]>([])
        let threads = (0..<4).map { t in
            WorkerThread(name: "ledger-\(t)") {
                do {
                    for n in 0..<perThread {
                        let sha = SHA256.hex(Array("\(t)-\(n)".utf8))
                        try quality.record(sha256: sha, identity: identity, report: report, json: json)
                        try silver.record(SilverLedger.Entry(dest: "/lake/\(t)/\(n).parquet", inputSHA256: sha, rows: 10,
                                                             bytes: 100, sha256: sha),
                                          inputs: "[]", identity: identity, checkStatus: .pass)
                        if try quality.report(sha256: sha) != json { failures.withLock { $0.append("\(t)-\(n): report") } }
                        if try silver.entry(dest: "/lake/\(t)/\(n).parquet")?.inputSHA256 != sha {
                            failures.withLock { $0.append("\(t)-\(n): entry") }
                        }
                    }
                } catch {
                    failures.withLock { $0.append("\(t): \(error)") }
                }
            }
        }
        threads.forEach { $0.join() }
        XCTAssertEqual(failures.current, [])
        let count = try db.statement("SELECT (SELECT count(*) FROM quality) + (SELECT count(*) FROM silver)")
        XCTAssertTrue(try count.step())
        XCTAssertEqual(count.int(0), Int64(2 * 4 * perThread))
        count.reset()
        let check = try db.statement("PRAGMA integrity_check")
        XCTAssertTrue(try check.step())
        XCTAssertEqual(check.text(0), "ok")
        check.reset()
    }
}
