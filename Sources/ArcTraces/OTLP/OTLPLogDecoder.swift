import ArcCore

/// Decodes an OTLP/HTTP ExportLogsServiceRequest (what SDKs send to /v1/logs) into log
/// lines for the state database's `logs` table, each written as arc's own Logger writes
/// a line (`ts level tool msg trace_id span_id`, then the attributes), so `telem-log
/// search`, `count --db`, --tool, --trace, --level and --where treat them as ingested
/// lines. `decode` reads JSON, `decodeProtobuf` protobuf (OTLPLogDecoder+JSON/+Protobuf);
/// both fill in `OTLPLogFields`, whose `row` is the one place the line is made.
public enum OTLPLogDecoder {
    public struct Result {
        public var rows: [LogTable.Row] = []
        /// Records left out (bad ids or times), with the first reason.
        public var rejected = 0
        public var firstProblem: String?

        mutating func add(_ fields: OTLPLogFields, service: String?, receivedNanos: Int64) {
            do {
                rows.append(try fields.row(service: service, receivedNanos: receivedNanos))
            } catch {
                rejected += 1
                if firstProblem == nil { firstProblem = "\(error)" }
            }
        }
    }

    /// What the `source` column says of lines that came over OTLP (for ingested files it
    /// is the file's path).
    public static let source = "otlp"
}

/// One LogRecord as either encoding gave it.
struct OTLPLogFields: Sendable {
    /// Unix nanoseconds; 0 when unset. Nil past Int64 (2262): rejected.
    var timeNanos: Int64? = 0
    var observedNanos: Int64? = 0
    var severityNumber = 0
    var severityText: String?
    var body: AttributeValue?
    var attributes: [(String, AttributeValue)] = []
    var traceID: OTLPSpanFields.ID = .absent
    var spanID: OTLPSpanFields.ID = .absent

    /// The fields arc's Logger writes first; an attribute of the same name is kept as
    /// `attr.NAME` so the line has each key once.
    static let headerKeys: Set<String> = ["ts", "level", "tool", "msg", "trace_id", "span_id"]

    func row(service: String?, receivedNanos: Int64) throws -> LogTable.Row {
        guard let time = timeNanos, let observed = observedNanos else {
            throw OTLPTraceDecoder.DecodeError(description: "log record with a time past 2262")
        }
        let trace = try traceID.value(orThrow: "log record with a bad traceId")
        let span = try spanID.value(orThrow: "log record with a bad spanId")
        // A record without a time of its own is dated when the SDK saw it, else when it came.
        let nanos = time > 0 ? time : observed > 0 ? observed : receivedNanos
        let level = Self.level(number: severityNumber, text: severityText)
        let msg: String
        switch body {
        case .scalar(.string(let s))?: msg = s
        case nil: msg = ""
        case let other?:
            var json: [UInt8] = []
            other.write(into: &json)
            msg = String(decoding: json, as: UTF8.self)
        }
        var b = RecordBuilder(capacity: 256)
        b.begin()
        b.string("ts", WallClock.rfc3339(nanos: nanos))
        if let level { b.string("level", level) }
        if let service { b.string("tool", service) }
        b.string("msg", msg)
        if let trace { b.string("trace_id", trace) }
        if let span { b.string("span_id", span) }
        var json: [UInt8] = []
        for (key, value) in OTLPAttributes.flatten(attributes) {
            json.removeAll(keepingCapacity: true)
            value.write(into: &json)
            b.raw(Self.headerKeys.contains(key) ? "attr." + key : key, json)
        }
        b.end()
        let floorMillis = nanos / 1_000_000
        return LogTable.Row(tsMillis: floorMillis, level: level, tool: service, msg: msg, traceID: trace, spanID: span,
                            source: OTLPLogDecoder.source, line: String(decoding: b.bytes.dropLast(), as: UTF8.self))
    }

    /// severity_number's ranges (logs.proto's SeverityNumber): 1-4 trace, 5-8 debug,
    /// 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal. Unspecified (0): the text when it
    /// is one of those names, else no level.
    static func level(number: Int, text: String?) -> String? {
        let names = ["trace", "debug", "info", "warn", "error", "fatal"]
        if number >= 1 && number <= 24 { return names[(number - 1) / 4] }
        switch text?.lowercased() {
        case "warning"?: return "warn"
        case "critical"?: return "fatal"
        case let t? where names.contains(t): return t
        default: return nil
        }
    }
}
