import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcWorkflow
import ArcSchedule
import ArcTOML

/// `WorkflowLoader`, `WorkflowGraph`, `WorkflowError` and `parseDuration`: what a workflow
/// file becomes, and every problem it can have, with its line and column.
final class WorkflowTests: XCTestCase {
    /// Every key there is, each used once. Line numbers matter below (needs positions, step lines).
    static let full = #"""
        # nightly build
        name = "nightly"
        schedule = "30 2 * * mon-fri"
        timezone = "Europe/London"
        concurrency = 3

        [env]
        DATA = "/srv/data"
        OUT = "${DATA}/out"
        N = 5
        DEBUG = true

        [params]
        day = "2024-01-02"
        limit = 10

        [[step]]
        id = "fetch"
        run = "fetch --day $day"

        [[step]]
        id = "transform"
        run = "transform"
        needs = "fetch"
        retries = 3
        retry_delay = "1h30m"
        retry_max_delay = "500ms"
        timeout = 90
        when = "always"
        continue_on_failure = true
        env = { MODE = "fast", LEVEL = 2 }
        workdir = "work/${day}"
        cache_key = "t-${day}"

        [[step]]
        id = "load"
        run = """
        load --all
        """
        needs = ["fetch", "transform"]
        timeout = 2.5
        when = "failure"

        [on_success]
        run = "notify ok"

        [on_failure]
        run = "notify failed"
        retries = 2
        timeout = "5m30s"

