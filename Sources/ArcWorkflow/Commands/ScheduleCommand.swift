import Glibc
import ArcCore
import ArcSchedule

/// `wf-run schedule FILE|DIR...`: a long-running scheduler. Each due firing starts
/// `wf-run run FILE --scheduled-time T` as a child in its own process group (one wf-run
/// per run: a failing run cannot take the scheduler down, and the workflow lock keeps
/// firings from overlapping). SIGTERM or SIGINT stops it cleanly: no new runs, the
/// running ones get the signal (and record themselves cancelled), then it exits.
///
/// `wf-run next FILE`: the next firing times.
enum ScheduleCommand {
    enum Message {
        case exited(file: String, status: Int32)
        case stop(Int32)
    }

    /// A scheduled workflow: its file, its definition, when it fires next.
    final class ScheduledWorkflow {
        let file: String
        var workflow: Workflow
        var modified: Int64
        var next: Int64?
        var running: pid_t = 0
        var waiter: WorkerThread?
        /// Missed firings still to run, oldest first (`--catch-up`).
        var catchUp: [Int64] = []

        init(file: String, workflow: Workflow, modified: Int64) {
            self.file = file
            self.workflow = workflow
            self.modified = modified
        }

        /// Sets `next` to the first firing after `time` (Unix seconds).
        func scheduleNext(after time: Int64) {
            next = workflow.schedule?.next(after: time, in: workflow.timeZone)
        }
    }

    static func schedule(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let store = try RunStore.open(tool.statePath)
        StopSignal.shared.install()
        let messages = BlockingQueue<Message>()
        StopSignal.shared.onStop { sig in messages.put(.stop(sig)) }
        let catchUpWindow = try p.duration("catch-up")
        let scheduler = Scheduler(tool: tool, store: store, messages: messages)
        try scheduler.load(p.positionals, first: true)
        guard !scheduler.entries.isEmpty else { throw UsageError("no scheduled workflows in \(p.positionals.joined(separator: " ")) (none has a schedule)") }
        let now = Int64(WallClock.nowMillis() / 1000)
        for entry in scheduler.entries.values {
            entry.scheduleNext(after: now)
            if let window = catchUpWindow { try scheduler.planCatchUp(entry, now: now, window: Int64(window)) }
        }
        return try scheduler.loop(paths: p.positionals)
    }

    static func next(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let w = try WorkflowCommand.load(p.positionals[0], tool)
        guard let schedule = w.schedule else { throw UsageError("\(p.positionals[0]): workflow \(w.name) has no schedule") }
        var after = Int64(WallClock.nowMillis() / 1000)
        if let text = p.value("after") {
            guard let millis = WallClock.parseRFC3339(text) else { throw UsageError("--after: expected an RFC 3339 time, got '\(text)'") }
            after = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        }
        let count = try p.int("count", range: 1...10_000) ?? 5
        var out = ""
        for _ in 0..<count {
            guard let t = schedule.next(after: after, in: w.timeZone) else { break }
            out += rfc3339(t, in: w.timeZone) + "\n"
            after = t
        }
        // Loading refused schedules that can never fire; this is one past the calendar's end.
        if out.isEmpty { throw UsageError("\(p.positionals[0]): '\(schedule.expression)' does not fire after \(rfc3339(after, in: w.timeZone))") }
        try BufferedOutput.stdout.write(out)
        return .ok
    }
}
