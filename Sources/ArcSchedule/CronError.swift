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
    public var code: FailureCode { .badCronExpression }
    public var exitStatus: ExitStatus { .usage }
    public var description: String { "column \(column): \(message)" }
}

extension FailureCode {
    public static let badCronExpression = FailureCode("bad_cron_expression")
    /// A zone name with no TZif file under the zoneinfo directory.
    public static let unknownTimeZone = FailureCode("unknown_time_zone")
    public static let badTimeZoneFile = FailureCode("bad_time_zone_file")
}
