import Glibc
import ArcCore

/// Starting an attempt of a step, and settling it when its shell exits.
extension WorkflowRunner {
    /// `sh -c RUN` in a process group of its own, stdin from /dev/null, stdout and stderr
    /// to `logs/STEP.ATTEMPT.out` and `.err` in the run directory.
    func startAttempt(_ s: StepRuntime) throws {
        s.attempt += 1
        s.retryAt = nil
        s.timedOut = false
        s.killAt = nil
        let id = s.step.id
        try FileSystem.makeDirectories(s.directory, mode: 0o700)
        try FileSystem.makeDirectories(run.runDir + "/logs", mode: 0o700)
        if telemetry.isTracing {
            s.span = telemetry.tracer.startSpan("wf.step", parent: telemetry.root.context,
                                                [("step", .string(id)), ("attempt", .int(Int64(s.attempt)))])
        }
        let env = environment(for: s, attempt: s.attempt)
        var options = Subprocess.Options()
        options.newProcessGroup = true
        options.stdinPath = "/dev/null"
        options.stdoutPath = logPath(id, s.attempt, "out")
        options.stderrPath = logPath(id, s.attempt, "err")
        options.environment = env.strings
        let workdir = s.step.workdir.map { env.expand($0) }.map { $0.hasPrefix("/") ? $0 : workflow.directory + "/" + $0 }
        options.workdir = workdir ?? workflow.directory
        s.attemptStart = MonotonicClock.nanos()
        s.attemptStartWall = WallClock.now()
        let child: Subprocess
        do {
            child = try Subprocess(executable: "/bin/sh", arguments: ["sh", "-c", s.step.run], options: options)
        } catch let error as SystemError {
            // Nothing ran (a workdir that is not there): an attempt that failed at once.
            s.status = .running
            try attemptEnded(s, attempt: s.attempt, ended: .exited(127), spawnError: "cannot start: \(error)")
            return
        }
        s.status = .running
        s.processGroup = child.pid
        activeSteps[id] = s
        groups.add(child.pid)
        if let timeout = s.step.timeout { s.deadline = s.attemptStart + UInt64(timeout * 1e9) }
        var e = RunEvent(runID: run.runID, kind: .stepStarted, time: s.attemptStartWall, step: id)
        e.attempt = s.attempt
        e.pid = Int(child.pid)
        e.pidStart = StepProcessGroup.startTime(of: child.pid)
        try record(e)
        let attempt = s.attempt, pid = child.pid
        s.waiter = WorkerThread(name: "wait \(id)") { [messages] in
            messages.put(.exited(step: id, attempt: attempt, ended: Subprocess.waitForTermination(pid)))
        }
    }

    func logPath(_ id: String, _ attempt: Int, _ stream: String) -> String {
        run.runDir + "/logs/\(id).\(attempt).\(stream)"
    }

    /// Settles an attempt: success, a retry after backoff, or the step's failure.
    func attemptEnded(_ s: StepRuntime, attempt: Int, ended: Subprocess.Termination, spawnError: String? = nil) throws {
        let status = ended.status
        s.waiter?.join()
        s.waiter = nil
        activeSteps[s.step.id] = nil
        if s.processGroup > 0 {
            groups.remove(s.processGroup)
            // Whatever the shell left behind in its group goes with it after a timeout or a stop.
            if s.timedOut || stopSignal != 0 { kill(-s.processGroup, SIGKILL) }
        }
        s.processGroup = 0
        s.deadline = nil
        s.killAt = nil
        s.exitStatus = status
        let millis = Int64((MonotonicClock.nanos() - s.attemptStart) / 1_000_000)
        var e = RunEvent(runID: run.runID, kind: .stepSucceeded, step: s.step.id)
        e.attempt = attempt
        e.exitStatus = Int(status)
        e.durationMillis = millis
        // Masked as cacheHit masks it, so a key holding an env_file value still matches.
        e.cacheKey = s.step.cacheKey.map { envFiles.mask(environment(for: s, attempt: attempt).expand($0)) }
        let (reason, unmasked) = failure(s, ended: ended, spawnError: spawnError)
        let message = envFiles.mask(unmasked)

        if status == 0 && spawnError == nil {
            s.status = .succeeded
        } else if stopSignal != 0 {
            s.status = .cancelled
            e.kind = .stepCancelled
            e.reason = "signal"
            e.message = message
        } else if attempt <= s.step.retries {
            let delay = StepRuntime.backoff(s.step, retry: attempt)
            s.status = .retrying
            s.retryAt = MonotonicClock.nanos() + UInt64(delay * 1e9)
            phase.retrying.append(s.step.id)
            e.kind = .stepRetrying
            e.reason = reason
            e.message = message + "; retry \(attempt) of \(s.step.retries) in \(DurationText.format(Int64(delay * 1e9)))"
        } else {
            s.status = .failed
            e.kind = .stepFailed
            e.reason = reason
            e.message = message
        }
        if e.kind != .stepSucceeded { e.cacheKey = nil }
        try record(e)
        endSpan(s, status: status, message: e.kind == .stepSucceeded ? nil : message)
        if s.isTerminal {
            phase.settled(s.step.id)
            observeStep(s)
        }
    }

