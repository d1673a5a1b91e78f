import XCTest
@testable import ArcCore
import ArcTestSupport

final class ArgumentParserTests: XCTestCase {
    /// A small tool: value, list, flag and choice options, an env fallback, a default, files.
    private let spec = Tool.fullSpec(CommandSpec(
        name: "arc-test", summary: "a tool for tests",
        options: [
            OptionSpec("jobs", short: "j", valueName: "N", help: "jobs", defaultValue: "16"),
            OptionSpec("dest", short: "d", valueName: "DIR", help: "where", environment: "ARC_TEST_DEST"),
            OptionSpec("symbol", short: "s", kind: .list, valueName: "SYMBOL", help: "symbols"),
            OptionSpec("market", short: "m", kind: .list, valueName: "M", help: "markets", choices: ["spot", "um", "cm"]),
            OptionSpec("mode", valueName: "MODE", help: "mode", choices: ["fast", "slow"]),
            OptionSpec("timeout", valueName: "DURATION", help: "timeout"),
            .flag("force", short: "f", help: "force"),
            .flag("secret", help: "hidden", hidden: true),
        ],
        arguments: [ArgumentSpec("FILE", help: "files", repeating: true, optional: true)]))

    private func parse(_ args: [String], env: [String: String] = [:]) throws -> ParsedCommand {
        try ArgumentParser.parse(args, spec: spec, environment: { env[$0] })
    }

    private func usageError(_ args: [String], env: [String: String] = [:], file: StaticString = #filePath,
                            line: UInt = #line) -> String? {
        assertThrows(UsageError.self, try parse(args, env: env), file: file, line: line)?.message
    }

    func testLongOptionsWithSpaceAndEquals() throws {
        let p = try parse(["--dest", "/d", "--jobs=64", "--mode=fast"])
        XCTAssertEqual(p.value("dest"), "/d")
        XCTAssertEqual(p.value("jobs"), "64")
        XCTAssertEqual(p.value("mode"), "fast")
        XCTAssertEqual(p.explicit, ["dest", "jobs", "mode"])
    }

    func testEqualsKeepsTheRestOfTheValue() throws {
        let p = try parse(["--dest=a=b"])
        XCTAssertEqual(p.value("dest"), "a=b")
    }

    func testEmptyValuesAreUsageErrors() {
        // `--symbol "$UNSET"` must not quietly mean every symbol.
        XCTAssertEqual(usageError(["--timeout="]), "--timeout: empty value")
        XCTAssertEqual(usageError(["--dest", ""]), "--dest: empty value")
        XCTAssertEqual(usageError(["--symbol", ","]), "--symbol: empty value in ','")
        XCTAssertEqual(usageError(["--symbol", "BTCUSDT,"]), "--symbol: empty value in 'BTCUSDT,'")
    }

    func testShortOptionsAttachedSeparateAndClustered() throws {
        XCTAssertEqual(try parse(["-j64"]).value("jobs"), "64")
        XCTAssertEqual(try parse(["-j", "64"]).value("jobs"), "64")
        let clustered = try parse(["-fqj8"])
        XCTAssertTrue(clustered.flag("force"))
        XCTAssertTrue(clustered.flag("quiet"))
        XCTAssertEqual(clustered.value("jobs"), "8")
        // A value-taking short option ends the cluster: the rest is its value.
        let p = try parse(["-jf"])
        XCTAssertEqual(p.value("jobs"), "f")
        XCTAssertFalse(p.flag("force"))
    }

    func testValueMayStartWithADash() throws {
        XCTAssertEqual(try parse(["--dest", "-weird"]).value("dest"), "-weird")
        XCTAssertEqual(try parse(["-d", "--"]).value("dest"), "--")
    }

    func testLastValueWinsForSingleValueOptions() throws {
        let p = try parse(["--jobs", "1", "-j", "2", "--jobs=3"])
        XCTAssertEqual(p.value("jobs"), "3")
        XCTAssertEqual(p.values["jobs"], ["3"])
    }

