import Glibc
import ArcCore

/// arc-queue: the work queues in the PostgreSQL state, seen and tended from the shell.
public enum QueueCommand {
    public static func main() -> Never {
        Tool.main(spec) { context in try run(context) }
    }

    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        guard p.path.count > 1 else { throw UsageError("a command: stats, metrics, retry, push or wait (arc-queue --help)") }
        guard PostgresConnection.isURL(tool.statePath) else {
            throw UsageError("the work queues live in a PostgreSQL state: ARC_STATE=postgres://USER:PASSWORD@HOST/DB (or --state)")
        }
        let name = p.positionals.first
        if let name { try WorkQueue.check(name: name) }
        switch p.path[1] {
        case "stats": return try stats(tool, queue: name)
        case "metrics": return try QueueMetrics.run(tool, queue: name)
        case "retry": return try retry(tool, queue: try required(name))
        case "push": return try push(tool, queue: try required(name))
        default: return try wait(tool, queue: try required(name))
        }
    }

    private static func required(_ name: String?) throws -> String {
        guard let name else { throw UsageError("missing the queue's NAME") }
        return name
    }

    static func openState(_ tool: ToolContext) throws -> PostgresState {
        guard let state = try StateStore.openShared(tool.statePath) as? PostgresState else {
            throw UsageError(WorkQueue.needsPostgres)
        }
        return state
    }

    static func stats(_ tool: ToolContext, queue: String?) throws -> ExitStatus {
        let state = try openState(tool)
        let out = BufferedOutput.stdout
        var b = RecordBuilder()
        if tool.parsed.flag("workers") {
            for w in try state.queueWorkers(queue) {
                b.begin()
                b.string("queue", w.queue)
                b.string("worker", w.worker)
                b.stringOrNull("host", w.host)
                b.intOrNull("pid", w.pid.map { Int64($0) })
                b.string("started_at", w.startedAt)
                b.string("seen_at", w.seenAt)
                b.stringOrNull("stopped_at", w.stoppedAt)
                b.bool("alive", w.alive)
                b.int("leased", w.leased)
                b.int("claimed", w.claimed)
                b.int("done", w.done)
                b.int("failed", w.failed)
                b.end()
                try out.write(b.bytes)
            }
        } else {
            for d in try state.queueDepths(queue) {
                encode(d, into: &b)
                try out.write(b.bytes)
            }
        }
        try out.flush()
        return .ok
    }

    static func encode(_ d: QueueDepth, into b: inout RecordBuilder) {
        b.begin()
        b.string("queue", d.queue)
        b.int("pending", d.pending)
        b.int("waiting", d.waiting)
        b.int("leased", d.leased)
        b.int("expired", d.expired)
        b.int("done", d.done)
        b.int("failed", d.failed)
        b.int("workers", d.workers)
        b.end()
    }

    static func retry(_ tool: ToolContext, queue: String) throws -> ExitStatus {
        let n = try WorkQueue(try openState(tool), name: queue).retryFailed()
        var b = RecordBuilder()
        b.begin()
        b.string("queue", queue)
        b.int("retried", n)
        b.end()
        try BufferedOutput.stdout.write(b.bytes)
        try BufferedOutput.stdout.flush()
        tool.log.info("\(n) failed tasks of queue \(queue) are pending again", ["queue": .string(queue), "retried": .int(Int64(n))])
        return .ok
    }

    static func push(_ tool: ToolContext, queue: String) throws -> ExitStatus {
        let p = tool.parsed
        let field = p.value("identity") ?? "dest"
        let writer = QueueWriter(try WorkQueue(try openState(tool), name: queue))
        let input = RecordInput(paths: Array(p.positionals.dropFirst()), strict: p.flag("strict"), log: tool.log)
        try input.checkSources()
        while let (record, line) = try input.next() {
            guard let identity = try input.decode(record, line: line, { try $0.requiredString(field) }) else { continue }
            try writer.add(identity: identity, task: String(decoding: record.bytes, as: UTF8.self))
        }
        try writer.flush()
        tool.log.info("pushed " + writer.summary, ["queue": .string(queue), "added": .int(Int64(writer.counts.added)),
                      "requeued": .int(Int64(writer.counts.requeued)), "kept": .int(Int64(writer.counts.kept)),
                      "bad_lines": .int(Int64(input.badLines))])
        return input.badLines > 0 ? .failures : .ok
    }

    static func wait(_ tool: ToolContext, queue: String) throws -> ExitStatus {
        let timeout = try tool.parsed.duration("timeout")
        let state = try openState(tool)
        let stop = StopSignal.shared
        stop.install()
        let started = MonotonicClock.nanos()
        // A count over the open tasks' index: cheap enough to ask often, so the drain is
        // seen within a quarter of a second.
        var pause = 0.05
        while true {
            let depth = try state.queueDepths(queue).first ?? QueueDepth(queue: queue)
            let drained = depth.pending == 0 && depth.leased == 0
            let late = timeout.map { Double(MonotonicClock.nanos() - started) / 1e9 >= $0 } ?? false
            if drained || late || stop.requested {
                var b = RecordBuilder()
                encode(depth, into: &b)
                try BufferedOutput.stdout.write(b.bytes)
                try BufferedOutput.stdout.flush()
                if stop.requested { return stop.exitStatus }
                if !drained {
                    tool.log.error("queue \(queue) still has \(depth.pending) pending and \(depth.leased) leased tasks after --timeout",
                                   ["queue": .string(queue)])
                    return .unavailable
                }
                return depth.failed > 0 ? .failures : .ok
            }
            usleep(UInt32(pause * 1e6))
            pause = min(pause * 1.5, 0.25)
        }
    }
}
