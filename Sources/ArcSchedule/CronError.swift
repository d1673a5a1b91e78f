import ArcCore

/// A cron expression that cannot be parsed. `column` is the 1-based character column in
/// the expression where the offending field or token starts, so a workflow loader can
/// point at it under the line it quotes.
public struct CronError: ArcError, Equatable {
    public let message: String
    public let column: Int

    public init(_ message: String, column: Int) {
        self.message = message
        self.column = column
    }
    public var code: String { "bad_cron_expression" }
    public var exitStatus: ExitStatus { .usage }
    public var description: String { "column \(column): \(message)" }
}
