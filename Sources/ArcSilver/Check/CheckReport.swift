import ArcCore

/// The quality record of one archive, written as the `check` object of check and silver
/// records.
///
/// Finding codes and severities:
///   fail  bad_field (a field that does not parse), bad_row (the wrong number of fields),
///         unknown_layout (a header that is not the dataset's), outside_period,
///         non_positive_price (a price at or below zero), no_rows, unreadable (the archive
///         could not be read), and what the converter adds about the zip itself
///   warn  duplicate_rows, duplicate_keys, out_of_order, missing_intervals (klines),
///         off_grid (klines), cut_short, id_gaps (trades' id, aggTrades' agg_trade_id),
///         trade_id_gaps (aggTrades' first_trade_id after the previous last_trade_id),
///         blank_lines
public struct CheckReport: Sendable {
    /// Data rows read (the header not counted), good or bad.
    public var rows: Int
    /// Data rows that parsed and went out in batches.
    public var rowsEmitted: Int
    /// The CSV's columns.
    public var columns: Int
    public var header: Bool
    /// `ms` or `us` for epoch times (decided from the first data row), `text` for
    /// datasets whose times are written out (metrics, bookDepth, EOHSummary); nil when no
    /// time was read.
    public var timeUnit: String?
    /// The earliest and latest time of the rows, in microseconds.
    public var firstTime: Int64?
    public var lastTime: Int64?
    public var findings: [Finding]

    public init(rows: Int = 0, rowsEmitted: Int = 0, columns: Int = 0, header: Bool = false, timeUnit: String? = nil,
                firstTime: Int64? = nil, lastTime: Int64? = nil, findings: [Finding] = []) {
        self.rows = rows
        self.rowsEmitted = rowsEmitted
        self.columns = columns
        self.header = header
        self.timeUnit = timeUnit
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.findings = findings
    }

    /// The report of an archive that could not be read at all (not a zip, no CSV inside,
    /// an unknown layout): fail, with that one finding.
    public static func unreadable(_ message: String, code: FailureCode = .unreadable) -> CheckReport {
        CheckReport(findings: [Finding(code: code, severity: .fail, message: message)])
    }

    public var status: CheckStatus {
        findings.reduce(CheckStatus.pass) { worst, f in max(worst, f.severity == .fail ? .fail : .warn) }
    }

    public func finding(_ code: FailureCode) -> Finding? { findings.first { $0.code == code } }

    /// Writes `"check":{...}`.
    public func write(into builder: inout RecordBuilder) {
        builder.object("check") { b in
            b.string("status", status.rawValue)
            b.int("rows", rows)
            b.int("columns", columns)
            b.bool("header", header)
            b.optionalString("time_unit", timeUnit)
            if let firstTime { b.string("first_time", MicrosecondTime.rfc3339(firstTime)) }
            if let lastTime { b.string("last_time", MicrosecondTime.rfc3339(lastTime)) }
            b.objects("findings", findings) { b, f in
                b.string("code", f.code.rawValue)
                b.string("severity", f.severity.rawValue)
                b.string("message", f.message)
                if let count = f.count { b.int("count", count) }
                if !f.ranges.isEmpty {
                    var json: [UInt8] = [UInt8(ascii: "[")]
                    for (i, r) in f.ranges.enumerated() {
                        if i > 0 { json.append(UInt8(ascii: ",")) }
                        json += Array("[\"\(MicrosecondTime.rfc3339(r.start))\",\"\(MicrosecondTime.rfc3339(r.end))\"]".utf8)
                    }
                    json.append(UInt8(ascii: "]"))
                    b.raw("ranges", json)
                }
                if !f.lines.isEmpty {
                    b.raw("lines", Array(("[" + f.lines.map(String.init).joined(separator: ",") + "]").utf8))
                }
            }
        }
    }
}
