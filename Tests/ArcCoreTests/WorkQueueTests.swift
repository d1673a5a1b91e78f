import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport

/// The work queue against a real PostgreSQL (one server for the class), each test in a
/// queue of its own: idempotent enqueueing, claims that never overlap, leases that run out,
/// settling only by the holder, and the numbers arc-queue shows.
final class WorkQueueTests: XCTestCase {
    private static let postgres = TestPostgres()
    override class func setUp() { super.setUp(); postgres.start() }
    override class func tearDown() { postgres.stop(); super.tearDown() }

    private func url(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try WorkQueueTests.postgres.url(file: file, line: line)
    }

    private static let counter = Locked(0)

    /// A queue name no other test uses.
    private func freshName() -> String {
        let n = WorkQueueTests.counter.withLock { $0 += 1; return $0 }
        return "wq\(n)-\(getpid())-\(WallClock.nowMillis())"
    }

    /// A connection to `name` (each its own PostgreSQL session).
    private func open(_ name: String) throws -> WorkQueue { try WorkQueue.open(try url(), name: name) }

    private func tasks(_ identities: [String], tag: String = "a") -> [(identity: String, task: String)] {
        identities.map { ($0, "{\"dest\":\"\($0)\",\"tag\":\"\(tag)\"}") }
    }

    /// (state, attempts, worker, error_code) of each task by identity.
    private func rows(_ q: WorkQueue) throws -> [String: [String?]] {
        var out: [String: [String?]] = [:]
        for row in try q.state.rows("SELECT identity, state, attempts, worker, error_code, task FROM queue_tasks WHERE queue = ?1",
                                    [.text(q.name)]) {
            out[row[0]!] = Array(row.dropFirst())
        }
        return out
    }

    func testEnqueueIsIdempotentByIdentity() throws {
        let q = try open(freshName())
        var counts = try q.enqueue(tasks(["a", "b", "c"]))
        XCTAssertEqual([counts.added, counts.requeued, counts.kept], [3, 0, 0])

        // The same again, and a duplicate inside one batch: nothing new, one row each.
        counts = try q.enqueue(tasks(["a", "b", "c", "c", "d", "d"], tag: "b"))
        XCTAssertEqual([counts.added, counts.requeued, counts.kept], [1, 0, 5])
        XCTAssertEqual(try rows(q).count, 4)
        // Pending tasks are kept as they were (their record too).
        XCTAssertEqual(try rows(q)["a"]?[4], "{\"dest\":\"a\",\"tag\":\"a\"}")
        // The last of a duplicated identity inside one batch wins.
        XCTAssertEqual(try rows(q)["d"]?[4], "{\"dest\":\"d\",\"tag\":\"b\"}")

        // Claimed (leased), done and failed: leased kept, done and failed pending again.
        let claims = try q.claim(worker: "w", limit: 3, lease: 60, maxAttempts: 5)
        XCTAssertEqual(claims.count, 3)
        let byIdentity = Dictionary(uniqueKeysWithValues: try q.state.rows(
            "SELECT identity, id FROM queue_tasks WHERE queue = ?1", [.text(q.name)]).map { ($0[0]!, Int64($0[1]!)!) })
        XCTAssertEqual(Set(claims.map(\.id)), Set([byIdentity["a"]!, byIdentity["b"]!, byIdentity["c"]!]))
        try q.state.transaction {
            XCTAssertEqual(try q.complete(worker: "w", ids: [byIdentity["a"]!]), [byIdentity["a"]!])
            XCTAssertTrue(try q.fail(worker: "w", id: byIdentity["b"]!, code: "not_found", message: "HTTP 404"))
        }
        counts = try q.enqueue(tasks(["a", "b", "c", "d", "e"], tag: "c"))
        XCTAssertEqual([counts.added, counts.requeued, counts.kept], [1, 2, 2])
        let after = try rows(q)
        XCTAssertEqual(after["a"]?[0], "pending")
        XCTAssertEqual(after["a"]?[1], "0", "a requeued task starts its attempts afresh")
        XCTAssertEqual(after["a"]?[4], "{\"dest\":\"a\",\"tag\":\"c\"}", "with the new record")
        XCTAssertEqual(after["b"]?[0], "pending")
        XCTAssertNil(after["b"]?[3] ?? nil, "its old error is gone")
        XCTAssertEqual(after["c"]?[0], "leased", "a task being worked on is left to its worker")
        XCTAssertEqual(after["c"]?[2], "w")
        XCTAssertEqual(after["c"]?[4], "{\"dest\":\"c\",\"tag\":\"a\"}")
        XCTAssertEqual(after.count, 5)
    }

