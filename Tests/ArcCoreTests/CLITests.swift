import XCTest
@testable import ArcCore

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

    func testSubcommandsAndGlobalOptions() throws {
        let spec = Tool.fullSpec(DiscoverCommand.spec)
        let p = try ArgumentParser.parse(["--strict", "binance", "-m", "um", "--type", "klines", "-q"], spec: spec,
                                         environment: { _ in nil })
        XCTAssertEqual(p.path, ["arc-discover", "binance"])
        XCTAssertEqual(p.spec.name, "binance")
        XCTAssertTrue(p.flag("strict"), "an option of the outer command before the subcommand")
        XCTAssertTrue(p.flag("quiet"), "a global option after the subcommand")
        XCTAssertEqual(p.list("market"), ["um"])
        XCTAssertEqual(p.value("jobs"), "16", "the subcommand's defaults are filled")
        XCTAssertNil(p.external)
    }

    func testSubcommandOptionsAreNotValidBeforeTheSubcommand() {
        let spec = Tool.fullSpec(DiscoverCommand.spec)
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse(["--market", "um", "binance"], spec: spec,
                                                                              environment: { _ in nil }))?.message,
                       "unknown option '--market'")
    }

    func testUnknownSubcommandIsAnExternalPluginWithUntouchedArguments() throws {
        let spec = Tool.fullSpec(DiscoverCommand.spec)
        let p = try ArgumentParser.parse(["--strict", "kucoin", "--symbol", "BTC-USDT", "--", "-x"], spec: spec,
                                         environment: { _ in nil })
        XCTAssertEqual(p.external?.name, "kucoin")
        XCTAssertEqual(p.external?.arguments, ["--symbol", "BTC-USDT", "--", "-x"])
        XCTAssertTrue(p.flag("strict"))
    }

    func testMissingSubcommand() {
        let spec = Tool.fullSpec(DiscoverCommand.spec)
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse([], spec: spec, environment: { _ in nil }))?.message,
                       "missing NAME")
        XCTAssertNoThrow(try ArgumentParser.parse(["--help"], spec: spec, environment: { _ in nil }))
    }

    func testCommandWithSubcommandsOnly() {
        let spec = CommandSpec(name: "top", summary: "s", subcommands: [CommandSpec(name: "run", summary: "r")])
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse(["walk"], spec: spec, environment: { _ in nil }))?.message,
                       "unknown command 'walk'")
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse([], spec: spec, environment: { _ in nil }))?.message,
                       "missing command")
        XCTAssertEqual(try ArgumentParser.parse(["run"], spec: spec, environment: { _ in nil }).path, ["top", "run"])
    }

    func testRealToolSpecsParse() throws {
        let plan = try ArgumentParser.parse(["--dest", "./data", "-l", "{symbol}/{file}", "--force", "in.ndjson"],
                                            spec: Tool.fullSpec(PlanCommand.spec), environment: { _ in nil })
        XCTAssertEqual(plan.value("dest"), "./data")
        XCTAssertEqual(plan.value("layout"), "{symbol}/{file}")
        XCTAssertEqual(plan.positionals, ["in.ndjson"])
        let collect = try ArgumentParser.parse(["-j64", "-n"], spec: Tool.fullSpec(CollectCommand.spec), environment: { _ in nil })
        XCTAssertEqual(try collect.int("jobs", range: 1...4096), 64)
        XCTAssertTrue(collect.flag("dry-run"))
        XCTAssertEqual(try collect.duration("retry-delay"), 0.5)
        XCTAssertEqual(try collect.duration("stall-timeout"), 30)
    }

    func testEditDistance() {
        XCTAssertEqual(editDistance("", ""), 0)
        XCTAssertEqual(editDistance("abc", ""), 3)
        XCTAssertEqual(editDistance("", "abc"), 3)
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(editDistance("jobs", "jbos"), 2)
    }
}

