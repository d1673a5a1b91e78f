import ArcCore

/// wf-run's spans and metrics: the run is the trace (wf-run's own span), each attempt of
/// a step a `wf.step` span under it whose context the step gets as TRACEPARENT, so the
/// arc tools a step runs nest under it. Metrics say how the run and each step went.
extension WorkflowRunner {
    func declareMetrics() {
        let m = telemetry.metrics
        m.declare("wf_run_steps_total", .counter, help: "steps that finished, by outcome (succeeded, failed, skipped, cancelled)")
        m.declare("wf_run_step_attempts_total", .counter, help: "attempts started, retries included")
        m.declare("wf_run_step_duration_seconds", .gauge, help: "how long each step's last attempt took, by step")
        m.declare("wf_run_step_success", .gauge, help: "1 when the step succeeded in this run, 0 when not, by step")
        m.declare("wf_run_run_success", .gauge, help: "1 when the run succeeded, by workflow")
    }

    func endSpan(_ s: StepRuntime, status: Int32, message: String?) {
        telemetry.metrics.add("wf_run_step_attempts_total")
        guard let span = s.span else { return }
        span.set("exit_status", .int(Int64(status)))
        if s.timedOut { span.set("timed_out", .bool(true)) }
        span.end(status == 0 ? .ok : .error, message: message)
        s.span = nil
    }

    func observeStep(_ s: StepRuntime) {
        let m = telemetry.metrics
        m.add("wf_run_steps_total", 1, MetricsRegistry.Labels(["status": s.status.rawValue]))
        let step = MetricsRegistry.Labels(["workflow": workflow.name, "step": s.step.id])
        if s.attemptStart > 0 {
            m.set("wf_run_step_duration_seconds", Double(MonotonicClock.nanos() - s.attemptStart) / 1e9, step)
        }
        m.set("wf_run_step_success", s.status == .succeeded ? 1 : 0, step)
    }

    func observeRun(_ kind: RunEvent.Kind) {
        telemetry.root.set("workflow", .string(workflow.name))
        telemetry.root.set("run_id", .string(run.runID))
        telemetry.metrics.set("wf_run_run_success", kind == .runSucceeded ? 1 : 0,
                              MetricsRegistry.Labels(["workflow": workflow.name]))
    }
}