    func testEnqueueOfMoreThanAChunkWithDuplicatesAcrossChunks() throws {
        let q = try open(freshName())
        // 2,500 identities, each twice, spread over three INSERT chunks.
        let ids = (0..<2500).map { "k\($0)" }
        let counts = try q.enqueue(tasks(ids + ids.reversed()))
        XCTAssertEqual(counts.added, 2500)
        XCTAssertEqual(counts.added + counts.requeued + counts.kept, 5000)
        XCTAssertEqual(try q.state.rows("SELECT count(*) FROM queue_tasks WHERE queue = ?1", [.text(q.name)]), [["2500"]])
    }

    func testConcurrentClaimersNeverGetTheSameTask() throws {
        let name = freshName()
        let total = 3000
        _ = try open(name).enqueue(tasks((0..<total).map { "t\($0)" }))
        let claimed = Locked<[String: [Int64]]>([:])
        let failures = Locked<[String]>([])
        let queues = try (0..<6).map { _ in try open(name) }
        let threads = queues.enumerated().map { n, q in
            WorkerThread(name: "claimer-\(n)") {
                var mine: [Int64] = []
                do {
                    while true {
                        let got = try q.claim(worker: "w\(n)", limit: 1 + n * 7, lease: 60, maxAttempts: 5)
                        if got.isEmpty { break }
                        mine += got.map(\.id)
                        // Settle half of them at once, to mix writes with the claims.
                        if n % 2 == 0 { _ = try q.state.transaction { try q.complete(worker: "w\(n)", ids: got.map(\.id)) } }
                    }
                } catch {
                    failures.withLock { $0.append("w\(n): \(error)") }
                }
                claimed.withLock { $0["w\(n)"] = mine }
            }
        }
        threads.forEach { $0.join() }
        XCTAssertEqual(failures.current, [])
        let all = claimed.current.values.flatMap { $0 }
        XCTAssertEqual(all.count, total, "every task claimed once")
        XCTAssertEqual(Set(all).count, total, "no task claimed twice")
        XCTAssertGreaterThan(claimed.current.values.filter { !$0.isEmpty }.count, 1, "the claimers shared the work")
        XCTAssertEqual(try queues[0].state.rows(
            "SELECT count(*) FROM queue_tasks WHERE queue = ?1 AND attempts <> 1", [.text(name)]), [["0"]])
    }

    func testAnExpiredLeaseIsClaimedAgainAndTheOldHolderCanNoLongerSettle() throws {
        let name = freshName()
        let a = try open(name), b = try open(name)
        _ = try a.enqueue(tasks(["x", "y"]))
        let first = try a.claim(worker: "A", limit: 10, lease: 0.3, maxAttempts: 5)
        XCTAssertEqual(first.map(\.attempt), [1, 1])
        // While the lease holds, nobody else gets them.
        XCTAssertEqual(try b.claim(worker: "B", limit: 10, lease: 60, maxAttempts: 5).count, 0)
        XCTAssertEqual(try b.open().leased, 2)
        usleep(450_000)
        let depth = try b.state.queueDepths(name).first!
        XCTAssertEqual([depth.leased, depth.expired], [2, 2])
        let second = try b.claim(worker: "B", limit: 10, lease: 60, maxAttempts: 5)
        XCTAssertEqual(Set(second.map(\.id)), Set(first.map(\.id)))
        XCTAssertEqual(second.map(\.attempt), [2, 2])

        // A's results are dropped: it holds neither task now.
        try a.state.transaction {
            XCTAssertEqual(try a.complete(worker: "A", ids: first.map(\.id)), [])
            XCTAssertFalse(try a.fail(worker: "A", id: first[0].id, code: "not_found", message: "late"))
            XCTAssertFalse(try a.retryLater(worker: "A", id: first[1].id, delay: 1, code: "timeout", message: "late"))
            try a.release(worker: "A", ids: first.map(\.id))
        }
        // A's heartbeat renews nothing of B's.
        XCTAssertEqual(try a.heartbeat(worker: "A", lease: 60), 0)
        XCTAssertEqual(Set(try rows(a).values.map { $0[0]! + "/" + $0[2]! }), ["leased/B"])

        // B settles them, once.
        try b.state.transaction {
            XCTAssertEqual(try b.complete(worker: "B", ids: [second[0].id]), [second[0].id])
            XCTAssertTrue(try b.fail(worker: "B", id: second[1].id, code: "not_found", message: "HTTP 404"))
        }
        try b.state.transaction {
            XCTAssertEqual(try b.complete(worker: "B", ids: [second[0].id]), [], "done is done")
            XCTAssertFalse(try b.fail(worker: "B", id: second[1].id, code: "x", message: "again"))
        }
        XCTAssertEqual(Set(try rows(a).values.map { $0[0]! }), ["done", "failed"])
    }

