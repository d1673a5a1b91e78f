import Glibc
import ArcCore

/// A step's process group as its step_started event recorded it: the group id (the pid of
/// the step's shell, its leader) and when that leader started. A group can outlive a wf-run
/// killed with SIGKILL; `run`, `resume` and `cancel` ask whether it still runs before
/// they refuse to start or send it signals.
///
/// A pid is reused once its process is gone, so a group id alone could name some other
/// program's group years later. Linux does not hand out a pid while a group still has it
/// as its id, so the group is ours when it exists and its leader is either gone (the rest
/// of the pipeline outlived the shell) or started when ours did.
struct StepProcessGroup: Sendable, Equatable {
    let id: pid_t
    /// The leader's start time (clock ticks after boot, /proc/PID/stat); nil for events
    /// written before it was recorded, which are taken on the group id alone.
    let leaderStart: Int64?

    init?(id: Int?, leaderStart: Int64?) {
        guard let id, id > 1, id <= Int(Int32.max) else { return nil }
        self.id = pid_t(id)
        self.leaderStart = leaderStart
    }

    /// Whether the step's processes are still there. kill(2) finds a group while any
    /// member is a zombie its new parent has not reaped yet, so the members are looked up.
    var isRunning: Bool {
        guard kill(-id, 0) == 0 else { return false }
        if let leaderStart, let leader = Self.stat(of: id), leader.start != leaderStart { return false }
        return Self.hasLiveMember(id)
    }

    /// SIGTERM, then SIGKILL for what is left after `grace` seconds.
    func stop(grace: Double) {
        guard isRunning else { return }
        kill(-id, SIGTERM)
        let giveUp = MonotonicClock.nanos() + UInt64(grace * 1e9)
        while Self.hasLiveMember(id) && MonotonicClock.nanos() < giveUp { usleep(20_000) }
        kill(-id, SIGKILL)
    }

    /// A process's start time in clock ticks after boot, or nil when there is no such
    /// process. A zombie still has one, so reading it just after spawning is safe even if
    /// the child has already exited.
    static func startTime(of pid: pid_t) -> Int64? { stat(of: pid)?.start }

    /// Whether a process not yet exited is in group `id` (true when /proc cannot be read).
    static func hasLiveMember(_ id: pid_t) -> Bool {
        guard let names = try? FileSystem.directoryEntries("/proc") else { return true }
        for name in names {
            guard let pid = pid_t(name), let s = stat(of: pid) else { continue }
            if s.group == id && s.state != "Z" && s.state != "X" { return true }
        }
        return false
    }

    /// Fields 3 (state), 5 (process group) and 22 (start time) of /proc/PID/stat.
    static func stat(of pid: pid_t) -> (state: String, group: pid_t, start: Int64)? {
        guard let bytes = try? FileSystem.read("/proc/\(pid)/stat") else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces and ')': the
        // fields after it start after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        // fields[0] is field 3, so field N is fields[N - 3].
        guard fields.count > 19, let group = pid_t(fields[2]), let start = Int64(fields[19]) else { return nil }
        return (fields[0], group, start)
    }
}