    func testListOptionsAccumulateAndSplitOnCommas() throws {
        let p = try parse(["--symbol", "BTCUSDT,ETHUSDT", "-s", " BNBUSDT , ETHUSDT", "--symbol=XRPUSDT"])
        XCTAssertEqual(p.list("symbol"), ["BTCUSDT", "ETHUSDT", "BNBUSDT", "XRPUSDT"], "each once, in order")
        XCTAssertEqual(p.values["symbol"]?.count, 3)
        XCTAssertEqual(try parse([]).list("symbol"), [])
    }

    func testChoicesAreChecked() throws {
        XCTAssertEqual(try parse(["-m", "spot,um", "-m", "cm"]).list("market"), ["spot", "um", "cm"])
        XCTAssertEqual(usageError(["--market", "spot,bogus"]), "--market: 'bogus' is not one of spot, um, cm")
        XCTAssertEqual(usageError(["--mode", "medium"]), "--mode: 'medium' is not one of fast, slow")
    }

    func testPositionalsAndDash() throws {
        let p = try parse(["a.ndjson", "-", "--force", "b.ndjson"])
        XCTAssertEqual(p.positionals, ["a.ndjson", "-", "b.ndjson"])
        XCTAssertTrue(p.flag("force"))
    }

    func testDoubleDashEndsOptions() throws {
        let p = try parse(["--force", "--", "--jobs", "-f", "x"])
        XCTAssertEqual(p.positionals, ["--jobs", "-f", "x"])
        XCTAssertEqual(p.value("jobs"), "16", "the default, not a value from after --")
        XCTAssertFalse(p.explicit.contains("jobs"))
    }

    func testUnknownOptions() {
        XCTAssertEqual(usageError(["--bogus"]), "unknown option '--bogus'")
        XCTAssertEqual(usageError(["-x"]), "unknown option '-x'")
        XCTAssertEqual(usageError(["-fx"]), "unknown option '-x'")
        XCTAssertEqual(usageError(["--jbos", "2"]), "unknown option '--jbos'; did you mean '--jobs'?")
        XCTAssertEqual(usageError(["--forc"]), "unknown option '--forc'; did you mean '--force'?")
    }

    func testHiddenOptionsWorkButAreNotSuggested() throws {
        XCTAssertTrue(try parse(["--secret"]).flag("secret"))
        XCTAssertEqual(usageError(["--secrt"]), "unknown option '--secrt'")
    }

    func testMissingValue() {
        XCTAssertEqual(usageError(["--dest"]), "--dest needs a value (DIR)")
        XCTAssertEqual(usageError(["-j"]), "-j needs a value (N)")
        XCTAssertEqual(usageError(["--force", "--jobs"]), "--jobs needs a value (N)")
    }

    func testFlagsTakeNoValue() {
        XCTAssertEqual(usageError(["--force=yes"]), "--force takes no value")
    }

    func testDefaultsFillWhatIsMissing() throws {
        let p = try parse([])
        XCTAssertEqual(p.value("jobs"), "16")
        XCTAssertEqual(p.value("log-level"), "info")
        XCTAssertNil(p.value("dest"))
        XCTAssertFalse(p.flag("force"))
        XCTAssertTrue(p.explicit.isEmpty)
    }

    func testEnvironmentFallbackAndFlagsOverrideIt() throws {
        let env = ["ARC_TEST_DEST": "/from-env", "ARC_LOG_LEVEL": "debug", "ARC_STATE": "/tmp/s.db"]
        let fromEnv = try parse([], env: env)
        XCTAssertEqual(fromEnv.value("dest"), "/from-env")
        XCTAssertEqual(fromEnv.value("log-level"), "debug", "the environment wins over the default")
        XCTAssertEqual(fromEnv.value("state"), "/tmp/s.db")
        XCTAssertFalse(fromEnv.explicit.contains("dest"), "a value from the environment is not explicit")

        let fromFlag = try parse(["--dest", "/flag", "--log-level", "warn"], env: env)
        XCTAssertEqual(fromFlag.value("dest"), "/flag")
        XCTAssertEqual(fromFlag.value("log-level"), "warn")
    }

