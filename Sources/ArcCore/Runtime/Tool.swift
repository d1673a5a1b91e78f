import Glibc

/// What every tool's `main.swift` calls: parse the command line against the spec, answer
/// --help, --version and the doc generators, set up logging, run, and exit with the
/// status DESIGN.md defines. Errors become one line on stderr.
public enum Tool {
    public static let version = ArcVersion.current

    /// Options every tool has.
    public static let commonOptions: [OptionSpec] = [
        OptionSpec("state", valueName: "PATH",
                   help: "state database (ledger, catalog, queues, runs): a SQLite file, or postgres://... for arc-discover, arc-plan, arc-collect, arc-queue, arc-check, arc-convert and wf-run [default: $XDG_STATE_HOME/arc/state.db]",
                   environment: "ARC_STATE", completion: .file),
        OptionSpec("log-level", valueName: "LEVEL", help: "lowest level of log line written to stderr",
                   choices: LogLevel.allCases.map { $0.name }, defaultValue: "info", environment: "ARC_LOG_LEVEL"),
        OptionSpec("log-format", valueName: "FORMAT",
                   help: "log format on stderr; human on a terminal, json otherwise unless set",
                   choices: LogFormat.allCases.map { $0.rawValue }, environment: "ARC_LOG_FORMAT"),
        .flag("quiet", short: "q", help: "only warnings and errors on stderr, no progress line"),
        .flag("help", short: "h", help: "print help and exit", standalone: true),
        .flag("version", short: "V", help: "print the version and exit", standalone: true),
        .flag("generate-man", help: "print the man page (roff) and exit", hidden: true, standalone: true),
        OptionSpec("generate-completion", valueName: "SHELL", help: "print a completion script and exit",
                   choices: CompletionShell.allCases.map { $0.rawValue }, hidden: true, standalone: true),
    ] + Telemetry.options

    /// The spec as users see it: the tool's own options plus the common ones.
    public static func fullSpec(_ spec: CommandSpec) -> CommandSpec {
        var full = spec
        // A tool may mean something else by a common option's name (telem-log's --trace ID
        // filters by trace): its own wins, and the common one is read from its environment.
        full.options += commonOptions.filter { common in !spec.options.contains { $0.long == common.long } }
        full.environment += Telemetry.environment.filter { e in !spec.environment.contains { $0.name == e.name } }
        return full
    }

    public static func main(_ spec: CommandSpec, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                            run: (ToolContext) throws -> ExitStatus) -> Never {
        ignoreSIGPIPE()
        let spec = fullSpec(spec)
        let log = Logger(tool: spec.name)
        StateStore.warnings.withLock { $0 = { message, fields in log.log(.warn, message, fields: fields.map { ($0.key, .string($0.value)) }) } }
        var status: Int32
        var failure: String?
        var telemetry: Telemetry?
        do {
            let parsed = try ArgumentParser.parse(arguments, spec: spec)
            if parsed.flag("help") {
                let inherited = parsed.path.count > 1 ? spec.options : []
                try BufferedOutput.stdout.write(HelpText.render(parsed.spec, path: parsed.path, inherited: inherited))
                try BufferedOutput.stdout.flush()
                exit(0)
            }
            if parsed.flag("version") {
                try BufferedOutput.stdout.write("\(spec.name) \(version)\n")
                try BufferedOutput.stdout.flush()
                exit(0)
            }
            if parsed.flag("generate-man") {
                try BufferedOutput.stdout.write(ManPage.render(spec, version: version))
                try BufferedOutput.stdout.flush()
                exit(0)
            }
            if let shell = parsed.value("generate-completion").flatMap(CompletionShell.init(rawValue:)) {
                try BufferedOutput.stdout.write(Completions.render(spec, shell: shell))
                try BufferedOutput.stdout.flush()
                exit(0)
            }
            if parsed.flag("quiet") { log.level = .warn }
            if let level = parsed.value("log-level").flatMap(LogLevel.init(name:)), parsed.explicit.contains("log-level") || !parsed.flag("quiet") {
                log.level = level
            }
            if let format = parsed.value("log-format").flatMap(LogFormat.init(rawValue:)) { log.format = format }
            telemetry = try Telemetry.start(tool: spec.name, spanName: parsed.path.joined(separator: " "),
                                            parsed: parsed,
                                            traceOption: spec.option(long: "trace")?.environment == "ARC_TRACE_FILE", log: log)
            let context = ToolContext(parsed: parsed, log: log, telemetry: telemetry!)
            status = try run(context).rawValue
            try BufferedOutput.stdout.flush()
        } catch let error as UsageError {
            log.error(error.message)
            if log.format == .human { Terminal.stderr.writeLine("Try '\(spec.name) --help' for more information.") }
            status = ExitStatus.usage.rawValue
            failure = error.message
        } catch is BrokenPipeError {
            // The reader closed our stdout (`| head`): stop quietly, as programs killed by SIGPIPE do.
            status = 128 + SIGPIPE
        } catch let error as ArcError {
            log.error(error.description, ["code": .string(error.code.rawValue)])
            status = error.exitStatus.rawValue
            failure = error.description
        } catch {
            log.error("\(error)")
            status = ExitStatus.unavailable.rawValue
            failure = "\(error)"
        }
        telemetry?.finish(status, error: failure, log: log)
        exit(status)
    }
}

/// What a running tool gets: its parsed command line, its logger and its telemetry.
public struct ToolContext {
    public let parsed: ParsedCommand
    public let log: Logger
    public let telemetry: Telemetry

    public init(parsed: ParsedCommand, log: Logger, telemetry: Telemetry) {
        self.parsed = parsed
        self.log = log
        self.telemetry = telemetry
    }

    /// Exits with any status (a wrapped command's), after ending the run's span and
    /// publishing its metrics, as returning from the tool's run does.
    public func exit(_ status: Int32, error: String? = nil) -> Never {
        try? BufferedOutput.stdout.flush()
        telemetry.finish(status, error: error, log: log)
        Glibc.exit(status)
    }

    public var quiet: Bool { parsed.flag("quiet") }

    /// The state database: `--state`, else `$ARC_STATE`, else `$XDG_STATE_HOME/arc/state.db`,
    /// else `~/.local/state/arc/state.db`.
    public var statePath: String {
        if let path = parsed.value("state") { return path }
        if let xdg = getenv("XDG_STATE_HOME").map({ String(cString: $0) }), !xdg.isEmpty {
            return xdg + "/arc/state.db"
        }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.local/state/arc/state.db"
    }
}
