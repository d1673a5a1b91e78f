import Glibc

/// The result of parsing a command line against a `CommandSpec`.
public struct ParsedCommand: Sendable {
    /// The command and any subcommand chosen, e.g. `["arc-discover", "binance"]`.
    public var path: [String]
    /// The spec of the innermost command chosen.
    public var spec: CommandSpec
    /// Values by long option name, in the order given; flags hold "true".
    public var values: [String: [String]] = [:]
    /// Options that were given on the command line (not from the environment or defaults).
    public var explicit: Set<String> = []
    public var positionals: [String] = []
    /// An unknown subcommand (a plugin name) and every argument after it, untouched.
    public var external: (name: String, arguments: [String])?
    /// Every option valid where parsing ended: the chosen commands' own and their parents'.
    public var declared: Set<String> = []

    public init(path: [String], spec: CommandSpec) {
        self.path = path
        self.spec = spec
    }

    /// Whether the command chosen has option `name`: for code shared by several commands
    /// (s3x's cp and sync) that reads an option only some of them have.
    public func declares(_ name: String) -> Bool { declared.contains(name) }

    public func flag(_ name: String) -> Bool { read(name) != nil }

    public func value(_ name: String) -> String? { read(name)?.last }

    /// Reading an option no spec declares is a mistake in the tool, not in its input: with
    /// no such option, a typo would read as "not given" for ever. Debug builds (unit and
    /// tool tests) stop on it; release builds answer as for an absent option.
    private func read(_ name: String) -> [String]? {
        assert(declared.contains(name), "\(path.joined(separator: " ")) reads --\(name), which its spec does not declare")
        return values[name]
    }

    /// Tables for a person, records for a pipe: true when stdout is a terminal and --json
    /// was not given.
    public var wantsTable: Bool { !flag("json") && BufferedOutput.stdout.isTerminal }

    /// All values of a list option, comma-separated values split, each once, in order.
    public func list(_ name: String) -> [String] {
        var seen = Set<String>()
        return (read(name) ?? []).flatMap { $0.split(separator: ",").map { $0.trimmed() } }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    public func int(_ name: String, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            let bounds = range.upperBound == Int.max ? "an integer of at least \(range.lowerBound)"
                : "an integer from \(range.lowerBound) to \(range.upperBound)"
            throw UsageError("--\(name): expected \(bounds), got '\(text)'")
        }
        return v
    }

    /// A request rate (`--rate`): requests a second, above 0.
    public func rate(_ name: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let v = Double(text), v > 0, v.isFinite else {
            throw UsageError("--\(name): expected requests a second above 0, got '\(text)'")
        }
        return v
    }

    /// A duration such as `500ms`, `30s`, `5m`, in seconds.
    public func duration(_ name: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let v = parseDuration(text) else {
            throw UsageError("--\(name): expected a duration such as 500ms, 30s or 5m, got '\(text)'")
        }
        return v
    }
}