    func testEmptyEnvironmentValueIsIgnored() throws {
        let p = try parse([], env: ["ARC_LOG_LEVEL": "", "ARC_TEST_DEST": ""])
        XCTAssertEqual(p.value("log-level"), "info")
        XCTAssertNil(p.value("dest"))
    }

    func testBadEnvironmentValueNamesTheVariable() {
        XCTAssertEqual(usageError([], env: ["ARC_LOG_LEVEL": "loud"]),
                       "ARC_LOG_LEVEL: --log-level: 'loud' is not one of debug, info, warn, error")
        XCTAssertNoThrow(try parse(["--log-level", "info"], env: ["ARC_LOG_LEVEL": "loud"]),
                         "an environment variable the flag overrides is not checked")
    }

    func testIntAndDurationAccessors() throws {
        let p = try parse(["--jobs", "64", "--timeout", "500ms"])
        XCTAssertEqual(try p.int("jobs", range: 1...1024), 64)
        XCTAssertEqual(try p.duration("timeout"), 0.5)
        XCTAssertNil(try p.duration("mode"))

        let zero = try parse(["-j0"])
        XCTAssertEqual(assertThrows(UsageError.self, try zero.int("jobs", range: 1...1024))?.message,
                       "--jobs: expected an integer from 1 to 1024, got '0'")
        XCTAssertEqual(assertThrows(UsageError.self, try parse(["-jx"]).int("jobs", range: 1...Int.max))?.message,
                       "--jobs: expected an integer of at least 1, got 'x'")
        XCTAssertEqual(assertThrows(UsageError.self, try parse(["--timeout", "soon"]).duration("timeout"))?.message,
                       "--timeout: expected a duration such as 500ms, 30s or 5m, got 'soon'")
    }

    func testStandaloneHelpSkipsRequiredArgumentChecks() throws {
        let strict = Tool.fullSpec(CommandSpec(name: "t", summary: "s", options: [
            OptionSpec("mode", valueName: "M", help: "m", choices: ["a"], environment: "T_MODE"),
        ], arguments: [ArgumentSpec("SRC", help: "source"), ArgumentSpec("DST", help: "dest")]))
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse(["one"], spec: strict, environment: { _ in nil }))?.message,
                       "missing DST")
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse(["a", "b", "c"], spec: strict, environment: { _ in nil }))?.message,
                       "unexpected argument 'c'")
        for help in [["--help"], ["-h"], ["one", "--version"]] {
            XCTAssertNoThrow(try ArgumentParser.parse(help, spec: strict, environment: { _ in nil }), "\(help)")
        }
        // A bad environment value does not stop --help either.
        let p = try ArgumentParser.parse(["-h"], spec: strict, environment: { $0 == "T_MODE" ? "bogus" : nil })
        XCTAssertTrue(p.flag("help"))
        XCTAssertEqual(p.path, ["t"])
    }

    func testCommandWithSubcommandsOnly() {
        let spec = CommandSpec(name: "top", summary: "s", subcommands: [CommandSpec(name: "run", summary: "r")])
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse(["walk"], spec: spec, environment: { _ in nil }))?.message,
                       "unknown command 'walk'")
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse([], spec: spec, environment: { _ in nil }))?.message,
                       "missing command")
        XCTAssertEqual(try ArgumentParser.parse(["run"], spec: spec, environment: { _ in nil }).path, ["top", "run"])
    }

    func testEditDistance() {
        XCTAssertEqual(editDistance("", ""), 0)
        XCTAssertEqual(editDistance("abc", ""), 3)
        XCTAssertEqual(editDistance("", "abc"), 3)
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(editDistance("jobs", "jbos"), 2)
    }
}