final class HelpAndDocsTests: XCTestCase {
    func testHelpListsVisibleOptionsWithDefaultsAndEnvironment() {
        let spec = Tool.fullSpec(PlanCommand.spec)
        let help = HelpText.render(spec, path: ["arc-plan"], width: 1000)
        XCTAssertTrue(help.hasPrefix("arc-plan: turn archive records into collection tasks"))
        XCTAssertTrue(help.contains("Usage: arc-plan --dest DIR [OPTIONS] [FILE...]"))
        XCTAssertTrue(help.contains("       arc-plan --gaps [OPTIONS] [FILE...]"))
        XCTAssertTrue(help.contains("-d, --dest DIR"))
        XCTAssertTrue(help.contains("[default: {key}]"))
        XCTAssertTrue(help.contains("[env: ARC_STATE]"))
        XCTAssertTrue(help.contains("(debug, info, warn, error)"), "choices are listed")
        XCTAssertFalse(help.contains("--generate-man"), "hidden options are not shown")
        XCTAssertTrue(help.contains("  --layout '{market}/{type}/{symbol}/{interval}/{file}'"), "indented lines kept as written")
        XCTAssertTrue(help.contains("      --log-level LEVEL    lowest level of log line written to stderr (debug, info, warn, error) [default: info] [env: ARC_LOG_LEVEL]\n"))

        let narrow = HelpText.render(spec, path: ["arc-plan"], width: 80)
        XCTAssertTrue(narrow.contains("      --log-level LEVEL    lowest level of log line written to stderr (debug,\n"
                                      + "                           info, warn, error) [default: info] [env:\n"))
        for line in narrow.split(separator: "\n") where !line.hasPrefix("  arc-discover") {
            XCTAssertLessThanOrEqual(line.count, 80, "not wrapped: \(line)")
        }
    }

    func testSubcommandHelpShowsGlobalOptionsSeparately() {
        let spec = Tool.fullSpec(DiscoverCommand.spec)
        let help = HelpText.render(BinanceSource.spec, path: ["arc-discover", "binance"], inherited: spec.options)
        XCTAssertTrue(help.contains("Options:\n"))
        XCTAssertTrue(help.contains("Global options:\n"))
        XCTAssertTrue(help.contains("-m, --market MARKET"))
        let top = HelpText.render(spec, path: ["arc-discover"])
        XCTAssertTrue(top.contains("Commands:\n  binance"))
        XCTAssertTrue(top.contains("  NAME"))
    }

    func testManPageEscapesRoffAndListsExitStatuses() {
        let page = ManPage.render(Tool.fullSpec(PlanCommand.spec), version: "9.9")
        XCTAssertTrue(page.contains(".TH ARC-PLAN 1 \"\" \"arc 9.9\" \"arc manual\""))
        XCTAssertTrue(page.contains(".SH NAME\narc\\-plan \\- turn archive records"))
        XCTAssertTrue(page.contains("\\fB\\-\\-dest\\fR \\fIDIR\\fR"))
        for status in ExitStatus.standard { XCTAssertTrue(page.contains(".TP\n.B \(status.rawValue)\n"), "\(status)") }
        XCTAssertFalse(page.contains(".B 75\n"), "only wf-run can exit 75")
        XCTAssertTrue(page.contains("\\fBarc\\-discover\\fR(1)"))
        XCTAssertEqual(ManPage.escape(".dot"), "\\&.dot")
        XCTAssertEqual(ManPage.escape("a\\b-c\n'q"), "a\\eb\\-c\n\\&'q")
    }

    func testCompletionsNameEveryVisibleOption() {
        let spec = Tool.fullSpec(DiscoverCommand.spec)
        let bash = Completions.render(spec, shell: .bash)
        XCTAssertTrue(bash.contains("complete -o default -F _arc_discover arc-discover"))
        XCTAssertTrue(bash.contains("--market|-m) COMPREPLY=($(compgen -W \"spot um cm option\""))
        XCTAssertFalse(bash.contains("--generate-man"))
        XCTAssertTrue(Completions.render(spec, shell: .zsh).hasPrefix("#compdef arc-discover\n"))
        XCTAssertTrue(Completions.render(spec, shell: .fish).contains("binance"))
        XCTAssertEqual(CompletionShell.zsh.fileName(for: "arc-plan"), "_arc-plan")
        XCTAssertEqual(CompletionShell.fish.fileName(for: "arc-plan"), "arc-plan.fish")
    }

    func testStatePathPrefersTheFlag() throws {
        let p = try ArgumentParser.parse(["--state", "/x/state.db", "-d", "y"], spec: Tool.fullSpec(PlanCommand.spec),
                                         environment: { _ in nil })
        let log = Logger(tool: "t", format: .json, terminal: Terminal(fd: -1))
        let context = ToolContext(parsed: p, log: log, telemetry: .off(tool: "t", log: log))
        XCTAssertEqual(context.statePath, "/x/state.db")
    }
}
