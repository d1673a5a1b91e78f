import Glibc
import ArcCore

/// `telem-trace export --otlp URL`: stored spans to an OpenTelemetry collector over
/// OTLP/HTTP (protobuf, or JSON when asked), a batch per request, streamed from the store
/// (memory holds one batch).
enum OTLPExport {
    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let endpoint = OTLPEndpoint.fromEnvironment()
        let url: String
        let encoding: OTLPProtocol = setting("protocol", tool)
        var headers = ["Content-Type: " + encoding.contentType]
        let compression: OTLPCompression = setting("compression", tool)
        if let given = p.value("otlp") {
            url = tracesURL(given)
        } else if let fromEnvironment = endpoint?.tracesURL {
            url = fromEnvironment
        } else {
            throw UsageError("no receiver: give --otlp URL or set OTEL_EXPORTER_OTLP_ENDPOINT")
        }
        headers += OTLPEndpoint.headers(signal: "TRACES")
        let batchSize = try p.int("batch", range: 1...100_000) ?? 512
        let timeout = try p.duration("timeout") ?? 10
        let store = try TraceStore.open(tool.statePath)
        var traceID: String?
        if let given = p.value("trace-id") {
            guard let id = try store.resolve(prefix: given) else { throw TraceLookupError.notFound(given) }
            traceID = id
        }
        let sender = Sender(url: url, headers: headers, encoding: encoding, compression: compression, timeout: timeout,
                            log: tool.log)
        var batch: [SpanRecord] = []
        batch.reserveCapacity(batchSize)
        try store.forEachSpan(trace: traceID, since: try TraceCommand.since(p)) { span in
            batch.append(span.spanRecord())
            if batch.count >= batchSize {
                try sender.send(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try sender.send(batch) }
        tool.log.info("exported \(sender.sent) spans in \(sender.requests) requests to \(url)"
                      + (sender.rejected > 0 ? "; \(sender.rejected) rejected" : ""),
                      ["spans": .int(Int64(sender.sent)), "rejected": .int(Int64(sender.rejected)), "url": .string(url)])
        return sender.rejected > 0 ? .failures : .ok
    }

    /// Option `name` when given (the parser allows only the setting's values), else the
    /// environment's value for traces, warned about once when it is not one we speak.
    static func setting<S: OTLPSetting>(_ name: String, _ tool: ToolContext) -> S {
        if let given = tool.parsed.value(name), let value = S(rawValue: given) { return value }
        let (value, warning) = S.fromEnvironment(signal: "TRACES", FileSystem.environment)
        OTLPProtocol.warnOnce(warning.map { [$0] } ?? [], tool.log)
        return value
    }

    /// A base URL gets `/v1/traces`; one that already names it is kept.
    static func tracesURL(_ given: String) -> String {
        if given.hasSuffix("/v1/traces") { return given }
        return (given.hasSuffix("/") ? String(given.dropLast()) : given) + "/v1/traces"
    }

    final class Sender {
        let url: String
        let headers: [String]
        let encoding: OTLPProtocol
        let compression: OTLPCompression
        let timeout: Double
        let log: Logger
        private(set) var sent = 0
        private(set) var rejected = 0
        private(set) var requests = 0

        init(url: String, headers: [String], encoding: OTLPProtocol, compression: OTLPCompression, timeout: Double,
             log: Logger) {
            self.url = url
            self.headers = headers
            self.encoding = encoding
            self.compression = compression
            self.timeout = timeout
            self.log = log
        }

        /// One request. Unreachable: throws (exit 3) at once. 429 and 5xx: two retries.
        /// Another status, or spans the receiver reports rejected: counted, and on.
        func send(_ spans: [SpanRecord]) throws {
            var body = encoding.traces(spans, defaultService: "unknown_service")
            var headers = self.headers
            compression.apply(to: &body, headers: &headers)
            var attempt = 0
            while true {
                attempt += 1
                requests += 1
                let response: SimpleHTTPResponse
                do {
                    response = try SimpleHTTP.request(url, method: "POST", headers: headers, body: body,
                                                      timeout: timeout, connectTimeout: min(timeout, 5))
                } catch {
                    throw UnavailableError("OTLP receiver \(url)", "\(error)")
                }
                if (200..<300).contains(response.status) {
                    let answer = OTLPAnswer.rejected(response)
                    let refused = min(answer.count, spans.count)
                    rejected += refused
                    sent += spans.count - refused
                    if refused > 0 {
                        // A JSON answer is shown as it came; a protobuf one by its error_message.
                        let why = OTLPAnswer.isProtobuf(response) ? answer.message : response.text
                        log.warn("the receiver rejected \(refused) spans: \(String(why.prefix(300)))")
                    }
                    return
                }
                if (response.status == 429 || response.status >= 500) && attempt < 3 {
                    usleep(UInt32(250_000 * attempt))
                    continue
                }
                rejected += spans.count
                log.error("the receiver answered HTTP \(response.status) for \(spans.count) spans: "
                          + OTLPAnswer.describe(response),
                          ["status": .int(Int64(response.status))])
                return
            }
        }
    }
}
