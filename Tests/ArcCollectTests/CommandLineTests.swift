import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcCollect

/// The command line of arc-discover, arc-plan and arc-collect through the shared parser,
/// help, man page and completions: subcommands, plugins, global options.
final class CollectCommandLineTests: XCTestCase {
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
        let p = try ArgumentParser.parse(["--strict", "bitmex", "--symbol", "XBTUSD", "--", "-x"], spec: spec,
                                         environment: { _ in nil })
        XCTAssertEqual(p.external?.name, "bitmex")
        XCTAssertEqual(p.external?.arguments, ["--symbol", "XBTUSD", "--", "-x"])
        XCTAssertTrue(p.flag("strict"))
    }
    func testMissingSubcommand() {
        let spec = Tool.fullSpec(DiscoverCommand.spec)
        XCTAssertEqual(assertThrows(UsageError.self, try ArgumentParser.parse([], spec: spec, environment: { _ in nil }))?.message,
                       "missing NAME")
        XCTAssertNoThrow(try ArgumentParser.parse(["--help"], spec: spec, environment: { _ in nil }))
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

final class ChecksumFileTests: XCTestCase {
    private let hash = "5b9d9a7e42a3a4b02c8df5e2bd35f8ddbf4c6e5a0b5c1f0b3f2de6e8b5d0f1c2"

    private func parse(_ text: String) throws -> String { try ChecksumFile.parse(Array(text.utf8), url: "http://h/a.zip.CHECKSUM") }

    func testBinanceFormat() throws {
        XCTAssertEqual(try parse("\(hash)  BTCUSDT-1m-2024-01-01.zip"), hash)
        XCTAssertEqual(try parse("\(hash)  BTCUSDT-1m-2024-01-01.zip\n"), hash)
        XCTAssertEqual(try parse("\(hash) *BTCUSDT-1m-2024-01-01.zip\r\n"), hash)
        XCTAssertEqual(try parse(hash), hash, "the hash alone")
        XCTAssertEqual(try parse("\n \t\(hash)\tname"), hash, "leading whitespace")
    }

    func testUppercaseIsLowered() throws {
        XCTAssertEqual(try parse(hash.uppercased() + "  a.zip"), hash)
    }

    func testNotAChecksum() {
        for body in ["", "   \n", String(hash.dropLast()) + "  a.zip", hash + "0  a.zip", "g" + hash.dropFirst() + "  a.zip",
                     "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>", "md5:abc a.zip"] {
            let e = assertThrows(ChecksumFile.Invalid.self, try parse(body))
            XCTAssertEqual(e?.code, FailureCode("bad_checksum_file"), body)
            XCTAssertEqual(e?.exitStatus, .failures)
        }
    }

    func testExcerptIsShort() {
        let body = String(repeating: "<html>", count: 100)
        let e = assertThrows(ChecksumFile.Invalid.self, try parse(body))
        XCTAssertEqual(e?.excerpt.count, 80)
        XCTAssertTrue(e?.description.hasPrefix("http://h/a.zip.CHECKSUM: not a SHA-256 checksum file") ?? false)
    }
}
