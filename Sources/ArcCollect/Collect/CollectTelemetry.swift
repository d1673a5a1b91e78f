import ArcCore

/// arc-collect's spans and metrics: a span per task under the run's span (url, dest,
/// bytes, attempts, status, error code), and Prometheus counters a cron job's dashboard
/// reads (`arc_collect_tasks_total{status}`, `arc_collect_bytes_total`, ...).
extension Collector {
    static let taskSpanName = "collect.task"

    func declareMetrics() {
        let m = telemetry.metrics
        m.declare("arc_collect_tasks_total", .counter, help: "tasks finished, by status (ok, skipped, failed)")
        m.declare("arc_collect_bytes_total", .counter, help: "archive bytes stored and verified")
        m.declare("arc_collect_failures_total", .counter, help: "failed tasks, by error code")
        m.declare("arc_collect_task_duration_seconds", .histogram, help: "time from a task's start to its result, by status")
        m.declare("arc_collect_retries_total", .counter, help: "requests retried after a transient failure")
        m.declare("arc_collect_bad_lines_total", .counter, help: "input lines that were not valid task records")
    }

    /// `span_id` for a log line about `job`, when tracing (nothing otherwise).
    func spanField(_ job: CollectJob) -> [(String, LogValue)] {
        guard telemetry.isTracing else { return [] }
        if job.spanID == nil { job.spanID = TraceIDs.spanID() }
        return [("span_id", .string(job.spanID!))]
    }

    /// On the writer thread, once a job's result is out: its span and its metrics.
    func observe(_ job: CollectJob) {
        guard let outcome = job.outcome else { return }
        let m = telemetry.metrics
        let status = MetricsRegistry.Labels(["status": outcome.status.rawValue])
        m.add("arc_collect_tasks_total", 1, status)
        if outcome.status == .ok { m.add("arc_collect_bytes_total", Double(outcome.bytes)) }
        if let e = outcome.error { m.add("arc_collect_failures_total", 1, MetricsRegistry.Labels(["code": e.code.rawValue])) }
        m.observe("arc_collect_task_duration_seconds", Double(outcome.durationMillis) / 1000, status)

        guard telemetry.isTracing else { return }
        let root = telemetry.root.context
        if job.spanID == nil { job.spanID = TraceIDs.spanID() }
        var attributes: [(String, LogValue)] = [
            ("url", .string(job.task.url)), ("dest", .string(job.task.dest)), ("bytes", .int(outcome.bytes)),
            ("attempts", .int(Int64(outcome.attempts))), ("status", .string(outcome.status.rawValue)),
        ]
        if let reason = job.task.reason { attributes.append(("reason", .string(reason))) }
        if outcome.verified { attributes.append(("verified", .bool(true))) }
        if let e = outcome.error { attributes.append(("error.code", .string(e.code.rawValue))) }
        telemetry.tracer.record(Self.taskSpanName, context: TraceContext(traceID: root.traceID, spanID: job.spanID!, flags: root.flags),
                                parentSpanID: root.spanID, startNanos: job.startedWall,
                                endNanos: job.startedWall + Int64(job.finished - job.started),
                                status: outcome.status == .failed ? .error : .ok, message: outcome.error?.message,
                                attributes: attributes)
    }
}
