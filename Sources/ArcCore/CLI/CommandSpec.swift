/// The one description of a tool's command line. The parser, `--help`, the man page and
/// the bash, zsh and fish completions are all generated from it, so they cannot drift.
public struct CommandSpec: Sendable {
    public var name: String
    /// One line: what the command is for (the man page's NAME line, the head of --help).
    public var summary: String
    /// Usage lines after the command name, e.g. `[OPTIONS] SOURCE [ARGS...]`.
    public var usage: [String]
    /// Paragraphs of plain text, separated by blank lines. Lines starting with two spaces
    /// are kept as written (examples, tables).
    public var description: String
    public var options: [OptionSpec]
    public var arguments: [ArgumentSpec]
    public var subcommands: [CommandSpec]
    /// When set, an unknown first argument is an external command (a plugin), described here.
    public var externalSubcommand: ArgumentSpec?
    public var examples: [Example]
    public var exitStatuses: [ExitStatus]
    public var environment: [EnvironmentSpec]
    /// Extra man page sections, in order: (title, text).
    public var sections: [(String, String)]
    public var seeAlso: [String]

    public init(name: String, summary: String, usage: [String] = ["[OPTIONS]"], description: String = "",
                options: [OptionSpec] = [], arguments: [ArgumentSpec] = [], subcommands: [CommandSpec] = [],
                externalSubcommand: ArgumentSpec? = nil, examples: [Example] = [],
                exitStatuses: [ExitStatus] = ExitStatus.standard, environment: [EnvironmentSpec] = [],
                sections: [(String, String)] = [], seeAlso: [String] = []) {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.description = description
        self.options = options
        self.arguments = arguments
        self.subcommands = subcommands
        self.externalSubcommand = externalSubcommand
        self.examples = examples
        self.exitStatuses = exitStatuses
        self.environment = environment
        self.sections = sections
        self.seeAlso = seeAlso
    }

    public func option(long: String) -> OptionSpec? { options.first { $0.long == long } }
    public func option(short: Character) -> OptionSpec? { options.first { $0.short == short } }
    public func subcommand(_ name: String) -> CommandSpec? { subcommands.first { $0.name == name } }
    public var visibleOptions: [OptionSpec] { options.filter { !$0.hidden } }
}

public struct OptionSpec: Sendable {
    public enum Kind: Sendable {
        /// A switch: present or not.
        case flag
        /// One value; given twice, the last wins.
        case value
        /// Values that accumulate: repeated flags and comma-separated lists both work.
        case list
    }

    public var long: String
    public var short: Character?
    public var kind: Kind
    public var valueName: String
    public var help: String
    /// Allowed values (checked by the parser, offered by completions).
    public var choices: [String]
    public var defaultValue: String?
    /// An environment variable that supplies the value when the flag is absent.
    public var environment: String?
    public var completion: Completion
    public var hidden: Bool
    /// The option is a whole request of its own (--help, --version): given it, the parser
    /// skips the checks for missing arguments.
    public var standalone: Bool

    public init(_ long: String, short: Character? = nil, kind: Kind = .value, valueName: String = "VALUE",
                help: String, choices: [String] = [], defaultValue: String? = nil, environment: String? = nil,
                completion: Completion? = nil, hidden: Bool = false, standalone: Bool = false) {
        self.long = long
        self.short = short
        self.kind = kind
        self.valueName = valueName
        self.help = help
        self.choices = choices
        self.defaultValue = defaultValue
        self.environment = environment
        self.completion = completion ?? (choices.isEmpty ? .none : .choices)
        self.hidden = hidden
        self.standalone = standalone
    }

    public static func flag(_ long: String, short: Character? = nil, help: String, hidden: Bool = false,
                            standalone: Bool = false) -> OptionSpec {
        OptionSpec(long, short: short, kind: .flag, help: help, hidden: hidden, standalone: standalone)
    }

    public var takesValue: Bool { kind != .flag }
}

public enum Completion: Sendable {
    case none, file, directory, choices, command
}

public struct ArgumentSpec: Sendable {
    public var name: String
    public var help: String
    public var repeating: Bool
    public var optional: Bool
    public var completion: Completion

    public init(_ name: String, help: String, repeating: Bool = false, optional: Bool = false,
                completion: Completion = .none) {
        self.name = name
        self.help = help
        self.repeating = repeating
        self.optional = optional
        self.completion = completion
    }
}

public struct Example: Sendable {
    public var text: String
    public var command: String
    public init(_ text: String, _ command: String) {
        self.text = text
        self.command = command
    }
}

public struct EnvironmentSpec: Sendable {
    public var name: String
    public var help: String
    public init(_ name: String, _ help: String) {
        self.name = name
        self.help = help
    }
}
