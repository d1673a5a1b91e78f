import Glibc
import ArcCore
import ArcHTTPServer


/// `arc-queue metrics`: the queues' depth in the Prometheus text format, written once or
/// served at /metrics (each scrape reads the database afresh, on one connection).
enum QueueMetrics {
    static func run(_ tool: ToolContext, queue: String?) throws -> ExitStatus {
        let state = try QueueCommand.openState(tool)
        guard let listen = tool.parsed.value("listen") else {
            try BufferedOutput.stdout.write(try text(state, queue: queue))
            try BufferedOutput.stdout.flush()
            return .ok
        }
        let (host, port) = try HTTPServer.address(listen, option: "listen", defaultHost: "0.0.0.0", example: "0.0.0.0:9108")
        let server = try HTTPServer(host: host, port: port)
        // One connection, used by one scrape at a time.
        let guarded = Locked(state)
        server.stopOnSignals()
        tool.log.info("serving queue metrics on http://\(server.address)/metrics",
                      ["address": .string(server.address), "port": .int(Int64(server.port))])
        let log = tool.log
        server.serve { request in
            guard request.path == "/metrics" || request.path.hasPrefix("/metrics?") else {
                return .error(404, "not found: the metrics are at /metrics")
            }
            guard request.method == "GET" || request.method == "HEAD" else { return .error(405, "GET /metrics") }
            do {
                let body = try guarded.withLock { try text($0, queue: queue) }
                return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(body.utf8))
            } catch {
                log.warn("cannot read the queues for a scrape: \(error)")
                return .error(503, "cannot read the queues: \(error)")
            }
        }
        return HTTPServer.stoppedStatus
    }

    /// The exposition text for every queue (or `queue`).
    static func text(_ state: PostgresState, queue: String?) throws -> String {
        let depths = try state.queueDepths(queue)
        let workers = try state.queueWorkers(queue).filter(\.alive)
        var out = "# HELP arc_queue_tasks Tasks in the work queue by state (waiting is part of pending, expired part of leased).\n"
        out += "# TYPE arc_queue_tasks gauge\n"
        for d in depths {
            for (name, value) in [("pending", d.pending), ("waiting", d.waiting), ("leased", d.leased),
                                  ("expired", d.expired), ("done", d.done), ("failed", d.failed)] {
                out += "arc_queue_tasks{queue=\"\(label(d.queue))\",state=\"\(name)\"} \(value)\n"
            }
        }
        out += "# HELP arc_queue_workers Workers heard from within their lease.\n# TYPE arc_queue_workers gauge\n"
        for d in depths { out += "arc_queue_workers{queue=\"\(label(d.queue))\"} \(d.workers)\n" }
        out += "# HELP arc_queue_worker_tasks Tasks per live worker: leased now, done and failed since it started.\n"
        out += "# TYPE arc_queue_worker_tasks gauge\n"
        for w in workers {
            for (name, value) in [("leased", w.leased), ("done", w.done), ("failed", w.failed)] {
                out += "arc_queue_worker_tasks{queue=\"\(label(w.queue))\",worker=\"\(label(w.worker))\",state=\"\(name)\"} \(value)\n"
            }
        }
        return out
    }

    /// A label value escaped as the text format asks (backslash, quote, newline).
    static func label(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
