import ArcCore

/// The end of a built-in source's listing, the same for every source: one summary log
/// line, the arc_discover_* counters, the span's archive count, and the exit status
/// (every listing request failed: 3, the archive could not be reached; some failed: 1).
public struct ListingSummary {
    public var archives = 0
    /// Folders listed; nil for a source that lists through an API instead (OKX).
    public var folders: Int?
    public var requests = 0
    public var failedRequests = 0
    public var retries = 0
    /// Source-specific fields for the log line (odd names, the listing used, ...).
    public var fields: [(String, LogValue)] = []

    public init() {}

    public func report(_ context: ToolContext, startedAt started: UInt64) -> ExitStatus {
        var line: [(String, LogValue)] = [("archives", .int(Int64(archives)))]
        if let folders { line.append(("folders", .int(Int64(folders)))) }
        line += [("requests", .int(Int64(requests))), ("failed_requests", .int(Int64(failedRequests))),
                 ("retries", .int(Int64(retries)))]
        line += fields
        line.append(("duration_ms", .int(Int64((MonotonicClock.nanos() - started) / 1_000_000))))
        let scope = folders.map { "\($0) folders" } ?? "\(requests) requests"
        context.log.log(.info, "listed \(archives) archives in \(scope)", fields: line)
        let m = context.telemetry.metrics
        var counters = [
            ("arc_discover_archives_total", "archive records written", archives),
            ("arc_discover_requests_total", "listing requests made", requests),
            ("arc_discover_failed_requests_total", "listing requests that failed after their retries", failedRequests),
            ("arc_discover_retries_total", "listing requests retried", retries),
        ]
        if let folders { counters.append(("arc_discover_folders_total", "folders listed", folders)) }
        for (name, help, value) in counters {
            m.declare(name, .counter, help: help)
            m.add(name, Double(value))
        }
        context.telemetry.root.set("arc.archives", .int(Int64(archives)))
        if failedRequests > 0 { return failedRequests == requests ? .unavailable : .failures }
        return .ok
    }
}
