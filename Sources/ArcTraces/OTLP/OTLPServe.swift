import Glibc
import ArcCore
import ArcHTTPServer


/// `telem-trace serve --otlp HOST:PORT`: an OTLP/HTTP JSON receiver that stores what
/// OpenTelemetry SDKs send to /v1/traces, so ls, show and stats see other programs' traces.
enum OTLPServe {
    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let (host, port) = try HTTPServer.address(tool.parsed.value("otlp") ?? "127.0.0.1:4318", option: "otlp",
                                                  defaultHost: "127.0.0.1", example: "127.0.0.1:4318")
        let token = try authentication(tool, host: host)
        let store = try TraceStore.open(tool.statePath)
        let server = try HTTPServer(host: host, port: port)
        server.token = token
        let receiver = Receiver(store: store, log: tool.log)
        server.stopOnSignals()
        tool.log.info("listening on http://\(server.address)/v1/traces" + (token == nil ? "" : " (bearer token required)"),
                      ["address": .string(server.address), "port": .int(Int64(server.port)),
                       "auth": .string(token == nil ? "none" : "bearer")])
        server.serve { request in receiver.handle(request) }
        let totals = receiver.totals
        tool.log.info("stopped: stored \(totals.spans) spans from \(totals.requests) requests",
                      ["spans": .int(Int64(totals.spans)), "requests": .int(Int64(totals.requests))])
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
        private var counts = (requests: 0, spans: 0)
        var totals: (requests: Int, spans: Int) { lock.withLock { counts } }
        static let maxInflated = 256 << 20

        init(store: TraceStore, log: Logger) {
            self.store = store
            self.log = log
        }

        func handle(_ request: HTTPRequest) -> HTTPResponse {
            guard request.path == "/v1/traces" else {
                return .error(404, "no such path \(request.path); OTLP traces go to POST /v1/traces")
            }
            guard request.method == "POST" else { return .error(405, "use POST for /v1/traces") }
            switch request.mediaType {
            case "application/json": break
            case "application/x-protobuf", "application/protobuf":
                return .error(415, "protobuf bodies are not supported; configure the exporter for JSON "
                              + "(OTEL_EXPORTER_OTLP_PROTOCOL=http/json, Content-Type: application/json)")
            default:
                return .error(415, "unsupported Content-Type \(request.header("content-type") ?? "(none)"); send application/json")
            }
            var body = request.body
            switch request.header("content-encoding")?.lowercased() ?? "identity" {
            case "identity", "": break
            case "gzip", "deflate":
                guard let inflated = Gzip.decompress(body, maxOutput: Self.maxInflated) else {
                    return .error(400, "the body is not valid gzip (or inflates past 256 MiB)")
                }
                body = inflated
            case let other:
                return .error(415, "unsupported Content-Encoding \(other); send gzip or none")
            }
            let decoded: OTLPTraceDecoder.Result
            do { decoded = try OTLPTraceDecoder.decode(body) } catch {
                return .error(400, "\(error)")
            }
            do {
                try lock.withLock {
                    try store.insert(decoded.spans)
                    counts.requests += 1
                    counts.spans += decoded.spans.count
                }
            } catch {
                log.error("cannot store spans: \(error)")
                return .error(503, "cannot store spans: \(error)")
            }
            log.debug("stored \(decoded.spans.count) spans", ["spans": .int(Int64(decoded.spans.count))])
            guard decoded.rejected > 0 else { return HTTPResponse(status: 200, body: Array("{}".utf8)) }
            log.warn("rejected \(decoded.rejected) spans: \(decoded.firstProblem ?? "")")
            var b = RecordBuilder(capacity: 128)
            b.begin()
            b.object("partialSuccess") { o in
                o.string("rejectedSpans", String(decoded.rejected))
                o.string("errorMessage", decoded.firstProblem ?? "bad spans")
            }
            b.end()
            return HTTPResponse(status: 200, body: Array(b.bytes.dropLast()))
        }
    }
}
