import ArcCore

/// A source of archives built into arc-discover. Each is a subcommand with its own
/// options; sources that are not built in are plugins (`ExternalSource`).
public protocol ArchiveSource: Sendable {
    /// The subcommand: its name, summary and options.
    static var spec: CommandSpec { get }
    /// Lists archives, writing archive records to `output`.
    static func run(_ context: ToolContext, output: BufferedOutput) throws -> ExitStatus
}

public enum ArchiveSources {
    /// Built-in sources by name.
    public static let builtIn: [ArchiveSource.Type] = [BinanceSource.self, BybitSource.self, KuCoinSource.self, OKXSource.self]

    public static func named(_ name: String) -> ArchiveSource.Type? {
        builtIn.first { $0.spec.name == name }
    }
}