public enum ArgumentParser {
    /// Parses `arguments` (without the program name). Standalone options (`--help`,
    /// `--version`) are left in `values` for the caller to act on, and win over missing arguments.
    public static func parse(_ arguments: [String], spec root: CommandSpec,
                             environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) throws -> ParsedCommand {
        var parsed = ParsedCommand(path: [root.name], spec: root)
        // Options of outer commands stay valid inside subcommands (global options).
        var scope = root.options
        var spec = root
        var i = 0
        var onlyPositionals = false

        func take(_ option: OptionSpec, _ value: String?, _ arg: String) throws {
            parsed.explicit.insert(option.long)
            guard option.takesValue else {
                if value != nil { throw UsageError("--\(option.long) takes no value") }
                parsed.values[option.long] = ["true"]
                return
            }
            var v = value
            if v == nil {
                i += 1
                guard i < arguments.count else { throw UsageError("\(arg) needs a value (\(option.valueName))") }
                v = arguments[i]
            }
            try check(option, v!)
            if option.kind == .list {
                parsed.values[option.long, default: []].append(v!)
            } else {
                parsed.values[option.long] = [v!]
            }
        }

        while i < arguments.count {
            let arg = arguments[i]
            if onlyPositionals || arg == "-" || !arg.hasPrefix("-") {
                if parsed.positionals.isEmpty && !onlyPositionals, !spec.subcommands.isEmpty || spec.externalSubcommand != nil {
                    if let sub = spec.subcommand(arg) {
                        spec = sub
                        scope += sub.options
                        parsed.path.append(sub.name)
                        parsed.spec = sub
                        i += 1
                        continue
                    }
                    if spec.externalSubcommand != nil {
                        parsed.external = (arg, Array(arguments[(i + 1)...]))
                        break
                    }
                    // A command with arguments of its own besides subcommands (telem-log
                    // FILE...) takes a first word that names no subcommand as its argument.
                    if spec.arguments.isEmpty { throw UsageError("unknown command '\(arg)'") }
                }
                parsed.positionals.append(arg)
            } else if arg == "--" {
                onlyPositionals = true
            } else if arg.hasPrefix("--") {
                let body = arg.dropFirst(2)
                let name: String
                var value: String?
                if let eq = body.firstIndex(of: "=") {
                    name = String(body[..<eq])
                    value = String(body[body.index(after: eq)...])
                } else {
                    name = String(body)
                }
                guard let option = scope.last(where: { $0.long == name }) else {
                    throw UsageError("unknown option '--\(name)'" + suggestion(name, scope))
                }
                try take(option, value, "--\(name)")
            } else {
                // One or more short options: -q, -j64, -j 64, -vq.
                var chars = Array(arg.dropFirst())
                while !chars.isEmpty {
                    let c = chars.removeFirst()
                    guard let option = scope.last(where: { $0.short == c }) else {
                        throw UsageError("unknown option '-\(c)'")
                    }
                    if option.takesValue {
                        try take(option, chars.isEmpty ? nil : String(chars), "-\(c)")
                        chars = []
                    } else {
                        try take(option, nil, "-\(c)")
                    }
                }
            }
            i += 1
        }

        parsed.declared = Set(scope.map(\.long))
        if scope.contains(where: { $0.standalone && parsed.values[$0.long] != nil }) { return parsed }

        // The environment, then defaults, fill what the command line left out.
        for option in scope where parsed.values[option.long] == nil {
            if let name = option.environment, let v = environment(name), !v.isEmpty {
                do { try check(option, v) } catch let e as UsageError {
                    throw UsageError("\(name): \(e.message)")
                }
                parsed.values[option.long] = [v]
            } else if let d = option.defaultValue {
                parsed.values[option.long] = [d]
            }
        }

        let required = spec.arguments.filter { !$0.optional }
        if parsed.external == nil && parsed.positionals.count < required.count {
            if spec.externalSubcommand != nil || !spec.subcommands.isEmpty {
                throw UsageError("missing \(spec.externalSubcommand?.name ?? "command")")
            }
            throw UsageError("missing \(required[parsed.positionals.count].name)")
        }
        if !spec.arguments.contains(where: { $0.repeating }) && parsed.positionals.count > spec.arguments.count {
            throw UsageError("unexpected argument '\(parsed.positionals[spec.arguments.count])'")
        }
        if parsed.external == nil && parsed.positionals.isEmpty && spec.arguments.isEmpty
            && (!spec.subcommands.isEmpty || spec.externalSubcommand != nil) {
            throw UsageError("missing \(spec.externalSubcommand?.name ?? "command")")
        }
        return parsed
    }

    /// An empty value is refused: `--symbol "$UNSET"` must not quietly mean "every symbol".
    private static func check(_ option: OptionSpec, _ value: String) throws {
        let items = option.kind == .list
            ? value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed() } : [value]
        if items.contains(where: { $0.isEmpty }) {
            throw UsageError("--\(option.long): empty value" + (items.count > 1 ? " in '\(value)'" : ""))
        }
        guard !option.choices.isEmpty else { return }
        for item in items where !option.choices.contains(item) {
            throw UsageError("--\(option.long): '\(item)' is not one of \(option.choices.joined(separator: ", "))")
        }
    }

    private static func suggestion(_ name: String, _ scope: [OptionSpec]) -> String {
        let best = scope.filter { !$0.hidden }.min { editDistance($0.long, name) < editDistance($1.long, name) }
        guard let best, editDistance(best.long, name) <= max(2, name.count / 3) else { return "" }
        return "; did you mean '--\(best.long)'?"
    }
}