    func testHeartbeatKeepsALeaseAlive() throws {
        let name = freshName()
        let a = try open(name), b = try open(name)
        _ = try a.enqueue(tasks(["x"]))
        XCTAssertEqual(try a.claim(worker: "A", limit: 1, lease: 0.4, maxAttempts: 5).count, 1)
        for _ in 0..<4 {
            usleep(200_000)
            XCTAssertEqual(try a.heartbeat(worker: "A", lease: 0.4), 1)
            XCTAssertEqual(try b.claim(worker: "B", limit: 1, lease: 60, maxAttempts: 5).count, 0)
        }
    }

    /// A claim made again after its reply was lost leased a batch the worker never saw:
    /// renewed only by id, those run out and go to others instead of staying leased unworked.
    func testAHeartbeatByIdLetsUnknownClaimsRunOut() throws {
        let name = freshName()
        let a = try open(name), b = try open(name)
        _ = try a.enqueue(tasks(["seen", "unseen"]))
        let lost = try a.claim(worker: "A", limit: 1, lease: 0.4, maxAttempts: 5)  // its reply "lost"
        let seen = try a.claim(worker: "A", limit: 1, lease: 0.4, maxAttempts: 5)
        XCTAssertEqual(lost.count, 1)
        XCTAssertEqual(seen.count, 1)
        for _ in 0..<3 {
            usleep(200_000)
            XCTAssertEqual(try a.heartbeat(worker: "A", lease: 0.4, ids: seen.map(\.id)), 1)
        }
        // The unseen task's lease ran out: B takes it; the seen one is still A's.
        XCTAssertEqual(try b.claim(worker: "B", limit: 5, lease: 60, maxAttempts: 5).map(\.id), lost.map(\.id))
        XCTAssertEqual(try a.heartbeat(worker: "A", lease: 60, ids: []), 0, "nothing held: only the worker's row")
    }

    /// A worker killed and started again under the same --worker (a StatefulSet's pod, a
    /// systemd unit with a fixed name) must not renew what its dead self held: it does not
    /// know those tasks, so it would hold them forever and the queue would never drain.
    func testAWorkerRestartedUnderItsNameGivesUpWhatItsDeadSelfHeld() throws {
        let name = freshName()
        let q = try open(name), other = try open(name)
        _ = try q.enqueue(tasks(["x", "y"]))
        try q.register(worker: "pod-0", host: "h", pid: 1, lease: 0.5)
        let held = try q.claim(worker: "pod-0", limit: 2, lease: 0.5, maxAttempts: 5)
        XCTAssertEqual(held.count, 2)
        // Killed (no unregister); the new process registers under the same name and beats.
        try q.register(worker: "pod-0", host: "h", pid: 2, lease: 0.5)
        let deadline = MonotonicClock.nanos() + 1_500_000_000
        var taken: [WorkQueue.Claim] = []
        while taken.isEmpty && MonotonicClock.nanos() < deadline {
            try q.heartbeat(worker: "pod-0", lease: 0.5)
            usleep(100_000)
            taken = try other.claim(worker: "pod-1", limit: 2, lease: 60, maxAttempts: 5)
        }
        XCTAssertEqual(Set(taken.map(\.id)), Set(held.map(\.id)),
                       "the dead incarnation's tasks are claimable, not renewed by its successor")
        XCTAssertEqual(taken.map(\.attempt), [2, 2], "the dead incarnation's claim counts: it may have been the task that killed it")
    }

