import ArcCore

/// The codes of the silver checks: a finding's `code` in check records, and the code of
/// the errors that stop a check before it starts. Severities are decided where each
/// finding is made (RowChecks, TableParser); CheckReport's comment lists them all.
extension FailureCode {
    // fail: the archive cannot become silver as it is.
    public static let unknownLayout = FailureCode("unknown_layout")
    public static let notAnArchive = FailureCode("not_an_archive")
    public static let badRow = FailureCode("bad_row")
    // (bad_field is the core's)
    public static let outsidePeriod = FailureCode("outside_period")
    public static let nonPositivePrice = FailureCode("non_positive_price")
    public static let noRows = FailureCode("no_rows")
    public static let unreadable = FailureCode("unreadable")
    // warn: the data is usable, and a user should know.
    public static let duplicateRows = FailureCode("duplicate_rows")
    public static let duplicateKeys = FailureCode("duplicate_keys")
    public static let outOfOrder = FailureCode("out_of_order")
    public static let missingIntervals = FailureCode("missing_intervals")
    public static let offGrid = FailureCode("off_grid")
    public static let cutShort = FailureCode("cut_short")
    public static let idGaps = FailureCode("id_gaps")
    /// aggTrades whose first_trade_id does not follow the row before's last_trade_id: the
    /// same fact as id_gaps (trade ids missing), found through the other ids.
    public static let tradeIdGaps = FailureCode("id_gaps")
    // The container (found by ArchivePass around the zip reader's own codes):
    public static let severalEntries = FailureCode("several_entries")
    public static let emptyEntry = FailureCode("empty_entry")
    /// A gzip (Bybit's csv.gz) that inflates to nothing.
    public static let emptyArchive = FailureCode("empty_archive")
    /// The archive's bytes are not those arc-collect verified (it changed since).
    public static let sha256Mismatch = FailureCode("sha256_mismatch")
    public static let blankLines = FailureCode("blank_lines")
}

/// An archive the silver stage cannot start on: its name does not follow Binance's
/// layout, or its type has no known CSV layout. Exit 2 (invalid input).
public struct SilverError: ArcError {
    public let code: FailureCode
    public let message: String

    public init(_ code: FailureCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var exitStatus: ExitStatus { .usage }
    public var description: String { message }
}
