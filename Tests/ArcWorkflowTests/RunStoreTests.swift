import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcWorkflow

/// The run store on both backends: each test runs on a fresh SQLite file, then again on
/// a fresh PostgreSQL database (a real server, started for this class); then the locks
/// that tell every machine sharing a PostgreSQL state that a run or a workflow is held.
final class RunStoreTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    private static let postgres = TestPostgres()
    override class func setUp() { super.setUp(); postgres.start() }
    override class func tearDown() { postgres.stop(); super.tearDown() }

    /// `body` on a fresh SQLite store, then on a fresh PostgreSQL one: the same assertions
    /// on both. (One test method per backend would need inherited tests, which XCTest on
    /// Linux does not run.)
    private func onBothBackends(_ body: (RunStore) throws -> Void) throws {
        try body(RunStore.open(dir.file("state.db")))
        try body(RunStore.open(Self.postgres.freshURL()))
    }

    private func row(_ id: String, _ workflow: String, created: String, scheduled: String? = nil,
                     parameters: [(String, String)] = []) -> RunStore.RunRow {
        RunStore.RunRow(runID: id, workflow: workflow, file: "/w/\(workflow).toml", definition: "[[step]]\n",
                        parameters: parameters, runDir: "/runs/\(workflow)/\(id)", scheduledAt: scheduled, createdAt: created)
    }

    func testRunsAndEventsRoundTrip() throws {
        try onBothBackends { store in
            let parameters = [("day", "2024-01-02"), ("q", "a \"quoted\" \\ value\nline 2 ✓"), ("empty", "")]
            try store.insert(row("r1", "daily", created: "2024-01-02T00:00:00.000Z", scheduled: "2024-01-02T00:00:00Z",
                                 parameters: parameters))
            var full = RunEvent(runID: "r1", kind: .stepFailed, time: "2024-01-02T00:00:01.500Z", step: "fetch")
            full.attempt = 2
            full.exitStatus = 137
            full.durationMillis = 1 << 40
            full.reason = "timeout"
            full.message = "killed after 1s — ✓"
            full.cacheKey = "k-2024"
            full.pid = 4242
            full.traceID = "0af7651916cd43dd8448eb211c80319c"
            full.pidStart = 1 << 40
            try store.append(RunEvent(runID: "r1", kind: .runStarted, time: "2024-01-02T00:00:00.000Z"))
            try store.append(full)
            try store.insert(row("r0", "daily", created: "2024-01-01T00:00:00.000Z"))
            try store.append(RunEvent(runID: "r0", kind: .runStarted, time: "x"))
            try store.append(RunEvent(runID: "r1", kind: .runFailed, time: "2024-01-02T00:00:02.000Z"))

            let back = try XCTUnwrap(try store.run("r1"))
            XCTAssertEqual(back.workflow, "daily")
            XCTAssertEqual(back.file, "/w/daily.toml")
            XCTAssertEqual(back.definition, "[[step]]\n")
            XCTAssertEqual(back.runDir, "/runs/daily/r1")
            XCTAssertEqual(back.scheduledAt, "2024-01-02T00:00:00Z")
            XCTAssertEqual(back.createdAt, "2024-01-02T00:00:00.000Z")
            XCTAssertEqual(back.parameters.map { "\($0.0)=\($0.1)" }, parameters.map { "\($0.0)=\($0.1)" })

            let events = try store.events("r1")
            XCTAssertEqual(events.map(\.kind), [.runStarted, .stepFailed, .runFailed])
            let e = events[1]
            XCTAssertEqual(e.runID, "r1")
            XCTAssertEqual(e.time, "2024-01-02T00:00:01.500Z")
            XCTAssertEqual(e.step, "fetch")
            XCTAssertEqual(e.attempt, 2)
            XCTAssertEqual(e.exitStatus, 137)
            XCTAssertEqual(e.durationMillis, 1 << 40)
            XCTAssertEqual(e.reason, "timeout")
            XCTAssertEqual(e.message, "killed after 1s — ✓")
            XCTAssertEqual(e.cacheKey, "k-2024")
            XCTAssertEqual(e.pid, 4242)
            XCTAssertEqual(e.traceID, "0af7651916cd43dd8448eb211c80319c")
            XCTAssertEqual(e.pidStart, 1 << 40)
            let bare = events[0]
            XCTAssertNil(bare.pidStart)
            XCTAssertTrue(bare.step == nil && bare.attempt == nil && bare.exitStatus == nil && bare.durationMillis == nil
                          && bare.reason == nil && bare.message == nil && bare.cacheKey == nil && bare.pid == nil && bare.traceID == nil)
            XCTAssertEqual(try store.events("nope").count, 0)
        }
    }

    func testFindingRuns() throws {
        try onBothBackends { store in
            try store.insert(row("abc", "daily", created: "2024-01-01T00:00:00Z", scheduled: "2024-01-01T02:00:00Z"))
            try store.insert(row("abcd", "daily", created: "2024-01-03T00:00:00Z", scheduled: "2024-01-03T02:00:00Z"))
            try store.insert(row("abd1", "daily", created: "2024-01-03T00:00:00Z"))
            try store.insert(row("xyz", "other", created: "2024-01-02T00:00:00Z"))

            let lookups: [(String, String?)] = [("abc", "abc"), ("abcd", "abcd"), ("abd", "abd1"), ("x", "xyz"),
                                                ("xyz", "xyz"), ("nope", nil), ("abcde", nil), ("b", nil)]
            for (prefix, id) in lookups {
                XCTAssertEqual(try store.run(prefix)?.runID, id, prefix)
            }
            XCTAssertNil(try store.run(""), "an empty id names no run")
            for prefix in ["ab", "a"] {
                let e = assertThrows(UsageError.self, try store.run(prefix))
                XCTAssertEqual(e?.message.contains("ambiguous"), true, prefix)
            }

            XCTAssertEqual(try store.runs(workflow: nil, limit: 10).map(\.runID), ["abd1", "abcd", "xyz", "abc"])
            XCTAssertEqual(try store.runs(workflow: "daily", limit: 2).map(\.runID), ["abd1", "abcd"])
            XCTAssertEqual(try store.runs(workflow: "other", limit: 10).map(\.runID), ["xyz"])
            XCTAssertEqual(try store.runs(workflow: "none", limit: 10).count, 0)

            XCTAssertEqual(try store.lastScheduled(workflow: "daily"), "2024-01-03T02:00:00Z")
            XCTAssertNil(try store.lastScheduled(workflow: "other"))
            XCTAssertNil(try store.lastScheduled(workflow: "none"))
        }
    }

    /// The runs a new run must look at for steps left running: those with no end after
    /// their last start or resume.
    func testUnendedRuns() throws {
        try onBothBackends { store in
            let logs: [(String, [RunEvent.Kind])] = [
                ("done", [.runStarted, .runSucceeded]), ("failed", [.runStarted, .runFailed]),
                ("killed", [.runStarted, .stepStarted]), ("resumed", [.runStarted, .runFailed, .runResumed, .stepStarted]),
                ("resumedDone", [.runStarted, .runCancelled, .runResumed, .runSucceeded]), ("empty", []),
            ]
            for (i, (id, kinds)) in logs.enumerated() {
                try store.insert(row(id, "daily", created: "2024-01-0\(i + 1)T00:00:00Z"))
                for kind in kinds { try store.append(RunEvent(runID: id, kind: kind, step: kind == .stepStarted ? "a" : nil)) }
            }
            try store.insert(row("otherKilled", "other", created: "2024-01-01T00:00:00Z"))
            try store.append(RunEvent(runID: "otherKilled", kind: .runStarted))
            XCTAssertEqual(try store.unendedRuns(workflow: "daily").map(\.runID), ["killed", "resumed", "empty"])
            XCTAssertEqual(try store.unendedRuns(workflow: "other").map(\.runID), ["otherKilled"])
        }
    }

    func testCachedRun() throws {
        try onBothBackends { store in
            try store.insert(row("r1", "daily", created: "1"))
            try store.insert(row("r2", "daily", created: "2"))
            try store.insert(row("r3", "other", created: "3"))
            func add(_ run: String, _ kind: RunEvent.Kind, _ step: String, _ key: String) throws {
                var e = RunEvent(runID: run, kind: kind, time: "t", step: step)
                e.cacheKey = key
                try store.append(e)
            }
            try add("r1", .stepSucceeded, "fetch", "k1")
            try add("r1", .stepStarted, "load", "k2")
            try add("r2", .stepFailed, "fetch", "k2")
            try add("r3", .stepSucceeded, "fetch", "k3")
            let lookups: [(String, String, String, String?)] = [
                ("daily", "fetch", "k1", "r1"), ("daily", "load", "k1", nil), ("daily", "fetch", "k2", nil),
                ("daily", "load", "k2", nil), ("daily", "fetch", "k3", nil), ("other", "fetch", "k3", "r3"),
                ("other", "fetch", "k1", nil),
            ]
            for (workflow, step, key, run) in lookups {
                XCTAssertEqual(try store.cachedRun(workflow: workflow, step: step, cacheKey: key), run, "\(workflow) \(step) \(key)")
            }
            try add("r2", .stepSucceeded, "fetch", "k1")
            XCTAssertEqual(try store.cachedRun(workflow: "daily", step: "fetch", cacheKey: "k1"), "r2", "the newest success")
        }
    }

    // MARK: - Locks

    /// Two machines (two connections, two runs directories) on one PostgreSQL state: a
    /// workflow or run lock one takes, the other sees held and cannot take; released, or
    /// its holder's connection ended (the process killed), it is free again.
    func testLocksAreSeenByEveryMachineSharingAPostgresState() throws {
        let url = try Self.postgres.freshURL()
        let a = try RunStore.open(url), b = try RunStore.open(url)
        XCTAssertTrue(a.isShared && b.isShared)
        let pathA = dir.file("a/runs/daily/.lock"), pathB = dir.file("b/runs/daily/.lock")
        let name = RunLock.workflowName("daily")
        XCTAssertFalse(try RunLock.isHeld(pathB, name: name, b))
        let held = try XCTUnwrap(try RunLock.tryAcquire(pathA, name: name, a))
        held.setOwner("1 r1")
        XCTAssertTrue(try RunLock.isHeld(pathB, name: name, b), "held on another machine, seen here")
        XCTAssertNil(try RunLock.tryAcquire(pathB, name: name, b), "and not taken here")
        XCTAssertFalse(FileLock.isHeld(pathB), "a refused lock leaves its file unheld")
        XCTAssertNil(RunLock.owner(pathB), "the owner is written on the holder's machine only")
        XCTAssertFalse(try RunLock.isHeld(pathB, name: RunLock.workflowName("other"), b), "another workflow's lock is another lock")
        XCTAssertFalse(try RunLock.isHeld(pathB, name: RunLock.runName("daily"), b), "runs and workflows are named apart")
        held.release()
        XCTAssertFalse(try RunLock.isHeld(pathB, name: name, b))

        let again = try XCTUnwrap(try RunLock.tryAcquire(pathB, name: name, b))
        XCTAssertTrue(try RunLock.isHeld(pathA, name: name, a))
        let pid = try XCTUnwrap(try b.db.rows("SELECT pg_backend_pid()", []).first?[0])
        XCTAssertEqual(try a.db.rows("SELECT pg_terminate_backend(?1)", [StateValue(pid)]), [["t"]])
        XCTAssertTrue(FileLock.isHeld(pathB), "the flock is the process's, not the connection's")
        again.file.release()
        // pg_terminate_backend signals the backend; it ends (and its locks go) a moment later.
        let giveUp = MonotonicClock.nanos() + 10_000_000_000
        while try RunLock.isHeld(pathA, name: name, a) && MonotonicClock.nanos() < giveUp { usleep(10_000) }
        XCTAssertFalse(try RunLock.isHeld(pathA, name: name, a), "the server dropped the dead connection's lock")
        _ = again
    }

    /// A SQLite state is one machine's: the lock is the file alone, and another runs
    /// directory's file is another lock.
    func testOnSQLiteTheLockIsTheFile() throws {
        let store = try RunStore.open(dir.file("state.db"))
        XCTAssertFalse(store.isShared)
        let pathA = dir.file("a/.lock"), pathB = dir.file("b/.lock")
        let held = try XCTUnwrap(try RunLock.tryAcquire(pathA, name: RunLock.runName("r"), store))
        XCTAssertTrue(try RunLock.isHeld(pathA, name: RunLock.runName("r"), store))
        XCTAssertNil(try RunLock.tryAcquire(pathA, name: RunLock.runName("r"), store))
        XCTAssertFalse(try RunLock.isHeld(pathB, name: RunLock.runName("r"), store))
        held.release()
        XCTAssertFalse(try RunLock.isHeld(pathA, name: RunLock.runName("r"), store))
    }
}
