import Glibc
import ArcCore
import ArcHTTPServer


/// `telem-trace serve --otlp HOST:PORT`: an OTLP/HTTP receiver (protobuf and JSON) that
/// stores what OpenTelemetry SDKs send to /v1/traces (so ls, show and stats see other
/// programs' traces) and to /v1/logs (into the logs table telem-log searches).
enum OTLPServe {
    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let (host, port) = try HTTPServer.address(tool.parsed.value("otlp") ?? "127.0.0.1:4318", option: "otlp",
                                                  defaultHost: "127.0.0.1", example: "127.0.0.1:4318")
        let token = try authentication(tool, host: host)
        let store = try TraceStore.open(tool.statePath)
        let server = try HTTPServer(host: host, port: port)
        server.token = token
        // A 401 or 413 is decided before the handler runs; it too answers in the request's encoding.
        server.refusalBody = { status, message, head in
            OTLPResponses.Encoding(head).map { OTLPResponses.error(status, message, $0) }
        }
        let receiver = Receiver(store: store, log: tool.log)
        server.stopOnSignals()
        tool.log.info("listening on http://\(server.address)/v1/traces and /v1/logs" + (token == nil ? "" : " (bearer token required)"),
                      ["address": .string(server.address), "port": .int(Int64(server.port)),
                       "auth": .string(token == nil ? "none" : "bearer")])
        server.serve { request in receiver.handle(request) }
        let totals = receiver.totals
        tool.log.info("stopped: stored \(totals.spans) spans and \(totals.logs) log records from \(totals.requests) requests",
                      ["spans": .int(Int64(totals.spans)), "logs": .int(Int64(totals.logs)),
                       "requests": .int(Int64(totals.requests))])
        return HTTPServer.stoppedStatus
    }

    /// The token every request must carry (--token-file), or nil (--no-auth, or a loopback
    /// address without --token-file). Other machines can reach a non-loopback address, so
    /// there the choice must be made explicitly, as a collector's config makes it.
    static func authentication(_ tool: ToolContext, host: String) throws -> BearerToken? {
        let file = tool.parsed.value("token-file")
        let noAuth = tool.parsed.flag("no-auth")
        if file != nil && noAuth { throw UsageError("--token-file and --no-auth exclude each other; give one") }
        if let file {
            let loaded = try BearerToken.read(file: file)
            if let warning = loaded.warning { tool.log.warn(warning, ["token_file": .string(file)]) }
            return loaded.token
        }
        if !noAuth && !HTTPServer.isLoopback(host) {
            throw UsageError("--otlp \(host): other machines can reach this address; "
                             + "give --token-file FILE to require a bearer token, or --no-auth to accept anyone")
        }
        return nil
    }

    /// Answers requests; one at a time reaches the database (one connection, one writer).
    final class Receiver: @unchecked Sendable { // the store and `counts` are guarded by `lock`
        let store: TraceStore
        let log: Logger
        private let lock = Lock()
        private var counts = (requests: 0, spans: 0, logs: 0)
        var totals: (requests: Int, spans: Int, logs: Int) { lock.withLock { counts } }
        static let maxInflated = 256 << 20

        init(store: TraceStore, log: Logger) {
            self.store = store
            self.log = log
        }

        func handle(_ request: HTTPRequest) -> HTTPResponse {
            typealias R = OTLPResponses
            // The encoding first: even a 404 answers a protobuf client in protobuf.
            let encoding = R.Encoding(request)
            let signal: R.Signal
            switch request.path {
            case "/v1/traces": signal = .traces
            case "/v1/logs": signal = .logs
            default:
                return R.error(404, "no such path \(request.path); OTLP traces go to POST /v1/traces, logs to POST /v1/logs",
                               encoding)
            }
            guard request.method == "POST" else { return R.error(405, "use POST for \(signal.path)", encoding) }
            guard let encoding else {
                return R.error(415, "unsupported Content-Type \(request.header("content-type") ?? "(none)"); "
                               + "send application/x-protobuf or application/json", nil)
            }
            var body = request.body
            switch request.header("content-encoding")?.lowercased() ?? "identity" {
            case "identity", "": break
            case "gzip", "deflate":
                guard let inflated = Gzip.decompress(body, maxOutput: Self.maxInflated) else {
                    return R.error(400, "the body is not valid gzip (or inflates past 256 MiB)", encoding)
                }
                body = inflated
            case let other:
                return R.error(415, "unsupported Content-Encoding \(other); send gzip or none", encoding)
            }
            switch signal {
            case .traces: return traces(body, encoding)
            case .logs: return logs(body, encoding)
            }
        }

        private func traces(_ body: [UInt8], _ encoding: OTLPResponses.Encoding) -> HTTPResponse {
            receive(.traces, encoding, what: "spans") {
                let decoded = encoding == .protobuf ? try OTLPTraceDecoder.decodeProtobuf(body) : try OTLPTraceDecoder.decode(body)
                return Decoded(count: decoded.spans.count, rejected: decoded.rejected, problem: decoded.firstProblem) {
                    try $0.insert(decoded.spans)
                }
            }
        }

        private func logs(_ body: [UInt8], _ encoding: OTLPResponses.Encoding) -> HTTPResponse {
            let now = WallClock.nowNanos()
            return receive(.logs, encoding, what: "log records") {
                let decoded = encoding == .protobuf ? try OTLPLogDecoder.decodeProtobuf(body, receivedNanos: now)
                    : try OTLPLogDecoder.decode(body, receivedNanos: now)
                return Decoded(count: decoded.rows.count, rejected: decoded.rejected, problem: decoded.firstProblem) {
                    try LogTable.insert(decoded.rows, into: $0.db)
                }
            }
        }

        /// A request's items, decoded: how many, those left out (with the first reason),
        /// and how to store them.
        private struct Decoded {
            var count: Int
            var rejected: Int
            var problem: String?
            var store: (TraceStore) throws -> Void
        }

        /// What both signals do with a body: decode it (a 400 when it is not the message),
        /// store what is good under the lock (a 503 when the database refuses), and answer
        /// with what was left out.
        private func receive(_ signal: OTLPResponses.Signal, _ encoding: OTLPResponses.Encoding, what: String,
                             _ decode: () throws -> Decoded) -> HTTPResponse {
            let decoded: Decoded
            do { decoded = try decode() } catch {
                return OTLPResponses.error(400, "\(error)", encoding)
            }
            do {
                try lock.withLock {
                    try decoded.store(store)
                    counts.requests += 1
                    switch signal {
                    case .traces: counts.spans += decoded.count
                    case .logs: counts.logs += decoded.count
                    }
                }
            } catch {
                log.error("cannot store \(what): \(error)")
                return OTLPResponses.error(503, "cannot store \(what): \(error)", encoding)
            }
            log.debug("stored \(decoded.count) \(what)", [signal == .traces ? "spans" : "logs": .int(Int64(decoded.count))])
            if decoded.rejected > 0 { log.warn("rejected \(decoded.rejected) \(what): \(decoded.problem ?? "")") }
            return OTLPResponses.success(signal, encoding, rejected: decoded.rejected, problem: decoded.problem ?? "bad \(what)")
        }
    }
}