    func testLeasesThatKeepRunningOutFailTheTaskAfterMaxAttempts() throws {
        let name = freshName()
        let q = try open(name)
        _ = try q.enqueue(tasks(["doomed"]))
        var id: Int64 = 0
        for attempt in 1...3 {
            let got = try q.claim(worker: "w\(attempt)", limit: 5, lease: 0.1, maxAttempts: 3)
            XCTAssertEqual(got.map(\.attempt), [attempt])
            id = got.first?.id ?? 0
            usleep(200_000)
        }
        // Its third lease ran out too: failed, not claimed a fourth time.
        XCTAssertEqual(try q.claim(worker: "w4", limit: 5, lease: 60, maxAttempts: 3).count, 0)
        let row = try q.state.rows("SELECT state, attempts, error_code, error_message FROM queue_tasks WHERE queue = ?1",
                                   [.text(name)])
        XCTAssertEqual(row.first?[0], "failed")
        XCTAssertEqual(row.first?[1], "3")
        XCTAssertEqual(row.first?[2], "lease_expired")
        XCTAssertTrue(row.first?[3]?.contains("w3") ?? false, "\(row)")
        XCTAssertEqual(try q.open().pending + q.open().leased, 0, "the queue is drained")
        // The last holder cannot bring it back by completing it late.
        XCTAssertEqual(try q.state.transaction { try q.complete(worker: "w3", ids: [id]) }, [])
    }

    func testReleaseGivesTasksBackWithTheAttemptUncounted() throws {
        let name = freshName()
        let q = try open(name)
        _ = try q.enqueue(tasks(["a", "b", "c"]))
        let got = try q.claim(worker: "A", limit: 3, lease: 60, maxAttempts: 1)
        XCTAssertEqual(got.count, 3)
        try q.release(worker: "A", ids: [got[0].id])
        var now = try rows(q)
        XCTAssertEqual(now.values.filter { $0[0] == "pending" }.count, 1)
        XCTAssertEqual(now.values.filter { $0[0] == "pending" }.first?[1], "0")
        // Released at once, claimable at once, and with max attempts 1 still claimable:
        // a worker stopping did not use up the task's attempt.
        let again = try q.claim(worker: "B", limit: 3, lease: 60, maxAttempts: 1)
        XCTAssertEqual(again.map(\.id), [got[0].id])
        XCTAssertEqual(again.map(\.attempt), [1])
        // Unregistering releases everything the worker holds.
        try q.register(worker: "A", host: "h", pid: 1, lease: 60)
        try q.unregister(worker: "A")
        now = try rows(q)
        XCTAssertEqual(now.values.filter { $0[0] == "pending" }.count, 2)
        XCTAssertEqual(Set(now.values.filter { $0[0] == "pending" }.map { $0[1] }), ["0"])
        XCTAssertEqual(now.values.filter { $0[0] == "leased" }.map { $0[2] }, ["B"])
    }

    func testRetryLaterWaitsOutItsDelayAndRetryFailedRequeues() throws {
        let name = freshName()
        let q = try open(name)
        _ = try q.enqueue(tasks(["a", "b"]))
        let got = try q.claim(worker: "A", limit: 2, lease: 60, maxAttempts: 5)
        XCTAssertTrue(try q.retryLater(worker: "A", id: got[0].id, delay: 0.4, code: "server_error", message: "HTTP 503"))
        XCTAssertTrue(try q.fail(worker: "A", id: got[1].id, code: "not_found", message: "HTTP 404"))
        XCTAssertEqual(try q.state.queueDepths(name).first?.waiting, 1)
        XCTAssertEqual(try q.claim(worker: "B", limit: 5, lease: 60, maxAttempts: 5).count, 0, "waiting out its backoff")
        usleep(500_000)
        let later = try q.claim(worker: "B", limit: 5, lease: 60, maxAttempts: 5)
        XCTAssertEqual(later.map(\.id), [got[0].id])
        XCTAssertEqual(later.map(\.attempt), [2], "a failure for now counts as an attempt")
        XCTAssertEqual(try q.retryFailed(), 1)
        let retried = try q.claim(worker: "C", limit: 5, lease: 60, maxAttempts: 5)
        XCTAssertEqual(retried.map(\.id), [got[1].id])
        XCTAssertEqual(retried.map(\.attempt), [1], "retry resets the attempts")
    }

