import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcWorkflow

/// The runner is confined to the thread that runs it; the test thread only puts messages
/// into its queue (a BlockingQueue, safe from any thread), as the signal thread does.
private final class RunnerOnAThread: @unchecked Sendable { // see above
    let runner: WorkflowRunner
    init(_ runner: WorkflowRunner) { self.runner = runner }
}

/// WorkflowRunner driving tiny workflows of `sh -c` steps: the concurrency bound (seen in
/// timestamps the steps write), retries with backoff, timeouts that end whole process
/// groups, a stop, continue_on_failure, and the event log against what is printed.
final class WorkflowRunnerTests: XCTestCase {
    private var dir: TempDir!
    private var log: CapturedLog!
    private var store: RunStore!
    private var threads: [WorkerThread] = []
    private var runs = 0

    override func setUp() {
        dir = TempDir("arc-runner")
        log = CapturedLog(dir)
        store = try! RunStore.open(dir.file("state.db"))
    }

    override func tearDown() {
        for t in threads { t.join() }
        threads = []
        store = nil
        dir.remove()
    }

    // MARK: helpers

    private struct Run {
        let runner: WorkflowRunner
        let row: RunStore.RunRow
        let output: CapturedOutput
    }

    /// A runner for the workflow `toml` (a file in the temporary directory), its run row
    /// in the store, its events printed to a capture.
    private func prepare(_ toml: String, grace: Double = 5) throws -> Run {
        runs += 1
        let file = dir.write("wf-\(runs).toml", toml)
        let workflow = try WorkflowLoader.parse(toml, file: file)
        let row = RunStore.RunRow(runID: "run-\(runs)", workflow: workflow.name, file: file, definition: toml, parameters: [],
                                  runDir: dir.file("runs/\(workflow.name)/run-\(runs)"), scheduledAt: nil,
                                  createdAt: WallClock.now())
        try FileSystem.makeDirectories(row.runDir)
        try store.insert(row)
        let output = CapturedOutput(dir, name: "events-\(runs).ndjson")
        let runner = WorkflowRunner(workflow: workflow, envFiles: try EnvFileValues.read(workflow), run: row, store: store,
                                    output: RunOutput(workflow: workflow.name, human: false, stream: output.stream),
                                    telemetry: .off(tool: "wf-run", log: log.logger), log: log.logger, traceFile: nil)
        runner.grace = grace
        return Run(runner: runner, row: row, output: output)
    }

    private func execute(_ toml: String) throws -> (ExitStatus, Run) {
        let run = try prepare(toml)
        return (try run.runner.execute(previous: nil), run)
    }

    private func events(_ run: Run) throws -> [RunEvent] { try store.events(run.row.runID) }

    /// `kind step` for each event, e.g. `step_started a`.
    private func trail(_ events: [RunEvent]) -> [String] {
        events.map { $0.kind.rawValue + ($0.step.map { " " + $0 } ?? "") }
    }

    private func stepDir(_ run: Run, _ step: String) -> String { run.row.runDir + "/steps/" + step }

    /// Nanosecond wall-clock stamps a step wrote, one per line.
    private func stamps(_ path: String) -> [Int64] {
        String(decoding: (try? FileSystem.read(path)) ?? [], as: UTF8.self).split(separator: "\n").compactMap { Int64($0) }
    }

