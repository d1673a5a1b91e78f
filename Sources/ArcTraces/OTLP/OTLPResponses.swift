import ArcCore
import ArcHTTPServer

/// What the receiver answers, in the request's encoding (OTLP/HTTP's rule): for
/// protobuf a serialized ExportTraceServiceResponse / ExportLogsServiceResponse (empty
/// when nothing was rejected) and google.rpc.Status for errors; for JSON the same
/// messages in the protobuf JSON mapping (`{}`, `{"partialSuccess": …}`, `{"code", "message"}`).
enum OTLPResponses {
    enum Encoding {
        case json, protobuf

        /// From the request's Content-Type; nil for one OTLP does not define.
        init?(_ request: HTTPRequest) {
            switch request.mediaType {
            case "application/json": self = .json
            case "application/x-protobuf", "application/protobuf": self = .protobuf
            default: return nil
            }
        }
    }

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
            var response = ProtobufWriter(capacity: 64)
            response.message(1) { partial in  // ExportXServiceResponse.partial_success = 1
                partial.int64(1, Int64(rejected))
                partial.string(2, problem ?? "")
            }
            return HTTPResponse(status: 200, contentType: protobufType, body: response.bytes)
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
        var body = ProtobufWriter(capacity: 64 + message.utf8.count)
        body.int64(1, Int64(HTTPResponse.grpcCode(status)))
        body.string(2, message)
        return HTTPResponse(status: status, contentType: protobufType, body: body.bytes)
    }
}