    func testDepthsAndWorkersCountWhatIsThere() throws {
        let name = freshName(), other = freshName()
        let q = try open(name)
        _ = try open(other).enqueue(tasks(["elsewhere"]))
        _ = try q.enqueue(tasks((1...8).map { "t\($0)" }))
        try q.register(worker: "alive", host: "h1", pid: 11, lease: 60)
        try q.register(worker: "stale", host: "h2", pid: 22, lease: 0.2)
        try q.register(worker: "gone", host: "h3", pid: 33, lease: 60)
        let held = try q.claim(worker: "alive", limit: 4, lease: 60, maxAttempts: 5)
        let lapsed = try q.claim(worker: "stale", limit: 1, lease: 0.2, maxAttempts: 5)
        try q.unregister(worker: "gone")
        try q.state.transaction {
            XCTAssertEqual(try q.complete(worker: "alive", ids: [held[0].id, held[1].id]).count, 2)
            XCTAssertTrue(try q.fail(worker: "alive", id: held[2].id, code: "not_found", message: "HTTP 404"))
            XCTAssertTrue(try q.retryLater(worker: "alive", id: held[3].id, delay: 60, code: "timeout", message: "slow"))
        }
        XCTAssertEqual(lapsed.count, 1)
        usleep(300_000)
        // 8 tasks: 2 done, 1 failed, 1 leased (expired), 4 pending of which 1 waiting.
        let depth = try q.state.queueDepths(name)
        XCTAssertEqual(depth.count, 1)
        var expected = QueueDepth(queue: name)
        (expected.pending, expected.waiting, expected.leased, expected.expired, expected.done, expected.failed) = (4, 1, 1, 1, 2, 1)
        expected.workers = 1
        XCTAssertEqual(depth.first, expected)
        // Every queue, sorted by name, this one and the other among them.
        let all = try q.state.queueDepths().map(\.queue)
        XCTAssertEqual(all, all.sorted())
        XCTAssertTrue(all.contains(name) && all.contains(other))
        XCTAssertEqual(try q.state.queueDepths("no-such-queue"), [QueueDepth(queue: "no-such-queue")])

        let workers = Dictionary(uniqueKeysWithValues: try q.state.queueWorkers(name).map { ($0.worker, $0) })
        XCTAssertEqual(Set(workers.keys), ["alive", "stale", "gone"])
        XCTAssertEqual(workers["alive"].map { [$0.leased, $0.claimed, $0.done, $0.failed] }, [0, 4, 2, 1])
        XCTAssertEqual(workers["alive"]?.alive, true)
        XCTAssertEqual(workers["alive"]?.pid, 11)
        XCTAssertEqual(workers["alive"]?.host, "h1")
        XCTAssertNil(workers["alive"]?.stoppedAt)
        XCTAssertEqual(workers["stale"].map { [$0.leased, $0.claimed] }, [1, 1])
        XCTAssertEqual(workers["stale"]?.alive, false, "silent longer than its lease")
        XCTAssertEqual(workers["gone"]?.alive, false)
        XCTAssertNotNil(workers["gone"]?.stoppedAt)
        // A worker registering again under its name is alive again.
        try q.register(worker: "gone", host: "h3", pid: 34, lease: 60)
        XCTAssertEqual(try q.state.queueWorkers(name).first { $0.worker == "gone" }?.alive, true)
        XCTAssertEqual(try q.state.queueDepths(name).first?.workers, 2)
    }

    func testQueueNamesAreChecked() throws {
        for bad in ["", "a b", "a/b", "ü", String(repeating: "x", count: 65), "a;DROP"] {
            XCTAssertThrowsError(try WorkQueue.check(name: bad), bad)
        }
        for good in ["a", "binance-um_1.x", String(repeating: "x", count: 64)] {
            XCTAssertNoThrow(try WorkQueue.check(name: good), good)
        }
    }
}
