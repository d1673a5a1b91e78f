import ArcCore
import ArcHTTPServer

/// What the receiver answers, in the request's encoding (OTLP/HTTP's rule): for
/// protobuf a serialized ExportTraceServiceResponse / ExportLogsServiceResponse (empty
/// when nothing was rejected) and google.rpc.Status for errors; for JSON the same
/// messages in the protobuf JSON mapping (`{}`, `{"partialSuccess": …}`, `{"code", "message"}`).
enum OTLPResponses {
    enum Encoding { case json, protobuf }

    enum Signal {
        case traces, logs

        var path: String { self == .traces ? "/v1/traces" : "/v1/logs" }
        /// ExportTracePartialSuccess.rejected_spans / ExportLogsPartialSuccess.rejected_log_records.
        var rejectedName: String { self == .traces ? "rejectedSpans" : "rejectedLogRecords" }
    }

    static let protobufType = "application/x-protobuf"

    /// 200, with partial_success { rejected = 1 (int64); error_message = 2 } when some
    /// items were left out.
    static func success(_ signal: Signal, _ encoding: Encoding, rejected: Int, problem: String?) -> HTTPResponse {
        switch encoding {
        case .protobuf:
            guard rejected > 0 else { return HTTPResponse(status: 200, contentType: protobufType, body: []) }
            var partial: [UInt8] = []
            appendVarintField(1, UInt64(rejected), to: &partial)
            appendBytesField(2, Array((problem ?? "").utf8), to: &partial)
            var response: [UInt8] = []
            appendBytesField(1, partial, to: &response)  // ExportXServiceResponse.partial_success = 1
            return HTTPResponse(status: 200, contentType: protobufType, body: response)
        case .json:
            guard rejected > 0 else { return HTTPResponse(status: 200, body: Array("{}".utf8)) }
            var b = RecordBuilder(capacity: 128)
            b.begin()
            b.object("partialSuccess") { o in
                o.string(signal.rejectedName, String(rejected))  // int64: a string in the JSON mapping
                o.string("errorMessage", problem ?? "bad records")
            }
            b.end()
            return HTTPResponse(status: 200, body: Array(b.bytes.dropLast()))
        }
    }

    /// An error: google.rpc.Status { int32 code = 1; string message = 2; } with the gRPC
    /// code OTLP pairs with the HTTP status.
    static func error(_ status: Int, _ message: String, _ encoding: Encoding?) -> HTTPResponse {
        guard encoding == .protobuf else { return .error(status, message) }
        var body: [UInt8] = []
        appendVarintField(1, UInt64(HTTPResponse.grpcCode(status)), to: &body)
        appendBytesField(2, Array(message.utf8), to: &body)
        return HTTPResponse(status: status, contentType: protobufType, body: body)
    }

    // The two wire forms these small messages need.
    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func appendVarintField(_ number: UInt64, _ value: UInt64, to out: inout [UInt8]) {
        appendVarint(number << 3, to: &out)
        appendVarint(value, to: &out)
    }

    private static func appendBytesField(_ number: UInt64, _ bytes: [UInt8], to out: inout [UInt8]) {
        appendVarint(number << 3 | 2, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out += bytes
    }
}
