import ArcCore

/// Decodes an OTLP/HTTP ExportTraceServiceRequest (what OpenTelemetry SDKs send to
/// /v1/traces) into stored spans, from either encoding: `decode` reads the JSON one
/// (OTLPTraceDecoder+JSON), `decodeProtobuf` the binary one (OTLPTraceDecoder+Protobuf).
/// Both fill in `OTLPSpanFields`, whose `stored(service:)` applies the rules once.
public enum OTLPTraceDecoder {
    public struct Result {
        public var spans: [StoredSpan] = []
        /// Spans left out (bad ids or times), with the first reason.
        public var rejected = 0
        public var firstProblem: String?

        /// Keeps the span, or counts it as rejected: one bad span does not cost the others.
        mutating func add(_ fields: OTLPSpanFields, service: String?) {
            do {
                spans.append(try fields.stored(service: service))
            } catch {
                rejected += 1
                if firstProblem == nil { firstProblem = "\(error)" }
            }
        }
    }

    /// The whole body is unusable (not JSON, not protobuf, malformed): a 400.
    public struct DecodeError: Error, CustomStringConvertible {
        public let description: String
    }
}