        [on_exit]
        run = "cleanup"
        env = { KEEP = "no" }
        workdir = "/tmp"
        """#

    private func pairs(_ p: [(String, String)]) -> [String] { p.map { $0.0 + "=" + $0.1 } }
    private func positions(_ s: Step) -> [String] { s.needPositions.map { "\($0.line):\($0.column)" } }

    func testFullFileGivesEveryField() throws {
        let w = try WorkflowLoader.parse(Self.full, file: "/etc/arc/nightly-file.toml")
        XCTAssertEqual(w.name, "nightly")
        XCTAssertEqual(w.file, "/etc/arc/nightly-file.toml")
        XCTAssertEqual(w.directory, "/etc/arc")
        XCTAssertEqual(w.text, Self.full)
        XCTAssertEqual(w.schedule?.expression, "30 2 * * mon-fri")
        XCTAssertEqual(w.timeZone.name, "Europe/London")
        XCTAssertEqual(w.concurrency, 3)
        XCTAssertEqual(pairs(w.environment), ["DATA=/srv/data", "OUT=${DATA}/out", "N=5", "DEBUG=true"],
                       "values are kept as written: expansion happens when a step runs")
        XCTAssertEqual(pairs(w.parameters), ["day=2024-01-02", "limit=10"])
        XCTAssertEqual(w.steps.map(\.id), ["fetch", "transform", "load"])

        let fetch = w.steps[0]
        XCTAssertEqual(fetch.run, "fetch --day $day")
        XCTAssertEqual(fetch.needs, [])
        XCTAssertEqual(fetch.retries, 0)
        XCTAssertEqual(fetch.retryDelay, 1)
        XCTAssertEqual(fetch.retryMaxDelay, 300)
        XCTAssertNil(fetch.timeout)
        XCTAssertEqual(fetch.when, .success)
        XCTAssertFalse(fetch.continueOnFailure)
        XCTAssertTrue(fetch.environment.isEmpty)
        XCTAssertNil(fetch.workdir)
        XCTAssertNil(fetch.cacheKey)
        XCTAssertEqual(fetch.line, 17)
        XCTAssertFalse(fetch.isHandler)

        let transform = w.steps[1]
        XCTAssertEqual(transform.needs, ["fetch"], "a single need may be a string")
        XCTAssertEqual(positions(transform), ["24:9"])
        XCTAssertEqual(transform.retries, 3)
        XCTAssertEqual(transform.retryDelay, 5400)
        XCTAssertEqual(transform.retryMaxDelay, 0.5)
        XCTAssertEqual(transform.timeout, 90)
        XCTAssertEqual(transform.when, .always)
        XCTAssertTrue(transform.continueOnFailure)
        XCTAssertEqual(pairs(transform.environment), ["MODE=fast", "LEVEL=2"])
        XCTAssertEqual(transform.workdir, "work/${day}")
        XCTAssertEqual(transform.cacheKey, "t-${day}")
        XCTAssertEqual(transform.line, 21)

        let load = w.steps[2]
        XCTAssertEqual(load.run, "load --all\n")
        XCTAssertEqual(load.needs, ["fetch", "transform"])
        XCTAssertEqual(positions(load), ["40:10", "40:19"])
        XCTAssertEqual(load.timeout, 2.5)
        XCTAssertEqual(load.when, .failure)

        XCTAssertEqual(w.handlers.map(\.id), ["on_success", "on_failure", "on_exit"])
        XCTAssertEqual(w.handlers.map(\.run), ["notify ok", "notify failed", "cleanup"])
        XCTAssertEqual(w.handlers.map(\.line), [44, 47, 52])
        XCTAssertTrue(w.handlers.allSatisfy { $0.isHandler && $0.when == .always && $0.needs.isEmpty })
        XCTAssertEqual(w.onFailure?.retries, 2)
        XCTAssertEqual(w.onFailure?.timeout, 330)
        XCTAssertEqual(pairs(w.onExit?.environment ?? []), ["KEEP=no"])
        XCTAssertEqual(w.onExit?.workdir, "/tmp")
        XCTAssertEqual(w.steps.first { $0.id == "load" }?.run, "load --all\n")
        XCTAssertEqual(w.onExit?.run, "cleanup")
    }

    func testDefaults() throws {
        let text = "[[step]]\nid = \"only\"\nrun = \"true\"\n"
        let w = try WorkflowLoader.parse(text, file: "/x/daily-update.toml")
        XCTAssertEqual(w.name, "daily-update")
        XCTAssertNil(w.schedule)
        XCTAssertEqual(w.timeZone.name, "UTC")
        XCTAssertEqual(w.concurrency, 8)
        XCTAssertTrue(w.environment.isEmpty && w.parameters.isEmpty && w.handlers.isEmpty)
        // The name is the file name without .toml: dots before it are part of the name.
        for (file, name) in [("/x/nightly.v2.toml", "nightly.v2"), ("/x/flow", "flow"), ("rel/a_b.toml", "a_b")] {
            XCTAssertEqual(try WorkflowLoader.parse(text, file: file).name, name, file)
        }
        // A name becomes a directory: a file name that is not one needs a name key.
        for file in ["/x/my flow.toml", "/x/...toml", "/x/.toml"] {
            let e = assertThrows(WorkflowError.self, try WorkflowLoader.parse(text, file: file))
            XCTAssertEqual(e?.problems.map { "\($0.line):\($0.column)" }, ["0:0"], file)
            XCTAssertEqual(e?.problems.first?.message.contains("not a usable name"), true, file)
            XCTAssertEqual(try WorkflowLoader.parse("name = \"ok\"\n" + text, file: file).name, "ok")
        }
    }

    /// One problem each: (file text, line, column, part of the message).
    static let bad: [(String, Int, Int, String)] = [
        ("name = \"a b\"\n", 1, 8, "name: use letters, digits"),
        ("timezone = \"Mars/Olympus\"\n", 1, 12, "timezone:"),
        ("schedule = \"0 25 * * *\"\n", 1, 15, "schedule:"),        // points at "25", not at the quote
        ("concurrency = 0\n", 1, 15, "concurrency: 0 is out of range"),
        ("concurrency = \"8\"\n", 1, 15, "concurrency: expected an integer, got string"),
        ("colour = 1\n", 1, 1, "unknown key 'colour' in the workflow"),
        ("[env]\n1X = \"a\"\n", 2, 1, "env: '1X' is not a variable name"),
        ("[params]\nA = [1]\n", 2, 5, "params.A: expected a string, got array"),
        ("env = \"x\"\n", 1, 7, "env: expected a table, got string"),
        ("step = 1\n", 1, 8, "step: expected [[step]] tables, got integer"),
        ("name = \"x\"\n", 0, 0, "no steps"),
        ("[[step]]\nrun = \"x\"\n", 1, 1, "step: missing id"),
        ("[[step]]\nid = \"a/b\"\nrun = \"x\"\n", 2, 6, "id: use letters"),
        ("[[step]]\nid = \"on_exit\"\nrun = \"x\"\n", 2, 6, "'on_exit' is the name of a handler"),
        ("[[step]]\nid = 7\nrun = \"x\"\n", 2, 6, "id: expected a string, got integer"),
        ("[[step]]\nid = \"a\"\n", 1, 1, "step 'a': missing run"),
        ("[[step]]\nid = \"a\"\nrun = \" \\n \"\n", 3, 7, "run: empty command line"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nretries = -1\n", 4, 11, "retries: -1 is out of range"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nretry_delay = \"5x\"\n", 4, 15, "retry_delay: expected a duration such as"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nretry_max_delay = true\n", 4, 19, "got boolean"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\ntimeout = 0\n", 4, 11, "timeout: must be more than 0"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\ntimeout = -1\n", 4, 11, "timeout: expected a duration"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nwhen = \"sometimes\"\n", 4, 8, "expected success, failure or always, got 'sometimes'"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\ncontinue_on_failure = \"yes\"\n", 4, 23, "expected true or false, got string"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nneeds = 3\n", 4, 9, "needs: expected a step id or a list"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\n[[step]]\nid = \"b\"\nrun = \"x\"\nneeds = [\"a\", 1]\n", 7, 15,
         "needs[1]: expected a step id (string), got integer"),
        ("schedule = \"0 0 30 2 *\"\n[[step]]\nid = \"a\"\nrun = \"x\"\n", 1, 17, "schedule: never fires: February has no day 30"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nneeds = [\"b\"]\n", 4, 10, "needs: unknown step 'b'"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nneeds = \"a\"\n", 4, 9, "step 'a' cannot need itself"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\n[[step]]\nid = \"b\"\nrun = \"x\"\nneeds = [\"a\", \"a\"]\n", 7, 15, "'a' is listed twice"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\n[[step]]\nid = \"a\"\nrun = \"y\"\n", 4, 1, "duplicate step id 'a' (first at line 1)"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\nretry = 1\n", 4, 1, "unknown key 'retry' in a step"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\n[on_exit]\nrun = \"y\"\nneeds = \"a\"\n", 6, 1, "unknown key 'needs' in [on_exit]"),
        ("on_exit = \"x\"\n[[step]]\nid = \"a\"\nrun = \"x\"\n", 1, 11, "on_exit: expected a [on_exit] table, got string"),
        ("[[step]]\nid = \"a\"\nrun = \"x\"\n[on_failure]\nretries = 1\n", 4, 1, "[on_failure]: missing run"),
        ("[[step]]\nid = \"a\"\nrun = \"x\n", 3, 7, "unterminated string"),  // TOML syntax: the parser's one problem
    ]

    func testEachProblemHasItsLineColumnAndMessage() {
        for (i, (text, line, column, message)) in Self.bad.enumerated() {
            let e = assertThrows(WorkflowError.self, try WorkflowLoader.parse(text, file: "w.toml"))
            guard let problems = e?.problems else { continue }
            XCTAssertEqual(problems.count, 1, "case \(i): \(problems)")
            guard let p = problems.first else { continue }
            XCTAssertEqual("\(p.line):\(p.column)", "\(line):\(column)", "case \(i): \(p.message)")
            XCTAssertTrue(p.message.contains(message), "case \(i): \(p.message)")
        }
    }

    func testAllProblemsAreReportedSortedByLine() {
        let text = """
            concurrency = 0
            [[step]]
            id = "fetch"
            run = "x"
            retries = "two"
            [[step]]
            id = "load"
            run = "y"
            needs = ["fetc", "zzzzzz"]
            when = "maybe"
            [on_exit]
            timeout = "soon"
            """
        let e = assertThrows(WorkflowError.self, try WorkflowLoader.parse(text, file: "/w/daily.toml"))
        XCTAssertEqual(e?.lines, [
            "/w/daily.toml:1:15: concurrency: 0 is out of range (1 or more)",
            "/w/daily.toml:5:11: retries: expected an integer, got string",
            "/w/daily.toml:9:10: needs: unknown step 'fetc' (did you mean 'fetch'?)",
            "/w/daily.toml:9:18: needs: unknown step 'zzzzzz'",
            "/w/daily.toml:10:8: when: expected success, failure or always, got 'maybe'",
            "/w/daily.toml:11:1: [on_exit]: missing run (the command line to run)",
            "/w/daily.toml:12:11: timeout: expected a duration such as \"30s\", \"5m\", \"1h30m\" or \"500ms\", got 'soon'",
        ])
        XCTAssertEqual(e?.description.hasSuffix("(and 6 more problems)"), true)
        XCTAssertEqual(e?.code, FailureCode("bad_workflow"))
        XCTAssertEqual(WorkflowError(file: "f", problems: [.init(line: 0, column: 0, "gone")]).lines, ["f: gone"])
        let unsorted = WorkflowError(file: "f", problems: [.init(line: 3, column: 2, "c"), .init(line: 3, column: 1, "b"),
                                                           .init(line: 1, column: 9, "a")])
        XCTAssertEqual(unsorted.problems.map(\.message), ["a", "b", "c"])
    }

    // MARK: - WorkflowGraph

    private func steps(_ spec: [(String, [String])]) -> [Step] {
        spec.map { id, needs in
            var s = Step(id: id, run: "true")
            s.needs = needs
            return s
        }
    }

    func testCycleIsReportedFromTheFirstStepOnIt() {
        let text = """
            [[step]]
            id = "a"
            run = "x"
            needs = "b"
            [[step]]
            id = "b"
            run = "x"
            needs = "c"
            [[step]]
            id = "c"
            run = "x"
            needs = "a"
            """
        let e = assertThrows(WorkflowError.self, try WorkflowLoader.parse(text, file: "c.toml"))
        XCTAssertEqual(e?.lines, ["c.toml:1:1: cycle: a -> b -> c -> a"])
        XCTAssertEqual(WorkflowGraph.cycle(steps([("x", []), ("p", ["x", "q"]), ("q", ["p"])])), ["p", "q", "p"])
        XCTAssertNil(WorkflowGraph.cycle(steps([("a", []), ("b", ["a"]), ("c", ["a", "b"])])))
    }

    func testLevels() {
        // a <- b, a <- c, (c, b) <- d <- e; f alone.
        let diamond = steps([("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["c", "b"]), ("e", ["d"]), ("f", [])])
        XCTAssertEqual(WorkflowGraph.levels(diamond), ["a": 0, "b": 1, "c": 1, "d": 2, "e": 3, "f": 0])
    }

    func testEditDistance() {
        let cases: [(String, String, Int)] = [("", "", 0), ("", "abc", 3), ("abc", "", 3), ("fetch", "fetch", 0),
                                              ("fetch", "fetc", 1), ("fetch", "ftech", 2), ("kitten", "sitting", 3),
                                              ("flaw", "lawn", 2), ("ab", "ba", 2), ("a", "b", 1)]
        for (a, b, d) in cases {
            XCTAssertEqual(editDistance(a, b), d, "\(a) / \(b)")
        }
    }

    // MARK: - parseDuration

    func testParseDuration() {
        let good: [(String, Double)] = [("1h30m", 5400), ("2d", 172_800), ("90s", 90), ("1.5h", 5400), ("500ms", 0.5),
                                        ("5m30s", 330), ("42", 42), ("0", 0), ("2.5", 2.5), ("1s500ms", 1.5),
                                        ("1d2h3m4s", 93_784)]
        for (text, seconds) in good {
            XCTAssertEqual(parseDuration(text), seconds, text)
        }
        for text in ["", "m", "30x", "1m1h", "1h1h", "500ms1s", "-5s", "-5", "1h30", "5 m", "h1", ".", "1..5s", "inf", "nan"] {
            XCTAssertNil(parseDuration(text), text)
        }
    }
}
