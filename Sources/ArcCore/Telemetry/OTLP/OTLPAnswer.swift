/// What an OTLP/HTTP receiver answered, read in the encoding it answered in: protobuf
/// (`application/x-protobuf`, the spec's answer to a protobuf request) or JSON.
public enum OTLPAnswer {
    /// Items a 2xx answer reports rejected (`partial_success`: rejected_spans or
    /// rejected_log_records = 1, error_message = 2); 0 when it reports none.
    public static func rejected(_ response: SimpleHTTPResponse) -> (count: Int, message: String) {
        guard !response.body.isEmpty else { return (0, "") }
        if isProtobuf(response) {
            let count = ProtobufScan.varint([1, 1], in: response.body).map { Int(truncatingIfNeeded: $0) } ?? 0
            return (max(count, 0), ProtobufScan.string([1, 2], in: response.body) ?? "")
        }
        guard let answer = try? JSONValue(parsing: response.body), let partial = answer["partialSuccess"] else {
            return (0, "")
        }
        let count = (partial["rejectedSpans"] ?? partial["rejectedLogRecords"])?.int64Value ?? 0
        return (Int(max(count, 0)), partial["errorMessage"]?.stringValue ?? "")
    }

    /// The answer's words for a report, at most `limit` characters on one line: a
    /// protobuf google.rpc.Status's message (= 2), else the body's text.
    public static func describe(_ response: SimpleHTTPResponse, limit: Int = 300) -> String {
        let text = isProtobuf(response) ? ProtobufScan.string([2], in: response.body) ?? "" : response.text
        return String(text.prefix(limit)).replacing("\n", with: " ")
    }

    public static func isProtobuf(_ response: SimpleHTTPResponse) -> Bool {
        response.header("Content-Type")?.lowercased().hasPrefix("application/x-protobuf") ?? false
    }
}
