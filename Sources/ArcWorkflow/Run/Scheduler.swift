import Glibc
import ArcCore
import ArcSchedule

/// The scheduler's loop: sleeps until the next firing, starts a `wf-run run` child for
/// it, rereads changed workflow files, and on a stop signal hands the signal to the
/// running children and waits for them.
final class Scheduler {
    typealias ScheduledWorkflow = ScheduleCommand.ScheduledWorkflow
    let tool: ToolContext
    let store: RunStore
    let messages: BlockingQueue<ScheduleCommand.Message>
    var entries: [String: ScheduledWorkflow] = [:]
    var stopSignal: Int32 = 0
    /// How often the files are checked for changes.
    let rescanSeconds: Int64 = 10
    let executable: String

    init(tool: ToolContext, store: RunStore, messages: BlockingQueue<ScheduleCommand.Message>) {
        self.tool = tool
        self.store = store
        self.messages = messages
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        executable = n > 0 ? String(nulTerminated: buffer) : CommandLine.arguments[0]
    }

    /// The workflow files under `paths` (files, or directories of `*.toml`). A file that
    /// does not load is reported and, if it loaded before, keeps its last good version.
    func load(_ paths: [String], first: Bool) throws {
        var files: [String] = []
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else {
                if first { throw UsageError("\(path): \(String(cString: strerror(errno)))") }
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let names = (try? FileSystem.directoryEntries(path)) ?? []
                files += names.filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }.sorted()
                    .map { FileSystem.absolute(path + "/" + $0) }
            } else { files.append(FileSystem.absolute(path)) }
        }
        for file in files {
            var st = stat()
            guard stat(file, &st) == 0 else { continue }
            let modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
            if let known = entries[file], known.modified == modified { continue }
            do {
                let w = try WorkflowLoader.load(path: file)
                guard w.schedule != nil else {
                    if first { tool.log.info("\(file): workflow \(w.name) has no schedule; not scheduled") }
                    entries[file] = nil
                    continue
                }
                if let known = entries[file] {
                    known.workflow = w
                    known.modified = modified
                    known.scheduleNext(after: Int64(WallClock.nowMillis() / 1000))
                    tool.log.info("\(file): reloaded", ["workflow": .string(w.name)])
                } else {
                    entries[file] = ScheduledWorkflow(file: file, workflow: w, modified: modified)
                    if !first {
                        entries[file]!.scheduleNext(after: Int64(WallClock.nowMillis() / 1000))
                    }
                }
                let e = entries[file]!
                tool.log.info("scheduled \(w.name): '\(w.schedule!.expression)'" + (e.next.map { ", next \(rfc3339($0, in: w.timeZone))" } ?? ""),
                              ["workflow": .string(w.name), "file": .string(file)])
            } catch let error as WorkflowError {
                for line in error.lines { tool.log.error(line, ["code": .string(error.code.rawValue)]) }
                if let known = entries[file] { known.modified = modified }
            }
        }
    }

    /// Firings missed since the last scheduled run recorded, within `window` seconds.
    func planCatchUp(_ entry: ScheduledWorkflow, now: Int64, window: Int64) throws {
        let w = entry.workflow
        guard let schedule = w.schedule, let last = try store.lastScheduled(workflow: w.name),
              let lastMillis = WallClock.parseRFC3339(last) else { return }
        entry.catchUp = schedule.firings(after: max(lastMillis / 1000, now - window), until: now, in: w.timeZone, maxCount: 1000)
        if !entry.catchUp.isEmpty {
            tool.log.info("\(w.name): \(entry.catchUp.count) missed firing\(entry.catchUp.count == 1 ? "" : "s") to catch up",
                          ["workflow": .string(w.name)])
        }
    }

    func loop(paths: [String]) throws -> ExitStatus {
        var lastScan = Int64(WallClock.nowMillis() / 1000)
        while true {
            let now = Int64(WallClock.nowMillis() / 1000)
            if stopSignal == 0 {
                if now - lastScan >= rescanSeconds {
                    try load(paths, first: false)
                    lastScan = now
                }
                for entry in entries.values.sorted(by: { $0.file < $1.file }) { try fire(entry, now: now) }
            } else if entries.values.allSatisfy({ $0.running == 0 }) {
                return stopSignal == SIGTERM ? .terminated : .interrupted
            }
            let soonest = entries.values.compactMap { $0.running == 0 && !$0.catchUp.isEmpty ? now : $0.next }.min()
            let millis = WallClock.nowMillis()
            let wait = soonest.map { Double(max($0 * 1000 - millis, 0)) / 1000 } ?? 1
            guard let message = messages.take(waitingAtMost: wait) else { continue }
            switch message {
            case .exited(let file, let status):
                guard let entry = entries[file] else { continue }
                entry.waiter?.join()
                entry.running = 0
                if status == ExitStatus.busy.rawValue {
                    tool.log.warn("\(entry.workflow.name): a run was already going; that firing was skipped", ["workflow": .string(entry.workflow.name)])
                } else if status != 0 {
                    tool.log.warn("\(entry.workflow.name): run exited with status \(status)", ["workflow": .string(entry.workflow.name), "exit_status": .int(Int64(status))])
                }
            case .stop(let sig):
                stopSignal = sig
                tool.log.info("stopping: waiting for \(entries.values.filter { $0.running != 0 }.count) running workflow(s)")
                for entry in entries.values where entry.running > 0 { kill(entry.running, sig) }
            }
        }
    }

    /// Starts the entry's due firing, if any: a catch-up first, else the scheduled one.
    /// A firing due while the previous run of the workflow still runs is skipped (logged).
    func fire(_ entry: ScheduledWorkflow, now: Int64) throws {
        if entry.running == 0, let missed = entry.catchUp.first {
            entry.catchUp.removeFirst()
            try start(entry, at: missed, catchUp: true)
            return
        }
        guard let due = entry.next, due <= now else { return }
        entry.scheduleNext(after: max(due, now))
        if entry.running != 0 || !entry.catchUp.isEmpty {
            tool.log.warn("\(entry.workflow.name): firing at \(rfc3339(due, in: .utc)) skipped: the previous run is still going",
                          ["workflow": .string(entry.workflow.name)])
            return
        }
        try start(entry, at: due, catchUp: false)
    }

    func start(_ entry: ScheduledWorkflow, at time: Int64, catchUp: Bool) throws {
        var arguments = [executable, "run", entry.file, "--scheduled-time", WallClock.rfc3339(millis: time * 1000)]
        if let state = tool.parsed.value("state") { arguments += ["--state", state] }
        if let runs = tool.parsed.value("runs-dir") { arguments += ["--runs-dir", runs] }
        if tool.parsed.flag("json") { arguments.append("--json") }
        var options = Subprocess.Options()
        options.newProcessGroup = true
        let child = try Subprocess(executable: executable, arguments: arguments, options: options)
        entry.running = child.pid
        tool.log.info("\(entry.workflow.name): started the run for \(rfc3339(time, in: entry.workflow.timeZone))\(catchUp ? " (catch-up)" : "")",
                      ["workflow": .string(entry.workflow.name), "pid": .int(Int64(child.pid))])
        let file = entry.file, pid = child.pid
        entry.waiter = WorkerThread(name: "wait \(entry.workflow.name)") { [messages] in
            messages.put(.exited(file: file, status: Subprocess.wait(pid)))
        }
    }
}
