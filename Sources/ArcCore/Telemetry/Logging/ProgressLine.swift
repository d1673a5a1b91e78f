import Glibc

/// A progress line redrawn on stderr while long work runs, on terminals only (pipes and
/// log files get the summary record instead). Log lines print above it.
public final class ProgressLine: @unchecked Sendable { // `running` is guarded by `lock`; `thread` is the owner's
    private let terminal: Terminal
    private let render: @Sendable () -> String
    private let lock = Lock()
    private var running = true
    private var thread: WorkerThread?

    /// Starts redrawing every `interval` seconds; does nothing unless stderr is a terminal.
    public init(terminal: Terminal = .stderr, enabled: Bool, interval: Double = 0.25, render: @escaping @Sendable () -> String) {
        self.terminal = terminal
        self.render = render
        guard enabled && terminal.isTTY else {
            running = false
            return
        }
        thread = WorkerThread(name: "progress") { [self] in
            while lock.withLock({ running }) {
                terminal.setStatus(render())
                usleep(UInt32(interval * 1_000_000))
            }
        }
    }

    /// Stops and removes the line.
    public func stop() {
        lock.withLock { running = false }
        thread?.join()
        thread = nil
        terminal.clearStatus()
    }
}

/// Human-readable sizes, rates and durations for progress and summaries.
public enum HumanFormat {
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(n) B" }
        return fixed(value, value < 10 ? 2 : value < 100 ? 1 : 0) + " " + units[unit]
    }

    public static func rate(_ bytesPerSecond: Double) -> String { bytes(Int64(bytesPerSecond)) + "/s" }

    public static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return fixed(seconds, 1) + "s" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(zeroPadded(s % 60, 2))s" }
        return "\(s / 3600)h\(zeroPadded(s / 60 % 60, 2))m"
    }

    public static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        var s = String(r)
        if digits == 0, s.hasSuffix(".0") { s.removeLast(2) }
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        }
        return s
    }
}
