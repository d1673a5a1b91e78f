/// What an OTLP request says, decided once for both encodings (OTLPJSON, OTLPProtobuf):
/// the resource and scope every batch names, how spans are grouped into resources, and
/// the numbers OTLP gives span kinds, statuses and severities.
enum OTLPContent {
    static let scopeName = "arc"

    /// The resource of `service`: its name and the SDK's.
    static func resourceAttributes(_ service: String) -> [(String, LogValue)] {
        [("service.name", .string(service)), ("telemetry.sdk.name", .string("arc")),
         ("telemetry.sdk.language", .string("swift")), ("telemetry.sdk.version", .string(ArcVersion.current))]
    }

    /// Every span is SPAN_KIND_INTERNAL: arc's spans are units of its own work.
    static let spanKind = 1

    /// STATUS_CODE_UNSET 0, OK 1, ERROR 2.
    static func statusCode(_ status: SpanStatus) -> Int {
        switch status {
        case .ok: return 1
        case .error: return 2
        case .unset: return 0
        }
    }

    /// SeverityNumber: DEBUG 5, INFO 9, WARN 13, ERROR 17.
    static func severityNumber(_ level: LogLevel) -> Int {
        switch level {
        case .debug: return 5
        case .info: return 9
        case .warn: return 13
        case .error: return 17
        }
    }

    static func severityText(_ level: LogLevel) -> String { level.name.uppercased() }

    /// Spans by service (each service is one resource), services in order of their first
    /// span: positions into `spans`, so nothing is copied.
    static func groupedByService(_ spans: [SpanRecord], defaultService: String) -> [(service: String, indices: [Int])] {
        var groups: [(service: String, indices: [Int])] = []
        var position: [String: Int] = [:]
        for (i, span) in spans.enumerated() {
            let service = span.service ?? defaultService
            if let at = position[service] {
                groups[at].indices.append(i)
            } else {
                position[service] = groups.count
                groups.append((service, [i]))
            }
        }
        return groups
    }
}