    /// True while `pid` runs (not gone, not a zombie waiting to be reaped).
    private func alive(_ pid: pid_t) -> Bool {
        guard let bytes = try? FileSystem.read("/proc/\(pid)/stat") else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")"), let state = text[text.index(after: close)...].split(separator: " ").first else { return false }
        return state != "Z" && state != "X"
    }

    private func pid(in path: String) -> pid_t? {
        pid_t(String(decoding: (try? FileSystem.read(path)) ?? [], as: UTF8.self).trimmed())
    }

    // MARK: concurrency

    func testNoMoreThanConcurrencyStepsRunAtOnce() throws {
        var toml = "name = \"wide\"\nconcurrency = 2\n"
        for i in 1...5 {
            toml += """

                [[step]]
                id = "s\(i)"
                run = "date +%s%N > $WF_STEP_DIR/start; sleep 0.3; date +%s%N > $WF_STEP_DIR/end"

                """
        }
        let (status, run) = try execute(toml)
        XCTAssertEqual(status, .ok)

        // Every start and end the steps wrote; at no moment were more than two running.
        var moments: [(Int64, Int)] = []
        for i in 1...5 {
            let start = try XCTUnwrap(stamps(stepDir(run, "s\(i)") + "/start").first, "s\(i) start")
            let end = try XCTUnwrap(stamps(stepDir(run, "s\(i)") + "/end").first, "s\(i) end")
            moments += [(start, 1), (end, -1)]
        }
        var running = 0, most = 0
        for (_, change) in moments.sorted(by: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }) {
            running += change
            most = max(most, running)
        }
        XCTAssertEqual(most, 2, "at most concurrency = 2 steps at once, and two did run together")
        // The steps start in file order as slots free up.
        let started = try events(run).filter { $0.kind == .stepStarted }.map { $0.step ?? "" }
        XCTAssertEqual(started, ["s1", "s2", "s3", "s4", "s5"])
    }

    // MARK: retries

    func testAFailingStepIsRetriedWithBackoffUntilItSucceedsOrRetriesRunOut() throws {
        let (status, run) = try execute("""
            name = "retry"
            concurrency = 2

            [[step]]
            id = "flaky"
            run = "date +%s%N >> $WF_STEP_DIR/attempts; [ $WF_ATTEMPT -ge 3 ] || { echo 'not yet' >&2; exit 7; }"
            retries = 3
            retry_delay = "200ms"

            [[step]]
            id = "broken"
            run = "date +%s%N >> $WF_STEP_DIR/attempts; exit 4"
            retries = 1
            retry_delay = "10ms"
            """)
        XCTAssertEqual(status, .failures)

        let all = try events(run)
        XCTAssertEqual(trail(all.filter { $0.step == "flaky" }),
                       ["step_started flaky", "step_retrying flaky", "step_started flaky", "step_retrying flaky",
                        "step_started flaky", "step_succeeded flaky"])
        let retry = try XCTUnwrap(all.first { $0.kind == .stepRetrying && $0.step == "flaky" })
        XCTAssertEqual(retry.exitStatus, 7)
        XCTAssertEqual(retry.reason, "exit_status")
        XCTAssertEqual(retry.message?.hasPrefix("exit status 7: not yet; retry 1 of 3 in "), true, retry.message ?? "")
        XCTAssertEqual(all.filter { $0.kind == .stepStarted && $0.step == "flaky" }.map(\.attempt), [1, 2, 3])

        // Backoff: between half and all of 200 ms, then of 400 ms.
        let times = stamps(stepDir(run, "flaky") + "/attempts")
        XCTAssertEqual(times.count, 3)
        if times.count == 3 {
            XCTAssertGreaterThanOrEqual(Double(times[1] - times[0]) / 1e9, 0.1, "no backoff after attempt 1")
            XCTAssertGreaterThanOrEqual(Double(times[2] - times[1]) / 1e9, 0.2, "the backoff did not double")
        }

        XCTAssertEqual(trail(all.filter { $0.step == "broken" }),
                       ["step_started broken", "step_retrying broken", "step_started broken", "step_failed broken"])
        XCTAssertEqual(stamps(stepDir(run, "broken") + "/attempts").count, 2, "retries = 1: two attempts")
        XCTAssertEqual(all.last?.kind, .runFailed)
        XCTAssertEqual(all.last?.message, "1 step failed: broken")
    }

    // MARK: timeouts

    func testATimeoutEndsTheStepsWholeProcessGroup() throws {
        let run = try prepare("""
            name = "slow"

            [[step]]
            id = "hang"
            run = "sleep 30 & echo $! > $WF_STEP_DIR/child; sleep 30"
            timeout = "300ms"

            [[step]]
            id = "deaf"
            run = "trap '' TERM; sleep 30 & echo $! > $WF_STEP_DIR/child; wait"
            timeout = "300ms"
            """, grace: 0.5)
        let started = MonotonicClock.nanos()
        let status = try run.runner.execute(previous: nil)
        let seconds = Double(MonotonicClock.nanos() - started) / 1e9
        XCTAssertEqual(status, .failures)
        XCTAssertLessThan(seconds, 5, "timeout 0.3 s, grace 0.5 s")

        let all = try events(run)
        for step in ["hang", "deaf"] {
            let failed = try XCTUnwrap(all.first { $0.kind == .stepFailed && $0.step == step }, step)
            XCTAssertEqual(failed.reason, "timeout", step)
            XCTAssertEqual(failed.message?.hasPrefix("timed out after "), true, step)
            // The shell's background child was in its group: it is gone too.
            let child = try XCTUnwrap(pid(in: stepDir(run, step) + "/child"), step)
            waitUntil(timeout: 5, "\(step)'s background child to be gone") { !alive(child) }
        }
        let deaf = try XCTUnwrap(all.first { $0.kind == .stepFailed && $0.step == "deaf" })
        XCTAssertEqual(deaf.exitStatus, 128 + Int(SIGKILL), "SIGTERM ignored: SIGKILL after the grace period")
    }

    // MARK: stopping

    func testAStopEndsTheRunningStepsAndRecordsTheRunCancelled() throws {
        let run = try prepare("""
            name = "long"

            [[step]]
            id = "first"
            run = "echo $$ > $WF_STEP_DIR/pid; sleep 30"

            [[step]]
            id = "second"
            run = "touch $WF_STEP_DIR/ran"
            needs = "first"
            """, grace: 2)
        let result = Locked<ExitStatus?>(nil)
        let box = RunnerOnAThread(run.runner)
        threads.append(WorkerThread(name: "run") {
            let status = try? box.runner.execute(previous: nil)
            result.withLock { $0 = status }
        })
        let pidFile = stepDir(run, "first") + "/pid"
        waitUntil("the first step to start") { pid(in: pidFile) != nil }
        let shell = try XCTUnwrap(pid(in: pidFile))

        let stopped = MonotonicClock.nanos()
        run.runner.messages.put(.stop(SIGTERM)) // as the signal thread does
        waitUntil(timeout: 5, "the run to end after the stop") { result.current != nil }
        XCTAssertLessThan(Double(MonotonicClock.nanos() - stopped) / 1e9, 2, "sh dies of SIGTERM at once")
        XCTAssertEqual(result.current, .terminated)
        XCTAssertFalse(alive(shell))

        let all = try events(run)
        XCTAssertEqual(trail(all), ["run_started", "step_started first", "step_cancelled first", "run_cancelled"])
        XCTAssertEqual(all[2].reason, "signal")
        XCTAssertEqual(all[2].exitStatus, 128 + Int(SIGTERM), "the step got the signal wf-run got")
        XCTAssertEqual(all.last?.message, "stopped by SIGTERM")
        XCTAssertFalse(FileSystem.exists(stepDir(run, "second") + "/ran"), "nothing starts after a stop")
    }

    // MARK: failures

    func testAFailureWithContinueOnFailureLetsTheStepsAfterItRun() throws {
        let (status, run) = try execute("""
            name = "tolerant"

            [[step]]
            id = "optional"
            run = "echo 'no data today' >&2; exit 3"
            continue_on_failure = true

            [[step]]
            id = "after"
            run = "touch $WF_STEP_DIR/ran"
            needs = "optional"
            """)
        XCTAssertEqual(status, .ok, "a failure allowed by continue_on_failure does not fail the run")
        let all = try events(run)
        XCTAssertEqual(trail(all), ["run_started", "step_started optional", "step_failed optional",
                                    "step_started after", "step_succeeded after", "run_succeeded"])
        XCTAssertEqual(all[2].exitStatus, 3)
        XCTAssertEqual(all[2].message, "exit status 3: no data today")
        XCTAssertTrue(FileSystem.exists(stepDir(run, "after") + "/ran"))

        // Without it, the step after is skipped and the run fails.
        let (strictStatus, strict) = try execute("""
            name = "strict"

            [[step]]
            id = "required"
            run = "exit 3"

            [[step]]
            id = "after"
            run = "touch $WF_STEP_DIR/ran"
            needs = "required"
            """)
        XCTAssertEqual(strictStatus, .failures)
        let skipped = try XCTUnwrap(try events(strict).first { $0.step == "after" })
        XCTAssertEqual(skipped.kind, .stepSkipped)
        XCTAssertEqual(skipped.reason, "need_failed")
        XCTAssertFalse(FileSystem.exists(stepDir(strict, "after") + "/ran"))
    }

    // MARK: the event log

    func testEventsAreLoggedInTheOrderThingsHappenedAndPrintedAsLogged() throws {
        let (status, run) = try execute("""
            name = "chain"
            concurrency = 4

            [[step]]
            id = "a"
            run = "true"

            [[step]]
            id = "b"
            run = "true"
            needs = "a"

            [[step]]
            id = "c"
            run = "true"
            needs = "b"
            """)
        XCTAssertEqual(status, .ok)
        let logged = try events(run)
        XCTAssertEqual(trail(logged), ["run_started", "step_started a", "step_succeeded a", "step_started b",
                                       "step_succeeded b", "step_started c", "step_succeeded c", "run_succeeded"])
        XCTAssertEqual(logged.map(\.time), logged.map(\.time).sorted(), "times never go back")
        let started = logged.filter { $0.kind == .stepStarted }
        XCTAssertTrue(started.allSatisfy { ($0.pid ?? 0) > 1 }, "each start names its process group")

        // What was printed is what was logged, in the same order.
        let printed = try run.output.records()
        XCTAssertEqual(printed.map { (try? $0.string("event")) ?? "" }, logged.map(\.kind.rawValue))
        XCTAssertEqual(printed.map { (try? $0.string("step")) ?? nil }, logged.map(\.step))
        XCTAssertEqual(printed.map { (try? $0.string("ts")) ?? "" }, logged.map(\.time))
        XCTAssertTrue(printed.allSatisfy { (try? $0.string("run_id")) == run.row.runID && (try? $0.string("workflow")) == "chain" })
    }

    // MARK: env files

    /// Layers, later winning: env_file, [env], the step's env_file, the step's env. What
    /// the step wrote to stderr comes back in the failure message with the secret masked,
    /// and the cache key that used it is recorded masked.
    func testEnvFilesAreLayeredUnderEnvAndTheirValuesNeverReachTheLog() throws {
        dir.write("flow.env", "A=file\nB=file\nC=file\nD=file\nTOKEN=tok-12345\n")
        dir.write("step.env", "C=step-file\nD=step-file\n")
        let (status, run) = try execute("""
            name = "secrets"
            env_file = "flow.env"
            [env]
            B = "env"
            URL = "https://x:${TOKEN}@host"
            [[step]]
            id = "show"
            env_file = "step.env"
            env = { D = "step-env" }
            run = 'echo "$A $B $C $D $URL" > "$WF_STEP_DIR/seen"; echo "denied for $TOKEN" >&2; exit 3'
            [[step]]
            id = "cached"
            cache_key = "k-${URL}"
            run = "true"
            """)
        XCTAssertEqual(status, .failures)
        XCTAssertEqual(String(decoding: dir.read("runs/secrets/\(run.row.runID)/steps/show/seen"), as: UTF8.self),
                       "file env step-file step-env https://x:tok-12345@host\n")
        let failed = try events(run).first { $0.kind == .stepFailed }
        XCTAssertEqual(failed?.message, "exit status 3: denied for [from env_file]")
        let cached = try events(run).first { $0.kind == .stepSucceeded && $0.step == "cached" }
        XCTAssertEqual(cached?.cacheKey, "k-https://x:[from env_file]@host")
        let printed = try run.output.text()
        XCTAssertFalse(printed.contains("tok-12345"), printed)
        XCTAssertTrue(printed.contains("denied for [from env_file]"), printed)
    }
}
