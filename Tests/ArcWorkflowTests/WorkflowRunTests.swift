import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcWorkflow
import ArcSchedule
import ArcTOML

/// The pieces a run is made of: step environments, the event-log fold, retry backoff and
/// the workflow lock (the run store's tests are in RunStoreTests).
final class WorkflowRunTests: XCTestCase {
    private var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.remove() }

    // MARK: - StepEnvironment

    func testExpand() {
        let env = StepEnvironment(base: ["A": "one", "B_2": "two", "EMPTY": ""])
        let cases: [(String, String)] = [
            ("plain", "plain"), ("", ""),
            ("${A}", "one"), ("$A", "one"), ("x${A}y", "xoney"), ("$A$B_2", "onetwo"), ("${A}${B_2}", "onetwo"),
            ("$A.txt", "one.txt"), ("$A/b", "one/b"), ("${A}x", "onex"), ("$Ax", ""),   // $Ax is the variable Ax
            ("$UNSET|", "|"), ("${UNSET}", ""), ("[$EMPTY]", "[]"),
            ("$$", "$"), ("$$A", "$A"), ("$$$A", "$one"), ("$${A}", "${A}"),
            // Not a variable: kept as written, for sh (or the reader) to see.
            ("$", "$"), ("cost: 5$", "cost: 5$"), ("$1", "$1"), ("$1A", "$1A"), ("${1}", "${1}"), ("$-x", "$-x"),
            ("$ {A}", "$ {A}"), ("a$/b", "a$/b"), ("${", "${"), ("${A", "${A"), ("${A $A", "${A one"),
            ("${}", "${}"), ("${A B} $A", "${A B} one"), ("${A:-x}", "${A:-x}"), ("awk '{print $1}'", "awk '{print $1}'"),
            ("${A}}", "one}"), ("é$A€", "éone€"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(env.expand(text), expected, text)
        }
    }

    func testLayersSeeTheOnesBefore() {
        var env = StepEnvironment(base: ["HOME": "/home/u"])
        env.add("DATA", expanding: "${HOME}/data")
        env.add("OUT", expanding: "$DATA/out")
        env.add("HOME", expanding: "$HOME/x")     // an override sees the value it replaces
        env.add("SELF", expanding: "[$SELF]")
        env.set("RAW", "$HOME")                   // set does not expand
        XCTAssertEqual(env.values, ["HOME": "/home/u/x", "DATA": "/home/u/data", "OUT": "/home/u/data/out",
                                    "SELF": "[]", "RAW": "$HOME"])
        XCTAssertEqual(Set(env.strings), ["HOME=/home/u/x", "DATA=/home/u/data", "OUT=/home/u/data/out", "SELF=[]", "RAW=$HOME"])
        for (id, name) in [("fetch-day", "WF_DIR_FETCH_DAY"), ("a.b_c", "WF_DIR_A_B_C"), ("Step2", "WF_DIR_STEP2")] {
            XCTAssertEqual(StepEnvironment.directoryVariable(id), name)
        }
    }

    // MARK: - RunState

    private func event(_ kind: RunEvent.Kind, _ step: String? = nil, at time: String, attempt: Int? = nil,
                       exit: Int? = nil, reason: String? = nil, message: String? = nil, pid: Int? = nil) -> RunEvent {
        var e = RunEvent(runID: "r1", kind: kind, time: time, step: step)
        e.attempt = attempt
        e.exitStatus = exit
        e.reason = reason
        e.message = message
        e.pid = pid
        return e
    }

    func testFoldOfAnEventLog() {
        var events = [
            event(.runStarted, at: "t0", pid: 100),
            event(.stepStarted, "a", at: "t1", attempt: 1, pid: 201),
            event(.stepSucceeded, "a", at: "t2", exit: 0),
            event(.stepStarted, "b", at: "t1", attempt: 1, pid: 202),
            event(.stepRetrying, "b", at: "t2", exit: 1, reason: "exit", message: "boom"),
        ]
        events[0].traceID = "trace-1"
        events[2].durationMillis = 1500
        var state = RunState(runID: "r1", events: events, stepOrder: ["a", "b", "c", "d", "e", "f"])
        XCTAssertEqual(state.step("a")?.status, .succeeded)
        XCTAssertEqual(state.step("a")?.durationMillis, 1500)
        XCTAssertEqual(state.step("b")?.status, .retrying)
        XCTAssertEqual(state.step("b")?.exitStatus, 1)
        XCTAssertEqual(state.step("b")?.message, "boom")
        XCTAssertNil(state.step("b")?.processGroup)
        XCTAssertEqual(state.status(live: true), .running)
        XCTAssertEqual(state.status(live: false), .interrupted)

        for e in [event(.stepStarted, "b", at: "t3", attempt: 2, pid: 203),
                  event(.stepFailed, "b", at: "t4", exit: 2, reason: "exit", message: "bad"),
                  event(.stepSkipped, "c", at: "t2", reason: "cached", message: "r0"),
                  event(.stepSkipped, "d", at: "t4", reason: "upstream"),
                  event(.stepStarted, "e", at: "t3", pid: 205),
                  event(.stepCancelled, "e", at: "t4", reason: "signal"),
                  event(.stepSkipped, "g", at: "t4", reason: "upstream"),     // not in stepOrder: appended
                  event(.runFailed, at: "t5", message: "1 step failed")] {
            state.apply(e)
        }
        let table: [(String, RunState.StepStatus, Int, Int?, String?)] = [   // id, status, attempts, exit, cachedFrom
            ("a", .succeeded, 1, 0, nil), ("b", .failed, 2, 2, nil), ("c", .succeeded, 0, nil, "r0"),
            ("d", .skipped, 0, nil, nil), ("e", .cancelled, 1, nil, nil), ("f", .pending, 0, nil, nil),
            ("g", .skipped, 0, nil, nil),
        ]
        XCTAssertEqual(state.steps.map(\.id), table.map(\.0))
        for (id, status, attempts, exit, cachedFrom) in table {
            let s = state.step(id)
            XCTAssertEqual(s?.status, status, id)
            XCTAssertEqual(s?.attempts, attempts, id)
            XCTAssertEqual(s?.exitStatus, exit, id)
            XCTAssertEqual(s?.cachedFrom, cachedFrom, id)
        }
        XCTAssertEqual(state.step("b")?.startedAt, "t1")
        XCTAssertEqual(state.step("b")?.endedAt, "t4")
        XCTAssertEqual(state.step("b")?.reason, "exit")
        XCTAssertEqual(state.ended, .runFailed)
        XCTAssertEqual(state.endedAt, "t5")
        XCTAssertEqual(state.message, "1 step failed")
        XCTAssertEqual(state.status(live: true), .failed)

        // A resume clears the verdict; b runs a third time and succeeds.
        state.apply(event(.runResumed, at: "t6", pid: 300))
        XCTAssertNil(state.ended)
        XCTAssertNil(state.endedAt)
        XCTAssertNil(state.message)
        XCTAssertEqual(state.resumes, 1)
        XCTAssertEqual(state.startedAt, "t0")
        XCTAssertEqual(state.pid, 300)
        XCTAssertEqual(state.traceID, "trace-1", "a resume without a trace id keeps the first")
        XCTAssertEqual(state.status(live: true), .running)
        XCTAssertEqual(state.status(live: false), .interrupted)
        state.apply(event(.stepStarted, "b", at: "t7", attempt: 3, pid: 204))
        XCTAssertEqual(state.step("b")?.status, .running)
        XCTAssertEqual(state.step("b")?.processGroup, 204)
        XCTAssertNil(state.step("b")?.exitStatus)
        XCTAssertNil(state.step("b")?.endedAt)
        XCTAssertEqual(state.step("b")?.startedAt, "t1", "the first attempt's start is kept")
        state.apply(event(.stepSucceeded, "b", at: "t8", exit: 0))
        XCTAssertEqual(state.step("b")?.status, .succeeded)
        XCTAssertEqual(state.step("b")?.attempts, 3)
    }

    func testStatusForEachEnding() {
        let endings: [(RunEvent.Kind?, RunState.Status, RunState.Status)] = [
            (.runSucceeded, .succeeded, .succeeded), (.runFailed, .failed, .failed),
            (.runCancelled, .cancelled, .cancelled), (nil, .running, .interrupted),
        ]
        for (end, live, dead) in endings {
            let events = [event(.runStarted, at: "t0")] + (end.map { [event($0, at: "t1")] } ?? [])
            let state = RunState(runID: "r1", events: events, stepOrder: [])
            XCTAssertEqual(state.status(live: true), live, "\(String(describing: end))")
            XCTAssertEqual(state.status(live: false), dead, "\(String(describing: end))")
        }
    }

    /// A recorded process group is the step's while it exists with the leader that started
    /// then; a group whose leader started at another time is a reused pid, not the step.
    func testStepProcessGroupLiveness() throws {
        var options = Subprocess.Options()
        options.newProcessGroup = true
        let child = try Subprocess(executable: "/bin/sleep", arguments: ["sleep", "30"], options: options)
        let started = try XCTUnwrap(StepProcessGroup.startTime(of: child.pid))
        XCTAssertEqual(StepProcessGroup.startTime(of: child.pid), started, "the same process, the same start")
        let group = try XCTUnwrap(StepProcessGroup(id: Int(child.pid), leaderStart: started))
        XCTAssertTrue(group.isRunning)
        XCTAssertTrue(try XCTUnwrap(StepProcessGroup(id: Int(child.pid), leaderStart: nil)).isRunning, "no start recorded: the id alone")
        XCTAssertFalse(try XCTUnwrap(StepProcessGroup(id: Int(child.pid), leaderStart: started + 1)).isRunning,
                       "another process now has the pid")
        var state = RunState(runID: "r", events: [], stepOrder: [])
        var e = RunEvent(runID: "r", kind: .stepStarted, step: "nap")
        e.pid = Int(child.pid)
        e.pidStart = started
        state.apply(e)
        XCTAssertEqual(state.leftoverGroups().map(\.step), ["nap"])
        XCTAssertEqual(state.leftoverGroups().first?.group, group)
        group.stop(grace: 0.3)   // sleep is our unreaped child: a zombie until waited for, so the grace runs out
        XCTAssertEqual(child.waitForTermination(), .signaled(SIGTERM))
        XCTAssertFalse(group.isRunning)
        XCTAssertTrue(state.leftoverGroups().isEmpty)
        for id in [nil, 0, 1, -5, Int(Int32.max) + 1] { XCTAssertNil(StepProcessGroup(id: id, leaderStart: nil)) }
        XCTAssertNil(StepProcessGroup.startTime(of: child.pid), "reaped: no process")
    }

    /// The man page lists every event a run writes (the list is written by hand).
    func testEveryEventKindIsInTheManual() {
        let text = WorkflowCommand.runSpec.description
        for kind in RunEvent.Kind.allCases {
            XCTAssertTrue(text.contains(kind.rawValue), "\(kind.rawValue) is not in wf-run run's description")
        }
    }

    // MARK: - Backoff and the lock

    func testBackoffDoublesWithJitterUpToTheCap() {
        var step = Step(id: "s", run: "x")
        step.retryDelay = 2
        step.retryMaxDelay = 10
        for (retry, nominal) in [(0, 2.0), (1, 2), (2, 4), (3, 8), (4, 10), (5, 10), (40, 10), (1000, 10)] {
            let delays = (0..<300).map { _ in StepRuntime.backoff(step, retry: retry) }
            XCTAssertTrue(delays.allSatisfy { $0 >= nominal / 2 && $0 <= nominal }, "retry \(retry): \(delays.min()!)...\(delays.max()!)")
            XCTAssertLessThan(delays.min()!, nominal * 0.6, "jitter reaches down towards half (retry \(retry))")
            XCTAssertGreaterThan(delays.max()!, nominal * 0.9, "and up towards the whole (retry \(retry))")
        }
        let defaults = Step(id: "d", run: "x")
        XCTAssertTrue((1...12).allSatisfy { StepRuntime.backoff(defaults, retry: $0) <= 300 })
        XCTAssertGreaterThanOrEqual(StepRuntime.backoff(defaults, retry: 12), 150)
    }

    func testFileLock() throws {
        let path = dir.file("runs/daily/.lock")
        XCTAssertFalse(FileLock.isHeld(path))
        XCTAssertFalse(FileSystem.exists(path), "probing does not create the lock file")
        XCTAssertNil(FileLock.owner(path))
        let first = try XCTUnwrap(try FileLock.tryAcquire(path), "creates the directories and takes the lock")
        XCTAssertNil(try FileLock.tryAcquire(path), "flock is per open file: a second open in this process is refused")
        XCTAssertTrue(FileLock.isHeld(path))
        first.setOwner("12345 20240102T000000-abcd")
        XCTAssertEqual(FileLock.owner(path), "12345 20240102T000000-abcd")
        first.setOwner("7 r")
        XCTAssertEqual(FileLock.owner(path), "7 r", "a shorter owner replaces a longer one whole")
        first.release()
        first.release()
        XCTAssertFalse(FileLock.isHeld(path))
        do {
            let second = try XCTUnwrap(try FileLock.tryAcquire(path))
            XCTAssertTrue(FileLock.isHeld(path))
            _ = second
        }
        XCTAssertFalse(FileLock.isHeld(path), "dropping the lock object releases it")
    }
}