    /// Why an attempt failed: a code and a line for a person, with the last line the step
    /// wrote to stderr, which is usually the reason.
    func failure(_ s: StepRuntime, ended: Subprocess.Termination, spawnError: String?) -> (String, String) {
        if let spawnError { return ("spawn_failed", spawnError) }
        var text: String
        let reason: String
        if s.timedOut {
            reason = "timeout"
            text = "timed out after \(DurationText.format(Int64((s.step.timeout ?? 0) * 1e9)))"
        } else {
            // From how the shell ended, not from its status: `exit 129` is no signal.
            if case .signaled = ended { reason = "signal" } else { reason = "exit_status" }
            text = ended.description
        }
        if ended != .exited(0), let last = lastLine(logPath(s.step.id, s.attempt, "err")) { text += ": " + last }
        return (reason, text)
    }

    /// The last non-empty line of a file, cut to 200 characters (read from its last 4 KiB).
    func lastLine(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        let length = Int(min(size, 4096))
        guard length > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: length)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, size - off_t(length)) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[..<n], as: UTF8.self)
        guard let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last(where: { !$0.allSatisfy { $0 == " " } }) else { return nil }
        return line.count > 200 ? String(line.prefix(199)) + "…" : String(line)
    }

    /// The step's environment for `attempt` (see StepEnvironment for the layers).
    func environment(for s: StepRuntime, attempt: Int) -> StepEnvironment {
        var env = StepEnvironment(base: baseEnvironment)
        for (k, v) in run.parameters { env.set(k, v) }
        // Values from env files are taken as written; [env] and env can use them.
        for (k, v) in envFiles.workflow { env.set(k, v) }
        for (k, v) in workflow.environment { env.add(k, expanding: v) }
        for (k, v) in envFiles.steps[s.step.id] ?? [] { env.set(k, v) }
        for (k, v) in s.step.environment { env.add(k, expanding: v) }
        env.set("WF_WORKFLOW", workflow.name)
        env.set("WF_RUN_ID", run.runID)
        env.set("WF_RUN_DIR", run.runDir)
        env.set("WF_STEP_ID", s.step.id)
        env.set("WF_STEP_DIR", s.directory)
        env.set("WF_ATTEMPT", String(attempt))
        if let scheduled = run.scheduledAt { env.set("WF_SCHEDULED_TIME", scheduled) }
        // A step sees its needs' directories; a handler sees every step's.
        for id in s.step.isHandler ? workflow.steps.map(\.id) : s.step.needs {
            env.set(StepEnvironment.directoryVariable(id), steps[id]!.directory)
        }
        if let (status, failed) = handlerContext, s.step.isHandler {
            env.set("WF_RUN_STATUS", status)
            env.set("WF_FAILED_STEPS", failed.joined(separator: " "))
        }
        if let span = s.span { env.set("TRACEPARENT", span.context.traceparent) }
        return env
    }

    /// On resume: a step that was running when wf-run was killed may still be (its
    /// process group outlived us). It is stopped before the step runs again.
    func killLeftovers(_ previous: RunState) {
        for (id, group) in previous.leftoverGroups() {
            log.warn("step \(id) from the interrupted run is still running (process group \(group.id)); stopping it",
                     ["step": .string(id), "pgid": .int(Int64(group.id))])
            group.stop(grace: grace)
        }
    }
}
